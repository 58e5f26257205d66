"""The ACS REST API's tests: one server per module on the wall clock (the Azure SDKs
send windows relative to the real time), HTTPS with a trustme CA, and access keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import trustme

from service.config import Settings
from service.domain.acs import connection_string, new_acs_key
from service.domain.clock import SystemClock
from service.server import RunningServer, start_server
from service.storage import acs_keys


@dataclass(frozen=True)
class Tls:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def acs_tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    folder = tmp_path_factory.mktemp("acs-tls")
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    tls = Tls(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    ca.cert_pem.write_to_path(str(tls.ca))
    issued.private_key_and_cert_chain_pem.write_to_path(str(tls.cert))
    issued.private_key_pem.write_to_path(str(tls.key))
    return tls


@pytest.fixture(scope="module")
def acs_settings() -> dict[str, Any]:
    """More settings of the module's server (a module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
async def acs_server(
    database_url: str, acs_tls: Tls, acs_settings: dict[str, Any]
) -> AsyncIterator[RunningServer]:
    """A server with the ACS API on https://127.0.0.1:<free port>, page size 2."""
    settings = Settings(
        _env_file=None,
        **{
            "health_check_interval_seconds": 0.2,
            "lifecycle_interval_seconds": 0,
            "delivery_poll_seconds": 0,
            "acs_listen_address": "127.0.0.1:0",
            "acs_tls_cert_file": acs_tls.cert,
            "acs_tls_key_file": acs_tls.key,
            "acs_page_size": 2,
            **acs_settings,
        },
    )
    running = await start_server(settings, database_url, clock=SystemClock(), address="127.0.0.1:0")
    yield running
    await running.stop(0)


def endpoint_of(server: RunningServer) -> str:
    assert server.acs is not None
    return f"https://127.0.0.1:{server.acs.port}/"


async def new_connection_string(pool: asyncpg.Pool, tenant: str, endpoint: str) -> tuple[str, str]:
    """A new key of `tenant`: its connection string and its id."""
    key = new_acs_key(tenant)
    await acs_keys.add_key(pool, key, SystemClock().now())
    return connection_string(endpoint, key), key.key_id


@pytest.fixture
def trust_ca(acs_tls: Tls, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The sync SDK (requests) trusts the CA: REQUESTS_CA_BUNDLE."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(acs_tls.ca))
    yield acs_tls.ca
