"""One benchmark measurement, run in a fresh process so that its peak memory is its own.

Usage (the suite calls it): python -m benchmarks.cases IMPLEMENTATION SIZE MINUTES [--cold]

Implementations, all on the same world, routes and daily schedules of the default scenario
scaled to SIZE:

* ``mesa``: the per-agent Mesa baseline (benchmarks/baseline.py), one Mesa agent per
  pedestrian on a Mesa ``Network`` space, with the core semantics it implements (walking,
  recording, biased posting; see ``benchmarks.semantics.CORE``).
* ``numpy``: the ceiling, a bare numpy walk of the same trips along the same routes (the
  walkers' arrays advanced minute by minute and placed on their streets, nothing around
  them).
* ``core``: the array model with the baseline's core semantics (a like-for-like comparison).
* ``full``: the array model with every submodel on (the default scenario).
* ``shell``: Mesa's own cost: a ``mesa.Model`` stepped each minute with the full model's
  recurring events (hourly, daily, recording), all doing nothing. No model stepped minute by
  minute by Mesa can run faster than this.

Before the timed build, every case warms its process as a sweep worker is warm after its
first run: a small model runs for two days, which loads the compiled loops from numba's cache
(``warm_up_s``, reported apart, like the import time). ``--cold`` skips it, for a user's
single run (the city week): the loops then load during the run.

Prints one JSON line: import + scenario load time, warm-up time, build time, run time,
simulated minutes, pedestrian street-minutes simulated and peak resident memory
(``ru_maxrss``).
"""

from __future__ import annotations

import json
import resource
import sys
import time

T_START = time.perf_counter()

from benchmarks.semantics import CORE  # noqa: E402
from sim.scenario.scenario import Scenario, load  # noqa: E402  (import sim + scenario loading is timed)

# World and population of each size (homes are about 15.6 per block of the default grid).
SIZES: dict[str, dict] = {
    "neighbourhood": {"world.blocks_x": 10, "world.blocks_y": 6, "population.pedestrians": 3000},
    "town": {"world.blocks_x": 72, "world.blocks_y": 45, "population.pedestrians": 200_000},
    "city": {"world.blocks_x": 162, "world.blocks_y": 100, "population.pedestrians": 1_000_000},
}


def scenario(implementation: str, size: str, minutes: int) -> Scenario:
    """The default scenario at ``size``, with the core semantics unless ``full``."""
    params = load("scenarios/default.toml", [])
    core = {} if implementation == "full" else CORE
    return params.replace({**SIZES[size], **core, "time.days": minutes / 1440})


def warm_up() -> float:
    """Run a small model for two days (every compiled loop loaded); returns the seconds."""
    from sim.model.model import NeighbourhoodModel

    t = time.perf_counter()
    small = {
        "world.blocks_x": 4,
        "world.blocks_y": 3,
        "population.pedestrians": 600,
        # busy enough that every loop runs: posts from cameras and windows, incidents
        "reporting.base_rate": 0.05,
        "population.offender_fraction": 0.05,
    }
    NeighbourhoodModel(load("scenarios/default.toml", []).replace({**small, "time.days": 2})).run()
    return time.perf_counter() - t


def _mesa_shell(params: Scenario):
    """A Mesa model with the full model's schedule and no work (the ``shell`` case)."""
    import mesa
    from mesa.time import Schedule

    class Shell(mesa.Model):
        def __init__(self) -> None:
            super().__init__(rng=1)
            for every in (60, 1440, params["time.record_minutes"]):
                self.schedule_recurring(self.nothing, Schedule(interval=every, start=every))

        def nothing(self) -> None:
            pass

        def step(self) -> None:
            pass

    return Shell()


def _numpy_walk(model, minutes: int) -> int:
    """The ceiling: the same trips walked minute by minute along the same routes, with
    nothing else: each minute, new walkers join the arrays, every walker moves on and is
    placed on the street it is walking, and arrivals leave. Returns walker-minutes."""
    import numpy as np

    trips, routes = model.engine.trips, model.routes
    speed = model.population.speed
    route, t0, v, length = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    nxt, walk = 0, 0
    for now in range(minutes):
        end = int(np.searchsorted(trips.depart, now, side="right"))
        new = trips.route[nxt:end]
        route = np.concatenate([route, new])
        t0 = np.concatenate([t0, np.full(len(new), now)])
        v = np.concatenate([v, speed[trips.person[nxt:end]]])
        length = np.concatenate([length, routes.length[new]])
        nxt = end
        walk += len(route)
        s = np.minimum((now - t0 + 1) * v, length)
        routes.piece_at(route, s)  # the street each walker is on
        keep = s < length
        route, t0, v, length = route[keep], t0[keep], v[keep], length[keep]
    return walk


def measure(implementation: str, size: str, minutes: int, warm: bool = True) -> dict:
    params = scenario(implementation, size, minutes)
    t_scenario = time.perf_counter()  # import sim + load a scenario
    from sim.model.model import NeighbourhoodModel

    t_loaded = time.perf_counter()  # + import the model (Mesa, scipy, networkx, pandas)
    warm_s = warm_up() if warm else 0.0
    t_warm = time.perf_counter()
    if implementation == "mesa":
        from benchmarks.baseline import MesaBaseline

        model = MesaBaseline(params, rng=1)
        t_built = time.perf_counter()
        while model.minute < minutes:
            model.step()
        walk = model.walk_minutes
        homes, people = model.core.world.homes.count, model.core.population.count
    elif implementation == "shell":
        model = _mesa_shell(params)
        t_built = time.perf_counter()
        model.run_until(minutes)
        walk, homes, people = 0, 0, SIZES[size]["population.pedestrians"]
    else:
        model = NeighbourhoodModel(params, rng=1)
        t_built = time.perf_counter()
        if implementation == "numpy":
            walk = _numpy_walk(model, minutes)
        else:
            walk = model.run()["pedestrians.walk_minutes"]
        homes, people = model.world.homes.count, model.population.count
    t_done = time.perf_counter()
    return {
        "implementation": implementation,
        "size": size,
        "homes": int(homes),
        "pedestrians": int(people),
        "simulated_minutes": minutes,
        "import_sim_and_load_s": t_scenario - T_START,
        "import_and_load_s": t_loaded - T_START,
        "warm_up_s": warm_s,
        "build_s": t_built - t_warm,
        "run_s": t_done - t_built,
        "walk_minutes": int(walk),
        "walk_minutes_per_s": walk / (t_done - t_built),
        "run_s_per_day": (t_done - t_built) * 1440 / minutes,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    impl, size, minutes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(measure(impl, size, minutes, warm="--cold" not in sys.argv[4:])))
