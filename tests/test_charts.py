"""Chart specs → Altair → SVG: brand colours, labels, axis formats, no fetching."""

from __future__ import annotations

import dataclasses
import re

import pytest

from reportgen.document import Brand, Chart, ChartSeries
from reportgen.formatting import d3_format
from reportgen.render.charts.svg import chart_to_altair, chart_to_svg, sanitize_svg, wrap_label

from ._sample import WEEKS

REGIONS = ("North America", "Europe", "South Asia")


def _line(
    fmt: str = "seconds", values: tuple[float, ...] | None = None, target: float = 50.0
) -> Chart:
    values = values or tuple(48.0 + (i % 3) for i in range(13))
    return Chart(
        title="Trend",
        chart_type="line",
        categories=WEEKS,
        series=(
            ChartSeries("Average handle time", values, "primary"),
            ChartSeries("Target", (target,) * 13, "target"),
        ),
        value_format=fmt,  # type: ignore[arg-type]
        value_label="value",
        highlight=WEEKS[-1],
    )


def _bar(categories: tuple[str, ...] = REGIONS, fmt: str = "count") -> Chart:
    n = len(categories)
    return Chart(
        title="By region",
        chart_type="bar",
        categories=categories,
        series=(
            ChartSeries("2026-W47", tuple(100.0 + i for i in range(n)), "primary"),
            ChartSeries("2026-W46", tuple(90.0 + i for i in range(n)), "comparison"),
        ),
        value_format=fmt,  # type: ignore[arg-type]
        value_label="decisions",
    )


def _quantitative_axes(spec: dict) -> list[dict]:
    """Every axis definition of a quantitative encoding in a (layered) spec."""
    found = []
    for layer in spec.get("layer", [spec]):
        for channel in ("x", "y"):
            encoding = layer.get("encoding", {}).get(channel, {})
            if encoding.get("type") == "quantitative" and "axis" in encoding:
                found.append(encoding["axis"])
    return found


def _y_scale(spec: dict) -> dict:
    return next(
        layer["encoding"]["y"]["scale"] for layer in spec["layer"] if "y" in layer["encoding"]
    )


def test_line_svg_has_period_labels_and_brand_colours(brand: Brand) -> None:
    svg = chart_to_svg(_line(), brand)
    for week in WEEKS:
        assert week in svg
    for colour in (brand.primary, brand.muted, brand.accent):
        assert colour.lower() in svg.lower()


def test_bar_svg_has_segment_labels_and_brand_colours(brand: Brand) -> None:
    svg = chart_to_svg(_bar(), brand)
    for region in REGIONS:
        assert region in svg
    for colour in (brand.primary, brand.secondary):
        assert colour.lower() in svg.lower()


@pytest.mark.parametrize("chart", [_line(), _bar()], ids=["line", "bar"])
def test_svg_references_nothing_external(brand: Brand, chart: Chart) -> None:
    svg = chart_to_svg(chart, brand)
    without_namespaces = re.sub(r'xmlns(:\w+)?="[^"]*"', "", svg)
    assert "http" not in without_namespaces
    assert "href" not in svg
    assert re.findall(r"url\(\s*['\"]?\s*([^#\s'\"])", svg) == []  # only url(#local) ids
    assert "<image" not in svg and "<script" not in svg and "@import" not in svg


@pytest.mark.parametrize("fmt", ["count", "percent", "seconds", "rate", "hours", "decimal"])
@pytest.mark.parametrize("kind", ["line", "bar"])
def test_axis_format_is_d3_format(brand: Brand, fmt: str, kind: str) -> None:
    chart = _line(fmt) if kind == "line" else _bar(fmt=fmt)
    axes = _quantitative_axes(chart_to_altair(chart, brand).to_dict())
    assert axes, "no quantitative axis found"
    assert {axis["format"] for axis in axes} == {d3_format(fmt)}


def test_percent_axis_is_padded_not_zero_based(brand: Brand) -> None:
    values = tuple(0.90 + i * 0.002 for i in range(13))
    scale = _y_scale(chart_to_altair(_line("percent", values, 0.93), brand).to_dict())
    assert scale["zero"] is False
    low, high = scale["domain"]
    assert 0 < low < min(values) and max(values) < high <= 1.0


def test_count_axis_starts_at_zero_when_the_data_is_near_it(brand: Brand) -> None:
    values = tuple(1_000.0 * i for i in range(13))
    scale = _y_scale(chart_to_altair(_line("count", values, 10_000.0), brand).to_dict())
    assert scale["zero"] is True
    assert "domain" not in scale


def test_count_line_far_from_zero_gets_an_axis_that_fits_it(brand: Brand) -> None:
    values = tuple(400_000.0 + i for i in range(13))  # a 0–400k axis would draw a flat line
    scale = _y_scale(chart_to_altair(_line("count", values, 410_000.0), brand).to_dict())
    assert scale["zero"] is False
    assert scale["domain"][0] > 300_000


def test_percent_bars_start_at_zero_and_end_at_100_percent(brand: Brand) -> None:
    chart = dataclasses.replace(
        _bar(fmt="percent"), series=(ChartSeries("2026-W47", (0.97, 0.99, 0.95), "primary"),)
    )
    scale = chart_to_altair(chart, brand).to_dict()["layer"][0]["encoding"]["x"]["scale"]
    assert scale["domain"] == [0.0, 1.0]


def test_target_is_dashed_in_muted_and_primary_in_brand_primary(brand: Brand) -> None:
    spec = chart_to_altair(_line(), brand).to_dict()
    encoding = spec["layer"][0]["encoding"]
    colours = dict(
        zip(encoding["color"]["scale"]["domain"], encoding["color"]["scale"]["range"], strict=True)
    )
    dashes = dict(
        zip(
            encoding["strokeDash"]["scale"]["domain"],
            encoding["strokeDash"]["scale"]["range"],
            strict=True,
        )
    )
    assert colours == {"Average handle time": brand.primary, "Target": brand.muted}
    assert dashes["Target"] != [1, 0] and dashes["Average handle time"] == [1, 0]


def test_highlighted_period_is_drawn_in_accent(brand: Brand) -> None:
    spec = chart_to_altair(_line(), brand).to_dict()
    accent_marks = [layer for layer in spec["layer"] if layer["mark"].get("color") == brand.accent]
    assert accent_marks
    assert all(WEEKS[-1] in str(layer["transform"]) for layer in accent_marks)


def test_current_period_value_is_labelled(brand: Brand) -> None:
    values = (*(48.0,) * 12, 61.4)
    svg = chart_to_svg(_line("seconds", values), brand)
    assert re.search(r'aria-roledescription="text mark"[^>]*>61.4</text>', svg)


@pytest.mark.parametrize(
    ("label", "chars", "lines"),
    [
        ("Change 55.6 s → 62.7 s", 20, ["Change 55.6 s →", "62.7 s"]),  # not "… 62.7" / "s"
        ("Change vs 2026-W46 at MEX-1", 15, ["Change vs", "2026-W46 at", "MEX-1"]),
        ("workforce-management queue", 15, ["workforce-", "management", "queue"]),
    ],
)
def test_a_label_wraps_between_words_never_inside_a_period_code_or_quantity(
    label: str, chars: int, lines: list[str]
) -> None:
    assert wrap_label(label, chars, max_lines=3).split("\n") == lines


def test_long_label_is_wrapped_and_keeps_full_text_as_title(brand: Brand) -> None:
    long_label = "Harassment and bullying escalations from the EMEA night shift overflow queue"
    svg = chart_to_svg(_bar((long_label, "Europe")), brand, width=480)
    assert f"<title>{long_label}</title>" in svg
    assert "<tspan" in svg  # drawn on more than one line


def test_labels_cut_to_the_same_text_stay_separate_bars(brand: Brand) -> None:
    prefix = "Spam and scams escalations, vendor site Lisbon, overflow queue number "
    labels = tuple(f"{prefix}{i}" for i in range(14))
    spec = chart_to_altair(_bar(labels), brand, width=480).to_dict()
    drawn = {row["segment"] for row in spec["data"]["values"]}
    assert len(drawn) == len(labels)


def test_hostile_label_is_escaped_text_in_svg(brand: Brand) -> None:
    label = '<script>alert(1)</script><img src="file:///etc/passwd">'
    svg = chart_to_svg(_bar((label, "Europe")), brand, width=1000)
    assert "<script" not in svg and "<img" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_sanitize_svg_drops_fetching_and_active_content() -> None:
    hostile = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'onload="alert(1)"><image href="http://169.254.169.254/"/><script>alert(1)</script>'
        '<rect style="fill: url(http://example.com/x)" width="1" height="1"/>'
        '<use xlink:href="file:///etc/passwd"/><text>ok</text></svg>'
    )
    clean = sanitize_svg(hostile)
    assert "169.254" not in clean and "example.com" not in clean and "passwd" not in clean
    assert "alert" not in clean
    assert "<text>ok</text>" in clean


def test_negative_values_stay_inside_a_zero_based_axis(brand: Brand) -> None:
    chart = dataclasses.replace(
        _bar(), series=(ChartSeries("2026-W47", (-5.0, 3.0, 1.0), "primary"),)
    )
    scale = chart_to_altair(chart, brand).to_dict()["layer"][0]["encoding"]["x"]["scale"]
    assert scale["zero"] is True and "domain" not in scale  # Vega spans min..max and zero


def test_missing_and_non_finite_values_become_gaps(brand: Brand) -> None:
    chart = dataclasses.replace(
        _line(), series=(ChartSeries("AHT", (48.0, None, float("nan"), *(50.0,) * 10)),)
    )
    values = [row["value"] for row in chart_to_altair(chart, brand).to_dict()["data"]["values"]]
    assert values[1] is None and values[2] is None
    assert "<svg" in chart_to_svg(chart, brand)


# -- waterfall --------------------------------------------------------------------------------


def _waterfall() -> Chart:
    return Chart(
        title="What drove AHT",
        chart_type="waterfall",
        categories=("Misinformation", "Harassment", "Other", "Change 47 s → 57 s"),
        series=(ChartSeries("AHT", (4.2, 6.6, -1.3, 9.5), "primary"),),
        value_format="seconds",
        value_label="seconds",
        point_sentiments=("bad", "bad", "good", None),
    )


def test_waterfall_bars_start_at_zero():
    from reportgen.render.charts.svg import waterfall_rows

    rows = waterfall_rows(_waterfall())
    assert [(r["lo"], r["hi"]) for r in rows] == [(0.0, 4.2), (0.0, 6.6), (0.0, -1.3), (0.0, 9.5)]
    assert [r["kind"] for r in rows] == ["bad", "bad", "good", "total"]
    assert sum(r["hi"] for r in rows[:-1]) == pytest.approx(rows[-1]["hi"])


def test_waterfall_labels_read_like_the_tables():
    from reportgen.render.charts.svg import waterfall_rows

    labels = [r["label"] for r in waterfall_rows(_waterfall())]
    assert labels == ["+4.2 s", "+6.6 s", "−1.3 s", "+9.5 s"]


def test_waterfall_axis_runs_through_zero(brand):
    from reportgen.render.charts.svg import chart_to_altair

    spec = chart_to_altair(_waterfall(), brand).to_dict()
    domain = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert domain[0] < -1.3 and domain[1] > 9.5


def test_waterfall_svg_colours_steps_by_sentiment(brand):
    svg = chart_to_svg(_waterfall(), brand)
    assert brand.bad.lower() in svg.lower()
    assert brand.good.lower() in svg.lower()
    assert "Misinformation" in svg
