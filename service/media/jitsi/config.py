"""A tenant's Jitsi Meet deployment with token authentication: the
`[tenants.<tenant>.jitsi]` table of the media configuration file (ROOMS_MEDIA_CONFIG_FILE).

    [tenants.acme.jitsi]
    url = "https://meet.acme.example"
    app_id = "acme"
    secret_file = "/run/secrets/acme-jitsi"          # or: secret = "..."
    audience = "jitsi"                               # optional, default "jitsi"
    subject = "meet.acme.example"                    # optional, default: the url's host
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from service.media.base import Secret, check_keys, secret, text

_KEYS = {"url", "app_id", "secret", "secret_file", "audience", "subject"}


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


def parse_jitsi_table(table: Any, where: str, base_dir: Path | None = None) -> JitsiConfig:
    """One `jitsi` table; MediaConfigError names `where` and the key, never a secret."""
    checked: Mapping[str, Any] = check_keys(table, _KEYS, where)
    url = text(checked, "url", where)
    return JitsiConfig(
        url=url,
        app_id=text(checked, "app_id", where),
        secret=secret(checked, "secret", where, base_dir),
        audience=text(checked, "audience", where, "jitsi"),
        subject=text(checked, "subject", where, urlsplit(url).hostname or url),
    )
