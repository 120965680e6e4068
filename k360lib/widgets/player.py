"""The player side of the Planspiel: one role group's screen, and the app that joins a game.

- :class:`PlayerPanel` — the screen of **one seat's** :class:`~k360lib.game.session.GameSession`:
  status, role card, the city map (:class:`~k360lib.widgets.game_map.GameMap`),
  propose a measure, co-sign / co-fund / withdraw, vote, consequences in
  figures, reflection notes. Controls the current phase (or a lock, the
  budget, the mandate …) does not allow are **disabled with the reason shown**
  — the reason is the engine's own message (:meth:`GameSession.check`), so
  the screen never disagrees with the rules. :meth:`PlayerPanel.refresh`
  reads new events and redraws; several panels can live in one kernel (the
  facilitator's hot-seat mode), each with its own session. A redraw (someone
  else acted) keeps what the player has chosen or typed but not submitted:
  ballots and co-fund shares are kept per proposal id, the proposal form and
  the note keep their values.
- :class:`PlayerApp` — joins with the link's query string (Voilà puts it in
  ``QUERY_STRING``: ``?game=…&code=…``, optionally ``&seat=<seat>``) or a form
  for the two codes, then shows a :class:`PlayerPanel` and polls the store
  (:class:`LivePoller`: one cheap ``session.changed()`` query every 0.5 s),
  so a change made elsewhere appears within 2 s without reloading. The state
  lives in the store: a restarted kernel (a reloaded page) joins again with
  the same link and shows the current state. A player has **no control to
  advance a phase**; the facilitator's code is refused here, and the engine
  refuses facilitator commands from a seat anyway.

No business logic here: figures and choices come from
:mod:`k360lib.game.player_view`, checks from the engine. The import path
(this module, :mod:`~k360lib.widgets.game_map`, :mod:`k360lib.game.session`)
loads neither pandas, geopandas, mapclassify nor folium — a player kernel
stays light (tested in ``tests/unit/test_player_app.py``).

CSS hooks (stable; end-to-end tests rely on them)
-------------------------------------------------
App and joining:

- ``.k360-player-app`` — the app's container.
- ``.k360-join`` — the join form: ``.k360-join-game input``, ``.k360-join-code input``,
  button ``.k360-join-submit``.
- ``.k360-join-message`` — why a join failed: ``.k360-msg.k360-error`` inside
  (wrong game code, wrong code, the facilitator's code, another role's link).

Panel (one per seat):

- ``.k360-player`` plus ``.k360-player-seat-<seat>`` — the panel's container.
- ``.k360-status`` (inside ``.k360-player-status``) with attributes
  ``data-k360-phase`` (``lage`` … ``reflexion``, ``ende``), ``data-k360-round``,
  ``data-k360-role``, ``data-k360-version`` (the game version shown) and
  ``data-k360-locked`` (``0``/``1``).
- ``.k360-player-message`` — the result of the last action: ``.k360-msg.k360-ok``
  or ``.k360-msg.k360-error`` (the engine's translated reason).
- ``.k360-cards`` — this round's event card(s): ``.k360-card[data-k360-card=<id>]``.
- ``.k360-role-card`` (``data-k360-role``) — the role card; ``.k360-goal``.
- ``.k360-game-map`` — the map (see :mod:`k360lib.widgets.game_map`).
- ``.k360-propose`` — the proposal form: ``.k360-propose-measure select``,
  ``.k360-propose-area select`` (neediest first, need shown),
  ``.k360-propose-share-<funder> input`` (per cent), checkboxes
  ``.k360-propose-partner-<role> input``, ``.k360-propose-note textarea``,
  button ``.k360-propose-submit``, reason ``.k360-propose-reason``.
- ``.k360-proposals`` — this round's proposals; one row per proposal:
  ``.k360-proposal.k360-proposal-<id>`` plus ``.k360-proposal-own`` or
  ``.k360-proposal-other`` and ``.k360-status-<status>``; in a row: buttons
  ``.k360-cosign``, ``.k360-cofund`` (share ``.k360-cofund-share input``),
  ``.k360-withdraw``; ``.k360-reason`` says why a button is disabled.
- ``.k360-vote`` — ballots ``.k360-ballot-<id>`` (toggle buttons Ja/Nein/Enthaltung),
  button ``.k360-vote-submit``, reason ``.k360-vote-reason``.
- ``.k360-results`` — consequences: ``table.k360-results-table`` (one row per
  completed round, ``data-k360-round``), ``.k360-decisions``.
- ``.k360-notes`` — reflection: ``.k360-note-prompt select``,
  ``.k360-note-text textarea``, button ``.k360-note-submit``, list
  ``.k360-note-list`` with ``.k360-note-item`` per note (text shown as text).
- ``.k360-explain`` — a closed accordion with the rules and formulas
  (:func:`k360lib.game.rules.explain`), rendered when opened.

A disabled control has the HTML ``disabled`` attribute (ipywidgets), so
``locator.is_disabled()`` works.
"""

from __future__ import annotations

import html
import logging
import math
import os
import threading
import weakref
from urllib.parse import parse_qs

import ipywidgets as W

from k360lib.errors import K360Error
from k360lib.game import commands as C
from k360lib.game.player_view import (
    area_label,
    areas_by_need,
    consequences,
    measure_label,
    proposable_measures,
    role_figures,
    role_label,
)
from k360lib.i18n import normalize_lang, t
from k360lib.widgets.game_map import GameMap

__all__ = ["POLL_INTERVAL", "LivePoller", "PlayerApp", "PlayerPanel"]

log = logging.getLogger("k360.widgets")

#: seconds between two looks at the store (a change shows within about this time)
POLL_INTERVAL = 0.5

_CSS = """<style>
.k360-player{max-width:1280px;}
.k360-player .k360-status{font-size:1.1em;font-weight:600;padding:6px 10px;background:#eef3f8;
 border-left:4px solid #2b5c8a;margin:4px 0;}
.k360-player .k360-status .k360-sub{font-weight:400;font-size:0.9em;color:#333;margin-top:2px;}
.k360-player .k360-status.k360-locked{border-left-color:#c62828;}
.k360-player .k360-msg{padding:6px 10px;margin:4px 0;}
.k360-player-app .k360-msg.k360-error,.k360-player .k360-msg.k360-error{background:#fdecea;
 border-left:4px solid #c62828;color:#611a15;padding:6px 10px;}
.k360-player .k360-msg.k360-ok{background:#e8f5e9;border-left:4px solid #2e7d32;color:#1b5e20;}
.k360-player .k360-box{border:1px solid #d0d7de;border-radius:4px;padding:6px 10px;margin:6px 0;}
.k360-player h3{font-size:1.05em;margin:2px 0 6px 0;}
.k360-player .k360-reason{font-size:0.88em;color:#8a4b00;margin:2px 0;}
.k360-player .k360-hint{font-size:0.88em;color:#555;margin:2px 0 6px 0;}
.k360-player .k360-role-card .k360-kv{margin:3px 0;line-height:1.35;}
.k360-player .k360-role-card .k360-k{font-weight:600;}
.k360-player .k360-role-card .k360-goal{margin-top:6px;padding:4px 8px;background:#fff8e1;line-height:1.35;}
.k360-player table.k360-results-table{border-collapse:collapse;font-size:0.92em;}
.k360-player table.k360-results-table th,.k360-player table.k360-results-table td{
 border-bottom:1px solid #e3e3e3;padding:2px 8px 2px 0;text-align:right;}
.k360-player table.k360-results-table th:first-child,.k360-player table.k360-results-table td:first-child{text-align:left;}
.k360-player .k360-proposal{border-top:1px solid #e3e3e3;padding:4px 0;}
.k360-player .k360-proposal-own .k360-pline{border-left:4px solid #0072B2;padding-left:6px;}
.k360-player .k360-proposal-other .k360-pline{border-left:4px solid #E69F00;padding-left:6px;}
.k360-player .k360-note-item{border-left:3px solid #999;padding:2px 8px;margin:4px 0;white-space:pre-wrap;}
.k360-player .k360-muted{color:#555;font-size:0.9em;}
</style>"""

_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _session_lock(session) -> threading.RLock:
    """One lock per session object: a poll thread and a click never fold events at once."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(session)
        if lock is None:
            lock = _LOCKS[session] = threading.RLock()
        return lock


def _e(value) -> str:
    return html.escape(str(value))


def _num(x: float, lang: str, decimals: int = 0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    text = f"{x:,.{decimals}f}"
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def _markdown_html(text: str) -> str:
    """Headings (``#``, ``##``) and paragraphs of a simple Markdown text, every text escaped."""
    out = []
    for block in text.split("\n\n"):
        block = block.strip()
        if not block:
            continue
        lines = block.split("\n")
        head = lines[0]
        if head.startswith("## "):
            out.append(f"<h4>{_e(head[3:])}</h4>")
            lines = lines[1:]
        elif head.startswith("# "):
            out.append(f"<h3>{_e(head[2:])}</h3>")
            lines = lines[1:]
        if lines:
            out.append(f'<p style="white-space:pre-wrap">{_e(chr(10).join(lines))}</p>')
    return f'<div class="k360-explain-text">{"".join(out)}</div>'


def _msg(kind: str, text: str) -> str:
    return f'<div class="k360-msg k360-{kind}">{_e(text)}</div>'


class LivePoller:
    """Call ``target()`` every ``interval`` seconds in a daemon thread until :meth:`stop`.

    Exceptions of ``target`` are logged, never raised (a store that is briefly
    unreachable must not end the updates).
    """

    def __init__(self, target, interval: float = POLL_INTERVAL):
        self._target = target
        self.interval = float(interval)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="k360-player-poll", daemon=True)

    def start(self) -> LivePoller:
        """Start polling; return ``self``."""
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._target()
            except Exception:  # noqa: BLE001 - keep polling; the next round may succeed
                log.exception("k360: polling the game store failed")

    def stop(self) -> None:
        """Stop polling (returns at once)."""
        self._stop.set()

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread.is_alive() and not self._stop.is_set()


class PlayerPanel:
    """The screen of one seat (see the module docstring for what it shows and its CSS hooks).

    Parameters
    ----------
    session : GameSession
        A seat's session (not the facilitator's).
    lang : str, optional
        UI language; default the current one.
    map_height : str
        CSS height of the map.

    Attributes
    ----------
    container : ipywidgets.VBox
        What to display.
    session : GameSession
    map : GameMap
    """

    def __init__(self, session, lang: str | None = None, *, map_height: str = "500px"):
        if session.facilitator:
            raise ValueError("PlayerPanel needs a seat's session, not the facilitator's")
        self.session = session
        self.lang = normalize_lang(lang)
        self._lock = _session_lock(session)
        self._shown_version = -1
        self._form_key = None
        # widgets kept per proposal id across redraws: a redraw (someone else acted)
        # must not reset a ballot or a co-fund share the player has not submitted yet
        self._ballots: dict[str, W.ToggleButtons] = {}
        self._ballot_rows: dict[str, tuple[W.VBox, W.HTML]] = {}
        self._ballot_cast: dict[str, str | None] = {}
        self._ballot_role: str | None = None
        self._prop_rows: dict[str, dict] = {}
        self._prop_role: str | None = None
        L = self.lang
        with self._lock:
            state = session.state
            self.map = GameMap(session, L, height=map_height)
        self._status = W.HTML()
        self._status.add_class("k360-player-status")
        self._message = W.HTML()
        self._message.add_class("k360-player-message")
        self._card = W.HTML()
        self._card.add_class("k360-role-card")
        self._cards = W.HTML()
        self._cards.add_class("k360-cards")
        self._explain = W.HTML()
        explain_box = W.Accordion(children=[self._explain])
        explain_box.set_title(0, t("player.explain.heading", L))
        explain_box.selected_index = None
        explain_box.add_class("k360-explain")
        self._explain_rendered = False
        explain_box.observe(self._on_explain, names="selected_index")
        self._map_pick = W.Dropdown(
            options=self._map_options(state),
            description=t("player.map.show", L),
            style={"description_width": "auto"},
        )
        self._map_pick.observe(self._on_map_pick, names="value")
        # -- proposal form
        self._measure = W.Dropdown(
            description=t("player.propose.measure", L),
            style={"description_width": "110px"},
            layout=W.Layout(width="98%"),
        )
        self._measure.add_class("k360-propose-measure")
        self._measure_info = W.HTML()
        self._area = W.Dropdown(
            description=t("player.propose.area", L),
            style={"description_width": "110px"},
            layout=W.Layout(width="98%"),
        )
        self._area.add_class("k360-propose-area")
        self._shares: dict[str, W.BoundedFloatText] = {}
        self._partners: dict[str, W.Checkbox] = {}
        self._shares_box = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self._partners_box = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self._note = W.Textarea(
            description=t("player.propose.note", L),
            style={"description_width": "110px"},
            layout=W.Layout(width="98%", height="60px"),
        )
        self._note.add_class("k360-propose-note")
        self._propose_btn = W.Button(
            description=t("player.propose.submit", L), button_style="primary", icon=""
        )
        self._propose_btn.add_class("k360-propose-submit")
        self._propose_btn.on_click(self._on_propose)
        self._propose_reason = W.HTML()
        self._propose_reason.add_class("k360-propose-reason")
        self._no_measures = W.HTML()
        for w in (self._measure, self._area):
            w.observe(self._on_form_change, names="value")
        self._propose_form = W.VBox(
            [
                self._measure,
                self._measure_info,
                self._area,
                W.HTML(
                    f"<b>{_e(t('player.propose.shares', L))}</b>"
                    f'<div class="k360-hint">{_e(t("player.propose.shares_hint", L))}</div>'
                ),
                self._shares_box,
                W.HTML(f"<b>{_e(t('player.propose.partners', L))}</b>"),
                self._partners_box,
                self._note,
                W.HBox([self._propose_btn]),
                self._propose_reason,
            ]
        )
        self._propose = W.VBox(
            [W.HTML(f"<h3>{_e(t('player.propose.heading', L))}</h3>"), self._no_measures]
            + [self._propose_form]
        )
        self._propose.add_class("k360-propose")
        self._propose.add_class("k360-box")
        # -- proposals, vote, results, notes
        self._proposals_head = W.HTML(f"<h3>{_e(t('player.proposals.heading', L))}</h3>")
        self._proposals_none = W.HTML(
            f'<div class="k360-hint">{_e(t("player.proposals.none", L))}</div>'
        )
        self._vote_none = W.HTML(f'<div class="k360-hint">{_e(t("player.vote.none", L))}</div>')
        self._proposals = W.VBox()
        self._proposals.add_class("k360-proposals")
        self._proposals.add_class("k360-box")
        self._vote_rows = W.VBox()
        self._vote_btn = W.Button(description=t("player.vote.submit", L), button_style="primary")
        self._vote_btn.add_class("k360-vote-submit")
        self._vote_btn.on_click(self._on_vote)
        self._vote_reason = W.HTML()
        self._vote_reason.add_class("k360-vote-reason")
        self._vote = W.VBox(
            [
                W.HTML(f"<h3>{_e(t('player.vote.heading', L))}</h3>"),
                self._vote_rows,
                self._vote_btn,
                self._vote_reason,
            ]
        )
        self._vote.add_class("k360-vote")
        self._vote.add_class("k360-box")
        self._results = W.HTML()
        self._results.add_class("k360-results")
        self._results.add_class("k360-box")
        self._note_prompt = W.Dropdown(
            description=t("player.notes.prompt", L),
            style={"description_width": "110px"},
            layout=W.Layout(width="98%"),
        )
        self._note_prompt.add_class("k360-note-prompt")
        self._note_text = W.Textarea(
            description=t("player.notes.text", L),
            style={"description_width": "110px"},
            layout=W.Layout(width="98%", height="70px"),
        )
        self._note_text.add_class("k360-note-text")
        self._note_btn = W.Button(description=t("player.notes.submit", L))
        self._note_btn.add_class("k360-note-submit")
        self._note_btn.on_click(self._on_note)
        self._note_list = W.HTML()
        self._note_list.add_class("k360-note-list")
        self._notes = W.VBox(
            [
                W.HTML(f"<h3>{_e(t('player.notes.heading', L))}</h3>"),
                self._note_prompt,
                self._note_text,
                self._note_btn,
                self._note_list,
            ]
        )
        self._notes.add_class("k360-notes")
        self._notes.add_class("k360-box")
        map_col = W.VBox([self._map_pick, self.map.widget], layout=W.Layout(flex="3 1 0%"))
        card_col = W.VBox([self._card], layout=W.Layout(flex="2 1 0%", min_width="260px"))
        self.container = W.VBox(
            [
                W.HTML(_CSS),
                self._status,
                self._message,
                self._cards,
                W.HBox([map_col, card_col], layout=W.Layout(width="100%", align_items="stretch")),
                self._propose,
                self._proposals,
                self._vote,
                self._results,
                self._notes,
                explain_box,
            ]
        )
        self.container.add_class("k360-player")
        self.container.add_class(f"k360-player-seat-{session.seat}")
        self.refresh(force=True)

    # -- helpers -------------------------------------------------------------------
    @property
    def role(self) -> str:
        """The role the seat plays now."""
        return self.session.role

    def _map_options(self, state) -> list[tuple[str, str]]:
        from k360lib.widgets.game_map import NEED

        w = state.world
        opts = [(t("player.map.need", self.lang), NEED)]
        for ind in w.indicators:
            if w.weights[w.indicator_index(ind)] > 0:
                opts.append(((w.labels.get(ind) or {}).get(self.lang) or ind, ind))
        return opts

    def _on_map_pick(self, change) -> None:
        with self._lock:
            self.map.set_indicator(change["new"])

    def _say(self, kind: str, text: str) -> None:
        self._message.value = _msg(kind, text)

    def _submit(self, command, done_text) -> bool:
        """Submit ``command``; show the outcome; redraw. Return whether it was applied."""
        from k360lib.game.errors import StaleVersionError

        with self._lock:
            try:
                ev = self.session.submit(command)
            except StaleVersionError:
                self._say("error", t("player.changed", self.lang))
                ok = False
            except K360Error as err:
                self._say("error", t("player.error", self.lang, reason=err.message(self.lang)))
                ok = False
            else:
                text = done_text(ev) if callable(done_text) else done_text
                self._say("ok", text)
                ok = True
            self._render()
        return ok

    def _check(self, command) -> str | None:
        return self.session.check(command, self.lang)

    # -- refreshing ------------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Read new events from the store and redraw; return whether anything was redrawn."""
        with self._lock:
            if self.session.changed():
                self.session.poll()
            if not force and self.session.state.version == self._shown_version:
                return False
            self._render()
        return True

    def _render(self) -> None:
        st = self.session.state
        self._shown_version = st.version
        self._render_status(st)
        self._render_cards(st)
        self._render_card(st)
        self.map.update(st)
        self._render_form(st)
        self._update_propose_check()
        self._render_proposals(st)
        self._render_vote(st)
        self._render_results(st)
        self._render_notes(st)

    def _render_status(self, st) -> None:
        L = self.lang
        role = role_label(st, self.role, L)
        if st.status == "ended":
            head = t("player.status_ended", L, role=role)
        else:
            head = t(
                "player.status",
                L,
                role=role,
                round=st.round,
                rounds=st.scenario.rounds,
                phase=t(f"game.phase.{st.phase}", L),
            )
        sub = ""
        phase = next((p for p in st.scenario.phases if p.id == st.phase), None)
        if phase is not None and phase.text is not None:
            sub = f'<div class="k360-sub">{_e(phase.text.get(L))}</div>'
        if st.locked:
            sub += f'<div class="k360-sub">{_e(t("player.locked", L))}</div>'
        locked = " k360-locked" if st.locked else ""
        self._status.value = (
            f'<div class="k360-status{locked}" data-k360-phase="{_e(st.phase)}" '
            f'data-k360-round="{st.round}" data-k360-role="{_e(self.role)}" '
            f'data-k360-version="{st.version}" data-k360-locked="{int(st.locked)}">'
            f"{_e(head)}{sub}</div>"
        )

    def _render_cards(self, st) -> None:
        L = self.lang
        drawn = [c for c in st.cards if c["round"] == st.round]
        if not drawn:
            self._cards.value = (
                f'<div class="k360-box k360-hint">{_e(t("player.cards.none", L))}</div>'
            )
            return
        parts = []
        for c in drawn:
            card = st.rules.cards.get(c["card"])
            if card is None:
                continue
            parts.append(
                f'<div class="k360-card" data-k360-card="{_e(card.id)}"><b>{_e(card.title.get(L))}</b>'
                f"<br>{_e(card.text.get(L))}</div>"
            )
        self._cards.value = f'<div class="k360-box"><h3>{_e(t("player.cards.heading", L))}</h3>{"".join(parts)}</div>'

    def _on_explain(self, change) -> None:
        if change["new"] is None or self._explain_rendered:
            return
        from k360lib.game.rules import explain

        self._explain_rendered = True
        self._explain.value = _markdown_html(explain(self.lang, self.session.state.scenario))

    def _render_card(self, st) -> None:
        L = self.lang
        role = st.rules.roles[self.role]
        fig = role_figures(st, self.role)
        cur = st.scenario.currency
        goal = role.goal
        done = t("player.card.goal_done", L) if fig["goal_achieved"] else ""
        decimals = 0 if float(fig["goal_target"]).is_integer() else 2
        progress = t(
            "player.card.goal_progress",
            L,
            value=_num(fig["goal_value"], L, decimals),
            target=_num(fig["goal_target"], L, decimals),
            done=done,
        )
        lead = ", ".join(measure_label(st, m.id, L) for m in proposable_measures(st, self.role))
        focus = [area_label(st, a) for a in role.focus.areas]
        focus += [st.world.district_names.get(d, d) for d in role.focus.districts]
        votes = str(fig["votes"]) if fig["votes"] else t("player.card.no_votes", L)
        money = (
            f"{_num(fig['budget'], L)} {cur} · {_e(t('player.card.available', L))}: "
            f"<b>{_num(fig['available'], L)} {cur}</b> · {_e(t('player.card.pledged', L))}: "
            f"{_num(fig['pledged'], L)} {cur} · {_e(t('player.card.spent', L))}: "
            f"{_num(fig['spent'], L)} {cur}"
        )
        if fig["due"]:
            money += f" · {_e(t('player.card.due', L))}: {_num(fig['due'], L)} {cur}"
        staff = t(
            "player.card.staff_value",
            L,
            used=_num(fig["staff_used"], L, 1),
            capacity=_num(fig["staff"], L, 1),
        )
        rows = [
            ("player.card.situation", _e(role.card.situation.get(L))),
            ("player.card.logic", _e(role.card.logic.get(L))),
            ("player.card.interests", _e(role.card.interests.get(L))),
            ("player.card.budget", money),
            ("player.card.staff", _e(staff)),
            ("player.card.votes", _e(votes)),
            ("player.card.responsible", _e(lead or "–")),
        ]
        if focus:
            rows.append(("player.card.focus", _e(", ".join(focus))))
        if role.provider:
            rows.append(("player.card.trust", _num(100 * fig["trust"], L) + " %"))
        body = "".join(
            # i18n-dynamic: k is one of the literal player.card.* keys listed in rows above
            f'<div class="k360-kv"><span class="k360-k">{_e(t(k, L))}:</span> {v}</div>'
            for k, v in rows
        )
        self._card.value = (
            f'<div class="k360-box" data-k360-role="{_e(self.role)}">'
            f"<h3>{_e(t('player.card.heading', L))}: {_e(role.label(L))}</h3>{body}"
            f'<div class="k360-goal"><b>{_e(t("player.card.goal", L))}:</b> '
            f"{_e(goal.text.get(L))}<br>{_e(progress)}</div></div>"
        )

    # -- proposal form --------------------------------------------------------------
    def _funders(self, st) -> list[str]:
        progs = [k for k, p in st.programmes.items() if p["active"]]
        return [*st.roles, *progs]

    def _render_form(self, st) -> None:
        L = self.lang
        cur = st.scenario.currency
        measures = proposable_measures(st, self.role)
        m_opts = []
        for m in measures:
            invest = t("player.propose.invest", L, invest=_num(m.invest, L), currency=cur)
            m_opts.append(
                (
                    t(
                        "player.propose.measure_option",
                        L,
                        name=m.label(L),
                        cost=_num(m.cost, L),
                        currency=cur,
                        invest=invest if m.invest else "",
                        staff=_num(m.staff, L, 1),
                    ),
                    m.id,
                )
            )
        a_opts = []
        for row in areas_by_need(st):
            if row.need is None:
                label = t("player.propose.area_option_none", L, name=row.name, area=row.area_id)
            else:
                label = t(
                    "player.propose.area_option",
                    L,
                    rank=row.rank,
                    name=row.name,
                    area=row.area_id,
                    need=_num(row.need, L, 2),
                )
            if not row.eligible:
                label += t("player.propose.area_small", L)
            a_opts.append((label, row.area_id))
        if tuple(m_opts) != tuple(self._measure.options):
            keep = self._measure.value
            self._measure.options = m_opts
            ids = [v for _, v in m_opts]
            self._measure.value = keep if keep in ids else (ids[0] if ids else None)
        if tuple(a_opts) != tuple(self._area.options):
            keep = self._area.value
            self._area.options = a_opts
            ids = [v for _, v in a_opts]
            if keep in ids:
                self._area.value = keep
            else:
                first = next((r.area_id for r in areas_by_need(st) if r.eligible), None)
                self._area.value = first if first is not None else (ids[0] if ids else None)
        self._no_measures.value = (
            ""
            if measures
            else f'<div class="k360-hint">{_e(t("player.propose.no_measures", L))}</div>'
        )
        self._propose_form.layout.display = "" if measures else "none"
        key = (self.role, tuple(self._funders(st)))
        if key != self._form_key:
            # a funder (a programme) came or went: keep the boxes still there and what
            # was typed in them; only a new role of this seat starts the form afresh
            same_role = self._form_key is not None and self._form_key[0] == self.role
            self._form_key = key
            old_shares, old_partners = self._shares, self._partners
            self._shares = {}
            boxes = []
            for f in self._funders(st):
                w = old_shares.pop(f, None) if same_role else None
                if w is not None:
                    self._shares[f] = w
                    boxes.append(w)
                    continue
                label = role_label(st, f, L)
                short = getattr(st.rules.roles.get(f), "short", None) or label
                w = W.BoundedFloatText(
                    value=100.0 if f == self.role else 0.0,
                    min=0.0,
                    max=100.0,
                    step=5.0,
                    description=short,
                    tooltip=label,
                    style={"description_width": "auto"},
                    layout=W.Layout(width="150px" if f in st.rules.roles else "340px"),
                )
                w.add_class(f"k360-propose-share-{f}")
                w.observe(self._on_form_change, names="value")
                self._shares[f] = w
                boxes.append(w)
            self._shares_box.children = boxes
            self._partners = {}
            checks = []
            for r in st.roles:
                if r == self.role:
                    continue
                c = old_partners.pop(r, None) if same_role else None
                if c is not None:
                    self._partners[r] = c
                    checks.append(c)
                    continue
                c = W.Checkbox(
                    value=False,
                    description=role_label(st, r, L),
                    indent=False,
                    layout=W.Layout(width="auto", margin="0 16px 0 0"),
                )
                c.add_class(f"k360-propose-partner-{r}")
                c.observe(self._on_form_change, names="value")
                self._partners[r] = c
                checks.append(c)
            self._partners_box.children = checks
            for gone in (*old_shares.values(), *old_partners.values()):
                gone.close()
        m = st.rules.measures.get(self._measure.value) if self._measure.value else None
        self._measure_info.value = (
            f'<div class="k360-hint">{_e(m.description.get(L))}</div>' if m is not None else ""
        )

    def _form_command(self):
        shares = {f: w.value / 100.0 for f, w in self._shares.items() if w.value > 0}
        partners = [r for r, c in self._partners.items() if c.value]
        return C.propose(
            self._measure.value or "",
            self._area.value or "",
            shares=shares,
            partners=partners,
            note=self._note.value,
        )

    def _update_propose_check(self) -> None:
        if not self._measure.value:
            reason = t("player.propose.no_measures", self.lang)
        else:
            reason = self._check(self._form_command())
        self._propose_btn.disabled = reason is not None
        self._propose_reason.value = (
            "" if reason is None else f'<div class="k360-reason">{_e(reason)}</div>'
        )

    def _on_form_change(self, change) -> None:
        with self._lock:
            st = self.session.state
            m = st.rules.measures.get(self._measure.value) if self._measure.value else None
            self._measure_info.value = (
                f'<div class="k360-hint">{_e(m.description.get(self.lang))}</div>'
                if m is not None
                else ""
            )
            self.map.select(self._area.value)
            self._update_propose_check()

    def _on_propose(self, _btn=None) -> None:
        cmd = self._form_command()
        if self._submit(
            cmd, lambda ev: t("player.propose.done", self.lang, proposal=ev.payload["proposal"])
        ):
            self._note.value = ""

    # -- proposals ----------------------------------------------------------------------
    def _render_proposals(self, st) -> None:
        L = self.lang
        cur = st.scenario.currency
        props = sorted(
            (p for p in st.proposals.values() if p.round == st.round), key=lambda p: p.number
        )
        if self._prop_role != self.role:  # a new role: own and others' rows swap
            self._prop_role = self.role
            for pid in list(self._prop_rows):
                self._drop_proposal_row(pid)
        shown = {p.id for p in props}
        for pid in [pid for pid in self._prop_rows if pid not in shown]:
            self._drop_proposal_row(pid)
        rows: list[W.Widget] = [self._proposals_head]
        if not props:
            rows.append(self._proposals_none)
        for p in props:
            own = p.lead == self.role
            meas = st.rules.measures[p.measure]
            total = meas.invest + meas.cost
            shares = ", ".join(
                f"{role_label(st, f, L)} {_num(100 * s, L)} %" + (" ✓" if f in p.pledges else "")
                for f, s in p.shares.items()
            )
            lines = [
                t(
                    "player.proposals.line",
                    L,
                    proposal=p.id,
                    measure=meas.label(L),
                    area=area_label(st, p.area),
                    lead=role_label(st, p.lead, L),
                )
                # i18n-dynamic: proposal statuses of the engine (all five are in player.json)
                + f" · {t(f'player.proposals.status.{p.status}', L)}"
                + (f" · {t('player.proposals.own', L)}" if own else ""),
                t(
                    "player.proposals.funding",
                    L,
                    total=_num(total, L),
                    currency=cur,
                    funded=_num(100 * p.funded_share(), L),
                    shares=shares or "–",
                ),
            ]
            if p.partners:
                lines.append(
                    t(
                        "player.proposals.partners",
                        L,
                        roles=", ".join(role_label(st, r, L) for r in p.partners),
                    )
                )
            if p.cosigners:
                lines.append(
                    t(
                        "player.proposals.cosigners",
                        L,
                        roles=", ".join(role_label(st, r, L) for r in p.cosigners),
                    )
                )
            body = "<br>".join(_e(x) for x in lines)
            if p.note:
                body += f'<div class="k360-muted k360-proposal-note">{_e(p.note)}</div>'
            entry = self._prop_rows.get(p.id) or self._proposal_row(p.id, own)
            entry["pline"].value = f'<div class="k360-pline">{body}</div>'
            row = entry["row"]
            status_cls = f"k360-status-{p.status}"
            for c in [c for c in row._dom_classes if c.startswith("k360-status-")]:
                if c != status_cls:
                    row.remove_class(c)
            row.add_class(status_cls)
            parts: list[W.Widget] = [entry["pline"]]
            reasons: list[str] = []
            if p.status == "open":
                if own:
                    b = entry["withdraw"]
                    why = self._check(C.withdraw(p.id))
                    b.disabled = why is not None
                    if why:
                        reasons.append(why)
                else:
                    b, share, fb = entry["cosign"], entry["share"], entry["cofund"]
                    why = self._check(C.cosign(p.id))
                    b.disabled = why is not None
                    if why:
                        reasons.append(why)
                    asked = p.pledges.get(self.role, p.shares.get(self.role, 0.0))
                    default = round(100 * asked, 1) if asked else 10.0
                    # a box the player has not touched follows the asked (or pledged) share;
                    # a typed share stays until it is submitted
                    if entry["default"] is None or share.value == entry["default"]:
                        share.value = default
                    entry["default"] = default
                    why_f = self._check(C.cofund(p.id, share.value / 100.0))
                    fb.disabled = why_f is not None
                    if why_f and why_f not in reasons:
                        reasons.append(why_f)
                parts.append(entry["buttons"])
            if reasons:
                entry["reasons"].value = "".join(
                    f'<div class="k360-reason">{_e(r)}</div>' for r in reasons
                )
                parts.append(entry["reasons"])
            row.children = parts
            rows.append(row)
        self._proposals.children = rows

    def _proposal_row(self, pid: str, own: bool) -> dict:
        """Make one proposal's row; it is kept (and updated) while the proposal is shown."""
        L = self.lang
        entry: dict = {"pline": W.HTML(), "reasons": W.HTML(), "default": None}
        if own:
            b = W.Button(description=t("player.withdraw", L))
            b.add_class("k360-withdraw")
            b.on_click(lambda _b: self._on_withdraw(pid))
            entry["withdraw"] = b
            buttons = [b]
        else:
            b = W.Button(description=t("player.cosign", L))
            b.add_class("k360-cosign")
            b.on_click(lambda _b: self._on_cosign(pid))
            share = W.BoundedFloatText(
                value=10.0,
                min=0.0,
                max=100.0,
                step=5.0,
                description=t("player.cofund.share", L),
                style={"description_width": "auto"},
                layout=W.Layout(width="150px"),
            )
            share.add_class("k360-cofund-share")
            fb = W.Button(description=t("player.cofund", L))
            fb.add_class("k360-cofund")

            def _recheck(change):
                with self._lock:
                    fb.disabled = (
                        self._check(C.cofund(pid, float(change["new"]) / 100.0)) is not None
                    )

            share.observe(_recheck, names="value")
            fb.on_click(lambda _b: self._on_cofund(pid, share.value))
            entry.update(cosign=b, share=share, cofund=fb)
            buttons = [b, share, fb]
        entry["buttons"] = W.HBox(buttons, layout=W.Layout(flex_flow="row wrap"))
        row = W.VBox([entry["pline"]])
        row.add_class("k360-proposal")
        row.add_class(f"k360-proposal-{pid}")
        row.add_class("k360-proposal-own" if own else "k360-proposal-other")
        entry["row"] = row
        self._prop_rows[pid] = entry
        return entry

    def _drop_proposal_row(self, pid: str) -> None:
        entry = self._prop_rows.pop(pid)
        for w in entry.values():
            if isinstance(w, W.Widget):
                w.close()

    def _on_cosign(self, pid: str) -> None:
        self._submit(C.cosign(pid), t("player.cosign.done", self.lang, proposal=pid))

    def _on_cofund(self, pid: str, percent: float) -> None:
        self._submit(
            C.cofund(pid, float(percent) / 100.0), t("player.cofund.done", self.lang, proposal=pid)
        )

    def _on_withdraw(self, pid: str) -> None:
        self._submit(C.withdraw(pid), t("player.withdraw.done", self.lang, proposal=pid))

    # -- vote ---------------------------------------------------------------------------
    def _render_vote(self, st) -> None:
        L = self.lang
        open_props = st.open_proposals()
        if self._ballot_role != self.role:  # a new role: its own votes
            self._ballot_role = self.role
            for pid in list(self._ballots):
                self._drop_ballot(pid)
        shown = {p.id for p in open_props}
        for pid in [pid for pid in self._ballots if pid not in shown]:
            self._drop_ballot(pid)
        rows = []
        for p in open_props:
            cast = p.votes.get(self.role)
            tb = self._ballots.get(p.id)
            if tb is None:
                tb = W.ToggleButtons(
                    options=[
                        (t("player.vote.yes", L), "yes"),
                        (t("player.vote.no", L), "no"),
                        (t("player.vote.abstain", L), "abstain"),
                    ],
                    index=None,
                    style={"button_width": "auto"},
                )
                tb.add_class(f"k360-ballot-{p.id}")
                tb.observe(lambda _c: self._update_vote_check(), names="value")
                self._ballots[p.id] = tb
                label = W.HTML()
                self._ballot_rows[p.id] = (W.VBox([label, tb]), label)
                self._ballot_cast[p.id] = None
            row, label = self._ballot_rows[p.id]
            # the ballot shows a vote cast (here or on another screen of this seat);
            # otherwise it keeps the choice the player has not submitted yet
            if cast != self._ballot_cast[p.id]:
                self._ballot_cast[p.id] = cast
                if cast is not None:
                    tb.value = cast
            text = (
                f"{p.id}: {measure_label(st, p.measure, L)} – {area_label(st, p.area)} "
                f"({role_label(st, p.lead, L)})"
            )
            label.value = f"<div>{_e(text)}</div>"
            rows.append(row)
        if not open_props:
            rows.append(self._vote_none)
        self._vote_rows.children = rows
        self._update_vote_check()

    def _drop_ballot(self, pid: str) -> None:
        tb = self._ballots.pop(pid)
        row, label = self._ballot_rows.pop(pid)
        self._ballot_cast.pop(pid, None)
        for w in (row, label, tb):
            w.close()

    def _ballot_values(self) -> dict[str, str]:
        return {pid: tb.value for pid, tb in self._ballots.items() if tb.value is not None}

    def _update_vote_check(self) -> None:
        if not self._ballots:
            reason = t("player.vote.none", self.lang)
        else:
            ballots = self._ballot_values() or {pid: "abstain" for pid in self._ballots}
            reason = self._check(C.vote(ballots))
        if reason is None and not self._ballot_values():
            self._vote_btn.disabled = True
            self._vote_reason.value = ""
            return
        self._vote_btn.disabled = reason is not None
        self._vote_reason.value = (
            "" if reason is None else f'<div class="k360-reason">{_e(reason)}</div>'
        )

    def _on_vote(self, _btn=None) -> None:
        ballots = self._ballot_values()
        if ballots:
            self._submit(C.vote(ballots), t("player.vote.done", self.lang))

    # -- results and notes -------------------------------------------------------------
    def _render_results(self, st) -> None:
        L = self.lang
        rows = consequences(st)
        head = "".join(
            # i18n-dynamic: k is one of the literal player.results.* keys in the tuple below
            f"<th>{_e(t(k, L))}</th>"
            for k in (
                "player.results.round",
                "player.results.need_mean",
                "player.results.equity_gap",
                "player.results.reach",
                "player.results.score",
                "player.results.measures",
            )
        )
        body = []
        for r in rows:
            name = t("player.results.base", L) if r["round"] == 0 else str(r["round"])
            body.append(
                f'<tr data-k360-round="{int(r["round"])}"><td>{_e(name)}</td>'
                f"<td>{_num(r['need_mean'], L, 2)}</td><td>{_num(r['equity_gap'], L, 2)}</td>"
                f"<td>{_num(100 * r['reach'], L, 1)} %</td><td>{_num(r['shared_score'], L, 1)}</td>"
                f"<td>{int(r['active_measures'])}</td></tr>"
            )
        last = rows[-1]
        if len(rows) > 1 and last["improved"]:
            names = ", ".join(area_label(st, a) for a, _ in last["improved"][:8])
            improved = t("player.results.improved", L, areas=names)
        else:
            improved = t("player.results.none_improved", L)
        decided = sorted(
            (
                p
                for p in st.proposals.values()
                if p.round == st.round and p.status in ("approved", "rejected", "unfunded")
            ),
            key=lambda p: p.number,
        )
        dec = []
        for p in decided:
            tally = ""
            if p.result:
                tally = " · " + t(
                    "player.results.tally",
                    L,
                    yes=p.result.get("yes", 0),
                    no=p.result.get("no", 0),
                    abstain=p.result.get("abstain", 0),
                )
            dec.append(
                f'<li class="k360-decision k360-status-{_e(p.status)}">'
                f"{_e(p.id)}: {_e(measure_label(st, p.measure, L))} – {_e(area_label(st, p.area))}"
                # i18n-dynamic: proposal statuses of the engine (approved, rejected, unfunded here)
                f" · {_e(t(f'player.proposals.status.{p.status}', L))}{_e(tally)}</li>"
            )
        dec_html = (
            f'<div class="k360-decisions"><b>{_e(t("player.results.decisions", L))}</b>'
            f"<ul>{''.join(dec)}</ul></div>"
            if dec
            else '<div class="k360-decisions"></div>'
        )
        self._results.value = (
            f"<h3>{_e(t('player.results.heading', L))}</h3>"
            f'<table class="k360-results-table"><tr>{head}</tr>{"".join(body)}</table>'
            f'<div class="k360-hint">{_e(improved)}</div>{dec_html}'
        )

    def _render_notes(self, st) -> None:
        L = self.lang
        opts = [(t("player.notes.free", L), -1)] + [
            (f"{i + 1}. {p.get(L)}", i) for i, p in enumerate(st.scenario.reflection)
        ]
        if tuple(opts) != tuple(self._note_prompt.options):
            self._note_prompt.options = opts
            self._note_prompt.value = opts[1][1] if len(opts) > 1 else -1
        why = self._check(C.note("…"))
        self._note_btn.disabled = why is not None
        self._note_btn.tooltip = why or ""
        mine = [n for n in st.notes if n["role"] == self.role]
        if not mine:
            self._note_list.value = f'<div class="k360-hint">{_e(t("player.notes.none", L))}</div>'
            return
        items = []
        for n in reversed(mine):
            where = t(
                "player.notes.item", L, round=n["round"], phase=t(f"game.phase.{n['phase']}", L)
            )
            prompt = ""
            if n.get("prompt") is not None and n["prompt"] < len(st.scenario.reflection):
                prompt = st.scenario.reflection[n["prompt"]].get(L)
            items.append(
                f'<div class="k360-note-item"><div class="k360-muted">{_e(where)}'
                f"{' · ' + _e(prompt) if prompt else ''}</div>{_e(n['text'])}</div>"
            )
        self._note_list.value = "".join(items)

    def _on_note(self, _btn=None) -> None:
        prompt = self._note_prompt.value
        cmd = C.note(self._note_text.value, None if prompt in (None, -1) else int(prompt))
        if self._submit(cmd, t("player.notes.done", self.lang)):
            self._note_text.value = ""


#: glibc ``mallopt`` parameter ``M_MMAP_THRESHOLD`` and the value a player kernel uses
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 128 * 1024
_heap_tuned = False


def limit_heap_growth() -> bool:
    """Keep a player kernel's heap small: large buffers go back to the OS when freed.

    glibc serves allocations of 128 KiB and more with ``mmap`` — until the
    first such buffer is freed; then it raises that threshold (up to 32 MiB)
    and later large buffers (the JSON of the map widget, a few hundred KiB
    per message) stay in the heap, which never shrinks. Fixing the threshold
    at 128 KiB (``mallopt(M_MMAP_THRESHOLD)``, what ``MALLOC_MMAP_THRESHOLD_=131072``
    does) keeps a player kernel about 2 MiB smaller (``bench/game_apps.py``).
    Once per process; does nothing where the C library is not glibc.

    Returns
    -------
    bool
        Whether the threshold is set (now or before).
    """
    global _heap_tuned
    if _heap_tuned:
        return True
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
        import ctypes

        _heap_tuned = ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) == 1
    except (AttributeError, OSError, ValueError):  # not glibc / not Linux
        return False
    return _heap_tuned


def release_free_memory() -> bool:
    """Give the heap's free memory back to the OS (glibc ``malloc_trim``); ``False`` elsewhere.

    The player app calls it on its first poll (after the screen was sent)
    and after each redraw: building and sending the widgets leaves freed
    buffers in the heap (about 0.7 MiB).
    """
    if not limit_heap_growth():
        return False
    import ctypes

    ctypes.CDLL(None).malloc_trim(0)
    return True


class PlayerApp:
    """Join a game as a role group and play it (see the module docstring).

    Parameters
    ----------
    lang : str, optional
        UI language; default the current one.
    query : str, optional
        URL query string ``game=…&code=…[&seat=…]``; default ``$QUERY_STRING``
        (set by Voilà). Without codes the app shows a join form.
    store : EventStore, optional
        The shared store; default :func:`k360lib.game.store.open_store`
        (``$K360_STORE`` or the user's default file).
    poll : bool or float
        Poll the store for changes (``True``: every :data:`POLL_INTERVAL`
        seconds, a number: that interval, ``False``: never — tests call
        :meth:`refresh`).

    Attributes
    ----------
    container : ipywidgets.VBox
    panel : PlayerPanel or None
        The panel after a successful join.
    """

    def __init__(self, lang: str | None = None, query: str | None = None, store=None, *, poll=True):
        limit_heap_growth()  # a player kernel stays light (see the function)
        self._trimmed = False  # see refresh()
        self.lang = normalize_lang(lang)
        self._store = store
        self._own_store = store is None
        self._poll = poll
        self._poller: LivePoller | None = None
        self.panel: PlayerPanel | None = None
        self._joined_query: str | None = None
        L = self.lang
        q = os.environ.get("QUERY_STRING", "") if query is None else query
        params = parse_qs(str(q).lstrip("?"))
        game = (params.get("game") or [""])[0]
        code = (params.get("code") or [""])[0]
        seat = (params.get("seat") or params.get("role") or [""])[0] or None
        self._game = W.Text(value=game, description=t("player.join.game", L))
        self._game.add_class("k360-join-game")
        self._code = W.Text(value=code, description=t("player.join.code", L))
        self._code.add_class("k360-join-code")
        self._join_btn = W.Button(description=t("player.join.submit", L), button_style="primary")
        self._join_btn.add_class("k360-join-submit")
        self._join_btn.on_click(lambda _b: self.join(self._game.value, self._code.value))
        self._join_msg = W.HTML()
        self._join_msg.add_class("k360-join-message")
        self._form = W.VBox(
            [
                W.HTML(
                    f"<h3>{_e(t('player.join.heading', L))}</h3>"
                    f'<div class="k360-hint">{_e(t("player.join.intro", L))}</div>'
                ),
                self._game,
                self._code,
                self._join_btn,
            ]
        )
        self._form.add_class("k360-join")
        self._body = W.VBox([self._form])
        self.container = W.VBox([W.HTML(_CSS), self._join_msg, self._body])
        self.container.add_class("k360-player-app")
        if game and code:
            self.join(game, code, seat=seat)

    @property
    def store(self):
        """The store (opened on first use)."""
        if self._store is None:
            from k360lib.game.store import open_store

            self._store = open_store()
        return self._store

    def join(self, game_code: str, code: str, *, seat: str | None = None) -> bool:
        """Join with the two codes; show the panel or say why not. Return whether it worked."""
        from k360lib.game.session import join

        L = self.lang
        game_code, code = str(game_code or "").strip(), str(code or "").strip()
        if not game_code or not code:
            self._refuse(t("player.join.empty", L))
            return False
        try:
            store = self.store
        except K360Error as err:
            self._refuse(t("player.join.store_failed", L, reason=err.message(L)))
            return False
        try:
            game_id, kind, found = store.lookup(game_code, code)
        except K360Error as err:
            self._refuse(t("player.join.failed", L, reason=err.message(L)))
            return False
        if kind == "facilitator":
            self._refuse(t("player.join.facilitator_code", L))
            return False
        try:
            session = join(store, game_code, code)
        except K360Error as err:
            self._refuse(t("player.join.failed", L, reason=err.message(L)))
            return False
        if seat and seat != found:
            st = session.state
            expected = role_label(st, st.seat_roles.get(seat, seat), L)
            actual = role_label(st, session.role, L)
            self._refuse(t("player.join.other_role", L, expected=expected, actual=actual))
            return False
        self._join_msg.value = ""
        self.panel = PlayerPanel(session, L)
        self._joined_query = f"game={game_code}&code={code}"
        self._body.children = [self.panel.container]
        if self._poll:
            interval = POLL_INTERVAL if self._poll is True else float(self._poll)
            self._poller = LivePoller(self.refresh, interval).start()
        return True

    def _refuse(self, text: str) -> None:
        self._join_msg.value = _msg("error", text)
        self._body.children = [self._form]

    def refresh(self) -> bool:
        """Bring the panel up to date (what the poller calls); return whether it redrew."""
        redrawn = self.panel.refresh() if self.panel is not None else False
        if redrawn or not self._trimmed:  # the first poll comes after the screen was sent
            release_free_memory()
            self._trimmed = True
        return redrawn

    def relaunch_kwargs(self) -> dict:
        """Keep the joined game when the language switch rebuilds the app."""
        out = {}
        if self._joined_query:
            out["query"] = self._joined_query
        if self._store is not None:  # the new app shares the connection
            out["store"] = self._store
        return out

    def close(self) -> None:
        """Stop polling (the language switch calls this on the old app)."""
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
