"""The use cases over `PgRoomStore` on the run's database, without a server: what
tests/integration/test_usecases_*.py build on. Each service works in a tenant of its
own, so the tests share the session's database and need no truncation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg

from service.domain.clock import ManualClock
from service.domain.limits import Limits
from service.domain.models import Caller, Page, RoomSettings, RosterEntry
from service.domain.paging import PageTokens
from service.storage.notify import EventHub
from service.storage.repository import PgRoomStore
from service.usecases.admission import AdmissionUseCases
from service.usecases.deps import Deps
from service.usecases.history import HistoryUseCases
from service.usecases.participants import ParticipantUseCases
from service.usecases.rooms import RoomUseCases
from service.usecases.seats import SeatUseCases
from service.usecases.waiting_room import WaitingRoomUseCases
from tests.conftest import T0
from tests.shared.calls import unique

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Areas:
    """The use-case areas these tests call, on one set of dependencies."""

    rooms: RoomUseCases
    participants: ParticipantUseCases
    history: HistoryUseCases
    admission: AdmissionUseCases
    waiting_room: WaitingRoomUseCases
    seats: SeatUseCases


@dataclass
class Service:
    store: PgRoomStore
    usecases: Areas
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
    usecases = Areas(
        rooms=RoomUseCases(deps),
        participants=ParticipantUseCases(deps),
        history=HistoryUseCases(deps),
        admission=AdmissionUseCases(deps),
        waiting_room=WaitingRoomUseCases(deps),
        seats=SeatUseCases(deps),
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
