"""Per-tenant media-server configuration: the file named by `ROOMS_MEDIA_CONFIG_FILE`.

TOML, one table per tenant and media server:

    [tenants.acme.livekit]
    url = "wss://livekit.acme.example"
    api_key = "APIxxxxxxxx"
    api_secret_file = "/run/secrets/acme-livekit"   # or: api_secret = "..."

    [tenants.acme.jitsi]
    url = "https://meet.acme.example"
    app_id = "acme"
    secret_file = "/run/secrets/acme-jitsi"          # or: secret = "..."
    audience = "jitsi"                               # optional, default "jitsi"
    subject = "meet.acme.example"                    # optional, default: the url's host

    [tenants.acme.janus]                             # see docs/janus.md
    url = "http://127.0.0.1:8088/janus"
    token_auth_secret_file = "/run/secrets/acme-janus-token"   # or: token_auth_secret
    room_secret_file = "/run/secrets/acme-janus-rooms"         # or: room_secret
    admin_key_file = "/run/secrets/acme-janus-admin"           # optional; or: admin_key

A relative `*_file` path is read relative to the configuration file; every secret is
read by `service.secrets.read_secret` (a file's trailing whitespace stripped). A tenant only
ever gets its own tables (`livekit_for(tenant)`, `jitsi_for(tenant)`,
`janus_for(tenant)`; the `janus` table is parsed by `service.janus.config`). Secrets are
`Secret` values: their `repr` and `str` hide them, so they never reach a log line,
an error message or a response.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from service.janus.config import JanusConfig, JanusConfigError, parse_janus_table
from service.secrets import read_secret

__all__ = [
    "JanusConfig",
    "JitsiConfig",
    "LiveKitConfig",
    "MediaConfig",
    "MediaConfigError",
    "Secret",
    "load_media_config",
]


class MediaConfigError(ValueError):
    """The media configuration file is missing, unreadable or malformed. The message
    names the file, tenant and key, never a secret's value."""


class Secret:
    """A secret string that does not show itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: only for signing."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class LiveKitConfig:
    """A tenant's LiveKit project: where clients connect, and the key pair tokens are
    signed with (also what LiveKit's server API takes)."""

    url: str
    api_key: str
    api_secret: Secret = field(repr=False)

    def __repr__(self) -> str:
        return f"LiveKitConfig(url={self.url!r}, api_key={self.api_key!r}, api_secret=***)"


@dataclass(frozen=True, slots=True)
class JitsiConfig:
    """A tenant's Jitsi Meet deployment with token authentication."""

    url: str
    app_id: str
    secret: Secret = field(repr=False)
    audience: str = "jitsi"
    subject: str = ""

    def __repr__(self) -> str:
        return (
            f"JitsiConfig(url={self.url!r}, app_id={self.app_id!r}, secret=***, "
            f"audience={self.audience!r}, subject={self.subject!r})"
        )


@dataclass(frozen=True, slots=True)
class MediaConfig:
    """Every tenant's media servers. Empty when no file is configured."""

    livekit: Mapping[str, LiveKitConfig] = field(default_factory=dict)
    jitsi: Mapping[str, JitsiConfig] = field(default_factory=dict)
    janus: Mapping[str, JanusConfig] = field(default_factory=dict)

    def livekit_for(self, tenant: str) -> LiveKitConfig | None:
        """The tenant's own LiveKit configuration, or None."""
        return self.livekit.get(tenant)

    def jitsi_for(self, tenant: str) -> JitsiConfig | None:
        """The tenant's own Jitsi configuration, or None."""
        return self.jitsi.get(tenant)

    def janus_for(self, tenant: str) -> JanusConfig | None:
        """The tenant's own Janus configuration, or None."""
        return self.janus.get(tenant)

    def livekit_tenants(self) -> list[str]:
        """Every tenant with a LiveKit configuration (they get removals pushed)."""
        return sorted(self.livekit)

    def janus_tenants(self) -> list[str]:
        """Every tenant with a Janus configuration (rooms drives its VideoRooms)."""
        return sorted(self.janus)


_LIVEKIT_KEYS = {"url", "api_key", "api_secret", "api_secret_file"}
_JITSI_KEYS = {"url", "app_id", "secret", "secret_file", "audience", "subject"}


def _text(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise MediaConfigError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _secret(table: Mapping[str, Any], key: str, where: str, base: Path) -> Secret:
    value = read_secret(
        table, key, where=where, base_dir=base, required=True, error=MediaConfigError
    )
    assert value is not None  # required
    return Secret(value)


def _check_keys(table: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(table, dict):
        raise MediaConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise MediaConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    return table


def parse_media_config(text: str, base: Path, source: str = "media config") -> MediaConfig:
    """Parse the TOML text of a media configuration (secret files relative to `base`)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # The parser's message quotes no values, only positions.
        raise MediaConfigError(f"{source}: not valid TOML: {error}") from None
    unknown = sorted(set(document) - {"tenants"})
    if unknown:
        raise MediaConfigError(f"{source}: unknown top-level key(s) {', '.join(unknown)}")
    tenants = document.get("tenants", {})
    if not isinstance(tenants, dict):
        raise MediaConfigError(f"{source}: 'tenants' must be a table")
    livekit: dict[str, LiveKitConfig] = {}
    jitsi: dict[str, JitsiConfig] = {}
    janus: dict[str, JanusConfig] = {}
    for tenant, servers in tenants.items():
        where = f"{source}: tenants.{tenant}"
        servers = _check_keys(servers, {"livekit", "jitsi", "janus"}, where)
        if "livekit" in servers:
            at = f"{where}.livekit"
            table = _check_keys(servers["livekit"], _LIVEKIT_KEYS, at)
            livekit[tenant] = LiveKitConfig(
                url=_text(table, "url", at),
                api_key=_text(table, "api_key", at),
                api_secret=_secret(table, "api_secret", at, base),
            )
        if "jitsi" in servers:
            at = f"{where}.jitsi"
            table = _check_keys(servers["jitsi"], _JITSI_KEYS, at)
            url = _text(table, "url", at)
            jitsi[tenant] = JitsiConfig(
                url=url,
                app_id=_text(table, "app_id", at),
                secret=_secret(table, "secret", at, base),
                audience=_text(table, "audience", at, "jitsi"),
                subject=_text(table, "subject", at, urlsplit(url).hostname or url),
            )
        if "janus" in servers:
            if not isinstance(servers["janus"], dict):
                raise MediaConfigError(f"{where}.janus must be a table")
            try:
                janus[tenant] = parse_janus_table(
                    servers["janus"], where=f"{where}.janus", base_dir=base
                )
            except JanusConfigError as error:  # names the key, never a value
                raise MediaConfigError(str(error)) from None
    return MediaConfig(livekit=livekit, jitsi=jitsi, janus=janus)


def load_media_config(path: Path | None) -> MediaConfig:
    """The configuration in `path` (`ROOMS_MEDIA_CONFIG_FILE`); empty when None."""
    if path is None:
        return MediaConfig()
    try:
        text = path.read_text()
    except OSError as error:
        raise MediaConfigError(
            f"cannot read media config {str(path)!r}: {error.strerror}"
        ) from None
    return parse_media_config(text, path.parent, str(path))
