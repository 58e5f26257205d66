"""Admission: AuthorizeJoin (the decision, a seat, a credential, Janus) and
IntrospectCredential."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from service.domain import rules
from service.domain.admission import JoinDecision, JoinReason
from service.domain.credentials import (
    CredentialFormat,
    CredentialGrant,
    CredentialStatus,
    IssuedCredential,
    UnreadableClaims,
    Verdict,
    judge,
    lifetime,
    not_configured,
)
from service.domain.errors import Violations, changing_too_often, invalid
from service.domain.models import NO_OWN_WINDOW, Caller, Room
from service.domain.seats import Seat
from service.domain.waiting_room import check_display_name
from service.usecases.deps import UPDATE_ATTEMPTS, Deps
from service.usecases.judge import judge_join


@dataclass(frozen=True, slots=True)
class AdmissionUseCases:
    """AuthorizeJoin and IntrospectCredential."""

    deps: Deps

    async def authorize_join(
        self,
        caller: Caller,
        room_id: str,
        user_id: str,
        credential_format: CredentialFormat | None = None,
        display_name: str | None = None,
        claim_seat: bool = False,
    ) -> tuple[JoinDecision, IssuedCredential | None]:
        """The decision; with `claim_seat`, a seat; and when it allows and a format was
        asked for, a credential signed for it. Without `claim_seat`: one database round
        trip (with the ban and waiting-room reads), one signature. A Janus credential
        also puts the join token in the VideoRoom's allowed list first, then records the
        admission (a second round trip), see `_admit_to_janus`."""
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_user_id(violations, "user_id", user_id)
        check_display_name(violations, "display_name", display_name)
        violations.raise_if_any()
        signer = self.deps.credentials
        if credential_format is not None and (
            signer is None or not signer.configured(caller.tenant, credential_format)
        ):
            raise not_configured(credential_format)
        if credential_format is CredentialFormat.JANUS and self.deps.media is None:
            raise not_configured(credential_format)
        for _ in range(UPDATE_ATTEMPTS):
            judged = await judge_join(self.deps, caller.tenant, room_id, user_id)
            room, epoch, now, decision = judged.room, judged.epoch, judged.now, judged.decision
            if decision.reason is JoinReason.WAITING_FOR_ADMISSION and decision.role is not None:
                await self.deps.store.record_knock(
                    tenant=caller.tenant,
                    room_id=room_id,
                    user_id=user_id,
                    role=decision.role,
                    display_name=display_name,
                    now=now,
                    actor=caller.key_name,
                )
            if claim_seat and decision.allowed and room is not None:
                claimed = await self._claim_seat(caller, room, user_id, decision, now)
                if claimed is None:
                    continue  # the room changed between the decision and the claim
                decision = claimed
            if not decision.allowed or credential_format is None or room is None:
                return decision, None
            issued = self._issue(
                caller, room, user_id, decision, credential_format, display_name, now, epoch
            )
            if credential_format is CredentialFormat.JANUS and not await self._admit_to_janus(
                caller, room, user_id, decision, epoch, now
            ):
                continue  # the room changed meanwhile: decide again
            return decision, issued
        raise changing_too_often(room_id, "claim a seat")

    def _issue(
        self,
        caller: Caller,
        room: Room,
        user_id: str,
        decision: JoinDecision,
        credential_format: CredentialFormat,
        display_name: str | None,
        now: datetime,
        epoch: int = 0,
    ) -> IssuedCredential:
        """Sign a credential for an allowed decision. With a seat, the credential never
        outlives the seat by more than one renewal."""
        signer = self.deps.credentials
        assert signer is not None and decision.role is not None
        # The identity's window (its own inside the room's): a credential never outlives it.
        until = _window_end(decision)
        if decision.seat is not None:
            until = min(until, decision.seat.expire_time + self.deps.limits.seat_ttl)
        issue_time, expire_time = lifetime(now, until, self.deps.limits.credential_ttl)
        grant = CredentialGrant(
            tenant=caller.tenant,
            room_id=room.room_id,
            user_id=user_id,
            role=decision.role,
            capabilities=decision.capabilities,
            issue_time=issue_time,
            expire_time=expire_time,
            version=room.version,
            display_name=display_name or "",
            credential_id=uuid.uuid4().hex,
        )
        janus = (
            signer.janus_join(
                caller.tenant, room.room_id, user_id, decision.role, epoch, _window_end(decision)
            )
            if credential_format is CredentialFormat.JANUS
            else None
        )
        return IssuedCredential(
            format=credential_format,
            token=signer.sign(credential_format, grant),
            expire_time=expire_time,
            server_url=signer.server_url(caller.tenant, credential_format),
            janus=janus,
        )

    async def _admit_to_janus(
        self,
        caller: Caller,
        room: Room,
        user_id: str,
        decision: JoinDecision,
        epoch: int,
        now: datetime,
    ) -> bool:
        """Put the identity's join token (of `epoch`) in the VideoRoom's allowed list,
        then record the admission if the room is still as the decision saw it. False
        (the token taken out again) when it changed: a removal, ban, role change or end
        committed meanwhile, whose delivery might otherwise run before the token was
        added and leave it there."""
        media = self.deps.media
        assert media is not None and decision.role is not None
        until = _window_end(decision)
        await media.admit(caller.tenant, room.room_id, user_id, decision.role, epoch, until)
        if await self.deps.store.record_janus_admission(
            tenant=caller.tenant,
            room_id=room.room_id,
            user_id=user_id,
            version=room.version,
            now=now,
        ):
            return True
        await media.retract(caller.tenant, room.room_id, user_id, epoch, until)
        return False

    async def _claim_seat(
        self, caller: Caller, room: Room, user_id: str, decision: JoinDecision, now: datetime
    ) -> JoinDecision | None:
        """Take a seat for an allowed decision: the decision with its seat, ROOM_FULL
        naming the limit reached, or None if the room changed since it was read."""
        assert decision.role is not None
        taken = await self.deps.store.claim_seat(
            tenant=caller.tenant,
            room_id=room.room_id,
            user_id=user_id,
            role=decision.role,
            decided_at_version=room.version,
            now=now,
            limits=self.deps.limits,
            actor=caller.key_name,
        )
        if taken is None:
            return None
        if isinstance(taken, Seat):
            return replace(decision, seat=taken)
        return decision.refused(JoinReason.ROOM_FULL, taken.message, full=taken)

    async def introspect_credential(
        self, caller: Caller, token: str, credential_format: CredentialFormat | None
    ) -> tuple[Verdict, CredentialFormat | None, CredentialGrant | None]:
        """Whether a credential issued to the caller's tenant holds now. One round trip."""
        if not token:
            raise invalid("token", "must not be empty")
        if self.deps.credentials is None:
            raise RuntimeError("introspection needs a credential signer")
        try:
            found, grant = self.deps.credentials.read(caller.tenant, token, credential_format)
        except UnreadableClaims:
            invalid_token = Verdict(
                CredentialStatus.INVALID, "Not a credential issued to this tenant."
            )
            return invalid_token, None, None
        room, participant, _, removal, _ = await self.deps.store.get_join_facts(
            tenant=caller.tenant, room_id=grant.room_id, user_id=grant.user_id
        )
        rostered = participant.role if participant else None
        window = participant.window if participant else NO_OWN_WINDOW
        verdict = judge(grant, self.deps.clock.now(), room, rostered, removal, window)
        return verdict, found, grant


def _window_end(decision: JoinDecision) -> datetime:
    """The end of an allowed decision's window (the identity's own, inside the room's)."""
    assert decision.valid_until is not None, "an allowed decision has a window"
    return decision.valid_until
