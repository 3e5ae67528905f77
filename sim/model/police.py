"""Police: a partner agency that receives posts, stops people, and allocates attention.

The area is divided into ``police.zones_x`` x ``police.zones_y`` zones. Attention ``A_z``
(summing to 1) is re-allocated every day in proportion to a decayed count per zone plus a
prior ``police.attention_prior``; what is counted is set by ``police.allocation``:

* ``posts``: posts made in the zone, the predictive-policing feedback pattern in which
  attention follows reports (and reports follow biased reporters);
* ``incidents``: incidents known to police (reported by victims, or discovered by patrols,
  which discover more where attention is high: the runaway loop of Ensign et al. 2018). With
  ``police.discovery_correction``, an incident known only because patrols found it counts
  with probability min_y A_y / A_z (inversely proportional to its zone's patrol share: the
  paper's correction), so that what patrols find no longer feeds back; reported ones count
  always. Two zones make this the paper's urn (docs/calibration.md, the urn's fixed point);
* ``debiased``: posts, each weighted by 1 / (k_g m_z), k_g the bias for its subject's group
  and m_z the posting its zone's police presence encouraged (``presence``): the average
  reporting bias undone, and the agency's own effect on posting (Ensign et al. 2018's
  correction: each report weighted by the inverse of what attention added to it);
* ``uniform``: equal attention everywhere.

Posts count only when the agency receives them (a partnership, forwarding on): an agency that
never sees a post cannot follow posts. With ``reporting.police_presence`` > 0, residents of a
zone with more attention post more (``presence``): under ``posts`` the loop closes and
attention can run away to a few zones, as in Ensign et al. 2018's urn.

With forwarding on (and a partnership), each post in the area reaches officers, who respond by
stopping the person posted with probability ``min(1, response x Z x A_z)`` (Z zones: average
attention gives the base probability). Stops are counted by group and by whether the person
was an offender. Patrols discover an unreported incident with probability
``min(1, patrol_discovery x Z x A_z)``.

**Investigations.** A known incident is investigated as before: footage requests with
``police.request_probability`` (and follow-ups), legal demands, emergency disclosures. A
forwarded post opens an investigation with ``police.post_investigation_probability`` (keyed by
the person posted and the minute: two posts of one person in one minute are one
investigation), which seeks voluntary footage with ``police.request_probability`` around the
poster's home at the post's time; otherwise it ends with the stop decision above, or nothing.
No legal demand follows a post (a warrant needs a crime). Under a public regime, police may
forgo asking about a minor incident (package theft, car break-in) or a post
(``police.public_deterrence``).
"""

from __future__ import annotations

import mesa
import numpy as np
from scipy.special import ndtri

from sim.engine.rng import Streams, poisson_from_uniform
from sim.model.requests import EMERGENCY, LEGAL, VOLUNTARY, Handover, Platform, Request, Rules
from sim.scenario.scenario import Scenario
from sim.scenario.schema import INCIDENT_KINDS, SRC_PUBLIC, choice, flag, integer, number, share
from sim.scenario.submodel import COUNT, FRACTION, RATIO, Submodel, Zones, disparity, metric, ratio

# Sources cited only here (docs/sources.md expands them).
SRC_LEGAL = "docs/sources.md: legal demands ~1,900 (2020), 3,147 (2021); compliance 68 % / 57 %"
SRC_POST_WORK = (
    "docs/sources.md: The Markup 2023, 13,000+ posts forwarded to LAPD officers in ~26 months, "
    ">30 % about no crime; the share investigated is unpublished: sweep it"
)
SRC_PARTNERS = (
    "docs/sources.md: partner agencies 40 (2018), 405 (8/2019), 2,014 (2020), ~2,600 (2023)"
)

# fmt: off
PARAMS = (
    flag("police.partnered", True, "The local agency has a partnership with the platform (enables "
        "post forwarding).", "docs/sources.md: more than 2,000 partner agencies by 2021"),
    flag("police.forwarding", True, "Posts in the agency's area are forwarded to its officers.",
        "docs/sources.md: The Markup 2023, 13,000 posts forwarded to LAPD in 26 months"),
    number("police.response_probability", 0.1, "per post", 0, 1, "Probability that an officer "
        "responds to a forwarded post by stopping the person, in a zone with average attention."),
    choice("police.allocation", "posts", ("posts", "incidents", "debiased", "uniform"),
        "What police attention across zones follows: posts (a feedback loop), known incidents, "
        "posts reweighted to undo reporting bias (debiased), or nothing (uniform)."),
    integer("police.zones_x", 3, "zone", 1, 100, "Zones across the area (west to east)."),
    integer("police.zones_y", 2, "zone", 1, 100, "Zones down the area (south to north)."),
    number("police.attention_memory_days", 7.0, "day", 0.1, 365, "Half-life of the counts that "
        "attention follows."),
    number("police.attention_prior", 1.0, "count", 0.01, 1000, "Pseudo-count added to every zone "
        "before allocating attention."),
    share("police.patrol_discovery", 0.1, "Probability that patrols discover an unreported "
        "incident in a zone with average attention."),
    flag("police.discovery_correction", False, "Under incidents allocation, count an incident "
        "known only from patrols' discovery with probability min A / A_z (inversely proportional "
        "to its zone's attention), so that attention stops following its own discoveries; "
        "reported incidents always count.", "docs/sources.md: Ensign et al. 2018, the urn's "
        "correction (an observation kept with probability inversely proportional to the patrol "
        "share)"),
    share("police.request_probability", 0.3, "Probability that police seek voluntary footage for "
        "an incident they know of."),
    number("police.extra_requests", 0.5, "request", 0, 10, "Mean number of follow-up requests "
        "for the same incident (Poisson)."),
    number("police.request_window_hours", 8.0, "h", 0.05, 168, "Median window police want "
        "footage for (log-normal across requests)."),
    number("police.request_area_sq_mi", 0.3, "sq mi", 0.001, 50, "Median area police want "
        "footage from (log-normal across requests)."),
    number("police.request_spread", 0.6, "-", 0, 3, "Sd of the log of the windows and areas "
        "police want (some exceed the rules)."),
    number("police.request_delay_hours", 24.0, "h", 0, 720, "Time from an incident becoming "
        "known to the footage request or legal demand."),
    flag("police.reissue", True, "After a refusal, police re-issue the request within the rules "
        "(if possible)."),
    share("police.public_deterrence", 0.0, "Under a public regime (rfa, community), probability "
        "that police do not ask for footage about a minor incident (package theft, car break-in) "
        "or a post, because the request would be public.", SRC_PUBLIC),
    share("police.post_investigation_probability", 0.0, "Probability that a post forwarded to "
        "officers opens an investigation, which seeks footage (police.request_probability) of the "
        "person posted around the poster's home and the post's time.", SRC_POST_WORK),
    share("police.identification_probability", 0.2, "Probability that footage showing the "
        "offender identifies them (clears the incident).", "docs/sources.md: NBC 2020, footage "
        "rarely leads to arrests"),
    share("legal.demand_probability", 0.03, "Probability that police serve a legal demand "
        "(warrant, subpoena, order) for an incident they know of.", SRC_LEGAL),
    share("legal.compliance", 0.57, "Probability that the platform produces what a narrow demand "
        "asks for (68 % in 2019, 57 % in 2020).", SRC_LEGAL),
    number("legal.breadth_penalty", 0.5, "-", 0, 10, "Compliance is divided by 1 + this x "
        "breadth, where breadth is how far the area exceeds 0.5 sq mi and the window 12 h (in "
        "multiples)."),
    number("legal.window_hours", 12.0, "h", 0.05, 720, "Window of footage a legal demand asks "
        "for."),
    number("legal.area_sq_mi", 0.1, "sq mi", 0.001, 50, "Area a legal demand covers."),
    share("legal.emergency_probability", 0.002, "Probability of an emergency disclosure without "
        "consent for an incident police know of.", "docs/sources.md: 11 emergency disclosures, "
        "Jan-Jul 2022"),
    flag("police.partnership_curve", False, "The agency signs its partnership on a date drawn "
        "from the national S-curve (else police.partnered holds throughout).", SRC_PARTNERS),
    share("police.partnership_share", 1.0, "Share of agencies that eventually partner (the "
        "curve's plateau relative to the area's agency; 1: it partners surely, at a "
        "curve-distributed date).", SRC_PARTNERS),
)
# fmt: on

MINOR = np.array([k in ("package_theft", "car_break_in") for k in INCIDENT_KINDS])


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal; (n-1)/n: all in one)."""
    x = np.sort(np.asarray(x, float))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def urn_fixed_point(d_a: float, d_b: float, r_a: float, r_b: float) -> float:
    """Ensign et al. 2018's limit of the share of police sent to zone A of two: the urn that
    adds d_A + r_A balls of A and r_B of B when police go to A (r_A and d_B + r_B when they
    go to B) converges to the root in [0, 1] of (d_A - d_B) p^2 - (d_A - d_B - r_A - r_B) p
    - r_A. d: incidents police discover where they are sent; r: reported ones, wherever."""
    delta, rest = d_a - d_b, r_a + r_b
    if abs(delta) <= 1e-12 * max(abs(d_a), abs(d_b), rest, 1e-300):
        return r_a / rest if rest > 0 else 0.5  # discovery adds no drift: the reports' share
    return float((delta - rest + np.sqrt((delta - rest) ** 2 + 4 * delta * r_a)) / (2 * delta))


def urn_share(
    rates: tuple[float, float], reported: float, discovery: float, corrected: bool = False
) -> float:
    """Where zone A's attention settles under ``incidents`` allocation with two zones, at
    incident rates (lambda_A, lambda_B) a day: zone z adds r lambda_z reported and (1 - r) 2 D
    A_z lambda_z discovered incidents a day (r reported share, D ``patrol_discovery``, while
    2 D A_z <= 1), the urn above with d_z = (1 - r) 2 D lambda_z and r_z = r lambda_z. With
    the correction every zone adds in proportion to lambda_z: the true share."""
    lam_a, lam_b = rates
    if corrected or lam_a + lam_b == 0:
        return lam_a / (lam_a + lam_b) if lam_a + lam_b > 0 else 0.5
    found = (1 - reported) * 2 * discovery
    return urn_fixed_point(found * lam_a, found * lam_b, reported * lam_a, reported * lam_b)


class PoliceAgency(mesa.Agent, Submodel):
    """The local police agency (a Mesa agent: it decides where to look and whom to stop)."""

    name = "police"
    STATE = ("attention", "_counts", "_today", "inverse_bias")

    def __init__(
        self,
        model: mesa.Model,
        zones: Zones,
        group_bias: np.ndarray,
        params: Scenario,
        streams: Streams,
    ) -> None:
        super().__init__(model)
        self.zones = zones
        Z = zones.count
        self.streams = streams
        self.partnered = params["police.partnered"]
        self.forwarding = params["police.forwarding"]
        self.response = params["police.response_probability"]
        self.allocation = params["police.allocation"]
        self.discovery = params["police.patrol_discovery"]
        self.correction = params["police.discovery_correction"]
        self.prior = params["police.attention_prior"]
        self.daily_decay = 0.5 ** (1 / params["police.attention_memory_days"])
        self.inverse_bias = 1 / np.maximum(group_bias, 1e-9)
        self.presence_effect = params["reporting.police_presence"]
        self.attention = np.full(Z, 1 / Z)
        self._counts = np.zeros(Z)
        self._today = np.zeros(Z)
        self._attention_days: list[np.ndarray] = []
        self.posts_forwarded = 0
        self.investigations_from_posts = 0
        self.incidents_known = 0
        self._stops: list[tuple[np.ndarray, ...]] = []
        # footage requests
        self.request_probability = params["police.request_probability"]
        self.extra_requests = params["police.extra_requests"]
        self.window_hours = params["police.request_window_hours"]
        self.area_sq_mi = params["police.request_area_sq_mi"]
        self.spread = params["police.request_spread"]
        self.delay = round(params["police.request_delay_hours"] * 60)
        self.reissue = params["police.reissue"]
        self.legal_probability = params["legal.demand_probability"]
        self.emergency_probability = params["legal.emergency_probability"]
        self.legal_window = params["legal.window_hours"]
        self.legal_area = params["legal.area_sq_mi"]
        self.protest_probability = params["protest.request_probability"]
        self.post_investigation = params["police.post_investigation_probability"]
        public = Rules.of(params).public
        self.public_deterrence = params["police.public_deterrence"] if public else 0.0
        self.n_people = model.population.count  # posts' investigations are keyed by person
        # (due, kind, incident, protest, post, x, y, t_event, w, a)
        self._plans: list[tuple] = []
        self._per_case: dict[tuple[int, int], int] = {}  # voluntary requests per incident/post
        self._next_request = 0
        self.refused: dict[str, int] = {}
        self.deterred = 0  # voluntary requests forgone because they would be public
        self.planned_voluntary = 0  # voluntary requests police set out to make
        self.issued: list[Request] = []
        self.handovers: list[Handover] = []
        self._due: list[Handover] = []  # voluntary footage shared later (after reminders)

    @property
    def receives_posts(self) -> bool:
        return bool(self.partnered and self.forwarding)

    def _boost(self, zone: np.ndarray) -> np.ndarray:
        return self.zones.count * self.attention[zone]

    def presence(self) -> np.ndarray:
        """Per zone, how police presence multiplies posting: max(0, 1 + e (Z A_z - 1))."""
        return np.maximum(0.0, 1 + self.presence_effect * (self._boost(slice(None)) - 1))

    def on_posts(
        self,
        now: int,
        zone: np.ndarray,
        poster: np.ndarray,
        person: np.ndarray,
        person_group: np.ndarray,
        poster_xy: np.ndarray,
    ) -> int:
        """Posts made this minute: those the agency receives count for attention, may be
        answered by a stop, and may open an investigation. Returns the number of stops."""
        if not self.receives_posts:
            return 0
        if self.allocation == "posts":
            self._today += np.bincount(zone, minlength=self.zones.count)
        elif self.allocation == "debiased":
            weight = self.inverse_bias[person_group[person]] / np.maximum(
                self.presence()[zone], 1e-9
            )
            self._today += np.bincount(zone, weights=weight, minlength=self.zones.count)
        self.posts_forwarded += len(zone)
        p = np.minimum(1.0, self.response * self._boost(zone))
        stop = self.streams.uniform("police.respond", poster, person, now) < p
        if np.any(stop):
            self._stops.append((np.full(int(stop.sum()), now, np.int64), person[stop], zone[stop]))
        if self.post_investigation > 0:
            self._investigate_posts(now, person, poster_xy)
        return int(stop.sum())

    def _investigate_posts(self, now: int, person: np.ndarray, xy: np.ndarray) -> None:
        """Forwarded posts that open an investigation: plan their footage requests."""
        key = now * max(self.n_people, 1) + person.astype(np.int64)
        key, first = np.unique(key, return_index=True)  # one investigation per person-minute
        opened = self.streams.uniform("police.post_investigate", key) < self.post_investigation
        self.investigations_from_posts += int(opened.sum())
        for k, (x, y) in zip(key[opened].tolist(), xy[first[opened]].tolist(), strict=True):
            self._plan_voluntary(now + self.delay, -1, k, x, y, now, minor=True)

    def on_incidents(
        self, now: int, zone: np.ndarray, person: np.ndarray, reported: np.ndarray
    ) -> np.ndarray:
        """Incidents this minute: which become known (reported, or found by patrols)."""
        u = self.streams.uniform("police.discover", person, now)
        found = u < np.minimum(1.0, self.discovery * self._boost(zone))
        known = reported | found
        self.incidents_known += int(known.sum())
        if self.allocation == "incidents":
            counted = known
            if self.correction:
                counted = reported | (found & self._corrected(now, person, zone))
            self._today += np.bincount(zone[counted], minlength=self.zones.count)
        return known

    def _corrected(self, now: int, person: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Ensign et al. 2018's correction: keep a discovery with probability inversely
        proportional to its zone's patrol share (min_y A_y / A_z), so that every zone adds
        discoveries in proportion to its crime alone."""
        keep = self.attention.min() / np.maximum(self.attention[zone], 1e-300)
        return self.streams.uniform("police.correction", person, now) < keep

    # ------------------------------------------------------------------ footage requests

    def _desired(self, name: str, median: float, key) -> float:
        u = np.clip(self.streams.uniform(name, key)[0], 1e-12, 1 - 1e-12)
        return float(median * np.exp(self.spread * ndtri(u)))

    def investigate(
        self,
        now: int,
        incident_ids: np.ndarray,
        xy: np.ndarray,
        minutes: np.ndarray,
        kinds: np.ndarray | None = None,
    ) -> None:
        """Plan footage requests for incidents that just became known."""
        s = self.streams
        due = now + self.delay
        minor = MINOR[kinds] if kinds is not None else np.zeros(len(incident_ids), bool)
        for i, (x, y), t, small in zip(
            incident_ids.tolist(), xy.tolist(), minutes.tolist(), minor.tolist(), strict=True
        ):
            self._plan_voluntary(due, i, -1, x, y, t, small)
            if s.uniform("police.legal", i)[0] < self.legal_probability:
                self._plans.append(
                    (due, LEGAL, i, -1, -1, x, y, t, self.legal_window, self.legal_area, 0)
                )
            if s.uniform("police.emergency", i)[0] < self.emergency_probability:
                self._plans.append(
                    (now, EMERGENCY, i, -1, -1, x, y, t, self.legal_window, self.legal_area, 0)
                )

    def _plan_voluntary(
        self, due: int, incident: int, post: int, x: float, y: float, t: int, minor: bool
    ) -> None:
        """Maybe seek voluntary footage of an incident (or, ``post`` >= 0, a post's
        investigation): a first request and Poisson follow-ups an hour apart. Keyed by the
        incident or the post, so that regimes stay paired."""
        s = self.streams
        tag, key = ("police", incident) if post < 0 else ("police.post", post)
        if not self.partnered or s.uniform(f"{tag}.request", key)[0] >= self.request_probability:
            return
        n = 1 + poisson_from_uniform(s.uniform(f"{tag}.extra", key)[0], self.extra_requests)
        deterred = s.uniform("police.deterred", incident, post)[0] < self.public_deterrence
        if minor and deterred:
            self.deterred += n
            return
        for k in range(n):
            w = self._desired(f"{tag}.window", self.window_hours, key * 64 + k)
            a = self._desired(f"{tag}.area", self.area_sq_mi, key * 64 + k)
            self._plans.append((due + k * 60, VOLUNTARY, incident, -1, post, x, y, t, w, a, k))

    def plan_protest(self, protest) -> None:
        """Maybe ask for footage of a protest, after it ends."""
        if not self.partnered:
            return
        if self.streams.uniform("police.protest", protest.id)[0] >= self.protest_probability:
            return
        # the gathering and half an hour either side: people arriving and leaving are the ones
        # cameras record (participants standing at the venue are not walking past any)
        margin = 30
        hours = (protest.t1 - protest.t0 + 2 * margin) / 60
        a = self._desired("police.protest_area", self.area_sq_mi, protest.id)
        self._plans.append(
            (
                protest.t1 + self.delay,
                VOLUNTARY,
                -1,
                protest.id,
                -1,
                protest.x,
                protest.y,
                protest.t0 - margin,
                hours,
                a,
                0,
            )
        )

    def make_requests(self, now: int, platform: Platform, active: np.ndarray, feed=None) -> None:
        """Issue the requests that are due (checked against the rules), collect what is
        handed over, and deliver the footage shared after reminders that is now due.
        ``feed(x, y)``: shows a public request in the app's feed."""
        if self._due:
            ready = [h for h in self._due if h.minute <= now]
            self._due = [h for h in self._due if h.minute > now]
            for handed in ready:
                platform.deliver(handed)
                self.handovers.append(handed)
        due = [p for p in self._plans if p[0] <= now]
        if not due:
            return
        self._plans = [p for p in self._plans if p[0] > now]
        rules = platform.rules
        for _, kind, incident, protest, post, x, y, t_event, w, a, seq in due:
            if kind == VOLUNTARY and not rules.voluntary:
                continue  # no voluntary channel in this regime: nothing to ask or refuse
            self.planned_voluntary += kind == VOLUNTARY
            if kind != VOLUNTARY:
                req = self._request(kind, incident, protest, -1, x, y, t_event, w, a, now, seq)
                handed = platform.legal(req, active)
                if handed is not None:
                    self.handovers.append(handed)
                continue
            case = (0, incident) if incident >= 0 else (1, post) if post >= 0 else None
            before = self._per_case.get(case, 0) if case else 0
            reason = rules.refusal(w, a, before, protest >= 0)
            if reason is not None:
                self.refused[reason] = self.refused.get(reason, 0) + 1
                if not self.reissue or reason in ("protest", "per-incident cap"):
                    continue
                w, a = rules.within(w, a)
                if rules.refusal(w, a, before, protest >= 0) is not None:
                    continue
            req = self._request(VOLUNTARY, incident, protest, post, x, y, t_event, w, a, now, seq)
            if case:
                self._per_case[case] = before + 1
            if rules.public and feed is not None:
                feed(x, y)
            for handed in platform.voluntary(req, active):
                if handed.minute <= now:
                    platform.deliver(handed)
                    self.handovers.append(handed)
                else:
                    self._due.append(handed)

    def _request(self, kind, incident, protest, post, x, y, t_event, w, a, now, seq) -> Request:
        minutes = round(w * 60)
        if protest >= 0:
            t0, t1 = t_event, t_event + minutes
        else:  # mostly before the incident (or the post), some after
            t0 = t_event - round(0.75 * minutes)
            t1 = t0 + minutes
        req = Request(
            self._next_request,
            kind,
            incident,
            protest,
            x,
            y,
            w,
            a,
            max(t0, 0),
            min(t1, now),
            now,
            post,
            seq,
        )
        self._next_request += 1
        self.issued.append(req)
        return req

    def step(self) -> None:
        """Once a day: re-allocate attention from the decayed counts."""
        self._attention_days.append(self.attention.copy())
        self._counts = self._counts * self.daily_decay + self._today
        self._today = np.zeros(self.zones.count)
        if self.allocation == "uniform":
            return
        w = self._counts + self.prior
        self.attention = w / w.sum()

    def stops(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(minute, person, zone) of every stop."""
        if not self._stops:
            z = np.zeros(0, np.int64)
            return z, z, z
        return tuple(np.concatenate(c) for c in zip(*self._stops, strict=True))

    def attention_gini(self) -> float:
        """Gini of the attention across zones, averaged over the days so far."""
        days = [*self._attention_days, self.attention]
        return gini(np.mean(days, axis=0))

    def sign_partnership(self, partnered: bool = True) -> None:
        """The agency signs (or, at the start, has not yet signed) the partnership."""
        self.partnered = partnered

    # ------------------------------------------------------------------ bystanders

    def bystanders(self, offender_of: dict, offender: np.ndarray):
        """For each handover, the bystanders in its footage (``bystanders_of``; a person once
        per sighting): the one definition of ``footage.bystanders.*`` and of the time
        series' bystanders. ``offender_of``: incident id -> its offender
        (``Incidents.offender_of``)."""
        for h in self.handovers:
            yield h, bystanders_of(h.request, h.sightings.person, offender_of, offender)

    def handover_bystanders(self, offender_of: dict, offender: np.ndarray) -> np.ndarray:
        """Whether each person is a bystander in some footage handed to police."""
        out = np.zeros(len(offender), bool)
        for _, people in self.bystanders(offender_of, offender):
            out[people] = True
        return out

    # ------------------------------------------------------------------ metrics

    METRICS = (
        metric("incidents.known_to_police", COUNT, "incidents", "Incidents known to police"),
        metric("incidents.cleared_fraction", FRACTION, "share of incidents", "Incidents cleared"),
        metric("police.stops", COUNT, "stops", "Police stops"),
        metric("police.stops.<group>", COUNT, "stops", "Police stops (<group>)"),
        metric("police.stop_disparity_ratio", RATIO, "minority / first group", "Stop disparity"),
        metric("police.stops_offender_fraction", FRACTION, "share of stops", "Stops of offenders"),
        metric("police.posts_forwarded", COUNT, "posts", "Posts forwarded to police"),
        metric("police.attention_gini", FRACTION, "Gini coefficient", "Concentration of attention"),
        metric("police.attention_gini_final", FRACTION, "Gini coefficient",
               "Concentration of attention at the end"),
        metric("police.investigations_from_posts", COUNT, "investigations",
               "Investigations from posts"),
        metric("police.partnered", FRACTION, "1 = partnered", "Agency partnered"),
        metric("requests.voluntary", COUNT, "requests", "Voluntary requests"),
        metric("requests.from_posts", COUNT, "requests", "Requests from posts"),
        metric("requests.deterred", COUNT, "requests", "Requests forgone as public"),
        metric("requests.refused", COUNT, "requests", "Requests refused"),
        metric("requests.legal", COUNT, "demands", "Legal demands"),
        metric("requests.emergency", COUNT, "disclosures", "Emergency disclosures"),
        metric("requests.protest", COUNT, "requests", "Protest requests"),
        metric("footage.clips_shared", COUNT, "clips", "Clips shared voluntarily"),
        metric("footage.clips_from_posts", COUNT, "clips", "Clips for requests from posts"),
        metric("footage.legal_clips", COUNT, "clips", "Clips produced for legal demands"),
        metric("footage.legal_content_fraction", FRACTION, "share of demands",
               "Demands with video"),
        metric("footage.incidents_with_footage_fraction", FRACTION, "share of incidents",
               "Incidents with footage"),
        metric("footage.bystanders.<group>", COUNT, "people", "Bystanders in video (<group>)"),
        metric("footage.bystanders_from_posts.<group>", COUNT, "people",
               "Bystanders in video from posts (<group>)"),
        metric("footage.bystander_disparity_ratio", RATIO, "minority / first group",
               "Bystander disparity"),
        metric("privacy.protest_participants_exposed", COUNT, "people",
               "Protesters in police video"),
    )  # fmt: skip

    def metrics(self, model) -> dict[str, float | int | None]:
        """Stops, attention, the requests police made and the footage (and bystanders) they
        obtained ("minority": every group but the first)."""
        names = model.world.group_names
        G = len(names)
        group, offender = model.population.group, model.population.offender
        _, stopped, _ = self.stops()
        stops = np.bincount(group[stopped], minlength=G)
        size = np.bincount(group, minlength=G)
        out: dict[str, float | int | None] = {
            "incidents.known_to_police": int(self.incidents_known),
            **{f"police.stops.{name}": int(stops[g]) for g, name in enumerate(names)},
            "police.stops": int(stops.sum()),
            "police.stop_disparity_ratio": disparity(stops, size),
            "police.stops_offender_fraction": ratio(
                np.count_nonzero(offender[stopped]), len(stopped)
            ),
            "police.posts_forwarded": int(self.posts_forwarded),
            "police.attention_gini": self.attention_gini(),
            "police.attention_gini_final": gini(self.attention),
            "police.investigations_from_posts": int(self.investigations_from_posts),
            "police.partnered": int(bool(self.partnered)),
        }
        issued = self.issued
        voluntary = [h for h in self.handovers if h.request.kind == VOLUNTARY]
        legal = [h for h in self.handovers if h.request.kind == LEGAL]
        out["requests.voluntary"] = sum(r.kind == VOLUNTARY for r in issued)
        out["requests.refused"] = int(sum(self.refused.values()))
        out["requests.legal"] = sum(r.kind == LEGAL for r in issued)
        out["requests.emergency"] = sum(r.kind == EMERGENCY for r in issued)
        out["requests.protest"] = sum(r.kind == VOLUNTARY and r.protest >= 0 for r in issued)
        out["requests.from_posts"] = sum(r.kind == VOLUNTARY and r.post >= 0 for r in issued)
        out["requests.deterred"] = int(self.deterred)
        out["footage.clips_shared"] = int(sum(len(h.cameras) for h in voluntary))
        out["footage.clips_from_posts"] = int(
            sum(len(h.cameras) for h in voluntary if h.request.post >= 0)
        )
        out["footage.legal_clips"] = int(sum(len(h.cameras) for h in legal))
        out["footage.legal_content_fraction"] = ratio(
            sum(len(h.cameras) > 0 for h in legal), out["requests.legal"]
        )
        # incidents with footage, and cleared through it; the bystanders it exposed
        offender_of = model.incidents.offender_of()
        with_footage, cleared = set(), set()
        bystanders = np.zeros(len(group), bool)
        from_posts = np.zeros(len(group), bool)  # in footage asked for posts' investigations
        protesters = np.zeros(len(group), bool)
        participants = {p.id: p.participants for p in model.protests.protests}
        identify = model.params["police.identification_probability"]
        for h, people in self.bystanders(offender_of, offender):
            inc = h.request.incident
            if inc >= 0 and len(h.sightings.person):
                with_footage.add(inc)
                seen = offender_of[inc] in h.sightings.person
                if seen and self.streams.uniform("police.identify", inc)[0] < identify:
                    cleared.add(inc)
            if inc < 0 and h.request.post >= 0:
                from_posts[people] = True
            if h.request.protest >= 0:
                protesters[np.intersect1d(people, participants[h.request.protest])] = True
            bystanders[people] = True
        out["footage.incidents_with_footage_fraction"] = ratio(
            len(with_footage), self.incidents_known
        )
        out["incidents.cleared_fraction"] = ratio(len(cleared), len(offender_of))
        counts = np.bincount(group[bystanders], minlength=G)
        posted = np.bincount(group[from_posts], minlength=G)
        for g, name in enumerate(names):
            out[f"footage.bystanders.{name}"] = int(counts[g])
            out[f"footage.bystanders_from_posts.{name}"] = int(posted[g])
        out["footage.bystander_disparity_ratio"] = disparity(counts, size)
        out["privacy.protest_participants_exposed"] = int(protesters.sum())
        return out


def bystanders_of(request, people: np.ndarray, offender_of: dict, offender: np.ndarray):
    """The bystanders among the people in footage handed over for ``request``: everyone but
    the offender of the incident it was asked for, or the person posted if an offender."""
    if request.incident >= 0:
        return people[people != offender_of[request.incident]]
    if request.post >= 0:
        subject = request.post % len(offender)
        if offender[subject]:
            return people[people != subject]
    return people
