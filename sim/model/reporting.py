"""Motion alerts, "suspicious person" posts in a Neighbors-style app, the feed, and fear.

**Alerts.** An owner gets a motion alert each time their camera records someone, unless the
owner muted alerts (``reporting.alert_settings``). Owners alerted on all motion also get alerts
from cars and animals, which feed fear but show no one to post.

**Posts.** For each alert, the owner posts the person as suspicious with probability

    p = base x stranger^[not a neighbour] x b(h, g) x (1 + fear_multiplier x fear_h)
          x incident^[seen offending]

capped at 1, times the police presence in the poster's zone, ``max(0, 1 + e (Z A_z - 1))``
(``reporting.police_presence`` = e; 1 when e = 0 or attention is even; it changes only
between days, when the agency re-allocates). App users without a camera post about people
passing their window, with the probability above times ``reporting.direct_rate``.
``b(h, g) = max(0, 1 + (k_g - 1) m_h gate_h)`` is household h's multiplier for group g:
``k_g`` is the group's bias (``reporting.bias`` for every group but the first, or
``reporting.bias_by_group``), ``m_h`` the household's own factor (log-normal with mean 1, sd
of the log ``reporting.bias_spread``), and ``gate_h = 1 + gatekeeping x max(0, s_h - 1/2)``
where ``s_h`` is the first group's share of the homes within ``reporting.area_m`` ("racial
gatekeeping" in majority areas). With ``k_g = 1`` nobody is biased, whatever the spread.
Each decision uses a keyed random number (poster, person, minute), so a run with more fear
makes a superset of the posts of a run with less.

**Feed and fear.** Every hour, fear decays with half-life ``feed.fear_half_life_days``; each
app user's fear grows by ``feed.fear_per_post`` for every post made within
``feed.radius_miles`` of their home in the past hour that they read (at most
``feed.posts_read_per_day`` a day: a 5-mile feed covers a whole town, and unlimited reading
would make fear grow with the size of the world; a public footage request is read before the
posts, within the same budget, adding ``feed.fear_per_request``: ``public_request``), and
each owner's by
``feed.fear_per_alert`` for each alert. Both feedbacks can be switched off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numba
import numpy as np
from scipy.spatial import cKDTree

from sim.engine.rng import Streams, draw3
from sim.scenario.scenario import Scenario
from sim.scenario.schema import (
    ALERT_SETTINGS,
    GROUP_TABLE,
    SRC_ASSUMPTION,
    SRC_PUBLIC,
    Param,
    flag,
    number,
    share,
)
from sim.scenario.submodel import (
    AMOUNT,
    COUNT,
    FRACTION,
    RATIO,
    REAL,
    Submodel,
    disparity,
    majority_slope,
    majority_slope_se,
    metric,
    ratio,
)
from sim.world.world import Homes

# Sources cited only here (docs/sources.md expands them).
SRC_VICE = "docs/sources.md: VICE 2019, most people posted as suspicious were people of colour"
SRC_CALACCI = "docs/sources.md: Calacci, Shen & Pentland 2022, racial gatekeeping at area borders"
SRC_FEED = "docs/sources.md: Neighbors default feed radius 5 miles (2019)"
SRC_ENSIGN = (
    "docs/sources.md: Ensign et al. 2018, runaway feedback loops in predictive policing; "
    "magnitude unknown: sweep it"
)

# fmt: off
PARAMS = (
    number("reporting.base_rate", 0.00002, "per alert", 0, 1, "Probability that an owner posts "
        "the person in a motion alert as suspicious, for a local of the reference group, no fear, "
        "nothing happening.", "free parameter; order of magnitude from docs/sources.md (The "
        "Markup: ~13,000 posts forwarded to LAPD in 26 months; VICE: >100 posts in two months "
        "within 5 miles)"),
    number("reporting.stranger_multiplier", 3.0, "-", 0, 100, "Posting multiplier when the "
        "person does not live within reporting.neighbour_m of the poster."),
    number("reporting.neighbour_m", 150.0, "m", 0, 5000, "Residents living this close to a "
        "poster's home are neighbours, not strangers."),
    number("reporting.bias", 2.0, "-", 0, 100, "Posting multiplier for people of every group but "
        "the first (the minority in the default world): the owners' reporting bias.", SRC_VICE),
    Param("reporting.bias_by_group", GROUP_TABLE, {}, "-", "Per-group posting multipliers; "
        "overrides reporting.bias for the groups it names (the first group's multiplier is 1 "
        "unless named).", SRC_ASSUMPTION, 0, 100),
    number("reporting.bias_spread", 0.5, "-", 0, 3, "Spread between households of the bias: sd "
        "of the log of each household's multiplier on the bias (0: every owner the same)."),
    number("reporting.gatekeeping", 1.0, "-", 0, 10, "Extra bias of owners in areas where the "
        "first group is the majority: the bias multiplier grows by this factor times the local "
        "share of the first group above one half.", SRC_CALACCI),
    number("reporting.area_m", 300.0, "m", 10, 5000, "Radius of the area whose group make-up sets "
        "an owner's gatekeeping.", SRC_CALACCI),
    number("reporting.incident_multiplier", 40.0, "-", 1, 10000, "Posting multiplier when the "
        "person is seen committing an incident (signal)."),
    share("reporting.victim_post_probability", 0.0, "Probability that an app-using household "
        "posts about an incident that happened to it (a post about a crime, naming the offender), "
        "right after the incident.", "free parameter; docs/sources.md: The Markup 2023, under 70 "
        "% of forwarded posts described a crime (0: off, the behaviour before this mechanism; "
        "see scenarios/calibrated.toml)"),
    number("reporting.fear_multiplier", 1.0, "-", 0, 100, "Posting multiplier per unit of the "
        "poster's fear: p = p0 (1 + this x fear)."),
    share("reporting.direct_rate", 0.2, "Posting rate of residents without cameras relative to "
        "camera owners, for people passing their window."),
    number("reporting.window_view_m", 10.0, "m", 0, 100, "Half-width of the stretch of street a "
        "resident without a camera sees from home."),
    number("reporting.police_presence", 0.0, "-", 0, 10, "Police presence encourages posting: p "
        "is multiplied by max(0, 1 + this x (Z A_z - 1)), A_z the attention of the poster's zone "
        "(Z zones), so that under posts allocation attention can run away; 0: no feedback.",
        SRC_ENSIGN),
    share("reporting.alert_settings.all_motion", 0.5, "Share of owners alerted for all motion "
        "(people, cars, animals)."),
    share("reporting.alert_settings.people_only", 0.35, "Share of owners alerted for people only."),
    share("reporting.alert_settings.muted", 0.15, "Share of owners who muted alerts (no alerts, "
        "so no posts from the camera)."),
    number("reporting.other_motion_per_day", 6.0, "alert/day", 0, 500,
        "Alerts a day from cars and animals for owners alerted on all motion (feed fear only)."),
    number("feed.radius_miles", 5.0, "mile", 0.05, 50, "App users see posts within this distance "
        "of their home.", SRC_FEED),
    share("feed.app_share", 0.3, "Share of households without a camera that use the app (owners "
        "always do).", "docs/sources.md: ~10 million monthly Neighbors users (2020); share is an "
        "assumption"),
    flag("feed.posts_feedback", True, "Reading nearby posts raises fear.",
        "switch"),
    flag("feed.alerts_feedback", True, "Frequent motion alerts raise an owner's fear (home under "
        "siege).", "switch"),
    number("feed.fear_per_post", 0.02, "fear/post", 0, 10, "Fear added by each post a user sees "
        "in the feed."),
    number("feed.posts_read_per_day", 20.0, "post/day", 0, 1e6, "Most posts an app user reads in "
        "a day (limited attention); posts seen beyond it add no fear. The feed's radius can "
        "cover a whole town: without a limit, fear would grow with the size of the world and run "
        "away."),
    number("feed.fear_per_request", 0.0, "fear/request", 0, 10, "Fear added by each public "
        "footage request (rfa, community) a user reads in the feed, read before posts within the "
        "same daily budget; 0: requests add no fear; feed.fear_per_post's value reads them like a "
        "post.", SRC_PUBLIC),
    number("feed.fear_per_alert", 0.002, "fear/alert", 0, 10, "Fear added by each motion alert "
        "an owner receives."),
    number("feed.fear_half_life_days", 3.0, "day", 0.01, 365, "Half-life of fear."),
    number("feed.cell_m", 100.0, "m", 10, 5000, "Grid cell for spreading posts to feeds (the feed "
        "radius is applied cell to cell).", "numerical setting"),
)
# fmt: on

MUTED = ALERT_SETTINGS.index("muted")
ALL_MOTION = ALERT_SETTINGS.index("all_motion")
METRES_PER_MILE = 1609.344


def group_bias(params: Scenario) -> np.ndarray:
    """k_g for every group: 1 for the first, reporting.bias for the others, then overrides."""
    names = params.group_names
    k = np.full(len(names), params["reporting.bias"])
    k[0] = 1.0
    for name, value in params["reporting.bias_by_group"].items():
        k[names.index(name)] = value
    return k


@dataclass
class PostLog:
    """Posts so far (columns of equal length)."""

    minute: np.ndarray
    poster: np.ndarray  # home
    person: np.ndarray
    about_incident: np.ndarray  # bool
    by_camera: np.ndarray  # bool: from a camera alert (else a window, or a victim)

    def __len__(self) -> int:
        return len(self.minute)


@dataclass
class _Reviews:
    """Planned posting decisions that may post, by minute (columns of equal length)."""

    minute: np.ndarray
    home: np.ndarray
    person: np.ndarray
    t_in: np.ndarray  # the minute the person was first seen
    u: np.ndarray  # the keyed uniform: a post if below p
    by_camera: np.ndarray  # bool: a camera's clip (else a window)

    @staticmethod
    def none() -> _Reviews:
        z = np.zeros(0, np.int64)
        return _Reviews(z, z, z, z, np.zeros(0), np.zeros(0, bool))


class Reporting(Submodel):
    """Alerts, posts, the feed and every household's fear."""

    name = "reporting"
    STATE = (
        *("bias", "majority_share", "alert_setting", "app_user_no_camera", "_fear", "presence"),
        *("recordings", "_read_left", "_bias_max"),
    )

    def __init__(
        self,
        homes: Homes,
        person_home: np.ndarray,
        person_group: np.ndarray,
        params: Scenario,
        streams: Streams,
    ) -> None:
        rng = streams.generator("reporting")
        self.streams = streams
        self.homes = homes
        self.person_home = person_home
        self.person_group = person_group
        n_groups = len(params.group_names)
        H = homes.count
        self.base = params["reporting.base_rate"]
        self.stranger_mult = params["reporting.stranger_multiplier"]
        self.neighbour_m = params["reporting.neighbour_m"]
        self.incident_mult = params["reporting.incident_multiplier"]
        self.fear_mult = params["reporting.fear_multiplier"]
        self.direct_rate = params["reporting.direct_rate"]
        self.victim_post_probability = params["reporting.victim_post_probability"]
        # household multipliers b(h, g)
        k = group_bias(params)
        sigma = params["reporting.bias_spread"]
        m = rng.lognormal(-(sigma**2) / 2, sigma, H)
        radius = params["reporting.area_m"]
        near = cKDTree(homes.xy).query_ball_point(homes.xy, radius, return_length=True)
        in_first = homes.xy[homes.group == 0]
        first = (
            cKDTree(in_first).query_ball_point(homes.xy, radius, return_length=True)
            if len(in_first)
            else np.zeros(H)
        )
        self.majority_share = first / np.maximum(near, 1)
        gate = 1 + params["reporting.gatekeeping"] * np.maximum(0, self.majority_share - 0.5)
        self.bias = np.maximum(0, 1 + (k[None, :] - 1) * (m * gate)[:, None])  # (H, G)
        shares = np.array([params[f"reporting.alert_settings.{a}"] for a in ALERT_SETTINGS])
        self.alert_setting = rng.choice(
            len(ALERT_SETTINGS), size=H, p=shares / shares.sum()
        ).astype(np.int8)  # small enough to stay in cache when looked up for every sighting
        self.app_user_no_camera = rng.random(H) < params["feed.app_share"]
        self._fear = np.zeros(H)  # changed by ``hourly`` alone (read: ``fear``)
        # police presence in each home's zone (posting multiplier, set daily: ``set_presence``)
        self.presence = np.ones(H)
        self.presence_max = 1.0  # the most presence can reach (bounds the window caps)
        # feed and fear dynamics
        self.posts_feedback = params["feed.posts_feedback"]
        self.alerts_feedback = params["feed.alerts_feedback"]
        self.fear_per_post = params["feed.fear_per_post"]
        self.fear_per_request = params["feed.fear_per_request"]
        self.fear_per_alert = params["feed.fear_per_alert"]
        self.hourly_decay = 0.5 ** (1 / (24 * params["feed.fear_half_life_days"]))
        self.read_per_day = params["feed.posts_read_per_day"]
        self._read_left = np.full(H, self.read_per_day)  # posts each user may still read today
        self._hours = 0
        self.other_alerts_per_hour = params["reporting.other_motion_per_day"] / 24
        self._grid = _FeedGrid(
            homes.xy, params["feed.cell_m"], params["feed.radius_miles"] * METRES_PER_MILE
        )
        self._alerts_hour: list[np.ndarray] = []  # homes alerted this hour, minute by minute
        self._posts_hour: list[np.ndarray] = []
        self._requests_hour: list[tuple[float, float]] = []  # public requests this hour
        # alerts whose clip ends after the minutes planned so far (home, person, t_in, the
        # minute the clip ends), in the order they came
        z = np.zeros(0, np.int64)
        self._open = (z, z, z, z)
        self._reviews = _Reviews.none()  # the planned minutes' decisions that may post
        self._bias_max = self.bias.max(axis=1)  # bounds p before the exact computation
        # counters
        self.recordings = np.zeros(n_groups, np.int64)  # camera recordings by group
        self.alerts = 0
        self.victim_posts = 0  # posts by victims about their own incidents
        self._log: list[tuple[np.ndarray, ...]] = []

    def install_app(self, homes: np.ndarray) -> np.ndarray:
        """These households (without a camera) install the app and read the feed; returns
        those that did not have it already."""
        new = homes[~self.app_user_no_camera[homes]]
        self.app_user_no_camera[new] = True
        return new

    @property
    def fear(self) -> np.ndarray:
        """Each household's fear (read-only: it changes only in ``hourly``, on the hour, and
        the posting plans rely on that)."""
        view = self._fear.view()
        view.flags.writeable = False
        return view

    def app_user(self, has_camera: np.ndarray) -> np.ndarray:
        """Households that read the feed: camera owners and some others."""
        return has_camera | self.app_user_no_camera

    def on_walked(self, camera_home: np.ndarray, by_group: np.ndarray) -> None:
        """Count recordings (``by_group``: of the person's group) and the owners' alerts
        (unless muted)."""
        self.recordings += by_group
        alerted = camera_home[self.alert_setting[camera_home] != MUTED]
        self.alerts += len(alerted)
        if self.alerts_feedback and len(alerted):
            self._alerts_hour.append(alerted)

    def plan_reviews(
        self, start: int, stop: int, walked, has_camera: np.ndarray, may_offend: np.ndarray
    ) -> np.ndarray:
        """Decide ahead which posting decisions of minutes ``start`` to ``stop - 1`` may post,
        and return those minutes (sorted).

        An owner looks at a clip when its motion event ends (so it shows all that happened);
        people seen from a window are judged at once. Until ``stop`` (the end of an hour)
        every factor of p is fixed but one: whether the person was seen offending, which
        incidents in those minutes decide. For people who never offend (``may_offend``
        false) the decision is therefore made now, exactly; the others wait for
        ``review``. Alerts whose clip ends later are kept for the next plan. Decisions
        planned earlier for minutes from ``start`` on are planned again (the cameras
        changed, and the minutes were walked again).

        Args:
            walked: the minutes' sightings and window passes, ``(minute, camera_home,
                person, t_out, window_minute, window_home, window_person)``.
        """
        self._reopen(start)
        self._open, reviews, due = _plan_decisions(
            start,
            stop,
            self._open,
            walked,
            (self.alert_setting, self.app_user_no_camera, has_camera, may_offend),
            self._bound_args(),
            self._p_args(),
        )
        self._reviews = _Reviews(*reviews)
        return due

    def _reopen(self, start: int) -> None:
        """Forget the decisions planned for minutes from ``start`` on and the alerts seen
        from then; the clips of earlier alerts not yet reviewed are open again, in the order
        the alerts came (clips that end in the same minute keep their order)."""
        r, (o_home, o_person, o_t_in, o_end) = self._reviews, self._open
        if (len(r.minute) == 0 or r.minute[-1] < start) and not np.any(o_t_in >= start):
            return
        keep = (r.minute >= start) & r.by_camera & (r.t_in < start)
        carried = o_t_in < start
        self._open = (
            np.concatenate([r.home[keep], o_home[carried]]),
            np.concatenate([r.person[keep], o_person[carried]]),
            np.concatenate([r.t_in[keep], o_t_in[carried]]),
            np.concatenate([r.minute[keep], o_end[carried]]),
        )
        self._reviews = _Reviews.none()

    def review(self, now: int, seen_offending) -> PostLog | None:
        """The planned decisions of minute ``now`` that may post: the posts.

        Args:
            seen_offending: function (person, t_in, t_out, viewer_xy) -> bool array.
        """
        r = self._reviews
        lo, hi = np.searchsorted(r.minute, [now, now + 1])
        if lo == hi:
            return None
        home, person, t_in, u, by_camera = (
            c[lo:hi] for c in (r.home, r.person, r.t_in, r.u, r.by_camera)
        )
        about = seen_offending(person, t_in, np.full(len(home), now), self.homes.xy[home])
        post = _decide(u, home, person, about, by_camera, self._p_args())
        if not np.any(post):
            return None
        log = PostLog(
            np.full(int(post.sum()), now, np.int64),
            home[post],
            person[post],
            about[post],
            by_camera[post],
        )
        self._log.append((log.minute, log.poster, log.person, log.about_incident, log.by_camera))
        self._posts_hour.append(log.poster)
        return log

    def _p_args(self) -> tuple:
        """What p depends on besides the decision (``_p``)."""
        return (
            self.person_home,
            self.homes.xy,
            self.neighbour_m,
            self.base,
            self.stranger_mult,
            self.bias,
            self.person_group,
            self.fear_mult,
            self._fear,
            self.incident_mult,
            self.presence,
            self.direct_rate,
        )

    def set_presence(self, presence: np.ndarray, most: float) -> None:
        """Police presence per home from today's attention (``PoliceAgency.presence``);
        ``most``: the largest value presence can take on any later day."""
        self.presence = np.asarray(presence, float)
        self.presence_max = max(float(most), 1.0)
        self._bias_max = self.bias.max(axis=1) * self.presence

    def public_request(self, x: float, y: float) -> None:
        """A public footage request at (x, y): it reaches the feeds like a post."""
        self._requests_hour.append((x, y))

    def post_victims(
        self, now: int, home: np.ndarray, offender: np.ndarray, has_camera: np.ndarray
    ) -> PostLog | None:
        """Victims' posts about the incidents that just happened to them.

        Without this, a post is "about a crime" only when a camera or window happened to see
        the offender at work, so nearly every post describes no crime, unlike The Markup's
        forwarded posts (more than 30 % about no crime, so many about a crime). Each app-using
        victim household (an owner, or an app user without a camera) posts with probability
        ``reporting.victim_post_probability`` (keyed draw: home, offender, minute). A post
        names the offender (``about_incident`` true, ``by_camera`` false); it joins the feed
        like any other post.

        Args:
            home, offender: the victim home and the offender of each incident this minute.
        """
        if self.victim_post_probability <= 0 or len(home) == 0:
            return None
        user = self.app_user(has_camera)[home]
        u = self.streams.uniform("post.victim", home, offender, now)
        post = user & (u < self.victim_post_probability)
        if not np.any(post):
            return None
        n = int(post.sum())
        log = PostLog(
            np.full(n, now, np.int64),
            home[post].astype(np.int64),
            offender[post].astype(np.int64),
            np.ones(n, bool),
            np.zeros(n, bool),
        )
        self._log.append((log.minute, log.poster, log.person, log.about_incident, log.by_camera))
        self._posts_hour.append(log.poster)
        self.victim_posts += n
        return log

    def _bound_args(self) -> tuple:
        """The arguments of the posting pre-check ``_bound`` after the draw's keys: the
        stream's base, the largest base rate x stranger multiplier, each home's largest bias,
        fear, the fear multiplier and the largest incident multiplier."""
        return (
            self.streams.base("post"),
            self.base * max(1.0, self.stranger_mult),
            self._bias_max,
            self._fear,
            self.fear_mult,
            max(1.0, self.incident_mult),
        )

    def window_filter(self, has_camera: np.ndarray) -> tuple:
        """What the walking kernel needs to leave out, as it plans trips, the window passes
        that cannot be posted (most): ``(base, caps)``, the stream of the posting draws
        (``_draw``) and ``caps(midnights)`` (``window_caps``); a pass of home h's window by
        person q reached at minute t is left out when ``_draw(base, h, q, t) >= caps[h]``
        (``sim.engine.movement.Walks.plan``)."""
        return self.streams.base("post"), partial(self.window_caps, has_camera)

    def window_caps(self, has_camera: np.ndarray, midnights: int) -> np.ndarray:
        """Per home, a draw at or above which a window pass seen before the coming
        ``midnights`` + 1 days end cannot be posted, whatever happens until then: the posting
        bound of ``plan_reviews`` with the most fear the home can reach by then (each post
        read adds ``feed.fear_per_post``, at most the posts left to read today and a day's
        for each midnight; fear otherwise only decays). Homes with a camera now get no cap:
        their alerts may raise their fear before the camera is retired at a midnight (nor
        does any home when two midnights pass: it may buy a camera and retire it)."""
        if midnights > 1 and self.alerts_feedback:  # a camera bought and retired meanwhile
            return np.full(len(has_camera), np.inf)
        fear = self._fear
        if self.posts_feedback:
            per_item = max(self.fear_per_post, self.fear_per_request)
            fear = fear + per_item * (self._read_left + midnights * self.read_per_day)
        _, rate, bias_max, _, fear_mult, incident = self._bound_args()
        if midnights > 0 and self.presence_max > 1.0:  # presence may change at a midnight
            bias_max = self.bias.max(axis=1) * np.maximum(self.presence, self.presence_max)
        cap = _bound(rate, bias_max, fear, fear_mult, incident) * self.direct_rate
        return np.where(has_camera, np.inf, cap * (1 + 1e-9))  # a margin for rounding

    def hourly(self, has_camera: np.ndarray) -> None:
        """Fear: decay, then what the past hour's posts and alerts added."""
        self._fear *= self.hourly_decay
        if self.posts_feedback and self._requests_hour and self.fear_per_request > 0:
            points = np.array(self._requests_hour).reshape(-1, 2)  # read first: salient
            seen = self._grid.visible_counts(np.zeros(0, np.int64), points)
            read = np.minimum(seen, self._read_left) * self.app_user(has_camera)
            self._read_left -= read
            self._fear += self.fear_per_request * read
        if self.posts_feedback and self._posts_hour:
            posters = np.concatenate(self._posts_hour)
            seen = self._grid.visible_counts(posters)
            read = np.minimum(seen, self._read_left) * self.app_user(has_camera)
            self._read_left -= read
            self._fear += self.fear_per_post * read
        if self.alerts_feedback:
            other = np.where(
                has_camera & (self.alert_setting == ALL_MOTION), self.other_alerts_per_hour, 0.0
            )
            alerts = np.bincount(
                np.concatenate([np.zeros(0, np.int64), *self._alerts_hour]),
                minlength=len(self._fear),
            )
            self._fear += self.fear_per_alert * (alerts + other)
        self._posts_hour = []
        self._requests_hour = []
        self._alerts_hour = []
        self._hours += 1
        if self._hours % 24 == 0:  # midnight: a new day's reading
            self._read_left[:] = self.read_per_day

    def log(self) -> PostLog:
        if not self._log:
            z = np.zeros(0, np.int64)
            return PostLog(z, z, z, np.zeros(0, bool), np.zeros(0, bool))
        return PostLog(*(np.concatenate(c) for c in zip(*self._log, strict=True)))

    def posted_by_group(self, n_groups: int) -> np.ndarray:
        """Posts so far about each group's members."""
        return np.bincount(self.person_group[self.log().person], minlength=n_groups)

    # ------------------------------------------------------------------ metrics

    METRICS = (
        metric("reports.total", COUNT, "posts", "Posts"),
        metric("reports.rate.<group>", AMOUNT, "posts per 1,000 recordings",
               "Posting rate (<group>)"),
        metric("reports.rate_ratio.<group>", RATIO, "ratio to the first group",
               "Posting rate ratio", later_groups=True),
        metric("reports.disparity_ratio", RATIO, "minority / first group", "Posting disparity"),
        metric("reports.minority_share", FRACTION, "share of posts", "Posts about minority people"),
        metric("reports.false_positive_fraction", FRACTION, "share of people posted",
               "Innocent posted"),
        metric("reports.non_crime_fraction", FRACTION, "share of posts", "Posts about no crime"),
        metric("reports.victim_posts", COUNT, "posts", "Victims' posts"),
        metric("reports.majority_slope", REAL, "per unit of majority share",
               "Posting vs majority share"),
        metric("reports.majority_slope_se", AMOUNT, "per unit of majority share",
               "Its standard error"),
        metric("reports.border_homes", COUNT, "homes", "Homes in border majority tracts"),
        metric("reports.interior_homes", COUNT, "homes", "Homes in inner majority tracts"),
        metric("reports.border_posts", COUNT, "posts", "Posts from border majority tracts"),
        metric("reports.interior_posts", COUNT, "posts", "Posts from inner majority tracts"),
        metric("reports.border_ratio", RATIO, "border / inner posts per home",
               "Border posting ratio"),
        metric("reports.alerts", COUNT, "alerts", "Motion alerts"),
        metric("reports.recordings", COUNT, "recordings", "Recordings"),
        metric("feed.mean_fear", AMOUNT, "fear score", "Mean fear"),
    )  # fmt: skip

    def metrics(self, model) -> dict[str, float | int | None]:
        """Posts, by whom and about whom ("minority": every group but the first)."""
        names = model.world.group_names
        G = len(names)
        posts = self.log()
        recordings = self.recordings
        about = self.posted_by_group(G)
        out: dict[str, float | int | None] = {"reports.total": len(posts)}
        rates = [ratio(1000 * about[g], recordings[g]) for g in range(G)]
        for g, name in enumerate(names):
            out[f"reports.rate.{name}"] = rates[g]
            if g > 0:
                out[f"reports.rate_ratio.{name}"] = ratio(rates[g], rates[0])
        out["reports.disparity_ratio"] = disparity(about, recordings)
        out["reports.minority_share"] = ratio(about[1:].sum(), len(posts))
        people = np.unique(posts.person)
        innocent = np.count_nonzero(~model.population.offender[people])
        out["reports.false_positive_fraction"] = ratio(innocent, len(people))
        no_crime = np.count_nonzero(~posts.about_incident)
        out["reports.non_crime_fraction"] = ratio(no_crime, len(posts))
        out["reports.victim_posts"] = int(self.victim_posts)
        per_home = np.bincount(posts.poster, minlength=self.homes.count)
        out["reports.majority_slope"] = majority_slope(per_home, self.majority_share)
        out["reports.majority_slope_se"] = majority_slope_se(per_home, self.majority_share)
        border, interior = self.homes.border_tracts(model.params["reporting.area_m"])
        out["reports.border_homes"] = int(border.sum())
        out["reports.interior_homes"] = int(interior.sum())
        out["reports.border_posts"] = int(per_home[border].sum())
        out["reports.interior_posts"] = int(per_home[interior].sum())
        out["reports.border_ratio"] = ratio(
            ratio(out["reports.border_posts"], out["reports.border_homes"]),
            ratio(out["reports.interior_posts"], out["reports.interior_homes"]),
        )
        out["reports.alerts"] = int(self.alerts)
        out["reports.recordings"] = int(recordings.sum())
        out["feed.mean_fear"] = float(self._fear.mean())
        return out


class _FeedGrid:
    """Spreads posts to the feeds of homes within a radius, on a grid of cells.

    Posts are counted per cell; a disc-shaped convolution gives, for every cell, the posts made
    in cells whose centres lie within the radius; each home reads its cell's count.
    """

    def __init__(self, xy: np.ndarray, cell_m: float, radius_m: float) -> None:
        self.origin = xy.min(axis=0)
        self.cell = cell_m
        ij = np.floor((xy - self.origin) / cell_m).astype(np.int64)
        self.shape = tuple(ij.max(axis=0) + 1)
        self.home_cell = ij[:, 0] * self.shape[1] + ij[:, 1]
        r = int(np.floor(radius_m / cell_m))
        # a kernel never needs to be larger than the grid it is applied to
        rx, ry = min(r, self.shape[0] - 1), min(r, self.shape[1] - 1)
        dx, dy = np.meshgrid(np.arange(-rx, rx + 1), np.arange(-ry, ry + 1), indexing="ij")
        self.kernel = (np.hypot(dx, dy) * cell_m <= radius_m).astype(float)
        self._kernel_fft = _kernel_fft(self.shape, self.kernel)  # the same every hour

    def cell_of(self, xy: np.ndarray) -> np.ndarray:
        """The cell of each point (points off the grid: the nearest cell)."""
        ij = np.floor((xy - self.origin) / self.cell).astype(np.int64)
        ij = np.clip(ij, 0, np.array(self.shape) - 1)
        return ij[:, 0] * self.shape[1] + ij[:, 1]

    def visible_counts(self, posters: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
        """Posts (by their posters' homes, and items at ``points``) within the radius of each
        home."""
        cells = self.home_cell[posters]
        if points is not None and len(points):
            cells = np.concatenate([cells, self.cell_of(points)])
        counts = np.bincount(cells, minlength=self.shape[0] * self.shape[1])
        grid = counts.reshape(self.shape).astype(float)
        seen = np.rint(_convolve_same(grid, self.kernel, self._kernel_fft))
        return seen.ravel()[self.home_cell]


def _kernel_fft(grid_shape: tuple, kernel: np.ndarray) -> np.ndarray:
    """The kernel's transform at the padded size ``_convolve_same`` uses."""
    shape = [g + k - 1 for g, k in zip(grid_shape, kernel.shape, strict=True)]
    return np.fft.rfft2(kernel, shape)


def _convolve_same(grid: np.ndarray, kernel: np.ndarray, kernel_fft=None) -> np.ndarray:
    """2-D convolution by FFT, cropped to the grid's shape (like scipy's mode="same");
    ``kernel_fft``: the kernel's transform, if already known."""
    shape = [g + k - 1 for g, k in zip(grid.shape, kernel.shape, strict=True)]
    if kernel_fft is None:
        kernel_fft = _kernel_fft(grid.shape, kernel)
    full = np.fft.irfft2(np.fft.rfft2(grid, shape) * kernel_fft, shape)
    start = [(k - 1) // 2 for k in kernel.shape]
    return full[start[0] : start[0] + grid.shape[0], start[1] : start[1] + grid.shape[1]]


@numba.njit(cache=True, inline="always")
def _bound(rate, bias_max, fear, fear_mult, incident):
    """An upper bound of a home's p, ``rate x bias_max x (1 + fear_mult x fear) x incident``,
    from the home's largest bias and its fear (scalars in the compiled loops, arrays for the
    window caps)."""
    return rate * bias_max * (1 + fear_mult * fear) * incident


@numba.njit(cache=True, inline="always")
def _draw(base, home, person, t_in):
    """The keyed uniform of one posting decision: stream "post" (``base``), keys (home,
    person, minute seen). The walking kernel leaves out window passes by the same draw
    (``Reporting.window_filter``): a decision's key is defined here and there alone."""
    return draw3(base, home, person, t_in)


@numba.njit(cache=True, inline="always")
def _posts(u, home, person, about, by_camera, p_args):
    """Whether a decision with uniform ``u`` posts the person as suspicious: ``u < min(p, 1)``,
    p by ``_p``. The one rule, whether the person is a bystander decided as soon as planned
    (``_plan_decisions``) or may offend and is decided in their minute (``_decide``)."""
    return u < min(_p(home, person, about, by_camera, p_args), 1.0)


@numba.njit(cache=True, inline="always")
def _draw_below_bound(base, home, person, t_in, rate, bias_max, fear, fear_mult, incident, scale):
    """The keyed uniform of one decision (``_draw``), and whether it is below the cheap upper
    bound of p (``_bound``, times ``scale``: ``reporting.direct_rate`` for windows)."""
    x = _draw(base, home, person, t_in)
    return x, x < _bound(rate, bias_max[home], fear[home], fear_mult, incident) * scale


@numba.njit(cache=True)
def _below_bound(home, person, t_in, base, rate, bias_max, fear, fear_mult, incident, scale):
    """The decisions whose uniform is below the cheap bound (``_draw_below_bound``); returns
    their indices and uniforms. Almost every candidate is ruled out here, so the exact p is
    computed for few; one loop, where numpy needs a temporary per factor."""
    keep = np.empty(len(home), np.int64)
    u = np.empty(len(home))
    n = 0
    for i in range(len(home)):
        x, below = _draw_below_bound(
            base, home[i], person[i], t_in[i], rate, bias_max, fear, fear_mult, incident, scale
        )
        if below:
            keep[n] = i
            u[n] = x
            n += 1
    return keep[:n], u[:n]


@numba.njit(cache=True, inline="always")
def _p(home, person, about, by_camera, p_args):
    """p of one decision (the module docstring), before the cap at 1."""
    (person_home, xy, neighbour_m, base, stranger, bias, group, fear_mult, fear, incident, presence,
     direct) = p_args  # fmt: skip
    ph = person_home[person]
    neighbour = ph >= 0 and (
        math.hypot(xy[ph, 0] - xy[home, 0], xy[ph, 1] - xy[home, 1]) <= neighbour_m
    )
    return (
        base
        * (1.0 if neighbour else stranger)
        * bias[home, group[person]]
        * (1 + fear_mult * fear[home])
        * (incident if about else 1.0)
        * presence[home]
        * (1.0 if by_camera else direct)
    )


@numba.njit(cache=True)
def _decide(u, home, person, about, by_camera, p_args):
    """Whether each decision posts (``_posts``)."""
    out = np.empty(len(home), np.bool_)
    for i in range(len(home)):
        out[i] = _posts(u[i], home[i], person[i], about[i], by_camera[i], p_args)
    return out


@numba.njit(cache=True)
def _plan_decisions(start, stop, opened, walked, homes, bound, p_args):
    """The posting decisions of minutes ``start`` to ``stop - 1`` that may post (see
    ``Reporting.plan_reviews``), in the order they are made: by minute; in a minute, the clips
    that end in it in the order their alerts came (``opened``, carried over from earlier,
    first), then the window passes. Returns the alerts whose clip ends later (home, person,
    t_in, end), the decisions (minute, home, person, t_in, uniform, by camera) and their
    minutes. ``walked``: the minutes' sightings (minute, owner's home, person, t_out) and
    window passes (minute, home, person); ``homes``: alert setting, app users without a
    camera, camera owners, people who may offend; ``bound``: ``_below_bound``'s arguments
    after the keys; ``p_args``: ``_p``'s."""
    o_home, o_person, o_t_in, o_end = opened
    minute, cam_home, person, t_out, w_minute, w_home, w_person = walked
    setting, app_user, has_camera, may_offend = homes
    base, rate, bias_max, fear, fear_mult, incident = bound
    direct = p_args[-1]
    # the clips: those carried over, then the minutes' alerts (unless muted); those ending by
    # ``stop`` are judged now against the cheap bound (``_draw_below_bound``), the others kept
    n_open, n = len(o_home), len(o_home) + len(cam_home)
    c_home, c_who, c_t_in, c_at = (
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
    )
    u = np.empty(n)
    l_home, l_who, l_t_in, l_end = (
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
    )
    n_c = n_later = 0
    for k in range(n):
        if k < n_open:
            h, q, t, e = o_home[k], o_person[k], o_t_in[k], o_end[k]
        else:
            j = k - n_open
            h = cam_home[j]
            if setting[h] == MUTED:
                continue
            q, t, e = person[j], minute[j], t_out[j]
        if e >= stop:
            l_home[n_later], l_who[n_later], l_t_in[n_later], l_end[n_later] = h, q, t, e
            n_later += 1
            continue
        x, below = _draw_below_bound(base, h, q, t, rate, bias_max, fear, fear_mult, incident, 1.0)
        if below:
            c_home[n_c], c_who[n_c], c_t_in[n_c], c_at[n_c], u[n_c] = h, q, t, e, x
            n_c += 1
    carried = (l_home[:n_later], l_who[:n_later], l_t_in[:n_later], l_end[:n_later])
    c_home, c_who, c_t_in, c_at, u = c_home[:n_c], c_who[:n_c], c_t_in[:n_c], c_at[:n_c], u[:n_c]
    ok = np.empty(len(w_home), np.int64)
    m = 0
    for k in range(len(w_home)):
        if app_user[w_home[k]] and not has_camera[w_home[k]]:
            ok[m] = k
            m += 1
    ok = ok[:m]
    keep, w_u = _below_bound(
        w_home[ok],
        w_person[ok],
        w_minute[ok],
        base,
        rate,
        bias_max,
        fear,
        fear_mult,
        incident,
        direct,
    )
    ok = ok[keep]
    # by minute; in a minute, clips (in order) then windows: a counting sort
    n_c, n_w = len(c_home), len(ok)
    slots = 2 * (stop - start)
    first = np.zeros(slots + 1, np.int64)
    for k in range(n_c):
        first[2 * (c_at[k] - start) + 1] += 1
    for k in range(n_w):
        first[2 * (w_minute[ok[k]] - start) + 2] += 1
    for s in range(slots):
        first[s + 1] += first[s]
    r_minute = np.empty(n_c + n_w, np.int64)
    r_home = np.empty(n_c + n_w, np.int64)
    r_who = np.empty(n_c + n_w, np.int64)
    r_t_in = np.empty(n_c + n_w, np.int64)
    r_u = np.empty(n_c + n_w)
    r_camera = np.empty(n_c + n_w, np.bool_)
    for k in range(n_c):
        s = 2 * (c_at[k] - start)
        f = first[s]
        first[s] = f + 1
        r_minute[f], r_home[f], r_who[f], r_t_in[f] = c_at[k], c_home[k], c_who[k], c_t_in[k]
        r_u[f], r_camera[f] = u[k], True
    for k in range(n_w):
        j = ok[k]
        s = 2 * (w_minute[j] - start) + 1
        f = first[s]
        first[s] = f + 1
        r_minute[f], r_home[f], r_who[f], r_t_in[f] = (
            w_minute[j],
            w_home[j],
            w_person[j],
            w_minute[j],
        )
        r_u[f], r_camera[f] = w_u[k], False
    # decided now, exactly, for people who never offend: only those that post are kept
    maybe = np.empty(n_c + n_w, np.int64)
    n_maybe = 0
    for k in range(n_c + n_w):
        q = r_who[k]
        if may_offend[q] or _posts(r_u[k], r_home[k], q, False, r_camera[k], p_args):
            maybe[n_maybe] = k
            n_maybe += 1
    maybe = maybe[:n_maybe]
    r_minute = r_minute[maybe]
    reviews = (r_minute, r_home[maybe], r_who[maybe], r_t_in[maybe], r_u[maybe], r_camera[maybe])
    changes = np.empty(n_maybe, np.bool_)  # the first decision of each minute
    for k in range(n_maybe):
        changes[k] = k == 0 or r_minute[k] != r_minute[k - 1]
    return carried, reviews, r_minute[changes]
