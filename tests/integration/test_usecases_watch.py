"""WatchRoom (service/usecases/history.py) on PostgreSQL: catching up in batches,
resuming, history too old, a watcher too slow, live events woken by NOTIFY (the EventHub),
and the end at DELETED. Nothing waits on the poll interval: writes wake the watcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.events import EventType, RoomEvent
from service.domain.models import RosterEntry
from service.storage import history
from service.storage.notify import EventHub
from service.storage.transaction import tenant_transaction
from tests.conftest import T0
from tests.integration.usecases import Service, create, service

FOUR = [RosterEntry(f"u{i}") for i in range(4)]  # with CREATED: revisions 1..5


@pytest.fixture(scope="module")
async def hub(database_url: str) -> AsyncIterator[EventHub]:
    """What wakes the watchers: one LISTEN connection, as a server has."""
    hub = EventHub(database_url)
    await hub.start()
    yield hub
    await hub.stop()


async def purge(pool: asyncpg.Pool, svc: Service, up_to: int, before: datetime) -> None:
    """The lifecycle's retention step for room r1: its events up to `up_to`."""
    async with tenant_transaction(pool, svc.caller.tenant) as tx:
        await history.purge_events(tx, [history.OldEvents(svc.caller.tenant, "r1", up_to)], before)


async def taken(stream: AsyncIterator[RoomEvent], count: int) -> list[int]:
    return [(await anext(stream)).revision for _ in range(count)]


async def refusal(svc: Service, after: int) -> DomainError:
    with pytest.raises(DomainError) as raised:
        await anext(svc.usecases.history.watch_room(svc.caller, "r1", after))
    return raised.value


async def test_catch_up_in_batches_then_live_events_until_deleted(
    pool: asyncpg.Pool, hub: EventHub
) -> None:
    # Polling only hourly: what arrives in time was woken by the writer's notification.
    svc = service(pool, notifier=hub, watch_batch_size=2, watch_poll_interval=timedelta(hours=1))
    await create(svc, "r1", FOUR)
    stream = svc.usecases.history.watch_room(svc.caller, "r1", 0)
    assert await taken(stream, 5) == [1, 2, 3, 4, 5]
    # Caught up: the next event arrives when a writer wakes the watcher.
    waiting = asyncio.ensure_future(anext(stream))
    await svc.usecases.participants.remove_participants(svc.caller, "r1", ["u0"], "")
    live = await asyncio.wait_for(waiting, timeout=5)
    assert (live.revision, live.type, live.user_id) == (6, EventType.PARTICIPANT_REMOVED, "u0")
    waiting = asyncio.ensure_future(anext(stream))
    await svc.usecases.rooms.delete_room(svc.caller, "r1", "")
    last = await asyncio.wait_for(waiting, timeout=5)
    assert (last.revision, last.type) == (7, EventType.DELETED)
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_resume_after_a_revision(pool: asyncpg.Pool, hub: EventHub) -> None:
    svc = service(pool, notifier=hub)
    await create(svc, "r1", FOUR)
    assert await taken(svc.usecases.history.watch_room(svc.caller, "r1", 3), 2) == [4, 5]


async def test_a_deleted_rooms_history_is_read_to_its_end(
    pool: asyncpg.Pool, hub: EventHub
) -> None:
    svc = service(pool, notifier=hub)
    await create(svc, "r1", FOUR)
    await svc.usecases.rooms.delete_room(svc.caller, "r1", "")
    assert [e.revision async for e in svc.usecases.history.watch_room(svc.caller, "r1", 0)] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    assert [e.revision async for e in svc.usecases.history.watch_room(svc.caller, "r1", 4)] == [
        5,
        6,
    ]
    assert [e async for e in svc.usecases.history.watch_room(svc.caller, "r1", 6)] == []


async def test_a_revision_ahead_of_the_history_or_unknown_room_is_refused(
    pool: asyncpg.Pool, hub: EventHub
) -> None:
    svc = service(pool, notifier=hub)
    with pytest.raises(DomainError) as raised:
        await anext(svc.usecases.history.watch_room(svc.caller, "r1", 0))
    assert raised.value.reason is ErrorReason.ROOM_NOT_FOUND
    await create(svc, "r1", FOUR)
    ahead = await refusal(svc, 6)
    assert ahead.reason is ErrorReason.INVALID_ARGUMENT
    assert "latest revision 5" in ahead.message


async def test_history_past_retention(pool: asyncpg.Pool, hub: EventHub) -> None:
    svc = service(pool, notifier=hub)
    await create(svc, "r1", FOUR)
    svc.clock.advance(timedelta(hours=1))
    await purge(pool, svc, 3, svc.clock.now())
    # Resuming after a purged revision: too old, naming the oldest one kept.
    expired = await refusal(svc, 1)
    assert expired.reason is ErrorReason.REVISION_EXPIRED
    assert expired.metadata == {"room_id": "r1", "oldest_revision": "4"}
    # Right before the oldest kept, and 0 ("all that is kept"), both start there.
    assert await taken(svc.usecases.history.watch_room(svc.caller, "r1", 3), 2) == [4, 5]
    assert await taken(svc.usecases.history.watch_room(svc.caller, "r1", 0), 2) == [4, 5]


async def test_events_purged_while_catching_up_end_the_stream(
    pool: asyncpg.Pool, hub: EventHub
) -> None:
    svc = service(pool, notifier=hub, watch_batch_size=2)
    await create(svc, "r1", FOUR)
    stream = svc.usecases.history.watch_room(svc.caller, "r1", 0)
    assert await taken(stream, 2) == [1, 2]
    await purge(pool, svc, 4, T0 + timedelta(days=1))
    with pytest.raises(DomainError) as raised:
        await anext(stream)
    assert raised.value.reason is ErrorReason.REVISION_EXPIRED
    assert raised.value.metadata["oldest_revision"] == "5"


async def test_a_watcher_too_far_behind_is_told_where_to_resume(
    pool: asyncpg.Pool, hub: EventHub
) -> None:
    svc = service(pool, notifier=hub, watch_batch_size=2, watch_max_lag=2)
    await create(svc, "r1", FOUR)
    stream = svc.usecases.history.watch_room(svc.caller, "r1", 0)
    assert await taken(stream, 2) == [1, 2]
    with pytest.raises(DomainError) as raised:
        await anext(stream)
    assert raised.value.reason is ErrorReason.WATCH_TOO_SLOW
    assert raised.value.metadata == {
        "room_id": "r1",
        "last_revision": "2",
        "latest_revision": "5",
    }
