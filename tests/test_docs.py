"""Documentation stays true to the code: every metric defined, the parameter table current."""

import re
from pathlib import Path

from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario
from sim.ui.cli import default_toml, metrics_doc, odd_tables, parameters_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_every_metric_is_defined_in_docs():
    text = (DOCS / "metrics.md").read_text()
    documented = set(re.findall(r"^\| `([^`]+)` \|", text, flags=re.M))
    params = Scenario().replace({"time.days": 0.05, "population.pedestrians": 50})
    model = NeighbourhoodModel(params)
    names = set(model.run())
    groups = model.world.group_names
    generic = {re.sub(rf"\.({'|'.join(groups)})$", ".<group>", n) for n in names}
    missing = sorted(generic - documented)
    assert not missing, f"metrics without a definition in docs/metrics.md: {missing}"
    columns = {re.sub(rf"\.({'|'.join(groups)})$", ".<group>", c) for c in model.recorder.columns}
    flat_doc = set(re.findall(r"`([^`]+)`", text))
    assert columns <= flat_doc, sorted(columns - flat_doc)


def test_parameter_reference_is_current():
    current = (DOCS / "parameters.md").read_text().rstrip("\n")
    assert current == parameters_markdown(), (
        "docs/parameters.md is stale: python run.py explain --markdown > docs/parameters.md"
    )


def test_the_default_scenario_is_generated_from_the_schema():
    """scenarios/default.toml lists every key once, with its default, unit and meaning as the
    schema declares them (a key is declared in one place)."""
    current = (ROOT / "scenarios" / "default.toml").read_text()
    assert current == default_toml(), (
        "scenarios/default.toml is stale: python run.py explain --toml > scenarios/default.toml"
    )


def test_the_odds_parameter_tables_are_generated_from_the_declarations():
    """Section 7 of the ODD has one table per module that declares parameters, each current."""
    from sim.scenario.schema import OWNERS

    text = (DOCS / "ODD.md").read_text()
    tables = re.findall(r"^<!-- params: (\S+) -->$", text, flags=re.M)
    assert sorted(tables) == sorted(o.replace(".", "/") + ".py" for o in OWNERS)
    assert odd_tables(text) == text, (
        "docs/ODD.md has a stale parameter table: python run.py explain --odd docs/ODD.md"
    )


def test_every_metric_has_a_kind_and_the_kinds_table_is_current():
    from sim.runs.stats import METRICS, kinds_markdown
    from sim.scenario.submodel import KINDS

    text = (DOCS / "metrics.md").read_text()
    assert kinds_markdown() in text, "docs/metrics.md: regenerate the kinds table"
    definitions = text.replace(kinds_markdown(), "").split("## Time series")[0]
    defined = set(re.findall(r"^\| `([^`]+)` \|", definitions, flags=re.M))
    assert defined == set(METRICS), sorted(defined ^ set(METRICS))
    assert all(info.kind in KINDS and info.unit and info.label for info in METRICS.values())


def test_the_extending_tutorial_quotes_the_code_as_it_is():
    """docs/extending.md: every code block marked ``<!-- code: PATH -->`` appears, line for
    line, in that file (the tutorial cannot drift from the code it teaches)."""
    text = (DOCS / "extending.md").read_text()
    blocks = re.findall(r"<!-- code: (\S+) -->\n```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 8
    for path, block in blocks:
        source = (ROOT / path).read_text()
        assert block in source, f"docs/extending.md quotes {path} as it no longer is:\n{block}"


def test_the_generated_parts_of_the_metrics_reference_are_current():
    """docs/metrics.md: the kinds table and the definitions of the added submodels' metrics
    are what their declarations say."""
    text = (DOCS / "metrics.md").read_text()
    assert metrics_doc(text) == text, (
        "docs/metrics.md is stale: python run.py explain --metrics docs/metrics.md"
    )
