"""The facilitator app (Spielleitung) of the Planspiel: set up, run and project a game.

One class, :class:`FacilitatorApp`, with a public ``.container`` (notebook
``notebooks/03_spielleitung.ipynb``). The logic lives in :mod:`k360lib.game`
(rules, sessions, :mod:`k360lib.game.monitor`); this module only calls it
and renders (HTML pieces in :mod:`k360lib.widgets.facilitator_views`).

Screens
-------
Start
    Create a game from a built-in scenario (``default`` = Klausurtagung,
    ``kurz``) or an uploaded YAML file (errors shown with file, path in the
    YAML and line), choose the roles and the mode (networked / hot-seat), or
    resume a game with its game code and facilitator code. A facilitator
    link (``03_spielleitung.ipynb?game=…&code=…``) resumes directly: the game
    lives in the shared store (``$K360_STORE``), so a kernel restart loses
    nothing. ``&view=projector`` opens that view (a second browser window
    for the projector screen, its own kernel, same game).
Game (views switched with a toggle)
    ``control`` — phase bar, advance / rewind, optional countdown, draw or
    choose event cards, undo, lock, role rotation, who has acted;
    ``join`` — join code, link and QR code per seat (not in a hot-seat game);
    ``projector`` — city map with proposals and measures (:class:`GameMap`),
    budget bars, proposals, the round's results;
    ``hotseat`` — the facilitator enters each role's decisions
    (:class:`~k360lib.widgets.player.PlayerPanel` per seat, one kernel);
    ``log`` — the event log.
Live
    While the kernel runs, the app polls the store (``session.changed()``, one
    cheap query) every ``poll_interval`` seconds, so players' submissions show
    within 2 s; :meth:`FacilitatorApp.tick` does one such step (tests call it).

CSS classes (stable: end-to-end tests rely on them)
---------------------------------------------------
Root: ``.k360-fac``; message line ``.k360-fac-msg`` (inside it
``.k360-msg-error`` / ``.k360-msg-ok`` / ``.k360-msg-info``; an upload error
lists every problem in ``li`` items).

Start screen ``.k360-fac-start``:
``.k360-fac-scenario`` (Dropdown: ``default``, ``kurz``, ``upload``),
``.k360-fac-upload`` (FileUpload, ``.yaml``/``.yml``),
``.k360-fac-roles`` with one Checkbox per role ``.k360-fac-role.k360-fac-role-<role id>``,
``.k360-fac-mode`` (ToggleButtons; option labels ``t("fac.mode.networked")`` /
``t("fac.mode.hotseat")``), ``.k360-fac-name`` (Text, workshop name),
``.k360-fac-create`` (Button); resume: ``.k360-fac-resume-game`` (Text),
``.k360-fac-resume-code`` (Text), ``.k360-fac-resume`` (Button).

Game screen ``.k360-fac-game``:

- header ``.k360-fac-header`` with ``data-phase``, ``data-round``,
  ``data-version``, ``data-status`` (``running``/``ended``),
  ``data-locked`` (0/1), ``data-mode``; inside ``.k360-fac-game-code``,
  ``.k360-fac-round``, ``.k360-fac-phase`` (translated phase name).
- view switch ``.k360-fac-views`` (ToggleButtons; labels
  ``t("fac.view.<control|join|projector|hotseat|log>")``); the shown view's box
  has ``.k360-fac-view`` and ``.k360-fac-view-<key>``.
- control: ``.k360-fac-phasebar`` (steps ``.k360-fac-phase-step[data-phase]``,
  current one ``.k360-fac-phase-current``), buttons ``.k360-fac-advance``,
  ``.k360-fac-rewind``, ``.k360-fac-undo``, ``.k360-fac-lock``,
  ``.k360-fac-rotate``; ``.k360-fac-undo-preview``; countdown
  ``.k360-fac-timer-toggle`` (Checkbox), ``.k360-fac-countdown``
  (``data-seconds``); cards ``.k360-fac-draw`` (Button),
  ``.k360-fac-card-choice`` (Dropdown of card ids), ``.k360-fac-choose``
  (Button), revealed cards ``.k360-fac-card[data-card]`` inside
  ``.k360-fac-cards``; monitor ``table.k360-fac-monitor`` with rows
  ``tr.k360-fac-monitor-row[data-seat][data-role][data-acted][data-done][data-actions]``;
  the facilitator's own access (as in the join view, folded) at the bottom;
  once the game has ended ``.k360-fac-debrief-ended`` under the phase bar with
  ``a.k360-fac-debrief-link`` (opens ``05_auswertung.ipynb?game=…&code=<facilitator
  code>&lang=…``; the folded own access holds the same link at any time).
- join: ``table.k360-fac-codes`` with rows ``tr.k360-fac-seat[data-seat][data-code]``
  containing ``.k360-fac-seat-code``, ``a.k360-fac-join-link`` (href = player
  link with ``?game=…&code=…``) and ``.k360-fac-qr svg``; the facilitator's
  own access sits in a closed ``<details class="k360-fac-own-details">``
  (this view may be on the projector; click its ``summary`` to show it):
  ``.k360-fac-own-code``, game code ``.k360-fac-own-game``, link
  ``a.k360-fac-own-link``, projector link ``a.k360-fac-projector-link``;
  player page address ``.k360-fac-base-url`` (Text).
- projector ``.k360-fac-projector``: the countdown (when shown),
  ``.k360-fac-proj-head`` (big phase, cards), ``.k360-fac-map`` (holds the
  :class:`~k360lib.widgets.game_map.GameMap`, ``.k360-game-map``), ``table.k360-fac-budgets``
  (rows ``tr.k360-fac-budget[data-role][data-available]``),
  ``.k360-fac-proposals`` (rows ``tr.k360-fac-proposal[data-proposal][data-status]``),
  ``.k360-fac-results`` (``data-round``; rows ``tr.k360-fac-figure[data-figure]``,
  ``tr.k360-fac-indicator``, ``tr.k360-fac-goal[data-role][data-achieved]``).
- hot-seat ``.k360-fac-hotseat``: ``.k360-fac-hotseat-role`` (ToggleButtons,
  one per seat, value = seat id), ``.k360-fac-hotseat-panel`` holding the
  seat's PlayerPanel.
- log ``.k360-fac-log`` with rows ``tr.k360-fac-log-row[data-version][data-type]``.

Examples
--------
>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     app = FacilitatorApp(lang="en", store=os.path.join(d, "g.sqlite3"), live=False)
...     _ = app.create("kurz", seed=1)
...     _ = app.advance()
...     (app.state.phase, sorted(app.codes.seats))
...     app.close()
('planung', ['jugendamt', 'politik', 'wohlfahrtsverband'])
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
from typing import TYPE_CHECKING

import ipywidgets as W

from k360lib.errors import K360Error
from k360lib.game import commands as C
from k360lib.game import monitor as M
from k360lib.game.errors import ScenarioError
from k360lib.i18n import normalize_lang, t
from k360lib.widgets import facilitator_views as V
from k360lib.widgets._handlers import guarded

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.game.scenario import Scenario
    from k360lib.game.session import GameCodes, GameSession
    from k360lib.game.state import GameState
    from k360lib.game.store import EventStore

__all__ = ["BUILTIN_CHOICES", "MODES", "VIEWS", "FacilitatorApp"]

#: Built-in scenarios offered on the start screen.
BUILTIN_CHOICES: tuple[str, ...] = ("default", "kurz")
#: Play modes (stored in the game's first event as ``meta.mode``).
MODES: tuple[str, ...] = ("networked", "hotseat")
#: Views of the game screen (message keys ``fac.view.<key>``).
VIEWS: tuple[str, ...] = ("control", "join", "projector", "hotseat", "log")
_UPLOAD = "upload"
_UPLOADED = "uploaded"

_e = html.escape


def _cls(widget, *classes: str):
    if isinstance(widget, W.Button):
        widget.layout.width = "auto"
        widget.layout.min_width = "120px"
        widget.layout.align_self = "flex-start"
    for c in classes:
        widget.add_class(c)
    return widget


_guarded = guarded("_show_error", "_show_unexpected")


class FacilitatorApp:
    """The facilitator's app (see the module docstring).

    Parameters
    ----------
    lang : str, optional
        UI language (default: the current one).
    store : str, Path or EventStore, optional
        The shared store; default :func:`k360lib.game.store.open_store` (``$K360_STORE``).
    query : str, optional
        URL query string; default ``$QUERY_STRING`` (Voilà). ``game=…&code=…``
        with the facilitator code resumes that game.
    player_url : str, optional
        Address of the player app (``…/04_mitspielen.ipynb``); default from
        ``$K360_PLAYER_URL`` or the page's own address (see
        :func:`~k360lib.widgets.facilitator_views.player_page_url`).
    live : bool, default True
        Poll the store in the background while a kernel event loop runs.
    poll_interval : float, default 0.5
        Seconds between two polls.
    resume_codes : tuple, optional
        ``(game_code, facilitator_code)`` to resume at start (used by the
        language switch).
    view : str, optional
        View to show first (also ``&view=…`` in the query string).
    hotseat_seat : str, optional
        Seat shown first in the hot-seat view (used by the language switch).
    """

    def __init__(
        self,
        lang: str | None = None,
        store: str | os.PathLike | EventStore | None = None,
        *,
        query: str | None = None,
        player_url: str | None = None,
        live: bool = True,
        poll_interval: float = 0.5,
        resume_codes: tuple[str, str] | None = None,
        view: str | None = None,
        hotseat_seat: str | None = None,
    ):
        self.lang = normalize_lang(lang)
        self._store_arg = store
        self._store: EventStore | None = None
        self.session: GameSession | None = None
        self.codes: GameCodes | None = None
        self.mode = "networked"
        self._meta: dict = {}
        self._uploaded: Scenario | None = None
        self._player_url = player_url if player_url is not None else V.player_page_url()
        self._live = bool(live)
        self._poll_interval = float(poll_interval)
        self._task = None
        self._closed = False
        self._rendered_version = -1
        self._view = view if view in VIEWS else None
        self._game_map = None
        self._seats: dict[str, GameSession] = {}
        self._panels: dict[str, object] = {}
        self._hotseat_seat = hotseat_seat

        self._css = W.HTML(V.CSS)
        self._msg = _cls(W.HTML(""), "k360-fac-msg")
        self._title = W.HTML(f'<h2 class="k360-title">{_e(t("fac.title", self.lang))}</h2>')
        self._body = W.VBox()
        self.container = _cls(W.VBox([self._css, self._title, self._msg, self._body]), "k360-fac")
        self._build_start()
        self._body.children = (self._start,)

        if resume_codes:
            self._resume_quietly(*resume_codes)
        else:
            self._resume_from_query(os.environ.get("QUERY_STRING", "") if query is None else query)

    # ------------------------------------------------------------------ basics
    @property
    def store(self) -> EventStore:
        """The shared store (opened on first use)."""
        if self._store is None:
            from k360lib.game.store import EventStore, open_store

            arg = self._store_arg
            self._store = arg if isinstance(arg, EventStore) else open_store(arg)
        return self._store

    @property
    def state(self) -> GameState | None:
        """The game's state as this kernel knows it (``None`` before a game is open)."""
        return None if self.session is None else self.session.state

    def relaunch_kwargs(self) -> dict:
        """Return what the language switch passes to the rebuilt app (the open game, the view)."""
        out: dict = {"store": self.store, "player_url": self._player_url}
        if self.codes is not None:
            out["resume_codes"] = (self.codes.game_code, self.codes.facilitator)
            out["view"] = self._view
            out["hotseat_seat"] = self._hotseat_seat
        return out

    def close(self) -> None:
        """Stop polling (the store stays open for whoever else uses it)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _show(self, kind: str, text: str, items: list[str] | None = None) -> None:
        body = _e(text)
        if items:
            body += "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"
        self._msg.value = f'<div class="k360-msg k360-msg-{kind}">{body}</div>'

    def _show_unexpected(self, exc: Exception) -> None:
        self._show("error", t("fac.unexpected", self.lang, detail=f"{type(exc).__name__}: {exc}"))

    def _show_error(self, err: K360Error) -> None:
        if isinstance(err, ScenarioError):
            msgs = err.messages(self.lang)
            self._show("error", t("fac.start.scenario_invalid", self.lang, n=len(msgs)), msgs)
        else:
            self._show("error", err.message(self.lang))

    # ------------------------------------------------------------------ start screen
    def _build_start(self) -> None:
        lang = self.lang
        self._scenario = _cls(
            W.Dropdown(
                options=self._scenario_options(),
                value="default",
                description=t("fac.start.scenario", lang),
                style={"description_width": "initial"},
                layout=W.Layout(width="560px"),
            ),
            "k360-fac-scenario",
        )
        self._scenario.observe(self._on_scenario, names="value")
        self._upload = _cls(
            W.FileUpload(
                accept=".yaml,.yml",
                multiple=False,
                description=t("fac.start.upload", lang),
                layout=W.Layout(width="auto"),
            ),
            "k360-fac-upload",
        )
        self._upload.observe(self._on_upload, names="value")
        self._roles = _cls(W.VBox(), "k360-fac-roles")
        self._mode = _cls(
            W.ToggleButtons(
                options=[(t(f"fac.mode.{m}", lang), m) for m in MODES],
                value="networked",
                tooltips=[t(f"fac.mode.{m}_help", lang) for m in MODES],
                style={"button_width": "auto"},
            ),
            "k360-fac-mode",
        )
        self._name = _cls(
            W.Text(
                description=t("fac.start.name", lang),
                placeholder=t("fac.start.name_placeholder", lang),
                style={"description_width": "initial"},
                layout=W.Layout(width="560px"),
            ),
            "k360-fac-name",
        )
        self._create_btn = _cls(
            W.Button(description=t("fac.start.create", lang), button_style="primary", icon="play"),
            "k360-fac-create",
        )
        self._create_btn.on_click(lambda _b: self._on_create())
        self._resume_game = _cls(
            W.Text(
                description=t("fac.start.game_code", lang), style={"description_width": "initial"}
            ),
            "k360-fac-resume-game",
        )
        self._resume_code = _cls(
            W.Text(
                description=t("fac.start.facilitator_code", lang),
                style={"description_width": "initial"},
            ),
            "k360-fac-resume-code",
        )
        self._resume_btn = _cls(
            W.Button(description=t("fac.start.resume", lang)), "k360-fac-resume"
        )
        self._resume_btn.on_click(lambda _b: self._on_resume())
        self._fill_roles()
        self._start = _cls(
            W.VBox(
                [
                    W.HTML(f"<h3>{_e(t('fac.start.new', lang))}</h3>"),
                    W.HBox([self._scenario, self._upload]),
                    W.HTML(f'<div class="k360-note">{_e(t("fac.start.upload_help", lang))}</div>'),
                    W.HTML(f"<b>{_e(t('fac.start.roles', lang))}</b>"),
                    self._roles,
                    W.HTML(f"<b>{_e(t('fac.start.mode', lang))}</b>"),
                    self._mode,
                    self._name,
                    self._create_btn,
                    W.HTML(f"<h3>{_e(t('fac.start.resume_title', lang))}</h3>"),
                    W.HTML(f'<div class="k360-note">{_e(t("fac.start.resume_help", lang))}</div>'),
                    W.HBox([self._resume_game, self._resume_code, self._resume_btn]),
                ]
            ),
            "k360-fac-start",
        )

    def _scenario_options(self) -> list[tuple[str, str]]:
        from k360lib.game.scenario import load_scenario

        opts = []
        for name in BUILTIN_CHOICES:
            sc = load_scenario(name)
            opts.append((self._scenario_label(sc), name))
        if self._uploaded is not None:
            opts.append(
                (
                    t("fac.start.uploaded", self.lang, label=self._scenario_label(self._uploaded)),
                    _UPLOADED,
                )
            )
        opts.append((t("fac.start.upload_option", self.lang), _UPLOAD))
        return opts

    def _scenario_label(self, sc: Scenario) -> str:
        return t(
            "fac.start.scenario_option",
            self.lang,
            title=sc.title.get(self.lang),
            roles=len(sc.roles),
            rounds=sc.rounds,
        )

    def _chosen_scenario(self) -> Scenario | None:
        from k360lib.game.scenario import load_scenario

        v = self._scenario.value
        if v == _UPLOADED:
            return self._uploaded
        if v == _UPLOAD:
            return None
        return load_scenario(v)

    def _fill_roles(self) -> None:
        sc = self._chosen_scenario()
        boxes = []
        if sc is not None:
            for r in sc.roles:
                label = r.label(self.lang)
                if r.optional:
                    label += " " + t("fac.start.optional", self.lang)
                cb = W.Checkbox(
                    value=not r.optional,
                    description=label,
                    indent=False,
                    layout=W.Layout(width="auto"),
                )
                _cls(cb, "k360-fac-role", f"k360-fac-role-{r.id}")
                cb._k360_role = r.id
                boxes.append(cb)
        else:
            boxes.append(
                W.HTML(f'<div class="k360-note">{_e(t("fac.start.upload_first", self.lang))}</div>')
            )
        self._roles.children = boxes

    @_guarded
    def _on_scenario(self, change) -> None:
        self._fill_roles()

    @_guarded
    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0]
        name = f.get("name") or "scenario.yaml"
        content = bytes(f["content"])
        self._upload.value = ()  # the same file can be chosen again after a fix
        try:
            sc = M.scenario_from_upload(content, name)
            from k360lib.game.world import world_for

            world_for(sc)  # the places the scenario names must exist in its atlas
        except ScenarioError as err:
            self._uploaded = None
            self._scenario.options = self._scenario_options()
            self._scenario.value = _UPLOAD
            self._fill_roles()
            self._show_error(err)
            return
        self._uploaded = sc
        self._scenario.options = self._scenario_options()
        self._scenario.value = _UPLOADED
        self._fill_roles()
        self._show(
            "ok", t("fac.start.uploaded_ok", self.lang, file=name, title=sc.title.get(self.lang))
        )

    def _chosen_roles(self) -> list[str]:
        return [
            cb._k360_role
            for cb in self._roles.children
            if getattr(cb, "_k360_role", None) and cb.value
        ]

    @_guarded
    def _on_create(self) -> None:
        sc = self._chosen_scenario()
        if sc is None:
            self._show("error", t("fac.start.upload_first", self.lang))
            return
        self._show("info", t("fac.start.creating", self.lang))
        self._create_btn.disabled = True
        try:
            self.create(
                sc, roles=self._chosen_roles(), mode=self._mode.value, name=self._name.value
            )
        finally:
            self._create_btn.disabled = False

    @_guarded
    def _on_resume(self) -> None:
        game, code = self._resume_game.value.strip(), self._resume_code.value.strip()
        if not game or not code:
            self._show("error", t("fac.start.resume_missing", self.lang))
            return
        self.resume(game, code)

    def _resume_from_query(self, query: str) -> None:
        from urllib.parse import parse_qs

        q = parse_qs((query or "").lstrip("?"))
        game, code = (q.get("game") or [""])[0], (q.get("code") or [""])[0]
        view = (q.get("view") or [""])[0]
        if view in VIEWS:
            self._view = view  # e.g. a second browser tab on the projector: &view=projector
        if game and code:
            self._resume_quietly(game, code)

    def _resume_quietly(self, game: str, code: str) -> None:
        try:
            self.resume(game, code)
        except K360Error as err:
            self._show_error(err)

    # ------------------------------------------------------------------ opening a game
    def create(
        self,
        scenario: str | Scenario = "default",
        *,
        roles: list[str] | None = None,
        mode: str = "networked",
        name: str = "",
        seed: int | None = None,
    ) -> GameCodes:
        """Create a game in the store and open it (what the "Create" button does).

        Raises
        ------
        K360Error
            Invalid scenario or role choice (the button shows the message).
        """
        from k360lib.game.session import create_game, join

        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        name = (name or "").strip()[:200]
        meta = {"mode": mode, "app": "facilitator"}
        if name:
            meta["name"] = name
        codes = create_game(self.store, scenario, roles=roles, seed=seed, meta=meta)
        session = join(self.store, codes.game_code, codes.facilitator)
        self._open(session, codes)
        self._show("ok", t("fac.created", self.lang, game=codes.game_code))
        return codes

    def resume(self, game_code: str, facilitator_code: str) -> None:
        """Open an existing game as its facilitator (after a kernel restart, or on another device).

        Raises
        ------
        K360Error
            Unknown game, wrong code, or a seat's join code instead of the facilitator code.
        """
        session = M.resume(self.store, game_code, facilitator_code)
        self._open(session, M.game_codes(session))
        self._show("ok", t("fac.resumed", self.lang, game=self.codes.game_code))

    def _open(self, session: GameSession, codes: GameCodes) -> None:
        self.close()
        self._closed = False
        self.session = session
        self.codes = codes
        self._meta = M.game_meta(session.state)
        self.mode = (
            self._meta.get("mode", "networked") if self._meta.get("mode") in MODES else "networked"
        )
        self._seats = {}
        self._panels = {}
        self._game_map = None
        self._build_game()
        self._body.children = (self._game,)
        if self._view not in self._views_of_mode():
            self._view = "hotseat" if self.mode == "hotseat" else "control"
        self._views.value = self._view
        self._show_view(self._view)
        self.refresh(force=True)
        self._start_live()

    # ------------------------------------------------------------------ game screen
    def _build_game(self) -> None:
        lang = self.lang
        self._header = W.HTML()
        self._views = _cls(
            W.ToggleButtons(
                options=[(t(f"fac.view.{v}", lang), v) for v in self._views_of_mode()],
                value="control",
                style={"button_width": "auto"},
            ),
            "k360-fac-views",
        )
        self._views.observe(self._on_view, names="value")
        self._view_box = W.VBox()
        # control
        self._phasebar = W.HTML()
        self._advance_btn = _cls(
            W.Button(button_style="primary", icon="forward"), "k360-fac-advance"
        )
        self._advance_btn.on_click(lambda _b: self.advance())
        self._rewind_btn = _cls(
            W.Button(description=t("fac.control.rewind", lang), icon="backward"), "k360-fac-rewind"
        )
        self._rewind_btn.on_click(lambda _b: self.rewind())
        self._undo_btn = _cls(
            W.Button(description=t("fac.control.undo", lang), icon="undo", button_style="warning"),
            "k360-fac-undo",
        )
        self._undo_btn.on_click(lambda _b: self.undo())
        self._lock_btn = _cls(W.Button(icon="lock"), "k360-fac-lock")
        self._lock_btn.on_click(lambda _b: self.toggle_lock())
        self._rotate_btn = _cls(
            W.Button(description=t("fac.control.rotate", lang), icon="refresh"), "k360-fac-rotate"
        )
        self._rotate_btn.on_click(lambda _b: self.rotate())
        self._undo_preview = _cls(W.HTML(), "k360-fac-undo-preview")
        self._timer_toggle = _cls(
            W.Checkbox(value=False, description=t("fac.timer.show", lang), indent=False),
            "k360-fac-timer-toggle",
        )
        self._timer_toggle.observe(lambda _c: self._update_countdown(), names="value")
        self._countdown = W.HTML()
        self._draw_btn = _cls(
            W.Button(description=t("fac.cards.draw", lang), icon="random", button_style="info"),
            "k360-fac-draw",
        )
        self._draw_btn.on_click(lambda _b: self.draw_card())
        self._card_choice = _cls(
            W.Dropdown(
                description=t("fac.cards.choose_label", lang),
                style={"description_width": "initial"},
            ),
            "k360-fac-card-choice",
        )
        self._choose_btn = _cls(
            W.Button(description=t("fac.cards.choose", lang)), "k360-fac-choose"
        )
        self._choose_btn.on_click(lambda _b: self.choose_card(self._card_choice.value))
        self._cards = _cls(W.HTML(), "k360-fac-cards")
        self._monitor = W.HTML()
        self._own_ctrl = W.HTML()
        self._debrief_ctrl = _cls(W.HTML(), "k360-fac-debrief-box")
        self._control = _cls(
            W.VBox(
                [
                    self._phasebar,
                    self._debrief_ctrl,
                    W.HBox(
                        [
                            self._rewind_btn,
                            self._advance_btn,
                            self._undo_btn,
                            self._lock_btn,
                            self._rotate_btn,
                        ]
                    ),
                    self._undo_preview,
                    W.HBox([self._timer_toggle, self._countdown]),
                    W.HTML(f"<h3>{_e(t('fac.cards.title', lang))}</h3>"),
                    W.HBox([self._draw_btn, self._card_choice, self._choose_btn]),
                    self._cards,
                    W.HTML(f"<h3>{_e(t('fac.monitor.title', lang))}</h3>"),
                    self._monitor,
                    self._own_ctrl,
                ]
            ),
            "k360-fac-view",
            "k360-fac-view-control",
        )
        # join
        self._base_url = _cls(
            W.Text(
                value=self._player_url or "",
                description=t("fac.codes.base_url", lang),
                placeholder="http://…/voila/render/04_mitspielen.ipynb",
                style={"description_width": "initial"},
                layout=W.Layout(width="720px"),
            ),
            "k360-fac-base-url",
        )
        self._base_url.observe(self._on_base_url, names="value")
        self._codes_html = W.HTML()
        self._own_html = W.HTML()
        self._join = _cls(
            W.VBox([self._base_url, self._codes_html, self._own_html]),
            "k360-fac-view",
            "k360-fac-view-join",
        )
        # projector
        self._proj_head = _cls(W.HTML(), "k360-fac-proj-head")
        self._proj_countdown = W.HTML()
        self._map_box = _cls(W.VBox(), "k360-fac-map")
        self._budgets = W.HTML()
        self._proposals = W.HTML()
        self._results = W.HTML()
        self._map_box.layout = W.Layout(flex="3 1 520px", min_width="420px")
        side = W.VBox(
            [self._budgets, self._results], layout=W.Layout(flex="2 1 360px", min_width="340px")
        )
        self._projector = _cls(
            W.VBox(
                [
                    self._proj_head,
                    _cls(
                        W.HBox([self._map_box, side], layout=W.Layout(flex_flow="row wrap")),
                        "k360-fac-projector-row",
                    ),
                    self._proposals,
                ]
            ),
            "k360-fac-view",
            "k360-fac-view-projector",
            "k360-fac-projector",
        )
        # hot-seat
        self._hs_role = _cls(
            W.ToggleButtons(style={"button_width": "auto"}), "k360-fac-hotseat-role"
        )
        self._hs_role.observe(self._on_hotseat_seat, names="value")
        self._hs_panel = _cls(W.VBox(), "k360-fac-hotseat-panel")
        self._hotseat = _cls(
            W.VBox(
                [
                    W.HTML(f'<div class="k360-note">{_e(t("fac.hotseat.help", lang))}</div>'),
                    self._hs_role,
                    self._hs_panel,
                ]
            ),
            "k360-fac-view",
            "k360-fac-view-hotseat",
            "k360-fac-hotseat",
        )
        # log
        self._log = W.HTML()
        self._log_view = _cls(W.VBox([self._log]), "k360-fac-view", "k360-fac-view-log")
        self._game = _cls(W.VBox([self._header, self._views, self._view_box]), "k360-fac-game")

    def _views_of_mode(self) -> tuple[str, ...]:
        """Return the views of the game screen (a hot-seat game has no join codes)."""
        if self.mode == "hotseat":
            return tuple(v for v in VIEWS if v != "join")
        return VIEWS

    def _view_widget(self, view: str):
        return {
            "control": self._control,
            "join": self._join,
            "projector": self._projector,
            "hotseat": self._hotseat,
            "log": self._log_view,
        }[view]

    @_guarded
    def _on_view(self, change) -> None:
        self.show_view(change["new"])

    def show_view(self, view: str) -> None:
        """Show one view of the game screen (``control``, ``join``, ``projector``, ``hotseat``, ``log``)."""
        views = self._views_of_mode()
        if view not in views:
            raise ValueError(f"unknown view {view!r}; known: {', '.join(views)}")
        if self._views.value != view:
            self._views.value = view  # calls back into show_view
            return
        self._show_view(view)
        self._render_view(view)

    def _show_view(self, view: str) -> None:
        self._view = view
        self._view_box.children = (self._view_widget(view),)

    @_guarded
    def _on_base_url(self, change) -> None:
        self._player_url = change["new"].strip() or None
        self._render_join()

    # ------------------------------------------------------------------ rendering
    def refresh(self, force: bool = False) -> None:
        """Bring the session up to date and redraw what changed."""
        if self.session is None:
            return
        if self.session.changed():
            self.session.poll()
        st = self.session.state
        if not force and st.version == self._rendered_version:
            self._update_countdown()
            return
        self._rendered_version = st.version
        self._header.value = V.header_html(
            st, self.lang, self.codes.game_code, self.mode, self._meta.get("name", "")
        )
        self._render_control()
        self._render_view(self._view)
        self._update_countdown()

    def _render_view(self, view: str | None) -> None:
        if view == "join":
            self._render_join()
        elif view == "projector":
            self._render_projector()
        elif view == "hotseat":
            self._render_hotseat()
        elif view == "log":
            self._log.value = V.log_html(self.state, self.lang)

    def _render_control(self) -> None:
        st, lang = self.state, self.lang
        self._phasebar.value = V.phasebar_html(st, lang)
        info = M.phase_info(st)
        ended = info["status"] == "ended"
        if ended:
            self._advance_btn.description = t("fac.control.ended", lang)
        else:
            nxt = self.session.check(C.advance(), self.lang)
            if info["index"] + 1 < len(info["phases"]):
                label = V.phase_label(info["phases"][info["index"] + 1], lang)
                self._advance_btn.description = t("fac.control.advance_to", lang, phase=label)
            elif info["round"] < info["rounds"]:
                self._advance_btn.description = t(
                    "fac.control.next_round", lang, round=info["round"] + 1
                )
            else:
                self._advance_btn.description = t("fac.control.end_game", lang)
            self._advance_btn.tooltip = nxt or ""
        self._advance_btn.disabled = ended
        why = self.session.check(C.rewind(), self.lang)
        self._rewind_btn.disabled = why is not None
        self._rewind_btn.tooltip = why or ""
        target = M.undo_preview(st)
        self._undo_btn.disabled = target is None
        if target is None:
            self._undo_preview.value = (
                f'<span class="k360-note">{_e(t("fac.control.nothing_to_undo", lang))}</span>'
            )
        else:
            who = (
                V.role_label(st, target.role, lang)
                if target.role
                else t("fac.log.facilitator", lang)
            )
            self._undo_preview.value = (
                f'<span class="k360-note" data-target="{target.version}">'
                # i18n-dynamic: event types of k360lib.game.events.EVENT_TYPES (test_facilitator_app checks each)
                f"{_e(t('fac.control.undo_preview', lang, what=t('fac.event.' + target.type, lang), who=who, n=target.version))}</span>"
            )
        self._lock_btn.description = t(
            "fac.control.unlock" if st.locked else "fac.control.lock", lang
        )
        self._lock_btn.icon = "unlock" if st.locked else "lock"
        self._lock_btn.disabled = ended
        why = self.session.check(C.rotate_roles(1), self.lang)
        self._rotate_btn.disabled = why is not None
        if why is None:
            prev = M.rotation_preview(st, 1)
            self._rotate_btn.tooltip = "; ".join(
                f"{V.role_label(st, s, lang, short=True)} → {V.role_label(st, r, lang, short=True)}"
                for s, r in prev.items()
            )
        else:
            self._rotate_btn.tooltip = why
        # cards
        choices = M.cards_to_choose(st)
        self._card_choice.options = [(c.title.get(lang), c.id) for c in choices]
        why = self.session.check(C.draw_card(), self.lang)
        self._draw_btn.disabled = why is not None
        self._draw_btn.tooltip = why or ""
        self._choose_btn.disabled = why is not None or not choices
        self._cards.value = V.cards_html(st, lang)
        self._monitor.value = V.monitor_html(st, lang)
        self._own_ctrl.value = V.own_code_html(self.codes, lang, self._player_url)
        self._debrief_ctrl.value = (
            f'<div class="k360-msg k360-msg-ok k360-fac-debrief-ended">'
            f"{_e(t('fac.debrief.ended', lang))}<br>"
            f"{V.debrief_link_html(self.codes, lang, self._player_url, 'k360-fac-debrief-main')}</div>"
            if ended
            else ""
        )

    def _render_join(self) -> None:
        self._own_html.value = V.own_code_html(self.codes, self.lang, self._player_url)
        self._codes_html.value = V.codes_html(self.state, self.codes, self.lang, self._player_url)

    def _render_projector(self) -> None:
        st, lang = self.state, self.lang
        info = M.phase_info(st)
        self._proj_head.value = (
            f'<div class="k360-fac-big" data-phase="{_e(info["phase"])}">'
            f"{_e(t('fac.header.round', lang, round=info['round'], rounds=info['rounds']))} · "
            f"{_e(V.phase_label(info['phase'], lang))}</div>{V.cards_html(st, lang)}"
        )
        self._render_map()
        self._proposals.value = V.proposals_html(st, lang)
        self._budgets.value = V.budgets_html(st, lang)
        self._results.value = V.results_html(st, lang)

    def _render_map(self) -> None:
        if self._game_map is None:
            try:
                from k360lib.widgets.game_map import GameMap
            except ImportError:
                self._map_box.children = (
                    W.HTML(
                        f'<div class="k360-note">{_e(t("fac.projector.no_map", self.lang))}</div>'
                    ),
                )
                return
            # the projector is no role's view: neutral legend ("proposal" / "adopted measure")
            self._game_map = GameMap(self.session, self.lang, neutral=True)
            self._map_box.children = (self._game_map.widget,)
        else:
            self._game_map.update(self.state)

    # ------------------------------------------------------------------ countdown
    def _update_countdown(self) -> None:
        if self.session is None:
            return
        text = ""
        if self._timer_toggle.value:
            text = V.countdown_text(M.countdown(self.state), self.lang)
        if self._countdown.value != text:
            self._countdown.value = text
            self._proj_countdown.value = text

    # ------------------------------------------------------------------ facilitator actions
    def _act(self, command: C.Command, ok_key: str | None = None, **params):
        from k360lib.game.errors import RuleViolation

        if self.session is None:
            return None
        try:
            ev = self.session.submit(command)
        except RuleViolation as err:
            self._show("error", err.message(self.lang))
            self.refresh(force=True)
            return None
        except K360Error as err:
            self._show_error(err)
            self.refresh(force=True)
            return None
        if ok_key:
            # i18n-dynamic: ok_key is one of the literal keys fac.locked / fac.unlocked / fac.rotated
            self._show("ok", t(ok_key, self.lang, **params))
        self.refresh(force=True)
        self._refresh_hotseat_panels()
        return ev

    @_guarded
    def advance(self):
        """Go to the next phase (next round, end of game); return the event or ``None``."""
        ev = self._act(C.advance())
        if ev is not None:
            self._show(
                "ok", t("fac.advanced", self.lang, phase=V.phase_label(ev.payload["to"], self.lang))
            )
        return ev

    @_guarded
    def rewind(self):
        """Go back one phase within the round."""
        ev = self._act(C.rewind())
        if ev is not None:
            self._show(
                "ok", t("fac.rewound", self.lang, phase=V.phase_label(ev.payload["to"], self.lang))
            )
        return ev

    @_guarded
    def draw_card(self):
        """Draw an event card at random (seeded and logged) and reveal it."""
        ev = self._act(C.draw_card())
        if ev is not None:
            title = self.state.rules.cards[ev.payload["card"]].title.get(self.lang)
            self._show("ok", t("fac.cards.drawn", self.lang, title=title))
        return ev

    @_guarded
    def choose_card(self, card: str | None):
        """Play the chosen event card and reveal it."""
        if not card:
            self._show("error", t("fac.cards.none_left", self.lang))
            return None
        ev = self._act(C.choose_card(card))
        if ev is not None:
            title = self.state.rules.cards[ev.payload["card"]].title.get(self.lang)
            self._show("ok", t("fac.cards.drawn", self.lang, title=title))
        return ev

    @_guarded
    def undo(self):
        """Undo the last event still in effect."""
        target = M.undo_preview(self.state) if self.session else None
        ev = self._act(C.undo())
        if ev is not None and target is not None:
            self._show(
                "ok",
                t(
                    "fac.undone",
                    self.lang,
                    # i18n-dynamic: event types of k360lib.game.events.EVENT_TYPES (test_facilitator_app checks each)
                    what=t("fac.event." + target.type, self.lang),
                    n=target.version,
                ),
            )
        return ev

    @_guarded
    def toggle_lock(self):
        """Lock player submissions, or unlock them."""
        locked = not self.state.locked
        return self._act(C.lock(locked), "fac.locked" if locked else "fac.unlocked")

    @_guarded
    def rotate(self, shift: int = 1):
        """Rotate the roles between seats (the perspective switch)."""
        return self._act(C.rotate_roles(shift), "fac.rotated")

    # ------------------------------------------------------------------ hot-seat
    def seat_session(self, seat: str) -> GameSession:
        """Return this kernel's session of ``seat`` (hot-seat play; same store)."""
        if not self._seats:
            self._seats = M.seat_sessions(self.session)
        return self._seats[seat]

    def _render_hotseat(self) -> None:
        st, lang = self.state, self.lang
        opts = [(f"{V.role_label(st, st.seat_roles[s], lang)}", s) for s in st.seats]
        if list(self._hs_role.options) != opts:
            current = self._hs_role.value if self._hs_role.value in st.seats else None
            self._hs_role.options = opts
            want = (
                self._hotseat_seat if self._hotseat_seat in st.seats else (current or st.seats[0])
            )
            self._hs_role.value = want
        if self._hs_role.value is not None:
            self._show_hotseat_seat(self._hs_role.value)

    @_guarded
    def _on_hotseat_seat(self, change) -> None:
        if change["new"] is not None and self.session is not None:
            self._show_hotseat_seat(change["new"])

    def _show_hotseat_seat(self, seat: str) -> None:
        self._hotseat_seat = seat
        panel = self.hotseat_panel(seat)
        if panel is None:
            self._hs_panel.children = (
                W.HTML(f'<div class="k360-note">{_e(t("fac.hotseat.no_panel", self.lang))}</div>'),
            )
            return
        panel.refresh()  # polls its own seat session
        if tuple(self._hs_panel.children) != (panel.container,):
            self._hs_panel.children = (panel.container,)

    def hotseat_panel(self, seat: str):
        """Return the PlayerPanel of ``seat`` (``None`` when the player app is not available)."""
        if seat not in self._panels:
            try:
                from k360lib.widgets.player import PlayerPanel
            except ImportError:
                return None
            self._panels[seat] = PlayerPanel(self.seat_session(seat), self.lang)
        return self._panels[seat]

    def _refresh_hotseat_panels(self) -> None:
        """Let the shown seat's panel read new events (one cheap query when nothing changed)."""
        if self._view == "hotseat" and self._hotseat_seat in self._panels:
            self._panels[self._hotseat_seat].refresh()

    # ------------------------------------------------------------------ live polling
    def tick(self) -> bool:
        """Poll the store once; redraw when something changed; return whether it did."""
        if self.session is None or self._closed:
            return False
        changed = self.session.changed()
        if changed:
            self.refresh()
        else:
            self._update_countdown()
        self._refresh_hotseat_panels()
        return changed

    def _start_live(self) -> None:
        if not self._live or self._task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no kernel event loop (plain Python, tests): call tick() yourself
        self._task = loop.create_task(self._live_loop())

    async def _live_loop(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._poll_interval)
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - keep polling; show what went wrong
                with contextlib.suppress(Exception):
                    self._show(
                        "error",
                        t("fac.unexpected", self.lang, detail=f"{type(exc).__name__}: {exc}"),
                    )
