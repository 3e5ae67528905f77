"""The privacy ledger as a figure: distinct people exposed through each path, stacked by group.

Drawn from a run's metrics (``privacy.exposed.<path>.<group>``, bystanders, and
``privacy.exposed_offenders.<path>``, hatched on top), so it works for one run and for the
means of replications (whose 95 % interval of each path's bystander total is drawn as an error
bar). Colours: the Okabe-Ito palette, safe for colour-blind readers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.runs.outputs import save_figure
from sim.runs.plots import OKABE_ITO
from sim.scenario.schema import LEDGER_PATHS

# the project's colour-blind-safe palette (sim/runs/plots.py), in the order the ledger's groups
# take it
LEDGER_ORDER = (
    "blue",
    "orange",
    "bluish green",
    "reddish purple",
    "sky blue",
    "vermillion",
    "yellow",
)
LEDGER_COLOURS = [OKABE_ITO[c] for c in LEDGER_ORDER]
OFFENDER_COLOUR = "#999999"
PATH_LABELS = {
    "voluntary": "voluntary\nrequests",
    "legal": "legal\ndemands",
    "emergency": "emergency\ndisclosures",
    "compromise": "hijacked\naccounts",
    "protest": "protest\nrequests",
    "face_recognition": "facial\nrecognition",
    "pet_search": "lost-dog\nsearch",
}


def _value(metrics: dict, key: str) -> float:
    v = metrics.get(key)
    return float(v) if v is not None else 0.0


def _draw(ax, metrics: dict, group_names: list[str]) -> list[Patch]:
    """One ledger's bars on ``ax``: bystanders stacked by group, offenders hatched on top,
    the 95 % interval of each path's bystander total when the metrics carry one. Returns the
    legend's handles."""
    x = np.arange(len(LEDGER_PATHS))
    bottom = np.zeros(len(x))
    handles = []
    for g, name in enumerate(group_names):
        h = np.array([_value(metrics, f"privacy.exposed.{p}.{name}") for p in LEDGER_PATHS])
        colour = LEDGER_COLOURS[g % len(LEDGER_COLOURS)]
        ax.bar(x, h, bottom=bottom, color=colour, edgecolor="white", linewidth=0.5)
        handles.append(Patch(color=colour, label=f"{name} (bystanders)"))
        bottom += h
    low = [metrics.get(f"privacy.exposed.{p}.total.ci_low") for p in LEDGER_PATHS]
    high = [metrics.get(f"privacy.exposed.{p}.total.ci_high") for p in LEDGER_PATHS]
    if all(v is not None for v in low + high):  # replications: the totals' 95 % intervals
        err = np.array([bottom - np.array(low, float), np.array(high, float) - bottom])
        ax.errorbar(x, bottom, yerr=np.maximum(err, 0), fmt="none", ecolor="black", capsize=3)
        handles.append(Patch(facecolor="none", edgecolor="black", label="95 % interval (total)"))
    off = np.array([_value(metrics, f"privacy.exposed_offenders.{p}") for p in LEDGER_PATHS])
    ax.bar(x, off, bottom=bottom, color="white", edgecolor=OFFENDER_COLOUR, hatch="///")
    handles.append(
        Patch(facecolor="white", edgecolor=OFFENDER_COLOUR, hatch="///", label="offenders")
    )
    ax.set_xticks(x, [PATH_LABELS[p] for p in LEDGER_PATHS], fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return handles


def ledger_figure(metrics: dict, group_names: list[str], title: str = "") -> Figure:
    """Bars of distinct people exposed per path: bystanders stacked by group, offenders
    hatched on top."""
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    handles = _draw(ax, metrics, group_names)
    ax.set_xlabel("path by which footage left the owner")
    ax.set_ylabel("distinct people exposed (people)")
    ax.set_title(title or "Who the footage that left its owners exposed, by path and group")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1, 1), fontsize=8, frameon=False)
    ax.set_ylim(bottom=0)
    return fig


def save_ledger(metrics: dict, group_names: list[str], path: Path, title: str = "") -> None:
    """Write the ledger figure (e.g. ``ledger.png`` in a run's folder)."""
    save_figure(ledger_figure(metrics, group_names, title), Path(path), dpi=120)


def save_ledger_panels(
    panels: list[tuple[str, dict]], group_names: list[str], path: Path, title: str
) -> None:
    """Several ledgers side by side on one y scale (a sweep's design points or a factor's
    levels: ``(panel title, mean metrics with intervals)``), so paths and groups can be
    compared across them."""
    n = len(panels)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = Figure(figsize=(4.4 * cols + 1.8, 3.4 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
    handles = []
    for ax, (label, metrics) in zip(axes, panels, strict=False):
        handles = _draw(ax, metrics, group_names)
        ax.set_title(label, fontsize=9)
        ax.tick_params(axis="x", labelsize=6)
    axes[0].set_ylim(bottom=0)  # after every panel is drawn: the shared top fits them all
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel("distinct people exposed\n(people, mean per run)")
    fig.supxlabel("path by which footage left the owner")
    fig.suptitle(title)
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    save_figure(fig, Path(path), dpi=110)
