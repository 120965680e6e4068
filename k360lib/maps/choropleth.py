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
import math
import pathlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from branca.element import Figure

from k360lib.atlas import classify as cl
from k360lib.atlas.privacy import public_values
from k360lib.errors import DataError
from k360lib.i18n import normalize_lang, t
from k360lib.maps.assets import CLUSTER_ASSETS, OfflineMap
from k360lib.maps.elements import HATCH_ID, AreaLayer, FacilityLayer, HatchPattern, Legend, MapStyle
from k360lib.maps.format import decimals_for, format_value, number_format
from k360lib.maps.geometry import map_geometry

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from k360lib.atlas.model import Atlas

__all__ = ["AREA_STYLE", "FACILITY_COLOR", "MapView", "choropleth", "srcdoc_iframe"]

#: outline and opacity of area polygons
AREA_STYLE: dict = {"color": "#4d4d4d", "weight": 0.8, "opacity": 1.0, "fillOpacity": 0.85}
#: highlight of the area under the pointer
HIGHLIGHT_STYLE: dict = {"color": "#000000", "weight": 3}
#: fill colour of facility circles
FACILITY_COLOR = "#2b5c8a"


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
    """

    map: folium.Map
    indicator: str
    year: int | None
    lang: str
    n_areas: int
    classification: object | None = None
    counts: dict = field(default_factory=dict)

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
) -> str:
    """Embed an HTML ``document`` as an isolated ``<iframe srcdoc=…>``.

    The document is escaped into the attribute; the frame is sandboxed to
    ``allow-scripts`` (Leaflet runs, but cannot reach the embedding page).

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

    Returns
    -------
    str
        The ``<iframe>`` element.
    """
    e = html.escape
    attrs = f' id="{e(element_id, quote=True)}"' if element_id else ""
    attrs += "".join(
        f' data-k360-{e(str(k), quote=True)}="{e(str(v), quote=True)}"'
        for k, v in (data or {}).items()
    )
    return (
        f'<iframe class="{e(css_class, quote=True)}"{attrs} title="{e(title, quote=True)}" '
        f'sandbox="allow-scripts" loading="eager" '
        f'style="width:100%;height:{e(height, quote=True)};border:0;display:block" '
        f'srcdoc="{e(document, quote=True)}"></iframe>'
    )


def _stable_ids(root) -> None:
    """Give every element a deterministic id, so the same map renders to the same bytes."""
    queue = [root]
    n = 0
    while queue:
        el = queue.pop(0)
        el._id = f"k360{n:04d}"
        n += 1
        queue.extend(el._children.values())
        queue.extend(
            getattr(el, part) for part in ("header", "html", "script") if isinstance(el, Figure)
        )


def _indicator_years(atlas: Atlas, indicator: str) -> list[int]:
    ind = atlas.indicators
    return sorted(int(y) for y in ind.loc[ind["indicator"] == indicator, "year"].unique())


def _need_rank(values, polarity: int | None):
    """Rank 1 = highest need (or highest value when the indicator has no direction); NaN stays NaN."""
    sign = -1.0 if (polarity is not None and polarity < 0) else 1.0
    return (values * sign).rank(method="min", ascending=False)


def _polarity(info: dict) -> int | None:
    p = info.get("polarity")
    try:
        p = int(float(p))
    except (TypeError, ValueError):
        return None
    return p if p in (1, -1) else None


def _district_names(atlas: Atlas) -> dict:
    districts = atlas.meta.get("districts")
    return districts if isinstance(districts, dict) else {}


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
    lang = normalize_lang(lang)
    years = _indicator_years(atlas, indicator)
    if not years:
        raise DataError(
            "atlas.model.unknown_indicator",
            indicator=indicator,
            known=", ".join(atlas.indicator_ids[:30]),
        )
    if year is None:
        year = years[-1]
    elif int(year) not in years:
        raise DataError(
            "atlas.indicators.year_missing",
            indicator=indicator,
            year=year,
            years=", ".join(map(str, years)),
        )
    year = int(year)

    info = atlas.indicator_info(indicator)
    label = atlas.label(indicator, lang)
    unit = str(info.get("unit") or "")
    polarity = _polarity(info)
    kind = info.get("kind")

    # one row per area, in atlas.areas order; small numbers suppressed even when the atlas
    # was built without apply_suppression
    vals = public_values(atlas, indicator, year)
    values = vals["value"].astype(float)
    suppressed = vals["suppressed"].to_numpy(dtype=bool)
    classification = cl.classify(
        values.where(~vals["suppressed"]), scheme=scheme, k=k, breaks=breaks
    )
    pal = palette if palette is not None else cl.default_palette(polarity)
    class_colors = (
        cl.palette_for_need(pal, classification.k, polarity) if isinstance(pal, str) else list(pal)
    )
    cl.colors_for(classification, class_colors, polarity)  # validates the palette length
    decimals = decimals_for(values, kind)
    fmt = number_format(decimals)

    classes = classification.classes.tolist()
    styles, i_supp, i_miss = _area_styles(class_colors)
    style_index = [i_supp if s else (c if c >= 0 else i_miss) for c, s in zip(classes, suppressed)]
    ranks = _need_rank(values.where(~vals["suppressed"]), polarity)
    tooltips = _tooltips(
        atlas, label, unit, year, values, suppressed, ranks, polarity, decimals, lang
    )

    n_supp = int(suppressed.sum())
    n_miss = int(sum(1 for c, s in zip(classes, suppressed) if c < 0 and not s))
    rows = _legend_rows(classification, class_colors, n_supp, n_miss, fmt, lang)
    subtitle = (
        t("maps.legend.subtitle", lang, unit=unit, year=year)
        if unit
        else t("maps.legend.subtitle_no_unit", lang, year=year)
    )
    polarity_text = {
        1: t("maps.polarity.positive", lang),
        -1: t("maps.polarity.negative", lang),
    }.get(polarity, "")
    note = t(
        "maps.legend.note",
        lang,
        scheme=cl.scheme_label(classification.scheme or scheme, lang),
        polarity=polarity_text,
    )

    # --- the map ---------------------------------------------------------------------
    geo = map_geometry(atlas, tolerance_m=tolerance_m)
    south, west, north, east = geo.bounds
    m = OfflineMap(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=12,
        tiles=tiles,
        control_scale=True,
        zoom_snap=0.25,
    )
    root: Figure = m.get_root()
    root.header.add_child(MapStyle(), name="k360_map_style")
    root.html.add_child(
        HatchPattern(
            background=cl.SUPPRESSED_COLOR, stroke=str(cl.SUPPRESSED_HATCH.get("color", "#636363"))
        ),
        name="k360_hatch",
    )
    root.title = html.escape(f"{label} {year}")  # branca does not escape it
    AreaLayer(
        geo.geometries, geo.area_ids, style_index, tooltips, styles, highlight=HIGHLIGHT_STYLE
    ).add_to(m)
    if facilities and len(atlas.facilities):
        n_fac = _add_facilities(m, atlas, lang, cluster)
        rows.append(
            ("k360-swatch-facility", FACILITY_COLOR, t("maps.legend.facilities", lang, n=n_fac))
        )
    Legend(
        label,
        subtitle,
        rows,
        note=note,
        data={
            "indicator": indicator,
            "year": year,
            "areas": len(geo.area_ids),
            "classes": classification.k,
        },
    ).add_to(m)
    if len(geo.area_ids):
        m.fit_bounds([[south, west], [north, east]])
    _stable_ids(root)
    return MapView(
        map=m,
        indicator=indicator,
        year=year,
        lang=lang,
        n_areas=len(geo.area_ids),
        classification=classification,
        counts={
            "classified": int(sum(1 for c in classes if c >= 0)),
            "suppressed": n_supp,
            "missing": n_miss,
        },
    )


def _area_styles(class_colors: list[str]) -> tuple[list[dict], int, int]:
    """Leaflet path styles: one per class, then suppressed (hatched), then missing.

    Returns the styles and the indices of the suppressed and the missing style.
    """
    styles = [
        dict(AREA_STYLE, fillColor=c, className=f"k360-area k360-class-{i}")
        for i, c in enumerate(class_colors)
    ]
    i_supp, i_miss = len(styles), len(styles) + 1
    styles.append(
        dict(
            AREA_STYLE,
            fillColor=f"url(#{HATCH_ID})",
            fillOpacity=1.0,
            dashArray="4 3",
            className="k360-area k360-suppressed",
        )
    )
    styles.append(
        dict(
            AREA_STYLE,
            fillColor=cl.MISSING_COLOR,
            fillOpacity=1.0,
            className="k360-area k360-missing",
        )
    )
    return styles, i_supp, i_miss


def _tooltips(
    atlas, label, unit, year, values, suppressed, ranks, polarity, decimals, lang
) -> list[str]:
    """Tooltip HTML per area (every piece of data escaped): name, district, value, rank, year."""
    e = html.escape
    n_ranked = int(ranks.notna().sum())
    rank_key = "maps.tooltip.rank" if polarity is not None else "maps.tooltip.rank_plain"
    districts = _district_names(atlas)
    areas = atlas.areas
    parents = areas["parent_id"].tolist() if "parent_id" in areas.columns else [None] * len(areas)
    tooltips = []
    for name, parent, value, supp, rank in zip(
        areas["name"].tolist(), parents, values.tolist(), suppressed, ranks.tolist()
    ):
        lines = [f'<div class="k360-tt-name">{e(str(name))}</div>']
        if parent is not None and parent == parent and str(parent) in districts:
            district = t("maps.tooltip.parent", lang, parent=districts[str(parent)])
            lines.append(f'<div class="k360-tt-muted">{e(district)}</div>')
        if supp:
            shown = t(cl.SUPPRESSED_LABEL_KEY, lang)
        elif value is None or not math.isfinite(value):
            shown = t(cl.MISSING_LABEL_KEY, lang)
        else:
            shown = format_value(value, unit, lang, decimals)
        lines.append(f"<div>{e(label)}: <b>{e(shown)}</b></div>")
        meta = [t("maps.tooltip.year", lang, year=year)]
        if rank is not None and rank == rank:
            meta.insert(0, t(rank_key, lang, rank=int(rank), n=n_ranked))
        lines.append(f'<div class="k360-tt-muted">{e(" · ".join(meta))}</div>')
        tooltips.append("".join(lines))
    return tooltips


def _legend_rows(
    classification, class_colors, n_supp: int, n_miss: int, fmt: str, lang: str
) -> list:
    """Legend rows ``(swatch class, CSS background, text)``: classes, suppressed, missing."""
    rows = [
        ("k360-swatch-class", c, lbl)
        for c, lbl in zip(class_colors, classification.legend_labels(fmt, lang))
    ]
    if n_supp:
        hatch = cl.SUPPRESSED_HATCH
        gradient = (
            f"repeating-linear-gradient({int(hatch.get('angle', 45))}deg,"
            f"{cl.SUPPRESSED_COLOR} 0 3px,{hatch.get('color', '#636363')} 3px 4.5px)"
        )
        label = t("maps.legend.count", lang, label=t(cl.SUPPRESSED_LABEL_KEY, lang), n=n_supp)
        rows.append(("k360-swatch-suppressed", gradient, label))
    if n_miss:
        label = t("maps.legend.count", lang, label=t(cl.MISSING_LABEL_KEY, lang), n=n_miss)
        rows.append(("k360-swatch-missing", cl.MISSING_COLOR, label))
    if classification.k == 0:
        rows.insert(0, ("k360-swatch-none", None, t("maps.all_missing", lang)))
    return rows


def _add_facilities(m: OfflineMap, atlas: Atlas, lang: str, cluster: bool) -> int:
    fac = atlas.facilities
    fac = fac[fac.geometry.notna() & ~fac.geometry.is_empty]
    fac = fac[fac.geometry.geom_type == "Point"]
    kinds = (
        atlas.meta.get("facility_kinds")
        if isinstance(atlas.meta.get("facility_kinds"), dict)
        else {}
    )
    e = html.escape
    points = []
    for _, row in fac.iterrows():
        kind = str(row.get("kind") or "")
        kind_label = (
            kinds.get(kind, {}).get(lang, kind) if isinstance(kinds.get(kind), dict) else kind
        )
        tip = f'<div class="k360-tt-name">{e(str(row.get("name") or ""))}</div><div>{e(kind_label)}</div>'
        cap = row.get("capacity")
        try:
            cap_f = float(cap)
        except (TypeError, ValueError):
            cap_f = float("nan")
        if math.isfinite(cap_f):
            tip += f'<div class="k360-tt-muted">{e(t("maps.facility.capacity", lang, capacity=format_value(cap_f, "", lang, 0)))}</div>'
        geom = row.geometry
        points.append((round(geom.y, 5), round(geom.x, 5), tip, 0))
    if cluster:
        m.require(*CLUSTER_ASSETS)
    FacilityLayer(points, [FACILITY_COLOR], cluster=cluster).add_to(m)
    return len(points)
