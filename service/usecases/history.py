"""A room's history: its events, paged, and watched as they happen."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from service.domain import rules
from service.domain.errors import DomainError, ErrorReason, invalid, room_not_found
from service.domain.events import EventType, RoomEvent
from service.domain.models import Caller, Page
from service.domain.paging import by_number
from service.usecases.deps import Deps


@dataclass(frozen=True, slots=True)
class HistoryUseCases:
    """ListRoomEvents and WatchRoom."""

    deps: Deps

    async def list_room_events(
        self,
        caller: Caller,
        room_id: str,
        page_size: int,
        page_token: str,
        newest_first: bool,
        types: Sequence[EventType],
    ) -> Page[RoomEvent]:
        rules.require_room_id(room_id)
        rules.page_size(page_size, self.deps.limits)  # a bad page size first, as elsewhere
        history = await self.deps.store.history(tenant=caller.tenant, room_id=room_id)
        if history is None:
            raise room_not_found(room_id)
        page = await self.deps.pages.page(
            ["events", caller.tenant, room_id, str(newest_first), *sorted(types)],
            page_size,
            page_token,
            by_number(lambda event: event.revision),
            lambda after, n: self.deps.store.read_events(
                tenant=caller.tenant,
                room_id=room_id,
                after=after or 0,
                limit=n,
                newest_first=newest_first,
                types=types,
            ),
            start=history.latest + 1 if newest_first else 0,
        )
        assert page is not None  # the room's history was found above
        return page

    async def watch_room(
        self, caller: Caller, room_id: str, after_revision: int
    ) -> AsyncIterator[RoomEvent]:
        """Every event after `after_revision`, then live ones, until the room is deleted
        (its DELETED event is the last) or the caller goes away."""
        rules.require_room_id(room_id)
        if after_revision < 0:
            raise invalid("after_revision", "must not be negative")
        if self.deps.notifier is None:
            raise RuntimeError("watching needs a notifier")
        batch = self.deps.limits.watch_batch_size
        poll = self.deps.limits.watch_poll_interval.total_seconds()
        # Subscribe before the first read, so nothing committed after it is missed.
        with self.deps.notifier.subscribe(caller.tenant, room_id) as signal:
            history = await self.deps.store.history(tenant=caller.tenant, room_id=room_id)
            if history is None:
                raise room_not_found(room_id)
            if after_revision > history.latest:
                raise invalid(
                    "after_revision",
                    f"is ahead of the room's history (latest revision {history.latest})",
                )
            # 0 means "all that is retained", even when older events were purged.
            last = after_revision or max(0, history.oldest - 1)
            while True:
                if last + 1 < history.oldest:
                    raise _revision_expired(room_id, history.oldest)
                if history.deleted and last >= history.latest:
                    return
                signal.clear()
                found = await self.deps.store.read_events(
                    tenant=caller.tenant, room_id=room_id, after=last, limit=batch
                )
                if found and found[0].revision != last + 1:
                    raise _revision_expired(room_id, found[0].revision)
                for event in found:
                    yield event
                    last = event.revision
                    if event.type is EventType.DELETED:
                        return
                if len(found) < batch:
                    # Caught up: wait for a notification (or poll, as a safety net).
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(poll):
                            await signal.wait()
                history = await self.deps.store.history(tenant=caller.tenant, room_id=room_id)
                if history is None:  # purged while watching
                    return
                if history.latest - last > self.deps.limits.watch_max_lag:
                    raise DomainError(
                        ErrorReason.WATCH_TOO_SLOW,
                        f"the watcher is {history.latest - last} events behind room "
                        f"{room_id!r}; resume from revision {last}",
                        metadata={
                            "room_id": room_id,
                            "last_revision": str(last),
                            "latest_revision": str(history.latest),
                        },
                    )


def _revision_expired(room_id: str, oldest: int) -> DomainError:
    return DomainError(
        ErrorReason.REVISION_EXPIRED,
        f"the history of room {room_id!r} before revision {oldest} is no longer kept; "
        "re-read the room and watch from its last_event_revision",
        metadata={"room_id": room_id, "oldest_revision": str(oldest)},
    )
