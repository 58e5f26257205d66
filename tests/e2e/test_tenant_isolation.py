"""Tenant isolation, end to end: two tenants with one API key each on one real server.

For every RPC of both services, tenant B can neither read, change, list, delete nor be
admitted to tenant A's rooms: another tenant's room answers exactly like a room that
never existed (same status code, message, ErrorInfo and every other detail), page
tokens do not cross tenants, and tenant A sees no change at all afterwards. The same
`room_id` lives independently in two tenants. Calls without a known key are
UNAUTHENTICATED on every RPC, while health stays callable without one.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from rooms.errors import status_details
from rooms.v1 import (
    admission_pb2,
    participant_pb2,
    participants_service_pb2_grpc,
    room_pb2,
    rooms_service_pb2_grpc,
)
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.security.keys import hash_key, new_key
from tests.conftest import ServerFactory
from tests.helpers import expect_error, unique

if TYPE_CHECKING:
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub

NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT
Metadata = tuple[tuple[str, str], ...]
Call = Callable[[], Awaitable[Any]]

PRESENTER = participant_pb2.ROLE_PRESENTER
ATTENDEE = participant_pb2.ROLE_ATTENDEE
CONSUMER = participant_pb2.ROLE_CONSUMER


def bearer(key: str) -> Metadata:
    return (("authorization", f"Bearer {key}"),)


@dataclass(frozen=True)
class Tenant:
    """One tenant with its key, calling through the shared channel."""

    name: str
    metadata: Metadata
    rooms: RoomsServiceAsyncStub
    participants: ParticipantsServiceAsyncStub


@dataclass(frozen=True)
class Failure:
    """Everything a caller can observe about a failed call, for exact comparison."""

    code: grpc.StatusCode
    details: str
    status_code: int
    status_message: str
    detail_types: tuple[str, ...]
    reason: str
    domain: str
    metadata: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, str, str], ...]
    preconditions: tuple[tuple[str, str, str], ...]
    trailing_keys: tuple[str, ...]

    def replacing(self, old: str, new: str) -> Failure:
        """The same failure as if it had named `new` wherever it names `old`."""
        return Failure(
            code=self.code,
            details=self.details.replace(old, new),
            status_code=self.status_code,
            status_message=self.status_message.replace(old, new),
            detail_types=self.detail_types,
            reason=self.reason,
            domain=self.domain,
            metadata=tuple((k, v.replace(old, new)) for k, v in self.metadata),
            fields=tuple((f.replace(old, new), d.replace(old, new), r) for f, d, r in self.fields),
            preconditions=tuple(
                (t, s.replace(old, new), d.replace(old, new)) for t, s, d in self.preconditions
            ),
            trailing_keys=self.trailing_keys,
        )


def failure_of(error: grpc.aio.AioRpcError) -> Failure:
    status = rpc_status.from_call(cast(grpc.Call, error))
    assert status is not None, f"no google.rpc.Status on {error.code()}: {error.details()}"
    details = status_details(status)
    info, bad_request, precondition = details.info, details.bad_request, details.precondition
    assert info.reason, "every error must carry an ErrorInfo"
    return Failure(
        code=error.code(),
        details=error.details() or "",
        status_code=status.code,
        status_message=status.message,
        detail_types=tuple(detail.type_url for detail in status.details),
        reason=info.reason,
        domain=info.domain,
        metadata=tuple(sorted(info.metadata.items())),
        fields=tuple((v.field, v.description, v.reason) for v in bad_request.field_violations),
        preconditions=tuple((v.type, v.subject, v.description) for v in precondition.violations),
        trailing_keys=tuple(sorted({key for key, _ in error.trailing_metadata() or ()})),
    )


async def outcome(call: Call) -> Any:
    """The response of a call, or its Failure."""
    try:
        return await call()
    except grpc.aio.AioRpcError as error:
        return failure_of(error)


async def must_fail(call: Call) -> Failure:
    result = await outcome(call)
    assert isinstance(result, Failure), f"expected a failure, got {result!r}"
    return result


# ---- fixtures ----------------------------------------------------------------


@dataclass(frozen=True)
class Tenants:
    a: Tenant
    b: Tenant
    c: Tenant
    d: Tenant
    channel: grpc.aio.Channel
    keys: dict[str, str]


@pytest.fixture(scope="module")
async def tenants(start: ServerFactory) -> AsyncIterator[Tenants]:
    """One server with four tenants (one key each); tenant names unique to this run."""
    suffix = uuid.uuid4().hex[:8]
    made = {letter: new_key(f"iso-{letter}-{suffix}", "k1") for letter in "abcd"}
    running = await start(api_keys=",".join(entry.line() for _, entry in made.values()))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        rooms: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        participants: ParticipantsServiceAsyncStub = (
            participants_service_pb2_grpc.ParticipantsServiceStub(channel)
        )
        by_letter = {
            letter: Tenant(entry.caller.tenant, bearer(key), rooms, participants)
            for letter, (key, entry) in made.items()
        }
        yield Tenants(
            a=by_letter["a"],
            b=by_letter["b"],
            c=by_letter["c"],
            d=by_letter["d"],
            channel=channel,
            keys={letter: key for letter, (key, _) in made.items()},
        )
    await running.stop(0)


# ---- what tenant A has, and proof that it did not change -----------------------


@dataclass(frozen=True)
class Snapshot:
    """Everything tenant A can read about its rooms."""

    rooms: dict[str, room_pb2.Room]
    rosters: dict[str, list[participant_pb2.Participant]]
    listed: list[str]
    memberships: dict[str, list[ps.RoomMembership]]
    decisions: dict[tuple[str, str], rs.AuthorizeJoinResponse]


async def snapshot(t: Tenant, room_ids: list[str], user_ids: list[str]) -> Snapshot:
    rooms = {}
    rosters = {}
    for room_id in room_ids:
        rooms[room_id] = await t.rooms.GetRoom(
            rs.GetRoomRequest(room_id=room_id), metadata=t.metadata
        )
        listed = await t.participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id, page_size=500), metadata=t.metadata
        )
        assert not listed.next_page_token
        rosters[room_id] = list(listed.participants)
    all_rooms = await t.rooms.ListRooms(rs.ListRoomsRequest(page_size=500), metadata=t.metadata)
    memberships = {}
    decisions = {}
    for user_id in user_ids:
        found = await t.participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=user_id, page_size=500),
            metadata=t.metadata,
        )
        memberships[user_id] = list(found.memberships)
        for room_id in room_ids:
            decisions[room_id, user_id] = await t.rooms.AuthorizeJoin(
                rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id), metadata=t.metadata
            )
    return Snapshot(
        rooms=rooms,
        rosters=rosters,
        listed=[room.room_id for room in all_rooms.rooms],
        memberships=memberships,
        decisions=decisions,
    )


# ---- every call tenant B can aim at a room -------------------------------------------


def room_calls(t: Tenant, room_id: str, user_id: str, etag: str) -> dict[str, Call]:
    """Every RPC that names a room, each in the variants an intruder would try."""
    md = t.metadata
    r, p = t.rooms, t.participants
    mask = field_mask_pb2.FieldMask
    calls: dict[str, Call] = {
        "GetRoom": lambda: r.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=md),
        "UpdateRoom": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room_id, metadata={"owner": "intruder"}),
                update_mask=mask(paths=["metadata"]),
            ),
            metadata=md,
        ),
        "UpdateRoom/etag": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(
                    room_id=room_id, etag=etag, join_policy=room_pb2.JOIN_POLICY_OPEN
                ),
                update_mask=mask(paths=["join_policy"]),
            ),
            metadata=md,
        ),
        "UpdateRoom/no-mask": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(room=room_pb2.Room(room_id=room_id, pstn_dial_out_enabled=True)),
            metadata=md,
        ),
        "UpdateRoom/star": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room_id), update_mask=mask(paths=["*"])
            ),
            metadata=md,
        ),
        "DeleteRoom": lambda: r.DeleteRoom(rs.DeleteRoomRequest(room_id=room_id), metadata=md),
        "DeleteRoom/etag": lambda: r.DeleteRoom(
            rs.DeleteRoomRequest(room_id=room_id, etag=etag), metadata=md
        ),
        "AddOrUpdateParticipants/new": lambda: p.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id,
                participants=[participant_pb2.Participant(user_id="intruder", role=PRESENTER)],
            ),
            metadata=md,
        ),
        "AddOrUpdateParticipants/promote": lambda: p.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id,
                participants=[participant_pb2.Participant(user_id=user_id, role=PRESENTER)],
                etag=etag,
            ),
            metadata=md,
        ),
        "RemoveParticipants": lambda: p.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room_id, user_ids=[user_id, "host"]),
            metadata=md,
        ),
        "RemoveParticipants/etag": lambda: p.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room_id, user_ids=[user_id], etag=etag),
            metadata=md,
        ),
        "ListParticipants": lambda: p.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id), metadata=md
        ),
        "ListParticipants/role": lambda: p.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id, role=ATTENDEE, page_size=1),
            metadata=md,
        ),
        "GetParticipant/rostered": lambda: p.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id=user_id), metadata=md
        ),
        "GetParticipant/stranger": lambda: p.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id="stranger"), metadata=md
        ),
    }
    return calls


def join_calls(t: Tenant, room_id: str, user_id: str) -> dict[str, Call]:
    md = t.metadata
    return {
        "AuthorizeJoin/rostered": lambda: t.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id), metadata=md
        ),
        "AuthorizeJoin/stranger": lambda: t.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="stranger"), metadata=md
        ),
    }


# ---- the tests -----------------------------------------------------------------------


async def test_another_tenants_room_answers_exactly_like_a_room_that_never_existed(
    tenants: Tenants, pool: asyncpg.Pool
) -> None:
    a, b = tenants.a, tenants.b
    invite_only = unique("visit")
    open_room = unique("webinar")
    deleted = unique("gone")
    never = unique("never")
    ids = [invite_only, open_room, deleted]
    guest = unique("guest")

    # 1. Before tenant A has anything: what B hears about these ids (they exist nowhere).
    before: dict[tuple[str, str], Any] = {}
    for room_id in ids:
        for name, call in {
            **room_calls(b, room_id, guest, '"1"'),
            **join_calls(b, room_id, guest),
        }.items():
            before[room_id, name] = await outcome(call)

    # 2. Tenant A creates the rooms, with rosters; one room it deletes again.
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=invite_only,
            room=room_pb2.Room(metadata={"owner": "a"}),
            participants=[
                participant_pb2.Participant(user_id="host", role=PRESENTER),
                participant_pb2.Participant(user_id=guest, role=ATTENDEE),
            ],
        ),
        metadata=a.metadata,
    )
    await a.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=invite_only,
            participants=[participant_pb2.Participant(user_id="viewer", role=CONSUMER)],
        ),
        metadata=a.metadata,
    )
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=open_room,
            room=room_pb2.Room(
                join_policy=room_pb2.JOIN_POLICY_OPEN, open_join_role=participant_pb2.ROLE_CONSUMER
            ),
            participants=[participant_pb2.Participant(user_id=guest, role=PRESENTER)],
        ),
        metadata=a.metadata,
    )
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=deleted, participants=[participant_pb2.Participant(user_id=guest)]
        ),
        metadata=a.metadata,
    )
    await a.rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=deleted), metadata=a.metadata)

    live = [invite_only, open_room]
    users = [guest, "host", "viewer", "stranger", "intruder"]
    original = await snapshot(a, live, users)
    # The rooms are there for A, with their rosters, and admit A's guest.
    assert [p.user_id for p in original.rosters[invite_only]] == sorted([guest, "host", "viewer"])
    assert original.decisions[invite_only, guest].allowed
    assert original.decisions[open_room, "stranger"].allowed  # open room: anyone of A
    assert len(original.memberships[guest]) == 2

    # 3. Now B tries every call on A's rooms, with A's real etags.
    for room_id in ids:
        etag = original.rooms[room_id].etag if room_id in original.rooms else '"3"'
        calls = {**room_calls(b, room_id, guest, etag), **join_calls(b, room_id, guest)}
        # The same calls with the etag B tried before (for the exact comparison).
        first_calls = {**room_calls(b, room_id, guest, '"1"'), **join_calls(b, room_id, guest)}
        for name, call in calls.items():
            result = await outcome(call)
            again = await outcome(first_calls[name])
            if name.startswith("AuthorizeJoin"):
                assert isinstance(result, rs.AuthorizeJoinResponse), (name, result)
                assert not result.allowed
                assert result.reason == admission_pb2.JOIN_DECISION_REASON_ROOM_NOT_FOUND
                assert result.role == participant_pb2.ROLE_UNSPECIFIED
                assert not result.capabilities
                assert not result.HasField("valid_from")
                assert not result.HasField("valid_until")
            else:
                assert isinstance(result, Failure), (name, room_id, result)
                assert (result.code, result.reason) == (NOT_FOUND, "ROOM_NOT_FOUND"), (name, result)
                assert result.metadata == (("room_id", room_id),)
                assert result.domain == "rooms.v1"
            # Exactly what B heard before the room existed anywhere...
            assert again == before[room_id, name], (name, room_id)
            # ...and, with the id swapped, what B hears about an id nobody ever used.
            never_calls = {
                **room_calls(b, never, guest, etag),
                **join_calls(b, never, guest),
            }
            unknown = await outcome(never_calls[name])
            if isinstance(unknown, Failure):
                assert isinstance(result, Failure)
                assert result == unknown.replacing(never, room_id), (name, room_id)
            else:
                assert result == unknown, (name, room_id)

    # 4. B's own view: none of A's rooms, none of A's memberships.
    b_rooms = await b.rooms.ListRooms(rs.ListRoomsRequest(page_size=500), metadata=b.metadata)
    assert not set(ids) & {room.room_id for room in b_rooms.rooms}
    for user_id in users:
        found = await b.participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=user_id), metadata=b.metadata
        )
        assert list(found.memberships) == [], user_id
        assert not found.next_page_token

    # Nothing of B's attempts reached the database under either tenant.
    for table in ("rooms", "participants"):
        intruded = await pool.fetchval(
            f"SELECT count(*) FROM {table} WHERE tenant = $1 AND room_id = ANY($2::text[])",
            b.name,
            [*ids, never],
        )
        assert intruded == 0, table
    intruders = await pool.fetchval(
        "SELECT count(*) FROM participants WHERE user_id = 'intruder' AND room_id = ANY($1)",
        ids,
    )
    assert intruders == 0

    # 5. A sees no change at all: rooms (etag, update_time, metadata...), rosters,
    # listings, memberships and join decisions are exactly as before.
    assert await snapshot(a, live, users) == original
    # A's deleted room is still A's: deleting it again succeeds for A.
    await a.rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=deleted), metadata=a.metadata)


async def test_listings_never_show_another_tenants_rooms(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    shared_user = unique("user")
    a_ids = []
    for index in range(5):
        room = await a.rooms.CreateRoom(
            rs.CreateRoomRequest(
                room_id=unique(f"a{index}"),
                participants=[participant_pb2.Participant(user_id=shared_user)],
            ),
            metadata=a.metadata,
        )
        a_ids.append(room.room_id)
    b_ids = []
    for index in range(3):
        room = await b.rooms.CreateRoom(
            rs.CreateRoomRequest(
                room_id=unique(f"b{index}"),
                participants=[participant_pb2.Participant(user_id=shared_user, role=CONSUMER)],
            ),
            metadata=b.metadata,
        )
        b_ids.append(room.room_id)

    # ListRooms: every state filter, paging one by one through everything B has.
    for state in (
        room_pb2.ROOM_STATE_UNSPECIFIED,
        room_pb2.ROOM_STATE_OPEN,
        room_pb2.ROOM_STATE_SCHEDULED,
        room_pb2.ROOM_STATE_ENDED,
    ):
        seen: list[str] = []
        token = ""
        while True:
            page = await b.rooms.ListRooms(
                rs.ListRoomsRequest(page_size=1, page_token=token, state=state),
                metadata=b.metadata,
            )
            seen += [room.room_id for room in page.rooms]
            token = page.next_page_token
            if not token:
                break
        assert not set(seen) & set(a_ids), state
        if state in (room_pb2.ROOM_STATE_UNSPECIFIED, room_pb2.ROOM_STATE_OPEN):
            assert set(b_ids) <= set(seen)

    # ListRoomsForParticipant: the same identity is in rooms of both tenants.
    seen = []
    token = ""
    while True:
        found = await b.participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=shared_user, page_size=1, page_token=token),
            metadata=b.metadata,
        )
        seen += [m.room.room_id for m in found.memberships]
        assert all(m.role == CONSUMER for m in found.memberships)
        token = found.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(b_ids)
    found_a = await a.participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=shared_user, page_size=500), metadata=a.metadata
    )
    assert sorted(m.room.room_id for m in found_a.memberships) == sorted(a_ids)


async def test_page_tokens_do_not_cross_tenants(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    user = unique("paged")
    room_id = unique("paged-room")
    for index in range(3):
        await a.rooms.CreateRoom(
            rs.CreateRoomRequest(
                room_id=room_id if index == 0 else unique("paged-more"),
                participants=[
                    participant_pb2.Participant(user_id=user),
                    participant_pb2.Participant(user_id=f"{user}-{index}"),
                ],
            ),
            metadata=a.metadata,
        )
    # B has the same room id and the same identity, so only the token's tenant differs.
    await b.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            participants=[
                participant_pb2.Participant(user_id=user),
                participant_pb2.Participant(user_id=f"{user}-0"),
                participant_pb2.Participant(user_id=f"{user}-9"),
            ],
        ),
        metadata=b.metadata,
    )

    rooms_page = await a.rooms.ListRooms(rs.ListRoomsRequest(page_size=1), metadata=a.metadata)
    roster_page = await a.participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id, page_size=1), metadata=a.metadata
    )
    memberships_page = await a.participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=user, page_size=1), metadata=a.metadata
    )
    for token in (
        rooms_page.next_page_token,
        roster_page.next_page_token,
        memberships_page.next_page_token,
    ):
        assert token

    for call in (
        lambda: b.rooms.ListRooms(
            rs.ListRoomsRequest(page_size=1, page_token=rooms_page.next_page_token),
            metadata=b.metadata,
        ),
        lambda: b.participants.ListParticipants(
            ps.ListParticipantsRequest(
                room_id=room_id, page_size=1, page_token=roster_page.next_page_token
            ),
            metadata=b.metadata,
        ),
        lambda: b.participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(
                user_id=user, page_size=1, page_token=memberships_page.next_page_token
            ),
            metadata=b.metadata,
        ),
    ):
        error = await expect_error(call(), INVALID, "INVALID_PAGE_TOKEN")
        assert error.metadata == {"field": "page_token"}

    # The tokens still work for A, which proves they were valid tokens.
    second = await a.participants.ListParticipants(
        ps.ListParticipantsRequest(
            room_id=room_id, page_size=1, page_token=roster_page.next_page_token
        ),
        metadata=a.metadata,
    )
    assert [p.user_id for p in second.participants] == [f"{user}-0"]
    await a.rooms.ListRooms(
        rs.ListRoomsRequest(page_size=1, page_token=rooms_page.next_page_token),
        metadata=a.metadata,
    )
    await a.participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(
            user_id=user, page_size=1, page_token=memberships_page.next_page_token
        ),
        metadata=a.metadata,
    )


async def test_the_same_room_id_lives_independently_in_two_tenants(tenants: Tenants) -> None:
    c, d = tenants.c, tenants.d
    room_id = unique("shared")
    request_id = str(uuid.uuid4())

    c_room = await c.rooms.CreateRoom(
        rs.CreateRoomRequest(
            request_id=request_id,
            room_id=room_id,
            room=room_pb2.Room(metadata={"tenant": "c"}),
            participants=[
                participant_pb2.Participant(user_id="doctor", role=PRESENTER),
                participant_pb2.Participant(user_id="patient"),
            ],
        ),
        metadata=c.metadata,
    )
    c_auto = await c.rooms.CreateRoom(
        rs.CreateRoomRequest(request_id=request_id + "-auto"), metadata=c.metadata
    )
    c_ids = [room_id, c_auto.room_id]
    before = await snapshot(c, c_ids, ["doctor", "patient", "nurse"])

    # D may take the same id (no ALREADY_EXISTS that would reveal C's room), and even
    # the same request_id: idempotency keys belong to the tenant too.
    d_room = await d.rooms.CreateRoom(
        rs.CreateRoomRequest(
            request_id=request_id,
            room_id=room_id,
            room=room_pb2.Room(
                metadata={"tenant": "d"}, join_policy=room_pb2.JOIN_POLICY_INVITE_ONLY
            ),
            participants=[participant_pb2.Participant(user_id="nurse", role=CONSUMER)],
        ),
        metadata=d.metadata,
    )
    assert d_room.room_id == room_id
    assert dict(d_room.metadata) == {"tenant": "d"}
    assert d_room.participant_count == 1
    # A server-chosen id with a request_id C used: a new room for D, not C's.
    d_auto = await d.rooms.CreateRoom(
        rs.CreateRoomRequest(request_id=request_id + "-auto"), metadata=d.metadata
    )
    assert d_auto.room_id != c_auto.room_id
    await expect_error(
        d.rooms.GetRoom(rs.GetRoomRequest(room_id=c_auto.room_id), metadata=d.metadata),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )

    # D works on its room: every change stays in D.
    await d.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room_id,
            participants=[
                participant_pb2.Participant(user_id="doctor", role=CONSUMER),
                participant_pb2.Participant(user_id="intruder", role=PRESENTER),
            ],
        ),
        metadata=d.metadata,
    )
    await d.participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["patient", "nurse"]),
        metadata=d.metadata,
    )
    d_updated = await d.rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(
                room_id=room_id, join_policy=room_pb2.JOIN_POLICY_OPEN, metadata={"x": "y"}
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["join_policy", "metadata"]),
        ),
        metadata=d.metadata,
    )
    assert d_updated.join_policy == room_pb2.JOIN_POLICY_OPEN
    d_roster = await d.participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id), metadata=d.metadata
    )
    assert [(p.user_id, p.role) for p in d_roster.participants] == [
        ("doctor", CONSUMER),
        ("intruder", PRESENTER),
    ]
    # D's patient is not on D's roster; D's doctor is a consumer there.
    d_doctor = await d.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="doctor"), metadata=d.metadata
    )
    assert d_doctor.role == CONSUMER
    memberships = await d.participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id="doctor"), metadata=d.metadata
    )
    assert [(m.room.room_id, m.role) for m in memberships.memberships] == [(room_id, CONSUMER)]

    # C's room is exactly as it was.
    assert await snapshot(c, c_ids, ["doctor", "patient", "nurse"]) == before
    assert before.rooms[room_id] == c_room

    # D deletes its room; C's room lives on, and C's retry of its create still
    # returns C's room.
    await d.rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room_id), metadata=d.metadata)
    await expect_error(
        d.rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=d.metadata),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    assert await snapshot(c, c_ids, ["doctor", "patient", "nurse"]) == before
    retry = await c.rooms.CreateRoom(
        rs.CreateRoomRequest(
            request_id=request_id,
            room_id=room_id,
            room=room_pb2.Room(metadata={"tenant": "c"}),
            participants=[
                participant_pb2.Participant(user_id="doctor", role=PRESENTER),
                participant_pb2.Participant(user_id="patient"),
            ],
        ),
        metadata=c.metadata,
    )
    assert retry == c_room


async def test_list_roles_is_the_same_for_every_tenant(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    roles_a = await a.rooms.ListRoles(rs.ListRolesRequest(), metadata=a.metadata)
    roles_b = await b.rooms.ListRoles(rs.ListRolesRequest(), metadata=b.metadata)
    assert roles_a == roles_b
    assert len(roles_a.roles) == 4


def every_rpc(t: Tenant, metadata: Metadata, room_id: str) -> dict[str, Call]:
    """Each of the twelve RPCs once, with a request that would succeed for tenant A."""
    r, p = t.rooms, t.participants
    return {
        "CreateRoom": lambda: r.CreateRoom(rs.CreateRoomRequest(), metadata=metadata),
        "GetRoom": lambda: r.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=metadata),
        "ListRooms": lambda: r.ListRooms(rs.ListRoomsRequest(), metadata=metadata),
        "UpdateRoom": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room_id, pstn_dial_out_enabled=True),
                update_mask=field_mask_pb2.FieldMask(paths=["pstn_dial_out_enabled"]),
            ),
            metadata=metadata,
        ),
        "DeleteRoom": lambda: r.DeleteRoom(
            rs.DeleteRoomRequest(room_id=room_id), metadata=metadata
        ),
        "AuthorizeJoin": lambda: r.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="host"), metadata=metadata
        ),
        "ListRoles": lambda: r.ListRoles(rs.ListRolesRequest(), metadata=metadata),
        "AddOrUpdateParticipants": lambda: p.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id, participants=[participant_pb2.Participant(user_id="x")]
            ),
            metadata=metadata,
        ),
        "RemoveParticipants": lambda: p.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["host"]), metadata=metadata
        ),
        "ListParticipants": lambda: p.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id), metadata=metadata
        ),
        "GetParticipant": lambda: p.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id="host"), metadata=metadata
        ),
        "ListRoomsForParticipant": lambda: p.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id="host"), metadata=metadata
        ),
    }


SERVICES = (
    rs.DESCRIPTOR.services_by_name["RoomsService"],
    ps.DESCRIPTOR.services_by_name["ParticipantsService"],
    cs.DESCRIPTOR.services_by_name["CredentialsService"],
)


def test_the_typed_calls_name_the_rpcs_of_both_services() -> None:
    """The twelve RPCs above exist in the protos (the raw calls below cover every
    declared RPC, including any added later)."""
    declared = {method.name for service in SERVICES for method in service.methods}
    assert set(every_rpc(Tenant("x", (), cast(Any, None), cast(Any, None)), (), "x")) <= declared
    assert len(every_rpc(Tenant("x", (), cast(Any, None), cast(Any, None)), (), "x")) == 12


def raw_calls(channel: grpc.aio.Channel, metadata: Metadata) -> dict[str, Call]:
    """Every RPC the services declare, called with an empty request through the raw
    channel API, so an RPC added later is covered without changing this test."""
    calls: dict[str, Call] = {}
    for service in SERVICES:
        for method in service.methods:
            request_class = message_factory.GetMessageClass(method.input_type)
            response_class = message_factory.GetMessageClass(method.output_type)
            path = f"/{service.full_name}/{method.name}"
            assert not method.client_streaming, path
            if method.server_streaming:
                stream = channel.unary_stream(
                    path,
                    request_serializer=request_class.SerializeToString,
                    response_deserializer=response_class.FromString,
                )

                async def read_all(
                    stream: Any = stream, request_class: Any = request_class
                ) -> list[Any]:
                    return [item async for item in stream(request_class(), metadata=metadata)]

                calls[method.full_name] = read_all
            else:
                unary = channel.unary_unary(
                    path,
                    request_serializer=request_class.SerializeToString,
                    response_deserializer=response_class.FromString,
                )

                async def call_once(unary: Any = unary, request_class: Any = request_class) -> Any:
                    return await unary(request_class(), metadata=metadata)

                calls[method.full_name] = call_once
    return calls


async def test_no_key_or_a_wrong_key_is_unauthenticated_for_every_rpc(
    tenants: Tenants,
) -> None:
    a = tenants.a
    room_id = unique("guarded")
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id, participants=[participant_pb2.Participant(user_id="host")]
        ),
        metadata=a.metadata,
    )
    before = await snapshot(a, [room_id], ["host", "x"])
    key = tenants.keys["a"]
    refusals = {
        "no metadata": (),
        "other metadata only": (("x-api-key", key),),
        "unknown key": bearer("rk_" + "a" * 32),
        "key with a character changed": bearer(key[:-1] + ("b" if key[-1] != "b" else "c")),
        "key with a suffix": bearer(key + "x"),
        "key without the scheme": (("authorization", key),),
        "another scheme": (("authorization", f"Basic {key}"),),
        "empty bearer": (("authorization", "Bearer "),),
        "the key's hash": bearer(hash_key(key)),
        "the tenant's name": bearer(a.name),
    }
    messages = set()
    for label, metadata in refusals.items():
        calls = {**every_rpc(a, metadata, room_id), **raw_calls(tenants.channel, metadata)}
        assert len(calls) >= 24
        for name, call in calls.items():
            error = await expect_error(call(), grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
            assert error.metadata == {}, (label, name)
            messages.add(error.message)
    # One refusal for all: nothing about the method, the room or the key is revealed.
    assert len(messages) == 1
    # Nothing happened to A's room.
    assert await snapshot(a, [room_id], ["host", "x"]) == before

    # Health needs no key; with A's key the RPCs work again.
    health: Any = health_pb2_grpc.HealthStub(tenants.channel)
    response = await health.Check(health_pb2.HealthCheckRequest())
    assert response.status == health_pb2.HealthCheckResponse.SERVING
    for service_name in ("rooms.v1.RoomsService", "rooms.v1.ParticipantsService"):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service_name))
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    room = await a.rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=a.metadata)
    assert room == before.rooms[room_id]


async def test_seats_and_knocks_do_not_cross_tenants(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    room_id = unique("seated")
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            room=room_pb2.Room(join_policy=room_pb2.JOIN_POLICY_OPEN, waiting_room_enabled=True),
            participants=[participant_pb2.Participant(user_id="host", role=PRESENTER)],
        ),
        metadata=a.metadata,
    )
    await a.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="guest", display_name="Guest"),
        metadata=a.metadata,
    )
    seat = (
        await a.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="host", claim_seat=True),
            metadata=a.metadata,
        )
    ).seat
    assert seat.seat_id

    missing = unique("never")
    by_room: tuple[Callable[[str], Awaitable[Any]], ...] = (
        lambda r: b.participants.ListKnocks(ps.ListKnocksRequest(room_id=r), metadata=b.metadata),
        lambda r: b.participants.ListSeats(ps.ListSeatsRequest(room_id=r), metadata=b.metadata),
        lambda r: b.participants.AdmitParticipant(
            ps.AdmitParticipantRequest(room_id=r, user_id="guest"), metadata=b.metadata
        ),
        lambda r: b.participants.DenyParticipant(
            ps.DenyParticipantRequest(room_id=r, user_id="guest"), metadata=b.metadata
        ),
    )
    for call in by_room:
        theirs = await must_fail(functools.partial(call, room_id))
        never = await must_fail(functools.partial(call, missing))
        assert theirs == never.replacing(missing, room_id)
        assert theirs.reason == "ROOM_NOT_FOUND"

    other_seat = "a" * 26
    theirs = await must_fail(
        lambda: b.participants.RenewSeat(
            ps.RenewSeatRequest(seat_id=seat.seat_id), metadata=b.metadata
        )
    )
    never = await must_fail(
        lambda: b.participants.RenewSeat(
            ps.RenewSeatRequest(seat_id=other_seat), metadata=b.metadata
        )
    )
    assert theirs == never.replacing(other_seat, seat.seat_id)
    assert theirs.reason == "SEAT_NOT_FOUND"
    # Releasing another tenant's seat "succeeds" as for any free seat, and frees nothing.
    await b.participants.ReleaseSeat(
        ps.ReleaseSeatRequest(seat_id=seat.seat_id), metadata=b.metadata
    )
    listed = await a.participants.ListSeats(
        ps.ListSeatsRequest(room_id=room_id), metadata=a.metadata
    )
    assert [s.seat_id for s in listed.seats] == [seat.seat_id]
    knocks = await a.participants.ListKnocks(
        ps.ListKnocksRequest(room_id=room_id), metadata=a.metadata
    )
    assert [(k.user_id, k.display_name) for k in knocks.knocks] == [("guest", "Guest")]
