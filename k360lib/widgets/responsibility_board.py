"""The Zuständigkeiten board: who is responsible for which family service, where and when.

One class, Voilà-gallery style: widgets are private, :attr:`ResponsibilityBoard.container`
is what a notebook shows. All logic lives in :mod:`k360lib.responsibility`;
this module only calls it and renders.

Views (tabs):

- **Matrix** — the responsibility matrix as an editable grid (one button per
  cell: choose a role, click a cell), filtered by life phase, target group,
  sector and actor; gaps and overlaps are highlighted live; import/export as
  XLSX template, JSON and CSV (downloads are ``data:`` links).
- **Präventionskette** — life phases left to right, actors as lanes, gaps and
  hand-offs (SVG).
- **Netzwerk** — actors linked by shared services (SVG, downloadable).
- **Perspektiven** — several people's matrices compared cell by cell.
- **Karte** — area coverage of one service (offline Leaflet map in an
  ``<iframe srcdoc>`` inside an :class:`ipywidgets.HTML`, never an ``Output``).

A Sozialraum chosen at the top applies to all views (area overrides).
Errors a user can cause are shown as messages, never as tracebacks.

Examples
--------
>>> app = ResponsibilityBoard.demo(lang="en")
>>> app.report.counts()["gaps"] > 0
True
"""

from __future__ import annotations

import base64
import functools
import html
import math
import re
from typing import TYPE_CHECKING

import ipywidgets as W
from branca.element import MacroElement
from folium.template import Template

from k360lib.errors import K360Error, ReportError
from k360lib.i18n import normalize_lang, t
from k360lib.responsibility import (
    PHASES,
    ROLES,
    SECTORS,
    TARGET_GROUPS,
    Matrix,
    actor_network,
    chain_svg,
    check,
    compare,
    comparison_csv,
    interfaces,
    load_catalog,
    network_layout,
    network_svg,
    phase_label,
    prevention_chain,
    read_matrix,
    sector_label,
    service_status,
    target_group_label,
    to_csv,
    to_json,
    to_xlsx,
)
from k360lib.responsibility.coverage import DEFAULT_NEAR_M, STATUSES, area_coverage
from k360lib.responsibility.exchange import XLSX_MIME
from k360lib.responsibility.svg import ROLE_COLORS, SECTOR_COLORS, svg_data_uri
from k360lib.widgets._handlers import guarded

if TYPE_CHECKING:  # pragma: no cover
    from k360lib.atlas.model import Atlas
    from k360lib.responsibility import Catalog

__all__ = [
    "COVERAGE_COLORS",
    "MAP_FRAME_ID",
    "TAB_KEYS",
    "ResponsibilityBoard",
]

#: ``id`` of the coverage map's iframe
MAP_FRAME_ID = "k360-resp-map"
#: tab order (message keys ``resp.ui.tab.<key>``)
TAB_KEYS: tuple[str, ...] = ("matrix", "chain", "network", "perspectives", "map")
#: fill colour per coverage status (Okabe–Ito: blue, sky blue, vermillion)
COVERAGE_COLORS: dict[str, str] = {"in": "#0072B2", "near": "#56B4E9", "none": "#D55E00"}
_NEAR_CHOICES = (250, 500, 1000, 2000)
_MAX_ISSUES = 60
_MAX_DISAGREEMENTS = 40

_CSS = (
    """<style>
.k360-rb h2.k360-title{margin:0 0 4px 0;font-size:1.5em;font-weight:600;}
.k360-rb .k360-note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;margin:4px 0 8px 0;font-size:.92em;color:#333;}
.k360-rb .k360-msg{padding:6px 10px;margin:4px 0;border-radius:2px;}
.k360-rb .k360-msg-error{background:#fdecea;border-left:4px solid #c62828;color:#611a15;}
.k360-rb .k360-msg-ok{background:#e8f5e9;border-left:4px solid #2e7d32;color:#1b5e20;}
.k360-rb .k360-msg ul{margin:4px 0 0 18px;padding:0;}
.k360-rb .k360-summary{font-size:.95em;}
.k360-rb .k360-chip{display:inline-block;border-radius:10px;padding:1px 8px;margin-right:6px;font-weight:600;}
.k360-rb .k360-chip-error{background:#fdecea;color:#b2182b;}
.k360-rb .k360-chip-warning{background:#fff3e0;color:#8a4b00;}
.k360-rb .k360-chip-gap{background:#b2182b;color:#fff;}
.k360-rb .k360-chip-ok{background:#e8f5e9;color:#1b5e20;}
.k360-rb .k360-grid{overflow-x:auto;align-items:stretch;}
.k360-rb .k360-grid .jupyter-button.k360-cell{min-width:0;width:100%;height:28px;padding:0;margin:0;
 font-weight:700;font-size:12px;border:1px solid #d0d0d0;border-radius:2px;background:#ffffff;color:#222;box-shadow:none;}
.k360-rb .k360-grid .jupyter-button.k360-cell:hover{outline:2px solid #000;z-index:2;}
"""
    + "".join(
        f".k360-rb .k360-grid .jupyter-button.k360-role-{r}{{background:{bg};color:{fg};border-color:{bg};}}\n"
        for r, (bg, fg) in ROLE_COLORS.items()
    )
    + """
.k360-rb .k360-grid .jupyter-button.k360-role-none{color:#bbb;}
.k360-rb .k360-grid .jupyter-button.k360-cell-conflict{outline:3px solid #d73027;outline-offset:-3px;}
.k360-rb .k360-grid .jupyter-button.k360-cell-override{border:2px dashed #000;}
.k360-rb .k360-grid .widget-html,.k360-rb .k360-grid .widget-html-content{min-width:0;overflow:hidden;margin:0;}
.k360-rb .k360-rowlabel{font-size:12px;line-height:1.2;padding:2px 6px 2px 6px;border-left:5px solid #cfd8dc;height:28px;
 width:326px;overflow:hidden;box-sizing:border-box;display:flex;flex-direction:column;justify-content:center;}
.k360-rb .k360-rowlabel .k360-svc-name{display:block;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}
.k360-rb .k360-rowlabel .k360-svc-law{display:block;color:#666;font-size:10.5px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}
.k360-rb .k360-rowlabel.k360-status-gap{border-left-color:#b2182b;background:#fdecea;}
.k360-rb .k360-rowlabel.k360-status-error{border-left-color:#d73027;background:#fff0ec;}
.k360-rb .k360-rowlabel.k360-status-overlap{border-left-color:#e69f00;background:#fff6e0;}
.k360-rb .k360-rowlabel.k360-status-warning{border-left-color:#e6c200;}
.k360-rb .k360-rowlabel.k360-status-ok{border-left-color:#1a9850;}
.k360-rb .k360-badge{display:inline-block;font-size:10px;font-weight:700;border-radius:8px;padding:0 6px;margin-left:4px;vertical-align:1px;}
.k360-rb .k360-badge-gap{background:#b2182b;color:#fff;}
.k360-rb .k360-badge-error{background:#d73027;color:#fff;}
.k360-rb .k360-badge-overlap{background:#e69f00;color:#000;}
.k360-rb .k360-badge-warning{background:#ffe082;color:#000;}
.k360-rb .k360-colhead{height:200px;display:flex;flex-direction:column;align-items:center;justify-content:flex-end;font-size:11px;}
.k360-rb .k360-colhead .k360-vert{writing-mode:vertical-rl;transform:rotate(180deg);white-space:normal;overflow:hidden;
 max-height:184px;max-width:36px;line-height:1.05;text-align:left;}
.k360-rb .k360-colhead .k360-dot{display:inline-block;width:12px;height:12px;border-radius:6px;margin-top:3px;}
.k360-rb .k360-corner{font-size:11px;color:#555;display:flex;align-items:flex-end;height:200px;}
.k360-rb .k360-issues{max-height:300px;overflow-y:auto;font-size:.9em;margin:0;padding-left:18px;}
.k360-rb .k360-issue-error{color:#8b1a1a;}
.k360-rb .k360-issue-warning{color:#6d4c00;}
.k360-rb .k360-legend-role{display:inline-block;min-width:26px;text-align:center;border-radius:3px;font-weight:700;font-size:11px;padding:1px 3px;margin:0 3px 0 10px;}
.k360-rb table.k360-table{border-collapse:collapse;font-size:.9em;margin:6px 0;}
.k360-rb table.k360-table th,.k360-rb table.k360-table td{border-bottom:1px solid #e0e0e0;padding:3px 8px;text-align:left;vertical-align:top;}
.k360-rb table.k360-table th{background:#f4f6f8;}
.k360-rb .k360-role-chip{display:inline-block;min-width:22px;text-align:center;border-radius:3px;font-weight:700;font-size:11px;padding:1px 3px;}
.k360-rb a.k360-download{display:inline-block;margin:2px 10px 2px 0;padding:3px 10px;border:1px solid #0072B2;border-radius:3px;
 color:#0072B2;text-decoration:none;font-weight:600;}
.k360-rb a.k360-download:hover{background:#e8f1f8;}
.k360-rb .k360-scroll{overflow-x:auto;}
.k360-rb h3{font-size:1.1em;margin:10px 0 4px 0;}
</style>"""
)


def _safe_class(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value))


def _data_link(data: bytes, mime: str, filename: str, label: str, css: str) -> str:
    href = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    e = html.escape
    return (
        f'<a class="k360-download {e(css, quote=True)}" download="{e(filename, quote=True)}" '
        f'href="{e(href, quote=True)}">{e(label)}</a>'
    )


def _role_chip(role: str | None) -> str:
    if not role:
        return '<span class="k360-role-chip" style="color:#999">–</span>'
    bg, fg = ROLE_COLORS[role]
    return f'<span class="k360-role-chip" style="background:{bg};color:{fg}">{html.escape(role)}</span>'


_guarded = guarded("_show_error", "_show_unexpected")


class _Row:
    """The widgets of one grid row (reused across pages)."""

    def __init__(self, n_actors: int, label_layout, cell_layout, cell_style):
        # one shared Layout/Style for all cells: a third of the widget models to create and sync
        self.label = W.HTML("", layout=label_layout)
        self.cells = [
            W.Button(description="", layout=cell_layout, style=cell_style) for _ in range(n_actors)
        ]
        self.classes: list[tuple[str, ...]] = [()] * n_actors


class ResponsibilityBoard:
    """Edit, check and compare who is responsible for which family service.

    Parameters
    ----------
    catalog : Catalog, optional
        Services and actors; default the bundled catalog.
    matrix : Matrix, optional
        Start matrix; default the catalog's typical default assignment.
    atlas : Atlas, optional
        Sozialräume and facilities for area overrides and the coverage map;
        without it the area selector and the map are disabled.
    lang : str, optional
        UI language (``"de"``/``"en"``); default ``$K360_LANG`` or German.
    title : str, optional
        Heading.
    page_size : int, default 15
        Services per grid page.
    near_m : float, default 500
        Distance (m) within which a facility counts as near an area.
    perspectives : dict, optional
        Perspectives (name -> matrix) to start with.

    Attributes
    ----------
    container : ipywidgets.VBox
        The whole app; the last line of a notebook shows it.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        matrix: Matrix | None = None,
        atlas: Atlas | None = None,
        lang: str | None = None,
        title: str | None = None,
        page_size: int = 15,
        near_m: float = DEFAULT_NEAR_M,
        perspectives: dict[str, Matrix] | None = None,
    ):
        self.lang = normalize_lang(lang)
        self.catalog = catalog if catalog is not None else load_catalog()
        self.matrix = matrix if matrix is not None else self.catalog.default_matrix()
        self.atlas = atlas
        self.perspectives: dict[str, Matrix] = dict(perspectives or {})
        self.page_size = max(1, int(page_size))
        self._near_m = float(near_m)
        self._coverage = None
        self._coverage_near: float | None = None
        self._geometry = None
        self._area: str | None = None
        self._page = 0
        self._busy = False
        self._dirty = set(TAB_KEYS)
        self._visible_services: list[str] = []
        self._page_services: list[str] = []
        self._visible_actors: list[str] = []
        self.report = check(self.matrix)
        lang = self.lang
        wide = {"description_width": "initial"}

        # --- header, area, status -------------------------------------------------
        heading = title or t("resp.ui.title", lang)
        legend = "".join(
            f'<span class="k360-legend-role" style="background:{ROLE_COLORS[r][0]};color:{ROLE_COLORS[r][1]}">{r}</span>'
            f"{html.escape(t(f'resp.role.{r}', lang))}"
            for r in ROLES
        )
        self._header = W.HTML(
            f'{_CSS}<h2 class="k360-title">{html.escape(heading)}</h2>'
            f'<div class="k360-note" role="note">{html.escape(t("resp.ui.disclaimer", lang))}</div>'
            f'<div class="k360-summary">{html.escape(t("resp.ui.roles", lang))}:{legend}</div>'
        )
        area_options = [(t("resp.ui.citywide", lang), "")]
        if atlas is not None:
            area_options += [
                (f"{aid} {name}", str(aid))
                for aid, name in zip(atlas.areas["area_id"], atlas.areas["name"])
            ]
        self._area_dd = W.Dropdown(
            options=area_options,
            value="",
            description=t("resp.ui.area", lang),
            style=wide,
            disabled=atlas is None,
            layout=W.Layout(width="26em"),
        )
        self._area_dd.add_class("k360-area-select")
        self._summary = W.HTML("")
        self._summary.add_class("k360-summary-box")
        self._status = W.HTML("")
        self._status.add_class("k360-status")

        # --- tabs -----------------------------------------------------------------
        self._tab = W.Tab(
            children=[
                self._build_matrix_tab(),
                self._build_chain_tab(),
                self._build_network_tab(),
                self._build_perspectives_tab(),
                self._build_map_tab(),
            ]
        )
        self._tab.titles = tuple(t(f"resp.ui.tab.{k}", lang) for k in TAB_KEYS)
        self._tab.observe(self._on_tab, names=["selected_index"])
        self._area_dd.observe(self._on_area, names=["value"])

        self.container = W.VBox(
            [
                self._header,
                W.HBox(
                    [self._area_dd, self._summary],
                    layout=W.Layout(align_items="center", flex_flow="row wrap"),
                ),
                self._status,
                self._tab,
            ],
            layout=W.Layout(width="100%", max_width="1500px"),
        )
        self.container.add_class("k360-app")
        self.container.add_class("k360-rb")
        self.container.add_class("k360-responsibility-board")
        self._refresh_all()
        if self.perspectives:
            self._after_perspectives()

    def relaunch_kwargs(self) -> dict:
        """Return what to keep when the board is built again (``AppShell``'s language switch).

        The edited matrix, the perspectives and the loaded catalog and atlas.
        """
        return {
            "catalog": self.catalog,
            "matrix": self.matrix,
            "atlas": self.atlas,
            "perspectives": dict(self.perspectives),
        }

    # -- alternate constructors -----------------------------------------------------
    @classmethod
    def demo(cls, lang: str | None = None, **kwargs) -> ResponsibilityBoard:
        """Return the board on the bundled catalog and the fictional demo city."""
        if kwargs.get("atlas") is None:
            from k360lib.atlas.demo import demo_atlas

            kwargs["atlas"] = demo_atlas()
        return cls(lang=lang, **kwargs)

    # -- building ---------------------------------------------------------------------
    def _build_matrix_tab(self) -> W.VBox:
        lang, cat = self.lang, self.catalog
        wide = {"description_width": "initial"}
        self._f_phase = W.Dropdown(
            options=[(t("resp.ui.all_phases", lang), "")]
            + [(phase_label(p, lang), p) for p in PHASES],
            value="",
            description=t("resp.ui.phase", lang),
            style=wide,
            layout=W.Layout(width="20em"),
        )
        self._f_target = W.Dropdown(
            options=[(t("resp.ui.all_targets", lang), "")]
            + [(target_group_label(g, lang), g) for g in TARGET_GROUPS if self._target_used(g)],
            value="",
            description=t("resp.ui.target", lang),
            style=wide,
            layout=W.Layout(width="22em"),
        )
        self._f_sector = W.Dropdown(
            options=[(t("resp.ui.all_sectors", lang), "")]
            + [(sector_label(s, lang), s) for s in SECTORS],
            value="",
            description=t("resp.ui.sector", lang),
            style=wide,
            layout=W.Layout(width="20em"),
        )
        self._f_actor = W.Dropdown(
            options=[(t("resp.ui.all_actors", lang), "")]
            + [(a.name(lang), a.id) for a in cat.actors],
            value="",
            description=t("resp.ui.actor", lang),
            style=wide,
            layout=W.Layout(width="24em"),
        )
        self._f_issues = W.Checkbox(
            value=False, description=t("resp.ui.only_issues", lang), indent=False
        )
        for w in (self._f_phase, self._f_target, self._f_sector, self._f_actor, self._f_issues):
            w.layout.margin = "2px 12px 2px 0"
            w.observe(self._on_filter, names=["value"])
        self._f_phase.add_class("k360-filter-phase")
        self._f_target.add_class("k360-filter-target")
        self._f_sector.add_class("k360-filter-sector")
        self._f_actor.add_class("k360-filter-actor")
        filters = W.HBox(
            [self._f_phase, self._f_target, self._f_sector, self._f_actor, self._f_issues],
            layout=W.Layout(flex_flow="row wrap", align_items="center"),
        )

        self._brush = W.ToggleButtons(
            options=[(r, r) for r in ROLES] + [("–", "")],
            value="R",
            description=t("resp.ui.brush", lang),
            tooltips=[t(f"resp.role.{r}.long", lang) for r in ROLES] + [t("resp.ui.no_role", lang)],
            style={"description_width": "initial", "button_width": "44px"},
        )
        self._brush.add_class("k360-brush")
        brush_help = W.HTML(
            f'<span class="k360-summary">{html.escape(t("resp.ui.brush_help", lang))}</span>'
        )

        # the grid: one pool of row widgets reused for every page
        n = len(cat.actors)
        self._corner = W.HTML(
            f'<div class="k360-corner">{html.escape(t("resp.ui.corner", lang))}</div>'
        )
        self._col_heads = []
        for actor in cat.actors:
            colour = SECTOR_COLORS.get(actor.sector, "#999")
            tip = f"{actor.name(lang)} · {sector_label(actor.sector, lang)}"
            self._col_heads.append(
                W.HTML(
                    f'<div class="k360-colhead" data-actor="{html.escape(actor.id, quote=True)}" '
                    f'title="{html.escape(tip, quote=True)}"><span class="k360-vert">'
                    f"{html.escape(actor.name(lang))}</span>"
                    f'<span class="k360-dot" style="background:{colour}"></span></div>'
                )
            )
        label_layout, cell_layout = W.Layout(width="100%"), W.Layout(width="auto")
        cell_style = W.ButtonStyle()
        self._rows = [_Row(n, label_layout, cell_layout, cell_style) for _ in range(self.page_size)]
        for i, row in enumerate(self._rows):
            for j, button in enumerate(row.cells):
                button.on_click(functools.partial(self._on_cell, i, j))
        self._grid = W.GridBox(layout=W.Layout(width="100%", grid_gap="2px 2px"))
        self._grid.add_class("k360-grid")
        self._prev = W.Button(description="◀", layout=W.Layout(width="44px"))
        self._next = W.Button(description="▶", layout=W.Layout(width="44px"))
        self._prev.add_class("k360-page-prev")
        self._next.add_class("k360-page-next")
        self._prev.on_click(lambda _: self._turn(-1))
        self._next.on_click(lambda _: self._turn(+1))
        self._page_info = W.HTML("")
        self._page_info.add_class("k360-page-info")
        pager = W.HBox(
            [self._prev, self._page_info, self._next], layout=W.Layout(align_items="center")
        )

        # dropdown editor (alternative to clicking)
        self._e_service = W.Dropdown(
            options=[],
            description=t("resp.ui.service", lang),
            style=wide,
            layout=W.Layout(width="30em"),
        )
        self._e_actor = W.Dropdown(
            options=[(a.name(lang), a.id) for a in cat.actors],
            description=t("resp.ui.actor", lang),
            style=wide,
            layout=W.Layout(width="24em"),
        )
        self._e_role = W.Dropdown(
            options=[(t("resp.ui.no_role", lang), "")]
            + [(f"{r} – {t(f'resp.role.{r}', lang)}", r) for r in ROLES],
            value="R",
            description=t("resp.ui.role", lang),
            style=wide,
            layout=W.Layout(width="20em"),
        )
        self._e_set = W.Button(description=t("resp.ui.set", lang), button_style="primary")
        self._e_set.add_class("k360-editor-set")
        self._e_set.on_click(self._on_editor_set)
        self._e_service.observe(self._on_editor_pick, names=["value"])
        self._e_actor.observe(self._on_editor_pick, names=["value"])
        editor = W.HBox(
            [self._e_service, self._e_actor, self._e_role, self._e_set],
            layout=W.Layout(flex_flow="row wrap", align_items="center"),
        )
        editor.add_class("k360-editor")

        self._issues = W.HTML("")
        self._issues.add_class("k360-issues-box")

        # exchange
        self._upload = W.FileUpload(
            accept=".xlsx,.json,.csv",
            multiple=False,
            description=t("resp.ui.upload", lang),
            layout=W.Layout(width="auto"),
        )
        self._upload.add_class("k360-matrix-upload")
        self._upload.observe(self._on_upload, names=["value"])
        self._export = W.Button(description=t("resp.ui.export", lang), icon="")
        self._export.add_class("k360-export-button")
        self._export.on_click(self._on_export)
        self._reset_default = W.Button(description=t("resp.ui.reset_default", lang))
        self._reset_default.add_class("k360-reset-default")
        self._reset_default.on_click(self._on_reset_default)
        self._clear = W.Button(description=t("resp.ui.clear", lang), button_style="warning")
        self._clear.add_class("k360-clear")
        self._clear.on_click(self._on_clear)
        self._links = W.HTML("")
        self._links.add_class("k360-links")
        exchange = W.VBox(
            [
                W.HTML(
                    f"<h3>{html.escape(t('resp.ui.exchange', lang))}</h3>"
                    f'<div class="k360-summary">{html.escape(t("resp.ui.exchange_help", lang))}</div>'
                ),
                W.HBox(
                    [self._upload, self._export, self._reset_default, self._clear],
                    layout=W.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self._links,
            ]
        )
        box = W.VBox(
            [
                filters,
                W.HBox(
                    [self._brush, brush_help],
                    layout=W.Layout(align_items="center", flex_flow="row wrap"),
                ),
                W.Box([self._grid], layout=W.Layout(width="100%", overflow="auto")),
                pager,
                W.HTML(f"<h3>{html.escape(t('resp.ui.editor', lang))}</h3>"),
                editor,
                W.HTML(f"<h3>{html.escape(t('resp.ui.issues', lang))}</h3>"),
                self._issues,
                exchange,
            ]
        )
        box.add_class("k360-tab-matrix")
        return box

    def _build_chain_tab(self) -> W.VBox:
        lang = self.lang
        self._c_target = W.Dropdown(
            options=[(t("resp.ui.all_targets", lang), "")]
            + [(target_group_label(g, lang), g) for g in TARGET_GROUPS if self._target_used(g)],
            value="",
            description=t("resp.ui.target", lang),
            style={"description_width": "initial"},
            layout=W.Layout(width="22em"),
        )
        self._c_target.observe(lambda _: self._render_chain(), names=["value"])
        self._chain = W.HTML("")
        self._chain.add_class("k360-chain")
        self._chain_table = W.HTML("")
        box = W.VBox(
            [
                W.HTML(
                    f'<div class="k360-summary">{html.escape(t("resp.ui.chain_help", lang))}</div>'
                ),
                self._c_target,
                self._chain,
                self._chain_table,
            ]
        )
        box.add_class("k360-tab-chain")
        return box

    def _build_network_tab(self) -> W.VBox:
        lang = self.lang
        wide = {"description_width": "initial"}
        self._n_focus = W.Dropdown(
            options=[(t("resp.ui.no_focus", lang), "")]
            + [(a.name(lang), a.id) for a in self.catalog.actors],
            value="",
            description=t("resp.ui.focus", lang),
            style=wide,
            layout=W.Layout(width="26em"),
        )
        self._n_roles = W.Dropdown(
            options=[
                (t("resp.ui.net_roles_all", lang), "all"),
                (t("resp.ui.net_roles_ar", lang), "ar"),
            ],
            value="all",
            description=t("resp.ui.net_roles", lang),
            style=wide,
            layout=W.Layout(width="26em"),
        )
        self._n_min = W.IntSlider(
            value=1,
            min=1,
            max=10,
            description=t("resp.ui.min_shared", lang),
            style=wide,
            continuous_update=False,
            layout=W.Layout(width="24em"),
        )
        self._n_layout = W.Dropdown(
            options=[
                (t("resp.ui.layout_circle", lang), "circle"),
                (t("resp.ui.layout_force", lang), "force"),
            ],
            value="circle",
            description=t("resp.ui.layout", lang),
            style=wide,
            layout=W.Layout(width="22em"),
        )
        for w in (self._n_focus, self._n_roles, self._n_min, self._n_layout):
            w.layout.margin = "2px 12px 2px 0"
            w.observe(lambda _: self._render_network(), names=["value"])
        self._n_focus.add_class("k360-net-focus")
        self._network = W.HTML("")
        self._network.add_class("k360-network")
        self._network_table = W.HTML("")
        box = W.VBox(
            [
                W.HTML(
                    f'<div class="k360-summary">{html.escape(t("resp.ui.net_help", lang))}</div>'
                ),
                W.HBox(
                    [self._n_focus, self._n_roles, self._n_min, self._n_layout],
                    layout=W.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self._network,
                self._network_table,
            ]
        )
        box.add_class("k360-tab-network")
        return box

    def _build_perspectives_tab(self) -> W.VBox:
        lang = self.lang
        self._p_upload = W.FileUpload(
            accept=".xlsx,.json,.csv",
            multiple=True,
            description=t("resp.ui.persp_upload", lang),
            layout=W.Layout(width="auto"),
        )
        self._p_upload.add_class("k360-persp-upload")
        self._p_upload.observe(self._on_persp_upload, names=["value"])
        self._p_name = W.Text(
            value="",
            placeholder=t("resp.ui.persp_name_placeholder", lang),
            description=t("resp.ui.persp_name", lang),
            style={"description_width": "initial"},
            layout=W.Layout(width="24em"),
        )
        self._p_add = W.Button(description=t("resp.ui.persp_add", lang))
        self._p_add.add_class("k360-persp-add")
        self._p_add.on_click(self._on_persp_add)
        self._p_remove_dd = W.Dropdown(options=[], layout=W.Layout(width="18em"))
        self._p_remove = W.Button(description=t("resp.ui.persp_remove", lang))
        self._p_remove.on_click(self._on_persp_remove)
        self._p_clear = W.Button(description=t("resp.ui.persp_clear", lang))
        self._p_clear.on_click(self._on_persp_clear)
        self._p_status = W.HTML("")
        self._p_status.add_class("k360-persp-status")
        self._p_list = W.HTML("")
        self._p_list.add_class("k360-persp-list")
        self._p_result = W.HTML("")
        self._p_result.add_class("k360-persp-result")
        box = W.VBox(
            [
                W.HTML(
                    f'<div class="k360-summary">{html.escape(t("resp.ui.persp_help", lang))}</div>'
                ),
                W.HBox(
                    [self._p_upload, self._p_name, self._p_add],
                    layout=W.Layout(flex_flow="row wrap", align_items="center"),
                ),
                W.HBox(
                    [self._p_remove_dd, self._p_remove, self._p_clear],
                    layout=W.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self._p_status,
                self._p_list,
                self._p_result,
            ]
        )
        box.add_class("k360-tab-perspectives")
        return box

    def _build_map_tab(self) -> W.VBox:
        lang = self.lang
        wide = {"description_width": "initial"}
        place = self.catalog.filter_services(place_based=True)
        self._m_service = W.Dropdown(
            options=[(self.catalog.service(s).name(lang), s) for s in place],
            value=place[0] if place else None,
            description=t("resp.ui.service", lang),
            style=wide,
            disabled=self.atlas is None or not place,
            layout=W.Layout(width="36em"),
        )
        self._m_near = W.Dropdown(
            options=[(t("resp.ui.near_option", lang, m=m), float(m)) for m in _NEAR_CHOICES],
            value=float(self._near_m) if self._near_m in _NEAR_CHOICES else 500.0,
            description=t("resp.ui.near", lang),
            style=wide,
            disabled=self.atlas is None,
            layout=W.Layout(width="20em"),
        )
        for w in (self._m_service, self._m_near):
            w.layout.margin = "2px 12px 2px 0"
            w.observe(lambda _: self._render_map(), names=["value"])
        self._m_service.add_class("k360-map-service")
        self._map = W.HTML("", layout=W.Layout(width="100%"))
        self._map.add_class("k360-map")
        self._map_info = W.HTML("")
        box = W.VBox(
            [
                W.HTML(
                    f'<div class="k360-summary">{html.escape(t("resp.ui.map_help", lang))}</div>'
                ),
                W.HBox([self._m_service, self._m_near], layout=W.Layout(flex_flow="row wrap")),
                self._map_info,
                self._map,
            ]
        )
        box.add_class("k360-tab-map")
        return box

    # -- helpers ---------------------------------------------------------------------------
    def _target_used(self, group: str) -> bool:
        return any(group in s.target_groups for s in self.catalog.services)

    @property
    def area(self) -> str | None:
        """The Sozialraum shown (``None``: city-wide)."""
        return self._area

    def _message_html(self, level: str, text: str, details: list[str] | None = None) -> str:
        css = "k360-msg-error" if level == "error" else "k360-msg-ok"
        role = "alert" if level == "error" else "status"
        items = "".join(f"<li>{html.escape(d)}</li>" for d in (details or []))
        extra = f"<ul>{items}</ul>" if items else ""
        return f'<div class="k360-msg {css}" role="{role}">{html.escape(text)}{extra}</div>'

    def _show_message(self, level: str, text: str, details=None, target=None) -> None:
        (target or self._status).value = self._message_html(level, text, details)

    def _show_unexpected(self, exc: Exception) -> None:
        self._show_message(
            "error", t("resp.ui.unexpected", self.lang, detail=f"{type(exc).__name__}: {exc}")
        )

    def _show_error(self, err: K360Error, target=None) -> None:
        lang = self.lang
        if isinstance(err, ReportError):
            details = [f.message(lang) for f in err.report.errors[:12]]
            more = len(err.report.errors) - len(details)
            if more > 0:
                details.append(t("resp.ui.more", lang, n=more))
            text = t("resp.ui.import_failed", lang, n=len(err.report.errors))
            self._show_message("error", text, details, target)
        else:
            self._show_message(
                "error", t("resp.ui.error", lang, message=err.message(lang)), None, target
            )

    # -- filters and grid --------------------------------------------------------------------
    def _filtered_services(self) -> list[str]:
        ids = self.catalog.filter_services(
            phase=self._f_phase.value or None, target_group=self._f_target.value or None
        )
        actor = self._f_actor.value
        if actor:
            own = self.matrix.services_of_actor(actor, self._area)
            ids = [s for s in ids if s in own]
        if self._f_issues.value:
            flagged = self.report.by_service()
            ids = [s for s in ids if service_status(flagged.get(s, [])) != "ok"]
        return ids

    def _filtered_actors(self) -> list[str]:
        return self.catalog.actors_in_sector(self._f_sector.value or None)

    def _layout_grid(self) -> None:
        """Choose the visible rows and columns and rebuild the grid's children."""
        self._visible_services = self._filtered_services()
        self._visible_actors = self._filtered_actors()
        n_pages = max(1, math.ceil(len(self._visible_services) / self.page_size))
        self._page = min(max(self._page, 0), n_pages - 1)
        start = self._page * self.page_size
        self._page_services = self._visible_services[start : start + self.page_size]
        index = {a: j for j, a in enumerate(self.catalog.actor_ids)}
        cols = [index[a] for a in self._visible_actors]
        children = [self._corner] + [self._col_heads[j] for j in cols]
        for i, _sid in enumerate(self._page_services):
            row = self._rows[i]
            children.append(row.label)
            children.extend(row.cells[j] for j in cols)
        self._grid.layout.grid_template_columns = f"330px repeat({len(cols)}, 38px)"
        self._grid.children = children
        lang = self.lang
        if self._visible_services:
            info = t(
                "resp.ui.page",
                lang,
                page=self._page + 1,
                pages=n_pages,
                n=len(self._visible_services),
            )
        else:
            info = t("resp.ui.no_services", lang)
        self._page_info.value = f'<span class="k360-summary">{html.escape(info)}</span>'
        self._prev.disabled = self._page == 0
        self._next.disabled = self._page >= n_pages - 1
        # the editor offers the filtered services
        opts = [(self.catalog.service(s).name(lang), s) for s in self._visible_services]
        keep = self._e_service.value
        self._busy = True
        try:
            self._e_service.options = opts
            if keep in self._visible_services:
                self._e_service.value = keep
            elif self._visible_services:
                self._e_service.value = self._visible_services[0]
        finally:
            self._busy = False
        self._sync_editor_role()
        self._update_rows()

    def _update_rows(self, only: int | None = None) -> None:
        by_service = self.report.by_service()
        for i, sid in enumerate(self._page_services):
            if only is not None and i != only:
                continue
            self._update_row(i, sid, by_service.get(sid, []))

    def _update_row(self, i: int, sid: str, issues) -> None:
        lang, cat, area = self.lang, self.catalog, self._area
        svc = cat.service(sid)
        status = service_status(issues)
        badge = ""
        if status != "ok":
            badge = (
                f'<span class="k360-badge k360-badge-{status}">'
                f"{html.escape(t(f'resp.ui.status.{status}', lang))}</span>"
            )
        tip_lines = [svc.name(lang), svc.legal_basis, svc.description(lang)]
        tip_lines += [i.message(cat, lang) for i in issues]
        tip = "\n".join(x for x in tip_lines if x)
        e = html.escape
        row = self._rows[i]
        row.label.value = (
            f'<div class="k360-rowlabel k360-status-{status}" data-service="{e(sid, quote=True)}" '
            f'data-status="{status}" title="{e(tip, quote=True)}">'
            f'<span class="k360-svc-name">{e(svc.name(lang))}{badge}</span>'
            f'<span class="k360-svc-law">{e(svc.legal_basis)}</span></div>'
        )
        conflict = set()
        for issue in issues:
            if issue.name == "several_accountable":
                conflict.update(issue.actors)
        svc_class = f"k360-svc-{_safe_class(sid)}"
        for j, actor in enumerate(cat.actors):
            role = self.matrix.get(sid, actor.id, area)
            classes = [
                "k360-cell",
                f"k360-role-{role or 'none'}",
                svc_class,
                f"k360-act-{_safe_class(actor.id)}",
            ]
            if actor.id in conflict:
                classes.append("k360-cell-conflict")
            if self.matrix.is_override(sid, actor.id, area):
                classes.append("k360-cell-override")
            button = row.cells[j]
            new = tuple(classes)
            if row.classes[j] != new:
                button._dom_classes = new
                row.classes[j] = new
            desc = role or "·"
            if button.description != desc:
                button.description = desc
            tooltip = f"{svc.name(lang)} × {actor.name(lang)}: {t(f'resp.role.{role}', lang) if role else t('resp.ui.no_role', lang)}"
            if button.tooltip != tooltip:
                button.tooltip = tooltip

    def _render_summary(self) -> None:
        lang = self.lang
        c = self.report.counts()
        scope = (
            t("resp.ui.scope_area", lang, area=self._area_label())
            if self._area
            else t("resp.ui.citywide", lang)
        )
        chips = [
            f'<span class="k360-chip k360-chip-gap" data-count="{c["gaps"]}">{html.escape(t("resp.ui.n_gaps", lang, n=c["gaps"]))}</span>',
            f'<span class="k360-chip k360-chip-warning" data-count="{c["overlaps"]}">{html.escape(t("resp.ui.n_overlaps", lang, n=c["overlaps"]))}</span>',
            f'<span class="k360-chip k360-chip-error" data-count="{c["errors"]}">{html.escape(t("resp.ui.n_errors", lang, n=c["errors"]))}</span>',
            f'<span class="k360-chip k360-chip-warning" data-count="{c["warnings"]}">{html.escape(t("resp.ui.n_warnings", lang, n=c["warnings"]))}</span>',
        ]
        self._summary.value = (
            f'<div class="k360-summary" data-gaps="{c["gaps"]}" data-errors="{c["errors"]}">'
            f"<b>{html.escape(scope)}</b>: {''.join(chips)}</div>"
        )

    def _render_issues(self) -> None:
        lang, cat = self.lang, self.catalog
        issues = sorted(
            self.report.issues,
            key=lambda i: (i.level != "error", cat.service_order(i.service or "")),
        )
        if not issues:
            self._issues.value = self._message_html("ok", t("resp.ui.no_issues", lang))
            return
        items = []
        for issue in issues[:_MAX_ISSUES]:
            items.append(
                f'<li class="k360-issue k360-issue-{issue.level}" data-kind="{issue.kind}" '
                f'data-check="{issue.name}" data-service="{html.escape(issue.service or "", quote=True)}">'
                f"<b>{html.escape(t('level.' + issue.level, lang))}</b>: {html.escape(issue.message(cat, lang))}</li>"
            )
        more = len(issues) - _MAX_ISSUES
        if more > 0:
            items.append(f"<li>{html.escape(t('resp.ui.more', lang, n=more))}</li>")
        self._issues.value = f'<ul class="k360-issues">{"".join(items)}</ul>'

    def _area_label(self) -> str:
        if self._area is None or self.atlas is None:
            return ""
        areas = self.atlas.areas
        names = dict(zip(areas["area_id"].astype(str), areas["name"].astype(str)))
        return f"{self._area} {names.get(self._area, '')}".strip()

    def _recheck(self) -> None:
        self.report = check(self.matrix, area=self._area)

    def _refresh_all(self) -> None:
        """Recompute the checks and redraw the grid and the visible tab; mark the rest stale."""
        self._recheck()
        self._dirty = set(TAB_KEYS)
        self._layout_grid()
        self._render_summary()
        self._render_issues()
        self._dirty.discard("matrix")
        self._render_current()

    def _render_current(self) -> None:
        key = TAB_KEYS[self._tab.selected_index or 0]
        if key in self._dirty:
            {
                "matrix": lambda: None,
                "chain": self._render_chain,
                "network": self._render_network,
                "perspectives": self._render_perspectives,
                "map": self._render_map,
            }[key]()
            self._dirty.discard(key)

    # -- events: matrix ------------------------------------------------------------------------
    @_guarded
    def _on_tab(self, change) -> None:
        self._render_current()

    @_guarded
    def _on_area(self, change) -> None:
        self._area = change["new"] or None
        self._refresh_all()

    @_guarded
    def _on_filter(self, change) -> None:
        self._page = 0
        self._layout_grid()

    @_guarded
    def _turn(self, step: int) -> None:
        self._page += step
        self._layout_grid()

    @_guarded
    def _on_cell(self, i: int, j: int, _button=None) -> None:
        if i >= len(self._page_services):
            return
        self.set_role(self._page_services[i], self.catalog.actor_ids[j], self._brush.value or None)

    def set_role(self, service: str, actor: str, role: str | None) -> None:
        """Set a role in the shown scope (city-wide or the chosen area) and refresh.

        Raises
        ------
        DataError
            Unknown service or actor, or an invalid role.
        """
        self.matrix.set(service, actor, role, area=self._area)
        self._after_edit(service)

    def _after_edit(self, service: str | None = None) -> None:
        self._recheck()
        if self._f_issues.value or self._f_actor.value:
            self._layout_grid()  # membership of the filtered rows may change
        elif service in self._page_services:
            self._update_row(
                self._page_services.index(service),
                service,
                self.report.by_service().get(service, []),
            )
        self._render_summary()
        self._render_issues()
        self._links.value = ""  # exports are stale
        self._dirty = set(TAB_KEYS) - {"matrix"}
        self._sync_editor_role()

    @_guarded
    def _on_editor_pick(self, change) -> None:
        if not self._busy:
            self._sync_editor_role()

    def _sync_editor_role(self) -> None:
        sid, aid = self._e_service.value, self._e_actor.value
        if sid and aid:
            self._e_role.value = self.matrix.get(sid, aid, self._area) or ""

    @_guarded
    def _on_editor_set(self, _button) -> None:
        sid, aid = self._e_service.value, self._e_actor.value
        if not sid or not aid:
            return
        self.set_role(sid, aid, self._e_role.value or None)

    @_guarded
    def _on_reset_default(self, _button) -> None:
        self.matrix.update(self.catalog.default_matrix())
        self._refresh_all()
        self._show_message("ok", t("resp.ui.reset_done", self.lang))

    @_guarded
    def _on_clear(self, _button) -> None:
        self.matrix.clear()
        self._refresh_all()
        self._show_message("ok", t("resp.ui.cleared", self.lang))

    @_guarded
    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0]
        name = str(f.get("name") or "upload")
        try:
            self.load_bytes(bytes(f["content"]), name)
        finally:
            self._upload.value = ()

    def load_bytes(self, data: bytes, filename: str) -> Matrix:
        """Replace the matrix by the one in ``data`` (XLSX, JSON or CSV), all or nothing.

        On any problem the current matrix stays as it is and the error is shown.

        Returns
        -------
        Matrix
            The (now current) matrix.

        Raises
        ------
        K360Error
            If the file cannot be read (the board shows the message too).
        """
        try:
            new = read_matrix(data, filename, self.catalog)
        except K360Error as err:
            self._show_error(err)
            raise
        changed = len(self.matrix.diff(new))
        self.matrix.update(new)
        self._refresh_all()
        self._show_message(
            "ok",
            t(
                "resp.ui.loaded",
                self.lang,
                file=filename,
                n=len(new),
                n_areas=new.n_overrides,
                changed=changed,
            ),
        )
        return self.matrix

    @_guarded
    def _on_export(self, _button) -> None:
        self._links.value = self.export_links()

    def export_links(self) -> str:
        """Return download links (``data:`` URIs) for XLSX, empty template, JSON and CSV."""
        lang = self.lang
        stem = t("resp.ui.file_stem", lang)
        parts = [
            _data_link(
                to_xlsx(self.matrix, lang), XLSX_MIME, f"{stem}.xlsx", "XLSX", "k360-download-xlsx"
            ),
            _data_link(
                to_xlsx(self.matrix, lang, empty=True),
                XLSX_MIME,
                f"{stem}_{t('resp.ui.template_stem', lang)}.xlsx",
                t("resp.ui.template", lang),
                "k360-download-template",
            ),
            _data_link(
                to_json(self.matrix).encode("utf-8"),
                "application/json",
                f"{stem}.json",
                "JSON",
                "k360-download-json",
            ),
            _data_link(
                ("\ufeff" + to_csv(self.matrix)).encode("utf-8"),
                "text/csv",
                f"{stem}.csv",
                "CSV",
                "k360-download-csv",
            ),
        ]
        return f'<div class="k360-downloads">{"".join(parts)}</div>'

    # -- chain -----------------------------------------------------------------------------------
    def _render_chain(self) -> None:
        lang, cat = self.lang, self.catalog
        services = cat.filter_services(target_group=self._c_target.value or None)
        chain = prevention_chain(self.matrix, area=self._area, services=services)
        title = t("resp.chain.title", lang)
        if self._area:
            title += f" – {self._area_label()}"
        svg = chain_svg(chain, cat, lang, title=title)
        link = (
            f'<a class="k360-download k360-download-chain" download="{html.escape(t("resp.ui.chain_file", lang), quote=True)}.svg" '
            f'href="{svg_data_uri(svg)}">{html.escape(t("resp.ui.download_svg", lang))}</a>'
        )
        self._chain.value = f'<div class="k360-scroll">{svg}</div>{link}'
        rows = []
        names = lambda ids: ", ".join(cat.actor(a).name(lang) for a in ids) or "–"  # noqa: E731
        for h in chain.handoffs:
            rows.append(
                f'<tr data-from="{h.from_phase}" data-to="{h.to_phase}" data-status="{h.status}">'
                f"<td>{html.escape(phase_label(h.from_phase, lang))} → {html.escape(phase_label(h.to_phase, lang))}</td>"
                f"<td>{html.escape(t(f'resp.chain.status_{h.status}', lang))}</td>"
                f"<td>{html.escape(names(h.continuing))}</td>"
                f"<td>{html.escape(names(h.unlinked))}</td>"
                f"<td>{html.escape(names(h.entering))}</td></tr>"
            )
        head = "".join(
            f"<th>{html.escape(t(f'resp.ui.handoff_{k}', lang))}</th>"
            for k in ("transition", "status", "continuing", "unlinked", "entering")
        )
        self._chain_table.value = (
            f"<h3>{html.escape(t('resp.ui.handoffs', lang))}</h3>"
            f'<table class="k360-table k360-handoffs"><tr>{head}</tr>{"".join(rows)}</table>'
        )

    # -- network ---------------------------------------------------------------------------------
    def _render_network(self) -> None:
        lang, cat = self.lang, self.catalog
        roles = ROLES if self._n_roles.value == "all" else ("A", "AR", "R")
        net = actor_network(
            self.matrix, area=self._area, roles=roles, min_shared=int(self._n_min.value)
        )
        pos = network_layout(net, method=self._n_layout.value, seed=0)
        focus = self._n_focus.value or None
        if focus and net.node(focus) is None:
            focus = None
        svg = network_svg(net, pos, cat, lang, focus=focus, title=t("resp.net.title", lang))
        link = (
            f'<a class="k360-download k360-download-network" download="{html.escape(t("resp.ui.network_file", lang), quote=True)}.svg" '
            f'href="{svg_data_uri(svg)}">{html.escape(t("resp.ui.download_svg", lang))}</a>'
        )
        self._network.value = f'<div class="k360-scroll">{svg}</div>{link}'
        e = html.escape
        if focus:
            rows = []
            for itf in interfaces(self.matrix, focus, area=self._area, roles=roles):
                services = "; ".join(
                    f"{cat.service(s).name(lang)} ({own}/{other})" for s, own, other in itf.services
                )
                rows.append(
                    f'<tr data-partner="{e(itf.partner, quote=True)}"><td>{e(cat.actor(itf.partner).name(lang))}</td>'
                    f"<td>{itf.n}</td><td>{e(services)}</td></tr>"
                )
            head = (
                f"<tr><th>{e(t('resp.ui.partner', lang))}</th><th>{e(t('resp.ui.n_shared', lang))}</th>"
                f"<th>{e(t('resp.ui.shared_services', lang))}</th></tr>"
            )
            title = t("resp.ui.interfaces_of", lang, actor=cat.actor(focus).name(lang))
        else:
            rows = [
                f"<tr><td>{e(cat.actor(edge.a).name(lang))}</td><td>{e(cat.actor(edge.b).name(lang))}</td>"
                f"<td>{edge.weight}</td></tr>"
                for edge in net.edges[:15]
            ]
            head = (
                f"<tr><th>{e(t('resp.ui.actor', lang))}</th><th>{e(t('resp.ui.partner', lang))}</th>"
                f"<th>{e(t('resp.ui.n_shared', lang))}</th></tr>"
            )
            title = t("resp.ui.top_interfaces", lang)
        self._network_table.value = f'<h3>{e(title)}</h3><table class="k360-table k360-interfaces">{head}{"".join(rows)}</table>'

    # -- perspectives ------------------------------------------------------------------------------
    def _unique_name(self, name: str) -> str:
        base = name.strip() or t("resp.ui.persp_default", self.lang)
        out, n = base, 2
        while out in self.perspectives:
            out, n = f"{base} ({n})", n + 1
        return out

    def add_perspective(self, matrix: Matrix, name: str | None = None) -> str:
        """Add a matrix as a perspective; return its (unique) name."""
        key = self._unique_name(name if name is not None else matrix.name)
        self.perspectives[key] = matrix.copy(name=key)
        self._after_perspectives()
        return key

    @_guarded
    def _on_persp_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        lang = self.lang
        added, failed = [], []
        try:
            for f in files:
                fname = str(f.get("name") or "upload")
                try:
                    m = read_matrix(bytes(f["content"]), fname, self.catalog)
                except K360Error as err:
                    if isinstance(err, ReportError):
                        failed.extend(x.message(lang) for x in err.report.errors[:8])
                    else:
                        failed.append(err.message(lang))
                    continue
                key = self._unique_name(m.name)
                self.perspectives[key] = m.copy(name=key)
                added.append(key)
        finally:
            self._p_upload.value = ()
        self._after_perspectives()
        if failed:
            self._show_message(
                "error", t("resp.ui.persp_failed", lang, n_ok=len(added)), failed, self._p_status
            )
        else:
            self._show_message(
                "ok", t("resp.ui.persp_added", lang, names=", ".join(added)), None, self._p_status
            )

    @_guarded
    def _on_persp_add(self, _button) -> None:
        key = self.add_perspective(
            self.matrix, self._p_name.value or t("resp.ui.persp_current", self.lang)
        )
        self._p_name.value = ""
        self._show_message(
            "ok", t("resp.ui.persp_added", self.lang, names=key), None, self._p_status
        )

    @_guarded
    def _on_persp_remove(self, _button) -> None:
        key = self._p_remove_dd.value
        if key in self.perspectives:
            del self.perspectives[key]
            self._after_perspectives()

    @_guarded
    def _on_persp_clear(self, _button) -> None:
        self.perspectives.clear()
        self._after_perspectives()
        self._p_status.value = ""

    def _after_perspectives(self) -> None:
        self._p_remove_dd.options = list(self.perspectives)
        self._render_perspectives()
        self._dirty.discard("perspectives")

    def _render_perspectives(self) -> None:
        lang, cat = self.lang, self.catalog
        e = html.escape
        names = list(self.perspectives)
        if names:
            items = "".join(
                f'<li data-name="{e(n, quote=True)}"><b>{e(n)}</b>: {e(t("resp.ui.persp_roles", lang, n=len(m), n_areas=m.n_overrides))}</li>'
                for n, m in self.perspectives.items()
            )
            self._p_list.value = f"<h3>{e(t('resp.ui.persp_list', lang))}</h3><ul>{items}</ul>"
        else:
            self._p_list.value = ""
        if len(names) < 2:
            self._p_result.value = f'<div class="k360-summary k360-persp-hint">{e(t("resp.ui.persp_need_two", lang))}</div>'
            return
        cmp = compare(self.perspectives, area=self._area)
        parts = [
            f"<h3>{e(t('resp.ui.persp_summary', lang))}</h3>"
            f'<div class="k360-summary k360-persp-overall" data-agreement="{cmp.overall_agreement:.3f}" '
            f'data-disagreements="{len(cmp.disagreements)}">'
            f"{e(t('resp.ui.persp_overall', lang, pct=round(100 * cmp.overall_agreement), n_cells=len(cmp.cells), n=len(cmp.disagreements), n_conflicts=len(cmp.accountability_conflicts)))}</div>"
        ]
        if cmp.accountability_conflicts:
            head = (
                f"<tr><th>{e(t('resp.ui.service', lang))}</th>"
                + "".join(f"<th>{e(n)}</th>" for n in names)
                + "</tr>"
            )
            rows = []
            for c in cmp.accountability_conflicts:
                cells = "".join(
                    f"<td>{e(', '.join(cat.actor(a).name(lang) for a in acc) or t('resp.ui.nobody', lang))}</td>"
                    for _, acc in c.accountable
                )
                rows.append(
                    f'<tr data-service="{e(c.service, quote=True)}"><td>{e(cat.service(c.service).name(lang))}</td>{cells}</tr>'
                )
            parts.append(
                f"<h3>{e(t('resp.ui.persp_conflicts', lang))}</h3>"
                f'<div class="k360-scroll"><table class="k360-table k360-acc-conflicts">{head}{"".join(rows)}</table></div>'
            )
        head = (
            f"<tr><th>#</th><th>{e(t('resp.ui.service', lang))}</th><th>{e(t('resp.ui.actor', lang))}</th>"
            + "".join(f"<th>{e(n)}</th>" for n in names)
            + f"<th>{e(t('resp.ui.agreement', lang))}</th></tr>"
        )
        rows = []
        for rank, c in enumerate(cmp.disagreements[:_MAX_DISAGREEMENTS], start=1):
            answers = "".join(f"<td>{_role_chip(r)}</td>" for _, r in c.answers)
            rows.append(
                f'<tr class="k360-disagreement" data-rank="{rank}" data-service="{e(c.service, quote=True)}" '
                f'data-actor="{e(c.actor, quote=True)}"><td>{rank}</td><td>{e(cat.service(c.service).name(lang))}</td>'
                f"<td>{e(cat.actor(c.actor).name(lang))}</td>{answers}<td>{round(100 * c.agreement)} %</td></tr>"
            )
        more = len(cmp.disagreements) - _MAX_DISAGREEMENTS
        tail = (
            f'<div class="k360-summary">{e(t("resp.ui.more", lang, n=more))}</div>'
            if more > 0
            else ""
        )
        if rows:
            parts.append(
                f"<h3>{e(t('resp.ui.persp_disagreements', lang))}</h3>"
                f'<div class="k360-scroll"><table class="k360-table k360-disagreements">{head}{"".join(rows)}</table></div>{tail}'
            )
        else:
            parts.append(self._message_html("ok", t("resp.ui.persp_all_agree", lang)))
        pair_rows = "".join(
            f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{round(100 * v)} %</td></tr>"
            for (a, b), v in cmp.pairwise.items()
        )
        parts.append(
            f"<h3>{e(t('resp.ui.persp_pairwise', lang))}</h3>"
            f'<table class="k360-table k360-pairwise"><tr><th>{e(t("resp.ui.persp_a", lang))}</th>'
            f"<th>{e(t('resp.ui.persp_b', lang))}</th><th>{e(t('resp.ui.agreement', lang))}</th></tr>{pair_rows}</table>"
        )
        parts.append(
            _data_link(
                ("\ufeff" + comparison_csv(cmp, cat, lang)).encode("utf-8"),
                "text/csv",
                f"{t('resp.ui.persp_file', lang)}.csv",
                t("resp.ui.download_csv", lang),
                "k360-download-comparison",
            )
        )
        self._p_result.value = "".join(parts)

    # -- map -----------------------------------------------------------------------------------------
    @property
    def coverage(self):
        """Area coverage of place-based services (computed on first use; ``None`` without atlas)."""
        if self.atlas is None:
            return None
        near = float(self._m_near.value)
        if self._coverage is None or self._coverage_near != near:
            self._coverage = area_coverage(self.catalog, self.atlas, near_m=near)
            self._coverage_near = near
        return self._coverage

    @_guarded
    def _render_map(self) -> None:
        lang = self.lang
        if self.atlas is None:
            self._map_info.value = self._message_html("error", t("resp.ui.no_atlas", lang))
            return
        sid = self._m_service.value
        if not sid:
            return
        self._map.value = self.coverage_map(sid)
        counts = self.coverage.counts(sid)
        self._map_info.value = (
            f'<div class="k360-summary k360-map-counts" data-in="{counts["in"]}" data-near="{counts["near"]}" '
            f'data-none="{counts["none"]}">'
            + html.escape(
                t(
                    "resp.ui.map_counts",
                    lang,
                    n_in=counts["in"],
                    n_near=counts["near"],
                    n_none=counts["none"],
                    m=int(self._coverage_near or 0),
                )
            )
            + "</div>"
        )

    def _map_geometry(self) -> tuple[list[str], list[str], tuple[float, float, float, float]]:
        """Area ids, GeoJSON geometry texts (EPSG:4326, ~1 m precision) and bounds; cached."""
        if self._geometry is None:
            import numpy as np
            import shapely

            areas = self.atlas.areas
            metric = areas.to_crs(self.atlas.metric_crs())
            simple = metric.geometry.simplify(5.0, preserve_topology=True).to_crs(4326)
            geoms = [shapely.transform(g, lambda c: np.round(c, 5)) for g in simple.values]
            west, south, east, north = (float(v) for v in simple.total_bounds)
            self._geometry = (
                [str(a) for a in areas["area_id"]],
                [shapely.to_geojson(g) for g in geoms],
                (south, west, north, east),
            )
        return self._geometry

    def coverage_map(self, service: str, height: str = "560px") -> str:
        """Return the coverage map of ``service`` as an ``<iframe srcdoc>`` element.

        The map is an offline Leaflet document (:class:`k360lib.maps.OfflineMap`,
        no CDN): areas coloured by coverage status, matching facilities as
        dots, a legend, and a tooltip per area naming the status, the
        facilities and the responsible and accountable actors in that area.

        Raises
        ------
        DataError
            If the service is not place-based.
        """
        from k360lib.maps import OfflineMap, srcdoc_iframe

        lang, cat = self.lang, self.catalog
        cov = self.coverage
        status = cov.for_service(service)
        svc = cat.service(service)
        area_ids, geometries, (south, west, north, east) = self._map_geometry()
        e = html.escape
        features = []
        for aid, geom in zip(area_ids, geometries):
            st = status[aid]
            lines = [
                f'<div class="k360-tt-name">{e(aid)} {e(cov.area_names.get(aid, ""))}</div>',
                f"<div><b>{e(t(f'resp.coverage.{st}', lang))}</b></div>",
            ]
            fac = cov.facilities.get((aid, service), [])
            if fac:
                shown = ", ".join(fac[:4]) + (" …" if len(fac) > 4 else "")
                lines.append(
                    f'<div class="k360-tt-muted">{e(t("resp.map.facilities", lang, n=len(fac), names=shown))}</div>'
                )
            near = cov.nearest_m.get((aid, service))
            if st != "in" and near is not None:
                lines.append(
                    f'<div class="k360-tt-muted">{e(t("resp.map.nearest", lang, m=round(near)))}</div>'
                )
            who = ", ".join(
                cat.actor(a).short(lang)
                for a in self.matrix.actors_with(service, ("R", "AR"), area=aid)
            ) or t("resp.ui.nobody", lang)
            acc = ", ".join(
                cat.actor(a).short(lang)
                for a in self.matrix.actors_with(service, ("A", "AR"), area=aid)
            ) or t("resp.ui.nobody", lang)
            lines.append(f"<div>{e(t('resp.map.responsible', lang, who=who, acc=acc))}</div>")
            props = _script_json({"id": aid, "s": st, "t": "".join(lines)})
            features.append(
                '{"type":"Feature","properties":'
                + props
                + ',"geometry":'
                + _script_text(geom)
                + "}"
            )
        points = []
        fac = self.atlas.facilities
        if len(fac):
            sel = fac[fac["kind"].astype(str).isin(svc.facility_kinds)]
            sel = sel[sel.geometry.notna() & ~sel.geometry.is_empty]
            meta = self.atlas.meta.get("facility_kinds")
            meta = meta if isinstance(meta, dict) else {}
            for _, row in sel.iterrows():
                kind = str(row["kind"])
                label = (
                    meta.get(kind, {}).get(lang, kind) if isinstance(meta.get(kind), dict) else kind
                )
                tip = f'<div class="k360-tt-name">{e(str(row["name"]))}</div><div>{e(label)}</div>'
                points.append([round(row.geometry.y, 5), round(row.geometry.x, 5), tip])
        counts = cov.counts(service)
        rows = "".join(
            f'<li><span class="k360-swatch" style="background:{COVERAGE_COLORS[s]}"></span>'
            f"{e(t(f'resp.coverage.{s}', lang))} ({counts[s]})</li>"
            for s in STATUSES
        )
        if points:
            rows += (
                '<li><span class="k360-swatch k360-swatch-dot"></span>'
                f"{e(t('resp.map.facility_legend', lang, n=len(points)))}</li>"
            )
        legend = (
            f'<div id="k360-legend" class="k360-legend" data-k360-service="{e(service, quote=True)}">'
            f'<div class="k360-legend-title">{e(svc.name(lang))}</div>'
            f'<div class="k360-legend-sub">{e(t("resp.map.subtitle", lang, m=int(cov.near_m)))}</div>'
            f"<ul>{rows}</ul>"
            f'<div class="k360-legend-sub">{e(t("resp.map.note", lang, kinds=", ".join(svc.facility_kinds)))}</div></div>'
        )
        m = OfflineMap(
            location=[(south + north) / 2, (west + east) / 2],
            zoom_start=12,
            control_scale=True,
            zoom_snap=0.25,
        )
        root = m.get_root()
        root.title = e(svc.name(lang))
        _CoverageLayer(
            features="[" + ",".join(features) + "]",
            colors=_script_json(COVERAGE_COLORS),
            points=_script_json(points),
            legend=legend,
        ).add_to(m)
        if area_ids:
            m.fit_bounds([[south, west], [north, east]])
        return srcdoc_iframe(
            root.render(),
            title=t("resp.map.frame_title", lang, service=svc.name(lang)),
            height=height,
            element_id=MAP_FRAME_ID,
            data={"service": service, "areas": len(area_ids)},
        )


def _script_text(text: str) -> str:
    """Make serialised JSON safe inside ``<script>`` (no ``<``, ``>``, U+2028/9)."""
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _script_json(obj) -> str:
    import json

    return _script_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


class _CoverageLayer(MacroElement):
    """Areas coloured by coverage status, facility dots and a legend (all data inline)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .k360-legend{background:rgba(255,255,255,.95);padding:8px 10px;border-radius:4px;
         box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
         color:#222;max-width:300px;}
        .k360-legend-title{font-weight:600;font-size:13px;margin-bottom:2px;}
        .k360-legend-sub{color:#555;margin:2px 0 4px 0;}
        .k360-legend ul{list-style:none;margin:0;padding:0;}
        .k360-legend li{display:flex;align-items:center;gap:6px;margin:2px 0;}
        .k360-swatch{display:inline-block;width:18px;height:12px;border:1px solid #777;flex:none;}
        .k360-swatch-dot{width:9px;height:9px;border-radius:50%;background:#000;margin:0 5px;}
        .k360-tooltip{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;}
        .k360-tooltip .k360-tt-name{font-weight:600;font-size:13px;}
        .k360-tooltip .k360-tt-muted{color:#555;}
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        {{ this.legend }}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var colors = {{ this.colors }};
            var layer = L.geoJSON({"type": "FeatureCollection", "features": {{ this.features }}}, {
                style: function (f) {
                    return {color: "#4d4d4d", weight: 0.8, opacity: 1, fillOpacity: 0.75,
                            fillColor: colors[f.properties.s], className: "k360-area k360-cov-" + f.properties.s};
                },
                onEachFeature: function (f, l) {
                    l.bindTooltip(f.properties.t, {sticky: true, className: "k360-tooltip"});
                }
            }).addTo({{ this._parent.get_name() }});
            layer.eachLayer(function (l) {
                if (l._path) {
                    l._path.setAttribute("data-k360-area", l.feature.properties.id);
                    l._path.setAttribute("data-k360-status", l.feature.properties.s);
                }
            });
            {{ this.points }}.forEach(function (p) {
                L.circleMarker([p[0], p[1]], {radius: 4, weight: 1, color: "#ffffff", fillColor: "#000000",
                    fillOpacity: 0.9, className: "k360-facility"}).bindTooltip(p[2], {className: "k360-tooltip"})
                    .addTo({{ this._parent.get_name() }});
            });
            var ctl = L.control({position: "bottomright"});
            ctl.onAdd = function () {
                var div = document.getElementById("k360-legend");
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, features: str, colors: str, points: str, legend: str):
        super().__init__()
        self._name = "K360CoverageLayer"
        self.features = features
        self.colors = colors
        self.points = points
        self.legend = legend
