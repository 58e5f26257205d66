"""What every media server shares: the error a bad table raises, the `Secret` value
that never shows itself, the readers of a table's keys (each server's own `config`
module uses them, so every table is read the same way), and `TenantIssuer`, the part
every credential issuer has in common."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from service.domain.credentials import JanusJoin
from service.domain.models import Role
from service.secrets import read_secret


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


def text(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    """A non-empty string value, stripped; MediaConfigError naming `where` and `key`."""
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise MediaConfigError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def secret(table: Mapping[str, Any], key: str, where: str, base: Path | None) -> Secret:
    """The required secret `key` (inline, or `key_file` relative to `base`)."""
    value = read_secret(
        table, key, where=where, base_dir=base, required=True, error=MediaConfigError
    )
    assert value is not None  # required
    return Secret(value)


def check_keys(table: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    """`table` itself, when it is a table of only `allowed` keys."""
    if not isinstance(table, dict):
        raise MediaConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise MediaConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    return table


class _Reachable(Protocol):
    @property
    def url(self) -> str: ...


ConfigT = TypeVar("ConfigT", bound=_Reachable)


class TenantIssuer(Generic[ConfigT]):
    """Each tenant's configuration of one media server, and where its clients connect;
    a server's issuer adds how its credentials are signed and read."""

    def __init__(self, configs: Mapping[str, ConfigT]) -> None:
        self._configs = configs

    def server_url(self, tenant: str) -> str | None:
        config = self._configs.get(tenant)
        return None if config is None else config.url

    def media_join(
        self, tenant: str, room_id: str, user_id: str, role: Role, epoch: int, until: datetime
    ) -> JanusJoin | None:
        return None  # the token is all a client of this media server needs
