"""Summary of a parameter sweep's results folder: tables, figures and sensitivity indices.

The folder holds ``manifest.json`` (the design), ``design.parquet`` (one row per design
point) and ``runs/*.parquet`` (one row per run, in any number of batch files; files whose
names start with "." are temporary and ignored; a run id written twice, after a resumed
sweep, counts once: the row in the batch file that sorts last by name wins).

:func:`write_report` writes into ``<results>/report/`` (or the folder asked for):

- ``summary.md``: the design points (factor values, runs finished and failed), then one
  metric per row with the design points as columns: the mean over the point's finished
  replicates with a 95 % interval made by the metric's kind (sim/runs/stats.py: counts never
  below 0, fractions within [0, 1]) and n when some replicate had no value;
- ``summary.csv`` (one row per point: ``<metric>``, ``.ci_low``, ``.ci_high``, ``.n``) and
  ``summary_long.csv`` (``point``, factor values, ``metric``, ``mean``, ``ci_low``,
  ``ci_high``, ``n``);
- ``<metric>__vs__<factor>.png`` for every metric: the mean against each factor (averaged
  over the other factors' levels) with a 95 % band over replicates; a factor with many
  distinct values (Latin hypercube, Sobol) is binned into quantile bins; axes labelled with
  the metric's label and unit (docs/metrics.md) and the factor's unit;
- ``<metric>__heat__<f1>__<f2>.png``: the mean over each pair of factors that have few
  levels (factorial designs);
- ``contrasts.csv`` for the experiment's ``[report] contrasts``: paired differences between
  the design points of two levels of a factor, matched by the other factors' values;
- ``paired_differences.csv`` when the sweep used common random numbers: every point minus
  point 0, replicate by replicate (same seeds), with a 95 % interval;
- ``sobol.csv`` / ``morris.csv`` and a figure per metric for Sobol and Morris designs, when
  SALib is installed.

Every file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from matplotlib import colormaps
from matplotlib.figure import Figure

from sim.runs.experiment import load_experiment
from sim.runs.ledger_figure import save_ledger_panels
from sim.runs.outputs import atomic_write, save_figure
from sim.runs.plots import OKABE_ITO
from sim.runs.policy_figure import write as write_policy
from sim.runs.stats import axis_label, metric_info, metric_interval, paired_interval
from sim.runs.sweep import RUN_COLUMNS
from sim.scenario.scenario import ScenarioError
from sim.scenario.schema import BY_KEY, LEDGER_PATHS

PARAM_PREFIX = "param:"
MAX_FACTOR_FIGURES = 16  # "metric vs factor" figures per metric (a note names the rest)
MAX_HEAT_PAIRS = 10  # heat maps per metric
MAX_LEVELS = 12  # a factor with more distinct values is continuous: binned, no heat map
POINT_COLUMNS = 12  # design points per table of summary.md (several tables when more)
BINS = 10  # quantile bins of a continuous factor
SAMPLED_DESIGNS = ("latin_hypercube", "sobol", "morris")  # no heat maps: no grid of levels
# the run figures' palette (sim/runs/plots.py)
BLUE, ORANGE = OKABE_ITO["blue"], OKABE_ITO["orange"]
SALIB_HINT = "pip install -e '.[salib]'"


class ReportError(ValueError):
    """The results folder cannot be summarised (no manifest, no runs, unknown metric, ...)."""


@dataclass
class Results:
    """A sweep's results folder, read and cleaned."""

    path: Path
    manifest: dict
    design: pd.DataFrame  # "point" and one column per factor, one row per design point
    runs: pd.DataFrame  # one row per run id (duplicates dropped), factor columns joined
    factors: list[str]
    metrics: list[str]
    batch_files: int = 0
    duplicates_dropped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] == "ok"]


# --------------------------------------------------------------------------- reading


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_manifest(results_dir: Path) -> dict:
    path = Path(results_dir) / "manifest.json"
    if not Path(results_dir).is_dir():
        raise ReportError(f"{results_dir}: no such results folder")
    if not path.is_file():
        raise ReportError(f"{results_dir}: no manifest.json (not a sweep results folder)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: unreadable manifest: {_first_line(exc)}") from exc
    if not isinstance(manifest, dict):
        raise ReportError(f"{path}: the manifest is not a JSON object")
    return manifest


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise ReportError(f"{path}: unreadable parquet file: {_first_line(exc)}") from exc


def read_runs(results_dir: Path) -> tuple[pd.DataFrame, int, int]:
    """Every run row from ``runs/*.parquet`` (batch files in name order, files starting with
    "." ignored), deduplicated by run id keeping the last; also the number of batch files and
    of duplicate rows dropped."""
    folder = Path(results_dir) / "runs"
    files = sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))
    frames = [df for df in (_read_parquet(p) for p in files) if len(df)]
    if not frames:
        raise ReportError(f"{results_dir}: no run results in runs/*.parquet")
    runs = pd.concat(frames, ignore_index=True, sort=False)
    missing = [c for c in ("run_id", "point", "status") if c not in runs.columns]
    if missing:
        raise ReportError(f"{folder}: run files lack the column(s) {', '.join(missing)}")
    before = len(runs)
    runs = runs.drop_duplicates("run_id", keep="last").reset_index(drop=True)
    runs["point"] = pd.to_numeric(runs["point"], errors="coerce")
    runs = runs.dropna(subset=["point"]).reset_index(drop=True)
    if runs.empty:
        raise ReportError(f"{results_dir}: no run results with a design point in runs/*.parquet")
    runs["point"] = runs["point"].astype(np.int64)
    runs["status"] = runs["status"].astype(str)
    runs["replicate"] = pd.to_numeric(runs.get("replicate", np.nan), errors="coerce")
    return runs, len(files), before - len(runs)


def _metric_columns(runs: pd.DataFrame, manifest: dict) -> list[str]:
    """Metric columns of the run files: every numeric column (or one whose values all read as
    numbers, e.g. a batch where a metric is all null) that is neither bookkeeping nor a
    factor; in the manifest's order when it lists them, else in the files' order."""
    found = []
    for c in runs.columns:
        if c in RUN_COLUMNS or str(c).startswith(PARAM_PREFIX):
            continue
        col = runs[c]
        if pd.api.types.is_bool_dtype(col):
            continue
        if not pd.api.types.is_numeric_dtype(col):
            as_numbers = pd.to_numeric(col, errors="coerce")
            if as_numbers.notna().sum() != col.notna().sum():
                continue
        found.append(c)
    listed = manifest.get("metrics")
    if isinstance(listed, list):
        first = [m for m in listed if m in found]
        return first + [m for m in found if m not in first]
    return found


def load_results(results_dir: Path, metrics: list[str] | None = None) -> Results:
    """Read a results folder; raise ReportError when it cannot be summarised."""
    results_dir = Path(results_dir)
    manifest = read_manifest(results_dir)
    runs, n_files, dropped = read_runs(results_dir)
    notes: list[str] = []

    design_path = results_dir / "design.parquet"
    if design_path.is_file():
        design = _read_parquet(design_path)
        if "point" not in design.columns:
            raise ReportError(f"{design_path}: no 'point' column")
    else:
        # Rebuild the design from the runs' "param:" columns.
        notes.append("design.parquet is missing: factor values taken from the run files.")
        params = [c for c in runs.columns if str(c).startswith(PARAM_PREFIX)]
        design = runs.groupby("point", sort=True)[params].first().reset_index()
        design.columns = ["point", *(c[len(PARAM_PREFIX) :] for c in params)]
    design = design.copy()
    design["point"] = design["point"].astype(np.int64)
    design = design.drop_duplicates("point", keep="last").sort_values("point")
    extra = sorted(set(runs["point"]) - set(design["point"]))
    if extra:
        notes.append(f"{len(extra)} point(s) in the run files are not in the design: {extra[:10]}")
        design = pd.concat([design, pd.DataFrame({"point": extra})], ignore_index=True)
    design = design.reset_index(drop=True)

    declared = list(manifest.get("factors") or {})
    columns = [c for c in design.columns if c != "point"]
    factors = [f for f in declared if f in columns] + [c for c in columns if c not in declared]

    available = _metric_columns(runs, manifest)
    if metrics:
        unknown = [m for m in metrics if m not in available]
        if unknown:
            shown = ", ".join(available[:8]) + (", ..." if len(available) > 8 else "")
            raise ReportError(
                f"unknown metric(s) {', '.join(unknown)}; the runs have: {shown or 'none'}"
            )
        chosen = list(dict.fromkeys(metrics))
    else:
        chosen = available
    for m in chosen:
        runs[m] = pd.to_numeric(runs[m], errors="coerce").astype(float)

    # Factor values by point, from the design (authoritative), replacing the "param:" copies.
    keep = [c for c in runs.columns if c not in factors]
    runs = runs[keep].merge(design[["point", *factors]], on="point", how="left")
    return Results(
        path=results_dir,
        manifest=manifest,
        design=design,
        runs=runs,
        factors=factors,
        metrics=chosen,
        batch_files=n_files,
        duplicates_dropped=dropped,
        notes=notes,
    )


# --------------------------------------------------------------------------- tables


def _values(series: pd.Series) -> list[float]:
    return [float(v) for v in series.to_numpy(float)]


def _seed(res: Results) -> int:
    """The root seed, which keys the bootstrap intervals."""
    try:
        return int(res.manifest.get("root_seed") or 0)
    except (TypeError, ValueError):
        return 0


def summary_table(res: Results) -> pd.DataFrame:
    """One row per design point: factors, n_ok, n_failed, and per metric the mean over the
    point's finished replicates, its 95 % interval by the metric's kind (sim/runs/stats.py) and n,
    the replicates with a value."""
    ok_by_point = {p: g for p, g in res.ok.groupby("point", sort=False)}
    failed = res.runs[res.runs["status"] != "ok"].groupby("point").size()
    rows = []
    empty = pd.DataFrame(columns=res.metrics, dtype=float)
    for d in res.design.to_dict("records"):
        point = int(d["point"])
        group = ok_by_point.get(point, empty)
        row = {"point": point, **{f: d[f] for f in res.factors}}
        row["n_ok"] = len(group)
        row["n_failed"] = int(failed.get(point, 0))
        for m in res.metrics:
            iv = metric_interval(_values(group[m]), m, _seed(res))
            row[m], row[f"{m}.ci_low"], row[f"{m}.ci_high"] = iv.mean, iv.low, iv.high
            row[f"{m}.n"] = iv.n
        rows.append(row)
    table = pd.DataFrame(rows)
    for m in res.metrics:
        for c in (m, f"{m}.ci_low", f"{m}.ci_high"):
            table[c] = table[c].astype(float)
    return table


def long_table(res: Results, summary: pd.DataFrame) -> pd.DataFrame:
    """The summary in long format: point, factor values, metric, mean, ci_low, ci_high, n."""
    rows = []
    for r in summary.to_dict("records"):
        for m in res.metrics:
            rows.append(
                {
                    "point": r["point"],
                    **{f: r[f] for f in res.factors},
                    "metric": m,
                    "mean": r[m],
                    "ci_low": r[f"{m}.ci_low"],
                    "ci_high": r[f"{m}.ci_high"],
                    "n": r[f"{m}.n"],
                }
            )
    cols = ["point", *res.factors, "metric", "mean", "ci_low", "ci_high", "n"]
    return pd.DataFrame(rows, columns=cols)


def _by_replicate(res: Results, point: int, metric: str) -> pd.Series:
    """The point's finished values of the metric indexed by replicate (last copy wins)."""
    ok = res.ok[res.ok["point"] == point].dropna(subset=["replicate"])
    return ok.drop_duplicates("replicate", keep="last").set_index("replicate")[metric]


def _paired(a: pd.Series, b: pd.Series) -> np.ndarray:
    """b - a over the replicates both have, where both values are defined."""
    common = a.index.intersection(b.index)
    diff = b.loc[common].to_numpy(float) - a.loc[common].to_numpy(float)
    return diff[np.isfinite(diff)]


def paired_differences(res: Results) -> pd.DataFrame:
    """Every point other than 0 minus point 0, per metric, over the replicates both finished
    (paired by replicate index: the same seeds under common random numbers); Student's t
    interval on the paired differences."""
    cols = ["point", *res.factors, "metric", "mean_difference", "ci_low", "ci_high", "n_pairs"]
    rows = []
    for d in res.design.to_dict("records"):
        point = int(d["point"])
        if point == 0:
            continue
        for m in res.metrics:
            iv = paired_interval(_paired(_by_replicate(res, 0, m), _by_replicate(res, point, m)))
            rows.append(
                {
                    "point": point,
                    **{f: d[f] for f in res.factors},
                    "metric": m,
                    "mean_difference": iv.mean,
                    "ci_low": iv.low,
                    "ci_high": iv.high,
                    "n_pairs": iv.n,
                }
            )
    table = pd.DataFrame(rows, columns=cols)
    for c in ("mean_difference", "ci_low", "ci_high"):
        table[c] = table[c].astype(float)
    return table


CONTRAST_COLUMNS = [
    "contrast",
    "factor",
    "a",
    "b",
    "point_a",
    "point_b",
    "matched",
    "metric",
    "mean_difference",
    "ci_low",
    "ci_high",
    "n_pairs",
]


def contrast_table(res: Results, factor: str, a, b) -> tuple[pd.DataFrame, list[str]]:
    """The paired contrast b - a of one factor: every design point with ``factor = b``
    against the point with ``factor = a`` and the same values of the other factors,
    replicate by replicate (the same seeds under common random numbers), and over all matched
    pairs ("all": per replicate, the mean difference over the matched points; the interval is
    over replicates). Student's t intervals on the paired differences."""
    name = f"{factor}: {_fmt(b)} - {_fmt(a)}"
    if factor not in res.design.columns:
        return pd.DataFrame(columns=CONTRAST_COLUMNS), [f"contrast {name}: no such factor"]
    others = [f for f in res.factors if f != factor]
    side_a = res.design[res.design[factor] == a]
    side_b = res.design[res.design[factor] == b]
    if others:
        matched = side_a.merge(side_b, on=others, suffixes=("_a", "_b"))
    else:  # one factor: its two points
        matched = pd.DataFrame(
            {"point_a": side_a["point"].tolist()[:1], "point_b": side_b["point"].tolist()[:1]}
        )
    pairs = [(int(x), int(y)) for x, y in zip(matched["point_a"], matched["point_b"], strict=True)]
    if not pairs:
        return pd.DataFrame(columns=CONTRAST_COLUMNS), [
            f"contrast {name}: no design points match (same values of the other factors)"
        ]
    labels = {
        pair: ", ".join(f"{f}={_fmt(v)}" for f, v in zip(others, vals, strict=True))
        for pair, vals in zip(
            pairs, matched[others].itertuples(index=False, name=None), strict=True
        )
    }
    rows = []
    base = {"contrast": name, "factor": factor, "a": a, "b": b}
    for m in res.metrics:
        per_pair = {}
        for pa_, pb_ in pairs:
            sa, sb = _by_replicate(res, pa_, m), _by_replicate(res, pb_, m)
            common = sa.index.intersection(sb.index)
            per_pair[pa_, pb_] = (sb.loc[common] - sa.loc[common]).astype(float)
            iv = paired_interval(_paired(sa, sb))
            rows.append(
                {
                    **base,
                    "point_a": pa_,
                    "point_b": pb_,
                    "matched": labels[pa_, pb_] or "-",
                    "metric": m,
                    "mean_difference": iv.mean,
                    "ci_low": iv.low,
                    "ci_high": iv.high,
                    "n_pairs": iv.n,
                }
            )
        if len(pairs) > 1:
            by_rep = pd.concat(per_pair.values(), axis=1).mean(axis=1, skipna=True)
            iv = paired_interval([float(v) for v in by_rep])
            rows.append(
                {
                    **base,
                    "point_a": None,
                    "point_b": None,
                    "matched": "all",
                    "metric": m,
                    "mean_difference": iv.mean,
                    "ci_low": iv.low,
                    "ci_high": iv.high,
                    "n_pairs": iv.n,
                }
            )
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS), []


def _current_contrasts(manifest: dict) -> list:
    """The contrasts of the experiment file as it is now, when it still describes this
    design (contrasts added after the sweep count), else those the manifest recorded."""
    path = manifest.get("experiment")
    if isinstance(path, str) and Path(path).is_file():
        try:
            exp = load_experiment(path)
        except ScenarioError as exc:
            if "report." in str(exc):  # the contrasts asked for are wrong: the user's to fix
                raise ReportError(str(exc)) from None
            return manifest.get("contrasts") or []  # the file now holds another experiment
        if exp.design_hash() == manifest.get("design_hash"):
            return exp.contrasts
    return manifest.get("contrasts") or []


def contrasts(res: Results) -> tuple[pd.DataFrame | None, list[str]]:
    """Every contrast of the manifest's ``contrasts`` (the experiment's ``[report]
    contrasts``); None when there are none."""
    specs = _current_contrasts(res.manifest)
    if not specs:
        return None, []
    tables, notes = [], []
    for spec in specs:
        try:
            factor, a, b = spec["factor"], spec["a"], spec["b"]
        except (TypeError, KeyError):
            notes.append(f"contrast {spec!r}: not understood (factor, a, b)")
            continue
        table, more = contrast_table(res, factor, a, b)
        tables.append(table)
        notes += more
    tables = [t for t in tables if len(t)]
    if not tables:
        return pd.DataFrame(columns=CONTRAST_COLUMNS), notes
    return pd.concat(tables, ignore_index=True), notes


def _seed_mismatches(res: Results) -> int:
    """Pairs (point, replicate) whose seed differs from point 0's seed for that replicate."""
    if "seed" not in res.runs.columns:
        return 0
    ok = res.ok.dropna(subset=["replicate"])
    ref = ok.loc[ok["point"] == 0, ["replicate", "seed"]].drop_duplicates("replicate")
    other = ok.loc[ok["point"] != 0, ["replicate", "seed"]]
    joined = other.merge(ref, on="replicate", suffixes=("", "_ref"))
    return int((joined["seed"] != joined["seed_ref"]).sum())


# --------------------------------------------------------------------------- figures


def safe_name(text: str, limit: int = 80) -> str:
    """A file-name-safe version of a metric or factor name (no leading dot)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text))
    safe = re.sub(r"^\.", "_", safe)
    return safe[:limit] or "_"


def _fmt(v) -> str:
    """4 significant digits; "n/a" for missing."""
    if v is None or v is pd.NA or v is pd.NaT:
        return "n/a"
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return f"{float(v):.4g}" if math.isfinite(v) else "n/a"
    return str(v).replace("|", "\\|").replace("\n", " ")


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _levels(res: Results, factor: str) -> list:
    """The factor's distinct values in the design: in the manifest's order when it lists
    them, else sorted."""
    values = res.design[factor].dropna().unique().tolist()
    spec = (res.manifest.get("factors") or {}).get(factor)
    if isinstance(spec, list):
        ordered = [v for v in spec if v in values]
        if len(ordered) == len(values):
            return ordered
    try:
        return sorted(values)
    except TypeError:
        return values


def _log_axis(res: Results, factor: str) -> bool:
    spec = (res.manifest.get("factors") or {}).get(factor)
    if isinstance(spec, dict) and str(spec.get("distribution", "")).startswith("log"):
        return bool((res.design[factor].dropna() > 0).all())
    return False


def _continuous(res: Results, factor: str) -> bool:
    col = res.design[factor]
    return _is_numeric(col) and col.nunique(dropna=True) > MAX_LEVELS


def marginal_means(res: Results, metric: str, factor: str) -> pd.DataFrame:
    """The metric at each level of the factor, averaged over the design points at that level
    (over the other factors' levels): x, mean, ci_low, ci_high, n.

    With common random numbers, replicate r of every point shares its seed, so runs are
    independent only across replicates: the units are the replicates (for each replicate
    index, the mean over the level's design points), and with a single replicate the design
    points. Without, every run is independent and is a unit. The interval is over the units,
    by the metric's kind; n counts them. A continuous factor (more than MAX_LEVELS values) is cut
    into up to BINS quantile bins of the design points; x is then the bin's median value."""
    ok = res.ok[["point", "replicate", metric]]
    design = res.design[["point", factor]].dropna()
    if _continuous(res, factor):
        bins = pd.qcut(design[factor], q=min(BINS, design[factor].nunique()), duplicates="drop")
        design = design.assign(_bin=bins.cat.codes)
        xs = design.groupby("_bin")[factor].median()
        key = "_bin"
        levels = list(xs.index)
        x_of = dict(zip(levels, xs.to_list(), strict=True))
    else:
        key = factor
        levels = _levels(res, factor)
        x_of = {level: level for level in levels}
    joined = ok.merge(design, on="point", how="inner")
    groups = {k: g for k, g in joined.groupby(key, sort=False)}
    rows = []
    for level in levels:
        g = groups.get(level, pd.DataFrame(columns=["point", "replicate", metric]))
        g = g[np.isfinite(g[metric].to_numpy(float))]
        units = g[metric]  # independent runs (no common random numbers)
        if res.manifest.get("common_random_numbers"):
            units = g.groupby("replicate")[metric].mean()
            if len(units) < 2:
                units = g.groupby("point")[metric].mean()
        iv = metric_interval(_values(units), metric, _seed(res))
        rows.append({"x": x_of[level], "mean": iv.mean, "ci_low": iv.low, "ci_high": iv.high})
        rows[-1]["n"] = iv.n
    table = pd.DataFrame(rows, columns=["x", "mean", "ci_low", "ci_high", "n"])
    for c in ("mean", "ci_low", "ci_high"):
        table[c] = table[c].astype(float)
    return table


def _factor_label(factor: str) -> str:
    """The factor's key and unit (sim/scenario/schema.py), for an axis."""
    p = BY_KEY.get(factor)
    unit = getattr(p, "unit", "") if p is not None else ""
    return f"{factor} ({unit})" if unit and unit not in ("-", "") else factor


def plot_marginal(res: Results, metric: str, factor: str, path: Path) -> None:
    table = marginal_means(res, metric, factor)
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    mean = table["mean"].to_numpy(float)
    lo, hi = table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float)
    continuous = _continuous(res, factor)
    if _is_numeric(res.design[factor]):
        x = table["x"].to_numpy(float)
        if continuous:
            # Every design point's mean, faint, behind the binned means.
            per_point = res.ok.groupby("point")[metric].mean()
            xy = res.design.set_index("point")[factor].reindex(per_point.index)
            ax.scatter(xy.to_numpy(float), per_point.to_numpy(float), s=6, c="#999", alpha=0.4)
        ax.fill_between(x, lo, hi, color=BLUE, alpha=0.25, lw=0, label="95 % CI")
        ax.plot(x, mean, "o-", color=BLUE, label="mean")
        if _log_axis(res, factor):
            ax.set_xscale("log")
    else:
        pos = np.arange(len(table))
        ax.vlines(pos, lo, hi, color=BLUE, lw=6, alpha=0.3, label="95 % CI")
        ax.plot(pos, mean, "o", color=BLUE, label="mean")
        ax.set_xticks(pos, [_fmt(v) for v in table["x"]])
        ax.set_xlim(-0.6, len(table) - 0.4)
    ax.set_xlabel(_factor_label(factor) + (f", {len(table)} quantile bins" if continuous else ""))
    ax.set_ylabel(axis_label(metric))
    ax.set_title(
        f"{metric_info(metric).label} ({metric})\nmean over replicates and the other factors, "
        "95 % CI",
        fontsize=10,
    )
    ax.legend(frameon=False, fontsize=8)
    save_figure(fig, path, dpi=110)


def plot_heat(res: Results, metric: str, f1: str, f2: str, path: Path) -> None:
    """Heat map of the metric's pooled mean over two factors (rows f1, columns f2)."""
    rows, cols = _levels(res, f1), _levels(res, f2)
    joined = res.ok[["point", metric]].merge(res.design[["point", f1, f2]], on="point")
    cell = joined.groupby([f1, f2])[metric].mean()
    grid = np.full((len(rows), len(cols)), np.nan)
    for i, a in enumerate(rows):
        for j, b in enumerate(cols):
            if (a, b) in cell.index:
                grid[i, j] = cell[(a, b)]
    fig = Figure(figsize=(1.6 + 0.9 * max(len(cols), 3), 1.4 + 0.6 * max(len(rows), 3)))
    fig.set_layout_engine("constrained")
    ax = fig.subplots()
    cmap = colormaps["viridis"].with_extremes(bad="#dddddd")
    masked = np.ma.masked_invalid(grid)
    im = ax.imshow(masked, cmap=cmap, origin="lower", aspect="auto")
    ax.set_xticks(np.arange(len(cols)), [_fmt(v) for v in cols], fontsize=8)
    ax.set_yticks(np.arange(len(rows)), [_fmt(v) for v in rows], fontsize=8)
    ax.set_xlabel(_factor_label(f2))
    ax.set_ylabel(_factor_label(f1))
    if grid.size <= 144 and np.isfinite(grid).any():
        lo, hi = np.nanmin(grid), np.nanmax(grid)
        for (i, j), v in np.ndenumerate(grid):
            shade = (v - lo) / (hi - lo) if hi > lo else 0.5
            colour = "black" if shade > 0.6 else "white"
            text = _fmt(v) if np.isfinite(v) else "n/a"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    fig.colorbar(im, ax=ax, label=axis_label(metric))
    ax.set_title(
        f"{metric_info(metric).label} ({metric})\nmean over replicates and the other factors",
        fontsize=10,
    )
    save_figure(fig, path, dpi=110)


def plot_indices(table: pd.DataFrame, metric: str, kind: str, path: Path) -> None:
    """Bars of S1 and ST (Sobol) or mu* and sigma (Morris) per factor, with conf. intervals."""
    pairs = (
        [("S1", "S1_conf"), ("ST", "ST_conf")]
        if kind == "sobol"
        else [("mu_star", "mu_star_conf"), ("sigma", None)]
    )
    fig = Figure(figsize=(1.8 + 0.8 * max(len(table), 3), 4.2), layout="constrained")
    ax = fig.subplots()
    pos = np.arange(len(table))
    width = 0.38
    for k, (name, conf) in enumerate(pairs):
        err = table[conf].to_numpy(float) if conf else None
        ax.bar(
            pos + (k - 0.5) * width,
            table[name].to_numpy(float),
            width,
            yerr=err,
            capsize=3,
            color=(BLUE, ORANGE)[k],
            label=name + (" (95 % CI)" if conf else ""),
        )
    ax.set_xticks(pos, list(table["factor"]), rotation=30, ha="right", fontsize=8)
    ax.axhline(0, color="#444", lw=0.8)
    unit = metric_info(metric).unit
    ax.set_ylabel(
        "Sobol index (share of variance)"
        if kind == "sobol"
        else f"elementary effect ({unit} per factor range)"
        if unit
        else "elementary effect (per factor range)"
    )
    what = "Sobol indices" if kind == "sobol" else "Morris screening"
    ax.set_title(f"{metric_info(metric).label} ({metric}): {what}", fontsize=10)
    ax.set_xlabel("factor")
    ax.legend(frameon=False, fontsize=8)
    save_figure(fig, path, dpi=110)


# --------------------------------------------------------------------------- sensitivity


def _salib():
    """SALib's Sobol and Morris analysers, or None when SALib is not installed."""
    try:
        from SALib.analyze import morris, sobol
    except ImportError:
        return None
    return sobol, morris


def _problem(manifest: dict) -> dict:
    raw = manifest.get("salib_problem")
    if not isinstance(raw, dict) or "names" not in raw or "bounds" not in raw:
        raise ReportError("the manifest has no salib_problem with names and bounds")
    problem = json.loads(json.dumps(raw))  # a deep copy: SALib adds keys to it
    problem["num_vars"] = int(problem.get("num_vars", len(problem["names"])))
    return problem


def _output_names(problem: dict) -> list[str]:
    groups = problem.get("groups")
    return list(dict.fromkeys(groups)) if groups else list(problem["names"])


def _second_order(manifest: dict, problem: dict, rows: int) -> bool:
    """Whether the Saltelli samples include the second-order rows: the manifest says so, or
    the number of rows is a multiple of 2D + 2 (SALib's default), else not."""
    for where in (manifest, problem):
        if "calc_second_order" in where:
            return bool(where["calc_second_order"])
    d = len(_output_names(problem))
    return rows % (2 * d + 2) == 0


def _analysis_seed(manifest: dict) -> int:
    return int(manifest.get("root_seed") or 0) % (2**32) or 1


def sensitivity(res: Results, summary: pd.DataFrame) -> tuple[pd.DataFrame | None, list[str]]:
    """Sobol or Morris indices per metric from the per-point means (SALib order = point
    order); None and notes when not applicable or not computable."""
    kind = res.manifest.get("design_kind")
    if kind not in ("sobol", "morris"):
        return None, []
    modules = _salib()
    if modules is None:
        return None, [
            f"{kind.capitalize()} indices not computed: SALib is not installed "
            f"(install the extra with `{SALIB_HINT}`)."
        ]
    sobol, morris = modules
    try:
        problem = _problem(res.manifest)
    except ReportError as exc:
        return None, [f"{kind.capitalize()} indices not computed: {exc}."]
    samples = np.asarray(res.manifest.get("salib_samples") or [], float)
    n = len(samples)
    points = summary.set_index("point")
    if n == 0 or not set(range(n)) <= set(points.index):
        return None, [
            f"{kind.capitalize()} indices not computed: the manifest's salib_samples "
            f"({n} rows) do not match the design points ({len(points)})."
        ]
    notes, rows = [], []
    names = _output_names(problem)
    second = _second_order(res.manifest, problem, n) if kind == "sobol" else False
    for m in res.metrics:
        y = points.loc[list(range(n)), m].to_numpy(float)
        missing = int((~np.isfinite(y)).sum())
        if not missing and np.ptp(y) == 0:
            notes.append(
                f"{kind.capitalize()} indices of `{m}` not computed: the same mean at every "
                "design point (no variance to apportion)."
            )
            continue
        if missing:
            notes.append(
                f"{kind.capitalize()} indices of `{m}` not computed: {missing} of {n} "
                "design points have no mean (no finished run or all values missing)."
            )
            continue
        try:
            with np.errstate(all="ignore"):
                if kind == "sobol":
                    si = sobol.analyze(
                        json.loads(json.dumps(problem)),
                        y,
                        calc_second_order=second,
                        seed=_analysis_seed(res.manifest),
                    )
                    keys = ("S1", "S1_conf", "ST", "ST_conf")
                else:
                    si = morris.analyze(
                        json.loads(json.dumps(problem)),
                        samples,
                        y,
                        num_levels=int(
                            res.manifest.get("num_levels", problem.get("num_levels", 4))
                        ),
                        seed=_analysis_seed(res.manifest),
                    )
                    keys = ("mu", "mu_star", "sigma", "mu_star_conf")
        except Exception as exc:  # SALib raises bare RuntimeError/ValueError on bad shapes
            notes.append(f"{kind.capitalize()} indices of `{m}` not computed: {_first_line(exc)}")
            continue
        for j, name in enumerate(names):
            rows.append({"metric": m, "factor": name, **{k: float(si[k][j]) for k in keys}})
    cols = ["metric", "factor"] + (
        ["S1", "S1_conf", "ST", "ST_conf"]
        if kind == "sobol"
        else ["mu", "mu_star", "sigma", "mu_star_conf"]
    )
    if kind == "sobol":
        notes.insert(
            0,
            f"Sobol indices from SALib ({'with' if second else 'without'} second-order "
            "samples); `*_conf` is the half-width of the 95 % bootstrap interval.",
        )
    return pd.DataFrame(rows, columns=cols), notes


# --------------------------------------------------------------------------- writing


def _csv(table: pd.DataFrame) -> str:
    return table.to_csv(index=False, lineterminator="\n")


def _md_table(header: list[str], rows: list[list], raw_first: bool = False) -> list[str]:
    """A Markdown table; ``raw_first``: the first cell of each row is already Markdown."""
    lines = ["| " + " | ".join(_fmt(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        cells = [str(row[0]) if raw_first else _fmt(row[0]), *(_fmt(v) for v in row[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _cell(mean, lo, hi, n: int | None = None) -> str:
    missing = mean is None or (isinstance(mean, float) and not math.isfinite(mean))
    text = "n/a" if missing else f"{_fmt(mean)} [{_fmt(lo)}, {_fmt(hi)}]"
    return text if n is None else f"{text} (n={n})"


def _factor_line(name: str, spec) -> str:
    if isinstance(spec, list):
        shown = ", ".join(_fmt(v) for v in spec[:8]) + (", ..." if len(spec) > 8 else "")
        return f"`{name}`: {shown}"
    if isinstance(spec, dict) and "min" in spec:
        dist = spec.get("distribution", "uniform")
        return f"`{name}`: {_fmt(spec['min'])} to {_fmt(spec['max'])} ({dist})"
    return f"`{name}`"


def _figure_plan(res: Results) -> tuple[list[str], list[str], list[tuple], list[str]]:
    """Metrics, factors and factor pairs to draw, and notes on what was left out."""
    notes = []
    factors = res.factors[:MAX_FACTOR_FIGURES]
    if len(factors) < len(res.factors):
        notes.append(
            f"Marginal figures for the first {len(factors)} of {len(res.factors)} factors "
            f"(left out: {', '.join(res.factors[len(factors) :])})."
        )
    # Heat maps need a grid of levels: factorial designs only (sampled designs have scattered
    # points even when a factor takes few values).
    few = [f for f in res.factors if 2 <= res.design[f].nunique(dropna=True) <= MAX_LEVELS]
    sampled = res.manifest.get("design_kind") in SAMPLED_DESIGNS
    pairs = [] if sampled else list(itertools.combinations(few, 2))
    if len(pairs) > MAX_HEAT_PAIRS:
        notes.append(f"Heat maps for the first {MAX_HEAT_PAIRS} of {len(pairs)} factor pairs.")
        pairs = pairs[:MAX_HEAT_PAIRS]
    return list(res.metrics), factors, pairs, notes


MAX_LEDGER_PANELS = 16  # ledgers drawn side by side in the report's ledger.png


def _ledger_mean(rows: pd.DataFrame, seed: int) -> dict:
    """The mean of each ledger metric over ``rows`` (runs), with the 95 % interval of each
    path's bystander total (a count: sim.runs.stats)."""
    out = {}
    for c in rows.columns:
        if str(c).startswith(("privacy.exposed.", "privacy.exposed_offenders.")):
            values = pd.to_numeric(rows[c], errors="coerce").to_numpy(float)
            out[c] = float(np.nanmean(values)) if np.isfinite(values).any() else None
            if str(c).endswith(".total"):
                iv = metric_interval(values, str(c), seed)
                out[f"{c}.ci_low"], out[f"{c}.ci_high"] = iv.low, iv.high
    return out


def ledger_panels(res: Results) -> tuple[list[tuple[str, dict]], list[str], str]:
    """The ledgers a sweep's report draws: one per design point when there are at most
    ``MAX_LEDGER_PANELS``, else one per level of the first factor with few levels (averaged
    over the other factors). Returns (panels, group names, what a panel is), or no panels when
    the runs hold no ledger metrics."""
    runs = res.ok
    groups = [
        str(c)[len("privacy.exposed_any.") :]
        for c in runs.columns
        if str(c).startswith("privacy.exposed_any.")
    ]
    paths = [f"privacy.exposed.{p}.{g}" for p in LEDGER_PATHS for g in groups]
    if not groups or not all(c in runs.columns for c in paths) or runs.empty:
        return [], groups, ""
    seed = _seed(res)
    if len(res.design) <= MAX_LEDGER_PANELS:
        panels = []
        for _, point in res.design.iterrows():
            label = ", ".join(f"{_factor_label(f)} = {_fmt(point[f])}" for f in res.factors)
            rows = runs[runs["point"] == point["point"]]
            if len(rows):
                panels.append((label or f"point {int(point['point'])}", _ledger_mean(rows, seed)))
        return panels, groups, "design point"
    for f in res.factors:
        levels = _levels(res, f)
        if 2 <= len(levels) <= MAX_LEDGER_PANELS:
            panels = [
                (f"{_factor_label(f)} = {_fmt(v)}", _ledger_mean(runs[runs[f] == v], seed))
                for v in levels
                if (runs[f] == v).any()
            ]
            return panels, groups, f"level of {f} (over the other factors)"
    return [], groups, ""


def _metric_cell(name: str) -> str:
    info = metric_info(name)
    return f"`{name}` ({info.unit})" if info.unit else f"`{name}`"


def _summary_md(res: Results, summary: pd.DataFrame) -> list[str]:
    """The design points (one row each), then one metric per row with the design points as
    columns, POINT_COLUMNS points per table."""
    md = ["## Design points", ""]
    header = ["point", *res.factors, "ok", "failed"]
    rows = [
        [int(r["point"]), *(r[f] for f in res.factors), int(r["n_ok"]), int(r["n_failed"])]
        for r in summary.to_dict("records")
    ]
    md += _md_table(header, rows)
    md += [
        "",
        "## Summary by metric",
        "",
        "Each cell: the mean over the point's finished replicates with its 95 % interval, made "
        "by the metric's kind so that it stays within the metric's range (docs/metrics.md, "
        '"Kinds, units and intervals"); `(n=k)` when only k of the finished replicates had '
        "a value (a ratio with a zero denominator is undefined). 4 significant digits; full "
        "precision in `summary.csv` (wide) and `summary_long.csv` (one row per point and "
        "metric).",
    ]
    records = summary.to_dict("records")
    for start in range(0, len(records), POINT_COLUMNS):
        chunk = records[start : start + POINT_COLUMNS]
        if len(records) > POINT_COLUMNS:
            md += ["", f"Points {chunk[0]['point']} to {chunk[-1]['point']}:"]
        md.append("")
        header = ["metric", *(f"point {int(r['point'])}" for r in chunk)]
        rows = []
        for m in res.metrics:
            cells = []
            for r in chunk:
                n = int(r[f"{m}.n"])
                cell = _cell(r[m], r[f"{m}.ci_low"], r[f"{m}.ci_high"])
                cells.append(cell + (f" (n={n})" if n < int(r["n_ok"]) else ""))
            rows.append([_metric_cell(m), *cells])
        md += _md_table(header, rows, raw_first=True)
    return md


def write_report(
    results_dir: Path,
    out_dir: Path | None = None,
    metrics: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Summarise a sweep's results folder into ``out_dir`` (default ``results_dir/report``);
    return ``out_dir``. Raises ReportError (a ValueError with a one-line message) when the
    folder has no manifest or no runs, or a metric asked for is not in the runs. ``progress``
    is called with a short line at each stage."""

    def say(text: str) -> None:
        if progress:
            progress(text)

    results_dir = Path(results_dir)
    say(f"reading {results_dir}")
    res = load_results(results_dir, metrics)
    out = Path(out_dir) if out_dir is not None else results_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    m = res.manifest
    kind = m.get("design_kind", "unknown")

    say(f"summary: {len(res.design)} design points, {len(res.metrics)} metrics")
    summary = summary_table(res)
    atomic_write(out / "summary.csv", _csv(summary))
    atomic_write(out / "summary_long.csv", _csv(long_table(res, summary)))

    md = [f"# Sweep report: {results_dir.name}", ""]
    n_points = len(res.design)
    reps = m.get("replications")
    crn = bool(m.get("common_random_numbers"))
    md.append(
        f"- design: {kind}, {n_points} design points"
        + (f", {reps} replications each" if reps is not None else "")
        + f"; root seed {m.get('root_seed', 'n/a')}; "
        f"common random numbers: {'yes' if crn else 'no'}"
    )
    if m.get("design_hash"):
        md.append(f"- design hash: `{m['design_hash']}`")
    if m.get("base"):
        md.append(f"- base scenario: `{m['base']}`")
    ensemble = results_dir / "ensemble.json"  # sweep --ensemble (sim.runs.sweep._check_ensemble)
    if ensemble.exists():
        record = json.loads(ensemble.read_text())
        sets = record.get("sets_by_replicate", [])
        md.append(
            f"- calibrated parameters drawn from the ensemble "
            f"`{record.get('ensemble')}`: replicate r of every point "
            f"ran with the same accepted set ({len(set(sets))} sets over {len(sets)} "
            "replicates), so paired intervals hold the parameters' uncertainty too "
            '(docs/calibration.md, "Policy results over the ensemble")'
        )
    specs = m.get("factors") or {}
    md.append(
        "- factors: " + ("; ".join(_factor_line(f, specs.get(f)) for f in res.factors) or "none")
    )
    n_ok = int((res.runs["status"] == "ok").sum())
    n_failed = len(res.runs) - n_ok
    line = f"- runs: {n_ok} ok, {n_failed} failed"
    if isinstance(reps, int):
        expected = n_points * reps
        line += f", {max(expected - len(res.runs), 0)} not run, of {expected} expected"
    line += f" (from {res.batch_files} batch file(s)"
    line += (
        f"; {res.duplicates_dropped} duplicate row(s) dropped)" if res.duplicates_dropped else ")"
    )
    md.append(line)
    if "wall_seconds" in res.runs.columns:
        wall = pd.to_numeric(res.runs["wall_seconds"], errors="coerce").sum()
        md.append(f"- compute time: {wall / 3600:.3g} h over all runs")
    md.append(f"- metrics: {len(res.metrics)}")
    md += [f"- note: {n}" for n in res.notes]
    md += ["", *_summary_md(res, summary)]

    if n_failed:
        errors = res.runs.loc[res.runs["status"] != "ok"]
        messages = (
            errors["error"].fillna("(no message)").astype(str)
            if "error" in errors.columns
            else pd.Series(["(no message)"] * len(errors))
        )
        counts = messages.map(lambda s: " ".join(s.split()) or "(no message)").value_counts()
        md += ["", "## Failed runs", ""]
        md += [f"- {c} × `{msg[:200].replace('`', "'")}`" for msg, c in counts.head(10).items()]
        if len(counts) > 10:
            md.append(f"- ... and {len(counts) - 10} other message(s)")

    table, contrast_notes = contrasts(res)
    if table is not None:
        say("contrasts")
        atomic_write(out / "contrasts.csv", _csv(table))
        md += ["", *_contrasts_md(res, table, contrast_notes)]

    if crn:
        say("paired differences")
        diffs = paired_differences(res)
        atomic_write(out / "paired_differences.csv", _csv(diffs))
        md += [
            "",
            "## Paired differences against point 0 (common random numbers)",
            "",
            "Each point minus point 0, replicate by replicate (same seeds), over the "
            "replicates both finished with a value: mean difference, 95 % Student-t interval "
            "of the paired differences, number of pairs. Full precision in "
            "`paired_differences.csv`.",
            "",
        ]
        mismatched = _seed_mismatches(res)
        if mismatched:
            md += [
                f"Warning: {mismatched} run(s) have a seed different from point 0's seed for "
                "the same replicate; those pairs do not share random numbers.",
                "",
            ]
        if 0 not in set(res.design["point"]):
            md += ["Point 0 is not in the design: no differences.", ""]
        by_point = {p: g.set_index("metric") for p, g in diffs.groupby("point", sort=True)}
        points = list(by_point)
        for start in range(0, len(points), POINT_COLUMNS):
            chunk = points[start : start + POINT_COLUMNS]
            rows = []
            for x in res.metrics:
                cells = []
                for p in chunk:
                    g = by_point[p]
                    cells.append(
                        _cell(
                            g.at[x, "mean_difference"],
                            g.at[x, "ci_low"],
                            g.at[x, "ci_high"],
                            int(g.at[x, "n_pairs"]),
                        )
                    )
                rows.append([_metric_cell(x), *cells])
            header = ["metric", *(f"point {p} - point 0" for p in chunk)]
            md += [*_md_table(header, rows, raw_first=True), ""]

    figures: dict[str, list[str]] = {}
    used: set[str] = set()

    def figure_path(stem: str) -> Path:
        name, k = f"{stem}.png", 2
        while name in used:
            name, k = f"{stem}-{k}.png", k + 1
        used.add(name)
        return out / name

    indices, sens_notes = sensitivity(res, summary)
    if kind in ("sobol", "morris"):
        say(f"{kind} indices")
        title = "Sobol indices" if kind == "sobol" else "Morris screening"
        md += ["", f"## {title}", ""]
        md += [f"- {n}" for n in sens_notes]
        if indices is not None:
            atomic_write(out / f"{kind}.csv", _csv(indices))
            md.append(f"- written to `{kind}.csv`.")
            cols = list(indices.columns)
            md += ["", *_md_table(cols, indices.to_numpy().tolist())]

    fig_metrics, fig_factors, pairs, fig_notes = _figure_plan(res)
    skipped = []
    for i, metric in enumerate(fig_metrics, start=1):
        say(f"figures: {i}/{len(fig_metrics)} metrics ({metric})")
        if not np.isfinite(res.ok[metric].to_numpy(float)).any():
            skipped.append(metric)
            continue
        drawn = figures.setdefault(metric, [])
        for f in fig_factors:
            if res.design[f].nunique(dropna=True) < 1:
                continue
            path = figure_path(f"{safe_name(metric)}__vs__{safe_name(f)}")
            plot_marginal(res, metric, f, path)
            drawn.append(path.name)
        for f1, f2 in pairs:
            path = figure_path(f"{safe_name(metric)}__heat__{safe_name(f1)}__{safe_name(f2)}")
            plot_heat(res, metric, f1, f2, path)
            drawn.append(path.name)
        if indices is not None and len(indices):
            table = indices[indices["metric"] == metric]
            if len(table):
                path = figure_path(f"{safe_name(metric)}__{kind}")
                plot_indices(table, metric, kind, path)
                drawn.append(path.name)

    md += ["", "## Figures", ""]
    md.append(
        "`<metric>__vs__<factor>.png`: the metric's mean at each level of the factor, averaged "
        "over the design points at that level (over the other factors' levels), with a 95 % "
        "band: with common random numbers over the replicates (for each replicate, the mean "
        "over those points: runs of different points share seeds, so the replicate, not the "
        "run, is the unit), without over the runs (each independent); a "
        f"factor with more than {MAX_LEVELS} distinct values is cut into quantile bins (faint "
        "dots: each point's mean). `<metric>__heat__<f1>__<f2>.png` (factorial designs): the "
        "mean over two factors with few levels."
    )
    md.append("")
    md += [f"- {n}" for n in fig_notes]
    if skipped:
        md.append(f"- No figures for metrics without any value: {', '.join(skipped)}.")
    for metric, names in figures.items():
        links = ", ".join(f"[{n}]({n})" for n in names) or "none"
        md.append(f"- `{metric}`: {links}")
    if not figures:
        md.append("- none drawn.")
    panels, groups, per = ledger_panels(res)
    if panels:
        say("ledger figure")
        save_ledger_panels(
            panels,
            groups,
            out / "ledger.png",
            f"The privacy ledger of {results_dir.name}: people exposed per path, by group",
        )
        md += [
            "",
            "## The privacy ledger",
            "",
            f"[ledger.png](ledger.png): one ledger per {per}: the distinct people exposed "
            "through each path by which footage left its owner, bystanders stacked by group "
            "and offenders hatched on top, mean per run, with the 95 % interval of each "
            "path's bystander total (docs/metrics.md, `privacy.exposed.<path>.<group>`).",
        ]
    if "requests.regime" in res.factors and res.manifest.get("common_random_numbers"):
        say("policy figure")  # the policy question's own figure and paired tables
        try:
            write_policy(results_dir, out / "policy")
        except ValueError as exc:
            md += ["", f"No policy figure: {exc}."]
        else:
            md += [
                "",
                "## The regimes compared",
                "",
                "[policy/policy.png](policy/policy.png): per opt-out rate and bias, footage "
                "obtained against bystanders exposed by group, each regime paired with the same "
                "replicates of the reference regime (95 % intervals); tables in "
                "[policy/policy_pairs.md](policy/policy_pairs.md) (`python -m "
                "sim.runs.policy_figure`).",
            ]
    atomic_write(out / "summary.md", "\n".join(md) + "\n")
    say(f"written: {out}")
    return out


def _contrasts_md(res: Results, table: pd.DataFrame, notes: list[str]) -> list[str]:
    md = [
        "## Contrasts",
        "",
        "The experiment's `[report] contrasts`: b - a of one factor, each design point with "
        "b against the point with a and the same values of the other factors, replicate by "
        'replicate (the same seeds under common random numbers); "all": for each replicate '
        "the mean difference over the matched points, the interval over replicates. Mean "
        "difference [95 % Student-t interval of the paired differences] (n = pairs). Full "
        "precision in `contrasts.csv`.",
        "",
    ]
    md += [f"- {n}" for n in notes]
    for name, g in table.groupby("contrast", sort=False):
        matched = list(dict.fromkeys(g["matched"]))
        matched = ["all", *[x for x in matched if x != "all"]] if "all" in matched else matched
        md += ["", f"### {name}", ""]
        rows = []
        for metric in res.metrics:
            sub = g[g["metric"] == metric].set_index("matched")
            cells = [
                _cell(
                    sub.at[x, "mean_difference"],
                    sub.at[x, "ci_low"],
                    sub.at[x, "ci_high"],
                    int(sub.at[x, "n_pairs"]),
                )
                for x in matched
            ]
            rows.append([_metric_cell(metric), *cells])
        md += _md_table(["metric", *matched], rows, raw_first=True)
    return md
