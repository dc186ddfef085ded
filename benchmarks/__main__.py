"""Run every ``benchmarks/bench_*.py`` and print one table; write JSON to benchmarks/results/."""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.harness import Context, Measurement, median_time_s

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def run(selected: list[str], repeats: int, notes: list[str]) -> list[Measurement]:
    ctx = Context(repeats=repeats)
    modules = sorted(Path(__file__).parent.glob("bench_*.py"))
    measurements = []
    try:
        for path in modules:
            topic = path.stem.removeprefix("bench_")
            if selected and topic not in selected:
                continue
            module = importlib.import_module(f"benchmarks.{path.stem}")
            for workload in module.workloads(ctx):
                ours_s, ours_result = median_time_s(workload.ours, repeats)
                peer_s, peer_result = None, None
                if workload.peer is not None:
                    peer_s, peer_result = median_time_s(workload.peer, repeats)
                agreement = (
                    "" if workload.check is None else workload.check(ours_result, peer_result)
                )
                m = Measurement(
                    workload.name, ours_s, peer_s, workload.peer_name, ctx.floor_s, agreement
                )
                if workload.limit_s is not None and ours_s > workload.limit_s:
                    m.verdicts.append(f"over the {workload.limit_s:g} s target")
                if workload.min_speedup is not None and (m.speedup or 0) < workload.min_speedup:
                    m.verdicts.append(f"under the {workload.min_speedup:g}x target")
                measurements.append(m)
        print(f"track: {ctx.track_source}")
        notes.extend(ctx.notes)
    finally:
        ctx.close()
    return measurements


def report(measurements: list[Measurement]) -> None:
    table = Table(title="Soundry benchmarks (median seconds)")
    for column in (
        "workload",
        "ours",
        "peer",
        "peer time",
        "speed-up",
        "floor (decode)",
        "agreement",
        "targets",
    ):
        table.add_column(column)
    for m in measurements:
        table.add_row(
            m.name,
            f"{m.ours_s:.3f}",
            m.peer_name or "-",
            "-" if m.peer_s is None else f"{m.peer_s:.3f}",
            "-" if m.speedup is None else f"{m.speedup:.2f}x",
            f"{m.floor_s:.3f}",
            m.agreement,
            "; ".join(m.verdicts) or "met",
        )
    # Wide enough that piping to a file or CI log keeps one row per line.
    Console(width=200).print(table)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("topics", nargs="*", help="only these bench_<topic>.py modules")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    notes: list[str] = []
    measurements = run(args.topics, args.repeats, notes)
    report(measurements)
    for note in notes:
        print(note)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "python": sys.version.split()[0],
                "machine": platform.platform(),
                "results": [m.__dict__ | {"speedup": m.speedup} for m in measurements],
                "notes": notes,
            },
            indent=2,
        )
    )
    print(f"results written to {out}")
    return 1 if any(m.verdicts for m in measurements) else 0


if __name__ == "__main__":
    sys.exit(main())
