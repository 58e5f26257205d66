"""Access keys of the ACS Rooms REST API: what one is, and how a new one is made.

A key is 64 random bytes, given to callers base64-encoded inside an ACS connection
string (`endpoint=URL;accesskey=KEY`), as Azure Communication Services makes them. Its
id (16 hex digits) names it in `acs-keys list` and `revoke` and in the events' actor;
the key itself is never shown again after `acs-keys create`."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field

KEY_BYTES = 64


@dataclass(frozen=True, slots=True)
class AcsKey:
    """A tenant's access key. `secret` is the raw key (repr hides it)."""

    tenant: str
    key_id: str
    secret: bytes = field(repr=False)

    @property
    def actor(self) -> str:
        """The name of the key in events and logs (the caller's key name)."""
        return f"acs:{self.key_id}"


def new_acs_key(tenant: str) -> AcsKey:
    return AcsKey(tenant, secrets.token_hex(8), secrets.token_bytes(KEY_BYTES))


def connection_string(endpoint: str, key: AcsKey) -> str:
    """What the Azure SDKs take: `endpoint=URL;accesskey=BASE64`."""
    return f"endpoint={endpoint};accesskey={base64.b64encode(key.secret).decode()}"
