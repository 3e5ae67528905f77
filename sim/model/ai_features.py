"""The platform's AI features of 2025 and 2026, off by default: levers for the privacy ledger.

**Facial recognition of visitors** (Ring "Familiar Faces", from December 2025): off by default;
an owner turns it on with probability ``ai.face_recognition`` (keyed draw per home), only with a
premium plan (a subscription, ``privacy.subscription``), never with end-to-end encryption, and
nowhere when the feature is not offered (``ai.face_recognition_offered``: Illinois, Texas and
Portland, Oregon). Every sighting of such a camera has the person's face processed: the
``face_recognition`` path of the ledger. A face is held by the camera's owner while it is
labelled (the owner's household: fewer than the 50 labelled faces allowed, so the cap never
binds here) or, unnamed, until ``ai.face_retention_days`` after it was last seen.

**Lost-dog search** (Ring "Search Party", autumn 2025): when the feature exists
(``ai.pet_search``), it is on by default for every camera (all the model's cameras are outdoor
ones) unless the owner switched it off (``ai.pet_search_opt_out``, keyed per home) or encrypts
end to end. Searches start from random homes at random minutes (``ai.pet_searches_per_30_days``,
a Poisson number a day); each scans the video of the cameras in ``ai.pet_search_radius_m`` of
the home over the ``ai.pet_search_hours`` after the dog was lost: the people in it are the
``pet_search`` path's exposed. A match (a dog) is shared only by the owner's choice, and the
search is not designed to process people's biometrics: the ledger counts the people whose
video was scanned, nothing more. Its video is excluded from police requests; the model's
requests read sightings of people, never the search's clips, so nothing changes there.
"""

from __future__ import annotations

import numpy as np

from sim.engine.engine import MINUTES_PER_DAY
from sim.engine.rng import Streams, poisson_from_uniform
from sim.model.footage import Circle, FootageStore, Sightings
from sim.scenario.scenario import Scenario
from sim.scenario.schema import flag, number, share
from sim.scenario.submodel import COUNT, Submodel, metric

# Sources cited only here (docs/sources.md expands them).
SRC_FACES = (
    "Ring 'Familiar Faces' (from December 2025): off by default, premium plan, up to 50 "
    "labelled faces, unnamed faces deleted after 30 days, not offered in Illinois, Texas or "
    "Portland, Oregon (docs/sources.md)"
)
SRC_SEARCH_PARTY = (
    "Ring 'Search Party' (autumn 2025): lost dogs, on by default on eligible outdoor cameras, "
    "switched off per camera by owners (docs/sources.md)"
)

# fmt: off
PARAMS = (
    share("ai.face_recognition", 0.0, "Share of camera owners with a subscription (a premium "
        "plan) who turn on facial recognition of the people their camera records (Familiar Faces; "
        "off by default).", SRC_FACES),
    flag("ai.face_recognition_offered", True, "Facial recognition is offered where the "
        "neighbourhood is (false for Illinois, Texas or Portland, Oregon).", SRC_FACES),
    number("ai.face_retention_days", 30.0, "day", 1, 180, "Days an unnamed face is kept after it "
        "was last seen (one report says up to six months); faces of the owner's household are "
        "labelled and kept.", SRC_FACES),
    flag("ai.pet_search", False, "The lost-dog search exists (Search Party): each search scans "
        "the video of nearby cameras whose owners have not switched it off (on by default for "
        "them).", SRC_SEARCH_PARTY),
    share("ai.pet_search_opt_out", 0.1, "Share of camera owners who switch the lost-dog search "
        "off."),
    number("ai.pet_searches_per_30_days", 2.0, "per 30 days", 0, 300,
        "Lost-dog searches started in the area (from a random home)."),
    number("ai.pet_search_radius_m", 800.0, "m", 10, 10000, "Radius around the dog's home of the "
        "cameras a search scans."),
    number("ai.pet_search_hours", 12.0, "h", 0.5, 48, "Hours of video after the dog is lost that "
        "a search scans."),
)
# fmt: on


class AIFeatures(Submodel):
    """Which owners use each feature; the faces processed and the video the searches scanned."""

    name = "ai"
    STATE = ("face_on", "pet_on")

    def __init__(
        self,
        homes_xy: np.ndarray,
        params: Scenario,
        streams: Streams,
        subscribed: np.ndarray,
        e2ee: np.ndarray,
    ) -> None:
        self.streams = streams
        self.homes_xy = homes_xy
        homes = np.arange(len(homes_xy))
        offered = params["ai.face_recognition_offered"]
        self.face_on = (
            offered
            & subscribed
            & ~e2ee
            & (streams.uniform("owner.face_recognition", homes) < params["ai.face_recognition"])
        )
        self.any_face = bool(self.face_on.any())
        self.face_retention = params["ai.face_retention_days"] * MINUTES_PER_DAY
        self.pet_search = bool(params["ai.pet_search"])
        self.pet_on = (
            self.pet_search
            & ~e2ee
            & (streams.uniform("owner.pet_search_off", homes) >= params["ai.pet_search_opt_out"])
        )
        self.searches_per_day = params["ai.pet_searches_per_30_days"] / 30
        self.radius = params["ai.pet_search_radius_m"]
        self.window = round(params["ai.pet_search_hours"] * 60)
        self._faces: list[tuple[np.ndarray, ...]] = []  # (camera, person, t_in, t_out)
        self._pending: list[tuple[int, int, int]] = []  # searches: (id, home, minute lost)
        self._next_search = 0
        self.searches = 0  # searches whose window has been scanned
        self.scanned: list[Sightings] = []  # per search scanned, its sightings

    def live(self, camera_home: np.ndarray, sightings: Sightings) -> None:
        """New sightings on cameras with facial recognition on: their faces are processed."""
        if not self.any_face:
            return
        on = self.face_on[camera_home]
        if np.any(on):
            s = sightings
            self._faces.append(
                tuple(np.asarray(c[on], np.int32) for c in (s.camera, s.person, s.t_in, s.t_out))
            )

    def faces(self) -> Sightings:
        """Every sighting whose face was processed."""
        if not self._faces:
            empty = np.zeros(0, np.int64)
            return Sightings(empty, empty, empty, empty)
        cols = zip(*self._faces, strict=True)
        return Sightings(*(np.concatenate(c).astype(np.int64) for c in cols))

    def faces_held(self, now: int, camera_home: np.ndarray, person_home: np.ndarray) -> np.ndarray:
        """Distinct people whose face some owner holds at minute ``now``: labelled (the
        camera's household) or unnamed and seen within the retention."""
        f = self.faces()
        labelled = person_home[f.person] == camera_home[f.camera]
        held = labelled | (f.t_out >= now - self.face_retention)
        return np.unique(f.person[held])

    def daily(self, day: int, now: int, active: np.ndarray, camera_home, footage) -> None:
        """Start today's searches; scan those whose window has ended by ``now``."""
        if not self.pet_search:
            return
        s = self.streams
        n = poisson_from_uniform(s.uniform("ai.pet_searches", day)[0], self.searches_per_day)
        for k in range(n):
            key = day * 64 + k
            home = int(s.uniform("ai.pet_home", key)[0] * len(self.homes_xy))
            minute = now + int(s.uniform("ai.pet_minute", key)[0] * MINUTES_PER_DAY)
            self._pending.append((self._next_search, home, minute))
            self._next_search += 1
        due = [p for p in self._pending if p[2] + self.window <= now]
        self._pending = [p for p in self._pending if p[2] + self.window > now]
        for _, home, minute in due:
            self._scan(home, minute, active, camera_home, footage)

    def _scan(self, home: int, minute: int, active, camera_home, footage: FootageStore) -> None:
        x, y = self.homes_xy[home]
        cams = np.flatnonzero(active)
        cams = cams[self.pet_on[camera_home(cams)]]
        found = footage.query(minute, minute + self.window - 1, Circle(x, y, self.radius), cams)
        self.scanned.append(found)
        self.searches += 1

    # ------------------------------------------------------------------ metrics

    METRICS = (
        metric("privacy.faces_held.<group>", COUNT, "people", "Faces held by owners (<group>)"),
        metric("ai.pet_searches", COUNT, "searches", "Lost-dog searches scanned"),
    )

    def metrics(self, model) -> dict[str, float | int | None]:
        pop, names = model.population, model.world.group_names
        held = self.faces_held(int(model.time), model.cameras.home, pop.home)
        faces = np.bincount(pop.group[held], minlength=len(names))
        return {
            **{f"privacy.faces_held.{n}": int(faces[g]) for g, n in enumerate(names)},
            "ai.pet_searches": int(self.searches),
        }
