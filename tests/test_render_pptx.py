"""The PPTX renderer, checked by content: re-open the deck and look at what is in it.

Decks are compared by what a presenter would see and edit (slide titles,
native chart data, table cells, speaker notes), not by bytes.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import re
import sys
import zipfile
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches

from reportgen.document import (
    Brand,
    Cell,
    Chart,
    ChartSeries,
    Column,
    Definition,
    DefinitionList,
    Document,
    KpiGrid,
    Narrative,
    Section,
    Table,
)
from reportgen.errors import RenderError
from reportgen.formatting import office_number_format
from reportgen.render import get_renderer
from reportgen.render.pptx._chart import bottom_up, value_axis_bounds
from reportgen.render.pptx._slides import narrative_paras, text_box
from reportgen.render.pptx._table import MARGIN_X, TableFit, fit_table, paginate
from reportgen.render.pptx._template import Frame
from reportgen.render.pptx._text import clean_text, wrapped_lines
from reportgen.render.pptx.deck import render_pptx
from reportgen.text import NO_BREAK_SPACE, NON_BREAKING_HYPHEN, breakable

from ._office import convert_to_pdf

ROOT = Path(__file__).resolve().parent.parent
MASTER = ROOT / "templates" / "pptx" / "default.pptx"
BUILD_SCRIPT = ROOT / "scripts" / "build_pptx_master.py"
EXPECTED_TITLES = [
    "Weekly T&S Operations Review",
    "Executive summary",
    "Average handle time",
    "Average handle time — by region",
    "Metric definitions",
]


# -- helpers -----------------------------------------------------------------

CORE_SECTIONS = ("summary", "aht", "definitions")


@pytest.fixture
def doc(sample_document: Document) -> Document:
    """The shared sample limited to the sections these tests address by position, so
    that sections added to the sample for other renderers do not shift these slides."""
    sections = tuple(s for s in sample_document.sections if s.id in CORE_SECTIONS)
    return dataclasses.replace(sample_document, sections=sections)


def _render(document: Document, tmp_path: Path, name: str = "deck.pptx"):
    path = tmp_path / name
    render_pptx(document, path)
    return Presentation(str(path))


def _titles(prs) -> list[str]:
    return [slide.shapes.title.text for slide in prs.slides]


def _shapes(slide):
    """All shapes of a slide, group members included."""
    for shape in slide.shapes:
        yield shape
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from shape.shapes


def _charts(prs):
    return [shape.chart for slide in prs.slides for shape in slide.shapes if shape.has_chart]


def _chart_titled(prs, title: str):
    matches = [c for c in _charts(prs) if c.chart_title.text_frame.text == title]
    assert len(matches) == 1, f"expected one chart titled {title!r}"
    return matches[0]


def _tables(slide):
    return [shape.table for shape in slide.shapes if shape.has_table]


def _cell_texts(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def _slide_text(slide) -> str:
    """The slide's text as read: "+4.7 s" with a plain space, whatever keeps it on a line."""
    return breakable("\n".join(s.text_frame.text for s in _shapes(slide) if s.has_text_frame))


def _with_template(document: Document, template: Path) -> Document:
    brand = dataclasses.replace(document.brand, pptx_template=template)
    return dataclasses.replace(document, brand=brand)


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_pptx_master", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _long_table(rows: int) -> Table:
    return Table(
        "Average handle time by queue",
        (Column("queue", "Queue", "left"), Column("aht", "AHT"), Column("delta", "Δ")),
        tuple(
            (
                Cell(f"Queue {i} — hate speech and harassment escalations" * (1 + i % 2)),
                Cell(f"{40 + i} s", 40.0 + i),
                Cell("+1 s", 1.0, "bad"),
            )
            for i in range(rows)
        ),
    )


def _replace_section(document: Document, index: int, **changes) -> Document:
    sections = list(document.sections)
    sections[index] = dataclasses.replace(sections[index], **changes)
    return dataclasses.replace(document, sections=tuple(sections))


# -- sanitising ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain text", "plain text"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("bell\x07 escape\x1b null\x00", "bell escape null"),
        ("vertical\x0btab form\x0cfeed", "verticaltab formfeed"),
        ("windows\r\nline", "windows\nline"),
        ("del\x7f c1\x85", "del c1"),
        ("lone \ud800 surrogate \udfff", "lone  surrogate "),
        ("non-characters \ufffe\uffff", "non-characters "),
        ("emoji 🚩 and ünïcödé stay", "emoji 🚩 and ünïcödé stay"),
        (None, ""),
    ],
)
def test_clean_text_keeps_only_characters_xml_allows(raw: str | None, clean: str) -> None:
    assert clean_text(raw) == clean
    clean.encode("utf-8")  # no lone surrogate survives


# -- structure -----------------------------------------------------------------


def test_deck_has_one_slide_per_planned_view_with_unique_titles(
    doc: Document, tmp_path: Path
) -> None:
    prs = _render(doc, tmp_path)
    titles = _titles(prs)
    assert titles == EXPECTED_TITLES
    assert len({t.casefold() for t in titles}) == len(titles)


def test_titles_sit_in_title_placeholders_of_named_layouts(doc: Document, tmp_path: Path) -> None:
    prs = _render(doc, tmp_path)
    layouts = [slide.slide_layout.name for slide in prs.slides]
    assert layouts == ["Title Slide", "Title Only", "Title Only", "Title Only", "Title Only"]
    for slide in prs.slides:
        title = slide.shapes.title
        assert title.is_placeholder
        assert title.placeholder_format.type in (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)


def test_the_whole_shared_sample_renders_natively_with_unique_titles(
    sample_document: Document, tmp_path: Path
) -> None:
    prs = _render(sample_document, tmp_path)
    titles = _titles(prs)
    assert len({t.casefold() for t in titles}) == len(titles)
    charts = [b for s in sample_document.sections for b in s.blocks if isinstance(b, Chart)]
    tables = [b for s in sample_document.sections for b in s.blocks if isinstance(b, Table)]
    assert len(_charts(prs)) == len(charts)
    drawn = {t.cell(1, 0).text for slide in prs.slides for t in _tables(slide) if len(t.rows) > 1}
    assert all(t.rows[0][0].text in drawn for t in tables if t.rows)


def _logo(slide):
    return [s for s in slide.shapes if s.name == "Brand logo"]


def test_title_slide_carries_the_brand_logo_rasterised_from_svg(doc: Document, tmp_path: Path):
    """The SVG logo (160 × 40) becomes a sharp PNG at its own aspect ratio, top left."""
    assert doc.brand.logo is not None and doc.brand.logo.suffix == ".svg"
    prs = _render(doc, tmp_path)
    (picture,) = _logo(prs.slides[0])
    assert picture.shape_type == MSO_SHAPE_TYPE.PICTURE
    assert picture.image.content_type == "image/png"
    assert picture.image.size[0] >= 4 * 160  # rasterised at 4×, not at screen size
    assert picture.width / picture.height == pytest.approx(4.0, rel=0.02)
    assert picture.top < prs.slide_height // 5 and picture.left < prs.slide_width // 5
    assert all(not _logo(slide) for slide in list(prs.slides)[1:])


def test_a_png_logo_is_placed_as_it_is(doc: Document, tmp_path: Path) -> None:
    png = tmp_path / "logo.png"
    import vl_convert

    png.write_bytes(vl_convert.svg_to_png(doc.brand.logo.read_text(), scale=1))
    branded = dataclasses.replace(doc, brand=dataclasses.replace(doc.brand, logo=png))
    (picture,) = _logo(_render(branded, tmp_path).slides[0])
    assert picture.image.blob == png.read_bytes()


def test_a_broken_svg_logo_is_a_render_error_naming_the_file(doc: Document, tmp_path: Path):
    broken = tmp_path / "logo.svg"
    broken.write_text("<svg xmlns='http://www.w3.org/2000/svg'><rect", encoding="utf-8")
    branded = dataclasses.replace(doc, brand=dataclasses.replace(doc.brand, logo=broken))
    with pytest.raises(RenderError, match=r"cannot draw the brand logo .*logo\.svg"):
        _render(branded, tmp_path)
    assert not (tmp_path / "deck.pptx").exists()


def test_renderer_is_registered_for_pptx(doc: Document, tmp_path: Path) -> None:
    renderer, suffix = get_renderer("pptx")
    renderer(doc, tmp_path / f"deck{suffix}")
    assert list(tmp_path.iterdir()) == [tmp_path / "deck.pptx"]


def test_template_slides_are_removed(doc: Document, tmp_path: Path) -> None:
    template = Presentation(str(MASTER))
    sample = template.slides.add_slide(template.slide_layouts[0])
    sample.shapes.title.text = "SAMPLE CONTENT FROM THE TEMPLATE"
    template.save(str(tmp_path / "with_slide.pptx"))
    document = _with_template(doc, tmp_path / "with_slide.pptx")
    prs = _render(document, tmp_path)
    assert _titles(prs) == EXPECTED_TITLES
    with zipfile.ZipFile(tmp_path / "deck.pptx") as package:
        xml = "".join(package.read(n).decode() for n in package.namelist() if n.endswith(".xml"))
    assert "SAMPLE CONTENT FROM THE TEMPLATE" not in xml


# -- title and KPI slides ------------------------------------------------------


def test_title_slide_states_period_audience_generation_time_and_classification(
    doc: Document, tmp_path: Path
) -> None:
    text = _slide_text(_render(doc, tmp_path).slides[0])
    assert "Leadership summary" in text
    assert "2026-W47 (16–22 Nov 2026)" in text
    assert "Audience: leadership" in text
    assert "Generated 25 Nov 2026, 07:00 UTC" in text
    assert "Confidential — internal" in text
    assert "Incomplete period" not in text


def test_generated_time_is_shown_in_the_reports_timezone(doc: Document, tmp_path: Path) -> None:
    document = dataclasses.replace(doc, timezone="Europe/Berlin")
    text = _slide_text(_render(document, tmp_path).slides[0])
    assert "Generated 25 Nov 2026, 08:00 Europe/Berlin (UTC+01:00)" in text


def test_incomplete_period_is_flagged_on_title_and_footers(doc: Document, tmp_path: Path) -> None:
    prs = _render(dataclasses.replace(doc, complete=False), tmp_path)
    assert "Incomplete period" in _slide_text(prs.slides[0])
    for slide in list(prs.slides)[1:]:
        assert "Incomplete period" in _footer(slide).text_frame.text


def test_kpi_slide_has_a_native_tile_per_kpi_with_coloured_delta(
    doc: Document, brand: Brand, tmp_path: Path
) -> None:
    slide = _render(doc, tmp_path).slides[1]
    grid = doc.sections[0].blocks[0]
    assert isinstance(grid, KpiGrid)
    groups = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.GROUP]
    assert len(groups) == len(grid.tiles)
    for group, tile in zip(groups, grid.tiles, strict=True):
        text = breakable("\n".join(s.text_frame.text for s in group.shapes if s.has_text_frame))
        assert tile.label in text and tile.value_text in text
        assert f"Previous {tile.previous_text}" in text
        arrow = {"up": "▲", "down": "▼", "flat": "◆"}[tile.delta.direction]
        runs = [
            r
            for s in group.shapes
            if s.has_text_frame
            for p in s.text_frame.paragraphs
            for r in p.runs
        ]
        delta_run = next(r for r in runs if breakable(r.text) == f"{arrow} {tile.delta.text}")
        assert str(delta_run.font.color.rgb) == brand.sentiment_colour(tile.delta.sentiment).lstrip(
            "#"
        )
        if tile.target_text:
            assert f"— {tile.target_status}" in text
    narrative = doc.sections[0].blocks[1]
    assert isinstance(narrative, Narrative)
    for sentence in narrative.paragraphs:
        assert sentence in _slide_text(slide)


# -- charts --------------------------------------------------------------------


def test_charts_are_native_with_the_documents_values_and_categories(
    doc: Document, tmp_path: Path
) -> None:
    prs = _render(doc, tmp_path)
    specs = [b for b in doc.sections[1].blocks if isinstance(b, Chart)]
    assert len(_charts(prs)) == len(specs)
    for drawn in specs:
        chart = _chart_titled(prs, drawn.title)
        plot = chart.plots[0]
        # horizontal bars are stored bottom-up (Office's order): first category on top
        spec = bottom_up(drawn) if chart.chart_type == XL_CHART_TYPE.BAR_CLUSTERED else drawn
        assert list(plot.categories) == list(spec.categories)
        assert [s.name for s in plot.series] == [s.name for s in spec.series]
        for native, series in zip(plot.series, spec.series, strict=True):
            assert len(native.values) == len(series.values)
            for got, want in zip(native.values, series.values, strict=True):
                assert got == pytest.approx(want, abs=1e-12, rel=0)


def test_missing_and_nan_values_are_gaps_not_invalid_numbers(doc: Document, tmp_path: Path) -> None:
    chart = Chart(
        "Gaps",
        "line",
        ("2026-W45", "2026-W46", "2026-W47"),
        (ChartSeries("AHT", (float("nan"), None, 61.4)),),
        "seconds",
        "seconds",
        highlight="2026-W46",  # a highlight on a gap is simply not drawn
    )
    document = _replace_section(doc, 1, blocks=(chart,))
    native = _charts(_render(document, tmp_path))[0]
    assert native.plots[0].series[0].values == (None, None, 61.4)
    assert "nan" not in native.part.blob.decode().lower().replace("nanum", "")


WATERFALL = Chart(
    "What moved average handle time",
    "waterfall",
    ("Hate Speech", "EMEA", "APAC", "Other", "Change 47 s → 61 s"),
    (ChartSeries("AHT change", (9.0, 5.5, -0.1, 0.0, 14.4)),),
    "seconds",
    "seconds",
    point_sentiments=("bad", "bad", "good", None, None),
)


def test_waterfall_is_a_native_chart_of_signed_parts_with_labels_from_the_data(
    doc: Document, brand: Brand, tmp_path: Path
) -> None:
    prs = _render(_replace_section(doc, 1, blocks=(WATERFALL,)), tmp_path)
    chart = _chart_titled(prs, WATERFALL.title)
    bars = chart.plots[0]
    assert chart.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED
    assert list(bars.categories) == list(WATERFALL.categories)
    assert len(bars.series) == 1
    assert bars.series[0].values == pytest.approx(WATERFALL.series[0].values)  # signed, from zero
    fills = [str(bars.series[0].points[i].format.fill.fore_color.rgb) for i in range(5)]
    assert fills == [
        c.lstrip("#") for c in (brand.bad, brand.bad, brand.good, brand.neutral, brand.primary)
    ]
    ser = bars.series[0]._element
    d_lbls = ser.find(qn("c:dLbls"))
    assert d_lbls.find(qn("c:showVal")).get("val") == "1"  # labels are the values, not text
    assert ser.find(".//" + qn("c:tx") + "/" + qn("c:rich")) is None
    code = d_lbls.find(qn("c:numFmt")).get("formatCode")
    assert code.startswith("+#,##0.0") and '"−"' in code
    points = d_lbls.findall(qn("c:dLbl"))  # the bold total keeps showing its value
    assert all(d.find(qn("c:showVal")).get("val") == "1" for d in points)
    assert ser.find(qn("c:invertIfNegative")).get("val") == "0"


def test_waterfall_percent_parts_are_percentage_points(doc: Document, tmp_path: Path) -> None:
    chart = Chart(
        "Automation",
        "waterfall",
        ("Misinformation", "Other", "Change"),
        (ChartSeries("Automation", (-0.025, -0.001, -0.026)),),
        "percent",
        "Contribution",
    )
    native = _chart_titled(
        _render(_replace_section(doc, 1, blocks=(chart,)), tmp_path), "Automation"
    )
    assert native.plots[0].series[0].values == pytest.approx((-2.5, -0.1, -2.6))
    assert native.value_axis.minimum_scale < -2.6 <= 0 <= native.value_axis.maximum_scale


def test_percent_decimals_reach_axis_and_labels(doc: Document, tmp_path: Path) -> None:
    chart = Chart(
        "Violative view rate",
        "line",
        ("2026-W46", "2026-W47"),
        (ChartSeries("VVR", (0.00041, 0.00052)),),
        "percent",
        "share of views",
        highlight="2026-W47",
        value_decimals=3,
    )
    native = _chart_titled(
        _render(_replace_section(doc, 1, blocks=(chart,)), tmp_path), chart.title
    )
    assert native.value_axis.tick_labels.number_format == '0.000%;"−"0.000%'
    assert native.value_axis.major_unit >= 0.00001  # a step the format can show


def test_delta_significance_is_shown_on_the_tile_and_in_the_notes(
    doc: Document, tmp_path: Path
) -> None:
    grid = doc.sections[0].blocks[0]
    tile = grid.tiles[1]
    marked = dataclasses.replace(
        tile, delta=dataclasses.replace(tile.delta, significance="significant, p < 0.001")
    )
    blocks = (KpiGrid((marked,)), *doc.sections[0].blocks[1:])
    slide = _render(_replace_section(doc, 0, blocks=blocks), tmp_path).slides[1]
    assert "significant, p < 0.001" in _slide_text(slide)
    assert "significant, p < 0.001" in slide.notes_slide.notes_text_frame.text


def test_chart_types_follow_the_spec(doc: Document, tmp_path: Path) -> None:
    prs = _render(doc, tmp_path)
    assert _chart_titled(prs, "Average handle time, last 13 weeks").chart_type in (
        XL_CHART_TYPE.LINE_MARKERS,
        XL_CHART_TYPE.LINE,
    )
    assert _chart_titled(prs, "Average handle time by region").chart_type in (
        XL_CHART_TYPE.BAR_CLUSTERED,
        XL_CHART_TYPE.COLUMN_CLUSTERED,
    )


def test_chart_value_axis_uses_the_office_number_format_and_has_titles(
    doc: Document, tmp_path: Path
) -> None:
    chart = _chart_titled(_render(doc, tmp_path), "Average handle time, last 13 weeks")
    axis = chart.value_axis
    assert axis.tick_labels.number_format == office_number_format("seconds")
    assert not axis.tick_labels.number_format_is_linked
    assert axis.axis_title.text_frame.text == "seconds"
    assert chart.category_axis.axis_title.text_frame.text == "Week"
    assert chart.has_legend


def test_chart_series_take_brand_colours_and_target_is_dashed(
    doc: Document, brand: Brand, tmp_path: Path
) -> None:
    prs = _render(doc, tmp_path)
    line = _chart_titled(prs, "Average handle time, last 13 weeks").plots[0].series
    assert str(line[0].format.line.color.rgb) == brand.primary.lstrip("#")
    assert str(line[1].format.line.color.rgb) == brand.muted.lstrip("#")
    assert line[1].format.line.dash_style == MSO_LINE_DASH_STYLE.DASH
    bars = {s.name: s for s in _chart_titled(prs, "Average handle time by region").plots[0].series}
    assert str(bars["2026-W47"].format.fill.fore_color.rgb) == brand.primary.lstrip("#")
    assert str(bars["2026-W46"].format.fill.fore_color.rgb) == brand.secondary.lstrip("#")


def test_highlighted_period_is_emphasised_in_the_accent_colour(
    doc: Document, brand: Brand, tmp_path: Path
) -> None:
    chart = _chart_titled(_render(doc, tmp_path), "Average handle time, last 13 weeks")
    last = len(chart.plots[0].categories) - 1
    point = chart.plots[0].series[0].points[last]
    assert str(point.marker.format.fill.fore_color.rgb) == brand.accent.lstrip("#")
    assert point.data_label.position is not None  # the current value is labelled


def test_bar_axes_start_at_zero_and_line_axes_show_the_change() -> None:
    bars = Chart("b", "bar", ("a", "b"), (ChartSeries("s", (50.0, 57.0)),), "seconds", "s")
    assert value_axis_bounds(bars)[0] == 0
    line = Chart("l", "line", ("a", "b"), (ChartSeries("s", (0.912, 0.933)),), "percent", "%")
    low, high, step = value_axis_bounds(line)
    assert 0.85 < low < 0.912 < 0.933 < high <= 1.0
    assert step >= 0.001  # never finer than "0.0%" can show


def test_labels_that_look_like_formulas_stay_text_in_the_chart_workbook(
    doc: Document, tmp_path: Path
) -> None:
    chart = Chart(
        "Injected",
        "bar",
        ('=HYPERLINK("http://x")', "+1", "@SUM(A1)"),
        (ChartSeries("=cmd|' /C calc'!A0", (1.0, 2.0, 3.0)),),
        "count",
        "decisions",
    )
    document = _replace_section(doc, 1, blocks=(chart,))
    native = _charts(_render(document, tmp_path))[0]
    assert sorted(native.plots[0].categories) == sorted(chart.categories)
    workbook = io.BytesIO(native.part.chart_workbook.xlsx_part.blob)
    with zipfile.ZipFile(workbook) as xlsx:
        sheet = xlsx.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


# -- tables ----------------------------------------------------------------------


def test_tables_are_native_with_the_documents_cell_text(doc: Document, tmp_path: Path) -> None:
    slide = _render(doc, tmp_path).slides[3]  # the breakdown beside its own chart
    spec = next(b for b in doc.sections[1].blocks if isinstance(b, Table))
    (table,) = _tables(slide)
    texts = _cell_texts(table)
    assert texts[0] == [c.label for c in spec.columns]
    assert texts[1:] == [[cell.text for cell in row] for row in spec.rows]


def test_table_cells_use_readable_sizes_and_sentiment_colours(
    doc: Document, brand: Brand, tmp_path: Path
) -> None:
    (table,) = _tables(_render(doc, tmp_path).slides[3])
    sizes = {
        r.font.size.pt
        for row in table.rows
        for c in row.cells
        for p in c.text_frame.paragraphs
        for r in p.runs
    }
    assert sizes and all(10 <= s <= 12 for s in sizes)
    delta = table.cell(1, 3).text_frame.paragraphs[0].runs[0]
    assert str(delta.font.color.rgb) == brand.bad.lstrip("#")


def test_empty_cells_carry_the_table_font_size_so_rows_do_not_grow(
    doc: Document, tmp_path: Path
) -> None:
    table = Table(
        "Targets",
        (Column("k", "Region", "left"), Column("t", "Target")),
        ((Cell("Europe"), Cell("")), (Cell("Africa"), Cell("94.5%"))),
    )
    slide = _render(_replace_section(doc, 1, blocks=(table,)), tmp_path).slides[2]
    (native,) = _tables(slide)
    empty = native.cell(1, 1)._tc
    assert empty.find(f".//{qn('a:r')}") is None  # an empty run makes LibreOffice use 18 pt
    size = empty.find(f".//{qn('a:endParaRPr')}").get("sz")
    assert size == native.cell(2, 1)._tc.find(f".//{qn('a:rPr')}").get("sz")


def test_definitions_become_a_native_table(doc: Document, tmp_path: Path) -> None:
    slide = _render(doc, tmp_path).slides[4]
    (table,) = _tables(slide)
    texts = _cell_texts(table)
    assert texts[0] == ["Metric", "Formula", "Description", "Unit", "Better", "Owner"]
    assert texts[1][:3] == [
        "Average handle time",
        "Σ handle_seconds / Σ manual decisions",
        "Mean seconds a moderator spends per manual decision.",
    ]
    assert texts[2][3:] == ["percent", "higher", "quality"]


def test_long_table_continues_on_further_slides_with_every_row_once(
    doc: Document, tmp_path: Path
) -> None:
    spec = _long_table(60)
    document = _replace_section(doc, 1, blocks=(spec,))
    prs = _render(document, tmp_path)
    slides = [s for s in prs.slides if s.shapes.title.text.startswith("Average handle time")]
    assert len(slides) > 2
    rows = []
    for slide in slides:
        (table,) = _tables(slide)
        texts = _cell_texts(table)
        assert texts[0] == ["Queue", "AHT", "Δ"]  # header repeated on every page
        rows.extend(texts[1:])
    assert rows == [[c.text for c in row] for row in spec.rows]
    titles = [s.shapes.title.text for s in slides]
    assert (
        titles[0] == f"Average handle time (1 of {len(slides)})"
    )  # a "(2 of N)" follows a "(1 of N)"
    assert titles[1] == f"Average handle time (2 of {len(slides)})"


def test_many_definitions_are_split_so_no_table_runs_off_the_slide(
    doc: Document, tmp_path: Path
) -> None:
    items = tuple(
        Definition(
            f"Metric {i}", "Σ numerator / Σ denominator", "A long description. " * (1 + i % 5)
        )
        for i in range(40)
    )
    document = _replace_section(doc, 2, blocks=(DefinitionList(items),))
    prs = _render(document, tmp_path)
    pages = [s for s in prs.slides if s.shapes.title.text.startswith("Metric definitions")]
    assert len(pages) >= 2
    assert pages[-1].shapes.title.text == f"Metric definitions ({len(pages)} of {len(pages)})"
    terms = [row[0] for s in pages for row in _cell_texts(_tables(s)[0])[1:]]
    assert terms == [item.term for item in items]


def test_every_table_fits_above_the_footer(doc: Document, tmp_path: Path) -> None:
    document = _replace_section(doc, 1, blocks=(*doc.sections[1].blocks, _long_table(45)))
    prs = _render(document, tmp_path)
    for slide in list(prs.slides)[1:]:
        footer = _footer(slide)
        for shape in slide.shapes:
            if shape.has_table:
                rows_height = sum(row.height for row in shape.table.rows)
                width = sum(column.width for column in shape.table.columns)
                assert shape.top + rows_height <= footer.top, slide.shapes.title.text
                assert shape.left + width <= prs.slide_width


def test_columns_share_the_width_by_content_and_numbers_do_not_wrap() -> None:
    table = Table(
        "Definitions",
        (Column("term", "Metric", "left"), Column("text", "Description", "left"), Column("n", "N")),
        (
            (
                Cell("AHT"),
                Cell("Mean seconds a moderator spends per manual decision. " * 4),
                Cell("61 s"),
            ),
        ),
    )
    available = Emu(914400 * 6)
    fit = fit_table(table, available)
    assert fit.width <= available and 10 <= fit.size <= 12
    description, number = fit.widths[1], fit.widths[2]
    assert description > 3 * number  # the long text gets the room …
    assert wrapped_lines("61 s", number - 2 * MARGIN_X, fit.size) == 1  # … numbers stay whole
    assert fit.row_heights[0] > fit.header_height  # and the long text wraps onto more lines


def test_pagination_balances_continuation_pages() -> None:
    fit = TableFit(11, (914400,), 100, (100,) * 16)
    assert [len(page) for page in paginate(fit, 1600, 1600)] == [8, 8]  # not 15 + 1
    assert [len(page) for page in paginate(fit, 600, 1000)] == [5, 6, 5]
    tall = TableFit(11, (914400,), 100, (100, 5000, 100))
    assert [len(page) for page in paginate(tall, 1000, 1000)] == [1, 1, 1]  # never lost


def test_row_height_estimate_counts_wrapped_lines() -> None:
    one_inch = Emu(914400)
    assert wrapped_lines("short", one_inch, 11) == 1
    assert wrapped_lines("several words that cannot fit on one line", one_inch, 11) > 2
    assert wrapped_lines("line one\nline two", one_inch * 5, 11) == 2


# -- notes, footers, robustness ------------------------------------------------


def test_speaker_notes_carry_section_notes_narrative_and_key_numbers(
    doc: Document, tmp_path: Path
) -> None:
    prs = _render(doc, tmp_path)
    notes = [slide.notes_slide.notes_text_frame.text for slide in prs.slides]
    assert "AHT rose 14 s week over week." in notes[1]
    assert "Average handle time rose 14 s to 61 s, above its 50 s target." in notes[1]
    assert "Average handle time: 61 s, +14 s vs 2026-W46" in notes[1]
    assert "AHT 61 s vs 47 s previous week." in notes[2]
    assert "Average handle time rose 14 s to 61 s." in notes[2]
    assert "Average handle time: 2026-W47 61.4 s" in notes[2]  # chart's highlighted value
    assert "North America: AHT 50 s" in notes[3]  # table rows, beside the table's own chart
    assert "AHT 61 s vs 47 s previous week." in notes[3]  # continuation slide too
    assert "Agenda: Executive summary; Average handle time; Metric definitions" in notes[0]


def _footer(slide):
    return next(s for s in slide.placeholders if s.placeholder_format.type == PP_PLACEHOLDER.FOOTER)


def test_content_slides_have_footer_and_slide_number_and_title_slide_has_neither(
    doc: Document, brand: Brand, tmp_path: Path
) -> None:
    prs = _render(doc, tmp_path)
    first, *content = prs.slides
    kinds = {s.placeholder_format.type for s in first.placeholders}
    assert PP_PLACEHOLDER.FOOTER not in kinds and PP_PLACEHOLDER.SLIDE_NUMBER not in kinds
    for number, slide in enumerate(content, start=2):
        assert _footer(slide).text_frame.text == f"{brand.footer} · {brand.classification}"
        slide_number = next(
            s
            for s in slide.placeholders
            if s.placeholder_format.type == PP_PLACEHOLDER.SLIDE_NUMBER
        )
        assert 'type="slidenum"' in slide_number._element.xml  # a live field
        assert slide_number.text_frame.text == str(number)


def test_layouts_without_footer_placeholders_still_get_footer_and_number(
    doc: Document, brand: Brand, tmp_path: Path
) -> None:
    template = Presentation(str(MASTER))
    for layout in template.slide_layouts:
        for shape in list(layout.placeholders):
            if shape.placeholder_format.type in (
                PP_PLACEHOLDER.FOOTER,
                PP_PLACEHOLDER.SLIDE_NUMBER,
            ):
                shape._element.getparent().remove(shape._element)
    template.save(str(tmp_path / "bare.pptx"))
    prs = _render(_with_template(doc, tmp_path / "bare.pptx"), tmp_path)
    slide = prs.slides[2]
    boxes = {shape.name: shape for shape in slide.shapes if not shape.is_placeholder}
    assert boxes["Footer"].text_frame.text == f"{brand.footer} · {brand.classification}"
    assert 'type="slidenum"' in boxes["Slide number"]._element.xml
    assert boxes["Slide number"].text_frame.text == "3"


def test_many_kpi_tiles_continue_on_a_second_slide(doc: Document, tmp_path: Path) -> None:
    grid = doc.sections[0].blocks[0]
    tiles = tuple(
        dataclasses.replace(tile, metric=f"{tile.metric}{i}")
        for i in range(3)
        for tile in grid.tiles
    )
    blocks = (KpiGrid(tiles), *doc.sections[0].blocks[1:])
    prs = _render(_replace_section(doc, 0, blocks=blocks), tmp_path)
    kpi_slides = [s for s in prs.slides if s.shapes.title.text.startswith("Executive summary")]
    assert len(kpi_slides) == 2
    assert [s.shapes.title.text for s in kpi_slides] == [
        "Executive summary (1 of 2)",
        "Executive summary (2 of 2)",
    ]
    groups = [
        s for slide in kpi_slides for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.GROUP
    ]
    assert len(groups) == len(tiles)


def test_every_shape_stays_on_the_slide(doc: Document, tmp_path: Path) -> None:
    prs = _render(doc, tmp_path)
    for slide in prs.slides:
        for shape in _shapes(slide):
            if shape.width is None:
                continue
            assert shape.left >= 0 and shape.left + shape.width <= prs.slide_width, shape.name
            assert shape.top >= 0 and shape.top + shape.height <= prs.slide_height, shape.name


def test_control_characters_in_labels_do_not_break_the_file(doc: Document, tmp_path: Path) -> None:
    bad = "Queue\x00 \x1b[31mred\x07 \ud83d lone\x0b"
    chart = Chart(
        f"Volume {bad}",
        "bar",
        (f"A{bad}", "B\x1f"),
        (ChartSeries(f"S{bad}", (1.0, 2.0)),),
        "count",
        f"decisions{bad}",
    )
    table = Table(
        f"T{bad}",
        (Column("k", f"K{bad}", "left"), Column("v", "V")),
        ((Cell(f"row{bad}"), Cell("1")),),
        caption=f"cap{bad}",
    )
    tile = dataclasses.replace(
        doc.sections[0].blocks[0].tiles[0], metric=f"m{bad}", label=f"L{bad}"
    )
    section = Section(
        "x",
        f"Section{bad}",
        "metric",
        (KpiGrid((tile,)), Narrative((f"Said{bad}",)), chart, table),
        notes=(f"n{bad}",),
    )
    document = dataclasses.replace(doc, title=f"Title{bad}", sections=(*doc.sections, section))
    path = tmp_path / "deck.pptx"
    render_pptx(document, path)
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        for name in package.namelist():
            if name.endswith(".xml"):
                data = package.read(name).decode("utf-8")
                assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", data), name
                assert "_x001B_" not in data and "_x0007_" not in data, name
    prs = Presentation(str(path))
    assert _titles(prs)[0] == "TitleQueue [31mred lone"
    assert "SectionQueue [31mred lone" in _titles(prs)


def test_narrative_only_section_goes_into_the_body_placeholder(
    doc: Document, tmp_path: Path
) -> None:
    section = Section("open", "Open items", "metric", (Narrative(("First item.", "Second item.")),))
    document = dataclasses.replace(doc, sections=(*doc.sections, section))
    slide = _render(document, tmp_path).slides[-1]
    assert slide.slide_layout.name == "Title and Content"
    body = next(s for s in slide.placeholders if s.placeholder_format.idx == 1)
    assert body.text_frame.text == "First item.\nSecond item."


# -- templates -------------------------------------------------------------------


def test_a_differently_laid_out_4_3_template_works_by_layout_name(
    doc: Document, tmp_path: Path
) -> None:
    template = tmp_path / "plain_4x3.pptx"
    Presentation().save(str(template))  # python-pptx's own default: 4:3, centred titles
    prs = _render(_with_template(doc, template), tmp_path)
    assert prs.slide_width == Emu(9144000)
    assert _titles(prs) == EXPECTED_TITLES
    assert len(_charts(prs)) == 2
    for slide in prs.slides:
        for shape in _shapes(slide):
            if shape.width is not None:
                assert shape.left + shape.width <= prs.slide_width, shape.name
                assert shape.top + shape.height <= prs.slide_height, shape.name


def test_template_without_a_needed_layout_names_it_in_the_error(
    doc: Document, tmp_path: Path
) -> None:
    template = Presentation(str(MASTER))
    only = next(layout for layout in template.slide_layouts if layout.name == "Title Only")
    only.name = "Headline"
    template.save(str(tmp_path / "renamed.pptx"))
    document = _with_template(doc, tmp_path / "renamed.pptx")
    with pytest.raises(RenderError) as raised:
        render_pptx(document, tmp_path / "deck.pptx")
    assert "'Title Only'" in str(raised.value)
    assert "renamed.pptx" in str(raised.value)
    assert raised.value.context["layout"] == "Title Only"
    assert not (tmp_path / "deck.pptx").exists()


def test_missing_template_file_is_a_render_error(doc: Document, tmp_path: Path) -> None:
    document = _with_template(doc, tmp_path / "nope.pptx")
    with pytest.raises(RenderError, match=r"nope\.pptx"):
        render_pptx(document, tmp_path / "deck.pptx")


def test_master_is_16_9_with_standard_layouts_and_the_brand_theme(brand: Brand) -> None:
    prs = Presentation(str(MASTER))
    assert (prs.slide_width, prs.slide_height) == (Emu(12192000), Emu(6858000))
    names = {layout.name for layout in prs.slide_layouts}
    assert {"Title Slide", "Title and Content", "Title Only", "Two Content", "Blank"} <= names
    assert len(prs.slides) == 0
    for layout in prs.slide_layouts:
        for shape in layout.placeholders:
            assert shape.left + shape.width <= prs.slide_width, (layout.name, shape.name)
    with zipfile.ZipFile(MASTER) as package:
        theme = package.read("ppt/theme/theme1.xml").decode()
    assert f'<a:dk2><a:srgbClr val="{brand.primary.lstrip("#")}"/>' in theme
    assert f'<a:accent1><a:srgbClr val="{brand.palette[0].lstrip("#")}"/>' in theme
    assert f'<a:latin typeface="{brand.font_family}"/>' in theme


def test_master_is_what_the_build_script_produces() -> None:
    built = _load_build_script().build_master(ROOT / "configs" / "brands" / "default.yaml")
    with zipfile.ZipFile(io.BytesIO(built)) as fresh, zipfile.ZipFile(MASTER) as committed:
        assert fresh.namelist() == committed.namelist()
        for name in fresh.namelist():
            assert fresh.read(name) == committed.read(name), f"{name} differs: rerun the script"


# -- LibreOffice -----------------------------------------------------------------


@pytest.mark.slow
def test_libreoffice_converts_the_deck_to_a_pdf_with_one_page_per_slide(
    sample_document: Document, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    deck = tmp_path / "deck.pptx"
    render_pptx(sample_document, deck)
    result, pdf = convert_to_pdf(deck, tmp_path)
    assert result.returncode == 0 and pdf.exists(), result.stderr
    assert len(PdfReader(str(pdf)).pages) == len(Presentation(str(deck)).slides) >= 5


def test_a_period_code_or_quantity_in_slide_prose_cannot_be_split_at_a_line_end(
    brand: Brand,
) -> None:
    text = "Lowest at MEX-1 in 2026-W46, +4.7 s; workforce-management owns it."
    paras = narrative_paras([text], brand)
    written = "".join(run.text for para in paras for run in para.runs)
    assert written == (
        f"Lowest at MEX{NON_BREAKING_HYPHEN}1 in 2026{NON_BREAKING_HYPHEN}W46, "
        f"+4.7{NO_BREAK_SPACE}s; workforce-management owns it."
    )


def test_a_tiles_comparison_keeps_its_period_on_one_line(doc: Document, brand: Brand) -> None:
    """A tile is narrow: "vs 2026-" over "W46" is what LibreOffice drew before."""
    from reportgen.render.pptx._slides import tile_paras

    grid = doc.sections[0].blocks[0]
    assert isinstance(grid, KpiGrid)
    tile = next(t for t in grid.tiles if t.delta is not None and "-W" in t.delta.comparison)
    runs = [run.text for para in tile_paras(tile, brand) for run in para.runs]
    comparison = tile.delta.comparison.replace("-", NON_BREAKING_HYPHEN)
    assert any(run.strip() == comparison for run in runs), runs


@pytest.mark.slow
def test_libreoffice_never_ends_a_line_of_slide_prose_inside_a_period(
    brand: Brand, tmp_path: Path
) -> None:
    """Paragraphs that put "2026-W46" at every position across a line: some of them would
    end a line on "2026-" with a plain hyphen (four do in the LibreOffice of this test)."""
    import subprocess

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    texts = [
        f"Back toward normal after {'a' * i} an unusual 2026-W46, not a win." for i in range(24)
    ]
    for column, left in enumerate((0.3, 5.0)):  # two columns, so no paragraph runs off the slide
        frame = Frame(Inches(left), Inches(0.2), Inches(4.2), Inches(7.1))
        text_box(slide, frame, narrative_paras(texts[column::2], brand, 10), "Narrative")
    deck.save(str(tmp_path / "prose.pptx"))
    result, pdf = convert_to_pdf(tmp_path / "prose.pptx", tmp_path)
    assert result.returncode == 0 and pdf.exists(), result.stderr
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True)
    words = re.findall(r">([^<]*)</word>", xhtml.stdout)
    assert sum("W46" in word for word in words) == len(texts)  # each period is one word
    assert [word for word in words if word.endswith(("-", NON_BREAKING_HYPHEN))] == []
