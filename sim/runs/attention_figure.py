"""A run's police attention against Ensign et al. 2018's urn: ``attention.png``.

Written by ``run.py run`` (one replication) when attention follows known incidents across two
zones, the setting of the paper's urn (``scenarios/ensign_urn.toml``): zone A's (the western
zone's) share of attention day by day, against where the urn settles at the run's own incident
rates (``sim.model.police.urn_share``: lambda_z, every incident of the run in zone z a day, known or
not) and against the true crime share lambda_A / (lambda_A + lambda_B). Colours: the Okabe-Ito
palette (``sim.runs.plots``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sim.model.police import urn_share
from sim.runs.outputs import save_figure
from sim.runs.plots import OKABE_ITO


def applies(params) -> bool:
    """The urn's setting: attention follows known incidents, two zones."""
    zones = params["police.zones_x"] * params["police.zones_y"]
    return params["police.allocation"] == "incidents" and zones == 2


def attention_path(model) -> np.ndarray:
    """Zone A's attention share at the start of each day of the run (day 0: even), and after
    its last day."""
    police = model.police
    return np.array([a[0] for a in [*police._attention_days, police.attention]])


def run_rates(model) -> tuple[float, float]:
    """Incidents a day in zones A and B over the run (all of them: the true crime rates)."""
    log = model.incidents.log()
    counts = np.bincount(model.home_zone[log.home], minlength=2)[:2]
    days = max(model.params["time.days"], 1e-9)
    return float(counts[0]) / days, float(counts[1]) / days


def attention_figure(model, title: str = "") -> Figure:
    """Zone A's attention share over the days, the urn's fixed point and the true share."""
    p = model.params
    share = attention_path(model)
    rates = run_rates(model)
    reported, discovery = p["incidents.victim_reporting"], p["police.patrol_discovery"]
    corrected = p["police.discovery_correction"]
    fixed = urn_share(rates, reported, discovery)
    truth = urn_share(rates, reported, discovery, corrected=True)
    fig = Figure(figsize=(7.2, 4.4), layout="constrained")
    ax = fig.subplots()
    what = "discoveries thinned: the correction" if corrected else "every known incident counted"
    ax.plot(
        np.arange(len(share)),
        share,
        color=OKABE_ITO["blue"],
        lw=1.6,
        label=f"zone A's attention, {what}",
    )
    ax.axhline(
        fixed,
        color=OKABE_ITO["vermillion"],
        ls="--",
        lw=1.3,
        label=f"urn's fixed point at the run's rates, {fixed:.3f} (reported share {reported:g}"
        + (", no correction)" if corrected else ")"),
    )
    ax.axhline(
        truth,
        color=OKABE_ITO["black"],
        ls=":",
        lw=1.3,
        label=f"true crime share, {truth:.3f} ({rates[0]:.1f} and {rates[1]:.1f} a day)",
    )
    ax.set(xlabel="day", ylabel="zone A's share of police attention (0 to 1)", ylim=(-0.02, 1.02))
    ax.set_title(f"Police attention in two zones, against Ensign et al.'s urn\n{title}".strip())
    ax.legend(fontsize=8, loc="lower left")
    if 2 * discovery > 1:
        ax.text(
            0.99,
            0.98,
            "patrol_discovery > 1/2: discovery saturates, the urn's point is only a guide",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=7,
        )
    return fig


def save_attention(model, path: Path, title: str = "") -> None:
    save_figure(attention_figure(model, title), path, dpi=110)
