"""HTTP endpoints for the delivery tests: a webhook receiver that verifies every
request with the `standardwebhooks` library, and a LiveKit RoomService stand-in that
decodes requests with LiveKit's own message classes and checks the admin token with
`livekit-api`'s TokenVerifier."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import Message
from livekit.api import TokenVerifier
from livekit.protocol import room as lk_room
from standardwebhooks.webhooks import Webhook as Verifier

from support.processes import free_port


@dataclass
class Delivery:
    webhook_id: str
    room_id: str
    revision: int
    payload: dict[str, Any]


@dataclass
class WebhookReceiver:
    """Records every verified delivery. `mode` decides the answer: "ok" (204),
    "error" (500 after recording, so the retry is a duplicate the receiver has seen),
    "hold" (wait until `release` is set, then 204)."""

    secret: str = ""
    mode: str = "ok"
    deliveries: list[Delivery] = field(default_factory=list)
    rejected: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    held: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    peers: list[int] = field(default_factory=list)  # client ports of held requests
    error_rooms: set[str] = field(default_factory=set)  # "error" only for these rooms
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?token=not-a-secret"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            payload = Verifier(self.secret).verify(body, dict(request.headers))
        except Exception:
            self.rejected += 1
            return web.Response(status=400)
        room = payload["roomId"]
        self.deliveries.append(
            Delivery(request.headers["webhook-id"], room, int(payload["revision"]), payload)
        )
        self.changed.set()
        if self.mode == "error" and (not self.error_rooms or room in self.error_rooms):
            return web.Response(status=500, text="x" * 100_000)
        if self.mode == "hold":
            peer = request.transport.get_extra_info("peername") if request.transport else None
            if peer:
                self.peers.append(int(peer[1]))
            self.held.set()
            await self.release.wait()
        return web.Response(status=204)

    async def start(self, port: int | None = None) -> None:
        self.port = port or self.port or free_port()
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def by_room(self) -> dict[str, list[Delivery]]:
        rooms: dict[str, list[Delivery]] = {}
        for delivery in self.deliveries:
            rooms.setdefault(delivery.room_id, []).append(delivery)
        return rooms

    async def wait_for(self, condition: Callable[[], bool], within: float = 60) -> None:
        async with asyncio.timeout(within):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


def assert_in_order_without_loss(receiver: WebhookReceiver, expected: dict[str, list[int]]) -> int:
    """Every expected revision arrived, per room in order; a repeat only ever carries
    a webhook-id seen before (and the same revision). Returns the number of repeats."""
    repeats = 0
    got = receiver.by_room()
    assert set(got) == set(expected), (set(got), set(expected))
    for room_id, deliveries in got.items():
        seen: dict[str, int] = {}
        firsts: list[int] = []
        for delivery in deliveries:
            if delivery.webhook_id in seen:
                assert seen[delivery.webhook_id] == delivery.revision
                repeats += 1
                continue
            assert delivery.revision not in firsts, "a new webhook-id for a delivered event"
            seen[delivery.webhook_id] = delivery.revision
            firsts.append(delivery.revision)
        assert firsts == expected[room_id], (room_id, firsts, expected[room_id])
    return repeats


_REQUESTS: dict[str, type[Message]] = {
    "RemoveParticipant": lk_room.RoomParticipantIdentity,
    "UpdateParticipant": lk_room.UpdateParticipantRequest,
    "DeleteRoom": lk_room.DeleteRoomRequest,
    "GetParticipant": lk_room.RoomParticipantIdentity,
    "MutePublishedTrack": lk_room.MuteRoomTrackRequest,
}


@dataclass
class LiveKitCall:
    method: str
    request: Message
    room_admin: bool
    room_create: bool
    grant_room: str


@dataclass
class FakeLiveKit:
    """Answers like LiveKit's RoomService: 200 `{}`, or a Twirp `not_found` for the
    identities and rooms in `missing`; GetParticipant answers the identity's
    ParticipantInfo from `participants` (LiveKit's own JSON encoding of it)."""

    api_key: str
    api_secret: str
    missing: set[str] = field(default_factory=set)
    participants: dict[str, Message] = field(default_factory=dict)
    calls: list[LiveKitCall] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            token = request.headers["Authorization"].removeprefix("Bearer ")
            claims = TokenVerifier(self.api_key, self.api_secret).verify(token)
            message = _REQUESTS[method]()
            json_format.Parse(await request.read(), message)
        except Exception as error:
            self.refused.append(repr(error))
            return web.json_response({"code": "unauthenticated", "msg": "bad"}, status=401)
        self.calls.append(
            LiveKitCall(
                method,
                message,
                bool(claims.video and claims.video.room_admin),
                bool(claims.video and claims.video.room_create),
                claims.video.room if claims.video else "",
            )
        )
        self.changed.set()
        name = getattr(message, "identity", "") or getattr(message, "room", "")
        if name in self.missing:
            return web.json_response(
                {"code": "not_found", "msg": "participant not found"}, status=404
            )
        known = self.participants.get(getattr(message, "identity", ""))
        if method == "GetParticipant" and known is not None:
            return web.Response(
                body=json_format.MessageToJson(known, preserving_proto_field_name=True),
                content_type="application/json",
            )
        return web.Response(body=json.dumps({}), content_type="application/json")

    def by_identity(self) -> list[tuple[str, str]]:
        """The calls received, in order, as (method, identity): "" where none is named."""
        return [(c.method, getattr(c.request, "identity", "")) for c in self.calls]

    async def start(self) -> None:
        self.port = free_port()
        app = web.Application()
        app.router.add_post("/twirp/livekit.RoomService/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
