"""Victims' posts about their own incidents (``reporting.victim_post_probability``).

Pattern 5 (over 30 % of forwarded posts describe no crime, so many describe one) needs posts
about crimes; these tests check that the mechanism adds exactly the posts it promises and,
switched off, changes nothing at all.
"""

from __future__ import annotations

import numpy as np

from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario

# A small world with many incidents and a static set of app users (no adoption).
BUSY = {
    "time.days": 1.0,
    "world.blocks_x": 6,
    "world.blocks_y": 4,
    "population.pedestrians": 600,
    "population.offender_fraction": 0.2,
    "incidents.per_trip.package_theft": 0.2,
    "incidents.per_trip.car_break_in": 0.2,
    "incidents.per_trip.burglary": 0.2,
    "adoption.spontaneous_per_year": 0.0,
    "adoption.word_of_mouth_per_year": 0.0,
    "adoption.churn_per_year": 0.0,
    "feed.app_share": 0.5,
    "reporting.base_rate": 0.002,
}


def run(probability: float, seed: int = 3) -> NeighbourhoodModel:
    model = NeighbourhoodModel(
        Scenario().replace({**BUSY, "reporting.victim_post_probability": probability}), rng=seed
    )
    model.run()
    return model


def test_probability_zero_changes_nothing(monkeypatch):
    """Off, the mechanism leaves every metric and the post log identical to a model in which
    the call does not exist (it draws no random numbers and touches no state)."""
    with_call = run(0.0)
    monkeypatch.setattr(NeighbourhoodModel, "_post_victims", lambda self, *a: None)
    without = run(0.0)
    assert with_call.metrics() == without.metrics()
    assert with_call.metrics()["reports.victim_posts"] == 0
    a, b = with_call.reporting.log(), without.reporting.log()
    assert np.array_equal(a.poster, b.poster) and np.array_equal(a.person, b.person)


def test_probability_one_posts_every_incident_at_an_app_user_home():
    """Every incident at an app-using home yields one post about a crime, by the victim home,
    naming the offender, in the incident's minute; no incident at another home does."""
    model = run(1.0)
    inc = model.incidents.log()
    users = model.reporting.app_user(model.cameras.owners())  # static: no adoption
    at_user = users[inc.home]
    assert at_user.sum() > 10 and (~at_user).sum() > 10  # both kinds of home were hit
    posts = model.reporting.log()
    crime = {
        (int(m), int(h), int(p))
        for m, h, p, about in zip(
            posts.minute, posts.poster, posts.person, posts.about_incident, strict=True
        )
        if about
    }
    expected = {
        (int(m), int(h), int(p))
        for m, h, p in zip(inc.minute[at_user], inc.home[at_user], inc.person[at_user], strict=True)
    }
    assert expected <= crime
    metrics = model.metrics()
    assert metrics["reports.victim_posts"] == int(at_user.sum())
    off = run(0.0).metrics()
    # the victims' posts are about crimes, so the share about no crime falls
    assert metrics["reports.non_crime_fraction"] < (off["reports.non_crime_fraction"] or 1.0)
    assert metrics["reports.total"] >= off["reports.total"] + metrics["reports.victim_posts"]


def test_posts_reach_the_police():
    """Victims' posts count as forwarded posts when the agency receives them."""
    on, off = run(1.0).metrics(), run(0.0).metrics()
    extra = on["police.posts_forwarded"] - off["police.posts_forwarded"]
    assert on["reports.victim_posts"] > 0 and extra >= on["reports.victim_posts"]
