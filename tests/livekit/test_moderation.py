"""The pushes of issue 28 to LiveKit: a demotion (UpdateParticipant), a participant's
own window ending (RemoveParticipant) and a moderation (GetParticipant, then
MutePublishedTrack per track). The endpoint decodes every request with
`livekit-protocol`'s classes and checks the admin token with `livekit-api`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from livekit.protocol import models as lk_models
from livekit.protocol import room as lk_room
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.security.keys import new_key
from tests.conftest import T0, ServerFactory
from tests.livekit.conftest import SECRET, deliver
from tests.shared.calls import bearer, connect, ts
from tests.shared.receivers import FakeLiveKit


def track(sid: str, kind: int, source: int) -> lk_models.TrackInfo:
    return lk_models.TrackInfo(sid=sid, type=kind, source=source)  # type: ignore[arg-type]


async def test_demotion_window_end_and_moderation_reach_livekit(
    start: ServerFactory, livekit: FakeLiveKit, tmp_path: Path, clock: ManualClock
) -> None:
    (tmp_path / "lk.secret").write_text(SECRET)
    config = tmp_path / "media.toml"
    config.write_text(
        f'[tenants.lk-mod.livekit]\nurl = "ws://127.0.0.1:{livekit.port}"\n'
        'api_key = "APIrooms"\napi_secret_file = "lk.secret"\n'
    )
    key, entry = new_key("lk-mod", "tests")
    running = await start(api_keys=entry.line(), media_config_file=str(config))
    metadata = bearer(key)
    livekit.participants["pat"] = lk_models.ParticipantInfo(
        identity="pat",
        tracks=[
            track("TR_mic", lk_models.AUDIO, lk_models.MICROPHONE),
            track("TR_cam", lk_models.VIDEO, lk_models.CAMERA),
            track("TR_scr", lk_models.VIDEO, lk_models.SCREEN_SHARE),
        ],
    )
    guest = pp.Participant(user_id="gus", role=pp.ROLE_ATTENDEE, valid_until=ts(timedelta(hours=1)))
    async with connect(running.port) as stubs:
        await stubs.rooms.CreateRoom(
            rs.CreateRoomRequest(
                room_id="mod",
                participants=[
                    pp.Participant(user_id="host", role=pp.ROLE_PRESENTER),
                    pp.Participant(user_id="pat", role=pp.ROLE_ATTENDEE),
                    guest,
                ],
            ),
            metadata=metadata,
        )
        for video in (False, True):
            await stubs.participants.ModerateParticipant(
                ps.ModerateParticipantRequest(
                    room_id="mod", actor_user_id="host", user_id="pat", muted=True, video=video
                ),
                metadata=metadata,
            )
        await stubs.participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id="mod", participants=[pp.Participant(user_id="pat", role=pp.ROLE_CONSUMER)]
            ),
            metadata=metadata,
        )
        clock.set(T0 + timedelta(hours=1))
        # gus's window ends, and only his in this tenant (the pass counts every tenant's:
        # other tests' rooms share the database); RemoveParticipant below.
        assert (await running.lifecycle.run_once()).windows_ended >= 1
        ended = await running.pool.fetch(
            """SELECT user_id FROM participants
               WHERE tenant = 'lk-mod' AND room_id = 'mod' AND window_end_announced"""
        )
        assert [row["user_id"] for row in ended] == ["gus"]
        await deliver(running)

    assert livekit.refused == []
    assert livekit.by_identity() == [
        ("GetParticipant", "pat"),
        ("MutePublishedTrack", "pat"),  # audio only
        ("GetParticipant", "pat"),
        ("MutePublishedTrack", "pat"),  # audio, camera and screen share
        ("MutePublishedTrack", "pat"),
        ("MutePublishedTrack", "pat"),
        ("UpdateParticipant", "pat"),  # demoted to Consumer
        ("RemoveParticipant", "gus"),  # its own window ended
    ]
    mutes = [c.request for c in livekit.calls if c.method == "MutePublishedTrack"]
    assert all(isinstance(m, lk_room.MuteRoomTrackRequest) for m in mutes)
    assert [(m.room, m.track_sid, m.muted) for m in mutes] == [  # type: ignore[attr-defined]
        ("mod", "TR_mic", True),
        ("mod", "TR_mic", True),
        ("mod", "TR_cam", True),
        ("mod", "TR_scr", True),
    ]
    demoted = livekit.calls[6].request
    assert isinstance(demoted, lk_room.UpdateParticipantRequest)
    assert not demoted.permission.can_publish and demoted.permission.can_subscribe
    assert all(c.room_admin and c.grant_room == "mod" for c in livekit.calls)
