"""The field behaviours of rooms.v1, read from the generated descriptors: every field a
request can carry says how the server treats it, and the protos no longer say it in
prose. (tests/protos/test_behaviour.py holds them to what a real server does.)"""

from __future__ import annotations

import re
from pathlib import Path

import google.api

from tests.protos.descriptors import (
    IDENTIFIER,
    REQUIRED,
    behaviours,
    input_messages,
    methods,
)

ROOT = Path(__file__).resolve().parents[2]
PROTOS = sorted((ROOT / "protos" / "rooms" / "v1").glob("*.proto"))
VENDORED = ROOT / "protos" / "google" / "api" / "field_behavior.proto"


def test_every_field_a_request_carries_has_a_field_behavior() -> None:
    messages = input_messages()
    # The requests and the resources they carry (Room, Participant, RoleCapacity,
    # Webhook, CalendarFeed); not the answers-only messages (Seat, Knock, RoomEvent).
    assert {"rooms.v1.Room", "rooms.v1.Participant", "rooms.v1.RoleCapacity"} <= set(messages)
    assert {"rooms.v1.Webhook", "rooms.v1.CalendarFeed"} <= set(messages)
    assert "rooms.v1.WebhookDeliveryState" not in messages  # only behind OUTPUT_ONLY
    missing = [
        f"{message.full_name}.{field.name}"
        for message in messages.values()
        for field in message.fields
        if not behaviours(field)
    ]
    assert missing == []


def test_a_field_is_either_required_or_optional_or_set_by_the_server() -> None:
    for message in input_messages().values():
        for field in message.fields:
            found = behaviours(field)
            assert len(found) == 1, f"{message.full_name}.{field.name}: {found}"


def test_identifiers_are_the_ids_of_the_resources() -> None:
    identifiers = {
        f"{message.name}.{field.name}"
        for message in input_messages().values()
        for field in message.fields
        if IDENTIFIER in behaviours(field)
    }
    assert identifiers == {"Room.room_id", "Webhook.webhook_id", "CalendarFeed.feed_id"}


def test_every_method_that_names_a_resource_requires_it() -> None:
    """A Get, Delete, List-of-a-room... request names its room, webhook, feed or seat."""
    for method in methods():
        for field in method.input_type.fields:
            if field.name in ("room_id", "seat_id", "feed_id") and method.name != "CreateRoom":
                assert REQUIRED in behaviours(field), f"{method.full_name}: {field.name}"


def test_the_protos_say_output_only_with_the_annotation_not_in_prose() -> None:
    prose = re.compile(r"//.*\b(Output only|Immutable)\b\.?", re.IGNORECASE)
    said = [
        f"{proto.name}: {line.strip()}"
        for proto in PROTOS
        for line in proto.read_text().splitlines()
        if prose.search(line)
    ]
    assert said == []


def test_the_vendored_field_behavior_proto_is_the_one_the_stubs_import() -> None:
    """buf, protoc and the examples read protos/google/api (no registry); the stubs
    import the googleapis-common-protos package at run time: the same file."""
    installed = Path(google.api.__path__[0]) / "field_behavior.proto"
    assert VENDORED.read_text() == installed.read_text()
