"""Primary-key reads that arrive while one is in flight share one statement
(service/storage/reads.py), each caller gets its own answer, and a read that starts
after a write was acknowledged sees the write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.models import JoinPolicy, NewRoom, Role, RosterEntry
from service.storage.db import create_pool
from service.storage.repository import PgRoomStore
from tests.shared.statements import StatementLog

NOW = datetime(2030, 1, 1, tzinfo=UTC)
TENANT = "coalesced-reads"


def new_room(room_id: str) -> NewRoom:
    return NewRoom(
        room_id=room_id,
        valid_from=NOW - timedelta(hours=1),
        valid_until=NOW + timedelta(hours=1),
        pstn_dial_out_enabled=False,
        join_policy=JoinPolicy.OPEN,
        metadata={"n": room_id},
        open_join_role=Role.ATTENDEE,
        early_entry=timedelta(0),
    )


@pytest.fixture
async def recorded(database_url: str) -> AsyncIterator[tuple[PgRoomStore, StatementLog]]:
    log = StatementLog()
    pool = await create_pool(
        database_url, min_size=1, max_size=4, connection_class=log.connection_class()
    )
    try:
        yield PgRoomStore(pool), log
    finally:
        await pool.close()


def reads(log: StatementLog) -> list[str]:
    return [s.query for s in log.statements if s.query.lstrip().startswith("SELECT")]


async def test_reads_queued_behind_one_in_flight_go_as_one_statement(
    recorded: tuple[PgRoomStore, StatementLog],
) -> None:
    store, log = recorded
    ids = [f"batch-{i}" for i in range(20)]
    for i, room_id in enumerate(ids):
        await store.create_room(
            tenant=TENANT,
            room=new_room(room_id),
            roster=[RosterEntry(f"user-{i}", Role.PRESENTER)],
            now=NOW,
            idempotency_key="",
            request_hash="",
            actor="test",
        )
    log.statements.clear()
    # Started together: the first goes at once, alone; the others queue behind it and
    # go as ONE statement when it answers.
    asked = [(room_id, f"user-{i}") for i, room_id in enumerate(ids)]
    asked += [("batch-0", "user-0"), ("batch-1", "stranger"), ("missing", "user-0")]
    answers = await asyncio.gather(
        *(store.get_join_facts(tenant=TENANT, room_id=r, user_id=u) for r, u in asked)
    )
    assert len(reads(log)) == 2
    assert "unnest" in reads(log)[1]
    for (room_id, user_id), (room, participant, knock, removal, _) in zip(
        asked, answers, strict=True
    ):
        if room_id == "missing":
            assert room is None and participant is None
            continue
        assert room is not None and room.room_id == room_id
        assert room.metadata == {"n": room_id}
        if user_id == "stranger":
            assert participant is None
        else:
            assert participant is not None and participant.user_id == user_id
        assert knock is None and removal is None
    log.statements.clear()
    rooms = await asyncio.gather(
        *(store.get_room(tenant=TENANT, room_id=r) for r in [*ids, "missing"])
    )
    assert [room.room_id if room else None for room in rooms] == [*ids, None]
    assert len(reads(log)) == 2 and "ANY" in reads(log)[1]


async def test_a_read_started_after_a_write_was_acknowledged_sees_it(
    recorded: tuple[PgRoomStore, StatementLog], database_url: str
) -> None:
    store, _ = recorded
    await store.create_room(
        tenant=TENANT,
        room=new_room("ryw"),
        roster=[],
        now=NOW,
        idempotency_key="",
        request_hash="",
        actor="test",
    )
    blocker = await asyncpg.connect(database_url)
    try:
        # A read that is held in flight (the table is locked), so that the reads below
        # queue behind it.
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE rooms IN ACCESS EXCLUSIVE MODE")
        # Started now, they run at the next await below: the first is sent and waits
        # for the lock, the second queues behind it.
        held = asyncio.ensure_future(
            store.get_join_facts(tenant=TENANT, room_id="ryw", user_id="ann")
        )
        before = asyncio.ensure_future(
            store.get_join_facts(tenant=TENANT, room_id="ryw", user_id="ann")
        )
        # The write commits (and so is acknowledged) while those reads wait.
        await blocker.execute(
            "INSERT INTO participants (tenant, room_id, user_id, role, create_time,"
            " update_time) VALUES ($1, 'ryw', 'ann', 'attendee', $2, $2)",
            TENANT,
            NOW,
        )
        # As the store writes a roster change: the room's count with it.
        await blocker.execute(
            "UPDATE rooms SET participant_count = participant_count + 1"
            " WHERE tenant = $1 AND room_id = 'ryw'",
            TENANT,
        )
        await transaction.commit()
        after = await store.get_join_facts(tenant=TENANT, room_id="ryw", user_id="ann")
        assert after[1] is not None and after[1].user_id == "ann"
        await held
        await before
    finally:
        await blocker.close()


async def test_a_failure_reaches_every_queued_read_as_a_domain_error(
    recorded: tuple[PgRoomStore, StatementLog],
) -> None:
    store, _ = recorded
    pool = store._pool  # the store's own pool, closed under it
    await pool.close()
    with pytest.raises(DomainError) as caught:
        await store.get_room(tenant=TENANT, room_id="anything")
    assert caught.value.reason in (ErrorReason.DATABASE_UNAVAILABLE, ErrorReason.TIMEOUT)
