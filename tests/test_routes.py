"""Walking routes checked against networkx shortest paths and a plain-Python walk along pieces."""

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from sim.scenario.scenario import Scenario
from sim.world.routes import Router, RouteTable, concat, door_legs, reversed_routes
from sim.world.world import build_world

LIMIT = 1600.0
K = 3


@pytest.fixture(scope="module")
def world():
    return build_world(Scenario(), np.random.default_rng(12))


@pytest.fixture(scope="module")
def node_dist(world):
    """networkx distances from every node: node_dist[a][n]."""
    return dict(nx.all_pairs_dijkstra_path_length(world.graph, weight="length"))


@pytest.fixture(scope="module")
def sample(world):
    """Routes from a sample of homes to each of their K nearest amenities."""
    router = Router(world.net, world.homes, LIMIT)
    near, dist = router.nearest_roots(world.amenity_nodes, K)
    homes = np.random.default_rng(0).choice(world.homes.count, 80, replace=False)
    far_home = np.repeat(homes, K)
    root_idx = near[homes].ravel()
    assert np.all(root_idx >= 0)
    table = router.routes_to_roots(
        world.amenity_nodes, root_idx, far_home, np.full(len(root_idx), -1)
    )
    return router, near, dist, far_home, root_idx, table


def door_distance(world, node_dist, h: int, node: int) -> float:
    """Shortest walk from home h's front door to a node, computed with networkx."""
    net, homes = world.net, world.homes
    e = int(homes.edge[h])
    u, v = int(net.edge_u[e]), int(net.edge_v[e])
    L = float(world.graph.edges[u, v]["length"])
    o = float(homes.offset[h])
    return min(o + node_dist[node][u], (L - o) + node_dist[node][v])


def end_node(net, edge: int, to: float) -> int:
    """The node a piece ends at; pieces that end at a node end exactly at 0 or L."""
    if to == 0.0:
        return int(net.edge_u[edge])
    assert to == net.edge_length[edge]
    return int(net.edge_v[edge])


def start_node(net, edge: int, frm: float) -> int:
    return end_node(net, edge, frm)


def walk(net, pieces, s: float) -> tuple[float, float]:
    """Where a walker is after s metres along the pieces (plain Python)."""
    xy = net.node_xy.tolist()
    for e, frm, to in pieces:
        length = abs(to - frm)
        if s <= length:
            at = frm + math.copysign(s, to - frm) if to != frm else frm
            a, b = xy[net.edge_u[e]], xy[net.edge_v[e]]
            f = at / float(net.edge_length[e])
            return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)
        s -= length
    e, _, to = pieces[-1]
    a, b = xy[net.edge_u[e]], xy[net.edge_v[e]]
    f = to / float(net.edge_length[e])
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)


def distance_to_network(net, p) -> float:
    a = net.node_xy[net.edge_u]
    d = net.node_xy[net.edge_v] - a
    t = np.clip(((p - a) * d).sum(axis=1) / (d * d).sum(axis=1), 0, 1)
    return float(np.hypot(*(a + d * t[:, None] - p).T).min())


# --------------------------------------------------------------------------- lengths


def test_nearest_roots_are_the_nearest_amenities_by_networkx(world, node_dist, sample):
    _, near, dist, _, _, _ = sample
    amen = world.amenity_nodes.tolist()
    for h in range(0, world.homes.count, 7):
        d = sorted(door_distance(world, node_dist, h, a) for a in amen)
        d = [x for x in d if x <= LIMIT][:K]
        assert dist[h][: len(d)] == pytest.approx(d, abs=1e-6)
        for j in range(K):
            assert door_distance(world, node_dist, h, amen[near[h, j]]) == pytest.approx(
                dist[h, j], abs=1e-6
            )


def test_route_lengths_are_networkx_shortest_distances(world, node_dist, sample):
    _, _, dist, far_home, root_idx, table = sample
    assert table.count == len(root_idx)
    for r in range(table.count):
        h, a = int(far_home[r]), int(world.amenity_nodes[root_idx[r]])
        expected = door_distance(world, node_dist, h, a)
        assert table.length[r] == pytest.approx(expected, abs=1e-6)
        assert table.length[r] == pytest.approx(dist[h, r % K], abs=1e-6)
        pieces = table.pieces(r)
        assert sum(abs(to - frm) for _, frm, to in pieces) == pytest.approx(
            table.length[r], abs=1e-9
        )


def test_route_pieces_are_contiguous_from_door_to_amenity(world, sample):
    net, homes = world.net, world.homes
    _, _, _, far_home, root_idx, table = sample
    for r in range(table.count):
        h, a = int(far_home[r]), int(world.amenity_nodes[root_idx[r]])
        pieces = table.pieces(r)
        assert len(pieces) >= 1
        e0, frm0, _ = pieces[0]
        assert e0 == homes.edge[h] and frm0 == homes.offset[h]
        for (e, _, to), (e_next, frm_next, _) in itertools.pairwise(pieces):
            assert end_node(net, e, to) == start_node(net, e_next, frm_next)
        e_last, _, to_last = pieces[-1]
        assert end_node(net, e_last, to_last) == a
        edges = [p[0] for p in pieces]
        assert len(set(edges)) == len(edges)
        # after the first, every piece walks a whole street
        for e, frm, to in pieces[1:]:
            assert {frm, to} == {0.0, float(net.edge_length[e])}
        # starts are cumulative lengths
        starts = table.start[table.ptr[r] : table.ptr[r + 1]]
        cum = np.concatenate([[0.0], np.cumsum([abs(t - f) for _, f, t in pieces])[:-1]])
        assert starts == pytest.approx(cum, abs=1e-9)


def test_routes_from_nodes_to_roots_follow_shortest_paths(world, node_dist):
    router = Router(world.net, world.homes, LIMIT)
    roots = world.gateway_nodes
    rng = np.random.default_rng(1)
    nodes = rng.choice(world.net.n_nodes, 60)
    root_idx = router.nearest_root_of_nodes(roots, nodes)
    for n, j in zip(nodes.tolist(), root_idx.tolist(), strict=True):
        best = min(node_dist[n][int(g)] for g in roots)
        assert node_dist[n][int(roots[j])] == pytest.approx(best, abs=1e-6)
    ok = nodes != roots[root_idx]
    table = router.routes_to_roots(roots, root_idx[ok], np.full(ok.sum(), -1), nodes[ok])
    for r, (n, j) in enumerate(zip(nodes[ok].tolist(), root_idx[ok].tolist(), strict=True)):
        assert table.length[r] == pytest.approx(node_dist[n][int(roots[j])], abs=1e-6)
        pieces = table.pieces(r)
        assert start_node(world.net, pieces[0][0], pieces[0][1]) == n
        assert end_node(world.net, pieces[-1][0], pieces[-1][2]) == roots[j]


def test_more_roots_than_one_dijkstra_chunk(world, node_dist):
    """Roots beyond the first chunk of 128 get the right trees."""
    router = Router(world.net, world.homes, 5000.0)
    roots = np.tile(np.arange(world.net.n_nodes, dtype=np.int32), 3)  # 231 roots
    homes = np.arange(0, world.homes.count, 50)
    root_idx = (np.arange(len(homes)) * 11 + 100) % len(roots)
    table = router.routes_to_roots(roots, root_idx, homes, np.full(len(homes), -1))
    for r, (h, j) in enumerate(zip(homes.tolist(), root_idx.tolist(), strict=True)):
        expected = door_distance(world, node_dist, h, int(roots[j]))
        assert table.length[r] == pytest.approx(expected, abs=1e-6)
    near, dist = router.nearest_roots(roots, 4)
    # each node is a root three times: the three copies tie for nearest
    h = 5
    assert dist[h, :3] == pytest.approx([dist[h, 0]] * 3)
    assert len({int(roots[i]) for i in near[h, :3]}) == 1


def test_nearest_roots_stay_within_the_limit(world, node_dist):
    limit = 400.0
    router = Router(world.net, world.homes, limit)
    near, dist = router.nearest_roots(world.amenity_nodes, K)
    assert np.all(dist[near >= 0] <= limit)
    amen = world.amenity_nodes.tolist()
    for h in range(world.homes.count):
        within = sorted(
            d for d in (door_distance(world, node_dist, h, a) for a in amen) if d <= limit
        )[:K]
        found = dist[h][near[h] >= 0]
        assert found.tolist() == pytest.approx(within, abs=1e-6)


def test_nearest_roots_do_not_depend_on_the_chunking(world, monkeypatch):
    """Chunks of roots taken in map order, each updating only the homes it reaches, give the
    same nearest roots as one chunk: ties go to the lower root index either way."""
    from sim.world import routes

    roots = np.tile(world.amenity_nodes, 2)  # every amenity twice: exact ties
    roots = np.concatenate([roots, np.arange(world.net.n_nodes, dtype=roots.dtype)])
    router = Router(world.net, world.homes, 400.0)
    monkeypatch.setattr(routes, "NEAREST_CHUNK", 10_000)
    near_one, dist_one = router.nearest_roots(roots, 60)
    monkeypatch.setattr(routes, "NEAREST_CHUNK", 7)
    near, dist = router.nearest_roots(roots, 60)
    np.testing.assert_array_equal(near, near_one)
    np.testing.assert_array_equal(dist, dist_one)
    assert np.all(near[:, 0] >= 0) and np.any(near < 0)  # fewer than 60 within reach
    tie = (dist[:, 0] == dist[:, 1]) & (near[:, 0] >= 0)
    assert np.any(tie) and np.all(near[tie, 0] < near[tie, 1])


# --------------------------------------------------------------------------- reversed, doors


def test_reversed_routes_walk_the_same_pieces_backwards(sample):
    table = sample[-1]
    back = reversed_routes(table)
    assert back.count == table.count
    assert back.length == pytest.approx(table.length, abs=1e-9)
    assert np.array_equal(back.ptr, table.ptr)
    for r in range(table.count):
        expected = [(e, to, frm) for e, frm, to in reversed(table.pieces(r))]
        assert back.pieces(r) == expected
    again = reversed_routes(back)
    for r in range(table.count):
        assert again.pieces(r) == table.pieces(r)


def test_door_legs_from_the_nearer_street_end(world):
    net, homes = world.net, world.homes
    legs = door_legs(net, homes)
    assert legs.count == homes.count
    for h in range(homes.count):
        e, o = int(homes.edge[h]), float(homes.offset[h])
        L = float(net.edge_length[e])
        assert legs.length[h] == pytest.approx(min(o, L - o), abs=1e-9)
        [(edge, frm, to)] = legs.pieces(h)
        assert edge == e and to == o
        assert frm == (0.0 if o <= L - o else L)


# --------------------------------------------------------------------------- positions


def test_positions_at_route_ends(world, sample):
    net, homes = world.net, world.homes
    _, _, _, far_home, root_idx, table = sample
    routes = np.arange(table.count)
    start = table.positions(routes, np.zeros(table.count), net)
    end = table.positions(routes, table.length.copy(), net)
    xy = net.node_xy.tolist()
    for r in range(table.count):
        h = int(far_home[r])
        e = int(homes.edge[h])
        a, b = xy[net.edge_u[e]], xy[net.edge_v[e]]
        f = homes.offset[h] / math.dist(a, b)
        door = (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)
        assert start[r] == pytest.approx(door, abs=1e-6)
        assert end[r] == pytest.approx(xy[world.amenity_nodes[root_idx[r]]], abs=1e-6)


def test_positions_along_routes_match_a_plain_walk_and_lie_on_streets(world, sample):
    net = world.net
    table = sample[-1]
    rng = np.random.default_rng(3)
    routes = rng.integers(0, table.count, 400)
    s = rng.uniform(0, 1, 400) * table.length[routes]
    # also exactly at piece boundaries
    routes = np.concatenate([routes, np.arange(10)])
    s = np.concatenate([s, table.start[table.ptr[np.arange(10)] + 1]])
    got = table.positions(routes, s, net)
    for k in range(len(routes)):
        expected = walk(net, table.pieces(int(routes[k])), float(s[k]))
        assert got[k] == pytest.approx(expected, abs=1e-6)
        assert distance_to_network(net, got[k]) < 1e-6


def test_positions_of_no_walkers():
    empty = RouteTable(
        np.zeros(1, np.int64), np.zeros(0, np.int32), *(np.zeros(0) for _ in range(4))
    )
    assert empty.positions(np.zeros(0, np.int64), np.zeros(0), None).shape == (0, 2)


def test_positions_on_a_route_that_starts_at_its_root(world):
    net = world.net
    router = Router(net, world.homes, LIMIT)
    roots = world.gateway_nodes[:2]
    # route 0: from a gateway to itself; route 1: from another node to a gateway
    table = router.routes_to_roots(
        roots, np.array([0, 1]), np.array([-1, -1]), np.array([roots[0], 30])
    )
    assert table.length[0] == 0.0
    # a route with no pieces has no street position (the model never walks one); it must not
    # borrow the next route's pieces
    xy = table.positions(np.array([0, 1]), np.array([0.0, 0.0]), net)
    assert np.isnan(xy[0]).all()
    assert xy[1] == pytest.approx(net.node_xy[30], abs=1e-6)


# --------------------------------------------------------------------------- concat


def test_concat_keeps_routes_intact(world, sample):
    table = sample[-1]
    back = reversed_routes(table)
    doors = door_legs(world.net, world.homes)
    empty = RouteTable(
        np.zeros(1, np.int64), np.zeros(0, np.int32), *(np.zeros(0) for _ in range(4))
    )
    parts = [table, empty, back, doors, empty]
    joined, firsts = concat(parts)
    expected_firsts, n = [], 0
    for t in parts:
        expected_firsts.append(n)
        n += t.count
    assert firsts == expected_firsts
    assert joined.count == n
    assert joined.ptr[-1] == len(joined.edge) == sum(len(t.edge) for t in parts)
    for t, first in zip(parts, firsts, strict=True):
        for r in range(t.count):
            assert joined.pieces(first + r) == t.pieces(r)
            assert joined.length[first + r] == t.length[r]
    # positions in the joined table are those in the parts
    rng = np.random.default_rng(4)
    for t, first in zip(parts, firsts, strict=True):
        if t.count == 0:
            continue
        r = rng.integers(0, t.count, 50)
        s = rng.uniform(0, 1, 50) * t.length[r]
        assert joined.positions(r + first, s, world.net) == pytest.approx(
            t.positions(r, s, world.net), abs=1e-9
        )


def test_pieces_on_streets_are_every_piece_on_them_grouped_by_street(sample):
    table = sample[-1]
    streets = np.array([table.edge[5], 10**9, table.edge[0], table.edge[5]])  # unknown, repeat
    piece, i = table.pieces_on(streets)
    assert np.all(np.diff(i) >= 0)  # grouped by street, in order
    for k, e in enumerate(streets):
        np.testing.assert_array_equal(piece[i == k], np.flatnonzero(table.edge == e))
    assert len(piece[i == 0]) > 0 and len(piece[i == 1]) == 0
    np.testing.assert_array_equal(table.ptr[table.route_of(piece)] <= piece, True)
    np.testing.assert_array_equal(table.ptr[table.route_of(piece) + 1] > piece, True)
