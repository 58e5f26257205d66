"""LiveKit's grants, typed once: the capability -> grant table (the README shows it),
the `VideoGrant` and `SIPGrant` a token carries (mirroring livekit-api's `VideoGrants`
and `SIPGrants`), serialized in one place, and the `ParticipantPermission` a role change
pushes, derived from the same grant. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from typing import Any

from service.domain.admission import Capability

# LiveKit `canPublishSources` granted by each capability. `canPublish` is true exactly
# when at least one source is granted: a Consumer publishes nothing.
SOURCES: Mapping[Capability, tuple[str, ...]] = {
    Capability.SPEAK: ("microphone",),
    Capability.VIDEO: ("camera",),
    Capability.SHARE_SCREEN: ("screen_share", "screen_share_audio"),
}
# The order LiveKit's sources are listed in a token.
_SOURCE_ORDER = ("camera", "microphone", "screen_share", "screen_share_audio")
# LiveKit `canSubscribe`.
SUBSCRIBE = frozenset({Capability.RECEIVE_MEDIA})
# LiveKit `canPublishData` (hand raises and reactions travel as data messages).
DATA = frozenset({Capability.RAISE_HAND, Capability.REACT})
# LiveKit `roomAdmin` (mute, remove).
ADMIN = frozenset({Capability.MUTE_OTHERS, Capability.REMOVE_PARTICIPANTS})
# LiveKit's `sip.call` grant (outbound calls).
SIP_CALL = frozenset({Capability.DIAL_OUT})

# The LiveKit participant attribute that carries the role.
ROLE_ATTRIBUTE = "rooms.role"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True, slots=True)
class VideoGrant:
    """LiveKit's video grant (the `video` claim). A field left None is left out of the
    token; LiveKit treats a missing `canPublish`, `canSubscribe` or `canPublishData` as
    true, so a join grant sets every permission."""

    room: str | None = None
    room_join: bool | None = None
    room_admin: bool | None = None
    room_create: bool | None = None
    can_publish: bool | None = None
    can_publish_sources: tuple[str, ...] | None = None
    can_subscribe: bool | None = None
    can_publish_data: bool | None = None
    can_update_own_metadata: bool | None = None

    def claim(self) -> dict[str, Any]:
        """The `video` claim: LiveKit's camelCase names, the fields that are set."""
        claim: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None:
                claim[_camel(item.name)] = list(value) if isinstance(value, tuple) else value
        return claim

    def permission(self) -> dict[str, Any]:
        """LiveKit's `ParticipantPermission` (server API, proto field names) of this
        grant: what UpdateParticipant takes to change a participant's rights."""
        return {
            "can_subscribe": bool(self.can_subscribe),
            "can_publish": bool(self.can_publish),
            "can_publish_data": bool(self.can_publish_data),
            "can_publish_sources": [s.upper() for s in self.can_publish_sources or ()],
        }


@dataclass(frozen=True, slots=True)
class SIPGrant:
    """LiveKit's SIP grant (the `sip` claim)."""

    call: bool = False
    admin: bool = False

    def claim(self) -> dict[str, Any]:
        return {"call": self.call, "admin": self.admin}


def join_grant(room: str, capabilities: Collection[Capability]) -> VideoGrant:
    """The video grant of a join token for a set of capabilities (every permission set)."""
    caps = frozenset(capabilities)
    sources = {source for c in caps for source in SOURCES.get(c, ())}
    return VideoGrant(
        room=room,
        room_join=True,
        can_publish=bool(sources),
        can_publish_sources=tuple(s for s in _SOURCE_ORDER if s in sources),
        can_subscribe=bool(caps & SUBSCRIBE),
        can_publish_data=bool(caps & DATA),
        can_update_own_metadata=False,
        room_admin=bool(caps & ADMIN),
    )


def sip_grant(capabilities: Collection[Capability]) -> SIPGrant:
    """The SIP grant of a join token: outbound calls, never SIP administration."""
    return SIPGrant(call=bool(frozenset(capabilities) & SIP_CALL))
