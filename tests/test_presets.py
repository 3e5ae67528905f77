"""Preset scenarios in scenarios/: they exist and load, follow the file format that
``python run.py scenarios`` reads, set what their names promise, and run."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.engine.rng import Streams
from sim.model.model import NeighbourhoodModel
from sim.model.requests import Rules
from sim.scenario.scenario import load
from sim.scenario.schema import BY_KEY, FROM_REGIME, GROUP_TABLE, SHARES, defaults
from sim.world.world import build_world

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
PRESETS = (
    "default",
    "district",
    "portal_2019",
    "rfa_2021",
    "legal_only_2024",
    "community_2025",
    "e2ee_everyone",
    "lapd_2016_promotion",
    "no_cameras",
    "segregated_city",
    "calibrated",
    "calibrated_district",
    "osm_town",
    "ensign_urn",
)
ALL_FILES = sorted(SCENARIOS.glob("*.toml"))
FIRST_LINE = re.compile(r"# (?P<name>[A-Za-z0-9_-]+): \S.*")
# A key line of a preset: ``key = value  # [unit] reason``.
KEY_LINE = re.compile(r"(?P<key>[A-Za-z0-9_]+) = (?P<value>[^#]*?)\s+# \[(?P<unit>[^\]]+)\] \S.*")
PINNED = "same as the default"  # what a key equal to its default must say about itself
RULE_KEYS = [k for k in BY_KEY if k.startswith("requests.") and BY_KEY[k].kind.startswith("rule")]


def path_of(name: str) -> Path:
    return SCENARIOS / f"{name}.toml"


def key_lines(path: Path):
    """(line number, dotted table, line) for every key line of a TOML file."""
    table = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("["):
            table = text.strip("[]").strip()
            continue
        yield number, table, line


def param_of(table: str, key: str):
    """The schema parameter a key line sets (a table-valued parameter for its entries)."""
    dotted = f"{table}.{key}" if table else key
    if dotted in BY_KEY:
        return BY_KEY[dotted]
    assert table in BY_KEY and BY_KEY[table].kind in (SHARES, GROUP_TABLE), dotted
    return BY_KEY[table]


# --- (1) every expected preset exists and loads -----------------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_preset_exists_and_loads(name: str) -> None:
    path = path_of(name)
    assert path.is_file(), f"missing preset {path}"
    scenario = load(path)  # raises ScenarioError on any unknown key or invalid value
    assert scenario.origin == str(path)


# --- (2) the header contract: the first line is "# <stem>: <text>" ----------------------------


def test_scenarios_folder_holds_the_presets() -> None:
    assert {p.stem for p in ALL_FILES} >= set(PRESETS)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_first_line_names_the_file(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = FIRST_LINE.fullmatch(first)
    assert match, f"{path.name}: first line must be '# {path.stem}: <what it represents>'"
    assert match["name"] == path.stem


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "default"])
def test_preset_header_cites_sources(name: str) -> None:
    lines = path_of(name).read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    assert len(header) >= 3, f"{name}: the header should explain the scenario and its sources"
    assert "docs/sources.md" in "\n".join(header)


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "default"])
def test_preset_keys_have_unit_and_reason(name: str) -> None:
    """Every key line carries ``# [unit] reason`` with the schema's unit, and a key left at its
    default is there on purpose (its comment says so)."""
    path = path_of(name)
    base = defaults()
    lines = list(key_lines(path))
    assert lines, f"{name}: a preset sets at least one key"
    for number, table, line in lines:
        match = KEY_LINE.fullmatch(line.strip())
        assert match, f"{path.name}:{number}: expected 'key = value  # [unit] reason': {line!r}"
        param = param_of(table, match["key"])
        assert match["unit"] == param.unit, f"{path.name}:{number}: unit of {param.key}"
        if param.kind in (SHARES, GROUP_TABLE):
            continue  # a table entry: the table as a whole is compared below
        value = tomllib.loads(f"v = {match['value']}")["v"]
        if value == base[param.key] and type(value) is type(base[param.key]):
            assert PINNED in line, f"{path.name}:{number}: {param.key} equals its default"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for key in (k for k, p in BY_KEY.items() if p.kind in (SHARES, GROUP_TABLE)):
        head, _, leaf = key.rpartition(".")
        table = data.get(head, {}).get(leaf) if head else data.get(leaf)
        if table is not None:
            assert table != base[key], f"{path.name}: {key} equals its default"


# --- (3) each preset sets what its name promises ---------------------------------------------

FACTS = {
    "portal_2019": {
        "requests.regime": "portal",
        "legal.compliance": 0.68,
        "privacy.e2ee": 0.0,
    },
    "rfa_2021": {"requests.regime": "rfa", "legal.compliance": 0.57, "time.start_year": 2021.5},
    "legal_only_2024": {"requests.regime": "none", "time.start_year": 2024.2},
    "community_2025": {"requests.regime": "community", "time.start_year": 2025.75},
    "district": {"time.days": 28.0, "world.blocks_x": 36, "world.blocks_y": 20},
    "e2ee_everyone": {"privacy.e2ee": 1.0},
    "lapd_2016_promotion": {
        "promotion.enabled": True,
        "requests.regime": "portal",
        "promotion.discount_usd": 50.0,
        "promotion.uses_per_free_device": 10,
        "promotion.devices_to_officers": 20,
        "adoption.price_usd": 150.0,
        "legal.compliance": 0.68,
        "privacy.e2ee": 0.0,
    },
    "no_cameras": {
        "cameras.adoption": 0.0,
        "adoption.spontaneous_per_year": 0.0,
        "adoption.word_of_mouth_per_year": 0.0,
        "promotion.enabled": False,
    },
    "segregated_city": {
        "world.segregation": 1.0,
        "world.blocks_x": 14,
        "world.blocks_y": 8,
        "population.groups": {"majority": 0.6, "minority": 0.4},
        "reporting.gatekeeping": 1.0,
    },
    "ensign_urn": {
        "police.allocation": "incidents",
        "police.zones_x": 2,
        "police.zones_y": 1,
        "police.discovery_correction": False,
    },
}


@pytest.mark.parametrize("name", sorted(FACTS))
def test_preset_key_facts(name: str) -> None:
    scenario = load(path_of(name))
    for key, expected in FACTS[name].items():
        assert scenario[key] == pytest.approx(expected), key
    # Request rules come from the regime: no preset overrides them one by one.
    for key in RULE_KEYS:
        assert scenario[key] == FROM_REGIME, key


def test_regime_rules_as_the_model_reads_them() -> None:
    portal = Rules.of(load(path_of("portal_2019")))
    rfa = Rules.of(load(path_of("rfa_2021")))
    legal_only = Rules.of(load(path_of("legal_only_2024")))
    community = Rules.of(load(path_of("community_2025")))
    assert portal.voluntary and not portal.public and portal.allow_protest
    assert portal.max_per_incident == 0  # no cap in the portal era
    assert rfa.voluntary and rfa.public and not rfa.allow_protest
    assert (rfa.max_per_incident, rfa.max_window_hours, rfa.max_area_sq_mi) == (2, 12.0, 0.5)
    assert not legal_only.voluntary
    # Community Requests: public, reminded; no caps published, so the RFA's
    assert community.voluntary and community.public and community.reminders
    assert not rfa.reminders and not portal.reminders
    assert (community.max_window_hours, community.max_area_sq_mi) == (12.0, 0.5)


REGIME_PRESETS = ("portal_2019", "rfa_2021", "legal_only_2024", "community_2025")


@pytest.mark.parametrize("name", REGIME_PRESETS)
def test_regime_presets_build_on_the_district(name: str) -> None:
    """Each regime preset repeats district.toml's keys unchanged (a preset has no base file),
    so the regimes are compared in the same world."""
    district = tomllib.loads(path_of("district").read_text(encoding="utf-8"))
    preset = tomllib.loads(path_of(name).read_text(encoding="utf-8"))
    for table, values in district.items():
        for key, value in values.items():
            assert preset.get(table, {}).get(key) == value, f"{name}: {table}.{key}"


def test_district_selects_different_owners_for_the_portal_and_the_rfa() -> None:
    """The district is wider than a portal disc (half-mile radius) in both directions' sum,
    and holds thousands of homes, so the caps bind on different owners."""
    scenario = load(path_of("district"))
    homes = build_world(scenario, Streams(scenario["seed"]).generator("world")).homes
    extent = homes.xy.max(axis=0) - homes.xy.min(axis=0)
    sq_mi = float(np.prod(extent)) / 1609.344**2
    assert 2 <= sq_mi <= 6 and 10_000 <= homes.count <= 30_000
    assert extent.max() > 2 * 804.7  # wider than a portal disc


def test_segregated_city_scales_pedestrians_with_homes() -> None:
    """About as many pedestrians per home as the default world (within 10 %)."""

    def per_home(scenario) -> float:
        homes = build_world(scenario, Streams(scenario["seed"]).generator("world")).homes
        return scenario["population.pedestrians"] / homes.count

    default, segregated = load(path_of("default")), load(path_of("segregated_city"))
    assert per_home(segregated) == pytest.approx(per_home(default), rel=0.1)


# --- (4) every preset runs ---------------------------------------------------------------------

SHORT = ["time.days=0.05"]
FAST = {"segregated_city": ["population.pedestrians=300"]}


@pytest.mark.parametrize("name", PRESETS)
def test_preset_runs(name: str) -> None:
    model = NeighbourhoodModel(load(path_of(name), SHORT + FAST.get(name, [])))
    metrics = model.run()
    assert metrics, f"{name}: no metrics"
    assert all(v is None or np.isfinite(v) for v in metrics.values() if not isinstance(v, str))
    if name == "no_cameras":
        assert metrics["footage.sightings"] == 0
        assert metrics["cameras.count"] == 0
    if name == "lapd_2016_promotion":
        assert len(model.adoption.officers) == model.params["promotion.officers"] > 0
