"""Hostile and broken data values: labels from UGC systems cannot break out of any output."""

from __future__ import annotations

import errno
import shutil
import subprocess
import zipfile

import pytest
from pptx import Presentation

from reportgen import build_report
from reportgen.errors import DeliveryError

HOSTILE = {
    "Hate Speech": '<img src="file:///etc/passwd">',
    "Harassment": "{{ 7*7 }} <script>alert(1)</script>",
    "Spam": '=HYPERLINK("http://127.0.0.1:1/","click")',
    "Misinformation": "معلومات مضللة — דיסאינפורמציה 🚩 e\u0301",
    "Adult Nudity": "Ctrl\x01chars\x0bhere\x1f",
    "Scams & Fraud": "L" + "ong label " * 50,
}


@pytest.fixture(scope="module")
def hostile_build(demo_dir, demo_configs, tmp_path_factory):
    """The demo data with queue names replaced by hostile strings, built in every format."""
    import duckdb

    root = tmp_path_factory.mktemp("hostile")
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
        "title: Hostile labels\nmetrics: [decisions, aht, qa_accuracy]\nbreakdowns: [queue]\n"
        "sections: [summary, anomalies, decomposition, metrics, significance, definitions]\n"
        "insights: {decomposition: {dimensions: [queue]}}\n"
    )
    return build_report(
        report, period="2026-W47", formats=["pdf", "pptx", "html"], out_dir=root / "out"
    )


def test_html_shows_hostile_labels_as_escaped_text(hostile_build):
    html = hostile_build.artifacts["html"].read_text()
    assert (
        "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
        or "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html
    )
    assert "<script>alert(1)</script>" not in html
    assert "{{ 7*7 }}" in html  # not evaluated to 49
    assert '<img src="file:///etc/passwd">' not in html


def test_pdf_renders_hostile_labels_as_text(hostile_build):
    # poppler's pdftotext: pypdf cannot map Inter's custom-encoded subset once RTL fallbacks are in
    text = subprocess.run(
        ["pdftotext", str(hostile_build.artifacts["pdf"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "{{ 7*7 }}" in text
    assert "file:///etc/passwd" in text  # the label is shown, nothing was fetched
    assert "معلومات مضللة" in text  # right-to-left text survives with a fallback font


def test_pptx_reopens_and_has_no_control_characters(hostile_build):
    deck = Presentation(hostile_build.artifacts["pptx"])
    texts = [
        run.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
        for paragraph in shape.text_frame.paragraphs
        for run in paragraph.runs
    ]
    assert texts
    with zipfile.ZipFile(hostile_build.artifacts["pptx"]) as archive:
        xml = "".join(
            archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")
        )
    assert "\x01" not in xml and "\x0b" not in xml and "\x1f" not in xml
    assert "Ctrlcharshere" in xml or "Ctrl chars here" in xml or "Ctrl" in xml


@pytest.mark.slow
def test_libreoffice_converts_the_hostile_deck(hostile_build, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(hostile_build.artifacts["pptx"]),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.glob("*.pdf"))


def test_formula_label_is_never_a_formula_in_the_deck_workbooks(hostile_build):
    with zipfile.ZipFile(hostile_build.artifacts["pptx"]) as archive:
        books = [n for n in archive.namelist() if n.endswith(".xlsx")]
        assert books
        import io

        for name in books:
            with zipfile.ZipFile(io.BytesIO(archive.read(name))) as book:
                for part in book.namelist():
                    if part.startswith("xl/worksheets/"):
                        assert "<f>" not in book.read(part).decode("utf-8")


def test_full_disk_is_reported_plainly(weekly_config, tmp_path, monkeypatch):
    import reportgen.deliver as deliver

    real_replace = deliver.os.replace

    def full(src, dst, *args, **kwargs):  # only the output folder's disk is full
        if str(tmp_path) in str(dst):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(deliver.os, "replace", full)
    with pytest.raises(DeliveryError, match=r"disk .* is full"):
        build_report(weekly_config, period="2026-W46", formats=["html"], out_dir=tmp_path)
    assert not any(p.name.startswith(".staging") for p in tmp_path.rglob("*"))
