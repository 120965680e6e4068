"""Analyses for data staff: correlations between indicators and spatial autocorrelation.

``import k360lib.analysis`` is light; pandas, scipy and PySAL (``esda``,
``libpysal`` — the optional extra ``k360[analysis]``) load on first use.

- :mod:`~k360lib.analysis.correlation` — :func:`public_wide` (one row per area,
  one column per indicator, suppressed values left out), :func:`correlate`
  (correlation matrix) and :func:`correlation_pairs` (every pair with r, p
  and the number of areas).
- :mod:`~k360lib.analysis.spatial` — :func:`spatial_weights` (Queen/Rook
  contiguity or k nearest neighbours), :func:`morans_i` (global Moran's I)
  and :func:`local_clusters` (local Moran, LISA clusters).
- :mod:`~k360lib.analysis.export` — :func:`save_table` and
  :func:`save_workbook` write CSV (German or English Excel format) and XLSX.

Every function uses the *public* values of the atlas
(:func:`k360lib.atlas.privacy.public_values`): a suppressed small number
never enters a result or an export.

Examples
--------
>>> from k360lib.atlas.demo import demo_atlas
>>> from k360lib.analysis import morans_i
>>> res = morans_i(demo_atlas(), "sgb2_u15_rate", 2024, permutations=99, seed=1)
>>> res.n, res.I > 0
(24, True)
"""

from __future__ import annotations

import importlib

_LAZY = {
    "correlate": "k360lib.analysis.correlation",
    "correlation_pairs": "k360lib.analysis.correlation",
    "default_indicators": "k360lib.analysis.correlation",
    "public_wide": "k360lib.analysis.correlation",
    "CLUSTER_KEYS": "k360lib.analysis.spatial",
    "MoranResult": "k360lib.analysis.spatial",
    "local_clusters": "k360lib.analysis.spatial",
    "morans_i": "k360lib.analysis.spatial",
    "spatial_weights": "k360lib.analysis.spatial",
    "save_table": "k360lib.analysis.export",
    "save_workbook": "k360lib.analysis.export",
    "labelled": "k360lib.analysis.export",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'k360lib.analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
