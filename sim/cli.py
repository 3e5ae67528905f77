"""The command line: ``python run.py COMMAND ...`` (see ``python run.py --help``).

Bad input (an unknown key, a wrong type, a value out of range, a missing file) ends with
status 2 and one line on stderr that names the key and what is allowed, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sim.scenario import ScenarioError, load

RESULTS_ROOT = Path("results")
HEADLINE = (
    "coverage.street_fraction",
    "coverage.exposure_fraction",
    "coverage.trip_recorded_fraction",
    "coverage.cameras_per_trip",
    "cameras.count",
    "homes.count",
    "pedestrians.count",
)


class UsageError(Exception):
    """A command-line problem that is the user's to fix (exit status 2)."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run.py",
        description="Neighbourhood doorbell-camera surveillance: an agent-based simulation.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    r = sub.add_parser("run", help="run one scenario and write its results")
    r.add_argument("scenario", help="scenario TOML file, e.g. scenarios/default.toml")
    r.add_argument("--seed", type=int, help="random seed (overrides the scenario's seed)")
    r.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key (repeatable)",
    )
    r.add_argument(
        "--out",
        type=Path,
        help="results folder (must not exist or be empty); default: a new folder "
        "under results/ named after the scenario and seed",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return p


def cmd_run(args: argparse.Namespace) -> int:
    from sim import outputs, plots
    from sim.model import NeighbourhoodModel

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    params = load(args.scenario, overrides)
    out = _results_dir(args.out, Path(args.scenario).stem, params["seed"])
    started = time.perf_counter()
    model = NeighbourhoodModel(params)
    days = params["time.days"]
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=days,
            unit="day",
            desc=Path(args.scenario).stem,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} days "
            "[{elapsed}<{remaining}]",
            file=sys.stderr,
        )

    def progress(done: float) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    metrics = model.run(progress)
    if bar is not None:
        bar.close()
    outputs.atomic_write(out / "metrics.json", outputs.metrics_json(metrics))
    outputs.write_timeseries(out / "timeseries.parquet", model.recorder.timeseries())
    header = (
        f"Resolved scenario of a run (from {args.scenario}); rerun it with\n"
        f"  python run.py run {out / 'scenario.toml'}"
    )
    outputs.atomic_write(out / "scenario.toml", params.to_toml(header))
    plots.save_map(model, out / "map.png")
    plots.save_timeseries(
        model.recorder.timeseries(), model.world.group_names, out / "timeseries.png"
    )
    info = outputs.run_info(time.perf_counter() - started, sys.argv)
    outputs.atomic_write(out / "run_info.json", json.dumps(info, indent=2) + "\n")
    if not args.quiet:
        width = max(len(k) for k in HEADLINE)
        for key in HEADLINE:
            v = metrics.get(key)
            shown = "n/a" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)
            print(f"  {key:<{width}}  {shown}")
        print(f"results: {out}  ({info['wall_seconds']:.1f} s)")
    return 0


def _results_dir(out: Path | None, name: str, seed: int) -> Path:
    from sim.outputs import unique_results_dir

    if out is None:
        return unique_results_dir(RESULTS_ROOT, f"{name}-seed{seed}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: already exists and is not empty; choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


COMMANDS = {"run": cmd_run}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
