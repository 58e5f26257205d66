"""DomainError -> `google.rpc.Status` with ErrorInfo, BadRequest, PreconditionFailure,
RetryInfo (for DATABASE_UNAVAILABLE) and, on every error, RequestInfo with the call's
request id (the one in the `x-request-id` response header and in the logs)."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from service.domain.deadline import set_remaining
from service.domain.errors import DomainError, ErrorKind, ErrorReason
from service.observability.logging import request_id

log = logging.getLogger(__name__)

ERROR_DOMAIN = "rooms.v1"

_CODE_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: code_pb2.INVALID_ARGUMENT,
    ErrorKind.NOT_FOUND: code_pb2.NOT_FOUND,
    ErrorKind.ALREADY_EXISTS: code_pb2.ALREADY_EXISTS,
    ErrorKind.CONFLICT: code_pb2.ABORTED,
    ErrorKind.EXHAUSTED: code_pb2.RESOURCE_EXHAUSTED,
    ErrorKind.UNAVAILABLE: code_pb2.UNAVAILABLE,
    ErrorKind.TIMEOUT: code_pb2.DEADLINE_EXCEEDED,
    ErrorKind.UNAUTHENTICATED: code_pb2.UNAUTHENTICATED,
    ErrorKind.OUT_OF_RANGE: code_pb2.OUT_OF_RANGE,
    ErrorKind.FAILED_PRECONDITION: code_pb2.FAILED_PRECONDITION,
    ErrorKind.PERMISSION_DENIED: code_pb2.PERMISSION_DENIED,
}


# How long a caller should wait before retrying, by reason (google.rpc.RetryInfo). The
# pool reconnects by itself and health re-checks every couple of seconds.
RETRY_DELAY_SECONDS: dict[ErrorReason, int] = {ErrorReason.DATABASE_UNAVAILABLE: 1}


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: DomainError) -> grpc.Status:
    """The rich status for a domain error."""
    metadata = dict(error.metadata)
    if error.violation_count > len(error.field_violations):  # over the cap: say how many
        metadata["violation_count"] = str(error.violation_count)
    details = [
        _pack(
            error_details_pb2.ErrorInfo(
                reason=error.reason.value, domain=ERROR_DOMAIN, metadata=metadata
            )
        )
    ]
    if error.field_violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description, reason=v.reason.value
                        )
                        for v in error.field_violations
                    ]
                )
            )
        )
    if error.precondition_violations:
        details.append(
            _pack(
                error_details_pb2.PreconditionFailure(
                    violations=[
                        error_details_pb2.PreconditionFailure.Violation(
                            type=v.type, subject=v.subject, description=v.description
                        )
                        for v in error.precondition_violations
                    ]
                )
            )
        )
    delay = RETRY_DELAY_SECONDS.get(error.reason)
    if delay is not None:
        details.append(
            _pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=delay)))
        )
    details.extend(_request_info())
    status = status_pb2.Status(
        code=_CODE_OF_KIND[error.kind], message=error.message, details=details
    )
    return rpc_status.to_status(status)


def _request_info() -> list[any_pb2.Any]:
    """The call's request id as a google.rpc.RequestInfo, if the call has one."""
    current = request_id.get()
    return [_pack(error_details_pb2.RequestInfo(request_id=current))] if current else []


Req = TypeVar("Req")
Resp = TypeVar("Resp")
Handler = Callable[[Any, Req, grpc.aio.ServicerContext[Req, Resp]], Awaitable[Resp]]


def _internal() -> grpc.Status:
    return rpc_status.to_status(
        status_pb2.Status(code=code_pb2.INTERNAL, message="internal error", details=_request_info())
    )


def status_of(error: Exception, where: str) -> grpc.Status:
    """The status that answers `error`: a DomainError's rich status; anything else is
    a bug, logged with its traceback and answered INTERNAL."""
    if isinstance(error, DomainError):
        return to_status(error)
    log.error("unexpected error in %s", where, exc_info=error)
    return _internal()


def answers_errors(method: Handler[Req, Resp]) -> Handler[Req, Resp]:
    """Wrap a unary servicer method so every failure is answered with a precise status."""

    @functools.wraps(method)
    async def wrapper(
        self: Any, request: Req, context: grpc.aio.ServicerContext[Req, Resp]
    ) -> Resp:
        set_remaining(context.time_remaining())
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            status = status_of(error, method.__qualname__)
        await context.abort_with_status(status)

    return wrapper


StreamHandler = Callable[[Any, Req, grpc.aio.ServicerContext[Req, Resp]], AsyncIterator[Resp]]


def answers_errors_streaming(method: StreamHandler[Req, Resp]) -> StreamHandler[Req, Resp]:
    """`answers_errors` for server-streaming methods."""

    @functools.wraps(method)
    async def wrapper(
        self: Any, request: Req, context: grpc.aio.ServicerContext[Req, Resp]
    ) -> AsyncIterator[Resp]:
        set_remaining(context.time_remaining())
        try:
            async for item in method(self, request, context):
                yield item
            return
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            status = status_of(error, method.__qualname__)
        await context.abort_with_status(status)

    return wrapper
