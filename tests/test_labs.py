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
