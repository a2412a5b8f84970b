"""The Trust & Safety vocabulary ``reportgen init`` maps columns to, as catalog YAML lines.

Each function recognises one family of columns by name and type (handle time, a QA sample and its
verdict, appeals and overturns, automation, daily totals) and writes its measures and metrics
with a comment saying why; what fits nothing becomes a plain count or sum.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from reportgen.project.profile import ColumnProfile

_HANDLE = re.compile(r"handle|seconds|secs|minutes|mins|duration|aht|spent|work_?time|time_on")
_VOLUME = re.compile(r"items|count|volume|closed|decisions|tickets|cases|jobs|^n_|_n$|reviews")
_SLA = re.compile(r"sla|on_time|within")
_AUTOMATED = re.compile(r"automat|^auto_|_auto$|^is_auto")
_QA_BASE = re.compile(r"check|sampl|review|audit|scored|graded")
_QA_PASS = re.compile(r"pass|correct|accura|agree|ok$|right|good")
_QA = re.compile(r"(^|_)qa(_|$)|quality|audit")
_APPEAL = re.compile(r"appeal")
_OVERTURN = re.compile(
    r"overturn|revers|revert|restor|appeals?_?(upheld|granted|accepted|succe|won)"
)
_HOURS = re.compile(r"hour|hrs")
#: an integer column with at most this many values is a score or level (averaged, not summed)
MAX_SCORE_VALUES = 10


@dataclass
class Plan:
    """What one source adds to the three files, as YAML lines per top-level block."""

    fact: str
    source_line: str  # the fact's entry under sources.yaml's facts:
    fact_lines: list[str] = field(default_factory=list)
    dimension_lines: list[str] = field(default_factory=list)
    measure_lines: list[str] = field(default_factory=list)
    metric_lines: list[str] = field(default_factory=list)
    report_metrics: list[str] = field(default_factory=list)  # as report YAML list items
    breakdowns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # told to the user after writing


#: the files to write (path → text) and what to tell the user


def _q(text: str) -> str:
    """A YAML scalar that survives any SQL or label text (a JSON string is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _label(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _count(n: int) -> str:
    return f"{n:,}"


def _num(value: object) -> str:
    """A profiled minimum/maximum as people read it: 3 significant decimals, dates as dates."""
    if isinstance(value, float):
        return f"{value:,.6g}"
    if (
        hasattr(value, "hour")
        and getattr(value, "hour", 1) == 0
        and getattr(value, "minute", 1) == 0
    ):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _pct(rate: float) -> str:
    return f"{rate:.1%}" if rate else "0%"


def _metric(
    plan: Plan,
    name: str,
    label: str,
    kind: str,
    parts: dict[str, str],
    fmt: str,
    direction: str,
    description: str,
    why: str,
    unit: str | None = None,
    report: bool = True,
    breakdowns: list[str] | None = None,
    decimals: int | None = None,
) -> None:
    fields = [f"label: {_q(label)}", f"type: {kind}"]
    fields += [f"{k}: {v}" for k, v in parts.items()]
    fields += [f"format: {fmt}", f"direction: {direction}"]
    if decimals is not None:
        fields.append(f"decimals: {decimals}   # three significant digits at the data's level")
    if unit:
        fields.append(f"unit: {_q(unit)}")
    plan.metric_lines += (
        [f"  {name}:   # {why}"]
        + [f"    {f}" for f in fields]
        + [f"    description: {_q(description)}"]
    )
    if report:
        item = (
            name
            if breakdowns is None
            else f"{{metric: {name}, breakdowns: [{', '.join(breakdowns)}]}}"
        )
        plan.report_metrics.append(item)


def _start_time(plan: Plan, fact: str, event: ColumnProfile, start: ColumnProfile) -> None:
    plan.measure_lines.append(
        f"  inflow: {{fact: {fact}, agg: count, time_column: {start.name}, "
        f"description: {_q(f'{_label(fact)} by {start.name}')}}}   # counted when they arrived"
    )
    _metric(
        plan,
        "inflow",
        "Inflow",
        "total",
        {"measure": "inflow"},
        "count",
        "neutral",
        f"{_label(fact)} arriving in the period (by {start.name}).",
        f"{start.name} looks like the arrival time",
    )
    if event.family != "timestamp":
        return
    value = f"date_diff('microsecond', {start.name}, {event.name}) / 3600e6"
    plan.measure_lines += [
        "  time_to_action_hours:   # hours from arrival to resolution, as a histogram for quantiles",
        f"    fact: {fact}",
        "    agg: sketch",
        f"    value: {_q(value)}",
    ]
    for q, name, label in (
        (0.5, "time_to_action_p50", "Median time to action"),
        (0.9, "time_to_action_p90", "p90 time to action"),
    ):
        _metric(
            plan,
            name,
            label,
            "quantile",
            {"measure": "time_to_action_hours", "q": str(q)},
            "hours",
            "lower_is_better",
            f"{label} — hours from {start.name} to {event.name} (within 1%).",
            f"{start.name} → {event.name}",
        )


def _volume_column(event: ColumnProfile, numbers: list[ColumnProfile]) -> ColumnProfile | None:
    """In a fact of daily totals (a date, not a timestamp), the integer column counting items."""
    if event.family != "date":
        return None
    return next(
        (
            c
            for c in numbers
            if c.integer and _VOLUME.search(c.name.lower()) and not _SLA.search(c.name.lower())
        ),
        None,
    )


def _aggregated(
    plan: Plan, fact: str, volume: ColumnProfile, numbers: list[ColumnProfile], used: set[str]
) -> None:
    """Pre-aggregated rows: the volume is a sum, handle time and SLA are ratios to it."""
    used.add(volume.name)
    v = volume.name
    plan.measure_lines.append(
        f"  {v}: {{fact: {fact}, agg: sum, column: {v}}}   # rows are daily totals "
        f"({_num(volume.minimum)} … {_num(volume.maximum)} a row): the volume"
    )
    _metric(
        plan,
        v,
        _label(v),
        "total",
        {"measure": v},
        "count",
        "neutral",
        f"Sum of {v}.",
        f"{v} counts items in a row of daily totals",
    )
    handle = next((c for c in numbers if _HANDLE.search(c.name.lower()) and c is not volume), None)
    if handle is not None:
        used.add(handle.name)
        plan.measure_lines.append(
            f"  {handle.name}: {{fact: {fact}, agg: sum, column: {handle.name}}}   # total handle time"
        )
        _metric(
            plan,
            "aht",
            "Average handle time",
            "ratio",
            {"numerator": handle.name, "denominator": v},
            "seconds",
            "lower_is_better",
            f"{handle.name} / {v}: seconds per item.",
            f"{handle.name} looks like total handle time per row; divided by {v}, never averaged over rows",
        )
    sla = next((c for c in numbers if _SLA.search(c.name.lower()) and c is not volume), None)
    if sla is not None:
        used.add(sla.name)
        plan.measure_lines.append(
            f"  {sla.name}: {{fact: {fact}, agg: sum, column: {sla.name}}}   # items within SLA"
        )
        _metric(
            plan,
            "sla_attainment",
            "SLA attainment",
            "proportion",
            {"numerator": sla.name, "denominator": v},
            "percent",
            "higher_is_better",
            f"Share of {v} within SLA ({sla.name}).",
            f"{sla.name} looks like items within SLA",
        )


def _handle_time(plan: Plan, fact: str, numbers: list[ColumnProfile], used: set[str]) -> None:
    column = next((c for c in numbers if _HANDLE.search(c.name.lower())), None)
    if column is None:
        return
    used.add(column.name)
    seconds = "sec" in column.name.lower() or "min" not in column.name.lower()
    _mean(
        plan,
        fact,
        column,
        "aht",
        "Average handle time",
        "seconds" if seconds else "decimal",
        "lower_is_better",
        f"{column.name} looks like handle time" + ("" if seconds else " (in minutes)"),
        unit=None if seconds else "minutes",
        decimals=None if seconds else 1,  # 8.5 minutes, not 8.4949
    )


def _mean(
    plan: Plan,
    fact: str,
    column: ColumnProfile,
    metric: str,
    label: str,
    fmt: str,
    direction: str,
    why: str,
    unit: str | None = None,
    decimals: int | None = None,
) -> None:
    """A mean metric: sum, count and sum of squares over the rows that have the column."""
    n = column.name
    rows = _q(f"{n} IS NOT NULL")  # the three measures must cover the same rows
    plan.measure_lines += [
        f"  {n}: {{fact: {fact}, agg: sum, column: {n}, filter: {rows}}}"
        f"   # {_num(column.minimum)} … {_num(column.maximum)}",
        f"  {n}_sq: {{fact: {fact}, agg: sum_squares, column: {n}, filter: {rows}}}"
        "   # for the t-test",
        f"  {n}_rows: {{fact: {fact}, agg: count, filter: {rows}}}"
        + (
            f"   # {_pct(column.null_rate)} NULL: the mean is over rows that have it"
            if column.null_rate
            else ""
        ),
    ]
    _metric(
        plan,
        metric,
        label,
        "mean",
        {"sum": n, "count": f"{n}_rows", "sum_squares": f"{n}_sq"},
        fmt,
        direction,
        f"Mean {n} per {fact[:-1] if fact.endswith('s') else fact}.",
        why,
        unit=unit,
        decimals=decimals,
    )


def _qa(plan: Plan, fact: str, flags: list[ColumnProfile], used: set[str]) -> None:
    qa = [f for f in flags if _QA.search(f.name.lower())]
    base = next((f for f in qa if _QA_BASE.search(f.name.lower())), None)
    passed = next((f for f in qa if _QA_PASS.search(f.name.lower()) and f is not base), None)
    if base is None or passed is None:
        return
    used.update({base.name, passed.name})
    plan.measure_lines += [
        f"  qa_sampled: {{fact: {fact}, agg: count, filter: {_q(base.flag_condition)}}}"
        + _flag_note(base),
        f"  qa_correct: {{fact: {fact}, agg: count, filter: "
        f"{_q(f'{base.flag_condition} AND {passed.flag_condition}')}}}" + _flag_note(passed),
    ]
    _metric(
        plan,
        "qa_accuracy",
        "QA accuracy",
        "proportion",
        {"numerator": "qa_correct", "denominator": "qa_sampled"},
        "percent",
        "higher_is_better",
        f"Share of QA-checked rows ({base.name}) that passed ({passed.name}).",
        f"{base.name} / {passed.name} look like a QA sample and its verdict",
    )


def _flag_note(flag: ColumnProfile) -> str:
    if flag.family == "boolean":
        return f"   # {flag.name}: boolean"
    if flag.text_yes is not None:
        return f"   # {flag.name}: yes/no text, so the filter says = '{flag.text_yes}'"
    return f"   # {flag.name}: 0/1 integer, so the filter says '= 1'"


def _appeals(plan: Plan, fact: str, count: str, flags: list[ColumnProfile], used: set[str]) -> None:
    appeal = next(
        (
            f
            for f in flags
            if _APPEAL.search(f.name.lower()) and not _OVERTURN.search(f.name.lower())
        ),
        None,
    )
    overturn = next((f for f in flags if _OVERTURN.search(f.name.lower())), None)
    if appeal is None:
        return
    used.add(appeal.name)
    plan.measure_lines.append(
        f"  appeals: {{fact: {fact}, agg: count, filter: {_q(appeal.flag_condition)}}}"
        + _flag_note(appeal)
    )
    _metric(
        plan,
        "appeal_rate",
        "Appeal rate",
        "proportion",
        {"numerator": "appeals", "denominator": count},
        "percent",
        "lower_is_better",
        f"{_label(fact)} that were appealed.",
        f"{appeal.name} looks like an appeal flag; the denominator is every row — restrict it "
        "to enforcement outcomes with a filtered count measure if you have one",
    )
    if overturn is None:
        return
    used.add(overturn.name)
    plan.measure_lines.append(
        f"  overturns: {{fact: {fact}, agg: count, filter: "
        f"{_q(f'{appeal.flag_condition} AND {overturn.flag_condition}')}}}" + _flag_note(overturn)
    )
    _metric(
        plan,
        "overturn_rate",
        "Appeal overturn rate",
        "proportion",
        {"numerator": "overturns", "denominator": "appeals"},
        "percent",
        "lower_is_better",
        f"Appealed {fact} whose decision was reversed.",
        f"{overturn.name} looks like an overturn on appeal",
    )


def _automation(
    plan: Plan, fact: str, count: str, flags: list[ColumnProfile], used: set[str]
) -> None:
    flag = next((f for f in flags if _AUTOMATED.search(f.name.lower())), None)
    if flag is None:
        return
    used.add(flag.name)
    plan.measure_lines.append(
        f"  automated: {{fact: {fact}, agg: count, filter: {_q(flag.flag_condition)}}}"
        + _flag_note(flag)
    )
    _metric(
        plan,
        "automation_rate",
        "Automation rate",
        "proportion",
        {"numerator": "automated", "denominator": count},
        "percent",
        "higher_is_better",
        f"{_label(fact)} handled without a person.",
        f"{flag.name} looks like an automation flag",
    )


def _plain_flags(plan: Plan, fact: str, flags: list[ColumnProfile]) -> None:
    for f in flags:
        name = f"{f.name}_rows"
        plan.measure_lines.append(
            f"  {name}: {{fact: {fact}, agg: count, filter: {_q(f.flag_condition)}}}"
            + _flag_note(f)
        )
        _metric(
            plan,
            name,
            _flag_label(f.name),
            "total",
            {"measure": name},
            "count",
            "neutral",
            f"{_label(fact)} where {f.flag_condition}.",
            f"{f.name} is a flag",
        )


def _flag_label(name: str) -> str:
    """``is_escalated`` → "Escalated": a count of flagged rows, named by the flag."""
    return _label(re.sub(r"^(is|was|has|had)_", "", name))


def _plain_sums(plan: Plan, fact: str, numbers: list[ColumnProfile]) -> None:
    for c in numbers:
        if c.integer and c.distinct <= MAX_SCORE_VALUES:  # a score or level: its sum means nothing
            _mean(
                plan,
                fact,
                c,
                f"avg_{c.name}",
                f"Average {c.name.replace('_', ' ')}",
                "decimal",
                "neutral",
                f"{c.name} takes {c.distinct} integer values (a score or level): averaged, not summed",
            )
            continue
        name = f"total_{c.name}" if c.name == fact else c.name
        plan.measure_lines.append(
            f"  {name}: {{fact: {fact}, agg: sum, column: {c.name}}}   # numeric "
            f"({_num(c.minimum)} … {_num(c.maximum)}, {_pct(c.null_rate)} NULL)"
        )
        fmt = "hours" if _HOURS.search(c.name.lower()) else ("count" if c.integer else "decimal")
        _metric(
            plan,
            name,
            f"Total {c.name.replace('_', ' ')}",
            "total",
            {"measure": name},
            fmt,
            "neutral",
            f"Sum of {c.name}.",
            f"{c.name} is numeric: summed",
        )
