"""The atlas app: pick an indicator, year and classification; see the map.

One class, Voilà-gallery style: widgets are private, :attr:`AtlasExplorer.container`
is what a notebook shows. No business logic lives here: the map comes from
:func:`k360lib.maps.choropleth`, the data from the :class:`~k360lib.atlas.model.Atlas`.

The map is an ``<iframe srcdoc=…>`` inside an :class:`ipywidgets.HTML` (not an
``Output`` widget: Voilà can hang on the first render of a large ``Output``,
voila issue #1428). The iframe isolates Leaflet from the page.

Examples
--------
>>> app = AtlasExplorer.demo(lang="en")
>>> app.view.n_areas
24
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as W

from k360lib.atlas import classify as cl
from k360lib.errors import DataError, K360Error
from k360lib.i18n import normalize_lang, t
from k360lib.maps import MapView, choropleth

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.atlas.model import Atlas

__all__ = ["MAP_FRAME_ID", "SCHEME_CHOICES", "AtlasExplorer"]

#: ``id`` of the map's iframe (end-to-end tests find the map by it)
MAP_FRAME_ID = "k360-atlas-map"
#: classification schemes offered in the app, in this order (those the registry has)
SCHEME_CHOICES: tuple[str, ...] = (
    "quantiles",
    "equal_interval",
    "fisher_jenks",
    "jenks_caspall",
    "std_mean",
)
#: kinds of indicator preferred as the first one shown (first rate, else first share)
_PREFERRED_KINDS = ("rate", "share")

_CSS = """<style>
.k360-app h2.k360-title{margin:0 0 4px 0;font-size:1.5em;font-weight:600;}
.k360-app .k360-disclaimer{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;margin:4px 0 8px 0;
 font-size:0.92em;color:#333;}
.k360-app .k360-error{background:#fdecea;border-left:4px solid #c62828;padding:6px 10px;margin:4px 0;color:#611a15;}
.k360-app .k360-info{font-size:0.9em;color:#444;margin:4px 0;}
</style>"""


class AtlasExplorer:
    """Explore the indicators of an atlas on a map.

    Parameters
    ----------
    atlas : Atlas
        The city's areas, indicators and catalog.
    lang : str, optional
        UI language (``"de"``/``"en"``); default the current UI language
        (``$K360_LANG`` or German).
    title : str, optional
        Heading; default "Sozialraum-Atlas <city>" (``atlas.name``).
    indicator : str, optional
        Indicator shown first; default the first rate or share in the catalog.
    map_height : str, default "600px"
        CSS height of the map.

    Attributes
    ----------
    container : ipywidgets.VBox
        The whole app; the last line of a notebook shows it.
    """

    def __init__(
        self,
        atlas: Atlas,
        lang: str | None = None,
        title: str | None = None,
        indicator: str | None = None,
        map_height: str = "600px",
    ):
        self.atlas = atlas
        self.lang = normalize_lang(lang)
        self._map_height = map_height
        self._view: MapView | None = None
        self._busy = False
        lang = self.lang

        city = atlas.name
        heading = title or (
            t("widgets.atlas.title", lang, city=city)
            if city
            else t("widgets.atlas.title_plain", lang)
        )
        header = f'{_CSS}<h2 class="k360-title">{html.escape(heading)}</h2>'
        disclaimer = atlas.meta.get(f"disclaimer_{lang}") or atlas.meta.get("disclaimer_de")
        if atlas.meta.get("fictional") and disclaimer:
            header += (
                f'<div class="k360-disclaimer" role="note">{html.escape(str(disclaimer))}</div>'
            )
        self._header = W.HTML(header)

        options = self._indicator_options()
        wide = {"description_width": "initial"}
        self._indicator = W.Dropdown(
            options=options,
            value=self._first_indicator(indicator, [v for _, v in options]),
            description=t("widgets.atlas.indicator", lang),
            style=wide,
            layout=W.Layout(width="34em"),
        )
        years = self._years(self._indicator.value)
        self._year = W.SelectionSlider(
            options=years or [0],
            value=years[-1] if years else 0,
            description=t("widgets.atlas.year", lang),
            continuous_update=False,
            style=wide,
            layout=W.Layout(width="20em"),
        )
        self._scheme = W.Dropdown(
            options=[(cl.scheme_label(s, lang), s) for s in SCHEME_CHOICES if s in cl.SCHEMES],
            value="quantiles",
            description=t("widgets.atlas.scheme", lang),
            style=wide,
            layout=W.Layout(width="31em"),
        )
        self._k = W.IntSlider(
            value=5,
            min=3,
            max=7,
            description=t("widgets.atlas.k", lang),
            continuous_update=False,
            style=wide,
            layout=W.Layout(width="16em"),
        )
        self._facilities = W.Checkbox(
            value=False,
            description=t("widgets.atlas.facilities", lang),
            indent=False,
            disabled=len(atlas.facilities) == 0,
            layout=W.Layout(width="auto"),
        )
        self._status = W.HTML("")
        self._map = W.HTML("", layout=W.Layout(width="100%"))
        self._info = W.HTML("")
        for widget in (self._indicator, self._year, self._scheme, self._k, self._facilities):
            widget.layout.margin = "2px 16px 2px 0"
            widget.observe(self._on_change, names=["value"])

        controls = W.HBox(
            [self._indicator, self._year, self._scheme, self._k, self._facilities],
            layout=W.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.container = W.VBox(
            [self._header, controls, self._status, self._map, self._info],
            layout=W.Layout(width="100%", max_width="1400px"),
        )
        self.container.add_class("k360-app")
        self.container.add_class("k360-atlas-explorer")
        if not options:
            self._status.value = self._message_html(t("widgets.atlas.no_indicators", lang))
            for widget in (self._indicator, self._year, self._scheme, self._k, self._facilities):
                widget.disabled = True
        else:
            self._render()

    # -- alternate constructors -------------------------------------------------
    @classmethod
    def demo(cls, lang: str | None = None) -> AtlasExplorer:
        """Return the app on the fictional demo city (with its disclaimer)."""
        from k360lib.atlas.demo import demo_atlas

        return cls(demo_atlas(), lang=lang)

    # -- read-only state -----------------------------------------------------------
    @property
    def view(self) -> MapView | None:
        """The map currently shown (``None`` before the first successful render)."""
        return self._view

    # -- helpers ---------------------------------------------------------------------
    def _indicator_options(self) -> list[tuple[str, str]]:
        """``(label, id)`` per indicator, grouped by theme (catalog order of themes)."""
        atlas, lang = self.atlas, self.lang
        theme_col = f"theme_{lang}" if f"theme_{lang}" in atlas.catalog.columns else "theme"
        show_theme = theme_col != "theme" or lang == "de"  # themes are German unless translated
        rows = []
        theme_order: dict[str, int] = {}
        for i, ind in enumerate(atlas.indicator_ids):
            info = atlas.indicator_info(ind)
            theme = str(info.get(theme_col) or info.get("theme") or "")
            theme_order.setdefault(theme, len(theme_order))
            label = atlas.label(ind, lang)
            text = f"{theme}: {label}" if (theme and show_theme) else label
            rows.append((theme_order[theme], i, text, ind))
        return [(text, ind) for _, _, text, ind in sorted(rows)]

    def _first_indicator(self, wanted: str | None, ids: list[str]) -> str | None:
        if wanted is not None:
            if wanted not in ids:
                raise DataError(
                    "atlas.model.unknown_indicator",
                    indicator=wanted,
                    known=", ".join(self.atlas.indicator_ids[:30]),
                )
            return wanted
        for kind in _PREFERRED_KINDS:
            for ind in ids:
                if self.atlas.indicator_info(ind).get("kind") == kind:
                    return ind
        return ids[0] if ids else None

    def _years(self, indicator: str | None) -> list[int]:
        if indicator is None:
            return []
        ind = self.atlas.indicators
        return sorted(int(y) for y in ind.loc[ind["indicator"] == indicator, "year"].unique())

    def _message_html(self, text: str) -> str:
        return f'<div class="k360-error" role="alert">{html.escape(text)}</div>'

    # -- events ------------------------------------------------------------------------
    def _on_change(self, change) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            if change["owner"] is self._indicator:
                years = self._years(self._indicator.value)
                keep = self._year.value if self._year.value in years else years[-1]
                self._year.options = years
                self._year.value = keep
            self._k.disabled = not cl.SCHEMES[self._scheme.value].uses_k
        finally:
            self._busy = False
        self._render()

    def _render(self) -> None:
        lang = self.lang
        indicator, year = self._indicator.value, int(self._year.value)
        try:
            view = choropleth(
                self.atlas,
                indicator,
                year,
                scheme=self._scheme.value,
                k=int(self._k.value),
                lang=lang,
                facilities=bool(self._facilities.value),
            )
        except K360Error as err:  # a user-caused problem: say what, keep the last map
            self._status.value = self._message_html(
                t("widgets.error", lang, message=err.message(lang))
            )
            return
        self._view = view
        self._status.value = ""
        label = self.atlas.label(indicator, lang)
        self._map.value = view.iframe(
            height=self._map_height,
            title=t("widgets.atlas.map_title", lang, label=label, year=year),
            element_id=MAP_FRAME_ID,
        )
        info = self.atlas.indicator_info(indicator)
        # catalog descriptions are German unless the catalog has a translated column
        desc = info.get(f"description_{lang}") or (
            info.get("description") if lang == "de" else None
        )
        parts = [str(desc or "")]
        if info.get("source"):
            parts.append(t("widgets.atlas.source", lang, source=info["source"]))
        self._info.value = (
            f'<div class="k360-info">{html.escape(" · ".join(p for p in parts if p))}</div>'
        )
