"""Fixtures for end-to-end tests: a real Voilà server and headless Chromium.

Fixtures
--------
browser
    Session-wide Playwright Chromium. Debian's ``/usr/bin/chromium`` first, then
    Playwright's bundled browser; none installed -> skip, or fail when ``CI=true``.
    Never runs ``playwright install``.
voila
    Session-wide factory ``voila(target, *, lang=None, env=None) -> VoilaServer``:
    serves a notebook (page at ``/``) or a folder (``/voila/render/<path>``);
    servers are shared per (target, lang, env) and stopped at session end.
    The command is ``k360lib.serve.voila_command`` (what ``k360 serve`` runs),
    so the tests see the app as users do; ``K360_LANG`` is passed through.
app_notebook
    ``app_notebook(name) -> Path`` in ``notebooks/``; skips (fails under CI) if absent.
e2e_page
    A fresh guarded browser page (:class:`harness.BrowserSession`). After the
    test body, the test fails if the page loaded a script, stylesheet, font,
    xhr/fetch or document from a non-local host, or had an uncaught error.
    A screenshot goes to ``tests/e2e/artifacts/<test>.png`` either way.
e2e_page_factory
    ``e2e_page_factory(name=None)`` for tests that need several pages.
ui_lang
    The UI language a test runs in. A test that asks for ``ui_lang`` runs once
    per language in ``$K360_E2E_LANGS`` (default ``de,en``: the whole suite in
    German and English); it passes ``lang=ui_lang`` to ``voila(...)`` and
    expects texts through ``k360lib.i18n.t(key, ui_lang)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .harness import BrowserSession, VoilaServer, find_chromium, is_ci

REPO_ROOT = Path(__file__).resolve().parents[2]
_SESSIONS = pytest.StashKey[list]()


def e2e_langs() -> list[str]:
    """Languages the e2e suite runs in: ``$K360_E2E_LANGS`` (comma-separated) or de, en."""
    from k360lib.i18n import LANGS, normalize_lang

    raw = os.environ.get("K360_E2E_LANGS", "").strip()
    if not raw:
        return list(LANGS)
    return [normalize_lang(code) for code in raw.split(",") if code.strip()]


def pytest_generate_tests(metafunc):
    """Run every test that asks for ``ui_lang`` once per UI language."""
    if "ui_lang" in metafunc.fixturenames:
        metafunc.parametrize("ui_lang", e2e_langs(), scope="module")


def _unavailable(reason: str):
    """Skip locally; under CI a missing e2e prerequisite is a failure."""
    if is_ci():
        pytest.fail(f"{reason} (CI=true: end-to-end tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def _argv_for(target: Path):
    """Return ``argv_for_port`` serving ``target`` exactly as ``k360 serve`` does.

    No fallback on purpose: if ``k360lib.serve`` breaks, the apps break, and so
    must these tests.
    """
    from k360lib.serve import voila_command

    return lambda port: voila_command(target, port=port)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package 'playwright' is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        found, launch_kwargs = find_chromium(pw)
        if found is None:
            _unavailable(
                "no Chromium for the end-to-end tests: install Debian's 'chromium' package "
                "(/usr/bin/chromium) or Playwright's browser ('playwright install chromium')"
            )
        browser = pw.chromium.launch(**launch_kwargs)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def voila(tmp_path_factory):
    servers: dict[tuple, VoilaServer] = {}
    logs = tmp_path_factory.mktemp("voila-logs")

    def start(target, *, lang: str | None = None, env: dict | None = None) -> VoilaServer:
        target = Path(target).resolve()
        if not target.exists():
            raise FileNotFoundError(target)
        extra_env = dict(env or {})
        if lang is not None:
            extra_env["K360_LANG"] = lang
        key = (str(target), tuple(sorted(extra_env.items())))
        if key not in servers:
            server = VoilaServer(
                _argv_for(target),
                target,
                logs / f"voila-{len(servers)}-{target.stem}.log",
                env=extra_env,
                cwd=target if target.is_dir() else target.parent,
            )
            server.start()
            servers[key] = server
        return servers[key]

    try:
        yield start
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="session")
def app_notebook():
    """``app_notebook(name) -> Path`` of a notebook in ``notebooks/``; skips (CI: fails) if absent."""

    def find(name: str) -> Path:
        path = REPO_ROOT / "notebooks" / name
        if not path.is_file():
            _unavailable(f"notebook {path} does not exist yet")
        return path

    return find


@pytest.fixture
def e2e_page_factory(request, browser):
    sessions: list[BrowserSession] = request.node.stash.setdefault(_SESSIONS, [])

    def make(name: str | None = None, **kwargs) -> BrowserSession:
        label = request.node.name if name is None else f"{request.node.name}-{name}"
        if name is None and sessions:
            label = f"{request.node.name}-{len(sessions)}"
        session = BrowserSession(browser, label, **kwargs)
        sessions.append(session)
        return session

    try:
        yield make
    finally:
        for session in sessions:
            session.screenshot()
            session.close()


@pytest.fixture
def e2e_page(e2e_page_factory) -> BrowserSession:
    return e2e_page_factory()


@pytest.fixture(scope="session", autouse=True)
def _doc_shots():
    """Opt-in: with ``K360_DOC_SHOTS=docs/img`` copy selected screenshots there (see doc_shots.py)."""
    import time

    from .doc_shots import copy_doc_shots, target_dir
    from .harness import ARTIFACTS

    started = time.time() - 1
    yield
    target = target_dir(REPO_ROOT)
    if target is not None:
        copy_doc_shots(ARTIFACTS, target, since=started)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a passing test body, fail on CDN requests or uncaught page errors."""
    result = yield
    problems = [p for s in item.stash.get(_SESSIONS, []) for p in s.problems()]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach console, blocked requests and server log to a failing e2e test's report."""
    report = yield
    if report.failed and report.when in {"call", "setup"}:
        for session in item.stash.get(_SESSIONS, []):
            report.sections.append((f"e2e page {session.name}", session.diagnostics()))
    return report
