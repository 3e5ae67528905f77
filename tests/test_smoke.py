"""The default model runs end to end and its metrics are well formed."""

from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario


def test_default_model_runs_one_day():
    model = NeighbourhoodModel(Scenario().replace({"time.days": 1.0}))
    m = model.run()
    assert m["homes.count"] > 900
    assert m["pedestrians.count"] == 3000
    assert m["trips.completed"] > 1000
    assert 0 < m["coverage.street_fraction"] < 1
