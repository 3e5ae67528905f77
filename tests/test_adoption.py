"""Camera adoption and police promotion: the Bass curve, exact rewards, limits, monotonicity,
the partnership curve."""

import numpy as np
import pytest
from scipy import stats

from sim.adoption import bass_curve, partner_agencies, partnership_minute
from sim.model import NeighbourhoodModel
from sim.replicate import derive_seed
from sim.rng import Streams
from sim.scenario import Scenario

NO_WALKERS = {"population.pedestrians": 0, "world.blocks_x": 12, "world.blocks_y": 8}


def test_well_mixed_adoption_follows_the_bass_curve():
    """Every household tied to every other, no fear, no promotion, constant p and q: the share
    of adopters over time is the Bass curve. Each day's share, averaged over replicates, is
    tested against F(t) with a z-test (Bonferroni over the days tested); the same test rejects
    a curve with half the word of mouth."""
    p, q, days = 2.0, 25.0, 40  # per year
    params = Scenario().replace(
        {
            **NO_WALKERS,
            "time.days": float(days),
            "cameras.adoption": 0.0,
            "adoption.network": "complete",
            "adoption.spontaneous_per_year": p,
            "adoption.word_of_mouth_per_year": q,
            "adoption.fear_effect": 0.0,
            "adoption.churn_per_year": 0.0,
            "promotion.enabled": False,
            "time.record_minutes": 1440,
        }
    )
    shares = []
    for r in range(4):
        model = NeighbourhoodModel(params, rng=derive_seed(11, r))
        model.run()
        shares.append(model.recorder.timeseries()["adoption_fraction"])
    n_homes = model.world.homes.count
    shares = np.array(shares)  # (replicates, days)
    t = np.arange(1, days + 1) / 365
    check = [4, 9, 14, 19, 29]  # days 5, 10, 15, 20, 30
    mean = shares.mean(axis=0)[check]
    expected = bass_curve(t[check], p, q)
    se = np.sqrt(expected * (1 - expected) / (n_homes * len(shares)))
    z = (mean - expected) / se
    alpha = 0.001 / len(check)
    assert np.all(np.abs(z) < stats.norm.ppf(1 - alpha / 2)), (mean, expected, z)
    wrong = bass_curve(t[check], p, q / 2)
    z_wrong = (mean - wrong) / np.sqrt(wrong * (1 - wrong) / (n_homes * len(shares)))
    assert np.any(np.abs(z_wrong) > stats.norm.ppf(1 - alpha / 2))


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
    model = NeighbourhoodModel(Scenario().replace(PROMO))
    model.run()
    officers = model.adoption.officers
    assert sum(o.code_uses for o in officers) >= 10  # rewards were earned
    for o in officers:
        assert o.devices_earned == o.code_uses // 10
        assert 0 <= o.devices_given <= o.devices_received + o.devices_earned
    assert any(o.devices_given > 0 for o in officers)
    m = model.metrics()
    assert m["promotion.code_uses"] == sum(o.code_uses for o in officers)
    assert m["promotion.devices_to_officers"] == 2 + sum(o.devices_earned for o in officers)


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
    owner = np.zeros(net.n, bool)
    owner[::3] = True
    share = net.owner_share(owner)
    i = 5
    ties = m[i].indices
    assert share[i] == pytest.approx(owner[ties].mean())


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
