"""API keys, configured as hashes mapped to a tenant and a key name.

A key is `rk_` followed by 32 random base32 characters (160 bits). The server never
sees keys in its configuration, only entries of the form

    sha256:<64 hex digits>:<tenant>:<key name>

in `ROOMS_API_KEYS` (comma- or newline-separated) or in the file named by
`ROOMS_API_KEYS_FILE` (one per line, `#` comments allowed). Checking a presented key
hashes it and compares the hash with every configured hash in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from service.domain.models import Caller

KEY_PREFIX = "rk_"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_ENTRY = re.compile(r"sha256:([0-9a-f]{64}):([^:\s]+):([^:\s]+)")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_name(kind: str, value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{kind} {value!r} must be 1-63 characters of a-z 0-9 _ . - starting with a letter"
            " or digit"
        )
    return value


@dataclass(frozen=True, slots=True)
class KeyEntry:
    digest: bytes
    caller: Caller

    def line(self) -> str:
        return f"sha256:{self.digest.hex()}:{self.caller.tenant}:{self.caller.key_name}"


def new_key(tenant: str, name: str) -> tuple[str, KeyEntry]:
    """A fresh key and the configuration entry that accepts it."""
    check_name("tenant", tenant)
    check_name("key name", name)
    key = KEY_PREFIX + base64.b32encode(secrets.token_bytes(20)).decode().lower()
    return key, KeyEntry(bytes.fromhex(hash_key(key)), Caller(tenant, name))


def parse_entries(text: str) -> list[KeyEntry]:
    """Parse configuration entries; raise ValueError naming the bad one."""
    entries = []
    for raw in re.split(r"[,\n]", text):
        item = raw.split("#", 1)[0].strip()
        if not item:
            continue
        match = _ENTRY.fullmatch(item)
        if not match:
            shown = item[:20] + "..." if len(item) > 20 else item
            raise ValueError(
                f"bad API key entry {shown!r}: expected sha256:<64 hex>:<tenant>:<name>"
            )
        digest, tenant, name = match.groups()
        entries.append(
            KeyEntry(
                bytes.fromhex(digest),
                Caller(check_name("tenant", tenant), check_name("key name", name)),
            )
        )
    return entries


class KeyRing:
    """The configured keys. Empty means authentication is off (development mode)."""

    def __init__(self, entries: Iterable[KeyEntry]) -> None:
        self._entries = list(entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def caller_for(self, key: str) -> Caller | None:
        """The caller a key belongs to, or None. Time does not depend on which entry
        matches, nor on how much of a hash matches."""
        digest = hashlib.sha256(key.encode()).digest()
        found: Caller | None = None
        for entry in self._entries:
            if hmac.compare_digest(entry.digest, digest):
                found = entry.caller
        return found
