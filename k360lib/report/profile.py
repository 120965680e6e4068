"""Area profiles: key indicators of one Sozialraum next to the city, over the years.

Used by the map popups (:mod:`k360lib.maps`), the explorer's profile panel and
the printable profile (:mod:`k360lib.report.steckbrief`). Every value passes
the small-number rule first (:func:`public_indicators`), so a suppressed value
can never reach a profile.

The *city* figure is the unweighted mean of the areas' shown values (the
"typical Sozialraum"), not a city-wide rate; the tables say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from k360lib.i18n import normalize_lang, t

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.model import Atlas

__all__ = [
    "MAX_PROFILE_INDICATORS",
    "area_profile",
    "compact_profile",
    "default_profile_indicators",
    "indicator_decimals",
    "indicator_infos",
    "info_of",
    "label_of",
    "polarity_of",
    "profile_data",
    "public_indicators",
    "sources_of",
    "text_of",
    "unit_of",
]

#: most indicators in a profile (a popup must stay readable)
MAX_PROFILE_INDICATORS = 10
_PUBLIC_CACHE: dict[int, tuple[object, object, object]] = {}
_INFO_CACHE: dict[int, tuple[object, dict]] = {}


def indicator_infos(atlas: Atlas) -> dict[str, dict]:
    """Return every catalog row as ``{id: row dict}`` (NaN as ``None``), computed once per catalog.

    The same content as :meth:`Atlas.indicator_info`, without a table scan per call.
    """
    import weakref

    key = id(atlas)
    hit = _INFO_CACHE.get(key)
    if hit is not None and hit[0] is atlas.catalog:
        return hit[1]
    out: dict[str, dict] = {}
    cat = atlas.catalog
    if len(cat) and "id" in cat.columns:
        for row in cat.to_dict("records"):
            ind = row.get("id")
            if ind in out:
                continue
            out[ind] = {k: (None if _isna(v) else v) for k, v in row.items()}
    if hit is None:
        weakref.finalize(atlas, _INFO_CACHE.pop, key, None)
    _INFO_CACHE[key] = (atlas.catalog, out)
    return out


def _isna(v) -> bool:
    try:
        return v != v
    except (TypeError, ValueError):  # pragma: no cover
        return False


def info_of(atlas: Atlas, indicator: str) -> dict:
    """Return the catalog row of ``indicator`` (see :func:`indicator_infos`), with defaults."""
    found = indicator_infos(atlas).get(indicator)
    return found if found is not None else atlas.indicator_info(indicator)


def label_of(atlas: Atlas, indicator: str, lang: str | None = None) -> str:
    """Return the label of ``indicator`` in ``lang`` (as :meth:`Atlas.label`)."""
    info = info_of(atlas, indicator)
    return str(info.get(f"label_{normalize_lang(lang)}") or info.get("label_de") or indicator)


def text_of(
    atlas: Atlas, indicator: str, field: str, lang: str | None = None, *, fallback: bool = True
) -> str:
    """Return a catalog text (``unit``, ``theme``, ``description``) of ``indicator`` in ``lang``.

    The column ``<field>`` holds the German text; ``<field>_<lang>`` (e.g.
    ``theme_en``) a translation. Without a translation the German text is
    returned, or ``""`` when ``fallback`` is false.

    Examples
    --------
    >>> from k360lib.atlas.demo import demo_atlas
    >>> atlas = demo_atlas()
    >>> text_of(atlas, "pop_total", "theme", "de"), text_of(atlas, "pop_total", "theme", "en")
    ('Bevölkerung', 'Population')
    """
    info = info_of(atlas, indicator)
    lang = normalize_lang(lang)
    translated = info.get(f"{field}_{lang}")
    if translated:
        return str(translated)
    if lang != "de" and not fallback:
        return ""
    return str(info.get(field) or "")


def sources_of(atlas: Atlas, lang: str | None = None) -> list[str]:
    """Return the distinct data sources of the catalog, sorted (``source_<lang>`` if present)."""
    cat = atlas.catalog
    own = f"source_{normalize_lang(lang)}"
    found = set()
    for i in range(len(cat)):
        row = cat.iloc[i]
        value = row.get(own) if own in cat.columns else None
        if not (isinstance(value, str) and value.strip()):
            value = row.get("source")
        if value == value and value is not None and str(value).strip():
            found.add(str(value))
    return sorted(found)


def unit_of(atlas: Atlas, indicator: str, lang: str | None = None) -> str:
    """Return the unit of ``indicator`` in ``lang`` (``unit_<lang>`` if the catalog has it)."""
    return text_of(atlas, indicator, "unit", lang)


def polarity_of(atlas: Atlas, indicator: str) -> int:
    """Return the indicator's polarity as ``1``, ``-1`` or ``0`` (no direction)."""
    p = info_of(atlas, indicator).get("polarity")
    try:
        p = int(float(p))
    except (TypeError, ValueError):
        return 0
    return p if p in (1, -1) else 0


def public_indicators(atlas: Atlas) -> pd.DataFrame:
    """Return the whole long indicator table with the small-number rule applied.

    The same rule as :func:`k360lib.atlas.privacy.public_values` (threshold
    from ``atlas.meta``), applied to all indicators and years at once, and
    checked with :func:`~k360lib.atlas.privacy.assert_no_suppressed_values`.
    Cached per atlas object and indicator table.
    """
    import weakref

    from k360lib.atlas.privacy import (
        DEFAULT_THRESHOLD,
        assert_no_suppressed_values,
        check_threshold,
        suppress_counts,
    )

    key = id(atlas)
    hit = _PUBLIC_CACHE.get(key)
    if hit is not None and hit[0] is atlas.indicators and hit[1] is atlas.catalog:
        return hit[2]
    threshold = check_threshold(atlas.meta.get("suppression_threshold", DEFAULT_THRESHOLD))
    table = atlas.indicators
    if len(atlas.catalog):
        table = suppress_counts(table, atlas.catalog, threshold)
    else:
        table = table.copy()
        table.loc[table["suppressed"], "value"] = float("nan")
    assert_no_suppressed_values(table)
    if hit is None:
        weakref.finalize(atlas, _PUBLIC_CACHE.pop, key, None)
    _PUBLIC_CACHE[key] = (atlas.indicators, atlas.catalog, table)
    return table


def indicator_decimals(atlas: Atlas, indicator: str) -> int:
    """Decimals to show for ``indicator`` (see :func:`k360lib.maps.format.decimals_for`)."""
    from k360lib.maps.format import decimals_for

    ind = atlas.indicators
    values = ind.loc[ind["indicator"] == indicator, "value"].tolist()
    return decimals_for(values, info_of(atlas, indicator).get("kind"))


def default_profile_indicators(atlas: Atlas, limit: int = MAX_PROFILE_INDICATORS) -> list[str]:
    """Choose the key indicators of a profile: rates and shares with a direction.

    In catalog order; counts and capacities are left out (they grow with the
    area's size). Falls back to the first indicators when none qualifies.
    """
    out = []
    for ind in atlas.indicator_ids:
        info = info_of(atlas, ind)
        if info.get("kind") in ("count", "capacity"):
            continue
        if polarity_of(atlas, ind) == 0:
            continue
        out.append(ind)
    if not out:
        out = list(atlas.indicator_ids)
    return out[:limit]


def _round(value: float, decimals: int) -> float:
    r = round(float(value), decimals)
    return 0.0 if r == 0 else r


def profile_data(
    atlas: Atlas, indicators: list[str] | None = None, lang: str | None = None
) -> dict:
    """Return the compact profile data of every area for the map popups.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    indicators : list of str, optional
        Indicators in the profile; default :func:`default_profile_indicators`.
    lang : str, optional
        Language of the labels.

    Returns
    -------
    dict
        ``{"ind": [{"id", "label", "unit", "dec", "pol"}], "years": [...],
        "v": [[[value per area] per year] per indicator], "avg": [[mean per year]
        per indicator]}``. A value is a number rounded to ``dec`` decimals,
        ``None`` (no data) or ``"s"`` (suppressed: too few cases).

    See Also
    --------
    compact_profile : the same data with integers, as the map embeds it.
    """
    import numpy as np

    lang = normalize_lang(lang)
    if indicators is None:
        indicators = default_profile_indicators(atlas)
    table = public_indicators(atlas)
    table = table[table["indicator"].isin(indicators)]
    years = sorted(int(y) for y in table["year"].unique())
    area_ids = atlas.areas["area_id"].astype(str).tolist()
    # one (indicator, year) x area grid of values and of suppression flags
    keyed = table.set_index(["indicator", "year", "area_id"])
    values = keyed["value"].unstack("area_id").reindex(columns=area_ids)
    supp = keyed["suppressed"].astype(float).unstack("area_id").reindex(columns=area_ids)
    out = {"ind": [], "years": years, "v": [], "avg": []}
    for ind in indicators:
        dec = indicator_decimals(atlas, ind)
        out["ind"].append(
            {
                "id": ind,
                "label": label_of(atlas, ind, lang),
                "unit": unit_of(atlas, ind, lang),
                "dec": dec,
                "pol": polarity_of(atlas, ind),
            }
        )
        rows, avgs = [], []
        for year in years:
            key = (ind, year)
            if key in values.index:
                v = values.loc[key].to_numpy(dtype=float)
                s = supp.loc[key].to_numpy(dtype=float) == 1.0
            else:
                v = np.full(len(area_ids), np.nan)
                s = np.zeros(len(area_ids), dtype=bool)
            ok = np.isfinite(v) & ~s
            rounded = np.round(v, dec) + 0.0  # + 0.0 turns -0.0 into 0.0
            cells = [
                "s" if si else (float(r) if oki else None)
                for si, oki, r in zip(s.tolist(), ok.tolist(), rounded.tolist())
            ]
            rows.append(cells)
            avgs.append(_round(float(v[ok].mean()), dec) if ok.any() else None)
        out["v"].append(rows)
        out["avg"].append(avgs)
    return out


def area_profile(
    atlas: Atlas,
    area_id: str,
    year: int | None = None,
    indicators: list[str] | None = None,
    lang: str | None = None,
) -> pd.DataFrame:
    """Return one area's profile as a table: value, city mean, rank and trend per indicator.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    area_id : str
        The area.
    year : int, optional
        Year of the values; default the latest year of the profile.
    indicators : list of str, optional
        Default :func:`default_profile_indicators`.
    lang : str, optional
        Language of labels and number formats.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``indicator, label, unit, year, value, suppressed,
        value_text, city_mean, city_text, rank, n_ranked, direction`` (``"worse"``
        = more need than the city mean by more than 5 %, ``"better"``, ``""``),
        ``trend`` (``{year: value or None}``) and ``trend_text``.

    Raises
    ------
    DataError
        If ``area_id`` is not an area of the atlas.
    """
    import pandas as pd

    from k360lib.atlas.classify import MISSING_LABEL_KEY, SUPPRESSED_LABEL_KEY
    from k360lib.errors import DataError
    from k360lib.maps.format import format_value

    lang = normalize_lang(lang)
    ids = atlas.areas["area_id"].astype(str).tolist()
    if str(area_id) not in ids:
        raise DataError("report.unknown_area", area=str(area_id), n=len(ids))
    idx = ids.index(str(area_id))
    data = profile_data(atlas, indicators, lang)
    years = data["years"]
    if not years:
        return pd.DataFrame(
            columns=[
                "indicator",
                "label",
                "unit",
                "year",
                "value",
                "suppressed",
                "value_text",
                "city_mean",
                "city_text",
                "rank",
                "n_ranked",
                "direction",
                "trend",
                "trend_text",
            ]
        )
    yi = years.index(int(year)) if year is not None and int(year) in years else len(years) - 1
    rows = []
    for k, info in enumerate(data["ind"]):
        cells = data["v"][k][yi]
        v = cells[idx]
        avg = data["avg"][k][yi]
        numeric = [(c, j) for j, c in enumerate(cells) if isinstance(c, (int, float))]
        rank = None
        if isinstance(v, (int, float)):
            sign = -1 if info["pol"] < 0 else 1
            rank = 1 + sum(1 for c, _ in numeric if c * sign > v * sign)
        direction = ""
        if isinstance(v, (int, float)) and avg is not None and info["pol"]:
            diff = (v - avg) * info["pol"]
            if diff > abs(avg) * 0.05:
                direction = "worse"
            elif diff < -abs(avg) * 0.05:
                direction = "better"

        def text(c, info=info):
            if c == "s":
                return t(SUPPRESSED_LABEL_KEY, lang)
            if c is None:
                return t(MISSING_LABEL_KEY, lang)
            return format_value(c, info["unit"], lang, info["dec"])

        trend = {y: (data["v"][k][q][idx]) for q, y in enumerate(years)}
        rows.append(
            {
                "indicator": info["id"],
                "label": info["label"],
                "unit": info["unit"],
                "year": years[yi],
                "value": v if isinstance(v, (int, float)) else float("nan"),
                "suppressed": v == "s",
                "value_text": text(v),
                "city_mean": avg if avg is not None else float("nan"),
                "city_text": text(avg),
                "rank": rank,
                "n_ranked": len(numeric),
                "direction": direction,
                "trend": {
                    y: (c if isinstance(c, (int, float)) else None) for y, c in trend.items()
                },
                "trend_text": "; ".join(f"{y}: {text(c)}" for y, c in trend.items()),
            }
        )
    return pd.DataFrame(rows)


def compact_profile(data: dict) -> dict:
    """Return :func:`profile_data` with every number as an integer in units of ``10**-dec``.

    ``12.3`` with one decimal becomes ``123``: about a fifth fewer bytes for
    the map, which divides by ``10**dec`` again. ``None`` and ``"s"`` stay.
    """

    def scale(c, dec):
        return int(round(c * 10**dec)) if isinstance(c, (int, float)) else c

    out = {"ind": data["ind"], "years": data["years"], "v": [], "avg": []}
    for info, rows, avgs in zip(data["ind"], data["v"], data["avg"]):
        d = info["dec"]
        out["v"].append([[scale(c, d) for c in row] for row in rows])
        out["avg"].append([scale(a, d) for a in avgs])
    return out
