"""The Mesa model: one step is one simulated minute; submodels run in one documented order.

Order of work (docs/ODD.md, "Process overview and scheduling"):

1. At the start of each day (day 0 in ``__init__``, then a scheduled event at minute
   1440 d): draw the day's tours for every pedestrian; maybe hold a protest (participants'
   trips replace their others, police may plan a request); expire footage older than the
   store's horizon; adoption's daily work (officers' contacts, churn, subscription lapses,
   giveaways, download credit, installing the cameras bought since yesterday); account
   takeovers; lost-dog searches (with ``ai.pet_search``); and (from day 1) the police agency
   re-allocates its attention across zones (and, with ``reporting.police_presence``,
   residents' posting follows it).
2. Each minute (the Mesa step), whether or not anyone walks:
   a. the trips that depart this minute start; offenders' walks may include attempts;
   b. walk the minute: the passes reached in it; cameras in view record the walkers (with the
      detection probability), windows of homes without cameras see them; arrivals end;
   c. store the new sightings; compromised cameras leak them, facial recognition processes
      them; couriers' arrivals leave packages;
   d. resolve the attempts due this minute into incidents (victims may report them); police
      learn of some, plan footage requests and legal demands, and place free devices;
      victims who use the app may post about them (posts reach the police as in e);
   e. owners get alerts and, when a clip ends, may post the person as suspicious; so may
      app users without a camera who see someone pass their window; posts reach the police,
      who may stop the person and may open an investigation (planning a footage request);
      update the counters.
   Cameras change only between days and fear only between hours, so the code does a to c
   ahead, whole hours at a time (``_walk_ahead``, after bringing the pass table up to date
   and planning the trips), and most of e at each hour's first minute (``_plan_hour``); it
   all takes effect as the minutes pass (``_settle``). A minute has work of its own
   (``_interact``) only when an attempt falls due or a post may be made (docs/ODD.md,
   section 3.2).
3. Every hour (a scheduled event): fear decays and grows with the hour's posts and alerts;
   households may buy cameras; police make the footage requests that are due (public ones
   reach the feed) and receive footage shared after reminders.
4. Every ``time.record_minutes`` (a scheduled event): write one time-series row.

``model.time`` counts minutes elapsed; the step executed at time t simulates minute t - 1.
"""

from __future__ import annotations

import math
from functools import partial

import mesa
import numpy as np
from mesa.time import Schedule

from sim import ledger as privacy_ledger
from sim.adoption import Adoption, partnership_minute
from sim.ai_features import AIFeatures
from sim.cameras import initial_cameras
from sim.footage import FootageStore, Sightings
from sim.incidents import Incidents
from sim.metrics import (
    Recorder,
    adoption_metrics,
    outcome_totals,
    reporting_metrics,
    request_metrics,
)
from sim.movement import PassTable, Viewers, Walks
from sim.police import PoliceAgency, Zones
from sim.population import DELIVERY, MINUTES_PER_DAY, DayTrips, Population
from sim.privacy import AccountSecurity
from sim.protests import Protests
from sim.reporting import Reporting, group_bias
from sim.requests import Platform, Rules
from sim.rng import Streams
from sim.scenario import Scenario, ScenarioError
from sim.world import build_world

PLAN_TRIPS = 20_000  # trips walked ahead at once, at most (unless one hour has more)


class NeighbourhoodModel(mesa.Model):
    """A neighbourhood of homes with cameras and the pedestrians who walk past them.

    Args:
        params: a validated scenario (defaults when omitted).
        rng: integer seed; when omitted, the scenario's ``seed``.
    """

    def __init__(self, params: Scenario | None = None, rng: int | None = None) -> None:
        params = params if params is not None else Scenario()
        seed = int(params["seed"] if rng is None else rng)
        super().__init__(rng=seed)
        # Mesa replaced ``step`` with its own wrapper (advance time by one); ours also settles
        # the minutes walked ahead (see ``_settle``), as do ``run_for`` and ``run_until``
        self.step = partial(self.run_for, 1)
        self.params = params.replace({"seed": seed}) if seed != params["seed"] else params
        self.seed = seed
        self.streams = Streams(seed)
        self.world = build_world(self.params, self.streams.generator("world"))
        self.cameras = initial_cameras(
            self.world.homes, self.world.net, self.params, self.streams.generator("cameras")
        )
        self.population = Population(self.world, self.params, self.streams.generator("people"))
        self.routes = self.population.routes
        self._window_m = (
            self.params["reporting.window_view_m"]
            if self.params["reporting.direct_rate"] > 0
            else 0.0
        )
        pop = self.population
        self.reporting = Reporting(self.world.homes, pop.home, pop.group, self.params, self.streams)
        self.passes = self._pass_table()
        self.walks = Walks(
            self.routes,
            self.passes,
            pop.group,
            len(self.world.group_names),
            self.streams.base("camera.detect"),
            self.params["cameras.detection_probability"],
        )
        self.incidents = Incidents(
            self.world.homes,
            self.routes,
            pop.possible_routes(np.flatnonzero(pop.offender)),
            pop.count,
            self.params,
            self.streams,
        )
        self.zones = Zones(
            self.world.homes.xy, self.params["police.zones_x"], self.params["police.zones_y"]
        )
        self.home_zone = self.zones.of(self.world.homes.xy)
        self.police = PoliceAgency(
            self, self.zones, group_bias(self.params), self.params, self.streams
        )
        self.footage = FootageStore(self._camera_xy, self.params["footage.store_days"])
        self._check_footage_horizon()
        self.platform = Platform(
            self,
            self.params,
            self.streams,
            self.world.homes.count,
            self._camera_homes,
            self.footage,
        )
        self.accounts = AccountSecurity(
            self.world.homes.count,
            self.params,
            self.streams,
            self.platform.subscribed,
            self.platform.e2ee,
        )
        self.ai = AIFeatures(
            self.world.homes.xy,
            self.params,
            self.streams,
            self.platform.subscribed,
            self.platform.e2ee,
        )
        self.protests = Protests(self.world, pop, self.params, self.streams)
        self.adoption = Adoption(self, self.params, self.streams)
        self.duration = round(self.params["time.days"] * MINUTES_PER_DAY)
        self.walking_days = privacy_ledger.WalkingDays(pop.count, self.duration)
        self._start_partnership()  # needs the duration
        every = self.params["time.record_minutes"]
        self.recorder = Recorder(
            self.population.count, self.world.group_names, math.ceil(self.duration / every) + 2
        )
        self._schedule_rng = self.streams.generator("schedule")
        self._trips = DayTrips(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64))
        self._next_trip = 0  # the next trip to start
        self._planned = 0  # the next trip to plan
        self._minute = 0  # the next minute to simulate
        self._walked_stop = 0  # minutes before this are planned and walked (ahead)
        self._walked = None  # the walking of the minutes walked ahead last
        self._attempts = None  # the attempts of their walks
        self._camera_home = None  # the owners' homes of their sightings' cameras
        self._packages = None  # the arrivals that leave packages: (row, home, until when)
        self._hour_stop = 0  # minutes before this have their posting decisions planned
        self._attempt_minutes: set[int] = set()  # minutes walked ahead when attempts fall due
        self._post_minutes: set[int] = set()  # the planned hour's minutes when posts may be made
        self._settled = 0  # minutes before this have had all their effects
        self._settled_for_incidents = 0  # minutes before this have had those incidents read
        self._walking = 0  # people still walking after the last minute settled
        self._last_record = 0
        self._start_day()
        self.schedule_recurring(
            self._start_day, Schedule(interval=MINUTES_PER_DAY, start=MINUTES_PER_DAY)
        )
        self.schedule_recurring(self._hourly, Schedule(interval=60, start=60))
        self.schedule_recurring(self._record, Schedule(interval=every, start=every))

    # ------------------------------------------------------------------ scheduled work

    def _start_day(self) -> None:
        """Draw today's tours (keeping trips still to depart from earlier days)."""
        self._settle(self._minute)
        now = int(self.time)
        day = now // MINUTES_PER_DAY
        new = self.population.day_trips(day, self._schedule_rng)
        left = slice(self._next_trip, len(self._trips))
        depart = np.concatenate([self._trips.depart[left], new.depart])
        person = np.concatenate([self._trips.person[left], new.person])
        route = np.concatenate([self._trips.route[left], new.route])
        order = np.argsort(depart, kind="stable")
        self._trips = DayTrips(depart[order], person[order], route[order])
        self._trips, protest = self.protests.plan(day, self._trips)
        if protest is not None:
            self.police.plan_protest(protest)
        self._next_trip = self._planned = 0
        self.footage.expire(now)
        self.adoption.daily(day, now)
        self.accounts.daily_takeovers(
            day, now, self.cameras.owners(), self.cameras.home_camera, self.footage
        )
        self.ai.daily(day, now, self.cameras.active, self._camera_homes, self.footage)
        if day > 0:
            self.police.step()
            if self.police.presence_effect > 0:
                self.reporting.set_presence(
                    self.police.presence()[self.home_zone],
                    1 + self.police.presence_effect * (self.zones.count - 1),
                )

    def _hourly(self) -> None:
        self._settle(self._minute)
        self.reporting.hourly(self.cameras.owners())
        self.adoption.hourly(int(self.time), self.reporting.fear)
        self.police.make_requests(
            int(self.time), self.platform, self.cameras.active, self.reporting.public_request
        )

    def _check_footage_horizon(self) -> None:
        """Requests look back at most delay + window: the footage store must reach that far."""
        p = self.params
        rules = Rules.of(p)
        window = max(
            rules.max_window_hours,
            p["legal.window_hours"],
            p["protest.duration_hours"],
            p["ai.pet_search_hours"] if p["ai.pet_search"] else 0,
        )
        # + an hour until the next request round, + hourly spacing of up to a day of follow-ups
        needed = p["police.request_delay_hours"] + window + 1 + 24
        if needed > p["footage.store_days"] * 24:
            raise ScenarioError(
                f"footage.store_days = {p['footage.store_days']}: requests look back "
                f"{needed:g} h (police.request_delay_hours + the longest window); raise "
                f"footage.store_days to at least {math.ceil(needed / 24)}"
            )

    def _window_caps(self):
        """What lets planning leave out the window passes that cannot be posted (most)."""
        if self._window_m <= 0:
            return None
        owners = self.cameras.owners()
        return self.streams.base("post"), partial(self.reporting.window_caps, owners)

    def _camera_homes(self, cameras: np.ndarray) -> np.ndarray:
        return self.cameras.home[cameras]

    def _pass_table(self) -> PassTable:
        """Cameras, and the windows of app users without a camera at the start (only they
        post what they see; a window whose home later has a camera is ignored when seen)."""
        viewers = Viewers.cameras(self.cameras)
        if self._window_m > 0:
            windows = self.reporting.app_user_no_camera
            viewers = Viewers.concat(
                viewers, Viewers.windows(self.world.homes, self.cameras, self._window_m, windows)
            )
        return PassTable(self.routes, viewers, self.cameras.version)

    def _start_partnership(self) -> None:
        """With the partnership curve, the agency signs on a date drawn from it."""
        if not self.params["police.partnership_curve"]:
            return
        minute = partnership_minute(self.params, self.streams)
        self.police.partnered = minute is not None and minute <= 0
        if minute is not None and 0 < minute < self.duration:
            self.schedule_event(self._sign_partnership, at=math.ceil(minute))

    def _sign_partnership(self) -> None:
        self.police.partnered = True

    def _record(self) -> None:
        self._settle(self._minute)
        self._last_record = int(self.time)
        self.recorder.record(
            int(self.time),
            self.walking(),
            self.cameras.count,
            self.cameras.street_fraction(),
            self.footage.nbytes,
            float(self.adoption.owner.mean()),
            outcome_totals(self),
        )

    def step(self) -> None:
        """Simulate one minute (Mesa's step: ``model.step()`` also settles, see ``__init__``).

        Walking, and what follows from it alone, is done ahead (``_walk_ahead``, whole hours
        at a time) and its posting decisions planned at each hour's first minute
        (``_plan_hour``); it all takes effect as the minutes pass (``_settle``). A minute has
        work of its own only when an attempt falls due in it or a post may be made."""
        now = self._minute
        if now >= self._hour_stop:
            self._plan_hour(now)
        if now in self._post_minutes or now in self._attempt_minutes:
            self._interact(now)
        self._minute = now + 1

    def _walk_ahead(self, now: int) -> None:
        """Plan the trips that depart in the coming hours and walk them: whole hours up to
        the end of the day, as many as hold ``PLAN_TRIPS`` trips (at least one hour). Cameras
        change only between days, and nothing else changes what walkers pass or what cameras
        record. Also plan the walks' attempts. How many hours are walked at once changes
        nothing but the speed (fewer calls) and the memory (more passes held)."""
        self._settle(now)
        if self.passes.camera_version != self.cameras.version:
            self.walks.resync(now, self.cameras)
        trips, pop = self._trips, self.population
        hours = np.arange(now + 60, (now // MINUTES_PER_DAY + 1) * MINUTES_PER_DAY + 1, 60)
        ends = np.searchsorted(trips.depart, hours, side="left")
        k = max(int(np.searchsorted(ends - self._planned, PLAN_TRIPS, side="right")), 1)
        stop, end = int(hours[k - 1]), int(ends[k - 1])
        sl = slice(self._planned, end)
        person, route, depart = trips.person[sl], trips.route[sl], trips.depart[sl]
        speed = pop.speed[person]
        self.walks.plan(person, route, depart, speed, self._window_caps())
        if len(person):
            self.walking_days.add(person, depart, self.walks.duration[-len(person) :])
        self._planned = end
        self._attempts = self.incidents.plan_attempts(depart, person, route, speed, pop.offender)
        self._attempt_minutes = self.incidents.due_minutes(now, stop, self._attempts)
        w = self._walked = self.walks.walk(now, stop)
        self._camera_home = self.cameras.home[w.camera]  # the owners of the cameras that saw
        # couriers' arrivals (rows) that leave a package: at which door, until when
        courier = np.flatnonzero(pop.kind[w.done_person] == DELIVERY)
        doors = pop.door_of(w.done_route[courier])
        at, doors = courier[doors >= 0], doors[doors >= 0]
        self._packages = (at, doors, self.incidents.plan_deliveries(w.done_minute[at], doors))
        self._walked_stop = stop

    def _plan_hour(self, now: int) -> None:
        """The posting decisions of the hour starting at ``now`` that fear, fixed until the
        hour ends, already settles, and the hour's minutes when a post may be made."""
        if now >= self._walked_stop:
            self._walk_ahead(now)
        stop = (now // 60 + 1) * 60
        w = self._walked
        i, j = now - w.start, stop - w.start
        s = slice(int(w.sight_ptr[i]), int(w.sight_ptr[j]))
        v = slice(int(w.window_ptr[i]), int(w.window_ptr[j]))
        posts = self.reporting.plan_reviews(
            now,
            stop,
            (
                w.minute[s],
                self._camera_home[s],
                w.person[s],
                w.t_out[s],
                w.window_minute[v],
                w.window_home[v],
                w.window_person[v],
            ),
            self.cameras.owners(),
            self.population.offender,
        )
        self._post_minutes = set(posts.tolist())
        self._hour_stop = stop

    def _settle(self, upto: int) -> None:
        """Give the minutes walked ahead, up to ``upto - 1``, their effects: trips started
        (with their attempts), packages delivered, footage stored and leaked, recordings and
        alerts, and the counters. Called before anything reads them."""
        self._settle_for_incidents(upto)
        lo = self._settled
        if upto <= lo:
            return
        self._settled = upto
        end = int(np.searchsorted(self._trips.depart, upto - 1, side="right"))
        if end > self._next_trip:
            self.recorder.on_start(end - self._next_trip)
            self._next_trip = end
        walked = self._walked
        i, j = lo - walked.start, upto - walked.start
        w = walked.between(lo, upto)
        camera_home = self._camera_home[walked.sight_ptr[i] : walked.sight_ptr[j]]
        if len(w.camera):
            self.footage.add(w.camera, w.person, w.minute, w.t_out)
            sightings = Sightings(w.camera, w.person, w.minute, w.t_out)
            self.accounts.live(camera_home, sightings)
            self.ai.live(camera_home, sightings)
        self.reporting.on_walked(camera_home, w.sighted.sum(axis=0))
        self.recorder.on_walked(w)
        self._walking = int(w.after[-1])

    def _settle_for_incidents(self, upto: int) -> None:
        """What incidents read, up to minute ``upto - 1``: the attempts of the walks started,
        and the packages delivered (before any theft of a later minute). An interaction
        minute settles only these; the rest waits for a reader."""
        lo = self._settled_for_incidents
        if upto <= lo:
            return
        self._settled_for_incidents = upto
        attempts = self._attempts.started(lo, upto)
        if len(attempts):
            self.incidents.add_attempts(attempts)
        walked = self._walked
        rows = walked.done_ptr[[lo - walked.start, upto - walked.start]]
        at, doors, until = self._packages
        a, b = np.searchsorted(at, rows)
        if b > a:
            self.incidents.deliver(doors[a:b], until[a:b])

    def _interact(self, now: int) -> None:
        """Minute ``now``'s attempts and posts: incidents (victims may report and post), what
        the police do about them, then the owners' and neighbours' posts."""
        self._settle_for_incidents(now + 1)
        has_camera = self.cameras.owners()
        happened = self.incidents.step(now, has_camera, self._walkers_on_edge)
        if happened is not None:
            self.recorder.count("incidents", len(happened.minute))
            known = self.police.on_incidents(
                now, self.home_zone[happened.home], happened.person, happened.reported
            )
            self.police.investigate(
                now,
                happened.id[known],
                self.world.homes.xy[happened.home[known]],
                happened.minute[known],
                happened.kind[known],
            )
            if self.adoption.officers:
                self.adoption.on_investigations(happened.home[known])
            self._post_victims(now, happened, has_camera)
        posts = self.reporting.review(now, self.incidents.seen_offending)
        if posts is not None:
            self._forward(now, posts)

    def run_for(self, duration: float | int) -> None:
        super().run_for(duration)
        self._settle(self._minute)

    def run_until(self, end_time: float | int) -> None:
        super().run_until(end_time)
        self._settle(self._minute)

    def walking(self) -> int:
        """People still walking after the last minute simulated."""
        self._settle(self._minute)
        return self._walking

    def _post_victims(self, now: int, happened, has_camera: np.ndarray) -> None:
        """Victims who use the app post about the incidents that just happened to them; the
        posts count, and reach the police, like every other post."""
        posts = self.reporting.post_victims(now, happened.home, happened.person, has_camera)
        if posts is not None:
            self._forward(now, posts)

    def _forward(self, now: int, posts) -> None:
        """Posts made this minute: counted, and passed to the police (who receive them only
        with a partnership and forwarding on)."""
        self.recorder.count("posts", len(posts))
        stops = self.police.on_posts(
            now,
            self.home_zone[posts.poster],
            posts.poster,
            posts.person,
            self.population.group,
            self.world.homes.xy[posts.poster],
        )
        self.recorder.count("stops", stops)

    def _camera_xy(self) -> np.ndarray:
        return self.world.homes.xy[self.cameras.home]

    def _walkers_on_edge(self, edges: np.ndarray, people: np.ndarray) -> np.ndarray:
        """How many walkers other than ``people[i]`` are on street ``edges[i]`` right now."""
        return self.walks.others_on(self._minute, edges, people)

    # ------------------------------------------------------------------ running, results

    def run(self, progress=None) -> dict[str, float | int | None]:
        """Run the scenario's whole duration (day by day, calling ``progress(days_done)``)
        and return the final metrics."""
        while self.time < self.duration:
            self.run_until(
                min(self.duration, (int(self.time) // MINUTES_PER_DAY + 1) * MINUTES_PER_DAY)
            )
            if progress:
                progress(self.time / MINUTES_PER_DAY)
        return self.metrics()

    def ledger(self) -> privacy_ledger.Ledger:
        """The privacy ledger so far: who was exposed through which path (sim/ledger.py)."""
        self._settle(self._minute)
        return privacy_ledger.build(privacy_ledger.disclosures(self))

    def _privacy_metrics(self) -> dict[str, float | int | None]:
        """The ledger's metrics and tracking (docs/metrics.md, "Privacy ledger")."""
        found = privacy_ledger.disclosures(self)
        pop, names = self.population, self.world.group_names
        held = self.ai.faces_held(int(self.time), self.cameras.home, pop.home)
        faces = np.bincount(pop.group[held], minlength=len(names))
        return {
            **{f"privacy.faces_held.{n}": int(faces[g]) for g, n in enumerate(names)},
            "ai.pet_searches": int(self.ai.searches),
            **privacy_ledger.metrics(privacy_ledger.build(found), pop.group, pop.offender, names),
            **privacy_ledger.tracking(found, self.walking_days, pop.group, pop.offender, names),
        }

    def ledger_table(self):
        """The ledger as written to ``ledger.parquet`` (a pyarrow table)."""
        pop = self.population
        return privacy_ledger.table(self.ledger(), pop.group, pop.offender, self.world.group_names)

    def walker_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Map positions and groups of everyone walking (for drawing)."""
        w = self.walks
        slot = w.under_way(self._minute - 1)  # after the last minute walked
        xy = self.routes.positions(w.route[slot], w.distance(slot, self._minute), self.world.net)
        return xy, self.population.group[w.person[slot]]

    def metrics(self) -> dict[str, float | int | None]:
        """The flat metrics of the run so far (see docs/metrics.md)."""
        self._settle(self._minute)
        if self._last_record < int(self.time):
            self._record()
        out = {
            "coverage.street_fraction": self.cameras.street_fraction(),
            **self.recorder.metrics(),
            **reporting_metrics(self),
            **request_metrics(self),
            **adoption_metrics(self),
            **self._privacy_metrics(),
            "cameras.count": self.cameras.count,
            "homes.count": self.world.homes.count,
            "pedestrians.count": self.population.count,
            "footage.sightings": int(self.footage.total),
            "footage.peak_mb": self.footage.peak_nbytes / 1e6,
            "world.street_length_m": self.world.net.total_length,
        }
        return dict(sorted(out.items()))
