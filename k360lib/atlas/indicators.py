"""Derived indicators: rates, change over years, and the composite need index.

Everything here works on an :class:`~k360lib.atlas.model.Atlas` and returns
new objects; the input atlas is never changed.

**Need index** (:func:`need_index`), step by step — the same text is shown to
users by :meth:`NeedIndex.explain`:

1. For each chosen indicator take the values of one year (suppressed and
   missing values are left out).
2. Standardise across areas: ``z = (x - mean) / sd`` with the population
   standard deviation (``ddof=0``). An indicator whose available values are all
   equal carries no information and gets ``z = 0``.
3. Turn by polarity: ``z * polarity`` so that a positive z always means *more
   need* (polarity −1, e.g. a Kita coverage rate, flips the sign).
4. Weight: weights are normalised to sum 1 (a list of ids means equal weights);
   negative weights are refused.
5. Score = weighted mean of the available z of an area (weights re-normalised
   over what is available). Areas where less than half of the total weight is
   available get no score (NaN) and are listed in :attr:`NeedIndex.insufficient`.
6. Rank 1 = highest need (ties share the best rank).
7. Optional classes: ``classes=k`` gives quantile classes 1 … k (k = most
   need); ``classes="mss"`` gives four status classes in the spirit of the
   Berlin *Monitoring Soziale Stadtentwicklung* (see :data:`MSS_THRESHOLDS`).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import TYPE_CHECKING

from k360lib.errors import DataError
from k360lib.i18n import normalize_lang, t

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.classify import Classification
    from k360lib.atlas.model import Atlas
    from k360lib.atlas.report import ImportReport

__all__ = [
    "MIN_WEIGHT_SHARE",
    "MSS_CLASS_KEYS",
    "MSS_THRESHOLDS",
    "NeedIndex",
    "change",
    "derive_catalog_rates",
    "derive_rate",
    "factor_from_unit",
    "need_index",
    "need_scores",
]

#: An area needs at least this share of the total weight available to get a score.
MIN_WEIGHT_SHARE = 0.5

#: Status classes ("mss"): the score is re-standardised across areas,
#: ``s = (score - mean) / sd`` (ddof=0), and cut at these values (upper bounds
#: inclusive): ``s <= -0.5`` → 1 "Status hoch" (least need), ``-0.5 < s <= 0.5``
#: → 2 "mittel", ``0.5 < s <= 1.0`` → 3 "niedrig", ``s > 1.0`` → 4 "sehr
#: niedrig" (most need). This is the Berlin scheme's status cut (status ≥
#: mean + 0.5 sd high, below mean − 1 sd very low) turned around, because our
#: score measures need (= the negative of social status). It mimics the idea,
#: not the official MSS numbers, which use fixed indicators and a dynamics index.
MSS_THRESHOLDS: tuple[float, float, float] = (-0.5, 0.5, 1.0)
#: Message keys of the four status classes, class 1 … 4.
MSS_CLASS_KEYS: tuple[str, str, str, str] = (
    "atlas.indicators.mss.high",
    "atlas.indicators.mss.medium",
    "atlas.indicators.mss.low",
    "atlas.indicators.mss.very_low",
)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _known_or_raise(atlas: Atlas, ids) -> None:
    known = atlas.indicator_ids
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise DataError(
            "atlas.indicators.unknown",
            unknown=", ".join(map(str, unknown)),
            known=", ".join(known) or "–",
        )


def _years_of(atlas: Atlas, indicator: str) -> list[int]:
    ind = atlas.indicators
    return sorted(int(y) for y in ind.loc[ind["indicator"] == indicator, "year"].unique())


def _check_year(atlas: Atlas, indicator: str, year) -> int:
    years = _years_of(atlas, indicator)
    try:
        y = int(year)
    except (TypeError, ValueError):
        y = None
    if y is None or y not in years:
        raise DataError(
            "atlas.indicators.year_missing",
            indicator=indicator,
            year=year,
            years=", ".join(map(str, years)) or "–",
        )
    return y


def _text(value) -> str:
    if value is None:
        return ""
    try:
        if value != value:
            return ""
    except (TypeError, ValueError):  # pragma: no cover
        pass
    return str(value).strip()


_PER_RE = re.compile(r"(?:je|pro|per)\s*([\d.,]+)", re.IGNORECASE)


def factor_from_unit(unit: str | None) -> float:
    """Guess the factor of a rate from its unit.

    ``"%"`` → 100, ``"‰"`` → 1000, ``"je 1.000 Kinder"`` / ``"per 1,000"`` →
    1000 (German and English thousands separators), anything else → 1.

    Examples
    --------
    >>> factor_from_unit("%"), factor_from_unit("je 1.000 Einw."), factor_from_unit("Plätze")
    (100.0, 1000.0, 1.0)
    """
    text = _text(unit)
    if "%" in text:
        return 100.0
    if "‰" in text:
        return 1000.0
    m = _PER_RE.search(text)
    if m:
        digits = re.sub(r"[.,](?=\d{3}(?:\D|$))", "", m.group(1)).replace(",", ".")
        try:
            value = float(digits)
        except ValueError:
            return 1.0
        return value if value > 0 else 1.0
    return 1.0


# ---------------------------------------------------------------------------
# derived rates
# ---------------------------------------------------------------------------
def derive_rate(
    atlas: Atlas,
    numerator: str,
    denominator: str,
    id: str,
    factor: float = 100.0,
    label_de: str | None = None,
    label_en: str | None = None,
    unit: str = "%",
    polarity: int = 1,
    theme: str | None = None,
    kind: str = "rate",
    description: str | None = None,
) -> Atlas:
    """Add the indicator ``id = numerator / denominator * factor`` to a new atlas.

    Parameters
    ----------
    atlas : Atlas
        The atlas holding both inputs.
    numerator, denominator : str
        Indicator ids.
    id : str
        Id of the new indicator; existing values and catalog row of that id
        are replaced.
    factor : float
        Multiplier (100 for percent, 1000 for "je 1.000"); finite and > 0.
    label_de, label_en : str, optional
        Labels; default "<numerator> je <denominator>".
    unit : str
        Unit shown in legends.
    polarity : {1, -1, 0}
        +1 higher = more need, −1 higher = less need.
    theme : str, optional
        Theme; default: the numerator's theme.
    kind : str
        Catalog ``kind`` (``"rate"`` or ``"share"``).
    description : str, optional
        Catalog description; default: the formula.

    Returns
    -------
    Atlas
        A new atlas with one value per (area, year) where either input has a
        row. The value is NaN (never inf) when the denominator is 0 or one
        input is missing; ``suppressed`` is true (and the value NaN) when either
        input is suppressed. The catalog row names numerator and denominator,
        so :func:`~k360lib.atlas.privacy.apply_suppression` propagates later
        suppressions too.

    Raises
    ------
    DataError
        Unknown input ids (lists the known ones), empty ``id``, bad ``factor``
        or ``polarity``.
    """
    import numpy as np
    import pandas as pd

    from k360lib.atlas.model import CATALOG_COLUMNS, Atlas

    _known_or_raise(atlas, [numerator, denominator])
    new_id = _text(id)
    if not new_id or new_id in (numerator, denominator):
        raise DataError("atlas.indicators.bad_id", id=id)
    if (
        isinstance(factor, bool)
        or not isinstance(factor, Real)
        or not math.isfinite(factor)
        or factor <= 0
    ):
        raise DataError("atlas.indicators.bad_factor", factor=factor)
    if isinstance(polarity, bool) or polarity not in (1, -1, 0):
        raise DataError("atlas.indicators.bad_polarity", indicator=new_id, polarity=polarity)

    ind = atlas.indicators
    keys = ["area_id", "year"]
    num = ind.loc[ind["indicator"] == numerator, [*keys, "value", "suppressed"]]
    den = ind.loc[ind["indicator"] == denominator, [*keys, "value", "suppressed"]]
    m = num.merge(den, on=keys, how="outer", suffixes=("_num", "_den"))
    n = m["value_num"].to_numpy(dtype=float)
    d = m["value_den"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(d != 0, n / d * float(factor), np.nan)
    supp = (m["suppressed_num"].eq(True) | m["suppressed_den"].eq(True)).to_numpy()
    value[~np.isfinite(value) | supp] = np.nan
    rows = pd.DataFrame(
        {
            "area_id": m["area_id"],
            "indicator": new_id,
            "year": m["year"],
            "value": value,
            "suppressed": supp,
        }
    )

    num_info = atlas.indicator_info(numerator)
    lbl = {
        lang: t(
            "atlas.indicators.rate_label",
            lang,
            num=atlas.label(numerator, lang),
            den=atlas.label(denominator, lang),
        )
        for lang in ("de", "en")
    }
    row = {c: "" for c in CATALOG_COLUMNS}
    row.update(
        id=new_id,
        label_de=label_de or lbl["de"],
        label_en=label_en or lbl["en"],
        unit=unit,
        polarity=int(polarity),
        theme=theme if theme is not None else (num_info.get("theme") or ""),
        kind=kind,
        description=description or f"{numerator} / {denominator} × {float(factor):g}",
        source="k360",
        numerator=numerator,
        denominator=denominator,
    )
    cat = atlas.catalog
    cat = cat[cat["id"] != new_id] if "id" in cat.columns else cat
    cat = pd.concat([cat, pd.DataFrame([row])], ignore_index=True)
    kept = ind[ind["indicator"] != new_id]
    indicators = pd.concat([kept, rows], ignore_index=True) if len(rows) else kept
    return Atlas(atlas.areas, indicators, cat, atlas.facilities, dict(atlas.meta))


def derive_catalog_rates(
    atlas: Atlas, report: ImportReport | None = None, strict: bool = False
) -> Atlas:
    """Compute every catalog rate that names numerator and denominator but has no values yet.

    Rates of rates are computed in dependency order. The factor comes from the
    catalog's ``factor`` column if there is one, else from the unit (see
    :func:`factor_from_unit`); labels, unit, polarity, theme and kind come from
    the catalog row.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    report : ImportReport, optional
        Rates whose inputs are missing are added as warnings here; without a
        report they are issued as :class:`UserWarning`.
    strict : bool
        Raise :class:`DataError` instead of warning.

    Returns
    -------
    Atlas
        A new atlas (the same object when there is nothing to compute).
    """
    cat = atlas.catalog
    if not len(cat) or not {"id", "numerator", "denominator"} <= set(cat.columns):
        return atlas
    present = set(atlas.indicator_ids)
    pending = [
        r
        for _, r in cat.iterrows()
        if _text(r["numerator"]) and _text(r["denominator"]) and _text(r["id"]) not in present
    ]
    progress = True
    while pending and progress:
        progress = False
        later = []
        for r in pending:
            num, den = _text(r["numerator"]), _text(r["denominator"])
            if num in present and den in present:
                factor = None
                if "factor" in r.index and _text(r["factor"]):
                    try:
                        factor = float(_text(r["factor"]).replace(",", "."))
                    except ValueError:
                        factor = None
                if factor is None:
                    factor = factor_from_unit(r.get("unit"))
                polarity = _text(r.get("polarity")) or "1"
                atlas = derive_rate(
                    atlas,
                    num,
                    den,
                    _text(r["id"]),
                    factor=factor,
                    label_de=_text(r.get("label_de")) or None,
                    label_en=_text(r.get("label_en")) or None,
                    unit=_text(r.get("unit")),
                    polarity=int(float(polarity)),
                    theme=_text(r.get("theme")),
                    kind=_text(r.get("kind")) or "rate",
                    description=_text(r.get("description")) or None,
                )
                # keep the catalog's own source text
                if _text(r.get("source")):
                    atlas.catalog.loc[atlas.catalog["id"] == _text(r["id"]), "source"] = _text(
                        r["source"]
                    )
                present.add(_text(r["id"]))
                progress = True
            else:
                later.append(r)
        pending = later
    for r in pending:
        missing = ", ".join(
            x for x in (_text(r["numerator"]), _text(r["denominator"])) if x not in present
        )
        params = {"indicator": _text(r["id"]), "missing": missing}
        if strict:
            raise DataError("atlas.indicators.rate_inputs_missing", **params)
        if report is not None:
            report.warning("atlas.indicators.rate_inputs_missing", **params)
        else:
            warnings.warn(t("atlas.indicators.rate_inputs_missing", None, **params), stacklevel=2)
    return atlas


# ---------------------------------------------------------------------------
# change over years
# ---------------------------------------------------------------------------
def change(
    atlas: Atlas, indicator: str, from_year: int, to_year: int, relative: bool = False
) -> pd.DataFrame:
    """Return the change of one indicator between two years, per area.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    indicator : str
        Indicator id.
    from_year, to_year : int
        Years that must have values of ``indicator``.
    relative : bool
        ``False``: ``to - from`` (in the indicator's unit, i.e. percentage
        points for a percentage). ``True``: percent change
        ``(to - from) / |from| * 100``; NaN when ``from`` is 0.

    Returns
    -------
    pandas.DataFrame
        ``area_id, from, to, change, suppressed`` — one row per area; the
        change is NaN and ``suppressed`` true when either end is suppressed.
    """
    import numpy as np

    _known_or_raise(atlas, [indicator])
    y0 = _check_year(atlas, indicator, from_year)
    y1 = _check_year(atlas, indicator, to_year)
    a = atlas.values(indicator, y0)
    b = atlas.values(indicator, y1)
    out = a[["area_id"]].copy()
    out["from"] = a["value"].to_numpy(dtype=float)
    out["to"] = b["value"].to_numpy(dtype=float)
    out["suppressed"] = a["suppressed"].to_numpy() | b["suppressed"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = out["to"].to_numpy() - out["from"].to_numpy()
        if relative:
            base = np.abs(out["from"].to_numpy())
            diff = np.where(base != 0, diff / base * 100.0, np.nan)
    diff[~np.isfinite(diff) | out["suppressed"].to_numpy()] = np.nan
    out["change"] = diff
    return out[["area_id", "from", "to", "change", "suppressed"]]


# ---------------------------------------------------------------------------
# need index
# ---------------------------------------------------------------------------
def _normalise_weights(weights, atlas: Atlas) -> dict[str, float]:
    if isinstance(weights, str):
        weights = [weights]
    if isinstance(weights, dict):
        items = [(str(k), v) for k, v in weights.items()]
    else:
        try:
            ids = [str(x) for x in weights]
        except TypeError:
            raise DataError("atlas.indicators.no_weights") from None
        items = [(i, 1.0) for i in dict.fromkeys(ids)]
    if not items:
        raise DataError("atlas.indicators.no_weights")
    _known_or_raise(atlas, [k for k, _ in items])
    clean: dict[str, float] = {}
    for key, w in items:
        if isinstance(w, bool) or not isinstance(w, Real) or not math.isfinite(float(w)):
            raise DataError("atlas.indicators.bad_weight", indicator=key, weight=w)
        if w < 0:
            raise DataError("atlas.indicators.negative_weight", indicator=key, weight=w)
        clean[key] = float(w)
    total = sum(clean.values())
    if total <= 0:
        raise DataError("atlas.indicators.zero_weights")
    return {k: w / total for k, w in clean.items()}


def need_scores(
    values: pd.DataFrame, weights: dict[str, float], polarity: dict[str, int]
) -> pd.DataFrame:
    """Compute z-scores and the weighted score for a wide table (the arithmetic of :func:`need_index`).

    Parameters
    ----------
    values : pandas.DataFrame
        One row per area (the index), one column per indicator; NaN = not available.
    weights : dict
        Normalised weights (sum 1), one per column.
    polarity : dict
        +1 or −1 per column.

    Returns
    -------
    pandas.DataFrame
        Same index; columns ``z_<indicator>`` (signed: positive = more need),
        ``n_available``, ``weight_available`` and ``score`` (NaN when less than
        :data:`MIN_WEIGHT_SHARE` of the weight is available).
    """
    import numpy as np
    import pandas as pd

    out = pd.DataFrame(index=values.index)
    num = np.zeros(len(values))
    wsum = np.zeros(len(values))
    n_avail = np.zeros(len(values), dtype=np.int64)
    for ind, w in weights.items():
        x = values[ind].to_numpy(dtype=float)
        ok = np.isfinite(x)
        z = np.full(x.shape, np.nan)
        if ok.any():
            mean = x[ok].mean()
            sd = x[ok].std(ddof=0)
            z[ok] = (x[ok] - mean) / sd if sd > 0 else 0.0
        z *= polarity[ind]
        out[f"z_{ind}"] = z
        if w > 0:
            num += np.where(ok, w * np.nan_to_num(z), 0.0)
            wsum += np.where(ok, w, 0.0)
            n_avail += ok
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(wsum >= MIN_WEIGHT_SHARE - 1e-12, num / wsum, np.nan)
    out["n_available"] = n_avail
    out["weight_available"] = wsum
    out["score"] = score
    return out


@dataclass(eq=False)
class NeedIndex:
    """Result of :func:`need_index`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per area, in the atlas's area order: ``area_id, score, rank,
        class, class_label, z_<indicator>…, n_available, weight_available``.
        ``class`` is 1 … k (k = most need) or missing; ``z_*`` are signed so
        that positive means more need.
    weights : dict
        The normalised weights actually used (sum 1) — show them to users.
    year : int
        The year of the data.
    indicators : list of str
        The indicators, in weight order.
    polarity : dict
        The polarity used per indicator.
    classes : {None, "quantiles", "mss"}
        Which classification was applied.
    classification : Classification or None
        Class bounds of the score (for map legends).
    insufficient : list of str
        Areas without a score because less than half of the weight was available.
    labels : dict
        ``{indicator: {"de": label, "en": label}}`` for :meth:`explain`.
    """

    table: pd.DataFrame
    weights: dict[str, float]
    year: int
    indicators: list[str]
    polarity: dict[str, int] = field(default_factory=dict)
    classes: str | None = None
    classification: Classification | None = None
    insufficient: list[str] = field(default_factory=list)
    labels: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def class_labels(self, lang: str | None = None) -> list[str]:
        """Return the label of each class 1 … k in ``lang``."""
        if self.classes == "mss":
            return [t(key, lang) for key in MSS_CLASS_KEYS]
        if self.classes == "quantiles" and self.classification is not None:
            k = self.classification.k
            return [_quantile_label(i, k, lang) for i in range(1, k + 1)]
        return []

    def to_frame(self, lang: str | None = None) -> pd.DataFrame:
        """Return a copy of :attr:`table` with class labels in ``lang``."""
        out = self.table.copy()
        labels = self.class_labels(lang)
        out["class_label"] = [
            None if not labels or _isna(c) else labels[int(c) - 1] for c in out["class"]
        ]
        return out

    def explain(self, lang: str | None = None) -> str:
        """Return how the index was computed, with the weights, in ``lang``."""
        from k360lib.atlas.classify import format_number

        lang = normalize_lang(lang)
        parts = [
            t(
                "atlas.indicators.need_index.weight_item",
                lang,
                indicator=self.labels.get(ind, {}).get(lang) or ind,
                weight=format_number(100 * w, "{:.0f}", lang),
                direction=t(
                    "atlas.indicators.need_index.up"
                    if self.polarity.get(ind, 1) > 0
                    else "atlas.indicators.need_index.down",
                    lang,
                ),
            )
            for ind, w in self.weights.items()
        ]
        text = t(
            "atlas.indicators.need_index.explain", lang, year=self.year, weights="; ".join(parts)
        )
        if self.insufficient:
            text += " " + t(
                "atlas.indicators.insufficient",
                lang,
                n=len(self.insufficient),
                areas=", ".join(self.insufficient[:20]),
            )
        return text


def _isna(v) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):  # pragma: no cover
        return False


def _quantile_label(i: int, k: int, lang: str | None) -> str:
    key = "atlas.indicators.class_of"
    if i == k and k > 1:
        key = "atlas.indicators.class_of_most"
    elif i == 1 and k > 1:
        key = "atlas.indicators.class_of_least"
    return t(key, lang, i=i, k=k)


def _common_year(atlas: Atlas, ids: list[str]) -> int:
    common = None
    for i in ids:
        ys = set(_years_of(atlas, i))
        common = ys if common is None else common & ys
    if not common:
        detail = "; ".join(f"{i}: {', '.join(map(str, _years_of(atlas, i)))}" for i in ids)
        raise DataError("atlas.indicators.no_common_year", detail=detail)
    return max(common)


def need_index(
    atlas: Atlas,
    weights: dict[str, float] | list[str],
    year: int | None = None,
    classes: int | str | None = None,
    lang: str | None = None,
) -> NeedIndex:
    """Compute the composite need index (see the module docstring for the method).

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    weights : dict or list of str
        ``{indicator: weight}`` (non-negative, normalised to sum 1) or a list
        of indicator ids (equal weights).
    year : int, optional
        Year of the data; default: the latest year all indicators have.
    classes : int, "mss" or None
        ``k`` (2 … 9) for quantile classes, ``"mss"`` for four status
        classes (:data:`MSS_THRESHOLDS`), ``None`` for none.
    lang : str, optional
        Language of ``class_label`` in the table.

    Returns
    -------
    NeedIndex

    Raises
    ------
    DataError
        Unknown indicators (naming them and listing the known ones), empty,
        negative or all-zero weights, an indicator without direction
        (polarity not ±1), a year without data, invalid ``classes``.

    Examples
    --------
    >>> ni = need_index(atlas, {"sgb2_u15": 2, "kita_quote": 1}, classes="mss")  # doctest: +SKIP
    >>> ni.weights  # doctest: +SKIP
    {'sgb2_u15': 0.666..., 'kita_quote': 0.333...}
    """
    import numpy as np
    import pandas as pd

    from k360lib.atlas.classify import Classification, classify

    w = _normalise_weights(weights, atlas)
    ids = list(w)
    polarity: dict[str, int] = {}
    for i in ids:
        p = atlas.indicator_info(i).get("polarity")
        try:
            p_int = int(float(p))
        except (TypeError, ValueError):
            p_int = 0
        if p_int not in (1, -1):
            raise DataError("atlas.indicators.no_polarity", indicator=i, polarity=p)
        polarity[i] = p_int
    if year is None:
        yr = _common_year(atlas, ids)
    else:
        for i in ids:
            yr = _check_year(atlas, i, year)

    if classes is not None:
        if isinstance(classes, str):
            if classes.strip().lower() != "mss":
                raise DataError("atlas.indicators.bad_classes", value=classes)
        elif (
            isinstance(classes, bool) or not isinstance(classes, Integral) or not 2 <= classes <= 9
        ):
            raise DataError("atlas.indicators.bad_classes", value=classes)

    wide = atlas.wide(yr, ids)
    for i in ids:
        if i not in wide.columns:
            wide[i] = np.nan
    scores = need_scores(wide[ids], w, polarity)
    score = scores["score"]
    table = pd.DataFrame({"area_id": wide.index.astype(str), "score": score.to_numpy()})
    table["rank"] = score.rank(ascending=False, method="min").astype("Int64").to_numpy()

    kind = None
    classification = None
    cls = pd.array([pd.NA] * len(table), dtype="Int64")
    if classes is not None and np.isfinite(score.to_numpy()).any():
        s = score.to_numpy(dtype=float)
        if isinstance(classes, str):
            kind = "mss"
            ok = np.isfinite(s)
            mean, sd = s[ok].mean(), s[ok].std(ddof=0)
            if sd > 0:
                z = (s - mean) / sd
                idx = np.searchsorted(np.asarray(MSS_THRESHOLDS), z, side="left")
            else:
                idx = np.ones(s.shape, dtype=np.int64)
            idx = np.where(ok, idx, -1)
            bins = [mean + c * sd for c in MSS_THRESHOLDS] + [np.inf]
            classification = Classification.from_bins(s, bins, scheme="mss")
            classification.classes = idx.astype(np.int64)
            classification.counts = np.bincount(idx[idx >= 0], minlength=4)
        else:
            kind = "quantiles"
            classification = classify(s, "quantiles", k=int(classes))
            idx = classification.classes
        cls = pd.array([int(c) + 1 if c >= 0 else pd.NA for c in idx], dtype="Int64")
    elif classes is not None:
        kind = "mss" if isinstance(classes, str) else "quantiles"
    table["class"] = cls
    table["class_label"] = None
    for i in ids:
        table[f"z_{i}"] = scores[f"z_{i}"].to_numpy()
    table["n_available"] = scores["n_available"].to_numpy()
    table["weight_available"] = scores["weight_available"].to_numpy()

    insufficient = table.loc[table["score"].isna(), "area_id"].tolist()
    result = NeedIndex(
        table=table,
        weights=w,
        year=int(yr),
        indicators=ids,
        polarity=polarity,
        classes=kind,
        classification=classification,
        insufficient=insufficient,
        labels={i: {lg: atlas.label(i, lg) for lg in ("de", "en")} for i in ids},
    )
    result.table = result.to_frame(lang)
    return result
