"""Rich gRPC errors as the tests read them (ErrorInfo, BadRequest, PreconditionFailure,
RetryInfo, the request id), and what the server logs at ERROR while a test runs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from rooms.errors import StatusDetails, status_details

# ---- rich errors ---------------------------------------------------------------------


@dataclass
class RichError:
    code: grpc.StatusCode
    message: str
    reason: str
    domain: str
    metadata: dict[str, str]
    fields: list[str]
    preconditions: list[error_details_pb2.PreconditionFailure.Violation]
    request_id: str
    retry_delay_seconds: float | None


def status_of(error: grpc.aio.AioRpcError) -> tuple[status_pb2.Status, StatusDetails]:
    """The google.rpc.Status of a failed call and its details unpacked. Fails the test
    if absent."""
    status = rpc_status.from_call(cast(grpc.Call, error))
    assert status is not None, f"no google.rpc.Status details on {error.code()}: {error.details()}"
    return status, status_details(status)


def rich_error(error: grpc.aio.AioRpcError) -> RichError:
    """The google.rpc.Status details of a failed call. Fails the test if absent."""
    status, details = status_of(error)
    info, bad_request, precondition = details.info, details.bad_request, details.precondition
    assert details.has_info, "every error must carry an ErrorInfo"
    assert details.request_info.request_id, "every error must carry its request id"
    return RichError(
        code=error.code(),
        message=status.message,
        reason=info.reason,
        domain=info.domain,
        metadata=dict(info.metadata),
        fields=[v.field for v in bad_request.field_violations],
        preconditions=list(precondition.violations),
        request_id=details.request_info.request_id,
        retry_delay_seconds=(
            details.retry_info.retry_delay.ToTimedelta().total_seconds()
            if details.retry_info is not None
            else None
        ),
    )


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo of a failed call, or None if it carries none (for tests that
    check that hostile input never goes without one)."""
    status = rpc_status.from_call(cast(grpc.Call, error))
    if status is None:
        return None
    details = status_details(status)
    return details.info if details.has_info else None


async def expect_error(call: Awaitable[Any], code: grpc.StatusCode, reason: str) -> RichError:
    """Await a call that must fail with `code` and ErrorInfo `reason`."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = rich_error(caught.value)
    assert (error.code, error.reason) == (code, reason), error
    assert error.domain == "rooms.v1"
    return error


class LoggedErrors(logging.Handler):
    """The records logged at ERROR or above while attached (see `logged_errors`)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def logged_errors(*loggers: str) -> Iterator[LoggedErrors]:
    """Collect what the named loggers (and their children) log at ERROR or above."""
    handler = LoggedErrors()
    for name in loggers:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in loggers:
            logging.getLogger(name).removeHandler(handler)
