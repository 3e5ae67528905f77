"""The labs' support files stay valid as the model changes."""

from pathlib import Path

import pytest

from sim.experiment import load_experiment
from sim.scenario import load

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


@pytest.mark.parametrize("name", ["lab1_formula", "lab2_formula"])
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
