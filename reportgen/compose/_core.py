"""Figures → the neutral document model (sections, KPI tiles, tables, chart specs, narrative)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from reportgen.analysis.significance import ChangeTest, SegmentTests
from reportgen.analysis.stories import MAX_STORIES
from reportgen.compose._brief import (
    Placement,
    actions_section,
    story_notes,
    summary_notes,
)
from reportgen.compose._insights import (
    DRIVERS_METHOD,
    Insights,
    anomalies_section,
    decomposition_section,
    deep_dive_section,
    drivers_sentences,
    follow_up_section,
    for_analysts,
    significance_section,
)
from reportgen.compose._outlook import outlook_section
from reportgen.compose._plain import plain_section, without_repeats
from reportgen.compose._restatements import restatements_section
from reportgen.compose._stories import bottom_line, data_confidence, lower_first, story_texts
from reportgen.compose._wbr import minutes_when_short, wbr_chart
from reportgen.config.loader import ResolvedReport
from reportgen.config.models import (
    MetricDef,
)
from reportgen.data.quality import QualityIssue, count_summary
from reportgen.document import (
    BriefSlide,
    Cell,
    Chart,
    ChartSeries,
    Column,
    Definition,
    DefinitionList,
    Delta,
    Document,
    KpiGrid,
    KpiTile,
    Narrative,
    Section,
    Table,
    with_lead,
)
from reportgen.figures import (
    MetricFigures,
    ReportFigures,
    SegmentFigure,
    Stats,
    display_format,
    target_met,
)
from reportgen.formatting import format_full, format_p, format_value
from reportgen.semantics import kind_class, kind_of
from reportgen.semantics.aggregations import aggregation_of
from reportgen.wording import (
    change_direction,
    change_sentiment,
    headline_change,
    headline_value,
    last_year_sentence,
    metric_sentence,
    mover_sentence,
    pair_change,
    provisional_text,
    rows_decimals,
    unit_text,
    value_text,
)

if TYPE_CHECKING:
    from reportgen.ops.restatements import Restatement

#: Breakdown tables show this many segments; the rest are summed into one "Other" row.
MAX_TABLE_ROWS = 20


def compose_document(
    report: ResolvedReport,
    figures: ReportFigures,
    generated_at: datetime,
    insights: Insights,
    restatements: tuple[Restatement, ...] = (),
    placement: Placement | None = None,
) -> Document:
    """Sections in the order the report config lists them.

    Restatements (figures changed since an earlier report showed them) follow
    the summary, or open the report when it has none. The leadership edition
    puts "Actions & asks" (the follow-up, for leaders) right after them, and
    words every section plainly (:mod:`reportgen.compose._plain`).
    """
    leadership = is_leadership(report)
    placement = placement or Placement()
    if leadership:
        insights = replace(insights, plain_words=True)
    sections: list[Section] = []
    restated = restatements_section(restatements)
    if restated is not None and "summary" not in report.config.sections:
        sections.append(restated)
    if leadership and "summary" not in report.config.sections:
        sections.append(_actions(report, figures, insights))
    for name in report.config.sections:
        if name == "summary":
            sections.append(
                summary_section(report, figures, insights, generated_at, placement=placement)
            )
            if restated is not None:
                sections.append(restated)
            if leadership:
                sections.append(_actions(report, figures, insights))
        elif name == "follow_up" and leadership:
            continue  # told as "Actions & asks" after the summary
        elif name == "anomalies":
            sections.append(anomalies_section(report, figures, insights))
        elif name == "follow_up":
            if (followups := follow_up_section(report, figures, insights)) is not None:
                sections.append(followups)
        elif name == "decomposition":
            if (drivers := decomposition_section(report, figures, insights)) is not None:
                sections.append(drivers)
        elif name == "significance":
            sections.append(significance_section(report, figures, insights))
        elif name == "metrics":
            sections += [
                metric_section(report, figures, m, insights) for m in figures.metrics.values()
            ]
        elif name == "deep_dive":
            if (deep := deep_dive_section(report, figures, insights)) is not None:
                sections.append(deep)
        elif name == "outlook":
            if (ahead := outlook_section(report, figures, insights)) is not None:
                sections.append(ahead)
        elif name == "definitions":
            if (quality := data_quality_section(figures)) is not None:
                sections.append(quality)
            sections.append(definitions_section(report, figures))
    quality = data_quality_section(figures)
    if "definitions" not in report.config.sections and quality is not None:
        sections.append(quality)
    period = figures.period
    brief = brief_slides(report, figures, insights, sections, placement) if leadership else ()
    if leadership:
        sections = without_repeats([plain_section(s) for s in sections])
    return Document(
        report_id=report.id,
        title=report.config.title,
        subtitle=report.config.subtitle,
        period_label=period.display,
        period_start=period.start,
        period_end=period.end,
        timezone=figures.timezone,
        audience=report.config.audience.label,
        generated_at=generated_at,
        complete=figures.complete,
        brand=report.brand,
        sections=tuple(sections),
        brief=brief,
        edition="leadership" if leadership else "analyst",
    )


def _actions(report: ResolvedReport, figures: ReportFigures, insights: Insights) -> Section:
    texts = story_texts(report, figures, insights, analyst=False)[:MAX_STORIES]
    return actions_section(report, figures, insights, texts)


def brief_slides(
    report: ResolvedReport,
    figures: ReportFigures,
    insights: Insights,
    sections: list[Section],
    placement: Placement | None = None,
) -> tuple[BriefSlide, ...]:
    """One slide per story of the brief: its metric's section, split by the story's dimension."""
    placement = placement or Placement()
    ids = {s.id for s in sections}
    slides = []
    for text in story_texts(report, figures, insights, analyst=False)[:MAX_STORIES]:
        story = text.story
        if story.metric not in ids:
            continue
        dim = story.dimension
        label = report.catalog.dimensions[dim].label if dim in report.breakdowns else None
        notes = story_notes(text, placement)
        comments = tuple(placement.story_lines(story.id))
        segment = story.segment if label is not None else None
        slides.append(BriefSlide(story.metric, label, text.title, notes, comments, segment))
    return tuple(slides)


# -- summary ----------------------------------------------------------------------------------


def kpi_tile(
    m: MetricFigures,
    previous_label: str,
    incomplete: bool,
    insights: Insights,
    *,
    plain: bool = False,
    owner: str | None = None,
    comment: str | None = None,
) -> KpiTile:
    """A tile's arrow keeps its direction; its colour is neutral unless the change is significant.

    ``plain`` (the leadership edition) says what a test means instead of its p-value.
    """
    direction = change_direction(m.delta, m.delta_pct)
    delta = None
    if m.delta is not None:
        sentiment = change_sentiment(direction, m.direction)
        if (
            insights.significant(m.metric) is False
            or m.provisional
            or m.metric in insights.recoveries
        ):
            # a provisional move may be late data; a return toward usual is neither win nor loss
            sentiment = "neutral"
        phrase = None if direction == "flat" or m.provisional else insights.phrase(m.metric)
        if plain and phrase is not None:
            real = insights.significant(m.metric)
            phrase = (
                None if real is None else ("unlikely to be noise" if real else "could be noise")
            )
        delta = Delta(
            headline_change(m),
            direction,
            sentiment,
            f"vs {previous_label}",
            significance=phrase,
        )
    status = "none" if m.target_met is None else ("met" if m.target_met else "missed")
    return KpiTile(
        metric=m.metric,
        label=m.label,
        value=m.value,
        value_text=headline_value(m, m.value, unit=False),
        delta=delta,
        previous_text=headline_value(m, m.previous),
        target_text=f"target {value_text(m, m.target)}" if m.target is not None else None,
        target_status=status,
        note=_tile_note(m, incomplete, recovery_text(insights, m.metric, previous_label, plain)),
        unit=unit_text(m),
        owner=owner,
        comment=comment,
    )


def recovery_text(
    insights: Insights, metric: str, previous_label: str, plain: bool = False
) -> str | None:
    """ "recovered from an unusual 2026-W46" when the change is a return toward the usual level.

    ``plain`` (a leadership tile) says it as a reader would: the previous period was itself
    unusual, so this move is a return toward normal.
    """
    kind = insights.recoveries.get(metric)
    if kind is None:
        return None
    if plain:
        return f"{previous_label} was itself unusual"
    verb = "recovered from" if kind == "adverse" else "back toward usual after"
    return f"{verb} an unusual {previous_label}"


def _tile_note(m: MetricFigures, incomplete: bool, recovery: str | None = None) -> str | None:
    """ "incomplete period"; a stock also names the day its snapshot was read on."""
    notes = ["incomplete period"] if incomplete else []
    if m.provisional:
        notes.append(f"provisional — {m.provisional_reason or 'late data still arriving'}")
    if recovery:
        notes.append(recovery)
    if m.as_of is not None:
        notes.append(f"as of {m.as_of:%a %d %b}")
    return " · ".join(notes) or None


def _owner(report: ResolvedReport, metric: str) -> str | None:
    """The metric's owner from the catalog; None when the catalog leaves it unassigned."""
    owner = report.metric(metric).owner
    return None if owner in ("", "unassigned") else owner


def _headline_score(m: MetricFigures, insights: Insights) -> float:
    """Rank headlines: significant moves first, then missed targets, then size of the move."""
    significant = 2.0 if insights.significant(m.metric) and not m.provisional else 0.0
    missed = 1.0 if m.target_met is False else 0.0
    size = abs(m.delta_pct or 0.0) * (0.0 if m.direction == "neutral" else 10.0)
    return significant + missed + min(size, 1.0)


def is_leadership(report: ResolvedReport) -> bool:
    """The leadership edition: a summary-detail audience (no statistics jargon, stories first)."""
    return report.config.audience.detail == "summary"


def summary_section(
    report: ResolvedReport,
    figures: ReportFigures,
    insights: Insights,
    generated_at: datetime | None = None,
    *,
    placement: Placement | None = None,
) -> Section:
    """Bottom line, the week's ranked stories and the KPI tiles.

    The leadership edition opens with the bottom line and the stories, in
    plain words, and ends with a data-confidence line; the analyst edition
    keeps the tiles first and adds each story's method and the per-metric
    headlines with their tests.
    """
    period, previous = figures.period.label, figures.previous_period.label
    leadership = is_leadership(report)
    placement = placement or Placement()
    tiles = tuple(
        kpi_tile(
            m,
            previous,
            not figures.complete,
            insights,
            plain=leadership,
            owner=_owner(report, m.metric),
            comment=placement.tile_text(m.metric),
        )
        for m in figures.metrics.values()
    )
    if leadership:  # what needs attention first: missed targets, then unusual values
        unusual = {a.metric for a in insights.headline_anomalies if a.dimension is None}
        tiles = tuple(
            replace(t, attention=t.target_status == "missed" or t.metric in unusual)
            for t in sorted(
                tiles,
                key=lambda t: (t.target_status != "missed", t.metric not in unusual),
            )
        )
    every = story_texts(report, figures, insights, analyst=not leadership)
    texts = every[:MAX_STORIES]
    # a recovery ranked below the brief is still said: it is why a green arrow is not a win
    also = [
        f"Also: {t.title} — back toward normal, not an improvement"
        + ("." if leadership else f". {t.sentence}")
        for t in every[MAX_STORIES:]
        if t.story.kind == "recovery"
    ]
    stories = []
    for t in texts:
        stories.append(
            with_lead(
                f"{t.rank}. {t.title}.",
                f"{t.sentence} Why we think so: {t.evidence.rstrip('.')} — "
                f"{lower_first(t.follow_up)}",
            )
        )
        stories += placement.story_lines(t.story.id)  # commentary, beside its story
    built = f"{generated_at:%a %d %b %Y %H:%M} UTC" if generated_at else "now"
    confidence = data_confidence(figures, built)
    young = [m for m in figures.metrics.values() if m.provisional]
    if young:  # which numbers a reader should not act on yet, and until when
        parts = [
            f"{m.label} ({m.provisional_reason or 'late data still arriving'} until "
            f"{m.matures_on:%d %b %Y})"
            if m.matures_on
            else m.label
            for m in young
        ]
        confidence = (
            f"Still provisional: {'; '.join(parts)} — a change there may be late data. "
            + confidence
        )
    if report.edition_notes:  # a metric this audience's filter cannot restrict, named
        confidence = " ".join(report.edition_notes) + " " + confidence
    if leadership:
        opening = [line for line in (bottom_line(texts),) if line]
        talking = summary_notes(texts, confidence)
        return Section(
            "summary",
            "The week in brief",
            "summary",
            (Narrative((*opening, *stories, *also, confidence)), KpiGrid(tiles)),
            talking,
        )
    ranked = sorted(
        figures.metrics.values(), key=lambda m: _headline_score(m, insights), reverse=True
    )
    headlines = []
    for m in ranked[:5]:
        sentences = drivers_sentences(report, figures, insights, m.metric)
        if recovery := recovery_text(insights, m.metric, previous):
            sentences.append(f"It {recovery}: a return toward its usual level.")
        headlines.append(" ".join(sentences))
    # an anomaly on a provisional figure may be late data: it is listed, never the headline
    adverse = [a for a in insights.headline_anomalies if a.sentiment == "bad"]
    firm = [a for a in adverse if not a.provisional]
    if adverse:
        young = len(adverse) - len(firm)
        text = f"{len(adverse)} adverse anomal{'y' if len(adverse) == 1 else 'ies'} flagged"
        if young:
            text += f" ({young} on provisional figures, which late data may still change)"
        if firm:
            pointer = f" ({firm[0].id})" if for_analysts(report) else ""
            text += f"; the largest: {firm[0].detail.rstrip('.')}{pointer}"
        headlines.append(text + ".")
    if not figures.complete:
        headlines.insert(
            0,
            f"{period} is not complete yet (data through {figures.last_complete_day:%d %b %Y}); "
            "figures will change as data arrives.",
        )
    warnings = [q for q in figures.quality if q.severity == "warning"]
    if warnings:
        checks = sorted({q.check for q in warnings})
        headlines.append(
            f"Data quality: {len(checks)} check{'s' if len(checks) != 1 else ''} raised a "
            f"warning ({', '.join(checks)}); see the Data quality section."
        )
    notes = tuple(
        metric_sentence(m, period, previous, insights.phrase(m.metric))
        for m in figures.metrics.values()
    )
    return Section(
        "summary",
        "Executive summary",
        "summary",
        (KpiGrid(tiles), Narrative((*stories, *also, *headlines, confidence))),
        notes,
    )


# -- one section per metric -----------------------------------------------------------------


def metric_section(
    report: ResolvedReport, figures: ReportFigures, m: MetricFigures, insights: Insights
) -> Section:
    previous = figures.previous_period.label
    paragraphs = drivers_sentences(report, figures, insights, m.metric)
    if recovery := recovery_text(insights, m.metric, previous):
        paragraphs.insert(
            1, f"{m.label} {recovery}: a return toward its usual level, not a new change."
        )
    ly_label = figures.last_year_period.label if figures.last_year_period else None
    if sentence := last_year_sentence(m, ly_label):
        paragraphs.append(sentence)
    floor = report.config.insights.small_sample
    for dim, segments in m.breakdowns.items():
        sized = tuple(  # a small sample's swing is not the week's largest move
            s
            for s in segments
            if not is_small_sample(m, s.stats, floor)
            and not is_small_sample(m, s.previous_stats, floor)
        )
        if sentence := mover_sentence(m, report.catalog.dimensions[dim].label, sized):
            paragraphs.append(sentence)
    paragraphs += report.unbroken_notes(m.metric)  # a breakdown its facts cannot give, said
    wbr = wbr_chart(m, figures, insights, _axis_label(m))  # weekly: weeks, months, normal range
    trend = (
        trend_chart(m, figures) if wbr is None else minutes_when_short(wbr, in_minutes_when_short)
    )
    blocks: list = [Narrative(tuple(paragraphs)), trend]
    # a leadership story about a segment gets its breakdown drawn, the subject kept in view
    subjects = (
        {
            s.dimension: s.segment
            for s in insights.stories[:MAX_STORIES]
            if s.metric == m.metric and s.dimension and s.segment
        }
        if is_leadership(report)
        else {}
    )
    for position, (dim, segments) in enumerate(m.breakdowns.items()):
        label = report.catalog.dimensions[dim].label
        # the leadership edition says "could be noise" in its stories, never a q-value column
        tests = (
            None if is_leadership(report) else insights.significance.segments.get((m.metric, dim))
        )
        blocks.append(
            breakdown_table(
                report.metric(m.metric),
                m,
                label,
                segments,
                tests,
                insights.significance.alpha,
                figures.previous_period.label,
                small_sample=floor,
            )
        )
        # one picture of the main split (and of a story's); more splits as tables keep decks short
        if position == 0 or dim in subjects:
            blocks.append(
                breakdown_chart(
                    m, label, segments, figures, small_sample=floor, keep=subjects.get(dim)
                )
            )
    notes = (
        *paragraphs,
        f"{m.label}: {headline_value(m, m.value)} vs {headline_value(m, m.previous)} in {previous}.",
    )
    return Section(m.metric, m.label, "metric", tuple(blocks), notes)


def trend_chart(m: MetricFigures, figures: ReportFigures) -> Chart:
    # * incomplete period (one before the data begins is empty, not partial); † provisional
    categories = tuple(
        p.period + ("" if p.complete or p.value is None else " *") + (" †" if p.provisional else "")
        for p in m.series
    )
    series = [ChartSeries(m.label, tuple(p.value for p in m.series), "primary")]
    if m.target is not None:
        series.append(ChartSeries("Target", tuple(m.target for _ in m.series), "target"))
    n = len(m.series)
    chart = Chart(
        title=f"{m.label}, last {n} {figures.period.grain}s"
        + (f" (each {figures.period.grain}'s closing snapshot)" if m.as_of is not None else "")
        + (" († provisional)" if any(p.provisional for p in m.series) else ""),
        chart_type="line",
        categories=categories,
        series=tuple(series),
        value_format=m.format,  # type: ignore[arg-type]
        value_label=_axis_label(m),
        highlight=categories[-1],
        value_decimals=m.decimals,
    )
    return in_minutes_when_short(chart)


def _axis_label(m: MetricFigures) -> str:
    """The value axis's title: the unit (a rate's catalog unit), else the metric's label."""
    if unit := unit_text(m):
        return unit
    return {
        "count": "count",
        "percent": "percent",
        "seconds": "seconds",
        "minutes": "minutes",
        "hours": "hours",
    }.get(m.format, m.label)


def in_minutes_when_short(chart: Chart) -> Chart:
    """A chart of hours whose values are all under an hour, redrawn in minutes.

    The text reads a 2-minute median as "1.9 min"; an axis of 0.01–0.03 h
    beside it would make the reader convert. Only the picture changes unit:
    every value is ×60, the axis says minutes.
    """
    values = [v for s in chart.series for v in s.values if v is not None and math.isfinite(v)]
    if chart.value_format != "hours" or not values or max(abs(v) for v in values) >= 1:
        return chart
    series = tuple(
        replace(s, values=tuple(None if v is None else v * 60 for v in s.values))
        for s in chart.series
    )
    label = "minutes" if chart.value_label == "hours" else chart.value_label
    return replace(chart, series=series, value_format="minutes", value_label=label)


def breakdown_chart(
    m: MetricFigures,
    dim_label: str,
    segments: tuple[SegmentFigure, ...],
    figures: ReportFigures,
    *,
    small_sample: float = 0.0,
    keep: str | None = None,
) -> Chart:
    """The twelve largest segments, this period and the last; ``keep`` (a story's subject)
    is drawn even when it is not among them."""
    shown = segments[:12]
    if keep is not None and keep not in {s.segment for s in shown}:
        shown = (*segments[:11], *(s for s in segments if s.segment == keep))
    chart = Chart(
        title=f"{m.label} by {dim_label.lower()}",
        chart_type="bar",
        categories=tuple(s.segment for s in shown),
        series=(
            ChartSeries(figures.period.label, tuple(s.value for s in shown), "primary"),
            ChartSeries(
                figures.previous_period.label, tuple(s.previous for s in shown), "comparison"
            ),
        ),
        value_format=m.format,  # type: ignore[arg-type]
        value_label=_axis_label(m),
        value_decimals=m.decimals,
        muted_categories=tuple(
            s.segment for s in shown if is_small_sample(m, s.stats, small_sample)
        ),
    )
    return in_minutes_when_short(chart)


def sample_size(m: MetricFigures, stats: Stats) -> float | None:
    """A segment's n: the denominator of a proportion, the count of a mean or of the rows a
    quantile is read from.

    None for other ratios (throughput's denominator is hours, not a sample), totals
    (a total is its own volume) and formulas.
    """
    return kind_class(m.type).sample_size(stats)


def is_small_sample(m: MetricFigures, stats: Stats, floor: float) -> bool:
    """Below the volume floor (``insights.small_sample``): shown greyed, never dramatic."""
    n = sample_size(m, stats)
    return n is not None and n < floor


def _n_text(m: MetricFigures, stats: Stats) -> str:
    """ "12 / 345" for a proportion (numerator / denominator), else n."""
    n = sample_size(m, stats)
    if n is None:
        return ""
    if kind_class(m.type).n_as_fraction and stats.numerator is not None:
        return f"{format_full(stats.numerator, 'count')} / {format_full(n, 'count')}"
    return format_full(n, "count")


def _share_weight(metric: MetricDef) -> str:
    """What a segment's share is a share of, in the catalog's words (never the demo's)."""
    return kind_of(metric).share_words()


def _target_cell(m: MetricFigures, s: SegmentFigure) -> Cell:
    """The segment's target and, as on the headline tile, whether it was met."""
    if s.target is None:
        return Cell("", None)
    met = target_met(m.direction, s.value, s.target)
    text = value_text(m, s.target, unit=False)
    if met is None:
        return Cell(text, s.target)
    return Cell(f"{text} {'MET' if met else 'MISSED'}", s.target, "good" if met else "bad")


def breakdown_table(
    metric: MetricDef,
    m: MetricFigures,
    dim_label: str,
    segments: tuple[SegmentFigure, ...],
    tests: SegmentTests | None = None,
    alpha: float = 0.05,
    previous_label: str | None = None,
    *,
    small_sample: float = 0.0,
) -> Table:
    """One row per segment with its n beside the rate; small samples greyed and marked."""
    has_targets = any(s.target is not None for s in segments)
    has_n = m.type != "total" and any(sample_size(m, s.stats) is not None for s in segments)
    unit = unit_text(m)
    in_unit = f" ({unit})" if unit else ""
    columns = [
        Column("segment", dim_label, "left"),
        Column("value", f"Value{in_unit}"),
        Column("previous", f"Previous{in_unit}"),
        Column(  # the same comparison, named the same way, as the tiles' "vs 2026-W46"
            "delta",
            f"Change{f' vs {previous_label}' if previous_label else ''}"
            f"{'' if m.format == 'count' else in_unit}",
        ),
        Column("share", "Share"),
    ]
    if has_n:
        columns.insert(2, Column("n", "x / n" if kind_class(m.type).n_as_fraction else "n"))
    if tests is not None:
        columns.append(Column("significance", "Significant?", "left"))
    if has_targets:
        columns.append(Column("target", "Target"))
    shown = list(segments[:MAX_TABLE_ROWS])
    rest = segments[MAX_TABLE_ROWS:]
    if rest:
        shown.append(other_segment(metric, rest))
    rows = []
    muted = []
    # one precision for the table's values and changes: the metric's, finer only where a row's
    # change would read as zero; each row's change is the difference of its values as shown
    decimals = rows_decimals(m, shown)
    for index, s in enumerate(shown):
        direction = change_direction(s.delta, s.delta_pct)
        test = tests.changes.get(s.segment) if tests is not None else None
        sentiment = change_sentiment(direction, m.direction)
        small = is_small_sample(m, s.stats, small_sample)
        if small or (test is not None and test.significant(alpha) is False):
            sentiment = "neutral"
        row = [
            Cell(f"{s.segment} (small sample)" if small else s.segment, s.segment),
            Cell(_full(m, s.value, decimals), s.value),
            Cell(_full(m, s.previous, decimals), s.previous),
            Cell(
                pair_change(m, s.value, s.previous, s.delta, s.delta_pct, decimals),
                s.delta,
                sentiment,
            ),
            Cell(format_value(s.share, "percent"), s.share),
        ]
        if has_n:
            row.insert(2, Cell(_n_text(m, s.stats), sample_size(m, s.stats)))
        if tests is not None:
            row.append(_significance_cell(test, alpha))
        if has_targets:
            row.append(_target_cell(m, s))
        rows.append(tuple(row))
        if small:
            muted.append(index)
    caption = f"Share: the segment's share {_share_weight(metric)}. Sorted by share."
    if muted:
        caption += (
            f" Greyed: small samples (n below {format_full(small_sample, 'count')}), "
            "shown but not to be read into."
        )
    if tests is not None:
        caption += (
            " Significance of each segment's change after Benjamini–Hochberg correction (q-value)."
        )
    if m.provisional:
        text = provisional_text(m)
        caption += f" {text[0].upper()}{text[1:]}: a change may be late data, not a real move."
    return Table(
        title=f"{m.label} by {dim_label.lower()}",
        columns=tuple(columns),
        rows=tuple(rows),
        caption=caption,
        muted_rows=tuple(muted),
    )


def _significance_cell(test: ChangeTest | None, alpha: float) -> Cell:
    if test is None or test.result is None or test.q_value is None:
        return Cell("—", None)
    verdict = test.significant(alpha)
    q = test.q_value
    q_text = format_p(q, alpha, "q")
    return Cell(f"{'yes' if verdict else 'no'}, {q_text}", q)


def _full(m: MetricFigures, value: float | None, decimals: int | None = None) -> str:
    """A table cell's value: counts unabridged; the unit is in the column header."""
    if m.format == "count":
        return format_full(value, "count")
    return value_text(m, value, decimals, unit=False)


def other_segment(metric: MetricDef, rest: tuple[SegmentFigure, ...]) -> SegmentFigure:
    """Sum the tail's sufficient statistics: the "Other" row is a true ratio of sums."""
    kind = kind_of(metric)
    current = kind.pooled([s.stats for s in rest])
    prior = kind.pooled([s.previous_stats for s in rest])
    cur_stats, value = current.stats, current.value
    prev_stats, previous = prior.stats, prior.value
    delta = value - previous if value is not None and previous is not None else None
    delta_pct = delta / previous if delta is not None and previous else None
    share = sum(s.share or 0 for s in rest)
    return SegmentFigure(
        f"Other ({len(rest)})",
        value,
        previous,
        delta,
        delta_pct,
        share,
        None,
        cur_stats,
        prev_stats,
    )


# -- data quality ---------------------------------------------------------------------------


def data_quality_section(figures: ReportFigures) -> Section | None:
    """The gate's warnings as a table; no section when the data passed every check.

    Errors never get here (they stop the build), so every row is something the
    reader should weigh: the figures were computed, but these rows or days are suspect.
    """
    warnings = [q for q in figures.quality if q.severity == "warning"]
    if not warnings:
        return None
    grouped = _by_check(warnings)
    rows = tuple(
        (
            Cell(f"{q.fact} · {q.check}", q.check),
            Cell(q.description, q.description),
            Cell(q.amount, float(q.rows)),
            Cell(q.period, q.period),
            Cell("; ".join(q.examples) if q.examples else "—", None),
        )
        for q in grouped
    )
    table = Table(
        title="Data-quality warnings",
        columns=(
            Column("check", "Check", "left"),
            Column("description", "Description", "left"),
            Column("affected", "Affected"),
            Column("period", "Data period", "left"),  # a label wide enough for "2026-W47"
            Column("examples", "Examples", "left"),
        ),
        rows=rows,
        caption="Warnings do not stop the build. Flagged rows stay in the figures, except rows "
        "dated after today or before not_before, which no period can show. Examples are key "
        "values (or days) of affected rows. Severities are set per fact in the catalog "
        "(checks, quality.severity).",
    )
    count = f"{len(grouped)} check{'s' if len(grouped) != 1 else ''}"
    paragraphs = [
        f"The data passed every error-level check; {count} raised a warning. The figures were "
        "computed as usual: read the metrics the flagged rows or days touch with care."
    ]
    paragraphs += _count_paragraphs(figures, warnings)
    if any(q.check == "partial_days" for q in warnings):
        paragraphs.append(
            "Days with missing or partial data lower the volumes and totals of their period; "
            "ratios and averages are affected only if the missing rows differ from the rest."
        )
    notes = tuple(q.line() for q in warnings)
    blocks = (Narrative(tuple(paragraphs)), table)
    return Section("data_quality", "Data quality", "appendix", blocks, notes)


def _count_paragraphs(figures: ReportFigures, warnings: list[QualityIssue]) -> list[str]:
    """Per row check, its count and share per period, the built period first."""
    groups: dict[tuple[str, str], list[QualityIssue]] = {}
    for issue in warnings:
        if issue.unit == "rows" and issue.period[:1].isdigit():
            groups.setdefault((issue.fact, issue.check), []).append(issue)
    built, grain = figures.period.label, figures.period.grain
    return [
        f"{fact} · {check} — {count_summary(group, built, grain)}."
        for (fact, check), group in groups.items()
    ]


def _by_check(issues: list[QualityIssue]) -> list[QualityIssue]:
    """One row per (fact, check): a check failing in six trailing weeks is one line, not six.

    Rows are summed, the period becomes a span (``2026-W42 … W47``) and the
    examples come from the latest periods first. figures.json keeps every period.
    """
    groups: dict[tuple[str, str], list[QualityIssue]] = {}
    for issue in issues:
        groups.setdefault((issue.fact, issue.check), []).append(issue)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        first, last = group[0].period, group[-1].period
        same_year = first[:5] == last[:5] and first[:1].isdigit()
        examples = [e for q in reversed(group) for e in q.examples][:5]
        out.append(
            replace(
                group[-1],
                rows=sum(q.rows for q in group),
                period=f"{first} … {last[5:] if same_year else last}",
                examples=tuple(examples),
            )
        )
    return out


# -- appendix -------------------------------------------------------------------------------


def formula(report: ResolvedReport, metric: MetricDef) -> str:
    return kind_of(metric).definition(report.catalog.measures)


def measure_text(report: ResolvedReport, name: str) -> str:
    m = report.catalog.measures[name]
    what = aggregation_of(m).describe(m)
    if m.filter:
        what += f" where {m.filter}"
    if m.time_column:
        what += f" (dated by {m.time_column})"
    return f"{name} = {what}"


def definitions_section(report: ResolvedReport, figures: ReportFigures) -> Section:
    items = []
    direction_text = {
        "higher_is_better": "higher",
        "lower_is_better": "lower",
        "neutral": "neither (context)",
    }
    for name in figures.metrics:
        metric = report.metric(name)
        measures = kind_of(metric).defining_measures()
        shown = figures.metrics[name]
        unit = metric.unit or metric.format
        if display_format(shown) != metric.format:
            unit += f" (shown in {display_format(shown)}: its values are under an hour)"
        extra = [
            ("Measures", "; ".join(measure_text(report, m) for m in measures)),
            ("Unit", unit),
            ("Better", direction_text[metric.direction]),
            ("Owner", metric.owner),
        ]
        if shown.target is not None:  # the target in force, never a number written in the text
            extra.insert(
                2, ("Target", f"{value_text(shown, shown.target)} in {figures.period.label}")
            )
        if (maturity := metric.matures_after) is not None:  # late data: young periods provisional
            extra.append(("Final after", f"{maturity.days} days"))
        items.append(
            Definition(metric.label, formula(report, metric), metric.description, tuple(extra))
        )
    notes: tuple[str, ...] = (
        f"Period {figures.period.label} in timezone {figures.timezone}; ratios are ratios of sums.",
    )
    if "decomposition" in report.config.sections:
        notes += (f"Drivers: {DRIVERS_METHOD}",)
        # one more entry of the list, so it flows in its columns instead of a page of its own
        items.append(Definition("Drivers (mix and rate effects)", "", DRIVERS_METHOD))
    blocks: tuple = (DefinitionList(tuple(items)),)
    return Section("definitions", "Metric definitions", "appendix", blocks, notes)
