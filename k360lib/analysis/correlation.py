"""Correlations between indicators across social areas.

The unit of observation is the Sozialraum: for one year, every area with a
public value of both indicators counts once. Suppressed and missing values
are left out pairwise (each pair uses the areas that have both values; the
number is reported as ``n``).

Counts (``kind`` ``count`` or ``capacity`` in the catalog) mostly measure the
size of an area; correlating them shows that big areas are big. The default
selection (:func:`default_indicators`) therefore takes rates, shares and other
relative indicators only; pass ``indicators=`` to choose yourself.

Spearman's rank correlation is the default: it needs no normal distribution
and a single extreme area does not dominate it — with 20 to 600 areas that is
the safer choice. ``method="pearson"`` gives the linear correlation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from k360lib.errors import DataError
from k360lib.i18n import normalize_lang

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.model import Atlas

__all__ = [
    "METHODS",
    "MIN_AREAS",
    "correlate",
    "correlation_pairs",
    "default_indicators",
    "public_wide",
]

#: Correlation methods.
METHODS: tuple[str, ...] = ("spearman", "pearson", "kendall")
#: A pair needs at least this many areas with both values to get a coefficient.
MIN_AREAS = 5
#: Catalog kinds left out of the default selection (they measure size, not need).
SIZE_KINDS = frozenset({"count", "capacity"})


def _check_method(method: str) -> str:
    key = str(method).strip().lower()
    if key not in METHODS:
        raise DataError("analysis.bad_method", method=method, valid=", ".join(METHODS))
    return key


def default_indicators(atlas: Atlas) -> list[str]:
    """Return the indicators worth correlating: all but counts and capacities.

    Without a catalog ``kind`` every indicator counts.

    Examples
    --------
    >>> from k360lib.atlas.demo import demo_atlas
    >>> ids = default_indicators(demo_atlas())
    >>> "sgb2_u15_rate" in ids, "pop_total" in ids
    (True, False)
    """
    out = []
    for ind in atlas.indicator_ids:
        kind = str(atlas.indicator_info(ind).get("kind") or "").strip().lower()
        if kind not in SIZE_KINDS:
            out.append(ind)
    return out


def _choose(atlas: Atlas, indicators, year) -> tuple[list[str], int]:
    from k360lib.atlas.indicators import _check_year, _common_year, _known_or_raise

    ids = default_indicators(atlas) if indicators is None else list(dict.fromkeys(indicators))
    _known_or_raise(atlas, ids)
    if len(ids) < 2:
        raise DataError("analysis.too_few_indicators", n=len(ids))
    if year is None:
        return ids, _common_year(atlas, ids)
    for ind in ids:
        yr = _check_year(atlas, ind, year)
    return ids, yr


def public_wide(
    atlas: Atlas, indicators: list[str] | None = None, year: int | None = None
) -> pd.DataFrame:
    """Return one row per area (index ``area_id``) and one column per indicator.

    Values are the public ones (:func:`k360lib.atlas.privacy.public_values`):
    suppressed and missing cells are NaN.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    indicators : list of str, optional
        Indicator ids; default :func:`default_indicators`.
    year : int, optional
        Year; default the latest year all chosen indicators have.

    Returns
    -------
    pandas.DataFrame
        ``attrs["year"]`` holds the year used.
    """
    import pandas as pd

    from k360lib.atlas.privacy import public_values

    ids, yr = _choose(atlas, indicators, year)
    cols = {}
    for ind in ids:
        vals = public_values(atlas, ind, yr)
        cols[ind] = vals["value"].astype(float).to_numpy()
    out = pd.DataFrame(cols, index=pd.Index(atlas.areas["area_id"].astype(str), name="area_id"))
    out.attrs["year"] = yr
    return out


def correlate(
    atlas: Atlas,
    indicators: list[str] | None = None,
    year: int | None = None,
    method: str = "spearman",
    min_areas: int = MIN_AREAS,
) -> pd.DataFrame:
    """Return the correlation matrix of indicators across areas.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    indicators : list of str, optional
        Indicator ids (at least two); default :func:`default_indicators`.
    year : int, optional
        Year; default the latest year all chosen indicators have.
    method : {"spearman", "pearson", "kendall"}
        Correlation coefficient.
    min_areas : int
        Pairs with fewer areas having both values get NaN.

    Returns
    -------
    pandas.DataFrame
        Square, indicator ids as index and columns, 1 on the diagonal;
        ``attrs`` holds ``year`` and ``method``.

    Raises
    ------
    DataError
        Unknown indicators, fewer than two, a year without data, an unknown method.

    Examples
    --------
    >>> from k360lib.atlas.demo import demo_atlas
    >>> m = correlate(demo_atlas(), ["sgb2_u15_rate", "unemployment"], 2024)
    >>> bool(m.loc["sgb2_u15_rate", "unemployment"] > 0.5)
    True
    """
    method = _check_method(method)
    wide = public_wide(atlas, indicators, year)
    matrix = wide.corr(method=method, min_periods=int(min_areas))
    matrix.index.name = None
    matrix.columns.name = None
    matrix.attrs.update(year=wide.attrs["year"], method=method)
    return matrix


def correlation_pairs(
    atlas: Atlas,
    indicators: list[str] | None = None,
    year: int | None = None,
    method: str = "spearman",
    min_areas: int = MIN_AREAS,
    lang: str | None = None,
) -> pd.DataFrame:
    """Return every pair of indicators with coefficient, p-value and number of areas.

    Parameters
    ----------
    atlas, indicators, year, method, min_areas
        As for :func:`correlate`.
    lang : str, optional
        Language of the label columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator_a, indicator_b, label_a, label_b, method, year, n,
        r, p``, sorted by ``|r|`` (strongest first). ``p`` is the two-sided
        p-value of the test "no correlation" (scipy); with many pairs some are
        small by chance — read them as a screening, not as proof.
    """
    import numpy as np
    import pandas as pd
    from scipy import stats

    lang = normalize_lang(lang)
    method = _check_method(method)
    wide = public_wide(atlas, indicators, year)
    tests = {"spearman": stats.spearmanr, "pearson": stats.pearsonr, "kendall": stats.kendalltau}
    ids = list(wide.columns)
    rows = []
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            pair = wide[[a, b]].dropna()
            n = len(pair)
            r = p = float("nan")
            if n >= int(min_areas) and pair[a].nunique() > 1 and pair[b].nunique() > 1:
                res = tests[method](pair[a].to_numpy(), pair[b].to_numpy())
                r, p = float(res[0]), float(res[1])
            rows.append(
                {
                    "indicator_a": a,
                    "indicator_b": b,
                    "label_a": atlas.label(a, lang),
                    "label_b": atlas.label(b, lang),
                    "method": method,
                    "year": wide.attrs["year"],
                    "n": n,
                    "r": r,
                    "p": p,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        order = np.argsort(-out["r"].abs().fillna(-1).to_numpy(), kind="stable")
        out = out.iloc[order].reset_index(drop=True)
    return out
