"""The privacy ledger: every path by which footage leaves the owner's hands, and who it exposed.

Paths (``PATHS``, docs/metrics.md, "Privacy ledger"):

* ``voluntary``: video owners shared for voluntary requests about incidents and posts;
* ``protest``: video owners shared for voluntary requests about protests;
* ``legal``: content the platform produced for legal demands;
* ``emergency``: emergency disclosures without the owner's consent;
* ``compromise``: video leaked through taken-over accounts (stored video at the takeover, the
  live view afterwards; sim/privacy.py);
* ``face_recognition``, ``pet_search``: video the platform's AI features processed (present,
  and 0, until those features are modelled).

A *clip* is one camera's video in one disclosure: a handover (one per request, or per reminder
that brought responses) for the request paths, a day of one camera's leaked video for
``compromise``. The ledger has one row per (person, path): the person's group, whether they
are an offender (``population.offender``), the number of clips and of distinct cameras they
appear in. Its metrics count distinct people: bystanders (everyone but offenders) by group,
and offenders apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sim.footage import MINUTES_PER_DAY, Sightings
from sim.requests import EMERGENCY, LEGAL, VOLUNTARY
from sim.schema import LEDGER_PATHS as PATHS


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
    leaked = model.accounts.leaked()
    day = leaked.t_in // MINUTES_PER_DAY
    out["compromise"].append(Disclosed(_clip_key(day, leaked.camera), leaked))
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
