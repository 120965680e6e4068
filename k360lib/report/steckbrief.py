"""The printable one-page profile of a Sozialraum ("Steckbrief"), as standalone HTML.

One A4 page: where the area lies (a small map of the area, its neighbours
and the city outline, drawn as inline SVG — no scripts, no network), its key
indicators next to the city mean with their trend, its need index with the
weights used, and the facilities in it. Every text is escaped; suppressed
values appear only as "zu wenige Fälle".
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

from k360lib.i18n import normalize_lang, t

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.atlas.indicators import NeedIndex
    from k360lib.atlas.model import Atlas

__all__ = ["steckbrief_html"]

_CSS = """
@page{size:A4;margin:14mm;}
*{box-sizing:border-box;}
body{font:10.5pt/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#222;margin:0;padding:16px;
 max-width:190mm;}
h1{font-size:17pt;margin:0 0 2px 0;} h2{font-size:11.5pt;margin:14px 0 4px 0;border-bottom:1px solid #bbb;}
.k360-sb-sub{color:#555;margin-bottom:8px;}
.k360-sb-note{background:#fff8e1;border-left:4px solid #f0b400;padding:4px 8px;font-size:9pt;margin:6px 0;}
.k360-sb-top{display:flex;gap:16px;align-items:flex-start;}
.k360-sb-top svg{flex:none;border:1px solid #ddd;background:#fafafa;}
table{border-collapse:collapse;width:100%;}
th{text-align:left;font-weight:600;border-bottom:1px solid #999;padding:2px 4px;font-size:9.5pt;}
td{padding:2px 4px;border-bottom:1px solid #e5e5e5;vertical-align:middle;font-size:9.5pt;}
td.num{text-align:right;white-space:nowrap;}
.worse{color:#b35806;font-weight:600;} .better{color:#2166ac;font-weight:600;}
.k360-sb-foot{margin-top:12px;color:#666;font-size:8.5pt;}
.spark polyline{fill:none;stroke-width:1.5;} .spark .a{stroke:#b35806;} .spark .c{stroke:#777;stroke-dasharray:3 2;}
@media print{body{padding:0;} .k360-sb-note{break-inside:avoid;}}
"""


def _svg_map(atlas: Atlas, area_id: str, size=(260, 200)) -> str:
    """Draw a small overview map: the city outline, the area's neighbours and the area itself."""
    import shapely

    metric = atlas.areas.to_crs(atlas.metric_crs())
    geoms = metric.geometry.to_numpy()
    ids = metric["area_id"].astype(str).tolist()
    i = ids.index(area_id)
    minx, miny, maxx, maxy = metric.total_bounds
    w, h = size
    span = max(maxx - minx, maxy - miny) or 1.0
    scale = min((w - 10) / (maxx - minx or 1.0), (h - 10) / (maxy - miny or 1.0))
    tol = span / 400

    def path(geom) -> str:
        geom = shapely.simplify(geom, tol, preserve_topology=True)
        parts = []
        for poly in shapely.get_parts(geom):
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                pts = [
                    f"{5 + (x - minx) * scale:.1f},{h - 5 - (y - miny) * scale:.1f}"
                    for x, y in ring.coords
                ]
                parts.append("M" + "L".join(pts) + "Z")
        return "".join(parts)

    outline = shapely.union_all(shapely.buffer(geoms, tol / 2)).buffer(-tol / 2)
    me = geoms[i]
    near = [g for j, g in enumerate(geoms) if j != i and shapely.intersects(g, me.buffer(tol))]
    title = html.escape(str(atlas.areas["name"].iloc[i]))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img"><title>{title}</title>',
        f'<path d="{path(outline)}" fill="#f0f0f0" stroke="#888" stroke-width="1"/>',
    ]
    out += [f'<path d="{path(g)}" fill="#e3e3e3" stroke="#aaa" stroke-width="0.6"/>' for g in near]
    out.append(f'<path d="{path(me)}" fill="#e6550d" stroke="#7f2704" stroke-width="1.2"/>')
    out.append("</svg>")
    return "".join(out)


def _spark(values: list, city: list) -> str:
    w, h = 90, 22
    nums = [v for v in values + city if isinstance(v, (int, float)) and math.isfinite(v)]
    if not nums:
        return ""
    lo, hi = min(nums), max(nums)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    n = len(values)

    def line(vals, cls):
        pts = []
        for q, v in enumerate(vals):
            if isinstance(v, (int, float)) and math.isfinite(v):
                x = 2 + q * (w - 4) / (n - 1) if n > 1 else w / 2
                y = h - 2 - (v - lo) * (h - 4) / (hi - lo)
                pts.append(f"{x:.1f},{y:.1f}")
        if not pts:
            return ""
        if len(pts) == 1:
            pts.append(pts[0])
        return f'<polyline class="{cls}" points="{" ".join(pts)}"/>'

    return (
        f'<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        f"{line(city, 'c')}{line(values, 'a')}</svg>"
    )


def steckbrief_html(
    atlas: Atlas,
    area_id: str,
    year: int | None = None,
    lang: str | None = None,
    need: NeedIndex | None = None,
    indicators: list[str] | None = None,
) -> str:
    """Return the printable profile of one area as a standalone HTML document.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    area_id : str
        The area.
    year : int, optional
        Year of the values; default the latest year of the profile.
    lang : str, optional
        Language.
    need : NeedIndex, optional
        A need index to report (score, rank, class and the weights used).
    indicators : list of str, optional
        Key indicators; default :func:`k360lib.report.profile.default_profile_indicators`.

    Returns
    -------
    str
        A complete HTML document without scripts or external resources.

    Raises
    ------
    DataError
        If ``area_id`` is not an area of the atlas.
    """
    from k360lib.atlas.classify import format_number
    from k360lib.report.hotspots import facility_counts
    from k360lib.report.profile import area_profile, profile_data, sources_of

    lang = normalize_lang(lang)
    e = html.escape
    profile = area_profile(atlas, area_id, year, indicators, lang)  # validates area_id
    ids = atlas.areas["area_id"].astype(str).tolist()
    i = ids.index(str(area_id))
    name = str(atlas.areas["name"].iloc[i])
    districts = atlas.meta.get("districts") if isinstance(atlas.meta.get("districts"), dict) else {}
    parent = atlas.areas["parent_id"].iloc[i] if "parent_id" in atlas.areas.columns else None
    district = "" if parent is None or parent != parent else str(districts.get(str(parent), parent))
    shown_year = int(profile["year"].iloc[0]) if len(profile) else year
    city = atlas.name

    sub = [t("report.sb.area_key", lang, key=area_id)]
    if district:
        sub.append(t("maps.tooltip.parent", lang, parent=district))
    if city:
        sub.append(city)
    if shown_year is not None:
        sub.append(t("maps.tooltip.year", lang, year=shown_year))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{e(t('report.sb.title', lang, name=name))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(t('report.sb.title', lang, name=name))}</h1>",
        f'<div class="k360-sb-sub">{e(" · ".join(sub))}</div>',
    ]
    disclaimer = atlas.meta.get(f"disclaimer_{lang}") or atlas.meta.get("disclaimer_de")
    if atlas.meta.get("fictional") and disclaimer:
        parts.append(f'<div class="k360-sb-note">{e(str(disclaimer))}</div>')

    # location and need index side by side
    need_html = ""
    if need is not None:
        row = need.to_frame(lang)
        row = row[row["area_id"].astype(str) == str(area_id)]
        if len(row) and row["score"].iloc[0] == row["score"].iloc[0]:
            r = row.iloc[0]
            n_ranked = int(need.table["score"].notna().sum())
            need_html = (
                f"<h2>{e(t('report.sb.need', lang, year=need.year))}</h2>"
                f"<p>{e(t('report.sb.need_line', lang, score=format_number(float(r['score']), '{:.2f}', lang), rank=int(r['rank']), n=n_ranked))}"
                + (f"<br>{e(str(r['class_label']))}" if r.get("class_label") else "")
                + f"</p><p style='font-size:9pt;color:#555'>{e(need.explain(lang))}</p>"
            )
        else:
            need_html = (
                f"<h2>{e(t('report.sb.need', lang, year=need.year))}</h2>"
                f"<p>{e(t('report.sb.need_missing', lang))}</p>"
            )
    parts.append(
        f'<div class="k360-sb-top">{_svg_map(atlas, str(area_id))}<div style="flex:1">{need_html}</div></div>'
    )

    # key indicators
    if len(profile):
        data = profile_data(atlas, indicators, lang)
        k_of = {info["id"]: k for k, info in enumerate(data["ind"])}
        years = data["years"]
        parts.append(f"<h2>{e(t('report.sb.indicators', lang))}</h2><table>")
        parts.append(
            "<tr>"
            + "".join(
                f"<th>{e(h)}</th>"
                for h in (
                    t("maps.profile.indicator", lang),
                    t("maps.profile.area", lang),
                    t("maps.profile.city", lang),
                    t("report.col.rank", lang),
                    t("report.sb.trend", lang, first=years[0], last=years[-1]),
                )
            )
            + "</tr>"
        )
        for _, r in profile.iterrows():
            k = k_of[r["indicator"]]
            series = [
                c if isinstance(c, (int, float)) else None for c in (row[i] for row in data["v"][k])
            ]
            cls = {"worse": "num worse", "better": "num better"}.get(r["direction"], "num")
            rank = (
                f"{int(r['rank'])} / {int(r['n_ranked'])}"
                if r["rank"] == r["rank"] and r["rank"]
                else "–"
            )
            parts.append(
                f'<tr><td>{e(str(r["label"]))}</td><td class="{cls}">{e(str(r["value_text"]))}</td>'
                f'<td class="num">{e(str(r["city_text"]))}</td><td class="num">{e(rank)}</td>'
                f'<td title="{e(str(r["trend_text"]), quote=True)}">{_spark(series, data["avg"][k])}</td></tr>'
            )
        parts.append("</table>")
        parts.append(f'<div class="k360-sb-foot">{e(t("maps.profile.note", lang))}</div>')

    # facilities
    fac = atlas.facilities
    if fac is not None and len(fac):
        kinds = sorted(fac["kind"].dropna().astype(str).unique())
        meta_kinds = (
            atlas.meta.get("facility_kinds")
            if isinstance(atlas.meta.get("facility_kinds"), dict)
            else {}
        )
        rows = []
        for kind in kinds:
            counts = facility_counts(atlas, [kind])
            n = int(counts["n"].iloc[i])
            if not n:
                continue
            cap = counts["capacity"].iloc[i]
            label = (
                meta_kinds.get(kind, {}).get(lang, kind)
                if isinstance(meta_kinds.get(kind), dict)
                else kind
            )
            cap_text = format_number(float(cap), "{:,.0f}", lang) if cap == cap and cap else "–"
            rows.append(
                f'<tr><td>{e(str(label))}</td><td class="num">{n}</td><td class="num">{e(cap_text)}</td></tr>'
            )
        parts.append(f"<h2>{e(t('report.sb.facilities', lang))}</h2>")
        if rows:
            parts.append(
                f"<table><tr><th>{e(t('report.sb.kind', lang))}</th><th>{e(t('report.sb.count', lang))}</th>"
                f"<th>{e(t('report.sb.capacity', lang))}</th></tr>{''.join(rows)}</table>"
            )
        else:
            parts.append(f"<p>{e(t('report.sb.no_facilities', lang))}</p>")

    threshold = atlas.meta.get("suppression_threshold", 3)
    sources = sources_of(atlas, lang)
    foot = [t("report.sb.suppression", lang, threshold=threshold)]
    if sources:
        foot.append(t("report.sb.sources", lang, sources="; ".join(sources)))
    foot.append(t("report.sb.made_with", lang))
    parts.append(f'<div class="k360-sb-foot">{"<br>".join(e(f) for f in foot)}</div>')
    parts.append("</body></html>")
    return "\n".join(parts)
