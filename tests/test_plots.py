"""Figures of a run: the outcomes in the time series add up to the run's metrics, and every
figure is written with the run's name in its title."""

import numpy as np
import pytest

from sim.model.model import NeighbourhoodModel
from sim.runs import plots
from sim.scenario.scenario import Scenario

# a small, eventful world: many incidents, posts and footage requests in two days
EVENTFUL = {
    "world.blocks_x": 4,
    "world.blocks_y": 3,
    "population.pedestrians": 400,
    "population.offender_fraction": 0.05,
    "time.days": 2.0,
    "incidents.per_trip.package_theft": 0.2,
    "incidents.per_trip.car_break_in": 0.2,
    "incidents.victim_reporting": 1.0,
    "reporting.base_rate": 0.002,
    "police.request_probability": 1.0,
    "requests.regime": "portal",
    "cameras.adoption": 0.5,
}


@pytest.fixture(scope="module")
def eventful():
    model = NeighbourhoodModel(Scenario().replace(EVENTFUL))
    return model, model.run(), model.recorder.timeseries()


def test_outcome_columns_add_up_to_the_metrics(eventful):
    model, metrics, ts = eventful
    names = model.world.group_names
    assert metrics["requests.voluntary"] > 0 and metrics["reports.total"] > 0
    assert sum(ts[f"posts.{g}"].sum() for g in names) == ts["posts"].sum()
    assert ts["posts"].sum() == metrics["reports.total"]
    for g in names:
        assert ts[f"stops.{g}"].sum() == metrics[f"police.stops.{g}"]
        assert ts[f"bystanders.{g}"].sum() == metrics[f"footage.bystanders.{g}"]
        assert (ts[f"bystanders.{g}"] >= 0).all()  # people are counted once, when first seen
    kinds = ("requests.voluntary", "requests.legal", "requests.emergency")
    assert ts["requests"].sum() == sum(metrics[k] for k in kinds)
    assert ts["clips"].sum() == metrics["footage.clips_shared"] + metrics["footage.legal_clips"]
    assert sum(metrics[f"footage.bystanders.{g}"] for g in names) > 0


def test_figures_name_the_run_and_show_its_outcomes(eventful, tmp_path, monkeypatch):
    model, _, ts = eventful
    names = model.world.group_names
    drawn = {}
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: drawn.update({path: fig}))
    title = plots.run_title("eventful", 7, 3)
    assert title == "eventful (seed 7, 3 replications)"
    plots.save_map(model, tmp_path / "map.png", title)
    plots.save_timeseries([ts, ts], names, tmp_path / "timeseries.png", title)
    plots.save_outcomes([ts], names, tmp_path / "outcomes.png", title)
    for fig in drawn.values():
        texts = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
        assert any(title in t for t in texts)
        for ax in fig.axes:
            assert ax.get_xlabel() or ax.get_shared_x_axes().get_siblings(ax)[1:]
    outcomes = drawn[tmp_path / "outcomes.png"]
    posts = outcomes.axes[0]
    finals = sorted(line.get_ydata()[-1] for line in posts.get_lines())
    assert finals == sorted(float(ts[f"posts.{g}"].sum()) for g in names)
    labels = [
        t.get_text() for ax in outcomes.axes if ax.get_legend() for t in ax.get_legend().texts
    ]
    assert any(label.startswith("footage requests: ") for label in labels)
    # camera types differ by shape on the map, and its legend names households by group
    legend = drawn[tmp_path / "map.png"].legends[0]
    shapes = {h.get_marker() for h in legend.legend_handles if h.get_label().endswith(" camera")}
    assert len(shapes) == len(plots.CAMERA_MARKERS)
    assert {f"home: {g} household" for g in names} <= {t.get_text() for t in legend.texts}


def test_an_empty_panel_says_so_and_starts_at_zero(eventful, monkeypatch):
    model, _, ts = eventful
    quiet = {
        k: (np.zeros_like(v) if k not in ("time_min", "day", "hour") else v) for k, v in ts.items()
    }
    drawn = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: drawn.append(fig))
    plots.save_outcomes([quiet], model.world.group_names, "outcomes.png")
    for ax in drawn[0].axes:
        assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= 1
        assert any(t.get_text() == "none in this run" for t in ax.texts)
