"""ipywidgets apps, one class per app with a public ``.container``.

Not imported by ``import k360lib``. The apps are imported on first use, so a
notebook that shows one app loads only what that app needs (a player kernel
must not pay for folium/geopandas).
"""

from __future__ import annotations

import importlib

_APPS = {
    "AppShell": "k360lib.widgets.shell",
    "AtlasExplorer": "k360lib.widgets.atlas_explorer",
    "DebriefApp": "k360lib.widgets.debrief",
    "FacilitatorApp": "k360lib.widgets.facilitator",
    "GameMap": "k360lib.widgets.game_map",
    "ImportApp": "k360lib.widgets.import_app",
    "PlayerApp": "k360lib.widgets.player",
    "PlayerPanel": "k360lib.widgets.player",
    "ResponsibilityBoard": "k360lib.widgets.responsibility_board",
}

__all__ = sorted(_APPS)


def __getattr__(name: str):
    if name in _APPS:
        value = getattr(importlib.import_module(_APPS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'k360lib.widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
