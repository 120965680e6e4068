"""Choropleth maps of one indicator: all areas, coloured by class, with legend and tooltips.

The map is plain HTML (folium/Leaflet, every asset inlined, see
:mod:`k360lib.maps.assets`); nothing here knows about widgets. Classification
and colours come from :mod:`k360lib.atlas.classify`, geometry from
:mod:`k360lib.maps.geometry` (simplified once per atlas).

Examples
--------
>>> from k360lib.atlas.demo import demo_atlas
>>> view = choropleth(demo_atlas(), "sgb2_u15_rate", lang="en")
>>> view.n_areas
24
>>> "k360-legend" in view.to_html()
True
"""

from __future__ import annotations

import html
import pathlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from k360lib.atlas.model import Atlas
    from k360lib.maps.atlas_map import MapState

__all__ = ["MapView", "choropleth", "srcdoc_iframe"]

#: sandbox of a map frame: scripts run; a live frame may also read its parent page
SANDBOX_STATIC = "allow-scripts"
SANDBOX_LIVE = "allow-scripts allow-same-origin"


@dataclass(eq=False)
class MapView:
    """A rendered-on-demand k360 map and what it shows.

    Attributes
    ----------
    map : folium.Map
        The underlying map (an :class:`~k360lib.maps.assets.OfflineMap`); add
        further folium layers to it if needed.
    indicator : str
        Indicator id shown.
    year : int or None
        Year shown.
    lang : str
        Language of all text in the map.
    n_areas : int
        Number of area polygons.
    classification : Classification or None
        Classes of the values (``None`` when no value could be shown).
    counts : dict
        Number of areas per state: ``"classified"``, ``"suppressed"``, ``"missing"``.
    state : MapState
        Everything the map shows (fills, texts, legend), see
        :class:`k360lib.maps.atlas_map.MapState`.
    """

    map: folium.Map
    indicator: str
    year: int | None
    lang: str
    n_areas: int
    classification: object | None = None
    counts: dict = field(default_factory=dict)
    state: MapState | None = None

    def to_html(self) -> str:
        """Return the map as one standalone HTML document (no external resources)."""
        return self.map.get_root().render()

    def save(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write :meth:`to_html` to ``path`` (UTF-8) and return the path."""
        path = pathlib.Path(path)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    def iframe(
        self, height: str = "560px", title: str | None = None, element_id: str | None = None
    ) -> str:
        """Return the map as an ``<iframe srcdoc=…>`` element (see :func:`srcdoc_iframe`)."""
        return srcdoc_iframe(
            self.to_html(),
            title=title or self.indicator,
            height=height,
            element_id=element_id,
            data={
                "indicator": self.indicator,
                "year": "" if self.year is None else self.year,
                "areas": self.n_areas,
            },
        )

    def _repr_html_(self) -> str:
        return self.iframe()


def srcdoc_iframe(
    document: str,
    title: str,
    height: str = "560px",
    element_id: str | None = None,
    css_class: str = "k360-map-frame",
    data: dict | None = None,
    *,
    channel: str | None = None,
    sync: str | None = None,
) -> str:
    """Embed an HTML ``document`` as an isolated ``<iframe srcdoc=…>``.

    The document is escaped into the attribute. Without a ``channel`` the
    frame is sandboxed to ``allow-scripts``: Leaflet runs but cannot reach
    the embedding page. With a ``channel`` it is a *live* map
    (``allow-scripts allow-same-origin``): its script reads new states from
    the page (see :mod:`k360lib.maps.client`). That gives the frame the page's
    origin, which is acceptable because k360 writes the whole document
    itself and escapes every data string in it.

    Parameters
    ----------
    document : str
        A complete HTML document.
    title : str
        Accessible title of the frame (plain text).
    height : str, default "560px"
        CSS height.
    element_id : str, optional
        ``id`` attribute.
    css_class : str, default "k360-map-frame"
        ``class`` attribute.
    data : dict, optional
        ``data-k360-<key>`` attributes.
    channel : str, optional
        Id prefix of the page elements that carry live states (``data-k360-channel``).
    sync : str, optional
        Frames with the same ``sync`` name follow each other's pan and zoom.

    Returns
    -------
    str
        The ``<iframe>`` element.
    """
    e = html.escape
    attrs = f' id="{e(element_id, quote=True)}"' if element_id else ""
    if channel:
        attrs += f' data-k360-channel="{e(channel, quote=True)}"'
    if sync:
        attrs += f' data-k360-sync="{e(sync, quote=True)}"'
    sandbox = SANDBOX_LIVE if channel else SANDBOX_STATIC
    attrs += "".join(
        f' data-k360-{e(str(k), quote=True)}="{e(str(v), quote=True)}"'
        for k, v in (data or {}).items()
    )
    return (
        f'<iframe class="{e(css_class, quote=True)}"{attrs} title="{e(title, quote=True)}" '
        f'sandbox="{sandbox}" loading="eager" '
        f'style="width:100%;height:{e(height, quote=True)};border:0;display:block" '
        f'srcdoc="{e(document, quote=True)}"></iframe>'
    )


def choropleth(
    atlas: Atlas,
    indicator: str,
    year: int | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    palette: str | list[str] | None = None,
    lang: str | None = None,
    tiles=None,
    *,
    breaks=None,
    facilities: bool = False,
    cluster: bool = True,
    tolerance_m: float | None = None,
) -> MapView:
    """Draw ``indicator`` for ``year`` as a choropleth map of all areas.

    Parameters
    ----------
    atlas : Atlas
        Areas, indicators and catalog.
    indicator : str
        Indicator id (see ``atlas.indicator_ids``).
    year : int, optional
        Year; default the latest year the indicator has.
    scheme : str, default "quantiles"
        Classification scheme, a key of :data:`k360lib.atlas.classify.SCHEMES`.
    k : int, default 5
        Number of classes wanted.
    palette : str or list of str, optional
        ColorBrewer name (oriented so that more need is more intense) or one
        colour per class; default :func:`~k360lib.atlas.classify.default_palette`
        for the indicator's polarity.
    lang : str, optional
        Language of legend and tooltips; default the UI language.
    tiles : str or folium.TileLayer, optional
        Basemap (needs network access); default none, a plain background.
    breaks : sequence of float, optional
        Class bounds for ``scheme="user_defined"``.
    facilities : bool, default False
        Also draw the atlas' facilities as circles.
    cluster : bool, default True
        Cluster facilities (Leaflet.markercluster, inlined).
    tolerance_m : float, optional
        Geometry simplification tolerance in metres (see
        :func:`k360lib.maps.geometry.map_geometry`).

    Returns
    -------
    MapView
        The map and what it shows; ``.to_html()`` gives a standalone document.

    Raises
    ------
    DataError
        Unknown indicator, a year without values for it, or invalid
        classification arguments.

    Notes
    -----
    Areas whose value is suppressed (small numbers) are hatched grey and
    labelled "zu wenige Fälle"; areas without a value are plain light grey,
    "keine Daten". Both are listed in the legend with their count.
    """
    from k360lib.maps.atlas_map import AtlasMap

    amap = AtlasMap(atlas, lang, tiles=tiles, tolerance_m=tolerance_m, cluster=cluster)
    state = amap.state(indicator, year, scheme=scheme, k=k, palette=palette, breaks=breaks)
    kinds = list(range(len(amap.kinds))) if facilities else []
    state.kinds = kinds
    if kinds:  # the legend lists the facility kinds shown
        state = amap.state(
            indicator, year, scheme=scheme, k=k, palette=palette, breaks=breaks, kinds=kinds
        )
    m = amap.folium_map(state, facilities="all" if kinds else "none")
    return MapView(
        map=m,
        indicator=indicator,
        year=state.year,
        lang=amap.lang,
        n_areas=state.n_areas,
        classification=state.classification,
        counts=dict(state.counts),
        state=state,
    )
