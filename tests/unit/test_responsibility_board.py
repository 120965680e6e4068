"""The Zuständigkeiten board (k360lib.widgets.responsibility_board) without a browser."""

from __future__ import annotations

import base64
import datetime
import html
import io
import re

import ipywidgets as W
import pytest
from openpyxl import load_workbook

from k360lib.i18n import t
from k360lib.responsibility import Actor, Catalog, Service, from_xlsx, to_csv, to_xlsx
from k360lib.widgets.responsibility_board import MAP_FRAME_ID, TAB_KEYS, ResponsibilityBoard


@pytest.fixture(scope="module")
def demo_atlas():
    from k360lib.atlas.demo import demo_atlas

    return demo_atlas()


@pytest.fixture()
def app(demo_atlas):
    return ResponsibilityBoard(atlas=demo_atlas, lang="de", page_size=8)


NOW = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def cell(app, service, actor):
    """The grid button of (service, actor); turns to the page that shows the service."""
    if service not in app._page_services:
        while app._page > 0:
            app._prev.click()
        while service not in app._page_services:
            assert not app._next.disabled, f"{service} is not in the filtered grid"
            app._next.click()
    i = app._page_services.index(service)
    j = app.catalog.actor_ids.index(actor)
    return app._rows[i].cells[j]


def row_status(app, service):
    cell(app, service, app.catalog.actor_ids[0])  # turn to its page
    i = app._page_services.index(service)
    return re.search(r'data-status="(\w+)"', app._rows[i].label.value).group(1)


def upload(widget, name, data):
    widget.value = (
        {
            "name": name,
            "type": "",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": NOW,
        },
    )


def links(app):
    return dict(
        re.findall(
            r'class="k360-download (k360-download-\w+)"[^>]*href="data:[^;]+;base64,([^"]+)"',
            app._links.value,
        )
    )


def test_container_and_tabs(app):
    assert isinstance(app.container, W.VBox)
    assert {"k360-app", "k360-responsibility-board"} <= set(app.container._dom_classes)
    assert app._tab.titles == tuple(t(f"resp.ui.tab.{k}", "de") for k in TAB_KEYS)
    assert "Zuständigkeiten für Familien" in app._header.value
    # never an Output widget (Voilà can hang on large outputs)
    assert not any(isinstance(w, W.Output) for w in walk(app.container))
    # first page: page_size rows, every actor column + the label column
    n_actors = len(app.catalog.actors)
    assert len(app._grid.children) == (1 + n_actors) * (1 + app.page_size)
    summary = app._summary.value
    assert 'data-gaps="1"' in summary and "1 Lücken" in summary


def test_setting_a_role_in_the_grid_closes_the_gap(app):
    assert row_status(app, "babylotsen") == "gap"
    assert 'data-service="babylotsen"' in app._issues.value
    button = cell(app, "babylotsen", "freie_traeger")
    assert "k360-role-none" in button._dom_classes and "k360-svc-babylotsen" in button._dom_classes
    app._brush.value = "R"
    button.click()
    assert app.matrix.get("babylotsen", "freie_traeger") == "R"
    assert button.description == "R" and "k360-role-R" in button._dom_classes
    assert row_status(app, "babylotsen") == "ok"
    assert 'data-gaps="0"' in app._summary.value
    assert 'data-service="babylotsen"' not in app._issues.value
    # the "–" brush removes the role again: the gap is back
    app._brush.value = ""
    button.click()
    assert (
        app.matrix.get("babylotsen", "freie_traeger") is None
        and row_status(app, "babylotsen") == "gap"
    )


def test_several_accountable_cells_are_marked(app):
    app._brush.value = "A"
    cell(app, "babylotsen", "jugendamt").click()
    assert row_status(app, "babylotsen") == "gap"  # still no R: the gap wins the badge
    app._brush.value = "R"
    cell(app, "babylotsen", "freie_traeger").click()
    assert row_status(app, "babylotsen") == "overlap"
    assert "k360-cell-conflict" in cell(app, "babylotsen", "jugendamt")._dom_classes
    assert "k360-cell-conflict" in cell(app, "babylotsen", "fruehe_hilfen_koord")._dom_classes
    assert "k360-cell-conflict" not in cell(app, "babylotsen", "freie_traeger")._dom_classes


def test_dropdown_editor_sets_a_role(app):
    app._e_service.value = "uebergang_kita_schule"
    app._e_actor.value = "schulamt"
    assert app._e_role.value == "C"  # shows the current role
    app._e_role.value = "A"
    app._e_set.click()
    assert app.matrix.get("uebergang_kita_schule", "schulamt") == "A"
    assert "uebergang_kita_schule" not in {i.service for i in app.report.errors}


def test_filters(app):
    app._f_phase.value = "transition"
    assert app._page_services == app.catalog.filter_services(phase="transition")[: app.page_size]
    app._f_sector.value = "federal_agency"
    n_fed = len(app.catalog.actors_in_sector("federal_agency"))
    assert app._grid.layout.grid_template_columns == f"330px repeat({n_fed}, 38px)"
    app._f_phase.value = ""
    app._f_sector.value = ""
    app._f_actor.value = "familienkasse"
    assert set(app._page_services) == {"kindergeld", "kinderzuschlag", "wohngeld"}
    app._f_actor.value = ""
    app._f_issues.value = True
    assert app._page_services == [
        "babylotsen",
        "uebergang_kita_schule",
        "ganztag",
        "jugendberufsagentur",
    ]
    app._f_target.value = "disability"
    app._f_issues.value = False
    assert all("disability" in app.catalog.service(s).target_groups for s in app._visible_services)


def test_paging(app):
    first = list(app._page_services)
    app._next.click()
    assert app._page_services[0] == app.catalog.service_ids[app.page_size]
    assert "Seite 2 von" in app._page_info.value
    app._prev.click()
    assert app._page_services == first and app._prev.disabled


def test_area_override(app):
    app._area_dd.value = "SR03"
    assert app.area == "SR03"
    app._brush.value = ""
    cell(app, "kita_ue3", "kitas").click()
    assert app.matrix.get("kita_ue3", "kitas") == "R"  # city-wide unchanged
    assert app.matrix.get("kita_ue3", "kitas", "SR03") is None
    assert "kita_ue3" in app.report.gap_services and app.report.area == "SR03"
    assert "k360-cell-override" in cell(app, "kita_ue3", "kitas")._dom_classes
    assert "Sozialraum SR03" in app._summary.value
    app._area_dd.value = ""
    assert "kita_ue3" not in app.report.gap_services


def test_invalid_upload_keeps_the_matrix_and_names_the_cell(app):
    app._brush.value = "R"
    cell(app, "babylotsen", "freie_traeger").click()
    before = app.matrix.copy()
    wb = load_workbook(io.BytesIO(to_xlsx(app.catalog.default_matrix(), "de")))
    wb["Matrix"]["D7"] = "X"
    wb["Matrix"]["E1"] = "unbekannt"
    buf = io.BytesIO()
    wb.save(buf)
    upload(app._upload, "kaputt.xlsx", buf.getvalue())
    assert app.matrix == before  # nothing lost
    status = html.unescape(app._status.value)
    assert "Blatt Matrix, Zelle D7" in status and "Blatt Matrix, Zelle E1" in status
    assert "k360-msg-error" in status and "Traceback" not in status
    assert app._upload.value == ()  # ready for the next file
    upload(app._upload, "notes.txt", b"hello")
    assert app.matrix == before and "k360-msg-error" in app._status.value


def test_valid_upload_replaces_the_matrix(app):
    other = app.catalog.default_matrix()
    other.set("kindergeld", "jugendamt", "I")
    upload(app._upload, "neu.csv", to_csv(other).encode("utf-8"))
    assert app.matrix == other
    assert "1 Änderungen" in app._status.value and "k360-msg-ok" in app._status.value


def test_export_links_round_trip(app):
    app._brush.value = "C"
    cell(app, "kindergeld", "jobcenter").click()
    app._export.click()
    found = links(app)
    assert set(found) == {
        "k360-download-xlsx",
        "k360-download-template",
        "k360-download-json",
        "k360-download-csv",
    }
    back = from_xlsx(base64.b64decode(found["k360-download-xlsx"]), app.catalog)
    assert back == app.matrix
    template = from_xlsx(base64.b64decode(found["k360-download-template"]), app.catalog)
    assert template.is_empty()
    assert 'download="zustaendigkeiten.xlsx"' in app._links.value
    # an edit makes the links stale: they disappear
    cell(app, "kindergeld", "jobcenter").click()
    assert app._links.value == ""


def test_reset_and_clear(app):
    app._clear.click()
    assert app.matrix.is_empty() and app.report.counts()["gaps"] == len(app.catalog.services)
    app._reset_default.click()
    assert app.matrix == app.catalog.default_matrix()


def test_chain_and_network_views(app):
    app._tab.selected_index = TAB_KEYS.index("chain")
    assert 'class="k360-chain-svg"' in app._chain.value
    assert "data:image/svg+xml;base64," in app._chain.value
    assert app._chain_table.value.count("<tr data-from=") == 6
    app._c_target.value = "young_adults"
    assert app._chain.value.count('class="k360-chain-gap"') == 7
    app._tab.selected_index = TAB_KEYS.index("network")
    assert 'class="k360-network-svg"' in app._network.value
    app._n_focus.value = "jobcenter"
    assert "Schnittstellen von Jobcenter" in app._network_table.value
    assert 'data-partner="sozialamt"' in app._network_table.value
    app._n_layout.value = "force"
    assert 'class="k360-network-svg"' in app._network.value


def test_views_follow_edits(app):
    app._tab.selected_index = TAB_KEYS.index("chain")
    before = app._chain.value
    app._tab.selected_index = 0
    app._brush.value = "R"
    cell(app, "babylotsen", "freie_traeger").click()
    app._tab.selected_index = TAB_KEYS.index("chain")
    assert app._chain.value != before


def test_perspectives_upload_two_files(app):
    cat = app.catalog
    a = cat.default_matrix("Jugendamt")
    b = cat.default_matrix("Freie Träger")
    b.set("kindergeld", "familienkasse", None)
    b.set("kindergeld", "jugendamt", "AR")
    b.set("jugendarbeit", "schulen", "R")
    files = [("ja.xlsx", to_xlsx(a)), ("ft.xlsx", to_xlsx(b))]
    app._p_upload.value = tuple(
        {"name": n, "type": "", "size": len(d), "content": memoryview(d), "last_modified": NOW}
        for n, d in files
    )
    assert list(app.perspectives) == ["Jugendamt", "Freie Träger"]
    result = app._p_result.value
    rows = re.findall(r'data-rank="(\d+)" data-service="([^"]+)" data-actor="([^"]+)"', result)
    assert rows[:2] == [("1", "kindergeld", "jugendamt"), ("2", "kindergeld", "familienkasse")]
    assert ("3", "jugendarbeit", "schulen") in rows
    assert 'class="k360-table k360-acc-conflicts"' in result and "Kindergeld" in result
    assert "k360-download-comparison" in result
    # a broken third file is reported, the others stay
    bad = b"service;actor\n"
    app._p_upload.value = (
        {
            "name": "bad.csv",
            "type": "",
            "size": len(bad),
            "content": memoryview(bad),
            "last_modified": NOW,
        },
    )
    assert len(app.perspectives) == 2 and "k360-msg-error" in app._p_status.value
    app._p_remove_dd.value = "Jugendamt"
    app._p_remove.click()
    assert list(app.perspectives) == ["Freie Träger"]
    assert "mindestens zwei" in app._p_result.value


def test_add_current_matrix_as_perspective(app):
    app._p_name.value = "Politik"
    app._p_add.click()
    app._p_add.click()  # unnamed second time: default name, made unique
    assert list(app.perspectives)[0] == "Politik" and len(app.perspectives) == 2
    assert "Alle Perspektiven stimmen überein" in app._p_result.value
    app._p_clear.click()
    assert app.perspectives == {}


def test_map_view(app):
    app._tab.selected_index = TAB_KEYS.index("map")
    value = app._map.value
    assert value.startswith("<iframe") and f'id="{MAP_FRAME_ID}"' in value
    doc = html.unescape(re.search(r'srcdoc="([^"]*)"', value).group(1))
    assert doc.count('"type":"Feature"') == len(app.atlas.areas)
    assert "k360-legend" in doc
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', doc)
    counts = app.coverage.counts(app._m_service.value)
    assert f'data-none="{counts["none"]}"' in app._map_info.value
    app._m_service.value = "kita_ue3"
    assert 'data-k360-service="kita_ue3"' in html.unescape(app._map.value)
    app._m_near.value = 2000.0
    assert app.coverage.near_m == 2000.0


def test_english_ui(demo_atlas):
    app = ResponsibilityBoard(atlas=demo_atlas, lang="en")
    assert "Responsibilities for families" in app._header.value
    assert app._tab.titles[1] == "Prevention chain"
    assert "1 gaps" in app._summary.value
    assert "Child benefit" in " ".join(o[0] for o in app._e_service.options)


def test_without_atlas_the_map_says_why(monkeypatch):
    monkeypatch.setenv("K360_LANG", "en")
    app = ResponsibilityBoard()
    assert app.lang == "en" and app._area_dd.disabled
    app._tab.selected_index = TAB_KEYS.index("map")
    assert "no map" in app._map_info.value


def test_hostile_names_are_escaped():
    evil = "<img src=x onerror=alert(1)>"
    cat = Catalog(
        (Service("s1", evil, evil, evil, phases=("0-3",), description_de=evil),),
        (Actor("a1", evil, evil, short_de=evil, sector="politics"),),
    )
    app = ResponsibilityBoard(catalog=cat, lang="de")
    app._brush.value = "AR"
    app._rows[0].cells[0].click()
    for value in (app._rows[0].label.value, app._col_heads[0].value, app._issues.value):
        assert evil not in value
    app._tab.selected_index = TAB_KEYS.index("chain")
    assert evil not in app._chain.value
    app._tab.selected_index = TAB_KEYS.index("network")
    assert evil not in app._network.value


def test_unexpected_errors_become_messages(app, monkeypatch):
    def boom(*_args, **_kw):
        raise RuntimeError("kaputt")

    monkeypatch.setattr(app.matrix, "set", boom)
    cell(app, "babylotsen", "freie_traeger").click()
    assert "Unerwarteter Fehler" in app._status.value and "kaputt" in app._status.value
