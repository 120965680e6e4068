"""Tests for k360lib.atlas.classify: schemes, classes, legends, palettes."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k360lib.atlas.classify import (
    MAX_CLASSES,
    MISSING_COLOR,
    PALETTES,
    SCHEMES,
    SUPPRESSED_COLOR,
    SUPPRESSED_HATCH,
    Classification,
    _fit_fisher_jenks,
    classify,
    colors_for,
    default_palette,
    format_number,
    normalize_scheme,
    palette,
    palette_for_need,
    scheme_label,
)
from k360lib.errors import DataError, K360Error
from k360lib.i18n import set_lang

K_SCHEMES = [key for key, s in SCHEMES.items() if s.uses_k]
ALL_SCHEMES = list(SCHEMES)
VALUES = np.array([3.2, 7.5, 1.0, 12.5, 18.0, 4.4, 9.9, 2.2, 15.1, 6.0, 11.0, 0.5])


def _fit(values, scheme, k=5):
    breaks = [2.0, 5.0, 10.0] if scheme == "user_defined" else None
    return classify(values, scheme, k=k, breaks=breaks)


def _assert_consistent(c: Classification, values) -> None:
    """Bins strictly ascending, every finite value inside its class, others -1."""
    y = np.asarray(values, dtype=float)
    finite = np.isfinite(y)
    assert c.k == len(c.bins) == len(c.counts)
    assert np.all(np.diff(c.bins) > 0), c.bins
    assert np.array_equal(c.classes == -1, ~finite)
    assert c.counts.sum() == finite.sum()
    for v, cls in zip(y[finite], c.classes[finite], strict=True):
        assert 0 <= cls < c.k
        assert v <= c.bins[cls]
        if cls == 0:
            assert v >= c.lower
        else:
            assert v > c.bins[cls - 1]


@pytest.fixture
def lang_de():
    set_lang("de")
    yield
    set_lang(None)


# -- registry ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("quantiles", "quantiles"),
        ("Quantiles", "quantiles"),
        ("  QUANTILES ", "quantiles"),
        ("equal_interval", "equal_interval"),
        ("Equal Interval", "equal_interval"),
        ("equal-interval", "equal_interval"),
        ("EqualInterval", "equal_interval"),
        ("Fisher-Jenks", "fisher_jenks"),
        ("natural breaks", "natural_breaks"),
        ("std-mean", "std_mean"),
        ("User Defined", "user_defined"),
    ],
)
def test_scheme_keys_are_normalised(name, key):
    assert normalize_scheme(name) == key


@pytest.mark.parametrize("name", ["", "quantile", "kmeans", "head_tail", "jenks_caspall", None, 5])
def test_unknown_scheme_lists_valid_keys(name):
    with pytest.raises(DataError) as exc:
        classify(VALUES, name)
    msg = exc.value.message("en")
    assert "Unknown classification scheme" in msg
    for key in SCHEMES:
        assert key in msg


def test_registry_has_required_schemes_and_labels():
    for key in ["quantiles", "equal_interval", "fisher_jenks", "natural_breaks", "user_defined"]:
        assert key in SCHEMES
    for key in SCHEMES:
        de, en = scheme_label(key, "de"), scheme_label(key, "en")
        assert de and en and not de.startswith("atlas.")
    assert scheme_label("Quantiles", "de").startswith("Quantile")


# -- classify: basic properties ----------------------------------------------------
@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_every_value_lies_in_its_class(scheme):
    c = _fit(VALUES, scheme)
    _assert_consistent(c, VALUES)
    assert c.scheme == scheme
    assert c.lower == VALUES.min()
    assert c.bins[-1] >= VALUES.max()


@pytest.mark.parametrize("scheme", K_SCHEMES)
def test_k_classes_are_formed_when_possible(scheme):
    c = _fit(VALUES, scheme, k=4)
    assert c.k == 4


@pytest.mark.parametrize(
    ("k", "ok"),
    [
        (1, True),
        (5, True),
        (9, True),
        (0, False),
        (10, False),
        (-1, False),
        (2.5, False),
        (True, False),
        ("5", False),
    ],
)
def test_k_validation(k, ok):
    if ok:
        assert classify(VALUES, "quantiles", k=k).k == k
    else:
        with pytest.raises(DataError) as exc:
            classify(VALUES, "quantiles", k=k)
        assert exc.value.key == "atlas.classify.bad_k"
        assert str(k) in exc.value.message("en")


@pytest.mark.parametrize(
    ("n", "k"), [(10, 9), (12, 5), (11, 5), (7, 5), (100, 7), (550, 9), (19, 9), (5, 5), (13, 4)]
)
def test_quantile_classes_are_balanced(n, k):
    y = np.random.default_rng(n * 10 + k).permutation(np.linspace(-3.0, 40.0, n))
    c = classify(y, "quantiles", k=k)
    assert c.k == k
    assert c.counts.max() - c.counts.min() <= 1, c.counts
    _assert_consistent(c, y)


def test_quantiles_match_mapclassify_where_mapclassify_is_exact():
    import mapclassify

    y = np.random.default_rng(3).gamma(2.0, 3.0, 137)
    for k in range(2, 9):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = mapclassify.Quantiles(y, k=k).bins
        np.testing.assert_allclose(classify(y, "quantiles", k=k).bins, expected)


def test_fisher_jenks_matches_mapclassify():
    import mapclassify

    y = np.random.default_rng(7).normal(10.0, 3.0, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = mapclassify.FisherJenks(y, k=5).bins
    np.testing.assert_allclose(classify(y, "fisher_jenks", k=5).bins, expected)
    np.testing.assert_allclose(classify(y, "natural_breaks", k=5).bins, expected)


def _ssd(y, bins):
    cls = np.searchsorted(bins, y, side="left")
    return sum(((y[cls == i] - y[cls == i].mean()) ** 2).sum() for i in np.unique(cls))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-50, 50), min_size=3, max_size=18).map(lambda v: np.array(v, dtype=float)),
    st.integers(2, 5),
)
def test_fisher_jenks_is_as_good_as_mapclassify(y, k):
    import mapclassify

    k = min(k, np.unique(y).size)
    if k < 2:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mapclassify.FisherJenks(y, k=k).bins
    ours = _fit_fisher_jenks(y, k)
    assert len(ours) == k
    assert _ssd(y, ours) <= _ssd(y, ref) + 1e-9


def test_user_defined_breaks_are_respected():
    y = [0.0, 1.0, 2.0, 2.5, 3.0, 5.0, 6.0, 10.0]
    c = classify(y, "user_defined", breaks=[2, 5])
    assert c.bins.tolist() == [2.0, 5.0, 10.0]  # values above the last break: one more class
    assert c.classes.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    c = classify(y, "user_defined", breaks=[2, 50])
    assert c.bins.tolist() == [2.0, 50.0]
    assert c.classes.tolist() == [0, 0, 0, 1, 1, 1, 1, 1]


def test_user_defined_break_below_all_values_keeps_class_numbers():
    # the same fixed breaks must give the same class numbers in every year
    c = classify([5.0, 7.0, 12.0], "user_defined", breaks=[2, 10, 20])
    assert c.classes.tolist() == [1, 1, 2]
    assert c.counts.tolist() == [0, 2, 1]
    assert c.legend_labels(lang="de") == ["bis 2,0", "2,0 – 10,0", "10,0 – 20,0"]


@pytest.mark.parametrize(
    ("breaks", "key"),
    [
        (None, "atlas.classify.breaks_required"),
        ([], "atlas.classify.bad_breaks"),
        ([5, 2], "atlas.classify.bad_breaks"),
        ([2, 2], "atlas.classify.bad_breaks"),
        ([1, float("nan")], "atlas.classify.bad_breaks"),
        (["a", "b"], "atlas.classify.bad_breaks"),
        (list(range(1, 12)), "atlas.classify.bad_breaks"),
    ],
)
def test_invalid_breaks(breaks, key):
    with pytest.raises(DataError) as exc:
        classify(VALUES, "user_defined", breaks=breaks)
    assert exc.value.key == key


# -- few distinct values, NaN, empty ------------------------------------------------
@pytest.mark.parametrize("scheme", K_SCHEMES)
def test_k_larger_than_distinct_values_gives_fewer_classes_without_warnings(scheme):
    y = [1.0, 1.0, 1.0, 2.0, 2.0, 5.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = classify(y, scheme, k=5)
    assert caught == []
    assert 1 <= c.k <= 3
    _assert_consistent(c, y)
    assert c.classes[0] == c.classes[1] == c.classes[2]


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_single_distinct_value(scheme):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = _fit([4.0, 4.0, 4.0, float("nan")], scheme)
    assert caught == []
    assert c.classes[3] == -1
    assert len(set(c.classes[:3].tolist())) == 1
    _assert_consistent(c, [4.0, 4.0, 4.0, float("nan")])


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
@pytest.mark.parametrize(
    "values", [[], [float("nan")] * 4, [None, None], pd.Series([pd.NA, pd.NA], dtype="Float64")]
)
def test_empty_or_all_missing_gives_k_zero(scheme, values):
    c = _fit(values, scheme)
    assert c.k == 0
    assert c.classes.tolist() == [-1] * len(values)
    assert c.legend_labels() == []
    assert colors_for(c, "YlOrRd") == [None] * len(values)


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_missing_values_are_excluded_from_fitting(scheme):
    y = np.array([3.0, np.nan, 8.0, 1.0, np.inf, 5.0, 13.0, -np.inf, 2.0, 21.0])
    finite = y[np.isfinite(y)]
    c = _fit(y, scheme, k=3)
    ref = _fit(finite, scheme, k=3)
    np.testing.assert_allclose(c.bins, ref.bins)
    assert c.classes[~np.isfinite(y)].tolist() == [-1, -1, -1]
    assert c.classes[np.isfinite(y)].tolist() == ref.classes.tolist()


def test_pandas_series_with_na():
    s = pd.Series([1.0, None, 3.0, 4.0], dtype="Float64")
    c = classify(s, "equal_interval", k=3)
    assert c.classes[1] == -1 and c.k == 3


def test_non_numeric_values_are_refused():
    with pytest.raises(DataError) as exc:
        classify(["a", "b"], "quantiles")
    assert exc.value.key == "atlas.classify.not_numeric"


# -- legends ---------------------------------------------------------------------------
def test_german_legend_uses_decimal_comma():
    c = classify([12.5, 14.0, 18.0], "equal_interval", k=1)
    assert c.legend_labels(lang="de") == ["12,5 – 18,0"]
    assert c.legend_labels(lang="en") == ["12.5 – 18.0"]
    assert c.legend_labels(fmt="{:.2f}", lang="de") == ["12,50 – 18,00"]


def test_legend_follows_current_language(lang_de):
    c = classify([12.5, 14.0, 18.0], "equal_interval", k=1)
    assert c.legend_labels() == ["12,5 – 18,0"]
    set_lang("en")
    assert c.legend_labels() == ["12.5 – 18.0"]


@pytest.mark.parametrize(
    ("value", "fmt", "lang", "text"),
    [
        (1374.5, "{:,.1f}", "de", "1.374,5"),
        (1374.5, "{:,.1f}", "en", "1,374.5"),
        (-0.25, "{:.2f}", "de", "-0,25"),
        (35.0, "{:.0f}", "de", "35"),
    ],
)
def test_format_number(value, fmt, lang, text):
    assert format_number(value, fmt, lang) == text


def test_legend_of_open_last_class_and_single_value():
    c = Classification.from_bins([1.0, 1.5, 9.0], [1.5, np.inf])
    assert c.classes.tolist() == [0, 0, 1]
    assert c.counts.tolist() == [2, 1]
    assert c.legend_labels(lang="de") == ["1,0 – 1,5", "über 1,5"]
    assert c.legend_labels(lang="en") == ["1.0 – 1.5", "above 1.5"]
    single = classify([3.0, 3.0], "quantiles", k=3)
    assert single.legend_labels(lang="de") == ["3,0"]


def test_legend_labels_chain_class_bounds():
    c = classify(VALUES, "quantiles", k=4)
    labels = c.legend_labels(fmt="{:.3f}", lang="en")
    assert len(labels) == 4
    for i in range(1, 4):
        assert labels[i].split(" – ")[0] == labels[i - 1].split(" – ")[1]


# -- property ------------------------------------------------------------------------
finite_or_nan = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_subnormal=False),
    st.just(float("nan")),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(finite_or_nan, min_size=0, max_size=40),
    st.sampled_from(ALL_SCHEMES),
    st.integers(1, MAX_CLASSES),
)
def test_property_every_value_within_its_class_bounds(values, scheme, k):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = _fit(values, scheme, k=k)
    assert caught == []
    _assert_consistent(c, values)
    if SCHEMES[scheme].uses_k:
        assert c.k <= k
    n_distinct = len({v for v in values if v == v})
    if n_distinct:
        assert c.k >= 1
    else:
        assert c.k == 0


# -- palettes ---------------------------------------------------------------------------
REQUIRED = [
    "YlOrRd",
    "OrRd",
    "Reds",
    "Blues",
    "PuBu",
    "YlGnBu",
    "Greens",
    "Purples",
    "RdYlBu",
    "PuOr",
]


@pytest.mark.parametrize("name", REQUIRED)
@pytest.mark.parametrize("k", range(MAX_CLASSES + 1))
def test_palette_sizes_and_hex(name, k):
    colors = palette(name, k)
    assert len(colors) == k
    assert all(len(c) == 7 and c.startswith("#") and int(c[1:], 16) >= 0 for c in colors)
    assert palette(name, k, reverse=True) == colors[::-1]


def test_palettes_match_colorbrewer_as_shipped_by_branca():
    branca = pytest.importorskip("branca")
    schemes = json.loads((Path(branca.__file__).parent / "_schemes.json").read_text())
    for name in PALETTES:
        for k in range(3, 10):
            assert palette(name, k) == schemes[f"{name}_{k:02d}"], (name, k)


def test_colorblind_flags():
    for name in REQUIRED:
        assert PALETTES[name].colorblind_safe, name
    assert PALETTES["RdYlGn"].colorblind_safe is False
    assert {PALETTES[n].kind for n in REQUIRED} == {"sequential", "diverging"}


@pytest.mark.parametrize(
    ("name", "k", "key"),
    [
        ("Viridis", 5, "atlas.classify.unknown_palette"),
        ("", 5, "atlas.classify.unknown_palette"),
        ("Blues", 10, "atlas.classify.palette_k"),
        ("Blues", -1, "atlas.classify.palette_k"),
        ("Blues", 2.5, "atlas.classify.palette_k"),
        ("Blues", True, "atlas.classify.palette_k"),
    ],
)
def test_palette_errors(name, k, key):
    with pytest.raises(DataError) as exc:
        palette(name, k)
    assert exc.value.key == key
    if key.endswith("unknown_palette"):
        assert "YlOrRd" in exc.value.message("en")


def test_palette_name_is_case_insensitive():
    assert palette("ylorrd", 3) == palette("YlOrRd", 3) == ["#ffeda0", "#feb24c", "#f03b20"]


@pytest.mark.parametrize("name", ["YlOrRd", "Blues", "Purples"])
def test_need_direction_for_sequential_palettes(name):
    darkest = palette(name, 5)[-1]
    assert palette_for_need(name, 5, polarity=1)[-1] == darkest
    assert palette_for_need(name, 5, polarity=-1)[0] == darkest
    assert palette_for_need(name, 5, polarity=None) == palette(name, 5)


def test_need_direction_for_diverging_palette_puts_red_on_need():
    assert palette_for_need("RdYlBu", 5, polarity=1)[-1] == "#d7191c"
    assert palette_for_need("RdYlBu", 5, polarity=-1)[0] == "#d7191c"


@pytest.mark.parametrize(
    ("polarity", "diverging", "name"),
    [
        (1, False, "YlOrRd"),
        (-1, False, "YlOrRd"),
        (0, False, "Blues"),
        (None, False, "Blues"),
        (1, True, "RdYlBu"),
    ],
)
def test_default_palette(polarity, diverging, name):
    assert default_palette(polarity, diverging=diverging) == name
    assert PALETTES[name].colorblind_safe


def test_colors_for_follows_polarity_and_marks_missing():
    y = [1.0, 2.0, 3.0, float("nan")]
    c = classify(y, "equal_interval", k=3)
    pal = palette("Reds", 3)
    assert colors_for(c, "Reds") == [pal[0], pal[1], pal[2], None]
    assert colors_for(c, "Reds", polarity=-1) == [pal[2], pal[1], pal[0], None]
    assert colors_for(c, ["#000001", "#000002", "#000003"]) == [
        "#000001",
        "#000002",
        "#000003",
        None,
    ]
    with pytest.raises(DataError) as exc:
        colors_for(c, ["#000001"])
    assert exc.value.key == "atlas.classify.palette_length"


def test_missing_and_suppressed_colours_differ_from_all_palette_colours():
    used = {col for name in PALETTES for k in range(1, 10) for col in palette(name, k)}
    assert MISSING_COLOR not in used and SUPPRESSED_COLOR not in used
    assert MISSING_COLOR != SUPPRESSED_COLOR
    assert SUPPRESSED_HATCH["pattern"]


def test_errors_are_k360_errors_with_translations():
    with pytest.raises(K360Error) as exc:
        classify(VALUES, "nope")
    assert exc.value.message("de") != exc.value.message("en")
    assert "Klassifizierungsverfahren" in exc.value.message("de")


# -- import discipline ---------------------------------------------------------------------
def test_modules_import_light():
    code = (
        "import sys\n"
        "import k360lib.atlas.classify, k360lib.atlas.indicators, k360lib.atlas.privacy\n"
        "heavy = [m for m in ('mapclassify', 'folium', 'ipywidgets', 'IPython', 'branca') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
