"""The values rooms derives for Janus. Whether Janus accepts them is proven against a
real Janus by the other tests of this folder; these pin their shape and stability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from service.domain.admission import ROLE_CAPABILITIES, Capability
from service.domain.janus import (
    Admitted,
    JanusPermissions,
    permissions_for,
    role_permissions,
)
from service.domain.models import Role
from service.media.janus.plan import plan_room
from service.media.janus.tokens import (
    VIDEOROOM_PLUGIN,
    core_token,
    join_token,
    participant_id,
    room_number,
    room_secret,
    stale_tokens,
    token_participant,
)

MAX_SAFE = 2**53 - 1


def test_room_numbers_are_stable_53_bit_and_distinct_per_tenant() -> None:
    # Pinned: a changed derivation would orphan every VideoRoom already created.
    assert room_number("acme", "standup") == 7389801998690522
    assert participant_id("acme", "standup", "alice") == 2742866492209304
    assert room_number("acme", "standup") != room_number("globex", "standup")
    # Parts are length-prefixed, so shifting a separator gives another room.
    assert room_number("ac", "me/standup") != room_number("ac/me", "standup")
    numbers = {room_number("acme", f"room-{i}") for i in range(2000)}
    assert len(numbers) == 2000
    assert all(1 <= n <= MAX_SAFE for n in numbers)


UNTIL = datetime(2030, 1, 1, tzinfo=UTC)


def test_join_tokens_are_signed_for_the_room_and_change_with_epoch_user_room_and_tenant() -> None:
    base = join_token(b"k", "acme", "standup", "alice", 0, UNTIL)
    assert base == join_token(b"k", "acme", "standup", "alice", 0, UNTIL)
    data, signature = base.split(":")
    number = room_number("acme", "standup")
    alice = participant_id("acme", "standup", "alice")
    # Janus's signed-token format: the VideoRoom realm, then the room's descriptor.
    assert data == f"1893456000,{VIDEOROOM_PLUGIN},room={number},p={alice},e=0"
    assert len(signature) == 28
    assert token_participant(base) == alice
    others = {
        join_token(b"k", "acme", "standup", "alice", 1, UNTIL),
        join_token(b"k", "acme", "standup", "bob", 0, UNTIL),
        join_token(b"k", "acme", "retro", "alice", 0, UNTIL),
        join_token(b"k", "globex", "standup", "alice", 0, UNTIL),
        join_token(b"other", "acme", "standup", "alice", 0, UNTIL),
        join_token(b"k", "acme", "standup", "alice", 0, UNTIL - timedelta(seconds=1)),
    }
    assert base not in others and len(others) == 6
    assert "alice" not in base and "acme" not in base  # opaque
    with pytest.raises(ValueError):
        join_token(b"k", "acme", "standup", "alice", -1, UNTIL)
    with pytest.raises(ValueError):
        join_token(b"k", "acme", "standup", "alice", 0, datetime(2030, 1, 1))


def test_stale_tokens_are_the_participants_own_in_that_room_but_the_one_kept() -> None:
    number = room_number("acme", "standup")
    alice = participant_id("acme", "standup", "alice")
    old = join_token(b"k", "acme", "standup", "alice", 0, UNTIL)
    new = join_token(b"k", "acme", "standup", "alice", 1, UNTIL)
    bobs = join_token(b"k", "acme", "standup", "bob", 0, UNTIL)
    allowed = [old, new, bobs, "opaque"]
    assert stale_tokens(allowed, number, alice, keep=new) == [old]
    assert stale_tokens(allowed, number, alice, keep=None) == sorted([old, new])
    assert stale_tokens(allowed, number + 1, alice, keep=None) == []


def test_room_secrets_differ_per_room() -> None:
    assert room_secret(b"k", "acme", "a") != room_secret(b"k", "acme", "b")


def test_core_token_has_janus_format_and_never_outlives_its_expiry() -> None:
    token = core_token(b"s", datetime(2030, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC))
    data, signature = token.split(":")
    assert data == f"1893456000,janus,{VIDEOROOM_PLUGIN}"
    assert len(signature) == 28  # base64 of a 20-byte HMAC-SHA1
    other_zone = datetime(2030, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert core_token(b"s", other_zone) == core_token(b"s", datetime(2030, 1, 1, tzinfo=UTC))
    two = core_token(b"s", datetime(2030, 1, 1, tzinfo=UTC), ["a.b", "c.d"])
    assert two.startswith("1893456000,janus,a.b,c.d:")
    with pytest.raises(ValueError):
        core_token(b"s", datetime(2030, 1, 1))
    with pytest.raises(ValueError):
        core_token(b"s", datetime(2030, 1, 1, tzinfo=UTC), ["bad,name"])
    with pytest.raises(ValueError):
        core_token(b"s", datetime(2030, 1, 1, tzinfo=UTC), [])


def test_a_consumer_subscribes_only_and_publishers_follow_the_capability_table() -> None:
    consumer = role_permissions(Role.CONSUMER)
    assert consumer == JanusPermissions(
        subscribe=True, publish_audio=False, publish_video=False, publish_screen=False
    )
    assert consumer.ptypes == {"subscriber"} and not consumer.publish
    assert role_permissions(Role.ATTENDEE) == JanusPermissions(True, True, True, False)
    assert role_permissions(Role.COLLABORATOR) == JanusPermissions(True, True, True, True)
    assert role_permissions(Role.PRESENTER) == JanusPermissions(True, True, True, True)
    for role in Role:
        permissions = role_permissions(role)
        capabilities = ROLE_CAPABILITIES[role]
        assert permissions.publish_audio == (Capability.SPEAK in capabilities)
        assert permissions.publish_video == (Capability.VIDEO in capabilities)
        assert permissions.publish_screen == (Capability.SHARE_SCREEN in capabilities)
        assert permissions.subscribe == (Capability.RECEIVE_MEDIA in capabilities)
    assert permissions_for([Capability.SPEAK]).ptypes == {"publisher"}


def test_a_plan_holds_every_admitted_identity_and_allows_only_publishers() -> None:
    plan = plan_room(
        b"t",
        b"k",
        "acme",
        "standup",
        {"bob": Admitted(Role.CONSUMER, 2, UNTIL), "alice": Admitted(Role.PRESENTER, 0, UNTIL)},
    )
    assert [m.user_id for m in plan.members] == ["alice", "bob"]
    assert plan.number == room_number("acme", "standup")
    assert plan.secret == room_secret(b"k", "acme", "standup")
    # A Consumer's token is checked by the room's signature only: never allowed to publish.
    assert plan.allowed == {join_token(b"t", "acme", "standup", "alice", 0, UNTIL)}
    bob = plan.member("bob")
    assert bob is not None and not bob.permissions.publish
    assert bob.join_token == join_token(b"t", "acme", "standup", "bob", 2, UNTIL)
    assert plan.member("carol") is None
    assert "acme" not in plan.description
