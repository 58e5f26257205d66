"""A stand-in for `devtools_testutils`, the Azure SDK repository's test helpers (never
published to PyPI), with just what the azure-communication-rooms 1.2.0 tests import,
for LIVE runs only: no test proxy, no recordings. The sanitizers record nothing
(they only rewrite recordings), `recorded_by_proxy` calls the test, `is_live()` reads
AZURE_TEST_RUN_LIVE. The `test_proxy` fixture is in pytest_plugin.py."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def is_live() -> bool:
    return os.environ.get("AZURE_TEST_RUN_LIVE", "").lower() in ("true", "yes", "1")


def _live_only() -> None:
    if not is_live():
        raise RuntimeError("this stand-in for devtools_testutils runs live tests only")


def recorded_by_proxy(test: F) -> F:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        _live_only()
        return test(*args, **kwargs)

    return run  # type: ignore[return-value]


def _sanitizer(*args: Any, **kwargs: Any) -> None:
    """Recordings only: nothing to do in a live run."""


add_general_string_sanitizer = _sanitizer
add_general_regex_sanitizer = _sanitizer
add_header_regex_sanitizer = _sanitizer
add_uri_regex_sanitizer = _sanitizer
remove_batch_sanitizers = _sanitizer
set_default_session_settings = _sanitizer


class AzureRecordedTestCase:
    """The base class of the SDK's test classes; live runs need nothing of it."""


def get_credential(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("the tests use connection strings (HMAC), not Entra tokens")


class PowerShellPreparer:
    """Provisions resources in the Azure repository's pipelines: unused by live runs
    against rooms (the connection string comes from the environment)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def __call__(self, test: F) -> F:
        return test
