"""The schema is assembled from the submodels' declarations: each key declared once, by the module
that owns its section, and read from the source exactly as the module itself defines it."""

import importlib

import pytest

from sim.scenario import schema


@pytest.mark.parametrize("owner", schema.OWNERS)
def test_an_owners_declarations_are_read_as_the_module_defines_them(owner):
    assert schema.declared(owner) == importlib.import_module(owner).PARAMS


def test_every_key_has_one_owner_that_owns_its_section():
    keys = [p.key for p in schema.PARAMS]
    assert len(keys) == len(set(keys))
    for owner in schema.OWNERS:
        for p in schema.declared(owner):
            assert schema.SECTIONS[schema.section(p.key)] == owner, p.key
    assert sum(len(schema.declared(o)) for o in schema.OWNERS) == len(keys)


def test_sections_are_contiguous_and_in_the_order_of_sections():
    order = list(dict.fromkeys(schema.section(p.key) for p in schema.PARAMS))
    assert order == list(schema.SECTIONS)


def test_a_key_declared_twice_or_outside_its_section_is_refused(monkeypatch):
    real = schema.declared
    extra = {"sim.world.world": (schema.share("world.irregularity", 0.1, "again"),)}
    monkeypatch.setattr(schema, "declared", lambda o: real(o) + extra.get(o, ()))
    with pytest.raises(RuntimeError, match=r"world\.irregularity is declared twice"):
        schema.assemble()
    extra = {"sim.world.world": (schema.share("cameras.tint", 0.1, "elsewhere"),)}
    wrong = r"sim\.world\.world declares cameras\.tint.*sim\.model\.cameras"
    with pytest.raises(RuntimeError, match=wrong):
        schema.assemble()


def test_a_declaration_may_use_only_schema_names_and_its_own_sources(tmp_path, monkeypatch):
    (tmp_path / "owner_ok.py").write_text(
        'import math\nfrom sim.scenario.schema import share\nSRC_HERE = "a study"\n'
        'PARAMS = (\n    share("x.a", 0.5, "A share.", SRC_HERE),\n)\n'
    )
    (tmp_path / "owner_bad.py").write_text(
        'from sim.scenario.schema import share\nA = 0.5\nPARAMS = (\n    share("x.a", A, "A '
        'share."),\n)\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    (p,) = schema.declared("owner_ok")
    assert (p.key, p.default, p.source, p.unit) == ("x.a", 0.5, "a study", "share")
    with pytest.raises(RuntimeError, match=r"PARAMS may use only.*'A' is not defined"):
        schema.declared("owner_bad")
    (tmp_path / "owner_none.py").write_text('PARAMS = [share("x.a", 0.5, "A share.")]\n')
    with pytest.raises(RuntimeError, match="no PARAMS"):
        schema.declared("owner_none")
