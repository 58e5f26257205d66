"""Errors as ACS sends them: a status, `{"error": {"code", "message", "target"}}` and the
`x-ms-error-code` header; DomainErrors of the use cases translated once, here."""

from __future__ import annotations

import json
import re

from aiohttp import web

from service.domain.errors import DomainError, ErrorKind, ErrorReason

# The status and ACS error code of each kind of domain failure.
_STATUS_OF_KIND: dict[ErrorKind, tuple[int, str]] = {
    ErrorKind.INVALID: (400, "BadRequest"),
    ErrorKind.NOT_FOUND: (404, "NotFound"),
    ErrorKind.ALREADY_EXISTS: (409, "Conflict"),
    ErrorKind.CONFLICT: (409, "Conflict"),
    ErrorKind.EXHAUSTED: (400, "BadRequest"),
    ErrorKind.UNAVAILABLE: (503, "ServiceUnavailable"),
    ErrorKind.TIMEOUT: (503, "ServiceUnavailable"),
    ErrorKind.UNAUTHENTICATED: (401, "Denied"),
    ErrorKind.OUT_OF_RANGE: (400, "BadRequest"),
    ErrorKind.FAILED_PRECONDITION: (400, "BadRequest"),
}
# Our request's field names -> the ACS JSON names (the error's `target`).
_TARGETS = {
    "room_id": "roomId",
    "valid_from": "validFrom",
    "valid_until": "validUntil",
    "pstn_dial_out_enabled": "pstnDialOutEnabled",
    "participants": "participants",
    "user_ids": "participants",
    "request_id": "Repeatability-Request-ID",
}
_FIRST_NAME = re.compile(r"(?:room\.)?([a-z_]+)")


class AcsError(Exception):
    """An answer other than success: status, ACS code, message, and the field at fault."""

    def __init__(self, status: int, code: str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target

    def response(self) -> web.Response:
        error: dict[str, str] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        return web.Response(
            status=self.status,
            body=json.dumps({"error": error}).encode(),
            content_type="application/json",
            headers={"x-ms-error-code": self.code},
        )


def bad_request(target: str, message: str) -> AcsError:
    return AcsError(400, "BadRequest", f"{target}: {message}", target)


def denied(message: str) -> AcsError:
    """401: a missing, wrong or stale signature (never saying which key was tried)."""
    return AcsError(401, "Denied", message)


def from_domain(error: DomainError) -> AcsError:
    status, code = _STATUS_OF_KIND.get(error.kind, (500, "InternalError"))
    if error.reason is ErrorReason.ROOM_NOT_FOUND:
        return AcsError(404, code, "Room not found.", "roomId")
    target = None
    if error.field_violations:
        match = _FIRST_NAME.match(error.field_violations[0].field)
        name = match[1] if match else ""
        target = _TARGETS.get(name, name or None)
    return AcsError(status, code, error.message, target)
