"""``reportgen init``: a profiled source → sources.yaml, catalog.yaml and a starter report.

Every guess is written with a comment saying what it was based on (the
column's type, distinct count, NULL rate), so the user can read the files
top to bottom and correct what is wrong. Columns whose names and types fit
the Trust & Safety vocabulary become its metrics (handle time, QA accuracy,
appeal and overturn rates, time to action, throughput with a staffing
source); everything else becomes plain counts and sums. The generated
configs load and build as written.

A second source (staffing, targets) is added with ``add=True``: its fact,
dimensions, measures and metrics are appended to the existing files, whose
text (and the user's edits and comments) is otherwise kept as it is.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from reportgen.config.delivery import check_timezone
from reportgen.config.models import SourcesConfig
from reportgen.errors import ConfigError
from reportgen.profile import ColumnProfile, SourceLocation, SourceProfile, locate, profile_source

#: where a sample of the data would place the event time, in order of preference
_EVENT_TIME = re.compile(
    r"resolv|closed|decided|decision|review|moderat|complet|action|handled|finish|done|end"
)
_START_TIME = re.compile(r"creat|open|enqueu|receiv|report|submit|start|arriv")
_HANDLE = re.compile(r"handle|seconds|secs|minutes|mins|duration|aht|spent|work_?time|time_on")
_VOLUME = re.compile(r"items|count|volume|closed|decisions|tickets|cases|jobs|^n_|_n$|reviews")
_SLA = re.compile(r"sla|on_time|within")
_AUTOMATED = re.compile(r"automat|^auto_|_auto$|^is_auto")
_QA_BASE = re.compile(r"check|sampl|review|audit|scored|graded")
_QA_PASS = re.compile(r"pass|correct|accura|agree|ok$|right|good")
_QA = re.compile(r"(^|_)qa(_|$)|quality|audit")
_APPEAL = re.compile(r"appeal")
_OVERTURN = re.compile(r"overturn|revers|revert|restor")
_HOURS = re.compile(r"hour|hrs")
_STAFFED = re.compile(r"productive|staffed|worked|logged|handling|online|scheduled")
_PAID = re.compile(r"paid|payroll|contract")
_PERSONAL = re.compile(r"moderator|agent|reviewer|employee|analyst|user|email|name")
#: dimensions a report is usually broken down by, most useful first
_BREAKDOWN_ORDER = ("region", "market", "country", "site", "vendor", "team", "queue", "policy")
_TARGET_COLUMNS = {"metric", "valid_from", "target"}
#: an integer column with at most this many values is a score or level (averaged, not summed)
MAX_SCORE_VALUES = 10
SECTIONS = "[summary, anomalies, decomposition, metrics, significance, definitions]"
REPORT_FILE = Path("reports") / "weekly.yaml"


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
Written = tuple[dict[Path, str], list[str]]


@dataclass(frozen=True)
class InitResult:
    written: tuple[Path, ...]
    notes: tuple[str, ...]
    profile: SourceProfile


def init_project(
    source: str,
    *,
    out_dir: str | Path = "configs",
    table: str | None = None,
    add: bool = False,
    force: bool = False,
    timezone: str = "UTC",
    name: str | None = None,
    confirm: Callable[[list[Path]], bool] | None = None,
) -> InitResult:
    """Profile ``source`` and write (or, with ``add``, extend) the project's configs.

    ``confirm`` is an optional callable given the list of files about to be
    written; returning False stops without writing (the CLI asks on a terminal).
    """
    out = Path(out_dir)
    try:
        check_timezone(timezone)
    except ValueError as exc:
        raise ConfigError(
            str(exc), key="--timezone", fix="use an IANA name such as Europe/Berlin"
        ) from None
    location = locate(source, table)
    fact = name or _fact_name(location)
    profile = profile_source(location, fact)
    files = {
        "sources": out / "sources.yaml",
        "catalog": out / "catalog.yaml",
        "report": out / REPORT_FILE,
    }
    if add:
        texts = _add_source(files, profile, fact, out)
    else:
        existing = [p for p in files.values() if p.exists()]
        if existing and not force:
            raise ConfigError(
                f"{', '.join(map(str, existing))} already exist{'s' if len(existing) == 1 else ''}; "
                "init never overwrites a config without --force",
                fix="add a second source with --add, write elsewhere with --out DIR, or "
                "replace them with --force",
            )
        texts = _new_project(profile, fact, out, timezone)
    texts, notes = texts
    if confirm is not None and not confirm(sorted(texts)):
        return InitResult((), ("nothing written",), profile)
    for path, text in texts.items():
        _write_atomically(path, text)
    return InitResult(tuple(sorted(texts)), tuple(notes), profile)


def _fact_name(location: SourceLocation) -> str:
    if location.table:
        raw = location.table.rpartition(".")[2]
    else:
        assert location.path is not None
        raw = location.path.name.split(".")[0]
        if any(ch in raw for ch in "*?["):
            raw = location.path.parent.name
    name = re.sub(r"[^a-z0-9_]+", "_", raw.lower()).strip("_") or "events"
    return name if name[0].isalpha() else f"t_{name}"


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
        return f"{value:%Y-%m-%d}"  # type: ignore[str-format]
    return str(value)


def _pct(rate: float) -> str:
    return f"{rate:.1%}" if rate else "0%"


def _source_line(location: SourceLocation, fact: str, out: Path) -> str:
    if location.kind == "file":
        assert location.path is not None
        return f"  {fact}: {{path: {_q(_relative(location.path, out))}}}"
    return f"  {fact}: {{table: {_q(location.table or fact)}}}"


def _relative(path: Path, out: Path) -> str:
    try:
        return os.path.relpath(path, out.resolve())
    except ValueError:  # another drive on Windows
        return str(path)


# --- guessing roles -------------------------------------------------------------------------


def _time_columns(profile: SourceProfile) -> tuple[ColumnProfile, ColumnProfile | None]:
    """The event time (what a row counts at) and, when there is one, the start time."""
    times = [c for c in profile.columns if c.is_time]
    if not times:
        texts = [c.name for c in profile.columns if c.text_timestamp]
        hint = (
            f" ({', '.join(texts)} hold{'s' if len(texts) == 1 else ''} timestamps as text: "
            f"cast in a view, e.g. CAST({texts[0]} AS TIMESTAMP))"
            if texts
            else ""
        )
        raise ConfigError(
            f"{profile.location.label} has no date or timestamp column{hint}; a report needs "
            "to know when each row happened",
            fix="add a time column to the source (or a view over it) and run init again",
        )
    event = next((c for c in times if _EVENT_TIME.search(c.name.lower())), None)
    if event is None:
        event = min(times, key=lambda c: c.null_rate)
    _check_precision(profile, event)
    start = next((c for c in times if _START_TIME.search(c.name.lower()) and c is not event), None)
    return event, start if start is not None and start.family == event.family else None


def _check_precision(profile: SourceProfile, event: ColumnProfile) -> None:
    """Nanosecond timestamps (pandas' default in Parquet) cannot be compared with the UTC instants
    the cube bounds periods by on DuckDB: say so before writing configs that would not build."""
    if "TIMESTAMP_NS" not in event.engine_type.upper():
        return
    raise ConfigError(
        f"{profile.location.label}: {event.name} is a nanosecond timestamp (TIMESTAMP_NS), which "
        "DuckDB cannot compare with the time-zone-aware period bounds reportgen uses",
        fix="write the file with microsecond timestamps — pandas: df.to_parquet(path, "
        "coerce_timestamps='us', allow_truncated_timestamps=True); or in DuckDB: COPY (SELECT * "
        f"REPLACE ({event.name}::TIMESTAMP AS {event.name}) FROM 'file.parquet') TO 'fixed.parquet'",
    )


def _zone_note(column: ColumnProfile) -> str:
    if column.family == "date":
        return "a date: each row's day as stored"
    if column.tz_aware:
        return (
            "timestamp with offsets: read as instants, bucketed into days in the report's timezone"
        )
    return "naive timestamp: read as UTC, bucketed into days in the report's timezone"


def _dimension_order(columns: list[ColumnProfile]) -> list[ColumnProfile]:
    def rank(c: ColumnProfile) -> tuple[int, int]:
        lowered = c.name.lower()
        known = next(
            (i for i, w in enumerate(_BREAKDOWN_ORDER) if w in lowered), len(_BREAKDOWN_ORDER)
        )
        return known, c.distinct

    return sorted(columns, key=rank)


def _personal(column: ColumnProfile) -> bool:
    return bool(_PERSONAL.search(column.name.lower()))


# --- a new project --------------------------------------------------------------------------


def _new_project(profile: SourceProfile, fact: str, out: Path, timezone: str) -> Written:
    plan = _plan_events(profile, fact, out)
    sources = _sources_text(profile.location, plan, out)
    catalog = _catalog_text(plan)
    report = _report_text(plan, fact, timezone)
    texts = {
        out / "sources.yaml": sources,
        out / "catalog.yaml": catalog,
        out / REPORT_FILE: report,
    }
    return texts, plan.notes


def _sources_text(location: SourceLocation, plan: Plan, out: Path) -> str:
    head = [
        "# Where each fact lives (written by `reportgen init`; paths are relative to this file).",
        "# The cube query runs in this engine; only aggregated rows come back.",
    ]
    if location.kind == "sqlalchemy":
        url, variable = _url_without_secret(location.url or "")
        head += [
            "engine: sqlalchemy",
            f"url: {_q(url)}",
        ]
        if variable:
            head.insert(2, f"# the password is read from ${{{variable}}} when the engine connects")
            plan.notes.append(
                f"export {variable}=… before building: the password is never written in configs"
            )
    elif location.kind == "duckdb":
        assert location.path is not None
        head += ["engine: duckdb", f"database: {_q(_relative(location.path, out))}"]
    else:
        head += ["engine: duckdb"]
    return "\n".join([*head, "facts:", plan.source_line, ""])


def _url_without_secret(url: str) -> tuple[str, str | None]:
    """The URL with a literal password replaced by ``${REPORTGEN_DB_PASSWORD}``."""
    found = re.match(r"^(?P<head>[^:/]+://[^:@/]*):(?P<secret>[^@/]*)@", url)
    if not found or re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", found["secret"]):
        return url, None
    variable = "REPORTGEN_DB_PASSWORD"
    return f"{found['head']}:${{{variable}}}@{url[found.end() :]}", variable


def _plan_events(profile: SourceProfile, fact: str, out: Path) -> Plan:
    """The main fact: one row per item handled (tickets, decisions, reports)."""
    plan = Plan(fact, _source_line(profile.location, fact, out))
    event, start = _time_columns(profile)
    ids = [c for c in profile.columns if c.is_id]
    dims = [c for c in profile.columns if c.is_dimension]
    flags = [c for c in profile.columns if c.is_flag]
    numbers = [c for c in profile.columns if c.is_measure]
    _fact_block(plan, profile, event, ids, dims)
    _dimension_block(plan, dims, set())
    plan.breakdowns = [c.name for c in _dimension_order([d for d in dims if not _personal(d)])][:2]

    count = fact
    plan.measure_lines += [
        f"  # one row per {fact[:-1] if fact.endswith('s') else fact} ({_count(profile.rows)} rows profiled)",
        f"  {count}: {{fact: {fact}, agg: count, description: {_q(f'{_label(fact)} by {event.name}')}}}",
    ]
    _metric(
        plan,
        count,
        _label(fact),
        "total",
        {"measure": count},
        "count",
        "neutral",
        f"{_label(fact)}, counted at {event.name}.",
        "the row count of the fact",
    )
    if start is not None:
        _start_time(plan, fact, event, start)
    used: set[str] = set()
    volume = _volume_column(event, numbers)
    if volume is not None:  # rows are daily totals: rates are sums over the volume column
        plan.report_metrics.remove(count)  # a count of summary rows means nothing to a reader
        _aggregated(plan, fact, volume, numbers, used)
    _handle_time(plan, fact, [c for c in numbers if c.name not in used], used)
    _qa(plan, fact, flags, used)
    _appeals(plan, fact, count, flags, used)
    _automation(plan, fact, count, flags, used)
    _plain_flags(plan, fact, [f for f in flags if f.name not in used])
    _plain_sums(plan, fact, [c for c in numbers if c.name not in used])
    for text in (c for c in profile.columns if c.text_timestamp):
        plan.notes.append(
            f"{text.name} holds timestamps as text ({text.engine_type}); to use it as a time, "
            f"cast it in a view: CAST({text.name} AS TIMESTAMP)"
        )
    return plan


def _fact_block(
    plan: Plan,
    profile: SourceProfile,
    event: ColumnProfile,
    ids: list[ColumnProfile],
    dims: list[ColumnProfile],
) -> None:
    times = [c for c in profile.columns if c.is_time and c is not event]
    lines = [
        f"  {plan.fact}:",
        f"    # {profile.location.label}: {_count(profile.rows)} rows, {len(profile.columns)} columns",
        f"    # time: {event.name} ({event.engine_type}; {_zone_note(event)}; "
        f"{_num(event.minimum)} … {_num(event.maximum)})"
        + (f"; other time columns: {', '.join(c.name for c in times)}" if times else ""),
        f"    time_column: {event.name}",
    ]
    if event.family == "date":
        lines.append("    time_type: date")
    if dims:
        lines.append(
            "    # dimensions: text columns with few distinct values — "
            + ", ".join(
                f"{d.name} ({d.distinct}{', ' + _pct(d.null_rate) + ' NULL' if d.null_rate else ''})"
                for d in dims
            )
        )
        lines.append(f"    dimensions: [{', '.join(d.name for d in dims)}]")
    else:
        lines.append("    dimensions: []   # no text column with few distinct values was found")
    checks = [
        c
        for c in profile.columns
        if c.is_measure and c.minimum is not None and _HANDLE.search(c.name.lower())
    ]
    nullable = [d for d in dims if d.null_rate]
    if checks or nullable:
        lines.append("    checks:   # warnings: listed in the report's Data quality section")
        for c in checks:
            lines += [
                f"      - name: negative_{c.name}",
                f"        when: {_q(f'{c.name} < 0')}",
                "        severity: warning",
                f"        description: {_q(f'negative {c.name} (a summed duration cannot be negative)')}",
            ]
        for d in nullable:
            lines += [
                f"      - name: missing_{d.name}   # {_pct(d.null_rate)} of profiled rows",
                f"        when: {_q(f'{d.name} IS NULL')}",
                "        severity: warning",
                f"        description: {_q(f'no {d.name} (counted in totals, not in {d.name} breakdowns)')}",
            ]
    quality: list[str] = []
    if ids:
        key = ids[0]
        quality.append(
            f"      key: {key.name}   # unique in {_pct(key.distinct / max(key.non_null, 1))} of rows: "
            "duplicates are reported with example ids"
        )
    if event.null_rate:
        quality.append(
            f"      # {event.name} is NULL in {_pct(event.null_rate)} of rows (e.g. still open): "
            "those rows are in no period; reported as a warning, not an error"
        )
        quality.append("      severity: {null_keys: warning}")
    if quality:
        lines += ["    quality:", *quality]
    plan.fact_lines += lines


def _dimension_block(plan: Plan, dims: list[ColumnProfile], existing: set[str]) -> None:
    for d in dims:
        if d.name in existing:
            continue
        examples = ", ".join(d.examples[:3])
        extra = ", personal: true" if _personal(d) else ""
        comment = f"   # {d.distinct} values, e.g. {examples}" if examples else ""
        if extra:
            comment += " — looks like a person: never named in a report"
        plan.dimension_lines.append(f"  {d.name}: {{label: {_q(_label(d.name))}{extra}}}{comment}")


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


def _catalog_text(plan: Plan) -> str:
    return "\n".join(
        [
            "# The metric catalog, written by `reportgen init` from a profile of the data. Every",
            "# guess has a comment saying what it was based on: check them, rename what reads",
            "# badly, delete what you do not need. `reportgen validate` checks the result.",
            "facts:",
            *plan.fact_lines,
            "",
            "dimensions:",
            *(plan.dimension_lines or ["  {}"]),
            "",
            "measures:",
            *plan.measure_lines,
            "",
            "metrics:",
            *plan.metric_lines,
            "",
        ]
    ).replace("dimensions:\n  {}", "dimensions: {}")


def _report_text(plan: Plan, fact: str, timezone: str) -> str:
    return "\n".join(
        [
            f"# A starter weekly report on {fact}, written by `reportgen init`.",
            "# Check it against the data: reportgen validate --data THIS_FILE; build: reportgen build THIS_FILE",
            f"title: {_q(_label(fact) + ' — weekly review')}",
            "catalog: ../catalog.yaml",
            "sources: ../sources.yaml",
            "period:",
            "  grain: week",
            f"  timezone: {timezone}   # days and weeks are cut in this zone (IANA name)",
            "metrics:",
            *[f"  - {m}" for m in plan.report_metrics],
            "# the dimensions with the fewest values, org-like names first; each metric is broken",
            "# down by those its fact has",
            f"breakdowns: [{', '.join(plan.breakdowns)}]",
            f"sections: {SECTIONS}",
            "outputs: [pdf, pptx, html, xlsx]",
            "",
        ]
    )


# --- a second source ------------------------------------------------------------------------


def _add_source(files: dict[str, Path], profile: SourceProfile, fact: str, out: Path) -> Written:
    for key in ("sources", "catalog"):
        if not files[key].is_file():
            raise ConfigError(
                f"--add extends an existing project, but {files[key]} does not exist",
                fix="run `reportgen init --from YOUR_MAIN_SOURCE` first (without --add)",
            )
    sources_text = files["sources"].read_text(encoding="utf-8")
    sources = SourcesConfig.model_validate(yaml.safe_load(sources_text))
    names = {c.name for c in profile.columns}
    if names >= _TARGET_COLUMNS:
        return _add_targets(files, sources, sources_text, profile, out)
    if fact in sources.facts:
        raise ConfigError(
            f"fact '{fact}' is already in {files['sources']}",
            fix="name the new fact with --name, or edit the existing entry",
        )
    if profile.location.kind != "file" and (
        profile.location.kind
        != {"duckdb": "duckdb", "sqlalchemy": "sqlalchemy"}.get(sources.engine)
        or (profile.location.kind == "sqlalchemy" and sources.url != profile.location.url)
    ):
        raise ConfigError(
            f"{profile.location.label} is on another engine than {files['sources']} "
            f"(engine: {sources.engine}); one project reads tables from one engine",
            fix="export the table to Parquet/CSV and add that file, or create a view of it "
            "in the main engine",
        )
    catalog_text = files["catalog"].read_text(encoding="utf-8")
    catalog = yaml.safe_load(catalog_text)
    plan = _plan_side_fact(profile, fact, out, catalog, sources, files["sources"])
    texts: dict[Path, str] = {
        files["sources"]: _append_to_block(sources_text, "facts", [plan.source_line]),
        files["catalog"]: _extend_catalog(catalog_text, plan),
    }
    if files["report"].is_file():
        texts[files["report"]] = _append_to_block(
            files["report"].read_text(encoding="utf-8"),
            "metrics",
            [f"  - {m}" for m in plan.report_metrics],
        )
    return texts, plan.notes


def _add_targets(
    files: dict[str, Path], sources: SourcesConfig, text: str, profile: SourceProfile, out: Path
) -> Written:
    if profile.location.kind != "file":
        raise ConfigError(
            "targets are read from a CSV or Parquet file", fix="export the targets table to CSV"
        )
    if sources.targets is not None:
        raise ConfigError(
            f"{files['sources']} already names a targets file ({sources.targets.path})",
            fix="edit its 'targets:' line to point at the new file",
        )
    assert profile.location.path is not None
    line = (
        f"targets: {{path: {_q(_relative(profile.location.path, out))}}}   "
        f"# metric, valid_from, dimension, segment, target ({_count(profile.rows)} rows)"
    )
    texts = {files["sources"]: text.rstrip("\n") + "\n" + line + "\n"}
    return texts, [
        "targets: the row with the latest valid_from on or before a period's start is in force"
    ]


def _rows_of(sources: SourcesConfig, sources_path: Path, fact: str) -> int | None:
    """The main fact's row count (one COUNT(*) in its engine), to scale a ratio's decimals."""
    from sqlglot import exp

    from reportgen.engines import Engines

    try:
        with Engines(sources, sources_path) as engines:
            engine = engines.for_fact(fact)
            table = engine.table(fact, sources.facts[fact])
            sql = exp.select(exp.alias_(exp.Count(this=exp.Star()), "n")).from_(table)
            return int(engine.fetch(sql.sql(dialect=engine.dialect), fact=fact).iloc[0, 0])
    except Exception:  # only a display nicety: without it the format's default decimals apply
        return None


def _decimals(numerator: float | None, denominator: float | None) -> int | None:
    """Decimals that show a ratio of this size with about three significant digits."""
    if not numerator or not denominator:
        return None
    ratio = abs(numerator / denominator)
    return max(0, min(6, 2 - math.floor(math.log10(ratio))))


def _plan_side_fact(
    profile: SourceProfile,
    fact: str,
    out: Path,
    catalog: dict,
    sources: SourcesConfig,
    sources_path: Path,
) -> Plan:
    """A second fact (staffing, capacity): its hours become sums and, with a count, throughput."""
    plan = Plan(fact, _source_line(profile.location, fact, out))
    event, _start = _time_columns(profile)
    dims = [c for c in profile.columns if c.is_dimension]
    ids = [c for c in profile.columns if c.is_id and c.family != "number"]
    _fact_block(plan, profile, event, ids, dims)
    _dimension_block(plan, dims, set(catalog.get("dimensions") or {}))
    numbers = [c for c in profile.columns if c.is_measure]
    hours = [c for c in numbers if _HOURS.search(c.name.lower())]
    staffed = next(
        (c for c in hours if _STAFFED.search(c.name.lower())), hours[0] if hours else None
    )
    paid = next((c for c in hours if _PAID.search(c.name.lower()) and c is not staffed), None)
    existing = set(catalog.get("measures") or {}) | set(catalog.get("metrics") or {})
    for c in numbers:
        name = c.name if c.name not in existing else f"{fact}_{c.name}"
        plan.measure_lines.append(
            f"  {name}: {{fact: {fact}, agg: sum, column: {c.name}}}   # numeric "
            f"({_num(c.minimum)} … {_num(c.maximum)}, {_pct(c.null_rate)} NULL)"
        )
        if c is not staffed and c is not paid:
            fmt = "hours" if c in hours else ("count" if c.integer else "decimal")
            _metric(
                plan,
                name,
                f"Total {c.name.replace('_', ' ')}",
                "total",
                {"measure": name},
                fmt,
                "neutral",
                f"Sum of {c.name} ({fact}).",
                f"{c.name} is numeric: summed",
            )
    main = _main_count(catalog)
    report_dims = _report_breakdowns(out)
    shared = [d for d in report_dims if d in {c.name for c in dims}]
    missing = [d for d in report_dims if d not in shared]
    if staffed is not None and main is not None:
        main_fact, measure = main
        why = f"{measure} per {staffed.name}: {staffed.name} looks like staffed hours"
        if missing:
            why += f"; {fact} has no {', '.join(missing)}, so it is broken down by {', '.join(shared) or 'nothing'}"
        main_dims = set((catalog.get("facts") or {}).get(main_fact, {}).get("dimensions") or [])
        _metric(
            plan,
            "throughput",
            "Throughput",
            "ratio",
            {"numerator": measure, "denominator": staffed.name},
            "rate",
            "higher_is_better",
            f"{_label(measure)} per {staffed.name.replace('_', ' ')}.",
            why,
            unit=f"{measure.replace('_', ' ')} per {staffed.name.replace('_', ' ').replace('hours', 'hour')}",
            breakdowns=[d for d in shared if d in main_dims] if missing else None,
            decimals=_decimals(_rows_of(sources, sources_path, main_fact), staffed.total),
        )
    if staffed is not None and paid is not None:
        _metric(
            plan,
            "utilization",
            "Utilization",
            "proportion",
            {"numerator": staffed.name, "denominator": paid.name},
            "percent",
            "higher_is_better",
            f"Share of {paid.name} that were {staffed.name}.",
            f"{staffed.name} / {paid.name}",
            breakdowns=shared if missing else None,
        )
    return plan


def _main_count(catalog: dict) -> tuple[str, str] | None:
    """The first fact's plain row count (no filter, own time column): throughput's numerator."""
    facts = list(catalog.get("facts") or {})
    for name, measure in (catalog.get("measures") or {}).items():
        if (
            isinstance(measure, dict)
            and measure.get("agg") == "count"
            and not measure.get("filter")
            and not measure.get("time_column")
            and facts
            and measure.get("fact") == facts[0]
        ):
            return facts[0], name
    return None


def _report_breakdowns(out: Path) -> list[str]:
    path = out / REPORT_FILE
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(data.get("breakdowns") or [])


def _extend_catalog(text: str, plan: Plan) -> str:
    for block, lines in (
        ("facts", plan.fact_lines),
        ("dimensions", plan.dimension_lines),
        ("measures", plan.measure_lines),
        ("metrics", plan.metric_lines),
    ):
        if lines:
            text = _append_to_block(text, block, lines)
    return text


def _append_to_block(text: str, key: str, lines: list[str]) -> str:
    """Insert ``lines`` at the end of the top-level block ``key:`` (before the next key)."""
    rows = text.splitlines()
    start = next((i for i, r in enumerate(rows) if re.match(rf"^{key}:\s*(#.*)?$", r)), None)
    if start is None:
        flow = next(
            (i for i, r in enumerate(rows) if re.match(rf"^{key}:\s*(\{{\}}|\[\])\s*$", r)), None
        )
        if flow is not None:  # `dimensions: {}` becomes a block
            rows[flow] = f"{key}:"
            start = flow
        else:
            return text.rstrip("\n") + f"\n{key}:\n" + "\n".join(lines) + "\n"
    end = start + 1
    last = start
    while end < len(rows) and (not rows[end].strip() or rows[end].startswith((" ", "#", "-"))):
        if rows[end].strip() and not rows[end].startswith("#"):
            last = end
        end += 1
    return "\n".join([*rows[: last + 1], *lines, *rows[last + 1 :]]) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


__all__ = ["InitResult", "init_project"]
