"""The Atlas: social areas, indicators (long table), indicator catalog, facilities.

Data contract (see DESIGN.md):

- ``areas``: GeoDataFrame, EPSG:4326, columns ``area_id`` (str, unique), ``name``,
  optional ``parent_id``, ``geometry``.
- ``indicators``: DataFrame ``area_id, indicator, year, value, suppressed``.
- ``catalog``: DataFrame, one row per indicator: ``id, label_de, label_en, unit,
  polarity, theme, description, source, numerator, denominator, kind``.
- ``facilities``: GeoDataFrame of points ``facility_id, name, kind, capacity,
  target_group, area_id, geometry``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from k360lib.errors import DataError, DuplicateKeyError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "AREA_COLUMNS",
    "Atlas",
    "CATALOG_COLUMNS",
    "FACILITY_COLUMNS",
    "INDICATOR_COLUMNS",
    "empty_catalog",
    "empty_facilities",
    "empty_indicators",
]

AREA_COLUMNS = ("area_id", "name", "parent_id")
INDICATOR_COLUMNS = ("area_id", "indicator", "year", "value", "suppressed")
CATALOG_COLUMNS = (
    "id",
    "label_de",
    "label_en",
    "unit",
    "polarity",
    "theme",
    "kind",
    "description",
    "source",
    "numerator",
    "denominator",
)
FACILITY_COLUMNS = ("facility_id", "name", "kind", "capacity", "target_group", "area_id")

#: files of an atlas folder (the format of ``data/geo/``)
AREAS_FILE = "areas.geojson"
INDICATORS_FILE = "indicators.csv"
CATALOG_FILE = "catalog.csv"
FACILITIES_FILE = "facilities.geojson"
META_FILE = "meta.json"


def empty_indicators() -> pd.DataFrame:
    """Return an empty long indicator table with the contract's dtypes."""
    import pandas as pd

    return pd.DataFrame(
        {
            "area_id": pd.Series(dtype=object),
            "indicator": pd.Series(dtype=object),
            "year": pd.Series(dtype="int64"),
            "value": pd.Series(dtype="float64"),
            "suppressed": pd.Series(dtype=bool),
        }
    )


def empty_catalog() -> pd.DataFrame:
    """Return an empty indicator catalog."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=object) for c in CATALOG_COLUMNS})


def empty_facilities() -> gpd.GeoDataFrame:
    """Return an empty facilities GeoDataFrame in EPSG:4326."""
    import geopandas as gpd
    import pandas as pd

    cols = {c: pd.Series(dtype=object) for c in FACILITY_COLUMNS}
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def _normalise_indicators(df: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = df.copy()
    if "suppressed" not in out.columns:
        out["suppressed"] = False
    missing = [c for c in INDICATOR_COLUMNS if c not in out.columns]
    if missing:
        raise DataError(
            "atlas.model.missing_columns", table="indicators", columns=", ".join(missing)
        )
    out = out[list(INDICATOR_COLUMNS)]
    out["area_id"] = out["area_id"].astype(str).astype(object)
    out["indicator"] = out["indicator"].astype(str).astype(object)
    out["year"] = pd.to_numeric(out["year"]).astype("int64")
    out["value"] = pd.to_numeric(out["value"]).astype("float64")
    out["suppressed"] = out["suppressed"].astype(bool)
    # a suppressed cell never carries a value
    out.loc[out["suppressed"], "value"] = float("nan")
    return out.sort_values(["indicator", "year", "area_id"], kind="stable").reset_index(drop=True)


@dataclass
class Atlas:
    """Social areas with their indicators, indicator catalog and facilities.

    Use :meth:`load` for an atlas folder, :func:`k360lib.atlas.demo.demo_atlas`
    for the fictional demo city, or :mod:`k360lib.atlas.io` to import a
    city's own files.
    """

    areas: gpd.GeoDataFrame
    indicators: pd.DataFrame = field(default_factory=empty_indicators)
    catalog: pd.DataFrame = field(default_factory=empty_catalog)
    facilities: gpd.GeoDataFrame = field(default_factory=empty_facilities)
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # -- validation ---------------------------------------------------------
    def validate(self) -> None:
        """Check the data contract; raise :class:`DataError` naming what is wrong."""
        areas = self.areas
        for col in ("area_id", "name"):
            if col not in areas.columns:
                raise DataError("atlas.model.missing_columns", table="areas", columns=col)
        if areas.crs is None:
            raise DataError("atlas.model.areas_crs")
        if areas.crs.to_epsg() != 4326:
            self.areas = areas = areas.to_crs(4326)
        dup = areas["area_id"][areas["area_id"].duplicated()].astype(str).unique().tolist()
        if dup:
            raise DuplicateKeyError(
                "atlas.io.duplicate_keys", keys=", ".join(dup[:20]), n=len(dup), column="area_id"
            )
        self.indicators = _normalise_indicators(self.indicators)
        known = set(areas["area_id"].astype(str))
        unknown = sorted(set(self.indicators["area_id"]) - known)
        if unknown:
            raise DataError(
                "atlas.model.unknown_areas", areas=", ".join(unknown[:20]), n=len(unknown)
            )
        if self.indicators.duplicated(["area_id", "indicator", "year"]).any():
            d = self.indicators[
                self.indicators.duplicated(["area_id", "indicator", "year"], keep=False)
            ]
            first = d.iloc[0]
            raise DuplicateKeyError(
                "atlas.model.duplicate_values",
                area=str(first["area_id"]),
                indicator=str(first["indicator"]),
                year=int(first["year"]),
            )

    # -- accessors ------------------------------------------------------------
    @property
    def name(self) -> str:
        """The city's name (from ``meta``)."""
        return str(self.meta.get("name", ""))

    @property
    def years(self) -> list[int]:
        """All years with any indicator value, ascending."""
        return sorted(int(y) for y in self.indicators["year"].unique())

    @property
    def indicator_ids(self) -> list[str]:
        """Indicators present in the long table, in catalog order where known."""
        present = list(dict.fromkeys(self.indicators["indicator"]))
        order = [i for i in self.catalog.get("id", []) if i in present]
        return order + sorted(i for i in present if i not in order)

    def indicator_info(self, indicator: str) -> dict:
        """Return the catalog row of ``indicator`` as a dict (defaults if absent)."""
        cat = self.catalog
        if len(cat) and indicator in set(cat["id"]):
            row = cat[cat["id"] == indicator].iloc[0].to_dict()
            return {k: (None if _isna(v) else v) for k, v in row.items()}
        return {
            "id": indicator,
            "label_de": indicator,
            "label_en": indicator,
            "unit": "",
            "polarity": 1,
        }

    def label(self, indicator: str, lang: str | None = None) -> str:
        """Return the indicator's label in ``lang``."""
        from k360lib.i18n import normalize_lang

        info = self.indicator_info(indicator)
        return str(info.get(f"label_{normalize_lang(lang)}") or info.get("label_de") or indicator)

    def values(self, indicator: str, year: int | None = None) -> pd.DataFrame:
        """Return ``area_id, value, suppressed`` of one indicator and year, one row per area.

        Areas without a value get ``NaN`` (missing, not suppressed). ``year=None``
        takes the latest year the indicator has.
        """
        ind = self.indicators[self.indicators["indicator"] == indicator]
        if ind.empty:
            raise DataError(
                "atlas.model.unknown_indicator",
                indicator=indicator,
                known=", ".join(self.indicator_ids[:30]),
            )
        if year is None:
            year = int(ind["year"].max())
        sel = ind[ind["year"] == int(year)].set_index("area_id")[["value", "suppressed"]]
        out = sel.reindex(self.areas["area_id"].astype(str))
        out["suppressed"] = out["suppressed"].fillna(False).astype(bool)
        out.index.name = "area_id"
        return out.reset_index()

    def wide(self, year: int, indicators: list[str] | None = None) -> pd.DataFrame:
        """Return one row per area and one column per indicator for ``year`` (suppressed → NaN)."""
        df = self.indicators[self.indicators["year"] == int(year)]
        if indicators is not None:
            df = df[df["indicator"].isin(indicators)]
        wide = df.pivot(index="area_id", columns="indicator", values="value")
        wide = wide.reindex(self.areas["area_id"].astype(str))
        wide.columns.name = None
        return wide

    def with_indicators(self, extra: pd.DataFrame, catalog: pd.DataFrame | None = None) -> Atlas:
        """Return a new atlas with ``extra`` long rows (and catalog rows) added or replaced."""
        import pandas as pd

        extra = _normalise_indicators(extra)
        keys = ["area_id", "indicator", "year"]
        base = self.indicators.merge(extra[keys], on=keys, how="left", indicator=True)
        kept = self.indicators[(base["_merge"] == "left_only").to_numpy()]
        ind = pd.concat([kept, extra], ignore_index=True)
        cat = self.catalog
        if catalog is not None and len(catalog):
            cat = pd.concat([cat[~cat["id"].isin(catalog["id"])], catalog], ignore_index=True)
        return Atlas(self.areas, ind, cat, self.facilities, dict(self.meta))

    # -- metric CRS -----------------------------------------------------------
    def metric_crs(self):
        """Return a metric CRS for areas and distances (``meta['metric_crs']`` or the UTM zone)."""
        from k360lib.atlas.geo import metric_crs

        return metric_crs(self.areas, self.meta.get("metric_crs"))

    # -- persistence ------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the atlas as a folder of plain files; the same atlas always gives the same bytes.

        Small numbers are suppressed first (threshold from ``meta``, default 3): an
        export never carries a value below the threshold.
        """
        from k360lib.atlas.privacy import DEFAULT_THRESHOLD, suppress_counts

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_geojson(self.areas, folder / AREAS_FILE)
        threshold = self.meta.get("suppression_threshold", DEFAULT_THRESHOLD)
        ind = (
            suppress_counts(self.indicators, self.catalog, threshold)
            if len(self.catalog)
            else self.indicators.copy()
        )
        ind["value"] = ind["value"].round(6)
        ind.to_csv(folder / INDICATORS_FILE, index=False, lineterminator="\n")
        self.catalog.to_csv(folder / CATALOG_FILE, index=False, lineterminator="\n")
        write_geojson(self.facilities, folder / FACILITIES_FILE)
        (folder / META_FILE).write_text(
            json.dumps(self.meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
            newline="\n",
        )
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Atlas:
        """Load an atlas folder (``areas.geojson``, ``indicators.csv``, ``catalog.csv``, ``facilities.geojson``, ``meta.json``)."""
        import geopandas as gpd
        import pandas as pd

        folder = Path(folder)
        areas_path = folder / AREAS_FILE
        if not areas_path.exists():
            raise DataError("atlas.io.file_not_found", file=str(areas_path))
        areas = gpd.read_file(areas_path)
        areas["area_id"] = areas["area_id"].astype(str).astype(object)
        ind_path = folder / INDICATORS_FILE
        indicators = (
            pd.read_csv(ind_path, dtype={"area_id": str, "indicator": str}, keep_default_na=True)
            if ind_path.exists()
            else empty_indicators()
        )
        cat_path = folder / CATALOG_FILE
        catalog = (
            pd.read_csv(cat_path, dtype=str, keep_default_na=False)
            if cat_path.exists()
            else empty_catalog()
        )
        if "polarity" in catalog.columns:
            catalog["polarity"] = pd.to_numeric(catalog["polarity"]).astype(int)
        fac_path = folder / FACILITIES_FILE
        facilities = gpd.read_file(fac_path) if fac_path.exists() else empty_facilities()
        # GeoJSON properties come back sorted: restore the contract's column order
        fac_cols = [c for c in FACILITY_COLUMNS if c in facilities.columns]
        extra = [
            c for c in facilities.columns if c not in fac_cols and c != facilities.geometry.name
        ]
        facilities = facilities[[*fac_cols, *extra, facilities.geometry.name]]
        area_cols = [c for c in AREA_COLUMNS if c in areas.columns]
        areas = areas[
            [
                *area_cols,
                *[c for c in areas.columns if c not in area_cols and c != "geometry"],
                "geometry",
            ]
        ]
        meta_path = folder / META_FILE
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        return cls(areas, indicators, catalog, facilities, meta)


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path, precision: int = 6) -> None:
    r"""Write ``gdf`` as GeoJSON deterministically (sorted keys, rounded coordinates, ``\\n`` endings).

    Six decimals of a degree are ~0.1 m; the same input always gives the same bytes.
    """
    import numpy as np
    import shapely

    gdf = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    geoms = (
        shapely.set_precision(gdf.geometry.values, 10.0**-precision)
        if len(gdf)
        else gdf.geometry.values
    )
    props = gdf.drop(columns=gdf.geometry.name)
    features = []
    for geom, (_, row) in zip(geoms, props.iterrows()):
        properties = {}
        for k, v in row.items():
            if isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (np.floating, float)):
                v = None if v != v else float(v)
            elif isinstance(v, (np.bool_,)):
                v = bool(v)
            properties[str(k)] = v
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": shapely.geometry.mapping(geom) if geom is not None else None,
            }
        )
    doc = {"type": "FeatureCollection", "features": features}
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    Path(path).write_text(text + "\n", encoding="utf-8", newline="\n")


def _isna(v) -> bool:
    try:
        return v != v  # NaN
    except Exception:  # pragma: no cover
        return False
