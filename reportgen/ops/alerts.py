"""Alert rules: metric conditions checked on their own schedule, one email per breach.

A rule is either a threshold on a metric (overall or per segment of a
dimension, e.g. daily SLA attainment below 90 % in any region) or "a new
anomaly at least this strong". Each check turns into observations, one per
subject (a segment, or an anomaly id); the ledger remembers which subjects
are breached, so an alert goes out when a subject *enters* breach — not on
every check while it persists — and a recovery notice when it clears.
Anomaly ids are stable and name their period, so each is alerted once and
has no recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.config.delivery import AlertRule, DeliveryConfig
from reportgen.errors import ConfigError
from reportgen.formatting import minus
from reportgen.ops.ledger import Ledger, SendKey, open_ledger, utcnow
from reportgen.ops.outbox import SendOutcome, enqueue_and_deliver

if TYPE_CHECKING:
    from reportgen.analysis.insights import Insights
    from reportgen.build import GatedCube
    from reportgen.config.loader import ResolvedReport
    from reportgen.figures import ReportFigures

log = logging.getLogger(__name__)

#: Alerts look at the whole report (owners see every row), not at one audience's variant.
ALERT_AUDIENCE = "all"


@dataclass(frozen=True)
class Observation:
    """One subject of a rule at one check: breached or not, with what to say about it."""

    subject: str
    breached: bool
    value: float | None
    value_text: str
    metric: str | None = None
    segment: str | None = None
    threshold_text: str | None = None
    anomaly_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Notice:
    rule: str
    subject: str
    kind: str  # alert | recovery
    observation: Observation
    since: datetime
    outcome: SendOutcome | None = None


# -- evaluating -----------------------------------------------------------------------------


def evaluate_metric(rule: AlertRule, figures: ReportFigures) -> list[Observation]:
    """The rule's metric overall, or each segment of ``rule.by``, against the threshold."""
    from reportgen.formatting import format_value

    metric = figures.metrics.get(rule.metric or "")
    if metric is None:
        raise ConfigError(
            f"alert '{rule.name}' checks metric '{rule.metric}', which the report does not show",
            key=f"alerts.{rule.name}.metric",
            fix="use one of the report's metrics: " + ", ".join(figures.metrics),
        )
    threshold = rule.below if rule.below is not None else rule.above
    assert threshold is not None
    word = "below" if rule.below is not None else "above"
    threshold_text = (
        f"{word} {format_value(threshold, metric.format, metric.decimals, metric.unit)}"
    )

    def observe(subject: str, segment: str | None, value: float | None) -> Observation:
        breached = value is not None and (
            value < threshold if word == "below" else value > threshold
        )
        return Observation(
            subject=subject,
            breached=breached,
            value=value,
            value_text=format_value(value, metric.format, metric.decimals, metric.unit),
            metric=metric.label,
            segment=segment,
            threshold_text=threshold_text,
            detail=f"{metric.label} in {figures.period.label}{' for ' + segment if segment else ''}.",
        )

    if rule.by is None:
        return [observe("overall", None, metric.value)]
    segments = metric.breakdowns.get(rule.by)
    if segments is None:
        raise ConfigError(
            f"alert '{rule.name}' splits by '{rule.by}', which is not a breakdown of {rule.metric}",
            key=f"alerts.{rule.name}.by",
            fix="use one of: " + (", ".join(metric.breakdowns) or "none (omit 'by')"),
        )
    return [observe(f"{rule.by}={s.segment}", f"{rule.by} {s.segment}", s.value) for s in segments]


def evaluate_anomalies(rule: AlertRule, insights: Insights) -> list[Observation]:
    """Every current anomaly at least ``min_z`` strong (adverse ones by default)."""
    assert rule.anomalies is not None
    wanted = rule.anomalies
    found = []
    for a in insights.anomalies:
        if abs(a.robust_z) < wanted.min_z or (wanted.sentiment == "bad" and a.sentiment != "bad"):
            continue
        if wanted.metrics and a.metric not in wanted.metrics:
            continue
        found.append(
            Observation(
                subject=a.id,
                breached=True,
                value=a.observed,
                value_text=minus(
                    f"{a.observed:.6g} (baseline {a.baseline:.6g}, robust z {a.robust_z:+.1f})"
                ),
                metric=a.metric,
                segment=f"{a.dimension} {a.segment}" if a.dimension else None,
                threshold_text=f"|robust z| ≥ {wanted.min_z:g}",
                anomaly_id=a.id,
                detail=a.detail,
            )
        )
    return found


# -- state ----------------------------------------------------------------------------------


def transitions(
    ledger: Ledger,
    report: str,
    rule: AlertRule,
    observations: Sequence[Observation],
    now: datetime,
) -> list[Notice]:
    """Update the rule's subjects in the ledger; return the alerts and recoveries to send."""
    states = ledger.alert_states_of(report, ALERT_AUDIENCE, rule.name)
    notices = []
    seen = set()
    for obs in observations:
        seen.add(obs.subject)
        previous = states.get(obs.subject)
        was_breached = previous is not None and previous["state"] in ("breached", "notified")
        if obs.breached and not was_breached:
            notices.append(Notice(rule.name, obs.subject, "alert", obs, now))
            _set(ledger, report, rule, obs, "breached", now, since=now)
        elif obs.breached:
            _set(ledger, report, rule, obs, previous["state"], now)
        elif was_breached:
            notices.append(Notice(rule.name, obs.subject, "recovery", obs, previous["since"]))
            _set(ledger, report, rule, obs, "ok", now, since=now)
        elif previous is not None:
            _set(ledger, report, rule, obs, "ok", now)
    return notices


def _set(
    ledger: Ledger,
    report: str,
    rule: AlertRule,
    obs: Observation,
    state: str,
    now: datetime,
    since: datetime | None = None,
) -> None:
    ledger.set_alert_state(
        report=report,
        audience=ALERT_AUDIENCE,
        rule=rule.name,
        subject=obs.subject,
        state=state,
        value=obs.value,
        now=now,
        since=since,
    )


# -- sending --------------------------------------------------------------------------------


def send_notice(
    ledger: Ledger,
    report: ResolvedReport,
    delivery: DeliveryConfig,
    rule: AlertRule,
    notice: Notice,
    period: str,
) -> Notice:
    """One alert or recovery email, keyed by the breach so it goes out once."""
    from reportgen.ops.channels.email import prepare_notice

    assert delivery.smtp is not None
    obs = notice.observation
    recovered = notice.kind == "recovery"
    where = f" — {obs.segment}" if obs.segment else ""
    subject = (
        f"[reportgen] {'RECOVERED' if recovered else 'ALERT'}: {rule.name}{where}: {obs.value_text}"
    )
    prepared = prepare_notice(
        delivery.smtp,
        to=list(rule.to or delivery.owners),
        subject=subject,
        template="alert.txt.j2",
        recovered=recovered,
        rule=rule.name,
        report=report.id,
        audience=ALERT_AUDIENCE,
        period=period,
        metric=obs.metric,
        segment=obs.segment,
        value=obs.value_text,
        threshold=obs.threshold_text,
        anomaly_id=obs.anomaly_id,
        detail=obs.detail,
        since=notice.since.isoformat(timespec="seconds"),
    )
    key = SendKey(
        report.id,
        period,
        ALERT_AUDIENCE,
        f"{notice.kind}:{rule.name}:{obs.subject}:{notice.since.isoformat(timespec='seconds')}",
    )
    outcome = enqueue_and_deliver(
        ledger, key, prepared, retry=delivery.retry.model_dump(), notify=None, run_id=None
    )
    return replace(notice, outcome=outcome)


def check_alerts(
    config_path: str | Path,
    *,
    ledger: Ledger | str | None = None,
    rules: Sequence[str] | None = None,
    now: datetime | None = None,
    out_dir: str | Path = "output",
    gated: GatedCube | None = None,
) -> list[Notice]:
    """Check the report's alert rules (or the named ones) once; send what changed.

    The data comes from the build's own first stage (:func:`reportgen.build.gated_cube`):
    closed days from the cube cache, then the data-quality gate, which raises
    :class:`~reportgen.errors.DataQualityError` before any alert is judged on
    data a report would refuse. ``now`` is the check's time, for the ledger and
    for the gate's "dated after today" check. ``gated`` reuses a cube already gated.
    """
    from reportgen.build import gated_cube
    from reportgen.config.loader import load_report

    report = load_report(config_path)
    delivery = report.config.delivery
    chosen = _chosen_rules(report, rules)
    if (
        delivery is None
        or delivery.smtp is None
        or not (delivery.owners or all(r.to for r in chosen))
    ):
        raise ConfigError(
            f"report '{report.id}' has alerts but nowhere to send them",
            file=report.path,
            key="delivery",
            fix="add delivery.smtp and delivery.owners (or 'to:' on each alert)",
        )
    led = open_ledger(ledger, out_dir)
    now = now or utcnow()
    if gated is None:
        gated = gated_cube(report, None, True, now, lambda _message: None)
    sent: list[Notice] = []
    for rule in chosen:
        period, observations = _observe(report, gated, rule)
        for notice in transitions(led, report.id, rule, observations, now):
            sent.append(send_notice(led, report, delivery, rule, notice, period))
            log.info("%s %s %s", notice.kind, rule.name, notice.subject)
    return sent


def _chosen_rules(report: ResolvedReport, names: Sequence[str] | None) -> list[AlertRule]:
    rules = {r.name: r for r in report.config.alerts}
    if not names:
        return list(rules.values())
    unknown = [n for n in names if n not in rules]
    if unknown:
        raise ConfigError(
            f"unknown alert rule(s) {', '.join(unknown)} in {report.id}",
            file=report.path,
            key="alerts",
            fix=f"use one of: {', '.join(rules) or 'none defined'}",
        )
    return [rules[n] for n in names]


def _observe(
    report: ResolvedReport, gated: GatedCube, rule: AlertRule
) -> tuple[str, list[Observation]]:
    """The rule's latest complete period (of its own grain) and what it finds there.

    The gate's checks are those of the report's period; a rule of another grain
    gets its period's checks from :func:`~reportgen.figures.compute_figures`.
    """
    from reportgen.figures import Targets, compute_figures
    from reportgen.periods import latest_complete_period

    cube = gated.cube
    grain = rule.grain if rule.anomalies is None else report.config.period.grain
    period = latest_complete_period(cube.last_complete_day, grain)
    quality = gated.quality if period == gated.period else None
    figures = compute_figures(report, cube, period, Targets.load(report), quality)
    if rule.anomalies is None:
        return period.label, evaluate_metric(rule, figures)
    from reportgen.analysis.insights import analyze

    return period.label, evaluate_anomalies(rule, analyze(report, cube, figures))
