"""The delivery engine: delivers each room's events, in revision order, to every
destination of its tenant, at least once, from the history in PostgreSQL.

Work is a cursor per (destination, room), moved by the writer of each event in the
writer's transaction (see `service.storage.history.append_events`). A replica leases
due cursors (one tenant per statement, `FOR UPDATE SKIP LOCKED`), sends the events
after each one's position through the destination's sink, and moves the position
after each success. Leases are short (ROOMS_DELIVERY_LEASE_SECONDS, 3 s) and renewed
every third of that while the replica works on them, however long a request takes.
Nothing is held in memory that is not also in the database: a replica that stops
hands its leases back before it exits, so another replica goes on at its next pass; a
replica that dies leaves them to lapse within one lease. Either way the other replica
sends again from the last recorded position (the receiver sees the same delivery id).
A failure waits for an exponential backoff with jitter; after the retry period the
destination is marked failing and skipped until resumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import asyncpg

from service.delivery import metrics
from service.delivery.sink import Sink, Target
from service.domain.clock import Clock
from service.domain.delivery import EngineConfig, delivery_id
from service.domain.events import RoomEvent
from service.storage import delivery as sql

log = logging.getLogger(__name__)

_COALESCE_SECONDS = 0.01
_HAND_BACK_SECONDS = 2.0  # a stopping replica waits at most this long for it


@dataclass(frozen=True, slots=True)
class PassResult:
    tenants: int = 0  # tenants with a destination that is delivering
    claimed: int = 0
    delivered: int = 0
    failed: int = 0


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(32):08x}"


class DeliveryEngine:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        sinks: Sequence[Sink],
        config: EngineConfig | None = None,
        *,
        wake: Callable[[], AbstractContextManager[asyncio.Event]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._sinks = {sink.name: sink for sink in sinks}
        self._config = config or EngineConfig()
        self._wake = wake
        self._rng = rng or random.Random()
        self.owner = _owner()
        self._passes = itertools.count(1)
        self._stats_at = 0.0
        # The cursors this replica holds now, by tenant: their lease owners.
        self._held: dict[str, dict[str, int]] = {}

    async def run_once(self) -> PassResult:
        """One pass: lease what is due in every tenant and deliver it."""
        claimed = delivered = failed = 0
        tenants = await sql.tenants_with_destinations(self._pool)
        for tenant in tenants:
            now = self._clock.now()
            claims = await sql.claim(
                self._pool,
                tenant,
                f"{self.owner}/{next(self._passes)}",
                now,
                now + self._config.lease,
                self._config.claim_batch,
                list(self._sinks),
            )
            if not claims:
                continue
            claimed += len(claims)
            owners = self._held.setdefault(tenant, {})
            owners[claims[0].owner] = owners.get(claims[0].owner, 0) + len(claims)
            gate = asyncio.Semaphore(self._config.concurrency)
            for sent, lost in await asyncio.gather(*(self._gated(gate, c) for c in claims)):
                delivered += sent
                failed += lost
        return PassResult(len(tenants), claimed, delivered, failed)

    async def run(self) -> None:
        """Pass after pass until cancelled; between passes with nothing to do, wait for
        a notification of new events or the poll interval. The leases held are renewed
        meanwhile, and handed back when cancelled."""
        renewing = asyncio.create_task(self._renew_leases())
        try:
            await self._passes_until_cancelled()
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            await self.hand_back()

    async def hand_back(self) -> None:
        """Release every lease this replica holds, so that another replica takes the
        work over at its next pass (what was sent but not recorded is sent again)."""
        held, self._held = self._held, {}
        try:
            async with asyncio.timeout(_HAND_BACK_SECONDS):
                for tenant, owners in held.items():
                    await sql.release_owned(self._pool, tenant, list(owners))
        except Exception as error:  # the database may be away: the leases lapse
            log.warning("could not hand back every lease (%d tenants): %r", len(held), error)

    async def _renew_leases(self) -> None:
        """Every third of a lease, extend the leases of the work in progress."""
        interval = self._config.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            until = self._clock.now() + self._config.lease
            for tenant, owners in list(self._held.items()):
                try:
                    await sql.renew_owned(self._pool, tenant, list(owners), until)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # lapsing leases: another replica goes on
                    log.warning("could not renew the leases of %s: %r", tenant, error)

    async def _passes_until_cancelled(self) -> None:
        with self._subscription() as signal:
            while True:
                signal.clear()
                result = PassResult()
                try:
                    result = await self.run_once()
                    await self._refresh_stats()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the database may be away: try again later
                    log.warning("delivery pass failed: %r", error)
                if result.claimed:
                    continue
                if not result.tenants:
                    # Nobody to deliver to: notifications are not worth a pass.
                    await asyncio.sleep(self._config.poll_interval)
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._config.poll_interval):
                        await signal.wait()
                # Let a burst of commits gather into one pass.
                await asyncio.sleep(_COALESCE_SECONDS)

    @contextlib.contextmanager
    def _subscription(self) -> Iterator[asyncio.Event]:
        if self._wake is None:
            yield asyncio.Event()
            return
        with self._wake() as signal:
            yield signal

    async def _refresh_stats(self) -> None:
        if time.monotonic() - self._stats_at < self._config.stats_interval:
            return
        self._stats_at = time.monotonic()
        now = self._clock.now()
        stats = await sql.sink_stats(self._pool)
        for name in self._sinks:
            figures = stats.get(name, sql.SinkStats(0, None, 0))
            metrics.PENDING.labels(name).set(figures.pending_events)
            metrics.FAILING.labels(name).set(figures.failing_destinations)
            age = (
                (now - figures.oldest_pending_time).total_seconds()
                if figures.oldest_pending_time
                else 0.0
            )
            metrics.OLDEST_PENDING.labels(name).set(max(age, 0.0))

    async def _gated(self, gate: asyncio.Semaphore, claim: sql.Claim) -> tuple[int, int]:
        async with gate:
            result = await self._work(claim)
        # Cancelled (the replica is stopping), the claim stays held: `hand_back`.
        self._let_go(claim)
        return result

    def _let_go(self, claim: sql.Claim) -> None:
        """The claim is no longer this replica's work (released, failed, or lost)."""
        owners = self._held.get(claim.tenant)
        if owners is None or claim.owner not in owners:
            return
        owners[claim.owner] -= 1
        if owners[claim.owner] <= 0:
            del owners[claim.owner]
        if not owners:
            del self._held[claim.tenant]

    async def _work(self, claim: sql.Claim) -> tuple[int, int]:
        """Deliver a leased cursor's events; return (delivered, failed)."""
        try:
            return await self._deliver(claim)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Nothing was recorded past the last success: the lease lapses, and this
            # or another replica tries again from there.
            log.warning(
                "delivery to %s/%s (room %s) failed: %r",
                claim.tenant,
                claim.destination,
                claim.room_id,
                error,
            )
            with contextlib.suppress(Exception):
                await sql.release(self._pool, claim)
            return 0, 0

    async def _deliver(self, claim: sql.Claim) -> tuple[int, int]:
        sink = self._sinks[claim.sink]
        target = await sink.target(claim.tenant, claim.destination)
        if target is None:
            await self._failed(claim, "the destination is not configured", fresh_head=False)
            return 0, 1
        stored = await sql.read_events(
            self._pool, claim.tenant, claim.room_id, claim.delivered, self._config.events_per_claim
        )
        position = recorded = claim.delivered
        delivered = 0
        for item in stored:
            event = item.event
            if event.revision != position + 1:
                log.warning(
                    "events %d..%d of room %s/%s were purged before delivery to %s",
                    position + 1,
                    event.revision - 1,
                    claim.tenant,
                    claim.room_id,
                    claim.destination,
                )
            if not target.wants(event):
                position = event.revision
                continue
            message_id = delivery_id(claim.tenant, claim.destination, claim.room_id, event.revision)
            error = await self._send(target, event, message_id)
            if error is not None:
                metrics.ATTEMPTS.labels(claim.sink, "failed").inc()
                # What was passed over is done: the failure belongs to this event.
                if position > recorded and not await self._advance(claim, position, False):
                    return delivered, 1
                await self._failed(claim, error, fresh_head=position > claim.delivered)
                return delivered, 1
            now = self._clock.now()
            metrics.ATTEMPTS.labels(claim.sink, "delivered").inc()
            metrics.LAG.labels(claim.sink).observe(max((now - item.record_time).total_seconds(), 0))
            position = recorded = event.revision
            delivered += 1
            if not await self._advance(claim, position, True):
                return delivered, 0  # another replica has the cursor now
        if position > recorded and not await self._advance(claim, position, False):
            return delivered, 0
        await sql.release(self._pool, claim)
        return delivered, 0

    async def _send(self, target: Target, event: RoomEvent, message_id: str) -> str | None:
        try:
            return await target.send(event, message_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a sink's bug must not stop the engine
            log.exception("sink failed on %s", message_id)
            return f"internal error ({type(error).__name__})"

    async def _advance(self, claim: sql.Claim, revision: int, success: bool) -> bool:
        now = self._clock.now()
        return await sql.advance(
            self._pool,
            claim,
            revision,
            now + self._config.lease,
            now if success else None,
        )

    async def _failed(self, claim: sql.Claim, error: str, *, fresh_head: bool) -> None:
        """Schedule the next attempt at the cursor's head event, or give up on the
        destination once that event has failed for the whole retry period.
        `fresh_head`: the head moved in this pass, so its failures start now."""
        now = self._clock.now()
        if fresh_head or claim.first_failure_time is None:
            attempts, first = 1, now
        else:
            attempts, first = claim.attempts + 1, claim.first_failure_time
        retry = self._config.retry
        give_up = retry.gives_up(first, now)
        await sql.fail(
            self._pool,
            claim,
            attempts=attempts,
            first_failure_time=first,
            next_attempt_time=now + retry.delay(attempts, self._rng),
            error=error[:500],
            now=now,
            give_up=give_up,
        )
        if give_up:
            metrics.GAVE_UP.labels(claim.sink).inc()
            log.warning(
                "delivery to %s of tenant %s is failing: gave up after %s (%s)",
                claim.destination,
                claim.tenant,
                retry.period,
                error[:200],
            )
