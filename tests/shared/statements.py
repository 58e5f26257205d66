"""Recording every statement the service sends, with its transaction status, and
checking it against the rules a distributed PostgreSQL (Citus) needs (docs/scaling.md).

`StatementLog.connection_class()` is an asyncpg connection class that records each
statement before sending it: its text, its arguments, and whether the connection was
inside a transaction block at that moment. `check_statements` then asks PostgreSQL
itself (EXPLAIN with the recorded arguments) which rows each statement reads, locks or
changes, so the check follows the SQL as it is, including the SQL of features added
later, without a parser of ours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg

from service.storage.db import Connection
from service.storage.history import CROSS_TENANT_READ

# asyncpg's Connection is generic for type checkers only.
if TYPE_CHECKING:
    _Connection = asyncpg.Connection[Any]
else:
    _Connection = asyncpg.Connection

_TENANT_EQUALS = re.compile(r"(?<![\w.])(?:\w+\.)?tenant = '((?:[^']|'')*)'::text")
_SESSION_LOCK = re.compile(r"pg_(?:try_)?advisory_lock(?:_shared)?\s*\(", re.IGNORECASE)
_NOTIFY = re.compile(r"\bpg_notify\s*\(|^\s*NOTIFY\b", re.IGNORECASE)
_EXPLAINABLE = re.compile(r"^\s*(?:/\*.*?\*/\s*)?(SELECT|WITH|INSERT|UPDATE|DELETE)\b", re.S | re.I)


@dataclass(frozen=True, slots=True)
class Statement:
    connection: int
    query: str
    args: tuple[Any, ...]
    in_transaction: bool

    @property
    def verb(self) -> str:
        return self.query.strip().split(None, 1)[0].rstrip(";").upper() if self.query else ""

    @property
    def is_notify(self) -> bool:
        return bool(_NOTIFY.search(self.query))

    @property
    def short(self) -> str:
        return " ".join(self.query.split())[:160]


@dataclass(slots=True)
class Transaction:
    connection: int
    statements: list[Statement] = field(default_factory=list)
    outcome: str = "open"  # COMMIT or ROLLBACK once it ends
    next_statement: Statement | None = None  # the connection's first statement after it


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[Statement] = []

    def record(self, connection: object, query: str, args: tuple[Any, ...]) -> None:
        assert isinstance(connection, asyncpg.Connection)
        self.statements.append(
            Statement(id(connection), query, tuple(args), connection.is_in_transaction())
        )

    def connection_class(self) -> type[asyncpg.Connection[Any]]:
        log = self

        class RecordingConnection(_Connection):
            async def execute(self, query: str, *args: Any, **kwargs: Any) -> str:
                if not args:  # with arguments, execute goes through _execute
                    log.record(self, query, ())
                status: str = await super().execute(query, *args, **kwargs)
                return status

            async def _execute(self, query: str, args: Any, *rest: Any, **kwargs: Any) -> Any:
                log.record(self, query, args)
                return await super()._execute(query, args, *rest, **kwargs)  # type: ignore[misc]

            async def _executemany(self, query: str, args: Any, *rest: Any, **kwargs: Any) -> Any:
                for one in args:
                    log.record(self, query, tuple(one))
                return await super()._executemany(query, args, *rest, **kwargs)  # type: ignore[misc]

        return RecordingConnection

    def transactions(self) -> Iterator[Transaction]:
        """Each transaction block, in the order they began, with what followed it."""
        current: dict[int, Transaction] = {}
        finished: dict[int, Transaction] = {}
        every: list[Transaction] = []
        for statement in self.statements:
            conn = statement.connection
            if conn in finished:
                finished.pop(conn).next_statement = statement
            verb = statement.verb
            if verb in ("BEGIN", "START") and not statement.in_transaction:
                current[conn] = Transaction(conn)
                every.append(current[conn])
            elif verb in ("COMMIT", "ROLLBACK", "END", "ABORT") and conn in current:
                done = current.pop(conn)
                done.outcome = "COMMIT" if verb in ("COMMIT", "END") else "ROLLBACK"
                finished[conn] = done
            elif statement.in_transaction and conn in current:
                current[conn].statements.append(statement)
        return iter(every)


@dataclass(frozen=True, slots=True)
class Footprint:
    """What PostgreSQL plans for one statement on tables that have a tenant column."""

    tenants: frozenset[str]  # the tenant constants its scans are restricted to
    unrestricted: tuple[str, ...]  # tenant tables it scans without `tenant = <one value>`
    writes_or_locks: bool  # a ModifyTable or LockRows node


async def tenant_tables(conn: Connection) -> frozenset[str]:
    rows = await conn.fetch(
        """SELECT table_name FROM information_schema.columns
           WHERE table_schema = 'public' AND column_name = 'tenant'"""
    )
    return frozenset(row["table_name"] for row in rows)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


async def footprint(
    conn: Connection, statement: Statement, tables: frozenset[str]
) -> Footprint | None:
    """The statement's footprint from its plan; None if it is not a plannable query."""
    if not _EXPLAINABLE.match(statement.query):
        return None
    raw = await conn.fetchval("EXPLAIN (FORMAT JSON) " + statement.query, *statement.args)
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    tenants: set[str] = set()
    unrestricted: list[str] = []
    writes_or_locks = False
    for node in _nodes(plan):
        if node["Node Type"] in ("ModifyTable", "LockRows"):
            writes_or_locks = True
            continue
        relation = node.get("Relation Name")
        if relation not in tables:
            continue
        conditions = " ".join(
            node.get(key, "") for key in ("Index Cond", "Recheck Cond", "Filter", "Tid Cond")
        )
        found = {value.replace("''", "'") for value in _TENANT_EQUALS.findall(conditions)}
        if len(found) != 1:
            unrestricted.append(
                f"{node['Node Type']} on {relation}: {conditions or 'no condition'}"
            )
        tenants |= found
    return Footprint(frozenset(tenants), tuple(unrestricted), writes_or_locks)


async def check_statements(log: StatementLog, conn: Connection) -> list[str]:
    """Every way the recorded statements break the rules of docs/scaling.md:

    1. A statement marked CROSS_TENANT_READ runs outside any transaction and neither
       writes nor locks rows.
    2. Every other statement that touches a table with a tenant column restricts every
       scan of such a table to exactly one tenant.
    3. A transaction block touches one tenant only.
    4. NOTIFY is sent only outside a transaction block.
    5. No session-level advisory lock.
    """
    tables = await tenant_tables(conn)
    problems: list[str] = []
    seen: dict[tuple[str, tuple[Any, ...]], Footprint | None] = {}

    async def of(statement: Statement) -> Footprint | None:
        key = (statement.query, tuple(repr(a) for a in statement.args))
        if key not in seen:
            seen[key] = await footprint(conn, statement, tables)
        return seen[key]

    for statement in log.statements:
        if statement.is_notify and statement.in_transaction:
            problems.append(f"NOTIFY inside a transaction: {statement.short}")
        if _SESSION_LOCK.search(statement.query):
            problems.append(f"session-level advisory lock: {statement.short}")
        found = await of(statement)
        if found is None:
            continue
        if CROSS_TENANT_READ in statement.query:
            if statement.in_transaction or found.writes_or_locks:
                problems.append(f"cross-tenant read in a transaction or locking: {statement.short}")
            continue
        if found.unrestricted or len(found.tenants) > 1:
            problems.append(
                f"not restricted to one tenant ({'; '.join(found.unrestricted)};"
                f" tenants {sorted(found.tenants)}): {statement.short}"
            )
    for transaction in log.transactions():
        tenants: set[str] = set()
        for statement in transaction.statements:
            found = await of(statement)
            if found is not None and CROSS_TENANT_READ not in statement.query:
                tenants |= found.tenants
        if len(tenants) > 1:
            problems.append(
                f"one transaction touches tenants {sorted(tenants)}: "
                + " | ".join(s.short[:60] for s in transaction.statements)
            )
    return problems
