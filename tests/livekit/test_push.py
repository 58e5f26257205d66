"""Removals, role changes and room ends pushed to the tenant's LiveKit. The endpoint
here decodes every request with LiveKit's own message classes (`livekit-protocol`)
and checks the admin token with `livekit-api`'s TokenVerifier."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from livekit.protocol import models as lk_models
from livekit.protocol import room as lk_room
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.media.config import load_media_config
from service.security.keys import new_key
from tests.conftest import ServerFactory
from tests.livekit.conftest import SECRET, deliver
from tests.shared.calls import bearer, connect
from tests.shared.receivers import FakeLiveKit


async def test_removals_role_changes_and_room_ends_reach_livekit(
    start: ServerFactory,
    livekit: FakeLiveKit,
    tmp_path: Path,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "livekit.secret").write_text(SECRET + "\n")
    config = tmp_path / "media.toml"
    config.write_text(
        f"""
[tenants.lk-tenant.livekit]
url = "ws://127.0.0.1:{livekit.port}/"
api_key = "APIrooms"
api_secret_file = "livekit.secret"
"""
    )
    key, entry = new_key("lk-tenant", "tests")
    running = await start(api_keys=entry.line(), media_config_file=str(config))
    metadata = bearer(key)
    livekit.missing = {"ghost"}  # LiveKit never saw this one: not_found counts as done
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        people = stubs.participants

        async def roster(**roles: pp.Role.ValueType) -> None:
            await people.AddOrUpdateParticipants(
                ps.AddOrUpdateParticipantsRequest(
                    room_id="call",
                    participants=[pp.Participant(user_id=u, role=r) for u, r in roles.items()],
                ),
                metadata=metadata,
            )

        await rooms.CreateRoom(rs.CreateRoomRequest(room_id="call"), metadata=metadata)
        await roster(alice=pp.ROLE_PRESENTER, bob=pp.ROLE_ATTENDEE, ghost=pp.ROLE_ATTENDEE)
        await roster(bob=pp.ROLE_CONSUMER)  # a role change
        await people.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id="call", user_ids=["ghost", "alice"]),
            metadata=metadata,
        )
        await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id="call"), metadata=metadata)
        await deliver(running)

    assert livekit.refused == []
    assert livekit.by_identity() == [
        ("UpdateParticipant", "bob"),
        ("RemoveParticipant", "ghost"),
        ("RemoveParticipant", "alice"),
        ("DeleteRoom", ""),
    ]
    update = livekit.calls[0].request
    assert isinstance(update, lk_room.UpdateParticipantRequest)
    assert isinstance(update.permission, lk_models.ParticipantPermission)
    assert update.room == "call"
    assert update.permission.can_subscribe and not update.permission.can_publish
    assert list(update.permission.can_publish_sources) == []
    for call in livekit.calls[:3]:
        assert call.room_admin and call.grant_room == "call"
    delete = livekit.calls[3].request
    assert isinstance(delete, lk_room.DeleteRoomRequest)
    assert livekit.calls[3].room_create and delete.room == "call"
    assert SECRET not in caplog.text
    # Each event once: not_found was done, not retried, however long after. (Passes of
    # the engine, not a count of its claims: the database is shared with other tests,
    # whose tenants' cursors this server also claims.)
    clock.advance(timedelta(hours=2))
    for _ in range(3):
        await running.delivery.run_once()
    assert len(livekit.calls) == 4


async def test_a_role_change_maps_capabilities_to_livekit_permissions() -> None:
    from service.domain.models import Role
    from service.media.livekit.push import permission

    assert permission(Role.COLLABORATOR) == {
        "can_subscribe": True,
        "can_publish": True,
        "can_publish_data": True,
        "can_publish_sources": ["CAMERA", "MICROPHONE", "SCREEN_SHARE", "SCREEN_SHARE_AUDIO"],
    }
    assert permission(Role.CONSUMER)["can_publish"] is False


def test_the_media_config_never_shows_its_secret(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[tenants.a.livekit]\nurl = "https://lk"\napi_key = "k"\napi_secret = "s3cr3t-value"\n'
    )
    media = load_media_config(path)
    found = media.livekit_for("a")
    assert found is not None and found.api_secret.reveal() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(found)
    assert media.livekit_for("b") is None
    assert media.livekit_tenants() == ["a"]
