"""The Markdown block `make bench` writes into docs/performance.md (between markers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:results:begin -->"
END = "<!-- bench:results:end -->"
EMPTY = "Health/Check (our empty call)"
MINIMAL = "minimal grpc.aio + uvloop server"
FLOOR = "minimal server + one asyncpg fetchrow"
HEADER = "minimal server + x-request-id header"


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


def _variants(variants: dict[str, Any]) -> list[str]:
    """The variants, each against the minimal server measured again just before them
    (the first row): a few minutes apart, the machine's load moves the figures more
    than the variants do."""
    base = next(iter(variants.values()), None)
    out = [
        "The same constant answer served other ways (@64; the minimal server measured again"
        " first, as their base):",
        "",
        "| variant | server CPU µs/call @64 | vs minimal | calls/s @64 | vs minimal |",
        "|---|---|---|---|---|",
    ]
    for key, cell in variants.items():
        cpu = _ratio(cell["server_cpu_us"], base["server_cpu_us"] if base else None)
        rate = _ratio(cell["rate"], base["rate"] if base else None)
        out.append(
            f"| {key.rsplit(' @', 1)[0]} | {_f(cell['server_cpu_us'])} | {cpu}"
            f" | {_f(cell['rate'])} | {rate} |"
        )
    return out


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.2f}x"


def _webinar(web: dict[str, Any]) -> list[str]:
    out = [
        "### A webinar's opening minute and the waiting-room burst (2 workers)",
        "",
        "| wave | calls | seconds | calls/s | per 1,000 in order (/s) | server CPU µs/call"
        " | PG CPU µs/call | outcomes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, wave in web.items():
        per = ", ".join(_f(r) for r in wave["per_1000"]) or "-"
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(wave["outcomes"].items()))
        out.append(
            f"| {label} | {wave['calls']:,} | {wave['seconds']:.2f} | {_f(wave['rate'])}"
            f" | {per} | {_f(wave['server_cpu_us'])} | {_f(wave['pg_cpu_us'])} | {outcomes} |"
        )
    return out


Row = tuple[str, float | None, float, bool]  # (target, measured, bound, an upper bound)


def _ratio_of(a: dict[str, Any] | None, b: dict[str, Any] | None, key: str) -> float | None:
    return a[key] / b[key] if a and b and b[key] else None


def _call_rows(every: dict[str, Any]) -> list[Row]:
    def cell(name: str, n: int) -> dict[str, Any] | None:
        found: dict[str, Any] | None = every.get(f"{name} @{n}")
        return found

    minimal, empty, floor = cell(MINIMAL, 64), cell(EMPTY, 64), cell(FLOOR, 1)
    header = cell(HEADER, 64)
    cpu = "server_cpu_us"
    rows: list[Row] = [
        ("empty call CPU/call vs minimal @64", _ratio_of(empty, minimal, cpu), 1.15, True),
        ("(minimal + header vs minimal)", _ratio_of(header, minimal, cpu), 1.15, True),
        ("(empty call vs minimal + header)", _ratio_of(empty, header, cpu), 1.15, True),
    ]
    for name in (MINIMAL, "AuthorizeJoin", "GetRoom"):
        many = cell(name, 64)
        if name == MINIMAL:  # the tail the machine itself gives (context, not a target)
            spread = many["p99_ms"] / many["p50_ms"] if many and many["p50_ms"] else None
            rows.append(("(minimal server p99 / p50 @64)", spread, 2.0, True))
            continue
        spread = many["p99_ms"] / many["p50_ms"] if many and many["p50_ms"] else None
        rows += [
            (f"{name} calls/s vs minimal @64", _ratio_of(many, minimal, "rate"), 0.6, False),
            (f"{name} calls/s vs floor @1", _ratio_of(cell(name, 1), floor, "rate"), 0.95, False),
            (f"{name} p99 / p50 @64", spread, 2.0, True),
        ]  # fmt: skip
    for name in ("CreateRoom (1 presenter)", "AddOrUpdateParticipants (Python load)"):
        ratio = _ratio_of(cell(name, 64), empty, "rate")
        rows.append((f"{name} calls/s vs empty call @64", ratio, 0.45, False))
    return rows


def _webinar_rows(web: dict[str, Any]) -> list[Row]:
    claim, burst, per = web["claim"], web["burst"], web["claim"]["per_1000"]
    last = per[-1] / per[0] if len(per) > 1 else None
    exact = (
        claim["outcomes"] == {"seat": 3980, "full": 1020}
        and web["presenters"]["outcomes"] == {"seat": 20}
        and burst["outcomes"] == {"seat": burst["calls"]}
    )
    return [
        ("webinar: claims/s vs plain joins/s", claim["rate"] / web["plain"]["rate"], 0.5, False),
        ("webinar: last 1,000 vs first 1,000", last, 0.8, False),
        ("webinar: PostgreSQL CPU µs per claim", claim["pg_cpu_us"], 1000, True),
        ("waiting room: admits to seated, s", burst["seconds"], 1.0, True),
        ("seats exact (1 = yes)", float(exact), 1.0, False),
    ]  # fmt: skip


def _targets(results: dict[str, Any]) -> list[str]:
    """Every target of issue 26, measured within this run."""
    small = results["scales"].get("small", {})
    cells = small.get("configs", {}).get("1", {}).get("cells", {})
    rows = _call_rows(small.get("references", {}) | cells)
    if results.get("webinar"):
        rows += _webinar_rows(results["webinar"])
    out = [
        "### Targets, in this run",
        "",
        "| target | measured | bound | met |",
        "|---|---|---|---|",
    ]
    for target, value, bound, at_most in rows:
        sign = "≤" if at_most else "≥"
        if value is None:
            out.append(f"| {target} | - | {sign} {bound:g} | not measured |")
            continue
        met = value <= bound if at_most else value >= bound
        shown = f"{value:,.0f}" if bound >= 100 else f"{value:.2f}"
        out.append(f"| {target} | {shown} | {sign} {bound:g} | {'yes' if met else '**no**'} |")
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
    out += [*_targets(results), ""]
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
            if workers == "1" and scale.get("variants"):
                out += [*_variants(scale["variants"]), ""]
            out.append(
                "Server RSS max per process (MB): "
                + ", ".join(_f(v, 1) for v in config["rss_max_mb"])
                + f". Seeding took {scale['seed_seconds']:.1f} s."
            )
            out.append("")
    if results.get("webinar"):
        out += [*_webinar(results["webinar"]), ""]
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
