"""The import app: a city's own files into the atlas, for planners without Python.

Steps, all on one page:

1. upload the areas (GeoJSON, GeoPackage, zipped Shapefile, KML), one or more
   indicator tables (CSV/XLSX in German or English format) and optionally
   facilities; each file may be at most :data:`MAX_UPLOAD_BYTES`;
2. the importer (:func:`k360lib.atlas.io.import_atlas`) runs and its report is
   shown: errors, warnings and notes with file, row, column and key, in the UI
   language — never a traceback;
3. the user may choose the key and name column of the areas, per table the
   key column, the year and the value columns, and confirm the key mappings
   the importer proposes for keys it could not match; then import again;
4. "Im Atlas öffnen" shows the result in the :class:`AtlasExplorer` below.

Why 8 MB: ipywidgets sends an upload in one WebSocket message, and the
Jupyter server's default limit for one message is 10 MiB; a larger file
would be dropped without any message, so the app refuses it with one.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import tempfile
import weakref
from pathlib import Path

import ipywidgets as W

from k360lib.i18n import normalize_lang, t

__all__ = ["MAX_UPLOAD_BYTES", "ImportApp"]

log = logging.getLogger("k360.widgets")

#: largest file the app accepts (see the module docstring)
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
AREA_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".kml")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_AUTO = ""

_CSS = """<style>
.k360-app h2.k360-title{margin:0 0 4px 0;font-size:1.5em;font-weight:600;}
.k360-app .k360-hint{font-size:0.9em;color:#444;margin:2px 0 6px 0;}
.k360-app .k360-files{font-size:0.9em;margin:4px 0;}
.k360-app .k360-report{margin:6px 0;}
.k360-app .k360-report ul{margin:2px 0 6px 0;padding-left:1.2em;}
.k360-app .k360-report li{margin:1px 0;}
.k360-app .k360-report .k360-error-item{color:#8a1c14;}
.k360-app .k360-report .k360-warning-item{color:#7a4a00;}
.k360-app .k360-report .k360-info-item{color:#444;}
.k360-app .k360-report-title{font-weight:600;margin-top:6px;}
.k360-app .k360-error{background:#fdecea;border-left:4px solid #c62828;padding:6px 10px;margin:4px 0;color:#611a15;}
.k360-app .k360-ok{background:#e8f5e9;border-left:4px solid #2e7d32;padding:6px 10px;margin:4px 0;}
.k360-app h3.k360-step{font-size:1.1em;margin:12px 0 4px 0;}
</style>"""


def _esc(value) -> str:
    return html.escape(str(value))


def _safe_name(name: str) -> str:
    """Return a file name without folders or characters that could leave the upload folder."""
    base = Path(str(name).replace("\\", "/")).name
    base = re.sub(r"[^\w.\- ()äöüÄÖÜß]+", "_", base).strip(" .") or "upload"
    return base[:120]


def _size_text(n: int, lang: str) -> str:
    from k360lib.atlas.classify import format_number

    if n >= 1024 * 1024:
        return format_number(n / 1024 / 1024, "{:,.1f}", lang) + " MB"
    if n < 1024:
        return f"{n} B"
    return format_number(n / 1024, "{:,.0f}", lang) + " kB"


class ImportApp:
    """Upload a city's files, read the importer's report, fix choices, open the atlas.

    Parameters
    ----------
    lang : str, optional
        UI language; default the current UI language.
    max_bytes : int, default MAX_UPLOAD_BYTES
        Largest accepted file.
    threshold : int, default 3
        Small-number suppression threshold applied to the import.
    files : list of (role, name, bytes), optional
        Files to start with (as :meth:`add_file` takes them).
    city : str, optional
        The city's name.
    mapping : dict, optional
        Confirmed key mappings (table key -> area id) to import with.
    run : bool, default False
        Import ``files`` right away (and ``explore``: open the explorer on the result).

    Attributes
    ----------
    container : ipywidgets.VBox
        The whole app.
    atlas : Atlas or None
        The last successfully imported atlas.
    report : ImportReport or None
        The last import report.
    explorer : AtlasExplorer or None
        The explorer opened on the result.
    """

    def __init__(
        self,
        lang: str | None = None,
        max_bytes: int = MAX_UPLOAD_BYTES,
        threshold: int = 3,
        *,
        files=(),
        city: str = "",
        mapping: dict | None = None,
        run: bool = False,
        explore: bool = False,
    ):
        self.lang = lang = normalize_lang(lang)
        self.max_bytes = int(max_bytes)
        self.threshold = threshold
        self.atlas = None
        self.report = None
        self.explorer = None
        self._dir = Path(tempfile.mkdtemp(prefix="k360-import-"))
        weakref.finalize(self, shutil.rmtree, str(self._dir), True)
        self._areas_file: Path | None = None
        self._table_files: list[Path] = []
        self._fac_file: Path | None = None
        self._table_controls: dict[str, tuple] = {}
        self._mapping_boxes: dict[str, W.Checkbox] = {}
        self._mapping: dict = dict(mapping or {})  # confirmed mappings, kept across imports

        limit = _size_text(self.max_bytes, lang)
        self._header = W.HTML(
            f'{_CSS}<h2 class="k360-title">{_esc(t("widgets.import.title", lang))}</h2>'
            f'<div class="k360-hint">{_esc(t("widgets.import.intro", lang, limit=limit))}</div>'
        )
        self._up_areas = W.FileUpload(
            accept=",".join(AREA_SUFFIXES),
            multiple=False,
            description=t("widgets.import.areas", lang),
            layout=W.Layout(width="auto"),
        )
        self._up_tables = W.FileUpload(
            accept=",".join(TABLE_SUFFIXES),
            multiple=True,
            description=t("widgets.import.tables", lang),
            layout=W.Layout(width="auto"),
        )
        self._up_fac = W.FileUpload(
            accept=",".join(AREA_SUFFIXES),
            multiple=False,
            description=t("widgets.import.facilities", lang),
            layout=W.Layout(width="auto"),
        )
        for w, cls in (
            (self._up_areas, "k360-upload-areas"),
            (self._up_tables, "k360-upload-tables"),
            (self._up_fac, "k360-upload-facilities"),
        ):
            w.add_class(cls)
            w.observe(self._on_upload, names=["value"])
        self._city = W.Text(
            value="",
            placeholder=t("widgets.import.city_placeholder", lang),
            description=t("widgets.import.city", lang),
            style={"description_width": "initial"},
            layout=W.Layout(width="28em"),
        )
        self._files = W.HTML(self._files_html())
        self._run = W.Button(
            description=t("widgets.import.run", lang),
            button_style="primary",
            disabled=True,
            layout=W.Layout(width="auto"),
        )
        self._run.add_class("k360-import-run")
        self._run.on_click(lambda _b: self.run())
        self._report = W.HTML("")
        self._report.add_class("k360-import-report")

        # options (filled after a first run)
        wide = {"description_width": "initial"}
        self._area_key = W.Dropdown(
            options=[(t("widgets.import.auto", lang), _AUTO)],
            value=_AUTO,
            description=t("widgets.import.area_key", lang),
            style=wide,
            layout=W.Layout(width="30em"),
        )
        self._area_name = W.Dropdown(
            options=[(t("widgets.import.auto", lang), _AUTO)],
            value=_AUTO,
            description=t("widgets.import.area_name", lang),
            style=wide,
            layout=W.Layout(width="24em"),
        )
        self._tables_box = W.VBox([])
        self._mapping_box = W.VBox([])
        self._accept_all = W.Button(
            description=t("widgets.import.accept_all", lang), layout=W.Layout(width="auto")
        )
        self._accept_all.on_click(lambda _b: self._set_all_mappings(True))
        self._rerun = W.Button(
            description=t("widgets.import.rerun", lang),
            button_style="primary",
            layout=W.Layout(width="auto"),
        )
        self._rerun.add_class("k360-import-rerun")
        self._rerun.on_click(lambda _b: self.run())
        self._options = W.VBox(
            [
                W.HTML(
                    f'<h3 class="k360-step">{_esc(t("widgets.import.step_options", lang))}</h3>'
                    f'<div class="k360-hint">{_esc(t("widgets.import.options_hint", lang))}</div>'
                ),
                W.HBox([self._area_key, self._area_name]),
                self._tables_box,
                self._mapping_box,
                W.HBox([self._rerun]),
            ],
            layout=W.Layout(display="none"),
        )
        self._options.add_class("k360-import-options")
        self._open = W.Button(
            description=t("widgets.import.open", lang),
            button_style="success",
            disabled=True,
            layout=W.Layout(width="auto"),
        )
        self._open.add_class("k360-import-open")
        self._open.on_click(lambda _b: self.open_explorer())
        self._explorer_box = W.VBox([])
        self._explorer_box.add_class("k360-import-explorer")
        step = '<h3 class="k360-step">{}</h3>'
        self.container = W.VBox(
            [
                self._header,
                W.HTML(step.format(_esc(t("widgets.import.step_files", lang)))),
                W.HBox(
                    [self._up_areas, self._up_tables, self._up_fac],
                    layout=W.Layout(flex_flow="row wrap"),
                ),
                self._city,
                self._files,
                W.HBox([self._run]),
                self._report,
                self._options,
                W.HBox([self._open]),
                self._explorer_box,
            ],
            layout=W.Layout(width="100%", max_width="1400px"),
        )
        self.container.add_class("k360-app")
        self.container.add_class("k360-import-app")
        self._city.value = city
        for role, name, content in files:
            self.add_file(role, name, content)
        if run and self._areas_file is not None:
            self.run()
            if explore:
                self.open_explorer()

    def relaunch_kwargs(self) -> dict:
        """Return what to keep when the app is built again (``AppShell``'s language switch).

        The uploaded files, the city name and confirmed key mappings; an import
        that was run is run again (its report then speaks the new language).
        """
        files = [
            (role, path.name, path.read_bytes())
            for role, paths in (
                ("areas", [self._areas_file]),
                ("table", self._table_files),
                ("facilities", [self._fac_file]),
            )
            for path in paths
            if path is not None and path.exists()
        ]
        return {
            "files": files,
            "city": self._city.value,
            "mapping": dict(self._mapping),
            "run": self.report is not None,
            "explore": self.explorer is not None,
        }

    def close(self) -> None:
        """Stop the explorer opened on the result (its panels may still be computing)."""
        if self.explorer is not None:
            self.explorer.close()

    # -- uploads ---------------------------------------------------------------------------
    def add_file(self, role: str, name: str, content: bytes) -> Path | None:
        """Add an uploaded file (``role``: ``"areas"``, ``"table"`` or ``"facilities"``).

        Returns the stored path, or ``None`` when the file was refused (too
        large or of the wrong type; the reason is shown in the app).
        """
        lang = self.lang
        name = _safe_name(name)
        suffixes = TABLE_SUFFIXES if role == "table" else AREA_SUFFIXES
        if len(content) > self.max_bytes:
            self._problem(
                t(
                    "widgets.import.too_large",
                    lang,
                    file=name,
                    size=_size_text(len(content), lang),
                    limit=_size_text(self.max_bytes, lang),
                )
            )
            return None
        if not name.lower().endswith(suffixes):
            self._problem(
                t("widgets.import.bad_type", lang, file=name, allowed=", ".join(suffixes))
            )
            return None
        folder = self._dir / role
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_bytes(bytes(content))
        if role == "areas":
            self._areas_file = path
        elif role == "facilities":
            self._fac_file = path
        elif path not in self._table_files:
            self._table_files.append(path)
        self._files.value = self._files_html()
        self._run.disabled = self._areas_file is None
        return path

    def _on_upload(self, change) -> None:
        owner = change["owner"]
        role = {
            id(self._up_areas): "areas",
            id(self._up_tables): "table",
            id(self._up_fac): "facilities",
        }[id(owner)]
        self._report.value = ""
        for item in change["new"] or ():
            try:
                self.add_file(role, item["name"], bytes(item["content"]))
            except Exception as err:  # noqa: BLE001 - shown, never a traceback
                log.exception("k360 import: could not store an upload")
                self._problem(t("widgets.import.store_failed", self.lang, error=str(err)))

    def _problem(self, text: str) -> None:
        self._report.value += f'<div class="k360-error" role="alert">{_esc(text)}</div>'

    def _files_html(self) -> str:
        lang = self.lang
        parts = []
        for label, files in (
            (t("widgets.import.areas", lang), [self._areas_file] if self._areas_file else []),
            (t("widgets.import.tables", lang), self._table_files),
            (t("widgets.import.facilities", lang), [self._fac_file] if self._fac_file else []),
        ):
            names = ", ".join(
                f"{p.name} ({_size_text(p.stat().st_size, lang)})" for p in files if p.exists()
            )
            parts.append(f"<b>{_esc(label)}:</b> {_esc(names or t('widgets.import.none', lang))}")
        return f'<div class="k360-files">{"<br>".join(parts)}</div>'

    # -- import -----------------------------------------------------------------------------
    def run(self) -> None:
        """Run the importer with the current files and choices; show its report."""
        from k360lib.atlas.io import import_atlas
        from k360lib.atlas.report import ImportReport

        lang = self.lang
        if self._areas_file is None:
            self._report.value = f'<div class="k360-error" role="alert">{_esc(t("widgets.import.need_areas", lang))}</div>'
            return
        self._mapping.update({k: v for k, (box, v) in self._mapping_boxes.items() if box.value})
        mapping = dict(self._mapping)
        table_options = self._table_options()
        try:
            atlas, report = import_atlas(
                self._areas_file,
                list(self._table_files),
                facilities=self._fac_file,
                area_key=self._area_key.value or None,
                area_name=self._area_name.value or None,
                mapping=mapping or None,
                threshold=self.threshold,
                name=self._city.value.strip() or None,
                table_options=table_options,
            )
        except Exception as err:  # noqa: BLE001 - the report says what failed, no traceback
            log.exception("k360 import: unexpected error")
            atlas, report = None, ImportReport()
            report.error("widgets.import.crashed", error=f"{type(err).__name__}: {err}")
        self.atlas, self.report = atlas, report
        self._report.value = self._report_html(report, atlas)
        self._fill_options(report)
        self._open.disabled = atlas is None
        if atlas is None:
            self._explorer_box.children = ()
            self.explorer = None

    def _table_options(self) -> dict:
        out = {}
        for name, (key, year, cols) in self._table_controls.items():
            opts = {}
            if key.value:
                opts["key"] = key.value
            if year.value:
                opts["year"] = int(year.value)
            if cols.value:
                opts["columns"] = list(cols.value)
            if opts:
                out[name] = opts
        return out

    def _report_html(self, report, atlas) -> str:
        lang = self.lang
        errors = [f for f in report.findings if f.level == "error"]
        warnings = [f for f in report.findings if f.level == "warning"]
        infos = [f for f in report.findings if f.level == "info"]
        head = t(
            "widgets.import.summary",
            lang,
            errors=len(errors),
            warnings=len(warnings),
            infos=len(infos),
        )
        parts = [f'<div class="k360-report" data-k360-errors="{len(errors)}">']
        if atlas is not None:
            parts.append(
                f'<div class="k360-ok">{_esc(t("widgets.import.ok", lang, areas=len(atlas.areas), indicators=len(atlas.indicator_ids), facilities=len(atlas.facilities)))}</div>'
            )
        else:
            parts.append(
                f'<div class="k360-error" role="alert">{_esc(t("widgets.import.failed", lang))}</div>'
            )
        parts.append(f'<div class="k360-report-title">{_esc(head)}</div>')
        for level, items in (("error", errors), ("warning", warnings), ("info", infos)):
            if not items:
                continue
            parts.append(
                f'<div class="k360-report-title">{_esc(t("widgets.import.level." + level, lang))}</div><ul>'
            )
            parts.extend(
                f'<li class="k360-{level}-item">{_esc(f.message(lang))}</li>' for f in items
            )
            parts.append("</ul>")
        parts.append("</div>")
        return "".join(parts)

    def _fill_options(self, report) -> None:
        """Offer column choices and the proposed key mappings after a run."""
        from k360lib.atlas.tables import read_raw_table

        lang = self.lang
        auto = (t("widgets.import.auto", lang), _AUTO)
        cols = self._area_columns()
        for dd in (self._area_key, self._area_name):
            keep = dd.value
            dd.options = [auto, *[(c, c) for c in cols]]
            dd.value = keep if keep in cols else _AUTO
        rows = []
        old = self._table_controls
        self._table_controls = {}
        for path in self._table_files:
            try:
                raw, _ = read_raw_table(path)
                columns = [str(c) for c in raw.frame.columns]
            except Exception:  # noqa: BLE001 - the report already names the problem
                columns = []
            prev = old.get(path.name)
            key = W.Dropdown(
                options=[auto, *[(c, c) for c in columns]],
                value=prev[0].value if prev and prev[0].value in columns else _AUTO,
                description=t("widgets.import.table_key", lang),
                style={"description_width": "initial"},
                layout=W.Layout(width="22em"),
            )
            year = W.BoundedIntText(
                value=prev[1].value if prev else 0,
                min=0,
                max=2100,
                description=t("widgets.import.table_year", lang),
                style={"description_width": "initial"},
                layout=W.Layout(width="16em"),
            )
            chosen = tuple(c for c in (prev[2].value if prev else ()) if c in columns)
            values = W.SelectMultiple(
                options=columns,
                value=chosen,
                description=t("widgets.import.table_columns", lang),
                rows=min(6, max(2, len(columns))),
                style={"description_width": "initial"},
                layout=W.Layout(width="30em"),
            )
            self._table_controls[path.name] = (key, year, values)
            box = W.VBox(
                [
                    W.HTML(f"<b>{_esc(path.name)}</b>"),
                    W.HBox([key, year], layout=W.Layout(flex_flow="row wrap")),
                    values,
                ]
            )
            box.add_class("k360-import-table")
            rows.append(box)
        self._tables_box.children = rows

        proposal = dict(report.data.get("proposed_mapping") or {})
        names = self._area_names()
        # confirmed mappings stay offered (checked) even when the importer, now told
        # about them, no longer proposes them
        confirmed = {k: v for k, (box, v) in self._mapping_boxes.items() if box.value}
        proposal = {**confirmed, **{str(k): str(v) for k, v in proposal.items()}}
        self._mapping_boxes = {}
        boxes = []
        for key, area in proposal.items():
            box = W.Checkbox(
                value=key in confirmed,
                description=t(
                    "widgets.import.mapping_item",
                    lang,
                    key=key,
                    area=area,
                    name=names.get(str(area), ""),
                ),
                indent=False,
                layout=W.Layout(width="auto"),
            )
            box.add_class("k360-mapping")
            self._mapping_boxes[str(key)] = (box, str(area))
            boxes.append(box)
        if boxes:
            self._mapping_box.children = [
                W.HTML(
                    f'<div class="k360-report-title">{_esc(t("widgets.import.mapping_title", lang))}</div>'
                    f'<div class="k360-hint">{_esc(t("widgets.import.mapping_hint", lang))}</div>'
                ),
                *boxes,
                W.HBox([self._accept_all]),
            ]
        else:
            self._mapping_box.children = []
        self._options.layout.display = "" if (cols or rows or boxes) else "none"

    def _area_columns(self) -> list[str]:
        if self._areas_file is None:
            return []
        try:
            import geopandas as gpd

            path = self._areas_file
            src = f"zip://{path}" if path.suffix.lower() == ".zip" else str(path)
            gdf = gpd.read_file(src, rows=3)
            return [str(c) for c in gdf.columns if c != gdf.geometry.name]
        except Exception:  # noqa: BLE001 - unreadable: the report says why
            return []

    def _area_names(self) -> dict:
        if self.atlas is not None:
            return dict(
                zip(self.atlas.areas["area_id"].astype(str), self.atlas.areas["name"].astype(str))
            )
        try:
            from k360lib.atlas.io import read_areas

            gdf, _ = read_areas(
                self._areas_file,
                key=self._area_key.value or None,
                name=self._area_name.value or None,
            )
            if gdf is not None:
                return dict(zip(gdf["area_id"].astype(str), gdf["name"].astype(str)))
        except Exception:  # noqa: BLE001
            pass
        return {}

    def _set_all_mappings(self, value: bool) -> None:
        for box, _area in self._mapping_boxes.values():
            box.value = value

    # -- result ----------------------------------------------------------------------------------
    def open_explorer(self):
        """Show the imported atlas in an :class:`AtlasExplorer` below the import steps."""
        from k360lib.errors import K360Error
        from k360lib.widgets.atlas_explorer import AtlasExplorer

        if self.atlas is None:
            return None
        try:
            self.explorer = AtlasExplorer(self.atlas, lang=self.lang)
        except K360Error as err:
            self._problem(err.message(self.lang))
            return None
        except Exception as err:  # noqa: BLE001 - shown, never a traceback
            log.exception("k360 import: explorer failed")
            self._problem(t("widgets.unexpected", self.lang, error=f"{type(err).__name__}: {err}"))
            return None
        self._explorer_box.children = (self.explorer.container,)
        return self.explorer
