"""Integration tests on real municipal open data (../shared/realdata; skipped when absent)."""

import pytest

from k360lib.atlas.io import import_atlas, read_areas, read_table

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def flensburg_areas(realdata):
    gdf, report = read_areas(realdata / "flensburg" / "geometry" / "flensburg_stadtteile.geojson")
    assert report.ok, report.render("en")
    return gdf


@pytest.mark.parametrize(
    ("table", "form", "kwargs"),
    [
        ("tables/tab_6_kinder_und_jugd_bis_18.csv", "03 Nordstadt", {"year": 2021}),
        ("tables/tab_9_anteil_migrationshintergrund.csv", "03 Nordstadt", {"year": 2021}),
        (
            "tables/tab_5_einwohner_in_stadtteilen_2021_nach_altersgruppen.csv",
            "Nordstadt",
            {"key": "stadtteil"},
        ),
        ("tables/tab_1_einwohner_in_stadtteilen_2011_bis_2021.csv", "3", {"year": 2021}),
        ("tables/by_district_id/fl_children_age_under_18_by_district.csv", "3", {}),
        ("tables/by_district_id/fl_basic_benefits_income_by_district.csv", "3", {}),
    ],
)
def test_flensburg_all_13_stadtteile_match_every_key_form(
    realdata, flensburg_areas, table, form, kwargs
):
    long, cat, report = read_table(realdata / "flensburg" / table, flensburg_areas, **kwargs)
    assert report.ok, report.render("en")
    km = next(iter(report.data["matches"].values()))
    assert len(km.mapping) == 13 and not km.unmatched and not km.conflicts
    assert set(long["area_id"]) == set(flensburg_areas["area_id"])
    assert km.mapping[form] == "STGT03"  # the same district in its four key forms


def test_flensburg_german_numbers(realdata, flensburg_areas):
    long, _, report = read_table(
        realdata / "flensburg/tables/tab_9_anteil_migrationshintergrund.csv",
        flensburg_areas,
        year=2021,
    )
    v = long[long["area_id"] == "STGT01"].set_index("indicator")["value"]
    # "01 Altstadt,,1.374,"35,5%",..." : thousands dot and decimal comma
    assert 1374.0 in set(v) and 35.5 in set(v)


def test_flensburg_shapefile_zip_in_25832(realdata, flensburg_areas):
    gdf, report = read_areas(realdata / "flensburg/geometry/flensburg_stadtteile_shp_epsg25832.zip")
    assert report.ok
    assert sorted(gdf["area_id"]) == sorted(flensburg_areas["area_id"])
    assert any(f.key == "atlas.io.crs_reprojected" for f in report.findings)
    minx, miny, maxx, maxy = gdf.total_bounds
    assert 9.3 < minx < maxx < 9.6 and 54.7 < miny < maxy < 54.9


def test_flensburg_districts_two_invalid_polygons_repaired(realdata):
    gdf, report = read_areas(
        realdata / "flensburg/geometry/flensburg_stadtbezirke_shp_epsg25832.zip"
    )
    assert len(gdf) == 41 and gdf.geometry.is_valid.all()
    repaired = [f for f in report.findings if f.key == "atlas.io.geometry_repaired"]
    assert len(repaired) == 2
    assert all(f.where["area"].startswith("STBZ") for f in repaired)


def test_flensburg_district_numbers_do_not_match_statistical_districts(realdata):
    # district_id 1..13 are Stadtteile; they must not be matched to STBZ011/012/013 by number
    gdf, _ = read_areas(realdata / "flensburg/geometry/flensburg_stadtbezirke_shp_epsg25832.zip")
    long, _, report = read_table(
        realdata / "flensburg/tables/by_district_id/fl_residents_by_district.csv", gdf
    )
    assert len(long) == 0 and not report.ok


def test_koeln_shapefile_cp1252_and_false_easting(realdata):
    gdf, report = read_areas(realdata / "koeln/geometry/Stadtteil.shp")
    assert report.ok, report.render("en")
    assert len(gdf) == 86
    names = set(gdf["name"])
    assert {"Dellbrück", "Sülz", "Müngersdorf"} <= names
    minx, miny, maxx, maxy = gdf.total_bounds
    assert 6.7 <= minx < maxx <= 7.2 and 50.8 <= miny < maxy <= 51.1
    assert any(f.key == "atlas.io.crs_no_epsg" for f in report.findings)


def test_koeln_kml_extended_data(realdata):
    gdf, report = read_areas(realdata / "koeln/geometry/stadtteile.kml")
    assert report.ok and len(gdf) == 86
    assert {"Dellbrück", "Sülz", "Müngersdorf"} <= set(gdf["name"])


def test_koeln_long_table_matches_86_of_86(realdata):
    atlas, report = import_atlas(
        realdata / "koeln/geometry/Stadtteil.shp", [realdata / "koeln/tables/bevoelkerung.csv"]
    )
    assert report.ok, report.render("en")
    km = report.data["matches"]["bevoelkerung.csv"]
    assert len(km.mapping) == 86 and not km.areas_without_data
    # the city total (000) and the nine city districts (001-009) are reported, not matched
    assert sorted(km.unmatched) == [f"{i:03d}" for i in range(10)]
    warned = {
        f.where.get("row") for f in report.warnings if f.key.startswith("atlas.match.unmatched")
    }
    assert len(warned) == 10
    assert "Stadt Köln" in report.render("de")
    assert set(atlas.years) == set(range(2005, 2013))
    assert "einwohner" in atlas.indicator_ids
    total = atlas.values("einwohner", 2012)["value"].sum()
    assert 1_000_000 < total < 1_100_000  # 86 Stadtteile sum to the city's population
