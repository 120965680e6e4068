"""Persistence and exchange of responsibility matrices: JSON, CSV and an XLSX template.

Formats
-------
JSON
    :meth:`Matrix.to_dict` as text (``"format": "k360-responsibility"``).
CSV (long)
    ``;``-separated, UTF-8, header ``area_id;service_id;actor_id;role``.
    ``area_id`` empty = city-wide; in an area row, role ``-`` removes the
    city-wide role in that area.
XLSX (template, download – fill in – upload)
    Sheet ``Matrix``: row 1 holds actor ids from column D on, row 2 their
    names; from row 3 column A holds the service id, B its name, C its legal
    basis and D… the role codes. Every role cell carries a data-validation
    list (``R, A, AR, C, I``). Sheet ``Sozialräume``/``Areas``: area
    overrides (``area_id, service_id, actor_id, role``; role ``-`` = no role
    in that area). Sheets ``Leistungen``/``Services``, ``Akteure``/``Actors``
    and ``Hinweise``/``Notes`` are for reading only.

Imports are all-or-nothing: a file with any unknown actor, unknown service or
invalid role code raises :class:`~k360lib.errors.ReportError` listing every
problem with its sheet and cell (e.g. "Blatt Matrix, Zelle D7"), and no
matrix is returned.

Examples
--------
>>> from k360lib.responsibility import load_catalog
>>> cat = load_catalog()
>>> m = cat.default_matrix()
>>> from_xlsx(to_xlsx(m), cat) == m
True
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import PurePath

from k360lib.errors import DataError
from k360lib.i18n import normalize_lang, t
from k360lib.responsibility.catalog import phase_label, sector_label, target_group_label
from k360lib.responsibility.matrix import NO_ROLE, ROLES, Matrix, normalize_role

__all__ = [
    "CSV_COLUMNS",
    "FIRST_ACTOR_COLUMN",
    "FIRST_DATA_ROW",
    "MAX_ERRORS",
    "SHEET_NAMES",
    "XLSX_MIME",
    "comparison_csv",
    "from_csv",
    "from_json",
    "from_xlsx",
    "read_matrix",
    "to_csv",
    "to_json",
    "to_xlsx",
]

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: columns of the long CSV format
CSV_COLUMNS: tuple[str, ...] = ("area_id", "service_id", "actor_id", "role")
#: sheet names per language; imports accept either language
SHEET_NAMES: dict[str, dict[str, str]] = {
    "matrix": {"de": "Matrix", "en": "Matrix"},
    "areas": {"de": "Sozialräume", "en": "Areas"},
    "services": {"de": "Leistungen", "en": "Services"},
    "actors": {"de": "Akteure", "en": "Actors"},
    "notes": {"de": "Hinweise", "en": "Notes"},
}
#: column (1-based) of the first actor in sheet Matrix (D)
FIRST_ACTOR_COLUMN = 4
#: first row (1-based) with a service in sheet Matrix
FIRST_DATA_ROW = 3
#: an import stops collecting problems after this many
MAX_ERRORS = 50
_NAME_CELL = "B3"  # perspective name in the notes sheet

_ROLE_FILLS = {
    "A": ("08519C", "FFFFFF"),
    "AR": ("3F007D", "FFFFFF"),
    "R": ("6BAED6", "000000"),
    "C": ("C7E9C0", "000000"),
    "I": ("EEEEEE", "000000"),
}


# -- JSON ------------------------------------------------------------------------------
def to_json(matrix: Matrix) -> str:
    """Return ``matrix`` as JSON text (deterministic, UTF-8 characters kept)."""
    return json.dumps(matrix.to_dict(), ensure_ascii=False, indent=1) + "\n"


def from_json(text: str | bytes, catalog, *, file: str | None = None) -> Matrix:
    """Read a matrix from :func:`to_json` text.

    Raises
    ------
    DataError
        Not JSON, not a k360 matrix, or an unknown service/actor or invalid role.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        text = _decode(bytes(text))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError("resp.io.bad_json", file=file, detail=str(exc)) from None
    return Matrix.from_dict(data, catalog, file=file)


# -- CSV -------------------------------------------------------------------------------
def to_csv(matrix: Matrix) -> str:
    """Return ``matrix`` in the long CSV format (``;``-separated, one row per role)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for s, a, r in matrix.iter_base():
        w.writerow(["", s, a, r])
    for area, s, a, r in matrix.iter_overrides():
        w.writerow([area, s, a, NO_ROLE if r is None else r])
    return buf.getvalue()


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def from_csv(text: str | bytes, catalog, *, file: str | None = None, name: str = "") -> Matrix:
    """Read a matrix from the long CSV format (delimiter ``;``, ``,`` or tab).

    Raises
    ------
    ReportError
        Listing every problem (missing column, unknown service or actor,
        invalid role) with row and column; nothing is returned.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        text = _decode(bytes(text))
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(";,\t", key=first.count) if first else ";"
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    report = _report()
    rows = list(reader)
    if not rows:
        raise DataError("resp.io.empty_file", file=file)
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in CSV_COLUMNS[1:] if c not in header]
    if missing:
        raise DataError("resp.io.csv_columns", file=file, columns=", ".join(missing))
    idx = {c: header.index(c) for c in CSV_COLUMNS if c in header}
    m = Matrix(catalog, name=name)
    overrides = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue

        def cell(col: str, row=row) -> str:
            i = idx.get(col)
            return row[i].strip() if i is not None and i < len(row) else ""

        area, service, actor = cell("area_id"), cell("service_id"), cell("actor_id")
        ok = True
        if not catalog.has_service(service):
            ok = False
            report.error(
                "resp.unknown_service",
                where={"file": file, "row": line, "column": "service_id"},
                service=service,
                known=_few(catalog.service_ids),
            )
        if not catalog.has_actor(actor):
            ok = False
            report.error(
                "resp.unknown_actor",
                where={"file": file, "row": line, "column": "actor_id"},
                actor=actor,
                known=_few(catalog.actor_ids),
            )
        try:
            role = normalize_role(cell("role"), allow_none=bool(area))
        except DataError as err:
            ok = False
            report.error(err.key, where={"file": file, "row": line, "column": "role"}, **err.params)
        if len(report.errors) >= MAX_ERRORS:
            break
        if not ok:
            continue
        if area:
            overrides.append((area, service, actor, role))
        elif role is not None:
            m.set(service, actor, role)
    report.raise_if_errors()
    for area, service, actor, role in overrides:
        m.set(service, actor, role or NO_ROLE, area=area)
    return m


# -- XLSX ------------------------------------------------------------------------------
def _col(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def to_xlsx(matrix: Matrix, lang: str | None = None, *, empty: bool = False) -> bytes:
    """Return ``matrix`` as an XLSX template (bytes).

    Parameters
    ----------
    matrix : Matrix
    lang : str, optional
        Language of sheet names, labels and notes.
    empty : bool, default False
        Write an empty template (all services and actors, no roles).

    Returns
    -------
    bytes
        The workbook; :func:`from_xlsx` reads it back to an equal matrix.
    """
    from openpyxl import Workbook
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    lang = normalize_lang(lang)
    cat = matrix.catalog
    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="E8E8E8")
    wrap = Alignment(wrap_text=True, vertical="top")

    # --- Matrix ---
    ws = wb.active
    ws.title = SHEET_NAMES["matrix"][lang]
    ws.cell(1, 1, t("resp.xlsx.col_service_id", lang)).font = bold
    ws.cell(1, 2, t("resp.xlsx.col_service", lang)).font = bold
    ws.cell(1, 3, t("resp.xlsx.col_legal_basis", lang)).font = bold
    ws.cell(2, 3, t("resp.xlsx.actor_row", lang)).font = Font(italic=True)
    for j, actor in enumerate(cat.actors):
        col = FIRST_ACTOR_COLUMN + j
        c = _text_cell(ws, 1, col, actor.id)
        c.font = Font(bold=True, size=8)
        c.fill = head_fill
        n = _text_cell(ws, 2, col, actor.name(lang))
        n.alignment = Alignment(text_rotation=90, vertical="bottom", wrap_text=True)
        n.fill = head_fill
        ws.column_dimensions[_col(col)].width = 6
    ws.row_dimensions[2].height = 160
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 46
    ws.column_dimensions["C"].width = 30
    for i, svc in enumerate(cat.services):
        r = FIRST_DATA_ROW + i
        _text_cell(ws, r, 1, svc.id)
        _text_cell(ws, r, 2, svc.name(lang))
        _text_cell(ws, r, 3, svc.legal_basis)
        if not empty:
            for j, actor in enumerate(cat.actors):
                role = matrix.get(svc.id, actor.id)
                if role:
                    ws.cell(r, FIRST_ACTOR_COLUMN + j, role)
    last_col = _col(FIRST_ACTOR_COLUMN + max(len(cat.actors), 1) - 1)
    last_row = FIRST_DATA_ROW + max(len(cat.services), 1) - 1
    role_range = f"{_col(FIRST_ACTOR_COLUMN)}{FIRST_DATA_ROW}:{last_col}{last_row}"
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(ROLES) + '"',
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle=t("resp.xlsx.dv_error_title", lang),
        error=t("resp.xlsx.dv_error", lang, allowed=", ".join(ROLES)),
        promptTitle=t("resp.xlsx.dv_prompt_title", lang),
        prompt=t("resp.xlsx.dv_prompt", lang),
    )
    ws.add_data_validation(dv)
    dv.add(role_range)
    for role, (bg, fg) in _ROLE_FILLS.items():
        ws.conditional_formatting.add(
            role_range,
            CellIsRule(
                operator="equal",
                formula=[f'"{role}"'],
                fill=PatternFill("solid", fgColor=bg, bgColor=bg),
                font=Font(color=fg, bold=True),
            ),
        )
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, FIRST_ACTOR_COLUMN)

    # --- Sozialräume / Areas ---
    wa = wb.create_sheet(SHEET_NAMES["areas"][lang])
    for j, h in enumerate(CSV_COLUMNS, start=1):
        wa.cell(1, j, h).font = bold
    if not empty:
        for i, (area, s, a, r) in enumerate(matrix.iter_overrides(), start=2):
            for j, v in enumerate((area, s, a, NO_ROLE if r is None else r), start=1):
                _text_cell(wa, i, j, v)
    dv2 = DataValidation(
        type="list",
        formula1='"' + ",".join((*ROLES, NO_ROLE)) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=t("resp.xlsx.dv_error_title", lang),
        error=t("resp.xlsx.dv_error_area", lang, allowed=", ".join((*ROLES, NO_ROLE))),
    )
    wa.add_data_validation(dv2)
    dv2.add("D2:D2000")
    for col, width in zip("ABCD", (14, 30, 26, 8)):
        wa.column_dimensions[col].width = width

    # --- Leistungen / Services ---
    wsv = wb.create_sheet(SHEET_NAMES["services"][lang])
    heads = ("id", "name", "legal_basis", "level", "phases", "target_groups", "description")
    for j, h in enumerate(heads, start=1):
        c = wsv.cell(1, j, t(f"resp.xlsx.svc_{h}", lang))
        c.font = bold
        c.fill = head_fill
    for i, svc in enumerate(cat.services, start=2):
        values = (
            svc.id,
            svc.name(lang),
            svc.legal_basis,
            svc.level,
            ", ".join(phase_label(p, lang) for p in svc.phases),
            ", ".join(target_group_label(g, lang) for g in svc.target_groups),
            svc.description(lang),
        )
        for j, v in enumerate(values, start=1):
            _text_cell(wsv, i, j, v).alignment = wrap
    for col, width in zip("ABCDEFG", (26, 44, 34, 10, 30, 30, 80)):
        wsv.column_dimensions[col].width = width

    # --- Akteure / Actors ---
    wac = wb.create_sheet(SHEET_NAMES["actors"][lang])
    heads = ("id", "name", "short", "sector", "level", "description")
    for j, h in enumerate(heads, start=1):
        c = wac.cell(1, j, t(f"resp.xlsx.act_{h}", lang))
        c.font = bold
        c.fill = head_fill
    for i, actor in enumerate(cat.actors, start=2):
        values = (
            actor.id,
            actor.name(lang),
            actor.short(lang),
            sector_label(actor.sector, lang),
            actor.level,
            actor.description(lang),
        )
        for j, v in enumerate(values, start=1):
            _text_cell(wac, i, j, v).alignment = wrap
    for col, width in zip("ABCDEF", (24, 44, 8, 24, 10, 80)):
        wac.column_dimensions[col].width = width

    # --- Hinweise / Notes ---
    wn = wb.create_sheet(SHEET_NAMES["notes"][lang])
    wn.cell(1, 1, t("resp.xlsx.notes_title", lang)).font = Font(bold=True, size=14)
    wn.cell(3, 1, t("resp.xlsx.notes_name", lang)).font = bold
    _text_cell(wn, 3, 2, matrix.name)  # B3
    lines = [
        t("resp.xlsx.note_1", lang),
        t("resp.xlsx.note_2", lang),
        t("resp.xlsx.note_3", lang),
        t("resp.xlsx.note_4", lang, areas=SHEET_NAMES["areas"][lang]),
        "",
        *[f"{r}: {t(f'resp.role.{r}.long', lang)}" for r in ROLES],
    ]
    for i, text in enumerate(lines, start=5):
        wn.cell(i, 1, text).alignment = Alignment(wrap_text=True)
    wn.column_dimensions["A"].width = 110
    wn.column_dimensions["B"].width = 40

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _text_cell(ws, row: int, col: int, value):
    """Write ``value`` as text: a name starting with ``=`` must never become a formula."""
    cell = ws.cell(row, col, value)
    if isinstance(value, str) and value:
        cell.data_type = "s"
    return cell


def _sheet(wb, kind: str):
    for name in SHEET_NAMES[kind].values():
        if name in wb.sheetnames:
            return wb[name]
    return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def from_xlsx(data: bytes, catalog, *, file: str | None = None, name: str | None = None) -> Matrix:
    """Read a matrix from an XLSX template filled in by hand.

    Parameters
    ----------
    data : bytes
        The workbook.
    catalog : Catalog
    file : str, optional
        File name for messages.
    name : str, optional
        Name of the matrix; default the name in the notes sheet, else ``""``.

    Returns
    -------
    Matrix

    Raises
    ------
    DataError
        The file is not an XLSX workbook or has no sheet ``Matrix``.
    ReportError
        Unknown actors (row 1), unknown services (column A), invalid role
        codes, duplicates — every problem with sheet and cell; nothing of it
        is returned (all-or-nothing).
    """
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(io.BytesIO(bytes(data)), data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DataError("resp.io.not_xlsx", file=file, detail=type(exc).__name__) from None
    ws = _sheet(wb, "matrix")
    if ws is None:
        raise DataError(
            "resp.io.no_matrix_sheet",
            file=file,
            sheets=", ".join(wb.sheetnames),
            expected=SHEET_NAMES["matrix"]["de"],
        )
    report = _report()
    sheet = ws.title

    def where(cell: str) -> dict:
        return {"file": file, "sheet": sheet, "cell": cell}

    # actors in row 1, from column D
    actor_cols: dict[int, str] = {}
    seen_actors: dict[str, str] = {}
    max_col = ws.max_column
    for col in range(FIRST_ACTOR_COLUMN, max_col + 1):
        ref = f"{_col(col)}1"
        actor = _text(ws.cell(1, col).value)
        if not actor:
            has_values = any(
                _text(ws.cell(r, col).value) for r in range(FIRST_DATA_ROW, ws.max_row + 1)
            )
            if has_values:
                report.error("resp.io.column_without_actor", where=where(ref))
            continue
        if not catalog.has_actor(actor):
            report.error(
                "resp.unknown_actor", where=where(ref), actor=actor, known=_few(catalog.actor_ids)
            )
            continue
        if actor in seen_actors:
            report.error(
                "resp.io.duplicate_actor", where=where(ref), actor=actor, first=seen_actors[actor]
            )
            continue
        seen_actors[actor] = ref
        actor_cols[col] = actor

    m = Matrix(catalog, name=name or "")
    seen_services: dict[str, str] = {}
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        if len(report.errors) >= MAX_ERRORS:
            break
        service = _text(ws.cell(r, 1).value)
        values = {
            col: _text(ws.cell(r, col).value) for col in range(FIRST_ACTOR_COLUMN, max_col + 1)
        }
        if not service:
            if any(values.values()):
                report.error("resp.io.row_without_service", where=where(f"A{r}"))
            continue
        ref = f"A{r}"
        if not catalog.has_service(service):
            report.error(
                "resp.unknown_service",
                where=where(ref),
                service=service,
                known=_few(catalog.service_ids),
            )
            continue
        if service in seen_services:
            report.error(
                "resp.io.duplicate_service",
                where=where(ref),
                service=service,
                first=seen_services[service],
            )
            continue
        seen_services[service] = ref
        for col, text in values.items():
            if not text or col not in actor_cols:
                continue
            try:
                role = normalize_role(text)
            except DataError as err:
                report.error(err.key, where=where(f"{_col(col)}{r}"), **err.params)
                continue
            m.set(service, actor_cols[col], role)

    areas_ws = _sheet(wb, "areas")
    overrides = []
    if areas_ws is not None:
        asheet = areas_ws.title
        for r in range(2, areas_ws.max_row + 1):
            if len(report.errors) >= MAX_ERRORS:
                break
            area, service, actor, raw = (_text(areas_ws.cell(r, c).value) for c in range(1, 5))
            if not any((area, service, actor, raw)):
                continue
            loc = {"file": file, "sheet": asheet}
            ok = True
            if not area:
                report.error("resp.io.missing_area", where={**loc, "cell": f"A{r}"})
                ok = False
            if not catalog.has_service(service):
                report.error(
                    "resp.unknown_service",
                    where={**loc, "cell": f"B{r}"},
                    service=service,
                    known=_few(catalog.service_ids),
                )
                ok = False
            if not catalog.has_actor(actor):
                report.error(
                    "resp.unknown_actor",
                    where={**loc, "cell": f"C{r}"},
                    actor=actor,
                    known=_few(catalog.actor_ids),
                )
                ok = False
            try:
                role = normalize_role(raw, allow_none=True)
            except DataError as err:
                report.error(err.key, where={**loc, "cell": f"D{r}"}, **err.params)
                ok = False
            if ok:
                overrides.append((area, service, actor, role))
    report.raise_if_errors()
    for area, service, actor, role in overrides:
        m.set(service, actor, role or NO_ROLE, area=area)
    if name is None:
        notes = _sheet(wb, "notes")
        if notes is not None:
            m.name = _text(notes[_NAME_CELL].value)
    return m


def _report():
    # imported here: k360lib.atlas loads pandas/geopandas, which reading a matrix does not need
    from k360lib.atlas.report import ImportReport

    return ImportReport()


def _few(ids: list[str], n: int = 8) -> str:
    return ", ".join(ids[:n]) + (", …" if len(ids) > n else "")


# -- any file -----------------------------------------------------------------------------
def read_matrix(data: bytes, filename: str, catalog, *, name: str | None = None) -> Matrix:
    """Read a matrix from a file's bytes; the format follows the extension.

    Parameters
    ----------
    data : bytes
    filename : str
        ``.xlsx``, ``.json`` or ``.csv``.
    catalog : Catalog
    name : str, optional
        Name of the matrix; default the name stored in the file, else the
        file name without extension.

    Raises
    ------
    DataError, ReportError
        Unsupported extension or any problem in the file (all-or-nothing).
    """
    suffix = PurePath(filename).suffix.lower()
    stem = PurePath(filename).stem
    if suffix in {".xlsx", ".xlsm"}:
        m = from_xlsx(data, catalog, file=filename, name=name)
    elif suffix == ".json":
        m = from_json(data, catalog, file=filename)
    elif suffix in {".csv", ".txt"}:
        m = from_csv(data, catalog, file=filename)
    else:
        raise DataError("resp.io.unsupported", file=filename, suffix=suffix or "-")
    if name is not None:
        m.name = name
    elif not m.name:
        m.name = stem
    return m


def _csv_text(value) -> str:
    """Neutralise text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``)."""
    text = str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@"} and text != "-" else text


def comparison_csv(comparison, catalog, lang: str | None = None) -> str:
    """Return the ranked disagreements of a :class:`~k360lib.responsibility.perspectives.Comparison` as CSV.

    Columns: ``rank, service_id, service, actor_id, actor, agreement`` and one
    column per perspective with its role (``-`` = no role). Names that a
    spreadsheet would read as a formula are prefixed with ``'``.
    """
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    fixed = ["rank", "service_id", "service", "actor_id", "actor", "agreement"]
    w.writerow([*fixed, *(_csv_text(n) for n in comparison.names)])
    for row in comparison.to_rows(catalog, lang):
        w.writerow(
            [_csv_text(row[k]) if k in {"service", "actor"} else row[k] for k in fixed]
            + [row[n] for n in comparison.names]
        )
    return buf.getvalue()
