"""HMAC-SHA256 authentication, as the Azure SDKs sign ACS requests.

The string to sign is `VERB\\npath?query\\nx-ms-date;host;x-ms-content-sha256`; the
`Authorization` header is `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256
&Signature=<base64>`. The path and query are accepted as sent (percent-encoded: the
JavaScript SDK) and decoded (the Python SDK signs `urllib.parse.unquote` of them). A
date more than 15 minutes from the server's wall clock, or a body whose SHA-256 is not
`x-ms-content-sha256`, is refused like a wrong signature: 401."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from aiohttp import web

from service.acs.errors import denied
from service.acs.keys import KeyRing
from service.domain.acs import AcsKey

MAX_SKEW = timedelta(minutes=15)
_SCHEME = "HMAC-SHA256"
_SIGNED = "x-ms-date;host;x-ms-content-sha256"


def path_variants(raw_path: str) -> list[str]:
    """The forms of a request's path and query a client may have signed."""
    forms = [raw_path, urllib.parse.unquote(raw_path)]
    path, _, query = raw_path.partition("?")
    if query:  # the WHATWG URLSearchParams serialisation (form-encoded)
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        forms.append(f"{path}?{urllib.parse.urlencode(pairs)}")
    return list(dict.fromkeys(forms))


def _signature_of(header: str) -> bytes:
    scheme, _, rest = header.partition(" ")
    if scheme != _SCHEME:
        raise denied("the Authorization header must use the HMAC-SHA256 scheme")
    fields = dict(part.partition("=")[::2] for part in rest.strip().split("&"))
    if fields.get("SignedHeaders", "").lower() != _SIGNED:
        raise denied(f"SignedHeaders must be {_SIGNED}")
    try:
        return base64.b64decode(fields.get("Signature", ""), validate=True)
    except (binascii.Error, ValueError):
        raise denied("the Signature is not base64") from None


def _fresh_date(value: str, now: datetime) -> None:
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise denied("x-ms-date must be an HTTP date") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if abs(now - sent) > MAX_SKEW:
        raise denied("x-ms-date is more than 15 minutes away from the server's time")


async def authenticate(request: web.Request, body: bytes, keys: KeyRing) -> AcsKey:
    """The access key that signed `request` (whose body is `body`), or AcsError 401."""
    arrived = time.monotonic()
    header = request.headers.get("Authorization")
    if not header:
        raise denied("the request is not signed (no Authorization header)")
    sent = _signature_of(header)
    date = request.headers.get("x-ms-date") or request.headers.get("Date")
    if not date:
        raise denied("x-ms-date is missing")
    _fresh_date(date, datetime.now(UTC))
    content_hash = request.headers.get("x-ms-content-sha256", "")
    actual = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if not hmac.compare_digest(content_hash.encode(), actual.encode()):
        raise denied("the body does not match x-ms-content-sha256")
    host = request.headers.get("Host", "")
    texts = [
        f"{request.method.upper()}\n{path}\n{date};{host};{content_hash}"
        for path in path_variants(request.raw_path)
    ]
    key = await keys.find(texts, sent, arrived)
    if key is None:
        raise denied("the signature matches no access key")
    return key
