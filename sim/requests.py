"""Footage requests under the platform's rules: regimes, rule checks, and the platform itself.

**Regimes** (``requests.regime``) set the rules; every rule key can be overridden on its own
(a rule key's value ``"regime"`` takes the regime's value):

======================  =========  ==========  =========
rule                    portal     rfa         none
======================  =========  ==========  =========
voluntary requests      yes        yes         no
max_window_hours        12         12          -
min_window_minutes      0          15          -
max_area_sq_mi          0.785      0.5         -
min_area_sq_mi          0          0.025       -
max_per_incident        no cap     2           -
public                  no         yes         -
allow_protest           yes        no          -
======================  =========  ==========  =========

(portal: devices within a half-mile radius, pi x 0.5^2 = 0.785 sq mi.)

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

from sim.footage import Circle, FootageStore, Sightings
from sim.rng import Streams
from sim.scenario import Scenario
from sim.schema import FROM_REGIME, REGIME_RULES, RULE_KEYS

SQ_M_PER_SQ_MI = 1609.344**2
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

    @staticmethod
    def of(params: Scenario) -> Rules:
        regime = params["requests.regime"]
        values = []
        for key, default in zip(RULE_KEYS, REGIME_RULES[regime], strict=True):
            v = params[f"requests.{key}"]
            values.append(default if v == FROM_REGIME else v)
        return Rules(regime != "none", *values)

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
    incident: int  # incident id, or -1 for a protest
    protest: int  # protest id, or -1
    x: float
    y: float
    window_hours: float
    area_sq_mi: float
    t0: int  # window, minutes (inclusive)
    t1: int
    issued: int

    @property
    def area(self) -> Circle:
        return Circle(self.x, self.y, math.sqrt(self.area_sq_mi * SQ_M_PER_SQ_MI / math.pi))


@dataclass
class Handover:
    """Footage handed to police for one request: the sightings and the cameras they came
    from (one clip per camera with at least one sighting)."""

    request: Request
    sightings: Sightings
    cameras: np.ndarray


class Platform(mesa.Agent):
    """The camera platform: enforces the request rules and holds subscribers' video."""

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
        self.share_probability = params["requests.share_probability"]
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
        self.responders = 0
        self.shared_homes = np.zeros(n_homes, bool)

    def _stored(self, req: Request, cameras: np.ndarray) -> Sightings:
        """Video the cloud holds for a request: subscribers without E2EE, within retention."""
        found = self.footage.query(
            max(req.t0, req.issued - int(self.retention)), req.t1, req.area, cameras
        )
        home = self.camera_home(found.camera)
        keep = self.subscribed[home] & ~self.e2ee[home]
        return Sightings(*(c[keep] for c in (found.camera, found.person, found.t_in, found.t_out)))

    def voluntary(self, req: Request, active_cameras: np.ndarray) -> Handover:
        """Pass a request to the owners in the area who did not opt out; return what the
        owners who respond share (every sighting their camera holds in the window)."""
        in_area = self.footage.cameras_in(req.area)
        cams = np.flatnonzero(in_area & active_cameras)
        homes = self.camera_home(cams)
        receive = ~self.opted_out[homes]
        cams, homes = cams[receive], homes[receive]
        self.recipients += len(cams)
        share = self.always_share[homes] | (
            # keyed by what is asked (not a request counter), so regimes stay paired
            self.streams.uniform("owner.share", homes, req.incident, req.protest, req.t0, req.t1)
            < self.share_probability
        )
        self.responders += int(share.sum())
        clips = self._stored(req, cams[share])
        shared_cams = np.unique(clips.camera)
        self.shared_homes[self.camera_home(shared_cams)] = True
        return Handover(req, clips, shared_cams)

    def legal(self, req: Request, active_cameras: np.ndarray) -> Handover | None:
        """Answer a legal demand (opt-out does not apply); None if the platform declines."""
        breadth = max(0.0, req.area_sq_mi / 0.5 - 1) + max(0.0, req.window_hours / 12 - 1)
        p = 1.0 if req.kind == EMERGENCY else self.compliance / (1 + self.breadth_penalty * breadth)
        kind = 0 if req.kind == LEGAL else 1  # keyed by what is asked, not by a counter
        if self.streams.uniform("platform.comply", req.incident, req.protest, kind)[0] >= p:
            return None
        cams = np.flatnonzero(self.footage.cameras_in(req.area) & active_cameras)
        clips = self._stored(req, cams)
        return Handover(req, clips, np.unique(clips.camera))
