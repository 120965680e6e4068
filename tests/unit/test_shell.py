"""The language switch every app is shown under."""

from __future__ import annotations

import ipywidgets as W
import pytest

from k360lib.i18n import get_lang, set_lang, t
from k360lib.widgets.shell import LANG_SWITCH_CLASS, AppShell


class _App:
    built: list[tuple[str, dict]] = []

    def __init__(self, lang, **kwargs):
        self.lang = lang
        self.kwargs = kwargs
        self.closed = False
        self.container = W.Label(t("lang.name", lang))
        _App.built.append((lang, kwargs))

    def relaunch_kwargs(self):
        return {"indicator": "kept"}

    def close(self):
        self.closed = True


@pytest.fixture(autouse=True)
def _reset():
    _App.built.clear()


def test_switch_rebuilds_the_app_in_the_other_language_and_keeps_choices():
    shell = AppShell(_App, lang="de", city="x")
    first = shell.app
    assert shell.container.children[1].value == "Deutsch"
    assert LANG_SWITCH_CLASS in shell.container.children[0].children[0]._dom_classes
    shell.container.children[0].children[0].value = "en"  # the user clicks "English"
    assert shell.lang == "en" and get_lang() == "en"
    assert shell.container.children[1].value == "English"
    assert first.closed and not shell.app.closed
    assert _App.built == [("de", {"city": "x"}), ("en", {"city": "x", "indicator": "kept"})]
    assert "k360-lang-en" in shell.container._dom_classes
    assert "k360-lang-de" not in shell.container._dom_classes


def test_switch_labels_each_language_in_itself():
    shell = AppShell(_App, lang="en")
    labels = [label for label, _ in shell.container.children[0].children[0].options]
    assert labels == ["Deutsch", "English"]
    shell.switch("en")  # same language: nothing rebuilt
    assert len(_App.built) == 1


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unsupported language"):
        AppShell(_App, lang="fr")


def test_language_comes_from_the_page_query_when_not_given(monkeypatch):
    monkeypatch.setenv("K360_LANG", "de")
    monkeypatch.setenv("QUERY_STRING", "game=ABC&code=X&lang=en")
    assert AppShell(_App).lang == "en"
    monkeypatch.setenv("QUERY_STRING", "lang=xx")  # unknown: fall back to $K360_LANG
    set_lang(None)  # (a new kernel)
    assert AppShell(_App).lang == "de"
    assert AppShell(_App, lang="en").lang == "en"  # an explicit language wins
