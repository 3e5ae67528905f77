"""Camera adoption over time, and the police promotion of cameras.

**Households.** Every hour, each household without a camera buys one with probability
``1 - exp(-lambda / 8760)``, where the yearly hazard is

    lambda = p x (price paid / price)^-elasticity x (1 + fear_effect x fear)
             + q x (share of the household's ties who own a camera)
             + recommendation (while an officer's recommendation lasts)

``p`` and ``q`` are the Bass innovation and imitation rates. In a well-mixed population with
no fear and no promotion this is the Bass model, whose adoption curve is
``F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})``; hourly decisions keep the discrete
model within a fraction of a percent of it. A purchase counts for word of mouth at once; the
camera is installed at the next day's start. Owners stop using their camera and subscribers
let their subscription lapse at yearly hazards.

**Police promotion** (``promotion.enabled``). Officers (Mesa agents) meet households and
recommend a camera with their personal discount code; each use of a code counts toward the
officer's rewards, one free device per ``promotion.uses_per_free_device`` uses (exactly
``floor(uses / n)``). Officers also get free devices at the start; they install their devices
at homes near incidents they investigate. Households they meet may download the app; each
download earns the agency credit toward free cameras, given to households without one. A
community giveaway puts free cameras in one zone on one day, optionally on condition that
the owners share footage with police.

**Partnerships** (``police.partnership_curve``). The agency signs on a date drawn from a
logistic fit to the national count of partner agencies (40 in mid-2018, 405 in August 2019,
2,014 at the end of 2020, about 2,600-2,700 in 2023-2024): ``N(t) = K / (1 + e^{-r (t - t0)})``
with K = 2,680, r = 2.0 per year, t0 = 2020.46.

Every decision is a keyed draw (household and hour, officer and day, ...), so switching the
promotion on changes nobody's draws: it only adds hazard.
"""

from __future__ import annotations

import math

import mesa
import numba
import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from sim.engine.rng import Streams, draw2, poisson_from_uniform
from sim.scenario.scenario import Scenario
from sim.scenario.schema import CAMERA_TYPES, SRC_ADOPTION, choice, flag, integer, number, share
from sim.scenario.submodel import AMOUNT, COUNT, FRACTION, REAL, Submodel, metric, ratio

# Sources cited only here (docs/sources.md expands them).
SRC_LAPD = "docs/sources.md / EFF 2021: LAPD 2016 emails (codes, free devices, 1 per 10 uses)"

# fmt: off
PARAMS = (
    number("adoption.spontaneous_per_year", 0.02, "per year", 0, 10, "Bass innovation rate p: "
        "yearly hazard of buying a camera from marketing alone, at full price and no fear.",
        SRC_ADOPTION),
    number("adoption.word_of_mouth_per_year", 0.3, "per year", 0, 50,
        "Bass imitation rate q: yearly hazard added per unit share of a household's ties who own "
        "a camera.", SRC_ADOPTION),
    choice("adoption.network", "neighbours", ("neighbours", "complete"), "Whose cameras a "
        "household hears about: its nearest homes plus a few random ties, or every household "
        "(well mixed)."),
    integer("adoption.neighbour_ties", 8, "home", 0, 100, "Ties to the nearest homes in the "
        "word-of-mouth network."),
    integer("adoption.random_ties", 2, "home", 0, 100, "Ties to random homes anywhere in the "
        "area (a small world)."),
    number("adoption.fear_effect", 1.0, "-", 0, 100, "The spontaneous rate is multiplied by 1 + "
        "this x the household's fear."),
    number("adoption.price_usd", 100.0, "USD", 1, 10000, "Price of a camera.",
        "typical video-doorbell price"),
    number("adoption.price_elasticity", 1.0, "-", 0, 10, "The spontaneous rate scales as (price "
        "paid / full price)^-elasticity."),
    number("adoption.churn_per_year", 0.05, "per year", 0, 10, "Yearly hazard that an owner "
        "stops using the camera."),
    number("adoption.subscription_lapse_per_year", 0.1, "per year", 0, 10,
        "Yearly hazard that a subscriber lets the cloud subscription lapse."),
    *(share(f"adoption.mix.{t}", v, f"Share of new buyers who choose a {t} camera.")
      for t, v in zip(CAMERA_TYPES, (0.7, 0.15, 0.1, 0.05), strict=True)),
    flag("promotion.enabled", False, "Police promote cameras: officers' discount codes and "
        "recommendations, free devices, giveaways, app-download incentives.",
        "switch"),
    integer("promotion.officers", 5, "officer", 0, 10000, "Officers with personal discount codes "
        "working the area.", SRC_LAPD),
    number("promotion.contacts_per_officer_day", 2.0, "household/day", 0, 1000,
        "Households an officer meets (calls, community events) and recommends a camera to.",
        SRC_LAPD),
    number("promotion.discount_usd", 50.0, "USD", 0, 10000, "Discount of an officer's personal "
        "code.", "docs/sources.md: $50 law-enforcement code (San Diego County, 2019)"),
    integer("promotion.uses_per_free_device", 10, "use", 1, 1000, "Code uses that earn the "
        "officer one free device.", SRC_LAPD),
    number("promotion.recommendation_per_year", 2.0, "per year", 0, 100,
        "Yearly hazard of buying added by an officer's recommendation, while it lasts."),
    number("promotion.recommendation_days", 30.0, "day", 0.1, 3650, "How long a recommendation "
        "(and the code's discount) stays on a household's mind."),
    integer("promotion.devices_to_officers", 20, "device", 0, 100000,
        "Free devices given to officers at the start, installed at homes near incidents they "
        "investigate.", "docs/sources.md: 20 cameras (~$3,000) for one LAPD investigation"),
    integer("promotion.giveaway_cameras", 0, "camera", 0, 1000000, "Free cameras given to "
        "households without one, in one zone, on the giveaway day.",
        "docs/sources.md: Akron, 460 free doorbells"),
    integer("promotion.giveaway_day", 1, "day", 0, 3650, "Day of the community giveaway."),
    flag("promotion.giveaway_conditional", False, "Giveaway cameras come on condition of sharing "
        "footage with police (their owners never opt out and always share).",
        "docs/sources.md: Akron"),
    share("promotion.download_probability", 0.3, "Probability that a household an officer meets "
        "downloads the app."),
    number("promotion.download_value_usd", 10.0, "USD", 0, 10000, "Credit toward free cameras the "
        "agency earns per app download.", "docs/sources.md: Lakeland, $10 per qualifying download"),
)
# fmt: on

HOURS_PER_YEAR = 8760.0
PARTNERS_K, PARTNERS_R, PARTNERS_T0 = 2680.0, 2.0, 2020.46


def partner_agencies(year: float) -> float:
    """The logistic fit of US partner agencies at a decimal year."""
    return PARTNERS_K / (1 + math.exp(-PARTNERS_R * (year - PARTNERS_T0)))


def bass_curve(t: np.ndarray, p: float, q: float) -> np.ndarray:
    """Share of adopters at time t (same unit as 1/p and 1/q) in the Bass model."""
    e = np.exp(-(p + q) * np.asarray(t, float))
    return (1 - e) / (1 + (q / p) * e)


class SocialNetwork:
    """Whose cameras a household hears about: nearest homes plus random ties (undirected),
    or everyone (well mixed)."""

    def __init__(
        self, xy: np.ndarray, kind: str, neighbours: int, random_ties: int, rng: np.random.Generator
    ) -> None:
        self.kind = kind
        n = len(xy)
        self.n = n
        if kind == "complete" or n < 2:
            self.matrix = None
            return
        k = min(neighbours, n - 1)
        rows, cols = [], []
        if k:
            _, idx = cKDTree(xy).query(xy, k=k + 1)
            rows.append(np.repeat(np.arange(n), k))
            cols.append(idx[:, 1:].ravel())
        if random_ties:
            rows.append(np.repeat(np.arange(n), random_ties))
            cols.append(rng.integers(0, n, n * random_ties))
        r, c = (
            np.concatenate(rows or [np.zeros(0, int)]),
            np.concatenate(cols or [np.zeros(0, int)]),
        )
        keep = r != c
        m = sparse.coo_matrix((np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(n, n))
        m = ((m + m.T) > 0).astype(float).tocsr()  # ties are mutual, counted once
        self.matrix = m
        self.degree = np.asarray(m.sum(axis=1)).ravel()

    def ties(self) -> tuple:
        """The ties as CSR arrays (row pointers, columns, weights) and degrees, for compiled
        loops; empty pointers mean everyone (well mixed)."""
        if self.matrix is None:
            return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0), np.zeros(0)
        m = self.matrix
        return m.indptr, m.indices, m.data, self.degree

    def to_networkx(self):
        """The tie network as a networkx graph (for analysis and plots)."""
        import networkx as nx

        if self.matrix is None:
            return nx.complete_graph(self.n)
        return nx.from_scipy_sparse_array(self.matrix)


class Officer(mesa.Agent):
    """An officer with a personal discount code, who recommends cameras and places free
    devices at homes near incidents under investigation."""

    def __init__(
        self, model: mesa.Model, number: int, free_devices: int, uses_per_device: int
    ) -> None:
        super().__init__(model)
        self.number = number
        self.code_uses = 0
        self.devices_received = free_devices
        self.devices_given = 0
        self.uses_per_device = uses_per_device

    @property
    def devices_earned(self) -> int:
        """Rewards for code uses: one device per ``uses_per_device`` uses."""
        return self.code_uses // self.uses_per_device

    @property
    def stock(self) -> int:
        return self.devices_received + self.devices_earned - self.devices_given


class Adoption(Submodel):
    """Households buying and dropping cameras, and the police promotion of cameras."""

    name = "adoption"
    STATE = ("owner", "initial_owners", "recommended_until", "code_officer")

    def __init__(self, model: mesa.Model, params: Scenario, streams: Streams) -> None:
        self.model = model
        self.streams = streams
        homes = model.world.homes
        self.homes = homes
        H = homes.count
        self.p = params["adoption.spontaneous_per_year"]
        self.q = params["adoption.word_of_mouth_per_year"]
        self.fear_effect = params["adoption.fear_effect"]
        self.price = params["adoption.price_usd"]
        self.elasticity = params["adoption.price_elasticity"]
        self.churn = 1 - math.exp(-params["adoption.churn_per_year"] / 365)
        self.lapse = 1 - math.exp(-params["adoption.subscription_lapse_per_year"] / 365)
        self.mix_cdf = np.cumsum([params[f"adoption.mix.{t}"] for t in CAMERA_TYPES])
        self.network = SocialNetwork(
            homes.xy,
            params["adoption.network"],
            params["adoption.neighbour_ties"],
            params["adoption.random_ties"],
            streams.generator("adoption.network"),
        )
        cams = model.cameras
        self.owner = cams.home_camera >= 0  # bought (installed or about to be)
        self.initial_owners = self.owner.copy()
        self._to_install: list[np.ndarray] = []
        # promotion
        self.promotion = params["promotion.enabled"]
        self.discount = params["promotion.discount_usd"] if self.promotion else 0.0
        self.recommendation = params["promotion.recommendation_per_year"]
        self.recommendation_minutes = round(params["promotion.recommendation_days"] * 1440)
        self.contacts = params["promotion.contacts_per_officer_day"]
        self.download_probability = params["promotion.download_probability"]
        self.download_value = params["promotion.download_value_usd"]
        self.giveaway = (
            params["promotion.giveaway_cameras"],
            params["promotion.giveaway_day"],
            params["promotion.giveaway_conditional"],
        )
        self.recommended_until = np.full(H, -1, np.int64)
        self.code_officer = np.full(H, -1, np.int64)
        n_off = params["promotion.officers"] if self.promotion else 0
        free = params["promotion.devices_to_officers"] if self.promotion else 0
        per = params["promotion.uses_per_free_device"]
        self.officers = [
            Officer(model, i, free // n_off + (i < free % n_off), per) for i in range(n_off)
        ]
        self.credit_usd = 0.0
        self.downloads = 0
        self.free_cameras = 0  # given by the agency (giveaway, download credit)

    # ------------------------------------------------------------------ hourly: purchases

    def hourly(self, now: int, fear: np.ndarray) -> None:
        """Each household without a camera may buy one this hour (keyed draw: home, hour)."""
        # the price factor (price paid / full price)^-elasticity, with and without a code
        paid = np.array([max(self.price - self.discount, 0.01), self.price])
        factor = (paid / self.price) ** -self.elasticity
        buyers, recommended = _purchases(
            self.owner,
            self.recommended_until,
            now,
            fear,
            (self.p, factor[0], factor[1], self.fear_effect, self.q, self.recommendation),
            self.network.ties(),
            self.streams.base("adoption.buy"),
        )
        if len(buyers) == 0:
            return
        self.owner[buyers] = True
        self._to_install.append(buyers)
        coded = buyers[recommended & (self.code_officer[buyers] >= 0)]
        if len(coded) and self.officers:
            uses = np.bincount(self.code_officer[coded], minlength=len(self.officers))
            for officer, n in zip(self.officers, uses.tolist(), strict=True):
                officer.code_uses += n

    # ------------------------------------------------------------------ daily

    def daily(self, day: int, now: int) -> None:
        """Start of a day: promotion contacts, churn, lapses, giveaways, installations."""
        cams = self.model.cameras
        platform = self.model.platform
        if self.officers:
            self._contacts(day, now)
        # churn: owners stop using installed cameras
        active_homes = np.flatnonzero(cams.home_camera >= 0)
        quit_ = self.streams.uniform("adoption.churn", active_homes, day) < self.churn
        if np.any(quit_):
            gone = active_homes[quit_]
            cams.retire(cams.home_camera[gone])
            self.owner[gone] = False
        subs = np.flatnonzero(platform.subscribed & (cams.home_camera >= 0))
        lapse = self.streams.uniform("adoption.lapse", subs, day) < self.lapse
        platform.lapse(subs[lapse])
        n_give, give_day, conditional = self.giveaway
        if self.promotion and n_give and day == give_day:
            self._giveaway(n_give, day, conditional)
        if self.promotion and self.credit_usd >= self.price:
            n = int(self.credit_usd // self.price)
            self.credit_usd -= n * self.price
            got = self._free_cameras(n, f"adoption.credit.{day}", zone=None)
            self.free_cameras += len(got)
        self._install(day)

    def _contacts(self, day: int, now: int) -> None:
        s = self.streams
        H = self.homes.count
        for o in self.officers:
            u = s.uniform("officer.contacts", o.number, day)[0]
            n = poisson_from_uniform(u, self.contacts)
            if n == 0:
                continue
            pick = (s.uniform("officer.meet", o.number, day, np.arange(n)) * H).astype(np.int64)
            pick = pick[~self.owner[pick]]
            self.recommended_until[pick] = now + self.recommendation_minutes
            self.code_officer[pick] = o.number
            download = s.uniform("officer.download", pick, day) < self.download_probability
            got = self.model.reporting.install_app(pick[download])
            self.downloads += len(got)
            self.credit_usd += len(got) * self.download_value

    def _giveaway(self, n: int, day: int, conditional: bool) -> None:
        zone = int(self.streams.uniform("giveaway.zone", day)[0] * self.model.zones.count)
        got = self._free_cameras(n, "giveaway", zone=zone)
        self.free_cameras += len(got)
        if conditional:
            self.model.platform.always_sharing(got)

    def _free_cameras(self, n: int, key: str, zone: int | None) -> np.ndarray:
        """Give up to n free cameras to households without one (in a zone, if given)."""
        pool = np.flatnonzero(~self.owner)
        if zone is not None:
            pool = pool[self.model.home_zone[pool] == zone]
        if len(pool) == 0:
            return pool
        order = np.argsort(self.streams.uniform(f"free.{key}", pool), kind="stable")
        got = np.sort(pool[order[:n]])
        self.owner[got] = True
        self._to_install.append(got)
        return got

    def on_investigations(self, homes: np.ndarray) -> None:
        """Officers with free devices place one at each home of an incident they investigate
        (or at the nearest home on the same street without a camera)."""
        for h in homes.tolist():
            officer = next((o for o in self.officers if o.stock > 0), None)
            if officer is None:
                return
            target = self._nearest_without_camera(h)
            if target < 0:
                continue
            officer.devices_given += 1
            self.owner[target] = True
            self._to_install.append(np.array([target]))

    def _nearest_without_camera(self, home: int) -> int:
        if not self.owner[home]:
            return home
        same = np.flatnonzero((self.homes.edge == self.homes.edge[home]) & ~self.owner)
        if len(same) == 0:
            return -1
        return int(same[np.argmin(np.abs(self.homes.offset[same] - self.homes.offset[home]))])

    def _install(self, day: int) -> None:
        if not self._to_install:
            return
        homes = np.unique(np.concatenate(self._to_install))
        self._to_install = []
        homes = homes[self.model.cameras.home_camera[homes] < 0]
        u = self.streams.uniform("adoption.kind", homes, day)
        kinds = np.minimum(np.searchsorted(self.mix_cdf, u, side="right"), len(CAMERA_TYPES) - 1)
        self.model.cameras.install(homes, kinds.astype(np.int8))

    # ------------------------------------------------------------------ results

    @property
    def code_uses(self) -> int:
        return sum(o.code_uses for o in self.officers)

    @property
    def devices_to_officers(self) -> int:
        return sum(o.devices_received + o.devices_earned for o in self.officers)

    @property
    def value_usd(self) -> float:
        """Discounts given plus the full price of every free device and camera."""
        free = self.devices_to_officers + self.free_cameras
        return self.code_uses * self.discount + free * self.price

    METRICS = (
        metric("adoption.final_fraction", FRACTION, "share of homes", "Homes with a camera"),
        metric("adoption.final_fraction.<group>", FRACTION, "share of homes",
               "Homes with a camera (<group>)"),
        metric("adoption.initial_fraction", FRACTION, "share of homes",
               "Homes with a camera at start"),
        metric("adoption.promotion_attributable", REAL, "share of homes",
               "Adoption due to promotion", on_request=True),
        metric("promotion.code_uses", COUNT, "purchases", "Discount-code purchases"),
        metric("promotion.devices_to_officers", COUNT, "devices", "Free devices to officers"),
        metric("promotion.value_usd", AMOUNT, "USD", "Value of promotion"),
        metric("promotion.app_downloads", COUNT, "downloads", "App downloads"),
    )  # fmt: skip

    def metrics(self, model) -> dict[str, float | int | None]:
        """Adoption and promotion (``adoption.promotion_attributable`` is a difference of two
        runs: ``sim.runs.replicate``'s counterfactual)."""
        group = self.homes.group
        out: dict[str, float | int | None] = {
            "adoption.final_fraction": float(self.owner.mean()),
            "adoption.initial_fraction": float(self.initial_owners.mean()),
        }
        for g, name in enumerate(model.world.group_names):
            out[f"adoption.final_fraction.{name}"] = ratio(
                self.owner[group == g].sum(), np.count_nonzero(group == g)
            )
        out["promotion.code_uses"] = int(self.code_uses)
        out["promotion.devices_to_officers"] = int(self.devices_to_officers)
        out["promotion.value_usd"] = float(self.value_usd)
        out["promotion.app_downloads"] = int(self.downloads)
        return out


def partnership_minute(params: Scenario, streams: Streams) -> float | None:
    """When (minutes from the start; <= 0: already) the agency signs, or None for never."""
    share = params["police.partnership_share"]
    u = float(streams.uniform("police.partnership", 0)[0])
    if u >= share:
        return None
    frac = u / share  # the agency's quantile of the signing-date distribution
    year = PARTNERS_T0 - math.log(1 / frac - 1) / PARTNERS_R if frac > 0 else -math.inf
    return (year - params["time.start_year"]) * 365.25 * 1440


@numba.njit(cache=True)
def _purchases(owner, recommended_until, now, fear, rates, ties, base):
    """The homes without a camera that buy one in the hour of minute ``now``: each whose keyed
    uniform (home, hour) is below ``1 - exp(-rate / hours a year)``, where

        rate = p x price factor x (1 + fear_effect x fear) + q x share of ties who own
               + recommendation (while an officer's recommendation lasts)

    (``rates``: p, the price factor with and without a code, fear_effect, q,
    recommendation; ``ties``: ``SocialNetwork.ties``). Returns the buyers, in order, and
    whether each was recommended."""
    p, factor_code, factor_full, fear_effect, q, recommendation = rates
    indptr, indices, data, degree = ties
    n = len(owner)
    total = 0
    for h in range(n):
        total += owner[h]
    hour = now // 60
    buyers = np.empty(n - total, np.int64)
    recommended = np.empty(n - total, np.bool_)
    k = 0
    for h in range(n):
        if owner[h]:
            continue
        u = draw2(base, h, hour)
        rec = recommended_until[h] >= now
        spontaneous = p * (factor_code if rec else factor_full) * (1 + fear_effect * fear[h])
        extra = recommendation if rec else 0.0
        # 1 - exp(-x) <= x and the share <= 1: most households are ruled out before the ties
        # are counted (with a margin for rounding)
        if u >= (spontaneous + q + extra) / HOURS_PER_YEAR * (1 + 1e-9):
            continue
        if len(indptr) == 0:  # well mixed: the share of all other households
            share = (total - owner[h]) / max(n - 1, 1)
        else:
            owned = 0.0
            for j in range(indptr[h], indptr[h + 1]):
                owned += data[j] * np.float64(owner[indices[j]])
            share = owned / degree[h] if degree[h] > 0 else 0.0
        rate = spontaneous + q * share + extra
        if u < -math.expm1(-rate / HOURS_PER_YEAR):
            buyers[k], recommended[k] = h, rec
            k += 1
    return buyers[:k], recommended[:k]
