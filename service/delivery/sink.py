"""What the delivery engine needs from a sink: one kind of receiver (webhooks,
LiveKit, a Janus server...)."""

from __future__ import annotations

from typing import Protocol

from service.domain.events import RoomEvent


class Target(Protocol):
    """One destination, ready to receive a room's events in order."""

    def wants(self, event: RoomEvent) -> bool:
        """Whether this destination receives `event` at all (others are passed over)."""
        ...

    async def send(self, event: RoomEvent, delivery_id: str) -> str | None:
        """Deliver one event; None when done, else why not (retried later). The text
        is shown to operators: never a secret, a credential or a full URL.
        `delivery_id` is the same on every retry of this event to this destination."""
        ...


class Sink(Protocol):
    """A kind of destination. `name` is the `delivery_destinations.sink` value."""

    name: str

    async def target(self, tenant: str, destination: str) -> Target | None:
        """The destination's current configuration; None when it is gone."""
        ...
