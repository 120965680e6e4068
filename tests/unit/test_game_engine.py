"""The engine: commands become events, refusals carry reasons, and the invariants hold
for any sequence of commands (hypothesis)."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k360lib.game import commands as C
from k360lib.game import rules as R
from k360lib.game.engine import FACILITATOR, Actor, Game
from k360lib.game.errors import NotYourRoleError, RuleViolation
from k360lib.game.events import dumps
from k360lib.game.export import events_from_json, events_json
from k360lib.game.scenario import load_scenario
from k360lib.game.state import fold
from k360lib.game.world import world_for

SHORT = load_scenario("kurz")
DEFAULT = load_scenario("default")
WORLDS = {}


def _world(sc):
    if sc.id not in WORLDS:
        WORLDS[sc.id] = world_for(sc)
    return WORLDS[sc.id]


def _game(sc=SHORT, seed=1, **kw) -> Game:
    return Game.create(sc, seed=seed, world=_world(sc), **kw)


def _fingerprint(state) -> tuple:
    """What a refused command must not change (cheaper than the full ``to_dict``)."""
    d = {
        k: getattr(state, k)
        for k in ("version", "round", "phase_index", "status", "locked", "seat_roles", "undoable")
    }
    parts = {
        "funders": {k: vars(v) for k, v in state.funders.items()},
        "proposals": {k: vars(v) for k, v in state.proposals.items()},
        "measures": {k: {**vars(v), "roles": sorted(v.roles)} for k, v in state.measures.items()},
        "programmes": state.programmes,
        "notes": state.notes,
        "cards": state.cards,
    }
    arrays = tuple(a.tobytes() for a in (state.values, state.base, state.contrib, state.children))
    return dumps({**d, **parts}), arrays, len(state.history), len(state.events)


def _check_budgets(state) -> None:
    for f in state.funders.values():
        assert f.base >= 0 and f.budget >= 0, f
        assert f.spent >= -1e-9 and f.spent <= f.budget + 1e-6, f
        assert f.staff >= 0 and 0 <= f.trust <= 1, f
        assert R.available(state, f.id) >= 0
        assert f.total_spent <= f.total_budget + 1e-6, f


# ---------------------------------------------------------------------------
# plain behaviour
# ---------------------------------------------------------------------------
def test_a_game_starts_in_round_one_lage_with_its_roles():
    g = _game()
    s = g.state
    assert (s.round, s.phase, s.status, s.version) == (1, "lage", "running", 1)
    assert s.roles == ["jugendamt", "politik", "wohlfahrtsverband"]
    assert s.seat_roles == {r: r for r in s.roles}
    assert s.history[0]["round"] == 0 and s.history[0]["shared_score"] == 0.0
    with_optional = _game(DEFAULT, optional_roles=["jugendbeirat"])
    assert "jugendbeirat" in with_optional.state.roles
    with pytest.raises(RuleViolation):
        _game(DEFAULT, optional_roles=["astronauten"])


def test_unknown_and_facilitator_commands_are_refused_with_reasons():
    g = _game()
    with pytest.raises(RuleViolation) as err:
        g.submit(C.Command("zaubern"), "jugendamt")
    assert "propose" in err.value.message("en") and err.value.key == "game.rule.unknown_command"
    with pytest.raises(RuleViolation) as err:
        g.submit(C.advance(), "politik")
    assert err.value.key == "game.rule.facilitator_only"
    with pytest.raises(RuleViolation) as err:
        g.submit(C.note("hallo"))  # the facilitator must name the role in hot-seat mode
    assert err.value.key == "game.rule.role_required"
    assert g.state.version == 1


def test_a_role_cannot_act_for_another():
    g = _game()
    g.submit(C.advance())
    with pytest.raises(NotYourRoleError) as err:
        g.submit(C.propose("familienzentrum", "SR13", role="wohlfahrtsverband"), "jugendamt")
    assert "jugendamt" in err.value.message("en") and "wohlfahrtsverband" in err.value.message("en")
    ev = g.submit(C.propose("familienzentrum", "SR13", role="jugendamt"), "jugendamt")
    assert ev.role == "jugendamt" and ev.actor == "seat:jugendamt"
    # the facilitator enters for any role (hot-seat)
    ev = g.submit(C.propose("elterncafe", "SR13"), role="wohlfahrtsverband")
    assert ev.role == "wohlfahrtsverband" and ev.actor == "facilitator"


def test_phases_gate_commands_and_the_game_ends():
    g = _game()
    with pytest.raises(RuleViolation) as err:
        g.submit(C.propose("familienzentrum", "SR13"), "jugendamt")
    assert err.value.key == "game.rule.wrong_phase"
    seen = []
    while g.state.status != "ended":
        seen.append((g.state.round, g.state.phase))
        g.submit(C.advance())
    assert seen[:6] == [(1, p) for p in SHORT.phase_ids]
    assert seen[-1] == (2, "reflexion") and g.state.phase == "ende"
    with pytest.raises(RuleViolation) as err:
        g.submit(C.advance())
    assert err.value.key == "game.rule.game_over"
    assert len(g.state.history) == 1 + SHORT.rounds


def test_lock_blocks_players_not_the_facilitator():
    g = _game()
    g.submit(C.lock(True))
    with pytest.raises(RuleViolation) as err:
        g.submit(C.note("x"), "jugendamt")
    assert err.value.key == "game.rule.locked"
    g.submit(C.note("eingetragen"), role="jugendamt")
    g.submit(C.lock(False))
    g.submit(C.note("y"), "jugendamt")
    assert [n["text"] for n in g.state.notes] == ["eingetragen", "y"]


def test_cards_only_in_lage_once_and_within_the_round_limit():
    g = _game()
    ev = g.submit(C.draw_card())
    assert ev.payload["how"] == "random" and ev.payload["card"] in g.state.rules.cards
    with pytest.raises(RuleViolation) as err:
        g.submit(C.choose_card("neubaugebiet"))
    assert err.value.key == "game.rule.cards_exhausted"
    g.submit(C.advance())
    with pytest.raises(RuleViolation) as err:
        g.submit(C.draw_card())
    assert err.value.key == "game.rule.wrong_phase"


def test_choose_card_checks_round_and_reuse():
    g = _game()
    with pytest.raises(RuleViolation) as err:
        g.submit(C.choose_card("haushaltssperre"))
    assert err.value.key == "game.rule.card_not_this_round"
    with pytest.raises(RuleViolation) as err:
        g.submit(C.choose_card("gibtsnicht"))
    assert "neubaugebiet" in err.value.message("en")
    ev = g.submit(C.choose_card("neubaugebiet"))
    area = ev.payload["resolved"]["0"][0]
    a = g.state.world.area_index(area)
    k = g.state.world.indicator_index("kita_places_per_100")
    assert g.state.base[a, k] < g.state.world.values[a, k]  # the card changed the area
    assert g.state.children[a] == g.state.world.children[a] + 250


def test_undo_takes_back_the_last_event_and_equals_the_fold_without_it():
    g = _game()
    assert g.try_submit(C.undo()) is None  # nothing to undo yet
    g.submit(C.advance())
    g.submit(C.propose("familienzentrum", "SR13"), role="jugendamt")
    before = dumps(g.state.to_dict())
    g.submit(C.propose("elterncafe", "SR15"), role="wohlfahrtsverband")
    ev = g.submit(C.undo())
    assert ev.payload == {"target": 4, "target_type": "proposal_made"}
    assert "P2" not in g.state.proposals
    after = g.state.to_dict()
    assert after["proposals"] == json.loads(before)["proposals"]
    g.submit(C.undo())  # and the one before
    assert not g.state.proposals
    assert g.state == fold(g.events)
    assert g.state.version == 6 and g.state.undoable == [2]


def test_rewind_from_wirkung_undoes_the_decision():
    g = _game()
    g.submit(C.advance())
    g.submit(C.propose("familienzentrum", "SR13"), role="jugendamt")
    while g.state.phase != "beschluss":
        g.submit(C.advance())
    g.submit(C.vote({"P1": "yes"}), role="politik")
    snapshot = dumps(g.state.to_dict())
    g.submit(C.advance())
    assert g.state.phase == "wirkung" and g.state.measures
    decided = g.state.to_dict()
    g.submit(C.rewind())
    assert g.state.phase == "beschluss" and not g.state.measures
    now = g.state.to_dict()
    old = json.loads(snapshot)
    for key in ("funders", "proposals", "values", "history"):
        assert now[key] == old[key], key
    g.submit(C.advance())
    again = g.state.to_dict()
    for key in ("funders", "measures", "values", "history"):
        assert again[key] == decided[key], key
    assert g.state == fold(g.events)


def test_rotating_roles_moves_seats_and_keeps_them_in_their_new_role():
    g = _game()
    g.submit(C.rotate_roles(1))
    assert g.state.seat_roles == {
        "jugendamt": "politik",
        "politik": "wohlfahrtsverband",
        "wohlfahrtsverband": "jugendamt",
    }
    g.submit(C.advance())
    ev = g.submit(C.propose("familienzentrum", "SR13"), "wohlfahrtsverband")  # seat now plays JA
    assert ev.role == "jugendamt"
    with pytest.raises(NotYourRoleError):
        g.submit(C.note("x", role="wohlfahrtsverband"), "wohlfahrtsverband")
    with pytest.raises(RuleViolation) as err:
        g.submit(C.rotate_roles(1))
    assert err.value.key == "game.rule.rotate_phase"


def test_cofund_amend_withdraw_flow():
    g = _game()
    g.submit(C.advance())
    g.submit(
        C.propose("familienzentrum", "SR15", shares={"jugendamt": 0.7, "wohlfahrtsverband": 0.3}),
        role="jugendamt",
    )
    p = g.state.proposals["P1"]
    assert p.pledges == {"jugendamt": 0.7} and p.funded_share() == pytest.approx(0.7)
    with pytest.raises(RuleViolation) as err:
        g.submit(C.cofund("P1", 0.5), role="wohlfahrtsverband")
    assert err.value.key == "game.rule.overfunded"
    g.submit(C.cofund("P1"), role="wohlfahrtsverband")  # the share that was asked for
    assert p.funded_share() == pytest.approx(1.0) and "wohlfahrtsverband" in p.cosigners
    with pytest.raises(RuleViolation) as err:
        g.submit(C.amend("P1", area="SR13"), role="wohlfahrtsverband")
    assert err.value.key == "game.rule.not_lead"
    g.submit(C.amend("P1", area="SR13"), role="jugendamt")
    assert p.area == "SR13" and p.pledges == {"jugendamt": 0.7} and not p.cosigners
    g.submit(C.withdraw("P1"), role="jugendamt")
    assert p.status == "withdrawn" and R.pledged(g.state, "jugendamt") == 0
    with pytest.raises(RuleViolation) as err:
        g.submit(C.cosign("P1"), role="politik")
    assert err.value.key == "game.rule.proposal_closed"


def test_cofund_is_checked_against_the_budget_and_replaces_its_own_pledge():
    g = _game()
    g.submit(C.advance())
    g.submit(
        C.propose("familienzentrum", "SR15", shares={"jugendamt": 0.7, "wohlfahrtsverband": 0.3}),
        role="jugendamt",
    )
    g.submit(C.cofund("P1", 0.1), role="wohlfahrtsverband")
    g.submit(C.cofund("P1", 0.2), role="wohlfahrtsverband")  # replaces 0.1: not counted twice
    assert g.state.proposals["P1"].pledges["wohlfahrtsverband"] == pytest.approx(0.2)
    funder = g.state.funders["wohlfahrtsverband"]
    # leave exactly the current pledge available: the same share still fits, a larger one not
    funder.budget = (
        funder.spent + R.due(g.state, "wohlfahrtsverband") + R.pledged(g.state, "wohlfahrtsverband")
    )
    g.submit(C.cofund("P1", 0.2), role="wohlfahrtsverband")
    before = _fingerprint(g.state)
    with pytest.raises(RuleViolation) as err:
        g.submit(C.cofund("P1", 0.3), role="wohlfahrtsverband")
    assert err.value.key == "game.rule.budget"
    assert _fingerprint(g.state) == before  # a refusal appends nothing


def test_measures_need_children_in_the_area():
    g = _game()
    g.submit(C.advance())
    with pytest.raises(RuleViolation) as err:
        g.submit(C.propose("familienzentrum", "SR09"), role="jugendamt")  # Industriehafen
    assert err.value.key == "game.rule.area_too_small"
    assert "Industriehafen" in err.value.message("de")


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------
_KINDS = {
    "advance": 6,
    "propose": 8,
    "cosign": 3,
    "cofund": 5,
    "vote": 6,
    "amend": 1,
    "withdraw": 1,
    "stop_funding": 1,
    "take_over": 1,
    "note": 1,
    "rewind": 0.5,
    "draw_card": 1,
    "choose_card": 1,
    "undo": 0.5,
    "rotate_roles": 0.5,
    "lock": 0.5,
    "garbage": 0.5,
}


_PHASE_BOOST = {
    "lage": ("draw_card", "advance"),
    "planung": ("propose", "cofund"),
    "verhandlung": ("cofund", "cosign", "amend"),
    "beschluss": ("vote",),
    "wirkung": ("advance",),
    "reflexion": ("advance", "note"),
}


def _draw_command(rnd, state):
    """A command that is mostly sensible for the state (so games progress), sometimes not.

    ``rnd`` is a :class:`random.Random` seeded by hypothesis: a failing example
    is reproduced exactly from its seed and step count.
    """
    weights = dict(_KINDS)
    for k in _PHASE_BOOST.get(state.phase, ()):
        weights[k] *= 6
    if state.phase in ("planung", "verhandlung", "beschluss"):
        weights["advance"] = 2
    kind = rnd.choices(list(weights), weights=list(weights.values()))[0]
    rules, sc = state.rules, state.scenario
    roles = state.roles
    eligible = [a for a, ok in zip(state.world.area_ids, rules.eligible) if ok]
    open_ids = [p.id for p in state.open_proposals()]
    pids = [*open_ids, *state.proposals, "P99"]
    mids = [*state.measures, "P98"]
    sensible = rnd.random() < 0.85
    role = rnd.choice(roles)
    if kind == "propose":
        mandate = [m.id for m in sc.measures if m.kind in rules.roles[role].mandate]
        pool = mandate if sensible and mandate else [m.id for m in sc.measures] + ["x"]
        area = rnd.choice(eligible if sensible else [*state.world.area_ids, "SR99"])
        other = rnd.choice(roles)
        split = rnd.choice([1.0, 0.5, 0.7] if sensible else [0.0, 1.2, 0.4])
        shares = (
            {role: split} if split >= 1.0 or other == role else {role: split, other: 1.0 - split}
        )
        partners = [r for r in rnd.sample(roles, rnd.randint(0, 2)) if r != role]
        cmd = C.propose(rnd.choice(pool), area, shares=shares, partners=partners)
    elif kind == "cofund":
        asked = [
            (p.id, f)
            for p in state.open_proposals()
            for f in p.shares
            if f not in p.pledges and f in roles
        ]
        if sensible and asked:
            pid, role = rnd.choice(asked)
            cmd = C.cofund(pid)
        else:
            cmd = C.cofund(rnd.choice(pids), rnd.choice([None, 0.3, 1.0, -0.1]))
    elif kind == "vote":
        if sensible:
            role = rnd.choice([r for r in roles if rules.votes[r] > 0])
        choices = ["yes", "yes", "yes", "no", "abstain"] if sensible else ["vielleicht", "yes"]
        cmd = C.vote({p: rnd.choice(choices) for p in (open_ids or ["P99"])})
    elif kind in ("cosign", "withdraw"):
        cmd = C.Command(kind, {"proposal": rnd.choice(pids)})
    elif kind == "amend":
        cmd = C.amend(rnd.choice(pids), area=rnd.choice([None, *eligible[:5], "SR99"]))
    elif kind in ("stop_funding", "take_over"):
        cmd = C.Command(kind, {"measure": rnd.choice(mids)})
    elif kind == "note":
        cmd = C.note(rnd.choice(["gut", "", "x" * 5000]))
    elif kind == "choose_card":
        cmd = C.choose_card(rnd.choice([c.id for c in sc.cards]))
    elif kind == "rotate_roles":
        cmd = C.rotate_roles(rnd.randint(-2, 3))
    elif kind == "lock":
        cmd = C.lock(rnd.random() < 0.3)
    elif kind == "garbage":
        cmd = C.Command("propose", {"measure": 3, "area": None, "shares": "alles"})
    else:
        cmd = C.Command(kind)
    if kind in C.FACILITATOR_COMMANDS:
        return cmd, FACILITATOR
    # a player command: from the seat of the role, or hot-seat by the facilitator
    seats = {r: s for s, r in state.seat_roles.items()}
    if rnd.random() < 0.3:
        return cmd.with_(role=role), FACILITATOR
    return cmd, Actor(seat=seats[role])


def _play_random(data, sc, steps):
    rnd = random.Random(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    g = _game(sc, seed=rnd.randint(0, 2**16))
    for _ in range(steps):
        if g.state.status == "ended":
            break
        cmd, actor = _draw_command(rnd, g.state)
        version = g.state.version
        before = _fingerprint(g.state)
        try:
            ev = g.submit(cmd, actor)
        except RuleViolation as err:
            # refused with a reason, in both languages, and nothing changed
            assert err.message("de") and err.message("en") and err.key.startswith("game.rule.")
            assert g.state.version == version and len(g.events) == version
            assert _fingerprint(g.state) == before
        else:
            assert ev.version == version + 1 == g.state.version
        _check_budgets(g.state)
    return g


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_command_sequence_keeps_the_invariants(data):
    g = _play_random(data, SHORT, data.draw(st.integers(20, 150), label="steps"))
    # the state is the fold of its events — also after a JSON round trip of the log
    assert fold(g.events) == g.state
    assert fold(events_from_json(events_json(g.events))) == g.state


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_command_sequence_keeps_the_invariants_default_scenario(data):
    g = _play_random(data, DEFAULT, data.draw(st.integers(50, 250), label="steps"))
    assert fold(g.events) == g.state


@settings(max_examples=40, deadline=None)
@given(
    seat=st.sampled_from(SHORT.default_roles()),
    other=st.sampled_from(SHORT.default_roles()),
    kind=st.sampled_from(["note", "propose", "vote", "cosign"]),
    shift=st.integers(0, 2),
)
def test_a_seat_never_acts_for_another_role(seat, other, kind, shift):
    g = _game()
    if shift:
        g.submit(C.rotate_roles(shift))
    g.submit(C.advance())
    own = g.state.seat_roles[seat]
    cmd = {
        "note": C.note("hallo"),
        "propose": C.propose("familienzentrum", "SR13"),
        "vote": C.vote({"P1": "yes"}),
        "cosign": C.cosign("P1"),
    }[kind].with_(role=other)
    version = g.state.version
    if other != own:
        with pytest.raises(NotYourRoleError):
            g.submit(cmd, seat)
        assert g.state.version == version
    else:
        try:
            ev = g.submit(cmd, seat)
        except RuleViolation as err:  # allowed role, but maybe not allowed now
            assert not isinstance(err, NotYourRoleError)
        else:
            assert ev.role == own


def test_every_message_key_the_engine_uses_exists_in_both_languages():
    import re
    from pathlib import Path

    import k360lib.game
    from k360lib.i18n import catalog

    used = set()
    for path in Path(k360lib.game.__file__).parent.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""["'](game\.[a-z0-9_.]+[a-z0-9_])["']""", text))
        used |= {f"game.rule.{k}" for k in re.findall(r"""_refuse\(\s*["']([a-z_]+)["']""", text)}
    used |= {
        f"game.phase.{p}"
        for p in ("lage", "planung", "verhandlung", "beschluss", "wirkung", "reflexion", "ende")
    }
    missing = sorted(k for k in used if k not in catalog())
    assert not missing, missing
    for key in used:
        assert catalog()[key]["de"] and catalog()[key]["en"], key
    assert len(used) > 100
