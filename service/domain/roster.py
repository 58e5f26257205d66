"""The roster change plans: what AddOrUpdateParticipants and RemoveParticipants do.

Pure rules (no I/O). `plan_upsert`: given the entries as they are, the identities
banned, and the request, which entries are added, which change role or own window
(an entry's window is what the request says: a bound left unset is the room's), which
are no-ops,
which events follow (bans lifted first, then one event per change, in the request's
order), which identities lose the right to publish (a new membership epoch), and the
roster limit. `plan_removal`: given the entries, bans, knock records and seats of the
identities named, who is removed, who is newly banned, whose admission and seat go,
which events follow, who starts a new membership epoch and whether the room's etag
changes. Storage reads the facts and only persists the plans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import datetime

from service.domain import events
from service.domain.errors import roster_full
from service.domain.events import NewEvent
from service.domain.janus import forbids_publishing
from service.domain.models import Participant, Role, RosterEntry
from service.domain.seats import Seat
from service.domain.waiting_room import KnockState


@dataclass(frozen=True, slots=True)
class RosterPlan:
    """What one AddOrUpdateParticipants changes."""

    # Every requested entry as it will be, in the request's order (no-ops included).
    result: list[Participant]
    # The entries to write (added or changed role), in the request's order.
    changed: list[Participant] = field(default_factory=list)
    # The events to append, in order.
    history: list[NewEvent] = field(default_factory=list)
    # Identities whose ban the change lifts (adding an identity lifts its ban).
    lifted: list[str] = field(default_factory=list)
    # Identities whose new role takes publishing away (they start a new epoch).
    silenced: list[str] = field(default_factory=list)
    # The room's participant count after the change.
    count: int = 0


def plan_upsert(
    room_id: str,
    roster: Sequence[RosterEntry],
    existing: Mapping[str, Participant],
    banned: Set[str],
    participant_count: int,
    max_roster_size: int,
    now: datetime,
) -> RosterPlan:
    """The plan of adding or updating `roster` (distinct identities) in a room whose
    current entries among them are `existing`; raises ROSTER_FULL past the limit."""
    result: list[Participant] = []
    changed: list[Participant] = []
    history: list[NewEvent] = []
    silenced: list[str] = []
    for entry in roster:
        before = existing.get(entry.user_id)
        window = (entry.valid_from, entry.valid_until)
        if before is None:
            after = Participant(entry.user_id, entry.role, now, now, *window)
            history.append(events.participant_added(entry.user_id, entry.role, *window))
        elif before.role != entry.role or (before.valid_from, before.valid_until) != window:
            after = replace(
                before,
                role=entry.role,
                valid_from=entry.valid_from,
                valid_until=entry.valid_until,
                update_time=now,
            )
            if before.role != entry.role:
                history.append(events.role_changed(entry.user_id, entry.role, before.role))
                if forbids_publishing(before.role, entry.role):
                    silenced.append(entry.user_id)
            if (before.valid_from, before.valid_until) != window:
                history.append(
                    events.participant_window_changed(entry.user_id, entry.role, *window)
                )
        else:
            result.append(before)
            continue
        result.append(after)
        changed.append(after)
    if not changed:
        return RosterPlan(result, count=participant_count)
    count = participant_count + len(roster) - len(existing)
    if count > max_roster_size:
        raise roster_full(room_id, max_roster_size, count)
    changed_ids = {p.user_id for p in changed}
    lifted = [e.user_id for e in roster if e.user_id in banned and e.user_id in changed_ids]
    history = [events.participant_unbanned(user_id) for user_id in lifted] + history
    return RosterPlan(result, changed, history, lifted, silenced, count)


@dataclass(frozen=True, slots=True)
class RemovalPlan:
    """What one RemoveParticipants changes."""

    # Identities taken off the roster, in the request's order.
    removed: list[str] = field(default_factory=list)
    # Identities banned by this call (not banned before), in the request's order.
    banned: list[str] = field(default_factory=list)
    # Identities whose knock record goes (waiting, admitted or denied).
    knocks: list[str] = field(default_factory=list)
    # The seats freed.
    seats: list[Seat] = field(default_factory=list)
    # The events to append, in order.
    history: list[NewEvent] = field(default_factory=list)
    # Identities that start a new membership epoch (their Janus tokens change).
    new_epochs: list[str] = field(default_factory=list)
    # Identities whose removal (and ban) is remembered, so that a credential issued at
    # an earlier version of the room no longer holds: the removed and the banned.
    recorded: list[str] = field(default_factory=list)
    # Whether the room's version (its etag) moves: a caller's change happened.
    changes_version: bool = False
    # The room's participant count after the change.
    count: int = 0

    @property
    def writes(self) -> bool:
        return bool(self.removed or self.banned or self.knocks or self.seats)


def plan_removal(
    user_ids: Sequence[str],
    rostered: Mapping[str, Role],
    banned: Set[str],
    knocks: Mapping[str, KnockState],
    seats: Sequence[Seat],
    participant_count: int,
    ban: bool,
) -> RemovalPlan:
    """The plan of removing `user_ids` (distinct) from a room, banning them too when
    `ban`: `rostered`, `banned`, `knocks` and `seats` are the room's entries, bans,
    knock records and seats among them as they are.

    Events: per identity in the request's order its removal, then its ban; then the
    admissions (or denials) withdrawn, then the seats released. A host's decision
    withdrawn changes the etag like a removal; a waiting knock or a seat alone does not
    (like a knock or a claim)."""
    removed = [u for u in user_ids if u in rostered]
    newly_banned = [u for u in user_ids if ban and u not in banned]
    withdrawn = [u for u in user_ids if knocks.get(u, KnockState.WAITING) is not KnockState.WAITING]
    history: list[NewEvent] = []
    for user_id in user_ids:
        if user_id in rostered:
            history.append(events.participant_removed(user_id, rostered[user_id]))
        if ban and user_id not in banned:
            history.append(events.participant_banned(user_id))
    history += [events.admission_revoked(user_id) for user_id in withdrawn]
    order = {user_id: index for index, user_id in enumerate(user_ids)}
    freed = sorted(seats, key=lambda seat: order[seat.user_id])
    history += [events.seat_released(seat) for seat in freed]
    recorded = set(removed) | set(newly_banned)
    ended = recorded | set(withdrawn)
    return RemovalPlan(
        removed=removed,
        banned=newly_banned,
        knocks=[u for u in user_ids if u in knocks],
        seats=freed,
        history=history,
        new_epochs=[u for u in user_ids if u in ended],
        recorded=[u for u in user_ids if u in recorded],
        changes_version=bool(ended),
        count=participant_count - len(removed),
    )
