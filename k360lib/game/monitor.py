"""What the facilitator (Spielleitung) watches: phase and time box, who acted, budgets, results.

Pure functions of a :class:`~k360lib.game.state.GameState` (no UI, no
pandas): the facilitator app renders them, the projector view shows them,
and scripts or other apps can use them too.

- :func:`phase_info` — round, phase, the phase's time box and when it began
  (the timestamp of the event that opened it, so every kernel computes the
  same :func:`countdown` from the shared store).
- :func:`role_activity` — per seat: the role it plays now, what it did in
  the current phase and whether it is *done* (e.g. voted on every open
  proposal in the Beschluss phase).
- :func:`budget_overview` — per role: budget, spent, due, pledged, available.
- :func:`round_summary` — the shared outcome of the last completed round and
  its change, indicator means before/after, role goals.
- :func:`undo_preview`, :func:`cards_to_choose`, :func:`cards_this_round`,
  :func:`rotation_preview` — what the facilitator's buttons would do.
- :func:`resume` / :func:`seat_sessions` — reconnect a facilitator kernel to
  its game by the facilitator code, and open one session per seat for
  hot-seat play in the same kernel (same store: nothing is lost on a restart).
- :func:`scenario_from_upload` — parse an uploaded YAML file (bytes) with
  errors that name the file, the path in the YAML and the line.

Examples
--------
>>> from k360lib.game import Game, commands as C
>>> from k360lib.game.monitor import phase_info, role_activity
>>> game = Game.create("kurz", seed=1)
>>> _ = game.submit(C.advance())
>>> phase_info(game.state)["phase"]
'planung'
>>> _ = game.submit(C.propose("familienzentrum", "SR15"), role="jugendamt")
>>> [(r["role"], r["acted"]) for r in role_activity(game.state)]
[('jugendamt', True), ('politik', False), ('wohlfahrtsverband', False)]
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from k360lib.game import rules as R
from k360lib.game.errors import ScenarioError, ScenarioIssue, UnknownCodeError

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.game.scenario import Scenario
    from k360lib.game.session import GameSession
    from k360lib.game.state import GameState
    from k360lib.game.store import EventStore

__all__ = [
    "MAX_UPLOAD_BYTES",
    "budget_overview",
    "cards_this_round",
    "cards_to_choose",
    "countdown",
    "effective_events",
    "game_codes",
    "game_meta",
    "phase_info",
    "resume",
    "role_activity",
    "rotation_preview",
    "round_summary",
    "scenario_from_upload",
    "seat_sessions",
    "undo_preview",
]

#: Largest scenario file accepted from an upload (bytes).
MAX_UPLOAD_BYTES = 2_000_000
_PHASE_EVENTS = ("game_created", "phase_advanced", "phase_rewound")


def effective_events(state: GameState) -> list:
    """Return the events in effect: the first event plus every event not undone, in order."""
    keep = set(state.undoable)
    return [state.events[0], *(state.events[v - 1] for v in sorted(keep))]


def _phase_start_event(state: GameState):
    for ev in reversed(effective_events(state)):
        if ev.type in _PHASE_EVENTS:
            return ev
    return state.events[0]  # pragma: no cover - the first event is always game_created


def game_meta(state: GameState) -> dict:
    """Return the free information stored when the game was created (e.g. ``mode``, ``name``)."""
    return dict(state.events[0].payload.get("meta") or {})


def _parse_ts(ts: str) -> datetime:
    dt = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def phase_info(state: GameState) -> dict:
    """Return where the game stands.

    Returns
    -------
    dict
        ``round``, ``rounds``, ``phase`` (id; ``ende`` after the last round),
        ``index`` (position in ``phases``), ``phases`` (ids), ``status``,
        ``locked``, ``minutes`` (the phase's time box or ``None``),
        ``started`` (ISO timestamp of the event that opened the phase),
        ``version``, ``can_rewind``.
    """
    phases = list(state.rules.phases)
    ended = state.status == "ended"
    minutes = None
    if not ended:
        minutes = state.scenario.phases[state.phase_index].minutes
    return {
        "round": state.round,
        "rounds": state.scenario.rounds,
        "phase": state.phase,
        "index": len(phases) if ended else state.phase_index,
        "phases": phases,
        "status": state.status,
        "locked": state.locked,
        "minutes": minutes,
        "started": _phase_start_event(state).ts,
        "version": state.version,
        "can_rewind": (not ended) and state.phase_index > 0,
    }


def countdown(
    state: GameState, now: datetime | None = None, minutes: float | None = None
) -> float | None:
    """Return the seconds left in the current phase's time box (negative when over).

    Parameters
    ----------
    state : GameState
    now : datetime, optional
        Default: the current UTC time.
    minutes : float, optional
        Time box to use instead of the scenario's ``minutes`` of the phase.

    Returns
    -------
    float or None
        ``None`` when the phase has no time box or the game has ended.
    """
    info = phase_info(state)
    box = info["minutes"] if minutes is None else minutes
    if box is None or info["status"] == "ended":
        return None
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    elapsed = (now - _parse_ts(info["started"])).total_seconds()
    return float(box) * 60.0 - elapsed


def _expected(state: GameState, role: str) -> bool:
    phase = state.phase
    if phase == "beschluss":
        return state.rules.votes.get(role, 0) > 0 and bool(state.open_proposals())
    return phase in ("planung", "verhandlung", "reflexion")


def role_activity(state: GameState) -> list[dict]:
    """Return, per seat, what its role did since the current phase began.

    Returns
    -------
    list of dict
        One dict per seat (in seat order): ``seat``, ``role`` (played now),
        ``actions`` (number of events of the role in this phase), ``types``
        (their event types, in order), ``acted`` (any action), ``expected``
        (whether the phase asks this role for something: proposals in
        Planung, negotiation in Verhandlung, votes of roles with votes in
        Beschluss, notes in Reflexion), ``done`` (in Beschluss: voted on
        every open proposal; elsewhere: acted), ``proposals`` (open
        proposals it leads this round).
    """
    start = _phase_start_event(state).version
    by_role: dict[str, list[str]] = {r: [] for r in state.roles}
    for ev in effective_events(state):
        if ev.version > start and ev.role in by_role:
            by_role[ev.role].append(ev.type)
    open_props = state.open_proposals()
    out = []
    for seat in state.seats:
        role = state.seat_roles[seat]
        types = by_role.get(role, [])
        if state.phase == "beschluss":
            done = bool(open_props) and all(role in p.votes for p in open_props)
        else:
            done = bool(types)
        out.append(
            {
                "seat": seat,
                "role": role,
                "actions": len(types),
                "types": list(types),
                "acted": bool(types),
                "expected": _expected(state, role),
                "done": done,
                "proposals": sum(1 for p in open_props if p.lead == role),
            }
        )
    return out


def budget_overview(state: GameState) -> list[dict]:
    """Return the money of every playing role this round.

    Returns
    -------
    list of dict
        ``role``, ``base`` (budget per round), ``budget`` (this round, after
        event cards), ``spent``, ``due`` (running costs still to be charged),
        ``pledged`` (promised to open proposals), ``available``, ``staff``,
        ``staff_used``, ``trust``.
    """
    out = []
    for role in state.roles:
        f = state.funders[role]
        out.append(
            {
                "role": role,
                "base": f.base,
                "budget": f.budget,
                "spent": f.spent,
                "due": R.due(state, role),
                "pledged": R.pledged(state, role),
                "available": R.available(state, role),
                "staff": f.staff,
                "staff_used": R.staff_used(state, role),
                "trust": f.trust,
            }
        )
    return out


def _num(v) -> float:
    return math.nan if v is None else float(v)


def _delta(a, b) -> float:
    a, b = _num(a), _num(b)
    return b - a if math.isfinite(a) and math.isfinite(b) else math.nan


def round_summary(state: GameState) -> dict | None:
    """Return the outcome of the last completed round and how it changed.

    Returns
    -------
    dict or None
        ``None`` before the first round's *Wirkung*. Else ``round``,
        ``shared_score``, ``need_mean``, ``equity_gap``, ``reach``,
        ``active_measures``, each with ``<name>_change`` (against the round
        before) and the base year's value ``<name>_base``; ``indicators``:
        one dict per indicator of the need index (``indicator``, ``label``
        ``{de, en}``, ``unit``, ``polarity``, ``before`` and ``after`` means
        over the areas, ``change``, ``better`` (True when the change lowers
        need)); ``roles``: ``{role: goal progress dict}``; ``proposals``:
        the decided proposals of that round (``id``, ``measure``, ``area``,
        ``lead``, ``status``, ``yes``, ``no``).
    """
    if len(state.history) < 2:
        return None
    last, prev, base = state.history[-1], state.history[-2], state.history[0]
    out: dict = {"round": int(last["round"])}
    for k in ("shared_score", "need_mean", "equity_gap", "reach", "active_measures"):
        out[k] = _num(last.get(k))
        out[f"{k}_change"] = _delta(prev.get(k), last.get(k))
        out[f"{k}_base"] = _num(base.get(k))
    w = state.world
    inds = []
    for j, ind in enumerate(w.indicators):
        if not w.weights[j]:
            continue
        before = [_num(row[j]) for row in prev["values"]]
        after = [_num(row[j]) for row in last["values"]]
        pairs = [(b, a) for b, a in zip(before, after) if math.isfinite(b) and math.isfinite(a)]
        if not pairs:
            continue
        mb = sum(b for b, _ in pairs) / len(pairs)
        ma = sum(a for _, a in pairs) / len(pairs)
        change = ma - mb
        pol = float(w.polarity[j]) or 1.0
        inds.append(
            {
                "indicator": ind,
                "label": dict(w.labels.get(ind, {"de": ind, "en": ind})),
                "unit": w.units.get(ind, ""),
                "polarity": pol,
                "before": mb,
                "after": ma,
                "change": change,
                "better": bool(-pol * change > 1e-12),
            }
        )
    out["indicators"] = inds
    out["roles"] = {r: dict(v) for r, v in (last.get("roles") or {}).items()}
    props = []
    for p in state.proposals.values():
        if p.round == out["round"] and p.status in ("approved", "rejected", "unfunded"):
            res = p.result or {}
            props.append(
                {
                    "id": p.id,
                    "measure": p.measure,
                    "area": p.area,
                    "lead": p.lead,
                    "status": p.status,
                    "yes": res.get("yes", 0),
                    "no": res.get("no", 0),
                }
            )
    out["proposals"] = props
    return out


def undo_preview(state: GameState):
    """Return the event an undo would take back (``None`` when there is nothing to undo)."""
    if not state.undoable:
        return None
    return state.events[state.undoable[-1] - 1]


def cards_this_round(state: GameState) -> list[dict]:
    """Return the event cards played in the current round (``card``, ``how``, ``resolved``, …)."""
    return [dict(c) for c in state.cards if c["round"] == state.round]


def cards_to_choose(state: GameState) -> list:
    """Return the scenario's cards the facilitator may still play in this round."""
    used = {c["card"] for c in state.cards}
    return [
        c
        for c in state.scenario.cards
        if c.id not in used and (not c.rounds or state.round in c.rounds)
    ]


def rotation_preview(state: GameState, shift: int = 1) -> dict[str, str]:
    """Return ``{seat: role}`` after rotating the roles by ``shift`` seats."""
    n = len(state.roles)
    rotation = (state.rotation + shift) % n
    return {seat: state.roles[(i + rotation) % n] for i, seat in enumerate(state.seats)}


def resume(store: EventStore, game_code: str, facilitator_code: str) -> GameSession:
    """Reconnect to a game as its facilitator (e.g. after a kernel restart).

    Raises
    ------
    UnknownGameError
        No game with this game code.
    UnknownCodeError
        The code does not belong to the game, or it is a seat's join code
        (message ``game.monitor.not_facilitator_code``).
    """
    from k360lib.game.session import join

    session = join(store, game_code, facilitator_code)
    if not session.facilitator:
        raise UnknownCodeError("game.monitor.not_facilitator_code")
    return session


def game_codes(facilitator: GameSession):
    """Return the :class:`~k360lib.game.session.GameCodes` of the facilitator's game, from the store.

    Raises
    ------
    ValueError
        If ``facilitator`` is not a facilitator's session (players never see other codes).
    """
    from k360lib.game.session import GameCodes, _pretty

    if not facilitator.facilitator:
        raise ValueError("only the facilitator's session can read the join codes")
    game_code, rows = facilitator.store.game_codes(facilitator.game_id)
    fac = next(r.code for r in rows if r.kind == "facilitator")
    order = {s: i for i, s in enumerate(facilitator.state.seats)}
    seats = sorted(
        ((r.seat, _pretty(r.code)) for r in rows if r.kind == "seat"),
        key=lambda x: order.get(x[0], 99),
    )
    return GameCodes(
        game_id=facilitator.game_id,
        game_code=game_code,
        facilitator=_pretty(fac),
        seats=dict(seats),
    )


def seat_sessions(facilitator: GameSession) -> dict[str, GameSession]:
    """Return one session per seat of the facilitator's game (hot-seat play in one kernel).

    The facilitator's session is the authority here (no join codes are
    needed); every seat session writes to the same store, so a restarted
    kernel finds everything again.

    Raises
    ------
    ValueError
        If ``facilitator`` is not a facilitator's session.
    """
    from k360lib.game.session import GameSession

    if not facilitator.facilitator:
        raise ValueError("only the facilitator's session can open the seats' sessions")
    return {
        seat: GameSession(facilitator.store, facilitator.game_id, seat=seat)
        for seat in facilitator.state.seats
    }


def scenario_from_upload(content: bytes, filename: str = "scenario.yaml") -> Scenario:
    """Parse an uploaded scenario file (YAML bytes, UTF-8 with or without BOM, or cp1252).

    Raises
    ------
    ScenarioError
        Too large, empty, not text, not valid YAML or not a valid scenario;
        every message names the file and the path in the YAML (and the line).
    """
    from k360lib.game.scenario import parse_scenario

    data = bytes(content)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(
            [
                ScenarioIssue(
                    "",
                    "game.monitor.upload_too_large",
                    {"size": len(data), "limit": MAX_UPLOAD_BYTES},
                )
            ],
            file=filename,
        )
    if not data.strip():
        raise ScenarioError([ScenarioIssue("", "game.monitor.upload_empty")], file=filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if b"\x00" in data:
            raise ScenarioError(
                [ScenarioIssue("", "game.monitor.upload_not_text")], file=filename
            ) from None
        text = data.decode("cp1252", errors="replace")
    return parse_scenario(text, file=filename)
