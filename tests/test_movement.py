"""The pass table: built in chunks and updated in place, it equals one built from scratch."""

import numpy as np
import pytest

from sim import movement
from sim.model import NeighbourhoodModel
from sim.movement import PassTable, Viewers
from sim.scenario import Scenario


@pytest.fixture(scope="module")
def model():
    return NeighbourhoodModel(
        Scenario().replace(
            {"world.blocks_x": 5, "world.blocks_y": 4, "population.pedestrians": 300}
        ),
        rng=3,
    )


def _rows(table: PassTable) -> list[tuple[float, int, float]]:
    """The passes of windows and of cameras in use."""
    cam = table.viewer >= 0
    live = ~cam
    live[cam] = table.camera_live[table.viewer[cam]]
    return sorted(
        zip(
            table.key[live].tolist(),
            table.viewer[live].tolist(),
            table.s_out[live].tolist(),
            strict=True,
        )
    )


def _viewers(model) -> Viewers:
    cams, homes = model.cameras, model.world.homes
    windows = Viewers.windows(homes, cams, 10.0, cams.home_camera < 0)
    return Viewers.concat(Viewers.cameras(cams), windows)


def test_chunked_build_equals_one_chunk(model, monkeypatch):
    whole = PassTable(model.routes, _viewers(model), 0)
    monkeypatch.setattr(movement, "PAIRS_PER_CHUNK", 97)  # many chunks, cut between routes
    chunked = PassTable(model.routes, _viewers(model), 0)
    assert len(whole) > 1000
    np.testing.assert_array_equal(chunked.key, whole.key)
    np.testing.assert_array_equal(chunked.viewer, whole.viewer)
    np.testing.assert_array_equal(chunked.s_out, whole.s_out)


def test_sync_after_installs_and_retirements_equals_a_fresh_build(model):
    cams = model.cameras
    table = PassTable(model.routes, Viewers.cameras(cams), cams.version)
    rng = np.random.default_rng(0)
    for _ in range(3):
        free = np.flatnonzero(cams.home_camera < 0)
        new = rng.choice(free, size=25, replace=False)
        cams.install(new, cams.draw_kinds(len(new), rng))
        active = np.flatnonzero(cams.active)
        cams.retire(rng.choice(active, size=10, replace=False))
        table.sync(cams)
        fresh = PassTable(model.routes, Viewers.cameras(cams), cams.version)
        assert np.all(np.diff(table.key) >= 0)  # still sorted: one searchsorted finds passes
        assert _rows(table) == _rows(fresh)
        assert table.camera_version == cams.version
        in_use = set(np.flatnonzero(cams.sees_street()).tolist())
        assert set(np.flatnonzero(table.camera_live).tolist()) == in_use
        np.testing.assert_array_equal(  # each route's first pass, kept up to date
            table.first(np.arange(model.routes.count)),
            fresh.first(np.arange(model.routes.count))
            + np.searchsorted(  # fresh has no dead passes: count those before each route
                np.sort(
                    table.key[(table.viewer >= 0) & ~table.camera_live[np.maximum(table.viewer, 0)]]
                ),
                np.arange(model.routes.count) * table.scale,
            ),
        )


def test_advance_equals_a_binary_search(model):
    """From any pointer at or before the answer, short or long strides alike."""
    table = PassTable(model.routes, _viewers(model), 0)
    rng = np.random.default_rng(1)
    route = rng.integers(0, model.routes.count, 5000)
    s = rng.random(5000) * model.routes.length[route] * 1.1
    answer = table.reached(route, s)
    start = table.first(route)
    pointer = start + (rng.random(5000) * (answer - start + 1)).astype(np.int64)
    assert np.all(pointer <= answer) and np.any(answer - pointer > 4)
    np.testing.assert_array_equal(table.advance(pointer, route, s), answer)
    empty = PassTable(model.routes, Viewers.cameras(model.cameras, np.zeros(0, np.int64)), 0)
    np.testing.assert_array_equal(empty.advance(np.zeros(3, np.int64), route[:3], s[:3]), 0)
