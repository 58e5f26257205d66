"""ParticipantsService end to end: the real server, the real generated client, real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, TypeAlias

import grpc
import pytest
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import participants_service_pb2_grpc, room_pb2, rooms_service_pb2_grpc
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.conftest import T0, ServerFactory
from tests.helpers import expect_error, rich_error, ts, unique

if TYPE_CHECKING:  # the async stubs exist only in the generated .pyi files
    Rooms: TypeAlias = rooms_service_pb2_grpc.RoomsServiceAsyncStub
    People: TypeAlias = participants_service_pb2_grpc.ParticipantsServiceAsyncStub
Role: TypeAlias = pp.Role.ValueType

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
ABORTED = grpc.StatusCode.ABORTED

PRESENTER = pp.ROLE_PRESENTER
ATTENDEE = pp.ROLE_ATTENDEE
CONSUMER = pp.ROLE_CONSUMER
COLLABORATOR = pp.ROLE_COLLABORATOR

# The limits of the small server: the roster holds 3, a batch holds 2.
SMALL_ROSTER = 3
SMALL_BATCH = 2


# ---- helpers ------------------------------------------------------------------


def person(user_id: str, role: Role = pp.ROLE_UNSPECIFIED) -> pp.Participant:
    return pp.Participant(user_id=user_id, role=role)


async def make_room(
    rooms: Rooms,
    members: Sequence[pp.Participant] = (),
    *,
    start: timedelta = timedelta(0),
    end: timedelta = timedelta(days=1),
) -> room_pb2.Room:
    """A room with a unique id, the window T0+start .. T0+end and an initial roster."""
    room: room_pb2.Room = await rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=unique("room"),
            room=room_pb2.Room(valid_from=ts(start), valid_until=ts(end)),
            participants=list(members),
        )
    )
    return room


async def add(
    participants: People, room_id: str, *members: pp.Participant, etag: str = ""
) -> ps.AddOrUpdateParticipantsResponse:
    response: ps.AddOrUpdateParticipantsResponse = await participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(room_id=room_id, participants=members, etag=etag)
    )
    return response


async def roster(participants: People, room_id: str) -> dict[str, Role]:
    """The whole roster (one page of up to 500) as user_id -> role."""
    listed = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id, page_size=500)
    )
    assert listed.next_page_token == ""
    return {p.user_id: p.role for p in listed.participants}


async def get(rooms: Rooms, room_id: str) -> room_pb2.Room:
    room: room_pb2.Room = await rooms.GetRoom(rs.GetRoomRequest(room_id=room_id))
    return room


async def etag_of(rooms: Rooms, room_id: str) -> str:
    return (await get(rooms, room_id)).etag


async def count_of(rooms: Rooms, room_id: str) -> int:
    return (await get(rooms, room_id)).participant_count


async def delete(rooms: Rooms, room_id: str) -> None:
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room_id))


@pytest.fixture(scope="module")
async def small(start: ServerFactory) -> AsyncIterator[tuple[Rooms, People]]:
    """A second server whose roster holds 3 identities and whose batches hold 2."""
    running = await start(max_roster_size=SMALL_ROSTER, max_batch_size=SMALL_BATCH)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield (
            rooms_service_pb2_grpc.RoomsServiceStub(channel),
            participants_service_pb2_grpc.ParticipantsServiceStub(channel),
        )


# ---- AddOrUpdateParticipants ----------------------------------------------------


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


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("has space", id="inner-space"),
        pytest.param(" leading", id="leading-space"),
        pytest.param("tab\there", id="tab"),
        pytest.param("new\nline", id="newline"),
        pytest.param("", id="empty"),
        pytest.param("u" * 257, id="257-chars"),
        pytest.param("bell\x07", id="control-char"),
        pytest.param("nul\x00", id="nul"),
        pytest.param("del\x7f", id="del"),
        pytest.param("nbsp\u00a0x", id="nbsp"),
    ],
)
async def test_malformed_identity_names_the_field(
    rooms: Rooms, participants: People, bad_id: str
) -> None:
    room = await make_room(rooms)
    error = await expect_error(
        add(participants, room.room_id, person("fine"), person(bad_id)),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["participants[1].user_id"]
    assert error.metadata["field"] == "participants[1].user_id"
    # Nothing of the batch was applied.
    assert await roster(participants, room.room_id) == {}
    assert await etag_of(rooms, room.room_id) == room.etag


async def test_identity_of_256_printable_characters_is_accepted(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms)
    longest = "x" * 255 + "é"
    unusual = "8:acs:3f1c_9e2d-ünïcode/ok@host#1"
    added = await add(participants, room.room_id, person(longest), person(unusual))
    assert [p.user_id for p in added.participants] == [longest, unusual]
    assert set(await roster(participants, room.room_id)) == {longest, unusual}


async def test_unknown_role_number_is_rejected(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    error = await expect_error(
        add(participants, room.room_id, person("ok"), person("who", Role(99))),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["participants[1].role"]
    assert error.metadata["field"] == "participants[1].role"
    assert await roster(participants, room.room_id) == {}


async def test_duplicate_identity_in_one_batch(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    error = await expect_error(
        add(participants, room.room_id, person("a"), person("b"), person("a", PRESENTER)),
        INVALID,
        "DUPLICATE_USER_ID",
    )
    assert error.fields == ["participants[2].user_id"]
    assert error.metadata == {"field": "participants[2].user_id", "user_id": "a"}
    assert await roster(participants, room.room_id) == {}


async def test_batch_too_large(small: tuple[Rooms, People]) -> None:
    rooms, participants = small
    room = await make_room(rooms, [person("a")])
    error = await expect_error(
        add(participants, room.room_id, person("b"), person("c"), person("d")),
        INVALID,
        "BATCH_TOO_LARGE",
    )
    assert error.fields == ["participants"]
    assert error.metadata == {"field": "participants", "limit": "2", "size": "3"}
    error = await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a", "x", "y"])
        ),
        INVALID,
        "BATCH_TOO_LARGE",
    )
    assert error.metadata == {"field": "user_ids", "limit": "2", "size": "3"}
    assert await roster(participants, room.room_id) == {"a": ATTENDEE}
    assert await count_of(rooms, room.room_id) == 1
    assert await etag_of(rooms, room.room_id) == room.etag


async def test_roster_full_leaves_the_roster_unchanged(small: tuple[Rooms, People]) -> None:
    rooms, participants = small
    room = await make_room(rooms, [person("a"), person("b")])
    full = await add(participants, room.room_id, person("c"))
    assert await count_of(rooms, room.room_id) == SMALL_ROSTER

    # A role change of an existing identity plus one new identity: one too many.
    error = await expect_error(
        add(participants, room.room_id, person("a", PRESENTER), person("d")),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "ROSTER_FULL",
    )
    assert error.metadata == {"room_id": room.room_id, "limit": "3", "size": "4"}
    # Nothing of the failed batch stuck, not even the role change.
    assert await roster(participants, room.room_id) == {
        "a": ATTENDEE,
        "b": ATTENDEE,
        "c": ATTENDEE,
    }
    after = await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id))
    assert (after.etag, after.participant_count) == (full.etag, SMALL_ROSTER)

    # A full roster still takes role changes and repeats; they add nobody.
    changed = await add(participants, room.room_id, person("a", PRESENTER), person("b"))
    assert [(p.user_id, p.role) for p in changed.participants] == [
        ("a", PRESENTER),
        ("b", ATTENDEE),
    ]
    assert await count_of(rooms, room.room_id) == SMALL_ROSTER

    # Making room lets the new identity in.
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["b"])
    )
    await add(participants, room.room_id, person("d"))
    assert await roster(participants, room.room_id) == {
        "a": PRESENTER,
        "c": ATTENDEE,
        "d": ATTENDEE,
    }
    assert await count_of(rooms, room.room_id) == SMALL_ROSTER


async def test_roster_limit_holds_under_concurrent_adds(small: tuple[Rooms, People]) -> None:
    rooms, participants = small
    room = await make_room(rooms)
    outcomes = await asyncio.gather(
        *(add(participants, room.room_id, person(f"racer-{i}")) for i in range(6)),
        return_exceptions=True,
    )
    succeeded = [o for o in outcomes if isinstance(o, ps.AddOrUpdateParticipantsResponse)]
    failed = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(succeeded) == SMALL_ROSTER
    assert len(failed) == 6 - SMALL_ROSTER
    for error in failed:
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert rich_error(error).reason == "ROSTER_FULL"
    winners = {o.participants[0].user_id for o in succeeded}
    assert set(await roster(participants, room.room_id)) == winners
    assert await count_of(rooms, room.room_id) == SMALL_ROSTER


async def test_one_etag_lets_only_one_concurrent_change_through(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms, [person("base")])
    outcomes = await asyncio.gather(
        *(add(participants, room.room_id, person(f"writer-{i}"), etag=room.etag) for i in range(5)),
        return_exceptions=True,
    )
    succeeded = [o for o in outcomes if isinstance(o, ps.AddOrUpdateParticipantsResponse)]
    failed = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(succeeded) == 1
    assert len(failed) == 4
    assert all(error.code() == ABORTED for error in failed)
    (winner,) = succeeded
    assert set(await roster(participants, room.room_id)) == {
        "base",
        winner.participants[0].user_id,
    }
    assert await etag_of(rooms, room.room_id) == winner.etag


async def test_participant_count_follows_the_roster(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("a"), person("b")])
    assert room.participant_count == 2
    await add(participants, room.room_id, person("b", PRESENTER), person("c"), person("d"))
    assert await count_of(rooms, room.room_id) == 4
    await add(participants, room.room_id, person("a"), person("c"))  # repeats
    assert await count_of(rooms, room.room_id) == 4
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a", "zz-absent", "d"])
    )
    assert await count_of(rooms, room.room_id) == 2
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["b", "c"])
    )
    assert await count_of(rooms, room.room_id) == 0
    assert await roster(participants, room.room_id) == {}


async def test_identities_are_case_sensitive(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    await add(participants, room.room_id, person("Alice", PRESENTER), person("alice", CONSUMER))
    assert await count_of(rooms, room.room_id) == 2
    for user_id, role in (("Alice", PRESENTER), ("alice", CONSUMER)):
        found = await participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room.room_id, user_id=user_id)
        )
        assert (found.user_id, found.role) == (user_id, role)
    await expect_error(
        participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room.room_id, user_id="ALICE")
        ),
        NOT_FOUND,
        "PARTICIPANT_NOT_FOUND",
    )
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["alice"])
    )
    assert removed.removed_count == 1
    assert await roster(participants, room.room_id) == {"Alice": PRESENTER}


@pytest.mark.parametrize(
    "tricky",
    [
        "x';DROP_TABLE_rooms;--",
        "x';DROP/**/TABLE/**/rooms;--",
        "Robert');DELETE/**/FROM/**/participants;--",
        "%_\\'\"$1",
        "a'OR'1'='1",
    ],
)
async def test_sql_looking_identities_are_stored_literally(
    rooms: Rooms, participants: People, tricky: str
) -> None:
    room = await make_room(rooms, [person("bystander")])
    added = await add(participants, room.room_id, person(tricky, PRESENTER))
    assert added.participants[0].user_id == tricky
    found = await participants.GetParticipant(
        ps.GetParticipantRequest(room_id=room.room_id, user_id=tricky)
    )
    assert (found.user_id, found.role) == (tricky, PRESENTER)
    assert await roster(participants, room.room_id) == {"bystander": ATTENDEE, tricky: PRESENTER}
    memberships = await participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=tricky)
    )
    assert room.room_id in [m.room.room_id for m in memberships.memberships]
    # The rooms table is still there and the room still answers.
    assert await count_of(rooms, room.room_id) == 2


async def test_the_drop_table_identity_with_spaces_is_rejected_not_run(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms)
    tricky = "x';DROP TABLE rooms;--"
    # It holds a space, so it is not a valid identity: rejected, never executed.
    await expect_error(add(participants, room.room_id, person(tricky)), INVALID, "INVALID_ARGUMENT")
    without_space = tricky.replace(" ", "")
    await add(participants, room.room_id, person(without_space))
    assert await roster(participants, room.room_id) == {without_space: ATTENDEE}
    assert (await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id))).room_id == room.room_id


# ---- RemoveParticipants ---------------------------------------------------------


async def test_remove(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("a"), person("b", PRESENTER), person("c")])
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["b", "c"])
    )
    assert removed.removed_count == 2
    assert removed.etag != room.etag
    assert await etag_of(rooms, room.room_id) == removed.etag
    assert await roster(participants, room.room_id) == {"a": ATTENDEE}
    await expect_error(
        participants.GetParticipant(ps.GetParticipantRequest(room_id=room.room_id, user_id="b")),
        NOT_FOUND,
        "PARTICIPANT_NOT_FOUND",
    )


async def test_removing_an_absent_identity_is_a_no_op(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("a")])
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["nobody"])
    )
    assert removed.removed_count == 0
    assert removed.etag == room.etag
    assert await etag_of(rooms, room.room_id) == room.etag
    # With the current etag as a precondition too.
    conditional = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["nobody"], etag=room.etag)
    )
    assert (conditional.removed_count, conditional.etag) == (0, room.etag)
    # A mix counts only those that were there.
    mixed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["nobody", "a"])
    )
    assert mixed.removed_count == 1
    assert await roster(participants, room.room_id) == {}


async def test_remove_with_a_stale_etag_is_aborted(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("a"), person("b")])
    current = (await add(participants, room.room_id, person("c"))).etag
    error = await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a"], etag=room.etag)
        ),
        ABORTED,
        "ETAG_MISMATCH",
    )
    assert error.metadata == {"room_id": room.room_id, "etag": current}
    assert error.preconditions
    assert set(await roster(participants, room.room_id)) == {"a", "b", "c"}
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a"], etag=current)
    )
    assert removed.removed_count == 1


async def test_remove_errors(rooms: Rooms, participants: People) -> None:
    missing = unique("never")
    await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=missing, user_ids=["a"])
        ),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    room = await make_room(rooms, [person("a")])
    error = await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a", "bad id"])
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["user_ids[1]"]
    await delete(rooms, room.room_id)
    await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a"])
        ),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )


# ---- ListParticipants -----------------------------------------------------------


async def list_all(
    participants: People, room_id: str, page_size: int, role: Role = pp.ROLE_UNSPECIFIED
) -> tuple[list[list[str]], list[pp.Participant]]:
    """Every page of a listing: the user ids per page, and every participant in order."""
    pages: list[list[str]] = []
    everyone: list[pp.Participant] = []
    token = ""
    while True:
        page = await participants.ListParticipants(
            ps.ListParticipantsRequest(
                room_id=room_id, page_size=page_size, page_token=token, role=role
            )
        )
        pages.append([p.user_id for p in page.participants])
        everyone.extend(page.participants)
        token = page.next_page_token
        if not token:
            return pages, everyone
        assert len(pages) < 100, "paging does not end"


async def test_list_in_a_stable_order_by_user_id(rooms: Rooms, participants: People) -> None:
    ids = ["carol", "alice", "Bob", "bob", "_x", "0zero", "dave"]
    room = await make_room(rooms, [person(u) for u in ids[:2]])
    await add(participants, room.room_id, *(person(u) for u in ids[2:]))
    expected = sorted(ids)  # byte order: digits < upper case < "_" < lower case
    assert expected == ["0zero", "Bob", "_x", "alice", "bob", "carol", "dave"]
    listed = await participants.ListParticipants(ps.ListParticipantsRequest(room_id=room.room_id))
    assert [p.user_id for p in listed.participants] == expected
    assert listed.next_page_token == ""
    again = await participants.ListParticipants(ps.ListParticipantsRequest(room_id=room.room_id))
    assert again == listed


@pytest.mark.parametrize("count", [5, 4, 1])
async def test_paging_collects_everyone_exactly_once(
    rooms: Rooms, participants: People, count: int
) -> None:
    ids = [f"user-{i:02d}" for i in range(count)]
    room = await make_room(rooms)
    await add(participants, room.room_id, *(person(u) for u in reversed(ids)))
    pages, everyone = await list_all(participants, room.room_id, page_size=2)
    assert [p.user_id for p in everyone] == ids
    assert all(len(page) == 2 for page in pages[:-1])
    assert len(pages) == (count + 1) // 2


async def test_paging_sees_changes_between_pages_without_repeats(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms, [person(u) for u in ("b", "d")])
    await add(participants, room.room_id, person("f"), person("h"))
    first = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=2)
    )
    assert [p.user_id for p in first.participants] == ["b", "d"]
    # Keyset paging: an identity added before the cursor is not seen, one after it is.
    await add(participants, room.room_id, person("a"), person("e"))
    rest = await participants.ListParticipants(
        ps.ListParticipantsRequest(
            room_id=room.room_id, page_size=10, page_token=first.next_page_token
        )
    )
    assert [p.user_id for p in rest.participants] == ["e", "f", "h"]
    assert rest.next_page_token == ""


async def test_list_by_role(rooms: Rooms, participants: People) -> None:
    room = await make_room(
        rooms,
        [person("p1", PRESENTER), person("a1"), person("c1", CONSUMER)],
    )
    await add(
        participants,
        room.room_id,
        person("p2", PRESENTER),
        person("x1", COLLABORATOR),
        person("p0", PRESENTER),
    )
    pages, presenters = await list_all(participants, room.room_id, page_size=2, role=PRESENTER)
    assert pages == [["p0", "p1"], ["p2"]]
    assert all(p.role == PRESENTER for p in presenters)
    _, attendees = await list_all(participants, room.room_id, page_size=0, role=ATTENDEE)
    assert [p.user_id for p in attendees] == ["a1"]
    _, collaborators = await list_all(participants, room.room_id, 0, role=COLLABORATOR)
    assert [p.user_id for p in collaborators] == ["x1"]
    _, everyone = await list_all(participants, room.room_id, page_size=0)
    assert len(everyone) == 6
    error = await expect_error(
        participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room.room_id, role=Role(42))
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["role"]


async def test_list_of_an_empty_roster(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    listed = await participants.ListParticipants(ps.ListParticipantsRequest(room_id=room.room_id))
    assert list(listed.participants) == []
    assert listed.next_page_token == ""
    await add(participants, room.room_id, person("solo"))
    by_role = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, role=PRESENTER)
    )
    assert list(by_role.participants) == []
    assert by_role.next_page_token == ""


async def test_list_page_sizes(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    ids = [f"u{i:03d}" for i in range(501)]
    await add(participants, room.room_id, *(person(u) for u in ids))

    error = await expect_error(
        participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room.room_id, page_size=-1)
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["page_size"]

    default = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=0)
    )
    assert [p.user_id for p in default.participants] == ids[:50]
    assert default.next_page_token

    capped = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=100_000)
    )
    assert [p.user_id for p in capped.participants] == ids[:500]
    last = await participants.ListParticipants(
        ps.ListParticipantsRequest(
            room_id=room.room_id, page_size=100_000, page_token=capped.next_page_token
        )
    )
    assert [p.user_id for p in last.participants] == ids[500:]
    assert last.next_page_token == ""


def tampered(token: str) -> str:
    middle = len(token) // 2
    replacement = "A" if token[middle] != "A" else "B"
    return token[:middle] + replacement + token[middle + 1 :]


async def test_list_rejects_bad_page_tokens(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person(u, PRESENTER) for u in ("a", "b", "c")])
    other = await make_room(rooms, [person(u, PRESENTER) for u in ("a", "b", "c")])
    first = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=1)
    )
    token = first.next_page_token
    assert token
    membership_token = (
        await participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id="a", page_size=1)
        )
    ).next_page_token
    assert membership_token

    bad_requests = [
        ps.ListParticipantsRequest(room_id=room.room_id, page_token=tampered(token)),
        ps.ListParticipantsRequest(room_id=room.room_id, page_token=token[:-3]),
        ps.ListParticipantsRequest(room_id=room.room_id, page_token="garbage!!"),
        ps.ListParticipantsRequest(room_id=room.room_id, page_token="é" * 20),
        ps.ListParticipantsRequest(room_id=room.room_id, page_token="A" * 2000),
        # Another room's token.
        ps.ListParticipantsRequest(room_id=other.room_id, page_token=token),
        # The same room with another filter.
        ps.ListParticipantsRequest(room_id=room.room_id, page_token=token, role=PRESENTER),
        # Another list call's token.
        ps.ListParticipantsRequest(room_id=room.room_id, page_token=membership_token),
    ]
    for request in bad_requests:
        error = await expect_error(
            participants.ListParticipants(request), INVALID, "INVALID_PAGE_TOKEN"
        )
        assert error.metadata == {"field": "page_token"}
        assert error.fields == ["page_token"]

    # The genuine token still works, with the same filters.
    second = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=1, page_token=token)
    )
    assert [p.user_id for p in second.participants] == ["b"]
    # And a token made under a role filter works only under that filter.
    filtered = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=1, role=PRESENTER)
    )
    await expect_error(
        participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room.room_id, page_token=filtered.next_page_token)
        ),
        INVALID,
        "INVALID_PAGE_TOKEN",
    )


async def test_list_of_an_unknown_or_deleted_room(rooms: Rooms, participants: People) -> None:
    missing = unique("never")
    error = await expect_error(
        participants.ListParticipants(ps.ListParticipantsRequest(room_id=missing)),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    assert error.metadata == {"room_id": missing}
    room = await make_room(rooms, [person("a")])
    await delete(rooms, room.room_id)
    await expect_error(
        participants.ListParticipants(ps.ListParticipantsRequest(room_id=room.room_id)),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    error = await expect_error(
        participants.ListParticipants(ps.ListParticipantsRequest(room_id="")),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["room_id"]


# ---- GetParticipant -------------------------------------------------------------


async def test_get_participant(rooms: Rooms, participants: People, clock: ManualClock) -> None:
    room = await make_room(rooms, [person("host", PRESENTER)])
    clock.advance(timedelta(minutes=3))
    await add(participants, room.room_id, person("guest", CONSUMER))
    host = await participants.GetParticipant(
        ps.GetParticipantRequest(room_id=room.room_id, user_id="host")
    )
    assert host == pp.Participant(
        user_id="host", role=PRESENTER, create_time=ts(), update_time=ts()
    )
    guest = await participants.GetParticipant(
        ps.GetParticipantRequest(room_id=room.room_id, user_id="guest")
    )
    later = ts(timedelta(minutes=3))
    assert guest == pp.Participant(
        user_id="guest", role=CONSUMER, create_time=later, update_time=later
    )


async def test_get_participant_errors(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("host", PRESENTER)])
    error = await expect_error(
        participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room.room_id, user_id="stranger")
        ),
        NOT_FOUND,
        "PARTICIPANT_NOT_FOUND",
    )
    assert error.metadata == {"room_id": room.room_id, "user_id": "stranger"}

    missing = unique("never")
    error = await expect_error(
        participants.GetParticipant(ps.GetParticipantRequest(room_id=missing, user_id="host")),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    assert error.metadata == {"room_id": missing}

    error = await expect_error(
        participants.GetParticipant(ps.GetParticipantRequest(room_id=room.room_id, user_id="")),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["user_id"]

    await delete(rooms, room.room_id)
    await expect_error(
        participants.GetParticipant(ps.GetParticipantRequest(room_id=room.room_id, user_id="host")),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )


# ---- ListRoomsForParticipant ----------------------------------------------------


async def memberships_of(
    participants: People,
    user_id: str,
    page_size: int = 0,
    state: room_pb2.RoomState.ValueType = room_pb2.ROOM_STATE_UNSPECIFIED,
) -> tuple[list[list[str]], list[ps.RoomMembership]]:
    pages: list[list[str]] = []
    everything: list[ps.RoomMembership] = []
    token = ""
    while True:
        page = await participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(
                user_id=user_id, page_size=page_size, page_token=token, state=state
            )
        )
        pages.append([m.room.room_id for m in page.memberships])
        everything.extend(page.memberships)
        token = page.next_page_token
        if not token:
            return pages, everything
        assert len(pages) < 100, "paging does not end"


async def test_rooms_for_participant_soonest_first_with_role(
    rooms: Rooms, participants: People
) -> None:
    me = unique("me")
    later = await make_room(
        rooms, [person(me, CONSUMER)], start=timedelta(days=2), end=timedelta(days=3)
    )
    soon = await make_room(
        rooms, [person(me, PRESENTER)], start=timedelta(hours=1), end=timedelta(hours=2)
    )
    now = await make_room(
        rooms, [person("someone-else")], start=timedelta(0), end=timedelta(hours=5)
    )
    await add(participants, now.room_id, person(me, COLLABORATOR))
    # Rooms where the identity is not rostered (only a look-alike) do not count.
    await make_room(rooms, [person(me.upper()), person(me + "x")])

    _, found = await memberships_of(participants, me)
    assert [(m.room.room_id, m.role) for m in found] == [
        (now.room_id, COLLABORATOR),
        (soon.room_id, PRESENTER),
        (later.room_id, CONSUMER),
    ]
    by_id = {m.room.room_id: m for m in found}
    assert by_id[now.room_id].create_time == ts()
    assert by_id[now.room_id].room.participant_count == 2
    assert by_id[now.room_id].room.state == room_pb2.ROOM_STATE_OPEN
    assert by_id[soon.room_id].room.state == room_pb2.ROOM_STATE_SCHEDULED
    assert by_id[later.room_id].room == await rooms.GetRoom(
        rs.GetRoomRequest(room_id=later.room_id)
    )


async def test_rooms_for_participant_ties_on_valid_from_go_by_room_id(
    rooms: Rooms, participants: People
) -> None:
    me = unique("tie")
    made = [
        await make_room(rooms, [person(me)], start=timedelta(hours=1), end=timedelta(hours=2))
        for _ in range(4)
    ]
    pages, found = await memberships_of(participants, me, page_size=3)
    assert [m.room.room_id for m in found] == sorted(r.room_id for r in made)
    assert [len(p) for p in pages] == [3, 1]


async def test_rooms_for_participant_by_state_at_the_clock(
    rooms: Rooms, participants: People, clock: ManualClock
) -> None:
    me = unique("state")
    ended = await make_room(
        rooms, [person(me)], start=-timedelta(hours=1), end=timedelta(minutes=30)
    )
    open_ = await make_room(
        rooms, [person(me)], start=timedelta(minutes=10), end=timedelta(hours=2)
    )
    scheduled = await make_room(
        rooms, [person(me, PRESENTER)], start=timedelta(hours=3), end=timedelta(hours=5)
    )
    # At T0 the first is open, the other two scheduled.
    _, at_t0 = await memberships_of(participants, me, state=room_pb2.ROOM_STATE_SCHEDULED)
    assert [m.room.room_id for m in at_t0] == [open_.room_id, scheduled.room_id]

    clock.set(T0 + timedelta(hours=1))
    expectations = {
        room_pb2.ROOM_STATE_SCHEDULED: [scheduled.room_id],
        room_pb2.ROOM_STATE_OPEN: [open_.room_id],
        room_pb2.ROOM_STATE_ENDED: [ended.room_id],
        room_pb2.ROOM_STATE_UNSPECIFIED: [ended.room_id, open_.room_id, scheduled.room_id],
    }
    for state, expected in expectations.items():
        _, found = await memberships_of(participants, me, state=state)
        assert [m.room.room_id for m in found] == expected, state
        if state != room_pb2.ROOM_STATE_UNSPECIFIED:
            assert all(m.room.state == state for m in found)

    # Exactly at valid_until the room has ended; exactly at valid_from it is open.
    clock.set(T0 + timedelta(hours=3))
    _, found = await memberships_of(participants, me, state=room_pb2.ROOM_STATE_OPEN)
    assert [m.room.room_id for m in found] == [scheduled.room_id]
    clock.set(T0 + timedelta(hours=2))
    _, found = await memberships_of(participants, me, state=room_pb2.ROOM_STATE_ENDED)
    assert [m.room.room_id for m in found] == [ended.room_id, open_.room_id]

    error = await expect_error(
        participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=me, state=room_pb2.RoomState.ValueType(9))
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["state"]


async def test_rooms_for_participant_paging_and_deleted_rooms(
    rooms: Rooms, participants: People
) -> None:
    me = unique("pager")
    made = [
        await make_room(rooms, [person(me)], start=timedelta(hours=i), end=timedelta(hours=i + 1))
        for i in (4, 0, 3, 1, 2)
    ]
    expected = [r.room_id for r in sorted(made, key=lambda r: r.valid_from.ToDatetime())]
    pages, found = await memberships_of(participants, me, page_size=2)
    assert pages == [expected[0:2], expected[2:4], expected[4:]]
    assert [m.room.room_id for m in found] == expected

    # A deleted room is not listed; neither is one the identity was removed from.
    await delete(rooms, expected[1])
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=expected[3], user_ids=[me])
    )
    _, found = await memberships_of(participants, me, page_size=1)
    assert [m.room.room_id for m in found] == [expected[0], expected[2], expected[4]]


async def test_rooms_for_participant_rejects_bad_page_tokens(
    rooms: Rooms, participants: People
) -> None:
    me = unique("tok")
    other = unique("tok-other")
    for hours in (1, 2, 3):
        await make_room(
            rooms,
            [person(me), person(other)],
            start=timedelta(hours=hours),
            end=timedelta(hours=hours + 1),
        )
    first = await participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=me, page_size=1)
    )
    token = first.next_page_token
    assert token
    room = first.memberships[0].room
    participant_token = (
        await participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room.room_id, page_size=1)
        )
    ).next_page_token
    assert participant_token

    bad_requests = [
        ps.ListRoomsForParticipantRequest(user_id=me, page_token=tampered(token)),
        ps.ListRoomsForParticipantRequest(user_id=me, page_token="not a token"),
        # Another identity's token.
        ps.ListRoomsForParticipantRequest(user_id=other, page_token=token),
        # Another filter.
        ps.ListRoomsForParticipantRequest(
            user_id=me, page_token=token, state=room_pb2.ROOM_STATE_SCHEDULED
        ),
        # Another list call's token.
        ps.ListRoomsForParticipantRequest(user_id=me, page_token=participant_token),
    ]
    for request in bad_requests:
        error = await expect_error(
            participants.ListRoomsForParticipant(request), INVALID, "INVALID_PAGE_TOKEN"
        )
        assert error.fields == ["page_token"]

    rest = await participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=me, page_size=5, page_token=token)
    )
    assert len(rest.memberships) == 2
    assert rest.next_page_token == ""


@pytest.mark.parametrize("bad_id", ["", "two words", "x" * 257, "ctl\x01"])
async def test_rooms_for_participant_rejects_a_malformed_identity(
    participants: People, bad_id: str
) -> None:
    error = await expect_error(
        participants.ListRoomsForParticipant(ps.ListRoomsForParticipantRequest(user_id=bad_id)),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["user_id"]
    assert error.metadata["field"] == "user_id"


async def test_rooms_for_participant_page_size_rules(participants: People) -> None:
    error = await expect_error(
        participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id="anyone", page_size=-5)
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["page_size"]
    nobody = await participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=unique("nobody"))
    )
    assert list(nobody.memberships) == []
    assert nobody.next_page_token == ""
