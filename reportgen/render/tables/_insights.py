"""The exports' tables of what the analysis found, and where the export came from.

Anomalies (with the owner, cause and status of the root-cause follow-up
recorded against them), LMDI decompositions, period and segment tests,
restatements, metric definitions and provenance — read from the typed
insights and figures (:class:`~reportgen.export_figures.ExportFigures`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from reportgen import __version__
from reportgen.analysis.significance import ChangeTest
from reportgen.analysis.stats import TestResult
from reportgen.data.quality import QualityIssue
from reportgen.document import Document
from reportgen.export_figures import ExportFigures
from reportgen.formatting import amount_text
from reportgen.render.tables._export import (
    CHANGE,
    DECIMAL,
    FINE,
    GENERAL,
    INTEGER,
    METRIC_KEYS,
    P_VALUE,
    PERCENT,
    SHARE_FORMATS,
    STATISTIC,
    VALUE,
    Z_SCORE,
    ExportColumn,
    ExportRow,
    ExportTable,
    Highlight,
    _col,
    _direction,
    _text,
    definitions,
    formats_of,
    label_of,
    slug,
)


def insight_tables(data: ExportFigures, sections: set[str]) -> list[ExportTable]:
    """The analysis sections' tables, for the sections the report shows."""
    if data.insights is None:
        return []
    tables = []
    if "anomalies" in sections:
        tables.append(anomalies_table(data))
    if "decomposition" in sections:
        tables += [decomposition_table(data), decomposition_terms_table(data)]
    if "significance" in sections:
        tables += [tests_table(data), segment_differences_table(data)]
    return tables


def provenance_tables(data: ExportFigures, document: Document) -> list[ExportTable]:
    return [definitions_table(document, data), about_table(document, data)]


def restatements_table(data: ExportFigures) -> ExportTable:
    """Values an earlier report of this series showed that read differently now."""
    columns = (
        *METRIC_KEYS,
        _text("period", "Period"),
        _col("was", "Was", fmt=VALUE),
        _col("now", "Now", fmt=VALUE),
        _text("shown_in_period", "Shown in report"),
        _col("shown_in_run", "Run", fmt=INTEGER),
        _col("sent", "Sent", "bool"),
        _text("cause", "Likely cause"),
    )
    rows = tuple(
        ExportRow(
            (
                label_of(data, r.metric),
                r.metric,
                r.period,
                r.was,
                r.now,
                r.shown_in_period,
                r.shown_in_run,
                r.sent,
                r.cause,
            ),
            formats_of(data, r.metric),
        )
        for r in data.restatements
    )
    return ExportTable(
        "restatements",
        "Restatements",
        columns,
        rows,
        description="Figures an earlier report of this series showed differently",
    )


# -- anomalies and their follow-up ------------------------------------------------------------


def _recorded(data: ExportFigures) -> dict[str, Any]:
    """Anomaly id → the newest RCA item recorded against it, or against its earlier occurrence."""
    found: dict[str, Any] = {}
    for f in data.insights.followups if data.insights else ():
        for anomaly_id in (f.item.anomaly_id, *f.recurring):
            if anomaly_id not in found or f.item.id > found[anomaly_id].id:
                found[anomaly_id] = f.item
    return found


def anomalies_table(data: ExportFigures) -> ExportTable:
    """Every flagged anomaly with its size, baseline, method, follow-up and stable id."""
    columns = (
        *METRIC_KEYS,
        _text("period", "Period"),
        _text("dimension", "Dimension"),
        _text("segment", "Segment"),
        _text("method", "Method"),
        _col("observed", "Observed", fmt=VALUE),
        _col("baseline", "Baseline", fmt=VALUE),
        _col("delta", "Δ", fmt=CHANGE),
        _col("robust_z", "Robust z", fmt=Z_SCORE),
        _col("threshold", "Threshold", fmt="0.0"),
        _col("volume", "Volume", fmt=INTEGER),
        _text("direction", "Direction"),
        _text("sentiment", "Sentiment"),
        _text("status", "Status"),
        _text("owner", "Owner"),
        _text("cause", "Cause"),
        _text("action", "Action"),
        _col("rca_item", "RCA item", fmt=INTEGER),
        _text("detail", "Detail"),
        _text("id", "Anomaly id"),
    )
    recorded = _recorded(data)
    rows = []
    for a in data.insights.anomalies if data.insights else ():
        item = recorded.get(a.id)
        values = (
            label_of(data, a.metric),
            a.metric,
            a.period,
            a.dimension,
            a.segment,
            a.method,
            a.observed,
            a.baseline,
            a.delta,
            a.robust_z,
            a.threshold,
            a.volume,
            a.direction,
            a.sentiment,
            item.status if item else "no cause recorded",
            item.owner if item else None,
            item.cause if item else None,
            item.action if item else None,
            item.id if item else None,
            a.detail,
            a.id,
        )
        formats = SHARE_FORMATS if a.method == "share" else formats_of(data, a.metric)
        rows.append(ExportRow(values, formats))
    return ExportTable(
        "anomalies",
        "Anomalies",
        columns,
        tuple(rows),
        description="Unusual values with size, baseline and method, and the owner, cause "
        "and status recorded with `reportgen rca`",
        notes={
            "status": "The root-cause follow-up: open or closed, from `reportgen rca add "
            "ANOMALY_ID …` (or recorded against the same metric and segment before)."
        },
        highlight=Highlight("sentiment", ("observed", "sentiment")),
    )


# -- decomposition -----------------------------------------------------------------------------


def _dims_text(dimensions: Any) -> str:
    return " × ".join(str(x) for x in dimensions or ())


def decomposition_table(data: ExportFigures) -> ExportTable:
    """LMDI per metric: the change split into mix, rate and activity effects."""
    columns = (
        *METRIC_KEYS,
        _text("dimensions", "Dimensions"),
        _text("kind", "Kind"),
        _col("previous", "Previous", fmt=VALUE),
        _col("current", "Current", fmt=VALUE),
        _col("change", "Change", fmt=CHANGE),
        _col("mix", "Mix effect", fmt=CHANGE),
        _col("rate", "Rate effect", fmt=CHANGE),
        _col("activity", "Activity effect", fmt=CHANGE),
        _col("residual", "Residual"),
        _col("mix_reference", "Mix reference (average)", fmt=VALUE),
        _text("note", "Note"),
    )
    rows = []
    for name, d in data.insights.decompositions.items() if data.insights else ():
        r = d.result
        values = (label_of(data, name), name, _dims_text(d.dimensions), r.kind, r.value0)
        values += (r.value1, r.change, r.mix, r.rate, r.activity, r.residual)
        # the average rate subtracted from each segment's mix term (lmdi module docstring)
        rows.append(ExportRow((*values, r.reference, r.note), formats_of(data, name)))
    return ExportTable(
        "decomposition",
        "Decomposition",
        columns,
        tuple(rows),
        description="Why each metric moved: LMDI mix, rate and activity effects",
    )


def decomposition_terms_table(data: ExportFigures) -> ExportTable:
    """LMDI per segment: shares, rates and each segment's mix / rate / activity term."""
    from reportgen.analysis.drivers import driver_parts

    columns = (
        *METRIC_KEYS,
        _text("dimensions", "Dimensions"),
        _text("segment", "Segment"),
        _col("share_previous", "Share previous", fmt=PERCENT),
        _col("share_current", "Share current", fmt=PERCENT),
        _col("rate_previous", "Rate previous", fmt="@rate"),
        _col("rate_current", "Rate current", fmt="@rate"),
        _col("mix", "Mix effect", fmt=CHANGE),
        _col("rate", "Rate effect", fmt=CHANGE),
        _col("activity", "Activity effect", fmt=CHANGE),
        _col("contribution", "Contribution", fmt=CHANGE),
        _col("mix_lmdi", "Mix (LMDI-I term)", fmt=CHANGE),
        _col("volume_previous", "Volume previous", fmt=DECIMAL),
        _col("volume_current", "Volume current", fmt=DECIMAL),
        _text("named", "Named in report"),
    )
    rows = []
    for name, d in data.insights.decompositions.items() if data.insights else ():
        named = {tuple(t.segment) for t in driver_parts(d, d.top).shown}
        formats = formats_of(data, name)
        # a ratio's segment rate is the metric itself; a total's rate is another quantity
        formats["@rate"] = formats.get(VALUE, GENERAL) if d.result.kind == "ratio" else GENERAL
        for t in d.result.terms:
            values = (label_of(data, name), name, _dims_text(d.dimensions))
            values += (" × ".join(map(str, t.segment)), t.share0, t.share1, t.rate0, t.rate1)
            values += (t.mix, t.rate, t.activity, math.fsum((t.mix, t.rate, t.activity)))
            values += (t.mix_lmdi, t.volume0, t.volume1)
            is_named = "yes" if tuple(t.segment) in named else "no"
            rows.append(ExportRow((*values, is_named), formats))
    return ExportTable(
        "decomposition_terms",
        "Decomposition terms",
        columns,
        tuple(rows),
        description="Each segment's share, rate and contribution to the change (LMDI terms)",
    )


# -- tests -------------------------------------------------------------------------------------

_TEST_COLUMNS = (
    _text("test", "Test"),
    _col("statistic", "Statistic", fmt=STATISTIC),
    _col("df", "df", fmt="#,##0.0"),
    _col("p_value", "p-value", fmt=P_VALUE),
    _col("q_value", "q-value", fmt=P_VALUE),
    _col("effect", "Effect", fmt=FINE),
    _col("ci_low", "CI low", fmt=FINE),
    _col("ci_high", "CI high", fmt=FINE),
    _col("confidence", "Confidence", fmt="0%"),
    _col("effect_size", "Effect size", fmt=STATISTIC),
    _text("effect_size_name", "Effect size measure"),
    _col("n_current", "n current", fmt=INTEGER),
    _col("n_previous", "n previous", fmt=INTEGER),
    _col("significant", "Significant", "bool"),
    _text("note", "Note"),
)


def _test_values(test: ChangeTest, alpha: float) -> tuple[Any, ...]:
    r: TestResult | None = test.result
    n = r.n if r is not None else ()
    fields: Mapping[str, Any] = {
        **({k: getattr(r, k) for k in TestResult.__dataclass_fields__} if r else {}),
        "q_value": test.q_value,
        "n_current": n[0] if len(n) > 0 else None,
        "n_previous": n[1] if len(n) > 1 else None,
        "significant": test.significant(alpha),
        "note": (r.note if r else None) or test.reason,
    }
    return tuple(fields.get(c.key) for c in _TEST_COLUMNS)


def tests_table(data: ExportFigures) -> ExportTable:
    """Period-over-period tests: each metric's total, then each segment (with its q-value)."""
    sig = data.insights.significance  # type: ignore[union-attr]
    columns = (
        *METRIC_KEYS,
        _text("dimension", "Dimension"),
        _text("segment", "Segment"),
        *_TEST_COLUMNS,
    )
    rows = [
        ExportRow((label_of(data, name), name, None, None, *_test_values(t, sig.alpha)))
        for name, t in sig.metrics.items()
    ]
    for st in sig.segments.values():
        for segment, t in st.changes.items():
            keys = (label_of(data, st.metric), st.metric, st.dimension, segment)
            rows.append(ExportRow((*keys, *_test_values(t, sig.alpha))))
    return ExportTable(
        "tests",
        "Tests",
        columns,
        tuple(rows),
        description="Is each change more than noise? Each metric, then each segment "
        "(q-values adjusted for the many segments)",
    )


def segment_differences_table(data: ExportFigures) -> ExportTable:
    """Do segments differ this period? One-way ANOVA / chi-square across a dimension."""
    sig = data.insights.significance  # type: ignore[union-attr]
    columns = (
        *METRIC_KEYS,
        _text("dimension", "Dimension"),
        _text("test", "Test"),
        _col("statistic", "Statistic", fmt=STATISTIC),
        _col("df", "df", fmt="#,##0.0"),
        _col("df2", "df2", fmt="#,##0.0"),
        _col("p_value", "p-value", fmt=P_VALUE),
        _col("effect_size", "Effect size", fmt=STATISTIC),
        _text("effect_size_name", "Effect size measure"),
        _col("groups", "Groups", fmt=INTEGER),
    )
    rows = []
    for st in sig.segments.values():
        a = st.across
        if a is None:
            continue
        values = (label_of(data, st.metric), st.metric, st.dimension, a.test, a.statistic)
        values += (a.df, a.df2, a.p_value, a.effect_size, a.effect_size_name, len(a.n) or None)
        rows.append(ExportRow(values))
    return ExportTable(
        "segment_differences",
        "Segment differences",
        columns,
        tuple(rows),
        description="Do the segments of a dimension differ from each other this period? "
        "(ANOVA, chi-square)",
    )


# -- definitions and provenance ------------------------------------------------------------------


def definitions_table(document: Document, data: ExportFigures) -> ExportTable:
    """Each metric's formula, description and the catalog's extras (measures, unit, owner …).

    Taken from the document's definitions block; when a report has no
    definitions section, the figures still name each metric and its direction.
    """
    items = definitions(document)
    description = "What each metric means: formula, description, unit, owner"
    metrics = data.figures.metrics
    if not items:
        columns = (
            *METRIC_KEYS,
            _text("formula", "Formula"),
            _text("description", "Description"),
            _text("direction", "Direction"),
        )
        rows = tuple(
            ExportRow((m.label, n, m.formula, m.description, _direction(m.direction)))
            for n, m in metrics.items()
        )
        return ExportTable("definitions", "Definitions", columns, rows, description=description)
    ids = {m.label: name for name, m in metrics.items()}
    extra_labels = list(dict.fromkeys(label for d in items for label, _ in d.extra))
    columns = (
        *METRIC_KEYS,
        _text("formula", "Formula"),
        _text("description", "Description"),
        *(_text(slug(label), label) for label in extra_labels),
    )
    rows = tuple(
        ExportRow(
            (
                d.term,
                ids.get(d.term),
                d.formula,
                d.description,
                *(dict(d.extra).get(x) for x in extra_labels),
            )
        )
        for d in items
    )
    return ExportTable(
        "definitions", "Definitions", _unique_keys(columns), rows, description=description
    )


def _unique_keys(columns: tuple[ExportColumn, ...]) -> tuple[ExportColumn, ...]:
    """Extra labels are free text: keep CSV keys and workbook headers distinct (Excel needs it)."""
    keys: set[str] = set()
    headers: set[str] = set()  # Excel compares table headers case-insensitively
    out = []
    for c in columns:
        key, header, n = c.key, c.header, 1
        while key in keys:
            n += 1
            key = f"{c.key}_{n}"
        n = 1
        while header.lower() in headers:
            n += 1
            header = f"{c.header} ({n})"
        keys.add(key)
        headers.add(header.lower())
        out.append(ExportColumn(key, header, c.kind, c.number_format))
    return tuple(out)


def about_rows(document: Document, data: ExportFigures) -> list[tuple[str, Any]]:
    """Where a workbook found in a mailbox came from: report, period, sources, build, config."""
    figures, meta = data.figures, data.provenance
    period = figures.period
    rows: list[tuple[str, Any]] = [
        ("Report", figures.report or document.report_id),
        ("Title", meta.title or document.title),
        ("Period", period.label),
        ("Period start", period.start.isoformat()),
        ("Period end", period.end.isoformat()),
        ("Period complete", _yes_no(figures.complete)),
        ("Previous period", figures.previous_period.label),
        ("Last-year period", figures.last_year_period.label if figures.last_year_period else None),
        ("Timezone", figures.timezone or document.timezone),
        ("Audience", meta.audience or document.audience),
        ("Data complete through", figures.last_complete_day.isoformat()),
    ]
    rows += [(f"Source: {fact}", where) for fact, where in meta.sources.items()]
    rows += [
        ("Built at", meta.generated_at or document.generated_at.isoformat()),
        ("Built by", meta.generator),
        ("Config", meta.config),
        ("Config hash", meta.config_hash),
        ("Tool version", f"reportgen {__version__}"),
        ("figures.json schema", data.schema_version),
    ]
    rows += [(f"Data quality {i}", _quality_text(q)) for i, q in enumerate(figures.quality, 1)]
    labels = data.series.dimension_labels
    rows += [
        (
            f"Left out: {' × '.join(labels.get(d, d).lower() for d in grouping)}",
            f"{count:,} rows, over the exports.max_crossing_rows limit: raise it, or name the "
            "crossings you need under exports.crossings",
        )
        for grouping, count in data.series.left_out
    ]
    return [(k, None if v is None else str(v)) for k, v in rows]


def _quality_text(item: QualityIssue) -> str:
    """One line per data-quality warning, e.g. ``decisions · nulls (warning): … (12 rows, 2026-W47)``."""
    head = f"{item.fact} · {item.check} ({item.severity})"
    examples = item.examples
    example_text = f"; e.g. {item.example_of} {', '.join(examples)}" if examples else ""
    where = f"{amount_text(item.rows, item.unit)}, {item.period}"
    return f"{head}: {item.description} ({where}{example_text})"


def _yes_no(flag: Any) -> str | None:
    return None if flag is None else ("yes" if flag else "no")


def about_table(document: Document, data: ExportFigures) -> ExportTable:
    columns = (_text("field", "Field"), _text("value", "Value"))
    rows = tuple(ExportRow(pair) for pair in about_rows(document, data))
    return ExportTable(
        "about",
        "About",
        columns,
        rows,
        description="Where this workbook came from: report, period, sources, build, config",
    )


__all__ = ["insight_tables", "provenance_tables", "restatements_table"]
