"""IntrospectCredential end to end: it reads back what was issued and flips at once
on every kind of revocation."""

from __future__ import annotations

from datetime import datetime, timedelta

import grpc
import jwt
from google.protobuf import field_mask_pb2
from rooms.v1 import (
    admission_pb2,
    room_pb2,
)
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.credentials.tenants import (
    JITSI,
    LIVEKIT,
    ROOMS,
    Reason,
    Setup,
    auth,
    introspect,
    make_room,
    reasons,
    tokens,
)
from tests.shared.calls import timestamp
from tests.shared.errors import expect_error


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
