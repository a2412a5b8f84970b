"""The week's stories: related findings grouped, ranked by what they do to the headline metrics.

A report that lists 43 anomalies, 13 significance tests and 10 decompositions
computes everything and tells little: five of the anomalies may be one
backlog incident seen by region, by site and by share, and a volume surge in
one queue shows up as a share anomaly in every metric and as the largest mix
term of three decompositions. This module groups those findings into a few
**stories**, each about one subject, and ranks them by their impact on the
headline metrics and their targets. It is deterministic: the same figures
give the same stories, ids and order.

Kinds of story (the subject, then what the story explains):

* ``surge`` — a segment's volume moved far from its usual level (an anomaly
  on a volume metric, or share anomalies of the same segment). Its
  consequences are the segment's mix terms in the LMDI decompositions: the
  part of each metric's change that comes from the volume moving there.
* ``segment`` — a metric moved in one segment (history or peer anomaly),
  with anomalies of the same metric in segments nested inside it (the sites
  of a region) folded in. Its consequence is the segment's rate term in the
  metric's decomposition, when there is one.
* ``concentration`` — a stock (backlog) piling up in one segment: level and
  share against their usual values.
* ``metric`` — a headline metric moved significantly or unusually, or missed
  its target, and no segment story explains most of the move.
* ``recovery`` — a metric moved back toward its usual level after an unusual
  previous period: not a win, a return to normal.
* ``forward`` — where a metric is heading, from the forward look
  (:mod:`reportgen.analysis.outlook`): a month or quarter that ends off its
  target at the current pace, a next week forecast to miss a target this week
  meets, or a backlog growing unusually fast. Told only when the evidence
  holds: the whole 80 % range lies on the wrong side of the target (or the
  target can no longer be reached), the backlog's growth is as unusual as an
  anomaly. A backlog piling up in one segment (a concentration story) carries
  its outlook — weeks to clear, or growth a day — instead of a story of its own.

This module returns numbers; :mod:`reportgen.compose._stories` words them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from reportgen.analysis.anomalies import Anomaly
from reportgen.analysis.insights import Insights
from reportgen.config.loader import ResolvedReport
from reportgen.data.scan import Cube
from reportgen.figures import MetricFigures, ReportFigures
from reportgen.semantics import kind_class

Kind = Literal["surge", "segment", "concentration", "metric", "recovery", "forward"]
Sentiment = Literal["good", "bad", "neutral"]

MAX_STORIES = 5
#: a consequence must explain at least this share of a metric's change to be named
MIN_SHARE_OF_CHANGE = 0.2
#: a headline metric's move is material from this relative change (or a missed target)
MATERIAL_CHANGE = 0.05


@dataclass(frozen=True)
class Consequence:
    """The part of one metric's change that a story explains."""

    metric: str
    amount: float  # in the metric's units (a ratio's fraction, seconds …)
    change: float  # the metric's whole change against the previous period
    via: Literal["mix", "rate"]


@dataclass(frozen=True)
class Ahead:
    """What a forward story (or a backlog's outlook) projects, and how sure it is."""

    what: Literal["pace", "forecast", "backlog"]
    period: str  # the month or quarter (pace), the forecast week, the period built (backlog)
    value: float  # projected (pace), forecast (forecast), backlog now (backlog)
    lower: float | None = None  # the likely range (pace, forecast)
    upper: float | None = None
    level: float | None = None  # e.g. 0.8
    target: float | None = None
    status: str = ""  # off pace, already missed, forecast to miss, clearing, growing, steady
    days_left: int | None = None  # pace: days of the month or quarter still to come
    weeks_to_clear: float | None = None  # backlog
    per_day: float | None = None  # backlog: growth a day (positive) or net outflow a day
    method: str = ""


@dataclass(frozen=True)
class Story:
    id: str
    kind: Kind
    metric: str  # the subject's metric (a volume metric for a surge)
    dimension: str | None
    segment: str | None
    observed: float | None
    usual: float | None  # the baseline the finding compares with (history or peers median)
    previous: float | None
    share: float | None = None  # a concentration's share of the total
    usual_share: float | None = None
    consequences: tuple[Consequence, ...] = ()
    anomaly_ids: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()  # metrics whose change tests belong to this story
    targets_missed: tuple[str, ...] = ()
    provisional: bool = False
    owner: str | None = None
    rca: tuple[int, ...] = ()  # recorded root-cause items on these findings
    sentiment: Sentiment = "neutral"
    score: float = 0.0
    method: str = "history"  # how "usual" was found: history, peer, target
    members: tuple[str, ...] = field(default_factory=tuple)  # nested segments folded in
    # a recovery: (metric, usual level, still away from it) for each metric moving back
    recovered: tuple[tuple[str, float, bool], ...] = ()
    #: a forward story's projection; a backlog concentration's outlook
    ahead: Ahead | None = None


def find_stories(
    report: ResolvedReport, cube: Cube, figures: ReportFigures, insights: Insights
) -> tuple[Story, ...]:
    """Every story, highest impact first; a brief shows the first :data:`MAX_STORIES`.

    The rest stay in ``figures.json`` and the analyst edition, so nothing the
    brief leaves out is lost.
    """
    anomalies = [a for a in insights.anomalies if a.metric in figures.metrics]
    nesting = _nesting(cube, report.anomaly_dimensions)
    stories: list[Story] = []
    used: set[str] = set()
    stories += _surges(report, figures, insights, anomalies, used)
    stories += _segment_stories(report, figures, insights, anomalies, nesting, used)
    stories += _recoveries(report, figures, insights, stories)
    stories += _metric_stories(report, figures, insights, stories)
    stories = _with_backlog_outlook(stories, insights)
    stories += _forward_stories(report, figures, insights, stories)
    ranked = sorted((_with_rca(s, insights) for s in stories), key=lambda s: (-s.score, s.id))
    return tuple(ranked)


def _with_rca(story: Story, insights: Insights) -> Story:
    """The root-cause items recorded against any of the story's findings."""
    items = tuple(
        sorted({f.item.id for f in insights.followups if f.item.anomaly_id in story.anomaly_ids})
    )
    return replace(story, rca=items) if items else story


# -- surges: a segment's volume far from usual --------------------------------------------------


def _volume_metrics(report: ResolvedReport, figures: ReportFigures) -> list[str]:
    return [
        name
        for name, m in figures.metrics.items()
        if kind_class(m.type).is_volume and m.direction == "neutral" and not _is_stock(report, name)
    ]


def _surges(report, figures, insights, anomalies, used) -> list[Story]:
    volume = set(_volume_metrics(report, figures))
    subjects: dict[tuple[str, str], list[Anomaly]] = {}
    for a in anomalies:
        if a.dimension and a.segment and (a.metric in volume or a.method == "share"):
            if _is_stock(report, a.metric):
                continue
            subjects.setdefault((a.dimension, a.segment), []).append(a)
    out = []
    for (dim, seg), found in subjects.items():
        level = [a for a in found if a.metric in volume and a.method == "history"]
        if not level and len([a for a in found if a.method == "share"]) < 2:
            continue  # one share anomaly alone is a segment story, not a surge
        lead = max(level or found, key=lambda a: abs(a.robust_z))
        consequences = tuple(
            c
            for c in (_term(insights, figures, name, dim, seg, "mix") for name in figures.metrics)
            if c is not None
        )
        if not consequences and not level:
            continue
        used.update(a.id for a in found)
        story = Story(
            id=_story_id("surge", lead.metric, dim, seg),
            kind="surge",
            metric=lead.metric,
            dimension=dim,
            segment=seg,
            observed=lead.observed,
            usual=lead.baseline,
            previous=_segment_previous(figures, lead.metric, dim, seg),
            consequences=consequences,
            anomaly_ids=tuple(sorted(a.id for a in found)),
            tests=tuple(c.metric for c in consequences),
            targets_missed=_missed(figures, (c.metric for c in consequences)),
            owner=_owner(report, lead.metric),
            sentiment=_worst(figures, consequences),
            method=lead.method,
        )
        out.append(_scored(story, figures, insights, lead))
    return out


# -- a metric moved in one segment (sites folded into their region) -----------------------------


def _segment_stories(report, figures, insights, anomalies, nesting, used) -> list[Story]:
    candidates = [
        a for a in anomalies if a.id not in used and a.dimension and a.sentiment != "good"
    ]
    overall = {a.metric: a for a in anomalies if a.dimension is None}
    groups: dict[tuple[str, str, str], list[Anomaly]] = {}
    for a in sorted(candidates, key=lambda a: -abs(a.robust_z)):
        parent = nesting.get((a.dimension, a.segment))
        key = (a.metric, *parent) if parent else (a.metric, a.dimension, a.segment)
        groups.setdefault(key, []).append(a)
    out = []
    for (metric, dim, seg), found in groups.items():
        own = [a for a in found if a.dimension == dim and a.segment == seg]
        # a level finding leads (a share anomaly's values are shares of volume, not the
        # metric's), and the segment's own history first: "against a usual X" is its own
        # value, where a peer baseline may be an expected value learned from its usual gap
        if own:
            lead = max(
                own,
                key=lambda a: (a.method != "share", a.method == "history", abs(a.robust_z)),
            )
        else:
            lead = max(found, key=lambda a: abs(a.robust_z))
        if not own and len(found) < 2:
            continue  # a lone site: folded into the headline lists, not a story
        m = figures.metrics[metric]
        kind: Kind = "concentration" if _is_stock(report, metric) else "segment"
        share = usual_share = None
        if kind == "concentration":
            shares = [a for a in found if a.method == "share" and a.segment == seg]
            if shares:
                share, usual_share = shares[0].observed, shares[0].baseline
            if share is not None and usual_share is not None and share <= usual_share:
                continue  # holding less of a stock is not where it piles up: listed, not a story
        term = _term(insights, figures, metric, dim, seg, "rate")
        if term is None:
            usual = lead.baseline if lead.segment == seg and lead.method == "history" else None
            term = _breakdown_term(figures, metric, dim, seg, overall.get(metric), kind, usual)
        consequences = (term,) if term is not None else ()
        members = tuple(sorted({a.segment for a in found if a.segment != seg and a.segment}))
        observed, usual = _lead_values(figures, metric, dim, seg, lead)
        story = Story(
            id=_story_id(kind, metric, dim, seg),
            kind=kind,
            metric=metric,
            dimension=dim,
            segment=seg,
            observed=observed,
            usual=usual,
            previous=_segment_previous(figures, metric, dim, seg),
            share=share,
            usual_share=usual_share,
            consequences=consequences,
            anomaly_ids=tuple(sorted(a.id for a in found)),
            tests=(metric,),
            targets_missed=_missed(figures, [metric]) if consequences else (),
            provisional=m.provisional or any(a.provisional for a in found),
            owner=_owner(report, metric),
            sentiment=lead.sentiment,
            method=lead.method if lead.segment == seg and lead.method != "share" else "history",
            members=members,
        )
        used.update(a.id for a in found)
        out.append(_scored(story, figures, insights, lead))
    return out


# -- recoveries: back toward normal after an unusual previous period ----------------------------


def _recoveries(report, figures, insights, stories: list[Story]) -> list[Story]:
    """One story for every metric moving back toward normal after an unusual previous period.

    Which metrics recovered is :attr:`Insights.recoveries` (the previous period
    scored against the ones before it); a stock piling up in one segment (the
    backlog in one region) is told as that concentration instead.
    """
    told = {s.metric for s in stories if s.kind == "concentration"}
    found: list[tuple[str, float, bool]] = []
    for name in insights.recoveries:
        m = figures.metrics[name]
        usual = usual_level(m)
        if name in told or usual is None or m.value is None or m.previous is None:
            continue
        still = abs(m.value - usual) > 0.5 * abs(m.previous - usual)
        found.append((name, usual, still))
    if not found:
        return []
    # the metric furthest from normal last period leads
    found.sort(key=lambda f: -abs(figures.metrics[f[0]].previous - f[1]) / (abs(f[1]) or 1.0))
    name, usual, _still = found[0]
    m = figures.metrics[name]
    story = Story(
        id=_story_id("recovery", name, None, None),
        kind="recovery",
        metric=name,
        dimension=None,
        segment=None,
        observed=m.value,
        usual=usual,
        previous=m.previous,
        tests=tuple(n for n, _, _ in found),
        provisional=any(figures.metrics[n].provisional for n, _, _ in found),
        owner=_owner(report, name),
        sentiment="neutral",
        recovered=tuple(found),
    )
    # a return to normal matters less than a new problem: weighted down
    return [replace_score(story, 1.0 + 0.2 * (len(found) - 1))]


def usual_level(m: MetricFigures) -> float | None:
    """The median of the periods before the previous one: what "normal" meant for it."""
    history = [p.value for p in m.series[:-2] if p.value is not None and math.isfinite(p.value)]
    return float(np.median(history)) if history else None


# -- headline metrics no other story explains ---------------------------------------------------


def _metric_stories(report, figures, insights, stories) -> list[Story]:
    explained: dict[str, float] = {}
    for s in stories:
        for c in s.consequences:
            explained[c.metric] = explained.get(c.metric, 0.0) + abs(c.amount)
        for name, _usual, _still in s.recovered:
            explained[name] = math.inf  # a recovery is not a headline move of its own
    overall = {a.metric: a for a in insights.anomalies if a.dimension is None}
    threshold = report.config.insights.anomalies.threshold
    out = []
    for name, m in figures.metrics.items():
        if m.delta is None or m.direction == "neutral":
            continue
        significant = insights.significant(name) and not m.provisional
        unusual = name in overall and overall[name].sentiment != "neutral"
        if not (significant or unusual or m.target_met is False):
            continue
        material = abs(m.delta_pct or 0.0) >= MATERIAL_CHANGE
        strong = name in overall and abs(overall[name].robust_z) >= 2 * threshold
        if m.target_met is not False and not (material or strong):
            continue  # real but small: a few seconds on a two-minute median is not a story
        if explained.get(name, 0.0) >= 0.5 * abs(m.delta):
            continue  # most of it is already a consequence of a story
        anomaly = overall.get(name)
        story = Story(
            id=_story_id("metric", name, None, None),
            kind="metric",
            metric=name,
            dimension=None,
            segment=None,
            observed=m.value,
            usual=anomaly.baseline if anomaly else None,
            previous=m.previous,
            anomaly_ids=(anomaly.id,) if anomaly else (),
            tests=(name,),
            targets_missed=_missed(figures, [name]),
            provisional=m.provisional,
            owner=_owner(report, name),
            sentiment=_sentiment_of(m, m.delta),
            method="history" if anomaly else "previous",
        )
        out.append(_scored(story, figures, insights, anomaly))
    return out


# -- forward: where a metric is heading -----------------------------------------------------------

#: pace verdicts that are told, when raised (the whole range misses, or the target is out of reach)
_OFF_PACE = ("off pace", "already missed")
#: a month or quarter: the longer span first (the quarter's target is the one leadership owns)
_SPAN_ORDER = {"quarter": 0, "month": 1}


def _forward_stories(report, figures, insights, stories: list[Story]) -> list[Story]:
    """One story per metric heading off its target (pace first, else the forecast), and one per
    backlog growing unusually fast that no concentration story tells."""
    outlook = insights.outlook
    if outlook is None:
        return []
    out: list[Story] = []
    told: set[str] = set()
    # a metric whose move this period another story already tells: where that move leads
    # matters less than a second problem (the month off pace *because* of this week's surge)
    explained = {s.metric for s in stories if s.kind != "recovery"} | {
        c.metric for s in stories for c in s.consequences
    }
    paced = sorted(
        (p for p in outlook.pace if p.fires and p.status in _OFF_PACE),
        key=lambda p: (_SPAN_ORDER.get(_span_grain(p.period), 2), p.metric),
    )
    for p in paced:
        if p.metric in told or p.metric not in figures.metrics:
            continue
        told.add(p.metric)
        ahead = Ahead(
            what="pace",
            period=p.period,
            value=float(p.projected),
            lower=float(p.lower),
            upper=float(p.upper),
            level=p.level,
            target=p.target,
            status=p.status,
            days_left=p.days_left,
            method=p.method,
        )
        out.append(_forward(report, figures, p.metric, None, None, ahead, explained))
    for f in outlook.forecasts:
        if not f.fires or f.metric in told or f.metric not in figures.metrics:
            continue
        told.add(f.metric)
        ahead = Ahead(
            what="forecast",
            period=f.periods[0],
            value=f.mean[0],
            lower=f.lower[0],
            upper=f.upper[0],
            level=f.level,
            target=f.target,
            status="forecast to miss",
            method=f.method,
        )
        out.append(_forward(report, figures, f.metric, None, None, ahead, explained))
    piled = {(s.metric, s.dimension, s.segment) for s in stories if s.kind == "concentration"}
    for b in outlook.backlog:
        if not b.fires or (b.metric, b.dimension, b.segment) in piled:
            continue
        if b.metric not in figures.metrics:
            continue
        ahead = _backlog_ahead(b)
        out.append(_forward(report, figures, b.metric, b.dimension, b.segment, ahead, set()))
    return out


def _span_grain(label: str) -> str:
    return "quarter" if "-Q" in label else "month"


def _backlog_ahead(b) -> Ahead:
    return Ahead(
        what="backlog",
        period=b.period,
        value=b.backlog,
        status=b.status,
        weeks_to_clear=b.weeks_to_clear,
        per_day=b.growing_per_day if b.status == "growing" else b.net_outflow_per_day,
        method=b.method,
    )


#: a forward story about a metric whose move another story tells weighs this much
FOLLOW_ON_WEIGHT = 0.6


def _forward(report, figures, metric: str, dim, seg, ahead: Ahead, explained: set[str]) -> Story:
    """A forward story, scored like the others: a target it will miss weighs as a missed one;
    already out of reach, more; the further the likely range lies from the target, more; a
    follow-on of a move another story tells, less."""
    m = figures.metrics[metric]
    impact = 1.0
    if ahead.what in ("pace", "forecast"):
        impact += 1.0 + (0.5 if ahead.status == "already missed" else 0.0)
        impact += 0.5 * _clearance(ahead, m.direction)
    else:
        impact += 0.5  # growing as unusually as an anomaly
    story = Story(
        id=_story_id("forward", metric, dim, seg if seg is not None else ahead.what),
        kind="forward",
        metric=metric,
        dimension=dim,
        segment=seg,
        observed=ahead.value,
        usual=None,
        previous=m.value,
        tests=(),
        targets_missed=(),  # none missed yet: the target it is heading past is ahead.target
        owner=_owner(report, metric),
        sentiment="bad",
        method=ahead.what,
        ahead=ahead,
    )
    return replace_score(story, impact * (FOLLOW_ON_WEIGHT if metric in explained else 1.0))


def _clearance(ahead: Ahead, direction: str) -> float:
    """How far the likely range lies past the target, in half-widths of the range (0–1)."""
    if ahead.target is None or ahead.lower is None or ahead.upper is None:
        return 1.0  # out of reach whatever the rest brings
    half = (ahead.upper - ahead.lower) / 2 or 1e-12
    edge = ahead.upper if direction == "higher_is_better" else ahead.lower
    gap = ahead.target - edge if direction == "higher_is_better" else edge - ahead.target
    return max(0.0, min(gap / half, 1.0))


def _with_backlog_outlook(stories: list[Story], insights: Insights) -> list[Story]:
    """A backlog piling up in one segment carries where it is heading: clearing, or growing."""
    outlook = insights.outlook
    if outlook is None:
        return stories
    found = {(b.metric, b.dimension, b.segment): b for b in outlook.backlog}
    out = []
    for s in stories:
        b = found.get((s.metric, s.dimension, s.segment)) if s.kind == "concentration" else None
        out.append(s if b is None else replace(s, ahead=_backlog_ahead(b)))
    return out


# -- shared pieces ------------------------------------------------------------------------------


def _term(insights: Insights, figures, metric: str, dim: str, seg: str, via: str):
    """The segment's mix or rate term in the metric's decomposition, if it matters."""
    d = insights.decompositions.get(metric)
    if d is None or dim not in d.dimensions or len(d.dimensions) != 1:
        return None
    m = figures.metrics[metric]
    change = d.result.change if d.result.change is not None else m.delta
    for t in d.result.terms:
        if t.segment == (seg,):
            amount = t.mix if via == "mix" else t.rate
            if change is None or amount is None or not math.isfinite(amount):
                return None
            if abs(amount) < MIN_SHARE_OF_CHANGE * abs(change) or abs(amount) < 1e-12:
                return None
            return Consequence(metric, float(amount), float(change), via)  # type: ignore[arg-type]
    return None


def _breakdown_term(
    figures,
    metric: str,
    dim: str,
    seg: str,
    overall: Anomaly | None,
    kind: Kind,
    usual: float | None,
) -> Consequence | None:
    """A segment's part of the metric's move when no decomposition is by its dimension.

    A stock piling up in one segment: the segment's excess over its usual level
    against the total's excess (both from the history anomalies). A rate: the
    segment's share times its change, against the metric's change — the rate
    term of a decomposition by that dimension, to first order.
    """
    m = figures.metrics[metric]
    found = _segment(figures, metric, dim, seg)
    if found is None or found.value is None:
        return None
    if kind == "concentration":
        total_usual = overall.baseline if overall is not None else usual_level(m)
        if found.previous is None or total_usual is None or m.value is None:
            return None
        amount = found.value - (usual if usual is not None else found.previous)
        change = m.value - total_usual
    else:
        if found.previous is None or found.share is None or m.delta is None:
            return None
        amount, change = found.share * (found.value - found.previous), m.delta
    if not change or abs(amount) < MIN_SHARE_OF_CHANGE * abs(change):
        return None
    return Consequence(metric, float(amount), float(change), "rate")


def _scored(story: Story, figures, insights, lead: Anomaly | None) -> Story:
    """Impact on headline metrics and targets first, then how unusual, then significance."""
    impact = 0.0
    for c in story.consequences:
        share = min(abs(c.amount) / abs(c.change), 1.0) if c.change else 0.0
        weight = 1.0 + (c.metric in story.targets_missed) + bool(insights.significant(c.metric))
        impact += share * weight
    if story.kind == "metric":
        m = figures.metrics[story.metric]
        impact += 1.0 + (m.target_met is False) + bool(insights.significant(story.metric))
    unusual = min(abs(lead.robust_z) / 10.0, 1.5) if lead is not None else 0.0
    score = impact + unusual + (0.5 if story.kind == "concentration" else 0.0)
    if story.provisional:
        # may be late data; a whole metric's move more so than one segment far from its peers
        score *= 0.5 if story.kind == "metric" else 0.8
    if story.sentiment == "good":
        score *= 0.7  # a leadership brief leads with what needs attention
    return replace_score(story, score)


def replace_score(story: Story, score: float) -> Story:
    return replace(story, score=round(score, 6))


def _nesting(cube: Cube, dimensions: Iterable[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """``(fine dim, segment) → (coarse dim, segment)`` where every row of the segment lies in one
    coarse segment (each site in one region). Read from the additive cube's rows."""
    dims = list(dict.fromkeys(dimensions))
    out: dict[tuple[str, str], tuple[str, str]] = {}
    frames = [f for q, f in zip(cube.queries, cube.frames.values(), strict=False) if not q.sketch]
    frame = next((f for f in frames if all(d in f.columns for d in dims)), None)
    if frame is None:
        return out
    for fine in dims:
        for coarse in dims:
            if fine == coarse:
                continue
            pairs = frame[[fine, coarse]].drop_duplicates()
            per_fine = pairs.groupby(fine, observed=True)[coarse].nunique()
            per_coarse = pairs.groupby(coarse, observed=True)[fine].nunique()
            if not (per_fine == 1).all() or not (per_coarse > 1).any():
                continue
            for row in pairs.itertuples(index=False):
                out.setdefault((fine, str(row[0])), (coarse, str(row[1])))
    return out


def _is_stock(report: ResolvedReport, metric: str) -> bool:
    definition = report.metric(metric)
    return any(report.catalog.measures[m].is_stock for m in definition.measures)


def _segment(figures, metric: str, dim: str, seg: str):
    """The segment's row of the metric's breakdown by ``dim`` (None when it has none)."""
    return next(
        (s for s in figures.metrics[metric].breakdowns.get(dim, ()) if s.segment == seg), None
    )


def _lead_values(
    figures, metric: str, dim: str, seg: str, lead: Anomaly
) -> tuple[float | None, float | None]:
    """The segment's value and its usual level, as the story states them.

    A share anomaly's values are shares of the volume, not the metric's: the
    story gives the segment's value and the level it would have at its usual
    share of this period's total (value × usual share / share now).
    """
    if lead.segment != seg:
        return _segment_value(figures, metric, dim, seg), None
    if lead.method != "share":
        return lead.observed, lead.baseline
    value = _segment_value(figures, metric, dim, seg)
    if value is None or not lead.observed:
        return value, None
    return value, value * lead.baseline / lead.observed


def _segment_value(figures, metric: str, dim: str, seg: str) -> float | None:
    found = _segment(figures, metric, dim, seg)
    return found.value if found else None


def _segment_previous(figures, metric: str, dim: str, seg: str) -> float | None:
    found = _segment(figures, metric, dim, seg)
    return found.previous if found else None


def _missed(figures, metrics: Iterable[str]) -> tuple[str, ...]:
    return tuple(m for m in dict.fromkeys(metrics) if figures.metrics[m].target_met is False)


def _owner(report: ResolvedReport, metric: str) -> str | None:
    owner = getattr(report.metric(metric), "owner", None)
    return None if owner in (None, "", "unassigned") else owner


def _sentiment_of(m: MetricFigures, amount: float) -> Sentiment:
    if m.direction == "neutral" or amount == 0:
        return "neutral"
    up_is_good = m.direction == "higher_is_better"
    return "good" if (amount > 0) == up_is_good else "bad"


def _worst(figures, consequences: tuple[Consequence, ...]) -> Sentiment:
    moods = [_sentiment_of(figures.metrics[c.metric], c.amount) for c in consequences]
    if "bad" in moods:
        return "bad"
    return "good" if "good" in moods else "neutral"


def _story_id(kind: str, metric: str, dimension: str | None, segment: str | None) -> str:
    key = json.dumps([kind, metric, dimension, segment], ensure_ascii=False)
    return "S-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
