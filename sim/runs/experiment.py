"""Experiment files: a base scenario, factors, a design, replications and seeds, as data.

An experiment file is TOML (``experiments/*.toml``); nothing in it is executed. Keys:

    base = "../scenarios/default.toml"   # relative to the experiment file
    replications = 10
    seed = 12345                          # the root seed
    common_random_numbers = true          # paired seeds across design points
    metrics = ["coverage.street_fraction", "privacy.exposed*"]  # optional; all when absent;
                                          # a name with * stands for every metric it matches
    timeseries = false                    # keep each run's time series
    description = "..."                   # optional, one line

    [design]
    kind = "full_factorial"               # or "latin_hypercube", "sobol", "morris"
    samples = 64                          # for the sampled designs

    [factors]
    "requests.opt_out" = [0.0, 0.25, 0.5]          # a list of values
    "reporting.bias" = { min = 1.0, max = 3.0 }    # a range (sampled designs)
    "legal.compliance" = { min = 0.3, max = 0.9, distribution = "uniform" }

    [overrides]                           # fixed changes to the base scenario
    "time.days" = 7

    [report]                              # optional: what `run.py report` adds
    contrasts = [["requests.regime=portal", "requests.regime=rfa"]]  # paired b - a

A contrast names two levels of one factor (a list factor); the report pairs every design point
at the second level with the point at the first that has the same values of the other factors,
replicate by replicate.

Designs: ``full_factorial`` takes every combination of the factors' lists. The sampled
designs map points of the unit cube to the factors (a range: uniform or log-uniform between
min and max, rounded for integer keys; a list: one of its values, equally likely):
``latin_hypercube`` uses ``scipy.stats.qmc.LatinHypercube``; ``sobol`` uses Saltelli's scheme
(matrices A, B and the A_B^(i)) built from a scrambled ``scipy.stats.qmc.Sobol`` sequence, so
that Sobol indices can be estimated from the runs; ``morris`` uses SALib's trajectories (the
``salib`` extra). Every design is a pure function of the file and its seed.

Seeds: run (point i, replicate r) uses ``derive_seed(seed, r)`` with common random numbers
(the same seeds at every point: paired comparisons) and a seed derived from (seed, i, r)
without; never the order in which runs finish.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import itertools
import json
import math
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from sim.engine.rng import derive_seed
from sim.runs import limits
from sim.runs.stats import metric_columns
from sim.scenario.scenario import (
    Scenario,
    ScenarioError,
    check_value,
    load,
    parse_toml,
    printable,
    read_text,
    shown_path,
)
from sim.scenario.schema import BY_KEY, FLOAT, INT

TOP_KEYS = (
    "base",
    "replications",
    "seed",
    "common_random_numbers",
    "metrics",
    "timeseries",
    "description",
    "design",
    "factors",
    "overrides",
    "report",
)
DESIGNS = ("full_factorial", "latin_hypercube", "sobol", "morris")
DISTRIBUTIONS = ("uniform", "loguniform")


@dataclass
class Factor:
    """One factor: a list of values, or a numeric range with a distribution."""

    key: str
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    distribution: str = "uniform"

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map points of [0, 1) to values of the factor."""
        if self.values is not None:
            idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in idx]
        if self.distribution == "loguniform":
            x = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        if BY_KEY[self.key].kind == INT:
            return [int(v) for v in np.rint(x)]
        return [float(v) for v in x]

    def spec(self) -> Any:
        if self.values is not None:
            return list(self.values)
        return {"min": self.low, "max": self.high, "distribution": self.distribution}


@dataclass
class Experiment:
    """A validated experiment file."""

    path: Path
    base: Path
    replications: int
    seed: int
    common_random_numbers: bool
    metrics: list[str] | None
    timeseries: bool
    kind: str
    samples: int
    factors: list[Factor]
    overrides: dict[str, Any]
    description: str = ""
    contrasts: list[dict[str, Any]] = field(default_factory=list)
    base_scenario: Scenario = field(init=False, repr=False)
    points: list[dict[str, Any]] = field(init=False, repr=False)
    salib: dict | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_scenario = load(self.base).replace(self.overrides, origin=str(self.path))
        self.points, self.salib = design_points(self)
        for i, point in enumerate(self.points):  # every combination must be valid
            try:
                self.base_scenario.replace(point, origin=f"{self.path} (design point {i})")
            except ScenarioError as exc:
                raise ScenarioError(str(exc)) from None

    def scenario(self, point: int) -> Scenario:
        return self.base_scenario.replace(self.points[point])

    def run_seed(self, point: int, replicate: int) -> int:
        if self.common_random_numbers:
            return derive_seed(self.seed, replicate)
        state = np.random.SeedSequence([self.seed, point, replicate]).generate_state(2, np.uint32)
        return int((int(state[0]) << 32 | int(state[1])) & ((1 << 63) - 1))

    def design_hash(self) -> str:
        """A hash of everything that defines the runs (not of replications' count: adding
        replications extends a sweep)."""
        spec = {
            "base": dict(self.base_scenario),
            "factors": {f.key: f.spec() for f in self.factors},
            "kind": self.kind,
            "samples": self.samples,
            "seed": self.seed,
            "crn": self.common_random_numbers,
            "points": self.points,
            "timeseries": self.timeseries,
            "metrics": self.metrics,
        }
        return hashlib.sha256(_canonical(spec).encode()).hexdigest()[:16]

    def manifest(self) -> dict[str, Any]:
        out = {
            "experiment": str(self.path),
            "description": self.description,
            "base": str(self.base),
            "design_kind": self.kind,
            "samples": self.samples,
            "factors": {f.key: f.spec() for f in self.factors},
            "overrides": self.overrides,
            "replications": self.replications,
            "root_seed": self.seed,
            "common_random_numbers": self.common_random_numbers,
            "metrics": self.metrics,
            "timeseries": self.timeseries,
            "design_hash": self.design_hash(),
            "design_points": len(self.points),
            "runs": len(self.points) * self.replications,
            "contrasts": self.contrasts,
        }
        if self.salib:
            out.update(self.salib)
        return out


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def run_id(scenario: Scenario, seed: int, timeseries: bool, point: int | None = None) -> str:
    """The id of a run: a hash of its canonical spec (resolved scenario, seed, outputs).

    ``point``: the design point of a run whose spec an earlier point already has (a design,
    such as Morris trajectories, may hold the same point twice); such a copy is keyed by its
    position too, so that each design point has its own runs."""
    spec = {"scenario": dict(scenario), "seed": seed, "timeseries": timeseries}
    if point is not None:
        spec["point"] = point
    return hashlib.sha256(_canonical(spec).encode()).hexdigest()[:20]


def load_experiment(path: str | Path, force: bool = False) -> Experiment:
    """Read and validate an experiment file; raise ScenarioError (one line) if invalid.

    The design's size (design points times replications) is computed from the file before
    any point is made; a design whose planning would not fit in the memory available is
    refused, unless ``force``.
    """
    path = Path(path)
    data = parse_toml(read_text(path, "experiment file"), shown_path(path))

    def bad(key: str, value: Any, allowed: str) -> ScenarioError:
        shown = printable(json.dumps(value, default=str))
        return ScenarioError(f"{path}: {key} = {shown}: must be {allowed}")

    for key in data:
        if key not in TOP_KEYS:
            near = difflib.get_close_matches(key, TOP_KEYS, n=1, cutoff=0.5)
            hint = f" (did you mean '{near[0]}'?)" if near else f" (allowed: {', '.join(TOP_KEYS)})"
            raise ScenarioError(f"{path}: unknown key '{printable(key)}'{hint}")
    base_allowed = "the path of a scenario file (relative to this file)"
    if "base" not in data or not isinstance(data["base"], str) or "\x00" in data["base"]:
        raise bad("base", data.get("base"), base_allowed)
    base = (path.parent / data["base"]).resolve()
    if not base.exists():
        raise ScenarioError(
            f"{path}: base = {printable(json.dumps(data['base']))}: no such scenario file "
            f"({shown_path(base)})"
        )

    def integer(key: str, default: int, low: int, high: int) -> int:
        v = data.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise bad(key, v, f"an integer in [{low}, {high}]")
        return v

    def boolean(key: str, default: bool) -> bool:
        v = data.get(key, default)
        if not isinstance(v, bool):
            raise bad(key, v, "true or false")
        return v

    replications = integer("replications", 1, 1, 100_000)
    seed = integer("seed", 1, 0, 2**63 - 1)
    crn = boolean("common_random_numbers", True)
    timeseries = boolean("timeseries", False)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise bad("description", description, "a string")
    metrics = data.get("metrics")
    if metrics is not None and (
        not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics)
    ):
        raise bad("metrics", metrics, "a non-empty list of metric names")
    design = data.get("design", {})
    if not isinstance(design, dict):
        raise bad("design", design, "a table with kind and samples")
    for key in design:
        if key not in ("kind", "samples"):
            raise ScenarioError(
                f"{path}: unknown key 'design.{printable(key)}' (allowed: "
                "design.kind, design.samples)"
            )
    kind = design.get("kind", "full_factorial")
    if kind not in DESIGNS:
        raise bad("design.kind", kind, "one of " + ", ".join(repr(d) for d in DESIGNS))
    samples = design.get("samples", 16)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= 1_000_000:
        raise bad("design.samples", samples, "an integer in [1, 1000000]")
    overrides = data.get("overrides", {})
    if not isinstance(overrides, dict):
        raise bad("overrides", overrides, "a table of scenario key = value")
    overrides = {k: _scenario_value(path, f"overrides.{k}", k, v) for k, v in overrides.items()}
    factors_raw = data.get("factors", {})
    if not isinstance(factors_raw, dict) or not factors_raw:
        raise bad("factors", factors_raw, "a table with at least one factor")
    factors = [_factor(path, key, spec, kind) for key, spec in factors_raw.items()]
    contrasts = _contrasts(path, data.get("report", {}), factors)
    points = design_size(kind, samples, factors)
    runs = points * replications
    memory, seconds = limits.plan_cost(points, runs)
    note = limits.check(
        f"{path}: {points:,} design points x {replications:,} replications = {runs:,} runs "
        "(factors, design.samples, replications) to plan",
        memory,
        seconds,
        force,
        runs,
    )
    if note:
        print(note, file=sys.stderr, flush=True)
    exp = Experiment(
        path,
        base,
        replications,
        seed,
        crn,
        metrics,
        timeseries,
        kind,
        samples,
        factors,
        overrides,
        description,
        contrasts,
    )
    if metrics and any("*" in m for m in metrics):
        exp.metrics = _expand_metrics(path, metrics, exp)
    return exp


def _expand_metrics(path: Path, metrics: list[str], exp: Experiment) -> list[str]:
    """``metrics`` with each name holding ``*`` replaced by every metric the design's runs
    write that it matches (shell-style, in the registry's order); a pattern matching none is
    an error."""
    known = metric_columns(exp.scenario(i) for i in range(len(exp.points)))
    out: dict[str, None] = {}
    for m in metrics:
        if "*" not in m:
            out[m] = None
            continue
        found = [n for n in known if fnmatch.fnmatchcase(n, m)]
        if not found:
            raise ScenarioError(
                f"{path}: metrics: {printable(m)!r} matches no metric (see docs/metrics.md)"
            )
        out.update(dict.fromkeys(found))
    return list(out)


def _contrasts(path: Path, report: Any, factors: list[Factor]) -> list[dict[str, Any]]:
    """``[report] contrasts``: pairs ["key=a", "key=b"] of levels of one list factor, as
    {"factor", "a", "b"} with the factor's own values."""
    shape = 'a list of pairs like ["requests.regime=portal", "requests.regime=rfa"]'
    if not isinstance(report, dict):
        raise ScenarioError(f"{path}: report: must be a table with contrasts = {shape}")
    for key in report:
        if key != "contrasts":
            raise ScenarioError(
                f"{path}: unknown key 'report.{printable(key)}' (allowed: report.contrasts)"
            )
    raw = report.get("contrasts", [])
    if not isinstance(raw, list):
        raise ScenarioError(f"{path}: report.contrasts: must be {shape}")
    by_key = {f.key: f for f in factors}
    out = []
    for i, pair in enumerate(raw):
        label = f"{path}: report.contrasts[{i}]"
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, str) and "=" in x for x in pair)
        ):
            shown = printable(json.dumps(pair, default=str))
            raise ScenarioError(f"{label} = {shown}: must be a pair like {shape[12:]}")
        sides = []
        for text in pair:
            key, _, raw_value = (t.strip() for t in text.partition("="))
            factor = by_key.get(key)
            if factor is None or factor.values is None:
                listed = [f.key for f in factors if f.values is not None]
                raise ScenarioError(
                    f"{label}: '{printable(key)}' is not a factor with a list of values "
                    f"(factors: {', '.join(listed) or 'none'})"
                )
            try:
                value = tomllib.loads(f"v = {raw_value}")["v"]
            except tomllib.TOMLDecodeError:
                value = raw_value
            same_kind = [isinstance(v, bool) == isinstance(value, bool) for v in factor.values]
            matches = [
                v for v, ok in zip(factor.values, same_kind, strict=True) if ok and v == value
            ]
            if not matches:
                shown = ", ".join(json.dumps(v, default=str) for v in factor.values)
                raise ScenarioError(
                    f"{label}: {key} = {printable(raw_value)} is not one of its values ({shown})"
                )
            sides.append((key, matches[0]))
        (ka, va), (kb, vb) = sides
        if ka != kb:
            raise ScenarioError(f"{label}: both sides must name the same factor ({ka}, {kb})")
        if va == vb:
            raise ScenarioError(f"{label}: the two levels are the same ({ka} = {va})")
        out.append({"factor": ka, "a": va, "b": vb})
    return out


def _scenario_value(path: Path, label: str, key: str, value: Any) -> Any:
    if key not in BY_KEY:
        near = difflib.get_close_matches(key, list(BY_KEY), n=1, cutoff=0.5)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ScenarioError(f"{path}: {label}: unknown scenario key '{printable(key)}'{hint}")
    return check_value(key, value, str(path))


def _factor(path: Path, key: str, spec: Any, kind: str) -> Factor:
    label = f"factors.{key}"
    if key not in BY_KEY:
        _scenario_value(path, label, key, None)
    if isinstance(spec, list):
        if not spec:
            raise ScenarioError(f"{path}: {label}: needs at least one value")
        values = [_scenario_value(path, label, key, v) for v in spec]
        kinds = {type(v).__name__ for v in values}
        if len(kinds) > 1:  # e.g. "regime" and hours: a design's column holds one type
            shown = printable(json.dumps(spec, default=str))
            raise ScenarioError(
                f"{path}: {label} = {shown}: the values mix {' and '.join(sorted(kinds))}; "
                'give values of one type (a rule\'s "regime" and numbers go in separate '
                "experiments)"
            )
        return Factor(key, values=values)
    if isinstance(spec, dict):
        if kind == "full_factorial":
            raise ScenarioError(
                f"{path}: {label}: a full factorial design needs a list of "
                "values, not a range (or use a sampled design)"
            )
        p = BY_KEY[key]
        if p.kind not in (INT, FLOAT):
            raise ScenarioError(
                f"{path}: {label}: a range needs a numeric key; give a list "
                f"of values for a {p.kind} key"
            )
        unknown = set(spec) - {"min", "max", "distribution"}
        if unknown or "min" not in spec or "max" not in spec:
            raise ScenarioError(
                f"{path}: {label}: a range is {{ min = ..., max = ... }} with "
                f"an optional distribution ({', '.join(DISTRIBUTIONS)})"
            )
        low = _scenario_value(path, f"{label}.min", key, spec["min"])
        high = _scenario_value(path, f"{label}.max", key, spec["max"])
        if not low < high:
            raise ScenarioError(f"{path}: {label}: min ({low}) must be below max ({high})")
        dist = spec.get("distribution", "uniform")
        if dist not in DISTRIBUTIONS:
            raise ScenarioError(
                f"{path}: {label}.distribution = {dist!r}: must be one of "
                + ", ".join(DISTRIBUTIONS)
            )
        if dist == "loguniform" and low <= 0:
            raise ScenarioError(f"{path}: {label}: a log-uniform range needs min > 0")
        return Factor(key, low=float(low), high=float(high), distribution=dist)
    raise ScenarioError(
        f"{path}: {label}: must be a list of values or a range {{ min = ..., max = ... }}"
    )


def design_size(kind: str, samples: int, factors: list[Factor]) -> int:
    """The number of design points ``design_points`` will make, computed without making
    them (so that a design too large to plan is refused first)."""
    d = len(factors)
    if kind == "full_factorial":
        return math.prod(len(f.values) for f in factors)
    if kind == "latin_hypercube":
        return samples
    if kind == "sobol":
        return 2 ** math.ceil(math.log2(max(samples, 2))) * (d + 2)
    return samples * (d + 1)  # morris: trajectories of d + 1 points


def design_points(exp: Experiment) -> tuple[list[dict[str, Any]], dict | None]:
    """The design's points (factor key -> value), and SALib's problem for sobol/morris."""
    factors = exp.factors
    d = len(factors)
    if exp.kind == "full_factorial":
        combos = itertools.product(*(f.values for f in factors))
        return [dict(zip((f.key for f in factors), c, strict=True)) for c in combos], None
    if exp.kind == "latin_hypercube":
        u = qmc.LatinHypercube(d=d, seed=np.random.default_rng(exp.seed)).random(exp.samples)
        return _map(factors, u), None
    problem = {"num_vars": d, "names": [f.key for f in factors], "bounds": [[0.0, 1.0]] * d}
    if exp.kind == "sobol":
        n = 2 ** math.ceil(math.log2(max(exp.samples, 2)))  # Sobol points come in powers of 2
        base = qmc.Sobol(d=2 * d, scramble=True, seed=np.random.default_rng(exp.seed)).random(n)
        a, b = base[:, :d], base[:, d:]
        rows = []
        for i in range(n):  # SALib's order without second-order terms: A, AB_1..AB_d, B
            rows.append(a[i])
            for j in range(d):
                ab = a[i].copy()
                ab[j] = b[i, j]
                rows.append(ab)
            rows.append(b[i])
        u = np.array(rows)
        salib = {
            "salib_problem": problem,
            "salib_samples": u.tolist(),
            "calc_second_order": False,
            "sobol_base_samples": n,
        }
        return _map(factors, u), salib
    try:
        from SALib.sample import morris
    except ImportError:
        raise ScenarioError(
            f"{exp.path}: design.kind = 'morris' needs SALib: pip install -e '.[salib]'"
        ) from None
    u = morris.sample(problem, exp.samples, num_levels=4, seed=exp.seed % (2**32))
    u = np.clip(u, 0, 1 - 1e-12)
    return _map(factors, u), {
        "salib_problem": problem,
        "salib_samples": u.tolist(),
        "num_levels": 4,
    }


def _map(factors: list[Factor], u: np.ndarray) -> list[dict[str, Any]]:
    columns = [f.from_unit(u[:, j]) for j, f in enumerate(factors)]
    return [
        dict(zip((f.key for f in factors), row, strict=True)) for row in zip(*columns, strict=True)
    ]
