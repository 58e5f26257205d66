"""What the SDKs do not exercise, over requests signed by the SDK's own HMAC policy:
the api-version (required; the Python SDK's continuation quirk accepted), malformed
bodies, unknown routes and methods, dates in and out, and /identities."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from azure.communication.rooms._shared.policy import HMACCredentialsPolicy
from azure.core import PipelineClient
from azure.core.credentials import AzureKeyCredential
from azure.core.rest import HttpRequest, HttpResponse

from service.acs import convert
from service.acs.auth import path_variants
from service.acs.errors import AcsError
from service.server import RunningServer
from tests.acs.sdk_calls import new_tenant, off_loop

pytestmark = pytest.mark.usefixtures("trust_ca")


async def raw_client(pool: asyncpg.Pool, server: RunningServer) -> PipelineClient:
    connection = await new_tenant(pool, server, "raw")
    endpoint = connection.split(";")[0].removeprefix("endpoint=").rstrip("/")
    key = connection.rpartition("accesskey=")[2]
    signer = HMACCredentialsPolicy(endpoint, AzureKeyCredential(key), decode_url=True)
    return PipelineClient(base_url=endpoint, policies=[signer])


async def send(client: PipelineClient, method: str, path: str, body: Any = None) -> HttpResponse:
    request = HttpRequest(method, client._base_url + path, content=body)
    response: HttpResponse = await off_loop(client.send_request, request)
    return response


def _error(response: HttpResponse) -> tuple[int, str, str]:
    code = response.json()["error"]["code"]
    assert response.headers["x-ms-error-code"] == code
    return response.status_code, code, response.json()["error"].get("target", "")


async def test_the_api_version_is_required_and_checked(
    acs_server: RunningServer, pool: asyncpg.Pool
) -> None:
    client = await raw_client(pool, acs_server)
    assert (await send(client, "GET", "/rooms?api-version=2025-03-13")).status_code == 200
    quirk = await send(client, "GET", "/rooms?api-version=ApiVersion.V2025_03_13")
    assert quirk.status_code == 200
    missing = await send(client, "GET", "/rooms")
    assert _error(missing)[:2] == (400, "MissingApiVersionParameter")
    other = await send(client, "GET", "/rooms?api-version=2021-04-07")
    assert _error(other)[:2] == (400, "UnsupportedApiVersion")


async def test_malformed_requests_are_precise(
    acs_server: RunningServer, pool: asyncpg.Pool
) -> None:
    client = await raw_client(pool, acs_server)
    v = "?api-version=2025-03-13"
    cases = [
        ("POST", "/rooms", "{not json", (400, "BadRequest", "body")),
        ("POST", "/rooms", "[]", (400, "BadRequest", "createRoomRequest")),
        ("POST", "/rooms", '{"validFrom": "tomorrow"}', (400, "BadRequest", "validFrom")),
        ("POST", "/rooms", '{"pstnDialOutEnabled": "yes"}',
         (400, "BadRequest", "pstnDialOutEnabled")),
        ("POST", "/rooms", '{"participants": []}', (400, "BadRequest", "participants")),
        ("PATCH", "/rooms/nope/participants", '{"participants": {}}', (404, "NotFound", "roomId")),
        ("POST", "/identities", '{"createTokenWithScopes": ["voip"]}',
         (400, "BadRequest", "createTokenWithScopes")),
    ]  # fmt: skip
    for method, path, body, expected in cases:
        assert _error(await send(client, method, path + v, body)) == expected, (path, body)
    assert (await send(client, "GET", "/nowhere" + v)).status_code == 404
    assert (await send(client, "PUT", "/rooms" + v, "{}")).status_code == 405
    made = await send(client, "POST", "/identities" + v, '{"createTokenWithScopes": []}')
    assert made.status_code == 201 and made.json()["identity"]["id"].startswith("8:acs:")


async def test_a_room_body_has_every_field_in_acs_form(
    acs_server: RunningServer, pool: asyncpg.Pool
) -> None:
    client = await raw_client(pool, acs_server)
    day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    later = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    body = {"validFrom": f"{day}T03:04:05.1234567Z", "validUntil": f"{later}T01:00:00+01:00"}
    created = await send(client, "POST", "/rooms?api-version=2025-03-13", json.dumps(body))
    assert created.status_code == 201
    room = created.json()
    assert set(room) == {"id", "createdAt", "validFrom", "validUntil", "pstnDialOutEnabled"}
    # Seven fractional digits (what .NET sends) are cut to six; offsets become UTC.
    assert room["validFrom"] == f"{day}T03:04:05.123456+00:00"
    assert room["validUntil"] == f"{later}T00:00:00.000000+00:00"
    assert room["pstnDialOutEnabled"] is False


def test_the_forms_of_a_signed_path() -> None:
    assert path_variants("/rooms/a%20b?api-version=2025-03-13&x=a%3Ab") == [
        "/rooms/a%20b?api-version=2025-03-13&x=a%3Ab",
        "/rooms/a b?api-version=2025-03-13&x=a:b",
    ]
    assert path_variants("/rooms?x=a:b") == ["/rooms?x=a:b", "/rooms?x=a%3Ab"]


@pytest.mark.parametrize("raw_id", ["8:acs:a_b", "8:spool:x", "8:dod-acs:y", "8:gcch-acs:z"])
def test_acs_user_ids_are_accepted(raw_id: str) -> None:
    assert convert.raw_id_in(raw_id) == raw_id


@pytest.mark.parametrize("raw_id", ["wrong_mri", "4:+15551234567", "8:acs:", "8:orgid:x", ""])
def test_other_ids_are_refused(raw_id: str) -> None:
    with pytest.raises(AcsError) as refused:
        convert.raw_id_in(raw_id)
    assert (refused.value.status, refused.value.target) == (400, "participants")
