"""References to what the fuzzing learns, drawn by the strategies and looked up at call
time (`Fuzz.resolve`), so that no strategy reads state that changes while fuzzing: every
draw is a function of hypothesis' choices alone, a failure shrinks (an index shrinks
towards 0, the first seed, which never changes) and replays from its blob. The seeded
rooms and identities have fixed ids: the fuzz tenant is new on every run, so the same
ids name the same seeds each time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

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
