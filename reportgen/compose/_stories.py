"""The week's stories in words: an action title, one sentence a VP can read aloud, and why.

:mod:`reportgen.analysis.stories` decides what the stories are and in which
order; this module only words them. Leadership wording has no statistics
jargon (no p-values, z-scores, LMDI, anomaly ids): "well outside its normal
range", "could be noise", "because the mix shifted". The analyst edition adds
the method, baseline and ids to each story's evidence line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from reportgen.analysis.insights import Insights
from reportgen.analysis.stories import MAX_STORIES, Consequence, Story
from reportgen.compose import _forward
from reportgen.config.loader import ResolvedReport
from reportgen.figures import MetricFigures, ReportFigures
from reportgen.formatting import format_change, format_relative, format_value


@dataclass(frozen=True)
class StoryText:
    story: Story
    rank: int
    title: str  # an action title: the message, with a number
    headline: str  # the title's subject alone, for the bottom line
    sentence: str  # one plain sentence
    evidence: str  # why we think so
    follow_up: str  # owner and root-cause status

    def as_dict(self) -> dict[str, Any]:
        s = self.story
        return {
            "id": s.id,
            "rank": self.rank,
            "in_brief": self.rank <= MAX_STORIES,
            "kind": s.kind,
            "title": self.title,
            "headline": self.headline,
            "sentence": self.sentence,
            "evidence": self.evidence,
            "follow_up": self.follow_up,
            "metric": s.metric,
            "dimension": s.dimension,
            "segment": s.segment,
            "observed": s.observed,
            "usual": s.usual,
            "previous": s.previous,
            "consequences": [
                {"metric": c.metric, "amount": c.amount, "change": c.change, "via": c.via}
                for c in s.consequences
            ],
            "anomaly_ids": list(s.anomaly_ids),
            "tests": list(s.tests),
            "targets_missed": list(s.targets_missed),
            "provisional": s.provisional,
            "owner": s.owner,
            "rca": list(s.rca),
            "sentiment": s.sentiment,
            "score": s.score,
            **({"ahead": asdict(s.ahead)} if s.ahead is not None else {}),
        }


def story_texts(
    report: ResolvedReport, figures: ReportFigures, insights: Insights, *, analyst: bool
) -> list[StoryText]:
    words = _Words(report, figures, insights, analyst)
    return [
        StoryText(
            s,
            rank,
            words.title(s),
            words.headline(s),
            words.sentence(s),
            words.evidence(s),
            words.follow_up(s),
        )
        for rank, s in enumerate(insights.stories, start=1)
    ]


def bottom_line(texts: list[StoryText]) -> str | None:
    """One sentence a VP can read aloud: the first three stories' headlines."""
    shown = [t.headline for t in texts[:3]]
    if not shown:
        return None
    if len(shown) == 1:
        return f"This week: {shown[0]}."
    return "This week: " + ", ".join(shown[:-1]) + f", and {shown[-1]}."


def data_confidence(figures: ReportFigures, generated: str) -> str:
    """Data complete through …; quality checks …; built …"""
    warnings = sorted({q.check for q in figures.quality if q.severity == "warning"})
    checks = (
        "all data-quality checks passed"
        if not warnings
        else f"{len(warnings)} data-quality check{'s' if len(warnings) > 1 else ''} raised a "
        f"warning ({', '.join(warnings)}): see the Data quality section"
    )
    through = f"{figures.last_complete_day:%a %d %b %Y}"
    period = "" if figures.complete else f"; {figures.period.label} is not complete yet"
    return f"Data complete through {through}; {checks}{period}; built {generated}."


def lower_first(text: str) -> str:
    """Lower-case the first letter of a sentence start ("Owner: …"), never of an acronym ("QA")."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


class _Words:
    def __init__(
        self, report: ResolvedReport, figures: ReportFigures, insights: Insights, analyst: bool
    ) -> None:
        self.report, self.figures, self.insights, self.analyst = report, figures, insights, analyst
        self.anomalies = {a.id: a for a in insights.anomalies}

    # -- values -------------------------------------------------------------------------------

    def m(self, metric: str) -> MetricFigures:
        return self.figures.metrics[metric]

    def value(self, metric: str, x: float | None) -> str:
        m = self.m(metric)
        text = format_value(x, m.format, m.decimals)  # type: ignore[arg-type]
        unit = self.unit(metric)
        return f"{text} {unit}" if unit and text != "—" else text

    def bare(self, metric: str, x: float | None) -> str:
        """A value without its unit word, beside one that has it ("49.0 … against 55.4")."""
        m = self.m(metric)
        return format_value(x, m.format, m.decimals)  # type: ignore[arg-type]

    def unit(self, metric: str) -> str | None:
        definition = self.report.metric(metric)
        if definition.unit:
            return definition.unit
        return "decisions" if self.m(metric).format == "count" and metric == "decisions" else None

    def change(self, metric: str, delta: float) -> str:
        m = self.m(metric)
        return format_change(abs(delta), m.format, m.decimals).lstrip("+")  # type: ignore[arg-type]

    def label(self, metric: str) -> str:
        return self.m(metric).label

    def dim_label(self, dim: str | None) -> str:
        return self.report.catalog.dimensions[dim].label if dim else ""

    # -- titles ---------------------------------------------------------------------------------

    def headline(self, s: Story) -> str:
        """The subject and its move, a few words: "Misinformation volume doubled"."""
        if s.kind == "forward":
            return _forward.headline(self, s)
        if s.kind == "surge":
            return f"{s.segment} volume {self._multiple(s.observed, s.usual)}"
        if s.kind == "concentration":
            times = (s.observed or 0) / s.usual if s.usual else None
            label = lower_first(self.label(s.metric))
            return f"{s.segment}'s {label} at " + (
                f"{times:.1f}× its usual level" if times else "an unusual level"
            )
        if s.kind == "segment":
            return f"{s.segment} {lower_first(self.label(s.metric))} {self._moved(s)}"
        if s.kind == "recovery":
            return self.title(s)
        m = self.m(s.metric)
        moved = "rose" if (m.delta or 0) > 0 else "fell"
        if s.metric not in s.targets_missed:
            return f"{lower_first(m.label)} {moved}"
        side = "below" if m.direction == "higher_is_better" else "above"
        return f"{lower_first(m.label)} {moved} {side} its target"

    def title(self, s: Story) -> str:
        if s.kind == "forward":
            return _forward.title(self, s)
        if s.kind == "surge":
            effects = self._effects(s, 2)
            head = f"{s.segment} volume {self._multiple(s.observed, s.usual)}"
            return f"{head}, {effects}" if effects else head
        if s.kind == "concentration":
            times = (s.observed or 0) / s.usual if s.usual else None
            label = lower_first(self.label(s.metric))
            where = f"{s.segment} holds {format_relative(s.share).lstrip('+')} of the {label}"
            if s.share is None:
                where = f"{self.label(s.metric)} piles up in {s.segment}"
            return where + (f", {times:.1f}× its usual level" if times and times > 1.5 else "")
        if s.kind == "segment":
            head = f"{s.segment} {lower_first(self.label(s.metric))} {self._moved(s)}"
            c = s.consequences[0] if s.consequences else None
            if c is not None and c.change and abs(c.amount) <= abs(c.change) * 1.05:
                head += (
                    f", {self.change(c.metric, c.amount)} of the "
                    f"{self.change(c.metric, c.change)} {self._direction_word(c.change)}"
                )
            return head
        if s.kind == "recovery":
            names = [self.label(n) for n, _u, _s in s.recovered]
            names = names[:1] + [lower_first(n) for n in names[1:]]
            shown = names[:3]
            joined = (
                ", ".join(shown[:-1]) + f" and {shown[-1]}" if len(shown) > 1 else shown[0]
            ) + (" and others" if len(names) > 3 else "")
            return f"{joined} recovering from an unusual {self.figures.previous_period.label}"
        m = self.m(s.metric)
        moved = "rose" if (m.delta or 0) > 0 else "fell"
        head = f"{m.label} {moved} {self.change(s.metric, m.delta or 0)} to {self.value(s.metric, m.value)}"
        if s.metric in s.targets_missed and m.target is not None:
            side = "below" if m.direction == "higher_is_better" else "above"
            target = format_value(m.target, m.format, m.decimals)  # type: ignore[arg-type]
            head += f", {side} its {target} target"
        return head

    def _effects(self, s: Story, limit: int) -> str:
        parts = [self._effect(c) for c in self._ranked(s)[:limit]]
        return " and ".join(parts)

    def _ranked(self, s: Story) -> list[Consequence]:
        """Consequences on metrics that missed their target first, then by share of the move."""
        return sorted(
            s.consequences,
            key=lambda c: (
                c.metric not in s.targets_missed,
                -min(abs(c.amount) / abs(c.change), 1.0) if c.change else 0.0,
                c.metric,
            ),
        )

    def _effect(self, c: Consequence) -> str:
        way = "up" if c.amount > 0 else "down"
        verb = "pulling" if c.amount < 0 else "pushing"
        return f"{verb} {lower_first(self.label(c.metric))} {way} {self.change(c.metric, c.amount)}"

    def _multiple(self, observed: float | None, usual: float | None) -> str:
        if observed is None or not usual:
            return "moved"
        ratio = observed / usual
        if 1.8 <= ratio < 2.3:
            return "doubled"
        if ratio >= 2.3:
            return f"rose to {ratio:.1f}× its usual level"
        if ratio > 1:
            return f"rose {format_relative(ratio - 1).lstrip('+')} above its usual level"
        return f"fell {format_relative(1 - ratio).lstrip('+')} below its usual level"

    def _moved(self, s: Story) -> str:
        if s.observed is not None and s.usual is None and s.previous is not None:
            verb = "rose" if s.observed > s.previous else "fell"
            return (
                f"{verb} to {self.value(s.metric, s.observed)} from "
                f"{self.bare(s.metric, s.previous)} in {self.figures.previous_period.label}"
            )
        if s.observed is None or s.usual is None:
            return "moved sharply"
        m = self.m(s.metric)
        verb = "rose" if s.observed > s.usual else "fell"
        if m.format == "percent":
            gap = format_change(s.observed - s.usual, m.format, m.decimals).lstrip("+")  # type: ignore[arg-type]
            gap = gap.lstrip("\u2212")
            against = "its peers" if s.method == "peer" else "usual"
            return f"{verb} to {self.value(s.metric, s.observed)}, {gap} {'below' if verb == 'fell' else 'above'} {against}"
        relative = format_relative(s.observed / s.usual - 1).lstrip("+\u2212") if s.usual else ""
        return f"{verb} {relative} to {self.value(s.metric, s.observed)}"

    def _direction_word(self, change: float) -> str:
        return "rise" if change > 0 else "fall"

    # -- sentences ------------------------------------------------------------------------------

    def sentence(self, s: Story) -> str:
        if s.kind == "forward":
            return _forward.sentence(self, s)
        if s.kind == "surge":
            text = (
                f"{s.segment} volume was {self.value(s.metric, s.observed)} against a usual "
                f"{self.bare(s.metric, s.usual)}"
            )
            more = self._ranked(s)[2:4]  # the title names the first two
            if more:
                effects = [self._effect_sentence(c) for c in more]
                text += "; the shift also " + " and ".join(effects)
            return text + "."
        if s.kind == "concentration":
            text = (
                f"{s.segment} has {self.value(s.metric, s.observed)} in the "
                f"{lower_first(self.label(s.metric))} against a usual {self.bare(s.metric, s.usual)}"
            )
            if s.share is not None and s.usual_share is not None:
                text += (
                    f" — {format_relative(s.share).lstrip('+')} of the total, "
                    f"usually {format_relative(s.usual_share).lstrip('+')}"
                )
            if s.members:
                text += f"; most at {self._join(s.members)}"
            return text + _forward.backlog_clause(self, s) + "."
        if s.kind == "segment":
            against = (
                f"{self.bare(s.metric, s.usual)} for its peers"
                if s.method == "peer"
                else f"a usual {self.bare(s.metric, s.usual)}"
            )
            if s.observed is not None and s.usual is None and s.previous is not None:
                against = (
                    f"{self.bare(s.metric, s.previous)} in {self.figures.previous_period.label}"
                )
            text = (
                f"In {s.segment}, {lower_first(self.label(s.metric))} was "
                f"{self.value(s.metric, s.observed)} against {against}"
                if s.observed is not None and (s.usual is not None or s.previous is not None)
                else f"{self.label(s.metric)} moved sharply in {s.segment}"
            )
            if s.members:
                worst = self._worst_member(s)
                text += f"; {worst}" if worst else f"; also at {self._join(s.members)}"
            for c in s.consequences if self.analyst else ():  # the title says it
                m = self.m(c.metric)
                total = format_change(c.change, m.format, m.decimals)  # type: ignore[arg-type]
                part = self.change(c.metric, c.amount)
                if abs(c.amount) > abs(c.change):
                    way = "up" if c.amount > 0 else "down"
                    text += f"; on its own it moved the total {way} {part} (the total: {total})"
                else:
                    text += f"; that is {part} of the total's {total}"
            return text + "."
        if s.kind == "recovery":
            parts = []
            for name, usual, still in s.recovered:
                m = self.m(name)
                part = (
                    f"{self.label(name)} {self.value(name, m.value)} "
                    f"(was {self.value(name, m.previous)}, usually {self.value(name, usual)})"
                )
                parts.append(part + (" — not yet back to normal" if still else ""))
            return (
                "Back toward normal after an unusual "
                f"{self.figures.previous_period.label}, not an improvement on the usual level: "
                + "; ".join(parts)
                + "."
            )
        m = self.m(s.metric)
        text = (
            f"{m.label} was {self.value(s.metric, m.value)}, against "
            f"{self.bare(s.metric, m.previous)} in {self.figures.previous_period.label}"
        )
        if s.usual is not None:
            text += f" and a usual {self.bare(s.metric, s.usual)}"
        broad = self._broad(s.metric)
        if broad:
            text += f"; {broad}"
        return text + "."

    def _effect_sentence(self, c: Consequence) -> str:
        way = "pulled" if c.amount < 0 else "pushed"
        direction = "down" if c.amount < 0 else "up"
        share = abs(c.amount) / abs(c.change) if c.change else 0
        of = " (most of its move)" if share >= 0.8 and (c.amount > 0) == (c.change > 0) else ""
        return f"{way} {lower_first(self.label(c.metric))} {direction} {self.change(c.metric, c.amount)}{of}"

    def _broad(self, metric: str) -> str | None:
        """ "lower in every region" when every segment of the decomposition moved the same way."""
        d = self.insights.decompositions.get(metric)
        m = self.m(metric)
        if d is None or m.delta is None or len(d.dimensions) != 1:
            return None
        rates = [t.rate for t in d.result.terms if t.rate0 is not None and t.rate1 is not None]
        if len(rates) >= 3 and all((r < 0) == (m.delta < 0) and r != 0 for r in rates):
            word = "lower" if m.delta < 0 else "higher"
            plural = self.dim_label(d.dimensions[0]).lower()
            return f"{word} in every {plural}"
        return None

    def _worst_member(self, s: Story) -> str | None:
        """The member furthest along the story's move, in the metric's own values.

        Only level anomalies (history, peers) count: a share anomaly's observed value
        is a share of volume, not a value of the metric.
        """
        found = [
            self.anomalies[i]
            for i in s.anomaly_ids
            if i in self.anomalies
            and self.anomalies[i].segment in s.members
            and self.anomalies[i].method != "share"
        ]
        if not found or s.observed is None:
            return None
        fell = s.previous is not None and s.observed < (
            s.usual if s.usual is not None else s.previous
        )
        worst = (min if fell else max)(found, key=lambda a: a.observed)
        where = "lowest" if fell else "highest"
        return f"{where} at {worst.segment} ({self.value(s.metric, worst.observed)})"

    def _join(self, items: tuple[str, ...]) -> str:
        return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]

    def _reason(self, metric: str) -> str:
        return self.m(metric).provisional_reason or "late data still arriving"

    # -- evidence and follow-up -------------------------------------------------------------------

    def evidence(self, s: Story) -> str:
        if s.kind == "forward":
            return _forward.evidence(self, s)
        history = self.report.config.insights.anomalies.history_periods
        parts = []
        if s.kind == "recovery":
            parts.append(f"{self.figures.previous_period.label} was well outside its normal range")
        elif s.method == "peer":
            parts.append(f"far from the other {self.dim_label(s.dimension).lower()}s this period")
        elif s.anomaly_ids:
            grain = self.figures.period.grain
            subject = (
                self.bare(s.metric, s.observed) + " is"
                if s.observed is not None
                else f"{lower_first(self.label(s.metric))} in {s.segment or 'total'} is"
            )
            parts.append(f"{subject} well outside the normal range of the last {history} {grain}s")
        tests = [self.insights.significant(t) for t in s.tests if t in self.figures.metrics]
        if s.kind == "segment" and s.dimension and s.segment:
            group = self.insights.significance.segments.get((s.metric, s.dimension))
            test = group.changes.get(s.segment) if group else None
            tests = [test.significant(self.insights.significance.alpha)] if test else []
        if s.kind in ("metric", "segment") and tests and tests != [None]:
            parts.append("unlikely to be noise" if any(tests) else "could be noise")
        if self.analyst and any(c.via == "mix" for c in s.consequences):
            toward = "into" if (s.observed or 0) >= (s.usual or 0) else "out of"
            parts.append(
                f"the effects are what moving that much work {toward} {s.segment} does to the "
                "averages, its own rates unchanged"
            )
        if s.provisional:
            parts.append(f"provisional: {self._reason(s.metric)}")
        text = "; ".join(parts)
        if self.analyst and s.anomaly_ids:
            ids = ", ".join(s.anomaly_ids[:4]) + (" …" if len(s.anomaly_ids) > 4 else "")
            lead = max(
                (self.anomalies[i] for i in s.anomaly_ids if i in self.anomalies),
                key=lambda a: abs(a.robust_z),
                default=None,
            )
            if lead is not None:
                text += (
                    f" (robust z {lead.robust_z:+.1f}".replace("-", "\u2212")
                    + f" by {lead.method}; findings {ids})"
                )
        return text[:1].upper() + text[1:] + "." if text else ""

    def follow_up(self, s: Story) -> str:
        owner = f"Owner: {s.owner}" if s.owner else "No owner in the catalog"
        if s.rca:
            items = ", ".join(f"#{i}" for i in s.rca)
            return f"{owner}; root cause recorded ({items})."
        if s.kind == "recovery":
            return f"{owner}."
        return f"{owner}; no cause recorded yet."
