"""The Mesa model as a whole: determinism, seeds, properties over random scenarios, time."""

import gc
import weakref

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine import engine as engine_module
from sim.model.model import NeighbourhoodModel
from sim.runs.outputs import metrics_json
from sim.scenario.scenario import Scenario

SMALL = {"time.days": 0.25, "population.pedestrians": 400, "world.blocks_x": 4, "world.blocks_y": 3}


def small(**kv) -> Scenario:
    return Scenario().replace({**SMALL, **kv})


def test_same_seed_same_metrics_other_seed_different():
    a = metrics_json(NeighbourhoodModel(small(), rng=5).run())
    b = metrics_json(NeighbourhoodModel(small(), rng=5).run())
    c = metrics_json(NeighbourhoodModel(small(), rng=6).run())
    assert a == b
    assert a != c


def test_seed_comes_from_scenario_unless_rng_given():
    m = NeighbourhoodModel(small(seed=11))
    assert m.seed == 11 and m.params["seed"] == 11
    m = NeighbourhoodModel(small(seed=11), rng=12)
    assert m.seed == 12 and m.params["seed"] == 12


def test_model_time_is_minutes_and_steps_walk_minutes():
    m = NeighbourhoodModel(small())
    m.run_for(90)
    assert m.time == 90 and m.steps == 90
    rows = m.recorder.timeseries()
    assert list(rows["time_min"]) == [60]
    m.run_until(1440 * 0.25)
    assert m.metrics()["pedestrians.walk_minutes"] > 0


def test_timeseries_has_a_row_per_hour_and_adds_up():
    m = NeighbourhoodModel(small(**{"time.days": 1.0}))
    metrics = m.run()
    ts = m.recorder.timeseries()
    assert list(ts["time_min"]) == list(range(60, 1441, 60))
    assert ts["walker_minutes"].sum() == metrics["pedestrians.walk_minutes"]
    assert ts["sightings"].sum() == metrics["footage.sightings"]
    assert ts["trips_completed"].sum() == metrics["trips.completed"]


def test_default_constructor_runs_and_model_is_garbage_collected():
    m = NeighbourhoodModel(small())
    m.run_for(30)
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None


fractions = st.floats(0, 1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    adoption=fractions,
    detection=fractions,
    segregation=fractions,
    minority=st.floats(0.0, 1.0),
    pedestrians=st.integers(0, 500),
    blocks=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    removal=st.floats(0, 0.6),
    spacing=st.floats(6, 60),
    seed=st.integers(0, 2**32),
)
def test_random_valid_scenarios_give_bounded_metrics(
    adoption, detection, segregation, minority, pedestrians, blocks, removal, spacing, seed
):
    params = Scenario().replace(
        {
            "time.days": 0.1,
            "cameras.adoption": adoption,
            "cameras.detection_probability": detection,
            "world.segregation": segregation,
            "population.groups": {"majority": 1 - minority, "minority": minority},
            "population.pedestrians": pedestrians,
            "world.blocks_x": blocks[0],
            "world.blocks_y": blocks[1],
            "world.street_removal": removal,
            "world.home_spacing_m": spacing,
            "seed": seed,
        }
    )
    m = NeighbourhoodModel(params).run()
    for key, value in m.items():
        if value is None:
            continue
        assert np.isfinite(value), key
        if "fraction" in key:
            assert 0 <= value <= 1, (key, value)
        else:
            assert value >= 0, (key, value)
    if m["trips.completed"] and m["coverage.trip_recorded_fraction"] is not None:
        assert m["coverage.trip_recorded_fraction"] <= m["coverage.trip_in_view_fraction"]


def test_every_route_anyone_can_walk_has_length():
    m = NeighbourhoodModel(small(**{"population.pedestrians": 2000}))
    pop = m.population
    routes = pop.possible_routes(np.arange(pop.count))
    assert len(routes) > 0
    assert np.all(np.diff(m.routes.ptr)[routes] > 0)
    assert np.all(m.routes.length[routes] > 0)


def test_keyed_poisson_draws_match_scipy():
    from scipy.stats import poisson

    from sim.engine.rng import poisson_from_uniform

    for mean in (0.3, 2.0, 12.0, 80.0):
        for u in np.linspace(0.001, 0.999, 57):
            assert poisson_from_uniform(u, mean) == int(poisson.ppf(u, mean)), (u, mean)
    assert poisson_from_uniform(0.5, 0.0) == 0


BUSY = {  # posts and incidents every hour or so
    "time.days": 1,
    "population.pedestrians": 600,
    "world.blocks_x": 5,
    "world.blocks_y": 4,
    "reporting.base_rate": 0.02,
    "reporting.direct_rate": 0.5,
    "population.offender_fraction": 0.05,
    "incidents.per_trip.package_theft": 0.3,
    "incidents.per_trip.car_break_in": 0.3,
    "time.record_minutes": 7,
}


def _outcome(m: NeighbourhoodModel) -> tuple:
    posts, incidents = m.reporting.log(), m.incidents.log()
    return (
        metrics_json(m.metrics()),
        [getattr(posts, f).tolist() for f in ("minute", "poster", "person", "about_incident")],
        [getattr(incidents, f).tolist() for f in ("minute", "person", "home", "kind")],
        {k: np.nan_to_num(v, nan=-1.0).tolist() for k, v in m.recorder.timeseries().items()},
        len(m.footage.query(0, int(m.time))),
    )


def _reading(m: NeighbourhoodModel) -> tuple:
    """What a reader sees between steps (without writing a time-series row)."""
    return (
        m.walking(),
        m.recorder.walk_minutes.tolist(),
        m.recorder.trips_started,
        m.reporting.alerts,
        len(m.reporting.log()),
        m.incidents.attempts,
        m.footage.nbytes,
    )


def test_stepping_by_hand_and_reading_as_it_goes_ends_where_a_run_ends():
    """The hour is walked ahead and its effects settled lazily: a model stepped minute by
    minute (as the classroom app does) and run in odd pieces reads, between steps, what a
    model run straight to that minute reads, and ends with the same posts, incidents, time
    series and footage as a model run in one go."""
    params = Scenario().replace(BUSY)
    whole = NeighbourhoodModel(params, rng=2)
    whole.run()
    pieces, straight = NeighbourhoodModel(params, rng=2), NeighbourhoodModel(params, rng=2)
    readings = []
    for minute in range(1, 1441):
        if minute % 97 == 0:
            pieces.run_for(13)  # a few minutes at once
        elif pieces.time < minute:
            pieces.step()
        if minute % 41 == 0 and pieces.time == minute:
            straight.run_until(minute)
            readings.append(_reading(pieces))
            assert readings[-1] == _reading(straight)
    assert pieces.time == whole.time == 1440
    assert _outcome(pieces) == _outcome(whole)
    assert len(whole.reporting.log()) > 20 and len(whole.incidents.log().id) > 5
    assert len(readings) > 25 and max(r[0] for r in readings) > 0


def test_posts_decided_ahead_are_those_of_reviewing_every_decision():
    """Deciding the posts of people who cannot be seen offending when the hour is planned
    loses none: a run that leaves every decision to its minute posts the same."""
    params = Scenario().replace(BUSY)
    runs = []
    for ahead in (True, False):
        model = NeighbourhoodModel(params, rng=4)
        minutes = []
        plan = model.reporting.plan_reviews

        def plan_reviews(
            start, stop, walked, has_camera, may_offend, plan=plan, ahead=ahead, n=minutes
        ):
            everyone = may_offend if ahead else np.ones_like(may_offend)
            due = plan(start, stop, walked, has_camera, everyone)
            n.append(len(due))
            return due

        model.reporting.plan_reviews = plan_reviews
        model.run()
        runs.append((_outcome(model), sum(minutes)))
    (decided, n_decided), (reviewed, n_reviewed) = runs
    assert decided == reviewed
    assert n_decided < 0.6 * n_reviewed  # and many minutes needed no review


def test_hours_walked_at_once_change_nothing(monkeypatch):
    """A small world walks a whole day ahead; towns and cities an hour at a time (bounded by
    ``PLAN_TRIPS``): either way, the same run."""
    params = Scenario().replace(BUSY)
    outcomes = []
    for plan_trips in (engine_module.PLAN_TRIPS, 1):
        monkeypatch.setattr(engine_module, "PLAN_TRIPS", plan_trips)
        model = NeighbourhoodModel(params, rng=6)
        chunks = []
        walk = model.walks.walk

        def spy(start, stop, walk=walk, chunks=chunks):
            chunks.append(stop - start)
            return walk(start, stop)

        model.walks.walk = spy
        model.run()
        outcomes.append(_outcome(model))
        assert chunks == [1440] if plan_trips > 1 else len(chunks) > 12
    assert outcomes[0] == outcomes[1]
