"""The SQL statements of the store, read once by name from ``sql/*.sql`` (one file per
store module, and ``sql/fragments.sql``; the migrations stay in ``migrations/``).

Rules every statement keeps (docs/decisions/storage.md; tests/citus/test_distribution.py
checks them from the statements sent): every table filtered by ``tenant = $1`` (in
subqueries and lateral joins too); a statement reading across tenants starts with the
marker ``/* cross-tenant read: no locks, no transaction */`` and runs outside any
transaction. A statement that returns a room selects ``r.*`` (or ``*``):
``service/storage/rows.py`` reads a room's columns by name, so a new setting's column is
read by every statement without editing one; only ``create_room`` and ``update_room``
name each setting's column.

Each statement in a file follows a ``-- name: <name> --`` marker and runs to the
next marker. A part written once for several statements is a fragment, after a
``-- fragment: <name> --`` marker; a statement takes it in with a line
``-- include: <name> --``, replaced by the fragment's text when the file is read. So
every statement is static text fixed at load time, and what ``QUERIES`` holds is what
the server sends (the migrations stay in ``migrations/``). A fragment refers to no
parameter but ``$1`` (the tenant, every statement's first) and to what its including
statements define (tests/unit/test_queries.py checks both). A name used in code and
missing from the file fails in tests, not in production.
"""

import re
from importlib.resources import files

_MARKER = re.compile(r"^-- (name|fragment): ([a-z0-9_]+) --$", re.MULTILINE)
INCLUDE = re.compile(r"^[ \t]*-- include: ([a-z0-9_]+) --$", re.MULTILINE)


def _parts(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """The statements and the fragments of a file, as written (includes not replaced)."""
    parts = _MARKER.split(text)
    statements: dict[str, str] = {}
    fragments: dict[str, str] = {}
    for kind, name, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        if name in statements or name in fragments:
            raise ValueError(f"query {name} is defined twice")
        (statements if kind == "name" else fragments)[name] = body
    return statements, fragments


def _clean(body: str) -> str:
    """Without its comment lines (those starting with `-- `) and its final `;`."""
    statement = "\n".join(
        line for line in body.strip().splitlines() if not line.startswith("-- ")
    ).strip()
    return statement.removesuffix(";").rstrip()


def fragments(text: str) -> dict[str, str]:
    """The fragments of a file in this format, by name, as they are spliced in."""
    return {name: _clean(body) for name, body in _parts(text)[1].items()}


def load(text: str) -> dict[str, str]:
    """The statements of a file in this format, by name, their includes replaced."""
    statements, _ = _parts(text)
    known = fragments(text)

    def splice(include: re.Match[str]) -> str:
        if include[1] not in known:
            raise ValueError(f"no fragment named {include[1]}")
        return known[include[1]]

    return {name: _clean(INCLUDE.sub(splice, body)) for name, body in statements.items()}


# The files in name order, as one text: a fragment in one file serves statements in any.
SOURCE = "\n".join(
    entry.read_text(encoding="utf-8")
    for entry in sorted(files("service.storage").joinpath("sql").iterdir(), key=lambda e: e.name)
    if entry.name.endswith(".sql")
)
QUERIES: dict[str, str] = load(SOURCE)
