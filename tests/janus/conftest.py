"""Fixtures for tests against a real Janus: the server, rooms' adapter for it, and a
participant's signalling written with plain HTTP (what a WebRTC client sends)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from service.media.janus.config import JanusConfig
from service.media.janus.tokens import VIDEOROOM_PLUGIN, core_token
from service.media.janus.videoroom import JanusVideoRooms
from tests.janus.harness import JANUS, MISSING, JanusServer

# Janus checks token expiry against its own wall clock, so these tokens use it too.
ONE_HOUR = timedelta(hours=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if JANUS is None and os.environ.get("ROOMS_TEST_REQUIRE_JANUS") == "1":
        raise pytest.UsageError(MISSING + ", and ROOMS_TEST_REQUIRE_JANUS=1 forbids skipping")
    for item in items:
        path = str(item.path).replace("\\", "/")
        # The pure rules (test_rules_*.py) need no Janus: unmarked, never skipped.
        if "tests/janus/" in path and not item.path.name.startswith("test_rules_"):
            item.add_marker(pytest.mark.janus)
            if JANUS is None:
                item.add_marker(pytest.mark.skip(reason=MISSING))


async def started(tmp: Path) -> JanusServer:
    server = JanusServer(tmp)
    await server.start()
    return server


@pytest.fixture(scope="session")
async def janus(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[JanusServer]:
    """One Janus for the tests that do not restart it."""
    server = await started(tmp_path_factory.mktemp("janus"))
    try:
        yield server
    finally:
        await server.stop()


def janus_config(server: JanusServer, *, admin_key: bool = True) -> JanusConfig:
    return JanusConfig(
        url=server.url,
        token_auth_secret=SecretStr(server.token_auth_secret),
        room_secret=SecretStr(secrets.token_urlsafe(32)),
        admin_key=SecretStr(server.admin_key) if admin_key else None,
    )


@pytest.fixture
async def rooms_janus(janus: JanusServer) -> AsyncIterator[tuple[JanusConfig, JanusVideoRooms]]:
    config = janus_config(janus)
    adapter = JanusVideoRooms(config)
    try:
        yield config, adapter
    finally:
        await adapter.aclose()


class Signalling:
    """A participant's client: the Janus HTTP API calls a WebRTC client makes before any
    media flows (session, attach to the VideoRoom, join, long-poll for events)."""

    def __init__(self, url: str, core: str) -> None:
        self.url = url
        self.core = core
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=40.0))
        self.path = ""

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        transaction = secrets.token_hex(6)
        response = await self.http.post(
            self.url + path, json={**body, "transaction": transaction, "token": self.core}
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    async def attach(self) -> dict[str, Any]:
        """Create a session and attach to the VideoRoom; the first error Janus answers."""
        session = await self.post("", {"janus": "create"})
        if session["janus"] == "error":
            return session
        handle = await self.post(
            f"/{session['data']['id']}", {"janus": "attach", "plugin": VIDEOROOM_PLUGIN}
        )
        if handle["janus"] == "success":
            self.path = f"/{session['data']['id']}/{handle['data']['id']}"
        return handle

    async def event(self) -> dict[str, Any]:
        """The next plugin event on this handle (long-poll, the token as a query parameter)."""
        session = self.path.split("/")[1]
        for _ in range(5):  # a long-poll answers a keepalive after 30 s without events
            response = await self.http.get(
                f"{self.url}/{session}", params={"maxev": "1", "token": self.core}
            )
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            if answer.get("janus") == "event":
                data: dict[str, Any] = answer["plugindata"]["data"]
                return data
        raise AssertionError("no event from Janus")

    async def join(
        self, room: int, join_token: str | None, participant: int | None = None
    ) -> dict[str, Any]:
        """Join `room` as a publisher participant; the VideoRoom's answer (joined or error)."""
        body: dict[str, Any] = {"request": "join", "ptype": "publisher", "room": room}
        if join_token is not None:
            body["token"] = join_token
        if participant is not None:
            body["id"] = participant
        ack = await self.post(self.path, {"janus": "message", "body": body})
        assert ack["janus"] == "ack", ack
        return await self.event()

    async def subscribe(self, room: int, join_token: str | None, feed: int) -> dict[str, Any]:
        """Join `room` as a subscriber to `feed`'s streams; the VideoRoom's answer
        (`attached` with the streams, or an error)."""
        body: dict[str, Any] = {
            "request": "join",
            "ptype": "subscriber",
            "room": room,
            "streams": [{"feed": feed}],
        }
        if join_token is not None:
            body["token"] = join_token
        ack = await self.post(self.path, {"janus": "message", "body": body})
        assert ack["janus"] == "ack", ack
        return await self.event()

    async def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous VideoRoom request on this handle; its plugin data."""
        answer = await self.post(self.path, {"janus": "message", "body": body})
        assert answer["janus"] == "success", answer
        data: dict[str, Any] = answer["plugindata"]["data"]
        return data

    async def publishers(self, room: int, join_token: str) -> list[dict[str, Any]]:
        """The room's publishers with their streams, as a publisher join lists them."""
        joined = await self.join(room, join_token)
        assert joined.get("videoroom") == "joined", joined
        publishers: list[dict[str, Any]] = joined["publishers"]
        return publishers

    async def aclose(self) -> None:
        await self.http.aclose()


@pytest.fixture
async def signalling(janus: JanusServer) -> AsyncIterator[Any]:
    """A factory of participants' clients with a valid core token; closed at the end."""
    made: list[Signalling] = []

    def make(server: JanusServer = janus, core: str | None = None) -> Signalling:
        token = core or core_token(server.token_auth_secret.encode(), datetime.now(UTC) + ONE_HOUR)
        client = Signalling(server.url, token)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
