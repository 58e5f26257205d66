"""The fenced blocks of a Markdown document, and a runner that executes them in order in
one shared environment, as one newcomer's shell would.

The convention:

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
- A fence may be indented (a block inside a list item): its body loses that indentation.
- `<!-- not-tested: why -->` on the line just before a fence shows a block of a
  runnable language without running it (e.g. `make run`, which never returns: the
  test starts its own server). Use it sparingly and say why.
- Blocks of one document share an environment: shell variables set by a shell block
  (assignments run under `set -a`, so they are exported) are seen by every later block
  of the same document, Python and JavaScript included. Each block starts in the
  repository root. The test sets only `ROOMS_ADDRESS` (the server's host:port); the
  document must do the rest itself (PATH to .venv/bin, ids, times). PATH starts without
  .venv/bin, as a newcomer's does.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from support.database import ROOT

SHELL = {"sh", "bash", "shell", "console"}
PYTHON = {"python", "py"}
NODE = {"js", "javascript"}
RUNNABLE = SHELL | PYTHON | NODE
SKIP_MARK = re.compile(r"^<!--\s*not-tested:\s*(?P<why>.+?)\s*-->$")
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
BLOCK_TIMEOUT_SECONDS = 300  # a block may run `npm install` on a fresh clone
# Variables a block's environment never carries over to the next one.
NOT_SHARED = {"PWD", "OLDPWD", "SHLVL", "_"}


@dataclass(frozen=True)
class Block:
    document: str  # the path from the repository root
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    skip: str | None  # why not run, from a not-tested mark

    @property
    def runnable(self) -> bool:
        return self.language in RUNNABLE and self.skip is None

    def __str__(self) -> str:
        return f"{self.document}:{self.line} ({self.language})"


def blocks(markdown: str, document: str = "README.md") -> list[Block]:
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
        indent, fence, language = len(match["indent"]), match["fence"], match["info"].lower()
        closing = fence[0] * len(fence)
        opening = index + 1
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].lstrip(" ").startswith(closing):
            text = lines[index]
            body.append(text[min(indent, len(text) - len(text.lstrip(" "))) :])
            index += 1
        mark = SKIP_MARK.match(previous)
        found.append(
            Block(
                document=document,
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
    """PATH without any virtualenv's bin directory: a document must say where tools are."""
    venv_bins = {str(Path(sys.prefix) / "bin"), str(ROOT / ".venv" / "bin")}
    return os.pathsep.join(
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and entry not in venv_bins
    )


def _call(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One block's process, from the repository root, with no input and a time bound."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_SECONDS,
        stdin=subprocess.DEVNULL,
    )


class Runner:
    """Runs one document's blocks in order in one shared environment."""

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
        return _call(command, env)

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
        done = _call(["bash", "-c", script], self.env)
        if state.exists():
            shared = {}
            for entry in state.read_bytes().split(b"\0"):
                name, sep, value = entry.decode(errors="replace").partition("=")
                if sep and name not in NOT_SHARED:
                    shared[name] = value
            self.env = shared
        return done
