"""The configurable limits the rules enforce, with their documented defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Limits:
    """Every bound the domain enforces. The server builds it from its settings."""

    # Validity window (the product's rules: see docs/ and the README).
    default_window: timedelta = timedelta(days=180)
    max_window: timedelta = timedelta(days=180)
    max_start_ahead: timedelta = timedelta(days=180)
    max_early_entry: timedelta = timedelta(hours=24)
    # Rosters.
    max_roster_size: int = 10_000
    max_batch_size: int = 1_000
    # Metadata.
    max_metadata_entries: int = 32
    max_metadata_key_length: int = 64
    max_metadata_value_length: int = 512
    # Seats: how long a seat lives unrenewed, and the most seats any room holds.
    seat_ttl: timedelta = timedelta(seconds=60)
    max_participants_ceiling: int = 350
    # Paging.
    default_page_size: int = 50
    max_page_size: int = 500
    # Watching.
    watch_batch_size: int = 100
    watch_max_lag: int = 10_000
    watch_poll_interval: timedelta = timedelta(seconds=5)
    # Join credentials: the longest lifetime (never past the room's valid_until).
    credential_ttl: timedelta = timedelta(seconds=600)
