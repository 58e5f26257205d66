"""LiveKit's grants, typed once (service.media.livekit.grants): the fields mirror
livekit-api's own grant classes, and what a token carries reads back through livekit-api
as the grant that was built."""

from __future__ import annotations

import dataclasses

import jwt
from livekit.api import AccessToken, SIPGrants, TokenVerifier, VideoGrants

from service.domain.admission import ROLE_CAPABILITIES
from service.domain.models import Role
from service.media.livekit.grants import SIPGrant, VideoGrant, join_grant, sip_grant
from service.security.tokens import sign_hs256

KEY, SECRET = "APIgrants", "grants-secret-" + "g" * 24


def _names(kind: type) -> set[str]:
    return {field.name for field in dataclasses.fields(kind)}


def test_the_typed_grants_mirror_livekit_api() -> None:
    assert _names(VideoGrant) <= _names(VideoGrants)
    assert _names(SIPGrant) <= _names(SIPGrants)


def test_a_join_grant_reads_back_through_livekit_api_for_every_role() -> None:
    for role in Role:
        capabilities = ROLE_CAPABILITIES[role]
        video, sip = join_grant("room-1", capabilities), sip_grant(capabilities)
        claims = {"iss": KEY, "sub": "u1", "nbf": 0, "exp": 2**31 - 1}
        token = sign_hs256({**claims, "video": video.claim(), "sip": sip.claim()}, SECRET)
        read = TokenVerifier(KEY, SECRET).verify(token)
        assert read.video == VideoGrants(
            **{name: getattr(video, name) for name in _names(VideoGrant)}
            | {"can_publish_sources": list(video.can_publish_sources or ())}
        )
        assert read.sip == SIPGrants(call=sip.call, admin=sip.admin)


def test_the_claim_uses_livekit_apis_own_names_and_values() -> None:
    grant = join_grant("room-1", ROLE_CAPABILITIES[Role.PRESENTER])
    theirs = VideoGrants(
        **{name: getattr(grant, name) for name in _names(VideoGrant)}
        | {"can_publish_sources": list(grant.can_publish_sources or ())}
    )
    token = AccessToken(KEY, SECRET).with_identity("u1").with_grants(theirs).to_jwt()
    written = jwt.decode(token, SECRET, algorithms=["HS256"])["video"]
    ours = grant.claim()
    assert ours == {name: written[name] for name in ours}


def test_an_admin_grant_carries_only_what_it_sets() -> None:
    assert VideoGrant(room_admin=True, room="r").claim() == {"room": "r", "roomAdmin": True}
    assert VideoGrant(room_create=True).claim() == {"roomCreate": True}
