"""One exception class per `rooms.v1.ErrorReason`, and the table from a reason to its
class."""

from __future__ import annotations

from rooms.errors.base import RoomsError


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
