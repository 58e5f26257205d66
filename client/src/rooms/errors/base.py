"""The base of every rooms error: `RoomsError`, with the status code, the
`ErrorInfo` reason and metadata, and the violations of a `BadRequest` and a
`PreconditionFailure`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

import grpc

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
