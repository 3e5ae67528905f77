"""Police attention against Ensign et al. 2018's urn (``sim.validation.validate``'s ``police.urn_*``
checks): the closed-form fixed point, the runaway, the fixed point with reports, the
correction, and that the checks fail on a wrong formula or a broken allocation; the preset
``ensign_urn`` and its figure, ``attention.png``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from sim.model.model import NeighbourhoodModel
from sim.model.police import PoliceAgency, urn_fixed_point
from sim.runs import attention_figure
from sim.scenario.scenario import load
from sim.ui import cli
from sim.validation import validate


@pytest.fixture
def fresh():
    """Broken mechanisms must not reach (or leave) cached simulations."""
    validate.clear_cache()
    yield
    validate.clear_cache()


def _balance(d_a, d_b, r_a, r_b):
    """Expected balls of A added minus p times all added: zero at the urn's limit."""
    return lambda p: (d_a * p + r_a) - p * (d_a * p + d_b * (1 - p) + r_a + r_b)


@pytest.mark.parametrize("seed", range(5))
def test_closed_form_is_the_root_of_the_urns_balance(seed):
    rng = np.random.default_rng(seed)
    d_a, d_b, r_a, r_b = rng.uniform(0.1, 5, 4)
    p = urn_fixed_point(d_a, d_b, r_a, r_b)
    assert 0 < p < 1
    assert p == pytest.approx(brentq(_balance(d_a, d_b, r_a, r_b), 0, 1), abs=1e-9)


def test_closed_form_limits():
    # the paper's cases: discoveries alone send everything to the zone with more crime ...
    assert urn_fixed_point(6, 4, 0, 0) == pytest.approx(1.0)
    assert urn_fixed_point(4, 6, 0, 0) == pytest.approx(0.0)
    # ... equal discovery leaves the reports' share; reports pull toward it
    assert urn_fixed_point(3, 3, 1, 3) == pytest.approx(0.25)
    # d = (0.6, 0.4), r = d: (p^2 + 4 p - 3 = 0)
    assert urn_fixed_point(0.6, 0.4, 0.6, 0.4) == pytest.approx(math.sqrt(7) - 2)
    # the check's rates: 20 % reported, true share 0.6
    assert validate.urn_expected(validate._urn_params("reported")) == pytest.approx(0.75)
    assert validate.urn_expected(validate._urn_params("corrected")) == pytest.approx(0.6)


def test_attention_runs_away_without_reports(fresh):
    check = validate.urn_runaway("quick")
    assert check.passed, check.detail
    assert check.observed > 0.99


def test_attention_settles_at_the_fixed_point_with_reports(fresh):
    check = validate.urn_fixed_point_check("quick")
    assert check.passed, check.detail
    assert check.observed == pytest.approx(0.75, abs=0.03)
    # the same runs against the true share (a learner without the loop) fail
    wrong = validate.urn_fixed_point_check("quick", expected_fn=lambda params: 0.6)
    assert not wrong.passed


def test_correction_recovers_the_true_share(fresh):
    check = validate.urn_correction("quick")
    assert check.passed, check.detail
    assert check.observed == pytest.approx(0.6, abs=0.03)


def test_allocation_that_ignores_discoveries_fails_the_checks(fresh, monkeypatch):
    original = PoliceAgency.on_incidents

    def blind(self, now, zone, person, reported):
        self.discovery = 0.0  # patrols find nothing: attention follows reports alone
        return original(self, now, zone, person, reported)

    monkeypatch.setattr(PoliceAgency, "on_incidents", blind)
    assert not validate.urn_runaway("quick").passed
    assert not validate.urn_fixed_point_check("quick").passed
    assert not validate.urn_correction("quick").passed


def test_correction_that_keeps_every_discovery_fails(fresh, monkeypatch):
    monkeypatch.setattr(
        PoliceAgency, "_corrected", lambda self, now, person, zone: np.ones(len(zone), bool)
    )
    assert not validate.urn_correction("quick").passed


# --- the full model: scenarios/ensign_urn.toml and attention.png --------------------------------

ROOT = Path(__file__).resolve().parents[1]
URN_PRESET = ROOT / "scenarios" / "ensign_urn.toml"
SHORT = ["time.days=3", "population.pedestrians=400"]


def test_urn_preset_writes_attention_figure(tmp_path):
    out = tmp_path / "urn"
    args = ["run", str(URN_PRESET), "--out", str(out), "--quiet"]
    assert cli.main([*args, "--set", "time.days=1", "--set", "population.pedestrians=300"]) == 0
    assert (out / "attention.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # written only in the urn's setting: attention following known incidents, two zones
    assert attention_figure.applies(load(URN_PRESET))
    assert not attention_figure.applies(load(URN_PRESET, ["police.allocation=posts"]))
    assert not attention_figure.applies(load(URN_PRESET, ["police.zones_y=2"]))
    assert not attention_figure.applies(load(ROOT / "scenarios" / "default.toml"))


def test_attention_path_and_rates_of_a_run():
    model = NeighbourhoodModel(load(URN_PRESET, SHORT))
    metrics = model.run()
    path = attention_figure.attention_path(model)
    assert len(path) == 4  # at the start of days 0, 1, 2 and after the last
    assert path[0] == pytest.approx(0.5)
    assert np.all((path >= 0) & (path <= 1))
    assert np.ptp(path) > 0.05  # attention moved
    rates = attention_figure.run_rates(model)
    assert sum(rates) * 3 == pytest.approx(metrics["incidents.total"])
    assert min(rates) > 0
