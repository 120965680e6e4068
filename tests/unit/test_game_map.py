"""The game map: fills by need with classes fixed from the base year, markers, the live channel."""

from __future__ import annotations

import html
import json
import re

import pytest

from k360lib.game import Game
from k360lib.game import commands as C
from k360lib.game.session import create_game, join
from k360lib.game.store import open_store
from k360lib.game.world import World
from k360lib.widgets.game_map import FRAME_CLASS, NEED, GameMap, map_state


@pytest.fixture
def session(tmp_path):
    store = open_store(tmp_path / "games.sqlite3")
    codes = create_game(store, "kurz", seed=4)
    boss = join(store, codes.game_code, codes.facilitator)
    player = join(store, codes.game_code, codes.seats["jugendamt"])
    yield boss, player
    store.close()


def channel_json(widget_value: str) -> dict:
    body = re.search(r">(.*)</script>$", widget_value, re.S).group(1)
    return json.loads(body)


def test_fills_follow_need_with_classes_fixed_from_the_base_year():
    game = Game.create("kurz", seed=1)
    st = game.state
    before = map_state(st, "de")
    need = st.need()
    worst = int(need.argmax())
    assert before["s"][worst] == 4  # the neediest area is in the darkest class
    assert before["r"][worst] == 1
    assert before["data"]["classes"] == 5 and before["data"]["indicator"] == NEED
    # measures lower the need of the neediest area to the city's best level
    st.values[worst] = st.values[int(need.argmin())]
    st._need_cache = None
    after = map_state(st, "de")
    assert after["s"][worst] == 0  # lighter: the classes were not recomputed
    assert after["legend"] == before["legend"]  # same breaks, same legend
    assert after["v"][worst] != before["v"][worst]


def test_indicator_fills_use_units_german_numbers_and_show_missing_values():
    game = Game.create("kurz", seed=1)
    st = game.state
    j = st.world.indicator_index("sgb2_u15_rate")
    st.values[3, j] = float("nan")
    de = map_state(st, "de", indicator="sgb2_u15_rate")
    en = map_state(st, "en", indicator="sgb2_u15_rate")
    assert de["v"][3] == "keine Daten" and en["v"][3] == "no data"
    assert de["styles"][de["s"][3]]["cls"] == "k360-missing"
    assert de["r"][3] == 0
    shown = next(v for v in de["v"] if v != "keine Daten")
    assert shown.endswith("\u00a0%") and "," in shown
    assert "." in next(v for v in en["v"] if v != "no data")
    assert "SGB-II" in de["label"]


def test_hostile_area_names_travel_as_data_never_as_markup(session):
    boss, _ = session
    data = boss.state.world.to_dict()
    data["names"][0] = "<img src=x onerror=alert(1)>"
    world = World.from_dict(data)
    game = Game.create("kurz", seed=2, world=world)
    game.submit(C.draw_card())
    game.submit(C.advance())
    area = world.area_ids[0]
    game.submit(
        C.propose("familienzentrum", world.area_ids[15], note="<script>x</script>"),
        role="jugendamt",
    )
    gm = GameMap(game.state, "de", document="<html><body></body></html>")
    items = gm.items()
    assert items and all("<script>" not in json.dumps(i) for i in items)
    raw = gm._game_w.value + gm._state_w.value
    assert "<img" not in raw and "<script>x" not in raw  # escaped inside the JSON script element
    fills = map_state(game.state, "de", selected=area)
    assert fills["sel"] == 0


def test_live_channel_sends_only_what_changed(session):
    boss, player = session
    gm = GameMap(player, "de")
    assert gm.has_map
    frame = gm._frame.value
    assert f'class="{FRAME_CLASS}"' in frame and f'data-k360-channel="{gm.channel}"' in frame
    assert "allow-same-origin" in frame and "srcdoc=" in frame
    srcdoc = html.unescape(frame.split('srcdoc="', 1)[1])
    assert "k360map.init(" in srcdoc and 'data-k360-asset="game_js"' in srcdoc
    state_seq = channel_json(gm._state_w.value)["seq"]
    assert gm.update(player.state) is False  # nothing new: nothing sent
    boss.submit(C.draw_card())
    boss.submit(C.advance())
    player.poll()
    player.submit(C.propose("familienzentrum", "SR15"))
    assert gm.update(player.state) is True
    game = channel_json(gm._game_w.value)
    assert [(i["id"], i["kind"], i["label"]) for i in game["items"]] == [("P1", "own", "P1")]
    assert game["items"][0]["a"] == player.state.world.area_index("SR15")
    # the facilitator's map of the same game: the proposal is another role's
    other = GameMap(boss.state, "de", document=gm._document)
    assert [i["kind"] for i in other.items(boss.state)] == []  # boss has not polled yet
    boss.poll()
    assert [i["kind"] for i in other.items(boss.state)] == ["other"]
    assert other.channel != gm.channel
    gm.set_indicator("language_support")
    fills = channel_json(gm._state_w.value)
    assert fills["seq"] > state_seq and fills["data"]["indicator"] == "language_support"
    gm.select("SR15")
    assert channel_json(gm._state_w.value)["sel"] == player.state.world.area_index("SR15")


def test_snapshot_document_bakes_in_fills_and_markers(session):
    boss, player = session
    boss.submit(C.draw_card())
    boss.submit(C.advance())
    player.poll()
    player.submit(C.propose("familienzentrum", "SR15", note="</script><b>x</b>"))
    gm = GameMap(player, "en")
    doc = gm.snapshot_document()
    assert doc.rstrip().endswith("</html>")
    tail = doc[doc.rfind("window.k360game.initial=") :]
    assert '"id":"P1"' in tail and "</script><b>" not in tail
    assert '"legend":' in tail


def _legend_texts(gm) -> list[str]:
    return [html.unescape(x) for x in re.findall(r"</span>([^<]+)</span>", gm._legend.value)]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_map_without_a_role_has_a_neutral_legend_and_one_proposal_colour(session, lang):
    from k360lib.i18n import t

    boss, player = session
    boss.submit(C.draw_card())
    boss.submit(C.advance())
    player.poll()
    player.submit(C.propose("familienzentrum", "SR15"))
    boss.poll()
    own = GameMap(player, lang)
    assert not own.neutral and 'data-k360-perspective="own"' in own._legend.value
    assert _legend_texts(own) == [
        t("player.map.marker_own", lang),
        t("player.map.marker_other", lang),
        t("player.map.marker_measure", lang),
    ]
    # the facilitator's map (the projector, also in hot-seat games) is no role's view
    for gm in (
        GameMap(boss, lang, document=own._document),
        GameMap(boss.state, lang, document=own._document),
        GameMap(player, lang, neutral=True, document=own._document),
    ):
        assert gm.neutral and gm.role is None
        assert 'data-k360-perspective="neutral"' in gm._legend.value
        texts = _legend_texts(gm)
        assert texts == [
            t("player.map.marker_proposal", lang),
            t("player.map.marker_adopted", lang),
        ]
        assert t("player.map.marker_own", lang) not in gm._legend.value
        assert "k360-gm-sw-own" not in gm._legend.value
        assert [(i["id"], i["kind"]) for i in gm.items(boss.state)] == [("P1", "other")]
    # a bare state with a role given is that role's view
    assert not GameMap(boss.state, lang, role="jugendamt", document=own._document).neutral


def test_the_facilitators_projector_map_is_neutral(tmp_path):
    from k360lib.i18n import t
    from k360lib.widgets.facilitator import FacilitatorApp

    app = FacilitatorApp(lang="en", store=str(tmp_path / "g.sqlite3"), live=False, query="")
    app._scenario.value = "kurz"
    app._mode.value = "hotseat"
    app._create_btn.click()
    assert app.session is not None, app._msg.value
    app.show_view("projector")
    gm = app._game_map
    assert gm is not None and gm.neutral
    assert 'data-k360-perspective="neutral"' in gm._legend.value
    assert t("player.map.marker_proposal", "en") in gm._legend.value
    assert t("player.map.marker_own", "en") not in gm._legend.value
