"""A sweep's run tables have one fixed schema, so any reader sees every column: batches of
only failed runs, of only finished runs, and mixed, read back whole by pandas (and DuckDB)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.runs.experiment import load_experiment
from sim.runs.stats import metric_names
from sim.runs.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
BODY = """
replications = 2
seed = 3
[factors]
"world.kind" = ["grid", "graphml"]
"world.graphml" = ["missing.graphml"]
[overrides]
"time.days" = 0.1
"population.pedestrians" = 200
"world.blocks_x" = 3
"world.blocks_y" = 3
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """Point 0 (grid) finishes, point 1 (a missing GraphML file) fails; one run per batch
    file, so some batches hold only failed runs and some only finished ones."""
    tmp = tmp_path_factory.mktemp("tables")
    path = tmp / "exp.toml"
    path.write_text(f'base = "{(ROOT / "scenarios/default.toml").as_posix()}"\n{BODY}')
    out = tmp / "sweep"
    counts = sweep(load_experiment(path), out, chunk_size=1)
    assert counts["failed"] == 2 and counts["ran"] == 4
    return out


def test_every_batch_has_the_same_schema(mixed):
    files = sorted((mixed / "runs").glob("*.parquet"))
    assert len(files) == 4
    schemas = [pq.read_schema(f) for f in files]
    assert all(s.equals(schemas[0]) for s in schemas)
    schema = schemas[0]
    assert schema.field("error").type == pa.string()
    assert schema.field("param:world.kind").type == pa.string()
    for name in metric_names(["majority", "minority"]):
        assert schema.field(name).type == pa.float64(), name


def test_pandas_reads_the_whole_sweep(mixed):
    df = pd.read_parquet(mixed / "runs")
    assert len(df) == 4
    assert set(metric_names(["majority", "minority"])) <= set(df.columns)
    ok = df[df["status"] == "ok"]
    failed = df[df["status"] == "error"]
    assert len(ok) == 2 and ok["coverage.street_fraction"].notna().all()
    assert failed["coverage.street_fraction"].isna().all()
    assert failed["error"].str.contains("missing.graphml").all() and ok["error"].isna().all()


def test_duckdb_reads_the_whole_sweep(mixed):
    duckdb = pytest.importorskip("duckdb")
    glob = (mixed / "runs" / "*.parquet").as_posix()
    df = duckdb.sql(f"SELECT * FROM read_parquet('{glob}')").df()
    assert len(df) == 4 and "coverage.street_fraction" in df.columns
    query = f"""SELECT count("coverage.street_fraction") FROM read_parquet('{glob}')"""
    n = duckdb.sql(query).fetchall()[0]
    assert n == (2,)
