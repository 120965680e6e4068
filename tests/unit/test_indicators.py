"""Tests for k360lib.atlas.indicators: derived rates, change, need index."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from k360lib.atlas.indicators import (
    MSS_THRESHOLDS,
    NeedIndex,
    change,
    derive_catalog_rates,
    derive_rate,
    factor_from_unit,
    need_index,
    need_scores,
)
from k360lib.atlas.model import Atlas
from k360lib.atlas.report import ImportReport
from k360lib.errors import DataError, K360Error


def make_atlas(
    data: dict[str, dict[int, list]], catalog: list[dict], areas: list[str] | None = None
) -> Atlas:
    """``data = {indicator: {year: [value per area]}}``; None = no row, "x" = suppressed."""
    n = len(next(iter(next(iter(data.values())).values()))) if data else len(areas or [])
    areas = areas or [f"A{i}" for i in range(1, n + 1)]
    geo = gpd.GeoDataFrame(
        {"area_id": areas, "name": [f"Gebiet {a}" for a in areas]},
        geometry=[box(9.0 + 0.01 * i, 48.0, 9.01 + 0.01 * i, 48.01) for i in range(len(areas))],
        crs="EPSG:4326",
    )
    rows = []
    for ind, years in data.items():
        for year, values in years.items():
            for a, v in zip(areas, values, strict=True):
                if v is None:
                    continue
                sup = v == "x"
                rows.append((a, ind, year, np.nan if sup else float(v), sup))
    frame = pd.DataFrame(rows, columns=["area_id", "indicator", "year", "value", "suppressed"])
    return Atlas(geo, frame, pd.DataFrame(catalog))


def cat(id, polarity=1, kind="rate", unit="%", numerator="", denominator="", **extra):
    row = {
        "id": id,
        "label_de": f"{id} (de)",
        "label_en": f"{id} (en)",
        "unit": unit,
        "polarity": polarity,
        "theme": "t",
        "kind": kind,
        "numerator": numerator,
        "denominator": denominator,
    }
    row.update(extra)
    return row


# ======================================================================================
# derive_rate
# ======================================================================================
@pytest.fixture
def counts() -> Atlas:
    return make_atlas(
        {
            "cases": {2024: [5, 0, 7, "x", 3, None]},
            "children": {2024: [50, 0, None, 40, "x", 10]},
        },
        [cat("cases", kind="count", theme="Armut"), cat("children", kind="count", polarity=0)],
    )


def test_derive_rate_values(counts):
    out = derive_rate(counts, "cases", "children", "quote")
    v = out.values("quote", 2024).set_index("area_id")
    assert v.loc["A1", "value"] == pytest.approx(10.0)
    assert math.isnan(v.loc["A2", "value"]) and not v.loc["A2", "suppressed"]  # 0 / 0: NaN, not inf
    assert math.isnan(v.loc["A3", "value"]) and not v.loc["A3", "suppressed"]  # denominator missing
    assert v.loc["A4", "suppressed"] and math.isnan(v.loc["A4", "value"])  # numerator suppressed
    assert v.loc["A5", "suppressed"] and math.isnan(v.loc["A5", "value"])  # denominator suppressed
    assert math.isnan(v.loc["A6", "value"]) and not v.loc["A6", "suppressed"]  # numerator missing
    assert np.isfinite(out.indicators["value"].dropna()).all()


def test_derive_rate_zero_denominator_with_positive_numerator_is_nan():
    at = make_atlas({"n": {2024: [3, 4]}, "d": {2024: [0, 8]}}, [cat("n"), cat("d")])
    v = derive_rate(at, "n", "d", "r", factor=1000.0).values("r", 2024)["value"].tolist()
    assert math.isnan(v[0]) and v[1] == pytest.approx(500.0)


def test_derive_rate_catalog_row(counts):
    out = derive_rate(counts, "cases", "children", "quote", unit="%", polarity=1)
    row = out.indicator_info("quote")
    assert row["numerator"] == "cases" and row["denominator"] == "children"
    assert row["unit"] == "%" and row["polarity"] == 1 and row["kind"] == "rate"
    assert row["theme"] == "Armut"  # from the numerator
    assert out.label("quote", "de") == "cases (de) je children (de)"
    assert out.label("quote", "en") == "cases (en) per children (en)"
    assert counts.indicator_ids == ["cases", "children"]  # input unchanged
    named = derive_rate(
        counts, "cases", "children", "q2", label_de="Quote", label_en="Rate", theme="X"
    )
    assert named.label("q2", "de") == "Quote" and named.indicator_info("q2")["theme"] == "X"


def test_derive_rate_replaces_existing_values(counts):
    first = derive_rate(counts, "cases", "children", "quote", factor=100.0)
    second = derive_rate(first, "cases", "children", "quote", factor=1.0)
    assert (second.indicators["indicator"] == "quote").sum() == (
        first.indicators["indicator"] == "quote"
    ).sum()
    assert second.values("quote", 2024)["value"].iloc[0] == pytest.approx(0.1)
    assert (second.catalog["id"] == "quote").sum() == 1


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"numerator": "nope"}, "atlas.indicators.unknown"),
        ({"denominator": "nada"}, "atlas.indicators.unknown"),
        ({"id": ""}, "atlas.indicators.bad_id"),
        ({"id": "cases"}, "atlas.indicators.bad_id"),
        ({"factor": 0}, "atlas.indicators.bad_factor"),
        ({"factor": -100}, "atlas.indicators.bad_factor"),
        ({"factor": float("inf")}, "atlas.indicators.bad_factor"),
        ({"factor": "100"}, "atlas.indicators.bad_factor"),
        ({"polarity": 2}, "atlas.indicators.bad_polarity"),
    ],
)
def test_derive_rate_invalid(counts, kwargs, key):
    args = {"numerator": "cases", "denominator": "children", "id": "quote", **kwargs}
    with pytest.raises(DataError) as exc:
        derive_rate(counts, **args)
    assert exc.value.key == key
    if key == "atlas.indicators.unknown":
        msg = exc.value.message("en")
        assert "cases" in msg and "children" in msg  # lists the known ones


@pytest.mark.parametrize(
    ("unit", "factor"),
    [
        ("%", 100.0),
        ("in %", 100.0),
        ("‰", 1000.0),
        ("je 1.000 Kinder", 1000.0),
        ("per 1,000", 1000.0),
        ("pro 100 Einw.", 100.0),
        ("je 10.000", 10000.0),
        ("Plätze", 1.0),
        ("", 1.0),
        (None, 1.0),
    ],
)
def test_factor_from_unit(unit, factor):
    assert factor_from_unit(unit) == factor


def test_derive_catalog_rates_in_dependency_order():
    catalog = [
        cat("cases", kind="count", unit=""),
        cat("children", kind="count", unit="", polarity=0),
        cat(
            "per_1000",
            unit="je 1.000 Kinder",
            numerator="cases",
            denominator="children",
            source="Amt 12",
        ),
        cat("ratio", unit="", numerator="per_1000", denominator="children", polarity=-1),
    ]
    at = make_atlas({"cases": {2024: [5, 20]}, "children": {2024: [100, 400]}}, catalog)
    out = derive_catalog_rates(at)
    assert out.values("per_1000", 2024)["value"].tolist() == pytest.approx([50.0, 50.0])
    assert out.values("ratio", 2024)["value"].tolist() == pytest.approx([0.5, 0.125])
    assert out.indicator_info("ratio")["polarity"] == -1
    assert out.indicator_info("per_1000")["source"] == "Amt 12"
    assert out.label("per_1000", "de") == "per_1000 (de)"
    # nothing left to do: same atlas back
    assert derive_catalog_rates(out).indicators.equals(out.indicators)


def test_derive_catalog_rates_reports_missing_inputs():
    catalog = [cat("cases", kind="count"), cat("r", numerator="cases", denominator="ghost")]
    at = make_atlas({"cases": {2024: [5, 20]}}, catalog)
    with pytest.warns(UserWarning, match="ghost"):
        same = derive_catalog_rates(at)
    assert "r" not in same.indicator_ids
    report = ImportReport()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        derive_catalog_rates(at, report=report)
    assert [f.key for f in report.warnings] == ["atlas.indicators.rate_inputs_missing"]
    assert "ghost" in report.render("en")
    with pytest.raises(DataError):
        derive_catalog_rates(at, strict=True)


def test_derive_catalog_rates_reads_loaded_catalog(tmp_path):
    catalog = [
        cat("n", kind="count", unit=""),
        cat("d", kind="count", unit=""),
        cat("r", unit="%", numerator="n", denominator="d"),
    ]
    at = make_atlas(
        {"n": {2024: [10, 20]}, "d": {2024: [40, 80]}}, catalog
    )  # above the threshold: save() suppresses small counts
    loaded = Atlas.load(at.save(tmp_path / "atlas"))  # catalog cells come back as strings
    out = derive_catalog_rates(loaded)
    assert out.values("r", 2024)["value"].tolist() == pytest.approx([25.0, 25.0])


# ======================================================================================
# change
# ======================================================================================
@pytest.fixture
def series() -> Atlas:
    return make_atlas(
        {"q": {2022: [10, 0, 5, "x"], 2024: [15, 3, "x", 8]}},
        [cat("q")],
    )


def test_change_absolute_and_relative(series):
    d = change(series, "q", 2022, 2024).set_index("area_id")
    assert list(d.reset_index().columns) == ["area_id", "from", "to", "change", "suppressed"]
    assert d.loc["A1", "change"] == pytest.approx(5.0)
    assert d.loc["A2", "change"] == pytest.approx(3.0)
    assert d.loc["A3", "suppressed"] and math.isnan(d.loc["A3", "change"])  # "to" suppressed
    assert d.loc["A4", "suppressed"] and math.isnan(d.loc["A4", "change"])  # "from" suppressed
    assert d.loc["A3", "from"] == 5.0 and math.isnan(d.loc["A3", "to"])
    r = change(series, "q", 2022, 2024, relative=True).set_index("area_id")
    assert r.loc["A1", "change"] == pytest.approx(50.0)
    assert math.isnan(r.loc["A2", "change"]) and not r.loc["A2", "suppressed"]  # from 0


@pytest.mark.parametrize(("y0", "y1"), [(2021, 2024), (2022, 2030), ("abc", 2024)])
def test_change_unknown_year_lists_available(series, y0, y1):
    with pytest.raises(DataError) as exc:
        change(series, "q", y0, y1)
    assert exc.value.key == "atlas.indicators.year_missing"
    assert "2022, 2024" in exc.value.message("en")


def test_change_unknown_indicator(series):
    with pytest.raises(DataError) as exc:
        change(series, "nope", 2022, 2024)
    assert "nope" in exc.value.message("de") and "q" in exc.value.message("de")


# ======================================================================================
# need index
# ======================================================================================
# Hand-computed example: 4 areas, x (polarity +1) and y (polarity -1).
#   x = 1, 2, 3, 6     mean 3,  sd = sqrt((4+1+0+9)/4) = sqrt(3.5)
#   y = 10, 20, 30, 40 mean 25, sd = sqrt((225+25+25+225)/4) = sqrt(125)
X = [1.0, 2.0, 3.0, 6.0]
Y = [10.0, 20.0, 30.0, 40.0]
ZX = [(v - 3.0) / math.sqrt(3.5) for v in X]  # -1.069, -0.535, 0, 1.604
ZY = [-(v - 25.0) / math.sqrt(125.0) for v in Y]  # flipped: 1.342, 0.447, -0.447, -1.342


@pytest.fixture
def two() -> Atlas:
    return make_atlas(
        {"x": {2023: [9, 9, 9, 9], 2024: X}, "y": {2024: Y}},
        [cat("x", polarity=1), cat("y", polarity=-1)],
    )


def test_need_index_hand_computed_equal_weights(two):
    ni = need_index(two, ["x", "y"])
    assert isinstance(ni, NeedIndex)
    assert ni.year == 2024 and ni.indicators == ["x", "y"]
    assert ni.weights == {"x": 0.5, "y": 0.5}
    tab = ni.table.set_index("area_id")
    np.testing.assert_allclose(tab["z_x"], ZX)
    np.testing.assert_allclose(tab["z_y"], ZY)  # polarity -1 flips the sign
    expected = [(a + b) / 2 for a, b in zip(ZX, ZY, strict=True)]  # 0.137, -0.044, -0.224, 0.131
    np.testing.assert_allclose(tab["score"], expected)
    assert tab["rank"].tolist() == [1, 3, 4, 2]
    assert tab["n_available"].tolist() == [2, 2, 2, 2]
    assert list(ni.table.columns[:5]) == ["area_id", "score", "rank", "class", "class_label"]
    assert ni.insufficient == []


def test_weights_change_ranking_and_are_visible(two):
    ni = need_index(two, {"x": 3, "y": 1})
    assert ni.weights == {"x": 0.75, "y": 0.25}
    expected = [
        0.75 * a + 0.25 * b for a, b in zip(ZX, ZY, strict=True)
    ]  # -0.466, -0.289, -0.112, 0.867
    np.testing.assert_allclose(ni.table["score"], expected)
    assert ni.table["rank"].tolist() == [4, 3, 2, 1]
    assert need_index(two, {"x": 6, "y": 2}).weights == ni.weights  # only ratios matter
    text = ni.explain("de")
    assert "x (de) 75 %" in text and "y (de) 25 %" in text and "weniger Bedarf" in text
    assert "x (en) 75%" in ni.explain("en")


def test_polarity_sign(two):
    flipped = make_atlas({"y": {2024: Y}}, [cat("y", polarity=1)])
    z_plus = need_index(flipped, ["y"]).table["z_y"].to_numpy()
    z_minus = need_index(two, ["y"]).table["z_y"].to_numpy()
    np.testing.assert_allclose(z_plus, -z_minus)
    assert need_index(two, ["y"]).table["rank"].tolist() == [1, 2, 3, 4]  # low y = more need


def test_zero_weight_keeps_indicator_visible_but_without_effect(two):
    ni = need_index(two, {"x": 1, "y": 0})
    np.testing.assert_allclose(ni.table["score"], ZX)
    assert ni.weights == {"x": 1.0, "y": 0.0}
    assert "z_y" in ni.table.columns


@pytest.mark.parametrize(
    ("weights", "key"),
    [
        ({"x": -1, "y": 2}, "atlas.indicators.negative_weight"),
        ({"x": 0, "y": 0}, "atlas.indicators.zero_weights"),
        ({"x": float("nan")}, "atlas.indicators.bad_weight"),
        ({"x": "1"}, "atlas.indicators.bad_weight"),
        ({"x": True}, "atlas.indicators.bad_weight"),
        ([], "atlas.indicators.no_weights"),
        ({}, "atlas.indicators.no_weights"),
        (["x", "ghost", "spook"], "atlas.indicators.unknown"),
        ({"ghost": 1.0}, "atlas.indicators.unknown"),
    ],
)
def test_need_index_invalid_weights(two, weights, key):
    with pytest.raises(K360Error) as exc:
        need_index(two, weights)
    assert exc.value.key == key
    if key == "atlas.indicators.unknown":
        msg = exc.value.message("en")
        assert "ghost" in msg and "x, y" in msg
        assert "x," not in msg.split("Available")[0]  # known ids are not reported as unknown


@pytest.mark.parametrize(
    "weights", [["x"], ("x", "y"), "x", {"y": 2.5}, {"x": np.float64(1.0), "y": np.int64(1)}]
)
def test_need_index_valid_weight_forms(two, weights):
    ni = need_index(two, weights)
    assert sum(ni.weights.values()) == pytest.approx(1.0)


def test_half_weight_rule():
    at = make_atlas(
        {
            "a": {2024: [1, 2, 3, None, None]},
            "b": {2024: [2, 1, 4, 3, None]},
            "c": {2024: [5, 1, 1, "x", 2]},
        },
        [cat("a"), cat("b"), cat("c")],
    )
    ni = need_index(at, {"a": 1, "b": 1, "c": 2})  # weights 0.25, 0.25, 0.5
    tab = ni.table.set_index("area_id")
    assert tab.loc["A1", "n_available"] == 3
    # A4: only b (0.25) available -> no score; A5: only c (0.5) -> exactly half: score
    assert math.isnan(tab.loc["A4", "score"]) and pd.isna(tab.loc["A4", "rank"])
    assert tab.loc["A5", "weight_available"] == pytest.approx(0.5)
    assert tab.loc["A5", "score"] == pytest.approx(tab.loc["A5", "z_c"])
    assert ni.insufficient == ["A4"]
    assert "A4" in ni.explain("en")
    # available z are re-weighted: A4 of b alone would not count, A1 uses all three
    z = tab.loc["A1", ["z_a", "z_b", "z_c"]].to_numpy(dtype=float)
    assert tab.loc["A1", "score"] == pytest.approx(0.25 * z[0] + 0.25 * z[1] + 0.5 * z[2])


def test_constant_indicator_gives_zero_z():
    at = make_atlas({"a": {2024: [4, 4, 4]}, "b": {2024: [1, 2, 3]}}, [cat("a"), cat("b")])
    tab = need_index(at, ["a", "b"]).table
    assert tab["z_a"].tolist() == [0.0, 0.0, 0.0]


def test_year_selection():
    at = make_atlas(
        {"a": {2022: [1, 2], 2023: [1, 3], 2024: [2, 5]}, "b": {2022: [5, 1], 2023: [4, 2]}},
        [cat("a"), cat("b")],
    )
    assert need_index(at, ["a", "b"]).year == 2023  # latest common year
    assert need_index(at, ["a"]).year == 2024
    assert need_index(at, ["a", "b"], year=2022).year == 2022
    with pytest.raises(DataError) as exc:
        need_index(at, ["a", "b"], year=2024)
    assert exc.value.key == "atlas.indicators.year_missing" and "b" in exc.value.message("en")
    only = make_atlas({"a": {2022: [1, 2]}, "b": {2024: [1, 2]}}, [cat("a"), cat("b")])
    with pytest.raises(DataError) as exc:
        need_index(only, ["a", "b"])
    assert exc.value.key == "atlas.indicators.no_common_year"


@pytest.mark.parametrize("polarity", [0, None, "", "abc"])
def test_indicator_without_direction_is_refused(polarity):
    at = make_atlas({"a": {2024: [1, 2]}}, [cat("a", polarity=polarity)])
    with pytest.raises(DataError) as exc:
        need_index(at, ["a"])
    assert exc.value.key == "atlas.indicators.no_polarity"


def test_quantile_classes(two):
    ni = need_index(two, ["x", "y"], classes=2, lang="de")
    tab = ni.table.set_index("area_id")
    # scores: A1 0.137, A2 -0.044, A3 -0.224, A4 0.131 -> two lowest in class 1
    assert tab["class"].tolist() == [2, 1, 1, 2]
    assert tab.loc["A1", "class_label"] == "Klasse 2 von 2 (höchster Bedarf)"
    assert tab.loc["A3", "class_label"] == "Klasse 1 von 2 (geringster Bedarf)"
    assert ni.classes == "quantiles" and ni.classification.k == 2
    en = ni.to_frame("en").set_index("area_id")
    assert en.loc["A1", "class_label"] == "class 2 of 2 (most need)"


def test_mss_status_classes():
    # one indicator: score = z; x = -2, -1, 0, 0, 1, 2 -> sd = sqrt(10/6), s = x / 1.291
    #   s = -1.55, -0.77, 0, 0, 0.77, 1.55 -> classes hoch, hoch, mittel, mittel, niedrig, sehr niedrig
    at = make_atlas({"x": {2024: [-2, -1, 0, 0, 1, 2, None]}}, [cat("x")])
    ni = need_index(at, ["x"], classes="mss", lang="de")
    tab = ni.table
    assert tab["class"].tolist()[:6] == [1, 1, 2, 2, 3, 4]
    assert pd.isna(tab["class"].iloc[6]) and pd.isna(tab["class_label"].iloc[6])
    assert tab["class_label"].tolist()[:6] == [
        "Status hoch",
        "Status hoch",
        "Status mittel",
        "Status mittel",
        "Status niedrig",
        "Status sehr niedrig",
    ]
    assert ni.class_labels("en") == [
        "high status",
        "medium status",
        "low status",
        "very low status",
    ]
    assert ni.classification.k == 4 and ni.classification.counts.tolist() == [2, 2, 1, 1]
    # the score (= z) has mean 0 and sd 1, so the class bounds are the thresholds themselves
    np.testing.assert_allclose(ni.classification.bins[:3], MSS_THRESHOLDS, atol=1e-12)
    assert np.isinf(ni.classification.bins[3])
    assert len(ni.classification.legend_labels(lang="de")) == 4


def test_mss_with_equal_scores_is_all_medium():
    at = make_atlas({"x": {2024: [3, 3, 3]}}, [cat("x")])
    assert need_index(at, ["x"], classes="MSS").table["class"].tolist() == [2, 2, 2]


@pytest.mark.parametrize("classes", [1, 10, "berlin", 2.5, True])
def test_invalid_classes(two, classes):
    with pytest.raises(DataError) as exc:
        need_index(two, ["x"], classes=classes)
    assert exc.value.key == "atlas.indicators.bad_classes"


def test_no_classes_by_default(two):
    tab = need_index(two, ["x"]).table
    assert tab["class"].isna().all() and tab["class_label"].isna().all()


def test_suppressed_values_are_skipped():
    at = make_atlas({"a": {2024: [1, "x", 3, 5]}, "b": {2024: [1, 2, 3, 4]}}, [cat("a"), cat("b")])
    tab = need_index(at, ["a", "b"]).table.set_index("area_id")
    assert math.isnan(tab.loc["A2", "z_a"])
    assert tab.loc["A2", "n_available"] == 1
    # z of a uses only the three available values
    np.testing.assert_allclose(tab.loc[["A1", "A3", "A4"], "z_a"], [-1.224744871, 0.0, 1.224744871])


# -- properties -------------------------------------------------------------------------------
values_st = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_subnormal=False)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_property_permuting_areas_permutes_scores(data):
    n = data.draw(st.integers(2, 12))
    cols = data.draw(st.integers(1, 3))
    raw = {
        f"i{j}": data.draw(
            st.lists(st.one_of(values_st, st.just(float("nan"))), min_size=n, max_size=n)
        )
        for j in range(cols)
    }
    weights = {k: data.draw(st.floats(0.1, 5.0)) for k in raw}
    total = sum(weights.values())
    weights = {k: w / total for k, w in weights.items()}
    polarity = {k: data.draw(st.sampled_from([1, -1])) for k in raw}
    frame = pd.DataFrame(raw, index=[f"A{i}" for i in range(n)])
    perm = data.draw(st.permutations(list(range(n))))
    base = need_scores(frame, weights, polarity)
    permuted = need_scores(frame.iloc[perm], weights, polarity)
    pd.testing.assert_frame_equal(
        permuted, base.iloc[perm], check_exact=False, rtol=1e-9, atol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-10_000, 10_000), min_size=3, max_size=10, unique=True).map(
        lambda v: [x / 100 for x in v]
    ),
    st.floats(0.01, 1000.0),
    st.floats(-1000.0, 1000.0),
)
def test_property_scores_ignore_units(xs, scale, shift):
    # z-scores do not depend on the unit: x and a*x+b (a > 0) give the same index
    frame = pd.DataFrame({"x": xs})
    moved = pd.DataFrame({"x": [scale * v + shift for v in xs]})
    a = need_scores(frame, {"x": 1.0}, {"x": 1})["score"].to_numpy()
    b = need_scores(moved, {"x": 1.0}, {"x": 1})["score"].to_numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_need_index_on_permuted_atlas_gives_permuted_scores(two):
    base = need_index(two, {"x": 2, "y": 1}).table.set_index("area_id")
    order = [3, 0, 2, 1]
    perm = make_atlas(
        {"x": {2024: [X[i] for i in order]}, "y": {2024: [Y[i] for i in order]}},
        [cat("x", polarity=1), cat("y", polarity=-1)],
        areas=[f"A{i + 1}" for i in order],
    )
    other = need_index(perm, {"x": 2, "y": 1}).table.set_index("area_id")
    assert other.index.tolist() == ["A4", "A1", "A3", "A2"]
    pd.testing.assert_series_equal(other["score"], base["score"].loc[other.index])
    pd.testing.assert_series_equal(other["rank"], base["rank"].loc[other.index])
