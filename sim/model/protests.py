"""Protests: gatherings where no crime occurs, whose footage police may still ask for.

Each day a protest happens with probability ``protest.per_30_days / 30``, at a destination
(amenity) drawn at random, starting between 4 and 7 pm and lasting ``protest.duration_hours``.
Up to ``protest.participants`` residents join: those whose home has the venue among its usual
destinations, chosen at random. Participants walk there to arrive at the start and walk home at
the end; all their other trips still to depart are dropped (they go to the protest
instead). All draws are keyed by day and person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.engine import DayTrips
from sim.engine.rng import Streams
from sim.model.population import Population
from sim.scenario.scenario import Scenario
from sim.scenario.schema import integer, number, share
from sim.scenario.submodel import COUNT, Submodel, metric
from sim.world.world import World

# fmt: off
PARAMS = (
    number("protest.per_30_days", 0.5, "protest", 0, 30, "Mean number of protests or gatherings "
        "in the area per 30 days.", "docs/sources.md: LAPD requested footage of 2020 protests"),
    integer("protest.participants", 150, "person", 0, 1_000_000, "Residents who join a protest "
        "(at most those who can walk to the venue)."),
    number("protest.duration_hours", 2.0, "h", 0.25, 24, "How long a protest lasts."),
    share("protest.request_probability", 0.5, "Probability that police ask for footage of a "
        "protest."),
)
# fmt: on


@dataclass
class Protest:
    """One protest: where, when, and who."""

    id: int
    venue: int  # amenity index
    x: float
    y: float
    t0: int
    t1: int
    participants: np.ndarray


class Protests(Submodel):
    """Draws protests day by day and turns them into participants' trips."""

    name = "protests"

    def __init__(
        self, world: World, population: Population, params: Scenario, streams: Streams
    ) -> None:
        self.world = world
        self.population = population
        self.streams = streams
        self.daily = params["protest.per_30_days"] / 30
        self.size = params["protest.participants"]
        self.duration = round(params["protest.duration_hours"] * 60)
        self.protests: list[Protest] = []

    def plan(self, day: int, trips: DayTrips) -> tuple[DayTrips, Protest | None]:
        """Maybe hold a protest on ``day``; return the day's trips (participants' replaced)."""
        s = self.streams
        pop = self.population
        if self.size == 0 or s.uniform("protest.day", day)[0] >= self.daily:
            return trips, None
        amen = self.world.amenity_nodes
        venue = int(s.uniform("protest.venue", day)[0] * len(amen))
        slots = pop.home_dest[np.maximum(pop.home, 0)] == venue  # (P, K): slot leads there
        able = np.flatnonzero((pop.home >= 0) & slots.any(axis=1))
        if len(able) == 0:
            return trips, None
        order = np.argsort(s.uniform("protest.join", able, day), kind="stable")
        who = np.sort(able[order[: self.size]])
        start = day * 1440 + 16 * 60 + int(s.uniform("protest.start", day)[0] * 180)
        end = start + self.duration
        slot = np.argmax(slots[who], axis=1)
        out = pop.home_out[pop.home[who], slot]
        back = out + pop.home_back_offset
        travel = np.maximum(np.ceil(pop.routes.length[out] / pop.speed[who]), 1).astype(np.int64)
        keep = ~np.isin(trips.person, who)
        depart = np.concatenate([trips.depart[keep], start - travel, np.full(len(who), end)])
        person = np.concatenate([trips.person[keep], who, who]).astype(np.int32)
        route = np.concatenate([trips.route[keep], out, back])
        order = np.argsort(depart, kind="stable")
        back_travel = np.ceil(pop.routes.length[back] / pop.speed[who]).astype(np.int64)
        pop.busy_until(who, end + back_travel + 1)
        node = amen[venue]
        x, y = self.world.net.node_xy[node]
        protest = Protest(len(self.protests), venue, float(x), float(y), start, end, who)
        self.protests.append(protest)
        return DayTrips(depart[order], person[order], route[order]), protest

    # ------------------------------------------------------------------ metrics

    METRICS = (metric("protest.count", COUNT, "protests", "Protests"),)

    def metrics(self, model) -> dict[str, float | int | None]:
        return {"protest.count": len(self.protests)}
