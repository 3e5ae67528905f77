"""Police attention against Ensign et al. 2018's urn (``sim.validate``'s ``police.urn_*``
checks): the closed-form fixed point, the runaway, the fixed point with reports, the
correction, and that the checks fail on a wrong formula or a broken allocation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from sim import validate
from sim.police import PoliceAgency, urn_fixed_point


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
