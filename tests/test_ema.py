"""The EMA Workbench adapter runs the model on EMA's own samples."""

import numpy as np
import pytest

ew = pytest.importorskip("ema_workbench", reason="pip install -e '.[ema]'")

from sim.runs.ema import dotted, ema_model, ema_name  # noqa: E402


def test_ema_workbench_runs_the_model_and_maps_uncertainties():
    model = ema_model(
        "scenarios/default.toml",
        {
            "cameras.adoption": (0.0, 0.4),
            "requests.regime": ["portal", "rfa"],
            "world.blocks_x": (3, 4),
            "seed": (1, 1000),
        },
        ["coverage.street_fraction", "cameras.count", "reports.disparity_ratio"],
    )
    model.constants = [
        ew.Constant(ema_name("time.days"), 0.05),
        ew.Constant(ema_name("population.pedestrians"), 200),
    ]
    experiments, outcomes = ew.perform_experiments(model, scenarios=4)
    assert len(experiments) == 4
    street = outcomes["coverage__street_fraction"]
    assert np.all((street >= 0) & (street <= 1))
    # more cameras where the sampled adoption is higher
    order = np.argsort(experiments["cameras__adoption"].to_numpy())
    assert outcomes["cameras__count"][order[-1]] > outcomes["cameras__count"][order[0]]
    # back to the dotted names of every other output
    experiments, outcomes = dotted(experiments, outcomes)
    assert "cameras.adoption" in experiments.columns and "requests.regime" in experiments.columns
    assert set(outcomes) == {"coverage.street_fraction", "cameras.count", "reports.disparity_ratio"}
