"""The privacy ledger: who was exposed through which path (sim/model/ledger.py), end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.model.model import NeighbourhoodModel
from sim.scenario.scenario import Scenario
from sim.scenario.schema import LEDGER_PATHS

ROOT = Path(__file__).resolve().parents[1]
# Two busy days: every path but the AI features has something to disclose.
BUSY = {
    "world.blocks_x": 6,
    "world.blocks_y": 4,
    "time.days": 2.0,
    "population.pedestrians": 1200,
    "population.offender_fraction": 0.15,
    "cameras.adoption": 0.4,
    "incidents.victim_reporting": 1.0,
    "police.request_probability": 1.0,
    "police.extra_requests": 2.0,
    "police.request_window_hours": 10.0,
    "police.request_delay_hours": 6.0,
    "requests.regime": "portal",
    "requests.share_probability": 0.5,
    "legal.demand_probability": 0.5,
    "legal.emergency_probability": 1.0,
    "protest.per_30_days": 30.0,
    "protest.request_probability": 1.0,
    "privacy.two_factor": 0.0,
    "privacy.compromise_per_year": 0.9,
}
GROUPS = ("majority", "minority")
ON_PATHS = ("voluntary", "legal", "emergency", "compromise", "protest")


def run(**kv) -> tuple[NeighbourhoodModel, dict]:
    model = NeighbourhoodModel(Scenario().replace({**BUSY, **kv}), rng=3)
    return model, model.run()


@pytest.fixture(scope="module")
def busy(tmp_path_factory) -> tuple[dict, object]:
    """One busy run through the command line: its metrics and its ledger.parquet."""
    out = tmp_path_factory.mktemp("ledger") / "out"
    sets = [a for k, v in BUSY.items() for a in ("--set", f"{k}={json.dumps(v)}")]
    proc = subprocess.run(
        [
            sys.executable,
            "run.py",
            "run",
            "scenarios/default.toml",
            "--out",
            out,
            "--quiet",
            "--seed",
            "3",
            *sets,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "ledger.png").read_bytes().startswith(b"\x89PNG")
    metrics = json.loads((out / "metrics.json").read_text())
    return metrics, pq.read_table(out / "ledger.parquet").to_pandas()


def test_ledger_totals_are_the_sums_over_ledger_parquet(busy):
    metrics, ledger = busy
    assert list(ledger.columns) == ["person", "path", "group", "offender", "clips", "cameras"]
    assert set(ledger.path) <= set(LEDGER_PATHS)
    assert not ledger.duplicated(["person", "path"]).any()
    assert (ledger.cameras >= 1).all() and (ledger.cameras <= ledger.clips).all()
    bystanders = ledger[~ledger.offender]
    for path in LEDGER_PATHS:
        rows = bystanders[bystanders.path == path]
        assert metrics[f"privacy.exposed.{path}.total"] == len(rows)
        for g in GROUPS:
            assert metrics[f"privacy.exposed.{path}.{g}"] == int((rows.group == g).sum())
        offenders = ledger[ledger.offender & (ledger.path == path)]
        assert metrics[f"privacy.exposed_offenders.{path}"] == len(offenders)
    for g in GROUPS:
        anyone = bystanders[bystanders.group == g].person.nunique()
        assert metrics[f"privacy.exposed_any.{g}"] == anyone
    for path in ON_PATHS:  # the busy run exercises every path but the AI features
        assert metrics[f"privacy.exposed.{path}.total"] > 0, path
    assert metrics["privacy.people_exposed_by_compromise"] == int(
        (ledger.path == "compromise").sum()
    )


@pytest.mark.parametrize(
    ("off", "paths"),
    [
        ({"requests.regime": "none"}, ("voluntary", "protest")),
        ({"legal.demand_probability": 0.0}, ("legal",)),
        ({"legal.emergency_probability": 0.0}, ("emergency",)),
        ({"privacy.compromise_per_year": 0.0}, ("compromise",)),
    ],
)
def test_a_path_switched_off_exposes_nobody(off, paths):
    _, m = run(**off)
    for path in paths:
        assert m[f"privacy.exposed.{path}.total"] == 0
        assert m[f"privacy.exposed_offenders.{path}"] == 0
    others = [p for p in ON_PATHS if p not in paths]
    assert all(m[f"privacy.exposed.{p}.total"] > 0 for p in others), others


def test_every_account_compromised_exposes_the_recorded_population():
    """Forcing the compromise path on for every camera (every account taken over on the first
    day, nothing encrypted) leaks every sighting: the people exposed through it are, group by
    group, the people recorded."""
    model, m = run(**{"privacy.compromise_per_year": 1.0, "privacy.e2ee": 0.0})
    recorded = model.recorder.ever_recorded
    offender = model.population.offender
    group = model.population.group
    for g, name in enumerate(GROUPS):
        mine = group == g
        assert m[f"privacy.exposed.compromise.{name}"] == np.count_nonzero(
            recorded & mine & ~offender
        )
    assert m["privacy.exposed_offenders.compromise"] == np.count_nonzero(recorded & offender)
    assert m["privacy.exposed.compromise.total"] > 500


def test_tracking_counts_three_cameras_in_one_day_and_the_route_they_cover():
    """A hand-worked case: person 0 is seen by cameras 1, 2 and 3 on day 0 in minutes 10-14,
    12-20 and 30-32 (14 minutes) and walks 20 minutes that day (5-19, and 1435-1439 of a trip
    that ends after midnight): 0.7; person 1 is seen by two cameras on day 0 and a third on
    day 1 (not tracked); person 2, an offender, by three (not a bystander)."""
    from sim.model.footage import Sightings
    from sim.model.ledger import Disclosed, WalkingDays, tracking

    rows = [  # camera, person, t_in, t_out
        (1, 0, 10, 14),
        (2, 0, 12, 20),
        (3, 0, 30, 32),
        (1, 1, 100, 101),
        (2, 1, 200, 201),
        (3, 1, 1500, 1501),
        (1, 2, 10, 11),
        (2, 2, 20, 21),
        (3, 2, 30, 31),
    ]
    cols = [np.array(c) for c in zip(*rows, strict=True)]
    found = {"voluntary": [Disclosed(np.zeros(len(rows), np.int64), Sightings(*cols))]}
    walking = WalkingDays(3, 3 * 1440)
    walking.add(np.array([0, 0, 1]), np.array([5, 1435, 90]), np.array([15, 11, 30]))
    assert walking.minutes(np.array([0, 1]), np.array([0, 0])).tolist() == [20, 6]
    group = np.array([1, 0, 1])
    offender = np.array([False, False, True])
    out = tracking(found, walking, group, offender, ["majority", "minority"])
    assert out["privacy.tracked.majority"] == 0
    assert out["privacy.tracked.minority"] == 1
    assert out["privacy.route_reconstructable_fraction"] == pytest.approx(0.7)


def test_when_every_sighting_leaks_the_route_covered_is_the_exposure():
    """Every camera's account taken over, full adoption, certain detection: nearly every
    walker is tracked, and the disclosed clips (whole minutes) place a tracked walker in
    more of their walking minutes than the continuous share of time on camera, but not in
    all of them."""
    _, m = run(
        **{
            "privacy.compromise_per_year": 1.0,
            "privacy.e2ee": 0.0,
            "cameras.adoption": 1.0,
            "cameras.detection_probability": 1.0,
        }
    )
    tracked = m["privacy.tracked.majority"] + m["privacy.tracked.minority"]
    exposed = m["privacy.exposed_any.majority"] + m["privacy.exposed_any.minority"]
    assert 0.9 * exposed <= tracked <= exposed
    route = m["privacy.route_reconstructable_fraction"]
    assert m["coverage.exposure_fraction"] + 0.1 < route < 1.0


def test_ai_features_are_off_by_default_and_expose_nobody():
    s = Scenario()
    assert s["ai.face_recognition"] == 0 and s["ai.pet_search"] is False
    _, m = run()
    for path in ("face_recognition", "pet_search"):
        assert m[f"privacy.exposed.{path}.total"] == 0
        assert m[f"privacy.exposed_offenders.{path}"] == 0
    assert m["ai.pet_searches"] == 0
    assert m["privacy.faces_held.majority"] + m["privacy.faces_held.minority"] == 0


def test_facial_recognition_on_every_camera_processes_everyone_recorded():
    """Every owner subscribed, none encrypting, all turning facial recognition on: the faces
    processed are, group by group, the people recorded; where the feature is not offered,
    nobody's."""
    on = {"ai.face_recognition": 1.0, "privacy.subscription": 1.0, "privacy.e2ee": 0.0}
    model, m = run(**on)
    recorded = model.recorder.ever_recorded
    offender = model.population.offender
    group = model.population.group
    for g, name in enumerate(GROUPS):
        want = np.count_nonzero(recorded & (group == g) & ~offender)
        assert m[f"privacy.exposed.face_recognition.{name}"] == want
        # the run is shorter than the retention: every face processed is still held
        assert m[f"privacy.faces_held.{name}"] == np.count_nonzero(recorded & (group == g))
    assert m["privacy.exposed_offenders.face_recognition"] == np.count_nonzero(recorded & offender)
    _, off = run(**on, **{"ai.face_recognition_offered": False})
    assert off["privacy.exposed.face_recognition.total"] == 0


def test_a_short_face_retention_holds_fewer_faces():
    on = {"ai.face_recognition": 1.0, "privacy.subscription": 1.0, "privacy.e2ee": 0.0}
    _, long = run(**on)
    _, short = run(**on, **{"ai.face_retention_days": 1.0})
    held = [sum(m[f"privacy.faces_held.{g}"] for g in GROUPS) for m in (long, short)]
    assert 0 < held[1] < held[0]


def test_lost_dog_searches_scan_nearby_video_unless_switched_off():
    on = {
        "ai.pet_search": True,
        "ai.pet_searches_per_30_days": 150.0,
        "ai.pet_search_opt_out": 0.0,
        "privacy.e2ee": 0.0,
    }
    _, m = run(**on)
    assert m["ai.pet_searches"] > 0
    assert m["privacy.exposed.pet_search.total"] > 0
    _, off = run(**{**on, "ai.pet_search_opt_out": 1.0})
    assert off["ai.pet_searches"] == m["ai.pet_searches"]  # the same searches, nothing scanned
    assert off["privacy.exposed.pet_search.total"] == 0


def test_run_writes_the_ledger_figure(busy, tmp_path):
    """ledger.png: bars per path, bystanders stacked by group, as high as the metrics."""
    from sim.runs.ledger_figure import ledger_figure

    metrics, _ = busy
    fig = ledger_figure(metrics, list(GROUPS))
    ax = fig.axes[0]
    bars = ax.patches  # drawn group by group, then the offenders
    majority = [b.get_height() for b in bars[: len(LEDGER_PATHS)]]
    minority = [b.get_height() for b in bars[len(LEDGER_PATHS) : 2 * len(LEDGER_PATHS)]]
    assert majority == [metrics[f"privacy.exposed.{p}.majority"] for p in LEDGER_PATHS]
    assert minority == [metrics[f"privacy.exposed.{p}.minority"] for p in LEDGER_PATHS]
    assert ax.get_ylabel() and ax.get_xlabel() and ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "offenders"
    # the means of replications: the 95 % interval of each path's total as an error bar
    cis = {f"privacy.exposed.{p}.total.ci_{e}": 1.0 for p in LEDGER_PATHS for e in ("low", "high")}
    ax = ledger_figure({**metrics, **cis}, list(GROUPS)).axes[0]
    assert ax.get_legend().get_texts()[-2].get_text() == "95 % interval (total)"


def test_a_sweep_report_draws_the_ledger_of_each_design_point(tmp_path):
    """An experiment asking for ``privacy.exposed*`` records every ledger metric; its report
    draws one ledger per design point (ledger.png) from the runs' means: more compromised
    accounts expose more people through that path, and no path but the two switched on
    exposes anyone."""
    from sim.runs.report import ledger_panels, load_results

    exp = tmp_path / "ledger.toml"
    quiet = {k: v for k, v in BUSY.items() if k.startswith(("world.", "population.", "cameras."))}
    overrides = {
        **quiet,
        "time.days": 1.0,
        "requests.regime": "none",
        "legal.demand_probability": 0.0,
        "legal.emergency_probability": 0.0,
        "protest.per_30_days": 0.0,
        "privacy.two_factor": 0.0,
    }
    lines = [
        f'base = "{ROOT / "scenarios" / "default.toml"}"',
        "replications = 2",
        "seed = 5",
        'metrics = ["privacy.exposed*", "reports.total"]',
        "[factors]",
        '"privacy.compromise_per_year" = [0.0, 0.9]',
        "[overrides]",
        *(f'"{k}" = {json.dumps(v)}' for k, v in overrides.items()),
    ]
    exp.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    run = [sys.executable, "run.py"]
    proc = subprocess.run(
        [*run, "sweep", str(exp), "--out", str(out), "--quiet", "--workers", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [*run, "report", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "report" / "ledger.png").stat().st_size > 10_000
    assert "## The privacy ledger" in (out / "report" / "summary.md").read_text()
    res = load_results(out)
    assert {f"privacy.exposed.{p}.{g}" for p in LEDGER_PATHS for g in GROUPS} <= set(res.metrics)
    panels, groups, per = ledger_panels(res)
    assert groups == list(GROUPS) and per == "design point" and len(panels) == 2
    (_, none), (_, some) = panels
    assert none["privacy.exposed.compromise.total"] == 0
    assert some["privacy.exposed.compromise.total"] > 0
    runs = res.ok[res.ok["privacy.compromise_per_year"] == 0.9]
    assert some["privacy.exposed.compromise.minority"] == pytest.approx(
        runs["privacy.exposed.compromise.minority"].mean()
    )
    for p in set(LEDGER_PATHS) - {"compromise", "voluntary"}:
        assert some[f"privacy.exposed.{p}.total"] == 0


def test_a_metric_pattern_that_matches_nothing_is_refused(tmp_path):
    exp = tmp_path / "bad.toml"
    exp.write_text(
        f'base = "{ROOT / "scenarios" / "default.toml"}"\nmetrics = ["privacy.exposd*"]\n'
        '[factors]\n"reporting.bias" = [1.0, 2.0]\n'
    )
    proc = subprocess.run(
        [sys.executable, "run.py", "sweep", str(exp), "--out", str(tmp_path / "o")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "'privacy.exposd*' matches no metric" in proc.stderr
