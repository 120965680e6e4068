"""Tests of the import app (k360lib.widgets.ImportApp) without a browser."""

from __future__ import annotations

import html
import re

import geopandas as gpd
import ipywidgets as W
import pytest
from shapely.geometry import box

from k360lib.widgets import ImportApp
from k360lib.widgets.atlas_explorer import AtlasExplorer

NAMES = ["Altstadt", "Neustadt", "Nordstadt", "Westliche Höhe", "Südviertel", "Am Hafen"]
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


@pytest.fixture(scope="module", autouse=True)
def _private_geometry_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("K360_CACHE_DIR", str(tmp_path_factory.mktemp("geometry-cache")))
        yield


def areas_geojson(names=NAMES) -> bytes:
    gdf = gpd.GeoDataFrame(
        {"SR_NR": [f"STGT{i:02d}" for i in range(1, len(names) + 1)], "SR_NAME": names},
        geometry=[
            box(
                9.40 + 0.01 * (i % 3),
                54.78 + 0.01 * (i // 3),
                9.41 + 0.01 * (i % 3),
                54.79 + 0.01 * (i // 3),
            )
            for i in range(len(names))
        ],
        crs=4326,
    )
    return gdf.to_json(drop_id=True).encode("utf-8")


def report_text(app) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "\n", app._report.value))


def upload(widget: W.FileUpload, name: str, content: bytes) -> None:
    """What the browser does: set the FileUpload value."""
    import datetime

    stamp = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    widget.value = (
        {
            "name": name,
            "type": "",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": stamp,
        },
    )


def test_messy_german_csv_is_reported_then_confirmed_then_explored():
    app = ImportApp(lang="de")
    assert app._run.disabled
    upload(app._up_areas, "sozialraeume.geojson", areas_geojson())
    upload(app._up_tables, "kinder_2023.csv", MESSY_CSV)
    assert not app._run.disabled and "kinder_2023.csv" in app._files.value
    app._run.click()
    text = report_text(app)
    # the problems are named: encoding, title row, unmatched key with suggestion, suppressed cell
    assert "cp1252" in text and "Titelzeile" in text
    assert "„Südvirtel“ passt zu keinem Sozialraum" in text and "STGT05" in text
    assert "zu wenige Fälle" in text and "Zeile 7" in text
    assert "Traceback" not in app._report.value
    assert app.atlas is not None and not app._open.disabled
    assert app._options.layout.display == ""
    boxes = app._mapping_boxes
    assert list(boxes) == ["Südvirtel"] and "Südviertel" in boxes["Südvirtel"][0].description
    # before confirming, the area has no data
    assert (
        app.atlas.values("kinder_unter_18", 2023).set_index("area_id").loc["STGT05"].isna()["value"]
    )
    app._accept_all.click()
    app._rerun.click()
    assert "Südvirtel" not in report_text(app).split("Hinweise")[0]  # no warning any more
    assert (
        app.atlas.values("kinder_unter_18", 2023).set_index("area_id").loc["STGT05", "value"]
        == 1120
    )
    assert list(app._mapping_boxes) == ["Südvirtel"] and app._mapping_boxes["Südvirtel"][0].value
    app._open.click()
    assert isinstance(app.explorer, AtlasExplorer)
    assert app._explorer_box.children == (app.explorer.container,)
    assert app.explorer.view.n_areas == 6
    assert set(app.explorer.atlas.indicator_ids) == {"kinder_unter_18", "sgb_ii_quote"}
    # small counts (2 children) are suppressed in the imported atlas
    kids = app.explorer.atlas.values("kinder_unter_18", 2023).set_index("area_id")
    assert kids.loc["STGT04", "suppressed"]


def test_column_and_year_choices_are_used():
    app = ImportApp(lang="en")
    app.add_file("areas", "a.geojson", areas_geojson())
    app.add_file("table", "werte.csv", b"Nr;Name;Anzahl\nSTGT01;A;10\nSTGT02;B;20\n")
    app.run()
    assert "year" in report_text(app).lower() and app.atlas is None  # no year anywhere
    key, year, cols = app._table_controls["werte.csv"]
    assert [v for _, v in key.options][1:] == ["Nr", "Name", "Anzahl"]
    assert [v for _, v in app._area_key.options][1:] == ["SR_NR", "SR_NAME"]
    key.value = "Nr"
    year.value = 2022
    cols.value = ("Anzahl",)
    app._rerun.click()
    assert app.atlas is not None and app.atlas.years == [2022]
    assert app.atlas.indicator_ids == ["anzahl"]


def test_bad_files_show_the_report_never_a_traceback(monkeypatch):
    app = ImportApp(lang="en")
    assert app.add_file("areas", "areas.csv", b"a;b") is None  # wrong kind of file
    assert "has an extension that does not fit" in report_text(app)
    app.add_file("areas", "junk.geojson", b"{not json")
    app.add_file("table", "t.csv", b"\x00\x01binary")
    app.run()
    assert app.atlas is None and app._open.disabled
    assert "junk.geojson" in report_text(app) and "Traceback" not in app._report.value
    assert 'data-k360-errors="1"' in app._report.value

    import k360lib.atlas.io as io

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(io, "import_atlas", crash)
    app.run()
    assert "RuntimeError: disk on fire" in report_text(app) and "Traceback" not in app._report.value


def test_size_limit_is_enforced_with_a_clear_message():
    app = ImportApp(lang="de", max_bytes=1000)
    upload(app._up_areas, "gross.geojson", b"x" * 5000)
    text = report_text(app)
    assert "„gross.geojson“ ist zu groß" in text and "1000 B" in text
    assert app._areas_file is None and app._run.disabled


def test_run_without_areas_says_what_is_missing():
    app = ImportApp(lang="de")
    app.run()
    assert "Sozialräumen hochladen" in report_text(app)


def test_upload_names_cannot_leave_the_upload_folder():
    app = ImportApp(lang="de")
    path = app.add_file("table", "../../etc/passwd.csv", b"a;b\n1;2\n")
    assert path is not None and path.parent.parent == app._dir and path.name == "passwd.csv"


def test_escaping_in_report_and_mapping():
    names = ["<img src=x onerror=alert(1)>", *NAMES[1:]]
    app = ImportApp(lang="de")
    app.add_file("areas", "a.geojson", areas_geojson(names))
    app.add_file("table", "t_2023.csv", b"Gebiet;Wert\n<b>x</b>;1\nSTGT02;2\n")
    app.run()
    assert "<img" not in app._report.value and "<b>x</b>" not in app._report.value
    assert "&lt;b&gt;x&lt;/b&gt;" in app._report.value
    for checkbox, _area in app._mapping_boxes.values():
        assert "<b>x</b>" in checkbox.description  # a checkbox label is text, not HTML
