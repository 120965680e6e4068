"""Scripted players (bots) for tests, demos and batch runs.

Like oTree's ``PlayerBot``, a bot plays a whole game: in each phase it
returns the commands its role sends; the engine checks them exactly as it
checks a person's commands (a refused command is simply dropped). Three
strategies:

``random``
    Random but valid moves: random measures of its mandate in random areas,
    random partners and shares, random co-signing, co-funding and votes.
``cooperative``
    Plans jointly with the other cooperative bots: one shared plan per round
    ranks (measure, area) pairs by the expected change of the shared outcome
    per euro — need reduction (bigger where need is higher), equity, reach —,
    lets the role with staff lead (often a provider), pools budgets and
    programmes, invites partners from every sector, never piles up measures
    of the same kind in one area, and votes for fully financed proposals.
``siloed``
    Each role alone: its own budget and staff only, no partners, areas chosen
    by its own indicator or its own focus districts, blind to what the others
    do; votes only for its own proposals and proposals in its focus areas.

The batch runner :func:`simulate` plays many games (in parallel processes) and
returns a tidy :class:`pandas.DataFrame` with one row per game and round.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from k360lib.game import commands as C
from k360lib.game import rules as R
from k360lib.game.engine import Game, choose_roles
from k360lib.game.scenario import Scenario, load_scenario

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.game.state import GameState
    from k360lib.game.world import World

__all__ = [
    "STRATEGIES",
    "Bot",
    "CooperativeBot",
    "RandomBot",
    "SiloedBot",
    "play_game",
    "simulate",
]


class Bot:
    """Base class: a scripted player of one role.

    Parameters
    ----------
    role : str
        The role it plays.
    rng : numpy.random.Generator
        Its own seeded generator (every random choice goes through it).
    team : dict, optional
        Shared memory of the bots of one game (the cooperative plan lives here).
    """

    strategy = "base"

    def __init__(self, role: str, rng: np.random.Generator, team: dict | None = None):
        self.role = role
        self.rng = rng
        self.team = team if team is not None else {}

    def act(self, state: GameState, phase: str, step: int = 0) -> list[C.Command]:
        """Return the commands to send now (``step`` counts passes within one phase)."""
        if phase == "planung" and step == 0:
            return self.plan(state)
        if phase == "verhandlung" or (phase == "planung" and step > 0):
            return self.negotiate(state)
        if phase == "beschluss":
            ballots = self.vote(state)
            return [C.vote(ballots)] if ballots else []
        if phase == "reflexion":
            return self.reflect(state)
        return []

    def plan(self, state: GameState) -> list[C.Command]:  # pragma: no cover - abstract
        """Proposals of this role."""
        return []

    def negotiate(self, state: GameState) -> list[C.Command]:
        """Co-signing and co-funding."""
        return []

    def vote(self, state: GameState) -> dict[str, str]:
        """Ballots ``{proposal: yes|no|abstain}`` (only roles with votes are asked)."""
        return {}

    def reflect(self, state: GameState) -> list[C.Command]:
        """Write a short note in the reflection phase: what this role achieved this round."""
        from k360lib.i18n import t

        mine = [
            p for p in state.proposals.values() if p.round == state.round and p.lead == self.role
        ]
        text = t(
            "game.bot.note",
            None,
            strategy=self.strategy,
            round=state.round,
            proposals=len(mine),
            approved=sum(p.status == "approved" for p in mine),
        )
        prompts = len(state.scenario.reflection)
        prompt = (state.round - 1) % prompts if prompts else None
        return [C.note(text, prompt=prompt)]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _leadable(state: GameState, role: str) -> list:
    r = state.rules.roles[role]
    return [
        m
        for m in state.scenario.measures
        if m.kind in r.mandate and (m.lead is None or role in m.lead)
    ]


def _eligible_areas(state: GameState) -> list[str]:
    w = state.world
    return [a for a, ok in zip(w.area_ids, state.rules.eligible) if ok]


def _benefit(state: GameState) -> dict[str, float]:
    """Need reduction per year at standard strength, in need-score units, per measure."""
    key = ("benefit", state.scenario.hash, state.world.hash)
    cache = _BENEFIT
    hit = cache.get(key)
    if hit is None:
        w = state.world
        wsum = w.weights.sum() or 1.0
        sd = np.where(w.sd0 > 0, w.sd0, np.inf)
        hit = {}
        for mid, eff in state.rules.effects.items():
            hit[mid] = float(np.sum(-w.polarity * eff * w.weights / sd) / wsum)
        cache[key] = hit
    return hit


_BENEFIT: dict = {}


# ---------------------------------------------------------------------------
# random
# ---------------------------------------------------------------------------
class RandomBot(Bot):
    """Random valid moves (see the module docstring)."""

    strategy = "random"

    def plan(self, state):
        """Return this role's proposals."""
        out = []
        options = _leadable(state, self.role)
        areas = _eligible_areas(state)
        if not options or not areas:
            return out
        for _ in range(int(self.rng.integers(0, 3))):
            meas = options[int(self.rng.integers(len(options)))]
            area = areas[int(self.rng.integers(len(areas)))]
            others = [r for r in state.roles if r != self.role]
            k = int(self.rng.integers(0, 3))
            partners = [
                str(x) for x in self.rng.choice(others, size=min(k, len(others)), replace=False)
            ]
            shares = {self.role: 1.0}
            if partners and self.rng.random() < 0.5:
                mine = float(np.round(self.rng.uniform(0.3, 0.9), 2))
                shares = {self.role: mine, partners[0]: round(1.0 - mine, 10)}
            out.append(C.propose(meas.id, area, shares=shares, partners=partners))
        return out

    def negotiate(self, state):
        """Return co-signatures, pledges and take-overs."""
        out = []
        for p in state.open_proposals():
            if p.lead == self.role:
                if self.rng.random() < 0.05:
                    out.append(C.withdraw(p.id))
                continue
            if self.rng.random() < 0.3 and self.role not in p.cosigners:
                out.append(C.cosign(p.id))
            if p.shares.get(self.role) and self.role not in p.pledges and self.rng.random() < 0.6:
                out.append(C.cofund(p.id))
        for m in state.active_measures():
            if self.role in m.funders and self.rng.random() < 0.03:
                out.append(C.stop_funding(m.id))
            elif any(not state.funders[f].active for f in m.funders) and self.rng.random() < 0.5:
                out.append(C.take_over(m.id))
        return out

    def vote(self, state):
        """Return the ballots of this role."""
        if state.rules.votes.get(self.role, 0) <= 0:
            return {}
        choices = ("yes", "no", "abstain")
        return {
            p.id: choices[int(self.rng.choice(3, p=[0.6, 0.2, 0.2]))]
            for p in state.open_proposals()
        }


# ---------------------------------------------------------------------------
# siloed
# ---------------------------------------------------------------------------
class SiloedBot(Bot):
    """Each role alone (see the module docstring)."""

    strategy = "siloed"

    def _own_indicator(self, state) -> int:
        w = state.world
        sd = np.where(w.sd0 > 0, w.sd0, np.inf)
        score = np.zeros(len(w.indicators))
        for m in _leadable(state, self.role):
            score += np.abs(state.rules.effects[m.id]) / sd
        score = np.where(w.weights > 0, score, 0.0)
        return int(np.argmax(score))

    def _focus(self, state) -> set[str]:
        r = state.rules.roles[self.role]
        w = state.world
        areas = set(r.focus.areas)
        if r.focus.districts:
            areas |= {a for a, d in zip(w.area_ids, w.districts) if d in r.focus.districts}
        return areas

    def plan(self, state):
        """Return this role's proposals."""
        w = state.world
        j = self._own_indicator(state)
        pol = w.polarity[j] or 1.0
        areas = _eligible_areas(state)
        focus = self._focus(state)
        if focus:
            areas = [a for a in areas if a in focus] or areas
        # worst first on the role's own indicator
        vals = np.array([state.values[w.area_index(a), j] for a in areas])
        vals = np.where(np.isfinite(vals), vals, -np.inf if pol > 0 else np.inf)
        order = np.argsort(-pol * vals, kind="stable")
        ranked = [areas[i] for i in order]
        options = _leadable(state, self.role)
        sd = w.sd0[j] if w.sd0[j] > 0 else 1.0
        scored = []
        for m in options:
            gain = -pol * state.rules.effects[m.id][j] / sd
            scored.append((gain / max(m.invest + m.cost, 1.0) + self.rng.uniform(0, 1e-3), m))
        scored.sort(key=lambda x: -x[0])
        avail = R.available(state, self.role)
        head = state.funders[self.role].base - R.running_commitments(state, self.role)
        staff = state.funders[self.role].staff - R.staff_used(state, self.role)
        out, used = [], set()
        for _, m in scored:
            if len(out) >= 3:
                break
            first = m.invest + m.cost
            if first > avail + 1e-9 or m.staff > staff + 1e-9:
                continue
            if (m.duration is None or m.duration > 1) and m.cost > head + 1e-9:
                continue
            top = ranked[: min(3, len(ranked))]
            choices = [a for a in top if (a, m.kind) not in used] or [
                a for a in ranked if (a, m.kind) not in used
            ]
            if not choices:
                continue
            area = choices[int(self.rng.integers(len(choices)))]
            used.add((area, m.kind))
            out.append(C.propose(m.id, area, shares={self.role: 1.0}))
            avail -= first
            staff -= m.staff
            if m.duration is None or m.duration > 1:
                head -= m.cost
        return out

    def vote(self, state):
        """Return the ballots of this role."""
        if state.rules.votes.get(self.role, 0) <= 0:
            return {}
        focus = self._focus(state)
        return {
            p.id: "yes" if p.lead == self.role or p.area in focus else "abstain"
            for p in state.open_proposals()
        }


# ---------------------------------------------------------------------------
# cooperative
# ---------------------------------------------------------------------------
@dataclass
class _Item:
    lead: str
    measure: str
    area: str
    shares: dict[str, float]
    partners: list[str] = field(default_factory=list)


def _joint_plan(state: GameState, rng: np.random.Generator) -> list[_Item]:
    """Return the cooperative bots' shared plan for this round (see the module docstring)."""
    rules = state.rules
    sc = rules.scenario
    w = state.world
    params, scoring = sc.model, sc.scoring
    need = w.need_scores(state.base)
    scored = np.isfinite(need)
    n_scored = max(int(scored.sum()), 1)
    k_top = max(1, int(math.floor(n_scored * params.equity_quantile + 1e-9)))
    top_threshold = np.sort(need[scored])[-k_top] if scored.any() else np.inf
    total_in_need = float(state.in_need.sum()) or 1.0
    roles = list(state.roles)
    avail = {r: R.available(state, r) for r in roles}
    for pid, prog in state.programmes.items():
        if prog["active"]:
            avail[pid] = R.available(state, pid)
    head = {r: state.funders[r].base - R.running_commitments(state, r) for r in roles}
    staff = {r: state.funders[r].staff - R.staff_used(state, r) for r in roles}
    ps = params.partner_staff
    used = {(m.area, m.kind) for m in state.active_measures()}
    reach_left = [float(x) for x in state.in_need - _reach_now(state)]
    per_area: dict[str, int] = {}
    rounds_left = sc.rounds - state.round + 1
    benefit = _benefit(state)
    coop = R.cooperation_factor(4, params)
    counted_sectors = sorted({rules.sector[r] for r in roles if rules.counted[r]})

    tfs = [float(x) for x in R.targeting_factor(need, params)]
    eligible = [bool(x) for x in rules.eligible]
    need_w = 100 * scoring.need / n_scored / scoring.need_ref
    eq_w = 100 * scoring.equity / k_top / scoring.equity_ref
    reach_w = 100 * scoring.reach / total_in_need
    is_top = [bool(x) for x in scored & (need >= top_threshold - 1e-12)]
    cands = []
    for m in sc.measures:
        # the contribution that counts is the one in the last round
        age_end = sc.rounds - state.round
        if m.duration is not None and m.duration - 1 < age_end:
            continue
        years = R.ramp_factor(age_end, m.delay, params.ramp_years)
        if years <= 0:
            continue
        leads = [
            r for r in roles if m.kind in rules.roles[r].mandate and (m.lead is None or r in m.lead)
        ]
        if not leads:
            continue
        runs = rounds_left if m.duration is None else min(rounds_left, m.duration)
        cost_total = max(m.invest + m.cost * runs, 1.0)
        z0 = benefit[m.id] * coop * years
        noise = rng.uniform(0.97, 1.03, size=w.n_areas)
        for a, area in enumerate(w.area_ids):
            if not eligible[a] or (area, m.kind) in used:
                continue
            z = z0 * tfs[a]
            value = need_w * z
            if is_top[a]:
                value += eq_w * z
            left = reach_left[a]
            if left > 0:
                value += reach_w * (m.reach if m.reach < left else left)
            cands.append((value / cost_total * noise[a], m, area))
    cands.sort(key=lambda x: -x[0])

    plan: list[_Item] = []
    for value, m, area in cands:
        if value <= 0:
            break
        if (area, m.kind) in used or per_area.get(area, 0) >= 3:
            continue
        leads = [
            r
            for r in roles
            if m.kind in rules.roles[r].mandate
            and (m.lead is None or r in m.lead)
            and staff[r] >= m.staff - 1e-9
        ]
        if not leads:
            continue
        leads.sort(key=lambda r: (r not in rules.providers, -staff[r]))
        lead = leads[0]
        first = m.invest + m.cost
        running = m.duration is None or m.duration > 1
        shares: dict[str, float] = {}
        rest = 1.0
        for pid, prog in state.programmes.items():
            if not prog["active"] or rest <= 0:
                continue
            if prog["kinds"] and m.kind not in prog["kinds"]:
                continue
            if not state.area_in_need_top(area, prog["need_top"]):
                continue
            s = min(prog["max_share"], avail.get(pid, 0.0) / first, rest)
            if s >= 0.05:
                s = math.floor(s * 1000) / 1000
                shares[pid] = s
                rest -= s
        funders = sorted(
            (r for r in roles if avail[r] > 1e-6),
            key=lambda r: (r != lead, -avail[r]),
        )
        for r in funders:
            if rest <= 1e-9:
                break
            if r != lead and staff[r] < ps - 1e-9:
                continue
            cap = avail[r] / first
            if running and m.cost > 0:
                cap = min(cap, max(head[r], 0.0) / m.cost)
            s = min(cap, rest)
            if s < 0.05 and s < rest - 1e-9:
                continue
            s = math.floor(s * 1000) / 1000 if s < rest - 1e-9 else rest
            if s <= 0:
                continue
            shares[r] = s
            rest -= s
        if rest > 1e-9:
            continue
        # make the shares sum to exactly 1
        total = sum(shares.values())
        last = next(reversed(shares))
        shares[last] = round(shares[last] + (1.0 - total), 12)
        if shares[last] <= 0:
            continue
        partners = []
        have = {rules.sector[r] for r in [lead, *shares] if r in rules.sector and rules.counted[r]}
        for sector in counted_sectors:
            if sector in have:
                continue
            cand = [
                r
                for r in roles
                if rules.sector[r] == sector
                and r != lead
                and r not in shares
                and staff[r] >= ps - 1e-9
                and (m.partners is None or r in m.partners)
            ]
            if cand:
                cand.sort(key=lambda r: -staff[r])
                partners.append(cand[0])
                have.add(sector)
        # book it
        staff[lead] -= m.staff
        for r, s in shares.items():
            avail[r] = avail.get(r, 0.0) - s * first
            if r in head and running:
                head[r] -= s * m.cost
            if r != lead and r in staff:
                staff[r] -= ps
        for r in partners:
            staff[r] -= ps
        used.add((area, m.kind))
        per_area[area] = per_area.get(area, 0) + 1
        reach_left[w.area_index(area)] -= m.reach
        plan.append(
            _Item(
                lead,
                m.id,
                area,
                shares,
                [*partners, *(r for r in shares if r in rules.sector and r != lead)],
            )
        )
    return plan


def _reach_now(state: GameState) -> np.ndarray:
    """Children in need reached by the running measures (an estimate for planning)."""
    w = state.world
    raw = np.zeros(w.n_areas)
    for m in state.active_measures():
        raw[w.area_index(m.area)] += state.rules.measures[m.measure].reach
    return np.minimum(raw, state.in_need)


class CooperativeBot(Bot):
    """Joint planning (see the module docstring)."""

    strategy = "cooperative"

    def _plan(self, state) -> list[_Item]:
        key = ("plan", state.round)
        if key not in self.team:
            self.team[key] = _joint_plan(state, self.team.setdefault("rng", self.rng))
        return self.team[key]

    def plan(self, state):
        """Return this role's proposals."""
        return [
            C.propose(it.measure, it.area, shares=it.shares, partners=it.partners)
            for it in self._plan(state)
            if it.lead == self.role
        ]

    def negotiate(self, state):
        """Return co-signatures, pledges and take-overs."""
        out = []
        for p in state.open_proposals():
            if p.lead == self.role:
                continue
            if p.shares.get(self.role) and self.role not in p.pledges:
                out.append(C.cofund(p.id))
            elif self.role in p.partners and self.role not in p.cosigners:
                out.append(C.cosign(p.id))
        for m in state.active_measures():
            if any(not state.funders[f].active for f in m.funders if f in state.funders):
                out.append(C.take_over(m.id))
        return out

    def vote(self, state):
        """Return the ballots of this role."""
        if state.rules.votes.get(self.role, 0) <= 0:
            return {}
        return {
            p.id: "yes" if p.funded_share() >= 1.0 - 1e-6 else "abstain"
            for p in state.open_proposals()
        }


#: Strategy name → bot class (keys are matched case-insensitively).
STRATEGIES: dict[str, type[Bot]] = {
    "random": RandomBot,
    "cooperative": CooperativeBot,
    "siloed": SiloedBot,
}
_ALIASES = {
    "koop": "cooperative",
    "kooperativ": "cooperative",
    "silo": "siloed",
    "zufall": "random",
}


def _strategy(name: str) -> type[Bot]:
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in STRATEGIES:
        raise ValueError(f"unknown bot strategy {name!r}; valid: {', '.join(STRATEGIES)}")
    return STRATEGIES[key]


def _strategies(bots, roles: list[str]) -> dict[str, type[Bot]]:
    if isinstance(bots, str):
        if "=" in bots:
            mapping = dict(part.split("=", 1) for part in bots.split(",") if part.strip())
            mapping = {k.strip(): v.strip() for k, v in mapping.items()}
            default = mapping.pop("*", "random")
            unknown = set(mapping) - set(roles)
            if unknown:
                raise ValueError(f"unknown roles {sorted(unknown)}; playing: {', '.join(roles)}")
            return {r: _strategy(mapping.get(r, default)) for r in roles}
        cls = _strategy(bots)
        return {r: cls for r in roles}
    if isinstance(bots, dict):
        unknown = set(bots) - set(roles)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; playing: {', '.join(roles)}")
        return {r: _strategy(bots.get(r, "random")) for r in roles}
    raise TypeError("bots must be a strategy name, 'role=strategy,...' or a dict")


class _SimClock:
    """Deterministic timestamps for simulated games (one second per event)."""

    def __init__(self):
        self.n = 0

    def __call__(self) -> str:
        n = self.n
        self.n += 1
        h, rem = divmod(n, 3600)
        m, s = divmod(rem, 60)
        return f"2000-01-01T{h % 24:02d}:{m:02d}:{s:02d}.000Z"


def play_game(
    scenario: str | Scenario = "default",
    bots: str | dict[str, str] = "cooperative",
    *,
    seed: int = 0,
    world: World | None = None,
    roles: list[str] | None = None,
    optional_roles: Iterable[str] = (),
    notes: bool = False,
) -> Game:
    """Let bots play one whole game; return the finished :class:`~k360lib.game.engine.Game`.

    Parameters
    ----------
    scenario : str or Scenario
        Built-in name or path (see :func:`~k360lib.game.scenario.load_scenario`).
    bots : str or dict
        One strategy for every role (``"cooperative"``), ``"role=strategy,..."``
        (``*=`` sets the default) or ``{role: strategy}``.
    seed : int
        Seeds the game (event cards) and the bots; same seed → same game.
    world : World, optional
        Pre-computed world (saves reading the atlas in batch runs).
    roles, optional_roles : optional
        Which roles play (see :meth:`Game.create`).
    notes : bool
        Let bots write a reflection note per round (off for speed).

    Examples
    --------
    >>> g = play_game("kurz", "cooperative", seed=1)
    >>> g.state.status, g.state.round
    ('ended', 2)
    """
    sc = load_scenario(scenario)
    chosen = choose_roles(sc, roles, optional_roles)
    game = Game.create(
        sc, seed=seed, world=world, roles=chosen, game_id=f"sim-{seed}", clock=_SimClock()
    )
    state = game.state
    classes = _strategies(bots, chosen)
    seqs = np.random.SeedSequence([int(seed), 0xB075]).spawn(len(chosen))
    team: dict = {}
    players = {r: classes[r](r, np.random.default_rng(s), team) for r, s in zip(chosen, seqs)}
    no_negotiation = "verhandlung" not in state.rules.phases
    while state.status != "ended":
        phase = state.phase
        if phase == "lage":
            for _ in range(sc.cards_per_round):
                game.try_submit(C.draw_card())
        steps = 2 if phase == "planung" and no_negotiation else 1
        if phase == "reflexion" and not notes:
            steps = 0
        seat_of = {role: seat for seat, role in state.seat_roles.items()}
        for step in range(steps):
            for role in chosen:
                for cmd in players[role].act(state, phase, step):
                    game.try_submit(cmd, seat_of[role])
        game.submit(C.advance())
    return game


# ---------------------------------------------------------------------------
# batch runs
# ---------------------------------------------------------------------------
_WORKER: dict = {}


def _init_worker(scenario: Scenario, world: World) -> None:
    _WORKER["scenario"] = scenario
    _WORKER["world"] = world


def _rows(game: Game, label: str) -> list[dict]:
    state = game.state
    rows = []
    for res in state.history:
        row = {
            "game": state.game_id,
            "seed": state.seed,
            "bots": label,
            "round": res["round"],
            "need_mean": res["need_mean"],
            "equity_gap": res["equity_gap"],
            "reach": res["reach"],
            "shared_score": res["shared_score"],
            "active_measures": res["active_measures"],
            "started": res["started"],
            "budget": sum(v["budget"] for v in res["roles"].values()),
            "spent": sum(v["spent"] for v in res["roles"].values()),
            "goals_achieved": sum(v["goal_achieved"] for v in res["roles"].values()),
            "n_events": state.version,
        }
        for role, v in res["roles"].items():
            row[f"goal.{role}"] = v["goal_progress"]
        rows.append(row)
    return rows


def _run_chunk(args) -> list[dict]:
    seeds, bots, label, roles = args
    sc, world = _WORKER["scenario"], _WORKER["world"]
    out = []
    for seed in seeds:
        out.extend(_rows(play_game(sc, bots, seed=int(seed), world=world, roles=roles), label))
    return out


def simulate(
    scenario: str | Scenario = "default",
    bots: str | dict[str, str] = "cooperative",
    n: int = 100,
    *,
    seed: int = 0,
    jobs: int | None = None,
    roles: list[str] | None = None,
    optional_roles: Iterable[str] = (),
    atlas=None,
) -> pd.DataFrame:
    """Play ``n`` bot games and return one tidy row per game and round.

    Parameters
    ----------
    scenario : str or Scenario
        Built-in name or path.
    bots : str or dict
        Strategy for every role, ``"role=strategy,..."`` or a dict (see :func:`play_game`).
    n : int
        Number of games; game ``i`` uses seed ``seed + i``.
    seed : int
        First seed.
    jobs : int, optional
        Worker processes (default: the number of CPUs; 1 = in this process).
    roles, optional_roles : optional
        Which roles play.
    atlas : Atlas, optional
        Play on this atlas instead of the scenario's own.

    Returns
    -------
    pandas.DataFrame
        Columns ``game, seed, bots, round`` (0 = base year), ``need_mean,
        equity_gap, reach, shared_score, active_measures, started, budget,
        spent, goals_achieved, n_events`` and ``goal.<role>`` (progress 0 … 1).
    """
    import pandas as pd

    from k360lib.game.world import world_for

    sc = load_scenario(scenario)
    world = world_for(sc, atlas)
    chosen = choose_roles(sc, roles, optional_roles)
    label = bots if isinstance(bots, str) else ",".join(f"{k}={v}" for k, v in sorted(bots.items()))
    _strategies(bots, chosen)  # fail early on a bad strategy name
    seeds = list(range(int(seed), int(seed) + int(n)))
    jobs = (os.cpu_count() or 1) if jobs is None else max(1, int(jobs))
    jobs = min(jobs, max(1, len(seeds)))
    if jobs == 1 or len(seeds) < 8:
        _init_worker(sc, world)
        rows = _run_chunk((seeds, bots, label, chosen))
    else:
        import multiprocessing as mp

        chunks = [seeds[i::jobs] for i in range(jobs)]
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(method)
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(sc, world)) as pool:
            parts = pool.map(_run_chunk, [(c, bots, label, chosen) for c in chunks])
        rows = [r for part in parts for r in part]
    df = pd.DataFrame(rows)
    if len(df):
        df = df.sort_values(["seed", "round"], kind="stable").reset_index(drop=True)
    return df
