"""Opaque, tamper-evident page tokens for keyset pagination.

A token holds the position after the last item returned (the keyset cursor)
and an HMAC over that position *and* the call it belongs to (the list kind,
the tenant, and the filters), so a token edited by hand, or replayed against
another list, another tenant or other filters, is rejected as INVALID_PAGE_TOKEN.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar, cast

from service.domain import rules
from service.domain.clock import epoch_micros, from_epoch_micros
from service.domain.errors import bad_page_token
from service.domain.limits import Limits
from service.domain.models import Page
from service.domain.ports import Position

_VERSION = 1
_MAC_BYTES = 16
Cursor = list[str | int]


class PageTokens:
    """Encodes and checks page tokens with a server secret shared by all replicas."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the page token secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, scope: Sequence[str], payload: bytes) -> bytes:
        message = json.dumps(list(scope)).encode() + b"\x00" + payload
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, scope: Sequence[str], cursor: Cursor) -> str:
        payload = json.dumps([_VERSION, cursor], separators=(",", ":")).encode()
        raw = payload + self._mac(scope, payload)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(
        self,
        scope: Sequence[str],
        token: str,
        field: str = "page_token",
        *,
        shape: tuple[type, ...] | None = None,
    ) -> Cursor:
        """The cursor of a token made by `encode` with the same scope (and, if given, the
        value types of `shape`), or INVALID_PAGE_TOKEN."""
        if len(token) > 1024:
            raise bad_page_token(field)
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise bad_page_token(field) from None
        # Base64 lets several strings decode to the same bytes: accept only our spelling.
        if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
            raise bad_page_token(field)
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, self._mac(scope, payload)):
            raise bad_page_token(field)
        version, cursor = json.loads(payload)
        if version != _VERSION or not isinstance(cursor, list):
            raise bad_page_token(field)
        if shape is not None and (
            len(cursor) != len(shape)
            or any(type(value) is not kind for value, kind in zip(cursor, shape, strict=False))
        ):
            raise bad_page_token(field)
        return cursor


# ---- one page of a list: fetch limit + 1, cut, token -------------------------------

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Keyset(Generic[T, K]):
    """How a list is ordered: an item's position (the keyset cursor), and how that
    position is written into and read out of a page token."""

    position: Callable[[T], K]
    to_cursor: Callable[[K], Cursor]
    from_cursor: Callable[[Cursor], K]
    shape: tuple[type, ...]


def by_time_and_key(position: Callable[[T], tuple[datetime, str]]) -> Keyset[T, Position]:
    """Ordered by an instant, then a key (rooms, memberships, knocks, seats)."""
    return Keyset(
        position,
        lambda at: [epoch_micros(at[0]), at[1]],
        lambda cursor: (from_epoch_micros(cast(int, cursor[0])), cast(str, cursor[1])),
        (int, str),
    )


def by_key(position: Callable[[T], str]) -> Keyset[T, str]:
    """Ordered by a key (participants, webhooks)."""
    return Keyset(position, lambda key: [key], lambda cursor: cast(str, cursor[0]), (str,))


def by_number(position: Callable[[T], int]) -> Keyset[T, int]:
    """Ordered by a number (events, by revision)."""
    return Keyset(position, lambda n: [n], lambda cursor: cast(int, cursor[0]), (int,))


class Pager:
    """The one paging loop of the server's lists: check the page size, read the token
    (scoped to the list, the tenant and the filters), fetch one more item than the page
    holds, cut, and make the next token when there is more."""

    def __init__(self, tokens: PageTokens, limits: Limits) -> None:
        self._tokens = tokens
        self._limits = limits

    async def page(
        self,
        scope: Sequence[str],
        page_size: int,
        page_token: str,
        keyset: Keyset[T, K],
        fetch: Callable[[K | None, int], Awaitable[Sequence[T] | None]],
        start: K | None = None,
    ) -> Page[T] | None:
        """One page, or None when `fetch` finds no list (its room does not exist).
        `fetch(after, n)` returns at most n items after the position `after` (`start`
        on the first page)."""
        limit = rules.page_size(page_size, self._limits)
        after = start
        if page_token:
            cursor = self._tokens.decode(scope, page_token, shape=keyset.shape)
            after = keyset.from_cursor(cursor)
        found = await fetch(after, limit + 1)
        if found is None:
            return None
        page = list(found[:limit])
        token = ""
        if len(found) > limit:
            token = self._tokens.encode(scope, keyset.to_cursor(keyset.position(page[-1])))
        return Page(page, token)
