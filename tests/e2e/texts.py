"""Expected UI texts for end-to-end tests, from the message catalog (never hard-coded)."""

from __future__ import annotations

import re

from k360lib.i18n import t

__all__ = ["message_pattern"]

_FIELD = re.compile(r"(\{\w+\})")


def message_pattern(key: str, lang: str, **fixed) -> re.Pattern:
    """Return a regex matching message ``key`` in ``lang``.

    Fields named in ``fixed`` must show that value; the other fields match any text.

    Examples
    --------
    >>> bool(message_pattern("atlas.match.summary", "en", matched=6, n=6).search(
    ...     "6 of 6 keys matched (exact: 6)."))
    True
    """
    out = []
    for part in _FIELD.split(t(key, lang)):
        if _FIELD.fullmatch(part):
            name = part[1:-1]
            out.append(re.escape(str(fixed[name])) if name in fixed else ".+?")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))
