"""Writing a run's results: metrics.json, timeseries.parquet, scenario.toml, run_info.json.

Every file (figures included) is written to a temporary name in the same folder and renamed,
so a crash never leaves a half-written file under a final name. Temporary names start with a
dot and carry the host and process id, so two writers (sweep shards on several nodes) never
share one, readers that skip dotfiles never see them, and a later run can tell them apart.
``metrics.json`` holds only simulated quantities (no wall time, no host), so the same scenario
and seed give a byte-identical file.
"""

from __future__ import annotations

import errno
import json
import math
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TEMP_MARK = ".tmp-"


def temp_path(path: Path) -> Path:
    """A hidden temporary name next to ``path``, unique to this host, process and call."""
    path = Path(path)
    tag = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    return path.with_name(f".{path.name}{TEMP_MARK}{tag}")


def is_temp(path: Path) -> bool:
    """Whether ``path`` is a temporary name made by ``temp_path``."""
    name = Path(path).name
    return name.startswith(".") and TEMP_MARK in name


def temp_owner(path: Path) -> tuple[str, int] | None:
    """The host and process id that made a temporary file (None: not such a name)."""
    if not is_temp(path):
        return None
    try:
        host, pid, _ = Path(path).name.rsplit(TEMP_MARK, 1)[1].rsplit("-", 2)
        return host, int(pid)
    except ValueError:
        return None


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary name to write ``path``'s content to; on success it is flushed to disk
    and renamed to ``path``, on any failure removed (never left half-written)."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write a file via a temporary name in the same folder, then rename it into place."""
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")


def create_new(path: Path, data: str) -> None:
    """Create ``path`` holding ``data`` in one step; FileExistsError if it exists already.

    The content is written under a temporary name and hard-linked to ``path``, which fails if
    ``path`` exists: of several processes creating it at once exactly one succeeds, and no
    reader ever sees it partly written. Where hard links are not supported the file is renamed
    into place after a check (a narrow race, as on any such file system)."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        tmp.write_text(data, encoding="utf-8")
        _fsync(tmp)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if path.exists():
                raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_figure(fig, path: Path, **kwargs) -> None:
    """``fig.savefig(path)`` via a temporary name (the format from ``path``'s suffix)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", **kwargs)


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write a Parquet file via a temporary name."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def os_error_reason(exc: OSError) -> str:
    """An OSError in words, with what to do for the usual ones."""
    what = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{what} (the disk or quota is full: free space)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{what} (not writable: check the folder's permissions)"
    return what


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
    write_parquet(path, pa.table({k: pa.array(v) for k, v in columns.items()}))


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
    write_parquet(out / "replications.parquet", pa.table(table))
    series = {}
    for r, (_, _, ts) in enumerate(runs):
        for k, v in {"replicate": np.full(len(ts["time_min"]), r), **ts}.items():
            series.setdefault(k, []).append(v)
    write_timeseries(out / "timeseries.parquet", {k: np.concatenate(v) for k, v in series.items()})


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A hidden folder beside the (empty) folder ``out`` to write a run's files into, renamed
    onto ``out`` when the block ends; removed if the block fails. A folder left by a killed
    process is hidden and never blocks ``out``."""
    stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        yield stage
        os.replace(stage, out)  # onto an empty folder: one step
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


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
    here = Path(__file__).resolve().parents[2]
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
