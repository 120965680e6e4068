"""Smoke test of the atlas app as users get it: ``k360 serve``'s Voilà command + Chromium.

Every test here also fails (see ``conftest.py``) if the page loads a script,
stylesheet, font, xhr/fetch or document from a non-local host, or throws an
uncaught error. A blocked basemap tile is tolerated (the basemap is optional).
Each test runs once per UI language (``ui_lang``, see ``conftest.py``).
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.e2e

NOTEBOOK = "01_sozialraum_atlas.ipynb"
APP = ".k360-atlas-explorer"


def map_frame_selector() -> str:
    from k360lib.widgets.atlas_explorer import MAP_FRAME_ID

    return f"iframe#{MAP_FRAME_ID}"


@pytest.fixture(scope="module")
def demo():
    from k360lib.atlas.demo import demo_atlas

    return demo_atlas()


@pytest.fixture(scope="module")
def atlas_server(voila, app_notebook, ui_lang):
    return voila(app_notebook(NOTEBOOK), lang=ui_lang)


def map_state(page, timeout: float = 60.0) -> dict:
    """Wait for the map iframe and its polygons; return what the map shows."""
    selector = map_frame_selector()
    deadline = time.monotonic() + timeout
    last = "no map iframe"
    while time.monotonic() < deadline:
        element = page.query_selector(selector)
        frame = element.content_frame() if element else None
        if frame is not None:
            try:
                state = frame.evaluate(
                    """() => {
                        const paths = [...document.querySelectorAll('path.k360-area')];
                        const legend = document.getElementById('k360-legend');
                        const box = legend ? legend.getBoundingClientRect() : null;
                        return {
                            // the map's script marks the state it shows on <body>
                            indicator: document.body ? document.body.getAttribute('data-k360-indicator') : null,
                            fills: paths.map(p => p.getAttribute('fill')),
                            legend: legend ? legend.innerText : null,
                            legendVisible: !!box && box.width > 0 && box.height > 0
                                && getComputedStyle(legend).visibility !== 'hidden',
                        };
                    }"""
                )
            except Exception as exc:  # noqa: BLE001 - the frame was replaced while we read it
                last = f"frame not readable: {exc}"
            else:
                if state["fills"]:
                    # older maps were re-rendered per indicator and marked the <iframe> instead
                    state["indicator"] = state["indicator"] or element.get_attribute(
                        "data-k360-indicator"
                    )
                    return state
                last = "iframe has no path.k360-area yet"
        time.sleep(0.25)
    raise AssertionError(f"the map did not render within {timeout:.0f} s: {last}")


def test_atlas_renders_map_legend_and_title(e2e_page, atlas_server, demo, ui_lang):
    from k360lib.i18n import t

    page = e2e_page.open(atlas_server, ready=APP)

    title = page.inner_text(f"{APP} h2.k360-title")
    assert title == t("widgets.atlas.title", ui_lang, city=demo.name)

    state = map_state(page)
    assert len(state["fills"]) == len(demo.areas), "one polygon per demo area"
    assert all(state["fills"]), "every area has a fill"
    assert state["legendVisible"], "the legend is visible"
    assert state["legend"].strip()
    assert state["indicator"] in demo.indicator_ids


def test_changing_the_indicator_recolours_the_map(e2e_page, atlas_server, demo):
    page = e2e_page.open(atlas_server, ready=APP)
    before = map_state(page)
    # the indicator picker: a dedicated hook if the app has one, else the app's first <select>
    hooked = page.locator(f"{APP} .k360-indicator select")
    dropdown = hooked.first if hooked.count() else page.locator(f"{APP} select").first
    options = dropdown.locator("option").all_inner_texts()
    current = dropdown.evaluate("s => s.selectedIndex")
    assert len(options) > 1

    tried = []
    # switch to other indicators (document order) until one colours the areas differently;
    # the first switch normally does, but two indicators may share a class pattern
    for index in [i for i in range(len(options)) if i != current][:5]:
        dropdown.select_option(index=index)
        deadline = time.monotonic() + 60
        while True:
            after = map_state(page)
            if after["indicator"] != before["indicator"] or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert after["indicator"] != before["indicator"], (
            f"the map did not change after choosing {options[index]!r}"
        )
        assert len(after["fills"]) == len(demo.areas)
        assert after["legendVisible"]
        assert after["legend"] != before["legend"], "the legend follows the indicator"
        tried.append(options[index])
        if after["fills"] != before["fills"]:
            return
    pytest.fail(f"the fills never changed when switching to {tried}")
