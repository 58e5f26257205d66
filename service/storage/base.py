"""What the PostgreSQL stores share: the driver-error translation, row readers, and
the base of the store classes (the pool, the coalesced reads, the room lock).

Times come from the caller (the domain's clock), never from `now()` in SQL, so
tests that set the clock see consistent results. The statements are in sql/*.sql.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import asyncpg

from service.domain import instants
from service.domain.errors import DomainError, etag_mismatch, room_not_found, stored_rule_broken
from service.domain.models import (
    Participant,
    Role,
    Room,
    etag_of,
)
from service.storage import rows
from service.storage.db import Connection
from service.storage.queries import QUERIES
from service.storage.reads import UNAVAILABLE, CoalescingReader, budget, translate

P = ParamSpec("P")
R = TypeVar("R")

_NAMED_CONSTRAINT = re.compile(r'constraint "([^"]+)"')
_SHARD_SUFFIX = re.compile(r"_\d+$")


def constraint_of(error: asyncpg.IntegrityConstraintViolationError) -> str:
    """The name of the constraint `error` reports ("" if none). A Citus coordinator
    relays a worker's error without the name's field, in a message naming the shard's
    copy of a key (`webhooks_pkey_102265`): the name is read from the message there,
    without the shard's suffix (no constraint of this schema ends in `_<digits>`)."""
    if error.constraint_name:
        return str(error.constraint_name)
    match = _NAMED_CONSTRAINT.search(str(getattr(error, "message", "") or error))
    if match is None:
        return ""
    relayed = str(getattr(error, "context", "") or "").startswith("while executing command on")
    return _SHARD_SUFFIX.sub("", match[1]) if relayed else match[1]


def translate_errors(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Bound the database work by the call's deadline (and the server's ceiling), and
    turn driver failures into DomainErrors the transport knows how to answer. For
    methods of stores that have a `statement_ceiling` (seconds)."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        left = budget(getattr(args[0], "statement_ceiling"))  # noqa: B009
        try:
            # On expiry (or when the caller cancels the call) asyncpg asks the
            # server to cancel the running statement.
            async with asyncio.timeout(left):
                return await method(*args, **kwargs)
        except (asyncpg.QueryCanceledError, TimeoutError, *UNAVAILABLE) as error:
            raise translate(error) from error
        except asyncpg.IntegrityConstraintViolationError as error:
            # The domain's rules run first, so this is a rule the domain lacks: still a
            # refusal of the input (named by the constraint), never INTERNAL.
            raise stored_rule_broken(constraint_of(error)) from error

    return wrapper


# Enum lookups by value through a dict: Enum(value) is slow on the hot path.
ROLE_BY_VALUE = {role.value: role for role in Role}
# Whatever a row holds (an infinity, an instant from before the accepted range), it reads.
readable_instant = instants.readable


def check_version(
    expected_version: int | None, version: int, mismatch: Callable[[str], DomainError]
) -> None:
    """An etag precondition: unless no version is expected or it is `version`, raise
    `mismatch` of the current etag (ETAG_MISMATCH naming the resource)."""
    if expected_version is not None and expected_version != version:
        raise mismatch(etag_of(version))


async def versioned_row(
    conn: Connection,
    query: str,
    *args: Any,
    expected_version: int | None,
    missing: Callable[[], DomainError],
    mismatch: Callable[[str], DomainError],
) -> asyncpg.Record:
    """The row `query` reads (and locks), whose version must be the one expected:
    `missing()` where there is no row, `mismatch` (see `check_version`) where the version
    is another."""
    row = await conn.fetchrow(query, *args)
    if row is None:
        raise missing()
    check_version(expected_version, row["version"], mismatch)
    return row


def room_of(record: asyncpg.Record) -> Room:
    return Room(
        room_id=record["room_id"],
        create_time=readable_instant(record["create_time"]),
        update_time=readable_instant(record["update_time"]),
        version=record["version"],
        participant_count=record["participant_count"],
        last_event_revision=record["event_seq"],
        **rows.settings_from_row(record),
    )


def participant_of(record: asyncpg.Record, prefix: str = "") -> Participant:
    return Participant(
        user_id=record[prefix + "user_id"],
        role=ROLE_BY_VALUE[record[prefix + "role"]],
        create_time=readable_instant(record[prefix + "create_time"]),
        update_time=readable_instant(record[prefix + "update_time"]),
        valid_from=optional_instant(record[prefix + "valid_from"]),
        valid_until=optional_instant(record[prefix + "valid_until"]),
    )


def optional_instant(value: datetime | None) -> datetime | None:
    return readable_instant(value) if value is not None else None


async def bump_epochs(conn: Connection, tenant: str, room_id: str, user_ids: Sequence[str]) -> None:
    """Start a new membership epoch for each of `user_ids` (a removal, a ban, a denial,
    a role change that takes publishing away), in the writer's transaction: their Janus
    join tokens change, and a Janus admission of the old epoch no longer counts."""
    if not user_ids:
        return
    await conn.execute(
        QUERIES["bump_epochs"],
        tenant,
        room_id,
        sorted(set(user_ids)),
    )


class StoreBase:
    """The pool, the ceiling of one operation and the coalesced reads."""

    def __init__(self, pool: asyncpg.Pool, statement_ceiling: float = 10.0) -> None:
        self._pool = pool
        # The longest any one operation may take, whatever the caller's deadline.
        self.statement_ceiling = statement_ceiling
        self._reads = CoalescingReader(pool, statement_ceiling)

    async def _lock_room(
        self,
        conn: Connection,
        tenant: str,
        room_id: str,
        expected_version: int | None,
    ) -> asyncpg.Record:
        """Lock a live room's row for a roster change, checking its version."""
        return await versioned_row(
            conn,
            QUERIES["lock_room"],
            tenant,
            room_id,
            expected_version=expected_version,
            missing=functools.partial(room_not_found, room_id),
            mismatch=functools.partial(etag_mismatch, room_id),
        )
