"""JSON, CSV and XLSX exchange of responsibility matrices, and area coverage."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from k360lib.errors import DataError, ReportError
from k360lib.responsibility import (
    Matrix,
    area_coverage,
    compare,
    comparison_csv,
    from_csv,
    from_json,
    from_xlsx,
    load_catalog,
    read_matrix,
    to_csv,
    to_json,
    to_xlsx,
)
from k360lib.responsibility.exchange import FIRST_ACTOR_COLUMN, FIRST_DATA_ROW, SHEET_NAMES


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


@pytest.fixture()
def matrix(cat):
    m = cat.default_matrix("Runde 1")
    m.set("babylotsen", "freie_traeger", "R")
    m.set("kindergeld", "jobcenter", "I", area="SR03")
    m.set("kita_ue3", "kitas", None, area="SR07")
    return m


def edited(xlsx: bytes, changes: dict[str, dict[str, object]]) -> bytes:
    wb = load_workbook(io.BytesIO(xlsx))
    for sheet, cells in changes.items():
        for ref, value in cells.items():
            wb[sheet][ref] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["de", "en"])
def test_xlsx_round_trip(cat, matrix, lang):
    data = to_xlsx(matrix, lang)
    back = from_xlsx(data, cat)
    assert back == matrix and back.name == "Runde 1"
    assert back.diff(matrix) == []
    assert from_xlsx(to_xlsx(back, lang), cat) == matrix  # export -> import -> export is stable


def test_json_and_csv_round_trip(cat, matrix):
    assert from_json(to_json(matrix), cat) == matrix
    assert from_json(to_json(matrix).encode("utf-8"), cat).name == "Runde 1"
    assert from_csv(to_csv(matrix), cat) == matrix
    # German Excel saves CSV as cp1252 with BOM-less semicolons; comma-separated works too
    text = to_csv(matrix)
    assert from_csv(text.encode("cp1252"), cat) == matrix
    assert from_csv(text.replace(";", ","), cat) == matrix
    assert to_json(matrix) == to_json(from_json(to_json(matrix), cat))  # deterministic text


def test_empty_matrix_round_trips(cat):
    empty = Matrix(cat)
    assert from_xlsx(to_xlsx(empty), cat) == empty
    assert from_csv(to_csv(empty), cat) == empty
    assert from_json(to_json(empty), cat) == empty


def test_xlsx_template_layout(cat, matrix):
    wb = load_workbook(io.BytesIO(to_xlsx(matrix, "de")))
    assert wb.sheetnames == ["Matrix", "Sozialräume", "Leistungen", "Akteure", "Hinweise"]
    ws = wb["Matrix"]
    assert ws.cell(1, FIRST_ACTOR_COLUMN).value == cat.actors[0].id
    assert ws.cell(2, FIRST_ACTOR_COLUMN).value == cat.actors[0].name("de")
    assert ws.cell(FIRST_DATA_ROW, 1).value == cat.services[0].id
    assert ws.freeze_panes == "D3"
    # the role cells carry a list validation with exactly the role codes
    [dv] = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == '"R,A,AR,C,I"'
    last = FIRST_DATA_ROW + len(cat.services) - 1
    assert str(dv.sqref).startswith("D3:") and str(dv.sqref).endswith(str(last))
    [dv2] = wb["Sozialräume"].data_validations.dataValidation
    assert dv2.formula1 == '"R,A,AR,C,I,-"'
    assert wb["Hinweise"]["B3"].value == "Runde 1"
    en = load_workbook(io.BytesIO(to_xlsx(matrix, "en")))
    assert en.sheetnames == [
        SHEET_NAMES[k]["en"] for k in ("matrix", "areas", "services", "actors", "notes")
    ]
    empty = load_workbook(io.BytesIO(to_xlsx(matrix, "de", empty=True)))["Matrix"]
    roles = [
        empty.cell(r, c).value
        for r in range(FIRST_DATA_ROW, last + 1)
        for c in range(FIRST_ACTOR_COLUMN, FIRST_ACTOR_COLUMN + len(cat.actors))
    ]
    assert not any(roles)


def test_filled_in_template_with_aliases_and_lower_case(cat):
    data = to_xlsx(Matrix(cat), "de", empty=True)
    row = FIRST_DATA_ROW + cat.service_ids.index("kindergeld")
    col = "D"  # jugendamt
    fam = FIRST_ACTOR_COLUMN + cat.actor_ids.index("familienkasse")
    from openpyxl.utils import get_column_letter

    data = edited(data, {"Matrix": {f"{get_column_letter(fam)}{row}": "a/r", f"{col}{row}": " i "}})
    m = from_xlsx(data, cat, name="Gruppe B")
    assert m.get("kindergeld", "familienkasse") == "AR" and m.get("kindergeld", "jugendamt") == "I"
    assert len(m) == 2 and m.name == "Gruppe B"


# -- XLSX errors: sheet and cell, all-or-nothing ---------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "cell", "key", "needle"),
    [
        ({"Matrix": {"D7": "X"}}, "D7", "resp.invalid_role", "X"),
        ({"Matrix": {"F1": "stadtwerke"}}, "F1", "resp.unknown_actor", "stadtwerke"),
        ({"Matrix": {"A9": "kinderbonus"}}, "A9", "resp.unknown_service", "kinderbonus"),
        (
            {"Sozialräume": {"A2": "SR01", "B2": "kindergeld", "C2": "jobcenter", "D2": "Q"}},
            "D2",
            "resp.invalid_role",
            "Q",
        ),
        (
            {"Sozialräume": {"A2": "SR01", "B2": "kindergeld", "C2": "ghost", "D2": "R"}},
            "C2",
            "resp.unknown_actor",
            "ghost",
        ),
    ],
)
def test_xlsx_errors_name_sheet_and_cell(cat, changes, cell, key, needle):
    data = edited(to_xlsx(cat.default_matrix(), "de"), changes)
    with pytest.raises(ReportError) as info:
        from_xlsx(data, cat, file="upload.xlsx")
    [finding] = info.value.report.errors
    assert finding.key == key
    sheet = next(iter(changes))
    de = info.value.message("de")
    en = info.value.message("en")
    assert f"Blatt {sheet}, Zelle {cell}" in de and needle in de
    assert f"sheet {sheet}, cell {cell}" in en
    assert "Datei „upload.xlsx“" in de


def test_xlsx_collects_every_problem(cat):
    data = edited(
        to_xlsx(cat.default_matrix(), "de"),
        {"Matrix": {"D7": "X", "E8": "Y", "F1": "nobody", "A10": "ghost", "A11": "kindergeld"}},
    )
    with pytest.raises(ReportError) as info:
        from_xlsx(data, cat)
    cells = [f.where["cell"] for f in info.value.report.errors]
    assert cells[0] == "F1" and {"D7", "E8", "A10"} <= set(cells)
    # A11 repeats a service that is already in the sheet
    assert any(f.key == "resp.io.duplicate_service" for f in info.value.report.errors)


def test_xlsx_roles_without_actor_or_service(cat):
    data = to_xlsx(cat.default_matrix(), "de")
    last_col = FIRST_ACTOR_COLUMN + len(cat.actors)
    from openpyxl.utils import get_column_letter

    extra = get_column_letter(last_col)
    last_row = FIRST_DATA_ROW + len(cat.services)
    data = edited(data, {"Matrix": {f"{extra}5": "R", f"D{last_row}": "A"}})
    with pytest.raises(ReportError) as info:
        from_xlsx(data, cat)
    keys = {(f.key, f.where["cell"]) for f in info.value.report.errors}
    assert ("resp.io.column_without_actor", f"{extra}1") in keys
    assert ("resp.io.row_without_service", f"A{last_row}") in keys


def test_not_a_workbook_or_missing_sheet(cat):
    with pytest.raises(DataError) as info:
        from_xlsx(b"this is no zip", cat, file="x.xlsx")
    assert info.value.key == "resp.io.not_xlsx"
    data = to_xlsx(cat.default_matrix())
    wb = load_workbook(io.BytesIO(data))
    wb["Matrix"].title = "Tabelle1"
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(DataError) as info:
        from_xlsx(buf.getvalue(), cat)
    assert info.value.key == "resp.io.no_matrix_sheet" and "Tabelle1" in info.value.message("de")


# -- CSV / JSON errors ---------------------------------------------------------------------------
def test_csv_errors_name_row_and_column(cat):
    text = "area_id;service_id;actor_id;role\n;kindergeld;familienkasse;AR\n;kindergeld;ghost;R\n;nix;jugendamt;Z\n"
    with pytest.raises(ReportError) as info:
        from_csv(text, cat, file="m.csv")
    msgs = [f.message("de") for f in info.value.report.errors]
    assert msgs[0].startswith("Datei „m.csv“, Zeile 3, Spalte „actor_id“")
    assert any("Zeile 4, Spalte „service_id“" in m for m in msgs)
    assert any("Zeile 4, Spalte „role“" in m for m in msgs)
    with pytest.raises(DataError) as info:
        from_csv("service;actor\nx;y\n", cat)
    assert info.value.key == "resp.io.csv_columns"
    with pytest.raises(DataError):
        from_csv("", cat)


def test_json_errors(cat):
    with pytest.raises(DataError) as info:
        from_json("{not json", cat, file="a.json")
    assert info.value.key == "resp.io.bad_json"
    with pytest.raises(DataError) as info:
        from_json(json.dumps({"format": "other"}), cat)
    assert info.value.key == "resp.io.not_matrix_json"


def test_read_matrix_dispatches_and_names(cat, matrix):
    assert read_matrix(to_xlsx(matrix), "a.xlsx", cat) == matrix
    assert read_matrix(to_json(matrix).encode(), "b.JSON", cat).name == "Runde 1"
    from_csv_file = read_matrix(to_csv(matrix).encode(), "Gruppe Politik.csv", cat)
    assert from_csv_file == matrix and from_csv_file.name == "Gruppe Politik"
    assert read_matrix(to_csv(matrix).encode(), "x.csv", cat, name="N").name == "N"
    with pytest.raises(DataError) as info:
        read_matrix(b"", "matrix.pdf", cat)
    assert ".pdf" in info.value.message("en")


def test_comparison_csv(cat):
    a = cat.default_matrix()
    b = a.copy()
    b.set("kindergeld", "jugendamt", "A")
    text = comparison_csv(compare({"Amt": a, "Träger": b}), cat, "de")
    lines = text.strip().splitlines()
    assert lines[0] == "rank;service_id;service;actor_id;actor;agreement;Amt;Träger"
    assert lines[1].startswith("1;kindergeld;Kindergeld;jugendamt;") and lines[1].endswith(
        ";0.5;-;A"
    )


# -- area coverage ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    from k360lib.atlas.demo import demo_atlas

    return demo_atlas()


def test_coverage_of_the_demo_city(cat, demo):
    cov = area_coverage(cat, demo, near_m=500)
    assert cov.areas == [str(a) for a in demo.areas["area_id"]]
    assert cov.services == cat.filter_services(place_based=True)
    assert "kindergeld" not in cov.services  # a cash benefit is not place-based
    fac = demo.facilities
    for sid in ("kita_ue3", "erziehungsberatung", "jugendarbeit"):
        kinds = cat.service(sid).facility_kinds
        by_area = fac[fac["kind"].isin(kinds)].groupby("area_id").size()
        status = cov.for_service(sid)
        for area in cov.areas:
            has = int(by_area.get(area, 0)) > 0
            assert (status[area] == "in") == has, (sid, area)
            assert len(cov.facilities.get((area, sid), [])) == int(by_area.get(area, 0))
    counts = cov.counts("erziehungsberatung")
    assert sum(counts.values()) == len(cov.areas) and counts["none"] > 0
    with pytest.raises(DataError):
        cov.for_service("kindergeld")


def test_coverage_distance_threshold(cat, demo):
    small = area_coverage(cat, demo, near_m=0)
    large = area_coverage(cat, demo, near_m=50_000)
    sid = "erziehungsberatung"
    assert small.counts(sid)["near"] == 0
    assert large.counts(sid)["none"] == 0
    assert small.counts(sid)["in"] == large.counts(sid)["in"]
    for area in small.areas:
        if small.status[(area, sid)] != "in":
            d = small.nearest_m[(area, sid)]
            assert (large.status[(area, sid)] == "near") and d > 0
    rows = small.to_rows()
    assert len(rows) == len(small.areas) * len(small.services)
    assert set(small.uncovered(small.areas[0])) <= set(small.services)
    with pytest.raises(DataError):
        area_coverage(cat, demo, near_m=-1)


def test_coverage_without_facilities(cat, demo):
    from k360lib.atlas.model import Atlas

    bare = Atlas(
        demo.areas, demo.indicators, demo.catalog, demo.facilities.iloc[0:0], dict(demo.meta)
    )
    cov = area_coverage(cat, bare)
    assert set(cov.status.values()) == {"none"}


def test_names_never_become_spreadsheet_formulas(cat):
    m = cat.default_matrix('=HYPERLINK("http://x","y")')
    data = to_xlsx(m)
    cell = load_workbook(io.BytesIO(data))["Hinweise"]["B3"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert from_xlsx(data, cat).name == m.name
    b = m.copy()
    b.set("kindergeld", "jugendamt", "A")
    text = comparison_csv(compare({"=cmd()": m, "+Team": b}), cat)
    header = text.splitlines()[0].split(";")
    assert header[-2:] == ["'=cmd()", "'+Team"]
    assert text.splitlines()[1].split(";")[-2:] == ["-", "A"]
