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

import itertools
from dataclasses import dataclass

import numpy as np

from sim.cameras import Cameras
from sim.routes import RouteTable
from sim.world import Homes


@dataclass
class Viewers:
    """Everything that sees the street: cameras (id >= 0, the camera id) and the windows of
    homes (id = -(home + 1)), each with the street interval it sees."""

    id: np.ndarray  # (V,) int64
    edge: np.ndarray  # (V,) int32
    lo: np.ndarray  # (V,) float64, metres from edge_u
    hi: np.ndarray  # (V,) float64

    def __len__(self) -> int:
        return len(self.id)

    @staticmethod
    def cameras(cams: Cameras, ids: np.ndarray | None = None) -> Viewers:
        """The given cameras (default: every active camera that sees the street)."""
        cam = np.flatnonzero(cams.sees_street()) if ids is None else np.asarray(ids)
        return Viewers(cam.astype(np.int64), cams.edge[cam], cams.view_lo[cam], cams.view_hi[cam])

    @staticmethod
    def windows(homes: Homes, cams: Cameras, half_width: float, which: np.ndarray) -> Viewers:
        """The windows of the homes in the mask ``which``, ``half_width`` metres either side
        of the home's front."""
        home = np.flatnonzero(which)
        length = cams.edge_length(homes.edge[home])
        return Viewers(
            -(home.astype(np.int64) + 1),
            homes.edge[home],
            np.clip(homes.offset[home] - half_width, 0, length),
            np.clip(homes.offset[home] + half_width, 0, length),
        )

    @staticmethod
    def concat(*parts: Viewers) -> Viewers:
        return Viewers(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("id", "edge", "lo", "hi"))
        )


_LOOK_AHEAD = np.arange(8)  # passes checked one by one before a binary search
PAIRS_PER_CHUNK = 1 << 21  # (piece, viewer) pairs handled at once while building: bounds memory


class PassTable:
    """Where each route enters and leaves each viewer's view, sorted by (route, entry).

    Built once; when cameras change, ``sync`` inserts the passes of new cameras and drops
    those of retired ones, so a day's installations cost work in proportion to them, not to
    the whole table. Windows never change: whether a window's owner can post is decided when
    it is seen.
    """

    def __init__(self, routes: RouteTable, viewers: Viewers, camera_version: int) -> None:
        self.camera_version = camera_version
        self._routes = routes
        self.scale = float(np.ceil(routes.length.max() + 1.0)) if routes.count else 1.0
        n_edges = int(max(routes.edge.max(initial=-1), viewers.edge.max(initial=-1))) + 1
        # pieces by street (to find the pieces a new camera sees)
        self._piece_by_edge = np.argsort(routes.edge, kind="stable").astype(np.int64)
        per_edge = np.bincount(routes.edge, minlength=n_edges)
        # one extra street with no pieces stands for any street beyond the routes' ones
        self._piece_ptr = np.concatenate([[0], np.cumsum(per_edge), [per_edge.sum()]])
        self._piece_route = np.repeat(np.arange(routes.count, dtype=np.int64), np.diff(routes.ptr))
        # viewers by street; pieces in route order, in chunks whose pairs fit in memory
        order = np.argsort(viewers.edge, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(viewers.edge, minlength=n_edges))])
        per_piece = (ptr[1:] - ptr[:-1])[routes.edge]
        cum = np.concatenate([[0], np.cumsum(per_piece)])
        n_chunks = int(cum[-1] // PAIRS_PER_CHUNK) + 1
        cut = np.searchsorted(cum[routes.ptr], np.arange(1, n_chunks) * PAIRS_PER_CHUNK)
        cuts = np.unique(np.concatenate([[0], routes.ptr[cut], [len(per_piece)]]))
        parts = []
        for lo, hi in itertools.pairwise(cuts):  # whole routes in each chunk
            k = per_piece[lo:hi]
            piece = np.repeat(np.arange(lo, hi), k)
            first = np.repeat(np.cumsum(k) - k, k)
            v = order[ptr[routes.edge[piece]] + (np.arange(len(piece)) - first)]
            parts.append(list(self._passes(piece, viewers, v)))
        # chunks are in route order and sorted within: concatenated, they are sorted
        self.key, self.viewer, self.s_out = (
            _concat_and_free(parts, i, dtype) for i, dtype in enumerate((float, np.int32, float))
        )
        # cameras with passes in the table, and those of them in use
        cams = viewers.id[viewers.id >= 0]
        self._has_passes = np.zeros(int(cams.max(initial=-1)) + 1, bool)
        self._has_passes[cams] = True
        self.camera_live = self._has_passes.copy()
        self._index_routes()

    def _passes(self, piece: np.ndarray, viewers: Viewers, v: np.ndarray):
        """(key, viewer id, s_out) of the pairs (piece, viewer index), sorted by key."""
        routes = self._routes
        frm, to = routes.frm[piece], routes.to[piece]
        a = np.maximum(viewers.lo[v], np.minimum(frm, to))
        b = np.minimum(viewers.hi[v], np.maximum(frm, to))
        keep = a <= b
        piece, v, frm, to, a, b = piece[keep], v[keep], frm[keep], to[keep], a[keep], b[keep]
        forward = to >= frm
        start = routes.start[piece]
        s_in = start + np.where(forward, a - frm, frm - b)
        s_out = start + np.where(forward, b - frm, frm - a)
        key = self._piece_route[piece] * self.scale + s_in
        order = np.argsort(key, kind="stable")
        return key[order], viewers.id[v][order].astype(np.int32), s_out[order]

    def __len__(self) -> int:
        return len(self.key)

    def sync(self, cams: Cameras) -> None:
        """Bring the camera passes up to date with ``cams``: insert the passes of new cameras;
        retired cameras' passes stay in the table, marked dead (``camera_live``), since
        removing them would copy the whole table (camera ids are never reused)."""
        live = cams.sees_street()
        known = np.zeros(len(live), bool)
        known[: len(self._has_passes)] = self._has_passes
        new = np.flatnonzero(live & ~known)
        if len(new):
            viewers = Viewers.cameras(cams, new)
            edge = np.minimum(viewers.edge, len(self._piece_ptr) - 2)
            k = self._piece_ptr[edge + 1] - self._piece_ptr[edge]
            v = np.repeat(np.arange(len(viewers)), k)
            first = np.repeat(np.cumsum(k) - k, k)
            piece = self._piece_by_edge[self._piece_ptr[edge[v]] + (np.arange(len(v)) - first)]
            key, viewer, s_out = self._passes(piece, viewers, v)
            at = np.searchsorted(self.key, key, side="right")
            self.key = np.insert(self.key, at, key)
            self.viewer = np.insert(self.viewer, at, viewer)
            self.s_out = np.insert(self.s_out, at, s_out)
            # each route's first pass moves up by the new passes of earlier routes
            bounds = np.arange(len(self._route_first)) * self.scale
            self._route_first += np.searchsorted(key, bounds, side="left")
            known[new] = True
        self._has_passes = known
        self.camera_live = live.copy()
        self.camera_version = cams.version

    def _index_routes(self) -> None:
        """Where each route's passes begin (one sorted search for all routes)."""
        n_routes = len(self._routes.length)
        self._route_first = np.searchsorted(
            self.key, np.arange(n_routes + 1) * self.scale, side="left"
        )

    def first(self, route: np.ndarray) -> np.ndarray:
        """Index of each route's first pass."""
        return self._route_first[route]

    def reached(self, route: np.ndarray, s: np.ndarray) -> np.ndarray:
        """One past the last pass each walker has reached at distance ``s``."""
        return np.searchsorted(self.key, route * self.scale + s, side="right")

    def advance(self, pointer: np.ndarray, route: np.ndarray, s: np.ndarray) -> np.ndarray:
        """``reached(route, s)`` for walkers whose pointers are at or before it, looking at
        the next few passes first: in a minute a walker passes few views, and reading a few
        neighbouring keys is cheaper than a binary search of a large table."""
        if len(self.key) == 0:
            return pointer
        target = route * self.scale + s
        idx = pointer[:, None] + _LOOK_AHEAD
        ok = self.key[np.minimum(idx, len(self.key) - 1)] <= target[:, None]
        n = np.count_nonzero(ok & (idx < len(self.key)), axis=1)
        far = np.flatnonzero(n == len(_LOOK_AHEAD))
        out = pointer + n
        if len(far):
            out[far] = np.searchsorted(self.key, target[far], side="right")
        return out


def _concat_and_free(parts: list[list[np.ndarray]], i: int, dtype) -> np.ndarray:
    """Column ``i`` of the chunks, joined; each chunk's copy is dropped as soon as it is no
    longer needed, so building never holds the table twice."""
    out = np.concatenate([np.zeros(0, dtype)] + [p[i] for p in parts])
    for p in parts:
        p[i] = None
    return out


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


def _empty_result() -> StepResult:
    i, b = np.zeros(0, np.int64), np.zeros(0, bool)
    for a in (i, b):
        a.flags.writeable = False
    return StepResult(i, i, i, i, i, i, b, i, i, i, i)


_NOBODY = _empty_result()  # the result of a minute when nobody walks

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
        if len(self) == 0:
            return _NOBODY
        elapsed = now - self.t0 + 1
        length = routes.length[self.route]
        s = np.minimum(elapsed * self.speed, length)
        new_pointer = passes.advance(self.pointer, self.route, s)
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
        live = passes.camera_live[camera]  # retired cameras' passes stay in the table
        if not np.all(live):
            camera, walker, idx = camera[live], walker[live], idx[live]
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
