"""rooms drives a real Janus end to end: the credential AuthorizeJoin hands out is what
a participant's client sends to Janus (plain HTTP signalling, `Signalling`), and Janus
itself admits, refuses, kicks and forgets, following the room's history through the
delivery engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rooms.v1 import participant_pb2 as pp

from service.domain.clock import ManualClock
from service.media.janus import tokens as derive
from tests.conftest import ServerFactory
from tests.janus.conftest import Signalling
from tests.janus.drive.deployment import (
    FORBIDDEN,
    JANUS,
    NOT_ALLOWED,
    Deployment,
    deploy,
    join_with,
    own_leaving,
)
from tests.janus.harness import JanusServer
from tests.shared.calls import timestamp


async def test_a_rostered_identity_joins_and_one_off_the_roster_cannot(
    rooms_and_janus: Deployment, clock: ManualClock
) -> None:
    d = rooms_and_janus
    until = (clock.now() + timedelta(hours=1)).replace(microsecond=0)
    room_id = await d.make_room(
        {"alice": pp.ROLE_ATTENDEE, "carol": pp.ROLE_CONSUMER}, valid_until=timestamp(until)
    )
    await d.running.lifecycle.run_once()  # OPENED
    await d.deliver()
    # The room opened: its VideoRoom exists, admitting the roster's join tokens.
    assert await d.adapter.exists(d.number(room_id))

    answer = await d.authorize(room_id, "alice")
    assert answer.allowed
    credential = answer.credential
    assert credential.format == JANUS
    assert credential.server_url == d.janus.url
    assert credential.janus.room == d.number(room_id)
    assert credential.janus.participant_id == derive.participant_id(d.tenant, room_id, "alice")
    assert credential.janus.may_publish
    # The core token's expiry is the credential's.
    assert int(credential.token.split(",")[0]) == credential.expire_time.seconds

    alice, joined = await join_with(d, credential)
    assert joined.get("videoroom") == "joined", joined
    assert joined["id"] == credential.janus.participant_id
    await alice.aclose()

    # A Consumer's credential says it subscribes only.
    carol = await d.authorize(room_id, "carol")
    assert carol.allowed and not carol.credential.janus.may_publish

    # Off the roster: no credential, and the token rooms would derive is refused.
    bob = await d.authorize(room_id, "bob")
    assert not bob.allowed and not bob.HasField("credential")
    stranger = Signalling(d.janus.url, credential.token)  # even with a good core token
    await stranger.attach()
    key = d.config.token_auth_key
    refused = await stranger.join(
        d.number(room_id), derive.join_token(key, d.tenant, room_id, "bob", 0, until)
    )
    assert refused.get("error_code") == NOT_ALLOWED, refused
    await stranger.aclose()


@pytest.mark.parametrize("ban", [False, True], ids=["removed", "banned"])
async def test_a_removed_or_banned_participant_is_kicked_and_cannot_rejoin(
    rooms_and_janus: Deployment, clock: ManualClock, ban: bool
) -> None:
    d = rooms_and_janus
    room_id = await d.make_room(
        {"alice": pp.ROLE_PRESENTER, "dave": pp.ROLE_ATTENDEE},
        valid_until=timestamp(clock.now() + timedelta(hours=1)),
    )
    # No OPENED delivered yet: AuthorizeJoin creates the VideoRoom on demand.
    old = (await d.authorize(room_id, "alice")).credential
    alice, joined = await join_with(d, old)
    assert joined.get("videoroom") == "joined", joined
    dave, joined = await join_with(d, (await d.authorize(room_id, "dave")).credential)
    assert joined.get("videoroom") == "joined", joined

    await d.remove(room_id, "alice", ban=ban)
    await d.running.lifecycle.run_once()
    await d.deliver()

    left = await own_leaving(alice)
    assert left.get("leaving") == "ok" and left.get("reason") == "kicked", left
    participants = await d.adapter.participants(d.number(room_id))
    assert [p.id for p in participants] == [derive.participant_id(d.tenant, room_id, "dave")]
    again, refused = await join_with(d, old)
    assert refused.get("error_code") == NOT_ALLOWED, refused
    for client in (alice, dave, again):
        await client.aclose()

    # Added back: a new credential with a new join token; the old one stays dead.
    await d.roster(room_id, alice=pp.ROLE_PRESENTER)
    new = (await d.authorize(room_id, "alice")).credential
    assert new.janus.join_token != old.janus.join_token
    back, joined = await join_with(d, new)
    assert joined.get("videoroom") == "joined", joined
    await back.aclose()
    stale, refused = await join_with(d, old)
    assert refused.get("error_code") == NOT_ALLOWED, refused
    await stale.aclose()


async def test_a_role_change_that_forbids_publishing_kicks_and_changes_the_token(
    rooms_and_janus: Deployment, clock: ManualClock
) -> None:
    d = rooms_and_janus
    room_id = await d.make_room(
        {"erin": pp.ROLE_ATTENDEE}, valid_until=timestamp(clock.now() + timedelta(hours=1))
    )
    old = (await d.authorize(room_id, "erin")).credential
    erin, joined = await join_with(d, old)
    assert joined.get("videoroom") == "joined", joined

    await d.roster(room_id, erin=pp.ROLE_CONSUMER)
    await d.deliver()

    left = await own_leaving(erin)
    assert left.get("reason") == "kicked", left
    again, refused = await join_with(d, old)
    assert refused.get("error_code") == NOT_ALLOWED, refused
    new = (await d.authorize(room_id, "erin")).credential
    assert not new.janus.may_publish and new.janus.join_token != old.janus.join_token
    for client in (erin, again):
        await client.aclose()


async def test_a_credential_past_its_expiry_is_refused_by_janus(
    start: ServerFactory, janus: JanusServer, tmp_path: Path, clock: ManualClock
) -> None:
    async for d in deploy(start, janus, tmp_path, clock, credential_ttl_seconds=60):
        # Issued as of two minutes ago: its one-minute lifetime is over by Janus's clock.
        clock.set(datetime.now(UTC) - timedelta(minutes=2))
        room_id = await d.make_room(
            {"frank": pp.ROLE_ATTENDEE}, valid_until=timestamp(clock.now() + timedelta(hours=1))
        )
        answer = await d.authorize(room_id, "frank")
        assert answer.credential.expire_time.ToDatetime(UTC) < datetime.now(UTC)
        client, refused = await join_with(d, answer.credential)
        assert refused["janus"] == "error" and refused["error"]["code"] == FORBIDDEN, refused
        await client.aclose()


async def test_when_the_window_ends_the_videoroom_is_gone(
    rooms_and_janus: Deployment, clock: ManualClock
) -> None:
    d = rooms_and_janus
    until = clock.now() + timedelta(minutes=30)
    room_id = await d.make_room({"gina": pp.ROLE_ATTENDEE}, valid_until=timestamp(until))
    credential = (await d.authorize(room_id, "gina")).credential
    # Never past the window's end.
    assert credential.expire_time.ToDatetime(UTC) <= until
    gina, joined = await join_with(d, credential)
    assert joined.get("videoroom") == "joined", joined

    clock.set(until + timedelta(seconds=1))
    await d.running.lifecycle.run_once()  # OPENED and ENDED
    await d.deliver()

    assert (await own_leaving(gina)).get("videoroom") == "destroyed"
    assert not await d.adapter.exists(d.number(room_id))
    await gina.aclose()
    # Asking again: the room has ended, no credential.
    assert not (await d.authorize(room_id, "gina")).allowed
