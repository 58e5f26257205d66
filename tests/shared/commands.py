"""A command (grpcurl, a tool, a child pytest or server) run to its end, for what it
said and how it ended."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path


async def run(
    *command: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    within: float = 60,
) -> tuple[int, str]:
    """`command` run to its end (within `within` seconds): its exit status and its
    output, stdout and stderr together."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")
