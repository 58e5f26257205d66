"""The use cases over `PgRoomStore` on the run's database, without a server: what
tests/integration/test_usecases_*.py build on. Each service works in a tenant of its
own, so the tests share the session's database and need no truncation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg

from service.calendar.ics import calendar_of
from service.domain.clock import ManualClock
from service.domain.limits import Limits
from service.domain.models import Caller, Page, RoomSettings, RosterEntry
from service.domain.paging import PageTokens
from service.storage.notify import EventHub
from service.storage.repository import PgRoomStore
from service.storage.webhooks import PgWebhookStore
from service.usecases import UseCases
from service.usecases.calendar import CalendarUseCases
from service.usecases.deps import Deps
from service.usecases.webhooks import WebhookUseCases
from tests.conftest import T0
from tests.shared.calls import unique

T = TypeVar("T")


@dataclass
class Service:
    store: PgRoomStore
    usecases: UseCases
    clock: ManualClock
    caller: Caller


def service(
    pool: asyncpg.Pool,
    store: PgRoomStore | None = None,
    notifier: EventHub | None = None,
    **limits: Any,
) -> Service:
    """The use cases over `store` (by default a new store on `pool`) with `limits` set,
    at T0, for a caller in a tenant of its own."""
    store = store if store is not None else PgRoomStore(pool)
    clock = ManualClock(T0)
    deps = Deps(
        store=store,
        clock=clock,
        limits=Limits(**limits),
        page_tokens=PageTokens(b"usecases-page-token-secret"),
        notifier=notifier,
    )
    # Every area, as the server builds them (no calendar feeds are served here).
    usecases = UseCases.over(
        deps,
        webhooks=WebhookUseCases(
            deps, store=PgWebhookStore(pool), allowed_http_hosts=(), max_webhooks=100
        ),
        calendar=CalendarUseCases(deps, feeds=None, public_url="", render_feed=calendar_of),
    )
    return Service(store, usecases, clock, Caller(unique("usecases"), "key"))


async def create(
    service: Service, room_id: str, roster: list[RosterEntry] | None = None, **settings: Any
) -> None:
    """A room open from T0 - 1 h for a day, unless `settings` say otherwise."""
    values: dict[str, Any] = {
        "valid_from": T0 - timedelta(hours=1),
        "valid_until": T0 + timedelta(days=1),
    }
    values.update(settings)
    await service.usecases.rooms.create_room(
        service.caller,
        "",
        room_id,
        RoomSettings(**values),
        roster or [],
    )


async def every_page(
    fetch: Callable[[int, str], Awaitable[Page[T]]], page_size: int
) -> list[list[T]]:
    """Every page of a list, following the tokens from the first page to the end."""
    pages: list[list[T]] = []
    token = ""
    while True:
        page = await fetch(page_size, token)
        pages.append(page.items)
        token = page.next_page_token
        if not token:
            return pages
        assert len(pages) < 1000, "the list does not end"
