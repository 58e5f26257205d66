"""Domain errors: a reason (mirroring `rooms.v1.ErrorReason`), a kind, and the details.

The transport turns a kind into a gRPC status code and the rest into a
`google.rpc.Status` with `ErrorInfo`, `BadRequest` and `PreconditionFailure`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Concatenate, ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


class ErrorKind(Enum):
    """The class of failure; one gRPC status code each."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    ALREADY_EXISTS = "already_exists"
    CONFLICT = "conflict"
    EXHAUSTED = "exhausted"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    UNAUTHENTICATED = "unauthenticated"
    OUT_OF_RANGE = "out_of_range"
    FAILED_PRECONDITION = "failed_precondition"
    PERMISSION_DENIED = "permission_denied"


class ErrorReason(StrEnum):
    """The `ErrorInfo.reason` strings; each is a value of `rooms.v1.ErrorReason`."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    INVALID_WINDOW = "INVALID_WINDOW"
    INVALID_PAGE_TOKEN = "INVALID_PAGE_TOKEN"
    REQUEST_ID_REUSED = "REQUEST_ID_REUSED"
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    DUPLICATE_USER_ID = "DUPLICATE_USER_ID"
    ROOM_NOT_FOUND = "ROOM_NOT_FOUND"
    PARTICIPANT_NOT_FOUND = "PARTICIPANT_NOT_FOUND"
    ROOM_ALREADY_EXISTS = "ROOM_ALREADY_EXISTS"
    ETAG_MISMATCH = "ETAG_MISMATCH"
    ROSTER_FULL = "ROSTER_FULL"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    TIMEOUT = "TIMEOUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    REVISION_EXPIRED = "REVISION_EXPIRED"
    WATCH_TOO_SLOW = "WATCH_TOO_SLOW"
    CREDENTIALS_NOT_CONFIGURED = "CREDENTIALS_NOT_CONFIGURED"
    SEAT_NOT_FOUND = "SEAT_NOT_FOUND"
    INVALID_CAPACITY = "INVALID_CAPACITY"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    WEBHOOK_NOT_FOUND = "WEBHOOK_NOT_FOUND"
    WEBHOOK_ALREADY_EXISTS = "WEBHOOK_ALREADY_EXISTS"
    WEBHOOK_URL_NOT_ALLOWED = "WEBHOOK_URL_NOT_ALLOWED"
    TOO_MANY_WEBHOOKS = "TOO_MANY_WEBHOOKS"
    MEDIA_SERVER_UNAVAILABLE = "MEDIA_SERVER_UNAVAILABLE"
    MODERATION_NOT_ALLOWED = "MODERATION_NOT_ALLOWED"
    CALENDAR_FEED_NOT_FOUND = "CALENDAR_FEED_NOT_FOUND"


KIND_OF_REASON: Mapping[ErrorReason, ErrorKind] = {
    ErrorReason.INVALID_ARGUMENT: ErrorKind.INVALID,
    ErrorReason.INVALID_WINDOW: ErrorKind.INVALID,
    ErrorReason.INVALID_PAGE_TOKEN: ErrorKind.INVALID,
    ErrorReason.REQUEST_ID_REUSED: ErrorKind.INVALID,
    ErrorReason.BATCH_TOO_LARGE: ErrorKind.INVALID,
    ErrorReason.DUPLICATE_USER_ID: ErrorKind.INVALID,
    ErrorReason.ROOM_NOT_FOUND: ErrorKind.NOT_FOUND,
    ErrorReason.PARTICIPANT_NOT_FOUND: ErrorKind.NOT_FOUND,
    ErrorReason.ROOM_ALREADY_EXISTS: ErrorKind.ALREADY_EXISTS,
    ErrorReason.ETAG_MISMATCH: ErrorKind.CONFLICT,
    ErrorReason.ROSTER_FULL: ErrorKind.EXHAUSTED,
    ErrorReason.DATABASE_UNAVAILABLE: ErrorKind.UNAVAILABLE,
    ErrorReason.TIMEOUT: ErrorKind.TIMEOUT,
    ErrorReason.UNAUTHENTICATED: ErrorKind.UNAUTHENTICATED,
    ErrorReason.REVISION_EXPIRED: ErrorKind.OUT_OF_RANGE,
    ErrorReason.WATCH_TOO_SLOW: ErrorKind.EXHAUSTED,
    ErrorReason.CREDENTIALS_NOT_CONFIGURED: ErrorKind.FAILED_PRECONDITION,
    ErrorReason.SEAT_NOT_FOUND: ErrorKind.NOT_FOUND,
    ErrorReason.INVALID_CAPACITY: ErrorKind.INVALID,
    ErrorReason.SHUTTING_DOWN: ErrorKind.UNAVAILABLE,
    ErrorReason.WEBHOOK_NOT_FOUND: ErrorKind.NOT_FOUND,
    ErrorReason.WEBHOOK_ALREADY_EXISTS: ErrorKind.ALREADY_EXISTS,
    ErrorReason.WEBHOOK_URL_NOT_ALLOWED: ErrorKind.INVALID,
    ErrorReason.TOO_MANY_WEBHOOKS: ErrorKind.EXHAUSTED,
    ErrorReason.MEDIA_SERVER_UNAVAILABLE: ErrorKind.UNAVAILABLE,
    ErrorReason.MODERATION_NOT_ALLOWED: ErrorKind.PERMISSION_DENIED,
    ErrorReason.CALENDAR_FEED_NOT_FOUND: ErrorKind.NOT_FOUND,
}


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field: its path in the request (for example `room.valid_until`)."""

    field: str
    description: str
    reason: ErrorReason = ErrorReason.INVALID_ARGUMENT


@dataclass(frozen=True, slots=True)
class PreconditionViolation:
    """One failed precondition, shaped like `google.rpc.PreconditionFailure.Violation`."""

    type: str
    subject: str
    description: str


# An error travels in the response trailers, which clients cap (gRPC's default is 8 KiB):
# an error lists at most this many bad fields (its BadRequest), and counts the rest
# (`DomainError.violation_count`, sent as ErrorInfo.metadata "violation_count").
MAX_FIELD_VIOLATIONS = 20
# How many of them its message names; the rest are counted ("and 997 more").
MESSAGE_VIOLATIONS = 3


class DomainError(Exception):
    """An expected failure with everything a caller needs to react to it."""

    def __init__(
        self,
        reason: ErrorReason,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        field_violations: Sequence[FieldViolation] = (),
        precondition_violations: Sequence[PreconditionViolation] = (),
        violation_count: int = 0,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata: dict[str, str] = dict(metadata or {})
        self.field_violations = list(field_violations[:MAX_FIELD_VIOLATIONS])
        """The first MAX_FIELD_VIOLATIONS bad fields."""
        self.violation_count = max(violation_count, len(field_violations))
        """How many bad fields there were in all (more than listed when over the cap)."""
        self.precondition_violations = list(precondition_violations)

    @property
    def kind(self) -> ErrorKind:
        return KIND_OF_REASON[self.reason]


def invalid(field: str, description: str, **metadata: str) -> DomainError:
    """A single bad field."""
    return DomainError(
        ErrorReason.INVALID_ARGUMENT,
        f"{field}: {description}",
        metadata={"field": field, **metadata},
        field_violations=[FieldViolation(field, description)],
    )


def room_not_found(room_id: str) -> DomainError:
    return DomainError(
        ErrorReason.ROOM_NOT_FOUND,
        f"room {room_id!r} not found",
        metadata={"room_id": room_id},
    )


def idempotency_key_reused(idempotency_key: str) -> DomainError:
    """A create's idempotency key used before with another request. The API calls the
    key `request_id` (CreateRoomRequest.request_id), and so do the error's field and
    metadata."""
    return DomainError(
        ErrorReason.REQUEST_ID_REUSED,
        f"request_id {idempotency_key!r} was used before with a different request",
        metadata={"request_id": idempotency_key, "field": "request_id"},
        field_violations=[
            FieldViolation(
                "request_id",
                "was used before with a different request",
                ErrorReason.REQUEST_ID_REUSED,
            )
        ],
    )


def etag_mismatch(room_id: str, current_etag: str) -> DomainError:
    return DomainError(
        ErrorReason.ETAG_MISMATCH,
        f"room {room_id!r} changed since it was read: etag is now {current_etag}",
        metadata={"room_id": room_id, "etag": current_etag},
        precondition_violations=[
            PreconditionViolation(
                "ETAG", f"rooms/{room_id}", "the etag sent does not match the room's etag"
            )
        ],
    )


def changing_too_often(room_id: str, action: str) -> DomainError:
    """ETAG_MISMATCH after every attempt of `action` met a concurrent change."""
    return DomainError(
        ErrorReason.ETAG_MISMATCH,
        f"room {room_id!r} is changing too often to {action}; retry",
        metadata={"room_id": room_id},
    )


def etag_mismatch_of(key: str, resource_id: str, current_etag: str, collection: str) -> DomainError:
    """ETAG_MISMATCH for another resource than a room (metadata `key`, e.g. `webhook_id`)."""
    return DomainError(
        ErrorReason.ETAG_MISMATCH,
        f"{collection[:-1]} {resource_id!r} changed since it was read: etag is now {current_etag}",
        metadata={key: resource_id, "etag": current_etag},
        precondition_violations=[
            PreconditionViolation(
                "ETAG",
                f"{collection}/{resource_id}",
                "the etag sent does not match the current etag",
            )
        ],
    )


class Violations:
    """Collects the bad fields of a request, then raises them together: the first
    MAX_FIELD_VIOLATIONS are kept, the rest only counted, so a request with a million bad
    entries costs a counter, not a million objects."""

    def __init__(self) -> None:
        self._items: list[FieldViolation] = []
        self._count = 0
        self._metadata: dict[str, str] = {}

    def add(
        self,
        field: str,
        description: str,
        reason: ErrorReason = ErrorReason.INVALID_ARGUMENT,
        **metadata: str,
    ) -> None:
        if not self._count:
            self._metadata = {"field": field, **metadata}
        self._count += 1
        if len(self._items) < MAX_FIELD_VIOLATIONS:
            self._items.append(FieldViolation(field, description, reason))

    def __bool__(self) -> bool:
        return bool(self._count)

    def raise_if_any(self) -> None:
        if not self._count:
            return
        first = self._items[0]
        shown = self._items[:MESSAGE_VIOLATIONS]
        message = "; ".join(f"{v.field}: {v.description}" for v in shown)
        if self._count > len(shown):
            message += f"; and {self._count - len(shown)} more"
        raise DomainError(
            first.reason,
            message,
            metadata=self._metadata,
            field_violations=self._items,
            violation_count=self._count,
        )


def checked(
    check: Callable[Concatenate[Violations, str, _P], _T],
    field: str,
    *args: _P.args,
    **kwargs: _P.kwargs,
) -> _T:
    """What `check` makes of one field, or INVALID_ARGUMENT naming what is wrong with it
    (for a request with one field to check; more fields share one `Violations`)."""
    violations = Violations()
    value = check(violations, field, *args, **kwargs)
    violations.raise_if_any()
    return value


def roster_full(room_id: str, limit: int, size: int) -> DomainError:
    return DomainError(
        ErrorReason.ROSTER_FULL,
        f"room {room_id!r} may hold at most {limit} participants; this would make {size}",
        metadata={"room_id": room_id, "limit": str(limit), "size": str(size)},
    )


def participant_not_found(room_id: str, user_id: str) -> DomainError:
    return DomainError(
        ErrorReason.PARTICIPANT_NOT_FOUND,
        f"{user_id!r} is not on the roster of room {room_id!r}",
        metadata={"room_id": room_id, "user_id": user_id},
    )


def bad_page_token(field: str = "page_token") -> DomainError:
    return DomainError(
        ErrorReason.INVALID_PAGE_TOKEN,
        f"{field}: not a page token of this call; start again with an empty one",
        metadata={"field": field},
        field_violations=[
            FieldViolation(
                field, "malformed, tampered, or from another call", ErrorReason.INVALID_PAGE_TOKEN
            )
        ],
    )


def seat_not_found(seat_id: str) -> DomainError:
    return DomainError(
        ErrorReason.SEAT_NOT_FOUND,
        f"no live seat {seat_id!r}: it was released, expired or never existed",
        metadata={"seat_id": seat_id},
    )


def room_already_exists(room_id: str) -> DomainError:
    """A room id taken, by a live room or by a deleted one (ids are never reused)."""
    return DomainError(
        ErrorReason.ROOM_ALREADY_EXISTS,
        f"a room with id {room_id!r} already exists",
        metadata={"room_id": room_id},
    )


def stored_rule_broken(constraint: str) -> DomainError:
    """A database constraint refused a write: a rule the domain lacks, still a refusal
    of the input, never INTERNAL."""
    return DomainError(
        ErrorReason.INVALID_ARGUMENT,
        f"the request breaks the stored rule {constraint or 'unnamed'}",
        metadata={"constraint": constraint},
    )


def moderation_not_allowed(room_id: str, actor_user_id: str, why: str) -> DomainError:
    """The acting identity may not mute others in the room now: `why` says why."""
    return DomainError(
        ErrorReason.MODERATION_NOT_ALLOWED,
        f"{actor_user_id!r} may not moderate participants of room {room_id!r}: {why}",
        metadata={"room_id": room_id, "actor_user_id": actor_user_id},
    )
