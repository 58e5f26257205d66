"""docs/guides/client.md, "The CLI": 'Shell completion comes from click:
for bash, add `eval "$(_ROOMS_COMPLETE=bash_source rooms)"` to `~/.bashrc`
(`zsh_source` for zsh, `fish_source` for fish)'. The line, run by bash as written,
defines the completion, and the completion it asks click for names the commands."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes

ROOMS = shutil.which("rooms", path=str(Path(sys.executable).parent))


def _run(script: str, **environment: str) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path, **environment},
        timeout=60,
    )


@pytest.mark.skipif(ROOMS is None, reason="the rooms CLI is not installed")
async def test_readme_shell_completion_line_works() -> None:
    done = await asyncio.to_thread(
        _run, 'eval "$(_ROOMS_COMPLETE=bash_source rooms)" && complete -p rooms'
    )
    assert done.returncode == 0, done.stderr
    assert "_rooms_completion" in done.stdout, done.stdout
    for shell in ("zsh_source", "fish_source"):
        source = await asyncio.to_thread(_run, "rooms", _ROOMS_COMPLETE=shell)
        assert source.returncode == 0 and "_rooms_completion" in source.stdout, source
    asked = await asyncio.to_thread(
        _run, "rooms", _ROOMS_COMPLETE="bash_complete", COMP_WORDS="rooms kno", COMP_CWORD="1"
    )
    assert asked.returncode == 0, asked.stderr
    assert "plain,knocks" in asked.stdout.splitlines(), asked.stdout
