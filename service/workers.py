"""`ROOMS_WORKERS=N`: N server processes sharing one listening port.

The parent starts no gRPC server itself. It resolves the database once (starting the
embedded PostgreSQL when `ROOMS_DATABASE_URL` is unset, so that all workers share it),
starts N children (`python -m service serve --worker I`) that listen on the same
address with `grpc.so_reuseport`, so the kernel spreads connections over them, forwards
SIGTERM and SIGINT to them, and waits. If a worker dies on its own, the others are
stopped and the parent exits non-zero, so a supervisor sees the failure. Each child runs
the migrations under the advisory lock, so only the first applies them. With
ROOMS_METRICS_ADDRESS, the parent serves the metrics of all workers there
(prometheus-client's multiprocess mode, in a temporary PROMETHEUS_MULTIPROC_DIR).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from types import FrameType

from service.config import ConfigError, Settings
from service.database import check_database
from service.security.exposure import check_configuration
from service.wiring import checked_media_config, database_of

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM if the parent dies without forwarding a signal."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def run_workers(settings: Settings) -> int:
    """Run `settings.workers` server processes until SIGTERM/SIGINT; the exit status.
    A configuration error, found here or by a worker, is raised once as ConfigError."""
    _, _, port = settings.listen_address.rpartition(":")
    if port in ("", "0"):
        raise ConfigError("ROOMS_LISTEN_ADDRESS", "ROOMS_WORKERS > 1 needs a fixed port")
    # What can be checked without serving is checked once here, not once per worker.
    check_configuration(settings, settings.listen_address)
    checked_media_config(settings)
    env = dict(os.environ)
    dsn, embedded = database_of(settings)
    if embedded is not None:  # all workers share it
        env["ROOMS_DATABASE_URL"] = dsn
    try:
        asyncio.run(check_database(dsn, settings))
    except BaseException:
        if embedded is not None:
            embedded.cleanup()
        raise
    # A worker that finds a configuration error writes it here instead of printing it,
    # and the parent raises the first one: one line, however many workers found it.
    errors_dir = tempfile.mkdtemp(prefix="rooms-workers-")
    config_error: ConfigError | None = None
    metrics_dir = exporter = None
    if settings.metrics_address:
        from service.observability import metrics

        metrics_dir = tempfile.mkdtemp(prefix="rooms-metrics-")
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        exporter = metrics.start_multiprocess_exporter(settings.metrics_address, metrics_dir)
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    status = 0
    try:
        for index in range(settings.workers):
            children.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "service", "serve", "--worker", str(index)),
                        *("--config-error-file", os.path.join(errors_dir, str(index))),
                    ],
                    env=env,
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
            )
        log.info("started %d workers: pids %s", len(children), [c.pid for c in children])
        running = list(children)
        while running:
            # Each exit is handled once (not on every poll while the others stop).
            for child in [c for c in running if c.poll() is not None]:
                running.remove(child)
                code = child.returncode
                if metrics_dir is not None:
                    metrics.worker_exited(child.pid, metrics_dir)
                if stopping:
                    continue
                config_error = _config_error_of(errors_dir, children.index(child))
                if config_error is None:
                    log.error("worker %d exited with %d: stopping the others", child.pid, code)
                status = code or 1
                forward(signal.SIGTERM, None)
            if running:
                time.sleep(0.1)
        if not status:
            status = next((c.returncode for c in children if c.returncode), 0)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
                child.wait(30)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if embedded is not None:
            embedded.cleanup()
        if exporter is not None:
            exporter.stop()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        shutil.rmtree(errors_dir, ignore_errors=True)
    if config_error is not None:
        raise config_error
    log.info("stopped")
    return status


def write_config_error(path: str, error: ConfigError) -> None:
    """What a worker does with its configuration error (see `run_workers`)."""
    with open(path, "w") as file:
        file.write(f"{error.variable}\n{error.problem}")


def _config_error_of(errors_dir: str, index: int) -> ConfigError | None:
    """The configuration error worker `index` wrote before it exited, if any."""
    try:
        with open(os.path.join(errors_dir, str(index))) as file:
            variable, _, problem = file.read().partition("\n")
    except FileNotFoundError:
        return None
    return ConfigError(variable, problem) if variable else None
