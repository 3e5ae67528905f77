"""The command line: ``python run.py COMMAND ...`` (see ``python run.py --help``).

Bad input (an unknown key, a wrong type, a value out of range, a missing file) ends with
status 2 and one line on stderr that names the key and what is allowed, never a traceback.

Each command imports what it runs inside its function (the model's mesa and numba, matplotlib,
the validation): ``run.py explain`` and ``--help`` answer without loading them.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from sim.engine.rng import derive_seed
from sim.runs.draws import EnsembleError, draws, load_ensemble, overrides
from sim.runs.experiment import load_experiment
from sim.runs.outputs import unique_results_dir
from sim.runs.replicate import counterfactual_metrics, run_replications, summarize
from sim.runs.sweep import SweepError, SweepInterrupted, parse_shard, sweep
from sim.scenario.scenario import (
    ScenarioError,
    load,
    parse_overrides,
    shown_path,
    toml_value,
    unknown_key_message,
)
from sim.scenario.schema import BY_KEY, OWNERS, PARAMS, declared

RESULTS_ROOT = Path("results")
HEADLINE = (
    "coverage.street_fraction",
    "coverage.exposure_fraction",
    "coverage.trip_recorded_fraction",
    "coverage.cameras_per_trip",
    "reports.total",
    "reports.disparity_ratio",
    "reports.minority_share",
    "reports.non_crime_fraction",
    "incidents.total",
    "police.stops",
    "police.stop_disparity_ratio",
    "cameras.count",
    "homes.count",
    "pedestrians.count",
)


FORCE_HELP = (
    "go ahead although the estimate of memory exceeds what this machine has available (or a "
    "sweep has over a million runs)"
)

ENSEMBLE_HELP = (
    "draw each replicate's calibrated parameters from this accepted ensemble (the Parquet "
    "table of run.py ensemble, e.g. results/calibration/ensemble.parquet): replicate r of "
    "every arm gets the same set, so intervals hold the parameters' uncertainty too"
)


class UsageError(Exception):
    """A command-line problem that is the user's to fix (exit status 2)."""


def check_out_folder(path: Path, flag: str, empty: bool = False) -> None:
    """Refuse, before any work, an output folder that cannot be made or written: a path that
    is a file (or a device such as /dev/null), under a file, or where nothing may be written
    (tested by writing a file there and removing it); with ``empty``, an existing folder
    that is not empty."""
    shown = f"{flag} {shown_path(path)}"
    if "\x00" in str(path):
        raise UsageError(f"{shown}: not a valid path")
    try:
        if path.is_dir():
            if empty and any(path.iterdir()):
                raise UsageError(f"{shown}: already exists and is not empty; choose a new folder")
            folder = path
        elif path.exists() or path.is_symlink():
            raise UsageError(f"{shown}: exists and is not a folder")
        else:
            folder = path.parent
            while not folder.exists() and folder != folder.parent:
                folder = folder.parent
            if not folder.is_dir():
                raise UsageError(f"{shown}: {shown_path(folder)} is not a folder")
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".ringsim-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(f"{shown}: cannot write there ({exc.strerror or exc})") from None


def check_out_file(path: Path, flag: str) -> None:
    """Refuse, before any work, an output file that is a folder or a special file, or whose
    folder cannot be written."""
    shown = f"{flag} {shown_path(path)}"
    if path.is_dir() or (path.exists() and not path.is_file()):
        raise UsageError(f"{shown}: exists and is not a regular file")
    check_out_folder(path.parent, flag)


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
    r.add_argument(
        "--replications",
        type=int,
        default=1,
        metavar="R",
        help="run R independent replications (seeds derived from --seed) and "
        "report means with 95%% confidence intervals",
    )
    r.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes for replications (results do not depend on it)",
    )
    r.add_argument(
        "--counterfactual",
        choices=["promotion"],
        help="also run the same scenario and seed with the mechanism off and report the "
        "difference (promotion: adoption.promotion_attributable)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    r.add_argument("--force", action="store_true", help=FORCE_HELP)
    s = sub.add_parser("sweep", help="run an experiment's design (resumable)")
    s.add_argument("experiment", help="experiment TOML file, e.g. experiments/rules.toml")
    s.add_argument("--workers", type=int, default=1, metavar="N", help="parallel processes")
    s.add_argument(
        "--backend",
        choices=["local", "dask", "slurm"],
        default="local",
        help="local process pool (default), a Dask cluster, or SLURM jobs through "
        "dask-jobqueue (--workers jobs of one worker each)",
    )
    s.add_argument(
        "--slurm",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --backend slurm: an option of dask-jobqueue's SLURMCluster, e.g. "
        "memory=8GB, walltime=02:00:00, queue=normal, account=lab, interface=ib0 (repeatable)",
    )
    s.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (default: a LocalCluster on this machine)",
    )
    s.add_argument("--shard", metavar="I/N", help="run only the I-th of N disjoint parts")
    s.add_argument("--out", type=Path, help="results folder (default results/EXPERIMENT)")
    s.add_argument(
        "--worker-timeout",
        type=float,
        metavar="SECONDS",
        help="with Dask: stop when no worker has been connected for this long (default 60; "
        "with --backend slurm 3600, as jobs may wait in the queue)",
    )
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--force", action="store_true", help=FORCE_HELP)
    s.add_argument(
        "--ensemble",
        type=Path,
        metavar="PATH",
        help=ENSEMBLE_HELP + " (the experiment's factors keep their values)",
    )
    rep = sub.add_parser("report", help="summarise a sweep's results folder")
    rep.add_argument("results", type=Path, help="a sweep's results folder")
    rep.add_argument("--out", type=Path, help="report folder (default RESULTS/report)")
    rep.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        help="metrics to summarise and plot (repeatable; default: every metric of the runs)",
    )
    c = sub.add_parser(
        "compare",
        help="compare two scenarios with paired replicates (common random numbers)",
        description="Runs R replicates of A and of B, replicate r of both with the same seed, "
        "and writes comparison.json, comparison.md and differences.png: per metric the means, "
        "the mean paired difference B - A and its 95%% interval.",
    )
    c.add_argument("a", metavar="A.toml", help="the reference scenario")
    c.add_argument("b", metavar="B.toml", help="the scenario compared with it")
    c.add_argument(
        "--replications",
        type=int,
        default=10,
        metavar="R",
        help="replicates of each scenario (default 10; at least 2)",
    )
    c.add_argument("--seed", type=int, help="root seed (default: A's seed)")
    for flag, dest, whom in (
        ("--set", "overrides", "both scenarios"),
        ("--set-a", "set_a", "scenario A"),
        ("--set-b", "set_b", "scenario B"),
    ):
        c.add_argument(
            flag,
            dest=dest,
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=f"override a key of {whom} (repeatable)",
        )
    c.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes (results do not depend on it)",
    )
    c.add_argument(
        "--out",
        type=Path,
        help="results folder (must not exist or be empty); default: a new folder under "
        "results/ named after both scenarios",
    )
    c.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    c.add_argument(
        "--ensemble",
        type=Path,
        metavar="PATH",
        help=ENSEMBLE_HELP + " (keys given with --set, --set-a or --set-b keep their values)",
    )
    sub.add_parser("scenarios", help="list the preset scenarios")
    viz = sub.add_parser("viz", help="start the classroom app in the browser")
    viz.add_argument("scenario", nargs="?", help="base scenario (default: the defaults)")
    viz.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    viz.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    viz.add_argument(
        "--telemetry",
        action="store_true",
        help="allow Solara's usage telemetry and its version check (both off by default)",
    )
    e = sub.add_parser("explain", help="describe a scenario key (or all keys)")
    e.add_argument(
        "key", nargs="?", help="dotted key, e.g. cameras.adoption; a prefix lists the keys under it"
    )
    e.add_argument("--markdown", action="store_true", help="all keys as a Markdown table")
    e.add_argument(
        "--toml",
        action="store_true",
        help="all keys with their defaults, units and meanings as a scenario file "
        "(scenarios/default.toml is this output)",
    )
    e.add_argument(
        "--odd",
        type=Path,
        metavar="MD",
        help="rewrite, in place, the parameter tables between <!-- params: sim/X.py --> and "
        "<!-- /params --> markers of a document (docs/ODD.md), and the sections of the "
        "submodels that attach themselves, from the declarations",
    )
    e.add_argument(
        "--metrics",
        type=Path,
        metavar="MD",
        help="rewrite, in place, the generated parts of docs/metrics.md from the metrics' "
        "declarations: the kinds table and the definitions of the added submodels' metrics",
    )
    v = sub.add_parser(
        "validate", help="run the analytic and pattern checks and write the validation report"
    )
    v.add_argument(
        "--size",
        choices=["quick", "full"],
        default="full",
        help="full (default): the report's replications; quick: the tests' (fast, less power)",
    )
    v.add_argument("--workers", type=int, default=1, metavar="N", help="parallel processes")
    v.add_argument(
        "--out",
        type=Path,
        default=RESULTS_ROOT / "validation",
        help="report folder (default results/validation; its files are replaced)",
    )
    v.add_argument(
        "--only",
        choices=["analytic", "pattern", "all"],
        default="all",
        help="run one kind of check (default: all)",
    )
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    cal = sub.add_parser(
        "calibrate",
        help="two-stage calibration on the nine published patterns (docs/calibration.md)",
        description="Stage 1 (patterns 1-2): runs the adoption design of --adoption. Stage 2 "
        "(patterns 3-9): scores a sweep of experiments/calibration.toml (run it first with "
        "`run.py sweep`). Writes report.md, scores and accepted sets into RESULTS.",
    )
    cal.add_argument(
        "results", type=Path, help="the stage-2 sweep's results folder (e.g. results/calibration)"
    )
    cal.add_argument(
        "--adoption",
        type=Path,
        metavar="TOML",
        default=Path("experiments/calibration_adoption.toml"),
        help="the stage-1 experiment (default experiments/calibration_adoption.toml)",
    )
    cal.add_argument("--workers", type=int, default=1, metavar="N", help="parallel processes")
    cal.add_argument(
        "--check",
        action="store_true",
        help="with --preset: run the preset again with new seeds (the pattern checks of "
        "`validate`, a few minutes) and record both results in the report and the preset",
    )
    cal.add_argument(
        "--preset",
        type=Path,
        metavar="TOML",
        help="also write the chosen set as a preset scenario (e.g. scenarios/calibrated.toml)",
    )
    en = sub.add_parser(
        "ensemble",
        help="calibration ensemble: rejection ABC on patterns 3-8 (docs/calibration.md)",
        description="Runs the experiment's prior sample (resumable, into --runs), keeps every "
        "parameter set whose pattern statistics are compatible with their bands given their "
        "Monte-Carlo error, and writes ensemble.parquet, scores_ensemble.csv, ensemble.md and "
        "ensemble.png into --out.",
    )
    en.add_argument(
        "experiment",
        type=Path,
        nargs="?",
        default=Path("experiments/ensemble.toml"),
        help="the prior sample (default experiments/ensemble.toml)",
    )
    en.add_argument(
        "--runs",
        type=Path,
        help="the sweep's results folder (default OUT/ensemble_runs; rerun to resume)",
    )
    en.add_argument(
        "--out",
        type=Path,
        default=RESULTS_ROOT / "calibration",
        help="where the ensemble and its report go (default results/calibration)",
    )
    en.add_argument("--workers", type=int, default=1, metavar="N", help="parallel processes")
    en.add_argument(
        "--preset",
        type=Path,
        metavar="TOML",
        help="also write the representative set as a preset (e.g. "
        "scenarios/calibrated_district.toml)",
    )
    en.add_argument("--quiet", action="store_true", help="no progress bar")
    en.add_argument("--force", action="store_true", help=FORCE_HELP)
    return p


def cmd_explain(args: argparse.Namespace) -> int:

    if args.markdown:
        print(parameters_markdown())
        return 0
    if args.toml:
        print(default_toml(), end="")
        return 0
    if args.odd:
        if not args.odd.is_file():
            raise UsageError(f"--odd {args.odd}: no such file")
        return write_odd_tables(args.odd)
    if args.metrics:
        if not args.metrics.is_file():
            raise UsageError(f"--metrics {args.metrics}: no such file")
        return write_metrics_doc(args.metrics)
    if args.key is None:
        keys = [p.key for p in PARAMS]
    elif args.key in BY_KEY:
        keys = [args.key]
    else:
        keys = [p.key for p in PARAMS if p.key.startswith(args.key.rstrip(".") + ".")]
        if not keys:
            raise UsageError(unknown_key_message(args.key))
    if len(keys) > 1:
        width = max(map(len, keys))
        for k in keys:
            print(f"{k:<{width}}  {BY_KEY[k].doc}")
        return 0
    p = BY_KEY[keys[0]]
    print(f"{p.key}: {p.doc}")
    print(f"  unit:    {p.unit}")
    print(f"  allowed: {p.allowed()}")
    print(f"  default: {_show(p.default)}")
    print(f"  source:  {p.source}")
    return 0


def _show(value) -> str:

    return (
        toml_value(value)
        if not isinstance(value, dict)
        else ("{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}")
    )


def parameter_table(params) -> list[str]:
    """A Markdown table of parameters: key, meaning, unit, default, allowed values, source."""
    lines = [
        "| key | meaning | unit | default | allowed | source |",
        "|---|---|---|---|---|---|",
    ]
    for p in params:
        cells = [f"`{p.key}`", p.doc, p.unit, f"`{_show(p.default)}`", p.allowed(), p.source]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines


def parameters_markdown() -> str:
    """The parameter reference (docs/parameters.md), generated from the schema."""
    return "\n".join(
        [
            "# Parameters",
            "",
            "Generated from the submodels' declarations (`PARAMS` in each module, assembled by "
            "`sim/scenario/schema.py`) by `python run.py explain --markdown`; do not edit by hand.",
            "",
            *parameter_table(PARAMS),
        ]
    )


ODD_TABLE = re.compile(r"^(<!-- params: (\S+) -->\n)(.*?)^(<!-- /params -->)$", re.S | re.M)
ADDED = re.compile(r"^(<!-- added submodels -->\n)(.*?)^(<!-- /added submodels -->)$", re.S | re.M)
ADDED_METRICS = re.compile(
    r"^(<!-- added submodels' metrics -->\n)(.*?)^(<!-- /added submodels' metrics -->)$",
    re.S | re.M,
)
KINDS_TABLE = re.compile(r"^(<!-- kinds table: [^\n]*-->\n)(.*?)(?=\n\n)", re.S | re.M)


def _attached() -> list:
    """The submodels that attach themselves (docs/extending.md), in the registry's order."""
    from sim.model.metrics import SUBMODELS  # the model: its import costs about a second

    return [cls for cls in SUBMODELS if cls.attaches]


def _added_sections() -> str:
    """The ODD sections of the submodels that attach themselves: each module's docstring (its
    first paragraph the heading), its parameter table and its metrics."""
    parts = []
    for cls in _attached():
        module = sys.modules[cls.__module__]
        path = module.__name__.replace(".", "/") + ".py"
        head, _, body = inspect.getdoc(module).partition("\n\n")
        metrics = ", ".join(f"`{m.name}`" for m in cls.METRICS)
        parts += [
            f"#### {' '.join(head.split()).rstrip('.')} (`{path}`)",
            "",
            body.strip(),
            "",
            f"Metrics: {metrics} ([metrics.md](metrics.md)).",
            "",
            f"<!-- params: {path} -->",
            "<!-- /params -->",
            "",
        ]
    return "\n".join(parts)


def odd_tables(text: str) -> str:
    """A document with the sections of the submodels that attach themselves (between
    ``<!-- added submodels -->`` and ``<!-- /added submodels -->``) and each parameter table
    between ``<!-- params: sim/X.py -->`` and ``<!-- /params -->`` regenerated from the
    declarations (docs/ODD.md, section 7)."""
    text = ADDED.sub(lambda m: m.group(1) + _added_sections() + m.group(3), text)
    modules = {o.replace(".", "/") + ".py": o for o in OWNERS}

    def table(m: re.Match) -> str:
        if m.group(2) not in modules:
            raise UsageError(
                f"<!-- params: {m.group(2)} -->: not a module that declares parameters; one of "
                + ", ".join(modules)
            )
        params = [BY_KEY[p.key] for p in declared(modules[m.group(2)])]
        return m.group(1) + "\n".join(parameter_table(params)) + "\n" + m.group(4)

    return ODD_TABLE.sub(table, text)


def write_odd_tables(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    new = odd_tables(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    state = "updated" if new != text else "current"
    print(f"{path}: {len(ODD_TABLE.findall(new))} parameter tables, {state}")
    return 0


def metrics_doc(text: str) -> str:
    """docs/metrics.md with its generated parts current: the kinds table (after its
    ``<!-- kinds table: ... -->`` marker) and the definitions of the metrics of the submodels
    that attach themselves (between ``<!-- added submodels' metrics -->`` markers)."""
    from sim.runs.stats import kinds_markdown

    rows = ["| metric | definition |", "|---|---|"]
    for cls in _attached():
        rows += [f"| `{m.name}` | {m.definition} |" for m in cls.METRICS]
    table = "\n".join(rows) + "\n"
    text = ADDED_METRICS.sub(lambda m: m.group(1) + table + m.group(3), text)
    return KINDS_TABLE.sub(lambda m: m.group(1) + kinds_markdown(), text)


def write_metrics_doc(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    if not ADDED_METRICS.search(text) or not KINDS_TABLE.search(text):
        raise UsageError(
            f"--metrics {path}: no <!-- kinds table: ... --> or <!-- added submodels' metrics "
            "--> markers (docs/metrics.md has them)"
        )
    new = metrics_doc(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    state = "updated" if new != text else "current"
    print(f"{path}: kinds table and added submodels' metrics, {state}")
    return 0


DEFAULT_TOML_HEADER = """\
# default: a residential neighbourhood of about 1,000 homes and 3,000 pedestrians, one week.
# A 10 x 6 grid of irregular blocks; 20 % of homes have a camera (US adoption a few years after
# 2017, docs/sources.md); two groups, 70 % majority and 30 % minority, placed at random.
# Every key is listed with its unit in brackets; python run.py explain KEY says more.
# Sources of the defaults: docs/sources.md.
# Generated from sim/scenario/schema.py by python run.py explain --toml; do not edit by hand."""


def default_toml() -> str:
    """scenarios/default.toml, generated from the schema: every key with its default, unit and
    meaning, in tables by prefix (a table in the order its first key is declared)."""
    tables: dict[str, list] = {}
    for p in PARAMS:  # a table of groups is a table of its own; any other key goes in its prefix's
        grouped = isinstance(p.default, dict)
        tables.setdefault(p.key if grouped else p.key.rpartition(".")[0], []).append(p)
    lines = [DEFAULT_TOML_HEADER]
    for table, params in tables.items():
        if table:
            lines += ["", f"[{table}]"]
        for p in params:
            if isinstance(p.default, dict):
                lines.append(f"# {p.doc} [{p.unit}]")
                lines += [f"{k} = {toml_value(v)}" for k, v in p.default.items()]
            else:
                name = p.key.rpartition(".")[2]
                lines.append(f"{name} = {toml_value(p.default)}  # [{p.unit}] {p.doc}")
    return "\n".join(lines) + "\n"


def cmd_run(args: argparse.Namespace) -> int:
    from sim.model.model import NeighbourhoodModel
    from sim.runs import attention_figure, outputs, plots
    from sim.runs.ledger_figure import save_ledger

    if args.replications < 1:
        raise UsageError(f"--replications {args.replications}: must be at least 1")
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be at least 1")
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    params = load(args.scenario, overrides)
    if args.out is not None:
        check_out_folder(args.out, "--out", empty=True)
    else:
        check_out_folder(RESULTS_ROOT, "results folder")
    _check_run_size(args, params)
    name = Path(args.scenario).stem
    started = time.perf_counter()
    # Build the first replicate's world first, so that a bad world (e.g. a missing GraphML
    # file) leaves nothing behind; the results are written only once the run has ended.
    first_seed = params["seed"] if args.replications == 1 else derive_seed(params["seed"], 0)
    model = NeighbourhoodModel(params, rng=first_seed)
    bar = _bar(
        args,
        params["time.days"] if args.replications == 1 else args.replications,
        "day" if args.replications == 1 else "run",
        name,
    )

    def progress(done: float) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    runs = None
    if args.replications == 1:
        metrics = model.run(progress)
        if args.counterfactual:
            metrics = counterfactual_metrics(params, first_seed, metrics, args.counterfactual)
        series = [model.recorder.timeseries()]
    else:
        runs = run_replications(
            params,
            args.replications,
            params["seed"],
            args.workers,
            progress,
            args.counterfactual,
        )
        metrics = summarize([m for _, m, _ in runs], params["seed"])
        series = [ts for _, _, ts in runs]
    if bar is not None:
        bar.close()
    out = _results_dir(args.out, name, params["seed"])
    rerun = f"python run.py run {out / 'scenario.toml'}"
    if runs is not None:
        rerun += f" --replications {args.replications}"
    header = f"Resolved scenario of a run (from {args.scenario}); rerun it with\n  {rerun}"
    # Every file goes into a hidden folder beside ``out``, renamed onto it at the end: a run
    # stopped while writing leaves ``out`` empty (a rerun accepts it), never half-written.
    try:
        with outputs.staged_folder(out) as stage:
            if runs is None:
                outputs.write_timeseries(stage / "timeseries.parquet", series[0])
                outputs.write_parquet(stage / "ledger.parquet", model.ledger_table())
            else:  # the map shows replicate 0 at the start
                outputs.write_replications(stage, runs, dict(params))
            outputs.atomic_write(stage / "metrics.json", outputs.metrics_json(metrics))
            outputs.atomic_write(stage / "scenario.toml", params.to_toml(header))
            title = plots.run_title(name, params["seed"], args.replications)
            groups = model.world.group_names
            plots.save_map(model, stage / "map.png", title)
            plots.save_timeseries(series, groups, stage / "timeseries.png", title)
            plots.save_outcomes(series, groups, stage / "outcomes.png", title)
            save_ledger(metrics, groups, stage / "ledger.png")
            if runs is None and attention_figure.applies(params):  # Ensign et al.'s urn
                attention_figure.save_attention(model, stage / "attention.png", title)
            info = outputs.run_info(time.perf_counter() - started, sys.argv)
            outputs.atomic_write(stage / "run_info.json", json.dumps(info, indent=2) + "\n")
    except OSError as exc:
        raise UsageError(
            f"{shown_path(out)}: cannot write the results: {outputs.os_error_reason(exc)}; "
            "nothing was kept, run the same command again"
        ) from None
    if not args.quiet:
        _print_summary(metrics, args.replications > 1)
        print(f"results: {out}  ({info['wall_seconds']:.1f} s)")
    return 0


def _check_run_size(args: argparse.Namespace, params) -> None:
    """Estimate the run's memory and time from its sizes before building anything: refuse
    what cannot fit (unless --force), say so when it will take long."""
    from sim.runs import limits

    est = limits.scenario_estimate(params, params.base_dir)
    rows = params["time.days"] * 1440 / params["time.record_minutes"]
    memory, seconds = limits.run_cost(
        est, rows, args.replications, args.workers, bool(args.counterfactual)
    )
    what = f"{shown_path(args.scenario)}: {est.sizes()}"
    if args.replications > 1:
        what += f", {args.replications:,} replications (--replications)"
    note = limits.check(what, memory, seconds, args.force, args.replications)
    if note:
        print(note, file=sys.stderr, flush=True)


def _bar(args: argparse.Namespace, total: float, unit: str, name: str):
    if args.quiet:
        return None
    from tqdm import tqdm

    fmt = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} " + unit + "s"
    if unit == "day":
        fmt = "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} days"
    return tqdm(
        total=total, desc=name, bar_format=fmt + " [{elapsed}<{remaining}]", file=sys.stderr
    )


def _print_summary(metrics: dict, with_ci: bool) -> None:
    width = max(len(k) for k in HEADLINE)

    def show(v) -> str:
        return "n/a" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    for key in HEADLINE:
        line = f"  {key:<{width}}  {show(metrics.get(key))}"
        if with_ci and metrics.get(f"{key}.ci_low") is not None:
            line += f"  [{show(metrics[f'{key}.ci_low'])}, {show(metrics[f'{key}.ci_high'])}]"
        if with_ci and metrics.get(f"{key}.n_undefined"):
            line += f"  (n={metrics[f'{key}.n']}, undefined in {metrics[f'{key}.n_undefined']})"
        print(line)


def _results_dir(out: Path | None, name: str, seed: int) -> Path:

    if out is None:
        return unique_results_dir(RESULTS_ROOT, f"{name}-seed{seed}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: already exists and is not empty; choose a new folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {shown_path(out)}: cannot make it ({exc.strerror})") from None
    return out


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.model.model import NeighbourhoodModel

    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be at least 1")
    if args.worker_timeout is None:
        args.worker_timeout = 3600.0 if args.backend == "slurm" else 60.0
    if not args.worker_timeout > 0:
        raise UsageError(f"--worker-timeout {args.worker_timeout}: must be above 0 seconds")
    slurm = slurm_options(args.slurm) if args.backend == "slurm" else None
    if args.slurm and slurm is None:
        raise UsageError("--slurm goes with --backend slurm")
    shard = parse_shard(args.shard)
    out = args.out or RESULTS_ROOT / Path(args.experiment).stem
    check_out_folder(out, "--out" if args.out else "results folder")
    ensemble = _ensemble(args.ensemble)
    exp = load_experiment(args.experiment, force=args.force)
    _check_sweep_size(args, exp, shard)
    if exp.metrics:  # check metric names before anything runs
        probe = NeighbourhoodModel(exp.scenario(0).replace({"time.days": 1 / 1440}))
        known = probe.run()
        unknown = [m for m in exp.metrics if m not in known]
        if unknown:
            raise UsageError(
                f"{args.experiment}: metrics: unknown metric(s) "
                f"{', '.join(unknown)} (see docs/metrics.md)"
            )
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=len(exp.points) * exp.replications // shard[1],
            unit="run",
            desc=Path(args.experiment).stem,
            file=sys.stderr,
        )

    def progress(done: int, failed: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.set_postfix(failed=failed)
            bar.update(done - bar.n)

    try:
        counts = sweep(
            exp,
            out,
            args.backend,
            args.workers,
            args.scheduler,
            shard,
            progress,
            worker_timeout=args.worker_timeout,
            slurm=slurm,
            ensemble=None if ensemble is None else (args.ensemble, ensemble),
        )
    finally:
        if bar is not None:
            bar.close()
    if counts["set_aside"]:
        print(
            f"note: {counts['set_aside']} damaged batch file(s) set aside in {out / 'runs'} "
            "(*.corrupt, *.incomplete); their runs were redone"
        )
    others = f"{counts['by_others']} run by another sweep, " if counts["by_others"] else ""
    print(
        f"{counts['planned']} runs in this {'shard' if shard[1] > 1 else 'sweep'}: "
        f"{counts['skipped']} already done, {counts['ran']} run now, {others}"
        f"{counts['failed']} failed"
    )
    print(f"results: {out}   (summary: python run.py report {out})")
    return 1 if counts["failed"] else 0  # failed runs are recorded; the status says so


def slurm_options(items: list[str]) -> dict:
    """``--slurm KEY=VALUE`` items as SLURMCluster keyword arguments: a value is TOML (a
    number, true/false, a list or an inline table) or else a plain string (``4GB``,
    ``02:00:00``)."""
    import datetime
    import tomllib

    options = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise UsageError(f"--slurm {item!r}: expected KEY=VALUE, e.g. memory=8GB")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        if isinstance(value, datetime.date | datetime.time):  # 02:00:00 is a walltime
            value = raw.strip()
        options[key.strip()] = value
    return options


def _check_sweep_size(args: argparse.Namespace, exp, shard: tuple[int, int]) -> None:
    """Estimate the sweep's memory (its largest run on each worker) and time before any
    world is built; refuse what cannot fit (unless --force), say so when it is long."""
    from sim.runs import limits

    largest, seconds = limits.design_estimate(
        exp.base_scenario, exp.points, exp.base_scenario.base_dir
    )
    runs = len(exp.points) * exp.replications // shard[1]
    memory, seconds = limits.sweep_cost(
        len(exp.points), runs, largest, seconds * exp.replications / shard[1], args.workers
    )
    what = (
        f"{shown_path(args.experiment)}: {runs:,} runs on {args.workers} worker(s) (--workers), "
        f"the largest of {largest.sizes()}"
    )
    note = limits.check(what, memory, seconds, args.force, runs)
    if note:
        print(note, file=sys.stderr, flush=True)


def cmd_report(args: argparse.Namespace) -> int:
    from sim.runs.report import ReportError, write_report

    check_out_folder(args.out or args.results / "report", "--out" if args.out else "report folder")
    try:
        where = write_report(
            args.results,
            args.out,
            args.metrics,
            progress=lambda line: print(f"report: {line}", file=sys.stderr, flush=True),
        )
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    print(f"report: {where}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Paired replicates of two scenarios; the comparison's files into a new folder."""
    from sim.runs.compare import compare

    if args.replications < 2:
        raise UsageError(
            f"--replications {args.replications}: must be at least 2 (an interval needs pairs)"
        )
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be at least 1")
    seed = [f"seed={args.seed}"] if args.seed is not None else []
    a = load(args.a, [*args.overrides, *args.set_a, *seed])
    b = load(args.b, [*args.overrides, *args.set_b, *seed])
    root = a["seed"]
    ensemble = _ensemble(args.ensemble)
    per_replicate = None
    if ensemble is not None:
        # keys the user set, and the keys in which A and B differ (the contrast), keep theirs
        given = parse_overrides([*args.overrides, *args.set_a, *args.set_b])
        skip = set(given) | {k for k in a if a[k] != b[k]}
        per_replicate = draws(ensemble, args.replications, root, sorted(skip))
    if (
        args.out is not None
        and args.out.exists()
        and (not args.out.is_dir() or any(args.out.iterdir()))
    ):
        raise UsageError(f"--out {args.out}: already exists and is not empty; choose a new folder")
    from sim.model.model import NeighbourhoodModel

    for params in (a, b):  # a bad world (e.g. a missing GraphML file) stops here, in one line
        if per_replicate is not None:  # and so does an ensemble value a scenario refuses
            params = params.replace(overrides(per_replicate[0]), origin="--ensemble")
        NeighbourhoodModel(params, rng=derive_seed(root, 0))
    names = (Path(args.a).stem, Path(args.b).stem)
    if names[0] == names[1]:
        names = (f"{names[0]} (A)", f"{names[1]} (B)")
    bar = _bar(args, 2 * args.replications, "run", f"{names[0]} vs {names[1]}")
    started = time.perf_counter()

    def progress(done: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    if args.out is None:
        folder = f"compare-{Path(args.a).stem}-vs-{Path(args.b).stem}"
        out, created = unique_results_dir(RESULTS_ROOT, folder), True
    else:
        out, created = args.out, not args.out.exists()
        out.mkdir(parents=True, exist_ok=True)
    info = {
        "scenario_a": str(args.a),
        "scenario_b": str(args.b),
        "set": args.overrides,
        "set_a": args.set_a,
        "set_b": args.set_b,
    }
    if per_replicate is not None:
        info["ensemble"] = str(args.ensemble)
        info["ensemble_sets"] = [d["ensemble.set"] for d in per_replicate]
    try:
        table = compare(
            a,
            b,
            args.replications,
            root,
            out,
            args.workers,
            progress,
            names,
            HEADLINE,
            info,
            per_replicate,
        )
    except BaseException:
        if created and not any(out.iterdir()):  # a run failed: leave no empty folder behind
            out.rmdir()
        raise
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        width = max(len(k) for k in HEADLINE)
        for key in HEADLINE:
            row = table.get(key)
            if row is None or row["diff"] is None:
                continue
            lo, hi = row["ci_low"], row["ci_high"]
            ci = f"  [{lo:.4g}, {hi:.4g}]" if lo is not None else ""
            print(f"  {key:<{width}}  {row['diff']:+.4g}{ci}  (n={row['n']})")
        print(f"results: {out}  ({time.perf_counter() - started:.1f} s)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Run every check, write report.md, checks.json and the figures; exit 1 unless every
    check passed (a check with too few events to decide is "not measured", not passed)."""
    from sim.validation.validate import validate

    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be at least 1")
    check_out_folder(args.out, "--out")
    bars: dict = {}

    def progress(phase: str, label: str, done: int | None, total: int | None) -> None:
        if args.quiet:
            return
        from tqdm import tqdm

        bar = bars.get(phase)
        if bar is None:
            for other in bars.values():
                other.close()  # one phase at a time: its bar is finished
            unit = "checks" if phase == "analytic" else "stages"
            fmt = "{desc}: {n_fmt}/{total_fmt} " + unit + " |{bar}| [{elapsed}{postfix}]"
            bar = bars[phase] = tqdm(total=total, desc=phase, bar_format=fmt, file=sys.stderr)
        if total is not None:
            bar.total = total
        if done is not None:
            bar.update(done - bar.n)
        bar.set_postfix_str(label)

    started = time.perf_counter()
    try:
        path, checks = validate(args.size, args.workers, args.out, args.only, progress)
    finally:
        for bar in bars.values():
            bar.close()
    passed = sum(c.passed for c in checks)
    failed = [c.name for c in checks if not c.passed and c.measured]
    unmeasured = [c.name for c in checks if not c.measured]
    print(f"report: {path}")
    summary = f"{passed} of {len(checks)} checks passed ({args.size}, "
    summary += f"{time.perf_counter() - started:.0f} s)"
    summary += f"; failed: {', '.join(failed)}" if failed else ""
    summary += f"; not measured: {', '.join(unmeasured)}" if unmeasured else ""
    print(summary)
    return 0 if checks and passed == len(checks) else 1


SESSION_TIMEOUT = "10s"  # how long the app keeps a session whose browser tab has gone


def cmd_viz(args: argparse.Namespace) -> int:
    """Serve sim/ui/app.py with Solara on the given address (localhost by default)."""
    import importlib.util
    import os

    if importlib.util.find_spec("solara") is None:
        raise UsageError("the app needs the app extra: pip install -e '.[app]' (make viz does)")
    # No outbound traffic: Solara's usage telemetry (Mixpanel) and its PyPI version check are
    # both on by default; a classroom behind a firewall, and students' privacy, want neither.
    env = dict(os.environ)
    if not args.telemetry:
        env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # A closed tab's session (and its model, playing or not) ends this long after its
    # connection is gone, instead of Solara's 24 h; a reload within it keeps the session.
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", SESSION_TIMEOUT)
    if args.scenario:
        load(args.scenario)  # a bad scenario stops here, with one line
        env["RINGSIM_SCENARIO"] = str(Path(args.scenario).resolve())
    app = Path(__file__).resolve().parent / "app.py"
    print(f"classroom app: http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(app),
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-open",
    ]
    if not args.telemetry:
        cmd.append("--no-check-version")
    # become the server, so that stopping this process stops it (never an orphaned server)
    os.execve(sys.executable, cmd, env)
    return 0  # not reached


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the presets: the first line of each file is '# name: what it represents'."""
    folder = Path(__file__).resolve().parents[2] / "scenarios"
    rows = []
    for path in sorted(folder.glob("*.toml")):
        first = path.read_text(encoding="utf-8").splitlines()[:1]
        text = first[0].lstrip("# ").split(":", 1)[-1].strip() if first else ""
        rows.append((path.stem, text))
    width = max((len(n) for n, _ in rows), default=0)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    print(f"\nrun one: python run.py run {folder.name}/NAME.toml")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Both calibration stages: score every design point on its patterns; write report.md,
    scores and accepted sets; optionally the preset."""
    from sim.validation.patterns import calibrate

    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be at least 1")
    check_out_folder(args.results, "results")  # report.md and the scores are written there
    if args.preset:
        check_out_file(args.preset, "--preset")
    try:
        report = calibrate(
            args.results,
            args.workers,
            preset=args.preset,
            progress=print,
            adoption=args.adoption,
            check=args.check,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from None
    print(f"calibration report: {report}")
    if args.preset:
        print(f"preset: {args.preset}")
    return 0


def _ensemble(path: Path | None):
    """The --ensemble table, checked (a bad file: one line, exit 2)."""
    if path is None:
        return None

    try:
        return load_ensemble(path)
    except EnsembleError as exc:
        raise UsageError(str(exc)) from None


def cmd_ensemble(args: argparse.Namespace) -> int:
    """The calibration ensemble: the prior sample's sweep (resumable), then rejection ABC."""
    from sim.validation.ensemble import build, check_levers

    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be at least 1")
    runs = args.runs or args.out / "ensemble_runs"
    check_out_folder(runs, "--runs")
    check_out_folder(args.out, "--out")
    if args.preset:
        check_out_file(args.preset, "--preset")
    exp = load_experiment(args.experiment, force=args.force)
    try:
        check_levers(exp.base_scenario)
    except EnsembleError as exc:
        raise UsageError(f"{args.experiment}: {exc}") from None
    bar = _bar(args, len(exp.points) * exp.replications, "run", "ensemble prior sample")

    def progress(done: int, failed: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    started = time.perf_counter()
    try:
        counts = sweep(exp, runs, "local", args.workers, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    print(
        f"prior sample: {counts['planned']} runs, {counts['skipped']} already done, "
        f"{counts['ran']} run now, {counts['failed']} failed ({runs})"
    )
    try:
        summary = build(runs, args.out, args.preset, progress=print)
    except EnsembleError as exc:
        raise UsageError(str(exc)) from None
    print(
        f"ensemble: {summary['accepted']} of {summary['sets']} sets accepted "
        f"({time.perf_counter() - started:.0f} s): {args.out / 'ensemble.parquet'}, "
        f"report {args.out / 'ensemble.md'}"
    )
    if args.preset and summary["chosen"] is not None:
        print(f"preset: {args.preset}")
    return 0 if summary["accepted"] else 1


COMMANDS = {
    "run": cmd_run,
    "sweep": cmd_sweep,
    "report": cmd_report,
    "compare": cmd_compare,
    "scenarios": cmd_scenarios,
    "viz": cmd_viz,
    "explain": cmd_explain,
    "validate": cmd_validate,
    "calibrate": cmd_calibrate,
    "ensemble": cmd_ensemble,
}


BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `cat` or `yes` in the same place


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ScenarioError, UsageError, SweepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SweepInterrupted as exc:
        print(exc, file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`run.py explain | head -1`): stop quietly. Point stdout at
        # /dev/null so that flushing it at exit does not fail again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return BROKEN_PIPE
