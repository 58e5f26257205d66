"""The roster change plan: what an AddOrUpdateParticipants does to a room's roster.

Pure rules (no I/O): given the entries as they are, the identities banned, and the
request, which entries are added, which change role, which are no-ops, which events
follow (bans lifted first, then one event per change, in the request's order), which
identities lose the right to publish (a new membership epoch), and the roster limit.
Storage only persists the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import datetime

from service.domain import events
from service.domain.errors import roster_full
from service.domain.events import NewEvent
from service.domain.janus import forbids_publishing
from service.domain.models import Participant, RosterEntry


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
        if before is None:
            after = Participant(entry.user_id, entry.role, now, now)
            history.append(events.participant_added(entry.user_id, entry.role))
        elif before.role != entry.role:
            after = replace(before, role=entry.role, update_time=now)
            history.append(events.role_changed(entry.user_id, entry.role, before.role))
            if forbids_publishing(before.role, entry.role):
                silenced.append(entry.user_id)
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
