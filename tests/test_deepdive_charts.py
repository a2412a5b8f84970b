"""Deep-dive charts (issue #8): heatmaps, actual-vs-fitted scatter and dendrogram.

Every number a chart draws is checked twice: against the deep-dive figures it is
built from, and against scipy/statsmodels recomputed independently from the raw
demo rows (per-site sums in DuckDB SQL, not the cube). The deck is re-opened with
python-pptx and its native table and chart data compared with the same numbers;
LibreOffice must convert it, and the PDF must name every chart.

Deep dives are off in the shipped weekly report (no audience lists ``deep_dive`` in
its sections), so the module builds a report that asks for them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from pptx import Presentation
from pptx.oxml.ns import qn
from pypdf import PdfReader
from scipy import stats
from scipy.cluster import hierarchy
from statsmodels.stats.outliers_influence import OLSInfluence

from reportgen import build_report
from reportgen.document import Dendrogram, Heatmap, Scatter, ScatterPoint
from reportgen.render.charts.rules import (
    contrast,
    dendrogram_links,
    heatmap_colour,
    ink_on,
)
from reportgen.render.charts.svg import graphic_to_svg

from ._office import convert_to_pdf

RTOL = 1e-9
METRICS = ["aht", "qa_accuracy", "sla_attainment", "high_severity_exposure"]
LABELS = ["Average handle time", "QA accuracy", "SLA attainment", "High-severity exposure"]
REPORT = """\
title: Deep dive
metrics: [aht, qa_accuracy, sla_attainment, high_severity_exposure]
breakdowns: [region]
sections: [summary, deep_dive]
outputs: [pdf, pptx, html]
insights:
  deep_dive:
    unit: site
    regression: {outcome: qa_accuracy, predictors: [aht, high_severity_exposure]}
    tukey: [aht]
"""


def close(actual, expected, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol)


@pytest.fixture(scope="module")
def deep(demo_configs, tmp_path_factory):
    config = demo_configs / "reports" / "deep_charts.yaml"
    config.write_text(REPORT)
    return build_report(
        config,
        period="2026-W47",
        out_dir=tmp_path_factory.mktemp("deep_charts"),
        now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def by_site(raw, demo_dir: Path) -> pd.DataFrame:
    """Each site's four metrics and QA sample count for 2026-W47, from the raw rows."""
    start = datetime.combine(date(2026, 11, 16), time(), UTC)
    end = start + timedelta(days=7)
    decisions, staffing = demo_dir / "decisions" / "*.parquet", demo_dir / "staffing" / "*.parquet"
    frame = (
        raw.execute(
            f"""
        WITH d AS (
            SELECT site,
                   avg(handle_seconds) FILTER (WHERE NOT automated) AS aht,
                   avg(qa_correct::DOUBLE) FILTER (WHERE qa_sampled) AS qa_accuracy,
                   count(*) FILTER (WHERE qa_sampled) AS qa_sampled,
                   avg((decided_at <= enqueued_at + sla_hours * INTERVAL '1 hour')::DOUBLE)
                       AS sla_attainment
            FROM read_parquet('{decisions}')
            WHERE decided_at >= ? AND decided_at < ?
            GROUP BY site
        ), s AS (
            SELECT site, sum(high_severity_hours) / sum(productive_hours) AS high_severity_exposure
            FROM read_parquet('{staffing}')
            WHERE day >= ? AND day < ?
            GROUP BY site
        )
        SELECT * FROM d JOIN s USING (site) ORDER BY site
        """,
            [start, end, start.date(), end.date()],
        )
        .df()
        .set_index("site")
    )
    assert len(frame) == 25
    return frame


def blocks(deep, kind: type) -> list:
    section = next(s for s in deep.document.sections if s.id == "deep_dive")
    return [b for b in section.blocks if isinstance(b, kind)]


def figures(deep) -> dict:
    return json.loads(deep.artifacts["figures"].read_text())["insights"]["deep_dive"]


# -- heatmaps ----------------------------------------------------------------------------------


def test_heatmaps_equal_the_correlation_figures_and_scipy_on_raw_rows(deep, by_site) -> None:
    pearson, spearman = blocks(deep, Heatmap)
    result = deep.insights.deep_dive.correlation
    assert list(result.metrics) == METRICS
    assert list(pearson.labels) == list(spearman.labels) == LABELS
    assert pearson.values == result.pearson and spearman.values == result.spearman
    assert pearson.domain == spearman.domain == (-1.0, 1.0)
    for i, x in enumerate(METRICS):
        for j, y in enumerate(METRICS):
            if i == j:
                assert pearson.values[i][j] == spearman.values[i][j] == 1.0
                continue
            close(pearson.values[i][j], stats.pearsonr(by_site[x], by_site[y]).statistic)
            close(spearman.values[i][j], stats.spearmanr(by_site[x], by_site[y]).statistic)
    assert figures(deep)["correlation"]["pearson"] == [list(row) for row in pearson.values]


def test_heatmap_colours_run_from_the_low_to_the_high_brand_colour_with_readable_text(
    brand,
) -> None:
    assert heatmap_colour(-1.0, brand, (-1, 1)) == brand.accent.upper()
    assert heatmap_colour(1.0, brand, (-1, 1)) == brand.primary.upper()
    assert heatmap_colour(5.0, brand, (-1, 1)) == brand.primary.upper()  # clamped, not wrapped
    assert heatmap_colour(None, brand, (-1, 1)) is None
    for value in np.linspace(-1, 1, 41):
        fill = heatmap_colour(float(value), brand, (-1, 1))
        assert contrast(ink_on(fill, brand), fill) >= 3.0  # WCAG, bold 12 pt cell text


def test_heatmap_svg_shows_every_value_and_keeps_long_labels_whole_in_titles(brand) -> None:
    long = "Share of decisions overturned on appeal within the service level"
    heatmap = Heatmap(
        "Correlation", ("AHT", long, "QA"), ((1, -0.5, None), (-0.5, 1, 0.25), (None, 0.25, 1)), "r"
    )
    svg = graphic_to_svg(heatmap, brand, width=493)
    for text in ("1.00", "\N{MINUS SIGN}0.50", "0.25", "—"):
        assert f">{text}<" in svg
    assert f"<title>{long}</title>" in svg  # cut on the axis, whole on hover and in the table


# -- scatter -----------------------------------------------------------------------------------


def test_scatter_points_are_actual_and_fitted_values_of_statsmodels_wls(deep, by_site) -> None:
    (scatter,) = blocks(deep, Scatter)
    regression = deep.insights.deep_dive.regression
    assert regression.weights == "qa_accuracy__volume"
    y = by_site["qa_accuracy"]
    x = sm.add_constant(by_site[["aht", "high_severity_exposure"]])
    fit = sm.WLS(y, x, weights=by_site["qa_sampled"]).fit()
    points = {p.label: p for p in scatter.points}
    assert sorted(points) == sorted(by_site.index)
    close([points[s].x for s in by_site.index], fit.fittedvalues)
    close([points[s].y for s in by_site.index], y)
    # Outliers: |externally studentized residual| > 2.5 in the whitened (OLS) model.
    root = np.sqrt(by_site["qa_sampled"].to_numpy())
    whitened = sm.OLS(y.to_numpy() * root, x.to_numpy() * root[:, None]).fit()
    external = OLSInfluence(whitened).resid_studentized_external
    expected = {s for s, t in zip(by_site.index, external, strict=True) if abs(t) > 2.5}
    assert expected and {p.label for p in scatter.points if p.highlight} == expected
    (low, _), (high, _) = scatter.line
    assert scatter.line == ((low, low), (high, high))  # actual = fitted
    assert low <= min(fit.fittedvalues.min(), y.min()) and high >= max(
        fit.fittedvalues.max(), y.max()
    )
    saved = figures(deep)["regression"]["points"]
    assert [(p["label"], p["actual"], p["fitted"]) for p in saved] == [
        (p.label, p.y, p.x) for p in scatter.points
    ]


def test_scatter_svg_labels_only_the_highlighted_points(brand) -> None:
    scatter = Scatter(
        "Fit",
        "Fitted",
        "Actual",
        (ScatterPoint("A-1", 0.9, 0.91), ScatterPoint("FAR-OFF-9", 0.8, 0.6, True)),
        ((0.6, 0.6), (0.91, 0.91)),
        value_format="percent",
    )
    svg = graphic_to_svg(scatter, brand, width=640)
    assert ">FAR-OFF-9<" in svg and ">A-1<" not in svg


# -- dendrogram --------------------------------------------------------------------------------


def test_dendrogram_merges_equal_scipy_ward_linkage_on_standardised_profiles(deep, by_site) -> None:
    (dendrogram,) = blocks(deep, Dendrogram)
    z = stats.zscore(by_site[METRICS].to_numpy(), ddof=0)  # StandardScaler: population sd
    linkage = hierarchy.linkage(z, method="ward")
    assert dendrogram.leaves == tuple(by_site.index)
    close([m.height for m in dendrogram.merges], linkage[:, 2])
    assert [(m.left, m.right, m.size) for m in dendrogram.merges] == [
        (int(a), int(b), int(n)) for a, b, _, n in linkage
    ]
    assert list(dendrogram.order) == list(hierarchy.leaves_list(linkage))
    drawn = hierarchy.dendrogram(linkage, no_plot=True, labels=list(by_site.index))
    assert [dendrogram.leaves[i] for i in dendrogram.order] == drawn["ivl"]
    # Bracket heights are scipy's, merge by merge (dcoord's top corners).
    tops = sorted(d[1] for d in drawn["dcoord"])
    close(sorted(link.height for link in dendrogram_links(dendrogram)), tops)
    saved = figures(deep)["hierarchy"]
    close(saved["linkage"], linkage)
    assert saved["leaves"] == drawn["ivl"]


# -- the deck ----------------------------------------------------------------------------------


def _x_values(series) -> list[float]:
    return [float(v.text) for v in series._element.find(qn("c:xVal")).iter(qn("c:v"))]


def test_deck_holds_native_heatmap_tables_and_xy_charts_with_the_figures(deep, brand) -> None:
    deck = Presentation(str(deep.artifacts["pptx"]))
    shapes = {shape.name: shape for slide in deck.slides for shape in slide.shapes}
    for heatmap in blocks(deep, Heatmap):
        table = shapes[heatmap.title].table
        assert [table.cell(0, j).text for j in range(1, 5)] == LABELS
        for i, row in enumerate(heatmap.values, start=1):
            for j, value in enumerate(row, start=1):
                cell = table.cell(i, j)
                assert cell.text == f"{value:.2f}".replace("-", "\N{MINUS SIGN}")
                assert str(cell.fill.fore_color.rgb) == heatmap_colour(value, brand, (-1, 1))[1:]

    (scatter,) = blocks(deep, Scatter)
    chart = shapes[scatter.title].chart
    points, line = chart.plots[0].series
    close(_x_values(points), [p.x for p in scatter.points])
    close(list(points.values), [p.y for p in scatter.points])
    close(_x_values(line), [end[0] for end in scatter.line])
    close(list(line.values), [end[1] for end in scatter.line])
    labelled = {
        scatter.points[i].label
        for i in range(len(scatter.points))
        if points.points[i].data_label.has_text_frame
    }
    assert labelled == {p.label for p in scatter.points if p.highlight}

    (dendrogram,) = blocks(deep, Dendrogram)
    chart = shapes[dendrogram.title].chart
    n = len(dendrogram.leaves)
    series = list(chart.plots[0].series)
    assert len(series) == len(dendrogram.merges) == n - 1
    leaf_names = []
    for drawn, link in zip(series, dendrogram_links(dendrogram), strict=True):
        close(_x_values(drawn), [height for _, height in link.path])
        close(list(drawn.values), [n - 1 - position for position, _ in link.path])
        leaf_names += [
            drawn.points[i].data_label.text_frame.text
            for i in (0, 3)
            if drawn.points[i].data_label.has_text_frame
        ]
    assert sorted(leaf_names) == sorted(dendrogram.leaves)  # every leaf named exactly once


@pytest.mark.slow
def test_libreoffice_converts_the_deep_dive_deck(deep, tmp_path: Path) -> None:
    deck = deep.artifacts["pptx"]
    result, pdf = convert_to_pdf(deck, tmp_path)
    assert result.returncode == 0 and pdf.exists(), result.stderr
    pages = [page.extract_text() for page in PdfReader(str(pdf)).pages]
    assert len(pages) == len(Presentation(str(deck)).slides)
    text = "\n".join(pages)
    (dendrogram,) = blocks(deep, Dendrogram)
    for leaf in dendrogram.leaves:  # leaf names are chart data labels: LibreOffice draws them
        assert leaf in text
    (scatter,) = blocks(deep, Scatter)
    assert all(p.label in text for p in scatter.points if p.highlight)


# -- PDF and HTML ------------------------------------------------------------------------------


def test_pdf_and_html_show_every_chart_title(deep) -> None:
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(deep.artifacts["pdf"]).pages
    )
    html = deep.artifacts["html"].read_text()
    titles = [b.title for kind in (Heatmap, Scatter, Dendrogram) for b in blocks(deep, kind)]
    assert len(titles) == 4
    for title in titles:
        assert title in text
        assert title in html
    assert html.count('class="chart chart-heatmap"') == 2
    assert 'class="chart chart-scatter"' in html and 'class="chart chart-dendrogram"' in html


# -- hostile and crowded labels ------------------------------------------------------------------

HOSTILE = (
    '<img src="file:///etc/passwd">',
    "{{ 7*7 }} <script>alert(1)</script>",
    '=HYPERLINK("http://127.0.0.1:1/","click")',
    "Ctrl\x01chars\x0bhere\x1f",
    "L" + "ong label " * 50,
)


@pytest.fixture
def hostile_graphics(sample_document):
    """A deep-dive section of the three figures, labelled with hostile strings, 40 leaves."""
    from dataclasses import replace

    from reportgen.document import Merge, Narrative, Section

    rng = np.random.default_rng(5)
    leaves = tuple(f"{HOSTILE[i % len(HOSTILE)][:60]} #{i}" for i in range(40))
    linkage = hierarchy.linkage(rng.normal(size=(40, 3)), method="ward")
    dendrogram = Dendrogram(
        "Tree " + HOSTILE[1],
        leaves,
        tuple(Merge(int(a), int(b), float(h), int(n)) for a, b, h, n in linkage),
        tuple(int(i) for i in hierarchy.leaves_list(linkage)),
        "Ward distance",
        caption=HOSTILE[0],
    )
    labels = HOSTILE[:4]
    values = tuple(tuple(1.0 if i == j else (i - j) / 5 for j in range(4)) for i in range(4))
    heatmap = Heatmap("Heatmap " + HOSTILE[2], labels, values, "Pearson r", caption=HOSTILE[3])
    scatter = Scatter(
        "Fit " + HOSTILE[0],
        HOSTILE[2],
        HOSTILE[1],
        tuple(
            ScatterPoint(label, 0.1 * i, 0.1 * i + 0.05, i == 2) for i, label in enumerate(HOSTILE)
        ),
        ((0.0, 0.0), (0.5, 0.5)),
    )
    section = Section(
        "deep_dive",
        "Deep dive",
        "appendix",
        (Narrative(("Hostile labels.",)), heatmap, scatter, dendrogram),
    )
    return replace(sample_document, sections=(section,)), (heatmap, scatter, dendrogram)


def test_hostile_labels_stay_text_in_html_and_the_deck(hostile_graphics, tmp_path: Path) -> None:
    from reportgen.render.html.page import render_html
    from reportgen.render.pptx.deck import render_pptx

    document, _ = hostile_graphics
    html = render_html(document, for_pdf=False)
    assert "<script>alert" not in html and '<img src="file' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    deck_path = tmp_path / "hostile.pptx"
    render_pptx(document, deck_path)
    deck = Presentation(str(deck_path))
    names = [shape.name for slide in deck.slides for shape in slide.shapes]
    assert any(name.startswith("Heatmap =HYPERLINK") for name in names)
    charts = [s.chart for slide in deck.slides for s in slide.shapes if s.has_chart]
    assert len(charts) == 2  # scatter and dendrogram; the heatmap is a table
    tree = charts[1]
    labels = [
        point.data_label.text_frame.text
        for series in tree.plots[0].series
        for point in (series.points[0], series.points[3])
        if point.data_label.has_text_frame
    ]
    assert len(labels) == 40 and not any(c in "".join(labels) for c in "\x01\x0b\x1f")
    sizes = {
        point.data_label.text_frame.paragraphs[0].runs[0].font.size.pt
        for series in tree.plots[0].series
        for point in (series.points[0], series.points[3])
        if point.data_label.has_text_frame
    }
    assert max(sizes) < 10  # 40 leaves: smaller labels, so they do not overlap


def test_every_deep_dive_graphic_is_a_valid_vega_lite_spec(deep, brand) -> None:
    """Builds skip Altair's schema validation for speed; this is where it is checked."""
    from reportgen.render.charts.svg import graphic_to_altair

    graphics = [*blocks(deep, Heatmap), *blocks(deep, Scatter), *blocks(deep, Dendrogram)]
    assert {type(g) for g in graphics} == {Heatmap, Scatter, Dendrogram}
    for graphic in graphics:
        graphic_to_altair(graphic, brand).to_dict(validate=True)


def test_deep_dive_graphics_share_layers_without_changing_their_spec(deep, brand, monkeypatch):
    """The specs built with shared layers (no Altair copies) are those Altair builds with copies."""
    from reportgen.render.charts._layers import InlineRows, SharedLayer
    from reportgen.render.charts.svg import graphic_to_altair, vegalite_spec

    graphics = [*blocks(deep, Heatmap), *blocks(deep, Scatter), *blocks(deep, Dendrogram)]
    shared = [vegalite_spec(lambda g=g: graphic_to_altair(g, brand)) for g in graphics]
    monkeypatch.delattr(SharedLayer, "__deepcopy__")
    monkeypatch.delattr(InlineRows, "__deepcopy__")
    assert shared == [graphic_to_altair(g, brand).to_dict(validate=True) for g in graphics]
