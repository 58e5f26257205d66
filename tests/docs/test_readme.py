"""README.md and every guide under docs/ run: each shell session and code block is
executed, in order, against a real server (`python -m service` on a free port) on a
fresh database. How a block is read and run: tests/docs/blocks.py.

Every Markdown document of README.md and docs/ is read. A document runs unless it is
in NOT_RUN with the reason; in a document that runs, a block of a runnable language
runs unless a `<!-- not-tested: why -->` line just before it says why. So no block is
dropped without a reason written next to it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from support.database import ROOT, scratch_database
from support.processes import free_port
from tests.docs.blocks import RUNNABLE, Runner, blocks, session_commands
from tests.shared.processes import spawn_server

pytestmark = pytest.mark.processes

GUIDES = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").rglob("*.md"))
DOCUMENTS = ["README.md", *GUIDES]
# Documents whose blocks are not run, and why.
NOT_RUN = {
    "docs/performance.md": "its commands are the benchmarks themselves (make bench: minutes "
    "of load on a server of their own, and they rewrite this file); CI does not run them",
}
# The README ran this many blocks before its guides moved to docs/guides/: the documents
# together never run fewer.
RAN_BEFORE_THE_GUIDES = 13


def _blocks(document: str) -> list[Any]:
    return blocks((ROOT / document).read_text(), document)


RUN = [doc for doc in DOCUMENTS if doc not in NOT_RUN and any(b.runnable for b in _blocks(doc))]


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
            "1. In a list item:",
            "",
            "   ```python",
            "   if True:",
            "       print(1)",
            "   ```",
        ]
    )
    found = blocks(markdown, "guide.md")
    assert [(b.line, b.language, b.runnable) for b in found] == [
        (1, "sh", True),
        (16, "sh", False),
        (19, "text", False),
        (22, "python", True),
        (27, "python", True),
    ]
    assert str(found[0]) == "guide.md:1 (sh)"
    assert found[1].skip == "never returns"
    assert session_commands(found[0].text) == [
        "echo 'one\ntwo'",
        "rooms show x \\\n    --json   # it's a comment",
        "cat <<EOF\n$x\nEOF",
    ]
    assert session_commands(found[1].text) is None
    assert found[3].text == "print('```')\n"
    assert found[4].text == "if True:\n    print(1)\n"


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_block_says_whether_it_runs(document: str) -> None:
    unlabeled = [str(block.line) for block in _blocks(document) if not block.language]
    assert not unlabeled, (
        f"{document}: blocks without a language at lines {', '.join(unlabeled)}: "
        "name one (sh, python, js to run it; text to only show it)"
    )


def test_documents_not_run_exist_and_hold_blocks_to_run() -> None:
    for document in NOT_RUN:
        assert document in DOCUMENTS, f"NOT_RUN names {document}, which is not there"
        assert any(b.language in RUNNABLE for b in _blocks(document)), (
            f"{document} has no block to run: take it out of NOT_RUN"
        )


def test_the_guides_run_at_least_what_the_readme_ran() -> None:
    counts = {doc: sum(b.runnable for b in _blocks(doc)) for doc in RUN}
    assert sum(counts.values()) >= RAN_BEFORE_THE_GUIDES, counts


# ---- the documents against a real server ---------------------------------------------


@pytest.fixture(scope="module")
async def docs_server(admin_url: str) -> AsyncIterator[str]:
    """A real server process of its own on a fresh, empty database, on a free port."""
    async with scratch_database(admin_url, prefix="rooms_readme") as dsn:
        port = free_port()
        address = f"127.0.0.1:{port}"
        with tempfile.TemporaryFile() as log:
            # With the calendar feed server (docs/guides/recurring-rooms.md).
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
@pytest.mark.parametrize("document", RUN)
async def test_the_document_runs(document: str, docs_server: str, tmp_path: Path) -> None:
    runner = Runner(docs_server, tmp_path)
    ran = 0
    for block in _blocks(document):
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
