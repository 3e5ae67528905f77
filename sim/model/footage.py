"""The footage store: who each camera recorded, and when, queryable by area and time window.

A *sighting* is one person in one camera's view for an unbroken run of minutes: (camera,
person, first minute, last minute). Sightings are kept in day partitions in the order they
happen, so a time window is a binary search. An area query first finds the cameras inside the
area (a circle or a polygon over camera positions, never over sightings) and then filters the
day partitions by a camera mask. Partitions older than ``footage.store_days`` are dropped, so
memory stays bounded however long the run; ``nbytes`` reports what is held. A sighting is held
in 12 bytes: camera and person (int32), the minute of the day it starts and the minutes it
lasts (uint16).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from sim.engine.engine import MINUTES_PER_DAY
from sim.scenario.schema import integer
from sim.scenario.submodel import AMOUNT, COUNT, Submodel, metric

# fmt: off
PARAMS = (
    integer("footage.store_days", 14, "day", 1, 400, "Days of sightings kept in memory for "
        "footage queries; older ones are dropped so memory stays bounded."),
)
# fmt: on

_DTYPES = (np.int32, np.int32, np.uint16, np.uint16)  # camera, person, minute of day, length
_MAX_LENGTH = int(np.iinfo(np.uint16).max)  # longest sighting the store can hold, minutes


@dataclass(frozen=True)
class Circle:
    """A disc of ``radius_m`` around (x, y), in metres."""

    x: float
    y: float
    radius_m: float

    def contains(self, xy: np.ndarray) -> np.ndarray:
        return np.hypot(xy[:, 0] - self.x, xy[:, 1] - self.y) <= self.radius_m

    @property
    def area_m2(self) -> float:
        return float(np.pi * self.radius_m**2)


@dataclass(frozen=True)
class Polygon:
    """A simple polygon given by its vertices [(x, y), ...] in metres."""

    vertices: tuple[tuple[float, float], ...]

    def contains(self, xy: np.ndarray) -> np.ndarray:
        from matplotlib.path import Path as MplPath  # loaded on first use: a slow import

        return MplPath(np.asarray(self.vertices, float)).contains_points(xy)

    @property
    def area_m2(self) -> float:
        v = np.asarray(self.vertices, float)
        x, y = v[:, 0], v[:, 1]
        return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


Area = Circle | Polygon


@dataclass
class Sightings:
    """A set of sightings (columns of equal length)."""

    camera: np.ndarray
    person: np.ndarray
    t_in: np.ndarray
    t_out: np.ndarray

    def __len__(self) -> int:
        return len(self.camera)

    def people(self) -> np.ndarray:
        """Distinct people who appear."""
        return np.unique(self.person)

    def people_by_group(self, person_group: np.ndarray, n_groups: int) -> np.ndarray:
        """Number of distinct people who appear, by group."""
        return np.bincount(person_group[self.people()], minlength=n_groups)

    def minutes(self) -> int:
        """Person-minutes of footage (a sighting counts each minute it spans)."""
        return int((self.t_out - self.t_in + 1).sum())


class FootageStore(Submodel):
    """Sightings of the last ``store_days`` days, by day partition.

    Args:
        camera_xy: callable returning the (C, 2) positions of all camera ids so far.
        store_days: days of sightings kept.
    """

    name = "footage"

    def __init__(self, camera_xy, store_days: int) -> None:
        self._camera_xy = camera_xy
        self.store_days = store_days
        # each day's sightings, as segments of columns (one per call to ``add``, in order:
        # never copied again; a query reads each segment's slice of its window)
        self._days: dict[int, list[tuple[np.ndarray, ...]]] = {}
        self._held_bytes = 0
        self._longest = 0  # longest sighting, minutes (queries look back this far)
        self.total = 0  # sightings ever added
        self.peak_nbytes = 0

    def add(self, camera, person, t_in, t_out) -> None:
        """Append sightings of one day, in the order they start (``t_in`` sorted, none
        before those already added)."""
        if len(camera) == 0:
            return
        t_in, t_out = np.asarray(t_in, np.int64), np.asarray(t_out, np.int64)
        day = int(t_in[0]) // MINUTES_PER_DAY
        if int(t_in[-1]) // MINUTES_PER_DAY != day:
            raise ValueError("sightings are added one day at a time")
        length = t_out - t_in
        values = (camera, person, t_in - day * MINUTES_PER_DAY, length)
        cols = tuple(np.asarray(c).astype(dt) for c, dt in zip(values, _DTYPES, strict=True))
        self._days.setdefault(day, []).append(cols)
        self._held_bytes += sum(c.nbytes for c in cols)
        self.peak_nbytes = max(self.peak_nbytes, self._held_bytes)
        self._longest = max(self._longest, int(length.max()))
        if self._longest > _MAX_LENGTH:
            raise ValueError(f"a sighting of {self._longest} minutes: lengths are held in 16 bits")
        self.total += len(camera)

    def expire(self, now: int) -> None:
        """Drop day partitions older than the store's horizon; called once a day."""
        oldest = now // MINUTES_PER_DAY - self.store_days
        for day in [d for d in self._days if d < oldest]:
            self._held_bytes -= sum(c.nbytes for seg in self._days.pop(day) for c in seg)

    @property
    def nbytes(self) -> int:
        """Bytes of sightings held."""
        return self._held_bytes

    @property
    def horizon_start(self) -> int:
        """The earliest minute still held (queries before it would miss footage)."""
        return min(self._days) * MINUTES_PER_DAY if self._days else 0

    def cameras_in(self, area: Area | None) -> np.ndarray | None:
        """Mask over camera ids of the cameras inside an area (None: everywhere)."""
        if area is None:
            return None
        xy = self._camera_xy()
        return area.contains(xy) if len(xy) else np.zeros(0, bool)

    def query(
        self,
        t_start: int,
        t_end: int,
        area: Area | None = None,
        cameras: np.ndarray | None = None,
    ) -> Sightings:
        """Sightings that overlap minutes [t_start, t_end] on cameras in the area.

        Args:
            t_start, t_end: inclusive window in minutes since the start of the run.
            area: a Circle or Polygon, or None for everywhere.
            cameras: optional mask or list of camera ids to restrict to (combined with area).
        """
        mask = self.cameras_in(area)
        if cameras is not None:
            cameras = np.asarray(cameras)
            if cameras.dtype != bool:
                sel = np.zeros(len(self._camera_xy()), bool)
                sel[cameras] = True
                cameras = sel
            mask = cameras if mask is None else mask & cameras
        every = mask is None
        if every:
            mask = np.zeros(0, bool)
        elif len(mask) != (n := len(self._camera_xy())):
            raise ValueError(f"a camera mask over {len(mask)} cameras: there are {n}")
        out = []
        first_day = (t_start - self._longest) // MINUTES_PER_DAY
        for day in range(first_day, t_end // MINUTES_PER_DAY + 1):
            start = day * MINUTES_PER_DAY
            last = min(t_end - start, MINUTES_PER_DAY - 1)  # minute of the day
            # sightings that start before then; of those, ones that start this early may
            # still reach t_start (none lasts longer than the longest)
            earliest = max(t_start - start - self._longest, 0)
            for cam, person, minute, length in self._days.get(day, []):
                # (the minutes as the column's type: a Python int would copy the column)
                lo = int(np.searchsorted(minute, minute.dtype.type(earliest), side="left"))
                hi = int(np.searchsorted(minute, minute.dtype.type(last), side="right"))
                out.append(
                    _select(cam, person, minute, length, lo, hi, start, t_start, mask, every)
                )
        if not out:
            empty = np.zeros(0, np.int32)
            return Sightings(empty, empty, empty, empty)
        return Sightings(*(np.concatenate([o[i] for o in out]) for i in range(4)))

    # ------------------------------------------------------------------ metrics

    METRICS = (
        metric("footage.sightings", COUNT, "sightings", "Sightings stored"),
        metric("footage.peak_mb", AMOUNT, "MB", "Peak footage memory"),
    )

    def metrics(self, model) -> dict[str, float | int | None]:
        return {"footage.sightings": int(self.total), "footage.peak_mb": self.peak_nbytes / 1e6}


@numba.njit(cache=True)
def _select(cam, person, minute, length, lo, hi, start, t_start, mask, every):
    """The sightings among rows ``lo`` to ``hi`` - 1 of a day's segment (which starts at minute
    ``start``) that last until ``t_start`` or later, on a camera in ``mask`` (unless
    ``every``): (camera, person, t_in, t_out), in their order. One pass to count, one to copy:
    no temporaries the size of the segment."""
    n = 0
    for k in range(lo, hi):
        if (every or mask[cam[k]]) and start + np.int64(minute[k]) + length[k] >= t_start:
            n += 1
    out_cam = np.empty(n, np.int32)
    out_person = np.empty(n, np.int32)
    out_in = np.empty(n, np.int32)
    out_out = np.empty(n, np.int32)
    i = 0
    for k in range(lo, hi):
        t_in = start + np.int64(minute[k])
        if (every or mask[cam[k]]) and t_in + length[k] >= t_start:
            out_cam[i], out_person[i] = cam[k], person[k]
            out_in[i], out_out[i] = t_in, t_in + length[k]
            i += 1
    return out_cam, out_person, out_in, out_out
