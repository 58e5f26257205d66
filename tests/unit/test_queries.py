"""The SQL file: every statement the code names exists, every statement is used, and
none is assembled at run time."""

import re
from pathlib import Path

import pytest

from service.storage.queries import QUERIES, load

STORAGE = Path(__file__).parents[2] / "service" / "storage"
# Statements chosen by a value (page position, state filter, order): their names are
# a prefix and a suffix, so they are used without their name written out in full.
CHOSEN = ("list_rooms", "list_memberships", "room_events")


def _named_in_code() -> set[str]:
    return {
        name
        for path in STORAGE.glob("*.py")
        for name in re.findall(r'QUERIES\["(\w+)"\]', path.read_text(encoding="utf-8"))
    }


def test_every_name_in_code_is_a_statement() -> None:
    assert _named_in_code() - set(QUERIES) == set()


def test_every_statement_is_used() -> None:
    used = _named_in_code()
    unused = {name for name in QUERIES if name not in used and not name.startswith(CHOSEN)}
    assert unused == set()


def test_statements_are_static() -> None:
    for path in STORAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        # No SQL written in Python: no f-string or literal holding a statement's verbs.
        assert not re.search(r'f"""|"""\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b', text), path
    for name, statement in QUERIES.items():
        assert "{" not in statement.replace("'{}'", ""), name
        assert statement and not statement.endswith(";"), name


def test_the_format() -> None:
    assert load("-- a comment\n-- name: a --\nSELECT 1;\n\n-- name: b --\nSELECT $1\n") == {
        "a": "SELECT 1",
        "b": "SELECT $1",
    }
    with pytest.raises(ValueError, match="twice"):
        load("-- name: a --\nSELECT 1;\n-- name: a --\nSELECT 2;\n")
