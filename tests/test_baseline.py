"""Oracle: the array model agrees in distribution with a plain per-agent Mesa implementation
of the same core (walking, recording, biased posting)."""

import numpy as np
from scipy import stats

from benchmarks.baseline import MesaBaseline
from benchmarks.semantics import CORE as CORE_SEMANTICS
from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario

# the core both implement, at a small size with enough posts to compare
CORE = {
    **CORE_SEMANTICS,
    "time.days": 0.5,
    "world.blocks_x": 6,
    "world.blocks_y": 4,
    "population.pedestrians": 1200,
    "reporting.base_rate": 0.004,
    "reporting.bias": 3.0,
    "reporting.bias_spread": 0.0,
    "reporting.gatekeeping": 0.0,
    "cameras.detection_probability": 0.7,
}
KEYS = ("coverage.exposure_fraction", "coverage.trip_recorded_fraction", "reports.total")


def test_array_model_agrees_with_the_mesa_per_agent_baseline():
    params = Scenario().replace(CORE)
    ours, theirs = {k: [] for k in KEYS}, {k: [] for k in KEYS}
    for seed in range(10):
        m = NeighbourhoodModel(params, rng=seed).run()
        b = MesaBaseline(params, rng=seed)
        while b.minute < 720:
            b.step()
        bm = b.metrics()
        assert bm["pedestrians.walk_minutes"] == m["pedestrians.walk_minutes"]  # same walks
        for k in KEYS:
            ours[k].append(m[k])
            theirs[k].append(bm[k])
    for k in KEYS:
        # paired by seed (same world and walks; only the random draws differ)
        diff = np.array(ours[k]) - np.array(theirs[k])
        p = stats.ttest_1samp(diff, 0.0).pvalue if np.any(diff) else 1.0
        assert p > 0.001, (k, ours[k], theirs[k])
        assert stats.mannwhitneyu(ours[k], theirs[k]).pvalue > 0.001, k
    # and the test can tell: halving the detection probability is rejected
    worse = Scenario().replace({**CORE, "cameras.detection_probability": 0.35})
    low = [
        NeighbourhoodModel(worse, rng=s).run()["coverage.trip_recorded_fraction"] for s in range(10)
    ]
    assert stats.ttest_rel(low, theirs["coverage.trip_recorded_fraction"]).pvalue < 0.001
