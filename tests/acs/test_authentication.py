"""HMAC authentication: the official client's signature is accepted; a wrong key, a
revoked key, a tampered body, a stale date and an unsigned request are 401 with ACS's
error body, and no key or signature ever reaches a log."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import ssl
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest
from azure.communication.rooms._shared import policy

from service.server import RunningServer
from service.storage import acs_keys
from tests.acs.conftest import Tls, endpoint_of, new_connection_string
from tests.acs.sdk_calls import client_of, error_body, failure, off_loop

pytestmark = pytest.mark.usefixtures("trust_ca")


def _denied(error: Any) -> None:
    status, code, body = error_body(error)
    assert (status, code, body["error"]["code"]) == (401, "Denied", "Denied"), body


async def test_a_wrong_key_is_401(acs_server: RunningServer, pool: asyncpg.Pool) -> None:
    connection, _ = await new_connection_string(pool, "auth-wrong", endpoint_of(acs_server))
    wrong = (
        connection.rpartition("accesskey=")[0]
        + "accesskey="
        + base64.b64encode(secrets.token_bytes(64)).decode()
    )
    _denied(await failure(client_of(wrong).create_room))
    await off_loop(client_of(connection).create_room)  # the right key works


async def test_a_revoked_key_is_401_within_a_second(
    acs_server: RunningServer, pool: asyncpg.Pool
) -> None:
    connection, key_id = await new_connection_string(pool, "auth-revoke", endpoint_of(acs_server))
    client = client_of(connection)
    room = await off_loop(client.create_room)
    assert await acs_keys.revoke_key(pool, "auth-revoke", key_id, datetime.now(UTC))
    revoked = time.monotonic()
    while True:
        try:
            await off_loop(client.get_room, room.id)
        except Exception as error:
            _denied(error)
            break
        assert time.monotonic() - revoked < 1.0, "the revoked key still works after 1 s"
    # And stays refused.
    _denied(await failure(client.list_rooms().next))


async def test_a_body_changed_after_signing_is_401(
    acs_server: RunningServer, pool: asyncpg.Pool
) -> None:
    connection, _ = await new_connection_string(pool, "auth-body", endpoint_of(acs_server))
    client = client_of(connection)

    def tamper(request: Any) -> None:  # runs after the SDK signed the request
        body = json.loads(request.http_request.content)
        body["pstnDialOutEnabled"] = True
        request.http_request.set_json_body(body)

    _denied(await failure(client.create_room, raw_request_hook=tamper))
    assert await off_loop(lambda: list(client.list_rooms())) == []


async def test_a_stale_date_is_401(
    acs_server: RunningServer, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection, _ = await new_connection_string(pool, "auth-date", endpoint_of(acs_server))
    client = client_of(connection)
    for minutes, accepted in ((-16, False), (16, False), (-14, True)):
        then = datetime.now(UTC) + timedelta(minutes=minutes)
        monkeypatch.setattr(
            policy,
            "get_current_utc_time",
            lambda then=then: then.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        )
        if accepted:
            await off_loop(lambda: list(client.list_rooms()))
        else:
            _denied(await failure(lambda: list(client.list_rooms())))


async def test_unsigned_requests_are_401_and_secrets_stay_out_of_logs(
    acs_server: RunningServer, pool: asyncpg.Pool, acs_tls: Tls, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connection, _ = await new_connection_string(pool, "auth-logs", endpoint_of(acs_server))
    signatures: list[str] = []

    def keep(request: Any) -> None:
        signatures.append(request.http_request.headers["Authorization"].split("Signature=")[1])

    await off_loop(client_of(connection).create_room, raw_request_hook=keep)
    url = endpoint_of(acs_server) + "rooms?api-version=2025-03-13"
    context = ssl.create_default_context(cafile=str(acs_tls.ca))
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"Authorization": "Bearer x"}, {"Authorization": "HMAC-SHA256 x"}):
            async with session.get(url, headers=headers, ssl=context) as response:
                assert response.status == 401
                assert response.headers["x-ms-error-code"] == "Denied"
                assert (await response.json())["error"]["code"] == "Denied"
    key = connection.rpartition("accesskey=")[2]
    logged = caplog.text
    assert key not in logged and base64.b64decode(key).hex() not in logged
    assert signatures and all(signature not in logged for signature in signatures)
