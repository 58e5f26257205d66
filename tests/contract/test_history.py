"""The contract of a room's history: its span, reading forwards and newest first with
a type filter, the lifecycle's transitions, and retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from service.domain.events import SYSTEM_ACTOR, EventType
from service.domain.models import Role, RoomState, RosterEntry
from tests.conftest import T0
from tests.contract.conftest import ACTOR, Subject

HOUR = timedelta(hours=1)


async def test_history_spans_and_reads(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    assert await store.history(tenant=tenant, room_id="nope") is None
    roster = [RosterEntry(f"u{i}") for i in range(4)]
    await subject.create("r1", roster)
    await store.remove_participants(
        tenant=tenant,
        room_id="r1",
        user_ids=["u1"],
        expected_version=None,
        now=T0,
        actor=ACTOR,
    )
    history = await store.history(tenant=tenant, room_id="r1")
    assert history is not None
    assert (history.deleted, history.oldest, history.latest) == (False, 1, 6)

    async def revisions(after: int, limit: int = 100, **kwargs: Any) -> list[int]:
        found = await store.read_events(
            tenant=tenant, room_id="r1", after=after, limit=limit, **kwargs
        )
        return [e.revision for e in found]

    assert await revisions(0) == [1, 2, 3, 4, 5, 6]
    assert await revisions(2, limit=2) == [3, 4]
    assert await revisions(6) == []
    assert await revisions(7, newest_first=True) == [6, 5, 4, 3, 2, 1]
    assert await revisions(4, limit=2, newest_first=True) == [3, 2]
    added = (EventType.PARTICIPANT_ADDED,)
    assert await revisions(0, types=added) == [2, 3, 4, 5]
    assert await revisions(3, limit=1, types=added) == [4]
    both = (EventType.CREATED, EventType.PARTICIPANT_REMOVED)
    assert await revisions(7, newest_first=True, types=both) == [6, 1]
    assert await revisions(6, newest_first=True, types=both) == [1]
    assert await store.read_events(tenant=tenant + "-x", room_id="r1", after=0, limit=10) == []
    [removed] = await store.read_events(
        tenant=tenant, room_id="r1", after=5, limit=10, types=(EventType.PARTICIPANT_REMOVED,)
    )
    assert (removed.user_id, removed.previous_role) == ("u1", Role.ATTENDEE)


async def test_transitions_are_numbered_after_the_writers_events(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    soon: dict[str, Any] = {"valid_from": T0 + HOUR, "valid_until": T0 + 2 * HOUR}
    await subject.create("r1", **soon)
    await subject.create("r2", **soon)
    assert await subject.announce(tenant, ["r1", "r2"], T0) == 0
    assert await subject.announce(tenant, ["r1"], T0 + HOUR) == 1
    # Both transitions at once, each at the bound it marks.
    assert await subject.announce(tenant, ["r1", "r2"], T0 + 3 * HOUR) == 2
    assert await subject.announce(tenant, ["r1", "r2"], T0 + 3 * HOUR) == 0
    for room_id, expected in (
        ("r1", [(2, EventType.OPENED, T0 + HOUR), (3, EventType.ENDED, T0 + 2 * HOUR)]),
        ("r2", [(2, EventType.OPENED, T0 + HOUR), (3, EventType.ENDED, T0 + 2 * HOUR)]),
    ):
        found = await store.read_events(tenant=tenant, room_id=room_id, after=1, limit=10)
        assert [(e.revision, e.type, e.event_time) for e in found] == expected
        assert {e.actor for e in found} == {SYSTEM_ACTOR}
        room = await store.get_room(tenant=tenant, room_id=room_id)
        # Transitions number events but leave the version (the etag) alone.
        assert room is not None and (room.version, room.last_event_revision) == (1, 3)
    # A window moved later is announced again when it ends again.
    updated = await store.update_room(
        tenant=tenant,
        room_id="r1",
        expected_version=1,
        changes={"valid_until": T0 + 5 * HOUR},
        state=RoomState.OPEN,  # the window moved later: open again
        now=T0 + 3 * HOUR,
        actor=ACTOR,
    )
    assert updated is not None and updated.last_event_revision == 4
    assert await subject.announce(tenant, ["r1"], T0 + 4 * HOUR) == 0
    assert await subject.announce(tenant, ["r1"], T0 + 5 * HOUR) == 1
    found = await store.read_events(tenant=tenant, room_id="r1", after=4, limit=10)
    assert [(e.revision, e.type, e.event_time) for e in found] == [
        (5, EventType.ENDED, T0 + 5 * HOUR)
    ]


async def test_retention_keeps_a_suffix_of_the_history(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1", [RosterEntry("a"), RosterEntry("b")])
    await store.remove_participants(
        tenant=tenant,
        room_id="r1",
        user_ids=["a"],
        expected_version=None,
        now=T0 + HOUR,
        actor=ACTOR,
    )
    # Only events written before the bound go, up to the revision given.
    assert await subject.purge_events(tenant, "r1", 4, T0 + HOUR) == 3
    history = await store.history(tenant=tenant, room_id="r1")
    assert history is not None and (history.oldest, history.latest) == (4, 4)
    found = await store.read_events(tenant=tenant, room_id="r1", after=0, limit=10)
    assert [e.revision for e in found] == [4]
    assert await subject.purge_events(tenant, "r1", 4, T0 + 2 * HOUR) == 1
    history = await store.history(tenant=tenant, room_id="r1")
    # Nothing retained: oldest is one past the latest.
    assert history is not None and (history.oldest, history.latest) == (5, 4)
