"""rooms as Janus's control plane: one adapter per tenant's Janus, what AuthorizeJoin
does there before it answers (`admit`), and making a room's VideoRoom match the
database (`sync_room`, and `check_once` after Janus was down or restarted).

Who may be in a VideoRoom is always computed from the database at the moment of the
change (`service.storage.janus.room_facts` -> `service.domain.janus.admitted_now`), never
from a plan held in memory, so replicas agree and a late retry does no harm.

Races, and why they are safe (docs/janus.md, "Ordering"):
- every write that takes someone out (a removal, a ban, a denial, a role change that
  forbids publishing) bumps the room's version and the identity's epoch in one
  transaction, and the delivery of its event removes the old tokens afterwards;
- `admit` adds a token to Janus first and records the admission second, on the
  condition that the room's version is still the one the decision saw: a removal
  committed before the record makes AuthorizeJoin retract and decide again, and one
  committed after it is delivered after the token was added, so it removes it;
- `sync_room` re-reads the room after changing Janus and goes again if it changed, so a
  removal committed while it worked is never undone by it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from service.domain.clock import Clock
from service.domain.credentials import CredentialFormat, not_configured
from service.domain.errors import DomainError, ErrorReason
from service.domain.janus import Admitted, admitted_now
from service.domain.models import Role
from service.http_client import HttpClient
from service.media.janus import tokens
from service.media.janus.client import JanusError, JanusUnavailable, VideoRoomError
from service.media.janus.config import JanusConfig
from service.media.janus.plan import JanusRoomPlan, moderated_mids, plan_room
from service.media.janus.videoroom import NO_SUCH_ROOM, JanusVideoRooms
from service.storage import janus as janus_sql

log = logging.getLogger(__name__)

# What Janus may answer instead of doing what was asked.
JANUS_FAILURES = (JanusUnavailable, JanusError, VideoRoomError)

_RECHECKS = 5  # sync passes of one room before giving up until the next change
_PAGE = 100  # rooms read per statement by a reconcile of every room
_OWN_TOKEN_LIFETIME = timedelta(minutes=2)  # rooms' own subscriber token (moderation)


@dataclass(frozen=True, slots=True)
class TenantJanus:
    """A tenant's Janus: its configuration and the adapter (one session) for it."""

    config: JanusConfig
    rooms: JanusVideoRooms

    @property
    def room_secret(self) -> bytes:
        return self.config.room_key

    def plan(self, tenant: str, room_id: str, admitted: dict[str, Admitted]) -> JanusRoomPlan:
        return plan_room(self.config.token_auth_key, self.room_secret, tenant, room_id, admitted)

    def sentinel(self, tenant: str) -> JanusRoomPlan:
        """The sentinel VideoRoom: admits nobody; its absence means Janus restarted."""
        return JanusRoomPlan(
            number=tokens.sentinel_number(tenant),
            # "" is no room id (ids are never empty): a secret no room shares.
            secret=tokens.room_secret(self.room_secret, tenant, ""),
            description="rooms sentinel",
            members=(),
        )


class JanusControl:
    """The Janus side of rooms, for every tenant with a `janus` table. Implements the
    use cases' `MediaControl` port; used by the Janus delivery sink and the check."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        janus_for: Callable[[str], JanusConfig | None],
        tenants: list[str],
        http: HttpClient,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._janus_for = janus_for
        self.tenants = list(tenants)
        self._http = http
        self._adapters: dict[str, TenantJanus] = {}
        # Tenants whose Janus did not answer the last check (or that were never
        # checked by this process): the next good check reconciles every room.
        self._unsure: set[str] = set(tenants)

    def tenant(self, tenant: str) -> TenantJanus | None:
        config = self._janus_for(tenant)
        if config is None:
            return None
        known = self._adapters.get(tenant)
        if known is None or known.config != config:
            # Rooms' own requests carry core tokens on the wall clock: Janus checks
            # them against its own.
            known = TenantJanus(config, JanusVideoRooms(config, http=self._http))
            self._adapters[tenant] = known
        return known

    async def close(self) -> None:
        for adapter in self._adapters.values():
            try:
                await adapter.rooms.aclose()
            except Exception as error:  # closing is best effort
                log.debug("closing a Janus session failed: %r", error)
        self._adapters.clear()

    # ---- AuthorizeJoin --------------------------------------------------

    async def admit(
        self, tenant: str, room_id: str, user_id: str, role: Role, epoch: int, until: datetime
    ) -> None:
        target = self.tenant(tenant)
        if target is None:
            raise not_configured(CredentialFormat.JANUS)
        plan = target.plan(tenant, room_id, {user_id: Admitted(role, epoch, until)})
        try:
            if not plan.allowed:
                # A subscriber only: its token is checked by the room's signature, not
                # the allowed list; the room must exist.
                await target.rooms.ensure_room(plan)
                return
            try:
                await target.rooms.allow(plan.number, plan.secret, plan.allowed)
            except VideoRoomError as error:
                if error.code != NO_SUCH_ROOM:
                    raise
                # Not there yet (created on demand): make it with this token; the
                # room's OPENED delivery or a reconcile adds the others.
                await target.rooms.ensure_room(plan)
        except JANUS_FAILURES as error:
            log.warning("Janus of tenant %s refused an admission to %s: %s", tenant, room_id, error)
            raise DomainError(
                ErrorReason.MEDIA_SERVER_UNAVAILABLE,
                "the room's media server (Janus) could not admit the identity; retry later",
                metadata={"room_id": room_id},
            ) from None

    async def retract(
        self, tenant: str, room_id: str, user_id: str, epoch: int, until: datetime
    ) -> None:
        target = self.tenant(tenant)
        if target is None:
            return
        token = tokens.join_token(
            target.config.token_auth_key, tenant, room_id, user_id, epoch, until
        )
        number = tokens.room_number(tenant, room_id)
        secret = tokens.room_secret(target.room_secret, tenant, room_id)
        try:
            await target.rooms.disallow(number, secret, [token])
        except JANUS_FAILURES as error:
            log.warning(
                "Janus of tenant %s: retracting a token in %s failed: %s", tenant, room_id, error
            )

    # ---- following the database -------------------------------------------

    async def sync_room(self, tenant: str, room_id: str) -> None:
        """Make the room's VideoRoom match the database now: destroyed when the room is
        deleted or ended, absent (destroyed) while nobody may enter yet, else
        reconciled to the identities admitted now. Raises what Janus raises."""
        target = self.tenant(tenant)
        if target is None:
            return
        for _ in range(_RECHECKS):
            facts = await janus_sql.room_facts(self._pool, tenant, room_id)
            now = self._clock.now()
            if facts is None or not _joinable(facts, now):
                await self.destroy(tenant, room_id)
                return
            admitted = admitted_now(facts.room, facts.candidates, now)
            await target.rooms.reconcile(target.plan(tenant, room_id, admitted))
            again = await janus_sql.room_facts(self._pool, tenant, room_id)
            if again is not None and again.version == facts.version:
                return
        log.warning("room %s/%s kept changing while its VideoRoom was reconciled", tenant, room_id)

    async def destroy(self, tenant: str, room_id: str) -> None:
        target = self.tenant(tenant)
        if target is None:
            return
        number = tokens.room_number(tenant, room_id)
        await target.rooms.destroy(number, tokens.room_secret(target.room_secret, tenant, room_id))

    async def evict(self, tenant: str, room_id: str, user_id: str) -> None:
        """Take an identity out of the VideoRoom as a publisher: every token of its in the
        allowed list (earlier epochs, other window ends, and its current one unless it is
        still admitted with the right to publish) leaves the list, then its publisher
        participant (joined with a token of an earlier epoch) is kicked. While still
        admitted it may come back as a subscriber. Raises what Janus raises."""
        target = self.tenant(tenant)
        if target is None:
            return
        facts = await janus_sql.room_facts(self._pool, tenant, room_id)
        now = self._clock.now()
        if facts is None or now >= facts.room.window(now)[1]:
            await self.destroy(tenant, room_id)
            return
        plan = target.plan(tenant, room_id, admitted_now(facts.room, facts.candidates, now))
        member = plan.member(user_id)
        keep = member.join_token if member is not None and member.permissions.publish else None
        current = await target.rooms.allowed_tokens(plan.number, plan.secret)
        if current is None:
            return  # no VideoRoom: nobody is in it
        pid = tokens.participant_id(tenant, room_id, user_id)
        await target.rooms.disallow(
            plan.number, plan.secret, tokens.stale_tokens(current, plan.number, pid, keep)
        )
        # The session joined with a token of an earlier epoch: out it goes.
        await target.rooms.kick(plan.number, plan.secret, pid)

    async def moderate(
        self, tenant: str, room_id: str, user_id: str, *, muted: bool, video: bool
    ) -> int:
        """Mute (or unmute) the identity's published streams: its audio, and its video
        when `video`. The streams are learnt as a subscriber learns them (rooms signs
        a subscriber token for the room: the Janus the project runs has neither the
        Admin API nor event handlers). Returns how many streams were moderated; 0 when
        it publishes nothing now. Raises what Janus raises."""
        target = self.tenant(tenant)
        if target is None:
            return 0
        number = tokens.room_number(tenant, room_id)
        secret = tokens.room_secret(target.room_secret, tenant, room_id)
        pid = tokens.participant_id(tenant, room_id, user_id)
        own = tokens.room_token(
            target.config.token_auth_key, number, self._clock.now() + _OWN_TOKEN_LIFETIME
        )
        streams = await target.rooms.feed_streams(number, own, pid)
        done = 0
        for mid in moderated_mids(streams, video):
            if await target.rooms.moderate(number, secret, pid, mid, muted):
                done += 1
        return done

    # ---- after Janus was down or restarted ----------------------------------

    async def check_once(self) -> int:
        """For each tenant: is its Janus there, and does it still hold the sentinel room?
        When Janus did not answer the previous check, or the sentinel is gone (Janus
        restarted and forgot every room), reconcile every room open now, then make the
        sentinel. Returns how many rooms were reconciled."""
        reconciled = 0
        for tenant in self.tenants:
            target = self.tenant(tenant)
            if target is None:
                continue
            sentinel = target.sentinel(tenant)
            try:
                present = await target.rooms.exists(sentinel.number)
                if present and tenant not in self._unsure:
                    continue
                reconciled += await self._reconcile_all(tenant)
                await target.rooms.ensure_room(sentinel)
            except JANUS_FAILURES as error:
                if tenant not in self._unsure:
                    log.warning("Janus of tenant %s is unavailable: %s", tenant, error)
                self._unsure.add(tenant)
                continue
            if tenant in self._unsure and present:
                log.info("Janus of tenant %s checked: %d rooms reconciled", tenant, reconciled)
            elif not present:
                log.warning(
                    "Janus of tenant %s had lost its rooms (restarted?): %d rooms restored",
                    tenant,
                    reconciled,
                )
            self._unsure.discard(tenant)
        return reconciled

    async def _reconcile_all(self, tenant: str) -> int:
        count, after = 0, ""
        while True:
            room_ids = await janus_sql.joinable_rooms(
                self._pool, tenant, self._clock.now(), after, _PAGE
            )
            for room_id in room_ids:
                await self.sync_room(tenant, room_id)
                count += 1
            if len(room_ids) < _PAGE:
                return count
            after = room_ids[-1]


def _joinable(facts: janus_sql.RoomFacts, now: datetime) -> bool:
    """Whether anyone may be in the room at `now` (early entry included)."""
    room = facts.room
    valid_from, valid_until = room.window(now)  # a recurring room's occurrence
    return valid_from - room.early_entry <= now < valid_until
