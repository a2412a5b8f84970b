"""Branding is data: a second brand and its own PPTX master change every output."""

from __future__ import annotations

import zipfile

import pytest
from pypdf import PdfReader

from reportgen import build_report
from reportgen.config.brand import load_brand

from .conftest import CONFIGS


@pytest.fixture(scope="module")
def harbor_build(demo_configs, tmp_path_factory):
    report = demo_configs / "reports" / "harbor.yaml"
    report.write_text(
        "title: Harbor weekly\nbrand: ../brands/harbor.yaml\nmetrics: [aht, qa_accuracy]\n"
        "breakdowns: [region]\nsections: [summary, metrics]\n"
    )
    out = tmp_path_factory.mktemp("harbor")
    return build_report(report, period="2026-W47", formats=["pdf", "pptx", "html"], out_dir=out)


def deck_xml(path) -> str:
    with zipfile.ZipFile(path) as deck:
        return "\n".join(
            deck.read(n).decode("utf-8", "replace") for n in deck.namelist() if n.endswith(".xml")
        )


def test_both_shipped_brands_load_with_distinct_colours():
    default = load_brand(CONFIGS / "brands" / "default.yaml")
    harbor = load_brand(CONFIGS / "brands" / "harbor.yaml")
    assert default.primary != harbor.primary
    assert default.pptx_template != harbor.pptx_template


def test_pptx_charts_and_theme_use_the_brand(harbor_build):
    xml = deck_xml(harbor_build.artifacts["pptx"])
    assert "0B5563" in xml.upper()  # harbor primary in chart series and shapes
    assert "1F3A5F" not in xml.upper()  # nothing of the default brand
    assert 'typeface="Noto Sans"' in xml


def test_html_uses_brand_colours_and_font(harbor_build):
    html = harbor_build.artifacts["html"].read_text()
    assert "#0B5563" in html.upper()
    assert "Noto Sans" in html


def test_pdf_carries_brand_footer_classification_and_font(harbor_build):
    reader = PdfReader(harbor_build.artifacts["pdf"])
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Harbor · Trust & Safety" in text
    assert "Internal — do not forward" in text
    fonts = {
        str(font.get_object().get("/BaseFont"))
        for page in reader.pages
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values()
    }
    assert any("NotoSans" in f.replace("-", "") for f in fonts), fonts
