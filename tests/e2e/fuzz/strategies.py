"""What the fuzzing sends: hypothesis strategies for ids, texts, times, page tokens,
rooms, participant batches, update masks and call metadata.

No strategy reads state that changes while fuzzing. A value the fuzzing learns along
the way (a room it created, an identity it added, a page token it received, a room it
deleted) is drawn as a reference, `Known("rooms", 3)`, and looked up only when the call
is made (`Fuzz.resolve`); a value built around one is drawn as `Later(...)`, built then.
So every draw is a function of hypothesis' choices alone: a failure shrinks (an index
shrinks towards 0, the first seed, which never changes) and replays from its blob.
The seeded rooms and identities have fixed ids (`SEED_ROOMS`, `SEED_USERS`): the fuzz
tenant is new on every run, so the same ids name the same seeds each time.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rooms.v1 import participant_pb2, room_pb2

from service.domain.updates import UPDATABLE_FIELDS
from tests.conftest import T0

T = TypeVar("T")

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

# The seeds (conftest.py creates them): rooms with rosters of user-0, user-1, ...
SEED_ROOMS = [f"seed-{index}" for index in range(6)]
SEED_USERS = [f"user-{n}" for n in range(20)]
# How many values of each kind the fuzzing keeps (seeds first); a drawn index wraps.
BUCKET_SIZE = 200

# ---- references, looked up at call time ----------------------------------------------------


@dataclass(frozen=True)
class Known:
    """The `index`-th value of a bucket the fuzzing keeps ("rooms", "users", "tokens",
    "deleted"), looked up when the call is made. Shown as `rooms[3]`."""

    bucket: str
    index: int

    def __repr__(self) -> str:
        return f"{self.bucket}[{self.index}]"


@dataclass(frozen=True, eq=False)
class Later(Generic[T]):
    """`build(**fields)`, called when the call is made, once the references among the
    fields are looked up. Shown as the call it stands for."""

    build: Callable[..., T]
    fields: dict[str, Any]

    def __repr__(self) -> str:
        named = ", ".join(f"{name}={value!r}" for name, value in self.fields.items())
        return f"{getattr(self.build, '__name__', self.build)}({named})"


def known(bucket: str) -> st.SearchStrategy[Known]:
    return st.integers(0, BUCKET_SIZE - 1).map(lambda index: Known(bucket, index))


def later(build: Callable[..., T], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Later[T]]:
    return st.fixed_dictionaries(fields).map(lambda values: Later(build, values))


# ---- texts ---------------------------------------------------------------------------------

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


def mostly(usual: st.SearchStrategy[T], rare: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`usual` about five times out of six."""
    return weighted((5, usual), (1, rare))


def optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


# ---- ids -----------------------------------------------------------------------------------

known_room = known("rooms")
known_user = known("users")
known_token = known("tokens")
known_deleted = known("deleted")

room_ids = weighted(
    (60, known_room),
    (5, known_deleted),
    (10, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,30}", fullmatch=True)),
    (25, weird),
)
# The same without references, for a room id inside a Room message.
literal_room_ids = weighted(
    (60, st.sampled_from(SEED_ROOMS)),
    (15, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,30}", fullmatch=True)),
    (25, weird),
)
user_ids = weighted((55, known_user), (20, token_text), (25, weird))
small_user_ids = weighted((40, known_user), (40, token_text), (20, small_weird))
# Identities a concurrent roster change adds and removes: known ones and a few of its own.
contended_user_ids = st.one_of(known_user, st.integers(0, 40).map(lambda n: f"c-{n}"))

# ---- times and numbers ---------------------------------------------------------------------

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
room_states = mostly(st.integers(0, 3), enums)
roles = mostly(st.integers(0, 4), enums)

# ---- page tokens and etags -----------------------------------------------------------------


def flipped(token: str, where: int) -> str:
    """The token with one character changed: tampered."""
    if not token:
        return "A"
    index = where % len(token)
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


def padded(token: str) -> str:
    """Another spelling of the same bytes."""
    return token + "=="


def truncated(token: str) -> str:
    return token[:-1]


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
            later(flipped, token=known_token, where=st.integers(0, 200)),
            later(padded, token=known_token),
            later(truncated, token=known_token),
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

# ---- rooms ---------------------------------------------------------------------------------

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
    room_id=st.one_of(st.just(""), literal_room_ids),
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

# ---- participant batches -------------------------------------------------------------------


def distinct(batch: list[participant_pb2.Participant]) -> list[participant_pb2.Participant]:
    """The batch without repeated identities (applied at call time: two references
    may name the same identity)."""
    return list({p.user_id: p for p in batch}.values())


def distinct_ids(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def members(
    user_id: st.SearchStrategy[Any], role: st.SearchStrategy[int], **more: st.SearchStrategy[Any]
) -> st.SearchStrategy[Later[participant_pb2.Participant]]:
    """A participant whose identity may be a reference: built at call time."""
    return later(participant_pb2.Participant, user_id=user_id, role=role, **more)


def bulk(n: int, start: int) -> list[str]:
    return [f"bulk-{i}" for i in range(start, start + n)]


# At, under and over the batch limit, starting at an offset so rosters grow until
# ROSTER_FULL.
bulk_ids = st.builds(bulk, st.integers(MAX_BATCH - 300, MAX_BATCH + 50), st.integers(0, 3000))

participants_in = members(small_user_ids, roles, create_time=optional(timestamps))
batches = st.one_of(
    st.lists(participants_in, max_size=12),
    later(
        distinct,
        batch=st.lists(members(st.one_of(known_user, token_text), st.integers(0, 4)), max_size=12),
    ),
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
    bulk_ids.map(lambda ids: [participant_pb2.Participant(user_id=u) for u in ids]),
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
    bulk_ids,
    st.builds(lambda u: [u], huge_text),
)
# Several adds and removals for one room, sent at once.
roster_changes = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            later(
                distinct,
                batch=st.lists(members(contended_user_ids, st.integers(0, 4)), max_size=8),
            ),
        ),
        st.tuples(
            st.just("remove"),
            later(distinct_ids, ids=st.lists(contended_user_ids, max_size=8)),
        ),
    ),
    min_size=2,
    max_size=8,
)

# ---- update masks --------------------------------------------------------------------------

VALID_PATHS = sorted(UPDATABLE_FIELDS)
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

# ---- call metadata -------------------------------------------------------------------------

# Legal keys (lower case), printable ASCII values, binary `-bin` entries.
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
class Sending:
    """How one case is sent: extra call metadata, and where the key goes ("valid": the
    key alone; "after"/"before": a junk authorization after or before it; "instead":
    only the junk; "missing": no authorization at all)."""

    extra: tuple[tuple[str, str | bytes], ...] = ()
    how: str = "valid"
    junk: str = ""


sendings = st.tuples(call_metadata, auth_modes).map(
    lambda drawn: Sending(tuple(drawn[0]), *drawn[1])
)
