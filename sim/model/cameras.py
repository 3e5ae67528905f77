"""Cameras on homes: types, the stretch of street each one sees, and street coverage.

A camera sits at the front of its home, ``world.setback_m`` from the line people walk along.
It sees the part of that line within its range and field of view: an interval of the home's
street centred on the home, of half-width ``min(sqrt(range^2 - setback^2), setback *
tan(fov / 2))``, clipped to the street's ends. Indoor cameras see no street: they record no
one walking by, so they add nothing to street footage (they count as cameras and toward
adoption). The view intervals are computed once per camera, so a step never searches space.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.scenario.scenario import Scenario
from sim.scenario.schema import CAMERA_TYPES, SRC_ADOPTION, number, share
from sim.scenario.submodel import COUNT, FRACTION, Submodel, metric
from sim.world.world import Homes, StreetNetwork

# Sources cited only here (docs/sources.md expands them).
SRC_SPEC = "order of magnitude of manufacturer specifications (motion zone up to ~9 m / 30 ft)"

# fmt: off
PARAMS = (
    share("cameras.adoption", 0.2, "Share of homes with a camera at the start.", SRC_ADOPTION),
    share("cameras.detection_probability", 0.9, "Probability that a camera records a person "
        "passing through its view (motion detection, light, obstruction)."),
    *(share(f"cameras.mix.{t}", v, f"Share of cameras that are {t} cameras.")
      for t, v in zip(CAMERA_TYPES, (0.65, 0.15, 0.1, 0.1), strict=True)),
    *(number(f"cameras.range_m.{t}", r, "m", 0, 100,
          f"How far a {t} camera detects and records people.", SRC_SPEC)
      for t, r in zip(CAMERA_TYPES, (9.0, 15.0, 18.0, 0.0), strict=True)),
    *(number(f"cameras.fov_deg.{t}", f, "degree", 0, 180,
          f"Horizontal field of view of a {t} camera (0: no view of the street).", SRC_SPEC)
      for t, f in zip(CAMERA_TYPES, (150.0, 130.0, 140.0, 0.0), strict=True)),
)
# fmt: on


def view_half_width(range_m: float, fov_deg: float, setback_m: float) -> float:
    """Half the length of walking line a camera sees (0 if it cannot reach the line)."""
    if range_m <= setback_m or fov_deg <= 0:
        return 0.0
    by_range = math.sqrt(range_m**2 - setback_m**2)
    by_angle = setback_m * math.tan(math.radians(min(fov_deg, 179.9)) / 2)
    return min(by_range, by_angle)


class Cameras(Submodel):
    """All cameras, one row each; a home has at most one camera.

    Attributes:
        home, kind: the camera's home and type index (into ``CAMERA_TYPES``).
        edge, view_lo, view_hi: the street interval it sees, in metres from ``edge_u``
            (``view_lo == view_hi`` when it sees no street).
        active: False once the owner stopped using it (ids are never reused).
        home_camera: per home, its camera id or -1.
    """

    name = "cameras"
    STATE = ("home", "kind", "edge", "view_lo", "view_hi", "active", "home_camera")

    def __init__(self, homes: Homes, net: StreetNetwork, params: Scenario) -> None:
        self._homes = homes
        self._net = net
        self.half_width = np.array(
            [
                view_half_width(
                    params[f"cameras.range_m.{t}"],
                    params[f"cameras.fov_deg.{t}"],
                    params["world.setback_m"],
                )
                for t in CAMERA_TYPES
            ]
        )
        self.mix = np.array([params[f"cameras.mix.{t}"] for t in CAMERA_TYPES])
        self.detection_probability = params["cameras.detection_probability"]
        self.home = np.zeros(0, np.int32)
        self.kind = np.zeros(0, np.int8)
        self.edge = np.zeros(0, np.int32)
        self.view_lo = np.zeros(0)
        self.view_hi = np.zeros(0)
        self.active = np.zeros(0, bool)
        self.home_camera = np.full(homes.count, -1, np.int32)
        self.version = 0  # bumped on every change, so derived tables know to rebuild
        self._watchers: list[Callable[[], None]] = []
        self._owners = (-1, self.home_camera >= 0)  # (version, mask)
        self._fraction = (-1, 0.0)  # (version, street fraction)

    def owners(self) -> np.ndarray:
        """Mask of homes with a camera in use (read-only; cached until the cameras change)."""
        if self._owners[0] != self.version:
            mask = self.home_camera >= 0
            mask.flags.writeable = False
            self._owners = (self.version, mask)
        return self._owners[1]

    def on_change(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` after every change (the model's clock simulates the minute it falls
        in: a change may happen between the minutes it visits)."""
        self._watchers.append(fn)

    def _changed(self) -> None:
        self.version += 1
        for fn in self._watchers:
            fn()

    @property
    def count(self) -> int:
        """Cameras in use."""
        return int(self.active.sum())

    def install(self, homes: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        """Put cameras of the given types on homes that have none; return the new ids."""
        homes = np.asarray(homes, np.int32)
        if np.any(self.home_camera[homes] >= 0) or len(np.unique(homes)) < len(homes):
            raise ValueError("a home already has a camera, or is listed twice")
        kinds = np.asarray(kinds, np.int8)
        edge = self._homes.edge[homes]
        hw = self.half_width[kinds]
        center = self._homes.offset[homes]
        lo = np.clip(center - hw, 0, self._net.edge_length[edge])
        hi = np.clip(center + hw, 0, self._net.edge_length[edge])
        ids = np.arange(len(self.home), len(self.home) + len(homes), dtype=np.int32)
        self.home = np.concatenate([self.home, homes])
        self.kind = np.concatenate([self.kind, kinds])
        self.edge = np.concatenate([self.edge, edge])
        self.view_lo = np.concatenate([self.view_lo, lo])
        self.view_hi = np.concatenate([self.view_hi, hi])
        self.active = np.concatenate([self.active, np.ones(len(homes), bool)])
        self.home_camera[homes] = ids
        self._changed()
        return ids

    def retire(self, ids: np.ndarray) -> None:
        """Owners stop using these cameras; their homes may get a new one later."""
        ids = np.asarray(ids, np.int32)
        if not np.all(self.active[ids]):
            raise ValueError("only active cameras can be retired")
        self.active[ids] = False
        self.home_camera[self.home[ids]] = -1
        self._changed()

    def draw_kinds(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Camera types for ``n`` new cameras, from the configured mix."""
        return rng.choice(len(CAMERA_TYPES), size=n, p=self.mix).astype(np.int8)

    def sees_street(self) -> np.ndarray:
        """Mask of active cameras with a non-empty view of the street."""
        return self.active & (self.view_hi > self.view_lo)

    def edge_length(self, edge: np.ndarray) -> np.ndarray:
        """Length of the given streets (to clip views to them)."""
        return self._net.edge_length[edge]

    def covered_length(self) -> float:
        """Metres of street seen by at least one camera (overlaps counted once)."""
        ids = np.flatnonzero(self.sees_street())
        if len(ids) == 0:
            return 0.0
        # Lay the edges end to end on one line; the union of intervals is then one sweep.
        base = np.concatenate([[0.0], np.cumsum(self._net.edge_length)])[self.edge[ids]]
        lo, hi = base + self.view_lo[ids], base + self.view_hi[ids]
        order = np.argsort(lo, kind="stable")
        lo, hi = lo[order], hi[order]
        reach = np.maximum.accumulate(hi)
        start = np.maximum(lo, np.concatenate([[-np.inf], reach[:-1]]))
        return float(np.clip(hi - start, 0, None).sum())

    def street_fraction(self) -> float:
        """Share of street length seen by at least one camera (cached until the cameras
        change: it is read at every time-series row)."""
        if self._fraction[0] != self.version:
            self._fraction = (self.version, self.covered_length() / self._net.total_length)
        return self._fraction[1]

    METRICS = (
        metric("coverage.street_fraction", FRACTION, "share of street length",
               "Street in camera view"),
        metric("cameras.count", COUNT, "cameras", "Active cameras"),
    )  # fmt: skip

    def metrics(self, model) -> dict[str, float | int | None]:
        return {"coverage.street_fraction": self.street_fraction(), "cameras.count": self.count}


def initial_cameras(
    homes: Homes, net: StreetNetwork, params: Scenario, rng: np.random.Generator
) -> Cameras:
    """Each home independently has a camera with probability ``cameras.adoption``."""
    cams = Cameras(homes, net, params)
    owners = np.flatnonzero(rng.random(homes.count) < params["cameras.adoption"])
    cams.install(owners, cams.draw_kinds(len(owners), rng))
    return cams
