"""Tests of k360lib.report: profiles, hotspots, export tables, the printable profile."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd
import pytest

from k360lib.atlas.demo import demo_atlas
from k360lib.atlas.indicators import need_index
from k360lib.atlas.privacy import public_values
from k360lib.errors import DataError
from k360lib.report import hotspots as hs
from k360lib.report import tables as tb
from k360lib.report.profile import (
    area_profile,
    compact_profile,
    default_profile_indicators,
    indicator_infos,
    profile_data,
    public_indicators,
)
from k360lib.report.steckbrief import steckbrief_html

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def atlas():
    return demo_atlas()


@pytest.fixture(scope="module")
def need(atlas):
    return need_index(atlas, default_profile_indicators(atlas), classes="mss", lang="de")


# -- profiles --------------------------------------------------------------------------------
def test_public_indicators_equal_public_values_everywhere(atlas):
    table = public_indicators(atlas)
    for (ind, year), part in table.groupby(["indicator", "year"]):
        pv = public_values(atlas, ind, int(year)).set_index("area_id")
        mine = part.set_index("area_id").reindex(pv.index)
        assert (mine["suppressed"].fillna(False).astype(bool) == pv["suppressed"]).all()
        assert np.allclose(mine["value"], pv["value"], equal_nan=True)


def test_indicator_infos_match_the_atlas(atlas):
    infos = indicator_infos(atlas)
    for ind in atlas.indicator_ids:
        assert infos[ind] == atlas.indicator_info(ind)


def test_default_profile_has_directed_rates_only(atlas):
    ids = default_profile_indicators(atlas)
    assert ids and len(ids) <= 10
    kinds = {atlas.indicator_info(i)["kind"] for i in ids}
    assert kinds.isdisjoint({"count", "capacity"})
    assert "sgb2_u15_rate" in ids and "pop_total" not in ids


def test_profile_data_and_its_compact_form(atlas):
    data = profile_data(atlas, ["sgb2_u15_rate", "kita_places_per_100"], "en")
    assert data["ind"][0]["label"] == "SGB II rate of children under 15"
    assert data["ind"][0]["unit"] == "%" and data["ind"][0]["dec"] == 1
    assert data["ind"][1]["pol"] == -1
    compact = compact_profile(data)
    for k, info in enumerate(data["ind"]):
        f = 10 ** info["dec"]
        for row, crow in zip(data["v"][k], compact["v"][k]):
            for c, cc in zip(row, crow):
                if isinstance(c, float):
                    assert isinstance(cc, int) and cc == round(c * f)
                else:
                    assert cc == c
    # the city mean is the mean of the shown values
    vals = [c for c in data["v"][0][-1] if isinstance(c, float)]
    assert data["avg"][0][-1] == pytest.approx(np.mean(vals), abs=0.051)


def test_area_profile_rank_direction_and_trend(atlas):
    prof = area_profile(atlas, "SR05", 2024, ["sgb2_u15_rate", "kita_places_per_100"], "de")
    row = prof.set_index("indicator").loc["sgb2_u15_rate"]
    pv = public_values(atlas, "sgb2_u15_rate", 2024)
    shown = pv["value"].where(~pv["suppressed"]).dropna()
    mine = float(pv.set_index("area_id").loc["SR05", "value"])
    assert row["rank"] == 1 + int((shown > mine + 1e-9).sum())
    assert row["n_ranked"] == len(shown)
    avg = row["city_mean"]
    expected = "worse" if mine - avg > 0.05 * avg else ("better" if avg - mine > 0.05 * avg else "")
    assert row["direction"] == expected
    assert set(row["trend"]) == {2021, 2022, 2023, 2024}
    assert row["value_text"].endswith("\u00a0%") and "," in row["value_text"]
    kita = prof.set_index("indicator").loc["kita_places_per_100"]
    if kita["value"] < kita["city_mean"] * 0.95:  # polarity -1: fewer places = more need
        assert kita["direction"] == "worse"
    elif kita["value"] > kita["city_mean"] * 1.05:
        assert kita["direction"] == "better"
    with pytest.raises(DataError):
        area_profile(atlas, "nope")


def test_area_profile_names_suppressed_values(atlas):
    sup = atlas.indicators[
        atlas.indicators["suppressed"]
        & atlas.indicators["indicator"].isin(default_profile_indicators(atlas))
    ]
    row = sup.iloc[0]
    prof = area_profile(atlas, row["area_id"], int(row["year"]), lang="en").set_index("indicator")
    cell = prof.loc[row["indicator"]]
    assert (
        cell["suppressed"] and math.isnan(cell["value"]) and cell["value_text"] == "too few cases"
    )
    assert cell["rank"] is None or cell["rank"] != cell["rank"]


# -- hotspots ---------------------------------------------------------------------------------
def test_supply_options_and_facility_counts(atlas):
    opts = dict((k, label) for label, k in hs.supply_options(atlas, "de"))
    assert list(opts)[0] == hs.FACILITIES_PER_1000
    assert "indicator:kita_places_per_100" in opts and "indicator:kita_places" not in opts
    counts = hs.facility_counts(atlas)
    assert counts["n"].sum() == len(atlas.facilities)
    kita = hs.facility_counts(atlas, ["Kita"])
    assert kita["n"].sum() == (atlas.facilities["kind"] == "Kita").sum()
    # without an area_id column, facilities are placed by their polygon
    a = demo_atlas()
    a.facilities = a.facilities.drop(columns=["area_id"])
    assert hs.facility_counts(a)["n"].tolist() == counts["n"].tolist()


def test_supply_per_1000(atlas):
    sup = hs.supply(atlas, hs.FACILITIES_PER_1000, 2024)
    pop = public_values(atlas, "pop_total", 2024)["value"].to_numpy()
    n = hs.facility_counts(atlas)["n"].to_numpy()
    assert np.allclose(sup.values, n / pop * 1000)
    with pytest.raises(DataError):
        hs.supply(atlas, "nonsense")


def test_hotspot_rule(atlas, need):
    sup = hs.supply(atlas, "indicator:kita_places_per_100", 2024)
    table = hs.hotspots(atlas, need, sup, "de")
    assert len(table) == len(atlas.areas)
    score, supply = table["need_score"], table["supply"]
    expected = (score >= score.quantile(hs.HIGH_NEED)) & (supply <= supply.quantile(hs.LOW_SUPPLY))
    assert table["hotspot"].tolist() == expected.tolist()
    assert table["gap"].is_monotonic_decreasing
    assert table.loc[table["supply"].idxmin(), "supply_rank"] == 1


def test_hotspots_react_to_weights(atlas):
    sup = hs.supply(atlas, hs.FACILITIES_PER_1000, 2024)
    a = hs.hotspots(atlas, need_index(atlas, ["sgb2_u15_rate"]), sup)
    b = hs.hotspots(atlas, need_index(atlas, ["green_share"]), sup)
    assert a["area_id"].tolist() != b["area_id"].tolist()


def test_suppressed_supply_is_never_a_hotspot(atlas, need):
    sup = hs.supply(atlas, hs.FACILITIES_PER_1000, 2024)
    sup.suppressed = [True] + [False] * (len(sup.values) - 1)
    table = hs.hotspots(atlas, need, sup, "en").set_index("area_id")
    first = atlas.areas["area_id"].iloc[0]
    assert not table.loc[first, "hotspot"] and math.isnan(table.loc[first, "supply"])
    assert table.loc[first, "supply_text"] == "too few cases"


# -- tables -----------------------------------------------------------------------------------
def test_indicator_table_and_csv_formats(atlas):
    frame = tb.indicator_table(atlas, "sgb2_u15_rate", 2021, "de")
    assert list(frame.columns) == [
        "Schlüssel",
        "Sozialraum",
        "Bezirk",
        "SGB-II-Quote der unter 15-Jährigen (%), 2021",
        "Hinweis",
        "Rang",
    ]
    de = tb.to_csv_bytes(frame, "de")
    assert de.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    text = de.decode("utf-8-sig")
    assert text.splitlines()[0].count(";") == 5 and re.search(r";\d+,\d+;", text)
    en = tb.to_csv_bytes(tb.indicator_table(atlas, "sgb2_u15_rate", 2021, "en"), "en").decode(
        "utf-8-sig"
    )
    assert en.splitlines()[0].startswith("Key,Area,District")
    back = pd.read_csv(io.StringIO(text), sep=";", decimal=",")
    supp = back[back["Hinweis"] == "zu wenige Fälle"]
    assert len(supp) >= 1 and supp.iloc[:, 3].isna().all()


def test_xlsx_workbook(atlas, need):
    import openpyxl

    data = tb.to_xlsx_bytes(
        {
            "Karte": tb.indicator_table(atlas, "sgb2_u15_rate", 2024),
            "Bedarf/Index": tb.need_table(atlas, need, "de"),
        },
        notes=["Hinweis 1"],
        lang="de",
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Karte", "Bedarf_Index", "Hinweise"]
    assert book["Hinweise"]["A2"].value == "Hinweis 1"
    assert book["Karte"].max_row == len(atlas.areas) + 1


def test_need_table_is_ranked(atlas, need):
    frame = tb.need_table(atlas, need, "en")
    assert frame["Rank"].tolist()[:3] == [1, 2, 3]
    assert any(c.startswith("z: ") for c in frame.columns)


def test_data_uri_round_trip():
    import base64

    uri = tb.data_uri("äb", "text/csv")
    assert uri.startswith("data:text/csv;charset=utf-8;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode("utf-8") == "äb"


# -- steckbrief -------------------------------------------------------------------------------
def test_steckbrief_is_one_standalone_page(atlas, need):
    doc = steckbrief_html(atlas, "SR05", 2024, "de", need=need)
    assert doc.startswith("<!DOCTYPE html>") and "<script" not in doc.lower()
    assert "http://" not in doc.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in doc
    assert "Steckbrief Brückenfeld" in doc and "@page{size:A4" in doc
    assert "Bedarfsindex 2024" in doc and "Fiktive Demo-Stadt" in doc
    assert "Einrichtungen im Gebiet" in doc and "<svg" in doc
    assert doc.count("<tr>") >= 10


def test_steckbrief_escapes_and_hides_suppressed(atlas):
    a = demo_atlas()
    a.areas.loc[4, "name"] = XSS
    a.facilities.loc[0, "kind"] = XSS
    sup = a.indicators[
        a.indicators["suppressed"] & a.indicators["indicator"].isin(default_profile_indicators(a))
    ].iloc[0]
    doc = steckbrief_html(a, sup["area_id"], int(sup["year"]), "de")
    assert XSS not in doc
    doc5 = steckbrief_html(a, a.areas["area_id"].iloc[4], None, "en")
    assert XSS not in doc5 and "&lt;img src=x onerror=alert(1)&gt;" in doc5
    assert "zu wenige Fälle" in doc
    with pytest.raises(DataError):
        steckbrief_html(a, "nope")
