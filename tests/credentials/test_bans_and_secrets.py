"""Bans hold in open rooms until the identity is added again; no secret reaches a log
line, an error or a response."""

from __future__ import annotations

import json
import logging

import grpc
import pytest
from rooms.v1 import (
    admission_pb2,
    events_pb2,
    room_pb2,
)
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.credentials.tenants import (
    JITSI,
    LIVEKIT,
    ROOMS,
    SECRETS,
    Reason,
    Setup,
    auth,
    authorize,
    introspect,
    make_room,
    reasons,
    tokens,
)
from tests.shared.errors import expect_error


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
