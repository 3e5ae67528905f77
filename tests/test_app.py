"""The classroom app rendered headless: the page builds, the controls drive the model."""

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara

app = pytest.importorskip("sim.app", reason="pip install -e '.[app]'")
from mesa.visualization.solara_viz import ModelController  # noqa: E402


def test_page_renders_every_panel():
    model = app.ClassroomModel(seed="3")
    _, rc = solara.render(app.make_page(model), handle_error=False)
    assert len(rc.find(ipywidgets.Image)) == 5  # map, coverage, posts, footage, adoption
    assert 400 <= model.world.homes.count <= 650  # the classroom neighbourhood


def test_controls_step_and_reset_the_model():
    model = solara.reactive(app.ClassroomModel(seed="3"))
    params = {
        "adoption": 0.6,
        "regime": "portal",
        "opt_out": 0.5,
        "seed": "9.7",
        "promotion": True,
        "minority_share": 0.4,
    }
    _, rc = solara.render(
        ModelController(
            model,
            model_parameters=params,
            play_interval=solara.reactive(20),
            render_interval=solara.reactive(15),
            use_threads=solara.reactive(False),
        ),
        handle_error=False,
    )
    first = model.value
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert first.steps == 15 and first.time == 15
    rc.find(v.Btn, children=["Reset"]).widget.click()
    new = model.value
    assert new is not first and new.time == 0
    p = new.params
    assert (p["cameras.adoption"], p["requests.regime"], p["requests.opt_out"]) == (
        0.6,
        "portal",
        0.5,
    )
    assert p["promotion.enabled"] and p["population.groups"]["minority"] == pytest.approx(0.4)
    assert new.seed == 9  # the seed control is always an integer


@pytest.mark.parametrize("text, seed", [("7", 7), (" 12.9 ", 12), ("-4", 4), ("abc", 1)])
def test_seed_text_becomes_an_integer(text, seed):
    assert app._seed(text) == seed


def test_figures_show_posts_requests_and_walkers():
    model = app.ClassroomModel(adoption=0.6, bias=3.0, seed=2)
    model.reporting.base = 0.01  # many posts, so every panel has something to draw
    model.police.request_probability = 1.0
    model.run_for(14 * 60)
    assert model.walking() > 0 and len(model.reporting.log()) > 0
    for make in (
        app.map_figure,
        app.coverage_figure,
        app.posts_figure,
        app.footage_figure,
        app.adoption_figure,
    ):
        fig = make(model)
        assert fig.axes and fig.axes[0].has_data(), make.__name__
    title = app.posts_figure(model).axes[0].get_title()
    assert "disparity ratio" in title and "n/a" not in title
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

    from sim import cli

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
