"""build_report() end to end: periods, outputs, failures that leave nothing behind."""

from __future__ import annotations

import json
import shutil

import pytest

from reportgen import build_report
from reportgen.errors import ConfigError, DataQualityError, PeriodError, SourceError


def test_default_period_is_the_latest_complete_week(weekly_config, tmp_path):
    result = build_report(weekly_config, formats=["html"], out_dir=tmp_path)
    assert result.period.label == "2026-W47"  # data runs into Wed 2026-11-25: W48 is incomplete
    assert result.figures.complete


@pytest.mark.parametrize("period", ["2026-11", "2026-Q3", "2026-11-20"])
def test_other_grains_build(weekly_config, tmp_path, period):
    result = build_report(weekly_config, period=period, formats=["html"], out_dir=tmp_path)
    assert result.period.label == period
    assert (tmp_path / "weekly_leadership" / period / "leadership" / "figures.json").is_file()


def test_artifacts_land_in_report_and_period_folder(built_report):
    folder = built_report.out_dir
    assert folder.parts[-3:] == ("weekly_leadership", "2026-W47", "leadership")
    assert sorted(p.name for p in folder.iterdir()) == [
        "figures.json",
        "weekly_leadership_2026-W47.html",
        "weekly_leadership_2026-W47.pdf",
        "weekly_leadership_2026-W47.pptx",
        "weekly_leadership_2026-W47.xlsx",
    ]


def test_period_outside_the_data_is_a_clear_error(weekly_config, tmp_path):
    with pytest.raises(PeriodError) as info:
        build_report(weekly_config, period="2019-W10", formats=["html"], out_dir=tmp_path)
    assert "outside the data" in str(info.value)
    assert "--period 2026-W47" in str(info.value)


def test_bad_period_string(weekly_config, tmp_path):
    with pytest.raises(PeriodError, match="cannot read period 'yesterday'"):
        build_report(weekly_config, period="yesterday", formats=["html"], out_dir=tmp_path)


def test_unknown_format(weekly_config, tmp_path):
    with pytest.raises(ConfigError, match="unknown output format 'docx'"):
        build_report(weekly_config, formats=["docx"], out_dir=tmp_path)


def test_failing_renderer_leaves_no_partial_artifacts(weekly_config, tmp_path, monkeypatch):
    import reportgen.render.pptx.deck as pptx_module

    def explode(document, path):
        path.write_bytes(b"half a deck")
        raise RuntimeError("disk went away")

    monkeypatch.setattr(pptx_module, "render_pptx", explode)
    with pytest.raises(Exception, match="disk went away"):
        build_report(weekly_config, period="2026-W46", formats=["html", "pptx"], out_dir=tmp_path)
    folder = tmp_path / "weekly_leadership" / "2026-W46" / "leadership"
    assert (
        list(folder.iterdir()) == []
    )  # not even the HTML that rendered fine, nor a staging folder


def test_missing_source_data_names_the_fact_and_fix(demo_configs, tmp_path):
    sources = tmp_path / "sources.yaml"
    text = (demo_configs / "sources.yaml").read_text()
    sources.write_text(text.replace("decisions/*.parquet", "nothing-here/*.parquet"))
    report = tmp_path / "report.yaml"
    report.write_text(
        (demo_configs / "reports" / "weekly_leadership.yaml")
        .read_text()
        .replace("../catalog.yaml", str(demo_configs / "catalog.yaml"))
        .replace("../sources.yaml", str(sources))
        .replace("../brands/default.yaml", str(demo_configs / "brands" / "default.yaml"))
    )
    with pytest.raises(SourceError) as info:
        build_report(report, formats=["html"], out_dir=tmp_path / "out")
    assert "fact 'decisions'" in str(info.value)
    assert "reportgen demo-data" in str(info.value)


def test_error_check_violations_stop_the_build(demo_dir, demo_configs, tmp_path):
    """A corrupted row (overturn without appeal) must not become a confident wrong number."""
    import duckdb

    bad = tmp_path / "decisions"
    bad.mkdir()
    duckdb.execute(
        f"COPY (SELECT * REPLACE (CASE WHEN decision_id % 1000 = 0 THEN TRUE ELSE overturned END AS overturned) "
        f"FROM read_parquet('{demo_dir}/decisions/*.parquet')) TO '{bad}/part-0.parquet' (FORMAT parquet)"
    )
    sources = demo_configs / "sources.yaml"
    report_dir = tmp_path / "configs"
    shutil.copytree(demo_configs, report_dir)
    shutil.copytree(demo_configs.parent / "templates", tmp_path / "templates")
    (report_dir / "sources.yaml").write_text(
        sources.read_text().replace(f"{demo_dir}/decisions/*.parquet", f"{bad}/*.parquet")
    )
    with pytest.raises(DataQualityError) as info:
        build_report(
            report_dir / "reports" / "weekly_leadership.yaml",
            formats=["html"],
            out_dir=tmp_path / "o",
        )
    assert "overturned_without_appeal" in str(info.value)
    assert not (tmp_path / "o" / "weekly_leadership").exists() or not any(
        (tmp_path / "o" / "weekly_leadership").rglob("*.*")
    )


def test_explain_prints_one_query_per_scan(weekly_config):
    from reportgen.build import explain

    queries = dict(explain(weekly_config))
    scans = {
        "decisions by decided_at",
        "staffing by day",
        "queue_snapshots by day",
        "decisions time_to_action_hours sketch by decided_at",  # quantiles' histogram
    }
    probes = {
        "decisions data-quality probe",
        "staffing data-quality probe",
        "views data-quality probe",
        "queue_snapshots data-quality probe",
    }
    assert set(queries) <= scans | probes and scans < set(queries)
    assert "GROUP BY" in queries["decisions by decided_at"]
    # the UTC day on DuckDB: integer arithmetic on the epoch (reportgen.data.engines._sql)
    assert "MAKE_TIMESTAMP(EPOCH_US(" in queries["decisions by decided_at"]
    sketch = queries["decisions time_to_action_hours sketch by decided_at"]
    assert "GROUPING SETS" in sketch
    # the periods a build shows, assigned by the instants their local days start at
    assert "WHEN decided_at < CAST(" in sketch and "AT TIME ZONE" not in sketch


def test_explain_shows_the_data_quality_probe_for_the_period(weekly_config):
    from reportgen.build import explain

    probe = dict(explain(weekly_config, "2026-W47"))["decisions data-quality probe"]
    assert "for 2026-W47" in probe
    assert "GROUP BY\n    decision_id\n  HAVING\n    COUNT(*) > 1" in probe
    assert "BETWEEN CAST('2026-11-16' AS DATE) AND CAST('2026-11-22' AS DATE)" in probe


def test_rebuild_replaces_artifacts(weekly_config, tmp_path):
    first = build_report(weekly_config, period="2026-W45", formats=["html"], out_dir=tmp_path)
    second = build_report(weekly_config, period="2026-W45", formats=["html"], out_dir=tmp_path)
    assert first.artifacts == second.artifacts
    data = json.loads(second.artifacts["figures"].read_text())
    assert data["period"]["label"] == "2026-W45"
