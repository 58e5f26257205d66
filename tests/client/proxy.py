"""A recording, failure-injecting gRPC proxy in front of the real server: it records
each attempt (method, metadata, deadline, request bytes) and can fail chosen attempts
with UNAVAILABLE before or after forwarding them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import grpc
from rooms.client import RetryPolicy

CREATE = "/rooms.v1.RoomsService/CreateRoom"
GET = "/rooms.v1.RoomsService/GetRoom"
LIST_ROOMS = "/rooms.v1.RoomsService/ListRooms"
UPDATE = "/rooms.v1.RoomsService/UpdateRoom"
ADD = "/rooms.v1.ParticipantsService/AddOrUpdateParticipants"

# Retries quickly, so the tests that provoke them stay fast.
FAST_RETRY = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05)


@dataclass
class Attempt:
    method: str
    metadata: dict[str, str]
    time_remaining: float | None
    request: bytes


@dataclass
class Proxy:
    """A grpc.aio server that forwards every unary call to `upstream` as raw bytes."""

    upstream: str
    attempts: list[Attempt] = field(default_factory=list)
    # method -> what to do with its next attempts: "before" fails without forwarding,
    # "after" forwards (the work is done) and then fails as if the answer was lost.
    failures: dict[str, list[str]] = field(default_factory=dict)
    port: int = 0

    def of(self, method: str) -> list[Attempt]:
        return [attempt for attempt in self.attempts if attempt.method == method]

    async def __aenter__(self) -> Proxy:
        self._channel = grpc.aio.insecure_channel(self.upstream)
        self._server = grpc.aio.server()
        self._server.add_generic_rpc_handlers((_Forward(self),))
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        await self._server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.stop(0)
        await self._channel.close()

    async def forward(
        self, method: str, request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> bytes:
        metadata = {item[0]: str(item[1]) for item in context.invocation_metadata() or ()}
        self.attempts.append(Attempt(method, metadata, context.time_remaining(), request))
        plan = self.failures.get(method) or []
        step = plan.pop(0) if plan else None
        if step == "before":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "injected: not forwarded")
        passed = tuple((k, v) for k, v in metadata.items() if k == "authorization")
        call: Callable[..., Awaitable[bytes]] = self._channel.unary_unary(method)
        try:
            response = await call(request, metadata=passed, timeout=context.time_remaining())
        except grpc.aio.AioRpcError as error:
            await context.abort(
                error.code(), error.details() or "", trailing_metadata=error.trailing_metadata()
            )
        if step == "after":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "injected: done, answer lost")
        return response


class _Forward(grpc.GenericRpcHandler):
    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[Any, Any] | None:
        method: str = details.method

        async def behavior(
            request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
        ) -> bytes:
            return await self.proxy.forward(method, request, context)

        return grpc.unary_unary_rpc_method_handler(cast(Any, behavior))
