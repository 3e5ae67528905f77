"""Figures of one run: the map of streets, homes and camera coverage, and the time series
(each written via a temporary name, never half-drawn under its final name)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.outputs import save_figure
from sim.schema import CAMERA_TYPES

CAMERA_COLOURS = {
    "doorbell": "#d62728",
    "stickup": "#ff7f0e",
    "floodlight": "#9467bd",
    "indoor": "#8c564b",
}
GROUP_COLOURS = ["#1f77b4", "#e377c2", "#2ca02c", "#bcbd22", "#17becf", "#7f7f7f"]


def draw_map(ax, model, walkers: bool = False) -> None:
    """Streets, covered street (shaded), homes by camera status, destinations, entry points."""
    world, cams = model.world, model.cameras
    net = world.net
    if world.buildings:  # an OpenStreetMap world: its buildings under the streets
        ax.add_collection(
            PolyCollection(
                world.buildings, facecolors="#ece6dc", edgecolors="#cfc6b8", lw=0.3, zorder=0
            )
        )
    segs = np.stack([net.node_xy[net.edge_u], net.node_xy[net.edge_v]], axis=1)
    ax.add_collection(LineCollection(segs, colors="#b0b0b0", linewidths=1.2, zorder=1))
    seen = np.flatnonzero(cams.sees_street())
    if len(seen):
        a = net.points(cams.edge[seen], cams.view_lo[seen])
        b = net.points(cams.edge[seen], cams.view_hi[seen])
        ax.add_collection(
            LineCollection(
                np.stack([a, b], axis=1), colors="#d62728", linewidths=5, alpha=0.35, zorder=2
            )
        )
    homes = world.homes
    has = cams.home_camera >= 0
    ax.scatter(*homes.xy[~has].T, s=4, c="#c8c8c8", zorder=3, linewidths=0)
    for k, t in enumerate(CAMERA_TYPES):
        sel = cams.home[cams.active & (cams.kind == k)]
        if len(sel):
            ax.scatter(*homes.xy[sel].T, s=9, c=CAMERA_COLOURS[t], zorder=4, linewidths=0)
    ax.scatter(
        *net.node_xy[world.amenity_nodes].T,
        s=30,
        marker="s",
        facecolors="none",
        edgecolors="#2ca02c",
        zorder=5,
    )
    ax.scatter(*net.node_xy[world.gateway_nodes].T, s=40, marker="^", c="#1f77b4", zorder=5)
    handles = [
        Line2D([], [], color="#b0b0b0", lw=1.2, label="street"),
        Line2D([], [], color="#d62728", lw=5, alpha=0.35, label="seen by a camera"),
        Line2D([], [], ls="", marker="o", ms=3, color="#c8c8c8", label="home, no camera"),
        *[
            Line2D([], [], ls="", marker="o", ms=4, color=CAMERA_COLOURS[t], label=f"{t} camera")
            for t in CAMERA_TYPES
        ],
        Line2D([], [], ls="", marker="s", mfc="none", mec="#2ca02c", label="destination"),
        Line2D([], [], ls="", marker="^", color="#1f77b4", label="entry point"),
    ]
    if world.buildings:
        handles.insert(0, Patch(facecolor="#ece6dc", edgecolor="#cfc6b8", label="building (OSM)"))
    if walkers:
        xy, grp = model.walker_positions()
        for g, name in enumerate(world.group_names):
            sel = grp == g
            ax.scatter(
                *xy[sel].T,
                s=12,
                c=GROUP_COLOURS[g % len(GROUP_COLOURS)],
                zorder=6,
                edgecolors="white",
                linewidths=0.4,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="o",
                    ms=4,
                    color=GROUP_COLOURS[g % len(GROUP_COLOURS)],
                    label=f"walking: {name}",
                )
            )
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False
    )
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")


def save_map(model, path: Path) -> None:
    fig = Figure(figsize=(10, 7), layout="constrained")
    ax = fig.subplots()
    draw_map(ax, model)
    ax.set_title(
        f"{model.world.homes.count} homes, {model.cameras.count} cameras: "
        f"{model.cameras.street_fraction():.0%} of street length in view"
    )
    save_figure(fig, path, dpi=130)


def save_timeseries(series: list[dict[str, np.ndarray]], group_names: list[str], path: Path):
    """Walkers, exposure by group and sightings over time; one faint line per replicate and
    their mean when there are several."""
    fig = Figure(figsize=(10, 8), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    many = len(series) > 1

    def draw(ax, values: list[np.ndarray], days: np.ndarray, colour: str, label=None):
        for v in values if many else []:
            ax.plot(days, v, color=colour, alpha=0.15, lw=0.8)
        stack = np.asarray(values, float)
        counted = np.isfinite(stack).sum(axis=0)
        total = np.where(np.isfinite(stack), stack, 0.0).sum(axis=0)
        mean = np.divide(total, counted, out=np.full(len(days), np.nan), where=counted > 0)
        ax.plot(days, mean, color=colour, label=label)

    days = series[0]["time_min"] / 1440
    minutes = np.diff(np.concatenate([[0], series[0]["time_min"]]))
    draw(axes[0], [ts["walker_minutes"] / np.maximum(minutes, 1) for ts in series], days, "#444")
    axes[0].set_ylabel("people walking\n(mean over interval)")
    for g, name in enumerate(group_names):
        fractions = []
        for ts in series:
            walk, rec = ts[f"walker_minutes.{name}"], ts[f"recorded_minutes.{name}"]
            with np.errstate(invalid="ignore", divide="ignore"):
                fractions.append(np.where(walk > 0, rec / walk, np.nan))
        draw(axes[1], fractions, days, GROUP_COLOURS[g % len(GROUP_COLOURS)], name)
    axes[1].set_ylabel("share of walking\nminutes on camera")
    axes[1].set_ylim(0, 1)
    axes[1].legend(frameon=False)
    draw(axes[2], [ts["sightings"].astype(float) for ts in series], days, "#d62728")
    axes[2].set_ylabel("sightings\nper interval")
    axes[2].set_xlabel("day")
    if many:
        fig.suptitle(f"{len(series)} replications (faint) and their mean")
    save_figure(fig, path, dpi=110)
