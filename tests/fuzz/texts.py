"""Texts the fuzzing sends (special and SQL-like strings, unicode, huge texts) and the
small combinators of the strategies (`weighted`, `mostly`, `optional`)."""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

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
