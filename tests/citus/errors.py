"""A pytest plugin for `make test-citus` (`-p tests.citus.errors`): the run fails when a
server logged anything at ERROR or above, or a warning naming an error PostgreSQL (or
Citus) answered, in this process (the `service`, `grpc` and `rooms` loggers) or in a
server process whose output no test reads (written as JSON lines to
ROOMS_TEST_SERVER_LOGS by support/processes.py). Each such line is printed. (A
delivery that fails is logged as a warning and retried: that is how a statement Citus
refused in the delivery engine showed.)"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import asyncpg
import pytest

LOGGERS = ("service", "grpc", "rooms")
# The names of the errors a PostgreSQL server answers with, as asyncpg raises them.
SERVER_ERRORS = {
    name
    for name, value in vars(asyncpg.exceptions).items()
    if isinstance(value, type)
    and issubclass(value, asyncpg.PostgresError)
    and value is not asyncpg.PostgresError
}


def _counts(level: int, message: str) -> bool:
    if level >= logging.ERROR:
        return True
    return level >= logging.WARNING and any(name + "(" in message for name in SERVER_ERRORS)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if _counts(record.levelno, record.getMessage()):
            self.lines.append(f"{record.name} {record.levelname}: {record.getMessage()}")


_errors = _Errors()


def pytest_sessionstart(session: pytest.Session) -> None:
    for name in LOGGERS:
        logging.getLogger(name).addHandler(_errors)


def _from_processes() -> list[str]:
    folder = os.environ.get("ROOMS_TEST_SERVER_LOGS")
    found = []
    for log in sorted(Path(folder).glob("*.log")) if folder else []:
        for line in log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                if "Traceback" in line:
                    found.append(f"{log.name}: {line}")
                continue
            if not isinstance(entry, dict):
                continue
            level = logging.getLevelName(str(entry.get("level")))
            message = f"{entry.get('message')} {entry.get('exception', '')}"
            if isinstance(level, int) and _counts(level, message):
                found.append(f"{log.name}: {entry.get('logger')} {entry.get('message')}")
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    lines = _errors.lines + _from_processes()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter:
        reporter.write("\n")  # after the progress line
    write = reporter.write_line if reporter else print
    write(f"[citus] server errors logged: {len(lines)}")
    for line in lines[:50]:
        write(f"[citus]   {line}")
    if lines and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
