"""Join credentials end to end for LiveKit, checked by livekit-api's TokenVerifier:
the grants of each role, never beyond the window, early entry, refusals without a
credential, unconfigured formats, and each tenant's own configuration only."""

from __future__ import annotations

from datetime import datetime, timedelta

import grpc
import jwt
import pytest
from livekit.api import SIPGrants, TokenVerifier, VideoGrants
from rooms.v1 import (
    admission_pb2,
    credentials_pb2,
)
from rooms.v1 import participant_pb2 as pp

from tests.credentials.tenants import (
    ACME_LIVEKIT_SECRET,
    BETA_LIVEKIT_SECRET,
    EXPECTED_LIVEKIT,
    JITSI,
    LIVEKIT,
    ROOMS,
    Reason,
    Setup,
    authorize,
    introspect,
    make_room,
)
from tests.shared.calls import timestamp
from tests.shared.errors import expect_error


@pytest.mark.parametrize("dial_out", [False, True])
@pytest.mark.parametrize("role", list(EXPECTED_LIVEKIT))
async def test_livekit_tokens_carry_exactly_the_grants_of_each_role(
    setup: Setup, wall_clock: datetime, role: int, dial_out: bool
) -> None:
    room_id, room = await make_room(setup.acme, {"u1": role}, pstn_dial_out_enabled=dial_out)
    answer = await authorize(setup.acme, room_id, "u1", LIVEKIT, name="Dr. Who")
    assert answer.allowed
    credential = answer.credential
    assert credential.format == LIVEKIT
    assert credential.server_url == "wss://livekit.acme.example"

    claims = TokenVerifier("APIacme", ACME_LIVEKIT_SECRET).verify(credential.token)
    sources, subscribe, data, admin = EXPECTED_LIVEKIT[role]
    assert claims.video == VideoGrants(
        room=room_id,
        room_join=True,
        can_publish=bool(sources),
        can_publish_sources=sources,
        can_subscribe=subscribe,
        can_publish_data=data,
        can_update_own_metadata=False,
        room_admin=admin,
    )
    assert claims.sip == SIPGrants(call=dial_out and role == pp.ROLE_PRESENTER, admin=False)
    assert claims.identity == "u1"
    assert claims.name == "Dr. Who"
    assert claims.attributes == {"rooms.role": pp.Role.Name(pp.Role.ValueType(role))}

    raw = jwt.decode(credential.token, options={"verify_signature": False})
    assert raw["iss"] == "APIacme"
    assert raw["nbf"] == int(wall_clock.timestamp())
    assert raw["exp"] == int((wall_clock + timedelta(seconds=600)).timestamp())
    assert raw["exp"] <= room.valid_until.seconds
    assert credential.expire_time.seconds == raw["exp"]


async def test_a_credential_never_outlives_the_window(setup: Setup, wall_clock: datetime) -> None:
    until = wall_clock + timedelta(seconds=90)
    room_id, _ = await make_room(setup.acme, {"u1": pp.ROLE_ATTENDEE}, valid_until=timestamp(until))
    for fmt in (LIVEKIT, JITSI, ROOMS):
        answer = await authorize(setup.acme, room_id, "u1", fmt)
        raw = jwt.decode(answer.credential.token, options={"verify_signature": False})
        assert raw["exp"] == int(until.timestamp())
        assert answer.credential.expire_time == timestamp(until)


async def test_early_entry_yields_a_credential_early_for_those_it_admits(
    setup: Setup, wall_clock: datetime
) -> None:
    opens = wall_clock + timedelta(minutes=30)
    room_id, _ = await make_room(
        setup.acme,
        {"host": pp.ROLE_PRESENTER, "guest": pp.ROLE_ATTENDEE},
        valid_from=timestamp(opens),
        early_entry_duration={"seconds": 3600},
    )
    host = await authorize(setup.acme, room_id, "host", LIVEKIT)
    assert host.allowed and host.credential.token
    raw = jwt.decode(host.credential.token, options={"verify_signature": False})
    assert raw["nbf"] == int(wall_clock.timestamp())  # never in the future
    guest = await authorize(setup.acme, room_id, "guest", LIVEKIT)
    assert guest.reason == admission_pb2.JOIN_DECISION_REASON_NOT_YET_OPEN
    assert not guest.HasField("credential")


async def test_a_refusal_never_carries_a_credential(setup: Setup) -> None:
    room_id, _ = await make_room(setup.acme, {"u1": pp.ROLE_ATTENDEE})
    for fmt in (LIVEKIT, JITSI, ROOMS):
        answer = await authorize(setup.acme, room_id, "stranger", fmt)
        assert answer.reason == admission_pb2.JOIN_DECISION_REASON_NOT_INVITED
        assert not answer.HasField("credential")


async def test_an_unconfigured_format_is_a_failed_precondition(setup: Setup) -> None:
    room_id, _ = await make_room(setup.beta, {"u1": pp.ROLE_ATTENDEE})
    error = await expect_error(
        authorize(setup.beta, room_id, "u1", JITSI),
        grpc.StatusCode.FAILED_PRECONDITION,
        "CREDENTIALS_NOT_CONFIGURED",
    )
    assert error.metadata["format"] == "CREDENTIAL_FORMAT_JITSI"
    # Janus likewise: no tenant here has a `janus` table.
    janus = await expect_error(
        authorize(setup.acme, room_id, "u1", credentials_pb2.CREDENTIAL_FORMAT_JANUS),
        grpc.StatusCode.FAILED_PRECONDITION,
        "CREDENTIALS_NOT_CONFIGURED",
    )
    assert janus.metadata["format"] == "CREDENTIAL_FORMAT_JANUS"
    # An unknown format number is bad input.
    bad = await expect_error(
        authorize(setup.beta, room_id, "u1", 99),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )
    assert bad.fields == ["credential_format"]


async def test_a_tenant_only_ever_gets_its_own_configuration(setup: Setup) -> None:
    room_a, _ = await make_room(setup.acme, {"u1": pp.ROLE_ATTENDEE})
    room_b, _ = await make_room(setup.beta, {"u1": pp.ROLE_ATTENDEE})
    token_a = (await authorize(setup.acme, room_a, "u1", LIVEKIT)).credential
    token_b = (await authorize(setup.beta, room_b, "u1", LIVEKIT)).credential
    assert token_a.server_url == "wss://livekit.acme.example"
    assert token_b.server_url == "wss://livekit.beta.example"
    TokenVerifier("APIacme", ACME_LIVEKIT_SECRET).verify(token_a.token)
    TokenVerifier("APIbeta", BETA_LIVEKIT_SECRET).verify(token_b.token)
    with pytest.raises(jwt.InvalidTokenError):
        TokenVerifier("APIbeta", BETA_LIVEKIT_SECRET).verify(token_a.token)
    with pytest.raises(jwt.InvalidTokenError):
        TokenVerifier("APIacme", ACME_LIVEKIT_SECRET).verify(token_b.token)
    # Neither tenant can introspect the other's credentials, whatever the format.
    token_rooms_a = (await authorize(setup.acme, room_a, "u1", ROOMS)).credential.token
    for foreign in (token_a.token, token_rooms_a):
        seen = await introspect(setup.beta, foreign)
        assert (seen.active, seen.reason) == (False, Reason.CREDENTIAL_STATUS_REASON_INVALID)
        assert seen.room_id == "" and seen.user_id == ""
