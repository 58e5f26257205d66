"""Load from h2load (Debian's `nghttp2-client`, a load generator written in C): gRPC
frames encoded in advance, sent over one HTTP/2 connection per h2load process."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from bench.processes import Server

H2LOAD_PROCESSES = 8  # at 64 in flight: 8 h2load processes x 1 connection x 8 streams


def frame(message: bytes) -> bytes:
    """One gRPC message as it goes on the wire: not compressed, its length, itself."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def _h2load_command(
    target: str, path: str, data: Path, streams: int, calls: int, log_file: Path | None
) -> list[str]:
    """h2load with one connection, `streams` calls in flight on it, `calls` calls in all
    (a count, not a duration: a timed run would cut the calls in flight at its end, and
    the server would count them CANCELLED)."""
    command = ["h2load", "-n", str(calls), "-c1", f"-m{streams}", "-t1"]
    if log_file is not None:
        command += ["--log-file", str(log_file)]
    return [
        *command,
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        "-d",
        str(data),
        f"http://{target}{path}",
    ]


def _h2load_done(output: str) -> int:
    for line in output.splitlines():
        if line.startswith("requests:"):
            # requests: N total, N started, N done, N succeeded, N failed, N errored, ...
            parts = [p.strip() for p in line.split(":", 1)[1].split(",")]
            return int(parts[2].split()[0])
    raise RuntimeError(f"no request count in h2load's output:\n{output}")


def _h2load_all(
    target: str,
    path: str,
    files: list[Path],
    streams: int,
    calls: int,
    logs: list[Path] | None = None,
) -> int:
    """One h2load process per body file, all at once, `calls` calls each (latencies
    logged to `logs` when given). Returns the calls done in all."""
    log_files: list[Path | None] = list(logs) if logs else [None] * len(files)
    running = [
        subprocess.Popen(
            _h2load_command(target, path, data, streams, calls, log_file),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for data, log_file in zip(files, log_files, strict=True)
    ]
    return sum(_h2load_done(process.communicate()[0]) for process in running)


def run_h2load(
    server: Server, path: str, bodies: list[bytes], in_flight: int, duration: float
) -> tuple[int, float, list[float]]:
    """`in_flight` calls outstanding: 1 h2load process x 1 stream, or 8 processes x 1
    connection x 8 streams, each with its own body. Returns calls, seconds, latencies."""
    processes = 1 if in_flight == 1 else H2LOAD_PROCESSES
    streams = max(1, in_flight // processes)
    with tempfile.TemporaryDirectory(prefix="rooms-bench-") as scratch:
        files = []
        for i in range(processes):
            data = Path(scratch) / f"body-{i}"
            data.write_bytes(frame(bodies[i % len(bodies)]))
            files.append(data)
        # Warm-up (connections, prepared statements, caches), which also tells how
        # many calls fill the duration.
        warm_calls = max(streams * 25, 100)
        began = time.perf_counter()
        _h2load_all(server.target, path, files, streams, warm_calls)
        per_process = warm_calls / (time.perf_counter() - began) * duration
        count = max(streams * 10, int(per_process) // streams * streams)
        logs = [Path(scratch) / f"log-{i}" for i in range(processes)]
        began = time.perf_counter()
        calls = _h2load_all(server.target, path, files, streams, count, logs)
        seconds = time.perf_counter() - began
        latencies: list[float] = []
        for lf in logs:
            for line in lf.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) >= 3:
                    latencies.append(int(parts[2]) / 1000.0)
    return calls, seconds, latencies
