"""``python run.py compare A.toml B.toml``: paired replicates (common random numbers), through
the real command line on tiny worlds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOML = ROOT / "scenarios" / "default.toml"
SMALL = [
    "--set",
    "time.days=0.25",
    "--set",
    "population.pedestrians=300",
    "--set",
    "world.blocks_x=4",
    "--set",
    "world.blocks_y=3",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIELDS = {"a", "b", "diff", "ci_low", "ci_high", "n", "method", "unit"}


def compare(*args, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "compare", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def ok(*args, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    proc = compare(*args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def copy_run(tmp_path_factory):
    """A scenario against a copy of itself (another file, same content)."""
    tmp = tmp_path_factory.mktemp("copy")
    copy = tmp / "copy.toml"
    copy.write_text(DEFAULT_TOML.read_text())
    out = tmp / "out"
    proc = ok(DEFAULT_TOML, copy, "--replications", "3", "--seed", "4", *SMALL, "--out", out)
    return out, proc


def test_copy_gives_exactly_zero_differences(copy_run):
    out, proc = copy_run
    doc = json.loads((out / "comparison.json").read_text())
    assert doc["replications"] == 3 and doc["root_seed"] == 4
    table = doc["metrics"]
    assert len(table) > 40
    for key, row in table.items():
        assert set(row) >= FIELDS, key
        if row["n"]:
            assert row["diff"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0, key
            assert row["a"] == row["b"]
    assert table["cameras.count"]["n"] == 3
    assert "%" in proc.stderr  # the progress bar


def test_files_written(copy_run):
    out, _ = copy_run
    md = (out / "comparison.md").read_text()
    assert "| metric | unit | default | copy | difference [95 % CI] | n |" in md
    assert "| `cameras.count` | cameras |" in md
    assert (out / "differences.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "days = 0.25  # [day]" in (out / "scenario_b.toml").read_text()
    reps = pq.read_table(out / "replications.parquet").to_pandas()
    assert sorted(reps["scenario"].unique()) == ["a", "b"] and len(reps) == 6
    assert (reps["param:world.blocks_x"] == 4).all()
    # common random numbers: replicate r of both has the same seed
    seeds = reps.pivot(index="replicate", columns="scenario", values="seed")
    assert (seeds["a"] == seeds["b"]).all() and seeds["a"].nunique() == 3


def test_irrelevant_parameter_intervals_cover_zero_and_real_effect_found(tmp_path):
    # promotion is off in the default scenario, so its discount cannot matter
    out = tmp_path / "irrelevant"
    ok(
        DEFAULT_TOML,
        DEFAULT_TOML,
        "--replications",
        "4",
        *SMALL,
        "--set-b",
        "promotion.discount_usd=10",
        "--set-a",
        "promotion.discount_usd=90",
        "--out",
        out,
        "--quiet",
    )
    table = json.loads((out / "comparison.json").read_text())["metrics"]
    covered = [r for r in table.values() if r["ci_low"] is not None]
    assert len(covered) > 40
    assert all(r["ci_low"] <= 0 <= r["ci_high"] for r in covered)

    out = tmp_path / "adoption"
    ok(
        DEFAULT_TOML,
        DEFAULT_TOML,
        "--replications",
        "4",
        *SMALL,
        "--set-a",
        "cameras.adoption=0.1",
        "--set-b",
        "cameras.adoption=0.6",
        "--out",
        out,
        "--quiet",
        "--workers",
        "2",
    )
    table = json.loads((out / "comparison.json").read_text())["metrics"]
    assert table["cameras.count"]["ci_low"] > 0
    assert table["coverage.street_fraction"]["ci_low"] > 0


def test_default_folder_named_after_both(tmp_path):
    (tmp_path / "a.toml").write_text(DEFAULT_TOML.read_text())
    (tmp_path / "b.toml").write_text(DEFAULT_TOML.read_text())
    for _ in range(2):
        ok("a.toml", "b.toml", "--replications", "2", *SMALL, "--quiet", cwd=tmp_path)
    made = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert made == ["compare-a-vs-b", "compare-a-vs-b-2"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--replications", "1"], "--replications"),
        (["--workers", "0"], "--workers"),
        (["--set-b", "cameras.adoption=2"], "cameras.adoption"),
        (["--set-a", "cameras.adoptoin=0.2"], "cameras.adoptoin"),
        (["--set-b", "world.kind=graphml", "--set-b", "world.graphml=gone.graphml"], "gone"),
    ],
)
def test_bad_input_one_line_status_2(tmp_path, args, needle):
    proc = compare(DEFAULT_TOML, DEFAULT_TOML, *SMALL, *args, "--out", tmp_path / "o")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], proc.stderr
    assert not (tmp_path / "o").exists()


def test_missing_file_and_nonempty_out(tmp_path):
    proc = compare(DEFAULT_TOML, tmp_path / "nope.toml")
    assert proc.returncode == 2 and "nope.toml" in proc.stderr
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("keep")
    proc = compare(DEFAULT_TOML, DEFAULT_TOML, "--out", full)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert (full / "x").read_text() == "keep"
