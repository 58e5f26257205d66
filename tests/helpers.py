"""Reading rich gRPC errors in tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from rooms.errors import status_details


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


def rich_error(error: grpc.aio.AioRpcError) -> RichError:
    """The google.rpc.Status details of a failed call. Fails the test if absent."""
    status = rpc_status.from_call(cast(grpc.Call, error))
    assert status is not None, f"no google.rpc.Status details on {error.code()}: {error.details()}"
    details = status_details(status)
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


async def expect_error(call: Awaitable[Any], code: grpc.StatusCode, reason: str) -> RichError:
    """Await a call that must fail with `code` and ErrorInfo `reason`."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = rich_error(caught.value)
    assert (error.code, error.reason) == (code, reason), error
    assert error.domain == "rooms.v1"
    return error


@contextlib.asynccontextmanager
async def room_row_locked(pool: asyncpg.Pool, room_id: str) -> AsyncIterator[None]:
    """Hold a room's row lock, so a roster change of that room stays in flight."""
    connection = await pool.acquire()
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute("SELECT 1 FROM rooms WHERE room_id = $1 FOR UPDATE", room_id)
        yield
    finally:
        await transaction.rollback()
        await pool.release(connection)
