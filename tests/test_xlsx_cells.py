"""Body cells written as SpreadsheetML text read back exactly as the values they came from.

The workbook's body rows are not built through openpyxl's cell objects but
written as text and spliced into the sheets openpyxl saved
(``render/tables/_sheet_xml.py``, ``_package.py``). These tests write a
hand-made table holding every kind of value an export can carry (17-digit
doubles, NaN, dates, booleans, XML metacharacters, carriage returns, padding,
emoji, text a spreadsheet would run as a formula) and read the file back with
openpyxl, pandas and LibreOffice: the expected values are the table's own.
"""

from __future__ import annotations

import math
import zipfile
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from reportgen.render.tables._export import (
    DATE,
    GENERAL,
    PERCENT,
    VALUE,
    ExportColumn,
    ExportRow,
    ExportTable,
)
from reportgen.render.tables._package import PackageError, sheet_parts, splice_bodies
from reportgen.render.tables._sheet_xml import BOOLEAN, LINK_COLOUR, CellStyles, Link
from reportgen.render.tables.xlsx import LINE_HEIGHT, MAX_WIDTH, HeaderStyle, write_table

from ._office import soffice

COLUMNS = (
    ExportColumn("label", "Label", "text"),
    ExportColumn("share", "Share", "number", PERCENT),
    ExportColumn("value", "Value", "number", VALUE),  # each row's own format
    ExportColumn("day", "Day", "date", DATE),
    ExportColumn("flag", "Flag", "bool"),
)
SECONDS = '#,##0.0" s"'
ROWS = (
    ("plain", 0.11516258342183328, 71.3, date(2026, 11, 16), True),  # needs all 17 digits
    ('A & B <c> "d" > e', -0.25, None, None, False),
    ("\r=1+1", math.nan, 3, date(1999, 12, 31), None),
    ("  padded  ", math.inf, -0.0, None, None),
    ("", 1e-05, 10**15, None, None),
    ("line one\nline two", 5e-324, 1.7976931348623157e308, None, None),
    ("📈 up × down", None, 0.1 + 0.2, None, None),
    ("@SUM(1,2)", 0.5, -12.75, None, None),
)
FORMULA_LIKE = {"\r=1+1", "@SUM(1,2)"}
STYLE = HeaderStyle("1F3864", "FFFFFF", "Inter")


def table_of(rows, columns=COLUMNS, name: str = "odd") -> ExportTable:
    return ExportTable(name, "Odd", columns, tuple(ExportRow(r, {VALUE: SECONDS}) for r in rows))


def write(path: Path, sheets: dict[str, tuple[ExportTable, list[Link]]]) -> Path:
    """The workbook as render_xlsx writes it: openpyxl's skeleton, then the spliced bodies."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    cells = None
    bodies = {}
    for name, (table, links) in sheets.items():
        sheet = workbook.create_sheet(name)
        cells = cells or CellStyles(sheet, STYLE.body_font)
        bodies[name] = write_table(sheet, table, STYLE, cells, links)
    package = BytesIO()
    workbook.save(package)
    splice_bodies(package.getvalue(), bodies, path)
    return path


@pytest.fixture(scope="module")
def odd_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cells") / "odd.xlsx"
    return write(path, {"Odd": (table_of(ROWS), [])})


@pytest.fixture(scope="module")
def odd_sheet(odd_workbook: Path):
    return load_workbook(odd_workbook)["Odd"]


def body(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2))


def test_text_reads_back_exactly_and_never_as_a_formula(odd_sheet) -> None:
    for row, expected in zip(body(odd_sheet), ROWS, strict=True):
        cell, text = row[0], expected[0]
        if text == "":
            assert cell.value is None  # an empty text is an empty cell
            continue
        assert cell.value == text and cell.data_type == "s", repr(text)
        assert cell.quotePrefix == (text in FORMULA_LIKE), repr(text)


def test_numbers_are_the_same_doubles(odd_sheet) -> None:
    for row, expected in zip(body(odd_sheet), ROWS, strict=True):
        for cell, value in zip(row[1:3], expected[1:3], strict=True):
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                assert cell.value is None  # Excel has no NaN or infinity
                continue
            assert cell.data_type == "n" and cell.value == value, (cell.coordinate, value)
            assert type(cell.value) is type(value), cell.coordinate  # an int stays an int


def test_each_number_carries_its_columns_or_its_rows_format(odd_sheet) -> None:
    for row, expected in zip(body(odd_sheet), ROWS, strict=True):
        assert row[1].number_format == (GENERAL if expected[1] is None else PERCENT)
        assert row[2].number_format == (GENERAL if expected[2] is None else SECONDS)


def test_dates_and_booleans(odd_sheet) -> None:
    rows = body(odd_sheet)
    assert rows[0][3].value == datetime(2026, 11, 16) and rows[0][3].number_format == DATE
    assert rows[2][3].value == datetime(1999, 12, 31)
    assert [r[4].value for r in rows[:3]] == [True, False, None]
    assert rows[0][4].data_type == "b" and rows[0][4].number_format == BOOLEAN


def test_body_cells_use_the_brand_font_aligned_to_the_top(odd_sheet) -> None:
    for row in body(odd_sheet):
        for cell in row:
            assert cell.font.name == "Inter" and not cell.font.bold
            assert cell.alignment.vertical == "top"


def test_pandas_reads_the_same_frame(odd_workbook: Path) -> None:
    frame = pd.read_excel(odd_workbook, sheet_name="Odd", keep_default_na=False, na_values=[])
    labels = [r[0] if r[0] != "" else "" for r in ROWS]
    assert list(frame["Label"]) == labels
    shares = [r[1] if r[1] is not None and math.isfinite(r[1]) else None for r in ROWS]
    assert [None if v == "" else v for v in frame["Share"]] == shares


def test_the_sheet_part_holds_no_formula_and_only_inline_strings(odd_workbook: Path) -> None:
    with zipfile.ZipFile(odd_workbook) as package:
        xml = package.read(sheet_parts(package)["Odd"]).decode("utf-8")
    assert "<f>" not in xml and "<f " not in xml
    assert 't="s"' not in xml and "sharedStrings" not in str(package.namelist())
    assert '<dimension ref="A1:E9"/>' in xml


def test_long_text_wraps_and_its_row_gets_the_height_of_its_lines(tmp_path: Path) -> None:
    long = " ".join(["word"] * 40)  # 199 characters: four lines in a 58-character column
    table = table_of([("short", 0.1, 1.0, None, None), (long, 0.2, 2.0, None, None)])
    sheet = load_workbook(write(tmp_path / "wrap.xlsx", {"Odd": (table, [])}))["Odd"]
    assert sheet.column_dimensions["A"].width == MAX_WIDTH
    assert sheet["A2"].alignment.wrap_text and sheet["A3"].alignment.wrap_text
    assert not sheet["B3"].alignment.wrap_text
    assert sheet.row_dimensions[2].height is None
    assert sheet.row_dimensions[3].height == LINE_HEIGHT * 4
    assert sheet["A3"].value == long


def test_links_point_inside_the_workbook_in_the_link_colour(tmp_path: Path) -> None:
    names = ["Odd", "It's × odd"]
    index = ExportTable(
        "index",
        "Index",
        (ExportColumn("sheet", "Sheet", "text"),),
        tuple(ExportRow((n,)) for n in names),
    )
    links = [Link(0, 0, "'Odd'!A1", "Odd"), Link(1, 0, "'It''s × odd'!A1", "It's × odd")]
    sheets = {
        "Index": (index, links),
        "Odd": (table_of(ROWS[:1]), []),
        names[1]: (table_of(ROWS[:1], name="other"), []),
    }
    sheet = load_workbook(write(tmp_path / "links.xlsx", sheets))["Index"]
    cells = [sheet["A2"], sheet["A3"]]
    assert [c.hyperlink.location for c in cells] == ["'Odd'!A1", "'It''s × odd'!A1"]
    assert [c.hyperlink.display for c in cells] == names
    assert all(not c.hyperlink.target for c in cells)
    for cell in cells:
        assert cell.font.color.rgb == LINK_COLOUR and cell.font.underline == "single"
        assert cell.font.name == "Inter"


def test_an_empty_table_keeps_its_header_and_one_blank_row(tmp_path: Path) -> None:
    sheet = load_workbook(write(tmp_path / "empty.xlsx", {"Odd": (table_of([]), [])}))["Odd"]
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    assert sheet.tables["tbl_odd"].ref == "A1:E2"
    assert sheet.max_row == 1


def test_a_body_for_a_sheet_the_workbook_lacks_is_refused(tmp_path: Path) -> None:
    workbook = Workbook()
    package = BytesIO()
    workbook.save(package)
    style = CellStyles(workbook.active, STYLE.body_font)
    body_of_other = write_table(Workbook().active, table_of(ROWS[:1]), STYLE, style)
    with pytest.raises(PackageError, match="no sheet named"):
        splice_bodies(package.getvalue(), {"Missing": body_of_other}, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.slow
def test_libreoffice_reads_the_same_values(odd_workbook: Path, tmp_path: Path) -> None:
    """A second reader: LibreOffice opens the spliced sheet and saves back the same cells."""
    out = tmp_path / "out"
    args = ["--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(odd_workbook)]
    result = soffice(args, tmp_path)
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(out / odd_workbook.name)["Odd"]
    for row, expected in zip(body(sheet), ROWS, strict=True):
        assert row[0].value == (expected[0] or None)  # \r, padding, &<>", emoji: all kept
        share = expected[1]
        if share is not None and math.isfinite(share):
            assert row[1].value == pytest.approx(share, rel=1e-14)  # LibreOffice keeps 15 digits
        flag = {True: "=TRUE()", False: "=FALSE()", None: None}[expected[4]]
        assert row[4].value == flag  # how LibreOffice saves a boolean
