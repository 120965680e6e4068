"""Deterministic generator of the fictional demo city "Wiesenfurt an der Aue".

The demo city is invented from a seed: an irregular town outline in northern
Germany, the river Aue crossing it, 24 Sozialräume in 6 Stadtbezirke (a
Voronoi tessellation of seeded points, denser in the centre, split by the
river), 21 indicators for 2021–2024 driven by a latent deprivation factor per
area, and 150 facilities of 8 kinds. Everything is labelled fictional in
``meta``. The same seed always gives the same atlas, byte for byte when saved.

The committed ``data/geo/`` folder of a source checkout is this generator's
output for :data:`DEMO_SEED` (``k360 demo --write data/geo``).

Examples
--------
>>> from k360lib.atlas.demo import generate_demo
>>> atlas = generate_demo()
>>> atlas.meta["fictional"], len(atlas.areas)
(True, 24)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from k360lib.errors import DataError
from k360lib.i18n import t

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.model import Atlas

__all__ = [
    "DEMO_NAME",
    "DEMO_SEED",
    "GENERATOR_VERSION",
    "METRIC_CRS",
    "SUPPRESSION_THRESHOLD",
    "YEARS",
    "demo_atlas",
    "demo_data_dir",
    "generate_demo",
    "write_demo",
]

#: seed of the bundled demo city (``data/geo/``)
DEMO_SEED = 360
#: bump when the generator's output changes on purpose (then regenerate ``data/geo/``)
GENERATOR_VERSION = 1
#: the invented town's name
DEMO_NAME = "Wiesenfurt an der Aue"
#: metric CRS the geometry is built in (ETRS89 / UTM zone 32N)
METRIC_CRS = "EPSG:25832"
#: indicator years
YEARS = (2021, 2022, 2023, 2024)
#: counts below this are suppressed (Geheimhaltung), and rates computed from them
SUPPRESSION_THRESHOLD = 3

SOURCE = "Fiktive Demodaten (k360)"
SOURCE_EN = "Fictional demo data (k360)"

# town centre in EPSG:25832 (somewhere in the Lüneburger Heide; the town does not exist)
_CENTRE = (594_000.0, 5_856_500.0)
_RADIUS = 5_200.0  # mean outline radius in metres
_STRETCH = (1.18, 0.86)  # the town is longer along the river than across it
_GRID = 0.5  # metres: geometry is snapped to this grid so neighbours share vertices exactly
# rings of generator points: (relative radius, number of points); dense centre, large outskirts
_RINGS = ((0.13, 4), (0.40, 8), (0.76, 12))
_N_DISTRICTS_OUTER = 5  # plus "Mitte" = 6 districts
_RIVER_NAME = "Aue"

_cache: dict[str, Atlas] = {}


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------
def demo_data_dir() -> Path:
    """Return where a source checkout keeps the committed demo city (``<repo>/data/geo``).

    The folder need not exist (e.g. in an installed wheel).
    """
    from k360lib.bundled import bundled_dir  # source checkout or installed package

    return bundled_dir("geo")


def generate_demo(seed: int = DEMO_SEED) -> Atlas:
    """Generate the fictional demo city from ``seed``.

    Parameters
    ----------
    seed : int, default DEMO_SEED
        Seed of the ``numpy.random.Generator`` that makes every random draw.
        The same seed always gives the same atlas.

    Returns
    -------
    Atlas
        24 areas in 6 districts, 21 indicators for 2021–2024 (small counts
        already suppressed), 150 facilities and ``meta`` with
        ``fictional=True``, German and English disclaimers, the seed, the
        generator version, the metric CRS, the districts and the river.

    Raises
    ------
    DataError
        If ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> atlas = generate_demo(7)
    >>> atlas.meta["seed"], atlas.years
    (7, [2021, 2022, 2023, 2024])
    """
    seed = _check_seed(seed)
    rng = np.random.default_rng(seed)
    geo = _build_geography(rng)
    areas = _build_areas(geo, rng)
    pop = _population(areas, rng)
    facilities = _facilities(areas, pop, rng)
    indicators = _indicators(areas, pop, facilities, rng)
    catalog = _catalog()
    from k360lib.atlas.privacy import suppress_counts

    indicators = suppress_counts(indicators.reset_index(drop=True), catalog, SUPPRESSION_THRESHOLD)
    return _assemble(geo, areas, indicators, catalog, facilities, seed)


def demo_atlas() -> Atlas:
    """Return the bundled demo city.

    Loads the committed ``data/geo/`` folder of a source checkout (see
    :func:`demo_data_dir`) and otherwise generates it with :data:`DEMO_SEED`.
    The result is cached in-process; each call returns a fresh copy, so
    callers may change it freely.

    Returns
    -------
    Atlas
        The demo city.

    Examples
    --------
    >>> demo_atlas().meta["fictional"]
    True
    """
    if "demo" not in _cache:
        from k360lib.atlas.model import AREAS_FILE, Atlas

        folder = demo_data_dir()
        if (folder / AREAS_FILE).is_file():
            _cache["demo"] = Atlas.load(folder)
        else:
            _cache["demo"] = generate_demo(DEMO_SEED)
    return _copy(_cache["demo"])


def write_demo(path: str | Path, seed: int | None = None) -> Atlas:
    """Generate the demo city and save it as an atlas folder.

    Parameters
    ----------
    path : str or Path
        Folder to write (created if missing); existing atlas files are replaced.
    seed : int, optional
        Seed; ``None`` means :data:`DEMO_SEED` (the bundled city).

    Returns
    -------
    Atlas
        The generated atlas.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atlas = write_demo(d)
    ...     sorted(p.name for p in Path(d).iterdir())
    ['areas.geojson', 'catalog.csv', 'facilities.geojson', 'indicators.csv', 'meta.json']
    """
    atlas = generate_demo(DEMO_SEED if seed is None else seed)
    atlas.save(path)
    return atlas


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise DataError("atlas.demo.bad_seed", seed=repr(seed))
    return int(seed)


def _copy(atlas: Atlas) -> Atlas:
    from k360lib.atlas.model import Atlas

    return Atlas(
        atlas.areas.copy(),
        atlas.indicators.copy(),
        atlas.catalog.copy(),
        atlas.facilities.copy(),
        _deepcopy_meta(atlas.meta),
    )


def _deepcopy_meta(meta: dict) -> dict:
    import copy

    return copy.deepcopy(meta)


def _expit(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _allocate(total: int, weights) -> np.ndarray:
    """Split ``total`` items over weights by the largest-remainder method."""
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=int)
    q = total * w / w.sum()
    n = np.floor(q).astype(int)
    rest = total - int(n.sum())
    order = np.argsort(-(q - n), kind="stable")
    n[order[:rest]] += 1
    return n


class _Geo:
    """Geometry in the metric CRS: outline, river, cells with their generator points."""

    def __init__(self, outline, river, cells, gens, rings, axis):
        self.outline = outline
        self.river = river
        self.cells = cells  # list of polygons, index = generator index
        self.gens = gens  # (n, 2) generator coordinates
        self.rings = rings  # ring number of each generator (0 = centre)
        self.axis = axis  # unit vector along the river (downstream)


def _build_geography(rng: np.random.Generator) -> _Geo:
    import shapely
    from shapely.geometry import LineString, MultiPoint, Point, Polygon
    from shapely.ops import split

    cx, cy = _CENTRE
    sx, sy = _STRETCH
    rot = rng.uniform(-0.45, 0.45)  # the river's main direction (radians from east)
    cos_r, sin_r = np.cos(rot), np.sin(rot)

    def to_world(px, py):
        x = np.asarray(px) * sx * _RADIUS
        y = np.asarray(py) * sy * _RADIUS
        return cx + x * cos_r - y * sin_r, cy + x * sin_r + y * cos_r

    # irregular, star-shaped outline: a few harmonics plus smoothed noise
    n = 120
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    harmonics = ((2, 0.12), (3, 0.09), (5, 0.05), (7, 0.03))
    phases = rng.uniform(0.0, 2.0 * np.pi, len(harmonics))
    rad = np.ones(n)
    for (k, amp), ph in zip(harmonics, phases, strict=True):
        rad += amp * np.sin(k * theta + ph)
    noise = rng.normal(0.0, 0.045, n)
    rad += (np.roll(noise, 1) + 2.0 * noise + np.roll(noise, -1)) / 4.0

    def radius_at(angle):
        return np.interp(np.mod(angle, 2.0 * np.pi), theta, rad, period=2.0 * np.pi)

    ox, oy = to_world(rad * np.cos(theta), rad * np.sin(theta))
    outline = shapely.set_precision(Polygon(np.column_stack([ox, oy])), _GRID)

    # the river Aue: a gentle meander along the town's long axis, a little south of the centre
    s = np.linspace(-1.9, 1.9, 96)
    p1, p2 = rng.uniform(0.0, 2.0 * np.pi, 2)
    # the offset is -0.06 at s = 0: the river passes just south of the old town centre
    offset = (
        -0.06
        + 0.13 * (np.sin(2.6 * s + p1) - np.sin(p1))
        + 0.045 * (np.sin(7.0 * s + p2) - np.sin(p2))
    )
    rx, ry = to_world(s, offset)
    river_full = shapely.set_precision(LineString(np.column_stack([rx, ry])), _GRID)

    # generator points in rings; keep them off the river and apart from each other
    pts: list[tuple[float, float]] = []
    rings: list[int] = []
    for ring, (rho, count) in enumerate(_RINGS):
        start = rng.uniform(0.0, 2.0 * np.pi)
        step = 2.0 * np.pi / count
        for i in range(count):
            for _attempt in range(200):
                ang = start + i * step + rng.uniform(-0.22, 0.22) * step
                r = rho * (1.0 + rng.uniform(-0.08, 0.08)) * radius_at(ang)
                x, y = to_world(r * np.cos(ang), r * np.sin(ang))
                p = Point(float(x), float(y))
                far_from_river = p.distance(river_full) > 300.0
                far_from_others = all((x - qx) ** 2 + (y - qy) ** 2 > 450.0**2 for qx, qy in pts)
                if far_from_river and far_from_others:
                    break
            pts.append((float(x), float(y)))
            rings.append(ring)
    gens = np.array(pts)
    gen_points = shapely.points(gens)

    # split the outline by the river; Voronoi per side so the river is an area boundary
    parts = list(split(outline, river_full).geoms)
    lines = [outline.boundary]
    for part in parts:
        inside = [i for i in range(len(gens)) if part.contains(gen_points[i])]
        lines.append(part.boundary)
        if len(inside) < 2:
            continue
        vor = shapely.voronoi_polygons(MultiPoint(gens[inside]), extend_to=part)
        for cell in vor.geoms:
            clipped = cell.intersection(part)
            if not clipped.is_empty:
                lines.append(clipped.boundary)
    noded = shapely.union_all(lines, grid_size=_GRID)
    faces = [
        f for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))) if f.area > 0
    ]

    # each face belongs to the generator inside it; faces without one join their longest neighbour
    owner: list[int | None] = []
    for face in faces:
        inside = np.flatnonzero(shapely.contains(face, gen_points))
        owner.append(int(inside[0]) if len(inside) else None)
    while any(o is None for o in owner):
        changed = False
        for i, face in enumerate(faces):
            if owner[i] is not None:
                continue
            best, best_len = None, 0.0
            for j, other in enumerate(faces):
                if owner[j] is None:
                    continue
                shared = face.boundary.intersection(other.boundary).length
                if shared > best_len:
                    best, best_len = owner[j], shared
            if best is not None:
                owner[i] = best
                changed = True
        if not changed:  # pragma: no cover - an island face touching no owned face
            raise RuntimeError("demo geometry: a face touches no area")
    cells = []
    for g in range(len(gens)):
        mine = [f for f, o in zip(faces, owner, strict=True) if o == g]
        geom = mine[0] if len(mine) == 1 else shapely.union_all(mine, grid_size=_GRID)
        cells.append(shapely.orient_polygons(shapely.normalize(geom), exterior_cw=False))

    # the river as a map feature: a little beyond the town on both ends
    river = river_full.intersection(outline.buffer(1500.0))
    if river.geom_type != "LineString":
        river = max(shapely.get_parts(river), key=lambda g: g.length)
    return _Geo(outline, river, cells, gens, np.array(rings), np.array([cos_r, sin_r]))


# area names: central quarters, inner-city quarters, incorporated villages on the outskirts
_NAMES_CENTRE = ["Altstadt", "Marktviertel", "Bahnhofsviertel", "Schlossviertel", "Domfreiheit"]
_NAMES_INNER = [
    "Mühlenviertel",
    "Lindenhof",
    "Gartenstadt",
    "Brückenfeld",
    "Rosenau",
    "Kastanienhöhe",
    "Weidenbruch",
    "Am Stadtwald",
    "Ziegeleiviertel",
    "Auenpark",
]
_NAMES_OUTER = [
    "Eichenbrück",
    "Sonnenhang",
    "Birkenhain",
    "Fuchsberg",
    "Wiesengrund",
    "Oberaue",
    "Niederaue",
    "Heidwinkel",
    "Haselbeck",
    "Lerchenbühl",
    "Steinkuhle",
    "Moorhusen",
    "Ellernried",
    "Kranichsfeld",
    "Bruchhagen",
    "Wolfsloh",
]
_NAME_HARBOUR = "Industriehafen"
_NAME_ESTATE = "Hochfeld-Siedlung"
_COMPASS = ["Ost", "Nordost", "Nord", "Nordwest", "West", "Südwest", "Süd", "Südost"]


def _build_areas(geo: _Geo, rng: np.random.Generator) -> pd.DataFrame:
    """Return one row per area: ids, names, districts, geometry and the latent factors."""
    import pandas as pd
    import shapely

    cx, cy = _CENTRE
    gens = geo.gens
    n = len(gens)
    dx, dy = gens[:, 0] - cx, gens[:, 1] - cy
    angle = np.mod(np.arctan2(dy, dx), 2.0 * np.pi)
    along = (dx * geo.axis[0] + dy * geo.axis[1]) / _RADIUS  # downstream position
    area_m2 = np.array([c.area for c in geo.cells])
    touches_river = np.array([c.boundary.intersection(geo.river).length > 100.0 for c in geo.cells])
    rings = geo.rings

    # the harbour: an inner-ring area on the river, furthest downstream
    inner = np.flatnonzero(rings == 1)
    cand = inner[touches_river[inner]] if touches_river[inner].any() else inner
    harbour = int(cand[np.argmax(along[cand])])
    # a large housing estate (Großwohnsiedlung): an outer area on the downstream half
    outer = np.flatnonzero(rings == 2)
    downstream = outer[along[outer] > 0]
    estate = int(rng.choice(downstream if len(downstream) else outer))

    # districts: Mitte = centre ring; the rest in angular sectors of equal size
    district = np.zeros(n, dtype=int)
    rest = np.flatnonzero(rings > 0)
    start = rng.uniform(0.0, 2.0 * np.pi)
    rel = np.mod(angle[rest] - start, 2.0 * np.pi)
    order = rest[np.argsort(rel, kind="stable")]
    for k, chunk in enumerate(np.array_split(order, _N_DISTRICTS_OUTER)):
        district[chunk] = k + 1
    district_names = {0: "Mitte"}
    for k in range(1, _N_DISTRICTS_OUTER + 1):
        members = np.flatnonzero(district == k)
        mean_angle = np.arctan2(np.sin(angle[members]).sum(), np.cos(angle[members]).sum())
        label = _COMPASS[int(np.round(np.mod(mean_angle, 2.0 * np.pi) / (np.pi / 4))) % 8]
        district_names[k] = label if label not in district_names.values() else f"{label} {k}"

    # ids: by district, then ring, then angle
    order = sorted(range(n), key=lambda i: (district[i], rings[i], round(float(angle[i]), 9)))
    ids = {g: f"SR{k + 1:02d}" for k, g in enumerate(order)}

    # names
    pools = {
        0: list(rng.permutation(_NAMES_CENTRE)),
        1: list(rng.permutation(_NAMES_INNER)),
        2: list(rng.permutation(_NAMES_OUTER)),
    }
    names = {}
    centre_ring = np.flatnonzero(rings == 0)
    old_town = int(centre_ring[np.argmin(dx[centre_ring] ** 2 + dy[centre_ring] ** 2)])
    pools[0] = [p for p in pools[0] if p != "Altstadt"]
    for g in order:
        if g == old_town:
            names[g] = "Altstadt"
        elif g == harbour:
            names[g] = _NAME_HARBOUR
        elif g == estate:
            names[g] = _NAME_ESTATE
        else:
            names[g] = str(pools[int(rings[g])].pop(0))

    # latent deprivation: downstream/harbour side poorer, the estate much poorer,
    # the outskirts' villages better off, plus area-specific noise
    dep = 0.55 * along - 0.45 * (rings == 2) + 0.25 * (rings == 0) + rng.normal(0.0, 0.6, n)
    dep[estate] += 2.0
    touching_estate = [
        i for i in range(n) if i != estate and geo.cells[i].touches(geo.cells[estate])
    ]
    dep[touching_estate] += 0.5
    regular = np.array([i != harbour for i in range(n)])
    dep = (dep - dep[regular].mean()) / dep[regular].std()

    df = pd.DataFrame(
        {
            "gen": np.arange(n),
            "area_id": [ids[i] for i in range(n)],
            "name": [names[i] for i in range(n)],
            "district": district,
            "parent_id": [f"SB{d + 1}" for d in district],
            "ring": rings,
            "area_km2": area_m2 / 1e6,
            "deprivation": dep,
            "harbour": [i == harbour for i in range(n)],
            "estate": [i == estate for i in range(n)],
            "geometry": geo.cells,
        }
    )
    df = df.sort_values("area_id", kind="stable").reset_index(drop=True)
    df.attrs["district_names"] = {f"SB{k + 1}": v for k, v in district_names.items()}
    df.attrs["gen_xy"] = {ids[i]: (float(gens[i, 0]), float(gens[i, 1])) for i in range(n)}
    assert all(shapely.is_valid(df["geometry"]))
    return df


def _population(areas: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Return population counts per area (rows) and year (columns)."""
    n, ny = len(areas), len(YEARS)
    ring = areas["ring"].to_numpy()
    dep = areas["deprivation"].to_numpy()
    harbour = areas["harbour"].to_numpy()
    estate = areas["estate"].to_numpy()
    density = np.array([7500.0, 3000.0, 600.0])[ring] * rng.lognormal(0.0, 0.25, n)
    density = np.where(estate, density * 3.0, density)
    base = np.clip(areas["area_km2"].to_numpy() * density, 2000.0, 12000.0)
    base = np.where(harbour, rng.integers(70, 140, n), base)
    growth = rng.normal(0.004, 0.005, n) + 0.004 * (dep > 0.5)  # 2022 refugees moved to cheap flats
    t = np.arange(ny)
    total = np.rint(base[:, None] * (1.0 + growth[:, None]) ** t[None, :]).astype(int)

    share05 = np.clip(
        0.056 + 0.009 * dep - 0.007 * (ring == 0) + 0.004 * (ring == 2) + rng.normal(0, 0.004, n),
        0.035,
        0.085,
    )
    share617 = np.clip(
        0.104 + 0.013 * dep - 0.012 * (ring == 0) + 0.010 * (ring == 2) + rng.normal(0, 0.006, n),
        0.07,
        0.16,
    )
    share1820 = np.clip(
        0.031 + 0.003 * dep + 0.006 * (ring == 0) + rng.normal(0, 0.003, n), 0.018, 0.05
    )
    share05 = np.where(harbour, 0.03, share05)
    share617 = np.where(harbour, 0.05, share617)
    trend05 = 1.0 - 0.012 * t  # fewer births every year
    trend617 = 1.0 + 0.008 * t
    p05 = np.clip(share05[:, None] * trend05[None, :], 0.0, 1.0)
    p617 = np.clip(share617[:, None] * trend617[None, :], 0.0, 1.0)
    pop05 = rng.binomial(total, p05)
    pop617 = rng.binomial(total - pop05, np.clip(p617 / (1.0 - p05), 0.0, 1.0))
    pop614 = rng.binomial(pop617, 0.75)
    pop1820 = rng.binomial(total - pop05 - pop617, np.clip(share1820[:, None], 0.0, 1.0))
    return {
        "pop_total": total,
        "pop_0_5": pop05,
        "pop_6_17": pop617,
        "pop_u15": pop05 + pop614,
        "pop_u18": pop05 + pop617,
        "pop_u21": pop05 + pop617 + pop1820,
    }


# facility kinds: (kind, number, target group, English label)
_KINDS = (
    ("Kita", 58, "Kinder 0–6 Jahre", "Day-care centre (Kita)"),
    ("Familienzentrum", 10, "Familien mit Kindern", "Family centre"),
    ("Jugendfreizeiteinrichtung", 14, "Jugendliche 10–21 Jahre", "Youth centre"),
    ("Grundschule", 20, "Kinder 6–10 Jahre", "Primary school"),
    ("Weiterführende Schule", 10, "Jugendliche 10–19 Jahre", "Secondary school"),
    ("Beratungsstelle", 10, "Eltern, Kinder und Jugendliche", "Counselling centre"),
    ("Kinderarztpraxis", 18, "Kinder und Jugendliche 0–17 Jahre", "Paediatric practice"),
    (
        "Frühe Hilfen",
        10,
        "Schwangere und Familien mit Kindern 0–3 Jahre",
        "Early help (Frühe Hilfen)",
    ),
)
_KITA_NAMES = [
    "Sonnenblume", "Regenbogen", "Pusteblume", "Kleine Strolche", "Löwenzahn", "Spatzennest",
    "Wichtelhaus", "Sternschnuppe", "Kunterbunt", "Abenteuerland", "Zwergenland", "Marienkäfer",
    "Schatzkiste", "Waldwichtel", "Glühwürmchen", "Farbklecks", "Purzelbaum", "Rappelkiste",
    "Mäuseburg", "Kleine Hände", "Wirbelwind", "Entdeckerhaus", "Lummerland", "Seepferdchen",
    "Auenzwerge", "Flussfrösche", "Sausewind", "Baumhaus", "Wolkenschloss", "Sonnenschein",
]  # fmt: skip
_KITA_PREFIX = [
    "Kita",
    "Kita",
    "Kita",
    "Städtische Kita",
    "Ev. Kita",
    "Kath. Kita",
    "Elterninitiative",
]
_SCHOOL_FEATURES = [
    "am Mühlenbach", "am Lindenplatz", "am Wasserturm", "an der Aue", "am Schlosspark",
    "am Kirchberg", "im Rosengarten", "am Stadtwald", "an der Brücke", "am Markt",
]  # fmt: skip
_SECONDARY = ["Gymnasium", "Gesamtschule", "Oberschule", "Realschule", "Förderschule"]
_YOUTH = ["Jugendzentrum", "Jugendtreff", "Jugendhaus", "Offene Tür", "Jugendcafé"]
_COUNSELLING = [
    "Erziehungs- und Familienberatung",
    "Schwangerschaftsberatung",
    "Beratungsstelle für Eltern, Kinder und Jugendliche",
    "Familien- und Lebensberatung",
    "Sozial- und Schuldnerberatung für Familien",
]
_EARLY = ["Frühe Hilfen – Anlaufstelle", "Familienhebammen-Stützpunkt", "Babylotsen-Büro"]
_SURNAMES = [
    "Albers", "Brandt", "Claßen", "Demir", "Engelke", "Falkenberg", "Grewe", "Hoppenstedt",
    "Ilić", "Jansen", "Kaya", "Lorenzen", "Meinecke", "Nowak", "Okafor", "Petersen", "Quast",
    "Reinke", "Schulte-Wiese", "Tiedemann", "Uysal", "Vogt", "Wendland", "Yılmaz", "Zander",
]  # fmt: skip


def _facilities(areas: pd.DataFrame, pop: dict, rng: np.random.Generator):
    """Place 150 facilities; more where more people (of the target age) live."""
    import geopandas as gpd
    import shapely

    last = -1  # latest year
    dep = areas["deprivation"].to_numpy()
    ring = areas["ring"].to_numpy()
    central = np.array([3.0, 1.4, 0.5])[ring]
    n05, n617 = pop["pop_0_5"][:, last], pop["pop_6_17"][:, last]
    ntot, n18 = pop["pop_total"][:, last], pop["pop_u18"][:, last]

    def noise():
        return rng.lognormal(0.0, 0.25, len(areas))

    # Kita: places per 100 children 0–5 are lower where deprivation is higher
    coverage = 62.0 * np.exp(-0.13 * dep + rng.normal(0.0, 0.08, len(areas)))
    places_target = n05 * coverage / 100.0
    weights = {
        "Kita": places_target,
        "Familienzentrum": n05 * np.exp(0.5 * dep) * noise(),
        "Jugendfreizeiteinrichtung": n617 * np.exp(0.25 * dep) * noise(),
        "Grundschule": n617 * noise(),
        "Weiterführende Schule": n617 * central * noise(),
        "Beratungsstelle": ntot * central**1.5 * noise(),
        "Kinderarztpraxis": n18 * central * np.exp(-0.35 * dep) * noise(),
        "Frühe Hilfen": n05 * np.exp(0.45 * dep) * noise(),
    }
    counts = {kind: _allocate(total, weights[kind]) for kind, total, _, _ in _KINDS}
    # every area with children gets at least one Kita (taken from the area with most)
    for i in np.flatnonzero((counts["Kita"] == 0) & (n05 >= 80)):
        donor = int(np.argmax(counts["Kita"]))
        counts["Kita"][donor] -= 1
        counts["Kita"][i] += 1

    gen_xy = areas.attrs["gen_xy"]
    placed: list = []
    rows: list[dict] = []
    used_names: set[str] = set()
    for kind, _total, target, _en in _KINDS:
        for a in range(len(areas)):
            k = int(counts[kind][a])
            if k == 0:
                continue
            geom = areas["geometry"].iloc[a]
            inner = geom.buffer(-60.0)
            if inner.is_empty:
                inner = geom.buffer(-5.0)
            sigma = 0.33 * np.sqrt(geom.area)
            cx, cy = gen_xy[areas["area_id"].iloc[a]]
            caps = _capacities(kind, k, places_target[a], rng)
            for j in range(k):
                point = _place(inner, (cx, cy), sigma, placed, rng)
                placed.append(point)
                name = _facility_name(kind, str(areas["name"].iloc[a]), rng)
                if name in used_names:
                    name = f"{name} ({areas['name'].iloc[a]})"
                suffix = 2
                base_name = name
                while name in used_names:
                    name = f"{base_name} {suffix}"
                    suffix += 1
                used_names.add(name)
                rows.append(
                    {
                        "name": name,
                        "kind": kind,
                        "capacity": caps[j],
                        "target_group": target,
                        "area_id": str(areas["area_id"].iloc[a]),
                        "geometry": point,
                    }
                )
    fac = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_CRS)
    fac.insert(0, "facility_id", [f"F{i + 1:03d}" for i in range(len(fac))])
    fac["capacity"] = fac["capacity"].astype(float)
    assert all(
        shapely.contains(
            areas.set_index("area_id").loc[fac["area_id"], "geometry"].to_numpy(),
            fac.geometry.to_numpy(),
        )
    )
    return fac


def _capacities(kind: str, k: int, kita_places: float, rng: np.random.Generator) -> list[float]:
    if kind == "Kita":
        share = rng.dirichlet(np.full(k, 4.0)) if k > 1 else np.ones(1)
        return [float(max(20, 5 * round(kita_places * s / 5.0))) for s in share]
    if kind == "Jugendfreizeiteinrichtung":
        return [float(10 * rng.integers(4, 13)) for _ in range(k)]
    if kind == "Grundschule":
        return [float(100 * rng.integers(2, 5) + 25 * rng.integers(0, 4)) for _ in range(k)]
    if kind == "Weiterführende Schule":
        return [float(50 * rng.integers(10, 27)) for _ in range(k)]
    return [float("nan")] * k


def _place(inner, centre, sigma, placed, rng: np.random.Generator):
    """Draw a point near ``centre`` inside ``inner``, apart from already placed points."""
    import shapely
    from shapely.geometry import Point

    minx, miny, maxx, maxy = inner.bounds
    for attempt in range(400):
        if attempt < 200:
            x, y = rng.normal(centre[0], sigma), rng.normal(centre[1], sigma)
        else:  # widen the search: uniform over the area
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        x, y = round(float(x), 1), round(float(y), 1)
        p = Point(x, y)
        spacing = 120.0 if attempt < 300 else 30.0
        if inner.contains(p) and all(p.distance(q) > spacing for q in placed[-400:]):
            return p
    return shapely.set_precision(inner.representative_point(), 0.1)  # pragma: no cover


def _facility_name(kind: str, area_name: str, rng: np.random.Generator) -> str:
    if kind == "Kita":
        return f"{rng.choice(_KITA_PREFIX)} {rng.choice(_KITA_NAMES)}"
    if kind == "Familienzentrum":
        return f"Familienzentrum {area_name}"
    if kind == "Jugendfreizeiteinrichtung":
        return f"{rng.choice(_YOUTH)} {area_name}"
    if kind == "Grundschule":
        return (
            f"Grundschule {rng.choice(_SCHOOL_FEATURES)}"
            if rng.random() < 0.5
            else f"Grundschule {area_name}"
        )
    if kind == "Weiterführende Schule":
        return f"{rng.choice(_SECONDARY)} {area_name}"
    if kind == "Beratungsstelle":
        return f"{rng.choice(_COUNSELLING)} {area_name}"
    if kind == "Kinderarztpraxis":
        return f"Kinderarztpraxis Dr. {rng.choice(_SURNAMES)}"
    return f"{rng.choice(_EARLY)} {area_name}"


def _indicators(
    areas: pd.DataFrame, pop: dict, facilities, rng: np.random.Generator
) -> pd.DataFrame:
    """Return the long indicator table (before suppression)."""
    import pandas as pd

    n, ny = len(areas), len(YEARS)
    dep = areas["deprivation"].to_numpy()
    ring = areas["ring"].to_numpy()
    harbour = areas["harbour"].to_numpy()
    t = np.arange(ny)

    def year_noise(scale):
        return rng.normal(0.0, scale, (n, ny))

    def pct(p):
        return np.round(100.0 * p, 1)

    def ratio(num, den, per):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.round(np.where(den > 0, per * num / np.where(den > 0, den, 1), np.nan), 1)

    vals: dict[str, np.ndarray] = {k: v.astype(float) for k, v in pop.items()}

    # social situation: SGB-II quota of under-15s (child poverty), strongly tied to deprivation;
    # down in 2022, up in 2023/24 (refugees from Ukraine moved into SGB II)
    q_area = -1.95 + 0.9 * dep + rng.normal(0.0, 0.3, n)
    q_year = np.array([0.0, -0.05, 0.07, 0.10])
    q = _expit(q_area[:, None] + q_year[None, :] + year_noise(0.04))
    sgb2 = rng.binomial(pop["pop_u15"], q)
    vals["sgb2_u15"] = sgb2.astype(float)
    vals["sgb2_u15_rate"] = ratio(sgb2, pop["pop_u15"], 100.0)

    single = _expit(
        -1.45 + 0.3 * dep[:, None] + rng.normal(0.0, 0.2, n)[:, None] + 0.01 * t + year_noise(0.03)
    )
    vals["single_parents"] = pct(single)
    unemp = _expit(
        -2.85
        + 0.45 * dep[:, None]
        + rng.normal(0.0, 0.25, n)[:, None]
        + np.array([0.05, -0.05, 0.0, 0.06])
        + year_noise(0.03)
    )
    vals["unemployment"] = pct(unemp)

    # population: migration background among under-18s
    mig_area = 0.75 * dep + 0.35 * (ring == 0) + rng.normal(0.0, 0.55, n)
    mig = _expit(
        -0.35 + 0.8 * mig_area[:, None] + np.array([0.0, 0.05, 0.08, 0.10]) + year_noise(0.03)
    )
    vals["migration_u18"] = pct(mig)

    # education: language support need at the school entry examination
    lang_area = 0.4 * dep + 0.3 * mig_area + rng.normal(0.0, 0.3, n)
    lang = _expit(-1.3 + lang_area[:, None] + 0.04 * t + year_noise(0.08))
    vals["language_support"] = pct(lang)

    # health: participation in the U8/U9 check-ups (lower in 2021 because of the pandemic)
    u89 = _expit(
        2.5
        - 0.45 * dep[:, None]
        + rng.normal(0.0, 0.3, n)[:, None]
        + np.array([-0.25, -0.1, 0.0, 0.05])
        + year_noise(0.06)
    )
    vals["u8u9_participation"] = pct(u89)

    # day care: places from the Kita facilities; new places opened every year
    kita = facilities[facilities["kind"] == "Kita"].groupby("area_id")["capacity"].sum()
    places_last = kita.reindex(areas["area_id"]).fillna(0.0).to_numpy()
    growth = 1.0 - np.clip(rng.normal(0.025, 0.01, n), 0.0, 0.06)[:, None] * (ny - 1 - t)[None, :]
    places = np.rint(places_last[:, None] * growth)
    vals["kita_places"] = places
    vals["kita_places_per_100"] = ratio(places, pop["pop_0_5"], 100.0)

    # child and youth welfare: Hilfen zur Erziehung and § 8a notifications
    hze_rate = (
        32.0
        * np.exp(0.35 * dep + rng.normal(0.0, 0.25, n))[:, None]
        * np.array([1.0, 1.02, 1.05, 1.07])
    )
    hze = rng.binomial(pop["pop_u21"], np.clip(hze_rate / 1000.0, 0.0, 1.0))
    vals["hze_cases"] = hze.astype(float)
    vals["hze_per_1000"] = ratio(hze, pop["pop_u21"], 1000.0)
    kwg_rate = (
        14.0
        * np.exp(0.4 * dep + rng.normal(0.0, 0.25, n))[:, None]
        * np.array([1.0, 1.04, 1.08, 1.12])
    )
    kwg = rng.binomial(pop["pop_u18"], np.clip(kwg_rate / 1000.0, 0.0, 1.0))
    vals["kwg_8a"] = kwg.astype(float)
    vals["kwg_per_1000"] = ratio(kwg, pop["pop_u18"], 1000.0)

    # housing and environment
    space = 44.0 - 3.5 * dep + 3.0 * (ring == 2) - 2.5 * (ring == 0) + rng.normal(0.0, 2.5, n)
    space = np.where(harbour, 38.0, np.clip(space, 27.0, 65.0))
    vals["living_space"] = np.round(space[:, None] + 0.2 * t + year_noise(0.15), 1)
    green = np.array([12.0, 27.0, 50.0])[ring] + rng.normal(0.0, 5.0, n) - 2.5 * dep
    green = np.where(harbour, 6.0, np.clip(green, 4.0, 80.0))
    vals["green_share"] = np.round(green[:, None] - 0.15 * t, 1)

    ids = areas["area_id"].to_numpy()
    frames = []
    for row in _CATALOG:
        ind = row[0]
        m = vals[ind]
        frames.append(
            pd.DataFrame(
                {
                    "area_id": np.repeat(ids, ny),
                    "indicator": ind,
                    "year": np.tile(np.array(YEARS, dtype="int64"), n),
                    "value": m.reshape(-1).astype(float),
                    "suppressed": False,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# catalog: id, label_de, label_en, unit, polarity, theme, kind, description, numerator, denominator
_CATALOG = (
    ("pop_total", "Einwohner:innen", "Residents", "Personen", 1, "Bevölkerung", "count",
     "Einwohner:innen mit Hauptwohnsitz am 31.12.", "", ""),
    ("pop_0_5", "Kinder 0–5 Jahre", "Children aged 0–5", "Personen", 1, "Bevölkerung", "count",
     "Kinder unter 6 Jahren am 31.12.", "", ""),
    ("pop_6_17", "Kinder und Jugendliche 6–17 Jahre", "Children and young people aged 6–17", "Personen", 1,
     "Bevölkerung", "count", "Kinder und Jugendliche von 6 bis unter 18 Jahren am 31.12.", "", ""),
    ("pop_u15", "Kinder unter 15 Jahren", "Children under 15", "Personen", 1, "Bevölkerung", "count",
     "Kinder unter 15 Jahren am 31.12. (Bezugsgröße der SGB-II-Quote)", "", ""),
    ("pop_u18", "Minderjährige unter 18 Jahren", "Minors under 18", "Personen", 1, "Bevölkerung", "count",
     "Kinder und Jugendliche unter 18 Jahren am 31.12.", "", ""),
    ("pop_u21", "Junge Menschen unter 21 Jahren", "Young people under 21", "Personen", 1, "Bevölkerung",
     "count", "Junge Menschen unter 21 Jahren am 31.12. (Bezugsgröße der Hilfen zur Erziehung)", "", ""),
    ("migration_u18", "Migrationshintergrund unter 18 Jahren", "Migration background, under 18", "%", 1,
     "Bevölkerung", "share",
     "Anteil der Minderjährigen mit Migrationshintergrund an allen Minderjährigen; zeigt Bedarf an "
     "mehrsprachigen Angeboten, keinen Mangel", "", ""),
    ("sgb2_u15", "Kinder unter 15 in SGB-II-Bedarfsgemeinschaften", "Children under 15 receiving SGB II",
     "Personen", 1, "Soziale Lage", "count",
     "Nicht erwerbsfähige Leistungsberechtigte unter 15 Jahren in Bedarfsgemeinschaften nach dem SGB II (Dezember)",
     "", ""),
    ("sgb2_u15_rate", "SGB-II-Quote der unter 15-Jährigen", "SGB II rate of children under 15", "%", 1,
     "Soziale Lage", "rate",
     "Kinder unter 15 Jahren in SGB-II-Bedarfsgemeinschaften je 100 Kinder unter 15 Jahren (Kinderarmut)",
     "sgb2_u15", "pop_u15"),
    ("single_parents", "Alleinerziehenden-Haushalte", "Single-parent households", "%", 1, "Soziale Lage",
     "share", "Anteil der Alleinerziehenden an allen Haushalten mit minderjährigen Kindern", "", ""),
    ("unemployment", "Arbeitslosenquote", "Unemployment rate", "%", 1, "Soziale Lage", "share",
     "Arbeitslose je 100 Einwohner:innen von 15 bis unter 65 Jahren (Jahresdurchschnitt)", "", ""),
    ("language_support", "Sprachförderbedarf bei der Einschulung", "Language support need at school entry",
     "%", 1, "Bildung", "share",
     "Anteil der Kinder mit Sprachförderbedarf bei der Schuleingangsuntersuchung", "", ""),
    ("u8u9_participation", "Teilnahme an den Früherkennungsuntersuchungen U8/U9",
     "Participation in the U8/U9 check-ups", "%", -1, "Gesundheit", "share",
     "Anteil der Kinder mit vollständig dokumentierter U8 und U9 bei der Schuleingangsuntersuchung", "", ""),
    ("kita_places", "Genehmigte Kita-Plätze", "Licensed day-care places", "Plätze", -1, "Betreuung",
     "capacity", "Genehmigte Plätze in Kindertageseinrichtungen am 1.3.", "", ""),
    ("kita_places_per_100", "Kita-Plätze je 100 Kinder 0–5 Jahre", "Day-care places per 100 children aged 0–5",
     "je 100", -1, "Betreuung", "rate", "Genehmigte Kita-Plätze je 100 Kinder unter 6 Jahren", "kita_places",
     "pop_0_5"),
    ("hze_cases", "Hilfen zur Erziehung", "Educational support cases (HzE)", "Fälle", 1, "Hilfen", "count",
     "Laufende und beendete Hilfen zur Erziehung nach §§ 27–35 SGB VIII und Hilfen für junge Volljährige "
     "nach § 41 SGB VIII im Jahr", "", ""),
    ("hze_per_1000", "Hilfen zur Erziehung je 1.000 unter 21 Jahren", "HzE cases per 1,000 under 21",
     "je 1.000", 1, "Hilfen", "rate", "Fälle der Hilfen zur Erziehung je 1.000 junge Menschen unter 21 Jahren",
     "hze_cases", "pop_u21"),
    ("kwg_8a", "Gefährdungseinschätzungen nach § 8a SGB VIII", "Child protection assessments (§ 8a SGB VIII)",
     "Verfahren", 1, "Hilfen", "count",
     "Verfahren zur Einschätzung einer möglichen Kindeswohlgefährdung nach § 8a Abs. 1 SGB VIII im Jahr", "", ""),
    ("kwg_per_1000", "Gefährdungseinschätzungen je 1.000 Minderjährige",
     "Child protection assessments per 1,000 minors", "je 1.000", 1, "Hilfen", "rate",
     "Verfahren nach § 8a SGB VIII je 1.000 Minderjährige", "kwg_8a", "pop_u18"),
    ("living_space", "Wohnfläche je Einwohner:in", "Living space per resident", "m²", -1,
     "Wohnen und Umwelt", "other", "Wohnfläche in Wohngebäuden je Einwohner:in", "", ""),
    ("green_share", "Grün- und Erholungsflächen", "Green and recreation space", "%", -1, "Wohnen und Umwelt",
     "share", "Anteil der Grün-, Wald- und Erholungsflächen an der Gebietsfläche", "", ""),
)  # fmt: skip


#: English columns of the demo catalog (``unit_en``, ``theme_en``, ``description_en``)
_UNIT_EN = {
    "Personen": "persons",
    "Plätze": "places",
    "je 100": "per 100",
    "Fälle": "cases",
    "je 1.000": "per 1,000",
    "Verfahren": "procedures",
}
_THEME_EN = {
    "Bevölkerung": "Population",
    "Soziale Lage": "Social situation",
    "Bildung": "Education",
    "Gesundheit": "Health",
    "Betreuung": "Childcare",
    "Hilfen": "Youth welfare services",
    "Wohnen und Umwelt": "Housing and environment",
}
_DESCRIPTION_EN = {
    "pop_total": "Residents with their main residence on 31 December",
    "pop_0_5": "Children under 6 on 31 December",
    "pop_6_17": "Children and young people aged 6 to under 18 on 31 December",
    "pop_u15": "Children under 15 on 31 December (the base of the SGB II rate)",
    "pop_u18": "Children and young people under 18 on 31 December",
    "pop_u21": "Young people under 21 on 31 December (the base of educational support cases)",
    "migration_u18": "Share of minors with a migration background among all minors; shows a need "
    "for multilingual services, not a deficit",
    "sgb2_u15": "Children under 15 entitled to benefits in SGB II benefit communities (December)",
    "sgb2_u15_rate": "Children under 15 in SGB II benefit communities per 100 children under 15 "
    "(child poverty)",
    "single_parents": "Share of single parents among all households with minor children",
    "unemployment": "Unemployed per 100 residents aged 15 to under 65 (annual average)",
    "language_support": "Share of children needing language support at the school entry "
    "examination",
    "u8u9_participation": "Share of children with fully documented U8 and U9 check-ups at the "
    "school entry examination",
    "kita_places": "Licensed places in day-care centres on 1 March",
    "kita_places_per_100": "Licensed day-care places per 100 children under 6",
    "hze_cases": "Ongoing and completed educational support cases under §§ 27–35 SGB VIII and "
    "support for young adults under § 41 SGB VIII in the year",
    "hze_per_1000": "Educational support cases per 1,000 young people under 21",
    "kwg_8a": "Procedures assessing a possible risk to a child's welfare under § 8a (1) SGB VIII "
    "in the year",
    "kwg_per_1000": "Procedures under § 8a SGB VIII per 1,000 minors",
    "living_space": "Living space in residential buildings per resident",
    "green_share": "Share of green, forest and recreation space in the area",
}
#: translated catalog columns after the contract's (``<column>_en``; German is the default)
CATALOG_EN_COLUMNS = ("unit_en", "theme_en", "description_en", "source_en")


def _catalog() -> pd.DataFrame:
    import pandas as pd

    from k360lib.atlas.model import CATALOG_COLUMNS

    rows = []
    for ind, de, en, unit, pol, theme, kind, desc, num, den in _CATALOG:
        rows.append(
            {
                "id": ind,
                "label_de": de,
                "label_en": en,
                "unit": unit,
                "polarity": int(pol),
                "theme": theme,
                "kind": kind,
                "description": desc,
                "source": SOURCE,
                "numerator": num,
                "denominator": den,
                "unit_en": _UNIT_EN.get(unit, unit),
                "theme_en": _THEME_EN[theme],
                "description_en": _DESCRIPTION_EN[ind],
                "source_en": SOURCE_EN,
            }
        )
    cat = pd.DataFrame(rows, columns=[*CATALOG_COLUMNS, *CATALOG_EN_COLUMNS])
    cat["polarity"] = cat["polarity"].astype(int)
    return cat


def _assemble(geo: _Geo, areas: pd.DataFrame, indicators, catalog, facilities, seed: int) -> Atlas:
    import geopandas as gpd
    import shapely

    from k360lib.atlas.model import Atlas

    gdf = gpd.GeoDataFrame(
        areas[["area_id", "name", "parent_id"]].copy(),
        geometry=list(areas["geometry"]),
        crs=METRIC_CRS,
    ).to_crs(4326)
    fac = facilities.to_crs(4326)
    river = gpd.GeoSeries([geo.river], crs=METRIC_CRS).to_crs(4326).iloc[0]
    river = shapely.set_precision(river, 1e-6)
    river_coords = [[round(float(x), 6), round(float(y), 6)] for x, y in river.coords]
    centre = gpd.GeoSeries(shapely.points([_CENTRE]), crs=METRIC_CRS).to_crs(4326).iloc[0]
    meta = {
        "name": DEMO_NAME,
        "fictional": True,
        "disclaimer_de": t("atlas.demo.disclaimer", "de"),
        "disclaimer_en": t("atlas.demo.disclaimer", "en"),
        "seed": int(seed),
        "generator": "k360lib.atlas.demo",
        "generator_version": GENERATOR_VERSION,
        "metric_crs": METRIC_CRS,
        "years": list(YEARS),
        "suppression_threshold": SUPPRESSION_THRESHOLD,
        "centre": [round(float(centre.x), 6), round(float(centre.y), 6)],
        "districts": areas.attrs["district_names"],
        "area_label_de": "Sozialraum",
        "area_label_en": "Social area",
        "district_label_de": "Stadtbezirk",
        "district_label_en": "District",
        "facility_kinds": {kind: {"de": kind, "en": en} for kind, _, _, en in _KINDS},
        "river": {
            "name": _RIVER_NAME,
            "geometry": {"type": "LineString", "coordinates": river_coords},
        },
    }
    return Atlas(gdf, indicators, catalog, fac, meta)
