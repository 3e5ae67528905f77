"""The core of the model written the way a Mesa user would: one Mesa agent per pedestrian.

Pedestrians are ``CellAgent``s on a Mesa ``Network`` space built from the street graph; each
minute every walking agent advances along its route in Python, checks the camera views it
reached, lets each camera record it (with the detection probability), and lets the camera's
owner post it as suspicious (base rate x stranger multiplier x the owner's bias for the
person's group, unless alerts are muted). It takes the world, the routes, the daily schedules,
the camera views and the households' multipliers from the array model, so both share the same
scenario semantics (benchmarks/semantics.py lists the overrides that give the array model the
same core); it draws its own random numbers (``model.random``).

It is the benchmark's baseline (how fast plain Mesa agents go) and an oracle: a test checks
that its coverage and report metrics agree in distribution with the array model's.
"""

from __future__ import annotations

import bisect

import mesa
import numpy as np
from mesa.discrete_space import CellAgent, Network

from sim.engine.engine import MINUTES_PER_DAY, DayTrips
from sim.model.model import NeighbourhoodModel
from sim.model.reporting import MUTED
from sim.scenario.scenario import Scenario


class Pedestrian(CellAgent):
    """A pedestrian who walks its trips and is recorded by the cameras it passes."""

    def __init__(self, model: MesaBaseline, person: int, cell) -> None:
        super().__init__(model)
        self.person = person
        self.cell = cell
        self.walking = False

    def start_trip(self, route: int, now: int) -> None:
        m = self.model
        self.route = route
        self.t0 = now
        self.length = m.route_length[route]
        self.speed = m.speed[self.person]
        self.passes = m.route_passes[route]
        self.next_pass = 0
        self.recorded_to = -1.0  # metres along the route recorded up to
        self.recorded_metres = 0.0
        self.cameras_recording = 0
        self.walking = True
        m.trips_started += 1

    def step(self) -> None:
        if not self.walking:
            return
        m = self.model
        now = m.minute
        s = min((now - self.t0 + 1) * self.speed, self.length)
        while self.next_pass < len(self.passes) and self.passes[self.next_pass][0] <= s:
            s_at, s_out, camera = self.passes[self.next_pass]
            self.next_pass += 1
            if m.random.random() < m.detection:
                # the stretch in this camera's view not already in an earlier one's
                s_in, s_end = (
                    max(s_at, self.recorded_to),
                    min(s_out, self.length),
                )
                if s_end > s_in:
                    self.recorded_metres += s_end - s_in
                    self.recorded_to = s_end
                self.cameras_recording += 1
                m.sightings += 1
                m.recordings[m.group[self.person]] += 1
                m.maybe_post(camera, self.person)
        piece = m.piece_cell(self.route, s)
        if piece is not self.cell:
            self.cell = piece
        m.walk_minutes += 1
        if now - self.t0 + 1 >= self.duration():
            self.walking = False
            m.trips_done += 1
            m.walk_time += self.length / self.speed
            m.recorded_time += self.recorded_metres / self.speed
            m.trips_recorded += self.cameras_recording > 0

    def duration(self) -> int:
        return max(int(np.ceil(self.length / self.speed)), 1)


class MesaBaseline(mesa.Model):
    """Walking, recording and biased posting with one Mesa agent per pedestrian."""

    def __init__(self, params: Scenario, rng: int) -> None:
        super().__init__(rng=rng)
        core = NeighbourhoodModel(params, rng=rng)  # the same world, routes and schedules
        self.core = core
        world = core.world
        self.space = Network(
            world.graph,
            random=self.random,
            layout={n: world.net.node_xy[n] for n in world.graph.nodes},
        )
        routes = core.routes
        self.route_length = routes.length.tolist()
        # per route: where each piece starts (metres along) and the node it starts from
        start_node = np.where(
            routes.to >= routes.frm, world.net.edge_u[routes.edge], world.net.edge_v[routes.edge]
        )
        self.route_pieces = [
            (
                routes.start[routes.ptr[r] : routes.ptr[r + 1]].tolist(),
                start_node[routes.ptr[r] : routes.ptr[r + 1]].tolist(),
            )
            for r in range(routes.count)
        ]
        passes = core.passes
        order = np.searchsorted(passes.key, np.arange(routes.count + 1) * passes.scale)
        s_in = passes.key - np.repeat(np.arange(routes.count), np.diff(order)) * passes.scale
        cameras = passes.viewer
        self.route_passes = [
            [
                (float(s_in[k]), float(passes.s_out[k]), int(cameras[k]))
                for k in range(order[r], order[r + 1])
                if cameras[k] >= 0
            ]
            for r in range(routes.count)
        ]
        self.speed = core.population.speed.tolist()
        self.group = core.population.group.tolist()
        self.person_home = core.population.home.tolist()
        self.detection = params["cameras.detection_probability"]
        rep = core.reporting
        self.camera_home = core.cameras.home.tolist()
        self.muted = (rep.alert_setting == MUTED).tolist()
        self.bias = rep.bias.tolist()
        self.home_xy = world.homes.xy.tolist()
        self.base, self.stranger = rep.base, rep.stranger_mult
        self.neighbour = rep.neighbour_m
        cells = list(self.space.all_cells)
        self.node_cell = {cell.coordinate: cell for cell in cells}
        self.pedestrians = [
            Pedestrian(self, p, self.node_cell[0]) for p in range(core.population.count)
        ]
        self.minute = 0
        self.trips = core.engine.trips
        self.next_trip = 0
        self.walk_minutes = 0
        self.walk_time = self.recorded_time = 0.0  # continuous minutes, of trips ended
        self.trips_started = self.trips_done = self.trips_recorded = 0
        self.sightings = 0
        self.recordings = [0] * len(world.group_names)
        self.posts = [0] * len(world.group_names)

    def piece_cell(self, route: int, s: float):
        """The network cell (intersection) the walker last passed on its route."""
        starts, nodes = self.route_pieces[route]
        if not nodes:
            return self.node_cell[0]
        return self.node_cell[nodes[max(bisect.bisect_right(starts, s) - 1, 0)]]

    def maybe_post(self, camera: int, person: int) -> None:
        home = self.camera_home[camera]
        if self.muted[home]:
            return
        p = self.base * self.bias[home][self.group[person]]
        ph = self.person_home[person]
        hx, hy = self.home_xy[home]
        near = ph >= 0 and (
            (self.home_xy[ph][0] - hx) ** 2 + (self.home_xy[ph][1] - hy) ** 2 <= self.neighbour**2
        )
        if not near:
            p *= self.stranger
        if self.random.random() < p:
            self.posts[self.group[person]] += 1

    def step(self) -> None:
        now = self.minute
        if now and now % MINUTES_PER_DAY == 0:  # today's trips, plus those still to leave
            day = now // MINUTES_PER_DAY
            new = self.core.population.day_trips(day, self.core._schedule_rng)
            old = self.trips
            rest = slice(self.next_trip, len(old.depart))
            depart = np.concatenate([old.depart[rest], new.depart])
            order = np.argsort(depart, kind="stable")
            self.trips = DayTrips(
                depart[order],
                np.concatenate([old.person[rest], new.person])[order],
                np.concatenate([old.route[rest], new.route])[order],
            )
            self.next_trip = 0
        trips = self.trips
        while self.next_trip < len(trips) and trips.depart[self.next_trip] <= now:
            k = self.next_trip
            self.pedestrians[int(trips.person[k])].start_trip(int(trips.route[k]), now)
            self.next_trip += 1
        self.agents.shuffle_do("step")  # every pedestrian, as a Mesa model steps its agents
        self.minute += 1

    def metrics(self) -> dict[str, float | None]:
        g = self.recordings
        rates = [1000 * self.posts[i] / g[i] if g[i] else None for i in range(len(g))]
        return {
            "coverage.exposure_fraction": self.recorded_time / self.walk_time
            if self.walk_time
            else None,
            "coverage.trip_recorded_fraction": self.trips_recorded / self.trips_done
            if self.trips_done
            else None,
            "reports.total": sum(self.posts),
            "reports.disparity_ratio": rates[1] / rates[0] if rates[0] and rates[1] else None,
            "pedestrians.walk_minutes": self.walk_minutes,
        }
