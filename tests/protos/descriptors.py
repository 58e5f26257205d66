"""The rooms.v1 descriptors as the generated modules carry them: every service, the
messages a request can reach, and the `google.api.field_behavior` of each field."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, MethodDescriptor
from rooms.v1 import (
    calendar_service_pb2,
    credentials_service_pb2,
    participants_service_pb2,
    rooms_service_pb2,
    webhooks_service_pb2,
)

SERVICE_MODULES: tuple[ModuleType, ...] = (
    rooms_service_pb2,
    participants_service_pb2,
    credentials_service_pb2,
    webhooks_service_pb2,
    calendar_service_pb2,
)

FB = field_behavior_pb2.FieldBehavior
REQUIRED = FB.REQUIRED
OPTIONAL = FB.OPTIONAL
OUTPUT_ONLY = FB.OUTPUT_ONLY
IDENTIFIER = FB.IDENTIFIER


def behaviours(field: Any) -> set[int]:
    # Any: descriptors come as the pure-Python or the upb classes.
    """The field's `(google.api.field_behavior)` values."""
    return set(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])


def methods() -> Iterator[MethodDescriptor]:
    for module in SERVICE_MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            yield from service.methods


def is_ours(message: Any) -> bool:
    return message.full_name.startswith("rooms.v1.") and not message.GetOptions().map_entry


def input_messages() -> dict[str, Descriptor]:
    """Every rooms.v1 message a request can carry: the requests, and the messages
    their fields reach, except through an OUTPUT_ONLY field (ignored on input)."""
    found: dict[str, Descriptor] = {}
    todo = [method.input_type for method in methods()]
    while todo:
        message = todo.pop()
        if message.full_name in found or not is_ours(message):
            continue
        found[message.full_name] = message
        todo.extend(
            field.message_type
            for field in message.fields
            if field.message_type is not None and OUTPUT_ONLY not in behaviours(field)
        )
    return found


def required_fields(message: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """The REQUIRED fields of a request and of the messages it holds, each as the
    server names it (`room.room_id`, `participants[0].user_id`: the first element of a
    repeated field) and as the descriptor does (`rooms.v1.Participant.user_id`)."""
    for field in message.DESCRIPTOR.fields:
        path = prefix + field.name
        if REQUIRED in behaviours(field):
            yield path, field.full_name
        if field.message_type is None or not is_ours(field.message_type):
            continue
        if field.is_repeated:
            values = getattr(message, field.name)
            if values:
                yield from required_fields(values[0], f"{path}[0].")
        elif message.HasField(field.name):
            yield from required_fields(getattr(message, field.name), f"{path}.")


def clear(message: Any, path: str) -> None:
    """Clear the field at `path` (as `required_fields` names it) of `message`."""
    *parents, name = path.split(".")
    for step in parents:
        field, _, index = step.partition("[")
        message = getattr(message, field)
        if index:
            message = message[int(index.rstrip("]"))]
    message.ClearField(name)
