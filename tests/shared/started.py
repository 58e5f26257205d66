"""Servers the tests start stop at the end of the scope that started them.

A server started while a fixture is set up belongs to that fixture's scope (pytest's
`pytest_fixture_setup` hook says which fixture is being set up); one started by a
test's own body belongs to the test. The conftest stops a test's servers after it, a
module's after the module, and the package's and session's at the end, so the
servers alive at once stay few (the suite fits a stock PostgreSQL's 100
connections)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from service.server import RunningServer

# The pool of a server a test starts, in-process or as a process (plus its LISTEN and
# health connections): the suite stays within a stock PostgreSQL's 100 connections.
POOL_MIN, POOL_MAX = 1, 2

# The scopes of the fixtures being set up now, innermost last. A plain list, not a
# context variable: pytest-asyncio runs each async fixture in a context of its own, and
# fixtures are set up one at a time (their event loop runs inside the setup call).
_SETTING_UP: list[str] = []


@contextlib.contextmanager
def setting_up(scope: str) -> Iterator[None]:
    _SETTING_UP.append(scope)
    try:
        yield
    finally:
        _SETTING_UP.pop()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any]) -> Any:
    """(A plugin of its own, `-p tests.shared.started` in pyproject.toml: a conftest's hook
    would not see the session's fixtures being set up.)"""
    with setting_up(fixturedef.scope):
        return (yield)


def current_scope() -> str:
    """The scope a server started now belongs to ("function" in a test's body)."""
    return _SETTING_UP[-1] if _SETTING_UP else "function"


@dataclass
class StartedServers:
    """Every server `start` made and not yet stopped, with the scope it belongs to."""

    running: list[tuple[RunningServer, str]] = field(default_factory=list)

    def add(self, running: RunningServer) -> None:
        self.running.append((running, current_scope()))

    async def stop(self, *scopes: str) -> None:
        """Stop the servers of these scopes, the newest first."""
        for running, scope in reversed(list(self.running)):
            if scope in scopes or not scopes:
                self.running.remove((running, scope))
                await running.stop(0)
