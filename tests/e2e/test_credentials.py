"""Join credentials end to end: a real server with two tenants' media configuration,
the generated client, and the peers' own verifiers as the oracle (livekit-api's
TokenVerifier for LiveKit, PyJWT for Jitsi, PyJWT's PyJWKClient over real HTTP for
rooms' own tokens). Introspection flips at once on every kind of revocation; bans hold
in open rooms; tenant B's configuration is never used for tenant A; no secret reaches a
log line, an error or a response."""

from __future__ import annotations

import json
import logging
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import jwt
import pytest
from google.protobuf import field_mask_pb2
from livekit.api import SIPGrants, TokenVerifier, VideoGrants
from rooms.v1 import (
    admission_pb2,
    credentials_pb2,
    credentials_service_pb2,
    credentials_service_pb2_grpc,
    events_pb2,
    participants_service_pb2_grpc,
    room_pb2,
    rooms_service_pb2_grpc,
)
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.security.keys import new_key
from service.server import RunningServer
from tests.conftest import ServerFactory
from tests.helpers import expect_error, timestamp

if TYPE_CHECKING:
    from rooms.v1.credentials_service_pb2_grpc import CredentialsServiceAsyncStub
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub

LIVEKIT = credentials_pb2.CREDENTIAL_FORMAT_LIVEKIT
JITSI = credentials_pb2.CREDENTIAL_FORMAT_JITSI
ROOMS = credentials_pb2.CREDENTIAL_FORMAT_ROOMS
Reason = credentials_service_pb2.CredentialStatusReason

# Secrets distinct enough to find in any text.
ACME_LIVEKIT_SECRET = "acme-livekit-secret-" + "a" * 24
ACME_JITSI_SECRET = "acme-jitsi-secret-" + "j" * 24
BETA_LIVEKIT_SECRET = "beta-livekit-secret-" + "b" * 24
SECRETS = (ACME_LIVEKIT_SECRET, ACME_JITSI_SECRET, BETA_LIVEKIT_SECRET)

ALL_SOURCES = ["camera", "microphone", "screen_share", "screen_share_audio"]
# role -> (canPublishSources, canSubscribe, canPublishData, roomAdmin): written out
# here from the issue's grant table, not imported from the code under test.
EXPECTED_LIVEKIT: dict[int, tuple[list[str], bool, bool, bool]] = {
    pp.ROLE_PRESENTER: (ALL_SOURCES, True, True, True),
    pp.ROLE_ATTENDEE: (["camera", "microphone"], True, True, False),
    pp.ROLE_CONSUMER: ([], True, True, False),
    pp.ROLE_COLLABORATOR: (ALL_SOURCES, True, True, False),
}


@dataclass
class Tenant:
    key: str
    rooms: RoomsServiceAsyncStub
    participants: ParticipantsServiceAsyncStub
    credentials: CredentialsServiceAsyncStub


@dataclass
class Setup:
    server: RunningServer
    acme: Tenant
    beta: Tenant
    jwks_url: str


@pytest.fixture(scope="module")
def media_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    (folder / "acme-jitsi.secret").write_text(ACME_JITSI_SECRET + "\n")
    config = folder / "media.toml"
    config.write_text(
        f"""
[tenants.acme.livekit]
url = "wss://livekit.acme.example"
api_key = "APIacme"
api_secret = "{ACME_LIVEKIT_SECRET}"

[tenants.acme.jitsi]
url = "https://meet.acme.example"
app_id = "acme-app"
secret_file = "acme-jitsi.secret"
audience = "jitsi"
subject = "meet.acme.example"

[tenants.beta.livekit]
url = "wss://livekit.beta.example"
api_key = "APIbeta"
api_secret = "{BETA_LIVEKIT_SECRET}"
"""
    )
    return config


@pytest.fixture(scope="module")
async def setup(start: ServerFactory, media_file: Path) -> AsyncIterator[Setup]:
    acme_key, acme_entry = new_key("acme", "app")
    beta_key, beta_entry = new_key("beta", "app")
    running = await start(
        api_keys=f"{acme_entry.line()},{beta_entry.line()}",
        media_config_file=media_file,
        metrics_address="127.0.0.1:0",
    )
    assert running.exporter is not None
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:

        def tenant(key: str) -> Tenant:
            return Tenant(
                key,
                rooms_service_pb2_grpc.RoomsServiceStub(channel),
                participants_service_pb2_grpc.ParticipantsServiceStub(channel),
                credentials_service_pb2_grpc.CredentialsServiceStub(channel),
            )

        yield Setup(
            running,
            tenant(acme_key),
            tenant(beta_key),
            f"http://127.0.0.1:{running.exporter.port}/.well-known/jwks.json",
        )


@pytest.fixture(autouse=True)
def wall_clock(clock: ManualClock, _reset_clock: None) -> datetime:
    """LiveKit's and PyJWT's verifiers read the wall clock: so does the server here."""
    now = datetime.now(UTC).replace(microsecond=0)
    clock.set(now)
    return now


def auth(tenant: Tenant) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {tenant.key}"),)


async def make_room(
    tenant: Tenant, participants: dict[str, int], **room: Any
) -> tuple[str, room_pb2.Room]:
    room_id = f"r-{uuid.uuid4().hex[:10]}"
    made = await tenant.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            room=room_pb2.Room(**room),
            participants=[
                pp.Participant(user_id=u, role=pp.Role.ValueType(r))
                for u, r in participants.items()
            ],
        ),
        metadata=auth(tenant),
    )
    return room_id, made


async def authorize(
    tenant: Tenant, room_id: str, user_id: str, fmt: int, name: str | None = None
) -> rs.AuthorizeJoinResponse:
    request = rs.AuthorizeJoinRequest(
        room_id=room_id,
        user_id=user_id,
        credential_format=credentials_pb2.CredentialFormat.ValueType(fmt),
    )
    if name is not None:
        request.display_name = name
    return await tenant.rooms.AuthorizeJoin(request, metadata=auth(tenant))


async def introspect(tenant: Tenant, token: str) -> cs.IntrospectCredentialResponse:
    return await tenant.credentials.IntrospectCredential(
        cs.IntrospectCredentialRequest(token=token), metadata=auth(tenant)
    )


# ---- LiveKit ---------------------------------------------------------------


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


# ---- Jitsi -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "dial_out", "moderator", "screen", "outbound"),
    [
        (pp.ROLE_PRESENTER, True, True, True, True),
        (pp.ROLE_PRESENTER, False, True, True, False),
        (pp.ROLE_ATTENDEE, True, False, False, False),
        (pp.ROLE_CONSUMER, False, False, False, False),
        (pp.ROLE_COLLABORATOR, True, False, True, False),
    ],
)
async def test_jitsi_tokens_carry_the_documented_claims(
    setup: Setup,
    wall_clock: datetime,
    role: int,
    dial_out: bool,
    moderator: bool,
    screen: bool,
    outbound: bool,
) -> None:
    room_id, _ = await make_room(setup.acme, {"u1": role}, pstn_dial_out_enabled=dial_out)
    answer = await authorize(setup.acme, room_id, "u1", JITSI, name="Ann")
    assert answer.credential.server_url == "https://meet.acme.example"
    claims = jwt.decode(
        answer.credential.token,
        ACME_JITSI_SECRET,
        algorithms=["HS256"],
        audience="jitsi",
        issuer="acme-app",
        options={"require": ["exp", "nbf", "iss", "aud", "sub", "room"]},
    )
    assert claims["sub"] == "meet.acme.example"
    assert claims["room"] == room_id
    assert claims["nbf"] == int(wall_clock.timestamp())
    assert claims["exp"] == int(wall_clock.timestamp()) + 600
    assert claims["context"]["user"] == {"id": "u1", "name": "Ann", "moderator": moderator}
    features = claims["context"]["features"]
    assert features["screen-sharing"] is screen
    assert features["outbound-call"] is outbound
    assert features["recording"] is False and features["livestreaming"] is False


# ---- rooms' own format and its keys -----------------------------------------


def fetch_jwks(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Type"] == "application/json"
        document: dict[str, Any] = json.load(response)
        return document


def verify_rooms_token(url: str, token: str) -> dict[str, Any]:
    """PyJWT's own JWKS client, over real HTTP, as any other service would."""
    key = jwt.PyJWKClient(url, cache_keys=False, cache_jwk_set=False).get_signing_key_from_jwt(
        token
    )
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["ES256"],
        audience="rooms",
        issuer="rooms",
        options={"require": ["exp", "nbf", "iat", "jti", "sub", "aud", "iss"]},
    )
    return claims


async def test_rooms_tokens_verify_with_the_published_keys_across_a_rotation(
    setup: Setup, clock: ManualClock, wall_clock: datetime
) -> None:
    room_id, _ = await make_room(setup.acme, {"u1": pp.ROLE_PRESENTER}, pstn_dial_out_enabled=True)
    before = (await authorize(setup.acme, room_id, "u1", ROOMS, name="Una")).credential
    assert before.server_url == ""
    claims = verify_rooms_token(setup.jwks_url, before.token)
    assert claims["sub"] == "u1"
    assert claims["room_id"] == room_id
    assert claims["tenant"] == "acme"
    assert claims["name"] == "Una"
    assert claims["role"] == "ROLE_PRESENTER"
    assert "CAPABILITY_DIAL_OUT" in claims["capabilities"]
    assert set(claims["capabilities"]) == {
        admission_pb2.Capability.Name(n)
        for n in admission_pb2.Capability.values()
        if n != admission_pb2.CAPABILITY_UNSPECIFIED
    }
    assert claims["exp"] - claims["nbf"] == 600
    old_kid = jwt.get_unverified_header(before.token)["kid"]

    # The RPC publishes exactly what HTTP serves.
    over_rpc = await setup.acme.credentials.GetSigningKeys(
        cs.GetSigningKeysRequest(), metadata=auth(setup.acme)
    )
    assert json.loads(over_rpc.jwks) == fetch_jwks(setup.jwks_url)

    new_kid = await setup.server.signing_keys.rotate(wall_clock)
    after = (await authorize(setup.acme, room_id, "u1", ROOMS)).credential
    assert jwt.get_unverified_header(after.token)["kid"] == new_kid != old_kid
    # Both verify: the old key stays published while its tokens may be alive.
    assert verify_rooms_token(setup.jwks_url, after.token)["sub"] == "u1"
    assert verify_rooms_token(setup.jwks_url, before.token)["sub"] == "u1"
    kids = {key["kid"] for key in fetch_jwks(setup.jwks_url)["keys"]}
    assert {old_kid, new_kid} <= kids
    keys = (
        await setup.acme.credentials.GetSigningKeys(
            cs.GetSigningKeysRequest(), metadata=auth(setup.acme)
        )
    ).keys
    assert keys[0].key_id == new_kid and not keys[0].HasField("retire_time")
    retired = next(k for k in keys if k.key_id == old_kid)
    assert retired.retire_time == timestamp(wall_clock)
    assert (await introspect(setup.acme, before.token)).active
    assert (await introspect(setup.acme, after.token)).active

    # Once every token of the old key has expired, it is no longer published.
    clock.set(wall_clock + timedelta(seconds=601))
    kids = {key["kid"] for key in fetch_jwks(setup.jwks_url)["keys"]}
    assert new_kid in kids and old_kid not in kids


# ---- introspection -----------------------------------------------------------


async def tokens(tenant: Tenant, room_id: str, user_id: str) -> list[str]:
    """A credential of every format for one identity."""
    found = []
    for fmt in (LIVEKIT, JITSI, ROOMS):
        answer = await authorize(tenant, room_id, user_id, fmt)
        assert answer.allowed, answer
        found.append(answer.credential.token)
    return found


async def reasons(tenant: Tenant, issued: list[str]) -> set[int]:
    """The reasons introspection gives for the tokens (`active` agreeing with each)."""
    found: set[int] = set()
    for token in issued:
        answer = await introspect(tenant, token)
        assert answer.active == (answer.reason == Reason.CREDENTIAL_STATUS_REASON_ACTIVE)
        found.add(answer.reason)
    return found


async def test_introspection_reads_back_what_was_issued(setup: Setup, wall_clock: datetime) -> None:
    room_id, _ = await make_room(setup.acme, {"u1": pp.ROLE_ATTENDEE})
    for fmt, token in zip(
        (LIVEKIT, JITSI, ROOMS), await tokens(setup.acme, room_id, "u1"), strict=True
    ):
        seen = await introspect(setup.acme, token)
        assert seen.active and seen.reason == Reason.CREDENTIAL_STATUS_REASON_ACTIVE
        assert seen.format == fmt
        assert (seen.room_id, seen.user_id, seen.role) == (room_id, "u1", pp.ROLE_ATTENDEE)
        assert admission_pb2.CAPABILITY_SPEAK in seen.capabilities
        assert seen.issue_time == timestamp(wall_clock)
        assert seen.expire_time == timestamp(wall_clock + timedelta(seconds=600))
    for garbage in ("not-a-token", "a.b.c", jwt.encode({"sub": "x"}, "k" * 32)):
        seen = await introspect(setup.acme, garbage)
        assert (seen.active, seen.reason) == (False, Reason.CREDENTIAL_STATUS_REASON_INVALID)
    forged = jwt.encode(
        jwt.decode(
            (await tokens(setup.acme, room_id, "u1"))[0], options={"verify_signature": False}
        ),
        "not-the-secret-" + "x" * 32,
    )
    assert (await introspect(setup.acme, forged)).reason == Reason.CREDENTIAL_STATUS_REASON_INVALID
    await expect_error(
        introspect(setup.acme, ""), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"
    )


async def test_introspection_flips_on_removal_and_stays_inactive_after_a_readd(
    setup: Setup,
) -> None:
    room_id, _ = await make_room(setup.acme, {"u1": pp.ROLE_ATTENDEE})
    issued = await tokens(setup.acme, room_id, "u1")
    assert await reasons(setup.acme, issued) == {Reason.CREDENTIAL_STATUS_REASON_ACTIVE}
    await setup.acme.participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["u1"]), metadata=auth(setup.acme)
    )
    assert await reasons(setup.acme, issued) == {Reason.CREDENTIAL_STATUS_REASON_REMOVED}
    await setup.acme.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room_id, participants=[pp.Participant(user_id="u1", role=pp.ROLE_ATTENDEE)]
        ),
        metadata=auth(setup.acme),
    )
    assert await reasons(setup.acme, issued) == {Reason.CREDENTIAL_STATUS_REASON_READDED}
    fresh = await tokens(setup.acme, room_id, "u1")
    assert await reasons(setup.acme, fresh) == {Reason.CREDENTIAL_STATUS_REASON_ACTIVE}


async def test_introspection_flips_on_role_change_window_shortening_and_deletion(
    setup: Setup, clock: ManualClock, wall_clock: datetime
) -> None:
    room_id, _ = await make_room(setup.acme, {"u1": pp.ROLE_ATTENDEE, "u2": pp.ROLE_ATTENDEE})
    u1 = await tokens(setup.acme, room_id, "u1")
    u2 = await tokens(setup.acme, room_id, "u2")
    await setup.acme.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room_id, participants=[pp.Participant(user_id="u1", role=pp.ROLE_CONSUMER)]
        ),
        metadata=auth(setup.acme),
    )
    assert await reasons(setup.acme, u1) == {Reason.CREDENTIAL_STATUS_REASON_ROLE_CHANGED}
    assert await reasons(setup.acme, u2) == {Reason.CREDENTIAL_STATUS_REASON_ACTIVE}

    # Shorten the window so that it ends in a minute, then let the minute pass.
    await setup.acme.rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(
                room_id=room_id, valid_until=timestamp(wall_clock + timedelta(minutes=1))
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
        ),
        metadata=auth(setup.acme),
    )
    assert await reasons(setup.acme, u2) == {Reason.CREDENTIAL_STATUS_REASON_ACTIVE}
    clock.set(wall_clock + timedelta(minutes=2))
    assert await reasons(setup.acme, u2) == {Reason.CREDENTIAL_STATUS_REASON_OUTSIDE_WINDOW}
    clock.set(wall_clock)

    await setup.acme.rooms.DeleteRoom(
        rs.DeleteRoomRequest(room_id=room_id), metadata=auth(setup.acme)
    )
    assert await reasons(setup.acme, u2) == {Reason.CREDENTIAL_STATUS_REASON_ROOM_DELETED}


async def test_introspection_reports_expiry(
    setup: Setup, clock: ManualClock, wall_clock: datetime
) -> None:
    room_id, _ = await make_room(setup.acme, {"u1": pp.ROLE_ATTENDEE})
    issued = await tokens(setup.acme, room_id, "u1")
    clock.set(wall_clock + timedelta(seconds=600))
    assert await reasons(setup.acme, issued) == {Reason.CREDENTIAL_STATUS_REASON_EXPIRED}


# ---- bans --------------------------------------------------------------------


async def test_a_ban_holds_in_an_open_room_until_the_identity_is_added_again(
    setup: Setup,
) -> None:
    room_id, _ = await make_room(
        setup.acme,
        {"host": pp.ROLE_PRESENTER, "u1": pp.ROLE_ATTENDEE},
        join_policy=room_pb2.JOIN_POLICY_OPEN,
    )
    walk_in = await tokens(setup.acme, room_id, "walk-in")
    rostered = await tokens(setup.acme, room_id, "u1")
    removed = await setup.acme.participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["u1", "walk-in"], ban=True),
        metadata=auth(setup.acme),
    )
    assert removed.removed_count == 1
    for user_id in ("u1", "walk-in"):
        answer = await authorize(setup.acme, room_id, user_id, LIVEKIT)
        assert (answer.allowed, answer.reason) == (False, admission_pb2.JOIN_DECISION_REASON_BANNED)
        assert not answer.HasField("credential")
    assert await reasons(setup.acme, walk_in + rostered) == {Reason.CREDENTIAL_STATUS_REASON_BANNED}
    # Banning again changes nothing.
    again = await setup.acme.participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["walk-in"], ban=True),
        metadata=auth(setup.acme),
    )
    assert again.etag == removed.etag

    await setup.acme.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room_id, participants=[pp.Participant(user_id="walk-in")]
        ),
        metadata=auth(setup.acme),
    )
    assert (await authorize(setup.acme, room_id, "walk-in", 0)).allowed
    assert (await authorize(setup.acme, room_id, "u1", 0)).reason == (
        admission_pb2.JOIN_DECISION_REASON_BANNED
    )
    # The walk-in's earlier credentials belong to the time before the ban.
    assert await reasons(setup.acme, walk_in) == {Reason.CREDENTIAL_STATUS_REASON_READDED}

    history = await setup.acme.rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(room_id=room_id), metadata=auth(setup.acme)
    )
    tail = [(e.type, e.participant.user_id) for e in history.events][-5:]
    assert tail == [
        (events_pb2.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED, "u1"),
        (events_pb2.ROOM_EVENT_TYPE_PARTICIPANT_BANNED, "u1"),
        (events_pb2.ROOM_EVENT_TYPE_PARTICIPANT_BANNED, "walk-in"),
        (events_pb2.ROOM_EVENT_TYPE_PARTICIPANT_UNBANNED, "walk-in"),
        (events_pb2.ROOM_EVENT_TYPE_PARTICIPANT_ADDED, "walk-in"),
    ]


# ---- secrets -----------------------------------------------------------------


async def test_no_secret_reaches_a_log_line_an_error_or_a_response(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    room_id, _ = await make_room(setup.acme, {"u1": pp.ROLE_PRESENTER})
    texts: list[str] = []
    for fmt in (LIVEKIT, JITSI, ROOMS):
        answer = await authorize(setup.acme, room_id, "u1", fmt)
        texts.append(str(answer))
        texts.append(str(await introspect(setup.acme, answer.credential.token)))
    error = await expect_error(
        authorize(setup.beta, room_id, "u1", JITSI),
        grpc.StatusCode.FAILED_PRECONDITION,
        "CREDENTIALS_NOT_CONFIGURED",
    )
    texts.append(str(error))
    keys = await setup.acme.credentials.GetSigningKeys(
        cs.GetSigningKeysRequest(), metadata=auth(setup.acme)
    )
    texts.append(str(keys))
    # The published set holds public keys only (no private part "d").
    assert all("d" not in key for key in json.loads(keys.jwks)["keys"])
    texts.append(caplog.text)
    texts.append(repr(setup.server))
    for secret in SECRETS:
        for text in texts:
            assert secret not in text
