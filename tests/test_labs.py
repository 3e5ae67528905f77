"""The labs' support files stay valid as the model changes."""

import math
from pathlib import Path

import pytest

from sim.runs.experiment import load_experiment
from sim.scenario.scenario import load

LABS = Path(__file__).resolve().parents[1] / "labs"


@pytest.mark.parametrize("name", ["lab2_posts.toml", "lab3_rates.toml"])
def test_lab_scenarios_load(name):
    assert len(load(LABS / name)) > 0


def test_lab_experiment_loads():
    assert len(load_experiment(LABS / "lab3_request_rules.toml").points) > 1


def test_labs_and_answer_key_exist():
    for name in ("01_coverage.md", "02_bias.md", "03_rules.md", "answer_key.md", "README.md"):
        assert (LABS / name).stat().st_size > 1000, name


def _answers():
    import importlib.util

    spec = importlib.util.spec_from_file_location("lab_answers", LABS / "answers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_block_of_the_answer_key_is_made_by_answers_py():
    answers = _answers()
    present = answers.blocks_in(answers.KEY.read_text(encoding="utf-8"))
    assert set(present) == set(answers.BLOCKS)
    assert all(body.strip() for body in present.values()), "a block was never written"


# the blocks that take a second or less to make (the others run the command line for minutes:
# labs/answers.py --check, before a release)
QUICK_BLOCKS = ("lab1_formula", "lab1_views", "lab1_app", "lab2_formula", "lab2_app")
QUICK_BLOCKS += ("lab3_model", "lab3_app")


@pytest.mark.parametrize("name", QUICK_BLOCKS)
def test_formula_blocks_are_current(name):
    answers = _answers()
    present = answers.blocks_in(answers.KEY.read_text(encoding="utf-8"))
    assert present[name] == answers.wrap(answers.BLOCKS[name]()), f"labs/answers.py --write {name}"


def test_an_app_reference_row_is_recomputed():
    """Lab 1 Part B's adoption 0.2 row: the classroom model read at day 0, 12:00."""
    import re

    answers = _answers()
    block = answers.blocks_in(answers.KEY.read_text(encoding="utf-8"))["lab1_app"]
    row = re.search(r"^\| 0\.20 \| (\d+) \| ([\d.]+) \| ([\d.]+) ", block, re.M)
    model = answers.app_model(adoption=0.2, seed=1)
    model.run_for(12 * 60)
    assert model.cameras.count == int(row.group(1))
    assert model.cameras.street_fraction() == pytest.approx(float(row.group(2)), abs=6e-4)


def test_labs_cite_nothing_outside_the_repository():
    for path in LABS.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert "CONTEXT.md" not in text and "../" not in text, path.name


def _pct(x: float) -> str:
    return f"{100 * x:g} %"


def test_parameters_the_labs_quote_are_the_schemas():
    """The model's settings the labs' Background sections quote, computed from the schema (and
    the lab files): a changed default shows up here rather than in a class."""
    from sim.model.cameras import view_half_width
    from sim.model.requests import SQ_M_PER_SQ_MI, Rules
    from sim.scenario.scenario import Scenario

    s, lab3 = Scenario(), load(LABS / "lab3_rates.toml")
    setback = s["world.setback_m"]
    seen = {}
    for t in ("doorbell", "stickup", "floodlight"):
        half = view_half_width(s[f"cameras.range_m.{t}"], s[f"cameras.fov_deg.{t}"], setback)
        seen[t] = round(2 * half)
    width = s["world.blocks_x"] * s["world.block_length_m"]
    height = s["world.blocks_y"] * s["world.block_width_m"]
    rfa = Rules.of(s.replace({"requests.regime": "rfa"}))
    radius = math.sqrt(rfa.max_area_sq_mi * SQ_M_PER_SQ_MI / math.pi)
    mix = {t: _pct(s[f"cameras.mix.{t}"]) for t in ("doorbell", "stickup", "floodlight", "indoor")}
    expected = {
        "01_coverage.md": [
            f"one every {s['world.home_spacing_m']:g} m",
            f"{setback:g} m from the line people walk along",
            f"a doorbell camera sees about {seen['doorbell']} m of street, a stick-up camera "
            f"about {seen['stickup']} m, a floodlight camera about {seen['floodlight']} m",
            f"{mix['doorbell']} are doorbells, {mix['stickup']} stick-ups, {mix['floodlight']}\n"
            f"floodlights and {mix['indoor']} indoor",
            f"v = {s['cameras.detection_probability']:g} (`cameras.detection_probability`)",
        ],
        "03_rules.md": [
            f"{_pct(s['police.request_probability'])} of known incidents "
            "(`police.request_probability`)",
            f"around {s['police.request_window_hours']:g} hours and "
            f"{s['police.request_area_sq_mi']:g} sq mi",
            f"with probability {_pct(s['requests.share_probability'])} "
            "(`requests.share_probability`)",
            f"{_pct(s['legal.demand_probability'])} of known incidents by default\n"
            f"(`legal.demand_probability`; {s['legal.window_hours']:g} h, "
            f"{s['legal.area_sq_mi']:g} sq mi)",
            f"complies with probability {s['legal.compliance']:g}",
            f"{_pct(lab3['population.offender_fraction'])} of pedestrians are offenders, victims "
            f"report {_pct(lab3['incidents.victim_reporting'])}",
            f"about {width / 1000:.1f} km by {height / 1000:.1f} km",
            f"a disc about {round(radius, -1):.0f} m in\n radius",
        ],
    }
    from sim.ui.app import MODEL_PARAMS

    bias = MODEL_PARAMS["bias"]
    expected["02_bias.md"] = [
        f"(the app's slider, {bias['min']:g} to {bias['max']:g}; default {bias['value']:g})",
        f"(1 to 5, in steps of {bias['step']:g})",
        f"fades with a half-life of {s['feed.fear_half_life_days']:g} days",
        f"`reporting.base_rate={10 * s['reporting.base_rate']:g}`",
    ]
    for name, snippets in expected.items():
        text = " ".join((LABS / name).read_text(encoding="utf-8").split())  # lines joined
        for snippet in snippets:
            assert " ".join(snippet.split()) in text, (name, snippet)
    assert lab3["police.request_probability"] == 1 and lab3["police.request_delay_hours"] == 3
    assert lab3["legal.demand_probability"] == pytest.approx(0.3)  # "three in ten"
    assert s["privacy.subscription"] == pytest.approx(0.5)  # "half of them"
    # the answer key's own settings (answers.py and its prose)
    answers = _answers()

    v, street_v = answers.V, answers.STREET_V
    assert v == pytest.approx(s["cameras.detection_probability"])
    assert street_v == pytest.approx(v_street(s))
    key = " ".join((LABS / "answer_key.md").read_text(encoding="utf-8").split())
    assert f"homes within {s['reporting.area_m']:g} m (`reporting.area_m`)" in key
    assert f"default gatekeeping of {s['reporting.gatekeeping']:g}" in key


def v_street(s) -> float:
    """v times the share of cameras that see the street (all but the indoor ones)."""
    return s["cameras.detection_probability"] * (1 - s["cameras.mix.indoor"])


def test_the_app_neighbourhood_is_as_the_labs_say():
    """About 550 homes and 1,500 pedestrians (labs/README.md, Lab 1 Part B)."""
    answers = _answers()
    model = answers.app_model(seed=1)
    assert 500 <= model.world.homes.count <= 600
    assert model.population.count == 1500
    for name in ("README.md", "01_coverage.md"):
        assert "about 550 homes" in (LABS / name).read_text(encoding="utf-8")


def test_the_app_speeds_the_labs_quote():
    from sim.ui.app import DEFAULT_SPEED, SPEEDS

    start, top = SPEEDS[DEFAULT_SPEED], max(SPEEDS.values())
    day = f"A simulated day takes {1440 / start:g} s of **Play** at the starting speed"
    fastest = f"up to {top / 60:g} h per second (a day in {1440 / top:g} s)"
    for name, snippets in {
        "01_coverage.md": [f"({720 / start:g} s at the starting speed)"],
        "02_bias.md": [day, fastest],
        "03_rules.md": [day, fastest],
        "README.md": [f"(a day in {1440 / start:g} s)"],
    }.items():
        text = " ".join((LABS / name).read_text(encoding="utf-8").split())
        for snippet in snippets:
            assert snippet in text, (name, snippet)
