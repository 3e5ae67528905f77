"""Analytic checks: each mechanism against a formula or an invariant, as data for a report.

Every check here is the single implementation of one claim about the model; the tests call the
same functions (at ``size="quick"``), and ``python run.py validate`` runs them at ``"full"``
and writes ``report.md`` with a figure per check, each simulation drawn next to its analytic
value (``write_report``). Pattern checks (published patterns, ``sim.validation.patterns``) join
them in
``run_checks`` when that module is there.

**How a statistical check decides.** Each check reports the observed mean with its 95 %
Student-t interval over independent replications (``mean_ci``), but passes or fails on a
99.9 % interval (Bonferroni-adjusted over the points it tests): a correct model then fails a
check about once in a thousand seeds, not once in twenty. A check must also have power: its
interval has to exclude a named wrong answer (a formula without the detection probability,
half the word of mouth...), so a check too noisy to tell right from wrong fails instead of
passing vacuously. Invariants (the request rules) are exact: every item must satisfy them,
and the reported interval is the exact Clopper-Pearson interval of the share of items that
break them. Invariant checks also fail when the scenario never exercised the rule (no
refusal, no legal content to protect), so none can pass by having nothing to look at.

**Failing on purpose.** Statistical checks take the formula they test as an argument
(``expected_fn``), so a test can feed a wrong one and see the check fail; invariant checks are
shown to fail by breaking the mechanism they watch (a test patches ``Rules.refusal``, say).

Simulations are cached per process (``clear_cache`` empties the cache), so that a check run
twice, e.g. with a wrong formula, costs nothing the second time. Results do not depend on
``workers``: every replicate's seed comes from a root seed and its index.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from scipy import stats

from sim.engine.movement import PassTable, Viewers, Walks
from sim.engine.rng import Streams, derive_seed, poisson_from_uniform
from sim.model.adoption import bass_curve
from sim.model.cameras import initial_cameras
from sim.model.model import NeighbourhoodModel
from sim.model.police import PoliceAgency, urn_share
from sim.model.requests import VOLUNTARY
from sim.runs.outputs import atomic_write, clean_number, code_version
from sim.runs.plots import (
    EXPECTED_COLOUR,
    OKABE_ITO,
    REFERENCE_COLOUR,
    SIMULATED_COLOUR,
    new_figure,
    save_named,
)
from sim.runs.pool import map_tasks
from sim.runs.replicate import mean_ci, run_replications
from sim.scenario.scenario import Scenario
from sim.scenario.submodel import Zones
from sim.validation.checks import Check
from sim.validation.patterns import pattern_checks
from sim.world.routes import RouteTable
from sim.world.world import network_from_graph, place_homes

SIZES = ("quick", "full")
DECISION_LEVEL = 0.999  # family-wise level of the interval a check passes or fails on
REPORT_LEVEL = 0.95

_CACHE: dict[tuple, object] = {}


def clear_cache() -> None:
    """Forget cached simulations (tests that break a mechanism on purpose call this)."""
    _CACHE.clear()


def _cached(key: tuple, compute: Callable[[], object]):
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


def _by_size(size: str, quick, full):
    if size not in SIZES:
        raise ValueError(f"size {size!r}: must be one of {', '.join(SIZES)}")
    return quick if size == "quick" else full


def _interval(values: Iterable[float], level: float) -> tuple[float | None, float | None]:
    """The interval a check decides on (Student-t at ``level``), or (None, None)."""
    _, lo, hi = mean_ci(list(values), level)
    return lo, hi


def _covers(lo, hi, x: float) -> bool:
    return lo is not None and lo <= x <= hi


def _proportion(k: int, n: int) -> tuple[float | None, tuple[float, float] | None]:
    """Share k/n and its exact (Clopper-Pearson) 95 % interval; None for n = 0."""
    if n == 0:
        return None, None
    ci = stats.binomtest(min(k, n), n).proportion_ci(REPORT_LEVEL, method="exact")
    return k / n, (float(ci.low), float(ci.high))


def _ci95(values: list[float]) -> tuple[float | None, tuple[float, float] | None]:
    mean, lo, hi = mean_ci(values, REPORT_LEVEL)
    return mean, (None if lo is None else (lo, hi))


def _pct(x: float) -> str:
    """A share as the project writes percentages: "99.9 %"."""
    return f"{100 * x:.4g} %"


# =========================================================================== coverage


def coverage_formula_expected(a: float, v: float, n: int) -> float:
    """Share of trips recorded past n homes, each with a camera with probability a that
    records a passer-by with probability v, all independent."""
    return 1 - (1 - a * v) ** n


COVERAGE_V, COVERAGE_SIDE, COVERAGE_WALKERS = 0.6, 5, 200
COVERAGE_HEADLINE = 0.3


def _street(n_per_side: int, spacing: float, corner: float):
    """One straight street with n homes on each side (no corners, no other streets)."""
    import networkx as nx

    g = nx.Graph()
    length = 2 * corner + n_per_side * spacing
    g.add_node(0, x=0.0, y=0.0)
    g.add_node(1, x=length, y=0.0)
    g.add_edge(0, 1, length=length)
    _, net = network_from_graph(g)
    homes = place_homes(net, spacing, corner, setback=8.0)
    assert homes.count == 2 * n_per_side
    return net, homes


def _whole_street_route(net):
    L = net.edge_length[0]
    return RouteTable(
        np.array([0, 1]),
        np.array([0], np.int32),
        np.array([0.0]),
        np.array([L]),
        np.array([0.0]),
        np.array([L]),
    )


def _coverage_shares(a: float, seeds: list[int]) -> list[float]:
    """For each seed, place cameras anew on the street, walk many people past them, and
    return the share of walkers recorded at least once."""
    net, homes = _street(COVERAGE_SIDE, spacing=20.0, corner=10.0)
    routes = _whole_street_route(net)
    params = Scenario().replace(
        {
            "cameras.adoption": a,
            "cameras.detection_probability": COVERAGE_V,
            "cameras.mix.doorbell": 1.0,
            "cameras.mix.stickup": 0.0,
            "cameras.mix.floodlight": 0.0,
            "cameras.mix.indoor": 0.0,
        }
    )
    walkers = COVERAGE_WALKERS
    shares = []
    for seed in seeds:
        streams = Streams(seed)
        cams = initial_cameras(homes, net, params, streams.generator("cameras"))
        passes = PassTable(routes, Viewers.cameras(cams), cams.version)
        w = Walks(
            routes, passes, np.zeros(walkers, np.int64), 1, streams.base("detect"), COVERAGE_V
        )
        w.plan(
            np.arange(walkers),
            np.zeros(walkers, np.int64),
            np.zeros(walkers),
            np.full(walkers, 78.0),
        )
        recorded = np.zeros(walkers, bool)
        recorded[w.walk(0, w.last_minute + 1).person] = True
        shares.append(float(recorded.mean()))
    return shares


def coverage_formula_result(
    size: str = "quick",
    workers: int = 1,
    expected_fn: Callable[[float, float, int], float] = coverage_formula_expected,
) -> dict:
    """The numbers of ``coverage_formula``: its runs and statistics, no figure, no prose."""
    adoptions = _by_size(size, (0.15, 0.3, 0.6), (0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8))
    placements = _by_size(size, 200, 1000)
    n, v = 2 * COVERAGE_SIDE, COVERAGE_V

    def compute():
        tasks = [
            (a, [derive_seed(1000 + i, r) for r in range(placements)])
            for i, a in enumerate(adoptions)
        ]
        return dict(zip(adoptions, map_tasks(_coverage_shares, tasks, workers), strict=True))

    shares = _cached(("coverage", size), compute)
    level = 1 - (1 - DECISION_LEVEL) / len(adoptions)
    rows, covered, power = [], True, False
    for a in adoptions:
        lo, hi = _interval(shares[a], level)
        expected = expected_fn(a, v, n)
        wrong = 1 - (1 - a) ** n
        covered &= _covers(lo, hi, expected)
        power |= not _covers(lo, hi, wrong)
        m95, ci95 = _ci95(shares[a])
        rows.append((a, m95, ci95, expected, wrong, lo, hi))
    head = next(r for r in rows if r[0] == COVERAGE_HEADLINE)
    return {
        "adoptions": adoptions,
        "covered": covered,
        "head": head,
        "n": n,
        "placements": placements,
        "power": power,
        "rows": rows,
        "v": v,
    }


def coverage_formula(
    size: str = "quick",
    out: Path | None = None,
    workers: int = 1,
    expected_fn: Callable[[float, float, int], float] = coverage_formula_expected,
) -> Check:
    """Cameras record independently: the share of trips recorded is 1 - (1 - a v)^n.

    Why: coverage is the model's first output, and the pass table, the walking and the
    keyed detection draws all lie between the camera placement and that number. On one
    street with n homes, each with a camera with probability a (a new placement per
    replicate) recording with probability v, the share recorded must match the formula at
    every adoption level; the check must also reject 1 - (1 - a)^n (the formula without the
    detection probability) at some level, or it has no power.
    """
    res = coverage_formula_result(size, workers, expected_fn)
    adoptions, covered, head, n, placements, power, rows, v = (
        res["adoptions"],
        res["covered"],
        res["head"],
        res["n"],
        res["placements"],
        res["power"],
        res["rows"],
        res["v"],
    )
    figure = None
    if out is not None:
        fig = new_figure()
        ax = fig.subplots()
        grid = np.linspace(0, 1, 101)
        ax.plot(
            grid,
            [expected_fn(x, v, n) for x in grid],
            color=EXPECTED_COLOUR,
            label="1 - (1 - a v)^n",
        )
        ax.plot(
            grid, 1 - (1 - grid) ** n, "--", color=REFERENCE_COLOUR, label="1 - (1 - a)^n (wrong)"
        )
        ax.errorbar(
            [r[0] for r in rows],
            [r[1] for r in rows],
            yerr=np.array([[r[1] - r[2][0], r[2][1] - r[1]] for r in rows]).T,
            fmt="o",
            color=SIMULATED_COLOUR,
            capsize=3,
            label=f"simulated (mean, 95 % CI, {placements} placements)",
        )
        ax.set(xlabel="camera adoption a", ylabel="share of trips recorded", ylim=(0, 1.02))
        ax.set_title(f"Coverage: {n} homes passed, detection v = {v}")
        ax.legend(loc="lower right", fontsize=8)
        figure = save_named(fig, out, "coverage.formula")
    lines = [
        f"a = {a:g}: simulated {m:.4f} [{c[0]:.4f}, {c[1]:.4f}], formula {e:.4f}, "
        f"without detection {w:.4f}"
        for a, m, c, e, w, _, _ in rows
    ]
    return Check(
        name="coverage.formula",
        kind="analytic",
        title="Share of trips recorded against the independent-camera formula",
        expected=f"1 - (1 - a v)^n = {head[3]:.4f} (a = {COVERAGE_HEADLINE}, v = {v}, n = {n})",
        observed=head[1],
        ci=head[2],
        passed=bool(covered and power),
        detail=(
            f"One straight street, {n} homes, doorbell cameras only; {COVERAGE_WALKERS} walkers "
            f"pass every home; {placements} independent camera placements at each adoption "
            f"level. Passes if the {_pct(DECISION_LEVEL)} interval (Bonferroni over "
            f"{len(adoptions)} levels) covers the formula at every level"
            f"{'' if covered else ' (it does not)'}, and excludes the formula without the "
            f"detection probability at one level at least{'' if power else ' (it does not)'}. "
            + "; ".join(lines)
            + "."
        ),
        figure=figure,
        source="independent Bernoulli cameras and detections (docs/ODD.md, 7.2 and 7.5)",
        extra={
            "points": [
                dict(zip(("a", "mean", "ci", "expected", "without_detection"), r[:5], strict=True))
                for r in rows
            ]
        },
    )


# =========================================================================== reporting bias

# Everyone is a visitor (a stranger to every street), nobody offends, nothing changes over
# time, nobody posts from a window, and every owner has the same bias: the two groups are
# recorded in proportion to their shares, and posts per recording differ only by the bias k.
EQUAL_EXPOSURE = {
    "world.blocks_x": 6,
    "world.blocks_y": 4,
    "time.days": 1.0,
    "population.pedestrians": 1500,
    "population.kinds.resident": 0.0,
    "population.kinds.visitor": 1.0,
    "population.kinds.delivery": 0.0,
    "population.tours_per_day.visitor": 2.0,
    "population.offender_fraction": 0.0,
    "cameras.adoption": 0.5,
    "reporting.base_rate": 0.01,
    "reporting.bias_spread": 0.0,
    "reporting.gatekeeping": 0.0,
    "reporting.direct_rate": 0.0,
    "feed.posts_feedback": False,
    "feed.alerts_feedback": False,
}
BIAS_HEADLINE = 3.0
BIAS_MAX_RELATIVE_HALF_WIDTH = 0.25  # power: the interval must tell k from 0.75 k


def minority_share_expected(k: float, p: float) -> float:
    """Share of posts about the minority when it is a share p of people, recorded in
    proportion, and posted k times as often per recording."""
    return k * p / (k * p + 1 - p)


def _bias_runs(size: str, workers: int) -> dict[float, list[dict]]:
    biases = _by_size(size, (BIAS_HEADLINE,), (1.0, 2.0, BIAS_HEADLINE, 5.0))
    replications = _by_size(size, 5, 30)

    def compute():
        out = {}
        for i, k in enumerate(biases):
            params = Scenario().replace({**EQUAL_EXPOSURE, "reporting.bias": k})
            runs = run_replications(params, replications, 40 + i, workers)
            out[k] = [
                {key: m[key] for key in ("reports.rate_ratio.minority", "reports.minority_share")}
                for _, m, _ in runs
            ]
        return out

    return _cached(("bias", size), compute)


def _minority_population_share() -> float:
    groups = Scenario().replace(EQUAL_EXPOSURE)["population.groups"]
    return float(sum(list(groups.values())[1:]))


def bias_ratio_result(
    size: str = "quick",
    workers: int = 1,
    expected_fn: Callable[[float], float] = float,
) -> dict:
    """The numbers of ``bias_ratio``: its runs and statistics, no figure, no prose."""
    runs = _bias_runs(size, workers)
    level = 1 - (1 - DECISION_LEVEL) / len(runs)
    rows, covered, power = [], True, True
    for k, ms in runs.items():
        values = [m["reports.rate_ratio.minority"] for m in ms]
        lo, hi = _interval(values, level)
        expected = expected_fn(k)
        covered &= _covers(lo, hi, expected)
        power &= lo is not None and (hi - lo) / 2 < BIAS_MAX_RELATIVE_HALF_WIDTH * k
        m95, ci95 = _ci95(values)
        rows.append((k, m95, ci95, expected))
    head = next(r for r in rows if r[0] == BIAS_HEADLINE)
    return {"covered": covered, "head": head, "power": power, "rows": rows, "runs": runs}


def bias_ratio(
    size: str = "quick",
    out: Path | None = None,
    workers: int = 1,
    expected_fn: Callable[[float], float] = float,
) -> Check:
    """With equal exposure, the minority's posts per recording over the majority's is k.

    Why: the reporting bias k is the model's lever on profiling; if posts per recording did
    not come out k times higher for the minority, every disparity the model reports would be
    an artefact. Visitors only (everyone a stranger), no feedback, no offenders, one bias for
    every household: the ratio's interval must cover k, and be narrow enough (half-width
    under a quarter of k) to tell k from 0.75 k.
    """
    res = bias_ratio_result(size, workers, expected_fn)
    covered, head, power, rows, runs = (
        res["covered"],
        res["head"],
        res["power"],
        res["rows"],
        res["runs"],
    )
    figure = None
    if out is not None:
        fig = new_figure()
        ax = fig.subplots()
        grid = np.linspace(1, max(runs), 50)
        ax.plot(grid, [expected_fn(k) for k in grid], color=EXPECTED_COLOUR, label="expected: k")
        _errorbars(ax, rows, f"simulated (mean, 95 % CI, {len(next(iter(runs.values())))} runs)")
        ax.set(xlabel="reporting bias k", ylabel="posts per recording, minority / majority")
        ax.set_title("Reporting bias: rate ratio against k")
        ax.legend(fontsize=8)
        figure = save_named(fig, out, "reporting.bias_ratio")
    return Check(
        name="reporting.bias_ratio",
        kind="analytic",
        title="Posts per recording, minority over majority, converge to the bias k",
        expected=f"k = {head[3]:g}",
        observed=head[1],
        ci=head[2],
        passed=bool(covered and power),
        detail=(
            f"{_runs_line(runs)} Passes if the {_pct(DECISION_LEVEL)} interval (Bonferroni over "
            f"the values of k) covers k{'' if covered else ' (it does not)'} and its "
            f"half-width is under {_pct(BIAS_MAX_RELATIVE_HALF_WIDTH)} of k"
            f"{'' if power else ' (it is not)'}. " + _by_k(rows)
        ),
        figure=figure,
        source="b(h, g) multiplies the posting probability (docs/ODD.md, 7.8)",
        extra={"points": _k_points(rows)},
    )


def _runs_line(runs: dict) -> str:
    reps = len(next(iter(runs.values())))
    return (
        f"{reps} replications of one day at each bias k (1,500 visitors, half the homes with a "
        "camera, no offenders, fear feedbacks off, one bias for every household)."
    )


def _by_k(rows) -> str:
    """The (k, mean, ci, expected) rows of a bias check, as one sentence."""
    return "; ".join(f"k = {k:g}: {m:.3f} [{c[0]:.3f}, {c[1]:.3f}]" for k, m, c, _ in rows) + "."


def _k_points(rows) -> list[dict]:
    """The (k, mean, ci, expected) rows of a bias check, for checks.json."""
    return [dict(zip(("k", "mean", "ci", "expected"), r, strict=True)) for r in rows]


def _errorbars(ax, rows, label: str) -> None:
    ks = [r[0] for r in rows]
    means = [r[1] for r in rows]
    err = np.array([[r[1] - r[2][0], r[2][1] - r[1]] for r in rows]).T
    ax.errorbar(ks, means, yerr=err, fmt="o", color=SIMULATED_COLOUR, capsize=3, label=label)


def minority_share_result(
    size: str = "quick",
    workers: int = 1,
    expected_fn: Callable[[float, float], float] = minority_share_expected,
) -> dict:
    """The numbers of ``minority_share``: its runs and statistics, no figure, no prose."""
    runs = _bias_runs(size, workers)
    p = _minority_population_share()
    level = 1 - (1 - DECISION_LEVEL) / len(runs)
    rows, covered, power = [], True, True
    for k, ms in runs.items():
        values = [m["reports.minority_share"] for m in ms]
        lo, hi = _interval(values, level)
        expected = expected_fn(k, p)
        covered &= _covers(lo, hi, expected)
        if k != 1:
            power &= not _covers(lo, hi, p)
        m95, ci95 = _ci95(values)
        rows.append((k, m95, ci95, expected))
    head = next(r for r in rows if r[0] == BIAS_HEADLINE)
    return {"covered": covered, "head": head, "p": p, "power": power, "rows": rows, "runs": runs}


def minority_share(
    size: str = "quick",
    out: Path | None = None,
    workers: int = 1,
    expected_fn: Callable[[float, float], float] = minority_share_expected,
) -> Check:
    """With equal exposure, the minority's share of posts is k p / (k p + 1 - p).

    Why: this is pattern 7's mechanism (a modest bias makes most people labelled suspicious
    minority members) in its simplest form; the share must match the formula, and where
    k > 1 exclude p, the share an unbiased neighbourhood would give.
    """
    res = minority_share_result(size, workers, expected_fn)
    covered, head, p, power, rows, runs = (
        res["covered"],
        res["head"],
        res["p"],
        res["power"],
        res["rows"],
        res["runs"],
    )
    figure = None
    if out is not None:
        fig = new_figure()
        ax = fig.subplots()
        grid = np.linspace(1, max(runs), 50)
        ax.plot(
            grid,
            [expected_fn(k, p) for k in grid],
            color=EXPECTED_COLOUR,
            label="k p / (k p + 1 - p)",
        )
        ax.axhline(p, ls="--", color=REFERENCE_COLOUR, label=f"p = {p:g} (no bias)")
        _errorbars(ax, rows, "simulated (mean, 95 % CI)")
        ax.set(xlabel="reporting bias k", ylabel="minority share of posts", ylim=(0, 1))
        ax.set_title("Reporting bias: who is posted")
        ax.legend(fontsize=8)
        figure = save_named(fig, out, "reporting.minority_share")
    return Check(
        name="reporting.minority_share",
        kind="analytic",
        title="Minority share of posts against k p / (k p + 1 - p)",
        expected=f"k p / (k p + 1 - p) = {head[3]:.4f} (k = {BIAS_HEADLINE:g}, p = {p:g})",
        observed=head[1],
        ci=head[2],
        passed=bool(covered and power),
        detail=(
            f"{_runs_line(runs)} Passes if the {_pct(DECISION_LEVEL)} interval (Bonferroni) "
            f"covers the formula at every k{'' if covered else ' (it does not)'} and, for "
            f"k > 1, excludes p{'' if power else ' (it does not)'}. " + _by_k(rows)
        ),
        figure=figure,
        source="docs/ODD.md 1.2, pattern 7; docs/sources.md (VICE 2019)",
        extra={
            "p": p,
            "points": _k_points(rows),
        },
    )


# =========================================================================== adoption

BASS_P, BASS_Q, BASS_DAYS = 8.0, 50.0, 20  # per year; the curve crosses one half near day 13
BASS_SCENARIO = {
    "population.pedestrians": 0,
    "world.blocks_x": 12,
    "world.blocks_y": 8,
    "time.days": float(BASS_DAYS),
    "cameras.adoption": 0.0,
    "adoption.network": "complete",
    "adoption.spontaneous_per_year": BASS_P,
    "adoption.word_of_mouth_per_year": BASS_Q,
    "adoption.fear_effect": 0.0,
    "adoption.churn_per_year": 0.0,
    "promotion.enabled": False,
    "time.record_minutes": 60,
}


def bass_expected(t_years: np.ndarray, p: float, q: float) -> np.ndarray:
    """The Bass model's share of adopters at time t (years)."""
    return bass_curve(t_years, p, q)


def _bass_run(seed: int) -> tuple[list[int], list[float]]:
    model = NeighbourhoodModel(Scenario().replace(BASS_SCENARIO), rng=seed)
    model.run()
    ts = model.recorder.timeseries()
    return ts["time_min"].tolist(), ts["adoption_fraction"].tolist()


def _half_time(minutes: np.ndarray, share: np.ndarray) -> float | None:
    """Days until the share first reaches one half (linear interpolation); None if never."""
    above = np.flatnonzero(share >= 0.5)
    if len(above) == 0:
        return None
    i = above[0]
    if i == 0:
        return float(minutes[0]) / 1440
    t0, t1, s0, s1 = minutes[i - 1], minutes[i], share[i - 1], share[i]
    return float(t0 + (0.5 - s0) / (s1 - s0) * (t1 - t0)) / 1440


def bass_curve_check_result(
    size: str = "quick",
    workers: int = 1,
    expected_fn: Callable[[np.ndarray, float, float], np.ndarray] = bass_expected,
) -> dict:
    """The numbers of ``bass_curve_check``: its runs and statistics, no figure, no prose."""
    replications = _by_size(size, 4, 20)
    runs = _cached(
        ("bass", size),
        lambda: map_tasks(_bass_run, [(derive_seed(11, r),) for r in range(replications)], workers),
    )
    minutes = np.array(runs[0][0], float)
    shares = np.array([s for _, s in runs])  # (replicates, samples)
    t_years = minutes / 1440 / 365
    curve = np.asarray(expected_fn(t_years, BASS_P, BASS_Q), float)
    fine = np.arange(0, 3 * BASS_DAYS * 1440 + 1, 10.0)
    expected_half = _half_time(fine, np.asarray(expected_fn(fine / 1440 / 365, BASS_P, BASS_Q)))
    wrong_half = _half_time(fine, bass_expected(fine / 1440 / 365, BASS_P, BASS_Q / 2))
    halves = [_half_time(minutes, s) for s in shares]
    gaps = (shares - curve).mean(axis=1).tolist()
    level = 1 - (1 - DECISION_LEVEL) / 2
    lo, hi = _interval(halves, level)
    g_lo, g_hi = _interval(gaps, level)
    reached = all(h is not None for h in halves) and expected_half is not None
    covered = reached and _covers(lo, hi, expected_half)
    gap_ok = _covers(g_lo, g_hi, 0.0)
    power = lo is not None and not _covers(lo, hi, wrong_half)
    observed, ci = _ci95(halves)
    g_mean, g_ci = _ci95(gaps)
    return {
        "ci": ci,
        "covered": covered,
        "expected_half": expected_half,
        "fine": fine,
        "g_ci": g_ci,
        "g_mean": g_mean,
        "gap_ok": gap_ok,
        "level": level,
        "minutes": minutes,
        "observed": observed,
        "power": power,
        "replications": replications,
        "shares": shares,
        "wrong_half": wrong_half,
    }


def bass_curve_check(
    size: str = "quick",
    out: Path | None = None,
    workers: int = 1,
    expected_fn: Callable[[np.ndarray, float, float], np.ndarray] = bass_expected,
) -> Check:
    """Well-mixed adoption with constant p and q follows the Bass curve.

    Why: adoption drives coverage over time and carries the promotion experiments; its
    hourly purchase hazard must integrate to the Bass model's F(t). Every household tied to
    every other, no fear, no promotion, no churn. Two statistics per replicate, each with a
    99.95 % interval: the day adoption reaches one half (against the curve's), and the mean
    gap between the simulated and the analytic curve over the run (against 0). The half-way
    day must also exclude the curve with half the word of mouth.
    """
    res = bass_curve_check_result(size, workers, expected_fn)
    (
        ci,
        covered,
        expected_half,
        fine,
        g_ci,
        g_mean,
        gap_ok,
        level,
        minutes,
        observed,
        power,
        replications,
        shares,
        wrong_half,
    ) = (
        res["ci"],
        res["covered"],
        res["expected_half"],
        res["fine"],
        res["g_ci"],
        res["g_mean"],
        res["gap_ok"],
        res["level"],
        res["minutes"],
        res["observed"],
        res["power"],
        res["replications"],
        res["shares"],
        res["wrong_half"],
    )
    figure = None
    if out is not None:
        fig = new_figure()
        ax = fig.subplots()
        days = minutes / 1440
        fine_days = fine[fine <= BASS_DAYS * 1440] / 1440
        ax.plot(
            fine_days,
            expected_fn(fine_days / 365, BASS_P, BASS_Q),
            color=EXPECTED_COLOUR,
            label=f"Bass F(t), p = {BASS_P:g}, q = {BASS_Q:g} per year",
        )
        ax.plot(
            fine_days,
            bass_expected(fine_days / 365, BASS_P, BASS_Q / 2),
            "--",
            color=REFERENCE_COLOUR,
            label="half the word of mouth (wrong)",
        )
        daily = np.flatnonzero(minutes % 1440 == 0)
        cis = [mean_ci(shares[:, i].tolist(), REPORT_LEVEL) for i in daily]
        mean = np.array([c[0] for c in cis])
        err = np.array([[c[0] - c[1], c[2] - c[0]] if c[1] is not None else [0, 0] for c in cis]).T
        ax.errorbar(
            days[daily],
            mean,
            yerr=err,
            fmt="o",
            ms=4,
            color=SIMULATED_COLOUR,
            capsize=2,
            label=f"simulated (mean, 95 % CI, {replications} runs)",
        )
        ax.axhline(0.5, lw=0.5, color="#bbbbbb")
        ax.set(xlabel="day", ylabel="share of homes that bought a camera", ylim=(0, 1))
        ax.set_title("Adoption in a well-mixed neighbourhood")
        ax.legend(fontsize=8, loc="upper left")
        figure = save_named(fig, out, "adoption.bass_curve")
    return Check(
        name="adoption.bass_curve",
        kind="analytic",
        title="Well-mixed adoption follows the Bass curve",
        expected=(
            f"F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t); reaches 1/2 on day "
            f"{expected_half:.2f}"
            if expected_half is not None
            else "F(t) reaches 1/2"
        ),
        observed=observed,
        ci=ci,
        passed=bool(covered and gap_ok and power),
        detail=(
            f"{replications} replications of {BASS_DAYS} days, {len(np.unique(minutes))} hourly "
            f"samples each, complete network of homes, p = {BASS_P:g} and q = {BASS_Q:g} per "
            f"year, no fear, churn or promotion. Observed: the day the share of adopters reaches "
            f"one half. Passes if the {_pct(level)} interval of that day covers the curve's"
            f"{'' if covered else ' (it does not)'}, excludes the day with half the word of "
            f"mouth ({wrong_half:.2f}){'' if power else ' (it does not)'}, and the mean gap "
            f"between the simulated and the analytic curve, {g_mean:+.4f} "
            f"[{g_ci[0]:+.4f}, {g_ci[1]:+.4f}], covers 0 at the same level"
            f"{'' if gap_ok else ' (it does not)'}."
            if g_ci is not None
            else "Too few replications for an interval."
        ),
        figure=figure,
        source="Bass (1969); sim/model/adoption.py (hourly hazard p + q x share of ties owning)",
        extra={
            "half_day_expected": expected_half,
            "half_day_wrong_q": wrong_half,
            "mean_gap": g_mean,
            "mean_gap_ci": g_ci,
        },
    )


# =========================================================================== promotion rewards

REWARDS_SCENARIO = {
    "world.blocks_x": 6,
    "world.blocks_y": 4,
    "population.pedestrians": 300,
    "population.offender_fraction": 0.3,
    "incidents.per_trip.car_break_in": 0.05,
    "incidents.per_trip.package_theft": 0.05,
    "incidents.victim_reporting": 1.0,
    "time.days": 3.0,
    "promotion.enabled": True,
    "promotion.officers": 8,
    "promotion.contacts_per_officer_day": 100.0,
    "promotion.recommendation_per_year": 100.0,
    "promotion.devices_to_officers": 4,
}


def _reward_run(seed: int) -> dict:
    params = Scenario().replace(REWARDS_SCENARIO)
    model = NeighbourhoodModel(params, rng=seed)
    m = model.run()
    return {
        "officers": [
            (o.code_uses, o.devices_earned, o.devices_received, o.devices_given)
            for o in model.adoption.officers
        ],
        "per_device": params["promotion.uses_per_free_device"],
        "code_uses": m["promotion.code_uses"],
        "devices_to_officers": m["promotion.devices_to_officers"],
        "initial_devices": params["promotion.devices_to_officers"],
    }


def reward_thresholds_result(
    size: str = "quick",
    workers: int = 1,
    expected_fn: Callable[[int, int], int] = lambda uses, n: uses // n,
) -> dict:
    """The numbers of ``reward_thresholds``: its runs and statistics, no figure, no prose."""
    seeds = _by_size(size, 1, 6)
    runs = _cached(
        ("rewards", size),
        lambda: map_tasks(_reward_run, [(derive_seed(21, r),) for r in range(seeds)], workers),
    )
    officers = [o for run in runs for o in run["officers"]]
    n = runs[0]["per_device"]
    wrong = [o for o in officers if o[1] != expected_fn(o[0], n)]
    overdrawn = [o for o in officers if o[3] > o[2] + o[1]]
    totals_ok = all(
        run["code_uses"] == sum(o[0] for o in run["officers"])
        and run["devices_to_officers"]
        == run["initial_devices"] + sum(o[1] for o in run["officers"])
        for run in runs
    )
    exercised = any(o[0] >= n for o in officers)
    gave = any(o[3] > 0 for o in officers)
    share, ci = _proportion(len(officers) - len(wrong), len(officers))
    return {
        "ci": ci,
        "exercised": exercised,
        "gave": gave,
        "n": n,
        "officers": officers,
        "overdrawn": overdrawn,
        "runs": runs,
        "share": share,
        "totals_ok": totals_ok,
        "wrong": wrong,
    }


def reward_thresholds(
    size: str = "quick",
    out: Path | None = None,
    workers: int = 1,
    expected_fn: Callable[[int, int], int] = lambda uses, n: uses // n,
) -> Check:
    """Each officer earns exactly floor(u / 10) free devices for u uses of the code.

    Why: the LAPD emails describe this reward ("a free device for every 10 uses"), and the
    promotion experiments count devices through it. Exact, officer by officer, over several
    runs; the reported totals (promotion.code_uses, promotion.devices_to_officers) must add
    up, and no officer may give away more devices than received and earned. The check fails
    if nobody reached the threshold or gave a device away (nothing would have been tested).
    """
    res = reward_thresholds_result(size, workers, expected_fn)
    ci, exercised, gave, n, officers, overdrawn, runs, share, totals_ok, wrong = (
        res["ci"],
        res["exercised"],
        res["gave"],
        res["n"],
        res["officers"],
        res["overdrawn"],
        res["runs"],
        res["share"],
        res["totals_ok"],
        res["wrong"],
    )
    figure = None
    if out is not None:
        fig = new_figure()
        ax = fig.subplots()
        top = max([o[0] for o in officers] + [n])
        u = np.arange(0, top + 1)
        ax.step(
            u,
            [expected_fn(int(x), n) for x in u],
            where="post",
            color=EXPECTED_COLOUR,
            label=f"floor(u / {n})",
        )
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(officers))
        ax.scatter(
            [o[0] for o in officers],
            np.array([o[1] for o in officers]) + jitter,
            s=18,
            color=SIMULATED_COLOUR,
            zorder=3,
            label=f"officers ({len(officers)}, {len(runs)} runs; jittered up and down)",
        )
        ax.set(xlabel="uses of the officer's code u", ylabel="free devices earned")
        ax.set_title("Promotion: rewards for code uses")
        ax.legend(fontsize=8)
        figure = save_named(fig, out, "promotion.reward_thresholds")
    return Check(
        name="promotion.reward_thresholds",
        kind="analytic",
        title="Officers earn exactly floor(u / 10) free devices for u code uses",
        expected=f"floor(u / {n}) for every officer (share matching: 1)",
        observed=share,
        ci=ci,
        passed=bool(not wrong and not overdrawn and totals_ok and exercised and gave),
        detail=(
            f"{len(runs)} run(s) of {REWARDS_SCENARIO['time.days']:g} days with "
            f"{REWARDS_SCENARIO['promotion.officers']} officers; code uses per officer from "
            f"{min(o[0] for o in officers)} to {max(o[0] for o in officers)}. Observed: the "
            f"share of officers whose reward matches (exact interval). {len(wrong)} officer(s) "
            f"off the rule, {len(overdrawn)} gave more than they had; reported totals "
            f"{'add up' if totals_ok else 'do not add up'}; "
            f"{'some' if exercised else 'no'} officer reached the threshold, "
            f"{'some' if gave else 'none'} gave devices away."
        ),
        figure=figure,
        source="EFF 2021, LAPD 2016 emails (docs/sources.md: a free device for every 10 uses)",
        extra={"officers": officers},
    )


# =========================================================================== request rules

# Busy enough that every seed exercises every rule: many offenders and incidents, every known
# incident investigated with several requests of spread-out windows and areas, a protest a day.
REQUEST_SCENARIO = {
    "world.blocks_x": 6,
    "world.blocks_y": 4,
    "time.days": 1.5,
    "population.pedestrians": 800,
    "population.offender_fraction": 0.3,
    "incidents.per_trip.car_break_in": 0.05,
    "incidents.per_trip.package_theft": 0.05,
    "incidents.per_trip.burglary": 0.02,
    "cameras.adoption": 0.4,
    "incidents.victim_reporting": 1.0,
    "police.request_probability": 1.0,
    "police.extra_requests": 2.0,
    "police.request_window_hours": 10.0,
    "police.request_spread": 1.0,
    "police.request_delay_hours": 6.0,
    "requests.share_probability": 0.5,
    "requests.opt_out": 0.0,
    "privacy.e2ee": 0.0,
    "legal.demand_probability": 0.5,
    "protest.per_30_days": 30.0,
    "requests.regime": "rfa",
}
SIZE_REASONS = ("window too long", "window too short", "area too large", "area too small")


def _request_facts(overrides: tuple, seed: int) -> dict:
    """Run the busy scenario and keep what the request checks look at (small and picklable)."""
    model = NeighbourhoodModel(
        Scenario().replace({**REQUEST_SCENARIO, **dict(overrides)}), rng=seed
    )
    m = model.run()
    police = model.police
    xy = model._camera_xy()
    voluntary, per_incident = [], {}
    for req in police.issued:
        if req.kind != VOLUNTARY:
            continue
        before = per_incident.get(req.incident, 0) if req.incident >= 0 else 0
        voluntary.append((req.window_hours, req.area_sq_mi, before, req.protest >= 0))
        if req.incident >= 0:
            per_incident[req.incident] = before + 1
    handover_faults = 0
    for h in police.handovers:
        req, s = h.request, h.sightings
        inside = (
            np.all(s.t_out >= req.t0)
            and np.all(s.t_in <= req.t1)
            and np.all(req.area.contains(xy[s.camera]))
            and set(np.unique(s.camera).tolist()) == set(h.cameras.tolist())
            and req.t1 <= req.issued
        )
        handover_faults += not inside
    answered = {(h.request.incident, h.request.kind): len(h.cameras) for h in police.handovers}
    legal = {
        r.incident: answered.get((r.incident, r.kind), -1)
        for r in police.issued
        if r.kind == "legal"
    }
    return {
        "rules": model.platform.rules,
        "voluntary": voluntary,
        "handovers": len(police.handovers),
        "handover_faults": handover_faults,
        "voluntary_clips": [
            len(h.cameras) for h in police.handovers if h.request.kind == VOLUNTARY
        ],
        "legal": legal,  # incident -> clips handed over (-1: the platform declined)
        "refused": dict(police.refused),
        "planned": police.planned_voluntary,
        "metrics": {
            k: m[k]
            for k in (
                "requests.voluntary",
                "requests.refused",
                "requests.public_posts",
                "requests.recipients",
                "footage.clips_shared",
                "footage.legal_clips",
            )
        },
    }


def _request_runs(size: str, variants: list[dict], workers: int) -> list[list[dict]]:
    """For each variant (overrides of REQUEST_SCENARIO), the facts of every seed's run."""
    seeds = [derive_seed(31, r) for r in range(_by_size(size, 1, 8))]
    # a key states only what differs from REQUEST_SCENARIO, so equal scenarios share runs
    keys = [
        tuple(sorted((k, x) for k, x in v.items() if REQUEST_SCENARIO.get(k) != x))
        for v in variants
    ]
    todo = [(k, s) for k in keys for s in seeds if ("request", k, s) not in _CACHE]
    for (k, s), facts in zip(todo, map_tasks(_request_facts, todo, workers), strict=True):
        _CACHE[("request", k, s)] = facts
    return [[_CACHE[("request", k, s)] for s in seeds] for k in keys]


def rule_breaks(
    rules, window_hours: float, area_sq_mi: float, before: int, protest: bool
) -> list[str]:
    """The rules an issued voluntary request breaks, checked from the rule values themselves
    (an implementation independent of ``Rules.refusal``, which the model uses)."""
    broken = []
    if not rules.voluntary:
        broken.append("no voluntary channel")
    if protest and not rules.allow_protest:
        broken.append("protest")
    if rules.max_per_incident > 0 and before + 1 > rules.max_per_incident:
        broken.append("per-incident cap")
    if not (rules.min_window_minutes / 60 - 1e-9 <= window_hours <= rules.max_window_hours + 1e-9):
        broken.append("window")
    if not (rules.min_area_sq_mi - 1e-12 <= area_sq_mi <= rules.max_area_sq_mi + 1e-12):
        broken.append("area")
    return broken


def request_rules_result(size: str = "quick", workers: int = 1) -> dict:
    """The numbers of ``request_rules``: its runs and statistics, no figure, no prose."""
    regimes = _by_size(size, ("rfa",), ("portal", "rfa"))
    runs = _request_runs(size, [{"requests.regime": r} for r in regimes], workers)
    items = breaks = 0
    by_reason: dict[str, int] = {}
    refused = 0
    for regime_runs in runs:
        for f in regime_runs:
            rules = f["rules"]
            for w, a, before, protest in f["voluntary"]:
                for reason in rule_breaks(rules, w, a, before, protest):
                    by_reason[reason] = by_reason.get(reason, 0) + 1
                breaks += bool(rule_breaks(rules, w, a, before, protest))
            items += len(f["voluntary"]) + f["handovers"] + 1
            breaks += f["handover_faults"]
            m = f["metrics"]
            public_ok = m["requests.public_posts"] == (
                m["requests.voluntary"] if rules.public else 0
            )
            breaks += not public_ok
            refused += sum(f["refused"].values())
    share, ci = _proportion(breaks, items)
    issued = sum(len(f["voluntary"]) for rr in runs for f in rr)
    return {
        "breaks": breaks,
        "by_reason": by_reason,
        "ci": ci,
        "issued": issued,
        "items": items,
        "refused": refused,
        "regimes": regimes,
        "runs": runs,
        "share": share,
    }


def request_rules(size: str = "quick", out: Path | None = None, workers: int = 1) -> Check:
    """No issued request breaks its regime's rules; handovers stay inside window and area.

    Why: the regimes (private portal, public Requests for Assistance) are what the model
    compares; a request that slipped past a window or area cap, a third request about one
    incident, or a protest request under RFA would make the comparison meaningless. Every
    issued voluntary request is checked against the regime's window, area, per-incident cap
    and protest rule; every handover's sightings against the request's window and disc (and
    none from the future); public requests are counted as public posts only where the regime
    makes them public. Fails if no request was refused (the rules were never exercised).
    """
    res = request_rules_result(size, workers)
    breaks, by_reason, ci, issued, items, refused, regimes, runs, share = (
        res["breaks"],
        res["by_reason"],
        res["ci"],
        res["issued"],
        res["items"],
        res["refused"],
        res["regimes"],
        res["runs"],
        res["share"],
    )
    figure = None
    if out is not None:
        fig = new_figure(4.2 * len(regimes), 4.0)
        axes = np.atleast_1d(fig.subplots(1, len(regimes)))
        for ax, regime, regime_runs in zip(axes, regimes, runs, strict=True):
            rules = regime_runs[0]["rules"]
            pts = np.array([(w, a) for f in regime_runs for w, a, *_ in f["voluntary"]]).reshape(
                -1, 2
            )
            ax.add_patch(_rule_box(rules))
            ax.scatter(
                pts[:, 0],
                pts[:, 1],
                s=10,
                color=SIMULATED_COLOUR,
                alpha=0.6,
                label=f"issued requests ({len(pts)})",
            )
            ax.set(xscale="log", yscale="log", xlabel="window (hours)", ylabel="area (sq mi)")
            ax.set_title(f"{regime}: requests inside the rules")
            ax.legend(fontsize=8, loc="lower left")
        figure = save_named(fig, out, "requests.rules")
    return Check(
        name="requests.rules",
        kind="analytic",
        title="No request breaks its regime's rules (window, area, cap, protests, public)",
        expected="0 requests or handovers outside the rules (share 0)",
        observed=share,
        ci=ci,
        passed=bool(breaks == 0 and refused > 0 and issued > 0),
        detail=(
            f"Regimes {', '.join(regimes)}; {len(runs[0])} busy run(s) each "
            f"({REQUEST_SCENARIO['time.days']:g} days). {issued} voluntary requests issued, "
            f"{sum(f['handovers'] for rr in runs for f in rr)} handovers, {refused} refusals. "
            f"Items checked: every issued request, every handover, and each run's count of "
            f"public posts; {breaks} broke a rule"
            + (
                f" ({', '.join(f'{k}: {v}' for k, v in sorted(by_reason.items()))})"
                if by_reason
                else ""
            )
            + ". Observed: the share of items breaking a rule (exact interval)."
        ),
        figure=figure,
        source="docs/sources.md, request regimes; sim/model/requests.py",
        extra={"items": items, "breaks": breaks, "refused": refused},
    )


def _rule_box(rules):
    from matplotlib.patches import Rectangle

    w0 = max(rules.min_window_minutes / 60, 1e-2)
    a0 = max(rules.min_area_sq_mi, 1e-3)
    return Rectangle(
        (w0, a0),
        rules.max_window_hours - w0,
        rules.max_area_sq_mi - a0,
        facecolor=EXPECTED_COLOUR,
        alpha=0.12,
        edgecolor=EXPECTED_COLOUR,
        label="allowed",
    )


def request_refusals_result(size: str = "quick", workers: int = 1) -> dict:
    """The numbers of ``request_refusals``: its runs and statistics, no figure, no prose."""
    on, off = _request_runs(size, [{}, {"police.reissue": False}], workers)
    resized = reissued = 0
    faults: list[str] = []
    for a, b in zip(on, off, strict=True):
        for f in (a, b):
            if f["metrics"]["requests.refused"] != sum(f["refused"].values()):
                faults.append("refusals not counted")
        if a["planned"] != b["planned"]:
            faults.append("different plans")
        mb = b["metrics"]
        if mb["requests.voluntary"] + mb["requests.refused"] != b["planned"]:
            faults.append("without re-issue, issued + refused != planned")
        size_refusals = sum(a["refused"].get(r, 0) for r in SIZE_REASONS)
        came_back = (
            a["metrics"]["requests.voluntary"] + a["metrics"]["requests.refused"] - a["planned"]
        )
        resized += size_refusals
        reissued += came_back
        if came_back != size_refusals:
            faults.append(f"{came_back} re-issued for {size_refusals} size refusals")
        if any(rule_breaks(a["rules"], *v) for v in a["voluntary"]):
            faults.append("an issued request breaks the rules")
    share, ci = _proportion(max(reissued, 0), resized)
    return {
        "ci": ci,
        "faults": faults,
        "off": off,
        "on": on,
        "reissued": reissued,
        "resized": resized,
        "share": share,
    }


def request_refusals(size: str = "quick", out: Path | None = None, workers: int = 1) -> Check:
    """A refused request is counted, and (with re-issue) comes back within the rules.

    Why: the RFA rules do not clip a request silently: police must ask again within the
    limits, or not at all. Under RFA, with and without ``police.reissue`` (same seeds): the
    metric equals the refusals counted; both runs plan the same requests; without re-issue,
    issued + refused = planned; with it, every refusal for size (window or area) comes back
    as exactly one issued request that keeps the rules (issued + refused = planned + size
    refusals), and caps and protests never come back. Fails if nothing was refused for size.
    """
    res = request_refusals_result(size, workers)
    ci, faults, off, on, reissued, resized, share = (
        res["ci"],
        res["faults"],
        res["off"],
        res["on"],
        res["reissued"],
        res["resized"],
        res["share"],
    )
    figure = None
    if out is not None:
        fig = new_figure()
        ax = fig.subplots()
        labels = ["planned", "refused", "of which for size", "issued"]
        with_ = [
            sum(f["planned"] for f in on),
            sum(f["metrics"]["requests.refused"] for f in on),
            resized,
            sum(f["metrics"]["requests.voluntary"] for f in on),
        ]
        without = [
            sum(f["planned"] for f in off),
            sum(f["metrics"]["requests.refused"] for f in off),
            sum(sum(f["refused"].get(r, 0) for r in SIZE_REASONS) for f in off),
            sum(f["metrics"]["requests.voluntary"] for f in off),
        ]
        x = np.arange(len(labels))
        ax.bar(x - 0.2, without, 0.4, color=REFERENCE_COLOUR, label="no re-issue")
        ax.bar(x + 0.2, with_, 0.4, color=EXPECTED_COLOUR, label="re-issue within the rules")
        ax.set_xticks(x, labels)
        ax.set(ylabel="voluntary requests (all runs)")
        ax.set_title("RFA: refusals and re-issued requests")
        ax.legend(fontsize=8)
        figure = save_named(fig, out, "requests.refusals")
    return Check(
        name="requests.refusals",
        kind="analytic",
        title="Refused requests are counted and re-issued within the rules",
        expected="every size refusal re-issued once, within the rules (share 1)",
        observed=share,
        ci=ci,
        passed=bool(not faults and resized > 0),
        detail=(
            f"RFA, {len(on)} busy run(s) with re-issue and the same seeds without. "
            f"{resized} refusals for size, {reissued} requests re-issued. "
            + (
                "All accounting identities hold."
                if not faults
                else "Broken: " + "; ".join(sorted(set(faults))) + "."
            )
            + " Observed: re-issued over size refusals (exact interval)."
        ),
        figure=figure,
        source=(
            "docs/sources.md (RFA: window 15 min to 12 h, 0.025 to 0.5 sq mi, two per incident, "
            "no protests)"
        ),
        extra={"size_refusals": resized, "reissued": reissued},
    )


def opt_out_legal_result(size: str = "quick", workers: int = 1) -> dict:
    """The numbers of ``opt_out_legal``: its runs and statistics, no figure, no prose."""
    base, opted = _request_runs(size, [{}, {"requests.opt_out": 1.0}], workers)
    same = total = 0
    reached = 0
    pairs = []
    for a, b in zip(base, opted, strict=True):
        keys = set(a["legal"]) | set(b["legal"])
        total += len(keys)
        same += sum(a["legal"].get(k) == b["legal"].get(k) for k in keys)
        reached += b["metrics"]["requests.recipients"] + b["metrics"]["footage.clips_shared"]
        pairs += [(a["legal"].get(k, -1), b["legal"].get(k, -1)) for k in sorted(keys)]
    legal_content = sum(max(x, 0) for x, _ in pairs)
    shared = sum(f["metrics"]["footage.clips_shared"] for f in base)
    share, ci = _proportion(same, total)
    return {
        "base": base,
        "ci": ci,
        "legal_content": legal_content,
        "opted": opted,
        "pairs": pairs,
        "reached": reached,
        "same": same,
        "share": share,
        "shared": shared,
        "total": total,
    }


def opt_out_legal(size: str = "quick", out: Path | None = None, workers: int = 1) -> Check:
    """Opting out stops voluntary footage and leaves every legal demand's outcome unchanged.

    Why: owners can opt out of police requests but not of warrants (docs/sources.md, pattern 4:
    "opting out does not change that"). The same seeds with nobody and everybody opted out:
    each legal demand (keyed by its incident) must get the same answer and the same clips,
    while voluntary requests reach no one. Fails if the demands produced no footage at all
    (there would be nothing to compare) or if voluntary footage was never shared.
    """
    res = opt_out_legal_result(size, workers)
    base, ci, legal_content, opted, pairs, reached, same, share, shared, total = (
        res["base"],
        res["ci"],
        res["legal_content"],
        res["opted"],
        res["pairs"],
        res["reached"],
        res["same"],
        res["share"],
        res["shared"],
        res["total"],
    )
    figure = None
    if out is not None:
        fig = new_figure(5.0, 4.6)
        ax = fig.subplots()
        arr = np.array(pairs, float).reshape(-1, 2)
        top = max(arr.max() if len(arr) else 1, 1) + 1
        ax.plot([-1, top], [-1, top], color=EXPECTED_COLOUR, lw=1, label="unchanged")
        ax.scatter(
            arr[:, 0], arr[:, 1], s=16, color=SIMULATED_COLOUR, label=f"legal demands ({len(arr)})"
        )
        ax.set(xlabel="clips, nobody opted out (-1: declined)", ylabel="clips, everybody opted out")
        ax.set_title("Legal demands ignore opt-out")
        ax.legend(fontsize=8)
        figure = save_named(fig, out, "requests.opt_out_legal")
    return Check(
        name="requests.opt_out_legal",
        kind="analytic",
        title="Opt-out leaves legal demands' outcomes unchanged (same seed)",
        expected="every legal demand answered the same (share 1); no voluntary footage",
        observed=share,
        ci=ci,
        passed=bool(
            same == total and total > 0 and reached == 0 and legal_content > 0 and shared > 0
        ),
        detail=(
            f"RFA, {len(base)} busy run(s) with requests.opt_out = 0 and the same seeds with 1. "
            f"{total} legal demands, {same} answered the same; {legal_content} clips handed over "
            f"for legal demands; voluntary clips shared: {shared} without opt-out, "
            f"{sum(f['metrics']['footage.clips_shared'] for f in opted)} with full opt-out "
            f"(recipients {sum(f['metrics']['requests.recipients'] for f in opted)}). "
            "Observed: the share of legal demands with the same outcome (exact interval)."
        ),
        figure=figure,
        source="docs/sources.md, legal demands bypass owner opt-out; pattern 4",
        extra={"pairs": pairs},
    )


def e2ee_content_result(size: str = "quick", workers: int = 1) -> dict:
    """The numbers of ``e2ee_content``: its runs and statistics, no figure, no prose."""
    base, encrypted = _request_runs(size, [{}, {"privacy.e2ee": 1.0}], workers)
    answered = [c for f in encrypted for c in f["legal"].values() if c >= 0] + [
        c for f in encrypted for c in f["voluntary_clips"]
    ]
    content = sum(c > 0 for c in answered)
    legal = sum(len(f["legal"]) for f in encrypted)
    base_content = sum(c > 0 for f in base for c in f["legal"].values())
    share, ci = _proportion(content, len(answered))
    return {
        "answered": answered,
        "base": base,
        "base_content": base_content,
        "ci": ci,
        "content": content,
        "encrypted": encrypted,
        "legal": legal,
        "share": share,
    }


def e2ee_content(size: str = "quick", out: Path | None = None, workers: int = 1) -> Check:
    """End-to-end encryption for everyone means no content for any demand or request.

    Why: encryption is the one owner setting that defeats legal demands (docs/sources.md, pattern
    4: "encryption does"). The same seeds without and with encryption for every owner: with
    it, no legal demand and no voluntary request may hand over a clip. Fails if the same
    demands without encryption produced no content (the check would show nothing).
    """
    res = e2ee_content_result(size, workers)
    answered, base, base_content, ci, content, encrypted, legal, share = (
        res["answered"],
        res["base"],
        res["base_content"],
        res["ci"],
        res["content"],
        res["encrypted"],
        res["legal"],
        res["share"],
    )
    figure = None
    if out is not None:
        fig = new_figure()
        ax = fig.subplots()
        labels = ["legal demands\nwith content", "voluntary requests\nwith clips"]
        plain = [base_content, sum(c > 0 for f in base for c in f["voluntary_clips"])]
        enc = [
            sum(c > 0 for f in encrypted for c in f["legal"].values()),
            sum(c > 0 for f in encrypted for c in f["voluntary_clips"]),
        ]
        x = np.arange(2)
        ax.bar(x - 0.2, plain, 0.4, color=REFERENCE_COLOUR, label="no encryption")
        ax.bar(x + 0.2, enc, 0.4, color=EXPECTED_COLOUR, label="everyone encrypted")
        ax.set_xticks(x, labels)
        ax.set(ylabel="count (all runs)")
        ax.set_title("End-to-end encryption and content")
        ax.legend(fontsize=8)
        figure = save_named(fig, out, "requests.e2ee_content")
    return Check(
        name="requests.e2ee_content",
        kind="analytic",
        title="End-to-end encryption for everyone means no content",
        expected="0 demands or requests answered with content (share 0)",
        observed=share,
        ci=ci,
        passed=bool(content == 0 and legal > 0 and base_content > 0),
        detail=(
            f"RFA, {len(base)} busy run(s) with privacy.e2ee = 0 and the same seeds with 1. "
            f"With encryption: {legal} legal demands, {len(answered)} answers (legal and "
            f"voluntary), {content} with content; without: {base_content} legal demands with "
            "content. Observed: the share of answers with content under encryption (exact "
            "interval)."
        ),
        figure=figure,
        source="docs/sources.md, legal demands: end-to-end encryption makes content impossible",
        extra={
            "answers": len(answered),
            "with_content": content,
            "base_with_content": base_content,
        },
    )


# =========================================================================== the policing urn

# Ensign et al. 2018 (docs/sources.md): two zones with true crime rates lambda_A, lambda_B;
# police attention follows the incidents it knows of. Here the agency of sim/model/police.py itself
# is fed a two-zone stream of incidents at these rates (nothing else of the model), one batch
# a day, and re-allocates as it does in a run. A zone with all the attention discovers every
# unreported incident (police.patrol_discovery x 2 zones = 1).
URN_RATES = (6.0, 4.0)  # incidents per day in zones A (west) and B (east): true share 0.6
URN_REPORTED = 0.2  # incidents.victim_reporting of the runs with reports
URN_SCENARIO = {
    "police.allocation": "incidents",
    "police.zones_x": 2,
    "police.zones_y": 1,
    "police.patrol_discovery": 0.5,
    "police.attention_memory_days": 30.0,
    "police.attention_prior": 0.01,
    "incidents.victim_reporting": 0.0,
    "police.discovery_correction": False,
}
# name -> (overrides, label of the figure)
URN_VARIANTS = {
    "discovered": ({}, "discovered only"),
    "reported": ({"incidents.victim_reporting": URN_REPORTED}, "with reports"),
    "corrected": ({"police.discovery_correction": True}, "discovered only, corrected"),
    "corrected_reported": (
        {"police.discovery_correction": True, "incidents.victim_reporting": URN_REPORTED},
        "with reports, corrected",
    ),
}
URN_RUNAWAY_SHARE = 0.95  # "runs away": at least this share of the attention in one zone


def urn_expected(params: Scenario, rates: tuple[float, float] = URN_RATES) -> float:
    """The urn's fixed point at a scenario's settings and these rates (``urn_share``)."""
    return urn_share(
        rates,
        params["incidents.victim_reporting"],
        params["police.patrol_discovery"],
        params["police.discovery_correction"],
    )


def _urn_params(variant: str) -> Scenario:
    return Scenario().replace({**URN_SCENARIO, **URN_VARIANTS[variant][0]})


def _urn_city(seed: int):
    """What the agency needs of a model to act alone: a Mesa model with no people."""
    import types

    import mesa

    model = mesa.Model(rng=seed)
    model.population = types.SimpleNamespace(count=0)
    return model


def _urn_run(variant: str, seed: int, days: int) -> list[float]:
    """One run of the agency on the two-zone stream: zone A's attention share, day by day."""
    params = _urn_params(variant)
    streams = Streams(seed)
    zones = Zones(np.array([[0.0, 0.0], [1.0, 0.0]]), 2, 1)
    police = PoliceAgency(_urn_city(seed), zones, np.ones(2), params, streams)
    reported_share = params["incidents.victim_reporting"]
    shares = []
    for day in range(days):
        if day > 0:
            police.step()  # as the model does at each day's start
        shares.append(float(police.attention[0]))
        u = streams.uniform("urn.crimes", np.arange(2), day)
        n = [poisson_from_uniform(float(u[z]), URN_RATES[z]) for z in range(2)]
        zone = np.repeat(np.arange(2), n)
        incident = np.arange(len(zone))
        reported = streams.uniform("urn.reported", incident, day) < reported_share
        police.on_incidents(day * 1440, zone, incident, reported)
    return shares


def _urn_runs(size: str, workers: int) -> dict[str, np.ndarray]:
    """(replications, days) of zone A's attention share for every variant (cached)."""
    replications, days = _by_size(size, (6, 600), (20, 1000))

    def compute():
        tasks = [(v, derive_seed(61, r), days) for v in URN_VARIANTS for r in range(replications)]
        runs = map_tasks(_urn_run, tasks, workers)
        return {
            v: np.array(runs[i * replications : (i + 1) * replications])
            for i, v in enumerate(URN_VARIANTS)
        }

    return _cached(("urn", size), compute)


def _long_run(shares: np.ndarray) -> list[float]:
    """Each run's mean share over its second half (the first lets the urn forget its start)."""
    return shares[:, shares.shape[1] // 2 :].mean(axis=1).tolist()


def _urn_setting() -> str:
    lam_a, lam_b = URN_RATES
    return (
        f"The agency of sim/model/police.py alone, fed two zones' incidents (Poisson, {lam_a:g} "
        f"and "
        f"{lam_b:g} a day: true share of zone A {lam_a / (lam_a + lam_b):.2f}); "
        "police.allocation incidents, two zones, police.patrol_discovery "
        f"{URN_SCENARIO['police.patrol_discovery']:g} (a zone with all attention finds every "
        "unreported incident), attention half-life "
        f"{URN_SCENARIO['police.attention_memory_days']:g} days, prior "
        f"{URN_SCENARIO['police.attention_prior']:g}."
    )


def _urn_figure(
    runs: dict[str, np.ndarray], out: Path | None, name: str, title: str, variants: tuple
) -> str | None:
    """Zone A's attention share over time in some variants, against the urn's fixed point
    and the true crime share."""
    if out is None:
        return None

    lam_a, lam_b = URN_RATES
    truth = lam_a / (lam_a + lam_b)
    p_star = urn_expected(_urn_params("reported"))
    colours = ("reddish purple", "blue", "orange", "bluish green")
    fig = new_figure(7.2, 4.6)
    ax = fig.subplots()
    for v, colour in zip(URN_VARIANTS, colours, strict=True):
        if v not in variants:
            continue
        shares = runs[v]
        days = np.arange(shares.shape[1])
        colour = OKABE_ITO[colour]
        label = URN_VARIANTS[v][1]
        if v == "discovered":  # runs go to either zone: each drawn alone
            for i, s in enumerate(shares):
                ax.plot(days, s, lw=0.8, alpha=0.7, color=colour, label=None if i else label)
            continue
        lo, hi = np.percentile(shares, [2.5, 97.5], axis=0)
        ax.fill_between(days, lo, hi, color=colour, alpha=0.18, lw=0)
        ax.plot(
            days, shares.mean(axis=0), color=colour, lw=1.6, label=f"{label} (mean, 95 % of runs)"
        )
    black = OKABE_ITO["black"]
    if "reported" in variants:
        label = f"urn's fixed point with reports, {p_star:.3f}"
        ax.axhline(p_star, color=black, ls="--", lw=1.2, label=label)
    ax.axhline(truth, color=black, ls=":", lw=1.2, label=f"true crime share, {truth:.2f}")
    ax.set(xlabel="day", ylabel="zone A's share of police attention (0 to 1)", ylim=(-0.02, 1.02))
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower left")
    return save_named(fig, out, name)


def urn_runaway_result(size: str = "quick", workers: int = 1) -> dict:
    """The numbers of ``urn_runaway``: its runs and statistics, no figure, no prose."""
    runs = _urn_runs(size, workers)
    final = runs["discovered"][:, -1]
    largest = np.maximum(final, 1 - final).tolist()
    lo, _ = _interval(largest, DECISION_LEVEL)
    passed = lo is not None and lo > URN_RUNAWAY_SHARE
    observed, ci = _ci95(largest)
    to_a = int((final > 0.5).sum())
    return {
        "ci": ci,
        "final": final,
        "observed": observed,
        "passed": passed,
        "runs": runs,
        "to_a": to_a,
    }


def urn_runaway(size: str = "quick", out: Path | None = None, workers: int = 1) -> Check:
    """Attention that learns only from what it discovers runs away to one zone.

    Why: Ensign et al. 2018's urn with discovered incidents alone converges to all police in
    one zone, whatever the true crime shares (here 0.6 and 0.4). Observed: each run's final
    share of the zone with more attention; passes if the 99.9 % interval of its mean lies above
    0.95 (so it also excludes the true largest share, what an unbiased learner would find).
    """
    res = urn_runaway_result(size, workers)
    ci, final, observed, passed, runs, to_a = (
        res["ci"],
        res["final"],
        res["observed"],
        res["passed"],
        res["runs"],
        res["to_a"],
    )
    figure = _urn_figure(
        runs,
        out,
        "police.urn_runaway",
        "Attention fed by its own discoveries (urn)",
        ("discovered",),
    )
    return Check(
        name="police.urn_runaway",
        kind="analytic",
        title="Attention that learns only from its discoveries runs away to one zone",
        expected=f"all attention in one zone (share > {URN_RUNAWAY_SHARE:g}; true share 0.6)",
        observed=observed,
        ci=ci,
        passed=bool(passed),
        detail=(
            f"{_urn_setting()} No reports (incidents.victim_reporting 0). {len(final)} runs of "
            f"{runs['discovered'].shape[1]} days; observed: the final share of the zone with "
            f"more attention ({to_a} of {len(final)} runs ended in zone A, the one with more "
            f"crime). Passes if its {_pct(DECISION_LEVEL)} interval lies above "
            f"{URN_RUNAWAY_SHARE:g}{'' if passed else ' (it does not)'}."
        ),
        figure=figure,
        source="Ensign et al. 2018 (PMLR 81), the urn with discovered incidents only "
        "(docs/sources.md)",
        extra={"final_share_zone_a": final.tolist()},
    )


def urn_fixed_point_check_result(
    size: str = "quick",
    workers: int = 1,
    expected_fn: Callable[[Scenario], float] = urn_expected,
) -> dict:
    """The numbers of ``urn_fixed_point_check``: its runs and statistics, no figure, no prose."""
    runs = _urn_runs(size, workers)
    params = _urn_params("reported")
    p_star = expected_fn(params)
    lam_a, lam_b = URN_RATES
    truth = lam_a / (lam_a + lam_b)
    values = _long_run(runs["reported"])
    lo, hi = _interval(values, DECISION_LEVEL)
    covered = _covers(lo, hi, p_star)
    power = lo is not None and not _covers(lo, hi, truth)
    observed, ci = _ci95(values)
    return {
        "ci": ci,
        "covered": covered,
        "hi": hi,
        "lo": lo,
        "observed": observed,
        "p_star": p_star,
        "params": params,
        "power": power,
        "runs": runs,
        "truth": truth,
        "values": values,
    }


def urn_fixed_point_check(
    size: str = "quick",
    out: Path | None = None,
    workers: int = 1,
    expected_fn: Callable[[Scenario], float] = urn_expected,
) -> Check:
    """With reported incidents, the long-run attention share converges to the urn's fixed
    point.

    Why: reports arrive wherever police are, so they pull attention back, but discoveries
    still push it: Ensign et al. 2018's urn then settles at the root of a quadratic, between
    the true share and all-in-one (0.75 at these rates, true share 0.6). Observed: each run's
    mean share of zone A over its second half; passes if the 99.9 % interval covers the fixed
    point and excludes the true share (power)."""
    res = urn_fixed_point_check_result(size, workers, expected_fn)
    ci, covered, hi, lo, observed, p_star, params, power, runs, truth, values = (
        res["ci"],
        res["covered"],
        res["hi"],
        res["lo"],
        res["observed"],
        res["p_star"],
        res["params"],
        res["power"],
        res["runs"],
        res["truth"],
        res["values"],
    )
    figure = _urn_figure(
        runs,
        out,
        "police.urn_fixed_point",
        "Police attention in Ensign et al.'s two-zone urn",
        tuple(URN_VARIANTS),
    )
    r = params["incidents.victim_reporting"]
    return Check(
        name="police.urn_fixed_point",
        kind="analytic",
        title="With reported incidents, attention settles at the urn's fixed point",
        expected=f"p* = {p_star:.4f}, the root of (d_A - d_B) p^2 - (d_A - d_B - r_A - r_B) p "
        "- r_A",
        observed=observed,
        ci=ci,
        passed=bool(covered and power),
        detail=(
            f"{_urn_setting()} Victims report {_pct(r)} of incidents: r_z = {r:g} lambda_z "
            f"reported and d_z = {1 - r:g} lambda_z discovered a day at full attention. "
            f"{len(values)} runs of {runs['reported'].shape[1]} days; observed: each run's mean "
            f"share of zone A over its second half. Passes if its {_pct(DECISION_LEVEL)} "
            f"interval [{lo:.4f}, {hi:.4f}] covers p*{'' if covered else ' (it does not)'} and "
            f"excludes the true share {truth:.2f}{'' if power else ' (it does not)'}."
            if lo is not None
            else "Too few runs for an interval."
        ),
        figure=figure,
        source="Ensign et al. 2018 (PMLR 81), the urn with discovered and reported incidents "
        "(docs/sources.md; docs/calibration.md, the urn's fixed point)",
        extra={"fixed_point": p_star, "true_share": truth},
    )


def urn_correction_result(size: str = "quick", workers: int = 1) -> dict:
    """The numbers of ``urn_correction``: its runs and statistics, no figure, no prose."""
    runs = _urn_runs(size, workers)
    lam_a, lam_b = URN_RATES
    truth = lam_a / (lam_a + lam_b)
    wrong = {"corrected": 1.0, "corrected_reported": urn_expected(_urn_params("reported"))}
    level = 1 - (1 - DECISION_LEVEL) / 2
    parts, ok = [], True
    for v, bad in wrong.items():
        values = _long_run(runs[v])
        lo, hi = _interval(values, level)
        covered, power = _covers(lo, hi, truth), lo is not None and not _covers(lo, hi, bad)
        ok = ok and covered and power
        mean, _ = _ci95(values)
        parts.append(
            f"{URN_VARIANTS[v][1]}: mean {mean:.4f}, {_pct(level)} interval [{lo:.4f}, "
            f"{hi:.4f}] {'covers' if covered else 'does not cover'} {truth:.2f} and "
            f"{'excludes' if power else 'does not exclude'} the uncorrected {bad:.4f}"
            if lo is not None
            else f"{URN_VARIANTS[v][1]}: too few runs"
        )
    observed, ci = _ci95(_long_run(runs["corrected"]))
    return {"ci": ci, "observed": observed, "ok": ok, "parts": parts, "runs": runs, "truth": truth}


def urn_correction(size: str = "quick", out: Path | None = None, workers: int = 1) -> Check:
    """The paper's correction recovers the true crime share.

    Why: keeping a discovered incident with probability inversely proportional to its zone's
    attention (police.discovery_correction) makes every zone add incidents in proportion to
    its crime alone. Observed: each run's mean share of zone A over its second half, without
    reports and with them; passes if both 99.9 % intervals (Bonferroni over the two) cover the
    true share, and exclude what the uncorrected urn reaches (1 and the fixed point)."""
    res = urn_correction_result(size, workers)
    ci, observed, ok, parts, runs, truth = (
        res["ci"],
        res["observed"],
        res["ok"],
        res["parts"],
        res["runs"],
        res["truth"],
    )
    return Check(
        name="police.urn_correction",
        kind="analytic",
        title="The urn's correction recovers the true crime share",
        expected=f"true share of zone A, {truth:.2f}, with and without reports",
        observed=observed,
        ci=ci,
        passed=bool(ok),
        detail=(
            f"{_urn_setting()} police.discovery_correction on: an incident known only from a "
            "discovery counts with probability min A / A_z. "
            f"{runs['corrected'].shape[0]} runs of {runs['corrected'].shape[1]} days each; "
            "observed: each run's mean share of zone A over its second half (the table shows "
            f"discoveries only). {'; '.join(parts)}."
        ),
        figure=_urn_figure(
            runs,
            out,
            "police.urn_correction",
            "The urn's correction: discoveries thinned",
            ("reported", "corrected", "corrected_reported"),
        ),
        source="Ensign et al. 2018 (PMLR 81), the correction (docs/sources.md)",
    )


# =========================================================================== running them all

ANALYTIC: dict[str, Callable[..., Check]] = {
    "coverage.formula": coverage_formula,
    "reporting.bias_ratio": bias_ratio,
    "reporting.minority_share": minority_share,
    "adoption.bass_curve": bass_curve_check,
    "promotion.reward_thresholds": reward_thresholds,
    "requests.rules": request_rules,
    "requests.refusals": request_refusals,
    "requests.opt_out_legal": opt_out_legal,
    "requests.e2ee_content": e2ee_content,
    "police.urn_runaway": urn_runaway,
    "police.urn_fixed_point": urn_fixed_point_check,
    "police.urn_correction": urn_correction,
}
PHASES = ("analytic", "pattern")

Progress = Callable[[str, str, "int | None", "int | None"], None]


def _pattern_progress(progress: Progress | None):
    """Adapt what ``pattern_checks`` reports to ``progress(phase, label, done, total)``: a line
    of text before each stage (counted as stages done), or numbers done and total."""
    calls = [0]

    def report(*args, **kwargs) -> None:
        if progress is None:
            return
        values = [*args, *kwargs.values()]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        label = next((v for v in values if isinstance(v, str)), "")
        done = int(numbers[0]) if numbers else calls[0]
        total = int(numbers[1]) if len(numbers) > 1 else None
        calls[0] += 1
        progress("pattern", label, done, total)

    return report


def _run_patterns(
    size: str,
    workers: int,
    out: Path | None,
    progress: Progress | None,
) -> list[Check]:
    """Call ``pattern_checks``; a crash becomes one failed check, so that the analytic
    results are still reported (with the error) rather than lost."""
    try:
        return list(
            pattern_checks(
                size=size, workers=workers, progress=_pattern_progress(progress), out_dir=out
            )
        )
    except Exception as exc:
        return [
            Check(
                name="pattern.error",
                kind="pattern",
                title="The pattern checks could not run",
                expected="every pattern check runs",
                observed=None,
                ci=None,
                passed=False,
                detail=f"sim.validation.patterns.pattern_checks raised {type(exc).__name__}: {exc}",
                source="sim/validation/patterns.py",
            )
        ]


def _place_figure(check: Check, out: Path | None) -> None:
    """Make a check's figure path relative to the report's folder, copying the file there
    if it was written elsewhere."""
    if out is None or not check.figure:
        return
    fig = Path(check.figure)
    if not fig.is_absolute() and (Path(out) / fig).is_file():
        return  # already relative to the report's folder
    if fig.is_file():
        import shutil

        target = Path(out) / fig.name
        if fig.resolve() != target.resolve():
            shutil.copyfile(fig, target)
        check.figure = fig.name


def run_checks(
    size: str = "full",
    workers: int = 1,
    out: Path | None = None,
    only: str = "all",
    progress: Progress | None = None,
) -> list[Check]:
    """Run the analytic checks and the pattern checks (``only`` picks one kind); write their
    figures into ``out``."""
    _by_size(size, None, None)
    if only not in ("analytic", "pattern", "all"):
        raise ValueError(f"only {only!r}: must be analytic, pattern or all")
    checks: list[Check] = []
    if only in ("analytic", "all"):
        for i, (name, fn) in enumerate(ANALYTIC.items()):
            if progress:
                progress("analytic", name, i, len(ANALYTIC))
            checks.append(fn(size, out=out, workers=workers))
        if progress:
            progress("analytic", "", len(ANALYTIC), len(ANALYTIC))
    if only in ("pattern", "all"):
        found = _run_patterns(size, workers, out, progress)
        for check in found:
            _place_figure(check, out)
        checks.extend(found)
    return checks


# =========================================================================== the report


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if (
        isinstance(value, int | float | bool | np.generic)
        or value is None
        or isinstance(value, str)
    ):
        return clean_number(value)
    return str(value)


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, int | np.integer) or float(v).is_integer():
        return f"{int(v)}"
    return f"{v:.4g}"


def observed_text(check: Check) -> str:
    """The observed value with its 95 % interval, as the summary table shows it."""
    text = _fmt(check.observed)
    if check.ci is not None and check.ci[0] is not None:
        text += f" [{_fmt(check.ci[0])}, {_fmt(check.ci[1])}]"
    return text


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _anchor(name: str) -> str:
    return name.replace(".", "-").replace("_", "-").lower()


def _result(c: Check) -> str:
    return "pass" if c.result == "pass" else f"**{c.result}**"


def _kind(c: Check) -> str:
    return f"{c.kind} ({c.label})" if c.label else c.kind


def _events(c: Check) -> str:
    """Events a check rests on and the minimum it needs ("-" when not counted)."""
    if c.events is None:
        return "-"
    return f"{c.events} ({c.min_events})" if c.min_events else f"{c.events}"


def pattern_summary(checks: list[Check]) -> list[str]:
    """Lines saying how many pattern parts of each label were confirmed: only fitted and
    emergent ones count as reproduced (``sim.validation.patterns.LABELS``)."""
    parts = [c for c in checks if c.kind == "pattern" and c.label]
    if not parts:
        return []
    counts = []
    for label in ("emergent", "fitted", "input"):
        group = [c for c in parts if c.label == label]
        if group:
            missing = sum(not c.measured for c in group)
            counts.append(
                f"{label}: {sum(c.passed for c in group)} of {len(group)} confirmed"
                + (f" ({missing} not measured)" if missing else "")
            )
    reproduced = [c for c in parts if c.label in ("fitted", "emergent")]
    return [
        f"Pattern parts by what they are ({'; '.join(counts)}). Only fitted and emergent parts "
        f"count as reproduced: **{sum(c.passed for c in reproduced)} of {len(reproduced)}**; "
        "input parts check an input or hold by construction (docs/calibration.md).",
        "",
    ]


def report_markdown(checks: list[Check], size: str, seconds: float) -> str:
    """The validation report: a summary table, then one section per check."""
    passed = sum(c.passed for c in checks)
    unmeasured = [c.name for c in checks if not c.measured]
    lines = [
        "# Validation report",
        "",
        f"Written by `python run.py validate --size {size}` (code {code_version()}) in "
        f"{seconds:.0f} s: **{passed} of {len(checks)} checks passed**"
        + (f"; {len(unmeasured)} not measured (too few events)" if unmeasured else "")
        + ".",
        "",
        *pattern_summary(checks),
        "Analytic checks compare a mechanism with a formula or an exact invariant; pattern "
        "checks compare the model with the published patterns of docs/ODD.md (section 1.2). "
        "Observed values are means over replications with their 95 % Student-t interval, or, "
        "for invariants, shares of items with their exact (Clopper-Pearson) 95 % interval. A "
        "statistical check passes on a 99.9 % interval (Bonferroni over the points it tests), "
        "so a correct model fails one about once in a thousand seeds, and only if its interval "
        "is narrow enough to exclude a named wrong answer (see each check). The same checks "
        "run as tests (`tests/test_validate.py` and the test of each submodel) at size quick. "
        "Pattern checks are split into the parts of each published pattern, each labelled "
        "input, fitted or emergent; each part must hold on its 95 % interval in each of three "
        "independent seed sets, and a part whose statistic rests on fewer events than it needs "
        "(the events column: seen in the poorest set, and needed) is **not measured**, never "
        'passed (docs/calibration.md, "Confirmation").',
        "",
    ]
    lines += [
        "| check | kind | expected | observed [95 % CI] | events (needed) | result |",
        "|---|---|---|---|---|---|",
    ]
    for c in checks:
        lines.append(
            f"| [{_cell(c.name)}](#{_anchor(c.name)}) | {_kind(c)} | {_cell(c.expected)} | "
            f"{_cell(observed_text(c))} | {_events(c)} | {_result(c)} |"
        )
    for kind in ("analytic", "pattern"):
        group = [c for c in checks if c.kind == kind]
        if not group:
            continue
        lines += ["", f"## {kind.capitalize()} checks"]
        for c in group:
            lines += [
                "",
                f'<a id="{_anchor(c.name)}"></a>',
                "",
                f"### {c.name}: {c.title}",
                "",
                f"- **Expected:** {c.expected}",
                f"- **Observed:** {observed_text(c)}",
                f"- **Result:** {_result(c)}",
            ]
            if c.label:
                lines.append(f"- **What it is:** {c.label}")
            if c.min_events is not None:
                lines.append(f"- **Events:** {_events(c)}")
            if c.source:
                lines.append(f"- **Source:** {c.source}")
            if c.detail:
                lines += ["", c.detail]
            if c.figure:
                lines += ["", f"![{c.name}]({c.figure})"]
    return "\n".join(lines) + "\n"


def write_report(checks: list[Check], out: Path, size: str, seconds: float) -> Path:
    """Write ``report.md`` and ``checks.json`` (the checks as dicts) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = [_jsonable(c.to_dict()) for c in checks]
    atomic_write(out / "checks.json", json.dumps(data, indent=2) + "\n")
    path = out / "report.md"
    atomic_write(path, report_markdown(checks, size, seconds))
    return path


def validate(
    size: str = "full",
    workers: int = 1,
    out: Path = Path("results/validation"),
    only: str = "all",
    progress: Progress | None = None,
) -> tuple[Path, list[Check]]:
    """Run the checks and write the report; return its path and the checks."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    checks = run_checks(size, workers, out, only, progress)
    path = write_report(checks, out, size, time.perf_counter() - started)
    return path, checks
