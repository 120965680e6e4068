"""Tests of the atlas app (k360lib.widgets.AtlasExplorer) without a browser."""

from __future__ import annotations

import html
import io
import json
import re
import subprocess
import sys

import ipywidgets as W
import pandas as pd
import pytest

from k360lib.errors import DataError
from k360lib.i18n import t
from k360lib.widgets import AtlasExplorer
from k360lib.widgets.atlas_explorer import MAP_FRAME_ID, NEED_INDEX

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module", autouse=True)
def _private_geometry_cache(tmp_path_factory):
    """Keep the on-disk geometry cache of these tests out of the user's home."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("K360_CACHE_DIR", str(tmp_path_factory.mktemp("geometry-cache")))
        yield


@pytest.fixture(scope="module")
def app():
    return AtlasExplorer.demo(lang="de")


@pytest.fixture
def fresh():
    return AtlasExplorer.demo(lang="de")


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def frame_attr(app, name):
    m = re.search(rf'{name}="([^"]*)"', app._map.value)
    return m.group(1) if m else None


def channel(app, which="_channel_state") -> dict:
    value = getattr(app, which).value
    m = re.fullmatch(
        r'<script type="application/json" id="([^"]+)" data-seq="(\d+)">(.*)</script>', value, re.S
    )
    assert m, value[:200]
    data = json.loads(m.group(3))
    data["_id"], data["_seq"] = m.group(1), int(m.group(2))
    return data


def text_of(value: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", value))


def test_container_shows_title_disclaimer_controls_and_map(app):
    assert isinstance(app.container, W.VBox)
    assert "k360-atlas-explorer" in app.container._dom_classes
    header = app._header.value
    assert html.escape(t("widgets.atlas.title", "de", city=app.atlas.name)) in header
    assert "k360-disclaimer" in header and "Fiktive Demo-Stadt" in header
    value = app._map.value
    assert value.startswith("<iframe") and f'id="{MAP_FRAME_ID}"' in value and "srcdoc=" in value
    assert 'title="Karte"' in value  # the frame stays; what it shows is in its legend
    assert f'data-k360-channel="{app.channel}"' in value
    assert 'sandbox="allow-scripts allow-same-origin"' in value
    assert app.view is not None and app.view.n_areas == len(app.atlas.areas)
    assert app.view.indicator == "sgb2_u15_rate"  # first rate in the catalog
    state = channel(app)
    assert state["_id"] == f"{app.channel}-state" and state["_seq"] == state["seq"] == app.view.seq
    assert state["data"]["indicator"] == "sgb2_u15_rate"


def test_the_live_map_document_holds_no_data_and_profiles_follow(app):
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', app._map.value).group(1))
    cfg = json.loads(re.search(r"k360map\.init\(\w+, (\{.*?\})\);\n", srcdoc, re.S).group(1))
    assert cfg["state"] is None and cfg["profile"] is None  # both come through the page
    assert cfg["facilities"]["points"] is None
    prof = channel(app, "_channel_profile")
    assert prof["_id"] == f"{app.channel}-profile"
    assert [i["id"] for i in prof["ind"]][:2] == ["migration_u18", "sgb2_u15_rate"]
    assert srcdoc == app.amap.live_document()


def test_panels_can_be_finished_in_the_background():
    app = AtlasExplorer.demo(lang="de", defer=True)
    assert app.view is not None  # the map is there at once
    assert app.wait_ready(30)
    assert app.need is not None and app.hotspot_frame is not None
    assert app.container.children[-1] is app._tabs
    assert channel(app, "_channel_profile")["years"] == [2021, 2022, 2023, 2024]


def test_no_output_widget_anywhere(app):
    # Voilà can hang on the first render of a large Output widget (voila#1428)
    assert not any(isinstance(w, W.Output) for w in walk(app.container))


def test_changing_the_indicator_sends_only_a_state(fresh):
    frame = fresh._map.value
    before = channel(fresh)
    fresh._indicator.value = "kwg_per_1000"
    assert fresh._map.value == frame  # the drawn map stays; no new document
    after = channel(fresh)
    assert after["_seq"] > before["_seq"]
    assert after["data"]["indicator"] == "kwg_per_1000" == fresh.view.indicator
    assert "Gefährdungseinschätzungen je 1.000 Minderjährige" in after["legend"]
    assert after["s"] != before["s"] or after["legend"] != before["legend"]
    assert len(fresh._channel_state.value) < 20_000  # a state, not a map


def test_without_live_updates_the_whole_map_is_rendered_again():
    app = AtlasExplorer.demo(lang="de", live=False)
    frame = app._map.value
    assert 'sandbox="allow-scripts"' in frame and "data-k360-channel=" not in frame
    app._indicator.value = "kwg_per_1000"
    assert app._map.value != frame
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', app._map.value).group(1))
    assert "Gefährdungseinschätzungen je 1.000 Minderjährige" in srcdoc


def test_year_scheme_k_palette_and_breaks(fresh):
    fresh._year.value = 2021
    assert fresh.view.year == 2021 and channel(fresh)["data"]["year"] == 2021
    fresh._k.value = 3
    assert fresh.view.classification.k == 3
    fresh._scheme.value = "std_mean"
    assert fresh._k.disabled  # std_mean ignores k
    assert fresh.view.classification.scheme == "std_mean"
    fresh._scheme.value = "fisher_jenks"
    assert not fresh._k.disabled and fresh.view.classification.scheme == "fisher_jenks"
    fresh._palette.value = "Blues"
    assert fresh.view.class_colors[-1] == "#3182bd"  # darkest blue = most need (k=3)
    fresh._scheme.value = "user_defined"
    assert fresh._breaks.layout.display == ""
    assert fresh._breaks.value  # prefilled with the current bounds
    fresh._breaks.value = "10; 20,5; 40"
    assert fresh.view.classification.scheme == "user_defined"
    assert list(fresh.view.classification.bins[:3]) == [10.0, 20.5, 40.0]
    assert "k360-error" not in fresh._status.value
    fresh._breaks.value = "10; zwanzig"
    assert "k360-error" in fresh._status.value and "zwanzig" in fresh._status.value
    assert list(fresh.view.classification.bins[:3]) == [10.0, 20.5, 40.0]  # last good state


def test_facility_toggles_send_points_of_that_kind_once(fresh):
    assert fresh._channel_fac.value == ""  # nothing sent before a kind is switched on
    kita = next(i for i, k in enumerate(fresh.amap.kinds) if k.key == "Kita")
    fresh._kind_boxes[kita].value = True
    data = channel(fresh, "_channel_fac")
    assert list(data) == [str(kita), "groups", "_id", "_seq"]
    assert len(data[str(kita)]) == fresh.amap.kinds[kita].n
    assert channel(fresh)["kinds"] == [kita]
    assert "Kita (" in text_of(channel(fresh)["legend"])
    fresh._kind_boxes[kita].value = False
    assert channel(fresh)["kinds"] == []
    seq = channel(fresh, "_channel_fac")["_seq"]
    fresh._kind_boxes[kita].value = True
    assert channel(fresh, "_channel_fac")["_seq"] == seq  # already in the map


def test_indicator_change_keeps_year_when_possible(fresh):
    fresh._year.value = 2022
    fresh._indicator.value = "hze_per_1000"
    assert fresh.view.year == 2022
    assert list(fresh._year.options) == fresh.atlas.years


def test_english_ui():
    en = AtlasExplorer.demo(lang="en")
    assert en._indicator.description == "Indicator" and en._year.description == "Year"
    assert "Fictional demo city" in en._header.value
    labels = [label for label, _ in en._indicator.options]
    # grouped by the catalog's English themes (theme_en)
    assert "Social situation: SGB II rate of children under 15" in labels
    assert not any(label.startswith("Soziale Lage") for label in labels)
    en._indicator.value = "sgb2_u15_rate"
    assert "child poverty" in en._info.value and "Fictional demo data" in en._info.value
    assert "Quantiles" in en._scheme.label
    assert "Karte:" not in en._map.value
    assert [en._tabs.get_title(i) for i in range(5)] == [
        "Need index",
        "Hotspots",
        "Area",
        "Compare",
        "Export",
    ]
    assert "Rank" in en._ranking.value and "Rang" not in en._ranking.value


def test_indicator_options_grouped_by_theme(app):
    labels = [label for label, value in app._indicator.options if value != NEED_INDEX]
    themes = [label.split(":")[0] for label in labels]
    # each theme forms one consecutive block
    blocks = [th for i, th in enumerate(themes) if i == 0 or th != themes[i - 1]]
    assert len(blocks) == len(set(themes)) > 1
    assert "Soziale Lage: SGB-II-Quote der unter 15-Jährigen" in labels
    assert app._indicator.options[-1][1] == NEED_INDEX


def test_user_errors_are_shown_not_raised(fresh, monkeypatch):
    last = fresh._channel_state.value

    def broken(*args, **kwargs):
        raise DataError("atlas.classify.bad_k", k=99, max=9)

    monkeypatch.setattr(fresh.amap, "state", broken)
    fresh._k.value = 4
    assert "k360-error" in fresh._status.value
    assert "99" in fresh._status.value and "Traceback" not in fresh._status.value
    assert fresh._channel_state.value == last  # the last good map stays

    def crash(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(fresh.amap, "state", crash)
    fresh._k.value = 3
    assert "ZeroDivisionError: boom" in fresh._status.value
    assert "Traceback" not in fresh._status.value


def test_unknown_start_indicator_is_a_user_error():
    from k360lib.atlas.demo import demo_atlas

    with pytest.raises(DataError):
        AtlasExplorer(demo_atlas(), indicator="nope")


def test_demo_disclaimer_is_escaped():
    from k360lib.atlas.demo import demo_atlas

    atlas = demo_atlas()
    atlas.meta["disclaimer_de"] = "<script>alert(1)</script>"
    atlas.meta["name"] = "<b>Stadt</b>"
    app = AtlasExplorer(atlas, lang="de")
    assert "<script>alert(1)" not in app._header.value and "<b>Stadt</b>" not in app._header.value
    assert "&lt;b&gt;Stadt&lt;/b&gt;" in app._header.value


# -- need index, ranking, hotspots -------------------------------------------------------
def ranking_names(app) -> list[str]:
    return re.findall(r'<td class="num">\d+</td><td>([^<]*)</td>', app._ranking.value)


def test_weights_change_the_need_index_ranking_and_hotspots(fresh):
    before_rank = ranking_names(fresh)
    before_hot = fresh.hotspot_frame.copy()
    assert len(before_rank) == 15 and "Gewichte" in fresh._need_explain.value
    zero = {k: 0.0 for k in fresh._weights}
    fresh.set_weights({**zero, "green_share": 3.0})
    assert fresh.need.weights == {"green_share": 1.0}
    after_rank = ranking_names(fresh)
    assert after_rank != before_rank
    assert not fresh.hotspot_frame["need_score"].equals(before_hot["need_score"])
    assert "Grün- und Erholungsflächen 100 %" in text_of(fresh._need_explain.value)
    # moving one slider in the UI does the same
    fresh._weights["sgb2_u15_rate"].value = 3.0
    assert set(fresh.need.weights) == {"green_share", "sgb2_u15_rate"}
    with pytest.raises(DataError):
        fresh.set_weights({"nope": 1})


def test_all_weights_zero_is_explained(fresh):
    fresh.set_weights({k: 0.0 for k in fresh._weights})
    assert fresh.need is None and "k360-error" in fresh._need_explain.value


def test_need_index_on_the_map(fresh):
    fresh._indicator.value = NEED_INDEX
    state = channel(fresh)
    assert state["data"]["indicator"] == NEED_INDEX and fresh.view.label == "Bedarfsindex"
    assert fresh.view.counts["classified"] == len(fresh.atlas.areas)
    before = state["s"]
    fresh.set_weights({k: (3.0 if k == "green_share" else 0.0) for k in fresh._weights})
    assert channel(fresh)["s"] != before  # the map follows the weights


def test_hotspot_table_sorts_and_filters(fresh):
    table = fresh.hotspot_frame
    assert {"need_score", "supply", "gap", "hotspot"} <= set(table.columns)
    hot = table[table["hotspot"]]
    assert len(hot) >= 1
    assert (hot["need_score"] >= table["need_score"].quantile(2 / 3) - 1e-9).all()
    fresh._only_hot.value = True
    rows = re.findall(r"<tr([^>]*) data-k360-area", fresh._hot_table.value)
    assert len(rows) == len(hot) and all("k360-hot" in r for r in rows)
    fresh._only_hot.value = False
    fresh._sort.value = "name"
    fresh._descending.value = False
    names = re.findall(r'data-k360-area="[^"]*"><td>([^<]*)</td>', fresh._hot_table.value)
    assert names == sorted(names, key=str.casefold)
    fresh._supply.value = "indicator:kita_places_per_100"
    assert "Kita-Plätze je 100 Kinder 0–5 Jahre" in fresh._hot_table.value


# -- area, comparison, exports ------------------------------------------------------------
def test_area_search_highlights_and_profiles(fresh):
    label = next(k for k, v in fresh._area_options.items() if v == "SR05")
    fresh._search.value = label
    assert fresh.view.selected == fresh.amap.area_ids.index("SR05")
    assert channel(fresh)["sel"] == fresh.view.selected
    panel = fresh._profile.value
    assert 'data-k360-area="SR05"' in panel and "Brückenfeld" in panel
    assert "SGB-II-Quote der unter 15-Jährigen" in panel and "Rang" in panel
    assert not fresh._sb_button.disabled
    fresh.select_area(None)
    assert fresh.view.selected == -1 and channel(fresh)["sel"] == -1
    assert fresh._sb_button.disabled
    with pytest.raises(DataError):
        fresh.select_area("nope")


def test_comparison_of_two_indicators_and_two_years(fresh):
    fresh._compare_mode.value = "indicator"
    fresh._compare_indicator.value = "unemployment"
    assert (
        fresh._compare_map.layout.display == ""
        and 'id="k360-atlas-compare"' in fresh._compare_map.value
    )
    assert channel(fresh, "_compare_channel_state")["data"]["indicator"] == "unemployment"
    assert f'data-k360-sync="{fresh.channel}"' in fresh._compare_map.value
    assert f'data-k360-sync="{fresh.channel}"' in fresh._map.value
    fresh._compare_mode.value = "year"
    fresh._compare_year.value = 2021
    a, b = fresh.view, fresh.compare_view
    assert (a.year, b.year) == (2024, 2021) and a.indicator == b.indicator
    assert list(a.classification.bins) == list(b.classification.bins)  # comparable colours
    assert "gemeinsam" in a.legend
    fresh._compare_mode.value = "off"
    assert fresh.compare_view is None and fresh._compare_map.layout.display == "none"


def test_exports(fresh, tmp_path):
    import openpyxl

    page = fresh.export_map(tmp_path / "karte.html")
    assert (tmp_path / "karte.html").read_text(encoding="utf-8") == page
    assert "k360map.init(" in page and "<iframe" not in page
    csv = fresh.export_table("csv").decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(csv), sep=";", decimal=",")
    assert len(frame) == len(fresh.atlas.areas) and "Schlüssel" in frame.columns
    xlsx = fresh.export_table("xlsx", tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == ["Karte", "Bedarfsindex", "Hotspots", "Hinweise"]
    hot = fresh.export_hotspots("csv").decode("utf-8-sig")
    assert hot.splitlines()[0].startswith("Schlüssel;Sozialraum;Bezirk;Bedarfsindex")
    with pytest.raises(DataError):
        fresh.export_profile()  # no area chosen yet
    fresh.select_area("SR05")
    doc = fresh.export_profile()
    assert doc.startswith("<!DOCTYPE html>") and "Steckbrief Brückenfeld" in doc
    with pytest.raises(ValueError):
        fresh.export_table("pdf")


def test_export_buttons_offer_download_links(fresh):
    fresh._ex_csv.click()
    link = fresh._ex_links.value
    assert 'download="atlas_sgb2_u15_rate_2024.csv"' in link and "data:text/csv;base64," in link
    fresh._ex_map.click()
    assert 'download="karte_sgb2_u15_rate_2024.html"' in fresh._ex_links.value
    fresh._hot_xlsx.click()
    assert "spreadsheetml" in fresh._hot_links.value
    fresh.select_area("SR01")
    fresh._sb_button.click()
    assert 'download="steckbrief_SR01.html"' in fresh._sb_link.value


def test_exports_never_contain_suppressed_values(fresh):
    atlas = fresh.atlas
    sup = atlas.indicators[atlas.indicators["suppressed"]].iloc[0]
    fresh._indicator.value = sup["indicator"]
    fresh._year.value = int(sup["year"])
    frame = pd.read_csv(
        io.StringIO(fresh.export_table("csv").decode("utf-8-sig")), sep=";", decimal=","
    )
    row = frame[frame["Schlüssel"] == sup["area_id"]].iloc[0]
    assert pd.isna(row.iloc[3]) and row["Hinweis"] == "zu wenige Fälle"


def test_names_are_escaped_in_every_panel():
    from k360lib.atlas.demo import demo_atlas

    atlas = demo_atlas()
    atlas.areas.loc[0, "name"] = XSS
    atlas.facilities.loc[0, "name"] = XSS
    app = AtlasExplorer(atlas, lang="de")
    app.select_area(atlas.areas["area_id"].iloc[0])
    app._ex_profile.click()
    for widget in walk(app.container):
        value = getattr(widget, "value", None)
        if isinstance(widget, W.HTML) and isinstance(value, str):
            assert XSS not in value, widget
    assert XSS in app._search.value  # a text input shows it as text
    assert any(XSS in o for o in app._search.options)


def test_import_k360lib_does_not_load_widgets():
    code = "import sys, k360lib; print(any(m.startswith(('k360lib.widgets', 'ipywidgets', 'folium')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
