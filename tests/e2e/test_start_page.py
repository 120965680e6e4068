"""End to end: ``k360 serve``'s start page and every app opened from its link.

The server is the one ``k360 serve`` starts by default: Voilà over the whole
``notebooks/`` folder (``k360lib.serve.voila_command``), the start page at
``/voila/render/00_start.ipynb``. Each test runs in German and English
(``ui_lang``). A missing app notebook fails the test (Voilà answers 404).
"""

from __future__ import annotations

import json
import re
import time

import pytest

from .conftest import REPO_ROOT
from .harness import VoilaServer

pytestmark = pytest.mark.e2e

NOTEBOOKS = REPO_ROOT / "notebooks"
START = ".k360-start"
RENDER_S = 180.0


def full_log(server) -> str:
    return server.log_path.read_text(encoding="utf-8", errors="replace")


def wait_for_log(server, predicate, what: str, timeout: float = RENDER_S) -> str:
    deadline = time.monotonic() + timeout
    while not predicate(log := full_log(server)):
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s:\n{server.log()}"
        time.sleep(0.5)
    return log


def apps():
    from k360lib.widgets.start import APPS

    return APPS


@pytest.fixture(scope="module")
def server(voila, ui_lang):
    return voila(NOTEBOOKS, lang=ui_lang)


def open_start(session, server):
    from k360lib.serve import START_NOTEBOOK

    return session.open(server, START_NOTEBOOK, ready=f"{START} .k360-start-link", timeout=RENDER_S)


def test_start_page_lists_every_app(e2e_page, server, ui_lang):
    from k360lib.i18n import t
    from k360lib.serve import page_url

    # the address `k360 serve` prints is the page we test
    page = open_start(e2e_page, server)
    assert page.url == page_url("127.0.0.1", server.port)
    assert page.inner_text(f"{START} h2.k360-title") == t("start.title", ui_lang)
    for app in apps():
        card = page.locator(f"{START} .k360-start-app[data-app='{app.key}']")
        assert card.locator("a.k360-start-link").inner_text() == t(
            f"start.app.{app.key}.title", ui_lang
        )
        assert t(f"start.app.{app.key}.text", ui_lang) in card.inner_text()
    assert page.locator(f"{START} a.k360-start-link").count() == len(apps())
    # the page's own language switch is there (AppShell)
    assert page.locator(".k360-shell .k360-lang-switch").count() == 1


@pytest.mark.parametrize(
    "key", ["atlas", "responsibility", "facilitator", "player", "debrief", "import"]
)
def test_every_app_opens_from_its_link(e2e_page, server, ui_lang, key):
    (app,) = [a for a in apps() if a.key == key]
    page = open_start(e2e_page, server)
    link = page.locator(f"{START} .k360-start-app[data-app='{key}'] a.k360-start-link")
    shutdowns = full_log(server).count("Kernel shutdown: ")
    with page.expect_navigation(wait_until="commit", timeout=RENDER_S * 1000) as nav:
        link.click()
    response = nav.value
    assert page.url == server.url_for(app.notebook) + f"?lang={ui_lang}", (
        "the link leads to the app in the served folder, in the start page's language"
    )
    assert response is not None and response.status == 200, (
        f"{app.notebook}: Voilà answered {response.status if response else 'nothing'} "
        f"(is notebooks/{app.notebook} missing?)"
    )
    ready = f".{app.css}" if app.css else None
    e2e_page.wait_rendered(RENDER_S, ready=ready)
    # every app is shown under the language switch, in the start page's language
    page.wait_for_selector(f".k360-shell.k360-lang-{ui_lang}", timeout=RENDER_S * 1000)
    # leaving the start page ended its kernel at once (voila #1458: not only by culling)
    wait_for_log(
        server,
        lambda log: log.count("Kernel shutdown: ") > shutdowns,
        "the start page's kernel was not shut down after leaving it",
        timeout=30,
    )


def test_language_chosen_on_the_start_page_carries_into_the_apps(e2e_page, voila, ui_lang):
    """A German server; the visitor switches the start page: the app opens in that language."""
    from k360lib.i18n import LANGS, t

    other = next(code for code in LANGS if code != ui_lang)
    server = voila(NOTEBOOKS, lang=ui_lang)
    page = open_start(e2e_page, server)
    page.locator(".k360-lang-switch button", has_text=t("lang.name", other)).click()
    page.wait_for_selector(f".k360-shell.k360-lang-{other}", timeout=RENDER_S * 1000)
    assert page.inner_text(f"{START} h2.k360-title") == t("start.title", other)
    with page.expect_navigation(wait_until="commit", timeout=RENDER_S * 1000):
        page.locator(
            f"{START} .k360-start-app[data-app='responsibility'] a.k360-start-link"
        ).click()
    assert page.url.endswith(f"?lang={other}")
    e2e_page.wait_rendered(RENDER_S, ready=".k360-shell")
    page.wait_for_selector(f".k360-shell.k360-lang-{other}", timeout=RENDER_S * 1000)


def test_data_option_opens_the_users_atlas(e2e_page, voila, tmp_path_factory):
    """``k360 serve --data DIR`` (``K360_DATA``): the atlas app shows that atlas, not the demo."""
    from k360lib.atlas.demo import demo_atlas
    from k360lib.i18n import t
    from k360lib.serve import kernel_env

    atlas = demo_atlas()
    atlas.meta["name"] = "Musterhausen"
    atlas.meta["fictional"] = False
    folder = tmp_path_factory.mktemp("user-atlas")
    atlas.save(folder)
    server = voila(NOTEBOOKS, lang="de", env=kernel_env(data=folder))
    page = open_start(e2e_page, server)
    assert str(folder) in page.inner_text(START)  # the start page says which data
    with page.expect_navigation(wait_until="commit", timeout=RENDER_S * 1000):
        page.locator(f"{START} .k360-start-app[data-app='atlas'] a.k360-start-link").click()
    e2e_page.wait_rendered(RENDER_S, ready=".k360-atlas-explorer h2.k360-title")
    title = page.inner_text(".k360-atlas-explorer h2.k360-title")
    assert title == t("widgets.atlas.title", "de", city="Musterhausen")


QUERY_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "q",
            "metadata": {},
            "outputs": [],
            "source": [
                "import os\n",
                "import ipywidgets as W\n",
                "W.HTML('<p class=\"qs\">[' + os.environ.get('QUERY_STRING', '') + ']</p>')",
            ],
        }
    ],
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_preheat_leaves_the_game_notebooks_out(e2e_page, tmp_path):
    """``k360 serve --preheat 1``: apps get a kernel pool, game notebooks still see QUERY_STRING."""
    from k360lib.serve import NO_PREHEAT, voila_command

    folder = tmp_path / "nb"
    folder.mkdir()
    for name in ("00_start.ipynb", *NO_PREHEAT):
        (folder / name).write_text(json.dumps(QUERY_NOTEBOOK), encoding="utf-8")
    server = VoilaServer(
        lambda port: voila_command(folder, port=port, preheat=1),
        folder,
        tmp_path / "voila.log",
        cwd=folder,
    )
    server.start()
    try:
        log = wait_for_log(
            server,
            lambda log: "Kernel pool of 00_start.ipynb is filled" in log,
            "no kernel pool was filled",
        )
        pooled = set(re.findall(r"Kernel pool of (\S+) is filled", log))
        assert pooled == {"00_start.ipynb"}, pooled
        # a game link carries its codes in the query string; the kernel must see them
        page = e2e_page.open(server, "04_mitspielen.ipynb", query="game=G1&code=R2", ready=".qs")
        assert page.inner_text(".qs") == "[game=G1&code=R2]"
        assert "Using pre-heated kernel" not in full_log(server)
        e2e_page.open(server, "00_start.ipynb", ready=".qs")
        assert "Using pre-heated kernel" in full_log(server)
    finally:
        server.stop()
