"""Run every benchmark and write the results table into README.md.

    .venv/bin/python -m benchmarks [--scale full|small] [--only run,delivery] [--readme README.md]

Every module `benchmarks/<name>.py` with a function `results(scale: str, out: Path) -> list[dict]`
is a benchmark (benchmarks/README.md, "Adding a benchmark"). Each is run in turn, in name order;
one that fails gives a row saying so and the others still run. The figures go to
OUT/figures.json and, as a markdown table with the machine it ran on, between the markers
`<!-- benchmarks:results:start -->` and `<!-- benchmarks:results:end -->` of README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sqlite3
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
START = "<!-- benchmarks:results:start -->"
END = "<!-- benchmarks:results:end -->"
NOT_BENCHMARKS = {"__init__", "__main__", "generate_ledger"}


def machine() -> dict:
    """nproc, CPU model (/proc/cpuinfo), RAM (/proc/meminfo), Python and SQLite versions."""
    cpu, ram = "unknown", "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    try:
        kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    try:
        load = f"{os.getloadavg()[0]:.1f}"
    except OSError:
        load = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": ram,
        "load": load,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }


def discover(only: set[str] | None) -> list[str]:
    """Module names under benchmarks/ that define results(), in name order."""
    names = []
    for path in sorted(HERE.glob("*.py")):
        name = path.stem
        if name in NOT_BENCHMARKS or (only and name not in only):
            continue
        if "def results(" in path.read_text(encoding="utf-8"):
            names.append(name)
    return names


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(figures: list[dict], m: dict, started: str, scale: str) -> str:
    lines = [
        f"Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['ram']} RAM; Python {m['python']}, "
        f"SQLite {m['sqlite']}; load average {m['load']} at the start (the machine is shared). "
        f"Run {started}, scale `{scale}`, by `python -m benchmarks`.",
        "",
        "| figure | measured | target | met |",
        "|---|---|---|---|",
    ]
    for f in figures:
        met = f.get("met")
        mark = "" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {cell(f['figure'])} | {cell(f['measured'])} | {cell(f.get('target', ''))} | {mark} |")
    notes = [f for f in figures if f.get("where")]
    if notes:
        lines += ["", "Where the time goes:", ""]
        lines += [f"- **{f['figure']}**: {f['where']}" for f in notes]
    return "\n".join(lines) + "\n"


def write_readme(readme: Path, text: str) -> None:
    """Put `text` between the markers (a section at the end if the README has none yet)."""
    body = readme.read_text(encoding="utf-8") if readme.exists() else ""
    block = f"{START}\n{text}{END}"
    if START in body and END in body:
        head, rest = body.split(START, 1)
        body = head + block + rest.split(END, 1)[1]
    else:
        body = body.rstrip("\n") + f"\n\n## Benchmark results\n\n{block}\n"
    readme.write_text(body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", choices=("full", "small"), default="full")
    p.add_argument("--only", default="", help="comma-separated module names (default: every benchmark)")
    p.add_argument("--out", type=Path, default=HERE / "out")
    p.add_argument("--readme", type=Path, default=ROOT / "README.md", help="README to write the table into")
    p.add_argument("--no-readme", action="store_true", help="print the table, leave the README alone")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    args.out.mkdir(parents=True, exist_ok=True)
    m = machine()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    figures: list[dict] = []
    for name in discover(set(filter(None, args.only.split(","))) or None):
        print(f"[benchmarks] {name}", file=sys.stderr, flush=True)
        t = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            got = module.results(args.scale, args.out)
        except Exception as exc:  # one benchmark failing does not lose the others
            traceback.print_exc()
            got = [
                {"figure": f"benchmarks/{name}.py", "measured": f"failed: {type(exc).__name__}: {exc}", "met": False}
            ]
        for f in got:
            f.setdefault("source", name)
        figures += got
        print(f"[benchmarks] {name}: {len(got)} figures in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    text = table(figures, m, started, args.scale)
    (args.out / "figures.json").write_text(
        json.dumps({"machine": m, "started": started, "scale": args.scale, "figures": figures}, indent=2, default=str),
        encoding="utf-8",
    )
    print(text)
    if not args.no_readme:
        write_readme(args.readme, text)
        print(f"[benchmarks] table written to {args.readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
