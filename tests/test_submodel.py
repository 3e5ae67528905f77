"""Submodels own their state: each declares its state arrays (``STATE``) and metrics
(sim/scenario/submodel.py); nothing else assigns into them, and every declaration is real."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from sim.model.metrics import SUBMODELS, declared
from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario
from sim.scenario.submodel import KINDS, Submodel

SIM = Path(__file__).resolve().parents[1] / "sim"
PARTS = {cls.name for cls in SUBMODELS}  # the model's attributes that hold submodels


def _owners() -> dict[str, set[str]]:
    """Declared state array -> the modules of the submodels that declare it."""
    out: dict[str, set[str]] = {}
    for cls in SUBMODELS:
        for attr in cls.STATE:
            out.setdefault(attr, set()).add(cls.__module__.rsplit(".", 1)[-1])
    return out


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` (of ``a.b.c[...] = ...``) as ["a", "b", "c"]; None for other targets."""
    while isinstance(node, ast.Subscript):
        node = node.value
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not names or not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(names)]


def _own_names(tree: ast.AST) -> set[str]:
    """The attributes the module's own classes hold (``self.x = ...``, annotated fields)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                out.add(node.attr)
        elif isinstance(node, ast.ClassDef):
            out |= {
                s.target.id
                for s in node.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            }
    return out


def foreign_writes(source: str, module: str, owners: dict[str, set[str]]) -> list[str]:
    """Assignments in ``source`` (module ``module``) into another module's submodel's
    declared state (``x.attr[...] = ...`` where ``attr`` is a state array declared elsewhere,
    and no class of this module has an attribute of that name), or into any attribute of a
    submodel reached by name (``self.police.partnered = ...``)."""
    found = []
    tree = ast.parse(source)
    own = _own_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        else:
            continue
        for target in targets:
            for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                chain = _chain(t)
                if chain is None or len(chain) < 2 or (chain[0] == "self" and len(chain) == 2):
                    continue
                declared_by = owners.get(chain[-1], set())
                foreign = bool(declared_by) and module not in declared_by and chain[-1] not in own
                # or any attribute of a submodel reached through the model or its parts
                # (``self.police.partnered = ...``, ``model.platform.x = ...``)
                reached = any(n.lstrip("_") in PARTS for n in chain[1:-1])
                if foreign or reached:
                    found.append(f"{module}.py:{node.lineno}: {'.'.join(chain)}")
    return found


def test_no_module_assigns_into_another_submodels_state():
    """A submodel (or the model) changes another's state only through a method of the owner."""
    owners = _owners()
    found = []
    for path in sorted(SIM.glob("*.py")):
        found += foreign_writes(path.read_text(), path.stem, owners)
    assert not found, "write through a method of the owner instead:\n" + "\n".join(found)


def test_the_check_finds_a_foreign_write():
    """The check above is not blind: the writes it exists to catch are caught, the owner's
    own are not."""
    owners = _owners()
    source = (
        "def f(self, model, homes):\n"
        "    model.platform.subscribed[homes] = False\n"
        "    self.model.reporting.app_user_no_camera[homes] = True\n"
        "    pop = model.population\n"
        "    pop.free_at[homes] += 1\n"
        "    self.police.partnered = True\n"
    )
    assert len(foreign_writes(source, "adoption", owners)) == 4
    own = "def f(self):\n    self.subscribed[0] = False\n"
    assert foreign_writes(own, "requests", owners) == []


@pytest.fixture(scope="module")
def model():
    m = NeighbourhoodModel(Scenario().replace({"time.days": 0.05}))
    m.run()
    return m


def test_declarations_are_real(model):
    """Every submodel is the model's attribute its name says, its declared state arrays are
    arrays it holds, and its metrics are declared with a known kind, once."""
    names = [m.name for m in declared()]
    assert len(names) == len(set(names))
    assert all(m.kind in KINDS and m.unit and m.label for m in declared())
    for cls in SUBMODELS:
        part = getattr(model, cls.name)
        assert isinstance(part, cls)
        for attr in cls.STATE:
            assert isinstance(getattr(part, attr), np.ndarray), f"{cls.name}.{attr}"


def test_each_submodel_writes_what_it_declares(model):
    """A submodel's metrics are its declared ones (``<group>`` for each group's name)."""
    groups = model.world.group_names
    for cls in SUBMODELS:
        got = set(getattr(model, cls.name).metrics(model))
        want = set()
        for m in cls.METRICS:
            if m.on_request:
                continue
            if "<group>" in m.name:
                chosen = groups[1:] if m.later_groups else groups
                want |= {m.name.replace("<group>", g) for g in chosen}
            else:
                want.add(m.name)
        assert got == want, (cls.name, sorted(got ^ want))


class _Installer(Submodel):
    """An attached submodel, for the hooks: logs its calls, and at 10:00 on the first day
    installs cameras on 40 homes without one (a change inside the minutes walked ahead)."""

    name = "installer"
    attaches = True
    STATE = ("calls",)

    def __init__(self, model) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def day(self, model, day: int) -> None:
        self.calls.append(("day", day, int(model.time)))

    def hour(self, model, minute: int) -> None:
        self.calls.append(("hour", minute, int(model.time)))
        if minute == 600:
            without = np.flatnonzero(model.cameras.home_camera < 0)[:40]
            self.new = model.cameras.install(without, np.zeros(len(without), np.int8))


def test_an_attached_submodel_gets_the_day_and_hour_hooks_and_keeps_the_invariants(monkeypatch):
    """The model builds an attached submodel (``attaches = True``, listed in SUBMODELS) and
    calls its ``day`` at each day's start and its ``hour`` on each hour, at those minutes.
    Cameras it installs on the hour record from that minute whether the engine walked the
    day ahead or went minute by minute, with the same results."""
    import sim.model.model as model_module

    monkeypatch.setattr(model_module, "SUBMODELS", (*SUBMODELS, _Installer))
    kv = {"time.days": 2, "population.pedestrians": 600, "world.blocks_x": 5, "world.blocks_y": 4}
    outcomes = []
    for ahead in (True, False):
        m = NeighbourhoodModel(Scenario(kv).replace({"time.walk_ahead": ahead}), rng=4)
        m.run()
        calls = m.installer.calls
        # (the run ends at minute 2,880: the events due then, day 2's start too, have run)
        days = [c[1:] for c in calls if c[0] == "day"]
        assert days == [(0, 0), (1, 1440), (2, 2880)]
        assert [c[1:] for c in calls if c[0] == "hour"] == [(t, t) for t in range(60, 2881, 60)]
        seen = m.footage.query(0, int(m.time))
        new = np.isin(seen.camera, m.installer.new)
        assert new.sum() > 20 and 600 <= seen.t_in[new].min() < 605
        outcomes.append((json.dumps(m.metrics(), sort_keys=True), seen.t_in.tolist()))
    assert outcomes[0] == outcomes[1]
