"""The sweep report: summaries, paired differences, figures and sensitivity indices computed
from small synthetic results folders written here (no simulation runs)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.engine.rng import derive_seed
from sim.runs import report
from sim.runs.report import ReportError, write_report
from sim.runs.stats import metric_interval, paired_interval

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COVERAGE = "coverage.street_fraction"
RATIO = "reports.disparity_ratio"
OPT_OUT, MODE = "requests.opt_out", "requests.regime"
LEVELS = {OPT_OUT: [0.1, 0.5], MODE: ["portal", "rfa"]}
REPS = 4
ROOT_SEED = 11


def write_manifest(folder: Path, **fields) -> None:
    manifest = {
        "design_kind": "full_factorial",
        "factors": LEVELS,
        "replications": REPS,
        "root_seed": ROOT_SEED,
        "common_random_numbers": True,
        "metrics": None,
        "design_hash": "abc123",
        "design_points": 4,
        "base": "scenarios/default.toml",
        **fields,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def write_design(folder: Path, design: dict[str, list]) -> None:
    pq.write_table(pa.table(design), folder / "design.parquet")


def run_row(point: int, rep: int, factors: dict, metrics: dict, status: str = "ok") -> dict:
    return {
        "run_id": f"p{point}-r{rep}",
        "point": point,
        "replicate": rep,
        "seed": derive_seed(ROOT_SEED, rep),
        "status": status,
        "error": None if status == "ok" else "ValueError: boom\ntraceback line",
        "wall_seconds": 1.5,
        "host": "test",
        **{f"param:{k}": v for k, v in factors.items()},
        **metrics,
    }


def write_batch(folder: Path, name: str, rows: list[dict]) -> None:
    (folder / "runs").mkdir(exist_ok=True)
    table = pa.Table.from_pylist(rows)
    # Metric columns are float64 even when a batch holds only nulls.
    schema = pa.schema(
        [pa.field(f.name, pa.float64()) if f.name in (COVERAGE, RATIO) else f for f in table.schema]
    )
    pq.write_table(table.cast(schema), folder / "runs" / name)


@pytest.fixture(scope="module")
def factorial(tmp_path_factory) -> tuple[Path, dict]:
    """A 2 x 2 factorial, 4 replicates, two batch files (a run written twice, the second copy
    different: it must win), one failed run, nulls in the ratio, and two temporary files
    that must be ignored. Returns the folder and the truth: (point, rep) -> metrics or None
    (failed)."""
    folder = tmp_path_factory.mktemp("factorial")
    points = [(o, m) for o in LEVELS[OPT_OUT] for m in LEVELS[MODE]]
    write_manifest(folder)
    write_design(
        folder,
        {"point": list(range(4)), OPT_OUT: [p[0] for p in points], MODE: [p[1] for p in points]},
    )
    rng = np.random.default_rng(3)
    truth: dict[tuple[int, int], dict | None] = {}
    rows = []
    for point, (opt_out, mode) in enumerate(points):
        for rep in range(REPS):
            noise = rng.normal(0, 0.02)
            cov = 0.4 - 0.3 * opt_out + (0.1 if mode == "rfa" else 0.0) + noise
            ratio = None if (point + rep) % 3 == 0 else 1.0 + point + 0.1 * rep
            truth[point, rep] = {COVERAGE: cov, RATIO: ratio}
            rows.append(run_row(point, rep, {OPT_OUT: opt_out, MODE: mode}, truth[point, rep]))
    # Point 1, replicate 3 failed.
    failed = rows[1 * REPS + 3]
    failed.update(
        run_row(1, 3, {OPT_OUT: 0.1, MODE: "rfa"}, {COVERAGE: None, RATIO: None}, "error")
    )
    truth[1, 3] = None
    batch1, batch2 = rows[:8], rows[8:]
    # Resumed sweep: p0-r2 written again in the later batch, with a different value.
    again = dict(batch1[2])
    again[COVERAGE] = 0.9
    truth[0, 2] = {**truth[0, 2], COVERAGE: 0.9}
    batch2.append(again)
    write_batch(folder, "batch-0001.parquet", batch1)
    write_batch(folder, "batch-0002.parquet", batch2)
    # Temporary files: ignored.
    write_batch(folder, ".batch-0003.parquet", [{**batch1[0], COVERAGE: 1000.0}])
    (folder / "runs" / ".batch.tmp").write_bytes(b"not parquet at all")
    out = write_report(folder)
    return out, truth


def expected_values(truth, point: int, metric: str) -> list[float | None]:
    return [truth[point, r][metric] for r in range(REPS) if truth[point, r] is not None]


def interval(values: list, metric: str) -> tuple:
    iv = metric_interval(values, metric, ROOT_SEED)
    return iv.mean, iv.low, iv.high


def test_summary_matches_intervals_of_the_right_runs(factorial):
    out, truth = factorial
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["point"]) == [0, 1, 2, 3]
    assert list(summary[OPT_OUT]) == [0.1, 0.1, 0.5, 0.5]
    assert list(summary[MODE]) == ["portal", "rfa", "portal", "rfa"]
    for point in range(4):
        row = summary.iloc[point]
        for metric in (COVERAGE, RATIO):
            values = expected_values(truth, point, metric)
            mean, lo, hi = interval(values, metric)
            assert row[f"{metric}.n"] == sum(v is not None for v in values)
            got = row[metric], row[f"{metric}.ci_low"], row[f"{metric}.ci_high"]
            for g, e in zip(got, (mean, lo, hi), strict=True):
                if e is None:
                    assert math.isnan(g)
                else:
                    assert g == pytest.approx(e, rel=1e-12)


def test_failed_runs_counted_and_excluded_duplicates_once(factorial):
    out, truth = factorial
    summary = pd.read_csv(out / "summary.csv").set_index("point")
    assert list(summary["n_ok"]) == [4, 3, 4, 4]
    assert list(summary["n_failed"]) == [0, 1, 0, 0]
    # The later copy of the duplicated run wins; the temporary file's 1000 is ignored.
    assert truth[0, 2][COVERAGE] == 0.9
    assert summary.at[0, COVERAGE] == pytest.approx(np.mean(expected_values(truth, 0, COVERAGE)))
    md = (out / "summary.md").read_text()
    assert "15 ok, 1 failed" in md
    assert "1 duplicate row(s) dropped" in md
    assert "1 × `ValueError: boom traceback line`" in md


def test_markdown_four_digits_and_na(factorial):
    out, truth = factorial
    md = (out / "summary.md").read_text()
    assert "| 2 | 0.5 | portal | 4 | 0 |" in md  # the design points
    cells = [interval(expected_values(truth, p, COVERAGE), COVERAGE) for p in range(4)]
    row = " | ".join(f"{m:.4g} [{lo:.4g}, {hi:.4g}]" for m, lo, hi in cells)
    assert f"| `{COVERAGE}` (share of street length) | {row} |" in md
    # the ratio is undefined in some replicates: n is shown
    assert "(n=2)" in md.split("## Summary by metric")[1].split("##")[0]
    # Point 1's paired ratio difference rests on one pair: a mean without an interval.
    assert "1 [n/a, n/a] (n=1)" in md


def test_paired_differences(factorial):
    out, truth = factorial
    diffs = pd.read_csv(out / "paired_differences.csv")
    assert len(diffs) == 3 * 2
    for point in (1, 2, 3):
        for metric in (COVERAGE, RATIO):
            pairs = [
                truth[point, r][metric] - truth[0, r][metric]
                for r in range(REPS)
                if truth[point, r] is not None
                and truth[point, r][metric] is not None
                and truth[0, r][metric] is not None
            ]
            iv = paired_interval(pairs)
            mean, lo, hi = iv.mean, iv.low, iv.high
            row = diffs[(diffs["point"] == point) & (diffs["metric"] == metric)].iloc[0]
            assert row["n_pairs"] == len(pairs)
            for g, e in zip(
                (row["mean_difference"], row["ci_low"], row["ci_high"]), (mean, lo, hi), strict=True
            ):
                assert math.isnan(g) if e is None else g == pytest.approx(e, rel=1e-12)
    assert "## Paired differences" in (out / "summary.md").read_text()


def test_figures_are_pngs(factorial):
    out, _ = factorial
    expected = [
        f"{COVERAGE}__vs__{OPT_OUT}.png",
        f"{COVERAGE}__vs__{MODE}.png",
        f"{RATIO}__vs__{OPT_OUT}.png",
        f"{COVERAGE}__heat__{OPT_OUT}__{MODE}.png",
        f"{RATIO}__heat__{OPT_OUT}__{MODE}.png",
    ]
    md = (out / "summary.md").read_text()
    for name in expected:
        assert (out / name).read_bytes().startswith(PNG_SIGNATURE), name
        assert name in md
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left"


def test_marginal_means_average_points_within_replicates(factorial):
    """The band's units are the replicates (each the mean over the level's points), not the
    runs pooled as if independent."""
    out, truth = factorial
    res = report.load_results(out.parent)
    table = report.marginal_means(res, COVERAGE, MODE)
    assert list(table["x"]) == ["portal", "rfa"]
    per_rep = []
    for r in range(REPS):
        values = [truth[p, r][COVERAGE] for p in (1, 3) if truth[p, r] is not None]
        per_rep.append(float(np.mean(values)))
    mean, lo, hi = interval(per_rep, COVERAGE)
    assert table.iloc[1]["mean"] == pytest.approx(mean)
    assert (table.iloc[1]["ci_low"], table.iloc[1]["ci_high"]) == pytest.approx((lo, hi))
    assert table.iloc[1]["n"] == REPS
    # without common random numbers every run is independent: the runs are the units
    res.manifest["common_random_numbers"] = False
    table = report.marginal_means(res, COVERAGE, MODE)
    runs = [v for p in (1, 3) for v in expected_values(truth, p, COVERAGE)]
    mean, lo, hi = interval(runs, COVERAGE)
    assert (table.iloc[1]["mean"], table.iloc[1]["ci_low"]) == pytest.approx((mean, lo))
    assert table.iloc[1]["n"] == len(runs) == 7


def test_metric_selection_and_no_crn(tmp_path, factorial):
    src, _ = factorial
    folder = src.parent
    out = write_report(folder, tmp_path / "rep", metrics=[COVERAGE])
    summary = pd.read_csv(out / "summary.csv")
    assert COVERAGE in summary.columns and RATIO not in summary.columns
    assert not list(out.glob(f"{RATIO}*.png"))
    with pytest.raises(ReportError, match="unknown metric"):
        write_report(folder, tmp_path / "rep2", metrics=["no.such_metric"])


def test_missing_manifest_or_runs_raise(tmp_path):
    with pytest.raises(ReportError, match="manifest"):
        write_report(tmp_path)
    write_manifest(tmp_path)
    with pytest.raises(ReportError, match="no run results") as err:
        write_report(tmp_path)
    assert isinstance(err.value, ValueError) and "\n" not in str(err.value)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / ".batch.tmp").write_bytes(b"x")
    with pytest.raises(ReportError, match="no run results"):
        write_report(tmp_path)


def salib_folder(folder: Path, kind: str, samples: np.ndarray, outputs: dict) -> Path:
    """Results folder of a Sobol or Morris design: point i = sample row i; 2 replicates at
    y - 0.01 and y + 0.01 (their mean is the model output y); no common random numbers."""
    names = PROBLEM["names"]
    write_manifest(
        folder,
        design_kind=kind,
        factors={
            n: {"min": b[0], "max": b[1]} for n, b in zip(names, PROBLEM["bounds"], strict=True)
        },
        replications=2,
        common_random_numbers=False,
        design_points=len(samples),
        salib_problem=PROBLEM,
        salib_samples=samples.tolist(),
    )
    write_design(
        folder, {"point": list(range(len(samples))), **dict(zip(names, samples.T, strict=True))}
    )
    rows = [
        run_row(
            i,
            r,
            dict(zip(names, x, strict=True)),
            {m: float(y[i]) + (0.02 * r - 0.01) for m, y in outputs.items()},
        )
        for i, x in enumerate(samples)
        for r in range(2)
    ]
    write_batch(folder, "batch-0001.parquet", rows)
    return folder


PROBLEM = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}


def test_sobol_indices_of_additive_models(tmp_path):
    """Y = x1 + 0 x2: S1 = ST = (1, 0); Y = x1 + 2 x2 (uniform, independent): (1/5, 4/5)."""
    pytest.importorskip("SALib", reason="SALib not installed (pip install -e '.[salib]')")
    from SALib.sample import sobol as sobol_sample

    x = sobol_sample.sample(dict(PROBLEM), 256, seed=2)
    outputs = {
        COVERAGE: x[:, 0] + 0 * x[:, 1],
        RATIO: x[:, 0] + 2 * x[:, 1],
        "cameras.count": np.full(len(x), 7.0),
    }
    out = write_report(salib_folder(tmp_path, "sobol", x, outputs))
    sobol = pd.read_csv(out / "sobol.csv").set_index(["metric", "factor"])
    for metric, expected in ((COVERAGE, (1.0, 0.0)), (RATIO, (0.2, 0.8))):
        for factor, value in zip(("x1", "x2"), expected, strict=True):
            assert sobol.at[(metric, factor), "S1"] == pytest.approx(value, abs=0.05)
            assert sobol.at[(metric, factor), "ST"] == pytest.approx(value, abs=0.05)
    assert (sobol["S1_conf"] >= 0).all() and (sobol["ST_conf"] >= 0).all()
    # A constant output has no variance to apportion: a note, no indices.
    assert "cameras.count" not in set(sobol.index.get_level_values("metric"))
    md = (out / "summary.md").read_text()
    assert "indices of `cameras.count` not computed: the same mean" in md
    assert (out / f"{COVERAGE}__sobol.png").read_bytes().startswith(PNG_SIGNATURE)
    assert (out / f"{COVERAGE}__vs__x1.png").read_bytes().startswith(PNG_SIGNATURE)
    assert not list(out.glob("*__heat__*")), "no heat maps of continuous factors"
    assert not (out / "paired_differences.csv").exists()


def test_morris_screening(tmp_path):
    pytest.importorskip("SALib", reason="SALib not installed (pip install -e '.[salib]')")
    from SALib.sample import morris as morris_sample

    x = morris_sample.sample(dict(PROBLEM), 20, num_levels=4, seed=2)
    out = write_report(salib_folder(tmp_path, "morris", x, {COVERAGE: 2 * x[:, 0]}))
    morris = pd.read_csv(out / "morris.csv").set_index("factor")
    assert morris.at["x1", "mu_star"] == pytest.approx(2.0)
    assert morris.at["x2", "mu_star"] == pytest.approx(0.0)


def test_without_salib_a_clear_line(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "_salib", lambda: None)
    x = np.random.default_rng(0).random((12, 2))
    out = write_report(salib_folder(tmp_path, "sobol", x, {COVERAGE: x[:, 0]}))
    assert "pip install -e '.[salib]'" in (out / "summary.md").read_text()
    assert not (out / "sobol.csv").exists()
    assert (out / "summary.csv").exists()


def test_sobol_with_unfinished_points_does_not_crash(tmp_path):
    pytest.importorskip("SALib", reason="SALib not installed (pip install -e '.[salib]')")
    from SALib.sample import sobol as sobol_sample

    x = sobol_sample.sample(dict(PROBLEM), 8, seed=2)
    folder = salib_folder(tmp_path, "sobol", x, {COVERAGE: x[:, 0]})
    batch = folder / "runs" / "batch-0001.parquet"
    table = pq.read_table(batch).to_pandas()
    pq.write_table(pa.Table.from_pandas(table[table["point"] != 3], preserve_index=False), batch)
    out = write_report(folder)
    md = (out / "summary.md").read_text()
    assert f"Sobol indices of `{COVERAGE}` not computed: 1 of {len(x)} design points" in md
    assert pd.read_csv(out / "sobol.csv").empty


MORRIS_TOML = """
base = "{base}"
replications = 2
seed = 5
common_random_numbers = true
metrics = ["coverage.street_fraction"]

[design]
kind = "morris"
samples = 12

[factors]
"cameras.adoption" = {{ min = 0.1, max = 0.5 }}
"requests.opt_out" = {{ min = 0.0, max = 0.5 }}
"reporting.bias" = {{ min = 1.0, max = 3.0 }}
"""
# y = 2 adoption + 0 opt_out + 0.5 bias: elementary effects per factor range (SALib's unit
# cube): 2 x 0.4, 0, 0.5 x 2
MORRIS_EFFECTS = {"cameras.adoption": 0.8, "requests.opt_out": 0.0, "reporting.bias": 1.0}


def test_morris_with_duplicate_points_through_the_sweep_store(tmp_path):
    """A Morris design holds the same point more than once: every point still gets its own
    runs (run ids keyed by position for the copies), and the report recovers the elementary
    effects of a known linear function."""
    pytest.importorskip("SALib", reason="SALib not installed (pip install -e '.[salib]')")
    from sim.runs.experiment import load_experiment
    from sim.runs.sweep import Store, plan

    base = Path(__file__).resolve().parents[1] / "scenarios" / "default.toml"
    path = tmp_path / "morris.toml"
    path.write_text(MORRIS_TOML.format(base=base.as_posix()))
    exp = load_experiment(path)
    keys = [tuple(sorted(p.items())) for p in exp.points]
    assert len(set(keys)) < len(keys), "the design should hold duplicate points"
    runs = plan(exp)
    assert len({r.run_id for r in runs}) == len(runs)
    store = Store(tmp_path / "results")
    store.prepare(exp)
    rows = []
    for r in runs:
        y = 2 * r.values["cameras.adoption"] + 0.5 * r.values["reporting.bias"]
        row = {"run_id": r.run_id, "point": r.point, "replicate": r.replicate, "seed": r.seed}
        row.update({f"param:{k}": v for k, v in r.values.items()})
        row.update({"coverage.street_fraction": y, "status": "ok", "error": None})
        rows.append((row, None))
    store.write_batch(rows)
    out = write_report(tmp_path / "results")
    morris = pd.read_csv(out / "morris.csv").set_index("factor")
    for factor, effect in MORRIS_EFFECTS.items():
        assert morris.at[factor, "mu_star"] == pytest.approx(effect, abs=1e-9)
        assert morris.at[factor, "sigma"] == pytest.approx(0.0, abs=1e-9)


def test_contrasts_paired_by_other_factors(tmp_path, factorial):
    import shutil

    out, truth = factorial
    folder = tmp_path / "sweep"
    shutil.copytree(out.parent, folder, ignore=shutil.ignore_patterns("report"))
    write_manifest(folder, contrasts=[{"factor": MODE, "a": "portal", "b": "rfa"}])
    lines = []
    rep = write_report(folder, progress=lines.append)
    assert any(line.startswith("figures: ") for line in lines) and lines[-1].startswith("written")
    table = pd.read_csv(rep / "contrasts.csv")
    cov = table[table["metric"] == COVERAGE].set_index("matched")
    # opt_out = 0.1: point 1 (rfa) - point 0 (portal); replicate 3 of point 1 failed
    diffs = [truth[1, r][COVERAGE] - truth[0, r][COVERAGE] for r in range(3)]
    iv = paired_interval(diffs)
    row = cov.loc[f"{OPT_OUT}=0.1"]
    assert (row["point_a"], row["point_b"], row["n_pairs"]) == (0, 1, 3)
    assert (row["mean_difference"], row["ci_low"], row["ci_high"]) == pytest.approx(
        (iv.mean, iv.low, iv.high)
    )
    # all matched points: per replicate the mean over the pairs both finished, then over reps
    per_rep = []
    for r in range(REPS):
        pairs = [(a, b) for a, b in ((0, 1), (2, 3)) if truth[b, r] is not None]
        per_rep.append(np.mean([truth[b, r][COVERAGE] - truth[a, r][COVERAGE] for a, b in pairs]))
    iv = paired_interval(per_rep)
    assert cov.loc["all", "mean_difference"] == pytest.approx(iv.mean)
    assert cov.loc["all", "ci_low"] == pytest.approx(iv.low)
    assert cov.loc["all", "n_pairs"] == REPS
    md = (rep / "summary.md").read_text()
    assert f"### {MODE}: rfa - portal" in md


def test_long_csv_every_metric_figured_and_no_stale_note(tmp_path):
    """More than 12 metrics: each gets its figure; the long CSV has a row per point and
    metric; no note about a `metrics` argument."""
    metrics = [
        "police.stops",
        "reports.total",
        "incidents.total",
        "cameras.count",
        "requests.voluntary",
        "requests.legal",
        "footage.clips_shared",
        "footage.legal_clips",
        "reports.alerts",
        "trips.started",
        "trips.completed",
        "protest.count",
        "police.stop_disparity_ratio",
        "reports.minority_share",
    ]
    write_manifest(tmp_path, factors={MODE: ["portal", "rfa"]}, design_points=2)
    write_design(tmp_path, {"point": [0, 1], MODE: ["portal", "rfa"]})
    rng = np.random.default_rng(0)
    rows = [
        run_row(p, r, {MODE: m}, {k: float(rng.poisson(0.2)) for k in metrics})
        for p, m in enumerate(["portal", "rfa"])
        for r in range(REPS)
    ]
    (tmp_path / "runs").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "runs" / "batch-1.parquet")
    out = write_report(tmp_path)
    for m in metrics:
        assert (out / f"{m}__vs__{MODE}.png").exists(), m
    long = pd.read_csv(out / "summary_long.csv")
    assert list(long.columns) == ["point", MODE, "metric", "mean", "ci_low", "ci_high", "n"]
    assert len(long) == 2 * len(metrics)
    counts = long[long["metric"] == "police.stops"]
    assert (counts["ci_low"] >= 0).all()  # rare events: never a negative count
    share = long[long["metric"] == "reports.minority_share"]
    assert (share["ci_low"] >= 0).all() and (share["ci_high"] <= 1).all()
    md = (out / "summary.md").read_text()
    assert "`metrics` argument" not in md
    assert "| `police.stops` (stops) |" in md


@pytest.mark.parametrize(
    "report_table, needle",
    [
        ('contrasts = [["requests.regime=portal", "requests.regime=rfa"]]', None),
        ('contrasts = [["requests.regime=portal"]]', "must be a pair"),
        ('contrasts = [["requests.regim=portal", "requests.regime=rfa"]]', "requests.regim"),
        ('contrasts = [["requests.regime=portal", "requests.regime=web"]]', "not one of"),
        ('contrasts = [["requests.regime=portal", "requests.opt_out=0.5"]]', "same factor"),
        ('contrasts = [["requests.regime=rfa", "requests.regime=rfa"]]', "the same"),
        ("contrast = []", "report.contrast"),
    ],
)
def test_contrast_keys_validated(tmp_path, report_table, needle):
    from sim.runs.experiment import load_experiment
    from sim.scenario.scenario import ScenarioError

    base = (Path(__file__).resolve().parents[1] / "scenarios" / "default.toml").as_posix()
    path = tmp_path / "e.toml"
    path.write_text(
        f'base = "{base}"\n[factors]\n"requests.regime" = ["portal", "rfa"]\n'
        f'"requests.opt_out" = [0.0, 0.5]\n[report]\n{report_table}\n'
    )
    if needle is None:
        exp = load_experiment(path)
        assert exp.contrasts == [{"factor": "requests.regime", "a": "portal", "b": "rfa"}]
        assert exp.manifest()["contrasts"] == exp.contrasts
        return
    with pytest.raises(ScenarioError) as err:
        load_experiment(path)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_contrasts_added_to_the_experiment_after_the_sweep(tmp_path):
    """The report reads the contrasts of the experiment file as it is now (same design), and
    a wrong one is a one-line error."""
    from sim.runs.experiment import load_experiment
    from sim.runs.sweep import Store, plan

    base = (Path(__file__).resolve().parents[1] / "scenarios" / "default.toml").as_posix()
    path = tmp_path / "e.toml"
    body = f'base = "{base}"\nreplications = 3\n[factors]\n"{MODE}" = ["portal", "rfa"]\n'
    path.write_text(body)
    exp = load_experiment(path)
    store = Store(tmp_path / "results")
    store.prepare(exp)
    rows = []
    for r in plan(exp):
        value = 0.2 + 0.1 * (r.values[MODE] == "rfa") + 0.01 * r.replicate
        row = {"run_id": r.run_id, "point": r.point, "replicate": r.replicate, "seed": r.seed}
        rows.append(({**row, COVERAGE: value, "status": "ok", "error": None}, None))
    store.write_batch(rows)
    assert not (write_report(tmp_path / "results") / "contrasts.csv").exists()
    path.write_text(body + f'[report]\ncontrasts = [["{MODE}=portal", "{MODE}=rfa"]]\n')
    out = write_report(tmp_path / "results")
    table = pd.read_csv(out / "contrasts.csv")
    row = table[table["metric"] == COVERAGE].iloc[0]
    assert row["mean_difference"] == pytest.approx(0.1)
    assert row["ci_low"] == pytest.approx(0.1) and row["n_pairs"] == 3
    path.write_text(body + f'[report]\ncontrasts = [["{MODE}=portal", "{MODE}=web"]]\n')
    with pytest.raises(ReportError, match="not one of its values"):
        write_report(tmp_path / "results")
