"""A failed call's `google.rpc.Status`, unpacked, and the typed exception read
from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from rooms.errors.base import DOMAIN, FieldViolation, PreconditionViolation, RoomsError
from rooms.errors.reasons import error_class


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
