"""The nine published patterns of docs/sources.md as code: what each is, a statistic and a rule.

Pattern-oriented modelling (Grimm et al. 2005, *Science* 310: 987-991) judges a parameter set
by how many independent patterns it reproduces at once, in sign and order where no magnitude is
known. Each pattern is split into its claims (``PARTS``: 4a content, 4b opt-out, 4c E2EE...),
and each part is **labelled** (``LABELS``): *input* (it checks an input curve or parameter, or
holds by construction), *fitted* (a calibrated parameter was chosen to match it) or
*emergent* (implied by no single parameter). Only fitted and emergent parts count as
reproduced. Each part has

* a **statistic**, computed from a run's metrics (``sim/model/metrics.py``), or, for the two
  patterns that span years (1, partnerships; 2, adoption), from the parameters with the
  model's own code (the partnership date of ``sim.model.adoption.partnership_minute``; the adoption
  submodel run alone over six years, see ``adoption_path``);
* an **acceptance rule** with its source (the constants below; docs/calibration.md), decided
  on the statistic's 95 % interval in the checks, and the **events** it needs to be measured.

``pattern_checks`` runs the calibrated preset (by default the calibration ensemble's
representative set, ``scenarios/calibrated_district.toml``: sim/validation/ensemble.py) on three
independent seed sets and returns one ``sim.validation.checks.Check`` per part, "not measured" when
its
statistic rests on too few events (``run.py validate`` reports them); ``score_runs`` and
``calibrate`` score every design point of a calibration sweep
(``experiments/calibration.toml``; ``run.py calibrate``).
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.engine.rng import Streams, derive_seed
from sim.model.adoption import partner_agencies, partnership_minute
from sim.model.model import NeighbourhoodModel
from sim.runs.experiment import load_experiment
from sim.runs.outputs import atomic_write
from sim.runs.plots import SIMULATED_COLOUR, new_figure, save_named
from sim.runs.pool import map_tasks
from sim.runs.replicate import mean_ci, run_replications
from sim.runs.sweep import Store
from sim.scenario.scenario import Scenario, load
from sim.scenario.schema import BY_KEY
from sim.validation.checks import Check

ROOT = Path(__file__).resolve().parents[2]
# the preset ``run.py validate`` confirms: the ensemble's representative set
# (sim/validation/ensemble.py),
# joined with the adoption stage's chosen set
CALIBRATED = ROOT / "scenarios" / "calibrated_district.toml"
MINUTES_PER_YEAR = 365.25 * 1440

# --- pattern 1: partner agencies (docs/sources.md: 40 in 2018 ... about 2,680 in Jan 2024) -------
# (decimal year, agencies); July 2022 counts police (2,161) and fire (455) departments, as the
# logistic fit's plateau does.
PARTNER_COUNTS = ((2018.5, 40), (2019.6, 405), (2021.0, 2014), (2022.5, 2616), (2024.05, 2680))
PARTNER_PLATEAU = 2680
PARTNER_TOLERANCE = 0.05  # absolute, on the share of the plateau
# --- pattern 2: adoption (docs/sources.md: 4 % in 2017, about 20 % a few years later, 27 %) ------
ADOPTION_START = (2017.0, 0.04)
ADOPTION_BANDS = ((2020.5, 0.12, 0.28), (2023.5, 0.20, 0.35))  # (year, low, high)
# --- pattern 3: Fort Lauderdale 3.5 % response; Consumer Reports 10 % ever shared ----------
RESPONSE_BAND = (0.02, 0.06)
EVER_SHARED_BAND = (0.05, 0.15)
EVER_SHARED_TARGET = 0.10  # what calibrate aims the request probability at
# Owners in the Jan 2021 survey had been exposed to requests for about two years on average
# (the portal opened in 2018; adoption went from 4 % in 2017 to about 20 % by 2020): the
# share who ever shared is computed for two years of requests at the model's rate. This is an
# assumption, stated in docs/calibration.md.
OWNERSHIP_YEARS = 2.0
# docs/sources.md: about 11 to 16 requests per partner agency per year. A neighbourhood is at most
# an agency's whole area, so it cannot receive more.
REQUESTS_PER_YEAR_MAX = 16.0
# Measurement levers of the calibration world and of the pattern checks: police ask for footage
# of, and serve a legal demand for, every incident they know of. Requests and demands change
# nothing else in the neighbourhood (no feedback into walking, posting, incidents or adoption),
# so the runs hold every request police could make: the requests of a run at request
# probability r are an exact thinning of them (each known incident is asked about with
# probability r, a keyed draw), and pattern 3 is computed at r (``sharing_stats``). Pattern 4
# is a share of demands, whatever their number. Clearance (pattern 8) is then an upper bound.
MEASUREMENT = {"police.request_probability": 1.0, "legal.demand_probability": 1.0}
# --- pattern 4: legal content in roughly half of demands (57 %/68 % compliance; 4 in 10) ---
LEGAL_BAND = (0.35, 0.65)
OPT_OUT_TOLERANCE = 0.05  # "opting out does not change that"
# --- pattern 5: The Markup, more than 30 % of forwarded posts describe no crime -------------
NON_CRIME_BAND = (0.30, 0.90)
# --- pattern 7: VICE, most people posted are minority, under a modest bias -------------------
MODEST_BIAS = (1.0, 2.5)  # (exclusive, inclusive)
# --- pattern 8: NBC News 2020, footage rarely leads to arrests; deterrence 0 to ~15 % -------
CLEARED_MAX = 0.10
DETERRENCE_MAX = 0.15
# --- pattern 6b: majority areas bordering minority areas post more (Calacci et al. 2022) ----
BORDER_RATIO_MIN = 1.0  # posts per home, bordering / non-bordering majority tracts: above this
# --- pattern 9: 2021 legal demands (3,147; over 85 % warrants): content in about 4 of 10 ---
LEGAL_2021_BAND = (0.30, 0.50)
# Family of the 95 % intervals the checks decide on (docs/calibration.md, "Confirmation").
Z95 = 1.959964
SEED_SETS = 3  # independent seed sets a pattern must hold in (pattern_checks)

SOURCES = {
    1: "docs/sources.md: partner agencies 40 (2018), 405 (Aug 2019), 2,014 (end 2020), "
    "2,161 police + 455 fire (Jul 2022), about 2,680 (Jan 2024)",
    2: "docs/sources.md: US video-doorbell adoption 4 % (2017), about 20 % a few years later, "
    "27 % recently",
    3: "docs/sources.md: Fort Lauderdale 2018 (319 owners emailed, 3.5 % responded); Consumer "
    "Reports Jan 2021 (10 % of owners have shared footage with police)",
    4: "docs/sources.md: legal compliance 68 % (2019), 57 % (2020), content in about 4 of 10 "
    "(2021); legal demands bypass opt-out; E2EE makes content impossible to produce",
    5: "docs/sources.md: The Markup 2023, more than 30 % of 13,000 forwarded posts described "
    "no crime",
    6: "docs/sources.md: The Markup 2023 (whiter areas post more, report no more crime); Calacci, "
    "Shen & Pentland 2022",
    7: "docs/sources.md: VICE 2019, most people posted as suspicious were people of colour",
    8: "docs/sources.md: NBC News 2020 (13 of 40 agencies: no arrests from Ring footage); CCTV "
    "meta-analysis, modest deterrence (0 to about 15 %)",
    9: "docs/sources.md: legal demands in 2021, 3,147 (over 85 % search warrants), user content "
    "produced for about 4 in 10",
}
TITLES = {
    1: "partnership S-curve",
    2: "adoption from a few percent toward a quarter of homes",
    3: "about 3.5 % of emailed owners respond; about 10 % ever share",
    4: "legal demands give content in about half; opt-out does not change it, E2EE does",
    5: "over 30 % of forwarded posts describe no crime",
    6: "posting rises with the majority's share of an area, true crime does not; majority "
    "areas bordering minority areas post more",
    7: "a modest bias makes most people labelled suspicious minority",
    8: "footage rarely clears incidents; deterrence modest",
    9: "2021 legal demands: content in about 4 of 10",
}
NAMES = {
    1: "pattern.1.partnerships",
    2: "pattern.2.adoption",
    3: "pattern.3.sharing",
    4: "pattern.4.legal_content",
    5: "pattern.5.non_crime",
    6: "pattern.6.majority_posting",
    7: "pattern.7.suspicious_minority",
    8: "pattern.8.clearance",
    9: "pattern.9.legal_2021",
}

# ----------------------------------------------------------------------------- what each is

LABELS = {
    "input": "checks an input curve or parameter, or holds by construction: not counted as "
    "reproduced",
    "fitted": "a calibrated (or solved) parameter was chosen to match it: reproduced, but it "
    "shows the fit worked, not that the mechanisms are right",
    "emergent": "arises from several mechanisms together and is implied by no single parameter: "
    "the evidence that the model works",
}
REPRODUCED = ("fitted", "emergent")  # only these count as patterns reproduced


def events_needed(centre: float, half_width: float) -> int:
    """Events a share needs before its 95 % interval can fit a band: ``z^2 p (1 - p) / h^2``
    for a share ``p`` at the band's centre and the band's half-width ``h`` (binomial)."""
    return math.ceil(Z95**2 * centre * (1 - centre) / half_width**2)


@dataclass(frozen=True)
class Part:
    """One claim of a published pattern, with what it is and what it rests on.

    ``label`` is input, fitted or emergent (LABELS); ``why`` says why. ``events`` names what
    the statistic counts, and a check with fewer than ``min_events`` of them (in any seed
    set) is "not measured", never passed (docs/calibration.md explains each minimum).
    """

    key: str
    pattern: int
    claim: str
    label: str
    why: str
    events: str
    min_events: int

    @property
    def name(self) -> str:
        return f"pattern.{self.key}"


PARTS = (
    Part(
        "1",
        1,
        "partner agencies follow the published S-curve",
        "input",
        "signing dates are drawn from the published logistic fit (police.partnership_curve); "
        "only its plateau (police.partnership_share) is fitted: the check confirms the input "
        "is used",
        "agencies' signing dates drawn",
        events_needed(0.5, PARTNER_TOLERANCE),
    ),
    Part(
        "2",
        2,
        "adoption rises from 4 % (2017) to about 20 % and 27 %",
        "fitted",
        "stage 1 chose the Bass rates (adoption.*) and promotion.officers to match it",
        "adoption paths (each six and a half years of the 1,000-home world)",
        3,
    ),
    Part(
        "3a",
        3,
        "about 3.5 % of owners asked respond",
        "fitted",
        "set by requests.share_probability alone (sampled around 3.5 %), times having video",
        "owners who received a request",
        events_needed(0.04, 0.02),
    ),
    Part(
        "3b",
        3,
        "about 10 % of owners ever share",
        "fitted",
        "police.request_probability is solved so that 10 % ever share",
        "clips handed over",
        math.ceil((Z95 / 0.5) ** 2),
    ),
    Part(
        "3c",
        3,
        "at most 16 requests a year",
        "input",
        "holds by construction: the solve caps the request probability at 16 requests a year",
        "voluntary requests (police asking about every known incident)",
        20,
    ),
    Part(
        "4a",
        4,
        "legal demands give content in roughly half",
        "fitted",
        "legal.compliance (sampled 0.4-0.8) times the chance that stored video exists",
        "legal demands",
        events_needed(0.5, 0.15),
    ),
    Part(
        "4b",
        4,
        "opting out does not change legal content",
        "input",
        "holds by construction: legal demands skip the owners' opt-out",
        "legal demands",
        events_needed(0.5, 0.15),
    ),
    Part(
        "4c",
        4,
        "end-to-end encryption lowers legal content",
        "input",
        "holds by construction: encrypted video cannot be produced",
        "legal demands",
        events_needed(0.5, 0.15),
    ),
    Part(
        "5",
        5,
        "over 30 % of posts describe no crime",
        "fitted",
        "reporting.base_rate and reporting.victim_post_probability are sampled against it",
        "posts",
        events_needed(0.6, 0.3),
    ),
    Part(
        "6a",
        6,
        "posting rises with the majority's share of an area, true crime does not",
        "emergent",
        "no parameter sets the slope: gatekeeping raises majority-area owners' bias, "
        "segregation lowers the minority passers-by they see, victims' posts follow incidents",
        "posts and incidents (the fewer)",
        100,
    ),
    Part(
        "6b",
        6,
        "majority areas bordering minority areas post more than those that do not",
        "emergent",
        "no parameter refers to borders: it comes from who walks past which homes "
        "(minority passers-by near the border) times owners' bias and gatekeeping",
        "posts from majority tracts",
        100,
    ),
    Part(
        "7",
        7,
        "a modest bias makes most people posted minority",
        "fitted",
        "implied by reporting.bias alone: with equal exposure the minority share of posts is "
        "0.4 k / (0.4 k + 0.6), above 0.5 for k > 1.5 (0.62 at k = 2.49)",
        "posts",
        events_needed(0.62, 0.12),
    ),
    Part(
        "8a",
        8,
        "footage rarely clears incidents",
        "emergent",
        "the product of police knowing, asking, footage holding the offender and "
        "identification: no single parameter sets it (it constrains little: every set of the "
        "first calibration met it)",
        "incidents",
        events_needed(0.05, 0.05),
    ),
    Part(
        "8b",
        8,
        "deterrence is modest",
        "input",
        "checks the parameter incidents.deterrence against the meta-analysis",
        "none (a parameter)",
        0,
    ),
    Part(
        "9",
        9,
        "2021 legal demands: content in about 4 of 10",
        "fitted",
        "the statistic of 4a (legal.compliance times stored video) held to the 2021 figure; "
        "the 3,147 demands and the 85 % warrants have no counterpart in a neighbourhood "
        "model that does not tell warrants from subpoenas",
        "legal demands",
        events_needed(0.4, 0.1),
    ),
)
PART = {p.key: p for p in PARTS}


def _in(x: float | None, band: tuple[float, float]) -> bool:
    return x is not None and math.isfinite(x) and band[0] <= x <= band[1]


# ----------------------------------------------------------------------------- statistics


def partnership_years(params: Scenario, seeds: Sequence[int]) -> np.ndarray:
    """The decimal year each seed's agency signs (inf: never), exactly as the model draws it
    (``sim.model.adoption.partnership_minute`` with the run's random streams)."""
    p = params.replace({"time.start_year": 2010.0})
    years = []
    for s in seeds:
        minute = partnership_minute(p, Streams(int(s)))
        years.append(math.inf if minute is None else 2010.0 + minute / MINUTES_PER_YEAR)
    return np.array(years)


def partnership_shares(years: np.ndarray) -> np.ndarray:
    """Share of agencies partnered at each date of PARTNER_COUNTS."""
    return np.array([np.mean(years <= date) for date, _ in PARTNER_COUNTS])


def partnership_rule(shares: Sequence[float], n: int) -> bool:
    """Every date within PARTNER_TOLERANCE (or two binomial standard errors, if larger) of the
    published count as a share of the plateau, and never falling."""
    ok = np.all(np.diff(shares) >= 0)
    for share, (_, count) in zip(shares, PARTNER_COUNTS, strict=True):
        target = count / PARTNER_PLATEAU
        tol = max(PARTNER_TOLERANCE, 2 * math.sqrt(target * (1 - target) / max(n, 1)))
        ok &= abs(share - target) <= tol
    return bool(ok)


def adoption_path(params: Scenario, seed: int) -> np.ndarray:
    """Share of homes owning a camera at ADOPTION_START and each ADOPTION_BANDS year.

    The adoption submodel (``sim.model.adoption.Adoption``: purchases every hour, churn, lapses,
    promotion contacts and installations every day) runs alone over the six and a half years,
    in the model's world and with its random streams, starting from the 2017 share. Walking is
    left out (a minute-by-minute model over six years would take minutes per run), so fear is
    held at zero and officers place no free devices at incidents: both only add purchases.
    """
    start_year, start_share = ADOPTION_START
    years = ADOPTION_BANDS[-1][0] - start_year
    p = params.replace(
        {
            "cameras.adoption": start_share,
            "population.pedestrians": 10,
            "time.days": 1.0,
            "protest.per_30_days": 0.0,
        }
    )
    model = NeighbourhoodModel(p, rng=seed)
    adoption = model.adoption
    fear = np.zeros(model.world.homes.count)
    marks = {round((y - start_year) * 8760): i for i, (y, _, _) in enumerate(ADOPTION_BANDS)}
    out = np.zeros(len(ADOPTION_BANDS) + 1)
    out[0] = adoption.owner.mean()
    for hour in range(1, round(years * 8760) + 1):
        now = hour * 60
        if now % 1440 == 0:
            adoption.daily(now // 1440, now)
        adoption.hourly(now, fear)
        if hour in marks:
            out[marks[hour] + 1] = adoption.owner.mean()
    return out


def adoption_rule(path: Sequence[float]) -> bool:
    """Starts at a few percent, ends in each year's band, and rises between the dates."""
    ok = path[0] <= 0.06 and all(b > a for a, b in itertools.pairwise(path))
    for x, (_, low, high) in zip(path[1:], ADOPTION_BANDS, strict=True):
        ok = ok and low <= x <= high
    return bool(ok)


def pooled(
    func: Callable[[dict[str, float]], float | None],
    columns: dict[str, Sequence[float]],
    level: float = 0.95,
) -> tuple[float | None, float | None, float | None]:
    """A statistic of totals pooled over replications, with a confidence interval.

    ``func`` maps the totals of ``columns`` (one value per replication each, e.g. responders
    and recipients) to the statistic (e.g. their ratio). Pooling counts before dividing weighs
    every request, post or demand equally, where a mean of per-run ratios would weigh a run with
    one demand like a run with twenty. The interval is the Student-t interval of the
    linearisation (delta method) over replications, the standard interval of a ratio estimator
    with replications as clusters: ``var = n var(grad . x_i)``, ``n - 1`` degrees of freedom.
    Returns (value, low, high); (None, None, None) when ``func`` is undefined at the totals;
    no interval with fewer than two replications.
    """
    from scipy import stats

    names = list(columns)
    x = np.array([[float(v) for v in columns[k]] for k in names], float).T  # runs x columns
    n = len(x)
    if n == 0:
        return None, None, None
    totals = x.sum(axis=0)
    value = func(dict(zip(names, totals, strict=True)))
    if value is None or not math.isfinite(value):
        return None, None, None
    if n < 2:
        return float(value), None, None
    grad = np.zeros(len(names))
    for j in range(len(names)):
        h = 1e-6 * max(abs(totals[j]), 1.0)
        up = totals.copy()
        up[j] += h
        moved = func(dict(zip(names, up, strict=True)))
        grad[j] = 0.0 if moved is None else (moved - value) / h
    z = x @ grad
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * math.sqrt(n * z.var(ddof=1)))
    return float(value), float(value) - half, float(value) + half


def _ratio(num: str, den: str) -> Callable[[dict[str, float]], float | None]:
    return lambda t: t[num] / t[den] if t[den] > 0 else None


def ever_shared(per_receipt: float, receipts_per_year: float, request_probability: float) -> float:
    """Share of owners who ever shared footage over OWNERSHIP_YEARS: ``1 - (1 - s)^k``.

    ``s`` is the chance that an owner hands over footage when a request reaches them (a keyed,
    independent draw per owner and request in the model, times having stored video), and ``k``
    the requests that reach an owner in OWNERSHIP_YEARS: the receipts per owner per year when
    police ask about every known incident, thinned by the request probability.
    """
    k = OWNERSHIP_YEARS * receipts_per_year * request_probability
    return 1 - (1 - min(max(per_receipt, 0.0), 1.0)) ** k


def sharing_stats(rows: Sequence[dict], request_probability: float | None = None) -> dict:
    """Pattern 3's statistics from replications run with MEASUREMENT (police ask about every
    known incident), at ``request_probability`` or, when None, at the one that calibrate
    solves for (``solve_request_probability``).

    Each row needs ``requests.recipients``, ``requests.response_rate``,
    ``footage.clips_shared``, ``requests.voluntary``, ``cameras.count`` and ``time.days``, the
    days over which requests were made (recipients and clips are counted per camera).
    Returns (value, low, high) triples for ``response_rate`` (responders / recipients),
    ``per_receipt`` (clips handed over / recipients), ``ever_shared`` and
    ``requests_per_year`` (requests reaching the neighbourhood a year at the request
    probability), and ``request_probability``.
    """
    cols = {
        "rec": [r.get("requests.recipients") or 0 for r in rows],
        "resp": [
            (r.get("requests.response_rate") or 0) * (r.get("requests.recipients") or 0)
            for r in rows
        ],
        "clips": [r.get("footage.clips_shared") or 0 for r in rows],
        "req": [r.get("requests.voluntary") or 0 for r in rows],
        "cam_years": [(r.get("cameras.count") or 0) * r["time.days"] / 365.25 for r in rows],
        "years": [r["time.days"] / 365.25 for r in rows],
    }
    rp = request_probability
    if rp is None:
        t = {k: float(np.sum(v)) for k, v in cols.items()}
        rp = solve_request_probability(
            t["clips"] / t["rec"] if t["rec"] > 0 else 0.0,
            t["rec"] / t["cam_years"] if t["cam_years"] > 0 else 0.0,
            t["req"] / t["years"] if t["years"] > 0 else 0.0,
        )

    def ever(t: dict[str, float]) -> float | None:
        if t["rec"] <= 0 or t["cam_years"] <= 0 or rp is None:
            return None
        return ever_shared(t["clips"] / t["rec"], t["rec"] / t["cam_years"], rp)

    return {
        "request_probability": rp,
        "response_rate": pooled(_ratio("resp", "rec"), cols),
        "per_receipt": pooled(_ratio("clips", "rec"), cols),
        "ever_shared": pooled(ever, cols),
        "requests_per_year": pooled(
            lambda t: None if rp is None or t["years"] <= 0 else rp * t["req"] / t["years"], cols
        ),
    }


def solve_request_probability(
    per_receipt: float, receipts_per_year: float, requests_per_year: float
) -> float | None:
    """The request probability at which EVER_SHARED_TARGET of owners ever share, capped so
    that at most REQUESTS_PER_YEAR_MAX requests a year reach the neighbourhood (and at 1).

    ``ever_shared`` is ``1 - (1 - s)^(Y k r)`` for receipts ``k`` a year at r = 1, so
    ``r = log(1 - target) / (Y k log(1 - s))``. None when nobody can share (s or k zero).
    """
    if per_receipt <= 0 or receipts_per_year <= 0 or per_receipt >= 1:
        return None
    r = math.log(1 - EVER_SHARED_TARGET) / (
        OWNERSHIP_YEARS * receipts_per_year * math.log(1 - per_receipt)
    )
    if requests_per_year > 0:
        r = min(r, REQUESTS_PER_YEAR_MAX / requests_per_year)
    return float(min(r, 1.0))


# Rules. Every statistic may be given as a value (calibration's screening) or as a triple
# (value, low, high): then its 95 % interval decides (the checks, docs/calibration.md,
# "Confirmation"): a band must hold the whole interval, a lower limit its low end, an upper
# limit its high end. A triple without an interval is decided on its value.

Stat = float | None | tuple


def _triple(x: Stat) -> tuple:
    return x if isinstance(x, tuple) else (x, None, None)


def within(stat: Stat, band: tuple[float, float]) -> bool:
    """The statistic (its interval, if it has one) inside the band."""
    m = _triple(stat)
    if m[1] is not None:
        return _in(m[1], band) and _in(m[2], band)
    return _in(m[0], band)


def above(stat: Stat, limit: float) -> bool:
    """The statistic (its interval's low end, if it has one) above the limit."""
    m = _triple(stat)
    x = m[1] if m[1] is not None else m[0]
    return bool(x is not None and math.isfinite(x) and x > limit)


def at_most(stat: Stat, limit: float) -> bool:
    """The statistic (its interval's high end, if it has one) at most the limit."""
    m = _triple(stat)
    x = m[2] if m[2] is not None else m[0]
    return bool(x is not None and math.isfinite(x) and x <= limit)


def sharing_rule(response_rate: Stat, ever: Stat, requests_per_year: Stat = 0.0) -> bool:
    """Response (3a) and ever-sharing (3b) in their bands, with no more requests a year than an
    agency makes (3c, REQUESTS_PER_YEAR_MAX)."""
    return (
        within(response_rate, RESPONSE_BAND)
        and within(ever, EVER_SHARED_BAND)
        and at_most(requests_per_year, REQUESTS_PER_YEAR_MAX)
    )


def pooled_slope(
    slopes: Sequence[float | None], ses: Sequence[float | None], level: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """Replications' slopes pooled by inverse variance (fixed-effect meta-analysis): mean
    ``sum(b / se^2) / sum(1 / se^2)``, standard error ``1 / sqrt(sum(1 / se^2))``, normal
    interval. Runs without a slope or with a zero error are left out. Pattern 6: each run has
    few posts, so one run's slope is noisy; pooling is a regression over all replications' homes.
    """
    from scipy import stats

    pairs = [
        (b, se)
        for b, se in zip(slopes, ses, strict=True)
        if b is not None and se is not None and math.isfinite(b) and math.isfinite(se) and se > 0
    ]
    if not pairs:
        return None, None, None
    w = np.array([1 / se**2 for _, se in pairs])
    b = np.array([b for b, _ in pairs])
    mean = float(w @ b / w.sum())
    half = float(stats.norm.ppf(0.5 + level / 2) / math.sqrt(w.sum()))
    return mean, mean - half, mean + half


def opt_out_rule(diff: tuple) -> bool:
    """4b: the paired change (mean, low, high) of legal content with more opt-out is
    equivalent to none: its interval inside +-OPT_OUT_TOLERANCE (an interval that merely holds
    0 could be too wide to tell anything)."""
    return within(diff, (-OPT_OUT_TOLERANCE, OPT_OUT_TOLERANCE))


def e2ee_rule(diff: tuple) -> bool:
    """4c: the paired change of legal content with E2EE everywhere is negative: its
    interval's high end below 0."""
    m = _triple(diff)
    return bool(m[2] is not None and m[2] < 0)


def legal_rule(
    level: Stat, opt_out_diff: tuple | None = None, e2ee_diff: tuple | None = None
) -> bool:
    """Content in LEGAL_BAND (4a); when given, the paired differences (mean, low, high) with
    more opt-out (4b, ``opt_out_rule``) and with E2EE everywhere (4c, ``e2ee_rule``)."""
    ok = within(level, LEGAL_BAND)
    if opt_out_diff is not None:
        ok = ok and opt_out_rule(opt_out_diff)
    if e2ee_diff is not None:
        ok = ok and e2ee_rule(e2ee_diff)
    return bool(ok)


def non_crime_rule(fraction: Stat) -> bool:
    return within(fraction, NON_CRIME_BAND)


def majority_rule(posts: tuple, incidents: tuple) -> bool:
    """Posts: the relative slope's interval (mean, low, high) above 0. Incidents: no such
    rise (interval reaching 0 or below), and a smaller mean slope than posts."""
    pm, plo, _ = posts
    im, ilo, _ = incidents
    if pm is None or plo is None or im is None or ilo is None:
        return False
    return bool(plo > 0 and ilo <= 0 and im < pm)


def border_rule(ratio: Stat) -> bool:
    """6b: posts per home in majority tracts bordering a minority tract over those in
    majority tracts that do not, above BORDER_RATIO_MIN."""
    return above(ratio, BORDER_RATIO_MIN)


def minority_rule(share: Stat, bias: float) -> bool:
    """Most posts are about minority people, with a modest bias (MODEST_BIAS)."""
    return above(share, 0.5) and MODEST_BIAS[0] < bias <= MODEST_BIAS[1]


def deterrence_rule(deterrence: float) -> bool:
    """8b: the deterrence parameter is modest (an input check)."""
    return deterrence <= DETERRENCE_MAX


def clearance_rule(cleared: Stat, deterrence: float) -> bool:
    """8a (few incidents cleared through footage) and 8b."""
    return at_most(cleared, CLEARED_MAX) and deterrence_rule(deterrence)


def _counts(rows: Sequence[dict], fraction: str, denominator: str) -> dict[str, list[float]]:
    """Numerator and denominator per run of a metric that is a fraction of a count."""
    num, den = [], []
    for r in rows:
        d = r.get(denominator) or 0
        f = r.get(fraction)
        num.append(0.0 if f is None or not d else float(f) * d)
        den.append(float(d))
    return {"num": num, "den": den}


STATISTICS = (
    # name, what it is (report and docs), pattern
    ("response_rate", "owners who respond to a request (pooled responders / recipients)", 3),
    ("ever_shared", f"owners who ever share in {OWNERSHIP_YEARS:g} years of requests", 3),
    ("requests_per_year", "requests reaching the neighbourhood a year", 3),
    ("legal_content", "legal demands that produce content (pooled)", 4),
    ("non_crime", "posts not about an incident (pooled)", 5),
    ("posts_majority_slope", "relative slope of posts per home on majority share", 6),
    ("incidents_majority_slope", "relative slope of incidents per home on majority share", 6),
    ("minority_share", "posts about minority people (pooled)", 7),
    ("cleared", "incidents cleared through footage (pooled; upper bound)", 8),
    ("border_ratio", "posts per home, bordering / non-bordering majority tracts (pooled)", 6),
    (
        "border_incident_ratio",
        "incidents per home, bordering / non-bordering majority tracts (pooled)",
        6,
    ),
)


def _total(rows: Sequence[dict], key: str) -> float:
    return float(sum(r.get(key) or 0 for r in rows))


def events_of(rows: Sequence[dict]) -> dict[str, int]:
    """How many events each neighbourhood part's statistic rests on (PARTS' ``events``)."""
    clips = _total(rows, "footage.clips_shared")
    legal = _total(rows, "requests.legal")
    posts = _total(rows, "reports.total")
    return {
        "3a": int(_total(rows, "requests.recipients")),
        "3b": int(clips),
        "3c": int(_total(rows, "requests.voluntary")),
        "4a": int(legal),
        "5": int(posts),
        "6a": int(min(posts, _total(rows, "incidents.total"))),
        "6b": int(_total(rows, "reports.border_posts") + _total(rows, "reports.interior_posts")),
        "7": int(posts),
        "8a": int(_total(rows, "incidents.total")),
        "9": int(legal),
    }


def neighbourhood_stats(
    rows: Sequence[dict],
    params: Scenario,
    request_probability: float | None = None,
    intervals: bool = False,
) -> dict:
    """Patterns 3 to 9 from replications run with MEASUREMENT: the one implementation that
    both the calibration (``score_runs``) and the pattern checks use.

    Args:
        rows: one dict of metrics per replication (``sim.model.metrics``; ``time.days`` is added).
        params: the parameter set (reporting.bias and incidents.deterrence enter the rules).
        request_probability: the set's police.request_probability; None to solve it
            (``solve_request_probability``, calibration).
        intervals: decide banded parts on their 95 % intervals (wholly inside the band, or
            beyond a threshold), as the pattern checks do; False (calibration's screening):
            on their values.
    Returns:
        {statistic: (value, low, high)} for STATISTICS, ``request_probability``,
        ``events`` ({part: count}, ``events_of``), ``part.<key>`` booleans for the parts of
        patterns 3-9 (before the events minimum; 4b and 4c need variant runs and are left to
        ``pattern_checks``) and ``pattern.<k>`` booleans for k = 3..9 (6: both 6a and 6b).
    """
    # requests follow incidents by police.request_delay_hours: the requests of a run come from
    # the incidents of its first days - delay, the time over which request rates are counted
    days = max(0.0, float(params["time.days"]) - float(params["police.request_delay_hours"]) / 24)
    rows = [{**r, "time.days": days} for r in rows]
    out: dict = {}
    share = sharing_stats(rows, request_probability)
    out["request_probability"] = share["request_probability"]
    for k in ("response_rate", "ever_shared", "requests_per_year"):
        out[k] = share[k]
    ratio = _ratio("num", "den")
    out["legal_content"] = pooled(
        ratio, _counts(rows, "footage.legal_content_fraction", "requests.legal")
    )
    out["non_crime"] = pooled(ratio, _counts(rows, "reports.non_crime_fraction", "reports.total"))
    out["minority_share"] = pooled(ratio, _counts(rows, "reports.minority_share", "reports.total"))
    out["cleared"] = pooled(ratio, _counts(rows, "incidents.cleared_fraction", "incidents.total"))
    for name, key in (
        ("posts_majority_slope", "reports.majority_slope"),
        ("incidents_majority_slope", "incidents.majority_slope"),
    ):
        out[name] = pooled_slope([r.get(key) for r in rows], [r.get(f"{key}_se") for r in rows])
    for name, kind in (("border_ratio", "posts"), ("border_incident_ratio", "")):
        b, i = (
            ("reports.border_posts", "reports.interior_posts")
            if kind
            else (
                "incidents.border",
                "incidents.interior",
            )
        )
        cols = {
            "b": [r.get(b) or 0 for r in rows],
            "bh": [r.get("reports.border_homes") or 0 for r in rows],
            "i": [r.get(i) or 0 for r in rows],
            "ih": [r.get("reports.interior_homes") or 0 for r in rows],
        }
        out[name] = pooled(
            lambda t: (
                t["b"] / t["bh"] / (t["i"] / t["ih"])
                if t["bh"] > 0 and t["ih"] > 0 and t["i"] > 0
                else None
            ),
            cols,
        )
    out["events"] = events_of(rows)

    def decided(name: str) -> Stat:  # what the rules decide on: a value or its interval
        return out[name] if intervals else out[name][0]

    parts = {
        "3a": within(decided("response_rate"), RESPONSE_BAND),
        "3b": within(decided("ever_shared"), EVER_SHARED_BAND),
        "3c": at_most(decided("requests_per_year"), REQUESTS_PER_YEAR_MAX),
        "4a": legal_rule(decided("legal_content")),
        "5": non_crime_rule(decided("non_crime")),
        "6a": majority_rule(out["posts_majority_slope"], out["incidents_majority_slope"]),
        "6b": border_rule(decided("border_ratio")),
        "7": minority_rule(decided("minority_share"), float(params["reporting.bias"])),
        "8a": at_most(decided("cleared"), CLEARED_MAX),
        "8b": deterrence_rule(float(params["incidents.deterrence"])),
        "9": within(decided("legal_content"), LEGAL_2021_BAND),
    }
    for key, ok in parts.items():
        out[f"part.{key}"] = bool(ok)
    out["pattern.3"] = bool(parts["3a"] and parts["3b"] and parts["3c"])
    out["pattern.4"] = bool(parts["4a"])
    out["pattern.5"] = bool(parts["5"])
    out["pattern.6"] = bool(parts["6a"] and parts["6b"])
    out["pattern.7"] = bool(parts["7"])
    out["pattern.8"] = bool(parts["8a"] and parts["8b"])
    out["pattern.9"] = bool(parts["9"])
    return out


# ----------------------------------------------------------------------------- checks


def _ci(values: Sequence[float | None]) -> tuple[float | None, float | None, float | None]:
    return mean_ci(list(values))


SIZES = {
    # replications per seed set, partnership draws and adoption paths per seed set, overrides
    "quick": (6, 400, 1, {}),
    "full": (12, 2000, 3, {}),
}
SEED_SET_KEY = 1000  # seed set i's root is derive_seed(seed, SEED_SET_KEY + i)


@dataclass
class _Outcome:
    """One part in one seed set: its statistic (value, low, high), events and the rule."""

    stat: tuple
    events: int
    passed: bool


def _set_outcomes(
    params: Scenario,
    root: int,
    reps: int,
    n_partner: int,
    n_adopt: int,
    workers: int,
    keys: set[str],
    say: Callable[[str], None],
    label: str,
) -> tuple[dict[str, _Outcome], dict]:
    """Every part in ``keys`` for one seed set; also the raw material the report pools
    (partnership shares, adoption paths, the replications' metrics)."""

    out: dict[str, _Outcome] = {}
    raw: dict = {}
    if "1" in keys:
        say(f"patterns ({label}): {n_partner} partnership dates")
        seeds = [derive_seed(root, r) for r in range(n_partner)]
        shares = partnership_shares(partnership_years(params, seeds))
        k = 2  # the end-2020 point, the steep part of the S
        half = Z95 * math.sqrt(shares[k] * (1 - shares[k]) / n_partner)
        out["1"] = _Outcome(
            (float(shares[k]), float(shares[k] - half), float(shares[k] + half)),
            n_partner,
            partnership_rule(shares, n_partner),
        )
        raw["shares"] = shares
    if "2" in keys:
        say(f"patterns ({label}): {n_adopt} adoption path(s) 2017-2023")
        paths = np.array([adoption_path(params, derive_seed(root, r)) for r in range(n_adopt)])
        cis = [_ci(paths[:, j].tolist()) for j in range(1, paths.shape[1])]
        ok = adoption_rule(paths.mean(axis=0)) and all(
            within(m, (lo, hi)) for m, (_, lo, hi) in zip(cis, ADOPTION_BANDS, strict=True)
        )
        out["2"] = _Outcome(cis[-1], n_adopt, bool(ok))
        raw["paths"] = paths
    hood = keys & {p.key for p in PARTS if p.pattern >= 3}
    if not hood:
        return out, raw
    measured = params.replace(MEASUREMENT)

    def replicate(p: Scenario, what: str) -> list[dict]:
        say(f"patterns ({label}): {reps} replications ({what})")
        return [m for _, m, _ in run_replications(p, reps, root, workers)]

    base = replicate(measured, "the preset")
    raw["base"] = base
    stats = neighbourhood_stats(base, params, params["police.request_probability"], True)
    events = stats["events"]
    for key, stat in (
        ("3a", "response_rate"),
        ("3b", "ever_shared"),
        ("3c", "requests_per_year"),
        ("4a", "legal_content"),
        ("5", "non_crime"),
        ("6a", "posts_majority_slope"),
        ("6b", "border_ratio"),
        ("7", "minority_share"),
        ("8a", "cleared"),
        ("9", "legal_content"),
    ):
        if key in keys:
            out[key] = _Outcome(stats[stat], events[key], stats[f"part.{key}"])
    if "8b" in keys:
        d = float(params["incidents.deterrence"])
        out["8b"] = _Outcome((d, None, None), 0, stats["part.8b"])
    field = "footage.legal_content_fraction"
    if "4b" in keys:
        more = min(1.0, params["requests.opt_out"] + 0.4)
        opted = replicate(measured.replace({"requests.opt_out": more}), "more opt-out")
        d = _paired(base, opted, field)
        out["4b"] = _Outcome(d, events["4a"], opt_out_rule(d))
        raw["opted"] = opted
    if "4c" in keys:
        e2ee = replicate(measured.replace({"privacy.e2ee": 1.0}), "E2EE everywhere")
        d = _paired(base, e2ee, field)
        out["4c"] = _Outcome(d, events["4a"], e2ee_rule(d))
        raw["e2ee"] = e2ee
    return out, raw


def _paired(a: list[dict], b: list[dict], key: str) -> tuple:
    """Mean paired difference b - a of a metric over replications, with its interval."""
    diffs = [
        y[key] - x[key]
        for x, y in zip(a, b, strict=True)
        if x.get(key) is not None and y.get(key) is not None
    ]
    return _ci(diffs)


def verdict(outcomes: Sequence[_Outcome], min_events: int) -> str:
    """The result over seed sets, "pass", "fail" or "not measured": a set that measured the
    part and failed it fails it; otherwise a set with fewer than ``min_events`` events (or no
    statistic) leaves it not measured; it passes only when every set measured and passed it."""
    states = [_state(o, min_events) for o in outcomes]
    if "failed" in states:
        return "fail"
    if "too few events" in states:
        return "not measured"
    return "pass"


def _state(o: _Outcome, min_events: int) -> str:
    """One seed set's result for a part: passed, failed or too few events."""
    if o.events < min_events or o.stat[0] is None:
        return "too few events"
    return "passed" if o.passed else "failed"


@dataclass
class PartResult:
    """One part's numbers over the seed sets: each set's outcome, the verdict ("pass",
    "fail" or "not measured") and the statistic pooled over the sets (value, low, high)."""

    outcomes: list[_Outcome]
    verdict: str
    observed: tuple


@dataclass
class PatternResults:
    """What the pattern checks compute (runs and statistics), before any figure or prose."""

    params: Scenario
    scenario: str | Path | Scenario
    size: str
    seed_sets: int
    parts: dict[str, PartResult]
    raws: list[dict]  # per seed set: the raw runs and paths the statistics came from
    pooled_stats: dict | None  # neighbourhood statistics over every set's base runs


def pattern_checks(
    size: str = "full",
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
    out_dir: str | Path | None = None,
    scenario: str | Path | Scenario = CALIBRATED,
    seed: int = 20251,
    seed_sets: int = SEED_SETS,
    only: Sequence[str] | None = None,
) -> list[Check]:
    """Check a scenario (by default the calibrated preset) against every part of the
    published patterns, on ``seed_sets`` independent seed sets.

    Each part (PARTS) is decided in each seed set on its 95 % interval (``within``;
    docs/calibration.md, "Confirmation"), and is confirmed ("pass") only when every set has
    at least its ``min_events`` events and passes; a set that measured it and failed fails
    it; otherwise it is "not measured" (``Check.measured`` False), never passed. The observed
    value reported pools all sets.

    Args:
        size: "quick" (6 replications per set of the scenario and of two variants, one
            adoption path: under a minute, for tests; several parts are then not measured)
            or "full" (12 replications per set, 3 adoption paths: a few minutes).
        workers: processes for replications (default: the machine's cores, at most 2).
        progress: called with a line of text before each stage.
        out_dir: folder for figures (patterns 1 and 2); none drawn when omitted.
        scenario: the scenario to check (a file, default scenarios/calibrated_district.toml, or a
            Scenario).
        seed: root seed; seed set i runs from ``derive_seed(seed, SEED_SET_KEY + i)``.
        seed_sets: how many independent seed sets must confirm each part.
        only: part keys to check (e.g. ``("5", "7")``); all parts when None.
    """
    results = pattern_results(size, workers, progress, scenario, seed, seed_sets, only)
    return render_checks(results, out_dir)


def pattern_results(
    size: str = "full",
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
    scenario: str | Path | Scenario = CALIBRATED,
    seed: int = 20251,
    seed_sets: int = SEED_SETS,
    only: Sequence[str] | None = None,
) -> PatternResults:
    """The runs and statistics of ``pattern_checks`` (same arguments, no figures, no prose)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}")
    keys = [p.key for p in PARTS] if only is None else list(only)
    unknown = [k for k in keys if k not in PART]
    if unknown:
        raise ValueError(f"unknown pattern part(s) {', '.join(unknown)}: one of {', '.join(PART)}")
    reps, n_partner, n_adopt, overrides = SIZES[size]
    workers = workers or min(os.cpu_count() or 1, 2)
    say = progress or (lambda text: None)
    params = (scenario if isinstance(scenario, Scenario) else load(scenario)).replace(overrides)
    sets = []
    for i in range(seed_sets):
        root = derive_seed(seed, SEED_SET_KEY + i)
        sets.append(
            _set_outcomes(
                params,
                root,
                reps,
                n_partner,
                n_adopt,
                workers,
                set(keys),
                say,
                f"seed set {i + 1} of {seed_sets}",
            )
        )
    raws = [raw for _, raw in sets]
    pooled_stats = None
    if any("base" in r for r in raws):
        rows = [m for r in raws for m in r.get("base", [])]
        pooled_stats = neighbourhood_stats(rows, params, params["police.request_probability"], True)
    parts = {}
    for key in keys:
        outcomes = [o[key] for o, _ in sets]
        parts[key] = PartResult(
            outcomes,
            verdict(outcomes, PART[key].min_events),
            _pooled_observed(key, raws, pooled_stats, n_partner, params),
        )
    return PatternResults(params, scenario, size, seed_sets, parts, raws, pooled_stats)


def render_checks(results: PatternResults, out_dir: str | Path | None = None) -> list[Check]:
    """The checks of ``pattern_results``: each part's prose, and the figures of patterns 1
    and 2 into ``out_dir`` (none when omitted)."""
    reps, n_partner, n_adopt, _ = SIZES[results.size]
    params, raws = results.params, results.raws
    checks = []
    for key, res in results.parts.items():
        part = PART[key]
        outcomes, observed = res.outcomes, res.observed
        per_set = "; ".join(
            f"set {i + 1}: {_show(o.stat)}, {o.events} events, {_state(o, part.min_events)}"
            for i, o in enumerate(outcomes)
        )
        figure = None
        if out_dir and key == "1":
            figure = _figure_partnerships(np.mean([r["shares"] for r in raws], axis=0), out_dir)
        if out_dir and key == "2":
            figure = _figure_adoption(np.vstack([r["paths"] for r in raws]), out_dir)
        checks.append(
            Check(
                part.name,
                "pattern",
                f"{part.claim} ({part.label})",
                EXPECTED[key],
                observed[0],
                _pair(observed),
                res.verdict == "pass",
                f"{part.label}: {part.why}. {results.seed_sets} independent seed sets of "
                f"{_how(key, reps, n_partner, n_adopt, params, results.scenario)}; each decides "
                f"on its 95 % interval and needs at least {part.min_events} {part.events}. "
                f"{per_set}. {_context(key, results.pooled_stats, params)}".rstrip(),
                figure,
                SOURCES[part.pattern],
                label=part.label,
                events=min(o.events for o in outcomes),
                min_events=part.min_events,
                measured=res.verdict != "not measured",
            )
        )
    return checks


EXPECTED = {
    "1": "share of agencies partnered within 0.05 (or 2 binomial SE) of "
    + ", ".join(f"{c / PARTNER_PLATEAU:.3f} ({d:g})" for d, c in PARTNER_COUNTS)
    + ", never falling",
    "2": "from 4 % (2017) rising; 95 % CI of the mean path inside "
    + ", ".join(f"[{lo:.2f}, {hi:.2f}] in {y:g}" for y, lo, hi in ADOPTION_BANDS),
    "3a": f"requests.response_rate CI inside [{RESPONSE_BAND[0]:.2f}, {RESPONSE_BAND[1]:.2f}]",
    "3b": f"owners ever sharing in {OWNERSHIP_YEARS:g} years: CI inside "
    f"[{EVER_SHARED_BAND[0]:.2f}, {EVER_SHARED_BAND[1]:.2f}]",
    "3c": f"requests a year: CI at most {REQUESTS_PER_YEAR_MAX:g}",
    "4a": f"footage.legal_content_fraction CI inside [{LEGAL_BAND[0]:.2f}, {LEGAL_BAND[1]:.2f}]",
    "4b": f"paired change with opt-out +0.4: CI inside +-{OPT_OUT_TOLERANCE}",
    "4c": "paired change with E2EE everywhere: CI below 0",
    "5": f"reports.non_crime_fraction CI inside [{NON_CRIME_BAND[0]:.2f}, {NON_CRIME_BAND[1]:.2f}]",
    "6a": "relative slope of posts per home on the area's majority share: CI above 0; of "
    "incidents: CI reaching 0 or below, mean below the posts'",
    "6b": "posts per home, majority tracts bordering a minority tract / those not bordering: "
    f"CI above {BORDER_RATIO_MIN:g}",
    "7": f"reports.minority_share CI above 0.5 with reporting.bias in ({MODEST_BIAS[0]:g}, "
    f"{MODEST_BIAS[1]:g}]",
    "8a": f"incidents.cleared_fraction CI at most {CLEARED_MAX:.2f} (an upper bound)",
    "8b": f"incidents.deterrence at most {DETERRENCE_MAX:.2f}",
    "9": f"footage.legal_content_fraction CI inside [{LEGAL_2021_BAND[0]:.2f}, "
    f"{LEGAL_2021_BAND[1]:.2f}]",
}
STAT_OF = {
    "3a": "response_rate",
    "3b": "ever_shared",
    "3c": "requests_per_year",
    "4a": "legal_content",
    "5": "non_crime",
    "6a": "posts_majority_slope",
    "6b": "border_ratio",
    "7": "minority_share",
    "8a": "cleared",
    "9": "legal_content",
}


def _pooled_observed(key: str, raws: list[dict], stats: dict | None, n_partner: int, params):
    """The part's statistic over all seed sets together (the value the table shows)."""
    if key == "1":
        shares = np.mean([r["shares"] for r in raws], axis=0)
        n = n_partner * len(raws)
        half = Z95 * math.sqrt(shares[2] * (1 - shares[2]) / n)
        return float(shares[2]), float(shares[2] - half), float(shares[2] + half)
    if key == "2":
        return _ci(np.vstack([r["paths"] for r in raws])[:, -1].tolist())
    if key in ("4b", "4c"):
        other = "opted" if key == "4b" else "e2ee"
        base = [m for r in raws for m in r["base"]]
        return _paired(base, [m for r in raws for m in r[other]], "footage.legal_content_fraction")
    if key == "8b":
        return float(params["incidents.deterrence"]), None, None
    return stats[STAT_OF[key]]


def _how(key: str, reps: int, n_partner: int, n_adopt: int, params, scenario) -> str:
    name = Path(scenario).name if isinstance(scenario, str | Path) else "the scenario"
    if key == "1":
        return (
            f"{n_partner} agencies' signing dates drawn as the model draws them "
            f"(police.partnership_share = {params['police.partnership_share']:g})"
        )
    if key == "2":
        return f"{n_adopt} adoption path(s) of the adoption submodel alone"
    variants = {"4b": " and of it with opt-out +0.4", "4c": " and of it with E2EE everywhere"}
    return (
        f"{reps} replications of {name} ({params['time.days']:g} days, police "
        f"asking about every known incident){variants.get(key, '')}"
    )


def _context(key: str, stats: dict | None, params) -> str:
    """Other figures that help read the part (pooled over the seed sets)."""
    if stats is None:
        return ""
    if key == "3a":
        return (
            f"At police.request_probability = {params['police.request_probability']:g}: owners "
            f"ever sharing {_show(stats['ever_shared'])}, requests a year "
            f"{_show(stats['requests_per_year'])}."
        )
    if key == "6a":
        return (
            f"world.segregation = {params['world.segregation']:g}; slopes pooled by inverse "
            f"variance: posts {_show(stats['posts_majority_slope'])}, incidents "
            f"{_show(stats['incidents_majority_slope'])}."
        )
    if key == "6b":
        return (
            f"Tracts of about reporting.area_m = {params['reporting.area_m']:g} m "
            f"(sim.scenario.submodel.border_tracts); incidents per home, same ratio: "
            f"{_show(stats['border_incident_ratio'])}."
        )
    if key == "7":
        return f"reporting.bias = {params['reporting.bias']:g}."
    return ""


def _pair(m: tuple) -> tuple[float, float] | None:
    return None if m[1] is None else (float(m[1]), float(m[2]))


def _show(m: tuple) -> str:
    if m[0] is None:
        return "n/a"
    if m[1] is None:
        return f"{m[0]:.3g}"
    return f"{m[0]:.3g} [{m[1]:.3g}, {m[2]:.3g}]"


def _figure_partnerships(shares: np.ndarray, out_dir: str | Path) -> str:
    t = np.linspace(2017, 2025, 200)
    fig = new_figure(5, 3.2)
    ax = fig.subplots()
    ax.plot(t, [partner_agencies(x) for x in t], color="0.6", label="logistic fit (input)")
    ax.plot(
        [d for d, _ in PARTNER_COUNTS],
        [c for _, c in PARTNER_COUNTS],
        "ko",
        label="published counts",
    )
    ax.plot(
        [d for d, _ in PARTNER_COUNTS],
        shares * PARTNER_PLATEAU,
        "rx",
        ms=9,
        label="model: share partnered x 2,680",
    )
    ax.set_xlabel("year")
    ax.set_ylabel("partner agencies")
    ax.legend(fontsize=8)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return save_named(fig, Path(out_dir), "pattern1_partnerships")


def _figure_adoption(paths: np.ndarray, out_dir: str | Path) -> str:
    years = [ADOPTION_START[0], *(b[0] for b in ADOPTION_BANDS)]
    fig = new_figure(5, 3.2)
    ax = fig.subplots()
    for p in paths:
        ax.plot(years, p, "-o", color=SIMULATED_COLOUR, alpha=0.5)
    for y, lo, hi in ADOPTION_BANDS:
        ax.plot([y, y], [lo, hi], color="k", lw=3, alpha=0.4)
    ax.plot([2017, 2023.5], [0.04, 0.27], "ks", label="published (4 %, 27 %)")
    ax.set_xlabel("year")
    ax.set_ylabel("share of homes with a camera")
    ax.legend(fontsize=8)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return save_named(fig, Path(out_dir), "pattern2_adoption")


# ----------------------------------------------------------------------------- calibration

PATTERNS = tuple(range(1, 10))
STAGE1 = (1, 2)  # adoption and partnerships: experiments/calibration_adoption.toml
STAGE2 = (3, 4, 5, 6, 7, 8, 9)  # the neighbourhood: experiments/calibration.toml


def pattern_label(k: int) -> str:
    """What pattern k is, part by part, e.g. "fitted (4a); input (4b, 4c)"."""
    parts = [p for p in PARTS if p.pattern == k]
    if len({p.label for p in parts}) == 1:
        return parts[0].label
    by: dict[str, list[str]] = {}
    for p in parts:
        by.setdefault(p.label, []).append(p.key)
    return "; ".join(f"{label} ({', '.join(keys)})" for label, keys in by.items())


ADOPTION_EXPERIMENT = ROOT / "experiments" / "calibration_adoption.toml"
ADOPTION_YEARS = (ADOPTION_START[0], *(b[0] for b in ADOPTION_BANDS))


def design_points(runs):
    """A sweep's finished runs (a runs table) by design point, in point order: (point, the
    point's factor values {key: value}, its runs' metrics as dicts with None for missing)."""
    import pandas as pd

    if "status" in runs:
        runs = runs[runs["status"] == "ok"]
    for point, grp in runs.groupby("point", sort=True):
        first = grp.iloc[0]
        params = {c[6:]: first[c] for c in grp.columns if c.startswith("param:")}
        keys = [
            c
            for c in grp.columns
            if "." in c and not c.startswith("param:") and pd.api.types.is_numeric_dtype(grp[c])
        ]
        metrics = [
            {k: (None if pd.isna(v) else float(v)) for k, v in r.items()}
            for r in grp[keys].to_dict("records")
        ]
        yield int(point), params, metrics


def score_runs(runs, base: Scenario):
    """Score every design point of a stage-2 sweep on patterns 3 to 9.

    Args:
        runs: the sweep's runs table (``sim.runs.sweep.Store.runs_table``): columns ``point``,
            ``param:<key>`` for each factor and one per metric; rows with status "error" are
            left out.
        base: the experiment's base scenario with its overrides, which must include
            MEASUREMENT (police ask about every known incident).
    Returns:
        a DataFrame, one row per point: the factors, the solved ``request_probability``, each
        statistic of STATISTICS with ``.ci_low`` and ``.ci_high``, and ``pattern.<k>``.
    """
    import pandas as pd

    for key, value in MEASUREMENT.items():
        if base[key] != value:
            raise ValueError(
                f"the calibration sweep must set {key} = {value} "
                f"(sim.validation.patterns.MEASUREMENT): "
                "pattern 3 thins the requests of runs in which police ask about every incident"
            )
    rows = []
    for point, params, metrics in design_points(runs):
        stats = neighbourhood_stats(metrics, base.replace(params))
        row: dict = {"point": point, "replications": len(metrics)}
        row.update({f"param:{k}": v for k, v in params.items()})
        row["request_probability"] = stats["request_probability"]
        for name, _, _ in STATISTICS:
            m = stats[name]
            row[name], row[f"{name}.ci_low"], row[f"{name}.ci_high"] = m
        for k in STAGE2:
            row[f"pattern.{k}"] = bool(stats[f"pattern.{k}"])
        rows.append(row)
    return pd.DataFrame(rows)


def _adoption_job(args: tuple[dict, int]) -> list[float]:
    """One adoption path (runs in a worker)."""
    scenario, seed = args
    return adoption_path(Scenario(scenario, origin="calibration"), seed).tolist()


def adoption_scores(exp, workers: int = 1, n_partner: int = 400, progress=None):
    """Score every design point of the stage-1 experiment on patterns 1 and 2.

    Pattern 1: ``n_partner`` signing dates drawn as the model draws them; pattern 2: the
    adoption submodel alone from 2017 (``adoption_path``), once per replication (seeds
    ``derive_seed(exp.seed, r)``), the mean path judged. Returns a DataFrame, one row per
    point: the factors, ``partnered.<date>``, ``adoption.<year>`` (mean path) and
    ``adoption.<last year>.ci_low/.ci_high``, and ``pattern.1``, ``pattern.2``.
    """
    import pandas as pd

    say = progress or (lambda text: None)
    seeds = [derive_seed(exp.seed, r) for r in range(exp.replications)]
    jobs = [(dict(exp.scenario(i)), s) for i in range(len(exp.points)) for s in seeds]
    say(f"stage 1: {len(jobs)} adoption paths 2017-{ADOPTION_YEARS[-1]:g} ({workers} workers)")
    paths = map_tasks(_adoption_job, [(j,) for j in jobs], workers)
    paths = np.array(paths).reshape(len(exp.points), len(seeds), len(ADOPTION_YEARS))
    partner_seeds = [derive_seed(exp.seed + 1, r) for r in range(n_partner)]
    rows = []
    for i, point in enumerate(exp.points):
        params = exp.scenario(i)
        shares = partnership_shares(partnership_years(params, partner_seeds))
        mean_path = paths[i].mean(axis=0)
        row: dict = {"point": i, "replications": len(seeds)}
        row.update({f"param:{k}": v for k, v in point.items()})
        for (d, _), x in zip(PARTNER_COUNTS, shares, strict=True):
            row[f"partnered.{d:g}"] = float(x)
        for y, x in zip(ADOPTION_YEARS, mean_path, strict=True):
            row[f"adoption.{y:g}"] = float(x)
        last = _ci(paths[i][:, -1].tolist())
        row[f"adoption.{ADOPTION_YEARS[-1]:g}.ci_low"] = last[1]
        row[f"adoption.{ADOPTION_YEARS[-1]:g}.ci_high"] = last[2]
        row["partner_draws"] = n_partner
        row["pattern.1"] = partnership_rule(shares, n_partner)
        row["pattern.2"] = adoption_rule(mean_path)
        rows.append(row)
    return pd.DataFrame(rows)


def accept(scores):
    """The points that match every pattern scored, or else those that match the most.

    Returns:
        (accepted rows with a ``patterns_matched`` column, the pattern columns, whether the
        accepted rows match all of them).
    """
    cols = [c for c in scores.columns if c.startswith("pattern.")]
    matched = scores[cols].sum(axis=1)
    scores = scores.assign(patterns_matched=matched)
    best = int(matched.max()) if len(scores) else 0
    return scores[matched == best], cols, best == len(cols)


def _bands_of(scores) -> dict[str, tuple[float, float]]:
    if "response_rate" in scores:
        return {
            "response_rate": RESPONSE_BAND,
            "ever_shared": EVER_SHARED_BAND,
            "legal_content": LEGAL_BAND,
            "non_crime": NON_CRIME_BAND,
        }
    return {f"adoption.{y:g}": (lo, hi) for y, lo, hi in ADOPTION_BANDS}


def depth(row, bands: dict[str, tuple[float, float]]) -> float:
    """How far the set's worst banded statistic lies from its band's centre, in half-widths
    (0: every statistic at the centre; above 1: one outside its band). Among accepted sets,
    ``choose`` takes the one with the smallest depth: the set least likely to leave a band
    when the pattern checks rerun it with new seeds."""
    out = 0.0
    for name, (lo, hi) in bands.items():
        x = row.get(name)
        if x is None or not math.isfinite(float(x)):
            return math.inf
        out = max(out, abs(float(x) - (lo + hi) / 2) / ((hi - lo) / 2))
    return out


def choose(accepted):
    """The accepted set to ship: the smallest ``depth``, then the lowest point number."""
    bands = _bands_of(accepted)
    d = [depth(r, bands) for _, r in accepted.iterrows()]
    return accepted.assign(depth=d).sort_values(["depth", "point"]).iloc[0]


def calibrate(
    results: str | Path,
    workers: int = 1,
    n_partner: int = 400,
    progress: Callable[[str], None] | None = None,
    preset: str | Path | None = None,
    adoption: str | Path = ADOPTION_EXPERIMENT,
    check: bool = False,
) -> Path:
    """Both calibration stages: score the stage-2 sweep (``results``, made by ``run.py sweep
    experiments/calibration.toml``) on patterns 3-9 and the stage-1 design (``adoption``) on
    patterns 1-2; keep in each stage the sets that match all its patterns (or else the most);
    write ``report.md``, ``scores.csv``, ``accepted.csv`` (stage 2), ``scores_adoption.csv``
    and ``accepted_adoption.csv`` (stage 1) into ``results``; with ``preset``, also the chosen
    pair of sets as a preset scenario file. The stages share no parameter, so the preset joins
    the chosen set of each; ``pattern_checks`` then checks the joined set on every pattern.

    With ``check`` (and ``preset``), the written preset is run again with new seeds
    (``pattern_checks(size="full")``, as ``run.py validate`` does) and the report and the
    preset's header give both results: a pattern matched in the calibration runs may not hold
    up with new seeds, and the preset must not claim it does.

    Stage 1 is cached in ``results/adoption.json`` and reused while its design is unchanged.
    """
    import pandas as pd

    say = progress or (lambda text: None)
    results = Path(results)
    manifest_path = results / "manifest.json"
    if not manifest_path.exists():
        raise ValueError(f"{results}: not a sweep's results folder (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    exp = load_experiment(manifest["experiment"])
    if exp.design_hash() != manifest.get("design_hash"):
        raise ValueError(f"{results}: made by another version of {manifest['experiment']}")
    runs = Store(results).runs_table()
    if runs.empty:
        raise ValueError(f"{results}: no runs yet (run the sweep first)")
    say(f"stage 2: scoring {runs['point'].nunique()} points on patterns 3-9")
    scores2 = score_runs(runs, exp.base_scenario)
    exp1 = load_experiment(adoption)
    cache = results / "adoption.json"
    key = {
        "design_hash": exp1.design_hash(),
        "replications": exp1.replications,
        "draws": n_partner,
    }
    if cache.exists() and json.loads(cache.read_text()) == key:
        say("stage 1: reusing scores_adoption.csv")
        scores1 = pd.read_csv(results / "scores_adoption.csv")
    else:
        scores1 = adoption_scores(exp1, workers, n_partner, say)
        atomic_write(results / "scores_adoption.csv", scores1.to_csv(index=False))
        atomic_write(cache, json.dumps(key))
    accepted1, cols1, all1 = accept(scores1)
    accepted2, cols2, all2 = accept(scores2)
    for scores, accepted, cols, name in (
        (scores1, accepted1, cols1, "adoption"),
        (scores2, accepted2, cols2, ""),
    ):
        suffix = f"_{name}" if name else ""
        matched = scores.assign(patterns_matched=scores[cols].sum(axis=1))
        atomic_write(results / f"scores{suffix}.csv", matched.to_csv(index=False))
        atomic_write(results / f"accepted{suffix}.csv", accepted.to_csv(index=False))
    chosen1, chosen2 = choose(accepted1), choose(accepted2)
    checks = None
    if preset is not None:
        atomic_write(preset, preset_text(exp1, chosen1, exp, chosen2, Path(preset).stem))
        if check:
            say("checking the preset with new seeds (pattern_checks, size full)")
            checks = pattern_checks("full", workers=workers, progress=say, scenario=preset)
            atomic_write(
                preset, preset_text(exp1, chosen1, exp, chosen2, Path(preset).stem, checks)
            )
    report = _report(
        exp1, scores1, accepted1, all1, chosen1, exp, scores2, accepted2, all2, chosen2, checks
    )
    atomic_write(results / "report.md", report)
    return results / "report.md"


def _show_row(row, name: str) -> str:
    lo, hi = row.get(f"{name}.ci_low"), row.get(f"{name}.ci_high")
    return _show((_val(row.get(name)), _val(lo), _val(hi)))


def _val(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


TARGETS = {
    1: "share partnered within 0.05 of "
    + ", ".join(f"{c / PARTNER_PLATEAU:.3f} ({d:g})" for d, c in PARTNER_COUNTS)
    + ", never falling",
    2: "at most 0.06 in 2017, rising, "
    + ", ".join(f"[{lo:.2f}, {hi:.2f}] in {y:g}" for y, lo, hi in ADOPTION_BANDS),
    3: f"response in [{RESPONSE_BAND[0]:.2f}, {RESPONSE_BAND[1]:.2f}]; ever shared in "
    f"{OWNERSHIP_YEARS:g} years in [{EVER_SHARED_BAND[0]:.2f}, {EVER_SHARED_BAND[1]:.2f}]; at "
    f"most {REQUESTS_PER_YEAR_MAX:g} requests a year",
    4: f"legal content in [{LEGAL_BAND[0]:.2f}, {LEGAL_BAND[1]:.2f}]",
    5: f"non-crime share in [{NON_CRIME_BAND[0]:.2f}, {NON_CRIME_BAND[1]:.2f}]",
    6: "6a: posts' slope CI above 0; incidents' CI reaching 0, mean below the posts'; 6b: "
    f"posts per home, bordering / inner majority tracts, above {BORDER_RATIO_MIN:g}",
    7: f"minority share above 0.5 with bias in ({MODEST_BIAS[0]:g}, {MODEST_BIAS[1]:g}]",
    8: f"cleared at most {CLEARED_MAX:.2f}; deterrence at most {DETERRENCE_MAX:.2f}",
    9: f"legal content in [{LEGAL_2021_BAND[0]:.2f}, {LEGAL_2021_BAND[1]:.2f}]",
}


def observed_text(k: int, row) -> str:
    """What a scored set shows for pattern k, with 95 % intervals, for the report."""
    if k == 1:
        return "shares " + ", ".join(
            f"{float(row[f'partnered.{d:g}']):.3f}" for d, _ in PARTNER_COUNTS
        )
    if k == 2:
        last = ADOPTION_YEARS[-1]
        text = ", ".join(f"{float(row[f'adoption.{y:g}']):.3f}" for y in ADOPTION_YEARS)
        lo, hi = (
            _val(row.get(f"adoption.{last:g}.ci_low")),
            _val(row.get(f"adoption.{last:g}.ci_high")),
        )
        return f"{text} (last: [{lo:.3f}, {hi:.3f}])" if lo is not None else text
    if k == 3:
        return (
            f"response {_show_row(row, 'response_rate')}; ever shared "
            f"{_show_row(row, 'ever_shared')}; requests a year "
            f"{_show_row(row, 'requests_per_year')} (request probability "
            f"{_num(_val(row.get('request_probability')))})"
        )
    if k == 4:
        return _show_row(row, "legal_content")
    if k == 5:
        return _show_row(row, "non_crime")
    if k == 6:
        text = (
            f"posts {_show_row(row, 'posts_majority_slope')}; incidents "
            f"{_show_row(row, 'incidents_majority_slope')}"
        )
        if "border_ratio" in row:
            text += f"; border ratio {_show_row(row, 'border_ratio')}"
        return text
    if k == 9:
        return _show_row(row, "legal_content")
    if k == 7:
        return f"{_show_row(row, 'minority_share')} (bias {float(row['param:reporting.bias']):.3g})"
    bias = row.get("param:incidents.deterrence")
    return f"{_show_row(row, 'cleared')} (deterrence {float(bias):.3g})"


def _stage_lines(title, exp, scores, accepted, all_matched, chosen, patterns) -> list[str]:
    n = len(scores)
    cols = [f"pattern.{k}" for k in patterns]
    best = int(accepted["patterns_matched"].iloc[0]) if len(accepted) else 0
    lines = [
        f"## {title}",
        "",
        f"Experiment `{exp.path.name}`: {n} parameter sets ({exp.kind.replace('_', ' ')}), "
        f"{exp.replications} replications each"
        + (f", {exp.base_scenario['time.days']:g} days" if patterns == STAGE2 else "")
        + ".",
        "",
        "| pattern | sets matching |",
        "|---|---|",
    ]
    for c in cols:
        k = int(c.split(".")[1])
        lines.append(f"| {k}. {TITLES[k]} | {int(scores[c].sum())} of {n} |")
    lines += [
        "",
        (
            f"**{len(accepted)} set(s) match all {len(cols)} patterns** of this stage: points "
            + ", ".join(str(int(p)) for p in accepted["point"])
            + "."
            if all_matched
            else f"**No set matches all {len(cols)} patterns** of this stage; {len(accepted)} "
            f"set(s) match the most ({best}): points "
            + ", ".join(str(int(p)) for p in accepted["point"])
            + "."
        ),
        f"Chosen: point {int(chosen['point'])} (the accepted set whose banded statistics lie "
        "deepest inside their bands).",
        "",
        "| parameter | chosen value |",
        "|---|---|",
    ]
    lines += [
        f"| `{c[6:]}` | {float(chosen[c]):.6g} |" for c in scores.columns if c.startswith("param:")
    ]
    if patterns == STAGE2:
        solved = _num(_val(chosen["request_probability"]))
        lines.append(f"| `police.request_probability` (solved) | {solved} |")
    lines.append("")
    return lines


def _flag(row, key: str) -> bool:
    """A pattern flag of a scores row (False when missing)."""
    flag = row.get(key)
    return bool(flag) if flag is not None and flag == flag else False


def _check_text(c: Check) -> str:
    return f"{_show((c.observed, *(c.ci or (None, None))))}: {c.detail}"


def _report(
    exp1, scores1, accepted1, all1, chosen1, exp2, scores2, accepted2, all2, chosen2, checks=None
):
    lines = [
        "# Calibration to the published patterns",
        "",
        "Generated by `python run.py calibrate` (method, rules and sources: "
        "docs/calibration.md). Two stages that share no parameter: stage 1 fits adoption and "
        "partnerships (patterns 1-2), stage 2 the neighbourhood (patterns 3-9). Each pattern "
        "is labelled by what it is: *input* (checks an input or holds by construction; not "
        "counted as reproduced), *fitted* (a calibrated parameter was chosen to match it) or "
        "*emergent* (implied by no single parameter).",
        "",
        "## Result: the chosen sets, pattern by pattern",
        "",
        "Observed values are from the calibration runs (95 % intervals over replications; "
        "stage 2 pools counts over replications). `python run.py validate` checks the preset "
        "again with new seeds.",
        "",
        "| # | pattern | what it is | target | observed [95 % CI] | matched |",
        "|---|---|---|---|---|---|",
    ]
    for k in PATTERNS:
        row = chosen1 if k in STAGE1 else chosen2
        flag = row.get(f"pattern.{k}")
        matched = "n/a" if flag is None or flag != flag else "yes" if bool(flag) else "**no**"
        lines.append(
            f"| {k} | {TITLES[k]} | {pattern_label(k)} | {TARGETS[k]} | "
            f"{observed_text(k, row)} | {matched} |"
        )
    missed = [k for k in PATTERNS if not _flag(chosen1 if k in STAGE1 else chosen2, f"pattern.{k}")]
    lines += [
        "",
        (
            f"In the calibration runs the chosen sets match all {len(PATTERNS)} patterns."
            if not missed
            else "In the calibration runs the chosen sets miss pattern(s) "
            + ", ".join(map(str, missed))
            + "."
        ),
        "",
    ]
    if checks is None:
        lines += [
            "The preset was not checked with new seeds here (`calibrate --check`, or "
            "`python run.py validate`).",
            "",
        ]
    else:
        failed = [c.name.split(".")[1] for c in checks if not c.passed]
        lines += [
            "## The preset checked again with new seeds",
            "",
            '`pattern_checks(size="full")`, as `python run.py validate` runs it: new '
            "replications of the preset (with police asking about every known incident, and "
            "with opt-out +0.4 and E2EE everywhere for pattern 4), new partnership dates and "
            f"adoption paths, on {SEED_SETS} independent seed sets. A part passes when its 95 % "
            "interval holds in every set; with fewer events than it needs in a set it is not "
            "measured. Events: the fewest in a set (and the minimum needed).",
            "",
            "| part | what it is | expected | observed [95 % CI] and how | events | result |",
            "|---|---|---|---|---|---|",
        ]
        for c in checks:
            events = "-" if c.events is None else f"{c.events} ({c.min_events})"
            result = "yes" if c.passed else "**no**" if c.measured else "**not measured**"
            lines.append(
                f"| {c.name.split('.')[1]} | {c.label or '-'} | {c.expected} | "
                f"{_check_text(c)} | {events} | {result} |"
            )
        lines += [
            "",
            (
                "With new seeds the preset confirms every part."
                if not failed
                else "With new seeds the preset **does not confirm part(s) "
                + ", ".join(failed)
                + "**."
            ),
            "",
        ]
    lines += _stage_lines(
        "Stage 1: adoption and partnerships", exp1, scores1, accepted1, all1, chosen1, STAGE1
    )
    lines += _stage_lines(
        "Stage 2: the neighbourhood", exp2, scores2, accepted2, all2, chosen2, STAGE2
    )
    lines += [
        "## Every set of stage 2",
        "",
        "| point | matched | " + " | ".join(str(k) for k in STAGE2) + " | request prob. | "
        "response | ever shared | legal | non-crime | posts slope | border ratio | minority | "
        "cleared |",
        "|" + "---|" * (3 + len(STAGE2) + 8),
    ]
    for _, r in scores2.iterrows():
        flags = " | ".join("x" if bool(r[f"pattern.{k}"]) else "." for k in STAGE2)
        lines.append(
            f"| {int(r['point'])} | {sum(bool(r[f'pattern.{k}']) for k in STAGE2)} | {flags} | "
            f"{_num(_val(r['request_probability']))} | "
            + " | ".join(
                _num(_val(r[c]))
                for c in (
                    "response_rate",
                    "ever_shared",
                    "legal_content",
                    "non_crime",
                    "posts_majority_slope",
                    "border_ratio",
                    "minority_share",
                    "cleared",
                )
            )
            + " |"
        )
    lines.append("")
    return "\n".join(lines) + "\n"


def _num(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.4g}"


def preset_text(exp1, row1, exp2, row2, name: str = "calibrated", checks=None) -> str:
    """A preset scenario file joining the chosen sets of the two stages: stage 2's world (its
    overrides, without the measurement levers), both stages' factor values and the solved
    request probability, each with its unit and why it has that value. The header says how
    the sets were chosen and which patterns they match and miss, with observed values."""
    flags = {k: _flag(row1 if k in STAGE1 else row2, f"pattern.{k}") for k in PATTERNS}
    matched = [str(k) for k in PATTERNS if flags[k]]
    missed = [str(k) for k in PATTERNS if not flags[k]]
    values: dict[str, tuple] = {}
    for exp in (exp1, exp2):
        for key, value in exp.overrides.items():
            if key in MEASUREMENT:
                continue
            values[key] = (value, f"calibration world ({exp.path.name} overrides)")
    for exp, row in ((exp1, row1), (exp2, row2)):
        for f in exp.factors:
            v = row[f"param:{f.key}"]
            v = round(float(v)) if BY_KEY[f.key].kind == "int" else float(f"{float(v):.6g}")
            values[f.key] = (v, f"calibrated ({exp.path.name}, point {int(row['point'])})")
    solved = _val(row2["request_probability"])
    if solved is not None:  # None: nobody handed footage over, nothing to solve (the default)
        values["police.request_probability"] = (
            float(f"{solved:.6g}"),
            f"solved by calibrate for pattern 3 ({exp2.path.name}, point {int(row2['point'])})",
        )
    header = [
        f"# {name}: the set chosen by the two-stage calibration to the {len(PATTERNS)} published "
        "patterns",
        "# Pattern-oriented calibration (Grimm et al. 2005; docs/calibration.md), python run.py "
        "calibrate:",
        f"# stage 1 ({exp1.path.name}: {len(exp1.points)} sets, {exp1.replications} adoption "
        f"paths each) chose point {int(row1['point'])} on patterns 1-2;",
        f"# stage 2 ({exp2.path.name}: {len(exp2.points)} sets, {exp2.replications} "
        f"replications of {exp2.base_scenario['time.days']:g} days) chose point "
        f"{int(row2['point'])} on patterns 3-9.",
        f"# In the calibration runs it matches patterns {', '.join(matched) or 'none'}"
        + (f" and MISSES {', '.join(missed)}." if missed else f" (all {len(PATTERNS)}).")
        + " Observed [95 % CI]:",
    ]
    for k in PATTERNS:
        row = row1 if k in STAGE1 else row2
        header.append(
            f"#   {k} ({pattern_label(k)}) {'matched' if flags[k] else 'MISSED'}: "
            f"{observed_text(k, row)}"
        )
    if checks is not None:
        failed = [c.name.split(".")[1] for c in checks if not c.passed]
        header.append(
            "# Checked again with new seeds (calibrate --check = run.py validate's pattern "
            "checks): "
            + (
                "every part holds."
                if not failed
                else f"part(s) {', '.join(failed)} NOT CONFIRMED, the others hold:"
            )
        )
        for c in checks:
            state = "holds" if c.passed else "NOT CONFIRMED" if c.measured else "NOT MEASURED"
            header.append(
                f"#   {c.name.split('.')[1]} {state}: "
                f"{_show((c.observed, *(c.ci or (None, None))))}"
            )
    header += [
        "# Patterns 3-9 were measured with police asking about every known incident "
        "(sim.validation.patterns.MEASUREMENT);",
        "# this file holds the realistic rates. Check it again: python run.py validate.",
        "# Sources: docs/sources.md (figures behind each pattern), docs/sources.md, "
        "docs/calibration.md.",
    ]
    return "\n".join(header + preset_body(values)) + "\n"


def preset_body(values: dict) -> list[str]:
    """A preset's tables: ``values`` {key: (value, why)}, each line with its unit and why
    (and "same as the default" when it is), tables and keys sorted."""
    tables: dict[str, list[str]] = {}
    for key in sorted(values):
        value, why = values[key]
        p = BY_KEY[key]
        if isinstance(value, dict):
            lines = tables.setdefault(key, [])
            for k, v in value.items():
                lines.append(f"{k} = {_toml(v)}  # [{p.unit}] {why}")
            continue
        if value == p.default and type(value) is type(p.default):
            why += "; same as the default"
        head, _, leaf = key.rpartition(".")
        tables.setdefault(head, []).append(f"{leaf} = {_toml(value)}  # [{p.unit}] {why}")
    body = []
    for table in sorted(tables):
        body += ["", f"[{table}]", *tables[table]] if table else ["", *tables[table]]
    return body


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)
    return str(v)
