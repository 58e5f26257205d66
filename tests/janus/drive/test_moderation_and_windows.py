"""Moderation decided by rooms and per-participant windows, against the real Janus
(issue 28): a mute through rooms silences the target's streams (Janus `moderate`, seen
as `moderated` in a publishers list) and the target cannot lift it; a participant
whose own window ends is ejected within 5 s, by the background lifecycle and delivery.

The target's streams are a Janus remote publisher with the target's participant id
(`remote_feed`): the tests send no WebRTC media, and Janus moderates a remote
publisher's streams as it does any publisher's."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps

from service.domain.clock import ManualClock
from tests.conftest import ServerFactory
from tests.janus.conftest import Signalling
from tests.janus.drive.deployment import (
    NOT_ALLOWED,
    Deployment,
    deploy,
    join_with,
    looking,
    own_leaving,
    remote_feed,
)
from tests.janus.harness import JanusServer
from tests.shared.calls import timestamp
from tests.shared.errors import expect_error

pytestmark = pytest.mark.janus


async def moderated(d: Deployment, room: int, token: str, feed: int) -> dict[str, bool]:
    """Each stream of `feed` (by mid) and whether Janus holds it moderated, as the
    publishers list of a new publisher join shows it."""
    async with looking(d) as looker:
        publishers = await looker.publishers(room, token)
    (found,) = [p for p in publishers if p["id"] == feed]
    return {s["mid"]: bool(s.get("moderated")) for s in found["streams"]}


async def moderate(d: Deployment, room_id: str, target: str, **how: Any) -> None:
    await d.people.ModerateParticipant(
        ps.ModerateParticipantRequest(room_id=room_id, user_id=target, **how),
        metadata=d.metadata,
    )
    await d.deliver()


async def test_a_mute_through_rooms_silences_the_target_and_only_rooms_lifts_it(
    rooms_and_janus: Deployment, clock: ManualClock
) -> None:
    d = rooms_and_janus
    room_id = await d.make_room(
        {"host": pp.ROLE_PRESENTER, "tom": pp.ROLE_ATTENDEE},
        valid_until=timestamp(clock.now() + timedelta(hours=1)),
    )
    host = (await d.authorize(room_id, "host")).credential
    tom = (await d.authorize(room_id, "tom")).credential
    feed = tom.janus.participant_id
    await remote_feed(d, room_id, feed)  # tom's audio ("0") and video ("1")
    view = host.janus.room, host.janus.join_token, feed
    assert await moderated(d, *view) == {"0": False, "1": False}

    await moderate(d, room_id, "tom", actor_user_id="host", muted=True)
    assert await moderated(d, *view) == {"0": True, "1": False}  # audio only
    await moderate(d, room_id, "tom", actor_user_id="host", muted=True, video=True)
    assert await moderated(d, *view) == {"0": True, "1": True}

    # Tom cannot lift it: his credential carries no room secret, and `moderate` needs it.
    client = Signalling(tom.server_url, tom.token)
    await client.attach()
    for secret in (None, "guess"):
        body: dict[str, Any] = {
            "request": "moderate",
            "room": tom.janus.room,
            "id": feed,
            "mid": "0",
            "mute": False,
        }
        if secret is not None:
            body["secret"] = secret
        answer = await client.post(client.path, {"janus": "message", "body": body})
        refusal = answer["plugindata"]["data"]
        assert refusal.get("error_code") in (429, NOT_ALLOWED), refusal
    await client.aclose()
    assert await moderated(d, *view) == {"0": True, "1": True}

    # Through rooms, and only on behalf of someone who may: refused for tom himself.
    await expect_error(
        moderate(d, room_id, "tom", actor_user_id="tom", muted=False, video=True),
        grpc.StatusCode.PERMISSION_DENIED,
        "MODERATION_NOT_ALLOWED",
    )
    await moderate(d, room_id, "tom", actor_user_id="host", muted=False, video=True)
    assert await moderated(d, *view) == {"0": False, "1": False}


async def test_a_participant_whose_own_window_ends_is_ejected_within_five_seconds(
    start: ServerFactory, janus: JanusServer, tmp_path: Path, clock: ManualClock
) -> None:
    # The lifecycle and the delivery engine run on their own, as on a replica.
    async for d in deploy(
        start, janus, tmp_path, clock, lifecycle_interval_seconds=1, delivery_poll_seconds=1
    ):
        until = (clock.now() + timedelta(minutes=10)).replace(microsecond=0)
        guest = pp.Participant(user_id="gus", role=pp.ROLE_ATTENDEE, valid_until=timestamp(until))
        room_id = await d.make_room(
            {"host": pp.ROLE_PRESENTER}, valid_until=timestamp(clock.now() + timedelta(hours=1))
        )
        await d.people.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(room_id=room_id, participants=[guest]),
            metadata=d.metadata,
        )
        credential = (await d.authorize(room_id, "gus")).credential
        # Its credential and its join token never outlive its own window.
        assert credential.expire_time.seconds <= int(until.timestamp())
        assert credential.janus.join_token.startswith(f"{int(until.timestamp())},")
        client, joined = await join_with(d, credential)
        assert joined.get("videoroom") == "joined", joined

        began = time.monotonic()
        clock.set(until)
        left = await asyncio.wait_for(own_leaving(client), timeout=5.0)
        assert left.get("reason") == "kicked", left
        assert time.monotonic() - began < 5.0
        await client.aclose()
        allowed = await d.adapter.allowed_tokens(d.number(room_id), d.secret(room_id))
        assert allowed is not None and credential.janus.join_token not in allowed
        again, refused = await join_with(d, credential)
        assert refused.get("error_code") == NOT_ALLOWED, refused
        await again.aclose()
        assert not (await d.authorize(room_id, "gus")).allowed
