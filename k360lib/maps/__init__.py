"""Maps of the atlas: folium/Leaflet rendered to plain, offline HTML (no widgets).

Every map is self-contained: Leaflet and plugins are inlined from installed
XStatic packages, so a map works without internet access (only an optional
basemap needs the network).

Examples
--------
>>> from k360lib.atlas.demo import demo_atlas
>>> from k360lib.maps import choropleth
>>> html = choropleth(demo_atlas(), "sgb2_u15_rate", lang="de").to_html()
>>> html.count('"s":') == 24  # one feature per Sozialraum
True
"""

from __future__ import annotations

from k360lib.maps.assets import OfflineMap
from k360lib.maps.choropleth import MapView, choropleth, srcdoc_iframe
from k360lib.maps.geometry import MapGeometry, map_geometry, simplify_coverage

__all__ = [
    "MapGeometry",
    "MapView",
    "OfflineMap",
    "choropleth",
    "map_geometry",
    "simplify_coverage",
    "srcdoc_iframe",
]
