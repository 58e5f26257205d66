"""The `[tenants.<tenant>.janus]` tables of the media configuration file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from service.media.janus.config import JanusConfigError, parse_janus_tenants

SECRET = "ts-0123456789-not-for-logs"
ROOM = "rs-0123456789-not-for-logs"
ADMIN = "ak-0123456789-not-for-logs"


def test_inline_and_file_secrets_per_tenant(tmp_path: Path) -> None:
    (tmp_path / "room-secret").write_text(ROOM + "\n")
    document = tomllib.loads(
        f"""
[tenants.acme.janus]
url = "http://127.0.0.1:8088/janus/"
token_auth_secret = "{SECRET}"
room_secret_file = "room-secret"
admin_key = "{ADMIN}"

[tenants.acme.livekit]
url = "wss://example.test"

[tenants.globex.livekit]
url = "wss://example.test"
"""
    )
    configs = parse_janus_tenants(document, base_dir=tmp_path)

    assert list(configs) == ["acme"]
    acme = configs["acme"]
    assert acme.url == "http://127.0.0.1:8088/janus"
    assert acme.token_auth_secret.get_secret_value() == SECRET
    assert acme.room_secret.get_secret_value() == ROOM
    assert acme.admin_key is not None and acme.admin_key.get_secret_value() == ADMIN
    shown = repr(acme) + str(acme) + repr(configs)
    for value in (SECRET, ROOM, ADMIN):
        assert value not in shown


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "tenants.acme.janus.url is required"),
        ({"url": "ftp://x/janus"}, "must be an http:// or https:// URL"),
        ({"url": f"http://u:{SECRET}@x/janus"}, "no credentials"),
        ({"url": "http://x/janus", "room_secret": ROOM}, "token_auth_secret (or"),
        ({"url": "http://x/janus", "token_auth_secret": SECRET}, "room_secret (or"),
        (
            {
                "url": "http://x/janus",
                "token_auth_secret": SECRET,
                "token_auth_secret_file": "/x",
                "room_secret": ROOM,
            },
            "not both",
        ),
        (
            {"url": "http://x/janus", "token_auth_secret": "", "room_secret": ROOM},
            "token_auth_secret must be a non-empty string",
        ),
        (
            {"url": "http://x/janus", "token_auth_secret": SECRET, "room_secret": ROOM, "x": 1},
            "unknown key(s) x",
        ),
        (
            {
                "url": "http://x/janus",
                "token_auth_secret": SECRET,
                "room_secret_file": "/nonexistent/room-secret",
            },
            "room_secret_file: cannot read",
        ),
    ],
)
def test_bad_tables_are_refused_naming_the_key_never_the_secret(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(JanusConfigError) as refused:
        parse_janus_tenants({"tenants": {"acme": {"janus": table}}})
    assert message in str(refused.value)
    for value in (SECRET, ROOM, ADMIN):
        assert value not in str(refused.value)


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    table = {"url": "http://x/janus", "token_auth_secret_file": str(tmp_path / "empty")}
    with pytest.raises(JanusConfigError, match="is empty"):
        parse_janus_tenants({"tenants": {"acme": {"janus": {**table, "room_secret": ROOM}}}})


def test_a_document_without_janus_tables_configures_nobody() -> None:
    assert parse_janus_tenants({}) == {}
    assert parse_janus_tenants({"tenants": {"acme": {"jitsi": {}}}}) == {}
    with pytest.raises(JanusConfigError):
        parse_janus_tenants({"tenants": {"acme": {"janus": "http://x"}}})
