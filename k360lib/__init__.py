"""k360 — participatory planning workbook for German municipalities.

``import k360lib`` is light: it loads neither pandas/geopandas nor any UI
library (folium, ipywidgets, IPython, mapclassify). The public names below are
imported on first use.

Examples
--------
>>> import k360lib
>>> k360lib.t("lang.name", "en")
'English'
"""

from __future__ import annotations

import importlib

from k360lib.errors import DataError as DataError
from k360lib.errors import K360Error as K360Error
from k360lib.i18n import get_lang as get_lang
from k360lib.i18n import set_lang as set_lang
from k360lib.i18n import t as t

__version__ = "0.1.0"

_LAZY = {
    "Atlas": "k360lib.atlas.model",
    "ImportReport": "k360lib.atlas.report",
    "demo_atlas": "k360lib.atlas.demo",
    "generate_demo": "k360lib.atlas.demo",
    "import_atlas": "k360lib.atlas.io",
    "read_areas": "k360lib.atlas.io",
    "read_facilities": "k360lib.atlas.io",
    "read_table": "k360lib.atlas.io",
    "match_keys": "k360lib.atlas.matching",
    "need_index": "k360lib.atlas.indicators",
}

__all__ = sorted(["DataError", "K360Error", "__version__", "get_lang", "set_lang", "t", *_LAZY])


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'k360lib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
