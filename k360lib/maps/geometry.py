"""Map geometry: simplified once per dataset, topology-preserving, quantised, shared-arc encoded.

A map sends every polygon to the browser, so the geometry is prepared once
per dataset and reused by every map of it:

1. reprojected to the atlas' metric CRS;
2. simplified as a *coverage* (:func:`shapely.coverage_simplify`, shapely >= 2.1):
   a shared edge between two neighbours is simplified once, so neighbours keep
   touching — no slivers or gaps. Shared edges that differ only by float noise
   are first snapped to a millimetre grid. Inputs that are still not a valid
   coverage (real gaps, overlaps) and older shapely versions fall back to
   per-polygon topology-preserving simplification;
3. reprojected to EPSG:4326 and *quantised* to integer steps of 10^-5 degree
   (about 1 m; :data:`DEFAULT_PRECISION`). A vertex shared by two neighbours
   is the same float before quantisation, so it is the same integer after it;
4. cut into **arcs** (as in TopoJSON): a stretch of boundary between two
   junctions is stored once, even when two areas share it; each ring of an
   area is a list of arc references (``~i`` = arc ``i`` reversed);
5. every arc is delta-encoded and written as a compact text (zig-zag varints in
   a URL-safe 64-letter alphabet, :func:`encode_arc`): a typical vertex costs
   four characters instead of twenty in GeoJSON.

The browser side (:data:`k360lib.maps.client.CLIENT_JS`) decodes arcs with
the same rules; :func:`decode_arc` and :meth:`MapGeometry.rings` are the
Python mirror used by tests.

Caching: in memory per atlas object (keyed by the identity of its ``areas``
frame: replacing ``atlas.areas`` invalidates it; editing geometries of the
same frame in place does not — treat atlas data as immutable), and on disk
per *dataset* (keyed by a hash of the geometry bytes and the options) in
:func:`cache_dir`, so a new kernel serving the same city does not simplify
again. Set ``K360_CACHE_DIR`` to choose the folder, or to ``"off"`` to disable
the disk cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from k360lib.atlas.model import Atlas

__all__ = [
    "ALPHABET",
    "DEFAULT_PRECISION",
    "SNAP_GRID",
    "MapGeometry",
    "build_topology",
    "cache_dir",
    "decode_arc",
    "default_tolerance",
    "encode_arc",
    "map_geometry",
    "round_geometry",
    "simplify_coverage",
]

#: decimals of a degree kept in map coordinates (5 decimals ~ 1 m)
DEFAULT_PRECISION = 5
#: grid (as a fraction of the tolerance) that snaps almost-shared vertices together
#: before an invalid coverage is given up (0.001 of a 5 m tolerance = 5 mm)
SNAP_GRID = 0.001
#: the 64 letters of the arc encoding: safe in JSON, HTML attributes and URLs
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
#: bump when the prepared geometry changes (invalidates the disk cache)
_FORMAT_VERSION = 2

#: id(atlas) -> (the areas frame the entry was made from, {(tolerance, precision): MapGeometry})
_CACHE: dict[int, tuple[object, dict]] = {}


# ----------------------------------------------------------------------------------------
# arc encoding
# ----------------------------------------------------------------------------------------
def _put(value: int, out: list[str]) -> None:
    z = (value << 1) if value >= 0 else ((-value) << 1) - 1  # zig-zag
    while z >= 32:
        out.append(ALPHABET[(z & 31) | 32])
        z >>= 5
    out.append(ALPHABET[z])


def encode_arc(points) -> str:
    """Encode integer points ``[(x, y), ...]`` as text: the first point as is, then deltas.

    Every number is zig-zag encoded and written in 5-bit groups, low group
    first; a letter's value has bit 5 set when more groups follow.

    Examples
    --------
    >>> encode_arc([(0, 0), (1, -1), (40, 2)])
    'AACBuCG'
    >>> decode_arc('AACBuCG')
    [(0, 0), (1, -1), (40, 2)]
    """
    out: list[str] = []
    px = py = 0
    for x, y in points:
        _put(int(x) - px, out)
        _put(int(y) - py, out)
        px, py = int(x), int(y)
    return "".join(out)


def decode_arc(text: str) -> list[tuple[int, int]]:
    """Decode :func:`encode_arc` text back into integer points."""
    values: list[int] = []
    z = shift = 0
    for ch in text:
        v = _INDEX[ch]
        z |= (v & 31) << shift
        if v & 32:
            shift += 5
            continue
        values.append((z >> 1) if not z & 1 else -((z + 1) >> 1))
        z = shift = 0
    points = []
    x = y = 0
    for i in range(0, len(values) - 1, 2):
        x += values[i]
        y += values[i + 1]
        points.append((x, y))
    return points


# ----------------------------------------------------------------------------------------
# topology
# ----------------------------------------------------------------------------------------
def _rings_of(geom, scale: float) -> list[list[list[tuple[int, int]]]]:
    """Polygons of ``geom`` as lists of open rings of quantised points (duplicates dropped)."""
    import numpy as np
    import shapely

    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    if geom is not None and geom.geom_type == "GeometryCollection":
        polys = [p for g in geom.geoms for p in shapely.get_parts(g) if p.geom_type == "Polygon"]
    out = []
    for poly in polys:
        rings = []
        for ring in (poly.exterior, *poly.interiors):
            q = np.round(np.asarray(ring.coords)[:, :2] * scale).astype(np.int64)
            pts: list[tuple[int, int]] = []
            for x, y in q.tolist():
                if not pts or pts[-1] != (x, y):
                    pts.append((x, y))
            if len(pts) > 1 and pts[0] == pts[-1]:
                pts.pop()
            if len(pts) >= 3:
                rings.append(pts)
        if rings and len(rings[0]) >= 3:
            out.append(rings)
    return out


def build_topology(geoms, precision: int = DEFAULT_PRECISION) -> dict:
    """Quantise polygons (EPSG:4326) and cut their rings into shared arcs.

    Parameters
    ----------
    geoms : sequence of shapely geometries
        One (multi)polygon per area, longitude/latitude.
    precision : int, default 5
        Decimals of a degree kept.

    Returns
    -------
    dict
        ``{"scale": 10**precision, "arcs": [encoded arc, ...],
        "areas": [[[ring arc refs, ...] per polygon] per area], "n_points": int}``.
        Arc ``i`` is referenced as ``i``, reversed as ``~i`` (``-i - 1``).
        A ring is the concatenation of its arcs, each after the first without
        its first point; the result is closed (last point = first point).
    """
    scale = 10**precision
    areas = [_rings_of(g, scale) if g is not None else [] for g in geoms]

    # a point is a junction when rings pass it with different neighbours
    seen: dict[tuple[int, int], frozenset] = {}
    junctions: set[tuple[int, int]] = set()
    for polys in areas:
        for rings in polys:
            for ring in rings:
                n = len(ring)
                for i, p in enumerate(ring):
                    nb = frozenset((ring[i - 1], ring[(i + 1) % n]))
                    old = seen.get(p)
                    if old is None:
                        seen[p] = nb
                    elif old != nb:
                        junctions.add(p)

    arc_index: dict[tuple, int] = {}
    arcs: list[tuple] = []

    def ref(points: tuple) -> int:
        i = arc_index.get(points)
        if i is not None:
            return i
        i = arc_index.get(points[::-1])
        if i is not None:
            return ~i
        arc_index[points] = len(arcs)
        arcs.append(points)
        return len(arcs) - 1

    out_areas = []
    n_points = 0
    for polys in areas:
        out_polys = []
        for rings in polys:
            out_rings = []
            for ring in rings:
                n = len(ring)
                n_points += n
                cuts = [i for i, p in enumerate(ring) if p in junctions]
                if not cuts:
                    start = min(range(n), key=ring.__getitem__)
                    loop = tuple(ring[start:] + ring[:start] + [ring[start]])
                    out_rings.append([ref(loop)])
                    continue
                rot = ring[cuts[0] :] + ring[: cuts[0]]
                cut_pos = [c - cuts[0] for c in cuts] + [n]
                refs = []
                for a, b in zip(cut_pos[:-1], cut_pos[1:]):
                    seg = rot[a : b + 1] if b < n else rot[a:] + [rot[0]]
                    refs.append(ref(tuple(seg)))
                out_rings.append(refs)
            out_polys.append(out_rings)
        out_areas.append(out_polys)
    return {
        "scale": scale,
        "arcs": [encode_arc(a) for a in arcs],
        "areas": out_areas,
        "n_points": n_points,
    }


# ----------------------------------------------------------------------------------------
# simplification
# ----------------------------------------------------------------------------------------
def default_tolerance(gdf_metric: gpd.GeoDataFrame) -> float:
    """Return a simplification tolerance in metres suited to the areas' size.

    Half a percent of the median area's side length, clipped to 1–10 m: fine
    enough that a city-wide map looks exact, coarse enough to drop surveyed
    detail nobody can see at city scale.

    Parameters
    ----------
    gdf_metric : geopandas.GeoDataFrame
        Areas in a metric CRS.

    Returns
    -------
    float
        Tolerance in metres.
    """
    import numpy as np

    if len(gdf_metric) == 0:
        return 1.0
    side = float(np.sqrt(np.nanmedian(gdf_metric.geometry.area.to_numpy())))
    return float(min(10.0, max(1.0, 0.005 * side)))


def simplify_coverage(geoms, tolerance: float):
    """Simplify polygons so that shared edges stay shared.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        Polygons in a metric CRS.
    tolerance : float
        Maximum distance (CRS units) between original and simplified edges.

    Returns
    -------
    tuple
        ``(simplified geometries as numpy array, method)`` where ``method`` is
        ``"coverage"``, ``"per_polygon"`` or ``"none"``.
    """
    import numpy as np
    import shapely

    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0 or tolerance <= 0:
        return arr, "none"
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if not present.all():  # areas without geometry stay without; the rest is simplified
        out = arr.copy()
        simplified, method = simplify_coverage(arr[present], tolerance)
        out[present] = simplified
        return out, method
    if hasattr(shapely, "coverage_simplify") and hasattr(shapely, "coverage_is_valid"):
        try:
            candidate = arr
            if not bool(shapely.coverage_is_valid(candidate)):
                # shared edges that differ only by float noise (e.g. densified or
                # reprojected separately) become identical on a fine grid
                candidate = np.asarray(
                    shapely.set_precision(arr, SNAP_GRID * tolerance), dtype=object
                )
            if bool(shapely.coverage_is_valid(candidate)):
                out = shapely.coverage_simplify(candidate, tolerance, simplify_boundary=True)
                out = np.asarray(out, dtype=object)
                if not shapely.is_empty(out).any():
                    return out, "coverage"
        except (shapely.errors.GEOSException, ValueError):  # pragma: no cover - defensive
            pass
    return np.asarray(
        shapely.simplify(arr, tolerance, preserve_topology=True), dtype=object
    ), "per_polygon"


def round_geometry(geom, precision: int = DEFAULT_PRECISION) -> dict:
    """Return the GeoJSON mapping of ``geom`` with coordinates rounded to ``precision`` decimals.

    Rounding is applied to every coordinate independently, so a vertex shared
    by two polygons stays shared. Consecutive duplicate vertices created by
    rounding are dropped.
    """
    import shapely
    import shapely.geometry

    def ring(coords):
        out = []
        for x, y, *_ in coords:
            pt = [round(float(x), precision), round(float(y), precision)]
            if not out or out[-1] != pt:
                out.append(pt)
        return out

    mapping = shapely.geometry.mapping(geom)
    kind = mapping["type"]
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r) for r in mapping["coordinates"]]}
    if kind == "MultiPolygon":
        return {
            "type": "MultiPolygon",
            "coordinates": [[ring(r) for r in poly] for poly in mapping["coordinates"]],
        }
    if kind == "GeometryCollection":
        polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        if polys:
            return round_geometry(shapely.union_all(polys), precision)
        return {"type": "MultiPolygon", "coordinates": []}
    return json.loads(json.dumps(mapping))  # points/lines: unchanged structure


# ----------------------------------------------------------------------------------------
# prepared geometry
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MapGeometry:
    """Prepared map geometry of an atlas.

    Attributes
    ----------
    area_ids : tuple of str
        Area keys in the order of ``atlas.areas``.
    topology : dict
        Shared-arc encoding (see :func:`build_topology`); what the browser gets.
    bounds : tuple of float
        ``(south, west, north, east)`` of all areas, for ``fit_bounds``.
    tolerance_m : float
        Simplification tolerance used, in metres.
    method : str
        ``"coverage"``, ``"per_polygon"`` (fallback) or ``"none"``.
    n_input_points : int
        Vertices before simplification.
    key : str
        Hash of the dataset (area keys, geometries, options): names what the
        geometry was made from, for caches of documents built on it.
    """

    area_ids: tuple[str, ...]
    topology: dict = field(repr=False)
    bounds: tuple[float, float, float, float]
    tolerance_m: float
    method: str
    n_input_points: int = 0
    key: str = ""

    @property
    def n_points(self) -> int:
        """Vertices after simplification and quantisation (shared vertices counted per ring)."""
        return int(self.topology.get("n_points", 0))

    @property
    def n_arc_points(self) -> int:
        """Vertices actually stored (shared arcs once)."""
        return sum(len(decode_arc(a)) for a in self.topology["arcs"])

    @property
    def n_bytes(self) -> int:
        """Length of the topology as compact JSON (what one map embeds)."""
        return len(self.topology_json())

    def topology_json(self) -> str:
        """Return the topology as compact JSON (without the point count)."""
        t = self.topology
        return json.dumps(
            {"scale": t["scale"], "arcs": t["arcs"], "areas": t["areas"]}, separators=(",", ":")
        )

    def rings(self, index: int) -> list[list[list[tuple[float, float]]]]:
        """Decode the polygons of area ``index``: ``[[ring, ...], ...]`` of ``(lon, lat)``.

        Mirrors the browser's decoder; rings are closed.
        """
        scale = float(self.topology["scale"])
        arcs = self.topology["arcs"]
        cache: dict[int, list] = {}

        def arc(i: int) -> list:
            j = ~i if i < 0 else i
            if j not in cache:
                cache[j] = decode_arc(arcs[j])
            return cache[j][::-1] if i < 0 else cache[j]

        polys = []
        for rings in self.topology["areas"][index]:
            out = []
            for refs in rings:
                pts: list = []
                for k, r in enumerate(refs):
                    a = arc(r)
                    pts.extend(a if k == 0 else a[1:])
                out.append([(x / scale, y / scale) for x, y in pts])
            polys.append(out)
        return polys

    def shape(self, index: int):
        """Return area ``index`` as a shapely (multi)polygon in EPSG:4326, as the browser draws it."""
        from shapely.geometry import MultiPolygon, Polygon

        polys = [Polygon(rings[0], rings[1:]) for rings in self.rings(index) if rings]
        if not polys:
            return MultiPolygon()
        return polys[0] if len(polys) == 1 else MultiPolygon(polys)

    @property
    def geometries(self) -> tuple[str, ...]:
        """GeoJSON geometry text per area (decoded; for tests and other consumers)."""
        from shapely.geometry import mapping

        return tuple(
            json.dumps(mapping(self.shape(i)), separators=(",", ":"))
            for i in range(len(self.area_ids))
        )


def cache_dir() -> Path | None:
    """Return the folder of the on-disk geometry cache, or ``None`` when disabled.

    ``$K360_CACHE_DIR`` if set (``"off"`` disables the cache), else
    ``$XDG_CACHE_HOME/k360/geometry`` or ``~/.cache/k360/geometry``.
    """
    env = os.environ.get("K360_CACHE_DIR", "").strip()
    if env.lower() in ("off", "0", "none", "false"):
        return None
    if env:
        return Path(env) / "geometry"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "k360" / "geometry"


def _dataset_key(areas, metric_crs, tolerance_m, precision: int) -> str:
    import shapely

    h = hashlib.sha256()
    h.update(f"v{_FORMAT_VERSION}|{tolerance_m}|{precision}|{metric_crs}|".encode())
    h.update("\x1f".join(map(str, areas["area_id"])).encode())
    for wkb in shapely.to_wkb(areas.geometry.to_numpy(), output_dimension=2):
        h.update(wkb or b"")
    return h.hexdigest()[:32]


def _load_cached(path: Path | None):
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return MapGeometry(
            tuple(data["area_ids"]),
            data["topology"],
            tuple(data["bounds"]),
            float(data["tolerance_m"]),
            str(data["method"]),
            int(data.get("n_input_points", 0)),
            path.stem,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store_cached(path: Path | None, geo: MapGeometry) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps(
                {
                    "area_ids": list(geo.area_ids),
                    "topology": geo.topology,
                    "bounds": list(geo.bounds),
                    "tolerance_m": geo.tolerance_m,
                    "method": geo.method,
                    "n_input_points": geo.n_input_points,
                },
                separators=(",", ":"),
            ),
            encoding="utf-8",
        )
        os.replace(tmp, path)
    except OSError:  # a read-only home folder must not break maps
        return


def _prepare(atlas: Atlas, tolerance_m: float | None, precision: int) -> MapGeometry:
    import numpy as np
    import shapely

    areas = atlas.areas
    ids = tuple(str(a) for a in areas["area_id"])
    if len(areas) == 0:
        return MapGeometry(
            ids,
            {"scale": 10**precision, "arcs": [], "areas": []},
            (0.0, 0.0, 0.0, 0.0),
            0.0,
            "none",
        )
    metric_crs = atlas.metric_crs()
    key = _dataset_key(areas, metric_crs, tolerance_m, precision)
    folder = cache_dir()
    path = None
    if folder is not None:
        path = folder / f"{key}.json"
        cached = _load_cached(path)
        if cached is not None and cached.area_ids == ids:
            return cached
    metric = areas.to_crs(metric_crs)
    tol = default_tolerance(metric) if tolerance_m is None else float(tolerance_m)
    simplified, method = simplify_coverage(metric.geometry.to_numpy(), tol)
    gs = type(metric.geometry)(simplified, crs=metric.crs).to_crs(4326)
    topology = build_topology(gs.to_numpy(), precision)
    west, south, east, north = (float(v) for v in np.round(gs.total_bounds, precision))
    geo = MapGeometry(
        ids,
        topology,
        (south, west, north, east),
        tol,
        method,
        int(shapely.get_num_coordinates(areas.geometry.to_numpy()).sum()),
        key,
    )
    _store_cached(path, geo)
    return geo


def map_geometry(
    atlas: Atlas, tolerance_m: float | None = None, precision: int = DEFAULT_PRECISION
) -> MapGeometry:
    """Return the prepared map geometry of ``atlas`` (computed once per dataset, then cached).

    Parameters
    ----------
    atlas : k360lib.atlas.model.Atlas
        The atlas whose areas are drawn.
    tolerance_m : float, optional
        Simplification tolerance in metres; default :func:`default_tolerance`.
        ``0`` disables simplification.
    precision : int, default 5
        Decimals of a degree kept (5 ~ 1 m).

    Returns
    -------
    MapGeometry
        Geometry per area in the order of ``atlas.areas``.
    """
    key = id(atlas)
    entry = _CACHE.get(key)
    if entry is None or entry[0] is not atlas.areas:
        if entry is None:  # first time: drop the entry when the atlas is garbage-collected
            weakref.finalize(atlas, _CACHE.pop, key, None)
        entry = _CACHE[key] = (atlas.areas, {})
    variants = entry[1]
    variant = (tolerance_m, int(precision))
    if variant not in variants:
        variants[variant] = _prepare(atlas, tolerance_m, int(precision))
    return variants[variant]
