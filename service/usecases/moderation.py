"""Moderation decided by rooms: an application's back end asks, on behalf of someone in
the call (the actor), to mute or unmute another identity; rooms allows it only if the
actor holds MUTE_OTHERS in the room now, records it (history, change stream, webhooks)
and the media servers' sinks push it (Janus `moderate`, LiveKit `MutePublishedTrack`)."""

from __future__ import annotations

from dataclasses import dataclass

from service.domain import rules
from service.domain.admission import Capability
from service.domain.errors import (
    DomainError,
    ErrorReason,
    Violations,
    changing_too_often,
    moderation_not_allowed,
    room_not_found,
)
from service.domain.events import Moderation
from service.domain.models import Caller
from service.usecases.deps import UPDATE_ATTEMPTS, Deps
from service.usecases.judge import judge_join


@dataclass(frozen=True, slots=True)
class ModerationUseCases:
    """ModerateParticipant."""

    deps: Deps

    async def moderate_participant(
        self,
        caller: Caller,
        room_id: str,
        actor_user_id: str,
        user_id: str,
        *,
        muted: bool,
        video: bool,
    ) -> tuple[Moderation, int]:
        """Record a moderation of `user_id` asked by `actor_user_id`: PERMISSION_DENIED
        (MODERATION_NOT_ALLOWED, saying why) unless the actor's join decision allows it
        now with MUTE_OTHERS. The right is judged on one version of the room and the
        event is appended only at that version, so a demotion of the actor committed
        meanwhile makes it judge again."""
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_user_id(violations, "actor_user_id", actor_user_id)
        rules.check_user_id(violations, "user_id", user_id)
        violations.raise_if_any()
        moderation = Moderation(actor_user_id=actor_user_id, muted=muted, video=video)
        for _ in range(UPDATE_ATTEMPTS):
            judged = await judge_join(self.deps, caller.tenant, room_id, actor_user_id)
            room, now, decision = judged.room, judged.now, judged.decision
            if room is None:
                raise room_not_found(room_id)
            if not decision.allowed:
                raise moderation_not_allowed(room_id, actor_user_id, decision.message)
            if Capability.MUTE_OTHERS not in decision.capabilities:
                role = decision.role.value if decision.role else "none"
                raise moderation_not_allowed(
                    room_id, actor_user_id, f"its role ({role}) does not hold mute_others"
                )
            try:
                revision = await self.deps.store.record_moderation(
                    tenant=caller.tenant,
                    room_id=room_id,
                    user_id=user_id,
                    moderation=moderation,
                    expected_version=room.version,
                    now=now,
                    actor=caller.key_name,
                )
            except DomainError as error:
                if error.reason is ErrorReason.ETAG_MISMATCH:
                    continue  # the room changed since the right was judged
                raise
            return moderation, revision
        raise changing_too_often(room_id, "moderate a participant")
