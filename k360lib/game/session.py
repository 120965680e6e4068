"""Networked play: create a game in a shared store, join it with a code, act, poll.

The facilitator creates a game and gets a public **game code**, one **join
code per seat** (a role group's place; seat ids are the roles' ids at the
start) and a private **facilitator code**. A player kernel joins with the
game code and its join code; its :class:`GameSession` is bound to that seat
and can act only as the role the seat plays now (roles may rotate between
rounds). Only the facilitator's session may advance phases, draw cards, undo
and lock.

Every kernel keeps its own copy of the state and brings it up to date with
:meth:`GameSession.poll` (only the new events are read). A command is checked
against the session's state, then appended with the version it was decided
on; if another kernel wrote first, the store refuses the stale write, the
session re-reads and — unless the command pinned ``expected_version`` —
checks the command again and retries.

This module imports no pandas, geopandas or UI library: a player kernel
stays light. (Creating a game reads the atlas once, in the facilitator's
kernel, and by default also renders the game's map documents into the store —
:meth:`GameSession.map_document` reads them back — so a player kernel needs
neither geopandas nor folium to show the map.)

Examples
--------
>>> import tempfile, os
>>> from k360lib.game import commands as C
>>> from k360lib.game.session import create_game, join
>>> from k360lib.game.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "games.sqlite3"))
...     codes = create_game(store, "kurz", seed=7)
...     boss = join(store, codes.game_code, codes.facilitator)
...     player = join(store, codes.game_code, codes.seats["jugendamt"])
...     _ = boss.submit(C.advance())
...     _ = player.poll()
...     (player.role, player.state.phase)
...     store.close()
('jugendamt', 'planung')
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from k360lib.game.commands import Command
from k360lib.game.engine import (
    FACILITATOR,
    Actor,
    choose_roles,
    created_event,
    decide,
    make_event,
    new_seed,
)
from k360lib.game.errors import (
    DuplicateCommandError,
    RuleViolation,
    StaleVersionError,
    StoreError,
)
from k360lib.game.events import Event, utc_now
from k360lib.game.state import GameState, fold
from k360lib.game.store import ARTIFACT_MAP_DOC, CodeRow, EventStore

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.atlas.model import Atlas
    from k360lib.game.scenario import Scenario
    from k360lib.game.world import World

__all__ = [
    "CODE_ALPHABET",
    "GameCodes",
    "GameSession",
    "create_game",
    "join",
    "join_from_query",
    "new_code",
    "prepare_map",
]

#: Letters and digits of codes (no 0/O, 1/I/L: easy to read aloud and type).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_code(n: int = 8) -> str:
    """Return a random code of ``n`` characters from :data:`CODE_ALPHABET`.

    Codes are secrets, so they come from :mod:`secrets` (the OS), not from a
    seeded simulation generator.
    """
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(n))


def _pretty(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class GameCodes:
    """The codes of a new game.

    Attributes
    ----------
    game_id : str
        Internal id of the game.
    game_code : str
        Public code (shown on the projector).
    facilitator : str
        Private code of the facilitator.
    seats : dict
        ``{seat: join code}``; a seat's id is the role it plays in round 1.
    """

    game_id: str
    game_code: str
    facilitator: str
    seats: dict[str, str] = field(default_factory=dict)

    def query(self, seat: str | None = None, *, with_seat: bool = False) -> str:
        """Return a URL query string (``game=…&code=…``) for a seat or the facilitator.

        Voilà puts the page URL's query string into the kernel's
        ``QUERY_STRING``; :func:`join_from_query` reads it back. With
        ``with_seat`` a seat's link also names the seat (``&seat=…``): the
        player app then refuses a code of another seat with a clear message
        instead of joining as that seat.
        """
        code = self.facilitator if seat is None else self.seats[seat]
        params = {"game": self.game_code, "code": code}
        if with_seat and seat is not None:
            params["seat"] = seat
        return urlencode(params)


def create_game(
    store: EventStore,
    scenario: str | Scenario = "default",
    *,
    seed: int | None = None,
    atlas: Atlas | None = None,
    world: World | None = None,
    roles: list[str] | None = None,
    optional_roles=(),
    codes: GameCodes | None = None,
    meta: dict | None = None,
    map_layers: bool = True,
) -> GameCodes:
    """Create a game in ``store``; return its codes.

    Parameters
    ----------
    store : EventStore
        Where the game lives (shared by all kernels).
    scenario : str or Scenario
        Built-in name, YAML path or scenario.
    seed : int, optional
        Seed of the event-card draws (default: fresh from the OS, stored in the game).
    atlas : Atlas, optional
        Play on this atlas instead of the scenario's own (reads it here, once).
    world : World, optional
        A pre-computed world.
    roles, optional_roles : optional
        Which roles play (default: the non-optional ones, plus ``optional_roles``).
    codes : GameCodes, optional
        Use these codes (tests); default: new random codes.
    meta : dict, optional
        Free information stored in the first event (e.g. the workshop's name).
    map_layers : bool, default True
        Also render the game's live map documents (every UI language; needs
        folium, done once here) and store them with the game, in the same
        transaction (:func:`k360lib.maps.game_layer.game_map_artifacts`). Player
        kernels then load the map from the store. ``False`` for batch runs
        without maps.

    Returns
    -------
    GameCodes
    """
    from k360lib.game.scenario import load_scenario  # pydantic: not on a player's path
    from k360lib.game.world import world_for

    sc = load_scenario(scenario)
    w = world if world is not None else world_for(sc, atlas)
    chosen = choose_roles(sc, roles, optional_roles)
    if codes is None:
        codes = GameCodes(
            game_id=uuid.uuid4().hex[:16],
            game_code=new_code(6),
            facilitator=_pretty(new_code(12)),
            seats={r: _pretty(new_code(8)) for r in chosen},
        )
    elif set(codes.seats) != set(chosen):
        raise ValueError(f"codes.seats must name exactly the roles {chosen}")
    ev = created_event(
        sc,
        w,
        seed=new_seed() if seed is None else int(seed),
        roles=chosen,
        game_id=codes.game_id,
        ts=utc_now(),
        meta=meta,
    )
    rows = [CodeRow(codes.facilitator, "facilitator", None)]
    rows += [CodeRow(code, "seat", seat) for seat, code in codes.seats.items()]
    all_codes = [codes.facilitator, *codes.seats.values()]
    norm = {"".join(ch for ch in c.upper() if ch.isalnum()) for c in all_codes}
    if len(norm) != len(all_codes):
        raise StoreError("game.store.code_clash")
    artifacts = None
    if map_layers:
        from k360lib.maps.game_layer import game_map_artifacts

        artifacts = game_map_artifacts(sc, atlas)
    store.create_game(ev, codes.game_code, rows, artifacts)
    return codes


def prepare_map(store: EventStore, game_id: str, *, atlas: Atlas | None = None) -> list[str]:
    """Render and store the map documents of an existing game (e.g. one created without them).

    Parameters
    ----------
    store : EventStore
        The game's store.
    game_id : str
        The game.
    atlas : Atlas, optional
        The atlas the game is played on (default: its scenario's own atlas).

    Returns
    -------
    list of str
        The names of the stored artifacts.
    """
    from k360lib.maps.game_layer import game_map_artifacts

    events = store.events(game_id, since=0)[:1]
    if not events:
        from k360lib.game.errors import UnknownGameError

        raise UnknownGameError("game.store.unknown_game", game=game_id)
    artifacts = game_map_artifacts(fold(events).scenario, atlas)
    store.put_artifacts(game_id, artifacts)
    return sorted(artifacts)


def join(store: EventStore, game_code: str, code: str, *, seed: int | None = None) -> GameSession:
    """Join a game with its game code and a join (or facilitator) code.

    Raises
    ------
    UnknownGameError
        No game with this game code.
    UnknownCodeError
        The code does not belong to the game.
    """
    game_id, kind, seat = store.lookup(game_code, code)
    return GameSession(store, game_id, seat=seat, facilitator=(kind == "facilitator"), seed=seed)


def join_from_query(store: EventStore, query: str) -> GameSession:
    """Join with a URL query string ``game=…&code=…`` (e.g. Voilà's ``QUERY_STRING``).

    Raises
    ------
    UnknownCodeError
        When ``game`` or ``code`` is missing from the query.
    """
    from k360lib.game.errors import UnknownCodeError

    q = parse_qs(query.lstrip("?"))
    game, code = (q.get("game") or [""])[0], (q.get("code") or [""])[0]
    if not game or not code:
        raise UnknownCodeError("game.session.query_missing")
    return join(store, game, code)


class GameSession:
    """A kernel's connection to one game in a shared store (see the module docstring).

    Parameters
    ----------
    store : EventStore
        The shared store.
    game_id : str
        The game.
    seat : str, optional
        The seat this session plays (``None`` for the facilitator).
    facilitator : bool
        Whether this is the facilitator's session.
    seed : int, optional
        Seed of the generator for retry back-off (jitter); default from the OS.
    """

    def __init__(
        self,
        store: EventStore,
        game_id: str,
        *,
        seat: str | None = None,
        facilitator: bool = False,
        seed: int | None = None,
    ):
        if facilitator == (seat is not None):
            raise ValueError("a session is either the facilitator's or a seat's")
        self.store = store
        self.game_id = game_id
        self.seat = seat
        self.facilitator = bool(facilitator)
        self.actor = FACILITATOR if facilitator else Actor(seat=seat)
        self._rng_seed = seed
        self._rng = None  # made on first use: numpy.random costs a player kernel ~6 MiB
        events = store.events(game_id)
        if not events:
            from k360lib.game.errors import UnknownGameError

            raise UnknownGameError("game.store.unknown_game", game=game_id)
        self.state: GameState = fold(events)
        self._seen = {e.command_id: e.version for e in events if e.command_id}

    @property
    def rng(self):
        """The generator for retry back-off (``numpy.random.Generator``), made on first use."""
        if self._rng is None:
            import numpy as np

            self._rng = np.random.default_rng(self._rng_seed)
        return self._rng

    def __repr__(self) -> str:
        who = "facilitator" if self.facilitator else f"seat={self.seat!r}"
        return f"GameSession(game={self.game_id!r}, {who}, version={self.version})"

    # -- views ------------------------------------------------------------------
    @property
    def version(self) -> int:
        """The version of this session's state."""
        return self.state.version

    @property
    def role(self) -> str | None:
        """The role this session plays now (``None`` for the facilitator)."""
        return None if self.seat is None else self.state.seat_roles[self.seat]

    def changed(self) -> bool:
        """Whether the store has events this session has not seen (one cheap query)."""
        return self.store.head(self.game_id) != self.state.version

    def poll(self) -> list[Event]:
        """Read and apply the events since this session's version; return them."""
        new = self.store.events(self.game_id, since=self.state.version)
        for e in new:
            self.state.apply(e)
            if e.command_id:
                self._seen[e.command_id] = e.version
        return new

    def check(self, command: Command, lang: str | None = None) -> str | None:
        """Return why ``command`` would be refused now (``None`` when it is allowed).

        The reason is in ``lang`` (default: the current UI language).
        """
        try:
            decide(self.state, command, self.actor)
        except RuleViolation as err:
            return err.message(lang)
        return None

    def map_document(self, lang: str | None = None) -> str | None:
        """Return the game's live map document in ``lang`` from the store (``None`` if not prepared).

        See :func:`create_game` (``map_layers``) and :func:`prepare_map`.
        """
        from k360lib.i18n import normalize_lang

        return self.store.artifact(self.game_id, ARTIFACT_MAP_DOC.format(lang=normalize_lang(lang)))

    # -- acting -------------------------------------------------------------------
    def submit(self, command: Command, *, optimistic: int = 2) -> Event:
        """Check ``command`` against the newest state and append its event.

        A command without ``command_id`` gets a fresh one (its idempotency key):
        if the same command (same id) was applied before, its event is returned
        and nothing is appended.

        Concurrency: the command is decided on this session's newest state and
        appended with that version. If another kernel wrote first, the store
        refuses the stale write; then

        - with ``command.expected_version`` set (the version the player saw),
          :class:`StaleVersionError` is raised after re-reading — the UI shows
          the new state and the player decides again;
        - otherwise the session re-reads, checks the command again and retries
          (``optimistic`` times with a short random back-off), then appends
          under the game's write lock, so a busy game cannot starve anyone.

        Raises
        ------
        RuleViolation
            The command is not allowed (the message says why); nothing is appended.
        StaleVersionError
            The game moved on since ``command.expected_version``.
        """
        if not command.command_id:
            command = command.with_(command_id=uuid.uuid4().hex)
        for attempt in range(optimistic):
            self.poll()
            seen = self._seen.get(command.command_id)
            if seen is not None:
                return self.state.events[seen - 1]
            if (
                command.expected_version is not None
                and command.expected_version != self.state.version
            ):
                raise StaleVersionError(command.expected_version, self.state.version)
            ev = self._decide(command)
            try:
                # an unpinned command is retried anyway: do not queue behind a busy writer
                self.store.append(
                    self.game_id,
                    ev,
                    expected_version=self.state.version,
                    wait=command.expected_version is not None,
                )
            except StaleVersionError:
                if command.expected_version is not None:
                    self.poll()
                    raise
                time.sleep(float(self.rng.uniform(0.0, 0.004 * 2**attempt)))
                continue
            except DuplicateCommandError as dup:
                self.poll()
                return self.state.events[dup.version - 1]
            self._applied(ev)
            return ev
        return self._submit_locked(command)

    def _decide(self, command: Command) -> Event:
        typ, role, payload = decide(self.state, command, self.actor)
        return make_event(self.state, typ, role, payload, self.actor, command_id=command.command_id)

    def _applied(self, ev: Event) -> None:
        self.state.apply(ev)
        if ev.command_id:
            self._seen[ev.command_id] = ev.version

    def _submit_locked(self, command: Command) -> Event:
        class _Done(Exception):
            def __init__(self, version: int):
                self.version = version

        def build(new_events: list[Event]) -> Event:
            for e in new_events:
                self._applied(e)
            seen = self._seen.get(command.command_id)
            if seen is not None:
                raise _Done(seen)
            if (
                command.expected_version is not None
                and command.expected_version != self.state.version
            ):
                raise StaleVersionError(command.expected_version, self.state.version)
            return self._decide(command)

        try:
            ev = self.store.append_locked(self.game_id, self.state.version, build)
        except _Done as done:
            return self.state.events[done.version - 1]
        except DuplicateCommandError as dup:
            self.poll()
            return self.state.events[dup.version - 1]
        self._applied(ev)
        return ev
