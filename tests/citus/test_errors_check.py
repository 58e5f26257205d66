"""The check behind "zero server errors" (tests/citus/errors.py) counts what it should:
errors, and warnings that carry an error PostgreSQL answered, from this process's
loggers and from server processes' JSON logs; nothing else."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.citus import errors


def test_errors_and_warnings_with_a_database_error_count() -> None:
    assert errors._counts(logging.ERROR, "anything at all")
    assert errors._counts(
        logging.WARNING,
        "delivery to t/d (room r) failed: InternalServerError('cannot execute a distributed')",
    )
    assert errors._counts(logging.WARNING, "refused: FeatureNotSupportedError('FOR UPDATE')")
    assert not errors._counts(logging.WARNING, "delivery failed: HTTP 503 from the receiver")
    assert not errors._counts(logging.INFO, "InternalServerError( in an info line")


def test_server_processes_logs_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        {"level": "INFO", "logger": "service", "message": "serving"},
        {"level": "ERROR", "logger": "service.x", "message": "boom"},
        {"level": "WARNING", "logger": "service.d", "message": "failed: UniqueViolationError('x')"},
        {"level": "WARNING", "logger": "service.d", "message": "slow receiver"},
    ]
    (tmp_path / "server-1.log").write_text(
        "\n".join(json.dumps(line) for line in lines) + "\nTraceback (most recent call last):\n"
    )
    monkeypatch.setenv("ROOMS_TEST_SERVER_LOGS", str(tmp_path))
    found = errors._from_processes()
    assert found == [
        "server-1.log: service.x boom",
        "server-1.log: service.d failed: UniqueViolationError('x')",
        "server-1.log: Traceback (most recent call last):",
    ]
