"""The engine (sim/engine/engine.py): walking ahead gives what running every minute in its turn
gives, for every preset; its invariants are enforced (cameras changed mid-day, fear changed
only on the hour, state read only once settled)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.engine import engine as engine_module
from sim.model.model import NeighbourhoodModel
from sim.runs.outputs import metrics_json
from sim.scenario.scenario import Scenario, load

ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted((ROOT / "scenarios").glob("*.toml"))

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
    """Everything a run produces that a walk could change."""
    posts, incidents = m.reporting.log(), m.incidents.log()
    seen = m.footage.query(0, int(m.time))
    return (
        metrics_json(m.metrics()),
        [getattr(posts, f).tolist() for f in ("minute", "poster", "person", "about_incident")],
        [getattr(incidents, f).tolist() for f in ("minute", "person", "home", "kind")],
        {k: np.nan_to_num(v, nan=-1.0).tolist() for k, v in m.recorder.timeseries().items()},
        sorted(zip(seen.camera.tolist(), seen.person.tolist(), seen.t_in.tolist(), strict=True)),
    )


def _short(path: Path) -> Scenario:
    """A preset, on a small world for a day and a quarter (a day start, with its
    installations, inside the run), busier than usual so that a short run posts."""
    params = load(path)
    kv = {
        "time.days": 1.25,
        "time.record_minutes": 30,
        "reporting.base_rate": max(params["reporting.base_rate"], 0.02),
        "population.offender_fraction": max(params["population.offender_fraction"], 0.05),
        "incidents.per_trip.package_theft": 0.3,
        "incidents.per_trip.car_break_in": 0.3,
    }
    if params["world.kind"] == "grid":
        kv |= {"world.blocks_x": 5, "world.blocks_y": 4, "population.pedestrians": 700}
        kv["population.per_household"] = 0.0
    else:  # an OpenStreetMap extract: fewer people on the same streets
        kv["population.per_household"] = 0.6
    return params.replace(kv)


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_walking_ahead_equals_every_minute_in_its_turn(path):
    """Each preset, shortened: the model walking ahead (a small world's day at once) and the
    model run minute by minute without walking ahead (``time.walk_ahead = false``) give the
    same metrics, posts, incidents, time series and footage."""
    params = _short(path)
    runs = []
    for ahead in (True, False):
        model = NeighbourhoodModel(params.replace({"time.walk_ahead": ahead}))
        chunks = []
        walk = model.walks.walk

        def spy(start, stop, walk=walk, chunks=chunks):
            chunks.append(stop - start)
            return walk(start, stop)

        model.walks.walk = spy
        model.run()
        runs.append(_outcome(model))
        assert max(chunks) > 60 if ahead else set(chunks) == {1}
    assert runs[0] == runs[1]
    metrics = runs[0][0]
    assert '"trips.completed": 0,' not in metrics
    if path.stem != "no_cameras":
        assert len(runs[0][4]) > 100  # sightings


def _change_cameras(model: NeighbourhoodModel, at: int | None, log: dict):
    """At minute ``at``, an event installs cameras on 40 homes without one and retires 10
    (no event if ``at`` is None: the change is returned, to be made by hand)."""

    def change():
        cams = model.cameras
        without = np.flatnonzero(cams.home_camera < 0)[:40]
        log["new"] = cams.install(without, np.zeros(len(without), np.int8))
        log["gone"] = np.flatnonzero(cams.active)[:10]
        cams.retire(log["gone"])

    log["change"] = change  # Mesa holds events by weak reference
    if at is not None:
        model.schedule_event(change, at=at)
    return change


@pytest.mark.parametrize("at", [600, 630])
def test_cameras_changed_mid_day_record_from_that_minute_however_far_ahead_walked(monkeypatch, at):
    """Cameras installed (and retired) by an event at minute ``at`` record (and stop
    recording) from that minute, whether the day is walked at once (a small world), an hour
    at a time (a town or a city) or minute by minute: the engine walks again from the
    change. Before, the small world's new cameras recorded nothing until the next day and
    the town's from the next hour on. Owners post often here, so that the hour's posting
    decisions, planned again from the change, are tested too."""
    params = Scenario().replace({**BUSY, "reporting.base_rate": 0.3})
    runs, logs = {}, {}
    for mode, plan_trips, ahead in (("day", 10**9, True), ("hour", 1, True), ("minute", 1, False)):
        monkeypatch.setattr(engine_module, "PLAN_TRIPS", plan_trips)
        model = NeighbourhoodModel(params.replace({"time.walk_ahead": ahead}), rng=6)
        logs[mode] = log = {}
        _change_cameras(model, at, log)
        model.run()
        runs[mode] = _outcome(model)
        seen = model.footage.query(0, int(model.time))
        new = np.isin(seen.camera, log["new"])
        assert new.sum() > 20 and seen.t_in[new].min() < at + 15  # at once, not an hour on
        assert seen.t_in[new].min() >= at
        assert seen.t_in[np.isin(seen.camera, log["gone"])].max() < at
    assert runs["day"] == runs["minute"]
    assert runs["hour"] == runs["minute"]


@pytest.mark.parametrize("by", ["event", "hand"])
def test_cameras_changed_in_a_quiet_minute_record_from_it(by):
    """A change of cameras in a minute the clock had no reason to visit (default rates:
    the minutes around it are quiet), made by an event or by hand between two calls (as a
    user at the console would), records from that minute: the clock visits it, and the
    engine walks again from there."""
    world = {k: v for k, v in BUSY.items() if k.startswith(("world.", "population.ped"))}
    params = Scenario().replace({**world, "time.days": 0.5})
    at = 630
    runs = []
    for ahead in (True, False):
        model = NeighbourhoodModel(params.replace({"time.walk_ahead": ahead}), rng=6)
        log = {}
        change = _change_cameras(model, at if by == "event" else None, log)
        model.run_until(at)
        if by == "hand":
            change()
        model.run()
        runs.append(_outcome(model))
        seen = model.footage.query(0, int(model.time))
        new = np.isin(seen.camera, log["new"])
        assert new.sum() > 20 and at <= seen.t_in[new].min() < at + 5
    assert runs[0] == runs[1]


def test_only_minutes_with_work_are_visited():
    """Mesa would step the model 1,440 times a day; the clock visits only the minutes with
    work of their own (every hour's first, and those of attempts and posts), the others
    pass. ``steps`` and ``time`` still count every minute."""
    world = {k: v for k, v in BUSY.items() if k.startswith(("world.", "population.ped"))}
    for kv, most in ((world, 60), (BUSY, 600)):  # default rates; posts every few minutes
        model = NeighbourhoodModel(Scenario().replace(kv))
        visited = []
        step = model._user_step

        def spy(model=model, visited=visited, step=step):
            visited.append(model.engine.minute)
            step()

        model._user_step = spy
        model.run_for(1000)
        assert model.steps == model.time == 1000
        assert set(range(0, 1000, 60)) <= set(visited)
        assert len(visited) < most
        assert visited == sorted(set(visited))  # each minute once, in order
    assert len([m for m in visited if m % 60]) > 100  # the busy model's attempts and posts
    # the quiet minutes pass only within the minutes walked
    with pytest.raises(RuntimeError, match="not walked yet"):
        model.engine.pass_to(model.engine.walked_stop + 1)


def test_fear_changes_only_on_the_hour():
    """Fear is read-only outside the hourly update, which the posting plans rely on."""
    model = NeighbourhoodModel(Scenario().replace(BUSY))
    model.run_for(150)
    with pytest.raises(ValueError, match="read-only"):
        model.reporting.fear[0] = 1.0
    before = model.reporting.fear.copy()
    model.run_for(29)  # to minute 179: no hour ends
    np.testing.assert_array_equal(model.reporting.fear, before)
    model.run_for(1)
    assert not np.array_equal(model.reporting.fear, before)
    # an hourly update anywhere but on the hour is refused
    model.run_for(30)
    with pytest.raises(RuntimeError, match="fear changes only on the hour"):
        model._hourly()


def _reading(m: NeighbourhoodModel) -> tuple:
    return (
        m.walking(),
        m.recorder.walk_minutes.tolist(),
        m.recorder.trips_started,
        m.reporting.alerts,
        m.reporting.recordings.tolist(),
        m.incidents.attempts,
        m.incidents.package_until.tolist(),
        m.footage.total,
        len(m.accounts.leaked().person),
        len(m.ai.faces().person),
    )


def test_state_read_between_minutes_is_settled():
    """Whatever is read between steps of a model that walked ahead (and settles lazily) is
    what a model run minute by minute, settling each, holds at that time: the accessors
    settle first, so unsettled state cannot be read."""
    params = Scenario().replace(BUSY)
    ahead = NeighbourhoodModel(params)
    every = NeighbourhoodModel(params.replace({"time.walk_ahead": False}))
    readings = []
    for t in (1, 59, 61, 200, 437, 1000, 1439):
        ahead.run_until(t)
        every.run_until(t)
        readings.append(_reading(ahead))
        assert readings[-1] == _reading(every), t
    assert max(r[0] for r in readings) > 0 and readings[-1][7] > 100


def test_minutes_must_be_begun_in_order():
    model = NeighbourhoodModel(Scenario().replace(BUSY))
    model.run_for(5)
    with pytest.raises(RuntimeError, match="minute 3 begun"):
        model.engine.walk(3)


def test_walks_rewound_to_a_checkpoint_walk_the_same_again():
    """``Walks.rewind`` undoes walking (the trips' counters, the rings, blocks dropped):
    walking again from the checkpoint gives the same sightings, windows, arrivals and
    counts, in pieces or at once."""
    model = NeighbourhoodModel(Scenario().replace(BUSY))
    walks = model.walks
    model.step()  # the day is walked ahead at once, from a checkpoint
    first = model.engine._walked
    walks.rewind(model.engine._checkpoint)
    again = [walks.walk(0, 500), walks.walk(500, 1440)]
    for name in ("camera", "person", "t_out", "window_person", "done_person", "done_recorded"):
        joined = np.concatenate([getattr(w, name) for w in again])
        np.testing.assert_array_equal(getattr(first, name), joined, err_msg=name)
    np.testing.assert_array_equal(first.after, np.concatenate([w.after for w in again]))
    assert len(first.camera) > 1000 and first.done_recorded.sum() > 100
