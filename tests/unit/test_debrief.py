"""The Planspiel debrief: figures from the state, network from co-funding, offline HTML, XLSX."""

from __future__ import annotations

import io
import math
import re
from dataclasses import replace

import pytest

from k360lib.game import Game, fold, play_game
from k360lib.game import commands as C
from k360lib.report.debrief import NEED, Debrief, debrief, effective_events, sanitize_cell

XSS_NOTE = "<script>alert('note')</script> & <b>fett</b>"
XSS_PROPOSAL = '<img src=x onerror=alert(1)> "Antrag"'
FORMULA = '=HYPERLINK("http://evil.example","klick")'


def xss_events(seed: int = 3):
    """A finished kurz game whose first note and first proposal note carry markup."""
    events = play_game("kurz", "cooperative", seed=seed, notes=True).events
    out, note_done, prop_done, formula_done = [], False, False, False
    for e in events:
        if e.type == "note_added" and not note_done:
            e = replace(e, payload={**e.payload, "text": XSS_NOTE})
            note_done = True
        elif e.type == "note_added" and not formula_done:
            e = replace(e, payload={**e.payload, "text": FORMULA})
            formula_done = True
        elif e.type == "proposal_made" and not prop_done:
            e = replace(e, payload={**e.payload, "note": XSS_PROPOSAL})
            prop_done = True
        out.append(e)
    assert note_done and prop_done and formula_done
    return out


@pytest.fixture(scope="module")
def game():
    return play_game("kurz", "cooperative", seed=3)


@pytest.fixture(scope="module")
def d(game) -> Debrief:
    return debrief(game)


@pytest.fixture(scope="module")
def xss() -> Debrief:
    return debrief(fold(xss_events()))


# ---------------------------------------------------------------------------------------------
# figures match the state
# ---------------------------------------------------------------------------------------------
def test_trajectories_are_the_states_history(game, d):
    s = game.state
    assert d.rounds == [0, 1, 2]
    w = s.world
    j = w.indicator_index("sgb2_u15_rate")
    for i, h in enumerate(s.history):
        for a, area in enumerate(w.area_ids):
            v = h["values"][a][j]
            got = d.value(i, area, "sgb2_u15_rate")
            assert (got is None and v is None) or got == pytest.approx(v)
            assert d.value(i, area, NEED) == pytest.approx(h["need"][a])
    # the mean over areas is the plain mean of the areas with a value
    vals = [h for h in (s.history[-1]["values"][a][j] for a in range(w.n_areas)) if h is not None]
    assert d.trajectory("sgb2_u15_rate")[-1] == (2, pytest.approx(sum(vals) / len(vals)))
    assert d.series("shared_score") == [
        (int(h["round"]), pytest.approx(h["shared_score"])) for h in s.history
    ]
    rows = d.trajectories()
    assert len(rows) == len(s.history) * w.n_areas * (len(w.indicators) + 1)


def test_before_after_compares_base_year_and_last_round(game, d):
    s = game.state
    rows = {r["area_id"]: r for r in d.before_after(NEED)}
    for a, area in enumerate(s.world.area_ids):
        assert rows[area]["before"] == pytest.approx(s.history[0]["need"][a])
        assert rows[area]["after"] == pytest.approx(s.history[-1]["need"][a])
        assert rows[area]["measures"] == sum(1 for m in s.measures.values() if m.area == area)
    # need index: lower is better, so better = -(after - before)
    r = max(rows.values(), key=lambda r: r["measures"])
    assert r["better"] == pytest.approx(-(r["after"] - r["before"]))
    assert r["better"] > 0, "the area with the most measures improved"


def test_decision_log_per_role_lists_the_roles_events(game, d):
    s = game.state
    for role in s.roles:
        mine = [e for e in s.events if e.role == role and e.type != "note_added"]
        log = d.decisions(role)
        assert [x.version for x in log] == [e.version for e in mine]
        assert all(x.role == role for x in log)
    made = [x for x in d.decisions() if x.type == "proposal_made"]
    assert len(made) == len(s.proposals)
    first = made[0]
    assert first.round == 1 and first.phase == "planung"
    text = d.describe(first, "de")
    assert first.payload["proposal"] in text and d.area_label(first.payload["area"]) in text
    assert d.outcome(first, "en").startswith("approved")
    votes = [x for x in d.decisions() if x.type == "votes_cast"]
    assert votes and all(x.phase == "beschluss" for x in votes)
    assert {x.round for x in votes} == {1, 2}


def test_undone_decisions_are_marked_and_phases_follow_the_undo():
    g = Game.create("kurz", seed=1, game_id="undo-test")
    g.submit(C.draw_card())
    g.submit(C.advance())
    g.submit(C.propose("familienzentrum", "SR15"), role="jugendamt")
    g.submit(C.undo())
    g.submit(C.propose("familienzentrum", "SR16"), role="jugendamt")
    d = debrief(g, geometry=False)
    log = d.decisions("jugendamt")
    assert [x.undone for x in log] == [True, False]
    assert log[1].payload["area"] == "SR16"
    assert all(x.phase == "planung" and x.round == 1 for x in log)
    assert len(d.decisions("jugendamt", include_undone=False)) == 1
    assert [u for _, u, _, _ in effective_events(g.state)].count(True) == 1
    html = d.to_html(lang="en")
    assert "k360-undone" in html and "undone by the facilitator" in html


def test_network_edges_come_from_co_funding(game, d):
    s = game.state
    net = d.network()
    assert set(s.roles) <= set(net.nodes)
    # recompute independently: every pair among lead, partners and funders of a started measure
    expected: dict[frozenset, float] = {}
    for m in s.measures.values():
        meas = s.rules.measures[m.measure]
        vol = meas.invest + meas.cost
        people = {m.lead, *m.partners, *m.funders}
        for a in people:
            for b in people:
                if a < b:
                    key = frozenset((a, b))
                    money = (m.funders.get(a, 0) + m.funders.get(b, 0)) * vol
                    expected[key] = expected.get(key, 0.0) + money
    assert {frozenset((e.source, e.target)) for e in net.edges} == set(expected)
    for e in net.edges:
        assert e.amount == pytest.approx(expected[frozenset((e.source, e.target))])
    # a measure both co-funded (P2: jugendamt 88.8 %, politik 11.2 %) counts as co-funded
    p2 = s.measures["P2"]
    assert set(p2.funders) == {"jugendamt", "politik"}
    edge = net.edge("politik", "jugendamt")
    assert edge is not None and "P2" in edge.measures and edge.cofunded >= 1
    assert net.edges == sorted(net.edges, key=lambda e: (-e.amount, e.source, e.target))
    # money per funder = shares × first-year volume
    total = sum(
        sh * (s.rules.measures[m.measure].invest + s.rules.measures[m.measure].cost)
        for m in s.measures.values()
        for f, sh in m.funders.items()
        if f == "jugendamt"
    )
    assert net.funded["jugendamt"] == pytest.approx(total)


def test_goals_and_shared_outcome(game, d):
    s = game.state
    last = s.history[-1]["roles"]
    for g in d.goals():
        assert g["progress"] == pytest.approx(last[g["role"]]["goal_progress"])
        assert g["achieved"] == last[g["role"]]["goal_achieved"]
        assert [r for r, _ in g["by_round"]] == [0, 1, 2]
    svg = d.goals_svg("de")
    assert svg.count('class="k360-bar"') == len(s.roles)


def test_reflection_stages_follow_the_classic_structure(d):
    stages = d.stages("de")
    assert [s["id"] for s in stages] == ["feelings", "happened", "analysis", "transfer"]
    # the kurz scenario's two prompts: "Was ist passiert? …" and "Transfer: …"
    assert d.stage_of_prompt(0) == "happened"
    assert d.stage_of_prompt(1) == "transfer"
    assert stages[1]["scenario_prompts"] and stages[3]["scenario_prompts"]
    assert all(s["prompts"] for s in stages)
    assert any("Punkte" in f for f in stages[1]["facts"])
    en = d.stages("en")
    assert en[0]["title"] == "Feelings" and en[3]["title"] == "Transfer to our city"


def test_notes_are_read_with_their_stage(xss):
    notes = xss.notes()
    assert notes[0]["text"] == XSS_NOTE
    assert notes[0]["stage"] == xss.stage_of_prompt(notes[0]["prompt"])


# ---------------------------------------------------------------------------------------------
# HTML report
# ---------------------------------------------------------------------------------------------
_URL_ATTR = re.compile(
    r"""\b(?:src|href|xlink:href|action|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I
)


def test_report_has_no_external_urls_and_no_script(xss, tmp_path):
    html = xss.to_html(tmp_path / "report.html", lang="de")
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == html
    assert not _URL_ATTR.findall(html)
    assert "url(http" not in html and "@import" not in html
    assert "<script" not in html.lower().replace("&lt;script", "")
    assert "<link" not in html.lower()
    # the check itself can fail
    assert _URL_ATTR.findall('<img src="https://cdn.example/x.png">')
    assert _URL_ATTR.findall("<a href='//cdn.example'>")


def test_report_escapes_player_text(xss):
    html = xss.to_html(lang="en")
    assert (
        "&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt; &amp; &lt;b&gt;fett&lt;/b&gt;" in html
    )
    assert "&lt;img src=x onerror=alert(1)&gt; &#34;Antrag&#34;" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "<b>fett</b>" not in html


def test_report_contains_maps_charts_and_all_sections(d):
    html = d.to_html(lang="de")
    n_areas = d.world.n_areas
    n_maps = 3 + len(d.world.indicators)
    assert html.count('class="k360-area"') == n_areas * n_maps
    assert html.count('class="k360-map"') == n_maps
    assert 'data-which="before"' in html and 'data-which="after"' in html
    # one chart per indicator, four shared outcomes, the score again next to the goals
    assert html.count('class="k360-chart"') == len(d.indicators) + 4 + 1
    assert 'class="k360-network"' in html and html.count('class="k360-net-node"') >= 3
    for sid in ("summary", "trajectories", "maps", "decisions", "network", "goals", "reflection"):
        assert f'id="{sid}"' in html
    assert 'data-stage="transfer"' in html
    # real outlines of the demo city, not the schematic grid
    assert not d.shapes.schematic
    assert "Wiesenfurt" in html


def test_maps_without_geometry_fall_back_to_a_schematic_grid(game):
    d = debrief(game, geometry=False)
    assert d.shapes.schematic
    html = d.to_html(lang="en")
    assert "schematically" in html
    assert html.count('class="k360-area"') == d.world.n_areas * (3 + len(d.world.indicators))


def test_area_names_are_escaped_in_svg(game):
    rings = {a: [[[(0, 0), (1, 0), (1, 1), (0, 0)]]] for a in game.state.world.area_ids}
    d = debrief(game, geometry=rings)
    d.world.names[0] = "<svg onload=alert(1)>"
    try:
        maps = d.maps(NEED, "de")
        assert "<svg onload" not in maps["before"]
        assert "&lt;svg onload=alert(1)&gt;" in maps["before"]
    finally:
        d.world.names[0] = game.state.world.names[0]


def test_report_in_english_uses_english_texts(d):
    html = d.to_html(lang="en")
    assert '<html lang="en">' in html and "Who funded with whom?" in html
    assert "Wer hat mit wem" not in html


# ---------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------
def test_xlsx_sheets_are_readable_and_match_the_debrief(xss, tmp_path):
    from openpyxl import load_workbook

    data = xss.to_xlsx(tmp_path / "debrief.xlsx", lang="de")
    assert (tmp_path / "debrief.xlsx").read_bytes() == data
    wb = load_workbook(io.BytesIO(data))
    for name in ("Verläufe", "Entscheidungen", "Netzwerk", "Notizen", "Ziele", "Reflexion"):
        assert name in wb.sheetnames
    traj = list(wb["Verläufe"].values)
    assert len(traj) - 1 == len(xss.trajectories())
    net = list(wb["Netzwerk"].values)
    assert len(net) - 1 == len(xss.network().edges)
    first = xss.network().edges[0]
    assert net[1][0] == first.source and net[1][4] == pytest.approx(first.amount)
    decisions = list(wb["Entscheidungen"].values)
    assert len(decisions) - 1 == len(xss.decisions())
    notes = [r[5] for r in list(wb["Notizen"].values)[1:]]
    assert XSS_NOTE in notes
    # a note that looks like a formula stays text: no formula cell in the whole workbook
    assert FORMULA in notes
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)


def test_xlsx_in_english_has_english_sheet_names(d):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(d.to_xlsx(lang="en")))
    assert {"Trajectories", "Decisions", "Network", "Notes"} <= set(wb.sheetnames)


@pytest.mark.parametrize(
    ("value", "as_text"),
    [
        ("=1+1", True),
        ("+49 170", True),
        ("-x", True),
        ("@SUM(A1)", True),
        ("Text", False),
        ("-", False),
        (3, False),
    ],
)
def test_sanitize_cell(value, as_text):
    assert sanitize_cell(value) == (value, as_text)


def test_sanitize_cell_drops_nan():
    assert sanitize_cell(math.nan) == (None, False)


def test_debrief_refuses_what_is_not_a_game():
    with pytest.raises(TypeError, match="Game, GameSession, GameState"):
        debrief("not a game")


# ---------------------------------------------------------------------------------------------
# the app (ipywidgets, no browser)
# ---------------------------------------------------------------------------------------------
GAME_CODE, FAC_CODE, SEAT_CODE = "DBF234", "FACE2345KMNP", "SEAT2345"


def store_with_game(path, events, game_code=GAME_CODE):
    """Write a played game into a real SQLite store, as a networked game would be."""
    from k360lib.game.store import CodeRow, open_store

    store = open_store(path)
    store.create_game(
        events[0],
        game_code,
        [CodeRow(FAC_CODE, "facilitator"), CodeRow(SEAT_CODE, "seat", "jugendamt")],
    )
    for e in events[1:]:
        store.append(e.game_id, e, e.version - 1)
    return store


def _texts(widget) -> str:
    import ipywidgets as W

    out = []
    stack = [widget]
    while stack:
        w = stack.pop()
        if isinstance(w, W.HTML):
            out.append(w.value)
        stack.extend(getattr(w, "children", ()))
    return "\n".join(out)


def test_app_opens_a_game_from_the_query_string(tmp_path):
    from k360lib.widgets.debrief import TABS, DebriefApp

    events = xss_events()
    store = store_with_game(tmp_path / "games.sqlite3", events)
    try:
        app = DebriefApp("de", store=store, query=f"game={GAME_CODE}&code={FAC_CODE}")
        assert app.debrief is not None and app.debrief.state.version == events[-1].version
        assert len(app._tab.children) == len(TABS) and app._tab.titles[0] == "Überblick"
        text = _texts(app.container)
        assert "&lt;script&gt;alert(&#39;note&#39;)" in text and "<script>alert" not in text
        # switching indicator, area and role redraws from the library
        app._ind.value = "sgb2_u15_rate"
        assert 'data-indicator="sgb2_u15_rate"' in app._chart.value
        app._area.value = "SR15"
        assert app.debrief.area_label("SR15") in app._chart.value
        app._map_ind.value = "language_support"
        assert app._maps.value.count('class="k360-area"') == 3 * app.debrief.world.n_areas
        app._role.value = "politik"
        assert 'data-role="politik"' in app._html["decisions"].value
        assert 'data-role="jugendamt"' not in app._html["decisions"].value
        # exports are download links (data: URIs)
        app._on_make_html()
        app._on_make_xlsx()
        assert 'class="k360-download k360-download-html"' in app._links.value
        assert f'download="auswertung_{GAME_CODE}.xlsx"' in app._links.value
        assert "k360-msg-error" not in app._msg.value
    finally:
        store.close()


def _widgets(widget) -> list:
    """Every widget shown under ``widget`` (what the page's widget state holds)."""
    out, stack = [], [widget]
    while stack:
        w = stack.pop()
        out.append(w)
        stack.extend(getattr(w, "children", ()))
    return out


def test_app_hides_the_finished_games_by_default_and_opens_only_by_code(tmp_path):
    from k360lib.game.session import create_game
    from k360lib.widgets.debrief import DebriefApp

    store = store_with_game(
        tmp_path / "games.sqlite3", play_game("kurz", "cooperative", seed=3).events
    )
    try:
        create_game(store, "kurz", seed=1)
        app = DebriefApp("en", store=store, query="")
        assert app.debrief is None
        shown = _widgets(app.container)
        assert app._list not in shown and app._list_btn not in shown
        assert app._refresh_btn not in shown
        # nothing of the store's games reaches the page, not even in a hidden widget
        assert list(app._list.options) == []
        assert GAME_CODE not in _texts(app.container) and "sim-3" not in _texts(app.container)
        app._on_open_list()  # no list: nothing opens without a code
        assert app.debrief is None
        assert app.relaunch_kwargs()["list_games"] is False
        app.open_code(GAME_CODE, "WRONG-CODE")
        assert app.debrief is None and "k360-msg-error" in app._msg.value
        app.open_code(GAME_CODE.lower(), SEAT_CODE)  # a role's code opens the debrief too
        assert app.debrief is not None and app.debrief.state.game_id == "sim-3"
        # the typed codes work through the form as well
        app2 = DebriefApp("en", store=store, query="")
        app2._game_code.value, app2._code_in.value = GAME_CODE, FAC_CODE
        app2._open_btn.click()
        assert app2.debrief is not None and app2.debrief.state.game_id == "sim-3"
    finally:
        store.close()


def test_app_lists_finished_games_with_list_games(tmp_path):
    from k360lib.game.session import create_game
    from k360lib.widgets.debrief import DebriefApp

    store = store_with_game(
        tmp_path / "games.sqlite3", play_game("kurz", "cooperative", seed=3).events
    )
    try:
        create_game(store, "kurz", seed=1)  # a running game: not in the list
        app = DebriefApp("en", store=store, query="", list_games=True)
        assert app.debrief is None
        assert app._list in _widgets(app.container)
        assert [v for _, v in app._list.options] == ["sim-3"]
        app._on_open_list()
        assert app.debrief is not None and app.debrief.state.game_id == "sim-3"
        # the language switch keeps the list
        assert app.relaunch_kwargs()["list_games"] is True
    finally:
        store.close()


def test_app_with_an_empty_store_says_so(tmp_path):
    from k360lib.widgets.debrief import DebriefApp

    path = tmp_path / "empty.sqlite3"
    quiet = DebriefApp("de", store=str(path), query="")  # no list: the store is not even read
    assert quiet._msg.value == "" and not path.exists()
    quiet.close()
    app = DebriefApp("de", store=str(path), query="", list_games=True)
    assert "noch kein beendetes Spiel" in app._msg.value
    assert app._list_btn.disabled
    app.close()


def test_template_keys_exist_in_the_catalog():
    from pathlib import Path

    from k360lib.i18n import catalog

    text = (
        Path(__import__("k360lib").__file__).parent / "report/templates/auswertung.html.j2"
    ).read_text()
    keys = set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", text))
    assert len(keys) > 30
    assert sorted(k for k in keys if k not in catalog()) == []


def test_language_switch_keeps_the_game(tmp_path):
    from k360lib.i18n import set_lang
    from k360lib.widgets import AppShell, DebriefApp

    path = tmp_path / "games.sqlite3"
    store_with_game(path, play_game("kurz", "cooperative", seed=3).events).close()
    try:
        shell = AppShell(
            DebriefApp, lang="de", store=str(path), query=f"game={GAME_CODE}&code={FAC_CODE}"
        )
        assert shell.app.debrief.state.game_id == "sim-3"
        shell.switch("en")
        assert shell.app.debrief.state.game_id == "sim-3"
        assert shell.app._tab.titles[1] == "Trajectories"
        assert GAME_CODE in shell.app._head.value
        shell.app.close()
    finally:
        set_lang(None)


def test_cli_report_writes_html_and_xlsx(tmp_path, capsys):
    from openpyxl import load_workbook

    from k360lib.cli import main

    path = tmp_path / "games.sqlite3"
    store_with_game(path, xss_events()).close()
    html, xlsx = tmp_path / "out" / "a.html", tmp_path / "out" / "a.xlsx"
    code = main(
        ["--lang", "en", "game", "report", GAME_CODE.lower(), "--store", str(path),
         "--html", str(html), "--xlsx", str(xlsx)]
    )  # fmt: skip
    assert code == 0
    text = html.read_text(encoding="utf-8")
    assert '<html lang="en">' in text and GAME_CODE in text
    assert "&lt;script&gt;" in text and "<script>" not in text
    assert "Notes" in load_workbook(xlsx).sheetnames
    assert str(html) in capsys.readouterr().out
    assert main(["game", "report", "NOPE99", "--store", str(path), "--html", str(html)]) != 0


def test_a_game_that_has_just_started_gives_a_report():
    g = Game.create("kurz", seed=1, game_id="fresh")
    d = debrief(g, geometry=False)
    assert d.rounds == [0] and d.decisions() == [] and d.network().edges == []
    html = d.to_html(lang="de")
    assert html.count('class="k360-map"') == 3 + len(d.world.indicators)
    from openpyxl import load_workbook

    assert "Verläufe" in load_workbook(io.BytesIO(d.to_xlsx(lang="de"))).sheetnames


def test_funding_programmes_are_network_nodes():
    g = play_game("default", "cooperative", seed=0, notes=True)
    progs = list(g.state.programmes)
    assert progs, "this game draws a funding programme"
    d = debrief(g, geometry=False)
    net = d.network()
    assert set(progs) <= set(net.nodes)
    funded = [m for m in g.state.measures.values() if set(m.funders) & set(progs)]
    if funded:
        p = progs[0]
        assert any(p in (e.source, e.target) for e in net.edges)
        assert net.funded[p] > 0
    assert d.role_label(progs[0], "de") != progs[0]


def _square_map_document(area_ids) -> str:
    """A live map document like the facilitator's app stores, with square areas in a row."""
    import json

    from shapely.geometry import box

    from k360lib.maps.geometry import build_topology

    geoms = [box(10 + 0.01 * i, 52.0, 10.009 + 0.01 * i, 52.009) for i in range(len(area_ids))]
    topo = build_topology(geoms)
    config = {"topo": {k: topo[k] for k in ("scale", "arcs", "areas")}, "ids": list(area_ids)}
    return f"<script>k360map.init(map_1, {json.dumps(config)});</script>"


def test_maps_use_the_outlines_stored_with_the_game(tmp_path):
    from k360lib.report.debrief import rings_from_map_document
    from k360lib.widgets.debrief import DebriefApp

    events = play_game("kurz", "cooperative", seed=3).events
    ids = fold(events).world.area_ids
    doc = _square_map_document(ids)
    rings = rings_from_map_document(doc)
    assert set(rings) == set(ids) and len(rings[ids[0]][0][0]) == 5  # closed square
    assert rings_from_map_document("<html>no map</html>") is None
    store = store_with_game(tmp_path / "games.sqlite3", events)
    try:
        if not hasattr(store, "put_artifacts"):
            pytest.skip("this store has no artifacts")
        store.put_artifacts(events[0].game_id, {"map/live/de.html": doc})
        app = DebriefApp("de", store=store, query=f"game={GAME_CODE}&code={FAC_CODE}")
        shapes = app.debrief.shapes
        assert not shapes.schematic
        # squares in one row: the drawing is a wide strip, not the demo city
        assert shapes.width > 10 * shapes.height
        assert shapes.paths[ids[0]].count("L") == 4
    finally:
        store.close()
