"""A tenant's Janus configuration: the `[tenants.<tenant>.janus]` table of the media
configuration file (ROOMS_MEDIA_CONFIG_FILE).

    [tenants.acme.janus]
    url = "http://127.0.0.1:8088/janus"        # Janus's HTTP API (base_path included)
    token_auth_secret_file = "/etc/rooms/janus-token-secret"   # or token_auth_secret = "..."
    room_secret_file = "/etc/rooms/janus-room-secret"          # or room_secret = "..."
    admin_key = "..."                          # optional: the VideoRoom admin_key

The parser takes the already-parsed TOML document, so the loader of the whole file
(`service.media.config`) can call it for the `janus` tables. Secrets are
read by `service.secrets.read_secret`, as every other table's, and kept as
`SecretStr` (their repr is `**********`); errors name the key, never its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from service.media.base import MediaConfigError
from service.secrets import read_secret

_KEYS = frozenset(
    {
        "url",
        "token_auth_secret",
        "token_auth_secret_file",
        "room_secret",
        "room_secret_file",
        "admin_key",
        "admin_key_file",
    }
)


class JanusConfigError(MediaConfigError):
    """A `janus` table that cannot be used. The message names the key, never a secret."""


@dataclass(frozen=True, slots=True)
class JanusConfig:
    """How rooms reaches one tenant's Janus."""

    url: str
    """Janus's HTTP API, with its base path (e.g. `http://127.0.0.1:8088/janus`)."""
    token_auth_secret: SecretStr
    """Janus's `token_auth_secret`: signs the core tokens of rooms and of clients."""
    room_secret: SecretStr
    """The tenant's secret from which every room's VideoRoom `secret` and every join token
    is derived."""
    admin_key: SecretStr | None = None
    """The VideoRoom plugin's `admin_key`, when Janus is configured with one."""

    def __post_init__(self) -> None:
        if not self.token_auth_secret.get_secret_value():
            raise JanusConfigError("token_auth_secret must not be empty")
        if not self.room_secret.get_secret_value():
            raise JanusConfigError("room_secret must not be empty")

    @property
    def token_auth_key(self) -> bytes:
        """`token_auth_secret` as the HMAC key core tokens are signed with."""
        return self.token_auth_secret.get_secret_value().encode()

    @property
    def room_key(self) -> bytes:
        """`room_secret` as the key `service.media.janus.tokens` derives room secrets and join
        tokens from."""
        return self.room_secret.get_secret_value().encode()


def _secret(
    table: Mapping[str, Any], where: str, key: str, base_dir: Path | None, *, required: bool
) -> SecretStr | None:
    value = read_secret(
        table, key, where=where, base_dir=base_dir, required=required, error=JanusConfigError
    )
    return None if value is None else SecretStr(value)


def parse_janus_table(table: Any, where: str, base_dir: Path | None = None) -> JanusConfig:
    """One `[tenants.<tenant>.janus]` table. `where` names it in errors; relative `*_file`
    paths are read from `base_dir` (the configuration file's folder)."""
    if not isinstance(table, Mapping):
        raise JanusConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise JanusConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    url = table.get("url")
    if not isinstance(url, str) or not url:
        raise JanusConfigError(f"{where}.url is required (Janus's HTTP API, e.g. .../janus)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise JanusConfigError(f"{where}.url must be an http:// or https:// URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise JanusConfigError(f"{where}.url must carry no credentials, query or fragment")
    token_auth_secret = _secret(table, where, "token_auth_secret", base_dir, required=True)
    room_secret = _secret(table, where, "room_secret", base_dir, required=True)
    admin_key = _secret(table, where, "admin_key", base_dir, required=False)
    assert token_auth_secret is not None and room_secret is not None
    return JanusConfig(
        url=url.rstrip("/"),
        token_auth_secret=token_auth_secret,
        room_secret=room_secret,
        admin_key=admin_key,
    )


def parse_janus_tenants(
    document: Mapping[str, Any], *, base_dir: Path | None = None
) -> dict[str, JanusConfig]:
    """Every tenant's `janus` table of a parsed media configuration document."""
    tenants = document.get("tenants", {})
    if not isinstance(tenants, Mapping):
        raise JanusConfigError("tenants must be a table")
    configs: dict[str, JanusConfig] = {}
    for tenant, servers in tenants.items():
        if not isinstance(servers, Mapping):
            raise JanusConfigError(f"tenants.{tenant} must be a table")
        table = servers.get("janus")
        if table is None:
            continue
        configs[tenant] = parse_janus_table(table, f"tenants.{tenant}.janus", base_dir)
    return configs
