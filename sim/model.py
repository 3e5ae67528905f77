"""The Mesa model: one step is one simulated minute; submodels run in one documented order.

Order of work (docs/ODD.md, "Process overview and scheduling"):

1. At the start of each day (a scheduled event at minute 1440 d): draw the day's tours for
   every pedestrian and expire footage older than the store's horizon.
2. Each minute (the Mesa step):
   a. rebuild the camera pass table if cameras changed;
   b. start the trips that depart this minute;
   c. walk every walker one minute; cameras in view record them (with the detection
      probability); arrivals leave the walking arrays;
   d. store the new sightings in the footage store and update the counters.
3. Every ``time.record_minutes`` (a scheduled event): write one time-series row.

``model.time`` counts minutes elapsed; the step executed at time t simulates minute t - 1.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
from mesa.time import Schedule

from sim.cameras import initial_cameras
from sim.footage import FootageStore
from sim.metrics import Recorder
from sim.movement import PassTable, Walkers
from sim.population import MINUTES_PER_DAY, DayTrips, Population
from sim.rng import Streams
from sim.scenario import Scenario
from sim.world import build_world


class NeighbourhoodModel(mesa.Model):
    """A neighbourhood of homes with cameras and the pedestrians who walk past them.

    Args:
        params: a validated scenario (defaults when omitted).
        rng: integer seed; when omitted, the scenario's ``seed``.
    """

    def __init__(self, params: Scenario | None = None, rng: int | None = None) -> None:
        params = params if params is not None else Scenario()
        seed = int(params["seed"] if rng is None else rng)
        super().__init__(rng=seed)
        self.params = params.replace({"seed": seed}) if seed != params["seed"] else params
        self.seed = seed
        self.streams = Streams(seed)
        self.world = build_world(self.params, self.streams.generator("world"))
        self.cameras = initial_cameras(
            self.world.homes, self.world.net, self.params, self.streams.generator("cameras")
        )
        self.population = Population(self.world, self.params, self.streams.generator("people"))
        self.routes = self.population.routes
        self.passes = PassTable(self.routes, self.cameras)
        self.walkers = Walkers()
        self.footage = FootageStore(self._camera_xy, self.params["footage.store_days"])
        self.duration = round(self.params["time.days"] * MINUTES_PER_DAY)
        every = self.params["time.record_minutes"]
        self.recorder = Recorder(
            self.population.group, self.world.group_names, math.ceil(self.duration / every) + 2
        )
        self._detection_probability = self.params["cameras.detection_probability"]
        self._schedule_rng = self.streams.generator("schedule")
        self._trips = DayTrips(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64))
        self._next_trip = 0
        self._minute = 0
        self._last_record = 0
        self._start_day()
        self.schedule_recurring(
            self._start_day, Schedule(interval=MINUTES_PER_DAY, start=MINUTES_PER_DAY)
        )
        self.schedule_recurring(self._record, Schedule(interval=every, start=every))

    # ------------------------------------------------------------------ scheduled work

    def _start_day(self) -> None:
        """Draw today's tours (keeping trips still to depart from earlier days)."""
        now = int(self.time)
        day = now // MINUTES_PER_DAY
        new = self.population.day_trips(day, self._schedule_rng)
        left = slice(self._next_trip, len(self._trips))
        depart = np.concatenate([self._trips.depart[left], new.depart])
        person = np.concatenate([self._trips.person[left], new.person])
        route = np.concatenate([self._trips.route[left], new.route])
        order = np.argsort(depart, kind="stable")
        self._trips = DayTrips(depart[order], person[order], route[order])
        self._next_trip = 0
        self.footage.expire(now)

    def _record(self) -> None:
        self._last_record = int(self.time)
        self.recorder.record(
            int(self.time),
            len(self.walkers),
            self.cameras.count,
            self.cameras.street_fraction(),
            self.footage.nbytes,
        )

    def step(self) -> None:
        """Simulate one minute of walking and recording."""
        now = self._minute
        if self.passes.camera_version != self.cameras.version:
            self.passes = PassTable(self.routes, self.cameras)
            self.walkers.repoint(now, self.routes, self.passes)
        trips = self._trips
        end = int(np.searchsorted(trips.depart, now, side="right"))
        if end > self._next_trip:
            sl = slice(self._next_trip, end)
            person = trips.person[sl]
            self.walkers.start(
                person,
                trips.route[sl],
                now,
                self.population.speed[person],
                self.routes,
                self.passes,
            )
            self.recorder.on_start(end - self._next_trip)
            self._next_trip = end
        if len(self.walkers):
            result = self.walkers.step(now, self.routes, self.passes, self._detect)
            self.footage.add(
                result.camera, result.person, np.full(len(result.camera), now), result.t_out
            )
            self.recorder.on_step(result)
        self._minute += 1

    def _detect(self, camera: np.ndarray, person: np.ndarray) -> np.ndarray:
        """Whether each camera in view records the person this minute (keyed draws)."""
        u = self.streams.uniform("camera.detect", camera, person, self._minute)
        return u < self._detection_probability

    def _camera_xy(self) -> np.ndarray:
        return self.world.homes.xy[self.cameras.home]

    # ------------------------------------------------------------------ running, results

    def run(self, progress=None) -> dict[str, float | int | None]:
        """Run the scenario's whole duration (day by day, calling ``progress(days_done)``)
        and return the final metrics."""
        while self.time < self.duration:
            self.run_until(
                min(self.duration, (int(self.time) // MINUTES_PER_DAY + 1) * MINUTES_PER_DAY)
            )
            if progress:
                progress(self.time / MINUTES_PER_DAY)
        return self.metrics()

    def walker_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Map positions and groups of everyone walking (for drawing)."""
        w = self.walkers
        s = np.minimum((self._minute - w.t0) * w.speed, self.routes.length[w.route])
        xy = self.routes.positions(w.route, s, self.world.net)
        return xy, self.population.group[w.person]

    def metrics(self) -> dict[str, float | int | None]:
        """The flat metrics of the run so far (see docs/metrics.md)."""
        if self._last_record < int(self.time):
            self._record()
        out = {
            "coverage.street_fraction": self.cameras.street_fraction(),
            **self.recorder.metrics(),
            "cameras.count": self.cameras.count,
            "homes.count": self.world.homes.count,
            "pedestrians.count": self.population.count,
            "footage.sightings": int(self.footage.total),
            "footage.peak_mb": self.footage.peak_nbytes / 1e6,
            "world.street_length_m": self.world.net.total_length,
        }
        return dict(sorted(out.items()))
