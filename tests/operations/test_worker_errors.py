"""A configuration error that only a worker of `ROOMS_WORKERS=N` finds (one the parent
could not check first, like a port another program holds) is handed to the parent,
which prints it once for all workers: the worker writes it to its file and prints
nothing, and the parent reads the same error back."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from service.workers import _config_error_of
from support.database import ROOT
from tests.shared.commands import run

pytestmark = pytest.mark.processes

SECRET = "pa55-w0rd-never-shown"


async def test_a_worker_hands_its_configuration_error_to_the_parent(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ROOMS_DATABASE_URL": f"postgresql://postgres:{SECRET}@127.0.0.1:1/rooms",
        "ROOMS_MEDIA_CONFIG_FILE": str(tmp_path / "missing.toml"),
        "ROOMS_WORKERS": "2",
    }
    status, output = await run(
        *(sys.executable, "-m", "service", "serve", "--worker", "1"),
        *("--config-error-file", str(tmp_path / "1")),
        env=env,
        cwd=ROOT,
    )
    assert status == 2, output
    assert output == ""  # the parent speaks for it
    error = _config_error_of(str(tmp_path), 1)
    assert error is not None
    assert error.variable == "ROOMS_MEDIA_CONFIG_FILE"
    assert str(error).startswith("ROOMS_MEDIA_CONFIG_FILE: cannot read media config ")
    assert SECRET not in str(error)
    assert _config_error_of(str(tmp_path), 0) is None  # a worker that wrote nothing
