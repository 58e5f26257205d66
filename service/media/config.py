"""Per-tenant media-server configuration: the file named by `ROOMS_MEDIA_CONFIG_FILE`.

TOML, one table per tenant and media server (each described by its own `config` module:
`service.media.livekit.config`, `service.media.jitsi.config`, `service.media.janus.config`;
see docs/janus.md for Janus):

    [tenants.acme.livekit]
    url = "wss://livekit.acme.example"
    api_key = "APIxxxxxxxx"
    api_secret_file = "/run/secrets/acme-livekit"   # or: api_secret = "..."

    [tenants.acme.jitsi]
    url = "https://meet.acme.example"
    app_id = "acme"
    secret_file = "/run/secrets/acme-jitsi"          # or: secret = "..."

    [tenants.acme.janus]
    url = "http://127.0.0.1:8088/janus"
    token_auth_secret_file = "/run/secrets/acme-janus-token"   # or: token_auth_secret
    room_secret_file = "/run/secrets/acme-janus-rooms"         # or: room_secret

The tables a tenant may have are the rows of `service.media.issuers.MEDIA_SERVERS`. A
relative `*_file` path is read relative to the configuration file; every secret is read
by `service.secrets.read_secret` (a file's trailing whitespace stripped). A tenant only
ever gets its own tables (`livekit_for(tenant)`, `jitsi_for(tenant)`, `janus_for(tenant)`,
`issuer(format)`). Secrets never show in a repr or str, so they never reach a log line,
an error message or a response.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from service.domain.credentials import CredentialFormat
from service.domain.media_ports import CredentialIssuer
from service.media.base import MediaConfigError, check_keys
from service.media.issuers import MEDIA_SERVERS
from service.media.janus.config import JanusConfig
from service.media.jitsi.config import JitsiConfig
from service.media.livekit.config import LiveKitConfig

ConfigT = TypeVar("ConfigT")


@dataclass(frozen=True, slots=True)
class MediaConfig:
    """Every tenant's media servers (format -> tenant -> configuration). Empty when no
    file is configured."""

    servers: Mapping[CredentialFormat, Mapping[str, Any]] = field(default_factory=dict)
    _issuers: Mapping[CredentialFormat, CredentialIssuer] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        issuers = {
            format: server.issuer(self.servers.get(format, {}))
            for format, server in MEDIA_SERVERS.items()
        }
        object.__setattr__(self, "_issuers", issuers)

    def issuer(self, format: CredentialFormat) -> CredentialIssuer | None:
        """The issuer of a media server's credentials; None for rooms' own format."""
        return self._issuers.get(format)

    def tenants(self, format: CredentialFormat) -> list[str]:
        """Every tenant configured for a media server."""
        return sorted(self.servers.get(format, {}))

    def _config(self, format: CredentialFormat, tenant: str, kind: type[ConfigT]) -> ConfigT | None:
        config = self.servers.get(format, {}).get(tenant)
        return config if isinstance(config, kind) else None

    def livekit_for(self, tenant: str) -> LiveKitConfig | None:
        """The tenant's own LiveKit configuration, or None."""
        return self._config(CredentialFormat.LIVEKIT, tenant, LiveKitConfig)

    def jitsi_for(self, tenant: str) -> JitsiConfig | None:
        """The tenant's own Jitsi configuration, or None."""
        return self._config(CredentialFormat.JITSI, tenant, JitsiConfig)

    def janus_for(self, tenant: str) -> JanusConfig | None:
        """The tenant's own Janus configuration, or None."""
        return self._config(CredentialFormat.JANUS, tenant, JanusConfig)

    def livekit_tenants(self) -> list[str]:
        """Every tenant with a LiveKit configuration (they get removals pushed)."""
        return self.tenants(CredentialFormat.LIVEKIT)

    def janus_tenants(self) -> list[str]:
        """Every tenant with a Janus configuration (rooms drives its VideoRooms)."""
        return self.tenants(CredentialFormat.JANUS)


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
    by_table = {server.table: format for format, server in MEDIA_SERVERS.items()}
    servers: dict[CredentialFormat, dict[str, Any]] = {format: {} for format in MEDIA_SERVERS}
    for tenant, tables in tenants.items():
        where = f"{source}: tenants.{tenant}"
        for name, table in check_keys(tables, set(by_table), where).items():
            format = by_table[name]
            servers[format][tenant] = MEDIA_SERVERS[format].parse(table, f"{where}.{name}", base)
    return MediaConfig(servers)


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
