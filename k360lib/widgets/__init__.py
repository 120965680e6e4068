"""ipywidgets apps, one class per app with a public ``.container``.

Not imported by ``import k360lib``: it loads ipywidgets and folium.
"""

from __future__ import annotations

from k360lib.widgets.atlas_explorer import AtlasExplorer

__all__ = ["AtlasExplorer"]
