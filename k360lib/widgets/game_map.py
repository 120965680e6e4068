"""The city map of the Planspiel screens: need (or an indicator) per Sozialraum, proposals, measures.

Used by the player panel (:mod:`k360lib.widgets.player`), the facilitator's
projector and the debrief. Small API::

    gm = GameMap(session, lang="de")   # or GameMap(state, lang, document=...)
    box.children = [gm.widget]         # ipywidgets.VBox with CSS class ``k360-game-map``
    gm.update(session.state)           # after every poll: only what changed travels
    gm.set_indicator("sgb2_u15_rate")  # colour by an indicator (None: need score)
    gm.select("SR15")                  # outline an area (None: no outline)
    html = gm.snapshot_document()      # standalone HTML of what is shown (exports)

How it stays light and fast
---------------------------
The map document (Leaflet, area geometry, names, the browser scripts of
:mod:`k360lib.maps.client` and :mod:`k360lib.maps.game_layer`) is rendered
**once per game by the facilitator's kernel** and stored with the game
(:func:`k360lib.game.session.create_game`); :meth:`GameSession.map_document`
reads it. It goes into an ``<iframe srcdoc>`` exactly once. Afterwards two
hidden ``HTML`` widgets carry small JSON states that the map's script reads
from the page (the live channel of :mod:`k360lib.widgets.atlas_explorer`):

- ``<channel>-state``: fills, tooltip values, ranks and legend — the state
  format of :class:`k360lib.maps.MapState`, built here with plain Python;
- ``<channel>-game``: the markers (see :mod:`k360lib.maps.game_layer`).

A state is sent only when it differs from the last one. This module imports
neither pandas, geopandas, mapclassify nor folium (only a game without a
stored map document makes it render one, via :mod:`k360lib.maps`).

Colours
-------
Classes are fixed for the whole game: quintile breaks of the **base year**
(ColorBrewer ``OrRd``, darker = more need, colour-blind safe). When measures
lower the need, areas get lighter — classes recomputed every round would hide
exactly that. Areas without a value are grey ("keine Daten"). Markers:
own proposals blue (``k360-gm-own``), other roles' proposals orange
(``k360-gm-other``), running measures green squares (``k360-gm-measure``);
a legend under the map explains them.

Perspective: a map seen by one role (a seat's session, or ``role=``) says
"own proposal" / "another role's proposal" / "running measure". A map
without a role — the facilitator's projector, also in hot-seat games, or
``neutral=True`` — is **neutral**: every proposal has one colour (orange,
``k360-gm-other``) and the legend says "proposal" / "adopted measure".

CSS hooks (end-to-end tests)
----------------------------
``.k360-game-map`` (the widget; ``data-k360-channel`` is not on it — the
iframe ``iframe.k360-game-map-frame`` carries ``data-k360-channel``),
``.k360-game-map-legend`` (inside: ``.k360-gm-legend`` with
``data-k360-perspective`` = ``own`` or ``neutral``). Inside the frame: ``.k360-gm-marker.k360-gm-<kind>``
with ``data-k360-item`` and ``data-k360-area``; ``body[data-k360-markers]``.
"""

from __future__ import annotations

import html
import json
import math
import uuid
from typing import TYPE_CHECKING

import ipywidgets as W

from k360lib.game.player_view import map_items
from k360lib.i18n import normalize_lang, t

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.game.session import GameSession
    from k360lib.game.state import GameState

__all__ = ["FRAME_CLASS", "GameMap", "NEED", "PALETTE", "map_state"]

#: CSS class of the map's iframe
FRAME_CLASS = "k360-game-map-frame"
#: pseudo indicator id of the need score
NEED = "__need__"
#: ColorBrewer OrRd, 5 classes (lightest = least need)
PALETTE: tuple[str, ...] = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
_MISSING = "#d9d9d9"
_STYLE = {"color": "#4d4d4d", "weight": 0.8, "opacity": 1.0, "fillOpacity": 0.85}
_SANDBOX_LIVE = "allow-scripts allow-same-origin"
_MARKER_COLOURS = {"own": "#0072B2", "other": "#E69F00", "measure": "#009E73"}

_CSS = """<style>
.k360-game-map .k360-gm-legend{display:flex;flex-wrap:wrap;gap:14px;font-size:0.88em;color:#333;margin:4px 0;}
.k360-game-map .k360-gm-legend span.k360-gm-sw{display:inline-block;width:14px;height:12px;margin-right:4px;
 vertical-align:-1px;border:1px solid #fff;box-shadow:0 0 2px rgba(0,0,0,.6);border-radius:6px;}
.k360-game-map .k360-gm-legend span.k360-gm-sw-measure{border-radius:2px;}
.k360-game-map .k360-gm-missing{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;}
</style>"""


def _script_json(obj) -> str:
    """JSON safe inside ``<script>`` (as :func:`k360lib.maps.elements.script_json`)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _fmt(value: float, decimals: int, lang: str) -> str:
    text = f"{value:,.{decimals}f}"
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return "0" if text in ("-0", "-0,0", "-0.0", "-0,00", "-0.00") and decimals == 0 else text


def _decimals(values) -> int:
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 1
    top = max(finite)
    return 0 if top >= 100 else (1 if top >= 1 else 2)


def _breaks(base: list[float], k: int = len(PALETTE)) -> list[float]:
    """Quantile breaks of the finite base values (upper bounds of classes 0 … k-2)."""
    vals = sorted(v for v in base if v is not None and math.isfinite(v))
    if len(vals) < 2:
        return []
    out = []
    for q in range(1, k):
        pos = q * (len(vals) - 1) / k
        lo = int(math.floor(pos))
        hi = min(lo + 1, len(vals) - 1)
        b = vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)
        if not out or b > out[-1] + 1e-12:
            out.append(b)
    return out


def _class_of(v: float, breaks: list[float]) -> int:
    for i, b in enumerate(breaks):
        if v <= b + 1e-12:
            return i
    return len(breaks)


def map_state(
    state: GameState,
    lang: str | None = None,
    *,
    indicator: str | None = None,
    selected: str | None = None,
    seq: int = 0,
) -> dict:
    """Return the fill state of the game map (the browser format of :class:`k360lib.maps.MapState`).

    Parameters
    ----------
    state : GameState
        The game.
    lang : str, optional
        Language of the texts.
    indicator : str, optional
        An indicator of the game's world (``state.world.indicators``); default
        (``None`` or :data:`NEED`): the need score.
    selected : str, optional
        Area id to outline.
    seq : int
        Sequence number (the browser applies a state when it changes).

    Returns
    -------
    dict
        ``seq, label, year, year_text, styles, s, v, r, rank_text, legend,
        sel, zoom, popup, kinds, data``.
    """
    lang = normalize_lang(lang)
    w = state.world
    n = w.n_areas
    if indicator in (None, NEED):
        indicator = NEED
        label = t("player.map.need", lang)
        unit = ""
        now = [float(v) for v in state.need()]
        base = [float(v) for v in w.need_scores()]
        polarity = 1.0
        decimals = 2
        note = t("player.map.need_note", lang)
    else:
        j = w.indicator_index(indicator)
        label = (w.labels.get(indicator) or {}).get(lang) or indicator
        unit = w.units.get(indicator, "")
        now = [float(v) for v in state.values[:, j]]
        base = [float(v) for v in w.values[:, j]]
        polarity = float(w.polarity[j]) or 1.0
        decimals = _decimals(base)
        note = t("player.map.indicator_note", lang)
    sign = -1.0 if polarity < 0 else 1.0
    breaks = _breaks([sign * v for v in base])
    k = len(breaks) + 1
    colours = list(PALETTE[:k]) if k < len(PALETTE) else list(PALETTE)
    if k < len(PALETTE):  # few distinct values: spread over the palette
        step = (len(PALETTE) - 1) / max(k - 1, 1)
        colours = [PALETTE[round(i * step)] for i in range(k)]
    styles = [dict(_STYLE, fillColor=c, cls=f"k360-class-{i}") for i, c in enumerate(colours)]
    i_miss = len(styles)
    styles.append(dict(_STYLE, fillColor=_MISSING, fillOpacity=1.0, cls="k360-missing"))
    missing = t("player.map.no_data", lang)
    s, v_text = [], []
    for v in now:
        if not math.isfinite(v):
            s.append(i_miss)
            v_text.append(missing)
            continue
        s.append(_class_of(sign * v, breaks))
        v_text.append(_fmt(v, decimals, lang) + (f"\u00a0{unit}" if unit else ""))
    order = sorted((i for i in range(n) if math.isfinite(now[i])), key=lambda i: -sign * now[i])
    ranks = [0] * n
    for rank, i in enumerate(order, start=1):
        ranks[i] = rank
    # legend: classes from most to least need
    bounds = [sign * b for b in breaks]
    rows = []
    for i in range(k):
        lo = bounds[i - 1] if i > 0 else None
        hi = bounds[i] if i < len(bounds) else None
        if lo is None and hi is None:
            text = t("player.map.all_values", lang)
        elif lo is None:
            text = ("≤ " if sign > 0 else "≥ ") + _fmt(hi, decimals, lang)
        elif hi is None:
            text = ("> " if sign > 0 else "< ") + _fmt(lo, decimals, lang)
        else:
            text = f"{_fmt(lo, decimals, lang)} – {_fmt(hi, decimals, lang)}"
        rows.append((colours[i], text))
    rows.reverse()
    if i_miss in s:
        rows.append((_MISSING, missing))
    e = html.escape
    items = "".join(
        f'<li><span class="k360-swatch" style="background:{c}"></span><span>{e(txt)}</span></li>'
        for c, txt in rows
    )
    sub = t("player.map.round", lang, round=state.round) + (f" · {unit}" if unit else "")
    legend = (
        f'<div class="k360-legend-title">{e(label)}</div>'
        f'<div class="k360-legend-sub">{e(sub)}</div><ul>{items}</ul>'
        f'<div class="k360-legend-note">{e(note)}</div>'
    )
    sel = w.area_index(selected) if selected and w.has_area(selected) else -1
    return {
        "seq": int(seq),
        "label": label,
        "year": state.round,
        "year_text": t("player.map.round", lang, round=state.round),
        "styles": styles,
        "s": s,
        "v": v_text,
        "r": ranks,
        "rank_text": t("player.map.rank", lang, rank="{rank}", n=len(order)),
        "legend": legend,
        "sel": sel,
        "zoom": False,
        "popup": False,
        "kinds": [],
        "data": {"indicator": indicator, "year": state.round, "areas": n, "classes": k},
    }


def _iframe(document: str, title: str, channel: str, height: str) -> str:
    e = html.escape
    return (
        f'<iframe class="{FRAME_CLASS}" data-k360-channel="{e(channel, quote=True)}" '
        f'title="{e(title, quote=True)}" sandbox="{_SANDBOX_LIVE}" loading="eager" '
        f'style="width:100%;height:{e(height, quote=True)};border:0;display:block" '
        f'srcdoc="{e(document, quote=True)}"></iframe>'
    )


class GameMap:
    """The game's city map as a widget (see the module docstring).

    Parameters
    ----------
    source : GameSession or GameState
        The game. A session gives the stored map document and its role.
    lang : str, optional
        Language; default the UI language.
    role : str, optional
        Whose proposals count as "own" (default: the session's role; none
        for the facilitator or a bare state). Without a role the map is
        neutral (see ``neutral``).
    neutral : bool, optional
        Show the map from no role's perspective: one colour for all
        proposals, legend "proposal" / "adopted measure" (the projector).
        Default: neutral exactly when there is no role.
    indicator : str, optional
        Colour by this indicator instead of the need score.
    document : str, optional
        The map document (default: from the session's store; rendered from
        the scenario's atlas when the store has none).
    height : str
        CSS height of the map.

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display (CSS class ``k360-game-map``).
    channel : str
        Id prefix of the channel elements (unique per map).
    has_map : bool
        Whether a map document was available.
    """

    def __init__(
        self,
        source: GameSession | GameState,
        lang: str | None = None,
        *,
        role: str | None = None,
        neutral: bool | None = None,
        indicator: str | None = None,
        document: str | None = None,
        height: str = "460px",
    ):
        self.lang = normalize_lang(lang)
        session = source if hasattr(source, "store") else None
        state = session.state if session is not None else source
        if role is None and session is not None and not session.facilitator:
            role = session.role
        self._session = session
        self._role_fixed = role
        self._neutral = neutral
        self.indicator = indicator or NEED
        self.selected: str | None = None
        self.channel = f"k360-gm-{uuid.uuid4().hex[:12]}"
        self._seq = 0
        self._last_state: str | None = None
        self._last_items: str | None = None
        self._state = state
        if document is None and session is not None:
            document = session.map_document(self.lang)
        if document is None:
            document = self._render_missing(state)
        self._document = document
        self.has_map = document is not None
        self._state_w = W.HTML("")
        self._game_w = W.HTML("")
        channels = W.Box([self._state_w, self._game_w], layout=W.Layout(display="none"))
        channels.add_class("k360-channel")
        if document is not None:
            title = t("player.map.title", self.lang)
            self._frame = W.HTML(_iframe(document, title, self.channel, height))
        else:
            self._frame = W.HTML(
                f'<div class="k360-gm-missing">{html.escape(t("player.map.missing", self.lang))}</div>'
            )
        self._legend = W.HTML(self._legend_html())
        self._legend.add_class("k360-game-map-legend")
        self.widget = W.VBox([W.HTML(_CSS), self._frame, channels, self._legend])
        self.widget.add_class("k360-game-map")
        self.update(state)

    # -- helpers ---------------------------------------------------------------
    def _render_missing(self, state: GameState) -> str | None:
        """Render the map from the scenario's own atlas (heavy; only for games without one)."""
        from k360lib.errors import K360Error

        try:
            from k360lib.maps.game_layer import game_map_artifacts

            docs = game_map_artifacts(state.scenario, langs=(self.lang,))
        except (K360Error, ImportError, OSError):
            return None
        return next(iter(docs.values()))

    def _legend_html(self) -> str:
        e = html.escape
        if self.neutral:
            entries = [
                ("other", t("player.map.marker_proposal", self.lang)),
                ("measure", t("player.map.marker_adopted", self.lang)),
            ]
        else:
            entries = [
                ("own", t("player.map.marker_own", self.lang)),
                ("other", t("player.map.marker_other", self.lang)),
                ("measure", t("player.map.marker_measure", self.lang)),
            ]
        parts = [
            f'<span><span class="k360-gm-sw k360-gm-sw-{kind}" '
            f'style="background:{_MARKER_COLOURS[kind]}"></span>{e(text)}</span>'
            for kind, text in entries
        ]
        perspective = "neutral" if self.neutral else "own"
        return (
            f'<div class="k360-gm-legend" data-k360-perspective="{perspective}">'
            f"{''.join(parts)}</div>"
        )

    @property
    def role(self) -> str | None:
        """Whose proposals are "own" (follows role rotation; ``None`` on a neutral map)."""
        if self._neutral:
            return None
        if self._session is not None and not self._session.facilitator:
            return self._session.role
        return self._role_fixed

    @property
    def neutral(self) -> bool:
        """Whether the map is seen from no role (the projector): no "own" proposals."""
        return self.role is None

    # -- public ----------------------------------------------------------------
    def update(self, state: GameState | None = None) -> bool:
        """Show ``state`` (default: the session's current state); return whether anything was sent."""
        if state is None:
            state = self._session.state if self._session is not None else self._state
        elif hasattr(state, "store"):
            state = state.state
        self._state = state
        sent = False
        fills = map_state(state, self.lang, indicator=self.indicator, selected=self.selected)
        key = _script_json(fills)
        if key != self._last_state:
            self._last_state = key
            self._seq += 1
            fills["seq"] = self._seq
            self._state_w.value = (
                f'<script type="application/json" id="{self.channel}-state" '
                f'data-seq="{self._seq}">{_script_json(fills)}</script>'
            )
            sent = True
        items = self.items(state)
        key = _script_json(items)
        if key != self._last_items:
            self._last_items = key
            self._seq += 1
            self._game_w.value = (
                f'<script type="application/json" id="{self.channel}-game" '
                f'data-seq="{self._seq}">{_script_json({"seq": self._seq, "items": items})}</script>'
            )
            sent = True
        return sent

    def items(self, state: GameState | None = None) -> list[dict]:
        """Return the markers for ``state`` in the map's format (``a`` = area index)."""
        state = state or self._state
        w = state.world
        out = []
        for it in map_items(state, self.role, self.lang):
            if not w.has_area(it["area"]):
                continue
            out.append(
                {
                    "a": w.area_index(it["area"]),
                    "id": it["id"],
                    "kind": it["kind"],
                    "label": it["label"],
                    "title": it["title"],
                    "status": it["status"],
                }
            )
        return out

    def set_indicator(self, indicator: str | None) -> None:
        """Colour by ``indicator`` (``None`` or :data:`NEED`: the need score)."""
        self.indicator = indicator or NEED
        self.update(self._state)

    def select(self, area: str | None) -> None:
        """Outline ``area`` on the map (``None``: no outline)."""
        self.selected = area
        self.update(self._state)

    def snapshot_document(self) -> str | None:
        """Return a standalone HTML document with the fills and markers shown now (``None`` without map).

        For exports (e.g. the debrief report): it works offline and without the page.
        """
        if self._document is None:
            return None
        fills = json.loads(self._last_state or "{}")
        items = {"seq": 1, "items": self.items()}
        extra = (
            f"<script>window.k360game=window.k360game||{{}};"
            f"window.k360game.initial={_script_json(items)};"
            "(function w(){var i=window.k360map&&window.k360map.instance;"
            "if(!i){setTimeout(w,30);return;}"
            f"i.apply({_script_json(fills)});}})();</script>"
        )
        doc = self._document
        idx = doc.rfind("</html>")
        return doc[:idx] + extra + doc[idx:] if idx >= 0 else doc + extra
