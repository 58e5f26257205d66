"""Prometheus metrics of the delivery engine."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ATTEMPTS = Counter(
    "rooms_delivery_attempts",
    "Attempts to deliver an event, by sink and outcome (delivered, failed).",
    ["sink", "outcome"],
)
GAVE_UP = Counter(
    "rooms_delivery_gave_up",
    "Destinations marked failing after the retry period, by sink.",
    ["sink"],
)
LAG = Histogram(
    "rooms_delivery_lag_seconds",
    "From an event being written to its delivery, by sink.",
    ["sink"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
)
PENDING = Gauge(
    "rooms_delivery_pending_events", "Events written but not yet delivered, by sink.", ["sink"]
)
OLDEST_PENDING = Gauge(
    "rooms_delivery_oldest_pending_age_seconds",
    "Age of the oldest event not yet delivered, by sink (0 when none).",
    ["sink"],
)
FAILING = Gauge(
    "rooms_delivery_failing_destinations",
    "Destinations whose delivery stopped after the retry period, by sink.",
    ["sink"],
)
