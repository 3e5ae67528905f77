"""Camera views and street coverage checked against formulas and brute-force unions."""

import math

import numpy as np
import pytest

from sim.model.cameras import Cameras, initial_cameras, view_half_width
from sim.scenario.scenario import Scenario
from sim.scenario.schema import CAMERA_TYPES
from sim.world.world import build_world

SETBACK = 8.0
SPACING = 18.0
CORNER = 10.0
# The geometry and adoption these tests reason about, pinned (they are also the defaults).
BASE = Scenario().replace(
    {
        "world.setback_m": SETBACK,
        "world.home_spacing_m": SPACING,
        "world.corner_setback_m": CORNER,
        "cameras.range_m.doorbell": 9.0,
        "cameras.range_m.stickup": 15.0,
        "cameras.range_m.floodlight": 18.0,
        "cameras.range_m.indoor": 0.0,
        "cameras.fov_deg.doorbell": 150.0,
        "cameras.fov_deg.stickup": 130.0,
        "cameras.fov_deg.floodlight": 140.0,
        "cameras.fov_deg.indoor": 0.0,
        "cameras.adoption": 0.2,
        "cameras.mix.doorbell": 0.65,
        "cameras.mix.stickup": 0.15,
        "cameras.mix.floodlight": 0.1,
        "cameras.mix.indoor": 0.1,
    }
)


def half_width_formula(range_m: float, fov_deg: float, d: float) -> float:
    if range_m <= d or fov_deg == 0:
        return 0.0
    return min(math.sqrt(range_m**2 - d**2), d * math.tan(math.radians(fov_deg) / 2))


def union_length(intervals) -> float:
    """Total length of a union of intervals (plain Python sweep)."""
    total, reach = 0.0, -math.inf
    for lo, hi in sorted(intervals):
        if hi <= reach:
            continue
        total += hi - max(lo, reach)
        reach = hi
    return total


def expected_views(cams: Cameras, world, params) -> dict[int, list[tuple[float, float]]]:
    """Per edge, the street intervals seen by the active cameras, from the formula."""
    hw = [
        half_width_formula(params[f"cameras.range_m.{t}"], params[f"cameras.fov_deg.{t}"], SETBACK)
        for t in CAMERA_TYPES
    ]
    views: dict[int, list[tuple[float, float]]] = {}
    for c in range(len(cams.home)):
        if not cams.active[c] or hw[cams.kind[c]] == 0:
            continue
        h = int(cams.home[c])
        e = int(world.homes.edge[h])
        L = float(world.net.edge_length[e])
        o = float(world.homes.offset[h])
        w = hw[cams.kind[c]]
        views.setdefault(e, []).append((max(0.0, o - w), min(L, o + w)))
    return views


def brute_covered(views) -> float:
    return sum(union_length(iv) for iv in views.values())


def sampled_covered(views, world, step: float = 0.01) -> float:
    """Covered length by sampling every edge at ``step`` metres."""
    total = 0
    for e, iv in views.items():
        L = float(world.net.edge_length[e])
        s = np.arange(0.0, L, step) + step / 2
        s = s[s < L]
        seen = np.zeros(len(s), bool)
        for lo, hi in iv:
            seen |= (s >= lo) & (s <= hi)
        total += int(seen.sum())
    return total * step


@pytest.fixture(scope="module")
def world():
    return build_world(BASE, np.random.default_rng(31))


# --------------------------------------------------------------------------- view geometry


@pytest.mark.parametrize("range_m", [0.0, 5.0, 8.0, 8.5, 9.0, 15.0, 18.0, 40.0, 100.0])
@pytest.mark.parametrize("fov", [0.0, 10.0, 60.0, 90.0, 130.0, 150.0, 179.0, 180.0])
@pytest.mark.parametrize("setback", [0.5, 8.0, 15.0])
def test_view_half_width_formula(range_m, fov, setback):
    got = view_half_width(range_m, fov, setback)
    assert got == pytest.approx(half_width_formula(range_m, fov, setback), rel=1e-12, abs=1e-12)


def test_view_half_width_random_values():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        r, f, d = rng.uniform(0, 100), rng.uniform(0, 179), rng.uniform(0.5, 50)
        assert view_half_width(r, f, d) == pytest.approx(half_width_formula(r, f, d), rel=1e-12)


def test_view_half_width_zero_when_out_of_range_or_indoor():
    assert view_half_width(8.0, 150.0, 8.0) == 0.0  # range == setback
    assert view_half_width(5.0, 150.0, 8.0) == 0.0
    assert view_half_width(20.0, 0.0, 8.0) == 0.0  # indoor
    assert view_half_width(0.0, 0.0, 8.0) == 0.0


def test_camera_types_half_widths(world):
    cams = Cameras(world.homes, world.net, BASE)
    expected = {
        "doorbell": math.sqrt(9**2 - 8**2),  # range-limited
        "stickup": math.sqrt(15**2 - 8**2),
        "floodlight": math.sqrt(18**2 - 8**2),
        "indoor": 0.0,
    }
    assert cams.half_width == pytest.approx([expected[t] for t in CAMERA_TYPES], abs=1e-12)
    narrow = BASE.replace({"cameras.fov_deg.doorbell": 30.0})
    cams = Cameras(world.homes, world.net, narrow)
    assert cams.half_width[0] == pytest.approx(8 * math.tan(math.radians(15)), abs=1e-12)


def test_install_views_are_centred_on_the_home_and_clipped_to_the_street(world):
    params = BASE.replace({"cameras.range_m.floodlight": 60.0})
    cams = Cameras(world.homes, world.net, params)
    homes = np.arange(world.homes.count)
    kinds = np.random.default_rng(2).integers(0, 4, len(homes))
    ids = cams.install(homes, kinds)
    assert ids.tolist() == list(range(len(homes)))
    hw = [
        half_width_formula(params[f"cameras.range_m.{t}"], params[f"cameras.fov_deg.{t}"], SETBACK)
        for t in CAMERA_TYPES
    ]
    for c in ids.tolist():
        h = int(cams.home[c])
        L = float(world.net.edge_length[world.homes.edge[h]])
        o, w = float(world.homes.offset[h]), hw[cams.kind[c]]
        assert cams.view_lo[c] == pytest.approx(min(L, max(0.0, o - w)), abs=1e-9)
        assert cams.view_hi[c] == pytest.approx(max(0.0, min(L, o + w)), abs=1e-9)
    # 60 m floodlight views run past the corner setback and are clipped at the street's ends
    flood = cams.kind == CAMERA_TYPES.index("floodlight")
    assert np.any(cams.view_lo[flood] == 0.0)
    assert np.any(cams.view_hi[flood] == world.net.edge_length[cams.edge[flood]])
    indoor = cams.kind == CAMERA_TYPES.index("indoor")
    assert np.all(cams.view_lo[indoor] == cams.view_hi[indoor])
    assert not np.any(cams.sees_street()[indoor])
    assert np.array_equal(cams.edge, world.homes.edge[cams.home])


# --------------------------------------------------------------------------- coverage


@pytest.mark.parametrize("seed", range(6))
def test_covered_length_is_the_union_of_views(world, seed):
    rng = np.random.default_rng(seed)
    # wide views on some types so that neighbours and both sides of the street overlap
    params = BASE.replace(
        {
            "cameras.range_m.doorbell": float(rng.uniform(5, 12)),
            "cameras.range_m.stickup": float(rng.uniform(10, 40)),
            "cameras.fov_deg.stickup": float(rng.uniform(60, 175)),
            "cameras.range_m.floodlight": float(rng.uniform(20, 80)),
        }
    )
    cams = Cameras(world.homes, world.net, params)
    n = int(rng.integers(world.homes.count // 4, world.homes.count))
    homes = rng.choice(world.homes.count, n, replace=False)
    cams.install(homes, rng.integers(0, 4, len(homes)))
    cams.retire(rng.choice(len(homes), len(homes) // 5, replace=False))
    views = expected_views(cams, world, params)
    expected = brute_covered(views)
    assert cams.covered_length() == pytest.approx(expected, rel=1e-9, abs=1e-6)
    # views overlap: the union is shorter than the sum of the views
    assert cams.covered_length() < sum(hi - lo for iv in views.values() for lo, hi in iv)
    frac = cams.street_fraction()
    assert 0 <= frac <= 1
    assert frac == pytest.approx(expected / world.net.total_length, rel=1e-9)


def test_covered_length_against_sampling_at_one_centimetre():
    world = build_world(
        BASE.replace({"world.blocks_x": 4, "world.blocks_y": 3}), np.random.default_rng(5)
    )
    params = BASE.replace({"cameras.range_m.floodlight": 40.0})
    cams = Cameras(world.homes, world.net, params)
    rng = np.random.default_rng(6)
    homes = rng.choice(world.homes.count, world.homes.count // 2, replace=False)
    cams.install(homes, rng.integers(0, 4, len(homes)))
    views = expected_views(cams, world, params)
    n_intervals = sum(len(iv) for iv in views.values())
    assert cams.covered_length() == pytest.approx(
        sampled_covered(views, world), abs=0.01 * 2 * n_intervals
    )


def test_no_adoption_covers_nothing(world):
    cams = initial_cameras(
        world.homes,
        world.net,
        BASE.replace({"cameras.adoption": 0.0}),
        np.random.default_rng(0),
    )
    assert cams.count == 0
    assert cams.covered_length() == 0.0
    assert cams.street_fraction() == 0.0
    assert np.all(cams.home_camera == -1)


def full_adoption(world, mix: dict[str, float]):
    values = {f"cameras.mix.{t}": mix.get(t, 0.0) for t in CAMERA_TYPES}
    params = BASE.replace({"cameras.adoption": 1.0, **values})
    return initial_cameras(world.homes, world.net, params, np.random.default_rng(1))


def test_full_adoption_of_doorbells_covers_separate_stretches(world):
    """Doorbell views (half-width 4.12 m) are shorter than the 18 m spacing and the 10 m
    corner setback, and both sides of a street see the same stretch: H/2 stretches of 2hw."""
    cams = full_adoption(world, {"doorbell": 1.0})
    hw = math.sqrt(9**2 - 8**2)
    assert cams.count == world.homes.count
    assert cams.covered_length() == pytest.approx(world.homes.count * hw, rel=1e-9)


def test_full_adoption_of_floodlights_covers_each_row_of_homes_end_to_end(world):
    """Floodlight views (half-width 16.1 m) overlap their neighbours at 18 m spacing: each
    street is seen from its first home's view to its last's, clipped to the street."""
    cams = full_adoption(world, {"floodlight": 1.0})
    hw = math.sqrt(18**2 - 8**2)
    net = world.net
    expected = 0.0
    for e in range(net.n_edges):
        L = float(net.edge_length[e])
        n = max(0, math.floor((L - 2 * CORNER) / SPACING))
        if n:
            first = CORNER + (L - 2 * CORNER - SPACING * n) / 2 + SPACING / 2
            last = first + SPACING * (n - 1)
            expected += min(L, last + hw) - max(0.0, first - hw)
    assert cams.covered_length() == pytest.approx(expected, rel=1e-9)
    assert 0 < cams.street_fraction() < 1


def test_full_adoption_with_a_street_facing_mix(world):
    mix = {"doorbell": 0.5, "stickup": 0.3, "floodlight": 0.2}
    cams = full_adoption(world, mix)
    assert cams.count == world.homes.count
    assert not np.any(cams.kind == CAMERA_TYPES.index("indoor"))
    expected = brute_covered(expected_views(cams, world, BASE))
    assert cams.covered_length() == pytest.approx(expected, rel=1e-9)
    assert cams.covered_length() > full_adoption(world, {"doorbell": 1.0}).covered_length()


def test_indoor_cameras_cover_nothing(world):
    cams = full_adoption(world, {"indoor": 1.0})
    assert cams.count == world.homes.count
    assert cams.covered_length() == 0.0


# --------------------------------------------------------------------------- adoption


def test_initial_camera_count_is_binomial(world):
    H, a = world.homes.count, 0.2
    params = BASE
    counts, owners = [], []
    for seed in range(12):
        cams = initial_cameras(world.homes, world.net, params, np.random.default_rng(seed))
        counts.append(cams.count)
        owners.append(frozenset(cams.home.tolist()))
        assert abs(cams.count - H * a) <= 4 * math.sqrt(H * a * (1 - a))
    assert len(set(owners)) == len(owners)  # different seeds, different owners
    assert len(set(counts)) > 1
    # the mean over seeds is within 4 standard errors too
    assert abs(np.mean(counts) - H * a) <= 4 * math.sqrt(H * a * (1 - a) / len(counts))
    same = initial_cameras(world.homes, world.net, params, np.random.default_rng(0))
    assert frozenset(same.home.tolist()) == owners[0]


def test_camera_types_follow_the_mix(world):
    mix = np.array([0.65, 0.15, 0.1, 0.1])
    params = BASE.replace({"cameras.adoption": 1.0})
    kinds = np.concatenate(
        [
            initial_cameras(world.homes, world.net, params, np.random.default_rng(s)).kind
            for s in range(10)
        ]
    )
    n = len(kinds)
    counts = np.bincount(kinds, minlength=4)
    assert np.all(np.abs(counts - n * mix) <= 4 * np.sqrt(n * mix * (1 - mix)))
    other = BASE.replace(
        {
            "cameras.adoption": 1.0,
            "cameras.mix.doorbell": 0.1,
            "cameras.mix.stickup": 0.2,
            "cameras.mix.floodlight": 0.3,
            "cameras.mix.indoor": 0.4,
        }
    )
    kinds = initial_cameras(world.homes, world.net, other, np.random.default_rng(0)).kind
    p, n = np.array([0.1, 0.2, 0.3, 0.4]), len(kinds)
    assert np.all(np.abs(np.bincount(kinds, minlength=4) - n * p) <= 4 * np.sqrt(n * p * (1 - p)))


def test_home_camera_is_consistent_with_home(world):
    cams = initial_cameras(world.homes, world.net, BASE, np.random.default_rng(3))
    with_camera = set(cams.home.tolist())
    assert len(with_camera) == len(cams.home) == cams.count
    for h in range(world.homes.count):
        c = int(cams.home_camera[h])
        if h in with_camera:
            assert c >= 0 and cams.home[c] == h and cams.active[c]
        else:
            assert c == -1


def test_install_on_a_home_with_a_camera_raises_and_changes_nothing(world):
    cams = Cameras(world.homes, world.net, BASE)
    cams.install(np.array([3, 7]), np.array([0, 1]))
    version, count = cams.version, cams.count
    with pytest.raises(ValueError):
        cams.install(np.array([5, 7]), np.array([0, 0]))
    assert cams.version == version and cams.count == count
    assert cams.home_camera[5] == -1 and cams.home_camera[7] == 1


def test_install_the_same_home_twice_in_one_call_raises(world):
    cams = Cameras(world.homes, world.net, BASE)
    with pytest.raises(ValueError):
        cams.install(np.array([4, 4]), np.array([0, 1]))


def test_retire_frees_the_home_and_bumps_version(world):
    params = BASE
    cams = Cameras(world.homes, world.net, params)
    ids = cams.install(np.array([10, 11, 12]), np.array([2, 2, 0]))
    covered = cams.covered_length()
    version = cams.version
    cams.retire(ids[:1])
    assert cams.version > version
    assert cams.count == 2
    assert not cams.active[ids[0]] and cams.home_camera[10] == -1
    assert cams.home_camera[11] == ids[1]
    assert cams.covered_length() == pytest.approx(
        brute_covered(expected_views(cams, world, params)), rel=1e-12
    )
    assert cams.covered_length() < covered
    # the home can have a camera again, with a new id
    version = cams.version
    [new] = cams.install(np.array([10]), np.array([1]))
    assert new == 3 and cams.home_camera[10] == 3 and cams.version > version
    assert cams.count == 3
    assert not cams.sees_street()[ids[0]] and cams.sees_street()[new]
