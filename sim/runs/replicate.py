"""Independent replications of one scenario and their summary with 95 % confidence intervals.

Replicate ``r`` of a run with root seed ``s`` uses the seed ``sim.engine.rng.derive_seed(s, r)``: a
pure
function of the two numbers, so the results are the same whatever the number of worker
processes or the order in which replications finish, and two scenarios run with the same root
seed share their replicates' seeds (common random numbers: paired comparisons).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats

from sim.engine.rng import derive_seed
from sim.runs.draws import overrides
from sim.runs.pool import map_tasks
from sim.runs.stats import metric_interval
from sim.scenario.scenario import Scenario

# name -> (switch, value when off, metric compared, name of the difference)
COUNTERFACTUALS = {
    "promotion": (
        "promotion.enabled",
        False,
        "adoption.final_fraction",
        "adoption.promotion_attributable",
    ),
}


def counterfactual_metrics(params: Scenario, seed: int, metrics: dict, which: str) -> dict:
    """Add a paired counterfactual: the same run, same seed, with one mechanism off; the
    added metric is the difference (this run minus the counterfactual)."""
    from sim.model.model import (
        NeighbourhoodModel,  # deferred: mesa and numba, not for `run.py explain`
    )

    key, off, measured, name = COUNTERFACTUALS[which]
    other = NeighbourhoodModel(params.replace({key: off}), rng=seed).run()
    return {**metrics, name: metrics[measured] - other[measured]}


def run_one(
    params: Scenario, seed: int, counterfactual: str | None = None
) -> tuple[dict, dict[str, np.ndarray]]:
    """Run one replicate (and its counterfactual, if asked); return metrics, time series."""
    from sim.model.model import (
        NeighbourhoodModel,  # deferred: mesa and numba, not for `run.py explain`
    )

    model = NeighbourhoodModel(params, rng=seed)
    metrics = model.run()
    if counterfactual:
        metrics = counterfactual_metrics(params, seed, metrics, counterfactual)
    return metrics, model.recorder.timeseries()


def run_replications(
    params: Scenario,
    replications: int,
    root_seed: int,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    counterfactual: str | None = None,
    per_replicate: list[dict] | None = None,
) -> list[tuple[int, dict, dict[str, np.ndarray]]]:
    """Run replicates 0..R-1; return (seed, metrics, time series) in replicate order.

    ``per_replicate``: keys to set in replicate r's scenario (the parameter sets drawn from a
    calibration ensemble, ``sim.runs.draws.draws``)."""
    seeds = [derive_seed(root_seed, r) for r in range(replications)]
    scenarios = [params] * replications
    if per_replicate is not None:
        scenarios = [params.replace(overrides(d), origin="--ensemble") for d in per_replicate]
    tasks = [(scenarios[r], seed, counterfactual) for r, seed in enumerate(seeds)]
    runs = map_tasks(run_one, tasks, workers, progress)
    return [(seed, *run) for seed, run in zip(seeds, runs, strict=True)]


def mean_ci(values: list[float | None], level: float = 0.95) -> tuple[float | None, ...]:
    """Mean and Student-t confidence interval of the non-missing values (the validation's
    checks; reported metrics use sim/runs/stats.py's range-respecting intervals).

    Missing values (None, e.g. a ratio with a zero denominator) are left out. With fewer than
    two values the interval is missing; with no values everything is.
    """
    x = np.array([v for v in values if v is not None and math.isfinite(v)], float)
    if len(x) == 0:
        return None, None, None
    mean = float(x.mean())
    if len(x) < 2:
        return mean, None, None
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def summarize(rows: list[dict], seed: int = 0) -> dict[str, float | int | None]:
    """For every metric: the mean under its name, ``.ci_low`` / ``.ci_high`` (95 %, by the
    metric's kind: sim/runs/stats.py), ``.n`` (replicates with a value) and, when some replicate
    had none (a ratio with a zero denominator), ``.n_undefined``. ``seed`` (the root seed)
    keys the bootstrap intervals."""
    out: dict[str, float | int | None] = {"replications": len(rows)}
    for key in sorted(set().union(*rows)):
        iv = metric_interval([r.get(key) for r in rows], key, seed)
        out[key] = iv.mean
        out[f"{key}.ci_low"] = iv.low
        out[f"{key}.ci_high"] = iv.high
        out[f"{key}.n"] = iv.n
        if iv.n_undefined:
            out[f"{key}.n_undefined"] = iv.n_undefined
    return out
