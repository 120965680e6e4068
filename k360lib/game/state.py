"""Game state: ``GameState = fold(events)``.

:func:`fold` builds the state of a game from its event log; :func:`apply`
(the method :meth:`GameState.apply`) adds one event. The live engine uses the
same :meth:`GameState.apply` after it accepted a command, so the state a
player sees and the state rebuilt from the stored log are the same object
by construction — :meth:`GameState.to_dict` gives a canonical form to
compare them.

This module needs numpy only (no pydantic, no pandas, no geopandas), so a
player's kernel stays light: a scenario this process did not load itself is
read from the stored dict without validating it again
(:mod:`k360lib.game.stored_scenario`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from k360lib.game import rules as R
from k360lib.game.events import Event, dumps
from k360lib.game.stored_scenario import stored_scenario
from k360lib.game.world import World

if TYPE_CHECKING:
    from k360lib.game.scenario import Scenario

__all__ = ["Funder", "GameState", "Proposal", "RunningMeasure", "fold"]


@dataclass
class Funder:
    """Money and staff of a role (or of a funding programme) in the current round."""

    id: str
    kind: str  # "role" | "programme"
    base: float
    budget: float
    spent: float = 0.0
    staff_base: float = 0.0
    staff: float = 0.0
    trust: float = 1.0
    active: bool = True
    total_budget: float = 0.0
    total_spent: float = 0.0


@dataclass
class Proposal:
    """A proposal of the current round (Antrag): a measure in an area with a financing plan."""

    id: str
    number: int
    round: int
    measure: str
    kind: str
    area: str
    lead: str
    partners: list[str] = field(default_factory=list)
    shares: dict[str, float] = field(default_factory=dict)
    pledges: dict[str, float] = field(default_factory=dict)
    cosigners: list[str] = field(default_factory=list)
    status: str = "open"  # open | withdrawn | approved | rejected | unfunded
    votes: dict[str, str] = field(default_factory=dict)
    result: dict | None = None
    note: str = ""
    amended: int = 0

    def role_set(self) -> set[str]:
        """Lead, co-signers and co-funders (programmes included; they count no sector)."""
        return {self.lead, *self.cosigners, *self.pledges}

    def funded_share(self) -> float:
        """Sum of the pledged shares."""
        return sum(self.pledges.values())


@dataclass
class RunningMeasure:
    """A measure that started (id = the proposal's id)."""

    id: str
    number: int
    measure: str
    kind: str
    area: str
    lead: str
    partners: list[str]
    funders: dict[str, float]
    start_round: int
    end_round: int | None
    status: str = "active"  # active | ended | stopped
    stopped_round: int | None = None
    reason: str | None = None
    roles: frozenset = frozenset()

    def role_set_with_funders(self) -> frozenset:
        """Lead, partners and co-funding roles (programmes included; they count no sector)."""
        return self.roles


def _copy_proposal(p: Proposal) -> Proposal:
    return Proposal(
        **{
            **vars(p),
            "partners": list(p.partners),
            "shares": dict(p.shares),
            "pledges": dict(p.pledges),
            "cosigners": list(p.cosigners),
            "votes": dict(p.votes),
            "result": None if p.result is None else dict(p.result),
        }
    )


def _copy_measure(m: RunningMeasure) -> RunningMeasure:
    return RunningMeasure(**{**vars(m), "partners": list(m.partners), "funders": dict(m.funders)})


def _role_frozenset(lead: str, partners, funders) -> frozenset:
    return frozenset([lead, *partners, *funders])


_SCENARIOS: dict[str, Scenario] = {}
_WORLDS: dict[str, World] = {}


def _scenario_from(data: dict, claimed: str | None = None) -> Scenario:
    """Read the scenario of a ``game_created`` event (cached by its hash).

    The scenario was validated when the game was created; here it is only
    read (:func:`~k360lib.game.stored_scenario.stored_scenario`, no pydantic).
    A scenario this process has itself (:func:`remember`) is used as is.
    """
    if claimed and claimed in _SCENARIOS:
        return _SCENARIOS[claimed]
    sc = stored_scenario(data)
    if len(_SCENARIOS) > 16:
        _SCENARIOS.clear()
    _SCENARIOS[sc.hash] = sc  # cached under the hash of what was parsed, never a claim
    return sc


def _world_from(data: dict, claimed: str | None = None) -> World:
    """Rebuild the world of a ``game_created`` event (cached by its hash)."""
    if claimed and claimed in _WORLDS:
        return _WORLDS[claimed]
    w = World.from_dict(data)
    if len(_WORLDS) > 16:
        _WORLDS.clear()
    _WORLDS[w.hash] = w
    return w


def remember(scenario: Scenario, world: World) -> None:
    """Cache a scenario and world this process already has (saves parsing them again)."""
    _SCENARIOS.setdefault(scenario.hash, scenario)
    _WORLDS.setdefault(world.hash, world)


class GameState:
    """The state of one game (build it with :func:`fold`).

    Main attributes: ``round``, ``phase``, ``status`` (``running``/``ended``),
    ``version``, ``locked``, ``roles`` (active role ids), ``seat_roles``
    (seat → role, changes when roles rotate), ``funders``, ``proposals``,
    ``measures`` (running/ended/stopped), ``values`` (current indicator
    values per area), ``history`` (one outcome dict per round, index 0 = the
    base year), ``cards`` (drawn event cards), ``notes``.
    """

    def __init__(
        self,
        game_id: str,
        scenario: Scenario,
        world: World,
        seed: int,
        roles: list[str],
        seats: list[str] | None = None,
    ):
        self.game_id = game_id
        self.scenario = scenario
        self.world = world
        self.rules = R.compile_rules(scenario, world)
        self.seed = int(seed)
        self.roles = list(roles)
        self.seats = list(seats or roles)
        self.seat_roles = dict(zip(self.seats, self.roles))
        self.rotation = 0
        self.version = 0
        self.round = 1
        self.phase_index = 0
        self.status = "running"
        self.locked = False
        self.funders: dict[str, Funder] = {}
        for rid in self.roles:
            r = self.rules.roles[rid]
            self.funders[rid] = Funder(
                id=rid,
                kind="role",
                base=r.budget,
                budget=r.budget,
                staff_base=r.staff,
                staff=r.staff,
            )
        self.programmes: dict[str, dict] = {}
        self.proposals: dict[str, Proposal] = {}
        self.measures: dict[str, RunningMeasure] = {}
        self.next_number = 1
        self.base = world.values.copy()
        self.contrib = np.zeros_like(self.base)
        self.values = world.values.copy()
        self.children = world.children.copy()
        self.in_need = world.in_need.copy()
        self.reached = np.zeros(world.n_areas)
        self.charged = False
        self.cards: list[dict] = []
        self.notes: list[dict] = []
        self.history: list[dict] = []
        self.events: list[Event] = []
        self.undoable: list[int] = []
        self._pre_decision: dict | None = None
        self._need_cache: tuple[int, np.ndarray] | None = None
        base = R.round_result(self)
        base["round"] = 0
        self.history.append(base)

    # -- views -----------------------------------------------------------------
    @property
    def phase(self) -> str:
        """The current phase id (``ende`` after the last round)."""
        if self.status == "ended":
            return "ende"
        return self.rules.phases[self.phase_index]

    def open_proposals(self) -> list[Proposal]:
        """Open proposals of the current round, in order."""
        return [p for p in self.proposals.values() if p.status == "open"]

    def active_measures(self) -> list[RunningMeasure]:
        """Measures that are running."""
        return [m for m in self.measures.values() if m.status == "active"]

    def role_of(self, seat: str) -> str:
        """Return the role a seat plays now (``KeyError`` for an unknown seat)."""
        return self.seat_roles[seat]

    def need(self) -> np.ndarray:
        """Return the current need score per area (cached per version)."""
        if self._need_cache is None or self._need_cache[0] != self.version:
            self._need_cache = (self.version, self.world.need_scores(self.values))
        return self._need_cache[1]

    def area_in_need_top(self, area: str, top: float) -> bool:
        """Whether ``area`` is among the ``top`` share of areas by current need."""
        if top >= 1.0:
            return True
        need = self.need()
        ok = need[np.isfinite(need)]
        if not len(ok):
            return False
        k = max(1, math.ceil(top * len(ok)))
        threshold = np.sort(ok)[-k]
        v = need[self.world.area_index(area)]
        return bool(np.isfinite(v) and v >= threshold - 1e-12)

    def available(self, funder: str) -> float:
        """Money ``funder`` can still pledge this round (see :func:`k360lib.game.rules.available`)."""
        return R.available(self, funder)

    def refresh_values(self) -> None:
        """``values = clip(base + contrib)`` (base = base year + event cards, contrib = measures)."""
        w = self.world
        vals = self.base + self.contrib
        np.clip(vals, w.lower, w.upper, out=vals)
        self.values = vals

    def result(self) -> dict:
        """Return the outcome of the last completed round (the base year before the first)."""
        return self.history[-1]

    # -- mutations used by the rules -------------------------------------------------
    def start_measure(self, p: Proposal) -> RunningMeasure:
        """Start the measure of an approved proposal."""
        meas = self.rules.measures[p.measure]
        partners = [r for r in p.cosigners if r != p.lead]
        funders = {k: v for k, v in p.pledges.items() if v > 0}
        roles = [f for f in funders if f in self.rules.roles]
        m = RunningMeasure(
            id=p.id,
            number=p.number,
            measure=p.measure,
            kind=p.kind,
            area=p.area,
            lead=p.lead,
            partners=partners,
            funders=funders,
            start_round=self.round,
            end_round=None if meas.duration is None else self.round + meas.duration - 1,
            roles=_role_frozenset(p.lead, partners, roles),
        )
        self.measures[m.id] = m
        return m

    def stop_measure(self, m: RunningMeasure, reason: str, funder: str | None = None) -> None:
        """Stop a running measure early; providers among lead and partners lose trust."""
        m.status = "stopped"
        m.stopped_round = self.round
        m.reason = reason if funder is None else f"{reason}:{funder}"
        loss = self.rules.scenario.model.trust_loss
        for r in sorted({m.lead, *m.partners}):
            if r in self.rules.providers and r in self.funders:
                f = self.funders[r]
                f.trust = max(0.0, f.trust - loss)

    # -- folding -------------------------------------------------------------------
    def apply(self, event: Event) -> GameState:
        """Apply one event (validated before by the engine) and return ``self``."""
        if event.version != self.version + 1:
            raise ValueError(f"event version {event.version} does not follow {self.version}")
        if event.type == "event_undone":
            rebuilt = fold([*self.events, event])
            self.__dict__.update(rebuilt.__dict__)
            return self
        handler = _HANDLERS.get(event.type)
        if handler is None:
            raise ValueError(f"unknown event type {event.type!r}")
        handler(self, event)
        self.version = event.version
        self.events.append(event)
        if event.type != "game_created":
            self.undoable.append(event.version)
        return self

    def _skip(self, event: Event) -> None:
        self.version = event.version
        self.events.append(event)

    # -- snapshots ---------------------------------------------------------------------
    def _snapshot(self) -> dict:
        """Copy everything the decision changes (cheap: no deep copy of the history)."""
        return {
            "funders": {k: copy.copy(v) for k, v in self.funders.items()},
            "programmes": {k: dict(v) for k, v in self.programmes.items()},
            "proposals": {k: _copy_proposal(v) for k, v in self.proposals.items()},
            "measures": {k: _copy_measure(v) for k, v in self.measures.items()},
            "next_number": self.next_number,
            "base": self.base.copy(),
            "contrib": self.contrib.copy(),
            "values": self.values.copy(),
            "children": self.children.copy(),
            "in_need": self.in_need.copy(),
            "reached": self.reached.copy(),
            "charged": self.charged,
            "history": list(self.history),  # entries are never changed after they are added
        }

    def _restore(self, snap: dict) -> None:
        for k, v in snap.items():
            setattr(self, k, v)

    def to_dict(self) -> dict:
        """Return a canonical, JSON-able picture of the state (for comparing and exporting)."""

        def num(v):
            v = float(v)
            return None if math.isnan(v) else v

        return {
            "game_id": self.game_id,
            "scenario": self.scenario.hash,
            "world": self.world.hash,
            "seed": self.seed,
            "version": self.version,
            "round": self.round,
            "phase": self.phase,
            "status": self.status,
            "locked": self.locked,
            "roles": list(self.roles),
            "seat_roles": dict(self.seat_roles),
            "rotation": self.rotation,
            "funders": {k: vars(v).copy() for k, v in sorted(self.funders.items())},
            "programmes": copy.deepcopy(self.programmes),
            "proposals": {k: vars(v).copy() for k, v in self.proposals.items()},
            "measures": {
                k: {**vars(v), "roles": sorted(v.roles)} for k, v in self.measures.items()
            },
            "next_number": self.next_number,
            "values": [[num(v) for v in row] for row in self.values],
            "base": [[num(v) for v in row] for row in self.base],
            "contrib": [[num(v) for v in row] for row in self.contrib],
            "children": [num(v) for v in self.children],
            "in_need": [num(v) for v in self.in_need],
            "reached": [num(v) for v in self.reached],
            "charged": self.charged,
            "cards": copy.deepcopy(self.cards),
            "notes": copy.deepcopy(self.notes),
            "history": copy.deepcopy(self.history),
            "undoable": list(self.undoable),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GameState):
            return NotImplemented
        return dumps(self.to_dict()) == dumps(other.to_dict())

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return (
            f"GameState(game_id={self.game_id!r}, version={self.version}, round={self.round}, "
            f"phase={self.phase!r}, status={self.status!r})"
        )


# ---------------------------------------------------------------------------
# event handlers
# ---------------------------------------------------------------------------
def _on_card(s: GameState, e: Event) -> None:
    p = e.payload
    card = s.rules.cards[p["card"]]
    resolved = p.get("resolved") or {}
    for j, eff in enumerate(card.effects):
        _apply_card_effect(s, card.id, j, eff, resolved.get(str(j)))
    s.cards.append(
        {
            "round": s.round,
            "card": card.id,
            "how": p.get("how", "random"),
            "version": e.version,
            "resolved": resolved,
        }
    )


def _targets(s: GameState, roles: list[str], sectors: list[str]) -> list[str]:
    if not roles and not sectors:
        return list(s.roles)
    return [r for r in s.roles if r in roles or s.rules.sector[r] in sectors]


def _apply_card_effect(s: GameState, card: str, j: int, eff, resolved) -> None:
    if eff.type == "budget":
        for r in _targets(s, eff.roles, eff.sectors):
            f = s.funders[r]
            delta = eff.amount if eff.amount is not None else f.base * eff.percent / 100.0
            if eff.permanent:
                f.base = max(0.0, f.base + delta)
            f.budget = max(0.0, f.budget + delta)
    elif eff.type == "staff":
        for r in _targets(s, eff.roles, eff.sectors):
            f = s.funders[r]
            if eff.permanent:
                f.staff_base = max(0.0, f.staff_base + eff.amount)
            f.staff = max(0.0, f.staff + eff.amount)
    elif eff.type == "trust":
        for r in eff.roles or sorted(s.rules.providers):
            if r in s.funders:
                f = s.funders[r]
                f.trust = min(1.0, max(0.0, f.trust + eff.change))
    elif eff.type == "indicator":
        w = s.world
        for area in resolved or []:
            a = w.area_index(area)
            for ind, change in eff.changes.items():
                k = w.indicator_index(ind)
                v = s.base[a, k]
                if math.isfinite(v):
                    s.base[a, k] = min(max(v + change, w.lower[k]), w.upper[k])
            if eff.children:
                share = s.in_need[a] / s.children[a] if s.children[a] > 0 else 0.0
                s.children[a] += eff.children
                s.in_need[a] += round(eff.children * share)
        s.refresh_values()
    elif eff.type == "programme":
        pid = eff.id
        s.programmes[pid] = {
            "card": card,
            "active": True,
            "from_round": s.round,
            "until_round": s.round + eff.rounds - 1,
            "kinds": list(eff.kinds),
            "max_share": eff.max_share,
            "min_sectors": eff.min_sectors,
            "need_top": eff.need_top,
            "budget": eff.budget,
        }
        s.funders[pid] = Funder(id=pid, kind="programme", base=eff.budget, budget=eff.budget)


def _on_created(s: GameState, e: Event) -> None:  # pragma: no cover - handled in fold
    raise ValueError("game_created must be the first event")


def _phase_after(s: GameState) -> tuple[int, int, bool]:
    """(round, phase_index, ended) after advancing."""
    if s.phase_index + 1 < len(s.rules.phases):
        return s.round, s.phase_index + 1, False
    if s.round < s.scenario.rounds:
        return s.round + 1, 0, False
    return s.round, s.phase_index, True


def _on_advance(s: GameState, e: Event) -> None:
    rnd, idx, ended = _phase_after(s)
    if ended:
        s.status = "ended"
        s._pre_decision = None
        return
    if rnd != s.round:
        _start_round(s, rnd)
        return
    s.phase_index = idx
    if s.rules.phases[idx] == "wirkung":
        s._pre_decision = s._snapshot()
        R.run_decision(s)


def _start_round(s: GameState, rnd: int) -> None:
    s._pre_decision = None
    for f in s.funders.values():
        f.total_budget += f.budget
        f.total_spent += f.spent
        f.budget = f.base
        f.spent = 0.0
        f.staff = f.staff_base
    for pid, prog in s.programmes.items():
        if prog["active"] and prog["until_round"] < rnd:
            prog["active"] = False
            f = s.funders[pid]
            f.active = False
            f.base = f.budget = 0.0
    for m in s.measures.values():
        if m.status == "active" and m.end_round is not None and m.end_round < rnd:
            m.status = "ended"
    s.round = rnd
    s.phase_index = 0
    s.charged = False


def _on_rewind(s: GameState, e: Event) -> None:
    if s.rules.phases[s.phase_index] == "wirkung" and s._pre_decision is not None:
        s._restore(s._pre_decision)
        s._pre_decision = None
    s.phase_index -= 1


def _on_proposal(s: GameState, e: Event) -> None:
    p = e.payload
    meas = s.rules.measures[p["measure"]]
    shares = {k: float(v) for k, v in p["shares"].items()}
    pledges = {e.role: shares.get(e.role, 0.0)} if shares.get(e.role, 0.0) > 0 else {}
    for f, v in shares.items():
        if f in s.programmes and v > 0:
            pledges[f] = v
    prop = Proposal(
        id=p["proposal"],
        number=s.next_number,
        round=s.round,
        measure=meas.id,
        kind=meas.kind,
        area=p["area"],
        lead=e.role,
        partners=list(p.get("partners", [])),
        shares=shares,
        pledges=pledges,
        note=p.get("note", ""),
    )
    s.next_number += 1
    s.proposals[prop.id] = prop


def _on_cosign(s: GameState, e: Event) -> None:
    prop = s.proposals[e.payload["proposal"]]
    if e.role not in prop.cosigners:
        prop.cosigners.append(e.role)


def _on_cofund(s: GameState, e: Event) -> None:
    prop = s.proposals[e.payload["proposal"]]
    share = float(e.payload["share"])
    prop.pledges[e.role] = share
    prop.shares[e.role] = share
    allowed = s.rules.measures[prop.measure].partners
    if e.role not in prop.cosigners and (allowed is None or e.role in allowed):
        prop.cosigners.append(e.role)


def _on_amend(s: GameState, e: Event) -> None:
    prop = s.proposals[e.payload["proposal"]]
    ch = e.payload["changes"]
    prop.amended += 1
    if "area" in ch and ch["area"] != prop.area:
        prop.area = ch["area"]
        prop.cosigners = []
        prop.pledges = {k: v for k, v in prop.pledges.items() if k == prop.lead}
        prop.votes = {}
    if "partners" in ch:
        prop.partners = list(ch["partners"])
    if "shares" in ch:
        new = {k: float(v) for k, v in ch["shares"].items()}
        pledges = {}
        for f, v in prop.pledges.items():
            if f == prop.lead:
                continue
            if abs(new.get(f, 0.0) - v) <= R.EPS:
                pledges[f] = v
        if new.get(prop.lead, 0.0) > 0:
            pledges[prop.lead] = new[prop.lead]
        for f, v in new.items():
            if f in s.programmes and v > 0:
                pledges[f] = v
        prop.shares = new
        prop.pledges = pledges
    if "note" in ch:
        prop.note = ch["note"]


def _on_withdraw(s: GameState, e: Event) -> None:
    s.proposals[e.payload["proposal"]].status = "withdrawn"


def _on_votes(s: GameState, e: Event) -> None:
    for pid, ballot in e.payload["ballots"].items():
        s.proposals[pid].votes[e.role] = ballot


def _on_stop(s: GameState, e: Event) -> None:
    m = s.measures[e.payload["measure"]]
    s.stop_measure(m, reason="stopped_by", funder=e.role)


def _on_take_over(s: GameState, e: Event) -> None:
    m = s.measures[e.payload["measure"]]
    share = float(e.payload["share"])
    for f in list(m.funders):
        fund = s.funders.get(f)
        if fund is not None and not fund.active:
            del m.funders[f]
    m.funders[e.role] = m.funders.get(e.role, 0.0) + share
    m.roles = _role_frozenset(m.lead, m.partners, [f for f in m.funders if f in s.rules.roles])


def _on_note(s: GameState, e: Event) -> None:
    s.notes.append(
        {
            "round": s.round,
            "phase": s.phase,
            "role": e.role,
            "prompt": e.payload.get("prompt"),
            "text": e.payload["text"],
            "version": e.version,
        }
    )


def _on_lock(s: GameState, e: Event) -> None:
    s.locked = bool(e.payload["locked"])


def _on_rotate(s: GameState, e: Event) -> None:
    shift = int(e.payload["shift"])
    s.rotation = (s.rotation + shift) % len(s.roles)
    n = len(s.roles)
    s.seat_roles = {seat: s.roles[(i + s.rotation) % n] for i, seat in enumerate(s.seats)}


_HANDLERS: dict[str, Any] = {
    "game_created": _on_created,
    "card_drawn": _on_card,
    "phase_advanced": _on_advance,
    "phase_rewound": _on_rewind,
    "proposal_made": _on_proposal,
    "proposal_cosigned": _on_cosign,
    "proposal_cofunded": _on_cofund,
    "proposal_amended": _on_amend,
    "proposal_withdrawn": _on_withdraw,
    "votes_cast": _on_votes,
    "funding_stopped": _on_stop,
    "measure_taken_over": _on_take_over,
    "note_added": _on_note,
    "submissions_locked": _on_lock,
    "roles_rotated": _on_rotate,
}


def state_from_created(event: Event) -> GameState:
    """Build the initial state from a ``game_created`` event."""
    if event.type != "game_created" or event.version != 1:
        raise ValueError("the first event of a game must be game_created with version 1")
    p = event.payload
    sc = _scenario_from(p["scenario"], p.get("scenario_hash"))
    world = _world_from(p["world"], p.get("world_hash"))
    s = GameState(
        game_id=event.game_id,
        scenario=sc,
        world=world,
        seed=int(p["seed"]),
        roles=list(p["roles"]),
        seats=list(p.get("seats") or p["roles"]),
    )
    s.version = 1
    s.events.append(event)
    return s


def fold(events: list[Event]) -> GameState:
    """Return the state after ``events`` (the first must be ``game_created``).

    Undone events (see ``event_undone``) are skipped; everything else is
    applied in order. The same events always give the same state.

    Raises
    ------
    ValueError
        If the log is empty, does not start with ``game_created`` or has a gap.
    """
    if not events:
        raise ValueError("no events")
    undone: set[int] = set()
    stack: list[int] = []
    for e in events:
        if e.type == "event_undone":
            target = int(e.payload["target"])
            if not stack or stack[-1] != target:
                raise ValueError(f"event {e.version} undoes {target}, which is not the last one")
            undone.add(stack.pop())
        elif e.type != "game_created":
            stack.append(e.version)
    s = state_from_created(events[0])
    for e in events[1:]:
        if e.version != s.version + 1:
            raise ValueError(f"event version {e.version} does not follow {s.version}")
        if e.type == "event_undone" or e.version in undone:
            s._skip(e)
            continue
        _HANDLERS[e.type](s, e)
        s.version = e.version
        s.events.append(e)
        s.undoable.append(e.version)
    s.undoable = stack
    return s
