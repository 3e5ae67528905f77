"""Cluster paths as the README writes them: a SLURM job array of shards into one folder, and
``--backend slurm`` (dask-jobqueue) with a LocalCluster in the place of SLURM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.runs import sweep as sweep_module
from sim.runs.experiment import load_experiment
from sim.runs.sweep import Store, sweep
from sim.ui.cli import main

ROOT = Path(__file__).resolve().parents[1]
ARRAY_SCRIPT = ROOT / "experiments" / "slurm_array.sh"
EXPERIMENT = f"""base = "{ROOT / "scenarios/default.toml"}"
replications = 2
seed = 11
common_random_numbers = true
metrics = ["coverage.street_fraction", "reports.total"]

[design]
kind = "full_factorial"

[factors]
"cameras.adoption" = [0.1, 0.3, 0.5]

[overrides]
"time.days" = 0.1
"population.pedestrians" = 200
"world.blocks_x" = 3
"world.blocks_y" = 3
"""


def runs(folder: Path) -> pd.DataFrame:
    table = Store(folder).runs_table()
    return table.drop(columns=["wall_seconds", "host"]).reset_index(drop=True)


@pytest.fixture
def experiment(tmp_path) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT)
    return path


def test_slurm_array_recipe_runs_as_written(experiment, tmp_path):
    """Three array tasks started at the same moment into a new folder (as SLURM starts them),
    each running experiments/slurm_array.sh, then the report: every run once."""
    out = tmp_path / "shared"
    tasks = []
    for task in (1, 2, 3):
        env = {
            **os.environ,
            "SLURM_ARRAY_TASK_ID": str(task),
            "SLURM_ARRAY_TASK_COUNT": "3",
            "SLURM_CPUS_PER_TASK": "1",
            "SLURM_SUBMIT_DIR": str(ROOT),
            "PYTHON": sys.executable,
        }
        tasks.append(
            subprocess.Popen(
                ["bash", str(ARRAY_SCRIPT), str(experiment), str(out)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in tasks:
        stdout, stderr = proc.communicate(timeout=900)  # a hang guard only
        assert proc.returncode == 0, stderr
        assert "runs in this shard" in stdout
    sharded = runs(out)
    assert len(sharded) == 6 and sharded["run_id"].is_unique
    assert (sharded["status"] == "ok").all()
    sweep(load_experiment(experiment), tmp_path / "one", workers=1)
    pd.testing.assert_frame_equal(sharded, runs(tmp_path / "one"))
    assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "summary.csv").is_file()


def test_array_script_refuses_to_run_outside_an_array(experiment, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    proc = subprocess.run(
        ["bash", str(ARRAY_SCRIPT), str(experiment), str(tmp_path / "out")],
        env={**env, "PYTHON": sys.executable, "SLURM_SUBMIT_DIR": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode != 0 and "not a SLURM array task" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_backend_slurm_runs_the_sweep_in_one_command(experiment, tmp_path, monkeypatch, capsys):
    """--backend slurm creates the cluster and runs the sweep in the same process; here a
    LocalCluster stands in for SLURM's jobs."""
    from dask.distributed import LocalCluster

    made = {}

    def local_in_place_of_slurm(jobs, options):
        made.update(jobs=jobs, options=options)
        return LocalCluster(
            n_workers=jobs, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
        )

    monkeypatch.setattr(sweep_module, "slurm_cluster", local_in_place_of_slurm)
    out = tmp_path / "slurm"
    code = main(
        [
            "sweep",
            str(experiment),
            "--backend",
            "slurm",
            "--workers",
            "2",
            "--slurm",
            "memory=2GB",
            "--slurm",
            "walltime=00:30:00",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert made == {"jobs": 2, "options": {"memory": "2GB", "walltime": "00:30:00"}}
    sweep(load_experiment(experiment), tmp_path / "local", workers=1)
    pd.testing.assert_frame_equal(runs(out), runs(tmp_path / "local"))


def test_slurm_cluster_writes_the_job_script_a_user_asked_for(monkeypatch):
    """The real dask-jobqueue SLURMCluster, its jobs not submitted: one core and one worker
    per job, the user's options in the #SBATCH lines, the dashboard on this node only."""
    pytest.importorskip("dask_jobqueue")
    from dask_jobqueue import SLURMCluster

    monkeypatch.setattr(SLURMCluster, "scale", lambda self, *a, **k: None)
    cluster = sweep_module.slurm_cluster(
        3, {"memory": "6GB", "walltime": "01:00:00", "account": "lab42", "interface": "lo"}
    )
    try:
        script = cluster.job_script()
        assert "#SBATCH --cpus-per-task=1" in script and "--nthreads 1" in script
        assert "#SBATCH -t 01:00:00" in script and "#SBATCH -A lab42" in script
        assert "#SBATCH --mem=6G" in script
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    finally:
        cluster.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slurm", "memory"], "--slurm 'memory': expected KEY=VALUE"),
        (["--slurm", "memory=2GB"], "--slurm goes with --backend slurm"),
    ],
)
def test_bad_slurm_options_are_one_line(experiment, tmp_path, capsys, args, message):
    backend = ["--backend", "slurm"] if args[1] == "memory" else []
    code = main(["sweep", str(experiment), *backend, *args, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
