"""What the domain and security need from storage without importing it: the keyset
position of a page, the rule on what an update may change, and where signing keys are
kept (implemented in service/storage/signing_keys.py). The use cases call the stores
themselves (`PgRoomStore`, `PgWebhookStore`, storage's `CalendarStore`):
docs/decisions/storage.md says why."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from service.domain.credentials import StoredSigningKey
from service.domain.models import SETTING_TYPES

# A keyset position: (timestamp, id) of the last item of the previous page.
Position = tuple[datetime, str]


def check_changes(changes: Mapping[str, Any]) -> None:
    """What `PgRoomStore.update_room` checks first: `changes` names settings only
    (a room's id, version or times are not for the caller to set)."""
    for column in changes:
        if column not in SETTING_TYPES:
            raise ValueError(f"not an updatable column: {column}")


class SigningKeyStore(Protocol):
    """Where the keys signing rooms' own credentials are kept, shared by replicas."""

    async def signing_keys(self) -> list[StoredSigningKey]:
        """Every stored key, newest activation first."""
        ...

    async def add_signing_key(self, key: StoredSigningKey, *, only_if_none: bool) -> bool:
        """Store a key; with `only_if_none`, only when no key exists yet (the first
        start of the first replica). Whether it was stored."""
        ...
