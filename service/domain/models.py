"""The domain's values: rooms, participants, roles, and the inputs that change them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Role(StrEnum):
    """A participant's role. The stored and wire names are stable."""

    PRESENTER = "presenter"
    ATTENDEE = "attendee"
    CONSUMER = "consumer"
    COLLABORATOR = "collaborator"


DEFAULT_ROLE = Role.ATTENDEE


class JoinPolicy(StrEnum):
    """Who may join a room."""

    INVITE_ONLY = "invite_only"
    OPEN = "open"


DEFAULT_JOIN_POLICY = JoinPolicy.INVITE_ONLY


class RoomState(StrEnum):
    """A room's state, derived from its window and the current time."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    ENDED = "ended"


def state_at(valid_from: datetime, valid_until: datetime, now: datetime) -> RoomState:
    """The state of a window at `now`: the window is half-open, [valid_from, valid_until)."""
    if now < valid_from:
        return RoomState.SCHEDULED
    if now < valid_until:
        return RoomState.OPEN
    return RoomState.ENDED


@dataclass(frozen=True, slots=True)
class RoleCapacity:
    """The seats one role may hold in a room (0: no per-role limit), and the seats
    reserved for it that other roles may not take."""

    role: Role
    max_participants: int = 0
    reserved: int = 0


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes a call: the tenant whose rooms it sees, and the key's name."""

    tenant: str
    key_name: str


@dataclass(frozen=True, slots=True)
class Room:
    """A stored room."""

    room_id: str
    create_time: datetime
    update_time: datetime
    valid_from: datetime
    valid_until: datetime
    pstn_dial_out_enabled: bool
    join_policy: JoinPolicy
    metadata: Mapping[str, str]
    open_join_role: Role
    early_entry: timedelta
    revision: int
    participant_count: int
    last_event_revision: int = 0
    waiting_room_enabled: bool = False
    max_participants: int = 0
    role_capacity: tuple[RoleCapacity, ...] = ()

    @property
    def etag(self) -> str:
        return etag_of(self.revision)

    def state(self, now: datetime) -> RoomState:
        return state_at(self.valid_from, self.valid_until, now)


def etag_of(revision: int) -> str:
    """The etag of a room at a revision: opaque to callers."""
    return f'"{revision}"'


def expected_revision(etag: str) -> int | None:
    """The revision an etag precondition asks for: None when no etag is sent, -1
    (matching nothing) for an etag `etag_of` never issued, look-alikes included."""
    if not etag:
        return None
    inner = etag[1:-1]
    if inner.isascii() and inner.isdigit() and etag_of(int(inner)) == etag:
        return int(inner)
    return -1


@dataclass(frozen=True, slots=True)
class Participant:
    """An identity on a room's roster."""

    user_id: str
    role: Role
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """An identity and the role it should have, as a caller asks for it."""

    user_id: str
    role: Role = DEFAULT_ROLE


@dataclass(frozen=True, slots=True)
class Membership:
    """A room an identity is on the roster of, with its role there."""

    room: Room
    role: Role
    create_time: datetime


@dataclass(frozen=True, slots=True)
class RoomSettings:
    """The caller-settable fields of a room. `None` means "not given"."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None
    pstn_dial_out_enabled: bool = False
    join_policy: JoinPolicy = DEFAULT_JOIN_POLICY
    metadata: Mapping[str, str] = field(default_factory=dict)
    open_join_role: Role = DEFAULT_ROLE
    early_entry: timedelta = timedelta(0)
    waiting_room_enabled: bool = False
    max_participants: int = 0
    role_capacity: tuple[RoleCapacity, ...] = ()


@dataclass(frozen=True, slots=True)
class NewRoom:
    """A room ready to be stored: every default resolved, every rule checked."""

    room_id: str
    valid_from: datetime
    valid_until: datetime
    pstn_dial_out_enabled: bool
    join_policy: JoinPolicy
    metadata: Mapping[str, str]
    open_join_role: Role
    early_entry: timedelta
    waiting_room_enabled: bool = False
    max_participants: int = 0
    role_capacity: tuple[RoleCapacity, ...] = ()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, and the token for the next one ("" at the end)."""

    items: list[T]
    next_page_token: str
