"""README.md runs: every shell session and code block in it is executed, in order,
against a real server (`python -m service` on a free port) on a fresh database.

The convention (also in docs/decisions.md, "The README runs"):

- A fenced block's language decides what happens to it:
  - `sh`, `bash`, `shell`, `console`: run by bash from the repository root. If some
    lines start with `$ `, the block is a session: those lines (with their
    continuation lines: a trailing backslash or an open quote) are the commands and
    every other line is example output, not compared. Otherwise the whole block is a
    script. Every command must succeed (`set -e -o pipefail`): a command that is
    meant to fail shows how a script handles it (`... || echo "exit status $?"`).
  - `python`: run by the project's Python (the one with the client installed).
  - `js`, `javascript`: run by `node`, with examples/node/node_modules on NODE_PATH.
  - any other language (`text` for output, `toml`, `json`, `yaml`, `proto`...): shown
    only, never run.
  - no language at all: an error. Say `text` if it is not meant to run.
- `<!-- not-tested: why -->` on the line just before a fence shows a block of a
  runnable language without running it (e.g. `make run`, which never returns: the
  test starts its own server). Use it sparingly and say why.
- Blocks share an environment, as one newcomer's shell would: shell variables set
  by a shell block (assignments run under `set -a`, so they are exported) are seen by
  every later block, Python and JavaScript included. Each block starts in the
  repository root. The test sets only `ROOMS_ADDRESS` (the server's host:port); the
  README must do the rest itself (PATH to .venv/bin, ids, times). PATH starts without
  .venv/bin, as a newcomer's does.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from support.database import ROOT, scratch_database
from support.processes import free_port
from tests.shared.processes import spawn_server

pytestmark = pytest.mark.processes

README = ROOT / "README.md"
SHELL = {"sh", "bash", "shell", "console"}
PYTHON = {"python", "py"}
NODE = {"js", "javascript"}
SKIP_MARK = re.compile(r"^<!--\s*not-tested:\s*(?P<why>.+?)\s*-->$")
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
BLOCK_TIMEOUT_SECONDS = 300  # a block may run `npm install` on a fresh clone
# Variables a block's environment never carries over to the next one.
NOT_SHARED = {"PWD", "OLDPWD", "SHLVL", "_"}


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    skip: str | None  # why not run, from a not-tested mark

    @property
    def runnable(self) -> bool:
        return self.language in SHELL | PYTHON | NODE and self.skip is None

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.language})"


def blocks(markdown: str) -> list[Block]:
    """Every fenced block, in order, with its language and any not-tested mark."""
    found: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    previous = ""  # the last non-blank line before the current one
    while index < len(lines):
        line = lines[index]
        match = FENCE.match(line)
        if match is None:
            if line.strip():
                previous = line.strip()
            index += 1
            continue
        fence, language = match["fence"], match["info"].lower()
        opening = index + 1
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].startswith(fence[0] * len(fence)):
            body.append(lines[index])
            index += 1
        mark = SKIP_MARK.match(previous)
        found.append(
            Block(
                line=opening,
                language=language,
                text="\n".join(body) + "\n",
                skip=mark["why"] if mark else None,
            )
        )
        previous = ""
        index += 1
    return found


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return True


HEREDOC = re.compile(r"<<-?\s*(['\"]?)(?P<word>\w+)\1")


def session_commands(text: str) -> list[str] | None:
    """The commands of a `$ ` session (output lines dropped), or None for a script. A
    command goes on over a trailing backslash, an open quote and a here-document."""
    lines = text.splitlines()
    if not any(line.startswith("$ ") for line in lines):
        return None
    commands: list[str] = []
    current: str | None = None
    heredoc: str | None = None  # the word that ends the here-document being read
    for line in lines:
        if current is not None:
            current += "\n" + line
        elif line.startswith("$ "):
            current = line[2:]
        else:
            continue  # example output
        if heredoc is not None:
            if line.strip() == heredoc:
                commands.append(current)
                current = heredoc = None
            continue
        if _complete(current):
            opened = HEREDOC.search(current.splitlines()[-1])
            if opened:
                heredoc = opened["word"]
            else:
                commands.append(current)
                current = None
    assert current is None, f"an unfinished command at the end of a session: {current!r}"
    return commands


def newcomer_path() -> str:
    """PATH without any virtualenv's bin directory: the README must say where tools are."""
    venv_bins = {str(Path(sys.prefix) / "bin"), str(ROOT / ".venv" / "bin")}
    return os.pathsep.join(
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and entry not in venv_bins
    )


class Runner:
    """Runs blocks in order in one shared environment."""

    def __init__(self, address: str, scratch: Path) -> None:
        self.scratch = scratch
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("ROOMS_", "VIRTUAL_ENV", "PYTEST_"))
        }
        self.env["PATH"] = newcomer_path()
        self.env["ROOMS_ADDRESS"] = address

    def run(self, block: Block) -> subprocess.CompletedProcess[str]:
        if block.language in SHELL:
            return self._shell(block)
        source = self.scratch / f"block-{block.line}"
        source.write_text(block.text)
        if block.language in PYTHON:
            command = [sys.executable, str(source)]
            env = self.env
        else:
            node_modules = ROOT / "examples" / "node" / "node_modules"
            command = ["node", str(source)]
            env = {**self.env, "NODE_PATH": str(node_modules)}
        return subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )

    def _shell(self, block: Block) -> subprocess.CompletedProcess[str]:
        commands = session_commands(block.text)
        body = block.text if commands is None else "\n".join(commands) + "\n"
        state = self.scratch / f"env-{block.line}"
        script = (
            f"trap 'env -0 > {shlex.quote(str(state))}' EXIT\n"
            "set -a -e -o pipefail\n"
            f"cd {shlex.quote(str(ROOT))}\n"
            f"{body}"
        )
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
        if state.exists():
            shared = {}
            for entry in state.read_bytes().split(b"\0"):
                name, sep, value = entry.decode(errors="replace").partition("=")
                if sep and name not in NOT_SHARED:
                    shared[name] = value
            self.env = shared
        return done


# ---- the extractor itself -----------------------------------------------------------


def test_blocks_sessions_and_marks_are_recognised() -> None:
    markdown = "\n".join(
        [
            "```sh",
            "$ echo 'one",
            "two'",
            "one",
            "two",
            "$ rooms show x \\",
            "    --json   # it's a comment",
            "{...}",
            "$ cat <<EOF",
            "$x",
            "EOF",
            "$x",
            "```",
            "<!-- not-tested: never returns -->",
            "",
            "```sh",
            "make run",
            "```",
            "```text",
            "$ not run",
            "```",
            "````python",
            "print('```')",
            "````",
        ]
    )
    found = blocks(markdown)
    assert [(b.line, b.language, b.runnable) for b in found] == [
        (1, "sh", True),
        (16, "sh", False),
        (19, "text", False),
        (22, "python", True),
    ]
    assert found[1].skip == "never returns"
    assert session_commands(found[0].text) == [
        "echo 'one\ntwo'",
        "rooms show x \\\n    --json   # it's a comment",
        "cat <<EOF\n$x\nEOF",
    ]
    assert session_commands(found[1].text) is None
    assert found[3].text == "print('```')\n"


def test_every_block_says_whether_it_runs() -> None:
    unlabeled = [str(block.line) for block in blocks(README.read_text()) if not block.language]
    assert not unlabeled, (
        f"README.md blocks without a language at lines {', '.join(unlabeled)}: "
        "name one (sh, python, js to run it; text to only show it)"
    )


# ---- the README against a real server -----------------------------------------------


@pytest.fixture
async def readme_server(admin_url: str) -> AsyncIterator[str]:
    """A real server process of its own on a fresh, empty database, on a free port."""
    async with scratch_database(admin_url, prefix="rooms_readme") as dsn:
        port = free_port()
        address = f"127.0.0.1:{port}"
        with tempfile.TemporaryFile() as log:
            # With the calendar feed server (README "A weekly appointment").
            feeds = f"127.0.0.1:{free_port()}"
            process = await spawn_server(
                dsn, port, output=log.fileno(), ROOMS_HTTP_LISTEN_ADDRESS=feeds
            )
            try:
                async with grpc.aio.insecure_channel(address) as channel:
                    health: Any = health_pb2_grpc.HealthStub(channel)
                    # wait_for_ready: the check waits for the port instead of failing.
                    await health.Check(
                        health_pb2.HealthCheckRequest(), wait_for_ready=True, timeout=60
                    )
                yield address
            finally:
                process.terminate()
                await process.wait()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
async def test_the_readme_runs(readme_server: str, tmp_path: Path) -> None:
    runner = Runner(readme_server, tmp_path)
    ran = 0
    for block in blocks(README.read_text()):
        if not block.runnable:
            continue
        done = await asyncio.to_thread(runner.run, block)
        assert done.returncode == 0, (
            f"{block} failed with exit status {done.returncode}\n"
            f"--- block ---\n{block.text}--- stdout ---\n{done.stdout}"
            f"--- stderr ---\n{done.stderr}"
        )
        ran += 1
    assert ran > 0
