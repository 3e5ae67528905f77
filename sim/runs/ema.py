"""An adapter for the EMA Workbench (the ``ema`` extra): the simulation as an
``ema_workbench.Model``, so researchers can use its samplers, evaluators and scenario discovery
(PRIM, CART) on this model.

    from sim.runs.ema import ema_model
    from ema_workbench import perform_experiments
    model = ema_model("scenarios/default.toml",
                      {"requests.opt_out": (0.0, 0.5), "requests.regime": ["portal", "rfa"]},
                      ["footage.clips_shared", "reports.disparity_ratio"])
    experiments, outcomes = perform_experiments(model, scenarios=50)

EMA names must be Python identifiers (EMA Workbench 3 refuses others), so inside EMA every
dotted name has its dots as double underscores (``cameras.adoption`` is ``cameras__adoption``;
``ema_name``): the one exception to the dotted spelling of the other outputs. ``dotted``
turns EMA's results back into the dotted names:

    experiments, outcomes = dotted(experiments, outcomes)   # "cameras.adoption", ...
Uncertainties are scenario keys: a (low, high) pair for a numeric key (integer keys become
IntegerParameter), a list for a categorical one. A ``seed`` uncertainty (an integer range) can
be added to sample seeds; otherwise every experiment uses the base scenario's seed. Outcomes
are metric names (docs/metrics.md); a missing value (a ratio with a zero denominator) is NaN.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario, ScenarioError, load
from sim.scenario.schema import BY_KEY, INT


def ema_name(dotted: str) -> str:
    """The EMA name (a Python identifier) of a scenario key or metric."""
    return dotted.replace(".", "__")


def dotted_name(name: str) -> str:
    """The dotted scenario key or metric of an EMA name (the inverse of ``ema_name``)."""
    return name.replace("__", ".")


def dotted(experiments, outcomes: dict) -> tuple[Any, dict]:
    """EMA's results (the experiments table and the outcomes) with dotted names."""
    experiments = experiments.rename(columns=dotted_name)
    return experiments, {dotted_name(k): v for k, v in outcomes.items()}


class _Run:
    """The model function EMA calls: picklable, so multiprocessing evaluators work."""

    def __init__(self, base: Scenario, outcomes: list[str]) -> None:
        self.values = dict(base)
        self.base_dir = str(base.base_dir)
        self.outcomes = outcomes

    def __call__(self, **kwargs: Any) -> dict[str, float]:
        params = Scenario(self.values, base_dir=Path(self.base_dir))
        seed = kwargs.pop("seed", None)
        changes = {dotted_name(k): v for k, v in kwargs.items()}
        params = params.replace({k: _native(k, v) for k, v in changes.items()}, origin="ema")
        metrics = NeighbourhoodModel(params, rng=None if seed is None else int(seed)).run()
        return {
            ema_name(m): math.nan if metrics.get(m) is None else float(metrics[m])
            for m in self.outcomes
        }


def _native(key: str, value: Any) -> Any:
    kind = BY_KEY[key].kind
    if kind == INT:
        return int(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def ema_model(
    base: str | Path | Scenario,
    uncertainties: dict[str, Any],
    outcomes: list[str],
    name: str = "ringsim",
):
    """The simulation as an EMA Workbench model (see the module docstring)."""
    import ema_workbench as ew

    scenario = base if isinstance(base, Scenario) else load(base)
    params = []
    for key, spec in uncertainties.items():
        if key == "seed":
            params.append(ew.IntegerParameter("seed", int(spec[0]), int(spec[1])))
            continue
        if key not in BY_KEY:
            raise ScenarioError(f"ema: unknown scenario key '{key}'")
        if isinstance(spec, list):
            params.append(ew.CategoricalParameter(ema_name(key), spec))
        elif BY_KEY[key].kind == INT:
            params.append(ew.IntegerParameter(ema_name(key), int(spec[0]), int(spec[1])))
        else:
            params.append(ew.RealParameter(ema_name(key), float(spec[0]), float(spec[1])))
    model = ew.Model(name, function=_Run(scenario, list(outcomes)))
    model.uncertainties = params
    model.outcomes = [ew.ScalarOutcome(ema_name(m)) for m in outcomes]
    return model
