"""End to end: the debrief app (Auswertung) in Voilà + Chromium, and its report opened offline.

A finished game (bots, with player texts that carry markup) is written to a
real SQLite store through the library; the notebook is served with
``K360_STORE`` pointing at it, once per UI language. Screenshots go to
``tests/e2e/artifacts/debrief_<view>_<lang>.png``.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from k360lib.game.scenario import load_scenario
from k360lib.i18n import t

from .harness import ARTIFACTS

pytestmark = pytest.mark.e2e

NOTEBOOK = "05_auswertung.ipynb"
APP = ".k360-debrief"
VIEWPORT = {"width": 1400, "height": 1100}
TIMEOUT_MS = 90_000
GAME_CODE, FAC_CODE = "DBF234", "FACE2345KMNP"
XSS = "<script>alert('debrief')</script> <b>fett</b>"
XSS_PROPOSAL = "<img src=x onerror=alert(1)>"


def _events():
    from k360lib.game import play_game

    events = play_game("kurz", "cooperative", seed=3, notes=True).events
    out, note, prop = [], False, False
    for e in events:
        if e.type == "note_added" and not note:
            e, note = replace(e, payload={**e.payload, "text": XSS}), True
        elif e.type == "proposal_made" and not prop:
            e, prop = replace(e, payload={**e.payload, "note": XSS_PROPOSAL}), True
        out.append(e)
    return out


@pytest.fixture(scope="module")
def store_file(tmp_path_factory, ui_lang):
    from k360lib.game.store import CodeRow, open_store

    path = tmp_path_factory.mktemp(f"debrief-{ui_lang}") / "games.sqlite3"
    events = _events()
    store = open_store(path)
    try:
        store.create_game(events[0], GAME_CODE, [CodeRow(FAC_CODE, "facilitator")])
        for e in events[1:]:
            store.append(e.game_id, e, e.version - 1)
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def server(voila, app_notebook, ui_lang, store_file):
    return voila(app_notebook(NOTEBOOK), lang=ui_lang, env={"K360_STORE": str(store_file)})


def shot(page, view: str, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"debrief_{view}_{lang}.png"), full_page=True)


def open_tab(page, key: str, lang: str) -> None:
    page.get_by_role("tab", name=t(f"debrief.tab.{key}", lang), exact=True).click()


def test_debrief_tabs_and_offline_report(server, ui_lang, e2e_page_factory, browser, tmp_path):
    lang = ui_lang
    session = e2e_page_factory("debrief", viewport=VIEWPORT)
    page = session.open(
        server,
        query=f"game={GAME_CODE}&code={FAC_CODE}",
        ready=f"{APP} .k360-debrief-game-title",
    )
    title = page.locator(f"{APP} .k360-debrief-game-title")
    assert title.get_attribute("data-status") == "ended"
    assert t("debrief.report.title", lang) != ""  # the catalog answers in this language
    page.wait_for_selector(f"{APP} .k360-debrief-summary table.k360-shared", timeout=TIMEOUT_MS)
    shot(page, "summary", lang)

    open_tab(page, "trajectories", lang)
    page.wait_for_selector(f"{APP} .k360-debrief-chart svg.k360-chart", timeout=TIMEOUT_MS)
    # options: the need index, then the model's indicators (the first is sgb2_u15_rate)
    page.locator(f"{APP} .k360-debrief-indicator select").select_option(index=1)
    page.wait_for_selector(
        f'{APP} .k360-debrief-indicator-chart[data-indicator="sgb2_u15_rate"] polyline',
        timeout=TIMEOUT_MS,
    )
    shot(page, "trajectories", lang)

    open_tab(page, "maps", lang)
    maps = page.locator(f"{APP} .k360-debrief-maps svg.k360-map")
    maps.first.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert maps.count() == 3
    assert page.locator(f"{APP} .k360-debrief-maps path.k360-area").count() == 3 * 24
    assert page.locator(f"{APP} .k360-debrief-maps .k360-marker").count() >= 1
    shot(page, "maps", lang)

    open_tab(page, "decisions", lang)
    page.wait_for_selector(
        f"{APP} .k360-debrief-decisions table.k360-decisions", timeout=TIMEOUT_MS
    )
    # the player's markup is text on the screen, never an element
    assert page.get_by_text(XSS_PROPOSAL, exact=False).count() >= 1
    assert page.locator(f"{APP} img[src='x']").count() == 0
    politik = load_scenario("kurz").role("politik").label(lang)
    page.locator(f"{APP} .k360-debrief-role select").select_option(label=politik)
    page.wait_for_selector(
        f'{APP} .k360-debrief-decisions table[data-role="jugendamt"]',
        state="detached",
        timeout=TIMEOUT_MS,
    )
    assert page.locator(f'{APP} .k360-debrief-decisions table[data-role="politik"]').count() == 1
    shot(page, "decisions", lang)

    open_tab(page, "network", lang)
    page.wait_for_selector(f"{APP} svg.k360-network .k360-net-edge", timeout=TIMEOUT_MS)
    assert page.locator(f"{APP} svg.k360-network .k360-net-node").count() == 3
    shot(page, "network", lang)

    open_tab(page, "goals", lang)
    page.wait_for_selector(f"{APP} .k360-debrief-goals table.k360-goals", timeout=TIMEOUT_MS)
    shot(page, "goals", lang)

    open_tab(page, "reflection", lang)
    stages = page.locator(f"{APP} .k360-debrief-reflection .k360-stage")
    stages.first.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert stages.count() == 4
    assert t("debrief.stage.transfer", lang) in stages.nth(3).inner_text()
    assert page.get_by_text(XSS, exact=False).count() >= 1
    assert page.locator(f"{APP} b:text-is('fett')").count() == 0
    shot(page, "reflection", lang)

    open_tab(page, "export", lang)
    page.locator(f"{APP} .k360-debrief-make-html").click()
    link = page.locator(f"{APP} a.k360-download-html")
    link.wait_for(state="visible", timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as dl:
        link.click()
    report = tmp_path / f"auswertung_{lang}.html"
    dl.value.save_as(str(report))
    assert dl.value.suggested_filename == f"auswertung_{GAME_CODE}.html"
    page.locator(f"{APP} .k360-debrief-make-xlsx").click()
    xlink = page.locator(f"{APP} a.k360-download-xlsx")
    xlink.wait_for(state="visible", timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as xdl:
        xlink.click()
    xlsx = tmp_path / f"auswertung_{lang}.xlsx"
    xdl.value.save_as(str(xlsx))
    shot(page, "export", lang)

    from openpyxl import load_workbook

    assert t("debrief.sheet.network", lang) in load_workbook(xlsx).sheetnames

    # the report in a NEW browser context that is offline and refuses every non-file request
    context = browser.new_context(viewport=VIEWPORT)
    requested: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            requested.append(url)
            route.abort()

    try:
        context.set_offline(True)
        context.route("**/*", guard)
        offline = context.new_page()
        errors: list[str] = []
        offline.on("pageerror", lambda e: errors.append(str(e)))
        offline.goto(report.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        areas = offline.locator("svg.k360-map path.k360-area")
        assert areas.count() == 24 * (3 + 9)
        box = offline.locator('svg.k360-map[data-which="after"]').bounding_box()
        assert box and box["width"] > 200 and box["height"] > 150
        assert offline.locator("svg.k360-chart polyline").count() > 10
        assert offline.evaluate("document.scripts.length") == 0
        assert offline.get_by_text(XSS, exact=False).count() >= 1
        assert offline.locator("img").count() == 0
        assert offline.evaluate("document.documentElement.lang") == lang
        time.sleep(0.2)
        offline.screenshot(path=str(ARTIFACTS / f"debrief_report_{lang}.png"), full_page=True)
        assert requested == [] and errors == []
    finally:
        context.close()


def test_debrief_shows_no_game_list_and_opens_by_code(server, ui_lang, e2e_page_factory):
    lang = ui_lang
    session = e2e_page_factory("by-code", viewport=VIEWPORT)
    page = session.open(server, ready=f"{APP} .k360-debrief-code input")
    # the finished games of the store are not listed (privacy on a shared server)
    assert page.locator(f"{APP} .k360-debrief-list").count() == 0
    assert page.locator(f"{APP} .k360-debrief-open-list").count() == 0
    assert GAME_CODE not in page.locator(APP).inner_text()
    # a wrong code is refused with a message
    page.locator(f"{APP} .k360-debrief-game input").fill(GAME_CODE)
    page.locator(f"{APP} .k360-debrief-code input").fill("WRONG-CODE")
    page.locator(f"{APP} .k360-debrief-open").click()
    page.wait_for_selector(f'{APP} .k360-debrief-msg [data-kind="error"]', timeout=TIMEOUT_MS)
    assert page.locator(f"{APP} .k360-debrief-game-title").count() == 0
    # the facilitator's code opens the game
    page.locator(f"{APP} .k360-debrief-code input").fill(FAC_CODE)
    page.locator(f"{APP} .k360-debrief-open").click()
    page.wait_for_selector(f"{APP} .k360-debrief-game-title", timeout=TIMEOUT_MS)
    assert (
        t("debrief.tab.reflection", lang) in page.locator(f"{APP} .k360-debrief-tabs").inner_text()
    )
    shot(page, "by_code", lang)
