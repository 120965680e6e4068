"""The Planspiel's map document: the atlas live map plus a layer of proposals and measures.

Rendered **once per game in the facilitator's kernel** (it needs folium and
the atlas) and stored with the game (:func:`k360lib.game.session.create_game`
puts it in the store as an artifact), so a player kernel only reads a string
from the store — no geopandas, mapclassify or folium there.

The document is :meth:`k360lib.maps.AtlasMap.live_document` (areas, names,
the fill/legend state channel of :mod:`k360lib.maps.client`) with one more
small script, :data:`GAME_JS`. It reads a second channel element of the
parent page, ``<channel>-game`` (a ``<script type="application/json">``
held by a hidden ``ipywidgets.HTML``), and draws one marker per item::

    {"seq": 3, "items": [{"a": 4, "id": "P1", "kind": "own", "label": "P1",
                          "title": "Familienzentrum – Nordstadt", "status": "open"}]}

``a`` is the area's index, ``kind`` one of ``own`` (a proposal of the viewer's
role), ``other`` (another role's proposal) or ``measure`` (a running measure).
Every text is inserted with ``textContent``; nothing in the data is parsed as
HTML. Markers of one area are placed side by side at the area's centre.

Hooks for tests: markers are ``.k360-gm-marker.k360-gm-<kind>`` with
``data-k360-item`` (proposal/measure id) and ``data-k360-area`` (area id);
``document.body`` carries ``data-k360-game-seq`` and ``data-k360-markers``
(number of markers shown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from k360lib.i18n import LANGS, normalize_lang

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.atlas.model import Atlas
    from k360lib.game.scenario import Scenario

__all__ = ["GAME_CSS", "GAME_JS", "game_map_artifacts", "game_map_document", "inject_game_layer"]

GAME_CSS = """
.k360-gm-marker{background:none;border:0;}
.k360-gm-marker span{display:flex;align-items:center;justify-content:center;box-sizing:border-box;
 min-width:26px;height:20px;padding:0 4px;border:2px solid #fff;border-radius:10px;
 box-shadow:0 0 3px rgba(0,0,0,.7);font:700 11px/1 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 white-space:nowrap;}
.k360-gm-own span{background:#0072B2;color:#fff;}
.k360-gm-other span{background:#E69F00;color:#000;}
.k360-gm-measure span{background:#009E73;color:#fff;border-radius:3px;}
.k360-gm-tip{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;}
"""

GAME_JS = r"""
(function () {
  "use strict";
  var G = window.k360game = window.k360game || {};
  var W = 30;  // horizontal distance of markers in one area (px)
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function start() {
    var K = window.k360map, inst = K && K.instance;
    if (!inst || !window.L) { setTimeout(start, 30); return; }
    var map = inst.map, cfg = inst.cfg, layer = L.layerGroup().addTo(map), seq = null;
    function centre(idx) {
      var lyr = inst.layers[idx];
      if (!lyr) { return null; }
      try { return lyr.getCenter(); } catch (err) {
        var b = lyr.getBounds();
        return b.isValid() ? b.getCenter() : null;
      }
    }
    function apply(data) {
      layer.clearLayers();
      var items = (data && data.items) || [], byArea = {}, shown = 0;
      items.forEach(function (it) { (byArea[it.a] = byArea[it.a] || []).push(it); });
      Object.keys(byArea).forEach(function (a) {
        var list = byArea[a], c = centre(+a);
        if (!c) { return; }
        list.forEach(function (it, j) {
          var box = el("div"), off = (j - (list.length - 1) / 2) * W;
          box.appendChild(el("span", null, it.label));
          var icon = L.divIcon({className: "k360-gm-marker k360-gm-" + String(it.kind).replace(/[^a-z]/g, ""),
                                html: box, iconSize: [28, 20], iconAnchor: [14 - off, 10]});
          var m = L.marker(c, {icon: icon, keyboard: false, riseOnHover: true});
          m.bindTooltip(function () { return el("div", "k360-gm-tip", it.title); }, {direction: "top"});
          layer.addLayer(m);
          var node = m.getElement();
          if (node) {
            node.setAttribute("data-k360-item", String(it.id));
            node.setAttribute("data-k360-area", String(cfg.ids[+a]));
            if (it.status) { node.setAttribute("data-k360-status", String(it.status)); }
          }
          shown += 1;
        });
      });
      document.body.setAttribute("data-k360-game-seq", String(data && data.seq));
      document.body.setAttribute("data-k360-markers", String(shown));
    }
    G.apply = apply;
    if (G.initial) { apply(G.initial); seq = G.initial.seq; }
    var frame = null, pdoc = null, channel = null;
    try {
      frame = window.frameElement;
      channel = frame && frame.getAttribute("data-k360-channel");
      pdoc = channel ? window.parent.document : null;
    } catch (err) { pdoc = null; }
    if (!pdoc) { return; }
    function poll() {
      if (!frame.isConnected) { if (G.observer) { G.observer.disconnect(); } return; }
      var e = pdoc.getElementById(channel + "-game");
      if (e && e.getAttribute("data-seq") !== String(seq)) {
        seq = e.getAttribute("data-seq");
        try { apply(JSON.parse(e.textContent)); } catch (err) { if (window.console) { console.warn("k360:", err); } }
      }
    }
    poll();
    G.observer = new MutationObserver(poll);
    G.observer.observe(pdoc.body, {childList: true, subtree: true, characterData: true});
  }
  if (document.readyState === "complete") { start(); } else { window.addEventListener("load", start); }
})();
"""

_MARK = "<!-- k360-game-layer -->"


def inject_game_layer(document: str) -> str:
    """Return ``document`` (a live map document) with the game layer's CSS and script added."""
    if _MARK in document:
        return document
    extra = f'{_MARK}<style>{GAME_CSS}</style><script data-k360-asset="game_js">{GAME_JS}</script>'
    idx = document.rfind("</html>")
    if idx < 0:
        return document + extra
    return document[:idx] + extra + document[idx:]


def game_map_document(atlas: Atlas, lang: str | None = None) -> str:
    """Return the live game map document of ``atlas`` in ``lang`` (needs folium on first use).

    The atlas map's live document is cached on disk per dataset and language
    (:meth:`k360lib.maps.AtlasMap.live_document`); the area profiles are left
    out (the game map shows the game's values, not the atlas years).
    """
    from k360lib.maps.atlas_map import AtlasMap

    amap = AtlasMap(atlas, lang=normalize_lang(lang), profile_indicators=[])
    return inject_game_layer(amap.live_document())


_CACHE: dict[tuple, dict[str, str]] = {}


def game_map_artifacts(
    scenario: Scenario,
    atlas: Atlas | None = None,
    langs: tuple[str, ...] | list[str] = LANGS,
) -> dict[str, str]:
    """Return the store artifacts of a game's map: ``{"map/live/<lang>.html": document}``.

    Parameters
    ----------
    scenario : Scenario
        The game's scenario (its own atlas is used when ``atlas`` is not given).
    atlas : Atlas, optional
        The atlas the game is played on.
    langs : sequence of str
        Languages to render (default: every UI language).
    """
    from k360lib.game.store import ARTIFACT_MAP_DOC

    langs = tuple(normalize_lang(lg) for lg in langs)
    key = None
    if atlas is None:
        key = (scenario.atlas, str(scenario.source or ""), langs)
        if key in _CACHE:
            return dict(_CACHE[key])
        from k360lib.game.world import _load_atlas

        atlas = _load_atlas(scenario)
    out = {ARTIFACT_MAP_DOC.format(lang=lg): game_map_document(atlas, lg) for lg in langs}
    if key is not None:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = dict(out)
    return out
