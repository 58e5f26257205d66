"""Wrapping every method handler a server registers, once per method.

The edge (`transport.edge.Edge`) and the call guard (`transport.guard.CallGuard`)
both stand around every handler of every service, whoever registers it: the generated
`add_*Servicer_to_server` functions, health, reflection. `wrap_registrations` is how:
it replaces the server's two registration functions with ones that wrap each handler
first, the registered ones when they are registered and a generic handler's on first use.
`rebuild` makes a handler of the same shape around a wrapped behavior.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

import grpc

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
# (method, handler) -> the handler that serves the method instead.
WrapHandler: TypeAlias = Callable[[str, Handler], Handler]
# (behavior, many, stream) -> the behavior that serves instead, or None to leave the
# handler as it is; `many`: the request is a stream, `stream`: the response is.
WrapBehavior: TypeAlias = Callable[[Callable[..., Any], bool, bool], Callable[..., Any] | None]

# Generic handlers wrap the methods they serve on first use; at most this many are kept.
_MAX_CACHED_METHODS = 1000

# The four shapes of a method: its behavior's attribute, how to make a handler of that
# shape, whether the request is a stream, whether the response is.
_SHAPES: tuple[tuple[str, Callable[..., Handler], bool, bool], ...] = (
    ("unary_unary", grpc.unary_unary_rpc_method_handler, False, False),
    ("unary_stream", grpc.unary_stream_rpc_method_handler, False, True),
    ("stream_unary", grpc.stream_unary_rpc_method_handler, True, False),
    ("stream_stream", grpc.stream_stream_rpc_method_handler, True, True),
)


def rebuild(handler: Handler, wrap: WrapBehavior, **serializers: Any) -> Handler:
    """A handler of `handler`'s shape serving `wrap(behavior, many, stream)`, with its
    serializers unless `serializers` replaces them; `handler` itself where `wrap`
    declines."""
    shape = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
        **serializers,
    }
    for attribute, make, many, stream in _SHAPES:
        behavior = getattr(handler, attribute)
        if behavior is not None:
            wrapped = wrap(behavior, many, stream)
            return handler if wrapped is None else make(wrapped, **shape)
    return handler  # pragma: no cover - a handler always has one behavior


def wrap_registrations(server: grpc.aio.Server, wrap: WrapHandler) -> None:
    """Serve every handler registered on `server` from now on through `wrap`."""
    add_generic = server.add_generic_rpc_handlers
    add_registered = server.add_registered_method_handlers

    def add_generic_rpc_handlers(handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        add_generic(tuple(_WrappedGenericHandler(handler, wrap) for handler in handlers))

    def add_registered_method_handlers(service: str, handlers: Mapping[str, Handler]) -> None:
        add_registered(
            service, {name: wrap(f"/{service}/{name}", h) for name, h in handlers.items()}
        )

    # On this server object only: the registration functions generated for any service
    # call these two methods.
    vars(server)["add_generic_rpc_handlers"] = add_generic_rpc_handlers
    vars(server)["add_registered_method_handlers"] = add_registered_method_handlers


class _WrappedGenericHandler(grpc.GenericRpcHandler):
    """A generic handler whose method handlers are wrapped, each once."""

    def __init__(self, inner: grpc.GenericRpcHandler, wrap: WrapHandler) -> None:
        self._inner = inner
        self._wrap = wrap
        self._seen: dict[str, tuple[Handler, Handler]] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Handler | None:
        handler = self._inner.service(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        seen = self._seen.get(method)
        if seen is not None and seen[0] is handler:
            return seen[1]
        wrapped = self._wrap(method, handler)
        if len(self._seen) < _MAX_CACHED_METHODS:  # only registered methods get here
            self._seen[method] = (handler, wrapped)
        return wrapped
