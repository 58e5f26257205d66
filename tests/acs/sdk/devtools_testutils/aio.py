"""`recorded_by_proxy_async`: the async twin of `recorded_by_proxy` (live runs only)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from . import _live_only

F = TypeVar("F", bound=Callable[..., Coroutine[Any, Any, Any]])


def recorded_by_proxy_async(test: F) -> F:
    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> Any:
        _live_only()
        return await test(*args, **kwargs)

    return run  # type: ignore[return-value]
