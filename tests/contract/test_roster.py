"""The contract of rosters: upsert (no-ops, role changes, the roster limit, bans
lifted), remove and ban, list and get participants, memberships."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from service.domain.errors import ErrorReason
from service.domain.events import EventType
from service.domain.models import Participant, Role, RoomState, RosterEntry
from service.domain.ports import Position
from tests.conftest import T0
from tests.contract.conftest import ACTOR, Subject, refused

HOUR = timedelta(hours=1)
LATER = T0 + HOUR


async def events_after(
    subject: Subject, after: int, room_id: str = "r1"
) -> list[tuple[int, EventType, str | None]]:
    found = await subject.store.read_events(
        tenant=subject.tenant, room_id=room_id, after=after, limit=100
    )
    return [(e.revision, e.type, e.user_id) for e in found]


async def upsert(
    subject: Subject, roster: list[RosterEntry], **kwargs: Any
) -> tuple[list[Participant], int]:
    arguments: dict[str, Any] = {"expected_version": None, "max_roster_size": 10, "now": LATER}
    arguments.update(kwargs)
    return await subject.store.upsert_participants(
        tenant=subject.tenant, room_id="r1", roster=roster, actor=ACTOR, **arguments
    )


async def remove(subject: Subject, user_ids: list[str], **kwargs: Any) -> tuple[int, int]:
    arguments: dict[str, Any] = {"expected_version": None, "now": LATER, "ban": False}
    arguments.update(kwargs)
    return await subject.store.remove_participants(
        tenant=subject.tenant, room_id="r1", user_ids=user_ids, actor=ACTOR, **arguments
    )


async def test_upsert_adds_changes_roles_and_skips_no_ops(subject: Subject) -> None:
    await subject.create("r1", [RosterEntry("amy"), RosterEntry("bob", Role.PRESENTER)])
    result, version = await upsert(
        subject,
        [RosterEntry("cat"), RosterEntry("bob", Role.CONSUMER), RosterEntry("amy")],
        expected_version=1,
    )
    assert result == [
        Participant("cat", Role.ATTENDEE, LATER, LATER),
        Participant("bob", Role.CONSUMER, T0, LATER),
        Participant("amy", Role.ATTENDEE, T0, T0),
    ]
    assert version == 2
    assert await events_after(subject, 3) == [
        (4, EventType.PARTICIPANT_ADDED, "cat"),
        (5, EventType.ROLE_CHANGED, "bob"),
    ]
    room = await subject.store.get_room(tenant=subject.tenant, room_id="r1")
    assert room is not None
    assert (room.version, room.participant_count, room.update_time) == (2, 3, LATER)
    # Sending the same roles again changes nothing: the version (and etag) stays.
    assert await upsert(subject, [RosterEntry("amy")], expected_version=2) == (
        [Participant("amy", Role.ATTENDEE, T0, T0)],
        2,
    )
    assert await events_after(subject, 5) == []
    # Losing the right to publish starts a new membership epoch.
    _, _, _, _, epoch = await subject.store.get_join_facts(
        tenant=subject.tenant, room_id="r1", user_id="bob"
    )
    assert epoch == 1


async def test_upsert_checks_the_room_and_its_etag(subject: Subject) -> None:
    await refused(upsert(subject, [RosterEntry("amy")]), ErrorReason.ROOM_NOT_FOUND, room_id="r1")
    await subject.create("r1")
    await refused(
        upsert(subject, [RosterEntry("amy")], expected_version=5),
        ErrorReason.ETAG_MISMATCH,
        room_id="r1",
        etag='"1"',
    )


async def test_upsert_past_the_roster_limit_writes_nothing(subject: Subject) -> None:
    await subject.create("r1", [RosterEntry("amy"), RosterEntry("bob")])
    roster = [RosterEntry("amy", Role.PRESENTER), RosterEntry("cat"), RosterEntry("dan")]
    await refused(
        upsert(subject, roster, max_roster_size=3),
        ErrorReason.ROSTER_FULL,
        room_id="r1",
        limit="3",
        size="4",
    )
    assert await events_after(subject, 0) == [
        (1, EventType.CREATED, None),
        (2, EventType.PARTICIPANT_ADDED, "amy"),
        (3, EventType.PARTICIPANT_ADDED, "bob"),
    ]
    # Exactly at the limit is fine.
    _, version = await upsert(subject, roster[:2], max_roster_size=3)
    assert version == 2


async def test_remove_and_ban(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1", [RosterEntry("amy"), RosterEntry("bob")])
    # Removing nobody on the roster changes nothing.
    assert await remove(subject, ["zed"], expected_version=1) == (0, 1)
    await refused(
        remove(subject, ["amy"], expected_version=3),
        ErrorReason.ETAG_MISMATCH,
        room_id="r1",
        etag='"1"',
    )
    assert await remove(subject, ["amy", "zed"], expected_version=1) == (1, 2)
    # A ban needs no roster entry; an identity already banned is not banned again.
    assert await remove(subject, ["bob", "zed"], ban=True) == (1, 3)
    assert await remove(subject, ["zed"], ban=True) == (0, 3)
    assert await events_after(subject, 3) == [
        (4, EventType.PARTICIPANT_REMOVED, "amy"),
        (5, EventType.PARTICIPANT_REMOVED, "bob"),
        (6, EventType.PARTICIPANT_BANNED, "bob"),
        (7, EventType.PARTICIPANT_BANNED, "zed"),
    ]
    room, participant, _, removal, epoch = await store.get_join_facts(
        tenant=tenant, room_id="r1", user_id="amy"
    )
    assert room is not None and (room.version, room.participant_count) == (3, 0)
    assert participant is None
    assert removal is not None and (removal.version, removal.banned) == (2, False)
    assert epoch == 1
    _, _, _, removal, epoch = await store.get_join_facts(tenant=tenant, room_id="r1", user_id="zed")
    assert removal is not None and (removal.version, removal.banned) == (3, True)
    assert epoch == 1
    # A plain removal later keeps the ban.
    assert await remove(subject, ["zed"]) == (0, 3)
    _, _, _, removal, _ = await store.get_join_facts(tenant=tenant, room_id="r1", user_id="zed")
    assert removal is not None and (removal.version, removal.banned) == (3, True)


async def test_adding_a_banned_identity_lifts_its_ban_first(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1", [RosterEntry("amy")])
    await remove(subject, ["amy", "bob"], ban=True)
    result, version = await upsert(subject, [RosterEntry("bob"), RosterEntry("amy", Role.CONSUMER)])
    assert [p.user_id for p in result] == ["bob", "amy"]
    assert version == 3
    assert await events_after(subject, 5) == [
        (6, EventType.PARTICIPANT_UNBANNED, "bob"),
        (7, EventType.PARTICIPANT_UNBANNED, "amy"),
        (8, EventType.PARTICIPANT_ADDED, "bob"),
        (9, EventType.PARTICIPANT_ADDED, "amy"),
    ]
    # The removal is remembered (with the version it made), the ban is not.
    _, _, _, removal, _ = await store.get_join_facts(tenant=tenant, room_id="r1", user_id="bob")
    assert removal is not None and (removal.version, removal.banned) == (2, False)


async def test_list_and_get_participants(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    roster = [
        RosterEntry("d", Role.PRESENTER),
        RosterEntry("b"),
        RosterEntry("a", Role.PRESENTER),
        RosterEntry("c"),
    ]
    await subject.create("r1", roster)

    async def listed(role: Role | None, after: str | None, limit: int = 10) -> list[str] | None:
        found = await store.list_participants(
            tenant=tenant, room_id="r1", role=role, after_user_id=after, limit=limit
        )
        return None if found is None else [p.user_id for p in found]

    assert await listed(None, None) == ["a", "b", "c", "d"]
    assert await listed(None, None, limit=2) == ["a", "b"]
    assert await listed(None, "b") == ["c", "d"]
    assert await listed(Role.PRESENTER, None) == ["a", "d"]
    assert await listed(Role.PRESENTER, "a") == ["d"]
    assert await listed(Role.CONSUMER, None) == []
    assert await listed(None, "d") == []
    assert (
        await store.list_participants(
            tenant=tenant, room_id="nope", role=None, after_user_id=None, limit=10
        )
        is None
    )
    room, participant = await store.get_participant(tenant=tenant, room_id="r1", user_id="d")
    assert room is not None and room.room_id == "r1"
    assert participant == Participant("d", Role.PRESENTER, T0, T0)
    room, participant = await store.get_participant(tenant=tenant, room_id="r1", user_id="x")
    assert room is not None and participant is None
    assert await store.get_participant(tenant=tenant, room_id="nope", user_id="d") == (None, None)


async def test_memberships_by_window_start_then_room_id(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    amy = [RosterEntry("amy", Role.COLLABORATOR)]
    await subject.create("c-open", amy, valid_from=T0 - HOUR)
    await subject.create("b-open", amy, valid_from=T0 - HOUR)
    await subject.create("a-ended", amy, valid_from=T0 - 2 * HOUR, valid_until=T0 - HOUR)
    await subject.create("d-soon", amy, valid_from=T0 + HOUR, valid_until=T0 + 2 * HOUR)
    await subject.create("e-other", [RosterEntry("bob")])
    await subject.create("f-gone", amy, valid_from=T0 - HOUR)
    await store.delete_room(
        tenant=tenant, room_id="f-gone", expected_version=None, now=T0, actor=ACTOR
    )

    async def ids(
        state: RoomState | None, after: Position | None = None, limit: int = 10
    ) -> list[str]:
        found = await store.list_memberships(
            tenant=tenant, user_id="amy", state=state, now=T0, after=after, limit=limit
        )
        assert {(m.role, m.create_time) for m in found} <= {(Role.COLLABORATOR, T0)}
        return [m.room.room_id for m in found]

    assert await ids(None) == ["a-ended", "b-open", "c-open", "d-soon"]
    assert await ids(None, limit=2) == ["a-ended", "b-open"]
    assert await ids(None, after=(T0 - HOUR, "b-open")) == ["c-open", "d-soon"]
    assert await ids(RoomState.OPEN) == ["b-open", "c-open"]
    assert await ids(RoomState.OPEN, after=(T0 - HOUR, "b-open")) == ["c-open"]
    assert await ids(RoomState.ENDED) == ["a-ended"]
    assert await ids(RoomState.SCHEDULED) == ["d-soon"]
    found = await store.list_memberships(
        tenant=tenant, user_id="nobody", state=None, now=T0, after=None, limit=10
    )
    assert found == []
