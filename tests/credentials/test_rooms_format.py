"""rooms' own credentials, verified with PyJWT's PyJWKClient over real HTTP, across a
rotation of the signing keys."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta
from typing import Any

import jwt
from rooms.v1 import (
    admission_pb2,
)
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import participant_pb2 as pp

from service.domain.clock import ManualClock
from tests.credentials.tenants import ROOMS, Setup, auth, authorize, introspect, make_room
from tests.shared.calls import timestamp


def fetch_jwks(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Type"] == "application/json"
        document: dict[str, Any] = json.load(response)
        return document


def verify_rooms_token(url: str, token: str) -> dict[str, Any]:
    """PyJWT's own JWKS client, over real HTTP, as any other service would."""
    key = jwt.PyJWKClient(url, cache_keys=False, cache_jwk_set=False).get_signing_key_from_jwt(
        token
    )
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["ES256"],
        audience="rooms",
        issuer="rooms",
        options={"require": ["exp", "nbf", "iat", "jti", "sub", "aud", "iss"]},
    )
    return claims


async def test_rooms_tokens_verify_with_the_published_keys_across_a_rotation(
    setup: Setup, clock: ManualClock, wall_clock: datetime
) -> None:
    room_id, _ = await make_room(setup.acme, {"u1": pp.ROLE_PRESENTER}, pstn_dial_out_enabled=True)
    before = (await authorize(setup.acme, room_id, "u1", ROOMS, name="Una")).credential
    assert before.server_url == ""
    claims = verify_rooms_token(setup.jwks_url, before.token)
    assert claims["sub"] == "u1"
    assert claims["room_id"] == room_id
    assert claims["tenant"] == "acme"
    assert claims["name"] == "Una"
    assert claims["role"] == "ROLE_PRESENTER"
    assert "CAPABILITY_DIAL_OUT" in claims["capabilities"]
    assert set(claims["capabilities"]) == {
        admission_pb2.Capability.Name(n)
        for n in admission_pb2.Capability.values()
        if n != admission_pb2.CAPABILITY_UNSPECIFIED
    }
    assert claims["exp"] - claims["nbf"] == 600
    old_kid = jwt.get_unverified_header(before.token)["kid"]

    # The RPC publishes exactly what HTTP serves.
    over_rpc = await setup.acme.credentials.GetSigningKeys(
        cs.GetSigningKeysRequest(), metadata=auth(setup.acme)
    )
    assert json.loads(over_rpc.jwks) == fetch_jwks(setup.jwks_url)

    new_kid = await setup.server.signing_keys.rotate(wall_clock)
    after = (await authorize(setup.acme, room_id, "u1", ROOMS)).credential
    assert jwt.get_unverified_header(after.token)["kid"] == new_kid != old_kid
    # Both verify: the old key stays published while its tokens may be alive.
    assert verify_rooms_token(setup.jwks_url, after.token)["sub"] == "u1"
    assert verify_rooms_token(setup.jwks_url, before.token)["sub"] == "u1"
    kids = {key["kid"] for key in fetch_jwks(setup.jwks_url)["keys"]}
    assert {old_kid, new_kid} <= kids
    keys = (
        await setup.acme.credentials.GetSigningKeys(
            cs.GetSigningKeysRequest(), metadata=auth(setup.acme)
        )
    ).keys
    # The newest first (another test may have stored one that signs only later).
    ids = [k.key_id for k in keys]
    current = keys[ids.index(new_kid)]
    # Signing now, unless a key another test stored has taken over since.
    takeovers = {k.activate_time.ToDatetime() for k in keys}
    assert not current.HasField("retire_time") or current.retire_time.ToDatetime() in takeovers
    later = [k.activate_time.ToDatetime() for k in keys[: ids.index(new_kid)]]
    assert all(when > current.activate_time.ToDatetime() for when in later)
    retired = next(k for k in keys if k.key_id == old_kid)
    assert retired.retire_time == timestamp(wall_clock)
    assert (await introspect(setup.acme, before.token)).active
    assert (await introspect(setup.acme, after.token)).active

    # Once every token of the old key has expired, it is no longer published.
    clock.set(wall_clock + timedelta(seconds=601))
    kids = {key["kid"] for key in fetch_jwks(setup.jwks_url)["keys"]}
    assert new_kid in kids and old_kid not in kids
