"""The common shape of a submodel: what it owns and what it reports.

A submodel (reporting, police, the platform's requests, footage, adoption, ...) is a class
that inherits ``Submodel`` and declares, next to its code:

* ``name``: the attribute of the model that holds it (``model.reporting``);
* ``STATE``: the names of the state arrays it owns. Only its own methods write them; another
  submodel, or the model, changes them by calling one of its methods (``tests/test_submodel.py``
  checks the modules for assignments into another's declared state);
* ``METRICS``: its metrics, one ``metric(name, kind, unit, label)`` each (``<group>`` in a name
  stands for each population group's name), and ``metrics(model)``, which computes exactly
  those from its own state (reading others' through their public attributes and methods).

``sim.model.metrics.SUBMODELS`` lists the submodels in order: the model gathers a run's metrics from
them, and ``sim.runs.stats.METRICS`` (kinds, units, labels; docs/metrics.md's table) is assembled
from their declarations. The helpers below are shared by several submodels' metrics.

The model's own submodels are called explicitly by ``step``, ``_hourly`` and ``_start_day``
(sim/model/model.py), in the documented order (docs/ODD.md, section 3), with what each uses:
their daily, hourly and per-minute work takes different inputs (fear, the cameras in use, the
platform, the minute's walks), and the calls keep that data flow in view. A submodel added
later (``attaches = True``, docs/extending.md) needs no edit there: the model builds it as
``cls(model)`` after the others and calls its common hooks, ``day(model, day)`` at the end of
each day's start and ``hour(model, minute)`` at the end of each hour's work, in the order of
``SUBMODELS``. Its minute-level work registers with the engine (``model.engine.on_walked``,
``on_settle``: sim/engine/engine.py) or with an owner's hook (``Population.on_outings``), so
that the engine can still walk ahead of the minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

COUNT, FRACTION, RATIO, AMOUNT, REAL = "count", "fraction", "ratio", "amount", "real"
KINDS = (COUNT, FRACTION, RATIO, AMOUNT, REAL)


@dataclass(frozen=True)
class Metric:
    """A metric's declaration: its name, kind (one of ``KINDS``: how its interval is made,
    sim/runs/stats.py), unit and short label. Its definition is in docs/metrics.md: written
    there by hand for the model's own submodels, generated from ``definition`` for those that
    attach themselves (``run.py explain --metrics docs/metrics.md``)."""

    name: str
    kind: str
    unit: str
    label: str
    later_groups: bool = False  # ``<group>``: every group but the first
    on_request: bool = False  # written only on request (``--counterfactual promotion``)
    definition: str = ""


def metric(
    name: str,
    kind: str,
    unit: str,
    label: str,
    *,
    later_groups: bool = False,
    on_request: bool = False,
    definition: str = "",
) -> Metric:
    if kind not in KINDS:
        raise ValueError(f"metric {name}: kind {kind!r} is not one of {', '.join(KINDS)}")
    return Metric(name, kind, unit, label, later_groups, on_request, definition)


class Submodel:
    """What every submodel declares (module docstring)."""

    name: ClassVar[str] = ""
    # True for a submodel the model builds as ``cls(model)`` after the others, which then
    # registers what it changes through its owners' hooks (docs/extending.md); the model
    # builds the others itself, with what each needs
    attaches: ClassVar[bool] = False
    STATE: ClassVar[tuple[str, ...]] = ()
    METRICS: ClassVar[tuple[Metric, ...]] = ()

    def metrics(self, model) -> dict[str, float | int | None]:
        """This submodel's metrics (``METRICS``) at the end of what has run."""
        return {}

    def day(self, model, day: int) -> None:
        """An attached submodel's work at the start of day ``day``, after the model's own."""

    def hour(self, model, minute: int) -> None:
        """An attached submodel's work on the hour (at ``minute``), after the model's own:
        fear is fixed until the next hour, cameras may change (the engine walks again)."""


# --------------------------------------------------------------------------- helpers


def ratio(num: float | None, den: float | None) -> float | None:
    """num / den, or None when den is zero or either is missing."""
    if num is None or den is None or not den:
        return None
    return float(num) / float(den)


def majority_slope(per_home: np.ndarray, share: np.ndarray) -> float | None:
    """Relative OLS slope of a per-home count on the home's local majority share.

    The slope of ``per_home`` regressed on ``share`` (least squares, with an intercept),
    divided by the mean of ``per_home``: the proportional change per unit of majority share
    (0.5 means a home in an all-majority area has half the mean more than one in an area
    without the majority). None when nothing was counted or every home has the same share.
    Pattern 6 (docs/calibration.md) compares this for posts and for incidents.
    """
    y = np.asarray(per_home, float)
    x = np.asarray(share, float)
    mean = y.mean() if len(y) else 0.0
    dx = x - x.mean() if len(x) else x
    var = float(dx @ dx)
    if mean <= 0 or var <= 1e-12:
        return None
    return float(dx @ (y - mean) / var / mean)


def majority_slope_se(per_home: np.ndarray, share: np.ndarray) -> float | None:
    """Standard error of ``majority_slope`` (heteroscedasticity-robust, HC1, divided by the
    same mean).

    Per-home counts are small and their variance grows with their mean, so the usual OLS
    error would be wrong; the robust (sandwich) error is ``sqrt(n/(n-2) sum(dx^2 e^2)) /
    sum(dx^2)``, with ``e`` the residuals of the fit. Pattern 6 pools the slopes of
    replications weighted by ``1 / se^2`` (a fixed-effect meta-analysis) to get a 95 %
    interval from runs that each have few posts. None where the slope is None.
    """
    y = np.asarray(per_home, float)
    x = np.asarray(share, float)
    n = len(y)
    mean = y.mean() if n else 0.0
    dx = x - x.mean() if n else x
    var = float(dx @ dx)
    if mean <= 0 or var <= 1e-12 or n < 3:
        return None
    slope = float(dx @ (y - mean) / var)
    e = y - mean - slope * dx
    return float(np.sqrt(n / (n - 2) * float((dx * dx) @ (e * e))) / var / mean)


class Zones:
    """A grid of rectangular zones over the area's bounding box."""

    def __init__(self, xy: np.ndarray, nx: int, ny: int) -> None:
        self.lo = xy.min(axis=0)
        self.size = np.maximum(xy.max(axis=0) - self.lo, 1e-9)
        self.nx, self.ny = nx, ny

    @property
    def count(self) -> int:
        return self.nx * self.ny

    def of(self, xy: np.ndarray) -> np.ndarray:
        f = (xy - self.lo) / self.size
        i = np.clip((f[:, 0] * self.nx).astype(np.int64), 0, self.nx - 1)
        j = np.clip((f[:, 1] * self.ny).astype(np.int64), 0, self.ny - 1)
        return i * self.ny + j


def border_tracts(xy: np.ndarray, group: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """Which homes lie in majority tracts that border a minority tract, and which in majority
    tracts that do not (pattern 6's second half: Calacci et al. 2022's "racial gatekeeping" by
    majority areas bordering minority areas).

    Tracts are an equal grid over the homes' bounding box, ``round(extent / side)`` cells
    (at least one) each way, so cells are close to squares of ``side`` metres (the run uses
    ``reporting.area_m``, the area whose make-up sets gatekeeping). A tract is a majority tract
    when more than half of its homes are in the first group, a minority tract when fewer than
    half are; it borders another when they share an edge (rook contiguity). Returns two boolean
    masks over homes: (in a bordering majority tract, in a non-bordering majority tract).
    """
    xy = np.asarray(xy, float)
    H = len(xy)
    if H == 0:
        return np.zeros(0, bool), np.zeros(0, bool)
    extent = np.ptp(xy, axis=0)
    nx, ny = (max(1, round(float(e) / side)) for e in extent)
    tract = Zones(xy, nx, ny).of(xy)  # i * ny + j
    homes = np.bincount(tract, minlength=nx * ny)
    first = np.bincount(tract, weights=(np.asarray(group) == 0), minlength=nx * ny)
    share = np.divide(first, homes, out=np.full(nx * ny, 0.5), where=homes > 0)
    majority = ((homes > 0) & (share > 0.5)).reshape(nx, ny)
    minority = ((homes > 0) & (share < 0.5)).reshape(nx, ny)
    near = np.zeros_like(minority)
    near[1:, :] |= minority[:-1, :]
    near[:-1, :] |= minority[1:, :]
    near[:, 1:] |= minority[:, :-1]
    near[:, :-1] |= minority[:, 1:]
    border = (majority & near).ravel()[tract]
    interior = (majority & ~near).ravel()[tract]
    return border, interior


def disparity(counts: np.ndarray, size: np.ndarray) -> float | None:
    """The rate of everyone but the first group over the first group's: (counts of groups 1..
    per their size) / (count of group 0 per its size)."""
    return ratio(ratio(counts[1:].sum(), size[1:].sum()), ratio(counts[0], size[0]))
