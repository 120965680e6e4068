"""The language switch above each app (``AppShell``) in Voilà + Chromium.

For the atlas (01), the Zuständigkeiten board (02) and the import app (06):
open the app in ``ui_lang``, do something worth keeping, click the other
language in ``.k360-lang-switch`` and check that the app's texts are now in
that language (from the catalog) and the user's work is still there.
Screenshots: ``tests/e2e/artifacts/switch_<app>_<from>-<to>.png``.
"""

from __future__ import annotations

import time

import pytest

from k360lib.i18n import LANGS, t

from .harness import ARTIFACTS

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 60_000
SWITCH = ".k360-lang-switch"


def other(lang: str) -> str:
    return next(code for code in LANGS if code != lang)


def switch_to(page, lang: str) -> None:
    """Click the language ``lang`` in the switch above the app and wait for the rebuilt app."""
    page.locator(f"{SWITCH} button", has_text=t("lang.name", lang)).click()
    page.wait_for_selector(f".k360-shell.k360-lang-{lang}", timeout=TIMEOUT_MS)


def title_is(page, app: str, text: str) -> None:
    page.wait_for_function(
        "([sel, text]) => { const h = document.querySelector(sel);"
        " return !!h && h.innerText.trim() === text; }",
        arg=[f"{app} h2.k360-title", text],
        timeout=TIMEOUT_MS,
    )


def shot(page, app: str, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"switch_{app}_{lang}-{other(lang)}.png"), full_page=True)


def map_indicator(page, timeout: float = 60.0) -> str | None:
    """The indicator the atlas map shows once its polygons are drawn."""
    from k360lib.widgets.atlas_explorer import MAP_FRAME_ID

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        element = page.query_selector(f"iframe#{MAP_FRAME_ID}")
        frame = element.content_frame() if element else None
        if frame is not None:
            try:
                if frame.evaluate("document.querySelectorAll('path.k360-area').length"):
                    return frame.evaluate("document.body.dataset.k360Indicator")
            except Exception:  # noqa: BLE001 - the frame was (re)loading
                pass
        time.sleep(0.25)
    raise AssertionError(f"no map with polygons within {timeout:.0f} s")


def test_atlas_switch_changes_texts_and_keeps_the_indicator(e2e_page, voila, app_notebook, ui_lang):
    from k360lib.atlas.demo import demo_atlas
    from k360lib.report.profile import label_of, text_of

    app = ".k360-atlas-explorer"
    demo = demo_atlas()
    server = voila(app_notebook("01_sozialraum_atlas.ipynb"), lang=ui_lang)
    page = e2e_page.open(server, ready=app)
    title_is(page, app, t("widgets.atlas.title", ui_lang, city=demo.name))
    map_indicator(page)
    page.locator(f"{app} .k360-indicator select").select_option(
        label=f"{text_of(demo, 'unemployment', 'theme', ui_lang)}: "
        f"{label_of(demo, 'unemployment', ui_lang)}"
    )
    deadline = time.monotonic() + 60
    while map_indicator(page) != "unemployment" and time.monotonic() < deadline:
        time.sleep(0.25)

    new = other(ui_lang)
    switch_to(page, new)
    title_is(page, app, t("widgets.atlas.title", new, city=demo.name))
    assert t("widgets.atlas.indicator", new) in page.locator(f"{app} .k360-indicator").inner_text()
    chosen = (
        page.locator(f"{app} .k360-indicator select")
        .evaluate("s => s.options[s.selectedIndex].text")
        .replace("\xa0", " ")
    )  # the browser shows option texts with non-breaking spaces
    assert chosen == f"{text_of(demo, 'unemployment', 'theme', new)}: " + label_of(
        demo, "unemployment", new
    )
    assert map_indicator(page) == "unemployment", "the chosen indicator survives the switch"
    shot(page, "atlas", ui_lang)


def test_board_switch_changes_texts_and_keeps_the_matrix(
    e2e_page_factory, voila, app_notebook, ui_lang
):
    app = ".k360-responsibility-board"
    server = voila(app_notebook("02_zustaendigkeiten.ipynb"), lang=ui_lang)
    session = e2e_page_factory(viewport={"width": 1440, "height": 1500})
    page = session.open(server, ready=f"{app} .k360-grid .k360-rowlabel")
    title_is(page, app, t("resp.ui.title", ui_lang))
    page.locator(f"{app} .k360-brush").get_by_role("button", name="R", exact=True).click()
    page.locator(f"{app} .k360-cell.k360-svc-babylotsen.k360-act-freie_traeger").click()
    ok = f'{app} .k360-rowlabel[data-service="babylotsen"][data-status="ok"]'
    page.wait_for_selector(ok, timeout=TIMEOUT_MS)

    new = other(ui_lang)
    switch_to(page, new)
    title_is(page, app, t("resp.ui.title", new))
    page.get_by_role("tab", name=t("resp.ui.tab.chain", new)).wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_role("tab", name=t("resp.ui.tab.chain", ui_lang)).count() == 0
    page.wait_for_selector(ok, timeout=TIMEOUT_MS)  # the edit survives the switch
    shot(page, "board", ui_lang)


def test_import_switch_changes_texts_and_keeps_the_files(
    e2e_page, voila, app_notebook, ui_lang, tmp_path
):
    import geopandas as gpd
    from shapely.geometry import box

    app = ".k360-import-app"
    path = tmp_path / "gebiete.geojson"
    gpd.GeoDataFrame(
        {"SR_NR": ["A", "B"], "SR_NAME": ["Nord", "Süd"]},
        geometry=[box(9.40, 54.78, 9.41, 54.79), box(9.41, 54.78, 9.42, 54.79)],
        crs=4326,
    ).to_file(path, driver="GeoJSON")
    server = voila(app_notebook("06_eigene_daten.ipynb"), lang=ui_lang)
    page = e2e_page.open(server, ready=app)
    title_is(page, app, t("widgets.import.title", ui_lang))
    with page.expect_file_chooser(timeout=TIMEOUT_MS) as chooser:
        page.locator(f"{app} .k360-upload-areas").click()
    chooser.value.set_files(str(path))
    page.wait_for_function(
        "() => document.querySelector('.k360-files').innerText.includes('gebiete.geojson')",
        timeout=TIMEOUT_MS,
    )

    new = other(ui_lang)
    switch_to(page, new)
    title_is(page, app, t("widgets.import.title", new))
    files = page.locator(f"{app} .k360-files").inner_text()
    assert "gebiete.geojson" in files, "the uploaded file survives the switch"
    assert files.startswith(t("widgets.import.areas", new))
    assert not page.locator(f"{app} button.k360-import-run").is_disabled()
    shot(page, "import", ui_lang)
