"""The Mesa model: one step is one simulated minute; submodels run in one documented order.

The order of work (docs/ODD.md, section 3) is written here, top to bottom: ``step`` is the
minute, ``_hourly`` the hour, ``_start_day`` the day, ``_record`` a time-series row. What
follows from walking alone (departures, walking, recording, storing footage, deliveries,
alerts, the counters) is done ahead by the engine (``sim/engine/engine.py``) and given to each
minute, in the order its users are registered in ``_register_walking``, before anything
reads it: the model's parts that walking changes are read through properties that settle
first. ``time.walk_ahead = false`` runs every minute in its turn instead (same results).

``model.time`` counts minutes elapsed: the hour's and the day's events fall due at whole
minutes, and minute m is simulated between them, at time m + 1/2, if it has work of its own
(the clock, at the end of the class: most minutes have none, and pass).
"""

from __future__ import annotations

import math

import mesa
import numpy as np
from mesa.time import Event, Schedule

from sim.engine.engine import MINUTES_PER_DAY, Engine
from sim.engine.movement import PassTable, Viewers, Walks
from sim.engine.rng import Streams
from sim.model import ledger as privacy_ledger
from sim.model.adoption import Adoption, partnership_minute
from sim.model.ai_features import AIFeatures
from sim.model.cameras import initial_cameras
from sim.model.footage import FootageStore, Sightings
from sim.model.incidents import Incidents
from sim.model.metrics import SUBMODELS, Recorder, gather, outcome_totals
from sim.model.police import PoliceAgency
from sim.model.population import DELIVERY, Population
from sim.model.privacy import AccountSecurity
from sim.model.protests import Protests
from sim.model.reporting import Reporting, group_bias
from sim.model.requests import Platform, Rules
from sim.scenario.scenario import Scenario, ScenarioError
from sim.scenario.schema import SRC_RUN, flag, integer, number
from sim.scenario.submodel import Zones
from sim.world.world import build_world

# fmt: off
PARAMS = (
    integer("seed", 1, "-", 0, 2**63 - 1, "Root random seed; every random draw of a run derives "
        "from it.", SRC_RUN),
    number("time.days", 7.0, "day", 1 / 1440, 3650, "Simulated duration (one step is one minute).",
        SRC_RUN),
    integer("time.record_minutes", 60, "min", 1, 1440, "Interval between rows of "
        "timeseries.parquet.", SRC_RUN),
    flag("time.walk_ahead", True, "Walk whole hours ahead and settle them when read (fast); false "
        "runs every minute in its turn, without planning shortcuts (slow; the same results: a "
        "check).", SRC_RUN),
    number("time.start_year", 2019.0, "year", 2010, 2040, "Calendar date of the start, as a "
        "decimal year (for the partnership curve).", SRC_RUN),
)
# fmt: on


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
        self._reporting = Reporting(
            self.world.homes, pop.home, pop.group, self.params, self.streams
        )
        self.passes = self._pass_table()
        self.walks = Walks(
            self.routes,
            self.passes,
            pop.group,
            len(self.world.group_names),
            self.streams.base("camera.detect"),
            self.params["cameras.detection_probability"],
        )
        self._incidents = Incidents(
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
        self._footage = FootageStore(self._camera_xy, self.params["footage.store_days"])
        self._check_footage_horizon()
        self.platform = Platform(
            self,
            self.params,
            self.streams,
            self.world.homes.count,
            self._camera_homes,
            self._footage,
        )
        self._accounts = AccountSecurity(
            self.world.homes.count,
            self.params,
            self.streams,
            self.platform.subscribed,
            self.platform.e2ee,
        )
        self._ai = AIFeatures(
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
        self._recorder = Recorder(
            self.population.count, self.world.group_names, math.ceil(self.duration / every) + 2
        )
        self._schedule_rng = self.streams.generator("schedule")
        self.engine = Engine(
            self.walks,
            pop.speed,
            self.cameras,
            self._window_caps,
            ahead=self.params["time.walk_ahead"],
        )
        self._register_walking()
        self._attempt_minutes: set[int] = set()  # minutes walked ahead when attempts fall due
        self._post_minutes: set[int] = set()  # minutes planned when posts may be made
        self._plan_stop = 0  # minutes before this have their posting decisions planned
        self._last_record = 0
        # submodels that attach themselves through hooks (docs/extending.md), in order
        self._attached = [cls(self) for cls in SUBMODELS if cls.attaches]
        for sub in self._attached:
            setattr(self, sub.name, sub)
        self._start_day()
        self.schedule_recurring(
            self._start_day, Schedule(interval=MINUTES_PER_DAY, start=MINUTES_PER_DAY)
        )
        self.schedule_recurring(self._hourly, Schedule(interval=60, start=60))
        self.schedule_recurring(self._record, Schedule(interval=every, start=every))
        self._start_clock()

    # ------------------------------------------------------------------ the minute

    def step(self) -> None:
        """Minute m (docs/ODD.md, section 3.2), in its order:

        1. departures (offenders' walks may include attempts); 2. walk the minute: cameras
        in view record, windows see, arrivals end; 3. store the sightings (leaks, facial
        recognition); 4. couriers leave packages; 5. incidents and what the police do about
        them; 6. alerts, and the posts of owners, neighbours and victims; 7. the counters.

        Steps 1 to 4, the alerts and the counters depend on the trips and the cameras
        alone: the engine walks them ahead and settles them, in ``_register_walking``'s
        order, when they are read. The posting decisions of people who cannot be seen
        offending are made when the hour is planned (fear is fixed until it ends). A minute
        has work of its own only when an attempt falls due or a post may be made; the clock
        (``_busy_after``) visits only such minutes, and those that walk or plan."""
        engine = self.engine
        now = engine.minute
        # 1-4: walked ahead (or again, if the cameras changed); settled when read
        if engine.walk(now) or now >= self._plan_stop:
            self._plan_posts(now)  # the hour's posting decisions, from now
        if now in self._attempt_minutes or now in self._post_minutes:
            engine.settle(now + 1, eager_only=True)  # the walks started, packages left
            self._incidents_happen(now)  # 5
            self._posts(now)  # 6
        engine.end_minute()  # 7, with the rest of 1-4, when read

    def _register_walking(self) -> None:
        """Who uses the walking, in the minute's order (sim/engine/engine.py)."""
        e = self.engine
        e.on_planned(self._plan_attempts)  # 1: which walks include attempts
        e.on_planned(self._count_walking_days)
        e.on_walked(self._due_attempts)  # 5: the minutes when attempts fall due
        e.on_walked(self._plan_deliveries)  # 4: the packages couriers' arrivals leave
        e.on_settle(self._start_attempts, eager=True)  # 1: attempts wait for their minute
        e.on_settle(self._deliver, eager=True)  # 4
        e.on_settle(self._count_departures)  # 1
        e.on_settle(self._store)  # 3
        e.on_settle(self._alert)  # 6: recordings counted, owners alerted
        e.on_settle(self._count_walked)  # 7

    def _plan_attempts(self, person, route, depart, speed, duration) -> None:
        pop = self.population
        self._attempts = self._incidents.plan_attempts(depart, person, route, speed, pop.offender)

    def _count_walking_days(self, person, route, depart, speed, duration) -> None:
        if len(person):
            self.walking_days.add(person, depart, duration)

    def _due_attempts(self, w) -> None:
        """The minutes walked when attempts fall due."""
        self._attempt_minutes = self._incidents.due_minutes(w.start, w.stop, self._attempts)

    def _plan_deliveries(self, w) -> None:
        """Couriers' arrivals that leave a package: the minute, the door, until when it
        waits (keyed draws)."""
        pop = self.population
        courier = np.flatnonzero(pop.kind[w.done_person] == DELIVERY)
        doors = pop.door_of(w.done_route[courier])
        minute, doors = w.done_minute[courier[doors >= 0]], doors[doors >= 0]
        self._packages = (minute, doors, self._incidents.plan_deliveries(minute, doors))

    def _start_attempts(self, w, started: int) -> None:
        attempts = self._attempts.started(w.start, w.stop)
        if len(attempts):
            self._incidents.add_attempts(attempts)

    def _deliver(self, w, started: int) -> None:
        minute, doors, until = self._packages
        a, b = np.searchsorted(minute, [w.start, w.stop])
        if b > a:
            self._incidents.deliver(doors[a:b], until[a:b])

    def _count_departures(self, w, started: int) -> None:
        if started:
            self._recorder.on_start(started)

    def _store(self, w, started: int) -> None:
        """Footage stored; taken-over cameras leak it live; facial recognition scans it."""
        if len(w.camera):
            self._footage.add(w.camera, w.person, w.minute, w.t_out)
            sightings = Sightings(w.camera, w.person, w.minute, w.t_out)
            camera_home = self.cameras.home[w.camera]
            self._accounts.live(camera_home, sightings)
            self._ai.live(camera_home, sightings)

    def _alert(self, w, started: int) -> None:
        self._reporting.on_walked(self.cameras.home[w.camera], w.sighted.sum(axis=0))

    def _count_walked(self, w, started: int) -> None:
        self._recorder.on_walked(w)

    def _plan_posts(self, now: int) -> None:
        """The posting decisions from minute ``now`` to the hour's end (fear is fixed until
        then; minute by minute, the minute's): those that already settle, and the minutes
        when a post may be made."""
        stop = self.engine.stop_of(now)
        w = self.engine.walked(now, stop)
        posts = self._reporting.plan_reviews(
            now,
            stop,
            (
                w.minute,
                self.cameras.home[w.camera],
                w.person,
                w.t_out,
                w.window_minute,
                w.window_home,
                w.window_person,
            ),
            self.cameras.owners(),
            self.population.offender,
        )
        self._post_minutes = set(posts.tolist())
        self._plan_stop = stop

    def _incidents_happen(self, now: int) -> None:
        """Minute ``now``'s attempts: incidents (victims may report and post), and what the
        police do about them."""
        has_camera = self.cameras.owners()
        happened = self._incidents.step(now, has_camera, self._walkers_on_edge)
        if happened is None:
            return
        self._recorder.count("incidents", len(happened.minute))
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

    def _post_victims(self, now: int, happened, has_camera: np.ndarray) -> None:
        """Victims who use the app post about the incidents that just happened to them; the
        posts count, and reach the police, like every other post."""
        posts = self._reporting.post_victims(now, happened.home, happened.person, has_camera)
        if posts is not None:
            self._forward(now, posts)

    def _posts(self, now: int) -> None:
        """Owners' and neighbours' posts about the people they saw (reviewed as planned)."""
        posts = self._reporting.review(now, self._incidents.seen_offending)
        if posts is not None:
            self._forward(now, posts)

    def _forward(self, now: int, posts) -> None:
        """Posts made this minute: counted, and passed to the police (who receive them only
        with a partnership and forwarding on)."""
        self._recorder.count("posts", len(posts))
        stops = self.police.on_posts(
            now,
            self.home_zone[posts.poster],
            posts.poster,
            posts.person,
            self.population.group,
            self.world.homes.xy[posts.poster],
        )
        self._recorder.count("stops", stops)

    def _walkers_on_edge(self, edges: np.ndarray, people: np.ndarray) -> np.ndarray:
        """How many walkers other than ``people[i]`` are on street ``edges[i]`` right now."""
        return self.walks.others_on(self.engine.minute, edges, people)

    # ------------------------------------------------------------------ the hour

    def _hourly(self) -> None:
        """Fear (only here, on the hour: the posting plans rely on it), purchases, footage
        requests; then the attached submodels' ``hour``."""
        now = int(self.time)
        if now < self._plan_stop:
            raise RuntimeError(
                f"fear updated at minute {now}, inside the minutes whose posting "
                f"decisions are planned (to {self._plan_stop}): fear changes only on the hour"
            )
        self._settle()
        self._reporting.hourly(self.cameras.owners())
        self.adoption.hourly(int(self.time), self._reporting.fear)
        self.police.make_requests(
            int(self.time), self.platform, self.cameras.active, self._reporting.public_request
        )
        for sub in self._attached:
            sub.hour(self, now)

    # ------------------------------------------------------------------ the day

    def _start_day(self) -> None:
        """Today's tours (with trips still to depart from earlier days), a protest, footage
        expiry, adoption's daily work (installations), takeovers, pet searches, attention;
        then the attached submodels' ``day``."""
        now = int(self.time)
        day = now // MINUTES_PER_DAY
        self._settle()
        trips = self.engine.waiting(self.population.day_trips(day, self._schedule_rng))
        trips, protest = self.protests.plan(day, trips)
        self.engine.set_trips(trips)
        if protest is not None:
            self.police.plan_protest(protest)
        self._footage.expire(now)
        self.adoption.daily(day, now)
        self._accounts.daily_takeovers(
            day, now, self.cameras.owners(), self.cameras.home_camera, self._footage
        )
        self._ai.daily(day, now, self.cameras.active, self._camera_homes, self._footage)
        if day > 0:
            self.police.step()
            if self.police.presence_effect > 0:
                self._reporting.set_presence(
                    self.police.presence()[self.home_zone],
                    1 + self.police.presence_effect * (self.zones.count - 1),
                )
        for sub in self._attached:
            sub.day(self, day)

    def _record(self) -> None:
        """One time-series row."""
        self._settle()
        self._last_record = int(self.time)
        self._recorder.record(
            int(self.time),
            self.walking(),
            self.cameras.count,
            self.cameras.street_fraction(),
            self._footage.nbytes,
            float(self.adoption.owner.mean()),
            outcome_totals(self),
        )

    # ------------------------------------------------------------------ set-up helpers

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
        """What lets planning leave out the window passes that cannot be posted (most: a
        rule of reporting's, ``Reporting.window_filter``)."""
        if self._window_m <= 0:
            return None
        return self._reporting.window_filter(self.cameras.owners())

    def _camera_homes(self, cameras: np.ndarray) -> np.ndarray:
        return self.cameras.home[cameras]

    def _pass_table(self) -> PassTable:
        """Cameras, and the windows of app users without a camera at the start (only they
        post what they see; a window whose home later has a camera is ignored when seen)."""
        viewers = Viewers.cameras(self.cameras)
        if self._window_m > 0:
            windows = self._reporting.app_user_no_camera
            viewers = Viewers.concat(
                viewers, Viewers.windows(self.world.homes, self.cameras, self._window_m, windows)
            )
        return PassTable(self.routes, viewers, self.cameras.version)

    def _start_partnership(self) -> None:
        """With the partnership curve, the agency signs on a date drawn from it."""
        if not self.params["police.partnership_curve"]:
            return
        minute = partnership_minute(self.params, self.streams)
        self.police.sign_partnership(minute is not None and minute <= 0)
        if minute is not None and 0 < minute < self.duration:
            self.schedule_event(self._sign_partnership, at=math.ceil(minute))

    def _sign_partnership(self) -> None:
        self.police.sign_partnership()

    def _camera_xy(self) -> np.ndarray:
        return self.world.homes.xy[self.cameras.home]

    # ------------------------------------------------------------------ reading state

    # What walking changes is read through these: each first gives the minutes simulated
    # their effects (``_settle``), so that nothing reads a state walked ahead of, or behind,
    # the model's time.

    def _settle(self) -> None:
        """The minutes before the model's time: the quiet ones since the last visited pass
        (``Engine.pass_to``), and all get their effects (``Engine.settle``)."""
        now = int(self.time)
        self.engine.pass_to(now)
        self.engine.settle(now)

    @property
    def footage(self) -> FootageStore:
        self._settle()
        return self._footage

    @property
    def reporting(self) -> Reporting:
        self._settle()
        return self._reporting

    @property
    def recorder(self) -> Recorder:
        self._settle()
        return self._recorder

    @property
    def incidents(self) -> Incidents:
        self._settle()
        return self._incidents

    @property
    def accounts(self) -> AccountSecurity:
        self._settle()
        return self._accounts

    @property
    def ai(self) -> AIFeatures:
        self._settle()
        return self._ai

    def walking(self) -> int:
        """People still walking after the last minute simulated."""
        self._settle()
        return self.engine.walking

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
        """The privacy ledger so far: who was exposed through which path (sim/model/ledger.py)."""
        return privacy_ledger.build(privacy_ledger.disclosures(self))

    def ledger_table(self):
        """The ledger as written to ``ledger.parquet`` (a pyarrow table)."""
        pop = self.population
        return privacy_ledger.table(self.ledger(), pop.group, pop.offender, self.world.group_names)

    def walker_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Map positions and groups of everyone walking (for drawing)."""
        w = self.walks
        now = int(self.time)
        slot = w.under_way(now - 1)  # after the last minute walked
        xy = self.routes.positions(w.route[slot], w.distance(slot, now), self.world.net)
        return xy, self.population.group[w.person[slot]]

    def metrics(self) -> dict[str, float | int | None]:
        """The flat metrics of the run so far (see docs/metrics.md), gathered from the
        submodels (``sim.model.metrics.SUBMODELS``)."""
        if self._last_record < int(self.time):
            self._record()
        return gather(self)

    # ------------------------------------------------------------------ the clock

    # Mesa steps a model once a time unit by default: 1,440 times a day here, though a small
    # world's day has about 30 minutes with work of their own (the hours' first minutes,
    # attempts, posts). This model's clock visits only those, each as a Mesa event at the
    # middle of its minute (after the events due at its start, such as the hour's, before
    # those due at its end, as Mesa's step would run); the minutes between pass, with no
    # effect but the time (``Engine.pass_to``, when a minute is visited or anything is read).
    # ``step()``, ``run_for`` and ``run_until`` advance the time as in any Mesa model.

    def _start_clock(self) -> None:
        self._default_schedule.stop()  # no step every time unit (as Mesa's own DEVS does)
        self._next_visit: Event | None = None
        self.cameras.on_change(self._cameras_changed)
        self._visit_at(0)

    def _visit(self) -> None:
        """Minute ``int(time)``: the minutes since the last visited pass, and it runs."""
        self._next_visit = None
        self.engine.pass_to(int(self.time))
        self._user_step()  # Mesa's reference to ``step`` (``self.step`` advances the time)
        now = int(self.time)
        self._visit_at(self._busy_after(now))

    def _busy_after(self, now: int) -> int:
        """The first minute after ``now`` with work of its own, by ``step``'s tests: walking
        or planning due, an attempt due or a post possible (changed cameras: see below)."""
        later = now.__lt__
        return min(
            self.engine.walked_stop,
            self._plan_stop,
            min(filter(later, self._attempt_minutes), default=self._plan_stop),
            min(filter(later, self._post_minutes), default=self._plan_stop),
        )

    def _visit_at(self, minute: int) -> None:
        """Minute ``minute`` is visited (unless a visit is due before it)."""
        due = self._next_visit
        if due is not None:
            if due.time <= minute + 0.5:
                return
            due.cancel()
        self._next_visit = self.schedule_event(self._visit, at=minute + 0.5)

    def _cameras_changed(self) -> None:
        """Cameras changed (by an event, or between calls): the next minute to begin is
        visited, and walked again from (``Engine.walk``)."""
        self._visit_at(math.ceil(self.time))

    @property
    def steps(self) -> int:
        """Minutes simulated, visited or quiet (Mesa's count of its steps, one a minute)."""
        return int(self.time)

    @steps.setter
    def steps(self, value: int) -> None:
        if value != 0:  # Mesa's Model.__init__ starts its count, which follows the time here
            raise AttributeError("model.steps counts the minutes simulated: it follows time")
