"""Render bench results as Markdown, and put them into docs/performance.md."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:results:begin -->"
END = "<!-- bench:results:end -->"
HEALTH = "/grpc.health.v1.Health/Check"
SHORT = {
    "/grpc.health.v1.Health/Check": "Health Check (baseline)",
    "/rooms.v1.RoomsService/AuthorizeJoin": "AuthorizeJoin",
    "/rooms.v1.RoomsService/GetRoom": "GetRoom",
    "/rooms.v1.ParticipantsService/ListParticipants": "ListParticipants",
    "/rooms.v1.RoomsService/ListRooms page 1": "ListRooms page 1",
    "/rooms.v1.RoomsService/ListRooms deep": "ListRooms deep page",
    "/rooms.v1.RoomsService/CreateRoom": "CreateRoom",
    "/rooms.v1.ParticipantsService/AddOrUpdateParticipants": "AddOrUpdateParticipants",
    "/rooms.v1.RoomsService/ListRooms": "ListRooms",
}


def _f(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _names(cells: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for key in cells:
        name = key.rsplit("@", 1)[0]
        if name not in seen:
            seen.append(name)
    return seen


def config_table(config: dict[str, Any], storage: dict[str, Any]) -> list[str]:
    cells = config["cells"]
    flights = sorted({int(key.rsplit("@", 1)[1]) for key in cells})
    header = ["RPC"]
    for n in flights:
        header += [f"req/s @{n}", f"p50 ms @{n}", f"p99 ms @{n}", f"ratio @{n}"]
    header += [
        "server CPU µs/call @" + str(flights[-1]),
        "errors",
        "asyncpg req/s @" + "/@".join(map(str, flights)),
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in _names(cells):
        row = [SHORT.get(name, name)]
        errors = 0.0
        for n in flights:
            cell = cells.get(f"{name}@{n}")
            base = cells.get(f"{HEALTH}@{n}")
            if cell is None:
                row += ["-"] * 4
                continue
            errors += cell["errors"]
            ratio = cell["rps"] / base["rps"] if base and base["rps"] else None
            row += [_f(cell["rps"]), _f(cell["p50_ms"], 2), _f(cell["p99_ms"], 2), _f(ratio, 2)]
        last = cells.get(f"{name}@{flights[-1]}", {})
        row.append(_f(last.get("server_cpu_us")))
        row.append(_f(errors))
        raw = [storage.get(f"{name}@{n}", {}).get("rps") for n in flights]
        row.append(" / ".join(_f(r) for r in raw) if any(raw) else "-")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def render(results: dict[str, Any]) -> str:
    out = [
        f"Run {results['started']} on {results['machine']}; database: "
        f"{results.get('database')}; {results['duration']:.0f} s per measurement; "
        f"command: `{results['command']}`.",
        "",
    ]
    for config in results["configs"]:
        scale = "big" if config["rooms"] > 1000 else "small"
        out.append(
            f"### {config['rooms']:,} rooms, {config['rooms'] * 5:,} participants, "
            f"{config['workers']} worker(s)"
        )
        out.append("")
        out += config_table(
            config, results["storage"].get(scale, {}) if config["workers"] == 1 else {}
        )
        out.append("")
        rss = config.get("rss_mb", {})
        out.append(
            f"Deep page = page {config.get('deep_page')} of ListRooms (50 per page). "
            f"Server RSS max per process (MB): {', '.join(_f(v, 1) for v in rss.values())}. "
            f"Server-side calls by status: {config.get('server_codes')}."
        )
        out.append("")
    soak = results.get("soak")
    if soak:
        out.append(f"### Soak: {soak['rate']:.0f} calls/s for {soak['duration']:.0f} s, 1 worker")
        out.append("")
        out.append("| RPC | calls | errors | p50 ms | p99 ms |")
        out.append("|---|---|---|---|---|")
        for method, cell in soak["methods"].items():
            out.append(
                f"| {SHORT.get(method, method)} | {_f(cell['calls'])} | {_f(cell['errors'])} "
                f"| {_f(cell['p50_ms'], 2)} | {_f(cell['p99_ms'], 2)} |"
            )
        out.append("")
        out.append(
            f"Creates acknowledged {soak['creates_acknowledged']}, readable afterwards "
            f"{soak['creates_readable']}; roster upserts acknowledged "
            f"{soak['upserts_acknowledged']}, readable {soak['upserts_readable']}; "
            f"server RSS max (MB) {', '.join(_f(v, 1) for v in soak['rss_mb'].values())}; "
            f"server-side calls by status {soak.get('server_codes')}."
        )
        out.append("")
    seeds = results.get("seed_seconds", {})
    if seeds:
        out.append("Seeding took " + ", ".join(f"{k}: {v} s" for k, v in seeds.items()) + ".")
    return "\n".join(out)


def write_doc(path: Path, text: str) -> None:
    """Replace the generated block of `path` (between the markers) with `text`."""
    block = f"{BEGIN}\n{text}\n{END}"
    current = path.read_text() if path.exists() else ""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        path.write_text(head + block + tail)
    else:
        path.write_text(current + ("\n" if current else "") + block + "\n")
