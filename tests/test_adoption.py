"""Camera adoption and police promotion: the Bass curve, exact rewards, limits, monotonicity,
the partnership curve."""

import numpy as np
import pytest

from sim.engine.rng import Streams
from sim.model.adoption import (
    HOURS_PER_YEAR,
    _purchases,
    bass_curve,
    partner_agencies,
    partnership_minute,
)
from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario
from sim.validation import validate

NO_WALKERS = {"population.pedestrians": 0, "world.blocks_x": 12, "world.blocks_y": 8}


def test_well_mixed_adoption_follows_the_bass_curve():
    """Every household tied to every other, no fear, no promotion, constant p and q: the share
    of adopters over time is the Bass curve (sim.validation.validate.bass_curve_check, also in the
    validation report). The check has power: it rejects the curve with half the word of
    mouth."""
    check = validate.bass_curve_check("quick")
    assert check.passed, check.detail
    half_q = validate.bass_curve_check("quick", expected_fn=lambda t, p, q: bass_curve(t, p, q / 2))
    assert not half_q.passed, half_q.detail


PROMO = {
    "world.blocks_x": 6,
    "world.blocks_y": 4,
    "population.pedestrians": 800,
    "time.days": 6.0,
    "promotion.enabled": True,
    "promotion.officers": 3,
    "promotion.contacts_per_officer_day": 30.0,
    "promotion.recommendation_per_year": 60.0,
    "promotion.devices_to_officers": 2,
    "population.offender_fraction": 0.1,
    "incidents.victim_reporting": 1.0,
}


def test_code_rewards_are_exact():
    """floor(u / 10) free devices for u code uses, officer by officer, and the totals add up
    (sim.validation.validate.reward_thresholds); a threshold of 11 uses is caught."""
    check = validate.reward_thresholds("quick")
    assert check.passed, check.detail
    wrong = validate.reward_thresholds("quick", expected_fn=lambda uses, n: uses // (n + 1))
    assert not wrong.passed, wrong.detail


def test_no_promotion_no_word_of_mouth_no_spontaneous_rate_means_no_change():
    params = Scenario().replace(
        {
            **PROMO,
            "promotion.enabled": False,
            "adoption.spontaneous_per_year": 0.0,
            "adoption.word_of_mouth_per_year": 0.0,
            "adoption.churn_per_year": 0.0,
        }
    )
    model = NeighbourhoodModel(params)
    before = model.adoption.owner.copy()
    model.run()
    np.testing.assert_array_equal(model.adoption.owner, before)
    ts = model.recorder.timeseries()["adoption_fraction"]
    assert np.all(ts == before.mean())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_promotion_never_lowers_final_adoption(seed):
    base = {
        **PROMO,
        "time.days": 3.0,
        "promotion.giveaway_cameras": 20,
        "promotion.giveaway_day": 1,
    }
    on = NeighbourhoodModel(Scenario().replace(base), rng=seed)
    off = NeighbourhoodModel(Scenario().replace({**base, "promotion.enabled": False}), rng=seed)
    m_on, m_off = on.run(), off.run()
    assert m_on["adoption.final_fraction"] >= m_off["adoption.final_fraction"]
    assert m_on["adoption.final_fraction"] > m_off["adoption.final_fraction"]  # and it acts


def test_conditional_giveaway_owners_share_footage():
    params = Scenario().replace(
        {
            **PROMO,
            "promotion.giveaway_cameras": 50,
            "promotion.giveaway_day": 0,
            "promotion.giveaway_conditional": True,
            "requests.opt_out": 1.0,
        }
    )
    model = NeighbourhoodModel(params)
    model.run()
    given = np.flatnonzero(model.platform.always_share)
    assert len(given) == 50
    assert not model.platform.opted_out[given].any()
    assert np.all(model.cameras.home_camera[given] >= 0)


def test_word_of_mouth_network_is_mutual_and_local():
    model = NeighbourhoodModel(Scenario().replace({**NO_WALKERS, "time.days": 0.01}))
    net = model.adoption.network
    m = net.matrix
    assert (m != m.T).nnz == 0 and m.diagonal().sum() == 0
    assert net.degree.min() >= 8
    g = net.to_networkx()
    assert g.number_of_nodes() == model.world.homes.count
    indptr, indices, data, degree = net.ties()
    assert np.all(data == 1) and np.array_equal(np.diff(indptr), degree)
    assert set(indices[indptr[5] : indptr[6]].tolist()) == set(g.neighbors(5))


@pytest.mark.parametrize("network", ["neighbours", "complete"])
def test_purchases_are_the_keyed_draws_below_each_households_rate(network):
    """Hourly purchases: the compiled loop against the formula written with numpy."""
    params = Scenario().replace({**NO_WALKERS, "time.days": 0.01, "adoption.network": network})
    model = NeighbourhoodModel(params)
    a, rng = model.adoption, np.random.default_rng(3)
    n = model.world.homes.count
    owner = rng.random(n) < 0.4
    fear = rng.exponential(1.0, n)
    now = 600
    until = np.where(rng.random(n) < 0.3, now + 50, -1)
    rates = (20.0, 1.7, 1.0, 0.8, 30.0, 15.0)  # p, code and full price factors, fear, q, rec
    buyers, recommended = _purchases(
        owner, until, now, fear, rates, a.network.ties(), a.streams.base("adoption.buy")
    )
    p, f_code, f_full, fear_effect, q, rec = rates
    if network == "complete":
        share = (owner.sum() - owner) / (n - 1)
    else:
        m = a.network.matrix
        share = (m @ owner.astype(float)) / a.network.degree
    homes = np.flatnonzero(~owner)
    r = until[homes] >= now
    rate = (
        p * np.where(r, f_code, f_full) * (1 + fear_effect * fear[homes])
        + q * share[homes]
        + np.where(r, rec, 0.0)
    )
    u = a.streams.uniform("adoption.buy", homes, now // 60)
    buy = u < -np.expm1(-rate / HOURS_PER_YEAR)
    np.testing.assert_array_equal(buyers, homes[buy])
    np.testing.assert_array_equal(recommended, r[buy])
    assert 0 < len(buyers) < len(homes)


def test_partnership_curve_passes_near_the_published_counts():
    for year, count in [(2019.6, 405), (2021.0, 2014), (2023.9, 2600)]:
        assert partner_agencies(year) == pytest.approx(count, rel=0.12)
    assert partner_agencies(2018.5) < 100


def test_partnership_dates_follow_the_curve():
    params = Scenario().replace({"police.partnership_curve": True, "time.start_year": 2019.0})
    years = np.array(
        [2019.0 + partnership_minute(params, Streams(s)) / (365.25 * 1440) for s in range(4000)]
    )
    for year in (2019.6, 2020.5, 2021.5):
        expected = partner_agencies(year) / 2680
        observed = np.mean(years <= year)
        assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / 4000)
