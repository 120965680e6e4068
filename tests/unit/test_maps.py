"""Tests of k360lib.maps: offline HTML, classes, legend, escaping, geometry payload."""

from __future__ import annotations

import html
import json
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from k360lib.atlas.classify import MISSING_COLOR
from k360lib.atlas.model import Atlas
from k360lib.errors import DataError
from k360lib.maps import AtlasMap, choropleth, map_geometry, simplify_coverage, srcdoc_iframe
from k360lib.maps.assets import ASSETS, OfflineMap, asset_text
from k360lib.maps.elements import script_json
from k360lib.maps.format import decimals_for, format_value

XSS = "<img src=x onerror=alert(1)>"
METRIC = "EPSG:25832"


@pytest.fixture(scope="module", autouse=True)
def _private_geometry_cache(tmp_path_factory):
    """Keep the on-disk geometry cache of these tests out of the user's home."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("K360_CACHE_DIR", str(tmp_path_factory.mktemp("geometry-cache")))
        yield


def norm(text: str) -> str:
    """geopandas-style normalised HTML: all whitespace removed."""
    return "".join(text.split())


# -- fixtures -----------------------------------------------------------------------
def make_atlas(
    cells,
    names,
    values,
    suppressed=None,
    *,
    unit="%",
    polarity=1,
    kind="rate",
    label=None,
    crs=METRIC,
):
    """An atlas of ``cells`` (metric polygons) with one indicator ``ind`` in 2023."""
    n = len(cells)
    areas = gpd.GeoDataFrame(
        {"area_id": [f"A{i:02d}" for i in range(n)], "name": names},
        geometry=list(cells),
        crs=crs,
    ).to_crs(4326)
    suppressed = suppressed or [False] * n
    ind = pd.DataFrame(
        {
            "area_id": areas["area_id"],
            "indicator": "ind",
            "year": 2023,
            "value": values,
            "suppressed": suppressed,
        }
    )
    ind = ind[[v is not None for v in values]]  # None = no row at all (missing)
    cat = pd.DataFrame(
        [
            {
                "id": "ind",
                "label_de": label or "Quote",
                "label_en": label or "Rate",
                "unit": unit,
                "polarity": polarity,
                "theme": "Soziale Lage",
                "kind": kind,
                "description": "",
                "source": "Test",
                "numerator": "",
                "denominator": "",
            }
        ]
    )
    return Atlas(areas, ind, cat, meta={"name": "Teststadt", "metric_crs": METRIC})


def grid_cells(nx=3, ny=2, size=1000.0, x0=500_000.0, y0=5_800_000.0):
    return [
        Polygon(
            [
                (x0 + i * size, y0 + j * size),
                (x0 + (i + 1) * size, y0 + j * size),
                (x0 + (i + 1) * size, y0 + (j + 1) * size),
                (x0 + i * size, y0 + (j + 1) * size),
            ]
        )
        for j in range(ny)
        for i in range(nx)
    ]


def wiggly_cells(nx=4, ny=4, size=1000.0, step=5.0, amp=8.0, x0=500_000.0, y0=5_800_000.0):
    """A valid coverage whose shared edges are noisy polylines with many vertices."""
    rng = np.random.default_rng(7)
    n = int(size / step)
    t = np.linspace(0.0, size, n + 1)

    def offsets(border: bool):
        if border:
            return np.zeros(n + 1)
        # tapered towards the corners, so edges never cross (the cells stay valid)
        return rng.normal(0, amp, n + 1) * np.sin(np.pi * t / size) ** 2

    v = [[offsets(i in (0, nx)) for j in range(ny)] for i in range(nx + 1)]
    h = [[offsets(j in (0, ny)) for j in range(ny + 1)] for i in range(nx)]
    cells = []
    for j in range(ny):
        for i in range(nx):
            bottom = [(x0 + i * size + s, y0 + j * size + h[i][j][k]) for k, s in enumerate(t)]
            right = [
                (x0 + (i + 1) * size + v[i + 1][j][k], y0 + j * size + s) for k, s in enumerate(t)
            ]
            top = [
                (x0 + i * size + s, y0 + (j + 1) * size + h[i][j + 1][k]) for k, s in enumerate(t)
            ]
            left = [(x0 + i * size + v[i][j][k], y0 + j * size + s) for k, s in enumerate(t)]
            ring = bottom + right[1:] + top[::-1][1:] + left[::-1][1:]
            cells.append(Polygon(ring))
    return cells


@pytest.fixture
def boxes():
    names = ["Nord", XSS, "Süd & Co", 'Ost "1"', "West", "Mitte"]
    values = [1234.5, 2.0, None, 4.0, 5.0, float("nan")]
    supp = [False, False, False, False, True, False]
    return make_atlas(grid_cells(), names, values, supp)


@pytest.fixture
def view_de(boxes):
    return choropleth(boxes, "ind", lang="de", k=3)


def config(page: str) -> dict:
    """The data a rendered map hands to its browser script (``k360map.init``)."""
    m = re.search(r"k360map\.init\(\w+, (\{.*?\})\);\n", page, re.S)
    assert m, "k360map.init(...) not found"
    return json.loads(m.group(1))


def areas(page: str) -> dict:
    """Per area id: name, CSS classes, fill, value text and rank as the map shows them."""
    cfg = config(page)
    st = cfg["state"]
    return {
        aid: {
            "name": name,
            "cls": st["styles"][s]["cls"],
            "fill": st["styles"][s]["fillColor"],
            "v": v,
            "r": r,
        }
        for aid, name, s, v, r in zip(cfg["ids"], cfg["names"], st["s"], st["v"], st["r"])
    }


# -- offline --------------------------------------------------------------------------
REMOTE_RESOURCE = [
    re.compile(r"<script[^>]*\bsrc\s*=", re.I),
    re.compile(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"url\(\s*[\"']?(https?:)?//", re.I),
    re.compile(r"<(img|iframe|audio|video|source)[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", re.I),
]


def remote_resources(page: str) -> list[str]:
    return [m.group(0) for rx in REMOTE_RESOURCE for m in rx.finditer(page)]


def test_remote_resource_check_detects_plain_folium():
    import folium

    page = folium.Map(tiles=None).get_root().render()
    assert remote_resources(page), "the check must catch folium's CDN links"


def test_map_references_no_remote_resource(view_de):
    page = view_de.to_html()
    assert remote_resources(page) == []
    assert "cdn." not in page and "jsdelivr" not in page and "cloudflare" not in page
    assert 'data-k360-asset="leaflet_js"' in page and 'data-k360-asset="leaflet_css"' in page
    assert 'data-k360-asset="client_js"' in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert "L.tileLayer" not in page  # no basemap unless asked for


def test_tiles_only_add_the_tile_url_template(boxes):
    page = choropleth(boxes, "ind", lang="de", tiles="OpenStreetMap").to_html()
    assert remote_resources(page) == []
    assert "L.tileLayer" in page
    urls = set(re.findall(r"https?://[^\"'\s)]*\{z\}[^\"'\s)]*", page))
    assert urls and all("openstreetmap" in u for u in urls)
    assert len(areas(page)) == 6  # polygons are there regardless of tiles


def test_facility_layers_per_kind_inline_markercluster(boxes):
    boxes.facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["F1", "F2", "F3"],
            "name": [XSS, "Kita Sonne", "Treff"],
            "kind": ["Kita", "Kita", "Jugendtreff <b>"],
            "capacity": [40, None, 12],
            "target_group": ["Kinder", "Kinder", None],
        },
        geometry=gpd.points_from_xy([9.0, 9.0, 9.01], [52.3, 52.3, 52.31]),
        crs=4326,
    )
    page = choropleth(boxes, "ind", lang="de", facilities=True).to_html()
    assert 'data-k360-asset="markercluster_js"' in page
    assert "L.markerClusterGroup" in page
    assert remote_resources(page) == []
    assert XSS not in page and "Jugendtreff <b>" not in page
    fac = config(page)["facilities"]
    assert [k["label"] for k in fac["kinds"]] == ["Kita", "Jugendtreff <b>"]  # JSON: text
    assert "&lt;b&gt;" in fac["kinds"][1]["layer_html"]  # layer control label: escaped HTML
    kita = fac["points"]["0"]
    assert [p[2] for p in kita] == [XSS, "Kita Sonne"] and kita[0][3] == 40
    assert fac["points"]["1"][0][3] == 12 and fac["points"]["1"][0][4] == -1
    legend = norm(config(page)["state"]["legend"])
    assert "Kita(2)" in legend and "Jugendtreff&lt;b&gt;(1)" in legend


def test_assets_are_self_contained():
    js = asset_text("leaflet_js")
    css = asset_text("leaflet_css")
    assert "sourceMappingURL" not in js
    assert "url(images/" not in css and "data:image/png;base64," in css
    assert "</script" not in js
    assert set(ASSETS) >= {"leaflet_js", "leaflet_css", "markercluster_js"}


def test_offline_map_has_instance_asset_lists():
    a, b = OfflineMap(), OfflineMap()
    a.add_js_link("x", "https://example.org/x.js")  # folium mutates the list in place
    assert b.default_js == []
    assert remote_resources(b.get_root().render()) == []
    with pytest.raises(KeyError):
        a.require("no_such_asset")


# -- content -------------------------------------------------------------------------
def test_one_polygon_per_area_and_classes(view_de, boxes):
    page = view_de.to_html()
    shown = areas(page)
    assert list(shown) == list(boxes.areas["area_id"]) and view_de.n_areas == 6
    assert len(config(page)["topo"]["areas"]) == 6
    # values 2 < 4 < 1234.5 -> ascending classes
    classes = [
        int(re.search(r"k360-class-(\d)", shown[a]["cls"]).group(1)) for a in ("A01", "A03", "A00")
    ]
    assert classes == sorted(classes) and classes[0] < classes[-1]
    assert view_de.counts == {"classified": 3, "suppressed": 1, "missing": 2}


def test_suppressed_and_missing_areas_are_marked(view_de):
    page = view_de.to_html()
    shown = areas(page)
    supp = shown["A04"]
    assert supp["cls"] == "k360-suppressed" and supp["fill"] == "url(#k360-hatch)"
    style = config(page)["state"]["styles"][config(page)["state"]["s"][4]]
    assert style["dashArray"]
    assert 'id="k360-hatch"' in page  # the pattern the fill refers to exists
    assert supp["v"] == "zu wenige Fälle" and supp["r"] == 0
    for aid in ("A02", "A05"):  # no row / NaN value
        assert shown[aid]["cls"] == "k360-missing" and shown[aid]["fill"] == MISSING_COLOR
        assert shown[aid]["v"] == "keine Daten"
    assert supp["fill"] != MISSING_COLOR


def test_legend_with_unit_bounds_and_special_rows(view_de):
    legend = norm(view_de.state.legend)
    assert "%,2023" in legend  # unit and year
    assert legend.count('class="k360-swatchk360-swatch-class"') == view_de.classification.k == 3
    assert "zuwenigeFälle(1)" in legend and "keineDaten(2)" in legend
    assert "1.234,5" in legend  # German number format in class bounds
    data = config(view_de.to_html())["state"]["data"]
    assert data == {"indicator": "ind", "year": 2023, "areas": 6, "classes": 3}


def test_tooltip_numbers_rank_and_year_follow_language(boxes):
    de = choropleth(boxes, "ind", lang="de", k=3).state.to_dict()
    en = choropleth(boxes, "ind", lang="en", k=3).state.to_dict()
    assert de["v"][0] == "1.234,5\u00a0%" and en["v"][0] == "1,234.5\u00a0%"
    assert de["r"][0] == 1  # highest value = most need
    assert de["rank_text"] == "Rang {rank} von 3 (1 = höchster Bedarf)"
    assert en["rank_text"] == "rank {rank} of 3 (1 = highest need)"
    assert de["year_text"] == "Jahr 2023" and en["year_text"] == "year 2023"
    assert en["v"][4] == "too few cases" and en["v"][2] == "no data"


def test_rank_follows_polarity():
    atlas = make_atlas(grid_cells(2, 1), ["a", "b"], [1.0, 9.0], polarity=-1)
    assert choropleth(atlas, "ind", lang="de", k=2).state.ranks == [1, 2]
    atlas = make_atlas(grid_cells(2, 1), ["a", "b"], [1.0, 9.0], polarity=1)
    assert choropleth(atlas, "ind", lang="de", k=2).state.ranks == [2, 1]


def test_names_are_escaped_everywhere(boxes):
    boxes.catalog.loc[0, "label_de"] = "</script><script>alert(2)</script>"
    boxes.catalog.loc[0, "unit"] = "<b>%</b>"
    page = choropleth(boxes, "ind", lang="de", k=3).to_html()
    assert XSS not in page
    assert "alert(2)</script>" not in page
    assert "<b>%</b>" not in page
    # names travel as JSON text (the browser inserts them with textContent) ...
    assert areas(page)["A01"]["name"] == XSS
    # ... and the legend as escaped HTML
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in config(page)["state"]["legend"]
    # one <script> element per </script>: nothing closed a script early
    assert len(re.findall(r"<script\b", page)) == page.count("</script>")
    # the browser script never parses data as HTML: only the (escaped) legend and
    # layer labels go through innerHTML
    from k360lib.maps.client import CLIENT_JS

    assert CLIENT_JS.count("innerHTML") == 1 and "legendDiv.innerHTML = st.legend" in CLIENT_JS
    assert "insertAdjacentHTML" not in CLIENT_JS and "document.write" not in CLIENT_JS


def test_script_json_cannot_close_a_script():
    text = script_json({"a": "</script><!-- \u2028"})
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- \u2028"}


def test_rendering_is_deterministic(boxes):
    assert (
        choropleth(boxes, "ind", lang="de").to_html()
        == choropleth(boxes, "ind", lang="de").to_html()
    )


def test_all_missing_year_still_draws_every_area():
    atlas = make_atlas(grid_cells(2, 1), ["a", "b"], [float("nan"), float("nan")])
    view = choropleth(atlas, "ind", lang="de")
    assert len(areas(view.to_html())) == 2
    assert view.classification.k == 0
    assert "Für dieses Jahr liegen keine zeigbaren Werte vor." in view.state.legend


def test_bad_requests_raise_data_errors(boxes):
    with pytest.raises(DataError) as err:
        choropleth(boxes, "nope")
    assert err.value.key == "atlas.model.unknown_indicator"
    with pytest.raises(DataError) as err:
        choropleth(boxes, "ind", year=1999)
    assert "2023" in err.value.message("en")
    with pytest.raises(DataError):
        choropleth(boxes, "ind", scheme="nonsense")
    with pytest.raises(DataError):
        choropleth(boxes, "ind", k=2, palette=["#111111", "red"])  # not #rrggbb
    with pytest.raises(DataError):
        AtlasMap(boxes).state("ind", selected="no such area")


def test_explicit_palette_and_scheme(boxes):
    view = choropleth(
        boxes, "ind", scheme="equal_interval", k=2, palette=["#111111", "#222222"], lang="en"
    )
    assert view.state.class_colors == ["#111111", "#222222"]
    with pytest.raises(DataError):
        choropleth(boxes, "ind", k=2, palette=["#111111"])


def test_srcdoc_iframe_escapes_the_document():
    doc = '<!DOCTYPE html><p title="x">a & b</p><script>1<2</script>'
    frame = srcdoc_iframe(doc, title='Karte "A" <1>', element_id="m1", data={"indicator": "x"})
    assert frame.count("<") == 2  # <iframe ...></iframe> only
    src = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert html.unescape(src) == doc
    assert 'sandbox="allow-scripts"' in frame and 'id="m1"' in frame
    assert 'data-k360-indicator="x"' in frame and "data-k360-channel" not in frame


def test_live_frame_gets_a_channel_and_same_origin():
    frame = srcdoc_iframe("<p>x</p>", title="t", channel='k360-"a"', sync="g")
    assert 'sandbox="allow-scripts allow-same-origin"' in frame
    assert 'data-k360-channel="k360-&quot;a&quot;"' in frame and 'data-k360-sync="g"' in frame


def test_mapview_iframe_carries_state(view_de):
    frame = view_de.iframe(element_id="k360-atlas-map")
    assert 'data-k360-indicator="ind"' in frame and 'data-k360-year="2023"' in frame
    assert 'class="k360-map-frame"' in frame


# -- geometry -----------------------------------------------------------------------
def test_geometry_is_rounded_to_five_decimals(boxes):
    geo = map_geometry(boxes)
    numbers = re.findall(r"-?\d+\.\d+", "".join(geo.geometries))
    assert numbers and max(len(n.split(".")[1]) for n in numbers) <= 5
    assert geo.topology["scale"] == 100_000


def test_geometry_is_cached_per_atlas_and_areas(boxes):
    first = map_geometry(boxes)
    assert map_geometry(boxes) is first
    boxes.areas = boxes.areas.copy()
    assert map_geometry(boxes) is not first  # new areas frame -> recomputed


def test_geometry_is_cached_on_disk_per_dataset(tmp_path, monkeypatch):
    from k360lib.maps import geometry

    monkeypatch.setenv("K360_CACHE_DIR", str(tmp_path / "c"))
    cells = wiggly_cells(2, 2)
    a = make_atlas(cells, list("abcd"), [1.0, 2.0, 3.0, 4.0])
    first = map_geometry(a)
    files = list((tmp_path / "c" / "geometry").glob("*.json"))
    assert len(files) == 1
    calls = []
    monkeypatch.setattr(geometry, "simplify_coverage", lambda *a_: calls.append(1))
    b = make_atlas(cells, list("abcd"), [4.0, 3.0, 2.0, 1.0])  # same areas, new object
    second = map_geometry(b)
    assert calls == [] and second.topology == first.topology  # read from disk
    monkeypatch.setenv("K360_CACHE_DIR", "off")
    assert geometry.cache_dir() is None


def test_geometry_cache_is_freed_with_the_atlas():
    import gc

    from k360lib.maps import geometry

    atlas = make_atlas(grid_cells(2, 1), ["a", "b"], [1.0, 2.0])
    map_geometry(atlas)
    key = id(atlas)
    assert key in geometry._CACHE
    del atlas
    gc.collect()
    assert key not in geometry._CACHE


def test_arc_encoding_round_trips():
    from k360lib.maps.geometry import decode_arc, encode_arc

    rng = np.random.default_rng(1)
    for scale in (10, 10_000, 10**9):
        pts = [tuple(int(v) for v in p) for p in rng.integers(-scale, scale, (200, 2))]
        text = encode_arc(pts)
        assert decode_arc(text) == pts
        assert re.fullmatch(r"[A-Za-z0-9_-]*", text)  # safe in JSON and HTML


def test_neighbours_share_arcs_once():
    geo_atlas = make_atlas(grid_cells(2, 1), ["a", "b"], [1.0, 2.0])
    topo = map_geometry(geo_atlas, tolerance_m=0).topology
    refs = [
        set(r if r >= 0 else ~r for ring in poly for r in ring) for a in topo["areas"] for poly in a
    ]
    shared = refs[0] & refs[1]
    assert len(shared) == 1  # the common edge is stored once and used by both
    a_refs = [r for ring in topo["areas"][0][0] for r in ring]
    b_refs = [r for ring in topo["areas"][1][0] for r in ring]
    (s,) = shared
    assert (s in a_refs) != (s in b_refs) or (~s in a_refs) != (~s in b_refs)  # once reversed


def test_simplification_keeps_neighbours_touching():
    """Tolerance: no gap or overlap between neighbours larger than 1e-6 of the total area."""
    cells = wiggly_cells()
    atlas = make_atlas(cells, [f"c{i}" for i in range(len(cells))], list(range(len(cells))))
    geo = map_geometry(atlas, tolerance_m=10.0)
    assert geo.method == "coverage"
    simp = gpd.GeoSeries([geo.shape(i) for i in range(len(cells))], crs=4326).to_crs(METRIC)
    orig = gpd.GeoSeries(cells, crs=METRIC)
    assert all(simp.is_valid)
    # far fewer vertices, and shared ones stored once
    assert geo.n_points < 0.35 * shapely.get_num_coordinates(orig.values).sum()
    assert geo.n_arc_points < 0.65 * geo.n_points
    # no overlaps: the union's area is the sum of the areas (within quantisation)
    union = shapely.union_all(simp.values)
    assert math.isclose(union.area, simp.area.sum(), rel_tol=1e-6)
    # no gaps: the union is one polygon without holes, the same size as before
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert math.isclose(union.area, shapely.union_all(orig.values).area, rel_tol=1e-3)
    # every pair of neighbours still shares an edge (not just a point)
    for i in range(len(cells)):
        for j in range(i + 1, len(cells)):
            if orig.iloc[i].intersection(orig.iloc[j]).length > 1:
                assert simp.iloc[i].intersection(simp.iloc[j]).length > 500


def test_holes_and_enclosed_areas_share_their_ring():
    outer = shapely.box(0, 0, 3000, 3000).difference(shapely.box(1000, 1000, 2000, 2000))
    inner = shapely.box(1000, 1000, 2000, 2000)
    x0, y0 = 500_000.0, 5_800_000.0
    cells = [shapely.affinity.translate(g, x0, y0) for g in (outer, inner)]
    atlas = make_atlas(cells, ["Ring", "Kern"], [1.0, 2.0])
    geo = map_geometry(atlas, tolerance_m=0)
    assert len(geo.topology["arcs"]) == 2  # outer boundary + the shared hole/exterior ring
    ring, core = geo.shape(0), geo.shape(1)
    assert len(ring.interiors) == 1 and math.isclose(
        Polygon(ring.interiors[0]).area, core.area, rel_tol=1e-9
    )


def test_float_noise_on_shared_edges_is_snapped_before_coverage_simplification():
    rng = np.random.default_rng(3)
    frame = shapely.box(0, 0, 5000, 5000)
    pts = shapely.multipoints(rng.uniform(0, 5000, (30, 2)))
    cells = [c.intersection(frame) for c in shapely.voronoi_polygons(pts, extend_to=frame).geoms]
    noisy = shapely.segmentize(np.array(cells, dtype=object), 7.0)
    assert not shapely.coverage_is_valid(noisy)
    out, method = simplify_coverage(noisy, 5.0)
    assert method == "coverage"
    assert math.isclose(shapely.union_all(out).area, sum(g.area for g in out), rel_tol=1e-9)


def test_non_coverage_falls_back_to_per_polygon_simplification():
    overlapping = [
        Polygon([(0, 0), (10, 0), (10, 10), (0, 10)]),
        Polygon([(5, 5), (15, 5), (15, 15), (5, 15)]),
    ]
    out, method = simplify_coverage(overlapping, 1.0)
    assert method == "per_polygon" and len(out) == 2 and not any(g.is_empty for g in out)


def _explore_html(gdf) -> str:
    return gdf.explore(column="value").get_root().render()


def _folium_geojson_html(gdf) -> str:
    """What explore() embeds, without its matplotlib dependency: the full GeoJSON of the frame."""
    import folium

    m = folium.Map(tiles=None)
    folium.GeoJson(gdf, tooltip=folium.GeoJsonTooltip(["name", "value"])).add_to(m)
    return m.get_root().render()


@pytest.mark.parametrize(
    "reference_map", [_explore_html, _folium_geojson_html], ids=["explore", "folium_geojson"]
)
def test_payload_much_smaller_than_geopandas_explore(reference_map):
    if reference_map is _explore_html:
        pytest.importorskip("matplotlib", reason="GeoDataFrame.explore() needs matplotlib")
    cells = wiggly_cells(6, 6)
    atlas = make_atlas(
        cells, [f"Gebiet {i}" for i in range(len(cells))], [float(i) for i in range(len(cells))]
    )
    gdf = atlas.areas.merge(atlas.values("ind"), on="area_id")
    gdf["extra_text"] = "x" * 40  # explore() serialises every column
    reference = reference_map(gdf)
    ours = choropleth(atlas, "ind", lang="de").to_html()
    # compare what each page carries itself; explore() links Leaflet from a CDN, ours inlines it
    ours_data = re.sub(r"<(script|style) data-k360-asset=.*?</\1>", "", ours, flags=re.S)
    assert len(ours_data) < 0.2 * len(reference), (len(ours_data), len(reference))


# -- formatting ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "unit", "lang", "decimals", "expected"),
    [
        (1234.5, "%", "de", 1, "1.234,5\u00a0%"),
        (1234.5, "%", "en", 1, "1,234.5\u00a0%"),
        (-0.01, "", "de", 1, "0,0"),
        (3.0, None, "en", 0, "3"),
        (float("nan"), "%", "de", 1, ""),
        (None, "%", "de", 1, ""),
    ],
)
def test_format_value(value, unit, lang, decimals, expected):
    assert format_value(value, unit, lang, decimals) == expected


def test_decimals_for():
    assert decimals_for([1.0, 2.0], "count") == 0
    assert decimals_for([0.12, 0.5], "share") == 2
    assert decimals_for([12.3, float("nan")], "rate") == 1


def test_demo_city_map():
    from k360lib.atlas.demo import demo_atlas

    atlas = demo_atlas()
    view = choropleth(atlas, "sgb2_u15_rate", year=2021, lang="de")
    page = view.to_html()
    assert len(areas(page)) == len(atlas.areas)
    assert view.counts["suppressed"] >= 1  # the demo hides small counts
    assert remote_resources(page) == []
    assert len(page) < 300_000
