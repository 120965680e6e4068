"""Worker processes for the store integration tests and benchmarks (run as a script).

Usage::

    python game_workers.py writer STORE GAME_CODE JOIN_CODE PREFIX
        append notes forever; print "ACK <version> <text>" after each acknowledged one
    python game_workers.py submitter STORE GAME_CODE JOIN_CODE PREFIX K GO_FILE
        print "READY", wait for GO_FILE, submit K notes (ids PREFIX-0 … K-1),
        retry the first one with the same id, print "ACK <version> <text> <seconds>"
        per note and "DUP <version>" for the retry

STORE is a SQLite path or a PostgreSQL connection string.
"""

from __future__ import annotations

import os
import sys
import time


def _session(store_url: str, game_code: str, code: str):
    from k360lib.game.session import join
    from k360lib.game.store import open_store

    store = open_store(store_url)
    return store, join(store, game_code, code)


def writer(store_url: str, game_code: str, code: str, prefix: str) -> None:
    from k360lib.game import commands as C

    _, session = _session(store_url, game_code, code)
    i = 0
    while True:
        text = f"{prefix}-{i}"
        ev = session.submit(C.note(text, command_id=text))
        print(f"ACK {ev.version} {text}", flush=True)
        i += 1


def submitter(store_url: str, game_code: str, code: str, prefix: str, k: str, go: str) -> None:
    from k360lib.game import commands as C

    _, session = _session(store_url, game_code, code)
    print("READY", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    for j in range(int(k)):
        text = f"{prefix}-{j}"
        t0 = time.perf_counter()
        ev = session.submit(C.note(text, command_id=text))
        dt = time.perf_counter() - t0
        print(f"ACK {ev.version} {text} {dt:.6f}", flush=True)
    again = session.submit(C.note(f"{prefix}-0", command_id=f"{prefix}-0"))
    print(f"DUP {again.version}", flush=True)


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"writer": writer, "submitter": submitter}[cmd](*args)
