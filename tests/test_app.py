"""The classroom app rendered headless: controls first with their values, a cue until Reset,
monitors, one clock, Play in simulated time that Pause and a closed page stop."""

import gc
import threading
import time
import weakref
from pathlib import Path

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara

app = pytest.importorskip("sim.ui.app", reason="pip install -e '.[app]'")

CLASSROOM = Path(__file__).resolve().parents[1] / "scenarios" / "classroom.toml"
MONITOR_LABEL = "font-size:0.8em;color:#555;"
GUARD_S = 60  # hang guard only: a loaded machine plays far faster than this


def render():
    return solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)


def button(rc, label):
    return rc.find(v.Btn, children=[label]).widget


def monitor(rc, label) -> str:
    """A monitor's value: the box whose label is ``label``."""
    from solara.widgets import HTML

    labels = [w.children[0] for w in rc.find(v.Html, tag="span", style_=MONITOR_LABEL).widgets]
    values = [w.unsafe_innerHTML for w in rc.find(HTML).widgets]
    return dict(zip(labels, values, strict=True))[label]


def test_page_has_controls_first_values_shown_monitors_and_every_panel():
    _, rc = render()
    titles = [w.children[0] for w in rc.find(v.CardTitle).widgets]
    assert titles[:3] == ["Run", "Policy controls (apply on Reset)", "About"]
    sliders = {w.label for w in rc.find(v.Slider).widgets}
    assert "Camera adoption (share of homes): 0.2" in sliders
    assert len(rc.find(ipywidgets.Image)) == 5  # map, coverage, posts, footage, adoption
    assert monitor(rc, "time") == "day 0, 00:00"
    assert int(monitor(rc, "cameras")) > 50
    for label in ("posts about minority", "police stops", "footage requests", "clips to police"):
        assert monitor(rc, label) == "0"
    headers = [w.children[0] for w in rc.find(v.ExpansionPanelHeader).widgets]
    assert headers == ["The labs (labs/README.md)", "The model description (docs/ODD.md)"]
    assert app._doc("labs/README.md").startswith("# Guided labs")
    assert "ODD" in app._doc("docs/ODD.md")


def test_changes_are_flagged_until_reset_applies_them():
    _, rc = render()
    rc.find(v.Slider, label="Camera adoption (share of homes): 0.2").widget.v_model = 0.6
    rc.find(v.Select, label="Request regime").widget.v_model = "portal"
    rc.find(v.TextField, label="Seed").widget.v_model = "9.7"
    warning = rc.find(v.Alert, type="warning").widget.children[0]
    assert "Camera adoption" in warning and "Request regime" in warning and "Reset" in warning
    assert monitor(rc, "cameras") == monitor(rc, "cameras")  # the model is unchanged so far
    button(rc, "Reset").click()
    assert not rc.find(v.Alert, type="warning").widgets
    assert rc.find(v.Slider, label="Camera adoption (share of homes): 0.6").widgets
    assert int(monitor(rc, "cameras")) > 250  # 60 % of about 550 homes


def test_step_adds_fifteen_or_one_simulated_minutes():
    _, rc = render()
    button(rc, "Step +15 min").click()
    button(rc, "Step +15 min").click()
    button(rc, "Step +1 min").click()
    assert monitor(rc, "time") == "day 0, 00:31"


def test_play_follows_simulated_time_and_pause_stops_it():
    _, rc = render()
    button(rc, "Play").click()
    start = time.perf_counter()
    while monitor(rc, "time") < "day 0, 01:00" and time.perf_counter() - start < GUARD_S:
        time.sleep(0.1)
    assert monitor(rc, "time") >= "day 0, 01:00"
    button(rc, "Pause").click()
    time.sleep(2 * app.TICK_S)  # a piece under way may still be shown
    paused = monitor(rc, "time")
    time.sleep(4 * app.TICK_S)
    assert monitor(rc, "time") == paused
    assert button(rc, "Play")


def test_a_closed_page_stops_its_model():
    """The page's Play thread ends once the session closes (as when a tab is closed)."""
    started = []
    real = app.play_loop

    def recording(model, *args):
        started.append((model, threading.current_thread()))
        real(model, *args)

    app.play_loop = recording
    try:
        _, rc = render()
        button(rc, "Play").click()
        start = time.perf_counter()
        while not started and time.perf_counter() - start < GUARD_S:
            time.sleep(0.05)
        model, thread = started[-1]
        while model.time < 30 and time.perf_counter() - start < GUARD_S:
            time.sleep(0.05)
        rc.close()
        thread.join(GUARD_S)
        assert not thread.is_alive()
        stopped = model.time
        time.sleep(4 * app.TICK_S)
        assert model.time == stopped
    finally:
        app.play_loop = real


def test_models_a_page_has_left_are_freed(monkeypatch):
    """Memory per session is bounded: the models a page has played and replaced by Reset are
    freed, and its Play threads end once it closes. (Solara's use_task, used before, kept each
    page's first model for the life of the server. The model a page shows last is kept here by
    the test renderer; tests/test_browser.py checks that a real server frees it.)"""
    played = []
    real = app.play_loop

    def recording(model, *args):
        played.append((weakref.ref(model), threading.current_thread()))
        real(model, *args)

    monkeypatch.setattr(app, "play_loop", recording)
    _, rc = render()
    for k in range(3):
        button(rc, "Play").click()
        start = time.perf_counter()
        while len(played) <= k and time.perf_counter() - start < GUARD_S:
            time.sleep(0.05)
        button(rc, "Pause").click()
        button(rc, "Reset").click()
    rc.close()
    for _, thread in played:
        thread.join(GUARD_S)
        assert not thread.is_alive()
    gc.collect()
    assert all(ref() is None for ref, _ in played[:-1])
    assert len(played) == 3  # one Play thread per Play


def test_play_loop_keeps_to_its_speed_and_stops_at_once():
    model = app.ClassroomModel()

    class Value:
        def __init__(self, value):
            self.value = value

        def set(self, value):
            self.value = value

    drawn = threading.Event()

    class Shown(Value):
        def set(self, value):  # drawn at once, after the page (here) has seen the value
            self.value = value
            drawn.set()

    playing, shown, closed = Value(True), Shown(0), threading.Event()
    thread = threading.Thread(
        target=app.play_loop,
        args=(model, playing, Value(app.DEFAULT_SPEED), shown, closed, drawn),
    )
    start = time.perf_counter()
    thread.start()
    time.sleep(2.0)
    playing.set(False)
    thread.join(GUARD_S)
    elapsed = time.perf_counter() - start
    assert not thread.is_alive()
    rate = app.SPEEDS[app.DEFAULT_SPEED]
    assert 0 < model.time <= rate * elapsed + 1  # never ahead of the chosen speed
    assert shown.value == int(model.time)


@pytest.mark.parametrize("text, seed", [("7", 7), (" 12.9 ", 12), ("-4", 4), ("abc", 1)])
def test_seed_text_becomes_an_integer(text, seed):
    assert app._seed(text) == seed


def test_clock_is_day_and_time():
    assert app.clock(0) == "day 0, 00:00"
    assert app.clock(1440 + 13 * 60 + 5) == "day 1, 13:05"


def test_classroom_preset_shows_posts_and_requests_in_the_first_hours(monkeypatch):
    monkeypatch.setenv(app.SCENARIO_ENV, str(CLASSROOM))
    model = app.ClassroomModel()
    model.run_for(12 * 60)
    shown = dict(app.monitors(model))
    assert int(shown["posts about majority"]) + int(shown["posts about minority"]) > 0
    assert int(shown["footage requests"]) > 0
    monkeypatch.delenv(app.SCENARIO_ENV)
    default = app.ClassroomModel()
    default.run_for(12 * 60)
    assert int(dict(app.monitors(default))["footage requests"]) == 0  # why the preset exists


def test_figures_show_posts_requests_and_walkers(monkeypatch):
    monkeypatch.setenv(app.SCENARIO_ENV, str(CLASSROOM))
    model = app.ClassroomModel(adoption=0.6, bias=3.0, seed=2)
    model.run_for(14 * 60)
    assert model.walking() > 0 and len(model.reporting.log()) > 0 and model.police.issued
    for make in app.FIGURES:
        fig = make(model)
        assert fig.axes and fig.axes[0].has_data(), make.__name__
        assert fig.axes[0].get_xlabel(), make.__name__
    title = app.posts_figure(model).axes[0].get_title()
    assert "disparity ratio" in title and "n/a" not in title
    assert app.map_figure(model).axes[0].get_title().startswith("day 0, 14:00")
    xy, _ = model.walker_positions()
    assert np.isfinite(xy).all()


def test_first_view_is_drawn_in_advance_and_only_used_for_itself():
    """A new page shows plots drawn at server start: the same images as drawn anew. Other
    controls, or a later minute, are drawn when asked."""
    model = app.ClassroomModel()
    for make in app.FIGURES:
        cached = app._FIRST_VIEW[(make.__name__, model.controls)]
        assert cached == app._png(make, model)
    assert (app.map_figure.__name__, app.ClassroomModel(seed=2).controls) not in app._FIRST_VIEW
    assert app.ClassroomModel(seed="1").controls == model.controls  # the seed box's text


def test_viz_starts_solara_with_no_outbound_traffic(monkeypatch):
    """`run.py viz` becomes the Solara server with telemetry and the version check off."""
    import os

    from sim.ui import cli

    seen = {}

    def fake_execve(path, argv, env):
        seen.update(argv=argv, env=env)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execve", fake_execve)
    with pytest.raises(SystemExit):
        cli.main(["viz", "--port", "8799"])
    assert "--no-check-version" in seen["argv"]
    assert seen["argv"][seen["argv"].index("--host") + 1] == "127.0.0.1"
    assert seen["env"]["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert seen["env"]["SOLARA_KERNEL_CULL_TIMEOUT"] == cli.SESSION_TIMEOUT  # closed tabs end
    with pytest.raises(SystemExit):
        cli.main(["viz", "--port", "8799", "--telemetry"])
    assert "--no-check-version" not in seen["argv"]
    assert "SOLARA_TELEMETRY_MIXPANEL_ENABLE" not in seen["env"] or (
        seen["env"]["SOLARA_TELEMETRY_MIXPANEL_ENABLE"]
        == os.environ.get("SOLARA_TELEMETRY_MIXPANEL_ENABLE")
    )
