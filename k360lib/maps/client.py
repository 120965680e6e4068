"""The browser side of k360 maps: one small script and its CSS, inlined into every map.

``k360map.init(map, config)`` draws the areas from the shared-arc topology
(:mod:`k360lib.maps.geometry`), applies a *state* (fills, value texts, ranks,
legend; :class:`k360lib.maps.atlas_map.MapState`), and builds tooltips,
area-profile popups and facility layers **on demand** from data, with
``textContent`` — no data string is ever parsed as HTML in the browser. The
only HTML the script inserts is the legend and layer-control labels, which
Python builds with every piece of data escaped.

Live updates (the explorer app): when the map runs in an ``<iframe>`` with a
``data-k360-channel`` attribute and may reach its parent page (same origin),
the script watches elements of the parent page — ``<channel>-state`` (fills,
texts, legend of this map), ``<app>-fac`` (facility points) and
``<app>-profile`` (area profiles of the popups), ``<script type="application/json">``
elements that ipywidgets ``HTML`` widgets hold — and applies their content
whenever their ``data-seq`` changes. ``<app>`` is the frame's
``data-k360-sync`` name, shared by the maps of one app. Switching the indicator therefore sends a few kilobytes of state to
the already drawn map instead of a whole new map. Without a channel (exported
HTML files, other front ends) the map shows the state embedded in it.

Hooks for tests: each area path has the classes ``k360-area`` plus
``k360-class-<i>``, ``k360-suppressed`` or ``k360-missing`` and the attribute
``data-k360-area``; ``document.body`` carries ``data-k360-seq``,
``data-k360-indicator`` and ``data-k360-year`` of the state shown.
"""

from __future__ import annotations

__all__ = ["CLIENT_CSS", "CLIENT_JS"]

CLIENT_CSS = """
html,body{margin:0;padding:0;}
.k360-legend{background:rgba(255,255,255,.94);padding:8px 10px;border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:#222;max-width:280px;}
.k360-legend-title{font-weight:600;font-size:13px;margin-bottom:2px;}
.k360-legend-sub{color:#555;margin-bottom:6px;}
.k360-legend ul{list-style:none;margin:0;padding:0;}
.k360-legend li{display:flex;align-items:center;gap:6px;margin:2px 0;}
.k360-swatch{display:inline-block;width:18px;height:12px;border:1px solid #777;flex:none;}
.k360-legend-note{color:#555;margin-top:6px;font-size:11px;}
.k360-tooltip,.k360-popup{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;}
.k360-tt-name{font-weight:600;font-size:13px;}
.k360-tt-muted{color:#555;}
.k360-profile table{border-collapse:collapse;margin-top:4px;}
.k360-profile th{font-weight:600;text-align:left;color:#444;border-bottom:1px solid #ccc;padding:2px 4px;}
.k360-profile td{padding:2px 4px;border-bottom:1px solid #eee;vertical-align:middle;}
.k360-profile td.k360-num{text-align:right;white-space:nowrap;}
.k360-profile .k360-worse{color:#b35806;font-weight:600;}
.k360-profile .k360-better{color:#2166ac;font-weight:600;}
.k360-profile .k360-note{color:#666;font-size:11px;margin-top:4px;}
.k360-spark polyline{fill:none;stroke-width:1.5;}
.k360-spark .k360-spark-area{stroke:#b35806;}
.k360-spark .k360-spark-city{stroke:#777;stroke-dasharray:3 2;}
.k360-fac{background:none;border:0;}
.k360-fac span,.k360-cluster div{display:flex;align-items:center;justify-content:center;border-radius:50%;
 border:1.5px solid #fff;box-shadow:0 0 2px rgba(0,0,0,.6);font:600 10px/1 system-ui,sans-serif;}
.k360-fac span{width:18px;height:18px;}
.k360-cluster{background:none;border:0;}
.k360-cluster div{width:30px;height:30px;font-size:11px;opacity:.92;}
.leaflet-control-layers-overlays label span{white-space:nowrap;}
.k360-layer-swatch{display:inline-block;width:12px;height:12px;border-radius:50%;vertical-align:-2px;margin:0 3px;}
"""

CLIENT_JS = r"""
(function () {
  "use strict";
  var ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var IDX = {};
  for (var a = 0; a < ALPHA.length; a++) { IDX[ALPHA.charAt(a)] = a; }
  var K = window.k360map = window.k360map || {};

  function decodeArc(text, scale) {
    var out = [], vals = [], z = 0, shift = 0, i, v;
    for (i = 0; i < text.length; i++) {
      v = IDX[text.charAt(i)];
      z += (v & 31) * Math.pow(2, shift);
      if (v & 32) { shift += 5; continue; }
      vals.push(z % 2 ? -(z + 1) / 2 : z / 2);
      z = 0; shift = 0;
    }
    var x = 0, y = 0;
    for (i = 0; i + 1 < vals.length; i += 2) {
      x += vals[i]; y += vals[i + 1];
      out.push(L.latLng(y / scale, x / scale));  // Leaflet keeps LatLng objects as they are
    }
    return out;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function tpl(text, params) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(params, k) ? String(params[k]) : m;
    });
  }
  var SVGNS = "http://www.w3.org/2000/svg";

  K.init = function (map, cfg) {
    var self = {map: map, cfg: cfg, state: null, seq: null, facSeq: null, profileSeq: null, layers: [], sel: -1,
                hover: -1, kinds: null, fac: {}, syncing: false, channel: null};
    K.instance = self;
    var nf = {};
    cfg.parents = (cfg.parent_idx || []).map(function (q) { return q >= 0 ? cfg.parent_names[q] : ""; });
    function decodeProfile(P) {  // integers in units of 10^-dec -> numbers
      if (P) {
        P.ind.forEach(function (info, k) {
          var f = Math.pow(10, info.dec);
          function num(c) { return typeof c === "number" ? c / f : c; }
          P.v[k] = P.v[k].map(function (row) { return row.map(num); });
          P.avg[k] = P.avg[k].map(num);
        });
      }
      return P;
    }
    cfg.profile = decodeProfile(cfg.profile);
    function fmtNum(v, d) {
      if (!nf[d]) {
        nf[d] = new Intl.NumberFormat(cfg.locale, {minimumFractionDigits: d, maximumFractionDigits: d});
      }
      var s = nf[d].format(v);
      return /^-0([.,]0*)?$/.test(s) ? s.slice(1) : s;
    }
    function withUnit(s, unit) { return unit ? s + "\u00a0" + unit : s; }

    // --- areas ---------------------------------------------------------------
    var topo = cfg.topo, arcs = [];
    for (var i = 0; i < topo.arcs.length; i++) { arcs.push(decodeArc(topo.arcs[i], topo.scale)); }
    function ring(refs) {
      var pts = [];
      for (var k = 0; k < refs.length; k++) {
        var r = refs[k], arc = r < 0 ? arcs[~r].slice().reverse() : arcs[r];
        pts = pts.concat(k === 0 ? arc : arc.slice(1));
      }
      return pts;
    }
    var group = L.featureGroup();
    topo.areas.forEach(function (polys, idx) {
      var latlngs = polys.map(function (rings) { return rings.map(ring); });
      var layer = L.polygon(latlngs.length === 1 ? latlngs[0] : latlngs,
                            {className: "k360-area", color: "#4d4d4d", weight: 0.8});
      layer.k360i = idx;
      layer.bindTooltip(function () { return tooltip(idx); }, {sticky: true, className: "k360-tooltip"});
      layer.bindPopup(function () { return popup(idx); },
                      {maxWidth: 460, minWidth: 280, maxHeight: 330, className: "k360-popup"});
      layer.on("mouseover", function () { self.hover = idx; restyle(idx); layer.bringToFront(); });
      layer.on("mouseout", function () { self.hover = -1; restyle(idx); });
      group.addLayer(layer);
      self.layers.push(layer);
    });
    // until the user moves the map, keep the whole city in view when the frame is resized
    // (Voilà may lay the frame out after the map was created)
    var home = group.getBounds(), touched = false, pendingFit = null;
    var FIT = {maxZoom: 14, padding: [60, 60], animate: false};
    // the view first, then the areas: each polygon is projected and drawn once, not twice
    if (home.isValid()) { map.fitBounds(home, {animate: false}); }
    group.addTo(map);
    function touch() { touched = true; }
    map.on("dragstart", touch);
    map.getContainer().addEventListener("wheel", touch, {passive: true});
    map.getContainer().addEventListener("dblclick", touch);
    map.getContainer().addEventListener("keydown", touch);
    map.on("resize", function () {
      if (pendingFit) { map.fitBounds(pendingFit, FIT); pendingFit = null; }
      else if (!touched && home.isValid()) { map.fitBounds(home, {animate: false}); }
    });
    self.layers.forEach(function (layer, idx) {
      if (layer._path) { layer._path.setAttribute("data-k360-area", cfg.ids[idx]); }
    });

    var NEUTRAL = {color: "#4d4d4d", weight: 0.8, fillColor: "#f0f0f0", fillOpacity: 1, cls: ""};
    function styleOf(idx) {
      var st = self.state, s = st ? st.styles[st.s[idx]] : NEUTRAL, out = {};
      for (var key in s) { if (key !== "cls") { out[key] = s[key]; } }
      if (idx === self.sel) { out.color = "#000000"; out.weight = 3.5; out.dashArray = null; }
      if (idx === self.hover) { out.color = "#000000"; out.weight = 3; }
      return out;
    }
    function restyle(idx) {
      var layer = self.layers[idx];
      layer.setStyle(styleOf(idx));
      var p = layer._path;
      if (!p) { return; }
      var want = (self.state ? self.state.styles[self.state.s[idx]].cls : "") +
        (idx === self.sel ? " k360-selected" : "");
      if (p.getAttribute("data-k360-cls") !== want) {
        var old = p.getAttribute("data-k360-cls");
        if (old) { old.split(" ").forEach(function (c) { if (c) { p.classList.remove(c); } }); }
        want.split(" ").forEach(function (c) { if (c) { p.classList.add(c); } });
        p.setAttribute("data-k360-cls", want);
      }
    }

    // --- tooltip and profile popup -------------------------------------------
    function tooltip(idx) {
      var st = self.state, box = el("div");
      box.appendChild(el("div", "k360-tt-name", cfg.names[idx]));
      if (cfg.parents[idx]) { box.appendChild(el("div", "k360-tt-muted", cfg.parents[idx])); }
      if (!st) { return box; }
      var line = el("div");
      line.appendChild(document.createTextNode(st.label + ": "));
      line.appendChild(el("b", null, st.v[idx]));
      box.appendChild(line);
      var meta = [];
      if (st.r[idx]) { meta.push(tpl(st.rank_text, {rank: st.r[idx]})); }
      meta.push(st.year_text);
      box.appendChild(el("div", "k360-tt-muted", meta.join(" \u00b7 ")));
      return box;
    }
    function spark(series, avg) {
      var w = 84, h = 22, lo = Infinity, hi = -Infinity, n = series.length, j;
      var all = series.concat(avg);
      for (j = 0; j < all.length; j++) {
        if (typeof all[j] === "number") { lo = Math.min(lo, all[j]); hi = Math.max(hi, all[j]); }
      }
      var svg = document.createElementNS(SVGNS, "svg");
      svg.setAttribute("width", w); svg.setAttribute("height", h); svg.setAttribute("class", "k360-spark");
      if (!isFinite(lo)) { return svg; }
      if (hi === lo) { hi = lo + 1; lo = lo - 1; }
      function line(vals, cls) {
        var pts = [];
        for (var q = 0; q < n; q++) {
          if (typeof vals[q] !== "number") { continue; }
          var x = n > 1 ? 2 + q * (w - 4) / (n - 1) : w / 2;
          var y = h - 2 - (vals[q] - lo) * (h - 4) / (hi - lo);
          pts.push(x.toFixed(1) + "," + y.toFixed(1));
        }
        if (!pts.length) { return; }
        var pl = document.createElementNS(SVGNS, "polyline");
        pl.setAttribute("points", pts.length === 1 ? pts[0] + " " + pts[0] : pts.join(" "));
        pl.setAttribute("class", cls);
        svg.appendChild(pl);
      }
      line(avg, "k360-spark-city");
      line(series, "k360-spark-area");
      return svg;
    }
    function cellText(v, d, unit) {
      if (v === "s") { return cfg.i18n.suppressed; }
      if (typeof v !== "number") { return cfg.i18n.missing; }
      return withUnit(fmtNum(v, d), unit);
    }
    function popup(idx) {
      var P = cfg.profile, st = self.state, box = el("div", "k360-profile");
      box.setAttribute("data-k360-area", cfg.ids[idx]);
      box.appendChild(el("div", "k360-tt-name", cfg.names[idx]));
      if (cfg.parents[idx]) { box.appendChild(el("div", "k360-tt-muted", cfg.parents[idx])); }
      if (!P || !P.ind.length) { return box; }
      var yi = st ? P.years.indexOf(st.year) : -1;
      if (yi < 0) { yi = P.years.length - 1; }
      box.appendChild(el("div", "k360-tt-muted",
        tpl(cfg.i18n.profile_title, {year: P.years[yi], first: P.years[0], last: P.years[P.years.length - 1]})));
      var table = el("table"), head = el("tr");
      [cfg.i18n.col_indicator, cfg.i18n.col_area, cfg.i18n.col_city, cfg.i18n.col_trend].forEach(function (t) {
        head.appendChild(el("th", null, t));
      });
      table.appendChild(head);
      P.ind.forEach(function (info, k) {
        var tr = el("tr"), v = P.v[k][yi][idx], avg = P.avg[k][yi];
        tr.appendChild(el("td", null, info.label));
        var td = el("td", "k360-num", cellText(v, info.dec, info.unit));
        if (typeof v === "number" && typeof avg === "number" && info.pol) {
          var diff = (v - avg) * info.pol, tol = Math.abs(avg) * 0.05;
          if (diff > tol) { td.className += " k360-worse"; td.title = cfg.i18n.worse; }
          else if (diff < -tol) { td.className += " k360-better"; td.title = cfg.i18n.better; }
        }
        tr.appendChild(td);
        tr.appendChild(el("td", "k360-num", cellText(avg, info.dec, info.unit)));
        var series = P.v[k].map(function (row) { return row[idx]; });
        var tdTrend = el("td");
        var sp = spark(series, P.avg[k]);
        var title = document.createElementNS(SVGNS, "title");
        title.textContent = P.years.map(function (y, q) {
          return y + ": " + cellText(series[q], info.dec, info.unit);
        }).join("; ");
        sp.appendChild(title);
        tdTrend.appendChild(sp);
        tr.appendChild(tdTrend);
        table.appendChild(tr);
      });
      box.appendChild(table);
      box.appendChild(el("div", "k360-note", cfg.i18n.profile_note));
      return box;
    }

    // --- legend ----------------------------------------------------------------
    var legendDiv = null;
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      legendDiv = L.DomUtil.create("div", "k360-legend");
      legendDiv.id = "k360-legend";
      legendDiv.setAttribute("role", "region");
      L.DomEvent.disableClickPropagation(legendDiv);
      L.DomEvent.disableScrollPropagation(legendDiv);
      return legendDiv;
    };
    legend.addTo(map);

    // --- facilities ------------------------------------------------------------
    var F = cfg.facilities, control = null;
    if (F || cfg.layer_control) {
      control = L.control.layers(null, null, {collapsed: true, position: "topright"});
      control.addOverlay(group, cfg.i18n.areas_layer);
      control.addTo(map);
    }
    function facPopup(k, p) {
      var kind = F.kinds[k], box = el("div", "k360-facility-popup");
      box.appendChild(el("div", "k360-tt-name", p[2]));
      box.appendChild(el("div", null, kind.label));
      if (typeof p[3] === "number") {
        box.appendChild(el("div", null, tpl(cfg.i18n.capacity, {capacity: fmtNum(p[3], 0)})));
      }
      if (p[4] >= 0 && F.groups[p[4]]) { box.appendChild(el("div", "k360-tt-muted", F.groups[p[4]])); }
      return box;
    }
    function buildKind(k, points) {
      if (self.fac[k]) { return; }
      var kind = F.kinds[k];
      var icon = L.divIcon({className: "k360-fac k360-fac-" + k, html: "<span>" + kind.glyph + "</span>",
                            iconSize: [18, 18], iconAnchor: [9, 9], popupAnchor: [0, -8]});
      var layer = F.cluster && L.markerClusterGroup ? L.markerClusterGroup({
        showCoverageOnHover: false, maxClusterRadius: 45, chunkedLoading: true,
        iconCreateFunction: function (c) {
          return L.divIcon({className: "k360-cluster k360-cluster-" + k,
                            html: "<div>" + Number(c.getChildCount()) + "</div>", iconSize: [30, 30]});
        }}) : L.featureGroup();
      var markers = points.map(function (p) {
        var m = L.marker([p[0], p[1]], {icon: icon, title: p[2], keyboard: false});
        m.bindPopup(function () { return facPopup(k, p); }, {className: "k360-popup"});
        return m;
      });
      if (layer.addLayers) { layer.addLayers(markers); } else { markers.forEach(function (m) { layer.addLayer(m); }); }
      self.fac[k] = layer;
      if (control) { control.addOverlay(layer, kind.layer_html); }
    }
    function loadFacilities(points) {
      if (!F || !points) { return; }
      if (points.groups) { F.groups = points.groups; }
      Object.keys(points).forEach(function (k) { if (k !== "groups") { buildKind(+k, points[k]); } });
      showKinds(self.kinds || []);
    }
    function showKinds(kinds) {
      if (!F) { return; }
      Object.keys(self.fac).forEach(function (k) {
        var on = kinds.indexOf(+k) >= 0, layer = self.fac[k];
        if (on && !map.hasLayer(layer)) { layer.addTo(map); }
        if (!on && map.hasLayer(layer)) { map.removeLayer(layer); }
      });
    }

    // --- state -----------------------------------------------------------------
    function select(idx, zoom, withPopup) {
      var prev = self.sel;
      self.sel = idx;
      if (prev >= 0 && prev < self.layers.length) { restyle(prev); self.layers[prev].closePopup(); }
      if (idx >= 0 && idx < self.layers.length) {
        var layer = self.layers[idx], bounds = layer.getBounds();
        restyle(idx);
        layer.bringToFront();
        if (!bounds.isValid()) { return; }  // an area without geometry
        if (zoom) {
          touched = true;
          // a frame that is not laid out yet has no size: fit when it gets one
          if (map.getSize().x < 50 || map.getSize().y < 50) { pendingFit = bounds; }
          else { map.fitBounds(bounds, FIT); }
        }
        if (withPopup) { layer.openPopup(bounds.getCenter()); }
      }
    }
    function apply(st) {
      self.state = st;
      for (var q = 0; q < self.layers.length; q++) { restyle(q); }
      if (legendDiv) {
        legendDiv.innerHTML = st.legend;
        legendDiv.setAttribute("aria-label", st.label);
        ["indicator", "year", "areas", "classes"].forEach(function (key) {
          legendDiv.setAttribute("data-k360-" + key, st.data[key]);
        });
      }
      if (st.sel !== self.sel) { select(st.sel, st.zoom, st.popup !== false); }
      var kinds = JSON.stringify(st.kinds || []);
      if (kinds !== JSON.stringify(self.kinds)) { self.kinds = st.kinds || []; showKinds(self.kinds); }
      self.layers.forEach(function (layer) {
        if (layer.isTooltipOpen && layer.isTooltipOpen()) { layer.getTooltip().setContent(tooltip(layer.k360i)); }
        if (layer.isPopupOpen && layer.isPopupOpen()) { layer.getPopup().setContent(popup(layer.k360i)); }
      });
      var body = document.body;
      body.setAttribute("data-k360-seq", st.seq);
      body.setAttribute("data-k360-indicator", st.data.indicator);
      body.setAttribute("data-k360-year", st.data.year);
      document.title = st.label + " " + st.data.year;
    }
    if (cfg.state) { apply(cfg.state); self.seq = cfg.state.seq; }
    else { for (var q0 = 0; q0 < self.layers.length; q0++) { restyle(q0); } }
    if (F && F.points) { loadFacilities(F.points); }

    // --- live channel (explorer app) ---------------------------------------------
    // the state is per map; profiles and facility points are shared by the maps of one
    // app (data-k360-sync names the app), so a comparison map does not get them twice
    var frame = null, pdoc = null, channel = null, shared = null;
    try {
      frame = window.frameElement;
      channel = frame && frame.getAttribute("data-k360-channel");
      shared = frame && (frame.getAttribute("data-k360-sync") || channel);
      pdoc = channel ? window.parent.document : null;
    } catch (err) { pdoc = null; }
    function poll() {
      if (!pdoc) { return; }
      if (!frame.isConnected) { if (self.observer) { self.observer.disconnect(); } pdoc = null; return; }
      var e = pdoc.getElementById(channel + "-state");
      if (e && e.getAttribute("data-seq") !== String(self.seq)) {
        self.seq = e.getAttribute("data-seq");
        try { apply(JSON.parse(e.textContent)); } catch (err) { if (window.console) { console.warn("k360:", err); } }
      }
      var f = pdoc.getElementById(shared + "-fac");
      if (f && f.getAttribute("data-seq") !== String(self.facSeq)) {
        self.facSeq = f.getAttribute("data-seq");
        try { loadFacilities(JSON.parse(f.textContent)); } catch (err) { if (window.console) { console.warn("k360:", err); } }
      }
      var p = pdoc.getElementById(shared + "-profile");
      if (p && p.getAttribute("data-seq") !== String(self.profileSeq)) {
        self.profileSeq = p.getAttribute("data-seq");
        try { cfg.profile = decodeProfile(JSON.parse(p.textContent)); } catch (err) { if (window.console) { console.warn("k360:", err); } }
      }
    }
    // the app's hidden "drawn" button: clicking it tells the kernel that the map is on screen,
    // so it starts its background work (data, panels) only now, not while the page loads
    var drawnSent = false;
    function reportDrawn() {
      if (drawnSent || !pdoc) { return; }
      var button = pdoc.querySelector("." + channel + "-drawn");
      if (button) { drawnSent = true; button.click(); }
    }
    if (pdoc) {
      self.channel = channel;
      poll();
      requestAnimationFrame(function () { setTimeout(reportDrawn, 0); });  // after the first paint
      self.observer = new MutationObserver(function () { poll(); if (!drawnSent) { requestAnimationFrame(reportDrawn); } });
      self.observer.observe(pdoc.body, {childList: true, subtree: true, characterData: true});
    }

    // --- synchronised views (side-by-side comparison) ------------------------------
    var sync = null;
    try { sync = frame && frame.getAttribute("data-k360-sync"); } catch (err) { sync = null; }
    if (sync && pdoc) {
      map.on("moveend", function () {
        if (self.syncing) { self.syncing = false; return; }
        var frames = pdoc.querySelectorAll("iframe[data-k360-sync]");
        for (var q = 0; q < frames.length; q++) {
          var other = frames[q];
          if (other === frame || other.getAttribute("data-k360-sync") !== sync) { continue; }
          try {
            var inst = other.contentWindow.k360map && other.contentWindow.k360map.instance;
            if (inst) { inst.syncTo(map.getCenter(), map.getZoom()); }
          } catch (err) { /* another origin: no sync */ }
        }
      });
    }
    if (sync && pdoc) {  // a map that joins later (comparison) starts where the others are
      setTimeout(function () {
        var frames = pdoc.querySelectorAll("iframe[data-k360-sync]");
        for (var q = 0; q < frames.length; q++) {
          var other = frames[q];
          if (other === frame || other.getAttribute("data-k360-sync") !== sync) { continue; }
          try {
            var inst = other.contentWindow.k360map && other.contentWindow.k360map.instance;
            if (inst) { self.syncTo(inst.map.getCenter(), inst.map.getZoom()); return; }
          } catch (err) { /* another origin */ }
        }
      }, 0);
    }
    self.syncTo = function (center, zoom) {
      var c = map.getCenter();
      touched = true;
      if (map.getZoom() === zoom && Math.abs(c.lat - center.lat) < 1e-7 && Math.abs(c.lng - center.lng) < 1e-7) { return; }
      self.syncing = true;
      map.setView(center, zoom, {animate: false});
    };
    self.apply = apply;
    return self;
  };
})();
"""
