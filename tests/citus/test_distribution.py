"""The rules that let the service run on a distributed PostgreSQL (Citus, sharded by
tenant; docs/scaling.md), proven on plain PostgreSQL: no triggers; NOTIFY only after
the commit, outside any transaction; every transaction and every locking statement on
one tenant's rows (the lifecycle's, in test_distribution_lifecycle.py); no
session-level locks.

A real server (tests/citus/conftest.py) runs with a pool whose connections record every
statement (tests/shared/statements.py); PostgreSQL's own EXPLAIN says which tenants each
one touches.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

import asyncpg
import grpc
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

from service.server import RunningServer
from service.storage.notify import CHANNEL
from tests.shared.calls import connect
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
    # Per tenant: create, add, update, remove, ban, update, admit, deny, release a seat,
    # delete (a knock and a seat claim are each one statement in no transaction block;
    # on Citus a claim is a transaction of its own, service/storage/claims.py).
    on_citus = os.environ.get("ROOMS_TEST_CITUS") == "1"
    assert len(committed) == 2 * (11 if on_citus else 10)
    for transaction in committed:
        assert transaction.next_statement is not None
        assert transaction.next_statement.is_notify
        assert not transaction.next_statement.in_transaction
    lone: list[Any] = []
    # A write of events in one statement of its own is followed by its NOTIFY too.
    statements = list(log.statements)
    for index, statement in enumerate(statements):
        if statement.in_transaction or "INSERT INTO room_events" not in statement.query:
            continue
        after = next(s for s in statements[index + 1 :] if s.connection == statement.connection)
        if after.query.startswith("INSERT INTO seat_counts"):
            continue  # a claim that wrote nothing: a room's counter rows first, then again
        lone.append(statement)
        assert after.is_notify and not after.in_transaction
    # Per tenant: the first knock, the seat claim (on PostgreSQL).
    assert len(lone) == 2 * (1 if on_citus else 2)
    rolled_back = [t for t in log.transactions() if t.outcome == "ROLLBACK"]
    assert len(rolled_back) == 2  # the stale-etag removals
    for transaction in rolled_back:
        assert transaction.next_statement is None or not transaction.next_statement.is_notify
