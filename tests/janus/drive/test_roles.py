"""Roles Janus enforces (issue 28): a Consumer's credential subscribes but never
publishes; a credential for one room does not open another; a demotion takes the
publisher out within 2 s, a promotion lets the credential already held publish."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rooms.v1 import credentials_pb2
from rooms.v1 import participant_pb2 as pp

from service.domain.clock import ManualClock
from service.media.janus import tokens as derive
from tests.conftest import ServerFactory
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

pytestmark = pytest.mark.janus

STAGE = 4_000_000_000_001  # the remote publisher's id: a feed to subscribe to


async def subscribe(d: Deployment, room: int, token: str, feed: int = STAGE) -> dict[str, Any]:
    async with looking(d) as client:
        return await client.subscribe(room, token, feed)


async def subscribes_but_cannot_publish(
    d: Deployment, credential: credentials_pb2.JoinCredential
) -> None:
    again, refused = await join_with(d, credential)
    assert refused.get("error_code") == NOT_ALLOWED, refused
    await again.aclose()
    attached = await subscribe(d, credential.janus.room, credential.janus.join_token)
    assert attached.get("videoroom") == "attached", attached


async def test_a_consumer_subscribes_but_is_refused_as_publisher(
    rooms_and_janus: Deployment, clock: ManualClock
) -> None:
    d = rooms_and_janus
    until = (clock.now() + timedelta(hours=1)).replace(microsecond=0)
    room_id = await d.make_room(
        {"carol": pp.ROLE_CONSUMER, "alice": pp.ROLE_ATTENDEE}, valid_until=timestamp(until)
    )
    other_id = await d.make_room({"carol": pp.ROLE_CONSUMER}, valid_until=timestamp(until))
    carol = (await d.authorize(room_id, "carol")).credential
    assert not carol.janus.may_publish
    await remote_feed(d, room_id, STAGE)

    # As a publisher: not in the allowed list.
    client, refused = await join_with(d, carol)
    assert refused.get("error_code") == NOT_ALLOWED, refused
    assert refused.get("error") == "Unauthorized (not in the allowed list)"
    await client.aclose()
    participants = {p.id for p in await d.adapter.participants(d.number(room_id))}
    assert carol.janus.participant_id not in participants
    allowed = await d.adapter.allowed_tokens(d.number(room_id), d.secret(room_id))
    assert allowed is not None and carol.janus.join_token not in allowed

    # As a subscriber: attached to the feed's streams.
    attached = await subscribe(d, carol.janus.room, carol.janus.join_token)
    assert attached.get("videoroom") == "attached", attached
    assert {s["feed_mid"] for s in attached["streams"]} == {"0", "1"}

    # A credential for another room, or another tenant's for a room of the same id,
    # does not subscribe here: the token is signed for its own room only.
    elsewhere = (await d.authorize(other_id, "carol")).credential
    key = d.config.token_auth_key
    other_tenant = derive.join_token(key, "other-tenant", room_id, "carol", 0, until)
    for token in (elsewhere.janus.join_token, other_tenant, "forged"):
        refused = await subscribe(d, d.number(room_id), token)
        assert refused.get("error_code") == NOT_ALLOWED, refused
        assert refused.get("error") == "Unauthorized (wrong token)"

    # An Attendee publishes; its token subscribes too.
    alice = (await d.authorize(room_id, "alice")).credential
    client, joined = await join_with(d, alice)
    assert joined.get("videoroom") == "joined", joined
    await client.aclose()
    assert (await subscribe(d, alice.janus.room, alice.janus.join_token))["videoroom"] == "attached"


async def test_a_demoted_publisher_is_out_within_two_seconds_and_comes_back_as_subscriber(
    start: ServerFactory, janus: JanusServer, tmp_path: Path, clock: ManualClock
) -> None:
    # The delivery engine runs on its own here (woken by the change's notification).
    async for d in deploy(start, janus, tmp_path, clock, delivery_poll_seconds=1):
        room_id = await d.make_room(
            {"erin": pp.ROLE_ATTENDEE, "carl": pp.ROLE_CONSUMER},
            valid_until=timestamp(clock.now() + timedelta(hours=1)),
        )
        erin = (await d.authorize(room_id, "erin")).credential
        await remote_feed(d, room_id, STAGE)
        client, joined = await join_with(d, erin)
        assert joined.get("videoroom") == "joined", joined
        pid = erin.janus.participant_id

        began = time.monotonic()
        await d.roster(room_id, erin=pp.ROLE_CONSUMER)
        while pid in {p.id for p in await d.adapter.participants(d.number(room_id))}:
            assert time.monotonic() - began < 2.0, "still a publisher after 2 s"
            await asyncio.sleep(0.05)
        assert (await own_leaving(client)).get("reason") == "kicked"
        await client.aclose()
        # Not a publisher again with the old credential; a subscriber with it, yes.
        await subscribes_but_cannot_publish(d, erin)
        # Its new credential, as a Consumer's, subscribes and is refused as publisher.
        renewed = (await d.authorize(room_id, "erin")).credential
        assert not renewed.janus.may_publish
        await subscribes_but_cannot_publish(d, renewed)

        # Promotion: the credential a Consumer holds publishes once the change is
        # delivered (within 2 s too); no new credential is needed.
        carl = (await d.authorize(room_id, "carl")).credential
        began = time.monotonic()
        await d.roster(room_id, carl=pp.ROLE_ATTENDEE)
        allowed: set[str] | None = set()
        while allowed is None or carl.janus.join_token not in allowed:
            assert time.monotonic() - began < 2.0, "not allowed to publish after 2 s"
            await asyncio.sleep(0.05)
            allowed = await d.adapter.allowed_tokens(d.number(room_id), d.secret(room_id))
        client, joined = await join_with(d, carl)
        assert joined.get("videoroom") == "joined", joined
        await client.aclose()
