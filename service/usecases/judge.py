"""How an identity would be judged joining now: what AuthorizeJoin answers
(service/usecases/admission.py) and what ModerateParticipant requires of its actor
(service/usecases/moderation.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain.admission import JoinDecision
from service.domain.models import NO_OWN_WINDOW, Room
from service.domain.waiting_room import decide_with_waiting_room
from service.usecases.deps import Deps


@dataclass(frozen=True, slots=True)
class Judged:
    """An identity's join decision now, and the room version it was read at."""

    room: Room | None
    epoch: int
    now: datetime
    decision: JoinDecision


async def judge_join(deps: Deps, tenant: str, room_id: str, user_id: str) -> Judged:
    """How `user_id` would be judged joining now (roster, ban, window, waiting room)."""
    room, participant, knock, removal, epoch = await deps.store.get_join_facts(
        tenant=tenant, room_id=room_id, user_id=user_id
    )
    now = deps.clock.now()
    decision = decide_with_waiting_room(
        room,
        participant.role if participant else None,
        knock,
        now,
        banned=removal is not None and removal.banned,
        window=participant.window if participant else NO_OWN_WINDOW,
    )
    return Judged(room, epoch, now, decision)
