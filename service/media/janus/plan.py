"""The state a tenant's VideoRoom should have (`JanusRoomPlan`): what a reconcile makes
Janus match, computed from who is admitted now (`service.domain.janus.admitted_now`) and
the derived values of `tokens`. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from service.domain.janus import Admitted, JanusPermissions, role_permissions
from service.media.janus.tokens import join_token, participant_id, room_number, room_secret


@dataclass(frozen=True, slots=True)
class JanusMember:
    """One admitted identity as Janus sees it."""

    user_id: str
    participant_id: int
    join_token: str
    permissions: JanusPermissions


@dataclass(frozen=True, slots=True)
class JanusRoomPlan:
    """The state a VideoRoom should have: what a reconcile makes Janus match."""

    number: int
    secret: str
    description: str
    members: tuple[JanusMember, ...]

    @property
    def allowed(self) -> frozenset[str]:
        """The `allowed` list: the join tokens of the members that may publish (a
        subscriber join is checked against the room's signature, not this list)."""
        return frozenset(m.join_token for m in self.members if m.permissions.publish)

    @property
    def participant_ids(self) -> frozenset[int]:
        return frozenset(member.participant_id for member in self.members)

    def member(self, user_id: str) -> JanusMember | None:
        return next((m for m in self.members if m.user_id == user_id), None)


def plan_room(
    token_auth_secret: bytes,
    room_key: bytes,
    tenant: str,
    room_id: str,
    admitted: Mapping[str, Admitted],
) -> JanusRoomPlan:
    """The VideoRoom for `room_id` with `admitted` (user id -> role, epoch, window end):
    join tokens signed with `token_auth_secret`, the room secret derived from the
    tenant's `room_key`."""
    members = tuple(
        JanusMember(
            user_id=user_id,
            participant_id=participant_id(tenant, room_id, user_id),
            join_token=join_token(
                token_auth_secret, tenant, room_id, user_id, entry.epoch, entry.until
            ),
            permissions=role_permissions(entry.role),
        )
        for user_id, entry in sorted(admitted.items())
    )
    return JanusRoomPlan(
        number=room_number(tenant, room_id),
        secret=room_secret(room_key, tenant, room_id),
        # The description is visible to anyone who lists rooms: the tenant stays out of it.
        description=f"rooms {room_number(tenant, room_id)}",
        members=members,
    )


def moderated_mids(streams: Iterable[tuple[str, str]], video: bool) -> list[str]:
    """The mids a moderation acts on among a publisher's (type, mid) streams: every
    audio stream, and every video stream when `video`. Janus cannot tell a camera from
    a screen share (both are `video`), so a video moderation covers both; data
    channels are never touched."""
    kinds = {"audio", "video"} if video else {"audio"}
    return [mid for kind, mid in streams if kind in kinds]
