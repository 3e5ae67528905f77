"""Parameter sweeps: every (design point, replicate) of an experiment, on a local process
pool or a Dask cluster, into a resumable results folder.

The results folder:

* ``manifest.json``: the design and its hash, the root seed, code version, package versions,
  Python and platform, start and end (``finished``) times. Written first and in one step (under
  a temporary name, then hard-linked into place, which fails if it exists): of several shards
  preparing a new folder at once one creates it and the others check its hash. A folder with
  no manifest is accepted only if it holds nothing but what a sweep of the same design leaves
  when killed while preparing (empty ``runs/``, ``timeseries/``, the same ``design.parquet``).
* ``design.parquet``: one row per design point (``point`` and a column per factor);
* ``timeseries/batch-*.parquet`` when the experiment keeps time series: ``run_id`` and the
  columns of each run of a chunk, written *before* the chunk's runs file;
* ``runs/batch-*.parquet``: one file per finished chunk of runs, every file with the same
  columns and types (``RUN_COLUMNS``): ``run_id`` (a hash of the run's canonical spec; a
  design point that repeats an earlier one adds its position), ``point``, ``replicate``,
  ``seed``, ``status`` (ok or error), ``error`` (string, null when ok), ``wall_seconds``,
  ``host``, ``param:<key>`` for every factor (typed by the key's kind; prefixed because two
  scenario keys are also metric names), and a float64 column per metric (the experiment's
  ``metrics``, else every metric a run writes), null for a failed run or an undefined value.
  Written last, it commits the chunk: a run is done when its row is in a readable runs file
  (and, with time series, its chunk's time-series file exists);
* ``.lock``: POSIX record locks (the kernel drops them when a process ends, however it ends):
  byte 0 is held shared by every sweep working in the folder, byte 1 + k exclusively by the
  process computing run k of the plan, from its claim until its chunk is committed;
* ``*.parquet.corrupt``: runs files found unreadable (truncated, damaged), moved aside; their
  runs are redone. ``*.parquet.incomplete``: runs files without their time series (from older
  versions, which wrote the runs file first), moved aside and redone the same way;
* hidden ``.NAME.tmp-HOST-PID-TAG`` files: being written, or left by a killed process.

Every file is written to a temporary name and renamed, so a sweep killed at any moment loses
only the chunks in flight; running the same command again skips every run already committed
and does the rest. A sweep that finds no other sweep in the folder first tidies it: it removes
temporary files (those of the manifest and design only when their writer is gone: a shard may
be preparing the folder), time-series files of chunks never committed, and sets aside runs
files without their time series. Two sweeps in one folder (the same command started twice, or
overlapping shards) never compute the same run: each claims the runs it will do, does them,
then waits for the runs the other holds and does any its holder left undone (a holder that
died), so each ends when all its runs are committed, and no run is written twice.

A folder made by another design (another hash) is refused, not mixed. A run that raises is
recorded with status ``error`` and its message, and the sweep goes on (and ends with exit
status 1). A file that cannot be written (a full disk, a read-only folder) stops the sweep
with one line, the folder resumable. SIGINT or SIGTERM stop the workers at once and keep
every committed run; workers end by themselves within seconds when the main process dies
(even by SIGKILL). Each run's seed comes from the experiment's root seed and the run's
position, so the runs table is the same for every backend, worker count and sharding.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import platform
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.runs.draws import draws, overrides
from sim.runs.experiment import Experiment, run_id
from sim.runs.outputs import (
    atomic_write,
    clean_number,
    code_version,
    create_new,
    is_temp,
    os_error_reason,
    temp_owner,
    write_parquet,
)
from sim.runs.pool import WorkerDied, alive, run_tasks
from sim.runs.stats import metric_columns
from sim.scenario.scenario import Scenario
from sim.scenario.schema import BOOL, BY_KEY, CHOICE, FLOAT, INT, STR


class SweepError(ValueError):
    """A sweep cannot start or go on (the user's to fix; exit status 2)."""


class SweepInterrupted(Exception):
    """A sweep stopped by SIGINT or SIGTERM (its workers stopped, committed runs kept)."""

    def __init__(self, signum: int, done: int, total: int) -> None:
        self.status = 128 + signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM
        super().__init__(
            f"interrupted: {done} of {total} runs done; rerun the same command to resume"
        )


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run (picklable)."""

    run_id: str
    point: int
    replicate: int
    seed: int
    values: dict[str, Any]
    scenario: dict[str, Any]
    base_dir: str
    metrics: tuple[str, ...] | None
    timeseries: bool
    columns: tuple[str, ...] = ()  # metric columns of every row (the design's schema)


def plan(exp: Experiment, ensemble: Any = None) -> list[RunSpec]:
    """All runs of the experiment, in (point, replicate) order; every run id distinct.

    With ``ensemble`` (a table of ``sim.runs.draws.load_ensemble``), replicate r of every point
    runs with the calibrated parameters of the same accepted set (``sim.runs.draws.draws``),
    except the keys the experiment sets itself (its factors and overrides)."""
    runs = []
    seen: set[str] = set()
    scenarios = [exp.scenario(i) for i in range(len(exp.points))]
    columns = tuple(exp.metrics or metric_columns(scenarios))
    per_replicate: list[dict[str, Any]] = [{} for _ in range(exp.replications)]
    if ensemble is not None:
        own = [f.key for f in exp.factors] + list(exp.overrides)
        per_replicate = [overrides(d) for d in draws(ensemble, exp.replications, exp.seed, own)]
    for i, point_scenario in enumerate(scenarios):
        for r in range(exp.replications):
            scenario = point_scenario
            if per_replicate[r]:
                scenario = point_scenario.replace(per_replicate[r], origin="--ensemble")
            seed = exp.run_seed(i, r)
            rid = run_id(scenario, seed, exp.timeseries)
            if rid in seen:  # a duplicate design point: its own runs, keyed by position
                rid = run_id(scenario, seed, exp.timeseries, point=i)
            seen.add(rid)
            runs.append(
                RunSpec(
                    rid,
                    i,
                    r,
                    seed,
                    exp.points[i],
                    dict(scenario),
                    str(exp.base.parent),
                    tuple(exp.metrics) if exp.metrics else None,
                    exp.timeseries,
                    columns,
                )
            )
    return runs


def execute(spec: RunSpec) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
    """Run one simulation; never raises (a failure becomes a row with status error)."""
    from sim.model.model import (
        NeighbourhoodModel,  # deferred: mesa and numba, not for `run.py explain`
    )

    started = time.perf_counter()
    row: dict[str, Any] = {
        "run_id": spec.run_id,
        "point": spec.point,
        "replicate": spec.replicate,
        "seed": spec.seed,
    }
    row.update({f"param:{k}": v for k, v in spec.values.items()})
    row.update(dict.fromkeys(spec.columns))  # null until the run gives them (fixed schema)
    series = None
    try:
        params = Scenario(spec.scenario, origin="sweep", base_dir=Path(spec.base_dir))
        model = NeighbourhoodModel(params, rng=spec.seed)
        metrics = model.run()
        if spec.metrics:
            missing = [m for m in spec.metrics if m not in metrics]
            if missing:
                raise KeyError(f"unknown metric(s): {', '.join(missing)}")
            metrics = {m: metrics[m] for m in spec.metrics}
        row.update({k: clean_number(v) for k, v in metrics.items()})
        row.update(status="ok", error=None)
        if spec.timeseries:
            series = model.recorder.timeseries()
    except Exception as exc:  # a failed run is data, not the end of the sweep
        last = traceback.extract_tb(exc.__traceback__)[-1]
        row.update(
            status="error",
            error=f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})",
        )
    row["wall_seconds"] = round(time.perf_counter() - started, 4)
    row["host"] = socket.gethostname()
    return row, series


def execute_chunk(specs: list[RunSpec]) -> list[tuple[dict[str, Any], dict | None]]:
    return [execute(s) for s in specs]


# ---------------------------------------------------------------------------- results store


class Store:
    """A sweep's results folder (format: the module's docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.ts_dir = self.root / "timeseries"
        self.manifest_path = self.root / "manifest.json"
        self.timeseries = False  # whether committed chunks have a time-series file
        self.set_aside: list[str] = []  # runs files moved aside (unreadable or incomplete)
        self.failed: set[str] = set()  # committed runs with status error (after done())
        self._read: dict[str, tuple[tuple[int, int], list[str], list[str]]] = {}

    def prepare(self, exp: Experiment) -> None:
        """Create the folder, or check that it was made by this same design (idempotent, and
        safe for several processes at once)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not self.manifest_path.exists():
                self._adopt(exp)
                text = json.dumps(_environment(exp), indent=2, default=str) + "\n"
                with suppress(FileExistsError):  # another shard made it: checked below
                    create_new(self.manifest_path, text)
            old = self.manifest()
            if old.get("design_hash") != exp.design_hash():
                raise SweepError(
                    f"{self.root}: holds results of another design (hash "
                    f"{old.get('design_hash')}, this one {exp.design_hash()}); choose a new "
                    "--out folder"
                )
            design = self.root / "design.parquet"
            if not _same_design(design, exp):
                write_parquet(design, _design_table(exp))
            self.runs_dir.mkdir(exist_ok=True)
            if exp.timeseries:
                self.ts_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise SweepError(
                f"{self.root}: cannot write the results folder: {os_error_reason(exc)}"
            ) from None
        self.timeseries = exp.timeseries

    def _adopt(self, exp: Experiment) -> None:
        """Accept a folder without a manifest if it is empty or holds only what a sweep of
        this design leaves when killed while preparing it."""
        problem = None
        for entry in sorted(self.root.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.name in ("runs", "timeseries") and entry.is_dir():
                if all(p.name.startswith(".") for p in entry.iterdir()):
                    continue
            elif entry.name == "design.parquet" and entry.is_file():
                if _same_design(entry, exp) is not False:  # the same, or unreadable: rewritten
                    continue
                problem = "holds the design of another experiment"
                break
            problem = "exists, is not empty and is not a sweep's results"
            break
        if problem and not self.manifest_path.exists():  # (another shard may just have made it)
            raise SweepError(f"{self.root}: {problem}; choose a new --out folder")

    def manifest(self) -> dict[str, Any]:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SweepError(f"{self.manifest_path}: unreadable ({exc})") from None
        if not isinstance(data, dict):
            raise SweepError(f"{self.manifest_path}: not a sweep's manifest")
        return data

    def tidy(self) -> None:
        """Remove what killed sweeps left (only while no other sweep works in the folder):
        temporary files, time series of chunks never committed; set aside runs files whose
        time series is missing or unreadable, so that their runs are redone."""
        for folder in (self.runs_dir, self.ts_dir):  # written only by sweeps in the folder
            if folder.is_dir():
                for p in folder.iterdir():
                    if is_temp(p):
                        p.unlink(missing_ok=True)
        for p in self.root.iterdir():  # a sweep preparing the folder may be writing these
            if p.name.startswith((".manifest.json", ".design.")) and _abandoned(p):
                p.unlink(missing_ok=True)
        committed = {p.name for p in self.batches()}
        if self.ts_dir.is_dir():
            for p in self.ts_dir.glob("*.parquet"):
                if not p.name.startswith(".") and p.name not in committed:
                    p.unlink(missing_ok=True)
        if self.timeseries:
            for p in self.batches():
                if not _readable(self.ts_dir / p.name):
                    self._set_aside(p, ".incomplete")

    def done(self) -> set[str]:
        """Run ids committed so far (ok or error); ``failed`` holds those with an error. A
        runs file that cannot be read is moved aside (NAME.corrupt) and its runs not done."""
        ids: set[str] = set()
        self.failed = set()
        for f in self.batches():
            try:
                stat = f.stat()
                key = (stat.st_mtime_ns, stat.st_size)
                cached = self._read.get(f.name)
                if cached is None or cached[0] != key:
                    table = pq.read_table(f, columns=["run_id", "status"])
                    runs, status = (table.column(c).to_pylist() for c in ("run_id", "status"))
                    bad = [r for r, s in zip(runs, status, strict=True) if s != "ok"]
                    cached = self._read[f.name] = (key, runs, bad)
            except FileNotFoundError:
                continue  # set aside by another sweep a moment ago
            except (OSError, pa.ArrowException):
                self._set_aside(f, ".corrupt")
                continue
            ids.update(cached[1])
            self.failed.update(cached[2])
        return ids

    def _set_aside(self, path: Path, suffix: str) -> None:
        try:
            os.replace(path, path.with_name(path.name + suffix))
        except FileNotFoundError:
            return  # another sweep did it
        (self.ts_dir / path.name).unlink(missing_ok=True)
        self._read.pop(path.name, None)
        self.set_aside.append(path.name + suffix)

    def batches(self) -> list[Path]:
        """The committed runs files (temporary and set-aside files excluded)."""
        if not self.runs_dir.exists():
            return []
        return sorted(p for p in self.runs_dir.glob("*.parquet") if not p.name.startswith("."))

    def write_batch(self, results: list[tuple[dict, dict | None]]) -> None:
        """Commit a chunk: its time series first, then its runs file."""
        rows = [r for r, _ in results]
        name = f"batch-{rows[0]['run_id'][:12]}-{len(rows)}.parquet"
        series = [(r["run_id"], ts) for r, ts in results if ts is not None]
        if self.timeseries or series:
            cols: dict[str, list] = {"run_id": [np.array([], dtype=str)]}  # (none: no rows)
            for rid, ts in series:
                n = len(next(iter(ts.values())))
                cols["run_id"].append(np.full(n, rid))
                for k, v in ts.items():
                    cols.setdefault(k, []).append(v)
            self.ts_dir.mkdir(exist_ok=True)
            _write_table(self.ts_dir / name, {k: np.concatenate(v) for k, v in cols.items()})
        keys = list(dict.fromkeys(k for r in rows for k in r))
        table = {k: [r.get(k) for r in rows] for k in keys}
        _write_table(self.runs_dir / name, table, run_types(keys))

    def runs_table(self):
        """All runs written so far, one row per run id, sorted by point and replicate."""
        import pandas as pd

        frames = []
        for f in self.batches():
            try:
                frames.append(pq.read_table(f).to_pandas())
            except (OSError, pa.ArrowException) as exc:
                raise SweepError(
                    f"{f}: unreadable runs file ({exc}); run the sweep again to redo its runs"
                ) from None
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True).drop_duplicates("run_id", keep="last")
        return df.sort_values(["point", "replicate"]).reset_index(drop=True)

    def finish(self) -> None:
        data = self.manifest()
        data["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        atomic_write(self.manifest_path, json.dumps(data, indent=2, default=str) + "\n")


# The fixed types of a run table's columns: these, ``param:<key>`` by the key's kind, and
# float64 for every metric (null when undefined or the run failed).
RUN_COLUMNS = {
    "run_id": pa.string(),
    "point": pa.int64(),
    "replicate": pa.int64(),
    "seed": pa.int64(),
    "status": pa.string(),
    "error": pa.string(),
    "wall_seconds": pa.float64(),
    "host": pa.string(),
}
PARAM_TYPES = {
    INT: pa.int64(),
    FLOAT: pa.float64(),
    BOOL: pa.bool_(),
    STR: pa.string(),
    CHOICE: pa.string(),
}


def run_types(keys) -> dict[str, pa.DataType]:
    """The type of each column of a run table (see RUN_COLUMNS)."""
    types = {}
    for k in keys:
        if k in RUN_COLUMNS:
            types[k] = RUN_COLUMNS[k]
        elif k.startswith("param:"):
            p = BY_KEY.get(k[6:])
            types[k] = PARAM_TYPES.get(p.kind) if p is not None else None
        else:
            types[k] = pa.float64()
    return types


def _write_table(path: Path, columns: dict[str, Any], types: dict | None = None) -> None:
    """Write columns as Parquet via a temporary name, with the given types (None: inferred)."""
    types = types or {}
    write_parquet(path, pa.table({k: pa.array(v, type=types.get(k)) for k, v in columns.items()}))


def _design_table(exp: Experiment) -> pa.Table:
    design = {"point": np.arange(len(exp.points))}
    for f in exp.factors:
        design[f.key] = [p[f.key] for p in exp.points]
    return pa.table({k: pa.array(v) for k, v in design.items()})


def _same_design(path: Path, exp: Experiment) -> bool | None:
    """Whether ``path`` holds this experiment's design table (None: missing or unreadable)."""
    try:
        return pq.read_table(path).equals(_design_table(exp))
    except (OSError, pa.ArrowException):
        return None


def _readable(path: Path) -> bool:
    try:
        pq.read_metadata(path)
        return True
    except (OSError, pa.ArrowException):
        return False


def _abandoned(path: Path, after: float = 86400.0) -> bool:
    """Whether a temporary file's writer is gone: a process of this host no longer running,
    or (another host's) untouched for ``after`` seconds."""
    owner = temp_owner(path)
    if owner is None:
        return False
    host, pid = owner
    if host == socket.gethostname():
        return not alive(pid)
    try:
        return time.time() - path.stat().st_mtime > after
    except FileNotFoundError:
        return False


class _Claims:
    """The folder's ``.lock`` file and its record locks (see the module's docstring).

    Where the file system has no record locks (ENOLCK, e.g. some network mounts) every claim
    succeeds and nothing is tidied: shards stay disjoint, but do not start one shard twice."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self.working = True

    def _lock(self, offset: int, mode: int, wait: bool) -> bool:
        if not self.working:
            return True
        try:
            fcntl.lockf(self.fd, mode if wait else mode | fcntl.LOCK_NB, 1, offset)
            return True
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return False
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                self.working = False
                return True
            raise

    def enter(self) -> bool:
        """Join the folder; True if no other sweep works in it (then this one may tidy it:
        it holds byte 0 exclusively until ``share``)."""
        alone = self._lock(0, fcntl.LOCK_EX, wait=False)
        if not alone:
            self.share()  # waits only while another sweep is tidying
        return alone and self.working

    def share(self) -> None:
        self._lock(0, fcntl.LOCK_SH, wait=True)

    def claim(self, k: int, wait: bool = False) -> bool:
        return self._lock(1 + k, fcntl.LOCK_EX, wait)

    def release(self, k: int) -> None:
        if self.working:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, 1 + k)

    def close(self) -> None:
        os.close(self.fd)  # drops every lock of this process on the file


def _environment(exp: Experiment) -> dict[str, Any]:
    packages = {}
    for name in (
        "ringsim",
        "mesa",
        "numpy",
        "scipy",
        "networkx",
        "pyarrow",
        "dask",
        "distributed",
        "SALib",
    ):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        **exp.manifest(),
        "code_version": code_version(),
        "packages": packages,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished": None,
    }


# ---------------------------------------------------------------------------- running


def parse_shard(text: str | None) -> tuple[int, int]:
    """``I/N`` (1 <= I <= N) to (I, N); no shard is 1/1."""
    if not text:
        return 1, 1
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise SweepError(f"--shard {text!r}: expected I/N, e.g. 2/8") from None
    if not (n >= 1 and 1 <= i <= n):
        raise SweepError(f"--shard {text}: I must be between 1 and N (N >= 1)")
    return i, n


def sweep(
    exp: Experiment,
    out: Path,
    backend: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    shard: tuple[int, int] = (1, 1),
    progress: Callable[[int, int, int], None] | None = None,
    chunk_size: int | None = None,
    worker_timeout: float = 60.0,
    slurm: dict[str, Any] | None = None,
    ensemble: tuple[Path, Any] | None = None,
) -> dict[str, int]:
    """Run the experiment's missing runs (of this shard) into ``out``.

    Args:
        backend: ``local`` (a process pool), ``dask`` (a LocalCluster, or ``scheduler``) or
            ``slurm`` (``workers`` SLURM jobs of one worker each, through dask-jobqueue).
        progress: called as progress(done, failed, total) after each chunk.
        worker_timeout: with Dask, stop (SweepError) when no worker has been connected to the
            scheduler for this many seconds.
        slurm: with ``backend="slurm"``, options for dask-jobqueue's ``SLURMCluster``.
        ensemble: (path, table) of an accepted ensemble (``sim.runs.draws.load_ensemble``):
            each replicate's calibrated parameters are drawn from it (``plan``); the folder
            records it in ``ensemble.json`` and holds runs of that ensemble only.
    Returns:
        counts of runs planned, skipped (already done), run now, run by another sweep in the
        same folder meanwhile, failed (runs of this shard with status error, earlier ones
        included), and of damaged runs files set aside (their runs redone).
    Raises:
        SweepError: the folder cannot be used or written (one line, the folder resumable).
        SweepInterrupted: SIGINT or SIGTERM (committed runs kept).
    """
    store = Store(out)
    runs = plan(exp, None if ensemble is None else ensemble[1])
    i, n = shard
    mine = [k for k in range(len(runs)) if k % n == i - 1]
    counts = {"planned": len(mine), "skipped": 0, "ran": 0, "by_others": 0, "failed": 0}
    counts["set_aside"] = 0
    done: set[str] = set()

    def finished() -> int:
        return sum(runs[k].run_id in done for k in mine)

    def report() -> None:
        counts["failed"] = sum(runs[k].run_id in store.failed for k in mine)
        if progress:
            progress(finished(), counts["failed"], len(mine))

    def commit(ks: list[int], results) -> None:
        try:
            store.write_batch(results)
        except OSError as exc:
            raise SweepError(
                f"{store.root}: cannot write results: {os_error_reason(exc)}; {finished()} of "
                f"{len(mine)} runs done, rerun the same command to resume"
            ) from None
        for k in ks:
            claims.release(k)
        done.update(r["run_id"] for r, _ in results)
        store.failed.update(r["run_id"] for r, _ in results if r["status"] != "ok")
        counts["ran"] += len(results)
        report()

    def run(ks: list[int]) -> None:
        if not ks:
            return
        size = chunk_size or max(1, min(8, len(ks) // max(1, 4 * workers)))
        chunks = [ks[j : j + size] for j in range(0, len(ks), size)]
        specs = [[runs[k] for k in c] for c in chunks]
        if backend in ("dask", "slurm"):
            _run_dask(
                specs,
                workers,
                scheduler,
                worker_timeout,
                lambda j, r: commit(chunks[j], r),
                slurm if backend == "slurm" else None,
            )
        else:
            _run_local(specs, workers, lambda j, r: commit(chunks[j], r))

    with _signals_raise():
        try:
            store.prepare(exp)
            _check_ensemble(store, exp, ensemble)
            try:
                claims = _Claims(store.root / ".lock")
            except OSError as exc:
                raise SweepError(f"{store.root}: cannot write: {os_error_reason(exc)}") from None
            try:
                if claims.enter():
                    store.tidy()
                    claims.share()
                done = store.done()
                left = [k for k in mine if runs[k].run_id not in done]
                counts["skipped"] = len(mine) - len(left)
                report()
                claimed = {k for k in left if claims.claim(k)}
                done = store.done()  # (runs another sweep committed before our claims)
                for k in claimed:
                    if runs[k].run_id in done:
                        claims.release(k)
                run([k for k in left if k in claimed and runs[k].run_id not in done])
                # Runs another sweep holds: wait for it to commit them (or to end), never
                # holding a claim while waiting, and do the ones it left.
                busy = [k for k in left if k not in claimed and runs[k].run_id not in done]
                while busy:
                    claims.claim(busy[0], wait=True)
                    claims.release(busy[0])
                    done = store.done()
                    report()
                    claimed = {k for k in busy if runs[k].run_id not in done and claims.claim(k)}
                    run([k for k in busy if k in claimed])
                    busy = [k for k in busy if k not in claimed and runs[k].run_id not in done]
                counts["by_others"] = len(left) - counts["ran"]
                all_done = store.done()
                if all(r.run_id in all_done for r in runs) and (
                    store.manifest().get("finished") is None
                ):
                    try:
                        store.finish()
                    except OSError as exc:
                        raise SweepError(
                            f"{store.root}: cannot write: {os_error_reason(exc)}"
                        ) from None
            finally:
                claims.close()
        except _Interrupt as stop:
            raise SweepInterrupted(stop.signum, finished(), len(mine)) from None
        except OSError as exc:  # reading or tidying the folder
            raise SweepError(f"{store.root}: {os_error_reason(exc)}") from None
    report()
    counts["set_aside"] = len(store.set_aside)
    return counts


def _check_ensemble(store: Store, exp: Experiment, ensemble: tuple[Path, Any] | None) -> None:
    """Record the ensemble a folder's runs were drawn from (``ensemble.json``: its file, a
    hash of its parameter sets and the set of every replicate), and refuse to mix runs of
    another ensemble, or of none, in one folder."""
    record = store.root / "ensemble.json"
    mine = None
    if ensemble is not None:
        path, table = ensemble
        cols = sorted(c for c in table.columns if c.startswith("param:"))
        digest = hashlib.sha256(table[cols].to_csv(index=False).encode()).hexdigest()[:16]
        sets = [d["ensemble.set"] for d in draws(table, exp.replications, exp.seed)]
        mine = {"ensemble": str(path), "hash": digest, "sets_by_replicate": sets}
    old = None
    if record.exists():
        try:
            old = json.loads(record.read_text())
        except (OSError, ValueError):
            old = {"hash": "unreadable"}
    has_runs = store.runs_dir.exists() and any(store.runs_dir.iterdir())
    if (old or {}).get("hash") != (mine or {}).get("hash") and (old is not None or has_runs):
        was = f"the ensemble {old.get('ensemble')}" if old else "no ensemble"
        now = f"the ensemble {mine['ensemble']}" if mine else "no ensemble"
        raise SweepError(
            f"{store.root}: holds runs made with {was}, this sweep uses {now}; choose a new "
            "--out folder"
        )
    if mine is not None and old is None:
        atomic_write(record, json.dumps(mine, indent=2) + "\n")


class _Interrupt(BaseException):
    """SIGINT or SIGTERM, raised in the main thread to unwind a sweep."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _signals_raise() -> Iterator[None]:
    """While a sweep runs in the main thread, SIGINT and SIGTERM raise ``_Interrupt`` (and
    further ones are ignored while the sweep stops its workers); the old handlers after."""
    if threading.current_thread() is not threading.main_thread():
        yield None
        return

    def handler(signum, frame):
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise _Interrupt(signum)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield None
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


# ---------------------------------------------------------------------------- backends


def _run_local(chunks: list[list[RunSpec]], workers: int, commit) -> None:
    """Run the chunks here (one worker) or on a process pool; commit(j, results) each."""
    try:
        run_tasks(execute_chunk, [(c,) for c in chunks], workers, commit)
    except WorkerDied as exc:
        raise SweepError(
            f"{exc}; the finished runs are kept: rerun the same command to resume"
        ) from None


def _run_dask(
    chunks: list[list[RunSpec]],
    workers: int,
    scheduler: str | None,
    worker_timeout: float,
    commit,
    slurm: dict[str, Any] | None = None,
) -> None:
    """Run the chunks on a Dask cluster (``scheduler``'s, a SLURMCluster made with the
    ``slurm`` options, or a LocalCluster); commit(j, results) each as it finishes."""
    try:
        from dask.distributed import Client, LocalCluster, wait
    except ImportError:
        raise SweepError(
            "--backend dask needs dask.distributed: pip install -e '.[dask]'"
        ) from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=worker_timeout)
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    elif slurm is not None:
        with _sigint_ignored():
            cluster = slurm_cluster(max(workers, 1), slurm)
        client = Client(cluster)
        port = cluster.dashboard_link.rsplit(":", 1)[-1].split("/")[0]
        print(
            f"slurm: {max(workers, 1)} worker job(s) submitted; scheduler "
            f"{cluster.scheduler_address}, dashboard on this node only (port {port}); keep "
            "this command running until the sweep ends",
            file=sys.stderr,
            flush=True,
        )
    else:
        with _sigint_ignored():  # its processes inherit it: Ctrl-C is the main process's
            cluster = LocalCluster(
                n_workers=max(workers, 1),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            )
        client = Client(cluster)
        client.run(_quiet_cancelled_tasks)
    try:
        futures = {f: j for j, f in enumerate(client.map(execute_chunk, chunks, pure=False))}
        pending = set(futures)
        idle_since = None
        while pending:
            try:
                finished, pending = wait(
                    pending, timeout=min(5.0, worker_timeout / 2), return_when="FIRST_COMPLETED"
                )
            except TimeoutError:
                finished = set()
            for fut in finished:
                try:
                    results = fut.result()
                except Exception as exc:  # a worker lost, a scheduler gone: not the runs'
                    raise SweepError(f"dask: {type(exc).__name__}: {exc}") from None
                commit(futures[fut], results)
            if finished:
                idle_since = None
            elif not client.nthreads():
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= worker_timeout:
                    raise SweepError(
                        f"dask: no worker connected to the scheduler for {worker_timeout:g} s; "
                        "start workers and rerun the same command to resume"
                    )
    except BaseException:
        # Stopped with runs in flight: the cluster's nannies log each lost task as an error
        # with a traceback while closing; the sweep's own line says what happened.
        logging.disable(logging.ERROR)
        raise
    finally:
        try:
            with _sigint_ignored():
                client.close()
                if cluster is not None:
                    cluster.close()
        finally:
            logging.disable(logging.NOTSET)


def slurm_cluster(jobs: int, options: dict[str, Any]):
    """A dask-jobqueue ``SLURMCluster`` of ``jobs`` jobs, each one worker on one core (a run is
    single-threaded), scaled up; ``options`` (``--slurm KEY=VALUE``) override the defaults:
    4 GB and 4 hours a job, the dashboard on this node only. The scheduler runs in this
    process and listens where the jobs can reach it (``interface``, e.g. ib0)."""
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise SweepError("--backend slurm needs dask-jobqueue: pip install -e '.[dask]'") from None
    settings = {
        "cores": 1,
        "processes": 1,
        "memory": "4GB",
        "walltime": "04:00:00",
        "scheduler_options": {"dashboard_address": "127.0.0.1:8787"},
        **options,
    }
    try:
        cluster = SLURMCluster(**settings)
    except (TypeError, ValueError) as exc:
        raise SweepError(f"--slurm: {exc}") from None
    cluster.scale(jobs=jobs)
    return cluster


def _quiet_cancelled_tasks() -> None:
    """In a LocalCluster worker: no warning per task cancelled when the sweep is stopped
    (Ctrl-C ends with the sweep's one line)."""
    logging.getLogger("distributed.worker.state_machine").setLevel(logging.ERROR)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
