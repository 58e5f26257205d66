"""A tenant's LiveKit project: the `[tenants.<tenant>.livekit]` table of the media
configuration file (ROOMS_MEDIA_CONFIG_FILE).

    [tenants.acme.livekit]
    url = "wss://livekit.acme.example"
    api_key = "APIxxxxxxxx"
    api_secret_file = "/run/secrets/acme-livekit"   # or: api_secret = "..."
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.media.base import Secret, check_keys, secret, text

_KEYS = {"url", "api_key", "api_secret", "api_secret_file"}


@dataclass(frozen=True, slots=True)
class LiveKitConfig:
    """A tenant's LiveKit project: where clients connect, and the key pair tokens are
    signed with (also what LiveKit's server API takes)."""

    url: str
    api_key: str
    api_secret: Secret = field(repr=False)

    def __repr__(self) -> str:
        return f"LiveKitConfig(url={self.url!r}, api_key={self.api_key!r}, api_secret=***)"


def parse_livekit_table(table: Any, where: str, base_dir: Path | None = None) -> LiveKitConfig:
    """One `livekit` table; MediaConfigError names `where` and the key, never a secret."""
    checked: Mapping[str, Any] = check_keys(table, _KEYS, where)
    return LiveKitConfig(
        url=text(checked, "url", where),
        api_key=text(checked, "api_key", where),
        api_secret=secret(checked, "api_secret", where, base_dir),
    )
