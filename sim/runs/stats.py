"""What each metric is (its kind, unit and label, as its submodel declares it) and confidence
intervals that respect its range: counts never below 0, fractions within [0, 1], ratios never
negative.

The interval of a metric's mean over R replicates depends on the metric's kind
(``sim.scenario.submodel.KINDS``, documented in docs/metrics.md, "Kinds, units and intervals"):

* ``count`` (events in a run, >= 0): a quasi-Poisson score interval. The mean's variance is
  modelled as phi * mu / n, phi = s^2 / mean estimated from the replicates (the t quantile
  with n - 1 degrees of freedom allows for that estimate); the interval is the set of mu with
  (mean - mu)^2 <= t^2 phi mu / n, which never goes below 0. All replicates 0: phi = 1
  (Poisson, known, so the normal quantile z), so the upper bound is z^2 / n = 3.84 / n, not 0.
  All replicates equal and above 0 (e.g. a fixed number of homes): zero width.
* ``fraction`` (in [0, 1]): the same with the quasi-binomial variance phi * p (1 - p) / n, a
  Wilson score interval with n / phi effective trials; it stays within [0, 1]. All replicates
  0 (or all 1): phi = 1, Wilson's interval for n Bernoulli replicates (with z).
* ``ratio`` and ``amount`` (>= 0, e.g. disparity ratios, megabytes, dollars): a bootstrap
  percentile interval of the mean over the replicates, with Hesterberg's expanded
  percentiles for small n (``BOOTSTRAP`` resamples from a generator keyed by the run's root
  seed and the metric's name, so the same inputs give the same interval); it lies within the
  replicates' range (zero width when every replicate has the same value).
* ``real`` (may be negative, e.g. slopes and differences): Student's t interval.

Paired differences (``compare``, a report's contrasts) can be negative whatever the metric's
kind: Student's t interval on the replicate-by-replicate differences (``paired_interval``);
identical runs give a difference of exactly 0 with the interval [0, 0].

Every interval comes with n, the replicates whose value was defined (a ratio with a zero
denominator in some replicate is left out there, and counted as undefined).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import stats as sps

from sim.engine.rng import Streams
from sim.scenario.submodel import AMOUNT, COUNT, FRACTION, RATIO, REAL

LEVEL = 0.95
BOOTSTRAP = 4000  # resamples of a bootstrap interval

METHODS = {
    COUNT: "quasi-Poisson score",
    FRACTION: "quasi-binomial score (Wilson)",
    RATIO: "bootstrap percentile",
    AMOUNT: "bootstrap percentile",
    REAL: "Student t",
}
PAIRED_METHOD = "Student t on paired differences"


@dataclass(frozen=True)
class MetricInfo:
    kind: str
    unit: str
    label: str


@cache
def _registry() -> tuple[dict[str, MetricInfo], tuple[str, ...], tuple[str, ...]]:
    """Every metric of metrics.json as its submodel declares it (sim/scenario/submodel.py, in the
    order
    of ``sim.model.metrics.SUBMODELS``; ``<group>`` stands for each population group's name), those
    written for every group but the first, and those written only on request
    (``--counterfactual promotion``). Imported when first needed: the submodels bring numba
    and Mesa, which the command line's light commands (and their start-up) do without."""
    from sim.model.metrics import declared

    metrics = declared()
    return (
        {m.name: MetricInfo(m.kind, m.unit, m.label) for m in metrics},
        tuple(m.name for m in metrics if m.later_groups),
        tuple(m.name for m in metrics if m.on_request),
    )


def __getattr__(name: str):
    """``METRICS``, ``ONLY_LATER_GROUPS`` and ``ON_REQUEST`` (``_registry``)."""
    names = ("METRICS", "ONLY_LATER_GROUPS", "ON_REQUEST")
    if name in names:
        return _registry()[names.index(name)]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def metric_names(groups: list[str]) -> list[str]:
    """The metrics a run writes (without the counterfactual's) for these group names, in
    the registry's order: the columns of a sweep's run tables."""
    metrics, only_later_groups, on_request = _registry()
    out = []
    for name in metrics:
        if name in on_request:
            continue
        if "<group>" in name:
            chosen = groups[1:] if name in only_later_groups else groups
            out += [name.replace("<group>", g) for g in chosen]
        else:
            out.append(name)
    return out


def metric_columns(scenarios) -> list[str]:
    """Every metric the scenarios' runs write (their groups' names may differ), in the
    registry's order."""
    names: dict[str, None] = {}
    for groups in dict.fromkeys(tuple(s.group_names) for s in scenarios):
        names.update(dict.fromkeys(metric_names(list(groups))))
    return list(names)


def metric_info(name: str) -> MetricInfo:
    """The kind, unit and label of a metric (a group's name resolved to ``<group>``); an
    unknown name is ``real`` with no unit, labelled by its name."""
    metrics = _registry()[0]
    info = metrics.get(name)
    if info is not None:
        return info
    head, _, group = name.rpartition(".")
    generic = metrics.get(f"{head}.<group>") if head else None
    if generic is not None:
        return MetricInfo(generic.kind, generic.unit, generic.label.replace("<group>", group))
    return MetricInfo(REAL, "", name)


def axis_label(name: str) -> str:
    """``Label (unit)`` for a figure's axis."""
    info = metric_info(name)
    return f"{info.label} ({info.unit})" if info.unit else info.label


def kinds_markdown() -> str:
    """The table of docs/metrics.md's "Kinds, units and intervals" section."""
    lines = ["| metric | kind | unit | label |", "|---|---|---|---|"]
    for name, info in _registry()[0].items():
        lines.append(f"| `{name}` | {info.kind} | {info.unit} | {info.label} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- intervals


@dataclass(frozen=True)
class Interval:
    mean: float | None
    low: float | None
    high: float | None
    n: int  # values used (defined and finite)
    n_undefined: int  # values missing (None or not finite)
    method: str


def _clean(values) -> tuple[np.ndarray, int]:
    raw = [v for v in values]
    x = np.array([float(v) for v in raw if v is not None and math.isfinite(float(v))], float)
    return x, len(raw) - len(x)


def _t(n: int, level: float) -> float:
    return float(sps.t.ppf(0.5 + level / 2, n - 1))


def _score(mean: float, c: float, binomial: bool) -> tuple[float, float]:
    """The set of mu with (mean - mu)^2 <= c * v(mu), v(mu) = mu (Poisson) or mu (1 - mu)."""
    if binomial:
        centre = (2 * mean + c) / (2 * (1 + c))
        half = math.sqrt(c * c + 4 * c * mean * (1 - mean)) / (2 * (1 + c))
        return max(0.0, centre - half), min(1.0, centre + half)
    half = math.sqrt(c * mean + c * c / 4)
    return max(0.0, mean + c / 2 - half), mean + c / 2 + half


def interval(values, kind: str, level: float = LEVEL, seed: int = 0, key: str = "") -> Interval:
    """The mean of the defined values and its interval by the kind's method (module doc).

    ``seed`` and ``key`` (the run's root seed and the metric's name) key the bootstrap's
    generator. Fewer than two values: no interval.
    """
    x, undefined = _clean(values)
    n = len(x)
    method = METHODS[kind]
    if n == 0:
        return Interval(None, None, None, 0, undefined, method)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, None, None, n, undefined, method)
    if kind in (COUNT, FRACTION):
        binomial = kind == FRACTION
        m = min(max(mean, 0.0), 1.0) if binomial else max(mean, 0.0)
        var = float(x.var(ddof=1))
        spread = m * (1 - m) if binomial else m
        if spread <= 0:  # no variation at a bound says nothing of the dispersion: phi = 1,
            q = float(sps.norm.ppf(0.5 + level / 2))  # known, so the normal quantile
            phi = 1.0
        else:
            q, phi = _t(n, level), var / spread
        low, high = _score(m, q * q * phi / n, binomial)
        low, high = min(low, mean), max(high, mean)
    elif kind in (RATIO, AMOUNT):
        if np.ptp(x) == 0:
            low = high = mean
        else:
            gen = Streams(seed).generator(f"bootstrap:{key}")
            means = x[gen.integers(0, n, size=(BOOTSTRAP, n))].mean(axis=1)
            # Expanded percentiles (Hesterberg 2015): the plain percentile interval is too
            # narrow by about sqrt((n - 1) / n) and z / t for small n.
            tail = float(sps.norm.sf(math.sqrt(n / (n - 1)) * _t(n, level)))
            low, high = np.quantile(means, [tail, 1 - tail])
            low, high = float(low), float(high)
    else:
        half = _t(n, level) * float(x.std(ddof=1)) / math.sqrt(n)
        low, high = mean - half, mean + half
    return Interval(mean, low, high, n, undefined, method)


def paired_interval(diffs, level: float = LEVEL) -> Interval:
    """Mean of the paired differences (pairs where both values are defined) and Student's t
    interval; all differences 0 gives exactly [0, 0]."""
    x, undefined = _clean(diffs)
    n = len(x)
    if n == 0:
        return Interval(None, None, None, 0, undefined, PAIRED_METHOD)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, None, None, n, undefined, PAIRED_METHOD)
    half = _t(n, level) * float(x.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, undefined, PAIRED_METHOD)


def metric_interval(values, name: str, seed: int = 0, level: float = LEVEL) -> Interval:
    """``interval`` with the kind of the named metric."""
    return interval(values, metric_info(name).kind, level, seed, name)
