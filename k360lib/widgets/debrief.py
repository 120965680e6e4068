"""The debrief app (Auswertung): open a game, walk through what happened, export the report.

One class, Voilà-gallery style: widgets are private, :attr:`DebriefApp.container`
is what a notebook shows. All figures, pictures and texts come from
:mod:`k360lib.report.debrief`; this module only lets the facilitator choose
and shows the result.

Opening a game:

- the page URL's query string ``?game=<game code>&code=<code>`` (Voilà puts
  it in ``QUERY_STRING``) — the facilitator's code or a role's join code;
- typing the game code and a code;
- only with ``list_games=True``: choosing one of the finished games of the
  store (``$K360_STORE`` or the default store of ``k360 serve``).

The list is off by default: on a shared server (``k360 serve --lan``,
JupyterHub with PostgreSQL) everyone who reaches the page would otherwise
read every workshop's reflection notes. Without the list a game opens only
with its codes (the facilitator app links here with its own code).

Tabs: overview, trajectories (chart per indicator, area selector), maps
before/after (with the change), decision log per role, network, goals vs
outcome, reflection prompts, export (standalone HTML report and XLSX as
download links).

Examples
--------
>>> from k360lib.game import play_game
>>> app = DebriefApp("en", game=play_game("kurz", "cooperative", seed=3))
>>> app.debrief.rounds
[0, 1, 2]
"""

from __future__ import annotations

import html
import os
import re
from typing import Any
from urllib.parse import parse_qs

import ipywidgets as W

from k360lib.errors import K360Error
from k360lib.i18n import normalize_lang, t
from k360lib.report.debrief import (
    NEED,
    SECTIONS,
    SHARED_FIELDS,
    Debrief,
    debrief,
    finished_games,
    stored_map_document,
)
from k360lib.widgets._handlers import guarded

__all__ = ["TABS", "DebriefApp"]

#: tab order (titles ``debrief.tab.<key>``)
TABS: tuple[str, ...] = (*SECTIONS, "export")
_XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_CSS = """<style>
.k360-debrief h2.k360-title{margin:0 0 4px 0;font-size:1.5em;font-weight:600;}
.k360-debrief .k360-sub{color:#555;margin:0 0 6px 0;}
.k360-debrief .k360-msg{padding:6px 10px;margin:4px 0;border-radius:2px;}
.k360-debrief .k360-msg-error{background:#fdecea;border-left:4px solid #c62828;color:#611a15;}
.k360-debrief .k360-msg-info{background:#e8f1f8;border-left:4px solid #0072B2;color:#0b3556;}
.k360-debrief table{border-collapse:collapse;font-size:.9em;margin:6px 0 10px 0;}
.k360-debrief th,.k360-debrief td{border-bottom:1px solid #e0e0e0;padding:3px 8px;text-align:left;vertical-align:top;}
.k360-debrief th{background:#f4f6f8;}
.k360-debrief td.num{text-align:right;white-space:nowrap;}
.k360-debrief h2{font-size:1.2em;margin:8px 0 6px 0;}
.k360-debrief h3{font-size:1.05em;margin:12px 0 4px 0;}
.k360-debrief .k360-grid{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start;}
.k360-debrief .k360-maps svg{width:360px;}
.k360-debrief .k360-small svg{width:280px;}
.k360-debrief .k360-note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;margin:6px 0;font-size:.92em;}
.k360-debrief .k360-undone td{text-decoration:line-through;color:#888;}
.k360-debrief .k360-player-text{white-space:pre-wrap;font-style:italic;}
.k360-debrief .k360-stage{border-left:5px solid #0072B2;padding:4px 12px;margin:10px 0;background:#f7fbff;}
.k360-debrief .k360-stage ul{margin:4px 0 8px 18px;padding:0;}
.k360-debrief .k360-ok{color:#1b5e20;font-weight:bold;}
.k360-debrief .k360-no{color:#8a4b00;}
.k360-debrief a.k360-download{display:inline-block;margin:2px 10px 2px 0;padding:3px 10px;border:1px solid #0072B2;
 border-radius:3px;color:#0072B2;text-decoration:none;font-weight:600;}
.k360-debrief a.k360-download:hover{background:#e8f1f8;}
</style>"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


_guarded = guarded("_show_user_error", "_show_unexpected")


class DebriefApp:
    """The debrief app (see the module docstring).

    Parameters
    ----------
    lang : {"de", "en"}, optional
        UI language (default: the current one).
    store : EventStore or str, optional
        The store with the games (default: ``open_store()``, i.e.
        ``$K360_STORE`` or the user's default store); opened on first use.
    query : str, optional
        A URL query string ``game=…&code=…`` (default: ``$QUERY_STRING``).
    game : Game, GameSession, GameState or list of Event, optional
        Show this game at once (no store needed).
    geometry : optional
        Area outlines for the maps (see :func:`k360lib.report.debrief.area_rings`).
    game_code : str, optional
        The game's public code, shown in the header and the report (with ``game``).
    list_games : bool, default False
        Also offer the list of all finished games of the store, opened
        without a code. Only for data staff in their own JupyterLab (e.g.
        ``DebriefApp(list_games=True)`` in a private notebook), never on a
        page that workshop participants can reach: the list opens every
        workshop's decisions and reflection notes.

    Attributes
    ----------
    container : ipywidgets.VBox
        What a notebook shows.
    debrief : Debrief or None
        The game shown now.
    """

    def __init__(
        self,
        lang: str | None = None,
        store: Any = None,
        query: str | None = None,
        game: Any = None,
        geometry: Any = None,
        game_code: str = "",
        list_games: bool = False,
    ):
        self.lang = normalize_lang(lang)
        self._list_games = bool(list_games)
        self._store_arg = store
        self._store = None
        self._geometry = geometry
        self._stored_map: str | None = None
        self.debrief: Debrief | None = None
        self._code = ""
        lang = self.lang
        self._title = W.HTML(
            f'{_CSS}<h2 class="k360-title">{_e(t("debrief.ui.title", lang))}</h2>'
            f'<p class="k360-sub">{_e(t("debrief.ui.intro_list" if list_games else "debrief.ui.intro", lang))}</p>'
        )
        self._msg = W.HTML()
        self._msg.add_class("k360-debrief-msg")
        # -- opening ----------------------------------------------------------------------------
        self._game_code = W.Text(
            placeholder=t("debrief.ui.game_code_placeholder", lang),
            description=t("debrief.ui.game_code", lang),
            style={"description_width": "initial"},
        )
        self._game_code.add_class("k360-debrief-game")
        self._code_in = W.Text(
            placeholder=t("debrief.ui.code_placeholder", lang),
            description=t("debrief.ui.code", lang),
            style={"description_width": "initial"},
        )
        self._code_in.add_class("k360-debrief-code")
        self._open_btn = W.Button(description=t("debrief.ui.open", lang), button_style="primary")
        self._open_btn.add_class("k360-debrief-open")
        self._open_btn.on_click(self._on_open_code)
        self._list = W.Dropdown(
            options=[],
            description=t("debrief.ui.finished", lang),
            style={"description_width": "initial"},
        )
        self._list.add_class("k360-debrief-list")
        self._list_btn = W.Button(description=t("debrief.ui.open_list", lang))
        self._list_btn.add_class("k360-debrief-open-list")
        self._list_btn.on_click(self._on_open_list)
        self._refresh_btn = W.Button(
            description=t("debrief.ui.refresh", lang), tooltip=t("debrief.ui.refresh_help", lang)
        )
        self._refresh_btn.add_class("k360-debrief-refresh")
        self._refresh_btn.on_click(self._on_refresh)
        rows = [W.HBox([self._game_code, self._code_in, self._open_btn])]
        if self._list_games:  # opt-in: the list opens games without a code
            rows.append(W.HBox([self._list, self._list_btn, self._refresh_btn]))
        self._chooser = W.VBox(rows)
        self._chooser.add_class("k360-debrief-chooser")
        # -- the view ----------------------------------------------------------------------------
        self._head = W.HTML()
        self._head.add_class("k360-debrief-head")
        self._tab = W.Tab()
        self._tab.add_class("k360-debrief-tabs")
        self._view = W.VBox([self._head, self._tab])
        self._view.add_class("k360-debrief-view")
        self._view.layout.display = "none"
        self._html: dict[str, W.HTML] = {}
        self._ind = W.Dropdown(description=t("debrief.ui.indicator", lang))
        self._ind.add_class("k360-debrief-indicator")
        self._area = W.Dropdown(description=t("debrief.ui.area", lang))
        self._area.add_class("k360-debrief-area")
        self._map_ind = W.Dropdown(description=t("debrief.ui.indicator", lang))
        self._map_ind.add_class("k360-debrief-map-indicator")
        self._role = W.Dropdown(description=t("debrief.ui.role", lang))
        self._role.add_class("k360-debrief-role")
        self._make_html = W.Button(description=t("debrief.ui.make_html", lang), icon="file")
        self._make_html.add_class("k360-debrief-make-html")
        self._make_html.on_click(self._on_make_html)
        self._make_xlsx = W.Button(description=t("debrief.ui.make_xlsx", lang), icon="table")
        self._make_xlsx.add_class("k360-debrief-make-xlsx")
        self._make_xlsx.on_click(self._on_make_xlsx)
        self._links = W.HTML()
        self._links.add_class("k360-debrief-links")
        self._link_parts: dict[str, str] = {}
        self._chart = W.HTML()
        self._chart.add_class("k360-debrief-chart")
        self._maps = W.HTML()
        self._maps.add_class("k360-debrief-maps")
        self._building = False
        self._ind.observe(self._on_chart, names="value")
        self._area.observe(self._on_chart, names="value")
        self._map_ind.observe(self._on_maps, names="value")
        self._role.observe(self._on_role, names="value")
        self.container = W.VBox([self._title, self._chooser, self._msg, self._view])
        self.container.add_class("k360-debrief")
        self.container.add_class("k360-app")

        if game is not None:
            self._code = str(game_code or "")
            if store is not None and self._list_games:  # no store: do not create the default one
                self._refresh_list(quiet=True)
            self.show(game)
            return
        q = os.environ.get("QUERY_STRING", "") if query is None else query
        params = parse_qs(str(q).lstrip("?"))
        game_code = (params.get("game") or [""])[0]
        code = (params.get("code") or [""])[0]
        if game_code:
            self._game_code.value = game_code
        if self._list_games:
            self._refresh_list(quiet=bool(game_code and code))
        if game_code and code:
            self._code_in.value = code
            self.open_code(game_code, code)

    # -- messages ------------------------------------------------------------------------------------
    def _show_user_error(self, err: K360Error) -> None:
        self._message("error", err.message(self.lang))

    def _show_unexpected(self, exc: Exception) -> None:
        self._message(
            "error", t("debrief.ui.unexpected", self.lang, detail=f"{type(exc).__name__}: {exc}")
        )

    def _message(self, kind: str, text: str) -> None:
        self._msg.value = (
            f'<div class="k360-msg k360-msg-{_e(kind)}" data-kind="{_e(kind)}">{_e(text)}</div>'
        )

    # -- store --------------------------------------------------------------------------------------
    def _get_store(self):
        if self._store is None:
            from k360lib.game.store import EventStore, open_store

            arg = self._store_arg
            self._store = arg if isinstance(arg, EventStore) else open_store(arg)
        return self._store

    @_guarded
    def _refresh_list(self, quiet: bool = False) -> None:
        if not self._list_games:  # never put other games' codes into the page's widget state
            return
        games = finished_games(self._get_store())
        self._list.options = [
            (
                t(
                    "debrief.ui.game_row",
                    self.lang,
                    code=g.get("game_code") or g["game_id"],
                    scenario=g.get("scenario") or "",
                    created=str(g.get("created") or "")[:16].replace("T", " "),
                ),
                g["game_id"],
            )
            for g in games
        ]
        self._list_btn.disabled = not games
        if games:
            self._list.value = games[0]["game_id"]
        if not games and not quiet:
            self._message("info", t("debrief.ui.no_finished", self.lang))

    # -- opening -------------------------------------------------------------------------------------
    def open_code(self, game_code: str, code: str) -> None:
        """Open the game with its game code and the facilitator's (or a role's) code."""
        self._open_code(game_code, code)

    @_guarded
    def _open_code(self, game_code: str, code: str) -> None:
        if not str(game_code).strip() or not str(code).strip():
            self._message("error", t("debrief.ui.need_codes", self.lang))
            return
        store = self._get_store()
        game_id, _kind, _seat = store.lookup(str(game_code).strip(), str(code).strip())
        self._show_id(game_id, str(game_code).strip().upper())

    def open_game(self, game_id: str) -> None:
        """Open a game of the store by its id, without a code (Python only, e.g. with ``list_games``)."""
        self._open_game(game_id)

    @_guarded
    def _open_game(self, game_id: str) -> None:
        codes = {g["game_id"]: g.get("game_code") or "" for g in self._get_store().games()}
        self._show_id(game_id, codes.get(game_id, ""))

    def _show_id(self, game_id: str, game_code: str) -> None:
        from k360lib.game.errors import UnknownGameError
        from k360lib.game.state import fold

        store = self._get_store()
        events = store.events(game_id)
        if not events:
            raise UnknownGameError("game.store.unknown_game", game=game_code or game_id)
        self._code = game_code
        self._stored_map = stored_map_document(store, game_id)
        self.show(fold(events))

    def _on_open_code(self, _btn=None) -> None:
        self.open_code(self._game_code.value, self._code_in.value)

    def _on_open_list(self, _btn=None) -> None:
        if self._list_games and self._list.value:
            self.open_game(self._list.value)

    def _on_refresh(self, _btn=None) -> None:
        self._msg.value = ""
        self._refresh_list()

    # -- showing --------------------------------------------------------------------------------------
    def show(self, game: Any) -> None:
        """Show the debrief of ``game`` (a Game, GameSession, GameState or list of events)."""
        self._show(game)

    @_guarded
    def _show(self, game: Any) -> None:
        lang = self.lang
        meta = {t("debrief.ui.game_code", lang): self._code} if self._code else {}
        geometry = self._geometry
        if geometry is None and self._stored_map:
            geometry = self._stored_map  # the outlines of the city the game was played on
        d = debrief(game, geometry=geometry, meta=meta)
        self.debrief = d
        s = d.state
        self._msg.value = ""
        status = t(f"debrief.game_status.{s.status}", lang)  # i18n-dynamic: running/ended
        sub = t(
            "debrief.report.status",
            lang,
            status=status,
            played=len(d.rounds) - 1,
            total=s.scenario.rounds,
        )
        self._head.value = (
            f'<h2 class="k360-debrief-game-title" data-game="{_e(s.game_id)}" '
            f'data-status="{_e(s.status)}">{_e(d.title(lang))}</h2>'
            f'<p class="k360-sub">{_e(d.world.atlas_name)} · {_e(sub)}'
            + (f" · {_e(self._code)}" if self._code else "")
            + "</p>"
        )
        for key in SECTIONS:
            w = W.HTML()
            w.add_class(f"k360-debrief-{key}")
            self._html[key] = w
        # trajectories: an indicator and an area
        self._building = True
        ind_options = [(d.indicator_label(i, lang), i) for i in d.indicators]
        self._ind.options = ind_options
        self._ind.value = NEED
        self._area.options = [
            (t("debrief.ui.focus_areas", lang), ""),
            *sorted(((d.area_label(a), a) for a in d.world.area_ids), key=lambda x: x[0]),
        ]
        self._area.value = ""
        self._map_ind.options = ind_options
        self._map_ind.value = NEED
        self._role.options = [(t("debrief.ui.all_roles", lang), "")] + [
            (d.role_label(r, lang), r) for r in s.roles
        ]
        self._role.value = ""
        self._building = False
        self._links.value = ""
        self._link_parts = {}
        self._on_chart()
        self._on_maps()
        for key in ("summary", "network", "goals", "reflection", "decisions"):
            self._html[key].value = d.section_html(key, lang)
        children = {
            "summary": self._html["summary"],
            "trajectories": W.VBox([W.HBox([self._ind, self._area]), self._chart]),
            "maps": W.VBox([self._map_ind, self._maps]),
            "decisions": W.VBox([self._role, self._html["decisions"]]),
            "network": self._html["network"],
            "goals": self._html["goals"],
            "reflection": self._html["reflection"],
            "export": W.VBox(
                [
                    W.HTML(f'<p class="k360-sub">{_e(t("debrief.ui.export_help", lang))}</p>'),
                    W.HBox([self._make_html, self._make_xlsx]),
                    self._links,
                ]
            ),
        }
        self._tab.children = [children[k] for k in TABS]
        self._tab.titles = tuple(
            t(f"debrief.tab.{k}", lang)  # i18n-dynamic: the fixed TABS
            for k in TABS
        )
        self._tab.selected_index = 0
        self._view.layout.display = None

    @_guarded
    def _on_chart(self, _change=None) -> None:
        d = self.debrief
        if d is None or self._building:
            return
        ind = self._ind.value or NEED
        areas = [self._area.value] if self._area.value else d.focus_areas()
        shared = "".join(f"<div>{d.shared_chart(n, self.lang)}</div>" for n in SHARED_FIELDS)
        note = (
            t(
                "debrief.report.focus",
                self.lang,
                areas=", ".join(d.area_label(a) for a in areas) or "–",
            )
            if not self._area.value
            else ""
        )
        self._chart.value = (
            f'<div class="k360-grid"><div class="k360-debrief-indicator-chart" data-indicator="{_e(ind)}">'
            f"{d.indicator_chart(ind, areas, self.lang)}</div></div>"
            + (f'<p class="k360-note">{_e(note)}</p>' if note else "")
            + f"<h3>{_e(t('debrief.ui.shared_outcome', self.lang))}</h3>"
            + f'<div class="k360-grid k360-small">{shared}</div>'
        )

    @_guarded
    def _on_maps(self, _change=None) -> None:
        d = self.debrief
        if d is None or self._building:
            return
        ind = self._map_ind.value or NEED
        maps = d.maps(ind, self.lang, uid=f"w{re.sub(r'[^A-Za-z0-9]', '', ind)}")
        schematic = (
            f'<p class="k360-note">{_e(t("debrief.map.schematic", self.lang))}</p>'
            if d.shapes.schematic
            else ""
        )
        self._maps.value = (
            schematic
            + '<div class="k360-grid k360-maps">'
            + "".join(f"<div>{maps[k]}</div>" for k in ("before", "after", "change"))
            + "</div>"
        )

    @_guarded
    def _on_role(self, _change=None) -> None:
        d = self.debrief
        if d is None or self._building:
            return
        ctx = d.context(self.lang)
        role = self._role.value
        decisions = [x for x in ctx["decisions"] if not role or x["role"] == role]
        self._html["decisions"].value = d.section_html("decisions", self.lang, decisions=decisions)

    def relaunch_kwargs(self) -> dict:
        """Keep the game shown when :class:`~k360lib.widgets.shell.AppShell` switches the language."""
        kwargs: dict[str, Any] = {  # close() ends only our own store
            "store": self._store_arg,
            "list_games": self._list_games,
        }
        if self.debrief is not None:
            kwargs.update(game=self.debrief.state, game_code=self._code)
        return kwargs

    # -- exports ---------------------------------------------------------------------------------------
    def _stem(self) -> str:
        d = self.debrief
        base = self._code or (d.state.game_id if d is not None else "spiel")
        return "auswertung_" + re.sub(r"[^A-Za-z0-9_-]+", "_", base).strip("_")

    def report_html(self) -> str:
        """Return the standalone HTML report of the game shown."""
        return self.debrief.to_html(lang=self.lang)

    def report_xlsx(self) -> bytes:
        """Return the XLSX workbook of the game shown."""
        return self.debrief.to_xlsx(lang=self.lang)

    def _link(self, data: bytes | str, mime: str, filename: str, css: str) -> str:
        from k360lib.report.tables import data_uri

        return (
            f'<a class="k360-download {_e(css)}" download="{_e(filename)}" '
            f'href="{_e(data_uri(data, mime))}">{_e(t("debrief.ui.download", self.lang, file=filename))}</a>'
        )

    @_guarded
    def _on_make_html(self, _btn=None) -> None:
        link = self._link(
            self.report_html(), "text/html", f"{self._stem()}.html", "k360-download-html"
        )
        self._set_link("html", link)

    @_guarded
    def _on_make_xlsx(self, _btn=None) -> None:
        link = self._link(
            self.report_xlsx(), _XLSX_MIME, f"{self._stem()}.xlsx", "k360-download-xlsx"
        )
        self._set_link("xlsx", link)

    def _set_link(self, kind: str, link: str) -> None:
        parts = dict(getattr(self, "_link_parts", {}))
        parts[kind] = link
        self._link_parts = parts
        self._links.value = (
            "<div>" + "".join(parts[k] for k in ("html", "xlsx") if k in parts) + "</div>"
        )

    def close(self) -> None:
        """Close the store this app opened (not one that was passed in)."""
        if self._store is not None and self._store is not self._store_arg:
            self._store.close()
        self._store = None
