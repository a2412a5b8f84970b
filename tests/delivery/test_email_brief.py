"""The mobile-first report email: bottom line, at most six cards with CID trend images, the link.

Sent through a real SMTP server (aiosmtpd) from the session's W47 leadership
build; the cards are checked against the figures the build wrote
(figures.json) and the trend images against the metric's own series.
"""

from __future__ import annotations

import email
import json
import re
import struct
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from reportgen.ops.runs import run_report

JARGON = re.compile(r"\bp\s*[=<]|\bq[- ]value|robust z|\bLMDI\b|Benjamini|z-score", re.I)


@pytest.fixture
def message(smtp, make_config, copy_builder, tmp_path) -> EmailMessage:
    run_report(
        make_config(smtp.port),
        period="2026-W47",
        out_dir=tmp_path / "out",
        ledger=f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        builder=copy_builder,
    )
    (received,) = smtp.messages
    return email.message_from_bytes(received.data, policy=policy.default)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def figures(built_report) -> dict:
    return json.loads(Path(built_report.artifacts["figures"]).read_text(encoding="utf-8"))


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def images_of(message: EmailMessage) -> dict[str, EmailMessage]:
    return {
        part["Content-ID"].strip().strip("<>"): part
        for part in message.walk()
        if part.get_content_type() == "image/png"
    }


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def card_labels(html: str) -> list[str]:
    return re.findall(
        r'<div class="card".*?<div style="font-size:14px;[^"]*">([^<]+)</div>', html, re.S
    )


def test_each_cid_in_the_html_is_an_inline_png_part_beside_it(message):
    html = html_of(message)
    sources = re.findall(r'<img src="([^"]+)"', html)
    images = images_of(message)

    assert sources and all(s.startswith("cid:") for s in sources)
    assert {s.removeprefix("cid:") for s in sources} == set(images)
    related = next(p for p in message.walk() if p.get_content_type() == "multipart/related")
    assert next(p.get_content_type() for p in related.iter_parts()) == "text/html"
    for part in images.values():
        assert part.get_content_disposition() == "inline"
        assert png_size(part.get_content()) == (480, 120)  # 240 × 60 CSS px at 2×
    assert "http" not in " ".join(sources)
    assert not re.search(r"src=\"https?:", html) and "url(" not in html


def test_cards_are_the_missed_or_unusual_kpis_at_most_six(message, figures):
    metrics = figures["metrics"]
    missed = {m["label"] for m in metrics.values() if m["target_met"] is False}
    unusual = {
        metrics[a["metric"]]["label"]
        for a in figures["insights"]["anomalies"]
        if a["dimension"] is None and a["period"] == "2026-W47" and not a.get("small_sample")
    }
    labels = card_labels(html_of(message))

    assert 0 < len(labels) <= 6
    assert set(labels) <= missed | unusual
    assert set(labels[: len(missed)]) == missed  # a missed target comes first (5 ≤ 6 here)
    assert len(images_of(message)) == len(labels)  # one trend each


def test_the_bottom_line_comes_first_and_no_p_values(message, figures):
    html, text = html_of(message), message.get_body(("plain",)).get_content()
    brief = [s for s in figures["stories"] if s["in_brief"]]

    assert html.index("The bottom line") < html.index("Needs attention")
    assert text.splitlines()[2].startswith("This week: ")
    for story in brief:
        assert story["title"].rstrip(".") in text
    assert not JARGON.search(text) and not JARGON.search(html)
    assert "https://reports.example.com/weekly_leadership/2026-W47/leadership/" in html


def test_a_trend_image_follows_the_metric_series(built_report):
    """The line's shape is the metric's own series: the highest value is drawn highest."""
    from reportgen.ops.channels._trend_images import HEIGHT, WIDTH, trend_spec

    series = [p.value for p in built_report.figures.metrics["aht"].series][-13:]
    spec = trend_spec(series, 57.0, line="#5F6B7A", last="#C0392B", background="#FFFFFF")

    assert (spec["width"], spec["height"]) == (WIDTH, HEIGHT)
    line = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "line")
    assert line["encoding"]["y"]["field"] == "v"
    assert [row["v"] for row in spec["data"]["values"]] == series
    low, high = line["encoding"]["y"]["scale"]["domain"]
    assert low < min(*series, 57.0) and high > max(*series, 57.0)


def test_a_trend_image_shades_the_normal_range_the_reports_chart_shows(built_report, figures):
    """The card's band is the band figures.json writes on each series point."""
    from reportgen.ops.channels._email_brief import _trend
    from reportgen.ops.channels._trend_images import trend_spec

    trend = _trend(built_report, "aht")
    points = [p for p in figures["metrics"]["aht"]["series"] if p["value"] is not None][-13:]
    assert trend["periods"] == [p["period"] for p in points]
    for drawn, point in zip(trend["band"], points, strict=True):
        band = point["expected_band"]
        assert drawn == (None if band is None else [band["low"], band["high"]])
    spec = trend_spec(
        trend["values"],
        57.0,
        line="#5F6B7A",
        last="#C0392B",
        background="#FFFFFF",
        band=trend["band"],
    )
    area = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "area")
    assert spec["layer"].index(area) == 0  # under the line and the target
    shaded = {row["i"] for row in area["data"]["values"]}
    assert shaded == {i for i, b in enumerate(trend["band"]) if b is not None}
    for row in area["data"]["values"]:
        low, high = trend["band"][row["i"]]
        assert low <= row["lo"] <= row["hi"] <= high


def test_the_card_caption_names_the_shaded_normal_range(message):
    assert "shaded: normal range" in html_of(message)


def test_one_column_on_a_phone(message):
    """Cards are inline-blocks at most 284 px wide: two need 568 px, so below 480 px they stack
    even where a client drops the <style>, which only widens a lone card to the column."""
    html = html_of(message)
    widths = re.findall(r'<div class="card" style="[^"]*max-width:(\d+)px', html)
    assert widths and all(2 * int(w) > 480 for w in widths)
    (style,) = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert "(max-width: 620px) { div.card { display: block" in style


#: What a phone must not split at a line end: a period ("2026-" / "W46") and a quantity
#: ("+6.5" / "s"); written here apart from reportgen.text's own rule.
PERIOD_OR_QUANTITY = re.compile(r"\d{4}-W\d{2}|\d (?:s|min|h|pp)\b")
NOWRAP = '<span style="white-space: nowrap">'


def test_no_period_or_quantity_can_be_split_across_lines(message):
    body = html_of(message).split("<body", 1)[1]
    exposed, kept, inside = [], 0, False
    for piece in re.split(r"(<[^>]+>)", body):
        if piece.startswith("<"):
            inside = piece == NOWRAP or (inside and piece != "</span>")
        elif inside:
            kept += len(PERIOD_OR_QUANTITY.findall(piece))
        elif piece.startswith("https://"):
            continue  # the link's own text breaks anywhere, by design
        else:
            exposed += PERIOD_OR_QUANTITY.findall(piece)
    assert kept >= 5 and exposed == []
