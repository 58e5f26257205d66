"""The reference servers `make bench` measures our calls against.

    python -m bench.reference --port P               # the minimal server
    python -m bench.reference --port P --dsn DSN     # the one-query floor
    python -m bench.reference --port P --header      # the minimal server + x-request-id
    python -m bench.reference --port P --variant V   # a variant (VARIANTS), to compare

The minimal server is the cheapest call this Python stack answers: grpc.aio on uvloop,
one method registered by its path (`add_registered_method_handlers`: a dict lookup, no
generic handler asked), no interceptors, no deserializer and no serializer (the body
arrives as bytes and the reply goes as bytes), a constant pre-serialized reply (a
SERVING HealthCheckResponse). The one-query floor is the same plus one asyncpg
`fetchrow` by primary key per call on a 10-connection pool. The variants are the other
ways of writing the same server that `make bench --references all` measures, to show
that none is cheaper (docs/performance.md)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import asyncpg
import grpc
import uvloop
from grpc_health.v1 import health_pb2

REPLY = health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)
QUERY = "SELECT room_id, version FROM rooms WHERE tenant = $1 AND room_id = $2"
SERVICE, METHOD = "grpc.health.v1.Health", "Check"

# How the same constant answer can be served; "registered" is the minimal server.
VARIANTS = {
    "registered": "one method registered by path (the minimal server)",
    "generic": "a GenericRpcHandler subclass answering every path",
    "method_handlers_generic": "grpc.method_handlers_generic_handler (a dict per service)",
    "asyncio": "the minimal server on asyncio's own event loop, not uvloop",
    "sync": "a synchronous handler (grpc.aio runs it in its thread pool)",
    "parsed": "the minimal server parsing the request and serializing the reply",
}


class _Any(grpc.GenericRpcHandler):
    def __init__(self, handler: grpc.RpcMethodHandler[Any, Any]) -> None:
        self._handler = handler

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        return self._handler


async def serve(port: int, dsn: str | None, header: bool, variant: str) -> None:
    reply = REPLY.SerializeToString()
    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10) if dsn else None

    async def constant(request: bytes, context: Any) -> bytes:
        if header:  # what sending our x-request-id header costs, alone
            await context.send_initial_metadata((("x-request-id", "0123456789abcdef"),))
        return reply

    async def one_query(request: bytes, context: Any) -> bytes:
        assert pool is not None
        await pool.fetchrow(QUERY, "default", "room-0000001")
        return reply

    def sync_constant(request: bytes, context: Any) -> bytes:
        return reply

    async def parsed(request: Any, context: Any) -> Any:
        return REPLY

    behavior: Any = one_query if pool else constant
    handler: grpc.RpcMethodHandler[Any, Any]
    if variant == "sync":
        handler = grpc.unary_unary_rpc_method_handler(sync_constant)
    elif variant == "parsed":
        handler = grpc.unary_unary_rpc_method_handler(
            parsed,
            request_deserializer=health_pb2.HealthCheckRequest.FromString,
            response_serializer=health_pb2.HealthCheckResponse.SerializeToString,
        )
    else:  # no (de)serializers: the method receives and returns raw bytes
        handler = grpc.unary_unary_rpc_method_handler(behavior)
    server = grpc.aio.server()
    if variant == "generic":
        server.add_generic_rpc_handlers((_Any(handler),))
    elif variant == "method_handlers_generic":
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE, {METHOD: handler}),)
        )
    else:
        server.add_registered_method_handlers(SERVICE, {METHOD: handler})
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn")
    parser.add_argument("--header", action="store_true")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="registered")
    args = parser.parse_args()
    run = asyncio.run if args.variant == "asyncio" else uvloop.run
    run(serve(args.port, args.dsn, args.header, args.variant))


if __name__ == "__main__":
    main()
