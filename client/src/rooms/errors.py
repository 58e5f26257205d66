"""Typed exceptions for the rooms.v1 API.

Every error the service returns carries a `google.rpc.ErrorInfo` whose `reason` is a
`rooms.v1.ErrorReason` name. `from_rpc_error` turns a failed call into the exception
class of that reason (`RoomNotFound`, `InvalidWindow`, `EtagMismatch`, ...), all
subclasses of `RoomsError`, which carries the status code, the reason, the ErrorInfo
metadata and the field violations of a `google.rpc.BadRequest`.

Errors without an ErrorInfo (the server cannot be reached, the client's own deadline
passed) are a plain `RoomsError` with an empty `reason`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar, cast

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

__all__ = [
    "DOMAIN",
    "BatchTooLarge",
    "CalendarFeedNotFound",
    "CredentialsNotConfigured",
    "DatabaseUnavailable",
    "DuplicateUserId",
    "EtagMismatch",
    "FieldViolation",
    "InvalidArgument",
    "InvalidCapacity",
    "InvalidPageToken",
    "InvalidWindow",
    "MediaServerUnavailable",
    "ParticipantNotFound",
    "PreconditionViolation",
    "RequestIdReused",
    "RevisionExpired",
    "RoomAlreadyExists",
    "RoomNotFound",
    "RoomsError",
    "RosterFull",
    "SeatNotFound",
    "ShuttingDown",
    "Timeout",
    "TooManyWebhooks",
    "Unauthenticated",
    "WatchTooSlow",
    "WebhookAlreadyExists",
    "WebhookNotFound",
    "WebhookUrlNotAllowed",
    "error_class",
    "from_rpc_error",
]

DOMAIN = "rooms.v1"


@dataclass(frozen=True)
class FieldViolation:
    """One offending field of a `google.rpc.BadRequest`."""

    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    """One failed precondition of a `google.rpc.PreconditionFailure`."""

    type: str
    subject: str
    description: str


class RoomsError(Exception):
    """A failed call to the rooms service.

    `code` is the gRPC status code, `reason` the `ErrorInfo.reason` (a
    `rooms.v1.ErrorReason` name, or "" when the error carries no ErrorInfo),
    `metadata` the `ErrorInfo.metadata`, `field_violations` the fields named by a
    `BadRequest`, and `precondition_violations` those of a `PreconditionFailure`.
    `request_id` is the server's id of the call (its `RequestInfo`; quote it when
    reporting a problem), and `retry_delay` the wait a `RetryInfo` asks for, if any.
    """

    REASON: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: Sequence[FieldViolation] = (),
        precondition_violations: Sequence[PreconditionViolation] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason or self.REASON
        self.domain = domain
        self.metadata: dict[str, str] = dict(metadata or {})
        self.field_violations: list[FieldViolation] = list(field_violations)
        self.precondition_violations: list[PreconditionViolation] = list(precondition_violations)
        self.request_id = ""
        self.retry_delay: timedelta | None = None

    @property
    def fields(self) -> list[str]:
        """The names of the offending fields, in the server's order."""
        return [violation.field for violation in self.field_violations]

    def one_line(self) -> str:
        """The error as one line for people: reason, code, message, details."""
        head = f"{self.reason} ({self.code.name})" if self.reason else self.code.name
        line = f"{head}: {self.message}" if self.message else head
        extras = [f"{key}={value}" for key, value in sorted(self.metadata.items())]
        for violation in self.field_violations:  # those the message does not already say
            text = violation.field
            if violation.description:
                text = f"{violation.field}: {violation.description}"
            if text not in self.message:
                extras.append(text)
        return f"{line} [{'; '.join(extras)}]" if extras else line

    def __str__(self) -> str:
        return self.one_line()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code.name}, reason={self.reason!r}, "
            f"message={self.message!r}, metadata={self.metadata!r}, fields={self.fields!r})"
        )


class InvalidArgument(RoomsError):
    """INVALID_ARGUMENT: one or more fields are malformed; see `field_violations`."""

    REASON = "INVALID_ARGUMENT"


class InvalidWindow(RoomsError):
    """INVALID_ARGUMENT: the validity window breaks a rule (`metadata["rule"]`)."""

    REASON = "INVALID_WINDOW"


class InvalidPageToken(RoomsError):
    """INVALID_ARGUMENT: the page token is malformed or belongs to another list."""

    REASON = "INVALID_PAGE_TOKEN"


class RequestIdReused(RoomsError):
    """INVALID_ARGUMENT: the `request_id` was used before with a different request."""

    REASON = "REQUEST_ID_REUSED"


class BatchTooLarge(RoomsError):
    """INVALID_ARGUMENT: more identities in one call than allowed."""

    REASON = "BATCH_TOO_LARGE"


class DuplicateUserId(RoomsError):
    """INVALID_ARGUMENT: the same identity twice in one batch."""

    REASON = "DUPLICATE_USER_ID"


class RoomNotFound(RoomsError):
    """NOT_FOUND: no such room, or it was deleted."""

    REASON = "ROOM_NOT_FOUND"


class ParticipantNotFound(RoomsError):
    """NOT_FOUND: the identity is not on the room's roster."""

    REASON = "PARTICIPANT_NOT_FOUND"


class RoomAlreadyExists(RoomsError):
    """ALREADY_EXISTS: the requested `room_id` is taken (ids are never reused)."""

    REASON = "ROOM_ALREADY_EXISTS"


class EtagMismatch(RoomsError):
    """ABORTED: the room changed since its etag was read; `metadata["etag"]` is current."""

    REASON = "ETAG_MISMATCH"


class RosterFull(RoomsError):
    """RESOURCE_EXHAUSTED: the roster would exceed its limit."""

    REASON = "ROSTER_FULL"


class DatabaseUnavailable(RoomsError):
    """UNAVAILABLE: the service's database cannot be reached; retry with backoff."""

    REASON = "DATABASE_UNAVAILABLE"


class Timeout(RoomsError):
    """DEADLINE_EXCEEDED: the database work took longer than the server allows."""

    REASON = "TIMEOUT"


class Unauthenticated(RoomsError):
    """UNAUTHENTICATED: no `authorization: Bearer <key>` metadata, or an unknown key."""

    REASON = "UNAUTHENTICATED"


class RevisionExpired(RoomsError):
    """OUT_OF_RANGE: a watch asked for events older than the room's retained history."""

    REASON = "REVISION_EXPIRED"


class WatchTooSlow(RoomsError):
    """RESOURCE_EXHAUSTED: a watcher fell too far behind; resume from its last revision."""

    REASON = "WATCH_TOO_SLOW"


class CredentialsNotConfigured(RoomsError):
    """FAILED_PRECONDITION: a credential format was asked for that the caller's tenant
    has not configured."""

    REASON = "CREDENTIALS_NOT_CONFIGURED"


class SeatNotFound(RoomsError):
    """NOT_FOUND: no live seat has this id (released, expired, or its identity removed);
    claim a new one with `authorize_join(..., claim_seat=True)`."""

    REASON = "SEAT_NOT_FOUND"


class InvalidCapacity(RoomsError):
    """INVALID_ARGUMENT: `max_participants` or `role_capacity` breaks a rule
    (`metadata["rule"]`)."""

    REASON = "INVALID_CAPACITY"


class ShuttingDown(RoomsError):
    """UNAVAILABLE: the server is shutting down; retry on another replica."""

    REASON = "SHUTTING_DOWN"


class WebhookNotFound(RoomsError):
    """NOT_FOUND: no webhook with this id in the caller's tenant."""

    REASON = "WEBHOOK_NOT_FOUND"


class WebhookAlreadyExists(RoomsError):
    """ALREADY_EXISTS: the requested `webhook_id` is taken."""

    REASON = "WEBHOOK_ALREADY_EXISTS"


class WebhookUrlNotAllowed(RoomsError):
    """INVALID_ARGUMENT: the webhook URL is not https (or an allowed http host), or malformed."""

    REASON = "WEBHOOK_URL_NOT_ALLOWED"


class TooManyWebhooks(RoomsError):
    """RESOURCE_EXHAUSTED: the tenant has the most webhooks allowed."""

    REASON = "TOO_MANY_WEBHOOKS"


class MediaServerUnavailable(RoomsError):
    """UNAVAILABLE: the tenant's Janus could not admit the identity; no credential was
    issued; retry later."""

    REASON = "MEDIA_SERVER_UNAVAILABLE"


class ModerationNotAllowed(RoomsError):
    """PERMISSION_DENIED: the acting identity does not hold MUTE_OTHERS in the room now
    (ModerateParticipant)."""

    REASON = "MODERATION_NOT_ALLOWED"


class CalendarFeedNotFound(RoomsError):
    """NOT_FOUND: no calendar feed with this id in the caller's tenant."""

    REASON = "CALENDAR_FEED_NOT_FOUND"


_BY_REASON: dict[str, type[RoomsError]] = {
    cls.REASON: cls
    for cls in (
        InvalidArgument,
        InvalidWindow,
        InvalidPageToken,
        RequestIdReused,
        BatchTooLarge,
        DuplicateUserId,
        RoomNotFound,
        ParticipantNotFound,
        RoomAlreadyExists,
        EtagMismatch,
        RosterFull,
        DatabaseUnavailable,
        Timeout,
        Unauthenticated,
        RevisionExpired,
        WatchTooSlow,
        CredentialsNotConfigured,
        SeatNotFound,
        InvalidCapacity,
        ShuttingDown,
        WebhookNotFound,
        WebhookAlreadyExists,
        WebhookUrlNotAllowed,
        TooManyWebhooks,
        MediaServerUnavailable,
        ModerationNotAllowed,
        CalendarFeedNotFound,
    )
}


def error_class(reason: str) -> type[RoomsError]:
    """The exception class for an `ErrorInfo.reason`; `RoomsError` for unknown ones."""
    return _BY_REASON.get(reason, RoomsError)


@dataclass(frozen=True)
class StatusDetails:
    """The standard details of a `google.rpc.Status`, unpacked (empty when absent)."""

    info: error_details_pb2.ErrorInfo
    bad_request: error_details_pb2.BadRequest
    precondition: error_details_pb2.PreconditionFailure
    has_info: bool
    request_info: error_details_pb2.RequestInfo
    retry_info: error_details_pb2.RetryInfo | None


def status_details(status: status_pb2.Status) -> StatusDetails:
    """Unpack the ErrorInfo, BadRequest, PreconditionFailure, RequestInfo and RetryInfo
    of a status."""
    info = error_details_pb2.ErrorInfo()
    bad_request = error_details_pb2.BadRequest()
    precondition = error_details_pb2.PreconditionFailure()
    request_info = error_details_pb2.RequestInfo()
    retry = error_details_pb2.RetryInfo()
    has_info = has_retry = False
    for detail in status.details:  # Unpack fills the message only when the type matches
        if detail.Unpack(info):
            has_info = True
        elif detail.Unpack(retry):
            has_retry = True
        elif not detail.Unpack(bad_request) and not detail.Unpack(precondition):
            detail.Unpack(request_info)
    return StatusDetails(
        info, bad_request, precondition, has_info, request_info, retry if has_retry else None
    )


def from_rpc_error(error: grpc.aio.AioRpcError | grpc.RpcError) -> RoomsError:
    """The typed exception for a failed call, read from its `google.rpc.Status`."""
    call = cast(grpc.Call, error)
    code = call.code() or grpc.StatusCode.UNKNOWN
    message = call.details() or ""
    try:
        status = rpc_status.from_call(call)
    except ValueError:  # a status whose details disagree with the call's: use the call's
        status = None
    if status is None:
        return RoomsError(message, code=code)
    details = status_details(status)
    info, bad_request, precondition = details.info, details.bad_request, details.precondition
    cls = error_class(info.reason) if info.domain in ("", DOMAIN) else RoomsError
    failure = cls(
        status.message or message,
        code=code,
        reason=info.reason,
        domain=info.domain,
        metadata=dict(info.metadata),
        field_violations=[
            FieldViolation(v.field, v.description) for v in bad_request.field_violations
        ],
        precondition_violations=[
            PreconditionViolation(v.type, v.subject, v.description) for v in precondition.violations
        ],
    )
    failure.request_id = details.request_info.request_id
    if details.retry_info is not None:
        failure.retry_delay = details.retry_info.retry_delay.ToTimedelta()
    return failure
