"""The engine: check a command against the state and turn it into an event.

:func:`decide` is the single gate every command passes — in the in-memory
:class:`Game` (hot-seat play, bots, tests) and in a networked
:class:`~k360lib.game.session.GameSession`. It never changes the state; it
raises :class:`~k360lib.game.errors.RuleViolation` with the reason, or
returns what the event will say. The state then changes only by
:meth:`~k360lib.game.state.GameState.apply` of that event.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from k360lib.errors import Phrase
from k360lib.game import rules as R
from k360lib.game.commands import COMMANDS, FACILITATOR_COMMANDS, Command
from k360lib.game.errors import NotYourRoleError, RuleViolation
from k360lib.game.events import ENGINE_VERSION, Event, utc_now
from k360lib.game.state import GameState, fold, state_from_created

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.atlas.model import Atlas
    from k360lib.game.scenario import Scenario
    from k360lib.game.world import World

__all__ = [
    "FACILITATOR",
    "MAX_TEXT",
    "Actor",
    "Game",
    "choose_roles",
    "created_event",
    "decide",
    "make_event",
    "new_seed",
]

#: Longest note or proposal text accepted (characters).
MAX_TEXT = 4000
_BALLOTS = ("yes", "no", "abstain")


@dataclass(frozen=True)
class Actor:
    """Who sends a command: a seat (a role group's place) or the facilitator."""

    seat: str | None = None
    facilitator: bool = False

    @property
    def label(self) -> str:
        """``facilitator`` or ``seat:<id>`` (written into events)."""
        return "facilitator" if self.facilitator else f"seat:{self.seat}"


#: The facilitator (Spielleitung).
FACILITATOR = Actor(facilitator=True)


def new_seed() -> int:
    """Return a fresh 63-bit seed from the OS (stored in the game, so replays are exact)."""
    return int(np.random.SeedSequence().entropy % (2**63))


def _refuse(key: str, **params) -> RuleViolation:
    return RuleViolation(f"game.rule.{key}", **params)


# ---------------------------------------------------------------------------
# deciding
# ---------------------------------------------------------------------------
_PHASES = {
    "propose": ("planung",),
    "cosign": ("planung", "verhandlung"),
    "cofund": ("planung", "verhandlung"),
    "amend": ("planung", "verhandlung"),
    "withdraw": ("planung", "verhandlung"),
    "vote": ("beschluss",),
    "stop_funding": ("planung", "verhandlung", "beschluss"),
    "take_over": ("planung", "verhandlung", "beschluss"),
}


def decide(state: GameState, command: Command, actor: Actor) -> tuple[str, str | None, dict]:
    """Check ``command`` by ``actor`` against ``state``; return ``(event_type, role, payload)``.

    Raises
    ------
    RuleViolation
        The command is not allowed now; the message says why (unknown
        command, wrong phase, submissions locked, missing mandate, budget,
        staff, …). :class:`~k360lib.game.errors.NotYourRoleError` when a
        player tries to act for another role.
    """
    typ = command.type
    if typ not in COMMANDS:
        raise _refuse("unknown_command", command=typ, known=", ".join(COMMANDS))
    if state.status == "ended" and typ not in ("note", "undo"):
        raise _refuse("game_over")
    if typ in FACILITATOR_COMMANDS:
        if not actor.facilitator:
            raise _refuse("facilitator_only", command=typ)
        return _EVENT_TYPES[typ], None, _FACILITATOR_PAYLOADS[typ](state, dict(command.params))
    # player commands
    if actor.facilitator:
        role = command.role
        if role is None:
            raise _refuse("role_required", command=typ)
        if role not in state.roles:
            raise _refuse("unknown_role", role=role, known=", ".join(state.roles))
    else:
        if actor.seat not in state.seat_roles:
            raise _refuse("unknown_seat", seat=actor.seat)
        role = state.seat_roles[actor.seat]
        if command.role is not None and command.role != role:
            raise NotYourRoleError("game.rule.not_your_role", role=command.role, own=role)
        if state.locked:
            raise _refuse("locked")
    allowed = _PHASES.get(typ)
    if allowed is not None and state.phase not in allowed:
        raise _refuse(
            "wrong_phase",
            command=Phrase(f"game.command.{typ}"),
            phase=Phrase(f"game.phase.{state.phase}"),
            allowed=Phrase(*(f"game.phase.{p}" for p in allowed if p in state.rules.phases)),
        )
    payload = _PLAYER[typ](state, role, dict(command.params))
    return _EVENT_TYPES[typ], role, payload


_EVENT_TYPES = {
    "propose": "proposal_made",
    "cosign": "proposal_cosigned",
    "cofund": "proposal_cofunded",
    "amend": "proposal_amended",
    "withdraw": "proposal_withdrawn",
    "vote": "votes_cast",
    "stop_funding": "funding_stopped",
    "take_over": "measure_taken_over",
    "note": "note_added",
    "advance": "phase_advanced",
    "rewind": "phase_rewound",
    "draw_card": "card_drawn",
    "choose_card": "card_drawn",
    "undo": "event_undone",
    "rotate_roles": "roles_rotated",
    "lock": "submissions_locked",
}


# -- player commands ----------------------------------------------------------
def _text(params: dict, name: str, required: bool = False) -> str:
    value = params.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse("bad_param", name=name, value=repr(value)[:60])
    value = value.strip()
    if required and not value:
        raise _refuse("empty_text")
    if len(value) > MAX_TEXT:
        raise _refuse("text_too_long", n=len(value), limit=MAX_TEXT)
    return value


def _proposal(state: GameState, params: dict):
    pid = params.get("proposal")
    p = state.proposals.get(pid) if isinstance(pid, str) else None
    if p is None:
        raise _refuse("unknown_proposal", proposal=pid)
    if p.status != "open":
        raise _refuse("proposal_closed", proposal=pid, status=p.status)
    return p


def _check_area(state: GameState, area) -> str:
    w = state.world
    if not isinstance(area, str) or not w.has_area(area):
        raise _refuse("unknown_area", area=area)
    a = w.area_index(area)
    if not state.rules.eligible[a]:
        raise _refuse(
            "area_too_small",
            area=area,
            name=w.names[a],
            children=int(state.children[a]),
            min=int(state.rules.scenario.model.min_children),
        )
    return area


def _check_partners(state: GameState, meas, lead: str, partners) -> list[str]:
    if not isinstance(partners, list | tuple):
        raise _refuse("bad_param", name="partners", value=repr(partners)[:60])
    out = []
    for r in partners:
        if r not in state.roles:
            raise _refuse("unknown_role", role=r, known=", ".join(state.roles))
        if r == lead:
            raise _refuse("partner_is_lead", role=r)
        if meas.partners is not None and r not in meas.partners:
            raise _refuse("partner_not_allowed", role=r, measure=meas.id)
        if r not in out:
            out.append(r)
    return out


def _check_shares(state: GameState, shares, lead: str) -> dict[str, float]:
    if not isinstance(shares, dict) or not shares:
        raise _refuse("bad_param", name="shares", value=repr(shares)[:60])
    out: dict[str, float] = {}
    for f, v in shares.items():
        if f not in state.roles and not (f in state.programmes and state.programmes[f]["active"]):
            known = [*state.roles, *(k for k, p in state.programmes.items() if p["active"])]
            raise _refuse("unknown_funder", funder=f, known=", ".join(known))
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _refuse("bad_share", funder=f, value=repr(v)[:30])
        if v < 0 or v > 1:
            raise _refuse("bad_share", funder=f, value=v)
        if v > 0:
            out[f] = float(v)
    total = sum(out.values())
    if abs(total - 1.0) > 1e-6:
        raise _refuse("shares_sum", total=round(100 * total, 1))
    return out


def _check_pledge(state: GameState, role: str, meas, share: float, exclude: str | None) -> None:
    if share <= 0:
        return
    amount = share * (meas.invest + meas.cost)
    avail = R.available(state, role, exclude=exclude)
    if amount > avail + 1e-6:
        raise _refuse(
            "budget",
            role=role,
            amount=_money(amount),
            available=_money(avail),
            currency=state.scenario.currency,
        )
    if meas.duration is None or meas.duration > 1:
        running = R.running_commitments(state, role, exclude=exclude) + share * meas.cost
        base = state.funders[role].base
        if running > base + 1e-6:
            raise _refuse(
                "follow_up",
                role=role,
                running=_money(running),
                base=_money(base),
                currency=state.scenario.currency,
            )


def _check_programme(state: GameState, prog_id: str, meas, area: str, share: float) -> None:
    prog = state.programmes[prog_id]
    if prog["kinds"] and meas.kind not in prog["kinds"]:
        raise _refuse("programme_kind", programme=prog_id, kinds=", ".join(prog["kinds"]))
    if share > prog["max_share"] + 1e-9:
        raise _refuse("programme_share", programme=prog_id, max=round(100 * prog["max_share"]))
    if not state.area_in_need_top(area, prog["need_top"]):
        raise _refuse("programme_area", programme=prog_id, top=round(100 * prog["need_top"]))


def _money(x: float) -> str:
    return f"{x:,.0f}".replace(",", ".")


def _p_propose(state: GameState, role: str, params: dict) -> dict:
    rules = state.rules
    mid = params.get("measure")
    meas = rules.measures.get(mid) if isinstance(mid, str) else None
    if meas is None:
        raise _refuse("unknown_measure", measure=mid, known=", ".join(rules.measure_order))
    r = rules.roles[role]
    if meas.kind not in r.mandate:
        raise _refuse("no_mandate", role=role, measure=meas.id, kind=meas.kind)
    if meas.lead is not None and role not in meas.lead:
        raise _refuse("lead_not_allowed", role=role, measure=meas.id, allowed=", ".join(meas.lead))
    area = _check_area(state, params.get("area"))
    partners = _check_partners(state, meas, role, params.get("partners", []))
    shares = _check_shares(state, params.get("shares") or {role: 1.0}, role)
    for f, v in shares.items():
        if f in state.programmes:
            _check_programme(state, f, meas, area, v)
            amount = v * (meas.invest + meas.cost)
            if amount > R.available(state, f) + 1e-6:
                raise _refuse(
                    "budget",
                    role=f,
                    amount=_money(amount),
                    available=_money(R.available(state, f)),
                    currency=state.scenario.currency,
                )
    _check_pledge(state, role, meas, shares.get(role, 0.0), exclude=None)
    used = R.staff_used(state, role)
    cap = state.funders[role].staff
    if used + meas.staff > cap + 1e-9:
        raise _refuse(
            "staff", role=role, need=_fmt(meas.staff), used=_fmt(used), capacity=_fmt(cap)
        )
    return {
        "proposal": f"P{state.next_number}",
        "measure": meas.id,
        "area": area,
        "shares": shares,
        "partners": partners,
        "note": _text(params, "note"),
    }


def _fmt(x: float) -> str:
    return f"{x:g}"


def _p_cosign(state: GameState, role: str, params: dict) -> dict:
    p = _proposal(state, params)
    if role == p.lead:
        raise _refuse("own_proposal", proposal=p.id)
    if role in p.cosigners:
        raise _refuse("already_cosigned", proposal=p.id)
    meas = state.rules.measures[p.measure]
    if meas.partners is not None and role not in meas.partners:
        raise _refuse("partner_not_allowed", role=role, measure=meas.id)
    _check_partner_staff(state, role)
    return {"proposal": p.id}


def _check_partner_staff(state: GameState, role: str) -> None:
    need = state.rules.scenario.model.partner_staff
    used = R.staff_used(state, role)
    cap = state.funders[role].staff
    if used + need > cap + 1e-9:
        raise _refuse("staff", role=role, need=_fmt(need), used=_fmt(used), capacity=_fmt(cap))


def _p_cofund(state: GameState, role: str, params: dict) -> dict:
    p = _proposal(state, params)
    if role == p.lead:
        raise _refuse("lead_cofund", proposal=p.id)
    share = params.get("share")
    if share is None:
        share = p.shares.get(role)
        if not share:
            raise _refuse("no_share_requested", proposal=p.id)
    if isinstance(share, bool) or not isinstance(share, int | float) or not math.isfinite(share):
        raise _refuse("bad_share", funder=role, value=repr(share)[:30])
    if not 0 < share <= 1:
        raise _refuse("bad_share", funder=role, value=share)
    others = sum(v for f, v in p.pledges.items() if f != role)
    if others + share > 1.0 + 1e-6:
        raise _refuse("overfunded", proposal=p.id, total=round(100 * (others + share), 1))
    meas = state.rules.measures[p.measure]
    if role not in p.cosigners and (meas.partners is None or role in meas.partners):
        _check_partner_staff(state, role)
    # the role's pledge to this proposal is replaced, so leave it out of the budget check
    _check_pledge(state, role, meas, share, exclude=p.id)
    return {"proposal": p.id, "share": float(share)}


def _p_amend(state: GameState, role: str, params: dict) -> dict:
    p = _proposal(state, params)
    if role != p.lead:
        raise _refuse("not_lead", proposal=p.id, lead=p.lead)
    changes = params.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise _refuse("nothing_to_amend", proposal=p.id)
    unknown = set(changes) - {"area", "shares", "partners", "note"}
    if unknown:
        raise _refuse("bad_param", name=", ".join(sorted(unknown)), value="")
    meas = state.rules.measures[p.measure]
    out: dict = {}
    area = p.area
    if "area" in changes:
        area = _check_area(state, changes["area"])
        out["area"] = area
    if "partners" in changes:
        out["partners"] = _check_partners(state, meas, role, changes["partners"])
    if "shares" in changes:
        shares = _check_shares(state, changes["shares"], role)
        for f, v in shares.items():
            if f in state.programmes:
                _check_programme(state, f, meas, area, v)
        _check_pledge(state, role, meas, shares.get(role, 0.0), exclude=p.id)
        out["shares"] = shares
    elif "area" in changes:
        for f, v in p.shares.items():
            if f in state.programmes:
                _check_programme(state, f, meas, area, v)
    if "note" in changes:
        out["note"] = _text(changes, "note")
    return {"proposal": p.id, "changes": out}


def _p_withdraw(state: GameState, role: str, params: dict) -> dict:
    p = _proposal(state, params)
    if role != p.lead:
        raise _refuse("not_lead", proposal=p.id, lead=p.lead)
    return {"proposal": p.id}


def _p_vote(state: GameState, role: str, params: dict) -> dict:
    if state.rules.votes.get(role, 0) <= 0:
        raise _refuse("no_vote", role=role)
    ballots = params.get("ballots")
    if not isinstance(ballots, dict) or not ballots:
        raise _refuse("bad_param", name="ballots", value=repr(ballots)[:60])
    out = {}
    for pid, b in ballots.items():
        p = _proposal(state, {"proposal": pid})
        if b not in _BALLOTS:
            raise _refuse("bad_ballot", proposal=p.id, value=b, known=", ".join(_BALLOTS))
        out[p.id] = b
    return {"ballots": out}


def _running(state: GameState, params: dict):
    mid = params.get("measure")
    m = state.measures.get(mid) if isinstance(mid, str) else None
    if m is None or m.status != "active":
        raise _refuse("unknown_measure_running", measure=mid)
    return m


def _p_stop(state: GameState, role: str, params: dict) -> dict:
    m = _running(state, params)
    if role not in m.funders:
        raise _refuse("not_funder", measure=m.id)
    return {"measure": m.id}


def _p_take_over(state: GameState, role: str, params: dict) -> dict:
    m = _running(state, params)
    missing = sum(s for f, s in m.funders.items() if not state.funders[f].active)
    if missing <= 0:
        raise _refuse("nothing_to_take_over", measure=m.id)
    meas = state.rules.measures[m.measure]
    amount = missing * meas.cost
    avail = R.available(state, role)
    if amount > avail + 1e-6:
        raise _refuse(
            "budget",
            role=role,
            amount=_money(amount),
            available=_money(avail),
            currency=state.scenario.currency,
        )
    running = R.running_commitments(state, role) + amount
    if running > state.funders[role].base + 1e-6:
        raise _refuse(
            "follow_up",
            role=role,
            running=_money(running),
            base=_money(state.funders[role].base),
            currency=state.scenario.currency,
        )
    return {"measure": m.id, "share": float(missing)}


def _p_note(state: GameState, role: str, params: dict) -> dict:
    text = _text(params, "text", required=True)
    prompt = params.get("prompt")
    if prompt is not None and (
        isinstance(prompt, bool)
        or not isinstance(prompt, int)
        or not 0 <= prompt < max(1, len(state.scenario.reflection))
    ):
        raise _refuse("bad_param", name="prompt", value=repr(prompt)[:30])
    return {"text": text, "prompt": prompt}


_PLAYER = {
    "propose": _p_propose,
    "cosign": _p_cosign,
    "cofund": _p_cofund,
    "amend": _p_amend,
    "withdraw": _p_withdraw,
    "vote": _p_vote,
    "stop_funding": _p_stop,
    "take_over": _p_take_over,
    "note": _p_note,
}


# -- facilitator commands ------------------------------------------------------
def _f_payload_advance(state: GameState, params: dict) -> dict:
    phases = state.rules.phases
    if state.phase_index + 1 < len(phases):
        to, rnd = phases[state.phase_index + 1], state.round
    elif state.round < state.scenario.rounds:
        to, rnd = phases[0], state.round + 1
    else:
        to, rnd = "ende", state.round
    return {"from": state.phase, "to": to, "round": rnd}


def _f_payload_rewind(state: GameState, params: dict) -> dict:
    if state.phase_index == 0:
        raise _refuse("cannot_rewind")
    return {"from": state.phase, "to": state.rules.phases[state.phase_index - 1]}


def _cards_left(state: GameState) -> list:
    used = {c["card"] for c in state.cards}
    return [
        c
        for c in state.scenario.cards
        if c.id not in used and (not c.rounds or state.round in c.rounds)
    ]


def _check_card_slot(state: GameState) -> None:
    if state.phase != "lage":
        raise _refuse(
            "wrong_phase",
            command=Phrase("game.command.draw_card"),
            phase=Phrase(f"game.phase.{state.phase}"),
            allowed=Phrase("game.phase.lage"),
        )
    n = sum(1 for c in state.cards if c["round"] == state.round)
    if n >= state.scenario.cards_per_round:
        raise _refuse("cards_exhausted", n=state.scenario.cards_per_round)


def _resolve(state: GameState, card, rng: np.random.Generator) -> dict:
    w = state.world
    out = {}
    eligible = [a for a, ok in zip(w.area_ids, state.rules.eligible) if ok]
    for j, eff in enumerate(card.effects):
        if eff.type != "indicator":
            continue
        a = eff.area
        if a == "all":
            areas = list(w.area_ids)
        elif a == "random":
            areas = [eligible[int(rng.integers(len(eligible)))]]
        elif a == "top_need":
            top = [x for x in eligible if state.area_in_need_top(x, eff.top)] or eligible
            areas = [top[int(rng.integers(len(top)))]]
        elif a.startswith("district:"):
            d = a.split(":", 1)[1]
            areas = [x for x, dd in zip(w.area_ids, w.districts) if dd == d]
        else:
            areas = [a]
        out[str(j)] = areas
    return out


def _f_payload_draw(state: GameState, params: dict) -> dict:
    _check_card_slot(state)
    left = _cards_left(state)
    if not left:
        raise _refuse("no_cards_left")
    rng = np.random.default_rng([state.seed, state.version])
    weights = np.array([c.weight for c in left], dtype=float)
    card = left[int(rng.choice(len(left), p=weights / weights.sum()))]
    return {"card": card.id, "how": "random", "resolved": _resolve(state, card, rng)}


def _f_payload_choose(state: GameState, params: dict) -> dict:
    _check_card_slot(state)
    cid = params.get("card")
    card = state.rules.cards.get(cid) if isinstance(cid, str) else None
    if card is None:
        raise _refuse("unknown_card", card=cid, known=", ".join(state.rules.cards))
    if any(c["card"] == card.id for c in state.cards):
        raise _refuse("card_used", card=card.id)
    if card.rounds and state.round not in card.rounds:
        raise _refuse("card_not_this_round", card=card.id, rounds=", ".join(map(str, card.rounds)))
    rng = np.random.default_rng([state.seed, state.version])
    return {"card": card.id, "how": "chosen", "resolved": _resolve(state, card, rng)}


def _f_payload_undo(state: GameState, params: dict) -> dict:
    if not state.undoable:
        raise _refuse("nothing_to_undo")
    target = state.undoable[-1]
    ev = state.events[target - 1]
    return {"target": target, "target_type": ev.type}


def _f_payload_rotate(state: GameState, params: dict) -> dict:
    shift = params.get("shift", 1)
    if isinstance(shift, bool) or not isinstance(shift, int):
        raise _refuse("bad_param", name="shift", value=repr(shift)[:30])
    n = len(state.roles)
    if shift % n == 0:
        raise _refuse("bad_param", name="shift", value=shift)
    last = state.phase_index == len(state.rules.phases) - 1
    fresh = state.phase == "lage" and not any(
        p.round == state.round for p in state.proposals.values()
    )
    if not (last or fresh):
        raise _refuse("rotate_phase")
    rotation = (state.rotation + shift) % n
    mapping = {seat: state.roles[(i + rotation) % n] for i, seat in enumerate(state.seats)}
    return {"shift": shift, "seat_roles": mapping}


def _f_payload_lock(state: GameState, params: dict) -> dict:
    locked = params.get("locked", True)
    if not isinstance(locked, bool):
        raise _refuse("bad_param", name="locked", value=repr(locked)[:30])
    return {"locked": locked}


_FACILITATOR_PAYLOADS = {
    "advance": _f_payload_advance,
    "rewind": _f_payload_rewind,
    "draw_card": _f_payload_draw,
    "choose_card": _f_payload_choose,
    "undo": _f_payload_undo,
    "rotate_roles": _f_payload_rotate,
    "lock": _f_payload_lock,
}


# ---------------------------------------------------------------------------
# events and the in-memory game
# ---------------------------------------------------------------------------
def make_event(
    state: GameState,
    event_type: str,
    role: str | None,
    payload: dict,
    actor: Actor,
    *,
    ts: str | None = None,
    command_id: str | None = None,
) -> Event:
    """Build the event that follows ``state`` (version = state.version + 1)."""
    return Event(
        version=state.version + 1,
        type=event_type,
        payload=payload,
        actor=actor.label,
        role=role,
        ts=ts or utc_now(),
        engine=ENGINE_VERSION,
        command_id=command_id,
        game_id=state.game_id,
    )


def created_event(
    scenario: Scenario,
    world: World,
    *,
    seed: int,
    roles: list[str],
    game_id: str,
    ts: str | None = None,
    meta: dict | None = None,
) -> Event:
    """Return the first event of a game: the whole scenario, the atlas numbers, the seed, the roles."""
    from k360lib.game.state import remember

    remember(scenario, world)
    return Event(
        version=1,
        type="game_created",
        payload={
            "scenario": scenario.to_dict(),
            "scenario_hash": scenario.hash,
            "world": world.to_payload(),
            "world_hash": world.hash,
            "seed": int(seed),
            "roles": list(roles),
            "seats": list(roles),
            "meta": dict(meta or {}),
        },
        actor="facilitator",
        role=None,
        ts=ts or utc_now(),
        engine=ENGINE_VERSION,
        command_id=None,
        game_id=game_id,
    )


def choose_roles(
    scenario: Scenario, roles: list[str] | None = None, optional_roles=()
) -> list[str]:
    """Return the playing roles: ``roles`` as given, else the default ones plus ``optional_roles``.

    Raises
    ------
    RuleViolation
        Unknown role ids, or fewer than two roles.
    """
    known = [r.id for r in scenario.roles]
    if roles is None:
        extra = list(optional_roles or ())
        roles = [r.id for r in scenario.roles if not r.optional or r.id in extra]
        missing = [r for r in extra if r not in known]
    else:
        roles = list(dict.fromkeys(roles))
        missing = [r for r in roles if r not in known]
    if missing:
        raise _refuse("unknown_role", role=", ".join(missing), known=", ".join(known))
    if len(roles) < 2:
        raise _refuse("too_few_roles")
    order = {r: i for i, r in enumerate(known)}
    return sorted(roles, key=order.__getitem__)


class Game:
    """An in-memory game: the state plus its event log (hot-seat play, bots, tests).

    Use :meth:`create` for a new game or :meth:`from_events` to replay one.
    For networked play use :mod:`k360lib.game.session`, which stores the
    same events in a shared :class:`~k360lib.game.store.EventStore`.
    """

    def __init__(self, state: GameState, *, clock: Callable[[], str] | None = None):
        self.state = state
        self._clock = clock or utc_now
        self._seen: dict[str, int] = {e.command_id: e.version for e in state.events if e.command_id}

    @classmethod
    def create(
        cls,
        scenario: str | Scenario = "default",
        *,
        seed: int | None = None,
        atlas: Atlas | None = None,
        world: World | None = None,
        roles: list[str] | None = None,
        optional_roles=(),
        game_id: str | None = None,
        clock: Callable[[], str] | None = None,
    ) -> Game:
        """Start a new game.

        Parameters
        ----------
        scenario : str or Scenario
            A built-in name (``default``, ``kurz``), a YAML path or a scenario.
        seed : int, optional
            Seed of the game's random draws (event cards); default: fresh from the OS.
        atlas : Atlas, optional
            Play on this atlas instead of the scenario's own.
        world : World, optional
            Pre-computed world (skips reading the atlas; used by batch runs).
        roles, optional_roles : list of str, optional
            Which roles play (default: the non-optional ones, plus ``optional_roles``).
        game_id : str, optional
            Id of the game (default: random).
        clock : callable, optional
            Returns the timestamp string for events (default: UTC now).
        """
        from k360lib.game.scenario import load_scenario  # pydantic: not on a player's path
        from k360lib.game.world import world_for

        sc = load_scenario(scenario)
        w = world if world is not None else world_for(sc, atlas)
        chosen = choose_roles(sc, roles, optional_roles)
        clock = clock or utc_now
        ev = created_event(
            sc,
            w,
            seed=new_seed() if seed is None else int(seed),
            roles=chosen,
            game_id=game_id or secrets.token_hex(8),
            ts=clock(),
        )
        state = state_from_created(ev)
        return cls(state, clock=clock)

    @classmethod
    def from_events(cls, events: list[Event], **kw) -> Game:
        """Rebuild a game from its log."""
        return cls(fold(list(events)), **kw)

    @property
    def events(self) -> list[Event]:
        """The event log."""
        return self.state.events

    def submit(
        self, command: Command, actor: Actor | str | None = None, *, role: str | None = None
    ) -> Event:
        """Check and apply ``command``; return the new event.

        Parameters
        ----------
        command : Command
            What to do.
        actor : Actor or str, optional
            ``FACILITATOR`` (default), an :class:`Actor`, or a seat id (a player).
        role : str, optional
            Shortcut for ``command.with_(role=...)`` (hot-seat play by the facilitator).

        Raises
        ------
        RuleViolation
            With the reason; nothing is appended.
        """
        if actor is None:
            actor = FACILITATOR
        elif isinstance(actor, str):
            actor = Actor(seat=actor)
        if role is not None:
            command = command.with_(role=role)
        if command.command_id and command.command_id in self._seen:
            return self.state.events[self._seen[command.command_id] - 1]
        typ, r, payload = decide(self.state, command, actor)
        ev = make_event(
            self.state, typ, r, payload, actor, ts=self._clock(), command_id=command.command_id
        )
        self.state.apply(ev)
        if command.command_id:
            self._seen[command.command_id] = ev.version
        return ev

    def try_submit(self, command: Command, actor: Actor | str | None = None, **kw) -> Event | None:
        """Like :meth:`submit` but return ``None`` when the rules refuse the command."""
        try:
            return self.submit(command, actor, **kw)
        except RuleViolation:
            return None

    def replay(self) -> GameState:
        """Return ``fold(events)`` — a fresh state rebuilt from the log."""
        return fold(list(self.state.events))
