"""Hotspots: areas with high need and low supply.

*Need* is the composite need index (:func:`k360lib.atlas.indicators.need_index`),
*supply* one of (:func:`supply_options`):

- facilities per 1,000 residents (the count indicator with the largest
  values is taken as the residents; facilities are assigned to areas by their
  ``area_id`` or, without one, by the polygon they lie in);
- the number of facilities;
- an indicator whose higher values mean *less* need (polarity −1), such as
  Kita places per 100 children.

An area is a **hotspot** when its need index is in the upper third of all
areas *and* its supply in the lower third (:data:`HIGH_NEED`,
:data:`LOW_SUPPLY`). The *gap* ``z(need) − z(supply)`` (both standardised
across areas) orders areas by how much need outruns supply. Suppressed or
missing supply values are never ranked and never make an area a hotspot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from k360lib.errors import DataError
from k360lib.i18n import normalize_lang, t
from k360lib.report.profile import info_of, label_of, unit_of

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.indicators import NeedIndex
    from k360lib.atlas.model import Atlas

__all__ = [
    "HIGH_NEED",
    "LOW_SUPPLY",
    "Supply",
    "facility_counts",
    "hotspots",
    "population_indicator",
    "supply",
    "supply_options",
]

#: need index at or above this quantile counts as high need
HIGH_NEED = 2 / 3
#: supply at or below this quantile counts as low supply
LOW_SUPPLY = 1 / 3

FACILITIES_PER_1000 = "facilities_per_1000"
FACILITIES_COUNT = "facilities_count"
INDICATOR_PREFIX = "indicator:"


@dataclass(eq=False)
class Supply:
    """Supply values per area (in ``atlas.areas`` order).

    Attributes
    ----------
    key : str
        Option key (see :func:`supply_options`).
    label : str
        What is measured, in the requested language.
    unit : str
        Unit of the values.
    values : list of float
        NaN where there is no value.
    suppressed : list of bool
        Values withheld by the small-number rule.
    decimals : int
        Decimals to show.
    """

    key: str
    label: str
    unit: str
    values: list
    suppressed: list
    decimals: int = 1


def population_indicator(atlas: Atlas) -> str | None:
    """Return the count indicator most likely to be the residents (largest median), if any."""
    counts = [i for i in atlas.indicator_ids if info_of(atlas, i).get("kind") == "count"]
    if not counts:
        return None
    ind = atlas.indicators
    medians = ind[ind["indicator"].isin(counts)].groupby("indicator")["value"].median().dropna()
    if medians.empty:
        return None
    return str(max(counts, key=lambda i: (float(medians.get(i, -1.0)), -counts.index(i))))


def facility_counts(atlas: Atlas, kinds=None) -> pd.DataFrame:
    """Return ``area_id, n, capacity`` per area: facilities (of ``kinds``) inside each area.

    Facilities are assigned by their ``area_id`` when it names an area, else
    by the area polygon that contains them.
    """
    import geopandas as gpd
    import pandas as pd

    ids = atlas.areas["area_id"].astype(str)
    fac = atlas.facilities
    out = pd.DataFrame({"area_id": ids, "n": 0, "capacity": 0.0})
    if fac is None or len(fac) == 0:
        return out
    if kinds is not None:
        fac = fac[fac["kind"].astype(str).isin([str(k) for k in kinds])]
    if len(fac) == 0:
        return out
    known = set(ids)
    area = (
        fac["area_id"].astype(str).where(fac["area_id"].astype(str).isin(known))
        if "area_id" in fac.columns
        else pd.Series([None] * len(fac), index=fac.index)
    )
    missing = area.isna() & fac.geometry.notna()
    if missing.any():
        pts = fac.loc[missing, [fac.geometry.name]].to_crs(atlas.areas.crs)
        joined = gpd.sjoin(
            pts, atlas.areas[["area_id", "geometry"]], predicate="within", how="left"
        )
        joined = joined[~joined.index.duplicated()]
        area.loc[missing] = joined["area_id"].astype(object).reindex(pts.index)
    cap = (
        pd.to_numeric(fac["capacity"], errors="coerce")
        if "capacity" in fac.columns
        else pd.Series(0.0, index=fac.index)
    )
    grouped = pd.DataFrame({"area_id": area, "capacity": cap}).dropna(subset=["area_id"])
    n = grouped.groupby("area_id").size()
    c = grouped.groupby("area_id")["capacity"].sum(min_count=1)
    out["n"] = out["area_id"].map(n).fillna(0).astype(int)
    out["capacity"] = out["area_id"].map(c).astype(float)
    return out


def supply_options(atlas: Atlas, lang: str | None = None) -> list[tuple[str, str]]:
    """Return ``(label, key)`` of every supply measure the atlas allows, best first."""
    lang = normalize_lang(lang)
    out = []
    has_fac = atlas.facilities is not None and len(atlas.facilities) > 0
    pop = population_indicator(atlas)
    if has_fac and pop:
        out.append(
            (
                t("report.supply.per_1000", lang, population=label_of(atlas, pop, lang)),
                FACILITIES_PER_1000,
            )
        )
    for ind in atlas.indicator_ids:
        info = info_of(atlas, ind)
        try:
            pol = int(float(info.get("polarity")))
        except (TypeError, ValueError):
            pol = 0
        if pol == -1 and info.get("kind") not in ("count", "capacity"):
            out.append((label_of(atlas, ind, lang), INDICATOR_PREFIX + ind))
    if has_fac:
        out.append((t("report.supply.count", lang), FACILITIES_COUNT))
    return out


def supply(
    atlas: Atlas, key: str, year: int | None = None, kinds=None, lang: str | None = None
) -> Supply:
    """Return the supply measure ``key`` (see :func:`supply_options`) for ``year``.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    key : str
        A key from :func:`supply_options`.
    year : int, optional
        Year of indicator values (default: the latest year they have).
    kinds : iterable of str, optional
        Facility kinds counted (default all).
    lang : str, optional
        Language of the label.

    Raises
    ------
    DataError
        Unknown key or an indicator that is not in the atlas.
    """
    from k360lib.atlas.privacy import public_values
    from k360lib.maps.format import decimals_for

    lang = normalize_lang(lang)
    if key.startswith(INDICATOR_PREFIX):
        ind = key[len(INDICATOR_PREFIX) :]
        years = sorted(
            int(y)
            for y in atlas.indicators.loc[atlas.indicators["indicator"] == ind, "year"].unique()
        )
        if not years:
            raise DataError(
                "atlas.model.unknown_indicator", indicator=ind, known=", ".join(atlas.indicator_ids)
            )
        yr = year if year in years else years[-1]
        vals = public_values(atlas, ind, yr)
        info = info_of(atlas, ind)
        values = vals["value"].astype(float).tolist()
        return Supply(
            key,
            label_of(atlas, ind, lang),
            unit_of(atlas, ind, lang),
            values,
            vals["suppressed"].astype(bool).tolist(),
            decimals_for(values, info.get("kind")),
        )
    counts = facility_counts(atlas, kinds)
    if key == FACILITIES_COUNT:
        return Supply(
            key,
            t("report.supply.count", lang),
            "",
            counts["n"].astype(float).tolist(),
            [False] * len(counts),
            0,
        )
    if key == FACILITIES_PER_1000:
        pop = population_indicator(atlas)
        if pop is None:
            raise DataError("report.no_population")
        years = sorted(
            int(y)
            for y in atlas.indicators.loc[atlas.indicators["indicator"] == pop, "year"].unique()
        )
        yr = year if year in years else years[-1]
        pv = public_values(atlas, pop, yr)
        people = pv["value"].astype(float).to_numpy()
        n = counts["n"].astype(float).to_numpy()
        values = [
            (c / p * 1000.0) if (p == p and p > 0) else float("nan") for c, p in zip(n, people)
        ]
        return Supply(
            key,
            t("report.supply.per_1000", lang, population=label_of(atlas, pop, lang)),
            t("report.supply.per_1000_unit", lang),
            values,
            pv["suppressed"].astype(bool).tolist(),
            2,
        )
    raise DataError("report.unknown_supply", key=key)


def _z(values):
    import numpy as np

    x = np.asarray(values, dtype=float)
    ok = np.isfinite(x)
    z = np.full(x.shape, np.nan)
    if ok.sum() >= 2 and x[ok].std() > 0:
        z[ok] = (x[ok] - x[ok].mean()) / x[ok].std()
    elif ok.any():
        z[ok] = 0.0
    return z


def hotspots(
    atlas: Atlas,
    need: NeedIndex,
    supply_: Supply,
    lang: str | None = None,
    high_need: float = HIGH_NEED,
    low_supply: float = LOW_SUPPLY,
) -> pd.DataFrame:
    """Return one row per area: need, supply, their ranks, the gap and the hotspot flag.

    Parameters
    ----------
    atlas : Atlas
        The atlas (names, districts).
    need : NeedIndex
        From :func:`k360lib.atlas.indicators.need_index`.
    supply_ : Supply
        From :func:`supply`.
    lang : str, optional
        Language of the text columns.
    high_need, low_supply : float
        Quantiles of the hotspot rule (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        ``area_id, name, district, need_score, need_rank, supply, supply_text,
        supply_rank (1 = least supply), gap, hotspot``, sorted by ``gap``
        (largest first; areas without a gap last).
    """
    import numpy as np
    import pandas as pd

    from k360lib.atlas.classify import MISSING_LABEL_KEY, SUPPRESSED_LABEL_KEY
    from k360lib.maps.format import format_value

    lang = normalize_lang(lang)
    areas = atlas.areas
    districts = atlas.meta.get("districts") if isinstance(atlas.meta.get("districts"), dict) else {}
    parents = (
        [
            "" if p is None or p != p else str(districts.get(str(p), p))
            for p in areas["parent_id"].tolist()
        ]
        if "parent_id" in areas.columns
        else [""] * len(areas)
    )
    table = need.table.set_index("area_id")
    ids = areas["area_id"].astype(str).tolist()
    score = table["score"].reindex(ids).astype(float).to_numpy()
    need_rank = table["rank"].reindex(ids)
    sup = np.asarray(supply_.values, dtype=float)
    supp = np.asarray(supply_.suppressed, dtype=bool)
    sup = np.where(supp, np.nan, sup)
    ok_s = np.isfinite(sup)
    ok_n = np.isfinite(score)
    supply_rank = pd.Series(sup).rank(method="min", ascending=True)
    gap = _z(score) - _z(sup)
    hot = np.zeros(len(ids), dtype=bool)
    if ok_n.any() and ok_s.any():
        need_cut = float(np.quantile(score[ok_n], high_need))
        sup_cut = float(np.quantile(sup[ok_s], low_supply))
        hot = ok_n & ok_s & (score >= need_cut) & (sup <= sup_cut)
    texts = []
    for v, s in zip(sup, supp):
        if s:
            texts.append(t(SUPPRESSED_LABEL_KEY, lang))
        elif not math.isfinite(v):
            texts.append(t(MISSING_LABEL_KEY, lang))
        else:
            texts.append(format_value(v, supply_.unit, lang, supply_.decimals))
    out = pd.DataFrame(
        {
            "area_id": ids,
            "name": areas["name"].astype(str).tolist(),
            "district": parents,
            "need_score": score,
            "need_rank": need_rank.to_numpy(),
            "supply": sup,
            "supply_text": texts,
            "supply_rank": supply_rank.astype("Int64").to_numpy(),
            "gap": gap,
            "hotspot": hot,
        }
    )
    return out.sort_values("gap", ascending=False, na_position="last", kind="stable").reset_index(
        drop=True
    )
