"""The official Python client against the ACS API: every method, paging, repeatability,
precise errors, and tenants that never see each other's rooms."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from azure.communication.identity import CommunicationIdentityClient
from azure.communication.rooms import ParticipantRole

from service.server import RunningServer
from tests.acs.sdk_calls import (
    client_of,
    error_body,
    failure,
    member,
    new_tenant,
    off_loop,
    roster,
)

pytestmark = pytest.mark.usefixtures("trust_ca")
P = ParticipantRole


async def test_every_method_round_trips(acs_server: RunningServer, pool: asyncpg.Pool) -> None:
    connection = await new_tenant(pool, acs_server)
    client = client_of(connection)
    identities = CommunicationIdentityClient.from_connection_string(connection)
    alice = (await off_loop(identities.create_user)).properties["id"]
    bob = (await off_loop(identities.create_user)).properties["id"]
    assert alice.startswith("8:acs:") and alice != bob
    start = datetime.now(UTC).replace(microsecond=123456) + timedelta(days=1)
    room = await off_loop(
        client.create_room,
        valid_from=start,
        valid_until=start + timedelta(days=30),
        pstn_dial_out_enabled=True,
        participants=[member(alice, P.PRESENTER)],
    )
    # Every field, dates with six fractional digits and +00:00, as ACS writes them.
    assert room.valid_from == start.isoformat(timespec="microseconds")
    assert room.valid_until.endswith("+00:00") and room.pstn_dial_out_enabled is True
    got = await off_loop(client.get_room, room.id)
    assert (got.id, got.created_at, got.valid_from) == (room.id, room.created_at, room.valid_from)
    updated = await off_loop(client.update_room, room_id=room.id, pstn_dial_out_enabled=False)
    assert updated.pstn_dial_out_enabled is False and updated.valid_from == room.valid_from
    await off_loop(
        client.add_or_update_participants,
        room_id=room.id,
        participants=[member(alice, P.CONSUMER), member(bob, P.COLLABORATOR)],
    )
    listed = roster(await off_loop(lambda: list(client.list_participants(room.id))))
    assert listed == {alice: "Consumer", bob: "Collaborator"}
    await off_loop(client.remove_participants, room_id=room.id, participants=[member(alice)])
    listed = roster(await off_loop(lambda: list(client.list_participants(room.id))))
    assert listed == {bob: "Collaborator"}
    rooms = await off_loop(lambda: [r.id for r in client.list_rooms()])
    assert rooms == [room.id]
    await off_loop(client.delete_room, room.id)
    await off_loop(client.delete_room, room.id)  # deleted again: 204 again, as over gRPC
    assert error_body(await failure(client.get_room, room.id))[:2] == (404, "NotFound")
    assert await off_loop(lambda: list(client.list_rooms())) == []


async def test_lists_page_with_absolute_next_links(
    acs_server: RunningServer, pool: asyncpg.Pool
) -> None:
    """Page size 2 here: three rooms and three participants are two pages each."""
    client = client_of(await new_tenant(pool, acs_server))
    made = [(await off_loop(client.create_room)).id for _ in range(3)]
    people = [member(f"8:acs:page_{n}", P.ATTENDEE) for n in range(3)]
    await off_loop(client.add_or_update_participants, room_id=made[0], participants=people)
    for pages in (
        await off_loop(lambda: [list(p) for p in client.list_rooms().by_page()]),
        await off_loop(lambda: [list(p) for p in client.list_participants(made[0]).by_page()]),
    ):
        assert [len(page) for page in pages] == [2, 1]
    assert sorted(r.id for r in await off_loop(lambda: list(client.list_rooms()))) == sorted(made)
    # The raw pages: an absolute nextLink keeping api-version, then none.
    bodies: list[dict[str, Any]] = []

    def keep(response: Any) -> None:
        bodies.append(response.http_response.json())

    await off_loop(lambda: list(client.list_rooms(raw_response_hook=keep)))
    assert [len(body["value"]) for body in bodies] == [2, 1]
    link = bodies[0]["nextLink"]
    assert link.startswith("https://127.0.0.1:") and "api-version=2025-03-13" in link
    assert "nextLink" not in bodies[1]


async def test_a_repeated_create_returns_the_same_room(
    acs_server: RunningServer, pool: asyncpg.Pool
) -> None:
    client = client_of(await new_tenant(pool, acs_server))
    request_id = str(uuid.uuid4())

    def same_id(request: Any) -> None:
        request.http_request.headers["Repeatability-Request-Id"] = request_id

    first = await off_loop(client.create_room, raw_request_hook=same_id)
    again = await off_loop(client.create_room, raw_request_hook=same_id)
    assert (again.id, again.created_at) == (first.id, first.created_at)
    assert [r.id for r in await off_loop(lambda: list(client.list_rooms()))] == [first.id]
    # The same id with another body is refused, not a second room.
    reused = await failure(client.create_room, pstn_dial_out_enabled=True, raw_request_hook=same_id)
    status, code, body = error_body(reused)
    assert (status, code, body["error"]["target"]) == (
        400,
        "BadRequest",
        "Repeatability-Request-ID",
    )


async def test_bad_input_is_a_400_naming_the_field(
    acs_server: RunningServer, pool: asyncpg.Pool
) -> None:
    client = client_of(await new_tenant(pool, acs_server))
    room = await off_loop(client.create_room)
    now = datetime.now(UTC)
    cases: list[tuple[Callable[..., Any], dict[str, Any], str | None]] = [
        (client.create_room, {"valid_until": now - timedelta(days=1)}, "validUntil"),
        (client.create_room, {"valid_from": now, "valid_until": now + timedelta(days=200)}, None),
        (client.create_room, {"participants": [member("wrong_mri")]}, "participants"),
        (
            client.add_or_update_participants,
            {"room_id": room.id, "participants": [member("8:acs:x", "Kafka")]},
            "participants",
        ),
        (client.remove_participants, {"room_id": room.id, "participants": [member("no")]}, None),
    ]
    for call, arguments, target in cases:
        status, code, body = error_body(await failure(call, **arguments))
        assert (status, code) == (400, "BadRequest"), body
        assert body["error"]["message"]
        if target is not None:
            assert body["error"]["target"] == target, body


async def test_another_tenants_room_is_a_room_that_never_existed(
    acs_server: RunningServer, pool: asyncpg.Pool
) -> None:
    owner = client_of(await new_tenant(pool, acs_server))
    stranger = client_of(await new_tenant(pool, acs_server))
    room = await off_loop(owner.create_room, participants=[member("8:acs:owner", P.PRESENTER)])
    never = "never-existed-0"
    calls = [
        lambda room_id: stranger.get_room(room_id),
        lambda room_id: stranger.update_room(room_id=room_id, pstn_dial_out_enabled=True),
        lambda room_id: list(stranger.list_participants(room_id)),
        lambda room_id: stranger.add_or_update_participants(
            room_id=room_id, participants=[member("8:acs:intruder")]
        ),
        lambda room_id: stranger.remove_participants(
            room_id=room_id, participants=[member("8:acs:owner")]
        ),
        lambda room_id: stranger.delete_room(room_id),
    ]
    for call in calls:
        theirs = error_body(await failure(call, room.id))
        missing = error_body(await failure(call, never))
        assert theirs == missing and theirs[:2] == (404, "NotFound")
        assert room.id not in json.dumps(theirs[2])
    assert await off_loop(lambda: list(stranger.list_rooms())) == []
    # The owner's room is untouched.
    kept = roster(await off_loop(lambda: list(owner.list_participants(room.id))))
    assert kept == {"8:acs:owner": "Presenter"}
