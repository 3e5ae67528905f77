"""Camera recording checked against results computed another way: a formula, a brute-force
per-minute simulation, and the limits of zero and full adoption."""

import numpy as np

from sim.engine.movement import Walks
from sim.model.cameras import Cameras
from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario
from sim.validation import validate


def test_share_of_trips_recorded_matches_independent_camera_formula():
    """P(recorded) = 1 - (1 - a v)^n for n homes passed, each with a camera with probability a
    that records with probability v: sim.validation.validate.coverage_formula (one implementation,
    also
    in the validation report). The check has power: it rejects the formula without the
    detection probability."""
    check = validate.coverage_formula("quick")
    assert check.passed, check.detail
    wrong = validate.coverage_formula("quick", expected_fn=lambda a, v, n: 1 - (1 - a) ** n)
    assert not wrong.passed, wrong.detail


def _brute_force_sightings(routes, cams, route, t0, speed):
    """Per-minute sweep in plain Python: camera c records the walker in minute k when the
    stretch walked in that minute, [k v, (k+1) v], touches the camera's view."""
    out = []
    L = routes.length[route]
    duration = max(int(np.ceil(L / speed)), 1)
    for p in range(routes.ptr[route], routes.ptr[route + 1]):
        e, frm, to, start = routes.edge[p], routes.frm[p], routes.to[p], routes.start[p]
        for c in np.flatnonzero(cams.sees_street() & (cams.edge == e)):
            lo = max(cams.view_lo[c], min(frm, to))
            hi = min(cams.view_hi[c], max(frm, to))
            if lo > hi:
                continue
            s_in = start + (lo - frm if to >= frm else frm - hi)
            s_out = start + (hi - frm if to >= frm else frm - lo)
            minutes = [
                k for k in range(duration) if k * speed <= s_out and min((k + 1) * speed, L) >= s_in
            ]
            if minutes:
                out.append((int(c), t0 + minutes[0], t0 + minutes[-1]))
    return sorted(out)


def test_walkers_match_a_brute_force_per_minute_sweep():
    model = NeighbourhoodModel(
        Scenario().replace({"cameras.adoption": 0.5, "reporting.direct_rate": 0.0}), rng=3
    )
    routes, cams, passes = model.routes, model.cameras, model.passes
    rng = np.random.default_rng(0)
    n = 150
    route = rng.integers(0, routes.count, n)
    t0 = np.sort(rng.integers(0, 30, n))
    speed = rng.uniform(50, 100, n)
    w = Walks(routes, passes, np.zeros(n, np.int64), 1, 0, 1.0)  # every camera records
    w.plan(np.arange(n), route, t0, speed)
    got: dict[int, list] = {i: [] for i in range(n)}
    r = w.walk(0, w.last_minute + 1)
    for c, p, t_in, t_out in zip(r.camera, r.person, r.minute, r.t_out, strict=True):
        got[int(p)].append((int(c), int(t_in), int(t_out)))
    for i in range(n):
        assert sorted(got[i]) == _brute_force_sightings(routes, cams, route[i], t0[i], speed[i])


def _params(**kv):
    base = {
        "time.days": 0.5,
        "population.pedestrians": 600,
        "world.blocks_x": 5,
        "world.blocks_y": 4,
    }
    return Scenario().replace({**base, **kv})


def test_zero_adoption_records_nothing():
    m = NeighbourhoodModel(_params(**{"cameras.adoption": 0.0})).run()
    assert m["cameras.count"] == 0
    assert m["footage.sightings"] == 0
    assert m["coverage.exposure_fraction"] == 0
    assert m["coverage.trip_recorded_fraction"] == 0
    assert m["coverage.street_fraction"] == 0
    assert m["trips.completed"] > 100


def test_full_adoption_and_detection_records_every_trip_that_passes_a_home():
    # Long west-east blocks with one home a side and no homes on the short streets; visitors
    # walk between entry points and amenities, so some trips pass no front door at all.
    params = _params(
        **{
            "cameras.adoption": 1.0,
            "cameras.detection_probability": 1.0,
            "cameras.mix.doorbell": 1.0,
            "cameras.mix.stickup": 0.0,
            "cameras.mix.floodlight": 0.0,
            "cameras.mix.indoor": 0.0,
            "world.home_spacing_m": 110.0,
            "world.block_length_m": 200.0,
            "world.amenities_per_100_homes": 25.0,
            "population.kinds.resident": 0.0,
            "population.kinds.visitor": 1.0,
            "population.kinds.delivery": 0.0,
            "population.visitor_home_share": 0.0,
        }
    )
    model = NeighbourhoodModel(params)
    # Which routes pass a front door, by geometry alone (independent of the pass table).
    routes, homes = model.routes, model.world.homes
    passes_home = np.zeros(routes.count, bool)
    for r in range(routes.count):
        for e, frm, to in routes.pieces(r):
            on = homes.offset[homes.edge == e]
            if np.any((on >= min(frm, to)) & (on <= max(frm, to))):
                passes_home[r] = True
                break
    done_route, done_recorded, done_in_view = [], [], []
    original = model.walks.walk

    def spy(*args):
        r = original(*args)
        run = r.done_minute < model.duration  # walked ahead: arrivals after the run's end too
        done_route.extend(r.done_route[run].tolist())
        done_recorded.extend(r.done_recorded[run].tolist())
        done_in_view.extend(r.done_in_view[run].tolist())
        return r

    model.walks.walk = spy
    m = model.run()
    assert m["cameras.count"] == homes.count
    assert len(done_route) == m["trips.completed"] > 100
    # trip by trip: recorded exactly when its route passes a front door
    np.testing.assert_array_equal(np.array(done_recorded) > 0, passes_home[done_route])
    np.testing.assert_array_equal(np.array(done_in_view) > 0, passes_home[done_route])
    assert 0 < passes_home[done_route].mean() < 1  # both kinds of trip occur


def test_street_fraction_is_cameras_union_not_sum():
    model = NeighbourhoodModel(_params(**{"cameras.adoption": 1.0}))
    cams: Cameras = model.cameras
    seen = cams.sees_street()
    total = (cams.view_hi[seen] - cams.view_lo[seen]).sum()
    assert cams.covered_length() <= total + 1e-9
    assert cams.covered_length() < total  # views on opposite sides of a street overlap


def _exposure(seeds=(0, 1), **kv) -> np.ndarray:
    return np.array(
        [
            NeighbourhoodModel(_params(**kv), rng=s).run()["coverage.exposure_fraction"]
            for s in seeds
        ]
    )


def test_exposure_is_a_share_of_walking_time_whatever_the_walking_speed():
    """Exposure is time in view over walking time, in continuous time: halving or doubling
    everyone's speed (the same people, routes and departures: paired by seed) leaves it
    unchanged up to the last part-minute of detection draws. Counted in whole minutes it was
    0.69 / 0.83 / 0.90 at these speeds."""
    same = {"population.walk_speed_cv": 0.0}
    at = {v: _exposure(**same, **{"population.walk_speed_m_per_min": v}) for v in (39, 78, 156)}
    assert np.all((at[78] > 0.05) & (at[78] < 0.5))
    for v in (39, 156):
        np.testing.assert_allclose(at[v], at[78], rtol=0.05)


def test_exposure_follows_the_width_of_the_camera_views():
    """Doorbells see a narrower stretch of street than stick-up cameras, and those less than
    floodlights: exposure orders the same way, in about the ratio of street in view."""
    shares, street = {}, {}
    for kind in ("doorbell", "stickup", "floodlight"):
        mix = {
            f"cameras.mix.{t}": float(t == kind)
            for t in ("doorbell", "stickup", "floodlight", "indoor")
        }
        runs = [NeighbourhoodModel(_params(**mix), rng=s).run() for s in (0, 1)]
        shares[kind] = np.mean([m["coverage.exposure_fraction"] for m in runs])
        street[kind] = np.mean([m["coverage.street_fraction"] for m in runs])
    assert shares["doorbell"] < 0.6 * shares["stickup"] < 0.6 * shares["floodlight"]
    ratio = shares["doorbell"] / shares["floodlight"]
    assert 0.6 < ratio / (street["doorbell"] / street["floodlight"]) < 1.6
