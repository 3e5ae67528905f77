"""The scenario schema: every parameter's key, type, unit, range, default, doc and source.

Each submodel declares the parameters it owns in a ``PARAMS`` tuple right after its imports,
one compact call per key (:func:`number`, :func:`share`, :func:`flag`, ...). ``SECTIONS`` says
which module owns each key prefix, in the order of the scenario's tables; this module assembles
the declarations into one table (``PARAMS``, ``BY_KEY``) that drives everything that touches
parameters: validation of scenario files and ``--set`` overrides, the resolved ``scenario.toml``
a run writes, ``run.py explain``, ``scenarios/default.toml`` and the parameter tables in the
docs. A key that is not declared does not exist.
"""

from __future__ import annotations

import importlib.util
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Kinds of value a parameter can take.
INT, FLOAT, BOOL, STR, CHOICE, SHARES, PROFILE24, GROUP_TABLE = (
    "int",
    "float",
    "bool",
    "str",
    "choice",
    "shares",
    "profile24",
    "group_table",
)
# Request rules: a value of the base kind, or "regime" for the active regime's value.
RULE_FLOAT, RULE_INT, RULE_BOOL = "rule_float", "rule_int", "rule_bool"
RULE_BASE = {RULE_FLOAT: FLOAT, RULE_INT: INT, RULE_BOOL: BOOL}
FROM_REGIME = "regime"

CAMERA_TYPES = ("doorbell", "stickup", "floodlight", "indoor")
PEDESTRIAN_KINDS = ("resident", "visitor", "delivery")
INCIDENT_KINDS = ("package_theft", "car_break_in", "burglary")
ALERT_SETTINGS = ("all_motion", "people_only", "muted")
REGIMES = ("portal", "rfa", "none", "community")
# the paths by which footage leaves the owner (sim/model/ledger.py; metric names: a public contract)
LEDGER_PATHS = (
    "voluntary",
    "legal",
    "emergency",
    "compromise",
    "protest",
    "face_recognition",
    "pet_search",
)
# Each regime's values of the request rules (requests.<key>; a rule set to "regime" takes the
# value of requests.regime's regime). Here, not in sim/model/requests.py, so that validation can
# compare a rule's minimum with its maximum without importing the model.
RULE_KEYS = (
    "max_window_hours",
    "min_window_minutes",
    "max_area_sq_mi",
    "min_area_sq_mi",
    "max_per_incident",
    "public",
    "allow_protest",
)
REGIME_RULES = {
    "portal": (12.0, 0.0, math.pi * 0.5**2, 0.0, 0, False, True),
    "rfa": (12.0, 15.0, 0.5, 0.025, 2, True, False),
    "none": (12.0, 0.0, 0.5, 0.0, 0, False, False),
    "community": (12.0, 15.0, 0.5, 0.025, 2, True, False),  # none published: the RFA's
}

# Sources cited by short tag by several submodels; docs/sources.md expands them. A source one
# submodel cites is a tag in that module, just above its PARAMS.
SRC_ASSUMPTION = "modelling assumption (free parameter: sweep it)"
SRC_RUN = "run setting"
SRC_ADOPTION = "docs/sources.md: US video-doorbell adoption 4 % (2017), ~20 % later, 27 % recently"
SRC_PUBLIC = "modelling assumption: no published effect of publicity (sweep it; docs/sources.md)"
# Hourly profiles are relative weights: bounded so that their sums and means stay finite and
# normal floats (a weight of 1e308 overflowed the sum; all-subnormal weights a mean of 0).
PROFILE_MAX = 1e6
PROFILE_MIN_PEAK = 1e-6
# Share sets within this of 1 are accepted and rescaled to sum to 1 as exactly as floats
# allow (the samplers accept only about 1.5e-8).
SHARE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Param:
    """One scenario parameter.

    Attributes:
        key: dotted name, e.g. ``cameras.adoption``.
        kind: one of the value kinds above.
        default: value used when a scenario does not set the key.
        unit: physical unit, or ``-`` for dimensionless, ``share`` for fractions in [0, 1].
        doc: one line saying what the parameter means.
        source: where the default comes from.
        low, high: inclusive numeric range (numbers, and each share or profile entry).
        choices: allowed values for ``choice`` parameters.
    """

    key: str
    kind: str
    default: Any
    unit: str
    doc: str
    source: str = SRC_ASSUMPTION
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        """Describe the allowed values in a few words, for error messages."""
        if self.kind == CHOICE:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == BOOL:
            return "true or false"
        if self.kind == STR:
            return "a string (no NUL character)"
        if self.kind == SHARES:
            return f"a table of name = share (each in [{self.low}, {self.high}], summing to 1)"
        if self.kind == PROFILE24:
            return (
                f"a list of 24 non-negative hourly weights of at most {PROFILE_MAX:g}, not all "
                f"zero (the largest at least {PROFILE_MIN_PEAK:g})"
            )
        if self.kind == GROUP_TABLE:
            return (
                f"a table of group name = value in [{self.low:g}, {self.high:g}] "
                "(groups of population.groups; empty for none)"
            )
        if self.kind in RULE_BASE:
            base = Param(self.key, RULE_BASE[self.kind], None, "", "", "", self.low, self.high)
            return f'{base.allowed()}, or "{FROM_REGIME}" (the value of requests.regime)'
        if self.kind == INT:
            return f"an integer in [{int(self.low)}, {int(self.high)}]"
        return f"a number in [{self.low:g}, {self.high:g}]"


# Compact declarations: one call per key, on one to three lines, in the owner's PARAMS.
def number(
    key: str,
    default: float,
    unit: str,
    low: float,
    high: float,
    doc: str,
    source: str = SRC_ASSUMPTION,
) -> Param:
    """A real number in [low, high]."""
    return Param(key, FLOAT, default, unit, doc, source, low, high)


def integer(
    key: str, default: int, unit: str, low: int, high: int, doc: str, source: str = SRC_ASSUMPTION
) -> Param:
    """A whole number in [low, high]."""
    return Param(key, INT, default, unit, doc, source, low, high)


def share(key: str, default: float, doc: str, source: str = SRC_ASSUMPTION) -> Param:
    """A fraction or probability in [0, 1]."""
    return Param(key, FLOAT, default, "share", doc, source, 0, 1)


def flag(key: str, default: bool, doc: str, source: str = SRC_ASSUMPTION) -> Param:
    """A switch: true or false."""
    return Param(key, BOOL, default, "-", doc, source)


def choice(
    key: str, default: str, choices: tuple[str, ...], doc: str, source: str = SRC_ASSUMPTION
) -> Param:
    """One of a few named values."""
    return Param(key, CHOICE, default, "-", doc, source, choices=tuple(choices))


def path(key: str, doc: str, source: str = SRC_RUN) -> Param:
    """A file path, empty by default (resolved by ``Scenario.path``)."""
    return Param(key, STR, "", "path", doc, source)


def shares(key: str, default: dict[str, float], doc: str, source: str = SRC_ASSUMPTION) -> Param:
    """A table of names and their shares, summing to 1."""
    return Param(key, SHARES, default, "share", doc, source, 0, 1)


def profile(key: str, default: list[float], doc: str, source: str = SRC_ASSUMPTION) -> Param:
    """24 relative hourly weights (hour 0 is midnight to 1 am)."""
    return Param(key, PROFILE24, default, "weight/hour", doc, source)


# The scenario's sections (the first part of a key) in the order of its tables, each with the
# module that declares its keys (in that module's PARAMS, in the order they are listed there).
SECTIONS: dict[str, str] = {
    "seed": "sim.model.model",
    "time": "sim.model.model",
    "world": "sim.world.world",
    "population": "sim.model.population",
    "cameras": "sim.model.cameras",
    "incidents": "sim.model.incidents",
    "reporting": "sim.model.reporting",
    "feed": "sim.model.reporting",
    "police": "sim.model.police",
    "requests": "sim.model.requests",
    "protest": "sim.model.protests",
    "legal": "sim.model.police",
    "privacy": "sim.model.privacy",
    "adoption": "sim.model.adoption",
    "promotion": "sim.model.adoption",
    "ai": "sim.model.ai_features",
    "footage": "sim.model.footage",
    "avoidance": "sim.model.avoidance",
}
OWNERS: tuple[str, ...] = tuple(dict.fromkeys(SECTIONS.values()))


def section(key: str) -> str:
    return key.split(".", 1)[0]


# A module's declarations: its own source tags, then PARAMS = ( ... ) closed by ")" alone on a line.
_FIRST = re.compile(r"^(?:SRC_\w+|PARAMS) = ", re.M)
_PARAMS = re.compile(r"^PARAMS = \($", re.M)
_CLOSE = re.compile(r"^\)$", re.M)


def declared(owner: str) -> tuple[Param, ...]:
    """An owner module's PARAMS, read from its source without importing it.

    Importing the submodels costs about a second (numba, Mesa, scipy), which loading a scenario
    or ``run.py explain`` should not pay. So the part of the module from its first ``SRC_*``
    source tag to the end of its PARAMS block is run again here, among this module's names: it
    may use literals, those names and its own tags, nothing else (tests/test_schema.py checks
    that the module's own PARAMS agrees).
    """
    spec = importlib.util.find_spec(owner)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"schema owner {owner} not found")
    file = Path(spec.origin)
    text = file.read_text(encoding="utf-8")
    first, block = _FIRST.search(text), _PARAMS.search(text)
    close = _CLOSE.search(text, block.end()) if block else None
    if first is None or block is None or close is None:
        raise RuntimeError(f'{file}: no PARAMS = ( ... ) block closed by ")" alone on a line')
    lines_before = "\n" * text.count("\n", 0, first.start())  # tracebacks name the right line
    names = {k: v for k, v in globals().items() if not k.startswith("_")}
    try:
        exec(compile(lines_before + text[first.start() : close.end()], str(file), "exec"), names)
    except NameError as exc:
        raise RuntimeError(
            f"{file}: PARAMS may use only literals, sim.scenario.schema's names and the module's "
            f"SRC_* "
            f"tags above it ({exc})"
        ) from None
    return tuple(names["PARAMS"])


def assemble(owners: tuple[str, ...] = OWNERS) -> tuple[Param, ...]:
    """Every owner's declarations, in the order of SECTIONS; each key declared once, by the
    module that owns its section."""
    by_section: dict[str, list[Param]] = {s: [] for s in SECTIONS}
    seen: dict[str, str] = {}
    for owner in owners:
        for p in declared(owner):
            s = section(p.key)
            if SECTIONS.get(s) != owner:
                raise RuntimeError(
                    f"{owner} declares {p.key}, but section {s!r} belongs to "
                    f"{SECTIONS.get(s, 'no module (add it to sim.scenario.schema.SECTIONS)')}"
                )
            if p.key in seen:
                raise RuntimeError(f"{p.key} is declared twice")
            seen[p.key] = owner
            by_section[s].append(p)
    return tuple(p for params in by_section.values() for p in params)


PARAMS: tuple[Param, ...] = assemble()

BY_KEY: dict[str, Param] = {p.key: p for p in PARAMS}

# Groups of keys whose values must sum to 1.
SHARE_SETS: dict[str, tuple[str, ...]] = {
    "cameras.mix": tuple(f"cameras.mix.{t}" for t in CAMERA_TYPES),
    "population.kinds": tuple(f"population.kinds.{k}" for k in PEDESTRIAN_KINDS),
    "reporting.alert_settings": tuple(f"reporting.alert_settings.{a}" for a in ALERT_SETTINGS),
    "adoption.mix": tuple(f"adoption.mix.{t}" for t in CAMERA_TYPES),
}


def defaults() -> dict[str, Any]:
    """Every parameter at its default, as a flat dict of dotted keys (fresh copies)."""
    out: dict[str, Any] = {}
    for p in PARAMS:
        v = p.default
        out[p.key] = dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v
    return out
