"""Threats to a report build, and what reportgen guarantees against each.

Report text comes from data that other systems fill (queue, site, policy and
team names from UGC tooling), templates can be replaced by users, and builds
run unattended with credentials in their environment. Each row below is one
threat, the outcome reportgen guarantees, and the test that proves it (in
this file unless another file is named).

Injection
    | threat | guaranteed outcome | test |
    | label ``<img src="file:///etc/passwd">``, ``<script>``, ``{{ 7*7 }}`` in HTML | escaped, shown as text, not evaluated | test_html_shows_hostile_labels_as_escaped_text |
    | the same labels in the PDF | shown as text; nothing fetched | test_pdf_shows_hostile_labels_as_text |
    | the same labels in the PPTX | literal text in the deck | test_pptx_shows_template_syntax_literally |
    | hostile title and labels in the email | subject and text body literal, HTML body escaped | test_email_subject_and_bodies_keep_data_literal |
    | a user template reaching for ``''.__class__.__mro__`` | RenderError naming the template, no SecurityError traceback | test_user_html_template_cannot_escape_the_sandbox |
    | the same, through ``reportgen build`` | one message, exit 1, no traceback, no artifact | test_sandbox_violation_is_one_clean_cli_message |
    | a user email template mutating its context | RenderError naming the template | test_user_email_template_cannot_mutate_its_context |
    | WeasyPrint asked for http, https, ftp, a file outside, a remote file host, a symlink that escapes | refused, a warning names the URL | test_fetcher_refuses_and_logs |
    | ``data:`` URIs (our own inlined logo) and files inside the templates/brand folders | served | test_fetcher_serves_data_uris_and_allowed_files |
    | ``<link rel=attachment>``, ``@import``, metadata-IP images in crafted HTML | no attachment, each fetch refused and logged | tests/test_render_pdf.py::test_crafted_html_* |

Text that files can't hold
    | threat | guaranteed outcome | test |
    | XML-illegal control characters in labels | PPTX re-opens, holds none of them | test_pptx_reopens_and_has_no_control_characters |
    | RTL and combining text | shown in the PDF through a fallback font | test_pdf_shows_hostile_labels_as_text |
    | emoji in labels | drawn in the PDF with a colour emoji font, not as boxes | test_pdf_draws_emoji_with_a_colour_emoji_font |
    | a 500-character label | wraps inside the PDF page and the PPTX slide | test_long_labels_stay_inside_the_pdf_page, test_long_labels_stay_inside_the_slides |
    | long emoji labels, U+2028/U+2029 in labels | charts still draw | test_chart_draws_emoji_and_separator_labels |
    | a report title over 255 characters | PPTX still written | test_long_report_title_keeps_the_deck_valid |
    | a lone surrogate escape or control character in a config file | ConfigError with its line | test_config_text_no_file_can_hold_is_refused_with_its_line |
    | the hostile deck in LibreOffice | converts (slow) | test_libreoffice_converts_the_hostile_deck |
    | random Unicode (control characters, RTL, combining marks, emoji, 600-character labels, 400-digit numbers) in every data label and the report title | valid PDF/PPTX/XLSX/HTML or a ReportgenError | tests/test_fuzz.py::test_random_labels_build_valid_files_or_fail_cleanly |

Exports are safe to open
    | threat | guaranteed outcome | test |
    | a label ``=HYPERLINK(…)`` in the workbook | a text cell, never a formula | test_formula_label_is_text_in_the_workbook |
    | the same label in the deck's chart workbooks | never a formula | test_formula_label_is_never_a_formula_in_the_deck_workbooks |
    | cells starting with =, +, -, @, tab, CR in CSV/XLSX | neutralised (quote prefix) | tests/test_render_csv.py::test_hostile_labels_are_prefixed, tests/test_render_xlsx.py::test_hostile_workbook_is_formula_free |

Configs fail clearly
    | threat | guaranteed outcome | test |
    | a YAML syntax error | ConfigError with file, line and where the construct started | tests/test_config.py::test_yaml_syntax_error_gives_line |
    | a value of the wrong type | names the key, the value found and what to write | tests/test_config.py::test_wrong_type_names_key_and_found_value |
    | an unknown key | near-miss suggestion | tests/test_config.py::test_unknown_key_suggests_the_right_one |
    | an unknown metric or dimension | near-miss suggestion | tests/test_config.py::test_unknown_metric_names_line_and_near_miss, test_unknown_dimension_in_breakdowns |
    | a circular derived metric | the chain a → b → a | tests/test_config.py::test_derived_cycle_lists_the_chain |
    | division by a measure that can be zero | fix says write nullif(divisor, 0) | tests/test_config.py::test_derived_division_by_a_measure_that_can_be_zero |
    | a bad cron expression or timezone | the five-field format; the nearest IANA zone | tests/test_config.py::test_bad_cron_names_line_and_shows_the_format, test_bad_timezone_is_rejected |
    | a missing source file | located at its sources.yaml line | tests/test_config.py::test_missing_source_file_is_located_in_the_sources_file |
    | an unreadable or corrupt template, a logo that is not an image | ConfigError naming the brand key's line | tests/test_config.py::test_unreadable_pptx_template, test_logo_that_is_not_an_image |
    | a template override with a Jinja error or a missing template | the template file and line | tests/test_config.py::test_template_override_with_jinja_syntax_error, test_template_override_missing_a_template |
    | alerts or channels naming unknown metrics or audiences | near-miss suggestion at load | tests/test_config.py::test_alert_on_unknown_metric_suggests_closest, test_channel_naming_an_unknown_audience |
    | any of these through the CLI | one paragraph, no traceback unless --verbose | tests/test_config.py::test_cli_prints_one_paragraph_without_traceback_unless_verbose |
    | random mutations of a valid report config | loads, or ConfigError with file and line | tests/test_fuzz.py::test_mutated_configs_load_or_fail_with_file_and_line |

Nothing half-done
    | threat | guaranteed outcome | test |
    | a renderer fails mid-build | no artifact, no staging folder | tests/test_build.py::test_failing_renderer_leaves_no_partial_artifacts |
    | the build is SIGKILLed mid-render | no artifact, no ledger row beyond its start record; the next build removes the hidden staging folder; the next run marks the dead run ``abandoned`` | test_killed_build_leaves_nothing_and_the_next_build_cleans_up |
    | the build is killed while swapping the CSV folder | the previous folder, set aside under a hidden name, is put back by the next build (or deleted if the new one landed) | tests/test_render_csv.py::test_a_folder_set_aside_by_a_killed_swap_is_put_back_by_the_next_build |
    | the output disk is full | DeliveryError "disk … is full" | test_full_disk_is_reported_plainly |
    | the output folder is not writable | DeliveryError "no permission to write" | test_permission_denied_is_reported_plainly, test_read_only_output_folder_is_reported_plainly |

Secrets stay secret
    | threat | guaranteed outcome | test |
    | SMTP, database, ledger and webhook credentials | in no log line, CLI output, error, figures.json, ledger, outbox, output file or --explain | test_no_secret_reaches_logs_errors_or_files |
    | a literal password in sources.yaml | refused without echoing it | test_no_secret_reaches_logs_errors_or_files |
    | an unreachable ledger database (password in $REPORTGEN_LEDGER_URL) | LedgerError, password shown as *** | test_no_secret_reaches_logs_errors_or_files |
    | a malformed webhook URL (the URL is the secret) | PermanentDeliveryError that does not quote it | test_no_secret_reaches_logs_errors_or_files |

Fuzzing (tests/test_fuzz.py, derandomized)
    | random labels and titles | valid files or a ReportgenError | tests/test_fuzz.py::test_random_labels_build_valid_files_or_fail_cleanly |
    | random config mutations | loads, or ConfigError with file and line | tests/test_fuzz.py::test_mutated_configs_load_or_fail_with_file_and_line |
"""

from __future__ import annotations

import email
import errno
import fnmatch
import io
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from email import policy
from pathlib import Path

import pytest
import yaml
from pptx import Presentation
from pptx.util import Emu

from reportgen import build_report
from reportgen.errors import DeliveryError, RenderError

from ._office import convert_to_pdf

ROOT = Path(__file__).resolve().parent.parent
CLI = (sys.executable, "-m", "reportgen.cli")
HOSTILE_TITLE = "{{ 7*7 }} <b>Hostile</b> labels"
LONG_LABEL = "L" + "ong label " * 50
HOSTILE = {
    "Hate Speech": '<img src="file:///etc/passwd">',
    "Harassment": "{{ 7*7 }} <script>alert(1)</script>",
    "Spam": '=HYPERLINK("http://127.0.0.1:1/","click")',
    "Misinformation": "معلومات مضللة — דיסאינפורמציה 🚩 e\u0301",
    "Adult Nudity": "Ctrl\x01chars\x0bhere\x1f",
    "Scams & Fraud": LONG_LABEL,
}


def hostile_project(demo_dir: Path, demo_configs: Path, root: Path) -> Path:
    """A copy of the demo project whose queue names are hostile strings; returns its report."""
    import duckdb

    data = root / "data"
    (data / "decisions").mkdir(parents=True)
    cases = " ".join(
        "WHEN queue = '{}' THEN '{}'".format(k.replace("'", "''"), v.replace("'", "''"))
        for k, v in HOSTILE.items()
    )
    duckdb.execute(
        f"COPY (SELECT * REPLACE (CASE {cases} ELSE queue END AS queue) "
        f"FROM read_parquet('{demo_dir}/decisions/*.parquet')) TO '{data}/decisions/part-0.parquet' (FORMAT parquet)"
    )
    configs = root / "configs"
    shutil.copytree(demo_configs, configs)
    shutil.copytree(demo_configs.parent / "templates", root / "templates")
    sources = configs / "sources.yaml"
    sources.write_text(
        sources.read_text().replace(
            f"{demo_dir}/decisions/*.parquet", f"{data}/decisions/*.parquet"
        )
    )
    report = configs / "reports" / "hostile.yaml"
    report.write_text(
        yaml.safe_dump({"title": HOSTILE_TITLE})
        + "metrics: [decisions, aht, qa_accuracy]\nbreakdowns: [queue]\n"
        "sections: [summary, anomalies, decomposition, metrics, significance, definitions]\n"
        "insights: {decomposition: {dimensions: [queue]}}\n"
    )
    return report


@pytest.fixture(scope="module")
def hostile_build(demo_dir, demo_configs, tmp_path_factory):
    """The demo data with queue names replaced by hostile strings, built in every format."""
    root = tmp_path_factory.mktemp("hostile")
    report = hostile_project(demo_dir, demo_configs, root)
    return build_report(
        report, period="2026-W47", formats=["pdf", "pptx", "html", "xlsx"], out_dir=root / "out"
    )


def pdf_text(path: Path) -> str:
    # poppler's pdftotext: pypdf cannot map Inter's custom-encoded subset once RTL fallbacks are in
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def deck_texts(path: Path) -> list[str]:
    texts = []
    for slide in Presentation(path).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [cell.text for row in shape.table.rows for cell in row.cells]
    return texts


# == Injection ===================================================================================


def test_html_shows_hostile_labels_as_escaped_text(hostile_build):
    html = hostile_build.artifacts["html"].read_text()
    assert (
        "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
        or "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html
    )
    assert "<script>alert(1)</script>" not in html
    assert "{{ 7*7 }}" in html  # not evaluated to 49
    assert '<img src="file:///etc/passwd">' not in html
    assert "<b>Hostile</b>" not in html and "&lt;b&gt;Hostile&lt;/b&gt;" in html


def test_pdf_shows_hostile_labels_as_text(hostile_build):
    text = pdf_text(hostile_build.artifacts["pdf"])
    assert "{{ 7*7 }}" in text
    assert "file:///etc/passwd" in text  # the label is shown, nothing was fetched
    assert "معلومات مضللة" in text  # right-to-left text survives with a fallback font
    assert "<b>Hostile</b>" in text  # the title is text, not markup


def test_pdf_draws_emoji_with_a_colour_emoji_font(hostile_build):
    """The 🚩 in a queue label is drawn with Noto Color Emoji (installed by setup), not a box."""
    fonts = subprocess.run(
        ["pdffonts", str(hostile_build.artifacts["pdf"])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Emoji" in fonts, fonts


def test_pptx_shows_template_syntax_literally(hostile_build):
    texts = "\n".join(deck_texts(hostile_build.artifacts["pptx"]))
    assert "{{ 7*7 }}" in texts
    assert HOSTILE_TITLE in texts
    assert '<img src="file:///etc/passwd">' in texts


def test_email_subject_and_bodies_keep_data_literal(hostile_build, tmp_path):
    from reportgen.config.delivery import DeliveryConfig
    from reportgen.ops.channels.email import prepare
    from reportgen.ops.manifest import content_from_build

    delivery = DeliveryConfig.model_validate(
        {
            "smtp": {"host": "127.0.0.1", "sender": "reports@example.com"},
            "channels": [{"type": "email", "to": ["vp@example.com"], "attach": []}],
        }
    )
    content = content_from_build(hostile_build, run_id=1)
    prepared = prepare(delivery.channels[0], content, delivery)
    message = email.message_from_bytes(prepared.payload, policy=policy.default)
    assert "{{ 7*7 }}" in message["Subject"] and "<b>Hostile</b>" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "{{ 7*7 }}" in text and "<b>Hostile</b>" in text  # text/plain: never read as HTML
    assert "{{ 7*7 }}" in html and "&lt;b&gt;Hostile&lt;/b&gt;" in html
    assert "<b>Hostile</b>" not in html and "<script>" not in html


def _user_templates(tmp_path: Path, kind: str, name: str, extra: str) -> Path:
    root = tmp_path / "user-templates"
    shutil.copytree(ROOT / "templates" / kind, root / kind)
    with (root / kind / name).open("a", encoding="utf-8") as handle:
        handle.write(extra)
    return root


def test_user_html_template_cannot_escape_the_sandbox(sample_document, tmp_path, monkeypatch):
    from reportgen.render.html.page import render_html

    escape = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    root = _user_templates(tmp_path, "html", "_narrative.html.j2", escape)
    monkeypatch.setenv("REPORTGEN_TEMPLATES", str(root))
    with pytest.raises(RenderError) as info:
        render_html(sample_document, for_pdf=False)
    assert type(info.value) is RenderError
    assert "_narrative.html.j2" in str(info.value) and "sandbox" in str(info.value)


def test_sandbox_violation_is_one_clean_cli_message(weekly_config, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from reportgen.cli import app

    escape = "{{ document.__class__.__init__.__globals__ }}"
    root = _user_templates(tmp_path, "html", "report.html.j2", escape)
    # the report emails, so a complete override holds the email templates too (checked at load)
    shutil.copytree(ROOT / "templates" / "email", root / "email")
    monkeypatch.setenv("REPORTGEN_TEMPLATES", str(root))
    out = tmp_path / "out"
    args = ["build", str(weekly_config), "--period", "2026-W46", "-f", "html", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert re.search(
        r"report\.html\.j2 line \d+ tried something the sandbox forbids", result.output
    )
    assert "Traceback" not in result.output and "SecurityError" not in result.output
    assert not [p for p in out.rglob("*") if p.is_file()]


def test_user_email_template_cannot_mutate_its_context(tmp_path, monkeypatch):
    from reportgen.ops.channels.email import render_template

    root = _user_templates(tmp_path, "email", "failure.txt.j2", "{{ rows.append(1) }}")
    monkeypatch.setenv("REPORTGEN_TEMPLATES", str(root))
    context = dict.fromkeys(("what", "report", "audience", "period", "when", "error"), "x")
    with pytest.raises(RenderError, match=r"failure\.txt\.j2.*sandbox"):
        render_template("failure.txt.j2", rows=[], run_id=1, next_run=None, **context)


@pytest.fixture
def allowed_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "ok.css").write_text("p { color: red }", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("api-key", encoding="utf-8")
    os.symlink(secret, folder / "innocent.css")
    return folder


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:1/",
        "https://example.com/logo.png",
        "ftp://example.com/file",
        "file:///etc/passwd",
        "file://evil.example.com/share/file",
        "symlink:innocent.css",  # a symlink inside the allowed folder pointing outside it
        "traversal:../secret.txt",
    ],
)
def test_fetcher_refuses_and_logs(allowed_dir, url, caplog, monkeypatch):
    import logging
    import socket

    from reportgen.render.html._fetcher import FetchRefused, RestrictedURLFetcher

    def no_network(*_args):
        raise AssertionError("the fetcher opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    if url.startswith("symlink:"):
        url = (allowed_dir / url.removeprefix("symlink:")).as_uri()
    elif url.startswith("traversal:"):
        url = allowed_dir.as_uri() + "/" + url.removeprefix("traversal:")
    with caplog.at_level(logging.WARNING, logger="reportgen.render"), pytest.raises(FetchRefused):
        RestrictedURLFetcher([allowed_dir]).fetch(url)
    (warning,) = [r for r in caplog.records if r.name == "reportgen.render"]
    assert warning.levelno == logging.WARNING and url in warning.getMessage()


def test_fetcher_serves_data_uris_and_allowed_files(allowed_dir):
    from reportgen.render.html._fetcher import RestrictedURLFetcher

    fetcher = RestrictedURLFetcher([allowed_dir])
    assert fetcher.fetch("data:text/plain;base64,aGVsbG8=").read() == b"hello"
    assert fetcher.fetch((allowed_dir / "ok.css").as_uri()).read() == b"p { color: red }"


# == Text that files can't hold ==================================================================


def test_pptx_reopens_and_has_no_control_characters(hostile_build):
    assert deck_texts(hostile_build.artifacts["pptx"])
    with zipfile.ZipFile(hostile_build.artifacts["pptx"]) as archive:
        xml = "".join(
            archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")
        )
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", xml)
    assert "Ctrl" in xml and "here" in xml


def test_long_labels_stay_inside_the_pdf_page(hostile_build):
    """Every word poppler finds lies inside its page: long labels wrap, tables do not overflow."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(hostile_build.artifacts["pdf"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages = out.split("<page ")[1:]
    assert pages
    seen_long = False
    for page in pages:
        width = float(re.search(r'width="([\d.]+)"', page)[1])
        for x_max, word in re.findall(r'xMax="([\d.]+)"[^>]*>([^<]*)</word>', page):
            assert float(x_max) <= width + 0.5, f"'{word}' runs off a {width}pt page"
        seen_long |= page.count(">label</word>") >= 10
    assert seen_long  # the 500-character label is there, wrapped over lines


def test_long_labels_stay_inside_the_slides(hostile_build):
    deck = Presentation(hostile_build.artifacts["pptx"])
    width, height = deck.slide_width, deck.slide_height
    for number, slide in enumerate(deck.slides, 1):
        for shape in slide.shapes:
            if shape.left is None:
                continue
            assert shape.left >= 0 and shape.top >= 0
            assert shape.left + shape.width <= width + Emu(12700), (number, shape.name)
            assert shape.top + shape.height <= height + Emu(12700), (number, shape.name)
            if shape.has_text_frame and LONG_LABEL.strip() in shape.text_frame.text:
                assert shape.text_frame.word_wrap is not False


@pytest.mark.parametrize(
    "label",
    ["🚩 flagged " * 40, "𝐌𝐚𝐭𝐡 " * 60, "line\u2028separator", "para\u2029separator"],
)
def test_chart_draws_emoji_and_separator_labels(brand, label):
    """Vega cut long emoji labels mid surrogate pair, and U+2028 broke its expressions."""
    from reportgen.document import Chart, ChartSeries
    from reportgen.render.charts.svg import chart_to_svg

    for kind in ("bar", "line"):
        chart = Chart(
            title="Decisions by queue",
            chart_type=kind,
            categories=(label, "Spam"),
            series=(ChartSeries(label, (1.0, 2.0), "primary"),),
            value_format="count",
            value_label="decisions",
            highlight=label,
        )
        assert chart_to_svg(chart, brand, width=480).startswith("<svg")


@pytest.mark.parametrize(
    ("line", "expected"),
    [('title: "\\ud800 lone surrogate"', "lone surrogate"), ("title: Ctrl\x01", "U+0001")],
)
def test_config_text_no_file_can_hold_is_refused_with_its_line(
    weekly_config, tmp_path, line, expected
):
    from reportgen.config.loader import load_report
    from reportgen.errors import ConfigError

    text = weekly_config.read_text(encoding="utf-8").replace("../", f"{weekly_config.parent}/../")
    config = tmp_path / "report.yaml"
    config.write_text(text.replace("title: Weekly T&S Operations Review", line), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_report(config)
    assert info.value.context["line"] == 2 and expected in str(info.value)


def test_long_report_title_keeps_the_deck_valid(sample_document, tmp_path):
    """python-pptx refuses core properties over 255 characters; the title is shortened there."""
    from dataclasses import replace

    from reportgen.render.pptx.deck import render_pptx

    path = tmp_path / "long.pptx"
    render_pptx(replace(sample_document, title="Weekly review " * 40), path)
    deck = Presentation(path)
    assert len(deck.core_properties.title) == 255
    assert "Weekly review " * 3 in deck.slides[0].shapes.title.text_frame.text


@pytest.mark.slow
def test_libreoffice_converts_the_hostile_deck(hostile_build, tmp_path):
    result, _ = convert_to_pdf(hostile_build.artifacts["pptx"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.glob("*.pdf"))


# == Exports are safe to open ====================================================================


def test_formula_label_is_text_in_the_workbook(hostile_build):
    from openpyxl import load_workbook

    book = load_workbook(hostile_build.artifacts["xlsx"])
    found = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and "HYPERLINK" in cell.value
    ]
    assert found
    for cell in found:
        assert cell.data_type != "f"
        assert not cell.value.startswith("=") or cell.quotePrefix


def test_formula_label_is_never_a_formula_in_the_deck_workbooks(hostile_build):
    with zipfile.ZipFile(hostile_build.artifacts["pptx"]) as archive:
        books = [n for n in archive.namelist() if n.endswith(".xlsx")]
        assert books
        for name in books:
            with zipfile.ZipFile(io.BytesIO(archive.read(name))) as book:
                for part in book.namelist():
                    if part.startswith("xl/worksheets/"):
                        assert "<f>" not in book.read(part).decode("utf-8")


# == Nothing half-done ===========================================================================


def report_copy(weekly_config: Path, path: Path, **changes: object) -> Path:
    """The shipped weekly report for one audience, without schedule and alerts, plus ``changes``."""
    data = yaml.safe_load(weekly_config.read_text(encoding="utf-8"))
    for key in ("catalog", "sources", "brand"):
        data[key] = str((weekly_config.parent / data[key]).resolve())
    for key in ("audiences", "schedule", "alerts", "delivery"):
        data.pop(key, None)
    data["id"] = "weekly_leadership"
    data["audience"] = {"name": "leadership", "label": "Leadership"}
    data.update(changes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if not p.name.startswith("."))


def test_killed_build_leaves_nothing_and_the_next_build_cleans_up(weekly_config, tmp_path):
    """SIGKILL once the build is rendering: no artifact, no ledger row beyond its start record."""
    config = report_copy(
        weekly_config,
        tmp_path / "configs" / "killed.yaml",
        delivery={  # never reached: the build is killed before any send
            "channels": [{"type": "webhook", "name": "chat", "url": "http://127.0.0.1:1/hook"}]
        },
    )
    out = tmp_path / "out"
    final = out / "weekly_leadership" / "2026-W47" / "leadership"
    log = tmp_path / "build.log"
    options = ["--period", "2026-W47", "--format", "pdf,pptx,html,xlsx", "--out", str(out)]
    with log.open("wb") as sink:
        child = subprocess.Popen(
            [*CLI, "build", str(config), *options, "--send"],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300
        while not list(final.glob(".staging-*")):
            assert child.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the build never started rendering"
            time.sleep(0.02)
        time.sleep(0.3)  # inside the renderers
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    assert _visible(final) == []  # no artifact, not even the ones already rendered
    (stale,) = final.glob(".staging-*")  # hidden, named after the dead process
    assert f"-{child.pid}-" in stale.name

    with sqlite3.connect(out / "ledger.sqlite") as db:
        db.row_factory = sqlite3.Row
        (run,) = db.execute("SELECT * FROM reportgen_runs").fetchall()
        sends = db.execute("SELECT count(*) FROM reportgen_sends").fetchone()[0]
    assert run["status"] == "running" and run["finished_at"] is None  # its start record only
    assert run["artifacts"] is None and run["error"] is None
    assert f":{child.pid}:" in run["owner"]  # the process that is gone
    assert sends == 0

    build_report(config, period="2026-W47", formats=["html"], out_dir=out)
    assert not list(final.glob(".staging-*"))  # the next build removed the dead one's folder
    assert [p.name for p in _visible(final)] == ["figures.json", "weekly_leadership_2026-W47.html"]

    from reportgen.ops.ledger import Ledger

    ledger = Ledger(f"sqlite:///{out / 'ledger.sqlite'}")
    live = ledger.start_run(report="weekly_leadership", audience="leadership", trigger="manual")
    assert ledger.close_dead_runs() == [run["id"]]  # what the next `build --send` does first
    closed = ledger.get_run(run["id"])
    assert closed["status"] == "abandoned" and "killed or crashed" in closed["error"]
    assert closed["finished_at"] is not None
    assert ledger.get_run(live)["status"] == "running"  # this process is alive: left alone


def test_full_disk_is_reported_plainly(weekly_config, tmp_path, monkeypatch):
    import reportgen.ops.staging as deliver

    real_replace = deliver.os.replace

    def full(src, dst, *args, **kwargs):  # only the output folder's disk is full
        if str(tmp_path) in str(dst):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(deliver.os, "replace", full)
    with pytest.raises(DeliveryError, match=r"disk .* is full"):
        build_report(weekly_config, period="2026-W46", formats=["html"], out_dir=tmp_path)
    assert not any(p.name.startswith(".staging") for p in tmp_path.rglob("*"))


def test_permission_denied_is_reported_plainly(weekly_config, tmp_path, monkeypatch):
    """Simulated at the OS call, so it holds when tests run as root (where chmod denies nothing)."""
    import reportgen.ops.staging as deliver

    real_mkdtemp = deliver.tempfile.mkdtemp

    def denied(*args, **kwargs):
        if str(tmp_path) in str(kwargs.get("dir", "")):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_mkdtemp(*args, **kwargs)

    monkeypatch.setattr(deliver.tempfile, "mkdtemp", denied)
    with pytest.raises(DeliveryError) as info:
        build_report(weekly_config, period="2026-W46", formats=["html"], out_dir=tmp_path)
    assert "no permission to write to" in str(info.value)
    assert "Traceback" not in str(info.value) and "Errno" not in str(info.value)
    assert _visible(tmp_path / "weekly_leadership" / "2026-W46" / "leadership") == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only folder")
def test_read_only_output_folder_is_reported_plainly(weekly_config, tmp_path):
    out = tmp_path / "out"
    out.mkdir(mode=0o500)
    try:
        with pytest.raises(DeliveryError, match="no permission to write to"):
            build_report(weekly_config, period="2026-W46", formats=["html"], out_dir=out)
    finally:
        out.chmod(0o700)


# == Secrets stay secret =========================================================================

SECRETS = {
    "RG_SEC_SMTP_USER": "smtp-U5ER-XYZ",
    "RG_SEC_SMTP_PASSWORD": "smtp-P4SS-XYZ",
    "RG_SEC_DB_PASSWORD": "S3cr3t-XYZ",
    "RG_SEC_DB_URL": "postgresql+psycopg://u:S3cr3t-URL-XYZ@127.0.0.1:1/db?sslmode=disable",
    "RG_SEC_WEBHOOK": "http://127.0.0.1:1/hooks/T0KEN-XYZ",
    "RG_SEC_WEBHOOK_TYPO": "hooks.example.com/services/T0KEN-TYPO",  # no scheme
    "REPORTGEN_LEDGER_URL": "postgresql+psycopg://u:LEDG3R-XYZ@127.0.0.1:1/ledger",
}
WRONG_PASSWORD = "smtp-WR0NG-XYZ"
#: what must appear nowhere: every password and token, and the URLs that carry them
NEEDLES = ("U5ER-XYZ", "P4SS-XYZ", "WR0NG-XYZ", "S3cr3t", "LEDG3R", "T0KEN")


class _Smtp:
    """aiosmtpd on 127.0.0.1 accepting only the fake credentials above."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == SECRETS["RG_SEC_SMTP_USER"].encode() and (
                auth_data.password == SECRETS["RG_SEC_SMTP_PASSWORD"].encode()
            )
            return AuthResult(success=ok, handled=False)

        class Handler:
            def __init__(self) -> None:
                self.messages: list[bytes] = []

            async def handle_DATA(self, server, session, envelope):
                self.messages.append(envelope.content)
                return "250 OK"

        self.handler = Handler()
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=0,
            authenticator=authenticate,
            auth_require_tls=False,
        )


@pytest.fixture
def smtp_server():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = _Smtp()
    server.controller.port = port
    server.controller.start()
    yield server.handler, port
    server.controller.stop()


def _warehouse_project(demo_configs: Path, root: Path, url: str, dialect: str | None) -> Path:
    """The weekly report reading its facts from a PostgreSQL server that is not there."""
    sources = {
        "engine": "sqlalchemy",
        "url": url,
        "facts": {
            f: {"table": f"ops.{f}"} for f in ("decisions", "staffing", "views", "queue_snapshots")
        },
    }
    if dialect:
        sources["dialect"] = dialect
    (root / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
    report = yaml.safe_load((demo_configs / "reports" / "weekly_leadership.yaml").read_text())
    for key in ("audiences", "schedule", "alerts", "delivery", "insights", "sections"):
        report.pop(key, None)
    report.update(
        catalog=str(demo_configs / "catalog.yaml"),
        brand=str(demo_configs / "brands" / "default.yaml"),
        sources=str(root / "sources.yaml"),
        metrics=["decisions", "aht"],
    )
    (root / "report.yaml").write_text(yaml.safe_dump(report), encoding="utf-8")
    return root / "report.yaml"


def test_no_secret_reaches_logs_errors_or_files(
    weekly_config, demo_configs, tmp_path, monkeypatch, caplog, smtp_server
):
    """Explain, a build, failing builds, a send, a refused login, the ledger: grep them all."""
    import logging
    import traceback

    from typer.testing import CliRunner

    from reportgen.cli import app
    from reportgen.errors import ReportgenError

    handler, port = smtp_server
    for name, value in SECRETS.items():
        if name != "REPORTGEN_LEDGER_URL":
            monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    said: list[str] = []

    def cli(*args: str, code: int) -> None:
        result = runner.invoke(app, list(args))
        said.append(f"$ reportgen {' '.join(args)}\n{result.output}")
        if result.exception and not isinstance(result.exception, SystemExit):
            said.append("".join(traceback.format_exception(result.exception)))
        assert result.exit_code == code, said[-1]

    # a warehouse that is down, its password in the URL, or the whole URL in the environment
    for folder, url, dialect in (
        ("pg-password", "postgresql+psycopg://u:${RG_SEC_DB_PASSWORD}@127.0.0.1:1/db", None),
        ("pg-url", "${RG_SEC_DB_URL}", "postgres"),
    ):
        (tmp_path / folder).mkdir()
        report = _warehouse_project(demo_configs, tmp_path / folder, url, dialect)
        cli("build", str(report), "--explain", code=0)
        assert "SELECT" in said[-1]
        cli("--verbose", "build", str(report), "--period", "2026-W47", "-f", "html", code=1)
        with pytest.raises(ReportgenError) as info:
            build_report(report, period="2026-W47", formats=["html"], out_dir=tmp_path / "o")
        said += [str(info.value), repr(info.value), repr(info.value.context)]
        said.append("".join(traceback.format_exception(info.value)))

    literal = tmp_path / "literal"
    literal.mkdir()
    report = _warehouse_project(demo_configs, literal, SECRETS["RG_SEC_DB_URL"], None)
    cli("build", str(report), code=2)  # refused, and the refusal does not echo the URL
    assert "literal password" in said[-1]

    # a real build, a send, a send the server refuses, and what the ledger then says
    out = tmp_path / "out"
    smtp = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "reports@example.com",
        "username_env": "RG_SEC_SMTP_USER",
        "password_env": "RG_SEC_SMTP_PASSWORD",
        "timeout_seconds": 5,
    }
    channels = [
        {"type": "email", "name": "mail", "to": ["vp@example.com"], "attach": ["xlsx"]},
        {"type": "webhook", "name": "chat", "url_env": "RG_SEC_WEBHOOK"},
        {"type": "webhook", "name": "chat-typo", "url_env": "RG_SEC_WEBHOOK_TYPO"},
        {"type": "webhook", "name": "chat-not-http", "url_env": "RG_SEC_WEBHOOK_SMTP"},
    ]
    monkeypatch.setenv("RG_SEC_WEBHOOK_SMTP", f"http://127.0.0.1:{port}/hooks/T0KEN-SMTP")
    delivery = {"owners": ["owner@example.com"], "smtp": smtp, "channels": channels}
    config = report_copy(weekly_config, tmp_path / "cfg" / "mail.yaml", delivery=delivery)
    ledger = f"sqlite:///{out / 'ledger.sqlite'}"
    build = ("build", str(config), "--period", "2026-W47", "-f", "html,xlsx", "--out", str(out))
    cli(*build, code=0)
    send = ("send", str(config), "--period", "2026-W47", "--out", str(out), "--ledger", ledger)
    from reportgen.ops.runs import run_report

    sent = run_report(config, period="2026-W47", out_dir=out, ledger=ledger, formats=["html"])
    said.append(repr(sent))  # email accepted; hooks unreachable, malformed, or not HTTP
    # the report and the owners' notice; queued (with the failure in its error) until the hooks settle
    assert len(handler.messages) == 2 and sent.status == "queued" and "chat-typo" in str(sent)
    assert [s.status for s in sent.sends] == ["sent", "retrying", "failed", "retrying"]
    monkeypatch.setenv("RG_SEC_SMTP_PASSWORD", WRONG_PASSWORD)
    cli(*send, "--force", "--channel", "mail", "--wait", "0", code=1)
    assert "rejected the credentials" in said[-1]
    cli("runs", "--ledger", ledger, code=0)
    cli("runs", "--ledger", ledger, "show", "1", code=0)
    monkeypatch.setenv(
        "REPORTGEN_LEDGER_URL", SECRETS["REPORTGEN_LEDGER_URL"]
    )  # a server that is down
    cli("runs", "--out", str(out), code=1)
    cli(*build, code=1)  # the build reads follow-up items from the ledger
    assert "cannot open the run ledger at postgresql+psycopg://u:***@127.0.0.1:1" in said[-1]
    monkeypatch.delenv("REPORTGEN_LEDGER_URL")

    failed = run_report(  # refused again, as a scheduled run whose owners get a notice
        config, period="2026-W47", out_dir=out, ledger=ledger, force=True, rebuild=False,
        channels=["mail"], notify_failure=True, trigger="schedule",
    )  # fmt: skip
    said.append(repr(failed))
    assert failed.status == "failed"

    logged = [
        f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("mail.log")  # the test SMTP server's own protocol trace
    ]
    with sqlite3.connect(out / "ledger.sqlite") as db:
        dump = "\n".join(db.iterdump())
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert (out / "weekly_leadership" / "2026-W47" / "leadership" / "figures.json") in files
    assert "reportgen_sends" in dump and said and logged

    for needle in NEEDLES:
        assert not [s for s in said if needle in s], needle
        assert not [line for line in logged if needle in line], needle
        assert needle not in dump, needle
        assert not [p for p, data in files.items() if needle.encode() in data], needle
        assert not [m for m in handler.messages if needle.encode() in m], needle


def test_every_test_the_threat_table_names_exists():
    """The table above is a promise: each row's last cell must name a real test."""
    rows = [line for line in (__doc__ or "").splitlines() if line.strip().startswith("| ")]
    named = [row.strip().strip("|").split("|")[-1].strip() for row in rows]
    named = [cell for cell in named if cell != "test"]
    assert len(named) > 40
    tests_dir = Path(__file__).parent
    for cell in named:
        path = ""
        for reference in cell.split(","):  # "a.py::x, y": y is in a.py too
            if "::" in reference:
                path, _, name = reference.strip().rpartition("::")
            else:
                name = reference
            source = (tests_dir.parent / path if path else Path(__file__)).read_text("utf-8")
            defined = re.findall(r"^def (test_\w+)\(", source, flags=re.MULTILINE)
            assert fnmatch.filter(defined, name.strip()), f"the threat table names no test: {cell}"
