"""The map of an atlas, drawn once and re-coloured by small *states*.

:class:`AtlasMap` holds what does not change while a user explores a city —
the prepared geometry (:mod:`k360lib.maps.geometry`), area names, the
profile data of the popups, the facility kinds — and renders it as one
offline HTML document (folium/Leaflet, every asset inlined). A
:class:`MapState` is what changes: the classes and fills of one indicator and
year, the value texts of the tooltips, the ranks, the legend, the selected
area and the visible facility kinds. It is a few kilobytes of JSON.

Two ways to show a state:

- **standalone** (:meth:`AtlasMap.document`): the state is embedded in the
  document; this is what :func:`k360lib.maps.choropleth` and the HTML export
  return.
- **live** (the explorer app, :meth:`AtlasMap.channel_state_html`): the
  document is rendered once into an ``<iframe>``; every later state goes into
  a small ``<script type="application/json">`` element in the parent page,
  which the map's script reads and applies (see :mod:`k360lib.maps.client`).
  Why this design: see :mod:`k360lib.widgets.atlas_explorer`.

Every string that reaches HTML is escaped here (legend, layer names, glyphs)
or is inserted as text by the browser script (names, values, tooltips,
profiles).
"""

from __future__ import annotations

import html
import math
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from k360lib.atlas.privacy import public_values
from k360lib.errors import DataError
from k360lib.i18n import normalize_lang, t
from k360lib.maps._lazy import LazyModule
from k360lib.maps.assets import CLUSTER_ASSETS
from k360lib.maps.client import CLIENT_CSS, CLIENT_JS
from k360lib.maps.elements import HATCH_ID, hatch_svg, script_json
from k360lib.maps.format import decimals_for, format_value, number_format
from k360lib.maps.geometry import map_geometry
from k360lib.report.profile import compact_profile, info_of, label_of

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.model import Atlas

#: classification (numpy, mapclassify): imported on first use, so a kernel that shows a
#: stored first view (:mod:`k360lib.maps.snapshot`) does not wait for numpy
cl = LazyModule("k360lib.atlas.classify")

__all__ = [
    "AREA_STYLE",
    "FACILITY_COLORS",
    "AtlasMap",
    "FacilityKind",
    "MapState",
    "legend_html",
]

#: outline and opacity of area polygons
AREA_STYLE: dict = {"color": "#4d4d4d", "weight": 0.8, "opacity": 1.0, "fillOpacity": 0.85}
#: colours of facility kinds: Okabe & Ito's palette, distinguishable with colour-vision deficiency
FACILITY_COLORS: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class FacilityKind:
    """One kind of facility as the map shows it.

    Attributes
    ----------
    key : str
        The ``kind`` value in ``atlas.facilities``.
    label : str
        Label in the map's language.
    color : str
        Fill colour of its markers (``#rrggbb``).
    text_color : str
        Colour of the glyph on the marker (black or white, for contrast).
    glyph : str
        One or two letters on the marker (letters and digits only).
    n : int
        Number of facilities of this kind.
    """

    key: str
    label: str
    color: str
    text_color: str
    glyph: str
    n: int


@dataclass(eq=False)
class MapState:
    """What a map shows at one moment (fills, texts, legend, selection).

    Attributes
    ----------
    indicator : str
        Indicator id (or a pseudo id such as ``"__need_index__"``).
    year : int or None
        Year shown.
    lang : str
        Language of all texts.
    label, unit : str
        Indicator label and unit.
    n_areas : int
        Number of areas.
    classification : Classification
        Classes of the values.
    class_colors : list of str
        Fill colour per class.
    style_index : list of int
        Index into :attr:`styles` per area.
    styles : list of dict
        Leaflet path options per class, then suppressed, then missing; ``cls`` holds CSS classes.
    values_text : list of str
        Tooltip value per area (formatted, or "zu wenige Fälle"/"keine Daten").
    ranks : list of int
        Need rank per area (1 = most need), 0 where there is none.
    counts : dict
        Areas per state: ``classified``, ``suppressed``, ``missing``.
    legend : str
        Inner HTML of the legend (escaped).
    selected : int
        Index of the highlighted area, -1 for none.
    zoom, popup : bool
        Whether the map zooms to the selected area and opens its profile.
    kinds : list of int
        Indices of the facility kinds shown.
    seq : int
        Sequence number (set by whoever publishes states; the browser applies
        a state when the number changes).
    """

    indicator: str
    year: int | None
    lang: str
    label: str
    unit: str
    n_areas: int
    classification: object
    class_colors: list
    style_index: list
    styles: list
    values_text: list
    ranks: list
    n_ranked: int
    rank_text: str
    counts: dict
    legend: str
    scheme: str = "quantiles"
    selected: int = -1
    zoom: bool = True
    kinds: list = field(default_factory=list)
    seq: int = 0
    popup: bool = True

    def to_dict(self) -> dict:
        """Return the state as the browser script reads it."""
        return {
            "seq": int(self.seq),
            "label": self.label,
            "year": self.year,
            "year_text": t("maps.tooltip.year", self.lang, year=self.year)
            if self.year is not None
            else "",
            "styles": self.styles,
            "s": [int(s) for s in self.style_index],
            "v": list(self.values_text),
            "r": [int(r) for r in self.ranks],
            "rank_text": self.rank_text,
            "legend": self.legend,
            "sel": int(self.selected),
            "zoom": bool(self.zoom),
            "popup": bool(self.popup),
            "kinds": [int(k) for k in self.kinds],
            "data": {
                "indicator": self.indicator,
                "year": "" if self.year is None else self.year,
                "areas": self.n_areas,
                "classes": getattr(self.classification, "k", 0),
            },
        }

    def to_json(self) -> str:
        """Return :meth:`to_dict` as JSON that is safe inside ``<script>``."""
        return script_json(self.to_dict())

    def area_class(self, index: int) -> str:
        """Return ``"class-<i>"``, ``"suppressed"`` or ``"missing"`` for area ``index``."""
        cls = self.styles[self.style_index[index]]["cls"]
        return cls.split("k360-", 1)[-1].split(" ")[0]


def legend_html(title: str, subtitle: str, rows, note: str | None = None) -> str:
    """Return the inner HTML of a legend; every text is escaped here.

    Parameters
    ----------
    title, subtitle : str
        Plain text.
    rows : list of tuple
        ``(swatch_css_class, css_background or None, label)``; ``label`` plain text.
    note : str, optional
        Plain text under the rows.
    """
    e = html.escape
    items = []
    for css, colour, label in rows:
        style = f' style="background:{e(colour, quote=True)}"' if colour else ""
        items.append(
            f'<li><span class="k360-swatch {e(css, quote=True)}"{style}></span>'
            f"<span>{e(str(label))}</span></li>"
        )
    note_html = f'<div class="k360-legend-note">{e(note)}</div>' if note else ""
    return (
        f'<div class="k360-legend-title">{e(title)}</div>'
        f'<div class="k360-legend-sub">{e(subtitle)}</div>'
        f"<ul>{''.join(items)}</ul>{note_html}"
    )


def _glyphs(labels: list[str]) -> list[str]:
    """One or two letters per label, unique where possible (initials, then first letters)."""
    out: list[str] = []
    for label in labels:
        words = [w for w in re.split(r"[^\w]+", label) if w and w[0].isalpha()]
        candidates = []
        if words:
            candidates.append(words[0][0].upper())
            if len(words) > 1:
                candidates.append((words[0][0] + words[1][0]).upper())
            candidates.append(words[0][:2].capitalize())
        candidates.append(str(len(out) + 1))
        glyph = next((c for c in candidates if c not in out), candidates[-1])
        out.append("".join(ch for ch in glyph if ch.isalnum())[:2] or "?")
    return out


def _text_color(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if lum > 0.55 else "#ffffff"


def _polarity(info: dict) -> int | None:
    p = info.get("polarity")
    try:
        p = int(float(p))
    except (TypeError, ValueError):
        return None
    return p if p in (1, -1) else None


def _layer(config_json: str):
    """Return the folium element that starts the browser script with the map's data."""
    from branca.element import MacroElement
    from folium.template import Template

    class K360AtlasLayer(MacroElement):
        _template = Template(
            """
            {% macro script(this, kwargs) %}
            k360map.init({{ this._parent.get_name() }}, {{ this.config_json }});
            {% endmacro %}
            """
        )

        def __init__(self, config_json: str):
            super().__init__()
            self._name = "K360AtlasLayer"
            self.config_json = config_json

    return K360AtlasLayer(config_json)


class AtlasMap:
    """Everything about an atlas' map that does not change between indicators.

    Parameters
    ----------
    atlas : Atlas
        Areas, indicators, catalog, facilities.
    lang : str, optional
        Language of every text in the map; default the UI language.
    tiles : str or folium.TileLayer, optional
        Basemap (the only part that needs the network); default none.
    tolerance_m : float, optional
        Simplification tolerance (see :func:`k360lib.maps.geometry.map_geometry`).
    profile_indicators : list of str, optional
        Indicators in the area-profile popups; default
        :func:`k360lib.report.profile.default_profile_indicators`; ``[]`` for no profile.
    cluster : bool, default True
        Cluster facility markers (Leaflet.markercluster, inlined).

    Examples
    --------
    >>> from k360lib.atlas.demo import demo_atlas
    >>> amap = AtlasMap(demo_atlas(), lang="en")
    >>> state = amap.state("sgb2_u15_rate", 2024, scheme="fisher_jenks", k=4)
    >>> state.classification.k, len(state.style_index)
    (4, 24)
    """

    def __init__(
        self,
        atlas: Atlas,
        lang: str | None = None,
        *,
        tiles=None,
        tolerance_m: float | None = None,
        profile_indicators: list[str] | None = None,
        cluster: bool = True,
    ):
        self.atlas = atlas
        self.lang = normalize_lang(lang)
        self.tiles = tiles
        self.cluster = bool(cluster)
        self.geometry = map_geometry(atlas, tolerance_m=tolerance_m)
        self.area_ids: list[str] = list(self.geometry.area_ids)
        self.names: list[str] = [str(n) for n in atlas.areas["name"].tolist()]
        self.districts: list[str] = self._district_names()
        self.parents: list[str] = [
            t("maps.tooltip.parent", self.lang, parent=d) if d else "" for d in self.districts
        ]
        self._profile_indicators = profile_indicators
        self._profile: dict | None = None
        self.kinds: list[FacilityKind] = self._facility_kinds()
        self._live_doc: str | None = None
        self._fac_points: dict[int, list] | None = None
        self._fac_groups: list[str] | None = None

    @property
    def profile(self) -> dict | None:
        """Area profile data of the popups (:func:`k360lib.report.profile.profile_data`), on first use."""
        if self._profile is None and self._profile_indicators != []:
            from k360lib.report.profile import profile_data

            self._profile = profile_data(self.atlas, self._profile_indicators, self.lang)
        return self._profile

    # -- static parts ------------------------------------------------------------------
    def _district_names(self) -> list[str]:
        """District (Stadtbezirk) name per area, ``""`` where there is none."""
        areas = self.atlas.areas
        districts = self.atlas.meta.get("districts")
        districts = districts if isinstance(districts, dict) else {}
        if "parent_id" not in areas.columns:
            return [""] * len(areas)
        out = []
        for p in areas["parent_id"].tolist():
            if p is None or p != p or str(p).strip() == "":
                out.append("")
            else:
                out.append(str(districts.get(str(p), str(p))))
        return out

    def _facility_kinds(self) -> list[FacilityKind]:
        fac = self.atlas.facilities
        if fac is None or len(fac) == 0 or "kind" not in fac.columns:
            return []
        counts = fac["kind"].fillna("").astype(str).value_counts()
        meta = self.atlas.meta.get("facility_kinds")
        meta = meta if isinstance(meta, dict) else {}
        order = [k for k in meta if k in counts.index]
        order += [k for k in counts.index if k not in order]
        labels = []
        for key in order:
            entry = meta.get(key)
            label = entry.get(self.lang, key) if isinstance(entry, dict) else key
            labels.append(str(label or key or "–"))
        glyphs = _glyphs(labels)
        out = []
        for i, (key, label, glyph) in enumerate(zip(order, labels, glyphs)):
            colour = FACILITY_COLORS[i % len(FACILITY_COLORS)]
            out.append(
                FacilityKind(key, label, colour, _text_color(colour), glyph, int(counts[key]))
            )
        return out

    def facility_groups(self) -> list[str]:
        """Distinct target groups of the facilities (popups refer to them by index)."""
        if self._fac_groups is None:
            fac = self.atlas.facilities
            if fac is None or "target_group" not in fac.columns:
                self._fac_groups = []
            else:
                texts = [
                    str(g).strip() for g in fac["target_group"].tolist() if g is not None and g == g
                ]
                self._fac_groups = list(dict.fromkeys(g for g in texts if g))
        return self._fac_groups

    def facility_points(self, kinds=None) -> dict[int, list]:
        """Return ``{kind index: [[lat, lon, name, capacity, group index], ...]}`` for ``kinds``.

        ``kinds`` are indices into :attr:`kinds` (default all). Points outside
        EPSG:4326 are reprojected; missing geometries are skipped.
        """
        if self._fac_points is None:
            fac = self.atlas.facilities
            index = {k.key: i for i, k in enumerate(self.kinds)}
            points: dict[int, list] = {i: [] for i in range(len(self.kinds))}
            groups = {g: i for i, g in enumerate(self.facility_groups())}
            if len(self.kinds):
                fac = fac[fac.geometry.notna() & ~fac.geometry.is_empty]
                fac = fac[fac.geometry.geom_type == "Point"]
                if fac.crs is not None and fac.crs.to_epsg() != 4326:
                    fac = fac.to_crs(4326)
                caps = fac["capacity"].tolist() if "capacity" in fac.columns else [None] * len(fac)
                tgs = (
                    fac["target_group"].tolist()
                    if "target_group" in fac.columns
                    else [None] * len(fac)
                )
                for kind, name, cap, tg, geom in zip(
                    fac["kind"].fillna("").astype(str).tolist(),
                    fac["name"].tolist() if "name" in fac.columns else [""] * len(fac),
                    caps,
                    tgs,
                    fac.geometry,
                ):
                    try:
                        cap_f = float(cap)
                    except (TypeError, ValueError):
                        cap_f = float("nan")
                    g = groups.get(str(tg).strip(), -1) if tg is not None and tg == tg else -1
                    points[index[kind]].append(
                        [
                            round(float(geom.y), 5),
                            round(float(geom.x), 5),
                            "" if name is None or name != name else str(name),
                            round(cap_f, 1) if math.isfinite(cap_f) else None,
                            g,
                        ]
                    )
            self._fac_points = points
        wanted = range(len(self.kinds)) if kinds is None else kinds
        return {int(k): self._fac_points[int(k)] for k in wanted if int(k) in self._fac_points}

    # -- states ------------------------------------------------------------------------
    def state(
        self,
        indicator: str,
        year: int | None = None,
        scheme: str = "quantiles",
        k: int = 5,
        palette: str | list[str] | None = None,
        breaks=None,
        *,
        selected: str | int | None = None,
        kinds=(),
        zoom: bool = True,
        note: str | None = None,
    ) -> MapState:
        """Return the state that shows ``indicator`` in ``year``.

        Parameters
        ----------
        indicator : str
            Indicator id.
        year : int, optional
            Default the latest year the indicator has.
        scheme, k, palette, breaks
            Classification (see :func:`k360lib.atlas.classify.classify`) and
            colours (a ColorBrewer name oriented by polarity, or one colour per class).
        selected : str or int, optional
            Area id (or index) to highlight, zoom to and open the profile of.
        kinds : iterable of int
            Facility kinds to show (indices into :attr:`kinds`).
        zoom : bool, default True
            Zoom to the selected area.
        note : str, optional
            Text under the legend; default the scheme and the polarity.

        Raises
        ------
        DataError
            Unknown indicator, a year without values, invalid classification or palette.
        """
        atlas = self.atlas
        ind = atlas.indicators
        years = sorted(int(y) for y in ind.loc[ind["indicator"] == indicator, "year"].unique())
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
        info = info_of(atlas, indicator)
        # one row per area; small numbers are suppressed even when the atlas was built
        # without apply_suppression
        vals = public_values(atlas, indicator, int(year))
        return self.values_state(
            vals["value"].astype(float).tolist(),
            suppressed=vals["suppressed"].astype(bool).tolist(),
            indicator=indicator,
            label=label_of(atlas, indicator, self.lang),
            unit=str(info.get(f"unit_{self.lang}") or info.get("unit") or ""),
            polarity=_polarity(info),
            kind=info.get("kind"),
            year=int(year),
            scheme=scheme,
            k=k,
            palette=palette,
            breaks=breaks,
            selected=selected,
            kinds=kinds,
            zoom=zoom,
            note=note,
        )

    def values_state(
        self,
        values,
        *,
        indicator: str,
        label: str,
        unit: str = "",
        polarity: int | None = 1,
        kind: str | None = None,
        year: int | None = None,
        suppressed=None,
        scheme: str = "quantiles",
        k: int = 5,
        palette: str | list[str] | None = None,
        breaks=None,
        selected: str | int | None = None,
        kinds=(),
        zoom: bool = True,
        note: str | None = None,
    ) -> MapState:
        """Return a state for any values, one per area in ``atlas.areas`` order.

        Use this for values that are not stored in the atlas (e.g. a need
        index). Values must already be safe to show: suppressed entries are
        given by ``suppressed`` and never drawn.
        """
        lang = self.lang
        n = len(self.area_ids)
        import pandas as pd

        values = pd.Series([float("nan") if v is None else float(v) for v in values])
        if len(values) != n:
            raise ValueError(f"need one value per area ({n}), got {len(values)}")
        supp = [bool(s) for s in (suppressed if suppressed is not None else [False] * n)]
        shown = values.where(~pd.Series(supp))
        classification = cl.classify(shown, scheme=scheme, k=k, breaks=breaks)
        pal = palette if palette is not None else cl.default_palette(polarity)
        class_colors = (
            cl.palette_for_need(pal, classification.k, polarity)
            if isinstance(pal, str)
            else list(pal)
        )
        cl.colors_for(classification, class_colors, polarity)  # validates the palette length
        for c in class_colors:
            if not isinstance(c, str) or not _HEX.match(c):
                raise DataError("maps.bad_color", color=str(c))
        decimals = decimals_for(values, kind)
        fmt = number_format(decimals)
        classes = classification.classes.tolist()
        styles = [
            dict(AREA_STYLE, fillColor=c, cls=f"k360-class-{i}") for i, c in enumerate(class_colors)
        ]
        i_supp, i_miss = len(styles), len(styles) + 1
        styles.append(
            dict(
                AREA_STYLE,
                fillColor=f"url(#{HATCH_ID})",
                fillOpacity=1.0,
                dashArray="4 3",
                cls="k360-suppressed",
            )
        )
        styles.append(
            dict(AREA_STYLE, fillColor=cl.MISSING_COLOR, fillOpacity=1.0, cls="k360-missing")
        )
        style_index = [i_supp if s else (c if c >= 0 else i_miss) for c, s in zip(classes, supp)]
        sign = -1.0 if (polarity is not None and polarity < 0) else 1.0
        ranks_f = (shown * sign).rank(method="min", ascending=False)
        ranks = [0 if r != r else int(r) for r in ranks_f.tolist()]
        n_ranked = sum(1 for r in ranks if r)
        supp_text = t(cl.SUPPRESSED_LABEL_KEY, lang)
        miss_text = t(cl.MISSING_LABEL_KEY, lang)
        values_text = [
            supp_text
            if s
            else (miss_text if v != v else format_value(v, unit, lang, decimals) or miss_text)
            for v, s in zip(values.tolist(), supp)
        ]
        rank_key = "maps.tooltip.rank" if polarity is not None else "maps.tooltip.rank_plain"
        rank_text = t(rank_key, lang, rank="{rank}", n=n_ranked)

        n_supp = int(sum(supp))
        n_miss = int(sum(1 for c, s in zip(classes, supp) if c < 0 and not s))
        rows = _legend_rows(classification, class_colors, n_supp, n_miss, fmt, lang)
        sel = self._area_index(selected)
        for ki in kinds:
            kd = self.kinds[int(ki)]
            rows.append(
                (
                    f"k360-swatch-facility k360-fac-swatch-{int(ki)}",
                    kd.color,
                    t("maps.legend.facility_kind", lang, kind=kd.label, n=kd.n),
                )
            )
        subtitle = (
            t("maps.legend.subtitle", lang, unit=unit, year=year)
            if unit and year is not None
            else (t("maps.legend.subtitle_no_unit", lang, year=year) if year is not None else unit)
        )
        if note is None:
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
        return MapState(
            indicator=indicator,
            year=year,
            lang=lang,
            label=label,
            unit=unit,
            n_areas=n,
            classification=classification,
            class_colors=class_colors,
            style_index=style_index,
            styles=styles,
            values_text=values_text,
            ranks=ranks,
            n_ranked=n_ranked,
            rank_text=rank_text,
            counts={
                "classified": int(sum(1 for c in classes if c >= 0)),
                "suppressed": n_supp,
                "missing": n_miss,
            },
            legend=legend_html(label, subtitle, rows, note),
            scheme=classification.scheme or scheme,
            selected=sel,
            zoom=zoom,
            kinds=sorted({int(x) for x in kinds}),
        )

    def _area_index(self, selected) -> int:
        if selected is None or selected == "" or selected == -1:
            return -1
        if isinstance(selected, int) and not isinstance(selected, bool):
            if not 0 <= selected < len(self.area_ids):
                raise DataError("report.unknown_area", area=str(selected), n=len(self.area_ids))
            return selected
        try:
            return self.area_ids.index(str(selected))
        except ValueError:
            raise DataError(
                "report.unknown_area", area=str(selected), n=len(self.area_ids)
            ) from None

    # -- documents ---------------------------------------------------------------------
    def _parent_index(self) -> list[int]:
        names = {p: i for i, p in enumerate(dict.fromkeys(p for p in self.parents if p))}
        return [names[p] if p else -1 for p in self.parents]

    def _config(self, state: MapState | None, facilities, profile: bool = True) -> dict:
        lang = self.lang
        fac = None
        if self.kinds:
            points = None
            if facilities == "all":
                points = self.facility_points()
            elif facilities not in (None, "none", False):
                points = self.facility_points(list(facilities))
            fac = {
                "cluster": self.cluster,
                "kinds": [
                    {
                        "label": k.label,
                        "glyph": html.escape(k.glyph),
                        "layer_html": (
                            f'<span class="k360-layer-swatch" style="background:{k.color}"></span>'
                            f"{html.escape(k.label)} ({k.n})"
                        ),
                    }
                    for k in self.kinds
                ],
                "groups": self.facility_groups(),
                "points": points,
            }
        return {
            "locale": "de-DE" if lang == "de" else "en-US",
            "topo": {
                "scale": self.geometry.topology["scale"],
                "arcs": self.geometry.topology["arcs"],
                "areas": self.geometry.topology["areas"],
            },
            "ids": self.area_ids,
            "names": self.names,
            "parent_names": list(dict.fromkeys(p for p in self.parents if p)),
            "parent_idx": self._parent_index(),
            "profile": compact_profile(self.profile) if (profile and self.profile) else None,
            "facilities": fac,
            "layer_control": True,
            "state": state.to_dict() if state is not None else None,
            "i18n": {
                "suppressed": t(cl.SUPPRESSED_LABEL_KEY, lang),
                "missing": t(cl.MISSING_LABEL_KEY, lang),
                "profile_title": t("maps.profile.title", lang),
                "profile_note": t("maps.profile.note", lang),
                "col_indicator": t("maps.profile.indicator", lang),
                "col_area": t("maps.profile.area", lang),
                "col_city": t("maps.profile.city", lang),
                "col_trend": t("maps.profile.trend", lang),
                "worse": t("maps.profile.worse", lang),
                "better": t("maps.profile.better", lang),
                "capacity": t("maps.facility.capacity", lang, capacity="{capacity}"),
                "areas_layer": html.escape(
                    str(self.atlas.meta.get(f"area_label_{lang}") or t("maps.layer.areas", lang))
                ),
            },
        }

    def folium_map(
        self,
        state: MapState | None,
        *,
        facilities="none",
        title: str | None = None,
        profile: bool = True,
    ):
        """Return the folium map (an :class:`~k360lib.maps.assets.OfflineMap`) showing ``state``.

        Parameters
        ----------
        state : MapState
            What to show first.
        facilities : "all", "none" or iterable of int
            Facility points embedded in the document; the live app sends them
            later through its channel instead.
        title : str, optional
            Document title (plain text).
        profile : bool, default True
            Embed the area profiles of the popups (a live map gets them later).
        """
        from branca.element import Element

        from k360lib.maps.offline import OfflineMap

        south, west, north, east = self.geometry.bounds
        m = OfflineMap(
            location=[(south + north) / 2, (west + east) / 2],
            zoom_start=12,
            tiles=self.tiles,
            control_scale=True,
            zoom_snap=0.25,
            prefer_canvas=False,
        )
        if self.kinds:
            m.require(*CLUSTER_ASSETS)
        root = m.get_root()
        kind_css = "".join(
            f".k360-fac-{i} span,.k360-cluster-{i} div{{background:{k.color};color:{k.text_color};}}"
            f".k360-fac-swatch-{i}{{border-radius:50%;}}"
            for i, k in enumerate(self.kinds)
        )
        root.header.add_child(
            Element(f"<style>{CLIENT_CSS}{kind_css}</style>"), name="k360_client_css"
        )
        root.header.add_child(
            Element(f'<script data-k360-asset="client_js">{CLIENT_JS}</script>'),
            name="k360_client_js",
        )
        root.html.add_child(
            Element(
                hatch_svg(cl.SUPPRESSED_COLOR, str(cl.SUPPRESSED_HATCH.get("color", "#636363")))
            ),
            name="k360_hatch",
        )
        if title is None:
            title = f"{state.label} {state.year or ''}".strip() if state else self.atlas.name
        root.title = html.escape(title or "k360")
        _layer(script_json(self._config(state, facilities, profile))).add_to(m)
        _stable_ids(root)
        return m

    def document(
        self,
        state: MapState | None,
        *,
        facilities="none",
        title: str | None = None,
        profile: bool = True,
    ) -> str:
        """Return one standalone HTML document showing ``state`` (see :meth:`folium_map`)."""
        return (
            self.folium_map(state, facilities=facilities, title=title, profile=profile)
            .get_root()
            .render()
        )

    def live_document(self) -> str:
        """Return the document of a *live* map: geometry, names and code, but no data.

        Fills, profiles and facility points reach it later through the page
        (:meth:`channel_state_html`, :meth:`channel_profile_html`,
        :meth:`channel_facilities_html`). Because it holds nothing that changes,
        it is rendered once per dataset and language and cached on disk next
        to the geometry: a new kernel serving the same city needs neither
        folium nor the rendering time.
        """
        if self._live_doc is not None:
            return self._live_doc
        from k360lib.maps.geometry import cache_dir

        folder = cache_dir()
        key = self._live_key() if folder is not None and self.geometry.key else None
        path = folder.parent / "documents" / f"{key}.html" if key else None
        if path is not None and path.is_file():
            try:
                self._live_doc = path.read_text(encoding="utf-8")
                return self._live_doc
            except OSError:
                pass
        doc = self.document(None, profile=False)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(doc, encoding="utf-8")
                os.replace(tmp, path)
            except OSError:  # a read-only cache folder must not break maps
                pass
        self._live_doc = doc
        return doc

    def _live_key(self) -> str:
        import hashlib
        import importlib.metadata as md

        cfg = self._config(None, "none", profile=False)
        cfg.pop("topo")
        h = hashlib.sha256()
        h.update(self.geometry.key.encode())
        h.update(script_json(cfg).encode())
        h.update(repr(self.tiles).encode())
        h.update(CLIENT_JS.encode())
        h.update(CLIENT_CSS.encode())
        for dist in ("folium", "branca", "xstatic-leaflet", "xstatic-leaflet-markercluster"):
            try:
                h.update(f"{dist}={md.version(dist)};".encode())
            except md.PackageNotFoundError:
                h.update(f"{dist}=?;".encode())
        return h.hexdigest()[:32]

    # -- live channel ------------------------------------------------------------------
    @staticmethod
    def channel_state_html(channel: str, state: MapState) -> str:
        """Return the value of the widget that carries ``state`` to a live map.

        A ``<script type="application/json">`` element (never executed) with id
        ``<channel>-state`` and ``data-seq`` = ``state.seq``.
        """
        ch = html.escape(channel, quote=True)
        return (
            f'<script type="application/json" id="{ch}-state" data-seq="{int(state.seq)}">'
            f"{state.to_json()}</script>"
        )

    def channel_profile_html(self, channel: str, seq: int = 1) -> str:
        """Return the value of the widget that carries the area profiles (popups) to live maps."""
        ch = html.escape(channel, quote=True)
        data = compact_profile(self.profile) if self.profile else None
        return (
            f'<script type="application/json" id="{ch}-profile" data-seq="{int(seq)}">'
            f"{script_json(data)}</script>"
        )

    def channel_facilities_html(self, channel: str, kinds, seq: int) -> str:
        """Return the value of the widget that carries facility points of ``kinds`` to a live map."""
        ch = html.escape(channel, quote=True)
        data = {str(k): v for k, v in self.facility_points(list(kinds)).items()}
        data["groups"] = self.facility_groups()
        return (
            f'<script type="application/json" id="{ch}-fac" data-seq="{int(seq)}">'
            f"{script_json(data)}</script>"
        )


def _legend_rows(classification, class_colors, n_supp: int, n_miss: int, fmt: str, lang: str):
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


def _stable_ids(root) -> None:
    """Give every element a deterministic id, so the same map renders to the same bytes."""
    from branca.element import Figure

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


def values_frame(state: MapState, atlas: Atlas) -> pd.DataFrame:
    """Return a state's per-area table: id, name, value text, class, rank (for exports)."""
    import pandas as pd

    return pd.DataFrame(
        {
            "area_id": list(atlas.areas["area_id"].astype(str)),
            "name": list(atlas.areas["name"].astype(str)),
            "value_text": state.values_text,
            "class": [state.area_class(i) for i in range(state.n_areas)],
            "rank": [r or None for r in state.ranks],
        }
    )
