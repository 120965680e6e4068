"""The import app in Voilà + Chromium, offline: upload a messy German CSV, read the report,
confirm a proposed key, open the result in the explorer; a bad file shows a report, never a
traceback. Runs in German and English (``ui_lang``); expected texts come from the catalog.
Screenshots: ``tests/e2e/artifacts/atlas_import_*.png``.
"""

from __future__ import annotations

import time

import pytest

from k360lib.i18n import t

from .harness import ARTIFACTS
from .texts import message_pattern

pytestmark = pytest.mark.e2e

NOTEBOOK = "06_eigene_daten.ipynb"
APP = ".k360-import-app"
NAMES = ["Altstadt", "Neustadt", "Nordstadt", "Westliche Höhe", "Südviertel", "Am Hafen"]
#: semicolons, decimal comma, thousands dot, cp1252, a title row, keys in four forms,
#: a typo ("Südvirtel"), a suppressed cell ("–") and a small count (2)
MESSY_CSV = (
    "Sozialatlas 2023 – Kinder und Jugendliche\n"
    "Gebiet;Kinder unter 18;SGB-II-Quote 2023\n"
    "01 Altstadt;1.374;35,5 %\n"
    "2;2.191;45,2 %\n"
    "stgt03;5.782;–\n"
    "Westliche Höhe;2;26,8 %\n"
    "Südvirtel;1.120;12,0 %\n"
    "06 Am Hafen;845;8,1 %\n"
).encode("cp1252")


@pytest.fixture(scope="module")
def server(voila, app_notebook, ui_lang):
    return voila(app_notebook(NOTEBOOK), lang=ui_lang)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import geopandas as gpd
    from shapely.geometry import box

    folder = tmp_path_factory.mktemp("upload")
    gpd.GeoDataFrame(
        {"SR_NR": [f"STGT{i:02d}" for i in range(1, 7)], "SR_NAME": NAMES},
        geometry=[
            box(
                9.40 + 0.01 * (i % 3),
                54.78 + 0.01 * (i // 3),
                9.41 + 0.01 * (i % 3),
                54.79 + 0.01 * (i // 3),
            )
            for i in range(6)
        ],
        crs=4326,
    ).to_file(folder / "sozialraeume.geojson", driver="GeoJSON")
    (folder / "kinder_2023.csv").write_bytes(MESSY_CSV)
    (folder / "kaputt.geojson").write_bytes(b'{"type": "FeatureCollection", "features": [')
    return folder


def shot(page, name: str, lang: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = name if lang == "de" else f"{name}_{lang}"
    size = page.viewport_size
    height = page.evaluate(
        "() => { const app = document.querySelector('.k360-import-app');"
        " app.scrollIntoView(); return app.getBoundingClientRect().height + 120; }"
    )
    page.set_viewport_size({"width": size["width"], "height": int(max(size["height"], height))})
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        page.set_viewport_size(size)


def upload(page, widget_class: str, path) -> None:
    """Click an upload button and pick ``path`` in the file chooser, as a user would."""
    with page.expect_file_chooser() as chooser:
        page.locator(f"{APP} .{widget_class}").click()
    chooser.value.set_files(str(path))


def report(page) -> str:
    return page.locator(f"{APP} .k360-import-report").inner_text()


def wait_report_change(page, old: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = report(page)
        if text.strip() and text != old:
            return text
        time.sleep(0.25)
    raise AssertionError(f"the report did not change within {timeout:.0f} s: {old[:300]}")


def test_messy_german_csv_report_confirm_and_explore(e2e_page, server, files, ui_lang):
    too_few = t("atlas.classify.legend.suppressed", ui_lang)
    unmatched = message_pattern("atlas.match.unmatched", ui_lang, label="Südvirtel")
    page = e2e_page.open(server, ready=APP)
    upload(page, "k360-upload-areas", files / "sozialraeume.geojson")
    upload(page, "k360-upload-tables", files / "kinder_2023.csv")
    run = page.locator(f"{APP} button.k360-import-run")
    page.wait_for_function(
        "() => !document.querySelector('.k360-import-run').disabled"
        " && document.querySelector('.k360-files').innerText.includes('kinder_2023.csv')",
        timeout=30_000,
    )
    run.click()
    text = wait_report_change(page, "")
    # the problems are named, with file, row and the suggestion
    assert unmatched.search(text) and "STGT05" in text
    assert t("loc.row", ui_lang, row=7) in text and "kinder_2023.csv" in text
    assert "cp1252" in text and message_pattern("atlas.tables.title_row", ui_lang).search(text)
    assert too_few in text
    assert "Traceback" not in page.inner_text("body")
    shot(page, "atlas_import_report", ui_lang)

    # confirm the proposed key and import again
    mapping = page.locator(f"{APP} .k360-mapping", has_text="Südvirtel")
    mapping.locator("input").check()
    page.locator(f"{APP} button.k360-import-rerun").click()
    text = wait_report_change(page, text)
    assert not message_pattern("atlas.match.unmatched", ui_lang).search(text)
    assert message_pattern("atlas.match.summary", ui_lang, matched=6, n=6).search(text)

    page.locator(f"{APP} button.k360-import-open").click()
    page.wait_for_selector(f"{APP} .k360-atlas-explorer iframe#k360-atlas-map", timeout=60_000)
    element = page.query_selector("iframe#k360-atlas-map")
    frame = element.content_frame()
    frame.wait_for_selector("path.k360-area", timeout=30_000)
    ids = frame.eval_on_selector_all("path.k360-area", "ps => ps.map(p => p.dataset.k360Area)")
    assert sorted(ids) == [f"STGT{i:02d}" for i in range(1, 7)]
    legend = frame.inner_text("#k360-legend")
    assert "SGB-II-Quote" in legend and "2023" in legend
    assert f"{too_few} (1)" in legend  # the "–" cell
    shot(page, "atlas_import_explorer", ui_lang)


def test_a_broken_file_shows_the_report_not_a_traceback(e2e_page, server, files, ui_lang):
    page = e2e_page.open(server, ready=APP)
    upload(page, "k360-upload-areas", files / "kaputt.geojson")
    page.wait_for_function(
        "() => !document.querySelector('.k360-import-run').disabled", timeout=30_000
    )
    page.locator(f"{APP} button.k360-import-run").click()
    text = wait_report_change(page, "")
    assert "kaputt.geojson" in text and t("widgets.import.level.error", ui_lang) in text
    assert "Traceback" not in page.inner_text("body")
    assert page.locator(f"{APP} button.k360-import-open").is_disabled()
    shot(page, "atlas_import_error", ui_lang)
