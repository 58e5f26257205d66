"""The media servers rooms issues credentials for: one row per credential format, naming
its table in the media configuration file, how that table is read, and its credential
issuer. Adding a media server is a folder `service/media/<server>/` (its `config` and
`issuer`) and one row here; rooms' own format (ROOMS) is signed by `service.security`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from service.domain.credentials import CredentialFormat
from service.domain.media_ports import CredentialIssuer
from service.media.janus.config import parse_janus_table
from service.media.janus.issuer import JanusIssuer
from service.media.jitsi.config import parse_jitsi_table
from service.media.jitsi.issuer import JitsiIssuer
from service.media.livekit.config import parse_livekit_table
from service.media.livekit.issuer import LiveKitIssuer

ConfigT = TypeVar("ConfigT")


@dataclass(frozen=True, slots=True)
class MediaServer(Generic[ConfigT]):
    """One kind of media server."""

    table: str
    """Its table under `[tenants.<tenant>]` in the media configuration file."""
    parse: Callable[[Any, str, Path | None], ConfigT]
    """Reads one tenant's table (`where` names it in errors; `*_file` paths relative to
    the configuration file's folder); raises MediaConfigError."""
    issuer: Callable[[Mapping[str, ConfigT]], CredentialIssuer]
    """The credential issuer over every tenant's configuration."""


MEDIA_SERVERS: Mapping[CredentialFormat, MediaServer[Any]] = {
    CredentialFormat.LIVEKIT: MediaServer("livekit", parse_livekit_table, LiveKitIssuer),
    CredentialFormat.JITSI: MediaServer("jitsi", parse_jitsi_table, JitsiIssuer),
    CredentialFormat.JANUS: MediaServer("janus", parse_janus_table, JanusIssuer),
}
