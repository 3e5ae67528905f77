"""The policy figure and table of a request-rules sweep: per regime, the footage police obtain
against the bystanders it exposes by group, with 95 % paired intervals, one panel per opt-out
rate and reporting bias.

A sweep with common random numbers runs every design point with the same seeds, so the
difference between two regimes at one replicate is paired (the same incidents, posts and
owners' draws). For each panel (the other factors fixed) and each regime, the table gives the
mean paired difference from the reference regime (``rfa`` if present) and its 95 % t-interval;
the figure places each regime at its mean footage and bystanders, with the paired intervals of
its difference from the reference as error bars (the reference's bars are zero).

    python -m sim.runs.policy_figure results/request_rules    # writes results/request_rules/policy/

It writes ``policy.png``, ``policy_pairs.csv`` (every metric's paired differences) and
``policy_pairs.md`` (the headline metrics, and what the reporting bias changes in each regime:
highest minus lowest bias, paired). ``replications_needed`` is the power calculation
the experiment files' headers use.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.runs.outputs import atomic_write, save_figure
from sim.runs.plots import SERIES_COLOURS, new_figure
from sim.runs.stats import paired_interval
from sim.runs.sweep import Store

REGIME = "param:requests.regime"
FOOTAGE = ("footage.clips_shared", "footage.incidents_with_footage_fraction")
HEADLINE = (
    "requests.owners_asked",
    "requests.recipients",
    "footage.clips_shared",
    "footage.clips_from_posts",
    "footage.incidents_with_footage_fraction",
    "footage.legal_clips",
    "footage.bystanders.majority",
    "footage.bystanders.minority",
)


def load_runs(folder: Path) -> pd.DataFrame:
    """Every finished run of a sweep folder (one row each, as ``Store.runs_table`` reads it),
    each (factor values, replicate) once: the last design point that repeats them wins."""
    df = Store(Path(folder)).runs_table()
    if df.empty:
        raise FileNotFoundError(f"{folder}: no runs (run the sweep first)")
    df = df[df["status"] == "ok"]
    keys = [c for c in df.columns if c.startswith("param:")] + ["replicate"]
    return df.drop_duplicates(keys, keep="last")


def paired_ci(diff) -> tuple[float, float, float]:
    """Mean of paired differences and its 95 % interval (``sim.runs.stats.paired_interval``, the
    method of ``compare`` and the report's contrasts), NaN where undefined."""
    iv = paired_interval(diff)
    return tuple(math.nan if v is None else v for v in (iv.mean, iv.low, iv.high))


def replications_needed(sd: float, effect: float, level: float = 0.95, power: float = 0.8) -> int:
    """Replications for a paired difference of mean ``effect`` (sd of the differences ``sd``)
    to have a ``level`` interval excluding 0 with probability ``power`` (normal
    approximation, then one t correction: n = ((z_a + z_b) sd / effect)^2 + 1, at least 2)."""
    if effect == 0:
        return math.inf
    z = stats.norm.ppf(0.5 + level / 2) + stats.norm.ppf(power)
    return max(2, math.ceil((z * sd / abs(effect)) ** 2) + 1)


def paired_table(df: pd.DataFrame, metrics, reference: str | None = None) -> pd.DataFrame:
    """Paired differences (regime - reference) of ``metrics`` in every panel (combination of
    the other factors), with 95 % intervals and the sd of the differences."""
    regimes = list(dict.fromkeys(df[REGIME]))
    reference = reference or ("rfa" if "rfa" in regimes else regimes[0])
    others = [c for c in df.columns if c.startswith("param:") and c != REGIME]
    rows = []
    panels = df.groupby(others) if others else [((), df)]
    for key, panel in panels:
        key = key if isinstance(key, tuple) else (key,)
        base = panel[panel[REGIME] == reference].set_index("replicate")
        for regime in regimes:
            cur = panel[panel[REGIME] == regime].set_index("replicate")
            common = base.index.intersection(cur.index)
            for metric in metrics:
                a = pd.to_numeric(cur.loc[common, metric], errors="coerce").to_numpy(float)
                b = pd.to_numeric(base.loc[common, metric], errors="coerce").to_numpy(float)
                mean, lo, hi = paired_ci(a - b)
                d, ok = a - b, np.isfinite(a)
                rows.append(
                    {
                        **{o.removeprefix("param:"): v for o, v in zip(others, key, strict=True)},
                        "regime": regime,
                        "reference": reference,
                        "metric": metric,
                        "level": float(a[ok].mean()) if ok.any() else math.nan,
                        "diff": mean,
                        "low": lo,
                        "high": hi,
                        "sd": float(np.std(d[np.isfinite(d)], ddof=1))
                        if np.isfinite(d).sum() > 1
                        else math.nan,
                        "n": len(common),
                    }
                )
    return pd.DataFrame(rows)


def factor_contrast(df: pd.DataFrame, factor: str, metrics) -> pd.DataFrame:
    """Paired differences between the highest and lowest value of ``factor`` (e.g. the
    reporting bias), with the other factors fixed: what the factor changes in each regime."""
    col = f"param:{factor}"
    low, high = df[col].min(), df[col].max()
    others = [c for c in df.columns if c.startswith("param:") and c != col]
    rows = []
    for key, panel in df.groupby(others):
        key = key if isinstance(key, tuple) else (key,)
        a = panel[panel[col] == high].set_index("replicate")
        b = panel[panel[col] == low].set_index("replicate")
        common = a.index.intersection(b.index)
        for metric in metrics:
            d = pd.to_numeric(a.loc[common, metric], errors="coerce") - pd.to_numeric(
                b.loc[common, metric], errors="coerce"
            )
            mean, lo, hi = paired_ci(d.to_numpy(float))
            rows.append(
                {
                    **{o.removeprefix("param:"): v for o, v in zip(others, key, strict=True)},
                    "contrast": f"{factor} {high:g} - {low:g}",
                    "metric": metric,
                    "diff": mean,
                    "low": lo,
                    "high": hi,
                    "n": len(common),
                }
            )
    return pd.DataFrame(rows)


BIAS_METRICS = ("requests.from_posts", "footage.clips_from_posts")  # and every bystander count


def _errors(r: pd.Series) -> list[list[float]]:
    """Error bar lengths from a row's paired interval (below, above its mean difference)."""
    return [[r["diff"] - r["low"]], [r["high"] - r["diff"]]]


def figure(table: pd.DataFrame, path: Path, groups: tuple[str, ...]) -> None:
    """Per opt-out rate (rows) and bias (column pairs): footage (clips shared) against
    bystanders by group, per regime, and the share of known incidents with footage per regime;
    error bars: 95 % paired intervals of the difference from the reference."""
    rows = sorted(table["requests.opt_out"].unique()) if "requests.opt_out" in table else [None]
    cols = sorted(table["reporting.bias"].unique()) if "reporting.bias" in table else [None]
    fig = new_figure(6.0 * len(cols), 3.6 * len(rows))
    axes = fig.subplots(
        len(rows), 2 * len(cols), squeeze=False, gridspec_kw={"width_ratios": [3, 1.4] * len(cols)}
    )
    markers = ("o", "^", "s", "D")
    colours = SERIES_COLOURS
    for i, o in enumerate(rows):
        for j, b in enumerate(cols):
            ax, bars = axes[i, 2 * j], axes[i, 2 * j + 1]
            sel = table
            if o is not None:
                sel = sel[sel["requests.opt_out"] == o]
            if b is not None:
                sel = sel[sel["reporting.bias"] == b]
            regimes = list(dict.fromkeys(sel["regime"]))
            for k, regime in enumerate(regimes):
                r = sel[sel["regime"] == regime].set_index("metric")
                x = r.loc[FOOTAGE[0]]
                for g, group in enumerate(groups):
                    y = r.loc[f"footage.bystanders.{group}"]
                    ax.errorbar(
                        x["level"],
                        y["level"],
                        xerr=_errors(x),
                        yerr=_errors(y),
                        fmt=markers[g % len(markers)],
                        color=colours[k % len(colours)],
                        capsize=3,
                        label=f"{regime}, {group}",
                    )
                w = r.loc[FOOTAGE[1]]
                bars.bar(k, w["level"], color=colours[k % len(colours)], alpha=0.8)
                bars.errorbar(k, w["level"], yerr=_errors(w), fmt="none", color="k", capsize=3)
            title = []
            if o is not None:
                title.append(f"opt-out {o:g}")
            if b is not None:
                title.append(f"bias {b:g}")
            ax.set_title(", ".join(title), fontsize=9)
            ax.set_xlabel("clips shared (voluntary)")
            ax.set_ylabel("bystanders exposed")
            ax.grid(alpha=0.3)
            bars.set_xticks(range(len(regimes)), regimes, rotation=45, fontsize=7)
            bars.set_ylabel("incidents with footage", fontsize=8)
            bars.set_ylim(0, 1)
            bars.grid(alpha=0.3, axis="y")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    reference = table["reference"].iloc[0]
    fig.suptitle(
        f"Footage obtained and bystanders exposed by group, per regime "
        f"(bars: 95 % paired intervals of the difference from {reference})",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.08, 1, 0.96))
    save_figure(fig, path, dpi=110)


def markdown(table: pd.DataFrame, bias: pd.DataFrame | None = None) -> str:
    """The headline metrics' paired differences (and the bias contrasts) as Markdown."""
    head = table[table["metric"].isin(HEADLINE) & (table["regime"] != table["reference"])]
    head = head.assign(contrast=head["regime"] + " - " + head["reference"])
    out = _md_rows(head, ("requests.opt_out", "reporting.bias"))
    if bias is not None and len(bias):
        out += "\n" + _md_rows(bias, ("requests.regime", "requests.opt_out"))
    return out


def _md_rows(table: pd.DataFrame, key_columns) -> str:
    keys = [c for c in key_columns if c in table]
    lines = [
        "| " + " | ".join([*keys, "contrast", "metric", "difference [95 % CI]", "n"]) + " |",
        "|" + "---|" * (len(keys) + 4),
    ]
    for _, r in table.iterrows():
        cells = [f"{r[k]:g}" if not isinstance(r[k], str) else r[k] for k in keys]
        cells += [
            r["contrast"],
            f"`{r['metric']}`",
            f"{r['diff']:.4g} [{r['low']:.4g}, {r['high']:.4g}]",
            str(r["n"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write(folder: Path, out: Path | None = None) -> Path:
    """Write policy.png, policy_pairs.csv and policy_pairs.md for a sweep with the regime
    factor; return the output folder."""
    df = load_runs(folder)
    if REGIME not in df:
        raise ValueError(f"{folder}: the sweep has no requests.regime factor")
    groups = tuple(c.rsplit(".", 1)[1] for c in df.columns if c.startswith("footage.bystanders."))
    missing = [m for m in FOOTAGE if m not in df] + ([] if groups else ["footage.bystanders.*"])
    if missing:
        raise ValueError(f"{folder}: the figure needs the metrics {', '.join(missing)}")
    metrics = [c for c in df.columns if "." in c and not c.startswith("param:")]
    metrics = [m for m in metrics if pd.api.types.is_numeric_dtype(df[m])]
    table = paired_table(df, metrics)
    bias = None
    if "param:reporting.bias" in df and df["param:reporting.bias"].nunique() > 1:
        names = [c for c in df.columns if c.startswith("footage.bystanders")]
        bias = factor_contrast(df, "reporting.bias", [*BIAS_METRICS[:2], *names])
    out = Path(out) if out else Path(folder, "policy")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "policy_pairs.csv", table.to_csv(index=False, lineterminator="\n"))
    atomic_write(out / "policy_pairs.md", markdown(table, bias))
    figure(table, out / "policy.png", groups)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.runs.policy_figure", description=__doc__)
    parser.add_argument("results", type=Path, help="a sweep's results folder")
    parser.add_argument("--out", type=Path, help="output folder (default: RESULTS/policy)")
    args = parser.parse_args(argv)
    try:
        out = write(args.results, args.out)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}/policy.png, policy_pairs.csv, policy_pairs.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
