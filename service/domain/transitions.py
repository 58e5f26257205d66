"""The time-based transitions of a room: OPENED when its window opens, ENDED when it
ends. Nobody writes them; the lifecycle task announces what a room owes.

Pure rules (no I/O): given the state last announced for a room and its window, which
transitions it owes at `now`, with the bound each marks as its time. Storage reads the
candidates and only persists the plan (service/storage/history.py; for a recurring
room, each occurrence: service/storage/occurrences.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain.events import EventType
from service.domain.models import RoomState, state_at
from service.domain.recurrence import Occurrence, Series, window_at

# A room's states in the order its window goes through them.
IN_ORDER: tuple[RoomState, ...] = (RoomState.SCHEDULED, RoomState.OPEN, RoomState.ENDED)


@dataclass(frozen=True, slots=True)
class Transition:
    """One transition to announce."""

    type: EventType  # OPENED or ENDED
    event_time: datetime  # the window bound it marks, not when it was noticed
    state: RoomState  # the state announced once it is written


def owed_transitions(
    announced: RoomState, valid_from: datetime, valid_until: datetime, now: datetime
) -> list[Transition]:
    """The transitions a room whose announced state is `announced` owes at `now`, in
    order: both at once when its whole window passed before anyone looked."""
    reached = state_at(valid_from, valid_until, now)
    owed: list[Transition] = []
    if announced is RoomState.SCHEDULED and reached is not RoomState.SCHEDULED:
        owed.append(Transition(EventType.OPENED, valid_from, RoomState.OPEN))
    if announced is not RoomState.ENDED and reached is RoomState.ENDED:
        owed.append(Transition(EventType.ENDED, valid_until, RoomState.ENDED))
    return owed


def announced_after_change(announced: RoomState, state: RoomState) -> RoomState:
    """What a room keeps as announced once its window changed, `state` being its state
    at the change: a transition beyond it (a window moved later) is forgotten, to be
    announced anew at the new bound."""
    return min(announced, state, key=IN_ORDER.index)


@dataclass(frozen=True, slots=True)
class OccurrencePlan:
    """What a recurring room owes: its transitions, then the occurrence it tracks and the
    state announced for it."""

    transitions: list[Transition]
    tracked: Occurrence
    announced: RoomState


def owed_occurrence_transitions(
    announced: RoomState, tracked: Occurrence, series: Series, now: datetime
) -> OccurrencePlan:
    """A recurring room announces OPENED and ENDED for each occurrence it is seen through:
    those `tracked` (the occurrence `announced` is the state of) owes at `now`, then,
    once it ended, it moves on to the occurrence that counts at `now` (under way, else
    the next) and announces what that one owes. Occurrences that began and ended
    unseen in between (a lifecycle stopped that long) are not announced."""
    owed = owed_transitions(announced, tracked.start, tracked.end, now)
    state = owed[-1].state if owed else announced
    if state is RoomState.ENDED:
        following = window_at(series, now)
        if following.start > tracked.start:
            more = owed_transitions(RoomState.SCHEDULED, following.start, following.end, now)
            return OccurrencePlan(
                owed + more, following, more[-1].state if more else RoomState.SCHEDULED
            )
    return OccurrencePlan(owed, tracked, state)
