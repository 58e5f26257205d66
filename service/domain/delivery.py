"""Rules of delivering room events to other systems: when to retry, when to give up,
and the stable id of one delivery."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, for up to `period` after the first failure."""

    period: timedelta = timedelta(hours=24)
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """How long to wait after the `attempts`-th failure in a row: the doubled
        delay, capped, scaled by a random factor in [0.5, 1) ("equal jitter"), so
        receivers coming back are not hit by every sender at once."""
        base = min(self.first_delay * (2 ** min(max(attempts - 1, 0), 40)), self.max_delay)
        factor: float = 0.5 + (rng or random).random() / 2
        delay: timedelta = base * factor
        return delay

    def gives_up(self, first_failure: datetime, now: datetime) -> bool:
        return now - first_failure >= self.period


def delivery_id(tenant: str, destination: str, room_id: str, revision: int) -> str:
    """The id of delivering one event to one destination: the same on every retry and
    every replica (Standard Webhooks' `webhook-id`, the receiver's deduplication key)."""
    digest = hashlib.sha256(
        "\x1f".join((tenant, destination, room_id, str(revision))).encode()
    ).hexdigest()
    return f"msg_{digest[:32]}"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How a replica's delivery engine works (service/delivery/engine.py)."""

    poll_interval: float = 1.0  # seconds between passes when nothing is known to be new
    lease: timedelta = timedelta(seconds=3)  # renewed every third of it while working
    claim_batch: int = 100  # cursors leased per tenant and pass
    events_per_claim: int = 100  # events sent per cursor before releasing it
    concurrency: int = 16  # cursors worked on at once by this replica
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stats_interval: float = 10.0  # seconds between refreshes of the gauges
