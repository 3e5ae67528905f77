"""The street world checked against independent computations: networkx, plain-Python geometry,
closed-form counts and an independently written segregation index."""

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.scenario.scenario import Scenario, ScenarioError
from sim.world.world import (
    EARTH_RADIUS_M,
    assign_groups,
    build_world,
    generate_grid,
    load_graphml,
    network_from_graph,
    place_homes,
    save_graphml,
)

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "small_streets.graphml"
# How tests/data/small_streets.graphml was made (see test_fixture_can_be_regenerated).
FIXTURE_ARGS = (4, 3, 110.0, 80.0, 0.15, 0.1)
FIXTURE_SEED = 7
FIXTURE_ORIGIN = (-118.25, 34.05)


def lattice_edge_count(bx: int, by: int) -> int:
    return bx * (by + 1) + (bx + 1) * by


def segment_distance(p, a, b) -> float:
    """Distance from point p to segment ab (plain Python)."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)
    t = min(1.0, max(0.0, t))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def haversine(lon1, lat1, lon2, lat2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def fixture_graph() -> nx.Graph:
    return generate_grid(*FIXTURE_ARGS, np.random.default_rng(FIXTURE_SEED))


# --------------------------------------------------------------------------- generate_grid

GRID_CASES = [
    # blocks_x, blocks_y, block_length, block_width, irregularity, removal, seed
    (10, 6, 120.0, 90.0, 0.15, 0.1, 1),
    (4, 3, 110.0, 80.0, 0.15, 0.1, 7),
    (7, 9, 60.0, 150.0, 0.3, 0.25, 3),
    (1, 1, 100.0, 100.0, 0.0, 0.0, 4),
    (12, 2, 200.0, 40.0, 0.4, 0.05, 5),
    (5, 5, 100.0, 100.0, 0.2, 0.0, 6),
]


@pytest.mark.parametrize(("bx", "by", "bl", "bw", "irr", "removal", "seed"), GRID_CASES)
def test_generate_grid_is_a_connected_lattice_minus_removed_streets(
    bx, by, bl, bw, irr, removal, seed
):
    g = generate_grid(bx, by, bl, bw, irr, removal, np.random.default_rng(seed))
    assert isinstance(g, nx.Graph) and not g.is_directed() and not g.is_multigraph()
    assert nx.is_connected(g)
    assert g.number_of_nodes() == (bx + 1) * (by + 1)
    full = lattice_edge_count(bx, by)
    assert g.number_of_edges() == full - round(removal * full)
    # every street joins lattice neighbours: node k is lattice point divmod(k, by + 1)
    for a, b in g.edges():
        (ia, ja), (ib, jb) = divmod(a, by + 1), divmod(b, by + 1)
        assert abs(ia - ib) + abs(ja - jb) == 1
    # and the jitter is bounded by irregularity * shorter block side
    jitter = irr * min(bl, bw)
    for n, d in g.nodes(data=True):
        i, j = divmod(n, by + 1)
        assert abs(d["x"] - i * bl) <= jitter + 1e-9
        assert abs(d["y"] - j * bw) <= jitter + 1e-9


@pytest.mark.parametrize("seed", range(25))
def test_heavy_street_removal_never_disconnects(seed):
    """Removal is capped by the spanning tree: at most E - (N - 1) streets go."""
    bx, by = 6, 4
    g = generate_grid(bx, by, 100.0, 80.0, 0.2, 0.6, np.random.default_rng(seed))
    n = (bx + 1) * (by + 1)
    full = lattice_edge_count(bx, by)
    assert nx.is_connected(g)
    assert g.number_of_edges() == max(full - round(0.6 * full), n - 1)


def test_generate_grid_edge_length_is_euclidean_distance():
    g = generate_grid(8, 5, 120.0, 90.0, 0.3, 0.2, np.random.default_rng(11))
    for a, b, d in g.edges(data=True):
        xa, ya = g.nodes[a]["x"], g.nodes[a]["y"]
        xb, yb = g.nodes[b]["x"], g.nodes[b]["y"]
        assert d["length"] == pytest.approx(math.hypot(xa - xb, ya - yb), rel=1e-12)


def test_irregularity_zero_is_a_perfect_lattice_and_positive_is_not():
    bx, by, bl, bw = 6, 4, 120.0, 90.0
    g = generate_grid(bx, by, bl, bw, 0.0, 0.2, np.random.default_rng(2))
    for n, d in g.nodes(data=True):
        i, j = divmod(n, by + 1)
        assert (d["x"], d["y"]) == (i * bl, j * bw)
    for a, b, d in g.edges(data=True):
        expected = bl if abs(a - b) == by + 1 else bw
        assert d["length"] == pytest.approx(expected, abs=1e-9)

    g = generate_grid(bx, by, bl, bw, 0.1, 0.2, np.random.default_rng(2))
    lengths = np.array([d["length"] for _, _, d in g.edges(data=True)])
    off_lattice = np.minimum(abs(lengths - bl), abs(lengths - bw)) > 1e-6
    assert off_lattice.mean() > 0.9


def test_generate_grid_same_seed_same_graph_other_seed_different():
    def edges(seed):
        g = generate_grid(6, 4, 100.0, 80.0, 0.2, 0.2, np.random.default_rng(seed))
        return sorted((a, b, round(d["length"], 9)) for a, b, d in g.edges(data=True))

    assert edges(5) == edges(5)
    assert edges(5) != edges(6)


# --------------------------------------------------------------------------- network_from_graph


def relabelled_grid(seed: int) -> nx.Graph:
    """A generated grid with scattered, non-contiguous labels inserted in random order."""
    rng = np.random.default_rng(seed)
    g = generate_grid(7, 5, 100.0, 70.0, 0.2, 0.15, rng)
    labels = rng.permutation(g.number_of_nodes()) * 7 + 3
    mapping = {n: int(labels[n]) for n in g.nodes}
    out = nx.Graph()
    for n in rng.permutation(list(g.nodes)):
        out.add_node(mapping[int(n)], **g.nodes[int(n)])
    for k in rng.permutation(g.number_of_edges()):
        a, b = list(g.edges())[k]
        out.add_edge(mapping[b], mapping[a], **g.edges[a, b])
    return out


def test_network_from_graph_arrays_agree_with_graph():
    raw = relabelled_grid(3)
    g, net = network_from_graph(raw)
    assert net.n_nodes == raw.number_of_nodes() == g.number_of_nodes()
    assert net.n_edges == raw.number_of_edges() == g.number_of_edges()
    # nodes are the raw labels in sorted order
    labels = sorted(raw.nodes)
    assert sorted(g.nodes) == list(range(net.n_nodes))
    for k, lab in enumerate(labels):
        assert tuple(net.node_xy[k]) == (raw.nodes[lab]["x"], raw.nodes[lab]["y"])
        assert (g.nodes[k]["x"], g.nodes[k]["y"]) == (raw.nodes[lab]["x"], raw.nodes[lab]["y"])
    # every array edge is a raw edge with its length, and the graph knows its id
    assert np.all(net.edge_u < net.edge_v)
    keys = list(zip(net.edge_u.tolist(), net.edge_v.tolist(), strict=True))
    assert keys == sorted(keys)
    for e, (u, v) in enumerate(keys):
        assert raw.has_edge(labels[u], labels[v])
        assert net.edge_length[e] == raw.edges[labels[u], labels[v]]["length"]
        assert g.edges[u, v]["id"] == e
        assert g.edges[u, v]["length"] == net.edge_length[e]
    total = sum(d["length"] for _, _, d in raw.edges(data=True))
    assert net.total_length == pytest.approx(total, rel=1e-12)
    # adjacency holds each length both ways
    adj = net.adjacency().toarray()
    assert np.array_equal(adj, adj.T)
    assert adj[net.edge_u, net.edge_v] == pytest.approx(net.edge_length)


def test_edge_ids_finds_the_edge_of_random_node_pairs_in_either_order():
    g, net = network_from_graph(relabelled_grid(4))
    rng = np.random.default_rng(0)
    pairs = np.array(list(g.edges()))
    pick = pairs[rng.integers(0, len(pairs), 500)]
    flip = rng.random(500) < 0.5
    a = np.where(flip, pick[:, 1], pick[:, 0])
    b = np.where(flip, pick[:, 0], pick[:, 1])
    ids = net.edge_ids(a, b)
    for k in range(500):
        assert {int(net.edge_u[ids[k]]), int(net.edge_v[ids[k]])} == {int(a[k]), int(b[k])}
        assert ids[k] == g.edges[int(a[k]), int(b[k])]["id"]


def test_network_from_graph_keeps_only_the_largest_component():
    big = generate_grid(5, 4, 100.0, 80.0, 0.2, 0.1, np.random.default_rng(1))
    small = generate_grid(2, 2, 100.0, 80.0, 0.2, 0.0, np.random.default_rng(2))
    g = nx.union(small, big, rename=("s", "b"))
    g.add_node("lonely", x=5000.0, y=5000.0)
    kept, net = network_from_graph(g)
    assert net.n_nodes == big.number_of_nodes()
    assert net.n_edges == big.number_of_edges()
    assert net.total_length == pytest.approx(
        sum(d["length"] for _, _, d in big.edges(data=True)), rel=1e-12
    )
    big_xy = {(d["x"], d["y"]) for _, d in big.nodes(data=True)}
    assert {tuple(p) for p in net.node_xy.tolist()} == big_xy
    assert nx.is_connected(kept)


def test_network_from_empty_graph_raises():
    with pytest.raises(ScenarioError):
        network_from_graph(nx.Graph())


# --------------------------------------------------------------------------- GraphML


def test_fixture_looks_like_an_osmnx_file():
    text = FIXTURE.read_text(encoding="utf-8")
    assert 'edgedefault="directed"' in text
    assert text.count("<edge ") == 2 * 28  # both directions of every street, with keys
    assert text.count('id="0">') >= 2 * 28
    raw = nx.read_graphml(FIXTURE, force_multigraph=True)
    assert isinstance(raw, nx.MultiDiGraph)
    assert raw.graph["crs"] == "epsg:4326"
    assert raw.number_of_nodes() == 20
    assert raw.number_of_edges() == 2 * 28
    for _, d in raw.nodes(data=True):
        assert isinstance(d["x"], str) and isinstance(d["y"], str)
        assert abs(float(d["x"]) - FIXTURE_ORIGIN[0]) < 0.01
        assert abs(float(d["y"]) - FIXTURE_ORIGIN[1]) < 0.01
    for _, _, d in raw.edges(data=True):
        assert isinstance(d["length"], str) and float(d["length"]) > 0


def test_load_graphml_converts_degrees_to_metres():
    raw = nx.read_graphml(FIXTURE, force_multigraph=True)
    g = load_graphml(FIXTURE)
    assert g.number_of_nodes() == 20
    assert g.number_of_edges() == 28
    names = list(raw.nodes)
    xy = {k: (g.nodes[k]["x"], g.nodes[k]["y"]) for k in g.nodes}
    for a, b, d in g.edges(data=True):
        straight = math.dist(xy[a], xy[b])
        assert d["length"] == pytest.approx(straight, rel=0.01)
        # the file's length in metres is kept
        assert d["length"] == pytest.approx(float(raw[names[a]][names[b]][0]["length"]), abs=1e-3)
    # metres between any two nodes match great-circle distances between their lon/lat
    lonlat = [(float(raw.nodes[n]["x"]), float(raw.nodes[n]["y"])) for n in names]
    for a in range(0, 20, 3):
        for b in range(a + 1, 20, 2):
            gc = haversine(*lonlat[a], *lonlat[b])
            assert math.dist(xy[a], xy[b]) == pytest.approx(gc, rel=1e-3)
    # the area spans about 4 x 110 m by 3 x 80 m, centred on the origin
    x = np.array([p[0] for p in xy.values()])
    y = np.array([p[1] for p in xy.values()])
    assert 400 < np.ptp(x) < 480 and 200 < np.ptp(y) < 280
    assert abs(x.mean()) < 1e-6 and abs(y.mean()) < 1e-6


def test_fixture_can_be_regenerated(tmp_path):
    path = tmp_path / "again.graphml"
    save_graphml(fixture_graph(), path, lonlat_origin=FIXTURE_ORIGIN)
    old, new = load_graphml(FIXTURE), load_graphml(path)
    assert new.number_of_nodes() == old.number_of_nodes() == 20
    assert new.number_of_edges() == old.number_of_edges() == 28
    assert set(new.edges()) == set(old.edges())
    for a, b, d in new.edges(data=True):
        assert d["length"] == pytest.approx(old.edges[a, b]["length"], abs=1e-3)


def test_projected_graphml_gives_the_same_lengths(tmp_path):
    original = fixture_graph()
    path = tmp_path / "metres.graphml"
    save_graphml(original, path)
    raw = nx.read_graphml(path)
    assert raw.graph["crs"] != "epsg:4326"
    metres = load_graphml(path)
    degrees = load_graphml(FIXTURE)
    assert metres.number_of_edges() == degrees.number_of_edges() == original.number_of_edges()
    for a, b, d in metres.edges(data=True):
        assert d["length"] == pytest.approx(original.edges[a, b]["length"], abs=1e-3)
        assert d["length"] == pytest.approx(degrees.edges[a, b]["length"], abs=1e-3)
    # projected coordinates are taken as they are
    for n, d in metres.nodes(data=True):
        assert d["x"] == pytest.approx(original.nodes[n]["x"], abs=1e-9)
        assert d["y"] == pytest.approx(original.nodes[n]["y"], abs=1e-9)


def test_load_graphml_merges_directions_and_parallel_streets(tmp_path):
    g = nx.MultiDiGraph(crs="local metres")
    for n, (x, y) in enumerate([(0, 0), (100, 0), (100, 100)]):
        g.add_node(str(n), x=repr(float(x)), y=repr(float(y)))
    g.add_edge("0", "1", length="130.0")  # a curved street
    g.add_edge("0", "1", length="120.0")  # a shorter one between the same corners
    g.add_edge("1", "0", length="125.0")  # and one the other way, read last
    g.add_edge("1", "2", length="100.0")
    g.add_edge("2", "1", length="100.0")
    g.add_edge("2", "2", length="15.0")  # a loop
    path = tmp_path / "multi.graphml"
    nx.write_graphml(g, path)
    out = load_graphml(path)
    assert not out.is_directed() and not out.is_multigraph()
    assert sorted(tuple(sorted(e)) for e in out.edges()) == [(0, 1), (1, 2)]
    assert out.edges[0, 1]["length"] == 120.0
    assert out.edges[1, 2]["length"] == 100.0


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(content)
    return p


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda t: t / "missing.graphml", id="missing"),
        pytest.param(lambda t: _write(t, "notes.txt", b"hello\nworld\n"), id="text"),
        pytest.param(lambda t: _write(t, "blob.graphml", bytes(range(256)) * 3), id="binary"),
        pytest.param(lambda t: _write(t, "empty.graphml", b""), id="empty"),
        pytest.param(lambda t: _write(t, "page.xml", b"<html><body/></html>"), id="other-xml"),
        pytest.param(
            lambda t: _write(
                t,
                "nocoords.graphml",
                b'<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
                b'<graph edgedefault="undirected"><node id="a"/><node id="b"/>'
                b'<edge source="a" target="b"/></graph></graphml>',
            ),
            id="no-coordinates",
        ),
    ],
)
def test_bad_graphml_raises_a_one_line_scenario_error(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_graphml(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("world.graphml")
    assert str(path) in message


def test_build_world_from_graphml_fixture():
    params = Scenario().replace({"world.kind": "graphml", "world.graphml": str(FIXTURE)})
    world = build_world(params, np.random.default_rng(0))
    assert world.net.n_nodes == 20 and world.net.n_edges == 28
    raw = nx.read_graphml(FIXTURE)
    file_total = sum(float(d["length"]) for _, _, d in raw.edges(data=True)) / 2
    assert world.net.total_length == pytest.approx(file_total, abs=28 * 1e-3)
    assert world.homes.count > 0
    corner, spacing = params["world.corner_setback_m"], params["world.home_spacing_m"]
    expected = sum(
        2 * max(0, math.floor((L - 2 * corner) / spacing)) for L in world.net.edge_length.tolist()
    )
    assert world.homes.count == expected
    assert np.all((world.amenity_nodes >= 0) & (world.amenity_nodes < 20))
    assert np.all((world.gateway_nodes >= 0) & (world.gateway_nodes < 20))


def test_build_world_resolves_a_relative_graphml_path_against_the_scenario_folder():
    params = Scenario(base_dir=DATA).replace(
        {"world.kind": "graphml", "world.graphml": "small_streets.graphml"}
    )
    world = build_world(params, np.random.default_rng(0))
    assert world.net.n_edges == 28


def test_build_world_graphml_without_a_file_raises():
    params = Scenario().replace({"world.kind": "graphml"})
    with pytest.raises(ScenarioError):
        build_world(params, np.random.default_rng(0))


# --------------------------------------------------------------------------- homes


@pytest.fixture(scope="module")
def irregular_net():
    g = generate_grid(8, 5, 120.0, 90.0, 0.2, 0.15, np.random.default_rng(21))
    return network_from_graph(g)[1]


@pytest.mark.parametrize(
    ("spacing", "corner", "setback"), [(18.0, 10.0, 8.0), (15.0, 0.0, 5.0), (25.0, 30.0, 12.0)]
)
def test_place_homes_spacing_corners_sides_and_setback(irregular_net, spacing, corner, setback):
    net = irregular_net
    homes = place_homes(net, spacing, corner, setback)
    xy = net.node_xy.tolist()
    expected_total = 0
    for e in range(net.n_edges):
        L = float(net.edge_length[e])
        per_side = max(0, math.floor((L - 2 * corner) / spacing))
        expected_total += 2 * per_side
        here = homes.edge == e
        for side in (1, -1):
            off = np.sort(homes.offset[here & (homes.side == side)])
            assert len(off) == per_side
            if per_side == 0:
                continue
            assert off[0] >= corner - 1e-9 and off[-1] <= L - corner + 1e-9
            assert np.allclose(np.diff(off), spacing, rtol=0, atol=1e-9)
            # centred between the corners
            assert off[0] - corner == pytest.approx(L - corner - off[-1], abs=1e-9)
    assert homes.count == expected_total
    assert set(np.unique(homes.side).tolist()) == {-1, 1}
    assert np.count_nonzero(homes.side == 1) == np.count_nonzero(homes.side == -1)
    # the front of each home is `setback` from its street, on its side, level with its offset
    for h in range(homes.count):
        e = int(homes.edge[h])
        a, b = xy[net.edge_u[e]], xy[net.edge_v[e]]
        p = homes.xy[h].tolist()
        assert segment_distance(p, a, b) == pytest.approx(setback, abs=1e-9)
        cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
        assert np.sign(cross) == homes.side[h]  # +1: left of u -> v
        along = ((p[0] - a[0]) * (b[0] - a[0]) + (p[1] - a[1]) * (b[1] - a[1])) / math.dist(a, b)
        assert along == pytest.approx(homes.offset[h], abs=1e-9)


def test_place_homes_none_when_streets_are_too_short(irregular_net):
    homes = place_homes(irregular_net, 150.0, 10.0, 8.0)
    assert homes.count == 0


# --------------------------------------------------------------------------- groups


def dissimilarity(x: np.ndarray, group: np.ndarray, bands: int = 10) -> float:
    """Duncan's dissimilarity index of groups 0 and 1 over equal-width x bands."""
    edges = np.linspace(x.min(), x.max(), bands + 1)
    band = np.clip(np.digitize(x, edges) - 1, 0, bands - 1)
    a = np.bincount(band[group == 0], minlength=bands) / np.count_nonzero(group == 0)
    b = np.bincount(band[group == 1], minlength=bands) / np.count_nonzero(group == 1)
    return float(np.abs(a - b).sum() / 2)


def same_group_neighbours(xy: np.ndarray, group: np.ndarray, k: int = 6) -> float:
    """Mean share of each home's k nearest homes that are in its group (brute force)."""
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    near = np.argsort(d, axis=1)[:, :k]
    return float((group[near] == group[:, None]).mean())


@pytest.mark.parametrize("shares", [[0.7, 0.3], [0.5, 0.3, 0.2], [0.1, 0.2, 0.3, 0.4]])
def test_assign_groups_shares_without_segregation(shares):
    n = 20_000
    x = np.random.default_rng(1).uniform(0, 1000, n)
    group = assign_groups(x, shares, 0.0, np.random.default_rng(2))
    assert group.dtype == np.int8 and len(group) == n
    counts = np.bincount(group, minlength=len(shares))
    assert len(counts) == len(shares)
    for c, p in zip(counts, shares, strict=True):
        assert abs(c - n * p) <= 4 * math.sqrt(n * p * (1 - p))
    # not sorted by x: each group spans the whole area
    for g in range(len(shares)):
        assert x[group == g].min() < 50 and x[group == g].max() > 950


@pytest.mark.parametrize("shares", [[0.7, 0.3], [0.5, 0.3, 0.2], [0.1, 0.2, 0.3, 0.4]])
@pytest.mark.parametrize("n", [1000, 1027])
def test_full_segregation_gives_exact_shares_in_west_to_east_bands(shares, n):
    x = np.random.default_rng(n).uniform(-500, 500, n)
    group = assign_groups(x, shares, 1.0, np.random.default_rng(3))
    counts = np.bincount(group, minlength=len(shares))
    assert np.all(np.abs(counts - n * np.array(shares)) <= 1)
    assert counts.sum() == n
    # bands in the order given: every home of group g is west of every home of group g + 1
    for g in range(len(shares) - 1):
        assert x[group == g].max() < x[group == g + 1].min()


def test_segregation_index_increases_with_segregation():
    n = 5000
    x = np.random.default_rng(5).uniform(0, 2000, n)
    index = [
        dissimilarity(x, assign_groups(x, [0.7, 0.3], s, np.random.default_rng(6)))
        for s in (0.0, 0.5, 1.0)
    ]
    assert index[0] < 0.1
    assert 0.3 < index[1] < 0.7
    assert index[2] > 0.85
    assert index[0] < index[1] < index[2]


def test_same_group_neighbours_increase_with_world_segregation():
    shares = []
    for s in (0.0, 0.5, 1.0):
        w = build_world(Scenario().replace({"world.segregation": s}), np.random.default_rng(8))
        shares.append(same_group_neighbours(w.homes.xy, w.homes.group))
    # random placement: about 0.7^2 + 0.3^2 = 0.58 of neighbours share one's group
    assert shares[0] == pytest.approx(0.58, abs=0.05)
    assert shares[0] < shares[1] < shares[2]
    assert shares[2] > 0.9


# --------------------------------------------------------------------------- build_world


def lattice_perimeter(bx: int, by: int) -> set[int]:
    return {
        i * (by + 1) + j
        for i in range(bx + 1)
        for j in range(by + 1)
        if i in (0, bx) or j in (0, by)
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_build_world_default_scenario(seed):
    params = Scenario()
    world = build_world(params, np.random.default_rng(seed))
    net, homes = world.net, world.homes
    assert 900 <= homes.count <= 1200
    assert net.n_nodes == 11 * 7  # a connected grid keeps every intersection
    assert nx.is_connected(world.graph)
    assert world.group_names == ["majority", "minority"]
    assert set(np.unique(homes.group).tolist()) == {0, 1}
    amen = world.amenity_nodes
    assert len(amen) == max(1, round(homes.count * params["world.amenities_per_100_homes"] / 100))
    assert len(np.unique(amen)) == len(amen)
    assert np.all((amen >= 0) & (amen < net.n_nodes))
    gates = world.gateway_nodes
    assert len(gates) == params["world.gateways"] == len(np.unique(gates))
    assert np.all((gates >= 0) & (gates < net.n_nodes))


def test_gateways_are_on_the_edge_of_the_area():
    outside = []
    for seed in (1, 2, 3, 4, 5):
        world = build_world(Scenario(), np.random.default_rng(seed))
        outside += [g for g in world.gateway_nodes.tolist() if g not in lattice_perimeter(10, 6)]
    assert outside == []


def test_build_world_is_reproducible():
    a = build_world(Scenario(), np.random.default_rng(4))
    b = build_world(Scenario(), np.random.default_rng(4))
    assert np.array_equal(a.homes.xy, b.homes.xy)
    assert np.array_equal(a.homes.group, b.homes.group)
    assert np.array_equal(a.amenity_nodes, b.amenity_nodes)
    assert np.array_equal(a.gateway_nodes, b.gateway_nodes)
