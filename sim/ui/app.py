"""The classroom app: a Solara page with the policy controls first, monitors of the current
numbers, a live map and plots, for the Mesa model (sim/model/model.py).

Start it with ``python run.py viz [SCENARIO] [--port N] [--host H]`` (or ``make viz``). The
page runs a neighbourhood of about 550 homes. Policy controls take effect on Reset (the page
says which are changed and not yet applied); Play runs the model at a chosen speed in
simulated time, Pause stops it, Step adds 15 (or 1) simulated minutes. Time is shown one way: day N,
HH:MM. The map draws the streets at their real coordinates, households by group, cameras by
type (shape), the street in view shaded, walkers by group, posts of the last hour and requests
of the last day.

Play runs in a thread of the page's session that checks, between short pieces of simulated
time, whether Pause was pressed or the page was closed: Pause takes effect within a piece, and
a closed page stops its model (Solara closes the session: ``run.py viz`` sets its timeout).
"""

from __future__ import annotations

import _thread
import ctypes
import ctypes.util
import gc
import io
import math
import os
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import solara
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator

from sim.model.metrics import outcome_totals
from sim.model.model import NeighbourhoodModel
from sim.runs.plots import OKABE_ITO, draw_map, group_colour, map_figure_size
from sim.scenario.scenario import Scenario, load
from sim.scenario.submodel import ratio

SCENARIO_ENV = "RINGSIM_SCENARIO"  # set by ``run.py viz`` to the scenario it was given
# The classroom neighbourhood: about 550 homes, time series every 10 minutes, a month at most.
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
        self.settings = normalised(
            {
                "adoption": adoption,
                "opt_out": opt_out,
                "bias": bias,
                "regime": regime,
                "window_hours": window_hours,
                "area_cap_sq_mi": area_cap_sq_mi,
                "e2ee": e2ee,
                "promotion": promotion,
                "minority_share": minority,
                "seed": seed,
            }
        )
        self.controls = tuple(self.settings.values())
        self.lock = threading.Lock()  # one piece of simulated time at a time (advance)


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


def normalised(settings: dict) -> dict:
    """Control values as the model uses them (numbers as floats, the seed as an integer), so
    that the page can tell which controls differ from the running model's."""
    out = {}
    for name, value in settings.items():
        kind = MODEL_PARAMS[name]["type"]
        if name == "seed":
            out[name] = _seed(value)
        elif kind == "SliderFloat":
            out[name] = round(float(value), 6)
        elif kind == "Checkbox":
            out[name] = bool(value)
        else:
            out[name] = value
    return out


DEFAULTS = {name: spec["value"] for name, spec in MODEL_PARAMS.items()}

# Speed of Play in simulated time per second of wall time: the model itself runs a day in well
# under a second; the page redraws twice a second, whatever the speed.
SPEEDS = {
    "10 min per second": 10,
    "30 min per second": 30,
    "1 h per second (a day in 24 s)": 60,
    "2 h per second (a day in 12 s)": 120,
    "4 h per second (a day in 6 s)": 240,
}
DEFAULT_SPEED = "1 h per second (a day in 24 s)"
STEP_MINUTES = (15, 1)  # what the Step buttons add
TICK_S = 0.5  # the page is redrawn at most this often while playing
PIECE_MINUTES = 10  # Play checks for Pause and a closed page between pieces of this length

ROOT = Path(__file__).resolve().parents[2]


def clock(minutes: float) -> str:
    """Simulated time as the page shows it everywhere: day N, HH:MM (the run starts at day 0,
    00:00)."""
    day, minute = divmod(int(minutes), 1440)
    return f"day {day}, {minute // 60:02d}:{minute % 60:02d}"


def monitors(model: NeighbourhoodModel) -> list[tuple[str, str]]:
    """The current numbers, as a NetLogo model's monitors show them: (label, value)."""
    names = model.world.group_names
    totals = outcome_totals(model)
    group = model.population.group
    posts = model.reporting.log()
    recordings = model.reporting.recordings
    about = np.bincount(group[posts.person], minlength=len(names))
    disparity = ratio(ratio(about[1:].sum(), recordings[1:].sum()), ratio(about[0], recordings[0]))
    out = [
        ("time", clock(model.time)),
        ("cameras", f"{model.cameras.count}"),
        ("street in view", f"{model.cameras.street_fraction():.0%}"),
        ("walking now", f"{model.walking()}"),
    ]
    out += [(f"posts about {n}", f"{totals[f'posts.{n}']}") for n in names]
    out += [
        ("posting disparity", "n/a" if disparity is None else f"{disparity:.2f}"),
        ("police stops", f"{sum(totals[f'stops.{n}'] for n in names)}"),
        ("footage requests", f"{totals['requests']}"),
        ("refused", f"{sum(model.police.refused.values())}"),
        ("clips to police", f"{totals['clips']}"),
    ]
    out += [(f"bystanders: {n}", f"{totals[f'bystanders.{n}']}") for n in names]
    return out


# ---------------------------------------------------------------------------- figures

MAP_WIDTH_IN = 9.0
LEGEND_COLUMNS = 4


def map_figure(model: NeighbourhoodModel) -> Figure:
    """The neighbourhood now: streets, cameras, coverage, walkers, recent posts and requests.
    Sized to the neighbourhood's shape with the legend below, so that the map fills its panel
    at any window width (the image is scaled to the panel's width)."""
    width, height = map_figure_size(model, MAP_WIDTH_IN)
    fig = Figure(figsize=(width, height))
    ax = fig.subplots()
    handles = draw_map(ax, model, walkers=True)
    now = int(model.time)
    posts = model.reporting.log()
    recent = posts.poster[posts.minute >= now - 60]
    xy = model.world.homes.xy[recent]
    star = OKABE_ITO["yellow"]
    ax.scatter(*xy.T, s=160, marker="*", c=star, edgecolors="black", linewidths=0.7, zorder=7)
    for req in model.police.issued:
        if req.issued >= now - 1440:
            ax.add_patch(
                Circle(
                    (req.x, req.y),
                    req.area.radius_m,
                    fill=False,
                    ls="--",
                    lw=1.4,
                    ec="black",
                    zorder=7,
                )
            )
    handles += [
        Line2D([], [], ls="", marker="*", ms=12, mfc=star, mec="black", label="post (last hour)"),
        Line2D([], [], ls="--", color="black", label="footage request (last day)"),
    ]
    rows = math.ceil(len(handles) / LEGEND_COLUMNS)
    legend_in = 0.26 * rows + 0.75  # legend rows and the x-axis label
    fig.subplots_adjust(left=0.08, right=0.99, top=1 - 0.45 / height, bottom=legend_in / height)
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=LEGEND_COLUMNS,
        fontsize=9,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    ax.set_title(
        f"{clock(now)}: {model.cameras.count} cameras, {model.walking()} walking",
        fontsize=12,
    )
    return fig


def _small_figure() -> Figure:
    # fixed margins: automatic layout would cost more than drawing the plot
    fig = Figure(figsize=(5.0, 3.1))
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.17, top=0.89)
    return fig


def _days(ts) -> np.ndarray:
    return ts["time_min"] / 1440


def _time_axis(ax, model: NeighbourhoodModel) -> None:
    """Every plot's x axis: simulated days since the start (day 0, 00:00), at least to now."""
    ax.set_xlim(0, max(model.time / 1440, 0.25))
    ax.set_xlabel("simulated day (day 0 starts at 00:00)")


def _counts_axis(ax, label: str) -> None:
    ax.set_ylabel(label)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(ax.get_ylim()[1], 1))


def coverage_figure(model: NeighbourhoodModel) -> Figure:
    ts = model.recorder.timeseries()
    fig = _small_figure()
    ax = fig.subplots()
    if len(ts["time_min"]):
        ax.plot(_days(ts), ts["coverage.street_fraction"], color=OKABE_ITO["sky blue"],
                label="street in view")  # fmt: skip
        ax.plot(_days(ts), ts["exposure_fraction"], color=OKABE_ITO["black"],
                label="walking time on camera")  # fmt: skip
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share")
    _time_axis(ax, model)
    ax.set_title("Coverage (each point: 10 minutes)", fontsize=10)
    return fig


def posts_figure(model: NeighbourhoodModel) -> Figure:
    """Cumulative posts by group, and the disparity ratio so far."""
    posts = model.reporting.log()
    groups = model.population.group[posts.person]
    fig = _small_figure()
    ax = fig.subplots()
    now = model.time / 1440
    for g, name in enumerate(model.world.group_names):
        t = np.sort(posts.minute[groups == g]) / 1440
        ax.step(
            np.concatenate([[0], t, [now]]),
            np.arange(len(t) + 2).clip(max=len(t)),
            where="post",
            color=group_colour(g),
            label=f"about {name}: {len(t)}",
        )
    rec = model.reporting.recordings
    about = np.bincount(groups, minlength=len(rec))
    disparity = ratio(ratio(about[1:].sum(), rec[1:].sum()), ratio(about[0], rec[0]))
    ax.set_title(
        "Posts by group; disparity ratio " + ("n/a" if disparity is None else f"{disparity:.2f}"),
        fontsize=10,
    )
    _time_axis(ax, model)
    _counts_axis(ax, "posts (cumulative)")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return fig


def footage_figure(model: NeighbourhoodModel) -> Figure:
    """Clips handed to police and the people in them, cumulative."""
    fig = _small_figure()
    ax = fig.subplots()
    handovers = sorted(model.police.handovers, key=lambda h: h.request.issued)
    now = model.time / 1440
    t = [0.0] + [h.request.issued / 1440 for h in handovers] + [now]
    clips = np.cumsum([0] + [len(h.cameras) for h in handovers])
    seen: set[int] = set()
    people = [0]
    for h in handovers:
        seen.update(h.sightings.person.tolist())
        people.append(len(seen))
    ax.step(t, [*clips, clips[-1]], where="post", color=OKABE_ITO["orange"],
            label=f"clips handed to police: {clips[-1]}")  # fmt: skip
    ax.step(t, [*people, people[-1]], where="post", color=OKABE_ITO["black"],
            label=f"people in them: {people[-1]}")  # fmt: skip
    _time_axis(ax, model)
    _counts_axis(ax, "count (cumulative)")
    ax.set_title(
        f"Footage: {len(model.police.issued)} requests, "
        f"{sum(model.police.refused.values())} refused",
        fontsize=10,
    )
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return fig


def adoption_figure(model: NeighbourhoodModel) -> Figure:
    ts = model.recorder.timeseries()
    fig = _small_figure()
    ax = fig.subplots()
    if len(ts["time_min"]):
        ax.plot(_days(ts), ts["adoption_fraction"], color=OKABE_ITO["vermillion"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of homes")
    _time_axis(ax, model)
    ax.set_title(f"Camera adoption: {model.adoption.owner.mean():.1%} of homes", fontsize=10)
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


def figure_png(make, model: NeighbourhoodModel) -> bytes:
    png = _FIRST_VIEW.get((make.__name__, model.controls)) if model.time == 0 else None
    return png if png is not None else _png(make, model)


FIGURES = (map_figure, coverage_figure, posts_figure, footage_figure, adoption_figure)


# ---------------------------------------------------------------------------- playing


def advance(model: ClassroomModel, minutes: int, stop=lambda: False) -> None:
    """Run ``minutes`` simulated minutes (at most to the run's end) in short pieces, returning
    early once ``stop()`` is true. One piece at a time per model (its lock): a Play thread
    finishing its last piece after Pause never runs the model at the same time as Step or the
    next Play."""
    while not stop():
        with model.lock:
            piece = min(int(minutes), model.duration - int(model.time), PIECE_MINUTES)
            if piece <= 0:
                return
            model.run_for(piece)
        minutes -= piece


def play_loop(model, playing, speed, shown, closed: threading.Event, drawn: threading.Event):
    """Advance ``model`` at ``speed`` simulated minutes per second while ``playing`` and the
    page is open, publishing the time reached (``shown``) for the page to redraw.

    The next piece waits until the page has drawn the last one (``drawn``, set after each
    redraw): a page that draws slower than the clock ticks (a busy machine) would otherwise be
    asked to redraw before it has finished, start again, and never show anything. Simulated
    time follows the wall clock (slow drawing makes bigger steps, not a slower clock), at most
    five seconds' worth at once."""

    def stop() -> bool:  # paused, page closed, or the server shutting down (Ctrl-C, SIGTERM)
        return not playing.value or closed.is_set() or not threading.main_thread().is_alive()

    last = time.perf_counter() - TICK_S  # the first tick at once: the clock moves on Play
    carry = 0.0
    drawing = 0.0  # how long the page took to draw the last piece
    while not stop() and model.time < model.duration:
        # a pause at least half as long as the drawing: the buttons' handlers wait for the
        # page's lock, which this thread would otherwise take again at once on a busy machine
        time.sleep(max(TICK_S - (time.perf_counter() - last), 0.5 * drawing, 0.05))
        now = time.perf_counter()
        rate = SPEEDS.get(speed.value, 60)
        carry = min(carry + rate * (now - last), 5.0 * rate)
        last = now
        minutes = int(carry)
        carry -= minutes
        advance(model, minutes, stop)
        if closed.is_set() or int(model.time) == shown.value:
            continue
        drawn.clear()
        asked = time.perf_counter()
        shown.set(int(model.time))
        while not drawn.wait(0.1) and not stop():
            pass
        drawing = time.perf_counter() - asked
    if model.time >= model.duration and not closed.is_set():
        playing.set(False)


def start_play(model, playing, speed, shown, drawn):
    """The page's Play effect: while ``playing``, a thread of the page's session runs
    ``play_loop``; the effect's cleanup (Pause, Reset, or the page closed and its session
    ended) stops it within a piece.

    A plain thread rather than ``solara.lab.use_task``: in the Solara installed (1.58) every
    ``use_task`` registers a callback in a process-wide list that is never removed, holding the
    task's first function and so the session's first model (about 15 MB) for the life of the
    server."""
    if not playing.value:
        return None
    stop = threading.Event()
    args = (model, playing, speed, shown, stop, drawn)
    threading.Thread(target=play_loop, args=args, name="ringsim-play").start()
    return stop.set


# ---------------------------------------------------------------------------- page

ABOUT = """
**What this is.** An agent-based model of doorbell cameras in a neighbourhood: homes with
cameras record the people who walk past; owners post some of them as "suspicious" in a
neighbourhood app, police respond to posts and ask owners for footage of incidents. The policy
controls set the rules (who has cameras, how biased the posts are, what police may ask for),
and the page shows what follows: how much of the street and of people's walks is on camera, who
gets posted and stopped, how much footage police obtain and how many bystanders are in it.
It is a teaching and research model, not a forecast of any real city.

**How to use it.** Set the policy controls, press **Reset** (changes apply only then), then
**Play** or **Step**. Keep the seed to compare settings on the same streets and people.

**Further reading** (in the project folder): the guided labs, `labs/README.md`; the model's
full description (ODD protocol), `docs/ODD.md`; every parameter with its unit and source,
`docs/parameters.md` (or `python run.py explain`); the sources, `docs/sources.md`.
"""


@cache
def _doc(name: str) -> str:
    path = ROOT / name
    return path.read_text(encoding="utf-8") if path.is_file() else f"({name} is not installed)"


def _value_text(spec: dict, value) -> str:
    if spec["type"] == "SliderFloat":
        return f"{float(value):g}"
    return str(value)


@solara.component
def PolicyControls(params: solara.Reactive, applied: dict):
    """The policy controls, each showing its value; a cue saying what is not applied yet."""
    pending = normalised(params.value)
    changed = [name for name in MODEL_PARAMS if pending[name] != applied[name]]
    if changed:
        solara.Warning(
            "Not applied yet: "
            + ", ".join(MODEL_PARAMS[n]["label"] for n in changed)
            + ". Press Reset to apply.",
            dense=True,
        )
    else:
        solara.Info("The model runs with these settings. Changes apply when you press Reset.",
                    dense=True)  # fmt: skip
    for name, spec in MODEL_PARAMS.items():
        value = params.value[name]

        def set_value(v, name=name):
            params.set({**params.value, name: v})

        label = spec["label"]
        if spec["type"] == "SliderFloat":
            solara.SliderFloat(
                f"{label}: {_value_text(spec, value)}",
                value=float(value),
                on_value=set_value,
                min=spec["min"],
                max=spec["max"],
                step=spec["step"],
            )
        elif spec["type"] == "Select":
            solara.Select(label, value=value, values=spec["values"], on_value=set_value)
        elif spec["type"] == "Checkbox":
            solara.Checkbox(label=label, value=bool(value), on_value=set_value)
        else:
            solara.InputText(label, value=str(value), on_value=set_value, continuous_update=True)


@solara.component
def Monitors(model: NeighbourhoodModel, minute: int):
    """The current numbers in boxes, as NetLogo's monitors (``minute`` redraws them)."""
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        for label, value in monitors(model):
            with solara.Card(margin=0, style={"min-width": "8.5em", "padding": "0px 6px"}):
                solara.Text(label, style={"font-size": "0.8em", "color": "#555"})
                solara.HTML(tag="div", unsafe_innerHTML=value,
                            style={"font-size": "1.2em", "font-weight": "bold"})  # fmt: skip


# the map as wide as its panel, but never taller than the window (a wide screen would push its
# legend out of sight), centred
MAP_CSS = (
    ".ringsim-map img, img.ringsim-map {max-height: calc(100vh - 120px); object-fit: contain;}"
)


@solara.component
def Panel(make, model: NeighbourhoodModel, minute: int):
    """One figure, scaled to its panel's width."""
    classes = ["ringsim-map"] if make is map_figure else []
    solara.Image(figure_png(make, model), width="100%", classes=classes)


@solara.component
def Page():
    """The served page: every browser session gets its own model and its own Play thread."""
    first = solara.use_memo(ClassroomModel, dependencies=[])
    model = solara.use_reactive(first)
    params = solara.use_reactive(dict(DEFAULTS))
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(DEFAULT_SPEED)
    shown = solara.use_reactive(0)  # the simulated minute drawn; set by Play and Step
    drawn = solara.use_memo(threading.Event, dependencies=[])
    solara.use_effect(drawn.set, [shown.value])  # this minute is on the page: Play goes on
    m = model.value
    solara.use_effect(lambda: start_play(m, playing, speed, shown, drawn), [playing.value, m])

    def step(minutes: int) -> None:
        advance(m, minutes)
        shown.set(int(m.time))

    def reset():
        playing.set(False)
        model.set(ClassroomModel(**params.value))
        shown.set(0)

    def play_pause():
        playing.set(not playing.value)

    solara.Title("Doorbell cameras in the neighbourhood")
    solara.Style(MAP_CSS)
    with solara.AppBar():
        solara.AppBarTitle("Doorbell cameras in the neighbourhood")
    with solara.Sidebar():
        with solara.Card("Run", margin=0):
            solara.Markdown(f"**{clock(m.time)}** (of {clock(m.duration)})")
            with solara.Row():
                solara.Button("Reset", color="primary", on_click=reset)
                solara.Button("Pause" if playing.value else "Play", color="primary",
                              on_click=play_pause, disabled=m.time >= m.duration)  # fmt: skip
            with solara.Row():
                for minutes in STEP_MINUTES:
                    solara.Button(f"Step +{minutes} min", on_click=lambda k=minutes: step(k),
                                  disabled=playing.value or m.time >= m.duration)  # fmt: skip
            solara.Select("Speed (simulated time per second)", value=speed,
                          values=list(SPEEDS))  # fmt: skip
        with solara.Card("Policy controls (apply on Reset)", margin=0):
            PolicyControls(params, m.settings)
        with solara.Card("About", margin=0):
            solara.Markdown(ABOUT)
            with solara.Details("The labs (labs/README.md)"):
                solara.Markdown(_doc("labs/README.md"))
            with solara.Details("The model description (docs/ODD.md)"):
                solara.Markdown(_doc("docs/ODD.md"))
    minute = shown.value
    Monitors(m, minute)
    Panel(map_figure, m, minute)
    with solara.ColumnsResponsive(12, large=6):
        for make in FIGURES[1:]:
            Panel(make, m, minute)


def _prepare() -> None:
    """When the server starts: draw the first view's plots, and load the model's compiled
    loops (numba's cache, about 0.3 s) rather than at a student's first Step."""
    model = ClassroomModel()
    for make in FIGURES:
        _FIRST_VIEW[(make.__name__, model.controls)] = _png(make, model)
    model.run_for(60)


def _release(after_s: float = 0.0) -> None:
    """Hand the memory of ended sessions back to the system, ``after_s`` seconds from now (once
    Solara has dropped the session's page and model): collect their models (Mesa's agents and
    model refer to each other, so only the cycle collector frees them), then ask glibc to return
    its free pages (it would keep them, and a server that has had a class would stay at its
    peak)."""
    time.sleep(after_s)
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()  # glibc (Linux); None elsewhere, where only the collection is done
RELEASE_AFTER_S = 2.0


def _on_session() -> Callable[[], None]:
    """Called as each session starts; what it returns, as the session ends (Solara ends it once
    its tab has gone): release its memory in a thread of its own. A low-level thread, because
    Solara runs every ``threading.Thread`` started in a session inside that session, which is
    being taken apart."""
    return lambda: _thread.start_new_thread(_release, (RELEASE_AFTER_S,))


solara.lifecycle.on_kernel_start(_on_session)
_prepare()
