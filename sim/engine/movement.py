"""Walking: trips planned as arrays, and the camera views and windows they pass.

The pass table lists, for every route, each place where it enters a camera's view or an app
user's window: the distance along the route where the view starts (``s_in``) and ends
(``s_out``), sorted by route then ``s_in`` into one global key ``route * scale + s_in``.
When trips are planned, each pass of each trip's route is given the minute the walker
reaches it, so walking a minute reads that minute's passes: its cost is the sightings and
arrivals in it, never the number of people walking, the cameras or the map. People at home
or at a destination cost nothing.

Timing: a walker that departs at minute ``t0`` with speed ``v`` (m/min) is at
``min((t - t0) v, L)`` metres at the start of minute ``t`` and arrives after ``ceil(L / v)``
minutes. It reaches a pass in the first minute at whose end it is at or past ``s_in``, and is
in the view until minute ``t0 + floor(s_out / v)``: the minutes a sighting spans (the footage).
Exposure is measured in continuous time: the walker is in the view from ``t0 + s_in / v`` to
``t0 + min(s_out, L) / v``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from sim.engine.rng import draw3
from sim.world.routes import RouteTable, group_by, runs
from sim.world.world import Homes

if TYPE_CHECKING:  # the walking reads the cameras' views; the model layer owns them
    from sim.model.cameras import Cameras

TIME_UNITS = 1_000_000  # continuous walking time is summed in millionths of a minute: sums of
# integers are exact, so totals do not depend on how the minutes were walked or settled

# one row of the pass table: where the route enters the view (route x scale + metres along),
# where it leaves it (metres along), and who sees (aligned: 24 bytes)
PASS_ROW = np.dtype([("key", np.float64), ("s_out", np.float64), ("viewer", np.int32)], align=True)


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


class PassTable:
    """Where each route enters and leaves each viewer's view, sorted by (route, entry): one
    record per pass (``rows``: key, exit, viewer), so that a trip's passes are one run of
    memory.

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
        # viewers by street; each route's passes, sorted by entry (compiled: no pair arrays)
        viewer_order, ptr = group_by(viewers.edge, n_edges)
        args = (routes.ptr, routes.edge, routes.frm, routes.to, routes.start)
        views = (ptr, viewer_order, viewers.lo, viewers.hi, viewers.id)
        count = _count_passes(*args, *views)
        self._n = int(count.sum())
        # counted first, so that the buffer (with room for new cameras' passes) is allocated
        # once and each route's first pass comes from the counts
        self._buffer = np.empty(self._n + self._n // 20, PASS_ROW)
        _write_passes(self._buffer, count, *args, self.scale, *views)
        # rows in use: self._n; the buffer has room for new cameras' passes
        # cameras with passes in the table, and those of them in use
        cams = viewers.id[viewers.id >= 0]
        self._has_passes = np.zeros(int(cams.max(initial=-1)) + 1, bool)
        self._has_passes[cams] = True
        self.camera_live = self._has_passes.copy()
        # where each route's passes begin
        self._route_first = np.concatenate([np.zeros(1, np.int64), np.cumsum(count)])

    @property
    def rows(self) -> np.ndarray:
        """The table's rows (``PASS_ROW``), sorted by key."""
        return self._buffer[: self._n]

    @property
    def key(self) -> np.ndarray:
        """Each pass's route x scale + entry (a view of ``rows``)."""
        return self.rows["key"]

    @property
    def viewer(self) -> np.ndarray:
        """Each pass's viewer id (a view of ``rows``)."""
        return self.rows["viewer"]

    @property
    def s_out(self) -> np.ndarray:
        """Each pass's exit, metres along the route (a view of ``rows``)."""
        return self.rows["s_out"]

    def _passes(self, piece: np.ndarray, viewers: Viewers, v: np.ndarray):
        """The rows of the pairs (piece, viewer index), sorted by key."""
        routes = self._routes
        key, viewer, s_out = _pair_passes(
            piece,
            v,
            routes.route_of(piece),
            routes.frm,
            routes.to,
            routes.start,
            self.scale,
            viewers.lo,
            viewers.hi,
            viewers.id,
        )
        order = np.argsort(key, kind="stable")
        rows = np.empty(len(key), PASS_ROW)
        rows["key"], rows["viewer"], rows["s_out"] = key[order], viewer[order], s_out[order]
        return rows

    def __len__(self) -> int:
        return self._n

    def sync(self, cams: Cameras) -> np.ndarray:
        """Bring the camera passes up to date with ``cams``: insert the passes of new cameras;
        retired cameras' passes stay in the table, marked dead (``camera_live``), since
        removing them would copy the whole table (camera ids are never reused).

        Returns where the new rows were inserted, as positions in the old table (sorted, as
        for ``np.insert``): old row i moves to i + (number of positions <= i)."""
        live = cams.sees_street()
        known = np.zeros(len(live), bool)
        known[: len(self._has_passes)] = self._has_passes
        new = np.flatnonzero(live & ~known)
        at = np.zeros(0, np.int64)
        if len(new):
            viewers = Viewers.cameras(cams, new)
            piece, v = self._routes.pieces_on(viewers.edge)
            rows = self._passes(piece, viewers, v)
            at = np.searchsorted(self.key, rows["key"], side="right")
            if self._n + len(rows) > len(self._buffer):  # rare: 5 % more passes than built
                grown = np.empty(self._n + len(rows) + self._n // 20, PASS_ROW)
                grown[: self._n] = self.rows
                self._buffer = grown
            # in place, from the end: no second copy of a table of tens of millions of rows
            _insert_rows(self._buffer, self._n, at, rows)
            self._n += len(rows)
            # each route's first pass moves up by the new passes of earlier routes
            bounds = np.arange(len(self._route_first)) * self.scale
            self._route_first += np.searchsorted(rows["key"], bounds, side="left")
            known[new] = True
        self._has_passes = known
        self.camera_live = live.copy()
        self.camera_version = cams.version
        return at

    @property
    def first_of_route(self) -> np.ndarray:
        """Index of each route's first pass (and, last, the number of rows)."""
        return self._route_first


@dataclass
class Walked:
    """What walking minutes ``start`` to ``stop - 1`` produced. Rows are by minute (in a
    minute, in the order the passes were planned); ``*_ptr[i]`` is the first row of minute
    ``start + i``."""

    start: int
    stop: int
    minute: np.ndarray  # sightings (detected only): the minute they start
    camera: np.ndarray
    person: np.ndarray
    t_out: np.ndarray  # the last minute the person is in that camera's view
    sight_ptr: np.ndarray
    window_minute: np.ndarray  # people passing the window of a home without a camera
    window_home: np.ndarray
    window_person: np.ndarray
    window_ptr: np.ndarray
    sighted: np.ndarray  # (minutes, groups) sightings each minute, by the person's group
    walking: np.ndarray  # (minutes, groups) people walking each minute, by group
    walk_units: np.ndarray  # (minutes, groups) walking time of the trips ending in the minute
    rec_units: np.ndarray  # (minutes, groups) and their time on camera (TIME_UNITS)
    after: np.ndarray  # (minutes,) people still walking after each minute
    done_minute: np.ndarray  # trips that ended (arrived), by minute
    done_person: np.ndarray
    done_route: np.ndarray
    done_in_view: np.ndarray  # number of camera views the trip passed through
    done_recorded: np.ndarray  # number of cameras that recorded the trip
    done_walk_time: np.ndarray  # minutes the trip took, in continuous time (length / speed)
    done_rec_time: np.ndarray  # of them, minutes inside the view of a camera that recorded it
    done_ptr: np.ndarray

    def between(self, lo: int, hi: int) -> Walked:
        """Minutes ``lo`` to ``hi - 1`` (within ``start`` to ``stop``), as views."""
        i, j = lo - self.start, hi - self.start
        s = slice(int(self.sight_ptr[i]), int(self.sight_ptr[j]))
        w = slice(int(self.window_ptr[i]), int(self.window_ptr[j]))
        d = slice(int(self.done_ptr[i]), int(self.done_ptr[j]))
        return Walked(
            lo,
            hi,
            self.minute[s],
            self.camera[s],
            self.person[s],
            self.t_out[s],
            self.sight_ptr[i : j + 1] - self.sight_ptr[i],
            self.window_minute[w],
            self.window_home[w],
            self.window_person[w],
            self.window_ptr[i : j + 1] - self.window_ptr[i],
            self.sighted[i:j],
            self.walking[i:j],
            self.walk_units[i:j],
            self.rec_units[i:j],
            self.after[i:j],
            self.done_minute[d],
            self.done_person[d],
            self.done_route[d],
            self.done_in_view[d],
            self.done_recorded[d],
            self.done_walk_time[d],
            self.done_rec_time[d],
            self.done_ptr[i : j + 1] - self.done_ptr[i],
        )


@dataclass
class _Block:
    """Trips planned together (sequence numbers ``seq_lo`` to ``seq_hi - 1``): the passes they
    will reach and their arrivals, both sorted by minute, for minutes ``first`` to ``last``."""

    first: int
    seq_lo: int
    seq_hi: int
    seq: np.ndarray  # the trip reaching each pass; by minute, then trip, then table row
    idx: np.ndarray  # the pass's row in the pass table
    viewer: np.ndarray  # the pass's viewer (copied at planning: walking reads it in order)
    t_out: np.ndarray  # the last minute the walker is in that view
    s_in: np.ndarray  # metres along the route where the view starts (float32)
    s_end: np.ndarray  # and where it ends, within the route (float32)
    ptr: np.ndarray  # passes reached in minute first + i: ptr[i] to ptr[i + 1]
    done: np.ndarray  # trips by arrival minute
    done_ptr: np.ndarray

    @property
    def last(self) -> int:
        return self.first + len(self.ptr) - 2

    def rows(self, start: int, stop: int, ptr: np.ndarray) -> tuple[int, np.ndarray]:
        """Rows of minutes ``start`` to ``stop - 1`` in ``ptr`` (``self.ptr`` or
        ``self.done_ptr``): the first row, and the number of rows of each minute."""
        counts = np.zeros(stop - start, np.int64)
        i0, i1 = max(start - self.first, 0), min(stop - self.first, len(ptr) - 1)
        if i0 >= i1:
            return 0, counts
        counts[self.first + i0 - start : self.first + i1 - start] = np.diff(ptr[i0 : i1 + 1])
        return int(ptr[i0]), counts

    def t_in(self) -> np.ndarray:
        """The minute each pass is reached."""
        return self.first + np.repeat(np.arange(len(self.ptr) - 1), np.diff(self.ptr))


_TRIP_FIELDS = {
    "person": np.int32,
    "route": np.int64,
    "t0": np.int64,  # departure minute
    "duration": np.int64,  # minutes the trip takes
    "speed": np.float64,  # m/min
    "group": np.int64,
    "n_view": np.int64,  # camera views entered so far
    "n_rec": np.int64,  # cameras that recorded the walker so far
    "cover_to": np.float64,  # metres along the route recorded up to so far (-1: none)
    "rec_metres": np.float64,  # metres of the route walked in view of a recording camera
    "ended_by": np.int64,  # the last minute of this trip or any planned before it
}
# the trips' fields walking changes in place (the others are only replaced, by planning or
# by dropping the trips that ended: a checkpoint holds their arrays as they were)
_WALKED_FIELDS = ("n_view", "n_rec", "cover_to", "rec_metres")


class Walks:
    """Trips, planned ahead as arrays; walking a range of minutes reads the passes in it.

    When trips are planned (the model plans whole hours of departures at a time), each pass
    of each trip's route is given the minute the walker reaches it (the timing in the module
    docstring), and the passes are sorted by that minute. Walking minutes then costs the
    passes reached and the trips that end in them, whatever the number of people walking:
    nobody's position is updated, and nothing is searched. The count of people walking each
    minute, by group, is kept as differences in a small ring of minutes; time on camera is
    kept per trip in continuous time (the stretch of route in view, over the speed).
    Nothing walking produces depends on anything but the plan and the cameras, so the model
    walks whole hours at a time (``walk``), ahead of the minutes that use them.

    Trips are identified by a sequence number in planning order (departure order). Their
    state (person, route, timing, counters) is held from planning until their block of trips
    has ended.
    """

    def __init__(
        self,
        routes: RouteTable,
        passes: PassTable,
        person_group: np.ndarray,
        n_groups: int,
        detect_base: int,
        detect_probability: float,
    ) -> None:
        self.routes = routes
        self.passes = passes
        # a camera in view records the walker if the keyed uniform (camera, person, minute)
        # drawn from ``detect_base`` (``Streams.base``) is below the probability
        self._detect = (np.uint64(detect_base), float(detect_probability))
        self._person_group = np.asarray(person_group)
        self._groups = n_groups
        for name, dtype in _TRIP_FIELDS.items():
            setattr(self, name, np.zeros(0, dtype))
        self._base = 0  # sequence number of the first trip held
        self._blocks: list[_Block] = []
        self._next_minute = 0  # the first minute not yet walked
        self._last_depart = -1
        self._ring = np.zeros((1, n_groups), np.int64)  # walking: differences by minute
        self._count = np.zeros(n_groups, np.int64)  # walking this minute
        self._route_bits = None  # a bit per route, for counting walkers on streets

    @property
    def last_minute(self) -> int:
        """The minute the last planned trip arrives (-1 with none planned)."""
        return self._blocks[-1].last if self._blocks else -1

    # ------------------------------------------------------------------ planning

    def plan(self, person, route, depart, speed, window_caps=None) -> None:
        """Trips that depart at the given minutes (sorted, none before the next minute to
        walk or before trips planned earlier).

        Args:
            window_caps: optional ``(post_base, caps)``, ``caps(midnights)`` giving per home the
                draw at or above which a window pass cannot be posted until ``midnights``
                midnights have passed: window passes whose draw (stream ``post_base``: home,
                person, minute reached) is at or above their home's cap are left out. Almost
                all are. The rule is reporting's (``Reporting.window_filter``, whose posting
                decisions use the same draw); walking only applies it, in the loop that reads
                the passes, where leaving them out costs least.
        """
        depart = np.asarray(depart, np.int64)
        n = len(depart)
        if n == 0:
            return
        if depart[0] < max(self._next_minute, self._last_depart) or np.any(np.diff(depart) < 0):
            raise ValueError("trips must be planned in departure order, none in the past")
        person = np.asarray(person, np.int32)
        route = np.asarray(route, np.int64)
        speed = np.asarray(speed, np.float64)
        table = self.passes
        length, duration, first, count = _trip_facts(
            route, speed, self.routes.length, table.first_of_route
        )
        group = self._person_group[person].astype(np.int64)
        seq0 = self._base + len(self.person)
        # every pass of every trip's route, with the minute it is reached, by minute
        start, end = int(depart[0]), depart + duration - 1
        span = int(end.max()) - start + 1
        post_base, caps = np.uint64(0), np.zeros(0)
        if window_caps is not None:
            post_base, cap_of = window_caps
            caps = cap_of(int(end.max()) // 1440 - start // 1440)  # midnights until the last
        trip, idx, viewer, t_out, s_in, s_end, ptr = _plan_passes(
            first,
            count,
            (table.rows, table.scale),
            (person, route, depart, speed, length, duration),
            start,
            span,
            (post_base, caps),
        )
        done, done_ptr = group_by(end - start, span)  # trips by arrival minute
        self._blocks.append(
            _Block(
                start,
                seq0,
                seq0 + n,
                seq0 + trip,
                idx,
                viewer,
                t_out,
                s_in,
                s_end,
                ptr,
                seq0 + done.astype(np.int64),
                done_ptr,
            )
        )
        self._fit_ring(int(end.max()) + 2)
        ring, size = self._ring, len(self._ring)
        cells = size * self._groups  # departures and arrivals counted by (minute, group)
        ring += np.bincount((depart % size) * self._groups + group, minlength=cells).reshape(
            size, self._groups
        )
        ring -= np.bincount(((end + 1) % size) * self._groups + group, minlength=cells).reshape(
            size, self._groups
        )
        new = {
            "person": person,
            "route": route,
            "t0": depart,
            "duration": duration,
            "speed": speed,
            "group": group,
            "n_view": np.zeros(n, np.int64),
            "n_rec": np.zeros(n, np.int64),
            "cover_to": np.full(n, -1.0),
            "rec_metres": np.zeros(n),
            "ended_by": np.maximum.accumulate(
                np.maximum(end, self.ended_by[-1] if len(self.ended_by) else -1)
            ),
        }
        for name, values in new.items():
            setattr(self, name, np.concatenate([getattr(self, name), values]))
        self._last_depart = int(depart[-1])

    def _fit_ring(self, beyond: int) -> None:
        """Make the rings of minutes long enough to hold differences up to ``beyond``."""
        size = len(self._ring)
        need = beyond - self._next_minute + 1
        if need <= size:
            return
        new_size = 1 << int(np.ceil(np.log2(need)))
        ring = np.zeros((new_size, self._groups), np.int64)
        minutes = np.arange(self._next_minute, self._next_minute + size)
        ring[minutes % new_size] = self._ring[minutes % size]
        self._ring = ring

    def resync(self, now: int, cams: Cameras) -> None:
        """Cameras changed before minute ``now``: update the pass table, and give the trips
        not yet ended the passes of new cameras they have not walked past yet."""
        at = self.passes.sync(cams)
        if len(at) == 0:
            return
        for b in self._blocks:  # rows after the inserted ones moved
            b.idx = b.idx + np.searchsorted(at, b.idx, side="right")
        rows = at + np.arange(len(at))  # the new rows
        slot = np.flatnonzero(self.t0 + self.duration - 1 >= now)
        if len(slot) == 0:
            return
        key, scale = self.passes.key[rows], self.passes.scale
        route = self.route[slot]
        lo = np.searchsorted(key, route * scale, side="left")
        hi = np.searchsorted(key, (route + 1) * scale, side="left")
        count = hi - lo
        trip = np.repeat(slot, count)
        idx = rows[np.repeat(lo, count) + runs(count)]
        t_in, t_out = _reach_pairs(
            idx,
            trip,
            self.passes.rows,
            self.route,
            self.t0,
            self.speed,
            self.routes.length[self.route],
            self.duration,
            self.passes.scale,
        )
        ok = t_in >= now  # passes never reached are -1; those already walked past are not seen
        trip, idx, t_in, t_out = trip[ok], idx[ok], t_in[ok], t_out[ok]
        s_in = (self.passes.key[idx] - self.route[trip] * scale).astype(np.float32)
        s_end = np.minimum(self.passes.s_out[idx], self.routes.length[self.route[trip]])
        s_end = s_end.astype(np.float32)
        seq = trip + self._base
        for b in self._blocks:
            mine = (seq >= b.seq_lo) & (seq < b.seq_hi)
            if not mine.any():
                continue
            all_seq = np.concatenate([b.seq, seq[mine]])
            all_idx = np.concatenate([b.idx, idx[mine]])
            all_t_in = np.concatenate([b.t_in(), t_in[mine]])
            order = np.lexsort((all_idx, all_seq, all_t_in))
            b.seq, b.idx = all_seq[order], all_idx[order]
            b.viewer = np.concatenate([b.viewer, self.passes.viewer[idx[mine]]])[order]
            b.t_out = np.concatenate([b.t_out, t_out[mine]])[order]
            b.s_in = np.concatenate([b.s_in, s_in[mine]])[order]
            b.s_end = np.concatenate([b.s_end, s_end[mine]])[order]
            counts = np.bincount(all_t_in - b.first, minlength=len(b.ptr) - 1)
            b.ptr = np.concatenate([[0], np.cumsum(counts)])

    # ------------------------------------------------------------------ walking

    def walk(self, start: int, stop: int) -> Walked:
        """Walk minutes ``start`` to ``stop - 1``: the passes reached, what cameras recorded,
        the arrivals, and each minute's counts. Walking a range at once gives what walking
        its minutes one at a time gives (nothing in it depends on anything but the plan)."""
        if start != self._next_minute:
            raise ValueError(f"minute {start} walked, but the next minute is {self._next_minute}")
        if stop <= start:
            raise ValueError(f"minutes {start} to {stop - 1}: nothing to walk")
        self._next_minute = stop
        while self._blocks and self._blocks[0].last < start:
            self._drop_first_block()
        fields = ("seq", np.int64), ("viewer", np.int32), ("t_out", np.int64)
        views = ("s_in", np.float32), ("s_end", np.float32)
        (seq, viewer, t_out, s_in, s_end), ptr = self._rows(start, stop, "ptr", fields + views)
        (done,), done_ptr = self._rows(start, stop, "done_ptr", (("done", np.int64),))
        order, done_count = _by_minute(done_ptr)
        done = done[order]
        sightings, windows, sighted, walking, after = _walk_minutes(
            seq - self._base,
            (viewer, t_out, s_in, s_end),
            ptr,
            start,
            self.passes.camera_live,
            (self.person, self.group),
            tuple(getattr(self, name) for name in _WALKED_FIELDS),
            self._ring,
            self._count,
            done_count,
            *self._detect,
        )
        done = done - self._base
        speed = self.speed[done]
        walk_time = self.routes.length[self.route[done]] / speed
        rec_time = self.rec_metres[done] / speed
        # by (minute of arrival, group), in whole TIME_UNITS (integer-valued floats, far
        # below 2**53: summed exactly)
        cell = np.repeat(np.arange(stop - start), done_count) * self._groups + self.group[done]
        size = (stop - start) * self._groups

        def units(t: np.ndarray) -> np.ndarray:
            sums = np.bincount(cell, np.rint(t * TIME_UNITS), minlength=size)
            return sums.astype(np.int64).reshape(stop - start, self._groups)

        return Walked(
            start,
            stop,
            *sightings,
            *windows,
            sighted,
            walking,
            units(walk_time),
            units(rec_time),
            after,
            start + np.repeat(np.arange(stop - start), done_count),
            self.person[done],
            self.route[done],
            self.n_view[done],
            self.n_rec[done],
            walk_time,
            rec_time,
            np.concatenate([[0], np.cumsum(done_count)]),
        )

    def _rows(self, start: int, stop: int, ptr: str, fields: tuple) -> tuple:
        """The rows of minutes ``start`` to ``stop - 1`` of every block, block after block:
        the ``fields`` (name, dtype), joined, and where each block's rows of each minute are
        (rows ``ptr[b, m]`` to ``ptr[b, m + 1] - 1`` of the joined fields; walking minute by
        minute meets them by minute, then block)."""
        parts, ptrs, offset = [], [], 0
        for b in self._blocks:
            lo, c = b.rows(start, stop, getattr(b, ptr))
            n = int(c.sum())
            if n:
                parts.append([getattr(b, name)[lo : lo + n] for name, _ in fields])
                ptrs.append(offset + np.concatenate([[0], np.cumsum(c)]))
                offset += n
        if not parts:
            empty = [np.zeros(0, dtype) for _, dtype in fields]
            return empty, np.zeros((1, stop - start + 1), np.int64)
        if len(parts) == 1:
            return parts[0], ptrs[0][None, :]
        return [np.concatenate([p[i] for p in parts]) for i in range(len(fields))], np.array(ptrs)

    def _drop_first_block(self) -> None:
        """Forget the trips of a block that has ended."""
        self._blocks.pop(0)
        new_base = self._blocks[0].seq_lo if self._blocks else self._base + len(self.person)
        cut = new_base - self._base
        for name in _TRIP_FIELDS:
            setattr(self, name, getattr(self, name)[cut:])
        self._base = new_base

    def checkpoint(self) -> dict:
        """What walking changes (the trips held and their counters, the rings, the blocks,
        the next minute), copied to ``rewind`` to: the engine walks again from a minute when
        cameras change inside the minutes walked. Planning and ``resync`` are not undone."""
        state = dict(vars(self))
        for k in (*_WALKED_FIELDS, "_ring", "_count"):  # the arrays walking changes in place
            state[k] = state[k].copy()
        state["_blocks"] = [copy.copy(b) for b in self._blocks]
        return state

    def rewind(self, state: dict) -> None:
        """Back to a ``checkpoint`` taken since the last plan or resync (once: it is
        taken over)."""
        vars(self).update(state)

    # ------------------------------------------------------------------ who is where

    def under_way(self, now: int) -> np.ndarray:
        """Trips still walking after minute ``now`` (departed, not arrived), as indices into
        the trip arrays (``person``, ``route``, ``t0``, ``speed``)."""
        slot = np.arange(*self._departed_by(now))
        return slot[self.t0[slot] + self.duration[slot] - 1 > now]

    def _departed_by(self, now: int) -> tuple[int, int]:
        """The trips that departed by minute ``now`` and may not have arrived (every trip
        under way after it is among them): trip indices lo to hi - 1. Trips before ``lo``
        and all planned before them have ended (``ended_by``, a running maximum of the last
        minutes, is sorted): usually only the trips of the last half hour or so are left."""
        lo = np.searchsorted(self.ended_by, now, side="right")
        hi = np.searchsorted(self.t0, now, side="right")
        return int(lo), int(max(hi, lo))

    def others_on(self, now: int, edges: np.ndarray, people: np.ndarray) -> np.ndarray:
        """How many walkers other than ``people[i]`` are on street ``edges[i]`` after minute
        ``now`` (departed, not arrived; on the piece of their route they have reached)."""
        lo, hi = self._departed_by(now)
        streets = np.unique(edges)
        if self._route_bits is None:  # kept between calls (all bits clear)
            self._route_bits = np.zeros((self.routes.count + 63) // 64, np.uint64)
        count, own = _count_on_streets(
            lo,
            hi,
            now,
            (self.t0, self.duration, self.speed, self.route, self.person),
            (self.routes.ptr, self.routes.start, self.routes.edge, self.routes.length),
            streets,
            self.routes.route_of(self.routes.pieces_on(streets)[0]),
            self._route_bits,
            np.asarray(people, np.int64),
        )
        return count[np.searchsorted(streets, edges)] - (own == edges)

    def distance(self, slot: np.ndarray, minute: int) -> np.ndarray:
        """Metres walked by the start of ``minute`` along each trip's route."""
        elapsed = minute - self.t0[slot]
        return np.minimum(elapsed * self.speed[slot], self.routes.length[self.route[slot]])


# ---------------------------------------------------------------------------- compiled loops
# Planning looks at every pass of every trip; numpy needs a dozen temporaries per pass for it,
# a compiled loop none (docs/performance.md). The arithmetic is the same either way.

PREFETCH_TRIPS = 8  # planning asks for the table rows of the trip this far ahead


@intrinsic
def _prefetch(typingctx, array, index):
    """Ask the processor to bring ``array[index]`` into cache (LLVM's prefetch: a hint, no
    effect on results). Each trip's passes are a run of rows somewhere in a table of tens of
    millions; asking for the runs of trips a few ahead hides most of the wait for memory."""

    def codegen(context, builder, signature, args):
        ary_type = signature.args[0]
        ary = context.make_array(ary_type)(context, builder, args[0])
        address = cgutils.get_item_pointer(context, builder, ary_type, ary, [args[1]])
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        # read, high locality, data cache
        builder.call(fn, [builder.bitcast(address, byte_ptr), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@numba.njit(cache=True, inline="always")
def _reach(key, base, v, length, duration, s_out, t0):
    """(minute reached, last minute in view) of one pass, or (-1, -1) if never reached.

    A pass is reached in the first minute e (1 to duration) whose end, min(e v, L) metres along
    the route, is at or past the pass's entry; the test is made on the table's key
    (route x scale + s_in), exactly as written, so that rounding cannot move a pass to another
    minute. The walker is in view until it leaves it, within the trip.
    """
    e = min(max(math.ceil((key - base) / v), 1), duration)
    while e <= duration and key > base + min(e * v, length):  # the estimate may be short
        e += 1
    while 1 < e <= duration and key <= base + min((e - 1) * v, length):  # or long
        e -= 1
    if e > duration:
        return -1, -1
    t_in = t0 + e - 1
    t_out = t0 + math.floor(min(s_out, length) / v)
    return t_in, min(max(t_out, t_in), t0 + duration - 1)


@numba.njit(cache=True)
def _trip_facts(route, speed, route_length, first_of_route):
    """Each trip's route length (m), duration (minutes, at least 1) and run of the pass table
    (first row, number of rows): one pass over the trips, where numpy needs one per column."""
    n = len(route)
    length = np.empty(n)
    duration = np.empty(n, np.int64)
    first = np.empty(n, np.int64)
    count = np.empty(n, np.int64)
    for i in range(n):
        r = route[i]
        length[i] = route_length[r]
        duration[i] = max(math.ceil(length[i] / speed[i]), 1)
        first[i] = first_of_route[r]
        count[i] = first_of_route[r + 1] - first[i]
    return length, duration, first, count


@numba.njit(cache=True)
def _plan_passes(first, count, table, trips, start, span, windows):
    """Every pass of each trip's route (rows first[i] to first[i] + count[i] - 1 of ``table``:
    the pass table's rows, and its scale) with the minute it is reached and the last minute in view,
    sorted by minute reached (stably: then by trip, then by row). Returns (trip, row, viewer,
    t_out, s_in, s_end, ptr): s_in and s_end the stretch of the route in the view (metres,
    float32), ptr[m] the first pass of minute start + m. The table is read once, in order,
    and the passes reached kept; they are then placed by minute (a counting sort). ``trips``:
    person, route, departure, speed, route length, duration. ``windows``: (post_base, caps);
    with caps (per home), a window pass whose post draw is at or above its home's cap is left
    out, as never reached."""
    rows, scale = table
    person, route, depart, speed, length, duration = trips
    post_base, caps = windows
    total = 0
    for i in range(len(first)):
        total += count[i]
    # the passes reached, in the order read (windows left out: most passes, never kept)
    minute = np.empty(total, np.int32)  # minute reached - start
    trip = np.empty(total, np.int32)
    row_of = np.empty(total, np.int64)
    last = np.empty(total, np.int64)
    seen_by = np.empty(total, np.int32)
    view_in = np.empty(total, np.float32)  # the stretch of route in view, kept as read
    view_end = np.empty(total, np.float32)
    ptr = np.zeros(span + 1, np.int64)
    k = 0
    n_trips = len(first)
    for i in range(n_trips):
        if i + PREFETCH_TRIPS < n_trips:  # the rows of a trip ahead, while this one is read
            ahead = first[i + PREFETCH_TRIPS]
            for j in range(ahead, ahead + count[i + PREFETCH_TRIPS], 2):  # 48 bytes apart
                _prefetch(rows, j)
        base = route[i] * scale
        for j in range(first[i], first[i] + count[i]):
            row = rows[j]
            t_in, t_out = _reach(
                row.key, base, speed[i], length[i], duration[i], row.s_out, depart[i]
            )
            if t_in < 0:
                continue
            v = row.viewer
            if v < 0 and len(caps):
                h = -np.int64(v) - 1
                if draw3(post_base, h, person[i], t_in) >= caps[h]:
                    continue  # this window will not post what it sees
            m = t_in - start
            minute[k], trip[k], row_of[k], last[k], seen_by[k] = m, i, j, t_out, v
            view_in[k], view_end[k] = row.key - base, min(row.s_out, length[i])
            ptr[m + 1] += 1
            k += 1
    for m in range(span):
        ptr[m + 1] += ptr[m]
    out_trip = np.empty(k, np.int64)
    out_row = np.empty(k, np.int64)
    out_viewer = np.empty(k, np.int32)
    out_t_out = np.empty(k, np.int64)
    out_s_in = np.empty(k, np.float32)
    out_s_end = np.empty(k, np.float32)
    fill = ptr[:-1].copy()
    for q in range(k):
        f = fill[minute[q]]
        out_trip[f], out_row[f], out_viewer[f] = trip[q], row_of[q], seen_by[q]
        out_t_out[f] = last[q]
        out_s_in[f], out_s_end[f] = view_in[q], view_end[q]
        fill[minute[q]] = f + 1
    return out_trip, out_row, out_viewer, out_t_out, out_s_in, out_s_end, ptr


@numba.njit(cache=True)
def _reach_pairs(row, trip, rows, route, depart, speed, length, duration, scale):
    """(minute reached, last minute in view) of the pass in each ``row`` (of the table's
    ``rows``) for each ``trip`` (-1 where never reached)."""
    t_in = np.empty(len(row), np.int64)
    t_out = np.empty(len(row), np.int64)
    for k in range(len(row)):
        i, j = trip[k], row[k]
        t_in[k], t_out[k] = _reach(
            rows[j].key,
            route[i] * scale,
            speed[i],
            length[i],
            duration[i],
            rows[j].s_out,
            depart[i],
        )
    return t_in, t_out


@numba.njit(cache=True)
def _by_minute(ptr):
    """The rows of every minute in the order walking meets them (by minute, then block:
    ``ptr`` as in ``Walks._rows``), and the number of rows of each minute."""
    n_blocks, n_minutes = ptr.shape[0], ptr.shape[1] - 1
    order = np.empty(ptr[-1, -1] if n_blocks else 0, np.int64)
    count = np.zeros(n_minutes, np.int64)
    i = 0
    for m in range(n_minutes):
        for b in range(n_blocks):
            for k in range(ptr[b, m], ptr[b, m + 1]):
                order[i] = k
                i += 1
            count[m] += ptr[b, m + 1] - ptr[b, m]
    return order, count


@numba.njit(cache=True)
def _walk_minutes(
    slot,
    passes,
    ptr,
    start,
    camera_live,
    trips,
    trip_state,
    ring,
    count,
    n_done,
    base,
    probability,
):
    """Minutes ``start`` on, one after the other (the passes of minute ``start + m`` are rows
    ``ptr[b, m]`` to ``ptr[b, m + 1] - 1`` of each block ``b`` in turn: trip ``slot``;
    viewer, last minute in view and the stretch of route in view, ``passes``). A camera in
    use records with the keyed draw (stream ``base``; camera, person, minute) below
    ``probability``; every camera in use counts as a view entered by the trip. Retired
    cameras' passes, still in the table, are left out.

    A recording adds to its trip the stretch of route inside that camera's view (entry to
    exit, within the route) not already inside the view of an earlier recording: a trip
    meets its passes in the order of their entries, so the union of the stretches is kept
    as the metres recorded up to (``cover_to``) and their sum (``rec_metres``); at the
    walker's speed, that is the time on camera in continuous time. Each minute folds the
    departures and arrivals in the ring of differences (minute mod size; group) into the
    people walking, ``count``. ``trip_state`` (views entered, cameras recorded, metres
    recorded up to, metres recorded) and ``ring`` and ``count`` change in place.

    Returns the sightings (minute, camera, person, t_out, ptr by minute), the window passes
    (minute, home, person, ptr), and per minute by group the sightings and the people
    walking, and the people still walking after it (``n_done``: the trips ending in it)."""
    viewer, t_out, view_in, view_end = passes
    person, group = trips
    n_view, n_rec, cover_to, rec_metres = trip_state
    n_blocks, n_minutes = ptr.shape[0], ptr.shape[1] - 1
    seen = np.zeros(len(viewer), np.bool_)
    n_windows = n_cameras = 0
    for m in range(n_minutes):
        for b in range(n_blocks):
            for k in range(ptr[b, m], ptr[b, m + 1]):
                v = viewer[k]
                if v < 0:
                    n_windows += 1
                elif camera_live[v]:
                    n_view[slot[k]] += 1
                    if draw3(base, v, person[slot[k]], start + m) < probability:
                        seen[k] = True
                        n_cameras += 1
    cam_minute = np.empty(n_cameras, np.int64)
    camera = np.empty(n_cameras, viewer.dtype)
    cam_person = np.empty(n_cameras, person.dtype)
    cam_t_out = np.empty(n_cameras, np.int64)
    cam_ptr = np.zeros(n_minutes + 1, np.int64)
    win_minute = np.empty(n_windows, np.int64)
    win_home = np.empty(n_windows, np.int64)
    win_person = np.empty(n_windows, person.dtype)
    win_ptr = np.zeros(n_minutes + 1, np.int64)
    size, n_groups = ring.shape[0], ring.shape[1]
    sighted = np.zeros((n_minutes, n_groups), np.int64)
    walking = np.empty((n_minutes, n_groups), np.int64)
    after = np.empty(n_minutes, np.int64)
    w = c = 0
    for m in range(n_minutes):
        now = start + m
        for b in range(n_blocks):
            for k in range(ptr[b, m], ptr[b, m + 1]):
                v, s = viewer[k], slot[k]
                if v < 0:
                    win_minute[w], win_home[w], win_person[w] = now, -np.int64(v) - 1, person[s]
                    w += 1
                elif seen[k]:
                    cam_minute[c], camera[c], cam_person[c], cam_t_out[c] = (
                        now,
                        v,
                        person[s],
                        t_out[k],
                    )
                    c += 1
                    sighted[m, group[s]] += 1
                    n_rec[s] += 1
                    s_in = max(np.float64(view_in[k]), cover_to[s])
                    s_end = np.float64(view_end[k])
                    if s_end > s_in:
                        rec_metres[s] += s_end - s_in
                        cover_to[s] = s_end
        cam_ptr[m + 1], win_ptr[m + 1] = c, w
        here = now % size
        total = 0
        for g in range(n_groups):
            count[g] += ring[here, g]
            ring[here, g] = 0
            walking[m, g] = count[g]
            total += count[g]
        after[m] = total - n_done[m]
    return (
        (cam_minute, camera, cam_person, cam_t_out, cam_ptr),
        (win_minute, win_home, win_person, win_ptr),
        sighted,
        walking,
        after,
    )


@numba.njit(cache=True, inline="always")
def _overlap(frm, to, start, lo, hi):
    """Where a route piece (from ``frm`` to ``to`` metres along its street, ``start`` metres
    along the route) meets a view [lo, hi] of the same street: (meets, s_in, s_out)."""
    a = max(lo, min(frm, to))
    b = min(hi, max(frm, to))
    if a > b:
        return False, 0.0, 0.0
    if to >= frm:
        return True, start + (a - frm), start + (b - frm)
    return True, start + (frm - b), start + (frm - a)


@numba.njit(cache=True)
def _count_passes(route_ptr, edge, frm, to, start, viewer_ptr, viewer_order, lo, hi, ids):
    """The number of (route, viewer) passes of each route."""
    n_routes = len(route_ptr) - 1
    count = np.zeros(n_routes, np.int64)
    for r in range(n_routes):
        for p in range(route_ptr[r], route_ptr[r + 1]):
            for q in range(viewer_ptr[edge[p]], viewer_ptr[edge[p] + 1]):
                v = viewer_order[q]
                if _overlap(frm[p], to[p], start[p], lo[v], hi[v])[0]:
                    count[r] += 1
    return count


@numba.njit(cache=True)
def _write_passes(
    rows, count, route_ptr, edge, frm, to, start, scale, viewer_ptr, viewer_order, lo, hi, ids
):
    """Every (route, viewer) pass into ``rows`` (``PASS_ROW``; ``count`` of each route, from
    ``_count_passes``), sorted by key = route x scale + s_in (ties in the order of the route's
    pieces, then of the viewers). Counted first, then written once, so building holds
    nothing but the table."""
    k = 0
    for r in range(len(route_ptr) - 1):
        first = k
        for p in range(route_ptr[r], route_ptr[r + 1]):
            for q in range(viewer_ptr[edge[p]], viewer_ptr[edge[p] + 1]):
                v = viewer_order[q]
                ok, s_in, so = _overlap(frm[p], to[p], start[p], lo[v], hi[v])
                if not ok:
                    continue
                # insertion into the route's sorted run (stable; runs are short and nearly
                # sorted, since pieces come in route order)
                kk = r * scale + s_in
                i = k
                while i > first and rows[i - 1].key > kk:
                    rows[i] = rows[i - 1]
                    i -= 1
                rows[i].key, rows[i].viewer, rows[i].s_out = kk, np.int32(ids[v]), so
                k += 1
        assert k == first + count[r]


@numba.njit(cache=True)
def _insert_rows(buffer, n, at, rows):
    """Insert ``rows`` before the rows ``at`` (sorted positions, as for ``np.insert``) among
    the first ``n`` rows of ``buffer``, which has room for them: rows move from the end, each
    once."""
    k = len(rows)
    for i in range(n - 1, -1, -1):
        while k > 0 and at[k - 1] > i:
            k -= 1
            buffer[i + k + 1] = rows[k]
        buffer[i + k] = buffer[i]
    while k > 0:
        k -= 1
        buffer[k] = rows[k]


@numba.njit(cache=True)
def _pair_passes(piece, v, route, frm, to, start, scale, lo, hi, ids):
    """The passes of the given (piece, viewer) pairs (``route``: the piece's route) that
    meet, in the order given: (key, viewer id, s_out)."""
    key = np.empty(len(piece))
    viewer = np.empty(len(piece), np.int32)
    s_out = np.empty(len(piece))
    n = 0
    for k in range(len(piece)):
        p, w = piece[k], v[k]
        ok, s_in, so = _overlap(frm[p], to[p], start[p], lo[w], hi[w])
        if ok:
            key[n], viewer[n], s_out[n] = route[k] * scale + s_in, np.int32(ids[w]), so
            n += 1
    return key[:n], viewer[:n], s_out[:n]


@numba.njit(cache=True)
def _count_on_streets(lo, hi, now, trips, routes, streets, through, bits, people):
    """Walkers (trips lo to hi - 1 still walking after minute ``now``) on each of the sorted
    ``streets``, and the street each of ``people`` is walking (-1: not walking). Only trips on
    a route through one of the streets (``through``) or of one of the people are placed; the
    routes are marked in ``bits`` (one bit per route, all clear before and after), which is
    small enough to stay in cache as the trips are scanned. ``trips``: departure, duration,
    speed, route, person; ``routes``: the route table's ptr, start, edge, length."""
    t0, duration, speed, route, person = trips
    ptr, start, edge, length = routes
    one, six = np.uint64(1), np.uint64(6)
    for r in through:
        bits[np.uint64(r) >> six] |= one << (np.uint64(r) & np.uint64(63))
    count = np.zeros(len(streets), np.int64)
    own = np.full(len(people), -1, np.int64)
    for k in range(lo, hi):
        if t0[k] > now or t0[k] + duration[k] - 1 <= now:  # most have arrived: ruled out first
            continue
        r = route[k]
        marked = (bits[np.uint64(r) >> six] >> (np.uint64(r) & np.uint64(63))) & one
        wanted = False
        for i in range(len(people)):
            wanted |= person[k] == people[i]
        if not (marked or wanted) or ptr[r + 1] == ptr[r]:
            continue
        s = min((now - t0[k]) * speed[k], length[r])
        # the last piece starting at or before s (the first piece if none)
        p = max(np.searchsorted(start[ptr[r] : ptr[r + 1]], s, side="right") - 1, 0) + ptr[r]
        e = edge[p]
        j = np.searchsorted(streets, e)
        if j < len(streets) and streets[j] == e:
            count[j] += 1
        for i in range(len(people)):
            if person[k] == people[i]:
                own[i] = e
    for r in through:
        bits[np.uint64(r) >> six] = 0
    return count, own
