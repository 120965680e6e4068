"""The game's world: the atlas numbers a Planspiel is played on, as small numpy arrays.

A :class:`World` is taken once from an :class:`~k360lib.atlas.model.Atlas`
when a game is created (that step needs pandas and reads the atlas) and is
then stored *inside the game's first event*. Every later step — folding the
event log, the impact model, scoring — works on these arrays alone, so a
player's kernel never needs pandas or geopandas, and a replay years later
gives the same result even if the atlas files have changed since.

**Need score per area** (the same arithmetic as
:func:`k360lib.atlas.indicators.need_index`, but standardised with the mean
and standard deviation of the *base year*, so that improvements show as a
falling mean instead of being re-centred to 0 every round)::

    z[a, i]  = polarity[i] * (x[a, i] - mean0[i]) / sd0[i]
    score[a] = sum_i w[i] * z[a, i] / sum_i w[i]      (over available i)

An area gets no score (NaN) when less than half of the weight is available.
In the base year the score equals ``need_index(atlas, weights, year).table.score``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from k360lib.game.errors import ScenarioError, ScenarioIssue

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.atlas.model import Atlas
    from k360lib.game.scenario import Scenario

__all__ = ["MIN_WEIGHT_SHARE", "World", "build_world", "world_for"]

#: An area needs at least this share of the need weights available to get a score
#: (the value of :data:`k360lib.atlas.indicators.MIN_WEIGHT_SHARE`).
MIN_WEIGHT_SHARE = 0.5


@dataclass(eq=False)
class World:
    """Per-area numbers of the atlas that a game uses (see the module docstring).

    Attributes
    ----------
    area_ids, names, districts : list of str
        Area keys, names and district ids (``""`` when unknown), in atlas order.
    district_names : dict
        District id → name.
    indicators : list of str
        The model's indicators (need index + everything an effect touches).
    values : numpy.ndarray
        ``(n_areas, n_indicators)`` values of the base year (NaN = missing or suppressed).
    lower, upper : numpy.ndarray
        Bounds per indicator (0 … 100 for percentages, 0 … inf otherwise).
    polarity, weights : numpy.ndarray
        Need direction (+1/−1) and normalised need weight per indicator (0 = not in the index).
    mean0, sd0 : numpy.ndarray
        Base-year mean and standard deviation (ddof=0) per indicator.
    children, in_need : numpy.ndarray
        Children (e.g. ``pop_u18``) and children in need (e.g. ``sgb2_u15``) per area.
    year : int
        The base year.
    labels, units : dict
        ``{indicator: {"de": ..., "en": ...}}`` and ``{indicator: unit}``.
    atlas_name : str
        The city's name.
    """

    area_ids: list[str]
    names: list[str]
    districts: list[str]
    district_names: dict[str, str]
    indicators: list[str]
    values: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    polarity: np.ndarray
    weights: np.ndarray
    mean0: np.ndarray
    sd0: np.ndarray
    children: np.ndarray
    in_need: np.ndarray
    year: int
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    atlas_name: str = ""
    _hash: str | None = field(default=None, repr=False)
    _index: dict[str, int] | None = field(default=None, repr=False)
    _ind_index: dict[str, int] | None = field(default=None, repr=False)
    _payload: dict | None = field(default=None, repr=False)

    # -- lookups ---------------------------------------------------------------
    @property
    def n_areas(self) -> int:
        """Number of areas."""
        return len(self.area_ids)

    def area_index(self, area_id: str) -> int:
        """Return the row of ``area_id`` (``KeyError`` when unknown)."""
        if self._index is None:
            self._index = {a: i for i, a in enumerate(self.area_ids)}
        return self._index[area_id]

    def has_area(self, area_id: str) -> bool:
        """Whether ``area_id`` is an area of this world."""
        if self._index is None:
            self._index = {a: i for i, a in enumerate(self.area_ids)}
        return area_id in self._index

    def indicator_index(self, indicator: str) -> int:
        """Return the column of ``indicator`` (``KeyError`` when unknown)."""
        if self._ind_index is None:
            self._ind_index = {a: i for i, a in enumerate(self.indicators)}
        return self._ind_index[indicator]

    def area_name(self, area_id: str) -> str:
        """Return the name of ``area_id``."""
        return self.names[self.area_index(area_id)]

    # -- need ------------------------------------------------------------------
    def need_scores(self, values: np.ndarray | None = None) -> np.ndarray:
        """Return the need score per area for ``values`` (default: the base year).

        See the module docstring for the formula.
        """
        x = self.values if values is None else values
        w = self.weights
        cols = np.flatnonzero(w > 0)
        xs = x[:, cols]
        ok = np.isfinite(xs)
        sd = self.sd0[cols]
        safe_sd = np.where(sd > 0, sd, 1.0)
        z = np.where(sd > 0, (xs - self.mean0[cols]) / safe_sd, 0.0) * self.polarity[cols]
        wc = w[cols]
        num = np.where(ok, z * wc, 0.0).sum(axis=1)
        wsum = np.where(ok, wc, 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(wsum >= MIN_WEIGHT_SHARE - 1e-12, num / wsum, np.nan)

    # -- serialisation -----------------------------------------------------------
    def to_dict(self) -> dict:
        """Return the world as JSON-able data (NaN and inf as ``None`` / strings)."""

        def arr(a):
            return [_num(v) for v in np.asarray(a, dtype=float).ravel()]

        return {
            "area_ids": list(self.area_ids),
            "names": list(self.names),
            "districts": list(self.districts),
            "district_names": dict(self.district_names),
            "indicators": list(self.indicators),
            "values": [arr(row) for row in self.values],
            "lower": arr(self.lower),
            "upper": arr(self.upper),
            "polarity": arr(self.polarity),
            "weights": arr(self.weights),
            "mean0": arr(self.mean0),
            "sd0": arr(self.sd0),
            "children": arr(self.children),
            "in_need": arr(self.in_need),
            "year": int(self.year),
            "labels": self.labels,
            "units": self.units,
            "atlas_name": self.atlas_name,
        }

    @classmethod
    def from_dict(cls, data: dict) -> World:
        """Rebuild a world from :meth:`to_dict` output."""

        def arr(a):
            return np.array([_unnum(v) for v in a], dtype=float)

        values = np.array([[_unnum(v) for v in row] for row in data["values"]], dtype=float)
        values = values.reshape(len(data["area_ids"]), len(data["indicators"]))
        return cls(
            area_ids=list(data["area_ids"]),
            names=list(data["names"]),
            districts=list(data["districts"]),
            district_names=dict(data.get("district_names", {})),
            indicators=list(data["indicators"]),
            values=values,
            lower=arr(data["lower"]),
            upper=arr(data["upper"]),
            polarity=arr(data["polarity"]),
            weights=arr(data["weights"]),
            mean0=arr(data["mean0"]),
            sd0=arr(data["sd0"]),
            children=arr(data["children"]),
            in_need=arr(data["in_need"]),
            year=int(data["year"]),
            labels=dict(data.get("labels", {})),
            units=dict(data.get("units", {})),
            atlas_name=str(data.get("atlas_name", "")),
        )

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict`."""
        if self._hash is None:
            self._hash = _hash_json(self.to_dict())
        return self._hash

    def to_payload(self) -> dict:
        """:meth:`to_dict`, computed once and shared (treat it as read-only)."""
        if self._payload is None:
            self._payload = self.to_dict()
        return self._payload


def _hash_json(data: dict) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _num(v: float):
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float(v)


def _unnum(v) -> float:
    if v is None:
        return math.nan
    if isinstance(v, str):
        return float(v)
    return float(v)


# ---------------------------------------------------------------------------
# building a world from an atlas
# ---------------------------------------------------------------------------
def _needed_indicators(sc: Scenario) -> list[tuple[str, str]]:
    """Return ``(indicator, path)`` of every indicator the scenario refers to (first use)."""
    out: dict[str, str] = {}
    for ind in sc.need_index.weights:
        out.setdefault(ind, f"need_index.weights.{ind}")
    for i, m in enumerate(sc.measures):
        for ind in m.effects:
            out.setdefault(ind, f"measures[{i}].effects.{ind}")
    for i, c in enumerate(sc.cards):
        for j, e in enumerate(c.effects):
            if e.type == "indicator":
                for ind in e.changes:
                    out.setdefault(ind, f"cards[{i}].effects[{j}].changes.{ind}")
    for i, r in enumerate(sc.roles):
        if r.goal.type == "indicator":
            out.setdefault(r.goal.indicator, f"roles[{i}].goal.indicator")
    out.setdefault(sc.model.children_indicator, "model.children_indicator")
    out.setdefault(sc.model.in_need_indicator, "model.in_need_indicator")
    return list(out.items())


def build_world(atlas: Atlas, scenario: Scenario) -> World:
    """Take the numbers ``scenario`` needs from ``atlas`` (needs pandas; done once per game).

    Parameters
    ----------
    atlas : Atlas
        The city's atlas.
    scenario : Scenario
        The scenario (its need index, effects, cards and goals name the indicators).

    Returns
    -------
    World

    Raises
    ------
    ScenarioError
        An indicator, area or district the scenario names is not in the atlas
        (the path says where in the scenario), or the base year has no data.
    """
    from k360lib.atlas.indicators import need_index

    known = set(atlas.indicator_ids)
    needed = _needed_indicators(scenario)
    issues = [
        ScenarioIssue(
            path,
            "game.scenario.unknown_indicator",
            {"indicator": ind, "known": ", ".join(sorted(known))},
        )
        for ind, path in needed
        if ind not in known
    ]
    area_ids = [str(a) for a in atlas.areas["area_id"]]
    area_set = set(area_ids)
    if "parent_id" in atlas.areas.columns:
        districts = ["" if _isna(d) else str(d) for d in atlas.areas["parent_id"]]
    else:
        districts = [""] * len(area_ids)
    district_set = {d for d in districts if d}
    issues += _check_places(scenario, area_set, district_set)
    if issues:
        raise ScenarioError(issues, file=None if scenario.source is None else str(scenario.source))

    ids = [ind for ind, _ in needed]
    weights_in = scenario.need_index.weights
    index = need_index(atlas, dict(weights_in), year=scenario.need_index.year)
    year = index.year
    wide = atlas.wide(year, ids)
    values = np.column_stack(
        [
            wide[i].to_numpy(dtype=float) if i in wide.columns else np.full(len(area_ids), np.nan)
            for i in ids
        ]
    )
    n = len(ids)
    polarity = np.zeros(n)
    weights = np.zeros(n)
    mean0 = np.zeros(n)
    sd0 = np.zeros(n)
    lower = np.zeros(n)
    upper = np.full(n, np.inf)
    labels, units = {}, {}
    for j, ind in enumerate(ids):
        info = atlas.indicator_info(ind)
        unit = str(info.get("unit") or "")
        units[ind] = unit
        labels[ind] = {lg: atlas.label(ind, lg) for lg in ("de", "en")}
        if "%" in unit:
            upper[j] = 100.0
        col = values[:, j]
        ok = np.isfinite(col)
        if ok.any():
            mean0[j] = col[ok].mean()
            sd0[j] = col[ok].std(ddof=0)
        if ind in index.weights:
            weights[j] = index.weights[ind]
            polarity[j] = index.polarity[ind]
        else:
            try:
                polarity[j] = int(float(info.get("polarity") or 0))
            except (TypeError, ValueError):
                polarity[j] = 0
    children = values[:, ids.index(scenario.model.children_indicator)].copy()
    in_need = values[:, ids.index(scenario.model.in_need_indicator)].copy()
    children = np.where(np.isfinite(children), children, 0.0)
    # a suppressed count of children in need: estimate from the city-wide share
    share = np.nansum(in_need) / max(np.nansum(children[np.isfinite(in_need)]), 1.0)
    in_need = np.where(np.isfinite(in_need), in_need, np.round(children * share))

    meta = atlas.meta or {}
    world = World(
        area_ids=area_ids,
        names=[str(n) for n in atlas.areas["name"]],
        districts=districts,
        district_names={str(k): str(v) for k, v in dict(meta.get("districts", {})).items()},
        indicators=ids,
        values=values,
        lower=lower,
        upper=upper,
        polarity=polarity,
        weights=weights,
        mean0=mean0,
        sd0=sd0,
        children=children,
        in_need=in_need,
        year=int(year),
        labels=labels,
        units=units,
        atlas_name=str(meta.get("name", "")),
    )
    return world


def _check_places(sc: Scenario, areas: set[str], districts: set[str]) -> list[ScenarioIssue]:
    issues: list[ScenarioIssue] = []

    def check(values, path, known, key):
        for j, v in enumerate(values):
            if v not in known:
                issues.append(
                    ScenarioIssue(
                        f"{path}[{j}]",
                        key,
                        {"value": v, "known": ", ".join(sorted(known)) or "–"},
                    )
                )

    for i, r in enumerate(sc.roles):
        check(r.focus.areas, f"roles[{i}].focus.areas", areas, "game.scenario.unknown_area")
        check(
            r.focus.districts,
            f"roles[{i}].focus.districts",
            districts,
            "game.scenario.unknown_district",
        )
        g = r.goal
        if g.type in ("measures_in", "indicator"):
            check(g.areas, f"roles[{i}].goal.areas", areas, "game.scenario.unknown_area")
            check(
                g.districts,
                f"roles[{i}].goal.districts",
                districts,
                "game.scenario.unknown_district",
            )
    for i, c in enumerate(sc.cards):
        for j, e in enumerate(c.effects):
            if e.type != "indicator":
                continue
            a = e.area
            path = f"cards[{i}].effects[{j}].area"
            if a in ("random", "top_need", "all"):
                continue
            if a.startswith("district:"):
                if a.split(":", 1)[1] not in districts:
                    issues.append(
                        ScenarioIssue(
                            path,
                            "game.scenario.unknown_district",
                            {"value": a, "known": ", ".join(sorted(districts)) or "–"},
                        )
                    )
            elif a not in areas:
                issues.append(
                    ScenarioIssue(
                        path,
                        "game.scenario.unknown_area",
                        {"value": a, "known": ", ".join(sorted(areas))},
                    )
                )
    return issues


def _isna(v) -> bool:
    try:
        return v is None or (isinstance(v, float) and math.isnan(v))
    except TypeError:  # pragma: no cover
        return False


_WORLDS: dict[tuple[str, str], World] = {}


def world_for(scenario: Scenario, atlas: Atlas | None = None) -> World:
    """Return the world of ``scenario`` on ``atlas`` (default: the scenario's own atlas).

    The scenario's ``atlas`` is ``"demo"`` (the bundled demo city) or a path
    to an atlas folder (relative to the scenario file). Worlds of the
    scenario's own atlas are cached per process.

    Raises
    ------
    ScenarioError
        The atlas folder does not exist or lacks what the scenario needs.
    """
    if atlas is not None:
        return build_world(atlas, scenario)
    key = (scenario.hash, scenario.atlas)
    if key not in _WORLDS:
        _WORLDS[key] = build_world(_load_atlas(scenario), scenario)
    return _WORLDS[key]


def _load_atlas(scenario: Scenario) -> Atlas:
    from pathlib import Path

    if scenario.atlas.strip().lower() == "demo":
        from k360lib.atlas.demo import demo_atlas

        return demo_atlas()
    from k360lib.atlas.model import Atlas

    path = Path(scenario.atlas)
    if not path.is_absolute() and scenario.source is not None:
        path = scenario.source.parent / path
    if not path.is_dir():
        raise ScenarioError(
            [ScenarioIssue("atlas", "game.scenario.atlas_missing", {"path": str(path)})],
            file=None if scenario.source is None else str(scenario.source),
        )
    return Atlas.load(path)
