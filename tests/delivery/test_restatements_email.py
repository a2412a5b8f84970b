"""A figure restated since the report that was *sent* is news in the next email."""

from __future__ import annotations

import email
import json
import shutil
from datetime import UTC, datetime
from email import policy
from functools import partial

import duckdb

from reportgen import build_report
from reportgen.ops.runs import run_report

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def test_the_email_names_what_changed_since_the_sent_report(
    smtp, make_config, demo_dir, demo_configs, tmp_path
):
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    sources = tmp_path / "sources.yaml"
    text = (demo_configs / "sources.yaml").read_text().replace(str(demo_dir), str(data))
    sources.write_text(text, encoding="utf-8")
    config = make_config(
        smtp.port,
        channels=[{"type": "email", "name": "leaders", "to": ["vp@example.com"], "attach": []}],
        sources=str(sources),
        metrics=["overturn_rate", "aht"],
        trailing_periods=4,
        sections=["summary"],
        outputs=["html"],
        insights={},
    )
    out = tmp_path / "out"
    run = partial(
        run_report,
        config,
        out_dir=out,
        formats=["html"],
        now=NOW,
        builder=partial(build_report, cache=False),  # about restatements, not the cube cache
    )
    sent = run(period="2026-W46")
    assert sent.status == "succeeded"

    files = sorted((data / "decisions").glob("*.parquet"))
    week = "decided_at >= TIMESTAMPTZ '2026-11-02' AND decided_at < TIMESTAMPTZ '2026-11-09'"
    late = f"{week} AND action IN ('remove', 'restrict') AND decision_id % 7 = 0"
    duckdb.sql(
        f"COPY (SELECT * REPLACE (appealed OR ({late}) AS appealed, overturned OR ({late}) "
        f"AS overturned) FROM read_parquet({[str(f) for f in files]})) "
        f"TO '{data / 'decisions' / 'late.tmp'}' (FORMAT parquet)"
    )
    for f in files:
        f.unlink()
    (data / "decisions" / "late.tmp").rename(data / "decisions" / "part-00000.parquet")
    # a build that is never sent does not replace what readers were sent as the reference
    build_report(config, period="2026-W46", formats=["html"], out_dir=out, now=NOW, cache=False)

    result = run(period="2026-W47")
    restated = json.loads(result.artifacts["figures"].read_text())["restatements"]
    (w45,) = [r for r in restated if r["metric"] == "overturn_rate"]
    assert (w45["period"], w45["sent"], w45["shown_in_run"]) == ("2026-W45", True, sent.run_id)
    assert w45["cause"] == "late appeals"
    message = email.message_from_bytes(smtp.messages[-1].data, policy=policy.default)
    body = message.get_body(("plain",)).get_content()
    assert "Appeal overturn rate, 2026-W45:" in body
    assert f"(sent 25 Nov, run {sent.run_id})" in body and "likely late appeals" in body
