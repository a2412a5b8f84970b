"""The report email drawn by a real browser (Debian's headless Chromium) on a 390 px phone.

Mail clients cannot load ``cid:`` images from a file, so the test writes a
copy of the HTML part with each CID image inlined as a ``data:`` URI, lays it
out in a 390 px frame and measures it: no sideways scrolling, the cards in one
column, every trend image decoded at 2× and drawn at 240 px, no text smaller
than 12 px.
"""

from __future__ import annotations

import base64
import email
import json
import re
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest

from .conftest import smtp_block

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = 390

#: Headless Chromium will not make a window narrower than 500 px, so the email is laid out in
#: a 390 px iframe (its own viewport: the email's media query sees 390 px) and measured there.
PAGE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="phone" width="WIDTH" height="1600" style="border:0"></iframe>
<pre id="probe"></pre>
<script>
const frame = document.getElementById("phone");
frame.addEventListener("load", () => {
  const w = frame.contentWindow, d = w.document;
  const box = (e) => e.getBoundingClientRect();
  const fonts = [...d.querySelectorAll("body *")]
    .filter((e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
    .map((e) => parseFloat(w.getComputedStyle(e).fontSize));
  document.getElementById("probe").textContent = JSON.stringify({
    scroll: d.documentElement.scrollWidth,
    viewport: w.innerWidth,
    cards: [...d.querySelectorAll("div.card")].map((c) => [box(c).left, box(c).width]),
    images: [...d.images].map((i) => [i.naturalWidth, box(i).width]),
    smallest: Math.min(...fonts),
  });
});
frame.srcdoc = EMAIL;
</script></body></html>"""


@pytest.fixture(scope="module")
def email_html(built_report) -> str:
    """The HTML part with its CID images inlined as data: URIs (a file cannot resolve cid:)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: scripts/setup.sh --test installs it")
    from reportgen.config.delivery import DeliveryConfig
    from reportgen.ops.channels.email import prepare
    from reportgen.ops.manifest import content_from_build

    delivery = DeliveryConfig.model_validate(
        {
            "smtp": smtp_block(25),
            "link": "https://reports.example.com/{report}/{period}/{audience}/",
            "channels": [{"type": "email", "name": "leaders", "to": ["vp@example.com"]}],
        }
    )
    payload = prepare(delivery.channels[0], content_from_build(built_report, 1), delivery).payload
    message = email.message_from_bytes(payload, policy=policy.default)
    html = message.get_body(("html",)).get_content()
    for part in message.walk():
        if part.get_content_type() == "image/png":
            cid = part["Content-ID"].strip().strip("<>")
            data = base64.b64encode(part.get_content()).decode("ascii")
            html = html.replace(f"cid:{cid}", f"data:image/png;base64,{data}")
    return html


def lay_out(html: str, width: int, folder: Path) -> dict:
    """What Chromium measures of the email laid out ``width`` px wide."""
    page = folder / f"email-{width}.html"
    page.write_text(
        PAGE.replace("WIDTH", str(width)).replace("EMAIL", json.dumps(html)), encoding="utf-8"
    )
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={width + 20},1700",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.fixture(scope="module")
def layout(email_html, tmp_path_factory) -> dict:
    return lay_out(email_html, PHONE, tmp_path_factory.mktemp("phone"))


def test_nothing_scrolls_sideways_at_390_px(layout):
    assert layout["viewport"] == PHONE
    assert layout["scroll"] <= PHONE


def test_cards_stack_in_one_full_width_column(layout):
    lefts = {round(left) for left, _ in layout["cards"]}
    assert len(layout["cards"]) >= 2 and len(lefts) == 1
    assert all(width > PHONE * 0.8 for _, width in layout["cards"])


def test_trend_images_decode_at_2x_and_draw_at_240_px(layout):
    assert layout["images"] and all(natural == 480 for natural, _ in layout["images"])
    assert all(drawn == 240 for _, drawn in layout["images"])


def test_no_text_smaller_than_12_px(layout):
    assert layout["smallest"] >= 12


def test_between_phone_and_desktop_a_lone_card_fills_the_column(email_html, tmp_path):
    """At 540 px two cards do not fit side by side; the one per row is as wide as the text."""
    wide = lay_out(email_html, 540, tmp_path)
    assert wide["scroll"] <= 540
    assert len({round(left) for left, _ in wide["cards"]}) == 1
    assert all(width > 540 * 0.8 for _, width in wide["cards"])


def test_on_a_desktop_cards_sit_two_to_a_row(email_html, tmp_path):
    desktop = lay_out(email_html, 720, tmp_path)
    assert len({round(left) for left, _ in desktop["cards"]}) == 2
