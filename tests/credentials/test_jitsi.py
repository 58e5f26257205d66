"""Join credentials end to end for Jitsi, checked by PyJWT: the documented claims."""

from __future__ import annotations

from datetime import datetime

import jwt
import pytest
from rooms.v1 import participant_pb2 as pp

from tests.credentials.tenants import ACME_JITSI_SECRET, JITSI, Setup, authorize, make_room


@pytest.mark.parametrize(
    ("role", "dial_out", "moderator", "screen", "outbound"),
    [
        (pp.ROLE_PRESENTER, True, True, True, True),
        (pp.ROLE_PRESENTER, False, True, True, False),
        (pp.ROLE_ATTENDEE, True, False, False, False),
        (pp.ROLE_CONSUMER, False, False, False, False),
        (pp.ROLE_COLLABORATOR, True, False, True, False),
    ],
)
async def test_jitsi_tokens_carry_the_documented_claims(
    setup: Setup,
    wall_clock: datetime,
    role: int,
    dial_out: bool,
    moderator: bool,
    screen: bool,
    outbound: bool,
) -> None:
    room_id, _ = await make_room(setup.acme, {"u1": role}, pstn_dial_out_enabled=dial_out)
    answer = await authorize(setup.acme, room_id, "u1", JITSI, name="Ann")
    assert answer.credential.server_url == "https://meet.acme.example"
    claims = jwt.decode(
        answer.credential.token,
        ACME_JITSI_SECRET,
        algorithms=["HS256"],
        audience="jitsi",
        issuer="acme-app",
        options={"require": ["exp", "nbf", "iss", "aud", "sub", "room"]},
    )
    assert claims["sub"] == "meet.acme.example"
    assert claims["room"] == room_id
    assert claims["nbf"] == int(wall_clock.timestamp())
    assert claims["exp"] == int(wall_clock.timestamp()) + 600
    assert claims["context"]["user"] == {"id": "u1", "name": "Ann", "moderator": moderator}
    features = claims["context"]["features"]
    assert features["screen-sharing"] is screen
    assert features["outbound-call"] is outbound
    assert features["recording"] is False and features["livestreaming"] is False
