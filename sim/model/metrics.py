"""Metrics: the walking's counters (``Recorder``), a time series every
``time.record_minutes``, and the final flat dict of dotted metric names written to
``metrics.json``, gathered from the submodels (``SUBMODELS``).

Each submodel declares its metrics and computes them from its own state (sim/scenario/submodel.py);
this module only lists the submodels, in the order their declarations make the registry
(``sim.runs.stats.METRICS``, docs/metrics.md's table, a sweep's columns), and gathers their values.
Definitions are in docs/metrics.md. A ratio whose denominator is zero is ``None`` (JSON null):
missing, never infinity.
"""

from __future__ import annotations

import numpy as np

from sim.engine.movement import TIME_UNITS, Walked
from sim.model.adoption import Adoption
from sim.model.ai_features import AIFeatures
from sim.model.avoidance import Avoidance
from sim.model.cameras import Cameras
from sim.model.footage import FootageStore
from sim.model.incidents import Incidents
from sim.model.ledger import WalkingDays
from sim.model.police import PoliceAgency
from sim.model.population import Population
from sim.model.privacy import AccountSecurity
from sim.model.protests import Protests
from sim.model.reporting import Reporting
from sim.model.requests import Platform
from sim.scenario.submodel import AMOUNT, COUNT, FRACTION, Metric, Submodel, metric, ratio
from sim.world.world import World

EVENT_COLUMNS = ("posts", "incidents", "stops")  # counted per time-series interval
OUTCOME_COLUMNS = ("posts", "stops", "bystanders")  # by group, from ``outcome_totals``


class Recorder(Submodel):
    """Counts what the walkers and cameras did, in total and per recording interval.

    Args:
        n_people: number of pedestrians.
        group_names: names of the groups, in index order.
        n_rows: rows to preallocate for the time series.
    """

    name = "recorder"
    STATE = ("walk_minutes", "walk_time", "rec_time", "ever_recorded", "_rows")

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

    METRICS = (
        metric("coverage.exposure_fraction", FRACTION, "share of walking time",
               "Walking time on camera"),
        metric("coverage.exposure_fraction.<group>", FRACTION, "share of walking time",
               "Walking time on camera (<group>)"),
        metric("coverage.trip_recorded_fraction", FRACTION, "share of trips", "Trips recorded"),
        metric("coverage.trip_in_view_fraction", FRACTION, "share of trips",
               "Trips through a view"),
        metric("coverage.cameras_per_trip", AMOUNT, "cameras per trip", "Cameras recording a trip"),
        metric("coverage.people_recorded_fraction", FRACTION, "share of people", "People recorded"),
        metric("pedestrians.walk_minutes", COUNT, "minutes", "Walking minutes"),
        metric("trips.started", COUNT, "trips", "Trips started"),
        metric("trips.completed", COUNT, "trips", "Trips completed"),
    )  # fmt: skip

    def metrics(self, model) -> dict[str, float | int | None]:
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


def outcome_totals(model) -> dict[str, int]:
    """The outcomes so far, for the time series: posts about, stops of and bystanders among
    each group's members, requests issued and clips handed to police (one per camera)."""
    names = model.world.group_names
    group, offender = model.population.group, model.population.offender
    G = len(names)
    offender_of = model.incidents.offender_of()
    counts = {
        "posts": model.reporting.posted_by_group(G),
        "stops": np.bincount(group[model.police.stops()[1]], minlength=G),
        "bystanders": np.bincount(
            group[model.police.handover_bystanders(offender_of, offender)], minlength=G
        ),
    }
    out = {f"{k}.{n}": int(v[g]) for k, v in counts.items() for g, n in enumerate(names)}
    out["requests"] = len(model.police.issued)
    out["clips"] = int(sum(len(h.cameras) for h in model.police.handovers))
    return out


# The submodels whose metrics a run writes, in the registry's order; ``name`` is the model's
# attribute that holds each.
SUBMODELS: tuple[type[Submodel], ...] = (
    Cameras,
    Recorder,
    Reporting,
    Incidents,
    PoliceAgency,
    Platform,
    FootageStore,
    Protests,
    AccountSecurity,
    WalkingDays,
    AIFeatures,
    Adoption,
    World,
    Population,
    Avoidance,
)


def declared() -> list[Metric]:
    """Every declared metric, in the registry's order."""
    return [m for cls in SUBMODELS for m in cls.METRICS]


def gather(model) -> dict[str, float | int | None]:
    """The run's metrics so far from every submodel, sorted by name."""
    out: dict[str, float | int | None] = {}
    for cls in SUBMODELS:
        out.update(getattr(model, cls.name).metrics(model))
    return dict(sorted(out.items()))
