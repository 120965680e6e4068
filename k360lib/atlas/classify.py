"""Classification schemes and ColorBrewer colour scales for choropleth maps.

Two halves, both free of UI imports:

1. **Classification** — a small registry of schemes (like mapclassify's
   ``_classifiers`` dict). Keys are normalised, so ``"Fisher-Jenks"``,
   ``"fisher jenks"`` and ``"FISHER_JENKS"`` all name the same scheme.
   :func:`classify` turns values into classes; missing values (NaN, ±inf) are
   left out of the fit and get class ``-1``. Class ``i`` holds the values
   ``bins[i-1] < v <= bins[i]`` (upper bounds inclusive, as in mapclassify);
   class 0 starts at :attr:`Classification.lower`.
2. **Colours** — ColorBrewer palettes (Cynthia Brewer, colorbrewer2.org,
   Apache-2.0 licence) as plain data for 3 to 9 classes, each flagged
   colour-blind safe or not as ColorBrewer rates it, and the colours for
   missing (“keine Daten”) and suppressed (“zu wenige Fälle”) areas, which are
   grey so they never look like a low value.

``mapclassify`` is imported only inside the fitting functions, so importing this
module stays light.

Examples
--------
>>> c = classify([1.0, 2.0, 3.0, 4.0, float("nan")], "equal_interval", k=2)
>>> c.k, c.bins.tolist(), c.classes.tolist()
(2, [2.5, 4.0], [0, 0, 1, 1, -1])
>>> c.legend_labels(lang="de")
['1,0 – 2,5', '2,5 – 4,0']
>>> colors_for(c, "Blues")
['#deebf7', '#deebf7', '#3182bd', '#3182bd', None]
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from k360lib.errors import DataError
from k360lib.i18n import normalize_lang, t

__all__ = [
    "MAX_CLASSES",
    "MISSING_COLOR",
    "MISSING_LABEL_KEY",
    "PALETTES",
    "SCHEMES",
    "SUPPRESSED_COLOR",
    "SUPPRESSED_HATCH",
    "SUPPRESSED_LABEL_KEY",
    "Classification",
    "PaletteInfo",
    "Scheme",
    "classify",
    "colors_for",
    "default_palette",
    "format_number",
    "normalize_scheme",
    "palette",
    "palette_for_need",
    "scheme_label",
]

#: Most classes a map can colour (the ColorBrewer tables below go up to 9).
MAX_CLASSES = 9

#: Fill colour of areas without a value (missing data). Grey, so it never
#: looks like the lightest class of any palette below.
MISSING_COLOR = "#d9d9d9"
#: Fill colour of areas whose value is suppressed (small-number rule). Drawn
#: with :data:`SUPPRESSED_HATCH` on top so it differs from missing data too.
SUPPRESSED_COLOR = "#bdbdbd"
#: Hatch pattern for suppressed areas (for the map layer: diagonal lines).
SUPPRESSED_HATCH: dict = {
    "pattern": "diagonal",
    "angle": 45,
    "color": "#636363",
    "weight": 1.5,
    "spacing": 6,
}
#: Message keys of the legend entries for missing and suppressed areas.
MISSING_LABEL_KEY = "atlas.classify.legend.missing"
SUPPRESSED_LABEL_KEY = "atlas.classify.legend.suppressed"


# ---------------------------------------------------------------------------
# classification
# ---------------------------------------------------------------------------
@dataclass(eq=False)
class Classification:
    """The result of :func:`classify`.

    Attributes
    ----------
    scheme : str
        Registry key of the scheme used (``""`` for hand-made classifications).
    bins : numpy.ndarray
        Upper bound of each class, ascending (``k`` entries).
    lower : float
        Smallest classified value (lower bound of class 0); NaN when ``k == 0``.
    classes : numpy.ndarray
        Class index (0 … k-1) per input value; ``-1`` for missing values.
    k : int
        Number of classes actually formed. It can be smaller than the ``k``
        asked for, e.g. when there are fewer distinct values; 0 when no value
        could be classified.
    counts : numpy.ndarray
        Number of values per class.
    """

    scheme: str
    bins: np.ndarray
    lower: float
    classes: np.ndarray
    k: int
    counts: np.ndarray = field(repr=False)

    @classmethod
    def from_bins(cls, values, bins: Sequence[float], scheme: str = "") -> Classification:
        """Classify ``values`` by given upper bounds without fitting anything.

        The last bound may be ``inf``; values above the last bound get class
        ``-1`` like missing values, so choose bounds that cover the data.
        """
        y = _as_float_array(values)
        b = np.asarray(bins, dtype=float)
        mask = np.isfinite(y)
        classes = np.full(y.shape, -1, dtype=np.int64)
        idx = np.searchsorted(b, y[mask], side="left")
        idx[idx >= b.size] = -1
        classes[mask] = idx
        lower = float(y[mask].min()) if mask.any() else float("nan")
        counts = (
            np.bincount(classes[classes >= 0], minlength=b.size)
            if b.size
            else np.zeros(0, dtype=np.int64)
        )
        return cls(scheme, b, lower, classes, int(b.size), counts)

    @property
    def bounds(self) -> list[tuple[float, float]]:
        """``(lower, upper)`` of every class."""
        return [
            (self.lower if i == 0 else float(self.bins[i - 1]), float(self.bins[i]))
            for i in range(self.k)
        ]

    def legend_labels(self, fmt: str = "{:.1f}", lang: str | None = None) -> list[str]:
        """Return one label per class, e.g. ``"12,5 – 18,0"`` in German.

        Parameters
        ----------
        fmt : str
            :meth:`str.format` pattern for one number (``"{:,.0f}"`` gives
            thousands separators: ``1.374`` in German, ``1,374`` in English).
        lang : str, optional
            ``"de"`` (decimal comma) or ``"en"``; default: the current language.

        Returns
        -------
        list of str
            ``"lo – hi"`` per class; ``"≤ hi"`` for a first class that lies below
            all values (possible with user-defined breaks), ``"> lo"`` for an
            open last class, just ``"v"`` when a class holds a single value.
        """
        lang = normalize_lang(lang)
        labels = []
        for lo, hi in self.bounds:
            if np.isinf(hi) and hi > 0:
                labels.append(
                    t("atlas.classify.legend.above", lang, lo=format_number(lo, fmt, lang))
                )
            elif lo > hi or (np.isinf(lo) and lo < 0):
                labels.append(
                    t("atlas.classify.legend.at_most", lang, hi=format_number(hi, fmt, lang))
                )
            elif lo == hi:
                labels.append(format_number(hi, fmt, lang))
            else:
                labels.append(f"{format_number(lo, fmt, lang)} – {format_number(hi, fmt, lang)}")
        return labels


def format_number(value: float, fmt: str = "{:.1f}", lang: str | None = None) -> str:
    """Format one number; German swaps decimal point and thousands separator.

    Examples
    --------
    >>> format_number(1374.5, "{:,.1f}", "de")
    '1.374,5'
    >>> format_number(12.5, lang="en")
    '12.5'
    """
    text = fmt.format(value)
    if normalize_lang(lang) == "de":
        text = text.translate({ord(","): ".", ord("."): ","})
    return text


@dataclass(frozen=True)
class Scheme:
    """One entry of the classification registry :data:`SCHEMES`.

    Attributes
    ----------
    key : str
        Registry key (snake case).
    fit : callable
        ``fit(values, k, breaks) -> bins``: upper bounds for finite values
        with at least two distinct values.
    uses_k : bool
        Whether the number of classes can be chosen.
    needs_breaks : bool
        Whether the caller must give the class breaks.
    note : str
        How the scheme works, for data staff (English).
    """

    key: str
    fit: Callable[[np.ndarray, int, np.ndarray | None], np.ndarray] = field(repr=False)
    uses_k: bool = True
    needs_breaks: bool = False
    note: str = ""


def _quiet(fn):
    """Run a mapclassify call with its warnings silenced (we report k ourselves)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn()


def _fit_quantiles(y: np.ndarray, k: int, breaks=None) -> np.ndarray:
    """Quantile bounds, as ``mapclassify.Quantiles`` (linear interpolation), with exact positions.

    mapclassify computes the percentile steps as floats (``100 / k``); for
    ``k = 9`` they come out a hair too low and leave classes empty (10 values
    in 9 classes gave counts ``2 1 0 2 1 1 0 2 1``). Here the position of the
    ``i``-th bound in the sorted values is the exact fraction ``i * (n-1) / k``.
    """
    x = np.sort(y)
    n = x.size
    num = np.arange(1, k + 1) * (n - 1)
    lo = num // k
    frac = (num % k) / k
    hi = np.minimum(lo + 1, n - 1)
    return np.unique(x[lo] + frac * (x[hi] - x[lo]))


def _fit_equal_interval(y: np.ndarray, k: int, breaks=None) -> np.ndarray:
    import mapclassify

    return _quiet(lambda: mapclassify.EqualInterval(y, k=k).bins)


def _fit_std_mean(y: np.ndarray, k: int, breaks=None) -> np.ndarray:
    import mapclassify

    return _quiet(lambda: mapclassify.StdMean(y).bins)


def _fit_user_defined(y: np.ndarray, k: int, breaks=None) -> np.ndarray:
    import mapclassify

    return _quiet(lambda: mapclassify.UserDefined(y, bins=list(breaks)).bins)


def _fit_fisher_jenks(y: np.ndarray, k: int, breaks=None) -> np.ndarray:
    """Optimal (Fisher-Jenks) breaks: minimal within-class sum of squares.

    The same optimum as ``mapclassify.FisherJenks`` (a test checks this), but
    vectorised with numpy: mapclassify's version needs numba to be fast and
    takes about a second for 550 areas without it. Works on the distinct values
    weighted by their counts, which gives the same optimum because equal values
    never belong to different classes.
    """
    u, w = np.unique(y, return_counts=True)
    m = u.size
    k = min(int(k), m)
    if k <= 1:
        return np.array([u[-1]])
    w = w.astype(float)
    zero = np.zeros(1)
    cw = np.concatenate([zero, np.cumsum(w)])
    cs = np.concatenate([zero, np.cumsum(w * u)])
    cq = np.concatenate([zero, np.cumsum(w * u * u)])
    a = np.arange(m)[:, None]  # class start (row)

    def ssd(b: np.ndarray) -> np.ndarray:
        # within-class sum of squares of u[a..b] for every start a (rows) and end b (cols)
        n = cw[b + 1][None, :] - cw[a]
        s = cs[b + 1][None, :] - cs[a]
        q = cq[b + 1][None, :] - cq[a]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.maximum(q - s * s / n, 0.0)
        out[a > b[None, :]] = np.inf
        return out

    block = max(1, 2_000_000 // m)
    cost = np.empty((k, m))
    start = np.zeros((k, m), dtype=np.int64)
    cost[0] = ssd(np.arange(m))[0]
    for j in range(1, k):
        # prev[a] = cost of u[0..a-1] in j classes (inf for a = 0: no empty class)
        prev = np.concatenate([[np.inf], cost[j - 1][:-1]])
        for b0 in range(0, m, block):
            b = np.arange(b0, min(m, b0 + block))
            total = prev[:, None] + ssd(b)
            best = np.argmin(total, axis=0)
            start[j, b] = best
            cost[j, b] = total[best, np.arange(b.size)]
    ends = []
    b = m - 1
    for j in range(k - 1, 0, -1):
        ends.append(b)
        b = int(start[j, b]) - 1
    ends.append(b)
    return u[np.array(sorted(ends))]


#: The classification registry: normalised key -> :class:`Scheme`.
#:
#: Not offered: mapclassify's ``JenksCaspall`` (it can loop forever — e.g. on 11
#: values with k = 8 its reassignment oscillates; found by a property test),
#: ``NaturalBreaks`` as such (see ``natural_breaks``) and the sampled variants
#: (unseeded random draws).
SCHEMES: dict[str, Scheme] = {
    "quantiles": Scheme(
        "quantiles",
        _fit_quantiles,
        note="about equally many areas per class (as mapclassify.Quantiles)",
    ),
    "equal_interval": Scheme(
        "equal_interval",
        _fit_equal_interval,
        note="classes of equal width (mapclassify.EqualInterval)",
    ),
    "fisher_jenks": Scheme(
        "fisher_jenks",
        _fit_fisher_jenks,
        note="optimal natural breaks, minimal within-class variance",
    ),
    "natural_breaks": Scheme(
        "natural_breaks",
        _fit_fisher_jenks,
        note=(
            "alias of fisher_jenks: mapclassify.NaturalBreaks is k-means with an unseeded random "
            "start (and needs scikit-learn), so it could give different maps on each run"
        ),
    ),
    "std_mean": Scheme(
        "std_mean",
        _fit_std_mean,
        uses_k=False,
        note="bounds at mean -2, -1, +1, +2 standard deviations (mapclassify.StdMean)",
    ),
    "user_defined": Scheme(
        "user_defined",
        _fit_user_defined,
        uses_k=False,
        needs_breaks=True,
        note="given upper bounds; values above the last one form an extra class up to the maximum",
    ),
}

_SCHEME_LOOKUP = {re.sub(r"[^a-z0-9]", "", key): key for key in SCHEMES}


def normalize_scheme(name: str) -> str:
    """Return the registry key for ``name`` (case, space, hyphen and underscore insensitive).

    Raises
    ------
    DataError
        If no scheme of that name exists; the message lists the valid keys.

    Examples
    --------
    >>> normalize_scheme("Fisher-Jenks")
    'fisher_jenks'
    """
    found = (
        _SCHEME_LOOKUP.get(re.sub(r"[^a-z0-9]", "", str(name).lower()))
        if isinstance(name, str)
        else None
    )
    if found is None:
        raise DataError("atlas.classify.unknown_scheme", scheme=name, valid=", ".join(SCHEMES))
    return found


def scheme_label(name: str, lang: str | None = None) -> str:
    """Return the user-facing name of a scheme in ``lang`` (for drop-downs)."""
    return t(f"atlas.classify.scheme.{normalize_scheme(name)}", lang)


def _as_float_array(values) -> np.ndarray:
    try:
        if hasattr(values, "to_numpy"):
            arr = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError("atlas.classify.not_numeric", detail=str(exc)) from exc
    return np.atleast_1d(arr).ravel()


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, Integral) or not 1 <= int(k) <= MAX_CLASSES:
        raise DataError("atlas.classify.bad_k", k=k, max=MAX_CLASSES)
    return int(k)


def _check_breaks(breaks) -> np.ndarray:
    if breaks is None:
        raise DataError("atlas.classify.breaks_required")
    try:
        b = np.asarray(list(breaks), dtype=float).ravel()
    except (TypeError, ValueError):
        raise DataError("atlas.classify.bad_breaks", breaks=breaks) from None
    if b.size == 0 or b.size > MAX_CLASSES or not np.all(np.isfinite(b)) or np.any(np.diff(b) <= 0):
        raise DataError(
            "atlas.classify.bad_breaks", breaks=", ".join(str(x) for x in b.tolist()) or "–"
        )
    return b


def classify(
    values, scheme: str = "quantiles", k: int = 5, breaks: Sequence[float] | None = None
) -> Classification:
    """Classify ``values`` for a choropleth map.

    Parameters
    ----------
    values : array-like of float
        One value per area; NaN, ``None``/``pd.NA`` and ±inf count as missing.
    scheme : str
        A key of :data:`SCHEMES` (normalised, e.g. ``"Fisher-Jenks"``).
    k : int
        Number of classes wanted (1 … :data:`MAX_CLASSES`); ignored by
        ``std_mean`` and ``user_defined``. Fewer classes are formed when the
        data have fewer distinct values — no warning, check ``.k``.
    breaks : sequence of float, optional
        Ascending upper class bounds, required for ``user_defined``. Values
        above the last bound form one more class up to the maximum.

    Returns
    -------
    Classification
        With ``k == 0`` (and all classes ``-1``) for empty or all-missing input.

    Raises
    ------
    DataError
        Unknown scheme (lists the valid ones), invalid ``k`` or ``breaks``,
        non-numeric values.
    """
    key = normalize_scheme(scheme)
    entry = SCHEMES[key]
    y = _as_float_array(values)
    kk = _check_k(k) if entry.uses_k else MAX_CLASSES
    b_user = _check_breaks(breaks) if entry.needs_breaks else None
    mask = np.isfinite(y)
    classes = np.full(y.shape, -1, dtype=np.int64)
    if not mask.any():
        return Classification(
            key, np.zeros(0), float("nan"), classes, 0, np.zeros(0, dtype=np.int64)
        )
    yv = y[mask]
    distinct = np.unique(yv)
    if b_user is not None:
        bins = np.asarray(entry.fit(yv, kk, b_user), dtype=float)
    elif distinct.size == 1:
        bins = distinct.copy()
    else:
        bins = np.unique(np.asarray(entry.fit(yv, min(kk, distinct.size), None), dtype=float))
        bins = bins[np.isfinite(bins)]
        # rounding inside a scheme must never leave the maximum outside the last class
        if bins.size == 0 or bins[-1] < distinct[-1]:
            bins = np.append(bins[bins < distinct[-1]], distinct[-1])
    classes[mask] = np.searchsorted(bins, yv, side="left")
    counts = np.bincount(classes[mask], minlength=bins.size)
    return Classification(key, bins, float(distinct[0]), classes, int(bins.size), counts)


# ---------------------------------------------------------------------------
# colours
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PaletteInfo:
    """Facts about one ColorBrewer palette in :data:`PALETTES`.

    Attributes
    ----------
    name : str
        ColorBrewer name, e.g. ``"YlOrRd"``.
    kind : {"sequential", "diverging"}
        Sequential palettes run light → dark; diverging ones from one hue
        through a light middle to another.
    colorblind_safe : bool
        ColorBrewer's rating for 3–9 classes (``False`` when it says "maybe"
        or "bad" for some of them).
    need_first : bool
        ``True`` when the *first* colour of the ColorBrewer order stands for
        "more need" (the red end of ``RdYlBu``); sequential palettes put the
        darkest, most intense colour last.
    """

    name: str
    kind: str
    colorblind_safe: bool
    need_first: bool = False
    min_k: int = 3
    max_k: int = MAX_CLASSES


# fmt: off
_COLORBREWER: dict[str, dict[int, tuple[str, ...]]] = {
    "YlOrRd": {
        3: ("#ffeda0", "#feb24c", "#f03b20"),
        4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
        5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
        6: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"),
        7: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
        8: ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
        9: ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"),
    },
    "OrRd": {
        3: ("#fee8c8", "#fdbb84", "#e34a33"),
        4: ("#fef0d9", "#fdcc8a", "#fc8d59", "#d7301f"),
        5: ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"),
        6: ("#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"),
        7: ("#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#990000"),
        8: ("#fff7ec", "#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#990000"),
        9: ("#fff7ec", "#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#b30000", "#7f0000"),
    },
    "Reds": {
        3: ("#fee0d2", "#fc9272", "#de2d26"),
        4: ("#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"),
        5: ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"),
        6: ("#fee5d9", "#fcbba1", "#fc9272", "#fb6a4a", "#de2d26", "#a50f15"),
        7: ("#fee5d9", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#99000d"),
        8: ("#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#99000d"),
        9: ("#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d"),
    },
    "Blues": {
        3: ("#deebf7", "#9ecae1", "#3182bd"),
        4: ("#eff3ff", "#bdd7e7", "#6baed6", "#2171b5"),
        5: ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
        6: ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"),
        7: ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"),
        8: ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"),
        9: ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"),
    },
    "PuBu": {
        3: ("#ece7f2", "#a6bddb", "#2b8cbe"),
        4: ("#f1eef6", "#bdc9e1", "#74a9cf", "#0570b0"),
        5: ("#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"),
        6: ("#f1eef6", "#d0d1e6", "#a6bddb", "#74a9cf", "#2b8cbe", "#045a8d"),
        7: ("#f1eef6", "#d0d1e6", "#a6bddb", "#74a9cf", "#3690c0", "#0570b0", "#034e7b"),
        8: ("#fff7fb", "#ece7f2", "#d0d1e6", "#a6bddb", "#74a9cf", "#3690c0", "#0570b0", "#034e7b"),
        9: ("#fff7fb", "#ece7f2", "#d0d1e6", "#a6bddb", "#74a9cf", "#3690c0", "#0570b0", "#045a8d", "#023858"),
    },
    "YlGnBu": {
        3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
        4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
        5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
        6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
        7: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
        8: ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
        9: ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"),
    },
    "Greens": {
        3: ("#e5f5e0", "#a1d99b", "#31a354"),
        4: ("#edf8e9", "#bae4b3", "#74c476", "#238b45"),
        5: ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"),
        6: ("#edf8e9", "#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c"),
        7: ("#edf8e9", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#005a32"),
        8: ("#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#005a32"),
        9: ("#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"),
    },
    "Purples": {
        3: ("#efedf5", "#bcbddc", "#756bb1"),
        4: ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#6a51a3"),
        5: ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"),
        6: ("#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f"),
        7: ("#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#4a1486"),
        8: ("#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#4a1486"),
        9: ("#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d"),
    },
    "RdYlBu": {
        3: ("#fc8d59", "#ffffbf", "#91bfdb"),
        4: ("#d7191c", "#fdae61", "#abd9e9", "#2c7bb6"),
        5: ("#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6"),
        6: ("#d73027", "#fc8d59", "#fee090", "#e0f3f8", "#91bfdb", "#4575b4"),
        7: ("#d73027", "#fc8d59", "#fee090", "#ffffbf", "#e0f3f8", "#91bfdb", "#4575b4"),
        8: ("#d73027", "#f46d43", "#fdae61", "#fee090", "#e0f3f8", "#abd9e9", "#74add1", "#4575b4"),
        9: ("#d73027", "#f46d43", "#fdae61", "#fee090", "#ffffbf", "#e0f3f8", "#abd9e9", "#74add1", "#4575b4"),
    },
    "PuOr": {
        3: ("#f1a340", "#f7f7f7", "#998ec3"),
        4: ("#e66101", "#fdb863", "#b2abd2", "#5e3c99"),
        5: ("#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99"),
        6: ("#b35806", "#f1a340", "#fee0b6", "#d8daeb", "#998ec3", "#542788"),
        7: ("#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788"),
        8: ("#b35806", "#e08214", "#fdb863", "#fee0b6", "#d8daeb", "#b2abd2", "#8073ac", "#542788"),
        9: ("#b35806", "#e08214", "#fdb863", "#fee0b6", "#f7f7f7", "#d8daeb", "#b2abd2", "#8073ac", "#542788"),
    },
    "RdYlGn": {
        3: ("#fc8d59", "#ffffbf", "#91cf60"),
        4: ("#d7191c", "#fdae61", "#a6d96a", "#1a9641"),
        5: ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"),
        6: ("#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850"),
        7: ("#d73027", "#fc8d59", "#fee08b", "#ffffbf", "#d9ef8b", "#91cf60", "#1a9850"),
        8: ("#d73027", "#f46d43", "#fdae61", "#fee08b", "#d9ef8b", "#a6d96a", "#66bd63", "#1a9850"),
        9: ("#d73027", "#f46d43", "#fdae61", "#fee08b", "#ffffbf", "#d9ef8b", "#a6d96a", "#66bd63", "#1a9850"),
    },
}
# fmt: on

#: Palettes offered for maps, by name. All are colour-blind safe except ``RdYlGn``
#: (red/green, kept because users ask for "traffic-light" maps; the UI should warn).
PALETTES: dict[str, PaletteInfo] = {
    "YlOrRd": PaletteInfo("YlOrRd", "sequential", True),
    "OrRd": PaletteInfo("OrRd", "sequential", True),
    "Reds": PaletteInfo("Reds", "sequential", True),
    "Blues": PaletteInfo("Blues", "sequential", True),
    "PuBu": PaletteInfo("PuBu", "sequential", True),
    "YlGnBu": PaletteInfo("YlGnBu", "sequential", True),
    "Greens": PaletteInfo("Greens", "sequential", True),
    "Purples": PaletteInfo("Purples", "sequential", True),
    "RdYlBu": PaletteInfo("RdYlBu", "diverging", True, need_first=True),
    "PuOr": PaletteInfo("PuOr", "diverging", True, need_first=True),
    "RdYlGn": PaletteInfo("RdYlGn", "diverging", False, need_first=True),
}

_PALETTE_LOOKUP = {name.lower(): name for name in PALETTES}


def _palette_info(name: str) -> PaletteInfo:
    found = _PALETTE_LOOKUP.get(str(name).strip().lower())
    if found is None:
        raise DataError("atlas.classify.unknown_palette", name=name, valid=", ".join(PALETTES))
    return PALETTES[found]


def palette(name: str, k: int, reverse: bool = False) -> list[str]:
    """Return ``k`` hex colours of a ColorBrewer palette, in ColorBrewer order.

    Parameters
    ----------
    name : str
        A key of :data:`PALETTES` (case-insensitive).
    k : int
        0 … 9. For 1 and 2 classes the 3-class palette is thinned
        (middle colour; first and last colour).
    reverse : bool
        Reverse the order.

    Raises
    ------
    DataError
        Unknown name (lists the valid ones) or ``k`` out of range.

    Examples
    --------
    >>> palette("Blues", 3)
    ['#deebf7', '#9ecae1', '#3182bd']
    """
    info = _palette_info(name)
    if isinstance(k, bool) or not isinstance(k, Integral) or not 0 <= int(k) <= info.max_k:
        raise DataError("atlas.classify.palette_k", name=info.name, k=k, max=info.max_k)
    k = int(k)
    table = _COLORBREWER[info.name]
    if k >= info.min_k:
        colors = list(table[k])
    elif k == 2:
        colors = [table[3][0], table[3][2]]
    elif k == 1:
        colors = [table[3][1]]
    else:
        colors = []
    return colors[::-1] if reverse else colors


def palette_for_need(name: str, k: int, polarity: int | None = 1) -> list[str]:
    """Return ``k`` colours for classes 0 … k-1 (ascending values) so that more need is more intense.

    With ``polarity = +1`` (higher value = more need) the highest class gets
    the need colour (darkest of a sequential palette, the red/orange end of
    a diverging one); with ``polarity = -1`` the palette is reversed.
    ``0``/``None`` (no direction) is treated like ``+1``.
    """
    info = _palette_info(name)
    reverse = info.need_first != (polarity is not None and polarity < 0)
    return palette(info.name, k, reverse=reverse)


def default_palette(polarity: int | None = 1, diverging: bool = False) -> str:
    """Return the default palette name.

    ``"YlOrRd"`` for indicators with a direction (±1; :func:`palette_for_need`
    turns it around for −1 so need is always red), ``"Blues"`` for indicators
    without one (polarity 0/None, e.g. population), ``"RdYlBu"`` for diverging
    data such as z-scores or changes.
    """
    if diverging:
        return "RdYlBu"
    return "YlOrRd" if polarity in (1, -1) else "Blues"


def colors_for(
    classification: Classification, palette: str | Sequence[str], polarity: int | None = 1
) -> list[str | None]:
    """Return one fill colour per classified value (``None`` for missing ones).

    Parameters
    ----------
    classification : Classification
        From :func:`classify`.
    palette : str or sequence of str
        A palette name (oriented with :func:`palette_for_need`) or an explicit
        list of ``classification.k`` colours for classes 0 … k-1.
    polarity : {1, -1, 0, None}
        The indicator's direction, see :func:`palette_for_need`.

    Notes
    -----
    The map layer paints ``None`` with :data:`MISSING_COLOR`, or with
    :data:`SUPPRESSED_COLOR` and :data:`SUPPRESSED_HATCH` when the value was
    suppressed.
    """
    k = classification.k
    if isinstance(palette, str):
        colors = palette_for_need(palette, k, polarity)
    else:
        colors = list(palette)
        if len(colors) != k:
            raise DataError("atlas.classify.palette_length", n=len(colors), k=k)
    return [colors[c] if c >= 0 else None for c in classification.classes.tolist()]
