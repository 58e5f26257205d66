"""UpdateRoom's read-decide-write loop (service/usecases/rooms.py) when the room changes
between the read and the write, on PostgreSQL: another writer steps in between."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.models import JoinPolicy, Room, RoomSettings
from service.storage.repository import PgRoomStore
from service.usecases.deps import UPDATE_ATTEMPTS
from tests.integration.usecases import Service, create, service


class ChangedBetween(PgRoomStore):
    """A store where another writer changes the room (its metadata) just before
    each of the first `times` writes of UpdateRoom."""

    def __init__(self, pool: asyncpg.Pool, times: int) -> None:
        super().__init__(pool)
        self.times = times
        self.writes = 0

    async def update_room(self, **write: Any) -> Room | None:
        self.writes += 1
        if self.writes <= self.times:
            current = await self.get_room(tenant=write["tenant"], room_id=write["room_id"])
            assert current is not None
            other = {"metadata": {"other": str(self.writes)}}
            await super().update_room(
                **{**write, "expected_version": current.version, "changes": other, "actor": "x"}
            )
        return await super().update_room(**write)


def changed(pool: asyncpg.Pool, times: int) -> tuple[ChangedBetween, Service]:
    store = ChangedBetween(pool, times)
    return store, service(pool, store)


async def update(service: Service, etag: str = "") -> Room:
    return await service.usecases.rooms.update_room(
        service.caller,
        "r1",
        etag,
        RoomSettings(join_policy=JoinPolicy.OPEN),
        ["join_policy"],
        [],
    )


async def test_a_change_between_read_and_write_is_applied_again_on_top(pool: asyncpg.Pool) -> None:
    store, svc = changed(pool, times=1)
    await create(svc, "r1")
    updated = await update(svc)
    assert store.writes == 2
    # Both changes hold: the other writer's, then ours on top of it.
    assert updated.join_policy is JoinPolicy.OPEN
    assert updated.metadata == {"other": "1"}
    assert (updated.version, updated.etag) == (3, '"3"')
    assert await svc.usecases.rooms.get_room(svc.caller, "r1") == updated


async def test_with_an_etag_a_change_between_is_a_mismatch_naming_the_new_etag(
    pool: asyncpg.Pool,
) -> None:
    store, svc = changed(pool, times=1)
    await create(svc, "r1")
    with pytest.raises(DomainError) as raised:
        await update(svc, etag='"1"')
    assert raised.value.reason is ErrorReason.ETAG_MISMATCH
    assert raised.value.metadata == {"room_id": "r1", "etag": '"2"'}
    assert store.writes == 1
    room = await svc.usecases.rooms.get_room(svc.caller, "r1")
    assert room.join_policy is JoinPolicy.INVITE_ONLY


async def test_a_stale_etag_is_refused_before_any_write(pool: asyncpg.Pool) -> None:
    store, svc = changed(pool, times=0)
    await create(svc, "r1")
    await update(svc)
    with pytest.raises(DomainError) as raised:
        await update(svc, etag='"1"')
    assert raised.value.metadata == {"room_id": "r1", "etag": '"2"'}
    assert store.writes == 1


async def test_a_room_changing_on_every_attempt_gives_up_after_the_last(pool: asyncpg.Pool) -> None:
    store, svc = changed(pool, times=UPDATE_ATTEMPTS)
    await create(svc, "r1")
    with pytest.raises(DomainError) as raised:
        await update(svc)
    assert raised.value.reason is ErrorReason.ETAG_MISMATCH
    assert raised.value.metadata == {"room_id": "r1"}
    assert "changing too often" in raised.value.message
    assert store.writes == UPDATE_ATTEMPTS
    # One attempt fewer of interference, and the last attempt succeeds.
    store, svc = changed(pool, times=UPDATE_ATTEMPTS - 1)
    await create(svc, "r1")
    assert (await update(svc)).version == UPDATE_ATTEMPTS + 1


async def test_nothing_to_change_writes_nothing(pool: asyncpg.Pool) -> None:
    store, svc = changed(pool, times=0)
    await create(svc, "r1")
    room = await svc.usecases.rooms.update_room(svc.caller, "r1", '"1"', RoomSettings(), [], [])
    assert room.version == 1
    assert store.writes == 0


async def test_a_room_deleted_between_read_and_write_is_not_found(pool: asyncpg.Pool) -> None:
    class DeletedBetween(PgRoomStore):
        async def update_room(self, **arguments: Any) -> Room | None:
            await self.delete_room(
                tenant=arguments["tenant"],
                room_id=arguments["room_id"],
                expected_version=None,
                now=arguments["now"],
                actor="other",
            )
            return await super().update_room(**arguments)

    svc = service(pool, DeletedBetween(pool))
    await create(svc, "r1")
    with pytest.raises(DomainError) as raised:
        await update(svc)
    assert raised.value.reason is ErrorReason.ROOM_NOT_FOUND
