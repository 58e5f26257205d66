"""`python -m bench.delivery`: webhook delivery throughput and lag against a real server
process and a fresh database, with a local receiver answering 204 at once.

    python -m bench.delivery --rooms 50 --events 40 --writers 16

Lag is from an event being written (its `timestamp`, the server's clock) to its
arrival at the receiver (same machine, same clock).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import datetime
from typing import Any

import grpc
from aiohttp import web
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import (
    participants_service_pb2_grpc,
    rooms_service_pb2_grpc,
    webhooks_service_pb2_grpc,
)
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import webhooks_service_pb2 as ws

from support.database import admin_dsn, scratch_database
from support.processes import free_port, spawn_server


class Receiver:
    def __init__(self) -> None:
        self.lags: list[float] = []
        self.ids: set[str] = set()
        self.last_arrival = 0.0
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        payload = json.loads(await request.read())
        now = time.time()
        written = datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00"))
        self.lags.append(now - written.timestamp())
        self.ids.add(request.headers["webhook-id"])
        self.last_arrival = now
        self.changed.set()
        return web.Response(status=204)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(admin: str, rooms: int, events: int, writers: int) -> dict[str, Any]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    hook_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", hook_port).start()
    async with scratch_database(admin, "rooms_bench_delivery") as dsn:
        port = free_port()
        server = await spawn_server(
            dsn,
            port,
            output=asyncio.subprocess.DEVNULL,
            ROOMS_WEBHOOK_ALLOWED_HTTP_HOSTS="127.0.0.1",
            ROOMS_ACCESS_LOG="off",
            ROOMS_LOG_LEVEL="WARNING",
        )
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                await asyncio.wait_for(channel.channel_ready(), 60)
                hooks: Any = webhooks_service_pb2_grpc.WebhooksServiceStub(channel)
                rooms_stub: Any = rooms_service_pb2_grpc.RoomsServiceStub(channel)
                people: Any = participants_service_pb2_grpc.ParticipantsServiceStub(channel)
                await hooks.CreateWebhook(
                    ws.CreateWebhookRequest(
                        webhook=ws.Webhook(url=f"http://127.0.0.1:{hook_port}/hook")
                    )
                )
                queue: asyncio.Queue[str] = asyncio.Queue()
                for index in range(rooms):
                    queue.put_nowait(f"bench-{index}")

                async def writer() -> None:
                    while not queue.empty():
                        room_id = queue.get_nowait()
                        await rooms_stub.CreateRoom(rs.CreateRoomRequest(room_id=room_id))
                        for n in range(events - 1):
                            await people.AddOrUpdateParticipants(
                                ps.AddOrUpdateParticipantsRequest(
                                    room_id=room_id,
                                    participants=[pp.Participant(user_id=f"u{n}")],
                                )
                            )

                started = time.time()
                await asyncio.gather(*(writer() for _ in range(writers)))
                written = time.time()
                total = rooms * events
                async with asyncio.timeout(600):
                    while len(receiver.ids) < total:
                        receiver.changed.clear()
                        await receiver.changed.wait()
        finally:
            server.terminate()
            await server.wait()
    await runner.cleanup()
    elapsed = receiver.last_arrival - started
    return {
        "events": total,
        "write_seconds": round(written - started, 2),
        "delivered_per_second": round(total / elapsed, 1),
        "lag_p50_ms": round(statistics.median(receiver.lags) * 1000, 1),
        "lag_p99_ms": round(percentile(receiver.lags, 0.99) * 1000, 1),
        "lag_max_ms": round(max(receiver.lags) * 1000, 1),
        "repeats": len(receiver.lags) - len(receiver.ids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery")
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--events", type=int, default=40, help="events per room")
    parser.add_argument("--writers", type=int, default=16)
    args = parser.parse_args()
    with admin_dsn(containers=False, cluster=False) as (admin, _):
        figures = asyncio.run(run(admin, args.rooms, args.events, args.writers))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
