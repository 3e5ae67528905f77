"""Pedestrians: who they are, where they go, and when.

Three kinds of pedestrian, one array per state variable:

* residents live in a home (their group is the household's) and make round trips ("tours")
  from their front door to one of their home's nearest destinations within walking distance;
* workers and visitors arrive at the entry point nearest their destination (a home or an
  amenity), stay, and leave;
* couriers walk from the kerb at the nearer corner to a front door and back, many times a day.

Every route a pedestrian can take is computed before the run. Each day, tours are drawn for
everyone at once: the number of tours (Poisson), a departure time from the kind's hourly
profile, a destination and a dwell time (exponential). Tours of one person never overlap: a
tour starts no earlier than one minute after the previous one ended.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sim.engine.engine import MINUTES_PER_DAY, DayTrips
from sim.scenario.scenario import Scenario, ScenarioError
from sim.scenario.schema import PEDESTRIAN_KINDS, integer, number, profile, share, shares
from sim.scenario.submodel import COUNT, Submodel, metric
from sim.world.routes import Router, concat, door_legs, reversed_routes
from sim.world.world import World

# Sources cited only here (docs/sources.md expands them).
SRC_WALK = "typical adult walking speed ~1.3 m/s (pedestrian-flow literature)"
SRC_NHTS = "shape of US time-of-day walking-trip profiles (NHTS); magnitudes are assumptions"

# fmt: off
PARAMS = (
    integer("population.pedestrians", 3000, "person", 0, 50_000_000,
        "People who walk the area's streets: residents, workers and visitors, couriers (unless "
        "population.per_household sets it from the homes)."),
    number("population.per_household", 0.0, "person per home", 0, 20,
        "Pedestrians per home, so that worlds of any size keep their proportions: above 0 it "
        "replaces population.pedestrians with round(per_household x homes); 0 keeps "
        "population.pedestrians.", "US average household size 2.5 persons (Census 2020: 2.53); "
        "the default world walks 2.85 people per home"),
    shares("population.groups", {"majority": 0.7, "minority": 0.3}, "Demographic groups and "
        "their shares of households and of outside pedestrians; the first group is the reference "
        "for disparity ratios."),
    share("population.kinds.resident", 0.75, "Share of pedestrians who live in the area's homes."),
    share("population.kinds.visitor", 0.24, "Share of pedestrians who come in to work or visit "
        "(from a gateway)."),
    share("population.kinds.delivery", 0.01, "Share of pedestrians who are couriers walking from "
        "the kerb to front doors (with 12 stops a day: about 0.35 doorstep deliveries per home "
        "per day)."),
    number("population.offender_fraction", 0.01, "share", 0, 0.5, "Share of pedestrians flagged "
        "as offenders (used by the incident submodel)."),
    number("population.walk_speed_m_per_min", 78.0, "m/min", 20, 200,
        "Mean walking speed (78 m/min = 1.3 m/s).", SRC_WALK),
    number("population.walk_speed_cv", 0.1, "-", 0, 0.5, "Coefficient of variation of walking "
        "speed between people.", SRC_WALK),
    number("population.max_trip_m", 1600.0, "m", 50, 20000, "Longest walk to a destination; "
        "destinations are chosen within this network distance (1 mile)."),
    integer("population.destination_choices", 8, "-", 1, 64, "A resident's tours go to one of "
        "this many nearest destinations (within population.max_trip_m), chosen at random."),
    number("population.tours_per_day.resident", 1.0, "tour/day", 0, 20,
        "Mean walking round trips per resident per day.", SRC_NHTS),
    number("population.tours_per_day.visitor", 1.0, "tour/day", 0, 20,
        "Mean visits per worker or visitor per day."),
    number("population.tours_per_day.delivery", 12.0, "stop/day", 0, 200,
        "Mean doorstep deliveries per courier per day."),
    number("population.dwell_minutes.resident", 40.0, "min", 0, 1440,
        "Mean time a resident spends at a destination."),
    number("population.dwell_minutes.visitor", 240.0, "min", 0, 1440,
        "Mean time a worker or visitor spends at the destination."),
    number("population.dwell_minutes.delivery", 1.0, "min", 0, 60, "Mean time a courier spends "
        "at a door."),
    share("population.visitor_home_share", 0.5, "Share of workers and visitors whose destination "
        "is a home rather than an amenity."),
    # Walking trips peak at midday and in the early evening; workers and visitors arrive in the
    # morning; deliveries run in business hours (hour 0 is midnight to 1 am).
    profile("population.departure_profile.resident",
        [0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3, 4, 4, 4, 4.5,
         5, 4.5, 4, 4.5, 5.5, 6, 6, 5, 3.5, 2, 1, 0.5],
        "Relative departure rate of residents' tours by hour of day.", SRC_NHTS),
    profile("population.departure_profile.visitor",
        [0, 0, 0, 0, 0, 0.5, 2, 5, 6, 4.5, 3.5, 3,
         3.5, 3, 3, 3, 3, 3, 3, 2.5, 1.5, 0.8, 0.3, 0.1],
        "Relative arrival rate of workers and visitors by hour of day.", SRC_NHTS),
    profile("population.departure_profile.delivery",
        [0, 0, 0, 0, 0, 0, 0, 0.5, 2, 4, 5, 5.5,
         5.5, 5.5, 5.5, 5.5, 5, 4.5, 3.5, 2.5, 1.5, 0.5, 0, 0],
        "Relative rate of doorstep deliveries by hour of day."),
)
# fmt: on

RESIDENT, VISITOR, DELIVERY = range(3)
MAX_TOURS = {RESIDENT: 8, VISITOR: 4, DELIVERY: 80}


def pedestrians(params: Scenario, homes: int) -> int:
    """How many people walk: ``population.per_household`` per home when set, else
    ``population.pedestrians``."""
    per_home = params["population.per_household"]
    return round(per_home * homes) if per_home > 0 else params["population.pedestrians"]


class Population(Submodel):
    """All pedestrians and their routes.

    Attributes:
        kind, group, home, offender, speed: per-person arrays (home is -1 for non-residents).
        anchor_xy: where each person belongs: a resident's door, a visitor's destination, a
            courier's entry point.
        routes: every route anyone can walk.
    """

    def __init__(self, world: World, params: Scenario, rng: np.random.Generator) -> None:
        self.params = params
        n = pedestrians(params, world.homes.count)
        shares = [params[f"population.kinds.{k}"] for k in PEDESTRIAN_KINDS]
        counts = rng.multinomial(n, shares)
        self.kind = np.repeat(np.arange(3, dtype=np.int8), counts)
        homes = world.homes
        group_p = np.array(list(params["population.groups"].values()))
        self.home = np.full(n, -1, np.int32)
        res = self.kind == RESIDENT
        self.home[res] = rng.integers(0, homes.count, size=int(res.sum()))
        self.group = rng.choice(len(group_p), size=n, p=group_p).astype(np.int8)
        self.group[res] = homes.group[self.home[res]]
        self.offender = rng.random(n) < params["population.offender_fraction"]
        mean_v = params["population.walk_speed_m_per_min"]
        cv = params["population.walk_speed_cv"]
        self.speed = np.clip(rng.normal(mean_v, cv * mean_v, n), 0.5 * mean_v, 1.5 * mean_v)
        self.free_at = np.zeros(n, np.int64)  # first minute a person may start a new tour
        self._outing_hooks: list = []  # on_outings
        self._build_routes(world, params, rng)

    name = "population"
    STATE = (
        *("kind", "home", "group", "offender", "speed", "free_at", "anchor_xy"),
        *("home_out", "home_dest", "visitor_out"),
    )

    @property
    def count(self) -> int:
        return len(self.kind)

    def busy_until(self, people: np.ndarray, minute) -> None:
        """These people start no new tour before ``minute`` (e.g. a protest's participants,
        until they are back home)."""
        self.free_at[people] = minute

    METRICS = (metric("pedestrians.count", COUNT, "people", "Pedestrians"),)

    def metrics(self, model) -> dict[str, float | int | None]:
        return {"pedestrians.count": self.count}

    # ------------------------------------------------------------------ routes

    def _build_routes(self, world: World, params: Scenario, rng: np.random.Generator) -> None:
        net, homes = world.net, world.homes
        router = Router(net, homes, params["population.max_trip_m"])
        n = self.count

        # Residents: K nearest amenities of each inhabited home, there and back.
        k = params["population.destination_choices"]
        lived = np.unique(self.home[self.kind == RESIDENT])
        near, _ = router.nearest_roots(world.amenity_nodes, k)
        near = near[lived]
        slot_home = np.repeat(lived, k)
        slot_root = near.ravel()
        ok = slot_root >= 0
        # routes run toward their root: from the home to the amenity
        res_out = router.routes_to_roots(
            world.amenity_nodes, slot_root[ok], slot_home[ok], np.full(int(ok.sum()), -1)
        )
        res_back = reversed_routes(res_out)

        # Workers and visitors: a destination (home or amenity) and its nearest entry point.
        vis = np.flatnonzero(self.kind == VISITOR)
        gw_of_home = router.nearest_roots(world.gateway_nodes, 1)[0][:, 0]
        gw_of_amen = router.nearest_root_of_nodes(world.gateway_nodes, world.amenity_nodes)
        home_ok = np.flatnonzero(gw_of_home >= 0)
        # an amenity that is itself an entry point needs no walk: not a visitor destination
        amen_ok = np.flatnonzero(
            (gw_of_amen >= 0) & ~np.isin(world.amenity_nodes, world.gateway_nodes)
        )
        if len(vis) and len(home_ok) == 0 and len(amen_ok) == 0:
            raise ScenarioError(
                "world.gateways: no home or amenity is within population.max_trip_m of an "
                "entry point; raise world.gateways or population.max_trip_m"
            )
        to_home = rng.random(len(vis)) < params["population.visitor_home_share"]
        to_home = (to_home & (len(home_ok) > 0)) | (len(amen_ok) == 0)

        def pick(options: np.ndarray) -> np.ndarray:
            if len(options) == 0:
                return np.full(len(vis), -1)
            return options[rng.integers(0, len(options), len(vis))]

        dest_home = np.where(to_home, pick(home_ok), -1)
        dest_amen = np.where(to_home, -1, pick(amen_ok))
        # one route per distinct destination: key homes as h, amenities as H + a
        dest_key = np.where(to_home, dest_home, homes.count + dest_amen)
        uniq, vis_slot = np.unique(dest_key, return_inverse=True)
        u_home = np.where(uniq < homes.count, uniq, -1)
        u_amen = np.where(uniq >= homes.count, uniq - homes.count, -1)
        u_gw = np.where(
            u_home >= 0, gw_of_home[np.maximum(u_home, 0)], gw_of_amen[np.maximum(u_amen, 0)]
        )
        u_node = np.where(u_amen >= 0, world.amenity_nodes[np.maximum(u_amen, 0)], -1)
        vis_back = router.routes_to_roots(world.gateway_nodes, u_gw, u_home, u_node)
        vis_out = reversed_routes(vis_back)

        # Couriers: kerb to door and back, for every home.
        door_in = door_legs(net, homes)
        door_out = reversed_routes(door_in)

        self.routes, (r0, r1, v0, v1, d0, d1) = concat(
            [res_out, res_back, vis_out, vis_back, door_in, door_out]
        )
        # per home: its resident routes (out, back) by slot, -1 where there is none
        self.home_out = np.full((homes.count, k), -1, np.int64)
        slots = np.flatnonzero(ok)
        self.home_out.reshape(-1)[(lived[:, None] * k + np.arange(k)).ravel()[slots]] = (
            r0 + np.arange(len(slots))
        )
        self.home_back_offset = r1 - r0  # back route = out route + offset
        self.home_dest = np.full((homes.count, k), -1, np.int64)  # amenity of each slot
        self.home_dest[lived] = near
        self.visitor_out = np.full(n, -1, np.int64)
        self.visitor_out[vis] = v0 + vis_slot
        # anchor: where a person belongs (door, destination, or the courier's entry point)
        self.anchor_xy = np.full((n, 2), np.nan)
        res = self.kind == RESIDENT
        self.anchor_xy[res] = homes.xy[self.home[res]]
        self.anchor_xy[vis] = np.where(
            (dest_home >= 0)[:, None],
            homes.xy[np.maximum(dest_home, 0)],
            net.node_xy[world.amenity_nodes[np.maximum(dest_amen, 0)]],
        )
        couriers = np.flatnonzero(self.kind == DELIVERY)
        depot = world.gateway_nodes[rng.integers(0, len(world.gateway_nodes), len(couriers))]
        self.anchor_xy[couriers] = net.node_xy[depot]
        self.visitor_back_offset = v1 - v0
        self.door_first = d0
        self.door_back_offset = d1 - d0
        self.n_homes = homes.count
        # who may go out, by kind: residents with somewhere to go, visitors with a route
        self._goers = []
        for kind in range(len(PEDESTRIAN_KINDS)):
            people = np.flatnonzero(self.kind == kind)
            if kind == RESIDENT:
                people = people[(self.home_out[self.home[people]] >= 0).any(axis=1)]
            if kind == VISITOR:
                people = people[self.visitor_out[people] >= 0]
            self._goers.append(people)

    def possible_routes(self, people: np.ndarray) -> np.ndarray:
        """Every route the given people may walk (for tables built only for some people)."""
        kind = self.kind[people]
        res_out = self.home_out[self.home[people[kind == RESIDENT]]].ravel()
        res_out = res_out[res_out >= 0]
        vis_out = self.visitor_out[people[kind == VISITOR]]
        vis_out = vis_out[vis_out >= 0]
        parts = [
            res_out,
            res_out + self.home_back_offset,
            vis_out,
            vis_out + self.visitor_back_offset,
        ]
        if np.any(kind == DELIVERY):
            door = self.door_first + np.arange(self.n_homes)
            parts += [door, door + self.door_back_offset]
        return np.unique(np.concatenate(parts)).astype(np.int64)

    def door_of(self, route: np.ndarray) -> np.ndarray:
        """The home whose door a courier's route leads to (-1 for other routes)."""
        h = route - self.door_first
        return np.where((h >= 0) & (h < self.n_homes), h, -1)

    # ------------------------------------------------------------------ schedules

    def on_outings(self, fn) -> None:
        """Register ``fn(day, person, depart, out) -> out``: a submodel that changes where
        residents' tours go (``out``: the route there, one of the home's ``home_out``
        routes; sim/model/avoidance.py is an example). Called in order of registration each time a
        day's tours are drawn, before they are placed in time; the way back follows."""
        self._outing_hooks.append(fn)

    def day_trips(self, day: int, rng: np.random.Generator) -> DayTrips:
        """Draw every tour that starts on ``day``; return its trips sorted by departure."""
        p = self.params
        parts = []
        for kind, name in enumerate(PEDESTRIAN_KINDS):
            people = self._goers[kind]
            lam = p[f"population.tours_per_day.{name}"]
            n_tours = np.minimum(rng.poisson(lam, len(people)), MAX_TOURS[kind])
            person = np.repeat(people, n_tours)
            if len(person) == 0:
                continue
            profile = np.asarray(p[f"population.departure_profile.{name}"])
            hour = rng.choice(24, size=len(person), p=profile / profile.sum())
            depart = day * MINUTES_PER_DAY + hour * 60 + rng.integers(0, 60, len(person))
            dwell = np.maximum(
                1, np.rint(rng.exponential(p[f"population.dwell_minutes.{name}"], len(person)))
            ).astype(np.int64)
            if kind == RESIDENT:
                out = _pick_slots(self.home[person], self.home_out, rng.random(len(person)))
                for fn in self._outing_hooks:
                    out = fn(day, person, depart, out)
                back = out + self.home_back_offset
            elif kind == VISITOR:
                out = self.visitor_out[person]
                back = out + self.visitor_back_offset
            else:
                home = rng.integers(0, self.n_homes, len(person))
                out = self.door_first + home
                back = out + self.door_back_offset
            parts.append(self._tours(person, depart, out, back, dwell))
        if not parts:
            z = np.zeros(0, np.int64)
            return DayTrips(z, z.astype(np.int32), z)
        # by person (kinds hold consecutive ids, in order), so by (departure, person) at once
        depart, person, route = (np.concatenate(c) for c in zip(*parts, strict=True))
        return DayTrips(*_by_minute_then_person(depart, person.astype(np.int32), route))

    def _tours(self, person, depart, out, back, dwell):
        """Place tours in time so that one person's tours never overlap; returns their trips
        by person (each person's in time order: out, back, out, ...)."""
        order = _by_person_then_minute(person, depart)
        person, depart, out, back, dwell = (a[order] for a in (person, depart, out, back, dwell))
        out_dep, back_dep = _place_tours(
            person, depart, out, back, dwell, self.routes.length, self.speed, self.free_at
        )
        trip_depart, trip_route = (
            np.empty(2 * len(person), np.int64),
            np.empty(2 * len(person), np.int64),
        )
        trip_depart[0::2], trip_depart[1::2] = out_dep, back_dep
        trip_route[0::2], trip_route[1::2] = out, back
        return trip_depart, np.repeat(person, 2), trip_route


@numba.njit(cache=True)
def _pick_slots(home, slots, u):
    """For each tour of a resident of ``home[i]``: of the home's n routes out (``slots``, by
    slot, -1 for none; every resident's home has one), the ``floor(u[i] n)``-th."""
    out = np.empty(len(home), np.int64)
    for i in range(len(home)):
        row = slots[home[i]]
        n = 0
        for s in range(len(row)):
            n += row[s] >= 0
        pick = np.int64(u[i] * n)
        for s in range(len(row)):
            if row[s] >= 0:
                if pick == 0:
                    out[i] = row[s]
                    break
                pick -= 1
    return out


@numba.njit(cache=True)
def _place_tours(person, depart, out, back, dwell, length, speed, free_at):
    """Each person's tours, in order (sorted by person, then planned departure): a tour
    leaves at its planned minute or when the person is back from the previous one, whichever
    is later; it dwells ``dwell`` minutes at its destination, and the person is free a
    minute after coming back (``free_at``, in place). Returns the departures out and back."""
    out_dep = np.empty_like(depart)
    back_dep = np.empty_like(depart)
    for k in range(len(person)):
        who = person[k]
        start = max(depart[k], free_at[who])
        out_min = np.int64(max(math.ceil(length[out[k]] / speed[who]), 1))
        back_min = np.int64(max(math.ceil(length[back[k]] / speed[who]), 1))
        out_dep[k] = start
        back_dep[k] = start + out_min + dwell[k]
        free_at[who] = back_dep[k] + back_min + 1
    return out_dep, back_dep


@numba.njit(cache=True)
def _by_person_then_minute(person, depart):
    """The stable order by (person, departure) of tours listed by person: each person's few
    tours sorted in place (an insertion sort per person: linear in all)."""
    order = np.arange(len(person))
    first = 0
    for k in range(1, len(person) + 1):
        if k < len(person) and person[k] == person[first]:
            continue
        for i in range(first + 1, k):  # the tours of one person: first to k - 1
            this, j = order[i], i
            while j > first and depart[order[j - 1]] > depart[this]:
                order[j] = order[j - 1]
                j -= 1
            order[j] = this
        first = k
    return order


@numba.njit(cache=True)
def _by_minute_then_person(depart, person, route):
    """Trips listed by person, sorted by (departure, person): a counting sort by minute
    that keeps the order within a minute. (A person's trips never leave in the same
    minute, so the keys are distinct and the order is the one a sort by both keys gives.)"""
    n = len(depart)
    if n == 0:
        return depart.copy(), person.copy(), route.copy()
    lo, hi = depart.min(), depart.max()
    ptr = np.zeros(hi - lo + 2, np.int64)
    for k in range(n):
        ptr[depart[k] - lo + 1] += 1
    for m in range(hi - lo + 1):
        ptr[m + 1] += ptr[m]
    out_depart = np.empty(n, np.int64)
    out_person = np.empty(n, np.int32)
    out_route = np.empty(n, np.int64)
    for k in range(n):
        f = ptr[depart[k] - lo]
        out_depart[f], out_person[f], out_route[f] = depart[k], person[k], route[k]
        ptr[depart[k] - lo] = f + 1
    return out_depart, out_person, out_route
