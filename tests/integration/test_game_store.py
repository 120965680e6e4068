"""The shared event store under real processes: SIGKILL mid-stream, 30 concurrent submitters.

Each test runs against SQLite (a file in a temp folder) and PostgreSQL (a
throwaway server from ``conftest.pg_dsn``; skipped outside CI when the server
binaries are missing, a failure under CI=true).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from k360lib.game import commands as C
from k360lib.game.errors import DuplicateCommandError, StaleVersionError
from k360lib.game.session import create_game, join
from k360lib.game.state import fold
from k360lib.game.store import PostgresStore, SQLiteStore, open_store

WORKER = Path(__file__).with_name("game_workers.py")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "games.sqlite3")
    return request.getfixturevalue("pg_dsn")


def _spawn(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _new_game(url):
    store = open_store(url)
    codes = create_game(store, "kurz", seed=11)
    return store, codes


def test_open_store_picks_the_backend(store_url):
    store = open_store(store_url)
    try:
        expected = SQLiteStore if store_url.endswith(".sqlite3") else PostgresStore
        assert isinstance(store, expected)
    finally:
        store.close()


def test_stale_write_and_idempotency_in_the_real_store(store_url):
    store, codes = _new_game(store_url)
    try:
        boss = join(store, codes.game_code, codes.facilitator)
        other = join(store, codes.game_code, codes.facilitator)
        v = boss.version
        boss.submit(C.lock(True))
        # decided on the old version: refused, nothing appended
        with pytest.raises(StaleVersionError):
            other.submit(C.lock(False, expected_version=v))
        assert store.head(codes.game_id) == v + 1
        # the store itself refuses a duplicate command id
        ev = boss.submit(C.lock(False, command_id="same"))
        again = boss.submit(C.lock(False, command_id="same"))
        assert again.version == ev.version and store.head(codes.game_id) == ev.version
        with pytest.raises(DuplicateCommandError):
            store.append(
                codes.game_id,
                ev.__class__(**{**ev.to_dict(), "version": ev.version + 1}),
                ev.version,
            )
        assert fold(store.events(codes.game_id)) == boss.state
    finally:
        store.close()


def test_sigkill_mid_stream_leaves_a_consistent_store(store_url):
    store, codes = _new_game(store_url)
    seat = "jugendamt"
    acked: dict[int, str] = {}
    try:
        for run in range(3):
            proc = _spawn("writer", store_url, codes.game_code, codes.seats[seat], f"r{run}")
            lines = []
            deadline = time.time() + 120
            while len(lines) < 25 + 10 * run and time.time() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                if line.startswith("ACK"):
                    lines.append(line.split())
            time.sleep(0.003 * run)  # land the kill at different points of a write
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            # lines printed after our last read are acknowledged too
            rest = proc.stdout.read()
            lines += [ln.split() for ln in rest.splitlines() if ln.startswith("ACK")]
            assert lines, proc.stderr.read()
            for _, version, text in lines:
                acked[int(version)] = text
            proc.stdout.close()
            proc.stderr.close()

        fresh = open_store(store_url)  # the store opens after the kills
        try:
            events = fresh.events(codes.game_id)  # every row's checksum is verified here
            versions = [e.version for e in events]
            assert versions == list(range(1, len(events) + 1)), "gap or duplicate in the log"
            assert fresh.head(codes.game_id) == len(events), "head and rows disagree"
            texts = {e.version: e.payload["text"] for e in events if e.type == "note_added"}
            for version, text in acked.items():
                assert texts.get(version) == text, f"acknowledged event {version} lost"
            # no partial event: at most one more than acknowledged per run (in flight, committed)
            assert len(texts) - len(acked) <= 3
            state = fold(events)
            assert len(state.notes) == len(texts)
        finally:
            fresh.close()
        if store_url.endswith(".sqlite3"):
            with sqlite3.connect(store_url) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()


def test_thirty_processes_submitting_at_once(store_url, tmp_path):
    store, codes = _new_game(store_url)
    go = tmp_path / "go"
    n_proc, k = 30, 5
    seats = list(codes.seats)
    try:
        procs = [
            _spawn(
                "submitter",
                store_url,
                codes.game_code,
                codes.seats[seats[i % len(seats)]],
                f"p{i}",
                k,
                go,
            )
            for i in range(n_proc)
        ]
        for p in procs:
            assert p.stdout.readline().strip() == "READY", p.stderr.read()
        go.write_text("go")
        acks, dups = {}, []
        for i, p in enumerate(procs):
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err[-3000:]
            for line in out.splitlines():
                parts = line.split()
                if parts[0] == "ACK":
                    acks[parts[2]] = int(parts[1])
                elif parts[0] == "DUP":
                    dups.append((f"p{i}-0", int(parts[1])))
        assert len(acks) == n_proc * k
        events = store.events(codes.game_id)
        notes = [e for e in events if e.type == "note_added"]
        texts = [e.payload["text"] for e in notes]
        assert len(texts) == n_proc * k, "lost or duplicated events"
        assert len(set(texts)) == len(texts)
        assert set(texts) == {f"p{i}-{j}" for i in range(n_proc) for j in range(k)}
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        by_text = {e.payload["text"]: e.version for e in notes}
        assert all(by_text[t] == v for t, v in acks.items())
        # the retried command came back with its first version, nothing appended twice
        assert all(by_text[t] == v for t, v in dups)
        # each note was written by the role of the seat that sent it
        for e in notes:
            i = int(e.payload["text"].split("-")[0][1:])
            assert e.role == seats[i % len(seats)]
    finally:
        store.close()
