"""UpdateRoom's read-decide-write loop (service/usecases/rooms.py) when the room changes
between the read and the write: on the memory store, in milliseconds."""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.models import JoinPolicy, Room, RoomSettings
from service.storage.memory import MemoryRoomStore
from service.usecases.deps import UPDATE_ATTEMPTS
from tests.unit.memory_service import CALLER, Service, create, service


class ChangedBetween(MemoryRoomStore):
    """A memory store where another writer changes the room (its metadata) just before
    each of the first `times` writes of UpdateRoom."""

    def __init__(self, times: int) -> None:
        super().__init__()
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


def changed(times: int) -> tuple[ChangedBetween, Service]:
    store = ChangedBetween(times)
    return store, service(store)


async def update(service: Service, etag: str = "") -> Room:
    return await service.usecases.rooms.update_room(
        CALLER,
        "r1",
        etag,
        RoomSettings(join_policy=JoinPolicy.OPEN),
        ["join_policy"],
        [],
    )


async def test_a_change_between_read_and_write_is_applied_again_on_top() -> None:
    store, memory = changed(times=1)
    await create(memory, "r1")
    updated = await update(memory)
    assert store.writes == 2
    # Both changes hold: the other writer's, then ours on top of it.
    assert updated.join_policy is JoinPolicy.OPEN
    assert updated.metadata == {"other": "1"}
    assert (updated.version, updated.etag) == (3, '"3"')
    assert await memory.usecases.rooms.get_room(CALLER, "r1") == updated


async def test_with_an_etag_a_change_between_is_a_mismatch_naming_the_new_etag() -> None:
    store, memory = changed(times=1)
    await create(memory, "r1")
    with pytest.raises(DomainError) as raised:
        await update(memory, etag='"1"')
    assert raised.value.reason is ErrorReason.ETAG_MISMATCH
    assert raised.value.metadata == {"room_id": "r1", "etag": '"2"'}
    assert store.writes == 1
    room = await memory.usecases.rooms.get_room(CALLER, "r1")
    assert room.join_policy is JoinPolicy.INVITE_ONLY


async def test_a_stale_etag_is_refused_before_any_write() -> None:
    store, memory = changed(times=0)
    await create(memory, "r1")
    await update(memory)
    with pytest.raises(DomainError) as raised:
        await update(memory, etag='"1"')
    assert raised.value.metadata == {"room_id": "r1", "etag": '"2"'}
    assert store.writes == 1


async def test_a_room_changing_on_every_attempt_gives_up_after_the_last() -> None:
    store, memory = changed(times=UPDATE_ATTEMPTS)
    await create(memory, "r1")
    with pytest.raises(DomainError) as raised:
        await update(memory)
    assert raised.value.reason is ErrorReason.ETAG_MISMATCH
    assert raised.value.metadata == {"room_id": "r1"}
    assert "changing too often" in raised.value.message
    assert store.writes == UPDATE_ATTEMPTS
    # One attempt fewer of interference, and the last attempt succeeds.
    store, memory = changed(times=UPDATE_ATTEMPTS - 1)
    await create(memory, "r1")
    assert (await update(memory)).version == UPDATE_ATTEMPTS + 1


async def test_nothing_to_change_writes_nothing() -> None:
    store, memory = changed(times=0)
    await create(memory, "r1")
    room = await memory.usecases.rooms.update_room(CALLER, "r1", '"1"', RoomSettings(), [], [])
    assert room.version == 1
    assert store.writes == 0


async def test_a_room_deleted_between_read_and_write_is_not_found() -> None:
    class DeletedBetween(MemoryRoomStore):
        async def update_room(self, **arguments: Any) -> Room | None:
            await self.delete_room(
                tenant=arguments["tenant"],
                room_id=arguments["room_id"],
                expected_version=None,
                now=arguments["now"],
                actor="other",
            )
            return await super().update_room(**arguments)

    memory = service(DeletedBetween())
    await create(memory, "r1")
    with pytest.raises(DomainError) as raised:
        await update(memory)
    assert raised.value.reason is ErrorReason.ROOM_NOT_FOUND
