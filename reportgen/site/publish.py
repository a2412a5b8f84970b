"""``publish_site()``: built reports → a static site, one folder per audience.

::

    SITE/index.html                               the audiences (names and labels only)
    SITE/access.json                              audience → path prefix → recipients
    SITE/assets/                                  stylesheet, script, Vega bundle + licence
    SITE/<audience>/index.html                    reports → periods, newest first
    SITE/<audience>/<report>/<period>/index.html  the report, interactive charts, downloads
    SITE/<audience>/<report>/<period>/changes.html  what changed since the last period
    SITE/<audience>/<report>/<period>/*.pdf …     the build's PDF, PPTX, XLSX, figures.json

Every page is drawn from one audience's ``figures.json`` files only and links
only inside its audience's folder (and to ``assets/``), so an access rule on the
folder prefix is the whole entitlement. Publishing is incremental and atomic:
a file is written only when its bytes changed, to a temporary name in the same
folder and renamed over the old one, so a reader or a sync to a bucket never
sees half a page.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from markupsafe import Markup

from reportgen.document import Document
from reportgen.errors import ConfigError, DeliveryError, ReportgenError
from reportgen.site import assets, pages
from reportgen.site.edition import edition_key, edition_sections, find_edition, kept_edition
from reportgen.site.inventory import BuiltReport, scan_output, series_neighbours

ACCESS_MANIFEST = "access.json"
ASSETS = PurePosixPath("assets")


@dataclass
class SiteWriter:
    """Writes site files atomically, and only those whose content changed."""

    root: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def write(self, path: PurePosixPath, data: bytes) -> None:
        target = self.root / path
        try:
            if (
                target.is_file()
                and target.stat().st_size == len(data)
                and target.read_bytes() == data
            ):
                self.unchanged.append(str(path))
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.chmod(temp, 0o644)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise DeliveryError(
                f"cannot write {target}: {error.strerror or error}",
                fix="check that the site folder is writable and the disk has space",
            ) from error
        self.written.append(str(path))

    def copy(self, source: Path, path: PurePosixPath) -> None:
        """Copy a build artifact unless the same file (size and modification time) is there."""
        target = self.root / path
        stat = source.stat()
        if target.is_file():
            have = target.stat()
            if (have.st_size, have.st_mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                self.unchanged.append(str(path))
                return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            os.close(fd)
            try:
                shutil.copy2(source, temp)
                os.chmod(temp, 0o644)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise DeliveryError(
                f"cannot copy {source.name} to {target}: {error.strerror or error}",
                fix="check that the site folder is writable and the disk has space",
            ) from error
        self.written.append(str(path))


@dataclass(frozen=True)
class PublishResult:
    site: Path
    pages: dict[tuple[str, str, str], Path]  # (report, period, audience) → its page
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    manifest: Path
    urls: dict[tuple[str, str, str], str]  # published URL per page (with --base-url), else path


@dataclass(frozen=True)
class AudienceInfo:
    """What the configs say about an audience: its label and who may read it."""

    name: str
    label: str
    recipients: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    reports: tuple[str, ...] = ()


def page_path(item: BuiltReport, name: str = "index.html") -> PurePosixPath:
    return PurePosixPath(item.audience, item.report, item.period, name)


def publish_site(
    out_dir: str | Path,
    site_dir: str | Path,
    *,
    audience: str | None = None,
    configs: Sequence[str | Path] | None = None,
    base_url: str | None = None,
    live: bool = False,
    editions: Mapping[tuple[str, str, str], Document] | None = None,
) -> PublishResult:
    """Write (or update) the static site under ``site_dir`` from the builds in ``out_dir``.

    ``audience`` publishes one audience's folder alone. ``configs`` (report configs)
    give audience labels and recipients for the access manifest; default: the
    ``configs/reports/*.yaml`` of the working folder, if any. ``base_url`` makes the
    manifest list each page's published URL. ``live`` adds the preview's reload script
    (``reportgen serve``); a published site never has it. A page shows its edition — the
    document its HTML file carries — or one from ``editions`` by (report, period, audience)
    (``serve`` has it in memory).
    """
    out, site = Path(out_dir), Path(site_dir)
    if out.resolve() == site.resolve() or out.resolve() in site.resolve().parents:
        raise ConfigError(
            f"the site folder {site} is inside the output folder {out}",
            fix="publish to a folder of its own, e.g. `reportgen publish output --site site`",
        )
    built = scan_output(out, audience)
    if not built:
        scope = f" for audience '{audience}'" if audience else ""
        raise ConfigError(
            f"no built report{scope} under {out} (looked for <report>/<period>/<audience>/figures.json)",
            fix="build one first: `reportgen build CONFIG` (add `--audience all` for every audience)",
        )
    known = audience_info(configs)
    writer = SiteWriter(site)
    write_assets(writer, live)
    audiences = sorted({b.audience for b in built})
    page_of: dict[tuple[str, str, str], Path] = {}
    for name in audiences:
        mine = [b for b in built if b.audience == name]
        info = known.get(name) or AudienceInfo(name, name)
        writer.write(
            PurePosixPath(name, "index.html"),
            _audience_index(mine, info, live).encode("utf-8"),
        )
        for item in mine:
            before, after = series_neighbours(mine, item)
            html = _report_page(item, before, after, info, live, editions, site / page_path(item))
            writer.write(page_path(item), html.encode("utf-8"))
            writer.write(
                page_path(item, "changes.html"), _changes_page(item, before, info, live).encode()
            )
            for _, file in item.downloads():
                if file.is_file():
                    writer.copy(file, page_path(item, file.name))
            page_of[(item.report, item.period, item.audience)] = site / page_path(item)
    if audience is None:
        everyone = [known.get(n) or AudienceInfo(n, n) for n in audiences]
        writer.write(PurePosixPath("index.html"), _front_page(everyone, live).encode("utf-8"))
    urls = {key: _url(base_url, page_path_of(key)) for key in page_of}
    manifest = _write_manifest(writer, audiences, built, known, base_url)
    if not live:
        from reportgen.site.published import PublishedPage, record_published

        rewritten = set(writer.written)
        record_published(
            out,
            [
                PublishedPage(*key, urls[key], page.parent / "figures.json")
                for key, page in page_of.items()
                if str(page_path_of(key)) + "/index.html" in rewritten
            ],
        )
    return PublishResult(
        site, page_of, tuple(writer.written), tuple(writer.unchanged), manifest, urls
    )


def page_path_of(key: tuple[str, str, str]) -> PurePosixPath:
    report, period, audience = key
    return PurePosixPath(audience, report, period, "")


def _url(base_url: str | None, path: PurePosixPath) -> str:
    text = f"{path}/"
    return (base_url.rstrip("/") + "/" + text) if base_url else text


def write_assets(writer: SiteWriter, live: bool) -> None:
    bundle = ASSETS / assets.vega_bundle_name()
    if not (writer.root / bundle).is_file():  # seconds to build; its name carries the versions
        writer.write(bundle, assets.vega_bundle())
    else:
        writer.unchanged.append(str(bundle))
    writer.write(ASSETS / "LICENSES-vega.txt", assets.licence_notice())
    for name in assets.STATIC:
        if name == "reload.js" and not live:
            continue
        writer.write(ASSETS / name, assets.static_asset(name))


# --------------------------------------------------------------------------- pages


def _common(page: PurePosixPath, live: bool) -> dict[str, Any]:
    def link(target: str | PurePosixPath) -> str:
        return pages.relative(PurePosixPath(target), page)

    return {
        "asset": lambda name: link(ASSETS / name),
        "vega_bundle": link(ASSETS / assets.vega_bundle_name()),
        "link": link,
        "live": live,
    }


def _audience_index(mine: list[BuiltReport], info: AudienceInfo, live: bool) -> str:
    page = PurePosixPath(info.name, "index.html")
    reports: dict[str, list[BuiltReport]] = {}
    for item in sorted(mine, key=lambda b: b.start, reverse=True):
        reports.setdefault(item.report, []).append(item)
    entries = [
        {
            "id": report,
            "title": items[0].title,
            "periods": [
                {
                    "item": item,
                    "href": pages.relative(page_path(item), page),
                    "tiles": pages.tiles(item.figures)[:4],
                    "stories": [s for s in item.figures.get("stories") or [] if s.get("in_brief")][
                        :3
                    ],
                }
                for item in items
            ],
        }
        for report, items in sorted(reports.items())
    ]
    return pages.render(
        "audience_index.html.j2", audience=info, reports=entries, **_common(page, live)
    )


def _report_page(
    item: BuiltReport,
    before: BuiltReport | None,
    after: BuiltReport | None,
    info: AudienceInfo,
    live: bool,
    editions: Mapping[tuple[str, str, str], Document] | None = None,
    kept: Path | None = None,
) -> str:
    page = page_path(item)
    figures = item.figures
    stories = figures.get("stories") or []
    toc, edition_html, key = _edition(item, editions, kept)
    return pages.render(
        "report.html.j2",
        item=item,
        figures=figures,
        audience=info,
        toc=toc,
        edition_html=edition_html,
        edition_key=key,
        tiles=pages.tiles(figures),
        brief=[s for s in stories if s.get("in_brief")],
        metrics=pages.metric_views(figures),
        restatements=pages.restatement_rows(figures),
        quality=figures.get("data_quality") or [],
        downloads=[(label, file.name) for label, file in item.downloads() if file.is_file()],
        previous=_neighbour(before, page),
        next=_neighbour(after, page),
        home=pages.relative(PurePosixPath(item.audience, "index.html"), page),
        generated=pages.generated_text(figures),
        **_common(page, live),
    )


def _edition(
    item: BuiltReport,
    editions: Mapping[tuple[str, str, str], Document] | None,
    kept: Path | None,
) -> tuple[list[tuple[str, str]], Markup | None, str]:
    """The page's table of contents, its edition drawn as HTML and the key it was drawn
    under: reused from the published page ``kept`` when nothing it depends on changed."""
    document = (editions or {}).get(item.key)
    key = ""
    if document is None:
        found = find_edition(item.folder)
        if found is None:
            return [], None, ""
        document, html_file = found
        key = edition_key(html_file, item.folder / "figures.json")
    toc = [(s.id, s.title) for s in document.sections]
    if key and kept is not None and (drawn := kept_edition(kept, key)) is not None:
        return toc, drawn, key
    sections = edition_sections(document, item.figures)
    return toc, Markup(pages.render("_edition.html.j2", sections=sections)), key


def _changes_page(
    item: BuiltReport, before: BuiltReport | None, info: AudienceInfo, live: bool
) -> str:
    page = page_path(item, "changes.html")
    figures = item.figures
    marked, ended = pages.story_changes(figures, before.figures if before else None)
    return pages.render(
        "changes.html.j2",
        item=item,
        figures=figures,
        audience=info,
        stories=marked,
        ended=ended,
        changes=pages.metric_changes(figures),
        restatements=pages.restatement_rows(figures),
        earlier=_neighbour(before, page),
        report_href="index.html",
        home=pages.relative(PurePosixPath(item.audience, "index.html"), page),
        **_common(page, live),
    )


def _neighbour(item: BuiltReport | None, page: PurePosixPath) -> dict[str, str] | None:
    if item is None:
        return None
    return {"label": item.period, "href": pages.relative(page_path(item), page)}


def _front_page(audiences: Iterable[AudienceInfo], live: bool) -> str:
    page = PurePosixPath("index.html")
    rows = [{"info": a, "href": f"{a.name}/index.html"} for a in audiences]
    return pages.render("front.html.j2", audiences=rows, **_common(page, live))


# --------------------------------------------------------------------------- access manifest


def audience_info(configs: Sequence[str | Path] | None) -> dict[str, AudienceInfo]:
    """Audience labels and recipients from report configs (explicit ones must load)."""
    from reportgen.config.loader import load_report

    explicit = configs is not None
    paths = (
        [Path(c) for c in configs] if configs else sorted(Path("configs/reports").glob("*.y*ml"))
    )
    found: dict[str, AudienceInfo] = {}
    for path in paths:
        try:
            report = load_report(path)
        except ReportgenError:
            if explicit:
                raise
            continue
        for a in report.config.audiences:
            people, channels = list(a.recipients), []
            delivery = report.config.delivery
            for channel in delivery.channels if delivery else []:
                if channel.audiences is not None and a.name not in channel.audiences:
                    continue
                channels.append(channel.name)
                for field_name in ("to", "cc", "bcc"):
                    people += list(getattr(channel, field_name, []) or [])
            earlier = found.get(a.name)
            merged = AudienceInfo(
                a.name,
                a.label,
                tuple(dict.fromkeys([*(earlier.recipients if earlier else ()), *people])),
                tuple(dict.fromkeys([*(earlier.channels if earlier else ()), *channels])),
                tuple(dict.fromkeys([*(earlier.reports if earlier else ()), report.id])),
            )
            found[a.name] = merged
    return found


def _write_manifest(
    writer: SiteWriter,
    audiences: list[str],
    built: list[BuiltReport],
    known: dict[str, AudienceInfo],
    base_url: str | None,
) -> Path:
    """``access.json``: which path prefix each audience owns and who may read it.

    A host's auth (an SSO proxy rule, a bucket policy) applies it; entries of
    audiences published earlier (``--audience``) are kept.
    """
    path = writer.root / ACCESS_MANIFEST
    entries: dict[str, Any] = {}
    if path.is_file():
        try:
            entries = {e["audience"]: e for e in json.loads(path.read_text())["audiences"]}
        except (ValueError, KeyError, TypeError):
            entries = {}
    for name in audiences:
        info = known.get(name)
        entries[name] = {
            "audience": name,
            "label": info.label if info else name,
            "path_prefix": f"/{name}/",
            "recipients": list(info.recipients) if info else [],
            "channels": list(info.channels) if info else [],
            "from_config": info is not None,
            "pages": [
                _url(base_url, page_path_of((b.report, b.period, b.audience)))
                for b in built
                if b.audience == name
            ],
        }
    manifest = {
        "public": ["/index.html", f"/{ASSETS}/"],
        "audiences": [entries[k] for k in sorted(entries)],
    }
    writer.write(
        PurePosixPath(ACCESS_MANIFEST),
        (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
    )
    return path
