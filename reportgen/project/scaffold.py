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

import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from reportgen.config.delivery import check_timezone
from reportgen.config.models import SourcesConfig
from reportgen.errors import ConfigError
from reportgen.project.mixing import check_engines
from reportgen.project.profile import (
    ColumnProfile,
    SourceLocation,
    SourceProfile,
    locate,
    profile_source,
)
from reportgen.project.vocabulary import (
    _HOURS,
    Plan,
    _aggregated,
    _appeals,
    _automation,
    _count,
    _handle_time,
    _label,
    _metric,
    _num,
    _pct,
    _plain_flags,
    _plain_sums,
    _q,
    _qa,
    _start_time,
    _volume_column,
)

#: where a sample of the data would place the event time, in order of preference
_EVENT_TIME = re.compile(
    r"resolv|closed|decided|decision|review|moderat|complet|action|handled|finish|done|end"
)
_START_TIME = re.compile(r"creat|open|enqueu|receiv|report|submit|start|arriv")
_STAFFED = re.compile(r"productive|staffed|worked|logged|handling|online|scheduled")
_PAID = re.compile(r"paid|payroll|contract")
_PERSONAL = re.compile(r"moderator|agent|reviewer|employee|analyst|user|email|name")
#: dimensions a report is usually broken down by, most useful first
_BREAKDOWN_ORDER = ("region", "market", "country", "site", "vendor", "team", "queue", "policy")
_TARGET_COLUMNS = {"metric", "valid_from", "target"}
SECTIONS = "[summary, anomalies, decomposition, metrics, significance, definitions]"
REPORT_FILE = Path("reports") / "weekly.yaml"


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


def _default_check_notes(profile: SourceProfile, dims: list[ColumnProfile]) -> list[str]:
    """Comments on the checks the gate runs with no configuration (``data/default_checks.py``).

    Comments, not checks: a written check for the same condition only replaces
    the default one under another name, and whoever edits the file should see
    what is already covered and what the profile found.
    """
    negative = [
        c
        for c in profile.columns
        if c.is_measure and isinstance(c.minimum, int | float) and c.minimum < 0
    ]
    found = ", ".join(f"{c.name} (min {_num(c.minimum)})" for c in negative)
    nullable = ", ".join(f"{d.name} {_pct(d.null_rate)}" for d in dims if d.null_rate)
    return [
        "    # checked with no line here (warnings in the report's Data quality section):",
        "    #   a negative value in a column a sum measure adds up"
        + (f"; the profile found some: {found}" if found else ""),
        "    #   NULL in a breakdown dimension"
        + (f"; the profile found NULLs: {nullable} of rows" if nullable else ""),
    ]


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
    lines += _default_check_notes(profile, dims)
    quality: list[str] = []
    severity: list[str] = []
    if ids:
        key = ids[0]
        copies = key.non_null - key.distinct
        quality.append(
            f"      key: {key.name}   # unique in {_pct(key.distinct / max(key.non_null, 1))} of rows: "
            "duplicates are reported with example ids"
        )
        quality.append(
            f"      # {_count(copies)} duplicate {key.name} rows in the profile: "
            if copies
            else "      # "
        )
        quality[-1] += (
            "a duplicate is a warning (counted per period) until you set duplicate_keys: error"
        )
        severity.append("duplicate_keys: warning")
    if event.null_rate:
        quality.append(
            f"      # {event.name} is NULL in {_pct(event.null_rate)} of rows (e.g. still open): "
            "those rows are in no period; reported as a warning, not an error"
        )
        severity.append("null_keys: warning")
    if severity:
        quality.append(f"      severity: {{{', '.join(severity)}}}")
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
    switch = check_engines(profile.location, sources, files["sources"])
    catalog_text = files["catalog"].read_text(encoding="utf-8")
    catalog = yaml.safe_load(catalog_text)
    plan = _plan_side_fact(profile, fact, out, catalog, sources, files["sources"])
    if switch:
        sources_text = _switch_to_server(sources_text, profile.location, plan)
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


def _switch_to_server(text: str, location: SourceLocation, plan: Plan) -> str:
    """sources.yaml run on the new source's server, its file facts kept (see check_engines)."""
    url, variable = _url_without_secret(location.url or "")
    lines = [
        f"engine: sqlalchemy   # since `init --add {location.label}`: the cube queries of tables "
        "run on this server; path facts are read by embedded DuckDB beside it",
        f"url: {_q(url)}",
    ]
    if variable:
        lines.insert(0, f"# the password is read from ${{{variable}}} when the engine connects")
        plan.notes.append(
            f"export {variable}=… before building: the password is never written in configs"
        )
    block = "\n".join(lines) + "\n"
    engine_line = re.compile(r"(?m)^engine:[^\n]*\n")
    if engine_line.search(text):
        text = engine_line.sub(lambda _m: block, text, count=1)
    else:
        text = re.sub(r"(?m)^facts:", lambda _m: block + "facts:", text, count=1)
    plan.notes.append(
        f"{location.label} is on a server and the project's facts so far are files: "
        "sources.yaml now names that server (engine: sqlalchemy); the files are still read "
        "from their paths"
    )
    return text


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

    from reportgen.data.engines import Engines

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
