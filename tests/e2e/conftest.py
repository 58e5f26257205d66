"""Fixtures the end-to-end packages share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import LoggedErrors, logged_errors


@pytest.fixture
def server_errors() -> Iterator[LoggedErrors]:
    """What the server (and grpc, and the client) log at ERROR or above during the test."""
    with logged_errors("service", "grpc", "rooms") as handler:
        yield handler
