"""End to end: the facilitator app (Spielleitung) in Voilà + Chromium, as ``k360 serve`` serves it.

Voilà serves the ``notebooks/`` folder (so the join links point at the
player app ``/voila/render/04_mitspielen.ipynb``) with its own SQLite store
(``$K360_STORE``). Players are simulated by sessions on the same store
file — exactly what a player kernel does — so the tests also prove the live
updates (the facilitator's screen shows a player's proposal within 2 s).

Screenshots: ``tests/e2e/artifacts/facilitator_<screen>_<lang>.png``.
"""

from __future__ import annotations

import re
import time

import pytest

from k360lib.i18n import t

from .harness import ARTIFACTS

pytestmark = pytest.mark.e2e

NOTEBOOK = "03_spielleitung.ipynb"
APP = ".k360-fac"
VIEWPORT = {"width": 1400, "height": 1100}
TIMEOUT_MS = 60_000
LIVE_MS = 2_000  # a change made elsewhere must show within 2 s


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return str(tmp_path_factory.mktemp("fac-store") / "games.sqlite3")


@pytest.fixture(scope="module")
def server(voila, app_notebook, store_path, ui_lang):
    folder = app_notebook(NOTEBOOK).parent
    return voila(folder, lang=ui_lang, env={"K360_STORE": store_path})


def shot(page, name: str, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.querySelector('.k360-fac')?.scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / f"facilitator_{name}_{lang}.png"), full_page=True)


def open_app(e2e_page_factory, server, name=None, query=None):
    session = e2e_page_factory(name, viewport=VIEWPORT)
    ready = f"{APP} .k360-fac-header" if query else f"{APP} .k360-fac-start"
    session.open(server, NOTEBOOK, query=query, ready=ready)
    return session.page


def create_game(page, lang: str, mode: str = "networked") -> str:
    page.locator(".k360-fac-scenario select").select_option(index=1)  # kurz
    page.wait_for_selector(".k360-fac-role-wohlfahrtsverband input", timeout=TIMEOUT_MS)
    if mode == "hotseat":
        page.locator(".k360-fac-mode button", has_text=t("fac.mode.hotseat", lang)).click()
    page.locator("button.k360-fac-create").click()
    page.wait_for_selector('.k360-fac-header[data-phase="lage"]', timeout=TIMEOUT_MS)
    return page.locator(".k360-fac-game-code").inner_text().strip()


def view(page, key: str, lang: str) -> None:
    page.locator(".k360-fac-views button", has_text=t(f"fac.view.{key}", lang)).click()
    page.wait_for_selector(f".k360-fac-view-{key}", state="visible", timeout=TIMEOUT_MS)


def wait_phase(page, phase: str, round_: int | None = None) -> None:
    sel = f'.k360-fac-header[data-phase="{phase}"]'
    if round_ is not None:
        sel += f'[data-round="{round_}"]'
    page.wait_for_selector(sel, timeout=TIMEOUT_MS)


def advance(page, to: str, round_: int | None = None) -> None:
    page.locator("button.k360-fac-advance").click()
    wait_phase(page, to, round_)


def test_facilitator_networked_game(e2e_page_factory, server, store_path, ui_lang):
    from k360lib.game import commands as C
    from k360lib.game.session import join, join_from_query
    from k360lib.game.store import open_store

    lang = ui_lang
    page = open_app(e2e_page_factory, server)
    shot(page, "start", lang)
    game_code = create_game(page, lang)
    assert re.fullmatch(r"[A-Z0-9]{6}", game_code)

    # join codes, links and QR codes
    view(page, "join", lang)
    page.wait_for_selector("tr.k360-fac-seat .k360-fac-qr svg", timeout=TIMEOUT_MS)
    seats = page.locator("tr.k360-fac-seat")
    assert seats.count() == 3
    assert page.locator(".k360-fac-qr svg").count() == 3
    store = open_store(store_path)
    links = {}
    for i in range(3):
        row = seats.nth(i)
        seat, code = row.get_attribute("data-seat"), row.get_attribute("data-code")
        assert row.locator(".k360-fac-seat-code").inner_text().strip() == code
        href = row.locator("a.k360-fac-join-link").get_attribute("href")
        assert href.startswith(server.base_url + "voila/render/04_mitspielen.ipynb?")
        links[seat] = href
        player = join_from_query(store, href.split("?", 1)[1])
        assert player.seat == seat and player.state.game_id
        assert join(store, game_code, code).seat == seat
    shot(page, "join", lang)

    # control: draw a card, advance, see a player's proposal live, undo it
    view(page, "control", lang)
    page.locator("button.k360-fac-draw").click()
    page.wait_for_selector(".k360-fac-cards .k360-fac-card[data-card]", timeout=TIMEOUT_MS)
    assert page.locator("button.k360-fac-draw").is_disabled()
    advance(page, "planung")
    ja = join_from_query(store, links["jugendamt"].split("?", 1)[1])
    t0 = time.monotonic()
    ja.submit(C.propose("familienzentrum", "SR15"))
    page.wait_for_selector(
        'tr.k360-fac-monitor-row[data-role="jugendamt"][data-acted="1"]', timeout=TIMEOUT_MS
    )
    delay = time.monotonic() - t0
    print(f"\n[{lang}] player's proposal -> facilitator's monitor: {delay * 1000:.0f} ms")
    assert delay < LIVE_MS / 1000 + 1.0, f"the proposal showed after {delay:.1f} s"
    shot(page, "control", lang)
    page.locator("button.k360-fac-undo").click()
    page.wait_for_selector(
        'tr.k360-fac-monitor-row[data-role="jugendamt"][data-acted="0"]', timeout=TIMEOUT_MS
    )
    ja.poll()
    assert not ja.state.open_proposals()
    # a proposal stays, the projector shows it with budgets and the map
    ja.submit(C.propose("familienzentrum", "SR15"))
    page.wait_for_selector(
        'tr.k360-fac-monitor-row[data-role="jugendamt"][data-acted="1"]', timeout=TIMEOUT_MS
    )
    view(page, "projector", lang)
    page.wait_for_selector(".k360-fac-map .k360-game-map", timeout=TIMEOUT_MS)
    page.wait_for_selector("tr.k360-fac-budget", timeout=TIMEOUT_MS)
    assert page.locator("tr.k360-fac-budget").count() == 3
    page.wait_for_selector('tr.k360-fac-proposal[data-status="open"]', timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)  # let the map draw
    shot(page, "projector", lang)
    # rewind goes back a phase; the log lists what happened
    view(page, "control", lang)
    page.locator("button.k360-fac-rewind").click()
    wait_phase(page, "lage")
    view(page, "log", lang)
    page.wait_for_selector("tr.k360-fac-log-row", timeout=TIMEOUT_MS)
    assert page.locator('tr.k360-fac-log-row[data-type="event_undone"]').count() == 1
    shot(page, "log", lang)
    store.close()


def test_facilitator_resumes_after_a_reload(e2e_page_factory, server, store_path, ui_lang):
    """The facilitator link reopens the running game in a fresh kernel."""
    from k360lib.game.monitor import game_codes, resume
    from k360lib.game.session import create_game
    from k360lib.game.store import open_store

    store = open_store(store_path)
    codes = create_game(store, "kurz", seed=5, meta={"mode": "networked"})
    page = open_app(e2e_page_factory, server, query=codes.query(None))
    assert page.locator(".k360-fac-game-code").inner_text().strip() == codes.game_code
    advance(page, "planung")
    # the store has it: another kernel (a reload) sees the same phase
    again = open_app(e2e_page_factory, server, name="reload", query=codes.query(None))
    wait_phase(again, "planung")
    assert resume(store, codes.game_code, codes.facilitator).state.phase == "planung"
    assert game_codes(resume(store, codes.game_code, codes.facilitator)) == codes
    # a seat's code is not the facilitator's
    bad = open_app(e2e_page_factory, server, name="seatcode")
    bad.locator(".k360-fac-resume-game input").fill(codes.game_code)
    bad.locator(".k360-fac-resume-code input").fill(codes.seats["politik"])
    bad.locator("button.k360-fac-resume").click()
    bad.wait_for_selector(".k360-fac-msg .k360-msg-error", timeout=TIMEOUT_MS)
    assert bad.locator(".k360-fac-game").count() == 0
    store.close()


def test_bad_scenario_upload_names_the_place(e2e_page_factory, server, tmp_path, ui_lang):
    """An uploaded YAML with an error: the message names the file, the path and the line."""
    from k360lib.game.scenario import scenario_dir

    text = (scenario_dir() / "kurzspiel.yaml").read_text(encoding="utf-8")
    path = tmp_path / "unser_spiel.yaml"
    path.write_text(text.replace("budget: 400", "budget: -400", 1), encoding="utf-8")
    page = open_app(e2e_page_factory, server, name="upload")
    with page.expect_file_chooser() as chooser:
        page.locator(".k360-fac-upload").click()
    chooser.value.set_files(str(path))
    msg = page.locator(".k360-fac-msg .k360-msg-error")
    msg.wait_for(timeout=TIMEOUT_MS)
    text = msg.inner_text()
    assert "unser_spiel.yaml" in text and "roles[0].budget" in text
    assert t("game.loc.line", ui_lang, line=1).split()[0] in text  # "Zeile" / "line"
    shot(page, "upload_error", ui_lang)


def test_hotseat_one_browser_plays_a_full_round(e2e_page_factory, server, ui_lang):
    """Acceptance: hot-seat — one browser plays a full round alone (no codes, no network)."""
    from k360lib.game.scenario import load_scenario

    lang = ui_lang
    sc = load_scenario("kurz")
    page = open_app(e2e_page_factory, server, name="hotseat")
    create_game(page, lang, mode="hotseat")
    page.wait_for_selector('.k360-fac-header[data-mode="hotseat"]', timeout=TIMEOUT_MS)
    page.wait_for_selector(
        ".k360-fac-view-hotseat .k360-fac-hotseat-panel .k360-player", timeout=TIMEOUT_MS
    )

    def seat(role: str):
        view(page, "hotseat", lang)
        page.locator(".k360-fac-hotseat-role button", has_text=sc.role(role).label(lang)).click()
        panel = page.locator(f".k360-fac-hotseat-panel .k360-player-seat-{role}")
        panel.wait_for(timeout=TIMEOUT_MS)
        return panel

    def control_advance(to: str, round_: int | None = None):
        view(page, "control", lang)
        advance(page, to, round_)

    def ok(panel):
        panel.locator(".k360-player-message .k360-ok").wait_for(timeout=TIMEOUT_MS)

    # Lage: an event card
    view(page, "control", lang)
    page.locator("button.k360-fac-draw").click()
    page.wait_for_selector(".k360-fac-cards .k360-fac-card[data-card]", timeout=TIMEOUT_MS)
    control_advance("planung")
    # Planung: the youth office proposes (form defaults: its first measure, the neediest area)
    ja = seat("jugendamt")
    ja.locator('.k360-status[data-k360-phase="planung"]').wait_for(timeout=TIMEOUT_MS)
    ja.locator("button.k360-propose-submit").click()
    ja.locator(".k360-proposal.k360-proposal-P1").wait_for(timeout=TIMEOUT_MS)
    shot(page, "hotseat", lang)
    # Verhandlung: the provider co-signs
    control_advance("verhandlung")
    fw = seat("wohlfahrtsverband")
    fw.locator('.k360-status[data-k360-phase="verhandlung"]').wait_for(timeout=TIMEOUT_MS)
    fw.locator(".k360-proposal-P1 button.k360-cosign").click()
    ok(fw)
    # Beschluss: the two roles with votes vote yes
    control_advance("beschluss")
    for role in ("politik", "wohlfahrtsverband"):
        panel = seat(role)
        panel.locator('.k360-status[data-k360-phase="beschluss"]').wait_for(timeout=TIMEOUT_MS)
        panel.locator(".k360-ballot-P1 button", has_text=t("player.vote.yes", lang)).click()
        panel.locator("button.k360-vote-submit").click()
        ok(panel)
    view(page, "control", lang)
    for role in ("politik", "wohlfahrtsverband"):
        page.wait_for_selector(
            f'tr.k360-fac-monitor-row[data-role="{role}"][data-done="1"]', timeout=TIMEOUT_MS
        )
    # Wirkung: the decision and its results on the projector
    advance(page, "wirkung")
    view(page, "projector", lang)
    page.wait_for_selector(
        'tr.k360-fac-proposal[data-proposal="P1"][data-status="approved"]', timeout=TIMEOUT_MS
    )
    page.wait_for_selector(
        '.k360-fac-results[data-round="1"] tr.k360-fac-figure', timeout=TIMEOUT_MS
    )
    page.wait_for_timeout(1500)  # let the map draw
    shot(page, "projector_results", lang)
    # Reflexion: a note (typed text stays text), then the next round
    control_advance("reflexion")
    ja = seat("jugendamt")
    ja.locator('.k360-status[data-k360-phase="reflexion"]').wait_for(timeout=TIMEOUT_MS)
    ja.locator(".k360-note-text textarea").fill(
        "<script>window.__x=1</script> Zusammen geht es besser"
    )
    ja.locator("button.k360-note-submit").click()
    ja.locator(".k360-note-item", has_text="<script>").wait_for(timeout=TIMEOUT_MS)
    assert page.evaluate("window.__x") is None
    control_advance("lage", 2)
