"""Sweep folders that are always resumable and never wrong, and sweeps that stop cleanly.

Kills are simulated at the exact moments that matter (an exception raised where a process
could die), and real signals are sent to a sweep's main process in a subprocess.
"""

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.runs.sweep as sweep_mod
from sim.runs import plots
from sim.runs.experiment import load_experiment
from sim.runs.outputs import is_temp
from sim.runs.sweep import Store, SweepError, plan, sweep
from sim.ui import cli

ROOT = Path(__file__).resolve().parents[1]
TINY = """
replications = {reps}
seed = 11
timeseries = {ts}

[factors]
"cameras.adoption" = [0.1, 0.4]

[overrides]
"time.days" = {days}
"population.pedestrians" = 200
"world.blocks_x" = 3
"world.blocks_y" = 3
"""
EXACT = ["run_id", "point", "replicate", "seed", "status", "param:cameras.adoption"]


class Killed(BaseException):
    """Stands for the process dying at this point (nothing after it runs)."""


def experiment(
    tmp_path: Path, reps: int = 3, ts: bool = True, name: str = "exp.toml", days: float = 0.1
) -> Path:
    """2 design points x ``reps``; about 0.01 s a run (0.4 s with ``days=3``)."""
    path = tmp_path / name
    body = TINY.format(reps=reps, ts=str(ts).lower(), days=days)
    path.write_text(f'base = "{ROOT / "scenarios/default.toml"}"\n' + body)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted sweep of the tiny experiment (6 runs, time series kept)."""
    tmp = tmp_path_factory.mktemp("reference")
    path = experiment(tmp)
    sweep(load_experiment(path), tmp / "out", chunk_size=1)
    return Store(tmp / "out").runs_table()


def same_runs(folder: Path, reference: pd.DataFrame) -> None:
    """The folder's runs equal the reference: ids, seeds, status exactly, metrics within
    tolerance; no run twice on disk (across batch files); every run's time series there;
    no temporary or uncommitted file left."""
    store = Store(folder)
    on_disk = pd.concat(pd.read_parquet(f) for f in store.batches())
    assert on_disk["run_id"].is_unique, "a run written twice"
    got = store.runs_table()
    pd.testing.assert_frame_equal(got[EXACT], reference[EXACT])
    metrics = [c for c in reference.columns if c not in (*EXACT, "error", "wall_seconds", "host")]
    assert metrics
    np.testing.assert_allclose(
        got[metrics].to_numpy(float), reference[metrics].to_numpy(float), rtol=1e-9
    )
    runs_files = sorted(p.name for p in store.batches())
    ts_files = sorted(p.name for p in store.ts_dir.glob("*.parquet"))
    assert ts_files == runs_files, "a time series without its runs file, or the reverse"
    series = pd.concat(pd.read_parquet(store.ts_dir / f) for f in ts_files)
    assert set(series["run_id"]) == set(got["run_id"])
    left = [p for d in (folder, store.runs_dir, store.ts_dir) for p in d.iterdir() if is_temp(p)]
    assert not left
    assert json.loads((folder / "manifest.json").read_text())["finished"]


# ----------------------------------------------------------------------- preparing a folder


def old_half_prepared(folder: Path, exp) -> None:
    """What the previous version left when killed after design.parquet, before the manifest."""
    (folder / "runs").mkdir(parents=True)
    sweep_mod.write_parquet(folder / "design.parquet", sweep_mod._design_table(exp))


def killed_after_runs_dir(folder: Path, exp) -> None:
    (folder / "runs").mkdir(parents=True)


def killed_writing_manifest(folder: Path, exp) -> None:
    folder.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    name = f".manifest.json.tmp-{socket.gethostname()}-{dead.pid}-abcdef"
    (folder / name).write_text('{"design_ha')
    live = f".manifest.json.tmp-{socket.gethostname()}-{os.getpid()}-abcdef"
    (folder / live).write_text('{"design_ha')  # a shard preparing the folder right now


@pytest.mark.parametrize(
    "state", [old_half_prepared, killed_after_runs_dir, killed_writing_manifest]
)
def test_a_half_prepared_folder_of_the_same_design_resumes(tmp_path, reference, state):
    exp = load_experiment(experiment(tmp_path))
    state(tmp_path / "out", exp)
    live = tmp_path / "out" / f".manifest.json.tmp-{socket.gethostname()}-{os.getpid()}-abcdef"
    sweep(exp, tmp_path / "out", chunk_size=2)
    if state is killed_writing_manifest:
        live.unlink()  # (kept: its writer is alive)
    same_runs(tmp_path / "out", reference)


def test_a_sweep_killed_right_after_preparing_resumes(tmp_path, reference, monkeypatch):
    exp = load_experiment(experiment(tmp_path))

    def die(self):
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(Store, "done", die)
        with pytest.raises(Killed):
            sweep(exp, tmp_path / "out")
    assert (tmp_path / "out/manifest.json").exists()
    sweep(exp, tmp_path / "out", chunk_size=2)
    same_runs(tmp_path / "out", reference)


def test_folders_that_are_not_this_designs_are_still_refused(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="not a sweep's results"):
        sweep(exp, foreign)
    other = load_experiment(experiment(tmp_path, name="other.toml", reps=3))
    other.points[1] = {"cameras.adoption": 0.9}  # another design table
    old_half_prepared(tmp_path / "half", other)
    with pytest.raises(SweepError, match="another experiment"):
        sweep(exp, tmp_path / "half")
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_shards_preparing_one_new_folder_at_once_agree(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    errors, start = [], threading.Barrier(8)

    def prepare():
        try:
            start.wait()
            Store(tmp_path / "out").prepare(exp)
        except Exception as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=prepare) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Store(tmp_path / "out").manifest()["design_hash"] == exp.design_hash()
    assert not [p for p in (tmp_path / "out").iterdir() if is_temp(p)]


# ----------------------------------------------------------------------- committing a chunk


def test_killed_between_a_chunks_time_series_and_its_runs_file(tmp_path, reference, monkeypatch):
    exp = load_experiment(experiment(tmp_path))
    out = tmp_path / "out"
    written = []
    real = sweep_mod._write_table

    def write(path, columns, floats=frozenset()):
        if path.parent.name == "runs" and len(written) == 2:
            raise Killed  # the chunk's time series is on disk, its runs file is not
        real(path, columns, floats)
        if path.parent.name == "runs":
            written.append(path.name)

    with monkeypatch.context() as m:
        m.setattr(sweep_mod, "_write_table", write)
        with pytest.raises(Killed):
            sweep(exp, out, chunk_size=2)
    assert len(list((out / "timeseries").glob("*.parquet"))) == 3
    assert len(Store(out).batches()) == 2
    # and a temporary file left by a process killed while writing
    (out / "runs" / ".batch-0123456789ab-2.parquet.tmp-host-99-abcdef").write_bytes(b"PAR1")
    counts = sweep(exp, out, chunk_size=2)
    assert counts["skipped"] == 4 and counts["ran"] == 2
    same_runs(out, reference)


def test_a_corrupt_or_incomplete_runs_file_is_redone(tmp_path, reference):
    exp = load_experiment(experiment(tmp_path))
    out = tmp_path / "out"
    sweep(exp, out, chunk_size=2)
    first, second, third = Store(out).batches()
    first.write_bytes(first.read_bytes()[: first.stat().st_size // 2])  # truncated
    second.write_bytes(b"")  # empty under its final name
    (out / "timeseries" / third.name).unlink()  # a runs file without its time series
    counts = sweep(exp, out, chunk_size=2)
    assert counts["ran"] == 6 and counts["set_aside"] == 3
    aside = sorted(p.name for p in (out / "runs").iterdir() if not p.name.endswith(".parquet"))
    assert aside == sorted(
        [first.name + ".corrupt", second.name + ".corrupt", third.name + ".incomplete"]
    )
    same_runs(out, reference)


def test_a_full_disk_ends_in_one_line_and_the_folder_resumes(
    tmp_path, reference, monkeypatch, capsys
):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    real = sweep_mod.write_parquet
    calls = []

    def write(target, table):
        if target.parent.name in ("runs", "timeseries"):
            calls.append(target)
            if len(calls) > 3:  # the first chunk commits, the second chunk's runs file fails
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(target, table)

    args = ["sweep", str(path), "--out", str(out), "--quiet"]
    with monkeypatch.context() as m:
        m.setattr(sweep_mod, "write_parquet", write)
        status = cli.main(args)
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "No space left on device" in err and "rerun the same command" in err
    assert len(Store(out).batches()) == 1
    assert cli.main(args) == 0
    same_runs(out, reference)


def test_a_real_full_file_system_ends_in_one_line_and_the_folder_resumes(
    tmp_path, reference, capsys
):
    """The same on a small tmpfs, where this machine lets the tests mount one (as root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        args = ["sweep", str(experiment(tmp_path)), "--quiet", "--out"]
        status = cli.main([*args, str(disk / "out")])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1, err
        assert "No space left on device" in err
        shutil.copytree(disk / "out", tmp_path / "out")  # (moved to a disk with room)
    finally:
        subprocess.run(["umount", str(disk)], check=True)
    assert cli.main([*args, str(tmp_path / "out")]) == 0
    same_runs(tmp_path / "out", reference)


def test_an_unwritable_folder_is_one_line(tmp_path, monkeypatch, capsys):
    path = experiment(tmp_path)

    def refuse(target, data):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))

    monkeypatch.setattr(sweep_mod, "create_new", refuse)
    status = cli.main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Permission denied" in err, err


def test_a_sweep_with_failed_runs_exits_1_and_says_how_many(tmp_path, capsys):
    path = experiment(tmp_path, reps=1, ts=False)
    text = path.read_text().replace(
        '"cameras.adoption" = [0.1, 0.4]',
        # a lot wider than any street: that point's world has no home, its run fails
        '"world.home_spacing_m" = [18.0, 200.0]',
    )
    path.write_text(text)
    args = ["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]
    assert cli.main(args) == 1
    assert "0 already done, 2 run now, 1 failed" in capsys.readouterr().out
    assert cli.main(args) == 1  # the folder still holds a failed run
    assert "2 already done, 0 run now, 1 failed" in capsys.readouterr().out


def test_figures_are_never_half_written_under_their_names(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    t = np.arange(1, 4) * 60.0
    series = [
        {
            "time_min": t,
            "walker_minutes": t,
            "walker_minutes.a": t,
            "walking_time.a": t,
            "recorded_time.a": t / 2,
            "sightings": np.ones(3),
        }
    ]

    def fail(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m:
        m.setattr(Figure, "savefig", fail)
        with pytest.raises(OSError):
            plots.save_timeseries(series, ["a"], tmp_path / "timeseries.png")
    assert list(tmp_path.iterdir()) == []
    plots.save_timeseries(series, ["a"], tmp_path / "timeseries.png")
    assert [p.name for p in tmp_path.iterdir()] == ["timeseries.png"]
    assert (tmp_path / "timeseries.png").read_bytes()[:4] == b"\x89PNG"


# ----------------------------------------------------------------------- processes


def sweep_cmd(path: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "run.py"), "sweep", str(path), "--out", str(out), *extra]


def test_two_sweeps_into_one_folder_at_once_never_duplicate_a_run(tmp_path):
    path = experiment(tmp_path, reps=6, ts=False, days=3)  # runs long enough to overlap
    out = tmp_path / "out"
    cmd = sweep_cmd(path, out, "--quiet")
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    ran = [int(o.split(" run now")[0].rsplit(" ", 1)[1]) for o in outputs]
    assert sum(ran) == 12, outputs  # every run computed once, by one of them
    on_disk = pd.concat(pd.read_parquet(f) for f in Store(out).batches())
    assert on_disk["run_id"].is_unique and len(on_disk) == 12
    assert set(on_disk["run_id"]) == {r.run_id for r in plan(load_experiment(path))}


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            found[int(entry)] = (int(fields[1]), fields[0].decode())
    return found


def _descendants(pid: int) -> set[int]:
    table, found, grew = _processes(), {pid}, True
    while grew:
        new = {p for p, (parent, _) in table.items() if parent in found} - found
        found |= new
        grew = bool(new)
    return found - {pid}


def _alive(pids: set[int]) -> set[int]:
    table = _processes()
    return {p for p in pids if p in table and table[p][1] != "Z"}


def _start_long_sweep(tmp_path: Path, *extra: str):
    """A sweep with --workers 2 long enough to be running; returns it once a chunk is
    committed, with its worker processes (every descendant: forkserver, workers, tracker)."""
    path = experiment(tmp_path, reps=40, ts=False, days=3)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        sweep_cmd(path, out, "--quiet", "--workers", "2", *extra),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not list((out / "runs").glob("batch-*")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)
    children = _descendants(proc.pid)
    assert children, "the sweep has no workers"
    return proc, children, out


def _assert_all_gone(children: set[int]) -> None:
    deadline = time.monotonic() + 30
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(children), "workers outlived the sweep"


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@needs_proc
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_a_signal_to_the_main_process_leaves_no_worker(tmp_path, sig):
    proc, children, out = _start_long_sweep(tmp_path)
    number = getattr(signal, sig)
    os.kill(proc.pid, number)
    _, err = proc.communicate(timeout=120)
    _assert_all_gone(children)
    done = len(Store(out).runs_table())
    assert 0 < done < 80
    if number == signal.SIGKILL:
        assert proc.returncode == -number
    else:
        assert proc.returncode == 128 + number
        assert err == f"interrupted: {done} of 80 runs done; rerun the same command to resume\n"


@needs_proc
def test_a_worker_killed_from_outside_ends_the_sweep_in_one_line(tmp_path):
    proc, children, out = _start_long_sweep(tmp_path)
    table = _processes()
    workers = [p for p in children if table.get(p, (None,))[0] in children]  # forkserver's
    assert workers
    os.kill(workers[0], signal.SIGKILL)  # as the out-of-memory killer does
    _, err = proc.communicate(timeout=120)
    _assert_all_gone(children)
    assert proc.returncode == 2
    assert err.startswith("error: a worker process was killed") and err.count("\n") == 1, err
    assert 0 < len(Store(out).runs_table()) < 80


@needs_proc
@pytest.mark.slow  # (a LocalCluster's start and close: about 15 s)
def test_ctrl_c_of_a_dask_sweep_is_one_line(tmp_path):
    pytest.importorskip("dask.distributed")
    proc, children, _ = _start_long_sweep(tmp_path, "--backend", "dask")
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=120)
    _assert_all_gone(children)
    assert proc.returncode == 130
    assert err.startswith("interrupted: ") and err.count("\n") == 1, err


def test_a_dask_sweep_with_no_worker_says_so_and_stops(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    exp = load_experiment(experiment(tmp_path, ts=False))
    with distributed.LocalCluster(
        n_workers=0, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        started = time.monotonic()
        with pytest.raises(SweepError, match="no worker connected to the scheduler for 2 s"):
            sweep(
                exp,
                tmp_path / "out",
                backend="dask",
                scheduler=cluster.scheduler_address,
                worker_timeout=2,
            )
        assert time.monotonic() - started < 60
