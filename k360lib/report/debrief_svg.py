"""Small, self-contained SVG pictures for the Planspiel debrief: line charts, maps, network, bars.

Pure Python (no matplotlib, no browser script): every function returns SVG
text that works inline in an HTML page, in an ipywidgets ``HTML`` and in a
file opened offline. Every text that reaches the SVG (area names, role
names, titles) is escaped with :func:`html.escape`.

Colours are ColorBrewer / Okabe–Ito (colour-blind safe); missing values are
hatched grey, never a colour of the scale.
"""

from __future__ import annotations

import math
from html import escape

__all__ = [
    "CHANGE_COLORS",
    "NEED_COLORS",
    "SERIES_COLORS",
    "AreaShapes",
    "bars_svg",
    "line_chart_svg",
    "map_svg",
    "network_svg",
    "nice_ticks",
]

#: sequential (ColorBrewer YlOrRd, 5 classes): low → high need
NEED_COLORS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: diverging (ColorBrewer RdBu, 5 classes): worse → unchanged → better
CHANGE_COLORS = ("#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0")
#: line colours (Okabe–Ito)
SERIES_COLORS = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#F0E442",
)
_MISSING = "#d9d9d9"
_FONT = "font-family:Arial,Helvetica,sans-serif"


def _e(text) -> str:
    return escape(str(text), quote=True)


def _n(v: float) -> str:
    """Compact coordinate text (one decimal)."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Return round tick values covering ``lo … hi`` (about ``n`` of them)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi - lo < 1e-12:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    if ticks[-1] < hi - 1e-12:
        ticks.append(round(v, 10))
    return ticks


def _fmt(v: float, decimals: int, lang: str) -> str:
    text = f"{v:,.{decimals}f}"
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


# ---------------------------------------------------------------------------------------------
# line chart
# ---------------------------------------------------------------------------------------------
def line_chart_svg(
    series: list[dict],
    *,
    title: str,
    x_label: str = "",
    x_ticks: list[tuple[float, str]] | None = None,
    decimals: int = 1,
    lang: str = "de",
    width: int = 360,
    height: int = 210,
    css_class: str = "k360-chart",
    data: dict | None = None,
) -> str:
    """Return a line chart as SVG.

    Parameters
    ----------
    series : list of dict
        ``{"label": str, "points": [(x, y or None), ...], "color": str,
        "width": float, "dash": bool}``; ``None`` values break the line.
    title : str
        Shown above the plot.
    x_label : str
        Caption of the x axis.
    x_ticks : list of (x, text), optional
        Tick marks on the x axis (default: every x of the first series).
    decimals : int
        Decimals of the y tick labels.
    lang : {"de", "en"}
        Number format.
    width, height : int
        Size in pixels (the SVG scales with its container).
    css_class : str
        Class of the ``<svg>`` element.
    data : dict, optional
        Extra ``data-*`` attributes of the ``<svg>`` element.
    """
    left, right, top, bottom = 48, 10, 26, 34
    legend_rows = [s for s in series if s.get("label")]
    legend_h = 14 * len(legend_rows)
    pw, ph = width - left - right, height - top - bottom
    xs = [x for s in series for x, _ in s["points"]]
    ys = [y for s in series for _, y in s["points"] if y is not None and math.isfinite(y)]
    attrs = "".join(f' data-{_e(k)}="{_e(v)}"' for k, v in (data or {}).items())
    total_h = height + legend_h
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{_e(css_class)}"{attrs} '
        f'viewBox="0 0 {width} {total_h}" width="{width}" height="{total_h}" role="img" '
        f'style="{_FONT};font-size:11px;max-width:100%;height:auto">'
        f"<title>{_e(title)}</title>"
        f'<text x="4" y="15" font-weight="bold" font-size="12">{_e(_clip(title, int(width / 6.6)))}</text>'
    )
    if not xs or not ys:
        return head + f'<text x="{left}" y="{top + ph / 2}" fill="#666">–</text></svg>'
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x1 = x0 + 1
    ticks = nice_ticks(min(ys), max(ys))
    y0, y1 = ticks[0], ticks[-1]

    def px(x):
        return left + (x - x0) / (x1 - x0) * pw

    def py(y):
        return top + ph - (y - y0) / (y1 - y0) * ph

    out = [head]
    for tv in ticks:
        y = py(tv)
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{_n(y)}" y2="{_n(y)}" stroke="#e0e0e0"/>'
            f'<text x="{left - 4}" y="{_n(y + 3.5)}" text-anchor="end" fill="#444">'
            f"{_e(_fmt(tv, decimals, lang))}</text>"
        )
    if x_ticks is None:
        x_ticks = [(x, str(int(x)) if float(x).is_integer() else str(x)) for x in sorted(set(xs))]
    for xv, text in x_ticks:
        x = px(xv)
        out.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{top + ph}" y2="{top + ph + 4}" stroke="#444"/>'
            f'<text x="{_n(x)}" y="{top + ph + 15}" text-anchor="middle" fill="#444">{_e(text)}</text>'
        )
    out.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#444"/>'
    )
    if x_label:
        out.append(
            f'<text x="{left + pw / 2}" y="{top + ph + 29}" text-anchor="middle" fill="#444">'
            f"{_e(x_label)}</text>"
        )
    for s in series:
        color = s.get("color", "#000")
        w = s.get("width", 2)
        dash = ' stroke-dasharray="4 3"' if s.get("dash") else ""
        segs, cur = [], []
        for x, y in s["points"]:
            if y is None or not math.isfinite(y):
                if cur:
                    segs.append(cur)
                cur = []
            else:
                cur.append((px(x), py(y)))
        if cur:
            segs.append(cur)
        label = _e(s.get("label", ""))
        for seg in segs:
            d = " ".join(f"{_n(x)},{_n(y)}" for x, y in seg)
            out.append(
                f'<polyline class="k360-series" data-series="{label}" points="{d}" fill="none" '
                f'stroke="{_e(color)}" stroke-width="{w}"{dash}/>'
            )
            for x, y in seg:
                out.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.5" fill="{_e(color)}"/>')
    for i, s in enumerate(legend_rows):
        y = height + 14 * i + 4
        color = _e(s.get("color", "#000"))
        dash = ' stroke-dasharray="4 3"' if s.get("dash") else ""
        out.append(
            f'<line x1="{left}" x2="{left + 18}" y1="{y}" y2="{y}" stroke="{color}" '
            f'stroke-width="{s.get("width", 2)}"{dash}/>'
            f'<text x="{left + 24}" y="{y + 4}" fill="#222">{_e(s["label"])}</text>'
        )
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# maps
# ---------------------------------------------------------------------------------------------
class AreaShapes:
    """Area outlines projected to SVG coordinates (or a schematic grid when there is no geometry).

    Parameters
    ----------
    rings : dict
        ``{area_id: [[ring, ...], ...]}`` polygons of ``(lon, lat)`` rings
        (the first ring of a polygon is its outline, the others are holes).
    width : int
        Width of the drawing in SVG units.

    Attributes
    ----------
    paths : dict
        ``{area_id: "M … Z"}`` SVG path data.
    anchors : dict
        ``{area_id: (x, y)}`` label point (centroid of the largest outline).
    width, height : float
        Size of the drawing.
    schematic : bool
        ``True`` when built by :meth:`grid` (no real geometry).
    """

    def __init__(self, rings: dict, width: int = 400):
        self.schematic = False
        pts = [
            (x, y)
            for polys in rings.values()
            for poly in polys
            for ring in poly[:1]
            for x, y in ring
        ]
        if not pts:
            raise ValueError("no geometry")
        west = min(p[0] for p in pts)
        east = max(p[0] for p in pts)
        south = min(p[1] for p in pts)
        north = max(p[1] for p in pts)
        kx = math.cos(math.radians((south + north) / 2))
        span = max((east - west) * kx, 1e-9)
        k = width / span
        self.width = float(width)
        self.height = max((north - south) * k, 1.0)
        self.paths: dict[str, str] = {}
        self.anchors: dict[str, tuple[float, float]] = {}
        for area, polys in rings.items():
            parts = []
            best = (-1.0, (0.0, 0.0))
            for poly in polys:
                for j, ring in enumerate(poly):
                    xy = [((x - west) * kx * k, (north - y) * k) for x, y in ring]
                    text = []
                    last = None
                    for x, y in xy:
                        t = f"{_n(x)},{_n(y)}"
                        if t != last:
                            text.append(t)
                        last = t
                    if len(text) < 3:
                        continue
                    parts.append("M" + "L".join(text) + "Z")
                    if j == 0:
                        a, c = _centroid(xy)
                        if abs(a) > best[0]:
                            best = (abs(a), c)
            self.paths[str(area)] = "".join(parts)
            self.anchors[str(area)] = best[1]

    @classmethod
    def grid(cls, area_ids: list[str], groups: list[str] | None = None, width: int = 400):
        """Return a schematic map: one square per area, in rows, grouped by ``groups``."""
        self = cls.__new__(cls)
        self.schematic = True
        n = max(len(area_ids), 1)
        order = sorted(range(len(area_ids)), key=lambda i: ((groups or [""] * n)[i], i))
        cols = max(1, math.ceil(math.sqrt(n * 1.4)))
        cell = width / cols
        rows = math.ceil(n / cols)
        self.width = float(width)
        self.height = rows * cell
        self.paths, self.anchors = {}, {}
        for k, i in enumerate(order):
            r, c = divmod(k, cols)
            x, y, s = c * cell + 2, r * cell + 2, cell - 4
            self.paths[area_ids[i]] = (
                f"M{_n(x)},{_n(y)}L{_n(x + s)},{_n(y)}L{_n(x + s)},{_n(y + s)}L{_n(x)},{_n(y + s)}Z"
            )
            self.anchors[area_ids[i]] = (x + s / 2, y + s / 2)
        return self


def _centroid(xy: list[tuple[float, float]]) -> tuple[float, tuple[float, float]]:
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(xy, xy[1:] + xy[:1]):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-12:
        xs = [p[0] for p in xy]
        ys = [p[1] for p in xy]
        return 0.0, (sum(xs) / len(xs), sum(ys) / len(ys))
    return a / 2, (cx / (3 * a), cy / (3 * a))


def map_svg(
    shapes: AreaShapes,
    fills: dict[str, str | None],
    *,
    title: str,
    tooltips: dict[str, str],
    legend: list[tuple[str, str | None]],
    markers: dict[str, int] | None = None,
    marker_label: str = "",
    uid: str = "m",
    css_class: str = "k360-map",
    data: dict | None = None,
) -> str:
    """Return a map as SVG: one ``<path class="k360-area">`` per area.

    Parameters
    ----------
    shapes : AreaShapes
        The outlines.
    fills : dict
        ``{area_id: colour}``; ``None`` → hatched grey (no value).
    title : str
        Caption above the map.
    tooltips : dict
        ``{area_id: text}`` shown on hover (``<title>``).
    legend : list of (text, colour or None)
        Legend rows (``None`` = the hatch of missing values).
    markers : dict, optional
        ``{area_id: count}`` drawn as numbered circles (e.g. measures started).
    marker_label : str
        Legend text of the markers.
    uid : str
        Unique id prefix inside the page (for the hatch pattern).
    css_class : str
        Class of the ``<svg>`` element.
    data : dict, optional
        Extra ``data-*`` attributes of the ``<svg>`` element.
    """
    w, h = shapes.width, shapes.height
    legend_h = 16 * (len(legend) + (1 if markers else 0)) + 6
    top = 22
    total_h = top + h + legend_h
    pid = f"k360-hatch-{_e(uid)}"
    attrs = "".join(f' data-{_e(k)}="{_e(v)}"' for k, v in (data or {}).items())
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{_e(css_class)}"{attrs} '
        f'viewBox="-2 0 {_n(w + 4)} {_n(total_h)}" width="{_n(w + 4)}" height="{_n(total_h)}" '
        f'role="img" style="{_FONT};font-size:11px;max-width:100%;height:auto">'
        f"<title>{_e(title)}</title>"
        f'<defs><pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{_MISSING}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#8c8c8c" stroke-width="2"/></pattern></defs>'
        f'<text x="0" y="14" font-weight="bold" font-size="12">{_e(_clip(title, int(w / 6.6)))}</text>'
        f'<g transform="translate(0,{top})">'
    ]
    for area, d in shapes.paths.items():
        fill = fills.get(area)
        paint = _e(fill) if fill else f"url(#{pid})"
        tip = tooltips.get(area, area)
        out.append(
            f'<path class="k360-area" data-area="{_e(area)}" d="{d}" fill="{paint}" '
            f'fill-rule="evenodd" stroke="#555" stroke-width="0.6"><title>{_e(tip)}</title></path>'
        )
    for area, count in (markers or {}).items():
        if not count or area not in shapes.anchors:
            continue
        x, y = shapes.anchors[area]
        out.append(
            f'<g class="k360-marker" data-area="{_e(area)}" data-count="{int(count)}">'
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="7" fill="#fff" stroke="#000" stroke-width="1.2"/>'
            f'<text x="{_n(x)}" y="{_n(y + 3.5)}" text-anchor="middle" font-size="9" '
            f'font-weight="bold">{int(count)}</text></g>'
        )
    out.append("</g>")
    y = top + h + 14
    for text, color in legend:
        paint = _e(color) if color else f"url(#{pid})"
        out.append(
            f'<rect x="0" y="{_n(y - 9)}" width="14" height="10" fill="{paint}" stroke="#555" '
            f'stroke-width="0.5"/><text x="20" y="{_n(y)}">{_e(text)}</text>'
        )
        y += 16
    if markers:
        out.append(
            f'<circle cx="7" cy="{_n(y - 4)}" r="6" fill="#fff" stroke="#000"/>'
            f'<text x="20" y="{_n(y)}">{_e(marker_label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# network
# ---------------------------------------------------------------------------------------------
def network_svg(
    nodes: list[dict],
    edges: list[dict],
    *,
    title: str,
    amount_label,
    width: int = 640,
    css_class: str = "k360-network",
    max_edge_labels: int = 10,
) -> str:
    """Return the co-funding network as SVG: roles on a circle, edges as wide as the money.

    Parameters
    ----------
    nodes : list of dict
        ``{"id", "label", "short", "color"}``.
    edges : list of dict
        ``{"source", "target", "amount", "measures"}`` (amount 0 = worked
        together without money: dashed).
    title : str
        Caption.
    amount_label : callable
        ``amount_label(edge) -> str`` for the edge's tooltip and label.
    width : int
        Size (square drawing plus caption).
    css_class : str
        Class of the ``<svg>`` element.
    max_edge_labels : int
        Only the largest edges carry their amount as text (all have a tooltip).
    """
    r = min(160.0, width / 2 - 150)
    cx, cy = width / 2, r + 44
    height = 2 * r + 88
    top = 22
    pos = {}
    n = max(len(nodes), 1)
    angles = {}
    for i, node in enumerate(nodes):
        a = -math.pi / 2 + 2 * math.pi * i / n
        angles[node["id"]] = a
        pos[node["id"]] = (cx + r * math.cos(a), top + cy + r * math.sin(a))
    amax = max([e["amount"] for e in edges] + [1e-9])
    labelled = {id(e) for e in sorted(edges, key=lambda e: -e["amount"])[:max_edge_labels]}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{_e(css_class)}" '
        f'viewBox="0 0 {width} {_n(height + top)}" width="{width}" height="{_n(height + top)}" '
        f'role="img" style="{_FONT};font-size:11px;max-width:100%;height:auto">'
        f"<title>{_e(title)}</title>"
        f'<text x="4" y="14" font-weight="bold" font-size="12">{_e(title)}</text>'
    ]
    for e in edges:
        if e["source"] not in pos or e["target"] not in pos:
            continue
        (x0, y0), (x1, y1) = pos[e["source"]], pos[e["target"]]
        sw = 1.5 + 10 * e["amount"] / amax if e["amount"] > 0 else 1.5
        dash = ' stroke-dasharray="5 4"' if e["amount"] <= 0 else ""
        label = amount_label(e)
        text = e.get("short_label", "") if id(e) in labelled else ""
        out.append(
            f'<g class="k360-net-edge" data-source="{_e(e["source"])}" data-target="{_e(e["target"])}" '
            f'data-amount="{e["amount"]:.4f}">'
            f'<line x1="{_n(x0)}" y1="{_n(y0)}" x2="{_n(x1)}" y2="{_n(y1)}" stroke="#5b7fa6" '
            f'stroke-opacity="0.75" stroke-width="{_n(sw)}"{dash}><title>{_e(label)}</title></line>'
            + (
                f'<text x="{_n(x0 + (x1 - x0) * 0.42)}" y="{_n(y0 + (y1 - y0) * 0.42 - 3)}" '
                f'text-anchor="middle" fill="#1f3b5a" font-size="10" paint-order="stroke" '
                f'stroke="#fff" stroke-width="3">{_e(text)}</text>'
                if text
                else ""
            )
            + "</g>"
        )
    for node in nodes:
        x, y = pos[node["id"]]
        a = angles[node["id"]]
        ca, sa = math.cos(a), math.sin(a)
        anchor = "middle" if abs(ca) < 0.3 else ("start" if ca > 0 else "end")
        lx, ly = x + 27 * ca, y + 27 * sa + 4 + (8 * sa if abs(ca) < 0.3 else 0)
        out.append(
            f'<g class="k360-net-node" data-role="{_e(node["id"])}">'
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="20" fill="{_e(node.get("color", "#999"))}" '
            f'stroke="#222"><title>{_e(node["label"])}</title></circle>'
            f'<text x="{_n(x)}" y="{_n(y + 4)}" text-anchor="middle" font-weight="bold" fill="#fff" '
            f'paint-order="stroke" stroke="#222" stroke-width="2">{_e(node.get("short", ""))}</text>'
            f'<text x="{_n(lx)}" y="{_n(ly)}" text-anchor="{anchor}" fill="#222" paint-order="stroke" '
            f'stroke="#fff" stroke-width="3">{_e(_clip(node["label"], 40 if anchor == "middle" else 24))}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


def _clip(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------------------------
# bars
# ---------------------------------------------------------------------------------------------
def bars_svg(
    rows: list[dict],
    *,
    title: str,
    width: int = 420,
    css_class: str = "k360-bars",
) -> str:
    """Return horizontal progress bars (0 … 1): ``{"label", "value", "text", "color"}`` per row."""
    left, bar_w, row_h, top = 170, width - 170 - 60, 22, 24
    h = top + row_h * len(rows) + 6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{_e(css_class)}" viewBox="0 0 {width} {h}" '
        f'width="{width}" height="{h}" role="img" style="{_FONT};font-size:11px;max-width:100%;height:auto">'
        f"<title>{_e(title)}</title>"
        f'<text x="4" y="14" font-weight="bold" font-size="12">{_e(title)}</text>'
    ]
    for i, r in enumerate(rows):
        y = top + i * row_h
        v = max(0.0, min(1.0, float(r["value"])))
        out.append(
            f'<g class="k360-bar" data-label="{_e(r["label"])}" data-value="{v:.4f}">'
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(_clip(r["label"], 30))}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{bar_w}" height="13" fill="#eeeeee"/>'
            f'<rect x="{left}" y="{y + 3}" width="{_n(bar_w * v)}" height="13" '
            f'fill="{_e(r.get("color", "#0072B2"))}"/>'
            f'<text x="{left + bar_w + 6}" y="{y + 13}">{_e(r.get("text", ""))}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)
