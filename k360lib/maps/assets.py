"""Offline web assets: Leaflet and plugins inlined from installed XStatic packages.

(The folium map class that uses them, :class:`OfflineMap`, lives in
:mod:`k360lib.maps.offline`, so reading assets does not import folium.)

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

from k360lib.errors import K360Error

__all__ = ["ASSETS", "CLUSTER_ASSETS", "CORE_ASSETS", "asset_element", "asset_text"]

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


def asset_element(name: str) -> str:
    """Return the asset ``name`` as an inline ``<script>`` or ``<style>`` element."""
    kind = ASSETS[name][2]
    tag = "script" if kind == "js" else "style"
    return f'<{tag} data-k360-asset="{name}">{asset_text(name)}</{tag}>'


def __getattr__(name: str):
    # OfflineMap subclasses folium.Map: import folium only when it is asked for
    if name == "OfflineMap":
        from k360lib.maps.offline import OfflineMap

        return OfflineMap
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
