"""Alert rules: one email per breach, a recovery notice when it clears, anomalies once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reportgen.config import load_report
from reportgen.config.delivery import AlertRule
from reportgen.ops.alerts import (
    Observation,
    check_alerts,
    evaluate_anomalies,
    send_notice,
    transitions,
)
from reportgen.ops.ledger import Ledger

from .conftest import OWNER

DAILY = {"cron": "0 8 * * *", "timezone": "Europe/Dublin"}
T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def obs(breached: bool, value: float) -> Observation:
    return Observation(
        subject="region=Europe",
        breached=breached,
        value=value,
        value_text=f"{value:.1%}",
        metric="SLA attainment",
        segment="region Europe",
        threshold_text="below 90.0%",
    )


def test_alert_once_per_breach_then_a_recovery(smtp, make_config, tmp_path):
    rule_data = {"name": "sla_low", "metric": "sla_attainment", "below": 0.9, "by": "region"}
    config = make_config(smtp.port, alerts=[{**rule_data, "schedule": DAILY}])
    report = load_report(config)
    rule = report.config.alerts[0]
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    checks = [(True, 0.85), (True, 0.84), (False, 0.93), (False, 0.95), (True, 0.80)]
    kinds = []
    for day, (breached, value) in enumerate(checks):
        now = T0 + timedelta(days=day)
        for notice in transitions(ledger, report.id, rule, [obs(breached, value)], now):
            send_notice(ledger, report, report.config.delivery, rule, notice, f"2026-11-{20 + day}")
            kinds.append((day, notice.kind))

    assert kinds == [(0, "alert"), (2, "recovery"), (4, "alert")]
    mails = [m.data.decode() for m in smtp.to(OWNER)]
    assert len(mails) == 3
    assert "ALERT: sla_low" in mails[0] and "Segment:   region Europe" in mails[0]
    assert "Value:     85.0%" in mails[0] and "Threshold: below 90.0%" in mails[0]
    assert "RECOVERED: sla_low" in mails[1] and "93.0%" in mails[1]


def test_metric_rule_on_demo_data_names_each_breaching_region_once(smtp, make_config, tmp_path):
    rule = {"name": "sla_low", "metric": "sla_attainment", "below": 0.97, "by": "region"}
    config = make_config(smtp.port, alerts=[{**rule, "grain": "week", "schedule": DAILY}])
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    first = check_alerts(config, ledger=ledger, now=T0)
    again = check_alerts(config, ledger=ledger, now=T0 + timedelta(days=1))

    assert first and again == []
    assert all(n.kind == "alert" and n.observation.value < 0.97 for n in first)
    assert len(smtp.to(OWNER)) == len(first)
    text = smtp.to(OWNER)[0].data.decode()
    assert "Metric:    SLA attainment" in text and "Threshold: below 97.0%" in text


def test_anomaly_rule_alerts_each_new_anomaly_once(built_report, tmp_path):
    rule = AlertRule.model_validate(
        {"name": "high_sev", "anomalies": {"min_z": 0.1, "sentiment": "any"}, "schedule": DAILY}
    )
    found = evaluate_anomalies(rule, built_report.insights)
    assert found and all(o.anomaly_id and o.subject == o.anomaly_id for o in found)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    first = transitions(ledger, "weekly_leadership", rule, found, T0)
    again = transitions(ledger, "weekly_leadership", rule, found, T0 + timedelta(days=1))
    assert len(first) == len(found) and again == []
