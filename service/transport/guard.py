"""What every call of every service gets, whichever servicer registered it.

`CallGuard.install(server)` wraps each method handler registered on the server from
then on: the generated `add_*Servicer_to_server` functions, health, reflection, and any
service added later the same way. Each wrapped handler

- **has its request body parsed by our code.** grpc.aio parses a body before any of our
  code runs and answers one that does not parse (random bytes, invalid UTF-8 in a
  string field) with UNKNOWN, no `ErrorInfo`, and an ERROR traceback in the log. Here
  the handler is registered with a pass-through deserializer, so the body arrives as
  bytes, and the guard parses it: a body that does not parse is INVALID_ARGUMENT with
  `ErrorInfo` reason `INVALID_ARGUMENT` and metadata `method`, like any other bad
  input. Interceptors run before any handler, so a call without a valid key is
  UNAUTHENTICATED first and its body is never parsed.
- **is ended with UNAVAILABLE at shutdown** (`ErrorInfo` reason `SHUTTING_DOWN`). On
  `close()`, open streams (WatchRoom, Health.Watch, reflection) end at once, and calls
  that arrive from then on are refused; `drain(grace)` lets the unary calls in flight
  finish for up to `grace` seconds and ends the rest; `quiet()` then waits until no
  call has arrived for a moment, refusing each with UNAVAILABLE. gRPC itself would
  wait the whole grace period for streams and then cancel every call left, and when
  it stops it cancels the calls that have arrived but that no handler has taken yet:
  a CANCELLED is not retried by gRPC retry policies; UNAVAILABLE is.

A handler must take its request from its `request` argument (or request iterator), not
from `context.read()`, which would return the raw bytes.

The cost on a unary call: one coroutine frame, a set insertion and removal, and the
parse that grpc.aio would have done anyway. The wrapping itself happens once per method
(the registered handlers when they are registered, generic ones on first use).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeAlias

import grpc

from service.domain.errors import DomainError, ErrorReason
from service.transport.errors import to_status
from service.transport.handlers import Handler, rebuild, wrap_registrations

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Parse: TypeAlias = Callable[[bytes], Any]


def shutting_down() -> grpc.Status:
    """The answer of a call ended by the shutdown (built per call: it carries the
    call's request id, like every error)."""
    return to_status(
        DomainError(
            ErrorReason.SHUTTING_DOWN, "the server is shutting down; retry on another replica"
        )
    )


# How long ended calls get to send their UNAVAILABLE before the server stops anyway.
_END_TIMEOUT = 1.0
# At shutdown, the server stops once no call has arrived for this long (clients that
# were told UNAVAILABLE have gone elsewhere) or when the grace period is over.
QUIET_SECONDS = 0.1
QUIET_TURNS = 5


class _Call:
    """One call in flight: whether it is a stream, and (for a stream yielding its
    responses) whether a response is being sent and whether it should end after it."""

    __slots__ = ("ending", "sending", "stream")

    def __init__(self, stream: bool) -> None:
        self.stream = stream
        self.sending = False
        self.ending = False


# Calls whose behavior is one coroutine hold no state of their own.
_UNARY = _Call(stream=False)
_WRITER = _Call(stream=True)  # a stream whose coroutine writes with context.write()


def _invalid_body(method: str, parse: Parse) -> grpc.Status:
    message_type = getattr(getattr(parse, "__self__", None), "DESCRIPTOR", None)
    name = getattr(message_type, "full_name", "request")
    return to_status(
        DomainError(
            ErrorReason.INVALID_ARGUMENT,
            f"the request body is not a valid {name} message",
            metadata={"method": method},
        )
    )


class CallGuard:
    """Parses request bodies and ends calls at shutdown; see the module's docstring."""

    def __init__(self) -> None:
        self._closing = False
        self._calls: dict[asyncio.Task[Any], _Call] = {}
        self._ended: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._last_arrival = 0.0  # time.monotonic() of the closing or the last refusal

    # ---- registration -------------------------------------------------------------

    def install(self, server: grpc.aio.Server) -> None:
        """Guard every handler registered on `server` from now on."""
        wrap_registrations(server, self.guard)

    def guard(self, method: str, handler: Handler) -> Handler:
        """`handler` with a pass-through deserializer, its body parsed and its call
        tracked by the guard. A handler without a deserializer or with a synchronous
        streaming behavior is served as it is."""
        parse: Parse | None = handler.request_deserializer
        if parse is None:
            return handler
        invalid = _invalid_body(method, parse)

        def wrap(behavior: Callable[..., Any], many: bool, stream: bool) -> Any:
            return self._wrap(behavior, parse, invalid, many=many, stream=stream)

        return rebuild(handler, wrap, request_deserializer=None)

    def _wrap(
        self,
        behavior: Callable[..., Any],
        parse: Parse,
        invalid: grpc.Status,
        *,
        many: bool,
        stream: bool,
    ) -> Callable[..., Any] | None:
        """The guarded behavior; `many`: the request is a stream of bodies."""
        if inspect.isasyncgenfunction(behavior):
            return self._generator(behavior, parse, invalid, many)
        if inspect.iscoroutinefunction(behavior):
            return self._coroutine(behavior, parse, invalid, many, _WRITER if stream else _UNARY)
        if not stream:
            # A synchronous unary behavior (such as a generated base class's stub that
            # answers UNIMPLEMENTED) runs as it would have, after the parse.
            return self._coroutine(_awaitable(behavior), parse, invalid, many, _UNARY)
        return None

    # ---- the guarded behaviors ----------------------------------------------------

    def _coroutine(
        self,
        behavior: Callable[..., Any],
        parse: Parse,
        invalid: grpc.Status,
        many: bool,
        shape: _Call,
    ) -> Callable[..., Any]:
        calls = self._calls

        async def guarded(request: Any, context: Context) -> Any:
            message, refusal = self._admit(request, context, parse, invalid, many)
            if refusal is not None:
                await context.abort_with_status(refusal)
            task: asyncio.Task[Any] = asyncio.current_task()  # type: ignore[assignment]
            calls[task] = shape
            try:
                return await behavior(message, context)
            except asyncio.CancelledError:
                if not self._ended_by_shutdown(task):
                    raise
                await context.abort_with_status(shutting_down())
            finally:
                self._left(task)

        return guarded

    def _generator(
        self,
        behavior: Callable[..., AsyncIterator[Any]],
        parse: Parse,
        invalid: grpc.Status,
        many: bool,
    ) -> Callable[..., AsyncIterator[Any]]:
        calls = self._calls

        async def guarded(request: Any, context: Context) -> AsyncIterator[Any]:
            message, refusal = self._admit(request, context, parse, invalid, many)
            if refusal is not None:
                await context.abort_with_status(refusal)
            task: asyncio.Task[Any] = asyncio.current_task()  # type: ignore[assignment]
            call = calls[task] = _Call(stream=True)
            responses = behavior(message, context)
            try:
                async for response in responses:
                    # While the response is sent, this generator is not running: the
                    # guard must not cancel the task then (gRPC would answer CANCELLED).
                    call.sending = True
                    yield response
                    call.sending = False
                    if call.ending:
                        await context.abort_with_status(shutting_down())
            except asyncio.CancelledError:
                if not self._ended_by_shutdown(task):
                    raise
                await context.abort_with_status(shutting_down())
            finally:
                self._left(task)
                await responses.aclose()  # type: ignore[attr-defined]

        return guarded

    def _admit(
        self, request: Any, context: Context, parse: Parse, invalid: grpc.Status, many: bool
    ) -> tuple[Any, grpc.Status | None]:
        """(the call's request, None), or (None, the status that refuses the call): the
        server is shutting down, or the body does not parse. A streaming request (`many`)
        is parsed body by body as the behavior reads it."""
        if self._closing:
            self._last_arrival = time.monotonic()
            return None, shutting_down()
        if many:
            return _messages(request, parse, invalid, context), None
        try:
            return parse(request), None
        except Exception:  # any parse failure: DecodeError, invalid UTF-8...
            return None, invalid

    def _ended_by_shutdown(self, task: asyncio.Task[Any]) -> bool:
        """Whether the guard cancelled `task` to end its call; if so the cancellation is
        taken back, so the call can end with UNAVAILABLE rather than CANCELLED."""
        if task not in self._ended:
            return False
        task.uncancel()
        return True

    def _left(self, task: asyncio.Task[Any]) -> None:
        """A call has finished (however it ended)."""
        del self._calls[task]
        if self._closing:
            self._ended.discard(task)
            if not self._calls:
                self._idle.set()

    # ---- shutdown -----------------------------------------------------------------

    def _end(self, task: asyncio.Task[Any], call: _Call) -> None:
        if call.sending:
            call.ending = True  # ended as soon as the response is sent
        elif task not in self._ended:
            self._ended.add(task)
            task.cancel()

    def close(self) -> None:
        """Refuse new calls and end every open stream now, with UNAVAILABLE."""
        self._closing = True
        self._last_arrival = time.monotonic()  # `quiet` counts from here at the earliest
        for task, call in list(self._calls.items()):
            if call.stream:
                self._end(task, call)
        if not self._calls:
            self._idle.set()

    async def drain(self, grace: float) -> None:
        """`close()`, then wait up to `grace` seconds for the calls in flight to finish;
        end those still running with UNAVAILABLE."""
        self.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self._idle.wait()
        for task, call in list(self._calls.items()):
            self._end(task, call)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_END_TIMEOUT):
                await self._idle.wait()

    async def quiet(self, within: float) -> None:
        """After `drain`: wait until no call has arrived (each refused with UNAVAILABLE)
        for QUIET_SECONDS and for QUIET_TURNS looks in a row, or `within` seconds at
        most. Stopping gRPC while calls still arrive would cancel those it has taken in
        but not yet handed to a handler; counting looks, not only seconds, keeps a
        process starved of CPU from taking its own stall for quiet."""
        deadline = time.monotonic() + within
        quiet_looks = 0
        seen = self._last_arrival
        while time.monotonic() < deadline:
            if self._last_arrival != seen:
                seen, quiet_looks = self._last_arrival, 0
            else:
                quiet_looks += 1
            if quiet_looks >= QUIET_TURNS and time.monotonic() - seen >= QUIET_SECONDS:
                return
            await asyncio.sleep(QUIET_SECONDS / QUIET_TURNS)


def _awaitable(behavior: Callable[..., Any]) -> Callable[..., Any]:
    async def call(request: Any, context: Context) -> Any:
        try:
            return behavior(request, context)
        except NotImplementedError:
            # A generated stub (Health.List of grpcio-health-checking's aio servicer):
            # UNIMPLEMENTED, as for a method the server does not know, not a traceback.
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "method not implemented")

    return call


async def _messages(
    bodies: AsyncIterator[Any], parse: Parse, invalid: grpc.Status, context: Context
) -> AsyncIterator[Any]:
    """The requests of a streaming-request call, each body parsed as it arrives; one
    that does not parse ends the call with INVALID_ARGUMENT."""
    async for body in bodies:
        try:
            message = parse(body)
        except Exception:
            await context.abort_with_status(invalid)
        yield message
