"""End to end: the player app (``notebooks/04_mitspielen.ipynb``) in Voilà + Chromium.

Games are created through the library in a store file that the Voilà server
gets as ``$K360_STORE``; the facilitator acts through the library too (the
facilitator app has its own tests). Each test runs in German and English
(``ui_lang``). Screenshots: ``tests/e2e/artifacts/player_<view>_<lang>.png``.
"""

from __future__ import annotations

import html
import time

import pytest

from k360lib.game import commands as C
from k360lib.game.session import create_game, join
from k360lib.game.store import open_store
from k360lib.i18n import t

from .harness import ARTIFACTS

pytestmark = pytest.mark.e2e

NOTEBOOK = "04_mitspielen.ipynb"
APP = ".k360-player-app"
PANEL = ".k360-player"
VIEWPORT = {"width": 1400, "height": 1300}
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def store_path(tmp_path_factory, ui_lang):
    return tmp_path_factory.mktemp(f"player-store-{ui_lang}") / "games.sqlite3"


@pytest.fixture(scope="module")
def server(voila, app_notebook, ui_lang, store_path):
    return voila(app_notebook(NOTEBOOK), lang=ui_lang, env={"K360_STORE": str(store_path)})


@pytest.fixture
def game(store_path):
    store = open_store(store_path)
    codes = create_game(store, "kurz", seed=21)
    boss = join(store, codes.game_code, codes.facilitator)
    yield codes, boss
    store.close()


def shot(page, view: str, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"player_{view}_{lang}.png"), full_page=True)


def phase_selector(phase: str) -> str:
    return f'{PANEL} .k360-status[data-k360-phase="{phase}"]'


def open_player(e2e_page_factory, server, query: str, ready: str, name: str | None = None):
    session = e2e_page_factory(name, viewport=VIEWPORT)
    session.open(server, query=query, ready=ready)
    return session


def test_join_by_link_see_the_phase_change_within_2s_and_propose(
    e2e_page_factory, server, game, ui_lang
):
    codes, boss = game
    session = open_player(
        e2e_page_factory, server, codes.query("jugendamt"), phase_selector("lage")
    )
    page = session.page
    role = boss.state.rules.roles["jugendamt"].label(ui_lang)
    expect_status = t(
        "player.status",
        ui_lang,
        role=role,
        round=1,
        rounds=boss.state.scenario.rounds,
        phase=t("game.phase.lage", ui_lang),
    )
    assert expect_status in page.locator(f"{PANEL} .k360-status").inner_text()
    # the map: every Sozialraum drawn from the document stored with the game
    frame = page.frame_locator(f"{PANEL} iframe.k360-game-map-frame")
    frame.locator("path.k360-area").first.wait_for(timeout=TIMEOUT_MS)
    assert frame.locator("path.k360-area").count() == boss.state.world.n_areas
    assert frame.locator("path.k360-class-4").count() >= 1  # need colours arrived live
    # not allowed in this phase: disabled, with the engine's reason
    submit = page.locator(f"{PANEL} .k360-propose-submit")
    assert submit.is_disabled()
    reason = page.locator(f"{PANEL} .k360-propose-reason").inner_text()
    # in the player's language: "… (allowed in: Planning)", not the phase id
    assert t("game.phase.planung", ui_lang) in reason and "planung" not in reason
    shot(page, "lage", ui_lang)

    # the facilitator changes the phase elsewhere: the screen follows within 2 s
    boss.submit(C.draw_card())
    started = time.monotonic()
    boss.submit(C.advance())
    page.wait_for_selector(phase_selector("planung"), timeout=TIMEOUT_MS)
    delay = time.monotonic() - started
    print(f"k360 player: phase change shown after {delay:.2f} s ({ui_lang})")
    assert delay <= 2.0, f"the phase change took {delay:.2f} s to show"

    # propose: measure and area preset (neediest eligible area first), a note with markup
    page.wait_for_function(
        "s => !document.querySelector(s).disabled", arg=f"{PANEL} .k360-propose-submit"
    )
    area_label = page.locator(f"{PANEL} .k360-propose-area select").evaluate(
        "s => s.options[s.selectedIndex].text"
    )
    assert area_label.startswith("1. ") or area_label[0].isdigit()
    note = "<script>alert('x')</script> Gemeinsam"
    page.locator(f"{PANEL} .k360-propose-note textarea").fill(note)
    submit.click()
    row = page.locator(f"{PANEL} .k360-proposal-P1")
    row.wait_for(timeout=TIMEOUT_MS)
    assert note in row.inner_text()  # shown as text, not run
    boss.poll()
    prop = boss.state.proposals["P1"]
    assert prop.lead == "jugendamt" and prop.note == note
    done = t("player.propose.done", ui_lang, proposal="P1")
    assert done in page.locator(f"{PANEL} .k360-player-message").inner_text()
    marker = frame.locator('.k360-gm-marker.k360-gm-own[data-k360-item="P1"]')
    marker.wait_for(timeout=TIMEOUT_MS)
    assert marker.get_attribute("data-k360-area") == prop.area
    shot(page, "proposed", ui_lang)


def test_a_wrong_code_or_another_roles_link_is_refused(e2e_page_factory, server, game, ui_lang):
    codes, boss = game
    error = f"{APP} .k360-join-message .k360-error"
    session = open_player(
        e2e_page_factory, server, f"game={codes.game_code}&code=WXYZ-2345", error, "wrong"
    )
    text = session.page.locator(error).inner_text()
    expected = html.unescape(t("game.session.unknown_code", ui_lang, code="WXYZ-2345"))
    assert expected in text
    assert session.page.locator(f"{APP} .k360-join").is_visible()  # try again with the form
    assert session.page.locator(PANEL).count() == 0
    shot(session.page, "wrong_code", ui_lang)

    query = codes.query("politik") + "&seat=jugendamt"
    other = open_player(e2e_page_factory, server, query, error, "other-role")
    expected = t(
        "player.join.other_role",
        ui_lang,
        expected=boss.state.rules.roles["jugendamt"].label(ui_lang),
        actual=boss.state.rules.roles["politik"].label(ui_lang),
    )
    assert expected in other.page.locator(error).inner_text()
    assert other.page.locator(PANEL).count() == 0

    # the facilitator's code opens no player screen (and so no way to advance a phase)
    boss_link = open_player(e2e_page_factory, server, codes.query(None), error, "facilitator")
    assert t("player.join.facilitator_code", ui_lang) in boss_link.page.locator(error).inner_text()
    assert boss.store.head(boss.game_id) == 1


def test_a_new_kernel_with_the_same_link_restores_the_state(
    e2e_page_factory, server, game, ui_lang
):
    codes, boss = game
    boss.submit(C.draw_card())
    boss.submit(C.advance())
    session = open_player(
        e2e_page_factory, server, codes.query("wohlfahrtsverband"), phase_selector("planung")
    )
    page = session.page
    # the provider's budget does not carry a whole measure: the engine's reason shows …
    reason = page.locator(f"{PANEL} .k360-propose-reason")
    assert page.locator(f"{PANEL} .k360-propose-submit").is_disabled()
    assert "200" in reason.inner_text()
    # … so it asks the youth office for 60 % of the cost
    for funder, percent in (("wohlfahrtsverband", "40"), ("jugendamt", "60")):
        box = page.locator(f"{PANEL} .k360-propose-share-{funder} input")
        box.fill(percent)
        box.press("Enter")
    page.wait_for_function(
        "s => !document.querySelector(s).disabled", arg=f"{PANEL} .k360-propose-submit"
    )
    page.locator(f"{PANEL} .k360-propose-submit").click()
    page.locator(f"{PANEL} .k360-proposal-P1").wait_for(timeout=TIMEOUT_MS)
    boss.poll()
    assert boss.state.proposals["P1"].shares == {"wohlfahrtsverband": 0.4, "jugendamt": 0.6}
    page.locator(f"{PANEL} .k360-note-text textarea").fill("<b>Notiz</b> vor dem Neustart")
    page.locator(f"{PANEL} .k360-note-submit").click()
    page.locator(f"{PANEL} .k360-note-item").wait_for(timeout=TIMEOUT_MS)
    version = page.locator(f"{PANEL} .k360-status").get_attribute("data-k360-version")
    boss.submit(C.advance())  # a change while the player is away

    # reloading the page starts a new kernel, which joins again with the link
    page.reload(wait_until="commit")
    session.wait_rendered(ready=phase_selector("verhandlung"))
    assert page.locator(f"{PANEL} .k360-proposal-P1.k360-proposal-own").count() == 1
    assert "<b>Notiz</b> vor dem Neustart" in page.locator(f"{PANEL} .k360-note-list").inner_text()
    new_version = page.locator(f"{PANEL} .k360-status").get_attribute("data-k360-version")
    assert int(new_version) == int(version) + 1 == boss.store.head(boss.game_id)
    shot(page, "rejoined", ui_lang)
