"""Per-tenant media-server configuration, from the TOML file named by
`ROOMS_MEDIA_CONFIG_FILE`:

    [tenants.acme.livekit]
    url = "https://livekit.acme.example"
    api_key = "APIxxxx"
    api_secret_file = "/run/secrets/livekit"   # or api_secret = "..."

A minimal loader of LiveKit's part (issue 14); the credentials issue owns the format
and its full loader. Secrets never appear in a repr or a log.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class LiveKitConfig:
    url: str
    api_key: str
    api_secret: str = field(repr=False)


class MediaConfigError(ValueError):
    """The media configuration file is malformed (the message names the entry)."""


def _secret(table: Mapping[str, Any], where: str, base: Path) -> str:
    if "api_secret" in table:
        value = table["api_secret"]
    elif "api_secret_file" in table:
        path = Path(str(table["api_secret_file"]))
        value = (path if path.is_absolute() else base / path).read_text().strip()
    else:
        raise MediaConfigError(f"{where}: api_secret or api_secret_file is required")
    if not isinstance(value, str) or not value:
        raise MediaConfigError(f"{where}: the API secret must be a non-empty string")
    return value


class MediaConfig:
    """The parsed file: which tenant uses which media server."""

    def __init__(self, livekit: Mapping[str, LiveKitConfig] | None = None) -> None:
        self._livekit = dict(livekit or {})

    @classmethod
    def load(cls, path: Path | None) -> MediaConfig:
        """The configuration in `path`; empty without one."""
        if path is None:
            return cls()
        data = tomllib.loads(path.read_text())
        tenants = data.get("tenants", {})
        if not isinstance(tenants, dict):
            raise MediaConfigError("[tenants] must be a table of tenants")
        livekit: dict[str, LiveKitConfig] = {}
        for tenant, servers in tenants.items():
            table = servers.get("livekit") if isinstance(servers, dict) else None
            if table is None:
                continue
            where = f"tenants.{tenant}.livekit"
            url, key = table.get("url"), table.get("api_key")
            if not isinstance(url, str) or not url or not isinstance(key, str) or not key:
                raise MediaConfigError(f"{where}: url and api_key are required strings")
            livekit[tenant] = LiveKitConfig(url, key, _secret(table, where, path.parent))
        return cls(livekit)

    def livekit_for(self, tenant: str) -> LiveKitConfig | None:
        """The tenant's LiveKit, or None when it has none."""
        return self._livekit.get(tenant)

    def livekit_tenants(self) -> list[str]:
        """Every tenant with a LiveKit configuration."""
        return sorted(self._livekit)
