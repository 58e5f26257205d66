"""Who may be in a room's Janus VideoRoom, and what each may do there: pure rules, no
I/O, shared by the roster plans (a role change that takes publishing away starts a new
membership epoch), storage (the candidates it reads) and the Janus adapter
(`service.media.janus`, which turns them into tokens and a room plan).

- the role -> Janus permissions mapping, derived from the capability table;
- who a VideoRoom admits at a moment: the join decision as AuthorizeJoin makes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from service.domain.admission import ROLE_CAPABILITIES, Capability
from service.domain.models import NO_OWN_WINDOW, ParticipantWindow, Role, Room
from service.domain.waiting_room import Knock, decide_with_waiting_room


@dataclass(frozen=True, slots=True)
class JanusPermissions:
    """What an identity may do in a VideoRoom."""

    subscribe: bool
    publish_audio: bool
    publish_video: bool
    publish_screen: bool

    @property
    def publish(self) -> bool:
        """Whether it may join as a publisher (send any media at all)."""
        return self.publish_audio or self.publish_video or self.publish_screen

    @property
    def ptypes(self) -> frozenset[str]:
        """The VideoRoom `ptype`s it may join as."""
        kinds = set()
        if self.publish:
            kinds.add("publisher")
        if self.subscribe:
            kinds.add("subscriber")
        return frozenset(kinds)


def permissions_for(capabilities: Iterable[Capability]) -> JanusPermissions:
    """Janus permissions from a capability set: speak -> audio, video -> video,
    share_screen -> screen, receive_media -> subscribe."""
    granted = frozenset(capabilities)
    return JanusPermissions(
        subscribe=Capability.RECEIVE_MEDIA in granted,
        publish_audio=Capability.SPEAK in granted,
        publish_video=Capability.VIDEO in granted,
        publish_screen=Capability.SHARE_SCREEN in granted,
    )


def role_permissions(role: Role) -> JanusPermissions:
    """Janus permissions of a role, from the capability table (a Consumer subscribes only)."""
    return permissions_for(ROLE_CAPABILITIES[role])


@dataclass(frozen=True, slots=True)
class Admitted:
    """An identity a VideoRoom admits: its role, membership epoch and the end of its
    window (the room's, or the participant's own when earlier)."""

    role: Role
    epoch: int
    until: datetime


def forbids_publishing(before: Role, after: Role) -> bool:
    """Whether a role change takes the right to publish away (a new membership epoch)."""
    return role_permissions(before).publish and not role_permissions(after).publish


def grants_publishing(before: Role, after: Role) -> bool:
    """Whether a role change gives the right to publish (its token joins `allowed`)."""
    return not role_permissions(before).publish and role_permissions(after).publish


@dataclass(frozen=True, slots=True)
class Candidate:
    """An identity that may be in a room's VideoRoom: on the roster, or issued a Janus
    credential at its current epoch (admitted by an open join policy or a host)."""

    user_id: str
    rostered_role: Role | None
    epoch: int
    knock: Knock | None = None
    banned: bool = False
    # The roster entry's own window (none off the roster).
    window: ParticipantWindow = NO_OWN_WINDOW


def admitted_now(room: Room, candidates: Iterable[Candidate], now: datetime) -> dict[str, Admitted]:
    """Who the VideoRoom should admit at `now`: each candidate the join decision allows
    now (roster, join policy, ban, waiting room, the room's window and the participant's
    own), with its role, epoch and window end. The input of `plan_room`, so a reconcile
    keeps exactly the identities AuthorizeJoin would admit."""
    admitted: dict[str, Admitted] = {}
    for candidate in candidates:
        decision = decide_with_waiting_room(
            room,
            candidate.rostered_role,
            candidate.knock,
            now,
            banned=candidate.banned,
            window=candidate.window,
        )
        if decision.allowed and decision.role is not None and decision.valid_until is not None:
            admitted[candidate.user_id] = Admitted(
                decision.role, candidate.epoch, decision.valid_until
            )
    return admitted
