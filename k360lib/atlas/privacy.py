"""Small-number suppression (Geheimhaltung) for indicator tables.

The rule, applied by :func:`suppress_counts` and :func:`apply_suppression`:

1. **Counts.** Every value of an indicator whose catalog ``kind`` is
   ``"count"`` and that is below the threshold (default
   :data:`DEFAULT_THRESHOLD` = 3) is suppressed: ``suppressed=True`` and the
   value is replaced by NaN. **Zero is suppressed too.** A published 0 next to
   published 1s and 2s would tell readers that every hidden cell is 1 or 2,
   and a 0 in a small area combined with a known total reveals something about
   every family living there ("no child here gets …"). Statistical offices
   handle zeros differently; suppressing them is the safe default. Missing
   values (NaN) stay missing and are not marked as suppressed.
2. **Rates and shares.** A catalog row that names a ``numerator`` and/or a
   ``denominator`` is suppressed for every (area, year) in which one of them
   is suppressed — transitively, so a rate built from a suppressed rate is
   suppressed as well, even when the rate in between has no row.

Values that are already marked suppressed (e.g. ``"–"`` cells of an import)
stay suppressed. Suppressed values are removed, not hidden: the original number
is not kept anywhere in the returned table.

Not covered (do this in the source data when it matters): *secondary*
suppression against differencing — e.g. a district total minus the published
areas revealing the one suppressed area.

Examples
--------
>>> import pandas as pd
>>> ind = pd.DataFrame({"area_id": ["a", "b"], "indicator": "births", "year": 2024,
...                     "value": [2.0, 40.0], "suppressed": False})
>>> cat = pd.DataFrame({"id": ["births"], "kind": ["count"]})
>>> suppress_counts(ind, cat)[["area_id", "value", "suppressed"]].to_dict("records")
[{'area_id': 'a', 'value': nan, 'suppressed': True}, {'area_id': 'b', 'value': 40.0, 'suppressed': False}]
"""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING

from k360lib.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.model import Atlas

__all__ = [
    "DEFAULT_THRESHOLD",
    "apply_suppression",
    "assert_no_suppressed_values",
    "check_threshold",
    "derived_inputs",
    "public_values",
    "suppress_counts",
]

#: Counts below this number are not shown (a common rule of German statistical offices).
DEFAULT_THRESHOLD = 3


def check_threshold(threshold) -> int:
    """Return ``threshold`` as ``int`` if it is a whole number ``>= 1``.

    Raises
    ------
    DataError
        For anything else (floats, text, ``True``/``False``, 0, negative numbers).
    """
    if isinstance(threshold, bool) or not isinstance(threshold, Integral) or int(threshold) < 1:
        raise DataError("atlas.privacy.bad_threshold", value=repr(threshold))
    return int(threshold)


def _text(value) -> str:
    """Catalog cell as stripped text; ``""`` for NaN/None."""
    if value is None:
        return ""
    try:
        if value != value:  # NaN
            return ""
    except (TypeError, ValueError):  # pragma: no cover - exotic cell types
        pass
    return str(value).strip()


def derived_inputs(catalog: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Return ``{indicator: (numerator, denominator)}`` for catalog rows that name inputs.

    Empty cells are left out, so a row with only a numerator maps to a 1-tuple.
    """
    if catalog is None or "id" not in catalog.columns:
        return {}
    out: dict[str, tuple[str, ...]] = {}
    cols = [c for c in ("numerator", "denominator") if c in catalog.columns]
    for _, row in catalog.iterrows():
        inputs = tuple(x for x in (_text(row[c]) for c in cols) if x)
        if inputs:
            out[_text(row["id"])] = inputs
    return out


def _count_ids(catalog: pd.DataFrame) -> set[str]:
    if catalog is None or "id" not in catalog.columns or "kind" not in catalog.columns:
        return set()
    kinds = catalog["kind"].map(_text).str.lower()
    return {_text(i) for i in catalog.loc[kinds == "count", "id"]}


def suppress_counts(
    indicators: pd.DataFrame, catalog: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """Suppress small counts and every rate computed from them.

    Parameters
    ----------
    indicators : pandas.DataFrame
        Long table ``area_id, indicator, year, value[, suppressed]``.
    catalog : pandas.DataFrame
        Indicator catalog (``id``, ``kind``, ``numerator``, ``denominator``).
    threshold : int
        Counts ``< threshold`` (including 0) are suppressed; whole number ``>= 1``.

    Returns
    -------
    pandas.DataFrame
        A copy with ``suppressed`` set and suppressed values replaced by NaN;
        rows, order and other columns unchanged.

    Raises
    ------
    DataError
        If ``threshold`` is not a whole number ``>= 1``.
    """
    import numpy as np

    threshold = check_threshold(threshold)
    out = indicators.copy()
    if "suppressed" not in out.columns:
        out["suppressed"] = False
    supp = out["suppressed"].fillna(False).astype(bool).to_numpy().copy()
    values = out["value"].astype(float).to_numpy()

    counts = _count_ids(catalog)
    is_count = out["indicator"].astype(str).isin(counts).to_numpy()
    supp |= is_count & ~np.isnan(values) & (values < threshold)

    # propagate along numerator/denominator links until nothing changes
    inputs = derived_inputs(catalog)
    if inputs:
        ind = out["indicator"].astype(str).to_numpy()
        keys = list(zip(out["area_id"].astype(str), out["year"].astype(int), strict=True))
        hidden: dict[str, set] = {}
        for i in np.flatnonzero(supp):
            hidden.setdefault(ind[i], set()).add(keys[i])
        changed = True
        while changed:
            changed = False
            for target, srcs in inputs.items():
                union = set().union(*(hidden.get(s, set()) for s in srcs))
                have = hidden.setdefault(target, set())
                if not union <= have:
                    have |= union
                    changed = True
        for i, (name, key) in enumerate(zip(ind, keys, strict=True)):
            if not supp[i] and key in hidden.get(name, ()):
                supp[i] = True

    out["suppressed"] = supp
    out["value"] = np.where(supp, np.nan, values)
    return out


def apply_suppression(atlas: Atlas, threshold: int = DEFAULT_THRESHOLD) -> Atlas:
    """Return a new atlas with :func:`suppress_counts` applied.

    The threshold is recorded in ``meta["suppression_threshold"]`` so that
    maps and exports can say which rule was used. The input atlas is not changed.
    """
    from k360lib.atlas.model import Atlas

    threshold = check_threshold(threshold)
    ind = suppress_counts(atlas.indicators, atlas.catalog, threshold)
    meta = dict(atlas.meta)
    meta["suppression_threshold"] = threshold
    return Atlas(atlas.areas, ind, atlas.catalog.copy(), atlas.facilities, meta)


def assert_no_suppressed_values(
    df: pd.DataFrame, value_columns: tuple[str, ...] = ("value",)
) -> pd.DataFrame:
    """Guard for maps and exports: fail if a suppressed row still carries a number.

    Parameters
    ----------
    df : pandas.DataFrame
        A table with a boolean ``suppressed`` column.
    value_columns : tuple of str
        Columns that must be NaN where ``suppressed`` is true (those present
        in ``df`` are checked).

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, so the guard can be chained.

    Raises
    ------
    DataError
        If ``suppressed`` is missing, or a suppressed row has a value (the
        message names area, indicator and year where known).
    """
    if "suppressed" not in df.columns:
        raise DataError("atlas.privacy.no_flag")
    supp = df["suppressed"].fillna(False).astype(bool)
    for col in value_columns:
        if col not in df.columns:
            continue
        leak = supp & df[col].notna()
        if leak.any():
            row = df[leak].iloc[0]
            raise DataError(
                "atlas.privacy.leak",
                area=str(row["area_id"]) if "area_id" in df.columns else None,
                indicator=str(row.get("indicator", "?")),
                year=str(row.get("year", "?")),
                n=int(leak.sum()),
            )
    return df


def public_values(
    atlas: Atlas, indicator: str, year: int | None = None, threshold: int | None = None
) -> pd.DataFrame:
    """Return ``area_id, value, suppressed`` of one indicator and year, safe to show.

    The suppression rule is (re-)applied here, so values are safe even for an
    atlas on which :func:`apply_suppression` was never called. The threshold
    is ``threshold`` if given, else ``atlas.meta["suppression_threshold"]``,
    else :data:`DEFAULT_THRESHOLD`. One row per area (like
    :meth:`~k360lib.atlas.model.Atlas.values`); ``year=None`` takes the latest year.
    """
    if threshold is None:
        threshold = atlas.meta.get("suppression_threshold", DEFAULT_THRESHOLD)
    threshold = check_threshold(threshold)
    base = atlas.values(indicator, year)  # validates the indicator, fills missing areas
    if year is None:
        ind = atlas.indicators
        year = int(ind.loc[ind["indicator"] == indicator, "year"].max())
    # only the indicator and what it is computed from matter
    inputs = derived_inputs(atlas.catalog)
    needed, todo = set(), [indicator]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(inputs.get(name, ()))
    ind = atlas.indicators
    sub = ind[ind["indicator"].isin(needed) & (ind["year"] == int(year))]
    sub = suppress_counts(sub, atlas.catalog, threshold)
    mine = sub[sub["indicator"] == indicator].set_index("area_id")
    out = base.copy()
    flag = out["area_id"].map(mine["suppressed"]).fillna(False).astype(bool)
    out["suppressed"] = out["suppressed"] | flag
    out.loc[out["suppressed"], "value"] = float("nan")
    return assert_no_suppressed_values(out[["area_id", "value", "suppressed"]])
