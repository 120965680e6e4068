"""The facilitator app in-process: real widgets on a real SQLite store in tmp_path."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from k360lib.game import commands as C
from k360lib.game import monitor as M
from k360lib.game.errors import RuleViolation, ScenarioError
from k360lib.game.session import join, join_from_query
from k360lib.game.store import open_store
from k360lib.i18n import t
from k360lib.widgets.facilitator import FacilitatorApp
from k360lib.widgets.facilitator_views import join_url, player_page_url

KURZ = Path(__file__).resolve().parents[2] / "data" / "scenarios" / "kurzspiel.yaml"
PLAYER_URL = "http://10.1.2.3:8866/voila/render/04_mitspielen.ipynb"


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "games.sqlite3")


def make_app(db, lang="de", **kw):
    kw.setdefault("live", False)
    kw.setdefault("query", "")
    kw.setdefault("player_url", PLAYER_URL)
    return FacilitatorApp(lang=lang, store=db, **kw)


def started(db, lang="de", mode="networked", **kw):
    app = make_app(db, lang, **kw)
    app._scenario.value = "kurz"
    app._mode.value = mode
    app._create_btn.click()
    assert app.session is not None, app._msg.value
    return app


def header_attr(app, name):
    m = re.search(rf'data-{name}="([^"]*)"', app._header.value)
    return m.group(1)


def rows(html, cls):
    return re.findall(rf'<tr class="{cls}"([^>]*)>', html)


# ---------------------------------------------------------------------------
# creating and resuming
# ---------------------------------------------------------------------------
def test_create_from_the_start_screen_stores_the_game(db):
    app = started(db)
    assert "k360-fac-game" in app._game._dom_classes
    assert header_attr(app, "phase") == "lage" and header_attr(app, "round") == "1"
    assert app.codes.game_code in app._header.value
    assert "k360-msg-ok" in app._msg.value
    # the game is in the store: another connection (another kernel) joins it
    other = open_store(db)
    player = join(other, app.codes.game_code, app.codes.seats["politik"])
    assert player.role == "politik" and player.state.version == app.state.version
    assert M.game_meta(player.state)["mode"] == "networked"
    other.close()


def test_role_choice_and_workshop_name_are_stored_and_escaped(db):
    app = make_app(db, lang="en")
    app._scenario.value = "default"
    boxes = {cb._k360_role: cb for cb in app._roles.children}
    assert "k360-fac-role-initiative" in boxes["initiative"]._dom_classes
    for r in ("gesundheitsamt", "schulverwaltung"):
        boxes[r].value = False
    app._name.value = "<script>alert(1)</script> Workshop"
    app._create_btn.click()
    st = app.state
    assert "gesundheitsamt" not in st.roles and "jugendamt" in st.roles
    assert sorted(app.codes.seats) == sorted(st.seats)
    assert "<script>" not in app._header.value and "&lt;script&gt;" in app._header.value


def test_too_few_roles_is_refused_with_a_message(db):
    app = make_app(db, lang="en")
    app._scenario.value = "kurz"
    for cb in app._roles.children:
        cb.value = False
    app._roles.children[0].value = True
    app._create_btn.click()
    assert app.session is None
    assert "k360-msg-error" in app._msg.value


def test_resume_by_link_after_a_kernel_restart(db):
    app = started(db)
    app.advance()
    app.close()
    # a new kernel: the facilitator link carries game and facilitator code
    query = app.codes.query(None)
    again = make_app(db, query=query)
    assert again.session is not None and again.session.facilitator
    assert again.state.phase == "planung" and again.codes == app.codes
    # a second window for the projector
    proj = make_app(db, query=query + "&view=projector")
    assert proj._view == "projector" and proj._views.value == "projector"
    assert "k360-fac-budget" in proj._budgets.value
    # resume by typing the codes (lower case, without dashes is fine)
    typed = make_app(db)
    typed._resume_game.value = app.codes.game_code.lower()
    typed._resume_code.value = app.codes.facilitator.replace("-", "").lower()
    typed._resume_btn.click()
    assert typed.session is not None and typed.codes.seats == app.codes.seats


def test_resume_with_a_seat_code_or_a_wrong_code_is_refused(db):
    app = started(db, lang="en")
    other = make_app(db, lang="en", query=app.codes.query("politik"))
    assert other.session is None
    assert t("game.monitor.not_facilitator_code", "en") in other._msg.value.replace("&#x27;", "'")
    wrong = make_app(db, lang="en")
    wrong._resume_game.value = app.codes.game_code
    wrong._resume_code.value = "AAAA-BBBB-CCCC"
    wrong._resume_btn.click()
    assert wrong.session is None and "k360-msg-error" in wrong._msg.value
    empty = make_app(db, lang="en")
    empty._resume_btn.click()
    assert t("fac.start.resume_missing", "en") in empty._msg.value


# ---------------------------------------------------------------------------
# join codes and QR codes
# ---------------------------------------------------------------------------
def test_join_links_codes_and_qr_per_seat(db):
    app = started(db)
    app.show_view("join")
    html = app._codes_html.value
    seats = rows(html, "k360-fac-seat")
    assert len(seats) == 3
    for seat, code in app.codes.seats.items():
        assert f'data-seat="{seat}" data-code="{code}"' in html
    links = re.findall(r'class="k360-fac-join-link" href="([^"]+)"', html)
    assert len(links) == 3 and html.count("<svg") == 3
    for link in links:
        url = urlsplit(link.replace("&amp;", "&"))
        assert url.path.endswith("/voila/render/04_mitspielen.ipynb")
        # the link's query joins the game as that seat
        s = join_from_query(app.store, url.query)
        q = parse_qs(url.query)
        assert q["code"][0] == app.codes.seats[s.seat]
        assert q["seat"][0] == s.seat  # so that the player app can refuse another seat's code
    # the facilitator's own code is folded away (the view may be on the projector)
    assert app.codes.facilitator not in html
    own = app._own_html.value
    assert own.startswith('<details class="k360-fac-own-details">') and "<details open" not in own
    assert app.codes.facilitator in own
    assert "03_spielleitung.ipynb?game=" in app._own_html.value
    assert "&amp;view=projector" in app._own_html.value
    # without a known player address: relative links, no QR codes, a hint
    app._base_url.value = ""
    assert "k360-fac-url-unknown" in app._codes_html.value
    assert "<svg" not in app._codes_html.value
    assert 'href="04_mitspielen.ipynb?game=' in app._codes_html.value


def test_debrief_link_carries_the_facilitator_code_and_opens_the_game(db):
    from html import unescape

    from k360lib.widgets.debrief import DebriefApp
    from k360lib.widgets.shell import lang_from_query

    app = started(db, lang="en")
    app.show_view("join")
    # folded with the own code (the join view may be on the projector), never in the codes table
    own = app._own_html.value
    assert own.startswith('<details class="k360-fac-own-details">')
    assert 'class="k360-fac-debrief-link' in own and t("fac.debrief.open", "en") in own
    assert "k360-fac-debrief-link" not in app._codes_html.value
    assert app._debrief_ctrl.value == ""  # not prominent while the game runs
    for _ in range(100):
        if app.state.status == "ended":
            break
        app.advance()
    assert app.state.status == "ended"
    box = app._debrief_ctrl.value
    assert "k360-fac-debrief-ended" in box and app._debrief_ctrl in app._control.children
    hrefs = re.findall(r'class="k360-fac-debrief-link[^"]*" href="([^"]+)"', box)
    assert len(hrefs) == 1
    assert app.codes.facilitator not in re.sub(r'href="[^"]*"', "", box)  # only in the href
    url = urlsplit(unescape(hrefs[0]))
    # built like the player links: the sibling notebook of the player page
    assert url.geturl().startswith("http://10.1.2.3:8866/voila/render/05_auswertung.ipynb?")
    q = parse_qs(url.query)
    assert q == {"game": [app.codes.game_code], "code": [app.codes.facilitator], "lang": ["en"]}
    assert re.findall(
        r'class="k360-fac-debrief-link[^"]*" href="([^"]+)"', app._own_ctrl.value
    ) == [hrefs[0]]
    # the debrief notebook opens this game from that query (list off by default)
    assert lang_from_query(url.query) == "en"
    debrief = DebriefApp(lang_from_query(url.query), store=db, query=url.query)
    try:
        assert debrief.debrief is not None, debrief._msg.value
        assert debrief.debrief.state.game_id == app.codes.game_id
        assert debrief.debrief.state.status == "ended"
        assert app.codes.game_code in debrief._head.value
        assert debrief._list not in debrief._chooser.children[0].children
        assert len(debrief._chooser.children) == 1
    finally:
        debrief.close()
    # an unknown player address gives a relative link, as for the players
    app._base_url.value = ""
    assert 'href="05_auswertung.ipynb?game=' in app._own_html.value
    app.close()


def test_player_page_url_follows_voila_folder_mode():
    env = {
        "VOILA_REQUEST_URL": "https://hub.example/user/x/voila/render/notebooks/03_spielleitung.ipynb?a=1"
    }
    assert (
        player_page_url(env)
        == "https://hub.example/user/x/voila/render/notebooks/04_mitspielen.ipynb"
    )
    assert player_page_url({"VOILA_REQUEST_URL": "http://127.0.0.1:8866/"}) is None
    assert player_page_url(
        {"K360_PLAYER_URL": "http://x/p.ipynb", "VOILA_REQUEST_URL": "http://y/"}
    ) == ("http://x/p.ipynb")
    assert player_page_url({}) is None
    assert (
        join_url("http://x/p.ipynb?lang=en", "game=A&code=B")
        == "http://x/p.ipynb?lang=en&game=A&code=B"
    )


# ---------------------------------------------------------------------------
# phases, cards, undo, lock, rotation, monitor
# ---------------------------------------------------------------------------
def test_advance_and_rewind_buttons(db):
    app = started(db, lang="en")
    assert app._rewind_btn.disabled
    assert app._advance_btn.description == t(
        "fac.control.advance_to", "en", phase=t("game.phase.planung", "en")
    )
    app._advance_btn.click()
    assert app.state.phase == "planung" and header_attr(app, "phase") == "planung"
    assert 'k360-fac-phase-current" data-phase="planung"' in app._phasebar.value
    assert not app._rewind_btn.disabled
    # a player's kernel (another connection) sees the phase change
    other = open_store(db)
    player = join(other, app.codes.game_code, app.codes.seats["politik"])
    assert player.state.phase == "planung"
    app._rewind_btn.click()
    assert app.state.phase == "lage"
    player.poll()
    assert player.state.phase == "lage"
    # through the last phase: next round, then the end of the game
    for _ in range(len(app.state.rules.phases) - 1):
        app.advance()
    assert app._advance_btn.description == t("fac.control.next_round", "en", round=2)
    for _ in range(len(app.state.rules.phases)):
        app.advance()
    assert app._advance_btn.description == t("fac.control.end_game", "en")
    app.advance()
    assert app.state.status == "ended" and app._advance_btn.disabled
    assert header_attr(app, "status") == "ended"
    other.close()


def test_draw_a_card_then_the_slot_is_used(db):
    app = started(db, lang="en")
    assert "k360-fac-no-card" in app._cards.value
    app._draw_btn.click()
    card = app.state.cards[-1]["card"]
    assert f'data-card="{card}"' in app._cards.value
    assert app._draw_btn.disabled and app._choose_btn.disabled
    # a second card in this round is refused with the engine's reason
    app.draw_card()
    assert "k360-msg-error" in app._msg.value
    assert len(app.state.cards) == 1


def test_choose_a_card(db):
    app = started(db)
    options = [v for _, v in app._card_choice.options]
    assert options and all(v in app.state.rules.cards for v in options)
    app._card_choice.value = options[-1]
    app._choose_btn.click()
    assert app.state.cards[-1]["card"] == options[-1]
    assert app.state.cards[-1]["how"] == "chosen"


def test_monitor_shows_players_actions_live_and_undo_takes_them_back(db):
    app = started(db)
    app.advance()
    other = open_store(db)
    ja = join(other, app.codes.game_code, app.codes.seats["jugendamt"])
    ja.submit(C.propose("familienzentrum", "SR15"))
    assert app.tick() is True  # one poll brings the player's proposal
    assert app.tick() is False
    acted = {
        re.search(r'data-seat="([^"]+)"', r).group(1): 'data-acted="1"' in r
        for r in rows(app._monitor.value, "k360-fac-monitor-row")
    }
    assert acted == {"jugendamt": True, "politik": False, "wohlfahrtsverband": False}
    assert 'data-target="' in app._undo_preview.value
    app._undo_btn.click()
    assert not app.state.open_proposals()
    ja.poll()
    assert not ja.state.open_proposals()
    assert 'data-acted="1"' not in app._monitor.value


def test_lock_stops_player_submissions(db):
    app = started(db)
    app.advance()
    app._lock_btn.click()
    assert app.state.locked and header_attr(app, "locked") == "1"
    ja = join(app.store, app.codes.game_code, app.codes.seats["jugendamt"])
    with pytest.raises(RuleViolation):
        ja.submit(C.propose("familienzentrum", "SR15"))
    app._lock_btn.click()
    assert not app.state.locked
    ja.submit(C.propose("familienzentrum", "SR15"))


def test_role_rotation_between_rounds(db):
    app = started(db)
    before = dict(app.state.seat_roles)
    assert not app._rotate_btn.disabled  # Lage, no proposal yet
    app._rotate_btn.click()
    after = app.state.seat_roles
    assert after != before and sorted(after.values()) == sorted(before.values())
    assert all(f'data-seat="{s}" data-role="{r}"' in app._monitor.value for s, r in after.items())
    # the seat's player now plays another role
    ja = join(app.store, app.codes.game_code, app.codes.seats["jugendamt"])
    assert ja.role == after["jugendamt"] != "jugendamt"
    app.advance()
    assert app._rotate_btn.disabled  # not during planning


def test_countdown_from_the_stored_phase_start(db):
    app = started(db)
    app._timer_toggle.value = True
    assert "k360-fac-countdown" in app._countdown.value
    info = M.phase_info(app.state)
    start = M._parse_ts(info["started"])
    assert M.countdown(app.state, now=start + timedelta(minutes=1)) == pytest.approx(
        (info["minutes"] - 1) * 60
    )
    assert M.countdown(app.state, now=start + timedelta(minutes=info["minutes"] + 1)) < 0
    app._timer_toggle.value = False
    assert app._countdown.value == ""


# ---------------------------------------------------------------------------
# scenario upload
# ---------------------------------------------------------------------------
def upload(app, name: str, content: bytes) -> None:
    app._upload.value = (
        {
            "name": name,
            "type": "application/x-yaml",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": datetime.now(timezone.utc),
        },
    )


def test_bad_yaml_upload_shows_the_path_in_the_file(db):
    app = make_app(db, lang="en")
    text = KURZ.read_text(encoding="utf-8").replace("budget: 400", "budget: -400", 1)
    upload(app, "my_game.yaml", text.encode("utf-8"))
    msg = app._msg.value
    assert "k360-msg-error" in msg
    assert "my_game.yaml" in msg and "roles[0].budget" in msg
    assert re.search(r"line \d+", msg)
    assert app.session is None and app._scenario.value == "upload"
    app._create_btn.click()
    assert app.session is None and t("fac.start.upload_first", "en") in app._msg.value


def test_broken_yaml_syntax_names_line_and_column(db):
    app = make_app(db, lang="de")
    upload(app, "kaputt.yaml", b"id: x\nroles: [a, b\ntitle: y\n")
    msg = app._msg.value
    assert "kaputt.yaml" in msg and "Zeile" in msg and "k360-msg-error" in msg


def test_upload_a_valid_scenario_and_play_it(db):
    app = make_app(db, lang="en")
    text = KURZ.read_text(encoding="utf-8").replace(
        'en: "Short game: one committee, two budget years"', 'en: "Our <b>own</b> game"'
    )
    upload(app, "own.yaml", text.encode("utf-8"))
    assert "k360-msg-ok" in app._msg.value and app._scenario.value == "uploaded"
    assert "<b>own</b>" not in app._msg.value
    app._create_btn.click()
    assert app.session is not None
    assert app.state.scenario.title.get("en") == "Our <b>own</b> game"
    assert "&lt;b&gt;own&lt;/b&gt;" in app._header.value


def test_upload_limits():
    with pytest.raises(ScenarioError) as err:
        M.scenario_from_upload(b"   ", "empty.yaml")
    assert "empty.yaml" in err.value.message("en")
    with pytest.raises(ScenarioError):
        M.scenario_from_upload(b"\x00\x01\xff\xfe", "bin.yaml")


# ---------------------------------------------------------------------------
# projector, log, language switch
# ---------------------------------------------------------------------------
def play_round(app, seat_of):
    """Draw, propose (co-funded), co-sign, vote, decide: one full round through seat sessions."""
    app.draw_card()
    app.advance()  # planung
    ja = seat_of("jugendamt")
    ev = ja.submit(
        C.propose(
            "familienzentrum",
            "SR15",
            shares={"jugendamt": 0.7, "wohlfahrtsverband": 0.3},
            partners=["wohlfahrtsverband"],
        )
    )
    pid = ev.payload["proposal"]
    app.advance()  # verhandlung
    wv = seat_of("wohlfahrtsverband")
    wv.submit(C.cofund(pid))
    app.advance()  # beschluss
    seat_of("politik").submit(C.vote({pid: "yes"}))
    wv.submit(C.vote({pid: "yes"}))
    app.tick()
    assert all(
        'data-done="1"' in r
        for r in rows(app._monitor.value, "k360-fac-monitor-row")
        if 'data-role="politik"' in r or 'data-role="wohlfahrtsverband"' in r
    )
    app.advance()  # wirkung
    return pid


def test_projector_shows_budgets_proposals_map_and_results(db):
    app = started(db, lang="en")
    seats = {}

    def seat_of(role):
        if role not in seats:
            seats[role] = join(app.store, app.codes.game_code, app.codes.seats[role])
        seats[role].poll()
        return seats[role]

    app.show_view("projector")
    assert len(rows(app._budgets.value, "k360-fac-budget")) == 3
    assert "k360-fac-empty" in app._results.value
    pid = play_round(app, seat_of)
    app.show_view("projector")
    assert f'data-proposal="{pid}" data-status="approved"' in app._proposals.value
    assert 'class="k360-fac-results" data-round="1"' in app._results.value
    assert 'data-figure="shared_score"' in app._results.value
    assert len(rows(app._results.value, "k360-fac-indicator")) >= 3
    box = app._map_box.children
    assert box, "the projector shows a map widget"
    gm = pytest.importorskip("k360lib.widgets.game_map")
    assert app._game_map is not None and isinstance(app._game_map, gm.GameMap)
    app.show_view("log")
    assert 'data-type="votes_cast"' in app._log.value


def test_language_switch_keeps_the_game(db):
    from k360lib.widgets.shell import AppShell

    shell = AppShell(
        FacilitatorApp, lang="de", store=db, live=False, query="", player_url=PLAYER_URL
    )
    app = shell.app
    app._scenario.value = "kurz"
    app._create_btn.click()
    app.advance()
    app.show_view("join")
    shell.switch("en")
    new = shell.app
    assert new is not app and new.lang == "en"
    assert new.codes == app.codes and new.state.phase == "planung"
    assert new._view == "join"
    assert "Planning" in new._header.value


# ---------------------------------------------------------------------------
# hot-seat
# ---------------------------------------------------------------------------
def test_hotseat_seat_sessions_play_a_full_round_and_survive_a_restart(db):
    app = started(db, mode="hotseat")
    assert app._view == "hotseat" and header_attr(app, "mode") == "hotseat"
    assert "join" not in [v for _, v in app._views.options]  # no codes in hot-seat play
    pid = play_round(app, app.seat_session)
    assert app.state.proposals[pid].status == "approved"
    app.advance()  # reflexion
    app.seat_session("jugendamt").submit(C.note("<script>alert(1)</script> gut", prompt=0))
    app.advance()  # round 2
    assert app.state.round == 2 and app.state.phase == "lage"
    # a kernel restart: everything is in the store
    again = make_app(db, query=app.codes.query(None))
    assert again.mode == "hotseat" and again._view == "hotseat"
    assert again.state == app.state  # the same fold of the same stored events
    assert again.state.proposals[pid].status == "approved"
    again.show_view("log")
    assert "<script>" not in again._log.value


def test_hotseat_with_player_panels(db):
    player = pytest.importorskip("k360lib.widgets.player")
    app = started(db, mode="hotseat", lang="en")
    app.show_view("hotseat")
    seats = [v for _, v in app._hs_role.options]
    assert seats == app.state.seats
    for seat in seats:
        app._hs_role.value = seat
        panel = app.hotseat_panel(seat)
        assert isinstance(panel, player.PlayerPanel)
        assert app._hs_panel.children == (panel.container,)


def test_every_dynamic_message_of_the_app_exists():
    import inspect

    from k360lib.game import state
    from k360lib.game.engine import _BALLOTS
    from k360lib.game.events import EVENT_TYPES
    from k360lib.i18n import catalog
    from k360lib.widgets.facilitator import MODES, VIEWS

    cat = catalog()
    statuses = ("open", "withdrawn", "approved", "rejected", "unfunded")
    keys = [f"fac.event.{e}" for e in EVENT_TYPES]
    keys += [f"fac.status.{s}" for s in statuses]
    keys += [f"fac.ballot.{b}" for b in _BALLOTS]
    keys += [f"fac.mode.{m}{suffix}" for m in MODES for suffix in ("", "_short", "_help")]
    keys += [f"fac.view.{v}" for v in VIEWS]
    missing = [k for k in keys if k not in cat]
    assert not missing
    # the engine's proposal statuses are these (named in the Proposal class)
    src = inspect.getsource(state.Proposal)
    assert all(s in src for s in statuses)


def test_monitor_budgets_and_who_is_asked_in_the_vote():
    from k360lib.game import Game

    game = Game.create("kurz", seed=2)
    game.submit(C.advance())
    ev = game.submit(
        C.propose("familienzentrum", "SR15", shares={"jugendamt": 0.7, "wohlfahrtsverband": 0.3}),
        role="jugendamt",
    )
    m = game.state.rules.measures["familienzentrum"]
    budgets = {b["role"]: b for b in M.budget_overview(game.state)}
    assert budgets["jugendamt"]["pledged"] == pytest.approx(0.7 * (m.invest + m.cost))
    assert budgets["wohlfahrtsverband"]["pledged"] == 0.0  # asked, not yet pledged
    assert budgets["jugendamt"]["available"] == pytest.approx(
        budgets["jugendamt"]["budget"] - budgets["jugendamt"]["pledged"]
    )
    game.submit(C.advance())
    game.submit(C.advance())  # beschluss
    act = {r["role"]: r for r in M.role_activity(game.state)}
    assert not act["jugendamt"]["expected"]  # no votes in the committee
    assert act["politik"]["expected"] and not act["politik"]["done"]
    game.submit(C.vote({ev.payload["proposal"]: "no"}), role="politik")
    act = {r["role"]: r for r in M.role_activity(game.state)}
    assert act["politik"]["done"] and act["politik"]["types"] == ["votes_cast"]
    assert M.round_summary(game.state) is None
    game.submit(C.advance())  # wirkung
    summary = M.round_summary(game.state)
    assert summary["round"] == 1
    assert [p["status"] for p in summary["proposals"]] == ["rejected"]
