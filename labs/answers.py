"""The answer key's numbers, recomputed from the code: every block of labs/answer_key.md between
``<!-- answers.py: NAME -->`` and ``<!-- /answers.py -->`` is made here, by the labs' own
commands (``run.py run`` with the options the labs print) or by the classroom app's model.

    .venv/bin/python labs/answers.py                 # print every block, and how long each took
    .venv/bin/python labs/answers.py --write         # rewrite the blocks in answer_key.md
    .venv/bin/python labs/answers.py --check         # exit 1 if a block in the key is stale
    .venv/bin/python labs/answers.py lab1_formula    # only the blocks named

Formula blocks take milliseconds; each simulated block runs the labs' commands (the whole key:
see "Time needed" in labs/README.md for the measured times on two cores).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

LABS = Path(__file__).resolve().parent
ROOT = LABS.parent
KEY = LABS / "answer_key.md"
BLOCK = re.compile(r"(<!-- answers\.py: (\w+) -->\n)(.*?)(<!-- /answers\.py -->)", re.S)
ADOPTIONS = (0.05, 0.1, 0.2, 0.3)
LAB2_GRID = [(p, k) for p in (0.1, 0.3, 0.5) for k in (1, 2, 4)]
V = 0.9  # cameras.detection_probability, the labs' v (tests/test_labs.py checks the schema's)
STREET_V = V * (1 - 0.1)  # v times the share of cameras that see the street (10 % are indoor)


def f(x: float | None, digits: int = 3) -> str:
    """A number as the key prints it: fixed decimals, thousands separated, n/a if missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:,.{digits}f}".replace("-", "−")


def pct(x: float | None) -> str:
    """A share as the labs print it: whole per cent, with a space (27 %)."""
    return "n/a" if x is None else f"{100 * x:.0f} %"


def ci(m: dict, key: str, digits: int = 3) -> str:
    """Mean [95 % interval] of a metric of a replicated run."""
    lo, hi = m.get(f"{key}.ci_low"), m.get(f"{key}.ci_high")
    if lo is None or hi is None:
        return f(m.get(key), digits)
    return f"{f(m[key], digits)} [{f(lo, digits)}, {f(hi, digits)}]"


def run(*args: str) -> dict:
    """``run.py run ARGS --out TMP`` as a student types it; its metrics.json."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "run.py", "run", *args, "--out", str(out), "--quiet"]
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        return json.loads((out / "metrics.json").read_text())


# --------------------------------------------------------------------------- Lab 1


def p_recorded(a: float, n: float, v: float = V) -> float:
    return 1 - (1 - a * v) ** n


def lab1_formula() -> str:
    rows = [
        "| a | a v | n = 10 | n = 20 | n = 40 |",
        "|---|---|---|---|---|",
    ]
    for a in ADOPTIONS:
        cells = [f(p_recorded(a, n), 6) for n in (10, 20, 40)]
        rows.append(f"| {a:.2f} | {f(a * V, 3).rstrip('0')} | " + " | ".join(cells) + " |")
    miss = (1 - 0.2 * V) ** 40
    need = {n: (1 - 0.1 ** (1 / n)) / V for n in (10, 20, 40)}
    need99 = {n: (1 - 0.01 ** (1 / n)) / V for n in (10, 40)}
    return "\n".join(
        [
            "### A1. P(recorded) = 1 − (1 − 0.9 a)^n",
            "",
            *rows,
            "",
            "The chance of *not* being recorded, (1 − a v)^n, is the easier number to discuss: at",
            f"a = 0.2 and n = 40 it is about 1 in {round(1 / miss, -2):,.0f}; at a = 0.05 and "
            f"n = 10 it is {f(1 - p_recorded(0.05, 10), 2)}.",
            "",
            "### A2. Adoption needed for P = 0.9",
            "",
            f"a = (1 − 0.1^(1/n)) / 0.9: **n = 40: a = {f(need[40], 4)}**; n = 20: "
            f"a = {f(need[20], 4)}; **n = 10: a = {f(need[10], 4)}**. (For P = 0.99: n = 40: "
            f"{f(need99[40], 4)}; n = 10: {f(need99[10], 4)}.) Point to make: by the formula, a "
            f"5-minute walk is recorded nine times in ten once about one home in "
            f"{round(1 / need[40])} has a camera.",
            "",
            f"Part D, by the formula: indoor cameras (a v replaced by {f(STREET_V, 2)} a: the "
            "cameras that see the street) at a = 0.2, n = 20: "
            f"{f(p_recorded(0.2, 20), 3)} → {f(p_recorded(0.2, 20, STREET_V), 3)}. Varied trip "
            f"lengths at a = 0.2: n = 5 gives {f(p_recorded(0.2, 5))}, n = 35 gives "
            f"{f(p_recorded(0.2, 35))}, average "
            f"{f((p_recorded(0.2, 5) + p_recorded(0.2, 35)) / 2)}, against "
            f"{f(p_recorded(0.2, 20))} at n = 20; at a = 0.05: {f(p_recorded(0.05, 5))} and "
            f"{f(p_recorded(0.05, 35))}, average "
            f"{f((p_recorded(0.05, 5) + p_recorded(0.05, 35)) / 2)}, against "
            f"{f(p_recorded(0.05, 20))}.",
        ]
    )


CAMERA_TYPES = ("doorbell", "stickup", "floodlight", "indoor")


def lab1_views() -> str:
    """Part A3's street-in-view reasoning from the schema's defaults and sim/model/cameras.py."""
    from sim.model.cameras import view_half_width
    from sim.scenario.scenario import Scenario

    s = Scenario()
    setback, spacing = s["world.setback_m"], s["world.home_spacing_m"]
    mix = {t: s[f"cameras.mix.{t}"] for t in CAMERA_TYPES}
    seen = {
        t: 2 * view_half_width(s[f"cameras.range_m.{t}"], s[f"cameras.fov_deg.{t}"], setback)
        for t in CAMERA_TYPES
    }
    rounded = sum(mix[t] * round(seen[t]) for t in CAMERA_TYPES)
    exact = sum(mix[t] * seen[t] for t in CAMERA_TYPES)
    per_home = spacing / 2  # homes on both sides of the street
    v = s["cameras.detection_probability"]
    a = 0.2
    metres_per_minute = 78
    homes_per_minute = metres_per_minute / per_home
    return "\n".join(
        [
            "### A3. Predictions at a = 0.2 (and what the model gives)",
            "",
            "- **Street in view.** From the Background, the average camera sees about "
            + " + ".join(f"{mix[t]:.2f} × {round(seen[t])}" for t in CAMERA_TYPES)
            + f" ≈ {rounded:.1f} m ({exact:.1f} m with the exact view lengths in "
            "`sim/model/cameras.py`: "
            + ", ".join(f"{seen[t]:.1f}" for t in CAMERA_TYPES[:3])
            + f" m). With {per_home:g} m of street per home and no overlaps, the street share "
            f"would be about {exact / per_home:.2f} a ≈ {100 * exact / per_home * a:.0f} % at "
            f"a = {a}. "
            "In the generated world there is more street per home (no homes within "
            f"{s['world.corner_setback_m']:g} m of an intersection; see the street length per "
            "home under the Part C table), which brings the no-overlap estimate down, and "
            "overlaps pull it further below. Reference: the Part C table's a = 0.2 row "
            "(`coverage.street_fraction`). Accept any reasoned estimate between about half and "
            "one and a half times that reference.",
            "- **Walking time on camera.** A walker is on camera while inside a view, so the "
            "share of walking time on camera is about the share of the street walked that is in "
            f"view, times the detection probability: about {v:g} × the street share, if walkers "
            "used every street alike. It comes out a little above or below that "
            "(`exposure_fraction` in the Part C table against `street_fraction`) as the busiest "
            "streets have more or fewer cameras than the average one. (Counted in whole minutes "
            f"instead, a minute covers {metres_per_minute} m, about {homes_per_minute:.1f} homes, "
            f"and 1 − (1 − {a * v:.2f})^{homes_per_minute:.1f} ≈ "
            f"{p_recorded(a, homes_per_minute):.2f} of minutes would touch a view: a measure of "
            "the minute, not of the person.)",
            "- **Trips recorded.** Reference: `trip_recorded_fraction` in the Part C table.",
            "- **Ordering (robust, whatever the numbers):** trips > street ≳ walking time. A "
            "trip is recorded if any camera along it records the walker once; the street share "
            "is the share of length in view; the share of walking time is about that share of "
            "each walk, times the detection probability.",
        ]
    )


def lab1_runs() -> dict[float, dict]:
    """Lab 1 Part C's command for each adoption (2 days, 10 replications, seed 1)."""
    return {
        a: run(
            "scenarios/default.toml",
            f"--set=cameras.adoption={a}",
            "--set=time.days=2",
            "--replications=10",
            "--workers=2",
        )
        for a in ADOPTIONS
    }


def lab1_cli() -> str:
    runs = lab1_runs()
    cols = (
        "trip_recorded_fraction",
        "trip_in_view_fraction",
        "cameras_per_trip",
        "street_fraction",
        "exposure_fraction",
        "people_recorded_fraction",
    )
    rows = ["| a | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for a, m in runs.items():
        cells = [ci(m, f"coverage.{c}", 2 if c == "cameras_per_trip" else 3) for c in cols]
        rows.append(f"| {a:.2f} | " + " | ".join(cells) + " |")
    m = runs[0.2]
    minutes = m["pedestrians.walk_minutes"] / m["trips.completed"]
    n_hat = minutes * 78 / 9
    gaps = [
        m2["coverage.trip_in_view_fraction"] - m2["coverage.trip_recorded_fraction"]
        for m2 in runs.values()
    ]
    per_home = m["world.street_length_m"] / m["homes.count"]
    return "\n".join(
        [
            "### Part C: reference values (command of Part C, 2 days, 10 replications, seed 1)",
            "",
            *rows,
            "",
            f"Mean walking minutes per trip in these runs: about {minutes:.1f}, i.e. about "
            f"{round(minutes * 78, -1):.0f} m, i.e. n̂ ≈ {n_hat:.0f} homes. The formula at "
            f"n = {n_hat:.0f} gives "
            + ", ".join(f(p_recorded(a, n_hat)) for a in ADOPTIONS)
            + ". Other reference numbers (a = 0.2): "
            f"`world.street_length_m` / `homes.count` = {per_home:.1f} m of street per home; "
            f"`coverage.cameras_per_trip` = {f(m['coverage.cameras_per_trip'], 1)}; trips in "
            f"view but never recorded (`trip_in_view_fraction` − `trip_recorded_fraction`): "
            f"{f(min(gaps), 3)} to {f(max(gaps), 3)} across the four adoption levels. The "
            "command line's neighbourhood has "
            f"{m['homes.count']:,.0f} homes and {m['pedestrians.count']:,.0f} pedestrians.",
            "",
            "The headline for students: **at 20 % adoption, "
            f"{pct(m['coverage.street_fraction'])} of the street is in view, yet "
            f"{pct(m['coverage.trip_recorded_fraction'])} of trips are recorded, and in two days "
            f"{pct(m['coverage.people_recorded_fraction'])} of pedestrians have been recorded at "
            "least once.**",
        ]
    )


def app_model(scenario: str | None = None, **controls):
    """The classroom app's model for a lab scenario and controls (as the page makes it)."""
    if scenario:
        os.environ["RINGSIM_SCENARIO"] = str(ROOT / scenario)
    else:
        os.environ.pop("RINGSIM_SCENARIO", None)
    from sim.ui.app import ClassroomModel

    return ClassroomModel(**controls)


def lab1_app() -> str:
    rows = [
        "| adoption | cameras | street in view | walking time on camera (ten-minute range) |",
        "|---|---|---|---|",
    ]
    notes = []
    for a in (0.05, 0.1, 0.2, 0.3, 0.6, 1.0):
        m = app_model(adoption=a, seed=1)
        m.run_for(12 * 60)
        ts = m.recorder.timeseries()
        sel = (ts["hour"] >= 8) & (ts["hour"] <= 12) & (ts["day"] == 0)
        exp = ts["exposure_fraction"][sel]
        rows.append(
            f"| {a:.2f} | {m.cameras.count} | {f(m.cameras.street_fraction())} | "
            f"{f(np.nanmean(exp), 2)} ({f(np.nanmin(exp), 2)} to {f(np.nanmax(exp), 2)}) |"
        )
    for seed in (2, 3):
        m = app_model(adoption=0.2, seed=seed)
        m.run_for(12 * 60)
        ts = m.recorder.timeseries()
        sel = (ts["hour"] >= 8) & (ts["hour"] <= 12)
        notes.append(
            f"seed {seed}: street {f(m.cameras.street_fraction())}, walking time "
            f"{f(np.nanmean(ts['exposure_fraction'][sel]), 2)}"
        )
    return "\n".join(
        [
            "App reference (seed 1, read at day 0, 12:00; walking time on camera averaged over",
            f"hours 8 to 12; the app's neighbourhood: {m.world.homes.count} homes, "
            f"{m.population.count:,} pedestrians):",
            "",
            *rows,
            "",
            "At adoption 0.2 with other seeds: " + "; ".join(notes) + ".",
        ]
    )


# --------------------------------------------------------------------------- Lab 2


def share(k: float, p: float) -> float:
    return k * p / (k * p + 1 - p)


THRESHOLD_NOTE = {0.3: " (7/3)", 0.5: " (any bias at all)"}


def lab2_formula() -> str:
    ks = (1, 1.5, 2, 3, 5)
    rows = [
        "| p | " + " | ".join(f"k = {k:g}" for k in ks) + " | threshold (1 − p)/p |",
        "|---" * (len(ks) + 2) + "|",
    ]
    for p in (0.1, 0.2, 0.3, 0.4, 0.5):
        t = (1 - p) / p
        rows.append(
            f"| {p:.1f} | "
            + " | ".join(f(share(k, p), 4) for k in ks)
            + f" | **{t:.4g}**{THRESHOLD_NOTE.get(p, '')} |"
        )

    def effective(k: float, p: float) -> float:  # gatekeeping 1 at local majority share 1 - p
        return 1 + (k - 1) * (1.5 - p)

    from sim.ui.app import MODEL_PARAMS

    slider = MODEL_PARAMS["bias"]
    lo, hi, step = slider["min"], slider["max"], slider["step"]

    def first_above(p: float) -> str:
        threshold = (1 - p) / p
        k = lo + step * (math.floor((threshold - lo) / step + 1e-9) + 1)
        return f"{k:g}" if k <= hi else f"none on the slider (needs more than {threshold:.3g})"

    return "\n".join(
        [
            "### A3. S(k, p) and the threshold",
            "",
            *rows,
            "",
            '(At p = 0.4, k = 1.5 the share is exactly one half: "most" needs k strictly '
            "above 1.5.)",
            "",
            "With the default gatekeeping (1) and random placement, the effective bias is about "
            "1 + (k − 1)(1.5 − p) for p < 0.5 (see A4): at slider k = 4 it is "
            + ", ".join(f"{effective(4, p):.2g} at p = {p}" for p in (0.1, 0.3))
            + f" (about 4 at p = 0.5); at slider 5 and p = 0.1 it is {effective(5, 0.1):.2g}, "
            f"giving S = {f(share(effective(5, 0.1), 0.1), 2)}; at slider 2.25 and p = 0.3 it "
            f"is {effective(2.25, 0.3):.2g}, already past 2.33.",
            "",
            f"On the app's slider (Reporting bias, {lo:g} to {hi:g} in steps of {step:g}), the "
            "smallest bias above the threshold, by the formula: "
            + "; ".join(f"p = {p}: {first_above(p)}" for p in (0.3, 0.1, 0.5))
            + ". S is not linear in k: at p = 0.3, k = 2 gives "
            f"{f(share(2, 0.3), 2)}, not {f(2 * 0.3, 2)}; k = 3 gives {f(share(3, 0.3), 4)}. "
            "The effective bias is "
            + " and ".join(f"1 + {1.5 - p:.1f} (k − 1) at p = {p}" for p in (0.1, 0.3))
            + ".",
        ]
    )


def lab2_runs() -> dict[tuple[float, int], dict]:
    """Lab 2 Part C's command for each make-up and bias (2 days, 10 replications)."""
    out = {}
    for p, k in LAB2_GRID:
        q = round(1 - p, 1)
        out[(p, k)] = run(
            "scenarios/default.toml",
            f"--set=population.groups={{majority = {q}, minority = {p}}}",
            f"--set=reporting.bias={k}",
            "--set=reporting.base_rate=0.0002",
            "--set=time.days=2",
            "--replications=10",
            "--workers=2",
        )
    return out


LAB2_OPTIONAL = {
    "default": [],
    "gatekeeping and spread off": [
        "--set=reporting.gatekeeping=0",
        "--set=reporting.bias_spread=0",
    ],
    "fear feedback off": ["--set=feed.posts_feedback=false", "--set=feed.alerts_feedback=false"],
    "police.allocation=debiased": ["--set=police.allocation=debiased"],
}


def lab2_cli() -> str:
    runs = lab2_runs()
    rows = [
        "| p | k | formula S | reports.minority_share | reports.disparity_ratio | "
        "police.stop_disparity_ratio | non_crime_fraction | reports.total | feed.mean_fear |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (p, k), m in runs.items():
        rows.append(
            f"| {p} | {k} | {f(share(k, p))} | {ci(m, 'reports.minority_share')} | "
            f"{ci(m, 'reports.disparity_ratio', 2)} | {ci(m, 'police.stop_disparity_ratio', 2)} "
            f"| {f(m['reports.non_crime_fraction'])} | {f(m['reports.total'], 1)} | "
            f"{f(m['feed.mean_fear'], 2)} |"
        )
    base = [
        "scenarios/default.toml",
        "--set=reporting.base_rate=0.0002",
        "--set=time.days=2",
        "--replications=10",
        "--workers=2",
    ]
    opt = []
    for name, extra in LAB2_OPTIONAL.items():
        m = run(*base, "--set=reporting.bias=3", *extra)
        opt.append(
            f"- {name}: minority share {ci(m, 'reports.minority_share')}, disparity "
            f"{ci(m, 'reports.disparity_ratio', 2)}, stop disparity "
            f"{ci(m, 'police.stop_disparity_ratio', 2)}, {f(m['reports.total'], 1)} posts;"
        )
    m = run(
        "scenarios/segregated_city.toml",
        *base[1:],
        "--set=reporting.bias=3",
    )
    opt.append(
        f"- `segregated_city` with bias 3: minority share {ci(m, 'reports.minority_share')} "
        f"against the formula's {f(share(3, 0.4))} at p = 0.4; disparity "
        f"{ci(m, 'reports.disparity_ratio', 2)}."
    )
    non_crime = [m["reports.non_crime_fraction"] for m in runs.values()]
    return "\n".join(
        [
            "### Part C: reference values (command of Part C, 2 days, 10 replications, seed 1)",
            "",
            *rows,
            "",
            f"Non-crime share across these runs: {f(min(non_crime))} to {f(max(non_crime))}.",
            "",
            "**Optional runs** (p = 0.3, k = 3, same settings; reference values):",
            *opt,
        ]
    )


def lab2_app() -> str:
    rows = [
        "| p | k | posts about majority | posts about minority | minority share | formula S "
        "| disparity ratio (title) |",
        "|---|---|---|---|---|---|---|",
    ]
    for p, k in [(0.3, 1), (0.3, 2), (0.3, 3), (0.3, 5), (0.1, 3), (0.5, 3)]:
        m = app_model("labs/lab2_posts.toml", minority_share=p, bias=k, seed=1)
        m.run_for(2 * 1440)
        posts = m.reporting.log()
        about = np.bincount(m.population.group[posts.person], minlength=2)
        total = about.sum()
        rows.append(
            f"| {p} | {k} | {about[0]} | {about[1]} | "
            f"{f(about[1] / total if total else None, 2)} | {f(share(k, p), 2)} | "
            f"{f(m.reporting.metrics(m)['reports.disparity_ratio'], 2)} |"
        )
    return "\n".join(
        [
            "With `labs/lab2_posts.toml`, seed 1, two simulated days (app reference):",
            "",
            *rows,
        ]
    )


# --------------------------------------------------------------------------- Lab 3


def lab3_app() -> str:
    settings = [
        ("portal, opt-out 0.1, E2EE 0.05, 12 h, 0.8", dict(regime="portal", area_cap_sq_mi=0.8)),
        ("rfa, opt-out 0.1, E2EE 0.05, 12 h, 0.5", dict(regime="rfa")),
        ("none", dict(regime="none")),
        ("rfa, 2 h, 0.1 sq mi", dict(regime="rfa", window_hours=2, area_cap_sq_mi=0.1)),
        ("portal, opt-out 0.9", dict(regime="portal", area_cap_sq_mi=0.8, opt_out=0.9)),
        ("portal, E2EE 0.6", dict(regime="portal", area_cap_sq_mi=0.8, e2ee=0.6)),
    ]
    rows = [
        "| setting | requests (title) | refused (title) | clips handed to police | people in "
        "them | incidents |",
        "|---|---|---|---|---|---|",
    ]
    radii = {}
    for label, controls in settings:
        m = app_model("labs/lab3_rates.toml", seed=1, **{"opt_out": 0.1, **controls})
        m.run_for(2 * 1440)
        police = m.police
        people = set()
        for h in police.handovers:
            people.update(h.sightings.person.tolist())
        rows.append(
            f"| {label} | {len(police.issued)} | {sum(police.refused.values())} | "
            f"{sum(len(h.cameras) for h in police.handovers)} | {len(people)} | "
            f"{len(m.incidents.log().minute)} |"
        )
        radii[label] = [r.area.radius_m for r in police.issued if r.kind == "voluntary"]
    width = np.ptp(m.world.homes.xy[:, 0])
    wide, tight = radii[settings[0][0]], radii[settings[3][0]]
    return "\n".join(
        [
            "With `labs/lab3_rates.toml`, seed 1, two simulated days (app reference; the same",
            "incidents happen in every row, because the rules do not change what happens):",
            "",
            *rows,
            "",
            "The voluntary requests' discs (dashed circles) in the first row have radii of about "
            f"{min(wide):.0f} to {max(wide):.0f} m, against homes spread over {width:.0f} m from "
            f"west to east: most cover the whole neighbourhood. With the tight caps they shrink "
            f"to {max(tight):.0f} m at most.",
        ]
    )


def lab3_model() -> str:
    """The teachers' notes on how Lab 3's model decides: every number from the schema's defaults,
    the regimes' rules and labs/lab3_rates.toml."""
    from scipy.stats import norm, poisson

    from sim.model.requests import SQ_M_PER_SQ_MI, Rules
    from sim.scenario.scenario import Scenario, load
    from sim.ui.app import CLASSROOM

    s, lab = Scenario(), load(LABS / "lab3_rates.toml")
    portal = Rules.of(s.replace({"requests.regime": "portal"}))
    rfa = Rules.of(s.replace({"requests.regime": "rfa"}))
    window, area, spread = (
        s["police.request_window_hours"],
        s["police.request_area_sq_mi"],
        s["police.request_spread"],
    )

    def over(cap: float, median: float) -> float:  # share of wanted values above a cap
        return float(norm.sf(math.log(cap / median) / spread))

    def radius(sq_mi: float) -> float:
        return math.sqrt(sq_mi * SQ_M_PER_SQ_MI / math.pi)

    def extent(blocks_x, blocks_y):
        w = blocks_x * s["world.block_length_m"] / 1000
        h = blocks_y * s["world.block_width_m"] / 1000
        return f"{w:.2g} km × {h:.2g} km ≈ {w * h * 1e6 / SQ_M_PER_SQ_MI:.2g} sq mi"

    extra = s["police.extra_requests"]
    three_or_more = float(poisson.sf(1, extra))
    legal_area = s["legal.area_sq_mi"]
    return "\n".join(
        [
            "### How the model decides, for teachers",
            "",
            "- Voluntary requests: planned for a known incident with probability "
            f"`police.request_probability` ({s['police.request_probability']:g} by default, "
            f"{lab['police.request_probability']:g} in `labs/lab3_rates.toml`), "
            f"`police.request_delay_hours` after police learn of it "
            f"({s['police.request_delay_hours']:g} by default, "
            f"{lab['police.request_delay_hours']:g} in the lab file), plus a Poisson number of "
            f"follow-ups with mean {extra:g} (so about {pct(three_or_more)} of investigated "
            "incidents get three or more planned requests). The window and area police want "
            f"are log-normal around {window:g} h and {area:g} sq mi (standard deviation of the "
            f"log {spread:g}): **about {pct(over(rfa.max_window_hours, window))} of wanted "
            f"windows exceed {rfa.max_window_hours:g} h, about "
            f"{pct(over(rfa.max_area_sq_mi, area))} of wanted areas exceed "
            f"{rfa.max_area_sq_mi:g} sq mi, and about {pct(over(portal.max_area_sq_mi, area))} "
            f"exceed {portal.max_area_sq_mi:.3f} "
            "sq mi.** The window is placed mostly before the incident (three quarters before, "
            "one quarter after).",
            "- Refusals are checked in the order protest, per-incident cap, window, area; a "
            "refused request is counted once, then re-issued cut down to the largest allowed "
            "window and area (unless it broke the cap or the protest ban, or `police.reissue` "
            "is false). So under both portal and RFA the "
            f"{rfa.max_window_hours:g} h window is the rule that refuses most; RFA adds the "
            f"{rfa.max_area_sq_mi:g} sq mi area and the cap of {rfa.max_per_incident}.",
            "- Each recipient (an owner in the disc who has not opted out) shares with "
            f"probability {s['requests.share_probability']:g}, and shares every sighting their "
            f"camera holds in the window, if they subscribe ({pct(s['privacy.subscription'])}) "
            "and do not encrypt. The share decision is keyed by owner and by what is asked, so "
            "regimes stay paired.",
            f"- Legal demands: {s['legal.window_hours']:g} h, {legal_area:g} sq mi (a disc of "
            f"radius about {radius(legal_area):.0f} m), compliance {s['legal.compliance']:g} "
            f"divided by (1 + {s['legal.breadth_penalty']:g} × breadth beyond "
            f"{rfa.max_area_sq_mi:g} sq mi and {rfa.max_window_hours:g} h), and then **every** "
            "subscribed, unencrypted camera in the area is produced, opt-out ignored.",
            "- Scale: the command-line neighbourhood is about "
            f"{extent(s['world.blocks_x'], s['world.blocks_y'])} and the app's about "
            f"{extent(CLASSROOM['world.blocks_x'], CLASSROOM['world.blocks_y'])}. A "
            f"{rfa.max_area_sq_mi:g} sq mi disc has a radius of about "
            f"{radius(rfa.max_area_sq_mi):.0f} m, a {portal.max_area_sq_mi:.3f} sq mi disc "
            f"about {radius(portal.max_area_sq_mi):.0f} m, so a typical request covers most of "
            "either neighbourhood and the portal's and RFA's area caps barely bind. Only small "
            f"caps ({legal_area:g} sq mi, radius {radius(legal_area):.0f} m, or less) cut a "
            "request down to part of the neighbourhood.",
            "- The app's Window cap and Area cap controls override the regime's values "
            "(`requests.max_window_hours`, `requests.max_area_sq_mi`) whatever the regime, which "
            f"is why the lab asks students to set {portal.max_area_sq_mi:.1f} for the portal.",
        ]
    )


LAB3_COLUMNS = (
    "requests.voluntary",
    "requests.refused",
    "footage.clips_shared",
    "footage.legal_clips",
    "footage.incidents_with_footage_fraction",
    "footage.bystanders.majority",
    "footage.bystanders.minority",
)
# Paired differences from point 0 (portal, opt-out 0, E2EE 0.05): (label, factor values)
LAB3_CHANGES = (
    ("opt-out 0 → 0.9", {"requests.opt_out": 0.9}),
    ("E2EE 0.05 → 0.5", {"privacy.e2ee": 0.5}),
    ("portal → rfa", {"requests.regime": "rfa"}),
    ("portal → none", {"requests.regime": "none"}),
)


def lab3_sweep():
    """Lab 3 Part C's sweep, as the lab runs it; its runs table (ok runs)."""
    from sim.runs.sweep import Store

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lab3"
        cmd = [
            sys.executable,
            "run.py",
            "sweep",
            "labs/lab3_request_rules.toml",
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
        ]
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        df = Store(out).runs_table()
    return df[df["status"] == "ok"]


def lab3_optional(*extra: str) -> dict:
    """An optional run of Lab 3 Part C (RFA, legal demands off, 5 replications)."""
    return run(
        "labs/lab3_rates.toml",
        "--set",
        "requests.regime=rfa",
        "--set",
        "legal.demand_probability=0",
        *extra,
        "--replications",
        "5",
    )


def lab3_cli() -> str:
    from sim.runs.stats import metric_interval, paired_interval
    from sim.scenario.submodel import ratio

    df = lab3_sweep()
    factors = ["requests.regime", "requests.opt_out", "privacy.e2ee"]
    cols = {k: f"param:{k}" for k in factors}
    seed = int(df["seed"].iloc[0])

    def cell(values, name, first):
        if not first:
            return f(float(np.mean(values)), 2 if "fraction" in name else 1)
        iv = metric_interval(list(values), name, seed)
        d = 2 if "fraction" in name else 1
        return f"{f(iv.mean, d)} [{f(iv.low, d)}, {f(iv.high, d)}]"

    rows = [
        "| regime | opt-out | E2EE | voluntary | refused | clips_shared | legal_clips | "
        "incidents_with_footage | bystanders.majority | bystanders.minority |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    shown = set()
    for k, (key, g) in enumerate(df.groupby([cols[x] for x in factors], sort=False)):
        regime, opt_out, e2ee = key
        if regime == "none":  # opt-out changes nothing without voluntary requests
            if e2ee in shown:
                continue
            shown.add(e2ee)
            opt_text = "any"
        else:
            opt_text = f"{opt_out:g}"
        cells = [cell(g[c], c, k == 0) for c in LAB3_COLUMNS]
        rows.append(f"| {regime} | {opt_text} | {e2ee:g} | " + " | ".join(cells) + " |")
    base = df[
        (df[cols["requests.regime"]] == "portal")
        & (df[cols["requests.opt_out"]] == 0.0)
        & (df[cols["privacy.e2ee"]] == 0.05)
    ].set_index("replicate")
    diff_rows = [
        "| change | legal_clips | clips_shared | incidents_with_footage | bystanders.majority |",
        "|---|---|---|---|---|",
    ]
    for label, change in LAB3_CHANGES:
        want = {
            "requests.regime": "portal",
            "requests.opt_out": 0.0,
            "privacy.e2ee": 0.05,
            **change,
        }
        sel = df
        for k2, v in want.items():
            sel = sel[sel[cols[k2]] == v]
        sel = sel.set_index("replicate")
        out = []
        for name in (
            "footage.legal_clips",
            "footage.clips_shared",
            "footage.incidents_with_footage_fraction",
            "footage.bystanders.majority",
        ):
            iv = paired_interval((sel[name] - base.loc[sel.index, name]).to_numpy())
            d = 2 if "fraction" in name else 1
            text = f"{f(iv.mean, d)} [{f(iv.low, d)}, {f(iv.high, d)}]"
            out.append(
                f"**{text}**" if name == "footage.legal_clips" and iv.low == iv.high == 0 else text
            )
        diff_rows.append(f"| {label} | " + " | ".join(out) + " |")
    legal = df["footage.legal_content_fraction"]
    rate = df[df[cols["requests.regime"]] != "none"]["requests.response_rate"].dropna()
    homes = df[(df[cols["requests.opt_out"]] == 0.0) & (df[cols["requests.regime"]] != "none")]
    wide = lab3_optional()
    tight = lab3_optional(
        "--set", "requests.max_window_hours=2", "--set", "requests.max_area_sq_mi=0.1"
    )

    def people(m):
        return m["footage.bystanders.majority"] + m["footage.bystanders.minority"]

    import tomllib

    sweep_seed = tomllib.loads((LABS / "lab3_request_rules.toml").read_text())["seed"]
    first = base.mean(numeric_only=True)
    none = df[(df[cols["requests.regime"]] == "none") & (df[cols["privacy.e2ee"]] == 0.05)].mean(
        numeric_only=True
    )
    exposed = first["footage.bystanders.majority"] + first["footage.bystanders.minority"]
    with_footage = (
        first["footage.incidents_with_footage_fraction"] * first["incidents.known_to_police"]
    )
    exposed_none = none["footage.bystanders.majority"] + none["footage.bystanders.minority"]
    per_legal = ratio(first["footage.legal_clips"], first["requests.legal"])
    per_request = ratio(first["footage.clips_shared"], first["requests.voluntary"])
    return "\n".join(
        [
            "From `run.py sweep labs/lab3_request_rules.toml --workers 2` (seed "
            f"{sweep_seed}, 5 replications, 3 days; mean [95 % "
            "interval] for the first row, means elsewhere). `incidents.total` = "
            f"{f(df['incidents.total'].mean(), 1)}, `incidents.known_to_police` = "
            f"{f(df['incidents.known_to_police'].mean(), 1)} and `requests.legal` = "
            f"{f(df['requests.legal'].mean(), 1)} on average (the same at every combination).",
            "",
            *rows,
            "",
            "Paired differences from the first point (portal, 0, 0.05), replicate by replicate:",
            "",
            *diff_rows,
            "",
            f"Also: `footage.legal_content_fraction` is {f(legal.mean(), 2)} on average, the "
            "same at every point, E2EE or not; `requests.response_rate` is about "
            f"{f(rate.quantile(0.1), 3)} to {f(rate.quantile(0.9), 3)} (10th to 90th "
            "percentile of runs; the Fort Lauderdale figure the model is set to); "
            "`footage.homes_shared_fraction` is about "
            f"{f(100 * homes['footage.homes_shared_fraction'].mean(), 0)} % over these three days "
            "at opt-out 0 (compare Consumer Reports' 10 % of owners who ever shared).",
            "",
            "Optional runs (Part C commands, seed 1, RFA, legal demands off): tight caps "
            f"(2 h, 0.1 sq mi) against RFA as is: bystanders {f(people(tight), 0)} against "
            f"{f(people(wide), 0)}; "
            "incidents with footage "
            f"{f(tight['footage.incidents_with_footage_fraction'], 2)} against "
            f"{f(wide['footage.incidents_with_footage_fraction'], 2)}; clips "
            f"{f(tight['footage.clips_shared'], 1)} against {f(wide['footage.clips_shared'], 1)}; "
            f"refusals {f(tight['requests.refused'], 1)} against {f(wide['requests.refused'], 1)}.",
            "",
            "For the discussion (first point, portal, opt-out 0, E2EE 0.05, means): a legal "
            f"demand produced about {f(per_legal, 1)} clips, a voluntary request about "
            f"{f(per_request, 1)}; under regime none (E2EE 0.05) police still exposed about "
            f"{pct(ratio(exposed_none, exposed))} as many bystanders as at the first point; "
            f"about {f(exposed, 0)} bystanders for about {f(with_footage, 1)} incidents with "
            f"footage, i.e. about {f(ratio(exposed, with_footage), 0)} each; bystander "
            f"disparity ratio {f(first['footage.bystander_disparity_ratio'], 2)}.",
        ]
    )


BLOCKS: dict[str, Callable[[], str]] = {
    "lab1_formula": lab1_formula,
    "lab1_views": lab1_views,
    "lab1_app": lab1_app,
    "lab1_cli": lab1_cli,
    "lab2_formula": lab2_formula,
    "lab2_app": lab2_app,
    "lab2_cli": lab2_cli,
    "lab3_model": lab3_model,
    "lab3_app": lab3_app,
    "lab3_cli": lab3_cli,
}


def wrap(text: str, width: int = 99) -> str:
    """Paragraphs and bullets wrapped as the key is (tables and headings left as they are)."""
    out = []
    for para in text.split("\n\n"):
        if para.startswith(("|", "#")):
            out.append(para)
            continue
        items = re.split(r"\n(?=- )", para)
        out.append(
            "\n".join(
                textwrap.fill(  # never "n\n= 40" nor "28\n%"
                    " ".join(item.split()).replace(" = ", "\xa0=\xa0").replace(" %", "\xa0%"),
                    width,
                    subsequent_indent="  " if item.startswith("- ") else "",
                    break_on_hyphens=False,
                ).replace("\xa0", " ")
                for item in items
            )
        )
    return "\n\n".join(out)


def replace_blocks(text: str, made: dict[str, str]) -> str:
    """The key with the named blocks' contents replaced."""

    def sub(m: re.Match) -> str:
        name = m.group(2)
        body = made.get(name)
        return m.group(0) if body is None else f"{m.group(1)}{body}\n{m.group(4)}"

    return BLOCK.sub(sub, text)


def blocks_in(text: str) -> dict[str, str]:
    return {m.group(2): m.group(3).rstrip("\n") for m in BLOCK.finditer(text)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"blocks to make (default: all): {', '.join(BLOCKS)}")
    ap.add_argument("--write", action="store_true", help="rewrite the blocks in answer_key.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if a block in the key differs")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in BLOCKS]
    if unknown:
        print(
            f"answers.py: unknown block {unknown[0]!r}; known: {', '.join(BLOCKS)}", file=sys.stderr
        )
        return 2
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    text = KEY.read_text(encoding="utf-8")
    present = blocks_in(text)
    made = {}
    for name in args.names or list(BLOCKS):
        start = time.perf_counter()
        made[name] = wrap(BLOCKS[name]())
        took = time.perf_counter() - start
        print(f"<!-- {name}: {took:.1f} s -->", file=sys.stderr)
        if not (args.write or args.check):
            print(f"<!-- answers.py: {name} -->\n{made[name]}\n<!-- /answers.py -->\n")
    stale = [n for n, body in made.items() if present.get(n) != body]
    if args.write:
        KEY.write_text(replace_blocks(text, made), encoding="utf-8")
        missing = [n for n in made if n not in present]
        if missing:
            print(f"answers.py: no block in the key for {', '.join(missing)}", file=sys.stderr)
            return 1
    elif args.check and stale:
        print(f"answers.py: stale in answer_key.md: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
