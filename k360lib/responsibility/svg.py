"""Self-contained SVG pictures of the prevention chain and the actor network.

Pure strings, no UI library: the widgets show them inline and offer them for
download; data staff can write them into committee papers. Every piece of
text is escaped; the SVG loads nothing.

Colours are colour-blind safe: roles use a blue sequence (ColorBrewer
"Blues") plus purple for ``AR`` and green for ``C``; sectors use the
Okabe–Ito palette.

Examples
--------
>>> from k360lib.responsibility import load_catalog, prevention_chain
>>> m = load_catalog().default_matrix()
>>> svg = chain_svg(prevention_chain(m), m.catalog, "en")
>>> svg.startswith("<svg") and "Pregnancy" in svg
True
"""

from __future__ import annotations

import html
import math

from k360lib.i18n import normalize_lang, t
from k360lib.responsibility.catalog import SECTORS, phase_label, sector_label
from k360lib.responsibility.chain import ACTIVE_ROLES

__all__ = [
    "HANDOFF_COLORS",
    "ROLE_COLORS",
    "SECTOR_COLORS",
    "chain_svg",
    "network_svg",
    "svg_data_uri",
]

#: fill and text colour per role code
ROLE_COLORS: dict[str, tuple[str, str]] = {
    "AR": ("#3f007d", "#ffffff"),
    "A": ("#08519c", "#ffffff"),
    "R": ("#6baed6", "#000000"),
    "C": ("#c7e9c0", "#000000"),
    "I": ("#eeeeee", "#000000"),
}
#: colour per actor sector (Okabe–Ito)
SECTOR_COLORS: dict[str, str] = {
    "administration": "#0072B2",
    "politics": "#D55E00",
    "providers": "#009E73",
    "health": "#CC79A7",
    "school": "#E69F00",
    "federal_agency": "#56B4E9",
}
#: colour and symbol per hand-off status
HANDOFF_COLORS: dict[str, tuple[str, str]] = {
    "ok": ("#1a9850", "✓"),
    "weak": ("#e69f00", "!"),
    "break": ("#d73027", "✕"),
}
_FONT = "system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"
_STRENGTH = {"AR": 5, "A": 4, "R": 3, "C": 2, "I": 1}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _wrap(text: str, width: int) -> list[str]:
    """Split ``text`` into at most two lines of about ``width`` characters (the rest clipped)."""
    if len(text) <= width:
        return [text]
    cut = text.rfind(" ", 0, width + 1)
    if cut <= 0:
        return [_clip(text, width)]
    return [text[:cut], _clip(text[cut + 1 :], width)]


def svg_data_uri(svg: str) -> str:
    """Return ``svg`` as a ``data:image/svg+xml;base64,…`` URI (for download links)."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def chain_svg(chain, catalog, lang: str | None = None, *, title: str | None = None) -> str:
    """Draw the prevention chain: life phases left to right, actors as lanes.

    Parameters
    ----------
    chain : Chain
        From :func:`~k360lib.responsibility.chain.prevention_chain`.
    catalog : Catalog
    lang : str, optional
    title : str, optional
        Heading inside the picture (plain text).

    Returns
    -------
    str
        A standalone ``<svg>`` element (class ``k360-chain-svg``). Each lane
        cell shows the number of services and is coloured by the actor's
        strongest role in the phase; its tooltip lists the services. Gaps per
        phase are counted in red above the lanes; hand-off markers sit between
        the phases.
    """
    lang = normalize_lang(lang)
    label_w, col_w, head_h, lane_h, top = 250, 118, 74, 24, 40 if title else 10
    phases = chain.phases
    width = label_w + col_w * len(phases) + 16
    lanes = chain.actors
    gap_y = top + head_h
    lanes_y = gap_y + lane_h + 8
    legend_y = lanes_y + lane_h * max(len(lanes), 1) + 18
    height = legend_y + 54
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="k360-chain-svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title or t("resp.chain.title", lang))}" '
        f'font-family="{_e(_FONT)}" font-size="12">',
        "<style>.k360-chain-cell:hover rect{stroke:#000;stroke-width:2}"
        ".k360-chain-handoff:hover circle{stroke:#000;stroke-width:2}</style>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    if title:
        out.append(f'<text x="8" y="26" font-size="16" font-weight="600">{_e(title)}</text>')
    # phase headers
    for i, p in enumerate(phases):
        x = label_w + i * col_w
        fill = "#f4f6f8" if i % 2 == 0 else "#ffffff"
        out.append(
            f'<rect x="{x}" y="{top}" width="{col_w}" height="{legend_y - top - 8}" fill="{fill}"/>'
        )
        lines = _wrap(phase_label(p.phase, lang), 17)
        spans = "".join(
            f'<tspan x="{x + col_w / 2}" dy="{0 if k == 0 else 13}">{_e(line)}</tspan>'
            for k, line in enumerate(lines)
        )
        out.append(
            f'<text x="{x + col_w / 2}" y="{top + (14 if len(lines) > 1 else 20)}" text-anchor="middle" '
            f'font-weight="600">{spans}</text>'
        )
        out.append(
            f'<text x="{x + col_w / 2}" y="{top + 40}" text-anchor="middle" fill="#555">'
            f"{_e(t('resp.chain.n_services', lang, n=len(p.services)))}</text>"
        )
    # hand-off markers between phases
    index = {p.phase: i for i, p in enumerate(phases)}
    for h in chain.handoffs:
        i = index[h.to_phase]
        x = label_w + i * col_w
        colour, symbol = HANDOFF_COLORS[h.status]
        names = lambda ids: ", ".join(catalog.actor(a).short(lang) for a in ids) or "–"  # noqa: E731
        tip = t(
            f"resp.chain.handoff_{h.status}",
            lang,
            from_phase=phase_label(h.from_phase, lang),
            to_phase=phase_label(h.to_phase, lang),
            continuing=names(h.continuing),
            unlinked=names(h.unlinked),
            entering=names(h.entering),
        )
        out.append(
            f'<g class="k360-chain-handoff" data-status="{_e(h.status)}" data-from="{_e(h.from_phase)}" '
            f'data-to="{_e(h.to_phase)}"><title>{_e(tip)}</title>'
            f'<circle cx="{x}" cy="{top + 58}" r="10" fill="{colour}"/>'
            f'<text x="{x}" y="{top + 62.5}" text-anchor="middle" fill="#fff" font-weight="700">{symbol}</text></g>'
        )
    # gap row
    out.append(
        f'<text x="8" y="{gap_y + 16}" font-weight="600" fill="#b2182b">{_e(t("resp.chain.gaps", lang))}</text>'
    )
    for i, p in enumerate(phases):
        x = label_w + i * col_w
        n = len(p.gaps)
        names = "; ".join(catalog.service(s).name(lang) for s in p.gaps)
        tip = t("resp.chain.gap_tip", lang, n=n, services=names or "–")
        fill, colour = ("#fde0dd", "#b2182b") if n else ("#eef7ee", "#1a9850")
        out.append(
            f'<g class="k360-chain-gap" data-phase="{_e(p.phase)}" data-gaps="{n}"><title>{_e(tip)}</title>'
            f'<rect x="{x + 4}" y="{gap_y + 2}" width="{col_w - 8}" height="{lane_h - 4}" rx="4" fill="{fill}"/>'
            f'<text x="{x + col_w / 2}" y="{gap_y + 16}" text-anchor="middle" fill="{colour}" font-weight="600">'
            f"{n if n else '0'}</text></g>"
        )
    # lanes
    if not lanes:
        out.append(
            f'<text x="8" y="{lanes_y + 16}" fill="#555">{_e(t("resp.chain.no_roles", lang))}</text>'
        )
    for row, aid in enumerate(lanes):
        actor = catalog.actor(aid)
        y = lanes_y + row * lane_h
        colour = SECTOR_COLORS.get(actor.sector, "#999999")
        out.append(
            f'<g class="k360-chain-lane" data-actor="{_e(aid)}"><title>{_e(actor.name(lang))} · '
            f"{_e(sector_label(actor.sector, lang))}</title>"
            f'<rect x="8" y="{y + 7}" width="10" height="10" rx="2" fill="{colour}"/>'
            f'<text x="24" y="{y + 16}">{_e(_clip(actor.name(lang), 34))}</text></g>'
        )
        prev_active = False
        for i, p in enumerate(phases):
            services = p.lanes.get(aid)
            x = label_w + i * col_w
            if not services:
                prev_active = False
                continue
            active = any(r in ACTIVE_ROLES for r in services.values())
            if active and prev_active:
                out.append(
                    f'<rect x="{x - 6}" y="{y + 9}" width="12" height="6" fill="#08519c" opacity="0.55"/>'
                )
            prev_active = active
            strongest = max(services.values(), key=lambda r: _STRENGTH[r])
            bg, fg = ROLE_COLORS[strongest]
            items = "; ".join(
                f"{catalog.service(s).name(lang)} ({r})"
                for s, r in sorted(services.items(), key=lambda kv: catalog.service_order(kv[0]))
            )
            tip = f"{actor.name(lang)} – {phase_label(p.phase, lang)}: {items}"
            out.append(
                f'<g class="k360-chain-cell" data-actor="{_e(aid)}" data-phase="{_e(p.phase)}" '
                f'data-role="{_e(strongest)}"><title>{_e(tip)}</title>'
                f'<rect x="{x + 6}" y="{y + 3}" width="{col_w - 12}" height="{lane_h - 6}" rx="3" fill="{bg}"/>'
                f'<text x="{x + col_w / 2}" y="{y + 16}" text-anchor="middle" fill="{fg}" font-size="11">'
                f"{_e(strongest)} · {len(services)}</text></g>"
            )
    # legend
    x = 8
    out.append(
        f'<text x="{x}" y="{legend_y}" font-weight="600">{_e(t("resp.chain.legend", lang))}</text>'
    )
    x = 8
    for role in ("AR", "A", "R", "C", "I"):
        bg, fg = ROLE_COLORS[role]
        label = t(f"resp.role.{role}", lang)
        out.append(
            f'<rect x="{x}" y="{legend_y + 8}" width="26" height="16" rx="3" fill="{bg}"/>'
            f'<text x="{x + 13}" y="{legend_y + 20}" text-anchor="middle" fill="{fg}" font-size="10">{_e(role)}</text>'
            f'<text x="{x + 32}" y="{legend_y + 20}" font-size="11">{_e(label)}</text>'
        )
        x += 40 + 6.2 * len(label)
    x = 8
    for status, (colour, symbol) in HANDOFF_COLORS.items():
        label = t(f"resp.chain.status_{status}", lang)
        out.append(
            f'<circle cx="{x + 8}" cy="{legend_y + 40}" r="8" fill="{colour}"/>'
            f'<text x="{x + 8}" y="{legend_y + 44}" text-anchor="middle" fill="#fff" font-size="10" font-weight="700">{symbol}</text>'
            f'<text x="{x + 22}" y="{legend_y + 44}" font-size="11">{_e(label)}</text>'
        )
        x += 40 + 6.2 * len(label)
    out.append("</svg>")
    return "".join(out)


def network_svg(
    network,
    positions: dict[str, tuple[float, float]],
    catalog,
    lang: str | None = None,
    *,
    focus: str | None = None,
    width: int = 1000,
    height: int = 860,
    title: str | None = None,
) -> str:
    """Draw the actor network.

    Parameters
    ----------
    network : Network
    positions : dict
        ``{actor: (x, y)}`` in ``[0, 1]`` (from
        :func:`~k360lib.responsibility.network.network_layout`).
    catalog : Catalog
    lang : str, optional
    focus : str, optional
        Highlight this actor and its partners; dim the rest.
    width, height : int
        Size in pixels.
    title : str, optional
        Heading inside the picture.

    Returns
    -------
    str
        A standalone ``<svg>`` (class ``k360-network-svg``): nodes coloured by
        sector and sized by number of services, edges as wide as the number of
        shared services; tooltips name actors and shared services.
    """
    lang = normalize_lang(lang)
    top = 40 if title else 16
    legend_h = 34
    # nodes on a circle (the default layout) get radial labels around a round drawing
    radial = len(positions) > 2 and all(
        abs(math.hypot(x - 0.5, y - 0.5) - 0.5) < 0.01 for x, y in positions.values()
    )
    if radial:
        room = 180  # space for the labels outside the circle
        radius = max(40.0, min(width - 2 * room, height - top - legend_h - 2 * room) / 2)
        cx, cy = width / 2, top + (height - top - legend_h) / 2

        def xy(aid):
            x, y = positions.get(aid, (0.5, 0.5))
            return cx + (x - 0.5) * 2 * radius, cy + (y - 0.5) * 2 * radius

    else:
        pad_x, pad_y = 200, 24
        inner_w, inner_h = width - 2 * pad_x, height - top - 2 * pad_y - legend_h

        def xy(aid):
            x, y = positions.get(aid, (0.5, 0.5))
            return pad_x + x * inner_w, top + pad_y + y * inner_h

    neighbours = set(network.neighbours(focus)) | {focus} if focus else set()
    max_w = max((e.weight for e in network.edges), default=1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="k360-network-svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title or t("resp.net.title", lang))}" '
        f'font-family="{_e(_FONT)}" font-size="12">',
        "<style>.k360-net-node:hover circle{stroke:#000;stroke-width:3}"
        ".k360-net-edge:hover line{stroke:#000;stroke-opacity:0.9}</style>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    if title:
        out.append(f'<text x="8" y="26" font-size="16" font-weight="600">{_e(title)}</text>')
    if not network.nodes:
        out.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#555">'
            f"{_e(t('resp.net.empty', lang))}</text></svg>"
        )
        return "".join(out)
    for e in network.edges:
        (x1, y1), (x2, y2) = xy(e.a), xy(e.b)
        dim = focus is not None and focus not in (e.a, e.b)
        opacity = 0.08 if dim else (0.85 if focus else 0.35 + 0.4 * e.weight / max_w)
        colour = "#08519c" if (focus and not dim) else "#737373"
        w = 1 + 7 * e.weight / max_w
        services = "; ".join(catalog.service(s).name(lang) for s in e.services)
        tip = t(
            "resp.net.edge_tip",
            lang,
            a=catalog.actor(e.a).name(lang),
            b=catalog.actor(e.b).name(lang),
            n=e.weight,
            services=services,
        )
        out.append(
            f'<g class="k360-net-edge" data-a="{_e(e.a)}" data-b="{_e(e.b)}" data-weight="{e.weight}">'
            f"<title>{_e(tip)}</title>"
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-opacity="{opacity:.2f}" stroke-width="{w:.1f}" stroke-linecap="round"/></g>'
        )
    for n in network.nodes:
        actor = catalog.actor(n.actor)
        x, y = xy(n.actor)
        r = 7 + 2.2 * math.sqrt(n.n_services)
        dim = focus is not None and n.actor not in neighbours
        opacity = 0.25 if dim else 1.0
        stroke = "#000000" if n.actor == focus else "#ffffff"
        partners = len(network.neighbours(n.actor))
        tip = t(
            "resp.net.node_tip",
            lang,
            name=actor.name(lang),
            sector=sector_label(actor.sector, lang),
            n=n.n_services,
            partners=partners,
        )
        name = _e(_clip(actor.name(lang), 26 if radial else 30))
        if radial:
            px, py = positions.get(n.actor, (0.5, 0.5))
            angle = math.degrees(math.atan2(py - 0.5, px - 0.5))
            right = math.cos(math.radians(angle)) >= -1e-9
            lx = x + (r + 5) * math.cos(math.radians(angle))
            ly = y + (r + 5) * math.sin(math.radians(angle))
            rot = angle if right else angle + 180
            label = (
                f'<text x="{lx:.1f}" y="{ly:.1f}" dy="4" text-anchor="{"start" if right else "end"}" '
                f'transform="rotate({rot:.1f} {lx:.1f} {ly:.1f})" font-size="11" paint-order="stroke" '
                f'stroke="#ffffff" stroke-width="3">{name}</text>'
            )
        else:
            anchor = "start" if x < width / 2 else "end"
            dx = r + 4 if anchor == "start" else -(r + 4)
            label = (
                f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}" font-size="11" '
                f'paint-order="stroke" stroke="#ffffff" stroke-width="3">{name}</text>'
            )
        out.append(
            f'<g class="k360-net-node" data-actor="{_e(n.actor)}" data-sector="{_e(actor.sector)}" '
            f'opacity="{opacity}"><title>{_e(tip)}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{SECTOR_COLORS.get(actor.sector, "#999")}" '
            f'stroke="{stroke}" stroke-width="2"/>{label}</g>'
        )
    # sector legend
    x, y = 10, height - 16
    for sector in SECTORS:
        label = sector_label(sector, lang)
        out.append(
            f'<circle cx="{x + 6}" cy="{y - 4}" r="6" fill="{SECTOR_COLORS[sector]}"/>'
            f'<text x="{x + 16}" y="{y}" font-size="11">{_e(label)}</text>'
        )
        x += 30 + 6.0 * len(label)
    out.append("</svg>")
    return "".join(out)
