"""What a role group sees of a game: figures and lists derived from a :class:`GameState`.

Pure functions over the state (numpy only, no pandas, no UI): the player
panel (:mod:`k360lib.widgets.player`), the facilitator's projector and the
debrief render what these return. The engine stays the only gate for
commands — these views only help to offer sensible choices (e.g. the
measures a role may lead) and to show their consequences in figures.

Examples
--------
>>> from k360lib.game import Game
>>> game = Game.create("kurz", seed=1)
>>> rows = areas_by_need(game.state)
>>> rows[0].need >= rows[-1].need or rows[-1].need is None
True
>>> [m.id for m in proposable_measures(game.state, "politik")]
['beteiligung', 'verfuegungsfonds']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from k360lib.game import rules as R

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.game.state import GameState

__all__ = [
    "AreaNeed",
    "area_label",
    "areas_by_need",
    "consequences",
    "map_items",
    "measure_label",
    "proposable_measures",
    "role_figures",
    "role_label",
]


@dataclass(frozen=True)
class AreaNeed:
    """An area with its current need score (``None`` when it has none) and whether it can host measures."""

    area_id: str
    name: str
    need: float | None
    rank: int | None
    eligible: bool


def areas_by_need(state: GameState) -> list[AreaNeed]:
    """Return every area, neediest first (areas without a score last, then by name).

    ``rank`` is 1 for the neediest area; ``eligible`` is false for areas with
    fewer children than the scenario's ``min_children`` (the engine refuses
    measures there).
    """
    w = state.world
    need = state.need()
    eligible = state.rules.eligible
    rows = []
    for i, (aid, name) in enumerate(zip(w.area_ids, w.names)):
        v = float(need[i])
        rows.append((aid, name, v if math.isfinite(v) else None, bool(eligible[i])))
    scored = sorted((r for r in rows if r[2] is not None), key=lambda r: (-r[2], r[1]))
    rest = sorted((r for r in rows if r[2] is None), key=lambda r: r[1])
    out = [AreaNeed(a, n, v, k + 1, e) for k, (a, n, v, e) in enumerate(scored)]
    out += [AreaNeed(a, n, None, None, e) for a, n, _, e in rest]
    return out


def proposable_measures(state: GameState, role: str) -> list:
    """Return the measures ``role`` may lead (its mandate covers the kind; the measure allows it).

    The engine checks everything else (phase, area, budget, staff) when the
    proposal is made.
    """
    r = state.rules.roles[role]
    out = []
    for mid in state.rules.measure_order:
        m = state.rules.measures[mid]
        if m.kind in r.mandate and (m.lead is None or role in m.lead):
            out.append(m)
    return out


def role_label(state: GameState, role: str, lang: str | None = None) -> str:
    """Return the name of a role or of a funding programme (from its event card)."""
    r = state.rules.roles.get(role)
    if r is not None:
        return r.label(lang)
    prog = state.programmes.get(role)
    card = state.rules.cards.get(prog["card"]) if prog else None
    for eff in card.effects if card is not None else ():
        if eff.type == "programme" and eff.id == role:
            return eff.name.get(lang)
    return str(role)


def measure_label(state: GameState, measure: str, lang: str | None = None) -> str:
    """Return the name of a measure of the catalog."""
    m = state.rules.measures.get(measure)
    return m.label(lang) if m is not None else str(measure)


def area_label(state: GameState, area: str) -> str:
    """Return the name of an area (its id when unknown)."""
    w = state.world
    return w.area_name(area) if w.has_area(area) else str(area)


def role_figures(state: GameState, role: str) -> dict:
    """Return a role's money, staff, votes, trust and goal progress this round.

    Keys: ``budget``, ``spent``, ``due``, ``pledged``, ``available`` (money,
    in the scenario's currency), ``staff``, ``staff_used`` (FTE, open
    proposals included), ``votes``, ``trust``, ``goal_value``,
    ``goal_target``, ``goal_progress`` (0 … 1), ``goal_achieved``.
    """
    f = state.funders[role]
    return {
        "budget": f.budget,
        "spent": f.spent,
        "due": R.due(state, role),
        "pledged": R.pledged(state, role),
        "available": R.available(state, role),
        "staff": f.staff,
        "staff_used": R.staff_used(state, role),
        "votes": state.rules.votes.get(role, 0),
        "trust": f.trust,
        **R.goal_progress(state, role),
    }


def consequences(state: GameState) -> list[dict]:
    """Return the shared outcome after each completed round (index 0: the base year).

    Each row: ``round``, ``need_mean``, ``equity_gap``, ``reach`` (0 … 1),
    ``shared_score``, ``active_measures``, ``started``, and ``improved`` —
    the areas whose need score fell against the row before, as
    ``(area_id, change)``, largest fall first.
    """
    out = []
    prev = None
    ids = state.world.area_ids
    for h in state.history:
        improved = []
        if prev is not None:
            for aid, before, after in zip(ids, prev["need"], h["need"]):
                if before is not None and after is not None and after < before - 1e-9:
                    improved.append((aid, after - before))
            improved.sort(key=lambda x: x[1])
        out.append(
            {
                "round": h["round"],
                "need_mean": h["need_mean"],
                "equity_gap": h["equity_gap"],
                "reach": h["reach"],
                "shared_score": h["shared_score"],
                "active_measures": h["active_measures"],
                "started": h["started"],
                "improved": improved,
            }
        )
        prev = h
    return out


def map_items(state: GameState, role: str | None = None, lang: str | None = None) -> list[dict]:
    """Return the markers of the game map: this round's proposals and the running measures.

    Each item: ``area`` (id), ``id`` (proposal/measure id), ``kind`` (``own``
    for proposals led by ``role``, ``other`` for the other proposals,
    ``measure`` for running measures), ``label`` (``P3`` or ``M3``),
    ``title`` (measure – area (lead), plain text), ``status``.
    Withdrawn and rejected proposals are left out.
    """
    items = []
    for p in state.proposals.values():
        if p.round != state.round or p.status not in ("open", "approved", "unfunded"):
            continue
        if p.status == "approved" and p.id in state.measures:
            continue  # shown as a measure
        items.append(
            {
                "area": p.area,
                "id": p.id,
                "kind": "own" if role is not None and p.lead == role else "other",
                "label": p.id,
                "title": f"{p.id}: {measure_label(state, p.measure, lang)} – "
                f"{area_label(state, p.area)} ({role_label(state, p.lead, lang)})",
                "status": p.status,
            }
        )
    for m in state.active_measures():
        items.append(
            {
                "area": m.area,
                "id": m.id,
                "kind": "measure",
                "label": f"M{m.number}",
                "title": f"M{m.number}: {measure_label(state, m.measure, lang)} – "
                f"{area_label(state, m.area)} ({role_label(state, m.lead, lang)})",
                "status": m.status,
            }
        )
    return items
