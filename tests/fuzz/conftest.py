"""The server every fuzz test of this package shares, seeded; the order of the package's
tests (RoomsService first, so later cases aim at rooms the fuzzing created; the
"afterwards" check last)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from rooms.v1 import participant_pb2, room_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.security.keys import new_key
from tests.conftest import T0, ServerFactory
from tests.fuzz.harness import Fuzz, stubs
from tests.fuzz.references import SEED_ROOMS, SEED_USERS
from tests.fuzz.strategies import MAX_BATCH, MAX_ROSTER
from tests.shared.calls import bearer, ts
from tests.shared.errors import logged_errors

# Large response trailers, so that the fuzzing can read (and check) errors naming many
# fields; test_errors.py shows that a client with gRPC's default limits reads them too.
TOLERANT_METADATA = 4 * 1024 * 1024

# The package's modules in the order they run (one not listed runs after these), and
# the one that runs last.
ORDER = [
    "test_rooms",
    "test_participants",
    "test_lists",
    "test_concurrency",
    "test_literals",
    "test_errors",
]
LAST = "test_afterwards"
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put this package's tests in that order, in the places they were collected in."""
    places = [i for i, item in enumerate(items) if item.path.parent == HERE]

    def rank(item: pytest.Item) -> tuple[bool, int]:
        stem = item.path.stem
        return stem == LAST, ORDER.index(stem) if stem in ORDER else len(ORDER)

    ordered = sorted((items[i] for i in places), key=rank)
    for place, item in zip(places, ordered, strict=True):
        items[place] = item


async def seed(fuzz: Fuzz, key: str, count: int) -> None:
    """`count` of SEED_ROOMS in the key's tenant, room n with a roster of 3n of
    SEED_USERS, and a real page token of each list."""
    md = bearer(key)
    for index, room_id in enumerate(SEED_ROOMS[:count]):
        room = await fuzz.rooms.CreateRoom(
            rs.CreateRoomRequest(
                room_id=room_id,
                room=room_pb2.Room(
                    valid_from=ts(timedelta(hours=index - 2)),
                    valid_until=ts(timedelta(days=index + 1)),
                    join_policy=(
                        room_pb2.JOIN_POLICY_OPEN if index % 2 else room_pb2.JOIN_POLICY_INVITE_ONLY
                    ),
                ),
                participants=[
                    participant_pb2.Participant(user_id=SEED_USERS[n], role=n % 5)  # type: ignore[arg-type]
                    for n in range(index * 3)
                ],
            ),
            metadata=md,
        )
        assert room.room_id == room_id
    listed = await fuzz.rooms.ListRooms(rs.ListRoomsRequest(page_size=1), metadata=md)
    roster = await fuzz.participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=SEED_ROOMS[2], page_size=2), metadata=md
    )
    memberships = await fuzz.participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=SEED_USERS[0], page_size=1), metadata=md
    )
    for token in (listed.next_page_token, roster.next_page_token, memberships.next_page_token):
        assert token
        fuzz.remember("tokens", token)


@pytest.fixture(scope="package")
async def fuzz(start: ServerFactory, clock: ManualClock) -> AsyncIterator[Fuzz]:
    """A server with a key for a new fuzz tenant (and one for another tenant, whose
    page tokens are foreign), seeded with rooms, rosters and real page tokens of every
    list. It collects what the server logs at ERROR; at the end, prints what ran
    (visible with `pytest -s`)."""
    clock.set(T0)  # the seed's windows are T0's (a test before may have moved the clock)
    suffix = uuid.uuid4().hex[:8]
    key, entry = new_key(f"fuzz-{suffix}", "k1")
    other_key, other_entry = new_key(f"fuzz-other-{suffix}", "k1")
    running = await start(
        api_keys=f"{entry.line()},{other_entry.line()}",
        max_roster_size=MAX_ROSTER,
        max_batch_size=MAX_BATCH,
        # Under the fuzzing load a 0.2 s database check can time out spuriously.
        health_check_interval_seconds=2,
    )
    target = f"127.0.0.1:{running.port}"
    with logged_errors("service") as server_errors:
        async with grpc.aio.insecure_channel(
            target, options=[("grpc.max_metadata_size", TOLERANT_METADATA)]
        ) as channel:
            auth = ("authorization", f"Bearer {key}")
            rooms, participants = stubs(channel)
            state = Fuzz(
                entry.caller.tenant, auth, rooms, participants, channel, target, server_errors
            )
            await seed(state, key, len(SEED_ROOMS))
            await seed(state, other_key, 3)
            for room_id in SEED_ROOMS:
                state.remember("rooms", room_id)
            for user_id in SEED_USERS:
                state.remember("users", user_id)
            yield state
            print("\n" + state.report())
    await running.stop(0)
