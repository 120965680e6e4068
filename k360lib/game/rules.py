"""The rules of the Planspiel: budgets, the committee vote, the impact model and scoring.

Everything here is a deterministic function of the game state — no hidden
randomness (event-card draws are made by the facilitator's command and logged
in the event). The same formulas are explained to players by :func:`explain`.
Only numpy is needed; nothing here imports pandas, geopandas or a UI library.

Budgets (T€ per round = budget year)
------------------------------------
- Each funder (a role, or a funding programme from an event card) has a
  budget per round. At the start of a round it is reset to the base budget
  (unspent money does not carry over; permanent card effects change the base).
- ``available = budget − spent − due − pledged``: *due* are this round's
  running costs of measures started earlier (charged at the decision),
  *pledged* the shares promised to open proposals (``share × (invest + cost)``).
- A pledge must fit ``available`` and the follow-up costs must fit the base
  budget: ``running commitments + share × cost <= base`` (Folgekosten).
- Staff: the lead of a measure needs its staff (full-time equivalents), each
  partner (co-signer) ``partner_staff`` for the joint work:
  ``staff of measures led + partner_staff × partnerships <= staff capacity``.

Decision (entering the phase *Wirkung*)
---------------------------------------
1. Running measures are charged first, oldest first. A measure whose funders
   cannot pay any more (budget cut, programme ended) **stops**; every
   provider (freier Träger) among its lead and partners loses
   ``trust_loss`` trust.
2. The committee votes on each open proposal. Votes are weighted (role
   ``votes``); abstentions do not count. ``simple`` majority: yes > no;
   ``absolute``: yes > half of all votes. Tie (yes == no, or exactly half):
   ``rejected`` (the rule of German municipal codes) or, with ``tie: chair``,
   the chair's vote decides.
3. Passed proposals are financed in order of their majority (yes − no,
   then proposal number). A proposal starts only when the pledges sum to 100 %
   and every funder can pay (else it is *unfunded*); a programme's conditions
   (kinds, need rank of the area, maximum share, sectors) must hold.

Impact model (recomputed each round for every active measure ``m`` in area ``a``)
--------------------------------------------------------------------------------
``x[a, i] = clip(x_base[a, i] + Σ_m effect[m, i] × T × C × D × R × P × S)``

``x_base`` is the base-year value plus the changes of event cards; ``effect``
is the measure's change of the indicator at full strength (in the indicator's
unit). A measure works while it runs: when it stops, its contribution is gone.

- ``T`` targeting: ``clip(1 + targeting × need_base[a], targeting_min, targeting_max)``
  with the area's need score before measures (bigger effect where need is higher).
- ``C`` cooperation: ``min(1 + cooperation × (k − 1), cooperation_max)``,
  ``k`` = number of different sectors among lead, partners (co-signers) and
  co-funding roles (sectors in ``ignore_sectors``, e.g. politics, do not count).
- ``D`` uncoordinated crowding: ``crowding ** u``, ``u`` = number of active
  measures of the same kind in the same area, started before ``m`` (or in the
  same round with a lower number), that share no role with ``m``. A
  coordinating measure (``coordinates: true``, e.g. a Präventionskette office)
  in the area makes every measure there coordinated (``u = 0``).
- ``R`` ramp-up: with ``age = round − start round``: 0 while ``age < delay``
  (structural measures), then ``min(1, (age − delay + 1) / ramp_years)``.
- ``P`` provider trust: ``trust_floor + (1 − trust_floor) × mean trust`` of the
  providers among lead, partners and co-funders (1 when there is none).
- ``S`` staff: ``min(1, staff capacity / staff needed)`` of the lead this round.

Values are clipped to the indicator's range (0 … 100 for percentages, ≥ 0
otherwise). Missing (suppressed) values stay missing.

Outcomes (after every round)
----------------------------
- ``need[a]``: need score per area (see :mod:`k360lib.game.world`), base-year
  standardisation, so a falling mean means less need.
- ``need_mean``: mean over areas with a score.
- ``equity_gap``: mean need of the ``equity_quantile`` (25 %) neediest areas
  minus the mean of the 25 % least needy ones.
- ``reach``: children in need reached / all children in need, with
  ``reached[a] = min(in_need[a], Σ reach[m] × D × R × P × S)``.
- shared score (points, higher is better)::

      100 × ( need × (need_mean0 − need_mean) / need_ref
            + equity × (gap0 − gap) / equity_ref
            + reach × reach_share )

- role goals: each role's private goal as progress 0 … 1 (achieved at 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from k360lib.i18n import normalize_lang, t

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.game.scenario import Scenario
    from k360lib.game.state import GameState
    from k360lib.game.world import World

__all__ = [
    "EPS",
    "Rules",
    "available",
    "compile_rules",
    "cooperation_factor",
    "crowding_exponents",
    "equity_gap",
    "explain",
    "goal_progress",
    "impact",
    "pledged",
    "ramp_factor",
    "round_result",
    "run_decision",
    "sectors_of",
    "shared_score",
    "staff_used",
    "targeting_factor",
    "tally",
]

#: Tolerance for sums of shares and money comparisons.
EPS = 1e-9


@dataclass(eq=False)
class Rules:
    """A scenario and its world compiled into fast lookups (one per scenario × world)."""

    scenario: Scenario
    world: World
    roles: dict[str, Any] = field(default_factory=dict)
    measures: dict[str, Any] = field(default_factory=dict)
    cards: dict[str, Any] = field(default_factory=dict)
    effects: dict[str, np.ndarray] = field(default_factory=dict)
    sector: dict[str, str] = field(default_factory=dict)
    counted: dict[str, bool] = field(default_factory=dict)
    providers: frozenset = frozenset()
    votes: dict[str, int] = field(default_factory=dict)
    eligible: np.ndarray | None = None
    phases: list[str] = field(default_factory=list)
    measure_order: list[str] = field(default_factory=list)


_RULES: dict[tuple[str, str], Rules] = {}


def compile_rules(scenario: Scenario, world: World) -> Rules:
    """Return the compiled :class:`Rules` of ``scenario`` on ``world`` (cached)."""
    key = (scenario.hash, world.hash)
    hit = _RULES.get(key)
    if hit is not None:
        return hit
    n = len(world.indicators)
    effects = {}
    for m in scenario.measures:
        vec = np.zeros(n)
        for ind, v in m.effects.items():
            vec[world.indicator_index(ind)] = v
        effects[m.id] = vec
    ignore = set(scenario.model.ignore_sectors)
    rules = Rules(
        scenario=scenario,
        world=world,
        roles={r.id: r for r in scenario.roles},
        measures={m.id: m for m in scenario.measures},
        cards={c.id: c for c in scenario.cards},
        effects=effects,
        sector={r.id: r.sector for r in scenario.roles},
        counted={r.id: r.sector not in ignore for r in scenario.roles},
        providers=frozenset(r.id for r in scenario.roles if r.provider),
        votes={r.id: r.votes for r in scenario.roles},
        eligible=world.children >= scenario.model.min_children,
        phases=scenario.phase_ids,
        measure_order=[m.id for m in scenario.measures],
    )
    if len(_RULES) > 32:
        _RULES.clear()
    _RULES[key] = rules
    return rules


# ---------------------------------------------------------------------------
# factors
# ---------------------------------------------------------------------------
def targeting_factor(need: float | np.ndarray, params) -> float | np.ndarray:
    """``clip(1 + targeting × need, targeting_min, targeting_max)``; NaN need → 1."""
    need = np.asarray(need, dtype=float)
    f = np.clip(1.0 + params.targeting * need, params.targeting_min, params.targeting_max)
    out = np.where(np.isfinite(f), f, 1.0)
    return float(out) if out.ndim == 0 else out


def cooperation_factor(n_sectors: int, params) -> float:
    """``min(1 + cooperation × (k − 1), cooperation_max)`` for ``k >= 1`` sectors."""
    k = max(int(n_sectors), 1)
    return min(1.0 + params.cooperation * (k - 1), params.cooperation_max)


def sectors_of(rules: Rules, roles) -> int:
    """Count the different counted sectors among ``roles`` (programmes are not roles)."""
    return len({rules.sector[r] for r in roles if r in rules.sector and rules.counted[r]})


def _roles_of_measure(m) -> set[str]:
    return {m.lead, *m.partners}


def crowding_exponents(state: GameState, active: list) -> dict[str, int]:
    """Return ``u`` per active measure id: earlier uncoordinated measures of its kind in its area."""
    out: dict[str, int] = {}
    coordinated_areas = {
        m.area for m in active if state.rules.measures[m.measure].coordinates and _acts(state, m)
    }
    by_key: dict[tuple[str, str], list] = {}
    for m in active:
        by_key.setdefault((m.area, m.kind), []).append(m)
    for (area, _kind), group in by_key.items():
        if area in coordinated_areas or len(group) == 1:
            for m in group:
                out[m.id] = 0
            continue
        group = sorted(group, key=lambda x: (x.start_round, x.number))
        for i, m in enumerate(group):
            mine = m.roles
            out[m.id] = sum(1 for other in group[:i] if not (mine & other.roles))
    return out


def _acts(state: GameState, m) -> bool:
    return state.round - m.start_round >= state.rules.measures[m.measure].delay


def ramp_factor(age: int, delay: int, ramp_years: int) -> float:
    """``0`` while ``age < delay``, then ``min(1, (age − delay + 1) / ramp_years)``."""
    if age < delay:
        return 0.0
    return min(1.0, (age - delay + 1) / max(int(ramp_years), 1))


def _trust_factor(state: GameState, m) -> float:
    prov = sorted(r for r in m.roles if r in state.rules.providers)
    if not prov:
        return 1.0
    trust = sum(state.funders[r].trust for r in prov) / len(prov)
    floor = state.rules.scenario.model.trust_floor
    return floor + (1.0 - floor) * trust


def _staff_factor(state: GameState, role: str) -> float:
    need = staff_used(state, role, include_open=False)
    cap = state.funders[role].staff
    if need <= EPS:
        return 1.0
    return min(1.0, cap / need)


# ---------------------------------------------------------------------------
# budgets and staff
# ---------------------------------------------------------------------------
def pledged(state: GameState, funder: str, exclude: str | None = None) -> float:
    """Money ``funder`` promised to open proposals this round (optionally without one proposal)."""
    total = 0.0
    for p in state.open_proposals():
        if p.id == exclude:
            continue
        s = p.pledges.get(funder)
        if s:
            m = state.rules.measures[p.measure]
            total += s * (m.invest + m.cost)
    return total


def due(state: GameState, funder: str) -> float:
    """Return the running costs ``funder`` still owes this round for measures started earlier."""
    if state.charged:
        return 0.0
    total = 0.0
    for m in state.active_measures():
        if m.start_round < state.round:
            s = m.funders.get(funder)
            if s:
                total += s * state.rules.measures[m.measure].cost
    return total


def available(state: GameState, funder: str, exclude: str | None = None) -> float:
    """``budget − spent − due − pledged`` of ``funder`` (never below 0)."""
    f = state.funders[funder]
    value = f.budget - f.spent - due(state, funder) - pledged(state, funder, exclude)
    return max(0.0, value)


def running_commitments(state: GameState, funder: str, exclude: str | None = None) -> float:
    """Yearly running costs ``funder`` carries into the next round (active + pledged)."""
    total = 0.0
    nxt = state.round + 1
    for m in state.active_measures():
        if m.end_round is None or m.end_round >= nxt:
            s = m.funders.get(funder)
            if s:
                total += s * state.rules.measures[m.measure].cost
    for p in state.open_proposals():
        if p.id == exclude:
            continue
        s = p.pledges.get(funder)
        if s:
            meas = state.rules.measures[p.measure]
            if meas.duration is None or meas.duration > 1:
                total += s * meas.cost
    return total


def staff_used(
    state: GameState, role: str, include_open: bool = True, exclude: str | None = None
) -> float:
    """Staff ``role`` needs: measures it leads, plus ``partner_staff`` per partnership.

    Active measures always count; open proposals (led or co-signed) when
    ``include_open`` is true.
    """
    rules = state.rules
    ps = rules.scenario.model.partner_staff
    total = 0.0
    for m in state.active_measures():
        if m.lead == role:
            total += rules.measures[m.measure].staff
        elif role in m.partners:
            total += ps
    if include_open:
        for p in state.open_proposals():
            if p.id == exclude:
                continue
            if p.lead == role:
                total += rules.measures[p.measure].staff
            elif role in p.cosigners:
                total += ps
    return total


# ---------------------------------------------------------------------------
# the committee vote
# ---------------------------------------------------------------------------
def tally(state: GameState, proposal) -> dict:
    """Count the weighted votes on ``proposal``; return yes/no/abstain, total and ``passed``."""
    rules = state.rules
    yes = no = abstain = 0
    for role, ballot in proposal.votes.items():
        w = rules.votes.get(role, 0)
        if ballot == "yes":
            yes += w
        elif ballot == "no":
            no += w
        else:
            abstain += w
    total = sum(rules.votes[r] for r in state.roles)
    com = rules.scenario.committee
    if com.majority == "simple":
        passed, tie = yes > no, yes == no and yes > 0
    else:
        passed, tie = 2 * yes > total, 2 * yes == total
    if tie and com.tie == "chair" and com.chair in state.roles:
        passed = proposal.votes.get(com.chair) == "yes"
    return {
        "yes": yes,
        "no": no,
        "abstain": abstain,
        "total": total,
        "tie": bool(tie),
        "passed": bool(passed),
    }


def _programme_ok(state: GameState, p, programme: str) -> str | None:
    """Return why programme conditions fail for proposal ``p`` (None when they hold)."""
    prog = state.programmes.get(programme)
    if prog is None or not prog["active"]:
        return "game.rule.programme_inactive"
    meas = state.rules.measures[p.measure]
    if prog["kinds"] and meas.kind not in prog["kinds"]:
        return "game.rule.programme_kind"
    if p.pledges.get(programme, p.shares.get(programme, 0.0)) > prog["max_share"] + EPS:
        return "game.rule.programme_share"
    if not state.area_in_need_top(p.area, prog["need_top"]):
        return "game.rule.programme_area"
    if sectors_of(state.rules, p.role_set()) < prog["min_sectors"]:
        return "game.rule.programme_sectors"
    return None


def run_decision(state: GameState) -> None:
    """Entering *Wirkung*: charge running measures, count votes, start measures, apply impact.

    Mutates ``state`` and appends the round's outcome to ``state.history``.
    """
    rules = state.rules
    rnd = state.round
    # 1. running measures, oldest first
    for m in sorted(state.active_measures(), key=lambda x: x.number):
        if m.start_round >= rnd:
            continue
        cost = rules.measures[m.measure].cost
        short = None
        for f, s in m.funders.items():
            fund = state.funders.get(f)
            if fund is None or not fund.active or fund.budget - fund.spent < s * cost - EPS:
                short = f
                break
        if short is None:
            for f, s in m.funders.items():
                state.funders[f].spent += s * cost
        else:
            state.stop_measure(m, reason="funding", funder=short)
    state.charged = True
    # 2. votes
    decided = []
    for p in state.open_proposals():
        res = tally(state, p)
        p.result = res
        if res["passed"]:
            decided.append(p)
        else:
            p.status = "rejected"
    # 3. finance in order of majority
    decided.sort(key=lambda p: (-(p.result["yes"] - p.result["no"]), p.number))
    for p in decided:
        meas = rules.measures[p.measure]
        total = sum(p.pledges.values())
        reason = None
        if total < 1.0 - 1e-6:
            reason = "game.rule.not_financed"
        else:
            for f in p.pledges:
                if f in state.programmes:
                    why = _programme_ok(state, p, f)
                    if why:
                        reason = why
                        break
        if reason is None:
            for f, s in p.pledges.items():
                fund = state.funders[f]
                if fund.budget - fund.spent < s * (meas.invest + meas.cost) - 1e-6:
                    reason = "game.rule.budget_at_decision"
                    break
        if reason is not None:
            p.status = "unfunded"
            p.result = {**p.result, "reason": reason}
            continue
        for f, s in p.pledges.items():
            state.funders[f].spent += s * (meas.invest + meas.cost)
        p.status = "approved"
        state.start_measure(p)
    # 4. impact
    contrib, reach = impact(state)
    state.contrib = contrib
    state.reached = reach
    state.refresh_values()
    # 5. outcome
    state.history.append(round_result(state))


def impact(state: GameState) -> tuple[np.ndarray, np.ndarray]:
    """Return the measures' contribution ``(n_areas, n_indicators)`` and children reached per area.

    See the module docstring for the formula.
    """
    rules = state.rules
    w = state.world
    params = rules.scenario.model
    contrib = np.zeros_like(state.base)
    reach_raw = np.zeros(w.n_areas)
    active = state.active_measures()
    if not active:
        return contrib, np.zeros(w.n_areas)
    tfs = targeting_factor(w.need_scores(state.base), params).tolist()
    crowd = crowding_exponents(state, active)
    staff: dict[str, float] = {}
    for m in active:
        meas = rules.measures[m.measure]
        rf = ramp_factor(state.round - m.start_round, meas.delay, params.ramp_years)
        if rf <= 0:
            continue
        a = w.area_index(m.area)
        tf = tfs[a]
        cf = cooperation_factor(sectors_of(rules, m.role_set_with_funders()), params)
        df = params.crowding ** crowd.get(m.id, 0)
        pf = _trust_factor(state, m)
        if m.lead not in staff:
            staff[m.lead] = _staff_factor(state, m.lead)
        sf = staff[m.lead]
        contrib[a] += rules.effects[m.measure] * (tf * cf * df * rf * pf * sf)
        reach_raw[a] += meas.reach * df * rf * pf * sf
    reached = np.minimum(state.in_need, reach_raw)
    contrib = np.where(np.isfinite(state.base), contrib, 0.0)
    return contrib, reached


# ---------------------------------------------------------------------------
# outcomes and scoring
# ---------------------------------------------------------------------------
def equity_gap(need: np.ndarray, quantile: float = 0.25) -> float:
    """Mean need of the neediest ``quantile`` of areas minus that of the least needy ones."""
    x = np.sort(need[np.isfinite(need)])
    if len(x) < 2:
        return 0.0
    k = max(1, int(math.floor(len(x) * quantile + 1e-9)))
    return float(x[-k:].mean() - x[:k].mean())


def shared_score(
    need_mean0: float, need_mean: float, gap0: float, gap: float, reach: float, scoring
) -> float:
    """Return the shared outcome in points (see the module docstring)."""
    return 100.0 * (
        scoring.need * (need_mean0 - need_mean) / scoring.need_ref
        + scoring.equity * (gap0 - gap) / scoring.equity_ref
        + scoring.reach * reach
    )


def round_result(state: GameState) -> dict:
    """Return the outcome of the current state: need per area, shared figures, role goals."""
    w = state.world
    sc = state.rules.scenario
    need = w.need_scores(state.values)
    ok = np.isfinite(need)
    need_mean = float(need[ok].mean()) if ok.any() else math.nan
    gap = equity_gap(need, sc.model.equity_quantile)
    total_need = float(state.in_need.sum())
    reached = float(state.reached.sum()) if state.reached is not None else 0.0
    reach = reached / total_need if total_need > 0 else 0.0
    base = state.history[0] if state.history else None
    if base is None:
        score = 0.0
    else:
        score = shared_score(
            base["need_mean"], need_mean, base["equity_gap"], gap, reach, sc.scoring
        )
    roles = {}
    for r in state.roles:
        f = state.funders[r]
        roles[r] = {
            "budget": f.budget,
            "spent": f.spent,
            "staff": f.staff,
            "staff_used": staff_used(state, r, include_open=False),
            "trust": f.trust,
            **goal_progress(state, r),
        }
    return {
        "round": state.round,
        "need": [None if not math.isfinite(v) else round(float(v), 12) for v in need],
        "need_mean": need_mean,
        "equity_gap": gap,
        "reach": reach,
        "reached": reached,
        "in_need": total_need,
        "shared_score": score,
        "active_measures": len(state.active_measures()),
        "started": sum(1 for p in state.proposals.values() if p.status == "approved"),
        "values": [
            [None if not math.isfinite(v) else float(v) for v in row] for row in state.values
        ],
        "roles": roles,
    }


def _areas_of(state: GameState, areas: list[str], districts: list[str]) -> set[str]:
    w = state.world
    chosen = set(areas)
    if districts:
        chosen |= {a for a, d in zip(w.area_ids, w.districts) if d in districts}
    return chosen


def goal_progress(state: GameState, role: str) -> dict:
    """Return ``goal_value``, ``goal_target``, ``goal_progress`` (0 … 1) and ``goal_achieved``."""
    goal = state.rules.roles[role].goal
    started = [m for m in state.measures.values()]
    value: float
    target: float
    if goal.type == "measures_in":
        places = _areas_of(state, goal.areas, goal.districts)
        value, target = sum(1 for m in started if m.area in places), goal.min
    elif goal.type == "lead":
        value, target = sum(1 for m in started if m.lead == role), goal.min
    elif goal.type == "partner":
        value = sum(1 for m in started if m.lead != role and role in m.role_set_with_funders())
        target = goal.min
    elif goal.type == "kinds":
        value, target = sum(1 for m in started if m.kind in goal.kinds), goal.min
    elif goal.type == "indicator":
        w = state.world
        j = w.indicator_index(goal.indicator)
        places = _areas_of(state, goal.areas, goal.districts) or set(w.area_ids)
        rows = [w.area_index(a) for a in sorted(places)]
        before = w.values[rows, j]
        after = state.values[rows, j]
        ok = np.isfinite(before) & np.isfinite(after)
        change = float((after[ok] - before[ok]).mean()) if ok.any() else 0.0
        pol = w.polarity[j] or 1.0
        value, target = -pol * change, goal.min_improvement
    else:  # budget_left
        f = state.funders[role]
        total = f.total_budget + f.budget
        spent = f.total_spent + f.spent
        left = 1.0 - spent / total if total > 0 else 1.0
        value, target = left, goal.min_share
    progress = 1.0 if target <= 0 else max(0.0, min(1.0, value / target))
    return {
        "goal_value": float(value),
        "goal_target": float(target),
        "goal_progress": progress,
        "goal_achieved": bool(value >= target - 1e-9),
    }


# ---------------------------------------------------------------------------
# the player-facing explanation
# ---------------------------------------------------------------------------
_EXPLAIN_SECTIONS = (
    "intro",
    "phases",
    "budget",
    "vote",
    "impact",
    "targeting",
    "cooperation",
    "crowding",
    "delay",
    "trust",
    "staff",
    "outcome",
    "score",
    "goals",
)


def explain(lang: str | None = None, scenario: Scenario | None = None) -> str:
    """Return the "how it works" text for players (Markdown) in ``lang``.

    Parameters
    ----------
    lang : {"de", "en"}, optional
        Language (default: the current UI language).
    scenario : Scenario, optional
        Fills in the scenario's parameters (default: the shipped default scenario).

    Returns
    -------
    str
        Sections on phases, budgets, the vote, each factor of the impact
        model with its formula and this scenario's numbers, outcomes, score
        and role goals.

    Examples
    --------
    >>> text = explain("en")
    >>> "Targeting" in text and "Cooperation" in text
    True
    """
    from k360lib.game.scenario import load_scenario

    lang = normalize_lang(lang)
    sc = scenario if scenario is not None else load_scenario("default")
    p, s, c = sc.model, sc.scoring, sc.committee
    phase_names = " → ".join(t(f"game.phase.{ph}", lang) for ph in sc.phase_ids)
    params = {
        "phases": phase_names,
        "rounds": sc.rounds,
        "currency": sc.currency,
        "majority": t(f"game.committee.majority.{c.majority}", lang),
        "tie": t(f"game.committee.tie.{c.tie}", lang),
        "targeting": _fmt(p.targeting, lang),
        "targeting_min": _fmt(p.targeting_min, lang),
        "targeting_max": _fmt(p.targeting_max, lang),
        "cooperation": _fmt(p.cooperation, lang),
        "cooperation_max": _fmt(p.cooperation_max, lang),
        "ignore": ", ".join(p.ignore_sectors) or "–",
        "crowding": _fmt(p.crowding, lang),
        "trust_loss": _fmt(p.trust_loss, lang),
        "trust_floor": _fmt(p.trust_floor, lang),
        "min_children": _fmt(p.min_children, lang),
        "quantile": _fmt(100 * p.equity_quantile, lang),
        "w_need": _fmt(s.need, lang),
        "w_equity": _fmt(s.equity, lang),
        "w_reach": _fmt(s.reach, lang),
        "need_ref": _fmt(s.need_ref, lang),
        "equity_ref": _fmt(s.equity_ref, lang),
    }
    parts = [t("game.explain.title", lang, title=sc.title.get(lang))]
    for sec in _EXPLAIN_SECTIONS:
        parts.append(t(f"game.explain.{sec}", lang, **params))
    return "\n\n".join(parts)


def _fmt(value: float, lang: str) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "de" else text
