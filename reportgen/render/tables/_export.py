"""The tidy tables behind the analyst workbook (XLSX) and the CSV folder.

Both exports show exactly the same tables, read from the document's
``figures`` (the figures.json content) and its definitions block — never
computed a second time, so a number in a workbook is byte-for-byte the number
in figures.json and in the deck. Every table is long-form ("tidy"): one row per
observation with the period, metric and dimension spelled out, so a pipeline
can append weeks and an analyst can pivot without reshaping. Breakdowns carry
the additive statistics (numerator/denominator, count/sum/sum of squares or
total) so a user re-aggregates as a ratio of sums, never an average of ratios.

Columns name an Excel number format, or a token (``@value``, ``@change`` …)
that each row resolves to its own metric's format: one series table holds
percentages, seconds and counts side by side, each shown like the report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from reportgen import __version__
from reportgen.document import DefinitionList, Document
from reportgen.formatting import MINUS, amount_text, office_number_format, signed_office_format

Kind = Literal["text", "number", "date", "bool"]

GENERAL = "General"
INTEGER = office_number_format("count")
DECIMAL = office_number_format("decimal")
PERCENT = "0.0%"
# negative sections draw U+2212, the one minus sign of every shown number (reportgen.formatting)
SIGNED_PERCENT = signed_office_format(PERCENT)
P_VALUE = "[<0.0001]0.00E+00;0.0000"
STATISTIC = f'#,##0.000;"{MINUS}"#,##0.000'
Z_SCORE = signed_office_format("0.0")
FINE = f'#,##0.0000;"{MINUS}"#,##0.0000'
DATE = "yyyy-mm-dd"
#: Row-resolved formats: the metric's own format, and its signed twin for changes.
VALUE = "@value"
CHANGE = "@change"

_STATS = ("numerator", "denominator", "count", "sum", "sum_squares", "total")
_STAT_HEADERS = {
    "numerator": "Numerator",
    "denominator": "Denominator",
    "count": "Count",
    "sum": "Sum",
    "sum_squares": "Sum of squares",
    "total": "Total",
}


@dataclass(frozen=True)
class ExportColumn:
    """One column: ``key`` heads the CSV, ``header`` the workbook table."""

    key: str
    header: str
    kind: Kind = "number"
    number_format: str = GENERAL


@dataclass(frozen=True)
class ExportRow:
    values: tuple[Any, ...]
    #: token → Excel format for this row (the metric's format and its signed twin)
    formats: Mapping[str, str] = field(default_factory=dict)

    def number_format(self, column: ExportColumn) -> str:
        fmt = column.number_format
        return self.formats.get(fmt, GENERAL) if fmt.startswith("@") else fmt


@dataclass(frozen=True)
class ExportTable:
    """One sheet of the workbook and one CSV file."""

    name: str  # unique slug: the CSV file's stem and (prefixed) the Excel table's name
    title: str  # the sheet's title before Excel's naming rules shorten it
    columns: tuple[ExportColumn, ...]
    rows: tuple[ExportRow, ...]
    title_suffix: str = ""  # kept when a long title is shortened, e.g. " by region"


class FiguresMissing(ValueError):
    """The document does not carry its figures (a hand-built document)."""


def signed_format(fmt: str) -> str:
    """The Excel format showing a change with an explicit sign (``+14 s``, ``−2.1%``)."""
    if fmt == GENERAL:
        return fmt
    return signed_office_format(fmt)


#: A share anomaly's observed and baseline values are shares, whatever the metric's unit.
SHARE_FORMATS = {VALUE: PERCENT, CHANGE: SIGNED_PERCENT}


def metric_formats(metric: Mapping[str, Any]) -> dict[str, str]:
    """The row tokens for one metric: its Office number format, plain and signed."""
    unit = metric.get("format", "decimal")
    try:
        fmt = office_number_format(unit, metric.get("decimals"))
    except KeyError:  # an unknown format in hand-made figures: show the number as it is
        fmt = GENERAL
    return {VALUE: fmt, CHANGE: signed_format(fmt)}


def slug(text: str, limit: int = 60) -> str:
    """A lowercase ``[a-z0-9_]`` name: safe as a file name and as part of an Excel table name."""
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")[:limit].strip("_") or "x"


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _direction(text: Any) -> str | None:
    return str(text).replace("_", " ") if text else None


def _col(key: str, header: str, kind: Kind = "number", fmt: str = GENERAL) -> ExportColumn:
    return ExportColumn(key, header, kind, fmt)


def _text(key: str, header: str) -> ExportColumn:
    return ExportColumn(key, header, "text")


# -- public ---------------------------------------------------------------------------------


def export_tables(document: Document) -> list[ExportTable]:
    """Every table of the exports, in sheet order; names are unique slugs."""
    figures = document.figures
    if not figures:
        raise FiguresMissing(
            f"document {document.report_id!r} carries no figures: build it with build_report()"
        )
    sections = {s.id for s in document.sections}
    insights = figures.get("insights") or {}
    tables = [summary_table(figures, document), series_table(figures)]
    if figures.get("restatements"):
        tables.append(restatements_table(figures))
    tables += breakdown_tables(figures)
    if "anomalies" in sections and insights:
        tables.append(anomalies_table(figures))
    if "decomposition" in sections and insights:
        tables += [decomposition_table(figures), decomposition_terms_table(figures)]
    if "significance" in sections and insights:
        tables += [tests_table(figures), segment_differences_table(figures)]
    tables += [definitions_table(document), about_table(document, figures)]
    return _unique_names(tables)


def _unique_names(tables: list[ExportTable]) -> list[ExportTable]:
    """Make every table name unique (metric ids that slug alike must not overwrite a CSV)."""
    seen: set[str] = set()
    out = []
    for table in tables:
        name, n = table.name, 1
        while name in seen:
            n += 1
            name = f"{table.name[:56]}_{n}"
        seen.add(name)
        out.append(table if name == table.name else _renamed(table, name))
    return out


def _renamed(table: ExportTable, name: str) -> ExportTable:
    return ExportTable(name, table.title, table.columns, table.rows, table.title_suffix)


def _metrics(figures: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return list((figures.get("metrics") or {}).items())


def _period(figures: Mapping[str, Any]) -> str | None:
    return (figures.get("period") or {}).get("label")


def _label(figures: Mapping[str, Any], metric: str) -> str:
    return ((figures.get("metrics") or {}).get(metric) or {}).get("label") or metric


def _formats_of(figures: Mapping[str, Any], metric: str) -> dict[str, str]:
    return metric_formats((figures.get("metrics") or {}).get(metric) or {})


# -- summary, series, breakdowns --------------------------------------------------------------


def summary_table(figures: Mapping[str, Any], document: Document) -> ExportTable:
    """One row per metric: value, comparisons, target, significance and direction."""
    units = {d.term: dict(d.extra).get("Unit") for d in _definitions(document)}
    tests = (figures.get("insights") or {}).get("tests")
    columns = [
        _text("period", "Period"),
        _text("metric", "Metric"),
        _text("label", "Label"),
        _text("unit", "Unit"),
        _col("current", "Current", fmt=VALUE),
        _col("previous", "Previous", fmt=VALUE),
        _col("delta", "Δ", fmt=CHANGE),
        _col("delta_pct", "Δ %", fmt=SIGNED_PERCENT),
        _col("last_year", "Last year", fmt=VALUE),
        _col("target", "Target", fmt=VALUE),
        _col("vs_target", "vs target", fmt=CHANGE),
        _col("target_met", "Target met", "bool"),
    ]
    if tests is not None:
        columns += [
            _text("test", "Test"),
            _col("p_value", "p-value", fmt=P_VALUE),
            _col("significant", "Significant", "bool"),
        ]
    columns += [_text("direction", "Direction"), _text("provisional", "Provisional")]
    rows = []
    for name, m in _metrics(figures):
        values: list[Any] = [
            _period(figures),
            name,
            m.get("label"),
            units.get(m.get("label")) or m.get("format"),
            m.get("value"),
            m.get("previous"),
            m.get("delta"),
            m.get("delta_pct"),
            m.get("last_year"),
            m.get("target"),
            m.get("vs_target"),
            m.get("target_met"),
        ]
        if tests is not None:
            test = tests.get(name) or {}
            values += [test.get("test"), test.get("p_value"), test.get("significant")]
        values += [_direction(m.get("direction")), _provisional(m)]
        rows.append(ExportRow(tuple(values), metric_formats(m)))
    return ExportTable("summary", "Summary", tuple(columns), tuple(rows))


def _provisional(m: Mapping[str, Any]) -> str | None:
    """ "until 2026-12-06: appeals still arriving" for a figure late data may still change."""
    if not m.get("provisional"):
        return None
    return f"until {m.get('matures_on')}: {m.get('provisional_reason') or 'late data'}"


def series_table(figures: Mapping[str, Any]) -> ExportTable:
    """The trailing series of every metric in long form: one row per metric and period."""
    columns = (
        _text("metric", "Metric"),
        _text("label", "Label"),
        _text("period", "Period"),
        _col("start", "Start", "date", DATE),
        _col("value", "Value", fmt=VALUE),
        _col("complete", "Complete", "bool"),
        _col("provisional", "Provisional", "bool"),
    )
    rows = [
        ExportRow(
            (
                name,
                m.get("label"),
                p.get("period"),
                _date(p.get("start")),
                p.get("value"),
                p.get("complete"),
                p.get("provisional", False),
            ),
            metric_formats(m),
        )
        for name, m in _metrics(figures)
        for p in m.get("series") or []
    ]
    return ExportTable("series", "Series", columns, tuple(rows))


def restatements_table(figures: Mapping[str, Any]) -> ExportTable:
    """Values an earlier report of this series showed that read differently now."""
    columns = (
        _text("metric", "Metric"),
        _text("label", "Label"),
        _text("period", "Period"),
        _col("was", "Was", fmt=VALUE),
        _col("now", "Now", fmt=VALUE),
        _text("shown_in_period", "Shown in report"),
        _col("shown_in_run", "Run", fmt=INTEGER),
        _col("sent", "Sent", "bool"),
        _text("cause", "Likely cause"),
    )
    rows = [
        ExportRow(
            tuple(
                _label(figures, r["metric"]) if c.key == "label" else r.get(c.key) for c in columns
            ),
            _formats_of(figures, r["metric"]),
        )
        for r in figures.get("restatements") or []
    ]
    return ExportTable("restatements", "Restatements", columns, tuple(rows))


def _stat_keys(metric: Mapping[str, Any]) -> list[str]:
    """The additive statistics this metric carries (numerator/denominator, count/sum/…, total)."""
    stats = metric.get("stats") or {}
    keys = [k for k in _STATS if stats.get(k) is not None]
    if keys:
        return keys
    rows = [r for rows in (metric.get("breakdowns") or {}).values() for r in rows]
    return [k for k in _STATS if any((r.get("stats") or {}).get(k) is not None for r in rows)]


def _stat_format(rows: Iterable[Mapping[str, Any]], key: str, which: str) -> str:
    values = [(r.get(which) or {}).get(key) for r in rows]
    numbers = [v for v in values if isinstance(v, int | float)]
    return INTEGER if all(float(v).is_integer() for v in numbers) else DECIMAL


def breakdown_tables(figures: Mapping[str, Any]) -> list[ExportTable]:
    """One table per metric × dimension, with the statistics to re-aggregate it."""
    return [
        breakdown_table(figures, name, m, dimension, rows or [])
        for name, m in _metrics(figures)
        for dimension, rows in (m.get("breakdowns") or {}).items()
    ]


def breakdown_table(
    figures: Mapping[str, Any],
    name: str,
    metric: Mapping[str, Any],
    dimension: str,
    rows: list[Mapping[str, Any]],
) -> ExportTable:
    keys = _stat_keys(metric)
    columns = [
        _text("period", "Period"),
        _text("metric", "Metric"),
        _text("dimension", "Dimension"),
        _text("segment", "Segment"),
        _col("value", "Value", fmt=VALUE),
        _col("previous", "Previous", fmt=VALUE),
        _col("delta", "Δ", fmt=CHANGE),
        _col("delta_pct", "Δ %", fmt=SIGNED_PERCENT),
        _col("share", "Share", fmt=PERCENT),
        _col("target", "Target", fmt=VALUE),
    ]
    for which, prefix in (("stats", ""), ("previous_stats", "previous_")):
        for key in keys:
            header = _STAT_HEADERS[key]
            header = f"Previous {header.lower()}" if prefix else header
            columns.append(_col(prefix + key, header, fmt=_stat_format(rows, key, which)))
    formats = metric_formats(metric)
    out = []
    for r in rows:
        values = [_period(figures), name, dimension, r.get("segment")]
        values += [r.get(k) for k in ("value", "previous", "delta", "delta_pct", "share", "target")]
        values += [(r.get("stats") or {}).get(k) for k in keys]
        values += [(r.get("previous_stats") or {}).get(k) for k in keys]
        out.append(ExportRow(tuple(values), formats))
    label = str(metric.get("label") or name)
    return ExportTable(
        f"breakdown_{slug(name)}_{slug(dimension)}",
        label,
        tuple(columns),
        tuple(out),
        title_suffix=f" by {dimension}",
    )


# -- insights ------------------------------------------------------------------------------


def anomalies_table(figures: Mapping[str, Any]) -> ExportTable:
    """Every flagged anomaly with its size, baseline, method and stable id."""
    columns = (
        _text("id", "ID"),
        _text("period", "Period"),
        _text("metric", "Metric"),
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
        _text("detail", "Detail"),
    )
    rows = [
        ExportRow(
            tuple(a.get(c.key) for c in columns),
            SHARE_FORMATS
            if a.get("method") == "share"
            else _formats_of(figures, str(a.get("metric"))),
        )
        for a in (figures.get("insights") or {}).get("anomalies") or []
    ]
    return ExportTable("anomalies", "Anomalies", columns, tuple(rows))


def _decompositions(figures: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return list(((figures.get("insights") or {}).get("decompositions") or {}).items())


def _dims_text(d: Mapping[str, Any]) -> str:
    return " × ".join(str(x) for x in d.get("dimensions") or [])


def decomposition_table(figures: Mapping[str, Any]) -> ExportTable:
    """LMDI per metric: the change split into mix, rate and activity effects."""
    columns = (
        _text("metric", "Metric"),
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
    for name, d in _decompositions(figures):
        values = (name, _dims_text(d), d.get("kind"), d.get("value0"), d.get("value1"))
        values += tuple(d.get(k) for k in ("change", "mix", "rate", "activity", "residual"))
        # the average rate subtracted from each segment's mix term (lmdi module docstring)
        values += (d.get("reference"),)
        rows.append(ExportRow((*values, d.get("note")), _formats_of(figures, name)))
    return ExportTable("decomposition", "Decomposition", columns, tuple(rows))


def decomposition_terms_table(figures: Mapping[str, Any]) -> ExportTable:
    """LMDI per segment: shares, rates and each segment's mix / rate / activity term."""
    columns = (
        _text("metric", "Metric"),
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
    for name, d in _decompositions(figures):
        named = {tuple(s) for s in d.get("shown") or []}
        formats = _formats_of(figures, name)
        # a ratio's segment rate is the metric itself; a total's rate is another quantity
        formats["@rate"] = formats[VALUE] if d.get("kind") == "ratio" else GENERAL
        for t in d.get("terms") or []:
            segment = t.get("segment")
            segment_text = " × ".join(map(str, segment)) if isinstance(segment, list) else segment
            values = (name, _dims_text(d), segment_text, t.get("share0"), t.get("share1"))
            values += tuple(t.get(k) for k in ("rate0", "rate1", "mix", "rate", "activity"))
            parts = [t.get(k) for k in ("mix", "rate", "activity")]
            total = math.fsum(parts) if all(x is not None for x in parts) else None
            values += (total, t.get("mix_lmdi"), t.get("volume0"), t.get("volume1"))
            is_named = isinstance(segment, list) and tuple(segment) in named
            rows.append(ExportRow((*values, _yes_no(is_named)), formats))
    return ExportTable("decomposition_terms", "Decomposition terms", columns, tuple(rows))


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


def _test_values(test: Mapping[str, Any]) -> tuple[Any, ...]:
    n = test.get("n") or []
    fields = {
        **test,
        "n_current": n[0] if len(n) > 0 else None,
        "n_previous": n[1] if len(n) > 1 else None,
        "note": test.get("note") or test.get("reason"),
    }
    return tuple(fields.get(c.key) for c in _TEST_COLUMNS)


def tests_table(figures: Mapping[str, Any]) -> ExportTable:
    """Period-over-period tests: each metric's total, then each segment (with its q-value)."""
    insights = figures.get("insights") or {}
    columns = (
        _text("metric", "Metric"),
        _text("dimension", "Dimension"),
        _text("segment", "Segment"),
        *_TEST_COLUMNS,
    )
    rows = [
        ExportRow((name, None, None, *_test_values(t)))
        for name, t in (insights.get("tests") or {}).items()
    ]
    for st in insights.get("segment_tests") or []:
        for segment, t in (st.get("changes") or {}).items():
            rows.append(
                ExportRow((st.get("metric"), st.get("dimension"), segment, *_test_values(t)))
            )
    return ExportTable("tests", "Tests", columns, tuple(rows))


def segment_differences_table(figures: Mapping[str, Any]) -> ExportTable:
    """Do segments differ this period? One-way ANOVA / chi-square across a dimension."""
    columns = (
        _text("metric", "Metric"),
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
    for st in (figures.get("insights") or {}).get("segment_tests") or []:
        across = st.get("across")
        if not across:
            continue
        fields = {**across, "metric": st.get("metric"), "dimension": st.get("dimension")}
        fields["groups"] = len(across.get("n") or []) or None
        rows.append(ExportRow(tuple(fields.get(c.key) for c in columns)))
    return ExportTable("segment_differences", "Segment differences", columns, tuple(rows))


# -- definitions and provenance ------------------------------------------------------------------


def _definitions(document: Document) -> list[Any]:
    return [
        item
        for section in document.sections
        for block in section.blocks
        if isinstance(block, DefinitionList)
        for item in block.items
    ]


def definitions_table(document: Document) -> ExportTable:
    """Each metric's formula, description and the catalog's extras (measures, unit, owner …).

    Taken from the document's definitions block; when a report has no
    definitions section, the figures still name each metric and its direction.
    """
    items = _definitions(document)
    if not items:
        return _definitions_from_figures(document.figures or {})
    ids = {m.get("label"): name for name, m in _metrics(document.figures or {})}
    extra_labels = list(dict.fromkeys(label for d in items for label, _ in d.extra))
    columns = (
        _text("metric", "Metric"),
        _text("label", "Label"),
        _text("formula", "Formula"),
        _text("description", "Description"),
        *(_text(slug(label), label) for label in extra_labels),
    )
    rows = tuple(
        ExportRow(
            (
                ids.get(d.term),
                d.term,
                d.formula,
                d.description,
                *(dict(d.extra).get(x) for x in extra_labels),
            )
        )
        for d in items
    )
    return ExportTable("definitions", "Definitions", _unique_keys(columns), rows)


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


def _definitions_from_figures(figures: Mapping[str, Any]) -> ExportTable:
    columns = (
        _text("metric", "Metric"),
        _text("label", "Label"),
        _text("formula", "Formula"),
        _text("description", "Description"),
        _text("direction", "Direction"),
    )
    rows = tuple(
        ExportRow((n, m.get("label"), None, m.get("description"), _direction(m.get("direction"))))
        for n, m in _metrics(figures)
    )
    return ExportTable("definitions", "Definitions", columns, rows)


def about_rows(document: Document, figures: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Where a workbook found in a mailbox came from: report, period, sources, build, config."""
    period = figures.get("period") or {}
    previous = figures.get("previous_period") or {}
    rows: list[tuple[str, Any]] = [
        ("Report", figures.get("report") or document.report_id),
        ("Title", figures.get("title") or document.title),
        ("Period", period.get("label")),
        ("Period start", period.get("start")),
        ("Period end", period.get("end")),
        ("Period complete", _yes_no(period.get("complete"))),
        ("Previous period", previous.get("label")),
        ("Last-year period", figures.get("last_year_period")),
        ("Timezone", figures.get("timezone") or document.timezone),
        ("Audience", figures.get("audience") or document.audience),
        ("Data complete through", figures.get("data_complete_through")),
    ]
    sources = figures.get("sources") or {}
    rows += [(f"Source: {fact}", where) for fact, where in sources.items()]
    rows += [
        ("Built at", figures.get("generated_at") or document.generated_at.isoformat()),
        ("Built by", figures.get("generator")),
        ("Config", figures.get("config")),
        ("Config hash", figures.get("config_hash")),
        ("Tool version", f"reportgen {__version__}"),
        ("figures.json schema", figures.get("schema_version")),
    ]
    rows += [(f"Data quality {i}", _quality_text(q)) for i, q in enumerate(_quality(figures), 1)]
    return [(k, None if v is None else str(v)) for k, v in rows]


def _quality(figures: Mapping[str, Any]) -> list[Any]:
    return list(figures.get("data_quality") or [])


def _quality_text(item: Any) -> str:
    """One line per data-quality warning, e.g. ``decisions · nulls (warning): … (12 rows, 2026-W47)``."""
    if not isinstance(item, Mapping):
        return str(item)
    head = f"{item.get('fact')} · {item.get('check')} ({item.get('severity')})"
    count, unit = item.get("rows"), str(item.get("unit") or "rows")
    examples = item.get("examples") or []
    example_text = f"; e.g. {item.get('example_of')} {', '.join(examples)}" if examples else ""
    period = item.get("period")
    where = f"{amount_text(count, unit)}, {period}" if isinstance(count, int) else period
    return f"{head}: {item.get('description')} ({where}{example_text})"


def _yes_no(flag: Any) -> str | None:
    return None if flag is None else ("yes" if flag else "no")


def about_table(document: Document, figures: Mapping[str, Any]) -> ExportTable:
    columns = (_text("field", "Field"), _text("value", "Value"))
    rows = tuple(ExportRow(pair) for pair in about_rows(document, figures))
    return ExportTable("about", "About", columns, rows)
