"""The pass table: built in chunks and updated in place, it equals one built from scratch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import movement
from sim.engine.movement import PassTable, Viewers
from sim.model.model import NeighbourhoodModel
from sim.model.population import _by_minute_then_person, _by_person_then_minute
from sim.scenario.scenario import Scenario


@pytest.fixture(scope="module")
def model():
    return NeighbourhoodModel(
        Scenario().replace(
            {"world.blocks_x": 5, "world.blocks_y": 4, "population.pedestrians": 300}
        ),
        rng=3,
    )


def _rows(table: PassTable) -> list[tuple[float, int, float]]:
    """The passes of windows and of cameras in use."""
    cam = table.viewer >= 0
    live = ~cam
    live[cam] = table.camera_live[table.viewer[cam]]
    return sorted(
        zip(
            table.key[live].tolist(),
            table.viewer[live].tolist(),
            table.s_out[live].tolist(),
            strict=True,
        )
    )


def _viewers(model) -> Viewers:
    cams, homes = model.cameras, model.world.homes
    windows = Viewers.windows(homes, cams, 10.0, cams.home_camera < 0)
    return Viewers.concat(Viewers.cameras(cams), windows)


def test_build_equals_every_piece_viewer_pair_sorted_by_key(model):
    """The compiled build (route by route) gives the table of all (piece, viewer) pairs on the
    same street, computed pair by pair and sorted by key (ties in piece, then viewer order)."""
    viewers = _viewers(model)
    table = PassTable(model.routes, viewers, 0)
    routes = model.routes
    by_edge = np.argsort(viewers.edge, kind="stable")
    piece, v = [], []
    for p in range(len(routes.edge)):
        on = by_edge[viewers.edge[by_edge] == routes.edge[p]]
        piece += [p] * len(on)
        v += on.tolist()
    rows = table._passes(np.array(piece), viewers, np.array(v))
    assert len(table) > 1000
    np.testing.assert_array_equal(table.rows, rows)


def test_sync_after_installs_and_retirements_equals_a_fresh_build(model):
    cams = model.cameras
    table = PassTable(model.routes, Viewers.cameras(cams), cams.version)
    rng = np.random.default_rng(0)
    for _ in range(3):
        free = np.flatnonzero(cams.home_camera < 0)
        new = rng.choice(free, size=25, replace=False)
        cams.install(new, cams.draw_kinds(len(new), rng))
        active = np.flatnonzero(cams.active)
        cams.retire(rng.choice(active, size=10, replace=False))
        table.sync(cams)
        fresh = PassTable(model.routes, Viewers.cameras(cams), cams.version)
        assert np.all(np.diff(table.key) >= 0)  # still sorted: one searchsorted finds passes
        assert _rows(table) == _rows(fresh)
        assert table.camera_version == cams.version
        in_use = set(np.flatnonzero(cams.sees_street()).tolist())
        assert set(np.flatnonzero(table.camera_live).tolist()) == in_use
        np.testing.assert_array_equal(  # each route's first pass, kept up to date
            table.first_of_route[:-1],
            fresh.first_of_route[:-1]
            + np.searchsorted(  # fresh has no dead passes: count those before each route
                np.sort(
                    table.key[(table.viewer >= 0) & ~table.camera_live[np.maximum(table.viewer, 0)]]
                ),
                np.arange(model.routes.count) * table.scale,
            ),
        )


def _walked(walks, start, stop):
    """Minutes' sightings (camera, person, minute, t_out), window passes (home, person,
    minute), arrivals (person, minute, views, recordings) and counts, walked at once."""
    r = walks.walk(start, stop)
    seen = list(
        zip(r.camera.tolist(), r.person.tolist(), r.minute.tolist(), r.t_out.tolist(), strict=True)
    )
    windows = list(
        zip(r.window_home.tolist(), r.window_person.tolist(), r.window_minute.tolist(), strict=True)
    )
    done = list(
        zip(
            r.done_person.tolist(),
            r.done_minute.tolist(),
            r.done_in_view.tolist(),
            r.done_recorded.tolist(),
            r.done_rec_time.tolist(),
            strict=True,
        )
    )
    counts = list(zip(r.walking.tolist(), r.after.tolist(), strict=True))
    for rows, ptr, minute in ((seen, r.sight_ptr, 2), (windows, r.window_ptr, 2)):
        assert [row[minute] for row in rows] == np.repeat(
            np.arange(start, stop), np.diff(ptr)
        ).tolist()
    return seen, windows, done, counts


def _walk_all(walks, start, until):
    """Minutes ``start`` to ``until - 1``, one at a time, joined."""
    seen, done, counts = [], [], []
    for now in range(start, until):
        s, _, d, c = _walked(walks, now, now + 1)
        seen, done, counts = seen + s, done + d, counts + c
    return seen, done, counts


def _trips(model, n, rng, spread):
    route = rng.integers(0, model.routes.count, n)
    depart = np.sort(rng.integers(0, spread, n))
    speed = rng.uniform(40, 110, n)
    return np.arange(n), route, depart, speed


def _walks(model, n, detection=1.0):
    return movement.Walks(model.routes, model.passes, np.arange(n) % 2, 2, 99, detection)


def test_planning_in_blocks_equals_planning_at_once(model):
    """Hour by hour (as the model plans) or all at once: the same minutes, in the same order."""
    rng = np.random.default_rng(2)
    n = 400
    person, route, depart, speed = _trips(model, n, rng, 180)
    whole = _walks(model, n)
    whole.plan(person, route, depart, speed)
    expected = _walk_all(whole, 0, whole.last_minute + 1)
    hourly = _walks(model, n)
    seen, done, counts = [], [], []
    for now in range(whole.last_minute + 1):
        if now % 60 == 0:
            sel = (depart >= now) & (depart < now + 60)
            hourly.plan(person[sel], route[sel], depart[sel], speed[sel])
        s, _, d, c = _walked(hourly, now, now + 1)
        seen += s
        done += d
        counts += c
    assert (seen, done, counts) == expected
    assert len(expected[0]) > 500 and len(expected[1]) == n


def test_walking_a_range_at_once_equals_walking_its_minutes_one_by_one(model):
    """The model walks an hour ahead: the same sightings, window passes, arrivals and counts,
    in the same order, as walking minute by minute, across blocks planned in different hours
    (trips of one hour still walking in the next)."""
    rng = np.random.default_rng(7)
    n = 500
    person, route, depart, speed = _trips(model, n, rng, 150)
    caps = np.full(model.world.homes.count, 0.5)  # leave out about half the window passes
    rows = {}
    for step in (60, 1):
        walks = _walks(model, n, detection=0.7)
        rows[step] = [[], [], [], []]
        for hour in range(0, 240, 60):
            sel = (depart >= hour) & (depart < hour + 60)
            walks.plan(
                person[sel], route[sel], depart[sel], speed[sel], (np.uint64(5), lambda _: caps)
            )
            for now in range(hour, hour + 60, step):
                for acc, part in zip(rows[step], _walked(walks, now, now + step), strict=True):
                    acc += part
    assert rows[60] == rows[1]
    seen, windows, done, counts = rows[60]
    assert len(seen) > 300 and len(windows) > 100 and len(done) == n
    assert any(sum(w) for w, _ in counts)
    assert any(d[-1] > 0 for d in done)


def test_counts_of_walkers_match_a_per_walker_sweep(model):
    """The ring of differences gives, each minute, the people walking by group, and the
    people still walking after it."""
    rng = np.random.default_rng(3)
    n = 300
    person, route, depart, speed = _trips(model, n, rng, 60)
    walks = _walks(model, n, detection=0.6)
    walks.plan(person, route, depart, speed)
    _, done, counts = _walk_all(walks, 0, walks.last_minute + 1)
    duration = np.maximum(np.ceil(model.routes.length[route] / speed), 1).astype(int)
    group = person % 2
    for now, (walking, after) in enumerate(counts):
        on = (depart <= now) & (now < depart + duration)
        assert walking == np.bincount(group[on], minlength=2).tolist()
        assert after == int((on & (now < depart + duration - 1)).sum())
    assert len(done) == n


def _union_metres(intervals) -> float:
    """Length of a union of closed intervals (sorted, then merged)."""
    total, lo, hi = 0.0, None, None
    for a, b in sorted(intervals):
        if hi is None or a > hi:
            total += 0.0 if hi is None else hi - lo
            lo, hi = a, b
        else:
            hi = max(hi, b)
    return total + (0.0 if hi is None else hi - lo)


def test_time_on_camera_is_the_union_of_the_views_walked_through(model):
    """With certain detection, a trip's time on camera is the length of the union of the
    camera views along its route (entry to exit, within the route) over its speed, in
    continuous time: overlapping views count once, and a slower walker spends longer in
    the same views. With detection below 1, never more."""
    rng = np.random.default_rng(3)
    n = 300
    person, route, depart, speed = _trips(model, n, rng, 60)
    table = model.passes
    length = model.routes.length[route]
    expected = []
    for r, L in zip(route.tolist(), length.tolist(), strict=True):
        lo, hi = np.searchsorted(table.key, [r * table.scale, (r + 1) * table.scale])
        v = table.viewer[lo:hi]
        cam = (v >= 0) & table.camera_live[np.maximum(v, 0)]
        s_in = table.key[lo:hi][cam] - r * table.scale
        s_out = np.minimum(table.s_out[lo:hi][cam], L)
        expected.append(_union_metres([(a, b) for a, b in zip(s_in, s_out, strict=True) if b > a]))
    expected = np.array(expected)
    got = {}
    for detection in (1.0, 0.5):
        walks = _walks(model, n, detection=detection)
        walks.plan(person, route, depart, speed)
        w = walks.walk(0, walks.last_minute + 1)
        order = np.argsort(w.done_person)  # trips of distinct people, arrived in any order
        got[detection] = w.done_rec_time[order], w.done_walk_time[order]
    rec, walk = got[1.0]
    by_person = np.argsort(person)
    # the stretches are held in float32 (a millimetre on a route of kilometres)
    np.testing.assert_allclose(rec, expected[by_person] / speed[by_person], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(walk, length[by_person] / speed[by_person], rtol=1e-12)
    assert (rec > 0).sum() > 50 and np.all(rec <= walk + 1e-9)
    assert np.all(got[0.5][0] <= rec + 1e-9) and got[0.5][0].sum() < 0.8 * rec.sum()


def test_cameras_installed_mid_walk_see_only_what_is_ahead(model):
    """After a resync, a walker under way is seen by a new camera only where it has not yet
    walked: the same as walking the new table from the start for the rest of the trip."""
    cams = model.cameras
    rng = np.random.default_rng(4)
    n = 300
    person, route, depart, speed = _trips(model, n, rng, 20)
    free = np.flatnonzero(cams.home_camera < 0)
    new = rng.choice(free, size=min(60, len(free)), replace=False)
    table = PassTable(model.routes, Viewers.cameras(cams), cams.version)
    walks = movement.Walks(model.routes, table, np.zeros(n, np.int64), 1, 0, 1.0)
    walks.plan(person, route, depart, speed)
    switch = 25
    before, _, _ = _walk_all(walks, 0, switch)
    cams.install(new, cams.draw_kinds(len(new), rng))
    walks.resync(switch, cams)
    after, _, _ = _walk_all(walks, switch, walks.last_minute + 1)
    # the reference: the new table from the start, keeping only minutes from the switch on
    fresh = movement.Walks(
        model.routes,
        PassTable(model.routes, Viewers.cameras(cams), cams.version),
        np.zeros(n, np.int64),
        1,
        0,
        1.0,
    )
    fresh.plan(person, route, depart, speed)
    reference, _, _ = _walk_all(fresh, 0, fresh.last_minute + 1)
    new_ids = set(cams.home_camera[new].tolist())
    assert before == [s for s in reference if s[2] < switch and s[0] not in new_ids]
    assert after == [s for s in reference if s[2] >= switch]
    assert any(s[0] in new_ids for s in after)


def test_trips_must_be_planned_in_order(model):
    walks = _walks(model, 10)
    walks.plan([0, 1], [0, 1], [5, 6], [70.0, 70.0])
    with pytest.raises(ValueError, match="departure order"):
        walks.plan([2], [2], [4], [70.0])
    walks.walk(0, 1)
    with pytest.raises(ValueError, match="next minute is 1"):
        walks.walk(2, 3)
    with pytest.raises(ValueError, match="nothing to walk"):
        walks.walk(1, 1)


def test_others_on_a_street_counts_walkers_where_they_are(model):
    """Guardians: walkers still walking after the minute, on the street of the piece they have
    reached, not counting the person asked about."""
    rng = np.random.default_rng(5)
    n = 400
    person, route, depart, speed = _trips(model, n, rng, 30)
    walks = _walks(model, n)
    walks.plan(person, route, depart, speed)
    routes = model.routes
    for now in range(40):
        walks.walk(now, now + 1)
        if now % 7:
            continue
        duration = np.maximum(np.ceil(routes.length[route] / speed), 1)
        on = np.flatnonzero((depart <= now) & (now < depart + duration - 1))
        s = np.minimum((now - depart[on]) * speed[on], routes.length[route[on]])
        street = routes.edge[routes.piece_at(route[on], s)]
        edges = np.concatenate([street[:5], rng.choice(routes.edge, 5)])
        people = np.concatenate([person[on][:5], rng.integers(0, n, 5)])
        expected = [
            int(np.sum((street == e) & (person[on] != p)))
            for e, p in zip(edges, people, strict=True)
        ]
        assert walks.others_on(now, edges, people).tolist() == expected
        assert sum(expected) > 0


@settings(deadline=None)  # the first example compiles the loops
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(-5, 3000)), max_size=200))
def test_tours_and_trips_are_ordered_as_lexsort_orders_them(pairs):
    """A day's tours, listed by person, are put in time order per person, and its trips,
    listed by person with distinct (departure, person), in departure order: each as
    lexsort orders them (ties kept in the order given)."""
    pairs = sorted(pairs, key=lambda p: p[0])  # listed by person (a stable sort)
    person = np.array([a for a, _ in pairs], np.int32)
    depart = np.array([b for _, b in pairs], np.int64)
    by_person = np.lexsort((depart, person))
    np.testing.assert_array_equal(_by_person_then_minute(person, depart), by_person)
    person, depart = person[by_person], depart[by_person]
    distinct = np.ones(len(person), bool)
    distinct[1:] = (person[1:] != person[:-1]) | (depart[1:] != depart[:-1])
    person, depart = person[distinct], depart[distinct]
    route = np.arange(len(person), dtype=np.int64) * 7
    order = np.lexsort((person, depart))
    got = _by_minute_then_person(depart, person, route)
    for a, b in zip(got, (depart[order], person[order], route[order]), strict=True):
        np.testing.assert_array_equal(a, b)
    assert got[1].dtype == np.int32


@settings(deadline=None)  # the first example compiles the loop
@given(
    st.integers(0, 40),
    st.lists(st.integers(0, 40), max_size=15),
    st.integers(0, 5),
)
def test_rows_inserted_in_place_as_np_insert(n, positions, spare):
    """New cameras' passes go into the table's buffer in place, where ``np.insert`` would put
    them (positions sorted, repeats and both ends allowed)."""
    at = np.sort(np.minimum(np.array(positions, np.int64), n))
    rows = np.zeros(n + len(at) + spare, movement.PASS_ROW)
    rows["key"][:n] = np.arange(n)
    rows["viewer"][:n] = np.arange(n)
    new = np.zeros(len(at), movement.PASS_ROW)
    new["key"] = at - 0.5
    new["viewer"] = -1 - np.arange(len(at))
    expected = np.insert(rows[:n], at, new)
    movement._insert_rows(rows, n, at, new)
    np.testing.assert_array_equal(rows[: n + len(at)], expected)


def test_a_days_trips_come_sorted_by_departure_then_person(model):
    """The day's trips, drawn kind by kind, come out in (departure, person) order with no
    two alike (a person never leaves twice in a minute), as the walking plan needs."""
    pop = model.population
    saved = pop.free_at.copy()
    try:
        trips = pop.day_trips(3, np.random.default_rng(5))
    finally:
        pop.free_at[:] = saved  # the model's schedule stays as it was
    assert len(trips.depart) > 100 and trips.person.dtype == np.int32
    key = trips.depart.astype(np.int64) * len(pop.kind) + trips.person
    assert np.all(np.diff(key) > 0)
    assert len(np.unique(pop.kind[trips.person])) == 3  # every kind drawn
