"""Fixtures of the integration tests: a throwaway PostgreSQL server.

``pg_dsn`` starts a private PostgreSQL cluster for the test session: Debian's
server binaries (``/usr/lib/postgresql/<version>/bin``, or ``initdb`` on the
PATH), a fresh data directory in a temporary folder, listening on 127.0.0.1
on a free port and on a Unix socket in that folder, ``trust`` authentication
for the local user only. PostgreSQL refuses to run as root, so under root the
cluster runs as the ``postgres`` system user (or ``nobody``).

When the binaries or ``psycopg`` are missing, tests using ``pg_dsn`` are
skipped with the reason — except under ``CI=true``, where they fail: CI must
prove the PostgreSQL store (``.ci/run`` installs Debian's ``postgresql``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def _is_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str):
    if _is_ci():
        pytest.fail(f"PostgreSQL tests cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def _pg_bindir() -> Path | None:
    env = os.environ.get("K360_PG_BINDIR")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parts[-3].split(".")],
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return pw.pw_uid, pw.pw_gid
    return None


@pytest.fixture(scope="session")
def pg_dsn():
    """A connection string to a fresh PostgreSQL database (session-scoped)."""
    try:
        import psycopg
    except ImportError:
        _unavailable('psycopg 3 is not installed (pip install "psycopg[binary]")')
    bindir = _pg_bindir()
    if bindir is None:
        _unavailable(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); "
            "install Debian's postgresql package"
        )
    ids = _run_as()
    if os.geteuid() == 0 and ids is None:
        _unavailable("running as root and neither a 'postgres' nor a 'nobody' user exists")
    tmp = Path(tempfile.mkdtemp(prefix="k360-pg-"))
    data = tmp / "data"
    user = "k360"
    port = _free_port()
    kw: dict = {}
    if ids is not None:
        uid, gid = ids
        os.chown(tmp, uid, gid)
        kw = {"user": uid, "group": gid, "extra_groups": []}
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}

    def run(*args, check=True):
        return subprocess.run(
            [str(a) for a in args],
            cwd=str(tmp),
            env=env,
            capture_output=True,
            text=True,
            check=check,
            **kw,
        )

    try:
        run(
            bindir / "initdb",
            "-D",
            data,
            "-U",
            user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c max_connections=100 -c fsync=on"
        )
        run(
            bindir / "pg_ctl",
            "-D",
            data,
            "-o",
            opts,
            "-l",
            tmp / "server.log",
            "-w",
            "-t",
            "60",
            "start",
        )
    except subprocess.CalledProcessError as err:
        log = (tmp / "server.log").read_text() if (tmp / "server.log").exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.fail(
            f"could not start PostgreSQL: {err.stderr or err.stdout}\n{log[-2000:]}", pytrace=False
        )
    admin = f"host=127.0.0.1 port={port} user={user} dbname=postgres"
    deadline = time.time() + 30
    while True:
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute("CREATE DATABASE k360test")
            break
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    try:
        yield f"host=127.0.0.1 port={port} user={user} dbname=k360test"
    finally:
        run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(tmp, ignore_errors=True)
