"""The Markdown block `make bench` writes into docs/performance.md (between markers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:results:begin -->"
END = "<!-- bench:results:end -->"
EMPTY = "Health/Check (our empty call)"
MINIMAL = "minimal grpc.aio + uvloop server"


def _f(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _at(cell: dict[str, Any] | None, key: str) -> float | None:
    """A cell's figure, or None for a cell not measured."""
    if cell is None:
        return None
    value: float | None = cell[key]
    return value


def _table(cells: dict[str, Any], references: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in [*references, *cells]:
        name = key.rsplit(" @", 1)[0]
        if name not in names:
            names.append(name)
    every = references | cells

    def get(name: str, n: int) -> dict[str, Any] | None:
        found: dict[str, Any] | None = every.get(f"{name} @{n}")
        return found

    out = [
        "| call | server CPU µs/call @1 | @64 | PG CPU µs/call @64 | CPU vs empty call @64"
        " | CPU vs minimal @64 | calls/s @1 | calls/s @64 | calls/s vs minimal @64"
        " | p50 / p99 ms @1 | p50 / p99 ms @64 | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    empty, minimal = get(EMPTY, 64), get(MINIMAL, 64)
    for name in names:
        one, many = get(name, 1), get(name, 64)
        if many is None:
            continue

        def ratio(base: dict[str, Any] | None, key: str, of: dict[str, Any] = many) -> str:
            if base is None or not base[key]:
                return "-"
            return f"{of[key] / base[key]:.2f}x"

        out.append(
            f"| {name} | {_f(_at(one, 'server_cpu_us'))} | **{_f(many['server_cpu_us'])}**"
            f" | {_f(many['pg_cpu_us'])} | {ratio(empty, 'server_cpu_us')}"
            f" | {ratio(minimal, 'server_cpu_us')} | {_f(_at(one, 'rate'))}"
            f" | {_f(many['rate'])} | {ratio(minimal, 'rate')}"
            f" | {_f(_at(one, 'p50_ms'), 2)} / {_f(_at(one, 'p99_ms'), 2)}"
            f" | {_f(many['p50_ms'], 2)} / {_f(many['p99_ms'], 2)}"
            f" | {(one['errors'] if one else 0) + many['errors']} |"
        )
    return out


def render(results: dict[str, Any]) -> str:
    out = [
        f"Run {results['when']} on {results['cores']} cores, Python {results['python']};"
        f" database: {results.get('database')}; {results['duration']:g} s per cell,"
        f" {results['repeat']} run(s) per cell (the run with the median server CPU per call"
        f" is shown); load average before {results['loadavg_before'][0]:.2f}, after"
        f" {results['loadavg_after'][0]:.2f}; command: `{results['command']}`.",
        "",
    ]
    for scale in results["scales"].values():
        references = scale.get("references", {})
        for workers, config in scale["configs"].items():
            out.append(f"### {scale['rooms']:,} rooms, {workers} worker(s)")
            out.append("")
            out += _table(config["cells"], references if workers == "1" else {})
            out.append("")
            splits = [
                f"{name.rsplit(' @', 1)[0]} {cell['cpu_split']}"
                for name, cell in config["cells"].items()
                if cell.get("cpu_split") and name.endswith("@64")
            ]
            if splits:
                out.append(
                    "Share of the server CPU per process (the parent first) @64: "
                    + "; ".join(splits)
                    + "."
                )
                out.append("")
            out.append(
                "Server RSS max per process (MB): "
                + ", ".join(_f(v, 1) for v in config["rss_max_mb"])
                + f". Seeding took {scale['seed_seconds']:.1f} s."
            )
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_doc(path: Path, text: str) -> None:
    """Replace the generated block of `path` (between the markers) with `text`."""
    block = f"{BEGIN}\n{text}{END}"
    current = path.read_text() if path.exists() else ""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        path.write_text(head + block + tail)
    else:
        path.write_text(current + ("\n" if current else "") + block + "\n")
