"""An accepted ensemble of parameter sets (rejection ABC) and policy results over it.

Calibration (issue 22, part 2; docs/calibration.md, "An accepted ensemble"). Approximate
Bayesian computation by rejection (Pritchard et al. 1999, *Mol. Biol. Evol.* 16: 1791;
Beaumont, Zhang & Balding 2002, *Genetics* 162: 2025): draw parameter sets from the prior, run
the model once per set, keep **every** set whose summary statistics lie within tolerance of the
data. The data here are the published bands of patterns 3-9 (``sim.validation.patterns``), and the
tolerance of each statistic is its own Monte-Carlo error: a set is kept when, for every scored
pattern, the statistic's 95 % interval reaches into the band (``compatible``). This is a
uniform ABC kernel on the band, widened by the simulation noise (the "not implausible" rule of
history matching with implausibility cut-off 1.96, without an emulator). The accepted sets are
a sample of the approximate posterior; ``representative`` picks the one nearest its centre.

The prior sample is an experiment (``experiments/ensemble.toml``: a Latin hypercube, i.e. a
stratified sample of the uniform or log-uniform prior over the factors' ranges) run by
``sim.runs.sweep`` (crash-safe, resumable, with progress); ``build`` scores its runs with
``sim.validation.patterns.neighbourhood_stats`` and writes ``ensemble.parquet`` (the accepted sets),
``scores_ensemble.csv`` (every set), ``ensemble.md`` and ``ensemble.png``.

Policy results over the ensemble (issue 22, part 5): ``sim.runs.draws`` reads the table and gives
each replicate its set.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from matplotlib.figure import Figure
from scipy import stats

from sim.runs.draws import EnsembleError
from sim.runs.experiment import load_experiment
from sim.runs.outputs import atomic_write, save_figure, write_parquet
from sim.runs.plots import SERIES_COLOURS
from sim.runs.sweep import Store
from sim.scenario.scenario import flatten
from sim.scenario.schema import BY_KEY
from sim.validation import patterns

Z = 1.959964  # 95 % normal quantile: the Monte-Carlo tolerance of every statistic
# docs/sources.md: about 1,900 legal demands and more than 22,335 incidents with voluntary
# requests in 2020: legal demands per voluntary request. The ensemble sets
# legal.demand_probability so that a set's legal demands keep this ratio to its requests.
LEGAL_PER_REQUEST = 1900 / 22335
SCORED = (3, 4, 5, 6, 7, 8, 9)
SCORED_TEXT = "patterns 3-9"
# statistic -> (band, pattern); one-sided bands use +-inf
BANDS = {
    "response_rate": (patterns.RESPONSE_BAND, 3),
    "ever_shared": (patterns.EVER_SHARED_BAND, 3),
    "legal_content": (patterns.LEGAL_BAND, 4),
    "legal_content_2021": (patterns.LEGAL_2021_BAND, 9),  # the same statistic, 2021's band
    "non_crime": (patterns.NON_CRIME_BAND, 5),
    "posts_majority_slope": ((0.0, math.inf), 6),
    "incidents_majority_slope": ((-math.inf, 0.0), 6),
    "incidents_minus_posts_slope": ((-math.inf, 0.0), 6),
    "border_ratio": ((patterns.BORDER_RATIO_MIN, math.inf), 6),  # 6b
    "minority_share": ((0.5, 1.0), 7),
    "cleared": ((0.0, patterns.CLEARED_MAX), 8),
}
SOLVED = ("police.request_probability", "legal.demand_probability")


# ----------------------------------------------------------------------------- ABC core


def compatible(x: float | None, se: float | None, band: tuple[float, float], z: float = Z) -> bool:
    """Whether a statistic with Monte-Carlo standard error ``se`` is compatible with ``band``:
    its interval ``x +- z se`` reaches into the band. Undefined statistics are not."""
    if x is None or se is None or not math.isfinite(x) or not math.isfinite(se) or se < 0:
        return False
    return x + z * se >= band[0] and x - z * se <= band[1]


def abc_accept(
    stats: Mapping[str, tuple[float | None, float | None]],
    bands: Mapping[str, tuple[tuple[float, float], int]] = BANDS,
    z: float = Z,
) -> dict[int, bool]:
    """Rejection-ABC acceptance of one parameter set, pattern by pattern.

    Args:
        stats: {statistic: (value, Monte-Carlo standard error)}.
        bands: {statistic: (band, pattern)}.
    Returns:
        {pattern: every statistic of the pattern compatible with its band}.
    """
    out: dict[int, bool] = {}
    for name, (band, k) in bands.items():
        x, se = stats.get(name, (None, None))
        out[k] = out.get(k, True) and compatible(x, se, band, z)
    return out


def _binomial_se(p: float | None, n: float) -> float | None:
    if p is None or not math.isfinite(p) or n <= 0:
        return None
    return math.sqrt(max(p * (1 - p), 0.0) / n)


def _slope_se(m: tuple) -> float | None:
    """The standard error behind ``pooled_slope``'s normal interval."""
    _, lo, hi = m
    return None if lo is None or hi is None else (hi - lo) / (2 * Z)


def set_statistics(rows: Sequence[dict], params) -> dict[str, Any]:
    """Patterns 3-9 of one parameter set from its runs (made with MEASUREMENT), each with its
    Monte-Carlo standard error, the solved realistic rates and the acceptance.

    The statistics are ``sim.validation.patterns.neighbourhood_stats`` (the calibration's and the
    pattern
    checks' own). Their errors come from the counts within the runs, so that a single
    replication has one: binomial for the pooled shares, the pooled robust standard error for
    pattern 6's slopes, and for the share of owners ever sharing the change of
    ``ever_shared`` over one standard error of the per-receipt share (delta method).
    """
    s = patterns.neighbourhood_stats(rows, params)

    def total(key: str) -> float:
        return float(sum((r.get(key) or 0.0) for r in rows))

    def pooled_count(frac: str, den: str) -> float:
        return float(sum((r.get(frac) or 0.0) * (r.get(den) or 0.0) for r in rows))

    rec = total("requests.recipients")
    clips = total("footage.clips_shared")
    out: dict[str, Any] = {}
    se: dict[str, float | None] = {
        "response_rate": _binomial_se(s["response_rate"][0], rec),
        "legal_content": _binomial_se(s["legal_content"][0], total("requests.legal")),
        "non_crime": _binomial_se(s["non_crime"][0], total("reports.total")),
        "minority_share": _binomial_se(s["minority_share"][0], total("reports.total")),
        "cleared": _binomial_se(s["cleared"][0], total("incidents.total")),
        "posts_majority_slope": _slope_se(s["posts_majority_slope"]),
        "incidents_majority_slope": _slope_se(s["incidents_majority_slope"]),
    }
    values = {k: s[k][0] for k in se}
    # pattern 9 scores 4a's statistic against 2021's band
    values["legal_content_2021"] = values["legal_content"]
    se["legal_content_2021"] = se["legal_content"]
    rp = s["request_probability"]
    days = max(0.0, float(params["time.days"]) - float(params["police.request_delay_hours"]) / 24)
    years = len(rows) * days / 365.25
    cam_years = total("cameras.count") * days / 365.25
    values["ever_shared"], se["ever_shared"] = s["ever_shared"][0], None
    if rp is not None and rec > 0 and cam_years > 0:
        per = clips / rec
        d = _binomial_se(per, rec) or 0.0
        k = rec / cam_years
        hi, lo = patterns.ever_shared(per + d, k, rp), patterns.ever_shared(max(per - d, 0), k, rp)
        se["ever_shared"] = (hi - lo) / 2
    # 6b: posts per home, bordering over inner majority tracts; the error of a ratio of two
    # Poisson counts (delta method on the log)
    b, i = total("reports.border_posts"), total("reports.interior_posts")
    values["border_ratio"] = s["border_ratio"][0]
    se["border_ratio"] = (
        values["border_ratio"] * math.sqrt(1 / b + 1 / i)
        if values["border_ratio"] is not None and b > 0 and i > 0
        else None
    )
    pm, im = values["posts_majority_slope"], values["incidents_majority_slope"]
    if pm is not None and im is not None and se["posts_majority_slope"] is not None:
        values["incidents_minus_posts_slope"] = im - pm
        se["incidents_minus_posts_slope"] = math.hypot(
            se["posts_majority_slope"], se["incidents_majority_slope"] or 0.0
        )
    stats = {k: (values.get(k), se.get(k)) for k in BANDS}
    accepted = abc_accept(stats)
    # the patterns' rules on the parameters themselves (the prior keeps both inside)
    accepted[7] = (
        accepted[7]
        and patterns.MODEST_BIAS[0] < float(params["reporting.bias"]) <= (patterns.MODEST_BIAS[1])
    )
    accepted[8] = accepted[8] and float(params["incidents.deterrence"]) <= patterns.DETERRENCE_MAX
    requests_year = total("requests.voluntary") / years if years > 0 else 0.0
    legal_year = total("requests.legal") / years if years > 0 else 0.0
    demand = None
    if rp is not None and legal_year > 0:
        demand = min(1.0, LEGAL_PER_REQUEST * rp * requests_year / legal_year)
    out.update({k: values.get(k) for k in BANDS})
    out.update({f"{k}.se": se.get(k) for k in BANDS})
    out["requests_per_year"] = s["requests_per_year"][0]
    out["police.request_probability"] = rp
    out["legal.demand_probability"] = demand
    out["legal_per_year"] = None if demand is None else demand * legal_year
    out["events.requests"] = total("requests.voluntary")
    out["events.legal"] = total("requests.legal")
    out["events.posts"] = total("reports.total")
    out["events.incidents"] = total("incidents.total")
    out.update({f"pattern.{k}": bool(accepted[k]) for k in SCORED})
    out["accepted"] = bool(all(accepted[k] for k in SCORED)) and rp is not None
    out["accepted"] = out["accepted"] and demand is not None
    return out


def check_levers(base) -> None:
    """The prior sample must be run with the measurement levers: the solved rates thin its
    requests and demands (``sim.validation.patterns.MEASUREMENT``)."""
    for key, value in patterns.MEASUREMENT.items():
        if base[key] != value:
            raise EnsembleError(
                f"the ensemble sweep must set {key} = {value} (sim.validation.patterns.MEASUREMENT)"
            )


def score(runs, base) -> Any:
    """Every set (design point) of a sweep's runs table scored: a DataFrame, one row per set,
    with ``param:<key>`` (the factors and the two solved rates), the statistics and their
    errors, ``pattern.<k>`` and ``accepted``."""

    check_levers(base)
    rows = []
    for point, params, metrics in patterns.design_points(runs):
        st = set_statistics(metrics, base.replace(params))
        row: dict[str, Any] = {"point": point, "replications": len(metrics)}
        row.update({f"param:{k}": float(v) for k, v in params.items()})
        for key in SOLVED:
            row[f"param:{key}"] = st.pop(key)
        row.update(st)
        rows.append(row)
    return pd.DataFrame(rows)


def representative(accepted) -> Any:
    """The accepted set nearest the posterior's centre: the smallest sum of squared distances
    of its parameters' ranks (within the accepted sets, scaled to [0, 1]) from the median rank.
    Ranks make parameters of different units and scales count alike."""
    cols = [c for c in accepted.columns if c.startswith("param:")]
    ranks = accepted[cols].rank(pct=True)
    dist = ((ranks - 0.5) ** 2).sum(axis=1)
    return accepted.loc[dist.sort_values(kind="stable").index[0]]


# ----------------------------------------------------------------------------- the run


def build(
    runs_dir: str | Path,
    out: str | Path,
    preset: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Score a finished ensemble sweep and write the ensemble, its report, figure and
    (optionally) the representative preset. Returns a summary dict."""

    say = progress or (lambda text: None)
    runs_dir, out = Path(runs_dir), Path(out)
    manifest = runs_dir / "manifest.json"
    if not manifest.exists():
        raise EnsembleError(f"{runs_dir}: not a sweep's results folder (no manifest.json)")
    exp = load_experiment(json.loads(manifest.read_text())["experiment"])
    runs = Store(runs_dir).runs_table()
    if runs.empty:
        raise EnsembleError(f"{runs_dir}: no runs yet (run the sweep first)")
    say(f"ensemble: scoring {runs['point'].nunique()} sets on {SCORED_TEXT}")
    scores = score(runs, exp.base_scenario)
    accepted = scores[scores["accepted"]].reset_index(drop=True)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "scores_ensemble.csv", scores.to_csv(index=False))
    write_parquet(out / "ensemble.parquet", pa.Table.from_pandas(accepted, preserve_index=False))
    chosen = representative(accepted) if len(accepted) else None
    figure = out / "ensemble.png"
    if len(accepted):
        plot(scores, accepted, exp, figure)
    if preset is not None and chosen is not None:
        stage1 = _adoption_stage(out)
        text = preset_text(exp, chosen, scores, accepted, Path(preset).stem, stage1)
        atomic_write(preset, text)
    atomic_write(out / "ensemble.md", report(exp, scores, accepted, chosen, preset, figure))
    say(f"ensemble: {len(accepted)} of {len(scores)} sets accepted")
    return {"sets": len(scores), "accepted": len(accepted), "chosen": chosen}


def _adoption_stage(out: Path) -> tuple[Any, Any] | None:
    """Stage 1 of the calibration (adoption and partnerships, patterns 1-2: parameters the
    ensemble's patterns 3-9 do not depend on, docs/calibration.md): its experiment and the
    chosen accepted set, from ``accepted_adoption.csv`` beside the ensemble, if there."""

    path = out / "accepted_adoption.csv"
    if not path.exists():
        return None
    accepted = pd.read_csv(path)
    return (load_experiment(patterns.ADOPTION_EXPERIMENT), patterns.choose(accepted))


def _factor_keys(exp) -> list[str]:
    return [f.key for f in exp.factors]


def _label(key: str) -> str:

    p = BY_KEY.get(key)
    return f"{key} [{p.unit}]" if p else key


def plot(scores, accepted, exp, path: Path) -> None:
    """Marginals: the prior sample and the accepted sets, one panel per parameter."""

    keys = [*_factor_keys(exp), *SOLVED]
    cols = 4
    rows = math.ceil(len(keys) / cols)
    fig = Figure(figsize=(4 * cols, 3 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, key in zip(axes, keys, strict=False):
        allv = scores[f"param:{key}"].dropna().to_numpy(float)
        acc = accepted[f"param:{key}"].dropna().to_numpy(float)
        log = key == "reporting.base_rate" or key in SOLVED
        data_all = np.log10(allv[allv > 0]) if log else allv
        data_acc = np.log10(acc[acc > 0]) if log else acc
        if len(data_all) == 0:
            ax.set_visible(False)
            continue
        bins = np.histogram_bin_edges(data_all, bins=12)
        ax.hist(data_all, bins=bins, color="0.8", label=f"all sets scored ({len(allv)})")
        ax.hist(
            data_acc, bins=bins, color=SERIES_COLOURS[0], alpha=0.8, label=f"accepted ({len(acc)})"
        )
        ax.set_xlabel(("log10 " if log else "") + _label(key), fontsize=8)
        ax.set_ylabel("parameter sets [count]", fontsize=8)
        ax.set_title(key.split(".", 1)[1], fontsize=9)
        ax.legend(fontsize=7)
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"Rejection ABC on the district world: prior sample and accepted ensemble "
        f"({len(accepted)} of {len(scores)} sets; {SCORED_TEXT})"
    )
    save_figure(fig, path, dpi=90)


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.3g}"


def constraints(scores, keys: Sequence[str]) -> dict[tuple[int, str], tuple[float, float]]:
    """Which pattern constrains which parameter: for pattern k and parameter p, the
    two-sample Kolmogorov-Smirnov distance between p among the sets passing k and p among all
    sets scored, with its p-value. A pattern that does not depend on p passes a random subset
    (distance near 0)."""

    out = {}
    for k in SCORED:
        ok = scores[scores[f"pattern.{k}"]]
        for key in keys:
            col = f"param:{key}"
            a, b = ok[col].dropna(), scores[col].dropna()
            if len(a) < 3 or len(a) == len(b):
                out[(k, key)] = (0.0, 1.0)
                continue
            r = stats.ks_2samp(a, b)
            out[(k, key)] = (float(r.statistic), float(r.pvalue))
    return out


def report(exp, scores, accepted, chosen, preset, figure: Path) -> str:
    """ensemble.md: the method, acceptance by pattern, posterior ranges and correlations,
    which patterns constrain which parameters, and the representative set."""
    keys = _factor_keys(exp)
    days = exp.base_scenario["time.days"]
    lines = [
        "# Calibration ensemble: rejection ABC on the district world",
        "",
        f"Generated by `python run.py ensemble {Path(exp.path).as_posix()}` "
        '(sim/validation/ensemble.py; method: docs/calibration.md, "An accepted ensemble"). Prior: '
        f"{len(scores)} sets, a Latin hypercube over the factors' ranges of "
        f"`{exp.path.name}`; each set run {exp.replications} time(s), {days:g} days, on "
        "the district world with police asking about every known incident "
        "(`sim.validation.patterns.MEASUREMENT`). A set is **accepted** when, for each of patterns "
        "3-9, every statistic's 95 % Monte-Carlo interval reaches into its band.",
        "",
        f"**Accepted: {len(accepted)} of {len(scores)} sets.**",
        "",
        "## Acceptance by pattern",
        "",
        "| pattern | statistics (band) | sets passing | events per set (median) |",
        "|---|---|---|---|",
    ]
    events = {
        3: "events.requests",
        4: "events.legal",
        9: "events.legal",
        5: "events.posts",
        6: "events.posts",
        7: "events.posts",
        8: "events.incidents",
    }
    loose = []
    for k in SCORED:
        if scores[f"pattern.{k}"].mean() > 0.9:
            loose.append(str(k))
        names = ", ".join(
            f"{n} ({_fmt(b[0])}, {_fmt(b[1])})" for n, (b, kk) in BANDS.items() if kk == k
        )
        ev = events[k]
        lines.append(
            f"| {k} {patterns.TITLES[k]} | {names} | {int(scores[f'pattern.{k}'].sum())} | "
            f"{_fmt(float(scores[ev].median()))} {ev.split('.')[1]} |"
        )
    allkeys = [*keys, *SOLVED]
    if loose:
        lines += [
            "",
            f"Pattern(s) {', '.join(loose)} pass in more than 9 of 10 sets: at this run length "
            "their statistics' Monte-Carlo error (or the prior itself) leaves them almost "
            "no power to reject a set, so they constrain little (see below).",
        ]
    lines += [
        "",
        "## Posterior ranges",
        "",
        "Prior: the range sampled (the solved rates: over all sets scored). Posterior: the "
        "accepted sets' 5 %, 50 % and 95 % quantiles.",
        "",
        "| parameter | unit | prior range | posterior 5 % | median | 95 % |",
        "|---|---|---|---|---|---|",
    ]

    for key in allkeys:
        allv = scores[f"param:{key}"].dropna()
        acc = accepted[f"param:{key}"].dropna() if len(accepted) else allv.iloc[:0]
        q = acc.quantile([0.05, 0.5, 0.95]).tolist() if len(acc) else [None] * 3
        lo, hi = (allv.min(), allv.max()) if len(allv) else (None, None)
        lines.append(
            f"| `{key}` | {BY_KEY[key].unit} | {_fmt(lo)} - {_fmt(hi)} | "
            + " | ".join(_fmt(v) for v in q)
            + " |"
        )
    if len(accepted) > 2:
        corr = accepted[[f"param:{k}" for k in allkeys]].corr(method="spearman")
        pairs = []
        for i, a in enumerate(allkeys):
            for b in allkeys[i + 1 :]:
                r = corr.loc[f"param:{a}", f"param:{b}"]
                if math.isfinite(r):
                    pairs.append((abs(r), r, a, b))
        pairs.sort(reverse=True)
        lines += [
            "",
            "## Posterior correlations",
            "",
            f"Spearman rank correlations among the {len(accepted)} accepted sets, the "
            "strongest ten (the prior sample is uncorrelated by design: a correlation here is "
            "a trade-off the patterns leave open; with a few tens of sets only the strongest "
            f"are more than noise: |r| above about {2 / math.sqrt(len(accepted) - 1):.2f}).",
            "",
            "| parameter | parameter | Spearman r |",
            "|---|---|---|",
        ]
        lines += [f"| `{a}` | `{b}` | {r:+.2f} |" for _, r, a, b in pairs[:10]]
    cons = constraints(scores, keys)
    lines += [
        "",
        "## Which patterns constrain which parameters",
        "",
        "Kolmogorov-Smirnov distance between a parameter among the sets passing a pattern and "
        "among all sets scored (0: the pattern says nothing about it); **bold** where the "
        "p-value is below 0.01.",
        "",
        "| parameter | " + " | ".join(f"pattern {k}" for k in SCORED) + " |",
        "|---|" + "---|" * len(SCORED),
    ]
    for key in keys:
        cells = []
        for k in SCORED:
            d, p = cons[(k, key)]
            cells.append(f"**{d:.2f}**" if p < 0.01 else f"{d:.2f}")
        lines.append(f"| `{key}` | " + " | ".join(cells) + " |")
    lines += ["", f"![marginals]({figure.name})", ""]
    if chosen is not None:
        lines += [
            "## Representative set",
            "",
            f"Point {int(chosen['point'])}, the accepted set nearest the posterior's centre "
            "(`sim.validation.ensemble.representative`)"
            + (f"; preset `{Path(preset).as_posix()}`." if preset else "."),
            "",
            *(f"- `{k}` = {_fmt(float(chosen[f'param:{k}']))}" for k in allkeys),
            "",
            f"Requests a year at its request probability: {_fmt(chosen['requests_per_year'])}; "
            f"legal demands a year: {_fmt(chosen['legal_per_year'])}.",
            "",
        ]
    return "\n".join(lines)


def preset_text(exp, row, scores, accepted, name: str, stage1=None) -> str:
    """The representative set as a preset over the district world: the base scenario's own
    keys, the ensemble's world overrides (without the measurement levers and the short run
    length), the factors and the two solved rates, each with its unit and why it has that
    value (the factors with their posterior 5-95 % range), and with ``stage1`` (experiment,
    chosen row) the adoption stage's chosen set (patterns 1-2)."""

    values: dict[str, tuple[Any, str]] = {}
    base = flatten(tomllib.loads(Path(exp.base).read_text(encoding="utf-8")), str(exp.base))
    for key, value in base.items():
        values[key] = (value, f"district world ({Path(exp.base).name})")
    for key, value in exp.overrides.items():
        if key not in patterns.MEASUREMENT and key != "time.days":
            values[key] = (value, f"calibration world ({exp.path.name} overrides)")
    if stage1 is not None:
        exp1, row1 = stage1
        why = f"adoption stage ({exp1.path.name}, point {int(row1['point'])}; patterns 1-2)"
        for key, value in exp1.overrides.items():
            values[key] = (value, f"adoption stage's world ({exp1.path.name} overrides)")
        for key in _factor_keys(exp1):
            v = row1[f"param:{key}"]
            v = int(v) if BY_KEY[key].kind == "int" else float(f"{float(v):.6g}")
            values[key] = (v, why)
    for key in [*_factor_keys(exp), *SOLVED]:
        v = float(f"{float(row[f'param:{key}']):.6g}")
        lo, hi = accepted[f"param:{key}"].quantile([0.05, 0.95]).tolist()
        how = "solved for this set" if key in SOLVED else "ensemble's representative set"
        values[key] = (v, f"{how}; accepted sets' 5-95 %: {_fmt(lo)} - {_fmt(hi)}")
    header = [
        f"# {name}: the representative set of the calibration ensemble, on the district world",
        '# Rejection ABC (sim/validation/ensemble.py; docs/calibration.md, "An accepted '
        'ensemble"): '
        f"{len(accepted)} of {len(scores)} prior",
        f"# sets ({exp.path.name}) accepted on {SCORED_TEXT}; this is point {int(row['point'])}, "
        "the accepted set nearest the posterior's centre",
        "# (results/calibration/ensemble.md). Requests: police.request_probability solved for "
        "pattern 3 (10 % of owners",
        f"# ever share, at most {patterns.REQUESTS_PER_YEAR_MAX:g} requests a year: the "
        "district taken as one agency's whole area): about",
        f"# {_fmt(row['requests_per_year'])} voluntary requests a year; legal.demand_probability "
        "keeps the 2020 ratio of legal demands to",
        f"# requests (about 1,900 to 22,335): about {_fmt(row['legal_per_year'])} legal demands "
        "a year. For policy results use the whole",
        "# ensemble: python run.py compare A.toml B.toml --ensemble "
        "results/calibration/ensemble.parquet",
        "# Sources: docs/sources.md (requests, legal demands, patterns), docs/calibration.md.",
    ]
    return "\n".join(header + patterns.preset_body(values)) + "\n"
