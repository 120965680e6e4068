"""Save analysis results as CSV or Excel files.

CSV follows :func:`k360lib.report.tables.to_csv_bytes`: German with ``;`` and
a decimal comma, English with ``,`` and a point, UTF-8 with a byte-order mark
(Excel detects it). Column names of k360's result tables are translated
(``analysis.col.*`` messages); other columns stay as they are. A file is
written to a temporary name first and then renamed: a failed export leaves
no half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from k360lib.errors import DataError
from k360lib.i18n import catalog, normalize_lang, t

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["labelled", "save_table", "save_workbook"]


def labelled(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """Return ``frame`` with known result columns renamed into ``lang`` (a copy).

    Examples
    --------
    >>> import pandas as pd
    >>> list(labelled(pd.DataFrame({"r": [0.5], "own": [1]}), "de").columns)
    ['Korrelation r', 'own']
    """
    lang = normalize_lang(lang)
    known = catalog()
    # i18n-dynamic: only columns whose analysis.col.<name> key exists (checked in the same line)
    names = {c: t(f"analysis.col.{c}", lang) for c in frame.columns if f"analysis.col.{c}" in known}
    return frame.rename(columns=names)


def _write_atomic(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_table(
    frame: pd.DataFrame, path: str | Path, lang: str | None = None, label: bool = True
) -> Path:
    """Write one table as ``.csv`` or ``.xlsx`` (chosen by the suffix of ``path``).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table (its index is not written; reset it first to keep it).
    path : str or Path
        Target file.
    lang : str, optional
        Language of the CSV format and of the column names.
    label : bool
        Translate known column names (see :func:`labelled`).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DataError
        For a suffix other than ``.csv`` or ``.xlsx``.
    """
    from k360lib.report.tables import to_csv_bytes

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return save_workbook({path.stem: frame}, path, lang=lang, label=label)
    if suffix != ".csv":
        raise DataError("analysis.export.bad_suffix", suffix=path.suffix, file=str(path))
    out = labelled(frame, lang) if label else frame
    return _write_atomic(path, to_csv_bytes(out, lang))


def save_workbook(
    sheets: dict[str, pd.DataFrame],
    path: str | Path,
    notes: list[str] | None = None,
    lang: str | None = None,
    label: bool = True,
) -> Path:
    """Write several tables into one Excel workbook, one sheet each, plus a notes sheet.

    The notes sheet always carries the suppression note; ``notes`` are added
    after it.

    Returns
    -------
    Path
        The file written.
    """
    from k360lib.report.tables import to_xlsx_bytes

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise DataError("analysis.export.bad_suffix", suffix=path.suffix, file=str(path))
    lang = normalize_lang(lang)
    frames = {name: (labelled(f, lang) if label else f) for name, f in sheets.items()}
    all_notes = [t("analysis.export.note", lang), *(notes or [])]
    return _write_atomic(path, to_xlsx_bytes(frames, all_notes, lang))
