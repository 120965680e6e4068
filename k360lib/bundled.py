"""Where the files shipped with k360 live: source checkout or installed package.

k360 ships four folders besides its code: the demo city (``data/geo``), the
services/actors catalogs (``data/catalog``), the Planspiel scenarios
(``data/scenarios``) and the app notebooks (``notebooks``). In a source
checkout (also an editable install) they are the repository's own folders, so
``k360 demo --write data/geo`` and hand edits take effect at once. A wheel
cannot hold folders outside the package, so the build copies them into
``k360lib/_bundle/<name>`` (see ``setup.py``); :func:`bundled_dir` finds
either.

Examples
--------
>>> bundled_dir("scenarios").joinpath("klausurtagung.yaml").is_file()
True
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLED", "PACKAGE_BUNDLE", "bundled_dir", "source_checkout"]

#: shipped folder name -> its path in a source checkout (relative to the repository root)
BUNDLED: dict[str, str] = {
    "geo": "data/geo",
    "catalog": "data/catalog",
    "scenarios": "data/scenarios",
    "notebooks": "notebooks",
}
#: where the build puts the copies inside the installed package
PACKAGE_BUNDLE = Path(__file__).resolve().parent / "_bundle"


def source_checkout() -> Path | None:
    """Return the repository root when k360lib runs from a source checkout, else ``None``."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "k360lib").is_dir():
        return root
    return None


def bundled_dir(name: str) -> Path:
    """Return the folder of a shipped data set.

    Parameters
    ----------
    name : {"geo", "catalog", "scenarios", "notebooks"}
        Which folder.

    Returns
    -------
    Path
        ``<repo>/<BUNDLED[name]>`` in a source checkout, else
        ``<site-packages>/k360lib/_bundle/<name>``. The folder need not
        exist (callers report a missing file with their own message).

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`BUNDLED`.
    """
    if name not in BUNDLED:
        raise ValueError(f"unknown bundled folder {name!r}; expected one of {', '.join(BUNDLED)}")
    root = source_checkout()
    if root is not None and (root / BUNDLED[name]).is_dir():
        return root / BUNDLED[name]
    return PACKAGE_BUNDLE / name
