"""docs/guides/credentials.md: 'Rotate with `python -m service signing-keys rotate
--activate-in 120` (with `ROOMS_DATABASE_URL`)': the command, run as written, stores a
new key that signs 120 s from now, on a database it migrates itself."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from support.database import ROOT

pytestmark = pytest.mark.processes


async def test_readme_signing_keys_rotate_stores_a_key_that_signs_later(
    database_url: str,
) -> None:
    before = datetime.now(UTC)
    environment = {**os.environ, "ROOMS_DATABASE_URL": database_url}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "service", "signing-keys", "rotate", "--activate-in", "120"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
    )
    after = datetime.now(UTC)
    assert done.returncode == 0, done.stderr
    key_id = done.stdout.split("new signing key ", 1)[1].split(":", 1)[0]
    connection = await asyncpg.connect(database_url)
    try:
        activate_time = await connection.fetchval(
            "SELECT activate_time FROM signing_keys WHERE key_id = $1", key_id
        )
    finally:
        await connection.close()
    delay = timedelta(seconds=120)
    assert activate_time is not None, done.stdout
    assert before + delay <= activate_time <= after + delay
    assert "ROOMS_SIGNING_KEY_REFRESH_SECONDS" in done.stdout


async def test_rotate_with_an_unreachable_database_is_one_line_and_status_2() -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:1/rooms"
    environment = {**os.environ, "ROOMS_DATABASE_URL": url}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "service", "signing-keys", "rotate"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ROOMS_DATABASE_URL" in lines[0], done.stderr
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr
