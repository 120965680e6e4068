"""Tests of k360lib.maps.AtlasMap: states for every scheme and palette, facilities, channels."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest

from k360lib.atlas import classify as cl
from k360lib.atlas.demo import demo_atlas
from k360lib.atlas.privacy import public_values
from k360lib.errors import DataError
from k360lib.maps import AtlasMap, legend_html
from k360lib.maps.atlas_map import FACILITY_COLORS, _glyphs

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module", autouse=True)
def _private_geometry_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("K360_CACHE_DIR", str(tmp_path_factory.mktemp("geometry-cache")))
        yield


@pytest.fixture(scope="module")
def atlas():
    return demo_atlas()


@pytest.fixture(scope="module")
def amap(atlas):
    return AtlasMap(atlas, "de")


@pytest.mark.parametrize(
    ("scheme", "k"),
    [
        ("quantiles", 5),
        ("equal_interval", 4),
        ("fisher_jenks", 6),
        ("natural_breaks", 3),
        ("std_mean", 5),
    ],
)
def test_every_scheme_classifies_like_the_classify_module(amap, atlas, scheme, k):
    state = amap.state("sgb2_u15_rate", 2024, scheme=scheme, k=k)
    values = public_values(atlas, "sgb2_u15_rate", 2024)
    expected = cl.classify(values["value"].where(~values["suppressed"]), scheme=scheme, k=k)
    assert state.classification.bins.tolist() == expected.bins.tolist()
    assert [state.styles[s]["cls"] for s in state.style_index] == [
        f"k360-class-{c}" if c >= 0 else "k360-suppressed" for c in expected.classes
    ]
    if cl.SCHEMES[cl.normalize_scheme(scheme)].uses_k:
        assert state.classification.k == k
    assert cl.scheme_label(scheme, "de") in state.legend


def test_user_defined_breaks(amap):
    state = amap.state("sgb2_u15_rate", 2024, scheme="user_defined", breaks=[10, 20, 30])
    assert state.classification.bins.tolist()[:3] == [10.0, 20.0, 30.0]
    assert "10,0 – 20,0" in state.legend
    with pytest.raises(DataError):
        amap.state("sgb2_u15_rate", 2024, scheme="user_defined")  # breaks missing


@pytest.mark.parametrize("name", sorted(cl.PALETTES))
def test_palettes_follow_polarity(amap, name):
    up = amap.state("sgb2_u15_rate", 2024, k=5, palette=name)  # +1: higher = more need
    down = amap.state("u8u9_participation", 2024, k=5, palette=name)  # -1
    assert up.class_colors == cl.palette_for_need(name, 5, 1)
    assert down.class_colors == cl.palette_for_need(name, 5, -1) == up.class_colors[::-1]


def test_default_palette_is_colour_blind_safe_and_most_need_is_darkest(amap):
    up = amap.state("sgb2_u15_rate", 2024, k=5)
    down = amap.state("u8u9_participation", 2024, k=5)
    assert cl.PALETTES["YlOrRd"].colorblind_safe
    assert up.class_colors == cl.palette("YlOrRd", 5)
    assert down.class_colors == cl.palette("YlOrRd", 5)[::-1]  # low participation = red
    assert "Höhere Werte bedeuten weniger Bedarf." in down.legend


def test_suppressed_values_never_reach_a_state(atlas, amap):
    sup = atlas.indicators[atlas.indicators["suppressed"]]
    for (ind, year), rows in sup.groupby(["indicator", "year"]):
        state = amap.state(ind, int(year))
        for aid in rows["area_id"]:
            i = amap.area_ids.index(aid)
            assert state.values_text[i] == "zu wenige Fälle"
            assert state.ranks[i] == 0 and state.area_class(i) == "suppressed"


def test_small_counts_are_suppressed_even_if_the_atlas_was_not(atlas):
    raw = demo_atlas()
    ind = raw.indicators
    row = ind[(ind["indicator"] == "kwg_8a") & ind["suppressed"]].iloc[0]
    ind.loc[row.name, ["value", "suppressed"]] = [1.0, False]  # an unsuppressed small count
    state = AtlasMap(raw, "de").state("kwg_8a", int(row["year"]))
    i = list(raw.areas["area_id"]).index(row["area_id"])
    assert state.area_class(i) == "suppressed" and "1" not in state.values_text[i]


def test_state_json_is_small_and_script_safe(amap):
    state = amap.state("sgb2_u15_rate", 2024, selected="SR03", kinds=[0, 2])
    state.seq = 7
    text = state.to_json()
    assert "<" not in text and ">" not in text
    data = json.loads(text)
    assert data["seq"] == 7 and data["sel"] == 2 and data["kinds"] == [0, 2]
    assert len(data["s"]) == len(data["v"]) == len(data["r"]) == 24
    assert len(text) < 12_000


def test_channel_elements(amap):
    state = amap.state("sgb2_u15_rate", 2024)
    state.seq = 3
    value = AtlasMap.channel_state_html('ch"1', state)
    m = re.fullmatch(
        r'<script type="application/json" id="ch&quot;1-state" data-seq="3">(.*)</script>',
        value,
        re.S,
    )
    assert m and json.loads(m.group(1))["seq"] == 3
    fac = amap.channel_facilities_html("ch", [1], 5)
    m = re.fullmatch(
        r'<script type="application/json" id="ch-fac" data-seq="5">(.*)</script>', fac, re.S
    )
    data = json.loads(m.group(1))
    assert list(data) == ["1", "groups"] and data["groups"] == amap.facility_groups()
    prof = amap.channel_profile_html("ch", 2)
    m = re.fullmatch(
        r'<script type="application/json" id="ch-profile" data-seq="2">(.*)</script>', prof, re.S
    )
    assert json.loads(m.group(1))["years"] == [2021, 2022, 2023, 2024]


def test_live_document_is_data_free_and_cached_on_disk(atlas, tmp_path, monkeypatch):
    monkeypatch.setenv("K360_CACHE_DIR", str(tmp_path / "c"))
    first = AtlasMap(atlas, "de")
    doc = first.live_document()
    cfg = json.loads(re.search(r"k360map\.init\(\w+, (\{.*?\})\);\n", doc, re.S).group(1))
    assert cfg["state"] is None and cfg["profile"] is None
    files = list((tmp_path / "c" / "documents").glob("*.html"))
    assert len(files) == 1 and files[0].read_text(encoding="utf-8") == doc
    second = AtlasMap(demo_atlas(), "de")
    monkeypatch.setattr(second, "document", lambda *a, **k: pytest.fail("rendered again"))
    assert second.live_document() == doc  # from disk
    assert AtlasMap(demo_atlas(), "en").live_document() != doc  # per language


def test_facility_kinds_colours_glyphs(amap, atlas):
    kinds = amap.kinds
    assert sum(k.n for k in kinds) == len(atlas.facilities)
    assert [k.color for k in kinds] == list(FACILITY_COLORS[: len(kinds)])
    glyphs = [k.glyph for k in kinds]
    assert len(set(glyphs)) == len(glyphs) and all(re.fullmatch(r"[\w]{1,2}", g) for g in glyphs)
    assert {k.text_color for k in kinds} <= {"#000000", "#ffffff"}
    kita = next(k for k in kinds if k.key == "Kita")
    assert kita.text_color == "#000000"  # black on yellow
    assert _glyphs(["Kita", "Kinderarztpraxis", "Kino"]) == ["K", "Ki", "3"]
    assert _glyphs(["<b>", "!"]) == ["B", "2"]


def test_facility_points_skip_missing_geometry_and_keep_capacity(atlas):
    a = demo_atlas()
    a.facilities.loc[0, "geometry"] = None
    m = AtlasMap(a, "en")
    pts = m.facility_points()
    assert sum(len(p) for p in pts.values()) == len(a.facilities) - 1
    cap = [p[3] for ps in pts.values() for p in ps if p[3] is not None]
    assert cap and all(isinstance(c, float) for c in cap)


def test_values_state_for_a_computed_measure(amap):
    scores = [float(i) for i in range(24)]
    scores[3] = float("nan")
    state = amap.values_state(
        scores, indicator="__need_index__", label="Bedarfsindex", polarity=1, year=2024, k=4
    )
    assert state.counts == {"classified": 23, "suppressed": 0, "missing": 1}
    assert state.ranks[23] == 1 and state.ranks[3] == 0
    with pytest.raises(ValueError):
        amap.values_state([1.0], indicator="x", label="x")


def test_legend_html_escapes():
    text = legend_html(XSS, "<i>", [("c", "#fff", XSS)], note="<b>")
    assert "<img" not in text and "<i>" not in text and "<b>" not in text
    assert text.count("&lt;img") == 2


def test_document_embeds_facilities_only_when_asked(amap):
    state = amap.state("sgb2_u15_rate", 2024)
    none = amap.document(state)
    cfg = json.loads(re.search(r"k360map\.init\(\w+, (\{.*?\})\);\n", none, re.S).group(1))
    assert cfg["facilities"]["points"] is None and len(cfg["facilities"]["kinds"]) == 8
    some = amap.document(state, facilities=[0])
    cfg = json.loads(re.search(r"k360map\.init\(\w+, (\{.*?\})\);\n", some, re.S).group(1))
    assert list(cfg["facilities"]["points"]) == ["0"]


def test_profile_popup_data_uses_public_values(amap, atlas):
    prof = amap.profile
    assert prof["years"] == [2021, 2022, 2023, 2024]
    k = [i["id"] for i in prof["ind"]].index("hze_per_1000")
    for y, year in enumerate(prof["years"]):
        pv = public_values(atlas, "hze_per_1000", year)
        for i, (v, s) in enumerate(zip(pv["value"], pv["suppressed"])):
            cell = prof["v"][k][y][i]
            assert cell == "s" if s else cell == pytest.approx(round(v, prof["ind"][k]["dec"]))


def test_an_area_without_geometry_is_still_listed():
    a = demo_atlas()
    a.areas = gpd.GeoDataFrame(a.areas.copy(), geometry="geometry", crs=4326)
    a.areas.loc[0, "geometry"] = None
    m = AtlasMap(a, "de")
    assert len(m.geometry.topology["areas"]) == 24 and m.geometry.topology["areas"][0] == []
