"""The values rooms hands to Janus and to a Janus client: pure functions, no I/O.

Janus (the Meetecho WebRTC server) admits a request when it carries a core token signed
with the deployment's `token_auth_secret`; its VideoRoom plugin admits a `join` when the
request's `token` is in the room's `allowed` list. Everything here is derived, so any
replica (and a reconcile after a Janus restart) computes the same values:

- the core token: `<expiry>,janus,<plugin>[,<plugin>...]:<base64 HMAC-SHA1>` (Janus's
  own format, checked against Janus 1.1.2 in docs/janus.md);
- the VideoRoom room number of a (tenant, room), a 53-bit integer (safe in JavaScript);
- the participant id an identity joins with, also 53-bit;
- the per-room secret (the VideoRoom `secret` that guards `allowed`, `kick`, `destroy`);
- the per-identity join token: a VideoRoom-signed token (`<expiry>,janus.plugin.videoroom,
  room=<N>,p=<participant>,e=<epoch>:<base64 HMAC-SHA1>`) that Janus checks on every
  `join` of a room created with `signed_tokens`, publisher or subscriber; it expires at
  the end of the identity's window and changes with the membership epoch, so a token
  handed out before a removal never works again (publishers must also be in `allowed`).

Who may publish or subscribe is a domain rule (`service.domain.janus`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime

VIDEOROOM_PLUGIN = "janus.plugin.videoroom"
"""The one Janus plugin rooms drives; its name is what a core token grants."""

_REALM = "janus"
_MAX_SAFE = (1 << 53) - 1  # JavaScript's Number.MAX_SAFE_INTEGER


def _encode(label: str, *parts: str) -> bytes:
    """An unambiguous byte string for hashing: each part prefixed by its length."""
    out = bytearray()
    for part in (label, *parts):
        data = part.encode()
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def _id53(label: str, *parts: str) -> int:
    """A stable integer in [1, 2**53 - 1] from a SHA-256 of the parts."""
    digest = hashlib.sha256(_encode(label, *parts)).digest()
    value = int.from_bytes(digest[:8], "big") & _MAX_SAFE
    return value or 1


def _mac(secret: bytes, label: str, *parts: str) -> str:
    digest = hmac.new(secret, _encode(label, *parts), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def core_token(
    token_auth_secret: bytes, expires_at: datetime, plugins: Iterable[str] = (VIDEOROOM_PLUGIN,)
) -> str:
    """A Janus core token valid until `expires_at` (rounded down to the second, so it never
    outlives it) for `plugins`."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    names = list(plugins)
    if not names or any("," in name or ":" in name for name in names):
        raise ValueError("plugins must be one or more names without ',' or ':'")
    expiry = int(expires_at.astimezone(UTC).timestamp())
    return _signed(token_auth_secret, ",".join([str(expiry), _REALM, *names]))


def room_number(tenant: str, room_id: str) -> int:
    """The VideoRoom number of a room: stable, 53-bit safe, distinct per tenant."""
    return _id53("rooms/janus/room", tenant, room_id)


def participant_id(tenant: str, room_id: str, user_id: str) -> int:
    """The VideoRoom participant id an identity joins with. Not a secret: every participant
    of the room sees the ids of the others. Fixed per identity, so rooms can kick it."""
    return _id53("rooms/janus/participant", tenant, room_id, user_id)


def sentinel_number(tenant: str) -> int:
    """The number of the tenant's sentinel VideoRoom: rooms creates it (admitting nobody)
    after it has reconciled every open room, so finding it missing tells that Janus
    restarted (Janus forgets every room created over its API)."""
    return _id53("rooms/janus/sentinel", tenant)


def room_secret(tenant_secret: bytes, tenant: str, room_id: str) -> str:
    """The VideoRoom `secret` of a room, derived from the tenant's room secret, so a secret
    seen for one room opens no other."""
    return _mac(tenant_secret, "rooms/janus/room-secret", tenant, room_id)


def _signed(token_auth_secret: bytes, data: str) -> str:
    signature = hmac.new(token_auth_secret, data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(signature).decode()}"


def join_token(
    token_auth_secret: bytes,
    tenant: str,
    room_id: str,
    user_id: str,
    epoch: int,
    expires_at: datetime,
) -> str:
    """The token an identity presents in its VideoRoom `join` (publisher or subscriber):
    signed for the VideoRoom plugin with the room's descriptor, as Janus checks in a room
    created with `signed_tokens` (janus_videoroom.c, `janus_videoroom_access_room`). The
    participant id and membership `epoch` make it one identity's at one epoch (a removal,
    a ban, a demotion gives a new one); `expires_at` (the end of the identity's window,
    rounded down) makes it deterministic, so a reconcile recomputes it."""
    if epoch < 0:
        raise ValueError("epoch must not be negative")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    expiry = int(expires_at.astimezone(UTC).timestamp())
    number = room_number(tenant, room_id)
    member = participant_id(tenant, room_id, user_id)
    data = f"{expiry},{VIDEOROOM_PLUGIN},room={number},p={member},e={epoch}"
    return _signed(token_auth_secret, data)


def room_token(token_auth_secret: bytes, number: int, expires_at: datetime) -> str:
    """A VideoRoom token signed for room `number` alone (rooms' own, and the tests')."""
    expiry = int(expires_at.astimezone(UTC).timestamp())
    return _signed(token_auth_secret, f"{expiry},{VIDEOROOM_PLUGIN},room={number}")


def token_participant(token: str) -> int | None:
    """The participant id a join token names (`p=` descriptor); None for another token.
    Not a verification: Janus verifies; rooms only sorts its own tokens by identity."""
    data = token.split(":", 1)[0].split(",")
    for part in data[2:]:
        if part.startswith("p=") and part[2:].isdigit():
            return int(part[2:])
    return None


def stale_tokens(allowed: Iterable[str], number: int, member: int, keep: str | None) -> list[str]:
    """The tokens in a room's `allowed` list that name participant `member` (any epoch,
    any expiry), but `keep` (its current token while it may still publish)."""
    prefix = f"room={number}"
    return sorted(
        token
        for token in allowed
        if token != keep
        and token_participant(token) == member
        and prefix in token.split(":", 1)[0].split(",")
    )
