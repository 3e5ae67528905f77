"""Estimates of memory and time, made from a scenario's sizes before anything is built.

A run's cost follows from a few sizes: homes (from the blocks, the streets' lengths and the
frontage of a home), pedestrians and simulated days. A sweep's adds the number of runs
(design points times replications), each planned before anything runs. When the estimate
does not fit in the memory this machine has available, the command refuses with one line
(status 2) unless ``--force`` is given; when it will take long it says so first.

The coefficients are fitted to peaks measured on the 2-core development machine (peak RSS
of one process that builds the model and simulates the days; every submodel on, default
rates; docs/performance.md, "Estimates before a run"). A run at other rates (far more
cameras, tours or walkers' reach) can cost more: the estimate is a guard against the
impossible, not a prediction to the megabyte.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.scenario.scenario import ScenarioError

# Memory, in MB: the interpreter with numpy, scipy, networkx, Mesa and the compiled loops
# loaded; the model's fixed buffers; each home (streets, homes, routes from its door);
# each pedestrian (a share that grows with the area until routes reach their longest, at
# about ROUTE_HOMES homes, and with the homes that watch the street: the passes of a trip,
# PERSON_ROUTE_MB at the default adoption and app share); each pedestrian and day of footage.
IMPORT_MB = 300.0
MODEL_MB = 40.0
HOME_MB = 2.8e-3
PERSON_MB = 0.35e-3
PERSON_ROUTE_MB = 1.3e-3
ROUTE_HOMES = 30_000
# Watching, relative to the defaults: a camera's passes cost about 3.3 times, a window's
# (an app user without a camera) 1.4 times what the default mix of both costs per home.
CAMERA_WATCH = 3.3
WINDOW_WATCH = 1.4
FOOTAGE_MB_PER_PERSON_DAY = 0.14e-3
# Time, in seconds: imports; building (per home and per pedestrian); a simulated day (per
# pedestrian, growing with the area like the passes).
IMPORT_S = 2.5
BUILD_S_PER_HOME = 60e-6
BUILD_S_PER_PERSON = 0.8e-6
DAY_S = 0.03
DAY_S_PER_PERSON = 1.2e-6
DAY_S_PER_PERSON_ROUTE = 3.5e-6
# Planning a sweep: each design point is made and validated as a scenario, each run (a point
# and a replication) planned; 20,000 points x 1 replication took 5.5 KB and 0.9 ms a run,
# 2,000 points x 10 replications 3.8 KB and 0.14 ms a run.
PLAN_MB_PER_POINT = 2.0e-3
PLAN_S_PER_POINT = 0.75e-3
PLAN_MB_PER_RUN = 3.6e-3
PLAN_S_PER_RUN = 0.12e-3
# A replication's results held until written.
RESULT_MB_PER_ROW = 1e-3  # one time-series row with its columns, per replication
RESULT_MB = 0.05  # a replication's metrics
LONG_S = 120.0  # longer than this: the estimate is printed first
# A sweep of more runs is refused without --force, whatever the memory: planning alone takes
# minutes (and a run at least a few tenths of a second: a million runs is days of work).
MAX_RUNS = 1_000_000


@dataclass(frozen=True)
class Estimate:
    """What one run will need: sizes, peak memory (MB, the process's) and wall time (s,
    building and running; a process's imports, IMPORT_S, come once per process)."""

    homes: int
    pedestrians: int
    days: float
    memory_mb: float
    build_s: float
    day_s: float

    @property
    def seconds(self) -> float:
        return self.build_s + self.days * self.day_s

    def sizes(self) -> str:
        return (
            f"{self.homes:,} homes, {self.pedestrians:,} pedestrians (population.pedestrians, "
            f"or population.per_household x homes), {self.days:g} days (time.days)"
        )


def homes_per_street(length: float, spacing: float, corner: float) -> int:
    """Homes along one street of ``length`` metres, both sides (as sim.world.world.place_homes)."""
    usable = length - 2 * corner
    return 2 * math.floor(usable / spacing) if usable > 0 else 0


def grid_homes(values: Mapping[str, Any]) -> int:
    """Homes of the generated grid, from its blocks, their sides and a home's frontage."""
    bx, by = values["world.blocks_x"], values["world.blocks_y"]
    spacing, corner = values["world.home_spacing_m"], values["world.corner_setback_m"]
    along = homes_per_street(values["world.block_length_m"], spacing, corner)
    across = homes_per_street(values["world.block_width_m"], spacing, corner)
    streets = bx * (by + 1) * along + (bx + 1) * by * across
    return round(streets * (1 - values["world.street_removal"]))


def estimate(values: Mapping[str, Any], homes: int) -> Estimate:
    """One run's memory and time, from its homes, pedestrians and days."""
    # deferred: the world (networkx, scipy) loads when a size is estimated, not for `explain`
    from sim.model.population import pedestrians

    people = pedestrians(values, homes)
    days = values["time.days"]
    adoption = values["cameras.adoption"]
    watching = CAMERA_WATCH * adoption + WINDOW_WATCH * (1 - adoption) * values["feed.app_share"]
    reach = min(1.0, homes / ROUTE_HOMES) * watching
    held = max(0.0, min(days, values["footage.store_days"]) - 1)
    memory = (
        IMPORT_MB
        + MODEL_MB
        + HOME_MB * homes
        + people * (PERSON_MB + PERSON_ROUTE_MB * reach)
        + FOOTAGE_MB_PER_PERSON_DAY * people * held
    )
    build = BUILD_S_PER_HOME * homes + BUILD_S_PER_PERSON * people
    day = DAY_S + people * (DAY_S_PER_PERSON + DAY_S_PER_PERSON_ROUTE * reach)
    return Estimate(homes, people, days, memory, build, day)


def scenario_homes(values: Mapping[str, Any], base_dir: Path) -> int:
    """Homes of a scenario's world: computed for the grid; for a GraphML world, counted on its
    streets (the file is read and checked; its size limits apply); for an OpenStreetMap
    extract, bounded from the file's size before anything parses it. Relative paths are
    relative to ``base_dir``."""
    kind = values["world.kind"]
    if kind == "osm":
        from sim.world.osm import extract_homes_bound, resolve  # deferred: as in estimate

        if not values["world.osm"]:
            raise ScenarioError("world.osm: an extract file is required when world.kind = 'osm'")
        return extract_homes_bound(resolve(values["world.osm"], base_dir))
    if kind != "graphml":
        return grid_homes(values)
    from sim.world.world import load_graphml  # deferred: as in estimate

    if not values["world.graphml"]:
        raise ScenarioError("world.graphml: a file is required when world.kind = 'graphml'")
    graphml = Path(values["world.graphml"])
    graph = load_graphml(graphml if graphml.is_absolute() else base_dir / graphml)
    spacing, corner = values["world.home_spacing_m"], values["world.corner_setback_m"]
    return sum(homes_per_street(d["length"], spacing, corner) for *_, d in graph.edges(data=True))


def available_mb() -> float | None:
    """Memory available to a new process (MemAvailable of /proc/meminfo; elsewhere the free
    physical pages), or None when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (AttributeError, ValueError, OSError):
        return None


def show_mb(mb: float) -> str:
    if mb < 1024:
        return f"{mb:.0f} MB"
    return f"{mb / 1024:.3g} GB" if mb < 100 * 1024 else f"{mb / 1024:,.0f} GB"


def show_s(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"


def check(what: str, memory_mb: float, seconds: float, force: bool, runs: int = 1) -> str | None:
    """Refuse (ScenarioError) when ``memory_mb`` exceeds the memory available, or there are
    more than MAX_RUNS ``runs``, unless ``force``; return a one-line note when the work will
    take longer than LONG_S."""
    cost = f"about {show_mb(memory_mb)} of memory and {show_s(seconds)}"
    if runs > MAX_RUNS and not force:
        raise ScenarioError(
            f"{what}: {cost}; at most {MAX_RUNS:,} runs are allowed without --force"
        )
    available = available_mb()
    if available is not None and memory_mb > available and not force:
        raise ScenarioError(
            f"{what}: needs {cost}, more than the {show_mb(available)} this machine has "
            "available; make it smaller, or add --force to try anyway"
        )
    if seconds > LONG_S:
        return f"estimate: {what}: {cost}"
    return None


def run_cost(
    est: Estimate, rows: float, replications: int, workers: int, counterfactual: bool
) -> tuple[float, float]:
    """Memory and time of ``replications`` runs on ``workers`` processes, their results
    (``rows`` time-series rows each) kept until written."""
    held = replications * (RESULT_MB + RESULT_MB_PER_ROW * rows)
    at_once = min(workers, replications)
    model = est.memory_mb - IMPORT_MB
    memory = IMPORT_MB * (1 + (at_once if at_once > 1 else 0)) + at_once * model + held
    seconds = IMPORT_S + est.seconds * replications * (2 if counterfactual else 1) / at_once
    return memory, seconds


def plan_cost(points: int, runs: int) -> tuple[float, float]:
    """Memory and time of making and checking a design of ``points`` design points and
    ``runs`` runs, before any of them runs."""
    memory = IMPORT_MB + PLAN_MB_PER_POINT * points + PLAN_MB_PER_RUN * runs
    return memory, PLAN_S_PER_POINT * points + PLAN_S_PER_RUN * runs


def sweep_cost(
    points: int, runs: int, largest: Estimate, run_seconds: float, workers: int
) -> tuple[float, float]:
    """Memory and time of a sweep: its plan, ``workers`` processes each holding at most the
    ``largest`` run, and ``run_seconds`` of runs shared among them."""
    plan_mb, plan_s = plan_cost(points, runs)
    memory = plan_mb + workers * (largest.memory_mb - IMPORT_MB)
    if workers > 1:
        memory += workers * IMPORT_MB
    return memory, IMPORT_S + plan_s + run_seconds / workers


SIZE_KEYS = (
    "world.kind",
    "world.graphml",
    "world.osm",
    "population.per_household",
    "world.blocks_x",
    "world.blocks_y",
    "world.block_length_m",
    "world.block_width_m",
    "world.street_removal",
    "world.home_spacing_m",
    "world.corner_setback_m",
    "population.pedestrians",
    "time.days",
    "footage.store_days",
    "cameras.adoption",
    "feed.app_share",
)


def scenario_estimate(values: Mapping[str, Any], base_dir: Path) -> Estimate:
    """One run's estimate from a scenario's values (file paths relative to ``base_dir``)."""
    return estimate(values, scenario_homes(values, base_dir))


def design_estimate(
    base: Mapping[str, Any], points: list[dict[str, Any]], base_dir: Path
) -> tuple[Estimate, float]:
    """The largest run (by memory) of a design and the time of one run at every point; each
    distinct combination of the sizes is estimated once."""
    seen: dict[tuple, Estimate] = {}
    largest, seconds = None, 0.0
    for point in points or [{}]:
        values = {k: point.get(k, base[k]) for k in SIZE_KEYS}
        key = tuple(values.values())
        est = seen.get(key)
        if est is None:
            est = seen[key] = scenario_estimate(values, base_dir)
        seconds += est.seconds
        if largest is None or est.memory_mb > largest.memory_mb:
            largest = est
    return largest, seconds
