"""Bots play whole games of both scenarios; the batch runner; exports; the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from k360lib.game import export as X
from k360lib.game.bots import STRATEGIES, play_game, simulate
from k360lib.game.events import Event
from k360lib.game.scenario import load_scenario
from k360lib.game.state import fold


@pytest.mark.parametrize("scenario", ["default", "kurz"])
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_bots_play_whole_games(scenario, strategy):
    sc = load_scenario(scenario)
    for seed in range(3):
        g = play_game(sc, strategy, seed=seed)
        s = g.state
        assert s.status == "ended" and s.round == sc.rounds
        assert [h["round"] for h in s.history] == list(range(sc.rounds + 1))
        assert sum(e.type == "card_drawn" for e in g.events) == sc.rounds * sc.cards_per_round
        assert g.replay() == s
        for f in s.funders.values():
            assert f.budget >= 0 and f.spent <= f.budget + 1e-6


def test_cooperative_bots_plan_together():
    g = play_game("default", "cooperative", seed=5)
    started = list(g.state.measures.values())
    assert len(started) >= 10
    joint = [
        m
        for m in started
        if len({g.state.rules.sector[r] for r in m.roles if r in g.state.rules.sector}) >= 2
    ]
    assert len(joint) >= len(started) // 2
    # never two measures of one kind in one area side by side
    keys = [(m.area, m.kind) for m in started]
    assert len(keys) == len(set(keys))


def test_mixed_strategies_and_bad_names():
    g = play_game("kurz", "jugendamt=cooperative,*=siloed", seed=2)
    assert g.state.status == "ended"
    with pytest.raises(ValueError, match="valid: random, cooperative, siloed"):
        play_game("kurz", "chaotisch")
    with pytest.raises(ValueError, match="unknown roles"):
        play_game("kurz", {"bundeskanzler": "random"})


def test_optional_role_plays_when_chosen():
    g = play_game("default", "cooperative", seed=1, optional_roles=["jugendbeirat"])
    assert "jugendbeirat" in g.state.roles and g.state.status == "ended"


def test_simulate_returns_a_tidy_frame():
    df = simulate("kurz", "siloed", n=6, seed=10, jobs=1)
    assert list(df.columns[:4]) == ["game", "seed", "bots", "round"]
    assert len(df) == 6 * 3  # base year + 2 rounds
    assert sorted(df["seed"].unique()) == list(range(10, 16))
    assert {"shared_score", "need_mean", "equity_gap", "reach", "goal.jugendamt"} <= set(df.columns)
    assert df.loc[df["round"] == 0, "shared_score"].eq(0).all()
    again = simulate("kurz", "siloed", n=6, seed=10, jobs=2)
    pd.testing.assert_frame_equal(df, again)  # parallel runs give the same rows


def test_exports(tmp_path):
    g = play_game("kurz", "cooperative", seed=4, notes=True)
    s = g.state
    # events JSON round-trips to the same state
    text = X.events_json(g.events, tmp_path / "events.json")
    assert json.loads(text)[0]["type"] == "game_created"
    assert fold(X.events_from_json(tmp_path / "events.json")) == s
    assert fold(X.events_from_json(text)) == s
    # long: round, role, field, value
    long = X.long_table(s)
    assert list(long.columns) == ["game_id", "round", "role", "field", "value"]
    assert set(long["role"]) == {"shared", *s.roles}
    assert set(long.loc[long["role"] == "shared", "field"]) == set(X.SHARED_FIELDS)
    # wide: round.role.field headers
    wide = X.wide_table(s)
    assert len(wide) == 1
    assert "2.jugendamt.spent" in wide.columns and "2.shared.equity_gap" in wide.columns
    assert wide.loc[0, "2.shared.shared_score"] == pytest.approx(s.history[-1]["shared_score"])
    assert wide.loc[0, "1.wohlfahrtsverband.proposals"] == sum(
        p.round == 1 and p.lead == "wohlfahrtsverband" for p in s.proposals.values()
    )
    areas = X.area_table(s)
    assert len(areas) == (s.round + 1) * s.world.n_areas
    assert not X.proposals_table(s).empty and not X.measures_table(s).empty
    assert len(X.notes_table(s)) == len(s.notes) > 0
    # the workbook
    path = X.to_xlsx(s, tmp_path / "spiel.xlsx", lang="de")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == [
        "Ergebnis",
        "Runden",
        "Sozialräume",
        "Anträge",
        "Maßnahmen",
        "Notizen",
        "Ereignisse",
    ]
    assert len(sheets["Ereignisse"]) == len(g.events)
    en = pd.read_excel(X.to_xlsx(s, tmp_path / "game.xlsx", lang="en"), sheet_name=None)
    assert "Proposals" in en


def test_event_dict_round_trip():
    g = play_game("kurz", "random", seed=1)
    for e in g.events[:20]:
        assert Event.from_dict(json.loads(json.dumps(e.to_dict()))) == e


def test_cli_simulate_check_explain(tmp_path, capsys):
    from k360lib.cli import main

    out = tmp_path / "runs.csv"
    assert (
        main(
            [
                "game",
                "simulate",
                "--scenario",
                "kurz",
                "--bots",
                "cooperative",
                "--n",
                "4",
                "--jobs",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "shared_score" in text and out.exists()
    assert len(pd.read_csv(out)) == 4 * 3
    assert main(["--lang", "en", "game", "check", "kurz"]) == 0
    assert "Scenario OK" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nrounds: -1\n", encoding="utf-8")
    assert main(["--lang", "en", "game", "check", str(bad)]) == 1
    text = capsys.readouterr().out
    assert "rounds: must be >= 1" in text and "bad.yaml" in text
    assert main(["--lang", "de", "game", "explain", "--scenario", "kurz"]) == 0
    assert "Zielgenauigkeit" in capsys.readouterr().out


def test_cli_export_of_a_stored_game(tmp_path, capsys):
    from k360lib.cli import main
    from k360lib.game import commands as C
    from k360lib.game.session import create_game, join
    from k360lib.game.store import open_store

    db = tmp_path / "games.sqlite3"
    store = open_store(db)
    codes = create_game(store, "kurz", seed=3)
    boss = join(store, codes.game_code, codes.facilitator)
    boss.submit(C.draw_card())
    store.close()
    assert (
        main(
            [
                "game",
                "export",
                "--store",
                str(db),
                "--game",
                codes.game_code,
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 0
    )
    assert (tmp_path / "x" / f"{codes.game_id}.xlsx").exists()
    assert len(X.events_from_json(tmp_path / "x" / f"{codes.game_id}_events.json")) == 2


def test_xlsx_keeps_player_text_that_looks_like_a_formula_as_text(tmp_path):
    from openpyxl import load_workbook

    from k360lib.game import Game
    from k360lib.game import commands as C
    from k360lib.game import export as X

    game = Game.create("kurz", seed=1)
    game.submit(C.note('=HYPERLINK("http://evil.example","klick")'), role="jugendamt")
    path = X.to_xlsx(game.state, tmp_path / "spiel.xlsx", lang="de")
    cells = [c for ws in load_workbook(path) for row in ws.iter_rows() for c in row]
    texts = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert texts, "the note must be in the workbook"
    assert all(c.data_type == "s" for c in texts)


def test_cli_accepts_lang_after_the_subcommand(capsys):
    from k360lib.cli import main

    assert main(["game", "check", "kurz", "--lang", "en"]) == 0
    assert "Scenario OK" in capsys.readouterr().out
    assert main(["--lang", "en", "game", "check", "kurz", "--lang", "de"]) == 0  # the later wins
    assert "Scenario OK" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["check", "--lang", "fr"])
