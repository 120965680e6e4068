"""The Kommune 360° Planspiel engine: scenarios, event-sourced rules, shared store, bots.

Pure Python (numpy, pydantic, PyYAML; pandas only for exports and batch
runs); no UI library is imported. ``import k360lib.game`` is light: the names
below load on first use.

- :mod:`~k360lib.game.scenario` — scenario schema and YAML loader
  (:func:`load_scenario`; shipped: ``default``, ``kurz``).
- :mod:`~k360lib.game.commands` / :mod:`~k360lib.game.engine` — what players
  and the facilitator may ask; :func:`decide` checks a command and turns it
  into an event; :class:`Game` plays in memory (hot-seat, bots).
- :mod:`~k360lib.game.state` — ``GameState = fold(events)``.
- :mod:`~k360lib.game.rules` — budgets, the vote, the impact model, scoring,
  and the players' "how it works" text (:func:`explain`).
- :mod:`~k360lib.game.store` / :mod:`~k360lib.game.session` — SQLite and
  PostgreSQL stores; networked play with game and join codes.
- :mod:`~k360lib.game.bots` — scripted players and the batch runner
  :func:`simulate`; :mod:`~k360lib.game.export` — JSON, tables, Excel.

Examples
--------
A hot-seat game in memory: the facilitator draws a card, opens the planning
phase and enters a proposal for the youth office.

>>> from k360lib.game import Game, commands as C
>>> game = Game.create("kurz", seed=1)
>>> game.state.round, game.state.phase
(1, 'lage')
>>> _ = game.submit(C.draw_card())
>>> _ = game.submit(C.advance())
>>> ev = game.submit(C.propose("familienzentrum", "SR15"), role="jugendamt")
>>> ev.type, ev.payload["proposal"], ev.role
('proposal_made', 'P1', 'jugendamt')
>>> game.replay() == game.state  # the state is the fold of the events
True

Bots play whole games:

>>> from k360lib.game import play_game
>>> play_game("kurz", "cooperative", seed=3).state.status
'ended'
"""

from __future__ import annotations

import importlib

_LAZY = {
    "Actor": "k360lib.game.engine",
    "FACILITATOR": "k360lib.game.engine",
    "Game": "k360lib.game.engine",
    "decide": "k360lib.game.engine",
    "Event": "k360lib.game.events",
    "GameState": "k360lib.game.state",
    "fold": "k360lib.game.state",
    "Scenario": "k360lib.game.scenario",
    "load_scenario": "k360lib.game.scenario",
    "parse_scenario": "k360lib.game.scenario",
    "World": "k360lib.game.world",
    "world_for": "k360lib.game.world",
    "explain": "k360lib.game.rules",
    "EventStore": "k360lib.game.store",
    "SQLiteStore": "k360lib.game.store",
    "PostgresStore": "k360lib.game.store",
    "open_store": "k360lib.game.store",
    "GameCodes": "k360lib.game.session",
    "GameSession": "k360lib.game.session",
    "create_game": "k360lib.game.session",
    "join": "k360lib.game.session",
    "join_from_query": "k360lib.game.session",
    "play_game": "k360lib.game.bots",
    "simulate": "k360lib.game.bots",
    "GameError": "k360lib.game.errors",
    "RuleViolation": "k360lib.game.errors",
    "NotYourRoleError": "k360lib.game.errors",
    "ScenarioError": "k360lib.game.errors",
    "StaleVersionError": "k360lib.game.errors",
}
_SUBMODULES = (
    "bots",
    "commands",
    "engine",
    "errors",
    "events",
    "export",
    "rules",
    "scenario",
    "session",
    "state",
    "store",
    "world",
)

__all__ = sorted([*_LAZY, *_SUBMODULES])


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"k360lib.game.{name}")
    raise AttributeError(f"module 'k360lib.game' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
