"""Webhooks: the resource's rules (URL, filters, secret) and its delivery state."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from service.domain import rules
from service.domain.errors import DomainError, ErrorReason, Violations, refusal
from service.domain.events import EventType
from service.domain.models import etag_of
from service.domain.updates import masked_fields

URL_MAX_LENGTH = 2048
HOST_MAX_LENGTH = 253  # a DNS name, without its trailing dot (RFC 1035)
HOST_LABEL_MAX_LENGTH = 63
# A last label that is a number (decimal, or 0x hex): a host meant as an IPv4 address.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
MAX_ROOM_FILTER = 100
SECRET_PREFIX = "whsec_"
# Update-mask paths of a webhook.
UPDATABLE_FIELDS = ("url", "event_types", "room_ids")


class UrlRule:
    """The names sent in `ErrorInfo.metadata["rule"]` for WEBHOOK_URL_NOT_ALLOWED."""

    SCHEME = "SCHEME"
    MALFORMED = "MALFORMED"
    TOO_LONG = "TOO_LONG"


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """What a caller sets on a webhook."""

    url: str
    event_types: tuple[EventType, ...] = ()
    room_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """How delivery to one destination is going."""

    failing_since: datetime | None = None
    last_success_time: datetime | None = None
    last_error: str = ""
    last_error_time: datetime | None = None
    pending_events: int = 0
    oldest_pending_age: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Webhook:
    webhook_id: str
    url: str
    event_types: tuple[EventType, ...]
    room_ids: tuple[str, ...]
    create_time: datetime
    update_time: datetime
    version: int  # behind the etag; grows with every update
    delivery: DeliveryState
    # Only set on the webhook returned by a create.
    secret: str = ""

    @property
    def etag(self) -> str:
        return etag_of(self.version)


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature` value: `v1,` and base64 of the
    HMAC-SHA256, keyed with the decoded secret, of `<id>.<timestamp>.<body>`."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def url_violation(url: str, allowed_http_hosts: Collection[str]) -> tuple[str, str] | None:
    """Why the server would not send to `url` (rule, description); None when it would."""
    if len(url) > URL_MAX_LENGTH:
        return UrlRule.TOO_LONG, f"must be at most {URL_MAX_LENGTH} characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return UrlRule.MALFORMED, "is not a valid URL"
    if not url.isprintable() or any(ch.isspace() for ch in url):
        return UrlRule.MALFORMED, "must not contain whitespace or control characters"
    if parts.scheme not in ("https", "http") or not host:
        return UrlRule.SCHEME, "must be an https URL with a host"
    if parts.username is not None or parts.password is not None or parts.fragment:
        return UrlRule.MALFORMED, "must not carry user information or a fragment"
    if parts.port == 0:
        return UrlRule.MALFORMED, "must not name port 0"
    problem = host_problem(host)
    if problem is not None:
        return UrlRule.MALFORMED, problem
    if parts.scheme == "http" and host.lower() not in allowed_http_hosts:
        return UrlRule.SCHEME, "must be https (plain http is not allowed for this host)"
    return None


def host_problem(host: str) -> str | None:
    """Why `host` (a URL's hostname) can never be reached; None when it may be.

    An IP address must be written the usual way (`127.0.0.1`, `[::1]`): a host whose
    last label is a number (`2130706433`, `0x7f000001`, `127.1`) is refused rather than
    read as an address the way some resolvers would, so the host shown is the one
    dialled. Names follow DNS's limits: no empty label (one trailing dot allowed), labels
    of at most 63 characters and at most 253 in all, counted in their ASCII (`xn--`) form.
    """
    if ":" in host:  # only an IPv6 literal has one (urlsplit took the brackets off)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "must have a valid IPv6 address as its host"
        return None
    name = host.removesuffix(".")
    labels = name.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "must have a DNS name or an IPv4 address in dotted decimal as its host"
        return None
    lengths = [_ascii_length(label) for label in labels]
    if 0 in lengths:
        return "must not have an empty label in its host"
    if max(lengths) > HOST_LABEL_MAX_LENGTH:
        return f"must not have a host label longer than {HOST_LABEL_MAX_LENGTH} characters"
    if sum(lengths) + len(lengths) - 1 > HOST_MAX_LENGTH:
        return f"must not have a host longer than {HOST_MAX_LENGTH} characters"
    return None


def _ascii_length(label: str) -> int:
    """A DNS label's length as sent: an internationalized one as `xn--` + punycode."""
    if label.isascii():
        return len(label)
    return 4 + len(label.encode("punycode"))


def check_url(
    violations: Violations, field: str, url: str, allowed_http_hosts: Collection[str]
) -> None:
    if not url:
        violations.add(field, "must not be empty")
        return
    found = url_violation(url, allowed_http_hosts)
    if found is not None:
        rule, description = found
        violations.add(field, description, ErrorReason.WEBHOOK_URL_NOT_ALLOWED, rule=rule)


def check_settings(
    violations: Violations,
    prefix: str,
    settings: WebhookSettings,
    fields: Collection[str],
    allowed_http_hosts: Collection[str],
) -> None:
    """Check the `fields` of `settings` (paths as in an update mask)."""
    if "url" in fields:
        check_url(violations, f"{prefix}url", settings.url, allowed_http_hosts)
    if "room_ids" in fields:
        if len(settings.room_ids) > MAX_ROOM_FILTER:
            violations.add(f"{prefix}room_ids", f"must name at most {MAX_ROOM_FILTER} rooms")
        for index, room_id in enumerate(settings.room_ids[:MAX_ROOM_FILTER]):
            rules.check_room_id(violations, f"{prefix}room_ids[{index}]", room_id)
    if "event_types" in fields and len(set(settings.event_types)) < len(settings.event_types):
        # A set: without this, a request could store millions of copies of one type.
        violations.add(f"{prefix}event_types", "must not list an event type twice")


def resolve_mask(paths: Sequence[str], settings: WebhookSettings) -> set[str]:
    """The fields an update changes: `*` is all; empty is those set (AIP-134)."""
    populated = [name for name in UPDATABLE_FIELDS if getattr(settings, name)]
    return masked_fields(paths, populated, UPDATABLE_FIELDS)


def webhook_not_found(webhook_id: str) -> DomainError:
    return refusal(
        ErrorReason.WEBHOOK_NOT_FOUND, f"webhook {webhook_id!r} not found", webhook_id=webhook_id
    )


def webhook_already_exists(webhook_id: str) -> DomainError:
    return refusal(
        ErrorReason.WEBHOOK_ALREADY_EXISTS,
        f"webhook {webhook_id!r} already exists",
        webhook_id=webhook_id,
    )


def too_many_webhooks(limit: int) -> DomainError:
    return refusal(
        ErrorReason.TOO_MANY_WEBHOOKS,
        f"a tenant may have at most {limit} webhooks",
        limit=str(limit),
    )
