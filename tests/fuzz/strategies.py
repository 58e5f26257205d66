"""What the fuzzing sends: the hypothesis profile, and strategies for ids, times, page
tokens and etags, and update masks (rooms and participant batches in rosters.py, texts
in texts.py, call metadata in sending.py).

No strategy reads state that changes while fuzzing. A value the fuzzing learns along
the way (a room it created, an identity it added, a page token it received, a room it
deleted) is drawn as a reference, `Known("rooms", 3)`, and looked up only when the call
is made (`Fuzz.resolve`); a value built around one is drawn as `Later(...)`, built then
(references.py).
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from service.domain.updates import UPDATABLE_FIELDS
from tests.conftest import T0
from tests.fuzz.references import SEED_ROOMS, known, later
from tests.fuzz.texts import (
    mostly,
    small_weird,
    token_text,
    weighted,
    weird,
)

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
T0_SECONDS = int(T0.timestamp())
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799
seconds = st.one_of(
    st.integers(T0_SECONDS - 400 * 86_400, T0_SECONDS + 400 * 86_400),
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
            T0_SECONDS,
            T0_SECONDS + 1,
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
