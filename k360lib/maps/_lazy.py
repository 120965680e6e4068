"""A module imported on first attribute access (keeps numpy out of a kernel's first view)."""

from __future__ import annotations

import importlib

__all__ = ["LazyModule"]


class LazyModule:
    """Stand-in for module ``name``: the first attribute access imports it.

    ``import`` statements take the import lock, so concurrent first accesses
    from several threads are safe.

    Examples
    --------
    >>> json = LazyModule("json")
    >>> json.dumps([1])
    '[1]'
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
