"""Sweeps: resumable after a kill, identical on every backend and sharding, strict about input."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.runs.experiment import load_experiment
from sim.runs.sweep import Store, SweepError, sweep
from sim.scenario.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SMALL = """
"time.days" = 0.15
"population.pedestrians" = 300
"world.blocks_x" = 4
"world.blocks_y" = 3
"""


def experiment(tmp_path: Path, body: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'base = "{ROOT / "scenarios/default.toml"}"\n' + body)
    return path


FACTORIAL = (
    """
replications = 3
seed = 7
common_random_numbers = true
metrics = ["coverage.street_fraction", "reports.total", "footage.sightings"]

[design]
kind = "full_factorial"

[factors]
"cameras.adoption" = [0.1, 0.4]
"requests.opt_out" = [0.0, 0.5]

[overrides]
"""
    + SMALL
)


def table(folder: Path):
    df = Store(folder).runs_table()
    return df.drop(columns=["wall_seconds", "host"]).reset_index(drop=True)


def test_local_dask_and_shards_give_identical_runs(tmp_path):
    exp = load_experiment(experiment(tmp_path, FACTORIAL))
    sweep(exp, tmp_path / "local", workers=2)
    sweep(exp, tmp_path / "serial", workers=1)
    sweep(exp, tmp_path / "dask", backend="dask", workers=2)
    for i in (1, 2):
        sweep(exp, tmp_path / "shards", workers=1, shard=(i, 2))
    reference = table(tmp_path / "local")
    assert len(reference) == 12 and (reference["status"] == "ok").all()
    for other in ("serial", "dask", "shards"):
        assert table(tmp_path / other).equals(reference), other
    # common random numbers: the same seeds at every design point
    seeds = reference.pivot(index="replicate", columns="point", values="seed")
    assert (seeds.nunique(axis=1) == 1).all()
    manifest = json.loads((tmp_path / "local/manifest.json").read_text())
    assert manifest["finished"] and manifest["design_points"] == 4
    assert {"numpy", "mesa"} <= set(manifest["packages"]) and manifest["code_version"]


def test_a_killed_sweep_resumes_and_loses_nothing(tmp_path):
    body = FACTORIAL.replace("replications = 3", "replications = 6")
    path = experiment(tmp_path, body)
    out = tmp_path / "killed"
    cmd = [sys.executable, str(ROOT / "run.py"), "sweep", str(path), "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "runs").glob("batch-*"))) < 2:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    partial = table(out)
    assert 0 < len(partial) < 24, "the sweep must be killed mid-way"
    again = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=900
    )  # a hang guard only
    assert again.returncode == 0, again.stderr
    assert f"{len(partial)} already done" in again.stdout
    sweep(load_experiment(path), tmp_path / "whole")
    assert table(out).equals(table(tmp_path / "whole"))


def test_a_folder_of_another_design_is_refused(tmp_path):
    exp = load_experiment(experiment(tmp_path, FACTORIAL))
    sweep(exp, tmp_path / "out")
    other = load_experiment(
        experiment(tmp_path, FACTORIAL.replace("seed = 7", "seed = 8"), "other.toml")
    )
    with pytest.raises(SweepError, match="another design"):
        sweep(other, tmp_path / "out")


def test_failed_runs_are_recorded_and_the_sweep_goes_on(tmp_path):
    body = FACTORIAL.replace(
        '"requests.opt_out" = [0.0, 0.5]',
        '"world.kind" = ["grid", "graphml"]\n"world.graphml" = ["missing.graphml"]',
    )
    exp = load_experiment(experiment(tmp_path, body))
    counts = sweep(exp, tmp_path / "out")
    df = table(tmp_path / "out")
    assert counts["failed"] == 6 and len(df) == 12
    failed = df[df["status"] == "error"]
    assert (failed["param:world.kind"] == "graphml").all()
    assert failed["error"].str.contains("missing.graphml").all()
    assert df[df["status"] == "ok"]["coverage.street_fraction"].notna().all()


def test_sampled_designs_stay_in_range_and_are_reproducible(tmp_path):
    lhs = """
replications = 1
[design]
kind = "latin_hypercube"
samples = 20
[factors]
"reporting.bias" = { min = 1.0, max = 3.0 }
"legal.compliance" = { min = 0.1, max = 0.9, distribution = "loguniform" }
"requests.regime" = ["portal", "rfa"]
"""
    a = load_experiment(experiment(tmp_path, lhs))
    b = load_experiment(experiment(tmp_path, lhs, "again.toml"))
    assert a.points == b.points and len(a.points) == 20
    bias = np.array([p["reporting.bias"] for p in a.points])
    assert bias.min() >= 1 and bias.max() <= 3
    # a Latin hypercube puts one point in each of the 20 strata of every range
    assert sorted(np.floor((bias - 1) / 2 * 20).astype(int)) == list(range(20))
    assert {p["requests.regime"] for p in a.points} == {"portal", "rfa"}
    sobol = load_experiment(
        experiment(
            tmp_path,
            lhs.replace("latin_hypercube", "sobol").replace("samples = 20", "samples = 8"),
            "sobol.toml",
        )
    )
    assert len(sobol.points) == 8 * (3 + 2)  # Saltelli: N (d + 2) rows
    assert sobol.salib["salib_problem"]["num_vars"] == 3
    morris = load_experiment(
        experiment(
            tmp_path,
            lhs.replace("latin_hypercube", "morris").replace("samples = 20", "samples = 5"),
            "m.toml",
        )
    )
    assert len(morris.points) == 5 * (3 + 1)


BAD = {
    "unknown top key": (
        'replication = 3\n[factors]\n"cameras.adoption" = [0.1]\n',
        "did you mean 'replications'",
    ),
    "unknown factor": ('[factors]\n"camera.adoption" = [0.1]\n', "did you mean"),
    "value out of range": ('[factors]\n"cameras.adoption" = [0.1, 1.5]\n', "[0, 1]"),
    "range in a factorial": (
        '[factors]\n"cameras.adoption" = { min = 0.1, max = 0.5 }\n',
        "needs a list",
    ),
    "bad design": (
        '[design]\nkind = "grid"\n[factors]\n"cameras.adoption" = [0.1]\n',
        "design.kind",
    ),
    "min above max": (
        '[design]\nkind = "latin_hypercube"\n[factors]\n'
        '"cameras.adoption" = { min = 0.5, max = 0.1 }\n',
        "below max",
    ),
    "no factors": ("replications = 2\n", "at least one factor"),
    "bad override": (
        '[factors]\n"cameras.adoption" = [0.1]\n[overrides]\n"time.days" = -1\n',
        "time.days",
    ),
    "bad replications": (
        'replications = 0\n[factors]\n"cameras.adoption" = [0.1]\n',
        "replications",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_invalid_experiment_files_are_refused_in_one_line(tmp_path, case):
    body, expected = BAD[case]
    path = experiment(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert expected in str(info.value) and "\n" not in str(info.value)
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "sweep", str(path), "--out", str(tmp_path / "o")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error:")
    assert "Traceback" not in done.stderr and not (tmp_path / "o").exists()


def test_unknown_metric_is_refused_before_running(tmp_path):
    path = experiment(tmp_path, FACTORIAL.replace('"reports.total"', '"reports.totl"'))
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "sweep", str(path), "--out", str(tmp_path / "o")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "reports.totl" in done.stderr
    assert not (tmp_path / "o").exists()
