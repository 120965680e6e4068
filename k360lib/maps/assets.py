"""Offline web assets: Leaflet and plugins inlined from installed XStatic packages.

folium's :class:`folium.Map` links Leaflet, jQuery, Bootstrap and Font Awesome
from CDNs. Municipal networks and CI often have no CDN access, so k360 maps
use :class:`OfflineMap`, which links nothing: Leaflet's JavaScript and CSS are
read from ``xstatic-leaflet`` and written into ``<script>``/``<style>``
elements; the images its CSS refers to become ``data:`` URIs. jQuery,
Bootstrap and awesome-markers are dropped: k360 maps use only Leaflet core
(GeoJSON layers, circle markers, tooltips) and, for facilities, the
MarkerCluster plugin (``xstatic-leaflet-markercluster``).

Only a basemap (tile layer), when explicitly requested, loads anything from
the network; the map works without it.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

import folium
from branca.element import Element, Figure

from k360lib.errors import K360Error

__all__ = ["ASSETS", "OfflineMap", "asset_text", "inline_assets"]

#: name -> (xstatic module, file, kind); kind is "js" or "css"
ASSETS: dict[str, tuple[str, str, str]] = {
    "leaflet_css": ("xstatic.pkg.leaflet", "leaflet.css", "css"),
    "leaflet_js": ("xstatic.pkg.leaflet", "leaflet.js", "js"),
    "markercluster_css": ("xstatic.pkg.leaflet_markercluster", "MarkerCluster.css", "css"),
    "markercluster_default_css": (
        "xstatic.pkg.leaflet_markercluster",
        "MarkerCluster.Default.css",
        "css",
    ),
    "markercluster_js": ("xstatic.pkg.leaflet_markercluster", "leaflet.markercluster.js", "js"),
}

#: assets every map needs, in load order
CORE_ASSETS: tuple[str, ...] = ("leaflet_css", "leaflet_js")
#: assets of the MarkerCluster plugin (after the core), in load order
CLUSTER_ASSETS: tuple[str, ...] = (
    "markercluster_css",
    "markercluster_default_css",
    "markercluster_js",
)

_PIP_NAMES = {
    "xstatic.pkg.leaflet": "xstatic-leaflet",
    "xstatic.pkg.leaflet_markercluster": "xstatic-leaflet-markercluster",
}
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[^'\")]+)\1\)")


def _base_dir(module: str) -> Path:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise K360Error("maps.asset_missing", package=_PIP_NAMES.get(module, module)) from exc
    return Path(mod.BASE_DIR)


def _data_uri(path: Path) -> str:
    mime = {".png": "image/png", ".svg": "image/svg+xml"}.get(
        path.suffix.lower(), "application/octet-stream"
    )
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@cache
def asset_text(name: str) -> str:
    """Return the text of an offline asset, ready to inline.

    Source-map comments are removed; relative image URLs in CSS become
    ``data:`` URIs, so the result refers to no other file.

    Parameters
    ----------
    name : str
        A key of :data:`ASSETS`.

    Returns
    -------
    str
        JavaScript or CSS text.

    Raises
    ------
    KeyError
        If ``name`` is not a known asset.
    K360Error
        If the XStatic package providing it is not installed.
    """
    module, filename, kind = ASSETS[name]
    base = _base_dir(module)
    text = (base / filename).read_text(encoding="utf-8")
    text = _SOURCE_MAP.sub("", text)
    if kind == "css":
        text = _CSS_URL.sub(lambda m: f'url("{_data_uri(base / m.group(2))}")', text)
    # an inlined script must never contain the sequence that would end its element
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


def _element(name: str) -> Element:
    kind = ASSETS[name][2]
    tag = "script" if kind == "js" else "style"
    return Element(f'<{tag} data-k360-asset="{name}">{asset_text(name)}</{tag}>')


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
        figure.header.add_child(_element(name), name=f"k360_{name}")


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
