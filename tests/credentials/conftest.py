"""One server for the package with two tenants' media configuration (acme: LiveKit
and Jitsi; beta: LiveKit), its metrics listener serving the signing keys, and the
server's clock at the wall clock (the peers' verifiers read it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rooms.v1 import (
    credentials_service_pb2_grpc,
)

from service.domain.clock import ManualClock
from service.security.keys import new_key
from tests.conftest import ServerFactory
from tests.credentials.tenants import (
    ACME_JITSI_SECRET,
    ACME_LIVEKIT_SECRET,
    BETA_LIVEKIT_SECRET,
    Setup,
    Tenant,
)
from tests.shared.calls import connect


@pytest.fixture(scope="package")
def media_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    (folder / "acme-jitsi.secret").write_text(ACME_JITSI_SECRET + "\n")
    config = folder / "media.toml"
    config.write_text(
        f"""
[tenants.acme.livekit]
url = "wss://livekit.acme.example"
api_key = "APIacme"
api_secret = "{ACME_LIVEKIT_SECRET}"

[tenants.acme.jitsi]
url = "https://meet.acme.example"
app_id = "acme-app"
secret_file = "acme-jitsi.secret"
audience = "jitsi"
subject = "meet.acme.example"

[tenants.beta.livekit]
url = "wss://livekit.beta.example"
api_key = "APIbeta"
api_secret = "{BETA_LIVEKIT_SECRET}"
"""
    )
    return config


@pytest.fixture(scope="package")
async def setup(start: ServerFactory, media_file: Path) -> AsyncIterator[Setup]:
    acme_key, acme_entry = new_key("acme", "app")
    beta_key, beta_entry = new_key("beta", "app")
    running = await start(
        api_keys=f"{acme_entry.line()},{beta_entry.line()}",
        media_config_file=media_file,
        metrics_address="127.0.0.1:0",
    )
    assert running.exporter is not None
    async with connect(running.port) as stubs:

        def tenant(key: str) -> Tenant:
            return Tenant(
                key,
                stubs.rooms,
                stubs.participants,
                credentials_service_pb2_grpc.CredentialsServiceStub(stubs.channel),
            )

        yield Setup(
            running,
            tenant(acme_key),
            tenant(beta_key),
            f"http://127.0.0.1:{running.exporter.port}/.well-known/jwks.json",
        )


@pytest.fixture(autouse=True)
def wall_clock(clock: ManualClock, _reset_clock: None) -> datetime:
    """LiveKit's and PyJWT's verifiers read the wall clock: so does the server here."""
    now = datetime.now(UTC).replace(microsecond=0)
    clock.set(now)
    return now
