"""The deck's weekly business review chart: the normal range ends with the last actual week and
the forecast's likely range starts with the first forecast week — no band tapering to a point
between them — and the chart stays native and editable.

The deck is the session's leadership build of 2026-W47 (``built_report``); each band's drawn
edges are checked against figures.json (the anomaly model's band, the forecast's range). The
look is checked through LibreOffice: one slide with the Decisions chart, converted to PDF,
rasterised, and the band's colours measured column by column.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pptx import Presentation
from pptx.oxml.ns import qn
from pptx.util import Inches

from reportgen.document import Chart, ChartSeries
from reportgen.render.charts.rules import band_colour, forecast_band_colour
from reportgen.render.pptx._template import Frame
from reportgen.render.pptx._wbr import (
    BAND_BASE,
    BAND_WIDTH,
    FORECAST_BASE,
    add_wbr_chart,
    band_series,
)

from ._office import convert_to_pdf

REL = 1e-9
LIKELY = "Likely range (80%)"


def weeks_charts(pptx: Path) -> dict[str, object]:
    """Metric label → the deck's banded weeks chart (first one found: the metric's own slide)."""
    found: dict[str, object] = {}
    for slide in Presentation(str(pptx)).slides:
        for shape in slide.shapes:
            if not shape.has_chart or len(shape.chart.plots) != 2:
                continue
            chart = shape.chart
            title = chart.chart_title.text_frame.text if chart.has_title else ""
            if title.startswith("Last") and "weeks" in title:
                found.setdefault(chart.plots[1].series[0].name, chart)
    return found


def points(chart, name: str) -> dict[int, float]:
    """A series' values as the chart part stores them: index → value, a gap has no point."""
    series = next(s for s in chart.plots[0].series if s.name == name)
    return {
        int(pt.get("idx")): float(pt.find(qn("c:v")).text)
        for pt in series._element.find(qn("c:val")).iter(qn("c:pt"))
    }


@pytest.fixture(scope="module")
def deck_charts(built_report) -> dict[str, object]:
    return weeks_charts(built_report.artifacts["pptx"])


@pytest.fixture(scope="module")
def metric_by_label(built_report) -> dict[str, dict]:
    figures = json.loads(built_report.artifacts["figures"].read_text(encoding="utf-8"))
    return {m["label"]: m for m in figures["metrics"].values()}


@pytest.fixture(scope="module")
def forecasts(built_report) -> dict:
    return {f.metric: f for f in built_report.insights.outlook.forecasts}


def test_every_banded_weeks_chart_draws_its_bands_as_stacked_columns_with_gaps(deck_charts):
    assert len(deck_charts) >= 10
    for label, chart in deck_charts.items():
        space = chart._chartSpace
        bars = space.chart.plotArea.find(qn("c:barChart"))
        assert bars is not None, label
        assert bars.find(qn("c:grouping")).get("val") == "stacked", label
        assert bars.find(qn("c:gapWidth")).get("val") == "0", label  # one band, not bars
        assert bars.find(qn("c:overlap")).get("val") == "100", label
        assert space.chart.find(qn("c:dispBlanksAs")).get("val") == "gap", label
        assert space.chart.plotArea.find(qn("c:areaChart")) is None, label
        # each week's point in the middle of its column
        value_axis = space.chart.plotArea.find(qn("c:valAx"))
        assert value_axis.find(qn("c:crossBetween")).get("val") == "between", label


def test_the_normal_range_has_no_value_after_the_last_actual_week(deck_charts):
    for label, chart in deck_charts.items():
        categories = list(chart.plots[0].categories)
        last = max(i for i, v in enumerate(chart.plots[1].series[0].values) if v is not None)
        for name in (BAND_BASE, BAND_WIDTH):
            drawn = points(chart, name)
            assert drawn, (label, name)
            assert max(drawn) <= last, (label, name, categories[max(drawn)])


def test_the_likely_range_has_no_value_up_to_the_last_actual_week(deck_charts):
    with_forecast = {k: c for k, c in deck_charts.items() if "W51" in c.plots[0].categories}
    assert {"Decisions", "Average handle time", "Throughput"} <= set(with_forecast)
    for label, chart in with_forecast.items():
        categories = list(chart.plots[0].categories)
        last = max(i for i, v in enumerate(chart.plots[1].series[0].values) if v is not None)
        assert categories[last].startswith("W47"), label
        for name in (FORECAST_BASE, LIKELY):
            drawn = points(chart, name)
            assert sorted(drawn) == list(range(last + 1, len(categories))), (label, name)


def test_the_stacked_columns_rebuild_each_weeks_normal_range(deck_charts, metric_by_label):
    for label, chart in deck_charts.items():
        actual = [v for v in chart.plots[1].series[0].values if v is not None]
        shown = metric_by_label[label]["series"][-len(actual) :]
        scale = actual[-1] / shown[-1]["value"]  # a duration is drawn in its display unit
        assert [p["value"] * scale for p in shown] == pytest.approx(actual, rel=REL), label
        base, width = points(chart, BAND_BASE), points(chart, BAND_WIDTH)
        for i, point in enumerate(shown):
            band = point.get("expected_band")
            if band is None:
                assert i not in base and i not in width, (label, i)
                continue
            low, high = band["low"] * scale, band["high"] * scale
            assert base[i] == pytest.approx(low, rel=REL, abs=1e-12), (label, i)
            assert base[i] + width[i] == pytest.approx(high, rel=REL), (label, i)


def test_the_stacked_columns_rebuild_the_forecasts_likely_range(deck_charts, forecasts):
    for metric, label in (("aht", "Average handle time"), ("decisions", "Decisions")):
        f, chart = forecasts[metric], deck_charts[label]
        base, width = points(chart, FORECAST_BASE), points(chart, LIKELY)
        first = min(base)
        lows = [base[first + k] for k in range(4)]
        highs = [base[first + k] + width[first + k] for k in range(4)]
        assert lows == pytest.approx(f.lower[:4], rel=REL)
        assert highs == pytest.approx(f.upper[:4], rel=REL)


def test_the_legend_names_each_band_once_and_no_transparent_base(deck_charts):
    chart = deck_charts["Average handle time"]
    legend = chart._chartSpace.chart.find(qn("c:legend"))
    hidden = {int(e.find(qn("c:idx")).get("val")) for e in legend.findall(qn("c:legendEntry"))}
    names = [s.name for s in chart.plots[0].series]
    assert {names[i] for i in hidden} == {BAND_BASE, FORECAST_BASE}


# -- bands below and across zero (Office stacks negative values down from zero on their own) --


def office_stack(series: tuple[ChartSeries, ...], week: int) -> list[tuple[float, float, str]]:
    """The (low, high, role) each series is drawn over in one stacked column, as Office
    draws it: positive values up from zero, negative values down from zero, in series order."""
    up = down = 0.0
    drawn = []
    for s in series:
        v = s.values[week]
        if v is None:
            continue
        if v >= 0:
            drawn.append((up, up + v, s.role))
            up += v
        else:
            drawn.append((down + v, down, s.role))
            down += v
    return drawn


def banded(low: list[float], high: list[float]) -> Chart:
    return Chart(
        title="Net change",
        chart_type="wbr",
        categories=tuple(f"W{40 + i}" for i in range(len(low))),
        series=(
            ChartSeries(
                "Net change", tuple((a + b) / 2 for a, b in zip(low, high, strict=True)), "primary"
            ),
            ChartSeries("Normal range", tuple(low), "band_low"),
            ChartSeries("Normal range", tuple(high), "band_high"),
        ),
        value_format="number",
        value_label="",
    )


@pytest.mark.parametrize(
    ("low", "high"),
    [([2.0, 3.0], [5.0, 4.0]), ([-6.0, -4.0], [-1.0, -2.5]), ([-3.0, -0.5], [4.0, 0.5])],
    ids=["above zero", "below zero", "across zero"],
)
def test_a_band_is_drawn_exactly_between_its_edges_on_either_side_of_zero(low, high):
    series = band_series(banded(low, high))
    assert series is not None
    for week, (lo, hi) in enumerate(zip(low, high, strict=True)):
        coloured = [(a, b) for a, b, role in office_stack(series, week) if role == "band_high"]
        assert min(a for a, _ in coloured) == pytest.approx(lo)
        assert max(b for _, b in coloured) == pytest.approx(hi)
        assert sum(b - a for a, b in coloured) == pytest.approx(hi - lo)  # no overlap, no hole


def test_a_week_the_model_does_not_judge_is_a_gap_in_the_band():
    chart = banded([1.0, 1.0, 1.0], [2.0, 2.0, 2.0])
    primary, low, high = chart.series
    chart = replace(
        chart,
        series=(
            primary,
            replace(low, values=(1.0, None, 1.0)),
            replace(high, values=(2.0, None, 2.0)),
        ),
    )
    series = band_series(chart)
    assert series is not None
    assert [s.values[1] for s in series] == [None] * len(series)


# -- as LibreOffice draws it ------------------------------------------------------------------


def colour_counts(image: np.ndarray, hex_colour: str) -> np.ndarray:
    """Pixels of ``hex_colour`` (±1 per channel: the fill's own pixels) in each column."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return (np.abs(image[:, :, :3].astype(int) - rgb).max(axis=2) <= 1).sum(axis=0)


@pytest.mark.slow
def test_libreoffice_draws_the_normal_range_ending_square_and_the_likely_range_after_it(
    built_report, brand, tmp_path
):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not on PATH")
    spec = next(
        block
        for section in built_report.document.sections
        for block in section.blocks
        if getattr(block, "kind", None) == "chart"
        and block.chart_type == "wbr"
        and block.series[0].name == "Decisions"
    )
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    add_wbr_chart(slide, spec, Frame(Inches(0.3), Inches(0.3), Inches(9.4), Inches(6.5)), brand)
    path = tmp_path / "band.pptx"
    deck.save(str(path))
    result, pdf = convert_to_pdf(path, tmp_path)
    assert result.returncode == 0 and pdf.exists(), result.stderr
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(tmp_path / "p")], check=True)
    image = np.asarray(Image.open(next(tmp_path.glob("p*.png"))).convert("RGB"))

    normal = colour_counts(image, band_colour(brand))
    likely = colour_counts(image, forecast_band_colour(brand))
    normal_x = np.flatnonzero(normal >= 20)  # a band's columns (gridlines are a pixel or two)
    likely_x = np.flatnonzero(likely >= 20)
    assert normal_x.size and likely_x.size
    # one after the other, touching: the likely range starts where the normal range ends
    assert normal_x.max() < likely_x.min() <= normal_x.max() + 3
    # square ends: as tall at the seam as the band is elsewhere, not tapering to a point
    assert normal[normal_x.max() - 1] >= 0.8 * np.median(normal[normal_x])
    assert likely[likely_x.min() + 1] >= 0.6 * np.median(likely[likely_x])


def test_panels_sharing_a_value_axis_share_their_plot_areas_height(built_report):
    """One value axis, one scale: the months' plot area is as tall and as high as the weeks',
    so a level sits on the same gridline in both panels (flow totals keep their own axis)."""
    checked = 0
    for slide in Presentation(str(built_report.artifacts["pptx"])).slides:
        charts = [s.chart for s in slide.shapes if s.has_chart]
        titles = [c.chart_title.text_frame.text if c.has_title else "" for c in charts]
        if not any(t.startswith("Last 12 months") for t in titles):
            continue
        weeks = next(c for c, t in zip(charts, titles, strict=True) if t.startswith("Last 6 weeks"))
        months = next(c for c, t in zip(charts, titles, strict=True) if t.startswith("Last 12"))
        labels = months.value_axis._element.find(qn("c:tickLblPos")).get("val")
        if labels != "none":  # a flow total: the months' own axis, laid out on its own
            continue
        boxes = []
        for chart in (weeks, months):
            manual = chart._chartSpace.chart.plotArea.find(
                f"{qn('c:layout')}/{qn('c:manualLayout')}"
            )
            assert manual.find(qn("c:layoutTarget")).get("val") == "inner"
            boxes.append({k: float(manual.find(qn(f"c:{k}")).get("val")) for k in "xywh"})
        assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["h"] == boxes[1]["h"]
        assert weeks.value_axis.minimum_scale == months.value_axis.minimum_scale
        assert weeks.value_axis.maximum_scale == months.value_axis.maximum_scale
        checked += 1
    assert checked >= 5
