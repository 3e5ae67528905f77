"""Parameter sweeps: every (design point, replicate) of an experiment, on a local process
pool or a Dask cluster, into a resumable results folder.

The results folder:

* ``manifest.json``: the design and its hash, the root seed, code version, package versions,
  Python and platform, start and end times;
* ``design.parquet``: one row per design point (``point`` and a column per factor);
* ``runs/batch-*.parquet``: one file per finished chunk of runs, every file with the same
  columns and types (``RUN_COLUMNS``): ``run_id`` (a hash of the run's canonical spec; a
  design point that repeats an earlier one adds its position), ``point``, ``replicate``,
  ``seed``, ``status`` (ok or error), ``error`` (string, null when ok), ``wall_seconds``,
  ``host``, ``param:<key>`` for every factor (typed by the key's kind; prefixed because two
  scenario keys are also metric names), and a float64 column per metric (the experiment's
  ``metrics``, else every metric a run writes), null for a failed run or an undefined value;
* ``timeseries/batch-*.parquet`` when the experiment keeps time series (``run_id`` + columns).

Files are written to a temporary name and renamed, so a sweep killed at any moment loses only
the chunks in flight; running the same command again skips every run already written and does
the rest. A folder made by another design (another hash) is refused, not mixed. A run that
raises is recorded with status ``error`` and its message, and the sweep goes on. Each run's
seed comes from the experiment's root seed and the run's position, so the runs table is the
same for every backend, worker count and sharding.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.experiment import Experiment, run_id
from sim.outputs import atomic_write, clean_number, code_version
from sim.schema import BOOL, BY_KEY, CHOICE, FLOAT, INT, STR
from sim.stats import metric_names

# Worker processes start from a clean server process, never by forking a process that may
# run threads (Dask, BLAS), which can deadlock.
POOL_CONTEXT = multiprocessing.get_context("forkserver")


class SweepError(ValueError):
    """A sweep cannot start (the user's to fix; exit status 2)."""


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


def plan(exp: Experiment) -> list[RunSpec]:
    """All runs of the experiment, in (point, replicate) order; every run id distinct."""
    runs = []
    seen: set[str] = set()
    scenarios = [exp.scenario(i) for i in range(len(exp.points))]
    columns = tuple(exp.metrics or metric_columns(scenarios))
    for i, scenario in enumerate(scenarios):
        for r in range(exp.replications):
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
    from sim.model import NeighbourhoodModel
    from sim.scenario import Scenario

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
    """A sweep's results folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.ts_dir = self.root / "timeseries"

    def prepare(self, exp: Experiment) -> None:
        """Create the folder, or check that it was made by this same design."""
        manifest = self.root / "manifest.json"
        if manifest.exists():
            old = json.loads(manifest.read_text())
            if old.get("design_hash") != exp.design_hash():
                raise SweepError(
                    f"{self.root}: holds results of another design (hash "
                    f"{old.get('design_hash')}, this one {exp.design_hash()}); choose a new "
                    "--out folder"
                )
            return
        if self.root.exists() and any(self.root.iterdir()):
            raise SweepError(f"{self.root}: exists, is not empty and is not a sweep's results")
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        design = {"point": np.arange(len(exp.points))}
        for f in exp.factors:
            design[f.key] = [p[f.key] for p in exp.points]
        _write_table(self.root / "design.parquet", design)
        atomic_write(manifest, json.dumps(_environment(exp), indent=2, default=str) + "\n")

    def done(self) -> set[str]:
        """Run ids already written (ok or error)."""
        ids: set[str] = set()
        for f in self.batches():
            ids.update(pq.read_table(f, columns=["run_id"]).column(0).to_pylist())
        return ids

    def batches(self) -> list[Path]:
        if not self.runs_dir.exists():
            return []
        return sorted(p for p in self.runs_dir.glob("*.parquet") if not p.name.startswith("."))

    def write_batch(self, results: list[tuple[dict, dict | None]]) -> None:
        rows = [r for r, _ in results]
        name = f"batch-{rows[0]['run_id'][:12]}-{len(rows)}.parquet"
        keys = list(dict.fromkeys(k for r in rows for k in r))
        table = {k: [r.get(k) for r in rows] for k in keys}
        _write_table(self.runs_dir / name, table, run_types(keys))
        series = [(r["run_id"], ts) for r, ts in results if ts is not None]
        if series:
            self.ts_dir.mkdir(exist_ok=True)
            cols: dict[str, list] = {}
            for rid, ts in series:
                n = len(next(iter(ts.values())))
                cols.setdefault("run_id", []).append(np.full(n, rid))
                for k, v in ts.items():
                    cols.setdefault(k, []).append(v)
            _write_table(self.ts_dir / name, {k: np.concatenate(v) for k, v in cols.items()})

    def runs_table(self):
        """All runs written so far, one row per run id, sorted by point and replicate."""
        import pandas as pd

        frames = [pq.read_table(f).to_pandas() for f in self.batches()]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True).drop_duplicates("run_id", keep="last")
        return df.sort_values(["point", "replicate"]).reset_index(drop=True)

    def finish(self) -> None:
        manifest = self.root / "manifest.json"
        data = json.loads(manifest.read_text())
        data["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        atomic_write(manifest, json.dumps(data, indent=2, default=str) + "\n")


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


def metric_columns(scenarios) -> list[str]:
    """Every metric the scenarios' runs write (their groups' names may differ)."""
    names: dict[str, None] = {}
    for groups in dict.fromkeys(tuple(s.group_names) for s in scenarios):
        names.update(dict.fromkeys(metric_names(list(groups))))
    return list(names)


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
    """Write columns as Parquet via a temporary name, with the given types (None: null)."""
    types = types or {}
    arrays = {k: pa.array(v, type=types.get(k)) for k, v in columns.items()}
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    pq.write_table(pa.table(arrays), tmp)
    os.replace(tmp, path)


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
) -> dict[str, int]:
    """Run the experiment's missing runs (of this shard) into ``out``.

    Args:
        progress: called as progress(done, failed, total) after each chunk.
    Returns:
        counts of runs planned, skipped (already done), run now and failed now.
    """
    store = Store(out)
    store.prepare(exp)
    runs = plan(exp)
    i, n = shard
    mine = [r for k, r in enumerate(runs) if k % n == i - 1]
    done = store.done()
    todo = [r for r in mine if r.run_id not in done]
    size = chunk_size or max(1, min(8, len(todo) // max(1, 4 * workers)))
    chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
    counts = {"planned": len(mine), "skipped": len(mine) - len(todo), "ran": 0, "failed": 0}
    if progress:
        progress(counts["skipped"], 0, len(mine))

    def collect(results) -> None:
        store.write_batch(results)
        counts["ran"] += len(results)
        counts["failed"] += sum(r["status"] != "ok" for r, _ in results)
        if progress:
            progress(counts["skipped"] + counts["ran"], counts["failed"], len(mine))

    if backend == "dask" and chunks:
        _run_dask(chunks, workers, scheduler, collect)
    elif workers <= 1:
        for chunk in chunks:
            collect(execute_chunk(chunk))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers, mp_context=POOL_CONTEXT) as pool:
            futures = [pool.submit(execute_chunk, c) for c in chunks]
            for fut in as_completed(futures):
                collect(fut.result())
    if len(store.done() & {r.run_id for r in runs}) == len(runs):
        store.finish()
    return counts


def _run_dask(chunks, workers: int, scheduler: str | None, collect) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SweepError(
            "--backend dask needs dask.distributed: pip install -e '.[dask]'"
        ) from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=max(workers, 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        )
        client = Client(cluster)
    try:
        futures = client.map(execute_chunk, chunks, pure=False)
        for fut in as_completed(futures):
            collect(fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
