"""Writing a run's results: metrics.json, timeseries.parquet, scenario.toml, run_info.json.

Every file is written to a temporary name and renamed, so a crash never leaves a half-written
file behind. ``metrics.json`` holds only simulated quantities (no wall time, no host), so the
same scenario and seed give a byte-identical file.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import socket
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write a file via a temporary name in the same folder, then rename it into place."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(tmp, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def clean_number(v):
    """JSON-safe scalar: numpy types to Python, NaN and infinities to None."""
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None


def metrics_json(metrics: dict) -> str:
    return json.dumps({k: clean_number(v) for k, v in sorted(metrics.items())}, indent=2) + "\n"


def write_timeseries(path: Path, columns: dict[str, np.ndarray]) -> None:
    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def write_replications(out: Path, runs: list[tuple[int, dict, dict]], params: dict) -> None:
    """replications.parquet (one row per replicate: seed, every metric, and every scenario
    parameter as ``param:<key>``, lists and tables as JSON text) and timeseries.parquet (every
    replicate's rows, with a ``replicate`` column)."""
    keys = sorted(set().union(*(m for _, m, _ in runs)))
    table = {"replicate": np.arange(len(runs)), "seed": np.array([s for s, _, _ in runs], np.int64)}
    for k in keys:
        table[k] = pa.array([clean_number(m.get(k)) for _, m, _ in runs], pa.float64())
    for k, v in params.items():
        value = json.dumps(v) if isinstance(v, list | dict) else v
        table[f"param:{k}"] = pa.array([value] * len(runs))
    tmp = out / ".replications.parquet.tmp"
    pq.write_table(pa.table(table), tmp)
    os.replace(tmp, out / "replications.parquet")
    series = {}
    for r, (_, _, ts) in enumerate(runs):
        for k, v in {"replicate": np.full(len(ts["time_min"]), r), **ts}.items():
            series.setdefault(k, []).append(v)
    write_timeseries(out / "timeseries.parquet", {k: np.concatenate(v) for k, v in series.items()})


def unique_results_dir(root: Path, name: str) -> Path:
    """A new folder ``root/name``, or ``root/name-2``, ... if taken (never reuses one)."""
    root.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    for k in range(1, 100_000):
        candidate = root / (safe if k == 1 else f"{safe}-{k}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"no free results folder for {name} under {root}")


def code_version() -> str:
    """``git describe`` of the checkout, or the package version outside a checkout."""
    here = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return metadata.version("ringsim")


def run_info(wall_seconds: float, argv: list[str]) -> dict:
    """Facts about how a run was made (not part of the results proper)."""
    packages = {p: metadata.version(p) for p in ("mesa", "numpy", "scipy", "networkx")}
    return {
        "command": argv,
        "wall_seconds": round(wall_seconds, 3),
        "code_version": code_version(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "packages": packages,
    }
