"""A :class:`folium.Map` that loads nothing from the network (see :mod:`k360lib.maps.assets`)."""

from __future__ import annotations

import folium
from branca.element import Element, Figure

from k360lib.maps.assets import ASSETS, CORE_ASSETS, asset_element

__all__ = ["OfflineMap", "inline_assets"]


def inline_assets(figure: Figure, names: tuple[str, ...] | list[str]) -> None:
    """Add the assets ``names`` to ``figure``'s header as inline elements (once each).

    Parameters
    ----------
    figure : branca.element.Figure
        The root element of a map.
    names : sequence of str
        Keys of :data:`ASSETS`, in load order.
    """
    for name in names:
        figure.header.add_child(Element(asset_element(name)), name=f"k360_{name}")


class OfflineMap(folium.Map):
    """A :class:`folium.Map` that loads nothing from the network.

    It takes the same arguments as :class:`folium.Map` (``tiles=None`` is the
    default here: a plain background). Leaflet is inlined; call
    :meth:`require` to inline plugins such as MarkerCluster.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`folium.Map`.
    tiles : str, folium.TileLayer or None, default None
        Basemap. ``None`` draws on a white background; a tile provider is the
        only part of the map that needs the network.
    """

    def __init__(self, *args, tiles=None, **kwargs):
        super().__init__(*args, tiles=tiles, **kwargs)
        # without a tile layer Leaflet has no zoom limit; plugins (MarkerCluster) need one
        self.options.setdefault("max_zoom", kwargs.get("max_zoom") or 18)
        # instance lists: folium's add_js_link mutates the list in place
        self.default_js = []
        self.default_css = []
        self._k360_assets: list[str] = list(CORE_ASSETS)
        self._k360_has_tiles = bool(tiles)

    def require(self, *names: str) -> OfflineMap:
        """Inline the assets ``names`` (keys of :data:`ASSETS`) too; return ``self``."""
        for name in names:
            if name not in ASSETS:
                raise KeyError(
                    f"unknown asset {name!r}; expected one of {', '.join(sorted(ASSETS))}"
                )
            if name not in self._k360_assets:
                self._k360_assets.append(name)
        return self

    def render(self, **kwargs):
        """Render the map with its assets inlined into the figure header."""
        figure = self.get_root()
        inline_assets(figure, self._k360_assets)
        if not self._k360_has_tiles:
            figure.header.add_child(
                Element("<style>.leaflet-container{background:#fff;}</style>"),
                name="k360_plain_background",
            )
        super().render(**kwargs)
