"""HTML renderer: autoescaping, self-contained preview, brand and layout data."""

from __future__ import annotations

import base64
import dataclasses
import html as html_lib
import re
import shutil
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reportgen.document import (
    Brand,
    Cell,
    Chart,
    ChartSeries,
    Column,
    Document,
    KpiGrid,
    Narrative,
    Table,
)
from reportgen.errors import RenderError
from reportgen.render import get_renderer
from reportgen.render.html.page import (
    HALF_WIDTH,
    TABLE_CELL_PADDING_PX,
    TABLE_CHAR_PX,
    TEMPLATES_ENV_VAR,
    brand_css,
    column_widths,
    environment,
    keep_whole,
    render_html,
    render_html_file,
    row_groups,
)

from ._sample import sample_document

IMG = '<img src="file:///etc/passwd">'
TEMPLATE_EXPR = "{{ 7*7 }}"
SCRIPT = "<script>alert(1)</script>"
HOSTILE = f"{IMG} {TEMPLATE_EXPR} {SCRIPT}"


def hostile_document(brand: Brand) -> Document:
    """The sample document with data-supplied strings that try to become markup."""
    base = sample_document(brand)
    summary, metric, appendix = base.sections
    grid = summary.blocks[0]
    assert isinstance(grid, KpiGrid)
    tiles = (dataclasses.replace(grid.tiles[0], label=f"Decisions {SCRIPT}"), *grid.tiles[1:])
    table = Table(
        title=f"Queues {TEMPLATE_EXPR}",
        columns=(Column("segment", "Queue", "left"), Column("value", "Decisions")),
        rows=((Cell(HOSTILE, HOSTILE), Cell("1,234", 1234.0)), (Cell("Europe"), Cell("99", 99.0))),
    )
    bars = Chart(
        title="Decisions by queue",
        chart_type="bar",
        categories=(HOSTILE, "Europe"),
        series=(ChartSeries("2026-W47", (1234.0, 99.0)),),
        value_format="count",
        value_label="decisions",
    )
    metric = dataclasses.replace(
        metric, blocks=(Narrative((f"Biggest rise: {HOSTILE}.",)), bars, table)
    )
    summary = dataclasses.replace(summary, blocks=(KpiGrid(tiles), *summary.blocks[1:]))
    return dataclasses.replace(base, sections=(summary, metric, appendix))


@pytest.fixture
def hostile_html(brand: Brand) -> str:
    return render_html(hostile_document(brand), for_pdf=False)


class _Elements(HTMLParser):
    """Every start tag with its attributes, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(markup)
    return parser.tags


# --------------------------------------------------------------------------- escaping


def test_environment_autoescapes_everything_and_fails_on_undefined() -> None:
    env = environment()
    assert env.autoescape is True or env.autoescape("anything.css") is True
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ missing }}").render()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("down from 2026-W46, back to normal", ["2026-W46"]),
        ("2026-11-22 to 2026-11-28 (2026-Q4)", ["2026-11-22", "2026-11-28", "2026-Q4"]),
        ("lowest at MEX-1 and SAO-1", ["MEX-1", "SAO-1"]),
        ("owner: workforce-management, year-over-year", []),
        ("of the +7.1 s: 10.4 pp, 3 min and 2 sites", ["+7.1 s", "10.4 pp", "3 min"]),
    ],
)
def test_a_period_code_or_quantity_is_kept_on_one_line(text: str, kept: list[str]) -> None:
    markup = str(keep_whole(text))
    assert re.findall(r'<span class="nobr">([^<]*)</span>', markup) == kept
    assert re.sub(r"</?span[^>]*>", "", markup) == text


def test_kept_identifiers_are_escaped_like_any_other_text() -> None:
    markup = str(keep_whole('<b>2026-W46</b> & "MEX-1"'))
    assert "<b>" not in markup
    assert markup == (
        '&lt;b&gt;<span class="nobr">2026-W46</span>&lt;/b&gt; &amp; &#34;<span class="nobr">MEX-1</span>&#34;'
    )


def test_hostile_img_label_is_text_not_an_element(hostile_html: str) -> None:
    assert IMG not in hostile_html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in hostile_html  # HTML text
    assert '&lt;img src="file:///etc/passwd"&gt;' in hostile_html  # SVG text
    images = [attrs for tag, attrs in elements(hostile_html) if tag == "img"]
    assert len(images) == 1 and str(images[0]["src"]).startswith("data:image/")


def test_template_syntax_in_data_is_not_evaluated(hostile_html: str) -> None:
    assert TEMPLATE_EXPR in hostile_html
    assert "Biggest rise: &lt;img" in hostile_html


def test_script_in_data_never_becomes_a_script_element(hostile_html: str) -> None:
    assert "script" not in {tag for tag, _ in elements(hostile_html)}
    assert "<script" not in hostile_html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_html


def test_brand_css_rejects_a_colour_that_is_not_hex(brand: Brand) -> None:
    bad = dataclasses.replace(brand, primary="red;} body{background:url(http://x)")
    with pytest.raises(Exception, match="#RRGGBB"):
        brand_css(bad)


def test_brand_css_drops_font_names_that_could_break_out(brand: Brand) -> None:
    css = brand_css(dataclasses.replace(brand, font_family='Evil"; } * { x: url(http://a)'))
    assert "url(" not in css and "Evil" not in css
    assert '"Inter"' in css


# --------------------------------------------------------------------------- self-contained


def test_preview_is_self_contained(sample_document: Document) -> None:
    html = render_html(sample_document, for_pdf=False)
    assert "<link" not in html
    assert "@import" not in html
    sources = [
        value
        for _, attrs in elements(html)
        for name, value in attrs.items()
        if name in {"src", "href", "xlink:href", "srcset", "poster", "data"}
    ]
    assert sources and all(str(s).startswith(("data:", "#")) for s in sources)
    without_namespaces = re.sub(r'xmlns(:\w+)?="[^"]*"', "", html)
    assert "http://" not in without_namespaces and "https://" not in without_namespaces


def test_preview_inlines_logo_charts_and_brand(sample_document: Document) -> None:
    html = render_html(sample_document, for_pdf=False)
    assert 'src="data:image/svg+xml;base64,' in html
    assert html.count("<svg") == 2  # the two charts, inline; the logo is a data: <img>
    assert f"--primary: {sample_document.brand.primary};" in html


def test_render_html_file_writes_one_file(sample_document: Document, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    render_html_file(sample_document, target)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert html_lib.escape(sample_document.title) in target.read_text(encoding="utf-8")


def test_registry_finds_the_html_renderer() -> None:
    renderer, suffix = get_renderer("html")
    assert renderer is render_html_file and suffix == ".html"


def test_templates_folder_can_be_overridden(
    sample_document: Document, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = Path(__file__).resolve().parents[1] / "templates" / "html"
    shutil.copytree(shipped, tmp_path / "html")
    narrative = tmp_path / "html" / "_narrative.html.j2"
    narrative.write_text("<p class='override'>override in use</p>", encoding="utf-8")
    monkeypatch.setenv(TEMPLATES_ENV_VAR, str(tmp_path))
    assert "override in use" in render_html(sample_document, for_pdf=False)


def test_a_template_failing_while_rendering_is_named_with_its_line(
    sample_document: Document, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = Path(__file__).resolve().parents[1] / "templates" / "html"
    shutil.copytree(shipped, tmp_path / "html")
    narrative = tmp_path / "html" / "_narrative.html.j2"
    narrative.write_text("<p>fine</p>\n<p>still fine</p>\n<p>{{ no_such_value }}</p>\n")
    monkeypatch.setenv(TEMPLATES_ENV_VAR, str(tmp_path))

    with pytest.raises(RenderError) as caught:
        render_html(sample_document, for_pdf=False)

    assert "_narrative.html.j2 line 3 failed: UndefinedError" in str(caught.value)
    assert caught.value.context["line"] == 3


# --------------------------------------------------------------------------- content


def test_cover_states_period_audience_and_generated_time_in_report_timezone(
    sample_document: Document,
) -> None:
    document = dataclasses.replace(
        sample_document,
        timezone="Europe/Berlin",
        generated_at=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )
    html = render_html(document, for_pdf=True)
    assert "25 Nov 2026, 08:00 CET" in html
    assert document.period_label in html and document.audience in html
    assert document.brand.classification in html


def test_incomplete_period_banner_only_when_incomplete(sample_document: Document) -> None:
    complete = render_html(sample_document, for_pdf=True)
    incomplete = render_html(dataclasses.replace(sample_document, complete=False), for_pdf=True)
    banner = 'class="banner banner-incomplete"'
    assert banner not in complete
    assert incomplete.count(banner) == 2  # on the cover and on the summary page


def test_tile_delta_has_arrow_and_sentiment_class(sample_document: Document) -> None:
    html = render_html(sample_document, for_pdf=True)
    assert re.search(
        r'tile-delta sentiment-bad">\s*<span class="arrow"[^>]*>▲</span>\s*'
        r'<span class="delta-text">\+14 s</span>',
        html,
    )
    assert re.search(r'sentiment-good">\s*<span class="arrow"[^>]*>▲', html)
    assert "▼" in html


def test_each_section_is_rendered_with_its_title(sample_document: Document) -> None:
    html = render_html(sample_document, for_pdf=True)
    for section in sample_document.sections:
        assert f'id="section-{section.id}"' in html
        assert section.title in html


def test_column_widths_favour_labels_and_sum_to_100() -> None:
    long = "Harassment and bullying escalations — EMEA night shift"
    table = Table(
        "t",
        (Column("segment", "Queue", "left"), Column("value", "AHT"), Column("delta", "Δ")),
        ((Cell(long), Cell("61 s"), Cell("+14 s")),),
    )
    widths = column_widths(table)
    assert sum(widths) == pytest.approx(100, abs=0.1)
    assert widths[0] > 2 * widths[1]


def test_a_narrow_table_gives_each_number_its_width_before_long_headers_theirs() -> None:
    unit = "(decisions / productive hour)"
    table = Table(
        "Throughput by region",
        (
            Column("segment", "Region", "left"),
            Column("value", f"Value {unit}"),
            Column("previous", f"Previous {unit}"),
            Column("delta", f"Change vs 2026-W46 {unit}"),
            Column("share", "Share"),
        ),
        ((Cell("Southeast Asia"), Cell("52.3"), Cell("63.1"), Cell("−10.8"), Cell("100.0%")),),
    )
    widths = column_widths(table, HALF_WIDTH)
    share_px = widths[-1] / 100 * HALF_WIDTH
    assert share_px >= len("100.0%") * TABLE_CHAR_PX + TABLE_CELL_PADDING_PX - 0.1
    assert sum(widths) == pytest.approx(100, abs=0.1)


def test_a_text_column_is_never_narrower_than_a_quantity_it_keeps_on_one_line() -> None:
    """ "+4.7 s" never wraps (keep_whole), so a squeezed label column still holds it whole."""
    long = "Change vs 2026-W46 (decisions / productive hour), previous and current"
    table = Table(
        "Asks",
        (
            Column("note", "Note", "left"),
            *(Column(f"c{i}", f"{long} {i}") for i in range(4)),
        ),
        ((Cell("up +4.7 s"), *(Cell("−10.8") for _ in range(4))),),
    )
    widths = column_widths(table, HALF_WIDTH)
    note_px = widths[0] / 100 * HALF_WIDTH
    assert note_px >= len("+4.7 s") * TABLE_CHAR_PX + TABLE_CELL_PADDING_PX - 0.1


def test_long_tables_keep_first_and_last_rows_together() -> None:
    groups = row_groups(24)
    assert [len(g) for g in groups] == [3, 18, 3]
    assert row_groups(8) == (tuple(range(8)),)


# --------------------------------------------------------------------------- layout


def _metric_html(html: str, section_id: str) -> str:
    """One section's HTML, the PDF's chart images (SVG data: URIs) decoded to their SVG."""
    start = html.index(f'id="section-{section_id}"')
    end = html.find("<section", start)
    return _CHART_IMAGE.sub(
        lambda m: base64.b64decode(m.group(1)).decode("utf-8"),
        html[start : end if end != -1 else None],
    )


_CHART_IMAGE = re.compile(
    r'<img class="chart-drawing" src="data:image/svg\+xml;base64,([^"]+)"[^>]*>'
)


def test_narrative_sits_beside_trend_and_bars_beside_their_table(
    sample_document: Document,
) -> None:
    metric = _metric_html(render_html(sample_document, for_pdf=True), "aht")
    assert metric.count('class="pair-row"') == 2
    first_row = metric[metric.index('class="pair-row"') :]
    assert first_row.index('class="narrative"') < first_row.index("<svg")


def test_bar_chart_with_long_labels_gets_the_full_width(sample_document: Document) -> None:
    labels = tuple(
        f"Harassment escalations, vendor site {i:02d}, overflow queue night" for i in range(24)
    )
    bars = Chart(
        "Decisions by site",
        "bar",
        labels,
        (ChartSeries("2026-W47", tuple(float(i) for i in range(24))),),
        "count",
        "decisions",
    )
    metric = dataclasses.replace(sample_document.sections[1], blocks=(bars,))
    document = dataclasses.replace(sample_document, sections=(metric,))
    html = _metric_html(render_html(document, for_pdf=True), "aht")
    assert 'class="pair-row"' not in html
    assert re.search(r'<svg[^>]*viewBox="0 0 1010 ', html)
    for label in labels:
        assert html_lib.escape(label) in html or label in html


def test_every_chart_of_a_built_report_is_a_valid_vega_lite_spec(built_report):
    """Builds skip Altair's schema validation for speed; this is where it is checked."""
    from reportgen.render.charts.svg import chart_to_altair

    document = built_report.document
    charts = [b for s in document.sections for b in s.blocks if isinstance(b, Chart)]
    assert charts
    for chart in charts:
        chart_to_altair(chart, document.brand).to_dict(validate=True)


def test_a_chart_that_cannot_be_drawn_fails_the_render_with_its_title(brand, monkeypatch):
    """Charts are drawn in a worker process; vl-convert's error still names the chart."""
    import altair as alt

    from reportgen.errors import RenderError
    from reportgen.render.charts import svg as charts
    from reportgen.render.html import page as html_module

    def fetching(*_args, **_kwargs):  # data from a URL: vl-convert refuses to fetch it
        chart = alt.Chart(alt.Data(url="http://192.0.2.1/rows.csv")).mark_line()
        return chart.encode(x="day:Q", y="value:Q")

    monkeypatch.setattr(charts, "chart_to_altair", fetching)
    charts._chart_to_svg.cache_clear()
    try:
        with pytest.raises(
            RenderError, match=r"(?s)could not draw chart '.+': .*not allowed: http://192\.0\.2\.1"
        ):
            render_html(sample_document(brand), for_pdf=False)
        assert not html_module._IN_FLIGHT, "the other charts were waited for, not left drawing"
    finally:
        charts._chart_to_svg.cache_clear()
