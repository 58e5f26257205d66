"""The LiveKit push (a delivery sink): pushes removals, role changes and room ends to the tenant's
LiveKit through its RoomService (Twirp over HTTP, JSON bodies, an admin token), so a
LiveKit token handed out before a removal stops working for reconnects.

  PARTICIPANT_REMOVED, _BANNED,
  PARTICIPANT_WINDOW_ENDED    -> RemoveParticipant {room, identity}
  ROLE_CHANGED                -> UpdateParticipant {room, identity, permission}
  PARTICIPANT_MODERATED       -> GetParticipant {room, identity}, then
                                 MutePublishedTrack {room, identity, track_sid, muted}
                                 for each audio track (and video track, when asked)
  DELETED, ENDED              -> DeleteRoom {room}

LiveKit's `not_found` (no such participant or room) counts as done.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.delivery.sink import Target
from service.domain.admission import ROLE_CAPABILITIES
from service.domain.events import EventType, RoomEvent
from service.domain.models import Role
from service.http_client import HttpClient, HttpFailure
from service.media.livekit.config import LiveKitConfig
from service.media.livekit.grants import VideoGrant, join_grant
from service.security.tokens import sign_hs256

SINK = "livekit"
# The one destination of this sink per tenant with a LiveKit configuration.
DESTINATION = "livekit"
ADMIN_TOKEN_TTL = 600  # seconds
_SERVICE = "livekit.RoomService"

# Events that evict an identity from the call. A ban (when bans exist) belongs here.
REMOVAL_EVENTS = frozenset(
    {
        EventType.PARTICIPANT_REMOVED,
        EventType.PARTICIPANT_BANNED,
        EventType.PARTICIPANT_WINDOW_ENDED,
    }
)
# A participant's tracks (ParticipantInfo) fit in this many bytes.
_MAX_PARTICIPANT_BYTES = 256 * 1024
ROOM_END_EVENTS = frozenset({EventType.DELETED, EventType.ENDED})


def livekit_room(room_id: str) -> str:
    """The LiveKit room name of a room (the name its join tokens carry)."""
    return room_id


def permission(role: Role) -> dict[str, Any]:
    """LiveKit's ParticipantPermission for a role (the grant of its join tokens)."""
    return join_grant("", ROLE_CAPABILITIES[role]).permission()


@dataclass(frozen=True, slots=True)
class Call:
    """One RoomService request: its method, JSON body and the admin grant it needs."""

    method: str
    body: dict[str, Any]
    grant: VideoGrant


def call_for(event: RoomEvent) -> Call | None:
    """The LiveKit call that mirrors `event`; None for events LiveKit need not know."""
    room = livekit_room(event.room_id)
    admin = VideoGrant(room_admin=True, room=room)
    if event.type in REMOVAL_EVENTS and event.user_id is not None:
        return Call("RemoveParticipant", {"room": room, "identity": event.user_id}, admin)
    if event.type is EventType.ROLE_CHANGED and event.user_id and event.role is not None:
        body = {"room": room, "identity": event.user_id, "permission": permission(event.role)}
        return Call("UpdateParticipant", body, admin)
    if event.type in ROOM_END_EVENTS:
        return Call("DeleteRoom", {"room": room}, VideoGrant(room_create=True))
    if event.type is EventType.PARTICIPANT_MODERATED and event.user_id is not None:
        return Call("GetParticipant", {"room": room, "identity": event.user_id}, admin)
    return None


def moderated_tracks(participant: dict[str, Any], video: bool) -> list[str]:
    """The sids of a ParticipantInfo's tracks a moderation acts on: audio always, video
    (camera and screen share alike) when `video`. `type` is an enum name in LiveKit's
    JSON (a number from some encoders)."""
    kinds = {"AUDIO", 0, "VIDEO", 1} if video else {"AUDIO", 0}
    tracks = participant.get("tracks") or []
    return [
        str(track["sid"])
        for track in tracks
        if isinstance(track, dict) and track.get("sid") and track.get("type", "AUDIO") in kinds
    ]


def admin_token(config: LiveKitConfig, grant: VideoGrant, now: int) -> str:
    """A LiveKit access token (HS256 with the API secret) carrying `grant`. Its times
    are the wall clock's: LiveKit checks them against its own."""
    claims = {"iss": config.api_key, "sub": "rooms", "nbf": now, "exp": now + ADMIN_TOKEN_TTL}
    return sign_hs256({**claims, "video": grant.claim()}, config.api_secret.reveal())


def _base_url(url: str) -> str:
    for scheme, http in (("wss://", "https://"), ("ws://", "http://")):
        if url.startswith(scheme):
            url = http + url.removeprefix(scheme)
    return url.rstrip("/")


def _not_found(body: bytes) -> bool:
    try:
        return bool(json.loads(body).get("code") == "not_found")
    except (ValueError, AttributeError):
        return False


class _LiveKitTarget:
    def __init__(self, config: LiveKitConfig, http: HttpClient) -> None:
        self._config = config
        self._http = http

    def wants(self, event: RoomEvent) -> bool:
        return call_for(event) is not None

    async def send(self, event: RoomEvent, delivery_id: str) -> str | None:
        call = call_for(event)
        if call is None:
            return None
        answer = await self._call(call, _MAX_PARTICIPANT_BYTES)
        if isinstance(answer, str) or event.moderation is None:
            return answer if isinstance(answer, str) else None
        if answer is None:
            return None  # not in the call: nothing published to mute
        for sid in moderated_tracks(answer, event.moderation.video):
            body = {**call.body, "track_sid": sid, "muted": event.moderation.muted}
            failed = await self._call(Call("MutePublishedTrack", body, call.grant), None)
            if isinstance(failed, str):
                return failed
        return None

    async def _call(self, call: Call, max_bytes: int | None) -> dict[str, Any] | str | None:
        """One RoomService call: its JSON answer (None when LiveKit says `not_found`),
        or a failure's description."""
        token = admin_token(self._config, call.grant, int(time.time()))
        url = f"{_base_url(self._config.url)}/twirp/{_SERVICE}/{call.method}"
        headers = {
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "user-agent": "rooms-livekit/1",
        }
        try:
            answer = await self._http.post(
                url, json.dumps(call.body).encode(), headers, max_response_bytes=max_bytes
            )
        except HttpFailure as failure:
            return str(failure)
        if answer.status == 404 and _not_found(answer.body):
            return None
        if not 200 <= answer.status < 300:
            return f"LiveKit {call.method}: HTTP {answer.status}"
        try:
            parsed = json.loads(answer.body or b"{}")
        except ValueError:
            return {}  # done; an answer rooms does not read (only GetParticipant's is read)
        return parsed if isinstance(parsed, dict) else {}


class LiveKitSink:
    name = SINK

    def __init__(
        self, livekit_for: Callable[[str], LiveKitConfig | None], http: HttpClient
    ) -> None:
        self._livekit_for = livekit_for
        self._http = http

    async def target(self, tenant: str, destination: str) -> Target | None:
        config = self._livekit_for(tenant)
        return None if config is None else _LiveKitTarget(config, http=self._http)
