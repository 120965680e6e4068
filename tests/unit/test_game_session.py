"""Sessions on the SQLite store: codes, role binding, polling, stale writes, idempotency,
light imports, and the docstring examples of the game modules."""

from __future__ import annotations

import doctest
import importlib
import json
import sqlite3
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k360lib.game import commands as C
from k360lib.game.errors import (
    NotYourRoleError,
    RuleViolation,
    StaleVersionError,
    StoreError,
    UnknownCodeError,
    UnknownGameError,
)
from k360lib.game.session import CODE_ALPHABET, create_game, join, join_from_query
from k360lib.game.state import fold
from k360lib.game.store import open_store


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "games.sqlite3")
    yield s
    s.close()


@pytest.fixture
def game(store):
    codes = create_game(store, "kurz", seed=5)
    return store, codes


def test_codes_and_joining(game):
    store, codes = game
    assert len(codes.game_code) == 6 and set(codes.game_code) <= set(CODE_ALPHABET)
    assert set(codes.seats) == {"jugendamt", "politik", "wohlfahrtsverband"}
    all_codes = [codes.facilitator, *codes.seats.values()]
    assert len(set(all_codes)) == len(all_codes)
    boss = join(store, codes.game_code, codes.facilitator)
    assert boss.facilitator and boss.role is None
    player = join(store, codes.game_code.lower(), codes.seats["politik"].replace("-", ""))
    assert player.seat == "politik" and player.role == "politik"  # case and dashes do not matter
    via_link = join_from_query(store, "?" + codes.query("wohlfahrtsverband"))
    assert via_link.role == "wohlfahrtsverband"
    with pytest.raises(UnknownCodeError) as err:
        join(store, codes.game_code, "AAAA-BBBB")
    assert "AAAA-BBBB" in err.value.message("en")
    with pytest.raises(UnknownGameError):
        join(store, "ZZZZZZ", codes.facilitator)
    with pytest.raises(UnknownCodeError):
        join_from_query(store, "game=&code=")
    assert store.games()[0]["game_code"] == codes.game_code


def test_a_session_acts_only_as_its_role(game):
    store, codes = game
    boss = join(store, codes.game_code, codes.facilitator)
    ja = join(store, codes.game_code, codes.seats["jugendamt"])
    boss.submit(C.advance())
    head = store.head(codes.game_id)
    with pytest.raises(NotYourRoleError):
        ja.submit(C.propose("familienzentrum", "SR13", role="wohlfahrtsverband"))
    with pytest.raises(RuleViolation) as err:
        ja.submit(C.advance())
    assert err.value.key == "game.rule.facilitator_only"
    assert store.head(codes.game_id) == head  # nothing appended
    assert ja.check(C.advance()) and ja.check(C.propose("familienzentrum", "SR13")) is None
    ev = ja.submit(C.propose("familienzentrum", "SR13"))
    assert ev.role == "jugendamt" and ev.actor == "seat:jugendamt"


def test_polling_brings_other_kernels_up_to_date(game):
    store, codes = game
    boss = join(store, codes.game_code, codes.facilitator)
    fw = join(store, codes.game_code, codes.seats["wohlfahrtsverband"])
    assert not fw.changed()
    boss.submit(C.draw_card())
    boss.submit(C.advance())
    assert fw.changed()
    new = fw.poll()
    assert [e.type for e in new] == ["card_drawn", "phase_advanced"]
    assert fw.state.phase == "planung" and not fw.changed() and fw.poll() == []
    assert fw.state == boss.state == fold(store.events(codes.game_id))


def test_stale_write_is_refused_and_the_caller_rereads(game):
    store, codes = game
    boss = join(store, codes.game_code, codes.facilitator)
    ja = join(store, codes.game_code, codes.seats["jugendamt"])
    fw = join(store, codes.game_code, codes.seats["wohlfahrtsverband"])
    boss.submit(C.advance())
    ja.poll()
    fw.poll()
    seen = fw.version
    ja.submit(C.propose("familienzentrum", "SR13"))  # fw has not seen this yet
    head = store.head(codes.game_id)
    with pytest.raises(StaleVersionError) as err:
        fw.submit(C.propose("elterncafe", "SR15", expected_version=seen))
    assert (err.value.expected, err.value.head) == (seen, head)
    assert "version" in err.value.message("en").lower()
    assert store.head(codes.game_id) == head  # nothing written
    assert fw.version == head  # ... and the caller has re-read
    # without a pinned version the session re-checks against the new state and retries
    ev = fw.submit(C.propose("elterncafe", "SR15"))
    assert ev.version == head + 1
    # a command that became illegal meanwhile is refused with its reason
    ja2 = join(store, codes.game_code, codes.seats["jugendamt"])
    ja.submit(C.withdraw("P1"))
    with pytest.raises(RuleViolation) as err:
        ja2.submit(C.withdraw("P1"))
    assert err.value.key == "game.rule.proposal_closed"


def test_a_retried_command_applies_once(game):
    store, codes = game
    ja = join(store, codes.game_code, codes.seats["jugendamt"])
    other = join(store, codes.game_code, codes.seats["jugendamt"])  # a second tab, same seat
    cmd = C.note("nur einmal", command_id="abc-123")
    first = ja.submit(cmd)
    again = ja.submit(cmd)
    from_other = other.submit(cmd)
    assert first.version == again.version == from_other.version
    notes = [e for e in store.events(codes.game_id) if e.type == "note_added"]
    assert len(notes) == 1


def test_a_damaged_row_is_detected(game, tmp_path):
    store, codes = game
    boss = join(store, codes.game_code, codes.facilitator)
    boss.submit(C.lock(True))
    with sqlite3.connect(tmp_path / "games.sqlite3") as conn:
        conn.execute(
            "UPDATE k360_events SET payload = ? WHERE game_id = ? AND version = 2",
            (json.dumps({"locked": False}), codes.game_id),
        )
    with pytest.raises(StoreError) as err:
        store.events(codes.game_id)
    assert err.value.key == "game.store.corrupt"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from(["note", "lock", "advance", "propose"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_interleaved_sessions_never_lose_or_reorder_writes(tmp_path_factory, steps):
    path = tmp_path_factory.mktemp("s") / "g.sqlite3"
    store = open_store(path, durable=False)
    try:
        codes = create_game(store, "kurz", seed=1)
        sessions = [
            join(store, codes.game_code, codes.facilitator),
            join(store, codes.game_code, codes.seats["jugendamt"]),
            join(store, codes.game_code, codes.seats["politik"]),
        ]
        accepted = 0
        for who, kind, pin in steps:
            s = sessions[who]
            cmd = {
                "note": C.note(f"n{accepted}"),
                "lock": C.lock(False),
                "advance": C.advance(),
                "propose": C.propose("familienzentrum", "SR13"),
            }[kind]
            if pin:
                cmd = cmd.with_(expected_version=s.version)  # decided on what it has seen
            head = store.head(codes.game_id)
            try:
                ev = s.submit(cmd)
            except StaleVersionError:
                assert pin and s.version == head != cmd.expected_version
                assert store.head(codes.game_id) == head
            except RuleViolation:
                assert store.head(codes.game_id) == head
            else:
                accepted += 1
                assert ev.version == head + 1 == store.head(codes.game_id)
        events = store.events(codes.game_id)
        assert [e.version for e in events] == list(range(1, 2 + accepted))
        truth = fold(events)
        for s in sessions:
            s.poll()
            assert s.state == truth
    finally:
        store.close()


_HEAVY = [
    "pandas",
    "geopandas",
    "folium",
    "ipywidgets",
    "IPython",
    "mapclassify",
    "branca",
    "shapely",
]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


def test_a_player_kernel_stays_light():
    code = (
        "import k360lib.game.session, k360lib.game.state, k360lib.game.store, "
        "k360lib.game.engine, k360lib.game.rules, k360lib.game.commands"
    )
    assert not set(_HEAVY) & _loaded_after(code)
    assert not {"numpy", "pydantic", *_HEAVY} & _loaded_after("import k360lib.game")


def test_the_check_can_fail():
    assert "pandas" in _loaded_after("import k360lib.game.export, pandas")


@pytest.mark.parametrize(
    "module",
    [
        "k360lib.game",
        "k360lib.game.commands",
        "k360lib.game.errors",
        "k360lib.game.scenario",
        "k360lib.game.rules",
        "k360lib.game.session",
        "k360lib.game.store",
        "k360lib.game.bots",
    ],
)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
