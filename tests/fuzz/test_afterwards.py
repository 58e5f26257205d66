"""After the fuzzing (this module runs last in the package, see conftest.py): the server
is healthy and still answers, it logged no error, and the database invariants hold for
every room the fuzzing touched."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import rooms_service_pb2 as rs

from tests.fuzz.harness import JOIN_POLICIES, ROLES, Fuzz
from tests.fuzz.strategies import MAX_ROSTER


def _is_identity(value: str) -> bool:
    return 1 <= len(value) <= 256 and value.isprintable() and not any(ch.isspace() for ch in value)


async def test_after_the_fuzzing_the_server_is_healthy_and_the_database_consistent(
    fuzz: Fuzz, pool: asyncpg.Pool
) -> None:
    health: Any = health_pb2_grpc.HealthStub(fuzz.channel)
    response = await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert response.status == health_pb2.HealthCheckResponse.SERVING
    # And it still answers real calls.
    await fuzz.rooms.ListRoles(rs.ListRolesRequest(), metadata=(fuzz.auth,), timeout=10)

    unexpected = [
        f"{record.name}: {record.getMessage()}\n{record.exc_text or ''}"
        for record in fuzz.server_errors.records
    ]
    assert not unexpected, "the server logged errors:\n" + "\n".join(unexpected)

    # The tables are all still there, and the fuzz tenant has data.
    fuzzed = await pool.fetchval("SELECT count(*) FROM rooms WHERE tenant = $1", fuzz.tenant)
    assert fuzzed > 0

    bad_windows = await pool.fetch(
        "SELECT tenant, room_id FROM rooms WHERE valid_until <= valid_from"
    )
    assert not bad_windows

    rows = await pool.fetch("SELECT tenant, room_id, user_id FROM participants")
    bad_identities = [dict(row) for row in rows if not _is_identity(row["user_id"])]
    assert not bad_identities

    orphans = await pool.fetch(
        """SELECT p.tenant, p.room_id, p.user_id FROM participants p
           LEFT JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
           WHERE r.room_id IS NULL"""
    )
    assert not orphans
    orphan_keys = await pool.fetch(
        """SELECT k.tenant, k.idempotency_key, k.room_id FROM idempotency_keys k
           LEFT JOIN rooms r ON r.tenant = k.tenant AND r.room_id = k.room_id
           WHERE r.room_id IS NULL"""
    )
    assert not orphan_keys

    miscounted = await pool.fetch(
        """SELECT r.tenant, r.room_id, r.participant_count, count(p.user_id) AS actual
           FROM rooms r
           LEFT JOIN participants p ON p.tenant = r.tenant AND p.room_id = r.room_id
           GROUP BY r.tenant, r.room_id, r.participant_count
           HAVING r.participant_count <> count(p.user_id)"""
    )
    assert not miscounted

    roles = {row["role"] for row in await pool.fetch("SELECT DISTINCT role FROM participants")}
    assert roles <= ROLES
    policies = {
        row["join_policy"] for row in await pool.fetch("SELECT DISTINCT join_policy FROM rooms")
    }
    assert policies <= JOIN_POLICIES
    open_roles = {
        row["open_join_role"]
        for row in await pool.fetch("SELECT DISTINCT open_join_role FROM rooms")
    }
    assert open_roles <= ROLES

    # The fuzz tenant's rooms keep the server's limits.
    limits = await pool.fetch(
        """SELECT room_id, participant_count, early_entry, metadata::text AS metadata
           FROM rooms WHERE tenant = $1""",
        fuzz.tenant,
    )
    for row in limits:
        assert 0 <= row["participant_count"] <= MAX_ROSTER, dict(row)
        assert timedelta(0) <= row["early_entry"] <= timedelta(hours=24), dict(row)
        metadata = json.loads(row["metadata"])
        assert isinstance(metadata, dict) and len(metadata) <= 32, dict(row)
        for key, value in metadata.items():
            assert 1 <= len(key) <= 64 and isinstance(value, str) and len(value) <= 512
            assert value.isprintable(), (key, value)
    times = await pool.fetch(
        "SELECT valid_from, valid_until FROM rooms WHERE tenant = $1", fuzz.tenant
    )
    for row in times:
        assert datetime(1, 1, 2, tzinfo=UTC) <= row["valid_from"] < row["valid_until"]
