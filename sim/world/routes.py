"""Walking routes: shortest paths on the street network, stored as pieces of streets.

A route is a list of *pieces*: a street segment and the stretch of it walked, from one
distance to another (measured from the edge's ``u`` end; ``frm > to`` means walking towards
``u``). A route can start or end at a home's front door, part-way along a street. Routes are
computed once, before the run, for every origin and destination a pedestrian can have; a
walker then only needs a route id and the distance walked so far.

Shortest paths come from scipy's Dijkstra, run from each destination node (*root*) in chunks,
so memory stays bounded at city scale. A route from a home to a root leaves the home towards
whichever end of its street gives the shorter total walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np
from scipy.sparse import csgraph

from sim.world.world import Homes, StreetNetwork

CHUNK = 128  # roots per Dijkstra call
NEAREST_CHUNK = 32  # roots per call when finding each home's nearest (smaller areas, less work)


@dataclass
class RouteTable:
    """Routes in CSR form: route r is pieces ``ptr[r]:ptr[r+1]``."""

    ptr: np.ndarray  # (R+1,) int64
    edge: np.ndarray  # (P,) int32
    frm: np.ndarray  # (P,) float64, metres from edge_u where the piece starts
    to: np.ndarray  # (P,) float64, where it ends
    start: np.ndarray  # (P,) float64, distance along the route where the piece starts
    length: np.ndarray  # (R,) float64

    @property
    def count(self) -> int:
        return len(self.length)

    def pieces(self, r: int) -> list[tuple[int, float, float]]:
        """One route's (edge, from, to) pieces, for inspection and tests."""
        sl = slice(self.ptr[r], self.ptr[r + 1])
        return list(
            zip(self.edge[sl].tolist(), self.frm[sl].tolist(), self.to[sl].tolist(), strict=True)
        )

    @cached_property
    def _by_street(self) -> tuple[np.ndarray, np.ndarray]:
        """Pieces sorted by street (stably), and where each street's pieces begin."""
        return group_by(self.edge, int(self.edge.max(initial=-1)) + 1)

    def pieces_on(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every piece on each of ``edges``: (piece, i) with ``i`` the position in ``edges``,
        grouped by ``i`` in order, pieces in index order (streets no route uses have none)."""
        order, ptr = self._by_street
        edges = np.asarray(edges, np.int64)
        used = edges < len(ptr) - 1
        e = np.where(used, edges, 0)
        k = np.where(used, ptr[e + 1] - ptr[e], 0)
        i = np.repeat(np.arange(len(edges)), k)
        return order[ptr[e[i]] + runs(k)], i

    def route_of(self, piece: np.ndarray) -> np.ndarray:
        """The route each piece belongs to."""
        return np.searchsorted(self.ptr, piece, side="right") - 1

    def piece_at(self, route: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Index of the piece each walker is on, ``s`` metres along its route (-1 for a route
        with no pieces)."""
        lo, hi = self.ptr[route], self.ptr[route + 1] - 1
        idx = lo.copy()
        step = np.maximum(hi - lo, 0)
        while np.any(step > 0):  # binary search for the last piece starting at or before s
            half = (step + 1) // 2
            probe = np.minimum(idx + half, hi)
            ok = (self.start[probe] <= s) & (half > 0)
            idx = np.where(ok, probe, idx)
            step = np.where(ok, step - half, half - 1)
        return np.where(hi >= lo, idx, -1)

    def positions(self, route: np.ndarray, s: np.ndarray, net: StreetNetwork) -> np.ndarray:
        """Map coordinates of walkers ``s`` metres along their routes (for drawing)."""
        if len(route) == 0:
            return np.zeros((0, 2))
        found = self.piece_at(route, s)
        idx = np.maximum(found, 0)
        along = s - self.start[idx]
        sign = np.where(self.to[idx] >= self.frm[idx], 1.0, -1.0)
        offset = np.clip(self.frm[idx] + sign * along, 0, net.edge_length[self.edge[idx]])
        xy = net.points(self.edge[idx], offset)
        xy[found < 0] = np.nan
        return xy


def runs(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., n - 1 for each run of the given lengths, concatenated: the rank of each
    item within its run, for ``np.repeat``-expanded CSR slices."""
    total = int(counts.sum())
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - first


@numba.njit(cache=True)
def group_by(key, n):
    """Indices sorted by ``key`` (0 to n - 1; stably), and where each key's run begins: a
    counting sort, linear in the number of items."""
    ptr = np.zeros(n + 1, np.int64)
    for k in key:
        ptr[k + 1] += 1
    for k in range(n):
        ptr[k + 1] += ptr[k]
    order = np.empty(len(key), np.int32)
    fill = ptr[:-1].copy()
    for i in range(len(key)):
        order[fill[key[i]]] = i
        fill[key[i]] += 1
    return order, ptr


def _assemble(n_routes: int, route, order, edge, frm, to) -> RouteTable:
    """Sort pieces by (route, order) and compute cumulative starts and lengths."""
    perm = np.lexsort((order, route))
    route, edge, frm, to = route[perm], edge[perm], frm[perm], to[perm]
    piece_len = np.abs(to - frm)
    counts = np.bincount(route, minlength=n_routes)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    csum = np.concatenate([[0.0], np.cumsum(piece_len)])
    start = csum[:-1] - csum[ptr[:-1]][route]
    length = csum[ptr[1:]] - csum[ptr[:-1]]
    return RouteTable(ptr, edge.astype(np.int32), frm, to, start, length)


def concat(tables: list[RouteTable]) -> tuple[RouteTable, list[int]]:
    """Join route tables; return the joined table and each table's first route id."""
    firsts, total = [], 0
    for t in tables:
        firsts.append(total)
        total += t.count
    ptr_parts, offset = [np.zeros(1, np.int64)], 0
    for t in tables:
        ptr_parts.append(t.ptr[1:] + offset)
        offset += t.ptr[-1]
    joined = RouteTable(
        np.concatenate(ptr_parts),
        np.concatenate([t.edge for t in tables]),
        np.concatenate([t.frm for t in tables]),
        np.concatenate([t.to for t in tables]),
        np.concatenate([t.start for t in tables]),
        np.concatenate([t.length for t in tables]),
    )
    return joined, firsts


def reversed_routes(t: RouteTable) -> RouteTable:
    """The same routes walked the other way."""
    n = t.count
    route = np.repeat(np.arange(n), np.diff(t.ptr))
    order = -(np.arange(len(t.edge)) - t.ptr[route])
    return _assemble(n, route, order, t.edge, t.to, t.frm)


def door_legs(net: StreetNetwork, homes: Homes) -> RouteTable:
    """From the nearer end of each home's street to its front door (a courier's walk)."""
    edge = homes.edge
    L = net.edge_length[edge]
    frm = np.where(homes.offset <= L - homes.offset, 0.0, L)
    n = homes.count
    return _assemble(n, np.arange(n), np.zeros(n), edge, frm, homes.offset.astype(float))


class Router:
    """Shortest-path routes towards a set of root nodes (destinations or entry points).

    Args:
        net: the street network.
        homes: the homes (routes may start at a front door).
        limit_m: longest route considered; farther places are unreachable.
    """

    def __init__(self, net: StreetNetwork, homes: Homes, limit_m: float) -> None:
        self.net = net
        self.homes = homes
        self.limit = limit_m
        self._graph = net.adjacency()

    def _trees(self, roots: np.ndarray, order: np.ndarray | None = None, chunk: int = 0):
        """Yield (chunk of root indices, distances, predecessors) chunk by chunk, taking the
        roots in ``order`` (default: as given), ``chunk`` at a time (default ``CHUNK``)."""
        order = np.arange(len(roots)) if order is None else order
        chunk = chunk or CHUNK
        for a in range(0, len(roots), chunk):
            idx = order[a : a + chunk]
            dist, pred = csgraph.dijkstra(
                self._graph,
                directed=False,
                indices=roots[idx],
                return_predecessors=True,
                limit=self.limit,
            )
            yield idx, dist, pred

    def _home_distance(self, dist: np.ndarray, home: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance from each root in a chunk to the doors of ``home``, and the end used."""
        e = self.homes.edge[home]
        o = self.homes.offset[home]
        L = self.net.edge_length[e]
        via_u = dist[:, self.net.edge_u[e]] + o
        via_v = dist[:, self.net.edge_v[e]] + (L - o)
        best = np.minimum(via_u, via_v)
        best[best > self.limit] = np.inf  # the walk along the home's street counts too
        return best, via_v < via_u

    def _spatial_order(self, roots: np.ndarray) -> np.ndarray:
        """Roots sorted by map cell (cells of the walking limit's size), so that a chunk of
        roots covers one compact area and reaches only the homes around it."""
        xy = self.net.node_xy[roots]
        cell = np.floor((xy - xy.min(axis=0)) / max(self.limit, 1.0)).astype(np.int64)
        return np.lexsort((np.arange(len(roots)), cell[:, 0], cell[:, 1]))

    def nearest_roots(self, roots: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For each home, its ``k`` nearest roots within the limit (-1 where fewer); equal
        distances go to the lower root index.

        Each chunk of roots updates only the homes on streets it reached, so the work grows
        with the homes near each root, not with homes x roots.

        Returns:
            (root indices, distances), both (H, k), nearest first.
        """
        H = self.homes.count
        best_i = np.full((H, k), -1, np.int64)
        best_d = np.full((H, k), np.inf)
        e = self.homes.edge
        for idx, dist, _ in self._trees(roots, self._spatial_order(roots), NEAREST_CHUNK):
            reached = np.isfinite(dist).any(axis=0)
            home = np.flatnonzero(reached[self.net.edge_u[e]] | reached[self.net.edge_v[e]])
            if len(home) == 0:
                continue
            d, _ = self._home_distance(dist, home)
            cand_d = np.concatenate([best_d[home], d.T], axis=1)
            cand_i = np.concatenate(
                [best_i[home], np.broadcast_to(idx, (len(home), len(idx)))], axis=1
            )
            keep = np.lexsort((cand_i, cand_d), axis=1)[:, :k]
            best_d[home] = np.take_along_axis(cand_d, keep, axis=1)
            best_i[home] = np.take_along_axis(cand_i, keep, axis=1)
        best_i[~np.isfinite(best_d)] = -1
        return best_i, best_d

    def nearest_root_of_nodes(self, roots: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """Index of the nearest root of each node (-1 if none within the limit)."""
        dist, _, src = csgraph.dijkstra(
            self._graph,
            directed=False,
            indices=roots,
            min_only=True,
            return_predecessors=True,
            limit=self.limit,
        )
        index = np.full(self.net.n_nodes, -1, np.int64)
        index[roots] = np.arange(len(roots))
        return np.where(np.isfinite(dist[nodes]), index[np.maximum(src[nodes], 0)], -1)

    def routes_to_roots(
        self,
        roots: np.ndarray,
        root_idx: np.ndarray,
        far_home: np.ndarray,
        far_node: np.ndarray,
    ) -> RouteTable:
        """Routes from far places to roots: from home ``far_home[i]`` if >= 0, else from node
        ``far_node[i]``, to node ``roots[root_idx[i]]``. Every place must be reachable."""
        n = len(root_idx)
        parts: list[tuple[np.ndarray, ...]] = []
        for idx, dist, pred in self._trees(roots):
            sel = np.flatnonzero(np.isin(root_idx, idx))
            if len(sel) == 0:
                continue
            row = root_idx[sel] - idx[0]
            home = far_home[sel]
            is_home = home >= 0
            cur = far_node[sel].astype(np.int64)
            if np.any(is_home):
                h = home[is_home]
                e = self.homes.edge[h]
                o = self.homes.offset[h]
                L = self.net.edge_length[e]
                du = dist[row[is_home], self.net.edge_u[e]] + o
                dv = dist[row[is_home], self.net.edge_v[e]] + (L - o)
                go_v = dv < du
                cur[is_home] = np.where(go_v, self.net.edge_v[e], self.net.edge_u[e])
                parts.append(
                    (sel[is_home], np.zeros(len(h)), e, o.astype(float), np.where(go_v, L, 0.0))
                )
            target = roots[root_idx[sel]]
            if not np.all(np.isfinite(dist[row, cur])):
                raise ValueError("a route's far end is not reachable from its root")
            depth = 1
            active = np.flatnonzero(cur != target)
            while len(active):
                a = cur[active]
                b = pred[row[active], a].astype(np.int64)
                e = self.net.edge_ids(a, b)
                forward = self.net.edge_u[e] == a
                L = self.net.edge_length[e]
                parts.append(
                    (
                        sel[active],
                        np.full(len(active), float(depth)),
                        e,
                        np.where(forward, 0.0, L),
                        np.where(forward, L, 0.0),
                    )
                )
                cur[active] = b
                active = active[b != target[active]]
                depth += 1
        if not parts:
            z = np.zeros(0)
            return _assemble(n, z.astype(np.int64), z, z.astype(np.int32), z, z)
        cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
        return _assemble(n, cols[0], cols[1], *cols[2:])
