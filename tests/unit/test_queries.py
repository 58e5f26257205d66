"""The SQL file: every statement the code names exists, every statement is used and
complete, every fragment is used, and none is assembled at run time."""

import re
from pathlib import Path

import pytest

from service.storage.queries import INCLUDE, QUERIES, SOURCE, fragments, load

STORAGE = Path(__file__).parents[2] / "service" / "storage"
FRAGMENTS = fragments(SOURCE)
# What a statement including a fragment defines for it, by fragment.
DEFINES = {
    "number_events": (" seq AS (", "batch (types, data, at, actor) AS ("),
    "record_events": ("new_events (room_id, revision, event_time, record_time, type, actor, ",),
    "knock_columns": ("LEFT JOIN knocks k\n",),
    "webhook_columns": ("webhooks",),
    "decision_holds": ("FROM rooms r, (SELECT ", "::bigint AS version) d"),
}


def _named_in_code() -> set[str]:
    return {
        name
        for path in STORAGE.glob("*.py")
        for name in re.findall(r'QUERIES\["(\w+)"\]', path.read_text(encoding="utf-8"))
    }


def _included() -> dict[str, list[str]]:
    """The statements (as written in the file) that include each fragment."""
    by_fragment: dict[str, list[str]] = {name: [] for name in FRAGMENTS}
    for name, body in re.findall(
        r"^-- name: (\w+) --$(.*?)(?=^-- (?:name|fragment): |\Z)", SOURCE, re.M | re.S
    ):
        for fragment in INCLUDE.findall(body):
            by_fragment.setdefault(fragment, []).append(name)
    return by_fragment


def test_every_name_in_code_is_a_statement() -> None:
    assert _named_in_code() - set(QUERIES) == set()


def test_every_statement_is_used() -> None:
    assert set(QUERIES) - _named_in_code() == set()


def test_every_fragment_is_used_and_refers_to_no_parameter_but_the_tenant() -> None:
    included = _included()
    assert set(included) == set(FRAGMENTS), "an include names no fragment"
    for name, text in FRAGMENTS.items():
        assert included[name], f"fragment {name} is included nowhere"
        assert set(re.findall(r"\$(\d+)", text)) <= {"1"}, name


def test_every_statement_including_a_fragment_defines_what_it_needs() -> None:
    for fragment, statements in _included().items():
        for name in statements:
            for needed in DEFINES[fragment]:
                assert needed in QUERIES[name], (fragment, name, needed)
            # The fragment's text is in the statement, once, as the file writes it.
            assert QUERIES[name].count(FRAGMENTS[fragment]) == 1, (fragment, name)


def test_statements_are_static_and_complete() -> None:
    for path in STORAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        # No SQL written in Python: no f-string or literal holding a statement's verbs.
        assert not re.search(r'f"""|"""\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b', text), path
    for name, statement in QUERIES.items():
        assert "{" not in statement.replace("'{}'", ""), name
        assert statement and not statement.endswith(";"), name
        assert "-- include:" not in statement and "-- fragment:" not in statement, name
        # Every parameter up to the highest is used: none left out by a splice.
        numbers = {int(n) for n in re.findall(r"\$(\d+)", statement)}
        assert numbers == set(range(1, max(numbers, default=0) + 1)), name


def test_the_format() -> None:
    assert load("-- a comment\n-- name: a --\nSELECT 1;\n\n-- name: b --\nSELECT $1\n") == {
        "a": "SELECT 1",
        "b": "SELECT $1",
    }
    with pytest.raises(ValueError, match="twice"):
        load("-- name: a --\nSELECT 1;\n-- name: a --\nSELECT 2;\n")
    text = (
        "-- fragment: f --\n-- its comment\n    x AS (SELECT $1)\n\n"
        "-- name: a --\nWITH y AS (SELECT 2),\n-- include: f --\n    SELECT * FROM x, y;\n"
    )
    assert load(text) == {"a": "WITH y AS (SELECT 2),\nx AS (SELECT $1)\n    SELECT * FROM x, y"}
    assert fragments(text) == {"f": "x AS (SELECT $1)"}
    with pytest.raises(ValueError, match="no fragment named g"):
        load("-- name: a --\n-- include: g --\n")
