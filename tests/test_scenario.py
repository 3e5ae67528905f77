"""Scenario files and overrides: schema completeness, validation, error messages, round trip."""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.scenario import (
    Scenario,
    ScenarioError,
    check_value,
    flatten,
    load,
    parse_overrides,
)
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
    RULE_BASE,
    SHARE_SETS,
    SHARES,
    STR,
    defaults,
)
from sim.ui import cli

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOML = ROOT / "scenarios" / "default.toml"
NUMERIC = (INT, FLOAT)


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(fn, *args, **kwargs) -> str:
    """The message of the ScenarioError ``fn`` raises (fails the test if it raises none)."""
    with pytest.raises(ScenarioError) as info:
        fn(*args, **kwargs)
    return str(info.value)


# --- the schema and the defaults ------------------------------------------------------------


def test_default_scenario_is_valid_and_complete():
    s = Scenario()
    assert set(s) == set(BY_KEY)
    assert dict(s) == defaults()
    # Every default passes its own validation unchanged.
    for p in PARAMS:
        assert check_value(p.key, p.default, "<test>") == p.default, p.key


def test_defaults_returns_fresh_copies():
    a = defaults()
    a["population.groups"]["majority"] = 0.0
    a["population.departure_profile.resident"][0] = 99.0
    b = defaults()
    assert b["population.groups"]["majority"] == 0.7
    assert b["population.departure_profile.resident"][0] == 0.2


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: p.key)
def test_every_param_has_unit_doc_and_range_containing_default(p):
    assert p.unit.strip(), "missing unit"
    assert p.doc.strip(), "missing doc"
    assert "\n" not in p.doc
    assert p.key in BY_KEY and BY_KEY[p.key] is p
    if p.kind in NUMERIC:
        assert p.low is not None and p.high is not None
        assert p.low <= p.default <= p.high
        assert isinstance(p.default, int if p.kind == INT else float)
        assert not isinstance(p.default, bool)
    elif p.kind == SHARES:
        assert p.low is not None and p.high is not None
        assert all(p.low <= v <= p.high for v in p.default.values())
        assert math.isclose(sum(p.default.values()), 1.0)
    elif p.kind == PROFILE24:
        assert len(p.default) == 24 and min(p.default) >= 0 and sum(p.default) > 0
    elif p.kind == CHOICE:
        assert p.default in p.choices
    elif p.kind == GROUP_TABLE:
        assert p.low is not None and p.high is not None
        assert isinstance(p.default, dict)
        assert all(p.low <= v <= p.high for v in p.default.values())
    elif p.kind in RULE_BASE:
        assert p.default == FROM_REGIME  # every rule defaults to the regime's value
    else:
        assert p.kind in (STR, BOOL)


def test_share_set_defaults_sum_to_one():
    for name, keys in SHARE_SETS.items():
        assert all(k in BY_KEY for k in keys), name
        assert math.isclose(sum(BY_KEY[k].default for k in keys), 1.0), name


def test_default_toml_sets_every_key():
    data = tomllib.loads(DEFAULT_TOML.read_text(encoding="utf-8"))
    assert set(flatten(data, str(DEFAULT_TOML))) == set(BY_KEY)


def test_default_toml_loads_to_exactly_the_defaults():
    s = load(DEFAULT_TOML)
    assert dict(s) == dict(Scenario())
    assert s.origin == str(DEFAULT_TOML)
    assert s.base_dir == DEFAULT_TOML.parent.resolve()


# --- unknown keys ---------------------------------------------------------------------------


def test_unknown_key_in_file_names_key_and_suggests_nearest(tmp_path):
    path = write(tmp_path, "[cameras]\nadoptoin = 0.3\n")
    msg = error_of(load, path)
    assert str(path) in msg
    assert "'cameras.adoptoin'" in msg
    assert "did you mean 'cameras.adoption'?" in msg
    assert "\n" not in msg


def test_unknown_dotted_key_in_file(tmp_path):
    path = write(tmp_path, "population.pedestrianz = 10\n")
    msg = error_of(load, path)
    assert "'population.pedestrianz'" in msg
    assert "did you mean 'population.pedestrians'?" in msg
    assert "\n" not in msg


def test_unknown_key_without_near_match_points_to_explain(tmp_path):
    msg = error_of(load, write(tmp_path, "zzzzzzzz = 1\n"))
    assert "'zzzzzzzz'" in msg and "did you mean" not in msg
    assert "explain" in msg


def test_unknown_key_in_override_suggests_nearest():
    msg = error_of(parse_overrides, ["cameras.adoptoin=0.3"])
    assert "'cameras.adoptoin'" in msg
    assert "did you mean 'cameras.adoption'?" in msg
    assert "\n" not in msg


def test_table_value_for_leaf_key_is_rejected(tmp_path):
    # `[cameras.adoption]` as a table: the key exists but a table is not a number.
    msg = error_of(load, write(tmp_path, "[cameras.adoption]\nx = 1\n"))
    assert "cameras.adoption" in msg


def test_unknown_key_with_newline_gives_one_line_message(tmp_path):
    path = write(tmp_path, '"a\\nb" = 1\n')
    msg = error_of(load, path)
    assert "\n" not in msg


def test_bad_group_name_with_newline_gives_one_line_message():
    msg = error_of(check_value, "population.groups", {"a\nb": 1.0}, "<test>")
    assert "\n" not in msg


# --- wrong types and out-of-range values in files -------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key", "shown", "allowed"),
    [
        ('[cameras]\nadoption = "lots"\n', "cameras.adoption", '"lots"', "a number in [0, 1]"),
        ("[world]\nblocks_x = 2.5\n", "world.blocks_x", "2.5", "an integer in [1, 1000]"),
        ("[cameras]\nadoption = true\n", "cameras.adoption", "true", "a number in [0, 1]"),
        ("[world]\nblocks_x = true\n", "world.blocks_x", "true", "an integer in [1, 1000]"),
        ("[cameras]\nadoption = 1.5\n", "cameras.adoption", "1.5", "a number in [0, 1]"),
        ("[cameras]\nadoption = -0.1\n", "cameras.adoption", "-0.1", "a number in [0, 1]"),
        ("[world]\nblocks_x = 0\n", "world.blocks_x", "0", "an integer in [1, 1000]"),
        ("[world]\nblocks_y = 1001\n", "world.blocks_y", "1001", "an integer in [1, 1000]"),
        ("[time]\ndays = nan\n", "time.days", "NaN", "a number in ["),
        ("[time]\ndays = inf\n", "time.days", "Infinity", "a number in ["),
        ("seed = -1\n", "seed", "-1", "an integer in [0, "),
        ("[time]\nrecord_minutes = [60]\n", "time.record_minutes", "[60]", "an integer in"),
        ('[world]\nkind = "hex"\n', "world.kind", '"hex"', "one of 'grid', 'graphml'"),
        ("[world]\ngraphml = 3\n", "world.graphml", "3", "a string"),
        (
            "[population.departure_profile]\nresident = [1, 2]\n",
            "population.departure_profile.resident",
            "[1, 2]",
            "a list of 24",
        ),
        (
            "[population.departure_profile]\nvisitor = [" + ", ".join(["0"] * 24) + "]\n",
            "population.departure_profile.visitor",
            "[0, 0",
            "not all zero",
        ),
        (
            "[population.departure_profile]\ndelivery = [" + ", ".join(["-1"] + ["1"] * 23) + "]\n",
            "population.departure_profile.delivery",
            "[-1, 1",
            "non-negative",
        ),
        ("[population]\ngroups = 1\n", "population.groups", "1", "a table of name = share"),
    ],
)
def test_bad_value_in_file_names_file_key_value_and_range(tmp_path, toml, key, shown, allowed):
    path = write(tmp_path, toml)
    msg = error_of(load, path)
    assert msg.startswith(f"{path}: {key} = {shown}")
    assert allowed in msg
    assert "\n" not in msg


@pytest.mark.parametrize("key", [p.key for p in PARAMS if p.kind == BOOL])
@pytest.mark.parametrize(("raw", "shown"), [("1", "1"), ("0", "0"), ('"yes"', '"yes"')])
def test_bool_key_rejects_int_and_string(tmp_path, key, raw, shown):
    table, _, leaf = key.rpartition(".")
    path = write(tmp_path, f"[{table}]\n{leaf} = {raw}\n" if table else f"{leaf} = {raw}\n")
    msg = error_of(load, path)
    assert msg.startswith(f"{path}: {key} = {shown}: must be true or false")
    assert "\n" not in msg
    for value in (True, False):
        assert check_value(key, value, "<test>") is value


def test_values_are_normalised():
    assert check_value("cameras.adoption", 1, "<t>") == 1.0
    assert type(check_value("cameras.adoption", 1, "<t>")) is float
    assert type(check_value("world.blocks_x", 4, "<t>")) is int
    prof = check_value("population.departure_profile.resident", [1] * 24, "<t>")
    assert prof == [1.0] * 24 and all(type(v) is float for v in prof)
    groups = check_value("population.groups", {"a": 1}, "<t>")
    assert groups == {"a": 1.0} and type(groups["a"]) is float


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("cameras.adoption", 10**400),
        ("world.blocks_x", 10**400),
        ("time.days", -(10**400)),
        ("population.departure_profile.resident", [10**400] + [1] * 23),
    ],
    ids=["float-key", "int-key", "negative", "profile-entry"],
)
def test_huge_integer_is_a_scenario_error(key, value):
    with pytest.raises(ScenarioError):
        check_value(key, value, "<test>")


# --- --set overrides ------------------------------------------------------------------------


def test_parse_overrides_toml_values():
    got = parse_overrides(
        [
            "cameras.adoption=0.35",
            "world.blocks_x = 4",
            "time.days=1e-1",
            'world.kind="graphml"',
            "population.groups={a=0.5,b=0.5}",
            "population.departure_profile.resident=" + json.dumps([1] * 24),
            "seed=0x10",
        ]
    )
    assert got == {
        "cameras.adoption": 0.35,
        "world.blocks_x": 4,
        "time.days": 0.1,
        "world.kind": "graphml",
        "population.groups": {"a": 0.5, "b": 0.5},
        "population.departure_profile.resident": [1] * 24,
        "seed": 16,
    }
    assert type(got["world.blocks_x"]) is int


def test_parse_overrides_bare_words_are_strings():
    got = parse_overrides(["world.kind=graphml", "world.graphml=maps/town.graphml"])
    # a path typed on the command line is made absolute against the working directory
    assert got == {
        "world.kind": "graphml",
        "world.graphml": str(Path("maps/town.graphml").resolve()),
    }


def test_parse_overrides_later_wins():
    assert parse_overrides(["seed=1", "seed=2"]) == {"seed": 2}


@pytest.mark.parametrize("item", ["seed", "=3", " =3", ""])
def test_parse_overrides_missing_equals_or_key_is_an_error(item):
    msg = error_of(parse_overrides, [item])
    assert "expected dotted.key=value" in msg
    assert "\n" not in msg


def test_overrides_are_validated_with_set_origin():
    msg = error_of(load, DEFAULT_TOML, ["cameras.adoption=1.5"])
    assert msg.startswith("--set: cameras.adoption = 1.5: must be a number in [0, 1]")
    msg = error_of(load, DEFAULT_TOML, ["world.blocks_x=lots"])
    assert msg.startswith('--set: world.blocks_x = "lots": must be an integer')


def test_overrides_are_applied():
    s = load(DEFAULT_TOML, ["cameras.adoption=0.5", "population.groups={x=0.25,y=0.75}"])
    assert s["cameras.adoption"] == 0.5
    assert s.group_names == ["x", "y"]
    assert s["population.groups"] == {"x": 0.25, "y": 0.75}
    # Everything else stays at its default.
    rest = {k: v for k, v in s.items() if k not in ("cameras.adoption", "population.groups")}
    assert rest == {k: v for k, v in defaults().items() if k in rest}


def test_replace_does_not_modify_the_original():
    s = Scenario()
    t = s.replace({"cameras.adoption": 0.5})
    assert s["cameras.adoption"] == 0.2 and t["cameras.adoption"] == 0.5


# --- share sets and groups ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SHARE_SETS))
def test_share_set_must_sum_to_one(name, tmp_path):
    first = SHARE_SETS[name][0]
    msg = error_of(load, DEFAULT_TOML, [f"{first}=0"])
    assert f"{name}.* must sum to 1" in msg
    assert "\n" not in msg
    table, _, leaf = first.rpartition(".")
    msg = error_of(load, write(tmp_path, f"[{table}]\n{leaf} = 0.0\n"))
    assert f"{name}.* must sum to 1" in msg


def test_share_set_that_sums_to_one_is_accepted():
    s = load(
        DEFAULT_TOML,
        [
            "cameras.mix.doorbell=0.25",
            "cameras.mix.stickup=0.25",
            "cameras.mix.floodlight=0.25",
            "cameras.mix.indoor=0.25",
            "population.kinds.resident=1",
            "population.kinds.visitor=0",
            "population.kinds.delivery=0",
        ],
    )
    assert s["cameras.mix.indoor"] == 0.25 and s["population.kinds.resident"] == 1.0


def test_share_set_checked_in_scenario_constructor():
    with pytest.raises(ScenarioError, match=r"population\.kinds\.\* must sum to 1"):
        Scenario({"population.kinds.visitor": 0.5})


@pytest.mark.parametrize(
    ("groups", "detail"),
    [
        ("{a=0.5,b=0.6}", "they sum to 1.1"),
        ("{a=0.5}", "they sum to 0.5"),
        ("{'1a'=0.5,b=0.5}", "'1a' is not a plain ASCII name"),
        ("{a-b=0.5,c=0.5}", "'a-b' is not a plain ASCII name"),
        ("{'a b'=0.5,c=0.5}", "'a b' is not a plain ASCII name"),
        ("{}", "1 to 16 entries"),
        ("{a=1.5,b=-0.5}", "population.groups"),
        ("{a=true}", "population.groups"),
        ('{a="half",b=0.5}', "population.groups"),
        ("{" + ",".join(f"g{i}=0.0588235294117647" for i in range(17)) + "}", "1 to 16"),
    ],
)
def test_bad_groups_are_rejected(groups, detail):
    msg = error_of(load, DEFAULT_TOML, [f"population.groups={groups}"])
    assert msg.startswith("--set: population.groups = ")
    assert detail in msg
    assert "\n" not in msg


def test_a_group_called_total_is_refused():
    """Metrics name the sum over the groups ``total`` (privacy.exposed.<path>.total)."""
    msg = error_of(load, DEFAULT_TOML, ["population.groups={total=0.5,b=0.5}"])
    assert "population.groups.total" in msg and "not allowed" in msg
    assert "\n" not in msg


def test_good_groups_are_accepted_in_order():
    s = load(DEFAULT_TOML, ["population.groups={zeta=0.2,alpha=0.3,_x9=0.5}"])
    assert s.group_names == ["zeta", "alpha", "_x9"]


# --- to_toml round trip ---------------------------------------------------------------------


def roundtrip(s: Scenario, tmp_path: Path, header: str = "") -> Scenario:
    return load(write(tmp_path, s.to_toml(header), "round.toml"))


def test_to_toml_round_trip_defaults(tmp_path):
    s = Scenario()
    back = roundtrip(s, tmp_path, "a header\nover two lines")
    assert dict(back) == dict(s)


def test_to_toml_round_trip_custom(tmp_path):
    s = Scenario(
        {
            "seed": 2**63 - 1,
            "time.days": 1 / 1440,
            "world.blocks_x": 3,
            "world.irregularity": 0.1 + 0.2,  # not exactly representable in short decimal
            "world.kind": "grid",
            "population.pedestrians": 50_000_000,
            "population.groups": {"north": 0.25, "south": 0.125, "east": 0.625},
            "population.departure_profile.visitor": [0.1 * i for i in range(24)],
            "cameras.mix.doorbell": 0.5,
            "cameras.mix.stickup": 0.5,
            "cameras.mix.floodlight": 0.0,
            "cameras.mix.indoor": 0.0,
            "cameras.adoption": 1e-9,
            "footage.store_days": 400,
        }
    )
    text = s.to_toml("header")
    assert text.startswith("# header\n")
    back = roundtrip(s, tmp_path)
    assert dict(back) == dict(s)
    assert back.group_names == ["north", "south", "east"]
    assert type(back["seed"]) is int and type(back["time.days"]) is float


def test_to_toml_documents_every_key_with_unit():
    text = Scenario().to_toml()
    for p in PARAMS:
        if p.kind in (SHARES, GROUP_TABLE):
            assert f"[{p.key}]" in text
            assert f"# {p.doc} [{p.unit}]" in text
        else:
            assert f"# [{p.unit}] {p.doc}" in text, p.key


def test_to_toml_resolves_graphml_path(tmp_path):
    s = Scenario({"world.graphml": "maps/x.graphml"}, base_dir=tmp_path)
    data = tomllib.loads(s.to_toml())
    assert data["world"]["graphml"] == str((tmp_path / "maps/x.graphml").resolve())


def test_to_toml_round_trip_plain_string(tmp_path):
    s = Scenario({"world.graphml": str(tmp_path.resolve() / 'we"ird\\ na\tme é.graphml')})
    assert dict(roundtrip(s, tmp_path)) == dict(s)


def test_non_ascii_group_name_is_refused():
    # group names become metric names and bare TOML keys: plain ASCII identifiers only
    with pytest.raises(ScenarioError, match="plain ASCII name"):
        Scenario({"population.groups": {"café": 0.5, "bar": 0.5}})


def test_to_toml_round_trip_astral_character_in_string(tmp_path):
    s = Scenario({"world.graphml": str(tmp_path.resolve() / "map-\U0001f600.graphml")})
    assert dict(roundtrip(s, tmp_path)) == dict(s)


# --- property-based: check_value -------------------------------------------------------------

FINITE = {"allow_nan": False, "allow_infinity": False}
NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
# Printable ASCII text: survives the trip through a TOML string on the command line.
TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=8)


def _outside(p) -> st.SearchStrategy:
    """Numbers outside [low, high] (ints within a few orders of magnitude, so float() works)."""
    below_int = math.ceil(p.low) - 1
    above_int = math.floor(p.high) + 1
    return st.one_of(
        st.floats(max_value=math.nextafter(float(p.low), -math.inf), **FINITE).filter(
            lambda x: x < p.low
        ),
        st.floats(min_value=math.nextafter(float(p.high), math.inf), **FINITE).filter(
            lambda x: x > p.high
        ),
        st.integers(min_value=below_int - 10**15, max_value=below_int),
        st.integers(min_value=above_int, max_value=above_int + 10**15),
        st.sampled_from([math.nan, math.inf, -math.inf]),
    )


def invalid_values(p) -> st.SearchStrategy:
    """Values that check_value must reject for parameter ``p``."""
    if p.kind in RULE_BASE:  # a rule: anything its base kind rejects, except "regime"
        base = invalid_values(dataclasses.replace(p, kind=RULE_BASE[p.kind]))
        return base.filter(lambda v: v != FROM_REGIME)
    wrong_type = st.one_of(TEXT, st.lists(st.integers(), max_size=3), st.lists(TEXT, max_size=2))
    if p.kind in NUMERIC:
        bad = [_outside(p), wrong_type, st.booleans()]
        if p.kind == INT:  # any float, whole ones (seed = 1.0) too: integers are required
            bad.append(st.floats(min_value=float(p.low), max_value=float(p.high), **FINITE))
        return st.one_of(*bad)
    if p.kind == BOOL:
        return st.one_of(st.integers(), st.floats(), TEXT)
    if p.kind == STR:
        return st.one_of(
            st.integers(),
            st.floats(),
            st.booleans(),
            st.lists(TEXT, max_size=2),
            TEXT.map(lambda t: t + "\x00"),  # a NUL cannot be in a path
        )
    if p.kind == CHOICE:
        return st.one_of(
            TEXT.filter(lambda s: s not in p.choices),
            st.integers(),
            st.booleans(),
        )
    if p.kind == SHARES:
        return st.one_of(
            st.floats(),
            TEXT,
            st.just({}),
            # A share out of range (the rest fills up to 1 so only the range is wrong).
            st.tuples(NAME, _outside(p)).map(lambda t: {t[0]: t[1], "rest_": 1 - t[1]}),
            # Shares that do not sum to 1.
            st.dictionaries(NAME, st.floats(0, 1), min_size=1, max_size=5).filter(
                lambda d: abs(sum(d.values()) - 1) > 1e-5
            ),
            # A name that is no identifier.
            st.from_regex(r"[0-9 \-.][A-Za-z0-9 \-.]{0,5}", fullmatch=True).map(lambda n: {n: 1.0}),
            st.dictionaries(NAME, st.booleans(), min_size=1, max_size=2),
        )
    if p.kind == PROFILE24:
        weights = st.floats(0, 10, **FINITE)
        return st.one_of(
            st.lists(weights, max_size=23),
            st.lists(weights, min_size=25, max_size=30),
            st.just([0.0] * 24),
            st.lists(weights, min_size=23, max_size=23).flatmap(
                lambda xs: st.floats(max_value=0, exclude_max=True, **FINITE).map(
                    lambda neg: [*xs, neg]
                )
            ),
            st.lists(weights, min_size=23, max_size=23).map(lambda xs: [*xs, "x"]),
            st.lists(weights, min_size=23, max_size=23).map(lambda xs: [*xs, True]),
            st.lists(weights, min_size=23, max_size=23).map(lambda xs: [*xs, math.nan]),
            # a weight too large for sums to stay finite, or all weights vanishingly small
            st.lists(weights, min_size=23, max_size=23).map(lambda xs: [*xs, 1e308]),
            st.just([5e-324] * 24),
            st.floats(),
        )
    if p.kind == GROUP_TABLE:
        return st.one_of(
            st.floats(),
            TEXT,
            st.lists(st.floats(0, 1), max_size=2),
            st.tuples(NAME, _outside(p)).map(lambda t: {t[0]: t[1]}),
            st.tuples(NAME, st.one_of(st.booleans(), TEXT)).map(lambda t: {t[0]: t[1]}),
        )
    raise AssertionError(f"no strategy for kind {p.kind!r}: update the test")


def valid_values(p) -> st.SearchStrategy:
    if p.kind in RULE_BASE:
        base = dataclasses.replace(p, kind=RULE_BASE[p.kind])
        return st.one_of(st.just(FROM_REGIME), valid_values(base))
    if p.kind == INT:
        return st.integers(min_value=int(p.low), max_value=int(p.high))
    if p.kind == FLOAT:
        return st.one_of(
            st.floats(min_value=float(p.low), max_value=float(p.high)),
            st.integers(min_value=math.ceil(p.low), max_value=math.floor(p.high)),
        )
    if p.kind == BOOL:
        return st.booleans()
    if p.kind == STR:
        return st.text(max_size=20).filter(lambda t: "\x00" not in t)
    if p.kind == CHOICE:
        return st.sampled_from(p.choices)
    if p.kind == SHARES:

        def normalise(names_weights):
            names, weights = names_weights
            total = sum(weights)
            shares = [w / total for w in weights]
            return dict(zip(names, shares, strict=True))

        return (
            st.lists(NAME, min_size=1, max_size=16, unique=True)
            .flatmap(
                lambda names: st.tuples(
                    st.just(names),
                    st.lists(st.integers(1, 100), min_size=len(names), max_size=len(names)),
                )
            )
            .map(normalise)
            .filter(lambda d: abs(sum(d.values()) - 1) <= 1e-9)
        )
    if p.kind == PROFILE24:
        return st.lists(
            st.one_of(st.floats(0, 1e6), st.integers(0, 1000)), min_size=24, max_size=24
        ).filter(lambda xs: max(xs) >= 1e-6)
    if p.kind == GROUP_TABLE:
        return st.dictionaries(
            NAME,
            st.one_of(
                st.floats(float(p.low), float(p.high)),
                st.integers(math.ceil(p.low), math.floor(p.high)),
            ),
            max_size=4,
        )
    raise AssertionError(f"no strategy for kind {p.kind!r}: update the test")


KEYS = st.sampled_from(PARAMS)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_check_value_rejects_invalid_values(data):
    p = data.draw(KEYS, label="param")
    value = data.draw(invalid_values(p), label="value")
    with pytest.raises(ScenarioError) as info:
        check_value(p.key, value, "origin.toml")
    msg = str(info.value)
    assert msg.startswith(f"origin.toml: {p.key} = ")
    assert "\n" not in msg


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_check_value_accepts_valid_values(data):
    p = data.draw(KEYS, label="param")
    value = data.draw(valid_values(p), label="value")
    got = check_value(p.key, value, "origin.toml")
    if p.kind == SHARES:  # rescaled to sum to 1 as exactly as floats allow
        assert list(got) == list(value)
        assert list(got.values()) == pytest.approx(list(value.values()), rel=1e-8)
        assert math.fsum(got.values()) == pytest.approx(1.0, abs=1e-12)
    else:
        assert got == value
    if p.kind == FLOAT:
        assert type(got) is float
    if p.kind == INT:
        assert type(got) is int
    if p.kind in (PROFILE24, SHARES, GROUP_TABLE):
        values = got.values() if isinstance(got, dict) else got
        assert all(type(v) is float for v in values)


@settings(max_examples=100, deadline=None)
@given(key=st.text(min_size=1, max_size=30).filter(lambda k: k not in BY_KEY))
def test_check_value_rejects_unknown_keys(key):
    with pytest.raises(ScenarioError, match="unknown key"):
        check_value(key, 1, "<test>")


# --- property-based: the command line rejects invalid --set values --------------------------


def toml_literal(value) -> str:
    """A TOML inline value for ``value`` (strings always quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{json.dumps(k)} = {toml_literal(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(value)


@pytest.mark.parametrize("key", [p.key for p in PARAMS if p.unit == "path"])
def test_cli_refuses_a_nul_in_a_path_given_with_set(key, capsys, tmp_path):
    """A path key given on the command line is resolved only when it can be a path: a NUL
    gave a ValueError traceback from pathlib (found by the test below in a fresh clone)."""
    rc = cli.main(
        ["run", str(DEFAULT_TOML), "--set", f'{key}="a\\u0000b"', "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and key in err and "NUL" in err


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_cli_rejects_invalid_set_value_with_one_line(data, capsys):
    p = data.draw(KEYS, label="param")
    value = data.draw(invalid_values(p), label="value")
    literal = toml_literal(value)
    capsys.readouterr()  # forget what earlier examples printed
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        rc = cli.main(
            [
                "run",
                str(DEFAULT_TOML),
                # Guards: should validation ever let a value through, the run stays tiny.
                "--set",
                "time.days=0.01",
                "--set",
                "population.pedestrians=10",
                "--set",
                f"{p.key}={literal}",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        assert not out.exists()
    captured = capsys.readouterr()
    assert rc == 2
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert p.key in lines[0]
    assert captured.out == ""
