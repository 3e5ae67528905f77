"""Figures of one run: the map of streets, homes and camera coverage, the coverage time series
and the outcomes (posts, stops, requests, clips, bystanders) over time, each written via a
temporary name, never half-drawn under its final name.

One style for every figure, the app's included: the Okabe-Ito colour-blind-safe palette,
camera types told apart by shape as well as colour, titles that name the scenario and seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.runs.outputs import save_figure
from sim.scenario.schema import CAMERA_TYPES

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Groups take blue and vermillion first (the pair that stays apart in greyscale too).
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
GROUP_COLOURS = [OKABE_ITO[c] for c in ("blue", "vermillion", "bluish green", "reddish purple")]
GROUP_COLOURS += [OKABE_ITO[c] for c in ("orange", "black")]
CAMERA_MARKERS = {"doorbell": "o", "stickup": "s", "floodlight": "^", "indoor": "D"}
VIEW_COLOUR = OKABE_ITO["sky blue"]
# series told apart by colour alone (regimes, designs), in this order
SERIES_COLOURS = [
    OKABE_ITO[c]
    for c in ("blue", "vermillion", "bluish green", "reddish purple", "orange", "sky blue")
]
# the checks' figures: the analytic value, the simulation, a reference (or a wrong formula)
EXPECTED_COLOUR, SIMULATED_COLOUR = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
REFERENCE_COLOUR = "#7f7f7f"
STREET_COLOUR = "#b0b0b0"


def group_colour(g: int) -> str:
    return GROUP_COLOURS[g % len(GROUP_COLOURS)]


def run_title(scenario: str, seed: int, replications: int = 1) -> str:
    """How every figure of a run names it: scenario, seed, and replications if several."""
    many = f", {replications} replications" if replications > 1 else ""
    return f"{scenario} (seed {seed}{many})"


def new_figure(width: float = 6.4, height: float = 4.2) -> Figure:
    """A figure of its own (no pyplot state: safe in worker processes and the web app)."""
    return Figure(figsize=(width, height))


def save_named(fig, out: Path | None, name: str, dpi: int = 110) -> str | None:
    """Write a figure as ``out/<name with dots as underscores>.png`` (atomically, laid out);
    return the file name (None when there is no folder: a check computed without drawing)."""
    if out is None:
        return None
    filename = name.replace(".", "_") + ".png"
    fig.tight_layout()
    save_figure(fig, Path(out) / filename, dpi=dpi)
    return filename


def draw_map(ax, model, walkers: bool = False) -> list:
    """Streets, covered street (shaded), homes by group, cameras by type (shape), destinations,
    entry points, and walkers by group if asked. Returns the legend's handles, for the caller
    to place (below the map: a wide map leaves no room beside it)."""
    world, cams = model.world, model.cameras
    net = world.net
    handles = []
    if world.buildings:  # an OpenStreetMap world: its buildings under the streets
        ax.add_collection(
            PolyCollection(
                world.buildings, facecolors="#ece6dc", edgecolors="#cfc6b8", lw=0.3, zorder=0
            )
        )
        handles.append(Patch(facecolor="#ece6dc", edgecolor="#cfc6b8", label="building (OSM)"))
    segs = np.stack([net.node_xy[net.edge_u], net.node_xy[net.edge_v]], axis=1)
    ax.add_collection(LineCollection(segs, colors=STREET_COLOUR, linewidths=1.2, zorder=1))
    seen = np.flatnonzero(cams.sees_street())
    if len(seen):
        a = net.points(cams.edge[seen], cams.view_lo[seen])
        b = net.points(cams.edge[seen], cams.view_hi[seen])
        ax.add_collection(
            LineCollection(
                np.stack([a, b], axis=1), colors=VIEW_COLOUR, linewidths=5, alpha=0.6, zorder=2
            )
        )
    handles += [
        Line2D([], [], color=STREET_COLOUR, lw=1.2, label="street"),
        Line2D([], [], color=VIEW_COLOUR, lw=5, alpha=0.6, label="street in a camera's view"),
    ]
    homes = world.homes
    for g, name in enumerate(world.group_names):
        sel = homes.group == g
        ax.scatter(*homes.xy[sel].T, s=5, marker="s", c=group_colour(g), alpha=0.55, lw=0, zorder=3)
        handles.append(
            Line2D(
                [], [], ls="", marker="s", ms=4, alpha=0.55, color=group_colour(g),
                label=f"home: {name} household",
            )
        )  # fmt: skip
    for k, t in enumerate(CAMERA_TYPES):
        sel = cams.home[cams.active & (cams.kind == k)]
        marker = CAMERA_MARKERS.get(t, "o")
        if len(sel):
            ax.scatter(
                *homes.xy[sel].T, s=22, marker=marker, facecolors="none", edgecolors="black",
                linewidths=0.8, zorder=4,
            )  # fmt: skip
        handles.append(
            Line2D([], [], ls="", marker=marker, ms=6, mfc="none", mec="black", label=f"{t} camera")
        )
    ax.scatter(
        *net.node_xy[world.amenity_nodes].T, s=45, marker="P", c=OKABE_ITO["bluish green"],
        edgecolors="white", linewidths=0.5, zorder=5,
    )  # fmt: skip
    ax.scatter(*net.node_xy[world.gateway_nodes].T, s=45, marker="v", c="black", zorder=5)
    handles += [
        Line2D(
            [], [], ls="", marker="P", ms=7, color=OKABE_ITO["bluish green"], label="destination"
        ),
        Line2D([], [], ls="", marker="v", ms=6, color="black", label="entry point"),
    ]
    if walkers:
        xy, grp = model.walker_positions()
        for g, name in enumerate(world.group_names):
            ax.scatter(
                *xy[grp == g].T, s=34, c=group_colour(g), zorder=6, edgecolors="white",
                linewidths=0.8,
            )  # fmt: skip
            handles.append(
                Line2D(
                    [], [], ls="", marker="o", ms=7, mec="white", color=group_colour(g),
                    label=f"walking: {name}",
                )
            )  # fmt: skip
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.margins(0.01)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    return handles


def map_figure_size(model, width: float) -> tuple[float, float]:
    """A figure ``width`` inches wide whose map (with the legend below it) has no blank bands:
    its height follows the neighbourhood's shape."""
    xy = model.world.net.node_xy
    w, h = np.ptp(xy, axis=0) + 1.0
    return width, min(max(width * 0.88 * h / w + 2.0, 3.5), 1.6 * width)


def save_map(model, path: Path, title: str = "") -> None:
    fig = Figure(figsize=map_figure_size(model, 10), layout="constrained")
    ax = fig.subplots()
    handles = draw_map(ax, model)
    fig.legend(handles=handles, loc="outside lower center", ncol=5, fontsize=9, frameon=False)
    ax.set_title(
        (f"{title}: " if title else "")
        + f"{model.world.homes.count} homes, {model.cameras.count} cameras, "
        f"{model.cameras.street_fraction():.0%} of street length in view"
    )
    save_figure(fig, path, dpi=130)


def _mean(values: list[np.ndarray], n: int) -> np.ndarray:
    """Mean over replicates, ignoring NaN (NaN where no replicate has a value)."""
    stack = np.asarray(values, float)
    counted = np.isfinite(stack).sum(axis=0)
    total = np.where(np.isfinite(stack), stack, 0.0).sum(axis=0)
    return np.divide(total, counted, out=np.full(n, np.nan), where=counted > 0)


def _draw(ax, values: list[np.ndarray], days: np.ndarray, colour: str, label=None, **kw) -> None:
    """One line, or one faint line per replicate and their mean when there are several."""
    if len(values) > 1:
        for v in values:
            ax.plot(days, v, color=colour, alpha=0.2, lw=0.8, **kw)
    ax.plot(days, _mean(values, len(days)), color=colour, label=label, **kw)


def _floor_at_zero(ax, integer: bool = False) -> None:
    """Counts start at zero; an empty panel says so rather than showing axes around 0."""
    top = max((np.nanmax(ln.get_ydata(), initial=0) for ln in ax.get_lines()), default=0)
    ax.set_ylim(0, max(1.0, 1.08 * top))
    if integer:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if top <= 0:
        ax.text(0.5, 0.5, "none in this run", transform=ax.transAxes, ha="center", color="0.4")


def _suptitle(fig, title: str, what: str, many: int) -> None:
    extra = "; each replication (faint) and their mean" if many > 1 else ""
    fig.suptitle(f"{what}: {title}{extra}" if title else f"{what}{extra}", fontsize=12)


def save_timeseries(
    series: list[dict[str, np.ndarray]], group_names: list[str], path: Path, title: str = ""
):
    """Walkers, exposure by group and sightings over time; one faint line per replicate and
    their mean when there are several."""
    fig = Figure(figsize=(10, 7.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    days = series[0]["time_min"] / 1440
    minutes = np.diff(np.concatenate([[0], series[0]["time_min"]]))
    _draw(
        axes[0],
        [ts["walker_minutes"] / np.maximum(minutes, 1) for ts in series],
        days,
        OKABE_ITO["black"],
    )
    axes[0].set_ylabel("people walking\n(mean over interval)")
    _floor_at_zero(axes[0])
    for g, name in enumerate(group_names):
        fractions = []
        for ts in series:
            walk, rec = ts[f"walking_time.{name}"], ts[f"recorded_time.{name}"]
            with np.errstate(invalid="ignore", divide="ignore"):
                fractions.append(np.where(walk > 0, rec / walk, np.nan))
        _draw(axes[1], fractions, days, group_colour(g), name)
    axes[1].set_ylabel("share of walking time\non camera (trips ended)")
    axes[1].set_ylim(0, 1)
    axes[1].legend(frameon=False, title="group", loc="lower right", ncol=len(group_names))
    _draw(axes[2], [ts["sightings"].astype(float) for ts in series], days, OKABE_ITO["black"])
    step = int(minutes[0]) if len(minutes) else 60
    axes[2].set_ylabel(f"sightings\nper {step} min")
    _floor_at_zero(axes[2])
    axes[2].set_xlabel("simulated time (days)")
    axes[2].set_xlim(0, max(days[-1], 1e-9) if len(days) else 1)
    _suptitle(fig, title, "Walking and camera coverage", len(series))
    save_figure(fig, path, dpi=110)


def save_outcomes(
    series: list[dict[str, np.ndarray]], group_names: list[str], path: Path, title: str = ""
) -> None:
    """What the cameras led to, cumulative over time: posts about each group's members, police
    stops by group, footage requests and the clips handed over, and the people caught in that
    footage as bystanders, by group (columns of the time series, docs/metrics.md)."""
    fig = Figure(figsize=(10, 7.5), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    days = series[0]["time_min"] / 1440
    total_of = "mean total" if len(series) > 1 else "total"

    def cum(column: str) -> list[np.ndarray]:
        return [np.cumsum(ts[column]).astype(float) for ts in series]

    panels = [
        ("posts", "Posts in the app about people of each group", "posts (cumulative)"),
        ("stops", "Police stops after posts, by group", "stops (cumulative)"),
        ("bystanders", "Bystanders in footage police obtained", "people (cumulative)"),
    ]
    for ax, (column, heading, ylabel) in zip(axes[[0, 1, 3]], panels, strict=True):
        for g, name in enumerate(group_names):
            values = cum(f"{column}.{name}")
            total = np.mean([v[-1] for v in values]) if len(days) else 0
            _draw(ax, values, days, group_colour(g), f"{name}: {total:.3g}", drawstyle="steps-post")
        ax.set_title(heading, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False, title=f"group: {total_of}", loc="upper left", fontsize=9)
    ax = axes[2]
    for column, colour, label in (
        ("requests", OKABE_ITO["black"], "footage requests"),
        ("clips", OKABE_ITO["orange"], "clips handed to police"),
    ):
        values = cum(column)
        total = np.mean([v[-1] for v in values]) if len(days) else 0
        _draw(ax, values, days, colour, f"{label}: {total:.3g}", drawstyle="steps-post")
    ax.set_title("Footage requests and clips obtained", fontsize=10)
    ax.set_ylabel("count (cumulative)")
    ax.legend(frameon=False, title=total_of, loc="upper left", fontsize=9)
    for ax in axes:
        _floor_at_zero(ax, integer=True)
        ax.set_xlim(0, max(days[-1], 1e-9) if len(days) else 1)
    for ax in axes[2:]:
        ax.set_xlabel("simulated time (days)")
    _suptitle(fig, title, "Outcomes", len(series))
    save_figure(fig, path, dpi=110)
