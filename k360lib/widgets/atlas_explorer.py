"""The atlas app: explore indicators on a map, weigh a need index, find hotspots, export.

One class, Voilà-gallery style: widgets are private, :attr:`AtlasExplorer.container`
is what a notebook shows. No business logic lives here: maps come from
:mod:`k360lib.maps`, the need index from :mod:`k360lib.atlas.indicators`,
profiles, hotspots and exports from :mod:`k360lib.report`.

Fast switching — the design and why
-----------------------------------
Target: after choosing another indicator, year or classification the new
fills must appear within 0.4 s, on 550 areas with ~200 vertices each.

Re-rendering the map means sending and parsing ~0.5 MB (geometry + Leaflet)
and rebuilding every polygon — about a second in the app, like a re-render
of ``explore()`` output. So the map is drawn **once** and afterwards only a
*state* (class per area, value texts, ranks, legend; ~11 kB for 550 areas)
travels. The question is how a state reaches a drawn map in Voilà 0.5 /
ipywidgets 8 without writing a custom JavaScript widget:

- scripts inside an ``ipywidgets.HTML`` value do not run (``innerHTML``);
- ``<style>`` in an ``HTML`` widget does apply — but only to the page, and
  Leaflet needs JavaScript, which must run somewhere;
- the parent page cannot ``postMessage`` into the map without its own script;
- any change of the ``HTML`` widget holding the ``<iframe>`` replaces the
  iframe (a full reload).

What works: the map runs in an ``<iframe srcdoc>`` whose sandbox allows
``allow-same-origin``, so **the map's own script may read its parent page**.
The explorer keeps the iframe's widget unchanged and writes each new state
into a second, hidden ``HTML`` widget as ``<script type="application/json"
id="<channel>-state" data-seq="n">`` (inert data, never executed). The map
script watches the page with a ``MutationObserver`` and applies the state
when ``data-seq`` changes (:mod:`k360lib.maps.client`). Measured in Chromium
on the Berlin-sized city (``bench/atlas.py``): about 0.1 s from choosing an
indicator to painted fills, against ~0.6 s for the browser alone to render
``explore()`` output again and ~1.1 s for this app re-rendering its map
(``live=False``).

The price of ``allow-same-origin``: the frame's script could reach the page.
k360 writes the whole frame document itself and every data string in it is
escaped (or inserted as text by the script), so no data can run code there.

The frame document itself holds **no data that changes**: geometry, names
and code only (:meth:`k360lib.maps.AtlasMap.live_document`). States,
area profiles (popups) and facility points (only the kinds switched on)
arrive through channel widgets. So the document is rendered once per dataset
and cached on disk; a new kernel serving the same city needs neither folium
nor the rendering time. ``live=False`` falls back to re-rendering the whole
frame (for front ends that isolate the page).

Fast start — the page load
--------------------------
Opened on an atlas *folder* (``AtlasExplorer("city")``), the explorer stores
its first view — header, control options, the map frame and its first state
— keyed by the folder's bytes, the code and the options
(:mod:`k360lib.maps.snapshot`). A kernel that finds it shows it at once,
without pandas, geopandas or numpy (about 0.1 s of CPU instead of ~0.8 s),
and loads the data in a background thread (``k360-atlas-loader``); every
control waits for that data before it acts. Nothing else runs in the kernel
while the page loads: the live map clicks a hidden button once it is drawn
(:meth:`AtlasExplorer._on_drawn`), and only then does the kernel load the
data and build what the first map does not need — need index, ranking,
hotspots, the tabs below the map (after :data:`DRAWN_TIMEOUT_S` without that
click it starts anyway). Widgets are created on the kernel's main thread
only (:func:`_later`): ipywidgets reads its widget registry while it answers
the page. An :class:`~k360lib.atlas.model.Atlas` object still works as
before (no snapshot: the data is already loaded).

The map is in an ``ipywidgets.HTML`` value, never in an ``Output`` widget:
Voilà can hang on the first render of a large ``Output`` (voila issue #1428).

Examples
--------
>>> app = AtlasExplorer.demo(lang="en")
>>> app.view.n_areas
24
>>> app.set_weights({"sgb2_u15_rate": 3})
>>> app.need.weights["sgb2_u15_rate"] > 0.2
True
"""

from __future__ import annotations

import copy
import html
import logging
import math
import os
import re
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import ipywidgets as W

from k360lib.errors import DataError, K360Error
from k360lib.i18n import normalize_lang, t
from k360lib.maps import AtlasMap, MapState, srcdoc_iframe
from k360lib.maps._lazy import LazyModule
from k360lib.maps.snapshot import (
    files_fingerprint,
    load_snapshot,
    snapshot_key,
    snapshot_path,
    store_snapshot,
)
from k360lib.report.profile import info_of, label_of, sources_of, text_of

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.indicators import NeedIndex
    from k360lib.atlas.model import Atlas

__all__ = [
    "MAP_FRAME_ID",
    "NEED_INDEX",
    "SCHEME_CHOICES",
    "AtlasExplorer",
]

log = logging.getLogger("k360.widgets")
#: classification (numpy): imported on first use, not before a stored first view is shown
cl = LazyModule("k360lib.atlas.classify")

#: ``id`` of the map's iframe (end-to-end tests find the map by it)
MAP_FRAME_ID = "k360-atlas-map"
#: ``id`` of the comparison map's iframe
COMPARE_FRAME_ID = "k360-atlas-compare"
#: pseudo indicator id of the need index in the indicator picker
NEED_INDEX = "__need_index__"
#: classification schemes offered in the app, in this order (those the registry has)
SCHEME_CHOICES: tuple[str, ...] = (
    "quantiles",
    "equal_interval",
    "fisher_jenks",
    "natural_breaks",
    "std_mean",
    "user_defined",
)
#: kinds of indicator preferred as the first one shown (first rate, else first share)
_PREFERRED_KINDS = ("rate", "share")
#: rows shown in the ranking and hotspot tables (exports hold all)
TABLE_ROWS = 15
#: weights a slider offers
MAX_WEIGHT = 3.0
#: kind of the explorer's first-view snapshots (see :mod:`k360lib.maps.snapshot`)
SNAPSHOT_KIND = "atlas_explorer"
#: seconds a kernel waits for the browser's "map drawn" before it builds the panels anyway
DRAWN_TIMEOUT_S = 10.0

_CSS = """<style>
.k360-app h2.k360-title{margin:0 0 4px 0;font-size:1.5em;font-weight:600;}
.k360-app .k360-disclaimer{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;margin:4px 0 8px 0;
 font-size:0.92em;color:#333;}
.k360-app .k360-error{background:#fdecea;border-left:4px solid #c62828;padding:6px 10px;margin:4px 0;color:#611a15;}
.k360-app .k360-info{font-size:0.9em;color:#444;margin:4px 0;}
.k360-app .k360-hint{font-size:0.88em;color:#555;margin:2px 0 6px 0;}
.k360-app table.k360-table{border-collapse:collapse;font-size:0.9em;margin:4px 0;}
.k360-app table.k360-table th{text-align:left;border-bottom:1px solid #999;padding:2px 8px 2px 0;font-weight:600;}
.k360-app table.k360-table td{border-bottom:1px solid #e3e3e3;padding:2px 8px 2px 0;}
.k360-app table.k360-table td.num{text-align:right;}
.k360-app table.k360-table tr.k360-hot td{background:#fde0c5;}
.k360-app .k360-worse{color:#b35806;font-weight:600;} .k360-app .k360-better{color:#2166ac;font-weight:600;}
.k360-app .k360-download a{display:inline-block;margin:4px 8px 4px 0;padding:3px 8px;border:1px solid #2b5c8a;
 border-radius:3px;color:#2b5c8a;text-decoration:none;}
.k360-app .k360-maps{display:flex;gap:8px;}
.k360-app .k360-channel{display:none;}
</style>"""


def _esc(value) -> str:
    return html.escape(str(value))


class AtlasExplorer:
    """Explore the indicators of an atlas on a map, weigh a need index, find hotspots.

    Parameters
    ----------
    atlas : Atlas or path-like
        The city's areas, indicators, catalog and facilities, or an atlas
        folder (:meth:`k360lib.atlas.model.Atlas.save`): then a kernel shows
        the stored first view of that folder before the data is loaded (see
        "Fast start" above).
    lang : str, optional
        UI language (``"de"``/``"en"``); default the current UI language
        (``$K360_LANG`` or German).
    title : str, optional
        Heading; default "Sozialraum-Atlas <city>" (``atlas.name``).
    indicator : str, optional
        Indicator shown first; default the first rate or share in the catalog.
    map_height : str, default "600px"
        CSS height of the map.
    live : bool, default True
        Send only small states to the drawn map (see the module docstring);
        ``False`` re-renders the whole map on every change.
    tiles : str, optional
        Basemap (needs the network); default none.
    defer : bool, optional
        Load the data behind a stored first view and build the panels (need
        index, hotspots, area profiles) after the map is drawn, so the map
        appears sooner; :meth:`wait_ready` waits for them. Default: when
        running in a kernel with ``live`` maps.
    year : int, optional
        Year shown first; default the indicator's latest year.

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
        *,
        live: bool = True,
        tiles=None,
        defer: bool | None = None,
        year: int | None = None,
    ):
        self._init_fields(lang, map_height, live)
        lang = self.lang
        if defer is None:
            defer = self._live and _in_kernel()
        snapshot = key = None
        if isinstance(atlas, (str, os.PathLike)):
            # a folder: a kernel may show the stored first view before the data is loaded
            self._folder = Path(atlas)
            key = self._snapshot_key(title, indicator, year, map_height, tiles)
            if defer and self._live and key is not None:
                snapshot = self._valid_snapshot(load_snapshot(SNAPSHOT_KIND, key))
            if snapshot is None:
                from k360lib.atlas.model import Atlas

                atlas = Atlas.load(self._folder)
        if snapshot is None:
            self._attach(atlas, tiles)
            spec = self._spec(title, indicator, year)
        else:
            spec = snapshot["spec"]
        self._header = W.HTML(spec["header"])
        self._first = (spec["indicator"], int(spec["year"]))

        # -- map controls --------------------------------------------------------------
        options = [(str(text), str(ind)) for text, ind in spec["indicators"]]
        wide = {"description_width": "initial"}
        self._indicator = W.Dropdown(
            options=options,
            value=spec["indicator"],
            description=t("widgets.atlas.indicator", lang),
            style=wide,
            layout=W.Layout(width="36em"),
        )
        years = [int(y) for y in spec["years"]]
        self._year = W.SelectionSlider(
            options=years or [0],
            value=int(spec["year"]),
            description=t("widgets.atlas.year", lang),
            continuous_update=False,
            style=wide,
            layout=W.Layout(width="20em"),
        )
        self._scheme = W.Dropdown(
            options=[(str(label), str(key)) for label, key in spec["schemes"]],
            value="quantiles",
            description=t("widgets.atlas.scheme", lang),
            style=wide,
            layout=W.Layout(width="31em"),
        )
        self._k = W.IntSlider(
            value=5,
            min=2,
            max=int(spec["max_classes"]),
            description=t("widgets.atlas.k", lang),
            continuous_update=False,
            style=wide,
            layout=W.Layout(width="16em"),
        )
        self._palette = W.Dropdown(
            options=[(str(label), str(name)) for label, name in spec["palettes"]],
            value="",
            description=t("widgets.atlas.palette", lang),
            style=wide,
            layout=W.Layout(width="26em"),
        )
        self._breaks = W.Text(
            value="",
            placeholder=t("widgets.atlas.breaks_placeholder", lang),
            description=t("widgets.atlas.breaks", lang),
            continuous_update=False,
            style=wide,
            layout=W.Layout(width="24em", display="none"),
        )
        self._kind_boxes = [
            W.Checkbox(
                value=False,
                description=str(description),
                indent=False,
                layout=W.Layout(width="auto", margin="0 14px 0 0"),
            )
            for description in spec["kinds"]
        ]
        for i, box in enumerate(self._kind_boxes):
            box.add_class("k360-kind")
            box.add_class(f"k360-kind-{i}")
        self._status = W.HTML("")
        self._map = W.HTML("", layout=W.Layout(width="100%"))
        self._map.add_class("k360-map")
        self._compare_map = W.HTML("", layout=W.Layout(width="50%", display="none"))
        self._compare_map.add_class("k360-compare-map")
        self._channel_state = W.HTML("")
        self._channel_fac = W.HTML("")
        self._channel_profile = W.HTML("")
        self._compare_channel_state = W.HTML("")
        # the live map clicks this hidden button once it is drawn (see _on_drawn)
        self._drawn = W.Button(description="", tooltip="")
        self._drawn.add_class(f"{self._channel}-drawn")
        self._drawn.on_click(self._on_drawn)
        channels = W.Box(
            [
                self._channel_state,
                self._channel_fac,
                self._channel_profile,
                self._compare_channel_state,
                self._drawn,
            ]
        )
        channels.add_class("k360-channel")
        self._info = W.HTML("")

        # -- hooks for end-to-end tests and custom CSS ------------------------------------------
        for widget, cls in (
            (self._indicator, "k360-indicator"),
            (self._year, "k360-year"),
            (self._scheme, "k360-scheme"),
            (self._k, "k360-k"),
            (self._palette, "k360-palette"),
            (self._breaks, "k360-breaks"),
            (self._status, "k360-status"),
        ):
            widget.add_class(cls)

        # -- layout ------------------------------------------------------------------------
        map_controls = [self._indicator, self._year, self._scheme, self._k, self._palette]
        for widget in (*map_controls, self._breaks):
            widget.layout.margin = "2px 16px 2px 0"
        row1 = W.HBox(
            [self._indicator, self._year],
            layout=W.Layout(flex_flow="row wrap", align_items="center"),
        )
        row2 = W.HBox(
            [self._scheme, self._k, self._palette, self._breaks],
            layout=W.Layout(flex_flow="row wrap", align_items="center"),
        )
        kinds_row = W.HBox(
            [
                W.HTML(f"<b>{_esc(t('widgets.atlas.facilities', lang))}:</b>&nbsp;"),
                *self._kind_boxes,
            ],
            layout=W.Layout(
                flex_flow="row wrap",
                align_items="center",
                display="flex" if self._kind_boxes else "none",
            ),
        )
        maps = W.HBox([self._map, self._compare_map], layout=W.Layout(width="100%"))
        self._loading = W.HTML(
            f'<div class="k360-hint">{_esc(t("widgets.atlas.loading_panels", lang))}</div>'
        )
        self.container = W.VBox(
            [
                self._header,
                row1,
                row2,
                kinds_row,
                self._status,
                maps,
                channels,
                self._info,
                self._loading,
            ],
            layout=W.Layout(width="100%", max_width="1400px"),
        )
        self.container.add_class("k360-app")
        self.container.add_class("k360-atlas-explorer")

        # -- events --------------------------------------------------------------------------
        for widget in (*map_controls, self._breaks):
            widget.observe(self._on_map_change, names=["value"])
        for box in self._kind_boxes:
            box.observe(self._on_kinds, names=["value"])

        # -- first render --------------------------------------------------------------------
        if not options:
            self._status.value = self._message_html(t("widgets.atlas.no_indicators", lang))
            for widget in (*map_controls, *self._kind_boxes):
                widget.disabled = True
            self._loaded.set()
            self._ready.set()
            return
        if snapshot is not None:
            # the stored first view goes to the page now; the data follows (see _load)
            self._show_snapshot(snapshot)
            self._loader = threading.Thread(
                target=self._load, args=(tiles,), name="k360-atlas-loader", daemon=True
            )
        else:
            self._guard(self._render_map, True)
            self._loaded.set()
            if key is not None and self._state is not None and not self._status.value:
                store_snapshot(SNAPSHOT_KIND, key, self._first_view(spec))
        # the rest (loading the data behind a snapshot, the panels) is not needed to see
        # the map; in a kernel it starts when the browser reports the map drawn
        if not defer:
            self._start_background()
        elif self._live and _in_kernel():
            timer = threading.Timer(DRAWN_TIMEOUT_S, _later, args=(self._on_timeout,))
            timer.daemon = True
            timer.start()
        else:
            _later(self._start_background)

    # -- start-up ------------------------------------------------------------------------------
    def _init_fields(self, lang: str | None, map_height: str, live: bool) -> None:
        self.lang = normalize_lang(lang)
        self.atlas: Atlas | None = None
        self.amap: AtlasMap | None = None
        self._folder: Path | None = None
        self._map_height = map_height
        self._live = bool(live)
        self._channel = f"k360-{uuid.uuid4().hex[:12]}"
        self._compare_channel = self._channel + "-b"
        self._seq = 0
        self._fac_seq = 0
        self._fac_sent: set[int] = set()
        self._hold = False
        self._state: MapState | None = None
        self._compare_state: MapState | None = None
        self._need: NeedIndex | None = None
        self._hotspots: pd.DataFrame | None = None
        self._supply_label = ""
        self._selected = -1
        self._cache: dict = {}
        self._need_candidates: list[str] = []
        self._lock = threading.RLock()
        self._loaded = threading.Event()  # atlas, map and first state are there
        self._load_error: str | None = None
        self._ready = threading.Event()  # the panels are built too
        self._panels = False
        self._loader: threading.Thread | None = None  # loads the data behind a snapshot
        self._start_lock = threading.Lock()
        self._started: set[str] = set()
        self._panels_wanted = threading.Event()

    def _attach(self, atlas: Atlas, tiles) -> None:
        """Take the data: the map's static parts and the need-index candidates."""
        from k360lib.report.profile import default_profile_indicators

        self.atlas = atlas
        self.amap = AtlasMap(atlas, self.lang, tiles=tiles)
        # need-index candidates: rates and shares with a direction (counts grow with size)
        self._need_candidates = [
            i
            for i in default_profile_indicators(atlas, limit=len(atlas.indicator_ids))
            if info_of(atlas, i).get("kind") not in ("count", "capacity")
            and _polarity(atlas, i) != 0
        ]

    def _spec(self, title: str | None, indicator: str | None, year: int | None) -> dict:
        """Return what the header and the map controls show first (plain JSON: snapshots keep it)."""
        atlas, lang = self.atlas, self.lang
        city = atlas.name
        heading = title or (
            t("widgets.atlas.title", lang, city=city)
            if city
            else t("widgets.atlas.title_plain", lang)
        )
        header = f'{_CSS}<h2 class="k360-title">{_esc(heading)}</h2>'
        disclaimer = atlas.meta.get(f"disclaimer_{lang}") or atlas.meta.get("disclaimer_de")
        if atlas.meta.get("fictional") and disclaimer:
            header += f'<div class="k360-disclaimer" role="note">{_esc(disclaimer)}</div>'
        options = self._indicator_options()
        first = self._first_indicator(indicator, [v for _, v in options])
        years = self._years(first)
        return {
            "header": header,
            "indicators": [[text, ind] for text, ind in options],
            "indicator": first,
            "years": years,
            "year": (year if year in years else years[-1]) if years else 0,
            "kinds": [t("widgets.atlas.kind", lang, kind=k.label, n=k.n) for k in self.amap.kinds],
            "schemes": [[cl.scheme_label(s, lang), s] for s in SCHEME_CHOICES if s in cl.SCHEMES],
            "max_classes": cl.MAX_CLASSES,
            "palettes": [[t("widgets.atlas.palette_auto", lang), ""]]
            + [
                [
                    t(
                        "widgets.atlas.palette_safe"
                        if info.colorblind_safe
                        else "widgets.atlas.palette_unsafe",
                        lang,
                        name=name,
                    ),
                    name,
                ]
                for name, info in cl.PALETTES.items()
            ],
        }

    def _snapshot_key(self, title, indicator, year, map_height, tiles) -> str | None:
        """Key of this app's first view: the folder's bytes, the code, the options (or None)."""
        from k360lib.atlas.model import (
            AREAS_FILE,
            CATALOG_FILE,
            FACILITIES_FILE,
            INDICATORS_FILE,
            META_FILE,
        )

        if tiles is not None and not isinstance(tiles, str):
            return None  # a tile layer object has no stable key
        if snapshot_path(SNAPSHOT_KIND, "x") is None:
            return None  # caching is off
        files = (AREAS_FILE, INDICATORS_FILE, CATALOG_FILE, FACILITIES_FILE, META_FILE)
        options = {
            "lang": self.lang,
            "title": title,
            "indicator": indicator,
            "year": None if year is None else int(year),
            "map_height": map_height,
            "tiles": tiles,
            "live": self._live,
        }
        return snapshot_key(files_fingerprint(self._folder, files), options)

    def _first_view(self, spec: dict) -> dict:
        """Return the snapshot of the first view (see :mod:`k360lib.maps.snapshot`)."""
        return {
            "spec": spec,
            "channel": self._channel,
            "map": self._map.value,
            "state": self._channel_state.value,
            "info": self._info.value,
            "seq": self._seq,
        }

    @staticmethod
    def _valid_snapshot(snapshot: dict | None) -> dict | None:
        keys = {"spec", "channel", "map", "state", "info", "seq"}
        if not isinstance(snapshot, dict) or not keys <= set(snapshot):
            return None
        spec = snapshot["spec"]
        need = {"header", "indicators", "indicator", "years", "year", "kinds", "schemes"}
        need |= {"max_classes", "palettes"}
        if not isinstance(spec, dict) or not need <= set(spec) or not spec["indicators"]:
            return None
        return snapshot

    def _show_snapshot(self, snapshot: dict) -> None:
        """Show a stored first view, its channel renamed to this app's (attributes only)."""
        old = str(snapshot["channel"])

        def rename(value: str, end: str) -> str:
            head, sep, rest = str(value).partition(end)
            return head.replace(old, self._channel) + sep + rest

        self._map.value = rename(snapshot["map"], ' srcdoc="')
        self._channel_state.value = rename(snapshot["state"], ">")
        self._info.value = str(snapshot["info"])
        self._seq = int(snapshot["seq"])

    def _load(self, tiles) -> None:
        """Load the data behind a shown snapshot (background thread), then finish as usual.

        No widget is created here (ipywidgets reads its registry of widgets
        while answering the page, see :func:`_later`); if the state computed
        from the data differs from the stored one, the new one is sent.
        """
        try:
            from k360lib.atlas.model import Atlas

            with self._lock:
                self._attach(Atlas.load(self._folder), tiles)
                # the first view's state (the controls' initial values), whatever the user
                # has chosen meanwhile: a waiting handler renders that next
                indicator, year = self._first
                state = self.amap.state(
                    indicator, year, "quantiles", 5, None, None, selected=-1, kinds=(), note=None
                )
                state.seq = self._seq
                self._state = state
                if self._live and AtlasMap.channel_state_html(self._channel, state) != (
                    self._channel_state.value
                ):
                    self._seq += 1
                    state.seq = self._seq
                    self._channel_state.value = AtlasMap.channel_state_html(self._channel, state)
        except Exception as err:  # noqa: BLE001 - shown in the app, logged with traceback
            log.exception("k360 explorer: loading %s failed", self._folder)
            message = (
                err.message(self.lang)
                if isinstance(err, K360Error)
                else f"{type(err).__name__}: {err}"
            )
            self._load_error = message
            self._status.value = self._message_html(t("widgets.error", self.lang, message=message))
            self._loaded.set()
            self._ready.set()
            return
        self._loaded.set()
        _ = self.amap.profile  # computed here, off the kernel's main thread
        if self._panels_wanted.is_set():
            _later(self._complete)

    def _once(self, what: str) -> bool:
        with self._start_lock:
            if what in self._started:
                return False
            self._started.add(what)
            return True

    def _start_loading(self) -> None:
        """Start loading the data behind a shown snapshot (once; nothing to do otherwise)."""
        if self._loader is not None and self._once("load"):
            self._loader.start()

    def _start_background(self) -> None:
        """Start what the first view does not need: the data behind a snapshot, the panels.

        Runs when the browser reports the map drawn (:meth:`_on_drawn`), after
        :data:`DRAWN_TIMEOUT_S` without that report, or at once outside a
        kernel. Until then the kernel stays idle, so the page it serves does
        not wait for the interpreter lock or share the processor with it.
        """
        self._panels_wanted.set()
        self._start_loading()  # the panels follow the data (see _load)
        if self._loaded.is_set():
            self._complete()

    def _on_timeout(self) -> None:
        """No "map drawn" within :data:`DRAWN_TIMEOUT_S`: start anyway.

        A preheated kernel (Voilà's pool) runs before any page exists: it only
        loads the data, and builds the panels when its page's map is drawn, so
        that page does not receive them in its first message.
        """
        if os.environ.get("VOILA_PREHEAT") == "True":
            self._start_loading()
        else:
            self._start_background()

    def _on_drawn(self, _button=None) -> None:
        """Start the rest: the live map is drawn (its script clicked the hidden button)."""
        self._start_background()

    def _wait_loaded(self) -> bool:
        """Wait until the data is loaded; ``False`` if loading failed."""
        self._start_loading()
        self._loaded.wait()
        return self._load_error is None

    def _complete(self) -> None:
        """Build the panels, once (in a kernel on its main thread: see :func:`_later`)."""
        with self._lock:
            if not self._ready.is_set():
                self._guard(self._finish)

    def _finish(self) -> None:
        """Build what the first map does not need: the panels, need index, hotspots, profiles."""
        try:
            self._build_panels()
            self._panels = True
            self._update_compare_widgets()
            self._update_need()
            if self._live:
                self._channel_profile.value = self.amap.channel_profile_html(self._channel)
            self.container.children = (*self.container.children[:-1], self._tabs)
        finally:
            self._ready.set()

    def _build_panels(self) -> None:
        """Create the tabs below the map: need index, hotspots, area, comparison, export."""
        from k360lib.report.hotspots import supply_options

        lang, atlas = self.lang, self.atlas
        wide = {"description_width": "initial"}
        options = list(self._indicator.options)
        years = self._years(self._indicator.value)

        # -- need index ----------------------------------------------------------------
        self._weights: dict[str, W.FloatSlider] = {}
        weight_rows = []
        for ind in self._need_candidates:
            slider = W.FloatSlider(
                value=1.0,
                min=0.0,
                max=MAX_WEIGHT,
                step=0.5,
                continuous_update=False,
                readout_format=".1f",
                layout=W.Layout(width="16em"),
            )
            slider.add_class("k360-weight")
            self._weights[ind] = slider
            label = W.HTML(
                f'<span title="{_esc(ind)}">{_esc(label_of(atlas, ind, lang))}</span>',
                layout=W.Layout(width="24em"),
            )
            row = W.HBox([label, slider])
            row.add_class(f"k360-weight-{ind}")
            weight_rows.append(row)
        self._need_explain = W.HTML("")
        self._ranking = W.HTML("")
        need_box = W.VBox(
            [
                W.HTML(f'<div class="k360-hint">{_esc(t("widgets.need.hint", lang))}</div>'),
                W.VBox(weight_rows),
                self._need_explain,
                self._ranking,
            ]
        )
        need_box.add_class("k360-need-panel")

        # -- hotspots --------------------------------------------------------------------
        sup_opts = supply_options(atlas, lang)
        self._supply = W.Dropdown(
            options=sup_opts or [("–", "")],
            value=sup_opts[0][1] if sup_opts else "",
            description=t("widgets.hot.supply", lang),
            style=wide,
            layout=W.Layout(width="34em"),
            disabled=not sup_opts,
        )
        self._sort = W.Dropdown(
            options=[
                (t("widgets.hot.sort.gap", lang), "gap"),
                (t("widgets.hot.sort.need", lang), "need_score"),
                (t("widgets.hot.sort.supply", lang), "supply"),
                (t("widgets.hot.sort.name", lang), "name"),
            ],
            value="gap",
            description=t("widgets.hot.sort", lang),
            style=wide,
            layout=W.Layout(width="22em"),
        )
        self._descending = W.Checkbox(
            value=True, description=t("widgets.hot.descending", lang), indent=False
        )
        self._only_hot = W.Checkbox(
            value=False, description=t("widgets.hot.only", lang), indent=False
        )
        self._hot_table = W.HTML("")
        self._hot_csv = W.Button(
            description=t("widgets.export.hot_csv", lang), icon="", layout=W.Layout(width="auto")
        )
        self._hot_xlsx = W.Button(
            description=t("widgets.export.hot_xlsx", lang), layout=W.Layout(width="auto")
        )
        self._hot_links = W.HTML("")
        hot_box = W.VBox(
            [
                W.HTML(f'<div class="k360-hint">{_esc(t("widgets.hot.hint", lang))}</div>'),
                W.HBox(
                    [self._supply, self._sort, self._descending, self._only_hot],
                    layout=W.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self._hot_table,
                W.HBox([self._hot_csv, self._hot_xlsx]),
                self._hot_links,
            ]
        )
        hot_box.add_class("k360-hot-panel")

        # -- area search and profile ----------------------------------------------------
        self._area_options = self._make_area_options()
        self._search = W.Combobox(
            value="",
            options=list(self._area_options),
            placeholder=t("widgets.area.placeholder", lang),
            description=t("widgets.area.search", lang),
            ensure_option=True,
            continuous_update=False,
            style=wide,
            layout=W.Layout(width="30em"),
        )
        self._search.add_class("k360-area-search")
        self._clear = W.Button(
            description=t("widgets.area.clear", lang), layout=W.Layout(width="auto")
        )
        self._profile = W.HTML(f'<div class="k360-hint">{_esc(t("widgets.area.none", lang))}</div>')
        self._sb_button = W.Button(
            description=t("widgets.export.profile", lang),
            disabled=True,
            layout=W.Layout(width="auto"),
        )
        self._sb_link = W.HTML("")
        area_box = W.VBox(
            [
                W.HBox([self._search, self._clear]),
                self._profile,
                W.HBox([self._sb_button]),
                self._sb_link,
            ]
        )
        area_box.add_class("k360-area-panel")

        # -- comparison --------------------------------------------------------------------
        self._compare_mode = W.ToggleButtons(
            options=[
                (t("widgets.compare.off", lang), "off"),
                (t("widgets.compare.indicator", lang), "indicator"),
                (t("widgets.compare.year", lang), "year"),
            ],
            value="off",
            description=t("widgets.compare.mode", lang),
            style={"description_width": "initial", "button_width": "auto"},
        )
        self._compare_indicator = W.Dropdown(
            options=[o for o in options if o[1] != NEED_INDEX],
            description=t("widgets.compare.with_indicator", lang),
            style=wide,
            layout=W.Layout(width="36em"),
        )
        self._compare_year = W.Dropdown(
            options=years or [0],
            value=years[0] if years else 0,
            description=t("widgets.compare.with_year", lang),
            style=wide,
            layout=W.Layout(width="16em"),
        )
        compare_box = W.VBox(
            [
                W.HTML(f'<div class="k360-hint">{_esc(t("widgets.compare.hint", lang))}</div>'),
                self._compare_mode,
                self._compare_indicator,
                self._compare_year,
            ]
        )
        compare_box.add_class("k360-compare-panel")

        # -- exports ----------------------------------------------------------------------------
        self._ex_map = W.Button(
            description=t("widgets.export.map", lang), layout=W.Layout(width="auto")
        )
        self._ex_csv = W.Button(
            description=t("widgets.export.csv", lang), layout=W.Layout(width="auto")
        )
        self._ex_xlsx = W.Button(
            description=t("widgets.export.xlsx", lang), layout=W.Layout(width="auto")
        )
        self._ex_profile = W.Button(
            description=t("widgets.export.profile", lang),
            disabled=True,
            layout=W.Layout(width="auto"),
        )
        self._ex_links = W.HTML("")
        export_box = W.VBox(
            [
                W.HTML(f'<div class="k360-hint">{_esc(t("widgets.export.hint", lang))}</div>'),
                W.HBox([self._ex_map, self._ex_csv, self._ex_xlsx, self._ex_profile]),
                self._ex_links,
            ]
        )
        export_box.add_class("k360-export-panel")

        self._tabs = W.Tab(children=[need_box, hot_box, area_box, compare_box, export_box])
        for i, key in enumerate(("need", "hot", "area", "compare", "export")):
            self._tabs.set_title(i, t(f"widgets.tab.{key}", lang))
        self._tabs.add_class("k360-tabs")

        for widget, cls in (
            (self._supply, "k360-supply"),
            (self._sort, "k360-sort"),
            (self._only_hot, "k360-only-hot"),
            (self._compare_mode, "k360-compare-mode"),
            (self._compare_indicator, "k360-compare-indicator"),
            (self._compare_year, "k360-compare-year"),
            (self._ex_map, "k360-export-map"),
            (self._ex_csv, "k360-export-csv"),
            (self._ex_xlsx, "k360-export-xlsx"),
            (self._ex_profile, "k360-export-profile"),
            (self._ex_links, "k360-export-links"),
            (self._sb_button, "k360-profile-export"),
            (self._hot_csv, "k360-hot-csv"),
            (self._hot_links, "k360-hot-links"),
            (self._profile, "k360-profile"),
            (self._ranking, "k360-ranking-widget"),
            (self._hot_table, "k360-hot-table"),
        ):
            widget.add_class(cls)

        for slider in self._weights.values():
            slider.observe(self._on_weights, names=["value"])
        for widget in (self._supply, self._sort, self._descending, self._only_hot):
            widget.observe(self._on_hot_change, names=["value"])
        self._search.observe(self._on_search, names=["value"])
        self._clear.on_click(lambda _b: self.select_area(None))
        for widget in (self._compare_mode, self._compare_indicator, self._compare_year):
            widget.observe(self._on_compare, names=["value"])
        self._ex_map.on_click(lambda _b: self._guard(self._offer_map))
        self._ex_csv.on_click(lambda _b: self._guard(self._offer_table, "csv"))
        self._ex_xlsx.on_click(lambda _b: self._guard(self._offer_table, "xlsx"))
        self._ex_profile.on_click(lambda _b: self._guard(self._offer_profile, self._ex_links))
        self._sb_button.on_click(lambda _b: self._guard(self._offer_profile, self._sb_link))
        self._hot_csv.on_click(lambda _b: self._guard(self._offer_hotspots, "csv"))
        self._hot_xlsx.on_click(lambda _b: self._guard(self._offer_hotspots, "xlsx"))

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the data is loaded and the panels are built (they may follow in the background).

        Builds the panels right here when they are only waiting for their
        turn on the kernel's main thread (a cell that calls this would
        otherwise block that turn).
        """
        if not self._ready.is_set():
            self._start_loading()
            if not self._loaded.wait(timeout):
                return False
            self._complete()
        return self._ready.wait(timeout)

    def relaunch_kwargs(self) -> dict:
        """Return the choices to keep when the app is built again (``AppShell``'s switch)."""
        indicator = self._indicator.value
        if indicator is None or indicator == NEED_INDEX:  # the index needs the panels first
            return {}
        return {"indicator": indicator, "year": int(self._year.value)}

    def close(self, timeout: float = 10.0) -> None:
        """Close the app's widgets (after the background panels are done, at most ``timeout`` s)."""
        self.wait_ready(timeout)
        stack, seen = [self.container, getattr(self, "_tabs", None)], set()
        while stack:
            widget = stack.pop()
            if widget is None or id(widget) in seen:
                continue
            seen.add(id(widget))
            stack.extend(getattr(widget, "children", ()) or ())
            widget.close()

    # -- alternate constructors -------------------------------------------------------------
    @classmethod
    def demo(cls, lang: str | None = None, **kwargs) -> AtlasExplorer:
        """Return the app on the fictional demo city (with its disclaimer).

        In a kernel the committed demo folder is opened as a folder, so a
        stored first view can be shown before the data is loaded.
        """
        from k360lib.atlas.demo import demo_atlas, demo_data_dir
        from k360lib.atlas.model import AREAS_FILE

        folder = demo_data_dir()
        if _in_kernel() and (folder / AREAS_FILE).is_file():
            return cls(folder, lang=lang, **kwargs)
        return cls(demo_atlas(), lang=lang, **kwargs)

    # -- read-only state ------------------------------------------------------------------------
    @property
    def view(self) -> MapState | None:
        """The state the map shows (``None`` before the first successful render)."""
        self._wait_loaded()
        return self._state

    @property
    def compare_view(self) -> MapState | None:
        """The state of the comparison map (``None`` when comparison is off)."""
        return self._compare_state if self._compare_mode.value != "off" else None

    @property
    def need(self) -> NeedIndex | None:
        """The need index with the current weights."""
        return self._need

    @property
    def hotspot_frame(self) -> pd.DataFrame | None:
        """All areas with need, supply, gap and hotspot flag (sorted by gap)."""
        return self._hotspots

    @property
    def channel(self) -> str:
        """Id prefix of the page elements that carry states to the live map."""
        return self._channel

    # -- public actions ---------------------------------------------------------------------------
    def set_weights(self, weights: dict[str, float]) -> None:
        """Set need-index weights (indicator id -> weight); others keep theirs."""
        self.wait_ready()
        unknown = [k for k in weights if k not in self._weights]
        if unknown:
            raise DataError(
                "atlas.indicators.unknown",
                unknown=", ".join(unknown),
                known=", ".join(self._weights),
            )
        self._hold = True
        try:
            for k, v in weights.items():
                self._weights[k].value = float(v)
        finally:
            self._hold = False
        self._guard(self._on_weights_now)

    def select_area(self, area_id: str | None) -> None:
        """Highlight ``area_id`` on the map and show its profile (``None`` clears)."""
        self.wait_ready()
        if area_id is None:
            self._selected = -1
            self._hold = True
            try:
                self._search.value = ""
            finally:
                self._hold = False
        else:
            self._selected = self.amap._area_index(str(area_id))
        self._guard(self._after_selection)

    def export_map(self, path: str | Path | None = None) -> str:
        """Return (and write to ``path``) the current map as one standalone HTML file."""
        self.wait_ready()
        kinds = self._kinds_on()
        doc = self.amap.document(self._state, facilities=kinds, title=self._map_title())
        if path is not None:
            Path(path).write_text(doc, encoding="utf-8")
        return doc

    def export_table(self, fmt: str = "xlsx", path: str | Path | None = None) -> bytes:
        """Return (and write) the tables: current indicator, need ranking, hotspots.

        ``fmt="csv"`` gives the current indicator only; ``"xlsx"`` a workbook
        with one sheet each and a notes sheet (weights, rules, sources).
        """
        from k360lib.report import tables as tb

        self.wait_ready()
        lang = self.lang
        ind_frame = self._indicator_frame()
        if fmt == "csv":
            data = tb.to_csv_bytes(ind_frame, lang)
        elif fmt == "xlsx":
            sheets = {t("widgets.sheet.map", lang): ind_frame}
            if self._need is not None:
                sheets[t("widgets.sheet.need", lang)] = tb.need_table(self.atlas, self._need, lang)
            if self._hotspots is not None:
                sheets[t("widgets.sheet.hot", lang)] = tb.hotspot_table(
                    self._hotspots, self._supply_label, lang
                )
            data = tb.to_xlsx_bytes(sheets, self._notes(), lang)
        else:
            raise ValueError(f"fmt must be 'csv' or 'xlsx', got {fmt!r}")
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def export_hotspots(self, fmt: str = "csv", path: str | Path | None = None) -> bytes:
        """Return (and write) the hotspot table as CSV or Excel."""
        from k360lib.report import tables as tb

        self.wait_ready()
        frame = tb.hotspot_table(self._hotspots, self._supply_label, self.lang)
        if fmt == "csv":
            data = tb.to_csv_bytes(frame, self.lang)
        elif fmt == "xlsx":
            data = tb.to_xlsx_bytes(
                {t("widgets.sheet.hot", self.lang): frame}, self._notes(), self.lang
            )
        else:
            raise ValueError(f"fmt must be 'csv' or 'xlsx', got {fmt!r}")
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def export_profile(self, area_id: str | None = None, path: str | Path | None = None) -> str:
        """Return (and write) the printable profile ("Steckbrief") of an area as HTML."""
        from k360lib.report.steckbrief import steckbrief_html

        self.wait_ready()
        if area_id is None:
            if self._selected < 0:
                raise DataError("widgets.area.none_selected")
            area_id = self.amap.area_ids[self._selected]
        year = self._state.year if self._state is not None else None
        doc = steckbrief_html(self.atlas, str(area_id), year, self.lang, need=self._need)
        if path is not None:
            Path(path).write_text(doc, encoding="utf-8")
        return doc

    # -- helpers -----------------------------------------------------------------------------------
    def _indicator_options(self) -> list[tuple[str, str]]:
        """``(label, id)`` per indicator, grouped by theme (catalog order of themes)."""
        atlas, lang = self.atlas, self.lang
        theme_col = f"theme_{lang}" if f"theme_{lang}" in atlas.catalog.columns else "theme"
        show_theme = theme_col != "theme" or lang == "de"  # themes are German unless translated
        rows = []
        theme_order: dict[str, int] = {}
        for i, ind in enumerate(atlas.indicator_ids):
            info = info_of(atlas, ind)
            theme = str(info.get(theme_col) or info.get("theme") or "")
            theme_order.setdefault(theme, len(theme_order))
            label = label_of(atlas, ind, lang)
            text = f"{theme}: {label}" if (theme and show_theme) else label
            rows.append((theme_order[theme], i, text, ind))
        out = [(text, ind) for _, _, text, ind in sorted(rows)]
        if out and self._need_candidates:
            out.append((t("widgets.need.option", lang), NEED_INDEX))
        return out

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
                if info_of(self.atlas, ind).get("kind") == kind:
                    return ind
        return ids[0] if ids else None

    def _years(self, indicator: str | None) -> list[int]:
        if indicator is None:
            return []
        ind = self.atlas.indicators
        if indicator == NEED_INDEX:
            chosen = self._chosen_weights() or {i: 1.0 for i in self._need_candidates}
            common = None
            for i in chosen:
                ys = set(ind.loc[ind["indicator"] == i, "year"].astype(int))
                common = ys if common is None else common & ys
            return sorted(common or [])
        return sorted(int(y) for y in ind.loc[ind["indicator"] == indicator, "year"].unique())

    def _make_area_options(self) -> dict[str, str]:
        names = self.atlas.areas["name"].astype(str).tolist()
        ids = self.atlas.areas["area_id"].astype(str).tolist()
        pairs = sorted(zip(names, ids), key=lambda p: (p[0].casefold(), p[1]))
        return {f"{n} ({a})": a for n, a in pairs}

    def _message_html(self, text: str) -> str:
        return f'<div class="k360-error" role="alert">{_esc(text)}</div>'

    def _guard(self, func, *args) -> None:
        """Run an action; show a user error (or an unexpected one) instead of raising."""
        try:
            with self._lock:
                func(*args)
        except K360Error as err:
            self._status.value = self._message_html(
                t("widgets.error", self.lang, message=err.message(self.lang))
            )
        except Exception as err:  # noqa: BLE001 - shown to the user, logged with traceback
            log.exception("k360 explorer: unexpected error")
            self._status.value = self._message_html(
                t("widgets.unexpected", self.lang, error=f"{type(err).__name__}: {err}")
            )

    def _chosen_weights(self) -> dict[str, float]:
        return {k: float(s.value) for k, s in self._weights.items() if float(s.value) > 0}

    def _kinds_on(self) -> list[int]:
        return [i for i, box in enumerate(self._kind_boxes) if box.value]

    def _breaks_values(self):
        if self._scheme.value != "user_defined":
            return None
        from k360lib.atlas.tables import parse_number

        text = self._breaks.value.strip()
        if not text:
            raise DataError("atlas.classify.breaks_required")
        tokens = [tok for tok in re.split(r"[;\s]+", text) if tok]
        if self.lang == "en":
            tokens = [tok.replace(",", "") for tok in tokens]
        values = []
        for tok in tokens:
            p = parse_number(tok, "," if self.lang == "de" else ".")
            if not p.ok or p.value is None:
                raise DataError("atlas.classify.bad_breaks", breaks=text)
            values.append(float(p.value))
        return values

    def _map_title(self) -> str:
        st = self._state
        return t("widgets.atlas.map_title", self.lang, label=st.label, year=st.year)

    # -- state computation -----------------------------------------------------------------------
    def _state_for(self, indicator: str, year: int, pooled_breaks=None, note=None) -> MapState:
        scheme = self._scheme.value
        breaks = self._breaks_values()
        if pooled_breaks is not None:
            scheme, breaks = "user_defined", pooled_breaks
        palette = self._palette.value or None
        kinds = tuple(self._kinds_on())
        key = (indicator, year, scheme, int(self._k.value), palette, tuple(breaks or ()), kinds)
        key += (self._selected, note, id(self._need) if indicator == NEED_INDEX else None)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if indicator == NEED_INDEX:
            state = self._need_state(year, scheme, breaks, palette, kinds, note)
        else:
            state = self.amap.state(
                indicator,
                year,
                scheme=scheme,
                k=int(self._k.value),
                palette=palette,
                breaks=breaks,
                selected=self._selected,
                kinds=kinds,
                note=note,
            )
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = state
        return state

    def _need_state(self, year, scheme, breaks, palette, kinds, note) -> MapState:
        need = self._need
        if need is None:
            need = self._need = self._compute_need(year)
        if need.year != year:
            need = self._compute_need(year)
        scores = need.table.set_index("area_id")["score"].reindex(self.amap.area_ids)
        return self.amap.values_state(
            scores.tolist(),
            indicator=NEED_INDEX,
            label=t("widgets.need.label", self.lang),
            unit="",
            polarity=1,
            kind="other",
            year=need.year,
            scheme=scheme,
            k=int(self._k.value),
            palette=palette,
            breaks=breaks,
            selected=self._selected,
            kinds=kinds,
            note=note or t("widgets.need.legend_note", self.lang),
        )

    def _compute_need(self, year: int | None = None) -> NeedIndex:
        from k360lib.atlas.indicators import need_index

        weights = self._chosen_weights()
        if not weights:
            raise DataError("atlas.indicators.zero_weights")
        years = self._years(NEED_INDEX)
        if year is not None and int(year) not in years:
            year = None
        return need_index(self.atlas, weights, year=year, classes="mss", lang=self.lang)

    # -- rendering -----------------------------------------------------------------------------------
    def _render_map(self, first: bool = False) -> None:
        indicator, year = self._indicator.value, int(self._year.value)
        state = self._state_for(indicator, year, *self._pooled(indicator, year))
        self._seq += 1
        state.seq = self._seq
        self._state = state
        title = t("widgets.atlas.map_title", self.lang, label=state.label, year=state.year)
        if first or not self._live:
            # live: the same document for every state (cached per dataset); the state follows
            doc = (
                self.amap.live_document()
                if self._live
                else self.amap.document(state, facilities=self._kinds_on(), title=title)
            )
            self._map.value = srcdoc_iframe(
                doc,
                title=t("widgets.atlas.map_frame_title", self.lang) if self._live else title,
                height=self._map_height,
                element_id=MAP_FRAME_ID,
                channel=self._channel if self._live else None,
                sync=self._channel if self._live else None,
                data={"indicator": state.indicator, "areas": state.n_areas},
            )
        if self._live:
            self._send_facilities()
            self._channel_state.value = AtlasMap.channel_state_html(self._channel, state)
        self._render_info()
        self._render_compare()
        self._status.value = ""

    def _pooled(self, indicator: str, year: int):
        """Return common class bounds of both years when comparing years (comparable colours)."""
        if (
            not self._panels
            or self._compare_mode.value != "year"
            or self._scheme.value == "user_defined"
        ):
            return (None, None)
        other = int(self._compare_year.value)
        if indicator == NEED_INDEX or other == year:
            return (None, None)
        from k360lib.atlas.privacy import public_values

        vals = []
        for y in (year, other):
            pv = public_values(self.atlas, indicator, y)
            vals += pv["value"].where(~pv["suppressed"]).tolist()
        pooled = cl.classify(vals, scheme=self._scheme.value, k=int(self._k.value))
        if pooled.k == 0:
            return (None, None)
        note = t(
            "widgets.compare.pooled_note",
            self.lang,
            scheme=cl.scheme_label(self._scheme.value, self.lang),
            a=min(year, other),
            b=max(year, other),
        )
        return (list(map(float, pooled.bins)), note)

    def _send_facilities(self) -> None:
        wanted = set(self._kinds_on())
        if not self._live or wanted <= self._fac_sent:
            return
        self._fac_sent |= wanted
        self._fac_seq += 1
        self._channel_fac.value = self.amap.channel_facilities_html(
            self._channel, sorted(self._fac_sent), self._fac_seq
        )

    def _render_compare(self) -> None:
        if not self._panels:
            return
        mode = self._compare_mode.value
        if mode == "off":
            self._compare_map.layout.display = "none"
            self._map.layout.width = "100%"
            self._compare_state = None
            return
        indicator, year = self._indicator.value, int(self._year.value)
        if mode == "indicator":
            other = self._compare_indicator.value
            years = self._years(other)
            cy = year if year in years else years[-1]
            state = self._state_for(other, cy)
        else:
            other_year = int(self._compare_year.value)
            state = self._state_for(indicator, other_year, *self._pooled(indicator, year))
        if state.selected >= 0:  # highlight the area there too, its profile opens in the first map
            state = copy.copy(state)
            state.popup = False
        self._seq += 1
        state.seq = self._seq
        self._compare_state = state
        self._map.layout.width = "50%"
        self._compare_map.layout.display = ""
        if not self._compare_map.value or not self._live:
            title = t("widgets.atlas.map_title", self.lang, label=state.label, year=state.year)
            doc = (
                self.amap.live_document()
                if self._live
                else self.amap.document(state, facilities=self._kinds_on(), title=title)
            )
            self._compare_map.value = srcdoc_iframe(
                doc,
                title=t("widgets.atlas.compare_frame_title", self.lang) if self._live else title,
                height=self._map_height,
                element_id=COMPARE_FRAME_ID,
                channel=self._compare_channel if self._live else None,
                sync=self._channel if self._live else None,
                data={"indicator": state.indicator, "areas": state.n_areas},
            )
        if self._live:
            self._compare_channel_state.value = AtlasMap.channel_state_html(
                self._compare_channel, state
            )

    def _render_info(self) -> None:
        indicator = self._indicator.value
        if indicator == NEED_INDEX:
            self._info.value = (
                f'<div class="k360-info">{_esc(t("widgets.need.info", self.lang))}</div>'
            )
            return
        info = info_of(self.atlas, indicator)
        lang = self.lang
        # catalog descriptions are German unless the catalog has a translated column
        desc = info.get(f"description_{lang}") or (
            info.get("description") if lang == "de" else None
        )
        parts = [str(desc or "")]
        source = text_of(self.atlas, indicator, "source", lang)
        if source:
            parts.append(t("widgets.atlas.source", lang, source=source))
        self._info.value = f'<div class="k360-info">{_esc(" · ".join(p for p in parts if p))}</div>'

    def _update_need(self) -> None:
        year = int(self._year.value) if self._indicator.value == NEED_INDEX else None
        if not self._panels:  # the map may show the index before the panels exist
            self._need = self._compute_need(year)
            return
        try:
            self._need = self._compute_need(year)
        except K360Error as err:
            self._need = None
            self._need_explain.value = self._message_html(err.message(self.lang))
            self._ranking.value = ""
            self._hotspots = None
            self._hot_table.value = ""
            return
        self._need_explain.value = (
            f'<div class="k360-hint">{_esc(self._need.explain(self.lang))}</div>'
        )
        self._render_ranking()
        self._update_hotspots()

    def _render_ranking(self) -> None:
        need, lang = self._need, self.lang
        frame = need.to_frame(lang).sort_values("rank", na_position="last", kind="stable")
        names = dict(zip(self.amap.area_ids, self.amap.names))
        parents = dict(zip(self.amap.area_ids, self.amap.districts))
        rows = []
        for _, r in frame.head(TABLE_ROWS).iterrows():
            if r["score"] != r["score"]:
                continue
            rows.append(
                "<tr>"
                f'<td class="num">{int(r["rank"])}</td>'
                f"<td>{_esc(names.get(r['area_id'], r['area_id']))}</td>"
                f"<td>{_esc(parents.get(r['area_id'], ''))}</td>"
                f'<td class="num">{_esc(_fmt(r["score"], 2, lang))}</td>'
                f"<td>{_esc(r['class_label'] or '')}</td></tr>"
            )
        head = "".join(
            f"<th>{_esc(t(k, lang))}</th>"
            for k in (
                "report.col.rank",
                "report.col.name",
                "report.col.district",
                "report.col.need_score",
                "report.col.need_class",
            )
        )
        n = int(need.table["score"].notna().sum())
        caption = t("widgets.need.ranking", lang, year=need.year, shown=min(TABLE_ROWS, n), n=n)
        self._ranking.value = (
            f'<div class="k360-ranking"><b>{_esc(caption)}</b>'
            f'<table class="k360-table">{"<tr>" + head + "</tr>"}{"".join(rows)}</table></div>'
        )

    def _update_hotspots(self) -> None:
        from k360lib.report.hotspots import hotspots, supply

        if self._need is None or not self._supply.value:
            self._hotspots = None
            self._hot_table.value = (
                f'<div class="k360-hint">{_esc(t("widgets.hot.unavailable", self.lang))}</div>'
            )
            return
        kinds = [self.amap.kinds[i].key for i in self._kinds_on()] or None
        sup = supply(self.atlas, self._supply.value, self._need.year, kinds, self.lang)
        self._supply_label = sup.label + (
            f" ({sup.unit})" if sup.unit and sup.unit not in sup.label else ""
        )
        self._hotspots = hotspots(self.atlas, self._need, sup, self.lang)
        self._render_hot_table()

    def _render_hot_table(self) -> None:
        frame, lang = self._hotspots, self.lang
        if frame is None:
            return
        col = self._sort.value
        frame = frame.sort_values(
            col,
            ascending=not self._descending.value,
            na_position="last",
            kind="stable",
            key=(lambda s: s.str.casefold()) if col == "name" else None,
        )
        if self._only_hot.value:
            frame = frame[frame["hotspot"]]
        n_hot = int(self._hotspots["hotspot"].sum())
        rows = []
        for _, r in frame.head(TABLE_ROWS).iterrows():
            cls = ' class="k360-hot"' if r["hotspot"] else ""
            rows.append(
                f'<tr{cls} data-k360-area="{_esc(r["area_id"])}">'
                f"<td>{_esc(r['name'])}</td><td>{_esc(r['district'])}</td>"
                f'<td class="num">{_esc(_fmt(r["need_score"], 2, lang))}</td>'
                f'<td class="num">{_esc(_fmt(r["need_rank"], 0, lang))}</td>'
                f'<td class="num">{_esc(r["supply_text"])}</td>'
                f'<td class="num">{_esc(_fmt(r["gap"], 2, lang))}</td>'
                f"<td>{_esc(t('report.yes', lang) if r['hotspot'] else '')}</td></tr>"
            )
        head = "".join(
            f"<th>{_esc(h)}</th>"
            for h in (
                t("report.col.name", lang),
                t("report.col.district", lang),
                t("report.col.need_score", lang),
                t("report.col.need_rank", lang),
                self._supply_label,
                t("report.col.gap", lang),
                t("report.col.hotspot", lang),
            )
        )
        caption = t(
            "widgets.hot.caption",
            lang,
            n_hot=n_hot,
            n=len(self._hotspots),
            shown=min(TABLE_ROWS, len(frame)),
        )
        self._hot_table.value = (
            f'<div class="k360-hotspots"><b>{_esc(caption)}</b>'
            f'<table class="k360-table"><tr>{head}</tr>{"".join(rows)}</table></div>'
        )

    def _render_profile(self) -> None:
        from k360lib.report.profile import area_profile

        lang = self.lang
        if self._selected < 0:
            self._profile.value = (
                f'<div class="k360-hint">{_esc(t("widgets.area.none", lang))}</div>'
            )
            self._sb_button.disabled = self._ex_profile.disabled = True
            return
        aid = self.amap.area_ids[self._selected]
        year = (
            self._state.year
            if self._state is not None and self._state.indicator != NEED_INDEX
            else None
        )
        prof = area_profile(self.atlas, aid, year, None, lang)
        rows = []
        for _, r in prof.iterrows():
            cls = {"worse": ' class="num k360-worse"', "better": ' class="num k360-better"'}.get(
                r["direction"], ' class="num"'
            )
            rank = (
                f"{int(r['rank'])} / {int(r['n_ranked'])}"
                if r["rank"] == r["rank"] and r["rank"]
                else "–"
            )
            rows.append(
                f"<tr><td>{_esc(r['label'])}</td><td{cls}>{_esc(r['value_text'])}</td>"
                f'<td class="num">{_esc(r["city_text"])}</td><td class="num">{_esc(rank)}</td>'
                f"<td>{_esc(r['trend_text'])}</td></tr>"
            )
        head = "".join(
            f"<th>{_esc(t(k, lang))}</th>"
            for k in (
                "maps.profile.indicator",
                "maps.profile.area",
                "maps.profile.city",
                "report.col.rank",
                "maps.profile.trend",
            )
        )
        title = f"{self.amap.names[self._selected]} ({aid})"
        sub = self.amap.parents[self._selected]
        need_line = ""
        if self._need is not None:
            row = self._need.table[self._need.table["area_id"].astype(str) == aid]
            if len(row) and row["score"].iloc[0] == row["score"].iloc[0]:
                need_line = t(
                    "widgets.area.need_line",
                    lang,
                    score=_fmt(row["score"].iloc[0], 2, lang),
                    rank=int(row["rank"].iloc[0]),
                    n=int(self._need.table["score"].notna().sum()),
                )
        year_text = t("maps.tooltip.year", lang, year=prof["year"].iloc[0]) if len(prof) else ""
        self._profile.value = (
            f'<div class="k360-profile-panel" data-k360-area="{_esc(aid)}">'
            f'<b>{_esc(title)}</b><div class="k360-hint">{_esc(" · ".join(x for x in (sub, year_text, need_line) if x))}</div>'
            f'<table class="k360-table"><tr>{head}</tr>{"".join(rows)}</table>'
            f'<div class="k360-hint">{_esc(t("maps.profile.note", lang))}</div></div>'
        )
        self._sb_button.disabled = self._ex_profile.disabled = False

    def _update_compare_widgets(self) -> None:
        if not self._panels:
            return
        mode = self._compare_mode.value
        self._compare_indicator.layout.display = "" if mode == "indicator" else "none"
        self._compare_year.layout.display = "" if mode == "year" else "none"
        years = self._years(self._indicator.value)
        if list(self._compare_year.options) != years and years:
            keep = self._compare_year.value if self._compare_year.value in years else years[0]
            self._compare_year.options = years
            self._compare_year.value = keep

    def _indicator_frame(self):
        from k360lib.report import tables as tb

        state = self._state
        if state.indicator == NEED_INDEX:
            return tb.need_table(self.atlas, self._need, self.lang)
        return tb.indicator_table(self.atlas, state.indicator, state.year, self.lang)

    def _notes(self) -> list[str]:
        lang = self.lang
        notes = []
        if self._state is not None:
            notes.append(self._map_title())
        if self._need is not None:
            notes.append(self._need.explain(lang))
        if self._hotspots is not None:
            notes.append(t("widgets.hot.hint", lang))
        notes.append(
            t(
                "report.sb.suppression",
                lang,
                threshold=self.atlas.meta.get("suppression_threshold", 3),
            )
        )
        sources = sources_of(self.atlas, lang)
        if sources:
            notes.append(t("report.sb.sources", lang, sources="; ".join(sources)))
        if self.atlas.meta.get("fictional"):
            notes.append(str(self.atlas.meta.get(f"disclaimer_{lang}") or ""))
        return [n for n in notes if n]

    # -- downloads ---------------------------------------------------------------------------------
    def _link(self, target: W.HTML, data, filename: str, mime: str) -> None:
        from k360lib.report.tables import data_uri

        target.value = (
            f'<div class="k360-download">{_esc(t("widgets.export.ready", self.lang))} '
            f'<a download="{_esc(filename)}" href="{data_uri(data, mime)}">{_esc(filename)}</a></div>'
        )

    def _slug(self) -> str:
        st = self._state
        base = (
            t("widgets.export.stem.need_index", self.lang)
            if st.indicator == NEED_INDEX
            else st.indicator
        )
        return re.sub(r"[^A-Za-z0-9_-]+", "_", f"{base}_{st.year}").strip("_")

    def _offer_map(self) -> None:
        stem = t("widgets.export.stem.map", self.lang)
        self._link(self._ex_links, self.export_map(), f"{stem}_{self._slug()}.html", "text/html")

    def _offer_table(self, fmt: str) -> None:
        from k360lib.report.tables import CSV_MIME, XLSX_MIME

        mime = CSV_MIME if fmt == "csv" else XLSX_MIME
        self._link(self._ex_links, self.export_table(fmt), f"atlas_{self._slug()}.{fmt}", mime)

    def _offer_hotspots(self, fmt: str) -> None:
        from k360lib.report.tables import CSV_MIME, XLSX_MIME

        mime = CSV_MIME if fmt == "csv" else XLSX_MIME
        year = self._need.year if self._need is not None else ""
        self._link(self._hot_links, self.export_hotspots(fmt), f"hotspots_{year}.{fmt}", mime)

    def _offer_profile(self, target: W.HTML) -> None:
        aid = self.amap.area_ids[self._selected] if self._selected >= 0 else None
        doc = self.export_profile(aid)
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", str(aid))
        stem = t("widgets.export.stem.profile", self.lang)
        self._link(target, doc, f"{stem}_{name}.html", "text/html")

    # -- events ---------------------------------------------------------------------------------------
    def _on_map_change(self, change) -> None:
        if self._hold or not self._wait_loaded():
            return
        self._hold = True
        try:
            if change["owner"] is self._indicator:
                years = self._years(self._indicator.value)
                if years:
                    keep = self._year.value if self._year.value in years else years[-1]
                    self._year.options = years
                    self._year.value = keep
                self._update_compare_widgets()
            scheme = cl.SCHEMES[self._scheme.value]
            self._k.disabled = not scheme.uses_k
            self._breaks.layout.display = "" if scheme.needs_breaks else "none"
            if scheme.needs_breaks and not self._breaks.value.strip() and self._state is not None:
                # start from the current class bounds, so the field shows the idea
                bins = self._state.classification.bins[:-1]
                self._breaks.value = "; ".join(_fmt(b, 2, self.lang) for b in bins)
        finally:
            self._hold = False
        if change["owner"] is self._indicator and self._indicator.value == NEED_INDEX:
            self._guard(self._update_need)
        if change["owner"] is self._year and self._indicator.value == NEED_INDEX:
            self._guard(self._update_need)
        self._guard(self._render_map)

    def _on_kinds(self, change) -> None:
        if self._hold or not self._wait_loaded():
            return
        self._guard(self._render_map)
        if self._panels and self._supply.value.startswith("facilities"):
            self._guard(self._update_hotspots)

    def _on_weights(self, change) -> None:
        if self._hold:
            return
        self._guard(self._on_weights_now)

    def _on_weights_now(self) -> None:
        self._update_need()
        if self._indicator.value == NEED_INDEX:
            self._render_map()
        if self._selected >= 0:
            self._render_profile()

    def _on_hot_change(self, change) -> None:
        if self._hold:
            return
        if change["owner"] is self._supply:
            self._guard(self._update_hotspots)
        else:
            self._guard(self._render_hot_table)

    def _on_search(self, change) -> None:
        if self._hold:
            return
        value = change["new"]
        if value in self._area_options:
            self._selected = self.amap.area_ids.index(self._area_options[value])
            self._guard(self._after_selection)

    def _after_selection(self) -> None:
        if self._selected >= 0:
            label = next(
                (
                    k
                    for k, v in self._area_options.items()
                    if v == self.amap.area_ids[self._selected]
                ),
                "",
            )
            if self._search.value != label:
                self._hold = True
                try:
                    self._search.value = label
                finally:
                    self._hold = False
        self._render_profile()
        self._sb_link.value = ""
        self._render_map()

    def _on_compare(self, change) -> None:
        if self._hold:
            return
        self._update_compare_widgets()
        self._guard(self._render_map)


def _in_kernel() -> bool:
    """Whether this runs inside a Jupyter kernel (Voilà, JupyterLab), not a plain script."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _later(func) -> None:
    """Run ``func`` soon: in a kernel on its main thread after the running cell, else in a thread.

    Why the main thread: ipywidgets answers the page's request for all widget
    states by iterating its registry of widgets; a background thread that
    creates widgets at that moment can break the iteration ("dictionary
    changed size"). The kernel's event loop runs ``func`` between messages.
    """
    loop = None
    if _in_kernel():
        from IPython import get_ipython

        loop = getattr(get_ipython().kernel, "io_loop", None)
    if loop is not None:
        loop.add_callback(func)
    else:
        threading.Thread(target=func, daemon=True).start()


def _polarity(atlas, indicator: str) -> int:
    from k360lib.report.profile import polarity_of

    return polarity_of(atlas, indicator)


def _fmt(value, decimals: int, lang: str) -> str:
    from k360lib.atlas.classify import format_number

    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    return format_number(v, f"{{:,.{decimals}f}}", lang)
