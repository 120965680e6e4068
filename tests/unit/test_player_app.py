"""The player app and panel, driven in-process against a real SQLite store.

The facilitator acts through the library (as the facilitator app would);
the player acts through the widgets (setting values, clicking buttons).
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
import time

import ipywidgets as W
import pytest

from k360lib.game import commands as C
from k360lib.game.errors import RuleViolation
from k360lib.game.session import GameSession, create_game, join
from k360lib.game.store import open_store
from k360lib.i18n import t
from k360lib.widgets.player import PlayerApp, PlayerPanel


@pytest.fixture
def game(tmp_path):
    path = tmp_path / "games.sqlite3"
    store = open_store(path)
    codes = create_game(store, "kurz", seed=7)
    boss = join(store, codes.game_code, codes.facilitator)
    yield store, codes, boss, path
    store.close()


def to_phase(boss, phase: str) -> None:
    boss.poll()
    if boss.state.phase == "lage" and not any(
        c["round"] == boss.state.round for c in boss.state.cards
    ):
        boss.submit(C.draw_card())
    while boss.state.phase != phase:
        boss.submit(C.advance())


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from walk(child)


def buttons(panel) -> list[W.Button]:
    return [w for w in walk(panel.container) if isinstance(w, W.Button)]


def status(panel) -> dict:
    text = panel._status.value
    out = {}
    for key in ("phase", "round", "role", "version", "locked"):
        marker = f'data-k360-{key}="'
        start = text.index(marker) + len(marker)
        out[key] = text[start : text.index('"', start)]
    return out


def row(panel, pid: str):
    for w in panel._proposals.children:
        if f"k360-proposal-{pid}" in w._dom_classes:
            return w
    raise AssertionError(f"no row for {pid}")


def row_button(panel, pid: str, cls: str) -> W.Button:
    return next(w for w in walk(row(panel, pid)) if cls in getattr(w, "_dom_classes", ()))


# -- joining ------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["de", "en"])
def test_join_by_link_shows_the_role_and_phase(game, lang):
    store, codes, boss, _ = game
    app = PlayerApp(lang, query=codes.query("politik"), store=store, poll=False)
    assert app.panel is not None
    st = status(app.panel)
    assert st == {"phase": "lage", "round": "1", "role": "politik", "version": "1", "locked": "0"}
    assert t("game.phase.lage", lang) in app.panel._status.value
    role_name = boss.state.rules.roles["politik"].label(lang)
    assert role_name in app.panel._card.value


@pytest.mark.parametrize("lang", ["de", "en"])
def test_wrong_codes_are_refused_with_a_clear_message(game, lang):
    store, codes, _, _ = game
    cases = [
        ("game=NOPE99&code=" + codes.seats["politik"], "game.store.unknown_code_game"),
        (f"game={codes.game_code}&code=XXXX-YYYY", "game.session.unknown_code"),
    ]
    for query, key in cases:
        app = PlayerApp(lang, query=query, store=store, poll=False)
        assert app.panel is None
        msg = app._join_msg.value
        assert "k360-error" in msg
        reason = t(key, lang, code="{code}").split("{code}")[0]
        assert reason.strip() and reason.strip() in html.unescape(msg)
        assert app._body.children == (app._form,)  # the form stays for another try
    # the facilitator's code does not make a player a facilitator
    app = PlayerApp(lang, query=codes.query(None), store=store, poll=False)
    assert app.panel is None
    assert t("player.join.facilitator_code", lang) in html.unescape(app._join_msg.value)
    # a link for one role with another role's code
    assert PlayerApp(
        lang, query=codes.query("politik", with_seat=True), store=store, poll=False
    ).panel
    query = codes.query("politik") + "&seat=jugendamt"
    app = PlayerApp(lang, query=query, store=store, poll=False)
    assert app.panel is None
    assert "k360-error" in app._join_msg.value
    head = t("player.join.other_role", lang, expected="§", actual="§").split("§")[0]
    assert head in html.unescape(app._join_msg.value)
    # empty form
    app = PlayerApp(lang, query="", store=store, poll=False)
    app._join_btn.click()
    assert t("player.join.empty", lang) in html.unescape(app._join_msg.value)


def test_join_by_typing_the_codes_in_lower_case(game):
    store, codes, _, _ = game
    app = PlayerApp("de", query="", store=store, poll=False)
    assert app.panel is None and app._join_msg.value == ""
    app._game.value = codes.game_code.lower()
    app._code.value = " " + codes.seats["wohlfahrtsverband"].lower() + " "
    app._join_btn.click()
    assert app.panel is not None and app.panel.role == "wohlfahrtsverband"


# -- phases, proposals and the engine's reasons ------------------------------------------------
def test_controls_the_phase_does_not_allow_are_disabled_with_the_engines_reason(game):
    store, codes, boss, _ = game
    app = PlayerApp("en", query=codes.query("jugendamt"), store=store, poll=False)
    panel = app.panel
    assert panel._propose_btn.disabled
    expected = panel.session.check(panel._form_command(), "en")
    assert expected and expected in html.unescape(panel._propose_reason.value)
    # the engine says where it is allowed, in the player's language (not by phase id)
    assert "(allowed in: Planning)" in expected and "planung" not in expected
    assert panel._vote_btn.disabled
    to_phase(boss, "planung")
    assert app.refresh() is True
    assert status(panel)["phase"] == "planung"
    assert not panel._propose_btn.disabled and panel._propose_reason.value == ""
    assert app.refresh() is False  # nothing new: nothing redrawn
    card = boss.state.rules.cards[boss.state.cards[0]["card"]]
    assert html.escape(card.title.get("en")) in panel._cards.value
    assert f'data-k360-card="{card.id}"' in panel._cards.value


def test_a_player_has_no_phase_control_and_the_engine_refuses_one(game):
    store, codes, boss, _ = game
    app = PlayerApp("de", query=codes.query("politik"), store=store, poll=False)
    classes = {c for b in buttons(app.panel) for c in b._dom_classes}
    allowed = {
        "k360-propose-submit",
        "k360-vote-submit",
        "k360-note-submit",
        "k360-cosign",
        "k360-cofund",
        "k360-withdraw",
    }
    assert classes <= allowed
    with pytest.raises(RuleViolation):
        app.panel.session.submit(C.advance())
    assert boss.store.head(boss.game_id) == 1


def test_propose_cosign_cofund_and_vote_across_panels_in_one_kernel(game):
    store, codes, boss, _ = game
    seats = {
        s: GameSession(store, codes.game_id, seat=s)
        for s in ("jugendamt", "politik", "wohlfahrtsverband")
    }
    panels = {s: PlayerPanel(sess, "de") for s, sess in seats.items()}
    ja, po, wv = panels["jugendamt"], panels["politik"], panels["wohlfahrtsverband"]
    to_phase(boss, "planung")
    for p in panels.values():
        p.refresh()
    # the area list is sorted by need and shows it
    need_rows = [label for label, _ in ja._area.options]
    assert need_rows[0].startswith("1. ") and "Bedarf" in need_rows[0]
    ja._measure.value = "familienzentrum"
    ja._shares["jugendamt"].value = 60.0
    assert ja._propose_btn.disabled  # 60 % is not 100 %
    assert "100" in ja._propose_reason.value
    ja._shares["wohlfahrtsverband"].value = 40.0
    ja._partners["wohlfahrtsverband"].value = True
    ja._note.value = "<script>alert('x')</script> Gemeinsam!"
    assert not ja._propose_btn.disabled, ja._propose_reason.value
    ja._propose_btn.click()
    assert "k360-ok" in ja._message.value
    boss.poll()
    prop = boss.state.proposals["P1"]
    assert prop.note.startswith("<script>") and prop.shares == {
        "jugendamt": 0.6,
        "wohlfahrtsverband": 0.4,
    }
    # text typed by a player is shown as text
    wv.refresh()
    line = row(wv, "P1")
    html_all = "".join(w.value for w in walk(line) if isinstance(w, W.HTML))
    assert "<script>" not in html_all and "&lt;script&gt;alert" in html_all
    assert (
        "k360-proposal-other" in line._dom_classes
        and "k360-proposal-own" in row(ja, "P1")._dom_classes
    )
    # co-sign and co-fund the asked share
    row_button(wv, "P1", "k360-cosign").click()
    share = next(w for w in walk(row(wv, "P1")) if "k360-cofund-share" in w._dom_classes)
    assert share.value == 40.0  # the share the lead asked for
    row_button(wv, "P1", "k360-cofund").click()
    boss.poll()
    assert boss.state.proposals["P1"].pledges == {"jugendamt": 0.6, "wohlfahrtsverband": 0.4}
    assert "wohlfahrtsverband" in boss.state.proposals["P1"].cosigners
    assert row_button(wv, "P1", "k360-cosign").disabled  # co-signed already: the reason shows
    ja.refresh()
    assert "✓" in "".join(w.value for w in walk(row(ja, "P1")) if isinstance(w, W.HTML))
    # the decision
    to_phase(boss, "beschluss")
    for p in panels.values():
        p.refresh()
    assert ja._vote_btn.disabled  # the youth office only advises
    assert boss.state.rules.roles["jugendamt"].votes == 0
    assert ja._vote_reason.value  # … and says so
    po._ballots["P1"].value = "yes"
    assert not po._vote_btn.disabled
    po._vote_btn.click()
    wv._ballots["P1"].value = "no"
    wv._vote_btn.click()
    boss.poll()
    assert boss.state.proposals["P1"].votes == {"politik": "yes", "wohlfahrtsverband": "no"}
    to_phase(boss, "wirkung")
    po.refresh()
    assert boss.state.proposals["P1"].status == "approved"
    assert 'data-k360-round="1"' in po._results.value
    assert "k360-status-approved" in po._results.value
    items = po.map.items()
    assert [(i["id"], i["kind"]) for i in items] == [("P1", "measure")]


def test_a_rule_error_on_submit_is_shown_translated_and_nothing_is_written(game):
    store, codes, boss, _ = game
    to_phase(boss, "planung")
    app = PlayerApp("en", query=codes.query("politik"), store=store, poll=False)
    panel = app.panel
    head = store.head(codes.game_id)
    boss.submit(C.lock(True))  # the facilitator locks after the screen was drawn
    panel._on_propose()
    assert "k360-error" in panel._message.value
    assert t("game.rule.locked", "en") in html.unescape(panel._message.value)
    assert store.head(codes.game_id) == head + 1  # only the lock
    assert status(panel)["locked"] == "1"


def test_reflection_notes_are_stored_and_shown_as_text(game):
    store, codes, boss, _ = game
    app = PlayerApp("de", query=codes.query("wohlfahrtsverband"), store=store, poll=False)
    panel = app.panel
    assert panel._note_prompt.value == 0  # the first reflection prompt
    panel._note_text.value = "<img src=x onerror=alert(1)> Wir brauchen mehr Zeit."
    panel._note_btn.click()
    assert "k360-ok" in panel._message.value and panel._note_text.value == ""
    boss.poll()
    assert (
        boss.state.notes[-1]["text"].startswith("<img")
        and boss.state.notes[-1]["role"] == "wohlfahrtsverband"
    )
    assert "<img" not in panel._note_list.value and "&lt;img src=x" in panel._note_list.value


# -- live updates and rejoining ------------------------------------------------------------------
def test_polling_shows_a_change_made_elsewhere_without_a_click(game):
    store, codes, boss, _ = game
    app = PlayerApp("de", query=codes.query("politik"), store=store, poll=0.05)
    try:
        to_phase(boss, "planung")
        deadline = time.monotonic() + 10
        while status(app.panel)["phase"] != "planung" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert status(app.panel)["phase"] == "planung"
    finally:
        app.close()
    assert app._poller is None


def test_rejoining_with_the_same_link_shows_everything_submitted_before(game):
    store, codes, boss, path = game
    to_phase(boss, "planung")
    first = PlayerApp("de", query=codes.query("jugendamt"), store=store, poll=False)
    first.panel._measure.value = "familienzentrum"
    first.panel._propose_btn.click()
    first.close()
    # a new kernel: its own store connection, the same link
    again = PlayerApp("de", query=codes.query("jugendamt"), store=open_store(path), poll=False)
    assert "k360-proposal-P1" in {
        c for w in again.panel._proposals.children for c in w._dom_classes
    }
    assert status(again.panel)["version"] == str(store.head(codes.game_id))
    assert (
        again.relaunch_kwargs()["query"]
        == f"game={codes.game_code}&code={codes.seats['jugendamt']}"
    )


def test_role_rotation_follows_the_seat(game):
    store, codes, boss, _ = game
    app = PlayerApp("de", query=codes.query("jugendamt"), store=store, poll=False)
    boss.submit(C.rotate_roles(1))
    app.refresh()
    assert status(app.panel)["role"] == app.panel.session.role != "jugendamt"
    assert app.panel.map.role == app.panel.session.role


# -- a light kernel -------------------------------------------------------------------------------
def test_the_player_import_path_loads_no_pandas_geopandas_folium_or_mapclassify(game):
    store, codes, _, path = game
    code = f"""
import json, sys
from k360lib.widgets import AppShell, PlayerApp
from k360lib.game.store import open_store
shell = AppShell(PlayerApp, lang="de", query={codes.query("politik")!r},
                 store=open_store({str(path)!r}), poll=False)
assert shell.app.panel is not None and shell.app.panel.map.has_map
heavy = ("pandas", "geopandas", "folium", "mapclassify", "branca", "shapely", "pyproj")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_language_switch_keeps_the_joined_game(game):
    from k360lib.widgets.shell import AppShell

    store, codes, _, _ = game
    shell = AppShell(PlayerApp, lang="de", query="", store=store, poll=False)
    shell.app.join(codes.game_code, codes.seats["politik"])
    old = shell.app
    shell.switch("en")
    assert shell.app is not old and shell.app.panel is not None
    assert shell.app.panel.role == "politik" and shell.app.panel.session.store is store
    assert "Phase: Situation" in shell.app.panel._status.value.replace("phase: ", "Phase: ")
    assert shell.app.panel.map.has_map


# -- a redraw caused by someone else keeps what a player has chosen but not submitted ----------
def test_unsubmitted_ballot_survives_another_groups_vote(game):
    store, codes, boss, _ = game
    to_phase(boss, "planung")
    lead = GameSession(store, codes.game_id, seat="jugendamt")
    lead.submit(C.propose("familienzentrum", "SR15"))
    to_phase(boss, "beschluss")
    a = PlayerApp("de", query=codes.query("wohlfahrtsverband"), store=store, poll=False)
    b = PlayerApp("de", query=codes.query("politik"), store=store, poll=False)
    pa = a.panel
    ballot = pa._ballots["P1"]
    ballot.value = "yes"  # chosen, not yet submitted
    assert not pa._vote_btn.disabled
    b.panel._ballots["P1"].value = "no"
    b.panel._vote_btn.click()
    assert "k360-ok" in b.panel._message.value
    assert a.refresh() is True  # the politics group's vote arrived: a redraw
    assert pa._ballots["P1"].value == "yes"
    assert pa._ballots["P1"] is ballot  # the same widget, not a new one
    assert any(ballot in w.children for w in pa._vote_rows.children if hasattr(w, "children"))
    assert not pa._vote_btn.disabled, pa._vote_reason.value
    pa._vote_btn.click()
    assert "k360-ok" in pa._message.value
    boss.poll()
    assert boss.state.proposals["P1"].votes == {"politik": "no", "wohlfahrtsverband": "yes"}
    # after the submit the ballot shows the cast vote
    a.refresh()
    assert pa._ballots["P1"].value == "yes"


def test_unsubmitted_cofund_share_and_typed_texts_survive_a_redraw(game):
    store, codes, boss, _ = game
    to_phase(boss, "planung")
    a = PlayerApp("de", query=codes.query("wohlfahrtsverband"), store=store, poll=False)
    b = PlayerApp("de", query=codes.query("jugendamt"), store=store, poll=False)
    pb = b.panel
    pb._measure.value = "familienzentrum"
    pb._shares["jugendamt"].value = 70.0
    pb._shares["wohlfahrtsverband"].value = 30.0
    pb._propose_btn.click()
    assert "k360-ok" in pb._message.value
    pa = a.panel
    assert a.refresh() is True
    share = next(w for w in walk(row(pa, "P1")) if "k360-cofund-share" in w._dom_classes)
    assert share.value == 30.0
    share.value = 25.0  # typed, not yet submitted
    # … and the proposal form and the reflection note, half filled in
    measures = [v for _, v in pa._measure.options]
    areas = [v for _, v in pa._area.options]
    pa._measure.value = measures[-1]
    pa._area.value = areas[3]
    pa._shares["wohlfahrtsverband"].value = 55.0
    pa._shares["jugendamt"].value = 45.0
    pa._partners["jugendamt"].value = True
    pa._note.value = "Noch nicht fertig <b>"
    pa._note_prompt.value = -1
    pa._note_text.value = "Halber Gedanke"
    # someone else acts: the youth office proposes again and the politics group co-signs
    pb._measure.value = "beteiligung"
    pb._area.value = [v for _, v in pb._area.options][5]
    pb._propose_btn.click()
    assert "k360-ok" in pb._message.value
    GameSession(store, codes.game_id, seat="politik").submit(C.cosign("P1"))
    assert a.refresh() is True
    assert {"k360-proposal-P1", "k360-proposal-P2"} <= {
        c for w in pa._proposals.children for c in w._dom_classes
    }
    share_now = next(w for w in walk(row(pa, "P1")) if "k360-cofund-share" in w._dom_classes)
    assert share_now.value == 25.0
    assert pa._measure.value == measures[-1] and pa._area.value == areas[3]
    assert pa._shares["wohlfahrtsverband"].value == 55.0
    assert pa._shares["jugendamt"].value == 45.0
    assert pa._partners["jugendamt"].value is True
    assert pa._note.value == "Noch nicht fertig <b>"
    assert pa._note_prompt.value == -1 and pa._note_text.value == "Halber Gedanke"
    # submitting still works, with the values kept
    row_button(pa, "P1", "k360-cofund").click()
    assert "k360-ok" in pa._message.value, pa._message.value
    pa._note_btn.click()
    assert "k360-ok" in pa._message.value and pa._note_text.value == ""
    boss.poll()
    assert boss.state.proposals["P1"].pledges["wohlfahrtsverband"] == pytest.approx(0.25)
    assert boss.state.notes[-1]["text"] == "Halber Gedanke"
    assert boss.state.notes[-1]["prompt"] is None
    # after the pledge the box shows the pledged share
    share_now = next(w for w in walk(row(pa, "P1")) if "k360-cofund-share" in w._dom_classes)
    assert share_now.value == 25.0


def test_typed_shares_survive_a_new_funding_programme(game):
    store, codes, boss, _ = game
    app = PlayerApp("en", query=codes.query("jugendamt"), store=store, poll=False)
    panel = app.panel
    assert "land_familien" not in panel._shares
    panel._shares["jugendamt"].value = 50.0
    panel._shares["wohlfahrtsverband"].value = 50.0
    panel._partners["wohlfahrtsverband"].value = True
    kept = panel._shares["jugendamt"]
    boss.submit(C.choose_card("landesprogramm"))  # a new funder appears in the form
    assert app.refresh() is True
    assert "land_familien" in panel._shares
    assert panel._shares["land_familien"] in panel._shares_box.children
    assert panel._shares["jugendamt"] is kept and kept.value == 50.0
    assert panel._shares["wohlfahrtsverband"].value == 50.0
    assert panel._partners["wohlfahrtsverband"].value is True
    to_phase(boss, "planung")
    app.refresh()
    panel._measure.value = "familienzentrum"
    assert not panel._propose_btn.disabled, panel._propose_reason.value
    panel._propose_btn.click()
    boss.poll()
    prop = boss.state.proposals["P1"]
    assert prop.shares == {"jugendamt": 0.5, "wohlfahrtsverband": 0.5}
    assert prop.partners == ["wohlfahrtsverband"]
