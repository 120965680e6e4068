"""First-view snapshots: what an app shows first, cached on disk per dataset.

A Voilà page is "loaded" when its map is drawn and its controls work. For
the atlas explorer almost all the kernel's time before that goes into
importing pandas/geopandas and reading the city's files (~0.7 s of ~1 s), yet
what the page shows first — the map document, the first state, the options
of the controls — is the same for every visitor of the same data. So the
first kernel serving a dataset writes those strings into a *snapshot*; later
kernels show the snapshot at once and load the data in the background (see
:meth:`k360lib.widgets.AtlasExplorer.from_folder`).

A snapshot is keyed by everything its content depends on:

- the bytes of the dataset's files (:func:`files_fingerprint`), not their
  dates, so a copied folder hits and an edited file misses;
- the k360 code that renders it and the versions of the rendering packages
  (:func:`code_fingerprint`);
- the options of the view (language, title, …), passed by the caller.

Snapshots live next to the geometry cache (:func:`k360lib.maps.geometry.cache_dir`,
``snapshots/<kind>/<key>.json``); ``K360_CACHE_DIR=off`` disables them like
every k360 cache. A snapshot that cannot be read is ignored (the caller
renders normally); one that cannot be written is skipped.

This module imports nothing heavy (no pandas, numpy or folium): it runs
before the data is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = [
    "MAX_SNAPSHOTS",
    "SNAPSHOT_VERSION",
    "code_fingerprint",
    "files_fingerprint",
    "load_snapshot",
    "snapshot_key",
    "snapshot_path",
    "store_snapshot",
]

#: bump when the layout of snapshots changes (invalidates every stored snapshot)
SNAPSHOT_VERSION = 1
#: snapshots kept per kind (the oldest are removed when a new one is stored)
MAX_SNAPSHOTS = 20
#: code whose output a snapshot holds (folders and files relative to ``k360lib/``)
_CODE = ("atlas", "maps", "report", "messages", "widgets/atlas_explorer.py", "i18n.py")
#: installed packages whose output a snapshot holds (their ``__init__`` file's size and date
#: stand for the version: reading package metadata costs more than the rest of the key)
_PACKAGES = (
    "folium",
    "branca",
    "xstatic.pkg.leaflet",
    "xstatic.pkg.leaflet_markercluster",
    "mapclassify",
    "ipywidgets",
)
_code_fp: str | None = None


def files_fingerprint(folder: str | os.PathLike, names) -> str:
    """Return a hash of the names and bytes of ``names`` in ``folder`` (missing files count too).

    Parameters
    ----------
    folder : str or path-like
        Dataset folder.
    names : iterable of str
        File names inside ``folder``.

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256()
    folder = Path(folder)
    for name in names:
        h.update(f"{name}\x1f".encode())
        path = folder / name
        try:
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        except FileNotFoundError:
            h.update(b"\x00missing")
        h.update(b"\x1e")
    return h.hexdigest()


def code_fingerprint() -> str:
    """Return a hash of the k360 sources and package versions a snapshot depends on (cached)."""
    global _code_fp
    if _code_fp is None:
        import importlib.util

        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256(f"v{SNAPSHOT_VERSION}|".encode())
        for part in _CODE:
            path = root / part
            files = sorted(path.rglob("*")) if path.is_dir() else [path]
            for f in files:
                if f.suffix in (".py", ".json") and f.is_file():
                    h.update(f"{f.relative_to(root).as_posix()}\x1f".encode())
                    h.update(f.read_bytes())
        for name in _PACKAGES:
            try:
                spec = importlib.util.find_spec(name)
                st = os.stat(spec.origin)
                h.update(f"{name}={spec.origin}:{st.st_size}:{st.st_mtime_ns};".encode())
            except (ImportError, AttributeError, TypeError, ValueError, OSError):
                h.update(f"{name}=?;".encode())
        _code_fp = h.hexdigest()
    return _code_fp


def snapshot_key(data_fingerprint: str, options: dict) -> str:
    """Return the key of a snapshot of data ``data_fingerprint`` shown with ``options``.

    ``options`` must be JSON-serialisable (use ``repr`` for other objects).
    """
    h = hashlib.sha256()
    h.update(code_fingerprint().encode())
    h.update(data_fingerprint.encode())
    h.update(json.dumps(options, sort_keys=True, ensure_ascii=True, default=repr).encode())
    return h.hexdigest()[:32]


def snapshot_path(kind: str, key: str) -> Path | None:
    """Return the file of snapshot ``key`` of ``kind`` (``None`` when caching is off)."""
    from k360lib.maps.geometry import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    return folder.parent / "snapshots" / kind / f"{key}.json"


def load_snapshot(kind: str, key: str) -> dict | None:
    """Return the stored snapshot, or ``None`` when there is none or it cannot be read."""
    path = snapshot_path(kind, key)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        return None
    return data


def store_snapshot(kind: str, key: str, data: dict) -> Path | None:
    """Write a snapshot atomically; return its path (``None`` if caching is off or it failed)."""
    path = snapshot_path(kind, key)
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps({**data, "version": SNAPSHOT_VERSION}, ensure_ascii=False),
            encoding="utf-8",
        )
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):  # a read-only cache folder must not break the app
        return None
    _prune(path.parent)
    return path


def _prune(folder: Path) -> None:
    """Remove all but the :data:`MAX_SNAPSHOTS` most recently written snapshots in ``folder``."""
    try:
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in files[MAX_SNAPSHOTS:]:
            old.unlink(missing_ok=True)
    except OSError:  # another kernel pruned at the same time
        pass
