"""Suppressed values never reach an export or a rendered map."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from k360lib.atlas.model import Atlas
from k360lib.maps import choropleth

# distinctive raw values that must never appear: 2 cases of 7,777 children -> 0.025717...
CASES, CHILDREN = 2.0, 7777.0
RATE = CASES / CHILDREN * 1000  # 0.257168...


@pytest.fixture
def raw_atlas():
    """An atlas built directly, without apply_suppression: the raw small count is still in it."""
    areas = gpd.GeoDataFrame(
        {"area_id": ["A", "B", "C", "D"], "name": ["Hafen", "Mitte", "Nord", "Süd"]},
        geometry=[box(i, 0, i + 1, 1) for i in range(4)],
        crs=4326,
    )
    rows = []
    for aid, cases, kids in (
        ("A", CASES, CHILDREN),
        ("B", 40, 900),
        ("C", 55, 1200),
        ("D", 70, 1500),
    ):
        rows += [
            (aid, "cases", 2024, cases),
            (aid, "children", 2024, kids),
            (aid, "rate", 2024, cases / kids * 1000),
        ]
    ind = pd.DataFrame(rows, columns=["area_id", "indicator", "year", "value"])
    cat = pd.DataFrame(
        [
            ("cases", "Fälle", "cases", "Fälle", 1, "count", "", ""),
            ("children", "Kinder", "children", "Kinder", 1, "count", "", ""),
            ("rate", "Fälle je 1.000", "per 1,000", "je 1.000", 1, "rate", "cases", "children"),
        ],
        columns=[
            "id",
            "label_de",
            "label_en",
            "unit",
            "polarity",
            "kind",
            "numerator",
            "denominator",
        ],
    )
    return Atlas(areas, ind, cat)


@pytest.mark.parametrize("indicator", ["cases", "rate"])
@pytest.mark.parametrize("lang", ["de", "en"])
def test_map_never_shows_small_numbers(raw_atlas, indicator, lang):
    assert raw_atlas.values(indicator, 2024)["value"].notna().all()  # the raw value is there
    view = choropleth(raw_atlas, indicator, 2024, lang=lang)
    html = view.to_html()
    assert view.counts["suppressed"] == 1
    # the raw rate, in any rendering, is nowhere in the document (tooltips, popups, profiles)
    for text in ("0,257", "0.257", "0,26", "0.26", "0,3 ", "0.3 "):
        assert text not in html
    # the harbour's tooltip says "too few cases" instead of a number
    hafen = list(raw_atlas.areas["area_id"]).index("A")
    too_few = "zu wenige Fälle" if lang == "de" else "too few cases"
    assert view.state.values_text[hafen] == too_few
    assert too_few in html
    others = [v for i, v in enumerate(view.state.values_text) if i != hafen]
    assert all(
        any(ch.isdigit() for ch in v) for v in others
    )  # the check can fail: others show numbers


def test_export_never_writes_small_numbers(raw_atlas, tmp_path):
    raw_atlas.save(tmp_path / "export")
    ind = pd.read_csv(tmp_path / "export" / "indicators.csv", dtype={"area_id": str})
    hafen = ind[ind["area_id"] == "A"].set_index("indicator")
    assert hafen.loc["cases", "suppressed"] and pd.isna(hafen.loc["cases", "value"])
    assert hafen.loc["rate", "suppressed"] and pd.isna(hafen.loc["rate", "value"])
    text = (tmp_path / "export" / "indicators.csv").read_text()
    assert "0.257" not in text
    # the check can fail: the unsuppressed table does contain the raw rate
    assert "0.257" in raw_atlas.indicators.to_csv()


def test_demo_city_has_suppressed_areas_that_stay_hidden():
    from k360lib.atlas.demo import demo_atlas

    atlas = demo_atlas()
    sup = atlas.indicators[atlas.indicators["suppressed"]]
    assert len(sup) and sup["value"].isna().all()
    ind, year = sup.iloc[0]["indicator"], int(sup.iloc[0]["year"])
    view = choropleth(atlas, ind, year)
    assert view.counts["suppressed"] >= 1
