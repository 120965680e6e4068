"""German number parsing, encodings, table structure."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from k360lib.atlas.tables import decode_bytes, detect_decimal, parse_number, read_raw_table


@pytest.mark.parametrize(
    ("text", "decimal", "value"),
    [
        ("1.374", ",", 1374.0),
        ("35,5%", ",", 35.5),
        ("35,5 %", ",", 35.5),
        ("1.234.567", ",", 1234567.0),
        ("1.234,56", ",", 1234.56),
        ("−3,2", ",", -3.2),
        ("-12", ",", -12.0),
        (" 7 ", ",", 7.0),
        ("1 374", ",", 1374.0),
        ("12.5", ",", 12.5),
        ("1023101.0", ".", 1023101.0),
        ("1,234.5", ".", 1234.5),
        ("0,5‰", ",", 0.5),
        (42, ",", 42.0),
        (3.25, ",", 3.25),
    ],
)
def test_parse_number_valid(text, decimal, value):
    p = parse_number(text, decimal)
    assert p.ok and not p.suppressed
    assert p.value == pytest.approx(value)


@pytest.mark.parametrize("mark", ["–", "-", ".", "x", "X", "*", "", "  ", "…", None, float("nan")])
def test_suppression_marks_are_suppressed_not_zero(mark):
    p = parse_number(mark)
    assert p.suppressed and p.value is None


@pytest.mark.parametrize("text", ["abc", "12a", "1,2,3", "1.2.3,4,5", "--", "ca. 5x"])
def test_parse_number_rejects_text(text):
    p = parse_number(text)
    assert not p.ok and p.value is None and not p.suppressed


def test_percent_flag():
    assert parse_number("35,5%").percent
    assert not parse_number("35,5").percent


def _format_de(value: float, decimals: int, grouping: bool) -> str:
    s = f"{abs(value):,.{decimals}f}"  # 1,234.56
    s = s.replace(",", "\x00").replace(".", ",").replace("\x00", "." if grouping else "")
    return ("-" if value < 0 else "") + s


@given(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.integers(min_value=1, max_value=4),
    st.booleans(),
    st.sampled_from(["", "%", " %"]),
)
def test_parse_number_roundtrips_german_formatting(value, decimals, grouping, suffix):
    text = _format_de(value, decimals, grouping) + suffix
    parsed = parse_number(text, ",")
    assert parsed.ok, text
    assert parsed.value == pytest.approx(round(value, decimals), abs=10**-decimals)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_number_roundtrips_grouped_integers(value):
    text = f"{value:,}".replace(",", ".")
    assert parse_number(text, ",").value == value


@given(st.text(max_size=12))
def test_parse_number_never_crashes(text):
    p = parse_number(text)
    assert (p.value is None) or math.isfinite(p.value) or not p.ok


def test_detect_decimal():
    assert detect_decimal(["1.374", "35,5%"]) == ","
    assert detect_decimal(["12.25", "3.5"]) == "."
    assert detect_decimal(["1", "2"]) == ","


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_decode_bytes_detects_encodings(encoding):
    text = "Stadtteil;Wert\nSülz;1\nDellbrück;2\nMüngersdorf;€3\n"
    decoded, enc = decode_bytes(text.encode(encoding))
    assert decoded == text
    assert enc in {encoding, "utf-16"}


def test_raw_table_title_rows_footnotes_and_header(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(
        "Tabelle 3: Kinder nach Stadtteil\n\nNr;Stadtteil;Kinder 2023\n01;Altstadt;1.374\n02;Neustadt;–\n"
        "Quelle: Statistikstelle\n",
        encoding="cp1252",
    )
    raw, report = read_raw_table(p)
    assert list(raw.frame.columns) == ["Nr", "Stadtteil", "Kinder 2023"]
    assert raw.row_numbers == [4, 5]
    assert raw.header_row == 3
    msgs = report.messages("de")
    assert any("Titelzeile" in m and "Zeile 1" in m for m in msgs)
    assert any("Fußnote" in m and "Quelle" in m for m in msgs)


def test_raw_table_without_header(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text('01 Altstadt,,1.374,"35,5%"\n02 Neustadt,,2.191,"45,2%"\n', encoding="utf-8")
    raw, report = read_raw_table(p)
    assert not raw.has_header
    assert list(raw.frame.columns) == ["col_1", "col_3", "col_4"]  # empty col_2 dropped, reported
    assert any("col_2" in m for m in report.messages("en"))


def test_xlsx_title_rows_and_cell_locations(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Daten"
    ws.append(["Sozialatlas 2023"])
    ws.append([])
    ws.append(["Schlüssel", "Name", "Quote"])
    ws.append(["SR01", "Altstadt", 12.5])
    ws.append(["SR02", "Neustadt", "x"])
    p = tmp_path / "t.xlsx"
    wb.save(p)
    raw, _ = read_raw_table(p)
    assert raw.sheet == "Daten"
    assert raw.row_numbers == [4, 5]
    assert raw.where(1, "Quote") == {"file": "t.xlsx", "sheet": "Daten", "cell": "C5"}
