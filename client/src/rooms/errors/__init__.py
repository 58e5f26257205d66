"""Typed exceptions for the rooms.v1 API.

Every error the service returns carries a `google.rpc.ErrorInfo` whose `reason` is a
`rooms.v1.ErrorReason` name. `from_rpc_error` turns a failed call into the exception
class of that reason (`RoomNotFound`, `InvalidWindow`, `EtagMismatch`, ...), all
subclasses of `RoomsError`, which carries the status code, the reason, the ErrorInfo
metadata and the field violations of a `google.rpc.BadRequest`.

Errors without an ErrorInfo (the server cannot be reached, the client's own deadline
passed) are a plain `RoomsError` with an empty `reason`.

`base.py` holds `RoomsError`, `reasons.py` the class of each reason, `status.py` the
reading of a failed call's `google.rpc.Status`.
"""

from __future__ import annotations

from rooms.errors.base import (
    DOMAIN,
    FieldViolation,
    PreconditionViolation,
    RoomsError,
)
from rooms.errors.reasons import (
    BatchTooLarge,
    CalendarFeedNotFound,
    CredentialsNotConfigured,
    DatabaseUnavailable,
    DuplicateUserId,
    EtagMismatch,
    InvalidArgument,
    InvalidCapacity,
    InvalidPageToken,
    InvalidWindow,
    MediaServerUnavailable,
    ModerationNotAllowed,
    ParticipantNotFound,
    RequestIdReused,
    RevisionExpired,
    RoomAlreadyExists,
    RoomNotFound,
    RosterFull,
    SeatNotFound,
    ShuttingDown,
    Timeout,
    TooManyWebhooks,
    Unauthenticated,
    WatchTooSlow,
    WebhookAlreadyExists,
    WebhookNotFound,
    WebhookUrlNotAllowed,
    error_class,
)
from rooms.errors.status import (
    StatusDetails,
    from_rpc_error,
    status_details,
)

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
    "ModerationNotAllowed",
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
    "StatusDetails",
    "Timeout",
    "TooManyWebhooks",
    "Unauthenticated",
    "WatchTooSlow",
    "WebhookAlreadyExists",
    "WebhookNotFound",
    "WebhookUrlNotAllowed",
    "error_class",
    "from_rpc_error",
    "status_details",
]
