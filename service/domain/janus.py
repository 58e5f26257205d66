"""What rooms hands to Janus and to a Janus client: pure functions, no I/O.

Janus (the Meetecho WebRTC server) admits a request when it carries a core token signed
with the deployment's `token_auth_secret`; its VideoRoom plugin admits a `join` when the
request's `token` is in the room's `allowed` list. Everything here is derived, so any
replica (and a reconcile after a Janus restart) computes the same values:

- the core token: `<expiry>,janus,<plugin>[,<plugin>...]:<base64 HMAC-SHA1>` (Janus's
  own format, checked against Janus 1.1.2 in docs/janus.md);
- the VideoRoom room number of a (tenant, room), a 53-bit integer (safe in JavaScript);
- the participant id an identity joins with, also 53-bit;
- the per-room secret (the VideoRoom `secret` that guards `allowed`, `kick`, `destroy`);
- the per-identity join token, which changes with the membership epoch so a token handed
  out before a removal never works again;
- the role -> Janus permissions mapping, derived from the capability table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from service.domain.admission import ROLE_CAPABILITIES, Capability
from service.domain.models import Role, Room
from service.domain.waiting_room import Knock, decide_with_waiting_room

VIDEOROOM_PLUGIN = "janus.plugin.videoroom"
"""The one Janus plugin rooms drives; its name is what a core token grants."""

_REALM = "janus"
_MAX_SAFE = (1 << 53) - 1  # JavaScript's Number.MAX_SAFE_INTEGER


def _encode(label: str, *parts: str) -> bytes:
    """An unambiguous byte string for hashing: each part prefixed by its length."""
    out = bytearray()
    for part in (label, *parts):
        data = part.encode()
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def _id53(label: str, *parts: str) -> int:
    """A stable integer in [1, 2**53 - 1] from a SHA-256 of the parts."""
    digest = hashlib.sha256(_encode(label, *parts)).digest()
    value = int.from_bytes(digest[:8], "big") & _MAX_SAFE
    return value or 1


def _mac(secret: bytes, label: str, *parts: str) -> str:
    digest = hmac.new(secret, _encode(label, *parts), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def core_token(
    token_auth_secret: bytes, expires_at: datetime, plugins: Iterable[str] = (VIDEOROOM_PLUGIN,)
) -> str:
    """A Janus core token valid until `expires_at` (rounded down to the second, so it never
    outlives it) for `plugins`."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    names = list(plugins)
    if not names or any("," in name or ":" in name for name in names):
        raise ValueError("plugins must be one or more names without ',' or ':'")
    expiry = int(expires_at.astimezone(UTC).timestamp())
    data = ",".join([str(expiry), _REALM, *names])
    signature = hmac.new(token_auth_secret, data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(signature).decode()}"


def room_number(tenant: str, room_id: str) -> int:
    """The VideoRoom number of a room: stable, 53-bit safe, distinct per tenant."""
    return _id53("rooms/janus/room", tenant, room_id)


def participant_id(tenant: str, room_id: str, user_id: str) -> int:
    """The VideoRoom participant id an identity joins with. Not a secret: every participant
    of the room sees the ids of the others. Fixed per identity, so rooms can kick it."""
    return _id53("rooms/janus/participant", tenant, room_id, user_id)


def sentinel_number(tenant: str) -> int:
    """The number of the tenant's sentinel VideoRoom: rooms creates it (admitting nobody)
    after it has reconciled every open room, so finding it missing tells that Janus
    restarted (Janus forgets every room created over its API)."""
    return _id53("rooms/janus/sentinel", tenant)


def room_secret(tenant_secret: bytes, tenant: str, room_id: str) -> str:
    """The VideoRoom `secret` of a room, derived from the tenant's room secret, so a secret
    seen for one room opens no other."""
    return _mac(tenant_secret, "rooms/janus/room-secret", tenant, room_id)


def join_token(tenant_secret: bytes, tenant: str, room_id: str, user_id: str, epoch: int) -> str:
    """The opaque token an identity presents in its VideoRoom `join`. A new membership
    `epoch` (a removal, a ban, a role change) gives a new token, so old ones stay dead."""
    if epoch < 0:
        raise ValueError("epoch must not be negative")
    return _mac(tenant_secret, "rooms/janus/join", tenant, room_id, user_id, str(epoch))


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
        return frozenset(member.join_token for member in self.members)

    @property
    def participant_ids(self) -> frozenset[int]:
        return frozenset(member.participant_id for member in self.members)

    def member(self, user_id: str) -> JanusMember | None:
        return next((m for m in self.members if m.user_id == user_id), None)


def plan_room(
    tenant_secret: bytes, tenant: str, room_id: str, admitted: Mapping[str, tuple[Role, int]]
) -> JanusRoomPlan:
    """The VideoRoom for `room_id` with `admitted` (user id -> (role, membership epoch))."""
    members = tuple(
        JanusMember(
            user_id=user_id,
            participant_id=participant_id(tenant, room_id, user_id),
            join_token=join_token(tenant_secret, tenant, room_id, user_id, epoch),
            permissions=role_permissions(role),
        )
        for user_id, (role, epoch) in sorted(admitted.items())
    )
    return JanusRoomPlan(
        number=room_number(tenant, room_id),
        secret=room_secret(tenant_secret, tenant, room_id),
        # The description is visible to anyone who lists rooms: the tenant stays out of it.
        description=f"rooms {room_number(tenant, room_id)}",
        members=members,
    )


def forbids_publishing(before: Role, after: Role) -> bool:
    """Whether a role change takes the right to publish away (a new membership epoch)."""
    return role_permissions(before).publish and not role_permissions(after).publish


@dataclass(frozen=True, slots=True)
class Candidate:
    """An identity that may be in a room's VideoRoom: on the roster, or issued a Janus
    credential at its current epoch (admitted by an open join policy or a host)."""

    user_id: str
    rostered_role: Role | None
    epoch: int
    knock: Knock | None = None
    banned: bool = False


def admitted_now(
    room: Room, candidates: Iterable[Candidate], now: datetime
) -> dict[str, tuple[Role, int]]:
    """Who the VideoRoom should admit at `now`: each candidate the join decision allows
    now (roster, join policy, ban, waiting room, window), with its role and epoch. The
    input of `plan_room`, so a reconcile keeps exactly the identities AuthorizeJoin
    would admit."""
    admitted: dict[str, tuple[Role, int]] = {}
    for candidate in candidates:
        decision = decide_with_waiting_room(
            room, candidate.rostered_role, candidate.knock, now, banned=candidate.banned
        )
        if decision.allowed and decision.role is not None:
            admitted[candidate.user_id] = (decision.role, candidate.epoch)
    return admitted


def stale_tokens(
    tenant_secret: bytes, tenant: str, room_id: str, user_id: str, epoch: int, *, keep: bool
) -> list[str]:
    """The join tokens of `user_id`'s earlier epochs (the last 64 of them; each bump
    removes the one before, so older ones are gone already), and its current one unless
    `keep` (it is still admitted)."""
    last = epoch if keep else epoch + 1
    return [
        join_token(tenant_secret, tenant, room_id, user_id, e)
        for e in range(max(0, last - 64), last)
    ]
