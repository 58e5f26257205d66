"""The suite's connection budget: it fits a stock PostgreSQL (max_connections = 100).

At the start the server's free connections are compared with the budget, and a server
that cannot give them stops the run with one line (the limit, the need, how to raise
it). During the run a sampler counts the server's client connections every 0.1 s; the
peak above those open before the run is printed at the end, and a peak over the budget
fails the run."""

from __future__ import annotations

import asyncio
import os
import threading

import asyncpg

BUDGET = int(os.environ.get("ROOMS_TEST_CONNECTION_BUDGET", "60"))

_COUNT = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
_BY_DATABASE = (
    "SELECT coalesce(datname, '') || ' ' || coalesce(application_name, '') AS name,"
    " count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1"
)


async def _headroom(dsn: str) -> tuple[int, int, int]:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        limit = int(await connection.fetchval("SHOW max_connections"))
        reserved = int(await connection.fetchval("SHOW superuser_reserved_connections"))
        in_use = int(await connection.fetchval(_COUNT))
    finally:
        await connection.close()
    return limit, reserved, in_use


async def _count(dsn: str) -> int:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        return int(await connection.fetchval(_COUNT)) - 1  # not this one
    finally:
        await connection.close()


def shortfall(dsn: str, source: str) -> str | None:
    """One line when the server cannot give the suite its budget, else None."""
    limit, reserved, in_use = asyncio.run(_headroom(dsn))
    free = limit - reserved - in_use
    if free >= BUDGET:
        return None
    return (
        f"rooms tests need {BUDGET} database connections; {source} allows {limit}"
        f" (max_connections) of which {reserved} are reserved and {in_use} in use, so"
        f" {free} are free: stop what holds them, raise max_connections, or point"
        " ROOMS_TEST_DATABASE_URL at another server"
    )


class ConnectionSampler:
    """Counts the server's client connections in a thread of its own until stopped."""

    def __init__(self, dsn: str, interval: float = 0.1) -> None:
        self._dsn = dsn
        self._interval = interval
        self._stop = threading.Event()
        self.baseline = 0
        self.peak = 0
        self.at_peak: dict[str, int] = {}  # connections by database at the peak
        self.peak_test = ""  # the test running then
        self._thread = threading.Thread(target=self._run, name="connection-sampler", daemon=True)

    def start(self) -> None:
        """Count the connections open before the run (and the sampler's own, about to
        open), then sample in the background."""
        self.baseline = self.peak = asyncio.run(_count(self._dsn)) + 1
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    @property
    def used(self) -> int:
        """The most connections the run held at once (the sampler's own excluded)."""
        return max(self.peak - self.baseline, 0)

    def _run(self) -> None:
        asyncio.run(self._sample())

    async def _sample(self) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=10)
        try:
            while not self._stop.is_set():
                count = int(await connection.fetchval(_COUNT))
                if count > self.peak:
                    self.peak = count
                    rows = await connection.fetch(_BY_DATABASE)
                    self.at_peak = {row["name"]: row["count"] for row in rows}
                    self.peak_test = os.environ.get("PYTEST_CURRENT_TEST", "")
                await asyncio.sleep(self._interval)
        finally:
            await connection.close()
