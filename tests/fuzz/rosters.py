"""What the fuzzing sends as rooms and rosters: room messages (plausible and wild, with
their metadata), participant batches at and over the limits, and concurrent roster
changes. Ids, times, tokens and the profile are in strategies.py."""

from __future__ import annotations

from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2
from hypothesis import strategies as st
from rooms.v1 import participant_pb2, room_pb2

from tests.fuzz.references import Later, later
from tests.fuzz.strategies import (
    MAX_BATCH,
    T0_SECONDS,
    contended_user_ids,
    durations,
    enums,
    etags,
    known_user,
    literal_room_ids,
    roles,
    small_user_ids,
    timestamps,
)
from tests.fuzz.texts import SQL, huge_text, optional, small_weird, token_text, weighted

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
    lambda offset: timestamp_pb2.Timestamp(seconds=T0_SECONDS + offset)
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
