"""Area coverage: which services have a facility in or near each Sozialraum.

A service is *place-based* when the catalog lists facility kinds through
which families reach it (``facility_kinds`` in ``services.csv``, e.g.
Kita-Platz -> ``Kita``; Erziehungsberatung -> ``Beratungsstelle``). For every
Sozialraum of an atlas and every place-based service the status is

``in``    at least one facility of a matching kind lies in the area;
``near``  none in the area, but one within ``near_m`` metres of its boundary;
``none``  no matching facility in or near the area.

Cash benefits and other services without facility kinds are not place-based
and have no status. Distances are measured in the atlas' metric CRS.

Examples
--------
>>> from k360lib.atlas.demo import demo_atlas
>>> from k360lib.responsibility import load_catalog
>>> cov = area_coverage(load_catalog(), demo_atlas())
>>> sorted(set(cov.for_service("kita_ue3").values())) <= ["in", "near", "none"]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from k360lib.errors import DataError

__all__ = ["DEFAULT_NEAR_M", "STATUSES", "Coverage", "area_coverage"]

#: default distance (metres) from an area's boundary within which a facility counts as near
DEFAULT_NEAR_M = 500.0
#: coverage statuses, best first
STATUSES: tuple[str, ...] = ("in", "near", "none")


@dataclass
class Coverage:
    """Coverage of place-based services per area.

    Attributes
    ----------
    areas : list of str
        Area ids (atlas order).
    area_names : dict
        ``{area_id: name}``.
    services : list of str
        Place-based service ids (catalog order).
    status : dict
        ``{(area_id, service_id): "in" | "near" | "none"}``.
    facilities : dict
        ``{(area_id, service_id): [facility names in the area]}``.
    nearest_m : dict
        ``{(area_id, service_id): distance in metres to the nearest matching
        facility outside the area}`` (absent if there is none).
    near_m : float
        Distance threshold used.
    """

    areas: list[str]
    area_names: dict[str, str]
    services: list[str]
    status: dict[tuple[str, str], str] = field(default_factory=dict)
    facilities: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    nearest_m: dict[tuple[str, str], float] = field(default_factory=dict)
    near_m: float = DEFAULT_NEAR_M

    def for_service(self, service: str) -> dict[str, str]:
        """``{area: status}`` of one service.

        Raises
        ------
        DataError
            If the service is not place-based.
        """
        if service not in self.services:
            raise DataError("resp.coverage.not_place_based", service=service)
        return {a: self.status[(a, service)] for a in self.areas}

    def for_area(self, area: str) -> dict[str, str]:
        """``{service: status}`` of one area."""
        return {s: self.status[(area, s)] for s in self.services}

    def counts(self, service: str) -> dict[str, int]:
        """Return the number of areas per status for ``service``."""
        values = list(self.for_service(service).values())
        return {s: values.count(s) for s in STATUSES}

    def uncovered(self, area: str) -> list[str]:
        """Place-based services with no facility in or near ``area``."""
        return [s for s in self.services if self.status[(area, s)] == "none"]

    def to_rows(self) -> list[dict]:
        """Tidy rows ``area_id, service_id, status, n_facilities, nearest_m``."""
        rows = []
        for a in self.areas:
            for s in self.services:
                d = self.nearest_m.get((a, s))
                rows.append(
                    {
                        "area_id": a,
                        "service_id": s,
                        "status": self.status[(a, s)],
                        "n_facilities": len(self.facilities.get((a, s), [])),
                        "nearest_m": None if d is None else round(d),
                    }
                )
        return rows


def area_coverage(catalog, atlas, near_m: float = DEFAULT_NEAR_M) -> Coverage:
    """Join the catalog's place-based services with the atlas' facilities.

    Parameters
    ----------
    catalog : Catalog
    atlas : Atlas
        Areas (polygons) and facilities (points with ``kind``).
    near_m : float, default 500
        A facility outside an area counts as near when it is at most this many
        metres from the area's boundary.

    Returns
    -------
    Coverage

    Raises
    ------
    DataError
        If ``near_m`` is negative.
    """
    import numpy as np
    import shapely

    if near_m < 0:
        raise DataError("resp.coverage.bad_distance", distance=near_m)
    crs = atlas.metric_crs()
    areas = atlas.areas.to_crs(crs)
    area_ids = [str(a) for a in areas["area_id"]]
    names = dict(zip(area_ids, (str(n) for n in areas["name"])))
    services = [s.id for s in catalog.services if s.facility_kinds]
    cov = Coverage(area_ids, names, services, near_m=float(near_m))
    fac = atlas.facilities
    if len(fac):
        fac = fac[fac.geometry.notna() & ~fac.geometry.is_empty].to_crs(crs)
    polys = np.asarray(areas.geometry.values)
    kind_cache: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
    for sid in services:
        kinds = catalog.service(sid).facility_kinds
        if kinds not in kind_cache:
            if len(fac):
                sel = fac[fac["kind"].astype(str).isin(kinds)]
                pts = np.asarray(sel.geometry.values)
                fnames = np.asarray([str(x) for x in sel["name"]], dtype=object)
            else:
                pts, fnames = np.asarray([], dtype=object), np.asarray([], dtype=object)
            kind_cache[kinds] = (pts, fnames)
        pts, fnames = kind_cache[kinds]
        for aid, poly in zip(area_ids, polys):
            if len(pts) == 0:
                cov.status[(aid, sid)] = "none"
                continue
            inside = shapely.covers(poly, pts)
            dist = shapely.distance(poly, pts)
            outside = dist[~inside]
            if outside.size:
                cov.nearest_m[(aid, sid)] = float(outside.min())
            if inside.any():
                cov.status[(aid, sid)] = "in"
                cov.facilities[(aid, sid)] = [str(n) for n in fnames[inside]]
            elif outside.size and outside.min() <= near_m:
                cov.status[(aid, sid)] = "near"
            else:
                cov.status[(aid, sid)] = "none"
    return cov
