"""AddOrUpdateParticipants end to end: default roles, upserts, the order of the
answer, etags as preconditions (compared exactly as sent), unknown and deleted rooms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.participants.roster import (
    ABORTED,
    ATTENDEE,
    COLLABORATOR,
    CONSUMER,
    NOT_FOUND,
    PRESENTER,
    add,
    delete,
    etag_of,
    roster,
)
from tests.shared.calls import People, Rooms, make_room, person, ts, unique
from tests.shared.errors import expect_error


async def test_add_defaults_the_role_to_attendee(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    added = await add(participants, room.room_id, person("pat"), person("dr", PRESENTER))
    assert [(p.user_id, p.role) for p in added.participants] == [
        ("pat", ATTENDEE),
        ("dr", PRESENTER),
    ]
    for p in added.participants:
        assert p.create_time == p.update_time == ts()
    assert await roster(participants, room.room_id) == {"pat": ATTENDEE, "dr": PRESENTER}
    fetched = await participants.GetParticipant(
        ps.GetParticipantRequest(room_id=room.room_id, user_id="pat")
    )
    assert fetched.role == ATTENDEE


async def test_upsert_changes_the_role_and_keeps_create_time(
    rooms: Rooms, participants: People, clock: ManualClock
) -> None:
    room = await make_room(rooms, [person("ann"), person("bob", CONSUMER)])
    clock.advance(timedelta(minutes=5))
    changed = await add(participants, room.room_id, person("ann", COLLABORATOR))
    (ann,) = changed.participants
    assert (ann.user_id, ann.role) == ("ann", COLLABORATOR)
    assert ann.create_time == ts()
    assert ann.update_time == ts(timedelta(minutes=5))
    assert await roster(participants, room.room_id) == {"ann": COLLABORATOR, "bob": CONSUMER}
    # Re-sending unspecified sets the default role again: an upsert, not a merge.
    await add(participants, room.room_id, person("ann"))
    assert (await roster(participants, room.room_id))["ann"] == ATTENDEE


async def test_response_keeps_the_request_order(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("m-existing", CONSUMER)])
    order = ["zed", "m-existing", "Amy", "bea", "0-first"]
    added = await add(participants, room.room_id, *(person(u, PRESENTER) for u in order))
    assert [p.user_id for p in added.participants] == order
    assert all(p.role == PRESENTER for p in added.participants)


async def test_etag_changes_on_change_and_not_on_a_repeat(
    rooms: Rooms, participants: People, clock: ManualClock
) -> None:
    room = await make_room(rooms)
    first = await add(participants, room.room_id, person("u1"), person("u2", PRESENTER))
    assert first.etag != room.etag
    assert await etag_of(rooms, room.room_id) == first.etag

    clock.advance(timedelta(minutes=1))
    # The same identities with the same roles (unspecified == attendee): nothing changes.
    repeat = await add(participants, room.room_id, person("u1", ATTENDEE), person("u2", PRESENTER))
    assert repeat.etag == first.etag
    assert [p.update_time for p in repeat.participants] == [ts(), ts()]
    after_repeat = await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id))
    assert after_repeat.etag == first.etag
    assert after_repeat.update_time == ts()

    # An unchanged repeat with the current etag as a precondition also succeeds.
    conditional = await add(participants, room.room_id, person("u1"), etag=first.etag)
    assert conditional.etag == first.etag

    changed = await add(participants, room.room_id, person("u1", CONSUMER), etag=first.etag)
    assert changed.etag not in (first.etag, room.etag)
    after_change = await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id))
    assert after_change.etag == changed.etag
    assert after_change.update_time == ts(timedelta(minutes=1))


async def test_stale_etag_is_aborted_and_changes_nothing(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms, [person("first")])
    current = (await add(participants, room.room_id, person("second"))).etag
    error = await expect_error(
        add(participants, room.room_id, person("third"), etag=room.etag),
        ABORTED,
        "ETAG_MISMATCH",
    )
    assert error.metadata == {"room_id": room.room_id, "etag": current}
    assert [(v.type, v.subject) for v in error.preconditions] == [("ETAG", f"rooms/{room.room_id}")]
    # An etag the server never issued is just as stale.
    await expect_error(
        add(participants, room.room_id, person("third"), etag="not-an-etag"),
        ABORTED,
        "ETAG_MISMATCH",
    )
    assert await roster(participants, room.room_id) == {"first": ATTENDEE, "second": ATTENDEE}
    assert await etag_of(rooms, room.room_id) == current


_ARABIC_INDIC_DIGITS = "".join(chr(0x0660 + i) for i in range(10))
_FULL_WIDTH_DIGITS = "".join(chr(0xFF10 + i) for i in range(10))


def look_alike(kind: str, etag: str) -> str:
    """A string that is not `etag` but names the same number (or looks like a number)."""
    digits = etag.strip('"')
    assert etag == f'"{digits}"' and digits.isascii() and digits.isdigit(), etag
    if kind == "zero-padded":
        return f'"0{digits}"'
    if kind == "arabic-indic":
        return f'"{digits.translate(str.maketrans("0123456789", _ARABIC_INDIC_DIGITS))}"'
    if kind == "full-width":
        return f'"{digits.translate(str.maketrans("0123456789", _FULL_WIDTH_DIGITS))}"'
    if kind == "superscript":  # a digit to str.isdigit() that int() refuses
        return '"\u00b2"'
    assert kind == "unquoted"
    return digits


LOOK_ALIKES = ["zero-padded", "arabic-indic", "full-width", "superscript", "unquoted"]


@pytest.mark.parametrize("kind", LOOK_ALIKES)
async def test_add_needs_the_exact_etag(rooms: Rooms, participants: People, kind: str) -> None:
    """The etag is compared as sent: a look-alike of the current one is a mismatch
    (ABORTED), never a match and never an internal error."""
    room = await make_room(rooms, [person("a"), person("b")])
    fake = look_alike(kind, room.etag)
    error = await expect_error(
        add(participants, room.room_id, person("intruder"), etag=fake),
        ABORTED,
        "ETAG_MISMATCH",
    )
    assert error.metadata == {"room_id": room.room_id, "etag": room.etag}
    assert await roster(participants, room.room_id) == {"a": ATTENDEE, "b": ATTENDEE}
    assert await etag_of(rooms, room.room_id) == room.etag


@pytest.mark.parametrize("kind", LOOK_ALIKES)
async def test_remove_needs_the_exact_etag(rooms: Rooms, participants: People, kind: str) -> None:
    room = await make_room(rooms, [person("a"), person("b")])
    fake = look_alike(kind, room.etag)
    error = await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a"], etag=fake)
        ),
        ABORTED,
        "ETAG_MISMATCH",
    )
    assert error.metadata == {"room_id": room.room_id, "etag": room.etag}
    assert await roster(participants, room.room_id) == {"a": ATTENDEE, "b": ATTENDEE}
    assert await etag_of(rooms, room.room_id) == room.etag


async def test_add_to_an_unknown_or_deleted_room(rooms: Rooms, participants: People) -> None:
    missing = unique("never")
    error = await expect_error(
        add(participants, missing, person("someone")), NOT_FOUND, "ROOM_NOT_FOUND"
    )
    assert error.metadata == {"room_id": missing}

    room = await make_room(rooms, [person("someone")])
    await delete(rooms, room.room_id)
    error = await expect_error(
        add(participants, room.room_id, person("other")), NOT_FOUND, "ROOM_NOT_FOUND"
    )
    assert error.metadata == {"room_id": room.room_id}
