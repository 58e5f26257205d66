"""The waiting room: who must knock, and what a host's admit or deny means for the
next join decision. The decision builds on `admission.decide_join` and changes only
answers that would otherwise be "allowed"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from service.domain import events
from service.domain.admission import (
    ROLE_CAPABILITIES,
    Capability,
    JoinDecision,
    JoinReason,
    decide_join,
)
from service.domain.admission import would_be_role as would_be_role  # the storage's import
from service.domain.errors import Violations
from service.domain.events import NewEvent
from service.domain.models import NO_OWN_WINDOW, ParticipantWindow, Role, Room

DISPLAY_NAME_MAX_LENGTH = 256


class KnockState(StrEnum):
    """Where a knock stands (stored names; mirror `rooms.v1.KnockState`)."""

    WAITING = "waiting"
    ADMITTED = "admitted"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class Knock:
    """An identity that knocked on a room, or was admitted or denied (in advance or not).

    `role` is the admitted role when `role_chosen`, else the role the identity would
    have had when the record was last written."""

    user_id: str
    state: KnockState
    role: Role | None
    role_chosen: bool
    display_name: str | None
    first_knock_time: datetime | None
    last_knock_time: datetime | None
    decide_time: datetime | None
    sort_time: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    """What a host's admit or deny writes: the knock's role, whether the host chose it,
    the event that follows, and whether the identity's membership epoch starts anew."""

    role: Role | None
    role_chosen: bool
    event: NewEvent
    new_epoch: bool


def plan_decision(
    user_id: str,
    before: Knock | None,
    state: KnockState,
    chosen_role: Role | None,
    would_be: Role | None,
) -> Decision | None:
    """Admit or deny `user_id`; None when it was already decided the same way (deciding
    again changes nothing). `would_be`: the role the identity would join with."""
    if (
        before is not None
        and before.state is state
        and before.role_chosen == (chosen_role is not None)
        and (chosen_role is None or before.role is chosen_role)
    ):
        return None
    role = chosen_role or would_be
    event = (
        events.participant_admitted(user_id, role)
        if state is KnockState.ADMITTED
        else events.participant_denied(user_id)
    )
    return Decision(role, chosen_role is not None, event, state is KnockState.DENIED)


def check_display_name(violations: Violations, field: str, name: str | None) -> None:
    if name is None:
        return
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        violations.add(field, f"must be at most {DISPLAY_NAME_MAX_LENGTH} characters")
    elif not name.isprintable():
        violations.add(field, "must be printable (no control or invisible separator characters)")


def may_admit(role: Role) -> bool:
    """Whether a role lets its holder skip the waiting room (and admit others)."""
    return Capability.ADMIT_PARTICIPANTS in ROLE_CAPABILITIES[role]


def decide_with_waiting_room(
    room: Room | None,
    rostered_role: Role | None,
    knock: Knock | None,
    now: datetime,
    *,
    banned: bool = False,
    window: ParticipantWindow = NO_OWN_WINDOW,
) -> JoinDecision:
    """The join decision in a room that may have a waiting room (`window`: the roster
    entry's own window, see `decide_join`).

    The room, its join policy and its window decide first (`decide_join`): an
    invite-only room still answers NOT_INVITED to identities off the roster, and
    nobody knocks before the room opens (early entry aside) or after it ends. Then,
    in a room with its waiting room on, an identity whose role lacks
    ADMIT_PARTICIPANTS is allowed only once admitted (with the admitted role when a
    host chose one), is DENIED after a denial, and otherwise WAITING_FOR_ADMISSION:
    the caller records a knock."""
    admitted = knock is not None and knock.state is KnockState.ADMITTED
    chosen = knock.role if admitted and knock is not None and knock.role_chosen else None
    decision = decide_join(room, rostered_role, now, banned=banned, window=window)
    if room is None or not room.waiting_room_enabled or decision.role is None:
        return decision
    if chosen is not None and chosen is not decision.role:
        # The host chose the role: the window (early entry) is judged for that role.
        decision = decide_join(room, chosen, now, window=window)
    role = decision.role
    if not decision.allowed or role is None or may_admit(role) or admitted:
        return decision
    if knock is not None and knock.state is KnockState.DENIED:
        return decision.refused(JoinReason.DENIED, "A host denied you entry to this room.")
    return decision.refused(
        JoinReason.WAITING_FOR_ADMISSION, "Please wait: a host will let you in."
    )
