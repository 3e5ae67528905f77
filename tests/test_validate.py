"""The validation report (``run.py validate``): the command end to end, its exit status, the
report's content, and how pattern checks from ``sim.validation.patterns`` join it.

Each analytic check is tested where its mechanism is (test_coverage, test_reporting,
test_adoption, test_requests): it passes at size quick and fails when fed a wrong formula or
a broken mechanism. Here the command runs them all at size quick, as ``make validate`` runs
them at size full.
"""

from __future__ import annotations

import json

import pytest

from sim.ui import cli
from sim.validation import validate
from sim.validation.checks import Check

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check(name: str, passed: bool, kind: str = "analytic", figure: str | None = None) -> Check:
    return Check(
        name=name,
        kind=kind,
        title=f"{name} title",
        expected="x = 1",
        observed=1.0 if passed else 2.0,
        ci=(0.9, 1.1) if passed else (1.8, 2.2),
        passed=passed,
        detail="how | measured",
        figure=figure,
        source="a source",
    )


def test_validate_quick_writes_the_report_and_exits_0(tmp_path, capsys):
    """Every analytic check passes at size quick; report.md, checks.json and one figure per
    check are written; the command prints the report's path and a one-line summary."""
    out = tmp_path / "validation"
    status = cli.main(
        ["validate", "--size", "quick", "--only", "analytic", "--out", str(out), "--quiet"]
    )
    printed = capsys.readouterr().out
    data = json.loads((out / "checks.json").read_text())
    failed = [c["name"] for c in data if not c["passed"]]
    assert status == 0, failed
    assert f"report: {out / 'report.md'}" in printed
    assert f"{len(validate.ANALYTIC)} of {len(validate.ANALYTIC)} checks passed" in printed
    assert [c["name"] for c in data] == list(validate.ANALYTIC)
    report = (out / "report.md").read_text()
    for c in data:
        assert c["kind"] == "analytic"
        assert c["expected"] and c["detail"]
        assert c["observed"] is not None and c["ci"][0] <= c["observed"] <= c["ci"][1]
        assert (out / c["figure"]).read_bytes()[:8] == PNG_SIGNATURE
        assert f"![{c['name']}]({c['figure']})" in report
        row = next(line for line in report.splitlines() if line.startswith(f"| [{c['name']}]"))
        assert row.endswith("| - | pass |")  # analytic checks count no events
        Check(**c)  # checks.json holds Check records


def test_a_failing_check_gives_status_1_and_is_marked(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        validate,
        "ANALYTIC",
        {
            "ok.one": lambda size, out=None, workers=1: _check("ok.one", True),
            "bad.two": lambda size, out=None, workers=1: _check("bad.two", False),
        },
    )
    out = tmp_path / "v"
    assert cli.main(["validate", "--only", "analytic", "--out", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "1 of 2 checks passed" in printed and "failed: bad.two" in printed
    report = (out / "report.md").read_text()
    assert "**1 of 2 checks passed**" in report
    assert "| [bad.two](#bad-two) | analytic | x = 1 | 2 [1.8, 2.2] | - | **FAIL** |" in report
    assert "how \\| measured" not in report  # details are prose, only table cells are escaped
    assert "how | measured" in report


@pytest.mark.parametrize(
    "args, message",
    [
        (["--workers", "0"], "--workers 0: must be at least 1"),
        (["--out", "FILE"], "exists and is not a folder"),
    ],
)
def test_bad_input_is_one_line(tmp_path, capsys, args, message):
    afile = tmp_path / "file.txt"
    afile.write_text("not a folder")
    args = [str(afile) if a == "FILE" else a for a in args]
    assert cli.main(["validate", "--only", "analytic", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]


def test_unknown_size_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["validate", "--size", "huge"])
    assert exc.value.code == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err


def _fake_patterns(monkeypatch, pattern_checks) -> None:
    monkeypatch.setattr(validate, "pattern_checks", pattern_checks)


def test_pattern_checks_join_the_report_with_their_figures(tmp_path, monkeypatch):
    """validate calls sim.validation.patterns.pattern_checks (size, workers, progress, out_dir); a
    figure written elsewhere is copied next to the report."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "p1.png").write_bytes(PNG_SIGNATURE)
    calls = {}

    def pattern_checks(size="full", workers=None, progress=None, out_dir=None):
        calls.update(size=size, workers=workers, out_dir=out_dir)
        progress("patterns: stage one")
        progress("patterns: stage two")
        return [
            _check("pattern.1", True, "pattern", str(elsewhere / "p1.png")),
            _check("pattern.2", False, "pattern"),
        ]

    _fake_patterns(monkeypatch, pattern_checks)
    seen = []
    out = tmp_path / "v"
    path, checks = validate.validate("quick", 2, out, "pattern", lambda *a: seen.append(a))
    assert calls == {"size": "quick", "workers": 2, "out_dir": out}
    assert [c.name for c in checks] == ["pattern.1", "pattern.2"]
    assert checks[0].figure == "p1.png" and (out / "p1.png").is_file()
    assert seen == [
        ("pattern", "patterns: stage one", 0, None),
        ("pattern", "patterns: stage two", 1, None),
    ]
    report = path.read_text()
    assert "## Pattern checks" in report and "![pattern.1](p1.png)" in report


def test_pattern_labels_events_and_unmeasured_parts_are_reported(tmp_path, capsys, monkeypatch):
    """Pattern checks show what they are (input, fitted, emergent) and the events they rest
    on; a part with too few events is "not measured", not passed: the summary counts only
    fitted and emergent parts as reproduced, and the command exits 1."""

    def part(name, label, passed, events, measured=True):
        c = _check(name, passed, "pattern")
        c.label, c.events, c.min_events, c.measured = label, events, 100, measured
        return c

    def pattern_checks(size="full", workers=None, progress=None, out_dir=None):
        return [
            part("pattern.1", "input", True, 2000),
            part("pattern.6b", "emergent", False, 40, measured=False),
            part("pattern.7", "fitted", True, 300),
        ]

    _fake_patterns(monkeypatch, pattern_checks)
    out = tmp_path / "v"
    assert cli.main(["validate", "--only", "pattern", "--out", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "2 of 3 checks passed" in printed and "not measured: pattern.6b" in printed
    assert "failed:" not in printed
    report = (out / "report.md").read_text()
    assert "**2 of 3 checks passed**; 1 not measured (too few events)." in report
    assert (
        "| [pattern.6b](#pattern-6b) | pattern (emergent) | x = 1 | 2 [1.8, 2.2] | 40 (100) "
        "| **not measured** |" in report
    )
    assert "| pattern (input) |" in report and "| 2000 (100) | pass |" in report
    assert (
        "emergent: 0 of 1 confirmed (1 not measured); fitted: 1 of 1 confirmed; input: 1 of 1 "
        "confirmed" in report
    )
    assert "count as reproduced: **1 of 2**" in report
    assert "- **What it is:** emergent" in report and "- **Events:** 40 (100)" in report
    data = json.loads((out / "checks.json").read_text())
    assert data[1]["measured"] is False and data[1]["label"] == "emergent"
    Check(**data[1])


def test_a_crash_of_the_pattern_checks_is_a_failed_check(tmp_path, monkeypatch):
    def crashes(size="full", workers=None, progress=None, out_dir=None):
        raise RuntimeError("no calibrated scenario")

    _fake_patterns(monkeypatch, crashes)
    checks = validate.run_checks("quick", 1, tmp_path, "pattern")
    assert [c.name for c in checks] == ["pattern.error"] and not checks[0].passed
    assert "RuntimeError: no calibrated scenario" in checks[0].detail


def test_sizes_are_checked():
    with pytest.raises(ValueError, match="size 'huge'"):
        validate.coverage_formula("huge")


def test_exact_interval_of_a_share():
    share, ci = validate._proportion(0, 30)
    assert share == 0 and ci[0] == 0 and ci[1] == pytest.approx(1 - 0.025 ** (1 / 30))
    assert validate._proportion(0, 0) == (None, None)


def test_a_checks_numbers_are_computed_without_drawing(monkeypatch, tmp_path):
    """Compute (``<check>_result``: runs and statistics) draws nothing; render (the check
    itself) turns the same numbers into the verdict, prose and figure."""

    def no_drawing(*args, **kwargs):
        raise AssertionError("compute drew a figure")

    validate.clear_cache()
    with monkeypatch.context() as m:
        m.setattr(validate, "new_figure", no_drawing)
        res = validate.coverage_formula_result("quick")
    assert res["covered"] and res["power"]
    a, mean, ci, expected = res["head"][:4]
    assert a == validate.COVERAGE_HEADLINE and ci[0] <= expected <= ci[1]
    assert mean == pytest.approx(expected, abs=0.05)
    check = validate.coverage_formula("quick", out=tmp_path)  # the cached runs, drawn
    assert check.passed and check.observed == pytest.approx(mean)
    assert check.figure and (tmp_path / check.figure).is_file()
    assert f"{mean:.4f}" in check.detail
