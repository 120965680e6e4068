"""Scenario schema and loader: the shipped scenarios, and mistakes that name their path."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from k360lib.game.errors import ScenarioError
from k360lib.game.scenario import (
    PHASES,
    Scenario,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    scenario_dir,
)
from k360lib.game.world import World, build_world, world_for


@pytest.fixture(scope="module")
def default_text() -> str:
    return (scenario_dir() / "klausurtagung.yaml").read_text(encoding="utf-8")


def _edit(text: str, mutate) -> str:
    data = yaml.safe_load(text)
    mutate(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_default_scenario_has_what_the_issue_asks():
    sc = load_scenario("default")
    assert sc.rounds == 3
    assert sc.phase_ids == list(PHASES)
    assert len(sc.default_roles()) >= 6
    assert len(sc.measures) >= 15
    assert len(sc.cards) >= 12
    ids = {r.id for r in sc.roles}
    assert {
        "jugendamt",
        "gesundheitsamt",
        "schulverwaltung",
        "wohlfahrtsverband",
        "initiative",
    } <= ids
    assert sum(r.sector == "politik" for r in sc.roles) == 2
    assert sc.role("jugendbeirat").optional
    # every role card is complete in both languages
    for r in sc.roles:
        for text in (r.name, r.card.situation, r.card.logic, r.card.interests, r.goal.text):
            assert text.de and text.en and text.de != text.en, r.id
    for m in sc.measures:
        assert m.name.en and m.description.en, m.id
    for c in sc.cards:
        assert c.title.en and c.text.en, c.id


def test_short_scenario_is_three_roles_two_rounds():
    sc = load_scenario("kurz")
    assert sc.rounds == 2 and len(sc.default_roles()) == 3
    assert sum(p.minutes for p in sc.phases) * sc.rounds <= 60
    assert load_scenario("short") is sc


def test_builtin_names_resolve_and_unknown_names_are_listed():
    for name, path in builtin_scenarios().items():
        assert path.is_file(), name
    with pytest.raises(ScenarioError) as err:
        load_scenario("gibtsnicht")
    assert "default" in err.value.message("en") and "kurz" in err.value.message("de")


def test_world_need_score_equals_the_atlas_need_index():
    from k360lib.atlas.demo import demo_atlas
    from k360lib.atlas.indicators import need_index

    sc = load_scenario("default")
    world = world_for(sc)
    ni = need_index(demo_atlas(), dict(sc.need_index.weights))
    np.testing.assert_allclose(world.need_scores(), ni.table["score"].to_numpy(), equal_nan=True)
    # and the world survives its JSON form exactly
    again = World.from_dict(world.to_dict())
    assert again.hash == world.hash
    np.testing.assert_array_equal(again.values, world.values)


def test_negative_budget_names_the_path(default_text):
    bad = _edit(default_text, lambda d: d["roles"][2].__setitem__("budget", -5))
    with pytest.raises(ScenarioError) as err:
        parse_scenario(bad, file="mein.yaml")
    e = err.value
    assert e.path == "roles[2].budget"
    assert e.message("en").endswith("roles[2].budget: must be >= 0")
    assert "roles[2].budget: muss ≥ 0 sein" in e.message("de")
    assert "mein.yaml" in e.message("de") and "Zeile" in e.message("de")
    assert e.issues[0].line is not None


def test_unknown_role_in_a_measures_lead_and_partner_rules(default_text):
    def mutate(d):
        d["measures"][3]["lead"] = ["jugendamtt"]
        d["measures"][4]["partners"] = ["gesundheitsamt", "niemand"]

    with pytest.raises(ScenarioError) as err:
        parse_scenario(_edit(default_text, mutate))
    paths = [i.path for i in err.value.issues]
    assert "measures[3].lead[0]" in paths and "measures[4].partners[1]" in paths
    text = " ".join(err.value.messages("en"))
    assert "unknown role 'jugendamtt'" in text and "unknown role 'niemand'" in text
    assert "unbekannte Rolle „jugendamtt“" in " ".join(err.value.messages("de"))


def test_missing_and_misordered_phases(default_text):
    bad = _edit(default_text, lambda d: d["phases"].pop(3))  # beschluss
    with pytest.raises(ScenarioError) as err:
        parse_scenario(bad)
    assert err.value.path == "phases"
    assert "required phase 'beschluss' is missing" in err.value.message("en")

    def swap(d):
        d["phases"][1], d["phases"][2] = d["phases"][2], d["phases"][1]

    with pytest.raises(ScenarioError) as err:
        parse_scenario(_edit(default_text, swap))
    assert "wrong order" in err.value.message("en")


def test_short_games_may_leave_out_optional_phases(default_text):
    text = _edit(
        default_text, lambda d: d.__setitem__("phases", ["lage", "planung", "beschluss", "wirkung"])
    )
    assert parse_scenario(text).phase_ids == ["lage", "planung", "beschluss", "wirkung"]


def test_malformed_yaml_gives_line_and_column():
    text = "id: test\nrounds: 3\nroles:\n  - id: a\n    budget: [1, 2\n  - id: b\n"
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, file="kaputt.yaml")
    issue = err.value.issues[0]
    assert issue.key == "game.scenario.yaml"
    assert issue.line is not None and issue.line >= 5 and issue.column is not None
    msg = err.value.message("de")
    assert msg.startswith("Datei „kaputt.yaml“, Zeile") and "Kein gültiges YAML" in msg
    assert "line" in err.value.message("en")


def test_not_a_mapping():
    with pytest.raises(ScenarioError, match="mapping|Zuordnung"):
        parse_scenario("- 1\n- 2\n")


@pytest.mark.parametrize(
    ("mutate", "path", "en"),
    [
        (lambda d: d["roles"][0].__setitem__("budgt", 3), "roles[0].budgt", "unknown field"),
        (lambda d: d["roles"][1].pop("sector"), "roles[1].sector", "required field"),
        (lambda d: d["measures"][0].__setitem__("cost", "viel"), "measures[0].cost", "number"),
        (
            lambda d: d["measures"][0].__setitem__("id", "Familien Zentrum"),
            "measures[0].id",
            "invalid id",
        ),
        (
            lambda d: d["roles"][0]["mandate"].append("raumfahrt"),
            "roles[0].mandate[10]",
            "unknown measure kind",
        ),
        (
            lambda d: d["cards"][0]["effects"][0].__setitem__("type", "wunder"),
            "cards[0].effects[0]",
            "type",
        ),
        (
            lambda d: d["cards"][0]["effects"][0].__setitem__("sectors", ["mond"]),
            "cards[0].effects[0].sectors[0]",
            "unknown sector",
        ),
        (lambda d: d["roles"].append(dict(d["roles"][0])), "roles[8].id", "more than once"),
        (lambda d: d["committee"].__setitem__("tie", "coin"), "committee.tie", "invalid value"),
        (lambda d: d.__setitem__("rounds", 0), "rounds", "must be >= 1"),
    ],
)
def test_schema_mistakes_name_their_path(default_text, mutate, path, en):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(_edit(default_text, mutate))
    issue = next((i for i in err.value.issues if i.path == path), None)
    assert issue is not None, [i.path for i in err.value.issues]
    assert en in issue.message("en")
    assert issue.message("de") != issue.message("en")


def test_unknown_indicator_or_area_is_found_against_the_atlas(default_text):
    from k360lib.atlas.demo import demo_atlas

    def mutate(d):
        d["measures"][0]["effects"]["sprachfoerderung"] = -1.0
        d["roles"][3]["focus"]["districts"] = ["SB9"]

    sc = parse_scenario(_edit(default_text, mutate))  # the schema alone is fine
    with pytest.raises(ScenarioError) as err:
        build_world(demo_atlas(), sc)
    paths = {i.path for i in err.value.issues}
    assert "measures[0].effects.sprachfoerderung" in paths
    assert "roles[3].focus.districts[0]" in paths
    assert "language_support" in err.value.message("en")  # lists what exists


def test_texts_accept_plain_strings_and_fall_back_to_german(default_text):
    sc = parse_scenario(_edit(default_text, lambda d: d.__setitem__("title", "Nur Deutsch")))
    assert sc.title.get("en") == "Nur Deutsch"
    assert sc.title.get("de") == "Nur Deutsch"


def test_scenario_round_trips_through_its_dict():
    sc = load_scenario("default")
    again = Scenario.from_dict(sc.to_dict())
    assert again.hash == sc.hash and again.to_dict() == sc.to_dict()


def test_explain_text_in_both_languages_with_the_scenarios_numbers():
    from k360lib.game.rules import explain

    sc = load_scenario("default")
    de, en = explain("de", sc), explain("en", sc)
    for word in (
        "Zielgenauigkeit",
        "Kooperation",
        "Nebeneinander",
        "Anlauf",
        "Vertrauen",
        "Gerechtigkeitslücke",
    ):
        assert word in de
    for word in ("Targeting", "Cooperation", "Side by side", "Ramp-up", "trust", "Equity gap"):
        assert word in en
    assert "1 + 0,5 × Bedarfsindex" in de and "1 + 0.5 × the area's need index" in en
    assert not re.search(r"{\w+}", de + en)  # every placeholder was filled
