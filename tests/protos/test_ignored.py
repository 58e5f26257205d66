"""OUTPUT_ONLY means ignored on input, and only those fields are: a real server given
every OUTPUT_ONLY field (and, on a create, the IDENTIFIER) filled with a value no answer
holds accepts the call and answers its own values; given a sample of every other field
of a resource, it answers the sample (or, for `etag`, acts on it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from rooms.errors import EtagMismatch, from_rpc_error
from rooms.v1 import calendar_service_pb2 as cs
from rooms.v1 import events_pb2, participant_pb2, room_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import webhooks_service_pb2 as ws

from tests.conftest import T0
from tests.protos.conftest import Api
from tests.protos.descriptors import IDENTIFIER, OUTPUT_ONLY, behaviours

ROOMS, PEOPLE = "rooms.v1.RoomsService", "rooms.v1.ParticipantsService"
HOOKS, FEEDS = "rooms.v1.WebhooksService", "rooms.v1.CalendarService"
URL = "http://127.0.0.1:9/hook"


def _fill(message: Message, field: Any) -> None:
    """Set `field` of `message` to a value the server never answers."""
    if field.message_type is timestamp_pb2.Timestamp.DESCRIPTOR:
        getattr(message, field.name).FromDatetime(datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC))
    elif field.message_type is duration_pb2.Duration.DESCRIPTOR:
        getattr(message, field.name).FromTimedelta(timedelta(seconds=7777))
    elif field.message_type is not None:
        inner = getattr(message, field.name)
        for each in inner.DESCRIPTOR.fields:
            _fill(inner, each)
    elif field.enum_type is not None:
        setattr(message, field.name, max(v.number for v in field.enum_type.values))
    elif field.type == FieldDescriptor.TYPE_BOOL:
        setattr(message, field.name, True)
    elif field.type == FieldDescriptor.TYPE_STRING:
        setattr(message, field.name, "ignored-by-the-server")
    else:
        setattr(message, field.name, 7777)


def _server_set(message: Message, *, creating: bool) -> list[Any]:
    """The fields the server ignores in `message`: OUTPUT_ONLY, and on a create the
    IDENTIFIER (the request's own id field names a new resource)."""
    ignored = {OUTPUT_ONLY, IDENTIFIER} if creating else {OUTPUT_ONLY}
    return [f for f in message.DESCRIPTOR.fields if behaviours(f) & ignored]


def _filled(message: Message, *, creating: bool) -> list[Any]:
    fields = _server_set(message, creating=creating)
    for field in fields:
        _fill(message, field)
    return fields


def _echoed(sent: Message, answer: Message, fields: list[Any]) -> list[str]:
    """The fields whose sent value the answer repeats (none should)."""
    return [f.name for f in fields if getattr(answer, f.name) == getattr(sent, f.name)]


async def test_creates_ignore_what_the_server_sets(api: Api) -> None:
    room = room_pb2.Room()
    person = participant_pb2.Participant(user_id="guest")
    room_fields = _filled(room, creating=True)
    person_fields = _filled(person, creating=True)
    assert {f.name for f in room_fields} >= {"room_id", "state", "participant_count"}
    created = await api.call(
        ROOMS, "CreateRoom", rs.CreateRoomRequest(room=room, participants=[person])
    )
    assert _echoed(room, created, room_fields) == []
    assert created.participant_count == 1

    added = await api.call(
        PEOPLE,
        "AddOrUpdateParticipants",
        ps.AddOrUpdateParticipantsRequest(room_id=created.room_id, participants=[person]),
    )
    assert _echoed(person, added.participants[0], person_fields) == []

    hook = ws.Webhook(url=URL)
    hook_fields = _filled(hook, creating=True)
    assert {f.name for f in hook_fields} >= {"secret", "delivery", "webhook_id"}
    made = await api.call(HOOKS, "CreateWebhook", ws.CreateWebhookRequest(webhook=hook))
    assert _echoed(hook, made, hook_fields) == []
    assert made.secret.startswith("whsec_")

    feed = cs.CalendarFeed(room_id=created.room_id)
    feed_fields = _filled(feed, creating=True)
    made_feed = await api.call(FEEDS, "CreateCalendarFeed", cs.CreateCalendarFeedRequest(feed=feed))
    assert _echoed(feed, made_feed, feed_fields) == []
    assert made_feed.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("mask", [["metadata"], []], ids=["masked", "implied mask"])
async def test_updates_ignore_what_the_server_sets(api: Api, mask: list[str]) -> None:
    """AIP-134: with no mask, the fields set are the mask, output-only ones aside."""
    room = room_pb2.Room(room_id=await api.room(), metadata={"k": "v"})
    fields = _filled(room, creating=False)
    updated = await api.call(
        ROOMS,
        "UpdateRoom",
        rs.UpdateRoomRequest(room=room, update_mask=field_mask_pb2.FieldMask(paths=mask)),
    )
    assert dict(updated.metadata) == {"k": "v"}
    assert _echoed(room, updated, fields) == []

    made = await api.call(
        HOOKS, "CreateWebhook", ws.CreateWebhookRequest(webhook=ws.Webhook(url=URL))
    )
    hook = ws.Webhook(webhook_id=made.webhook_id, url=URL + "/2")
    fields = _filled(hook, creating=False)
    changed = await api.call(
        HOOKS,
        "UpdateWebhook",
        ws.UpdateWebhookRequest(
            webhook=hook, update_mask=field_mask_pb2.FieldMask(paths=["url"] if mask else [])
        ),
    )
    assert changed.url == URL + "/2"
    assert _echoed(hook, changed, fields) == []


def _settable(message: Message) -> set[str]:
    return {
        f.name for f in message.DESCRIPTOR.fields if not behaviours(f) & {OUTPUT_ONLY, IDENTIFIER}
    }


def _samples_of_a_room() -> dict[str, Any]:
    start = T0 + timedelta(hours=1)
    return {
        "valid_from": timestamp_pb2.Timestamp(seconds=int(start.timestamp())),
        "valid_until": timestamp_pb2.Timestamp(
            seconds=int((start + timedelta(hours=1)).timestamp())
        ),
        "pstn_dial_out_enabled": True,
        "join_policy": room_pb2.JOIN_POLICY_OPEN,
        "metadata": {"course": "42"},
        "open_join_role": participant_pb2.ROLE_CONSUMER,
        "early_entry_duration": duration_pb2.Duration(seconds=600),
        "waiting_room_enabled": True,
        "max_participants": 10,
        "role_capacity": [
            room_pb2.RoleCapacity(
                role=participant_pb2.ROLE_PRESENTER, max_participants=2, reserved=1
            )
        ],
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
        "time_zone": "Europe/Paris",
    }


def _answers(answer: Message, samples: dict[str, Any]) -> list[str]:
    """The samples the answer does not repeat."""

    def same(name: str) -> bool:
        value = getattr(answer, name)
        sample = samples[name]
        if isinstance(sample, dict):
            return dict(value) == sample
        if isinstance(sample, list):
            return list(value) == sample
        return bool(value == sample)

    return [name for name in samples if not same(name)]


async def test_every_other_field_is_taken(api: Api) -> None:
    samples = _samples_of_a_room()
    # etag is a condition, not a value: UpdateRoom acts on it (below).
    assert set(samples) == _settable(room_pb2.Room()) - {"etag"}
    created = await api.call(
        ROOMS, "CreateRoom", rs.CreateRoomRequest(room=room_pb2.Room(**samples))
    )
    assert _answers(created, samples) == []

    role_window = {
        "role": participant_pb2.ROLE_COLLABORATOR,
        "valid_from": samples["valid_from"],
        "valid_until": samples["valid_until"],
    }
    assert set(role_window) | {"user_id"} == _settable(participant_pb2.Participant())
    added = await api.call(
        PEOPLE,
        "AddOrUpdateParticipants",
        ps.AddOrUpdateParticipantsRequest(
            room_id=created.room_id,
            participants=[participant_pb2.Participant(user_id="guest", **role_window)],
        ),
    )
    assert _answers(added.participants[0], {"user_id": "guest", **role_window}) == []

    hook_samples: dict[str, Any] = {
        "url": URL,
        "event_types": [events_pb2.ROOM_EVENT_TYPE_CREATED],
        "room_ids": [created.room_id],
    }
    assert set(hook_samples) == _settable(ws.Webhook()) - {"etag"}
    hook = await api.call(
        HOOKS, "CreateWebhook", ws.CreateWebhookRequest(webhook=ws.Webhook(**hook_samples))
    )
    assert _answers(hook, hook_samples) == []

    assert _settable(cs.CalendarFeed()) == {"room_id", "user_id"}  # exactly one of them
    for named in ({"room_id": created.room_id}, {"user_id": "guest"}):
        feed = await api.call(
            FEEDS, "CreateCalendarFeed", cs.CreateCalendarFeedRequest(feed=cs.CalendarFeed(**named))
        )
        assert _answers(feed, named) == []


async def test_an_etag_is_acted_on(api: Api) -> None:
    stale = "not-the-etag"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.call(
            ROOMS,
            "UpdateRoom",
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=await api.room(), etag=stale, metadata={"k": "v"})
            ),
        )
    assert isinstance(from_rpc_error(refused.value), EtagMismatch)
    hook = await api.call(
        HOOKS, "CreateWebhook", ws.CreateWebhookRequest(webhook=ws.Webhook(url=URL))
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.call(
            HOOKS,
            "UpdateWebhook",
            ws.UpdateWebhookRequest(
                webhook=ws.Webhook(webhook_id=hook.webhook_id, url=URL, etag=stale)
            ),
        )
    assert isinstance(from_rpc_error(refused.value), EtagMismatch)
