"""HTML pieces of the facilitator app: phase bar, monitor, codes with QR, budgets, results, log.

Plain functions ``state (+ lang) -> HTML string``; the numbers come from
:mod:`k360lib.game.monitor`. Every text that can come from a user (an
uploaded scenario's names, a workshop name, player text) is escaped. The
CSS classes are listed in :mod:`k360lib.widgets.facilitator`.
"""

from __future__ import annotations

import html
import math
import os
import posixpath
from urllib.parse import urlencode, urlsplit, urlunsplit

from k360lib.game import monitor as M
from k360lib.i18n import catalog, t

__all__ = [
    "CSS",
    "FACILITATOR_NOTEBOOK",
    "PLAYER_NOTEBOOK",
    "area_label",
    "budgets_html",
    "card_html",
    "cards_html",
    "codes_html",
    "countdown_text",
    "debrief_link_html",
    "debrief_url",
    "header_html",
    "join_url",
    "log_html",
    "measure_label",
    "monitor_html",
    "own_code_html",
    "own_page_url",
    "phase_label",
    "phasebar_html",
    "player_page_url",
    "proposals_html",
    "qr_svg",
    "results_html",
    "role_label",
]

#: The player app's notebook (a sibling of the facilitator's notebook).
PLAYER_NOTEBOOK = "04_mitspielen.ipynb"
#: The facilitator app's notebook.
FACILITATOR_NOTEBOOK = "03_spielleitung.ipynb"
#: The debrief app's notebook (a sibling of the player's notebook).
DEBRIEF_NOTEBOOK = "05_auswertung.ipynb"

_e = html.escape

CSS = """<style>
.k360-fac h2.k360-title{margin:0 0 4px 0;font-size:1.5em;font-weight:600;}
.k360-fac h3{font-size:1.1em;margin:10px 0 4px 0;}
.k360-fac .k360-msg{padding:6px 10px;margin:4px 0;border-radius:2px;}
.k360-fac .k360-msg-error{background:#fdecea;border-left:4px solid #c62828;color:#611a15;}
.k360-fac .k360-msg-ok{background:#e8f5e9;border-left:4px solid #2e7d32;color:#1b5e20;}
.k360-fac .k360-msg-info{background:#e8f1f8;border-left:4px solid #0072B2;color:#0b3954;}
.k360-fac .k360-msg ul{margin:4px 0 0 18px;padding:0;}
.k360-fac a.k360-fac-debrief-main{display:inline-block;margin:6px 0 2px 0;padding:4px 14px;border-radius:3px;
 background:#0072B2;color:#fff;font-weight:600;font-size:1.1em;text-decoration:none;}
.k360-fac .k360-note{color:#555;font-size:.92em;}
.k360-fac .k360-fac-header{display:flex;flex-wrap:wrap;gap:18px;align-items:baseline;padding:6px 10px;
 background:#f4f6f8;border-radius:4px;margin:4px 0;}
.k360-fac .k360-fac-header .k360-fac-game-code{font-family:monospace;font-size:1.4em;font-weight:700;letter-spacing:2px;}
.k360-fac .k360-fac-header .k360-fac-phase{font-size:1.3em;font-weight:700;color:#0072B2;}
.k360-fac .k360-badge{display:inline-block;border-radius:8px;padding:1px 8px;font-size:.85em;font-weight:700;}
.k360-fac .k360-badge-locked{background:#c62828;color:#fff;}
.k360-fac .k360-badge-mode{background:#e0e0e0;color:#333;}
.k360-fac .k360-fac-phasebar{display:flex;flex-wrap:wrap;gap:4px;margin:6px 0;}
.k360-fac .k360-fac-phase-step{padding:4px 10px;border-radius:14px;background:#eceff1;color:#555;font-size:.95em;}
.k360-fac .k360-fac-phase-step.k360-fac-phase-done{background:#cfd8dc;color:#37474f;}
.k360-fac .k360-fac-phase-step.k360-fac-phase-current{background:#0072B2;color:#fff;font-weight:700;}
.k360-fac .k360-fac-countdown{font-family:monospace;font-size:1.6em;font-weight:700;}
.k360-fac .k360-fac-countdown.k360-fac-over{color:#c62828;}
.k360-fac table.k360-table{border-collapse:collapse;font-size:.95em;margin:6px 0;}
.k360-fac table.k360-table th,.k360-fac table.k360-table td{border-bottom:1px solid #e0e0e0;padding:4px 8px;text-align:left;vertical-align:middle;}
.k360-fac table.k360-table th{background:#f4f6f8;}
.k360-fac .k360-fac-yes{color:#1b5e20;font-weight:700;}
.k360-fac .k360-fac-no{color:#9e9e9e;}
.k360-fac .k360-fac-code{font-family:monospace;font-size:1.25em;font-weight:700;letter-spacing:1px;}
.k360-fac .k360-fac-qr svg{display:block;background:#fff;}
.k360-fac .k360-fac-card{border:2px solid #e69f00;border-radius:6px;padding:6px 10px;margin:4px 0;background:#fff8e1;max-width:720px;}
.k360-fac .k360-fac-card b{font-size:1.05em;}
.k360-fac .k360-fac-budget{margin:3px 0;}
.k360-fac .k360-fac-bar{display:flex;height:16px;width:100%;max-width:520px;background:#eceff1;border-radius:3px;overflow:hidden;}
.k360-fac .k360-fac-bar span{display:block;height:100%;}
.k360-fac .k360-fac-bar .k360-spent{background:#0072B2;}
.k360-fac .k360-fac-bar .k360-due{background:#56B4E9;}
.k360-fac .k360-fac-bar .k360-pledged{background:#E69F00;}
.k360-fac .k360-fac-better{color:#1b5e20;}
.k360-fac .k360-fac-worse{color:#b2182b;}
.k360-fac .k360-fac-projector .k360-fac-big{font-size:1.8em;font-weight:700;}
.k360-fac .k360-fac-projector-row{gap:16px;}
.k360-fac .k360-status-approved{color:#1b5e20;font-weight:700;}
.k360-fac .k360-status-rejected,.k360-fac .k360-status-unfunded,.k360-fac .k360-status-withdrawn{color:#b2182b;}
.k360-fac .k360-fac-log{max-height:420px;overflow-y:auto;}
.k360-fac details.k360-fac-own-details summary{cursor:pointer;color:#0072B2;margin:8px 0;}
.k360-fac .k360-legend-swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px;}
</style>"""


# ---------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------
def phase_label(phase: str, lang: str) -> str:
    """Return the translated name of a phase (its id when the catalog has none)."""
    key = f"game.phase.{phase}"
    # i18n-dynamic: used only when the key is in the catalog (checked on the line above)
    return t(key, lang) if key in catalog() else phase


def role_label(state, role: str, lang: str, short: bool = False) -> str:
    """Return a role's name (or short name) in ``lang`` (not escaped)."""
    r = state.rules.roles.get(role)
    if r is None:
        return role
    if short and r.short:
        return r.short
    return r.label(lang)


def measure_label(state, measure: str, lang: str) -> str:
    """Return a measure's name in ``lang`` (not escaped)."""
    m = state.rules.measures.get(measure)
    return measure if m is None else m.label(lang)


def area_label(state, area: str) -> str:
    """Return ``name (id)`` of an area (not escaped)."""
    w = state.world
    if not w.has_area(area):
        return area
    return f"{w.names[w.area_index(area)]} ({area})"


def _money(value: float, lang: str) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    s = f"{value:,.0f}"
    return s.replace(",", ".") if lang == "de" else s


def _num(value: float, lang: str, digits: int = 2, sign: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    s = f"{value:+,.{digits}f}" if sign else f"{value:,.{digits}f}"
    if lang == "de":
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s


# ---------------------------------------------------------------------------
# links and QR codes
# ---------------------------------------------------------------------------
def player_page_url(env: dict | None = None, notebook: str = PLAYER_NOTEBOOK) -> str | None:
    """Return the absolute URL of the player app served by the same Voilà, if it can be known.

    ``$K360_PLAYER_URL`` wins. Otherwise the facilitator page's own URL
    (Voilà puts it into the kernel as ``VOILA_REQUEST_URL``) is used: when
    Voilà serves a folder, the facilitator runs at
    ``/voila/render/<folder>/03_spielleitung.ipynb`` and the player app is the
    sibling ``…/04_mitspielen.ipynb`` (also behind Binder's or JupyterHub's
    prefixes). When Voilà serves a single notebook (page at ``/``) the player
    app is not reachable there, and ``None`` is returned.

    Examples
    --------
    >>> player_page_url({"VOILA_REQUEST_URL": "http://10.0.0.5:8866/voila/render/03_spielleitung.ipynb?x=1"})
    'http://10.0.0.5:8866/voila/render/04_mitspielen.ipynb'
    >>> player_page_url({"VOILA_REQUEST_URL": "http://127.0.0.1:8866/"}) is None
    True
    """
    env = os.environ if env is None else env
    explicit = (env.get("K360_PLAYER_URL") or "").strip()
    if explicit:
        return explicit
    req = (env.get("VOILA_REQUEST_URL") or "").strip()
    if not req:
        return None
    parts = urlsplit(req)
    if not parts.path.endswith(".ipynb"):
        return None
    path = posixpath.join(posixpath.dirname(parts.path), notebook)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def join_url(page_url: str | None, query: str, notebook: str = PLAYER_NOTEBOOK) -> str:
    """Return the link that opens the player app with ``query`` (relative when the page is unknown)."""
    base = page_url or notebook
    return base + ("&" if "?" in base else "?") + query


def qr_svg(text: str, scale: int = 3) -> str:
    """Return an inline SVG QR code of ``text`` (segno; no image file, no network)."""
    import segno

    return segno.make(text, error="m").svg_inline(scale=scale, omitsize=False)


# ---------------------------------------------------------------------------
# header, phase bar, countdown
# ---------------------------------------------------------------------------
def header_html(state, lang: str, game_code: str, mode: str, name: str = "") -> str:
    """Return the game header: title, game code, round, phase, mode, lock."""
    info = M.phase_info(state)
    title = state.scenario.title.get(lang)
    if name:
        title = f"{name} – {title}"
    locked = (
        f'<span class="k360-badge k360-badge-locked k360-fac-locked">{_e(t("fac.header.locked", lang))}</span>'
        if info["locked"]
        else ""
    )
    rnd = t("fac.header.round", lang, round=info["round"], rounds=info["rounds"])
    return (
        f'<div class="k360-fac-header" data-phase="{_e(info["phase"])}" data-round="{info["round"]}" '
        f'data-version="{info["version"]}" data-status="{_e(info["status"])}" '
        f'data-locked="{int(info["locked"])}" data-mode="{_e(mode)}">'
        f"<span><b>{_e(title)}</b></span>"
        f'<span>{_e(t("fac.header.game_code", lang))} <span class="k360-fac-game-code">{_e(game_code)}</span></span>'
        f'<span class="k360-fac-round">{_e(rnd)}</span>'
        f'<span class="k360-fac-phase" data-phase="{_e(info["phase"])}">{_e(phase_label(info["phase"], lang))}</span>'
        # i18n-dynamic: play modes of facilitator.MODES (test_facilitator_app checks each)
        f'<span class="k360-badge k360-badge-mode">{_e(t(f"fac.mode.{mode}_short", lang))}</span>'
        f"{locked}</div>"
    )


def phasebar_html(state, lang: str) -> str:
    """Return the phases of a round as steps, the current one highlighted."""
    info = M.phase_info(state)
    steps = []
    for i, p in enumerate(info["phases"]):
        cls = "k360-fac-phase-step"
        if i < info["index"]:
            cls += " k360-fac-phase-done"
        elif i == info["index"]:
            cls += " k360-fac-phase-current"
        mins = state.scenario.phases[i].minutes
        extra = f" · {mins} min" if mins else ""
        steps.append(
            f'<span class="{cls}" data-phase="{_e(p)}">{i + 1}. {_e(phase_label(p, lang))}{extra}</span>'
        )
    if info["status"] == "ended":
        steps.append(
            f'<span class="k360-fac-phase-step k360-fac-phase-current" data-phase="ende">{_e(phase_label("ende", lang))}</span>'
        )
    text = ""
    if info["status"] != "ended":
        ph = state.scenario.phases[state.phase_index]
        if ph.text is not None:
            text = f'<div class="k360-note k360-fac-phase-text">{_e(ph.text.get(lang))}</div>'
    return f'<div class="k360-fac-phasebar">{"".join(steps)}</div>{text}'


def countdown_text(seconds: float | None, lang: str) -> str:
    """Return the countdown as HTML (``mm:ss``; red and negative when the time is over)."""
    if seconds is None:
        return f'<span class="k360-fac-countdown k360-fac-no-timer">{_e(t("fac.timer.none", lang))}</span>'
    over = seconds < 0
    s = int(abs(seconds) + (0 if over else 0.999))
    text = f"{'-' if over else ''}{s // 60:02d}:{s % 60:02d}"
    cls = "k360-fac-countdown" + (" k360-fac-over" if over else "")
    return f'<span class="{cls}" data-seconds="{int(seconds)}">{text}</span>'


# ---------------------------------------------------------------------------
# cards
# ---------------------------------------------------------------------------
def card_html(state, card_id: str, lang: str, resolved: dict | None = None) -> str:
    """Return one revealed event card (title, text, the areas it hit)."""
    card = state.rules.cards[card_id]
    areas = sorted({a for v in (resolved or {}).values() for a in v})
    where = ""
    if areas and len(areas) <= 6:
        names = ", ".join(area_label(state, a) for a in areas)
        where = f'<div class="k360-note">{_e(t("fac.cards.areas", lang, areas=names))}</div>'
    return (
        f'<div class="k360-fac-card" data-card="{_e(card.id)}"><b>{_e(card.title.get(lang))}</b>'
        f"<div>{_e(card.text.get(lang))}</div>{where}</div>"
    )


def cards_html(state, lang: str) -> str:
    """Return the event cards of the current round (or a note that none is drawn yet)."""
    played = M.cards_this_round(state)
    if not played:
        return f'<div class="k360-note k360-fac-no-card">{_e(t("fac.cards.none", lang))}</div>'
    return "".join(card_html(state, c["card"], lang, c.get("resolved")) for c in played)


# ---------------------------------------------------------------------------
# monitor
# ---------------------------------------------------------------------------
def monitor_html(state, lang: str) -> str:
    """Return who did what in this phase: one row per seat."""
    rows = []
    for r in M.role_activity(state):
        if r["done"]:
            mark = f'<span class="k360-fac-yes">✔ {_e(t("fac.monitor.done", lang))}</span>'
        elif r["acted"]:
            mark = f'<span class="k360-fac-yes">… {_e(t("fac.monitor.acting", lang))}</span>'
        elif r["expected"]:
            mark = f'<span class="k360-fac-no">– {_e(t("fac.monitor.waiting", lang))}</span>'
        else:
            mark = f'<span class="k360-fac-no">{_e(t("fac.monitor.not_needed", lang))}</span>'
        seat_role = role_label(state, r["seat"], lang, short=True)
        rows.append(
            f'<tr class="k360-fac-monitor-row" data-seat="{_e(r["seat"])}" data-role="{_e(r["role"])}" '
            f'data-acted="{int(r["acted"])}" data-done="{int(r["done"])}" data-actions="{r["actions"]}">'
            f"<td>{_e(seat_role)}</td><td>{_e(role_label(state, r['role'], lang))}</td>"
            f"<td>{mark}</td><td>{r['actions']}</td><td>{r['proposals']}</td></tr>"
        )
    head = "".join(
        f"<th>{_e(t(f'fac.monitor.col.{c}', lang))}</th>"
        for c in ("seat", "role", "status", "actions", "proposals")
    )
    return (
        f'<table class="k360-table k360-fac-monitor" data-phase="{_e(state.phase)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


# ---------------------------------------------------------------------------
# join codes
# ---------------------------------------------------------------------------
def codes_html(state, codes, lang: str, page_url: str | None, qr: bool = True) -> str:
    """Return the join code, link and QR code of every seat."""
    rows = []
    for seat, code in codes.seats.items():
        url = join_url(page_url, codes.query(seat, with_seat=True))
        img = f'<div class="k360-fac-qr">{qr_svg(url)}</div>' if qr and page_url else ""
        now = role_label(state, state.seat_roles.get(seat, seat), lang)
        rows.append(
            f'<tr class="k360-fac-seat" data-seat="{_e(seat)}" data-code="{_e(code)}">'
            f"<td><b>{_e(role_label(state, seat, lang))}</b>"
            + (
                f'<div class="k360-note">{_e(t("fac.codes.plays_now", lang, role=now))}</div>'
                if now != role_label(state, seat, lang)
                else ""
            )
            + f'</td><td><span class="k360-fac-seat-code k360-fac-code">{_e(code)}</span></td>'
            f'<td><a class="k360-fac-join-link" href="{_e(url, quote=True)}" target="_blank" '
            f'rel="noopener">{_e(url)}</a></td><td>{img}</td></tr>'
        )
    head = "".join(
        f"<th>{_e(t(f'fac.codes.col.{c}', lang))}</th>" for c in ("seat", "code", "link", "qr")
    )
    note = ""
    if not page_url:
        note = f'<div class="k360-msg k360-msg-info k360-fac-url-unknown">{_e(t("fac.codes.url_unknown", lang))}</div>'
    return (
        f'{note}<div class="k360-note">{_e(t("fac.codes.intro", lang, game=codes.game_code))}</div>'
        f'<table class="k360-table k360-fac-codes"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def own_page_url(env: dict | None = None, page_url: str | None = None) -> str:
    """Return the facilitator page's own address (without query) to build the resume link.

    Voilà's ``VOILA_REQUEST_URL`` (the page as the browser asked for it: the
    folder mode's ``…/03_spielleitung.ipynb`` or a single notebook's ``/``);
    else the sibling of the player page ``page_url``; else the relative
    notebook name.

    Examples
    --------
    >>> own_page_url({"VOILA_REQUEST_URL": "http://h:8866/?game=A&code=B"})
    'http://h:8866/'
    >>> own_page_url({}, "http://h/voila/render/04_mitspielen.ipynb")
    'http://h/voila/render/03_spielleitung.ipynb'
    """
    env = os.environ if env is None else env
    req = (env.get("VOILA_REQUEST_URL") or "").strip()
    if req:
        parts = urlsplit(req)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if page_url:
        return page_url.split("?", 1)[0].rsplit("/", 1)[0] + "/" + FACILITATOR_NOTEBOOK
    return FACILITATOR_NOTEBOOK


def debrief_url(codes, lang: str, page_url: str | None) -> str:
    """Return the link that opens this game in the debrief app with the facilitator's code.

    Built like the player links: the sibling ``05_auswertung.ipynb`` of the
    player page ``page_url`` (``$K360_PLAYER_URL`` or derived from
    ``VOILA_REQUEST_URL``), relative when that is unknown. The link carries
    the facilitator's code: show it only where that code is shown anyway.

    Examples
    --------
    >>> from k360lib.game.session import GameCodes
    >>> codes = GameCodes("g1", "ABC234", "FAC-1", {})
    >>> debrief_url(codes, "en", "http://h/voila/render/04_mitspielen.ipynb")
    'http://h/voila/render/05_auswertung.ipynb?game=ABC234&code=FAC-1&lang=en'
    """
    base = None
    if page_url:
        base = page_url.split("?", 1)[0].rsplit("/", 1)[0] + "/" + DEBRIEF_NOTEBOOK
    query = codes.query(None) + "&" + urlencode({"lang": lang})
    return join_url(base, query, notebook=DEBRIEF_NOTEBOOK)


def debrief_link_html(codes, lang: str, page_url: str | None, css: str = "") -> str:
    """Return the "Open debrief" link (opens a new tab; its address is not printed)."""
    url = debrief_url(codes, lang, page_url)
    return (
        f'<a class="k360-fac-debrief-link {_e(css)}" href="{_e(url, quote=True)}" '
        f'target="_blank" rel="noopener">{_e(t("fac.debrief.open", lang))}</a>'
    )


def own_code_html(codes, lang: str, page_url: str | None, env: dict | None = None) -> str:
    """Return the facilitator's own code and resume link, folded away (keep it private)."""
    link = join_url(own_page_url(env, page_url), codes.query(None))
    proj = link + "&view=projector"
    return (
        f'<details class="k360-fac-own-details"><summary>{_e(t("fac.codes.show_own", lang))}</summary>'
        f'<div class="k360-msg k360-msg-info k360-fac-own">{_e(t("fac.codes.own_intro", lang))}<br>'
        f"{_e(t('fac.codes.game_code', lang))} "
        f'<span class="k360-fac-code k360-fac-own-game">{_e(codes.game_code)}</span> · '
        f"{_e(t('fac.codes.own_code', lang))} "
        f'<span class="k360-fac-code k360-fac-own-code">{_e(codes.facilitator)}</span><br>'
        f'<a class="k360-fac-own-link" href="{_e(link, quote=True)}">{_e(link)}</a><br>'
        f"{_e(t('fac.codes.projector_link', lang))} "
        f'<a class="k360-fac-projector-link" href="{_e(proj, quote=True)}" '
        f'target="_blank" rel="noopener">{_e(proj)}</a><br>'
        f"{_e(t('fac.debrief.own', lang))} {debrief_link_html(codes, lang, page_url)}"
        "</div></details>"
    )


# ---------------------------------------------------------------------------
# budgets, proposals, results
# ---------------------------------------------------------------------------
def budgets_html(state, lang: str) -> str:
    """Return one bar per role: spent, due, pledged and available money this round."""
    cur = _e(state.scenario.currency)
    rows = []
    for b in M.budget_overview(state):
        total = max(b["budget"], 1e-9)

        def pct(v, total=total):
            return max(0.0, min(100.0, 100.0 * v / total))

        bar = (
            f'<div class="k360-fac-bar"><span class="k360-spent" style="width:{pct(b["spent"]):.1f}%"></span>'
            f'<span class="k360-due" style="width:{pct(b["due"]):.1f}%"></span>'
            f'<span class="k360-pledged" style="width:{pct(b["pledged"]):.1f}%"></span></div>'
        )
        text = t(
            "fac.budget.line",
            lang,
            available=_money(b["available"], lang),
            budget=_money(b["budget"], lang),
            currency=state.scenario.currency,
        )
        rows.append(
            f'<tr class="k360-fac-budget" data-role="{_e(b["role"])}" data-available="{b["available"]:.2f}">'
            f'<td><b>{_e(role_label(state, b["role"], lang))}</b></td><td style="width:50%">{bar}</td>'
            f"<td>{_e(text)}</td></tr>"
        )
    legend = "".join(
        # i18n-dynamic: the fixed tuple spent/due/pledged just below
        f'<span class="k360-legend-swatch {cls}" style="background:{col}"></span>{_e(t(f"fac.budget.{cls[5:]}", lang))}'
        for cls, col in (
            ("k360-spent", "#0072B2"),
            ("k360-due", "#56B4E9"),
            ("k360-pledged", "#E69F00"),
        )
    )
    return (
        f"<h3>{_e(t('fac.budget.title', lang, currency=cur))}</h3>"
        f'<table class="k360-table k360-fac-budgets">{"".join(rows)}</table>'
        f'<div class="k360-note">{legend}</div>'
    )


def proposals_html(state, lang: str) -> str:
    """Return the proposals of the current round and the running measures."""
    props = [p for p in state.proposals.values() if p.round == state.round]
    cur = state.scenario.currency
    rows = []
    for p in props:
        m = state.rules.measures[p.measure]
        funders = ", ".join(
            f"{role_label(state, f, lang, short=True) if f in state.rules.roles else f} {v:.0%}"
            for f, v in p.pledges.items()
        )
        rows.append(
            f'<tr class="k360-fac-proposal" data-proposal="{_e(p.id)}" data-status="{_e(p.status)}">'
            f"<td>{_e(p.id)}</td><td>{_e(m.label(lang))}</td><td>{_e(area_label(state, p.area))}</td>"
            f"<td>{_e(role_label(state, p.lead, lang, short=True))}</td><td>{_e(funders)}</td>"
            f"<td>{_num(p.funded_share() * 100, lang, 0)} %</td>"
            f"<td>{_money(m.invest + m.cost, lang)} {_e(cur)}</td>"
            # i18n-dynamic: proposal statuses of the engine (test_facilitator_app checks each)
            f'<td class="k360-status-{_e(p.status)}">{_e(t(f"fac.status.{p.status}", lang))}</td></tr>'
        )
    head = "".join(
        f"<th>{_e(t(f'fac.proposals.col.{c}', lang))}</th>"
        for c in ("id", "measure", "area", "lead", "funders", "funded", "cost", "status")
    )
    body = (
        f'<table class="k360-table k360-fac-proposals"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else f'<div class="k360-note k360-fac-proposals k360-fac-empty">{_e(t("fac.proposals.none", lang))}</div>'
    )
    active = state.active_measures()
    running = ""
    if active:
        items = "".join(
            f'<li class="k360-fac-measure" data-measure="{_e(m.id)}">{_e(measure_label(state, m.measure, lang))}'
            f" – {_e(area_label(state, m.area))} ({_e(role_label(state, m.lead, lang, short=True))})</li>"
            for m in active
        )
        running = f"<h3>{_e(t('fac.proposals.running', lang, n=len(active)))}</h3><ul>{items}</ul>"
    return f"<h3>{_e(t('fac.proposals.title', lang, round=state.round))}</h3>{body}{running}"


def results_html(state, lang: str) -> str:
    """Return the results of the last completed round: shared score, indicators, role goals."""
    s = M.round_summary(state)
    if s is None:
        return (
            f"<h3>{_e(t('fac.results.title_none', lang))}</h3>"
            f'<div class="k360-note k360-fac-results k360-fac-empty">{_e(t("fac.results.none", lang))}</div>'
        )

    def change_cell(value, better_when_lower: bool, digits=2, pct=False):
        if value is None or not math.isfinite(value) or abs(value) < 1e-12:
            return f"<td>{_num(0.0 if value is not None and math.isfinite(value) else value, lang, digits, sign=True)}</td>"
        good = (value < 0) if better_when_lower else (value > 0)
        cls = "k360-fac-better" if good else "k360-fac-worse"
        v = value * 100 if pct else value
        return f'<td class="{cls}">{_num(v, lang, digits, sign=True)}</td>'

    figures = [
        ("shared_score", False, 1, False),
        ("need_mean", True, 3, False),
        ("equity_gap", True, 3, False),
        ("reach", False, 1, True),
    ]
    rows = []
    for key, lower, digits, pct in figures:
        v = s[key] * 100 if pct else s[key]
        rows.append(
            # i18n-dynamic: the fixed tuple of figures just above
            f'<tr class="k360-fac-figure" data-figure="{key}"><td>{_e(t(f"fac.results.{key}", lang))}</td>'
            f"<td><b>{_num(v, lang, digits)}{' %' if pct else ''}</b></td>"
            f"{change_cell(s[f'{key}_change'], lower, digits, pct)}</tr>"
        )
    ind_rows = []
    for ind in s["indicators"]:
        label = ind["label"].get(lang) or ind["label"].get("de") or ind["indicator"]
        cls = (
            "k360-fac-better"
            if ind["better"]
            else ("k360-fac-worse" if abs(ind["change"]) > 1e-9 else "")
        )
        ind_rows.append(
            f'<tr class="k360-fac-indicator" data-indicator="{_e(ind["indicator"])}"><td>{_e(label)}</td>'
            f"<td>{_num(ind['before'], lang)}</td><td>{_num(ind['after'], lang)}</td>"
            f'<td class="{cls}">{_num(ind["change"], lang, 2, sign=True)} {_e(ind["unit"])}</td></tr>'
        )
    goal_rows = []
    for role, g in s["roles"].items():
        done = g.get("goal_achieved")
        goal_rows.append(
            f'<tr class="k360-fac-goal" data-role="{_e(role)}" data-achieved="{int(bool(done))}">'
            f"<td>{_e(role_label(state, role, lang))}</td>"
            f"<td>{_num(100 * float(g.get('goal_progress', 0.0)), lang, 0)} %</td>"
            f"<td>{'✔' if done else ''}</td></tr>"
        )
    # i18n-dynamic: h() is called only with literal fac.results.col.* keys
    h = lambda *keys: "".join(f"<th>{_e(t(k, lang))}</th>" for k in keys)  # noqa: E731
    decided = "".join(
        f'<li class="k360-status-{_e(p["status"])}">{_e(p["id"])}: {_e(measure_label(state, p["measure"], lang))}'
        # i18n-dynamic: proposal statuses of the engine (test_facilitator_app checks each)
        f" – {_e(area_label(state, p['area']))}: {_e(t('fac.status.' + p['status'], lang))}"
        f" ({_e(t('fac.results.votes', lang, yes=p['yes'], no=p['no']))})</li>"
        for p in s["proposals"]
    )
    return (
        f'<div class="k360-fac-results" data-round="{s["round"]}">'
        f"<h3>{_e(t('fac.results.title', lang, round=s['round']))}</h3>"
        f'<table class="k360-table">{h("fac.results.col.figure", "fac.results.col.value", "fac.results.col.change")}'
        f"{''.join(rows)}</table>"
        + (f"<ul>{decided}</ul>" if decided else "")
        + f'<table class="k360-table">{h("fac.results.col.indicator", "fac.results.col.before", "fac.results.col.after", "fac.results.col.change")}'
        f"{''.join(ind_rows)}</table>"
        f'<table class="k360-table">{h("fac.results.col.role", "fac.results.col.goal", "fac.results.col.achieved")}'
        f"{''.join(goal_rows)}</table></div>"
    )


# ---------------------------------------------------------------------------
# event log
# ---------------------------------------------------------------------------
def _event_detail(state, ev, lang: str) -> str:
    p = ev.payload
    if ev.type == "card_drawn":
        card = state.rules.cards.get(p.get("card"))
        return card.title.get(lang) if card else str(p.get("card"))
    if ev.type in ("phase_advanced", "phase_rewound"):
        return f"{phase_label(p.get('from', ''), lang)} → {phase_label(p.get('to', ''), lang)}"
    if ev.type == "proposal_made":
        return f"{p.get('proposal')}: {measure_label(state, p.get('measure', ''), lang)} – {area_label(state, p.get('area', ''))}"
    if "proposal" in p:
        return str(p["proposal"])
    if ev.type == "votes_cast":
        return ", ".join(
            # i18n-dynamic: ballots yes/no/abstain of the engine (test_facilitator_app checks each)
            f"{k}: {t(f'fac.ballot.{v}', lang)}"
            for k, v in p.get("ballots", {}).items()
        )
    if ev.type == "roles_rotated":
        return ", ".join(
            f"{role_label(state, s, lang, short=True)} → {role_label(state, r, lang, short=True)}"
            for s, r in p.get("seat_roles", {}).items()
        )
    if ev.type == "event_undone":
        # i18n-dynamic: event types of k360lib.game.events.EVENT_TYPES (test_facilitator_app checks each)
        return f"#{p.get('target')} {t('fac.event.' + str(p.get('target_type')), lang)}"
    if ev.type == "submissions_locked":
        return t("fac.header.locked", lang) if p.get("locked") else t("fac.log.unlocked", lang)
    if ev.type == "note_added":
        text = str(p.get("text", ""))
        return text if len(text) <= 300 else text[:299] + "…"
    if "measure" in p:
        return str(p["measure"])
    return ""


def log_html(state, lang: str, limit: int = 60) -> str:
    """Return the newest events (undone ones struck through), newest first."""
    undone = {int(e.payload["target"]) for e in state.events if e.type == "event_undone"}
    rows = []
    for ev in reversed(state.events[-limit:]):
        style = ' style="text-decoration:line-through;color:#999"' if ev.version in undone else ""
        who = role_label(state, ev.role, lang) if ev.role else t("fac.log.facilitator", lang)
        rows.append(
            f'<tr class="k360-fac-log-row" data-version="{ev.version}" data-type="{_e(ev.type)}"{style}>'
            f"<td>{ev.version}</td><td>{_e(str(ev.ts)[11:19])}</td>"
            # i18n-dynamic: event types of k360lib.game.events.EVENT_TYPES (test_facilitator_app checks each)
            f"<td>{_e(t(f'fac.event.{ev.type}', lang))}</td><td>{_e(who)}</td>"
            f"<td>{_e(_event_detail(state, ev, lang))}</td></tr>"
        )
    head = "".join(
        f"<th>{_e(t(f'fac.log.col.{c}', lang))}</th>"
        for c in ("n", "time", "what", "who", "detail")
    )
    return (
        f'<div class="k360-fac-log"><table class="k360-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
