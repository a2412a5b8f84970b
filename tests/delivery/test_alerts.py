"""Alert rules: one email per breach, a recovery notice when it clears, anomalies once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from reportgen.config import load_report
from reportgen.config.delivery import AlertRule
from reportgen.data.cache_status import cache_status
from reportgen.errors import DataQualityError
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
#: a check the morning after the demo data's last (partial) day, 2026-11-25
AFTER_DATA = datetime(2026, 11, 26, 8, tzinfo=UTC)


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
    first = check_alerts(config, ledger=ledger, now=AFTER_DATA)
    again = check_alerts(config, ledger=ledger, now=AFTER_DATA + timedelta(hours=1))

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


def _sources_with_cache(demo_configs: Path, cache_dir: Path, folder: Path) -> Path:
    """The demo's sources.yaml with absolute data paths and its own cube cache folder."""
    sources = yaml.safe_load((demo_configs / "sources.yaml").read_text(encoding="utf-8"))
    for entry in [*sources["facts"].values(), sources["targets"]]:
        entry["path"] = str((demo_configs / entry["path"]).resolve())
    sources["cache_dir"] = str(cache_dir)
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(sources), encoding="utf-8")
    return path


def test_alert_check_reads_its_cube_through_the_cube_cache(
    smtp, make_config, demo_configs, tmp_path
):
    """Alerts use the build's cube stage: a check fills the cache the next build reads."""
    cache = tmp_path / "cube-cache"
    sources = _sources_with_cache(demo_configs, cache, tmp_path)
    rule = {"name": "sla_low", "metric": "sla_attainment", "below": 0.97, "by": "region"}
    config = make_config(smtp.port, alerts=[{**rule, "schedule": DAILY}], sources=str(sources))
    assert not cache.exists()

    check_alerts(config, ledger=f"sqlite:///{tmp_path / 'ledger.sqlite'}", now=AFTER_DATA)

    additive = [row for row in cache_status(load_report(config)) if "#" not in row.group]
    assert additive and all(row.files > 0 and row.cached != "nothing" for row in additive)


def test_alert_check_stops_at_the_data_quality_gate(smtp, make_config, tmp_path):
    """Data a build would refuse (here: rows dated after the check) raises; nothing is sent."""
    rule = {"name": "sla_low", "metric": "sla_attainment", "below": 0.97, "by": "region"}
    config = make_config(smtp.port, alerts=[{**rule, "schedule": DAILY}])
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"

    with pytest.raises(DataQualityError, match="dated after today"):
        check_alerts(config, ledger=ledger, now=T0)  # the demo data runs to 2026-11-25

    assert smtp.to(OWNER) == []
