"""An async client for the rooms.v1 API, over the generated stubs.

```python
from rooms.client import RoomsClient
from rooms.errors import RoomNotFound

async with RoomsClient("127.0.0.1:50051", api_key="rk_...") as client:
    room = await client.create_room(participants={"dr-house": "presenter"})
    await client.add_or_update_participants(room.room_id, {"patient-7": "attendee"})
    decision = await client.authorize_join(room.room_id, "patient-7")
    async for room in client.list_rooms(state="open"):
        ...
    webhook = await client.create_webhook("https://hooks.example.com/rooms")
    print(webhook.secret)  # shown by this answer only
```

- One method per RPC, keyword arguments, a default deadline (`timeout`, 10 s) for
  every call.
- `create_room` sends a fresh `request_id` (a UUID) unless given one, so it is safe to
  retry.
- The paged lists are async iterators that follow `next_page_token`.
- Calls that are safe to repeat (the reads, `CreateRoom` with its `request_id`, and
  `DeleteRoom`) are retried on UNAVAILABLE by gRPC itself, configured through the
  channel's service config (`grpc.service_config`); nothing else is retried.
- Failures raise the `rooms.errors.RoomsError` subclass of their `ErrorInfo.reason`.
- TLS (`tls=True` or a `TLS(...)`), mutual TLS (`TLS(certificate_chain=..., private_key=...)`)
  and an API key (sent as `authorization: Bearer <key>`).
"""

from __future__ import annotations

from rooms.calendar_service import CalendarMethods
from rooms.connection import (
    DEFAULT_ADDRESS,
    DEFAULT_TIMEOUT,
    IDEMPOTENT_METHODS,
    TLS,
    RetryPolicy,
    service_config,
)
from rooms.credentials_service import CredentialsMethods
from rooms.participants_service import ParticipantsMethods
from rooms.rooms_service import RoomsMethods
from rooms.values import (
    EventTypeLike,
    JoinPolicyLike,
    RoleLike,
    RoomStateLike,
    event_type_value,
    join_policy_value,
    knock_state_value,
    participant,
    role_value,
    room_state_value,
)
from rooms.webhooks_service import WebhooksMethods

__all__ = [
    "DEFAULT_ADDRESS",
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "TLS",
    "EventTypeLike",
    "JoinPolicyLike",
    "RetryPolicy",
    "RoleLike",
    "RoomStateLike",
    "RoomsClient",
    "event_type_value",
    "join_policy_value",
    "knock_state_value",
    "participant",
    "role_value",
    "room_state_value",
    "service_config",
]


class RoomsClient(
    RoomsMethods, ParticipantsMethods, CredentialsMethods, WebhooksMethods, CalendarMethods
):
    """The rooms.v1 API over one gRPC channel: one method per RPC, grouped by service
    (rooms_service.py, participants_service.py, credentials_service.py,
    webhooks_service.py) over the shared channel (connection.py). Use it as an async
    context manager, or call `close()`."""
