"""Spatial autocorrelation: whether neighbouring social areas have similar values.

Built on PySAL (``libpysal`` for the spatial weights, ``esda`` for the
statistics) — the optional extra ``k360[analysis]``.

- **Weights** (:func:`spatial_weights`): *Queen* contiguity (areas touching at
  an edge or a corner are neighbours; the default), *Rook* (edges only) or the
  *k nearest* area centroids (for areas without a touching neighbour, e.g.
  islands or slivers between polygons). Weights are row-standardised: each
  area's neighbours share a weight of 1.
- **Global Moran's I** (:func:`morans_i`): one number for the whole city.
  Above its expectation ``-1/(n-1)`` (≈ 0) means similar values cluster in
  space; below means neighbours tend to differ; the permutation p-value says
  how often a random shuffle of the same values over the map gives a value
  as extreme.
- **Local Moran / LISA** (:func:`local_clusters`): per area, whether it and
  its neighbours are both high (*high–high*, a hot spot), both low
  (*low–low*), or an outlier (*high–low*, *low–high*) — shown only where the
  local permutation p-value is at most ``alpha``. With many areas, some are
  significant by chance; ``fdr=True`` applies esda's false-discovery-rate bound.

Only public values enter (suppressed and missing areas are left out; the
weights are built on the areas that remain and the left-out areas are
reported). Values are used as they are: for an indicator with polarity −1
(higher = less need) a *high–high* cluster is a cluster of *low* need.

Permutation tests draw random numbers. ``seed`` makes them repeatable: esda
draws from NumPy's global generator, so it is seeded for the call and its
previous state is restored afterwards — the caller's random stream is not
touched.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from k360lib.errors import DataError
from k360lib.i18n import normalize_lang, t

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.model import Atlas

__all__ = [
    "CLUSTER_KEYS",
    "MIN_AREAS",
    "WEIGHTS",
    "MoranResult",
    "local_clusters",
    "morans_i",
    "spatial_weights",
]

#: Kinds of spatial weights.
WEIGHTS: tuple[str, ...] = ("queen", "rook", "knn")
#: Moran's I needs at least this many areas with values.
MIN_AREAS = 8
#: Message keys of the cluster codes of :func:`local_clusters`.
CLUSTER_KEYS: dict[str, str] = {
    "HH": "analysis.cluster.hh",
    "LL": "analysis.cluster.ll",
    "HL": "analysis.cluster.hl",
    "LH": "analysis.cluster.lh",
    "ns": "analysis.cluster.ns",
    "missing": "analysis.cluster.missing",
}
# esda's quadrants (geoda_quads=False): 1 high-high, 2 low-high, 3 low-low, 4 high-low
_QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}


def _pysal():
    try:
        import esda
        import libpysal
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(t("analysis.missing_extra")) from exc
    return esda, libpysal


@contextlib.contextmanager
def _seeded_global_rng(seed: int):
    """Seed NumPy's global generator for esda and restore its previous state afterwards."""
    import numpy as np

    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(int(seed))  # noqa: NPY002 - esda draws from the global generator
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _check_kind(kind: str) -> str:
    key = str(kind).strip().lower()
    if key not in WEIGHTS:
        raise DataError("analysis.bad_weights", kind=kind, valid=", ".join(WEIGHTS))
    return key


def _check_permutations(permutations) -> int:
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 9:
        raise DataError("analysis.bad_permutations", value=permutations)
    return permutations


def spatial_weights(
    atlas: Atlas, area_ids: list[str] | None = None, kind: str = "queen", k: int = 4
):
    """Return row-standardised spatial weights (a ``libpysal.weights.W``) between areas.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    area_ids : list of str, optional
        Only these areas (in this order); default all.
    kind : {"queen", "rook", "knn"}
        Contiguity (shared corner or edge / shared edge) or ``k`` nearest centroids.
    k : int
        Neighbours per area for ``"knn"``.

    Returns
    -------
    libpysal.weights.W
        Ids are the ``area_id`` values; ``w.islands`` lists areas without a neighbour.
    """
    _, libpysal = _pysal()
    kind = _check_kind(kind)
    areas = atlas.areas.copy()
    areas["area_id"] = areas["area_id"].astype(str)
    areas = areas.set_index("area_id", drop=False)
    if area_ids is not None:
        areas = areas.loc[[str(a) for a in area_ids]]
    with warnings.catch_warnings():
        # islands and disconnected components are reported by the callers
        warnings.simplefilter("ignore")
        if kind == "knn":
            points = areas.to_crs(atlas.metric_crs()).geometry.representative_point()
            pts = areas.set_geometry(points.to_numpy())
            w = libpysal.weights.KNN.from_dataframe(
                pts, k=min(int(k), len(pts) - 1), use_index=True
            )
        else:
            cls = libpysal.weights.Queen if kind == "queen" else libpysal.weights.Rook
            w = cls.from_dataframe(areas, use_index=True)
        w.transform = "r"
    return w


def _prepare(atlas: Atlas, indicator: str, year, kind: str, k: int):
    import numpy as np

    from k360lib.atlas.indicators import _check_year, _known_or_raise
    from k360lib.atlas.privacy import public_values

    _known_or_raise(atlas, [indicator])
    if year is None:
        ind = atlas.indicators
        year = int(ind.loc[ind["indicator"] == indicator, "year"].max())
    year = _check_year(atlas, indicator, year)
    vals = public_values(atlas, indicator, year)
    ok = vals["value"].notna().to_numpy()
    ids = vals.loc[ok, "area_id"].astype(str).tolist()
    missing = vals.loc[~ok, "area_id"].astype(str).tolist()
    if len(ids) < MIN_AREAS:
        raise DataError(
            "analysis.too_few_areas", indicator=indicator, year=year, n=len(ids), min=MIN_AREAS
        )
    y = vals.loc[ok, "value"].to_numpy(dtype=float)
    if np.allclose(y, y[0]):
        raise DataError("analysis.constant", indicator=indicator, year=year)
    w = spatial_weights(atlas, ids, kind, k)
    if len(w.islands) == len(ids):
        raise DataError("analysis.no_neighbours", indicator=indicator, year=year, kind=kind)
    return vals, ok, ids, missing, y, w, year


@dataclass(frozen=True)
class MoranResult:
    """Global Moran's I of one indicator and year.

    Attributes
    ----------
    I : float
        Moran's I.
    expected : float
        Its expectation under no autocorrelation, ``-1/(n-1)``.
    p_sim : float
        Permutation p-value (one-sided, toward the observed side, as in esda).
    z_sim : float
        Standardised I relative to the permutations.
    p_norm : float
        Two-sided p-value under the normality assumption.
    """

    indicator: str
    year: int
    I: float  # noqa: E741 - the statistic's name
    expected: float
    p_sim: float
    z_sim: float
    p_norm: float
    n: int
    permutations: int
    weights: str
    missing: list[str] = field(default_factory=list)
    islands: list[str] = field(default_factory=list)

    @property
    def pattern(self) -> str:
        """``"clustered"``, ``"dispersed"`` or ``"random"`` (at the 5 % level of ``p_sim``)."""
        if self.p_sim > 0.05:
            return "random"
        return "clustered" if self.I > self.expected else "dispersed"

    def summary(self, lang: str | None = None) -> str:
        """Return one sentence on the result in ``lang``."""
        lang = normalize_lang(lang)
        dec = "," if lang == "de" else "."
        return t(
            "analysis.moran.summary",
            lang,
            indicator=self.indicator,
            year=self.year,
            i=f"{self.I:.3f}".replace(".", dec),
            expected=f"{self.expected:.3f}".replace(".", dec),
            p=f"{self.p_sim:.3f}".replace(".", dec),
            permutations=self.permutations,
            n=self.n,
            # i18n-dynamic: pattern is one of clustered / dispersed / random (see the property)
            pattern=t(f"analysis.pattern.{self.pattern}", lang),
        )

    def to_dict(self) -> dict:
        """Return the result as a flat dict (lists joined with ``", "``)."""
        out = {
            "indicator": self.indicator,
            "year": self.year,
            "I": self.I,
            "expected": self.expected,
            "p_sim": self.p_sim,
            "z_sim": self.z_sim,
            "p_norm": self.p_norm,
            "n": self.n,
            "permutations": self.permutations,
            "weights": self.weights,
            "pattern": self.pattern,
            "missing": ", ".join(self.missing),
            "islands": ", ".join(self.islands),
        }
        return out


def morans_i(
    atlas: Atlas,
    indicator: str,
    year: int | None = None,
    *,
    weights: str = "queen",
    k: int = 4,
    permutations: int = 999,
    seed: int = 0,
) -> MoranResult:
    """Compute global Moran's I of ``indicator`` in ``year`` across the areas.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    indicator : str
        Indicator id.
    year : int, optional
        Year; default the latest year the indicator has.
    weights : {"queen", "rook", "knn"}
        Spatial weights (see :func:`spatial_weights`).
    k : int
        Neighbours for ``weights="knn"``.
    permutations : int
        Random permutations for the pseudo p-value (at least 9).
    seed : int
        Seed of the permutations; same seed, same p-value.

    Returns
    -------
    MoranResult

    Raises
    ------
    DataError
        Unknown indicator or year, fewer than :data:`MIN_AREAS` areas with
        public values, all values equal, no area with a neighbour, bad
        ``weights`` or ``permutations``.
    """
    esda, _ = _pysal()
    permutations = _check_permutations(permutations)
    _, _, _, missing, y, w, year = _prepare(atlas, indicator, year, weights, k)
    with _seeded_global_rng(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mi = esda.Moran(y, w, permutations=permutations)
    return MoranResult(
        indicator=indicator,
        year=int(year),
        I=float(mi.I),
        expected=float(mi.EI),
        p_sim=float(mi.p_sim),
        z_sim=float(mi.z_sim),
        p_norm=float(mi.p_norm),
        n=len(y),
        permutations=permutations,
        weights=_check_kind(weights),
        missing=missing,
        islands=[str(i) for i in w.islands],
    )


def local_clusters(
    atlas: Atlas,
    indicator: str,
    year: int | None = None,
    *,
    weights: str = "queen",
    k: int = 4,
    permutations: int = 999,
    alpha: float = 0.05,
    fdr: bool = False,
    seed: int = 0,
    lang: str | None = None,
) -> pd.DataFrame:
    """Classify every area by local Moran's I (LISA clusters).

    Parameters
    ----------
    atlas, indicator, year, weights, k, permutations, seed
        As for :func:`morans_i`.
    alpha : float
        Significance level (0 < alpha < 1) for the local p-values.
    fdr : bool
        Compare with esda's false-discovery-rate bound for ``alpha`` instead
        of ``alpha`` itself (fewer areas pass, fewer false alarms).
    lang : str, optional
        Language of ``cluster_label``.

    Returns
    -------
    pandas.DataFrame
        One row per area in atlas order: ``area_id, name, value`` (public;
        NaN when suppressed or missing), ``local_i, p_sim``, ``quadrant``
        (``HH``, ``LH``, ``LL``, ``HL``: the area's value and its neighbours'
        mean, each above or below the mean), ``significant``, ``cluster``
        (the quadrant if significant, else ``ns``; ``missing`` without a
        value) and ``cluster_label``. ``attrs`` holds ``year``, ``alpha``
        and the threshold used.
    """
    import numpy as np
    import pandas as pd

    esda, _ = _pysal()
    lang = normalize_lang(lang)
    permutations = _check_permutations(permutations)
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        alpha = float("nan")
    if not 0 < alpha < 1:
        raise DataError("analysis.bad_alpha", value=alpha)
    vals, ok, ids, _, y, w, year = _prepare(atlas, indicator, year, weights, k)
    with _seeded_global_rng(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = esda.Moran_Local(y, w, permutations=permutations, seed=int(seed))
    p = np.asarray(lm.p_sim, dtype=float)
    threshold = float(esda.fdr(p, alpha)) if fdr else alpha
    quad = [_QUADRANTS.get(int(q), "ns") for q in lm.q]
    isl = set(map(str, w.islands))
    sig = (p <= threshold) & np.array([a not in isl for a in ids])
    n = len(vals)
    out = pd.DataFrame(
        {
            "area_id": vals["area_id"].astype(str).to_numpy(),
            "name": atlas.areas["name"].astype(str).to_numpy(),
            "value": vals["value"].astype(float).to_numpy(),
            "local_i": np.full(n, np.nan),
            "p_sim": np.full(n, np.nan),
            "quadrant": [""] * n,
            "significant": np.zeros(n, dtype=bool),
        }
    )
    out.loc[ok, "local_i"] = np.asarray(lm.Is, dtype=float)
    out.loc[ok, "p_sim"] = p
    out.loc[ok, "quadrant"] = quad
    out.loc[ok, "significant"] = sig
    cluster = np.where(out["significant"], out["quadrant"], "ns")
    cluster[~ok] = "missing"
    out["cluster"] = cluster
    # i18n-dynamic: every cluster code is a key of CLUSTER_KEYS (HH, LL, HL, LH, ns, missing)
    out["cluster_label"] = [t(CLUSTER_KEYS[c], lang) for c in cluster]
    out.attrs.update(indicator=indicator, year=int(year), alpha=alpha, threshold=threshold)
    return out
