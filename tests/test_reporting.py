"""Reporting bias, posts, fear, incidents and police stops, checked against formulas, exact
invariants under common random numbers, and statistical tests over replications."""

import numpy as np
import pytest
from scipy import stats

from sim.engine import engine as engine_module
from sim.model.model import NeighbourhoodModel
from sim.model.police import gini
from sim.model.reporting import group_bias
from sim.runs.replicate import mean_ci, run_replications
from sim.scenario.scenario import Scenario
from sim.validation import validate

SMALL_WORLD = {"world.blocks_x": 6, "world.blocks_y": 4, "time.days": 1.0}

EQUAL_EXPOSURE = validate.EQUAL_EXPOSURE


def replicated(overrides: dict, replications: int, seed: int = 1) -> list[dict]:
    params = Scenario().replace(overrides)
    return [m for _, m, _ in run_replications(params, replications, seed)]


# Coverage is asserted with 99.9 % intervals, so a correct model fails these tests about once
# in a thousand seeds; the power checks show the intervals are still narrow enough to matter.
LEVEL = 0.999


def test_reporting_bias_checks():
    """Posts per recording, minority over majority, converge to k, and the minority's share
    of posts to k p / (k p + 1 - p) (sim.validation.validate, also in the validation report). Both
    checks have power: they reject a ratio of 0.75 k and the unbiased share p."""
    ratio = validate.bias_ratio("quick")
    assert ratio.passed, ratio.detail
    assert not validate.bias_ratio("quick", expected_fn=lambda k: 0.75 * k).passed
    share = validate.minority_share("quick")
    assert share.passed, share.detail
    assert not validate.minority_share("quick", expected_fn=lambda k, p: p).passed


def test_without_bias_the_disparity_interval_covers_one():
    runs = replicated({**EQUAL_EXPOSURE, "reporting.bias": 1.0}, 20, seed=2)
    mean, lo, hi = mean_ci([m["reports.disparity_ratio"] for m in runs], LEVEL)
    assert lo <= 1.0 <= hi, (mean, lo, hi)
    assert hi - lo < 0.5  # informative, not vacuous


def test_household_bias_formula():
    params = Scenario().replace(
        {"reporting.bias": 2.5, "reporting.bias_spread": 0.0, "reporting.gatekeeping": 0.0}
    )
    m = NeighbourhoodModel(params.replace({"time.days": 0.01}))
    np.testing.assert_allclose(m.reporting.bias[:, 0], 1.0)
    np.testing.assert_allclose(m.reporting.bias[:, 1], 2.5)
    # with no bias nobody is biased, whatever the spread and gatekeeping
    m = NeighbourhoodModel(
        Scenario().replace(
            {
                "reporting.bias": 1.0,
                "time.days": 0.01,
                "reporting.bias_spread": 1.5,
                "reporting.gatekeeping": 3.0,
            }
        )
    )
    np.testing.assert_allclose(m.reporting.bias, 1.0)
    # per-group overrides
    three = Scenario().replace(
        {
            "population.groups": {"a": 0.5, "b": 0.3, "c": 0.2},
            "reporting.bias": 2.0,
            "reporting.bias_by_group": {"c": 4.0},
        }
    )
    np.testing.assert_allclose(group_bias(three), [1.0, 2.0, 4.0])


def test_gatekeeping_raises_bias_where_the_first_group_dominates():
    params = Scenario().replace(
        {
            "world.segregation": 1.0,
            "reporting.gatekeeping": 2.0,
            "reporting.bias_spread": 0.0,
            "time.days": 0.01,
        }
    )
    rep = NeighbourhoodModel(params).reporting
    share = rep.majority_share
    expected = 1 + (2.0 - 1) * (1 + 2.0 * np.maximum(0, share - 0.5))
    np.testing.assert_allclose(rep.bias[:, 1], expected)
    assert rep.bias[share > 0.9, 1].mean() > rep.bias[share < 0.1, 1].mean()


def test_no_cameras_and_no_windows_means_no_posts():
    quiet = {
        **SMALL_WORLD,
        "cameras.adoption": 0.0,
        "reporting.direct_rate": 0.0,
        "reporting.base_rate": 0.05,
    }
    m = NeighbourhoodModel(Scenario().replace(quiet)).run()
    assert m["reports.total"] == 0 and m["reports.alerts"] == 0 and m["police.stops"] == 0
    # the same world with people looking out of their windows does post
    m = NeighbourhoodModel(Scenario().replace({**quiet, "reporting.direct_rate": 1.0})).run()
    assert m["reports.total"] > 0


def _daily_post_rates(overrides: dict) -> tuple[np.ndarray, np.ndarray]:
    model = NeighbourhoodModel(Scenario().replace(overrides), rng=4)
    model.run()
    ts = model.recorder.timeseries()
    posts = np.bincount(ts["day"], weights=ts["posts"])[: int(model.params["time.days"])]
    seen = np.bincount(ts["day"], weights=ts["sightings"])[: int(model.params["time.days"])]
    return posts, seen


STATIONARY = {
    **EQUAL_EXPOSURE,
    "time.days": 4.0,
    "population.pedestrians": 1000,
    "reporting.base_rate": 0.003,
}


def test_feedbacks_off_give_a_stationary_posting_rate():
    posts, seen = _daily_post_rates(STATIONARY)
    table = np.stack([posts, seen - posts])
    assert posts.min() > 50
    assert stats.chi2_contingency(table).pvalue > 0.001
    # power: with strong fear feedback (and unlimited reading) the same test sees the rate rise
    posts, seen = _daily_post_rates(
        {
            **STATIONARY,
            "feed.posts_feedback": True,
            "feed.fear_per_post": 0.05,
            "feed.posts_read_per_day": 1e6,
        }
    )
    assert posts[-1] / seen[-1] > 2 * posts[0] / seen[0]
    assert stats.chi2_contingency(np.stack([posts, seen - posts])).pvalue < 1e-6


def _fear_from_posts(read_per_day: float) -> tuple[np.ndarray, float]:
    model = NeighbourhoodModel(
        Scenario().replace(
            {
                **STATIONARY,
                "feed.posts_feedback": True,
                "feed.fear_per_post": 0.05,
                "feed.posts_read_per_day": read_per_day,
            }
        ),
        rng=4,
    )
    model.run()
    return model.reporting.fear, model.metrics()["reports.total"]


def test_reading_budget_bounds_fear_from_posts():
    """Reading at most B posts a day, fear from posts never exceeds the sum of a day's
    budget over all past days, decayed: fear_per_post x B / (1 - 0.5^(1/half-life))."""
    budget = 5.0
    fear, posts = _fear_from_posts(budget)
    decay = 0.5 ** (1 / Scenario()["feed.fear_half_life_days"])
    bound = 0.05 * budget / (1 - decay)
    assert posts > 4 * budget * 4  # far more posts than anyone may read: the budget binds
    assert fear.max() <= bound + 1e-9
    assert fear.max() > 0.5 * 0.05 * budget  # everyone reads their budget on day 1 at least
    unlimited, _ = _fear_from_posts(1e6)
    assert unlimited.max() > 3 * bound  # without the budget, fear runs past the bound


def _posts(overrides: dict, seed: int) -> set:
    model = NeighbourhoodModel(Scenario().replace(overrides), rng=seed)
    model.run()
    log = model.reporting.log()
    return set(zip(log.minute.tolist(), log.poster.tolist(), log.person.tolist(), strict=True))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fear_feedback_never_lowers_posts(seed):
    base = {
        **SMALL_WORLD,
        "reporting.base_rate": 0.001,
        "population.offender_fraction": 0.05,
        "feed.fear_per_post": 0.05,
        "feed.fear_per_alert": 0.001,
    }
    off = _posts({**base, "feed.posts_feedback": False, "feed.alerts_feedback": False}, seed)
    on = _posts({**base, "feed.posts_feedback": True, "feed.alerts_feedback": True}, seed)
    assert off <= on  # every post made without feedback is also made with it
    assert len(on) > len(off)


def test_posts_are_forwarded_and_stopped_only_with_a_partnership():
    base = {**SMALL_WORLD, "reporting.base_rate": 0.002, "police.response_probability": 0.5}
    m = NeighbourhoodModel(Scenario().replace(base)).run()
    assert m["police.posts_forwarded"] == m["reports.total"] > 0
    assert 0 < m["police.stops"] <= m["reports.total"]
    for switch in ("police.forwarding", "police.partnered"):
        m = NeighbourhoodModel(Scenario().replace({**base, switch: False})).run()
        assert m["reports.total"] > 0
        assert m["police.posts_forwarded"] == 0 and m["police.stops"] == 0


def test_attention_follows_posts_and_uniform_stays_uniform():
    base = {
        **SMALL_WORLD,
        "time.days": 3.0,
        "world.segregation": 1.0,
        "reporting.base_rate": 0.002,
        "reporting.bias": 4.0,
    }
    posts = NeighbourhoodModel(Scenario().replace({**base, "police.allocation": "posts"}))
    posts.run()
    uniform = NeighbourhoodModel(Scenario().replace({**base, "police.allocation": "uniform"}))
    uniform.run()
    # computed floats: a uniform allocation's Gini is 0 up to rounding (4.6e-18 seen with
    # numpy 2.5.5), a posts allocation's clearly above it
    assert uniform.police.attention_gini() == pytest.approx(0.0, abs=1e-12)
    assert posts.police.attention_gini() > 1e-6
    # attention is the decayed post count plus the prior, normalised
    zone_posts = np.bincount(
        posts.home_zone[posts.reporting.log().poster], minlength=posts.zones.count
    )
    assert np.corrcoef(zone_posts, posts.police.attention)[0, 1] > 0.5


def test_gini():
    assert gini(np.ones(5)) == pytest.approx(0.0, abs=1e-12)
    assert gini(np.array([0, 0, 0, 1.0])) == pytest.approx(0.75)
    assert gini(np.array([1.0, 3.0])) == pytest.approx(0.25)


def test_incidents_need_targets_and_deterrence_reduces_them():
    base = {
        **SMALL_WORLD,
        "time.days": 3.0,
        "population.offender_fraction": 0.2,
        "incidents.per_trip.package_theft": 0.2,
    }
    no_couriers = NeighbourhoodModel(
        Scenario().replace(
            {**base, "population.kinds.delivery": 0.0, "population.kinds.visitor": 0.25}
        )
    ).run()
    assert no_couriers["incidents.package_theft"] == 0  # no deliveries, no porch packages
    assert no_couriers["incidents.car_break_in"] > 0
    full = {**base, "cameras.adoption": 1.0}
    undeterred = NeighbourhoodModel(
        Scenario().replace({**full, "incidents.deterrence": 0.0}), rng=8
    ).run()
    deterred = NeighbourhoodModel(
        Scenario().replace({**full, "incidents.deterrence": 0.5}), rng=8
    ).run()
    assert deterred["incidents.attempts"] == undeterred["incidents.attempts"]
    assert deterred["incidents.total"] < undeterred["incidents.total"]


def test_posts_about_incidents_and_stops_of_offenders():
    base = {
        **SMALL_WORLD,
        "time.days": 3.0,
        "population.offender_fraction": 0.2,
        "cameras.adoption": 0.8,
        "reporting.incident_multiplier": 5000.0,
        "police.response_probability": 1.0,
    }
    m = NeighbourhoodModel(Scenario().replace(base)).run()
    assert m["incidents.total"] > 0
    assert m["reports.non_crime_fraction"] < 1.0  # some posts show an incident
    assert m["police.stops_offender_fraction"] > 0.2  # signal makes stops hit offenders
    silent = NeighbourhoodModel(
        Scenario().replace(
            {**base, "incidents.victim_reporting": 0.0, "police.patrol_discovery": 0.0}
        )
    ).run()
    assert silent["incidents.known_to_police"] == 0


def test_feed_convolution_matches_scipy():
    from scipy.signal import fftconvolve

    from sim.model.reporting import _convolve_same

    rng = np.random.default_rng(0)
    for shape, kernel in [((7, 5), (3, 3)), ((13, 6), (13, 11)), ((20, 30), (41, 41))]:
        grid = rng.integers(0, 4, shape).astype(float)
        k = (rng.random(kernel) < 0.7).astype(float)
        np.testing.assert_allclose(
            _convolve_same(grid, k), fftconvolve(grid, k, mode="same"), atol=1e-9
        )


def _bound_now(rep) -> np.ndarray:
    """Each home's window posting bound at this moment (as ``plan_reviews`` computes it)."""
    rate, incident = rep.base * max(1.0, rep.stranger_mult), max(1.0, rep.incident_mult)
    return rate * rep._bias_max * (1 + rep.fear_mult * rep.fear) * incident * rep.direct_rate


@pytest.mark.parametrize("midnights", [0, 1])
def test_window_caps_bound_every_later_posting_bound_until_the_horizon(midnights):
    """Planning drops window passes drawn at or above the cap: the cap must stay above the
    bound a window is judged by, after any posts read and alerts until the horizon. Hours of
    heavy posting (everyone reads their whole budget) across ``midnights`` midnights."""
    model = NeighbourhoodModel(
        Scenario().replace({**SMALL_WORLD, "feed.fear_per_post": 0.3, "time.days": 3}), rng=4
    )
    model.run_until(1440 - 5 * 60)  # 19:00: a midnight within reach
    rep, owners = model.reporting, model.cameras.owners()
    rng = np.random.default_rng(0)
    rep._fear[:] = rng.exponential(2.0, len(rep.fear))  # (set by hand: a test)
    rep._read_left[:] = rng.uniform(0, rep.read_per_day, len(rep.fear))
    caps, start = rep.window_caps(owners, midnights), _bound_now(rep)
    without = ~owners
    assert np.all(np.isinf(caps[owners])) and np.all(np.isfinite(caps[without]))
    hours = (5 if midnights == 0 else 5 + 24) - 1  # until just before the next horizon's end
    for _ in range(hours):
        posters = rng.choice(len(rep.fear), 50 * len(rep.fear))  # more than anyone may read
        rep._posts_hour = [posters]
        rep._alerts_hour = [np.flatnonzero(owners)]
        rep.hourly(owners)
        assert np.all(_bound_now(rep)[without] < caps[without])
    # fear grew: a cap from the fear at planning alone would have been broken
    assert np.any(_bound_now(rep)[without] > start[without] * 1.5)


def test_window_passes_left_out_when_planned_change_no_post(monkeypatch):
    """Planning with the caps (which leave out the window passes that cannot post) gives the
    same posts, fear and metrics as planning every window pass, in a scenario with many
    window posts and fear that grows fast. Trips are planned an hour at a time, as in towns
    and cities (a small world's whole day at once leaves the caps a day's fear to allow)."""
    monkeypatch.setattr(engine_module, "PLAN_TRIPS", 1)
    params = Scenario().replace(
        {
            **SMALL_WORLD,
            "reporting.base_rate": 0.0005,
            "reporting.direct_rate": 1.0,
            "reporting.fear_multiplier": 5.0,
            "feed.fear_per_post": 0.05,
            "time.days": 2,
        }
    )
    runs = {}
    for caps in (True, False):
        model = NeighbourhoodModel(params, rng=1)
        if not caps:
            model.engine._window_caps = None  # plan every window pass
        judged = []
        plan = model.reporting.plan_reviews

        def plan_reviews(start, stop, walked, *args, plan=plan, judged=judged):
            judged.append(len(walked[5]))  # the window passes reaching the reporting
            return plan(start, stop, walked, *args)

        model.reporting.plan_reviews = plan_reviews
        metrics = model.run()
        log = model.reporting.log()
        runs[caps] = (metrics, log, model.reporting.fear.copy(), sum(judged))
    (m1, log1, fear1, judged1), (m0, log0, fear0, judged0) = runs[True], runs[False]
    assert m1 == m0
    for field in ("minute", "poster", "person", "about_incident", "by_camera"):
        np.testing.assert_array_equal(getattr(log1, field), getattr(log0, field))
    np.testing.assert_array_equal(fear1, fear0)
    assert (~log0.by_camera).sum() > 100  # many posts from windows
    assert judged1 < 0.95 * judged0  # and the caps left out many window passes
