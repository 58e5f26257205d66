"""The contract of the waiting room: join facts, knocks, decisions (in advance too),
the queue in pages, removals that revoke a decision, and Janus admissions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from service.domain.credentials import Removal
from service.domain.errors import ErrorReason
from service.domain.events import EventType
from service.domain.models import JoinPolicy, Participant, Role, Room, RosterEntry
from service.domain.ports import Position
from service.domain.waiting_room import Knock, KnockState
from tests.conftest import T0
from tests.contract.conftest import ACTOR, Subject, refused

MINUTE = timedelta(minutes=1)
JoinFacts = tuple[Room | None, Participant | None, Knock | None, Removal | None, int]


async def knock(subject: Subject, user_id: str, at: int = 0, name: str | None = None) -> None:
    await subject.store.record_knock(
        tenant=subject.tenant,
        room_id="r1",
        user_id=user_id,
        role=Role.ATTENDEE,
        display_name=name,
        now=T0 + at * MINUTE,
        actor=ACTOR,
    )


async def decide(
    subject: Subject,
    user_id: str,
    state: KnockState,
    role: Role | None = None,
    at: int = 0,
    version: int | None = None,
) -> tuple[Knock, int]:
    return await subject.store.decide_knock(
        tenant=subject.tenant,
        room_id="r1",
        user_id=user_id,
        state=state,
        chosen_role=role,
        expected_version=version,
        now=T0 + at * MINUTE,
        actor=ACTOR,
    )


async def facts(subject: Subject, user_id: str) -> JoinFacts:
    return await subject.store.get_join_facts(tenant=subject.tenant, room_id="r1", user_id=user_id)


async def types_after(subject: Subject, after: int) -> list[tuple[Any, ...]]:
    found = await subject.store.read_events(
        tenant=subject.tenant, room_id="r1", after=after, limit=100
    )
    return [(e.revision, e.type, e.user_id, e.role) for e in found]


async def test_join_facts_of_a_missing_room_and_of_a_stranger(subject: Subject) -> None:
    assert await facts(subject, "amy") == (None, None, None, None, 0)
    created = await subject.create("r1", [RosterEntry("amy")], waiting_room_enabled=True)
    room, participant, knocked, removal, epoch = await facts(subject, "zed")
    assert room == created
    assert (participant, knocked, removal, epoch) == (None, None, None, 0)


async def test_knocks_are_recorded_once_and_touched_after(subject: Subject) -> None:
    await subject.create("r1", waiting_room_enabled=True)
    await knock(subject, "g", at=0, name="Guest")
    await knock(subject, "g", at=1)
    _, _, knocked, _, _ = await facts(subject, "g")
    assert knocked == Knock(
        "g", KnockState.WAITING, Role.ATTENDEE, False, "Guest", T0, T0 + MINUTE, None, T0
    )
    await knock(subject, "g", at=2, name="G2")
    _, _, knocked, _, _ = await facts(subject, "g")
    assert knocked is not None and knocked.display_name == "G2"
    # Only the first knock is an event, and knocks leave the version (the etag) alone.
    assert await types_after(subject, 1) == [(2, EventType.PARTICIPANT_KNOCKED, "g", Role.ATTENDEE)]
    found = await subject.store.read_events(tenant=subject.tenant, room_id="r1", after=1, limit=10)
    assert found[0].display_name == "Guest"
    room, *_ = await facts(subject, "g")
    assert room is not None and (room.version, room.last_event_revision) == (1, 2)


async def test_decisions_bump_the_version_and_are_kept_by_later_knocks(subject: Subject) -> None:
    await subject.create("r1", waiting_room_enabled=True)
    await knock(subject, "g", name="Guest")
    await refused(
        decide(subject, "g", KnockState.ADMITTED, version=4),
        ErrorReason.ETAG_MISMATCH,
        room_id="r1",
        etag='"1"',
    )
    admitted, version = await decide(subject, "g", KnockState.ADMITTED, Role.PRESENTER, at=1)
    assert version == 2
    assert admitted == Knock(
        "g", KnockState.ADMITTED, Role.PRESENTER, True, "Guest", T0, T0, T0 + MINUTE, T0
    )
    # The same decision again is a no-op: same knock, same version, no event.
    assert await decide(subject, "g", KnockState.ADMITTED, Role.PRESENTER, at=2) == (admitted, 2)
    await knock(subject, "g", at=3)
    _, _, knocked, _, _ = await facts(subject, "g")
    assert knocked is not None
    assert (knocked.state, knocked.role, knocked.last_knock_time) == (
        KnockState.ADMITTED,
        Role.PRESENTER,
        T0 + 3 * MINUTE,
    )
    # Without a chosen role, the role is the one the identity would join with.
    admitted, version = await decide(subject, "g", KnockState.ADMITTED, version=2)
    assert (admitted.role, admitted.role_chosen, version) == (Role.ATTENDEE, False, 3)
    assert await types_after(subject, 2) == [
        (3, EventType.PARTICIPANT_ADMITTED, "g", Role.PRESENTER),
        (4, EventType.PARTICIPANT_ADMITTED, "g", Role.ATTENDEE),
    ]


async def test_a_decision_in_advance_and_a_denial(subject: Subject) -> None:
    await subject.create("r1", waiting_room_enabled=True, join_policy=JoinPolicy.INVITE_ONLY)
    denied, version = await decide(subject, "x", KnockState.DENIED, at=5)
    # Off an invite-only roster and no role chosen: no role.
    assert denied == Knock(
        "x", KnockState.DENIED, None, False, None, None, None, T0 + 5 * MINUTE, T0 + 5 * MINUTE
    )
    assert version == 2
    _, _, knocked, _, epoch = await facts(subject, "x")
    assert (knocked, epoch) == (denied, 1)
    admitted, version = await decide(subject, "y", KnockState.ADMITTED)
    assert (admitted.role, version) == (None, 3)
    assert await types_after(subject, 1) == [
        (2, EventType.PARTICIPANT_DENIED, "x", None),
        (3, EventType.PARTICIPANT_ADMITTED, "y", None),
    ]
    await refused(
        subject.store.decide_knock(
            tenant=subject.tenant,
            room_id="nope",
            user_id="x",
            state=KnockState.DENIED,
            chosen_role=None,
            expected_version=None,
            now=T0,
            actor=ACTOR,
        ),
        ErrorReason.ROOM_NOT_FOUND,
        room_id="nope",
    )


async def test_the_queue_in_pages_by_state(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1", waiting_room_enabled=True)
    await knock(subject, "c", at=1)
    await knock(subject, "b", at=1)
    await knock(subject, "a", at=2)
    await decide(subject, "z", KnockState.ADMITTED, at=0)  # in advance: sorted by decision
    await decide(subject, "b", KnockState.DENIED, at=3)  # keeps its place in the queue

    async def listed(
        state: KnockState | None, after: Position | None = None, limit: int = 10
    ) -> tuple[list[str], int]:
        found = await store.list_knocks(
            tenant=tenant, room_id="r1", state=state, after=after, limit=limit
        )
        assert found is not None
        knocks, version = found
        return [k.user_id for k in knocks], version

    assert await listed(None) == (["z", "b", "c", "a"], 3)
    assert await listed(None, limit=2) == (["z", "b"], 3)
    assert await listed(None, after=(T0 + MINUTE, "b")) == (["c", "a"], 3)
    assert await listed(KnockState.WAITING) == (["c", "a"], 3)
    assert await listed(KnockState.WAITING, after=(T0 + MINUTE, "c")) == (["a"], 3)
    assert await listed(KnockState.DENIED) == (["b"], 3)
    found = await store.list_knocks(tenant=tenant, room_id="nope", state=None, after=None, limit=5)
    assert found is None


async def test_removal_revokes_decisions_and_knocks(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1", [RosterEntry("amy")], waiting_room_enabled=True)
    await knock(subject, "w")
    await decide(subject, "g", KnockState.ADMITTED)
    await decide(subject, "amy", KnockState.ADMITTED)

    async def remove(user_ids: list[str]) -> tuple[int, int]:
        return await store.remove_participants(
            tenant=tenant,
            room_id="r1",
            user_ids=user_ids,
            expected_version=None,
            now=T0,
            actor=ACTOR,
        )

    # A waiting knock goes silently: no decision was withdrawn.
    assert await remove(["w"]) == (0, 3)
    # A decision withdrawn changes the version (the etag) and starts a new epoch.
    assert await remove(["g"]) == (0, 4)
    _, _, knocked, removal, epoch = await facts(subject, "g")
    assert (knocked, removal, epoch) == (None, None, 1)
    # With a roster entry removed too, the removal's version is the only bump.
    assert await remove(["amy"]) == (1, 5)
    _, _, knocked, removal, epoch = await facts(subject, "amy")
    assert knocked is None and removal is not None and removal.version == 5 and epoch == 1
    assert await types_after(subject, 5) == [
        (6, EventType.ADMISSION_REVOKED, "g", None),
        (7, EventType.PARTICIPANT_REMOVED, "amy", None),
        (8, EventType.ADMISSION_REVOKED, "amy", None),
    ]


async def test_janus_admission_only_at_the_decisions_version(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1", valid_until=T0 + 2 * MINUTE)

    async def admit(version: int, room_id: str = "r1", at: int = 0) -> bool:
        return await store.record_janus_admission(
            tenant=tenant, room_id=room_id, user_id="amy", version=version, now=T0 + at * MINUTE
        )

    assert await admit(1) is True
    assert await admit(1) is True
    assert await admit(2) is False
    assert await admit(1, room_id="nope") is False
    # Not once the room's end has been announced.
    assert await subject.announce(tenant, ["r1"], T0 + 3 * MINUTE) == 1
    assert await admit(1, at=3) is False
    _, _, _, _, epoch = await facts(subject, "amy")
    assert epoch == 0
    await subject.create("r2")
    await store.delete_room(tenant=tenant, room_id="r2", expected_version=1, now=T0, actor=ACTOR)
    assert await admit(1, room_id="r2") is False
    assert await admit(2, room_id="r2") is False
