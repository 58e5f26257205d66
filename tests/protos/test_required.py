"""Every REQUIRED field, left out of a request that a real server otherwise accepts,
is refused with INVALID_ARGUMENT naming the field: the annotations say what the server
does. Every method with a REQUIRED field is called, and every REQUIRED field of every
message a request carries is left out at least once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import field_mask_pb2
from rooms.errors import from_rpc_error
from rooms.v1 import calendar_service_pb2 as cs
from rooms.v1 import credentials_service_pb2 as cr
from rooms.v1 import participant_pb2, room_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import webhooks_service_pb2 as ws

from tests.protos.conftest import Api
from tests.protos.descriptors import (
    REQUIRED,
    behaviours,
    clear,
    input_messages,
    methods,
    required_fields,
)

Build = Callable[[Api], Awaitable[Any]]


async def _seat(api: Api, room_id: str) -> str:
    answer = await api.call(
        "rooms.v1.RoomsService",
        "AuthorizeJoin",
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="host", claim_seat=True),
    )
    return str(answer.seat.seat_id)


async def _webhook(api: Api) -> str:
    hook = await api.call(
        "rooms.v1.WebhooksService",
        "CreateWebhook",
        ws.CreateWebhookRequest(webhook=ws.Webhook(url="http://127.0.0.1:9/hook")),
    )
    return str(hook.webhook_id)


async def _feed(api: Api) -> str:
    feed = await api.call(
        "rooms.v1.CalendarService",
        "CreateCalendarFeed",
        cs.CreateCalendarFeedRequest(feed=cs.CalendarFeed(room_id=await api.room())),
    )
    return str(feed.feed_id)


def _participant(user_id: str) -> participant_pb2.Participant:
    return participant_pb2.Participant(user_id=user_id, role=participant_pb2.ROLE_ATTENDEE)


# A request the server accepts, per method with a REQUIRED field somewhere in it.
VALID: dict[str, Build] = {
    "CreateRoom": lambda api: _async(
        rs.CreateRoomRequest(
            room=room_pb2.Room(
                max_participants=10,
                role_capacity=[
                    room_pb2.RoleCapacity(role=participant_pb2.ROLE_PRESENTER, reserved=1)
                ],
            ),
            participants=[_participant("guest")],
        )
    ),
    "GetRoom": lambda api: _with_room(api, lambda r: rs.GetRoomRequest(room_id=r)),
    "UpdateRoom": lambda api: _with_room(
        api,
        lambda r: rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=r, metadata={"k": "v"}),
            update_mask=field_mask_pb2.FieldMask(paths=["metadata"]),
        ),
    ),
    "DeleteRoom": lambda api: _with_room(api, lambda r: rs.DeleteRoomRequest(room_id=r)),
    "AuthorizeJoin": lambda api: _with_room(
        api, lambda r: rs.AuthorizeJoinRequest(room_id=r, user_id="host")
    ),
    "WatchRoom": lambda api: _with_room(api, lambda r: rs.WatchRoomRequest(room_id=r)),
    "ListRoomEvents": lambda api: _with_room(api, lambda r: rs.ListRoomEventsRequest(room_id=r)),
    "ListOccurrences": lambda api: _with_room(api, lambda r: rs.ListOccurrencesRequest(room_id=r)),
    "ListKnocks": lambda api: _with_room(api, lambda r: ps.ListKnocksRequest(room_id=r)),
    "AdmitParticipant": lambda api: _with_room(
        api, lambda r: ps.AdmitParticipantRequest(room_id=r, user_id="visitor")
    ),
    "DenyParticipant": lambda api: _with_room(
        api, lambda r: ps.DenyParticipantRequest(room_id=r, user_id="visitor")
    ),
    "RenewSeat": lambda api: _with_seat(api, lambda s: ps.RenewSeatRequest(seat_id=s)),
    "ReleaseSeat": lambda api: _with_seat(api, lambda s: ps.ReleaseSeatRequest(seat_id=s)),
    "ListSeats": lambda api: _with_room(api, lambda r: ps.ListSeatsRequest(room_id=r)),
    "AddOrUpdateParticipants": lambda api: _with_room(
        api,
        lambda r: ps.AddOrUpdateParticipantsRequest(
            room_id=r, participants=[_participant("newcomer")]
        ),
    ),
    "RemoveParticipants": lambda api: _with_room(
        api, lambda r: ps.RemoveParticipantsRequest(room_id=r, user_ids=["guest"])
    ),
    "ListParticipants": lambda api: _with_room(
        api, lambda r: ps.ListParticipantsRequest(room_id=r)
    ),
    "GetParticipant": lambda api: _with_room(
        api, lambda r: ps.GetParticipantRequest(room_id=r, user_id="guest")
    ),
    "ListRoomsForParticipant": lambda api: _async(
        ps.ListRoomsForParticipantRequest(user_id="guest")
    ),
    "ModerateParticipant": lambda api: _with_room(
        api,
        lambda r: ps.ModerateParticipantRequest(
            room_id=r, actor_user_id="host", user_id="guest", muted=True
        ),
    ),
    "IntrospectCredential": lambda api: _async(cr.IntrospectCredentialRequest(token="t.t.t")),
    "CreateWebhook": lambda api: _async(
        ws.CreateWebhookRequest(webhook=ws.Webhook(url="http://127.0.0.1:9/hook"))
    ),
    "GetWebhook": lambda api: _with_webhook(api, lambda w: ws.GetWebhookRequest(webhook_id=w)),
    "UpdateWebhook": lambda api: _with_webhook(
        api,
        lambda w: ws.UpdateWebhookRequest(
            webhook=ws.Webhook(webhook_id=w, url="http://127.0.0.1:9/other"),
            update_mask=field_mask_pb2.FieldMask(paths=["url"]),
        ),
    ),
    "DeleteWebhook": lambda api: _with_webhook(
        api, lambda w: ws.DeleteWebhookRequest(webhook_id=w)
    ),
    "CreateCalendarFeed": lambda api: _with_room(
        api, lambda r: cs.CreateCalendarFeedRequest(feed=cs.CalendarFeed(room_id=r))
    ),
    "DeleteCalendarFeed": lambda api: _with_feed(
        api, lambda f: cs.DeleteCalendarFeedRequest(feed_id=f)
    ),
}


async def _async(request: Any) -> Any:
    return request


async def _with_room(api: Api, make: Callable[[str], Any]) -> Any:
    return make(await api.room())


async def _with_seat(api: Api, make: Callable[[str], Any]) -> Any:
    return make(await _seat(api, await api.room()))


async def _with_webhook(api: Api, make: Callable[[str], Any]) -> Any:
    return make(await _webhook(api))


async def _with_feed(api: Api, make: Callable[[str], Any]) -> Any:
    return make(await _feed(api))


def _has_required(message: Any, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a request holds a REQUIRED field, in itself or a message it carries."""
    return any(
        REQUIRED in behaviours(field)
        or (
            field.message_type is not None
            and field.message_type.full_name in input_messages()
            and field.message_type.full_name not in seen
            and _has_required(field.message_type, seen | {message.full_name})
        )
        for field in message.fields
    )


def test_every_method_with_a_required_field_has_a_valid_request() -> None:
    with_required = {method.name for method in methods() if _has_required(method.input_type)}
    assert with_required == set(VALID)


async def test_each_required_field_left_out_is_refused_naming_it(api: Api) -> None:
    left_out: set[str] = set()
    wrong: list[tuple[str, str, str]] = []
    for method in methods():
        if method.name not in VALID:
            continue
        service = method.containing_service.full_name
        valid = await VALID[method.name](api)
        assert valid.DESCRIPTOR.full_name == method.input_type.full_name
        for path, name in list(required_fields(valid)):
            left_out.add(name)
            request = type(valid)()
            request.CopyFrom(valid)
            clear(request, path)
            try:
                await api.call(service, method.name, request)
            except grpc.aio.AioRpcError as refused:
                error = from_rpc_error(refused)
                named = any(
                    field == path or field.startswith((f"{path}.", f"{path}["))
                    for field in error.fields
                )
                if error.code != grpc.StatusCode.INVALID_ARGUMENT or not named:
                    wrong.append((method.name, path, str(error)))
            else:
                wrong.append((method.name, path, "accepted"))
        # The same request with the field is accepted: the refusal was the field's.
        await api.call(service, method.name, valid)
    assert wrong == [], "\n".join(map(str, wrong))
    every_required = {
        field.full_name
        for message in input_messages().values()
        for field in message.fields
        if REQUIRED in behaviours(field)
    }
    assert left_out == every_required
