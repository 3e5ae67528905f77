"""Two scenarios compared with common random numbers: ``python run.py compare A.toml B.toml``.

Replicate r of A and replicate r of B use the same seed, ``derive_seed(root, r)``
(sim/runs/replicate.py), so each pair differs only by what differs between the scenarios; the
difference B - A is estimated from the pairs with Student's t interval on the paired
differences (sim/runs/stats.py), much narrower than comparing two independent samples. A scenario
compared with a copy of itself gives differences of exactly 0.

The folder written:

* ``comparison.json``: the scenarios, overrides, replications and root seed, and under
  ``metrics``, for every metric: ``a`` and ``b`` (means over the replicates with a value),
  ``diff`` (mean of the paired differences, B - A), ``ci_low`` / ``ci_high`` (its 95 %
  interval), ``n`` (pairs where both values are defined), ``method``, ``unit``;
* ``comparison.md``: the same as a table to paste (metric, unit, A, B, difference [95 % CI],
  n);
* ``differences.png``: the paired differences of the headline metrics, replicate by
  replicate, with their mean and interval;
* ``scenario_a.toml``, ``scenario_b.toml``: the resolved scenarios (every key);
* ``replications.parquet``: one row per scenario and replicate (``scenario`` "a" or "b",
  ``replicate``, ``seed``, every metric, every parameter as ``param:<key>``).

With ``--ensemble`` (``sim.validation.ensemble``) replicate r of both scenarios also shares its
calibrated
parameters, one accepted set of the ensemble; ``comparison.json`` then lists the set of every
replicate (``ensemble_sets``) and gives each metric ``range_low`` / ``range_high``, the 2.5 and
97.5 % quantiles of the paired differences over the replicates.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
from matplotlib.figure import Figure

from sim.engine.rng import derive_seed
from sim.runs.draws import overrides
from sim.runs.outputs import atomic_write, clean_number, code_version, save_figure, write_parquet
from sim.runs.plots import REFERENCE_COLOUR, SIMULATED_COLOUR
from sim.runs.replicate import run_replications
from sim.runs.stats import LEVEL, metric_info, paired_interval
from sim.scenario.scenario import Scenario

SKIP_IN_FIGURE = ("homes.count", "pedestrians.count")  # fixed by the world, not outcomes


def paired_table(
    runs_a: list[dict], runs_b: list[dict]
) -> dict[str, dict[str, float | int | str | None]]:
    """Per metric: means of A and B, the mean paired difference B - A with its interval."""
    out = {}
    for key in sorted(set().union(*runs_a, *runs_b)):
        a = [_num(m.get(key)) for m in runs_a]
        b = [_num(m.get(key)) for m in runs_b]
        diffs = [y - x for x, y in zip(a, b, strict=True) if x is not None and y is not None]
        iv = paired_interval(diffs)
        info = metric_info(key)
        out[key] = {
            "a": _mean(a),
            "b": _mean(b),
            "diff": iv.mean,
            "ci_low": iv.low,
            "ci_high": iv.high,
            "n": iv.n,
            "method": iv.method,
            "unit": info.unit,
        }
    return out


def _num(v) -> float | None:
    v = clean_number(v)
    return None if v is None or isinstance(v, str) else float(v)


def _mean(values: list[float | None]) -> float | None:
    x = [v for v in values if v is not None]
    return float(np.mean(x)) if x else None


def compare(
    a: Scenario,
    b: Scenario,
    replications: int,
    root_seed: int,
    out: Path,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    names: tuple[str, str] = ("A", "B"),
    headline: tuple[str, ...] = (),
    info: dict | None = None,
    per_replicate: list[dict] | None = None,
) -> dict:
    """Run both scenarios' replicates (paired seeds) and write the comparison into ``out``
    (an existing, empty folder); return the table of ``paired_table``.

    ``per_replicate``: the calibrated parameters of each replicate, drawn from an ensemble
    (``sim.runs.draws.draws``), the same for A and B; the table then also gives each metric's
    ``range_low`` / ``range_high``, the 2.5 and 97.5 % quantiles of the paired differences
    over the replicates: how far the effect varies over the ensemble's parameter sets."""
    done = {"a": 0, "b": 0}

    def counted(which: str):
        def tick(n: int) -> None:
            done[which] = n
            if progress:
                progress(done["a"] + done["b"])

        return tick

    run_a = run_replications(
        a, replications, root_seed, workers, counted("a"), per_replicate=per_replicate
    )
    run_b = run_replications(
        b, replications, root_seed, workers, counted("b"), per_replicate=per_replicate
    )
    metrics_a = [m for _, m, _ in run_a]
    metrics_b = [m for _, m, _ in run_b]
    table = paired_table(metrics_a, metrics_b)
    if per_replicate is not None:
        _add_ranges(table, metrics_a, metrics_b)
    doc = {
        **(info or {}),
        "code_version": code_version(),
        "a": names[0],
        "b": names[1],
        "replications": replications,
        "root_seed": root_seed,
        "seeds": [derive_seed(root_seed, r) for r in range(replications)],
        "level": LEVEL,
        "difference": "B - A, replicate by replicate (same seeds)",
        "metrics": table,
    }
    atomic_write(out / "comparison.json", json.dumps(doc, indent=2) + "\n")
    for which, params, name in (("a", a, names[0]), ("b", b, names[1])):
        header = f"Resolved scenario {which.upper()} ({name}) of a comparison"
        atomic_write(out / f"scenario_{which}.toml", params.to_toml(header))
    ensemble = None if per_replicate is None else (info or {}).get("ensemble", "an ensemble")
    atomic_write(
        out / "comparison.md",
        comparison_markdown(table, names, replications, root_seed, ensemble),
    )
    params_a, params_b = [dict(a)] * replications, [dict(b)] * replications
    if per_replicate is not None:  # each replicate's own calibrated parameters
        params_a = [{**dict(a), **overrides(d)} for d in per_replicate]
        params_b = [{**dict(b), **overrides(d)} for d in per_replicate]
    _write_replications(out / "replications.parquet", run_a, run_b, params_a, params_b)
    shown = [m for m in headline if m in table and m not in SKIP_IN_FIGURE]
    plot_differences(metrics_a, metrics_b, table, shown, names, out / "differences.png")
    return table


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _add_ranges(table: dict, metrics_a: list[dict], metrics_b: list[dict]) -> None:
    """The 2.5 and 97.5 % quantiles of each metric's paired differences (over an ensemble)."""
    for key, row in table.items():
        a = [_num(m.get(key)) for m in metrics_a]
        b = [_num(m.get(key)) for m in metrics_b]
        d = [y - x for x, y in zip(a, b, strict=True) if x is not None and y is not None]
        lo, hi = np.quantile(d, [0.025, 0.975]).tolist() if d else (None, None)
        row["range_low"], row["range_high"] = lo, hi


def comparison_markdown(
    table: dict,
    names: tuple[str, str],
    replications: int,
    root_seed: int,
    ensemble: str | None = None,
) -> str:
    lines = [
        f"# {names[1]} compared with {names[0]}",
        "",
        f"{replications} replicates of each, replicate r of both with the same seed "
        f"(common random numbers, root seed {root_seed}). Difference: {names[1]} - "
        f"{names[0]}, the mean of the replicate-by-replicate differences, with the 95 % "
        "Student-t interval of the paired differences; n: pairs where the metric is defined "
        "in both (a ratio with a zero denominator is undefined). A and B: means over the "
        "replicates with a value. 4 significant digits; full precision in comparison.json.",
    ]
    if ensemble is not None:
        lines += [
            "",
            f"Calibrated parameters drawn from the ensemble `{ensemble}`: replicate r of both "
            "scenarios ran with the same accepted parameter set (docs/calibration.md, "
            '"Policy results over the ensemble"), so the interval holds the uncertainty of '
            "the parameters as well as the simulation's: it is the interval of the effect "
            "averaged over the ensemble. Range over the ensemble: the 2.5 and 97.5 % "
            "quantiles of the replicates' paired differences (how much the effect varies from "
            "one plausible parameter set, and run, to another).",
        ]
    ranged = ensemble is not None
    extra = " range over the ensemble |" if ranged else ""
    lines += [
        "",
        f"| metric | unit | {names[0]} | {names[1]} | difference [95 % CI] |{extra} n |",
        "|---|---|---|---|---|" + ("---|" if ranged else "") + "---|",
    ]
    for key, row in table.items():
        diff = f"{_fmt(row['diff'])} [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"
        cells = [f"`{key}`", row["unit"], _fmt(row["a"]), _fmt(row["b"]), diff]
        if ranged:
            cells.append(f"[{_fmt(row.get('range_low'))}, {_fmt(row.get('range_high'))}]")
        cells.append(str(row["n"]))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _write_replications(
    path: Path, run_a: list, run_b: list, params_a: list[dict], params_b: list[dict]
):
    """One row per scenario and replicate: seed, metrics and the replicate's parameters
    (``param:<key>``, lists and tables as JSON text)."""
    rows = [("a", r, s, m) for r, (s, m, _) in enumerate(run_a)]
    rows += [("b", r, s, m) for r, (s, m, _) in enumerate(run_b)]
    keys = sorted(set().union(*(m for *_, m in rows)))
    cols = {
        "scenario": pa.array([w for w, *_ in rows], pa.string()),
        "replicate": pa.array([r for _, r, _, _ in rows], pa.int64()),
        "seed": pa.array([s for _, _, s, _ in rows], pa.int64()),
    }
    for k in keys:
        cols[k] = pa.array([_num(m.get(k)) for *_, m in rows], pa.float64())
    for k in params_a[0]:
        both = [p[k] for p in params_a] + [p.get(k) for p in params_b]
        cols[f"param:{k}"] = pa.array(
            [json.dumps(v) if isinstance(v, list | dict) else v for v in both]
        )
    write_parquet(path, pa.table(cols))


def plot_differences(
    metrics_a: list[dict],
    metrics_b: list[dict],
    table: dict,
    shown: list[str],
    names: tuple[str, str],
    path: Path,
) -> None:
    """One panel per metric: each replicate's difference B - A (dots), their mean and 95 %
    interval (bar), and zero (line)."""
    cols = 3 if len(shown) > 4 else max(len(shown), 1)
    rows = max(1, math.ceil(len(shown) / cols))
    fig = Figure(figsize=(3.6 * cols, 2.9 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    handles = None
    for ax, key in zip(axes, shown, strict=False):
        a = [_num(m.get(key)) for m in metrics_a]
        b = [_num(m.get(key)) for m in metrics_b]
        d = np.array([y - x for x, y in zip(a, b, strict=True) if x is not None and y is not None])
        row = table[key]
        jitter = np.linspace(-0.15, 0.15, len(d)) if len(d) > 1 else np.zeros(len(d))
        dots = ax.scatter(
            jitter, d, s=14, color=REFERENCE_COLOUR, alpha=0.7, label="one replicate pair"
        )
        zero = ax.axhline(0, color="#444", lw=0.8, ls="--", label="no difference")
        mean = None
        if row["diff"] is not None:
            lo = row["ci_low"] if row["ci_low"] is not None else row["diff"]
            hi = row["ci_high"] if row["ci_high"] is not None else row["diff"]
            mean = ax.errorbar(
                [0.45],
                [row["diff"]],
                yerr=[[row["diff"] - lo], [hi - row["diff"]]],
                fmt="o",
                color=SIMULATED_COLOUR,
                capsize=4,
                label="mean difference, 95 % CI",
            )
        info = metric_info(key)
        ax.set_title(f"{info.label}\n{key} (n={row['n']})", fontsize=8)
        ax.set_ylabel(f"difference ({info.unit})" if info.unit else "difference", fontsize=8)
        if not len(d):
            ax.text(0.5, 0.5, "undefined in every pair", ha="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_xlim(-0.4, 0.7)
        if handles is None and mean is not None:
            handles = [dots, mean, zero]
    for ax in axes[len(shown) :]:
        ax.set_axis_off()
    if not shown:
        axes[0].text(0.5, 0.5, "no headline metric to show", ha="center", va="center")
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize=8)
    fig.suptitle(
        f"Paired differences {names[1]} - {names[0]} (same seeds per replicate)", fontsize=10
    )
    save_figure(fig, path, dpi=110)
