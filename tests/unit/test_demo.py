"""Tests of the fictional demo city generator (k360lib/atlas/demo.py) and data/geo/."""

from __future__ import annotations

import json
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from k360lib.atlas import demo
from k360lib.atlas.demo import DEMO_SEED, demo_atlas, demo_data_dir, generate_demo, write_demo
from k360lib.atlas.model import CATALOG_COLUMNS, Atlas
from k360lib.cli import main
from k360lib.errors import DataError

FILES = ("areas.geojson", "catalog.csv", "facilities.geojson", "indicators.csv", "meta.json")
COMMITTED = Path(__file__).resolve().parents[2] / "data" / "geo"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def generated() -> Atlas:
    return generate_demo()


@pytest.fixture(scope="module")
def committed() -> Atlas:
    return Atlas.load(COMMITTED)


_OTHER: dict[int, Atlas] = {}


@pytest.fixture(params=["generated", "committed", 1, 28])
def atlas(request) -> Atlas:
    """Every contract check runs on the fresh output, the committed (rounded) files and other seeds."""
    if isinstance(request.param, int):
        if request.param not in _OTHER:
            _OTHER[request.param] = generate_demo(request.param)
        return _OTHER[request.param]
    return request.getfixturevalue(request.param)


# -- determinism ----------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(tmp_path):
    write_demo(tmp_path / "a", seed=11)
    write_demo(tmp_path / "b", seed=11)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) == sorted(FILES)
    for name in FILES:
        assert a[name] == b[name], name


def test_cli_reproduces_committed_data_byte_for_byte(tmp_path, capsys):
    assert COMMITTED.is_dir(), "data/geo/ is missing: run `k360 demo --write data/geo`"
    assert main(["--lang", "de", "demo", "--write", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Wiesenfurt an der Aue" in out and "24" in out and "150" in out
    fresh, stored = _files(tmp_path), _files(COMMITTED)
    assert sorted(stored) == sorted(FILES)
    for name in FILES:
        assert fresh[name] == stored[name], (
            f"{name} differs: regenerate with `k360 demo --write data/geo`"
        )


def test_cli_seed_option(tmp_path, capsys):
    assert main(["demo", "--write", str(tmp_path), "--seed", "5"]) == 0
    capsys.readouterr()
    assert json.loads((tmp_path / "meta.json").read_text(encoding="utf-8"))["seed"] == 5


def test_different_seed_gives_different_city(generated):
    other = generate_demo(DEMO_SEED + 1)
    assert other.meta["seed"] == DEMO_SEED + 1
    a = generated.areas.set_index("area_id").geometry
    b = other.areas.set_index("area_id").geometry
    assert not all(a[i].equals(b[i]) for i in a.index)
    va = generated.indicators["value"].fillna(-1).to_numpy()
    vb = other.indicators["value"].fillna(-1).to_numpy()
    assert len(va) == len(vb) and not np.array_equal(va, vb)
    assert not np.array_equal(
        shapely.get_coordinates(generated.facilities.geometry.values),
        shapely.get_coordinates(other.facilities.geometry.values),
    )


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True, None])
def test_bad_seed_raises_data_error(seed):
    with pytest.raises(DataError) as info:
        generate_demo(seed)
    assert info.value.key == "atlas.demo.bad_seed"
    assert repr(seed) in info.value.message("en")


def test_generation_is_fast():
    generate_demo(3)  # warm up imports
    start = time.perf_counter()
    generate_demo(4)
    assert time.perf_counter() - start < 2.0


# -- demo_atlas / write_demo ----------------------------------------------------
def test_demo_atlas_loads_committed_folder(committed, generated):
    assert demo_data_dir() == COMMITTED
    atlas = demo_atlas()
    assert atlas.meta == committed.meta
    assert committed.meta["seed"] == DEMO_SEED
    pd.testing.assert_frame_equal(atlas.indicators, committed.indicators)
    # the committed data is the generator's output (up to coordinate rounding)
    pd.testing.assert_frame_equal(atlas.indicators, generated.indicators, check_dtype=False)
    assert list(atlas.areas["area_id"]) == list(generated.areas["area_id"])


def test_demo_atlas_is_cached_but_returns_copies():
    first = demo_atlas()
    first.indicators.loc[0, "value"] = -999.0
    first.meta["name"] = "changed"
    second = demo_atlas()
    assert second.indicators.loc[0, "value"] != -999.0
    assert second.meta["name"] == "Wiesenfurt an der Aue"
    assert demo._cache["demo"].meta["name"] == "Wiesenfurt an der Aue"


def test_demo_atlas_generates_without_committed_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(demo, "_cache", {})
    monkeypatch.setattr(demo, "demo_data_dir", lambda: tmp_path / "nowhere")
    atlas = demo_atlas()
    assert atlas.meta["seed"] == DEMO_SEED
    assert len(atlas.areas) == 24


def test_write_demo_default_seed(tmp_path):
    atlas = write_demo(tmp_path)
    assert atlas.meta["seed"] == DEMO_SEED
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)


def test_committed_data_is_small():
    total = sum(p.stat().st_size for p in COMMITTED.iterdir())
    assert total < 500_000


# -- meta -------------------------------------------------------------------------
def test_meta_labels_city_as_fictional(atlas):
    meta = atlas.meta
    assert meta["fictional"] is True
    assert meta["name"] == "Wiesenfurt an der Aue"
    assert "Fiktiv" in meta["disclaimer_de"] and "fictional" in meta["disclaimer_en"].lower()
    assert meta["seed"] in (DEMO_SEED, 1, 28)
    assert meta["generator_version"] == demo.GENERATOR_VERSION
    assert meta["metric_crs"] == "EPSG:25832"
    assert atlas.metric_crs().to_epsg() == 25832
    assert meta["suppression_threshold"] == 3
    river = shapely.geometry.shape(meta["river"]["geometry"])
    assert river.geom_type == "LineString" and river.is_valid
    # the river crosses the town
    assert river.crosses(atlas.areas.union_all())


def test_city_lies_in_germany(atlas):
    minx, miny, maxx, maxy = atlas.areas.total_bounds
    assert 5.9 < minx < maxx < 15.0 and 47.3 < miny < maxy < 55.0


# -- areas --------------------------------------------------------------------------
def test_areas_ids_names_districts(atlas):
    areas = atlas.areas
    assert 20 <= len(areas) <= 30
    assert areas["area_id"].is_unique
    assert all(i.startswith("SR") and len(i) == 4 for i in areas["area_id"])
    assert areas["name"].is_unique and areas["name"].str.len().min() > 3
    districts = set(areas["parent_id"])
    assert 5 <= len(districts) <= 6
    assert districts == set(atlas.meta["districts"])
    assert len(set(atlas.meta["districts"].values())) == len(districts)
    assert areas.crs.to_epsg() == 4326


def test_areas_are_a_tessellation(atlas):
    metric = atlas.areas.to_crs(25832)
    geoms = metric.geometry.values
    assert all(shapely.is_valid(geoms))
    assert all(g.geom_type == "Polygon" for g in geoms)
    overlap = sum(a.intersection(b).area for a, b in combinations(geoms, 2))
    total = sum(g.area for g in geoms)
    assert overlap < 1e-6 * total
    union = shapely.union_all(geoms)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0  # no gaps, no holes
    assert abs(union.area - total) < 1e-6 * total
    # neighbours share their edges exactly (same vertices on both sides)
    assert shapely.coverage_is_valid(geoms)
    # every area has neighbours along real edges, not just corners
    for i, g in enumerate(geoms):
        shared = sum(
            g.boundary.intersection(o.boundary).length for j, o in enumerate(geoms) if j != i
        )
        assert shared > 0.2 * g.boundary.length


def test_areas_are_not_a_grid_and_vary_in_size(atlas):
    metric = atlas.areas.to_crs(25832)
    sizes = metric.area.to_numpy()
    assert sizes.max() / sizes.min() > 4
    # small, dense centre; large outskirts
    centre = shapely.Point(*metric.union_all().centroid.coords[0])
    dist = metric.geometry.centroid.distance(centre).to_numpy()
    assert np.corrcoef(dist, sizes)[0, 1] > 0.4
    # the outline is irregular: far from its convex hull and from a circle
    outline = metric.union_all()
    assert outline.area / outline.convex_hull.area < 0.97
    assert len(outline.exterior.coords) > 60


# -- catalog and indicators -----------------------------------------------------------
def test_catalog_is_complete(atlas):
    cat = atlas.catalog
    assert list(cat.columns) == [
        *CATALOG_COLUMNS,
        *("unit_en", "theme_en", "description_en", "source_en"),
    ]
    assert cat["id"].is_unique and len(cat) >= 12
    assert set(cat["polarity"].astype(int)) == {-1, 1}
    assert set(cat["kind"]) <= {"count", "rate", "share", "capacity", "other"}
    assert set(cat["source"]) == {"Fiktive Demodaten (k360)"}
    for col in ("label_de", "label_en", "unit", "theme", "description", "theme_en"):
        assert (cat[col].str.len() > 0).all(), col
    for col in ("description_en", "unit_en", "source_en"):  # English, not the German text again
        assert (cat[col].str.len() > 0).all(), col
        assert not (cat[col] == cat[col.removesuffix("_en")]).all(), col
    assert {"Bevölkerung", "Soziale Lage", "Bildung", "Gesundheit", "Betreuung", "Hilfen"} <= set(
        cat["theme"]
    )
    ids = set(cat["id"])
    rates = cat[(cat["numerator"] != "") | (cat["denominator"] != "")]
    assert len(rates) >= 3
    for _, row in rates.iterrows():
        assert row["numerator"] in ids and row["denominator"] in ids
        assert row["kind"] == "rate"
    sgb = cat.set_index("id").loc["sgb2_u15_rate"]
    assert (sgb["numerator"], sgb["denominator"]) == ("sgb2_u15", "pop_u15")
    pol = cat.set_index("id")["polarity"].astype(int)
    assert (
        pol["u8u9_participation"] == -1
        and pol["kita_places_per_100"] == -1
        and pol["living_space"] == -1
    )


def test_indicators_cover_all_areas_and_years(atlas):
    ind = atlas.indicators
    assert atlas.years == [2021, 2022, 2023, 2024]
    assert set(ind["indicator"]) == set(atlas.catalog["id"])
    assert len(atlas.indicator_ids) >= 12
    per = ind.groupby("indicator")["year"].nunique()
    assert (per == 4).all()
    assert len(ind) == len(atlas.areas) * len(atlas.catalog) * 4
    assert not ind.duplicated(["area_id", "indicator", "year"]).any()


def test_values_are_plausible(atlas):
    kinds = atlas.catalog.set_index("id")["kind"]
    units = atlas.catalog.set_index("id")["unit"]
    ind = atlas.indicators[~atlas.indicators["suppressed"]]
    for name, group in ind.groupby("indicator"):
        v = group["value"]
        assert v.notna().all(), name
        assert (v >= 0).all(), name
        if kinds[name] in ("count", "capacity"):
            assert (v == v.round()).all(), name
        if units[name] == "%":
            assert (v <= 100).all(), name
    w = atlas.wide(2024)
    total = w["pop_total"].sum()
    assert 60_000 < total < 250_000
    ok = w["pop_u15"].notna() & w["pop_0_5"].notna()
    assert (w.loc[ok, "pop_u15"] >= w.loc[ok, "pop_0_5"]).all()
    assert (w["pop_u21"].dropna() <= w.loc[w["pop_u21"].notna(), "pop_total"]).all()
    big = w["pop_total"] > 1000
    assert w.loc[big, "sgb2_u15_rate"].dropna().between(0.5, 80).all()
    assert w.loc[big, "sgb2_u15_rate"].notna().sum() >= 15
    assert w.loc[big, "u8u9_participation"].between(60, 100).all()
    assert w.loc[big, "unemployment"].between(0.5, 25).all()


def test_rates_match_their_numerator_and_denominator(atlas):
    cat = atlas.catalog.set_index("id")
    per = {
        "sgb2_u15_rate": 100,
        "kita_places_per_100": 100,
        "hze_per_1000": 1000,
        "kwg_per_1000": 1000,
    }
    for year in atlas.years:
        w = atlas.wide(year)
        for rate, factor in per.items():
            num, den = cat.loc[rate, "numerator"], cat.loc[rate, "denominator"]
            ok = w[rate].notna()
            expected = (factor * w.loc[ok, num] / w.loc[ok, den]).round(1)
            np.testing.assert_allclose(w.loc[ok, rate], expected, atol=0.051)


def test_small_numbers_are_suppressed(atlas):
    ind = atlas.indicators
    sup = ind[ind["suppressed"]]
    assert len(sup) >= 1
    assert sup["value"].isna().all()
    # no visible count below the threshold
    counts = set(atlas.catalog.loc[atlas.catalog["kind"] == "count", "id"])
    visible = ind[~ind["suppressed"] & ind["indicator"].isin(counts)]
    assert (visible["value"] >= 3).all()
    # every rate whose numerator or denominator is suppressed is suppressed too
    hidden = set(zip(sup["indicator"], sup["area_id"], sup["year"], strict=True))
    cat = atlas.catalog[atlas.catalog["numerator"] != ""]
    for _, row in cat.iterrows():
        for r in ind[ind["indicator"] == row["id"]].itertuples():
            if (row["numerator"], r.area_id, r.year) in hidden or (
                row["denominator"],
                r.area_id,
                r.year,
            ) in hidden:
                assert r.suppressed, (row["id"], r.area_id, r.year)
    # the tiny harbour area is the showcase
    harbour = atlas.areas.loc[atlas.areas["name"] == "Industriehafen", "area_id"].item()
    assert sup["area_id"].eq(harbour).sum() >= 4
    assert atlas.wide(2024).loc[harbour, "pop_total"] < 300


def test_suppression_agrees_with_privacy_module(atlas):
    from k360lib.atlas import privacy

    # the committed files are already suppressed: applying the rule again changes nothing
    again = privacy.suppress_counts(atlas.indicators, atlas.catalog, 3)
    pd.testing.assert_frame_equal(again, atlas.indicators)


def test_correlations_are_plausible(atlas):
    w = atlas.wide(2024)
    big = w[w["pop_total"] > 1000]

    def r(a, b):
        ok = big[a].notna() & big[b].notna()
        return np.corrcoef(big.loc[ok, a], big.loc[ok, b])[0, 1]

    assert r("sgb2_u15_rate", "language_support") > 0.3
    assert r("sgb2_u15_rate", "unemployment") > 0.3
    assert r("sgb2_u15_rate", "single_parents") > 0.3
    assert r("sgb2_u15_rate", "hze_per_1000") > 0.3
    assert r("sgb2_u15_rate", "u8u9_participation") < -0.3
    assert r("sgb2_u15_rate", "living_space") < -0.3
    assert r("sgb2_u15_rate", "kita_places_per_100") < 0
    # but not a deterministic copy of one factor
    assert r("sgb2_u15_rate", "language_support") < 0.99


def test_small_yearly_trends(atlas):
    ind = atlas.indicators.dropna(subset=["value"])
    wide = ind.pivot_table(index=["indicator", "area_id"], columns="year", values="value")
    wide = wide.dropna()
    change = (wide[2024] - wide[2021]).abs() / wide[2021].abs().clip(lower=1)
    per = change.groupby(level="indicator").median()
    assert (per < 0.35).all(), per[per >= 0.35]
    assert (per > 0).sum() >= 10  # values do change over the years


# -- facilities ---------------------------------------------------------------------------
def test_facilities(atlas):
    fac = atlas.facilities
    assert 130 <= len(fac) <= 170
    assert fac["facility_id"].is_unique and fac["name"].is_unique
    assert fac["kind"].nunique() >= 6
    assert {
        "Kita",
        "Familienzentrum",
        "Jugendfreizeiteinrichtung",
        "Grundschule",
        "Beratungsstelle",
    } <= set(fac["kind"])
    assert set(fac["kind"]) <= set(atlas.meta["facility_kinds"])
    assert fac["target_group"].str.len().gt(3).all()
    assert fac.crs.to_epsg() == 4326
    assert (fac.geometry.geom_type == "Point").all()
    kitas = fac[fac["kind"] == "Kita"]
    assert kitas["capacity"].between(20, 300).all()
    assert fac.loc[fac["kind"] == "Beratungsstelle", "capacity"].isna().all()


def test_facilities_lie_in_their_area(atlas):
    areas = atlas.areas.set_index("area_id").geometry
    fac = atlas.facilities
    assert set(fac["area_id"]) <= set(areas.index)
    polys = areas.loc[fac["area_id"]].to_numpy()
    assert shapely.contains(polys, fac.geometry.to_numpy()).all()


def test_more_facilities_where_more_people_live(atlas):
    n = atlas.facilities.groupby("area_id").size().reindex(atlas.areas["area_id"], fill_value=0)
    pop = atlas.wide(2024)["pop_total"]
    assert np.corrcoef(n.to_numpy(), pop.to_numpy())[0, 1] > 0.5
    harbour = atlas.areas.loc[atlas.areas["name"] == "Industriehafen", "area_id"].item()
    assert n[harbour] <= 1


def test_kita_places_come_from_the_kitas(atlas):
    fac = atlas.facilities
    places = fac[fac["kind"] == "Kita"].groupby("area_id")["capacity"].sum()
    w = atlas.wide(2024)
    expected = places.reindex(w.index, fill_value=0.0)
    np.testing.assert_array_equal(w["kita_places"].to_numpy(), expected.to_numpy())
