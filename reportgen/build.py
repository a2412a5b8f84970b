"""``build_report()``: config → cube → figures → document → artifacts. The CLI calls this."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import hashlib
import importlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reportgen import __version__
from reportgen.config.loader import ResolvedReport, load_report
from reportgen.config.models import AudienceConfig
from reportgen.data.audiences import filter_cube, pseudonymise_cube, scope_report, select_audiences
from reportgen.data.cache import default_cache_dir
from reportgen.data.engines import Engines
from reportgen.data.plan import needed_measures, plan_queries
from reportgen.data.quality import QualityIssue, check_schema, run_gate, screen_dates
from reportgen.data.scan import Cube, compute_cube, merge_cubes
from reportgen.document import Document
from reportgen.errors import (
    ConfigError,
    DataQualityError,
    PeriodError,
    ReportgenError,
    SourceError,
)
from reportgen.ops.ledger_location import ledger_exists
from reportgen.ops.staging import staged_output
from reportgen.periods import (
    Period,
    history_length,
    latest_complete_period,
    parse_period,
    period_containing,
)
from reportgen.render import get_renderer
from reportgen.render.charts.drawings import FOLDER as DRAWINGS_FOLDER
from reportgen.render.charts.drawings import DrawingCache
from reportgen.render.charts.vega import hold_workers as hold_drawing_workers
from reportgen.render.charts.vega import keep_drawings, workers_held
from reportgen.render.charts.vega import prestart as prestart_drawing
from reportgen.render.processes import (
    CHART_FORMATS,
    default_processes,
    render_concurrently,
    render_one,
)
from reportgen.semantics.aggregations import aggregation_of

if TYPE_CHECKING:
    from reportgen.analysis.insights import Insights
    from reportgen.figures import ReportFigures

#: The modules of the stages after the cube (figures, analysis, composition): about half of a
#: build's imports (pandas' and scipy's statistics among them), imported on a thread while
#: the SQL engine computes the cube, which leaves the interpreter free while it scans.
LATER_STAGES = (
    "reportgen.figures",
    "reportgen.analysis.insights",
    "reportgen.analysis.followup",
    "reportgen.analysis.stories",
    "reportgen.compose",
    "reportgen.compose.figures_json",
    "reportgen.export_figures",
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    report: str
    period: Period
    out_dir: Path
    artifacts: dict[str, Path]  # format → file (figures.json under "figures")
    figures: ReportFigures
    insights: Insights
    document: Document
    shown_id: int | None = None  # the ledger row of what it showed (restatements), if a ledger


def explain(config_path: str | Path, period: str | None = None) -> list[tuple[str, str]]:
    """The SQL each source runs, for review before it touches a warehouse.

    The cube scans (a sketch's for the periods a build of ``period`` shows;
    a build that finds some of them cached asks only for the others), then
    each fact's data-quality probe (duplicate keys and undated rows) for
    ``period`` — without one, for the period before today's, since planning
    must not read the data to find the latest complete period.
    """
    from reportgen.data.engines import Engines
    from reportgen.data.quality import planned_probe, probed

    report = load_report(config_path)
    grain = report.config.period.grain
    shown = parse_period(period) if period else period_containing(date.today(), grain).shift(-1)
    queries = plan_queries(
        report,
        needed_measures(report),
        sketch_grain=shown.grain,
        sketch_periods=sketch_periods(report, shown),
    )
    found = [
        (
            f"{q.fact} {q.measures[0]} sketch by {q.time_column}"
            if q.sketch
            else f"{q.fact} by {q.time_column}",
            f"-- runs on {q.engine} ({q.dialect} dialect)\n{q.sql}",
        )
        for q in queries
    ]
    periods = shown.trailing(report.config.trailing_periods)
    engines = Engines(report.sources, report.sources_path)
    for query in probed(queries):
        scope, sql = planned_probe(report, engines, query.fact, periods)
        window = scope[0].label if len(scope) == 1 else f"{scope[0].label} to {scope[-1].label}"
        header = (
            f"-- runs on {query.engine} ({query.dialect} dialect) for {window}; a failed check "
            "then fetches up to 5 examples (ids or days) with a SELECT … LIMIT 5"
        )
        found.append((f"{query.fact} data-quality probe", f"{header}\n{sql}"))
    return found


def cached_cube(
    report: ResolvedReport, cache: bool, say: Progress, engines: Engines | None = None
) -> Cube:
    """The additive cube, closed days from the cube cache; ``cache=False`` (--no-cache) rescans.

    Sketches (quantiles) are not in it: :func:`add_sketches` counts them once
    the period is known, for the periods the build shows.
    """
    from reportgen.data.cache import open_cache

    say("Computing the cube in the SQL engine" + ("" if cache else " (no cache)"))
    measures = [m for m in needed_measures(report) if not _is_sketch(report, m)]
    return compute_cube(report, measures, cache=open_cache(report, read=cache), engines=engines)


def sketch_periods(report: ResolvedReport, period: Period) -> tuple[tuple[date, date], ...]:
    """The periods a build reads quantiles for: its trend and history, and last year's period.

    A sketch holds up to hundreds of buckets per period and segment; counting
    only the ~15 periods a build shows (not the whole history) keeps it, and
    the engine's hash tables, a few times smaller. Each is (first, last) local day.
    """
    config = report.config
    history = config.insights.anomalies.history_periods
    if period.grain == "day":
        count = max(config.trailing_periods, history_length("day", history))
    else:  # the trend's expected bands judge its first period against the history before it
        count = config.trailing_periods + history - 1
    shown = list(period.trailing(count))
    if (last_year := period.same_period_last_year()) is not None and last_year not in shown:
        shown.append(last_year)
    return tuple(sorted((p.start, p.end) for p in shown))


def add_sketches(
    report: ResolvedReport, cube: Cube, period: Period, cache: bool, engines: Engines
) -> Cube:
    """The cube with the report's sketches, per ``period``'s grain, for the periods it shows.

    The additive cube's newest days tell the cache which of those periods are closed.
    """
    from reportgen.data.cache import open_cache

    sketches = [m for m in needed_measures(report) if _is_sketch(report, m)]
    if not sketches:
        return cube
    more = compute_cube(
        report,
        sketches,
        cache=open_cache(report, read=cache),
        engines=engines,
        sketch_grain=period.grain,
        sketch_periods=sketch_periods(report, period),
        data_through=cube.last_day,
    )
    return merge_cubes(cube, more)


@dataclass(frozen=True)
class GatedCube:
    """The cube after the data-quality gate, the period to build, and the gate's warnings."""

    cube: Cube
    period: Period
    quality: tuple[QualityIssue, ...]


def _schema_explains(
    report: ResolvedReport, warnings: tuple[QualityIssue, ...], error: SourceError
) -> ReportgenError:
    """A scan that fails on a column the schema check only warned about: say that, not SQL."""
    mismatches = [w.description for w in warnings if w.check == "schema"]
    if not mismatches:
        return error
    return DataQualityError(
        "the cube query failed on a column whose type the schema check had flagged: "
        + "; ".join(mismatches),
        fix="cast the column to the expected type in the source (or a view over it); a "
        "warning-level schema check only lets a build go on when the query can still run",
        report=report.id,
    )


def gated_cube(
    report: ResolvedReport,
    period: str | Period | None,
    cache: bool,
    now: datetime,
    say: Progress,
) -> GatedCube:
    """Schema check → cube → date screen → period → row, key and day checks (the gate).

    One set of engine connections serves the schema check, the scan, the probe
    and the example look-ups. Raises :class:`DataQualityError` on any
    error-level check, before a figure exists.
    """
    engines = Engines(report.sources, report.sources_path)
    try:
        say("Checking the sources' columns")
        queries = plan_queries(report, needed_measures(report), engines)
        earlier = check_schema(report, queries, engines)
        try:
            cube = cached_cube(report, cache, say, engines)
        except SourceError as error:
            raise _schema_explains(report, earlier, error) from error
        cube, dated = screen_dates(report, cube, now)
        chosen = resolve_period(report, cube, period)
        try:
            cube = add_sketches(report, cube, chosen, cache, engines)
        except SourceError as error:
            raise _schema_explains(report, earlier, error) from error
        say("Checking data quality")
        quality = run_gate(report, cube, chosen, engines, (*earlier, *dated))
    finally:
        engines.close()
    return GatedCube(cube, chosen, quality)


def resolve_period(report: ResolvedReport, cube: Cube, period: str | Period | None) -> Period:
    """The requested period, or the latest complete one; it must overlap the data."""
    grain = report.config.period.grain
    if period is None:
        chosen = latest_complete_period(cube.last_complete_day, grain)
    else:
        chosen = parse_period(period) if isinstance(period, str) else period
    first, last = cube.first_complete_day, cube.last_complete_day
    if chosen.end < first or chosen.start > max(cube.last_day.values()):
        raise PeriodError(
            f"period {chosen.label} is outside the data, which covers {first:%Y-%m-%d} to "
            f"{max(cube.last_day.values()):%Y-%m-%d} ({report.config.period.timezone})",
            fix=f"choose a period in that range, e.g. --period {latest_complete_period(last, chosen.grain).label}",
            report=report.id,
            period=chosen.label,
        )
    return chosen


def config_hash(report: ResolvedReport) -> str:
    digest = hashlib.sha256()
    for path in (report.path, report.catalog_path, report.sources_path):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _is_sketch(report: ResolvedReport, measure: str) -> bool:
    return aggregation_of(report.catalog.measures[measure]).is_sketch


class StageClock:
    """A progress callback that also times each stage: from one message to the next.

    ``build --verbose`` and the benchmark script print :attr:`stages`, so a
    regression in one stage (the cube, the analysis, a renderer) is visible.
    """

    def __init__(self, then: Progress | None = None) -> None:
        self.then = then
        self.stages: list[tuple[str, float]] = []
        self._current: tuple[str, float] | None = None

    def __call__(self, message: str) -> None:
        self._close()
        self._current = (message, time.perf_counter())
        if self.then is not None:
            self.then(message)

    def finish(self) -> list[tuple[str, float]]:
        """The stages with their seconds, the last one closed now."""
        self._close()
        return self.stages

    def _close(self) -> None:
        if self._current is not None:
            message, started = self._current
            self.stages.append((message, time.perf_counter() - started))
            self._current = None


def build_report(
    config_path: str | Path,
    *,
    period: str | Period | None = None,
    formats: Sequence[str] | None = None,
    out_dir: str | Path = "output",
    audience: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    cache: bool = True,
    render_processes: int | None = None,
) -> BuildResult:
    """Build one report for one period (and one audience) and write its artifacts atomically.

    ``audience`` names one of the report's audiences (default: the first).
    ``render_processes`` formats render at once, each in its own process
    (default: one per core; 1 renders them in turn in this process).
    Returns what was written; raises a :class:`~reportgen.errors.ReportgenError`
    subclass (with file, period and fix) on any failure, leaving no partial file.
    """
    say = progress or (lambda _msg: None)
    say("Loading configs")
    report = load_report(config_path)
    (chosen_audience,) = select_audiences(report, audience)
    imports = import_later_stages()
    generated_at = now or datetime.now(UTC)
    gated = gated_cube(report, period, cache, generated_at, say)
    imports.join()
    if CHART_FORMATS & set(formats or report.config.outputs):
        # warms up on the other core while the figures are computed; not before the cube,
        # whose cold scan is the build's other memory peak (+~90 MB took a 10M-row build
        # from ~590 to 748 MB)
        prestart_drawing()
    prepared = prepare_audience(
        report,
        gated.cube,
        chosen_audience,
        gated.period,
        Path(out_dir),
        generated_at,
        say,
        gated.quality,
        formats,
    )
    del gated  # rendering needs the document only: the cube's memory goes before the renderers'
    release_memory(end_drawing=False)
    processes = default_processes() if render_processes is None else render_processes
    drawings = drawing_cache(report, cache)
    return write_artifacts(prepared, formats, say, processes, drawings=drawings)


def import_later_stages() -> threading.Thread:
    """Import :data:`LATER_STAGES` on a thread; join it before forking (an import holds locks).

    The renderers' modules (python-pptx, lxml, Jinja) are left to their
    stage: imported beside a cold scan they lifted a 10M-row build's memory
    peak, which is the scan's, from ~575 to ~620 MB.
    """
    thread = threading.Thread(target=_import_all, name="reportgen-imports", daemon=True)
    thread.start()
    return thread


def _import_all() -> None:
    for name in LATER_STAGES:
        # a module that fails to import fails again, with its traceback, where the build uses it
        with contextlib.suppress(Exception):
            importlib.import_module(name)


@dataclass(frozen=True)
class FanOutResult:
    """Every audience's build; a failing audience is reported, never stops the others."""

    period: Period
    results: dict[str, BuildResult]
    failures: dict[str, str]  # audience → one-paragraph error

    @property
    def ok(self) -> bool:
        return not self.failures


def build_audiences(
    config_path: str | Path,
    *,
    audiences: str = "all",
    period: str | Period | None = None,
    formats: Sequence[str] | None = None,
    out_dir: str | Path = "output",
    workers: int | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    cache: bool = True,
) -> FanOutResult:
    """Build many audience variants from one cube, rendering them in parallel processes."""
    say = progress or (lambda _msg: None)
    report = load_report(config_path)
    targets = select_audiences(report, audiences)
    generated_at = now or datetime.now(UTC)
    gated = gated_cube(report, period, cache, generated_at, say)
    cube, chosen = gated.cube, gated.period
    shared = (report, cube, chosen, formats, Path(out_dir), generated_at, gated.quality, cache)
    workers = min(workers or os.cpu_count() or 1, len(targets))
    results: dict[str, BuildResult] = {}
    failures: dict[str, str] = {}
    if workers <= 1:
        _share(*shared)
        try:
            with workers_held():
                if CHART_FORMATS & set(formats or report.config.outputs):
                    prestart_drawing()
                for a in targets:
                    _collect(a.name, functools.partial(_build_shared, a), results, failures, say)
        finally:
            _SHARED.clear()  # the cube's memory goes with the fan-out
            gc.unfreeze()  # what _build_shared froze may be garbage from now on
    else:
        context = multiprocessing.get_context("spawn")  # no fork after DuckDB started threads
        # the cube travels once to each worker (initializer), not once per audience
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_share_in_worker,
            initargs=shared,
        ) as pool:
            futures = {pool.submit(_build_shared, a): a.name for a in targets}
            for future in as_completed(futures):
                _collect(futures[future], future.result, results, failures, say)
    return FanOutResult(chosen, dict(sorted(results.items())), dict(sorted(failures.items())))


#: What every audience of a fan-out is built from, held once per worker process (_share).
_SHARED: dict[str, object] = {}


def _share(
    report: ResolvedReport,
    cube: Cube,
    chosen: Period,
    formats: Sequence[str] | None,
    out_dir: Path,
    generated_at: datetime,
    quality: tuple[QualityIssue, ...],
    cache: bool = True,
) -> None:
    """Keep the fan-out's cube and settings in this (worker) process for its audiences."""
    _SHARED.update(
        report=report,
        cube=cube,
        chosen=chosen,
        formats=formats,
        out_dir=out_dir,
        generated_at=generated_at,
        quality=quality,
        cache=cache,
    )


def _share_in_worker(*shared: Any) -> None:
    """A fan-out worker process: :func:`_share` (same arguments), and one drawing process
    for all its audiences.

    The drawing process is started now, so it warms up while the first
    audience is analysed, and held until this process exits.
    """
    _share(*shared)
    hold_drawing_workers()
    report = _SHARED["report"]
    assert isinstance(report, ResolvedReport)
    formats = cast("Sequence[str] | None", _SHARED["formats"])
    if CHART_FORMATS & set(formats or report.config.outputs):
        prestart_drawing()


@dataclass(frozen=True)
class _Built:
    """One audience's build as its worker process hands it back, with what it cost there."""

    result: BuildResult
    seconds: float
    cpu_seconds: float  # of the worker process (its drawing threads included, not vl-convert)
    stages: tuple[tuple[str, float], ...]

    def summary(self) -> str:
        """``built in 9.8 s (7.9 s CPU; Computing figures 0.8 s, …)``: each stage's first words."""
        stages = ", ".join(
            f"{message.split(' for ')[0].split(',')[0]} {seconds:.1f} s"
            for message, seconds in self.stages
        )
        return f"built in {self.seconds:.1f} s ({self.cpu_seconds:.1f} s CPU; {stages})"


def _build_shared(audience: AudienceConfig) -> _Built:
    """One audience of a fan-out, from the cube :func:`_share` left in this process.

    What outlives an audience (the shared cube and config, the modules, their
    caches: ~250,000 objects) is frozen out of the garbage collector first,
    so the next audience's collections do not walk it again (~0.15 s of CPU
    each full collection, several an audience).
    """
    gc.collect()  # the previous audience's garbage goes, not into the frozen generation
    gc.freeze()
    clock = StageClock()
    started, cpu = time.perf_counter(), time.process_time()
    result = build_audience(audience=audience, say=clock, **_SHARED)  # type: ignore[arg-type]
    return _Built(
        result,
        time.perf_counter() - started,
        time.process_time() - cpu,
        tuple(clock.finish()),
    )


def _collect(
    name: str, run: Callable[[], _Built], results: dict, failures: dict, say: Progress
) -> None:
    try:
        built = run()
        results[name] = built.result
        say(f"{name}: {built.summary()}")
    except ReportgenError as error:
        failures[name] = str(error)
        say(f"{name}: FAILED — {error}")
    except Exception as error:  # a bug in one variant must not sink the others
        failures[name] = f"unexpected error: {error!r}"
        say(f"{name}: FAILED — {error!r}")


def build_audience(
    report: ResolvedReport,
    cube: Cube,
    audience: AudienceConfig,
    chosen: Period,
    formats: Sequence[str] | None,
    out_dir: Path,
    generated_at: datetime,
    say: Progress | None = None,
    quality: tuple[QualityIssue, ...] | None = None,
    cache: bool = True,
) -> BuildResult:
    """Figures, insights, document and artifacts for one audience, from its entitled rows only."""
    prepared = prepare_audience(
        report, cube, audience, chosen, out_dir, generated_at, say, quality, formats
    )
    return write_artifacts(prepared, formats, say, drawings=drawing_cache(report, cache))


@dataclass(frozen=True)
class PreparedAudience:
    """Everything one audience's artifacts are rendered from; it holds no cube."""

    report: ResolvedReport
    period: Period
    audience: str
    out_dir: Path
    figures: ReportFigures
    insights: Insights
    figures_data: dict
    document: Document


def prepare_audience(
    report: ResolvedReport,
    cube: Cube,
    audience: AudienceConfig,
    chosen: Period,
    out_dir: Path,
    generated_at: datetime,
    say: Progress | None = None,
    quality: tuple[QualityIssue, ...] | None = None,
    formats: Sequence[str] | None = None,
) -> PreparedAudience:
    """Figures, insights and the document for one audience, from its entitled rows only.

    ``quality`` is the gate's verdict on the whole source. A row-filtered
    audience gets the checks recomputed from its own rows instead (no example
    ids, no whole-source probe), so its deck holds nothing derived from rows
    it may not see.
    """
    from reportgen.analysis.followup import follow_up
    from reportgen.analysis.insights import analyze
    from reportgen.analysis.stories import find_stories
    from reportgen.compose import compose_document
    from reportgen.compose._brief import brief_people
    from reportgen.compose._core import is_leadership
    from reportgen.compose._stories import story_texts
    from reportgen.compose.figures_json import figures_to_dict
    from reportgen.export_figures import ExportFigures, Provenance, segment_series
    from reportgen.figures import Targets, compute_figures

    say = say or (lambda _msg: None)
    report = scope_report(report, audience)
    if audience.filter:
        quality = None
    cube = filter_cube(cube, audience)
    if audience.show_individuals:
        cube = pseudonymise_cube(cube, report)
    say(f"Computing figures for {chosen.label} ({audience.name})")
    targets = Targets.load(report)
    figures = compute_figures(report, cube, chosen, targets, quality)
    say("Testing changes, finding anomalies and drivers")
    insights = analyze(report, cube, figures)
    if items := _recorded_causes(out_dir, report.id, audience.name):
        insights = replace(
            insights,
            followups=follow_up(report, cube, figures, insights.anomalies, items, generated_at),
        )
    insights = replace(insights, stories=find_stories(report, cube, figures, insights))
    meta = {
        "generated_at": generated_at.isoformat(),
        "generator": f"reportgen {__version__}",
        "config": shown_path(report.path),
        "config_hash": config_hash(report),
        "audience": audience.name,
        "audience_filter": {k: list(audience.allowed(k) or ()) for k in audience.filter},
        "title": report.config.title,
        "timezone": report.config.period.timezone,
        "sources": {
            fact: source.table or shown_path(source.path)
            for fact, source in report.sources.facts.items()
        },
    }
    say("Composing the document")
    restated = _restatements(out_dir, report, audience.name, figures)
    figures_data = figures_to_dict(figures, insights, meta)
    figures_data["restatements"] = [r.as_dict() for r in restated]
    analyst = not is_leadership(report)
    texts = story_texts(report, figures, insights, analyst=analyst)
    figures_data["stories"] = [t.as_dict() for t in texts]
    comments = _comments(out_dir, report, chosen, audience)
    placement = brief_people(report, figures, figures_data, texts, comments)
    exports = None  # the per-segment series cost seconds: only for a workbook or CSV export
    if EXPORT_FORMATS & set(formats or report.config.outputs):
        exports = ExportFigures(
            figures,
            insights,
            Provenance.of(meta),
            segment_series(report, cube, figures, targets),
            tuple(restated),
        )
    document = replace(
        compose_document(report, figures, generated_at, insights, restated, placement),
        figures=figures_data,
        exports=exports,
    )
    return PreparedAudience(
        report, chosen, audience.name, out_dir, figures, insights, figures_data, document
    )


def _restatements(
    out_dir: Path, report: ResolvedReport, audience: str, figures: ReportFigures
) -> tuple:
    """Figures an earlier report of this series showed differently (needs a ledger)."""
    if not ledger_exists(out_dir):
        return ()
    from reportgen.ops.restatements import restatements_for

    return restatements_for(out_dir, report, audience, figures)


def _record_shown(prepared: PreparedAudience) -> int | None:
    """Remember what this build showed, for the next build's restatements (needs a ledger)."""
    if not ledger_exists(prepared.out_dir):
        return None
    from reportgen.ops.restatements import record_shown

    generated_at = datetime.fromisoformat(prepared.figures_data["generated_at"])
    return record_shown(
        prepared.out_dir, prepared.report.id, prepared.audience, prepared.figures, generated_at
    )


def shown_path(path: str | Path | None) -> str | None:
    """A path as outputs may show it: never an absolute path of the machine that built them.

    Relative to the configs folder (``reports/weekly_leadership.yaml``) when the path is
    under one, a relative path as written in the config, else just the file name.
    """
    if path is None:
        return None
    p = Path(path)
    if not p.is_absolute():
        return str(path)
    parts = p.parts
    if "configs" in parts:
        index = len(parts) - 1 - parts[::-1].index("configs")
        return Path(*parts[index + 1 :]).as_posix() or p.name
    return p.name


def _comments(out_dir: Path, report: ResolvedReport, period: Period, audience: AudienceConfig):
    """This period's commentary when a ledger exists (SQLAlchemy imported only then)."""
    if not ledger_exists(out_dir):
        return []
    from reportgen.ops.commentary import comments_for

    return comments_for(out_dir, report.id, period.label, audience.name)


def _recorded_causes(out_dir: Path, report_id: str, audience: str) -> list:
    """RCA items when a ledger exists; SQLAlchemy (~20 MB) is imported only then."""
    if not ledger_exists(out_dir):
        return []
    from reportgen.ops.rca import recorded_causes

    return recorded_causes(out_dir, report_id, audience)


def inside(out_dir: Path, *parts: str) -> Path:
    """``out_dir/part/…``, refusing any part that would leave ``out_dir`` (ids are slugs anyway)."""
    root = Path(out_dir).resolve()
    target = root.joinpath(*parts).resolve()
    if (
        any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts)
        or root not in target.parents
    ):
        raise ConfigError(
            f"the output folder for {'/'.join(parts)!r} would be outside {root}",
            key="id",
            fix="give the report a plain id such as weekly_leadership",
        )
    return Path(out_dir) / Path(*parts)


def write_artifacts(
    prepared: PreparedAudience,
    formats: Sequence[str] | None,
    say: Progress | None = None,
    processes: int = 1,
    *,
    drawings: DrawingCache | None = None,
) -> BuildResult:
    """Render every format into a staging folder and move them into place together.

    With ``processes`` > 1 the formats render at the same time, each in a
    process of its own (:mod:`reportgen.render.processes`). Charts drawn
    before, by any build on the same data, are served from ``drawings``
    (:func:`drawing_cache`; None draws every chart).
    """
    say = say or (lambda _msg: None)
    report, chosen, document = prepared.report, prepared.period, prepared.document
    requested = list(formats or report.config.outputs)
    renderers = {fmt: get_renderer(fmt) for fmt in render_order(requested)}
    final_dir = inside(prepared.out_dir, report.id, chosen.label, prepared.audience)
    stem = f"{report.id}_{chosen.label}"
    artifacts: dict[str, Path] = {}
    with staged_output(final_dir) as staging, keep_drawings(drawings):
        targets = {fmt: staging.path(stem + suffix) for fmt, (_, suffix) in renderers.items()}
        if processes > 1 and len(targets) > 1:
            render_concurrently(document, targets, processes=processes, say=say)
        else:
            _render_in_turn(document, targets, say)
        artifacts = {fmt: final_dir / target.name for fmt, target in targets.items()}
        say("Writing figures.json")
        from reportgen.compose.figures_json import write_figures_json

        write_figures_json(prepared.figures_data, staging.path("figures.json"))
        artifacts = {fmt: artifacts[fmt] for fmt in requested}
        artifacts["figures"] = final_dir / "figures.json"
    shown_id = _record_shown(prepared)  # only once every artifact is in place
    return BuildResult(
        report.id,
        chosen,
        final_dir,
        artifacts,
        prepared.figures,
        prepared.insights,
        document,
        shown_id,
    )


def drawing_cache(report: ResolvedReport, cache: bool = True) -> DrawingCache:
    """The report's drawn charts, in its cube cache's folder (cleared with it); ``cache=False``
    (``--no-cache``) draws every chart again and rewrites what is kept."""
    return DrawingCache(default_cache_dir(report) / DRAWINGS_FOLDER, read=cache)


#: Formats that read the typed export figures (per-segment series) from the document.
EXPORT_FORMATS = frozenset({"xlsx", "csv"})


def _render_in_turn(document: Document, targets: dict[str, Path], say: Progress) -> None:
    """One format after the other in this process; charts drawn meanwhile in their own."""
    if set(targets) & CHART_FORMATS and next(iter(targets)) not in CHART_FORMATS:
        from reportgen.render.html.page import start_drawing

        start_drawing(document)  # charts are drawn in their own process meanwhile
    for fmt, target in targets.items():
        say(f"Rendering {fmt.upper()}")
        render_one(fmt, document, target)
        release_memory()  # each renderer's layout is garbage once its file is written


def render_order(formats: Sequence[str]) -> list[str]:
    """Chart-free formats first, so the charts are drawn (in their own process) meanwhile."""
    return sorted(dict.fromkeys(formats), key=lambda fmt: fmt in CHART_FORMATS)


def release_memory(*, end_drawing: bool = True) -> None:
    """Collect garbage and hand freed heap back to the OS (glibc), so peaks do not stack.

    Without it a build's peak is the cube's memory plus WeasyPrint's plus the
    PPTX writer's, because glibc keeps freed arenas for reuse. Chart drawing
    processes still running (an HTML build) end here too, unless
    ``end_drawing`` is False (one started ahead for the charts to come).
    """
    from reportgen.render.charts import vega

    if end_drawing:
        vega.shut_down()
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
