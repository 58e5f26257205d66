"""What every call goes through at the gRPC edge: its request id, its authentication, its
metrics and (unless OK, by default) its access line; unary and streaming, including
calls that authentication refuses.

`Edge.install(server)` wraps every handler registered on the server from then on, once
per method, so nothing runs per call but the wrapper itself: no gRPC interceptor (whose
per-call machinery, a coroutine and a partial per interceptor, cost about a quarter of
an empty call's CPU), no handler lookup."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, TypeAlias

import grpc

from service.observability import metrics
from service.observability.logging import request_id
from service.transport.auth import current_caller
from service.transport.handlers import rebuild, wrap_registrations

access_log = logging.getLogger("rooms.access")

AccessLog: TypeAlias = Literal["all", "errors", "off"]

# A caller may name its call with `x-request-id`; anything else gets a fresh id.
REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_SERIOUS = frozenset({"UNKNOWN", "INTERNAL", "DATA_LOSS"})


# A made-up id is this process's random prefix and a counter: 16 hex digits, unique
# per process (and, with 32 random bits per process, across replicas in practice),
# for a fraction of the cost of reading the OS's random source on every call.
_PREFIX = os.urandom(4).hex()
_COUNTER = itertools.count(int.from_bytes(os.urandom(4), "big"))


def _new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNTER) & 0xFFFFFFFF:08x}"


def _request_id_of(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == REQUEST_ID_HEADER:
            if isinstance(value, str) and _VALID_REQUEST_ID.fullmatch(value):
                return value
            break
    return _new_request_id()


def _code_name(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    code = context.code()
    if code is None:
        return "OK"
    if isinstance(code, grpc.StatusCode):
        return code.name
    try:
        return grpc.StatusCode(code).name  # pragma: no cover - an int on some versions
    except ValueError:  # pragma: no cover
        return str(code)


class _Observer:
    """The metrics children of one method, resolved once."""

    def __init__(self, method: str, log_mode: AccessLog) -> None:
        self.method = method
        self.in_flight = metrics.IN_FLIGHT.labels(method)
        self.latency = metrics.LATENCY.labels(method)
        self.calls: dict[str, Any] = {}
        self.log_mode = log_mode

    def start(self, metadata: Any) -> float:
        """Set the call's request id (from its invocation `metadata`), count it in
        flight; its start time."""
        request_id.set(_request_id_of(metadata))
        self.in_flight.inc()
        return time.perf_counter()

    def finish(
        self, context: grpc.aio.ServicerContext[Any, Any], started: float, code: str
    ) -> None:
        elapsed = time.perf_counter() - started
        self.in_flight.dec()
        self.latency.observe(elapsed)
        counter = self.calls.get(code)
        if counter is None:
            counter = self.calls[code] = metrics.CALLS.labels(self.method, code)
        counter.inc()
        if self.log_mode == "off" or (self.log_mode == "errors" and code == "OK"):
            return
        level = logging.WARNING if code in _SERIOUS else logging.INFO
        if not access_log.isEnabledFor(level):
            return
        extra: dict[str, Any] = {
            "method": self.method,
            "code": code,
            "duration_ms": round(elapsed * 1000, 3),
        }
        try:
            caller = current_caller()
        except LookupError:
            pass
        else:
            extra["tenant"] = caller.tenant
            extra["key_name"] = caller.key_name
        access_log.log(level, "%s %s %.2fms", self.method, code, elapsed * 1000, extra=extra)


def _outcome(error: BaseException, context: grpc.aio.ServicerContext[Any, Any]) -> str:
    if isinstance(error, grpc.aio.AbortError):
        return _code_name(context)
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        # GeneratorExit: a stream the client cancelled, closed by gRPC mid-iteration.
        return "CANCELLED"
    return "UNKNOWN"


# (method, invocation metadata) -> False to refuse the call (UNAUTHENTICATED).
Authenticate: TypeAlias = Callable[[str, Any], bool]
Refusal: TypeAlias = Callable[[], grpc.Status]


async def _admit(
    context: grpc.aio.ServicerContext[Any, Any],
    metadata: Any,
    method: str,
    edge: tuple[Authenticate, Refusal],
) -> None:
    """Send the call's request id back as the `x-request-id` header, then refuse the
    call unless its invocation `metadata` authenticates."""
    await context.send_initial_metadata(((REQUEST_ID_HEADER, request_id.get()),))
    authenticate, refusal = edge
    if not authenticate(method, metadata):
        await context.abort_with_status(refusal())


def _wrap_unary(
    behavior: Callable[..., Awaitable[Any]],
    observer: _Observer,
    edge: tuple[Authenticate, Refusal],
) -> Callable[..., Awaitable[Any]]:
    method = observer.method

    async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        # Read once: grpc.aio builds the metadata tuple anew on every call of this.
        metadata = context.invocation_metadata()
        started = observer.start(metadata)
        try:
            await _admit(context, metadata, method, edge)
            response = await behavior(request, context)
        except BaseException as error:
            observer.finish(context, started, _outcome(error, context))
            raise
        observer.finish(context, started, _code_name(context))
        return response

    return observed


def _wrap_stream(
    behavior: Callable[..., AsyncIterator[Any]],
    observer: _Observer,
    edge: tuple[Authenticate, Refusal],
) -> Callable[..., AsyncIterator[Any]]:
    method = observer.method

    async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        # Read once: grpc.aio builds the metadata tuple anew on every call of this.
        metadata = context.invocation_metadata()
        started = observer.start(metadata)
        try:
            await _admit(context, metadata, method, edge)
            async for item in behavior(request, context):
                yield item
        except BaseException as error:
            observer.finish(context, started, _outcome(error, context))
            raise
        observer.finish(context, started, _code_name(context))

    return observed


def observed_handler(
    handler: grpc.RpcMethodHandler[Any, Any],
    observer: _Observer,
    edge: tuple[Authenticate, Refusal],
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same shape as `handler` whose behavior is given its request id,
    authenticated first (`edge`), then measured and logged. A synchronous behavior is
    served as it is, not observed."""

    def wrap(behavior: Callable[..., Any], many: bool, stream: bool) -> Any:
        if inspect.isasyncgenfunction(behavior):
            return _wrap_stream(behavior, observer, edge)
        if inspect.iscoroutinefunction(behavior):
            return _wrap_unary(behavior, observer, edge)
        return None

    return rebuild(handler, wrap)


class Edge:
    """Request ids, authentication, metrics and access lines for every handler
    registered on a server, wrapped once at registration (see the module)."""

    def __init__(
        self, authenticate: Authenticate, refused: Refusal, access: AccessLog = "errors"
    ) -> None:
        self._edge = (authenticate, refused)
        self._access = access

    def wrap(
        self, method: str, handler: grpc.RpcMethodHandler[Any, Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        return observed_handler(handler, _Observer(method, self._access), self._edge)

    def install(self, server: grpc.aio.Server) -> None:
        """Wrap every handler registered on `server` from now on. Install it BEFORE
        the CallGuard, so that the edge runs first: a refused call's body is never
        parsed, and calls the guard answers (bad body, shutdown) are observed."""
        wrap_registrations(server, self.wrap)
