"""The contract of rooms: create (idempotency, taken ids), get, list (state filters,
keyset paging), update (a stale version), delete (tombstones, etags)."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import timedelta

import pytest

from service.domain.errors import ErrorReason
from service.domain.events import EventType
from service.domain.models import (
    JoinPolicy,
    Role,
    RoleCapacity,
    RoomState,
    RosterEntry,
)
from service.domain.ports import Position
from tests.conftest import T0
from tests.contract.conftest import ACTOR, Subject, refused

HOUR = timedelta(hours=1)


async def test_create_stores_the_room_its_roster_and_their_events(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    roster = [RosterEntry("bob", Role.PRESENTER), RosterEntry("amy")]
    created = await subject.create(
        "r1",
        roster,
        metadata={"a": "1"},
        early_entry=timedelta(minutes=5),
        max_participants=10,
        role_capacity=(RoleCapacity(Role.PRESENTER, 2, 1),),
        waiting_room_enabled=True,
    )
    assert (created.version, created.participant_count, created.last_event_revision) == (1, 2, 3)
    assert (created.create_time, created.update_time) == (T0, T0)
    assert created.metadata == {"a": "1"}
    assert created.role_capacity == (RoleCapacity(Role.PRESENTER, 2, 1),)
    assert await store.get_room(tenant=tenant, room_id="r1") == created
    found = await store.read_events(tenant=tenant, room_id="r1", after=0, limit=10)
    assert [(e.revision, e.type, e.user_id, e.role) for e in found] == [
        (1, EventType.CREATED, None, None),
        (2, EventType.PARTICIPANT_ADDED, "bob", Role.PRESENTER),
        (3, EventType.PARTICIPANT_ADDED, "amy", Role.ATTENDEE),
    ]
    assert {(e.event_time, e.actor) for e in found} == {(T0, ACTOR)}
    settings = found[0].settings
    assert settings is not None
    assert settings.early_entry == timedelta(minutes=5)
    assert settings.max_participants == 10
    participants = await store.list_participants(
        tenant=tenant, room_id="r1", role=None, after_user_id=None, limit=10
    )
    assert participants is not None
    assert [(p.user_id, p.role, p.create_time) for p in participants] == [
        ("amy", Role.ATTENDEE, T0),
        ("bob", Role.PRESENTER, T0),
    ]


async def test_an_idempotency_key_returns_its_room_as_it_is_now(subject: Subject) -> None:
    first = await subject.create("r1", idempotency_key="k1", request_hash="h")
    await subject.store.delete_room(
        tenant=subject.tenant, room_id="r1", expected_version=None, now=T0 + HOUR, actor=ACTOR
    )
    again = await subject.create("r1", idempotency_key="k1", request_hash="h", now=T0 + 2 * HOUR)
    # The room as it is now: deleted since (version 2, its DELETED event numbered 2).
    assert again == replace(first, version=2, update_time=T0 + HOUR, last_event_revision=2)


async def test_an_idempotency_key_with_another_request_is_refused(subject: Subject) -> None:
    await subject.create("r1", idempotency_key="k1", request_hash="h")
    error = await refused(
        subject.create("r1", idempotency_key="k1", request_hash="other"),
        ErrorReason.REQUEST_ID_REUSED,
        request_id="k1",
        field="request_id",
    )
    assert [v.field for v in error.field_violations] == ["request_id"]
    # Keys are scoped to the tenant: another tenant's same key is its own.
    other = replace(subject, tenant=subject.tenant + "-other")
    assert (await other.create("r1", idempotency_key="k1", request_hash="other")).version == 1


async def test_a_taken_room_id_is_refused_and_the_key_stays_unused(subject: Subject) -> None:
    await subject.create("r1")
    await refused(
        subject.create("r1", idempotency_key="k2"), ErrorReason.ROOM_ALREADY_EXISTS, room_id="r1"
    )
    # The refused create left no key behind: the key serves another request.
    assert (await subject.create("r2", idempotency_key="k2", request_hash="x")).room_id == "r2"


async def test_a_deleted_room_keeps_its_id(subject: Subject) -> None:
    await subject.create("r1")
    await subject.store.delete_room(
        tenant=subject.tenant, room_id="r1", expected_version=None, now=T0, actor=ACTOR
    )
    await refused(subject.create("r1"), ErrorReason.ROOM_ALREADY_EXISTS, room_id="r1")


async def test_get_sees_only_the_tenants_live_rooms(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1")
    assert await store.get_room(tenant=tenant, room_id="nope") is None
    assert await store.get_room(tenant=tenant + "-other", room_id="r1") is None
    await store.delete_room(tenant=tenant, room_id="r1", expected_version=None, now=T0, actor=ACTOR)
    assert await store.get_room(tenant=tenant, room_id="r1") is None


async def test_list_rooms_newest_first_by_state_and_in_pages(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    # Created in this order, two at the same instant (the room id breaks the tie).
    await subject.create("open-a", now=T0 - 3 * HOUR, valid_from=T0 - HOUR)
    await subject.create("ended", now=T0 - 2 * HOUR, valid_from=T0 - HOUR, valid_until=T0)
    await subject.create("soon-b", now=T0 - HOUR, valid_from=T0 + HOUR, valid_until=T0 + 2 * HOUR)
    await subject.create("soon-c", now=T0 - HOUR, valid_from=T0 + HOUR, valid_until=T0 + 2 * HOUR)
    await subject.create("gone", now=T0)
    await store.delete_room(
        tenant=tenant, room_id="gone", expected_version=None, now=T0, actor=ACTOR
    )

    async def ids(
        state: RoomState | None, after: Position | None = None, limit: int = 10
    ) -> list[str]:
        rooms = await store.list_rooms(tenant=tenant, state=state, now=T0, after=after, limit=limit)
        return [room.room_id for room in rooms]

    assert await ids(None) == ["soon-c", "soon-b", "ended", "open-a"]
    # The window is half-open: a room whose valid_until is now has ended.
    assert await ids(RoomState.SCHEDULED) == ["soon-c", "soon-b"]
    assert await ids(RoomState.OPEN) == ["open-a"]
    assert await ids(RoomState.ENDED) == ["ended"]
    assert await ids(None, limit=2) == ["soon-c", "soon-b"]
    assert await ids(None, after=(T0 - HOUR, "soon-b")) == ["ended", "open-a"]
    assert await ids(None, after=(T0 - HOUR, "soon-c"), limit=1) == ["soon-b"]
    assert await ids(RoomState.OPEN, after=(T0 - 3 * HOUR, "open-a")) == []
    assert await ids(RoomState.SCHEDULED, after=(T0 - HOUR, "soon-c")) == ["soon-b"]


async def test_update_applies_changes_at_the_expected_version_only(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    created = await subject.create("r1")
    later = T0 + HOUR
    changes = {"join_policy": JoinPolicy.INVITE_ONLY, "metadata": {"b": "2"}}
    # The window (T0 - 1h, T0 + 1h) has ended at `later`.
    update = functools.partial(
        store.update_room, tenant=tenant, room_id="r1", state=RoomState.ENDED, now=later, actor="x"
    )
    assert await update(expected_version=2, changes=changes) is None
    updated = await update(expected_version=1, changes=changes)
    assert updated == replace(
        created,
        version=2,
        update_time=later,
        last_event_revision=2,
        join_policy=JoinPolicy.INVITE_ONLY,
        metadata={"b": "2"},
    )
    assert await store.get_room(tenant=tenant, room_id="r1") == updated
    [event] = await store.read_events(tenant=tenant, room_id="r1", after=1, limit=10)
    assert (event.revision, event.type, event.actor, event.event_time) == (
        2,
        EventType.SETTINGS_CHANGED,
        "x",
        later,
    )
    assert event.changed_fields == ("join_policy", "metadata")
    assert event.settings is not None and event.settings.join_policy is JoinPolicy.INVITE_ONLY
    # The version it was read at has passed: nothing is written.
    again = {"pstn_dial_out_enabled": True}
    assert await update(expected_version=1, changes=again) is None
    with pytest.raises(ValueError, match="not an updatable column"):
        await update(expected_version=2, changes={"version": 9})
    assert await store.get_room(tenant=tenant, room_id="r1") == updated


async def test_update_of_a_missing_or_deleted_room_writes_nothing(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1")
    await store.delete_room(tenant=tenant, room_id="r1", expected_version=1, now=T0, actor=ACTOR)
    for room_id, version in (("r1", 2), ("nope", 1)):
        assert (
            await store.update_room(
                tenant=tenant,
                room_id=room_id,
                expected_version=version,
                changes={"early_entry": timedelta(0)},
                state=RoomState.OPEN,
                now=T0,
                actor=ACTOR,
            )
            is None
        )


async def test_delete_leaves_a_tombstone(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1", [RosterEntry("amy")])
    await refused(
        store.delete_room(tenant=tenant, room_id="r1", expected_version=7, now=T0, actor=ACTOR),
        ErrorReason.ETAG_MISMATCH,
        room_id="r1",
        etag='"1"',
    )
    later = T0 + HOUR
    await store.delete_room(tenant=tenant, room_id="r1", expected_version=1, now=later, actor="d")
    history = await store.history(tenant=tenant, room_id="r1")
    assert history is not None
    assert (history.deleted, history.oldest, history.latest) == (True, 1, 3)
    [event] = await store.read_events(tenant=tenant, room_id="r1", after=2, limit=10)
    assert (event.revision, event.type, event.actor, event.event_time) == (
        3,
        EventType.DELETED,
        "d",
        later,
    )
    # Deleted already: a success, whatever the etag, and nothing more is written.
    await store.delete_room(tenant=tenant, room_id="r1", expected_version=9, now=later, actor="d")
    assert await store.history(tenant=tenant, room_id="r1") == history
    assert (
        await store.list_participants(
            tenant=tenant, room_id="r1", role=None, after_user_id=None, limit=10
        )
        is None
    )
    await refused(
        store.delete_room(tenant=tenant, room_id="nope", expected_version=None, now=T0, actor="d"),
        ErrorReason.ROOM_NOT_FOUND,
        room_id="nope",
    )
    # Another tenant's room is a missing one.
    await refused(
        store.delete_room(
            tenant=tenant + "-other", room_id="r1", expected_version=None, now=T0, actor="d"
        ),
        ErrorReason.ROOM_NOT_FOUND,
        room_id="r1",
    )
