"""Importing a city's own files: areas, facilities and indicator tables.

Each reader returns its result **and** an :class:`~k360lib.atlas.report.ImportReport`
that names every problem with file, row/cell, column, key or area. Errors
stop the import (:func:`import_atlas` returns no atlas); nothing is dropped or
zero-filled without a finding in the report.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from k360lib.atlas.matching import KeyMatch, match_keys
from k360lib.atlas.report import Finding, ImportReport
from k360lib.atlas.tables import RawTable, parse_number, read_raw_table
from k360lib.errors import CRSError, DataError, K360Error

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

    from k360lib.atlas.model import Atlas

__all__ = [
    "VECTOR_SUFFIXES",
    "check_files",
    "import_atlas",
    "read_areas",
    "read_facilities",
    "read_table",
    "table_to_long",
]

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_KEY_HINTS = (
    "area_id",
    "id",
    "nr",
    "nummer",
    "schluessel",
    "schlüssel",
    "key",
    "code",
    "kennung",
    "raum_id",
)
_NAME_HINTS = ("name", "bezeichnung", "stadtteil", "sozialraum", "gebiet", "raum", "bezirk")
_PARENT_HINTS = ("parent", "parent_id", "parent_are", "bezirk_id", "stadtbezirk", "district")
_YEAR_NAMES = ("year", "jahr", "stichjahr", "berichtsjahr", "jahr_")
_VALUE_NAMES = ("value", "wert", "werte", "zahl", "anzahl", "betrag", "count")
_YEAR_IN_NAME = re.compile(
    r"^(?P<base>.*?)[\s_\-]*(?P<year>(?:19|20)\d{2})(?![\d])[\s_\-]*(?P<rest>.*)$"
)


def _slug(text: str) -> str:
    from k360lib.atlas.matching import _fold

    s = _fold(text).replace(" ", "_")
    s = re.sub(r"[^0-9a-z_]+", "", s)
    return s.strip("_") or "value"


# =====================================================================================
# geometry
# =====================================================================================


def _parse_kml(path: Path, report: ImportReport):
    """Read a KML file with its ExtendedData attributes (GDAL's KML driver drops them)."""
    import xml.etree.ElementTree as ET

    import geopandas as gpd
    from shapely.geometry import MultiPolygon, Point, Polygon

    try:
        tree = ET.parse(path)
    except ET.ParseError as exc:
        raise DataError("atlas.io.unreadable", file=path.name, detail=str(exc)) from exc

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def coords(text: str):
        pts = []
        for tok in (text or "").split():
            parts = tok.split(",")
            if len(parts) >= 2:
                pts.append((float(parts[0]), float(parts[1])))
        return pts

    def polygon(el):
        outer, inner = None, []
        for child in el.iter():
            tag = local(child.tag)
            if tag == "outerBoundaryIs":
                for c in child.iter():
                    if local(c.tag) == "coordinates":
                        outer = coords(c.text)
            elif tag == "innerBoundaryIs":
                for c in child.iter():
                    if local(c.tag) == "coordinates":
                        inner.append(coords(c.text))
        return Polygon(outer, inner) if outer else None

    records, geoms = [], []
    for pm in tree.getroot().iter():
        if local(pm.tag) != "Placemark":
            continue
        rec: dict = {}
        polys, points = [], []
        for el in pm:
            tag = local(el.tag)
            if tag in ("name", "description") and el.text:
                rec[tag] = el.text.strip()
        for el in pm.iter():
            tag = local(el.tag)
            if tag == "SimpleData":
                rec[el.get("name")] = (el.text or "").strip()
            elif tag == "Data":
                val = next((c.text for c in el if local(c.tag) == "value"), None)
                rec[el.get("name")] = (val or "").strip()
            elif tag == "Polygon":
                p = polygon(el)
                if p is not None:
                    polys.append(p)
            elif tag == "Point":
                c = next((coords(x.text) for x in el if local(x.tag) == "coordinates"), [])
                if c:
                    points.append(Point(c[0]))
        if polys:
            geoms.append(polys[0] if len(polys) == 1 else MultiPolygon(polys))
        elif points:
            geoms.append(points[0])
        else:
            geoms.append(None)
        records.append(rec)
    if not records:
        raise DataError("atlas.io.no_features", file=path.name)
    return gpd.GeoDataFrame(records, geometry=geoms, crs="EPSG:4326")


def _resolve_vector(path: Path, report: ImportReport, tmp: list) -> Path:
    """Return the path GDAL should read: a .shp in a folder or zip, or the file itself."""
    if not path.exists():
        raise DataError("atlas.io.file_not_found", file=str(path))
    if path.is_dir():
        shps = (
            sorted(path.glob("*.shp"))
            + sorted(path.glob("*.gpkg"))
            + sorted(path.glob("*.geojson"))
        )
        if not shps:
            raise DataError("atlas.io.no_vector_in_folder", file=path.name)
        if len(shps) > 1:
            report.info(
                "atlas.io.several_files",
                where={"file": path.name},
                chosen=shps[0].name,
                files=", ".join(p.name for p in shps),
            )
        return shps[0]
    if path.suffix.lower() == ".zip":
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise DataError("atlas.io.bad_zip", file=path.name) from exc
        with zf:
            names = [
                n for n in zf.namelist() if not n.startswith("__MACOSX") and not n.endswith("/")
            ]
            vec = [
                n
                for n in names
                if n.lower().endswith((".shp", ".gpkg", ".geojson", ".json", ".kml"))
            ]
            if not vec:
                raise DataError(
                    "atlas.io.no_vector_in_zip", file=path.name, files=", ".join(names[:10])
                )
            if len(vec) > 1:
                report.info(
                    "atlas.io.several_files",
                    where={"file": path.name},
                    chosen=vec[0],
                    files=", ".join(vec),
                )
            d = tempfile.TemporaryDirectory(prefix="k360-")
            tmp.append(d)
            for n in names:
                target = Path(d.name) / n
                if not target.resolve().is_relative_to(Path(d.name).resolve()):
                    raise DataError("atlas.io.bad_zip", file=path.name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(n))
            return Path(d.name) / vec[0]
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise DataError("atlas.io.unknown_vector_format", file=path.name, suffix=path.suffix or "—")
    return path


def _read_vector(path: Path, display: str, report: ImportReport, layer=None, encoding=None):
    import geopandas as gpd
    import pyogrio

    suffix = path.suffix.lower()
    if suffix == ".kml":
        return _parse_kml(path, report)
    kwargs: dict = {}
    if suffix == ".gpkg" or (suffix == ".json" and False):
        try:
            layers = pyogrio.list_layers(path)
        except Exception as exc:  # pyogrio raises DataSourceError subclasses
            raise DataError("atlas.io.unreadable", file=display, detail=str(exc)[:160]) from exc
        names = [str(n) for n, _ in layers]
        if layer is None:
            poly = [str(n) for n, g in layers if g and ("Polygon" in str(g) or "Point" in str(g))]
            layer = (poly or names)[0]
            if len(names) > 1:
                report.info(
                    "atlas.io.layer_chosen",
                    where={"file": display},
                    layer=layer,
                    layers=", ".join(names),
                )
        elif str(layer) not in names:
            raise DataError(
                "atlas.io.unknown_layer", file=display, layer=str(layer), layers=", ".join(names)
            )
        kwargs["layer"] = layer
    if suffix == ".shp":
        cpg = path.with_suffix(".cpg")
        if encoding:
            kwargs["encoding"] = encoding
        elif not cpg.exists() and not path.with_suffix(".CPG").exists():
            # no code page file: German DBFs from Windows GIS are cp1252 (a superset of latin-1)
            kwargs["encoding"] = "cp1252"
            report.info("atlas.io.dbf_encoding", where={"file": display}, encoding="cp1252")
    try:
        gdf = gpd.read_file(path, **kwargs)
    except Exception as exc:
        raise DataError(
            "atlas.io.unreadable", file=display, detail=str(exc).splitlines()[0][:160]
        ) from exc
    return gdf


def _detect_column(gdf, hints, *, unique: bool, exclude=()) -> str | None:
    cols = [c for c in gdf.columns if c != gdf.geometry.name and c not in exclude]
    lower = {c: c.lower() for c in cols}
    for hint in hints:
        for c in cols:
            if lower[c] == hint or lower[c].endswith("_" + hint) or lower[c].startswith(hint + "_"):
                s = gdf[c]
                if s.notna().all() and (not unique or s.astype(str).is_unique):
                    return c
    for hint in hints:
        for c in cols:
            if hint in lower[c]:
                s = gdf[c]
                if s.notna().all() and (not unique or s.astype(str).is_unique):
                    return c
    return None


def _fix_crs(gdf, display: str, report: ImportReport, crs=None):
    from pyproj import CRS

    if crs is not None:
        gdf = gdf.set_crs(crs, allow_override=True)
        report.info(
            "atlas.io.crs_given", where={"file": display}, crs=str(CRS.from_user_input(crs).name)
        )
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            report.warning("atlas.io.crs_assumed_wgs84", where={"file": display})
            gdf = gdf.set_crs(4326)
        else:
            hint = "EPSG:25832" if 200_000 < minx < 900_000 and 5_200_000 < miny < 6_200_000 else ""
            if not hint and 32_000_000 < minx < 33_000_000:
                hint = "EPSG:4647"
            raise CRSError(
                "atlas.io.crs_missing",
                file=display,
                bounds=f"{minx:.0f}, {miny:.0f}, {maxx:.0f}, {maxy:.0f}",
                hint=hint or "EPSG:25832 / EPSG:25833",
            )
    epsg = gdf.crs.to_epsg()
    if epsg is None:
        report.info("atlas.io.crs_no_epsg", where={"file": display}, crs=gdf.crs.name)
    elif epsg != 4326:
        report.info("atlas.io.crs_reprojected", where={"file": display}, crs=f"EPSG:{epsg}")
    src_crs = gdf.crs
    out = gdf.to_crs(4326)
    minx, miny, maxx, maxy = out.total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90) or any(
        v != v for v in (minx, miny, maxx, maxy)
    ):
        raise CRSError("atlas.io.crs_wrong", file=display, crs=src_crs.name)
    return out, src_crs


def _repair_geometries(gdf, ids, display: str, report: ImportReport, polygonal: bool = True):
    import shapely

    geoms = gdf.geometry.values
    missing = [ids[i] for i, g in enumerate(geoms) if g is None or g.is_empty]
    if missing:
        report.error(
            "atlas.io.empty_geometry",
            where={"file": display},
            areas=", ".join(map(str, missing[:20])),
            n=len(missing),
        )
        return gdf
    if shapely.has_z(geoms).any():
        gdf = gdf.set_geometry(shapely.force_2d(geoms), crs=gdf.crs)
        geoms = gdf.geometry.values
    if polygonal:
        bad_type = [
            ids[i] for i, g in enumerate(geoms) if g.geom_type not in ("Polygon", "MultiPolygon")
        ]
        if bad_type:
            kinds = sorted(
                {geoms[i].geom_type for i, g in enumerate(geoms) if ids[i] in set(bad_type)}
            )
            report.error(
                "atlas.io.not_polygons",
                where={"file": display},
                areas=", ".join(map(str, bad_type[:20])),
                kinds=", ".join(kinds),
            )
            return gdf
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = list(geoms)
        for i in invalid.nonzero()[0]:
            reason = shapely.is_valid_reason(geoms[i])
            repaired = shapely.make_valid(geoms[i])
            if polygonal and repaired.geom_type not in ("Polygon", "MultiPolygon"):
                parts = [
                    p
                    for p in shapely.get_parts(repaired)
                    if p.geom_type in ("Polygon", "MultiPolygon")
                ]
                repaired = shapely.union_all(parts) if parts else repaired
            before, after = geoms[i].area, repaired.area
            fixed[i] = repaired
            report.info(
                "atlas.io.geometry_repaired",
                where={"file": display, "area": str(ids[i])},
                reason=reason,
                change=f"{(after - before) / before * 100:+.2f}" if before else "—",
            )
        gdf = gdf.set_geometry(fixed, crs=gdf.crs)
    return gdf


def read_areas(
    path: str | Path,
    *,
    key: str | None = None,
    name: str | None = None,
    parent: str | None = None,
    layer: str | None = None,
    crs=None,
    encoding: str | None = None,
    report: ImportReport | None = None,
) -> tuple[gpd.GeoDataFrame | None, ImportReport]:
    """Read social-area polygons into the data contract (``area_id, name, parent_id, geometry``, EPSG:4326).

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage, Shapefile (``.shp``, a folder, or a ``.zip``), KML.
    key, name, parent : str, optional
        Columns holding the area key, name and parent (district); detected if omitted.
    layer : str, optional
        GeoPackage layer.
    crs : optional
        CRS to assume when the file has none (or a wrong one).
    encoding : str, optional
        Text encoding of a Shapefile's DBF (default: its .cpg, else cp1252).
    report : ImportReport, optional
        Report to add to.

    Returns
    -------
    (GeoDataFrame or None, ImportReport)
        ``None`` when the report holds errors.
    """
    report = report if report is not None else ImportReport()
    path = Path(path)
    display = path.name
    tmp: list = []
    try:
        try:
            real = _resolve_vector(path, report, tmp)
            gdf = _read_vector(real, display, report, layer=layer, encoding=encoding)
        except K360Error as err:
            report.findings.append(Finding.from_error(err))
            return None, report
        if len(gdf) == 0:
            report.error("atlas.io.no_features", where={"file": display})
            return None, report
        cols = [c for c in gdf.columns if c != gdf.geometry.name]
        for given in (key, name, parent):
            if given is not None and given not in gdf.columns:
                report.error(
                    "atlas.io.unknown_column",
                    where={"file": display, "column": given},
                    columns=", ".join(cols),
                )
        if report.errors:
            return None, report
        key_col = key or _detect_column(gdf, _KEY_HINTS, unique=True)
        if key_col is None:
            # any unique, complete column will do
            key_col = next(
                (c for c in cols if gdf[c].notna().all() and gdf[c].astype(str).is_unique), None
            )
        if key_col is None:
            dup_cols = ", ".join(cols) or "—"
            report.error("atlas.io.no_key_column", where={"file": display}, columns=dup_cols)
            return None, report
        keys = gdf[key_col]
        if keys.isna().any():
            rows = [str(i + 1) for i in keys[keys.isna()].index[:20]]
            report.error(
                "atlas.io.missing_keys",
                where={"file": display, "column": key_col},
                features=", ".join(rows),
            )
            return None, report
        keys = keys.map(
            lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()
        )
        dups = sorted(keys[keys.duplicated()].unique())
        if dups:
            report.error(
                "atlas.io.duplicate_keys",
                where={"file": display, "column": key_col},
                keys=", ".join(dups[:20]),
                n=len(dups),
            )
            return None, report
        name_col = name or _detect_column(gdf, _NAME_HINTS, unique=False, exclude=(key_col,))
        parent_col = parent or _detect_column(
            gdf, _PARENT_HINTS, unique=False, exclude=(key_col, name_col)
        )
        report.info(
            "atlas.io.area_columns",
            where={"file": display},
            key=key_col,
            name=name_col or "—",
            parent=parent_col or "—",
            n=len(gdf),
        )
        gdf = _repair_geometries(gdf, list(keys), display, report)
        if report.errors:
            return None, report
        try:
            gdf, src_crs = _fix_crs(gdf, display, report, crs=crs)
        except K360Error as err:
            report.findings.append(Finding.from_error(err))
            return None, report
        import geopandas as gpd

        data = {
            "area_id": list(keys),
            "name": [
                str(v) if v is not None and v == v else str(k)
                for v, k in zip(gdf[name_col] if name_col else keys, keys)
            ],
        }
        if parent_col:
            data["parent_id"] = [None if v is None or v != v else str(v) for v in gdf[parent_col]]
        out = gpd.GeoDataFrame(data, geometry=list(gdf.geometry.values), crs="EPSG:4326")
        out.attrs["source_crs"] = src_crs.to_wkt() if src_crs is not None else None
        report.data["areas_source_crs"] = src_crs.to_string() if src_crs is not None else None
        return out, report
    finally:
        for d in tmp:
            d.cleanup()


# =====================================================================================
# facilities
# =====================================================================================

_X_NAMES = ("lon", "longitude", "lng", "x", "laenge", "länge", "rechtswert", "east", "easting")
_Y_NAMES = ("lat", "latitude", "y", "breite", "hochwert", "north", "northing")


def read_facilities(
    path: str | Path,
    *,
    areas: gpd.GeoDataFrame | None = None,
    x: str | None = None,
    y: str | None = None,
    crs=None,
    name: str | None = None,
    kind: str | None = None,
    capacity: str | None = None,
    report: ImportReport | None = None,
) -> tuple[gpd.GeoDataFrame | None, ImportReport]:
    """Read facility points: vector files, or CSV/XLSX with lon/lat or x/y columns plus ``crs``.

    Parameters
    ----------
    path : str or Path
        Vector file (as :func:`read_areas`) or a table.
    areas : GeoDataFrame, optional
        Areas to assign each facility to (``area_id`` of the containing polygon).
    x, y : str, optional
        Coordinate columns of a table (detected: lon/lat, x/y, Rechtswert/Hochwert).
    crs : optional
        CRS of table coordinates (default EPSG:4326 when they look like degrees).
    name, kind, capacity : str, optional
        Columns; detected by name if omitted.
    report : ImportReport, optional
        Report to add to.
    """
    import geopandas as gpd
    import pandas as pd

    report = report if report is not None else ImportReport()
    path = Path(path)
    display = path.name
    tmp: list = []
    try:
        if path.suffix.lower() in TABLE_SUFFIXES:
            try:
                raw, _ = read_raw_table(path, report=report)
            except K360Error as err:
                report.findings.append(Finding.from_error(err))
                return None, report
            df = raw.frame
            lower = {c.lower(): c for c in df.columns}
            xc = x or next((lower[n] for n in _X_NAMES if n in lower), None)
            yc = y or next((lower[n] for n in _Y_NAMES if n in lower), None)
            if xc is None or yc is None:
                report.error(
                    "atlas.io.no_coordinates",
                    where={"file": display},
                    columns=", ".join(df.columns),
                )
                return None, report
            xs, ys = [], []
            for i in range(len(df)):
                px, py = (
                    parse_number(df[xc].iloc[i], raw.decimal),
                    parse_number(df[yc].iloc[i], raw.decimal),
                )
                if px.value is None or py.value is None:
                    col = xc if px.value is None else yc
                    report.error(
                        "atlas.io.bad_coordinate",
                        where=raw.where(i, col),
                        value=str(df[col].iloc[i]),
                    )
                xs.append(px.value)
                ys.append(py.value)
            if report.errors:
                return None, report
            gdf = gpd.GeoDataFrame(df.copy(), geometry=gpd.points_from_xy(xs, ys), crs=None)
        else:
            try:
                real = _resolve_vector(path, report, tmp)
                gdf = _read_vector(real, display, report)
            except K360Error as err:
                report.findings.append(Finding.from_error(err))
                return None, report
            if len(gdf) and not (gdf.geom_type == "Point").all():
                non_point = gdf.geom_type[gdf.geom_type != "Point"]
                multi = non_point[non_point == "MultiPoint"]
                if len(multi) == len(non_point):
                    gdf = gdf.explode(index_parts=False).reset_index(drop=True)
                    report.info(
                        "atlas.io.multipoint_exploded", where={"file": display}, n=len(multi)
                    )
                else:
                    gdf = gdf.set_geometry(gdf.geometry.representative_point())
                    report.warning(
                        "atlas.io.facilities_not_points", where={"file": display}, n=len(non_point)
                    )
        try:
            gdf, _ = _fix_crs(gdf, display, report, crs=crs)
        except K360Error as err:
            report.findings.append(Finding.from_error(err))
            return None, report
        lower = {c.lower(): c for c in gdf.columns if c != gdf.geometry.name}
        name_c = name or next(
            (lower[n] for n in ("name", "bezeichnung", "einrichtung", "titel") if n in lower), None
        )
        kind_c = kind or next(
            (
                lower[n]
                for n in ("kind", "art", "typ", "type", "kategorie", "category")
                if n in lower
            ),
            None,
        )
        cap_c = capacity or next(
            (
                lower[n]
                for n in ("capacity", "kapazitaet", "kapazität", "plaetze", "plätze")
                if n in lower
            ),
            None,
        )
        id_c = next((lower[n] for n in ("facility_id", "id", "nr") if n in lower), None)
        n = len(gdf)
        caps: list = [None] * n
        if cap_c:
            for i, v in enumerate(gdf[cap_c]):
                p = parse_number(v)
                if p.ok:
                    caps[i] = p.value
                else:
                    report.warning(
                        "atlas.io.bad_capacity",
                        where={"file": display, "row": i + 2, "column": cap_c},
                        value=str(v),
                    )
        out = gpd.GeoDataFrame(
            {
                "facility_id": [str(v) for v in gdf[id_c]]
                if id_c
                else [f"F{i + 1:04d}" for i in range(n)],
                "name": [str(v) for v in gdf[name_c]]
                if name_c
                else [f"#{i + 1}" for i in range(n)],
                "kind": [str(v) for v in gdf[kind_c]] if kind_c else ["—"] * n,
                "capacity": pd.array(caps, dtype="Float64").astype("float64"),
                "target_group": [str(v) for v in gdf[lower["target_group"]]]
                if "target_group" in lower
                else [""] * n,
            },
            geometry=list(gdf.geometry.values),
            crs="EPSG:4326",
        )
        if areas is not None and len(out):
            joined = gpd.sjoin(out, areas[["area_id", "geometry"]], how="left", predicate="within")
            joined = joined[~joined.index.duplicated()]
            out["area_id"] = joined["area_id"].to_numpy()
            outside = out["area_id"].isna().sum()
            if outside:
                report.warning(
                    "atlas.io.facilities_outside", where={"file": display}, n=int(outside)
                )
        else:
            out["area_id"] = None
        report.info("atlas.io.facilities_read", where={"file": display}, n=len(out))
        return out, report
    finally:
        for d in tmp:
            d.cleanup()


# =====================================================================================
# tables
# =====================================================================================


def _norm_key_value(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, float):
        if v != v:
            return None
        if v.is_integer():
            return str(int(v))
    s = str(v).strip()
    return s or None


def _column_values(raw: RawTable, col: str) -> list:
    return [_norm_key_value(v) for v in raw.frame[col]]


def _pick_key_column(raw: RawTable, areas, key: str | None, mapping: dict | None):
    """Return (key column, name column or None, KeyMatch) — the column that matches most areas."""
    ids = list(areas["area_id"])
    names = list(areas["name"])
    cols = list(raw.frame.columns)
    n_areas = len(ids)
    limit = max(5 * n_areas, n_areas + 50)
    candidates = [key] if key else cols
    scored = []
    for col in candidates:
        vals = [v for v in _column_values(raw, col) if v is not None]
        distinct = set(vals)
        if not distinct or len(distinct) > limit:
            continue
        m = match_keys(distinct, ids, names, mapping=mapping, suggest=False)
        exactish = sum(1 for mm in m.methods.values() if mm in ("explicit", "exact", "normalised"))
        scored.append((len(m.mapping), exactish, -cols.index(col), col))
    if not scored:
        return None, None, None

    # columns that look like keys or names (by header or by text values) come first: a
    # numeric value column ("Kinder 2021": 1, 2, 3) must not win because its numbers
    # happen to equal area numbers
    def preferred(col: str) -> bool:
        low = col.lower()
        if _YEAR_IN_NAME.match(col) and not any(h in low for h in ("id", "nr")):
            return False
        if any(
            h == low or h in low.replace("-", "_").split("_") or low.startswith(h)
            for h in _KEY_HINTS + _NAME_HINTS + ("gebiet", "schlüssel", "district")
        ):
            return True
        vals = [v for v in raw.frame[col] if v not in (None, "")]
        return bool(vals) and sum(parse_number(v, raw.decimal).ok for v in vals) / len(vals) < 0.5

    if not key:
        pref = [t for t in scored if t[0] > 0 and preferred(t[3])]
        if pref:
            scored = pref
    scored.sort(reverse=True)
    key_col = scored[0][3]
    keys = _column_values(raw, key_col)
    # a name column: another text column in one-to-one relation with the key
    name_col = None
    best = -1
    by_score = {col: n for n, _, _, col in scored}
    for col in cols:
        if col == key_col:
            continue
        vals = _column_values(raw, col)
        kinds = [parse_number(v, raw.decimal).ok for v in vals if v is not None]
        if not kinds or sum(kinds) / len(kinds) >= 0.5:
            continue
        # (nearly) one name per key and one key per name: small spelling drifts over the years are fine
        pairs = {(k, v) for k, v in zip(keys, vals) if k is not None and v is not None}
        n_keys = len({k for k, _ in pairs})
        if not pairs or n_keys < 0.95 * len(pairs) or len({v for _, v in pairs}) < 0.8 * len(pairs):
            continue
        named = any(h in col.lower() for h in _NAME_HINTS)
        if (by_score.get(col, 0) > 0 or named) and by_score.get(col, 0) > best:
            name_col, best = col, by_score.get(col, 0)
    table_names = {}
    if name_col:
        for k, nm in zip(keys, raw.frame[name_col]):
            if k is not None and nm not in (None, ""):
                table_names.setdefault(k, str(nm))
    m = match_keys(
        [k for k in keys if k is not None], ids, names, table_names=table_names, mapping=mapping
    )
    return key_col, name_col, m


def _numeric_column(raw: RawTable, col: str) -> bool:
    vals = [v for v in raw.frame[col]]
    parsed = [parse_number(v, raw.decimal) for v in vals]
    filled = [p for p in parsed if not p.suppressed]
    if not filled:
        # only suppression marks (–, ., x, *): a numeric column whose values are all withheld
        return any(v not in (None, "") and str(v).strip() for v in vals)
    return sum(p.ok for p in filled) / len(filled) >= 0.5


def _year_from_name(stem: str) -> int | None:
    years = set(re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", stem))
    return int(years.pop()) if len(years) == 1 else None


def _is_year_column(raw: RawTable, col: str) -> bool:
    if col.lower() in _YEAR_NAMES:
        return True
    vals = [v for v in raw.frame[col] if v not in (None, "")]
    if not vals:
        return False
    ok = 0
    for v in vals:
        p = parse_number(v, raw.decimal)
        if p.value is not None and float(p.value).is_integer() and 1900 <= p.value <= 2100:
            ok += 1
    return ok == len(vals)


def table_to_long(
    raw: RawTable,
    areas: gpd.GeoDataFrame,
    *,
    key: str | None = None,
    year: int | None = None,
    year_column: str | None = None,
    indicator: str | list[str] | None = None,
    value: str | None = None,
    columns: list[str] | None = None,
    mapping: dict | None = None,
    report: ImportReport | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, ImportReport]:
    """Turn a raw table (wide or long) into long indicator rows keyed by ``area_id``.

    Wide tables have one row per area and one column per indicator; a year in
    a column name (``Anzahl_2019``, ``2021``) becomes the year. Long tables have
    a year column, a value column and one or more columns naming the indicator
    (pass ``value=`` and ``indicator=``; detected when a column is called
    ``Wert``/``Zahl``/``value`` and one ``Jahr``/``year``).

    Returns
    -------
    (indicators, catalog, report)
        Long rows ``area_id, indicator, year, value, suppressed`` and catalog
        rows for the indicators found (labels from the column names).
    """
    import pandas as pd

    from k360lib.atlas.model import empty_catalog, empty_indicators

    report = report if report is not None else ImportReport()
    file = raw.file
    df = raw.frame
    cols = list(df.columns)
    for given in [
        key,
        year_column,
        value,
        *([indicator] if isinstance(indicator, str) else (indicator or [])),
    ]:
        if given is not None and given not in cols:
            report.error(
                "atlas.io.unknown_column",
                where={"file": file, "column": given},
                columns=", ".join(cols),
            )
    if report.errors:
        return empty_indicators(), empty_catalog(), report
    key_col, name_col, km = _pick_key_column(raw, areas, key, mapping)
    if key_col is None or km is None or not km.mapping:
        report.error(
            "atlas.io.no_key_match",
            where={"file": file},
            columns=", ".join(cols),
            examples=", ".join(list(areas["area_id"])[:3]),
        )
        return empty_indicators(), empty_catalog(), report
    _report_match(km, report, file, key_col, raw, name_col)
    keys = _column_values(raw, key_col)
    blank = [raw.row_numbers[i] for i, k in enumerate(keys) if k is None]
    if blank:
        report.warning(
            "atlas.io.rows_without_key",
            where={"file": file, "column": key_col},
            rows=", ".join(map(str, blank[:20])),
            n=len(blank),
        )

    # ---- long or wide? ----------------------------------------------------------
    lower = {c.lower(): c for c in cols}
    ycol = year_column or next((lower[n] for n in _YEAR_NAMES if n in lower), None)
    vcol = value or next((lower[n] for n in _VALUE_NAMES if n in lower), None)
    rows_per_key = len(keys) / max(1, len(set(k for k in keys if k is not None)))
    is_long = vcol is not None and (ycol is not None or indicator is not None) and rows_per_key > 1
    # panel format: one row per area and year, one column per indicator
    is_panel = not is_long and ycol is not None and rows_per_key > 1
    records: list[tuple] = []
    labels: dict[str, str] = {}
    percent_ids: set[str] = set()
    integer_ids: dict[str, bool] = {}

    def add(i: int, ind: str, yr: int, cell, col: str):
        p = parse_number(cell, raw.decimal)
        if not p.ok:
            report.error("atlas.tables.not_a_number", where=raw.where(i, col), value=str(cell)[:40])
            return
        if p.percent:
            percent_ids.add(ind)
        if p.value is not None:
            integer_ids[ind] = integer_ids.get(ind, True) and float(p.value).is_integer()
        records.append((i, keys[i], ind, yr, p.value, p.suppressed))

    if is_long:
        skip = {key_col, vcol, ycol, name_col} - {None}
        if indicator is None:
            ind_cols = [c for c in cols if c not in skip and df[c].nunique(dropna=True) < len(df)]
            # columns that only describe the area (one value per key) do not name indicators
            kdf = df.assign(_k=keys)
            ind_cols = [
                c
                for c in ind_cols
                if kdf.groupby("_k", dropna=True)[c].nunique(dropna=False).max() > 1
            ]
            # drop columns determined by the others (codes next to their labels)
            changed = True
            while changed and len(ind_cols) > 1:
                changed = False
                for c in sorted(ind_cols, key=lambda c: (df[c].astype(str).str.len().mean(), c)):
                    others = [o for o in ind_cols if o != c]
                    if df.groupby(others, dropna=False)[c].nunique(dropna=False).max() <= 1:
                        ind_cols.remove(c)
                        changed = True
                        break
        else:
            ind_cols = [indicator] if isinstance(indicator, str) else list(indicator)
        report.info(
            "atlas.io.long_format",
            where={"file": file},
            key=key_col,
            year=ycol or "—",
            value=vcol,
            indicator=" + ".join(ind_cols) or "—",
        )
        ind_vals = [df[c].tolist() for c in ind_cols]
        year_vals = df[ycol].tolist() if ycol is not None else None
        value_vals = df[vcol].tolist()
        for i in range(len(df)):
            if keys[i] is None or keys[i] not in km.mapping:
                continue
            parts = [str(v[i]).strip() for v in ind_vals]
            label = " – ".join(parts) if parts else vcol
            ind = _slug("_".join(parts)) if parts else _slug(vcol)
            labels.setdefault(ind, label)
            if year_vals is not None:
                py = parse_number(year_vals[i], raw.decimal)
                if py.value is None:
                    report.error(
                        "atlas.tables.bad_year", where=raw.where(i, ycol), value=str(year_vals[i])
                    )
                    continue
                yr = int(py.value)
            elif year is not None:
                yr = int(year)
            else:
                report.error("atlas.io.no_year", where={"file": file})
                break
            add(i, ind, yr, value_vals[i], vcol)
    elif is_panel:
        value_cols = [
            c
            for c in cols
            if c not in (key_col, name_col, ycol) and (columns is None or c in columns)
        ]
        value_cols = [
            c
            for c in value_cols
            if _numeric_column(raw, c)
            or report.info("atlas.io.text_column_skipped", where={"file": file, "column": c})
        ]
        report.info(
            "atlas.io.panel_format",
            where={"file": file},
            key=key_col,
            year=ycol,
            columns=", ".join(value_cols),
        )
        year_vals = df[ycol].tolist()
        for c in value_cols:
            ind = _slug(c)
            labels.setdefault(ind, c)
            vals = df[c].tolist()
            for i in range(len(df)):
                if keys[i] is None or keys[i] not in km.mapping:
                    continue
                py = parse_number(year_vals[i], raw.decimal)
                if py.value is None:
                    report.error(
                        "atlas.tables.bad_year", where=raw.where(i, ycol), value=str(year_vals[i])
                    )
                    continue
                add(i, ind, int(py.value), vals[i], c)
    else:
        default_year = year if year is not None else _year_from_name(Path(file).stem)
        value_cols = []
        for c in cols:
            if c in (key_col, name_col):
                continue
            if _is_year_column(raw, c) and c.lower() in _YEAR_NAMES:
                continue
            if columns is not None and c not in columns:
                continue
            if _numeric_column(raw, c):
                value_cols.append(c)
            else:
                report.info("atlas.io.text_column_skipped", where={"file": file, "column": c})
        if not value_cols:
            text_cols = [c for c in cols if c not in (key_col, name_col)]
            examples = []
            for c in text_cols[:3]:
                i = next(
                    (
                        i
                        for i, v in enumerate(df[c])
                        if v not in (None, "") and not parse_number(v, raw.decimal).ok
                    ),
                    None,
                )
                if i is not None:
                    examples.append(f"„{c}“ {raw.row_numbers[i]}: {str(df[c].iloc[i])[:30]}")
            report.error(
                "atlas.io.no_value_columns",
                where={"file": file},
                examples="; ".join(examples) or "—",
            )
        stem = _slug(Path(file).stem)
        needs_year = False
        for c in value_cols:
            m = _YEAR_IN_NAME.match(c)
            if m:
                base = (m.group("base") + " " + m.group("rest")).strip(" _-")
                yr = int(m.group("year"))
                label = base or Path(file).stem
                ind = _slug(base) if base else stem
            else:
                if default_year is None:
                    needs_year = True
                    continue
                yr = default_year
                label = c
                ind = _slug(c) if raw.has_header else f"{stem}_{c.split('_')[-1]}"
            labels.setdefault(ind, label)
            vals = df[c].tolist()
            for i in range(len(df)):
                if keys[i] is None or keys[i] not in km.mapping:
                    continue
                add(i, ind, yr, vals[i], c)
        if needs_year:
            report.error("atlas.io.no_year", where={"file": file})
        elif (
            default_year is not None
            and year is None
            and any(not _YEAR_IN_NAME.match(c) for c in value_cols)
        ):
            report.info("atlas.io.year_from_filename", where={"file": file}, year=default_year)
        if not raw.has_header and value_cols:
            report.warning(
                "atlas.io.unnamed_columns", where={"file": file}, ids=", ".join(sorted(labels)[:10])
            )

    if report.errors:
        return empty_indicators(), empty_catalog(), report
    long = pd.DataFrame(
        records, columns=["_row", "key", "indicator", "year", "value", "suppressed"]
    )
    long["area_id"] = long["key"].map(km.mapping)
    dup = long[long.duplicated(["area_id", "indicator", "year"], keep=False)]
    if len(dup):
        for (area, ind, yr), grp in list(dup.groupby(["area_id", "indicator", "year"]))[:10]:
            rows = ", ".join(str(raw.row_numbers[r]) for r in grp["_row"])
            report.error(
                "atlas.io.duplicate_rows",
                where={"file": file, "area": area},
                indicator=ind,
                year=int(yr),
                rows=rows,
            )
        return empty_indicators(), empty_catalog(), report
    n_supp = int(long["suppressed"].sum())
    if n_supp:
        report.info("atlas.tables.suppressed_cells", where={"file": file}, n=n_supp)
    long = long[["area_id", "indicator", "year", "value", "suppressed"]]
    catalog = pd.DataFrame(
        [
            {
                "id": ind,
                "label_de": lab,
                "label_en": lab,
                "unit": "%" if ind in percent_ids else "",
                "polarity": 1,
                "theme": "",
                "kind": "share"
                if ind in percent_ids
                else ("count" if integer_ids.get(ind, False) else "other"),
                "description": "",
                "source": file,
                "numerator": "",
                "denominator": "",
            }
            for ind, lab in labels.items()
            if ind in set(long["indicator"])
        ]
    )
    report.info(
        "atlas.io.indicators_found",
        where={"file": file},
        n=len(catalog),
        ids=", ".join(list(catalog["id"])[:12]) if len(catalog) else "—",
    )
    return long.reset_index(drop=True), catalog, report


def _report_match(
    km: KeyMatch, report: ImportReport, file: str, key_col: str, raw: RawTable, name_col: str | None
) -> None:
    counts = ", ".join(f"{m}: {n}" for m, n in km.method_counts().items())
    report.info(
        "atlas.match.summary",
        where={"file": file, "column": key_col},
        matched=len(km.mapping),
        n=km.n_keys,
        methods=counts or "—",
    )
    if km.unmatched:
        names: dict = {}
        key_vals = _column_values(raw, key_col)
        first_row: dict = {}
        for i, k in enumerate(key_vals):
            first_row.setdefault(k, i)
        if name_col:
            for k, nm in zip(key_vals, raw.frame[name_col]):
                names.setdefault(k, nm)
        for k in km.unmatched[:50]:
            sugg = km.suggestions.get(k, [])
            label = (
                f"{k} ({names[k]})"
                if names.get(k) not in (None, "") and str(names[k]) != str(k)
                else str(k)
            )
            row_idx = first_row.get(k)
            report.warning(
                "atlas.match.unmatched" if sugg else "atlas.match.unmatched_no_suggestion",
                where=raw.where(row_idx, key_col),
                label=label,
                suggestions=", ".join(sugg),
            )
        if len(km.unmatched) > 50:
            report.warning(
                "atlas.match.more_unmatched", where={"file": file}, n=len(km.unmatched) - 50
            )
    for area, ks in km.conflicts.items():
        report.error(
            "atlas.match.conflict", where={"file": file, "area": area}, keys=", ".join(map(str, ks))
        )
    if km.areas_without_data:
        report.warning(
            "atlas.match.areas_without_data",
            where={"file": file},
            n=len(km.areas_without_data),
            areas=", ".join(km.areas_without_data[:15]),
        )
    proposal = km.proposed_mapping
    if proposal:
        report.data.setdefault("proposed_mapping", {}).update(proposal)
        report.info(
            "atlas.match.proposal",
            where={"file": file},
            mapping="; ".join(f"{k} → {v}" for k, v in proposal.items()),
        )
    report.data.setdefault("matches", {})[file] = km


def read_table(
    path: str | Path,
    areas: gpd.GeoDataFrame,
    *,
    sheet: str | int | None = None,
    report: ImportReport | None = None,
    **kwargs,
) -> tuple[pd.DataFrame, pd.DataFrame, ImportReport]:
    """Read a CSV/XLSX indicator table and key it to ``areas``.

    Keyword arguments go to :func:`table_to_long` (``key``, ``year``, ``indicator``,
    ``value``, ``mapping`` …). Returns ``(indicators, catalog, report)``; on
    errors the tables are empty and the report says why.
    """
    from k360lib.atlas.model import empty_catalog, empty_indicators

    report = report if report is not None else ImportReport()
    try:
        raw, _ = read_raw_table(path, sheet=sheet, report=report)
    except K360Error as err:
        report.findings.append(Finding.from_error(err))
        return empty_indicators(), empty_catalog(), report
    return table_to_long(raw, areas, report=report, **kwargs)


# =====================================================================================
# whole import
# =====================================================================================


def import_atlas(
    areas: str | Path,
    tables=(),
    *,
    facilities: str | Path | None = None,
    area_key: str | None = None,
    area_name: str | None = None,
    area_parent: str | None = None,
    layer: str | None = None,
    crs=None,
    key: str | None = None,
    year: int | None = None,
    mapping: dict | None = None,
    threshold: int = 3,
    name: str | None = None,
    table_options: dict | None = None,
) -> tuple[Atlas | None, ImportReport]:
    """Import a city's files into an :class:`~k360lib.atlas.model.Atlas`.

    Parameters
    ----------
    areas : str or Path
        The social-area polygons.
    tables : iterable of str or Path
        Indicator tables (CSV/XLSX, wide or long).
    facilities : str or Path, optional
        Facility points.
    area_key, area_name, area_parent, layer, crs
        See :func:`read_areas`.
    key, year, mapping
        See :func:`table_to_long` (apply to every table).
    threshold : int
        Small-number suppression threshold applied before anything is returned.
    name : str, optional
        The city's name.
    table_options : dict, optional
        Per-table keyword arguments, keyed by file name.

    Returns
    -------
    (Atlas or None, ImportReport)
        ``None`` when the report holds an error.
    """
    import pandas as pd

    from k360lib.atlas.model import Atlas, empty_catalog, empty_facilities, empty_indicators

    report = ImportReport()
    gdf, _ = read_areas(
        areas, key=area_key, name=area_name, parent=area_parent, layer=layer, crs=crs, report=report
    )
    if gdf is None:
        return None, report
    longs, cats = [], []
    seen_ids: dict[str, str] = {}
    for t in tables:
        opts = dict(key=key, year=year, mapping=mapping)
        opts.update((table_options or {}).get(Path(t).name, {}))
        long, cat, _ = read_table(t, gdf, report=report, **opts)
        if len(long):
            # the same indicator id from two files: keep both, prefix the later one
            rename = {}
            for ind in cat["id"]:
                if ind in seen_ids and seen_ids[ind] != Path(t).name:
                    new = f"{_slug(Path(t).stem)}_{ind}"
                    rename[ind] = new
                    report.warning(
                        "atlas.io.indicator_renamed",
                        where={"file": Path(t).name},
                        old=ind,
                        new=new,
                        other=seen_ids[ind],
                    )
                else:
                    seen_ids[ind] = Path(t).name
            if rename:
                long["indicator"] = long["indicator"].replace(rename)
                cat["id"] = cat["id"].replace(rename)
            longs.append(long)
            cats.append(cat)
    fac = empty_facilities()
    if facilities is not None:
        f, _ = read_facilities(facilities, areas=gdf, report=report)
        if f is not None:
            fac = f
    if report.errors:
        return None, report
    indicators = pd.concat(longs, ignore_index=True) if longs else empty_indicators()
    catalog = pd.concat(cats, ignore_index=True) if cats else empty_catalog()
    meta = {
        "name": name or Path(areas).stem,
        "fictional": False,
        "sources": [Path(areas).name, *[Path(t).name for t in tables]],
    }
    try:
        atlas = Atlas(gdf, indicators, catalog, fac, meta)
        atlas = _suppress(atlas, threshold, report)
    except K360Error as err:
        report.findings.append(Finding.from_error(err))
        return None, report
    return atlas, report


def _suppress(atlas: Atlas, threshold: int, report: ImportReport) -> Atlas:
    before = int(atlas.indicators["suppressed"].sum())
    try:
        from k360lib.atlas.privacy import apply_suppression
    except ImportError:  # pragma: no cover - privacy is part of the package
        return atlas
    out = apply_suppression(atlas, threshold=threshold)
    added = int(out.indicators["suppressed"].sum()) - before
    if added:
        report.info("atlas.io.small_numbers_suppressed", n=added, threshold=threshold)
    return out


def check_files(
    areas: str | Path,
    tables=(),
    *,
    area_key: str | None = None,
    area_name: str | None = None,
    key: str | None = None,
    mapping: dict | None = None,
    threshold: int = 3,
    year: int | None = None,
    facilities: str | Path | None = None,
) -> ImportReport:
    """Run the whole import and return only its report (what ``k360 check`` prints)."""
    _, report = import_atlas(
        areas,
        tables,
        facilities=facilities,
        area_key=area_key,
        area_name=area_name,
        key=key,
        mapping=mapping,
        threshold=threshold,
        year=year,
    )
    proposal = report.data.get("proposed_mapping")
    if proposal:
        report.data["proposed_mapping_cli"] = " ".join(
            f'--map "{k}={v}"' for k, v in proposal.items()
        )
    return report
