"""ModerateParticipant, ListOccurrences and the calendar feeds through grpcurl (a client
that is not ours): another tenant's room is NOT_FOUND like a missing one, values at the
edges of their types are named refusals or plain answers, never UNKNOWN or INTERNAL."""

from __future__ import annotations

import json
import re

import pytest

from tests.shared.calls import GRPCURL, grpcurl
from tests.shared.outside_in import INT32_MAX, Two, open_room

pytestmark = pytest.mark.skipif(GRPCURL is None, reason="grpcurl not installed")

MODERATE = "rooms.v1.ParticipantsService/ModerateParticipant"
OCCURRENCES = "rooms.v1.RoomsService/ListOccurrences"
FEED = "rooms.v1.CalendarService/CreateCalendarFeed"
FIRST, LAST = "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"


async def test_new_rpcs_on_another_tenants_room_are_not_found(two: Two) -> None:
    foreign = await open_room(two.b)
    missing = "outside-never-made"
    for method, body in (
        (MODERATE, {"actorUserId": "host", "userId": "host", "muted": True}),
        (OCCURRENCES, {}),
        (FEED, {"feed": {}}),
    ):
        answers = []
        for room_id in (foreign, missing):
            filled = {**body, "roomId": room_id}
            if method == FEED:
                filled = {"feed": {"roomId": room_id}}
            status, output = await grpcurl(two.port, two.a.metadata, method, json.dumps(filled))
            assert status != 0, (method, output[:500])
            assert '"code": 5' in output and "ROOM_NOT_FOUND" in output, (method, output[:500])
            unique = re.sub(r'"request_id":"[^"]*"', "", output.replace(room_id, "ROOM"))
            answers.append(unique)
        assert answers[0] == answers[1], method  # nothing tells B's room from none


@pytest.mark.parametrize(
    "body",
    [
        {"startTime": FIRST, "endTime": LAST},
        {"startTime": LAST, "endTime": FIRST},
        {"pageSize": INT32_MAX},
        {"pageSize": -1},
        {"pageToken": "x" * 10_000},
    ],
    ids=["whole-range", "reversed", "int32-max", "negative", "long-token"],
)
async def test_list_occurrences_at_the_edges(two: Two, body: dict[str, object]) -> None:
    room_id = await open_room(two.a)
    status, output = await grpcurl(
        two.port, two.a.metadata, OCCURRENCES, json.dumps({"roomId": room_id, **body})
    )
    assert '"code": 2' not in output and '"code": 13' not in output, output[:500]
    if status != 0:
        assert '"code": 3' in output and "field_violations" in output, output[:500]


async def test_moderate_with_extreme_identities_is_named(two: Two) -> None:
    room_id = await open_room(two.a)
    for field, body in (
        ("actor_user_id", {"actorUserId": "x" * 10_000, "userId": "host"}),
        ("user_id", {"actorUserId": "host", "userId": "\u0000"}),
    ):
        status, output = await grpcurl(
            two.port, two.a.metadata, MODERATE, json.dumps({"roomId": room_id, **body})
        )
        assert status != 0 and '"code": 3' in output, (field, output[:500])
        assert field in output, (field, output[:500])
