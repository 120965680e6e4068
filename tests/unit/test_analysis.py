"""Analyses for data staff: correlations, Moran's I, LISA clusters, exports (k360lib.analysis)."""

import io
import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from k360lib.analysis import (
    correlate,
    correlation_pairs,
    default_indicators,
    labelled,
    local_clusters,
    morans_i,
    public_wide,
    save_table,
    save_workbook,
    spatial_weights,
)
from k360lib.atlas.demo import demo_atlas
from k360lib.atlas.model import Atlas
from k360lib.errors import DataError

SIDE = 5  # a 5 x 5 grid of square areas


def grid_atlas(values: dict[str, np.ndarray], kinds: dict[str, str] | None = None, supp=()):
    """A SIDE x SIDE grid of touching squares near Kassel; ``values[ind]`` is row-major."""
    ids, geoms, names = [], [], []
    xs = [9.4 + i / 128 for i in range(SIDE + 1)]  # exact binary fractions: neighbours share edges
    ys = [51.3 + i / 128 for i in range(SIDE + 1)]
    for r in range(SIDE):
        for c in range(SIDE):
            ids.append(f"A{r}{c}")
            names.append(f"Feld {r}/{c}")
            geoms.append(box(xs[c], ys[r], xs[c + 1], ys[r + 1]))
    areas = gpd.GeoDataFrame({"area_id": ids, "name": names}, geometry=geoms, crs="EPSG:4326")
    rows = []
    for ind, vals in values.items():
        for a, v in zip(ids, np.asarray(vals, dtype=float).ravel()):
            rows.append(
                {
                    "area_id": a,
                    "indicator": ind,
                    "year": 2023,
                    "value": v,
                    "suppressed": (ind, a) in supp,
                }
            )
    kinds = kinds or {}
    catalog = pd.DataFrame(
        [
            {"id": i, "label_de": f"{i} (de)", "label_en": f"{i} (en)", "unit": "%", "polarity": 1}
            | {"kind": kinds.get(i, "share")}
            for i in values
        ]
    )
    return Atlas(areas, pd.DataFrame(rows), catalog)


def gradient():
    r, c = np.mgrid[0:SIDE, 0:SIDE]
    return (r + c).astype(float) * 10 + 5


def checkerboard():
    r, c = np.mgrid[0:SIDE, 0:SIDE]
    return np.where((r + c) % 2 == 0, 80.0, 20.0)


def rook_matrix():
    n = SIDE * SIDE
    w = np.zeros((n, n))
    for r in range(SIDE):
        for c in range(SIDE):
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < SIDE and 0 <= cc < SIDE:
                    w[r * SIDE + c, rr * SIDE + cc] = 1
    return w / w.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------
# spatial weights and Moran's I
# ---------------------------------------------------------------------------
def test_queen_and_rook_neighbours_of_a_grid():
    atlas = grid_atlas({"x": gradient()})
    queen = spatial_weights(atlas, kind="queen")
    rook = spatial_weights(atlas, kind="rook")
    assert queen.cardinalities["A22"] == 8 and rook.cardinalities["A22"] == 4
    assert queen.cardinalities["A00"] == 3 and rook.cardinalities["A00"] == 2
    assert sorted(rook.neighbors["A00"]) == ["A01", "A10"]
    # row-standardised
    assert np.allclose(np.asarray(queen.sparse.sum(axis=1)).ravel(), 1)


def test_morans_i_equals_the_textbook_formula():
    rng = np.random.default_rng(5)
    y = rng.normal(50, 10, SIDE * SIDE)
    atlas = grid_atlas({"x": y})
    res = morans_i(atlas, "x", 2023, weights="rook", permutations=99)
    z = y - y.mean()
    w = rook_matrix()
    expected_i = len(y) / w.sum() * (z @ w @ z) / (z @ z)
    assert res.I == pytest.approx(expected_i, rel=1e-9)
    assert res.expected == pytest.approx(-1 / (len(y) - 1))
    assert res.n == 25 and res.missing == [] and res.islands == []


def test_gradient_clusters_and_checkerboard_disperses():
    atlas = grid_atlas({"grad": gradient(), "chess": checkerboard()})
    grad = morans_i(atlas, "grad", 2023, weights="rook", permutations=199, seed=3)
    chess = morans_i(atlas, "chess", 2023, weights="rook", permutations=199, seed=3)
    assert grad.I > 0.6 and grad.p_sim <= 0.01 and grad.pattern == "clustered"
    assert chess.I == pytest.approx(-1.0) and chess.pattern == "dispersed"
    assert "geclustert" not in grad.summary("de")  # the sentence is real text, not a key
    assert "Moran's I = " in grad.summary("de") and "," in grad.summary("de").split("=")[1][:6]
    assert "similar values cluster" in grad.summary("en")


def test_random_values_show_no_pattern():
    atlas = grid_atlas({"x": np.random.default_rng(11).permutation(np.arange(25.0))})
    res = morans_i(atlas, "x", 2023, permutations=199, seed=0)
    assert res.p_sim > 0.05 and res.pattern == "random"


def test_same_seed_same_p_value_and_the_global_rng_is_untouched():
    atlas = grid_atlas({"x": np.random.default_rng(2).normal(size=25)})
    np.random.seed(1234)  # noqa: NPY002 - the caller's global stream
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    a = morans_i(atlas, "x", 2023, permutations=99, seed=7)
    b = morans_i(atlas, "x", 2023, permutations=99, seed=7)
    lc1 = local_clusters(atlas, "x", 2023, permutations=99, seed=7)
    lc2 = local_clusters(atlas, "x", 2023, permutations=99, seed=7)
    assert a == b
    assert lc1["p_sim"].tolist() == lc2["p_sim"].tolist()
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    c = morans_i(atlas, "x", 2023, permutations=99, seed=8)
    assert c.I == a.I  # only the permutations depend on the seed


def test_suppressed_areas_are_left_out_and_named():
    y = gradient()
    supp = {("x", "A44"), ("x", "A43")}
    atlas = grid_atlas({"x": y}, supp=supp)
    res = morans_i(atlas, "x", 2023, permutations=99)
    assert res.n == 23 and sorted(res.missing) == ["A43", "A44"]
    lc = local_clusters(atlas, "x", 2023, permutations=99)
    gone = lc[lc["area_id"].isin(["A43", "A44"])]
    assert gone["cluster"].tolist() == ["missing", "missing"]
    assert gone["value"].isna().all() and gone["local_i"].isna().all()
    assert set(lc.loc[~lc["area_id"].isin(["A43", "A44"]), "cluster"]) <= {
        "HH",
        "LL",
        "HL",
        "LH",
        "ns",
    }


def test_small_counts_never_enter_a_spatial_result():
    # a count below the threshold (3) is suppressed by the public-value rule
    y = gradient()
    y[0, 0] = 1
    atlas = grid_atlas({"n": y}, kinds={"n": "count"})
    assert "A00" in morans_i(atlas, "n", 2023, permutations=99).missing
    lc = local_clusters(atlas, "n", 2023, permutations=99)
    assert np.isnan(lc.loc[lc["area_id"] == "A00", "value"]).all()


def test_local_clusters_find_the_hot_and_cold_corner():
    atlas = grid_atlas({"x": gradient()})
    lc = local_clusters(atlas, "x", 2023, permutations=499, seed=1, lang="en")
    by_id = lc.set_index("area_id")
    assert by_id.loc["A44", "quadrant"] == "HH" and by_id.loc["A00", "quadrant"] == "LL"
    assert by_id.loc["A44", "cluster"] == "HH" and by_id.loc["A00", "cluster"] == "LL"
    assert by_id.loc["A44", "cluster_label"] == "High–high (hot spot)"
    # cluster is the quadrant exactly where the area is significant
    sig = lc[lc["significant"]]
    assert (sig["cluster"] == sig["quadrant"]).all() and (sig["p_sim"] <= 0.05).all()
    assert (lc.loc[~lc["significant"], "cluster"] == "ns").all()
    assert lc["name"].tolist()[0] == "Feld 0/0"


def test_fdr_is_stricter_than_alpha():
    atlas = grid_atlas({"x": gradient()})
    plain = local_clusters(atlas, "x", 2023, permutations=499, seed=1)
    strict = local_clusters(atlas, "x", 2023, permutations=499, seed=1, fdr=True)
    assert strict.attrs["threshold"] <= plain.attrs["threshold"] == 0.05
    assert strict["significant"].sum() <= plain["significant"].sum()


def test_knn_weights_work_when_polygons_do_not_touch():
    atlas = grid_atlas({"x": gradient()})
    # shrink every square: no two areas touch any more
    atlas.areas["geometry"] = atlas.areas.geometry.scale(0.5, 0.5)
    with pytest.raises(DataError) as err:
        morans_i(atlas, "x", 2023, permutations=99)
    assert "knn" in err.value.message("en")
    res = morans_i(atlas, "x", 2023, weights="knn", k=4, permutations=99)
    assert res.I > 0.5 and res.weights == "knn"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"indicator": "nope"}, "nope"),
        ({"indicator": "x", "year": 1999}, "1999"),
        ({"indicator": "x", "weights": "hexagon"}, "hexagon"),
        ({"indicator": "x", "permutations": 3}, "3"),
        ({"indicator": "flat"}, "flat"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(kwargs, needle):
    atlas = grid_atlas({"x": gradient(), "flat": np.full(25, 4.0)})
    with pytest.raises(DataError) as err:
        morans_i(atlas, **kwargs)
    assert needle in err.value.message("de") and needle in err.value.message("en")


def test_too_few_areas_and_bad_alpha():
    supp = {("x", f"A{r}{c}") for r in range(SIDE) for c in range(SIDE) if r > 0 or c > 5}
    atlas = grid_atlas({"x": gradient()}, supp=supp)
    with pytest.raises(DataError, match="5"):
        morans_i(atlas, "x", 2023)
    ok = grid_atlas({"x": gradient()})
    for alpha in (0, 1.5, "a"):
        with pytest.raises(DataError):
            local_clusters(ok, "x", 2023, alpha=alpha)


def test_demo_city_has_spatial_structure():
    atlas = demo_atlas()
    green = morans_i(atlas, "green_share", 2024, permutations=199, seed=0)
    assert green.n == 24 and green.pattern == "clustered"
    assert morans_i(atlas, "sgb2_u15_rate", 2024, permutations=99).I > green.expected


# ---------------------------------------------------------------------------
# correlations
# ---------------------------------------------------------------------------
def test_default_indicators_leave_out_counts():
    atlas = grid_atlas(
        {"a": gradient(), "n": gradient() + 100, "b": checkerboard()}, kinds={"n": "count"}
    )
    assert default_indicators(atlas) == ["a", "b"]
    ids = default_indicators(demo_atlas())
    assert "pop_total" not in ids and "kita_places" not in ids and "green_share" in ids


def test_correlation_matches_numpy_and_uses_pairs_of_values():
    rng = np.random.default_rng(0)
    a = rng.normal(size=25)
    b = a * 2 + rng.normal(size=25)
    c = rng.normal(size=25)
    atlas = grid_atlas({"a": a, "b": b, "c": c}, supp={("c", "A00"), ("c", "A01")})
    m = correlate(atlas, ["a", "b", "c"], 2023, method="pearson")
    assert m.loc["a", "b"] == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert m.loc["a", "c"] == pytest.approx(np.corrcoef(a[2:], c[2:])[0, 1])
    assert m.attrs == {"year": 2023, "method": "pearson"}
    pairs = correlation_pairs(atlas, ["a", "b", "c"], method="pearson", lang="en")
    assert pairs.iloc[0][["indicator_a", "indicator_b"]].tolist() == ["a", "b"]  # strongest first
    ac = pairs[(pairs["indicator_a"] == "a") & (pairs["indicator_b"] == "c")].iloc[0]
    assert ac["n"] == 23 and ac["label_a"] == "a (en)"
    assert pairs.iloc[0]["p"] < 1e-5


def test_spearman_is_the_default_and_resists_one_outlier():
    x = np.arange(25.0)
    y = x.copy()
    y[-1] = -1000  # one extreme area
    atlas = grid_atlas({"x": x, "y": y})
    spear = correlate(atlas, ["x", "y"])
    pear = correlate(atlas, ["x", "y"], method="pearson")
    assert spear.attrs["method"] == "spearman"
    assert spear.loc["x", "y"] > 0.7 and pear.loc["x", "y"] < 0.3


def test_public_wide_hides_small_counts():
    y = gradient() + 10
    y[2, 2] = 2  # below the threshold
    atlas = grid_atlas({"n": y, "s": gradient()}, kinds={"n": "count"})
    wide = public_wide(atlas, ["n", "s"], 2023)
    assert np.isnan(wide.loc["A22", "n"]) and wide.loc["A22", "s"] == 45
    assert wide.attrs["year"] == 2023


def test_correlation_errors_name_the_problem():
    atlas = grid_atlas({"a": gradient(), "b": checkerboard()})
    with pytest.raises(DataError, match="kendal"):
        correlate(atlas, method="kendal")
    with pytest.raises(DataError, match="zz"):
        correlate(atlas, ["a", "zz"])
    with pytest.raises(DataError):
        correlate(atlas, ["a"])
    # a pair with too few areas gets no coefficient
    few = grid_atlas(
        {"a": gradient(), "b": gradient()},
        supp={("b", f"A{r}{c}") for r in range(SIDE) for c in range(SIDE) if r > 0},
    )
    assert np.isnan(correlate(few, ["a", "b"], min_areas=6).loc["a", "b"])
    assert np.isnan(correlation_pairs(few, ["a", "b"], min_areas=6).loc[0, "r"])


# ---------------------------------------------------------------------------
# exports
# ---------------------------------------------------------------------------
def test_csv_export_is_german_excel_format_with_labels(tmp_path):
    frame = pd.DataFrame({"area_id": ["A1"], "r": [0.25], "own": ["x"]})
    path = save_table(frame, tmp_path / "out.csv", lang="de")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "Gebiet;Korrelation r;own"
    assert "0,25" in text
    en = save_table(frame, tmp_path / "out_en.csv", lang="en").read_text("utf-8-sig")
    assert en.splitlines()[0] == "Area,Correlation r,own" and "0.25" in en


def test_xlsx_export_has_sheets_and_the_suppression_note(tmp_path):
    atlas = grid_atlas({"x": gradient(), "y": checkerboard()})
    pairs = correlation_pairs(atlas)
    lc = local_clusters(atlas, "x", 2023, permutations=99)
    path = save_workbook(
        {"Korrelationen": pairs, "LISA": lc}, tmp_path / "a.xlsx", notes=["eigene Notiz"]
    )
    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    assert wb.sheetnames[:2] == ["Korrelationen", "LISA"] and len(wb.sheetnames) == 3
    assert wb["LISA"]["A1"].value == "Gebiet"
    notes = [c.value for c in wb[wb.sheetnames[2]]["A"]]
    assert any("Unterdrückte Werte" in str(n) for n in notes) and "eigene Notiz" in notes
    single = save_table(lc, tmp_path / "lisa.xlsx", lang="en")
    assert openpyxl.load_workbook(single)["lisa"]["A1"].value == "Area"


def test_bad_export_format_writes_nothing(tmp_path):
    with pytest.raises(DataError) as err:
        save_table(pd.DataFrame({"a": [1]}), tmp_path / "out.pdf")
    assert "out.pdf" in err.value.message("en")
    assert list(tmp_path.iterdir()) == []


def test_labelled_only_renames_known_columns():
    frame = labelled(pd.DataFrame({"cluster_label": [], "mine": []}), "en")
    assert list(frame.columns) == ["Cluster (text)", "mine"]


# ---------------------------------------------------------------------------
# light imports
# ---------------------------------------------------------------------------
def test_analysis_imports_lazily():
    code = (
        "import k360lib, k360lib.analysis, sys, json; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('esda', 'libpysal', 'pandas', 'scipy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
