"""Calendar feeds: capability URLs that serve a room, or an identity's rooms, as
iCalendar. Pure values and rules (no I/O); the iCalendar text is written by
service/calendar/ics.py, the rows kept by service/storage/calendar.py.

A feed's token is `<tenant, base64url>.<feed id>.<secret>`: the tenant and the feed id
find the row (a tenant's rows only, as a sharded database wants), the secret proves
the holder was given the URL. Only the secret's SHA-256 is stored; a token of another
tenant, a wrong secret and a deleted feed all read as "no such feed".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from service.domain.models import Room, new_id

# The metadata keys whose value is a room's join link, in the order they are looked for.
JOIN_LINK_KEYS = ("join_url", "join_link", "url")


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """A feed of one room (`room_id`) or of one identity's rooms (`user_id`)."""

    feed_id: str
    room_id: str
    user_id: str
    create_time: datetime


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One room as a feed shows it: cancelled once deleted, or once the feed's identity
    was removed from its roster."""

    room: Room
    cancelled: bool


@dataclass(frozen=True, slots=True)
class FeedToken:
    tenant: str
    feed_id: str
    secret: str


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def secret_matches(secret: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def token_of(tenant: str, feed_id: str, secret: str) -> str:
    encoded = base64.urlsafe_b64encode(tenant.encode()).decode().rstrip("=")
    return f"{encoded}.{feed_id}.{secret}"


def parse_token(token: str) -> FeedToken | None:
    """The parts of a token, or None for anything `token_of` never made."""
    if len(token) > 1024:
        return None
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return None
    encoded, feed_id, secret = parts
    try:
        tenant = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if token_of(tenant, feed_id, secret) != token:
        return None
    return FeedToken(tenant, feed_id, secret)


def etag_of_body(body: bytes) -> str:
    """A feed's strong entity tag: its content's hash."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (or is `*`)."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def new_feed_id() -> str:
    return new_id()


def join_link(room: Room) -> str | None:
    """The join link a room's metadata carries, if any (an http(s) URL)."""
    for key in JOIN_LINK_KEYS:
        value = room.metadata.get(key)
        if value and value.startswith(("https://", "http://")):
            return value
    return None


def sequence_of(room: Room) -> int:
    """The iCalendar SEQUENCE of a room: it grows with every change of the room (its
    version; deleting a room bumps it too)."""
    return max(0, room.version - 1)
