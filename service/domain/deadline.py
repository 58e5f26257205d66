"""The current call's deadline, set by the gRPC edge and read by storage, so database
work never outlives the caller's patience (nor the server's maximum)."""

from __future__ import annotations

import time
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("rooms_call_deadline", default=None)


def set_remaining(seconds: float | None) -> None:
    """Record the time the current call has left (None: no deadline)."""
    _deadline.set(None if seconds is None else time.monotonic() + seconds)


def remaining(ceiling: float) -> float:
    """Seconds left for the current call, at most `ceiling`; may be <= 0."""
    deadline = _deadline.get()
    if deadline is None:
        return ceiling
    return min(ceiling, deadline - time.monotonic())
