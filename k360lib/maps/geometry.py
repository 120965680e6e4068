"""Map geometry: simplified once per atlas, topology-preserving, rounded, cached.

A map sends every polygon to the browser on every redraw, so the geometry is
prepared once per atlas and reused:

1. reprojected to the atlas' metric CRS;
2. simplified as a *coverage* (:func:`shapely.coverage_simplify`, shapely >= 2.1):
   a shared edge between two neighbours is simplified once, so neighbours keep
   touching — no slivers or gaps. Shared edges that differ only by float noise
   are first snapped to a millimetre grid. Inputs that are still not a valid
   coverage (real gaps, overlaps) and older shapely versions fall back to
   per-polygon topology-preserving simplification;
3. reprojected to EPSG:4326 and rounded to 5 decimals (about 1 m);
4. serialised to compact GeoJSON text, one string per area.

The cache lives as long as the atlas object and is keyed by the identity of
its ``areas`` frame: replacing ``atlas.areas`` invalidates it; editing the
geometries of the same frame in place does not (treat atlas data as immutable).
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from k360lib.atlas.model import Atlas

__all__ = [
    "DEFAULT_PRECISION",
    "SNAP_GRID",
    "MapGeometry",
    "default_tolerance",
    "map_geometry",
    "round_geometry",
    "simplify_coverage",
]

#: decimals of a degree kept in map coordinates (5 decimals ~ 1 m)
DEFAULT_PRECISION = 5
#: grid (as a fraction of the tolerance) that snaps almost-shared vertices together
#: before an invalid coverage is given up (0.001 of a 5 m tolerance = 5 mm)
SNAP_GRID = 0.001

#: id(atlas) -> (the areas frame the entry was made from, {(tolerance, precision): MapGeometry})
_CACHE: dict[int, tuple[object, dict]] = {}


@dataclass(frozen=True)
class MapGeometry:
    """Prepared map geometry of an atlas.

    Attributes
    ----------
    area_ids : tuple of str
        Area keys in the order of ``atlas.areas``.
    geometries : tuple of str
        GeoJSON geometry text per area (EPSG:4326, rounded).
    bounds : tuple of float
        ``(south, west, north, east)`` of all areas, for ``fit_bounds``.
    tolerance_m : float
        Simplification tolerance used, in metres.
    method : str
        ``"coverage"`` or ``"per_polygon"`` (fallback).
    """

    area_ids: tuple[str, ...]
    geometries: tuple[str, ...]
    bounds: tuple[float, float, float, float]
    tolerance_m: float
    method: str

    @property
    def n_bytes(self) -> int:
        """Total length of the geometry text."""
        return sum(len(g) for g in self.geometries)


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
        ``"coverage"`` or ``"per_polygon"``.
    """
    import numpy as np
    import shapely

    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0 or tolerance <= 0:
        return arr, "none"
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
        except shapely.errors.GEOSException:  # pragma: no cover - defensive
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


def _prepare(atlas: Atlas, tolerance_m: float | None, precision: int) -> MapGeometry:
    import numpy as np

    areas = atlas.areas
    ids = tuple(str(a) for a in areas["area_id"])
    if len(areas) == 0:
        return MapGeometry(ids, (), (0.0, 0.0, 0.0, 0.0), 0.0, "none")
    metric = areas.to_crs(atlas.metric_crs())
    tol = default_tolerance(metric) if tolerance_m is None else float(tolerance_m)
    simplified, method = simplify_coverage(metric.geometry.to_numpy(), tol)
    gs = type(metric.geometry)(simplified, crs=metric.crs).to_crs(4326)
    texts = []
    for geom in gs:
        if geom is None or geom.is_empty:
            texts.append('{"type":"MultiPolygon","coordinates":[]}')
            continue
        texts.append(json.dumps(round_geometry(geom, precision), separators=(",", ":")))
    west, south, east, north = (float(v) for v in np.round(gs.total_bounds, precision))
    return MapGeometry(ids, tuple(texts), (south, west, north, east), tol, method)


def map_geometry(
    atlas: Atlas, tolerance_m: float | None = None, precision: int = DEFAULT_PRECISION
) -> MapGeometry:
    """Return the prepared map geometry of ``atlas`` (computed once, then cached).

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
        Geometry text per area in the order of ``atlas.areas``.
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
