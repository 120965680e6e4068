"""Which atlas the apps open: the user's (``$K360_DATA``) or the demo city.

``k360 serve --data DIR`` puts the absolute path of an atlas folder (written
by :meth:`k360lib.atlas.model.Atlas.save`) into ``$K360_DATA``; every kernel
Voilà starts inherits it. The atlas notebooks call :func:`default_atlas`, so
they show that atlas, and the fictional demo city when the variable is unset.

Examples
--------
>>> import os
>>> os.environ.pop(DATA_ENV, None) and None
>>> default_atlas().meta["fictional"]
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from k360lib.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.atlas.model import Atlas

__all__ = ["DATA_ENV", "data_dir", "default_atlas", "default_atlas_source"]

#: environment variable holding the atlas folder the apps open
DATA_ENV = "K360_DATA"


def data_dir() -> Path | None:
    """Return the atlas folder from ``$K360_DATA``, or ``None`` when it is unset or empty."""
    raw = os.environ.get(DATA_ENV, "").strip()
    return Path(raw).expanduser() if raw else None


def default_atlas() -> Atlas:
    """Return the atlas the apps show: the folder in ``$K360_DATA``, else the demo city.

    Returns
    -------
    Atlas
        A fresh object; callers may change it.

    Raises
    ------
    DataError
        If ``$K360_DATA`` names a folder that is not an atlas folder (the
        message names the missing file). A wrong setting is never replaced by
        the demo city silently.
    """
    folder = data_dir()
    if folder is None:
        from k360lib.atlas.demo import demo_atlas

        return demo_atlas()
    from k360lib.atlas.model import AREAS_FILE, Atlas

    if not (folder / AREAS_FILE).is_file():
        raise DataError("serve.data_missing", path=str(folder), missing=AREAS_FILE)
    return Atlas.load(folder)


def default_atlas_source() -> Path | Atlas:
    """Return what the atlas app opens: an atlas *folder* when there is one, else the atlas.

    The folder in ``$K360_DATA``, else the bundled demo folder; only when no
    demo folder is installed, the generated demo city. A folder lets
    :class:`~k360lib.widgets.AtlasExplorer` show its stored first view without
    loading pandas/geopandas first (the page-load fast path).

    Raises
    ------
    DataError
        If ``$K360_DATA`` names a folder that is not an atlas folder.
    """
    from k360lib.atlas.model import AREAS_FILE

    folder = data_dir()
    if folder is not None:
        if not (folder / AREAS_FILE).is_file():
            raise DataError("serve.data_missing", path=str(folder), missing=AREAS_FILE)
        return folder
    from k360lib.atlas.demo import demo_data_dir

    demo = demo_data_dir()
    if (demo / AREAS_FILE).is_file():
        return demo
    return default_atlas()
