"""Small numbers and missing data are visible, not dramatic (issue #17)."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

YOUNG_REPORT = {
    "id": "young_monthly",
    "title": "Young data, monthly",
    "catalog": "../catalog.yaml",
    "sources": "../sources.yaml",
    "brand": "../brands/default.yaml",
    "period": {"grain": "month", "timezone": "UTC"},
    "metrics": ["decisions", "qa_accuracy"],
    "breakdowns": ["region"],
    "trailing_periods": 13,
    "sections": ["summary", "metrics"],
    "outputs": ["xlsx"],
}


@pytest.fixture(scope="module")
def young_build(tmp_path_factory, demo_configs: Path):
    """A monthly report over 26 weeks of data: seven of its thirteen months precede the data."""
    from reportgen import build_report
    from reportgen.demo import generate_demo_data

    root = tmp_path_factory.mktemp("young")
    generate_demo_data(root / "data", rows=20_000, weeks=26, seed=3)
    configs = root / "configs"
    shutil.copytree(demo_configs, configs)
    shutil.copytree(demo_configs.parent / "templates", root / "templates")
    sources = configs / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    demo = str(Path(yaml.safe_load(text)["targets"]["path"]).parent)
    sources.write_text(text.replace(demo, str(root / "data")), encoding="utf-8")
    path = configs / "reports" / "young.yaml"
    path.write_text(yaml.safe_dump(YOUNG_REPORT, sort_keys=False), encoding="utf-8")
    return build_report(
        path,
        period="2026-10",
        formats=["xlsx"],
        out_dir=root / "out",
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )


def test_periods_before_the_data_are_empty_not_zero(young_build) -> None:
    figures = json.loads(young_build.artifacts["figures"].read_text(encoding="utf-8"))
    series = figures["metrics"]["decisions"]["series"]
    before = [p for p in series if p["period"] < "2026-05"]
    assert len(before) >= 6
    assert all(p["value"] is None for p in before)
    assert series[-1]["value"] > 0


def test_workbook_leaves_periods_before_the_data_empty(young_build) -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(young_build.artifacts["xlsx"])["Series"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    rows = [
        dict(zip(header, (c.value for c in r), strict=False)) for r in sheet.iter_rows(min_row=2)
    ]
    early = [r for r in rows if str(r.get("Period", "")) < "2026-05" and r.get("Period")]
    assert early, header
    assert all(r["Value"] is None for r in early)


def test_trend_chart_has_gaps_before_the_data(young_build) -> None:
    from reportgen.document import Chart

    section = next(s for s in young_build.document.sections if s.id == "decisions")
    trend = next(b for b in section.blocks if isinstance(b, Chart) and b.chart_type == "line")
    values = trend.series[0].values
    assert values[0] is None and values[-1] is not None


# -- small samples, targets and wording in breakdown tables (the session's built report) ------


@pytest.fixture(scope="module")
def report(weekly_config: Path):
    from reportgen.config import load_report

    return load_report(weekly_config)


def _with_small_sample(m, dim: str = "region", floor_n: float = 1.0):
    """The metric's segments with the last one made 1 of 1 (100 %): a small sample."""
    from dataclasses import replace

    from reportgen.figures import Stats

    segments = list(m.breakdowns[dim])
    tiny = replace(
        segments[-1],
        value=1.0,
        delta=1.0 - (segments[-1].previous or 0.0),
        stats=Stats(numerator=floor_n, denominator=floor_n),
    )
    return tuple([*segments[:-1], tiny])


def test_breakdown_table_shows_numerator_and_denominator_beside_the_rate(built_report) -> None:
    from reportgen.document import Table

    section = next(s for s in built_report.document.sections if s.id == "overturn_rate")
    table = next(b for b in section.blocks if isinstance(b, Table))
    keys = [c.key for c in table.columns]
    assert keys[:3] == ["segment", "value", "n"]
    first = built_report.figures.metrics["overturn_rate"].breakdowns["region"][0]
    assert table.rows[0][2].text == f"{first.stats.numerator:,.0f} / {first.stats.denominator:,.0f}"


def test_small_sample_rows_are_greyed_marked_and_neutral(built_report, report) -> None:
    from reportgen.compose._core import breakdown_table

    m = built_report.figures.metrics["overturn_rate"]
    segments = _with_small_sample(m)
    table = breakdown_table(report.metric("overturn_rate"), m, "Region", segments, small_sample=30)
    last = len(segments) - 1
    assert table.muted_rows == (last,)
    assert table.rows[last][0].text.endswith("(small sample)")
    assert table.rows[last][0].value == segments[-1].segment
    change = next(
        c for c, col in zip(table.rows[last], table.columns, strict=True) if col.key == "delta"
    )
    assert change.sentiment == "neutral"
    assert "small sample" in (table.caption or "").lower()


def test_small_sample_is_greyed_in_pdf_html_and_pptx_cells(built_report, report, brand) -> None:
    from pptx import Presentation

    from reportgen.compose._core import breakdown_table
    from reportgen.render.pptx._table import draw_table, fit_table
    from reportgen.render.pptx._template import Frame

    m = built_report.figures.metrics["overturn_rate"]
    table = breakdown_table(
        report.metric("overturn_rate"), m, "Region", _with_small_sample(m), small_sample=30
    )
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    fit = fit_table(table, 8_000_000)
    draw_table(slide, table, range(len(table.rows)), fit, Frame(0, 0, 8_000_000, 5_000_000), brand)
    grid = slide.shapes[0].table
    run = grid.cell(len(table.rows), 0).text_frame.paragraphs[0].runs[0]
    assert str(run.font.color.rgb) == brand.muted.lstrip("#").upper()


def test_small_sample_does_not_stretch_the_chart_axis(built_report) -> None:
    from reportgen.compose._core import breakdown_chart
    from reportgen.render.charts.rules import axis_values
    from reportgen.render.pptx._chart import value_axis_bounds

    m = built_report.figures.metrics["overturn_rate"]
    segments = _with_small_sample(m)
    chart = breakdown_chart(m, "Region", segments, built_report.figures, small_sample=30)
    assert chart.muted_categories == (segments[-1].segment,)
    assert max(axis_values(chart)) < 0.5
    _low, high, _step = value_axis_bounds(chart)
    assert high < 0.6


def test_small_sample_anomalies_are_not_headlines(built_report, report) -> None:
    from dataclasses import replace

    from reportgen.compose._core import summary_section
    from reportgen.compose._insights import anomalies_section
    from reportgen.compose.figures_json import _plain

    insights = built_report.insights
    small = replace(insights.anomalies[0], small_sample=True)
    changed = replace(insights, anomalies=(small, *insights.anomalies[1:]))
    assert small not in changed.headline_anomalies
    section = anomalies_section(report, built_report.figures, changed)
    text = " ".join(str(b) for b in section.blocks)
    assert small.id not in text
    assert small.id not in " ".join(
        str(b) for b in summary_section(report, built_report.figures, changed).blocks
    )
    assert _plain(small)["small_sample"] is True


def test_anomalies_below_the_floor_are_flagged_small_sample(built_report) -> None:
    from reportgen.analysis.insights import _is_small

    a = built_report.insights.anomalies[0]
    from dataclasses import replace

    assert _is_small(replace(a, segment="X", volume=5.0), 30.0)
    assert not _is_small(replace(a, segment="X", volume=500.0), 30.0)
    assert not _is_small(replace(a, segment=None, volume=5.0), 30.0)


def test_segment_targets_show_met_or_missed(built_report, report) -> None:
    from dataclasses import replace

    from reportgen.compose._core import breakdown_table

    m = built_report.figures.metrics["qa_accuracy"]
    segments = list(m.breakdowns["region"])
    segments[0] = replace(segments[0], value=0.869, target=0.88)
    segments[1] = replace(segments[1], value=0.95, target=0.88)
    table = breakdown_table(report.metric("qa_accuracy"), m, "Region", tuple(segments))
    target = [c.key for c in table.columns].index("target")
    assert table.rows[0][target].text.endswith("MISSED")
    assert table.rows[0][target].sentiment == "bad"
    assert table.rows[1][target].text.endswith("MET")
    assert table.rows[1][target].sentiment == "good"


def test_share_wording_comes_from_the_metric_definition(built_report, report) -> None:
    from reportgen.compose._core import breakdown_table

    m = built_report.figures.metrics["aht"]
    metric = report.metric("aht")
    segments = m.breakdowns["region"]
    manual = breakdown_table(metric, m, "Region", segments)
    assert "share of manual volume" in (manual.caption or "")
    plain = metric.model_copy(update={"description": "Mean seconds spent on a decision."})
    caption = breakdown_table(plain, m, "Region", segments).caption or ""
    assert "share of volume" in caption and "manual" not in caption


def test_anomaly_sentences_name_dimensions_by_their_label(built_report) -> None:
    from dataclasses import replace
    from types import SimpleNamespace

    from reportgen.analysis.insights import _worded

    a = replace(
        built_report.insights.anomalies[0],
        dimension="policy_area",
        segment="Hate Speech",
        detail="AHT in policy_area Hate Speech was 70 s vs a median of 60 s.",
    )
    stub = SimpleNamespace(
        catalog=SimpleNamespace(dimensions={"policy_area": SimpleNamespace(label="Policy area")})
    )
    worded = _worded(a, stub, small_sample=False)  # type: ignore[arg-type]
    assert "policy_area" not in worded.detail
    assert "in policy area Hate Speech" in worded.detail


def test_a_return_from_an_unusual_previous_week_is_neutral(built_report) -> None:
    from reportgen.document import KpiGrid

    recoveries = built_report.insights.recoveries
    assert recoveries.get("time_to_action_p90") == "adverse"
    assert recoveries.get("backlog") == "adverse"
    summary = built_report.document.sections[0]
    grid = next(b for b in summary.blocks if isinstance(b, KpiGrid))
    tiles = {t.metric: t for t in grid.tiles}
    for name in ("time_to_action_p90", "backlog"):
        assert tiles[name].delta.sentiment == "neutral"
        # the leadership tile says it as a reader would; the metric section keeps the analysis
        assert "2026-W46 was itself unusual" in (tiles[name].note or "")
    section = next(s for s in built_report.document.sections if s.id == "time_to_action_p90")
    assert "recovered from an unusual 2026-W46" in " ".join(section.blocks[0].paragraphs)


# -- layout and chart craft ---------------------------------------------------------------------


def _deck(built_report):
    from pptx import Presentation

    return Presentation(str(built_report.artifacts["pptx"]))


def test_a_numbered_slide_follows_its_predecessor(built_report) -> None:
    import re

    titles = [s.shapes.title.text for s in _deck(built_report).slides]
    for before, title in itertools.pairwise(titles):
        found = re.fullmatch(r"(.*) \((\d+) of (\d+)\)", title)
        if found and int(found[2]) > 1:
            base, n, total = found[1], int(found[2]), found[3]
            assert before == f"{base} ({n - 1} of {total})", (before, title)


def test_a_breakdown_table_is_never_on_a_slide_before_its_chart(built_report) -> None:
    slides = list(_deck(built_report).slides)
    charts = [{sh.name for sh in s.shapes if sh.has_chart} for s in slides]
    for index, slide in enumerate(slides):
        for shape in slide.shapes:
            if shape.has_table and index + 1 < len(slides):
                later = charts[index + 1] - charts[index]
                assert shape.name not in later, (slide.shapes.title.text, shape.name)


def test_breakdown_tables_that_fit_a_page_never_split_in_the_pdf(built_report) -> None:
    from reportgen.document import Table
    from reportgen.render.html.page import TableView, column_widths, row_groups

    for section in built_report.document.sections:
        for block in section.blocks:
            if isinstance(block, Table) and " by " in block.title:
                view = TableView(block, column_widths(block), row_groups(len(block.rows)))
                assert view.short, block.title


def test_right_aligned_cells_get_the_width_they_need() -> None:
    from reportgen.document import Cell, Column, Table
    from reportgen.render.html.page import (
        HALF_WIDTH,
        TABLE_CELL_PADDING_PX,
        TABLE_CHAR_PX,
        column_widths,
    )

    table = Table(
        "t",
        (Column("metric", "Metric", "left"), Column("effect", "Effect size")),
        ((Cell("Throughput"), Cell("−0.122 (log rate ratio)")),),
    )
    widths = column_widths(table, HALF_WIDTH)
    need = len("−0.122 (log rate ratio)") * TABLE_CHAR_PX + TABLE_CELL_PADDING_PX
    assert widths[1] / 100 * HALF_WIDTH >= need - 0.1


def test_a_line_far_from_zero_gets_an_axis_that_fits_it() -> None:
    from reportgen.document import Chart, ChartSeries
    from reportgen.render.charts.svg import value_domain
    from reportgen.render.pptx._chart import value_axis_bounds

    chart = Chart(
        "Decisions",
        "line",
        ("W1", "W2", "W3"),
        (ChartSeries("Decisions", (33_000.0, 35_500.0, 33_674.0)),),
        "count",
        "count",
    )
    low, _high = value_domain(chart)
    assert low > 20_000
    assert value_axis_bounds(chart)[0] > 20_000
    near = Chart("x", "line", ("a", "b"), (ChartSeries("x", (1.0, 30.0)),), "count", "count")
    assert value_domain(near) is None  # near zero: from zero


def test_the_end_label_sits_away_from_the_line() -> None:
    from reportgen.document import Chart, ChartSeries
    from reportgen.render.charts._layers import _falls_to_highlight

    def chart(values):
        return Chart("t", "line", ("a", "b", "c"), (ChartSeries("s", values),), "percent", "p", "c")

    assert _falls_to_highlight(chart((0.1, 0.126, 0.12)))  # label below the point
    assert not _falls_to_highlight(chart((0.1, 0.11, 0.12)))


def test_horizontal_bars_are_stored_bottom_up_so_the_legend_reads_like_the_bars() -> None:
    """Office draws bar data from the bottom and lists a bar legend in reverse: written last to
    first, the first segment and the current period are on top and the legend reads W47, W46."""
    from reportgen.document import Chart, ChartSeries
    from reportgen.render.pptx._chart import bottom_up

    chart = Chart(
        "AHT by region",
        "bar",
        ("Southeast Asia", "Europe", "North America"),
        (
            ChartSeries("2026-W47", (61.0, 65.0, 64.0), "primary"),
            ChartSeries("2026-W46", (52.0, 59.0, 57.0), "comparison"),
        ),
        "seconds",
        "seconds",
    )
    drawn = bottom_up(chart)
    assert drawn.categories == ("North America", "Europe", "Southeast Asia")
    assert [s.name for s in drawn.series] == ["2026-W46", "2026-W47"]
    assert drawn.series[1].values == (64.0, 65.0, 61.0)


def test_a_table_longer_than_a_page_continues_with_its_title() -> None:
    from reportgen.document import Cell, Column, Table
    from reportgen.render.html.page import SHORT_TABLE_ROWS, continued_parts

    rows = tuple((Cell(f"Site {i}"), Cell(str(i))) for i in range(30))
    table = Table(
        "Sites", (Column("s", "Site", "left"), Column("n", "n")), rows, "cap", muted_rows=(27,)
    )
    parts = continued_parts(table)
    assert [p.title for p in parts] == ["Sites", "Sites (continued)"]
    assert all(len(p.rows) <= SHORT_TABLE_ROWS for p in parts)
    assert [len(p.rows) for p in parts] == [15, 15]  # balanced: no short tail
    assert tuple(r for p in parts for r in p.rows) == rows
    assert parts[1].muted_rows == (12,)


def test_when_every_segment_is_small_the_current_values_set_the_axis() -> None:
    from reportgen.document import Chart, ChartSeries
    from reportgen.render.charts.rules import axis_values

    chart = Chart(
        "Overturn rate by region",
        "bar",
        ("Africa", "Europe"),
        (
            ChartSeries("2026-10", (0.0, 0.25), "primary"),
            ChartSeries("2026-09", (1.0, 0.0), "comparison"),  # 1 of 1 last month
        ),
        "percent",
        "percent",
        muted_categories=("Africa", "Europe"),
    )
    assert max(axis_values(chart)) == 0.25


def test_a_table_too_wide_for_half_the_page_is_not_set_beside_its_chart() -> None:
    from reportgen.document import Cell, Column, Table
    from reportgen.render.html.page import fits_half_width

    columns = tuple(Column(k, k.title()) for k in ("value", "n", "previous", "change", "share"))
    columns = (Column("segment", "Region", "left"), *columns)

    def table(segment: str) -> Table:
        row = (Cell(segment), *(Cell(t) for t in ("7.7%", "1 / 13", "10.0%", "−100.0 pp", "21%")))
        return Table("t", columns, (row,))

    assert fits_half_width(table("Europe"))
    assert not fits_half_width(table("North America (small sample) with a long name"))


def test_a_breakdown_too_wide_to_pair_is_stacked_under_its_chart_on_one_page(brand) -> None:
    from reportgen.document import Cell, Chart, ChartSeries, Column, Table
    from reportgen.render.html.page import Stack, _items

    title = "Appeal overturn rate by region"
    long = "North America (small sample) with a long name"
    table = Table(
        title,
        (Column("segment", "Region", "left"), *(Column(k, k) for k in "abcdef")),
        ((Cell(long), *(Cell("−100.0 pp") for _ in range(6))),),
    )
    chart = Chart(title, "bar", (long,), (ChartSeries("2026-10", (0.1,)),), "percent", "percent")
    (item,) = list(_items((table, chart), brand))
    assert isinstance(item, Stack)
    assert [cell.kind for cell in item.cells] == ["chart", "table"]  # the chart first


def test_hours_are_not_a_sample(built_report, report) -> None:
    """Throughput is decisions per productive hour: 26 hours is not a small sample."""
    from dataclasses import replace

    from reportgen.analysis.insights import _is_small
    from reportgen.compose._core import breakdown_table

    m = built_report.figures.metrics["throughput"]
    table = breakdown_table(
        report.metric("throughput"), m, "Region", m.breakdowns["region"], small_sample=1e9
    )
    assert table.muted_rows == ()
    assert "n" not in [c.key for c in table.columns]
    a = replace(built_report.insights.anomalies[0], segment="X", volume=5.0)
    assert not _is_small(a, 30.0, "ratio")


def test_small_sample_bars_are_drawn_faded_in_pdf_and_pptx(brand) -> None:
    from pptx import Presentation

    from reportgen.document import Chart, ChartSeries
    from reportgen.render.charts.svg import chart_to_altair
    from reportgen.render.pptx._chart import add_chart
    from reportgen.render.pptx._template import Frame

    chart = Chart(
        "Overturn rate by queue",
        "bar",
        ("Misinformation and fake news", "Child Safety and exploitation"),
        (ChartSeries("2026-W47", (0.14, 1.0), "primary"),),
        "percent",
        "percent",
        muted_categories=("Child Safety and exploitation",),
    )
    spec = str(chart_to_altair(chart, brand).to_dict())
    assert "datum.small" in spec and "'small': True" in spec
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    native = add_chart(slide, chart, Frame(0, 0, 8_000_000, 4_000_000), brand)
    series = native.plots[0].series[0]
    # stored bottom-up: the small sample (listed last) is the first point
    faded = str(series.points[0].format.fill.fore_color.rgb)
    assert faded != brand.primary.lstrip("#").upper()
