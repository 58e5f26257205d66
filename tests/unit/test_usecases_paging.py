"""Every List use case followed across its pages on the memory store: each item once,
in the list's order, with filters kept from page to page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.events import EventType
from service.domain.models import JoinPolicy, Page, Role, RoomState, RosterEntry
from service.domain.waiting_room import Knock, KnockState
from tests.conftest import T0
from tests.unit.memory_service import CALLER, create, every_page, service

HOUR = timedelta(hours=1)


def sizes(pages: Sequence[Sequence[object]]) -> list[int]:
    return [len(page) for page in pages]


async def test_list_rooms_by_state_across_pages() -> None:
    memory = service()
    # Seven open rooms, two of them created at the same instant, and three scheduled.
    for index in range(7):
        if index != 4:
            memory.clock.advance(timedelta(seconds=1))
        await create(memory, f"open-{index}")
    for index in range(3):
        await create(memory, f"soon-{index}", valid_from=T0 + HOUR, valid_until=T0 + 2 * HOUR)
    use = memory.usecases
    pages = await every_page(lambda n, token: use.rooms.list_rooms(CALLER, n, token, None), 3)
    assert sizes(pages) == [3, 3, 3, 1]
    newest_first = ["soon-2", "soon-1", "soon-0", *(f"open-{i}" for i in (6, 5, 4, 3, 2, 1, 0))]
    assert [room.room_id for page in pages for room in page] == newest_first
    pages = await every_page(
        lambda n, token: use.rooms.list_rooms(CALLER, n, token, RoomState.OPEN), 2
    )
    assert sizes(pages) == [2, 2, 2, 1]
    assert [r.room_id for page in pages for r in page] == newest_first[3:]
    # A token belongs to its filter.
    first = await use.rooms.list_rooms(CALLER, 2, "", RoomState.OPEN)
    with pytest.raises(DomainError) as raised:
        await use.rooms.list_rooms(CALLER, 2, first.next_page_token, RoomState.SCHEDULED)
    assert raised.value.reason is ErrorReason.INVALID_PAGE_TOKEN


async def test_list_participants_by_role_across_pages() -> None:
    memory = service()
    roles = [Role.PRESENTER, Role.ATTENDEE]
    await create(memory, "r1", [RosterEntry(f"u{i:02}", roles[i % 2]) for i in range(11)])
    use = memory.usecases
    pages = await every_page(
        lambda n, token: use.participants.list_participants(CALLER, "r1", n, token, None), 4
    )
    assert sizes(pages) == [4, 4, 3]
    assert [p.user_id for page in pages for p in page] == [f"u{i:02}" for i in range(11)]
    pages = await every_page(
        lambda n, token: use.participants.list_participants(CALLER, "r1", n, token, Role.PRESENTER),
        2,
    )
    assert sizes(pages) == [2, 2, 2]
    assert [p.user_id for page in pages for p in page] == [f"u{i:02}" for i in range(0, 11, 2)]


async def test_list_rooms_for_participant_across_pages() -> None:
    memory = service()
    amy = [RosterEntry("amy")]
    for index in range(5):
        await create(memory, f"r{index}", amy, valid_from=T0 - HOUR * (index + 1))
    await create(memory, "later-a", amy, valid_from=T0 + HOUR, valid_until=T0 + 2 * HOUR)
    await create(memory, "later-b", amy, valid_from=T0 + HOUR, valid_until=T0 + 2 * HOUR)
    await create(memory, "other", [RosterEntry("bob")])
    use = memory.usecases
    pages = await every_page(
        lambda n, token: use.participants.list_rooms_for_participant(CALLER, "amy", n, token, None),
        3,
    )
    assert sizes(pages) == [3, 3, 1]
    assert [m.room.room_id for page in pages for m in page] == [
        "r4",
        "r3",
        "r2",
        "r1",
        "r0",
        "later-a",
        "later-b",
    ]
    pages = await every_page(
        lambda n, token: use.participants.list_rooms_for_participant(
            CALLER, "amy", n, token, RoomState.SCHEDULED
        ),
        1,
    )
    assert [m.room.room_id for page in pages for m in page] == ["later-a", "later-b"]


async def test_list_room_events_both_ways_and_by_type_across_pages() -> None:
    memory = service()
    await create(memory, "r1", [RosterEntry(f"u{i}") for i in range(6)])  # revisions 1..7
    await memory.usecases.participants.remove_participants(CALLER, "r1", ["u0", "u1"], "")  # 8, 9
    use = memory.usecases

    async def revisions(newest_first: bool, types: list[EventType], size: int) -> list[int]:
        pages = await every_page(
            lambda n, token: use.history.list_room_events(
                CALLER, "r1", n, token, newest_first, types
            ),
            size,
        )
        assert all(len(page) == size for page in pages[:-1])
        return [event.revision for page in pages for event in page]

    assert await revisions(False, [], 4) == list(range(1, 10))
    assert await revisions(True, [], 4) == list(range(9, 0, -1))
    added = [EventType.PARTICIPANT_ADDED]
    assert await revisions(False, added, 4) == list(range(2, 8))
    assert await revisions(True, [EventType.CREATED, EventType.PARTICIPANT_REMOVED], 1) == [
        9,
        8,
        1,
    ]


async def test_list_knocks_across_pages_with_the_queues_etag() -> None:
    memory = service()
    await create(memory, "r1", waiting_room_enabled=True, join_policy=JoinPolicy.OPEN)
    use = memory.usecases
    for index in range(5):
        memory.clock.advance(timedelta(seconds=1))
        decision, _ = await use.admission.authorize_join(CALLER, "r1", f"g{index}")
        assert not decision.allowed
    await use.waiting_room.decide_knock(CALLER, "r1", "g3", KnockState.DENIED, None, "")
    etags = set()

    async def waiting(n: int, token: str) -> Page[Knock]:
        page, etag = await use.waiting_room.list_knocks(CALLER, "r1", n, token, KnockState.WAITING)
        etags.add(etag)
        return page

    pages = await every_page(waiting, 2)
    assert [k.user_id for page in pages for k in page] == ["g0", "g1", "g2", "g4"]
    # Knocks leave the version alone; the denial moved it.
    assert etags == {'"2"'}


async def test_list_seats_across_pages() -> None:
    memory = service()
    await create(memory, "r1", join_policy=JoinPolicy.OPEN)
    use = memory.usecases
    for index in range(5):
        memory.clock.advance(timedelta(seconds=1))
        decision, _ = await use.admission.authorize_join(CALLER, "r1", f"u{index}", claim_seat=True)
        assert decision.seat is not None
    pages = await every_page(lambda n, token: use.seats.list_seats(CALLER, "r1", n, token), 2)
    assert sizes(pages) == [2, 2, 1]
    assert [s.user_id for page in pages for s in page] == [f"u{i}" for i in range(5)]
