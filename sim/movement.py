"""Walking: active walkers as arrays, advanced one minute at a time, recorded by cameras.

The pass table lists, for every route, each place where it enters a camera's view: the
distance along the route where the view starts (``s_in``) and ends (``s_out``), sorted by
route then ``s_in`` into one global key ``route * scale + s_in``. A walker keeps a pointer
into that table; each minute one ``searchsorted`` over all walkers finds the passes they
reached, so the cost of a step is proportional to the walkers and sightings, never to the
cameras or the map. Only walking pedestrians are in the arrays: people at home or at a
destination cost nothing.

Timing: a walker that departs at minute ``t0`` with speed ``v`` (m/min) is at ``(t - t0) v``
metres at the start of minute ``t`` and arrives after ``ceil(L / v)`` minutes. It is in a
camera's view during minutes ``t0 + floor(s_in / v)`` to ``t0 + floor(s_out / v)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.cameras import Cameras
from sim.routes import RouteTable
from sim.world import Homes


@dataclass
class Viewers:
    """Everything that sees the street: cameras (id >= 0, the camera id) and the windows of
    homes without a camera (id = -(home + 1)), each with the street interval it sees."""

    id: np.ndarray  # (V,) int64
    edge: np.ndarray  # (V,) int32
    lo: np.ndarray  # (V,) float64, metres from edge_u
    hi: np.ndarray  # (V,) float64

    @staticmethod
    def of(cams: Cameras, homes: Homes, window_half_width: float) -> Viewers:
        """Street-facing active cameras, plus windows if ``window_half_width`` > 0."""
        cam = np.flatnonzero(cams.sees_street())
        ids, edge = [cam.astype(np.int64)], [cams.edge[cam]]
        lo, hi = [cams.view_lo[cam]], [cams.view_hi[cam]]
        if window_half_width > 0:
            home = np.flatnonzero(cams.home_camera < 0)
            length = cams.edge_length(homes.edge[home])
            ids.append(-(home.astype(np.int64) + 1))
            edge.append(homes.edge[home])
            lo.append(np.clip(homes.offset[home] - window_half_width, 0, length))
            hi.append(np.clip(homes.offset[home] + window_half_width, 0, length))
        return Viewers(*(np.concatenate(c) for c in (ids, edge, lo, hi)))


class PassTable:
    """Where each route enters and leaves each viewer's view (rebuilt when cameras change)."""

    def __init__(self, routes: RouteTable, viewers: Viewers, camera_version: int) -> None:
        self.camera_version = camera_version
        n_edges = int(max(routes.edge.max(initial=-1), viewers.edge.max(initial=-1))) + 1
        order = np.argsort(viewers.edge, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(viewers.edge, minlength=n_edges))])
        per_piece = (ptr[1:] - ptr[:-1])[routes.edge]
        n = int(per_piece.sum())
        piece = np.repeat(np.arange(len(routes.edge)), per_piece)
        first = np.repeat(np.cumsum(per_piece) - per_piece, per_piece)
        v = order[ptr[routes.edge[piece]] + (np.arange(n) - first)]
        frm, to = routes.frm[piece], routes.to[piece]
        a = np.maximum(viewers.lo[v], np.minimum(frm, to))
        b = np.minimum(viewers.hi[v], np.maximum(frm, to))
        keep = a <= b
        piece, v, frm, to, a, b = piece[keep], v[keep], frm[keep], to[keep], a[keep], b[keep]
        forward = to >= frm
        start = routes.start[piece]
        s_in = start + np.where(forward, a - frm, frm - b)
        s_out = start + np.where(forward, b - frm, frm - a)
        route = np.repeat(np.arange(routes.count), np.diff(routes.ptr))[piece]
        self.scale = float(np.ceil(routes.length.max() + 1.0)) if routes.count else 1.0
        key = route * self.scale + s_in
        order = np.argsort(key, kind="stable")
        self.key = key[order]
        self.viewer = viewers.id[v][order]
        self.s_out = s_out[order]

    def __len__(self) -> int:
        return len(self.key)

    def first(self, route: np.ndarray) -> np.ndarray:
        """Index of each route's first pass."""
        return np.searchsorted(self.key, route * self.scale, side="left")

    def reached(self, route: np.ndarray, s: np.ndarray) -> np.ndarray:
        """One past the last pass each walker has reached at distance ``s``."""
        return np.searchsorted(self.key, route * self.scale + s, side="right")


@dataclass
class StepResult:
    """What one minute of walking produced."""

    camera: np.ndarray  # sightings that start this minute (detected only)
    person: np.ndarray
    t_out: np.ndarray
    window_home: np.ndarray  # people passing the window of a home without a camera
    window_person: np.ndarray
    walking_person: np.ndarray  # everyone who walked this minute
    walking_recorded: np.ndarray  # bool: recorded by at least one camera this minute
    done_person: np.ndarray  # trips that ended this minute
    done_route: np.ndarray
    done_in_view: np.ndarray  # number of camera views the trip passed through
    done_recorded: np.ndarray  # number of cameras that recorded the trip


_INT_FIELDS = ("person", "route", "pointer", "t0", "duration", "n_view", "n_rec", "rec_until")


class Walkers:
    """The pedestrians walking right now, one array per state variable."""

    def __init__(self) -> None:
        self.person = np.zeros(0, np.int32)
        self.route = np.zeros(0, np.int64)
        self.pointer = np.zeros(0, np.int64)  # next pass not yet reached
        self.t0 = np.zeros(0, np.int64)  # departure minute
        self.duration = np.zeros(0, np.int64)  # minutes the trip takes
        self.speed = np.zeros(0)  # m/min
        self.n_view = np.zeros(0, np.int64)  # camera views entered so far
        self.n_rec = np.zeros(0, np.int64)  # cameras that recorded the walker so far
        self.rec_until = np.zeros(0, np.int64)  # last minute the walker is on camera

    def __len__(self) -> int:
        return len(self.person)

    def start(self, person, route, now: int, speed, routes: RouteTable, passes: PassTable):
        """Walkers who depart at minute ``now``."""
        if len(person) == 0:
            return
        route = np.asarray(route, np.int64)
        speed = np.asarray(speed, float)
        duration = np.maximum(np.ceil(routes.length[route] / speed), 1).astype(np.int64)
        new = {
            "person": np.asarray(person, np.int32),
            "route": route,
            "pointer": passes.first(route),
            "t0": np.full(len(route), now, np.int64),
            "duration": duration,
            "speed": speed,
            "n_view": np.zeros(len(route), np.int64),
            "n_rec": np.zeros(len(route), np.int64),
            "rec_until": np.full(len(route), -1, np.int64),
        }
        for name, values in new.items():
            setattr(self, name, np.concatenate([getattr(self, name), values]))

    def repoint(self, now: int, routes: RouteTable, passes: PassTable) -> None:
        """After the pass table was rebuilt, before minute ``now`` is walked: point each walker
        past the passes it has already walked through."""
        s = np.minimum((now - self.t0) * self.speed, routes.length[self.route])
        self.pointer = passes.reached(self.route, s)

    def step(self, now: int, routes: RouteTable, passes: PassTable, detect) -> StepResult:
        """Walk minute ``now``: advance, record, and retire arrivals.

        Args:
            detect: function (camera, person) -> bool array, whether each camera in view
                actually records the person this minute.
        """
        elapsed = now - self.t0 + 1
        length = routes.length[self.route]
        s = np.minimum(elapsed * self.speed, length)
        new_pointer = passes.reached(self.route, s)
        n_new = new_pointer - self.pointer
        walker = np.repeat(np.arange(len(self)), n_new)
        first = np.repeat(np.cumsum(n_new) - n_new, n_new)
        idx = self.pointer[walker] + (np.arange(len(walker)) - first)
        self.pointer = new_pointer
        viewer = passes.viewer[idx]
        is_cam = viewer >= 0
        window_home = -viewer[~is_cam] - 1
        window_person = self.person[walker[~is_cam]]
        camera, walker, idx = viewer[is_cam], walker[is_cam], idx[is_cam]
        person = self.person[walker]
        self.n_view += np.bincount(walker, minlength=len(self))
        seen = detect(camera, person)
        camera, walker, person = camera[seen], walker[seen], person[seen]
        s_out = np.minimum(passes.s_out[idx[seen]], length[walker])
        t_out = self.t0[walker] + np.floor(s_out / self.speed[walker]).astype(np.int64)
        t_out = np.clip(t_out, now, self.t0[walker] + self.duration[walker] - 1)
        self.n_rec += np.bincount(walker, minlength=len(self))
        np.maximum.at(self.rec_until, walker, t_out)
        walking_person = self.person
        recorded = self.rec_until >= now
        done = elapsed >= self.duration
        result = StepResult(
            camera,
            person,
            t_out,
            window_home,
            window_person,
            walking_person,
            recorded,
            self.person[done],
            self.route[done],
            self.n_view[done],
            self.n_rec[done],
        )
        if np.any(done):
            keep = ~done
            for name in (*_INT_FIELDS, "speed"):
                setattr(self, name, getattr(self, name)[keep])
        return result
