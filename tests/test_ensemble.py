"""The calibration ensemble (sim/validation/ensemble.py): rejection ABC that keeps every acceptable
set,
and policy results over the ensemble (``compare`` and ``sweep`` with ``--ensemble``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.runs import draws
from sim.scenario.scenario import load
from sim.validation import ensemble, patterns

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOML = ROOT / "scenarios" / "default.toml"
TINY = {
    "time.days": 0.25,
    "population.pedestrians": 300,
    "world.blocks_x": 4,
    "world.blocks_y": 3,
}
SMALL = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]


def cli(*args) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


# ----------------------------------------------------------------------------- ABC


def test_rejection_abc_recovers_a_known_truth():
    """A simulator with a known answer: a share theta observed through n binomial draws; the
    'data' say the share lies in [0.30, 0.40]. Rejection ABC over a uniform prior keeps every
    theta inside the band (up to Monte-Carlo error) and none far outside."""
    rng = np.random.default_rng(7)
    theta = rng.uniform(0, 1, 4000)
    n = 400
    x = rng.binomial(n, theta) / n
    se = np.sqrt(x * (1 - x) / n)
    bands = {"share": ((0.30, 0.40), 1)}
    kept = np.array(
        [ensemble.abc_accept({"share": (xi, si)}, bands)[1] for xi, si in zip(x, se, strict=True)]
    )
    inside = (theta > 0.31) & (theta < 0.39)
    assert kept[inside].mean() > 0.95  # keeps (nearly) every acceptable set, not one winner
    assert inside.sum() > 200
    # beyond the tolerance (1.96 SE, about 0.05) and 4 SE of noise more: never kept
    far = (theta < 0.15) | (theta > 0.55)
    assert far.sum() > 1000 and not kept[far].any()
    # the posterior is the band widened by the error, centred on it
    lo, hi = np.quantile(theta[kept], [0.02, 0.98])
    assert 0.2 < lo < 0.3 and 0.4 < hi < 0.5
    assert theta[kept].mean() == pytest.approx(0.35, abs=0.02)


def test_compatible_is_the_band_widened_by_the_error():
    band = (0.3, 0.9)
    assert ensemble.compatible(0.28, 0.02, band)  # 1 SE below: compatible
    assert not ensemble.compatible(0.2, 0.02, band)  # 5 SE below
    assert not ensemble.compatible(0.95, 0.01, band)
    assert ensemble.compatible(0.5, 0.0, band)
    assert not ensemble.compatible(None, 0.1, band)
    assert not ensemble.compatible(0.5, float("nan"), band)


def _row(**change) -> dict:
    """One run's metrics (run with MEASUREMENT) that match patterns 3-8, by hand."""
    row = {
        "requests.recipients": 20000.0,
        "requests.response_rate": 0.035,
        "footage.clips_shared": 500.0,
        "requests.voluntary": 60.0,
        "requests.legal": 40.0,
        "footage.legal_content_fraction": 0.5,
        "cameras.count": 2000.0,
        "reports.total": 900.0,
        "reports.non_crime_fraction": 0.6,
        "reports.minority_share": 0.6,
        "reports.majority_slope": 0.4,
        "reports.majority_slope_se": 0.1,
        "incidents.majority_slope": -0.1,
        "incidents.majority_slope_se": 0.1,
        "incidents.total": 90.0,
        "incidents.cleared_fraction": 0.04,
        # 6b: bordering majority tracts post 1.5 times as much per home as inner ones
        "reports.border_posts": 300.0,
        "reports.border_homes": 200.0,
        "reports.interior_posts": 400.0,
        "reports.interior_homes": 400.0,
        "incidents.border": 20.0,
        "incidents.interior": 40.0,
    }
    row.update(change)
    return row


@pytest.fixture(scope="module")
def params():
    return load(DEFAULT_TOML).replace(
        {
            "time.days": 10.0,
            "reporting.bias": 2.0,
            "incidents.deterrence": 0.05,
            **patterns.MEASUREMENT,
        }
    )


def test_set_statistics_accepts_a_matching_set(params):
    s = ensemble.set_statistics([_row()], params)
    assert all(s[f"pattern.{k}"] for k in ensemble.SCORED), s
    assert s["accepted"]
    # the solved rates: at most 16 requests a year; legal demands at the 2020 ratio to them
    rp, d = s["police.request_probability"], s["legal.demand_probability"]
    assert 0 < rp < 1 and 0 < d < 1
    assert s["requests_per_year"] <= patterns.REQUESTS_PER_YEAR_MAX + 1e-9
    assert s["legal_per_year"] == pytest.approx(
        ensemble.LEGAL_PER_REQUEST * s["requests_per_year"], rel=1e-6
    )
    assert s["response_rate.se"] == pytest.approx(np.sqrt(0.035 * 0.965 / 20000), rel=1e-6)


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"requests.response_rate": 0.15}, 3),
        ({"footage.legal_content_fraction": 0.9}, (4, 9)),
        ({"footage.legal_content_fraction": 0.62, "requests.legal": 400.0}, 9),  # not 4 in 10
        ({"reports.non_crime_fraction": 0.99}, 5),
        ({"reports.majority_slope": -0.5}, 6),
        ({"incidents.majority_slope": 0.6, "reports.majority_slope": 0.0}, 6),
        ({"reports.border_posts": 120.0}, 6),  # bordering tracts post less (ratio 0.6)
        ({"reports.minority_share": 0.3}, 7),
        ({"incidents.cleared_fraction": 0.3}, 8),
    ],
)
def test_set_statistics_rejects_a_set_that_misses_one_pattern(params, change, pattern):
    s = ensemble.set_statistics([_row(**change)], params)
    missed = pattern if isinstance(pattern, tuple) else (pattern,)
    assert not any(s[f"pattern.{k}"] for k in missed)
    assert not s["accepted"]
    others = [k for k in ensemble.SCORED if k not in missed]
    assert all(s[f"pattern.{k}"] for k in others)


def test_small_counts_widen_the_tolerance(params):
    """The same share outside the band is compatible when it rests on few events, and not when
    it rests on many: the tolerance is the Monte-Carlo error."""
    few = ensemble.set_statistics([_row(**{"requests.legal": 8.0})], params)
    many = ensemble.set_statistics([_row(**{"requests.legal": 800.0})], params)
    for s in (few, many):
        s.update(ensemble.abc_accept({"legal_content": (0.75, s["legal_content.se"])}))
    assert few[4] and not many[4]


def test_representative_is_the_centre_of_the_accepted_sets():
    acc = pd.DataFrame(
        {
            "point": [0, 1, 2, 3, 4],
            "param:a": [0.1, 0.5, 0.9, 0.45, 0.2],
            "param:b": [1, 5, 9, 4, 8],
        }
    )
    assert int(ensemble.representative(acc)["point"]) == 3


# ----------------------------------------------------------------------------- policy use


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _write_ensemble(path: Path, **cols) -> Path:
    pq.write_table(pa.table(cols), path)
    return path


@pytest.fixture(scope="module")
def tiny_ensemble(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ens")
    return _write_ensemble(
        tmp / "ensemble.parquet",
        **{
            "point": [0, 1, 2],
            "param:reporting.bias": [1.3, 2.0, 2.4],
            "param:requests.share_probability": [0.02, 0.04, 0.06],
            "param:requests.opt_out": [0.1, 0.2, 0.3],
            "response_rate": [0.03, 0.04, 0.05],
        },
    )


def test_draws_cycle_through_the_sets_and_skip_given_keys(tiny_ensemble):
    table = draws.load_ensemble(tiny_ensemble)
    d = draws.draws(table, 6, seed=3, skip=["requests.opt_out"])
    sets = [x["ensemble.set"] for x in d]
    assert sorted(sets[:3]) == [0, 1, 2] and sets[3:] == sets[:3]
    assert all("requests.opt_out" not in x for x in d)
    for x in d:
        assert x["reporting.bias"] == pytest.approx([1.3, 2.0, 2.4][x["ensemble.set"]])
    assert sets == [x["ensemble.set"] for x in draws.draws(table, 6, seed=3)]  # keyed


def test_compare_with_an_ensemble_end_to_end(tiny_ensemble, tmp_path):
    out = tmp_path / "cmp"
    proc = cli(
        "compare", DEFAULT_TOML, DEFAULT_TOML, "--replications", "3", "--seed", "5", *SMALL,
        "--set-b", "requests.opt_out=0.5", "--ensemble", tiny_ensemble, "--out", out, "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "comparison.json").read_text())
    assert sorted(doc["ensemble_sets"]) == [0, 1, 2]
    row = doc["metrics"]["reports.total"]
    assert row["range_low"] <= row["diff"] <= row["range_high"]
    assert "range over the ensemble" in (out / "comparison.md").read_text()
    reps = pq.read_table(out / "replications.parquet").to_pandas()
    bias = {0: 1.3, 1: 2.0, 2: 2.4}
    for _, r in reps.iterrows():  # each replicate ran with its set, in both scenarios
        want = bias[doc["ensemble_sets"][int(r["replicate"])]]
        assert float(r["param:reporting.bias"]) == pytest.approx(want)
        # the contrast keeps its own value: B's opt-out 0.5, A's the default
        assert float(r["param:requests.opt_out"]) == pytest.approx(
            0.5 if r["scenario"] == "b" else float(load(DEFAULT_TOML)["requests.opt_out"])
        )
    # the copy's other outcomes differ by replicate (different parameter sets), yet A and B of
    # one replicate share the set: requests' share probability is the set's in both
    assert reps.groupby("replicate")["param:requests.share_probability"].nunique().max() == 1


def test_sweep_with_an_ensemble_end_to_end(tiny_ensemble, tmp_path):
    exp = tmp_path / "exp.toml"
    tiny = "\n".join(f'"{k}" = {v}' for k, v in TINY.items())
    exp.write_text(
        f'base = "{DEFAULT_TOML.as_posix()}"\nreplications = 2\nseed = 11\n'
        'metrics = ["reports.total", "requests.voluntary"]\n'
        f'[factors]\n"requests.opt_out" = [0.0, 0.5]\n[overrides]\n{tiny}\n'
    )
    out = tmp_path / "sw"
    proc = cli("sweep", exp, "--out", out, "--ensemble", tiny_ensemble, "--quiet")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    record = json.loads((out / "ensemble.json").read_text())
    assert len(record["sets_by_replicate"]) == 2
    from sim.runs.experiment import load_experiment
    from sim.runs.sweep import plan

    e = load_experiment(exp)
    specs = plan(e, draws.load_ensemble(tiny_ensemble))
    bias = {0: 1.3, 1: 2.0, 2: 2.4}
    for s in specs:
        assert s.scenario["reporting.bias"] == pytest.approx(
            bias[record["sets_by_replicate"][s.replicate]]
        )
        assert s.scenario["requests.opt_out"] == s.values["requests.opt_out"]  # factor wins
    report = cli("report", out)
    assert report.returncode == 0, report.stderr
    text = (out / "report" / "summary.md").read_text()
    assert "drawn from the ensemble" in text
    # the folder holds runs of that ensemble only
    again = cli("sweep", exp, "--out", out, "--quiet")
    assert again.returncode == 2 and "ensemble" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p / "missing.parquet", "no such file"),
        (lambda p: _write_text(p / "x.parquet", "not parquet"), "Parquet"),
        (lambda p: _write_ensemble(p / "y.parquet", a=[1.0]), "param:"),
        (lambda p: _write_ensemble(p / "z.parquet", **{"param:no.such": [1.0]}), "no.such"),
        (lambda p: _write_ensemble(p / "w.parquet", **{"param:reporting.bias": ["x"]}), "numeric"),
    ],
)
@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_bad_ensemble_is_one_line_and_exit_2(tmp_path, make, says, command, capsys):
    from sim.ui.cli import main

    path = make(tmp_path)
    if command == "compare":
        args = ["compare", str(DEFAULT_TOML), str(DEFAULT_TOML), *SMALL, "--replications", "2"]
    else:
        args = ["sweep", str(ROOT / "experiments" / "request_rules.toml")]
        args += ["--out", str(tmp_path / "o")]
    status = main([*args, "--ensemble", str(path), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --ensemble") and says in lines[0]
    assert not (tmp_path / "o").exists()  # nothing ran, no folder made


# ----------------------------------------------------------------------------- run.py ensemble


def test_ensemble_command_on_a_tiny_world(tmp_path):
    """The whole command on a tiny prior sample (seconds): the sweep, the scoring, the files;
    a second call resumes (no run again) and rescored gives the same table."""
    exp = tmp_path / "tiny.toml"
    tiny = "\n".join(f'"{k}" = {v}' for k, v in TINY.items())
    exp.write_text(
        f'base = "{DEFAULT_TOML.as_posix()}"\nreplications = 1\nseed = 3\n'
        "common_random_numbers = false\n"
        '[design]\nkind = "latin_hypercube"\nsamples = 3\n'
        '[factors]\n"reporting.bias" = { min = 1.2, max = 2.5 }\n'
        '"requests.share_probability" = { min = 0.02, max = 0.06 }\n'
        f'[overrides]\n{tiny}\n"population.offender_fraction" = 0.2\n'
        '"police.request_probability" = 1.0\n"legal.demand_probability" = 1.0\n'
    )
    out = tmp_path / "cal"
    first = cli("ensemble", exp, "--out", out, "--quiet")
    assert first.returncode in (0, 1), first.stderr  # 1: no set accepted (said, not an error)
    assert "3 run now" in first.stdout and "sets accepted" in first.stdout
    scores = pd.read_csv(out / "scores_ensemble.csv")
    assert len(scores) == 3 and {"accepted", "pattern.3", "response_rate.se"} <= set(scores)
    table = pq.read_table(out / "ensemble.parquet").to_pandas()
    assert len(table) == int(scores["accepted"].sum())
    assert "Acceptance by pattern" in (out / "ensemble.md").read_text()
    again = cli("ensemble", exp, "--out", out, "--quiet")
    assert "3 already done, 0 run now" in again.stdout
    pd.testing.assert_frame_equal(pd.read_csv(out / "scores_ensemble.csv"), scores)


def test_ensemble_command_refuses_a_sweep_without_the_levers(tmp_path):
    exp = tmp_path / "nolevers.toml"
    tiny = "\n".join(f'"{k}" = {v}' for k, v in TINY.items())
    exp.write_text(
        f'base = "{DEFAULT_TOML.as_posix()}"\nreplications = 1\nseed = 3\n'
        '[factors]\n"reporting.bias" = [1.5]\n'
        f"[overrides]\n{tiny}\n"
    )
    proc = cli("ensemble", exp, "--out", tmp_path / "o", "--quiet")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "must set police.request_probability = 1.0" in lines[0]
    assert not (tmp_path / "o" / "ensemble_runs").exists()  # refused before any run
