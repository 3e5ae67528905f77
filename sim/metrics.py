"""Metrics: counters updated every step, a time series every ``time.record_minutes``, and the
final flat dict of dotted metric names written to ``metrics.json``.

Definitions are in docs/metrics.md. A ratio whose denominator is zero is ``None`` (JSON null):
missing, never infinity.
"""

from __future__ import annotations

import numpy as np

from sim.movement import TIME_UNITS, Walked
from sim.police import gini
from sim.schema import INCIDENT_KINDS

EVENT_COLUMNS = ("posts", "incidents", "stops")  # counted per time-series interval
OUTCOME_COLUMNS = ("posts", "stops", "bystanders")  # by group, from ``outcome_totals``


def ratio(num: float | None, den: float | None) -> float | None:
    """num / den, or None when den is zero or either is missing."""
    if num is None or den is None or not den:
        return None
    return float(num) / float(den)


class Recorder:
    """Counts what the walkers and cameras did, in total and per recording interval.

    Args:
        n_people: number of pedestrians.
        group_names: names of the groups, in index order.
        n_rows: rows to preallocate for the time series.
    """

    def __init__(self, n_people: int, group_names: list[str], n_rows: int) -> None:
        self.group_names = group_names
        g = len(group_names)
        self.walk_minutes = np.zeros(g, np.int64)  # whole minutes: people walking each minute
        # continuous time of the trips that arrived, and of it the time in view of a camera
        # that recorded the walker (exposure is their ratio), in whole TIME_UNITS: sums of
        # integers are exact, so the totals do not depend on how the run was stepped
        self.walk_time = np.zeros(g, np.int64)
        self.rec_time = np.zeros(g, np.int64)
        self.trips_done = 0
        self.trips_in_view = 0
        self.trips_recorded = 0
        self.cameras_on_trips = 0
        self.trips_started = 0
        self.ever_recorded = np.zeros(n_people, bool)
        # interval counters, reset at each row
        self._iv_walk = np.zeros(g, np.int64)
        self._iv_walk_time = np.zeros(g, np.int64)
        self._iv_rec_time = np.zeros(g, np.int64)
        self._iv_started = 0
        self._iv_done = 0
        self._iv_sightings = 0
        self._iv_events = dict.fromkeys(EVENT_COLUMNS, 0)
        self._totals: dict[str, int] = {}  # outcome_totals at the last row
        self.outcome_columns = [
            *[f"{kind}.{n}" for kind in OUTCOME_COLUMNS for n in group_names],
            "requests",
            "clips",
        ]
        self.columns = (
            [
                "time_min",
                "day",
                "hour",
                "walking",
                "walker_minutes",
                "walking_time",
                "recorded_time",
                "exposure_fraction",
            ]
            + [f"walker_minutes.{n}" for n in group_names]
            + [f"walking_time.{n}" for n in group_names]
            + [f"recorded_time.{n}" for n in group_names]
            + [
                "trips_started",
                "trips_completed",
                "sightings",
                "cameras",
                "coverage.street_fraction",
                "footage_mb",
                "adoption_fraction",
                *EVENT_COLUMNS,
            ]
            + self.outcome_columns
        )
        self._rows = np.full((n_rows, len(self.columns)), np.nan)
        self._n = 0

    def on_start(self, n_trips: int) -> None:
        self.trips_started += n_trips
        self._iv_started += n_trips

    def count(self, event: str, n: int) -> None:
        """Count events of one kind (a column of EVENT_COLUMNS) in the current interval."""
        self._iv_events[event] += n

    def on_walked(self, w: Walked) -> None:
        """Add minutes of walking."""
        walk = w.walking.sum(axis=0)
        self.walk_minutes += walk
        self._iv_walk += walk
        self._iv_sightings += len(w.camera)
        self.ever_recorded[w.person] = True
        n_done = len(w.done_person)
        if n_done:
            walk_time, rec_time = w.walk_units.sum(axis=0), w.rec_units.sum(axis=0)
            self.walk_time += walk_time
            self.rec_time += rec_time
            self._iv_walk_time += walk_time
            self._iv_rec_time += rec_time
            self.trips_done += n_done
            self._iv_done += n_done
            self.trips_in_view += int(np.count_nonzero(w.done_in_view))
            self.trips_recorded += int(np.count_nonzero(w.done_recorded))
            self.cameras_on_trips += int(w.done_recorded.sum())

    def record(
        self,
        now: int,
        walking: int,
        cameras: int,
        street_fraction: float,
        footage_bytes: int,
        adoption: float,
        totals: dict[str, int],
    ) -> None:
        """Close the current interval as one time-series row (``now``: minutes elapsed;
        ``totals``: ``outcome_totals`` now, differenced into counts over the interval)."""
        if self._n == len(self._rows):
            self._rows = np.concatenate([self._rows, np.full_like(self._rows, np.nan)])
        walk_time, rec_time = (
            self._iv_walk_time.sum() / TIME_UNITS,
            self._iv_rec_time.sum() / TIME_UNITS,
        )
        row = [
            now,
            now // 1440,
            now % 1440 / 60,
            walking,
            self._iv_walk.sum(),
            walk_time,
            rec_time,
            rec_time / walk_time if walk_time else np.nan,
            *list(self._iv_walk),
            *list(self._iv_walk_time / TIME_UNITS),
            *list(self._iv_rec_time / TIME_UNITS),
            self._iv_started,
            self._iv_done,
            self._iv_sightings,
            cameras,
            street_fraction,
            footage_bytes / 1000000.0,
            adoption,
            *self._iv_events.values(),
            *[totals[c] - self._totals.get(c, 0) for c in self.outcome_columns],
        ]
        self._totals = totals
        self._rows[self._n] = row
        self._n += 1
        self._iv_walk[:] = 0
        self._iv_walk_time[:] = 0
        self._iv_rec_time[:] = 0
        self._iv_started = self._iv_done = self._iv_sightings = 0
        self._iv_events = dict.fromkeys(EVENT_COLUMNS, 0)

    def timeseries(self) -> dict[str, np.ndarray]:
        """The recorded rows as named columns."""
        rows = self._rows[: self._n]
        out = {c: rows[:, i] for i, c in enumerate(self.columns)}
        for c in (
            "time_min",
            "day",
            "walking",
            "walker_minutes",
            "trips_started",
            "trips_completed",
            "sightings",
            "cameras",
            *EVENT_COLUMNS,
            *self.outcome_columns,
        ):
            out[c] = out[c].astype(np.int64)
        return out

    def metrics(self) -> dict[str, float | int | None]:
        """Coverage metrics accumulated so far."""
        out: dict[str, float | int | None] = {
            "coverage.exposure_fraction": ratio(self.rec_time.sum(), self.walk_time.sum()),
        }
        for k, name in enumerate(self.group_names):
            out[f"coverage.exposure_fraction.{name}"] = ratio(self.rec_time[k], self.walk_time[k])
        out["coverage.trip_recorded_fraction"] = ratio(self.trips_recorded, self.trips_done)
        out["coverage.trip_in_view_fraction"] = ratio(self.trips_in_view, self.trips_done)
        out["coverage.cameras_per_trip"] = ratio(self.cameras_on_trips, self.trips_done)
        out["coverage.people_recorded_fraction"] = ratio(
            self.ever_recorded.sum(), len(self.ever_recorded)
        )
        out["trips.started"] = int(self.trips_started)
        out["trips.completed"] = int(self.trips_done)
        out["pedestrians.walk_minutes"] = int(self.walk_minutes.sum())
        return out


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
    from sim.police import Zones

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


def reporting_metrics(model) -> dict[str, float | int | None]:
    """Posts, incidents and police stops (definitions in docs/metrics.md).

    "Minority" means every group but the first (the reference group).
    """
    names = model.world.group_names
    G = len(names)
    group = model.population.group
    offender = model.population.offender
    posts = model.reporting.log()
    recordings = model.reporting.recordings
    about = np.bincount(group[posts.person], minlength=G)
    out: dict[str, float | int | None] = {"reports.total": len(posts)}
    rates = [ratio(1000 * about[g], recordings[g]) for g in range(G)]
    for g, name in enumerate(names):
        out[f"reports.rate.{name}"] = rates[g]
        if g > 0:
            out[f"reports.rate_ratio.{name}"] = ratio(rates[g], rates[0])
    out["reports.disparity_ratio"] = ratio(
        ratio(about[1:].sum(), recordings[1:].sum()), ratio(about[0], recordings[0])
    )
    out["reports.minority_share"] = ratio(about[1:].sum(), len(posts))
    people = np.unique(posts.person)
    out["reports.false_positive_fraction"] = ratio(np.count_nonzero(~offender[people]), len(people))
    out["reports.non_crime_fraction"] = ratio(np.count_nonzero(~posts.about_incident), len(posts))
    out["reports.victim_posts"] = int(model.reporting.victim_posts)
    H = model.world.homes.count
    share = model.reporting.majority_share
    per_home = np.bincount(posts.poster, minlength=H)
    out["reports.majority_slope"] = majority_slope(per_home, share)
    out["reports.majority_slope_se"] = majority_slope_se(per_home, share)
    border, interior = border_tracts(
        model.world.homes.xy, model.world.homes.group, model.params["reporting.area_m"]
    )
    out["reports.border_homes"] = int(border.sum())
    out["reports.interior_homes"] = int(interior.sum())
    out["reports.border_posts"] = int(per_home[border].sum())
    out["reports.interior_posts"] = int(per_home[interior].sum())
    out["reports.border_ratio"] = ratio(
        ratio(out["reports.border_posts"], out["reports.border_homes"]),
        ratio(out["reports.interior_posts"], out["reports.interior_homes"]),
    )
    out["reports.alerts"] = int(model.reporting.alerts)
    out["reports.recordings"] = int(recordings.sum())
    inc = model.incidents.log()
    out["incidents.total"] = len(inc.minute)
    for k, name in enumerate(INCIDENT_KINDS):
        out[f"incidents.{name}"] = int(np.count_nonzero(inc.kind == k))
    per_home = np.bincount(inc.home, minlength=H)
    out["incidents.majority_slope"] = majority_slope(per_home, share)
    out["incidents.majority_slope_se"] = majority_slope_se(per_home, share)
    out["incidents.border"] = int(per_home[border].sum())
    out["incidents.interior"] = int(per_home[interior].sum())
    out["incidents.attempts"] = int(model.incidents.attempts)
    out["incidents.known_to_police"] = int(model.police.incidents_known)
    _, stopped, _ = model.police.stops()
    stops = np.bincount(group[stopped], minlength=G)
    size = np.bincount(group, minlength=G)
    for g, name in enumerate(names):
        out[f"police.stops.{name}"] = int(stops[g])
    out["police.stops"] = int(stops.sum())
    out["police.stop_disparity_ratio"] = ratio(
        ratio(stops[1:].sum(), size[1:].sum()), ratio(stops[0], size[0])
    )
    out["police.stops_offender_fraction"] = ratio(np.count_nonzero(offender[stopped]), len(stopped))
    out["police.posts_forwarded"] = int(model.police.posts_forwarded)
    out["police.attention_gini"] = model.police.attention_gini()
    out["police.attention_gini_final"] = gini(model.police.attention)
    out["feed.mean_fear"] = float(model.reporting.fear.mean())
    return out


def bystanders_of(request, people: np.ndarray, offender_of: dict, offender: np.ndarray):
    """The bystanders among the people in footage handed over for ``request``: everyone but
    the offender of the incident it was asked for, or the person posted if an offender (the
    one definition of ``footage.bystanders.*`` and of the time series' bystanders)."""
    if request.incident >= 0:
        return people[people != offender_of[request.incident]]
    if request.post >= 0:
        subject = request.post % len(offender)
        if offender[subject]:
            return people[people != subject]
    return people


def handover_bystanders(model) -> np.ndarray:
    """Whether each person is a bystander (``bystanders_of``) in footage handed to police."""
    log = model.incidents.log()
    offender_of = dict(zip(log.id.tolist(), log.person.tolist(), strict=True))
    out = np.zeros(model.population.count, bool)
    for h in model.police.handovers:
        out[
            bystanders_of(h.request, h.sightings.person, offender_of, model.population.offender)
        ] = True
    return out


def outcome_totals(model) -> dict[str, int]:
    """The outcomes so far, for the time series: posts about, stops of and bystanders among
    each group's members, requests issued and clips handed to police (one per camera)."""
    names = model.world.group_names
    group = model.population.group
    G = len(names)
    counts = {
        "posts": np.bincount(group[model.reporting.log().person], minlength=G),
        "stops": np.bincount(group[model.police.stops()[1]], minlength=G),
        "bystanders": np.bincount(group[handover_bystanders(model)], minlength=G),
    }
    out = {f"{k}.{n}": int(v[g]) for k, v in counts.items() for g, n in enumerate(names)}
    out["requests"] = len(model.police.issued)
    out["clips"] = int(sum(len(h.cameras) for h in model.police.handovers))
    return out


def request_metrics(model) -> dict[str, float | int | None]:
    """Footage requests, what police obtained, the bystanders it exposed, and account
    security (definitions in docs/metrics.md)."""
    from sim.requests import EMERGENCY, LEGAL, VOLUNTARY

    police, platform = model.police, model.platform
    names = model.world.group_names
    G = len(names)
    group = model.population.group
    issued = police.issued
    handovers = police.handovers
    voluntary = [h for h in handovers if h.request.kind == VOLUNTARY]
    legal = [h for h in handovers if h.request.kind == LEGAL]
    out: dict[str, float | int | None] = {
        "requests.voluntary": sum(r.kind == VOLUNTARY for r in issued),
        "requests.refused": int(sum(police.refused.values())),
        "requests.legal": sum(r.kind == LEGAL for r in issued),
        "requests.emergency": sum(r.kind == EMERGENCY for r in issued),
        "requests.protest": sum(r.kind == VOLUNTARY and r.protest >= 0 for r in issued),
        "requests.public_posts": (
            sum(r.kind == VOLUNTARY for r in issued) if platform.rules.public else 0
        ),
        "requests.recipients": int(platform.recipients),
        "requests.owners_asked": int(platform.asked.sum()),
        "requests.community": (
            sum(r.kind == VOLUNTARY for r in issued) if platform.rules.reminders else 0
        ),
        "requests.reminders": platform.reminders_sent(int(model.time)),
        "requests.from_posts": sum(r.kind == VOLUNTARY and r.post >= 0 for r in issued),
        "requests.deterred": int(police.deterred),
        "police.investigations_from_posts": int(police.investigations_from_posts),
        "requests.response_rate": ratio(platform.responders, platform.recipients),
        "footage.clips_shared": int(sum(len(h.cameras) for h in voluntary)),
        "footage.clips_from_posts": int(
            sum(len(h.cameras) for h in voluntary if h.request.post >= 0)
        ),
        "footage.legal_clips": int(sum(len(h.cameras) for h in legal)),
    }
    n_legal = out["requests.legal"]
    out["footage.legal_content_fraction"] = ratio(sum(len(h.cameras) > 0 for h in legal), n_legal)
    # incidents: with footage, and cleared through it
    log = model.incidents.log()
    offender_of = dict(zip(log.id.tolist(), log.person.tolist(), strict=True))
    with_footage, cleared = set(), set()
    bystanders = np.zeros(len(group), bool)
    from_posts = np.zeros(len(group), bool)  # in footage asked for posts' investigations
    protesters = np.zeros(len(group), bool)
    participants = {p.id: p.participants for p in model.protests.protests}
    for h in handovers:
        people = np.unique(h.sightings.person)
        inc = h.request.incident
        if inc >= 0 and len(people):
            with_footage.add(inc)
            if offender_of[inc] in people:
                u = model.streams.uniform("police.identify", inc)[0]
                if u < model.params["police.identification_probability"]:
                    cleared.add(inc)
        people = bystanders_of(h.request, people, offender_of, model.population.offender)
        if inc < 0 and h.request.post >= 0:
            from_posts[people] = True
        if h.request.protest >= 0:
            protesters[np.intersect1d(people, participants[h.request.protest])] = True
        bystanders[people] = True
    out["footage.incidents_with_footage_fraction"] = ratio(
        len(with_footage), police.incidents_known
    )
    out["incidents.cleared_fraction"] = ratio(len(cleared), len(log.id))
    counts = np.bincount(group[bystanders], minlength=G)
    size = np.bincount(group, minlength=G)
    posted = np.bincount(group[from_posts], minlength=G)
    for g, name in enumerate(names):
        out[f"footage.bystanders.{name}"] = int(counts[g])
        out[f"footage.bystanders_from_posts.{name}"] = int(posted[g])
    out["footage.bystander_disparity_ratio"] = ratio(
        ratio(counts[1:].sum(), size[1:].sum()), ratio(counts[0], size[0])
    )
    owners = np.unique(model.cameras.home)
    out["footage.homes_shared_fraction"] = ratio(platform.shared_homes[owners].sum(), len(owners))
    out["privacy.protest_participants_exposed"] = int(protesters.sum())
    out["protest.count"] = len(model.protests.protests)
    out["privacy.accounts_compromised"] = int(model.accounts.compromised.sum())
    out["privacy.people_exposed_by_compromise"] = len(model.accounts.leaked().people())
    return out


def adoption_metrics(model) -> dict[str, float | int | None]:
    """Adoption and promotion (definitions in docs/metrics.md)."""
    a = model.adoption
    group = model.world.homes.group
    out: dict[str, float | int | None] = {
        "adoption.final_fraction": float(a.owner.mean()),
        "adoption.initial_fraction": float(a.initial_owners.mean()),
    }
    for g, name in enumerate(model.world.group_names):
        out[f"adoption.final_fraction.{name}"] = ratio(
            a.owner[group == g].sum(), np.count_nonzero(group == g)
        )
    out["promotion.code_uses"] = int(a.code_uses)
    out["promotion.devices_to_officers"] = int(a.devices_to_officers)
    out["promotion.value_usd"] = float(a.value_usd)
    out["promotion.app_downloads"] = int(a.downloads)
    out["police.partnered"] = int(bool(model.police.partnered))
    return out
