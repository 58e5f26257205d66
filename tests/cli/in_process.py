"""The `rooms` command line tool run in-process for tests: click's CliRunner in a worker
thread (the command runs its own event loop while the server keeps serving on the
test's loop), and its tables read back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from click.testing import CliRunner, Result
from rooms.cli import cli

# Settings from the environment of whoever runs the tests must not leak in.
NO_ROOMS_ENV: dict[str, str | None] = {
    name: None
    for name in (
        "ROOMS_ADDRESS",
        "ROOMS_API_KEY",
        "ROOMS_TLS_CA",
        "ROOMS_TLS_CERT",
        "ROOMS_TLS_KEY",
        "ROOMS_TLS_SERVER_NAME",
    )
}


async def invoke(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """`rooms ARGS` in-process with click's CliRunner, in a worker thread: the command
    runs its own event loop while the server keeps serving on the test's loop."""
    runner = CliRunner()
    return await asyncio.to_thread(
        runner.invoke, cli, list(args), env={**NO_ROOMS_ENV, **(env or {})}
    )


class Cli:
    """`rooms --address <the test server> ...` (with `--api-key` if given)."""

    def __init__(self, port: int, api_key: str | None = None) -> None:
        self.address = f"127.0.0.1:{port}"
        self.api_key = api_key

    async def __call__(self, *args: str) -> Result:
        key = ("--api-key", self.api_key) if self.api_key else ()
        return await invoke("--address", self.address, *key, *args)

    async def ok(self, *args: str) -> str:
        result = await self(*args)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        assert result.stderr == ""
        return result.stdout

    async def refused(self, *args: str) -> str:
        """`rooms authorize` of a refused join: the decision, and exit status 3."""
        result = await self(*args)
        assert result.exit_code == 3, (result.stdout, result.stderr, result.exception)
        return result.stdout

    async def json(self, *args: str) -> Any:
        return json.loads(await self.ok(*args, "--json"))

    async def fails(self, *args: str) -> str:
        """The one error line of a failing command."""
        result = await self(*args)
        assert result.exit_code == 1, (result.stdout, result.stderr)
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]


def fields(table: str) -> dict[str, str]:
    """A `name  value` listing as a dict."""
    pairs = (line.split(None, 1) for line in table.strip().splitlines())
    return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}


def rows(table: str) -> list[list[str]]:
    """A table's rows (header first), split on runs of spaces."""
    return [line.split() for line in table.strip().splitlines()]
