"""Incidents: offenders' attempts on homes along their walks, in routine-activity style.

When an offender sets off on a walk, for each kind of incident (package theft, car break-in,
burglary) the walk includes an attempt with probability ``incidents.per_trip.<kind>`` times the
kind's hourly profile (normalised to a mean of 1). The target is a home whose front door the
walk passes, chosen at random; the attempt happens the minute the offender reaches that door.
It succeeds with probability

    available x (1 - deterrence if the home has a camera) x (1 - guardian_effect)^g

where ``available`` says a target is there (a package on the porch, left by a courier and not
yet picked up; a car parked in front; a home to burgle) and ``g`` is the number of other
people walking the same street that minute (capable guardians). A successful attempt is an
incident: a place, a time, an offender and a kind. The victim reports it to police with
probability ``incidents.victim_reporting``. While it happens, the offender is "doing
something": cameras and windows within ``incidents.visible_m`` see it (signal for posting).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from sim.engine.rng import Streams, draw3
from sim.scenario.scenario import Scenario
from sim.scenario.schema import INCIDENT_KINDS, number, profile, share
from sim.scenario.submodel import (
    AMOUNT,
    COUNT,
    REAL,
    Submodel,
    majority_slope,
    majority_slope_se,
    metric,
)
from sim.world.routes import RouteTable, group_by, runs
from sim.world.world import Homes

# Sources cited only here (docs/sources.md expands them).
SRC_NCVS = "US victimisation surveys: about a third of property crime is reported to police"
SRC_DETER = "docs/sources.md: CCTV meta-analysis, modest effects; sweep 0 to about 15 %"

# fmt: off
PARAMS = (
    *(number(f"incidents.per_trip.{k}", rate, "per trip", 0, 1, "Probability that an offender's "
            f"walk includes a {k.replace('_', ' ')} attempt (at the average hour; scaled by the "
            "hourly profile).")
      for k, rate in zip(INCIDENT_KINDS, (0.01, 0.005, 0.002), strict=True)),
    profile("incidents.profile.package_theft",
        [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.3, 1.6,
         1.8, 2, 2, 2, 2, 1.8, 1.5, 1.2, 0.8, 0.5, 0.3, 0.2],
        "Relative rate of package theft attempts by hour of day."),
    profile("incidents.profile.car_break_in",
        [2.5, 2.5, 2.5, 2.2, 1.8, 1, 0.5, 0.4, 0.4, 0.4, 0.4, 0.5,
         0.5, 0.5, 0.5, 0.5, 0.6, 0.7, 0.9, 1.2, 1.5, 1.8, 2.1, 2.3],
        "Relative rate of car break in attempts by hour of day."),
    profile("incidents.profile.burglary",
        [0.5, 0.4, 0.4, 0.3, 0.3, 0.4, 0.6, 0.9, 1.3, 1.6, 1.8, 1.8,
         1.8, 1.8, 1.7, 1.5, 1.2, 1, 0.9, 0.8, 0.7, 0.6, 0.6, 0.5],
        "Relative rate of burglary attempts by hour of day."),
    number("incidents.deterrence", 0.05, "share", 0, 0.5, "Reduction of an attempt's success at a "
        "home with a camera (local deterrence).", SRC_DETER),
    share("incidents.guardian_effect", 0.3, "Reduction of an attempt's success for each other "
        "walker on the same street (capable guardians), compounding."),
    share("incidents.car_share", 0.6, "Share of homes with a car parked on the street (targets "
        "of car break-ins)."),
    number("incidents.package_pickup_hours", 4.0, "h", 0.1, 72, "Mean time a delivered package "
        "stays on the porch (target of package theft)."),
    share("incidents.victim_reporting", 0.35, "Probability that a victim reports an incident to "
        "police.", SRC_NCVS),
    number("incidents.visible_m", 25.0, "m", 0, 200, "An incident is visible to cameras and "
        "windows within this distance of the target."),
)
# fmt: on

PACKAGE, CAR, BURGLARY = range(3)


class HomeStops:
    """For a subset of routes, the front doors each passes and where (distance along)."""

    def __init__(self, routes: RouteTable, homes: Homes, route_ids: np.ndarray) -> None:
        """``route_ids``: sorted and distinct (``Population.possible_routes``)."""
        if np.any(np.diff(route_ids) <= 0):
            raise ValueError("route ids must be sorted and distinct")
        self.route_ids = np.asarray(route_ids, np.int64)
        self.index = np.full(routes.count, -1, np.int64)
        self.index[self.route_ids] = np.arange(len(self.route_ids))
        counts = np.diff(routes.ptr)[self.route_ids]
        piece = (np.repeat(routes.ptr[self.route_ids], counts) + runs(counts)).astype(np.int64)
        sub = np.repeat(np.arange(len(self.route_ids)), counts)
        n_edges = int(max(homes.edge.max(initial=-1), routes.edge.max(initial=-1))) + 1
        by_edge, eptr = group_by(homes.edge, n_edges)
        per_piece = (eptr[1:] - eptr[:-1])[routes.edge[piece]]
        p = np.repeat(piece, per_piece)
        r = np.repeat(sub, per_piece)
        home = by_edge[np.repeat(eptr[routes.edge[piece]], per_piece) + runs(per_piece)]
        frm, to = routes.frm[p], routes.to[p]
        off = homes.offset[home]
        keep = (off >= np.minimum(frm, to)) & (off <= np.maximum(frm, to))
        p, r, home, frm, off = p[keep], r[keep], home[keep], frm[keep], off[keep]
        s = routes.start[p] + np.abs(off - frm)
        order = np.lexsort((s, r))
        self.home = home[order].astype(np.int32)
        self.s = s[order]
        self.ptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=len(self.route_ids)))])

    def count(self, route: np.ndarray) -> np.ndarray:
        i = self.index[route]
        return np.where(i >= 0, self.ptr[np.maximum(i, 0) + 1] - self.ptr[np.maximum(i, 0)], 0)


@dataclass
class IncidentLog:
    """All incidents so far (columns of equal length); ``id`` numbers them 0, 1, ..."""

    id: np.ndarray
    minute: np.ndarray
    person: np.ndarray
    home: np.ndarray
    kind: np.ndarray
    reported: np.ndarray


@dataclass
class Attempts:
    """Attempts planned with their walks (columns of equal length, by the walk's start)."""

    start: np.ndarray  # the minute the offender's walk starts
    minute: np.ndarray  # the minute the offender reaches the door
    person: np.ndarray
    home: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    def started(self, lo: int, hi: int) -> Attempts:
        """Those whose walks start in minutes ``lo`` to ``hi - 1``."""
        i, j = np.searchsorted(self.start, [lo, hi], side="left")
        columns = (self.start, self.minute, self.person, self.home, self.kind)
        return Attempts(*(c[i:j] for c in columns))


class Incidents(Submodel):
    """Attempts, incidents, and the porch packages and parked cars they target."""

    name = "incidents"
    STATE = ("car", "package_until", "active_minute", "active_home")

    def __init__(
        self,
        homes: Homes,
        routes: RouteTable,
        offender_routes: np.ndarray,
        n_people: int,
        params: Scenario,
        streams: Streams,
    ) -> None:
        self.streams = streams
        rng = streams.generator("incident.world")
        self.homes = homes
        self.rate = np.array([params[f"incidents.per_trip.{k}"] for k in INCIDENT_KINDS])
        prof = np.array([params[f"incidents.profile.{k}"] for k in INCIDENT_KINDS])
        self.profile = prof / prof.mean(axis=1, keepdims=True)
        self.deterrence = params["incidents.deterrence"]
        self.guardian = params["incidents.guardian_effect"]
        self.reporting = params["incidents.victim_reporting"]
        self.visible = params["incidents.visible_m"]
        self.pickup_min = params["incidents.package_pickup_hours"] * 60
        self.car = rng.random(homes.count) < params["incidents.car_share"]
        self.package_until = np.full(homes.count, -1, np.int64)
        self.stops = HomeStops(routes, homes, offender_routes)
        # attempts waiting for the offender to reach the door
        self._pending = [np.zeros(0, np.int64) for _ in range(4)]  # minute, person, home, kind
        self._log: list[tuple[np.ndarray, ...]] = []
        # the incident each person is committing (minute -1: none)
        self.active_minute = np.full(n_people, -1, np.int64)
        self.active_home = np.zeros(n_people, np.int32)
        self.attempts = 0

    # ------------------------------------------------------------------ events

    def plan_attempts(self, depart, person, route, speed, offender) -> Attempts:
        """Which offenders' walks (departing at the sorted minutes ``depart``) include
        attempts, and at which door and minute. Keyed draws only, nothing changed: the model
        plans an hour of departures at once and adds each attempt when its walk starts."""
        depart = np.asarray(depart, np.int64)
        p = np.minimum(self.rate[:, None] * self.profile, 1)  # (kind, hour of the day)
        who, kind = _attempts(person, depart, offender, p, self.streams.base("incident.attempt"))
        n_doors = self.stops.count(route[who])
        ok = n_doors > 0
        who, kind, n_doors = who[ok], kind[ok], n_doors[ok]
        base = self.stops.ptr[self.stops.index[route[who]]]
        start = depart[who]
        pick = self.streams.uniform("incident.door", person[who], start, kind)
        k = base + (pick * n_doors).astype(np.int64)
        return Attempts(
            start,
            start + np.floor(self.stops.s[k] / speed[who]).astype(np.int64),
            person[who].astype(np.int64),
            self.stops.home[k].astype(np.int64),
            kind.astype(np.int64),
        )

    def add_attempts(self, attempts: Attempts) -> None:
        """Walks with these attempts have started: the attempts wait for their minute."""
        new = (attempts.minute, attempts.person, attempts.home, attempts.kind)
        self._pending = [np.concatenate([a, b]) for a, b in zip(self._pending, new, strict=True)]
        self.attempts += len(attempts)

    def due_minutes(self, start: int, stop: int, planned: Attempts) -> set[int]:
        """The minutes from ``start`` to ``stop - 1`` when attempts fall due: those waiting,
        and the ``planned`` ones (whose walks start in those minutes)."""
        minute = np.concatenate([self._pending[0], planned.minute])
        return set(minute[(minute >= start) & (minute < stop)].tolist())

    def plan_deliveries(self, minute: np.ndarray, homes: np.ndarray) -> np.ndarray:
        """Until when the packages couriers leave at these homes at these minutes wait to be
        picked up (exponential time; keyed draws only, nothing changed)."""
        u = self.streams.uniform("incident.pickup", homes, minute)
        return minute + np.ceil(-self.pickup_min * np.log1p(-u)).astype(np.int64)

    def deliver(self, homes: np.ndarray, until: np.ndarray) -> None:
        """Packages were left at these homes (a package left while another waits extends
        the wait)."""
        np.maximum.at(self.package_until, homes, until)

    def step(self, now: int, has_camera: np.ndarray, walkers_on_edge) -> IncidentLog | None:
        """Resolve the attempts due this minute; return the incidents that happened.

        Args:
            walkers_on_edge: function (edges, people) -> number of walkers other than each
                person on each street now.
        """
        minute, person, home, kind = self._pending
        if len(minute) == 0 or minute.min() > now:
            return None
        due = minute <= now
        self._pending = [a[~due] for a in self._pending]
        person, home, kind = person[due], home[due], kind[due]
        available = np.select(
            [kind == PACKAGE, kind == CAR],
            [self.package_until[home] >= now, self.car[home]],
            default=True,
        )
        others = walkers_on_edge(self.homes.edge[home], person)
        p = (
            available
            * np.where(has_camera[home], 1 - self.deterrence, 1.0)
            * (1 - self.guardian) ** others
        )
        ok = self.streams.uniform("incident.success", person, now, home) < p
        if not np.any(ok):
            return None
        person, home, kind = person[ok], home[ok], kind[ok]
        self.package_until[home[kind == PACKAGE]] = -1
        reported = self.streams.uniform("incident.report", person, now, home) < self.reporting
        self.active_minute[person] = now
        self.active_home[person] = home
        first = sum(len(c[0]) for c in self._log)
        log = IncidentLog(
            np.arange(first, first + len(person)),
            np.full(len(person), now),
            person,
            home,
            kind,
            reported,
        )
        self._log.append((log.id, log.minute, log.person, log.home, log.kind, log.reported))
        return log

    def seen_offending(self, person, t_in, t_out, viewer_xy) -> np.ndarray:
        """Whether each person was seen committing an incident: one of theirs happened within
        [t_in, t_out] within ``incidents.visible_m`` of the viewer."""
        m = self.active_minute[person]
        near = np.hypot(*(self.homes.xy[self.active_home[person]] - viewer_xy).T) <= self.visible
        return (m >= t_in) & (m <= t_out) & near

    def log(self) -> IncidentLog:
        if not self._log:
            z = np.zeros(0, np.int64)
            return IncidentLog(z, z, z, z, z, np.zeros(0, bool))
        return IncidentLog(*(np.concatenate(c) for c in zip(*self._log, strict=True)))

    def offender_of(self) -> dict[int, int]:
        """Each incident's offender, by incident id."""
        log = self.log()
        return dict(zip(log.id.tolist(), log.person.tolist(), strict=True))

    # ------------------------------------------------------------------ metrics

    METRICS = (
        metric("incidents.total", COUNT, "incidents", "Incidents"),
        metric("incidents.package_theft", COUNT, "incidents", "Package thefts"),
        metric("incidents.car_break_in", COUNT, "incidents", "Car break-ins"),
        metric("incidents.burglary", COUNT, "incidents", "Burglaries"),
        metric("incidents.majority_slope", REAL, "per unit of majority share",
               "Incidents vs majority share"),
        metric("incidents.majority_slope_se", AMOUNT, "per unit of majority share",
               "Its standard error"),
        metric("incidents.border", COUNT, "incidents", "Incidents in border majority tracts"),
        metric("incidents.interior", COUNT, "incidents", "Incidents in inner majority tracts"),
        metric("incidents.attempts", COUNT, "attempts", "Incident attempts"),
    )  # fmt: skip

    def metrics(self, model) -> dict[str, float | int | None]:
        """Incidents by kind, and by the make-up of their homes' areas (pattern 6)."""
        inc = self.log()
        out: dict[str, float | int | None] = {"incidents.total": len(inc.minute)}
        for k, name in enumerate(INCIDENT_KINDS):
            out[f"incidents.{name}"] = int(np.count_nonzero(inc.kind == k))
        per_home = np.bincount(inc.home, minlength=self.homes.count)
        share = model.reporting.majority_share
        out["incidents.majority_slope"] = majority_slope(per_home, share)
        out["incidents.majority_slope_se"] = majority_slope_se(per_home, share)
        border, interior = self.homes.border_tracts(model.params["reporting.area_m"])
        out["incidents.border"] = int(per_home[border].sum())
        out["incidents.interior"] = int(per_home[interior].sum())
        out["incidents.attempts"] = int(self.attempts)
        return out


@numba.njit(cache=True)
def _attempts(person, depart, offender, p, base):
    """The attempts of walks that start at ``depart``: (walk, kind) for every offender's walk
    and kind whose keyed uniform (stream "incident.attempt": person, minute, kind) is below
    ``p[kind, hour of the day]``, by walk then kind. Most walkers are not offenders: one
    loop, no temporaries."""
    n_kinds = p.shape[0]
    n = 0
    who = np.empty(len(person) * n_kinds, np.int64)
    kind = np.empty(len(person) * n_kinds, np.int64)
    for i in range(len(person)):
        if not offender[person[i]]:
            continue
        hour = (depart[i] % 1440) // 60
        for k in range(n_kinds):
            if draw3(base, person[i], depart[i], k) < p[k, hour]:
                who[n], kind[n] = i, k
                n += 1
    return who[:n], kind[:n]
