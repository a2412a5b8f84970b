"""Audience variants: one report definition, many entitled decks.

Access is enforced on the *input*: each audience gets a copy of the cube that
holds only its entitled rows, and a copy of the report config without the
metrics, sections and dimensions it may not see. Everything downstream —
figures, tests, anomalies (peers are only the audience's own segments),
decompositions, narrative, charts, figures.json — is computed from that, so
nothing can be derived from rows the audience is not entitled to.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import replace

import pandas as pd

from reportgen.config.loader import ResolvedReport
from reportgen.config.models import AudienceConfig, MetricChoice
from reportgen.data.frames import LEVEL
from reportgen.data.plan import CubeQuery
from reportgen.data.scan import Cube
from reportgen.errors import ConfigError

PSEUDONYM_KEY_ENV = "REPORTGEN_PSEUDONYM_KEY"

OPERATIONAL_SECTIONS = (
    "summary",
    "anomalies",
    "follow_up",  # shown only when causes were recorded against this audience's anomalies
    "decomposition",
    "metrics",
    "significance",
    "definitions",
)


def select_audiences(report: ResolvedReport, wanted: str | None) -> list[AudienceConfig]:
    """``None``: the first audience; ``"all"``: every one; otherwise the one with that name."""
    audiences = report.config.audience_list()
    if wanted is None:
        return audiences[:1]
    if wanted == "all":
        return audiences
    for audience in audiences:
        if audience.name == wanted:
            return [audience]
    from reportgen.config.loader import suggest

    raise ConfigError(
        f"report '{report.id}' has no audience '{wanted}' — {suggest(wanted, [a.name for a in audiences])}",
        file=report.path,
        fix="use --audience all or one of the names under 'audiences:'",
    )


def restricted_facts(report: ResolvedReport, audience: AudienceConfig) -> set[str]:
    """Facts that cannot be restricted to the audience's rows (they lack a filter dimension)."""
    return {
        name
        for name, fact in report.catalog.facts.items()
        if any(dim not in fact.dimensions for dim in audience.filter)
    }


def scope_report(report: ResolvedReport, audience: AudienceConfig) -> ResolvedReport:
    """The report as this audience sees it: its metrics, sections and visible dimensions."""
    unfilterable = restricted_facts(report, audience)
    # hidden dimensions, and dimensions the filter pins to one value (a "breakdown" with one row)
    pinned = {dim for dim in audience.filter if len(audience.allowed(dim) or ()) == 1}
    personal = set() if audience.show_individuals else personal_dimensions(report)
    hidden = set(audience.hidden_dimensions) | pinned | personal
    wanted = set(audience.metrics) if audience.metrics is not None else None
    metrics = []
    notes = []
    for choice in report.metrics:
        facts = {report.catalog.measures[m].fact for m in report.metric(choice.metric).measures}
        if wanted is not None and choice.metric not in wanted:
            continue  # not entitled
        if facts & unfilterable:  # its rows cannot be limited to the audience: said, not silent
            notes.append(unavailable_note(report, choice.metric, facts & unfilterable, audience))
            continue
        metrics.append(
            MetricChoice(
                metric=choice.metric,
                breakdowns=[d for d in choice.breakdowns or [] if d not in hidden],
            )
        )
    if not metrics:
        raise ConfigError(
            f"audience '{audience.name}' of report '{report.id}' has no metric it may see",
            file=report.path,
            fix="check the audience's 'metrics' and that its filter dimensions exist in the facts those metrics use",
        )
    config = report.config
    insights = config.insights
    anomalies = insights.anomalies.model_copy(
        update={"dimensions": [d for d in report.anomaly_dimensions if d not in hidden]}
    )
    decomposition = insights.decomposition.model_copy(
        update={
            "dimensions": [d for d in report.decomposition_dimensions if d not in hidden] or None,
            "metrics": [
                m
                for m in insights.decomposition.metrics or []
                if any(c.metric == m for c in metrics)
            ]
            or None,
        }
    )
    if audience.sections is not None:
        sections = list(audience.sections)
    elif audience.detail == "operational":
        sections = [s for s in OPERATIONAL_SECTIONS]
    else:
        sections = list(config.sections)
    scoped = config.model_copy(
        update={
            "audience": audience,
            "audiences": [],
            "subtitle": audience.subtitle or config.subtitle,
            "metrics": [m.metric for m in metrics],
            "breakdowns": [d for d in config.breakdowns if d not in hidden],
            "sections": sections,
            "insights": insights.model_copy(
                update={"anomalies": anomalies, "decomposition": decomposition}
            ),
        }
    )
    return replace(report, config=scoped, metrics=tuple(metrics), edition_notes=tuple(notes))


def unavailable_note(
    report: ResolvedReport, metric: str, facts: set[str], audience: AudienceConfig
) -> str:
    """ "Throughput is not available in this edition: staffing has no market." """
    missing = sorted(
        {d for f in facts for d in audience.filter if d not in report.catalog.facts[f].dimensions}
    )
    names = " and ".join(sorted(facts))
    return (
        f"{report.metric(metric).label} is not available in this edition: {names} "
        f"{'has' if len(facts) == 1 else 'have'} no {' or '.join(missing)}."
    )


def personal_dimensions(report: ResolvedReport) -> set[str]:
    return {name for name, dim in report.catalog.dimensions.items() if dim.personal}


def pseudonymise_cube(cube: Cube, report: ResolvedReport) -> Cube:
    """Replace the labels of personal dimensions by keyed pseudonyms, consistently across builds.

    HMAC-SHA256 with a secret key: the same person gets the same pseudonym in
    every report and week (so trends can be followed), but without the key the
    pseudonym cannot be traced back by hashing every known ID.
    """
    personal = [
        d for d in personal_dimensions(report) if any(d in f.columns for f in cube.frames.values())
    ]
    if not personal:
        return cube
    key = os.environ.get(PSEUDONYM_KEY_ENV, "")
    if len(key) < 16:
        raise ConfigError(
            f"an audience of report '{report.id}' shows individuals, but ${PSEUDONYM_KEY_ENV} is "
            "not set to a secret of at least 16 characters",
            file=report.path,
            fix=f"export {PSEUDONYM_KEY_ENV}=<a long random secret, kept outside configs>",
        )
    frames = {}
    for name, frame in cube.frames.items():
        frame = frame.copy()
        for dim in personal:
            if dim in frame.columns:
                labels = frame[dim].astype(str)
                mapping = {v: pseudonym(v, key) for v in labels.unique()}
                frame[dim] = labels.map(mapping).astype("category")
        frames[name] = frame
    return replace(cube, frames=frames)


def pseudonym(value: str, key: str) -> str:
    digest = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"P-{digest[:10]}"


def filter_cube(cube: Cube, audience: AudienceConfig) -> Cube:
    """The cube restricted to the audience's rows; facts that cannot be restricted are dropped."""
    if not audience.filter:
        return cube
    frames = {}
    sketches = {q.key: q for q in cube.queries if q.sketch}
    for key, frame in cube.frames.items():
        if not all(dim in frame.columns for dim in audience.filter):
            continue
        if key in sketches:
            frames[key] = _filter_sketch(frame, sketches[key], audience)
            continue
        mask = None
        for dim in audience.filter:
            allowed = audience.allowed(dim) or ()
            keep = frame[dim].isin(allowed).to_numpy()
            mask = keep if mask is None else mask & keep
        kept = frame[mask].reset_index(drop=True)
        if kept.empty:
            dim = next(iter(audience.filter))
            known = sorted(map(str, frame[dim].unique()))[:12]
            raise ConfigError(
                f"audience '{audience.name}': filter {audience.filter} matches no rows of "
                f"'{key.split(':')[0]}'",
                fix=f"check the spelling; {dim} values in the data include: {', '.join(known)}",
            )
        frames[key] = kept
    queries = tuple(q for q in cube.queries if q.key in frames)
    return replace(
        cube,
        frames=frames,
        queries=queries,
        sketch_scope=tuple(audience.filter),
        last_day={k: v for k, v in cube.last_day.items() if k in frames},
        first_day={k: v for k, v in cube.first_day.items() if k in frames},
    )


def _filter_sketch(frame: pd.DataFrame, query: CubeQuery, audience: AudienceConfig) -> pd.DataFrame:
    """A sketch's rows from grouping sets that hold every filter dimension, with allowed values.

    Sets without a filter dimension mix in other audiences' rows and are
    dropped; the set of exactly the filter dimensions is the audience's total
    (see :func:`reportgen.data.plan.sketch_levels`).
    """
    levels = ["+".join(level) for level in query.levels if all(d in level for d in audience.filter)]
    mask = frame[LEVEL].isin(levels).to_numpy()
    for dim in audience.filter:
        mask = mask & frame[dim].isin(audience.allowed(dim) or ()).to_numpy()
    kept = frame[mask].reset_index(drop=True)
    kept[LEVEL] = kept[LEVEL].cat.remove_unused_categories()
    return kept
