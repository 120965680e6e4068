"""Reading messy municipal tables: CSV and XLSX in German formats.

What real files bring, and what this module does about it:

- encodings: UTF-8, UTF-8 with BOM, UTF-16 with BOM, cp1252/latin-1 → detected;
- delimiters ``;`` ``,`` tab ``|`` → detected from consistent field counts;
- German numbers: ``1.374`` (thousands dot), ``35,5 %`` (decimal comma, unit
  suffix), ``−3`` (Unicode minus) → parsed per column, the decimal convention
  decided from the whole file;
- suppression marks ``–`` ``-`` ``.`` ``x`` ``*`` ``…`` and empty cells →
  ``suppressed``, never zero;
- title rows above the header, footnote rows below the data, files without a
  header row → detected and reported;
- every cell keeps its location (row number in the file, column letter in
  Excel) so messages can point at it.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from k360lib.atlas.report import ImportReport
from k360lib.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "SUPPRESSION_MARKS",
    "ParsedNumber",
    "RawTable",
    "decode_bytes",
    "detect_decimal",
    "parse_number",
    "read_raw_table",
]

#: Cell contents that mean "value withheld or not available" in official statistics.
SUPPRESSION_MARKS = frozenset(
    {
        "",
        "-",
        "–",
        "—",
        "−",
        ".",
        "..",
        "...",
        "…",
        "x",
        "X",
        "*",
        "**",
        "/",
        "(x)",
        "k.A.",
        "k. A.",
        "n.v.",
        "NA",
        "#NV",
        "?",
    }
)

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007']+")
_UNIT_SUFFIX = re.compile(r"(%|‰|€|EUR|Euro|Prozent|v\.\s?H\.|pro\s?mille)$", re.IGNORECASE)
_DE_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")
_DE_DECIMAL = re.compile(r"^\d+,\d+$")
_EN_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_EN_DECIMAL = re.compile(r"^\d*\.\d+$")
_PLAIN_INT = re.compile(r"^\d+$")


@dataclass(frozen=True)
class ParsedNumber:
    """Result of parsing one cell.

    Attributes
    ----------
    value : float or None
        The number, ``None`` when suppressed or not a number.
    suppressed : bool
        The cell is a suppression mark or empty.
    ok : bool
        ``False`` when the cell is text that is not a number.
    percent : bool
        The cell carried a ``%`` sign.
    """

    value: float | None
    suppressed: bool = False
    ok: bool = True
    percent: bool = False


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).strip()
    return text


def _strip_number(text: str) -> tuple[str, bool, bool]:
    """Return (digits-and-separators, negative, percent) of a cell."""
    s = _SPACES.sub("", text)
    percent = False
    m = _UNIT_SUFFIX.search(s)
    if m:
        percent = m.group(0) in ("%", "Prozent") or m.group(0).lower().startswith("v.")
        s = s[: m.start()]
    negative = False
    if s[:1] in ("-", "−", "–") and len(s) > 1:
        negative, s = True, s[1:]
    elif s[:1] == "+":
        s = s[1:]
    elif s.endswith("-") and len(s) > 1:  # accounting style "12-"
        negative, s = True, s[:-1]
    if s.startswith("(") and s.endswith(")") and len(s) > 2:  # (12) negative
        negative, s = True, s[1:-1]
    return s, negative, percent


def parse_number(text: object, decimal: str = ",") -> ParsedNumber:
    """Parse a cell written in German (``decimal=","``) or English (``"."``) number format.

    Parameters
    ----------
    text : object
        The cell; numbers (from Excel) are returned as they are.
    decimal : {",", "."}
        The decimal separator of the file (see :func:`detect_decimal`).

    Returns
    -------
    ParsedNumber

    Examples
    --------
    >>> parse_number("1.374").value
    1374.0
    >>> parse_number("35,5 %").value
    35.5
    >>> parse_number("–").suppressed
    True
    >>> parse_number("1,234.5", decimal=".").value
    1234.5
    >>> parse_number("abc").ok
    False
    """
    if isinstance(text, str):
        return _parse_str(text, decimal)
    return _parse_number(text, decimal)


@lru_cache(maxsize=65536)
def _parse_str(text: str, decimal: str) -> ParsedNumber:
    return _parse_number(text, decimal)


def _parse_number(text: object, decimal: str = ",") -> ParsedNumber:

    if text is None:
        return ParsedNumber(None, suppressed=True)
    if isinstance(text, bool):
        return ParsedNumber(None, ok=False)
    if isinstance(text, (int, float)):
        if isinstance(text, float) and math.isnan(text):
            return ParsedNumber(None, suppressed=True)
        return ParsedNumber(float(text))
    s = _clean(text)
    if s in SUPPRESSION_MARKS or _SPACES.sub("", s) in SUPPRESSION_MARKS:
        return ParsedNumber(None, suppressed=True)
    body, negative, percent = _strip_number(s)
    if not body or not any(ch.isdigit() for ch in body):
        return ParsedNumber(None, ok=False)
    if decimal == ",":
        if _PLAIN_INT.match(body) or _DE_DECIMAL.match(body) or _DE_THOUSANDS.match(body):
            num = body.replace(".", "").replace(",", ".")
        elif re.match(r"^\d+\.\d+$", body):
            # a lone decimal point in a German-format file: "12.5" is ambiguous; accept it
            # only when it cannot be a thousands group (not exactly three digits after it)
            if re.match(r"^\d{1,3}\.\d{3}$", body):
                num = body.replace(".", "")
            else:
                num = body
        else:
            return ParsedNumber(None, ok=False)
    else:
        if (
            _PLAIN_INT.match(body)
            or _EN_DECIMAL.match(body)
            or _EN_THOUSANDS.match(body)
            or re.match(r"^\d+\.\d+$", body)
        ):
            num = body.replace(",", "")
        elif re.match(r"^\d+,\d+$", body):
            num = body.replace(",", ".")
        else:
            return ParsedNumber(None, ok=False)
    try:
        value = float(num)
    except ValueError:  # pragma: no cover - guarded by the patterns
        return ParsedNumber(None, ok=False)
    return ParsedNumber(-value if negative else value, percent=percent)


def detect_decimal(cells) -> str:
    """Decide the decimal separator of a file from its cells: ``","`` (German) or ``"."``.

    Unambiguous German forms (``35,5``, ``1.374,2``, ``1.234.567``) vote for ``","``;
    unambiguous English forms (``12.25``, ``1,234,567``) for ``"."``. A tie
    (e.g. only integers) means German, k360's default.

    Examples
    --------
    >>> detect_decimal(["1.374", "35,5%"])
    ','
    >>> detect_decimal(["1023101.0", "12.5"])
    '.'
    """
    de = en = 0
    for cell in cells:
        if not isinstance(cell, str):
            continue
        body, _, _ = _strip_number(_clean(cell))
        if not body:
            continue
        if _DE_DECIMAL.match(body) or (
            _DE_THOUSANDS.match(body) and ("," in body or body.count(".") > 1)
        ):
            de += 1
        elif (_EN_DECIMAL.match(body) and not re.match(r"^\d{1,3}\.\d{3}$", body)) or (
            _EN_THOUSANDS.match(body) and ("." in body or body.count(",") > 1)
        ):
            en += 1
    return "." if en > de else ","


# -- decoding -----------------------------------------------------------------------


def decode_bytes(data: bytes) -> tuple[str, str]:
    r"""Decode a text file's bytes; return ``(text, encoding)``.

    BOMs win (UTF-8, UTF-16); then strict UTF-8; then cp1252, and latin-1 for
    the five bytes cp1252 leaves undefined.

    Examples
    --------
    >>> decode_bytes("Sülz".encode("cp1252"))
    ('Sülz', 'cp1252')
    >>> decode_bytes(b"\xef\xbb\xbf" + "Sülz".encode("utf-8"))
    ('Sülz', 'utf-8-sig')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _detect_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()][:200]
    best, best_score = ";", -1.0
    for delim in (";", ",", "\t", "|"):
        counts = []
        for row in csv.reader(lines, delimiter=delim):
            counts.append(len(row))
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        consistency = counts.count(mode) / len(counts)
        score = consistency * 10 + min(mode, 50) / 50
        if score > best_score + 1e-9:
            best, best_score = delim, score
    return best


# -- raw table --------------------------------------------------------------------


@dataclass
class RawTable:
    """A table as read from a file: string/number cells plus where each row came from.

    Attributes
    ----------
    frame : pandas.DataFrame
        Data rows only (header, title and footnote rows removed); cells are
        ``str`` (CSV) or ``str``/``int``/``float``/``None`` (XLSX).
    file : str
        File name for messages.
    sheet : str or None
        Sheet name (XLSX).
    row_numbers : list of int
        1-based row number in the file of each data row.
    column_letters : list of str or None
        Excel column letters of the columns (XLSX).
    decimal : str
        Decimal separator used for parsing.
    encoding : str or None
        Detected text encoding (CSV).
    has_header : bool
        Whether a header row was found.
    """

    frame: pd.DataFrame
    file: str
    sheet: str | None = None
    row_numbers: list[int] = field(default_factory=list)
    column_letters: list[str] | None = None
    decimal: str = ","
    encoding: str | None = None
    delimiter: str | None = None
    has_header: bool = True
    header_row: int | None = None

    def where(self, row_index: int | None = None, column: str | None = None) -> dict:
        """Return a location dict for a data row (0-based index) and column."""
        loc: dict = {"file": self.file}
        row = self.row_numbers[row_index] if row_index is not None else None
        if self.sheet is not None:
            loc["sheet"] = self.sheet
            if row is not None and column is not None and self.column_letters:
                col_idx = list(self.frame.columns).index(column)
                loc["cell"] = f"{self.column_letters[col_idx]}{row}"
                return loc
        if row is not None:
            loc["row"] = row
        if column is not None:
            loc["column"] = column
        return loc


_YEAR = re.compile(r"^(19|20)\d{2}$")


def _cell_kind(cell: object, decimal: str) -> str:
    if isinstance(cell, str):
        return _str_kind(cell, decimal)
    if cell is None:
        return "empty"
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        if isinstance(cell, float) and math.isnan(cell):
            return "empty"
        return "year" if float(cell).is_integer() and 1900 <= cell <= 2100 else "num"
    s = _clean(str(cell))
    if s == "":
        return "empty"
    if _YEAR.match(s):
        return "year"
    if s in SUPPRESSION_MARKS:
        return "mark"
    p = parse_number(s, decimal)
    return "num" if p.ok and p.value is not None else "text"


@lru_cache(maxsize=65536)
def _str_kind(cell: str, decimal: str) -> str:
    s = _clean(cell)
    if s == "":
        return "empty"
    if _YEAR.match(s):
        return "year"
    if s in SUPPRESSION_MARKS:
        return "mark"
    p = parse_number(s, decimal)
    return "num" if p.ok and p.value is not None else "text"


def _is_header_row(row: list, decimal: str, width: int) -> bool:
    kinds = [_cell_kind(c, decimal) for c in row]
    non_empty = [k for k in kinds if k != "empty"]
    if len(non_empty) < 2 or len(non_empty) < 0.5 * width:
        return False
    return "num" not in kinds and any(k == "text" for k in kinds)


def _structure(
    rows: list[list],
    decimal: str,
    file: str,
    report: ImportReport,
    sheet: str | None,
    first_row: int = 1,
):
    """Find title rows, header and footnote rows; return (header, data rows, row numbers)."""
    width = max((len(r) for r in rows), default=0)
    non_empty_counts = [sum(_cell_kind(c, decimal) != "empty" for c in r) for r in rows]
    if width == 0 or not any(non_empty_counts):
        raise DataError("atlas.tables.empty", file=file, sheet=sheet)
    # the body is where rows are "full": at least half the width filled
    full = [i for i, n in enumerate(non_empty_counts) if n >= max(2, 0.5 * width)]
    if not full:
        raise DataError("atlas.tables.no_columns", file=file, sheet=sheet)
    start = full[0]
    header: list | None = None
    if _is_header_row(rows[start], decimal, width):
        header = rows[start]
        header_idx = start
        data_start = start + 1
    else:
        header_idx = None
        data_start = start
    where = {"file": file, "sheet": sheet}
    for i in range(0, header_idx if header_idx is not None else data_start):
        if non_empty_counts[i]:
            text = " ".join(str(c) for c in rows[i] if c not in (None, ""))
            report.info(
                "atlas.tables.title_row", where={**where, "row": i + first_row}, text=text[:80]
            )
    # footnotes: trailing rows with at most one filled cell
    end = len(rows)
    while end > data_start and non_empty_counts[end - 1] <= 1:
        end -= 1
        if non_empty_counts[end]:
            text = " ".join(str(c) for c in rows[end] if c not in (None, ""))
            report.info(
                "atlas.tables.footnote_row", where={**where, "row": end + first_row}, text=text[:80]
            )
    data = [r + [None] * (width - len(r)) for r in rows[data_start:end]]
    numbers = [i + first_row for i in range(data_start, end)]
    # fully empty rows inside the body are skipped and reported
    keep = [j for j, r in enumerate(data) if any(_cell_kind(c, decimal) != "empty" for c in r)]
    if len(keep) < len(data):
        skipped = [numbers[j] for j in range(len(data)) if j not in set(keep)]
        report.info(
            "atlas.tables.empty_rows",
            where=where,
            rows=", ".join(map(str, skipped[:20])),
            n=len(skipped),
        )
    data = [data[j] for j in keep]
    numbers = [numbers[j] for j in keep]
    if header is None:
        columns = [f"col_{i + 1}" for i in range(width)]
        report.info("atlas.tables.no_header", where=where, n=width)
    else:
        columns = []
        seen: dict[str, int] = {}
        for i, c in enumerate(list(header) + [None] * (width - len(header))):
            name = _clean(str(c)) if c not in (None, "") else f"col_{i + 1}"
            if isinstance(c, float) and c.is_integer():
                name = str(int(c))
            if name in seen:
                seen[name] += 1
                report.warning(
                    "atlas.tables.duplicate_header", where={**where, "column": name}, n=seen[name]
                )
                name = f"{name}_{seen[name]}"
            else:
                seen[name] = 1
            columns.append(name)
    return columns, data, numbers, (header_idx + first_row if header_idx is not None else None)


def _drop_empty_columns(table: RawTable, report: ImportReport) -> None:
    df = table.frame
    empty = [c for c in df.columns if all(_cell_kind(v, table.decimal) == "empty" for v in df[c])]
    if empty:
        for c in empty:
            report.info(
                "atlas.tables.empty_column",
                where={"file": table.file, "sheet": table.sheet, "column": c},
            )
        keep_idx = [i for i, c in enumerate(df.columns) if c not in empty]
        table.frame = df[[df.columns[i] for i in keep_idx]]
        if table.column_letters:
            table.column_letters = [table.column_letters[i] for i in keep_idx]


def _read_csv_rows(path: Path, report: ImportReport, encoding: str | None, delimiter: str | None):
    data = path.read_bytes()
    if not data.strip():
        raise DataError("atlas.tables.empty", file=path.name)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError("atlas.tables.binary", file=path.name)
    if encoding:
        text, enc = data.decode(encoding), encoding
    else:
        text, enc = decode_bytes(data)
    report.info("atlas.tables.encoding", where={"file": path.name}, encoding=enc)
    delim = delimiter or _detect_delimiter(text)
    rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim)]
    return rows, enc, delim


def _read_xlsx_rows(path: Path, sheet: str | int | None, report: ImportReport):
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError("atlas.tables.bad_xlsx", file=path.name, detail=str(exc)[:120]) from exc
    try:
        names = wb.sheetnames
        if sheet is None:
            chosen = None
            for name in names:
                ws = wb[name]
                if any(
                    any(v is not None for v in row)
                    for row in ws.iter_rows(values_only=True, max_row=50)
                ):
                    chosen = name
                    break
            if chosen is None:
                raise DataError("atlas.tables.empty", file=path.name)
            if len(names) > 1:
                report.info(
                    "atlas.tables.sheet_chosen",
                    where={"file": path.name},
                    sheet=chosen,
                    sheets=", ".join(names),
                )
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise DataError(
                    "atlas.tables.unknown_sheet",
                    file=path.name,
                    sheet=str(sheet),
                    sheets=", ".join(names),
                )
            chosen = names[sheet]
        else:
            if sheet not in names:
                raise DataError(
                    "atlas.tables.unknown_sheet",
                    file=path.name,
                    sheet=sheet,
                    sheets=", ".join(names),
                )
            chosen = sheet
        ws = wb[chosen]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    width = max((len(r) for r in rows), default=0)
    letters = [get_column_letter(i + 1) for i in range(width)]
    return rows, chosen, letters


def read_raw_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    report: ImportReport | None = None,
) -> tuple[RawTable, ImportReport]:
    """Read a CSV or XLSX file into a :class:`RawTable` and a report.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt``/``.tsv`` or ``.xlsx``/``.xlsm``.
    sheet : str or int, optional
        Sheet name or index (XLSX); default: the first sheet with data.
    encoding, delimiter, decimal : str, optional
        Override detection.
    report : ImportReport, optional
        Report to add findings to (a new one by default).

    Raises
    ------
    DataError
        File missing, empty, binary, or not a table.
    """
    import pandas as pd

    report = report if report is not None else ImportReport()
    path = Path(path)
    if not path.exists():
        raise DataError("atlas.io.file_not_found", file=str(path))
    suffix = path.suffix.lower()
    letters = None
    enc = delim = None
    sheet_name = None
    if suffix in (".xlsx", ".xlsm"):
        rows, sheet_name, letters = _read_xlsx_rows(path, sheet, report)
    elif suffix == ".xls":
        raise DataError("atlas.tables.xls_unsupported", file=path.name)
    elif suffix in (".csv", ".txt", ".tsv", ""):
        rows, enc, delim = _read_csv_rows(path, report, encoding, delimiter)
    else:
        raise DataError("atlas.tables.unknown_format", file=path.name, suffix=suffix)
    # drop rows that are entirely empty at the start to find structure
    all_cells = [c for r in rows for c in r]
    dec = decimal or detect_decimal(all_cells)
    columns, data, numbers, header_row = _structure(rows, dec, path.name, report, sheet_name)
    frame = pd.DataFrame(data, columns=columns, dtype=object)
    table = RawTable(
        frame=frame,
        file=path.name,
        sheet=sheet_name,
        row_numbers=numbers,
        column_letters=letters[: len(columns)] if letters else None,
        decimal=dec,
        encoding=enc,
        delimiter=delim,
        has_header=header_row is not None,
        header_row=header_row,
    )
    _drop_empty_columns(table, report)
    report.info(
        "atlas.tables.read",
        where={"file": path.name, "sheet": sheet_name},
        n_rows=len(table.frame),
        n_cols=len(table.frame.columns),
        decimal=dec,
    )
    return table, report
