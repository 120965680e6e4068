"""Geometry helpers: metric CRS choice, geometry repair."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = ["metric_crs"]


def metric_crs(gdf: gpd.GeoDataFrame, hint=None):
    """Return a metric CRS for ``gdf``: ``hint`` if given, the data's own if metric, else its UTM zone.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(9.43, 54.78)], crs=4326)
    >>> metric_crs(g).to_epsg()
    32632
    """
    from pyproj import CRS

    if hint:
        return CRS.from_user_input(hint)
    crs = gdf.crs
    if (
        crs is not None
        and crs.is_projected
        and crs.axis_info
        and crs.axis_info[0].unit_name in ("metre", "meter")
    ):
        return crs
    est = gdf.to_crs(4326).estimate_utm_crs() if len(gdf) else CRS.from_epsg(25832)
    return est
