"""Message catalogs: every user-facing string in German (default) and English.

The catalog is one logical table ``key -> {"de": ..., "en": ...}``, stored as
several JSON files in ``k360lib/messages/`` (one per domain, so that domains
can grow independently). Keys are dotted, e.g. ``"atlas.io.file_not_found"``.

Examples
--------
>>> from k360lib.i18n import t
>>> t("lang.name", "en")
'English'
>>> t("lang.name", "de")
'Deutsch'
"""

from __future__ import annotations

import json
import os
import string
from functools import lru_cache
from pathlib import Path

__all__ = ["DEFAULT_LANG", "LANGS", "catalog", "get_lang", "normalize_lang", "set_lang", "t"]

LANGS: tuple[str, ...] = ("de", "en")
DEFAULT_LANG = "de"
_MESSAGES_DIR = Path(__file__).with_name("messages")
_current: str | None = None


def normalize_lang(lang: str | None) -> str:
    """Return a supported language code for ``lang`` (``None`` means the current one).

    Raises
    ------
    ValueError
        If ``lang`` is not one of :data:`LANGS`.
    """
    if lang is None:
        return get_lang()
    code = str(lang).strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGS)}")
    return code


def get_lang() -> str:
    """Return the current UI language: ``set_lang`` > ``$K360_LANG`` > German."""
    if _current is not None:
        return _current
    env = os.environ.get("K360_LANG", "")
    try:
        return normalize_lang(env) if env else DEFAULT_LANG
    except ValueError:
        return DEFAULT_LANG


def set_lang(lang: str | None) -> None:
    """Set the process-wide UI language (``None`` resets to the environment default)."""
    global _current
    _current = None if lang is None else normalize_lang(lang)


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """Return the merged message catalog of all ``messages/*.json`` files.

    Raises
    ------
    RuntimeError
        If two files define the same key.
    """
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_MESSAGES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, texts in data.items():
            if key in merged:
                raise RuntimeError(f"message key {key!r} defined twice (again in {path.name})")
            merged[key] = texts
    return merged


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, lang: str | None = None, /, **params: object) -> str:
    """Translate ``key`` into ``lang`` and fill in ``params``.

    Unknown keys return the key itself (so a missing translation is visible,
    never a crash); missing parameters stay as ``{name}``.
    """
    lang = normalize_lang(lang)
    entry = catalog().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get(DEFAULT_LANG) or key
    if not params:
        return text
    return string.Formatter().vformat(text, (), _SafeDict(params))
