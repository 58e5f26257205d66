"""What every call goes through at the edge: its request id, its authentication, its
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


async def _send_request_id(context: grpc.aio.ServicerContext[Any, Any]) -> None:
    """The call's request id goes back to the caller as the `x-request-id` header."""
    await context.send_initial_metadata(((REQUEST_ID_HEADER, request_id.get()),))


# (method, invocation metadata) -> False to refuse the call (UNAUTHENTICATED).
Authenticate: TypeAlias = Callable[[str, Any], bool]
Refusal: TypeAlias = Callable[[], grpc.Status]


def _wrap_unary(
    behavior: Callable[..., Awaitable[Any]],
    observer: _Observer,
    edge: tuple[Authenticate, Refusal],
) -> Callable[..., Awaitable[Any]]:
    method = observer.method
    authenticate, refusal = edge

    async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        metadata = context.invocation_metadata()
        request_id.set(_request_id_of(metadata))
        observer.in_flight.inc()
        started = time.perf_counter()
        try:
            await _send_request_id(context)
            if not authenticate(method, metadata):
                await context.abort_with_status(refusal())
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
    authenticate, refusal = edge

    async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        metadata = context.invocation_metadata()
        request_id.set(_request_id_of(metadata))
        observer.in_flight.inc()
        started = time.perf_counter()
        try:
            await _send_request_id(context)
            if not authenticate(method, metadata):
                await context.abort_with_status(refusal())
            async for item in behavior(request, context):
                yield item
        except BaseException as error:
            observer.finish(context, started, _outcome(error, context))
            raise
        observer.finish(context, started, _code_name(context))

    return observed


def _wrap(behavior: Any, observer: _Observer, edge: tuple[Authenticate, Refusal]) -> Any:
    if inspect.isasyncgenfunction(behavior):
        return _wrap_stream(behavior, observer, edge)
    if inspect.iscoroutinefunction(behavior):
        return _wrap_unary(behavior, observer, edge)
    return behavior  # a synchronous behavior: served as is, not observed


def observed_handler(
    handler: grpc.RpcMethodHandler[Any, Any],
    observer: _Observer,
    edge: tuple[Authenticate, Refusal],
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same shape as `handler` whose behavior is given its request id,
    authenticated first (`edge`), then measured and logged."""
    shape = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _wrap(handler.unary_unary, observer, edge), **shape
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _wrap(handler.unary_stream, observer, edge), **shape
        )
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            _wrap(handler.stream_unary, observer, edge), **shape
        )
    if handler.stream_stream is not None:
        return grpc.stream_stream_rpc_method_handler(
            _wrap(handler.stream_stream, observer, edge), **shape
        )
    return handler  # pragma: no cover - a handler always has one behavior


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
        add_generic = server.add_generic_rpc_handlers
        add_registered = server.add_registered_method_handlers

        def add_generic_rpc_handlers(handlers: Any) -> None:
            add_generic(tuple(_EdgeGenericHandler(handler, self) for handler in handlers))

        def add_registered_method_handlers(
            service: str, handlers: dict[str, grpc.RpcMethodHandler[Any, Any]]
        ) -> None:
            add_registered(
                service, {name: self.wrap(f"/{service}/{name}", h) for name, h in handlers.items()}
            )

        vars(server)["add_generic_rpc_handlers"] = add_generic_rpc_handlers
        vars(server)["add_registered_method_handlers"] = add_registered_method_handlers


class _EdgeGenericHandler(grpc.GenericRpcHandler):
    """A generic handler whose method handlers go through the edge, each wrapped once."""

    def __init__(self, inner: grpc.GenericRpcHandler, edge: Edge) -> None:
        self._inner = inner
        self._edge = edge
        self._seen: dict[
            str, tuple[grpc.RpcMethodHandler[Any, Any], grpc.RpcMethodHandler[Any, Any]]
        ] = {}

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = self._inner.service(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        seen = self._seen.get(method)
        if seen is not None and seen[0] is handler:
            return seen[1]
        wrapped = self._edge.wrap(method, handler)
        if len(self._seen) < 1000:  # only registered methods get here
            self._seen[method] = (handler, wrapped)
        return wrapped
