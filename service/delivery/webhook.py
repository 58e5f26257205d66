"""The webhook sink: Standard Webhooks POSTs of each room event."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection

from google.protobuf import json_format
from rooms.v1 import events_pb2

from service.delivery.sink import Target
from service.domain.events import RoomEvent
from service.domain.webhooks import signature, url_violation
from service.http_client import HttpClient, HttpFailure
from service.storage.webhooks import SINK, PgWebhookStore
from service.storage.webhooks import Target as Stored

# The wire form of an event (`transport.convert.event_out`), passed in by the composition
# root so that delivery does not import the gRPC edge.
EventToWire = Callable[[RoomEvent], events_pb2.RoomEvent]


def envelope(event: RoomEvent, to_wire: EventToWire) -> bytes:
    """The body: the event type, room, revision and time, and the `RoomEvent` in the
    protobuf JSON mapping under `data`."""
    message = to_wire(event)
    return json.dumps(
        {
            "type": f"room.{event.type.value}",
            "roomId": event.room_id,
            "revision": event.revision,
            "timestamp": message.event_time.ToJsonString(),
            "data": json_format.MessageToDict(message),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


class _WebhookTarget:
    def __init__(
        self, stored: Stored, http: HttpClient, allowed: Collection[str], to_wire: EventToWire
    ) -> None:
        self._stored = stored
        self._http = http
        self._allowed = allowed
        self._to_wire = to_wire

    def wants(self, event: RoomEvent) -> bool:
        # The room filter also applies here: it may have changed since the cursor began.
        types, rooms = self._stored.event_types, self._stored.room_ids
        return (not types or event.type in types) and (not rooms or event.room_id in rooms)

    async def send(self, event: RoomEvent, delivery_id: str) -> str | None:
        url = self._stored.url
        refused = url_violation(url, self._allowed)
        if refused is not None:  # the allowed hosts changed since the webhook was set
            return f"URL not allowed: {refused[1]}"
        body = envelope(event, self._to_wire)
        # The signing time is the wall clock's: receivers compare it with theirs.
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "rooms-webhooks/1",
            "webhook-id": delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(self._stored.secret, delivery_id, timestamp, body),
        }
        try:
            answer = await self._http.post(url, body, headers)
        except HttpFailure as failure:
            return str(failure)
        if 200 <= answer.status < 300:
            return None
        return f"HTTP {answer.status}"


class WebhookSink:
    name = SINK

    def __init__(
        self,
        store: PgWebhookStore,
        http: HttpClient,
        allowed_http_hosts: Collection[str],
        to_wire: EventToWire,
    ) -> None:
        self._store = store
        self._http = http
        self._allowed = allowed_http_hosts
        self._to_wire = to_wire

    async def target(self, tenant: str, destination: str) -> Target | None:
        stored = await self._store.target(tenant, destination)
        return (
            None
            if stored is None
            else _WebhookTarget(stored, self._http, self._allowed, self._to_wire)
        )
