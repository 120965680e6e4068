"""The frame every k360 app is shown in: a language switch above the app.

An app is any object with a ``.container`` widget whose constructor (or a
factory) takes ``lang``. :class:`AppShell` shows a "Deutsch | English"
switch; choosing the other language sets the process-wide UI language
(:func:`k360lib.i18n.set_lang`) and builds the app again in that language.
Without an explicit ``lang`` the shell reads ``lang=de|en`` from the page's
query string (Voilà passes it as ``$QUERY_STRING``; the start page's links
carry the language chosen there), then ``$K360_LANG``.

Anything an app must keep across the switch lives in its model or store
(the Planspiel's state is in the shared store; the atlas explorer takes its
current choices through ``relaunch_kwargs()`` when it offers that method).

Examples
--------
>>> import ipywidgets as W
>>> class Hello:
...     def __init__(self, lang):
...         self.container = W.Label({"de": "Hallo", "en": "Hello"}[lang])
>>> shell = AppShell(Hello, lang="de")
>>> shell.app.container.value
'Hallo'
>>> shell.switch("en")
>>> shell.app.container.value, shell.lang
('Hello', 'en')
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import ipywidgets as W

from k360lib.i18n import LANGS, normalize_lang, set_lang, t

__all__ = ["AppShell", "LANG_SWITCH_CLASS", "lang_from_query"]

#: CSS class of the switch (end-to-end tests click ``.k360-lang-switch button``).
LANG_SWITCH_CLASS = "k360-lang-switch"


def lang_from_query(query: str | None = None) -> str | None:
    """Return the ``lang`` of a URL query string (default ``$QUERY_STRING``), if valid.

    >>> lang_from_query("game=ABC&lang=en"), lang_from_query("lang=fr"), lang_from_query("")
    ('en', None, None)
    """
    if query is None:
        query = os.environ.get("QUERY_STRING", "")
    value = (parse_qs(query.lstrip("?")).get("lang") or [""])[0]
    try:
        return normalize_lang(value) if value else None
    except ValueError:
        return None


class AppShell:
    """Show ``factory(lang=...)``'s app under a language switch.

    Parameters
    ----------
    factory : callable
        ``factory(lang=code, **kwargs)`` returns an app with a ``.container``.
    lang : str, optional
        Start language; default ``lang=`` of ``$QUERY_STRING``, else the
        current UI language (``$K360_LANG``).
    **kwargs
        Passed to ``factory`` on every (re)build.

    Attributes
    ----------
    app : object
        The app shown now.
    container : ipywidgets.VBox
        What a notebook displays.
    """

    def __init__(self, factory: Callable[..., Any], lang: str | None = None, **kwargs: Any):
        self._factory = factory
        self._kwargs = kwargs
        self.lang = normalize_lang(lang if lang is not None else lang_from_query())
        set_lang(self.lang)
        self._switch = W.ToggleButtons(
            options=[(t("lang.name", code), code) for code in LANGS],
            value=self.lang,
            tooltips=[t("widgets.shell.switch_tooltip", code) for code in LANGS],
            style={"button_width": "auto"},
        )
        self._switch.add_class(LANG_SWITCH_CLASS)
        self._switch.observe(self._on_switch, names="value")
        self._bar = W.HBox([self._switch], layout=W.Layout(justify_content="flex-end"))
        self._bar.add_class("k360-shell-bar")
        self.app = self._build(self.lang)
        self.container = W.VBox([self._bar, self.app.container])
        self.container.add_class("k360-shell")
        self.container.add_class(f"k360-lang-{self.lang}")

    def _build(self, lang: str):
        return self._factory(lang=lang, **self._kwargs)

    def _on_switch(self, change) -> None:
        if change["new"] != self.lang:
            self.switch(change["new"])

    def switch(self, lang: str) -> None:
        """Rebuild the app in ``lang`` (and make it the process-wide UI language)."""
        lang = normalize_lang(lang)
        if lang == self.lang:
            return
        keep = getattr(self.app, "relaunch_kwargs", None)
        kwargs = dict(self._kwargs)
        if callable(keep):
            kwargs.update(keep())
        old = self.app
        set_lang(lang)
        self.app = self._factory(lang=lang, **kwargs)
        self.container.remove_class(f"k360-lang-{self.lang}")
        self.lang = lang
        self.container.add_class(f"k360-lang-{lang}")
        self.container.children = (self._bar, self.app.container)
        if self._switch.value != lang:
            self._switch.value = lang
        close = getattr(old, "close", None)
        if callable(close):
            close()
