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


# The classroom app: model steps per second behind the page (rendering every panel once per
# render interval of 15 steps, as the page does) and seconds until the page is usable.
_APP_CHILD = r"""
import io, json, time
from sim import app
model = app.ClassroomModel(seed=1)
model.run_until(8 * 60)  # morning: people walking
steps, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 10:
    for _ in range(15):
        model.step()
    steps += 15
    for make in (app.map_figure, app.coverage_figure, app.posts_figure, app.footage_figure,
                 app.adoption_figure):
        make(model).savefig(io.BytesIO(), format='png', dpi=90)
print(json.dumps({'homes': model.world.homes.count,
                  'steps_per_s_with_rendering': steps / (time.perf_counter() - t0)}))
"""


def app_page_ready_seconds() -> float | None:
    """Seconds from opening the page to the Step button and the five plots being shown."""
    import socket
    import time
    from urllib.request import urlopen

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path("/usr/bin/chromium").exists():
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "run.py", "viz", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(300):
            try:
                urlopen(url, timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(url)
            page.get_by_role("button", name="Step").wait_for()
            page.wait_for_function("document.querySelectorAll('img').length >= 5")
            ready = time.perf_counter() - start
            browser.close()
        return ready
    finally:
        server.terminate()
        server.wait()


def run_app_case() -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _APP_CHILD], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result = {"case": "classroom-app", **json.loads(out.stdout.strip().splitlines()[-1])}
    result["page_ready_s"] = app_page_ready_seconds()
    return result


# One simulated day of the same neighbourhood, three ways (ratios are taken in the same run).
_COMPARE_CHILD = r"""
import json, sys, time
import numpy as np
from benchmarks.baseline import MesaBaseline
from sim.model import NeighbourhoodModel
from sim.movement import Walkers
from sim.scenario import load
from tests.test_baseline import CORE
params = load('scenarios/default.toml', []).replace({**CORE, 'time.days': 1.0,
    'world.blocks_x': 10, 'world.blocks_y': 6, 'population.pedestrians': 3000})
which = sys.argv[1]
if which == 'baseline':
    m = MesaBaseline(params, rng=1); t = time.perf_counter()
    while m.minute < 1440: m.step()
    walk = m.walk_minutes
elif which == 'ceiling':
    core = NeighbourhoodModel(params, rng=1); trips = core._trips; w = Walkers()
    speed = core.population.speed; nxt = 0; walk = 0; t = time.perf_counter()
    for now in range(1440):
        end = int(np.searchsorted(trips.depart, now, side='right'))
        w.start(trips.person[nxt:end], trips.route[nxt:end], now, speed[trips.person[nxt:end]],
                core.routes, core.passes)
        nxt = end
        if len(w):
            walk += len(w)
            w.step(now, core.routes, core.passes, lambda c, p: np.ones(len(c), bool))
else:
    m = NeighbourhoodModel(params, rng=1); t = time.perf_counter()
    walk = m.run()['pedestrians.walk_minutes']
print(json.dumps({'seconds': time.perf_counter() - t, 'walk_minutes': int(walk)}))
"""


def run_comparison() -> dict:
    """One day of the default neighbourhood as the Mesa baseline, the bare numpy walk and
    the full model; seconds each and the ratios."""
    out = {}
    for which in ("baseline", "ceiling", "full"):
        done = subprocess.run(
            [sys.executable, "-c", _COMPARE_CHILD, which],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        out[which] = json.loads(done.stdout.strip().splitlines()[-1])
    out["full_vs_baseline_speedup"] = out["baseline"]["seconds"] / out["full"]["seconds"]
    out["full_vs_ceiling_ratio"] = out["full"]["seconds"] / out["ceiling"]["seconds"]
    return out


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
    p.add_argument("--app", action="store_true", help="also measure the classroom app")
    p.add_argument(
        "--compare",
        action="store_true",
        help="also compare with the Mesa per-agent baseline and a bare numpy walk",
    )
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/out/results.json")
    args = p.parse_args(argv)
    results = [run_case(c) for c in (args.case or CASES)]
    app = run_app_case() if args.app else None
    compare = run_comparison() if args.compare else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "results": results,
                "app": app,
                "compare": compare,
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
    if app:
        ready = app["page_ready_s"]
        shown = "n/a (no Chromium)" if ready is None else f"{ready:.1f} s"
        print(
            f"classroom app ({app['homes']} homes): "
            f"{app['steps_per_s_with_rendering']:.0f} model steps/s with rendering; page "
            f"ready in {shown}"
        )
    if compare:
        print(
            "one day, default neighbourhood: "
            + ", ".join(
                f"{k} {compare[k]['seconds']:.2f} s" for k in ("baseline", "ceiling", "full")
            )
            + f"; full model {compare['full_vs_baseline_speedup']:.1f}x faster than the Mesa "
            f"baseline, {compare['full_vs_ceiling_ratio']:.1f}x the bare numpy walk"
        )
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
