"""The webhook tests' caller: a server of its own tenant and the calls they make over
the raw stubs (rooms, rosters, webhooks, a room's event revisions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rooms.v1 import events_pb2 as ev
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import webhooks_service_pb2 as ws

from service.server import RunningServer
from tests.shared.calls import People, Rooms, Webhooks
from tests.shared.receivers import WebhookReceiver

T = ev.RoomEventType


@dataclass
class Api:
    """A caller of the webhook tests' server: its stubs and its API key on every call."""

    running: RunningServer
    rooms: Rooms
    participants: People
    webhooks: Webhooks
    metadata: tuple[tuple[str, str], ...]

    async def create_room(self, room_id: str) -> None:
        await self.rooms.CreateRoom(rs.CreateRoomRequest(room_id=room_id), metadata=self.metadata)

    async def add(self, room_id: str, *users: str) -> None:
        await self.participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id, participants=[pp.Participant(user_id=u) for u in users]
            ),
            metadata=self.metadata,
        )

    async def create_webhook(self, url: str, **fields: Any) -> ws.Webhook:
        webhook: ws.Webhook = await self.webhooks.CreateWebhook(
            ws.CreateWebhookRequest(webhook=ws.Webhook(url=url, **fields)), metadata=self.metadata
        )
        return webhook

    async def subscribe(self, receiver: WebhookReceiver, **fields: Any) -> ws.Webhook:
        """A webhook to `receiver`, which then verifies deliveries with its secret."""
        webhook = await self.create_webhook(receiver.url, **fields)
        receiver.secret = webhook.secret
        return webhook

    async def get_webhook(self, webhook_id: str) -> ws.Webhook:
        webhook: ws.Webhook = await self.webhooks.GetWebhook(
            ws.GetWebhookRequest(webhook_id=webhook_id), metadata=self.metadata
        )
        return webhook

    async def events(self, room_id: str) -> list[int]:
        page = await self.rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id=room_id, page_size=500), metadata=self.metadata
        )
        return [event.revision for event in page.events]
