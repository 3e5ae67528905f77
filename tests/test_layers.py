"""The layers of sim/: no import cycle among its modules, and no module importing from a
higher layer (every import counts, at the top of a module or inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"

# Lowest first. A module imports only from its own layer or lower ones.
LAYERS = {
    "scenario": ["schema", "scenario", "rng", "checks", "submodel"],
    "world": ["osm", "world", "routes", "population"],
    "model": [
        "cameras",
        "movement",
        "engine",
        "footage",
        "requests",
        "police",
        "ledger",
        "metrics",
        "adoption",
        "ai_features",
        "incidents",
        "privacy",
        "protests",
        "reporting",
        "avoidance",
        "model",
    ],
    "runs": [
        "outputs",
        "stats",
        "limits",
        "pool",
        "draws",
        "replicate",
        "experiment",
        "sweep",
        "compare",
        "ema",
        "plots",
        "ledger_figure",
        "attention_figure",
        "policy_figure",
        "report",
    ],
    "validation": ["patterns", "validate", "ensemble"],
    "ui": ["cli", "app"],
}
RANK = {m: i for i, mods in enumerate(LAYERS.values()) for m in mods}
LAYER_OF = {m: name for name, mods in LAYERS.items() for m in mods}


def sim_imports(source: str) -> set[str]:
    """The sim modules a module's source imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            sub = node.module == "sim"  # from sim import osm
            names = [f"sim.{a.name}" for a in node.names] if sub else [node.module]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("sim.")}
    return found


def graph(sources: dict[str, str]) -> dict[str, set[str]]:
    return {m: sim_imports(src) - {m} for m, src in sources.items()}


def layer_violations(edges: dict[str, set[str]]) -> list[str]:
    return [
        f"{m} ({LAYER_OF[m]}) imports {d} ({LAYER_OF[d]})"
        for m, deps in sorted(edges.items())
        for d in sorted(deps)
        if RANK[d] > RANK[m]
    ]


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                return [*stack[stack.index(d) :], d]
            if d not in state and (found := visit(d)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m)):
            return found
    return None


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return {p.stem: p.read_text() for p in SIM.glob("*.py") if p.stem != "__init__"}


def test_every_module_has_a_layer(sources):
    assert sorted(set(sources) - set(RANK)) == [], "add new modules to LAYERS"
    assert sorted(set(RANK) - set(sources)) == [], "LAYERS names a module that is gone"


def test_no_module_imports_from_a_higher_layer(sources):
    assert layer_violations(graph(sources)) == []


def test_no_import_cycle(sources):
    assert cycle(graph(sources)) is None


def test_the_checks_catch_a_bad_import(sources):
    """An upward import and a cycle, added on purpose, are both found."""
    bad = dict(sources)
    bad["scenario"] += "\n\ndef f():\n    from sim.validate import run_checks\n"
    assert layer_violations(graph(bad)) == ["scenario (scenario) imports validate (validation)"]
    assert cycle(graph(bad)) is not None
    looped = dict(sources)
    looped["schema"] += "\nfrom sim import rng\n"
    looped["rng"] += "\nimport sim.schema\n"
    assert cycle(graph(looped)) in (["rng", "schema", "rng"], ["schema", "rng", "schema"])
