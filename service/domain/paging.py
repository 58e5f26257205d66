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
from collections.abc import Sequence

from service.domain.errors import bad_page_token

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
