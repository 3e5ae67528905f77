"""What each metric is (its kind, unit and label) and confidence intervals that respect its
range: counts never below 0, fractions within [0, 1], ratios never negative.

The interval of a metric's mean over R replicates depends on the metric's kind (``KINDS``,
documented in docs/metrics.md, "Kinds, units and intervals"):

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

import numpy as np
from scipy import stats as sps

from sim.rng import Streams
from sim.schema import LEDGER_PATHS

LEVEL = 0.95
BOOTSTRAP = 4000  # resamples of a bootstrap interval

COUNT, FRACTION, RATIO, AMOUNT, REAL = "count", "fraction", "ratio", "amount", "real"
KINDS = (COUNT, FRACTION, RATIO, AMOUNT, REAL)
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


def _m(kind: str, unit: str, label: str) -> MetricInfo:
    return MetricInfo(kind, unit, label)


# Every metric of metrics.json; ``<group>`` stands for each population group's name.
METRICS: dict[str, MetricInfo] = {
    "coverage.street_fraction": _m(FRACTION, "share of street length", "Street in camera view"),
    "coverage.exposure_fraction": _m(FRACTION, "share of walking time", "Walking time on camera"),
    "coverage.exposure_fraction.<group>": _m(
        FRACTION, "share of walking time", "Walking time on camera (<group>)"
    ),
    "coverage.trip_recorded_fraction": _m(FRACTION, "share of trips", "Trips recorded"),
    "coverage.trip_in_view_fraction": _m(FRACTION, "share of trips", "Trips through a view"),
    "coverage.cameras_per_trip": _m(AMOUNT, "cameras per trip", "Cameras recording a trip"),
    "coverage.people_recorded_fraction": _m(FRACTION, "share of people", "People recorded"),
    "reports.total": _m(COUNT, "posts", "Posts"),
    "reports.rate.<group>": _m(AMOUNT, "posts per 1,000 recordings", "Posting rate (<group>)"),
    "reports.rate_ratio.<group>": _m(RATIO, "ratio to the first group", "Posting rate ratio"),
    "reports.disparity_ratio": _m(RATIO, "minority / first group", "Posting disparity"),
    "reports.minority_share": _m(FRACTION, "share of posts", "Posts about minority people"),
    "reports.false_positive_fraction": _m(FRACTION, "share of people posted", "Innocent posted"),
    "reports.non_crime_fraction": _m(FRACTION, "share of posts", "Posts about no crime"),
    "reports.victim_posts": _m(COUNT, "posts", "Victims' posts"),
    "reports.majority_slope": _m(REAL, "per unit of majority share", "Posting vs majority share"),
    "reports.majority_slope_se": _m(AMOUNT, "per unit of majority share", "Its standard error"),
    "reports.border_homes": _m(COUNT, "homes", "Homes in border majority tracts"),
    "reports.interior_homes": _m(COUNT, "homes", "Homes in inner majority tracts"),
    "reports.border_posts": _m(COUNT, "posts", "Posts from border majority tracts"),
    "reports.interior_posts": _m(COUNT, "posts", "Posts from inner majority tracts"),
    "reports.border_ratio": _m(RATIO, "border / inner posts per home", "Border posting ratio"),
    "reports.alerts": _m(COUNT, "alerts", "Motion alerts"),
    "reports.recordings": _m(COUNT, "recordings", "Recordings"),
    "feed.mean_fear": _m(AMOUNT, "fear score", "Mean fear"),
    "incidents.total": _m(COUNT, "incidents", "Incidents"),
    "incidents.package_theft": _m(COUNT, "incidents", "Package thefts"),
    "incidents.car_break_in": _m(COUNT, "incidents", "Car break-ins"),
    "incidents.burglary": _m(COUNT, "incidents", "Burglaries"),
    "incidents.majority_slope": _m(
        REAL, "per unit of majority share", "Incidents vs majority share"
    ),
    "incidents.majority_slope_se": _m(AMOUNT, "per unit of majority share", "Its standard error"),
    "incidents.border": _m(COUNT, "incidents", "Incidents in border majority tracts"),
    "incidents.interior": _m(COUNT, "incidents", "Incidents in inner majority tracts"),
    "incidents.attempts": _m(COUNT, "attempts", "Incident attempts"),
    "incidents.known_to_police": _m(COUNT, "incidents", "Incidents known to police"),
    "incidents.cleared_fraction": _m(FRACTION, "share of incidents", "Incidents cleared"),
    "police.stops": _m(COUNT, "stops", "Police stops"),
    "police.stops.<group>": _m(COUNT, "stops", "Police stops (<group>)"),
    "police.stop_disparity_ratio": _m(RATIO, "minority / first group", "Stop disparity"),
    "police.stops_offender_fraction": _m(FRACTION, "share of stops", "Stops of offenders"),
    "police.posts_forwarded": _m(COUNT, "posts", "Posts forwarded to police"),
    "police.attention_gini": _m(FRACTION, "Gini coefficient", "Concentration of attention"),
    "police.attention_gini_final": _m(
        FRACTION, "Gini coefficient", "Concentration of attention at the end"
    ),
    "police.investigations_from_posts": _m(COUNT, "investigations", "Investigations from posts"),
    "police.partnered": _m(FRACTION, "1 = partnered", "Agency partnered"),
    "requests.voluntary": _m(COUNT, "requests", "Voluntary requests"),
    "requests.owners_asked": _m(COUNT, "owners", "Owners asked"),
    "requests.community": _m(COUNT, "requests", "Community Requests"),
    "requests.reminders": _m(COUNT, "reminders", "Community Request reminders"),
    "requests.from_posts": _m(COUNT, "requests", "Requests from posts"),
    "requests.deterred": _m(COUNT, "requests", "Requests forgone as public"),
    "requests.refused": _m(COUNT, "requests", "Requests refused"),
    "requests.legal": _m(COUNT, "demands", "Legal demands"),
    "requests.emergency": _m(COUNT, "disclosures", "Emergency disclosures"),
    "requests.protest": _m(COUNT, "requests", "Protest requests"),
    "requests.public_posts": _m(COUNT, "requests", "Public requests"),
    "requests.recipients": _m(COUNT, "deliveries", "Request deliveries"),
    "requests.response_rate": _m(FRACTION, "share of recipients", "Owners who shared"),
    "footage.clips_shared": _m(COUNT, "clips", "Clips shared voluntarily"),
    "footage.clips_from_posts": _m(COUNT, "clips", "Clips for requests from posts"),
    "footage.legal_clips": _m(COUNT, "clips", "Clips produced for legal demands"),
    "footage.legal_content_fraction": _m(FRACTION, "share of demands", "Demands with video"),
    "footage.incidents_with_footage_fraction": _m(
        FRACTION, "share of incidents", "Incidents with footage"
    ),
    "footage.bystanders.<group>": _m(COUNT, "people", "Bystanders in video (<group>)"),
    "footage.bystanders_from_posts.<group>": _m(
        COUNT, "people", "Bystanders in video from posts (<group>)"
    ),
    "footage.bystander_disparity_ratio": _m(RATIO, "minority / first group", "Bystander disparity"),
    "footage.homes_shared_fraction": _m(FRACTION, "share of homes", "Homes that shared"),
    "footage.sightings": _m(COUNT, "sightings", "Sightings stored"),
    "footage.peak_mb": _m(AMOUNT, "MB", "Peak footage memory"),
    "protest.count": _m(COUNT, "protests", "Protests"),
    "privacy.protest_participants_exposed": _m(COUNT, "people", "Protesters in police video"),
    "privacy.accounts_compromised": _m(COUNT, "accounts", "Accounts taken over"),
    "privacy.people_exposed_by_compromise": _m(COUNT, "people", "People in leaked video"),
    **{
        name: info
        for path in LEDGER_PATHS
        for name, info in {
            f"privacy.exposed.{path}.<group>": _m(
                COUNT, "people", f"Bystanders exposed, {path} (<group>)"
            ),
            f"privacy.exposed.{path}.total": _m(COUNT, "people", f"Bystanders exposed, {path}"),
            f"privacy.exposed_offenders.{path}": _m(COUNT, "people", f"Offenders exposed, {path}"),
        }.items()
    },
    "privacy.exposed_any.<group>": _m(COUNT, "people", "Bystanders exposed by any path (<group>)"),
    "privacy.tracked.<group>": _m(
        COUNT, "people", "Bystanders tracked: 3+ cameras in a day (<group>)"
    ),
    "privacy.faces_held.<group>": _m(COUNT, "people", "Faces held by owners (<group>)"),
    "ai.pet_searches": _m(COUNT, "searches", "Lost-dog searches scanned"),
    "privacy.route_reconstructable_fraction": _m(
        FRACTION, "share of a day's walking minutes", "Route rebuilt from disclosed video"
    ),
    "adoption.final_fraction": _m(FRACTION, "share of homes", "Homes with a camera"),
    "adoption.final_fraction.<group>": _m(
        FRACTION, "share of homes", "Homes with a camera (<group>)"
    ),
    "adoption.initial_fraction": _m(FRACTION, "share of homes", "Homes with a camera at start"),
    "adoption.promotion_attributable": _m(REAL, "share of homes", "Adoption due to promotion"),
    "promotion.code_uses": _m(COUNT, "purchases", "Discount-code purchases"),
    "promotion.devices_to_officers": _m(COUNT, "devices", "Free devices to officers"),
    "promotion.value_usd": _m(AMOUNT, "USD", "Value of promotion"),
    "promotion.app_downloads": _m(COUNT, "downloads", "App downloads"),
    "cameras.count": _m(COUNT, "cameras", "Active cameras"),
    "homes.count": _m(COUNT, "homes", "Homes"),
    "pedestrians.count": _m(COUNT, "people", "Pedestrians"),
    "pedestrians.walk_minutes": _m(COUNT, "minutes", "Walking minutes"),
    "trips.started": _m(COUNT, "trips", "Trips started"),
    "trips.completed": _m(COUNT, "trips", "Trips completed"),
    "world.street_length_m": _m(AMOUNT, "m", "Street length"),
}


ONLY_LATER_GROUPS = ("reports.rate_ratio.<group>",)  # every group but the first
ON_REQUEST = ("adoption.promotion_attributable",)  # only with --counterfactual promotion


def metric_names(groups: list[str]) -> list[str]:
    """The metrics a run writes (without the counterfactual's) for these group names, in
    the registry's order: the columns of a sweep's run tables."""
    out = []
    for name in METRICS:
        if name in ON_REQUEST:
            continue
        if "<group>" in name:
            chosen = groups[1:] if name in ONLY_LATER_GROUPS else groups
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
    info = METRICS.get(name)
    if info is not None:
        return info
    head, _, group = name.rpartition(".")
    generic = METRICS.get(f"{head}.<group>") if head else None
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
    for name, info in METRICS.items():
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
