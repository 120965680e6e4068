"""Tests of the end-to-end harness itself: server lifecycle, network guard, page checks.

These run against tiny notebooks written to ``tmp_path``, so they prove the
harness independently of the k360 apps.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from . import harness
from .conftest import _unavailable
from .harness import BrowserSession, VoilaServer, find_chromium, is_local_url

pytestmark = pytest.mark.e2e


def write_notebook(path: Path, *sources: str) -> Path:
    """Write a minimal nbformat-4 notebook with one code cell per source."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": textwrap.dedent(src),
        }
        for src in sources
    ]
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


WIDGET_APP = """
import os
import ipywidgets as w

lang = w.Label(os.environ.get("K360_LANG", "<unset>"))
lang.add_class("hx-lang")
label = w.Label("before")
label.add_class("hx-label")
button = w.Button(description="Klick")
button.add_class("hx-button")
frame = w.HTML('<iframe srcdoc="&lt;p id=&quot;hx-inner&quot;&gt;inside&lt;/p&gt;"></iframe>')

def on_click(_):
    label.value = "after"

button.on_click(on_click)
app = w.VBox([frame, lang, button, label])
_ = app.add_class("hx-app")  # add_class returns the widget: do not display it here
"""


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8866/voila/static/voila.js", True),
        ("http://localhost/x", True),
        ("ws://[::1]:9000/api/kernels/1/channels", True),
        ("data:image/png;base64,AAAA", True),
        ("blob:http://127.0.0.1:8866/0f1e", True),
        ("about:blank", True),
        ("https://cdn.jsdelivr.net/npm/leaflet.js", False),
        ("https://tile.openstreetmap.org/1/0/0.png", False),
        ("http://127.0.0.1.example.org/x", False),
        ("http://192.168.0.10:8866/", False),
        ("file:///etc/passwd", False),
    ],
)
def test_is_local_url(url, local):
    assert is_local_url(url) is local


# -- browser resolution (no browser started) ----------------------------------------


class _FakeChromium:
    def __init__(self, path):
        self.executable_path = path


class _FakePlaywright:
    def __init__(self, path):
        self.chromium = _FakeChromium(path)


def test_find_chromium_prefers_debian_then_bundled_then_none(monkeypatch, tmp_path):
    debian, bundled = tmp_path / "chromium", tmp_path / "bundled-chrome"
    monkeypatch.setattr(harness, "DEBIAN_CHROMIUM", debian)
    assert find_chromium(_FakePlaywright(str(bundled))) == (None, {})
    bundled.touch()
    found, kwargs = find_chromium(_FakePlaywright(str(bundled)))
    assert (
        str(bundled) in found
        and "executable_path" not in kwargs
        and "--no-sandbox" in kwargs["args"]
    )
    debian.touch()
    found, kwargs = find_chromium(_FakePlaywright(str(bundled)))
    assert found == str(debian) and kwargs["executable_path"] == str(debian)


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_missing_prerequisite_skips_locally_and_fails_under_ci(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no Chromium"):
        _unavailable("no Chromium here")


# -- server lifecycle (no browser) ---------------------------------------------------


def test_server_start_failure_shows_the_log(tmp_path):
    server = VoilaServer(
        lambda port: [sys.executable, "-c", "import sys; print('kaputt-4711'); sys.exit(3)"],
        tmp_path,
        tmp_path / "server.log",
    )
    with pytest.raises(RuntimeError, match=r"(?s)code 3.*kaputt-4711"):
        server.start(timeout=20)


STUBBORN_SERVER = """
import http.server, os, signal, subprocess, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
open(sys.argv[2], "w").write(str(child.pid))
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


def _gone(pid: int, timeout: float = 5.0) -> bool:
    """True once ``pid`` no longer runs (absent or a zombie awaiting its reaper)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return True
        if "\nState:\tZ" in status:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_server_stop_kills_the_whole_group_when_sigterm_is_ignored(tmp_path):
    pidfile = tmp_path / "child.pid"
    server = VoilaServer(
        lambda port: [sys.executable, "-c", STUBBORN_SERVER, str(port), str(pidfile)],
        tmp_path,
        tmp_path / "server.log",
        cwd=tmp_path,
    )
    server.start(timeout=30)
    proc = server.proc
    deadline = time.monotonic() + 10
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child_pid = int(pidfile.read_text())
    started = time.monotonic()
    server.stop(grace=1.0)
    assert time.monotonic() - started < 10
    assert proc.returncode == -9  # SIGTERM was ignored, SIGKILL ended it
    assert _gone(child_pid), "a process of the server's group survived stop()"
    assert server.proc is None
    server.stop()  # idempotent


# -- network guard and page checks (browser, no server) ------------------------------


def test_guard_blocks_cdn_assets_and_tolerates_tiles(browser):
    session = BrowserSession(browser, "guard")
    try:
        session.page.set_content(
            """<html><head>
            <link rel="stylesheet" href="https://cdn.example.invalid/leaflet.css">
            <script src="https://cdn.example.invalid/leaflet.js"></script>
            </head><body>
            <img src="https://tile.example.invalid/1/0/0.png">
            <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
            <iframe srcdoc="&lt;link rel=stylesheet href=https://cdn.example.invalid/in-frame.css&gt;"></iframe>
            </body></html>""",
            wait_until="load",
        )
        session.page.wait_for_timeout(300)
        blocked = {b.url: b for b in session.guard.blocked}
        assert blocked["https://cdn.example.invalid/leaflet.css"].critical
        assert blocked["https://cdn.example.invalid/leaflet.js"].critical
        assert blocked[
            "https://cdn.example.invalid/in-frame.css"
        ].critical  # srcdoc iframes are guarded
        assert not blocked["https://tile.example.invalid/1/0/0.png"].critical
        assert not any(url.startswith("data:") for url in blocked)
        problems = session.problems()
        assert len(problems) == 1
        assert "leaflet.js" in problems[0] and "0.png" not in problems[0]
    finally:
        session.close()


def test_guard_passes_a_page_that_only_misses_its_basemap(browser):
    session = BrowserSession(browser, "guard-ok")
    try:
        session.page.set_content('<img src="https://tile.example.invalid/1/0/0.png"><p>map</p>')
        session.page.wait_for_timeout(200)
        assert [b.resource_type for b in session.guard.blocked] == ["image"]
        assert session.problems() == []
    finally:
        session.close()


def test_uncaught_page_errors_are_problems(browser):
    session = BrowserSession(browser, "page-error")
    try:
        session.page.set_content(
            "<script>setTimeout(() => { throw new Error('k360-boom') }, 0)</script>"
        )
        session.page.wait_for_function("true")
        session.page.wait_for_timeout(300)
        assert any("k360-boom" in e for e in session.page_errors)
        assert any("k360-boom" in p for p in session.problems())
    finally:
        session.close()


# -- Voilà + browser -------------------------------------------------------------------


def test_voila_widget_roundtrip_single_notebook(tmp_path, voila, e2e_page):
    notebook = write_notebook(tmp_path / "roundtrip.ipynb", WIDGET_APP, "app")
    server = voila(notebook, lang="en")
    assert server.url_for() == server.base_url
    page = e2e_page.open(server, ready=".hx-app")

    assert page.inner_text(".hx-lang") == "en"  # K360_LANG reaches the kernel
    inner = page.frame_locator(".hx-app iframe").locator("#hx-inner")
    assert inner.inner_text() == "inside"
    assert page.inner_text(".hx-label") == "before"
    page.click(".hx-button")
    page.wait_for_function(
        "document.querySelector('.hx-label').innerText.trim() === 'after'", timeout=30_000
    )
    shot = e2e_page.screenshot("-after-click")
    assert shot is not None and shot.stat().st_size > 0


def test_voila_cell_error_fails_with_the_traceback(tmp_path, voila, browser):
    folder = tmp_path / "apps"
    write_notebook(folder / "boom.ipynb", "x = 1", "1 / 0", "print('never')")
    server = voila(folder)
    assert server.url_for("boom.ipynb").endswith("/voila/render/boom.ipynb")
    session = BrowserSession(browser, "cell-error")  # not the guarded fixture: test one thing
    try:
        with pytest.raises(
            AssertionError, match=r"(?s)error when executing cell.*ZeroDivisionError"
        ):
            session.open(server, "boom.ipynb", ready=".never-there", timeout=90)
    finally:
        session.close()
