"""Property-based fuzzing of every RPC of a real server (hypothesis).

Generated valid and invalid requests go to each of the twelve RPCs: huge and empty
strings, unicode (astral plane, right-to-left, combining marks), NUL bytes and other
control characters, SQL fragments, out-of-range timestamps and durations, unknown
enum numbers, negative and huge page sizes, garbage, tampered and foreign page
tokens, duplicates within a batch, huge batches, odd call metadata and update masks
with junk paths. Every call must answer OK or one of the precise error codes, never
UNKNOWN or INTERNAL, and every error must carry an ErrorInfo whose reason fits its
code. Roster changes also run concurrently on one room. Afterwards the server must
still be healthy, must have logged no unexpected error, and the database invariants
must hold. SQL fragments are shown to be stored and returned literally.

The fuzzing client accepts large response trailers, so that errors naming many fields
can be read and checked; `test_an_error_naming_many_fields_is_readable_by_a_default_client`
checks separately that a client with gRPC's default limits can read them too.

`ROOMS_FUZZ_EXAMPLES` sets the number of examples per RPC (default 100). The number of
cases that ran is printed at the end of the module (visible with `pytest -s`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

import asyncpg
import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from rooms.v1 import (
    admission_pb2,
    participant_pb2,
    participants_service_pb2_grpc,
    room_pb2,
    rooms_service_pb2_grpc,
)
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.security.keys import new_key
from tests.conftest import T0, ServerFactory
from tests.helpers import error_info, ts

if TYPE_CHECKING:
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub

T = TypeVar("T")
Metadata = tuple[tuple[str, str | bytes], ...]

EXAMPLES = int(os.environ.get("ROOMS_FUZZ_EXAMPLES", "100"))
settings.register_profile(
    "rooms-fuzz",
    deadline=None,
    derandomize=False,
    max_examples=EXAMPLES,
    database=None,  # leave no .hypothesis directory behind
    print_blob=True,  # a failure prints the @reproduce_failure blob
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
FUZZ = settings(settings.get_profile("rooms-fuzz"))

# Limits of the fuzzed server: a small roster limit so ROSTER_FULL is reachable.
MAX_ROSTER = 800
MAX_BATCH = 1000
CALL_TIMEOUT = 30.0
TOLERANT_METADATA = 4 * 1024 * 1024

Code = grpc.StatusCode
ALLOWED = {
    Code.OK,
    Code.INVALID_ARGUMENT,
    Code.NOT_FOUND,
    Code.ALREADY_EXISTS,
    Code.ABORTED,
    Code.RESOURCE_EXHAUSTED,
    Code.FAILED_PRECONDITION,
}
# The ErrorInfo reasons each code may come with (README, "Errors").
REASONS = {
    Code.INVALID_ARGUMENT: {
        "INVALID_ARGUMENT",
        "INVALID_WINDOW",
        "INVALID_PAGE_TOKEN",
        "REQUEST_ID_REUSED",
        "BATCH_TOO_LARGE",
        "DUPLICATE_USER_ID",
    },
    Code.NOT_FOUND: {"ROOM_NOT_FOUND", "PARTICIPANT_NOT_FOUND"},
    Code.ALREADY_EXISTS: {"ROOM_ALREADY_EXISTS"},
    Code.ABORTED: {"ETAG_MISMATCH"},
    Code.RESOURCE_EXHAUSTED: {"ROSTER_FULL"},
    Code.FAILED_PRECONDITION: set(),
    Code.UNAUTHENTICATED: {"UNAUTHENTICATED"},
}
ROLES = {"presenter", "attendee", "consumer", "collaborator"}
JOIN_POLICIES = {"invite_only", "open"}

# ---- what ran, and what the server logged ---------------------------------------------

CASES: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()
ERROR_FIELDS: Counter[str] = Counter()  # "rpc field" of each error naming a field


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


SERVER_ERRORS = _Collect()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """Collect the server's error logs; print how many cases ran."""
    logger = logging.getLogger("service")
    logger.addHandler(SERVER_ERRORS)
    yield
    logger.removeHandler(SERVER_ERRORS)
    total = sum(CASES.values())
    print(f"\n[fuzz] {total} hypothesis cases ran against the server")
    for rpc, count in sorted(CASES.items()):
        print(f"[fuzz]   {rpc}: {count}")
    print(f"[fuzz] outcomes: {dict(sorted(OUTCOMES.items()))}")
    common = ", ".join(f"{name} ({count})" for name, count in ERROR_FIELDS.most_common(12))
    print(f"[fuzz] fields most often rejected: {common}")


# ---- the server under fuzz ---------------------------------------------------------------


@dataclass
class Fuzz:
    """The fuzzed server, a key for it, and what the fuzzing learnt along the way."""

    tenant: str
    auth: tuple[str, str]
    rooms: RoomsServiceAsyncStub
    participants: ParticipantsServiceAsyncStub
    channel: grpc.aio.Channel
    target: str
    room_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def remember(self, bucket: list[str], value: str, limit: int = 200) -> None:
        if value and len(value) <= 256 and value not in bucket:
            bucket.append(value)
            if len(bucket) > limit:
                del bucket[len(bucket) // 2]


# Shared with the strategies, which read it at draw time.
KNOWN: list[Fuzz] = []


def known() -> Fuzz:
    return KNOWN[0]


@pytest.fixture(scope="module")
async def fuzz(start: ServerFactory) -> AsyncIterator[Fuzz]:
    """A server with a key for a fuzz tenant (and another tenant, for foreign page
    tokens), seeded with rooms, rosters and real page tokens of every list."""
    suffix = uuid.uuid4().hex[:8]
    key, entry = new_key(f"fuzz-{suffix}", "k1")
    other_key, other_entry = new_key(f"fuzz-other-{suffix}", "k1")
    running = await start(
        api_keys=f"{entry.line()},{other_entry.line()}",
        max_roster_size=MAX_ROSTER,
        max_batch_size=MAX_BATCH,
        # Under the fuzzing load a 0.2 s database check can time out spuriously.
        health_check_interval_seconds=2,
    )
    # A client that accepts large trailers, so the fuzzing can read (and check) the
    # errors that name many fields; see test_an_error_naming_many_fields_is_readable.
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{running.port}", options=[("grpc.max_metadata_size", TOLERANT_METADATA)]
    ) as channel:
        rooms: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        participants: ParticipantsServiceAsyncStub = (
            participants_service_pb2_grpc.ParticipantsServiceStub(channel)
        )
        state = Fuzz(
            entry.caller.tenant,
            ("authorization", f"Bearer {key}"),
            rooms,
            participants,
            channel,
            f"127.0.0.1:{running.port}",
        )
        for tenant_key, count in ((key, 6), (other_key, 3)):
            md = (("authorization", f"Bearer {tenant_key}"),)
            for index in range(count):
                room = await rooms.CreateRoom(
                    rs.CreateRoomRequest(
                        room_id=f"seed-{suffix}-{index}",
                        room=room_pb2.Room(
                            valid_from=ts(timedelta(hours=index - 2)),
                            valid_until=ts(timedelta(days=index + 1)),
                            join_policy=(
                                room_pb2.JOIN_POLICY_OPEN
                                if index % 2
                                else room_pb2.JOIN_POLICY_INVITE_ONLY
                            ),
                        ),
                        participants=[
                            participant_pb2.Participant(user_id=f"user-{n}", role=n % 5)  # type: ignore[arg-type]
                            for n in range(index * 3)
                        ],
                    ),
                    metadata=md,
                )
                state.remember(state.room_ids, room.room_id)
            listed = await rooms.ListRooms(rs.ListRoomsRequest(page_size=1), metadata=md)
            roster = await participants.ListParticipants(
                ps.ListParticipantsRequest(room_id=f"seed-{suffix}-2", page_size=2), metadata=md
            )
            memberships = await participants.ListRoomsForParticipant(
                ps.ListRoomsForParticipantRequest(user_id="user-0", page_size=1), metadata=md
            )
            for token in (
                listed.next_page_token,
                roster.next_page_token,
                memberships.next_page_token,
            ):
                assert token
                state.remember(state.tokens, token)
        for n in range(20):
            state.remember(state.user_ids, f"user-{n}")
        KNOWN[:] = [state]
        yield state
        KNOWN.clear()
    await running.stop(0)


# ---- strategies ---------------------------------------------------------------------------


SQL = [
    "'; DROP TABLE rooms; --",
    "%",
    "_",
    "\\",
    "%_\\",
    "' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM participants",
    "$1",
    "$$;$$",
    "E'\\x00'",
    "\\x00",
    "');TRUNCATE rooms;--",
    "NULL",
    "*/ /*",
    "%%",
    "\\'",
]
SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 10,
    "\t",
    "\n",
    "\r\n",
    "\x7f",
    "\x1b[31m",
    "\x08",
    "\u0085",
    "\u00a0",
    "\u200b",
    "\u200e",
    "\u202e",
    "\u2028",
    "\ufeff",
    "\uffff",
    "\U0010ffff",
    "\U000e0001",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u05e9\u05dc\u05d5\u05dd",
    "\u202egnp.exe",
    "e\u0301",
    "a" + "\u0301" * 50,
    "Z\u0364\u0314\u0351a\u0308\u0356\u0347l\u036e\u0312g\u030c\u0317o\u0319",
    "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522",
    "\U0001f600",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f3f3\ufe0f\u200d\U0001f308",
    "\U0001d400",
    "null",
    "None",
    "{}",
    '{"a":1}',
    "*",
    "../../etc/passwd",
    "%00",
    "%s%s%n",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "0",
    "-1",
    "9" * 40,
    "A" * 128,
    "A" * 129,
    "A" * 256,
    "A" * 257,
    "A" * 512,
    "A" * 513,
    "A" * 1025,
    "\u00e9" * 256,
    "\u00e9" * 257,
    "\U0001f600" * 256,
    "\U0001f600" * 257,
    *SQL,
]

any_text = st.text(max_size=60)  # every code point but surrogates: valid UTF-8
# Printable, no whitespace or control characters: often a valid identity.
token_text = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "S", "M"]), min_size=1, max_size=40
)
huge_text = st.builds(
    lambda ch, n: ch * n,
    st.sampled_from(["a", "\u00e9", "\U0001f600", "\x00", " ", "%", "\u202e"]),
    st.integers(1_000, 200_000),
)
small_weird = st.one_of(
    st.sampled_from(SPECIAL),
    any_text,
    st.builds(lambda a, b: a + b, st.sampled_from(SPECIAL), any_text),
)
weird = st.one_of(small_weird, huge_text)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each with its weight (`st.one_of` flattens nested
    choices, so repeating a branch does not weigh it reliably)."""
    total = sum(weight for weight, _ in choices)

    def choose(roll: int) -> st.SearchStrategy[Any]:
        for weight, strategy in choices:
            if roll < weight:
                return strategy
            roll -= weight
        raise AssertionError(roll)

    return st.integers(0, total - 1).flatmap(choose)


def pick(values: Any) -> st.SearchStrategy[str]:
    """One of a list that grows while fuzzing (read at draw time)."""
    return st.integers(0, 10**9).map(
        lambda i: (lambda v: v[i % len(v)] if v else "never-seen")(values())
    )


known_room = pick(lambda: known().room_ids)
known_user = pick(lambda: known().user_ids)
known_token = pick(lambda: known().tokens)

known_deleted = pick(lambda: known().deleted)

room_ids = weighted(
    (60, known_room),
    (5, known_deleted),
    (10, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,30}", fullmatch=True)),
    (25, weird),
)
user_ids = weighted((55, known_user), (20, token_text), (25, weird))
small_user_ids = weighted((40, known_user), (40, token_text), (20, small_weird))

# Timestamps: near T0, at and beyond the edges of years 1..9999, anything in int64.
_T0_SECONDS = int(T0.timestamp())
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799
seconds = st.one_of(
    st.integers(_T0_SECONDS - 400 * 86_400, _T0_SECONDS + 400 * 86_400),
    st.sampled_from(
        [
            _MIN_SECONDS - 1,
            _MIN_SECONDS,
            _MAX_SECONDS,
            _MAX_SECONDS + 1,
            0,
            -1,
            2**63 - 1,
            -(2**63),
            _T0_SECONDS,
            _T0_SECONDS + 1,
        ]
    ),
    st.integers(-(2**63), 2**63 - 1),
)
nanos = st.one_of(
    st.just(0),
    st.integers(0, 999_999_999),
    st.sampled_from([-1, 1_000_000_000, -(2**31), 2**31 - 1]),
)
timestamps = st.builds(timestamp_pb2.Timestamp, seconds=seconds, nanos=nanos)
durations = st.builds(
    duration_pb2.Duration,
    seconds=st.one_of(
        st.integers(0, 2 * 86_400),
        st.sampled_from([-1, 86_400, 86_401, 315_576_000_000, 315_576_000_001]),
        st.integers(-(2**63), 2**63 - 1),
    ),
    nanos=nanos,
)
enums = st.one_of(
    st.integers(0, 5),
    st.sampled_from([-1, 99, 2**31 - 1, -(2**31)]),
    st.integers(-(2**31), 2**31 - 1),
)
page_sizes = weighted(
    (60, st.integers(0, 5)),
    (15, st.integers(-5, 600)),
    (15, st.sampled_from([0, 1, 500, 501, -1, 2**31 - 1, -(2**31)])),
    (10, st.integers(-(2**31), 2**31 - 1)),
)


def _flip(token: str, where: int) -> str:
    if not token:
        return "A"
    index = where % len(token)
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


def _forged(payload: Any, mac: bytes) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode() + mac
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


page_tokens = weighted(
    (45, st.just("")),
    (20, known_token),  # real tokens: the right one, or one of another list (foreign)
    (
        35,
        st.one_of(
            known_token,  # real tokens, mostly of another list: foreign
            known_token,
            st.builds(_flip, known_token, st.integers(0, 200)),  # tampered
            known_token.map(lambda t: t + "=="),  # another spelling of the same bytes
            known_token.map(lambda t: t[:-1]),  # truncated
            st.binary(max_size=300).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
            st.builds(
                _forged,
                st.one_of(
                    st.just([1, [0, "x"]]),
                    st.just([1, ["x"]]),
                    st.just([2, []]),
                    st.just([1, {}]),
                    st.just([1, [10**30, "x"]]),
                    st.just("not a list"),
                    st.just([1]),
                    st.just([]),
                    st.just(None),
                ),
                st.binary(min_size=0, max_size=16),
            ),
            st.text(
                alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                max_size=80,
            ),
            st.integers(1000, 5000).map(lambda n: "A" * n),
            weird,
        ),
    ),
)

etags = weighted(
    (50, st.just("")),
    (
        50,
        st.one_of(
            st.sampled_from(['"1"', '"2"', '"0"', '"-1"', '"01"', "1", '""', '"', 'W/"1"', '"1 "']),
            st.integers(0, 2**80).map(lambda n: f'"{n}"'),
            small_weird,
            st.integers(60, 2000).map(lambda n: '"' + "9" * n + '"'),
        ),
    ),
)

metadata_keys = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,20}", fullmatch=True),
    st.sampled_from(["a" * 64, "a" * 65, "k", "x/y.z_-", "_x", "-x", "a b", "\u00e9"]),
    small_weird,
)
metadata_values = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
    small_weird,
    st.sampled_from(["x" * 512, "x" * 513, "\U0001f600" * 512, "\U0001f600" * 513]),
)
room_metadata = st.one_of(
    st.dictionaries(metadata_keys, metadata_values, max_size=6),
    st.dictionaries(metadata_keys, metadata_values, min_size=30, max_size=40),
    st.builds(lambda v: {"huge": v}, huge_text),
)


def mostly(usual: st.SearchStrategy[T], rare: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`usual` about five times out of six."""
    return weighted((5, usual), (1, rare))


def distinct(batch: list[participant_pb2.Participant]) -> list[participant_pb2.Participant]:
    """The batch without repeated identities. (Deduplicating after drawing, not with
    `unique_by`: the known identities change while fuzzing, and a draw must not
    depend on them.)"""
    return list({p.user_id: p for p in batch}.values())


def optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


_plausible_times = st.integers(-3 * 86_400, 200 * 86_400).map(
    lambda offset: timestamp_pb2.Timestamp(seconds=_T0_SECONDS + offset)
)
_plausible_metadata = st.dictionaries(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,20}", fullmatch=True),
    st.one_of(
        st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "M"]), max_size=30),
        st.sampled_from(SQL),
    ),
    max_size=5,
)
plausible_rooms = st.builds(
    room_pb2.Room,
    valid_from=optional(_plausible_times),
    valid_until=optional(_plausible_times),
    pstn_dial_out_enabled=st.booleans(),
    join_policy=st.integers(0, 2),
    metadata=_plausible_metadata,
    open_join_role=st.integers(0, 4),
    early_entry_duration=optional(st.builds(duration_pb2.Duration, seconds=st.integers(0, 86_400))),
)
wild_rooms = st.builds(
    room_pb2.Room,
    room_id=st.one_of(st.just(""), room_ids),
    valid_from=optional(timestamps),
    valid_until=optional(timestamps),
    pstn_dial_out_enabled=st.booleans(),
    join_policy=enums,
    metadata=room_metadata,
    open_join_role=enums,
    early_entry_duration=optional(durations),
    # Output-only fields a client should not send; they must be ignored or rejected.
    etag=etags,
    state=st.one_of(st.just(0), enums),
    participant_count=st.one_of(st.just(0), st.integers(-(2**31), 2**31 - 1)),
    create_time=optional(timestamps),
)
rooms_in = weighted((70, plausible_rooms), (30, wild_rooms))
participants_in = st.builds(
    participant_pb2.Participant,
    user_id=small_user_ids,
    role=mostly(st.integers(0, 4), enums),
    create_time=optional(timestamps),
)
batches = st.one_of(
    st.lists(participants_in, max_size=12),
    st.lists(
        st.builds(
            participant_pb2.Participant,
            user_id=st.one_of(known_user, token_text),
            role=st.integers(0, 4),
        ),
        max_size=12,
    ).map(distinct),
    # duplicates within a batch
    st.lists(
        st.builds(
            participant_pb2.Participant,
            user_id=st.sampled_from(["dup", "dup", "user-1", "Dup"]),
            role=st.integers(0, 4),
        ),
        min_size=2,
        max_size=6,
    ),
    # huge batches, at, under and over the limit
    # (starting at an offset, so rosters grow until ROSTER_FULL)
    st.builds(
        lambda n, start: [
            participant_pb2.Participant(user_id=f"bulk-{i}") for i in range(start, start + n)
        ],
        st.integers(MAX_BATCH - 300, MAX_BATCH + 50),
        st.integers(0, 3000),
    ),
    st.builds(
        lambda n, u: [participant_pb2.Participant(user_id=u) for _ in range(n)],
        st.integers(2, 2000),
        st.sampled_from(["same", "user-0"]),
    ),
    st.builds(lambda u: [participant_pb2.Participant(user_id=u)], huge_text),
)
user_id_batches = st.one_of(
    st.lists(small_user_ids, max_size=12),
    st.lists(st.sampled_from(["dup", "user-1", "user-2"]), min_size=2, max_size=8),
    st.builds(
        lambda n, start: [f"bulk-{i}" for i in range(start, start + n)],
        st.integers(MAX_BATCH - 300, MAX_BATCH + 50),
        st.integers(0, 3000),
    ),
    st.builds(lambda u: [u], huge_text),
)

VALID_PATHS = [
    "valid_from",
    "valid_until",
    "pstn_dial_out_enabled",
    "join_policy",
    "metadata",
    "open_join_role",
    "early_entry_duration",
]
masks = st.one_of(
    st.none(),
    st.lists(st.sampled_from(VALID_PATHS), unique=True, max_size=3).map(
        lambda paths: field_mask_pb2.FieldMask(paths=paths)
    ),
    st.builds(
        lambda paths: field_mask_pb2.FieldMask(paths=paths),
        st.lists(
            st.one_of(
                st.sampled_from(VALID_PATHS),
                st.sampled_from(
                    [
                        "*",
                        "room_id",
                        "etag",
                        "state",
                        "create_time",
                        "update_time",
                        "participant_count",
                        "last_event_revision",
                        "metadata.foo",
                        "room.valid_from",
                        "valid_from.seconds",
                        "VALID_FROM",
                        "validFrom",
                        "*.*",
                        "",
                        " ",
                        ".",
                    ]
                ),
                small_weird,
            ),
            max_size=10,
        ),
    ),
)

# Call metadata: legal keys (lower case), printable ASCII values, binary `-bin` entries.
_header_keys = st.one_of(
    st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,40}", fullmatch=True).filter(
        lambda k: not k.endswith("-bin") and k != "authorization"
    ),
    st.sampled_from(
        [
            "x-request-id",
            "user-agent",
            "content-type",
            "te",
            "host",
            "x-forwarded-for",
            "cookie",
            "tenant",
            "x-tenant",
            "x-api-key",
            "grpc-foo",
            "authorization2",
        ]
    ),
)
_header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200),
    st.sampled_from(["", " ", "default", "'; DROP TABLE rooms; --", "Bearer x", "%00", "\\"]),
)
_binary_entries = st.tuples(
    st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True).map(lambda k: k + "-bin"),
    st.binary(max_size=300),
)
call_metadata = st.lists(
    st.one_of(st.tuples(_header_keys, _header_values), _binary_entries), max_size=6
)
# How the authorization header is sent: mostly right, sometimes broken.
_junk_authorization = st.one_of(
    st.sampled_from(
        ["", "Bearer", "Bearer ", "Basic abc", "bearer rk_nope", "Bearer rk_" + "a" * 32]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=100),
)
auth_modes = weighted(
    (85, st.just(("valid", ""))),
    (
        15,
        st.tuples(st.sampled_from(["after", "before", "instead", "missing"]), _junk_authorization),
    ),
)


@dataclass(frozen=True)
class Envelope:
    """The call metadata of one case, and whether it may be refused as unauthenticated."""

    metadata: Metadata
    refusal: str  # "never", "may", "must"


def envelope(fuzz: Fuzz, extra: list[tuple[str, str | bytes]], mode: tuple[str, str]) -> Envelope:
    how, junk = mode
    junk_entry: tuple[str, str | bytes] = ("authorization", junk)
    if how == "valid":
        return Envelope((fuzz.auth, *extra), "never")
    if how == "after":
        return Envelope((fuzz.auth, *extra, junk_entry), "never")
    if how == "before":
        return Envelope((junk_entry, fuzz.auth, *extra), "may")
    if how == "instead":
        return Envelope((junk_entry, *extra), "must")
    return Envelope(tuple(extra), "must")


# ---- one call -----------------------------------------------------------------------------


def _error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(cast(grpc.Call, error))
    assert status is not None, f"no google.rpc.Status on {error.code()}: {error.details()}"
    assert status.code == error.code().value[0]
    info = error_info(error)
    assert info is not None, f"no ErrorInfo on {error.code()}: {error.details()}"
    return info


async def run(rpc: str, call: Awaitable[T], env: Envelope) -> T | None:
    """Await one fuzzed call and check its status; the response when OK."""
    CASES[rpc] += 1
    try:
        response = await call
    except grpc.aio.AioRpcError as error:
        code = error.code()
        note(f"{rpc} -> {code.name}: {(error.details() or '')[:300]}")
        allowed = ALLOWED | ({Code.UNAUTHENTICATED} if env.refusal != "never" else set())
        assert code in allowed, f"{rpc} answered {code.name}: {error.details()}"
        if env.refusal == "must":
            assert code == Code.UNAUTHENTICATED, f"{rpc} answered {code.name} without a key"
        info = _error_info(error)
        assert info.domain == "rooms.v1", info
        assert info.reason in REASONS[code], f"{rpc}: reason {info.reason} with {code.name}"
        OUTCOMES[info.reason] += 1
        if "field" in info.metadata:
            ERROR_FIELDS[f"{rpc} {info.metadata['field'][:40]}"] += 1
        return None
    note(f"{rpc} -> OK")
    assert env.refusal != "must", f"{rpc} succeeded without a valid key"
    OUTCOMES["OK"] += 1
    return response


def _kw(env: Envelope) -> dict[str, Any]:
    return {"metadata": env.metadata, "timeout": CALL_TIMEOUT}


def _cap(page_size: int) -> int:
    return 50 if page_size == 0 else min(page_size, 500)


def _utf8(value: str) -> bytes:
    return value.encode()


# ---- RoomsService -------------------------------------------------------------------------


@FUZZ
@given(
    request_id=st.one_of(
        st.just(""), st.uuids().map(str), st.sampled_from(["fixed-1", "fixed-2"]), weird
    ),
    room_id=st.one_of(st.just(""), room_ids),
    room=optional(rooms_in),
    participants=batches,
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_create_room(
    fuzz: Fuzz,
    request_id: str,
    room_id: str,
    room: room_pb2.Room | None,
    participants: list[participant_pb2.Participant],
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    request = rs.CreateRoomRequest(
        request_id=request_id, room_id=room_id, room=room, participants=participants
    )
    created = await run("CreateRoom", fuzz.rooms.CreateRoom(request, **_kw(env)), env)
    if created is None:
        return
    fuzz.remember(fuzz.room_ids, created.room_id)
    assert created.valid_until.ToDatetime() > created.valid_from.ToDatetime()
    if not request_id:  # a replay returns the room as it is now
        if room_id:
            assert created.room_id == room_id
        assert dict(created.metadata) == dict(request.room.metadata)
        assert created.participant_count == len(participants)
        assert created.pstn_dial_out_enabled == request.room.pstn_dial_out_enabled


@FUZZ
@given(room_id=room_ids, extra=call_metadata, mode=auth_modes)
async def test_fuzz_get_room(
    fuzz: Fuzz, room_id: str, extra: list[tuple[str, str | bytes]], mode: tuple[str, str]
) -> None:
    env = envelope(fuzz, extra, mode)
    room = await run(
        "GetRoom", fuzz.rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), **_kw(env)), env
    )
    if room is not None:
        assert room.room_id == room_id


@FUZZ
@given(
    page_size=page_sizes,
    page_token=page_tokens,
    state=mostly(st.integers(0, 3), enums),
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_list_rooms(
    fuzz: Fuzz,
    page_size: int,
    page_token: str,
    state: int,
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    request = rs.ListRoomsRequest(page_size=page_size, page_token=page_token, state=state)  # type: ignore[arg-type]
    page = await run("ListRooms", fuzz.rooms.ListRooms(request, **_kw(env)), env)
    if page is None:
        return
    fuzz.remember(fuzz.tokens, page.next_page_token)
    assert len(page.rooms) <= _cap(page_size)
    if state:
        assert all(room.state == state for room in page.rooms)
    keys = [(room.create_time.ToDatetime(), room.room_id) for room in page.rooms]
    assert keys == sorted(keys, reverse=True)


@FUZZ
@given(
    room_id=room_ids,
    room=rooms_in,
    etag=etags,
    mask=masks,
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_update_room(
    fuzz: Fuzz,
    room_id: str,
    room: room_pb2.Room,
    etag: str,
    mask: field_mask_pb2.FieldMask | None,
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    room.room_id = room_id
    room.etag = etag
    request = rs.UpdateRoomRequest(room=room, update_mask=mask)
    updated = await run("UpdateRoom", fuzz.rooms.UpdateRoom(request, **_kw(env)), env)
    if updated is not None:
        assert updated.room_id == room_id
        assert updated.valid_until.ToDatetime() > updated.valid_from.ToDatetime()


@FUZZ
@given(
    room_id=room_ids,
    etag=etags,
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_delete_room(
    fuzz: Fuzz,
    room_id: str,
    etag: str,
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    request = rs.DeleteRoomRequest(room_id=room_id, etag=etag)
    deleted = await run("DeleteRoom", fuzz.rooms.DeleteRoom(request, **_kw(env)), env)
    if deleted is not None and room_id in fuzz.room_ids:
        fuzz.room_ids.remove(room_id)
        fuzz.remember(fuzz.deleted, room_id)
        # Keep rooms to aim at: a fresh one with a roster replaces the deleted one.
        fresh = await fuzz.rooms.CreateRoom(
            rs.CreateRoomRequest(
                participants=[
                    participant_pb2.Participant(user_id=f"user-{n}", role=n % 5)  # type: ignore[arg-type]
                    for n in range(6)
                ]
            ),
            metadata=(fuzz.auth,),
            timeout=CALL_TIMEOUT,
        )
        fuzz.remember(fuzz.room_ids, fresh.room_id)


@FUZZ
@given(
    room_id=room_ids,
    user_id=user_ids,
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_authorize_join(
    fuzz: Fuzz,
    room_id: str,
    user_id: str,
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    request = rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id)
    decision = await run("AuthorizeJoin", fuzz.rooms.AuthorizeJoin(request, **_kw(env)), env)
    if decision is None:
        return
    assert decision.reason != admission_pb2.JOIN_DECISION_REASON_UNSPECIFIED
    assert decision.allowed == (decision.reason == admission_pb2.JOIN_DECISION_REASON_ALLOWED)
    assert decision.message
    if not decision.allowed:
        assert not decision.capabilities


@FUZZ
@given(extra=call_metadata, mode=auth_modes)
async def test_fuzz_list_roles(
    fuzz: Fuzz, extra: list[tuple[str, str | bytes]], mode: tuple[str, str]
) -> None:
    env = envelope(fuzz, extra, mode)
    roles = await run("ListRoles", fuzz.rooms.ListRoles(rs.ListRolesRequest(), **_kw(env)), env)
    if roles is not None:
        assert {role.name for role in roles.roles} == ROLES


# ---- ParticipantsService ------------------------------------------------------------------


@FUZZ
@given(
    room_id=room_ids,
    participants=batches,
    etag=etags,
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_add_or_update_participants(
    fuzz: Fuzz,
    room_id: str,
    participants: list[participant_pb2.Participant],
    etag: str,
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    request = ps.AddOrUpdateParticipantsRequest(
        room_id=room_id, participants=participants, etag=etag
    )
    response = await run(
        "AddOrUpdateParticipants",
        fuzz.participants.AddOrUpdateParticipants(request, **_kw(env)),
        env,
    )
    if response is None:
        return
    assert [p.user_id for p in response.participants] == [p.user_id for p in participants]
    for sent, got in zip(participants, response.participants, strict=True):
        assert got.role == (sent.role or participant_pb2.ROLE_ATTENDEE)
    for p in participants[:5]:
        fuzz.remember(fuzz.user_ids, p.user_id)


@FUZZ
@given(
    room_id=room_ids,
    user_ids=user_id_batches,
    etag=etags,
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_remove_participants(
    fuzz: Fuzz,
    room_id: str,
    user_ids: list[str],
    etag: str,
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    request = ps.RemoveParticipantsRequest(room_id=room_id, user_ids=user_ids, etag=etag)
    response = await run(
        "RemoveParticipants", fuzz.participants.RemoveParticipants(request, **_kw(env)), env
    )
    if response is not None:
        assert 0 <= response.removed_count <= len(user_ids)
        assert response.etag


@FUZZ
@given(
    room_id=room_ids,
    page_size=page_sizes,
    page_token=page_tokens,
    role=mostly(st.integers(0, 4), enums),
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_list_participants(
    fuzz: Fuzz,
    room_id: str,
    page_size: int,
    page_token: str,
    role: int,
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    request = ps.ListParticipantsRequest(
        room_id=room_id,
        page_size=page_size,
        page_token=page_token,
        role=role,  # type: ignore[arg-type]
    )
    page = await run(
        "ListParticipants", fuzz.participants.ListParticipants(request, **_kw(env)), env
    )
    if page is None:
        return
    fuzz.remember(fuzz.tokens, page.next_page_token)
    assert len(page.participants) <= _cap(page_size)
    if role:
        assert all(p.role == role for p in page.participants)
    ids = [_utf8(p.user_id) for p in page.participants]
    assert ids == sorted(set(ids))  # byte order, no duplicates


@FUZZ
@given(
    room_id=room_ids,
    user_id=user_ids,
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_get_participant(
    fuzz: Fuzz,
    room_id: str,
    user_id: str,
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    request = ps.GetParticipantRequest(room_id=room_id, user_id=user_id)
    participant = await run(
        "GetParticipant", fuzz.participants.GetParticipant(request, **_kw(env)), env
    )
    if participant is not None:
        assert participant.user_id == user_id


@FUZZ
@given(
    user_id=st.one_of(user_ids, user_ids, st.sampled_from(SQL)),
    page_size=page_sizes,
    page_token=page_tokens,
    state=mostly(st.integers(0, 3), enums),
    extra=call_metadata,
    mode=auth_modes,
)
async def test_fuzz_list_rooms_for_participant(
    fuzz: Fuzz,
    user_id: str,
    page_size: int,
    page_token: str,
    state: int,
    extra: list[tuple[str, str | bytes]],
    mode: tuple[str, str],
) -> None:
    env = envelope(fuzz, extra, mode)
    request = ps.ListRoomsForParticipantRequest(
        user_id=user_id,
        page_size=page_size,
        page_token=page_token,
        state=state,  # type: ignore[arg-type]
    )
    page = await run(
        "ListRoomsForParticipant",
        fuzz.participants.ListRoomsForParticipant(request, **_kw(env)),
        env,
    )
    if page is None:
        return
    fuzz.remember(fuzz.tokens, page.next_page_token)
    assert len(page.memberships) <= _cap(page_size)
    if state:
        assert all(m.room.state == state for m in page.memberships)
    keys = [(m.room.valid_from.ToDatetime(), _utf8(m.room.room_id)) for m in page.memberships]
    assert keys == sorted(keys)


# ---- concurrent roster changes -------------------------------------------------------------

roster_changes = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.lists(
                st.builds(
                    participant_pb2.Participant,
                    user_id=st.one_of(known_user, st.integers(0, 40).map(lambda n: f"c-{n}")),
                    role=st.integers(0, 4),
                ),
                max_size=8,
            ).map(distinct),
        ),
        st.tuples(
            st.just("remove"),
            st.lists(
                st.one_of(known_user, st.integers(0, 40).map(lambda n: f"c-{n}")),
                max_size=8,
            ).map(lambda ids: list(dict.fromkeys(ids))),
        ),
    ),
    min_size=2,
    max_size=8,
)


@FUZZ
@given(room_id=known_room, changes=roster_changes)
async def test_fuzz_concurrent_roster_changes(
    fuzz: Fuzz, room_id: str, changes: list[tuple[str, list[Any]]]
) -> None:
    """Adds and removals on one room at once: each answers properly, and the room's
    participant_count stays the roster's size (checked after the fuzzing)."""
    env = Envelope((fuzz.auth,), "never")
    calls: list[Awaitable[Any]] = []
    for kind, batch in changes:
        if kind == "add":
            calls.append(
                run(
                    "AddOrUpdateParticipants",
                    fuzz.participants.AddOrUpdateParticipants(
                        ps.AddOrUpdateParticipantsRequest(room_id=room_id, participants=batch),
                        **_kw(env),
                    ),
                    env,
                )
            )
        else:
            calls.append(
                run(
                    "RemoveParticipants",
                    fuzz.participants.RemoveParticipants(
                        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=batch),
                        **_kw(env),
                    ),
                    env,
                )
            )
    await asyncio.gather(*calls)
    room = await run(
        "GetRoom", fuzz.rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), **_kw(env)), env
    )
    if room is None:
        return
    roster = await fuzz.participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id, page_size=500), **_kw(env)
    )
    if not roster.next_page_token:
        assert room.participant_count == len(roster.participants)


# ---- SQL fragments are data ----------------------------------------------------------------


async def test_sql_fragments_are_stored_and_returned_literally(fuzz: Fuzz) -> None:
    md = (fuzz.auth,)
    rooms, participants = fuzz.rooms, fuzz.participants
    tag = uuid.uuid4().hex[:8]
    metadata = {
        "drop": "'; DROP TABLE rooms; --",
        "percent": "%",
        "underscore": "_",
        "backslash": "\\",
        "or": "' OR '1'='1",
        "quote": '"; DELETE FROM participants; --',
        "dollar": "$1 $$ $tag$",
        "nul-like": "\\x00 %00 \\0",
        "json": '{"a": [1, "\\u0000"]}',
    }
    # Identities are printable without whitespace: the same attacks, without spaces.
    user_ids = [
        "';DROP/**/TABLE/**/rooms;--",
        "%",
        "_",
        "\\",
        "'OR'1'='1",
        '";DELETE/**/FROM/**/participants;--',
        "$1",
        "%_\\%",
        "Robert');--",
    ]
    room_id = f"lit_{tag}"
    created = await rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            room=room_pb2.Room(metadata=metadata),
            participants=[participant_pb2.Participant(user_id=u) for u in user_ids],
        ),
        metadata=md,
    )
    assert dict(created.metadata) == metadata
    assert created.participant_count == len(user_ids)
    got = await rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=md)
    assert dict(got.metadata) == metadata
    roster = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id), metadata=md
    )
    assert sorted(p.user_id for p in roster.participants) == sorted(user_ids)
    for user_id in user_ids:
        one = await participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id=user_id), metadata=md
        )
        assert one.user_id == user_id
        decision = await rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id), metadata=md
        )
        assert decision.allowed
        found = await participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=user_id, page_size=500), metadata=md
        )
        # "%" and "_" are not patterns: only the rooms of exactly this identity.
        assert room_id in [m.room.room_id for m in found.memberships]
    # A pattern-like identity matches nobody else.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id="%%"), metadata=md
        )
    assert caught.value.code() == Code.NOT_FOUND
    lookalike = f"litx{tag}"  # "_" in the id must not match "x"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rooms.GetRoom(rs.GetRoomRequest(room_id=lookalike), metadata=md)
    assert caught.value.code() == Code.NOT_FOUND

    # Updates and removals take them literally too.
    changed = {"drop": "'); DELETE FROM rooms WHERE ('1'='1", "wild": "%_%"}
    updated = await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room_id, metadata=changed),
            update_mask=field_mask_pb2.FieldMask(paths=["metadata"]),
        ),
        metadata=md,
    )
    assert dict(updated.metadata) == changed
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["%", "_"]), metadata=md
    )
    assert removed.removed_count == 2
    roster = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id), metadata=md
    )
    assert sorted(p.user_id for p in roster.participants) == sorted(
        u for u in user_ids if u not in ("%", "_")
    )
    fuzz.remember(fuzz.room_ids, room_id)


# ---- errors stay readable -----------------------------------------------------------------


async def test_an_error_naming_many_fields_is_readable_by_a_default_client(fuzz: Fuzz) -> None:
    """Found by the fuzzing: an error names every bad field, in its message and in its
    BadRequest, which travel in the response trailers; a client with gRPC's default
    limit (8 KiB of response metadata) must still receive INVALID_ARGUMENT with its
    ErrorInfo, not a transport-level RESOURCE_EXHAUSTED without details."""
    md = (fuzz.auth,)
    room_id = fuzz.room_ids[0]
    async with grpc.aio.insecure_channel(fuzz.target) as channel:  # default options
        rooms: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        participants: ParticipantsServiceAsyncStub = (
            participants_service_pb2_grpc.ParticipantsServiceStub(channel)
        )
        duplicates = [participant_pb2.Participant(user_id="same")] * MAX_BATCH
        bad_ids = [f"bad id {n}" for n in range(MAX_BATCH)]
        cases: list[tuple[str, Awaitable[Any], str]] = [
            (
                "AddOrUpdateParticipants, duplicates",
                participants.AddOrUpdateParticipants(
                    ps.AddOrUpdateParticipantsRequest(room_id=room_id, participants=duplicates),
                    metadata=md,
                ),
                "DUPLICATE_USER_ID",
            ),
            (
                "CreateRoom, bad identities",
                rooms.CreateRoom(
                    rs.CreateRoomRequest(
                        participants=[participant_pb2.Participant(user_id=u) for u in bad_ids]
                    ),
                    metadata=md,
                ),
                "INVALID_ARGUMENT",
            ),
            (
                "RemoveParticipants, bad identities",
                participants.RemoveParticipants(
                    ps.RemoveParticipantsRequest(room_id=room_id, user_ids=bad_ids), metadata=md
                ),
                "INVALID_ARGUMENT",
            ),
            (
                "CreateRoom, bad roles",
                rooms.CreateRoom(
                    rs.CreateRoomRequest(
                        participants=[
                            participant_pb2.Participant(user_id=f"u{n}", role=99)  # type: ignore[arg-type]
                            for n in range(MAX_BATCH)
                        ]
                    ),
                    metadata=md,
                ),
                "INVALID_ARGUMENT",
            ),
        ]
        unreadable = []
        for label, call, reason in cases:
            try:
                await call
            except grpc.aio.AioRpcError as error:
                status = rpc_status.from_call(cast(grpc.Call, error))
                if error.code() != Code.INVALID_ARGUMENT or status is None:
                    unreadable.append(f"{label}: {error.code().name}: {error.details()}")
                    continue
                info = _error_info(error)
                assert info.reason == reason, (label, info)
            else:
                raise AssertionError(f"{label}: accepted")
        assert not unreadable, "errors a default client cannot read:\n" + "\n".join(unreadable)


# ---- afterwards: healthy, nothing logged, invariants hold ----------------------------------


def _is_identity(value: str) -> bool:
    return 1 <= len(value) <= 256 and value.isprintable() and not any(ch.isspace() for ch in value)


async def test_after_the_fuzzing_the_server_is_healthy_and_the_database_consistent(
    fuzz: Fuzz, pool: asyncpg.Pool
) -> None:
    health: Any = health_pb2_grpc.HealthStub(fuzz.channel)
    response = await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert response.status == health_pb2.HealthCheckResponse.SERVING
    # And it still answers real calls.
    await fuzz.rooms.ListRoles(rs.ListRolesRequest(), metadata=(fuzz.auth,), timeout=10)

    unexpected = [
        f"{record.name}: {record.getMessage()}\n{record.exc_text or ''}"
        for record in SERVER_ERRORS.records
    ]
    assert not unexpected, "the server logged errors:\n" + "\n".join(unexpected)

    # The tables are all still there, and the fuzz tenant has data.
    fuzzed = await pool.fetchval("SELECT count(*) FROM rooms WHERE tenant = $1", fuzz.tenant)
    assert fuzzed > 0

    bad_windows = await pool.fetch(
        "SELECT tenant, room_id FROM rooms WHERE valid_until <= valid_from"
    )
    assert not bad_windows

    rows = await pool.fetch("SELECT tenant, room_id, user_id FROM participants")
    bad_identities = [dict(row) for row in rows if not _is_identity(row["user_id"])]
    assert not bad_identities

    orphans = await pool.fetch(
        """SELECT p.tenant, p.room_id, p.user_id FROM participants p
           LEFT JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
           WHERE r.room_id IS NULL"""
    )
    assert not orphans
    orphan_keys = await pool.fetch(
        """SELECT k.tenant, k.request_id, k.room_id FROM idempotency_keys k
           LEFT JOIN rooms r ON r.tenant = k.tenant AND r.room_id = k.room_id
           WHERE r.room_id IS NULL"""
    )
    assert not orphan_keys

    miscounted = await pool.fetch(
        """SELECT r.tenant, r.room_id, r.participant_count, count(p.user_id) AS actual
           FROM rooms r
           LEFT JOIN participants p ON p.tenant = r.tenant AND p.room_id = r.room_id
           GROUP BY r.tenant, r.room_id, r.participant_count
           HAVING r.participant_count <> count(p.user_id)"""
    )
    assert not miscounted

    roles = {row["role"] for row in await pool.fetch("SELECT DISTINCT role FROM participants")}
    assert roles <= ROLES
    policies = {
        row["join_policy"] for row in await pool.fetch("SELECT DISTINCT join_policy FROM rooms")
    }
    assert policies <= JOIN_POLICIES
    open_roles = {
        row["open_join_role"]
        for row in await pool.fetch("SELECT DISTINCT open_join_role FROM rooms")
    }
    assert open_roles <= ROLES

    # The fuzz tenant's rooms keep the server's limits.
    limits = await pool.fetch(
        """SELECT room_id, participant_count, early_entry, metadata::text AS metadata
           FROM rooms WHERE tenant = $1""",
        fuzz.tenant,
    )
    for row in limits:
        assert 0 <= row["participant_count"] <= MAX_ROSTER, dict(row)
        assert timedelta(0) <= row["early_entry"] <= timedelta(hours=24), dict(row)
        metadata = json.loads(row["metadata"])
        assert isinstance(metadata, dict) and len(metadata) <= 32, dict(row)
        for key, value in metadata.items():
            assert 1 <= len(key) <= 64 and isinstance(value, str) and len(value) <= 512
            assert value.isprintable(), (key, value)
    times = await pool.fetch(
        "SELECT valid_from, valid_until FROM rooms WHERE tenant = $1", fuzz.tenant
    )
    for row in times:
        assert datetime(1, 1, 2, tzinfo=UTC) <= row["valid_from"] < row["valid_until"]
