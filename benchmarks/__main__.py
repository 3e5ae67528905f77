"""Benchmarks of the full model, each case in a fresh process (so peak memory is its own).

Usage: python -m benchmarks [--case NAME ...] [--out FILE]

Writes a JSON of the figures (default benchmarks/out/results.json) and prints a table:
import + scenario load time, model build time, run time, pedestrian street-minutes simulated
per wall second, and peak resident memory from the operating system (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (scenario file, overrides)
CASES: dict[str, tuple[str, list[str]]] = {
    "default-7d": ("scenarios/default.toml", ["time.days=7"]),
}

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import sim.model
from sim.scenario import load
params = load(sys.argv[1], sys.argv[2:])
t1 = time.perf_counter()
model = sim.model.NeighbourhoodModel(params)
t2 = time.perf_counter()
metrics = model.run()
t3 = time.perf_counter()
print(json.dumps({
    "import_and_load_s": t1 - t0, "build_s": t2 - t1, "run_s": t3 - t2,
    "walk_minutes": metrics["pedestrians.walk_minutes"],
    "walk_minutes_per_s": metrics["pedestrians.walk_minutes"] / (t3 - t2),
    "homes": metrics["homes.count"], "pedestrians": metrics["pedestrians.count"],
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_case(name: str) -> dict:
    scenario, overrides = CASES[name]
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, scenario, *overrides],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {"case": name, **json.loads(out.stdout.strip().splitlines()[-1])}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--case", action="append", choices=sorted(CASES), help="cases to run")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/out/results.json")
    args = p.parse_args(argv)
    results = [run_case(c) for c in (args.case or CASES)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "results": results,
            },
            indent=2,
        )
    )
    print(f"{'case':<14}{'load s':>8}{'build s':>9}{'run s':>8}{'walk-min/s':>13}{'peak MB':>9}")
    for r in results:
        print(
            f"{r['case']:<14}{r['import_and_load_s']:>8.2f}{r['build_s']:>9.2f}"
            f"{r['run_s']:>8.2f}{r['walk_minutes_per_s']:>13,.0f}{r['peak_rss_mb']:>9.0f}"
        )
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
