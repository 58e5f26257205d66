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
- the per-identity join token: a VideoRoom-signed token (`<expiry>,janus.plugin.videoroom,
  room=<N>,p=<participant>,e=<epoch>:<base64 HMAC-SHA1>`) that Janus checks on every
  `join` of a room created with `signed_tokens`, publisher or subscriber; it expires at
  the end of the identity's window and changes with the membership epoch, so a token
  handed out before a removal never works again (publishers must also be in `allowed`);
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
from service.domain.models import NO_OWN_WINDOW, ParticipantWindow, Role, Room
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
    return _signed(token_auth_secret, ",".join([str(expiry), _REALM, *names]))


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


def _signed(token_auth_secret: bytes, data: str) -> str:
    signature = hmac.new(token_auth_secret, data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(signature).decode()}"


def join_token(
    token_auth_secret: bytes,
    tenant: str,
    room_id: str,
    user_id: str,
    epoch: int,
    expires_at: datetime,
) -> str:
    """The token an identity presents in its VideoRoom `join` (publisher or subscriber):
    signed for the VideoRoom plugin with the room's descriptor, as Janus checks in a room
    created with `signed_tokens` (janus_videoroom.c, `janus_videoroom_access_room`). The
    participant id and membership `epoch` make it one identity's at one epoch (a removal,
    a ban, a demotion gives a new one); `expires_at` (the end of the identity's window,
    rounded down) makes it deterministic, so a reconcile recomputes it."""
    if epoch < 0:
        raise ValueError("epoch must not be negative")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    expiry = int(expires_at.astimezone(UTC).timestamp())
    number = room_number(tenant, room_id)
    member = participant_id(tenant, room_id, user_id)
    data = f"{expiry},{VIDEOROOM_PLUGIN},room={number},p={member},e={epoch}"
    return _signed(token_auth_secret, data)


def room_token(token_auth_secret: bytes, number: int, expires_at: datetime) -> str:
    """A VideoRoom token signed for room `number` alone (rooms' own, and the tests')."""
    expiry = int(expires_at.astimezone(UTC).timestamp())
    return _signed(token_auth_secret, f"{expiry},{VIDEOROOM_PLUGIN},room={number}")


def token_participant(token: str) -> int | None:
    """The participant id a join token names (`p=` descriptor); None for another token.
    Not a verification: Janus verifies; rooms only sorts its own tokens by identity."""
    data = token.split(":", 1)[0].split(",")
    for part in data[2:]:
        if part.startswith("p=") and part[2:].isdigit():
            return int(part[2:])
    return None


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


def stale_tokens(allowed: Iterable[str], number: int, member: int, keep: str | None) -> list[str]:
    """The tokens in a room's `allowed` list that name participant `member` (any epoch,
    any expiry), but `keep` (its current token while it may still publish)."""
    prefix = f"room={number}"
    return sorted(
        token
        for token in allowed
        if token != keep
        and token_participant(token) == member
        and prefix in token.split(":", 1)[0].split(",")
    )


def moderated_mids(streams: Iterable[tuple[str, str]], video: bool) -> list[str]:
    """The mids a moderation acts on among a publisher's (type, mid) streams: every
    audio stream, and every video stream when `video`. Janus cannot tell a camera from
    a screen share (both are `video`), so a video moderation covers both; data
    channels are never touched."""
    kinds = {"audio", "video"} if video else {"audio"}
    return [mid for kind, mid in streams if kind in kinds]
