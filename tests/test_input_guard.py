"""Bad or huge input is refused before it costs anything: status 2, one line naming the key or
file and what is allowed (issue 25, parts 5 and 6). Most cases go through ``sim.ui.cli.main`` in
this process; a few through the real command line."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.model.model import NeighbourhoodModel
from sim.runs import limits
from sim.scenario.scenario import Scenario, ScenarioError, load
from sim.ui import cli
from sim.world import world

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "default.toml"
TINY = [
    "--set",
    "time.days=0.01",
    "--set",
    "population.pedestrians=10",
    "--set",
    "world.blocks_x=2",
    "--set",
    "world.blocks_y=2",
]
QUICK_S = 60  # a refusal is immediate; this only catches work done before it


def refused(capsys, *argv) -> str:
    """Run the command line in this process; assert status 2 and one ``error:`` line."""
    capsys.readouterr()
    started = time.perf_counter()
    rc = cli.main([str(a) for a in argv])
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert rc == 2, (rc, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert out == ""
    assert elapsed < QUICK_S
    return lines[0]


@pytest.fixture
def plenty_of_memory(monkeypatch):
    """The machine as the estimates see it: 16 GB available (so results do not depend on the
    machine the tests run on)."""
    monkeypatch.setattr(limits, "available_mb", lambda: 16 * 1024.0)


# --------------------------------------------------------------------------- scenario files

DEEP = 500


def _fifo(folder: Path) -> Path:
    path = folder / "fifo.toml"
    os.mkfifo(path)
    return path


SCENARIO_FILES = {
    # name: (make the file in a folder, text expected in the message)
    "nested-500": (
        lambda d: _text(d, "seed = " + "[" * DEEP + "]" * DEEP + "\n"),
        ["nested 500 deep", "at most 16"],
    ),
    "nested-inline-tables": (
        lambda d: _text(d, "[population]\ngroups = " + "{a = " * 40 + "1" + "}" * 40 + "\n"),
        ["nested 40 deep"],
    ),
    "deep-dotted-key": (
        lambda d: _text(d, "a" + ".a" * 5000 + " = 1\n"),
        ["dotted key of 5001 parts", "at most 16"],
    ),
    "deep-table-header": (
        lambda d: _text(d, "[" + ".".join(["t"] * 100) + "]\nx = 1\n"),
        ["dotted key of 100 parts"],
    ),
    "over-a-megabyte": (
        lambda d: _text(d, "# padding\n" * 110_000 + "seed = 2\n"),
        ["larger than 1,000,000 bytes"],
    ),
    "folder": (lambda d: d, ["a folder", "must be a regular file"]),
    "fifo": (_fifo, ["not a regular file"]),
    "missing": (lambda d: d / "nope.toml", ["no such scenario file"]),
    "seed-float": (lambda d: _text(d, "seed = 1.0\n"), ["seed = 1.0", "an integer"]),
    "seed-bool": (lambda d: _text(d, "seed = true\n"), ["seed = true", "an integer"]),
    "blocks-float": (
        lambda d: _text(d, "[world]\nblocks_x = 4.0\n"),
        ["world.blocks_x = 4.0", "an integer"],
    ),
    "profile-1e308": (
        lambda d: _text(
            d,
            "[population.departure_profile]\nresident = [1e308" + ", 1" * 23 + "]\n",
        ),
        ["population.departure_profile.resident", "at most 1e+06"],
    ),
    "profile-subnormal": (
        lambda d: _text(
            d, "[incidents.profile]\nburglary = [" + ", ".join(["5e-324"] * 24) + "]\n"
        ),
        ["incidents.profile.burglary", "not all zero"],
    ),
    "shares-off-by-1e-5": (
        lambda d: _text(d, "[population]\ngroups = {a = 0.7, b = 0.30001}\n"),
        ["population.groups", "sum to 1"],
    ),
    "graphml-path-with-nul": (
        lambda d: _text(d, '[world]\nkind = "graphml"\ngraphml = "a\\u0000b"\n'),
        ["world.graphml", "no NUL"],
    ),
    "area-min-above-max": (
        lambda d: _text(d, "[requests]\nmin_area_sq_mi = 0.6\nmax_area_sq_mi = 0.4\n"),
        ["requests.min_area_sq_mi = 0.6", "requests.max_area_sq_mi = 0.4"],
    ),
    "area-min-above-regime-max": (
        lambda d: _text(d, '[requests]\nregime = "rfa"\nmin_area_sq_mi = 0.6\n'),
        ["requests.min_area_sq_mi = 0.6", "rfa regime"],
    ),
    "window-min-above-max": (
        lambda d: _text(d, "[requests]\nmin_window_minutes = 800\nmax_window_hours = 12\n"),
        ["requests.min_window_minutes = 800", "requests.max_window_hours = 12"],
    ),
}


def _text(folder: Path, text: str) -> Path:
    path = folder / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", list(SCENARIO_FILES))
def test_bad_scenario_file_is_refused_in_one_line(tmp_path, capsys, case):
    make, expected = SCENARIO_FILES[case]
    scenario = make(tmp_path)
    out = tmp_path / "out"
    line = refused(capsys, "run", scenario, "--out", out, "--quiet", *TINY)
    for text in expected:
        assert text in line, (text, line)
    assert not out.exists()


def test_dev_zero_is_refused_without_reading_it(capsys):
    line = refused(capsys, "run", "/dev/zero", "--quiet")
    assert "/dev/zero: not a regular file" in line


def test_valid_nesting_and_dots_in_strings_and_comments_pass(tmp_path):
    """The pre-parse scan skips strings and comments: brackets and dots there do not count."""
    path = _text(
        tmp_path,
        "# [[[[[[[[[[[[[[[[[[[[[[[[[[ a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s\n"
        'world.graphml = "x[[[[[[[[[[[[[[[[[[[[\\".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r"\n'
        "population.departure_profile.resident = [" + ", ".join(["1.5"] * 24) + "]\n",
    )
    params = load(path)
    assert params["world.graphml"].startswith("x[[[")
    assert params["population.departure_profile.resident"] == [1.5] * 24


# --------------------------------------------------------------------------- --set values

SET_CASES = {
    "newline": ("cameras.adoption=0.3\ntime.days=2", ["--set cameras.adoption", "line break"]),
    "carriage-return": ("time.days=2\r", ["--set time.days", "line break"]),
    "nested": ("population.groups=" + "[" * 300 + "]" * 300, ["population.groups", "nested"]),
    "too-long": ("world.graphml=" + "x" * 20_000, ["world.graphml", "at most 10,000"]),
    "seed-float": ("seed=3.0", ["seed = 3.0", "an integer"]),
    "profile-inf": (
        "population.departure_profile.visitor=[inf" + ", 1" * 23 + "]",
        ["population.departure_profile.visitor"],
    ),
    "window-min-above-max": (
        "requests.min_window_minutes=60",
        ["requests.min_window_minutes = 60", "requests.max_window_hours"],
    ),
    "correction-without-incident-allocation": (
        "police.discovery_correction=true",
        ["police.discovery_correction = true", "police.allocation = 'incidents'", "'posts'"],
    ),
}


@pytest.mark.parametrize("case", list(SET_CASES))
def test_bad_set_value_is_refused_in_one_line(tmp_path, capsys, case):
    item, expected = SET_CASES[case]
    extra = ["--set", "requests.max_window_hours=0.5"] if case.startswith("window") else []
    out = tmp_path / "out"
    line = refused(capsys, "run", DEFAULT, "--out", out, "--quiet", *TINY, *extra, "--set", item)
    for text in expected:
        assert text in line, (text, line)
    assert not out.exists()


def test_a_bare_set_word_with_many_dots_is_a_string():
    """Dotted keys are limited in files; a --set value is never a key (a bare word is a
    string), so a file name with many dots passes."""
    name = ".".join("abcdefghijklmnopqrstuvwxyz") + ".graphml"
    # (a path typed on the command line is made absolute against the working directory)
    assert load(DEFAULT, [f"world.graphml={name}"])["world.graphml"] == str(Path(name).resolve())


def test_a_set_value_with_a_newline_never_applies_half_of_it():
    with pytest.raises(ScenarioError, match="line break"):
        load(DEFAULT, ["time.days=1\nseed=99"])


# --------------------------------------------------------------------------- shares


@pytest.mark.parametrize(
    "overrides",
    [
        {"population.groups": {"a": 0.7, "b": 0.3000005}},
        {"population.groups": {"a": 0.7, "b": 0.2999995}},
        {"cameras.mix.doorbell": 0.6500005},
        {"population.kinds.resident": 0.75 - 5e-7},
        {"reporting.alert_settings.muted": 0.15 + 5e-7},
    ],
    ids=["groups-over", "groups-under", "camera-mix", "kinds", "alert-settings"],
)
def test_shares_within_the_tolerance_are_rescaled_and_run(overrides):
    """Shares summing to 1 +- 5e-7 pass validation; the samplers accept only about 1.5e-8,
    so validation rescales them, and the model runs (it crashed in rng.choice)."""
    params = Scenario().replace(
        {
            **overrides,
            "population.pedestrians": 50,
            "world.blocks_x": 2,
            "world.blocks_y": 2,
            "time.days": 0.01,
            "cameras.adoption": 0.5,
        }
    )
    groups = list(params["population.groups"].values())
    assert math.fsum(groups) == pytest.approx(1.0, abs=1e-12)
    for prefix in ("cameras.mix.", "population.kinds.", "reporting.alert_settings."):
        total = math.fsum(v for k, v in params.items() if k.startswith(prefix))
        assert total == pytest.approx(1.0, abs=1e-12)
    NeighbourhoodModel(params, rng=3).run()
    first = next(iter(params["population.groups"].values()))
    assert first == pytest.approx(0.7, rel=1e-5)


def test_rescaled_shares_are_stable_when_written_and_read_back(tmp_path):
    params = Scenario().replace({"population.groups": {"a": 0.1, "b": 0.2, "c": 0.7000004}})
    path = tmp_path / "again.toml"
    path.write_text(params.to_toml(), encoding="utf-8")
    assert load(path)["population.groups"] == params["population.groups"]


def test_rule_minimum_below_the_regime_maximum_is_accepted():
    params = Scenario().replace({"requests.regime": "portal", "requests.min_area_sq_mi": 0.6})
    assert params["requests.min_area_sq_mi"] == pytest.approx(0.6)


# --------------------------------------------------------------------------- GraphML


def graphml(nodes, edges, crs: str | None = "epsg:32611") -> bytes:
    """A GraphML street graph: nodes as (id, x, y), edges as (u, v, length or None)."""
    parts = [
        '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
        '<key id="crs" for="graph" attr.name="crs" attr.type="string"/>',
        '<key id="x" for="node" attr.name="x" attr.type="string"/>',
        '<key id="y" for="node" attr.name="y" attr.type="string"/>',
        '<key id="length" for="edge" attr.name="length" attr.type="string"/>',
        '<graph edgedefault="undirected">',
    ]
    if crs is not None:
        parts.append(f'<data key="crs">{crs}</data>')
    for n, x, y in nodes:
        parts.append(f'<node id="{n}"><data key="x">{x}</data><data key="y">{y}</data></node>')
    for u, v, length in edges:
        data = "" if length is None else f'<data key="length">{length}</data>'
        parts.append(f'<edge source="{u}" target="{v}">{data}</edge>')
    parts.append("</graph></graphml>")
    return "".join(parts).encode()


def grid(n: int = 5, step: float = 100.0, length=None, x0: float = 0.0, scale: float = 1.0):
    """An n x n grid of streets ``step`` apart (coordinates times ``scale``)."""
    nodes = [
        (f"{i}_{j}", x0 + i * step * scale, j * step * scale) for i in range(n) for j in range(n)
    ]
    edges = []
    for i in range(n):
        for j in range(n):
            if i + 1 < n:
                edges.append((f"{i}_{j}", f"{i + 1}_{j}", length))
            if j + 1 < n:
                edges.append((f"{i}_{j}", f"{i}_{j + 1}", length))
    return nodes, edges


def star(spokes: int, radius: float = 100.0):
    nodes = [("c", 0.0, 0.0)] + [
        (
            f"s{k}",
            radius * math.cos(2 * math.pi * k / spokes),
            radius * math.sin(2 * math.pi * k / spokes),
        )
        for k in range(spokes)
    ]
    return nodes, [("c", f"s{k}", radius) for k in range(spokes)]


def _with(nodes_edges, node=None, edge=None, crs="epsg:32611"):
    nodes, edges = nodes_edges
    if node is not None:
        nodes = [node, *nodes[1:]]
    if edge is not None:
        edges = [edge, *edges[1:]]
    return graphml(nodes, edges, crs)


GRAPHML_CASES = {
    # name: (file content, text expected in the message)
    "nan-coordinate": (_with(grid(), node=("0_0", "nan", 0.0)), ["node 0_0", "finite"]),
    "inf-coordinate": (_with(grid(), node=("0_0", 0.0, "inf")), ["node 0_0", "finite"]),
    "lonlat-crs-on-metres": (
        graphml(*grid(x0=500_000.0), crs="epsg:4326"),
        ["longitude/latitude", "[-180, 180]"],
    ),
    "absurd-extent": (graphml(*grid(scale=1e6)), ["span", "at most 100,000 m"]),
    "streets-of-1e8-m": (graphml(*grid(length=1e8)), ["length 100000000.0", "[0, 20,000]"]),
    "nan-length": (_with(grid(), edge=("0_0", "1_0", "nan")), ["length nan", "finite"]),
    "negative-length": (_with(grid(), edge=("0_0", "1_0", "-5")), ["length -5"]),
    "text-length": (_with(grid(), edge=("0_0", "1_0", "long")), ["length long"]),
    "star-of-2000-spokes": (graphml(*star(2000)), ["km of streets", "per km2"]),
    "not-graphml": (b"hello\n", ["cannot read it as GraphML"]),
}


@pytest.mark.parametrize("case", list(GRAPHML_CASES))
def test_bad_graphml_is_refused_in_one_line(tmp_path, capsys, case):
    content, expected = GRAPHML_CASES[case]
    path = tmp_path / "streets.graphml"
    path.write_bytes(content)
    out = tmp_path / "out"
    line = refused(
        capsys,
        "run",
        DEFAULT,
        "--out",
        out,
        "--quiet",
        *TINY,
        "--set",
        'world.kind="graphml"',
        "--set",
        f"world.graphml={path}",
    )
    assert line.startswith(f"error: world.graphml: {path}")
    for text in expected:
        assert text in line, (text, line)
    assert not out.exists()


def test_a_good_generated_graphml_passes_the_checks(tmp_path):
    """The checks' limits leave real street graphs alone (the fake files above differ from
    this one in one value each)."""
    path = tmp_path / "streets.graphml"
    path.write_bytes(graphml(*grid()))
    g = world.load_graphml(path)
    assert g.number_of_nodes() == 25 and g.number_of_edges() == 40
    assert g.size(weight="length") == pytest.approx(4000.0)


@pytest.mark.parametrize(
    ("special", "expected"),
    [(lambda d: d, "a folder"), (lambda d: Path("/dev/zero"), "not a regular file")],
    ids=["folder", "dev-zero"],
)
def test_graphml_that_is_no_regular_file_is_refused(tmp_path, special, expected):
    with pytest.raises(ScenarioError, match=expected):
        world.load_graphml(special(tmp_path))


def test_graphml_size_limits(tmp_path, monkeypatch):
    path = tmp_path / "streets.graphml"
    path.write_bytes(graphml(*grid()))
    monkeypatch.setattr(world, "MAX_GRAPHML_NODES", 10)
    with pytest.raises(ScenarioError, match="25 nodes and 40 edges; at most 10 and"):
        world.load_graphml(path)
    monkeypatch.setattr(world, "MAX_GRAPHML_BYTES", 1000)
    with pytest.raises(ScenarioError, match="larger than 1,000 bytes"):
        world.load_graphml(path)


def test_hull_distance_in_chunks_equals_the_whole(monkeypatch):
    xy = np.random.default_rng(1).uniform(0, 1000, size=(400, 2))
    whole = world._distance_to_hull(xy)
    monkeypatch.setattr(world, "HULL_CHUNK", 7)
    assert np.array_equal(world._distance_to_hull(xy), whole)


# --------------------------------------------------------------------------- output paths


def _out_cases(tmp: Path) -> dict[str, tuple[list, str]]:
    a_file = tmp / "a_file"
    a_file.write_text("x")
    full = tmp / "full"
    full.mkdir()
    (full / "keep.txt").write_text("precious")
    results = tmp / "results"
    results.mkdir()
    run = ["run", DEFAULT, "--quiet", *TINY, "--out"]
    cases = {
        "run-at-a-file": ([*run, a_file], "exists and is not a folder"),
        "run-under-a-file": ([*run, a_file / "sub"], "is not a folder"),
        "run-at-dev-null": ([*run, "/dev/null"], "exists and is not a folder"),
        "run-not-empty": ([*run, full], "already exists and is not empty"),
        "sweep-at-a-file": (
            ["sweep", ROOT / "experiments" / "promotion.toml", "--out", a_file],
            "exists and is not a folder",
        ),
        "sweep-under-a-file": (
            ["sweep", ROOT / "experiments" / "promotion.toml", "--out", a_file / "x"],
            "is not a folder",
        ),
        "report-at-dev-null": (["report", results, "--out", "/dev/null"], "not a folder"),
        "validate-under-a-file": (["validate", "--out", a_file / "v"], "is not a folder"),
        "calibrate-preset-folder": (
            ["calibrate", results, "--preset", full],
            "exists and is not a regular file",
        ),
        "calibrate-results-a-file": (["calibrate", a_file], "exists and is not a folder"),
    }
    if Path("/proc/self").is_dir():  # a folder where nothing can be made, even by root
        cases["run-unwritable"] = ([*run, "/proc/ringsim-test/out"], "cannot write there")
    return cases


OUT_CASES = [
    "run-at-a-file",
    "run-under-a-file",
    "run-at-dev-null",
    "run-not-empty",
    "sweep-at-a-file",
    "sweep-under-a-file",
    "report-at-dev-null",
    "validate-under-a-file",
    "calibrate-preset-folder",
    "calibrate-results-a-file",
    "run-unwritable",
]


@pytest.mark.parametrize("case", OUT_CASES)
def test_bad_output_path_is_refused_before_any_work(tmp_path, capsys, case):
    cases = _out_cases(tmp_path)
    if case not in cases:
        pytest.skip("no /proc on this system")
    argv, expected = cases[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    line = refused(capsys, *argv)
    assert expected in line, line
    assert ("--out" in line) or ("--preset" in line) or ("results" in line)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing made, nothing lost
    assert (tmp_path / "full" / "keep.txt").read_text() == "precious"


# --------------------------------------------------------------------------- experiments


def _experiment(tmp: Path, body: str, base: str | None = None) -> Path:
    path = tmp / "exp.toml"
    base = base if base is not None else f'"{DEFAULT}"'
    path.write_text(f"base = {base}\n{body}", encoding="utf-8")
    return path


def _values(n: int) -> str:
    return "[" + ", ".join(repr(i / n) for i in range(n)) + "]"


EXPERIMENT_CASES = {
    "base-nul": ("[factors]\n'requests.opt_out' = [0.0]\n", '"\\u0000"', ["base = "]),
    "mixed-factor": (
        "[factors]\n'requests.max_window_hours' = ['regime', 12]\n",
        None,
        ["factors.requests.max_window_hours", "mix float and str"],
    ),
    "nested": ("[factors]\n'requests.opt_out' = " + "[" * 600 + "]" * 600 + "\n", None, ["nested"]),
    "2.56e10-points": (
        "[factors]\n"
        + "".join(
            f"'{k}' = {_values(400)}\n"
            for k in ("requests.opt_out", "cameras.adoption", "feed.app_share", "legal.compliance")
        ),
        None,
        ["25,600,000,000 design points", "at most 1,000,000 runs"],
    ),
    "million-sample-sobol": (
        "[design]\nkind = 'sobol'\nsamples = 1000000\n"
        "[factors]\n'reporting.bias' = { min = 1.0, max = 3.0 }\n",
        None,
        ["3,145,728 design points", "design.samples"],
    ),
    "many-replications": (
        "replications = 100000\n[factors]\n'requests.opt_out' = " + _values(1000) + "\n",
        None,
        ["100,000,000 runs", "replications"],
    ),
    "seed-float": ("seed = 1.0\n[factors]\n'requests.opt_out' = [0.0]\n", None, ["seed = 1.0"]),
}


@pytest.mark.parametrize("case", list(EXPERIMENT_CASES))
def test_bad_experiment_is_refused_at_load(tmp_path, capsys, case):
    body, base, expected = EXPERIMENT_CASES[case]
    exp = _experiment(tmp_path, body, base)
    out = tmp_path / "out"
    line = refused(capsys, "sweep", exp, "--out", out, "--quiet")
    for text in expected:
        assert text in line, (text, line)
    assert not out.exists(), "a refused experiment must leave no folder behind"


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["population.pedestrians=50000000"], "50,000,000 pedestrians (population.pedestrians"),
        (["world.blocks_x=1000", "world.blocks_y=1000"], "14,414,400 homes"),
    ],
    ids=["50-million-pedestrians", "1000x1000-blocks"],
)
def test_huge_world_is_refused_before_building(
    tmp_path, capsys, plenty_of_memory, overrides, expected
):
    sets = [a for o in overrides for a in ("--set", o)]
    out = tmp_path / "out"
    line = refused(capsys, "run", DEFAULT, "--out", out, "--quiet", *sets)
    assert expected in line
    assert "16 GB this machine has available" in line
    assert "--force" in line
    assert not out.exists()


def test_a_billion_replications_are_refused(tmp_path, capsys, plenty_of_memory):
    line = refused(
        capsys, "run", DEFAULT, "--out", tmp_path / "o", "--quiet", "--replications", "1000000000"
    )
    assert "1,000,000,000 replications (--replications)" in line


def test_force_overrides_the_memory_estimate(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "available_mb", lambda: 1.0)
    argv = ["run", DEFAULT, "--quiet", *TINY]
    line = refused(capsys, *argv, "--out", tmp_path / "a")
    assert "1 MB this machine has available" in line
    assert cli.main([str(a) for a in [*argv, "--out", tmp_path / "b", "--force"]]) == 0
    assert (tmp_path / "b" / "metrics.json").exists()


def test_long_work_is_announced_with_its_estimate():
    assert limits.check("small", 100.0, 10.0, force=False) is None
    note = limits.check("big", 100.0, 3 * 3600.0, force=False)
    assert note.startswith("estimate: big: about 100 MB of memory and 3.0 h")


def test_available_memory_is_read_or_none():
    mb = limits.available_mb()
    assert mb is None or mb > 0


def test_grid_homes_estimate_is_close_to_the_built_world():
    params = Scenario().replace({"world.blocks_x": 12, "world.blocks_y": 8})
    built = world.build_world(params, np.random.default_rng(2)).homes.count
    assert limits.grid_homes(params) == pytest.approx(built, rel=0.15)


@pytest.mark.parametrize(
    ("blocks", "pedestrians", "days", "homes", "measured_mb"),
    [
        # README, Performance (peak of a process that builds and simulates a day; a week)
        ((72, 45), 200_000, 1.0, 50_386, 0.75 * 1024),
        ((162, 100), 1_000_000, 1.0, 249_864, 2.6 * 1024),
        ((162, 100), 1_000_000, 7.0, 249_864, 3.43 * 1024),
        # measured for the estimate (docs/performance.md, "Estimates before a run")
        ((20, 12), 1_000_000, 1.0, 3_896, 877),
        ((162, 100), 100_000, 1.0, 249_864, 1239),
    ],
)
def test_memory_estimate_matches_the_measured_peaks(blocks, pedestrians, days, homes, measured_mb):
    params = Scenario().replace(
        {
            "world.blocks_x": blocks[0],
            "world.blocks_y": blocks[1],
            "population.pedestrians": pedestrians,
            "time.days": days,
        }
    )
    est = limits.estimate(params, homes)
    assert est.memory_mb == pytest.approx(measured_mb, rel=0.2)


# --------------------------------------------------------------------------- real processes


def test_closed_pipe_ends_quietly():
    """`run.py explain | head -1`: the reader is gone before anything is written."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, str(ROOT / "run.py"), "explain"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
    finally:
        os.close(write)
    assert proc.returncode == cli.BROKEN_PIPE, proc.stderr
    assert proc.stderr == ""


def test_dev_zero_through_the_command_line():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "run", "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr
        == "error: /dev/zero: not a regular file; a scenario file must be a regular file\n"
    )


@pytest.mark.parametrize(
    ("kind", "samples", "factors"),
    [
        ("full_factorial", 16, {"requests.opt_out": [0.0, 0.5], "reporting.bias": [1.0, 2.0, 3.0]}),
        ("latin_hypercube", 7, {"reporting.bias": {"min": 1.0, "max": 3.0}}),
        ("sobol", 5, {"reporting.bias": {"min": 1.0, "max": 3.0}, "requests.opt_out": [0.0, 0.5]}),
        ("morris", 3, {"reporting.bias": {"min": 1.0, "max": 3.0}, "requests.opt_out": [0.0, 0.5]}),
    ],
)
def test_design_size_is_counted_exactly_before_the_design_is_made(tmp_path, kind, samples, factors):
    """The size refused before planning is the size planning would make."""
    if kind == "morris":
        pytest.importorskip("SALib")
    from sim.runs.experiment import design_size, load_experiment
    from sim.scenario.scenario import toml_value

    lines = [f"[design]\nkind = '{kind}'\nsamples = {samples}\n[factors]"]
    for key, spec in factors.items():
        if isinstance(spec, dict):
            lines.append(f"'{key}' = {{ min = {spec['min']}, max = {spec['max']} }}")
        else:
            lines.append(f"'{key}' = {toml_value(spec)}")
    exp = load_experiment(_experiment(tmp_path, "\n".join(lines) + "\n"))
    assert design_size(exp.kind, exp.samples, exp.factors) == len(exp.points)
