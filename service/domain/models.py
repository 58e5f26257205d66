"""The domain's values: rooms, participants, roles, and the inputs that change them."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar, get_type_hints

from service.domain import recurrence

T = TypeVar("T")


def new_id() -> str:
    """A server-generated id (a room's, a webhook's, a seat's): 26 lower-case base32
    characters (128 random bits)."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


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
class WindowBounds:
    """The windows in one state at one instant, as bounds on each end: a window is in
    it when `starts_after < valid_from <= starts_by` and `ends_after < valid_until <=
    ends_by` (None: no bound). What a list filtered by state compares its rows
    against, so the rule stays in `state_at` and the SQL only compares."""

    starts_after: datetime | None = None
    starts_by: datetime | None = None
    ends_after: datetime | None = None
    ends_by: datetime | None = None

    def admits(self, valid_from: datetime, valid_until: datetime) -> bool:
        return (
            (self.starts_after is None or self.starts_after < valid_from)
            and (self.starts_by is None or valid_from <= self.starts_by)
            and (self.ends_after is None or self.ends_after < valid_until)
            and (self.ends_by is None or valid_until <= self.ends_by)
        )


def state_bounds(state: RoomState | None, now: datetime) -> WindowBounds:
    """The windows whose `state_at(..., now)` is `state` (every window for None)."""
    if state is RoomState.SCHEDULED:
        return WindowBounds(starts_after=now)
    if state is RoomState.OPEN:
        return WindowBounds(starts_by=now, ends_after=now)
    if state is RoomState.ENDED:
        return WindowBounds(ends_by=now)
    return WindowBounds()


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
class RoomSettings:
    """A room's settable fields: the one list of them.

    As a request carries them, an unset window is `None` (the rules give it its
    default: `windows.resolve_window`); `ResolvedSettings`, `NewRoom` and `Room` extend
    this value with the window set. The codecs (protobuf in `service/transport/convert.py`,
    event payloads in `service/domain/events.py`, rows in `service/storage/rows.py`)
    walk these fields by name and type, so a new setting of a known type needs no
    codec edit: add it here, give it its rule in `rules.check_settings`, and add it
    to the proto and a migration.
    """

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
    # RFC 5545 lines (service/domain/recurrence.py) and the zone they are expanded in
    # ("" means UTC). Empty: the room is its one window.
    recurrence: tuple[str, ...] = ()
    time_zone: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedSettings(RoomSettings):
    """A room's settings with every default resolved: what a room holds and what an
    event records."""

    valid_from: datetime
    valid_until: datetime

    def state(self, now: datetime) -> RoomState:
        return state_at(*self.window(now), now)

    @property
    def series(self) -> recurrence.Series | None:
        """What the occurrences follow from; None for a room that does not repeat."""
        if not self.recurrence:
            return None
        return recurrence.Series(
            tuple(self.recurrence),
            self.time_zone or recurrence.DEFAULT_TIME_ZONE,
            self.valid_from,
            self.valid_until - self.valid_from,
        )

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The window that counts at `now`: `valid_from`..`valid_until`, or for a
        recurring room the occurrence under way, else the next, else the last."""
        series = self.series
        if series is None:
            return self.valid_from, self.valid_until
        try:
            found = recurrence.window_at(series, now)
        except recurrence.RecurrenceError:  # checked when written; never expected
            return self.valid_from, self.valid_until
        return found.start, found.end

    def occurrences(self) -> tuple[recurrence.Occurrence, ...]:
        """Every occurrence (one for a room that does not repeat)."""
        series = self.series
        if series is not None:
            try:
                return recurrence.occurrences(series)
            except recurrence.RecurrenceError:
                pass
        return (recurrence.Occurrence(self.valid_from, self.valid_until),)


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(RoomSettings))
# Each setting's type (window set), which the codecs dispatch on.
SETTING_TYPES: Mapping[str, Any] = {
    name: kind for name, kind in get_type_hints(ResolvedSettings).items() if name in SETTING_NAMES
}
SETTING_DEFAULTS: Mapping[str, Any] = {
    f.name: f.default_factory() if f.default_factory is not MISSING else f.default
    for f in fields(RoomSettings)
}

# The API's name for a setting where it differs from the domain's (the proto field,
# the update-mask path, the name in `changed_fields`).
API_NAMES: Mapping[str, str] = {"early_entry": "early_entry_duration"}


def api_name(setting: str) -> str:
    return API_NAMES.get(setting, setting)


def settings_of(value: RoomSettings) -> ResolvedSettings:
    """Only the settings of a room (or of a new room), without its identity."""
    resolved = {name: getattr(value, name) for name in SETTING_NAMES}
    return ResolvedSettings(**resolved)


@dataclass(frozen=True, slots=True, kw_only=True)
class Room(ResolvedSettings):
    """A stored room: its settings, identity and counters."""

    room_id: str
    create_time: datetime
    update_time: datetime
    # Grows with every change a caller makes to the room's settings or roster; the
    # etag is made of it. Not an event's revision (that is `last_event_revision`).
    version: int
    participant_count: int
    last_event_revision: int = 0

    @property
    def etag(self) -> str:
        return etag_of(self.version)


def etag_of(version: int) -> str:
    """The etag of a room (or a webhook) at a version: opaque to callers."""
    return f'"{version}"'


def expected_version(etag: str) -> int | None:
    """The version an etag precondition asks for: None when no etag is sent, -1
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
    # The identity's own window inside the room's (None: the room's bound).
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @property
    def window(self) -> ParticipantWindow:
        return ParticipantWindow(self.valid_from, self.valid_until)


@dataclass(frozen=True, slots=True)
class ParticipantWindow:
    """An identity's own window: when it may join, inside the room's window (each bound
    None: the room's). The effective window is the intersection with the room's."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def opens_at(self, room_opens_at: datetime) -> datetime:
        """When the identity may join, given when the room lets its role in."""
        if self.valid_from is None:
            return room_opens_at
        return max(room_opens_at, self.valid_from)

    def ends_at(self, room_valid_until: datetime) -> datetime:
        """When the identity's window ends: the room's end, or its own when earlier."""
        if self.valid_until is None:
            return room_valid_until
        return min(room_valid_until, self.valid_until)


NO_OWN_WINDOW = ParticipantWindow()


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """An identity and the role (and own window) it should have, as a caller asks."""

    user_id: str
    role: Role = DEFAULT_ROLE
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    """A room an identity is on the roster of, with its role there."""

    room: Room
    role: Role
    create_time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewRoom(ResolvedSettings):
    """A room ready to be stored: every default resolved, every rule checked."""

    room_id: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, and the token for the next one ("" at the end)."""

    items: list[T]
    next_page_token: str
