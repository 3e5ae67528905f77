"""The privacy ledger: every path by which footage leaves the owner's hands, and who it exposed.

Paths (``PATHS``, docs/metrics.md, "Privacy ledger"):

* ``voluntary``: video owners shared for voluntary requests about incidents and posts;
* ``protest``: video owners shared for voluntary requests about protests;
* ``legal``: content the platform produced for legal demands;
* ``emergency``: emergency disclosures without the owner's consent;
* ``compromise``: video leaked through taken-over accounts (stored video at the takeover, the
  live view afterwards; sim/model/privacy.py);
* ``face_recognition``: sightings whose faces facial recognition processed;
* ``pet_search``: video the lost-dog search scanned (both sim/model/ai_features.py, off by default).

A *clip* is one camera's video in one disclosure: a handover (one per request, or per reminder
that brought responses) for the request paths, a day of one camera's video for ``compromise``
and ``face_recognition``, one search's video of one camera for ``pet_search``. The ledger has
one row per (person, path): the person's group, whether they are an offender
(``population.offender``), the number of clips and of distinct cameras they appear in. Its
metrics count distinct people: bystanders (everyone but offenders) by group, and offenders
apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sim.engine.engine import MINUTES_PER_DAY
from sim.model.footage import Sightings
from sim.model.requests import EMERGENCY, LEGAL, VOLUNTARY
from sim.scenario.schema import LEDGER_PATHS as PATHS
from sim.scenario.submodel import COUNT, FRACTION, Metric, Submodel, metric


@dataclass
class Disclosed:
    """Sightings that left the owner through one path, each with its clip's key."""

    clip: np.ndarray  # int64, distinct per (disclosure, camera)
    sightings: Sightings


def _clip_key(disclosure: np.ndarray | int, camera: np.ndarray) -> np.ndarray:
    return (np.asarray(disclosure, np.int64) << 32) | np.asarray(camera, np.int64)


def disclosures(model) -> dict[str, list[Disclosed]]:
    """What left the owners through each path, from the model's records."""
    out: dict[str, list[Disclosed]] = {p: [] for p in PATHS}
    for k, h in enumerate(model.police.handovers):
        req = h.request
        if req.kind == VOLUNTARY:
            path = "protest" if req.protest >= 0 else "voluntary"
        else:
            path = {LEGAL: "legal", EMERGENCY: "emergency"}[req.kind]
        out[path].append(Disclosed(_clip_key(k, h.sightings.camera), h.sightings))
    for path, seen in (
        ("compromise", model.accounts.leaked()),
        ("face_recognition", model.ai.faces()),
    ):
        day = seen.t_in // MINUTES_PER_DAY
        out[path].append(Disclosed(_clip_key(day, seen.camera), seen))
    for k, scanned in enumerate(model.ai.scanned):
        out["pet_search"].append(Disclosed(_clip_key(k, scanned.camera), scanned))
    return out


@dataclass
class Ledger:
    """One row per (person, path) exposed."""

    person: np.ndarray
    path: np.ndarray  # index into PATHS
    clips: np.ndarray
    cameras: np.ndarray

    def __len__(self) -> int:
        return len(self.person)


def _per_person(person: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct people, and the number of distinct ``other`` values each appears with."""
    pairs = np.unique(np.stack([person, other]), axis=1)
    return np.unique(pairs[0], return_counts=True)


def build(found: dict[str, list[Disclosed]]) -> Ledger:
    """The ledger of what was disclosed (``disclosures``)."""
    cols: list[list[np.ndarray]] = [[], [], [], []]
    for p, path in enumerate(PATHS):
        parts = [d for d in found.get(path, []) if len(d.sightings)]
        if not parts:
            continue
        person = np.concatenate([d.sightings.person for d in parts]).astype(np.int64)
        clip = np.concatenate([d.clip for d in parts])
        camera = np.concatenate([d.sightings.camera for d in parts]).astype(np.int64)
        people, clips = _per_person(person, clip)
        _, cameras = _per_person(person, camera)
        for c, v in zip(cols, (people, np.full(len(people), p), clips, cameras), strict=True):
            c.append(v)
    if not cols[0]:
        z = np.zeros(0, np.int64)
        return Ledger(z, z, z, z)
    return Ledger(*(np.concatenate(c) for c in cols))


def table(ledger: Ledger, group: np.ndarray, offender: np.ndarray, names: list[str]) -> pa.Table:
    """The ledger as written to ``ledger.parquet``."""
    return pa.table(
        {
            "person": pa.array(ledger.person, pa.int32()),
            "path": pa.array(np.asarray(PATHS, dtype=object)[ledger.path].tolist(), pa.string()),
            "group": pa.array(
                np.asarray(names, dtype=object)[group[ledger.person]].tolist(), pa.string()
            ),
            "offender": pa.array(offender[ledger.person], pa.bool_()),
            "clips": pa.array(ledger.clips, pa.int32()),
            "cameras": pa.array(ledger.cameras, pa.int32()),
        }
    )


def metrics(
    ledger: Ledger, group: np.ndarray, offender: np.ndarray, names: list[str]
) -> dict[str, int]:
    """``privacy.exposed.<path>.<group>`` and ``.total`` (bystanders),
    ``privacy.exposed_offenders.<path>``, ``privacy.exposed_any.<group>``."""
    G = len(names)
    bystander = ~offender[ledger.person]
    out: dict[str, int] = {}
    for p, path in enumerate(PATHS):
        rows = ledger.path == p
        by = np.bincount(group[ledger.person[rows & bystander]], minlength=G)
        for g, name in enumerate(names):
            out[f"privacy.exposed.{path}.{name}"] = int(by[g])
        out[f"privacy.exposed.{path}.total"] = int(by.sum())
        out[f"privacy.exposed_offenders.{path}"] = int(np.count_nonzero(rows & ~bystander))
    anyone = np.unique(ledger.person[bystander])
    by = np.bincount(group[anyone], minlength=G)
    for g, name in enumerate(names):
        out[f"privacy.exposed_any.{name}"] = int(by[g])
    return out


class WalkingDays(Submodel):
    """Each person's walking minutes per day, up to minute ``end`` (the route a day's
    disclosed footage could rebuild is measured against it); the privacy ledger's part of the
    model, whose metrics read every path's disclosures (``disclosures``)."""

    name = "walking_days"

    def __init__(self, n_people: int, end: int) -> None:
        self.n_people = n_people
        self.end = end
        self._days: dict[int, np.ndarray] = {}

    def day(self, d: int) -> np.ndarray:
        if d not in self._days:
            self._days[d] = np.zeros(self.n_people, np.int32)
        return self._days[d]

    def add(self, person: np.ndarray, depart: np.ndarray, duration: np.ndarray) -> None:
        """Trips walking minutes ``depart`` to ``depart + duration - 1`` (split at midnight)."""
        t0 = np.asarray(depart, np.int64)
        t1 = np.minimum(t0 + np.asarray(duration, np.int64), self.end)  # exclusive
        d0 = t0 // MINUTES_PER_DAY
        midnight = (d0 + 1) * MINUTES_PER_DAY
        before = np.maximum(np.minimum(t1, midnight) - t0, 0)
        after = np.maximum(t1 - midnight, 0)
        for d in np.unique(d0).tolist():
            mine = d0 == d
            np.add.at(self.day(d), person[mine], before[mine])
            late = mine & (after > 0)
            if np.any(late):
                np.add.at(self.day(d + 1), person[late], after[late])

    METRICS: tuple[Metric, ...] = (
        *(
            m
            for path in PATHS
            for m in (
                metric(f"privacy.exposed.{path}.<group>", COUNT, "people",
                       f"Bystanders exposed, {path} (<group>)"),
                metric(f"privacy.exposed.{path}.total", COUNT, "people",
                       f"Bystanders exposed, {path}"),
                metric(f"privacy.exposed_offenders.{path}", COUNT, "people",
                       f"Offenders exposed, {path}"),
            )
        ),
        metric("privacy.exposed_any.<group>", COUNT, "people",
               "Bystanders exposed by any path (<group>)"),
        metric("privacy.tracked.<group>", COUNT, "people",
               "Bystanders tracked: 3+ cameras in a day (<group>)"),
        metric("privacy.route_reconstructable_fraction", FRACTION,
               "share of a day's walking minutes", "Route rebuilt from disclosed video"),
    )  # fmt: skip

    def metrics(self, model) -> dict[str, float | int | None]:
        """The ledger's metrics and tracking (docs/metrics.md, "Privacy ledger")."""
        found = disclosures(model)
        pop, names = model.population, model.world.group_names
        return {
            **metrics(build(found), pop.group, pop.offender, names),
            **tracking(found, self, pop.group, pop.offender, names),
        }

    def minutes(self, day: np.ndarray, person: np.ndarray) -> np.ndarray:
        """Walking minutes of each (day, person)."""
        out = np.zeros(len(person), np.int64)
        for d in np.unique(day).tolist():
            mine = day == d
            if d in self._days:
                out[mine] = self._days[d][person[mine]]
        return out


TRACKED_CAMERAS = 3  # distinct cameras in one day's disclosed footage that make a route


def tracking(
    found: dict[str, list[Disclosed]],
    walking: WalkingDays,
    group: np.ndarray,
    offender: np.ndarray,
    names: list[str],
) -> dict[str, int | float | None]:
    """``privacy.tracked.<group>``: bystanders in footage disclosed (any path) from at least
    ``TRACKED_CAMERAS`` distinct cameras in one day; ``privacy.route_reconstructable_fraction``:
    over those (person, day) pairs, the mean share of the day's walking minutes the disclosed
    footage covers (the union of its sightings' minutes in that day)."""
    parts = [d.sightings for ds in found.values() for d in ds if len(d.sightings)]
    out: dict[str, int | float | None] = {}
    G = len(names)
    if not parts:
        for name in names:
            out[f"privacy.tracked.{name}"] = 0
        out["privacy.route_reconstructable_fraction"] = None
        return out
    person = np.concatenate([s.person for s in parts]).astype(np.int64)
    camera = np.concatenate([s.camera for s in parts]).astype(np.int64)
    t_in = np.concatenate([s.t_in for s in parts]).astype(np.int64)
    t_out = np.concatenate([s.t_out for s in parts]).astype(np.int64)
    day = t_in // MINUTES_PER_DAY
    keep = ~offender[person]
    person, camera, t_in, t_out, day = (c[keep] for c in (person, camera, t_in, t_out, day))
    # (person, day) pairs seen by enough distinct cameras
    triples = np.unique(np.stack([person, day, camera]), axis=1)
    pairs, n_cams = np.unique(triples[:2], axis=1, return_counts=True)
    tracked = pairs[:, n_cams >= TRACKED_CAMERAS]
    people = np.unique(tracked[0])
    by = np.bincount(group[people], minlength=G)
    for g, name in enumerate(names):
        out[f"privacy.tracked.{name}"] = int(by[g])
    if tracked.shape[1] == 0:
        out["privacy.route_reconstructable_fraction"] = None
        return out
    covered = _covered_minutes(person, day, t_in, t_out, tracked)
    walked = walking.minutes(tracked[1], tracked[0])
    share = np.minimum(covered / np.maximum(walked, 1), 1.0)
    out["privacy.route_reconstructable_fraction"] = float(share.mean())
    return out


def _covered_minutes(person, day, t_in, t_out, pairs: np.ndarray) -> np.ndarray:
    """For each (person, day) column of ``pairs``: minutes of that day within at least one
    of the person's sightings that start that day."""
    start = day * MINUTES_PER_DAY
    lo, hi = t_in, np.minimum(t_out, start + MINUTES_PER_DAY - 1)  # inclusive, within the day
    order = np.lexsort((lo, day, person))
    person, day, lo, hi = person[order], day[order], lo[order], hi[order]
    keys = person * (1 << 20) + day
    want = pairs[0] * (1 << 20) + pairs[1]
    first = np.searchsorted(keys, want, side="left")
    last = np.searchsorted(keys, want, side="right")
    out = np.zeros(len(want), np.int64)
    for k, (a, b) in enumerate(zip(first.tolist(), last.tolist(), strict=True)):
        total, reach = 0, -1  # minutes counted; the last minute counted so far
        for s, e in zip(lo[a:b].tolist(), hi[a:b].tolist(), strict=True):
            if e > reach:
                total += e - max(s, reach + 1) + 1
                reach = e
        out[k] = total
    return out
