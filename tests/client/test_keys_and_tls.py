"""The Python client's API key, TLS and mutual TLS, against real servers configured
for them."""

from __future__ import annotations

import uuid

import grpc
import pytest
from rooms.client import TLS, RoomsClient
from rooms.errors import (
    RoomsError,
    Unauthenticated,
)

from service.security.keys import new_key
from tests.client.proxy import CREATE, Proxy
from tests.conftest import ServerFactory
from tests.shared.fixtures import Certificates


async def test_api_key_is_sent_as_a_bearer_token(proxy: Proxy) -> None:
    async with RoomsClient(f"127.0.0.1:{proxy.port}", api_key="rk_secret") as client:
        await client.list_roles()
        await client.create_room()
    async with RoomsClient(f"127.0.0.1:{proxy.port}") as anonymous:
        await anonymous.list_roles()
    keyed, _, plain = proxy.attempts
    assert keyed.metadata["authorization"] == "Bearer rk_secret"
    assert proxy.of(CREATE)[0].metadata["authorization"] == "Bearer rk_secret"
    assert "authorization" not in plain.metadata


async def test_api_key_on_a_server_that_requires_keys(start: ServerFactory) -> None:
    key, entry = new_key(f"acme-{uuid.uuid4().hex[:8]}", "client-tests")
    running = await start(api_keys=entry.line())
    address = f"127.0.0.1:{running.port}"
    async with RoomsClient(address, api_key=key) as client:
        room = await client.create_room(participants=["guest"])
        assert [r.room_id async for r in client.list_rooms()] == [room.room_id]  # acme's own
    for wrong in (None, "rk_wrong"):
        async with RoomsClient(address, api_key=wrong) as client:
            with pytest.raises(Unauthenticated) as caught:
                await client.get_room(room.room_id)
        assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED


async def test_tls_with_a_ca_file_and_a_key(
    start: ServerFactory, certificates: Certificates
) -> None:
    key, entry = new_key("acme", "tls-tests")
    running = await start(api_keys=entry.line(), **certificates.served())
    address = f"127.0.0.1:{running.port}"
    tls = TLS.from_files(ca=certificates.ca)
    async with RoomsClient(address, tls=tls, api_key=key) as client:
        room = await client.create_room()
        assert (await client.get_room(room.room_id)).room_id == room.room_id

    # A server whose certificate the client does not trust, or plaintext: refused.
    untrusting = TLS.from_files(ca=certificates.stranger_ca)
    for tls_or_not in (untrusting, False):
        async with RoomsClient(address, api_key=key, tls=tls_or_not, timeout=3, retry=None) as c:
            with pytest.raises(RoomsError) as caught:
                await c.list_roles()
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls(start: ServerFactory, certificates: Certificates) -> None:
    running = await start(**certificates.served(mutual=True))
    address = f"127.0.0.1:{running.port}"
    mutual = TLS.from_files(certificates.ca, certificates.client_cert, certificates.client_key)
    async with RoomsClient(address, tls=mutual) as client:
        assert len(await client.list_roles()) == 4
    # Without a client certificate the server ends the handshake.
    async with RoomsClient(
        address, tls=TLS.from_files(ca=certificates.ca), timeout=3, retry=None
    ) as client:
        with pytest.raises(RoomsError) as caught:
            await client.list_roles()
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE


async def test_tls_server_name_override_is_a_channel_option() -> None:
    client = RoomsClient("10.0.0.1:443", tls=TLS(server_name="rooms.example"))
    assert ("grpc.ssl_target_name_override", "rooms.example") in client.channel_options


def test_mutual_tls_needs_both_certificate_and_key() -> None:
    with pytest.raises(ValueError, match="both a client certificate and its private key"):
        TLS(certificate_chain=b"cert")
