"""``reportgen serve``: a live preview of one report's site page while its config is edited.

A watcher thread polls the files a build reads — the report config, catalog,
sources, brand, the site and HTML templates and the data files — and on a change
recomputes the figures (the gated cube is kept in memory while the cube's SQL and
the data are unchanged, so a label edit costs figures + analysis, not a scan),
writes ``figures.json`` and republishes the page. The page polls
``/__reportgen__/status`` and reloads itself when a new render is ready. A build
that fails keeps the last good render on screen and shows the error — the
``file:line … Fix: …`` paragraph the CLI prints — above it.

The server binds 127.0.0.1 unless told otherwise and serves only the preview's
own folder (a temporary directory).
"""

from __future__ import annotations

import glob
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

from reportgen.errors import ConfigError, ReportgenError

STATUS_PATH = "/__reportgen__/status"
#: How often the watcher looks at the files' modification times, in seconds.
POLL_SECONDS = 0.4


@dataclass
class PreviewState:
    version: int = 0  # bumped after every good render; the page reloads when it moves
    building: bool = False
    error: str | None = None  # the failed rebuild's message, as the CLI prints it
    page: str | None = None  # site path of the report page of the last good render

    def as_json(self) -> bytes:
        return json.dumps(
            {"version": self.version, "building": self.building, "error": self.error}
        ).encode("utf-8")


class Preview:
    """Builds one report's page into ``work`` and rebuilds it when its inputs change."""

    def __init__(
        self,
        config: Path,
        work: Path,
        *,
        period: str | None = None,
        audience: str | None = None,
        say: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.config = Path(config)
        self.period = period
        self.audience = audience
        self.out = work / "output"
        self.site = work / "site"
        self.state = PreviewState()
        self.say = say
        self._lock = threading.Lock()
        self._cube_key: tuple[Any, ...] | None = None
        self._cube: Any = None
        self._analysis: tuple[Any, Any] | None = None  # (computation key, PreparedAudience)
        self._watched: list[str] = [str(self.config)]
        self._data_version = 0
        self._data_files: set[str] = set()

    # ------------------------------------------------------------------ building

    def rebuild(self, data_changed: bool = False) -> bool:
        """One render; True when it succeeded. A failure keeps the previous render."""
        with self._lock:
            if data_changed:
                self._data_version += 1
            self.state.building = True
            started = time.monotonic()
            try:
                page = self._render()
            except ReportgenError as error:
                self.state.error = f"error: {error}"
                self.say(self.state.error)
                return False
            finally:
                self.state.building = False
            self.state.error = None
            self.state.page = page
            self.state.version += 1
            self.say(f"rendered {page} in {time.monotonic() - started:.1f} s")
            return True

    def _render(self) -> str:
        from reportgen.build import gated_cube, inside, prepare_audience
        from reportgen.compose.figures_json import write_figures_json
        from reportgen.config.loader import check_source_files, load_report
        from reportgen.data.audiences import select_audiences
        from reportgen.data.plan import needed_measures, plan_queries
        from reportgen.site.publish import publish_site

        if self.audience == "all":
            raise ConfigError(
                "serve previews one audience at a time",
                fix="pass --audience NAME (publish shows them all: `reportgen publish`)",
            )
        report = load_report(self.config)
        self._watched = watched_files(report)
        self._data_files = set(data_patterns(report))
        check_source_files(report)
        (audience,) = select_audiences(report, self.audience)
        now = datetime.now(UTC)
        key = (
            tuple(q.sql for q in plan_queries(report, needed_measures(report))),
            self.period,
            self._data_version,
            report.config.period.model_dump_json(),
        )
        if key != self._cube_key:
            self._cube = gated_cube(report, self.period, True, now, lambda _m: None)
            self._cube_key = key
            self._analysis = None
        gated = self._cube
        analysis_key = (audience.name, computation_key(report))
        if self._analysis is not None and self._analysis[0] == analysis_key:
            figures_data, document = relabelled(self._analysis[1], report, audience, now)
        else:
            prepared = prepare_audience(
                report, gated.cube, audience, gated.period, self.out, now, None, gated.quality
            )
            self._analysis = (analysis_key, prepared)
            figures_data, document = prepared.figures_data, prepared.document
        folder = inside(self.out, report.id, gated.period.label, audience.name)
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / ".figures.json.tmp"
        write_figures_json(figures_data, temp)
        os.replace(temp, folder / "figures.json")
        publish_site(
            self.out,
            self.site,
            audience=audience.name,
            configs=[self.config],
            live=True,
            editions={(report.id, gated.period.label, audience.name): document},
        )
        return str(PurePosixPath(audience.name, report.id, gated.period.label, "index.html"))

    # ------------------------------------------------------------------ watching

    def stamps(self) -> dict[str, tuple[int, int] | None]:
        found: dict[str, tuple[int, int] | None] = {}
        for pattern in self._watched:
            matches = glob.glob(pattern) if any(c in pattern for c in "*?[") else [pattern]
            for path in matches or [pattern]:
                try:
                    stat = os.stat(path)
                    found[path] = (stat.st_mtime_ns, stat.st_size)
                except OSError:
                    found[path] = None
        return found

    def watch(self, stop: threading.Event) -> None:
        """Rebuild whenever a watched file changes, until ``stop`` is set."""
        seen = self.stamps()
        while not stop.wait(POLL_SECONDS):
            now = self.stamps()
            if now == seen:
                continue
            changed = {p for p in set(now) | set(seen) if now.get(p) != seen.get(p)}
            time.sleep(0.15)  # let an editor finish writing (several writes per save)
            data = any(is_data_file(p, self._data_files) for p in changed)
            self.say("changed: " + ", ".join(sorted(Path(p).name for p in changed)))
            self.rebuild(data_changed=data)
            seen = self.stamps()


#: Config keys that change only how a figure is worded, never what is computed.
WORDING_KEYS = frozenset({"label", "description", "title", "subtitle", "owner"})


def computation_key(report: Any) -> str:
    """The report, catalog and sources with wording removed: equal keys, equal figures."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in WORDING_KEYS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    parts = [m.model_dump(mode="json") for m in (report.config, report.catalog, report.sources)]
    return json.dumps(strip(parts), sort_keys=True, default=str)


def relabelled(
    prepared: Any, report: Any, audience: Any, now: datetime
) -> tuple[dict[str, Any], Any]:
    """``figures.json`` and the edition of a cached analysis in the config's current words.

    A label edit is the commonest edit while writing a report; the figures,
    tests, anomalies and stories do not depend on it, so they are reused and only
    the words are redone: each metric's label and description, the anomalies'
    sentences (old label → new) and the stories' texts; the edition is composed again
    from them (the preview's temporary output has no ledger: no comments, no restatements).
    """
    from dataclasses import replace

    from reportgen.compose import compose_document
    from reportgen.compose._brief import brief_people
    from reportgen.compose._core import is_leadership
    from reportgen.compose._stories import story_texts
    from reportgen.compose.figures_json import figures_to_dict
    from reportgen.data.audiences import scope_report

    report = scope_report(report, audience)  # as the analysis saw it, in today's words
    renames: dict[str, str] = {}
    metrics = {}
    for name, m in prepared.figures.metrics.items():
        definition = report.metric(name)
        if definition.label != m.label:
            renames[m.label] = definition.label
        metrics[name] = replace(m, label=definition.label, description=definition.description)
    figures = replace(prepared.figures, metrics=metrics)
    insights = replace(
        prepared.insights,
        anomalies=tuple(_reworded(a, renames) for a in prepared.insights.anomalies),
    )
    data = figures_to_dict(figures, insights, _meta(prepared.figures_data, report, now))
    data["restatements"] = prepared.figures_data.get("restatements", [])
    analyst = not is_leadership(report)
    texts = story_texts(report, figures, insights, analyst=analyst)
    data["stories"] = [t.as_dict() for t in texts]
    placement = brief_people(report, figures, data, texts, ())
    document = replace(
        compose_document(report, figures, now, insights, (), placement), figures=data
    )
    return data, document


def _meta(before: dict[str, Any], report: Any, now: datetime) -> dict[str, Any]:
    from reportgen.build import config_hash

    keys = (
        "generator",
        "config",
        "config_hash",
        "audience",
        "audience_filter",
        "timezone",
        "sources",
    )
    meta = {k: before[k] for k in keys if k in before}
    meta["generated_at"] = now.isoformat()
    meta["title"] = report.config.title
    meta["config_hash"] = config_hash(report)
    return meta


def _reworded(item: Any, renames: dict[str, str]) -> Any:
    from dataclasses import fields, is_dataclass, replace

    if not renames or not is_dataclass(item):
        return item
    changes = {}
    for f in fields(item):
        value = getattr(item, f.name)
        if isinstance(value, str):
            new = value
            for old, now in renames.items():
                new = new.replace(old, now)
            if new != value:
                changes[f.name] = new
    return replace(item, **changes) if changes else item


def watched_files(report: Any) -> list[str]:
    """The report config, catalog, sources, brand (and logo), templates and data files."""
    from reportgen.render.html.page import templates_root

    files = [str(report.path), str(report.catalog_path), str(report.sources_path)]
    files.append(str((report.path.parent / report.config.brand).resolve()))
    if report.brand.logo is not None:
        files.append(str(report.brand.logo))
    root = templates_root()
    for folder in ("site", "html"):
        files += sorted(str(p) for p in (root / folder).glob("*") if p.is_file())
    files += data_patterns(report)
    return files


def data_patterns(report: Any) -> list[str]:
    base = report.sources_path.parent
    paths = [f.path for f in report.sources.facts.values()]
    if report.sources.targets is not None:
        paths.append(report.sources.targets.path)
    out = []
    for path in paths:
        if path is None or "://" in path:
            continue
        out.append(os.path.normpath(path if Path(path).is_absolute() else str(base / path)))
    return out


def is_data_file(path: str, patterns: set[str]) -> bool:
    import fnmatch

    return any(path == p or fnmatch.fnmatch(path, p) for p in patterns) or path.endswith(
        (".parquet", ".csv", ".duckdb")
    )


# --------------------------------------------------------------------------- the server


class _Handler(SimpleHTTPRequestHandler):
    preview: Preview

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the CLI says what matters; requests are noise

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def do_GET(self) -> None:
        state = self.preview.state
        if self.path.split("?")[0] == STATUS_PATH:
            body = state.as_json()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path in ("/", "/index.html") and state.page is None:
            self._pending(state)
            return
        if self.path == "/":
            self.send_response(302)
            self.send_header("Location", "/" + state.page)
            self.end_headers()
            return
        super().do_GET()

    def _pending(self, state: PreviewState) -> None:
        from reportgen.site.pages import render

        body = render("pending.html.j2", error=state.error, live=True, asset=_asset).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _asset(name: str) -> str:
    return f"assets/{name}"


def make_server(preview: Preview, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """An HTTP server for the preview's folder (port 0: any free port)."""
    preview.site.mkdir(parents=True, exist_ok=True)
    handler = type("PreviewHandler", (_Handler,), {"preview": preview})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(preview.site)))
    server.daemon_threads = True
    return server


def serve(
    config: Path,
    work: Path,
    *,
    period: str | None = None,
    audience: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    say: Callable[[str], None] = print,
    ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Build, serve and watch until ``stop`` is set (or Ctrl-C)."""
    preview = Preview(config, work, period=period, audience=audience, say=say)
    preview.rebuild()
    from reportgen.site.publish import SiteWriter, write_assets

    write_assets(SiteWriter(preview.site), live=True)  # the pending page needs them too
    server = make_server(preview, host, port)
    stop = stop or threading.Event()
    watcher = threading.Thread(target=preview.watch, args=(stop,), daemon=True)
    watcher.start()
    url = f"http://{host}:{server.server_address[1]}/"
    (ready or say)(url)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
    )
    thread.start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        stop.set()
    finally:
        server.shutdown()
        server.server_close()
        watcher.join(timeout=5)
