"""rooms drives a real Janus: VideoRooms restricted to the join tokens rooms derives, with
Janus itself deciding who gets in (the participant side is plain HTTP signalling)."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from service.domain.janus import Admitted
from service.domain.models import Role
from service.media.janus.client import JanusError, VideoRoomError
from service.media.janus.config import JanusConfig
from service.media.janus.plan import JanusMember, JanusRoomPlan, plan_room
from service.media.janus.tokens import core_token, join_token
from service.media.janus.videoroom import NO_SUCH_ROOM, JanusVideoRooms
from tests.janus.conftest import Signalling, janus_config, started
from tests.janus.harness import JanusServer

NOT_ALLOWED = 433  # VideoRoom: "Unauthorized (not in the allowed list)"
FORBIDDEN = 403  # Janus core: "Unauthorized request (wrong or missing secret/token)"

Adapter = tuple[JanusConfig, JanusVideoRooms]
MakeClient = Callable[..., Signalling]


def fresh_room() -> str:
    return f"room-{secrets.token_hex(4)}"


UNTIL = datetime.now(UTC) + timedelta(days=1)  # the end of every identity's window here


def plan_of(
    config: JanusConfig, tenant: str, room_id: str, admitted: dict[str, tuple[Role, int]]
) -> JanusRoomPlan:
    """`plan_room` with the test's window end for every identity."""
    entries = {user: Admitted(role, epoch, UNTIL) for user, (role, epoch) in admitted.items()}
    return plan_room(config.token_auth_key, config.room_key, tenant, room_id, entries)


def token_of(config: JanusConfig, tenant: str, room_id: str, user_id: str, epoch: int) -> str:
    return join_token(config.token_auth_key, tenant, room_id, user_id, epoch, UNTIL)


async def member_joins(
    signalling: MakeClient, plan: JanusRoomPlan, user_id: str
) -> tuple[JanusMember, Signalling, dict[str, Any]]:
    """`user_id`, a member of `plan`, joins with its join token and participant id from
    a client of its own: the member, the client, and the VideoRoom's answer."""
    member = plan.member(user_id)
    assert member is not None
    client = signalling()
    await client.attach()
    return member, client, await client.join(plan.number, member.join_token, member.participant_id)


async def test_an_admitted_identity_joins_with_its_join_token(
    rooms_janus: Adapter, signalling: MakeClient
) -> None:
    config, janus = rooms_janus
    plan = plan_of(config, "acme", fresh_room(), {"alice": (Role.ATTENDEE, 0)})
    assert (await janus.reconcile(plan)).created
    alice = plan.member("alice")
    assert alice is not None

    client = signalling()
    assert (await client.attach())["janus"] == "success"
    joined = await client.join(plan.number, alice.join_token, alice.participant_id)

    assert joined["videoroom"] == "joined", joined
    assert joined["room"] == plan.number
    assert joined["id"] == alice.participant_id
    assert [p.id for p in await janus.participants(plan.number)] == [alice.participant_id]


async def test_a_token_not_in_the_allowed_list_gets_433(
    rooms_janus: Adapter, signalling: MakeClient
) -> None:
    config, janus = rooms_janus
    room_id = fresh_room()
    plan = plan_of(config, "acme", room_id, {"alice": (Role.PRESENTER, 0)})
    await janus.reconcile(plan)
    # Bob's token is what rooms would derive for him, but he is not admitted.
    bobs = token_of(config, "acme", room_id, "bob", 0)
    # Alice's token for another tenant's room of the same id is another token.
    other_tenant = token_of(config, "globex", room_id, "alice", 0)

    for token in (bobs, other_tenant, None):
        client = signalling()
        await client.attach()
        refused = await client.join(plan.number, token)
        assert refused.get("error_code") == NOT_ALLOWED, refused
    assert await janus.participants(plan.number) == []


async def test_a_room_with_nobody_admitted_admits_nobody(
    rooms_janus: Adapter, signalling: MakeClient
) -> None:
    config, janus = rooms_janus
    room_id = fresh_room()
    plan = plan_of(config, "acme", room_id, {})
    assert (await janus.reconcile(plan)).created
    client = signalling()
    await client.attach()
    refused = await client.join(plan.number, token_of(config, "acme", room_id, "x", 0))
    assert refused.get("error_code") == NOT_ALLOWED, refused


async def test_after_disallow_and_kick_the_participant_is_gone_and_cannot_rejoin(
    rooms_janus: Adapter, signalling: MakeClient
) -> None:
    config, janus = rooms_janus
    plan = plan_of(
        config,
        "acme",
        fresh_room(),
        {"alice": (Role.ATTENDEE, 0), "carol": (Role.CONSUMER, 0)},
    )
    await janus.ensure_room(plan)
    alice, client, answer = await member_joins(signalling, plan, "alice")
    assert answer["videoroom"] == "joined"

    assert await janus.disallow(plan.number, plan.secret, [alice.join_token])
    assert await janus.kick(plan.number, plan.secret, alice.participant_id)

    left = await client.event()
    assert left.get("leaving") == "ok" and left.get("reason") == "kicked", left
    assert await janus.participants(plan.number) == []
    again = signalling()
    await again.attach()
    refused = await again.join(plan.number, alice.join_token, alice.participant_id)
    assert refused.get("error_code") == NOT_ALLOWED, refused
    # Done already counts as done.
    assert not await janus.kick(plan.number, plan.secret, alice.participant_id)
    assert await janus.disallow(plan.number, plan.secret, [alice.join_token])


async def test_an_expired_or_forged_core_token_is_refused_by_janus_itself(
    janus: JanusServer, signalling: MakeClient
) -> None:
    secret = janus.token_auth_secret.encode()
    expired = core_token(secret, datetime(2020, 1, 1, tzinfo=UTC))
    forged = core_token(b"not-the-secret", datetime.now(UTC) + timedelta(hours=1))
    for token in (expired, forged):
        answer = await signalling(core=token).attach()
        assert answer["janus"] == "error" and answer["error"]["code"] == FORBIDDEN, answer

    # A valid token for another plugin opens a session but not the VideoRoom.
    echo_only = core_token(
        secret, datetime.now(UTC) + timedelta(hours=1), ["janus.plugin.echotest"]
    )
    answer = await signalling(core=echo_only).attach()
    assert answer["janus"] == "error", answer


async def test_destroy_removes_the_room_and_its_participants(
    rooms_janus: Adapter, signalling: MakeClient
) -> None:
    config, janus = rooms_janus
    plan = plan_of(config, "acme", fresh_room(), {"alice": (Role.ATTENDEE, 0)})
    await janus.reconcile(plan)
    alice, client, _ = await member_joins(signalling, plan, "alice")

    assert await janus.destroy(plan.number, plan.secret)

    assert (await client.event()).get("videoroom") == "destroyed"
    assert not await janus.exists(plan.number)
    assert not await janus.destroy(plan.number, plan.secret)  # already gone: done
    late = signalling()
    await late.attach()
    assert (await late.join(plan.number, alice.join_token)).get("error_code") == NO_SUCH_ROOM
    with pytest.raises(VideoRoomError) as missing:
        await janus.allow(plan.number, plan.secret, [alice.join_token])
    assert missing.value.code == NO_SUCH_ROOM


async def test_ensure_room_and_allow_are_idempotent(
    rooms_janus: Adapter, signalling: MakeClient
) -> None:
    config, janus = rooms_janus
    room_id = fresh_room()
    plan = plan_of(config, "acme", room_id, {"alice": (Role.ATTENDEE, 0)})
    assert await janus.ensure_room(plan)
    assert not await janus.ensure_room(plan)
    later = plan_of(
        config, "acme", room_id, {"alice": (Role.ATTENDEE, 0), "bob": (Role.ATTENDEE, 0)}
    )
    bob = later.member("bob")
    assert bob is not None
    await janus.allow(later.number, later.secret, [bob.join_token])
    await janus.allow(later.number, later.secret, [bob.join_token])
    _, _, answer = await member_joins(signalling, later, "bob")
    assert answer["videoroom"] == "joined"


async def test_reconcile_makes_janus_match_the_plan(
    rooms_janus: Adapter, signalling: MakeClient
) -> None:
    config, janus = rooms_janus
    room_id = fresh_room()
    before = plan_of(
        config,
        "acme",
        room_id,
        {"alice": (Role.ATTENDEE, 0), "bob": (Role.ATTENDEE, 0)},
    )
    await janus.reconcile(before)
    bob, _, _ = await member_joins(signalling, before, "bob")
    # A participant that joined with an id rooms did not issue is a stranger.
    alice = before.member("alice")
    assert alice is not None
    stranger = signalling()
    await stranger.attach()
    await stranger.join(before.number, alice.join_token, 4242)

    # Bob is removed, Alice demoted to Consumer with a new epoch (her old token is dead).
    after = plan_of(config, "acme", room_id, {"alice": (Role.CONSUMER, 1)})
    result = await janus.reconcile(after)

    assert not result.created
    assert result.allowed_removed == {alice.join_token, bob.join_token}
    assert after.allowed == set() and result.allowed_added == set()  # a Consumer's is not
    assert result.kicked == {bob.participant_id, 4242}
    assert await janus.participants(after.number) == []
    assert not (await janus.reconcile(after)).changed
    new_alice = after.member("alice")
    assert new_alice is not None
    for token in (alice.join_token, new_alice.join_token):
        retry = signalling()
        await retry.attach()
        refused = await retry.join(after.number, token, alice.participant_id)
        assert refused.get("error_code") == NOT_ALLOWED, refused


async def test_janus_restarted_in_the_middle_reconcile_restores_the_room(
    tmp_path: Path, signalling: MakeClient
) -> None:
    server = await started(tmp_path)
    config = janus_config(server)
    janus = JanusVideoRooms(config)
    try:
        room_id = fresh_room()
        plan = plan_of(config, "acme", room_id, {"alice": (Role.PRESENTER, 3)})
        alice = plan.member("alice")
        assert alice is not None
        await janus.reconcile(plan)
        assert await janus.exists(plan.number)

        await server.restart()
        assert server.returncode == 0, "Janus did not stop cleanly:\n" + "\n".join(server.log)

        # Janus forgot the room, and rooms' own session with it (the client makes a new one).
        assert not await janus.exists(plan.number)
        assert (await janus.reconcile(plan)).created
        assert await janus.exists(plan.number)
        client = signalling(server)
        await client.attach()
        joined = await client.join(plan.number, alice.join_token, alice.participant_id)
        assert joined["videoroom"] == "joined", joined
        other = signalling(server)
        await other.attach()
        bobs = token_of(config, "acme", room_id, "bob", 0)
        assert (await other.join(plan.number, bobs)).get("error_code") == NOT_ALLOWED
    finally:
        await janus.aclose()
        await server.stop()


async def test_rooms_own_requests_need_the_right_secret_and_admin_key(
    janus: JanusServer,
) -> None:
    plan = plan_of(janus_config(janus), "acme", fresh_room(), {})
    wrong_secret = dataclasses.replace(janus_config(janus), token_auth_secret=SecretStr("x"))
    adapter = JanusVideoRooms(wrong_secret)
    with pytest.raises(JanusError) as refused:
        await adapter.reconcile(plan)
    assert refused.value.code == FORBIDDEN
    await adapter.aclose()

    without_admin_key = JanusVideoRooms(janus_config(janus, admin_key=False))
    with pytest.raises(VideoRoomError):
        await without_admin_key.reconcile(plan)
    await without_admin_key.aclose()


async def test_no_secret_reaches_the_logs(
    rooms_janus: Adapter, signalling: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    config, janus = rooms_janus
    caplog.set_level(logging.DEBUG)
    plan = plan_of(config, "acme", fresh_room(), {"alice": (Role.ATTENDEE, 0)})
    await janus.reconcile(plan)
    await janus.allow(plan.number, plan.secret, plan.allowed)
    await janus.disallow(plan.number, plan.secret, plan.allowed)
    await janus.kick(plan.number, plan.secret, 1)
    await janus.destroy(plan.number, plan.secret)

    secrets_used = [
        config.token_auth_secret.get_secret_value(),
        config.room_secret.get_secret_value(),
        config.admin_key.get_secret_value() if config.admin_key else "",
        plan.secret,
        *plan.allowed,
    ]
    # Requests go through aiohttp (the delivery's HttpClient), which logs none: what is
    # checked is whatever the adapter and its libraries log at DEBUG, and the reprs.
    logged = caplog.text + repr(config) + repr(janus)
    for value in secrets_used:
        assert value not in logged
