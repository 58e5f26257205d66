"""What every group of use cases holds: the store, the clock, the limits, the pager
and the optional notifier, credential signer and media control."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from service.domain.admission import JoinDecision
from service.domain.clock import Clock
from service.domain.limits import Limits
from service.domain.media_ports import CredentialSigner, MediaControl
from service.domain.models import NO_OWN_WINDOW, Room
from service.domain.paging import Pager, PageTokens
from service.domain.waiting_room import decide_with_waiting_room

if TYPE_CHECKING:  # the store is passed in by the composition root (service/server.py)
    from service.storage.notify import EventHub
    from service.storage.repository import PgRoomStore

# How many times an update re-reads and retries after a concurrent change.
UPDATE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Judged:
    """An identity's join decision now, and the room version it was read at."""

    room: Room | None
    epoch: int
    now: datetime
    decision: JoinDecision


class UseCasesBase:
    """The dependencies of the use cases."""

    def __init__(
        self,
        store: PgRoomStore,
        clock: Clock,
        limits: Limits,
        page_tokens: PageTokens,
        notifier: EventHub | None = None,
        credentials: CredentialSigner | None = None,
        media: MediaControl | None = None,
    ) -> None:
        self._credentials = credentials
        self._media = media
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._limits = limits
        self._pages = Pager(page_tokens, limits)

    @property
    def limits(self) -> Limits:
        """The limits the rules apply (the edge checks a batch's size before converting it)."""
        return self._limits

    async def judge_join(self, tenant: str, room_id: str, user_id: str) -> Judged:
        """How `user_id` would be judged joining now (roster, ban, window, waiting room):
        what AuthorizeJoin answers and what ModerateParticipant requires of its actor."""
        room, participant, knock, removal, epoch = await self._store.get_join_facts(
            tenant=tenant, room_id=room_id, user_id=user_id
        )
        now = self._clock.now()
        decision = decide_with_waiting_room(
            room,
            participant.role if participant else None,
            knock,
            now,
            banned=removal is not None and removal.banned,
            window=participant.window if participant else NO_OWN_WINDOW,
        )
        return Judged(room, epoch, now, decision)
