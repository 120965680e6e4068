"""Tests of the atlas app (k360lib.widgets.AtlasExplorer) without a browser."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import ipywidgets as W
import pytest

from k360lib.errors import DataError
from k360lib.i18n import t
from k360lib.widgets import AtlasExplorer
from k360lib.widgets.atlas_explorer import MAP_FRAME_ID


@pytest.fixture(scope="module")
def app():
    return AtlasExplorer.demo(lang="de")


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def frame_attr(app, name):
    m = re.search(rf'{name}="([^"]*)"', app._map.value)
    return m.group(1) if m else None


def test_container_shows_title_disclaimer_controls_and_map(app):
    assert isinstance(app.container, W.VBox)
    assert "k360-atlas-explorer" in app.container._dom_classes
    header = app._header.value
    assert html.escape(t("widgets.atlas.title", "de", city=app.atlas.name)) in header
    assert "k360-disclaimer" in header and "Fiktive Demo-Stadt" in header
    value = app._map.value
    assert value.startswith("<iframe") and f'id="{MAP_FRAME_ID}"' in value and "srcdoc=" in value
    assert 'title="Karte: ' in value
    assert app.view is not None and app.view.n_areas == len(app.atlas.areas)
    assert app.view.indicator == "sgb2_u15_rate"  # first rate in the catalog


def test_no_output_widget_anywhere(app):
    # Voilà can hang on the first render of a large Output widget (voila#1428)
    assert not any(isinstance(w, W.Output) for w in walk(app.container))


def test_changing_the_indicator_redraws_the_map():
    app = AtlasExplorer.demo(lang="de")
    before = app._map.value
    app._indicator.value = "kwg_per_1000"
    assert app._map.value != before
    assert app.view.indicator == "kwg_per_1000"
    assert frame_attr(app, "data-k360-indicator") == "kwg_per_1000"
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', app._map.value).group(1))
    assert "Gefährdungseinschätzungen je 1.000 Minderjährige" in srcdoc


def test_year_scheme_k_and_facilities_redraw():
    app = AtlasExplorer.demo(lang="de")
    app._year.value = 2021
    assert app.view.year == 2021 and frame_attr(app, "data-k360-year") == "2021"
    app._k.value = 3
    assert app.view.classification.k == 3
    app._scheme.value = "std_mean"
    assert app._k.disabled  # std_mean ignores k
    assert app.view.classification.scheme == "std_mean"
    app._scheme.value = "quantiles"
    assert not app._k.disabled
    app._facilities.value = True
    assert "k360-facility" in html.unescape(app._map.value)


def test_indicator_change_keeps_year_when_possible():
    app = AtlasExplorer.demo(lang="de")
    app._year.value = 2022
    app._indicator.value = "hze_per_1000"
    assert app.view.year == 2022
    assert list(app._year.options) == app.atlas.years


def test_english_ui(app):
    en = AtlasExplorer.demo(lang="en")
    assert en._indicator.description == "Indicator" and en._year.description == "Year"
    assert "Fictional demo city" in en._header.value
    labels = [label for label, _ in en._indicator.options]
    assert "SGB II rate of children under 15" in labels
    assert "Quantiles" in en._scheme.label
    assert "Karte:" not in en._map.value


def test_indicator_options_grouped_by_theme(app):
    labels = [label for label, _ in app._indicator.options]
    themes = [label.split(":")[0] for label in labels]
    # each theme forms one consecutive block
    blocks = [th for i, th in enumerate(themes) if i == 0 or th != themes[i - 1]]
    assert len(blocks) == len(set(themes)) > 1
    assert "Soziale Lage: SGB-II-Quote der unter 15-Jährigen" in labels


def test_user_errors_are_shown_not_raised(monkeypatch):
    import k360lib.widgets.atlas_explorer as mod

    app = AtlasExplorer.demo(lang="de")
    last_map = app._map.value

    def broken(*args, **kwargs):
        raise DataError("atlas.classify.bad_k", k=99, max=9)

    monkeypatch.setattr(mod, "choropleth", broken)
    app._k.value = 4
    assert "k360-error" in app._status.value
    assert "99" in app._status.value and "Traceback" not in app._status.value
    assert app._map.value == last_map  # the last good map stays


def test_unknown_start_indicator_is_a_user_error():
    from k360lib.atlas.demo import demo_atlas

    with pytest.raises(DataError):
        AtlasExplorer(demo_atlas(), indicator="nope")


def test_demo_disclaimer_is_escaped():
    from k360lib.atlas.demo import demo_atlas

    atlas = demo_atlas()
    atlas.meta["disclaimer_de"] = "<script>alert(1)</script>"
    atlas.meta["name"] = "<b>Stadt</b>"
    app = AtlasExplorer(atlas, lang="de")
    assert "<script>alert(1)" not in app._header.value and "<b>Stadt</b>" not in app._header.value
    assert "&lt;b&gt;Stadt&lt;/b&gt;" in app._header.value


def test_import_k360lib_does_not_load_widgets():
    code = "import sys, k360lib; print(any(m.startswith(('k360lib.widgets', 'ipywidgets', 'folium')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
