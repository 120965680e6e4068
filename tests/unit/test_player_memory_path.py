"""The player's light path: a stored scenario read without pydantic, and what a player kernel loads.

A player kernel folds the game from the store; the scenario in the first
event was validated when the game was created, so it is read with
:mod:`k360lib.game.stored_scenario` (no pydantic, no yaml). These tests check
that the light reading is exactly the validated scenario and that the folded
game is the same, and that the player's import and join path stays light.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys

import pytest

from k360lib.game import player_view as V
from k360lib.game import rules as R
from k360lib.game import scenario as S
from k360lib.game import state as ST
from k360lib.game.bots import play_game
from k360lib.game.events import Event
from k360lib.game.scenario import load_scenario
from k360lib.game.session import create_game, join
from k360lib.game.store import open_store
from k360lib.game.stored_scenario import MIRRORS, StoredScenario, stored_scenario

SCENARIOS = ["default", "kurz"]


def _same(light, model, path="scenario"):
    """Assert that a light record reads exactly like the pydantic model (values and types)."""
    if model is None or isinstance(model, (str, int, float, bool)):
        assert type(light) is type(model), f"{path}: {type(light)} vs {type(model)}"
        assert light == model, path
    elif isinstance(model, list):
        assert isinstance(light, list) and len(light) == len(model), path
        for i, (a, b) in enumerate(zip(light, model)):
            _same(a, b, f"{path}[{i}]")
    elif isinstance(model, dict):
        assert isinstance(light, dict) and list(light) == list(model), path
        for k in model:
            _same(light[k], model[k], f"{path}.{k}")
    else:  # a pydantic model
        mirrors = {**MIRRORS, StoredScenario: "Scenario"}
        assert mirrors[type(light)] == type(model).__name__, path
        assert set(light.FIELDS) == set(type(model).model_fields), path
        for name in type(model).model_fields:
            _same(getattr(light, name), getattr(model, name), f"{path}.{name}")


def _roundtrip(data: dict) -> dict:
    return json.loads(json.dumps(data))


def test_the_light_records_have_the_fields_of_the_models():
    for light, model_name in MIRRORS.items():
        model = getattr(S, model_name)
        assert set(light.FIELDS) == set(model.model_fields), model_name
    assert set(StoredScenario.FIELDS) == set(S.Scenario.model_fields)


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_stored_scenario_reads_exactly_like_the_validated_one(name):
    sc = load_scenario(name)
    light = stored_scenario(_roundtrip(sc.to_dict()))
    _same(light, sc)
    assert light.hash == sc.hash
    assert light.to_dict() == sc.to_dict()
    assert light.phase_ids == sc.phase_ids
    assert light.default_roles() == sc.default_roles()
    assert light.source is None
    for lang in ("de", "en"):
        assert light.title.get(lang) == sc.title.get(lang)
        for r in sc.roles:
            assert light.role(r.id).label(lang) == r.label(lang)
            assert light.role(r.id).card.logic.get(lang) == r.card.logic.get(lang)
        for m in sc.measures:
            assert light.measure(m.id).label(lang) == m.label(lang)
        for c in sc.cards:
            assert light.card(c.id).title.get(lang) == c.title.get(lang)
        assert R.explain(lang, light) == R.explain(lang, sc)
    with pytest.raises(KeyError, match="No role 'nobody'"):
        light.role("nobody")
    with pytest.raises(KeyError, match="No measure"):
        light.measure("nothing")
    with pytest.raises(TypeError, match="read-only"):
        light.rounds = 9
    with pytest.raises(TypeError, match="read-only"):
        light.roles[0].budget = 1.0
    with pytest.raises(AttributeError):
        light.no_such_field  # noqa: B018
    assert load_scenario(light) is light
    again = pickle.loads(pickle.dumps(light))
    assert again == light and again.hash == light.hash and again is not light
    _same(again, sc)
    assert copy.deepcopy(light) is light


@pytest.mark.parametrize(
    ("name", "bots", "seed"), [("default", "cooperative", 3), ("kurz", "random", 5)]
)
def test_a_game_folded_from_the_store_is_the_same_with_the_light_scenario(name, bots, seed):
    game = play_game(name, bots, seed=seed, notes=True)
    played = game.state
    assert isinstance(played.scenario, S.Scenario)  # the creating process keeps its own
    events = [Event.from_dict(_roundtrip(e.to_dict())) for e in played.events]
    # another process: nothing cached
    ST._SCENARIOS.clear()
    R._RULES.clear()
    folded = ST.fold(events)
    assert type(folded.scenario) is StoredScenario
    assert folded.to_dict() == played.to_dict()
    assert folded.history == played.history
    for role in played.roles:
        assert V.role_figures(folded, role) == V.role_figures(played, role)
        assert [m.id for m in V.proposable_measures(folded, role)] == [
            m.id for m in V.proposable_measures(played, role)
        ]
        assert R.goal_progress(folded, role) == R.goal_progress(played, role)
        for lang in ("de", "en"):
            assert V.role_label(folded, role, lang) == V.role_label(played, role, lang)
            assert V.map_items(folded, role, lang) == V.map_items(played, role, lang)
    assert V.consequences(folded) == V.consequences(played)


def test_the_player_path_loads_no_pydantic_yaml_or_numpy_random(tmp_path):
    path = tmp_path / "games.sqlite3"
    store = open_store(path)
    codes = create_game(store, "kurz", seed=7)
    boss = join(store, codes.game_code, codes.facilitator)
    from k360lib.game import commands as C

    boss.submit(C.draw_card())
    boss.submit(C.advance())  # planung: players may propose
    store.close()
    code = f"""
import json, sys
from k360lib.widgets import AppShell, PlayerApp
from k360lib.game.store import open_store
from k360lib.game import commands as C
from k360lib.game.player_view import proposable_measures, areas_by_need
shell = AppShell(PlayerApp, lang="de", query={codes.query("politik")!r},
                 store=open_store({str(path)!r}), poll=False)
panel = shell.app.panel
assert panel is not None and panel.map.has_map
s = panel.session
m = proposable_measures(s.state, s.role)[0]
area = next(a.area_id for a in areas_by_need(s.state) if a.eligible)
s.submit(C.propose(measure=m.id, area=area, shares={{s.role: 1.0}}))
panel.refresh()
assert s.state.proposals, "the proposal was not applied"
heavy = ("pydantic", "pydantic_core", "yaml", "numpy.random", "k360lib.game.scenario")
import k360lib.widgets.player as P
print(json.dumps([sorted(m for m in heavy if m in sys.modules), P._heap_tuned]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded, heap_tuned = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == []
    assert heap_tuned == _GLIBC  # the app fixed glibc's mmap threshold


_GLIBC = hasattr(os, "confstr") and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")


@pytest.mark.skipif(not _GLIBC, reason="glibc only")
def test_limit_heap_growth_sets_the_mmap_threshold_once():
    from k360lib.widgets.player import limit_heap_growth

    assert limit_heap_growth() is True
    assert limit_heap_growth() is True  # idempotent


@pytest.mark.skipif(not _GLIBC, reason="glibc only")
def test_the_player_app_gives_free_memory_back_on_its_first_poll(tmp_path):
    from k360lib.widgets.player import PlayerApp, release_free_memory

    assert release_free_memory() is True
    store = open_store(tmp_path / "games.sqlite3")
    codes = create_game(store, "kurz", seed=7, map_layers=False)
    app = PlayerApp(lang="en", query=codes.query("politik"), store=store, poll=False)
    assert app.panel is not None and app._trimmed is False
    assert app.refresh() is False  # nothing new to draw, but the first poll trims
    assert app._trimmed is True
    store.close()
