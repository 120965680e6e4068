"""Game artifacts (the prepared map documents) in both real stores: SQLite and PostgreSQL.

The facilitator's kernel renders the map once and stores it with the game;
a player kernel reads it back. Both stores must behave the same: written in
the game's own transaction, shared by content, replaceable, refused for an
unknown game, and nothing half-written when the game cannot be created.
"""

from __future__ import annotations

import pytest

from k360lib.game.errors import StoreError, UnknownGameError
from k360lib.game.session import GameCodes, create_game, join, prepare_map
from k360lib.game.store import ARTIFACT_MAP_DOC, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = (
        str(tmp_path / "games.sqlite3")
        if request.param == "sqlite"
        else request.getfixturevalue("pg_dsn")
    )
    s = open_store(url)
    try:
        yield s
    finally:
        s.close()


def test_create_game_stores_the_map_documents_for_players(store):
    codes = create_game(store, "kurz", seed=5)
    names = store.artifact_names(codes.game_id)
    assert names == sorted(ARTIFACT_MAP_DOC.format(lang=lg) for lg in ("de", "en"))
    player = join(store, codes.game_code, codes.seats["politik"])
    doc_de, doc_en = player.map_document("de"), player.map_document("en")
    for doc in (doc_de, doc_en):
        assert doc.lstrip().lower().startswith("<!doctype html")
        assert 'data-k360-asset="game_js"' in doc  # the proposals layer is in it
        assert "k360map.init(" in doc
    assert doc_de != doc_en  # texts and number format differ by language


def test_same_map_is_stored_once_and_artifacts_can_be_replaced(store):
    a = create_game(store, "kurz", seed=1)
    b = create_game(store, "kurz", seed=2)
    name = ARTIFACT_MAP_DOC.format(lang="de")
    assert store.artifact(a.game_id, name) == store.artifact(b.game_id, name)
    store.put_artifacts(a.game_id, {name: "<html>neu</html>", "notes/x.txt": "ä <b>"})
    assert store.artifact(a.game_id, name) == "<html>neu</html>"
    assert store.artifact(a.game_id, "notes/x.txt") == "ä <b>"
    assert store.artifact(b.game_id, name) != "<html>neu</html>"  # b keeps its own
    assert store.artifact(a.game_id, "missing") is None
    with pytest.raises(UnknownGameError):
        store.put_artifacts("no-such-game", {name: "x"})


def test_a_refused_game_leaves_no_artifacts(store):
    codes = create_game(store, "kurz", seed=3, map_layers=False)
    assert store.artifact_names(codes.game_id) == []
    clash = GameCodes(
        game_id="other-id",
        game_code=codes.game_code,  # taken: the whole game is refused
        facilitator="FFFF-FFFF-FFFF",
        seats={"jugendamt": "AAAA-AAAA", "politik": "BBBB-BBBB", "wohlfahrtsverband": "CCCC-CCCC"},
    )
    with pytest.raises(StoreError):
        create_game(store, "kurz", seed=3, codes=clash)
    assert store.artifact_names("other-id") == []
    # a game created without maps gets them later
    names = prepare_map(store, codes.game_id)
    assert store.artifact_names(codes.game_id) == names
    assert join(store, codes.game_code, codes.facilitator).map_document("en") is not None
