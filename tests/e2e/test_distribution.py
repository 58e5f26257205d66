"""The rules that let the service run on a distributed PostgreSQL (Citus, sharded by
tenant; docs/scaling.md), proven on plain PostgreSQL: no triggers; NOTIFY only after
the commit, outside any transaction; every transaction and every locking statement on
one tenant's rows (the lifecycle included); no session-level locks.

A real server runs with a pool whose connections record every statement
(tests/statements.py); PostgreSQL's own EXPLAIN says which tenants each one touches.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2
from rooms.v1 import (
    credentials_pb2,
    credentials_service_pb2,
    credentials_service_pb2_grpc,
    room_pb2,
    webhooks_service_pb2,
)
from rooms.v1 import events_pb2 as ev
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

import service.database
from service.domain.clock import ManualClock
from service.security.keys import new_key
from service.server import RunningServer
from service.storage.db import create_pool
from service.storage.history import LIFECYCLE_LOCK_KEY
from service.storage.notify import CHANNEL
from tests.conftest import T0, ServerFactory
from tests.shared.calls import connect, ts
from tests.shared.errors import expect_error
from tests.shared.statements import StatementLog, check_statements

if TYPE_CHECKING:
    from rooms.v1.credentials_service_pb2_grpc import CredentialsServiceAsyncStub


async def test_the_schema_has_no_triggers_and_no_notifying_functions(
    pool: asyncpg.Pool,
) -> None:
    triggers = await pool.fetch(
        """SELECT tgrelid::regclass::text AS on_table, tgname FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace"""
    )
    assert [tuple(row) for row in triggers] == []
    notifying = await pool.fetch(
        """SELECT proname FROM pg_proc
           WHERE pronamespace = 'public'::regnamespace AND prosrc ILIKE '%notify%'"""
    )
    assert [row["proname"] for row in notifying] == []


@pytest.fixture
async def recording(
    start: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[RunningServer, StatementLog, dict[str, str]]]:
    """A real server whose pool records every statement, with two tenants' keys."""
    log = StatementLog()
    monkeypatch.setattr(
        service.database,
        "create_pool",
        functools.partial(create_pool, connection_class=log.connection_class()),
    )
    keys = {}
    lines = []
    for tenant in ("tenant-a", "tenant-b"):
        key, entry = new_key(tenant, "caller")
        keys[tenant] = key
        lines.append(entry.line())
    running = await start(api_keys=",".join(lines), lifecycle_batch_size=3)
    yield running, log, keys
    await running.stop(0)


async def test_writes_notify_after_commit_and_every_transaction_has_one_tenant(
    recording: tuple[RunningServer, StatementLog, dict[str, str]], pool: asyncpg.Pool
) -> None:
    running, log, keys = recording
    heard: asyncio.Queue[str] = asyncio.Queue()

    def hear(connection: object, pid: int, channel: str, payload: object) -> None:
        heard.put_nowait(str(payload))

    async with pool.acquire() as listener:
        await listener.add_listener(CHANNEL, hear)
        async with connect(running.port) as stubs:
            rooms = stubs.rooms
            roster = stubs.participants
            webhooks = stubs.webhooks
            credentials: CredentialsServiceAsyncStub = (
                credentials_service_pb2_grpc.CredentialsServiceStub(stubs.channel)
            )
            for tenant, key in keys.items():
                auth = (("authorization", f"Bearer {key}"),)
                room = await rooms.CreateRoom(
                    rs.CreateRoomRequest(
                        room_id="same-name",
                        request_id="once",
                        participants=[pp.Participant(user_id="doc", role=pp.ROLE_PRESENTER)],
                    ),
                    metadata=auth,
                )
                assert await heard.get() == f"{tenant}\x1fsame-name"
                await rooms.CreateRoom(  # a replay writes nothing new
                    rs.CreateRoomRequest(
                        room_id="same-name",
                        request_id="once",
                        participants=[pp.Participant(user_id="doc", role=pp.ROLE_PRESENTER)],
                    ),
                    metadata=auth,
                )
                await roster.AddOrUpdateParticipants(
                    ps.AddOrUpdateParticipantsRequest(
                        room_id=room.room_id, participants=[pp.Participant(user_id="pat")]
                    ),
                    metadata=auth,
                )
                assert await heard.get() == f"{tenant}\x1fsame-name"
                await expect_error(  # a stale etag: nothing written, nothing to tell
                    rooms.UpdateRoom(
                        rs.UpdateRoomRequest(
                            room=room_pb2.Room(
                                room_id=room.room_id, etag=room.etag, metadata={"k": "v"}
                            ),
                            update_mask=field_mask_pb2.FieldMask(paths=["metadata"]),
                        ),
                        metadata=auth,
                    ),
                    grpc.StatusCode.ABORTED,
                    "ETAG_MISMATCH",
                )
                await rooms.UpdateRoom(
                    rs.UpdateRoomRequest(
                        room=room_pb2.Room(room_id=room.room_id, metadata={"k": "v"}),
                        update_mask=field_mask_pb2.FieldMask(paths=["metadata"]),
                    ),
                    metadata=auth,
                )
                assert await heard.get() == f"{tenant}\x1fsame-name"
                await expect_error(  # a stale etag: rolled back, nothing to tell
                    roster.RemoveParticipants(
                        ps.RemoveParticipantsRequest(
                            room_id=room.room_id, user_ids=["pat"], etag=room.etag
                        ),
                        metadata=auth,
                    ),
                    grpc.StatusCode.ABORTED,
                    "ETAG_MISMATCH",
                )
                await roster.RemoveParticipants(
                    ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["pat"]),
                    metadata=auth,
                )
                assert await heard.get() == f"{tenant}\x1fsame-name"
                # The features built on the same rules: bans, the waiting room, seats,
                # credentials and webhooks.
                await roster.RemoveParticipants(
                    ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["eve"], ban=True),
                    metadata=auth,
                )
                assert await heard.get() == f"{tenant}\x1fsame-name"
                await rooms.UpdateRoom(
                    rs.UpdateRoomRequest(
                        room=room_pb2.Room(
                            room_id=room.room_id,
                            join_policy=room_pb2.JOIN_POLICY_OPEN,
                            waiting_room_enabled=True,
                        ),
                        update_mask=field_mask_pb2.FieldMask(
                            paths=["join_policy", "waiting_room_enabled"]
                        ),
                    ),
                    metadata=auth,
                )
                assert await heard.get() == f"{tenant}\x1fsame-name"
                knock = await rooms.AuthorizeJoin(
                    rs.AuthorizeJoinRequest(room_id=room.room_id, user_id="guest"), metadata=auth
                )
                assert not knock.allowed
                assert await heard.get() == f"{tenant}\x1fsame-name"
                await roster.ListKnocks(ps.ListKnocksRequest(room_id=room.room_id), metadata=auth)
                await roster.AdmitParticipant(
                    ps.AdmitParticipantRequest(room_id=room.room_id, user_id="guest"),
                    metadata=auth,
                )
                assert await heard.get() == f"{tenant}\x1fsame-name"
                await roster.DenyParticipant(
                    ps.DenyParticipantRequest(room_id=room.room_id, user_id="other"),
                    metadata=auth,
                )
                assert await heard.get() == f"{tenant}\x1fsame-name"
                seated = await rooms.AuthorizeJoin(
                    rs.AuthorizeJoinRequest(
                        room_id=room.room_id,
                        user_id="doc",
                        claim_seat=True,
                        credential_format=credentials_pb2.CREDENTIAL_FORMAT_ROOMS,
                    ),
                    metadata=auth,
                )
                assert seated.allowed and seated.seat.seat_id and seated.credential.token
                assert await heard.get() == f"{tenant}\x1fsame-name"
                await roster.RenewSeat(
                    ps.RenewSeatRequest(seat_id=seated.seat.seat_id), metadata=auth
                )
                await roster.ListSeats(ps.ListSeatsRequest(room_id=room.room_id), metadata=auth)
                await roster.ReleaseSeat(
                    ps.ReleaseSeatRequest(seat_id=seated.seat.seat_id), metadata=auth
                )
                assert await heard.get() == f"{tenant}\x1fsame-name"
                introspected = await credentials.IntrospectCredential(
                    credentials_service_pb2.IntrospectCredentialRequest(
                        token=seated.credential.token
                    ),
                    metadata=auth,
                )
                assert introspected.active
                hook = await webhooks.CreateWebhook(
                    webhooks_service_pb2.CreateWebhookRequest(
                        webhook=webhooks_service_pb2.Webhook(url="https://hooks.example/rooms")
                    ),
                    metadata=auth,
                )
                await webhooks.GetWebhook(
                    webhooks_service_pb2.GetWebhookRequest(webhook_id=hook.webhook_id),
                    metadata=auth,
                )
                await webhooks.ListWebhooks(
                    webhooks_service_pb2.ListWebhooksRequest(), metadata=auth
                )
                await webhooks.UpdateWebhook(
                    webhooks_service_pb2.UpdateWebhookRequest(
                        webhook=webhooks_service_pb2.Webhook(
                            webhook_id=hook.webhook_id, room_ids=[room.room_id]
                        ),
                        update_mask=field_mask_pb2.FieldMask(paths=["room_ids"]),
                    ),
                    metadata=auth,
                )
                await webhooks.DeleteWebhook(
                    webhooks_service_pb2.DeleteWebhookRequest(webhook_id=hook.webhook_id),
                    metadata=auth,
                )
                # Reads, for the one-tenant rule.
                await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id), metadata=auth)
                await rooms.ListRooms(rs.ListRoomsRequest(), metadata=auth)
                await rooms.AuthorizeJoin(
                    rs.AuthorizeJoinRequest(room_id=room.room_id, user_id="doc"), metadata=auth
                )
                await roster.ListParticipants(
                    ps.ListParticipantsRequest(room_id=room.room_id), metadata=auth
                )
                await roster.GetParticipant(
                    ps.GetParticipantRequest(room_id=room.room_id, user_id="doc"), metadata=auth
                )
                await roster.ListRoomsForParticipant(
                    ps.ListRoomsForParticipantRequest(user_id="doc"), metadata=auth
                )
                await rooms.ListRoomEvents(
                    rs.ListRoomEventsRequest(room_id=room.room_id), metadata=auth
                )
                stream = rooms.WatchRoom(rs.WatchRoomRequest(room_id=room.room_id), metadata=auth)
                first = await stream.read()
                assert isinstance(first, ev.RoomEvent) and first.revision == 1
                stream.cancel()
                await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id), metadata=auth)
                assert await heard.get() == f"{tenant}\x1fsame-name"
        await listener.remove_listener(CHANNEL, hear)
        problems = await check_statements(log, listener)
    assert not problems, "\n".join(problems)
    # Each committed write of events is followed, on its connection, by its NOTIFY,
    # outside any transaction; a rolled-back one is followed by none.
    writes = [
        t
        for t in log.transactions()
        if any("INSERT INTO room_events" in s.query for s in t.statements)
    ]
    committed = [t for t in writes if t.outcome == "COMMIT"]
    # Per tenant: create, add, update, remove, ban, update, admit, deny, claim a seat,
    # release it, delete (a knock is one statement in no transaction block).
    assert len(committed) == 2 * 11
    for transaction in committed:
        assert transaction.next_statement is not None
        assert transaction.next_statement.is_notify
        assert not transaction.next_statement.in_transaction
    rolled_back = [t for t in log.transactions() if t.outcome == "ROLLBACK"]
    assert len(rolled_back) == 2  # the stale-etag removals
    for transaction in rolled_back:
        assert transaction.next_statement is None or not transaction.next_statement.is_notify


@pytest.mark.usefixtures("clean")
async def test_the_lifecycle_locks_one_tenant_at_a_time_and_notifies_after_commit(
    recording: tuple[RunningServer, StatementLog, dict[str, str]],
    clock: ManualClock,
    pool: asyncpg.Pool,
) -> None:
    running, log, keys = recording
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        for key in keys.values():
            auth = (("authorization", f"Bearer {key}"),)
            for index in range(4):  # more than a batch (3) per tenant
                await rooms.CreateRoom(
                    rs.CreateRoomRequest(
                        room_id=f"soon-{index}",
                        request_id=f"req-{index}",
                        room=room_pb2.Room(
                            valid_from=ts(timedelta(hours=1)), valid_until=ts(timedelta(hours=2))
                        ),
                    ),
                    metadata=auth,
                )
            await rooms.CreateRoom(  # open now, for 100 days: only its old events go
                rs.CreateRoomRequest(
                    room_id="long",
                    request_id="req-long",
                    room=room_pb2.Room(valid_until=ts(timedelta(days=100))),
                ),
                metadata=auth,
            )
            await rooms.CreateRoom(rs.CreateRoomRequest(room_id="gone"), metadata=auth)
            await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id="gone"), metadata=auth)
    before = len(log.statements)
    clock.set(T0 + timedelta(hours=1))
    opened = await running.lifecycle.run_once()
    clock.set(T0 + timedelta(days=8))  # "soon" ended; "gone" past its 7-day grace
    ended = await running.lifecycle.run_once()
    clock.set(T0 + timedelta(days=40))  # "soon" past its 30 days; old events of "long"
    purged = await running.lifecycle.run_once()

    lifecycle = StatementLog()
    lifecycle.statements = log.statements[before:]
    async with pool.acquire() as conn:
        problems = await check_statements(lifecycle, conn)
    assert not problems, "\n".join(problems)

    assert opened.announced == 10  # the "soon" rooms and "long"
    assert (ended.announced, ended.purged_rooms) == (8, 2)
    assert (purged.purged_rooms, purged.purged_events) == (8, 4)
    left = await pool.fetch("SELECT tenant, room_id FROM rooms ORDER BY tenant")
    assert [tuple(row) for row in left] == [("tenant-a", "long"), ("tenant-b", "long")]
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 2
    transactions = list(lifecycle.transactions())
    assert transactions, "the lifecycle works in transactions"
    for transaction in transactions:
        assert "pg_try_advisory_xact_lock" in transaction.statements[0].query
    announcing = [
        t for t in transactions if any("INSERT INTO room_events" in s.query for s in t.statements)
    ]
    assert len(announcing) >= 4  # per tenant, per batch of 3
    for transaction in announcing:
        assert transaction.next_statement is not None
        assert transaction.next_statement.is_notify
        assert not transaction.next_statement.in_transaction


async def test_a_replica_meeting_the_lifecycle_lock_stops_and_leaves_the_work(
    recording: tuple[RunningServer, StatementLog, dict[str, str]],
    clock: ManualClock,
    pool: asyncpg.Pool,
    database_url: str,
) -> None:
    running, _, keys = recording
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        auth = (("authorization", f"Bearer {keys['tenant-a']}"),)
        room = await rooms.CreateRoom(
            rs.CreateRoomRequest(
                room=room_pb2.Room(
                    valid_from=ts(timedelta(hours=1)), valid_until=ts(timedelta(hours=2))
                )
            ),
            metadata=auth,
        )
        clock.set(T0 + timedelta(hours=1))
        other: Any = await asyncpg.connect(database_url)
        try:
            async with other.transaction():  # another replica holds the lock
                await other.execute("SELECT pg_advisory_xact_lock($1)", LIFECYCLE_LOCK_KEY)
                assert (await running.lifecycle.run_once()).announced == 0
        finally:
            await other.close()
        assert (await running.lifecycle.run_once()).announced >= 1
        events = await rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id=room.room_id), metadata=auth
        )
        assert [e.revision for e in events.events] == [1, 2]
