"""The layers of sim/: one package per layer, one level deep; no module importing from a higher
layer, and no import cycle among the modules (every import counts, at the top of a module or
inside a function; imports only for type annotations, under ``if TYPE_CHECKING:``, do not)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"

# Lowest first. A module imports only from its own layer (package) or lower ones.
LAYERS = ("scenario", "world", "engine", "model", "runs", "validation", "ui")
RANK = {name: i for i, name in enumerate(LAYERS)}


def _type_only(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``): imports read by annotations only."""
    if not isinstance(node, ast.If):
        return False
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def sim_imports(source: str) -> set[str]:
    """The sim modules (``layer.module``) a module's source imports at run time."""
    found: set[str] = set()
    stack = [ast.parse(source)]
    while stack:
        node = stack.pop()
        if _type_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if len(parts) == 2:  # from sim.model import police
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = [node.module]
        else:
            stack.extend(ast.iter_child_nodes(node))
            continue
        found |= {".".join(n.split(".")[1:3]) for n in names if n.startswith("sim.")}
    return found


def graph(sources: dict[str, str]) -> dict[str, set[str]]:
    return {m: sim_imports(src) - {m} for m, src in sources.items()}


def layer_violations(edges: dict[str, set[str]]) -> list[str]:
    def rank(m: str) -> int:
        return RANK[m.split(".")[0]]

    return [
        f"{m} imports {d}"
        for m, deps in sorted(edges.items())
        for d in sorted(deps)
        if rank(d) > rank(m)
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
    return {
        f"{p.parent.name}.{p.stem}": p.read_text()
        for p in SIM.glob("*/*.py")
        if p.stem != "__init__" and p.parent.name != "__pycache__"
    }


def test_every_module_is_in_a_layer_package_one_level_deep():
    loose = sorted(p.name for p in SIM.glob("*.py") if p.stem != "__init__")
    assert loose == [], f"modules outside a layer package: {loose}"
    packages = {p.name for p in SIM.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages == set(LAYERS), packages ^ set(LAYERS)
    assert all((SIM / name / "__init__.py").is_file() for name in LAYERS)
    deeper = [p for p in SIM.glob("*/*/*.py") if "__pycache__" not in p.parts]
    assert deeper == [], deeper


def test_no_module_imports_from_a_higher_layer(sources):
    assert layer_violations(graph(sources)) == []


def test_no_import_cycle(sources):
    assert cycle(graph(sources)) is None


def test_the_checks_catch_a_bad_import(sources):
    """An upward import and a cycle, added on purpose, are both found; an import for type
    annotations only is not a dependency."""
    bad = dict(sources)
    bad["scenario.scenario"] += "\n\ndef f():\n    from sim.validation.validate import run_checks\n"
    assert layer_violations(graph(bad)) == ["scenario.scenario imports validation.validate"]
    assert cycle(graph(bad)) is not None
    looped = dict(sources)
    looped["scenario.schema"] += "\nfrom sim.engine import rng\n"
    looped["engine.rng"] += "\nimport sim.scenario.schema\n"
    assert cycle(graph(looped)) in (
        ["engine.rng", "scenario.schema", "engine.rng"],
        ["scenario.schema", "engine.rng", "scenario.schema"],
    )
    typed = dict(sources)
    typed["scenario.schema"] += "\nif TYPE_CHECKING:\n    from sim.model.model import M\n"
    assert layer_violations(graph(typed)) == []
