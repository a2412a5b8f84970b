"""The site's pages as HTML strings: the site's front door, each audience's index, each
built report's page and its "what changed" view.

Pages are Jinja2 templates under ``templates/site/`` (autoescaped, sandboxed like
every template a user may override). They link only to relative paths, load only
the site's own ``assets/`` and carry their charts' specs as inline JSON data
blocks (never executed), so they work from ``file://`` and under any path prefix
of a static host, with a Content-Security-Policy that allows nothing else.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from reportgen.formatting import format_change, format_full, format_relative, unit_label
from reportgen.render.html.page import templates_root
from reportgen.site.charts import breakdown_spec, sample_size, shown_format, trend_spec, value_text
from reportgen.site.inventory import BuiltReport

#: The policy every page declares: its own files only, nothing inline but data blocks.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'"
)


#: The report partials' own filters, which the site's pages take as the report defines them.
REPORT_FILTERS = ("arrow", "split_lead", "keep_whole")


@lru_cache(maxsize=4)
def _environment(folder: Path) -> ImmutableSandboxedEnvironment:
    """The site's templates, then the HTML report's: a report page draws the edition's
    tables, tiles, narrative and definitions with the report's own partials."""
    from reportgen.render.html.page import environment, html_templates_dir
    from reportgen.render.html.templating import sandboxed_environment

    env = sandboxed_environment([folder, html_templates_dir()], autoescape=True)
    env.filters["json_data"] = json_data
    for name in REPORT_FILTERS:
        env.filters[name] = environment().filters[name]
    return env


def site_templates_dir() -> Path:
    return templates_root() / "site"


def render(template: str, **context: Any) -> str:
    try:
        env = _environment(site_templates_dir())
        return env.get_template(template).render(csp=CONTENT_SECURITY_POLICY, **context)
    except TemplateError as error:
        from reportgen.render.html.templating import render_error

        raise render_error(error, template, templates=str(site_templates_dir())) from error


def json_data(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">``: no ``</script>`` can close it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def relative(target: PurePosixPath, page: PurePosixPath) -> str:
    """A link from ``page`` to ``target`` (both site-relative) that works from file:// too."""
    return os.path.relpath(str(target), str(page.parent)).replace(os.sep, "/")


# --------------------------------------------------------------------------- view models


@dataclass(frozen=True)
class Tile:
    metric: str
    label: str
    value: str
    unit: str  # a rate's catalog unit, printed smaller under the value
    change: str
    relative: str
    vs: str
    tone: str  # good, bad or neutral: coloured only when the change is significant
    target: str
    target_tone: str
    note: str


def tiles(figures: dict[str, Any]) -> list[Tile]:
    """A tile per metric: value, change vs the previous period, target status."""
    tests = (figures.get("insights") or {}).get("tests") or {}
    previous = figures["previous_period"]["label"]
    out = []
    for name, m in figures["metrics"].items():
        fmt = shown_format(m, [m.get("value"), m.get("previous")])
        change = format_change(_in(m, m.get("delta"), fmt), fmt)  # type: ignore[arg-type]
        significant = (tests.get(name) or {}).get("significant")
        tone = "neutral"
        if significant and m.get("delta") and m.get("direction") != "neutral":
            up = m["delta"] > 0
            tone = "good" if up == (m["direction"] == "higher_is_better") else "bad"
        target, target_tone = "", "neutral"
        if m.get("target") is not None:
            met = m.get("target_met")
            target_tone = "good" if met else "bad" if met is False else "neutral"
            word = "met" if met else "missed" if met is False else "target"
            target = f"Target {value_text(m['target'], m, fmt)} — {word}"
        notes = []
        if m.get("provisional"):
            notes.append(f"provisional — {m.get('provisional_reason') or 'late data'}")
        if m.get("as_of"):
            notes.append(f"as of {m['as_of']}")
        out.append(
            Tile(
                metric=name,
                label=str(m["label"]),
                value=value_text(m.get("value"), m, fmt, with_unit=False),
                unit=_unit_note(m, fmt).strip(" ()"),
                change=change,
                relative=format_relative(m.get("delta_pct")),
                vs=f"vs {previous}",
                tone=tone,
                target=target,
                target_tone=target_tone,
                note="; ".join(notes),
            )
        )
    return out


def _in(m: dict[str, Any], value: float | None, fmt: str) -> float | None:
    from reportgen.formatting import in_unit

    return in_unit(value, str(m["format"]), fmt)


@dataclass(frozen=True)
class Breakdown:
    dimension: str
    title: str
    spec_id: str
    spec: dict[str, Any]
    rows: list[dict[str, str]]
    show_n: bool


@dataclass(frozen=True)
class MetricView:
    name: str
    label: str
    description: str
    formula: str | None
    sentence: str
    trend_id: str
    trend: dict[str, Any]
    breakdowns: list[Breakdown]


def metric_views(figures: dict[str, Any]) -> list[MetricView]:
    period = figures["period"]["label"]
    previous = figures["previous_period"]["label"]
    views = []
    for name, m in figures["metrics"].items():
        parts = []
        for dim, segments in (m.get("breakdowns") or {}).items():
            if not segments:
                continue
            fmt = shown_format(m, [s.get("value") for s in segments])
            rows = [
                {
                    "segment": str(s["segment"]),
                    "value": value_text(s.get("value"), m, fmt, with_unit=False),
                    "previous": value_text(s.get("previous"), m, fmt, with_unit=False),
                    "change": format_change(_in(m, s.get("delta"), fmt), fmt),  # type: ignore[arg-type]
                    "share": format_full(s.get("share"), "percent"),
                    "n": _count(sample_size(m, s.get("stats") or {})),
                }
                for s in segments
            ]
            parts.append(
                Breakdown(
                    dimension=dim,
                    title=f"{m['label']} by {dim.replace('_', ' ')}" + _unit_note(m, fmt),
                    spec_id=f"spec-{name}-{dim}",
                    spec=breakdown_spec(m, dim, period, previous),
                    rows=rows,
                    show_n=any(r["n"] != "—" for r in rows),
                )
            )
        views.append(
            MetricView(
                name=name,
                label=str(m["label"]),
                description=str(m.get("description") or ""),
                formula=m.get("formula"),
                sentence=metric_sentence(m, period, previous),
                trend_id=f"spec-{name}-trend",
                trend=trend_spec(m),
                breakdowns=parts,
            )
        )
    return views


def _unit_note(m: dict[str, Any], fmt: str) -> str:
    """ " (decisions / productive hour)" when a table's cells leave the catalog unit out."""
    unit = m.get("unit")
    return f" ({unit_label(unit)})" if unit and fmt in ("rate", "decimal", "count") else ""


def metric_sentence(m: dict[str, Any], period: str, previous: str) -> str:
    """“Average handle time was 62.6 s in 2026-W47, +7.1 s (+12.8%) vs 2026-W46; target 57.0 s.”"""
    fmt = shown_format(m, [m.get("value"), m.get("previous")])
    text = f"{m['label']} was {value_text(m.get('value'), m, fmt)} in {period}"
    if m.get("previous") is not None:
        text += (
            f", {format_change(_in(m, m.get('delta'), fmt), fmt)}"  # type: ignore[arg-type]
            f" ({format_relative(m.get('delta_pct'))}) from "
            f"{value_text(m['previous'], m, fmt)} in {previous}"
        )
    if m.get("target") is not None:
        verdict = {True: "met", False: "missed"}.get(m.get("target_met"), "")
        text += f"; target {value_text(m['target'], m, fmt)}" + (f" ({verdict})" if verdict else "")
    return text + "."


def _count(n: float | None) -> str:
    return "—" if n is None else f"{n:,.0f}"


def generated_text(figures: dict[str, Any]) -> str:
    stamp = figures.get("generated_at")
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp or "")
    return f"{moment.day} {moment:%b %Y, %H:%M} {moment.tzname() or 'UTC'}"


# --------------------------------------------------------------------------- what changed


@dataclass(frozen=True)
class StoryChange:
    story: dict[str, Any]
    status: str  # new, continuing; "" when no earlier period is published to compare with


def story_changes(
    figures: dict[str, Any], earlier: dict[str, Any] | None
) -> tuple[list[StoryChange], list[dict[str, Any]]]:
    """This period's stories marked new or continuing, and the earlier period's that ended."""
    before = {s["id"]: s for s in (earlier or {}).get("stories") or []}
    now = figures.get("stories") or []
    if earlier is None:
        return [StoryChange(s, "") for s in now], []
    marked = [StoryChange(s, "continuing" if s["id"] in before else "new") for s in now]
    current = {s["id"] for s in now}
    ended = [s for sid, s in before.items() if sid not in current]
    return marked, ended


def metric_changes(figures: dict[str, Any]) -> list[dict[str, str]]:
    """Each metric's move from the previous period, largest relative move first."""
    tests = (figures.get("insights") or {}).get("tests") or {}
    rows = []
    for name, m in figures["metrics"].items():
        fmt = shown_format(m, [m.get("value"), m.get("previous")])
        significant = (tests.get(name) or {}).get("significant")
        rows.append(
            {
                "label": str(m["label"]),
                "previous": value_text(m.get("previous"), m, fmt),
                "value": value_text(m.get("value"), m, fmt),
                "change": format_change(_in(m, m.get("delta"), fmt), fmt),  # type: ignore[arg-type]
                "relative": format_relative(m.get("delta_pct")),
                "verdict": {True: "unlikely to be noise", False: "could be noise"}.get(
                    significant, "not tested"
                ),
                "key": abs(m.get("delta_pct") or 0.0),
            }
        )
    rows.sort(key=lambda r: -float(r["key"]))  # type: ignore[arg-type]
    return rows


def restatement_rows(figures: dict[str, Any]) -> list[dict[str, str]]:
    labels = {k: str(v["label"]) for k, v in figures["metrics"].items()}
    rows = []
    for r in figures.get("restatements") or []:
        m = figures["metrics"].get(r.get("metric"), {"format": "decimal", "label": r.get("metric")})
        fmt = str(m.get("format", "decimal"))
        rows.append(
            {
                "metric": labels.get(r.get("metric"), str(r.get("metric"))),
                "period": str(r.get("period")),
                "was": value_text(r.get("was"), m, fmt),
                "now": value_text(r.get("now"), m, fmt),
                "shown_in": str(r.get("shown_in_period") or ""),
                "cause": str(r.get("cause") or ""),
            }
        )
    return rows


def built_at(item: BuiltReport) -> str:
    return generated_text(item.figures)
