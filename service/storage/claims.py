"""Seat claims of one room in one statement (`claim_seats_together`): this process's
claims of a room queue behind the statement in flight and go together as the next one;
their NOTIFYs are sent a few per burst; `seats.claim_in_transaction` decides whatever
the statement declines (docs/decisions/admission.md, "Claims go together")."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from service.domain import events
from service.domain.seats import CapacityRefusal, Seat, check_capacity, new_seat_id
from service.storage.base import ROLE_BY_VALUE
from service.storage.db import CITUS
from service.storage.history import event_arrays
from service.storage.queries import QUERIES
from service.storage.seats import SeatClaim, claim_in_transaction, seat_of
from service.storage.together import RoomKey, Together, announce

# The most claims one statement takes; the rest wait for the next.
BATCH = 128
# The order of `seen`, the counts a claim saw (claim_seats_together's `roles`).
_ROLE_ORDER = ("presenter", "attendee", "consumer", "collaborator")


@dataclass
class _Answer:
    """A claim's row, whether the identity was found seated after a refusal, and
    whether the refusals of its statement may be wrong (a claim that fitted found the
    identity's seat taken meanwhile, so the counts later claims saw were one too high)."""

    row: asyncpg.Record
    seated: bool = False
    doubtful: bool = False


@dataclass(frozen=True)
class _Claim:
    claim: SeatClaim
    values: tuple[object, ...]  # its elements of claim_seats_together's arrays $3..$12
    pool: asyncpg.Pool


async def _together(key: RoomKey, batch: list[_Claim]) -> list[_Answer | Exception]:
    """One `claim_seats_together` for the batch (again after adding the room's counter
    rows if one was missing), then one look for seats among the refused identities."""
    tenant, room_id = key
    columns = list(zip(*(one.values for one in batch), strict=True))
    ceiling = batch[0].claim.limits.max_participants_ceiling
    arguments = (tenant, room_id, *columns[:6], ceiling, *columns[6:])
    async with batch[0].pool.acquire() as conn:
        rows: list[asyncpg.Record] = []
        for _ in range(2):
            rows = await conn.fetch(QUERIES["claim_seats_together"], *arguments)
            if not any(row["state"] == "setup" for row in rows):
                break
            await conn.execute(QUERIES["seat_count_rows"], tenant, room_id)
        answers = [_Answer(row) for row in rows]
        refused = [answer for answer in answers if answer.row["state"] == "refused"]
        if refused:
            users = [answer.row["user_id"] for answer in refused]
            found = await conn.fetch(QUERIES["seated_users"], tenant, room_id, users)
            seated = {row["user_id"] for row in found}
            doubtful = any(
                answer.row["verdict"] == "fits" and not answer.row["inserted"] for answer in answers
            )
            for answer in refused:
                answer.seated = answer.row["user_id"] in seated
                answer.doubtful = doubtful
    return list(answers)


# This process's claims, by room: those queued behind the statement in flight go as
# the next one.
_claims: Together[_Claim, _Answer] = Together(_together, lambda one: one.claim.user_id, limit=BATCH)


# Whether a pool's database is a Citus coordinator, asked once per pool. Citus cannot plan
# `claim_seats_together` (a recursive CTE over the claims, with no filter on the
# distribution column inside it): there every claim takes `claim_in_transaction`.
# (By the pool's id: a pool takes no weak reference; a process serves one database.)
# Every claim awaits the same task, so the first ones still queue in arrival order.
_citus: dict[int, asyncio.Task[bool]] = {}


async def _ask_citus(pool: asyncpg.Pool) -> bool:
    async with pool.acquire() as conn:
        return bool(await conn.fetchval(CITUS["citus_present"]))


async def _on_citus(pool: asyncpg.Pool) -> bool:
    known = _citus.get(id(pool))
    if known is None or (known.done() and (known.cancelled() or known.exception())):
        known = _citus[id(pool)] = asyncio.ensure_future(_ask_citus(pool))
    return await asyncio.shield(known)  # a cancelled claim leaves the question asked


async def claim(pool: asyncpg.Pool, claim: SeatClaim) -> Seat | CapacityRefusal | None:
    """Take a seat for an allowed identity, or give back (and renew) its live one;
    None, taking nothing, if the room changed since the decision was read
    (`decided_at_version`: a removal, a denial, new settings; knock decisions about
    other identities leave a decision standing), so that the caller decides again.

    Usually one statement for every claim of the room this process has queued
    (`claim_seats_together`): the room's row lock is taken and released inside
    PostgreSQL, with no round trip to this server while it is held, and paid once for
    them all. Where that statement declines (seats to free, a recurring room, a
    window ending within a seat's lifetime) or refuses an identity that a concurrent
    claim may just have seated, the transaction of `claim_in_transaction` decides."""
    if await _on_citus(pool):
        return await claim_in_transaction(pool, claim)
    now, limits = claim.now, claim.limits
    expire_time = now + limits.seat_ttl
    fresh = Seat(new_seat_id(), claim.room_id, claim.user_id, claim.role, now, expire_time)
    (taken_type,), (taken_data,) = event_arrays([events.seat_taken(fresh)])
    values = (
        claim.user_id, claim.role.value, claim.decided_at_version, fresh.seat_id, now,
        expire_time, taken_type, taken_data, claim.actor,
    )  # fmt: skip
    key = (claim.tenant, claim.room_id)
    answer = await _claims.ask(key, _Claim(claim, values, pool))
    row = answer.row
    state = row["state"]
    if state == "moved":
        return None
    if state == "seat":
        if row["inserted"]:
            await announce(pool, claim.tenant, claim.room_id)
        return seat_of(row)
    if state == "refused" and not answer.seated and not answer.doubtful:
        taken = {ROLE_BY_VALUE[r]: n for r, n in zip(_ROLE_ORDER, row["seen"], strict=True)}
        refusal = check_capacity(
            claim.role,
            taken,
            row["max_participants"],
            events.role_capacity_from(row["role_capacity"]),
            limits,
        )
        if refusal is not None:
            return refusal
    # 'slow', 'setup', or a refusal the transaction judges again: a seat the
    # statement's snapshot could not see (the identity's own claim, committed while
    # it waited for the lock) is given back there; so is anything the domain judges
    # otherwise.
    return await claim_in_transaction(pool, claim)
