"""The calendar function's use cases (no grpc, no asyncpg): a room's occurrences, and
calendar feeds (rooms.v1.CalendarService, and the feed server's reads)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from service.domain import calendar, recurrence, rules
from service.domain.calendar import CalendarFeed, CalendarStore, FeedEntry
from service.domain.clock import epoch_micros, from_epoch_micros
from service.domain.errors import DomainError, ErrorReason, Violations, room_not_found
from service.domain.models import Caller, Page
from service.domain.paging import Keyset, by_time_and_key
from service.domain.recurrence import Occurrence
from service.usecases.deps import Deps


def feed_not_found(feed_id: str) -> DomainError:
    return DomainError(
        ErrorReason.CALENDAR_FEED_NOT_FOUND,
        f"calendar feed {feed_id[:128]!r} not found",
        metadata={"feed_id": feed_id[:128]},
    )


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """A feed's iCalendar text and its entity tag."""

    body: bytes
    etag: str


# A feed's text from its tenant, entries and name (`calendar.ics.calendar_of`, the
# iCalendar format, which the feed server owns), passed in by the wiring.
RenderFeed = Callable[[str, Sequence[FeedEntry], str], bytes]


# Occurrences are paged by their start (they never overlap: one per start).
_BY_START: Keyset[Occurrence, int] = Keyset(
    lambda o: epoch_micros(o.start),
    lambda micros: [micros],
    lambda cursor: int(cursor[0]),
    (int,),
)


class CalendarUseCases:
    """ListOccurrences, and CreateCalendarFeed, ListCalendarFeeds and DeleteCalendarFeed
    on the feeds' store (`feeds`); the feed server's reads (`render_feed`)."""

    def __init__(
        self,
        deps: Deps,
        *,
        feeds: CalendarStore | None,
        public_url: str,
        render_feed: RenderFeed,
    ) -> None:
        self._rooms = deps.store
        self._render_feed = render_feed
        self._feeds = feeds
        self._clock = deps.clock
        self._limits = deps.limits
        self._pages = deps.pages
        self._public_url = public_url.rstrip("/")

    # ---- occurrences ------------------------------------------------------

    async def list_occurrences(
        self,
        caller: Caller,
        room_id: str,
        start: datetime | None,
        end: datetime | None,
        page_size: int,
        page_token: str,
    ) -> tuple[Page[Occurrence], datetime]:
        """The room's occurrences overlapping [start, end), and the time of the call."""
        rules.require_room_id(room_id)
        rules.page_size(page_size, self._limits)
        room = await self._rooms.get_room(tenant=caller.tenant, room_id=room_id)
        if room is None:
            raise room_not_found(room_id)
        found = room.occurrences()
        if start is not None or end is not None:
            found = tuple(
                recurrence.between(
                    found,
                    start or found[0].start,
                    end or found[-1].end,
                )
            )
        bounds = [str(epoch_micros(b)) if b is not None else "" for b in (start, end)]

        async def fetch(after: int | None, n: int) -> list[Occurrence]:
            floor = from_epoch_micros(after) if after is not None else None
            return [o for o in found if floor is None or o.start > floor][:n]

        page = await self._pages.page(
            ["occurrences", caller.tenant, room_id, *bounds],
            page_size,
            page_token,
            _BY_START,
            fetch,
        )
        assert page is not None
        return page, self._clock.now()

    # ---- feeds ------------------------------------------------------------

    def _store(self) -> CalendarStore:
        if self._feeds is None:
            raise DomainError(
                ErrorReason.INVALID_ARGUMENT, "calendar feeds need the PostgreSQL storage"
            )
        return self._feeds

    def set_public_url(self, public_url: str) -> None:
        self._public_url = public_url.rstrip("/")

    def url_of(self, tenant: str, feed_id: str, secret: str) -> str:
        return f"{self._public_url}/calendar/{calendar.token_of(tenant, feed_id, secret)}.ics"

    async def create_feed(
        self, caller: Caller, room_id: str, user_id: str
    ) -> tuple[CalendarFeed, str]:
        """A new feed and its URL (returned once)."""
        violations = Violations()
        if bool(room_id) == bool(user_id):
            violations.add("feed.room_id", "exactly one of room_id and user_id must be set")
        elif room_id:
            rules.check_room_id(violations, "feed.room_id", room_id)
        else:
            rules.check_user_id(violations, "feed.user_id", user_id)
        violations.raise_if_any()
        store = self._store()
        if room_id and await self._rooms.get_room(tenant=caller.tenant, room_id=room_id) is None:
            raise room_not_found(room_id)
        secret = calendar.new_secret()
        feed = CalendarFeed(calendar.new_feed_id(), room_id, user_id, self._clock.now())
        await store.create_feed(
            tenant=caller.tenant, feed=feed, secret_hash=calendar.secret_hash(secret)
        )
        return feed, self.url_of(caller.tenant, feed.feed_id, secret)

    async def list_feeds(
        self, caller: Caller, page_size: int, page_token: str
    ) -> Page[CalendarFeed]:
        store = self._store()
        page = await self._pages.page(
            ["calendar_feeds", caller.tenant],
            page_size,
            page_token,
            by_time_and_key(lambda feed: (feed.create_time, feed.feed_id)),
            lambda after, n: store.list_feeds(tenant=caller.tenant, after=after, limit=n),
        )
        assert page is not None
        return page

    async def delete_feed(self, caller: Caller, feed_id: str) -> None:
        violations = Violations()
        rules.check_room_id(violations, "feed_id", feed_id)
        violations.raise_if_any()
        if not await self._store().delete_feed(tenant=caller.tenant, feed_id=feed_id):
            raise feed_not_found(feed_id)

    async def render_feed(self, token: str) -> RenderedFeed | None:
        """The feed a capability token names, as iCalendar; None for a token that names
        no feed (malformed, wrong secret, deleted, of no tenant)."""
        parts = calendar.parse_token(token)
        if parts is None or self._feeds is None:
            return None
        found = await self._feeds.find_feed(tenant=parts.tenant, feed_id=parts.feed_id)
        if found is None or not calendar.secret_matches(parts.secret, found[1]):
            return None
        feed = found[0]
        entries = await self._feeds.feed_entries(tenant=parts.tenant, feed=feed)
        name = f"rooms: {feed.room_id}" if feed.room_id else f"rooms of {feed.user_id}"
        body = self._render_feed(parts.tenant, entries, name)
        return RenderedFeed(body, calendar.etag_of_body(body))
