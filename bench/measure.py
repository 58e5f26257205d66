"""One cell of the report: a call at a number of calls in flight, measured by the
calls done, their latencies and the CPU they cost the server and PostgreSQL, checked
against the server's own count of calls by status code."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.h2load import run_h2load
from bench.load import LoadGenerator
from bench.processes import Server, backend_pids, cpu_seconds


@dataclass
class Cell:
    name: str
    calls: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    server_cpu_us: float = 0.0
    pg_cpu_us: float = 0.0
    errors: int = 0
    codes: dict[str, float] = field(default_factory=dict)
    # Each server process's share of the server CPU (how evenly workers share calls).
    cpu_split: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0


def measure(
    server: Server,
    name: str,
    path: str,
    bodies: list[bytes],
    in_flight: int,
    duration: float,
    pg: tuple[str, str] | None,
    python_load: LoadGenerator | None = None,
) -> Cell:
    pg_pids = backend_pids(*pg) if pg else []
    codes_before = server.codes()
    pids = server.pids()
    per_pid_before = [cpu_seconds([pid]) for pid in pids]
    cpu_before = sum(per_pid_before)
    pg_before = cpu_seconds(pg_pids)
    if python_load is None:
        calls, seconds, latencies = run_h2load(server, path, bodies, in_flight, duration)
        client_errors = 0
    else:
        result = python_load.closed(server.target, path, bodies, in_flight, duration)
        calls, seconds = result.ok + sum(result.errors.values()), result.elapsed
        latencies = [x * 1000 for x in result.latencies]
        client_errors = sum(result.errors.values())
    per_pid = [cpu_seconds([pid]) - b for pid, b in zip(pids, per_pid_before, strict=True)]
    server_cpu = cpu_seconds(server.pids()) - cpu_before
    pg_cpu = cpu_seconds(backend_pids(*pg) if pg else []) - pg_before
    cell = Cell(name, calls, seconds)
    if server.workers > 1 and server_cpu > 0:
        cell.cpu_split = [round(x / server_cpu, 2) for x in per_pid]
    if latencies:
        latencies.sort()
        cell.p50_ms = latencies[len(latencies) // 2]
        cell.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    # The Python generator's warm-up calls (one per connection) are counted server-side.
    if calls:
        cell.server_cpu_us = server_cpu / calls * 1e6
        cell.pg_cpu_us = pg_cpu / calls * 1e6
    if server.metrics_url is not None:
        after = server.codes()
        cell.codes = {
            code: after.get(code, 0.0) - codes_before.get(code, 0.0)
            for code in after
            if after.get(code, 0.0) != codes_before.get(code, 0.0)
        }
        not_ok = sum(v for c, v in cell.codes.items() if c != "OK")
        # Every call h2load finished must be an OK call on the server (warm-up calls
        # included: every warm-up call too).
        ok = cell.codes.get("OK", 0.0)
        cell.errors = int(not_ok) + client_errors + (0 if ok >= calls else int(calls - ok))
    else:
        cell.errors = client_errors
    return cell


def median_cell(cells: list[Cell]) -> Cell:
    """The repetition with the median server CPU per call (its other figures with it)."""
    ordered = sorted(cells, key=lambda c: c.server_cpu_us)
    chosen = ordered[len(ordered) // 2]
    chosen.errors = sum(c.errors for c in cells)
    return chosen
