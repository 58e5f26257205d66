"""Who may join a room now, as what, and if not, why and until when.

The role -> capability table lives here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from service.domain.models import NO_OWN_WINDOW, JoinPolicy, ParticipantWindow, Role, Room
from service.domain.seats import CapacityRefusal, Seat


class Capability(StrEnum):
    """What a participant may do in a room's call."""

    SPEAK = "speak"
    VIDEO = "video"
    SHARE_SCREEN = "share_screen"
    MUTE_OTHERS = "mute_others"
    REMOVE_PARTICIPANTS = "remove_participants"
    INVITE_PARTICIPANTS = "invite_participants"
    DIAL_OUT = "dial_out"
    RECEIVE_MEDIA = "receive_media"
    RAISE_HAND = "raise_hand"
    REACT = "react"
    SPOTLIGHT_OTHERS = "spotlight_others"
    ADMIT_PARTICIPANTS = "admit_participants"


_EVERYONE = frozenset({Capability.RECEIVE_MEDIA, Capability.RAISE_HAND, Capability.REACT})
_TALK = frozenset({Capability.SPEAK, Capability.VIDEO})

ROLE_CAPABILITIES: Mapping[Role, frozenset[Capability]] = {
    Role.PRESENTER: frozenset(Capability),
    Role.ATTENDEE: _EVERYONE | _TALK,
    Role.CONSUMER: _EVERYONE,
    Role.COLLABORATOR: _EVERYONE | _TALK | {Capability.SHARE_SCREEN},
}

# Roles that may use a room's early-entry period to prepare before it opens.
EARLY_ENTRY_ROLES = frozenset({Role.PRESENTER, Role.COLLABORATOR})


def capabilities_in(role: Role, room: Room) -> frozenset[Capability]:
    """What `role` may do in `room`: dial-out only where the room allows it."""
    granted = ROLE_CAPABILITIES[role]
    if not room.pstn_dial_out_enabled:
        granted = granted - {Capability.DIAL_OUT}
    return granted


class JoinReason(StrEnum):
    """Why a join is allowed or refused (mirrors `rooms.v1.JoinDecisionReason`)."""

    ALLOWED = "allowed"
    ROOM_NOT_FOUND = "room_not_found"
    NOT_YET_OPEN = "not_yet_open"
    ENDED = "ended"
    NOT_INVITED = "not_invited"
    BANNED = "banned"
    WAITING_FOR_ADMISSION = "waiting_for_admission"
    DENIED = "denied"
    ROOM_FULL = "room_full"


@dataclass(frozen=True, slots=True)
class JoinDecision:
    """The answer to "may this identity join this room now?"."""

    allowed: bool
    reason: JoinReason
    message: str
    role: Role | None = None
    capabilities: frozenset[Capability] = frozenset()
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    opens_at: datetime | None = None
    opens_in: timedelta | None = None
    # With claim_seat: the seat taken (allowed), or the limit that refused one (ROOM_FULL).
    seat: Seat | None = None
    full: CapacityRefusal | None = None

    def refused(
        self, reason: JoinReason, message: str, *, full: CapacityRefusal | None = None
    ) -> JoinDecision:
        """This allowed decision turned into a refusal: the same role and window,
        no capabilities."""
        return replace(
            self,
            allowed=False,
            reason=reason,
            message=message,
            capabilities=frozenset(),
            full=full,
        )


def humanize(delta: timedelta) -> str:
    """A duration as people say it, in its largest unit, rounded to the nearest whole one
    (halves down): "3 hours", "1 day", "45 minutes"."""
    seconds = max(0, int(delta.total_seconds() + 0.999999))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = -(-seconds // size) if seconds % size > size // 2 else seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def would_be_role(room: Room, rostered_role: Role | None) -> Role | None:
    """The role an identity would join with, absent a host's choice: its roster role,
    else the open room's `open_join_role`; None off the roster of an invite-only room."""
    if rostered_role is not None:
        return rostered_role
    return room.open_join_role if room.join_policy is JoinPolicy.OPEN else None


def decide_join(
    room: Room | None,
    rostered_role: Role | None,
    now: datetime,
    *,
    banned: bool = False,
    window: ParticipantWindow = NO_OWN_WINDOW,
) -> JoinDecision:
    """The join decision for an identity whose roster entry (if any) is `rostered_role`,
    with its own `window` (a roster entry's; ignored off the roster).

    Checks run in this order: the room exists, the identity is not banned, the
    identity is admitted by the join policy, the window (with early entry for
    presenters and collaborators), narrowed by the identity's own window: the decision's
    `valid_from`/`valid_until` are then the identity's.
    """
    if room is None:
        return JoinDecision(False, JoinReason.ROOM_NOT_FOUND, "The room does not exist.")
    # A recurring room's window is its occurrence under way, else its next, else its last.
    valid_from, valid_until = room.window(now)
    if banned:
        return JoinDecision(
            False,
            JoinReason.BANNED,
            "You have been banned from this room.",
            valid_from=valid_from,
            valid_until=valid_until,
        )
    role = would_be_role(room, rostered_role)
    if role is None:
        return JoinDecision(
            False,
            JoinReason.NOT_INVITED,
            "You are not invited to this room.",
            valid_from=valid_from,
            valid_until=valid_until,
        )
    room_opens_at, room_ends_at = valid_from, valid_until
    if role in EARLY_ENTRY_ROLES:
        room_opens_at -= room.early_entry
    own = window if rostered_role is not None else NO_OWN_WINDOW
    opens_at = own.opens_at(room_opens_at)
    ends_at = own.ends_at(room_ends_at)
    valid_from = own.opens_at(valid_from)
    if now < opens_at:
        opens_in = opens_at - now
        whose = "The room" if opens_at == room_opens_at else "Your access to the room"
        return JoinDecision(
            False,
            JoinReason.NOT_YET_OPEN,
            f"{whose} opens in {humanize(opens_in)}.",
            role=role,
            opens_at=opens_at,
            opens_in=opens_in,
            valid_from=valid_from,
            valid_until=ends_at,
        )
    if now >= ends_at:
        return JoinDecision(
            False,
            JoinReason.ENDED,
            "The room has ended."
            if ends_at == room_ends_at
            else "Your access to the room has ended.",
            role=role,
            valid_from=valid_from,
            valid_until=ends_at,
        )
    return JoinDecision(
        True,
        JoinReason.ALLOWED,
        "You may join.",
        role=role,
        capabilities=capabilities_in(role, room),
        valid_from=valid_from,
        valid_until=ends_at,
    )
