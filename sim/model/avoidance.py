"""Avoidance: residents who send their outings past fewer cameras (a chilling effect), off by
default.

When a day's tours are drawn (ODD section 3.3), a resident's tour goes to one of the home's
`population.destination_choices` nearest destinations at random (section 7.4). With probability
`avoidance.probability[g]` for the resident's group `g` (keyed uniform `avoidance`, by person and
planned departure minute, so that no other draw moves) it goes instead to the destination whose
route there has the fewest metres in view of a camera, `sum over cameras c in use of |route
pieces on c's street intersected with [view_lo_c, view_hi_c]|` (views of several cameras over
one stretch count once per camera; ties go to the nearest destination). The cameras are those in
use at the day's start: one installed later that day counts from the next. The way back is the
same route reversed. Its effect on being seen shows in `coverage.exposure_fraction.<group>`.

This module is the worked example of docs/extending.md (its test: tests/test_avoidance.py); this
docstring is its ODD section, generated into docs/ODD.md with its parameter table and metrics.
"""

from __future__ import annotations

import numpy as np

from sim.scenario.schema import GROUP_TABLE, SRC_ASSUMPTION, Param
from sim.scenario.submodel import COUNT, Submodel, metric

# fmt: off
PARAMS = (
    Param("avoidance.probability", GROUP_TABLE, {}, "share", "Per-group probability that a "
        "resident's tour goes to the least-watched of the home's destinations instead of a random "
        "one (e.g. {minority = 0.5}); empty: nobody avoids cameras.", SRC_ASSUMPTION, 0, 1),
)
# fmt: on


class Avoidance(Submodel):
    """Which residents' tours avoid cameras, and how many did.

    Attributes:
        probability: per group index, the probability that a resident's tour avoids cameras.
        diverted: per group index, tours sent to the least-watched destination instead of a
            random one (counted only when that changed the destination).
    """

    name = "avoidance"
    attaches = True  # built by the model after the others, registers its own hook
    STATE = ("diverted",)

    def __init__(self, model) -> None:
        names = model.world.group_names
        table = model.params["avoidance.probability"]
        self.probability = np.array([table.get(n, 0.0) for n in names])
        self.diverted = np.zeros(len(names), np.int64)
        self._model = model
        self._watched = (-1, np.zeros(0))  # (cameras.version, metres in view per route)
        if self.probability.any():
            model.population.on_outings(self.redirect)

    def redirect(self, day: int, person: np.ndarray, depart: np.ndarray, out: np.ndarray):
        """The routes out of the tours of residents ``person`` leaving at ``depart`` (chosen
        at random: ``out``), with the avoiders' replaced by their home's least-watched one."""
        m = self._model
        pop = m.population
        group = pop.group[person]
        u = m.streams.uniform("avoidance", person, depart)
        avoid = np.flatnonzero(u < self.probability[group])
        if len(avoid) == 0:
            return out
        slots = pop.home_out[pop.home[person[avoid]]]  # (tours, k) routes, -1 for none
        watched = np.where(slots >= 0, self.watched_metres()[np.maximum(slots, 0)], np.inf)
        best = slots[np.arange(len(avoid)), np.argmin(watched, axis=1)]
        out = out.copy()
        changed = best != out[avoid]
        out[avoid] = best
        self.diverted += np.bincount(group[avoid[changed]], minlength=len(self.diverted))
        return out

    def watched_metres(self) -> np.ndarray:
        """Per route, the metres of it in view of each camera in use, summed over cameras
        (recomputed when the cameras change)."""
        cams, routes = self._model.cameras, self._model.routes
        if self._watched[0] != cams.version:
            ids = np.flatnonzero(cams.sees_street())
            piece, i = routes.pieces_on(cams.edge[ids])
            lo_p = np.minimum(routes.frm[piece], routes.to[piece])
            hi_p = np.maximum(routes.frm[piece], routes.to[piece])
            cam = ids[i]
            seen = np.clip(
                np.minimum(hi_p, cams.view_hi[cam]) - np.maximum(lo_p, cams.view_lo[cam]), 0, None
            )
            metres = np.bincount(routes.route_of(piece), weights=seen, minlength=routes.count)
            self._watched = (cams.version, metres)
        return self._watched[1]

    METRICS = (
        metric(
            "avoidance.diverted.<group>",
            COUNT,
            "tour",
            "Tours that avoided cameras",
            definition="Residents' tours of the group sent to the least-watched of their "
            "home's destinations instead of the one drawn at random, counted only when that "
            "changed the destination (0 while `avoidance.probability` is empty).",
        ),
    )

    def metrics(self, model) -> dict[str, float | int | None]:
        names = model.world.group_names
        return {f"avoidance.diverted.{n}": int(self.diverted[g]) for g, n in enumerate(names)}
