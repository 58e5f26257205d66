"""The SQL statements of the store, read once from ``queries.sql`` by name.

Each statement in the file follows a ``-- name: <name> --`` marker and runs to the
next marker; it is static text, so what the file says is what the server sends (the
migrations stay in ``migrations/``). A name used in code and missing from the file
fails at import of this module's users' tests (tests/unit/test_queries.py), not in
production.
"""

import re
from importlib.resources import files

_MARKER = re.compile(r"^-- name: ([a-z0-9_]+) --$", re.MULTILINE)


def load(text: str) -> dict[str, str]:
    """The statements of a file in the ``-- name: x --`` format, by name."""
    parts = _MARKER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name} is defined twice")
        statement = "\n".join(
            line for line in body.strip().splitlines() if not line.startswith("-- ")
        ).strip()
        queries[name] = statement.removesuffix(";").rstrip()
    return queries


QUERIES: dict[str, str] = load(
    files("service.storage").joinpath("queries.sql").read_text(encoding="utf-8")
)
