"""Intervals that respect each metric's range, and their coverage checked by simulation on
known distributions (pure numpy, no model runs, except one tiny run with rare events)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.runs import stats
from sim.runs.replicate import run_replications, summarize
from sim.runs.stats import COUNT, FRACTION, RATIO, REAL, interval, metric_info, paired_interval
from sim.scenario.scenario import Scenario

DATASETS = 400


def coverage(kind: str, draw, truth: float, n: int, seed: int) -> float:
    """Share of DATASETS simulated datasets of n replicates whose interval holds the truth."""
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(DATASETS):
        iv = interval(draw(rng, n), kind, seed=i, key="coverage")
        hits += iv.low <= truth <= iv.high
    return hits / DATASETS


@pytest.mark.parametrize("mean", [0.1, 0.5, 3.0, 20.0])
@pytest.mark.parametrize("n", [5, 10, 30])
def test_count_interval_coverage_poisson(mean, n):
    got = coverage(COUNT, lambda rng, n: rng.poisson(mean, n), mean, n, seed=int(mean * 10) + n)
    assert 0.90 <= got <= 0.995, got


@pytest.mark.parametrize("p", [0.03, 0.2, 0.5])
@pytest.mark.parametrize("n", [10, 30])
def test_fraction_interval_coverage_bernoulli_and_binomial(p, n):
    bern = coverage(FRACTION, lambda rng, n: rng.binomial(1, p, n), p, n, seed=n)
    assert 0.90 <= bern <= 1.0, bern
    # replicate fractions of 200 trials each: far less spread than Bernoulli
    frac = coverage(FRACTION, lambda rng, n: rng.binomial(200, p, n) / 200, p, n, seed=n + 1)
    assert 0.90 <= frac <= 0.99, frac


def test_overdispersed_counts_and_skewed_ratios():
    mu, k = 4.0, 1.0  # negative binomial: variance 20
    nb = coverage(COUNT, lambda rng, n: rng.negative_binomial(k, k / (k + mu), n), mu, 10, 7)
    assert 0.90 <= nb <= 0.99, nb
    truth = math.exp(0.5**2 / 2)  # mean of a lognormal(0, 0.5)
    ratio = coverage(RATIO, lambda rng, n: rng.lognormal(0, 0.5, n), truth, 20, 8)
    assert 0.90 <= ratio <= 0.99, ratio


def test_intervals_stay_in_range_with_rare_events():
    rng = np.random.default_rng(3)
    for _ in range(200):
        counts = rng.poisson(0.05, 10)
        c = interval(counts, COUNT)
        assert 0 <= c.low <= c.mean <= c.high
        fractions = rng.binomial(1, 0.02, 10)
        f = interval(fractions, FRACTION)
        assert 0 <= f.low <= f.mean <= f.high <= 1
        ratios = np.where(rng.random(10) < 0.5, 0.0, rng.lognormal(0, 2, 10))
        r = interval(ratios, RATIO, seed=1, key="r")
        assert 0 <= r.low <= r.mean <= r.high
    zero = interval([0] * 10, COUNT)
    assert zero.low == 0 and zero.high > 0  # no events seen is not "certainly none"
    ones = interval([1.0] * 10, FRACTION)
    assert ones.high == 1 and ones.low < 1


def test_undefined_values_counted_and_n_reported():
    iv = interval([1.2, None, 0.8, float("nan"), 1.0], RATIO, seed=1, key="x")
    assert (iv.n, iv.n_undefined) == (3, 2)
    rows = [
        {"r": 1.0, "police.stops": 2},
        {"r": None, "police.stops": 3},
        {"r": 2.0, "police.stops": 0},
    ]
    out = summarize(rows, seed=4)
    assert out["r.n"] == 2 and out["r.n_undefined"] == 1
    assert out["police.stops.n"] == 3 and "police.stops.n_undefined" not in out
    assert out["police.stops.ci_low"] >= 0


def test_bootstrap_is_keyed_and_deterministic():
    x = [0.5, 1.5, 0.9, 2.2, 1.1, 0.7]
    a = interval(x, RATIO, seed=9, key="m")
    assert a == interval(x, RATIO, seed=9, key="m")
    assert a != interval(x, RATIO, seed=10, key="m")


def test_paired_interval_identical_runs_exactly_zero_and_signed():
    same = paired_interval([0.0] * 8)
    assert (same.mean, same.low, same.high) == (0.0, 0.0, 0.0)
    d = paired_interval([-3.0, -2.5, -2.8, -3.2])
    assert d.high < 0 and d.method == stats.PAIRED_METHOD


def test_metric_info_resolves_groups_and_unknown_names():
    assert metric_info("police.stops.minority").kind == COUNT
    assert "minority" in metric_info("coverage.exposure_fraction.minority").label
    assert metric_info("no.such_metric").kind == REAL


def test_replicated_rare_events_intervals_within_range():
    params = Scenario().replace(
        {
            "time.days": 0.25,
            "population.pedestrians": 300,
            "world.blocks_x": 4,
            "world.blocks_y": 3,
        }
    )
    runs = run_replications(params, 4, 7)
    out = summarize([m for _, m, _ in runs], seed=7)
    checked = 0
    for key in {k for _, m, _ in runs for k in m}:
        lo, hi, kind = out[f"{key}.ci_low"], out[f"{key}.ci_high"], metric_info(key).kind
        if lo is None:
            continue
        checked += 1
        if kind in (COUNT, RATIO, stats.AMOUNT):
            assert lo >= 0, (key, lo)
        if kind == FRACTION:
            assert 0 <= lo <= hi <= 1, (key, lo, hi)
        assert out[f"{key}.n"] + out.get(f"{key}.n_undefined", 0) == 4
    assert checked > 40
    assert out["police.stops.ci_low"] >= 0


def test_run_with_replications_writes_n_and_parameters(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    import pyarrow.parquet as pq

    root = Path(__file__).resolve().parents[1]
    small = ["time.days=0.25", "population.pedestrians=300", "world.blocks_x=4"]
    args = [sys.executable, str(root / "run.py"), "run", str(root / "scenarios/default.toml")]
    args += [x for s in small for x in ("--set", s)]
    proc = subprocess.run(
        [*args, "--replications", "3", "--out", str(tmp_path / "o"), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    for key in ("cameras.count", "reports.disparity_ratio", "coverage.street_fraction"):
        assert metrics[f"{key}.n"] + metrics.get(f"{key}.n_undefined", 0) == 3
    reps = pq.read_table(tmp_path / "o" / "replications.parquet").to_pandas()
    assert (reps["param:world.blocks_x"] == 4).all()
    assert (reps["param:cameras.adoption"] >= 0).all() and "cameras.count" in reps


def test_metric_names_are_what_a_run_writes():
    """The sweep's fixed schema (sim.runs.stats.metric_names) is exactly the metrics of a run."""
    from sim.model.model import NeighbourhoodModel

    params = Scenario().replace(
        {
            "time.days": 0.02,
            "population.pedestrians": 30,
            "population.groups": {"a": 0.5, "b": 0.3, "c": 0.2},
        }
    )
    written = set(NeighbourhoodModel(params).run())
    assert set(stats.metric_names(["a", "b", "c"])) == written
    assert len(stats.metric_names(["a", "b", "c"])) == len(written)
