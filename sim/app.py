"""The classroom app: Mesa's SolaraViz page with policy controls, a live map and plots.

Start it with ``python run.py viz [SCENARIO] [--port N] [--host H]`` (or ``make viz``). The
page runs a neighbourhood of about 500 homes. Controls take effect on Reset; Step, Play and
Pause drive the model (one step is one simulated minute). The map draws the streets at their
real coordinates (never a spring layout), homes by camera status, the street in view of a
camera shaded, walkers as dots by group, posts of the last hour and requests of the last day.
"""

from __future__ import annotations

import io
import os

import numpy as np
import reacton.ipywidgets as rw
import solara
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle
from mesa.visualization import SolaraViz

from sim.model import NeighbourhoodModel
from sim.plots import GROUP_COLOURS, draw_map
from sim.scenario import Scenario, load

SCENARIO_ENV = "RINGSIM_SCENARIO"  # set by ``run.py viz`` to the scenario it was given
# The classroom neighbourhood: about 500 homes, time series every 10 minutes, a month at most.
CLASSROOM = {
    "world.blocks_x": 6,
    "world.blocks_y": 5,
    "population.pedestrians": 1500,
    "time.record_minutes": 10,
    "time.days": 30.0,
}
REGIMES = ["portal", "rfa", "none"]


def _seed(value) -> int:
    """The seed control's text as an integer (anything unreadable becomes 1)."""
    try:
        return abs(int(float(str(value).strip())))
    except ValueError:
        return 1


class ClassroomModel(NeighbourhoodModel):
    """The model behind the app: its arguments are the page's controls.

    Args:
        adoption, opt_out, bias, regime, window_hours, area_cap_sq_mi, e2ee, promotion,
        minority_share: the policy controls (scenario keys cameras.adoption,
            requests.opt_out, reporting.bias, requests.regime, requests.max_window_hours,
            requests.max_area_sq_mi, privacy.e2ee, promotion.enabled, population.groups).
        seed: the random seed (any text; turned into an integer).
    """

    def __init__(
        self,
        adoption: float = 0.2,
        opt_out: float = 0.1,
        bias: float = 2.0,
        regime: str = "rfa",
        window_hours: float = 12.0,
        area_cap_sq_mi: float = 0.5,
        e2ee: float = 0.05,
        promotion: bool = False,
        minority_share: float = 0.3,
        seed=1,
    ) -> None:
        path = os.environ.get(SCENARIO_ENV)
        base = load(path) if path else Scenario()
        minority = float(np.clip(minority_share, 0.0, 1.0))
        params = base.replace(
            {
                **CLASSROOM,
                "cameras.adoption": float(adoption),
                "requests.opt_out": float(opt_out),
                "reporting.bias": float(bias),
                "requests.regime": regime,
                "requests.max_window_hours": float(window_hours),
                "requests.max_area_sq_mi": float(area_cap_sq_mi),
                "privacy.e2ee": float(e2ee),
                "promotion.enabled": bool(promotion),
                "population.groups": {"majority": 1 - minority, "minority": minority},
            },
            origin="app",
        )
        super().__init__(params, rng=_seed(seed))
        # the controls, as set (with the server's scenario, they make the model)
        self.controls = (
            *(float(x) for x in (adoption, opt_out, bias, window_hours, area_cap_sq_mi, e2ee)),
            regime,
            bool(promotion),
            minority,
            self.seed,
        )


MODEL_PARAMS = {
    "adoption": {
        "type": "SliderFloat",
        "value": 0.2,
        "label": "Camera adoption (share of homes)",
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
    },
    "opt_out": {
        "type": "SliderFloat",
        "value": 0.1,
        "label": "Opt-out rate",
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
    },
    "bias": {
        "type": "SliderFloat",
        "value": 2.0,
        "label": "Reporting bias (x minority)",
        "min": 1.0,
        "max": 5.0,
        "step": 0.25,
    },
    "regime": {"type": "Select", "value": "rfa", "label": "Request regime", "values": REGIMES},
    "window_hours": {
        "type": "SliderFloat",
        "value": 12.0,
        "label": "Window cap (hours)",
        "min": 1.0,
        "max": 48.0,
        "step": 1.0,
    },
    "area_cap_sq_mi": {
        "type": "SliderFloat",
        "value": 0.5,
        "label": "Area cap (sq mi)",
        "min": 0.05,
        "max": 2.0,
        "step": 0.05,
    },
    "e2ee": {
        "type": "SliderFloat",
        "value": 0.05,
        "label": "E2EE share",
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
    },
    "promotion": {"type": "Checkbox", "value": False, "label": "Police promotion"},
    "minority_share": {
        "type": "SliderFloat",
        "value": 0.3,
        "label": "Minority share",
        "min": 0.0,
        "max": 0.9,
        "step": 0.05,
    },
    "seed": {"type": "InputText", "value": "1", "label": "Seed"},
}


# ---------------------------------------------------------------------------- figures


def map_figure(model: NeighbourhoodModel) -> Figure:
    """The neighbourhood now: streets, cameras, coverage, walkers, recent posts and requests."""
    fig = Figure(figsize=(8.5, 5.2))
    fig.subplots_adjust(left=0.08, right=0.74, bottom=0.1, top=0.93)
    ax = fig.subplots()
    handles = draw_map(ax, model, walkers=True)
    now = int(model.time)
    posts = model.reporting.log()
    recent = posts.poster[posts.minute >= now - 60]
    xy = model.world.homes.xy[recent]
    ax.scatter(*xy.T, s=140, marker="*", c="#ffbf00", edgecolors="black", linewidths=0.6, zorder=7)
    for req in model.police.issued:
        if req.issued >= now - 1440:
            ax.add_patch(
                Circle(
                    (req.x, req.y),
                    req.area.radius_m,
                    fill=False,
                    ls="--",
                    lw=1.2,
                    ec="#333333",
                    zorder=7,
                )
            )
    handles += [
        Line2D(
            [], [], ls="", marker="*", ms=11, mfc="#ffbf00", mec="black", label="post (last hour)"
        ),
        Line2D([], [], ls="--", color="#333333", label="footage request (last day)"),
    ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False
    )
    day, minute = divmod(now, 1440)
    ax.set_title(
        f"day {day}, {minute // 60:02d}:{minute % 60:02d}  |  "
        f"{model.cameras.count} cameras, {model.walking()} walking"
    )
    return fig


def _small_figure() -> Figure:
    # fixed margins: automatic layout would cost more than drawing the plot
    fig = Figure(figsize=(4.6, 2.8))
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.17, top=0.88)
    return fig


def _hours(ts) -> np.ndarray:
    return ts["time_min"] / 60


def coverage_figure(model: NeighbourhoodModel) -> Figure:
    ts = model.recorder.timeseries()
    fig = _small_figure()
    ax = fig.subplots()
    if len(ts["time_min"]):
        ax.plot(_hours(ts), ts["coverage.street_fraction"], label="street in view")
        with np.errstate(invalid="ignore", divide="ignore"):
            ax.plot(_hours(ts), ts["exposure_fraction"], label="walking minutes on camera")
        ax.legend(fontsize=7, frameon=False)
    ax.set_ylim(0, 1)
    ax.set_xlabel("hour")
    ax.set_title("Coverage")
    return fig


def posts_figure(model: NeighbourhoodModel) -> Figure:
    """Cumulative posts by group, and the disparity ratio so far."""
    posts = model.reporting.log()
    groups = model.population.group[posts.person]
    fig = _small_figure()
    ax = fig.subplots()
    for g, name in enumerate(model.world.group_names):
        t = np.sort(posts.minute[groups == g]) / 60
        ax.step(
            np.concatenate([[0], t]),
            np.arange(len(t) + 1),
            where="post",
            color=GROUP_COLOURS[g % len(GROUP_COLOURS)],
            label=name,
        )
    rec = model.reporting.recordings
    about = np.bincount(groups, minlength=len(rec))
    ratio = None
    if rec[0] and about[0] and rec[1:].sum():
        ratio = (about[1:].sum() / rec[1:].sum()) / (about[0] / rec[0])
    ax.set_title("Posts by group; disparity ratio " + ("n/a" if ratio is None else f"{ratio:.2f}"))
    ax.set_xlabel("hour")
    ax.set_ylabel("posts (cumulative)")
    ax.legend(fontsize=7, frameon=False)
    return fig


def footage_figure(model: NeighbourhoodModel) -> Figure:
    """Clips handed to police and the bystanders in them, cumulative."""
    fig = _small_figure()
    ax = fig.subplots()
    handovers = sorted(model.police.handovers, key=lambda h: h.request.issued)
    t = [0.0] + [h.request.issued / 60 for h in handovers]
    clips = np.cumsum([0] + [len(h.cameras) for h in handovers])
    seen: set[int] = set()
    bystanders = [0]
    for h in handovers:
        seen.update(h.sightings.person.tolist())
        bystanders.append(len(seen))
    ax.step(t, clips, where="post", label="clips handed to police")
    ax.step(t, bystanders, where="post", label="people in them")
    ax.set_xlabel("hour")
    ax.set_title(
        f"Footage: {len(model.police.issued)} requests, "
        f"{sum(model.police.refused.values())} refused"
    )
    ax.legend(fontsize=7, frameon=False)
    return fig


def adoption_figure(model: NeighbourhoodModel) -> Figure:
    ts = model.recorder.timeseries()
    fig = _small_figure()
    ax = fig.subplots()
    if len(ts["time_min"]):
        ax.plot(_hours(ts), ts["adoption_fraction"], color="#d62728")
    ax.set_ylim(0, 1)
    ax.set_xlabel("hour")
    ax.set_title(f"Camera adoption: {model.adoption.owner.mean():.1%} of homes")
    return fig


# how the plots are sent: PNG with fast compression (a tenth larger, half the encoding time)
PNG = {"format": "png", "dpi": 90, "pil_kwargs": {"compress_level": 1}}

# Every page opens on the same view: the default controls at minute 0. Its plots are drawn
# once, when the server starts, so that opening a page does not wait for them.
_FIRST_VIEW: dict[tuple, bytes] = {}


def _png(make, model: NeighbourhoodModel) -> bytes:
    buf = io.BytesIO()
    make(model).savefig(buf, **PNG)
    return buf.getvalue()


def _panel(make):
    def panel(model):
        key = (make.__name__, getattr(model, "controls", None))
        png = _FIRST_VIEW.get(key) if model.time == 0 else None
        return rw.Image(value=png if png is not None else _png(make, model), format="png")

    panel.__name__ = make.__name__.replace("_figure", "")
    return panel


FIGURES = (map_figure, coverage_figure, posts_figure, footage_figure, adoption_figure)
COMPONENTS = [(_panel(f), 0) for f in FIGURES]


def make_page(model: ClassroomModel):
    """The SolaraViz page for a model."""
    return SolaraViz(
        model,
        components=COMPONENTS,
        model_params=MODEL_PARAMS,
        name="Doorbell cameras in the neighbourhood",
        play_interval=20,
        render_interval=15,
    )


def _prepare() -> None:
    """When the server starts: draw the first view's plots, and load the model's compiled
    loops (numba's cache, about 0.3 s) rather than at a student's first Step."""
    model = ClassroomModel()
    for make in FIGURES:
        _FIRST_VIEW[(make.__name__, model.controls)] = _png(make, model)
    model.run_for(60)


_prepare()


@solara.component
def Page():
    """The served page: every browser session gets its own model."""
    model = solara.use_memo(ClassroomModel, dependencies=[])
    return make_page(model)
