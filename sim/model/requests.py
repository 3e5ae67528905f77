"""Footage requests under the platform's rules: regimes, rule checks, and the platform itself.

**Regimes** (``requests.regime``) set the rules; every rule key can be overridden on its own
(a rule key's value ``"regime"`` takes the regime's value):

======================  =========  ==========  =========  ==========
rule                    portal     rfa         none       community
======================  =========  ==========  =========  ==========
voluntary requests      yes        yes         no         yes
max_window_hours        12         12          -          12 (*)
min_window_minutes      0          15          -          15 (*)
max_area_sq_mi          0.785      0.5         -          0.5 (*)
min_area_sq_mi          0          0.025       -          0.025 (*)
max_per_incident        no cap     2           -          2 (*)
public                  no         yes         -          yes
allow_protest           yes        no          -          no (*)
reminders               no         no          -          yes
======================  =========  ==========  =========  ==========

(portal: devices within a half-mile radius, pi x 0.5^2 = 0.785 sq mi. (*) Community
Requests, 2025 on: no caps were published; the RFA's are assumed, each a parameter.)

**Community Requests** (Ring's verified-agency help page "Community Request"; Axon, April
2025): the local agency posts the request in the app with an area map and a time frame; the
platform moderates and publishes it; owners in the area who have not opted out get a push
notification and an email, and reminders at 24 h, 72 h, 10 days and 28 days (Axon's help):
each reminder gives an owner who has not responded another chance to share
(``requests.reminder_effect``). An owner who ignores a request is not known to the agency
(nothing in the model reads it). Only local agencies may ask, for their own investigations:
the model's agency is local. Video of the lost-pet search is excluded: the model records
people, never that feature's clips, so the exclusion removes nothing here.

**Public requests** (rfa, community) appear in the feed of every app user within the feed's
radius (``Reporting.public_request``; the fear each adds is ``feed.fear_per_request``); an
owner asked publicly shares with probability ``requests.share_probability x
requests.public_share_multiplier``.

A request that breaks a rule is refused and counted, never clipped silently; police may then
re-issue it within the rules (``police.reissue``): the window and the area are brought to the
nearest allowed value. A request over the per-incident cap, or about a protest where protests
are not allowed, cannot be re-issued.

**The platform** (a Mesa agent) checks requests, passes voluntary ones to the owners in the
area who have not opted out, answers legal demands, and holds video in the cloud for
subscribers: content exists only for owners with a subscription, without end-to-end
encryption, recorded within ``privacy.retention_days`` of the request. Owners' choices
(opt-out, subscription, encryption, two-factor) are keyed draws per home, so raising a share
only ever adds owners to it: comparisons between settings stay paired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numpy as np

from sim.engine.rng import Streams
from sim.model.footage import Circle, FootageStore, Sightings
from sim.scenario.scenario import Scenario
from sim.scenario.schema import (
    FROM_REGIME,
    REGIME_RULES,
    REGIMES,
    RULE_BOOL,
    RULE_FLOAT,
    RULE_INT,
    RULE_KEYS,
    SRC_PUBLIC,
    Param,
    choice,
    number,
    share,
)
from sim.scenario.submodel import COUNT, FRACTION, Submodel, metric, ratio

# Sources cited only here (docs/sources.md expands them).
SRC_COMMUNITY = (
    "docs/sources.md: Community Requests (Ring verified-agency help 'Community Request'; Axon, "
    "April 2025); no window or area caps published: the RFA's assumed"
)
SRC_RFA = "docs/sources.md / Bloomberg 2021: request regimes (portal 2018-2021, RFA 2021-2024)"
SRC_FTL = "docs/sources.md: Fort Lauderdale 2018, 319 owners emailed, 3.5 % responded"
SRC_REMINDERS = (
    "docs/sources.md: Axon help, reminders at 24 h, 72 h, 10 and 28 days; effect unknown"
)

# fmt: off
PARAMS = (
    choice("requests.regime", "rfa", REGIMES, "Rules for voluntary footage requests: private "
        "portal emails, public Requests for Assistance, none (legal demands only), or Community "
        "Requests (2025 on).", f"{SRC_RFA}; {SRC_COMMUNITY}"),
    Param("requests.max_window_hours", RULE_FLOAT, FROM_REGIME, "h", "Longest footage window a "
        "request may ask for (portal 12, rfa 12; community 12: none published, the RFA's assumed).",
        SRC_RFA, 0, 720),
    Param("requests.min_window_minutes", RULE_FLOAT, FROM_REGIME, "min",
        "Shortest footage window a request may ask for (portal 0, rfa 15; community 15, assumed).",
        SRC_RFA, 0, 1440),
    Param("requests.max_area_sq_mi", RULE_FLOAT, FROM_REGIME, "sq mi",
        "Largest request area (portal: a half-mile radius, 0.785; rfa 0.5; community 0.5: none "
        "published, the RFA's assumed).", SRC_RFA, 0, 100),
    Param("requests.min_area_sq_mi", RULE_FLOAT, FROM_REGIME, "sq mi",
        "Smallest request area (portal 0, rfa 0.025; community 0.025, assumed).", SRC_RFA, 0, 100),
    Param("requests.max_per_incident", RULE_INT, FROM_REGIME, "request",
        "Most voluntary requests for one incident or post; 0 for no cap (portal 0, rfa 2; "
        "community 2, assumed).", SRC_RFA, 0, 1000),
    Param("requests.public", RULE_BOOL, FROM_REGIME, "-", "Requests are public posts every app "
        "user in the feed's radius sees (fear: feed.fear_per_request) (portal false, rfa true, "
        "community true).", SRC_RFA),
    Param("requests.allow_protest", RULE_BOOL, FROM_REGIME, "-", "Requests about protests are "
        "allowed (portal true, rfa false, community false).", SRC_RFA),
    share("requests.opt_out", 0.1, "Share of camera owners who opted out of police requests (they "
        "never receive one).", "free parameter: no published opt-out rate (docs/sources.md)"),
    share("requests.share_probability", 0.035, "Probability that an owner who receives a request "
        "shares matching footage.", SRC_FTL),
    number("requests.public_share_multiplier", 1.0, "-", 0, 10, "Share probability of an owner "
        "asked by a public request (rfa, community) relative to a private one (portal); 1: the "
        "same.", SRC_PUBLIC),
    share("requests.reminder_effect", 0.5, "Community Requests: each reminder (24 h, 72 h, 10 and "
        "28 days after the request) gives an owner who has not responded another chance to share, "
        "with probability requests.share_probability x this; 0: reminders change nothing.",
        SRC_REMINDERS),
)
# fmt: on

SQ_M_PER_SQ_MI = 1609.344**2
# Axon's reminders to owners who have not responded, hours after the request (Axon help)
REMINDER_HOURS = (24, 72, 240, 672)
VOLUNTARY, LEGAL, EMERGENCY = "voluntary", "legal", "emergency"


@dataclass(frozen=True)
class Rules:
    """The rules in force for voluntary requests."""

    voluntary: bool
    max_window_hours: float
    min_window_minutes: float
    max_area_sq_mi: float
    min_area_sq_mi: float
    max_per_incident: int  # 0: no cap
    public: bool
    allow_protest: bool
    reminders: bool = False  # Community Requests: owners are reminded (REMINDER_HOURS)

    @staticmethod
    def of(params: Scenario) -> Rules:
        regime = params["requests.regime"]
        values = []
        for key, default in zip(RULE_KEYS, REGIME_RULES[regime], strict=True):
            v = params[f"requests.{key}"]
            values.append(default if v == FROM_REGIME else v)
        return Rules(regime != "none", *values, reminders=regime == "community")

    def refusal(
        self, window_hours: float, area_sq_mi: float, count_before: int, protest: bool
    ) -> str | None:
        """Why a voluntary request breaks the rules (None if it does not)."""
        if not self.voluntary:
            return "no voluntary requests"
        if protest and not self.allow_protest:
            return "protest"
        if self.max_per_incident and count_before >= self.max_per_incident:
            return "per-incident cap"
        if window_hours > self.max_window_hours + 1e-9:
            return "window too long"
        if window_hours * 60 < self.min_window_minutes - 1e-9:
            return "window too short"
        if area_sq_mi > self.max_area_sq_mi + 1e-12:
            return "area too large"
        if area_sq_mi < self.min_area_sq_mi - 1e-12:
            return "area too small"
        return None

    def within(self, window_hours: float, area_sq_mi: float) -> tuple[float, float]:
        """The nearest window and area the rules allow (for a re-issued request)."""
        w = min(max(window_hours, self.min_window_minutes / 60), self.max_window_hours)
        a = min(max(area_sq_mi, self.min_area_sq_mi), self.max_area_sq_mi)
        return w, a


@dataclass
class Request:
    """One request for footage: an area (a disc) and a window, asked at ``issued``."""

    id: int
    kind: str  # voluntary, legal or emergency
    incident: int  # incident id, or -1 for a protest or a post
    protest: int  # protest id, or -1
    x: float
    y: float
    window_hours: float
    area_sq_mi: float
    t0: int  # window, minutes (inclusive)
    t1: int
    issued: int
    post: int = -1  # for a post's investigation: its key (minute x people + person), else -1
    seq: int = 0  # which of its case's planned requests (0 the first, then the follow-ups)

    @property
    def area(self) -> Circle:
        return Circle(self.x, self.y, math.sqrt(self.area_sq_mi * SQ_M_PER_SQ_MI / math.pi))


@dataclass
class Handover:
    """Footage handed to police for one request at ``minute``: the sightings and the cameras
    they came from (one clip per camera with at least one sighting), and how many owners
    responded (some have nothing stored). A request answered after reminders has one
    handover per reminder that brought responses."""

    request: Request
    sightings: Sightings
    cameras: np.ndarray
    minute: int = 0
    responders: np.ndarray | None = None  # homes of the owners who responded (voluntary)


class Platform(mesa.Agent, Submodel):
    """The camera platform: enforces the request rules and holds subscribers' video."""

    name = "platform"
    STATE = ("opted_out", "subscribed", "e2ee", "always_share", "asked", "shared_homes")

    def __init__(
        self,
        model: mesa.Model,
        params: Scenario,
        streams: Streams,
        n_homes: int,
        camera_home,
        footage: FootageStore,
    ) -> None:
        super().__init__(model)
        self.rules = Rules.of(params)
        self.streams = streams
        self.footage = footage
        self.camera_home = camera_home  # function: camera ids -> homes
        self.share_probability = params["requests.share_probability"] * (
            params["requests.public_share_multiplier"] if self.rules.public else 1.0
        )
        self.reminder_probability = self.share_probability * params["requests.reminder_effect"]
        self.compliance = params["legal.compliance"]
        self.breadth_penalty = params["legal.breadth_penalty"]
        self.retention = params["privacy.retention_days"] * 1440
        homes = np.arange(n_homes)
        self.opted_out = streams.uniform("owner.opt_out", homes) < params["requests.opt_out"]
        self.subscribed = (
            streams.uniform("owner.subscription", homes) < params["privacy.subscription"]
        )
        self.e2ee = streams.uniform("owner.e2ee", homes) < params["privacy.e2ee"]
        self.always_share = np.zeros(n_homes, bool)  # e.g. conditional free cameras
        self.recipients = 0
        self.asked = np.zeros(n_homes, bool)  # owners who received at least one request
        self.responders = 0  # owners' responses delivered so far (``deliver``)
        self.shared_homes = np.zeros(n_homes, bool)
        self._reminders: list[np.ndarray] = []  # the minutes reminders are sent

    def lapse(self, homes: np.ndarray) -> None:
        """These owners' cloud subscriptions lapse: their video is no longer stored."""
        self.subscribed[homes] = False

    def always_sharing(self, homes: np.ndarray) -> None:
        """These owners agreed to share with police whenever asked (e.g. the condition of a
        free camera): they no longer opt out and never refuse a request."""
        self.opted_out[homes] = False
        self.always_share[homes] = True

    def _stored(self, req: Request, cameras: np.ndarray) -> Sightings:
        """Video the cloud holds for a request: subscribers without E2EE, within retention."""
        found = self.footage.query(
            max(req.t0, req.issued - int(self.retention)), req.t1, req.area, cameras
        )
        home = self.camera_home(found.camera)
        keep = self.subscribed[home] & ~self.e2ee[home]
        return Sightings(*(c[keep] for c in (found.camera, found.person, found.t_in, found.t_out)))

    def _share_draw(self, name: str, homes: np.ndarray, req: Request, *more) -> np.ndarray:
        """Owners' draws: each request is a new decision for each owner asked (docs/ODD.md),
        so they are keyed by the request: its case (incident, protest or post) and its number
        among the case's planned requests, not a counter of issued requests (a regime that
        refuses one request does not shift the others' draws: regimes stay paired)."""
        return self.streams.uniform(
            name, homes, req.incident, req.protest, req.post, req.seq, *more
        )

    def voluntary(self, req: Request, active_cameras: np.ndarray) -> list[Handover]:
        """Pass a request to the owners in the area who did not opt out; return what the
        owners who respond share (every sighting their camera holds in the window): at once,
        and under Community Requests after each reminder (handovers due later)."""
        in_area = self.footage.cameras_in(req.area)
        cams = np.flatnonzero(in_area & active_cameras)
        homes = self.camera_home(cams)
        receive = ~self.opted_out[homes]
        cams, homes = cams[receive], homes[receive]
        self.recipients += len(cams)
        self.asked[homes] = True
        share = self.always_share[homes] | (
            self._share_draw("owner.share", homes, req) < self.share_probability
        )
        out = [self._handover(req, cams[share], homes[share], req.issued)]
        if not self.rules.reminders:
            return out
        waiting = ~share
        for k, hours in enumerate(REMINDER_HOURS):
            at = req.issued + 60 * hours
            self._reminders.append(np.full(int(waiting.sum()), at, np.int64))
            now = waiting & (
                self._share_draw("owner.reminder", homes, req, k) < self.reminder_probability
            )
            if np.any(now):
                out.append(self._handover(req, cams[now], homes[now], at))
            waiting &= ~now
        return out

    def _handover(self, req: Request, cams: np.ndarray, homes: np.ndarray, at: int) -> Handover:
        clips = self._stored(req, cams)
        if at > req.issued:  # shared after a reminder: video older than retention is gone
            kept = clips.t_out >= at - int(self.retention)
            clips = Sightings(
                *(c[kept] for c in (clips.camera, clips.person, clips.t_in, clips.t_out))
            )
        return Handover(req, clips, np.unique(clips.camera), at, homes)

    def deliver(self, handed: Handover) -> None:
        """Footage reaches police (a voluntary handover once it is due): count the owners."""
        self.responders += len(handed.responders)
        self.shared_homes[self.camera_home(handed.cameras)] = True

    def reminders_sent(self, now: int) -> int:
        """Reminders sent to owners up to minute ``now``."""
        return sum(int(np.count_nonzero(r <= now)) for r in self._reminders)

    def legal(self, req: Request, active_cameras: np.ndarray) -> Handover | None:
        """Answer a legal demand (opt-out does not apply); None if the platform declines."""
        breadth = max(0.0, req.area_sq_mi / 0.5 - 1) + max(0.0, req.window_hours / 12 - 1)
        p = 1.0 if req.kind == EMERGENCY else self.compliance / (1 + self.breadth_penalty * breadth)
        kind = 0 if req.kind == LEGAL else 1  # keyed by what is asked, not by a counter
        if self.streams.uniform("platform.comply", req.incident, req.protest, kind)[0] >= p:
            return None
        cams = np.flatnonzero(self.footage.cameras_in(req.area) & active_cameras)
        clips = self._stored(req, cams)
        return Handover(req, clips, np.unique(clips.camera), req.issued)

    # ------------------------------------------------------------------ metrics

    METRICS = (
        metric("requests.owners_asked", COUNT, "owners", "Owners asked"),
        metric("requests.community", COUNT, "requests", "Community Requests"),
        metric("requests.reminders", COUNT, "reminders", "Community Request reminders"),
        metric("requests.public_posts", COUNT, "requests", "Public requests"),
        metric("requests.recipients", COUNT, "deliveries", "Request deliveries"),
        metric("requests.response_rate", FRACTION, "share of recipients", "Owners who shared"),
        metric("footage.homes_shared_fraction", FRACTION, "share of homes", "Homes that shared"),
    )  # fmt: skip

    def metrics(self, model) -> dict[str, float | int | None]:
        """The requests the platform delivered and how owners answered."""
        voluntary = sum(r.kind == VOLUNTARY for r in model.police.issued)
        owners = np.unique(model.cameras.home)
        return {
            "requests.owners_asked": int(self.asked.sum()),
            "requests.community": voluntary if self.rules.reminders else 0,
            "requests.reminders": self.reminders_sent(int(model.time)),
            "requests.public_posts": voluntary if self.rules.public else 0,
            "requests.recipients": int(self.recipients),
            "requests.response_rate": ratio(self.responders, self.recipients),
            "footage.homes_shared_fraction": ratio(self.shared_homes[owners].sum(), len(owners)),
        }
