"""The eight published patterns of CONTEXT.md as code: a statistic and an acceptance rule each.

Pattern-oriented modelling (Grimm et al. 2005, *Science* 310: 987-991) judges a parameter set
by how many independent patterns it reproduces at once, in sign and order where no magnitude is
known. Each pattern here has

* a **statistic**, computed from a run's metrics (``sim/metrics.py``), or, for the two
  patterns that span years (1, partnerships; 2, adoption), from the parameters with the
  model's own code (the partnership date of ``sim.adoption.partnership_minute``; the adoption
  submodel run alone over six years, see ``adoption_path``);
* an **acceptance rule** with its source (the constants below; docs/calibration.md).

``pattern_checks`` runs the calibrated preset (``scenarios/calibrated.toml``) with replications
and returns one ``sim.checks.Check`` per pattern (``run.py validate`` reports them);
``score_runs`` and ``calibrate`` score every design point of a calibration sweep
(``experiments/calibration.toml``; ``run.py calibrate``).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sim.checks import Check
from sim.replicate import mean_ci, run_replications
from sim.scenario import Scenario, load

ROOT = Path(__file__).resolve().parent.parent
CALIBRATED = ROOT / "scenarios" / "calibrated.toml"
MINUTES_PER_YEAR = 365.25 * 1440

# --- pattern 1: partner agencies (CONTEXT.md: 40 in 2018 ... about 2,680 in Jan 2024) -------
# (decimal year, agencies); July 2022 counts police (2,161) and fire (455) departments, as the
# logistic fit's plateau does.
PARTNER_COUNTS = ((2018.5, 40), (2019.6, 405), (2021.0, 2014), (2022.5, 2616), (2024.05, 2680))
PARTNER_PLATEAU = 2680
PARTNER_TOLERANCE = 0.05  # absolute, on the share of the plateau
# --- pattern 2: adoption (CONTEXT.md: 4 % in 2017, about 20 % a few years later, 27 %) ------
ADOPTION_START = (2017.0, 0.04)
ADOPTION_BANDS = ((2020.5, 0.12, 0.28), (2023.5, 0.20, 0.35))  # (year, low, high)
# --- pattern 3: Fort Lauderdale 3.5 % response; Consumer Reports 10 % ever shared ----------
RESPONSE_BAND = (0.02, 0.06)
EVER_SHARED_BAND = (0.05, 0.15)
# Owners in the Jan 2021 survey had owned a camera for about two years on average (adoption
# went from 4 % in 2017 to about 20 % by 2020): a run's sharing share is extrapolated to that.
OWNERSHIP_YEARS = 2.0
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

SOURCES = {
    1: "CONTEXT.md: partner agencies 40 (2018), 405 (Aug 2019), 2,014 (end 2020), "
    "2,161 police + 455 fire (Jul 2022), about 2,680 (Jan 2024)",
    2: "CONTEXT.md: US video-doorbell adoption 4 % (2017), about 20 % a few years later, "
    "27 % recently",
    3: "CONTEXT.md: Fort Lauderdale 2018 (319 owners emailed, 3.5 % responded); Consumer "
    "Reports Jan 2021 (10 % of owners have shared footage with police)",
    4: "CONTEXT.md: legal compliance 68 % (2019), 57 % (2020), content in about 4 of 10 "
    "(2021); legal demands bypass opt-out; E2EE makes content impossible to produce",
    5: "CONTEXT.md: The Markup 2023, more than 30 % of 13,000 forwarded posts described no crime",
    6: "CONTEXT.md: The Markup 2023 (whiter areas post more, report no more crime); Calacci, "
    "Shen & Pentland 2022",
    7: "CONTEXT.md: VICE 2019, most people posted as suspicious were people of colour",
    8: "CONTEXT.md: NBC News 2020 (13 of 40 agencies: no arrests from Ring footage); CCTV "
    "meta-analysis, modest deterrence (0 to about 15 %)",
}
TITLES = {
    1: "partnership S-curve",
    2: "adoption from a few percent toward a quarter of homes",
    3: "about 3.5 % of emailed owners respond; about 10 % ever share",
    4: "legal demands give content in about half; opt-out does not change it, E2EE does",
    5: "over 30 % of forwarded posts describe no crime",
    6: "posting rises with the majority's share of an area, true crime does not",
    7: "a modest bias makes most people labelled suspicious minority",
    8: "footage rarely clears incidents; deterrence modest",
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
}


def _in(x: float | None, band: tuple[float, float]) -> bool:
    return x is not None and math.isfinite(x) and band[0] <= x <= band[1]


# ----------------------------------------------------------------------------- statistics


def partnership_years(params: Scenario, seeds: Sequence[int]) -> np.ndarray:
    """The decimal year each seed's agency signs (inf: never), exactly as the model draws it
    (``sim.adoption.partnership_minute`` with the run's random streams)."""
    from sim.adoption import partnership_minute
    from sim.rng import Streams

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

    The adoption submodel (``sim.adoption.Adoption``: purchases every hour, churn, lapses,
    promotion contacts and installations every day) runs alone over the six and a half years,
    in the model's world and with its random streams, starting from the 2017 share. Walking is
    left out (a minute-by-minute model over six years would take minutes per run), so fear is
    held at zero and officers place no free devices at incidents: both only add purchases.
    """
    from sim.model import NeighbourhoodModel

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


def ever_shared(homes_shared_fraction: float | None, days: float) -> float | None:
    """The share of owners who ever shared, over OWNERSHIP_YEARS, from the share who shared
    within a run of ``days`` (a constant hazard: 1 - (1 - f)^(years / run length))."""
    if homes_shared_fraction is None or not math.isfinite(homes_shared_fraction):
        return None
    f = min(max(homes_shared_fraction, 0.0), 1.0)
    return 1 - (1 - f) ** (OWNERSHIP_YEARS * 365.25 / days)


def sharing_rule(response_rate: float | None, ever: float | None) -> bool:
    return _in(response_rate, RESPONSE_BAND) and _in(ever, EVER_SHARED_BAND)


def legal_rule(
    level: float | None,
    opt_out_diff: tuple[float | None, float | None, float | None] | None = None,
    e2ee_diff: tuple[float | None, float | None, float | None] | None = None,
) -> bool:
    """Content in LEGAL_BAND; when given, the paired difference (mean, low, high) with more
    opt-out is within OPT_OUT_TOLERANCE or its interval holds 0, and with E2EE everywhere it is
    negative (interval below 0)."""
    ok = _in(level, LEGAL_BAND)
    if opt_out_diff is not None:
        m, lo, hi = opt_out_diff
        ok = (
            ok
            and m is not None
            and (abs(m) <= OPT_OUT_TOLERANCE or (lo is not None and lo <= 0 <= hi))
        )
    if e2ee_diff is not None:
        m, lo, hi = e2ee_diff
        ok = ok and m is not None and hi is not None and hi < 0
    return bool(ok)


def non_crime_rule(fraction: float | None) -> bool:
    return _in(fraction, NON_CRIME_BAND)


def majority_rule(posts: tuple, incidents: tuple) -> bool:
    """Posts: the relative slope's interval (mean, low, high) above 0. Incidents: no such
    rise (interval reaching 0 or below), and a smaller mean slope than posts."""
    pm, plo, _ = posts
    im, ilo, _ = incidents
    if pm is None or plo is None or im is None or ilo is None:
        return False
    return bool(plo > 0 and ilo <= 0 and im < pm)


def minority_rule(share: float | None, bias: float) -> bool:
    """Most posts are about minority people, with a modest bias (MODEST_BIAS)."""
    return bool(share is not None and share > 0.5 and MODEST_BIAS[0] < bias <= MODEST_BIAS[1])


def clearance_rule(cleared: float | None, deterrence: float) -> bool:
    return bool(cleared is not None and cleared <= CLEARED_MAX and deterrence <= DETERRENCE_MAX)


# ----------------------------------------------------------------------------- checks


def _ci(values: Sequence[float | None]) -> tuple[float | None, float | None, float | None]:
    return mean_ci(list(values))


SIZES = {
    # replications, partnership draws, adoption seeds, overrides
    "quick": (2, 200, 1, {"time.days": 1.0, "population.pedestrians": 1000}),
    "full": (8, 2000, 3, {}),
}


def pattern_checks(
    size: str = "full",
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
    out_dir: str | Path | None = None,
    scenario: str | Path = CALIBRATED,
    seed: int = 20251,
) -> list[Check]:
    """Run the calibrated preset and check it against the eight patterns.

    Args:
        size: "quick" (a day, 2 replications: seconds, for tests) or "full" (the preset's
            week, 8 replications; about 2-4 minutes on 2 cores).
        workers: processes for replications (default: the machine's cores, at most 2 for quick).
        progress: called with a line of text before each stage.
        out_dir: folder for figures (patterns 1 and 2); none drawn when omitted.
        scenario: the scenario to check (default scenarios/calibrated.toml).
        seed: root seed of the replications.
    """
    import os

    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}")
    reps, n_partner, n_adopt, overrides = SIZES[size]
    workers = workers or min(os.cpu_count() or 1, 2)
    say = progress or (lambda text: None)
    params = load(scenario).replace(overrides)
    days = params["time.days"]

    def replicate(p: Scenario, label: str) -> list[dict]:
        say(f"patterns: {reps} replications ({label})")
        return [m for _, m, _ in run_replications(p, reps, seed, workers)]

    base = replicate(params, "calibrated")
    more_opt_out = min(1.0, params["requests.opt_out"] + 0.4)
    opted = replicate(params.replace({"requests.opt_out": more_opt_out}), "more opt-out")
    e2ee = replicate(params.replace({"privacy.e2ee": 1.0}), "E2EE everywhere")

    def col(rows: list[dict], key: str) -> list[float | None]:
        return [r.get(key) for r in rows]

    def paired(a: list[dict], b: list[dict], key: str) -> tuple:
        diffs = [
            y - x
            for x, y in zip(col(a, key), col(b, key), strict=True)
            if x is not None and y is not None
        ]
        return _ci(diffs)

    checks: list[Check] = []
    rep_text = f"{reps} replications of {Path(scenario).name} ({days:g} days)"
    # 1
    say("patterns: partnership dates")
    from sim.replicate import derive_seed

    seeds = [derive_seed(seed, r) for r in range(n_partner)]
    shares = partnership_shares(partnership_years(params, seeds))
    target = [c / PARTNER_PLATEAU for _, c in PARTNER_COUNTS]
    k = 2  # the end-2020 point, the steep part of the S
    half = 1.96 * math.sqrt(shares[k] * (1 - shares[k]) / n_partner)
    fig1 = _figure_partnerships(shares, out_dir) if out_dir else None
    checks.append(
        Check(
            NAMES[1],
            "pattern",
            TITLES[1],
            "share of agencies partnered within 0.05 of "
            + ", ".join(
                f"{t:.3f} ({d:g})" for t, (d, _) in zip(target, PARTNER_COUNTS, strict=True)
            )
            + ", never falling",
            float(shares[k]),
            (float(shares[k] - half), float(shares[k] + half)),
            partnership_rule(shares, n_partner),
            f"{n_partner} agencies' signing dates drawn as the model draws them "
            f"(police.partnership_share = {params['police.partnership_share']:g}); shares "
            + ", ".join(f"{s:.3f}" for s in shares)
            + "; observed: the end-2020 share (the curve is an input: this checks it)",
            fig1,
            SOURCES[1],
        )
    )
    # 2
    say("patterns: adoption 2017-2023")
    paths = np.array([adoption_path(params, derive_seed(seed, r)) for r in range(n_adopt)])
    mean_path = paths.mean(axis=0)
    m2 = _ci(paths[:, -1].tolist())
    fig2 = _figure_adoption(paths, out_dir) if out_dir else None
    checks.append(
        Check(
            NAMES[2],
            "pattern",
            TITLES[2],
            "from 4 % (2017) rising to "
            + ", ".join(f"[{lo:.2f}, {hi:.2f}] by {y:g}" for y, lo, hi in ADOPTION_BANDS),
            m2[0],
            None if m2[1] is None else (m2[1], m2[2]),
            adoption_rule(mean_path),
            f"adoption submodel alone, {n_adopt} seeds; mean shares "
            + ", ".join(f"{x:.3f}" for x in mean_path)
            + " at "
            + ", ".join(f"{y:g}" for y in (ADOPTION_START[0], *(b[0] for b in ADOPTION_BANDS)))
            + "; observed: the last date",
            fig2,
            SOURCES[2],
        )
    )
    # 3
    rr = _ci(col(base, "requests.response_rate"))
    ever = _ci([ever_shared(x, days) for x in col(base, "footage.homes_shared_fraction")])
    checks.append(
        Check(
            NAMES[3],
            "pattern",
            TITLES[3],
            f"response rate in [{RESPONSE_BAND[0]:.2f}, {RESPONSE_BAND[1]:.2f}] and owners "
            f"ever sharing in [{EVER_SHARED_BAND[0]:.2f}, {EVER_SHARED_BAND[1]:.2f}]",
            rr[0],
            _pair(rr),
            sharing_rule(rr[0], ever[0]),
            f"{rep_text}; observed: requests.response_rate; owners ever sharing over "
            f"{OWNERSHIP_YEARS:g} years (from footage.homes_shared_fraction) "
            f"{_show(ever)}",
            None,
            SOURCES[3],
        )
    )
    # 4
    key = "footage.legal_content_fraction"
    lc = _ci(col(base, key))
    d_opt = paired(base, opted, key)
    d_e2ee = paired(base, e2ee, key)
    checks.append(
        Check(
            NAMES[4],
            "pattern",
            TITLES[4],
            f"{key} in [{LEGAL_BAND[0]:.2f}, {LEGAL_BAND[1]:.2f}]; paired change with "
            f"opt-out +0.4 within {OPT_OUT_TOLERANCE} (or CI holds 0); with E2EE everywhere "
            "below 0 (CI)",
            lc[0],
            _pair(lc),
            legal_rule(lc[0], d_opt, d_e2ee),
            f"{rep_text}; change with opt-out {params['requests.opt_out']:g} -> "
            f"{more_opt_out:g}: {_show(d_opt)}; with E2EE everywhere: {_show(d_e2ee)}",
            None,
            SOURCES[4],
        )
    )
    # 5
    nc = _ci(col(base, "reports.non_crime_fraction"))
    checks.append(
        Check(
            NAMES[5],
            "pattern",
            TITLES[5],
            f"reports.non_crime_fraction in [{NON_CRIME_BAND[0]:.2f}, {NON_CRIME_BAND[1]:.2f}]",
            nc[0],
            _pair(nc),
            non_crime_rule(nc[0]),
            f"{rep_text}; posts per run {_show(_ci(col(base, 'reports.total')))}, of which "
            f"victims' posts {_show(_ci(col(base, 'reports.victim_posts')))}",
            None,
            SOURCES[5],
        )
    )
    # 6
    ps = _ci(col(base, "reports.majority_slope"))
    isl = _ci(col(base, "incidents.majority_slope"))
    checks.append(
        Check(
            NAMES[6],
            "pattern",
            TITLES[6],
            "relative slope of posts per home on the area's majority share: CI above 0; of "
            "incidents per home: CI reaching 0 or below, mean below the posts'",
            ps[0],
            _pair(ps),
            majority_rule(ps, isl),
            f"{rep_text} (world.segregation = {params['world.segregation']:g}); "
            f"reports.majority_slope {_show(ps)}; incidents.majority_slope {_show(isl)}",
            None,
            SOURCES[6],
        )
    )
    # 7
    ms = _ci(col(base, "reports.minority_share"))
    bias = params["reporting.bias"]
    checks.append(
        Check(
            NAMES[7],
            "pattern",
            TITLES[7],
            f"reports.minority_share above 0.5 with reporting.bias in ({MODEST_BIAS[0]:g}, "
            f"{MODEST_BIAS[1]:g}]",
            ms[0],
            _pair(ms),
            minority_rule(ms[0], bias),
            f"{rep_text}; reporting.bias = {bias:g}; minority share of households "
            f"{1 - next(iter(params['population.groups'].values())):.2f}; disparity ratio "
            f"{_show(_ci(col(base, 'reports.disparity_ratio')))}",
            None,
            SOURCES[7],
        )
    )
    # 8
    cl = _ci(col(base, "incidents.cleared_fraction"))
    det = params["incidents.deterrence"]
    checks.append(
        Check(
            NAMES[8],
            "pattern",
            TITLES[8],
            f"incidents.cleared_fraction at most {CLEARED_MAX:.2f}; incidents.deterrence at "
            f"most {DETERRENCE_MAX:.2f}",
            cl[0],
            _pair(cl),
            clearance_rule(cl[0], det),
            f"{rep_text}; incidents.deterrence = {det:g}; incidents with footage "
            f"{_show(_ci(col(base, 'footage.incidents_with_footage_fraction')))}",
            None,
            SOURCES[8],
        )
    )
    return checks


def _pair(m: tuple) -> tuple[float, float] | None:
    return None if m[1] is None else (float(m[1]), float(m[2]))


def _show(m: tuple) -> str:
    if m[0] is None:
        return "n/a"
    if m[1] is None:
        return f"{m[0]:.3g}"
    return f"{m[0]:.3g} [{m[1]:.3g}, {m[2]:.3g}]"


def _figure_partnerships(shares: np.ndarray, out_dir: str | Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.adoption import partner_agencies

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = np.linspace(2017, 2025, 200)
    fig, ax = plt.subplots(figsize=(5, 3.2))
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
    fig.tight_layout()
    name = "pattern1_partnerships.png"
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    return name


def _figure_adoption(paths: np.ndarray, out_dir: str | Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    years = [ADOPTION_START[0], *(b[0] for b in ADOPTION_BANDS)]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for p in paths:
        ax.plot(years, p, "-o", color="tab:blue", alpha=0.5)
    for y, lo, hi in ADOPTION_BANDS:
        ax.plot([y, y], [lo, hi], color="k", lw=3, alpha=0.4)
    ax.plot([2017, 2023.5], [0.04, 0.27], "ks", label="published (4 %, 27 %)")
    ax.set_xlabel("year")
    ax.set_ylabel("share of homes with a camera")
    ax.legend(fontsize=8)
    fig.tight_layout()
    name = "pattern2_adoption.png"
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    return name


# ----------------------------------------------------------------------------- calibration

PATTERNS = tuple(range(1, 9))


def score_runs(runs, base: Scenario):
    """Score every design point of a sweep on patterns 3 to 8 (those measured in its runs).

    Args:
        runs: the sweep's runs table (``sim.sweep.Store.runs_table``): columns ``point``,
            ``param:<key>`` for each factor and one per metric; rows with status "error" are
            left out.
        base: the experiment's base scenario with its overrides (for ``time.days`` and the
            values of parameters that are not factors).
    Returns:
        a DataFrame, one row per point: the factors, each statistic's mean (with ``.ci_low``
        and ``.ci_high`` where an interval is used), and ``pattern.<n>`` booleans.
    """
    import pandas as pd

    if "status" in runs:
        runs = runs[runs["status"] == "ok"]
    days = base["time.days"]
    rows = []
    for point, grp in runs.groupby("point", sort=True):
        first = grp.iloc[0]
        params = {c[6:]: first[c] for c in grp.columns if c.startswith("param:")}

        def value(key: str, params=params):
            return params.get(key, base[key])

        def metric(key: str, grp=grp) -> list[float | None]:
            if key not in grp:
                return []
            return [None if pd.isna(v) else float(v) for v in grp[key]]

        row: dict = {"point": int(point), "replications": len(grp)}
        row.update({f"param:{k}": v for k, v in params.items()})
        rr = _ci(metric("requests.response_rate"))
        ever = _ci([ever_shared(x, days) for x in metric("footage.homes_shared_fraction")])
        lc = _ci(metric("footage.legal_content_fraction"))
        nc = _ci(metric("reports.non_crime_fraction"))
        ps = _ci(metric("reports.majority_slope"))
        isl = _ci(metric("incidents.majority_slope"))
        ms = _ci(metric("reports.minority_share"))
        cl = _ci(metric("incidents.cleared_fraction"))
        for name, m in (
            ("response_rate", rr),
            ("ever_shared", ever),
            ("legal_content", lc),
            ("non_crime", nc),
            ("posts_majority_slope", ps),
            ("incidents_majority_slope", isl),
            ("minority_share", ms),
            ("cleared", cl),
        ):
            row[name] = m[0]
            row[f"{name}.ci_low"] = m[1]
            row[f"{name}.ci_high"] = m[2]
        row["pattern.3"] = sharing_rule(rr[0], ever[0])
        row["pattern.4"] = legal_rule(lc[0])
        row["pattern.5"] = non_crime_rule(nc[0])
        row["pattern.6"] = majority_rule(ps, isl)
        row["pattern.7"] = minority_rule(ms[0], float(value("reporting.bias")))
        row["pattern.8"] = clearance_rule(cl[0], float(value("incidents.deterrence")))
        rows.append(row)
    return pd.DataFrame(rows)


def accept(scores):
    """The points that match every pattern scored, or else those that match the most.

    Returns:
        (accepted rows, the patterns considered, whether they match all of them).
    """
    cols = [c for c in scores.columns if c.startswith("pattern.")]
    matched = scores[cols].sum(axis=1)
    scores = scores.assign(patterns_matched=matched)
    best = int(matched.max()) if len(scores) else 0
    return scores[matched == best], cols, best == len(cols)


def _years_patterns(args: tuple[dict, int, int]) -> dict:
    """Patterns 1 and 2 for one design point (runs in a worker)."""
    scenario, seed, n_partner = args
    params = Scenario(scenario, origin="calibration")
    from sim.replicate import derive_seed

    shares = partnership_shares(
        partnership_years(params, [derive_seed(seed, r) for r in range(n_partner)])
    )
    path = adoption_path(params, derive_seed(seed, 0))
    out = {f"partnered.{d:g}": float(s) for (d, _), s in zip(PARTNER_COUNTS, shares, strict=True)}
    out.update(
        {
            f"adoption.{y:g}": float(x)
            for y, x in zip([ADOPTION_START[0], *(b[0] for b in ADOPTION_BANDS)], path, strict=True)
        }
    )
    out["pattern.1"] = partnership_rule(shares, n_partner)
    out["pattern.2"] = adoption_rule(path)
    return out


def calibrate(
    results: str | Path,
    workers: int = 1,
    n_partner: int = 400,
    progress: Callable[[str], None] | None = None,
    preset: str | Path | None = None,
) -> Path:
    """Score a calibration sweep's results folder on the eight patterns and write
    ``report.md``, ``scores.csv`` (every point) and ``accepted.csv`` into it; with ``preset``,
    also the chosen set (the first accepted point) as a preset scenario file."""
    from sim.experiment import load_experiment
    from sim.sweep import Store

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
    say(f"scoring {runs['point'].nunique()} points on patterns 3-8")
    scores = score_runs(runs, exp.base_scenario)
    say("patterns 1 and 2 for every point (partnership dates; adoption over six years)")
    jobs = [(dict(exp.scenario(int(p))), exp.seed, n_partner) for p in scores["point"]]
    if workers > 1:
        from sim.sweep import POOL_CONTEXT

        with ProcessPoolExecutor(max_workers=workers, mp_context=POOL_CONTEXT) as pool:
            years = list(pool.map(_years_patterns, jobs))
    else:
        years = [_years_patterns(j) for j in jobs]
    import pandas as pd

    scores = pd.concat([scores, pd.DataFrame(years, index=scores.index)], axis=1)
    order = [c for c in scores.columns if not c.startswith("pattern.")] + [
        f"pattern.{n}" for n in PATTERNS
    ]
    scores = scores[order]
    accepted, cols, all_matched = accept(scores)
    scores.assign(patterns_matched=scores[cols].sum(axis=1)).to_csv(
        results / "scores.csv", index=False
    )
    accepted.to_csv(results / "accepted.csv", index=False)
    (results / "report.md").write_text(_report(exp, scores, accepted, cols, all_matched))
    if preset is not None and len(accepted):
        Path(preset).write_text(preset_text(exp, accepted.iloc[0], cols, Path(preset).stem))
    return results / "report.md"


def _report(exp, scores, accepted, cols, all_matched: bool) -> str:
    n = len(scores)
    lines = [
        "# Calibration to the published patterns",
        "",
        f"Experiment `{exp.path.name}`: {n} parameter sets ({exp.kind}, "
        f"{exp.replications} replications each, {exp.base_scenario['time.days']:g} days). "
        "Method, rules and sources: docs/calibration.md.",
        "",
        "## How many sets match each pattern",
        "",
        "| pattern | sets matching |",
        "|---|---|",
    ]
    for c in cols:
        k = int(c.split(".")[1])
        lines.append(f"| {k}. {TITLES[k]} | {int(scores[c].sum())} of {n} |")
    best = int(accepted["patterns_matched"].iloc[0]) if len(accepted) else 0
    lines += [
        "",
        "## Accepted sets",
        "",
        (
            f"{len(accepted)} set(s) match all {len(cols)} patterns."
            if all_matched
            else f"No set matches all {len(cols)} patterns; {len(accepted)} set(s) match "
            f"the most ({best})."
        ),
        "",
    ]
    params = [c for c in scores.columns if c.startswith("param:")]
    stats = [
        "response_rate",
        "ever_shared",
        "legal_content",
        "non_crime",
        "posts_majority_slope",
        "incidents_majority_slope",
        "minority_share",
        "cleared",
    ]
    for _, row in accepted.iterrows():
        missing = [c for c in cols if not row[c]]
        lines.append(
            f"### point {int(row['point'])}: matches "
            + ", ".join(c.split(".")[1] for c in cols if row[c])
            + (f"; misses {', '.join(c.split('.')[1] for c in missing)}" if missing else "")
        )
        lines.append("")
        lines.append("| parameter | value |")
        lines.append("|---|---|")
        lines += [f"| `{p[6:]}` | {row[p]:.6g} |" for p in params]
        lines.append("")
        lines.append("| statistic | mean |")
        lines.append("|---|---|")
        lines += [f"| {s} | {_num(row.get(s))} |" for s in stats]
        lines.append("")
    return "\n".join(lines) + "\n"


def _num(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.4g}"


def preset_text(exp, row, cols: Sequence[str], name: str = "calibrated") -> str:
    """A preset scenario file for one scored design point: the experiment's overrides and the
    point's factor values, each with its unit and why it has that value; the header says how
    the set was chosen and which patterns it matches."""
    from sim.schema import BY_KEY

    matched = [c.split(".")[1] for c in cols if bool(row[c])]
    missed = [c.split(".")[1] for c in cols if not bool(row[c])]
    values: dict[str, tuple] = {}
    for key, value in exp.overrides.items():
        values[key] = (value, "calibration world (experiments/calibration.toml overrides)")
    for f in exp.factors:
        v = row[f"param:{f.key}"]
        v = round(float(v)) if BY_KEY[f.key].kind == "int" else float(f"{float(v):.6g}")
        values[f.key] = (v, f"calibrated (Latin hypercube point {int(row['point'])})")
    header = [
        f"# {name}: the parameter set chosen by calibration to the eight published patterns",
        "# Chosen by pattern-oriented calibration (Grimm et al. 2005; docs/calibration.md): a "
        f"{exp.kind.replace('_', ' ')}",
        f"# of {len(exp.points)} sets over the free parameters (experiments/calibration.toml), "
        f"{exp.replications} replications each,",
        "# scored with python run.py calibrate on the patterns of CONTEXT.md "
        "(partnership S-curve, adoption,",
        "# response and sharing rates, legal content, posts about no crime, posting against "
        "majority share,",
        "# minority share of suspicious labels, clearance). This set is design point "
        f"{int(row['point'])}:",
        f"# it matches patterns {', '.join(matched) or 'none'}"
        + (f" and misses {', '.join(missed)}." if missed else " (all of them)."),
        "# Check it again with: python run.py validate (pattern checks, with replications).",
        "# Sources: CONTEXT.md (figures behind each pattern), docs/sources.md, "
        "docs/calibration.md.",
    ]
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
    return "\n".join(header + body) + "\n"


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)
    return str(v)
