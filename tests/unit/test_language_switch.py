"""Each existing app under ``AppShell``: switching the language keeps the user's work."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from k360lib.i18n import set_lang, t
from k360lib.widgets.shell import AppShell


@pytest.fixture(autouse=True)
def _reset_lang():
    yield
    set_lang(None)


@pytest.fixture(scope="module", autouse=True)
def _private_geometry_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("K360_CACHE_DIR", str(tmp_path_factory.mktemp("geometry-cache")))
        yield


def test_atlas_explorer_keeps_indicator_and_year():
    from k360lib.widgets import AtlasExplorer

    shell = AppShell(AtlasExplorer.demo, lang="de", defer=False)
    first = shell.app
    first._indicator.value = "unemployment"
    first._year.value = 2022
    assert first.relaunch_kwargs() == {"indicator": "unemployment", "year": 2022}

    shell.switch("en")
    app = shell.app
    assert app is not first and app.lang == "en"
    assert (app.view.indicator, app.view.year) == ("unemployment", 2022)
    assert app._indicator.description == t("widgets.atlas.indicator", "en")
    assert app._indicator.label == "Social situation: Unemployment rate"
    assert t("widgets.atlas.title", "en", city=app.atlas.name) in app._header.value
    # the old app's widgets are closed (no comm left open)
    assert first.container.comm is None and first._indicator.comm is None
    assert shell.container.children[1] is app.container


def test_atlas_explorer_does_not_keep_the_need_index():
    from k360lib.widgets import AtlasExplorer
    from k360lib.widgets.atlas_explorer import NEED_INDEX

    app = AtlasExplorer.demo(lang="de", defer=False)
    app._indicator.value = NEED_INDEX
    assert app.relaunch_kwargs() == {}


def test_responsibility_board_keeps_edits_and_perspectives():
    from k360lib.widgets.responsibility_board import ResponsibilityBoard

    shell = AppShell(ResponsibilityBoard.demo, lang="de")
    first = shell.app
    first.matrix.set("babylotsen", "freie_traeger", "R")
    first.add_perspective(first.matrix, "Jugendamt")
    shell.switch("en")
    app = shell.app
    assert app.lang == "en" and app.atlas is first.atlas
    assert app.matrix.get("babylotsen", "freie_traeger") == "R"
    assert list(app.perspectives) == ["Jugendamt"]
    assert "Jugendamt" in app._p_list.value
    assert t("resp.ui.tab.chain", "en") in app._tab.titles
    assert t("resp.ui.tab.chain", "de") not in app._tab.titles
    assert 'data-gaps="0"' in app._summary.value


def _areas() -> bytes:
    names = ["Altstadt", "Neustadt", "Nordstadt"]
    gdf = gpd.GeoDataFrame(
        {"SR_NR": [f"STGT{i:02d}" for i in range(1, 4)], "SR_NAME": names},
        geometry=[box(9.40 + 0.01 * i, 54.78, 9.41 + 0.01 * i, 54.79) for i in range(3)],
        crs=4326,
    )
    return gdf.to_json(drop_id=True).encode("utf-8")


TABLE = "Gebiet;Kinder 2023\nAltstadt;1.374\nNeustdt;2.191\nNordstadt;2\n".encode("cp1252")


def test_import_app_keeps_files_and_reruns_the_report_in_the_new_language():
    from k360lib.widgets import ImportApp

    shell = AppShell(ImportApp, lang="de")
    first = shell.app
    first.add_file("areas", "sozialraeume.geojson", _areas())
    first.add_file("table", "kinder.csv", TABLE)
    first._city.value = "Teststadt"
    first.run()
    assert "Neustdt" in first._mapping_boxes
    first._mapping_boxes["Neustdt"][0].value = True
    first.run()
    first.open_explorer()
    german = first._report.value

    shell.switch("en")
    app = shell.app
    assert app.lang == "en" and app._city.value == "Teststadt"
    assert "sozialraeume.geojson" in app._files.value and "kinder.csv" in app._files.value
    assert app.report is not None and app._report.value != german
    assert app.atlas is not None and app.atlas.name == "Teststadt"
    # the confirmed mapping was kept: Neustadt has its value
    assert app.atlas.values("kinder", 2023).set_index("area_id").loc["STGT02", "value"] == 2191
    assert app.explorer is not None and app.explorer.lang == "en"
    assert first.explorer.container.comm is None  # the old explorer was closed


def test_import_app_without_files_starts_empty():
    from k360lib.widgets import ImportApp

    shell = AppShell(ImportApp, lang="en")
    shell.switch("de")
    assert shell.app.report is None and shell.app._run.disabled
