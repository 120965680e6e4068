"""Messy municipal files, generated here: each case must give a report that names
file and row/column/key in German and English, and nothing may be dropped or
zero-filled silently."""

import json
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box

from k360lib.atlas.io import check_files, import_atlas, read_areas, read_facilities, read_table

NAMES = ["01 Altstadt", "02 Neustadt", "03 Nordstadt", "04 Westliche Höhe"]


def _areas(n=4):
    return gpd.GeoDataFrame(
        {
            "AREA_ID": [f"STGT{i:02d}" for i in range(1, n + 1)],
            "AREA_NAME": NAMES[:n],
            "PARENT": ["A", "A", "B", "B"][:n],
        },
        geometry=[box(9.40 + 0.01 * i, 54.78, 9.41 + 0.01 * i, 54.79) for i in range(n)],
        crs="EPSG:4326",
    )


@pytest.fixture
def areas_file(tmp_path):
    p = tmp_path / "gebiete.geojson"
    _areas().to_file(p, driver="GeoJSON")
    return p


@pytest.fixture
def areas(areas_file):
    gdf, report = read_areas(areas_file)
    assert report.ok
    return gdf


def both_langs(report, *needles, level=None):
    """Every needle occurs in one finding, rendered in German and in English."""
    for lang in ("de", "en"):
        findings = [f for f in report.findings if level is None or f.level == level]
        texts = [f.message(lang) for f in findings]
        assert any(all(n in t for n in needles) for t in texts), (lang, needles, texts)
    de = [f.message("de") for f in report.findings]
    en = [f.message("en") for f in report.findings]
    assert de != en


# -- tables -----------------------------------------------------------------------------


def test_semicolon_decimal_comma_thousands_dot(tmp_path, areas):
    p = tmp_path / "kinder_2023.csv"
    p.write_text("Schlüssel;Name;Kinder;Anteil\nSTGT01;Altstadt;1.374;35,5 %\nSTGT02;Neustadt;2.191;45,2 %\n"
                 "STGT03;Nordstadt;5.782;46,2 %\nSTGT04;Westliche Höhe;2.149;26,8 %\n", encoding="utf-8")  # fmt: skip
    long, cat, report = read_table(p, areas)
    assert report.ok
    v = long.set_index(["area_id", "indicator"])["value"]
    assert v[("STGT01", "kinder")] == 1374 and v[("STGT03", "anteil")] == pytest.approx(46.2)
    assert set(long["year"]) == {2023}
    assert cat.set_index("id").loc["anteil", "unit"] == "%"
    both_langs(report, "kinder_2023.csv", "2023")  # year taken from the file name is reported


def test_utf8_bom_and_cp1252(tmp_path, areas):
    body = "Stadtteil;Wert 2022\nAltstadt;1\nNeustadt;5\nNordstadt;7\nWestliche Höhe;9\n"
    for enc, tag in (("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252")):
        p = tmp_path / f"t_{tag}.csv"
        p.write_bytes(body.encode(enc))
        long, _, report = read_table(p, areas, threshold=None) if False else read_table(p, areas)
        assert report.ok
        assert len(long) == 4  # "Westliche Höhe" decoded correctly and matched by name
        both_langs(report, p.name, tag)


def test_title_rows_above_header_xlsx_and_cell_in_errors(tmp_path, areas):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Tabelle1"
    ws.append(["Sozialatlas – Kinder in Bedarfsgemeinschaften"])
    ws.append(["Stand 31.12.2023"])
    ws.append([])
    ws.append(["Nr", "Sozialraum", "SGB-II-Quote 2023"])
    ws.append([1, "Altstadt", 12.5])
    ws.append([2, "Neustadt", "zwölf"])
    ws.append([3, "Nordstadt", 30.1])
    p = tmp_path / "quote.xlsx"
    wb.save(p)
    long, _, report = read_table(p, areas)
    assert not report.ok and len(long) == 0  # nothing half-imported
    both_langs(report, "quote.xlsx", "Tabelle1", "C6", "zwölf", level="error")
    both_langs(report, "quote.xlsx", "1", "Sozialatlas")  # title row reported


def test_key_forms_differ(tmp_path, areas):
    p = tmp_path / "formen.csv"
    p.write_text(
        "Gebiet;Wert 2021\n01 Altstadt;1\n2;2\nstgt03;3\nWestliche_Höhe;4\n", encoding="utf-8"
    )
    long, _, report = read_table(p, areas)
    assert report.ok
    assert dict(zip(long["area_id"], long["value"])) == {
        "STGT01": 1,
        "STGT02": 2,
        "STGT03": 3,
        "STGT04": 4,
    }


def test_unmatched_key_named_with_row_and_suggestion(tmp_path, areas):
    p = tmp_path / "tippfehler.csv"
    p.write_text(
        "Gebiet;Wert 2021\nAltstadt;1\nNeustatd;2\nNordstadt;3\nGesamt;6\n", encoding="utf-8"
    )
    long, _, report = read_table(p, areas)
    assert report.ok and len(long) == 2
    both_langs(report, "tippfehler.csv", "Neustatd", "STGT02", level="warning")
    both_langs(report, "tippfehler.csv", "Gesamt", level="warning")  # not silently dropped
    assert report.data["proposed_mapping"] == {"Neustatd": "STGT02"}
    long2, _, report2 = read_table(p, areas, mapping={"Neustatd": "STGT02"})
    assert len(long2) == 3


def test_suppression_marks_not_zero(tmp_path, areas):
    p = tmp_path / "geheim.csv"
    p.write_text("Nr;Fälle 2022\nSTGT01;–\nSTGT02;.\nSTGT03;x\nSTGT04;*\n", encoding="utf-8")
    long, _, report = read_table(p, areas)
    assert report.ok
    assert long["suppressed"].all() and long["value"].isna().all()
    assert (long["value"] != 0).all()
    both_langs(report, "geheim.csv", "4")


def test_non_numeric_cell_named_by_row_and_column(tmp_path, areas):
    p = tmp_path / "fehler.csv"
    p.write_text(
        "Nr;Kinder 2022\nSTGT01;12\nSTGT02;zwölf\nSTGT03;14\nSTGT04;15\n", encoding="utf-8"
    )
    long, _, report = read_table(p, areas)
    assert not report.ok and len(long) == 0
    both_langs(report, "fehler.csv", "3", "Kinder 2022", "zwölf", level="error")
    f = report.errors[0]
    assert f.where == {"file": "fehler.csv", "row": 3, "column": "Kinder 2022"}


def test_duplicate_rows_refused_naming_rows(tmp_path, areas):
    p = tmp_path / "doppelt.csv"
    p.write_text("Nr;Kinder 2022\nSTGT01;12\nSTGT01;13\nSTGT03;14\n", encoding="utf-8")
    _, _, report = read_table(p, areas)
    assert any(
        f.key == "atlas.match.conflict" or f.key == "atlas.io.duplicate_rows" for f in report.errors
    )
    both_langs(report, "doppelt.csv", "STGT01", "2, 3", level="error")


def test_long_format_table(tmp_path, areas):
    rows = ["raum_id;raum;jahr;merkmal;zahl", "000;Stadt;2021;Kinder;100"]
    for i in range(1, 5):
        for y in (2021, 2022):
            rows.append(f"STGT{i:02d};{NAMES[i - 1][3:]};{y};Kinder;{i * 10 + y - 2021}")
            rows.append(f"STGT{i:02d};{NAMES[i - 1][3:]};{y};Jugendliche;{i}")
    p = tmp_path / "lang.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    long, cat, report = read_table(p, areas)
    assert report.ok
    assert set(long["indicator"]) == {"kinder", "jugendliche"}
    assert set(long["year"]) == {2021, 2022} and len(long) == 16
    both_langs(report, "lang.csv", "000 (Stadt)", level="warning")  # the total row is reported


def test_missing_year_is_an_error(tmp_path, areas):
    p = tmp_path / "ohnejahr.csv"
    p.write_text("Nr;Kinder\nSTGT01;12\n", encoding="utf-8")
    _, _, report = read_table(p, areas)
    both_langs(report, "ohnejahr.csv", "--year", level="error")
    _, _, report2 = read_table(p, areas, year=2020)
    assert report2.ok


@pytest.mark.parametrize(
    ("name", "content", "needle_de", "needle_en"),
    [
        ("leer.csv", b"", "leer", "empty"),
        ("binaer.csv", b"\x00\x01\x02\x03garbage\x00", "Binärdaten", "binary"),
        ("kaputt.xlsx", b"PK\x03\x04 not a real workbook", "Excel", "Excel"),
        ("alt.xls", b"\xd0\xcf\x11\xe0", ".xlsx", ".xlsx"),
    ],
)
def test_empty_and_garbage_tables(tmp_path, areas, name, content, needle_de, needle_en):
    p = tmp_path / name
    p.write_bytes(content)
    long, _, report = read_table(p, areas)
    assert not report.ok and len(long) == 0
    assert name in report.errors[0].message("de") and needle_de in report.errors[0].message("de")
    assert name in report.errors[0].message("en") and needle_en in report.errors[0].message("en")


# -- geometry ---------------------------------------------------------------------------


def test_duplicate_area_keys_refused_and_named(tmp_path):
    g = _areas()
    g.loc[2, "AREA_ID"] = "STGT01"
    p = tmp_path / "dup.geojson"
    g.to_file(p, driver="GeoJSON")
    gdf, report = read_areas(p, key="AREA_ID")
    assert gdf is None
    both_langs(report, "dup.geojson", "STGT01", "AREA_ID", level="error")


def test_invalid_polygon_repaired_and_reported(tmp_path):
    g = _areas()
    bowtie = Polygon([(9.40, 54.78), (9.41, 54.79), (9.41, 54.78), (9.40, 54.79), (9.40, 54.78)])
    g.loc[0, "geometry"] = bowtie
    p = tmp_path / "kaputt.geojson"
    g.to_file(p, driver="GeoJSON")
    gdf, report = read_areas(p)
    assert gdf is not None and gdf.geometry.is_valid.all()
    assert gdf.geometry.iloc[0].area > 0
    both_langs(report, "kaputt.geojson", "STGT01", "Self-intersection")


def test_missing_crs_projected_gives_hint(tmp_path):
    g = _areas().to_crs(25832)
    folder = tmp_path / "shp"
    folder.mkdir()
    g.to_file(folder / "gebiete.shp")
    (folder / "gebiete.prj").unlink()
    gdf, report = read_areas(folder / "gebiete.shp")
    assert gdf is None
    both_langs(report, "gebiete.shp", "EPSG:25832", level="error")
    gdf2, report2 = read_areas(folder / "gebiete.shp", crs="EPSG:25832")
    assert report2.ok and gdf2.crs.to_epsg() == 4326
    assert abs(gdf2.total_bounds[0] - 9.40) < 1e-6


def test_missing_crs_in_degrees_assumed_wgs84_with_warning(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    _areas().to_file(folder / "grad.shp")
    (folder / "grad.prj").unlink()
    gdf, report = read_areas(folder / "grad.shp")
    assert gdf is not None
    both_langs(report, "grad.shp", "WGS 84", level="warning")


def test_non_epsg_crs_reprojected(tmp_path):
    wkt = (
        'PROJCS["UTM_Zone_32N_FE2500000",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
        'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
        'PARAMETER["False_Easting",2500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],'
        'PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
    )
    g = _areas().to_crs(wkt)
    p = tmp_path / "fe.gpkg"
    g.to_file(p, layer="gebiete", driver="GPKG")
    gdf, report = read_areas(p)
    assert gdf is not None
    assert gdf.total_bounds[0] == pytest.approx(9.40, abs=1e-6)
    assert any(
        f.key in ("atlas.io.crs_no_epsg", "atlas.io.crs_reprojected") for f in report.findings
    )


def test_zipped_shapefile_and_cp1252_dbf(tmp_path):
    g = _areas()
    g.loc[3, "AREA_NAME"] = "04 Sülz-Dellbrück"
    folder = tmp_path / "z"
    folder.mkdir()
    g.to_file(folder / "gebiete.shp", encoding="cp1252")
    (folder / "gebiete.cpg").unlink(missing_ok=True)
    zpath = tmp_path / "gebiete.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"daten/{f.name}")
    gdf, report = read_areas(zpath)
    assert gdf is not None and "04 Sülz-Dellbrück" in set(gdf["name"])
    both_langs(report, "gebiete.zip", "cp1252")


def test_geopackage_layer_choice(tmp_path):
    p = tmp_path / "multi.gpkg"
    _areas().to_file(p, layer="sozialraeume", driver="GPKG")
    _areas(2).to_file(p, layer="bezirke", driver="GPKG")
    gdf, report = read_areas(p, layer="bezirke")
    assert len(gdf) == 2
    gdf, report = read_areas(p, layer="gibtsnicht")
    assert gdf is None
    both_langs(report, "multi.gpkg", "gibtsnicht", "sozialraeume", level="error")
    gdf, report = read_areas(p)
    assert gdf is not None
    both_langs(report, "multi.gpkg", "bezirke")  # the choice is reported with the alternatives


def test_kml_with_extended_data(tmp_path):
    pm = []
    for i, (aid, name) in enumerate(zip(["101", "102"], ["Sülz", "Müngersdorf"])):
        x = 6.9 + 0.01 * i
        pm.append(
            f"<Placemark><ExtendedData><SchemaData schemaUrl='#s'><SimpleData name='STT_NR'>{aid}</SimpleData>"
            f"<SimpleData name='STT_NAME'>{name}</SimpleData></SchemaData></ExtendedData>"
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{x},50.9 {x + 0.01},50.9 {x + 0.01},50.91 {x},50.91 {x},50.9"
            "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        )
    p = tmp_path / "t.kml"
    p.write_text(
        f"<?xml version='1.0' encoding='utf-8'?><kml xmlns='http://www.opengis.net/kml/2.2'><Document>{''.join(pm)}</Document></kml>",
        encoding="utf-8",
    )
    gdf, report = read_areas(p)
    assert list(gdf["area_id"]) == ["101", "102"] and list(gdf["name"]) == ["Sülz", "Müngersdorf"]


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("leer.geojson", "", "kaputt"),
        ("quatsch.geojson", "{not json", "quatsch"),
        ("x.docx", "hello", ".docx"),
    ],
)
def test_garbage_geometry_files(tmp_path, name, content, needle):
    p = tmp_path / name
    p.write_text(content)
    gdf, report = read_areas(p)
    assert gdf is None and not report.ok
    for lang in ("de", "en"):
        assert name in report.errors[0].message(lang)


def test_missing_file():
    gdf, report = read_areas("/nonexistent/gebiete.geojson")
    assert gdf is None
    assert "gebiete.geojson" in report.errors[0].message(
        "de"
    ) and "existiert nicht" in report.errors[0].message("de")
    assert "does not exist" in report.errors[0].message("en")


# -- facilities -------------------------------------------------------------------------


def test_facilities_csv_lonlat_and_xy_with_crs(tmp_path, areas):
    p = tmp_path / "kitas.csv"
    p.write_text(
        "Name;Art;lon;lat;Plätze\nKita Sonne;Kita;9,405;54,785;45\nKita Mond;Kita;9,415;54,785;x\n",
        encoding="utf-8",
    )
    fac, report = read_facilities(p, areas=areas)
    assert list(fac["area_id"]) == ["STGT01", "STGT02"]
    assert fac["capacity"].iloc[0] == 45 and fac["capacity"].isna().iloc[1]
    pts = gpd.GeoSeries.from_xy([9.405], [54.785], crs=4326).to_crs(25832)
    p2 = tmp_path / "utm.csv"
    p2.write_text(f"name;kind;x;y\nTreff;Jugend;{pts.x[0]:.1f};{pts.y[0]:.1f}\n", encoding="utf-8")
    fac2, report2 = read_facilities(p2, areas=areas, crs="EPSG:25832")
    assert fac2["area_id"].iloc[0] == "STGT01"


def test_facilities_bad_coordinate_named(tmp_path, areas):
    p = tmp_path / "kaputt.csv"
    p.write_text("name;lon;lat\nA;9,405;54,785\nB;neun;54,785\n", encoding="utf-8")
    fac, report = read_facilities(p, areas=areas)
    assert fac is None
    both_langs(report, "kaputt.csv", "3", "lon", "neun", level="error")


# -- whole import -------------------------------------------------------------------------


def test_import_atlas_all_or_nothing(tmp_path, areas_file):
    good = tmp_path / "gut_2022.csv"
    good.write_text("Nr;Kinder\nSTGT01;10\nSTGT02;2\nSTGT03;30\nSTGT04;40\n", encoding="utf-8")
    bad = tmp_path / "schlecht_2022.csv"
    bad.write_text("Nr;Quote\nSTGT01;1,5\nSTGT02;??a\n", encoding="utf-8")
    atlas, report = import_atlas(areas_file, [good, bad])
    assert atlas is None  # one bad table: no half-imported atlas
    assert report.errors and "schlecht_2022.csv" in report.errors[0].message("de")
    atlas, report = import_atlas(areas_file, [good])
    assert report.ok and atlas is not None
    v = atlas.values("kinder", 2022).set_index("area_id")
    assert v.loc["STGT02", "suppressed"] and v["value"].isna()["STGT02"]  # 2 < threshold 3
    assert v.loc["STGT01", "value"] == 10


def test_check_files_cli_exit_codes(tmp_path, areas_file, capsys):
    from k360lib.cli import main

    good = tmp_path / "gut_2022.csv"
    good.write_text("Nr;Kinder\n01 Altstadt;10\nNeustadt;20\n", encoding="utf-8")
    assert main(["check", str(areas_file), str(good)]) == 0
    out = capsys.readouterr().out
    assert "bestanden" in out
    bad = tmp_path / "x_2022.csv"
    bad.write_text("Nr;Kinder\nSTGT01;zehn\n", encoding="utf-8")
    assert main(["--lang", "en", "check", str(areas_file), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "x_2022.csv" in out and "Kinder" in out and "2: zehn" in out and "failed" in out
    report = check_files(areas_file, [good])
    assert json.dumps(report.to_frame().to_dict())  # report is serialisable
