"""Config loading: shipped configs are valid; every mistake names file, line and fix."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from reportgen.config import load_catalog, load_report
from reportgen.errors import ConfigError

from .conftest import CONFIGS

REPORT = """\
title: Test report
metrics:
  - decisions
  - aht
breakdowns: [region]
"""


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    """A writable copy of the shipped configs folder (with the templates its brand points at)."""
    target = tmp_path / "configs"
    shutil.copytree(CONFIGS, target)
    shutil.copytree(CONFIGS.parent / "templates", tmp_path / "templates")
    return target


def write_report(configs: Path, text: str) -> Path:
    path = configs / "reports" / "test.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_report(path)
    return info.value


def test_shipped_report_loads_with_resolved_breakdowns():
    report = load_report(CONFIGS / "reports" / "weekly_leadership.yaml")
    assert report.id == "weekly_leadership"
    choices = {c.metric: c.breakdowns for c in report.metrics}
    assert choices["aht"] == ["region", "queue"]
    assert choices["throughput"] == ["region"]  # staffing has no queue dimension


def test_unknown_metric_names_line_and_near_miss(configs):
    path = write_report(configs, REPORT.replace("  - aht", "  - acuracy\n  - qa_acuracy"))
    error = error_of(path)
    assert error.context["line"] == 4
    assert "unknown metric 'acuracy'" in str(error)
    assert str(error).startswith(f"{path}:4:")


def test_unknown_metric_suggests_closest_name(configs):
    error = error_of(write_report(configs, REPORT.replace("  - aht", "  - qa_acuracy")))
    assert "did you mean 'qa_accuracy'?" in str(error)


def test_wrong_type_names_key_and_found_value(configs):
    error = error_of(write_report(configs, REPORT + "trailing_periods: many\n"))
    assert error.context["line"] == 6
    assert error.context["key"] == "trailing_periods"
    assert "'many'" in str(error)


def test_unknown_key_suggests_the_right_one(configs):
    error = error_of(write_report(configs, REPORT.replace("title:", "titel:")))
    assert "unknown key 'titel' — did you mean 'title'?" in str(error)
    assert error.context["line"] == 1


def test_nested_unknown_key_is_located(configs):
    error = error_of(write_report(configs, REPORT + "period:\n  grain: week\n  timezon: UTC\n"))
    assert error.context["line"] == 8
    assert "did you mean 'timezone'?" in str(error)


def test_yaml_syntax_error_gives_line(configs):
    error = error_of(write_report(configs, "title: [unclosed\nmetrics: [decisions]\n"))
    assert "YAML syntax error" in str(error)
    assert error.context["line"] in (1, 2, 3)


def test_missing_catalog_file_is_named(configs):
    error = error_of(write_report(configs, REPORT + "catalog: ../nope.yaml\n"))
    assert "catalog file '../nope.yaml' not found" in str(error)
    assert error.context["line"] == 6


def test_bad_timezone_is_rejected(configs):
    error = error_of(
        write_report(configs, REPORT + "period: {grain: week, timezone: Mars/Olympus}\n")
    )
    assert "unknown IANA timezone 'Mars/Olympus'" in str(error)


def test_unknown_dimension_in_breakdowns(configs):
    error = error_of(write_report(configs, REPORT.replace("[region]", "[regoin]")))
    assert "unknown dimension 'regoin' — did you mean 'region'?" in str(error)


def test_explicit_breakdown_a_metric_cannot_have(configs):
    text = "title: T\nmetrics:\n  - metric: throughput\n    breakdowns: [queue]\n"
    error = error_of(write_report(configs, text))
    assert "cannot be broken down by queue" in str(error)
    assert "region" in str(error)  # the fix lists what is possible


def test_catalog_filter_with_bad_sql_is_located(configs):
    catalog = configs / "catalog.yaml"
    text = catalog.read_text().replace("filter: NOT automated}", "filter: NOT (automated}", 1)
    catalog.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_catalog(catalog)
    assert "not a valid SQL condition" in str(info.value)
    assert info.value.context["key"].startswith("measures.manual_decisions")


def test_catalog_metric_with_unknown_measure(configs):
    catalog = configs / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("numerator: qa_correct", "numerator: qa_corect"))
    with pytest.raises(ConfigError) as info:
        load_catalog(catalog)
    assert "unknown measure 'qa_corect' — did you mean 'qa_correct'?" in str(info.value)


def test_config_errors_survive_pickling(configs):
    error = error_of(write_report(configs, REPORT.replace("  - aht", "  - acuracy")))
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is ConfigError
    assert str(clone) == str(error)


# -- derived metrics ---------------------------------------------------------------------------


def add_metrics(configs: Path, text: str) -> tuple[Path, dict[str, int]]:
    """Append metrics to the catalog; return it and the line of each new metric's formula."""
    catalog = configs / "catalog.yaml"
    before = catalog.read_text(encoding="utf-8").rstrip("\n") + "\n"
    catalog.write_text(before + text, encoding="utf-8")
    offset = before.count("\n")
    lines, current = {}, None
    for number, line in enumerate(text.splitlines(), start=offset + 1):
        if line.startswith("  ") and not line.startswith("    "):
            current = line.strip().rstrip(":")
        elif line.strip().startswith("formula:"):
            lines[current] = number
    return catalog, lines


def derived(name: str, formula: str) -> str:
    return (
        f'  {name}:\n    label: {name}\n    type: derived\n    formula: "{formula}"\n'
        "    format: decimal\n    direction: neutral\n    description: test\n"
    )


def catalog_error(catalog: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_catalog(catalog)
    return info.value


def test_derived_metric_loads_and_resolves_metric_references(configs):
    catalog, _ = add_metrics(
        configs,
        derived("per_k", "1000 * appeals / nullif(decisions, 0)")
        + derived("via", "throughput * utilization")
        + derived("per_one", "per_k / 1000"),
    )
    loaded = load_catalog(catalog)
    assert loaded.metrics["per_one"].measures == ("appeals", "decisions")
    assert loaded.metrics["per_one"].quotient.scale == pytest.approx(1.0)
    assert loaded.metrics["per_k"].measures == ("appeals", "decisions")
    assert loaded.metrics["per_k"].quotient.scale == 1000
    assert loaded.metrics["via"].measures == ("manual_decisions", "productive_hours", "paid_hours")
    assert loaded.metrics["via"].quotient is None
    assert (
        pickle.loads(pickle.dumps(loaded)).metrics["via"].measures == loaded.metrics["via"].measures
    )


def test_derived_unknown_name_suggests_closest(configs):
    catalog, lines = add_metrics(configs, derived("per_k", "1000 * apeals / nullif(decisions, 0)"))
    error = catalog_error(catalog)
    assert error.context["file"] == str(catalog)
    assert error.context["line"] == lines["per_k"]
    assert "names 'apeals', which is neither a measure nor a metric" in str(error)
    assert "did you mean 'appeals'?" in str(error)
    assert "Fix: use a name defined under 'measures:' or 'metrics:'" in str(error)


def test_derived_cycle_lists_the_chain(configs):
    catalog, lines = add_metrics(
        configs, derived("loop_a", "loop_b * 2") + derived("loop_b", "loop_a + decisions")
    )
    error = catalog_error(catalog)
    assert error.context["line"] == lines["loop_a"]
    assert "derived metric 'loop_a' is circular: loop_a → loop_b → loop_a" in str(error)
    assert "a formula cannot depend on itself" in error.fix


def test_derived_disallowed_syntax(configs):
    catalog, lines = add_metrics(configs, derived("agg", "sum(appeals) / nullif(decisions, 0)"))
    error = catalog_error(catalog)
    assert str(error).startswith(f"{catalog}:{lines['agg']}: metrics.agg.formula:")
    assert "'SUM(appeals)' is not allowed in a formula" in str(error)
    assert "+ - * /, parentheses, numbers, measure and metric names, and nullif(x, 0)" in error.fix


def test_derived_nullif_needs_zero(configs):
    catalog, lines = add_metrics(configs, derived("nz", "appeals / nullif(decisions, 1)"))
    error = catalog_error(catalog)
    assert error.context["line"] == lines["nz"]
    assert "nullif takes 0 as its second argument" in str(error)


def test_derived_division_by_a_measure_that_can_be_zero(configs):
    catalog, lines = add_metrics(configs, derived("rate", "appeals / decisions"))
    error = catalog_error(catalog)
    assert error.context["line"] == lines["rate"]
    assert "divides by 'decisions', which can be zero" in str(error)
    assert error.fix.startswith("write the divisor as nullif(decisions, 0)")
    assert "will then show no value" in error.fix


def test_derived_division_by_a_metric_or_sum_that_can_be_zero(configs):
    catalog, lines = add_metrics(
        configs,
        derived("ok", "manual_decisions / nullif(throughput, 0) / 2")
        + derived("bad", "appeals / (decisions - enforcements)"),
    )
    error = catalog_error(catalog)
    assert error.context["line"] == lines["bad"]
    assert "nullif(decisions - enforcements, 0)" in error.fix


def test_derived_constant_formula_is_rejected(configs):
    catalog, lines = add_metrics(configs, derived("two", "1 + 1"))
    error = catalog_error(catalog)
    assert error.context["line"] == lines["two"]
    assert "uses no measure" in str(error)


def test_unknown_key_inside_a_metric_suggests_that_metric_types_key(configs):
    catalog, _ = add_metrics(
        configs,
        derived("per_k", "1000 * appeals / nullif(decisions, 0)").replace("formula:", "formla:"),
    )
    error = catalog_error(catalog)
    assert "unknown key 'formla' — did you mean 'formula'?" in str(error)
    assert error.context["key"] == "metrics.per_k.formla"
    assert error.context["line"] == len(catalog.read_text().splitlines()) - 3


def test_wrong_type_inside_a_metric_points_at_the_key(configs):
    catalog, _ = add_metrics(
        configs, derived("per_k", "appeals / nullif(decisions, 0)") + "    decimals: lots\n"
    )
    error = catalog_error(catalog)
    assert error.context["key"] == "metrics.per_k.decimals"
    assert error.context["line"] == len(catalog.read_text().splitlines())
    assert "'lots'" in str(error)


# -- brand assets and template overrides that exist but cannot be used -------------------------


def brand_line(configs: Path, key: str) -> int:
    lines = (configs / "brands" / "default.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.startswith(f"{key}:"))


def test_pptx_template_that_is_not_a_pptx(configs):
    (configs.parent / "templates" / "pptx" / "default.pptx").write_text("not a deck")
    error = error_of(write_report(configs, REPORT))
    assert error.context["file"] == str(configs / "brands" / "default.yaml")
    assert error.context["line"] == brand_line(configs, "pptx_template")
    assert "pptx_template file '../../templates/pptx/default.pptx' is not a PowerPoint .pptx" in (
        str(error)
    )
    assert "save the master from PowerPoint as a .pptx presentation" in error.fix


def test_pptx_template_that_is_corrupt(configs):
    template = configs.parent / "templates" / "pptx" / "default.pptx"
    data = bytearray(template.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\0" * 64
    template.write_bytes(bytes(data))
    error = error_of(write_report(configs, REPORT))
    assert error.context["line"] == brand_line(configs, "pptx_template")
    assert "corrupt" in str(error) or "not a PowerPoint .pptx package" in str(error)


def test_pptx_template_that_is_a_template_not_a_presentation(configs):
    import zipfile

    template = configs.parent / "templates" / "pptx" / "default.pptx"
    with zipfile.ZipFile(template, "w") as package:
        package.writestr("[Content_Types].xml", "<Types>presentationml.template.main+xml</Types>")
    error = error_of(write_report(configs, REPORT))
    assert "is not a .pptx presentation" in str(error)


def test_unreadable_pptx_template(configs, monkeypatch):
    template = (configs.parent / "templates" / "pptx" / "default.pptx").resolve()
    real = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self == template:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    error = error_of(write_report(configs, REPORT))
    assert error.context["line"] == brand_line(configs, "pptx_template")
    assert "cannot be read (Permission denied)" in str(error)
    assert "make it readable" in error.fix


def test_logo_that_is_not_an_image(configs):
    (configs.parent / "templates" / "brand" / "default" / "logo.svg").write_text("hello")
    error = error_of(write_report(configs, REPORT))
    assert error.context["line"] == brand_line(configs, "logo")
    assert "logo file '../../templates/brand/default/logo.svg' is not an SVG, PNG" in str(error)
    assert "readable SVG, PNG" in error.fix


@pytest.fixture
def template_override(configs, monkeypatch) -> Path:
    folder = configs.parent / "override"
    shutil.copytree(configs.parent / "templates", folder)
    monkeypatch.setenv("REPORTGEN_TEMPLATES", str(folder))
    return folder


def test_template_override_with_jinja_syntax_error(configs, template_override):
    broken = template_override / "html" / "_table.html.j2"
    lines = broken.read_text().splitlines()
    lines.insert(2, "{{ value | }}")
    broken.write_text("\n".join(lines) + "\n")
    error = error_of(write_report(configs, REPORT))
    assert error.context["file"] == str(broken)
    assert error.context["line"] == 3
    assert "Jinja syntax error in template html/_table.html.j2" in str(error)
    assert "correct the template near that line" in error.fix


def test_template_override_missing_a_template(configs, template_override):
    (template_override / "html" / "_row.html.j2").unlink()
    error = error_of(write_report(configs, REPORT))
    assert error.context["file"] == str(template_override / "html" / "_row.html.j2")
    assert "lacks html/_row.html.j2" in str(error)
    assert error.fix.startswith("copy it from the repository: cp ")


def test_template_override_needs_email_templates_only_when_emailing(configs, template_override):
    (template_override / "email" / "alert.txt.j2").unlink()
    load_report(write_report(configs, REPORT))  # no delivery: email templates are not needed
    error = error_of(configs / "reports" / "weekly_leadership.yaml")
    assert "lacks email/alert.txt.j2" in str(error)


# -- alerts, channels, schedules, sources; the CLI prints one paragraph -----------------------


def weekly(configs: Path, old: str, new: str) -> Path:
    """The shipped weekly report with one edit, saved as test.yaml; return its path."""
    text = (configs / "reports" / "weekly_leadership.yaml").read_text()
    assert old in text
    return write_report(configs, text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_alert_on_unknown_metric_suggests_closest(configs):
    path = weekly(configs, "metric: sla_attainment", "metric: sla_atainment")
    error = error_of(path)
    assert error.context["line"] == line_of(path, "metric: sla_atainment")
    assert "checks metric 'sla_atainment', which the report does not show" in str(error)
    assert "did you mean 'sla_attainment'?" in str(error)
    assert "use one of the report's metrics" in error.fix


def test_alert_split_by_a_dimension_that_is_not_a_breakdown(configs):
    path = weekly(configs, "    by: region", "    by: regoin")
    error = error_of(path)
    assert error.context["line"] == line_of(path, "by: regoin")
    assert "did you mean 'region'?" in str(error)
    assert "omit 'by'" in error.fix


def test_alert_on_anomalies_of_unknown_metric(configs):
    path = weekly(configs, "anomalies: {min_z: 6}", "anomalies: {min_z: 6, metrics: [acuracy]}")
    error = error_of(path)
    assert error.context["line"] == line_of(path, "metrics: [acuracy]")
    assert "anomalies of metric 'acuracy'" in str(error) and "'qa_accuracy'" in str(error)


def test_alert_names_must_be_unique(configs):
    path = weekly(configs, "name: high_severity_anomaly", "name: sla_attainment_low")
    error = error_of(path)
    assert error.context["line"] == line_of(path, "  - name: sla_attainment_low") + 6
    assert "alert name 'sla_attainment_low' is used twice" in str(error)


def test_channel_naming_an_unknown_audience(configs):
    path = weekly(configs, "audiences: [leadership]", "audiences: [leadrship]")
    error = error_of(path)
    assert error.context["line"] == line_of(path, "audiences: [leadrship]")
    assert "channel 'leadership-email' names audience 'leadrship'" in str(error)
    assert "did you mean 'leadership'?" in str(error)
    assert "'name:' of one of the report's audiences" in error.fix


def test_bad_cron_names_line_and_shows_the_format(configs):
    path = weekly(configs, 'cron: "0 7 * * MON"', 'cron: "0 7 * MON"')
    error = error_of(path)
    assert error.context["line"] == line_of(path, 'cron: "0 7 * MON"')
    assert "'0 7 * MON' is not a 5-field crontab" in str(error)
    assert "minute hour day-of-month month day-of-week" in error.fix


def test_bad_cron_field_value(configs):
    error = error_of(weekly(configs, 'cron: "0 7 * * MON"', 'cron: "0 25 * * MON"'))
    assert "invalid crontab '0 25 * * MON'" in str(error)


def test_bad_schedule_timezone_suggests_the_zone(configs):
    path = weekly(configs, "timezone: America/Los_Angeles\n", "timezone: America/Los_Angels\n")
    error = error_of(path)
    assert error.context["line"] == line_of(path, "America/Los_Angels")
    assert "did you mean 'America/Los_Angeles'" in str(error)
    assert "zoneinfo.available_timezones()" in error.fix


def test_wrong_type_fix_says_what_to_write(configs):
    error = error_of(write_report(configs, REPORT + "trailing_periods: many\n"))
    assert error.fix == "write a whole number (no quotes, no unit)"


def test_yaml_syntax_error_names_where_the_construct_started(configs):
    text = "title: T\nsubtitle: [unclosed\ncatalog: ../catalog.yaml\nmetrics: [decisions]\n"
    error = error_of(write_report(configs, text))
    assert error.context["line"] == 3
    assert "flow sequence that starts on line 2" in str(error)


def test_missing_source_file_is_located_in_the_sources_file(configs):
    from reportgen.config.loader import check_source_files

    report = load_report(configs / "reports" / "weekly_leadership.yaml")
    sources = configs / "sources.yaml"
    with pytest.raises(ConfigError) as info:
        check_source_files(report)  # the copied configs point at ../data/demo, not generated here
    error = info.value
    assert error.context["file"] == str(sources)
    assert error.context["line"] == line_of(sources, "decisions: {path:")
    assert error.context["key"] == "facts.decisions.path"
    assert "run `reportgen demo-data`" in error.fix


def test_cli_prints_one_paragraph_without_traceback_unless_verbose(configs):
    from typer.testing import CliRunner

    from reportgen.cli import app

    path = weekly(configs, "metric: sla_attainment", "metric: sla_atainment")
    quiet = CliRunner().invoke(app, ["build", str(path), "-o", str(configs.parent / "out")])
    assert quiet.exit_code == 2
    assert f"{path}:{line_of(path, 'sla_atainment')}:" in quiet.output
    assert "Fix:" in quiet.output and "Traceback" not in quiet.output
    verbose = CliRunner().invoke(app, ["-v", "build", str(path), "-o", str(configs.parent / "out")])
    assert verbose.exit_code == 2
    assert "Traceback" in verbose.output


def test_cli_build_names_the_sources_line_of_missing_data(configs):
    from typer.testing import CliRunner

    from reportgen.cli import app

    result = CliRunner().invoke(
        app, ["build", str(configs / "reports" / "weekly_leadership.yaml"), "-o", str(configs)]
    )
    assert result.exit_code == 2
    assert f"{configs / 'sources.yaml'}:" in result.output
    assert "no data file matches" in result.output and "Traceback" not in result.output


def test_decomposing_a_derived_metric_that_is_not_a_quotient(configs):
    add_metrics(configs, derived("via", "throughput * utilization"))
    text = (
        REPORT.replace("  - aht", "  - via") + "insights:\n  decomposition:\n    metrics: [via]\n"
    )
    path = write_report(configs, text)
    error = error_of(path)
    assert error.context["line"] == line_of(path, "metrics: [via]")
    assert "derived metric 'via' cannot be decomposed" in str(error)
    assert "write its formula as one division" in error.fix


def test_deep_dive_regression_naming_an_unknown_metric(configs):
    path = weekly(
        configs,
        "predictors: [aht, high_severity_exposure]",
        "predictors: [aht, high_severity_exposur]",
    )
    error = error_of(path)
    assert error.context["line"] == line_of(path, "predictors: [aht, high_severity_exposur]")
    assert error.context["key"] == "insights.deep_dive.regression.predictors.1"
    assert "did you mean 'high_severity_exposure'?" in str(error)


def test_deep_dive_tukey_needs_a_mean_metric(configs):
    path = weekly(configs, "tukey: [aht]", "tukey: [qa_accuracy]")
    error = error_of(path)
    assert error.context["line"] == line_of(path, "tukey: [qa_accuracy]")
    assert "'qa_accuracy' is a proportion metric" in str(error)


def test_a_suggestion_ends_its_sentence_with_the_question_mark_alone():
    from reportgen.errors import ConfigError

    error = ConfigError("unknown metric 'acuracy' — did you mean 'accuracy'?", fix="rename it.")
    assert str(error) == "unknown metric 'acuracy' — did you mean 'accuracy'? Fix: rename it."
