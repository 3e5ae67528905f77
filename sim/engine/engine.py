"""The engine: walking ahead of the minutes, and settling what was walked when it is read.

What a minute means is written in ``NeighbourhoodModel.step`` (docs/ODD.md, section 3.2). Its
first steps (departures, walking, recording, what follows from the recordings alone) depend
on nothing but the trips and the cameras, so the engine does them ahead, many minutes in one
call, and gives each minute its effects later, in order, when something reads them. Who uses
the walking registers here, in the minute's order:

- ``on_planned(fn)``: ``fn(person, route, depart, speed, duration)`` when trips are planned
  (keyed draws only: nothing may change yet);
- ``on_walked(fn)``: ``fn(walked)`` when minutes have been walked, or walked again (keyed
  draws only);
- ``on_settle(fn, eager)``: ``fn(walked, started)`` gives minutes ``walked.start`` to
  ``walked.stop - 1`` their effects (``started``: the trips that departed in them), each
  minute once, in order. Eager consumers are settled before a minute's interactions (they
  are what incidents read); the others only before a reader (``settle``).

Invariants, checked rather than assumed:

- cameras may change at any minute: a change inside the minutes walked ahead walks them
  again from that minute (``walk`` returns True; the model plans that minute's decisions
  again), so a result never depends on how far ahead was walked;
- the model reads walked state only through accessors that settle first (``settle``);
- the model's clock begins only the minutes with work of their own; the others pass
  (``pass_to``), never beyond the minutes walked.

With ``ahead=False`` (scenario key ``time.walk_ahead = false``) nothing is done ahead: each
minute is planned, walked and settled in its turn, with no planning shortcut. It is slow and
gives the same results: tests compare the two for every preset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.movement import Walked, Walks

if TYPE_CHECKING:  # the engine reads the cameras' version; the model layer owns them
    from sim.model.cameras import Cameras

MINUTES_PER_DAY = 1440
PLAN_TRIPS = 20_000  # trips walked ahead at once, at most (unless one hour has more)


@dataclass
class DayTrips:
    """Trips that depart on one day, sorted by departure minute."""

    depart: np.ndarray  # absolute minute
    person: np.ndarray
    route: np.ndarray

    def __len__(self) -> int:
        return len(self.depart)


class Engine:
    """Trips waiting to depart, walked ahead in whole hours, settled minute by minute.

    Args:
        walks: the trips and their passes (``sim.engine.movement.Walks``).
        speed: each person's walking speed (m/min).
        cameras: whose changes force walking again.
        window_caps: function giving ``Walks.plan``'s ``window_caps`` (a planning shortcut,
            used only when walking ahead).
        ahead: walk whole hours ahead (else minute by minute).
    """

    def __init__(
        self,
        walks: Walks,
        speed: np.ndarray,
        cameras: Cameras,
        window_caps: Callable[[], object] | None = None,
        ahead: bool = True,
    ) -> None:
        self.walks = walks
        self._speed = speed
        self.cameras = cameras
        self.ahead = ahead
        self._window_caps = window_caps if ahead else None
        self._planned_hooks: list[Callable] = []
        self._walked_hooks: list[Callable] = []
        self._eager: list[Callable] = []
        self._lazy: list[Callable] = []
        self.trips = DayTrips(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64))
        self._planned = 0  # the next trip to plan
        self.minute = 0  # the next minute to simulate
        self._walked: Walked | None = None  # the minutes walked ahead last
        self.walked_stop = 0  # the end of the minutes walked (``_walked.stop``)
        self._checkpoint: dict | None = None  # the walks' state before walking them
        self.camera_version = cameras.version  # the cameras they were walked with
        self._settled = {True: 0, False: 0}  # eager, lazy: minutes before these are settled
        self._started = {True: 0, False: 0}  # the next trip each has counted as departed
        self.walking = 0  # people still walking after the last minute settled

    # ------------------------------------------------------------------ registration

    def on_planned(self, fn: Callable) -> None:
        self._planned_hooks.append(fn)

    def on_walked(self, fn: Callable) -> None:
        self._walked_hooks.append(fn)

    def on_settle(self, fn: Callable, eager: bool = False) -> None:
        (self._eager if eager else self._lazy).append(fn)

    # ------------------------------------------------------------------ trips

    def waiting(self, new: DayTrips) -> DayTrips:
        """The trips not yet departed together with ``new`` ones, by departure (stable)."""
        self.settle(self.minute)
        left = slice(self._started[True], len(self.trips))
        depart = np.concatenate([self.trips.depart[left], new.depart])
        person = np.concatenate([self.trips.person[left], new.person])
        route = np.concatenate([self.trips.route[left], new.route])
        order = np.argsort(depart, kind="stable")
        return DayTrips(depart[order], person[order], route[order])

    def set_trips(self, trips: DayTrips) -> None:
        """The trips to depart from now on (``waiting``'s, perhaps changed), none planned."""
        self.settle(self.minute)
        self.trips = trips
        self._planned = 0
        self._started = {True: 0, False: 0}

    # ------------------------------------------------------------------ the minute

    def walk(self, now: int) -> bool:
        """Minute ``now`` begins: make sure it is walked. Returns True when walking starts
        afresh at ``now`` (minutes newly walked ahead, or walked again because the cameras
        changed), so that decisions planned from the walking are planned from ``now``."""
        if now != self.minute:
            raise RuntimeError(f"minute {now} begun, but the next minute is {self.minute}")
        if now < self.walked_stop:
            if self.cameras.version == self.camera_version:
                return False  # walked ahead, with the cameras they were walked with
            self._walk_again(now)
            return True
        self._walk_ahead(now)
        return True

    def pass_to(self, minute: int) -> None:
        """The minutes from ``self.minute`` to ``minute - 1`` had no work of their own (the
        model's clock visits only the minutes that have): they pass. They cannot lie beyond
        the minutes walked (so, minute by minute, none passes unvisited)."""
        if minute > self.minute:
            if minute > self.walked_stop:
                raise RuntimeError(
                    f"minutes {self.minute} to {minute - 1} passed unvisited, but minutes from "
                    f"{self.walked_stop} are not walked yet"
                )
            self.minute = minute

    def end_minute(self) -> None:
        """Minute ``minute`` is done (its settling waits for a reader, unless minute by
        minute)."""
        self.minute += 1
        if not self.ahead:
            self.settle(self.minute)

    def stop_of(self, now: int) -> int:
        """The end of the minutes whose posting decisions are planned at ``now``: the hour
        (fear is fixed until its end) when walking ahead, else the minute itself."""
        return (now // 60 + 1) * 60 if self.ahead else now + 1

    def walked(self, start: int, stop: int) -> Walked:
        """Minutes ``start`` to ``stop - 1`` of those walked ahead (views)."""
        return self._walked.between(start, stop)

    # ------------------------------------------------------------------ walking ahead

    def _walk_ahead(self, now: int) -> None:
        """Plan the trips that depart in the coming hours and walk them: whole hours up to
        the end of the day, as many as hold ``PLAN_TRIPS`` trips (at least one hour); minute
        by minute, only ``now``. How many minutes are walked at once changes nothing but the
        speed (fewer calls) and the memory (more passes held)."""
        self.settle(now)
        trips = self.trips
        if self.ahead:
            hours = np.arange(now + 60, (now // MINUTES_PER_DAY + 1) * MINUTES_PER_DAY + 1, 60)
            ends = np.searchsorted(trips.depart, hours, side="left")
            k = max(int(np.searchsorted(ends - self._planned, PLAN_TRIPS, side="right")), 1)
            stop, end = int(hours[k - 1]), int(ends[k - 1])
        else:
            stop, end = now + 1, int(np.searchsorted(trips.depart, now, side="right"))
        if self.walks.passes.camera_version != self.cameras.version:
            self.walks.resync(now, self.cameras)
        self.camera_version = self.cameras.version
        sl = slice(self._planned, end)
        person, route, depart = trips.person[sl], trips.route[sl], trips.depart[sl]
        speed = self._speed[person]
        caps = self._window_caps() if self._window_caps is not None else None
        self.walks.plan(person, route, depart, speed, caps)
        duration = self.walks.duration[len(self.walks.duration) - len(person) :]
        for fn in self._planned_hooks:
            fn(person, route, depart, speed, duration)
        self._planned = end
        self._walk(now, stop)

    def _walk_again(self, now: int) -> None:
        """The cameras changed before minute ``now``, inside the minutes walked ahead: give
        the minutes before it their effects, go back to where the walk began, walk up to
        ``now`` again (the same walk), bring the passes up to date and walk the rest."""
        self.settle(now)
        start, stop = self._walked.start, self._walked.stop
        self.walks.rewind(self._checkpoint)
        if now > start:
            self.walks.walk(start, now)
        self.walks.resync(now, self.cameras)
        self.camera_version = self.cameras.version
        self._walk(now, stop)

    def _walk(self, now: int, stop: int) -> None:
        if self.ahead:
            self._checkpoint = self.walks.checkpoint()
        self._walked = self.walks.walk(now, stop)
        self.walked_stop = stop
        for fn in self._walked_hooks:
            fn(self._walked)

    # ------------------------------------------------------------------ settling

    def settle(self, upto: int, eager_only: bool = False) -> None:
        """Give the minutes before ``upto`` (walked, not yet settled) their effects: the eager
        consumers', then (unless ``eager_only``) the others', each in registration order."""
        views = None  # (lo, upto, the walked minutes lo to upto - 1): both kinds often agree
        for eager in (True, False) if not eager_only else (True,):
            lo = self._settled[eager]
            if upto <= lo:
                continue
            self._settled[eager] = upto
            end = int(np.searchsorted(self.trips.depart, upto - 1, side="right"))
            started, self._started[eager] = end - self._started[eager], end
            if views is None or views[0] != lo:
                views = (lo, upto, self._walked.between(lo, upto))
            w = views[2]
            for fn in self._eager if eager else self._lazy:
                fn(w, started)
            if not eager:
                self.walking = int(w.after[-1])
