"""Export tables: one indicator per area, the need ranking, the hotspots — as CSV or Excel.

Suppressed values are exported as an empty cell plus the note "zu wenige
Fälle"; the numbers come from :func:`k360lib.atlas.privacy.public_values`, so
a small count never reaches a file. German CSV uses ``;`` and a decimal
comma (what German Excel expects), English CSV ``,`` and a point; both are
UTF-8 with a byte-order mark so Excel detects the encoding.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

from k360lib.i18n import normalize_lang, t
from k360lib.report.profile import label_of, unit_of

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from k360lib.atlas.indicators import NeedIndex
    from k360lib.atlas.model import Atlas

__all__ = [
    "CSV_MIME",
    "XLSX_MIME",
    "data_uri",
    "hotspot_table",
    "indicator_table",
    "need_table",
    "to_csv_bytes",
    "to_xlsx_bytes",
]

CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML_MIME = "text/html"


def _districts(atlas: Atlas) -> list[str]:
    areas = atlas.areas
    names = atlas.meta.get("districts") if isinstance(atlas.meta.get("districts"), dict) else {}
    if "parent_id" not in areas.columns:
        return [""] * len(areas)
    return [
        "" if p is None or p != p else str(names.get(str(p), p))
        for p in areas["parent_id"].tolist()
    ]


def indicator_table(atlas: Atlas, indicator: str, year: int, lang: str | None = None):
    """Return one row per area with the (public) value of ``indicator`` in ``year``.

    Columns (in ``lang``): area key, name, district, value, note (suppressed /
    no data), rank (1 = most need).
    """
    import pandas as pd

    from k360lib.atlas.classify import MISSING_LABEL_KEY, SUPPRESSED_LABEL_KEY
    from k360lib.atlas.privacy import public_values
    from k360lib.report.profile import polarity_of

    lang = normalize_lang(lang)
    vals = public_values(atlas, indicator, year)
    values = vals["value"].astype(float)
    pol = polarity_of(atlas, indicator)
    rank = (values * (-1 if pol < 0 else 1)).rank(method="min", ascending=False)
    notes = [
        t(SUPPRESSED_LABEL_KEY, lang) if s else (t(MISSING_LABEL_KEY, lang) if v != v else "")
        for v, s in zip(values, vals["suppressed"])
    ]
    unit = unit_of(atlas, indicator, lang)
    label = label_of(atlas, indicator, lang)
    value_col = f"{label} ({unit}), {year}" if unit else f"{label}, {year}"
    return pd.DataFrame(
        {
            t("report.col.area_id", lang): atlas.areas["area_id"].astype(str).tolist(),
            t("report.col.name", lang): atlas.areas["name"].astype(str).tolist(),
            t("report.col.district", lang): _districts(atlas),
            value_col: values.tolist(),
            t("report.col.note", lang): notes,
            t("report.col.rank", lang): rank.astype("Int64").tolist(),
        }
    )


def need_table(atlas: Atlas, need: NeedIndex, lang: str | None = None):
    """Return the need index per area (ranked), with names and the z-score of every indicator."""
    import pandas as pd

    lang = normalize_lang(lang)
    frame = need.to_frame(lang)
    names = dict(zip(atlas.areas["area_id"].astype(str), atlas.areas["name"].astype(str)))
    districts = dict(zip(atlas.areas["area_id"].astype(str), _districts(atlas)))
    out = pd.DataFrame(
        {
            t("report.col.rank", lang): frame["rank"].tolist(),
            t("report.col.area_id", lang): frame["area_id"].tolist(),
            t("report.col.name", lang): [names.get(a, "") for a in frame["area_id"]],
            t("report.col.district", lang): [districts.get(a, "") for a in frame["area_id"]],
            t("report.col.need_score", lang): frame["score"].round(3).tolist(),
            t("report.col.need_class", lang): frame["class_label"].tolist(),
        }
    )
    for ind in need.indicators:
        col = t("report.col.z", lang, indicator=label_of(atlas, ind, lang))
        out[col] = frame[f"z_{ind}"].round(3).tolist()
    return out.sort_values(t("report.col.rank", lang), kind="stable", na_position="last")


def hotspot_table(frame: pd.DataFrame, supply_label: str, lang: str | None = None):
    """Return :func:`k360lib.report.hotspots.hotspots` output with labelled columns for export."""
    import pandas as pd

    lang = normalize_lang(lang)
    return pd.DataFrame(
        {
            t("report.col.area_id", lang): frame["area_id"],
            t("report.col.name", lang): frame["name"],
            t("report.col.district", lang): frame["district"],
            t("report.col.need_score", lang): frame["need_score"].round(3),
            t("report.col.need_rank", lang): frame["need_rank"],
            supply_label: frame["supply"].round(3),
            t("report.col.supply_rank", lang): frame["supply_rank"],
            t("report.col.gap", lang): frame["gap"].round(3),
            t("report.col.hotspot", lang): [
                t("report.yes", lang) if h else "" for h in frame["hotspot"]
            ],
        }
    )


def to_csv_bytes(frame: pd.DataFrame, lang: str | None = None) -> bytes:
    """Return ``frame`` as CSV for Excel in ``lang`` (``;`` and ``,`` in German), UTF-8 with BOM."""
    lang = normalize_lang(lang)
    sep, decimal = (";", ",") if lang == "de" else (",", ".")
    text = frame.to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\r\n")
    return text.encode("utf-8-sig")


def to_xlsx_bytes(sheets: dict, notes: list[str] | None = None, lang: str | None = None) -> bytes:
    """Return an Excel workbook with one sheet per ``{name: frame}`` and an optional notes sheet."""
    import pandas as pd

    lang = normalize_lang(lang)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        used: set[str] = set()
        for name, frame in sheets.items():
            sheet = _sheet_name(name, used)
            frame.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            for col in ws.columns:
                width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
                ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width + 2))
        if notes:
            sheet = _sheet_name(t("report.sheet.notes", lang), used)
            pd.DataFrame({t("report.sheet.notes", lang): notes}).to_excel(
                writer, sheet_name=sheet, index=False
            )
            writer.sheets[sheet].column_dimensions["A"].width = 120
    return buf.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join("_" if c in "[]:*?/\\" else c for c in str(name))[:31] or "Tabelle"
    out, i = base, 2
    while out in used:
        suffix = f" ({i})"
        out = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(out)
    return out


def data_uri(data: bytes | str, mime: str) -> str:
    """Return ``data`` as a base64 ``data:`` URI (for download links without a server)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
        mime = f"{mime};charset=utf-8"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
