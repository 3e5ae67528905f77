"""The published patterns as code (sim/patterns.py): statistics against hand computations,
acceptance rules that both pass and fail, the pattern checks, and the calibration scoring."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim import patterns as pt
from sim.metrics import majority_slope
from sim.model import NeighbourhoodModel
from sim.scenario import Scenario, load

SMALL = {
    "time.days": 1.0,
    "world.blocks_x": 6,
    "world.blocks_y": 4,
    "world.segregation": 0.8,
    "population.pedestrians": 600,
    "population.offender_fraction": 0.2,
    "incidents.per_trip.package_theft": 0.2,
    "incidents.per_trip.burglary": 0.2,
    "reporting.base_rate": 0.002,
    "reporting.victim_post_probability": 0.5,
}


# --- statistics against hand computations -------------------------------------------------


def test_majority_slope_by_hand():
    # y = 4 x exactly: slope 4, mean 1.5 -> relative slope 4 / 1.5
    assert majority_slope(np.array([0, 1, 2, 3]), np.array([0, 0.25, 0.5, 0.75])) == (
        pytest.approx(4 / 1.5)
    )
    assert majority_slope(np.zeros(4), np.array([0, 0.25, 0.5, 0.75])) is None  # no posts
    assert majority_slope(np.array([1, 2, 3]), np.full(3, 0.6)) is None  # no variation


def test_majority_slopes_of_a_run_match_the_logs():
    """The run's metrics equal a least-squares fit (numpy.polyfit) of per-home posts and
    incidents on the homes' majority share, divided by the mean."""
    model = NeighbourhoodModel(Scenario().replace(SMALL), rng=5)
    metrics = model.run()
    share = model.reporting.majority_share
    H = model.world.homes.count
    for key, homes in (
        ("reports.majority_slope", model.reporting.log().poster),
        ("incidents.majority_slope", model.incidents.log().home),
    ):
        y = np.bincount(homes, minlength=H).astype(float)
        assert y.sum() > 5, key
        slope = np.polyfit(share, y, 1)[0]
        assert metrics[key] == pytest.approx(slope / y.mean(), rel=1e-9), key


def test_non_crime_fraction_counts_victims_posts_as_crime():
    model = NeighbourhoodModel(Scenario().replace(SMALL), rng=5)
    metrics = model.run()
    log = model.reporting.log()
    assert metrics["reports.victim_posts"] > 0
    assert metrics["reports.non_crime_fraction"] == pytest.approx(
        np.count_nonzero(~log.about_incident) / len(log)
    )


def test_ever_shared_extrapolation_by_hand():
    f, days = 0.01, 7.0
    expected = 1 - 0.99 ** (pt.OWNERSHIP_YEARS * 365.25 / 7)
    assert pt.ever_shared(f, days) == pytest.approx(expected)
    assert pt.ever_shared(0.0, days) == 0.0
    assert pt.ever_shared(None, days) is None


def test_partnership_years_are_the_models_signing_dates():
    """An agency counted as partnered at a date is partnered in a model run that starts at
    that date (police.partnered), seed by seed."""
    base = Scenario().replace(
        {
            "police.partnership_curve": True,
            "time.days": 1 / 1440,
            "population.pedestrians": 20,
            "world.blocks_x": 2,
            "world.blocks_y": 2,
        }
    )
    seeds = list(range(12))
    years = pt.partnership_years(base, seeds)
    for date in (2019.6, 2021.0):
        params = base.replace({"time.start_year": date})
        observed = [
            bool(NeighbourhoodModel(params, rng=s).run()["police.partnered"]) for s in seeds
        ]
        assert observed == [bool(y <= date) for y in years]
    shares = pt.partnership_shares(years)
    assert shares[0] == pytest.approx(np.mean(years <= pt.PARTNER_COUNTS[0][0]))


# --- acceptance rules pass and fail ---------------------------------------------------------


def test_partnership_rule():
    target = [c / pt.PARTNER_PLATEAU for _, c in pt.PARTNER_COUNTS]
    assert pt.partnership_rule(target, 1000)
    assert not pt.partnership_rule([t * 0.7 for t in target], 1000)  # too few partners
    assert not pt.partnership_rule(list(reversed(target)), 1000)  # falling


def test_adoption_rule():
    assert pt.adoption_rule([0.04, 0.20, 0.27])
    assert not pt.adoption_rule([0.04, 0.76, 0.92])  # far too fast
    assert not pt.adoption_rule([0.04, 0.05, 0.06])  # hardly rises
    assert not pt.adoption_rule([0.04, 0.27, 0.22])  # falls


def test_sharing_rule():
    assert pt.sharing_rule(0.035, 0.10)
    assert not pt.sharing_rule(0.10, 0.10)  # response too high
    assert not pt.sharing_rule(0.035, 0.60)  # too many owners ever share
    assert not pt.sharing_rule(None, 0.10)


def test_legal_rule():
    assert pt.legal_rule(0.5)
    assert not pt.legal_rule(0.9)
    assert pt.legal_rule(0.5, (0.0, 0.0, 0.0), (-0.5, -0.6, -0.4))
    assert not pt.legal_rule(0.5, (-0.2, -0.3, -0.1), (-0.5, -0.6, -0.4))  # opt-out matters
    assert not pt.legal_rule(0.5, (0.0, 0.0, 0.0), (-0.1, -0.3, 0.1))  # E2EE does not


def test_non_crime_rule():
    assert pt.non_crime_rule(0.5)
    assert not pt.non_crime_rule(1.0)  # the model before victims' posts
    assert not pt.non_crime_rule(0.1)


def test_majority_rule():
    assert pt.majority_rule((0.5, 0.2, 0.8), (0.0, -0.3, 0.3))
    assert not pt.majority_rule((0.5, -0.1, 1.1), (0.0, -0.3, 0.3))  # posts: CI holds 0
    assert not pt.majority_rule((0.5, 0.2, 0.8), (0.6, 0.3, 0.9))  # crime rises too
    assert not pt.majority_rule((None, None, None), (0.0, -0.3, 0.3))


def test_minority_rule():
    assert pt.minority_rule(0.6, 2.0)
    assert not pt.minority_rule(0.45, 2.0)
    assert not pt.minority_rule(0.6, 4.0)  # not a modest bias
    assert not pt.minority_rule(0.6, 1.0)  # no bias at all


def test_clearance_rule():
    assert pt.clearance_rule(0.02, 0.05)
    assert not pt.clearance_rule(0.3, 0.05)
    assert not pt.clearance_rule(0.02, 0.4)


# --- calibration scoring ------------------------------------------------------------------


def synthetic_runs() -> pd.DataFrame:
    """Three design points, two replicates each: point 0 matches patterns 3-8; point 1 has
    no posts about crime (misses 5); point 2 a strong bias and high response (misses 3, 7)."""
    good = {
        "requests.response_rate": 0.035,
        "footage.homes_shared_fraction": 0.001,
        "footage.legal_content_fraction": 0.5,
        "reports.non_crime_fraction": 0.6,
        "reports.majority_slope": 0.8,
        "incidents.majority_slope": 0.0,
        "reports.minority_share": 0.6,
        "incidents.cleared_fraction": 0.02,
    }
    rows = []
    for point, bias, change in (
        (0, 2.0, {}),
        (1, 2.0, {"reports.non_crime_fraction": 1.0}),
        (2, 4.0, {"requests.response_rate": 0.2}),
    ):
        for r, wiggle in enumerate((-0.05, 0.05)):
            row = {
                "run_id": f"{point}-{r}",
                "point": point,
                "replicate": r,
                "status": "ok",
                "param:reporting.bias": bias,
                **good,
                **change,
            }
            row["reports.majority_slope"] += wiggle
            row["incidents.majority_slope"] += 4 * wiggle
            rows.append(row)
    return pd.DataFrame(rows)


def test_scoring_keeps_exactly_the_matching_sets():
    base = Scenario().replace({"time.days": 7.0})
    scores = pt.score_runs(synthetic_runs(), base)
    assert list(scores["point"]) == [0, 1, 2]
    flags = scores[[f"pattern.{k}" for k in range(3, 9)]].to_numpy()
    assert flags[0].all()
    assert not scores.loc[1, "pattern.5"] and flags[1].sum() == 5
    assert not scores.loc[2, "pattern.3"] and not scores.loc[2, "pattern.7"]
    accepted, cols, all_matched = pt.accept(scores)
    assert list(accepted["point"]) == [0] and all_matched and len(cols) == 6
    # without the good set, the one that matches the most is kept, flagged as not all
    accepted, _, all_matched = pt.accept(scores[scores["point"] != 0])
    assert list(accepted["point"]) == [1] and not all_matched


def test_calibrated_preset_loads_and_names_its_patterns():
    scenario = load(pt.CALIBRATED)
    assert scenario["reporting.victim_post_probability"] > 0
    text = pt.CALIBRATED.read_text(encoding="utf-8")
    assert text.startswith("# calibrated: ")
    assert "matches patterns" in text


@pytest.mark.slow  # about 40 s on 2 busy cores: six short runs and six years of adoption
def test_pattern_checks_quick_returns_one_check_per_pattern():
    checks = pt.pattern_checks("quick", workers=1)
    assert [c.name for c in checks] == [pt.NAMES[k] for k in pt.PATTERNS]
    for c in checks:
        assert c.kind == "pattern" and c.source and c.expected
        assert isinstance(c.passed, bool)
        assert c.observed is None or math.isfinite(c.observed)
