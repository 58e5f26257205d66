"""The `test_proxy` fixture the SDK's conftest.py asks for: in a live run there is no
proxy to start, so it only checks that the run is live."""

from __future__ import annotations

import pytest

from . import _live_only


@pytest.fixture(scope="session")
def test_proxy() -> None:
    _live_only()
