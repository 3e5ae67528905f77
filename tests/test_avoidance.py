"""Avoidance (sim/model/avoidance.py), the worked example of docs/extending.md: the least-watched
destination against a brute-force count of every camera's view of every route, the keyed draws
that leave everyone else's walks alone, and the effect on exposure by group."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario, ScenarioError

SMALL = {"time.days": 1, "population.pedestrians": 800, "world.blocks_x": 5, "world.blocks_y": 4}


def model(**avoid) -> NeighbourhoodModel:
    return NeighbourhoodModel(Scenario({**SMALL, "avoidance.probability": avoid}), rng=3)


def watched_by_hand(m: NeighbourhoodModel, route: int) -> float:
    """Metres of ``route`` in view, summed over cameras: piece by piece, camera by camera."""
    cams, total = m.cameras, 0.0
    for edge, a, b in m.routes.pieces(route):
        for c in np.flatnonzero(cams.sees_street() & (cams.edge == edge)):
            lo, hi = max(min(a, b), cams.view_lo[c]), min(max(a, b), cams.view_hi[c])
            total += max(hi - lo, 0.0)
    return total


def test_off_by_default_registers_nothing():
    m = NeighbourhoodModel(Scenario(SMALL), rng=3)
    assert m.population._outing_hooks == []
    assert m.metrics()["avoidance.diverted.minority"] == 0


def test_the_route_chosen_is_the_least_watched_of_the_home():
    m = model(minority=1.0)
    pop = m.population
    seen = 0
    for person, route in zip(m.engine.trips.person, m.engine.trips.route, strict=True):
        slots = pop.home_out[pop.home[person]]
        if pop.group[person] != 1 or route not in slots:  # minority residents' routes out
            continue
        options = slots[slots >= 0]
        metres = [watched_by_hand(m, r) for r in options]
        assert watched_by_hand(m, route) == pytest.approx(min(metres), abs=1e-6)
        seen += 1
    assert seen > 50
    assert m.avoidance.diverted[1] > 0 and m.avoidance.diverted[0] == 0


def test_others_walk_as_before_and_avoiders_are_seen_less():
    """Keyed draws: switching avoidance on for one group changes no one else's walks. The
    avoiders' time on camera falls (four seeds, 2 days, every minority resident avoids)."""
    drop = []
    for seed in range(4):
        runs = []
        for avoid in ({}, {"minority": 1.0}):
            s = Scenario({**SMALL, "time.days": 2, "avoidance.probability": avoid})
            runs.append(NeighbourhoodModel(s, rng=seed).run())
        off, on = runs
        assert on["coverage.exposure_fraction.majority"] == pytest.approx(
            off["coverage.exposure_fraction.majority"], rel=1e-12
        )
        drop.append(
            off["coverage.exposure_fraction.minority"] - on["coverage.exposure_fraction.minority"]
        )
    assert min(drop) > 0, drop


def test_an_unknown_group_is_refused_with_its_key():
    with pytest.raises(ScenarioError, match=r"avoidance\.probability"):
        Scenario({"avoidance.probability": {"nobody": 0.5}})
    with pytest.raises(ScenarioError, match=r"avoidance\.probability"):
        Scenario({"avoidance.probability": {"minority": 1.5}})
