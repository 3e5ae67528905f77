"""The footage store checked against a brute-force filter over every sighting ever added."""

import math

import numpy as np
import pytest

from sim.engine.engine import MINUTES_PER_DAY
from sim.model.footage import Circle, FootageStore, Polygon, Sightings

DAYS = 5
N_CAMERAS = 60
BYTES_PER_SIGHTING = 12  # camera, person (int32); minute of day, length (uint16)


def inside_polygon(x: float, y: float, vertices) -> bool:
    """Even-odd ray casting (plain Python)."""
    inside = False
    n = len(vertices)
    for i in range(n):
        (x1, y1), (x2, y2) = vertices[i], vertices[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def inside(area, x: float, y: float) -> bool:
    if area is None:
        return True
    if isinstance(area, Circle):
        return math.hypot(x - area.x, y - area.y) <= area.radius_m
    return inside_polygon(x, y, area.vertices)


def random_polygon(rng) -> Polygon:
    """A random star-shaped (often non-convex) polygon, in either orientation."""
    cx, cy = rng.uniform(0, 1000, 2)
    n = int(rng.integers(3, 9))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = rng.uniform(50, 500, n)
    pts = [(cx + r * math.cos(a), cy + r * math.sin(a)) for a, r in zip(angles, radii, strict=True)]
    if rng.random() < 0.5:
        pts = pts[::-1]
    return Polygon(tuple(pts))


def random_area(rng):
    u = rng.random()
    if u < 0.15:
        return None
    if u < 0.55:
        x, y = rng.uniform(-100, 1100, 2)
        return Circle(float(x), float(y), float(rng.uniform(10, 600)))
    return random_polygon(rng)


class Recorder:
    """Feeds a store minute by minute and keeps every sighting for brute-force checks."""

    def __init__(self, store_days: int, seed: int, per_minute: float = 2.0):
        self.rng = np.random.default_rng(seed)
        self.xy = self.rng.uniform(0, 1000, (N_CAMERAS, 2))
        self.store = FootageStore(lambda: self.xy, store_days)
        self.per_minute = per_minute
        self.rows: list[tuple[int, int, int, int]] = []
        self.now = 0

    def run_until(self, end: int, expire_daily: bool = True) -> None:
        rng = self.rng
        while self.now < end:
            if expire_daily and self.now % MINUTES_PER_DAY == 0:
                self.store.expire(self.now)
            n = int(rng.poisson(self.per_minute))
            if n:
                cam = rng.integers(0, N_CAMERAS, n)
                person = rng.integers(0, 500, n)
                # mostly short, some long enough to run past midnight
                dur = np.where(rng.random(n) < 0.05, rng.integers(0, 600, n), rng.integers(0, 6, n))
                t_in = np.full(n, self.now)
                t_out = t_in + dur
                self.store.add(cam, person, t_in, t_out)
                cols = (cam.tolist(), person.tolist(), t_in.tolist(), t_out.tolist())
                self.rows += list(zip(*cols, strict=True))
            self.now += 1

    def brute(self, t_start, t_end, area=None, cameras=None, min_day=0):
        keep = []
        cam_ok = [inside(area, x, y) for x, y in self.xy.tolist()]
        chosen = None if cameras is None else set(np.asarray(cameras).tolist())
        for row in self.rows:
            c, _, t_in, t_out = row
            if t_in // MINUTES_PER_DAY < min_day:
                continue
            in_window = t_in <= t_end and t_out >= t_start
            if in_window and cam_ok[c] and (chosen is None or c in chosen):
                keep.append(row)
        return sorted(keep)


def rows_of(s: Sightings) -> list[tuple[int, int, int, int]]:
    return sorted(
        zip(s.camera.tolist(), s.person.tolist(), s.t_in.tolist(), s.t_out.tolist(), strict=True)
    )


@pytest.fixture(scope="module")
def recorded():
    rec = Recorder(store_days=30, seed=1)
    rec.run_until(DAYS * MINUTES_PER_DAY)
    return rec


# --------------------------------------------------------------------------- queries


def test_query_matches_brute_force_for_random_windows_and_areas(recorded):
    rng = np.random.default_rng(2)
    total = DAYS * MINUTES_PER_DAY
    nonempty = 0
    for _ in range(150):
        a = int(rng.integers(0, total))
        b = min(total + 100, a + int(rng.choice([0, 1, 10, 60, 600, 1440, 3000])))
        area = random_area(rng)
        got = recorded.store.query(a, b, area)
        assert rows_of(got) == recorded.brute(a, b, area)
        nonempty += len(got) > 0
    assert nonempty > 100


@pytest.mark.parametrize("day", range(1, DAYS))
def test_query_windows_crossing_midnight(recorded, day):
    midnight = day * MINUTES_PER_DAY
    rng = np.random.default_rng(day)
    for before, after in [(30, 30), (1, 0), (0, 1), (0, 0), (300, 5), (5, 300)]:
        area = random_area(rng)
        a, b = midnight - before, midnight + after
        assert rows_of(recorded.store.query(a, b, area)) == recorded.brute(a, b, area)
    # sightings that began the evening before are found by a window after midnight only
    got = rows_of(recorded.store.query(midnight + 60, midnight + 120))
    assert any(t_in < midnight for _, _, t_in, _ in got)
    assert got == recorded.brute(midnight + 60, midnight + 120)


def test_query_by_camera_ids_and_mask(recorded):
    rng = np.random.default_rng(4)
    for _ in range(40):
        a = int(rng.integers(0, DAYS * MINUTES_PER_DAY - 500))
        b = a + int(rng.integers(0, 500))
        ids = rng.choice(N_CAMERAS, int(rng.integers(1, 20)), replace=False)
        area = random_area(rng)
        assert rows_of(recorded.store.query(a, b, area, cameras=ids)) == recorded.brute(
            a, b, area, ids
        )
        mask = np.zeros(N_CAMERAS, bool)
        mask[ids] = True
        assert rows_of(recorded.store.query(a, b, cameras=mask)) == recorded.brute(a, b, None, ids)
    with pytest.raises(ValueError, match="a camera mask over 3 cameras"):
        recorded.store.query(0, 100, cameras=np.ones(3, bool))  # not one entry per camera


def test_query_outside_the_recorded_time_is_empty(recorded):
    later = DAYS * MINUTES_PER_DAY + 1000
    empty = recorded.store.query(later, later + 100)
    assert len(empty) == 0 and empty.minutes() == 0 and len(empty.people()) == 0
    assert len(recorded.store.query(0, 10, Circle(-5000.0, -5000.0, 10.0))) == 0


def test_cameras_in_area(recorded):
    rng = np.random.default_rng(5)
    assert recorded.store.cameras_in(None) is None
    for _ in range(30):
        area = random_area(rng) or Circle(0.0, 0.0, 1.0)
        expected = [inside(area, x, y) for x, y in recorded.xy.tolist()]
        assert recorded.store.cameras_in(area).tolist() == expected


def test_query_sees_cameras_installed_after_the_store_was_made():
    xy = np.array([[0.0, 0.0]])
    store = FootageStore(lambda: xy, 7)
    store.add(np.array([0]), np.array([1]), np.array([5]), np.array([6]))
    xy = np.array([[0.0, 0.0], [100.0, 0.0]])
    store.add(np.array([1, 0]), np.array([2, 3]), np.array([7, 7]), np.array([9, 8]))
    got = store.query(0, 100, Circle(100.0, 0.0, 1.0))
    assert rows_of(got) == [(1, 2, 7, 9)]
    assert len(store.query(0, 100)) == 3


# --------------------------------------------------------------------------- expiry, memory


def test_expire_drops_days_older_than_store_days():
    store_days = 3
    rec = Recorder(store_days=store_days, seed=7, per_minute=1.0)
    for day in range(1, 12):
        rec.run_until(day * MINUTES_PER_DAY)  # expires at the start of each day
        now = day * MINUTES_PER_DAY
        rec.store.expire(now)
        oldest = max(0, day - store_days)
        held = rec.brute(0, 10**9, min_day=oldest)
        assert rows_of(rec.store.query(0, 10**9)) == held
        assert rec.store.horizon_start == oldest * MINUTES_PER_DAY
        assert rec.store.nbytes == BYTES_PER_SIGHTING * len(held)
        # queries inside the horizon still match the full brute force
        a = oldest * MINUTES_PER_DAY + 100
        assert rows_of(rec.store.query(a, now)) == rec.brute(a, now, min_day=oldest)
    assert rec.store.total == len(rec.rows)


def test_nbytes_stays_bounded_however_long_the_run():
    store_days, per_day = 2, 500
    store = FootageStore(lambda: np.zeros((10, 2)), store_days)
    sizes = []
    for day in range(40):
        now = day * MINUTES_PER_DAY
        store.expire(now)
        sizes.append(store.nbytes)
        minutes = np.sort(np.random.default_rng(day).integers(0, MINUTES_PER_DAY, per_day)) + now
        for t in np.unique(minutes):
            k = int((minutes == t).sum())
            store.add(np.zeros(k, int), np.arange(k), np.full(k, t), np.full(k, t + 2))
    # after the first days it holds exactly store_days days of sightings at each expiry
    assert sizes[:3] == [0, per_day * BYTES_PER_SIGHTING, 2 * per_day * BYTES_PER_SIGHTING]
    assert set(sizes[store_days:]) == {store_days * per_day * BYTES_PER_SIGHTING}
    assert store.nbytes == (store_days + 1) * per_day * BYTES_PER_SIGHTING
    assert store.peak_nbytes == (store_days + 1) * per_day * BYTES_PER_SIGHTING
    assert store.total == 40 * per_day


def test_the_peak_counts_every_sighting_held_at_once():
    """The peak is of what is held at any moment, not only at the day's start or a query."""
    store = FootageStore(lambda: np.zeros((10, 2)), 2)
    store.add(np.zeros(3, int), np.arange(3), np.full(3, 5), np.full(3, 9))
    assert store.peak_nbytes == store.nbytes == 3 * BYTES_PER_SIGHTING
    store.add(np.zeros(2, int), np.arange(2), np.full(2, 6), np.full(2, 7))
    assert store.peak_nbytes == 5 * BYTES_PER_SIGHTING


def test_horizon_start_of_an_empty_store_is_zero():
    store = FootageStore(lambda: np.zeros((0, 2)), 5)
    assert store.horizon_start == 0
    assert store.nbytes == 0
    store.add(np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), np.zeros(0, int))
    assert store.nbytes == 0 and store.total == 0
    assert len(store.query(0, 10)) == 0


# --------------------------------------------------------------------------- Sightings


def test_sightings_people_groups_and_minutes():
    rng = np.random.default_rng(8)
    n_people, n_groups = 300, 3
    person_group = rng.integers(0, n_groups, n_people)
    for _ in range(20):
        n = int(rng.integers(0, 400))
        t_in = rng.integers(0, 5000, n)
        s = Sightings(
            rng.integers(0, 50, n),
            rng.integers(0, n_people, n),
            t_in,
            t_in + rng.integers(0, 30, n),
        )
        people = set(s.person.tolist())
        assert s.people().tolist() == sorted(people)
        by_group = [sum(1 for p in people if person_group[p] == g) for g in range(n_groups)]
        assert s.people_by_group(person_group, n_groups).tolist() == by_group
        assert s.minutes() == sum(b - a + 1 for a, b in zip(s.t_in, s.t_out, strict=True))
        assert len(s) == n


def test_people_by_group_counts_groups_nobody_is_in():
    s = Sightings(np.array([0, 1]), np.array([4, 4]), np.array([0, 0]), np.array([0, 3]))
    assert s.people_by_group(np.array([0, 0, 0, 0, 2]), 4).tolist() == [0, 0, 1, 0]
    assert s.minutes() == 1 + 4


# --------------------------------------------------------------------------- areas


@pytest.mark.parametrize("r", [0.0, 1.0, 25.0, 1234.5])
def test_circle_area(r):
    assert Circle(3.0, -4.0, r).area_m2 == pytest.approx(math.pi * r * r, rel=1e-12)


def test_polygon_areas():
    rect = ((10.0, 20.0), (110.0, 20.0), (110.0, 70.0), (10.0, 70.0))
    assert Polygon(rect).area_m2 == pytest.approx(100 * 50)
    assert Polygon(rect[::-1]).area_m2 == pytest.approx(100 * 50)
    tri = ((0.0, 0.0), (40.0, 5.0), (12.0, 30.0))
    assert Polygon(tri).area_m2 == pytest.approx(abs(40 * 30 - 5 * 12) / 2)
    # an L shape: a 30 x 30 square missing a 20 x 20 corner
    ell = ((0.0, 0.0), (30.0, 0.0), (30.0, 10.0), (10.0, 10.0), (10.0, 30.0), (0.0, 30.0))
    assert Polygon(ell).area_m2 == pytest.approx(900 - 400)
    for n in (3, 5, 8, 100):
        R = 50.0
        pts = tuple(
            (500 + R * math.cos(2 * math.pi * k / n), -200 + R * math.sin(2 * math.pi * k / n))
            for k in range(n)
        )
        assert Polygon(pts).area_m2 == pytest.approx(0.5 * n * R * R * math.sin(2 * math.pi / n))


def test_polygon_contains_non_convex_shapes_in_either_orientation():
    ell = ((0.0, 0.0), (30.0, 0.0), (30.0, 10.0), (10.0, 10.0), (10.0, 30.0), (0.0, 30.0))
    pts = np.random.default_rng(9).uniform(-5, 35, (2000, 2))
    expected = [inside_polygon(x, y, ell) for x, y in pts.tolist()]
    assert Polygon(ell).contains(pts).tolist() == expected
    assert Polygon(ell[::-1]).contains(pts).tolist() == expected
    assert 0.2 < np.mean(expected) < 0.5
