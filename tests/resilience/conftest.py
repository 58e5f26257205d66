"""A PostgreSQL these tests own: an embedded one (pgserver) in a temporary directory,
which a test may stop and start again. Nothing else uses it."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from service.embedded import start_embedded
from service.storage.db import migrate


@dataclass
class OwnedPostgres:
    dsn: str
    handle: Any

    def _pg_ctl(self, *args: str) -> None:
        """Run the bundled pg_ctl as the server's system user. Not through pgserver's
        helper: it switches user in a forked child, which gRPC's fork handlers make
        crash in a process with gRPC threads; `runuser` keeps the plain spawn path."""
        from pgserver._commands import POSTGRES_BIN_PATH

        command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.handle.pgdata), *args]
        if self.handle.system_user is not None:
            command = ["runuser", "-u", self.handle.system_user, "--", *command]
        subprocess.run(command, check=True, timeout=60, capture_output=True)

    def stop(self) -> None:
        """Stop the server now ("fast": sessions are terminated, as in a restart)."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        pgdata = self.handle.pgdata
        if not (pgdata / "postmaster.pid").exists():
            self._pg_ctl(
                "-w", "-o", '-h ""', "-o", f"-k {pgdata}", "-l", str(pgdata / "log"), "start"
            )
        self.handle.ensure_postgres_running()  # re-reads the running server's details


@pytest.fixture(scope="package")
async def owned_postgres(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[OwnedPostgres]:
    data_dir: Path = tmp_path_factory.mktemp("owned-pg")
    dsn, handle = await asyncio.to_thread(start_embedded, data_dir)
    connection = await asyncpg.connect(dsn)
    try:
        await migrate(connection)
    finally:
        await connection.close()
    owned = OwnedPostgres(dsn, handle)
    yield owned
    await asyncio.to_thread(owned.start)  # a failed test may have left it stopped
    await asyncio.to_thread(handle.cleanup)
