"""The two reference servers `make bench` measures our calls against.

    python -m bench.reference --port P               # constant reply, nothing else
    python -m bench.reference --port P --dsn DSN     # the same plus one asyncpg fetchrow
    python -m bench.reference --port P --header      # the same plus an x-request-id header

A minimal grpc.aio server on uvloop with one generic method (any path), no interceptors,
no request parsing, a constant pre-serialized reply (a SERVING HealthCheckResponse): the
cheapest call this Python stack can answer. With `--dsn` each call first does one
`fetchrow` by primary key on a 10-connection pool (the naive floor of a read: one query
per call)."""

from __future__ import annotations

import argparse
from typing import Any

import asyncpg
import grpc
import uvloop
from grpc_health.v1 import health_pb2

REPLY = health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)
QUERY = "SELECT room_id, version FROM rooms WHERE tenant = $1 AND room_id = $2"


class _Any(grpc.GenericRpcHandler):
    def __init__(self, behavior: Any) -> None:
        # No (de)serializers: the method receives and returns raw bytes.
        self._handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(
            behavior
        )

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[bytes, bytes]:
        return self._handler


async def serve(port: int, dsn: str | None, header: bool = False) -> None:
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

    server = grpc.aio.server()
    server.add_generic_rpc_handlers((_Any(one_query if pool else constant),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn")
    parser.add_argument("--header", action="store_true")
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.dsn, args.header))


if __name__ == "__main__":
    main()
