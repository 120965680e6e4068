"""End to end: the Zuständigkeiten board in Voilà + Chromium, as users get it (``k360 serve``).

One Voilà server per UI language (``ui_lang``: German and English, texts
through ``t``); every test opens a fresh page (a fresh kernel). Screenshots of each view go to
``tests/e2e/artifacts/responsibility_<view>.png``. The harness fails a test
whose page loads anything from a non-local host or throws an uncaught error.
"""

from __future__ import annotations

import io
import time

import pytest

from k360lib.i18n import t

from .harness import ARTIFACTS
from .texts import message_pattern

pytestmark = pytest.mark.e2e

NOTEBOOK = "02_zustaendigkeiten.ipynb"
APP = ".k360-responsibility-board"
READY = f"{APP} .k360-grid .k360-rowlabel"
VIEWPORT = {"width": 1440, "height": 1500}
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server(voila, app_notebook, ui_lang):
    return voila(app_notebook(NOTEBOOK), lang=ui_lang)


@pytest.fixture(scope="module")
def cat():
    from k360lib.responsibility import load_catalog

    return load_catalog()


@pytest.fixture
def board(e2e_page_factory, server):
    """A fresh board page (its own kernel)."""
    session = e2e_page_factory(viewport=VIEWPORT)
    session.open(server, ready=READY)
    return session.page


def shot(page, view: str, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if lang == "de" else f"_{lang}"
    page.screenshot(path=str(ARTIFACTS / f"responsibility_{view}{suffix}.png"), full_page=True)


def open_tab(page, key: str, lang: str) -> None:
    page.get_by_role("tab", name=t(f"resp.ui.tab.{key}", lang)).click()


def row(page, service: str):
    return page.locator(f'{APP} .k360-rowlabel[data-service="{service}"]')


def upload_files(page, widget_class: str, paths) -> None:
    """Choose files in an ipywidgets FileUpload (its <input type=file> is not in the DOM)."""
    with page.expect_file_chooser(timeout=TIMEOUT_MS) as chooser:
        page.locator(f"{APP} .{widget_class}").click()
    chooser.value.set_files(paths)


def set_role(page, role: str, service: str, actor: str) -> None:
    brush = page.locator(f"{APP} .k360-brush")
    brush.get_by_role("button", name=role, exact=True).click()
    page.locator(f"{APP} .k360-cell.k360-svc-{service}.k360-act-{actor}").click()


def test_setting_a_role_in_the_grid_closes_the_gap(board, ui_lang):
    page = board
    assert row(page, "babylotsen").get_attribute("data-status") == "gap"
    assert page.locator(f'{APP} .k360-summary[data-gaps="1"]').count() == 1
    assert (
        page.locator(f'{APP} .k360-issue[data-service="babylotsen"][data-kind="gap"]').count() == 1
    )

    set_role(page, "R", "babylotsen", "freie_traeger")

    page.wait_for_selector(
        f'{APP} .k360-rowlabel[data-service="babylotsen"][data-status="ok"]', timeout=TIMEOUT_MS
    )
    page.wait_for_selector(f'{APP} .k360-summary[data-gaps="0"]', timeout=TIMEOUT_MS)
    assert page.locator(f'{APP} .k360-issue[data-service="babylotsen"]').count() == 0
    cell = page.locator(f"{APP} .k360-cell.k360-svc-babylotsen.k360-act-freie_traeger")
    assert cell.inner_text().strip() == "R" and "k360-role-R" in cell.get_attribute("class")
    shot(page, "grid", ui_lang)


def test_chain_network_and_map_views(board, cat, ui_lang):
    page = board
    open_tab(page, "chain", ui_lang)
    page.wait_for_selector(f"{APP} svg.k360-chain-svg", timeout=TIMEOUT_MS)
    assert page.locator(f"{APP} svg.k360-chain-svg .k360-chain-gap").count() == 7
    assert (
        page.locator(
            f'{APP} svg.k360-chain-svg .k360-chain-gap[data-phase="pregnancy"]'
        ).get_attribute("data-gaps")
        == "1"
    )
    assert page.locator(f"{APP} table.k360-handoffs tr[data-status]").count() == 6
    shot(page, "chain", ui_lang)

    open_tab(page, "network", ui_lang)
    page.wait_for_selector(f"{APP} svg.k360-network-svg", timeout=TIMEOUT_MS)
    assert page.locator(f"{APP} svg.k360-network-svg .k360-net-node").count() == len(cat.actors)
    link = page.locator(f"{APP} a.k360-download-network")
    assert link.get_attribute("href").startswith("data:image/svg+xml;base64,")
    page.locator(f"{APP} .k360-net-focus select").select_option(
        label=cat.actor("jobcenter").name(ui_lang)
    )
    page.wait_for_selector(
        f'{APP} table.k360-interfaces tr[data-partner="sozialamt"]', timeout=TIMEOUT_MS
    )
    shot(page, "network", ui_lang)

    open_tab(page, "map", ui_lang)
    frame_el = page.wait_for_selector("iframe#k360-resp-map", timeout=TIMEOUT_MS)
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline:
        frame = frame_el.content_frame()
        if frame is not None:
            try:
                n = frame.evaluate("document.querySelectorAll('path.k360-area').length")
            except Exception:  # noqa: BLE001 - the frame was replaced while we read it
                n = 0
            if n:
                break
        time.sleep(0.25)
    assert n == 24, "one polygon per Sozialraum of the demo city"
    legend = frame.evaluate("document.getElementById('k360-legend').innerText")
    assert t("resp.coverage.in", ui_lang) in legend
    statuses = frame.evaluate(
        "[...document.querySelectorAll('path.k360-area')].map(p => p.getAttribute('data-k360-status'))"
    )
    assert set(statuses) <= {"in", "near", "none"} and "in" in statuses
    time.sleep(0.5)  # let Leaflet finish painting before the picture
    shot(page, "map", ui_lang)


def test_two_perspective_files_show_their_disagreements(board, cat, tmp_path, ui_lang):
    from k360lib.responsibility import to_xlsx

    a = cat.default_matrix("Jugendamt")
    b = cat.default_matrix("Freie Träger")
    b.set("kindergeld", "familienkasse", None)
    b.set("kindergeld", "jugendamt", "AR")
    b.set("jugendarbeit", "schulen", "R")
    b.set("babylotsen", "freie_traeger", "R")
    paths = []
    for name, m in (("jugendamt.xlsx", a), ("freie_traeger.xlsx", b)):
        path = tmp_path / name
        path.write_bytes(to_xlsx(m, ui_lang))
        paths.append(str(path))

    page = board
    open_tab(page, "perspectives", ui_lang)
    upload_files(page, "k360-persp-upload", paths)
    page.wait_for_selector(f'{APP} table.k360-disagreements tr[data-rank="1"]', timeout=TIMEOUT_MS)
    rows = page.locator(f"{APP} table.k360-disagreements tr.k360-disagreement")
    found = [(r.get_attribute("data-service"), r.get_attribute("data-actor")) for r in rows.all()]
    assert found[:2] == [("kindergeld", "jugendamt"), ("kindergeld", "familienkasse")]
    assert set(found) == {
        ("kindergeld", "jugendamt"),
        ("kindergeld", "familienkasse"),
        ("jugendarbeit", "schulen"),
        ("babylotsen", "freie_traeger"),
    }
    text = page.locator(f"{APP} .k360-persp-result").inner_text()
    assert "Jugendamt" in text and "Freie Träger" in text
    assert (
        page.locator(f'{APP} table.k360-acc-conflicts tr[data-service="kindergeld"]').count() == 1
    )
    shot(page, "perspectives", ui_lang)


def test_xlsx_export_reimports_identically_and_a_bad_file_changes_nothing(
    board, cat, tmp_path, ui_lang
):
    from openpyxl import load_workbook

    from k360lib.responsibility import from_xlsx

    page = board
    set_role(page, "R", "babylotsen", "freie_traeger")
    page.wait_for_selector(
        f'{APP} .k360-rowlabel[data-service="babylotsen"][data-status="ok"]', timeout=TIMEOUT_MS
    )
    expected = cat.default_matrix()
    expected.set("babylotsen", "freie_traeger", "R")

    page.locator(f"{APP} .k360-export-button").click()
    link = page.wait_for_selector(f"{APP} a.k360-download-xlsx", timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"{t('resp.ui.file_stem', ui_lang)}.xlsx"
    exported = tmp_path / "export.xlsx"
    download.save_as(str(exported))
    assert from_xlsx(exported.read_bytes(), cat) == expected

    # re-import the exported file: accepted, nothing changes
    upload_files(page, "k360-matrix-upload", str(exported))
    ok = page.wait_for_selector(f"{APP} .k360-status .k360-msg-ok", timeout=TIMEOUT_MS)
    assert message_pattern("resp.ui.loaded", ui_lang, changed=0).search(ok.inner_text()), (
        ok.inner_text()
    )

    # a file with an invalid role code: error names sheet and cell, the matrix stays
    from k360lib.responsibility.exchange import SHEET_NAMES

    sheet = SHEET_NAMES["matrix"][ui_lang]
    wb = load_workbook(io.BytesIO(exported.read_bytes()))
    wb[sheet]["D7"] = "X"
    bad = tmp_path / "kaputt.xlsx"
    wb.save(bad)
    upload_files(page, "k360-matrix-upload", str(bad))
    err = page.wait_for_selector(f"{APP} .k360-status .k360-msg-error", timeout=TIMEOUT_MS)
    where = f"{t('loc.sheet', ui_lang, sheet=sheet)}, {t('loc.cell', ui_lang, cell='D7')}"
    assert where in err.inner_text()
    assert row(page, "babylotsen").get_attribute("data-status") == "ok"

    # export again: still the same matrix (a locator, not an element handle: the new
    # export replaces the link element, and a handle to the old one may be detached)
    page.locator(f"{APP} .k360-export-button").click()
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.locator(f"{APP} a.k360-download-xlsx").click(timeout=TIMEOUT_MS)
    again = tmp_path / "again.xlsx"
    info.value.save_as(str(again))
    assert from_xlsx(again.read_bytes(), cat) == expected
    shot(page, "exchange", ui_lang)
