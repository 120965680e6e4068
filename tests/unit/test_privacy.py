"""Tests for k360lib.atlas.privacy: small-number suppression."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from k360lib.atlas.indicators import derive_rate
from k360lib.atlas.model import Atlas
from k360lib.atlas.privacy import (
    DEFAULT_THRESHOLD,
    apply_suppression,
    assert_no_suppressed_values,
    check_threshold,
    derived_inputs,
    public_values,
    suppress_counts,
)
from k360lib.errors import DataError, K360Error

AREAS = ["A", "B", "C", "D"]


def make_atlas(rows, catalog, meta=None) -> Atlas:
    areas = gpd.GeoDataFrame(
        {"area_id": AREAS, "name": [f"Gebiet {a}" for a in AREAS]},
        geometry=[box(9.0 + 0.01 * i, 48.0, 9.01 + 0.01 * i, 48.01) for i in range(len(AREAS))],
        crs="EPSG:4326",
    )
    ind = pd.DataFrame(rows, columns=["area_id", "indicator", "year", "value", "suppressed"])
    return Atlas(areas, ind, pd.DataFrame(catalog), meta=meta or {})


def cat_row(id, kind, numerator="", denominator="", polarity=1):
    return {
        "id": id,
        "label_de": id,
        "label_en": id,
        "unit": "",
        "polarity": polarity,
        "kind": kind,
        "numerator": numerator,
        "denominator": denominator,
    }


CATALOG = [
    cat_row("cases", "count"),
    cat_row("children", "count", polarity=0),
    cat_row("rate", "rate", numerator="cases", denominator="children"),
    cat_row("rate_change", "rate", numerator="rate"),  # a rate of a rate
    cat_row("share", "share"),
]


@pytest.fixture
def atlas() -> Atlas:
    rows = []
    for a, cases, children, share in zip(
        AREAS, [0, 2, 3, 40], [120, 80, 2, 400], [1.0, 2.0, 0.5, 30.0], strict=True
    ):
        for year, factor in ((2023, 1), (2024, 2)):
            rows += [
                (a, "cases", year, cases * factor, False),
                (a, "children", year, children * factor, False),
                (a, "share", year, share, False),
            ]
    return derive_rate(make_atlas(rows, CATALOG), "cases", "children", "rate")


def flags(df, indicator, year):
    sel = df[(df["indicator"] == indicator) & (df["year"] == year)].set_index("area_id")
    return sel["suppressed"].reindex(AREAS).tolist()


# -- counts ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "threshold", "suppressed"),
    [
        (0, 3, True),  # zero is suppressed too
        (1, 3, True),
        (2, 3, True),
        (3, 3, False),
        (10, 3, False),
        (float("nan"), 3, False),  # missing stays missing, not "too few cases"
        (2, 1, False),
        (0, 1, True),
        (4, 5, True),
        (5, 5, False),
    ],
)
def test_count_rule(value, threshold, suppressed):
    ind = pd.DataFrame(
        {
            "area_id": ["A"],
            "indicator": ["cases"],
            "year": [2024],
            "value": [value],
            "suppressed": [False],
        }
    )
    out = suppress_counts(ind, pd.DataFrame(CATALOG), threshold)
    assert bool(out["suppressed"].iloc[0]) is suppressed
    if suppressed or math.isnan(value):
        assert math.isnan(out["value"].iloc[0])
    else:
        assert out["value"].iloc[0] == value


def test_only_counts_are_checked(atlas):
    out = suppress_counts(atlas.indicators, atlas.catalog)
    # shares of 0.5, 1.0 and 2.0 are below 3 but not counts
    assert flags(out, "share", 2023) == [False, False, False, False]
    assert out.loc[out["indicator"] == "share", "value"].notna().all()


def test_default_threshold_is_three(atlas):
    assert DEFAULT_THRESHOLD == 3
    out = suppress_counts(atlas.indicators, atlas.catalog)
    assert flags(out, "cases", 2023) == [True, True, False, False]  # 0, 2, 3, 40
    assert flags(out, "cases", 2024) == [True, False, False, False]  # 0, 4, 6, 80


def test_suppressed_values_are_removed_and_input_unchanged(atlas):
    before = atlas.indicators.copy()
    out = suppress_counts(atlas.indicators, atlas.catalog)
    assert out.loc[out["suppressed"], "value"].isna().all()
    assert out.loc[out["suppressed"]].shape[0] > 0
    pd.testing.assert_frame_equal(atlas.indicators, before)
    assert list(out.columns) == list(before.columns) and len(out) == len(before)


def test_already_suppressed_rows_stay_suppressed():
    ind = pd.DataFrame(
        {
            "area_id": ["A"],
            "indicator": ["share"],
            "year": [2024],
            "value": [np.nan],
            "suppressed": [True],
        }
    )
    out = suppress_counts(ind, pd.DataFrame(CATALOG))
    assert out["suppressed"].tolist() == [True]


def test_catalog_without_kind_suppresses_nothing_new():
    ind = pd.DataFrame({"area_id": ["A"], "indicator": ["cases"], "year": [2024], "value": [1.0]})
    out = suppress_counts(ind, pd.DataFrame({"id": ["cases"]}))
    assert out["suppressed"].tolist() == [False]
    assert out["value"].tolist() == [1.0]


# -- propagation ------------------------------------------------------------------------------
def test_rate_is_suppressed_where_numerator_or_denominator_is(atlas):
    out = suppress_counts(atlas.indicators, atlas.catalog)
    # 2023: cases A=0, B=2 suppressed (numerator); children C=2 suppressed (denominator)
    assert flags(out, "rate", 2023) == [True, True, True, False]
    # 2024: cases A=0 suppressed; children C=4 fine
    assert flags(out, "rate", 2024) == [True, False, False, False]
    rate = out[(out["indicator"] == "rate") & (out["year"] == 2024)].set_index("area_id")["value"]
    assert rate["B"] == pytest.approx(4 / 160 * 100)
    assert math.isnan(rate["A"])


def test_propagation_is_transitive_even_without_intermediate_rows(atlas):
    extra = pd.DataFrame(
        {
            "area_id": AREAS,
            "indicator": "rate_change",
            "year": 2023,
            "value": [1.0, 2.0, 3.0, 4.0],
            "suppressed": False,
        }
    )
    at = atlas.with_indicators(extra)
    out = suppress_counts(at.indicators, at.catalog)
    assert flags(out, "rate_change", 2023) == [True, True, True, False]
    # the intermediate "rate" rows are not needed: drop them and the chain still holds
    no_rate = at.indicators[at.indicators["indicator"] != "rate"]
    out = suppress_counts(no_rate, at.catalog)
    assert flags(out, "rate_change", 2023) == [True, True, True, False]


def test_derived_inputs_reads_catalog_links():
    links = derived_inputs(pd.DataFrame(CATALOG))
    assert links == {"rate": ("cases", "children"), "rate_change": ("rate",)}
    loaded_style = pd.DataFrame({"id": ["x"], "numerator": [np.nan], "denominator": [""]})
    assert derived_inputs(loaded_style) == {}


# -- threshold validation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("threshold", "ok"),
    [
        (1, True),
        (3, True),
        (np.int64(5), True),
        (0, False),
        (-1, False),
        (2.5, False),
        (3.0, False),
        ("3", False),
        (True, False),
        (None, False),
    ],
)
def test_threshold_validation(atlas, threshold, ok):
    if ok:
        assert check_threshold(threshold) == int(threshold)
        apply_suppression(atlas, threshold)
        return
    calls = [
        lambda: suppress_counts(atlas.indicators, atlas.catalog, threshold),
        lambda: apply_suppression(atlas, threshold),
    ]
    if threshold is not None:  # public_values(threshold=None) means "the atlas's own rule"
        calls.append(lambda: public_values(atlas, "cases", 2024, threshold=threshold))
    for call in calls:
        with pytest.raises(DataError) as exc:
            call()
        assert exc.value.key == "atlas.privacy.bad_threshold"
        assert "whole number" in exc.value.message("en")
        assert "ganze Zahl" in exc.value.message("de")


# -- atlas level -------------------------------------------------------------------------------------
def test_apply_suppression_returns_new_atlas_with_meta(atlas):
    out = apply_suppression(atlas, threshold=5)
    assert out is not atlas
    assert out.meta["suppression_threshold"] == 5
    assert "suppression_threshold" not in atlas.meta
    assert not atlas.indicators["suppressed"].any()
    assert flags(out.indicators, "cases", 2024) == [True, True, False, False]  # 0, 4 < 5
    assert out.values("rate", 2024)["suppressed"].tolist() == [
        True,
        True,
        True,
        False,
    ]  # children C=4
    assert_no_suppressed_values(out.indicators)


def test_derived_rate_is_suppressed_after_apply(atlas):
    suppressed = apply_suppression(atlas)
    again = derive_rate(suppressed, "cases", "children", "rate2")
    assert again.values("rate2", 2023)["suppressed"].tolist() == [True, True, True, False]


def test_assert_no_suppressed_values_guard():
    clean = pd.DataFrame(
        {"area_id": ["A", "B"], "value": [np.nan, 1.0], "suppressed": [True, False]}
    )
    assert assert_no_suppressed_values(clean) is clean
    leak = pd.DataFrame(
        {
            "area_id": ["A", "B"],
            "indicator": "cases",
            "year": 2024,
            "value": [2.0, 1.0],
            "suppressed": [True, False],
        }
    )
    with pytest.raises(K360Error) as exc:
        assert_no_suppressed_values(leak)
    msg = exc.value.message("en")
    assert "cases" in msg and "2024" in msg and "'A'" in msg
    with pytest.raises(DataError) as exc:
        assert_no_suppressed_values(leak.drop(columns="suppressed"))
    assert exc.value.key == "atlas.privacy.no_flag"
    # other value columns can be checked too
    wide = pd.DataFrame({"area_id": ["A"], "from": [1.0], "to": [np.nan], "suppressed": [True]})
    with pytest.raises(DataError):
        assert_no_suppressed_values(wide, value_columns=("from", "to"))


def test_public_values_apply_the_rule_even_on_raw_atlas(atlas):
    assert not atlas.values("rate", 2023)["suppressed"].any()  # raw: nothing hidden yet
    pub = public_values(atlas, "rate", 2023)
    assert list(pub.columns) == ["area_id", "value", "suppressed"]
    assert pub["suppressed"].tolist() == [True, True, True, False]
    assert pub["value"].isna().tolist() == [True, True, True, False]
    assert public_values(atlas, "cases", 2023)["suppressed"].tolist() == [True, True, False, False]


def test_public_values_threshold_from_meta_and_argument(atlas):
    strict = apply_suppression(atlas, threshold=5)
    # the atlas's own rule is used by default
    assert public_values(strict, "cases", 2024)["suppressed"].tolist() == [True, True, False, False]
    loose = Atlas(
        atlas.areas, atlas.indicators, atlas.catalog, atlas.facilities, {"suppression_threshold": 1}
    )
    assert public_values(loose, "cases", 2023)["suppressed"].tolist() == [True, False, False, False]
    assert public_values(loose, "cases", 2023, threshold=4)["suppressed"].tolist() == [
        True,
        True,
        True,
        False,
    ]


def test_public_values_latest_year_and_missing_area():
    rows = [
        ("A", "cases", 2024, 10, False),
        ("B", "cases", 2024, 1, False),
        ("A", "cases", 2020, 1, False),
    ]
    at = make_atlas(rows, CATALOG)
    pub = public_values(at, "cases")
    assert pub["suppressed"].tolist() == [False, True, False, False]
    assert pub["value"].iloc[0] == 10
    assert pub["value"].iloc[2:].isna().all()  # C, D: missing, not suppressed
