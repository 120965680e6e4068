"""Small folium elements of k360 maps: area layer, legend, hatch pattern, facilities.

All text that reaches the page is escaped in Python before it is embedded:
tooltips and legend entries are HTML built with :func:`html.escape` around
every piece of data; JSON embedded in ``<script>`` has ``<``, ``>`` and the
line separators U+2028/U+2029 escaped, so no data can close the script or
inject markup.

Elements carry stable hooks for tests and end-to-end checks: every area path
has the CSS class ``k360-area`` (plus ``k360-suppressed`` / ``k360-missing``)
and a ``data-k360-area`` attribute; the legend is ``#k360-legend``.
"""

from __future__ import annotations

import html
import json

from branca.element import Element, MacroElement
from folium.template import Template

__all__ = [
    "HATCH_ID",
    "AreaLayer",
    "FacilityLayer",
    "HatchPattern",
    "Legend",
    "MapStyle",
    "script_json",
]

#: id of the SVG pattern that fills suppressed areas
HATCH_ID = "k360-hatch"


def script_json(obj) -> str:
    r"""Serialise ``obj`` as JSON that is safe inside an HTML ``<script>`` element.

    Examples
    --------
    >>> script_json({"t": "</script><b>"})
    '{"t":"\\u003c/script\\u003e\\u003cb\\u003e"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _script_text(text: str) -> str:
    """Make already-serialised JSON ``text`` safe inside ``<script>``."""
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class MapStyle(Element):
    """CSS of k360 maps (legend, tooltips), added once to the figure header."""

    CSS = """
.k360-legend{background:rgba(255,255,255,.94);padding:8px 10px;border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:#222;max-width:280px;}
.k360-legend-title{font-weight:600;font-size:13px;margin-bottom:2px;}
.k360-legend-sub{color:#555;margin-bottom:6px;}
.k360-legend ul{list-style:none;margin:0;padding:0;}
.k360-legend li{display:flex;align-items:center;gap:6px;margin:2px 0;}
.k360-swatch{display:inline-block;width:18px;height:12px;border:1px solid #777;flex:none;}
.k360-legend-note{color:#555;margin-top:6px;font-size:11px;}
.k360-swatch-facility{width:10px;height:10px;border-radius:50%;margin:0 4px;border-color:#222;}
.marker-cluster-small,.marker-cluster-medium,.marker-cluster-large{background-color:rgba(43,92,138,.35);}
.marker-cluster-small div,.marker-cluster-medium div,.marker-cluster-large div{background-color:#2b5c8a;color:#fff;}
.k360-tooltip{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;}
.k360-tooltip .k360-tt-name{font-weight:600;font-size:13px;}
.k360-tooltip .k360-tt-muted{color:#555;}
"""

    def __init__(self):
        super().__init__(f"<style>{self.CSS}</style>")
        self._name = "K360MapStyle"


class HatchPattern(Element):
    """An invisible SVG holding the hatch pattern used as fill of suppressed areas."""

    def __init__(self, background: str = "#d9d9d9", stroke: str = "#8c8c8c"):
        bg = html.escape(background, quote=True)
        st = html.escape(stroke, quote=True)
        super().__init__(
            '<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false">'
            f'<defs><pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="6" height="6" '
            'patternTransform="rotate(45)">'
            f'<rect width="6" height="6" fill="{bg}"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{st}" stroke-width="3"/>'
            "</pattern></defs></svg>"
        )
        self._name = "K360HatchPattern"


class AreaLayer(MacroElement):
    """Polygons of all areas, styled by a small table of styles.

    Parameters
    ----------
    geometries : sequence of str
        GeoJSON geometry text per area (from :func:`k360lib.maps.geometry.map_geometry`).
    area_ids : sequence of str
        Area key per geometry.
    style_index : sequence of int
        Index into ``styles`` per area.
    tooltips : sequence of str
        Tooltip HTML per area, **already escaped**.
    styles : list of dict
        Leaflet path options; ``className`` should contain ``k360-area``.
    highlight : dict, optional
        Path options applied while the pointer is over an area.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_styles = {{ this.styles_json }};
        var {{ this.get_name() }} = L.geoJSON({{ this.data_json }}, {
            style: function (f) { return {{ this.get_name() }}_styles[f.properties.s]; },
            onEachFeature: function (f, layer) {
                layer.bindTooltip(f.properties.t, {sticky: true, className: "k360-tooltip"});
                layer.on({
                    mouseover: function (e) { e.target.setStyle({{ this.highlight_json }}); e.target.bringToFront(); },
                    mouseout: function (e) { {{ this.get_name() }}.resetStyle(e.target); }
                });
            }
        }).addTo({{ this._parent.get_name() }});
        {{ this.get_name() }}.eachLayer(function (layer) {
            if (layer._path) { layer._path.setAttribute("data-k360-area", layer.feature.properties.id); }
        });
        {% endmacro %}
        """
    )

    def __init__(self, geometries, area_ids, style_index, tooltips, styles, highlight=None):
        super().__init__()
        self._name = "K360AreaLayer"
        n = len(geometries)
        if not (len(area_ids) == len(style_index) == len(tooltips) == n):
            raise ValueError(
                "geometries, area_ids, style_index and tooltips must have the same length"
            )
        features = []
        for geom, aid, s, tip in zip(geometries, area_ids, style_index, tooltips):
            props = script_json({"id": str(aid), "s": int(s), "t": str(tip)})
            features.append(
                '{"type":"Feature","properties":'
                + props
                + ',"geometry":'
                + _script_text(geom)
                + "}"
            )
        self.data_json = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
        self.styles_json = script_json(list(styles))
        self.highlight_json = script_json(highlight or {"weight": 3, "color": "#000000"})
        self.n_features = n


class Legend(MacroElement):
    """A legend placed in the map's bottom-right corner (``#k360-legend``).

    Parameters
    ----------
    title : str
        Plain text (escaped here).
    subtitle : str
        Plain text (escaped here).
    rows : list of tuple
        ``(swatch_css_class, swatch_colour or None, label)``; plain text, escaped here.
    note : str, optional
        Plain text under the rows.
    data : dict, optional
        ``data-k360-*`` attributes of the legend element (values escaped).
    position : str, default "bottomright"
        Leaflet control position.
    """

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        {{ this.html_text }}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function () {
                var div = document.getElementById("k360-legend");
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title, subtitle, rows, note=None, data=None, position="bottomright"):
        super().__init__()
        self._name = "K360Legend"
        if position not in ("topleft", "topright", "bottomleft", "bottomright"):
            raise ValueError(f"position must be a Leaflet corner, got {position!r}")
        self.position = position
        e = html.escape
        attrs = "".join(
            f' data-k360-{e(str(k), quote=True)}="{e(str(v), quote=True)}"'
            for k, v in (data or {}).items()
        )
        items = []
        for css, colour, label in rows:
            style = f' style="background:{e(colour, quote=True)}"' if colour else ""
            items.append(
                f'<li><span class="k360-swatch {e(css, quote=True)}"{style}></span><span>{e(str(label))}</span></li>'
            )
        note_html = f'<div class="k360-legend-note">{e(note)}</div>' if note else ""
        self.html_text = (
            f'<div id="k360-legend" class="k360-legend" role="region" aria-label="{e(title, quote=True)}"{attrs}>'
            f'<div class="k360-legend-title">{e(title)}</div>'
            f'<div class="k360-legend-sub">{e(subtitle)}</div>'
            f"<ul>{''.join(items)}</ul>{note_html}</div>"
        )
        self.n_rows = len(rows)


class FacilityLayer(MacroElement):
    """Facilities as small circles with a tooltip, optionally clustered.

    Clustering uses the Leaflet.markercluster plugin; the map must inline it
    (:meth:`k360lib.maps.assets.OfflineMap.require`).

    Parameters
    ----------
    points : list of tuple
        ``(lat, lon, tooltip_html, kind_index)``; tooltip HTML **already escaped**.
    colours : list of str
        Fill colour per kind index.
    cluster : bool, default True
        Cluster nearby facilities.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_colours = {{ this.colours_json }};
        var {{ this.get_name() }} = {% if this.cluster %}L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 40}){% else %}L.featureGroup(){% endif %};
        {{ this.points_json }}.forEach(function (p) {
            var m = L.circleMarker([p[0], p[1]], {radius: 5, weight: 1, color: "#222222", fillOpacity: 0.9,
                fillColor: {{ this.get_name() }}_colours[p[3]], className: "k360-facility"});
            m.bindTooltip(p[2], {className: "k360-tooltip"});
            {{ this.get_name() }}.addLayer(m);
        });
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, points, colours, cluster=True):
        super().__init__()
        self._name = "K360FacilityLayer"
        self.points_json = script_json(
            [[float(a), float(b), str(c), int(d)] for a, b, c, d in points]
        )
        self.colours_json = script_json(list(colours))
        self.cluster = bool(cluster)
        self.n_points = len(points)
