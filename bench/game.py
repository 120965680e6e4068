"""Planspiel benchmarks: game replay, 1,000 bot games, 30 concurrent submitters.

``bench/run.py`` discovers the entries of this module (:func:`benchmark_entries`);
``python bench/run.py --only game_replay`` runs one.

Entries
-------
game_replay
    Replay (fold) of a 500-event game: from event objects, from the JSON log,
    from the SQLite store, and in a fresh process (goal: <= 50 ms).
game_bots
    1,000 bot games of the default scenario with ``simulate(jobs=2)``
    (goal: <= 60 s on 2 cores), plus the learning point over 200 seeds.
game_concurrency
    30 processes submitting at once to one game: p50/p95 latency of an
    acknowledged command, SQLite and PostgreSQL (a throwaway server when the
    Debian binaries exist, or ``$K360_BENCH_PG`` as a connection string).

Run as a script this file is also the worker of ``game_concurrency``::

    python bench/game.py submitter STORE GAME_CODE JOIN_CODE PREFIX K GO_FILE
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py
from _common import fig, summary  # noqa: E402

HERE = Path(__file__).resolve()


# -- helpers -----------------------------------------------------------------------------


def long_game(n_events: int = 500):
    """A finished default-scenario game of cooperative bots with notes, padded to ``n_events``."""
    from k360lib.game import commands as C
    from k360lib.game.bots import play_game

    game = play_game("default", "cooperative", seed=7, notes=True)
    i = 0
    seats = list(game.state.seats)
    while len(game.events) < n_events:
        game.submit(C.note(f"Notiz {i}: Was nehmen wir mit?"), seats[i % len(seats)])
        i += 1
    return game


def _percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _start_postgres():
    """Start a throwaway PostgreSQL cluster; return (dsn, stop) or (None, reason)."""
    env_dsn = os.environ.get("K360_BENCH_PG")
    if env_dsn:
        return env_dsn, lambda: None
    try:
        import psycopg
    except ImportError:
        return None, "psycopg not installed"
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        return None, "PostgreSQL server binaries not found"
    bindir = Path(initdb).parent
    kw: dict = {}
    tmp = Path(tempfile.mkdtemp(prefix="k360-bench-pg-"))
    if os.geteuid() == 0:
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pw = pwd.getpwnam("nobody")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp / "data"
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}

    def run(*args, check=True):
        return subprocess.run(
            [str(a) for a in args],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=check,
            **kw,
        )

    run(bindir / "initdb", "-D", data, "-U", "k360", "--auth=trust", "-E", "UTF8", "--no-sync")
    run(
        bindir / "pg_ctl",
        "-D",
        data,
        "-l",
        tmp / "log",
        "-w",
        "-o",
        f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c max_connections=100",
        "start",
    )
    admin = f"host=127.0.0.1 port={port} user=k360 dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE DATABASE k360bench")

    def stop():
        run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(tmp, ignore_errors=True)

    return f"host=127.0.0.1 port={port} user=k360 dbname=k360bench", stop


def _concurrency_run(url: str, n_proc: int = 30, k: int = 5) -> tuple[list[float], float]:
    """Start ``n_proc`` submitters on one game; return per-command latencies and the wall time."""
    from k360lib.game.session import create_game
    from k360lib.game.store import open_store

    store = open_store(url)
    codes = create_game(store, "kurz", seed=3)
    store.close()
    seats = list(codes.seats)
    with tempfile.TemporaryDirectory() as d:
        go = Path(d) / "go"
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(HERE),
                    "submitter",
                    url,
                    codes.game_code,
                    codes.seats[seats[i % len(seats)]],
                    f"p{i}",
                    str(k),
                    str(go),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(n_proc)
        ]
        for p in procs:
            line = p.stdout.readline().strip()
            if line != "READY":
                raise RuntimeError(p.stderr.read()[-2000:])
        t0 = time.perf_counter()
        go.write_text("go")
        latencies = []
        for p in procs:
            out, err = p.communicate(timeout=600)
            if p.returncode:
                raise RuntimeError(err[-2000:])
            latencies += [
                float(line.split()[3]) for line in out.splitlines() if line.startswith("ACK")
            ]
        wall = time.perf_counter() - t0
    if len(latencies) != n_proc * k:  # every command acknowledged exactly once
        raise RuntimeError(f"expected {n_proc * k} acknowledged commands, got {len(latencies)}")
    return latencies, wall


# -- entries -------------------------------------------------------------------------------


def replay(ctx) -> list[dict]:
    """Replay (fold) of a 500-event game."""
    from k360lib.game.export import events_from_json, events_json
    from k360lib.game.session import GameSession
    from k360lib.game.state import fold
    from k360lib.game.store import SQLiteStore

    game = long_game(500)
    events = list(game.events)
    assert len(events) == 500
    text = events_json(events, indent=None)
    results = [
        summary("fold(500 events)", "time", ctx.time_calls(lambda: fold(events)), "ms", 1000),
        summary(
            "JSON log -> fold (500 events)",
            "time",
            ctx.time_calls(lambda: fold(events_from_json(text))),
            "ms",
            1000,
        ),
    ]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "games.sqlite3"
        store = SQLiteStore(path, durable=False)
        store.create_game(events[0], "BENCH1", [])
        for e in events[1:]:
            store.append(e.game_id, e, e.version - 1)
        results.append(
            summary(
                "SQLite -> session state (500 events)",
                "time",
                ctx.time_calls(lambda: GameSession(store, events[0].game_id, facilitator=True)),
                "ms",
                1000,
            )
        )
        store.close()
        code = f"""
        from k360lib.game.store import SQLiteStore
        from k360lib.game.state import fold
        _t1 = _time.perf_counter()
        _s = fold(SQLiteStore({str(path)!r}, durable=False).events({events[0].game_id!r}))
        _extra = {{"fold_seconds": _time.perf_counter() - _t1, "v": _s.version}}
        """
        runs = ctx.run_child(code)
    results.append(
        summary(
            "fresh process: read + fold (scenario parse incl.)",
            "time",
            [r["fold_seconds"] for r in runs],
            "ms",
            1000,
        )
    )
    return results


def bots(ctx) -> list[dict]:
    """1,000 bot games of the default scenario per strategy, 2 worker processes."""
    from k360lib.game.bots import simulate
    from k360lib.game.scenario import load_scenario
    from k360lib.game.world import world_for

    sc = load_scenario("default")
    world_for(sc)  # read the atlas once, as a batch run does
    results = []
    for strategy in ("cooperative", "siloed"):
        t0 = time.perf_counter()
        df = simulate(sc, strategy, n=1000, jobs=2)
        dt = time.perf_counter() - t0
        assert df["seed"].nunique() == 1000
        results.append(fig(f"1,000 games, {strategy} bots, jobs=2", "wall", dt, "s", 1))
        results.append(
            fig(f"  per game ({strategy})", "time", dt, "ms", 1)
        )  # dt s / 1000 games = dt ms
        final = df[df["round"] == sc.rounds]
        for col in ("shared_score", "equity_gap"):
            q = final[col].quantile([0.05, 0.5, 0.95]).to_list()
            results.append(
                fig(f"  {col} p50 [p5, p95] ({strategy})", "value", q[1], "", 1000, q[0], q[2])
            )
    return results


def concurrency(ctx) -> list[dict]:
    """30 processes submitting at once: latency of an acknowledged command."""
    results = []
    with tempfile.TemporaryDirectory() as d:
        one, _ = _concurrency_run(str(Path(d) / "one.sqlite3"), n_proc=1, k=50)
        results.append(
            fig(
                "SQLite, 1 writer alone: p50",
                "latency",
                1000 * _percentile(one, 0.5),
                "ms",
                len(one),
            )
        )
        lat, wall = _concurrency_run(str(Path(d) / "games.sqlite3"))
        results += [
            fig(
                "SQLite (WAL, synchronous=FULL): p50",
                "latency",
                1000 * _percentile(lat, 0.5),
                "ms",
                len(lat),
                1000 * min(lat),
                1000 * max(lat),
            ),
            fig("SQLite: p95", "latency", 1000 * _percentile(lat, 0.95), "ms", len(lat)),
            fig("SQLite: 150 commands, wall", "time", wall, "s", 1),
        ]
    dsn, stop = _start_postgres()
    if dsn is None:
        ctx.notes.append(f"PostgreSQL figures skipped: {stop}")
        return results
    try:
        one, _ = _concurrency_run(dsn, n_proc=1, k=50)
        results.append(
            fig(
                "PostgreSQL, 1 writer alone: p50",
                "latency",
                1000 * _percentile(one, 0.5),
                "ms",
                len(one),
            )
        )
        lat, wall = _concurrency_run(dsn)
    finally:
        stop()
    results += [
        fig(
            "PostgreSQL: p50",
            "latency",
            1000 * _percentile(lat, 0.5),
            "ms",
            len(lat),
            1000 * min(lat),
            1000 * max(lat),
        ),
        fig("PostgreSQL: p95", "latency", 1000 * _percentile(lat, 0.95), "ms", len(lat)),
        fig("PostgreSQL: 150 commands, wall", "time", wall, "s", 1),
    ]
    return results


def benchmark_entries():
    """The entries ``bench/run.py`` discovers in this module."""
    return [
        ("game_replay", "Planspiel: replay (fold) of a 500-event game (goal <= 50 ms)", replay),
        (
            "game_bots",
            "Planspiel: 1,000 bot games of the default scenario, 2 workers (goal <= 60 s)",
            bots,
        ),
        (
            "game_concurrency",
            "Planspiel: 30 concurrent submitters, p50/p95 latency (SQLite, PostgreSQL)",
            concurrency,
        ),
    ]


# -- worker ----------------------------------------------------------------------------------


def _submitter(store_url, game_code, code, prefix, k, go):
    from k360lib.game import commands as C
    from k360lib.game.session import join
    from k360lib.game.store import open_store

    session = join(open_store(store_url), game_code, code)
    print("READY", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    for j in range(int(k)):
        text = f"{prefix}-{j}"
        t0 = time.perf_counter()
        ev = session.submit(C.note(text, command_id=text))
        print(f"ACK {ev.version} {text} {time.perf_counter() - t0:.6f}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "submitter":
        sys.path.insert(0, str(HERE.parents[1]))
        _submitter(*sys.argv[2:])
    else:  # the three entries through the runner
        names = [arg for name, _, _ in benchmark_entries() for arg in ("--only", name)]
        sys.exit(
            subprocess.call([sys.executable, str(HERE.parent / "run.py"), *names, *sys.argv[1:]])
        )
