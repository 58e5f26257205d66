"""Every proto file of rooms.v1 declares the same package options for other languages,
so stubs generated in Go, Java, C#, Ruby, PHP or Objective-C land in one package."""

from __future__ import annotations

import re

from support.database import ROOT

PROTOS = sorted((ROOT / "protos" / "rooms" / "v1").glob("*.proto"))

# The one set every file declares (decided in docs/decisions.md, "Polyglot contract").
OPTIONS = {
    "csharp_namespace": '"Rooms.V1"',
    "go_package": '"rooms/gen/go/rooms/v1;roomsv1"',
    "java_multiple_files": "true",
    "java_package": '"rooms.v1"',
    "objc_class_prefix": '"RVX"',
    "php_namespace": '"Rooms\\\\V1"',
    "ruby_package": '"Rooms::V1"',
}

OPTION = re.compile(r"^option\s+(\w+)\s*=\s*(.+?);\s*$", re.MULTILINE)


def test_every_proto_file_declares_the_language_options() -> None:
    assert PROTOS
    for proto in PROTOS:
        declared = dict(OPTION.findall(proto.read_text()))
        assert declared == OPTIONS, f"{proto.name}: copy the option block of room.proto"
