"""Sections that show the analysis: anomalies, drivers (LMDI) and significance tests."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from reportgen.analysis.anomalies import Anomaly
from reportgen.analysis.drivers import (
    OTHER,
    Decomposition,
    Parts,
    driver_parts,
    driver_sentence,
    in_sentence,
    segment_label,
    shows_a_digit,
    waterfall_steps,
)
from reportgen.analysis.followup import earlier_rcas
from reportgen.analysis.insights import Insights
from reportgen.analysis.significance import Significance, p_text, significance_phrase
from reportgen.analysis.stats import TestResult
from reportgen.config.loader import ResolvedReport
from reportgen.document import (
    Cell,
    Chart,
    ChartSeries,
    Column,
    Dendrogram,
    Heatmap,
    Merge,
    Narrative,
    Scatter,
    ScatterPoint,
    Section,
    Table,
)
from reportgen.figures import MetricFigures, ReportFigures
from reportgen.formatting import MINUS, format_change, format_p, format_value, minus
from reportgen.wording import (
    change_direction,
    change_sentiment,
    change_text,
    headline_change,
    headline_value,
    interval_text,
    metric_sentence,
    pair_change,
    pair_decimals,
    term_text,
    unit_text,
    value_text,
)

if TYPE_CHECKING:
    from reportgen.analysis._deepdive_tukey import TukeyResult

METHOD_TEXT = {
    "history": "own history",
    "peer": "peers",
    "share": "share, history",
}


#: How an anomaly's change is labelled wherever it is shown: it is not the change
#: against the previous period (the tiles' "vs 2026-W46"), but against the usual level.
ANOMALY_CHANGE_LABEL = "Change vs baseline"


def for_analysts(report: ResolvedReport) -> bool:
    """Whether the edition carries pointers meant for analysts (anomaly ids, figures.json).

    The audience's ``detail`` says it: "operational" editions are read by the people
    who investigate; a "summary" edition (leadership, vendor summaries) is not.
    """
    return report.config.audience.detail == "operational"


# -- anomalies --------------------------------------------------------------------------------


def _anomaly_decimals(m: MetricFigures | None, anomaly: Anomaly) -> int | None:
    if anomaly.method == "share" or m is None:
        return None
    return pair_decimals(m, anomaly.observed, anomaly.baseline)


def _anomaly_value(m: MetricFigures | None, anomaly: Anomaly, value: float) -> str:
    if anomaly.method == "share":
        return format_value(value, "percent")
    if m is None:
        return minus(f"{value:.4g}")
    decimals = None if m.format == "count" else _anomaly_decimals(m, anomaly)
    return value_text(m, value, decimals, unit=False)  # the unit is in the metric's cell


def _anomaly_change(m: MetricFigures | None, anomaly: Anomaly) -> str:
    if anomaly.method == "share" or m is None:
        return format_change(anomaly.delta, "percent")
    return pair_change(
        m,
        anomaly.observed,
        anomaly.baseline,
        anomaly.delta,
        anomaly.delta / anomaly.baseline if anomaly.baseline else None,
        _anomaly_decimals(m, anomaly),
    )


def where_text(report: ResolvedReport, dimension: str | None, segment: str | None) -> str:
    """ "Region: Europe", or "Overall" for a metric's total."""
    if not segment or not dimension:
        return "Overall"
    return f"{report.catalog.dimensions[dimension].label}: {segment}"


def _id_text(anomaly: Anomaly, rcas: dict[str, tuple[int, ...]]) -> str:
    items = rcas.get(anomaly.id)
    if not items:
        return anomaly.id
    return f"{anomaly.id} — {_recurs_text(anomaly, rcas)}"


def _recurs_text(anomaly: Anomaly, rcas: dict[str, tuple[int, ...]]) -> str:
    items = rcas.get(anomaly.id)
    return f"recurs, see RCA {', '.join(f'#{i}' for i in items)}" if items else ""


def anomaly_table(
    report: ResolvedReport,
    figures: ReportFigures,
    anomalies: tuple[Anomaly, ...],
    rcas: dict[str, tuple[int, ...]] | None = None,
) -> Table:
    rows = []
    rcas = rcas or {}
    with_ids = for_analysts(report)
    # a summary edition names no ids, but still says an anomaly is a known, followed-up one
    recurring = not with_ids and any(rcas.get(a.id) for a in anomalies)
    for a in anomalies:
        m = figures.metrics.get(a.metric)
        where = where_text(report, a.dimension, a.segment)
        unit = unit_text(m) if m and a.method != "share" else None
        row = [
            Cell(f"{m.label} ({unit})" if unit else (m.label if m else a.metric), a.metric),
            Cell(where, a.segment or ""),
            Cell(METHOD_TEXT.get(a.method, a.method), a.method),
            Cell(_anomaly_value(m, a, a.observed), a.observed),
            Cell(_anomaly_value(m, a, a.baseline), a.baseline),
            Cell(_anomaly_change(m, a), a.delta, a.sentiment),
            Cell(format_change(a.robust_z, "decimal", 1), a.robust_z),
        ]
        if with_ids:
            row.append(Cell(_id_text(a, rcas), a.id))
        elif recurring:
            row.append(Cell(_recurs_text(a, rcas), a.id))
        rows.append(tuple(row))
    columns = [
        Column("metric", "Metric", "left"),
        Column("segment", "Where", "left"),
        Column("method", "Compared", "left"),
        Column("observed", "Observed"),
        Column("baseline", "Baseline"),
        Column("delta", ANOMALY_CHANGE_LABEL),
        Column("z", "Robust z"),
    ]
    caption = (
        "Baseline: the median of the metric's previous periods (own history, share), or of its "
        "peers this period. Robust z = 0.6745 × (observed − median) / MAD of the baseline, "
        "floored by the period's sampling error."
    )
    if with_ids:
        columns.append(Column("id", "ID", "left"))
        caption += " Record a cause against an ID to follow it up."
    elif recurring:
        columns.append(Column("id", "Follow-up", "left"))
    return Table("Anomalies flagged", tuple(columns), tuple(rows), caption)


def anomalies_section(
    report: ResolvedReport, figures: ReportFigures, insights: Insights
) -> Section:
    """The strongest anomalies in a table; every one of them is in figures.json."""
    anomalies = insights.headline_anomalies  # small samples: figures.json only
    if not anomalies:
        text = (
            f"No anomalies in {figures.period.label}: every checked metric and segment is within "
            "its usual range and in line with its peers.",
        )
        return Section("anomalies", "Anomalies", "summary", (Narrative(text),), text)
    limit = report.config.insights.anomalies.max_shown
    shown = anomalies[:limit]
    bad = sum(1 for a in anomalies if a.sentiment == "bad")
    lead = f"{len(anomalies)} anomalies flagged in {figures.period.label} ({bad} adverse)"
    if len(anomalies) > len(shown):
        lead += f"; the {len(shown)} strongest are listed"
        if for_analysts(report):
            lead += ", all are in figures.json"
    if (small := len(insights.anomalies) - len(anomalies)) and for_analysts(report):
        lead += (
            f"; {small} more on small samples (n below "
            f"{report.config.insights.small_sample:g}) are in figures.json only"
        )
    paragraphs = (lead + ". The largest:", *(a.detail for a in anomalies[:3]))
    return Section(
        "anomalies",
        "Anomalies",
        "summary",
        (
            Narrative(paragraphs),
            anomaly_table(report, figures, shown, earlier_rcas(insights.followups)),
        ),
        tuple(f"{a.id}: {a.detail}" if for_analysts(report) else a.detail for a in shown),
    )


# -- drivers ----------------------------------------------------------------------------------


#: What the contributions table and the definitions say the terms are (one or two sentences).
DRIVERS_METHOD = (
    "Additive LMDI-I: a segment's rate effect is the change within it; its mix effect is its "
    "share shift weighted by how far its rate is from the average of the two periods, so a "
    "segment that grows while below average pulls the metric down and one at the average "
    "contributes nothing. Mix and rate add up exactly to the change."
)


def drivers_chart(m: MetricFigures, figures: ReportFigures, d: Decomposition, top: int) -> Chart:
    """The bridge: each segment of the table and "Other" as a bar from zero, then the change."""
    steps = waterfall_steps(d, top)
    # the axis title names a unit of words ("decisions / productive hour"); said twice here
    # it would push the end value out of the label
    before, after = (value_text(m, v, unit=False) for v in (d.result.value0, d.result.value1))
    span = f"{before} → {after}"
    categories = (*(s.label for s in steps), f"Change {span}")
    values = (*(s.value for s in steps), d.result.change)
    sentiments = (*(_sentiment(m, s.value) for s in steps), None)
    return Chart(
        title=f"What moved {in_sentence(m.label)}",
        chart_type="waterfall",
        categories=categories,
        series=(ChartSeries(f"Contribution to {in_sentence(m.label)}", values, "primary"),),
        value_format=m.format,  # type: ignore[arg-type]
        value_label=unit_text(m) or (m.format if m.format in ("seconds", "percent") else m.label),
        value_decimals=m.decimals,
        # the ends and steps read as in the table and the sentence beside the chart
        label_decimals=pair_decimals(m, d.result.value1, d.result.value0),
        point_sentiments=sentiments,
    )


def drivers_table(report: ResolvedReport, m: MetricFigures, d: Decomposition, top: int) -> Table:
    """The named segments, "Other" and the total: the rows add up exactly to the change."""
    dims = " · ".join(report.catalog.dimensions[x].label for x in d.dimensions)
    parts = driver_parts(d, top)
    r = d.result
    rows = []
    for term in parts.shown:
        rows.append(
            (
                Cell(segment_label(term), segment_label(term)),
                Cell(
                    f"{format_value(term.share0, 'percent')} → {format_value(term.share1, 'percent')}",
                    term.share1,
                ),
                Cell(_pair(m, term.rate0, term.rate1), term.rate1),
                Cell(term_text(m, term.mix), term.mix, _sentiment(m, term.mix)),
                Cell(term_text(m, term.rate), term.rate, _sentiment(m, term.rate)),
                Cell(term_text(m, term.total), term.total, _sentiment(m, term.total)),
            )
        )
    if parts.other is not None:
        # the change less the named rows, so the column adds up exactly (as the bridge's Other)
        mix = r.mix - math.fsum(t.mix for t in parts.shown)
        rate = r.rate - math.fsum(t.rate for t in parts.shown)
        total = r.change - math.fsum(t.total for t in parts.shown)
        o = parts.other
        rows.append(
            (
                Cell(_other_text(report, d, parts), OTHER),
                Cell(
                    f"{format_value(o.share0, 'percent')} → {format_value(o.share1, 'percent')}",
                    o.share1,
                ),
                Cell(_pair(m, o.rate0, o.rate1), o.rate1),
                Cell(term_text(m, mix), mix, _sentiment(m, mix)),
                Cell(term_text(m, rate), rate, _sentiment(m, rate)),
                Cell(term_text(m, total), total, _sentiment(m, total)),
            )
        )
    rows.append(
        (
            Cell("Total", "__total__"),
            Cell("100%", 1.0),
            Cell(  # the metric's own values, as its headline change compares them
                f"{headline_value(m, r.value0, unit=False)} → {headline_value(m, r.value1, unit=False)}",
                r.value1,
            ),
            Cell(term_text(m, r.mix), r.mix),
            Cell(term_text(m, r.rate), r.rate),
            Cell(
                headline_change(m) if _same(r.change, m.delta) else term_text(m, r.change), r.change
            ),
        )
    )
    columns = (
        Column("segment", dims, "left"),
        Column("share", "Share of volume"),
        Column("rate", f"{m.label} ({unit})" if (unit := unit_text(m)) else m.label),
        Column("mix", "Mix effect"),
        Column("rate_effect", "Rate effect"),
        Column("total", "Contribution"),
    )
    caption = f"{DRIVERS_METHOD} The rows add up to the total."
    if parts.small_count:
        caption += (
            f" Segments with fewer than {d.small_sample:,.0f} in both periods are small samples: "
            "never named, counted in Other."
        )
    return Table(f"{m.label}: contributions by {dims.lower()}", columns, tuple(rows), caption)


def _other_text(report: ResolvedReport, d: Decomposition, parts: Parts) -> str:
    """ "Other (12 queues)" or "Other (12 queues, 3 small samples)"."""
    unit = " · ".join(report.catalog.dimensions[x].label for x in d.dimensions).lower()
    plural = unit if parts.other_count == 1 or unit.endswith("s") else f"{unit}s"
    detail = f"{parts.other_count} {plural}"
    if parts.small_count:
        detail += f", {parts.small_count} small sample{'s' if parts.small_count != 1 else ''}"
    return f"{OTHER} ({detail})"


def _pair(m: MetricFigures, before: float | None, after: float | None) -> str:
    """ "55.6 s → 62.7 s": a segment's rates (no change of them is shown beside them)."""
    return f"{value_text(m, before, unit=False)} → {value_text(m, after, unit=False)}"


def _sentiment(m: MetricFigures, value: float):
    """Good/bad by the metric's direction; none for a part that displays as zero ("+0.0 s")."""
    if not shows_a_digit(change_text(m, value, None)):
        return None
    return change_sentiment(change_direction(value, None), m.direction)


def drivers_sentences(
    report: ResolvedReport, figures: ReportFigures, insights: Insights, name: str
) -> list[str]:
    m = figures.metrics[name]
    d = insights.decompositions.get(name)
    headline = metric_sentence(
        m, figures.period.label, figures.previous_period.label, insights.phrase(name)
    )
    if d is None:
        return [headline]
    dim_label = " · ".join(report.catalog.dimensions[x].label for x in d.dimensions)
    top = report.config.insights.decomposition.top
    why = driver_sentence(m, d, dim_label, lambda v: term_text(m, v), top)
    return [headline, why] if why else [headline]


def decomposition_section(
    report: ResolvedReport, figures: ReportFigures, insights: Insights
) -> Section | None:
    top = report.config.insights.decomposition.top
    blocks: list = []
    notes: list[str] = []
    for name in chosen_drivers(figures, insights):
        m, d = figures.metrics[name], insights.decompositions[name]
        sentences = drivers_sentences(report, figures, insights, name)
        notes += sentences
        blocks += [
            Narrative(tuple(sentences)),
            drivers_chart(m, figures, d, top),
            drivers_table(report, m, d, top),
        ]
    if not blocks:
        return None
    return Section(
        "decomposition", "What drove the changes", "summary", tuple(blocks), tuple(notes)
    )


def chosen_drivers(figures: ReportFigures, insights: Insights, limit: int = 4) -> list[str]:
    """Metrics worth explaining: decomposed, visibly changed, and not noise — largest moves first."""
    candidates = []
    for name, d in insights.decompositions.items():
        m = figures.metrics[name]
        if d.result.note or change_direction(m.delta, m.delta_pct) == "flat":
            continue
        significant = insights.significant(name)
        if significant is False:
            continue
        candidates.append((bool(significant), abs(m.delta_pct or 0.0), name))
    return [name for *_, name in sorted(candidates, reverse=True)[:limit]]


# -- significance -----------------------------------------------------------------------------


def _stat_text(result: TestResult | None) -> str:
    if result is None or result.statistic is None:
        return "—"
    return format_value(result.statistic, "decimal")


def significance_section(
    report: ResolvedReport, figures: ReportFigures, insights: Insights
) -> Section:
    sig = insights.significance
    level = f"{sig.confidence:.0%}"
    rows = []
    for name, test in sig.metrics.items():
        m = figures.metrics[name]
        r = test.result
        ci = "—"
        if r is not None and r.ci_low is not None and r.ci_high is not None:
            ci = interval_text(m, r.ci_low, r.ci_high)
        verdict = test.significant(sig.alpha)
        unit = unit_text(m)
        rows.append(
            (
                Cell(f"{m.label} ({unit})" if unit else m.label, name),
                Cell(headline_change(m), m.delta),
                Cell(r.test if r else "none", r.test if r else None),
                Cell(_stat_text(r), r.statistic if r else None),
                Cell(format_p(r.p_value, sig.alpha) if r else "—", r.p_value if r else None),
                Cell(ci, None),
                Cell(
                    f"{format_value(r.effect_size, 'decimal', 3)} ({r.effect_size_name})"
                    if r and r.effect_size is not None
                    else "—",
                    r.effect_size if r else None,
                ),
                Cell(
                    {True: "significant", False: "not significant", None: "not tested"}[verdict]
                    + (" — provisional" if m.provisional else ""),
                    verdict,
                    None,
                ),
            )
        )
    columns = (
        Column("metric", "Metric", "left"),
        Column("change", f"Change vs {figures.previous_period.label}"),
        Column("test", "Test", "left"),
        Column("statistic", "Statistic"),
        Column("p", "p-value"),
        Column("ci", f"{level} CI of change"),
        Column("effect", "Effect size"),
        Column("verdict", "Verdict", "left"),
    )
    caption = f"Two-sided tests of {figures.period.label} against {figures.previous_period.label} at the {level} level."
    caption += _untested_text(figures, sig)
    if young := [m.label for m in figures.metrics.values() if m.provisional]:
        caption += (
            f" Provisional ({', '.join(young)}): late data is still arriving, so the test "
            "compares a period that will still change; a move there may be missing data."
        )
    blocks: list = [Table("Is the change real?", columns, tuple(rows), caption)]
    across = across_table(report, figures, insights)
    if across is not None:
        blocks.append(across)
    notes = tuple(
        f"{figures.metrics[n].label}: {significance_phrase(t, sig.alpha)}"
        for n, t in sig.metrics.items()
    )
    return Section("significance", "Significance of changes", "summary", tuple(blocks), notes)


def _untested_text(figures: ReportFigures, sig: Significance) -> str:
    """ " Not tested: Backlog (why); Utilization, High-severity exposure (why)." — each reason once."""
    by_reason: dict[str, list[str]] = {}
    for name, test in sig.metrics.items():
        if test.result is None:
            reason = test.reason or "no sampling test applies"
            by_reason.setdefault(reason, []).append(figures.metrics[name].label)
    if not by_reason:
        return ""
    groups = [f"{', '.join(labels)} ({reason})" for reason, labels in by_reason.items()]
    return f" Not tested: {'; '.join(groups)}."


def across_table(
    report: ResolvedReport, figures: ReportFigures, insights: Insights
) -> Table | None:
    rows = []
    for (name, dim), tests in insights.significance.segments.items():
        r = tests.across
        if r is None:
            continue
        flagged = [
            s for s, t in tests.changes.items() if t.significant(insights.significance.alpha)
        ]
        rows.append(
            (
                Cell(figures.metrics[name].label, name),
                Cell(report.catalog.dimensions[dim].label, dim),
                Cell(r.test, r.test),
                Cell(_stat_text(r), r.statistic),
                Cell(format_p(r.p_value, insights.significance.alpha), r.p_value),
                Cell(
                    ", ".join(flagged[:4]) + (f" +{len(flagged) - 4}" if len(flagged) > 4 else "")
                    or "none",
                    len(flagged),
                ),
            )
        )
    if not rows:
        return None
    columns = (
        Column("metric", "Metric", "left"),
        Column("dimension", "Across", "left"),
        Column("test", "Test", "left"),
        Column("statistic", "Statistic"),
        Column("p", "p-value"),
        Column("changed", "Segments that changed (BH-adjusted)", "left"),
    )
    caption = (
        "Do segments differ from each other this period (ANOVA for means, chi-square for proportions), and "
        "which segments changed significantly after Benjamini–Hochberg correction."
    )
    return Table("Differences across segments", columns, tuple(rows), caption)


# -- follow-up --------------------------------------------------------------------------------


def follow_up_section(
    report: ResolvedReport, figures: ReportFigures, insights: Insights
) -> Section | None:
    """Open root-cause items with age, owner and measured recovery; items closed this period.

    A configured follow-up section is never silently left out: with nothing
    recorded it says how many adverse findings have no cause yet.
    """
    if not insights.followups:
        return _nothing_recorded(report, figures, insights)
    rows = []
    for f in insights.followups:
        item = f.item
        m = figures.metrics.get(item.metric)
        where = where_text(report, item.dimension, item.segment)
        now = value_text(m, f.current_value) if m else "—"
        then = value_text(m, f.flagged_value) if m else "—"
        if item.status == "closed":
            state = f"closed: {item.outcome}"
        elif f.recovered is None:
            state = "open — recovery not measurable here"
        else:
            p = format_p(f.test.result.p_value) if f.test and f.test.result else ""
            state = f"open — {'recovered' if f.recovered else 'not recovered'} ({p})"
        recurs = f"recurs: {', '.join(f.recurring)}" if f.recurring else ""
        due = f" (due {item.due:%d %b})" if item.due else ""
        rows.append(
            (
                Cell(
                    f"#{item.id} · {item.anomaly_id}" if for_analysts(report) else f"#{item.id}",
                    item.anomaly_id,
                ),
                Cell(f"{m.label if m else item.metric} — {where} ({item.period})", item.metric),
                Cell(f"{then} → {now}", f.current_value),
                Cell(f"{item.owner}: {item.action}{due}", item.owner),
                Cell(f"{f.age_days} d", f.age_days),
                Cell(
                    " · ".join(x for x in (state, recurs) if x), f.recovered, _follow_sentiment(f)
                ),
            )
        )
    columns = (
        Column("item", "Item", "left"),
        Column("what", "Flagged", "left"),
        Column("values", "Then → now", "left"),
        Column("owner", "Owner: action", "left"),
        Column("age", "Age"),
        Column("status", "Status", "left"),
    )
    open_items = [f for f in insights.followups if f.item.status == "open"]
    recovered = sum(1 for f in open_items if f.recovered)
    lead = (
        f"{len(open_items)} open follow-up item{'s' if len(open_items) != 1 else ''}, "
        f"{recovered} measurably recovered; "
        f"{len(insights.followups) - len(open_items)} closed since {figures.period.label} began."
    )
    caption = (
        "Recovered: the segment's current period differs significantly, in the better direction, from the "
        "week it was flagged (same test as the report's period changes)."
    )
    notes = tuple(
        f"#{f.item.id} {f.item.metric} {f.item.segment or 'overall'}: {f.item.cause} → {f.item.action}"
        for f in insights.followups
    )
    return Section(
        "follow_up",
        "Follow-up on flagged issues",
        "summary",
        (Narrative((lead,)), Table("Root-cause follow-up", columns, tuple(rows), caption)),
        notes,
    )


def _follow_sentiment(f):
    if f.item.status == "closed" or f.recovered is None:
        return None
    return "good" if f.recovered else "bad"


# -- deep dive --------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 3) -> str:
    """Significant digits, U+2212 for a negative (and its exponent): ``−0.48``, ``1.2e−05``."""
    if value is None:
        return "—"
    text = f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return text.replace("-", MINUS)


def deep_dive_section(
    report: ResolvedReport, figures: ReportFigures, insights: Insights
) -> Section | None:
    """Correlation, regression, logit, clusters and Tukey HSD across units, with their readings."""
    deep = insights.deep_dive
    if deep is None:
        return None
    unit = report.catalog.dimensions[deep.unit].label
    label = {m: figures.metrics[m].label for m in deep.metrics if m in figures.metrics}
    paragraphs: list[str] = [
        f"How the metrics relate across {unit.lower()}s in {figures.period.label} "
        f"({len(deep.correlation.metrics) if deep.correlation else 0} metrics)."
    ]
    blocks: list = []
    if deep.correlation is not None:
        paragraphs += list(deep.correlation.readings[:3])
        blocks += _correlation_heatmaps(deep, label, unit)
        blocks.append(_correlation_table(deep, label))
    if deep.regression is not None:
        paragraphs += list(deep.regression.readings[:3])
        scatter = _regression_scatter(deep, figures, label, unit)
        if scatter is not None:
            blocks.append(scatter)
        blocks.append(
            _coefficient_table(
                f"Regression of {label.get(deep.regression.outcome, deep.regression.outcome)}",
                deep.regression.coefficients,
                odds=False,
                names=label,
                caption=f"R² = {_num(deep.regression.r_squared)}, n = {deep.regression.n}"
                + (
                    f"; residual outliers: {', '.join(o.label for o in deep.regression.outliers)}"
                    if deep.regression.outliers
                    else ""
                ),
            )
        )
    if deep.logit is not None and not deep.logit.coefficients:
        paragraphs += [
            f"No logit of {deep.logit.successes}: {note}" for note in deep.logit.notes[:1]
        ]
    elif deep.logit is not None:
        paragraphs += list(deep.logit.readings[:3])
        periods = report.config.insights.deep_dive.logit.periods
        blocks.append(
            _coefficient_table(
                "Logit of the decision outcome (odds ratios)",
                deep.logit.coefficients,
                odds=True,
                caption=f"Binomial GLM on {deep.logit.cells} cells, "
                f"{deep.logit.total_trials:,.0f} trials over the last {periods} periods",
            )
        )
    if deep.clusters is not None and deep.clusters.clusters:
        rows = tuple(
            (
                Cell(f"Cluster {c.id}", c.id),
                Cell(", ".join(c.members), c.size),
                Cell(c.description, None),
            )
            for c in deep.clusters.clusters
        )
        columns = (
            Column("cluster", "Cluster", "left"),
            Column("members", unit + "s", "left"),
            Column("profile", "What sets it apart", "left"),
        )
        blocks.append(
            Table(
                f"{unit}s grouped by metric profile",
                columns,
                rows,
                f"k-means on standardised metrics, k = {deep.clusters.k} by silhouette "
                f"({_num(deep.clusters.silhouette)}).",
            )
        )
    dendrogram = _dendrogram(deep, unit)
    if dendrogram is not None:
        blocks.append(dendrogram)
    for name, tukey in deep.tukey.items():
        if tukey is None:
            continue
        paragraphs += list(tukey.readings[:2])
        m = figures.metrics.get(name)
        blocks.append(tukey_table(tukey, label.get(name, name), unit, m.format if m else "decimal"))
    notes = tuple(paragraphs)
    return Section(
        "deep_dive",
        f"Deep dive across {unit.lower()}s",
        "appendix",
        (Narrative(tuple(paragraphs)), *blocks),
        notes,
    )


def _correlation_heatmaps(deep, label, unit: str) -> list[Heatmap]:
    """Pearson and Spearman matrices as heatmaps on a fixed −1..1 scale (n and p: the table)."""
    c = deep.correlation
    if len(c.metrics) < 2:
        return []
    names = tuple(label.get(m, m) for m in c.metrics)
    counts = sorted({n for row in c.n for n in row})
    n_text = f"n = {counts[0]}" if len(counts) == 1 else f"n = {counts[0]}–{counts[-1]}"
    caption = (
        f"Across {unit.lower()}s ({n_text} per pair). +1: higher together; −1: one is "
        "higher where the other is lower; 0: no linear (Pearson) or rank (Spearman) relation. "
        "p-values in the table of correlations."
    )
    return [
        Heatmap(
            f"Correlation across {unit.lower()}s: Pearson r",
            names,
            c.pearson,
            "Pearson r",
            caption=caption,
        ),
        Heatmap(
            f"Correlation across {unit.lower()}s: Spearman ρ",
            names,
            c.spearman,
            "Spearman ρ",
            caption=caption,
        ),
    ]


def _regression_scatter(deep, figures: ReportFigures, label, unit: str) -> Scatter | None:
    """Actual against fitted outcome per unit, the line actual = fitted, outliers labelled."""
    r = deep.regression
    if not r.points:
        return None
    outcome = label.get(r.outcome, r.outcome)
    m = figures.metrics.get(r.outcome)
    points = tuple(ScatterPoint(p.label, p.fitted, p.actual, p.outlier) for p in r.points)
    ends = [v for p in r.points for v in (p.fitted, p.actual)]
    low, high = min(ends), max(ends)
    predictors = ", ".join(label.get(x, x) for x in r.predictors)
    method = "WLS by volume" if r.weights else "OLS"
    caption = (
        f"Each point is a {unit.lower()}: its {outcome} against the value the regression on "
        f"{predictors} predicts ({method}, R² = {_num(r.r_squared)}, n = {r.n}). Points on the "
        "line are fitted exactly; labelled points are residual outliers "
        "(|studentized residual| > 2.5)."
    )
    return Scatter(
        title=f"{outcome}: actual vs fitted",
        x_label=f"Fitted {outcome}",
        y_label=f"Actual {outcome}",
        points=points,
        line=((low, low), (high, high)),
        value_format=(m.format if m else "decimal"),  # type: ignore[arg-type]
        value_decimals=m.decimals if m else None,
        points_name=f"{unit}s",
        highlight_name="Residual outlier",
        line_name="Actual = fitted",
        caption=caption,
    )


def _dendrogram(deep, unit: str) -> Dendrogram | None:
    """The Ward tree of the standardised metric profiles (scipy's linkage, as drawn)."""
    h = deep.hierarchy
    if h is None or not h.linkage or not h.leaves:
        return None
    index = {row: i for i, row in enumerate(h.rows)}
    merges = tuple(Merge(int(a), int(b), float(d), int(n)) for a, b, d, n in h.linkage)
    caption = (
        f"Ward linkage on the {len(h.features)} metrics standardised across {unit.lower()}s "
        "(z-scores): the further right two branches join, the less alike their metric "
        f"profiles. Cut into k = {h.k} groups the silhouette is {_num(h.silhouette)}."
    )
    return Dendrogram(
        title=f"{unit}s by metric profile: hierarchical clustering",
        leaves=h.rows,
        merges=merges,
        order=tuple(index[leaf] for leaf in h.leaves),
        height_label="Ward linkage distance (standardised metrics)",
        caption=caption,
    )


def _correlation_table(deep, label) -> Table:
    pairs = sorted(deep.correlation.pairs, key=lambda p: abs(p.pearson_r or 0), reverse=True)[:12]
    rows = tuple(
        (
            Cell(f"{label.get(p.x, p.x)} × {label.get(p.y, p.y)}", p.x),
            Cell(_num(p.pearson_r, 2), p.pearson_r),
            Cell(p_text(p.pearson_p), p.pearson_p),
            Cell(_num(p.spearman_rho, 2), p.spearman_rho),
            Cell(p_text(p.spearman_p), p.spearman_p),
            Cell(str(p.n), p.n),
        )
        for p in pairs
    )
    columns = (
        Column("pair", "Metrics", "left"),
        Column("r", "Pearson r"),
        Column("rp", "p"),
        Column("rho", "Spearman ρ"),
        Column("rhop", "p"),
        Column("n", "n"),
    )
    return Table("Correlations", columns, rows, "Strongest pairs first.")


def _coefficient_table(title: str, coefficients, *, odds: bool, caption: str, names=None) -> Table:
    """Estimates with CIs; a term that is a metric shows the metric's label (``aht`` → AHT)."""
    rows = []
    for c in coefficients:
        if odds:
            effect = Cell(_num(c.odds_ratio), c.odds_ratio)
            ci = Cell(f"{_num(c.odds_ratio_ci_low)} to {_num(c.odds_ratio_ci_high)}", None)
        else:
            effect = Cell(_num(c.estimate), c.estimate)
            ci = Cell(f"{_num(c.ci_low)} to {_num(c.ci_high)}", None)
        term = (names or {}).get(c.name, c.name)
        rows.append((Cell(term, c.name), effect, ci, Cell(p_text(c.p_value), c.p_value)))
    columns = (
        Column("term", "Term", "left"),
        Column("effect", "Odds ratio" if odds else "Coefficient"),
        Column("ci", "95% CI"),
        Column("p", "p-value"),
    )
    return Table(title, columns, tuple(rows), caption)


#: Pairs listed in a Tukey table: the largest differences first.
TUKEY_ROWS = 15


def _signed_in_unit(value: float, value_format: str) -> str:
    """A mean difference in the metric's unit, three significant figures (never "−0.0")."""
    suffix = {"seconds": " s", "minutes": " min", "hours": " h", "percent": " pp"}.get(
        value_format, ""
    )
    if value == 0:
        return f"±0{suffix}"
    scaled = value * 100 if value_format == "percent" else value
    return minus(f"{scaled:+.3g}{suffix}")


def tukey_table(tukey: TukeyResult, metric_label: str, unit: str, value_format: str) -> Table:
    """The unit pairs whose means differ (Tukey HSD), largest difference first."""
    differing = sorted(
        (p for p in tukey.pairs if p.reject), key=lambda p: abs(p.mean_diff), reverse=True
    )
    rows = tuple(
        (
            Cell(f"{p.group1} vs {p.group2}", p.group1),
            Cell(_signed_in_unit(p.mean_diff, value_format), p.mean_diff),
            Cell(
                f"{_signed_in_unit(p.ci_low, value_format)} to "
                f"{_signed_in_unit(p.ci_high, value_format)}",
                None,
            ),
            Cell(p_text(p.p_adjusted), p.p_adjusted),
        )
        for p in differing[:TUKEY_ROWS]
    )
    columns = (
        Column("pair", "Pair", "left"),
        Column("diff", "Difference (2nd − 1st)"),
        Column("ci", f"{1 - tukey.alpha:.0%} CI (family-wise)"),
        Column("p", "Adjusted p"),
    )
    shown = (
        f"the {TUKEY_ROWS} largest shown"
        if len(differing) > TUKEY_ROWS
        else "all shown, largest first"
    )
    return Table(
        f"{metric_label}: {unit.lower()}s that differ (Tukey HSD)",
        columns,
        rows,
        f"{len(differing)} of {len(tukey.pairs)} pairs differ; {shown}.",
    )


def _same(a: float | None, b: float | None) -> bool:
    """The decomposition's change is the metric's change (up to float summation)."""
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b))


def _nothing_recorded(
    report: ResolvedReport, figures: ReportFigures, insights: Insights
) -> Section:
    adverse = [a for a in insights.headline_anomalies if a.sentiment == "bad"]
    n = len(adverse)
    text = (
        f"{n} adverse finding{'s' if n != 1 else ''} in {figures.period.label}, "
        "0 with a recorded cause."
    )
    if n and for_analysts(report):
        text += (
            " Record one with `reportgen rca add ID --cause … --owner … --action …` "
            "(ids are in the Anomalies section); the next report follows it up."
        )
    elif n:
        text += " Each story on page one names its owner."
    return Section("follow_up", "Follow-up on flagged issues", "summary", (Narrative((text,)),))
