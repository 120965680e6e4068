"""Durable event stores: SQLite (default) and PostgreSQL behind one interface.

A store keeps, per game, the append-only event log, the current head
version and the join codes. Several kernel processes share one store:

- :class:`SQLiteStore` — one file, WAL journal, ``BEGIN IMMEDIATE``
  transactions; for kernels on one machine (``k360 serve``, a laptop, a
  Voilà server).
- :class:`PostgresStore` — for kernels on several machines (e.g. a
  JupyterHub); needs ``psycopg`` 3 (``pip install "psycopg[binary]"``).

Guarantees (both stores)
------------------------
- **Optimistic concurrency**: :meth:`EventStore.append` takes the version the
  command was decided on; if the game moved on, it raises
  :class:`~k360lib.game.errors.StaleVersionError` and writes nothing — the
  caller re-reads and retries or reports.
- **Idempotency**: an event carries its command's id; a second append with
  the same id raises :class:`~k360lib.game.errors.DuplicateCommandError`
  naming the version where it was applied, so a retried command never applies
  twice.
- **Crash safety**: one event = one transaction (the event row and the new
  head together). A process killed at any moment leaves each event either
  fully in the log or not at all; every acknowledged append is durable
  (SQLite ``synchronous=FULL`` by default).
- **Integrity**: each row stores the SHA-256 of the event; reading checks it.

Artifacts
---------
Besides the log, a game may keep named **artifacts**: text prepared once by
the facilitator's kernel that player kernels read instead of computing it —
the rendered live map documents (``map/live/de.html``, ``map/live/en.html``;
see :func:`k360lib.game.session.create_game`), so a player kernel needs no
geopandas, mapclassify or folium. Contents are stored once per SHA-256
(``k360_blobs``; many games on the same city share one copy) and named per
game (``k360_artifacts``); :meth:`EventStore.create_game` writes them in the
same transaction as the game, so a game never exists without them.

Examples
--------
>>> import tempfile, os
>>> from k360lib.game.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "games.sqlite3"))
...     store.games()
...     store.close()
[]
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from k360lib.game.errors import (
    DuplicateCommandError,
    StaleVersionError,
    StoreError,
    UnknownGameError,
)
from k360lib.game.events import Event, dumps, loads

try:  # POSIX: a fair, blocking write lock next to the database (see SQLiteStore)
    import fcntl
except ImportError:  # pragma: no cover - Windows falls back to SQLite's busy handler
    fcntl = None

__all__ = [
    "SCHEMA_VERSION",
    "ARTIFACT_MAP_DOC",
    "CodeRow",
    "EventStore",
    "PostgresStore",
    "SQLiteStore",
    "default_store_path",
    "event_hash",
    "open_store",
]

SCHEMA_VERSION = 1

#: Artifact name of a game's live map document in a language: ``ARTIFACT_MAP_DOC.format(lang=...)``.
ARTIFACT_MAP_DOC = "map/live/{lang}.html"


def _blob_rows(artifacts: dict[str, str] | None) -> list[tuple[str, str, str]]:
    """``(name, sha256, content)`` per artifact (names and contents must be strings)."""
    out = []
    for name, content in (artifacts or {}).items():
        if not isinstance(name, str) or not name or not isinstance(content, str):
            raise TypeError("artifacts must map non-empty names to strings")
        out.append((name, hashlib.sha256(content.encode("utf-8")).hexdigest(), content))
    return out


@dataclass(frozen=True)
class CodeRow:
    """A code of a game: ``kind`` is ``facilitator`` or ``seat`` (then ``seat`` names it)."""

    code: str
    kind: str
    seat: str | None = None


def _digest(game_id, version, typ, actor, role, ts, engine, command_id, payload_text: str) -> str:
    head = dumps([game_id, int(version), typ, actor, role, ts, engine, command_id])
    return hashlib.sha256((head + "\n" + payload_text).encode("utf-8")).hexdigest()


def event_hash(event: Event) -> str:
    """SHA-256 of an event: its fields and its canonical JSON payload (stored with every row)."""
    return _digest(
        event.game_id,
        event.version,
        event.type,
        event.actor,
        event.role,
        event.ts,
        event.engine,
        event.command_id,
        dumps(event.payload),
    )


def _row_to_event(row, game_id: str) -> Event:
    version, typ, actor, role, ts, engine, command_id, payload, digest = row
    if _digest(game_id, version, typ, actor, role, ts, engine, command_id, payload) != digest:
        raise StoreError("game.store.corrupt", game=game_id, version=int(version))
    return Event(
        version=int(version),
        type=typ,
        payload=loads(payload),
        actor=actor,
        role=role,
        ts=ts,
        engine=engine,
        command_id=command_id,
        game_id=game_id,
    )


def _event_row(event: Event) -> tuple:
    payload = dumps(event.payload)
    fields = (
        event.game_id,
        event.version,
        event.type,
        event.actor,
        event.role,
        event.ts,
        event.engine,
        event.command_id,
    )
    return (*fields, payload, _digest(*fields, payload))


class EventStore(ABC):
    """The interface every store implements (see the module docstring)."""

    #: ``"sqlite"`` or ``"postgresql"``.
    kind = ""

    @abstractmethod
    def create_game(
        self,
        created: Event,
        game_code: str,
        codes: list[CodeRow],
        artifacts: dict[str, str] | None = None,
    ) -> None:
        """Store a new game: its first event (version 1), its public game code and join codes.

        ``artifacts`` (``{name: text}``, see the module docstring) are written
        in the same transaction.

        Raises
        ------
        StoreError
            The game id or game code exists already.
        """

    @abstractmethod
    def put_artifacts(self, game_id: str, artifacts: dict[str, str]) -> None:
        """Store (or replace) named artifacts of an existing game, in one transaction.

        Raises
        ------
        UnknownGameError
            No such game.
        """

    @abstractmethod
    def artifact(self, game_id: str, name: str) -> str | None:
        """Return the artifact ``name`` of a game (``None`` when it has none by that name)."""

    @abstractmethod
    def artifact_names(self, game_id: str) -> list[str]:
        """Return the names of a game's artifacts, sorted."""

    @abstractmethod
    def append(
        self, game_id: str, event: Event, expected_version: int, *, wait: bool = True
    ) -> Event:
        """Append ``event`` if the game's head is still ``expected_version``; return it.

        With ``wait=False`` a write that would have to queue behind another
        writer is refused at once as stale (the other write will move the
        head); callers that retry anyway use it to join the queue of
        :meth:`append_locked` instead of waiting twice.

        Raises
        ------
        StaleVersionError
            The head moved on, or (``wait=False``) another writer is busy;
            nothing is written.
        DuplicateCommandError
            An event with the same ``command_id`` exists (nothing is written).
        UnknownGameError
            No such game.
        """

    @abstractmethod
    def append_locked(self, game_id: str, since: int, build) -> Event:
        """Append under the game's write lock: no other writer can come between.

        Inside one transaction that holds the game's write lock, read the
        events after version ``since``, call ``build(new_events)`` and append
        the event it returns (its version must be the head + 1). If ``build``
        raises, nothing is written. Used by sessions after repeated stale
        writes, so a busy game cannot starve a writer.

        Raises
        ------
        DuplicateCommandError
            An event with the returned event's ``command_id`` exists.
        """

    @abstractmethod
    def events(self, game_id: str, since: int = 0) -> list[Event]:
        """Return the events with version > ``since``, in order."""

    @abstractmethod
    def head(self, game_id: str) -> int:
        """Return the current version of the game (0 if unknown)."""

    @abstractmethod
    def lookup(self, game_code: str, code: str) -> tuple[str, str, str | None]:
        """Return ``(game_id, kind, seat)`` of a join or facilitator code.

        Raises
        ------
        UnknownGameError
            No game with this game code.
        UnknownCodeError
            The code does not belong to the game.
        """

    @abstractmethod
    def games(self) -> list[dict]:
        """Return ``game_id, game_code, head, created, scenario`` of every game, newest first."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


# ---------------------------------------------------------------------------
# SQLite
# ---------------------------------------------------------------------------
_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS k360_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS k360_games (
    game_id TEXT PRIMARY KEY,
    game_code TEXT NOT NULL UNIQUE,
    head INTEGER NOT NULL,
    created TEXT NOT NULL,
    scenario TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS k360_events (
    game_id TEXT NOT NULL REFERENCES k360_games(game_id),
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT,
    ts TEXT NOT NULL,
    engine TEXT NOT NULL,
    command_id TEXT,
    payload TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (game_id, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS k360_events_command
    ON k360_events (game_id, command_id) WHERE command_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS k360_codes (
    game_id TEXT NOT NULL REFERENCES k360_games(game_id),
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    seat TEXT,
    PRIMARY KEY (game_id, code)
);
CREATE TABLE IF NOT EXISTS k360_blobs (
    sha256 TEXT PRIMARY KEY,
    content TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS k360_artifacts (
    game_id TEXT NOT NULL REFERENCES k360_games(game_id),
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES k360_blobs(sha256),
    PRIMARY KEY (game_id, name)
);
"""

_EVENT_COLUMNS = "version, type, actor, role, ts, engine, command_id, payload, sha256"


def _sqlite_put_artifacts(c, game_id: str, artifacts: dict[str, str] | None) -> None:
    """Write artifacts of a game (inside the caller's transaction)."""
    rows = _blob_rows(artifacts)
    c.executemany(
        "INSERT OR IGNORE INTO k360_blobs (sha256, content) VALUES (?, ?)",
        [(h, content) for _, h, content in rows],
    )
    c.executemany(
        "INSERT OR REPLACE INTO k360_artifacts (game_id, name, sha256) VALUES (?, ?, ?)",
        [(game_id, name, h) for name, h, _ in rows],
    )


def _sqlite_insert_event(c, game_id: str, event: Event) -> None:
    """Insert ``event`` and move the game's head to it (inside the caller's transaction)."""
    c.execute(
        f"INSERT INTO k360_events (game_id, {_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _event_row(event),
    )
    c.execute("UPDATE k360_games SET head = ? WHERE game_id = ?", (event.version, game_id))


class SQLiteStore(EventStore):
    """Event store in one SQLite file (WAL), shared by the processes of one machine.

    Parameters
    ----------
    path : str or Path
        The database file (created with its folder if missing).
    durable : bool
        ``synchronous=FULL`` (default): an acknowledged event survives a power
        cut. ``False`` uses ``NORMAL`` (survives a crashed process, not a
        crashed machine) and is faster.
    timeout : float
        Seconds to wait for another process's write lock.

    Notes
    -----
    Writers queue on an ``flock`` of ``<file>.lock`` before ``BEGIN IMMEDIATE``:
    the kernel wakes a waiting writer as soon as the lock is free, whereas
    SQLite's own busy handler polls with growing sleeps, which gives many
    concurrent writers long, unfair waits. The kernel releases the lock when a
    process dies, so a killed writer never blocks the others.
    """

    kind = "sqlite"

    def __init__(self, path: str | Path, *, durable: bool = True, timeout: float = 60.0):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
            c = self._conn
            c.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            c.execute("PRAGMA journal_mode = WAL")
            c.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            c.execute("PRAGMA foreign_keys = ON")
            c.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _SQLITE_SCHEMA.split(";"):
                    if stmt.strip():
                        c.execute(stmt)
                c.execute(
                    "INSERT OR IGNORE INTO k360_meta (key, value) VALUES ('schema', ?)",
                    (str(SCHEMA_VERSION),),
                )
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        except sqlite3.Error as err:
            raise StoreError(
                "game.store.open_failed", path=str(self.path), detail=str(err)
            ) from err
        self._lock = threading.RLock()
        self._lockfile = None
        if fcntl is not None:
            try:
                self._lockfile = open(str(self.path) + ".lock", "a+b")  # noqa: SIM115
            except OSError:  # pragma: no cover - read-only folder: SQLite's locking only
                self._lockfile = None

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    @contextmanager
    def _writing(self, wait: bool = True, game_id: str = "", expected: int = 0):
        """Hold this store's thread lock and the cross-process write lock.

        With ``wait=False`` a busy lock raises :class:`StaleVersionError` at once.
        """
        with self._lock:
            if self._lockfile is None:
                yield
                return
            fd = self._lockfile.fileno()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StaleVersionError(expected, self.head(game_id)) from None
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def create_game(  # noqa: D102
        self,
        created: Event,
        game_code: str,
        codes: list[CodeRow],
        artifacts: dict[str, str] | None = None,
    ) -> None:
        scenario = created.payload.get("scenario", {}).get("id", "")
        _blob_rows(artifacts)  # type check before anything is written
        with self._writing():
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                c.execute(
                    "INSERT INTO k360_games (game_id, game_code, head, created, scenario) "
                    "VALUES (?, ?, 1, ?, ?)",
                    (created.game_id, _normalise_code(game_code), created.ts, scenario),
                )
                c.execute(
                    f"INSERT INTO k360_events (game_id, {_EVENT_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _event_row(created),
                )
                c.executemany(
                    "INSERT INTO k360_codes (game_id, code, kind, seat) VALUES (?, ?, ?, ?)",
                    [(created.game_id, _normalise_code(r.code), r.kind, r.seat) for r in codes],
                )
                _sqlite_put_artifacts(c, created.game_id, artifacts)
                c.execute("COMMIT")
            except sqlite3.IntegrityError as err:
                c.execute("ROLLBACK")
                raise StoreError("game.store.exists", game=created.game_id) from err
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def append(  # noqa: D102
        self, game_id: str, event: Event, expected_version: int, *, wait: bool = True
    ) -> Event:
        if event.version != expected_version + 1 or event.game_id != game_id:
            raise ValueError("event.version must be expected_version + 1 of the same game")
        with self._writing(wait=wait, game_id=game_id, expected=expected_version):
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                if event.command_id:
                    row = c.execute(
                        "SELECT version FROM k360_events WHERE game_id = ? AND command_id = ?",
                        (game_id, event.command_id),
                    ).fetchone()
                    if row is not None:
                        raise DuplicateCommandError(event.command_id, row[0])
                row = c.execute(
                    "SELECT head FROM k360_games WHERE game_id = ?", (game_id,)
                ).fetchone()
                if row is None:
                    raise UnknownGameError("game.store.unknown_game", game=game_id)
                if int(row[0]) != int(expected_version):
                    raise StaleVersionError(expected_version, row[0])
                _sqlite_insert_event(c, game_id, event)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return event

    def append_locked(self, game_id: str, since: int, build) -> Event:  # noqa: D102
        with self._writing():
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                row = c.execute(
                    "SELECT head FROM k360_games WHERE game_id = ?", (game_id,)
                ).fetchone()
                if row is None:
                    raise UnknownGameError("game.store.unknown_game", game=game_id)
                rows = c.execute(
                    f"SELECT {_EVENT_COLUMNS} FROM k360_events "
                    "WHERE game_id = ? AND version > ? ORDER BY version",
                    (game_id, int(since)),
                ).fetchall()
                event = build([_row_to_event(r, game_id) for r in rows])
                if event.version != int(row[0]) + 1 or event.game_id != game_id:
                    raise ValueError("the built event must follow the head of the same game")
                if event.command_id:
                    dup = c.execute(
                        "SELECT version FROM k360_events WHERE game_id = ? AND command_id = ?",
                        (game_id, event.command_id),
                    ).fetchone()
                    if dup is not None:
                        raise DuplicateCommandError(event.command_id, dup[0])
                _sqlite_insert_event(c, game_id, event)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return event

    def events(self, game_id: str, since: int = 0) -> list[Event]:  # noqa: D102
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM k360_events "
                "WHERE game_id = ? AND version > ? ORDER BY version",
                (game_id, int(since)),
            ).fetchall()
        return [_row_to_event(r, game_id) for r in rows]

    def head(self, game_id: str) -> int:  # noqa: D102
        with self._lock:
            row = self._conn.execute(
                "SELECT head FROM k360_games WHERE game_id = ?", (game_id,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def lookup(self, game_code: str, code: str) -> tuple[str, str, str | None]:  # noqa: D102
        from k360lib.game.errors import UnknownCodeError

        with self._lock:
            row = self._conn.execute(
                "SELECT game_id FROM k360_games WHERE game_code = ?", (_normalise_code(game_code),)
            ).fetchone()
            if row is None:
                raise UnknownGameError("game.store.unknown_code_game", code=game_code)
            hit = self._conn.execute(
                "SELECT kind, seat FROM k360_codes WHERE game_id = ? AND code = ?",
                (row[0], _normalise_code(code)),
            ).fetchone()
        if hit is None:
            raise UnknownCodeError("game.session.unknown_code", code=code)
        return row[0], hit[0], hit[1]

    def game_codes(self, game_id: str) -> tuple[str, list[CodeRow]]:
        """Return the game code and every join/facilitator code of a game (facilitator only).

        Codes come back normalised (upper case, no dashes). Used by the
        facilitator app to show the join codes again after a kernel restart.

        Raises
        ------
        UnknownGameError
            No such game.
        """
        with self._lock:
            row = self._conn.execute(
                "SELECT game_code FROM k360_games WHERE game_id = ?", (game_id,)
            ).fetchone()
            if row is None:
                raise UnknownGameError("game.store.unknown_game", game=game_id)
            rows = self._conn.execute(
                "SELECT code, kind, seat FROM k360_codes WHERE game_id = ? ORDER BY kind, seat",
                (game_id,),
            ).fetchall()
        return row[0], [CodeRow(c, k, s) for c, k, s in rows]

    def put_artifacts(self, game_id: str, artifacts: dict[str, str]) -> None:  # noqa: D102
        _blob_rows(artifacts)
        with self._writing():
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                row = c.execute("SELECT 1 FROM k360_games WHERE game_id = ?", (game_id,)).fetchone()
                if row is None:
                    raise UnknownGameError("game.store.unknown_game", game=game_id)
                _sqlite_put_artifacts(c, game_id, artifacts)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def artifact(self, game_id: str, name: str) -> str | None:  # noqa: D102
        with self._lock:
            row = self._conn.execute(
                "SELECT b.content FROM k360_artifacts a JOIN k360_blobs b ON a.sha256 = b.sha256 "
                "WHERE a.game_id = ? AND a.name = ?",
                (game_id, name),
            ).fetchone()
        return None if row is None else row[0]

    def artifact_names(self, game_id: str) -> list[str]:  # noqa: D102
        with self._lock:
            rows = self._conn.execute(
                "SELECT name FROM k360_artifacts WHERE game_id = ? ORDER BY name", (game_id,)
            ).fetchall()
        return [r[0] for r in rows]

    def games(self) -> list[dict]:  # noqa: D102
        with self._lock:
            rows = self._conn.execute(
                "SELECT game_id, game_code, head, created, scenario FROM k360_games "
                "ORDER BY created DESC, game_id"
            ).fetchall()
        keys = ("game_id", "game_code", "head", "created", "scenario")
        return [dict(zip(keys, r)) for r in rows]

    def close(self) -> None:  # noqa: D102
        with self._lock:
            try:
                self._conn.close()
            except sqlite3.Error:  # pragma: no cover
                pass
            if self._lockfile is not None:
                self._lockfile.close()
                self._lockfile = None


# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------
_PG_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS k360_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS k360_games (
        game_id TEXT PRIMARY KEY,
        game_code TEXT NOT NULL UNIQUE,
        head INTEGER NOT NULL,
        created TEXT NOT NULL,
        scenario TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS k360_events (
        game_id TEXT NOT NULL REFERENCES k360_games(game_id),
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT,
        ts TEXT NOT NULL,
        engine TEXT NOT NULL,
        command_id TEXT,
        payload TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (game_id, version)
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS k360_events_command
        ON k360_events (game_id, command_id) WHERE command_id IS NOT NULL""",
    """CREATE TABLE IF NOT EXISTS k360_codes (
        game_id TEXT NOT NULL REFERENCES k360_games(game_id),
        code TEXT NOT NULL,
        kind TEXT NOT NULL,
        seat TEXT,
        PRIMARY KEY (game_id, code)
    )""",
    """CREATE TABLE IF NOT EXISTS k360_blobs (
        sha256 TEXT PRIMARY KEY,
        content TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS k360_artifacts (
        game_id TEXT NOT NULL REFERENCES k360_games(game_id),
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL REFERENCES k360_blobs(sha256),
        PRIMARY KEY (game_id, name)
    )""",
]


def _pg_put_artifacts(cur, game_id: str, artifacts: dict[str, str] | None) -> None:
    """Write artifacts of a game (inside the caller's transaction)."""
    rows = _blob_rows(artifacts)
    if not rows:
        return
    cur.executemany(
        "INSERT INTO k360_blobs (sha256, content) VALUES (%s, %s) ON CONFLICT (sha256) DO NOTHING",
        [(h, content) for _, h, content in rows],
    )
    cur.executemany(
        "INSERT INTO k360_artifacts (game_id, name, sha256) VALUES (%s, %s, %s) "
        "ON CONFLICT (game_id, name) DO UPDATE SET sha256 = EXCLUDED.sha256",
        [(game_id, name, h) for name, h, _ in rows],
    )


_PG_LOCK = 360360  # advisory lock id that serialises schema creation


class _Busy(Exception):
    """Another writer holds the game's row lock (``append(wait=False)``)."""


class PostgresStore(EventStore):
    """Event store in a PostgreSQL database (kernels on several machines).

    Parameters
    ----------
    dsn : str
        A libpq connection string or URL (``postgresql://user@host:5432/db``).
    connect_timeout : int
        Seconds to wait for the server.
    """

    kind = "postgresql"

    def __init__(self, dsn: str, *, connect_timeout: int = 10):
        try:
            import psycopg
        except ImportError as err:  # pragma: no cover - depends on the install
            raise StoreError("game.store.no_psycopg") from err
        self._psycopg = psycopg
        self.dsn = dsn
        try:
            self._conn = psycopg.connect(dsn, connect_timeout=connect_timeout, autocommit=False)
            with self._conn.transaction():
                cur = self._conn.cursor()
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK,))
                for stmt in _PG_SCHEMA:
                    cur.execute(stmt)
                cur.execute(
                    "INSERT INTO k360_meta (key, value) VALUES ('schema', %s) "
                    "ON CONFLICT (key) DO NOTHING",
                    (str(SCHEMA_VERSION),),
                )
            self._conn.commit()
        except psycopg.Error as err:
            raise StoreError("game.store.open_failed", path=_redact(dsn), detail=str(err)) from err
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"PostgresStore({_redact(self.dsn)!r})"

    def create_game(  # noqa: D102
        self,
        created: Event,
        game_code: str,
        codes: list[CodeRow],
        artifacts: dict[str, str] | None = None,
    ) -> None:
        scenario = created.payload.get("scenario", {}).get("id", "")
        _blob_rows(artifacts)  # type check before anything is written
        pg = self._psycopg
        with self._lock:
            try:
                with self._conn.transaction():
                    cur = self._conn.cursor()
                    cur.execute(
                        "INSERT INTO k360_games (game_id, game_code, head, created, scenario) "
                        "VALUES (%s, %s, 1, %s, %s)",
                        (created.game_id, _normalise_code(game_code), created.ts, scenario),
                    )
                    cur.execute(
                        f"INSERT INTO k360_events (game_id, {_EVENT_COLUMNS}) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        _event_row(created),
                    )
                    cur.executemany(
                        "INSERT INTO k360_codes (game_id, code, kind, seat) VALUES (%s, %s, %s, %s)",
                        [(created.game_id, _normalise_code(r.code), r.kind, r.seat) for r in codes],
                    )
                    _pg_put_artifacts(cur, created.game_id, artifacts)
                self._conn.commit()
            except pg.errors.UniqueViolation as err:
                self._conn.rollback()
                raise StoreError("game.store.exists", game=created.game_id) from err

    def append(  # noqa: D102
        self, game_id: str, event: Event, expected_version: int, *, wait: bool = True
    ) -> Event:
        if event.version != expected_version + 1 or event.game_id != game_id:
            raise ValueError("event.version must be expected_version + 1 of the same game")
        pg = self._psycopg
        with self._lock:
            try:
                with self._conn.transaction():
                    cur = self._conn.cursor()
                    # the row lock serialises appends to one game (and makes the
                    # idempotency check race-free)
                    try:
                        cur.execute(
                            "SELECT head FROM k360_games WHERE game_id = %s FOR UPDATE"
                            + ("" if wait else " NOWAIT"),
                            (game_id,),
                        )
                    except pg.errors.LockNotAvailable:
                        raise _Busy() from None
                    row = cur.fetchone()
                    if row is None:
                        raise UnknownGameError("game.store.unknown_game", game=game_id)
                    if event.command_id:
                        cur.execute(
                            "SELECT version FROM k360_events WHERE game_id = %s AND command_id = %s",
                            (game_id, event.command_id),
                        )
                        dup = cur.fetchone()
                        if dup is not None:
                            raise DuplicateCommandError(event.command_id, dup[0])
                    if int(row[0]) != int(expected_version):
                        raise StaleVersionError(expected_version, row[0])
                    cur.execute(
                        f"INSERT INTO k360_events (game_id, {_EVENT_COLUMNS}) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        _event_row(event),
                    )
                    cur.execute(
                        "UPDATE k360_games SET head = %s WHERE game_id = %s",
                        (event.version, game_id),
                    )
                self._conn.commit()
            except _Busy:
                self._conn.rollback()
                raise StaleVersionError(expected_version, self.head(game_id)) from None
            except BaseException:
                self._conn.rollback()
                raise
        return event

    def append_locked(self, game_id: str, since: int, build) -> Event:  # noqa: D102
        with self._lock:
            try:
                with self._conn.transaction():
                    cur = self._conn.cursor()
                    cur.execute(
                        "SELECT head FROM k360_games WHERE game_id = %s FOR UPDATE", (game_id,)
                    )
                    row = cur.fetchone()
                    if row is None:
                        raise UnknownGameError("game.store.unknown_game", game=game_id)
                    cur.execute(
                        f"SELECT {_EVENT_COLUMNS} FROM k360_events "
                        "WHERE game_id = %s AND version > %s ORDER BY version",
                        (game_id, int(since)),
                    )
                    event = build([_row_to_event(r, game_id) for r in cur.fetchall()])
                    if event.version != int(row[0]) + 1 or event.game_id != game_id:
                        raise ValueError("the built event must follow the head of the same game")
                    if event.command_id:
                        cur.execute(
                            "SELECT version FROM k360_events WHERE game_id = %s AND command_id = %s",
                            (game_id, event.command_id),
                        )
                        dup = cur.fetchone()
                        if dup is not None:
                            raise DuplicateCommandError(event.command_id, dup[0])
                    cur.execute(
                        f"INSERT INTO k360_events (game_id, {_EVENT_COLUMNS}) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        _event_row(event),
                    )
                    cur.execute(
                        "UPDATE k360_games SET head = %s WHERE game_id = %s",
                        (event.version, game_id),
                    )
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
        return event

    def _query(self, sql: str, params: tuple) -> list:
        with self._lock:
            try:
                cur = self._conn.cursor()
                cur.execute(sql, params)
                rows = cur.fetchall()
                self._conn.commit()
                return rows
            except BaseException:
                self._conn.rollback()
                raise

    def events(self, game_id: str, since: int = 0) -> list[Event]:  # noqa: D102
        rows = self._query(
            f"SELECT {_EVENT_COLUMNS} FROM k360_events "
            "WHERE game_id = %s AND version > %s ORDER BY version",
            (game_id, int(since)),
        )
        return [_row_to_event(r, game_id) for r in rows]

    def head(self, game_id: str) -> int:  # noqa: D102
        rows = self._query("SELECT head FROM k360_games WHERE game_id = %s", (game_id,))
        return 0 if not rows else int(rows[0][0])

    def lookup(self, game_code: str, code: str) -> tuple[str, str, str | None]:  # noqa: D102
        from k360lib.game.errors import UnknownCodeError

        rows = self._query(
            "SELECT game_id FROM k360_games WHERE game_code = %s", (_normalise_code(game_code),)
        )
        if not rows:
            raise UnknownGameError("game.store.unknown_code_game", code=game_code)
        game_id = rows[0][0]
        hit = self._query(
            "SELECT kind, seat FROM k360_codes WHERE game_id = %s AND code = %s",
            (game_id, _normalise_code(code)),
        )
        if not hit:
            raise UnknownCodeError("game.session.unknown_code", code=code)
        return game_id, hit[0][0], hit[0][1]

    def game_codes(self, game_id: str) -> tuple[str, list[CodeRow]]:
        """Return the game code and every join/facilitator code of a game (see :class:`SQLiteStore`)."""
        rows = self._query("SELECT game_code FROM k360_games WHERE game_id = %s", (game_id,))
        if not rows:
            raise UnknownGameError("game.store.unknown_game", game=game_id)
        codes = self._query(
            "SELECT code, kind, seat FROM k360_codes WHERE game_id = %s ORDER BY kind, seat",
            (game_id,),
        )
        return rows[0][0], [CodeRow(c, k, s) for c, k, s in codes]

    def put_artifacts(self, game_id: str, artifacts: dict[str, str]) -> None:  # noqa: D102
        _blob_rows(artifacts)
        with self._lock:
            try:
                with self._conn.transaction():
                    cur = self._conn.cursor()
                    cur.execute("SELECT 1 FROM k360_games WHERE game_id = %s", (game_id,))
                    if cur.fetchone() is None:
                        raise UnknownGameError("game.store.unknown_game", game=game_id)
                    _pg_put_artifacts(cur, game_id, artifacts)
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise

    def artifact(self, game_id: str, name: str) -> str | None:  # noqa: D102
        rows = self._query(
            "SELECT b.content FROM k360_artifacts a JOIN k360_blobs b ON a.sha256 = b.sha256 "
            "WHERE a.game_id = %s AND a.name = %s",
            (game_id, name),
        )
        return rows[0][0] if rows else None

    def artifact_names(self, game_id: str) -> list[str]:  # noqa: D102
        rows = self._query(
            "SELECT name FROM k360_artifacts WHERE game_id = %s ORDER BY name", (game_id,)
        )
        return [r[0] for r in rows]

    def games(self) -> list[dict]:  # noqa: D102
        rows = self._query(
            "SELECT game_id, game_code, head, created, scenario FROM k360_games "
            "ORDER BY created DESC, game_id",
            (),
        )
        keys = ("game_id", "game_code", "head", "created", "scenario")
        return [dict(zip(keys, r)) for r in rows]

    def close(self) -> None:  # noqa: D102
        with self._lock:
            try:
                self._conn.close()
            except Exception:  # pragma: no cover  # noqa: BLE001
                pass


def _redact(dsn: str) -> str:
    """Hide a password in a connection URL or string."""
    parsed = urlparse(dsn)
    if parsed.scheme and parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return " ".join(
        "password=***" if part.lower().startswith("password=") else part for part in dsn.split()
    )


# ---------------------------------------------------------------------------
# opening a store by URL
# ---------------------------------------------------------------------------
def default_store_path() -> Path:
    """Where ``open_store()`` keeps games: ``$K360_STORE`` or ``<user data>/k360/games.sqlite3``."""
    env = os.environ.get("K360_STORE", "").strip()
    if env and "://" not in env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "k360" / "games.sqlite3"


def open_store(url: str | Path | None = None, **kw) -> EventStore:
    """Open a store from a path or URL.

    Parameters
    ----------
    url : str or Path, optional
        ``None`` → ``$K360_STORE`` or the default SQLite file (see
        :func:`default_store_path`); a file path or ``sqlite:///path`` →
        :class:`SQLiteStore`; ``postgresql://…`` / ``postgres://…`` or a libpq
        string (``host=… dbname=…``) → :class:`PostgresStore`.
    **kw
        Passed to the store's constructor.

    Returns
    -------
    EventStore
    """
    if url is None:
        env = os.environ.get("K360_STORE", "").strip()
        url = env if "://" in env else default_store_path()
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")) or (
        "://" not in text and "dbname=" in text
    ):
        return PostgresStore(text, **kw)
    if text.startswith("sqlite://"):
        parsed = urlparse(text)
        path = unquote(parsed.path)
        if parsed.netloc:
            path = parsed.netloc + path
        return SQLiteStore(path, **kw)
    return SQLiteStore(Path(text), **kw)
