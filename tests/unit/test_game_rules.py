"""The rules: factors of the impact model, the vote and its tie rule, budgets, trust, scoring,
and the learning point (cooperation beats silos) emerging from them over 200 seeds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from k360lib.game import commands as C
from k360lib.game import rules as R
from k360lib.game.engine import Game
from k360lib.game.errors import RuleViolation
from k360lib.game.scenario import Scenario, load_scenario
from k360lib.game.world import world_for


@pytest.fixture(scope="module")
def sc():
    return load_scenario("default")


@pytest.fixture(scope="module")
def world(sc):
    return world_for(sc)


def _game(sc, world, seed=1) -> Game:
    g = Game.create(sc, seed=seed, world=world)
    g.submit(C.advance())  # lage -> planung, no card
    return g


def _to_decision(g: Game, ballots: str = "yes") -> None:
    """From planung/verhandlung: everybody with votes votes ``ballots`` on all open proposals."""
    while g.state.phase != "beschluss":
        g.submit(C.advance())
    ids = [p.id for p in g.state.open_proposals()]
    if ids:
        for r in g.state.roles:
            if g.state.rules.votes[r] > 0:
                g.submit(C.vote({pid: ballots for pid in ids}), role=r)
    g.submit(C.advance())  # -> wirkung: decision + impact


def _col(world, ind):
    return world.indicator_index(ind)


def test_targeting_and_cooperation_factors(sc):
    p = sc.model
    assert R.targeting_factor(0.0, p) == 1.0
    assert R.targeting_factor(1.0, p) == pytest.approx(1.5)
    assert R.targeting_factor(10.0, p) == p.targeting_max
    assert R.targeting_factor(-10.0, p) == p.targeting_min
    assert R.targeting_factor(float("nan"), p) == 1.0
    assert R.cooperation_factor(1, p) == 1.0
    assert R.cooperation_factor(3, p) == pytest.approx(1.5)
    assert R.cooperation_factor(9, p) == p.cooperation_max
    assert R.ramp_factor(0, 1, 2) == 0.0 and R.ramp_factor(1, 1, 2) == 0.5
    assert R.ramp_factor(2, 1, 2) == 1.0 and R.ramp_factor(5, 0, 2) == 1.0


def test_equity_gap_is_top_minus_bottom_quartile():
    need = np.array([3.0, 2.0, 1.0, 0.0, -1.0, -2.0, -3.0, np.nan])
    # 7 scored areas, 25 % → 1 area each side
    assert R.equity_gap(need, 0.25) == pytest.approx(6.0)
    assert R.equity_gap(np.array([1.0]), 0.25) == 0.0


def test_a_measure_works_more_where_need_is_higher(sc, world):
    j = _col(world, "language_support")
    need = world.need_scores()
    high, low = "SR13", "SR19"
    assert need[world.area_index(high)] > need[world.area_index(low)]
    out = {}
    for area in (high, low):
        g = _game(sc, world)
        g.submit(C.propose("sprachkita", area), role="jugendamt")
        _to_decision(g)
        out[area] = g.state.contrib[world.area_index(area), j]
    assert out[high] < out[low] < 0  # both lower the need, the high-need area more
    expected = R.targeting_factor(need[world.area_index(high)], sc.model) / R.targeting_factor(
        need[world.area_index(low)], sc.model
    )
    assert out[high] / out[low] == pytest.approx(expected)


def test_cooperation_across_sectors_raises_the_effect(sc, world):
    j = _col(world, "language_support")
    a = world.area_index("SR15")
    alone = _game(sc, world)
    alone.submit(C.propose("sprachkita", "SR15"), role="wohlfahrtsverband")
    _to_decision(alone)
    joint = _game(sc, world)
    joint.submit(
        C.propose("sprachkita", "SR15", partners=["gesundheitsamt", "schulverwaltung"]),
        role="wohlfahrtsverband",
    )
    joint.submit(C.cosign("P1"), role="gesundheitsamt")
    joint.submit(C.cosign("P1"), role="schulverwaltung")
    joint.submit(C.cosign("P1"), role="fraktion_sozial")  # politics does not count as a sector
    _to_decision(joint)
    ratio = joint.state.contrib[a, j] / alone.state.contrib[a, j]
    assert ratio == pytest.approx(R.cooperation_factor(3, sc.model))


def test_uncoordinated_measures_of_one_kind_crowd_each_other_out(sc, world):
    j = _col(world, "language_support")
    a = world.area_index("SR13")

    def play(partner: bool, coordination: bool):
        g = _game(sc, world)
        g.submit(C.propose("sprachkita", "SR13"), role="jugendamt")
        g.submit(C.propose("sprachkita", "SR13"), role="wohlfahrtsverband")
        if partner:
            g.submit(C.cosign("P2"), role="jugendamt")
        if coordination:
            g.submit(C.propose("praeventionskette", "SR13"), role="jugendamt")
        _to_decision(g)
        m = sc.measure("sprachkita").effects["language_support"]
        tf = R.targeting_factor(world.need_scores()[a], sc.model)
        ramp = R.ramp_factor(0, 0, sc.model.ramp_years)  # first year: half strength
        return g.state.contrib[a, j] / (m * tf * ramp)  # sum of the two measures' factors

    assert play(False, False) == pytest.approx(1.0 + sc.model.crowding)  # side by side
    coop2 = R.cooperation_factor(2, sc.model)  # jugendhilfe + traeger
    assert play(True, False) == pytest.approx(1.0 + coop2)  # shared role: coordinated
    assert play(False, True) == pytest.approx(2.0, abs=0.05)  # Präventionskette coordinates


def test_structural_measures_work_only_after_their_delay(sc, world):
    j = _col(world, "kita_places_per_100")
    a = world.area_index("SR15")
    g = _game(sc, world)
    g.submit(
        C.propose("kita_neubau", "SR15", shares={"jugendamt": 0.6, "schulverwaltung": 0.4}),
        role="jugendamt",
    )
    g.submit(C.cofund("P1"), role="schulverwaltung")
    _to_decision(g)
    assert g.state.measures["P1"].status == "active"
    assert g.state.contrib[a, j] == 0.0  # round 1: built, not yet open
    while g.state.round == 1:
        g.submit(C.advance())
    _to_decision(g)
    first = g.state.contrib[a, j]
    assert first > 0  # round 2: half strength (ramp-up)
    while g.state.round == 2:
        g.submit(C.advance())
    _to_decision(g)
    assert g.state.contrib[a, j] == pytest.approx(2 * first)  # round 3: full strength


def test_stopping_funding_costs_provider_trust_and_the_effect(sc, world):
    j = _col(world, "hze_per_1000")
    a = world.area_index("SR03")
    g = _game(sc, world)
    g.submit(C.propose("jugendtreff", "SR03", shares={"jugendamt": 1.0}), role="wohlfahrtsverband")
    g.submit(C.cofund("P1"), role="jugendamt")
    g.submit(C.propose("erziehungsberatung", "SR13"), role="wohlfahrtsverband")
    _to_decision(g)
    assert g.state.contrib[a, j] < 0
    before = g.state.funders["wohlfahrtsverband"].trust
    while g.state.phase != "planung":
        g.submit(C.advance())
    with pytest.raises(RuleViolation) as err:
        g.submit(C.stop_funding("P1"), role="schulverwaltung")  # not a funder
    assert err.value.key == "game.rule.not_funder"
    g.submit(C.stop_funding("P1"), role="jugendamt")
    assert g.state.measures["P1"].status == "stopped"
    after = g.state.funders["wohlfahrtsverband"].trust
    assert after == pytest.approx(before - sc.model.trust_loss)
    _to_decision(g)
    assert g.state.contrib[a, j] == 0.0  # the effect is gone
    # the provider's other measure now works with less trust
    b = world.area_index("SR13")
    floor = sc.model.trust_floor
    eff = sc.measure("erziehungsberatung").effects["hze_per_1000"]
    tf = R.targeting_factor(world.need_scores()[b], sc.model)
    assert g.state.contrib[b, j] == pytest.approx(eff * tf * (floor + (1 - floor) * after))


def test_vote_weights_and_the_tie_rule(sc, world):
    g = _game(sc, world)
    g.submit(C.propose("sprachkita", "SR13"), role="jugendamt")
    while g.state.phase != "beschluss":
        g.submit(C.advance())
    g.submit(C.vote({"P1": "yes"}), role="fraktion_sozial")  # 3
    g.submit(C.vote({"P1": "no"}), role="fraktion_buerger")  # 3
    g.submit(C.vote({"P1": "abstain"}), role="wohlfahrtsverband")  # 2, does not count
    res = R.tally(g.state, g.state.proposals["P1"])
    assert (res["yes"], res["no"], res["abstain"], res["tie"]) == (3, 3, 2, True)
    assert res["passed"] is False  # tie: rejected
    g.submit(C.vote({"P1": "yes"}), role="initiative")  # 1 more: 4 : 3
    assert R.tally(g.state, g.state.proposals["P1"])["passed"] is True

    # with tie: chair, the chair's vote decides
    data = json.loads(json.dumps(sc.to_dict()))
    data["committee"].update(tie="chair", chair="fraktion_buerger")
    chair = Scenario.from_dict(data)
    g2 = Game.create(chair, seed=1, world=world)
    g2.submit(C.advance())
    g2.submit(C.propose("sprachkita", "SR13"), role="jugendamt")
    while g2.state.phase != "beschluss":
        g2.submit(C.advance())
    g2.submit(C.vote({"P1": "yes"}), role="fraktion_sozial")
    g2.submit(C.vote({"P1": "no"}), role="fraktion_buerger")
    assert R.tally(g2.state, g2.state.proposals["P1"])["passed"] is False
    g2.submit(C.vote({"P1": "abstain"}), role="fraktion_buerger")
    g2.submit(C.vote({"P1": "no"}), role="wohlfahrtsverband")
    g2.submit(C.vote({"P1": "yes"}), role="initiative")
    # 4 yes : 2 no — no tie; and the administration has no vote at all
    assert R.tally(g2.state, g2.state.proposals["P1"])["passed"] is True
    with pytest.raises(RuleViolation, match="vote|Stimmrecht"):
        g2.submit(C.vote({"P1": "yes"}), role="jugendamt")


def test_budget_follow_up_costs_and_staff_are_checked(sc, world):
    g = _game(sc, world)
    # the initiative has 15 T€: a Jugendtreff (170 in the first year) is too dear
    with pytest.raises(RuleViolation) as err:
        g.submit(C.propose("jugendtreff", "SR03"), role="initiative")
    assert "initiative" in err.value.message("en") and "T€" in err.value.message("en")
    # staff: the Jugendamt has 3 FTE: a family centre (2) and a language day-care (1) fit
    g.submit(C.propose("familienzentrum", "SR13"), role="jugendamt")
    g.submit(C.propose("sprachkita", "SR15"), role="jugendamt")
    with pytest.raises(RuleViolation) as err:
        g.submit(C.propose("babylotsen", "SR03"), role="jugendamt")
    assert err.value.key == "game.rule.staff"
    assert "3 FTE" in err.value.message("en")
    # follow-up costs: running commitments may not exceed the yearly budget
    g2 = _game(sc, world)
    for area in ("SR13", "SR15", "SR03"):
        g2.submit(
            C.propose("jugendtreff", area, shares={"jugendamt": 1.0}), role="wohlfahrtsverband"
        )
        g2.submit(C.cofund(f"P{len(g2.state.proposals)}"), role="jugendamt")
    assert R.running_commitments(g2.state, "jugendamt") == pytest.approx(270)
    g2.submit(
        C.propose("familienzentrum", "SR16", shares={"jugendamt": 1.0}), role="wohlfahrtsverband"
    )
    with pytest.raises(RuleViolation) as err:
        g2.submit(C.cofund("P4"), role="jugendamt")  # 200 needed, 520 − 3 × 170 = 10 left
    assert err.value.key in ("game.rule.budget", "game.rule.follow_up")


def test_a_funding_programme_pays_only_under_its_conditions(sc, world):
    g = Game.create(sc, seed=1, world=world)
    g.submit(C.choose_card("bundesprogramm_sprache"))
    g.submit(C.advance())
    assert g.state.funders["bund_sprache"].budget == 120
    with pytest.raises(RuleViolation, match="only funds|fördert nur"):
        g.submit(
            C.propose("jugendtreff", "SR13", shares={"jugendamt": 0.5, "bund_sprache": 0.5}),
            role="jugendamt",
        )
    with pytest.raises(RuleViolation, match="at most 50|höchstens 50"):
        g.submit(
            C.propose("sprachkita", "SR13", shares={"jugendamt": 0.3, "bund_sprache": 0.7}),
            role="jugendamt",
        )
    with pytest.raises(RuleViolation, match="highest need|höchsten Bedarf"):
        g.submit(
            C.propose("sprachkita", "SR19", shares={"jugendamt": 0.5, "bund_sprache": 0.5}),
            role="jugendamt",
        )
    # alone (one sector): passes the vote, but the programme refuses at the decision
    g.submit(
        C.propose("sprachkita", "SR13", shares={"jugendamt": 0.5, "bund_sprache": 0.5}),
        role="jugendamt",
    )
    # with a provider as co-signer (two sectors): funded
    g.submit(
        C.propose("sprachkita", "SR15", shares={"jugendamt": 0.5, "bund_sprache": 0.5}),
        role="jugendamt",
    )
    g.submit(C.cosign("P2"), role="wohlfahrtsverband")
    _to_decision(g)
    p1, p2 = g.state.proposals["P1"], g.state.proposals["P2"]
    assert p1.status == "unfunded" and p1.result["reason"] == "game.rule.programme_sectors"
    assert p2.status == "approved"
    assert g.state.funders["bund_sprache"].spent == pytest.approx(0.5 * 80)
    assert g.state.funders["jugendamt"].spent == pytest.approx(0.5 * 80)


def test_same_seed_same_game_and_logged_draws(sc, world):
    from k360lib.game.bots import play_game

    a = play_game(sc, "random", seed=42, world=world)
    b = play_game(sc, "random", seed=42, world=world)
    assert [e.to_dict() for e in a.events] == [e.to_dict() for e in b.events]
    assert a.state == b.state
    draws = [e for e in a.events if e.type == "card_drawn"]
    assert len(draws) == sc.rounds and all(e.payload["card"] for e in draws)
    c = play_game(sc, "random", seed=43, world=world)
    assert [e.payload for e in c.events] != [e.payload for e in a.events]


def test_learning_point_cooperation_beats_silos_over_200_seeds(sc, record_property, capsys):
    """The learning point emerges from the rules: same scenario, same seeds, only the bots differ."""
    from k360lib.game.bots import simulate

    n = 200
    coop = simulate(sc, "cooperative", n=n, jobs=1)
    silo = simulate(sc, "siloed", n=n, jobs=1)
    last = sc.rounds
    c = coop[coop["round"] == last].set_index("seed")
    s = silo[silo["round"] == last].set_index("seed")
    assert len(c) == len(s) == n
    cols = ["shared_score", "need_mean", "equity_gap", "reach", "started"]
    summary = {
        "cooperative": c[cols].describe().round(4).to_dict(),
        "siloed": s[cols].describe().round(4).to_dict(),
    }
    with capsys.disabled():
        print("\nlearning point over", n, "seeds (final round)")
        print("cooperative\n", c[cols].describe().round(3).to_string())
        print("siloed\n", s[cols].describe().round(3).to_string())
    record_property("learning_point", json.dumps(summary))

    # a clearly better shared outcome ...
    diff = c["shared_score"] - s["shared_score"]
    pooled = np.sqrt((c["shared_score"].var() + s["shared_score"].var()) / 2)
    assert diff.mean() > 3 * pooled
    assert (diff > 0).mean() >= 0.95
    # ... and a smaller equity gap, seed by seed
    gap = s["equity_gap"] - c["equity_gap"]
    assert gap.mean() > 0
    assert (gap > 0).mean() >= 0.95
    assert c["need_mean"].mean() < s["need_mean"].mean()
