"""Every RPC the server offers, found from the service descriptors (every service of
the `rooms.v1` package, plus health and reflection), and the hostile bodies for each:
undecodable ones, invalid UTF-8 in each string field, unknown fields, and every edge
`Timestamp` in each timestamp field."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import rooms.v1
from google.protobuf import descriptor, timestamp_pb2
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

UNDECODABLE = [
    b"\xff\xff",  # the repro: an invalid tag
    b"\x0a\xff\xff\xff\xff\x0f",  # field 1, a length far beyond the body
    b"\x0a\x05ab",  # field 1, a length beyond the body
    b"\x08",  # a varint tag with no value
    b"\x0b",  # a start-group tag with no end
    b"\x07\x00",  # wire type 7 does not exist
    bytes(range(256)),
]

# (seconds, nanos) of every edge a Timestamp may hold, legal or not.
EDGE_TIMESTAMPS = [
    (-62_135_596_800, 0),  # 0001-01-01T00:00:00Z: the smallest legal; asyncpg's -infinity
    (-62_135_596_799, 0),  # a second later
    (253_402_300_799, 999_999_999),  # 9999-12-31T23:59:59.999999999Z: the largest legal
    (253_402_300_799, 999_999_000),  # asyncpg's +infinity
    (253_402_214_400, 0),  # 9999-12-31T00:00:00Z
    (253_370_764_800, 0),  # 9999-01-01T00:00:00Z: the latest accepted
    (0, 0),  # 1970-01-01T00:00:00Z: the earliest accepted
    (-1, 999_999_999),  # just before it
    (0, -1),  # negative nanos
    (0, 1_000_000_000),  # nanos >= 1e9
    (-62_135_596_801, 0),  # before the smallest legal
    (253_402_300_800, 0),  # after the largest legal
    (2**63 - 1, 0),
    (-(2**63), 0),
]


@dataclass(frozen=True)
class Rpc:
    path: str
    method: descriptor.MethodDescriptor

    @property
    def open(self) -> bool:
        """Health and reflection need no key (the default configuration)."""
        return self.path.startswith(("/grpc.health.", "/grpc.reflection."))

    def request(self) -> Message:
        return GetMessageClass(self.method.input_type)()


def every_rpc() -> list[Rpc]:
    services: list[Any] = [
        health_pb2.DESCRIPTOR.services_by_name["Health"],
        reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"],
    ]
    for module in pkgutil.iter_modules(rooms.v1.__path__):
        if module.name.endswith("_pb2"):
            loaded = importlib.import_module(f"rooms.v1.{module.name}")
            services += loaded.DESCRIPTOR.services_by_name.values()
    return [
        Rpc(f"/{service.full_name}/{method.name}", method)
        for service in services
        for method in service.methods
    ]


RPCS = every_rpc()


def _fields(
    message: descriptor.Descriptor, depth: int = 3
) -> Iterator[tuple[list[descriptor.FieldDescriptor], descriptor.FieldDescriptor]]:
    """(path of message fields, leaf field) for every non-map field up to `depth` deep."""
    for field in message.fields:
        yield [], field
        if (
            depth > 1
            and field.message_type is not None
            and not field.message_type.GetOptions().map_entry
            and field.message_type.full_name != "google.protobuf.Timestamp"
        ):
            for path, leaf in _fields(field.message_type, depth - 1):
                yield [field, *path], leaf


def _wire(path: list[descriptor.FieldDescriptor], payload: bytes) -> bytes:
    """`payload` (a complete field encoding) nested inside the messages of `path`."""
    for field in reversed(path):
        payload = _tag(field.number, 2) + _varint(len(payload)) + payload
    return payload


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def invalid_utf8_bodies(rpc: Rpc) -> list[bytes]:
    bodies = []
    for path, leaf in _fields(rpc.method.input_type):
        if leaf.type == descriptor.FieldDescriptor.TYPE_STRING:
            bodies.append(_wire(path, _tag(leaf.number, 2) + b"\x04a\xff\xfeb"))
    return bodies


def timestamp_bodies(rpc: Rpc, extra: Message | None = None) -> list[bytes]:
    """For every Timestamp field of the request, one body per edge value."""
    bodies = []
    prefix = extra.SerializeToString() if extra is not None else b""
    for path, leaf in _fields(rpc.method.input_type):
        if leaf.message_type is None or leaf.message_type.full_name != (
            "google.protobuf.Timestamp"
        ):
            continue
        for seconds, nanos in EDGE_TIMESTAMPS:
            value = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos).SerializeToString()
            bodies.append(prefix + _wire(path, _tag(leaf.number, 2) + _varint(len(value)) + value))
    return bodies


UNKNOWN_FIELDS = _tag(1000, 0) + _varint(7) + _tag(1001, 2) + b"\x03abc"
