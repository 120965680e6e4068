"""Benchmark of the Sozialraum-Atlas on a generated Berlin-sized city.

The city: 550 social areas (a Voronoi tessellation, denser in the centre,
every shared edge densified and bent by a smooth displacement field so each
area has about 200 vertices and neighbours still share their edges exactly),
12 indicators for 4 years (counts small enough to be suppressed in some
areas, rates derived from them) and 4,000 facilities of 8 kinds. Everything
comes from one seeded ``numpy.random.Generator``.

Figures, measured in one run, side by side:

1. **payload**: bytes of the k360 map (everything inlined) vs the HTML of
   ``GeoDataFrame.explore()`` on the same areas and column (which also
   links about 0.4 MB of scripts and styles from CDNs, not counted);
2. **indicator switch**: in Chromium, in the explorer app served by Voilà,
   from choosing another indicator to the new fills in the map; vs a full
   re-render of ``explore()`` output (a new ``<iframe srcdoc>`` with it, until
   its polygons are drawn; CDN assets served locally), and vs the same app
   re-rendering its whole map;
3. **page load**: from requesting the explorer page until every polygon is drawn
   with the first fills and legend and the map controls are there (enabled), vs
   a minimal Voilà notebook on the same server (interleaved; the first round,
   which stores the explorer's first view, is left out); then the time until the
   tabs below the map are there and a first switch (which waits for the data
   loaded behind the first view); the same with Voilà's preheated kernels;
4. **RSS** of the explorer's kernel.

Run ``python bench/atlas.py`` (or ``python bench/run.py --only atlas``).
Needs Voilà, Playwright with Chromium and matplotlib (``explore()``).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py
from _common import write_notebook  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = 550
N_AREAS = 550
VERTICES = 200
N_FACILITIES = 4000
METRIC_CRS = "EPSG:25833"
YEARS = (2021, 2022, 2023, 2024)
KINDS = (
    ("Kita", 0.40),
    ("Grundschule", 0.10),
    ("Jugendfreizeiteinrichtung", 0.08),
    ("Familienzentrum", 0.06),
    ("Beratungsstelle", 0.08),
    ("Kinderarztpraxis", 0.14),
    ("Weiterführende Schule", 0.07),
    ("Frühe Hilfen", 0.07),
)


# ----------------------------------------------------------------------------------------
# the generated city
# ----------------------------------------------------------------------------------------
def _geometry(rng, n: int, target: int):
    import numpy as np
    import shapely
    from shapely.geometry import MultiPoint

    cx, cy = 390_000.0, 5_820_000.0
    radius = 16_800.0
    theta = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    rad = radius * (
        1
        + 0.08 * np.sin(3 * theta + rng.uniform(0, 6))
        + 0.05 * np.sin(5 * theta + rng.uniform(0, 6))
    )
    outline = shapely.Polygon(
        np.column_stack([cx + 1.15 * rad * np.cos(theta), cy + 0.9 * rad * np.sin(theta)])
    )
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        r = radius * np.sqrt(rng.uniform()) ** 1.3
        a = rng.uniform(0, 2 * np.pi)
        x, y = cx + 1.15 * r * np.cos(a), cy + 0.9 * r * np.sin(a)
        if outline.contains(shapely.Point(x, y)):
            pts.append((x, y))
    pts_a = np.array(pts)
    vor = shapely.voronoi_polygons(MultiPoint(pts_a), extend_to=outline)
    lines = [outline.boundary] + [c.intersection(outline).boundary for c in vor.geoms]
    noded = shapely.union_all(lines, grid_size=0.01)
    segs = shapely.get_parts(noded)
    step = sum(s.length for s in segs) * 2 / (n * target)  # an edge belongs to two areas
    segs = shapely.segmentize(np.asarray(segs, dtype=object), step)
    k = rng.normal(0, 1, (6, 2))
    ph = rng.uniform(0, 2 * np.pi, 6)
    amp = np.array([6, 4, 3, 2, 1.5, 1.0])

    def bend(xy):
        dx = np.zeros(len(xy))
        dy = np.zeros(len(xy))
        for i in range(6):
            w = 2 * np.pi / (60 + 40 * i)
            arg = w * (k[i, 0] * xy[:, 0] + k[i, 1] * xy[:, 1]) + ph[i]
            dx += amp[i] * np.sin(arg)
            dy += amp[i] * np.cos(1.3 * arg)
        return np.column_stack([xy[:, 0] + dx, xy[:, 1] + dy])

    segs = shapely.set_precision(shapely.transform(segs, bend), 0.01)
    faces = shapely.get_parts(shapely.polygonize(segs))
    tree = shapely.STRtree(faces)
    pairs = tree.query(shapely.points(pts_a), predicate="within")
    owner = dict(zip(pairs[0].tolist(), pairs[1].tolist()))
    return [faces[owner[i]] for i in range(n)], pts_a


def berlin_sized_atlas(
    seed: int = SEED,
    n_areas: int = N_AREAS,
    vertices: int = VERTICES,
    n_facilities: int = N_FACILITIES,
):
    """Generate the benchmark city (deterministic for a seed).

    Returns
    -------
    Atlas
        ``n_areas`` areas (~``vertices`` vertices each) in 12 districts, 12
        indicators for 2021–2024, ``n_facilities`` facilities of 8 kinds.
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from k360lib.atlas.model import CATALOG_COLUMNS, Atlas
    from k360lib.atlas.privacy import apply_suppression

    rng = np.random.default_rng(seed)
    cells, gens = _geometry(rng, n_areas, vertices)
    centre = gens.mean(axis=0)
    angle = np.arctan2(gens[:, 1] - centre[1], gens[:, 0] - centre[0])
    district = ((angle + np.pi) / (2 * np.pi) * 12).astype(int) % 12
    areas = gpd.GeoDataFrame(
        {
            "area_id": [f"{d + 1:02d}{i + 1:06d}" for i, d in enumerate(district)],
            "name": [f"Planungsraum {i + 1:03d}" for i in range(n_areas)],
            "parent_id": [f"B{d + 1:02d}" for d in district],
        },
        geometry=cells,
        crs=METRIC_CRS,
    )
    latent = rng.normal(0, 1, n_areas)
    size = rng.lognormal(7.8, 0.5, n_areas)  # residents
    rows = []

    def add(ind, values, year):
        rows.extend(
            {"area_id": a, "indicator": ind, "year": year, "value": float(v)}
            for a, v in zip(areas["area_id"], values)
        )

    for y, year in enumerate(YEARS):
        pop = np.round(size * (1 + 0.01 * y + rng.normal(0, 0.01, n_areas)))
        u18 = np.round(
            pop * np.clip(0.16 + 0.03 * latent + rng.normal(0, 0.01, n_areas), 0.05, 0.4)
        )
        sgb2 = np.round(u18 * np.clip(0.15 + 0.09 * latent + rng.normal(0, 0.02, n_areas), 0, 0.8))
        sgb2[rng.uniform(size=n_areas) < 0.03] = rng.integers(0, 3, size=1)  # small counts
        hze = np.round(u18 * np.clip(0.02 + 0.012 * latent, 0.001, 0.2))
        add("pop_total", pop, year)
        add("pop_u18", u18, year)
        add("sgb2_u18", sgb2, year)
        add("hze_cases", hze, year)
        add("sgb2_u18_rate", np.where(u18 > 0, sgb2 / u18 * 100, np.nan), year)
        add("hze_per_1000", np.where(u18 > 0, hze / u18 * 1000, np.nan), year)
        for ind, base, slope, sd in (
            ("single_parents", 22, 5, 2),
            ("unemployment", 8, 3, 1),
            ("language_support", 25, 10, 4),
            ("migration_u18", 40, 12, 6),
        ):
            add(ind, np.clip(base + slope * latent + rng.normal(0, sd, n_areas), 0, 100), year)
        add(
            "kita_places_per_100",
            np.clip(90 - 8 * latent + rng.normal(0, 6, n_areas), 20, 140),
            year,
        )
        add("green_share", np.clip(rng.normal(20, 10, n_areas), 0, 80), year)
    catalog = pd.DataFrame(
        [
            dict.fromkeys(CATALOG_COLUMNS, "")
            | {
                "id": i,
                "label_de": de,
                "label_en": en,
                "unit": unit,
                "polarity": pol,
                "theme": theme,
                "kind": kind,
                "source": "generiert (Benchmark)",
                "numerator": num,
                "denominator": den,
            }
            for i, de, en, unit, pol, theme, kind, num, den in (
                ("pop_total", "Einwohner:innen", "Residents", "Personen", 1, "Bevölkerung", "count", "", ""),
                ("pop_u18", "Minderjährige", "Minors", "Personen", 1, "Bevölkerung", "count", "", ""),
                ("migration_u18", "Migrationshintergrund u18", "Migration background u18", "%", 1, "Bevölkerung", "share", "", ""),
                ("sgb2_u18", "Minderjährige in SGB II", "Minors receiving SGB II", "Personen", 1, "Soziale Lage", "count", "", ""),
                ("sgb2_u18_rate", "SGB-II-Quote Minderjährige", "SGB II rate of minors", "%", 1, "Soziale Lage", "rate", "sgb2_u18", "pop_u18"),
                ("single_parents", "Alleinerziehende", "Single parents", "%", 1, "Soziale Lage", "share", "", ""),
                ("unemployment", "Arbeitslosenquote", "Unemployment rate", "%", 1, "Soziale Lage", "share", "", ""),
                ("language_support", "Sprachförderbedarf", "Language support need", "%", 1, "Bildung", "share", "", ""),
                ("hze_cases", "Hilfen zur Erziehung", "Educational support cases", "Fälle", 1, "Hilfen", "count", "", ""),
                ("hze_per_1000", "HzE je 1.000 Minderjährige", "Support per 1,000 minors", "je 1.000", 1, "Hilfen", "rate", "hze_cases", "pop_u18"),
                ("kita_places_per_100", "Kita-Plätze je 100 Kinder", "Day-care places per 100 children", "je 100", -1, "Betreuung", "rate", "", ""),
                ("green_share", "Grünflächenanteil", "Green space share", "%", -1, "Wohnen und Umwelt", "share", "", ""),
            )
        ]
    )  # fmt: skip
    indicators = pd.DataFrame(rows)
    indicators["suppressed"] = False
    # facilities: more where more people live
    w = size / size.sum()
    which = rng.choice(n_areas, size=n_facilities, p=w)
    kinds = rng.choice(len(KINDS), size=n_facilities, p=[p for _, p in KINDS])
    xs, ys = [], []
    for a in which:
        minx, miny, maxx, maxy = cells[a].bounds
        while True:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if cells[a].contains(gpd.points_from_xy([x], [y])[0]):
                break
        xs.append(x)
        ys.append(y)
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": [f"F{i:05d}" for i in range(n_facilities)],
            "name": [f"{KINDS[k][0]} {i + 1}" for i, k in enumerate(kinds)],
            "kind": [KINDS[k][0] for k in kinds],
            "capacity": [
                float(rng.integers(20, 140)) if KINDS[k][0] == "Kita" else None for k in kinds
            ],
            "target_group": ["Kinder und Familien"] * n_facilities,
            "area_id": [areas["area_id"].iloc[a] for a in which],
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=METRIC_CRS,
    ).to_crs(4326)
    atlas = Atlas(
        areas.to_crs(4326),
        indicators,
        catalog,
        facilities,
        {
            "name": "Großstadt (generiert)",
            "fictional": True,
            "metric_crs": METRIC_CRS,
            "districts": {f"B{d + 1:02d}": f"Bezirk {d + 1}" for d in range(12)},
            "suppression_threshold": 3,
        },
    )
    return apply_suppression(atlas, 3)


# ----------------------------------------------------------------------------------------
# measuring
# ----------------------------------------------------------------------------------------
INDICATOR = "sgb2_u18_rate"
YEAR = 2024

# the explorer opens the atlas folder itself: a kernel shows the first view stored for this
# dataset at once and loads the data behind it (k360lib.maps.snapshot); the first round of
# page loads (left out of the figures) stores it, like the first visitor after a data change
_EXPLORER_NB = """
import os
import ipywidgets as W
from k360lib.widgets import AtlasExplorer

app = AtlasExplorer("city", lang="de", live={live})
_pid = W.HTML(f'<span class="bench-pid">{{os.getpid()}}</span>')
W.VBox([app.container, _pid])
"""

_MINIMAL_NB = """
import ipywidgets as W
W.HTML('<b id="bench-ready">Hallo</b>')
"""

_EXPLORE_APP_NB = """
import html
import ipywidgets as W
from k360lib.atlas.model import Atlas
from k360lib.atlas.privacy import public_values

atlas = Atlas.load("city")
ids = ["{indicator}", "single_parents", "unemployment", "language_support", "hze_per_1000"]
pick = W.Dropdown(options=ids, value=ids[0])
out = W.HTML()

def show(*_):
    gdf = atlas.areas.merge(public_values(atlas, pick.value, {year}), on="area_id")
    doc = gdf.explore(column="value").get_root().render()
    out.value = f'<iframe id="explore" style="width:100%;height:600px" srcdoc="{{html.escape(doc)}}"></iframe>'

pick.observe(show, names="value")
show()
W.VBox([pick, out])
"""


def _cdn_router(route) -> None:
    """Serve explore()'s CDN assets locally: Leaflet from xstatic, the rest as empty files."""
    from k360lib.maps.assets import asset_text

    url = route.request.url
    if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "about:")):
        route.continue_()
        return
    if url.endswith("leaflet.js"):
        route.fulfill(status=200, content_type="text/javascript", body=asset_text("leaflet_js"))
    elif url.endswith("leaflet.css"):
        route.fulfill(status=200, content_type="text/css", body=asset_text("leaflet_css"))
    elif url.endswith(".js"):
        route.fulfill(status=200, content_type="text/javascript", body="")
    elif url.endswith(".css"):
        route.fulfill(status=200, content_type="text/css", body="")
    else:
        route.abort()


_RENDER_JS = """
async ([doc, selector, n]) => {
    const frame = document.getElementById('bench-frame');
    const t0 = performance.now();
    frame.srcdoc = doc;
    await new Promise((resolve, reject) => {
        const limit = t0 + 60000;
        function check() {
            const d = frame.contentDocument;
            if (d && d.querySelectorAll(selector).length >= n) { resolve(); return; }
            if (performance.now() > limit) { reject(new Error('timeout')); return; }
            requestAnimationFrame(check);
        }
        requestAnimationFrame(check);
    });
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    return (performance.now() - t0) / 1000;
}
"""


def _render_seconds(browser, doc: str, selector: str, n: int, repeat: int) -> list[float]:
    """Full render of ``doc`` in an iframe, until ``n`` elements ``selector`` are painted."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.route("**/*", _cdn_router)
    page = context.new_page()
    page.set_content(
        '<iframe id="bench-frame" style="width:1300px;height:600px;border:0"></iframe>'
    )
    times = []
    for _ in range(repeat + 1):  # the first run warms the browser's caches
        times.append(page.evaluate(_RENDER_JS, [doc, selector, n]))
        page.evaluate("() => { document.getElementById('bench-frame').srcdoc = ''; }")
    context.close()
    return times[1:]


_WATCH_SWITCH = """
() => {
    window.__benchSel = [];
    window.__benchPaint = [];
    if (window.__benchWatching) { return; }
    window.__benchWatching = true;
    const frame = document.querySelector('iframe#k360-atlas-map');
    const w = frame.contentWindow, d = frame.contentDocument;
    document.querySelector('.k360-indicator select')
        .addEventListener('change', () => window.__benchSel.push(performance.now()));
    new w.MutationObserver(() => {
        const seq = +d.body.dataset.k360Seq;
        requestAnimationFrame(() => requestAnimationFrame(
            () => window.__benchPaint.push([seq, performance.now()])));
    }).observe(d.body, {attributes: true, attributeFilter: ['data-k360-seq']});
}
"""

# "loaded": every polygon drawn with the first state's fills and legend, and the map
# controls on the page and enabled
_WAIT_MAP = """
(n) => {
    const f = document.querySelector('iframe#k360-atlas-map');
    const d = f && f.contentDocument;
    return !!d && d.querySelectorAll('path.k360-area').length >= n
        && !!d.body.dataset.k360Seq && !!d.getElementById('k360-legend')
        && !!document.querySelector('.k360-indicator select:not([disabled])')
        && !!document.querySelector('.k360-year');
}
"""


def _switch_seconds(page, options: list[int], limit: float = 60.0) -> list[float]:
    """Indicator switches in the explorer: from the select's change event to painted fills."""
    page.evaluate(_WATCH_SWITCH)
    select = page.locator(".k360-indicator select")
    out = []
    for index in options:
        n = page.evaluate("() => window.__benchPaint.length")
        select.select_option(index=index)
        page.wait_for_function(
            f"() => window.__benchPaint.length > {n}", polling="raf", timeout=limit * 1000
        )
        t_sel = page.evaluate("() => window.__benchSel[window.__benchSel.length - 1]")
        t_paint = page.evaluate("() => window.__benchPaint[window.__benchPaint.length - 1][1]")
        out.append((t_paint - t_sel) / 1000)
        time.sleep(0.3)
    return out


def _explore_app_switch_seconds(page, repeat: int, n: int) -> list[float]:
    """The naive app: a Dropdown re-renders explore() into a new iframe on every change."""
    select = page.locator("select").first
    out = []
    for i in range(repeat):
        page.evaluate("() => { document.querySelector('iframe#explore').id = 'explore-old'; }")
        t0 = time.perf_counter()
        select.select_option(index=1 + i % 4)
        page.wait_for_function(
            """(n) => { const f = document.querySelector('iframe#explore');
                        const d = f && f.contentDocument;
                        return !!d && d.querySelectorAll('path.leaflet-interactive').length >= n; }""",
            arg=n,
            polling="raf",
            timeout=120_000,
        )
        out.append(time.perf_counter() - t0)
    return out


def _wait_sandboxed_map(page, n: int, timeout: float = 120.0) -> None:
    """Wait for a (new) map frame the page may not look into (no allow-same-origin)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        element = page.query_selector("iframe#k360-atlas-map")
        frame = element.content_frame() if element else None
        if frame is not None:
            try:
                frame.wait_for_function(
                    "(n) => document.querySelectorAll('path.k360-area').length >= n",
                    arg=n,
                    polling="raf",
                    timeout=max(1.0, deadline - time.monotonic()) * 1000,
                )
                return
            except Exception:  # noqa: BLE001 - the frame was replaced while loading
                continue
        time.sleep(0.02)
    raise TimeoutError("the map did not appear")


def _page_loads(browser, server, repeat: int, n: int, session_class, pause: float = 0.0):
    """Load the minimal notebook and the explorer alternately; switch indicators in the explorer.

    Returns ``(loads, switch_seconds, rss, after)``: page-load seconds per notebook
    (the first round, which warms disk caches, is left out), indicator-switch
    seconds, the explorer kernel's RSS, and ``after["first_switch"]`` (a switch
    right after the page load, which waits for the data behind the first view)
    and ``after["panels"]`` (seconds from the page load until the tabs below the
    map are there). ``pause`` waits before each load (a preheated kernel pool
    refills in the meantime).
    """
    loads = {"explorer.ipynb": [], "minimal.ipynb": []}
    switch: list[float] = []
    after: dict[str, list[float]] = {"first_switch": [], "panels": []}
    rss = (float("nan"), float("nan"))
    for i in range(repeat + 1):
        for name in ("minimal.ipynb", "explorer.ipynb"):
            time.sleep(pause)
            session = session_class(browser, f"bench-{name}-{i}")
            page = session.page
            t0 = time.perf_counter()
            page.goto(server.url_for(name), wait_until="commit")
            if name == "minimal.ipynb":
                page.wait_for_selector("#bench-ready", state="visible", timeout=120_000)
            else:
                page.wait_for_function(_WAIT_MAP, arg=n, polling="raf", timeout=120_000)
            elapsed = time.perf_counter() - t0
            if i:
                loads[name].append(elapsed)
            if name == "explorer.ipynb" and i:
                after["first_switch"] += _switch_seconds(page, [2])
                page.wait_for_selector(".k360-tabs", state="visible", timeout=120_000)
                after["panels"].append(time.perf_counter() - t0 - elapsed)
                switch += _switch_seconds(page, [3, 6, 8, 10, 4])
                if i == repeat:
                    rss = _rss_mib(int(page.inner_text(".bench-pid")))
            problems = session.problems()
            if problems:
                raise RuntimeError("\n".join(problems))
            session.close()
    return loads, switch, rss, after


def _rss_mib(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a process, in MiB (Linux /proc)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def run(ctx, Result, summarize) -> list:  # noqa: N803 - the classes of bench/run.py
    """Measure everything (see the module docstring); return ``Result`` rows."""
    sys.path.insert(0, str(REPO_ROOT))
    from playwright.sync_api import sync_playwright

    from k360lib.atlas.privacy import public_values
    from k360lib.maps import AtlasMap, srcdoc_iframe
    from k360lib.serve import voila_command
    from tests.e2e.harness import BrowserSession, VoilaServer, find_chromium

    repeat = max(3, ctx.repeat)
    results = []
    work = Path(tempfile.mkdtemp(prefix="k360-bench-atlas-"))
    os.environ["K360_CACHE_DIR"] = str(work / "cache")  # the kernels inherit it
    try:
        t0 = time.perf_counter()
        atlas = berlin_sized_atlas()
        gen_s = time.perf_counter() - t0
        atlas.save(work / "city")
        n = len(atlas.areas)
        note = (
            f"city: {n} areas, {int(atlas.areas.geometry.count_coordinates().median())} vertices "
            f"(median), {len(atlas.indicator_ids)} indicators x {len(atlas.years)} years, "
            f"{len(atlas.facilities)} facilities; generated in {gen_s:.1f} s"
        )
        ctx.notes.append(note)
        print(f"  {note}", file=sys.stderr, flush=True)

        # -- 1. payload ------------------------------------------------------------------
        gdf = atlas.areas.merge(public_values(atlas, INDICATOR, YEAR), on="area_id")
        t0 = time.perf_counter()
        explore_doc = gdf.explore(column="value").get_root().render()
        explore_s = time.perf_counter() - t0
        plain = AtlasMap(atlas, "de", profile_indicators=[])
        plain_doc = plain.document(plain.state(INDICATOR, YEAR))
        full = AtlasMap(atlas, "de")
        full_state = full.state(INDICATOR, YEAR)
        full_doc = full.document(full_state)
        widget_value = srcdoc_iframe(full_doc, title="x", channel="k360-bench")
        state_json = AtlasMap.channel_state_html("k360-bench", full_state)
        fac_json = full.channel_facilities_html("k360-bench", range(len(full.kinds)), 1)
        kb = 1 / 1024
        results += [
            Result(
                "explore(): HTML (+ ~0.4 MB CDN assets, not counted)",
                "payload",
                len(explore_doc) * kb,
                "KiB",
                1,
            ),
            Result(
                "k360 map, areas + indicator (same content)",
                "payload",
                len(plain_doc) * kb,
                "KiB",
                1,
            ),
            Result(
                "  ratio to explore()", "payload", 100 * len(plain_doc) / len(explore_doc), "%", 1
            ),
            Result(
                "k360 explorer map (+ profiles, facility code)",
                "payload",
                len(full_doc) * kb,
                "KiB",
                1,
            ),
            Result(
                "  ratio to explore()", "payload", 100 * len(full_doc) / len(explore_doc), "%", 1
            ),
            Result(
                "  as srcdoc widget value (HTML-escaped)",
                "payload",
                len(widget_value) * kb,
                "KiB",
                1,
            ),
            Result("k360 indicator switch: state sent", "payload", len(state_json) * kb, "KiB", 1),
            Result(
                "k360 facilities, all 8 kinds (on demand)", "payload", len(fac_json) * kb, "KiB", 1
            ),
            Result(
                "geometry: vertices in -> drawn", "vertices", full.geometry.n_input_points, "", 1
            ),
            Result("  after simplification (per ring)", "vertices", full.geometry.n_points, "", 1),
            Result("  stored (shared arcs once)", "vertices", full.geometry.n_arc_points, "", 1),
        ]
        results.append(summarize("explore(): build HTML (Python)", "time", [explore_s], "ms", 1000))
        results.append(
            summarize(
                "k360 state for one switch (Python)",
                "time",
                ctx.time_calls(
                    lambda: full.values_state(
                        public_values(atlas, "unemployment", YEAR)["value"].tolist(),
                        indicator="unemployment",
                        label="x",
                        year=YEAR,
                    )
                ),
                "ms",
                1000,
            )
        )

        # -- notebooks on one server -----------------------------------------------------------
        write_notebook(work / "explorer.ipynb", _EXPLORER_NB.format(live=True))
        write_notebook(work / "explorer_full_render.ipynb", _EXPLORER_NB.format(live=False))
        write_notebook(work / "minimal.ipynb", _MINIMAL_NB)
        write_notebook(
            work / "explore_app.ipynb", _EXPLORE_APP_NB.format(indicator=INDICATOR, year=YEAR)
        )
        server = VoilaServer(
            lambda port: voila_command(work, port=port), work, work / "voila.log", cwd=work
        )
        server.start()
        try:
            with sync_playwright() as pw:
                _, launch = find_chromium(pw)
                browser = pw.chromium.launch(**launch)

                # -- 2a. full re-render in the browser: explore() output vs the k360 map ------
                explore_render = _render_seconds(
                    browser, explore_doc, "path.leaflet-interactive", n, repeat
                )
                ours_render = _render_seconds(browser, full_doc, "path.k360-area", n, repeat)
                results.append(
                    summarize(
                        "explore() output: full render in browser",
                        "switch",
                        explore_render,
                        "ms",
                        1000,
                    )
                )
                results.append(
                    summarize("k360 map: full render in browser", "switch", ours_render, "ms", 1000)
                )

                # -- 3. page load + 2b. switching in the app ----------------------------------
                loads, switch, rss, after = _page_loads(browser, server, repeat, n, BrowserSession)
                results.append(
                    summarize(
                        "k360 explorer: indicator switch (select -> fills)",
                        "switch",
                        switch,
                        "ms",
                        1000,
                    )
                )
                results.append(
                    Result(
                        "  ratio to explore() full render",
                        "switch",
                        100 * statistics.median(switch) / statistics.median(explore_render),
                        "%",
                        len(switch),
                    )
                )
                t_min = statistics.median(loads["minimal.ipynb"])
                t_exp = statistics.median(loads["explorer.ipynb"])
                results.append(
                    summarize(
                        "minimal Voilà notebook: request -> visible",
                        "page load",
                        loads["minimal.ipynb"],
                        "ms",
                        1000,
                    )
                )
                results.append(
                    summarize(
                        "k360 explorer: request -> visible map",
                        "page load",
                        loads["explorer.ipynb"],
                        "ms",
                        1000,
                    )
                )
                results.append(
                    Result(
                        "  ratio to the minimal notebook", "page load", t_exp / t_min, "x", repeat
                    )
                )
                results.append(
                    Result(
                        "  ratio per round (median)",
                        "page load",
                        statistics.median(
                            e / m for e, m in zip(loads["explorer.ipynb"], loads["minimal.ipynb"])
                        ),
                        "x",
                        repeat,
                        min(e / m for e, m in zip(loads["explorer.ipynb"], loads["minimal.ipynb"])),
                        max(e / m for e, m in zip(loads["explorer.ipynb"], loads["minimal.ipynb"])),
                    )
                )
                results.append(
                    summarize(
                        "  then: tabs below the map there", "page load", after["panels"], "ms", 1000
                    )
                )
                results.append(
                    summarize(
                        "  then: first switch (waits for the data)",
                        "switch",
                        after["first_switch"],
                        "ms",
                        1000,
                    )
                )
                results.append(
                    Result("k360 explorer kernel (after switching)", "RSS", rss[0], "MiB", 1)
                )
                results.append(Result("k360 explorer kernel, peak", "RSS", rss[1], "MiB", 1))

                # -- 3b. the same with Voilà's preheated kernels (notebook run before the request)
                # only the two notebooks compared: a pool runs every notebook of its folder
                pre_dir = work / "preheat"
                pre_dir.mkdir()
                for name in ("minimal.ipynb", "explorer.ipynb"):
                    (pre_dir / name).write_bytes((work / name).read_bytes())
                (pre_dir / "city").symlink_to(work / "city", target_is_directory=True)
                pre = VoilaServer(
                    lambda port: voila_command(
                        pre_dir, port=port, extra_args=["--preheat_kernel=True", "--pool_size=1"]
                    ),
                    pre_dir,
                    work / "voila-preheat.log",
                    cwd=pre_dir,
                )
                pre.start()
                try:
                    pre_loads, _, _, _ = _page_loads(
                        browser, pre, repeat, n, BrowserSession, pause=15
                    )
                finally:
                    pre.stop()
                p_min = statistics.median(pre_loads["minimal.ipynb"])
                p_exp = statistics.median(pre_loads["explorer.ipynb"])
                results.append(
                    summarize(
                        "preheated: minimal notebook",
                        "page load",
                        pre_loads["minimal.ipynb"],
                        "ms",
                        1000,
                    )
                )
                results.append(
                    summarize(
                        "preheated: k360 explorer, visible map",
                        "page load",
                        pre_loads["explorer.ipynb"],
                        "ms",
                        1000,
                    )
                )
                results.append(
                    Result(
                        "  ratio to the minimal notebook", "page load", p_exp / p_min, "x", repeat
                    )
                )

                # -- 2c. the same app re-rendering its whole map; the naive explore() app -----
                session = BrowserSession(browser, "bench-full-render")
                page = session.page
                page.goto(server.url_for("explorer_full_render.ipynb"), wait_until="commit")
                _wait_sandboxed_map(page, n)
                select = page.locator(".k360-indicator select")
                full_switch = []
                for index in (3, 6, 8):
                    page.evaluate(
                        "() => { document.querySelector('iframe#k360-atlas-map').id = 'old'; }"
                    )
                    t0 = time.perf_counter()
                    select.select_option(index=index)
                    _wait_sandboxed_map(page, n)
                    full_switch.append(time.perf_counter() - t0)
                session.close()
                results.append(
                    summarize(
                        "k360 explorer, live=False (re-render map)",
                        "switch",
                        full_switch,
                        "ms",
                        1000,
                    )
                )

                context = browser.new_context(viewport={"width": 1366, "height": 900})
                context.route("**/*", _cdn_router)
                page = context.new_page()
                page.goto(server.url_for("explore_app.ipynb"), wait_until="commit")
                page.wait_for_selector("iframe#explore", timeout=180_000)
                naive = _explore_app_switch_seconds(page, 3, n)
                context.close()
                results.append(
                    summarize(
                        "naive app: Dropdown -> explore() -> iframe", "switch", naive, "ms", 1000
                    )
                )
                browser.close()
        finally:
            server.stop()
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    """Run this benchmark alone and print its table."""
    import argparse
    import importlib.util

    parser = argparse.ArgumentParser(description="k360 atlas benchmark (Berlin-sized city)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location(
        "k360_bench_run", Path(__file__).with_name("run.py")
    )
    runner = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = runner  # dataclasses look their module up
    spec.loader.exec_module(runner)
    ctx = runner.Context(repeat=args.repeat)
    rows = run(ctx, runner.Result, runner.summarize)
    print(runner.format_table([("atlas", r) for r in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
