"""Maps of the atlas: folium/Leaflet rendered to plain, offline HTML (no widgets).

Every map is self-contained: Leaflet and plugins are inlined from installed
XStatic packages, so a map works without internet access (only an optional
basemap needs the network). The geometry is simplified once per dataset and
sent as compact shared arcs (:mod:`k360lib.maps.geometry`); what changes
between indicators is a small :class:`MapState` (:mod:`k360lib.maps.atlas_map`).

Examples
--------
>>> from k360lib.atlas.demo import demo_atlas
>>> from k360lib.maps import choropleth
>>> view = choropleth(demo_atlas(), "sgb2_u15_rate", lang="de")
>>> view.n_areas, view.state.area_class(0).startswith(("class-", "suppressed", "missing"))
(24, True)
"""

from __future__ import annotations

from k360lib.maps.atlas_map import AtlasMap, FacilityKind, MapState, legend_html
from k360lib.maps.choropleth import MapView, choropleth, srcdoc_iframe
from k360lib.maps.geometry import MapGeometry, map_geometry, simplify_coverage

__all__ = [
    "AtlasMap",
    "FacilityKind",
    "MapGeometry",
    "MapState",
    "MapView",
    "OfflineMap",
    "choropleth",
    "legend_html",
    "map_geometry",
    "simplify_coverage",
    "srcdoc_iframe",
]


def __getattr__(name: str):
    # OfflineMap subclasses folium.Map; importing k360lib.maps must not import folium
    # (a new explorer kernel draws its first map from the cached document without it)
    if name == "OfflineMap":
        from k360lib.maps.offline import OfflineMap

        return OfflineMap
    raise AttributeError(f"module 'k360lib.maps' has no attribute {name!r}")
