"""The CLI is a thin layer: options in, one library call, clean messages and exit codes out."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reportgen.cli import app

from .conftest import CONFIGS

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_validate_accepts_the_shipped_configs():
    result = run("validate", str(CONFIGS / "reports" / "weekly_leadership.yaml"))
    assert result.exit_code == 0
    assert "13 metrics" in result.output


def test_validate_reports_file_line_and_fix(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"title: X\ncatalog: {CONFIGS / 'catalog.yaml'}\nsources: {CONFIGS / 'sources.yaml'}\n"
        f"brand: {CONFIGS / 'brands' / 'default.yaml'}\nmetrics: [qa_acuracy]\n"
    )
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:5" in result.output
    assert "did you mean 'qa_accuracy'?" in result.output
    assert "Traceback" not in result.output


def test_metrics_lists_the_catalog_as_json():
    result = run("metrics", "--catalog", str(CONFIGS / "catalog.yaml"), "--json")
    assert result.exit_code == 0
    catalog = json.loads(result.output)
    assert catalog["aht"]["type"] == "mean"
    assert catalog["qa_accuracy"]["numerator"] == "qa_correct"


def test_schema_prints_json_schema_of_a_report():
    result = run("schema", "report")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "metrics" in schema["properties"]
    assert schema["additionalProperties"] is False


def test_build_with_bad_period_exits_2_with_one_paragraph(weekly_config):
    result = run("build", str(weekly_config), "--period", "2026-W99")
    assert result.exit_code == 2
    assert "not a valid period" in result.output
    assert "Traceback" not in result.output


def test_build_explain_prints_sql_and_builds_nothing(weekly_config, tmp_path):
    result = run("build", str(weekly_config), "--explain", "--out", str(tmp_path))
    assert result.exit_code == 0
    assert "GROUP BY" in result.output
    assert not any(tmp_path.iterdir())


def test_build_prints_artifact_paths(weekly_config, tmp_path):
    result = run(
        "--quiet",
        "build",
        str(weekly_config),
        "--period",
        "2026-W44",
        "--format",
        "html",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    html = (
        tmp_path
        / "weekly_leadership"
        / "2026-W44"
        / "leadership"
        / "weekly_leadership_2026-W44.html"
    )
    assert str(html) in result.output
    assert html.is_file()


def test_build_makes_every_format_of_a_repeated_or_comma_separated_option(weekly_config, tmp_path):
    result = run(
        "--quiet",
        "build",
        str(weekly_config),
        "--period",
        "2026-W44",
        "-f",
        "csv",
        "--format",
        "html,csv",
        "-f",
        "html",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "weekly_leadership" / "2026-W44" / "leadership"
    assert (folder / "weekly_leadership_2026-W44.html").is_file()
    assert (folder / "weekly_leadership_2026-W44_csv").exists(), sorted(folder.iterdir())


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.startswith("reportgen ")
