"""Small trend images for the report email's KPI cards, embedded as CID parts.

Mail clients block remote images by default and many drop ``data:`` URIs,
so each card's trend is a PNG inside the message (``multipart/related``),
referenced from the HTML as ``cid:…``. The image is drawn by the project's
chart stack — a Vega-Lite spec in the vl-convert worker process
(:func:`reportgen.render.charts.vega.vegalite_to_svg`), then rasterised at 2× by
vl-convert's resvg (no JavaScript engine in this process) — so it uses the
brand's colours, and nothing is fetched while drawing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from reportgen.errors import RenderError

#: CSS pixels of the image in the card; the PNG has twice as many for sharp phone screens
WIDTH, HEIGHT = 240, 60
SCALE = 2


@dataclass(frozen=True)
class TrendImage:
    metric: str
    cid: str  # without the angle brackets, as the HTML's "cid:" URL names it
    png: bytes


def trend_spec(
    values: list[float],
    target: float | None,
    line: str,
    last: str,
    background: str,
    band: list[list[float] | None] | None = None,
    band_colour: str = "#D9E2EC",
) -> dict[str, Any]:
    """A sparkline: the trailing series over its normal range (shaded, where the anomaly
    model judged the point), the target dashed, the latest value as a dot.

    The band is clipped to the values' own span widened by half: an open-ended range
    (a tiny series' band can reach far) must not flatten the line into a stripe.
    """
    rows = [{"i": i, "v": v} for i, v in enumerate(values)]
    low, high = min(values), max(values)
    if target is not None:
        low, high = min(low, target), max(high, target)
    spread = (high - low) or abs(high) * 0.1 or 1.0
    floor, ceiling = low - spread / 2, high + spread / 2
    ranges = [
        {"i": i, "lo": max(b[0], floor), "hi": min(b[1], ceiling)}
        for i, b in enumerate(band or [])
        if b is not None and i < len(values)
    ]
    for r in ranges:
        low, high = min(low, r["lo"]), max(high, r["hi"])
    pad = (high - low) * 0.12 or abs(high) * 0.05 or 1.0
    y = {
        "field": "v",
        "type": "quantitative",
        "axis": None,
        "scale": {"domain": [low - pad, high + pad], "nice": False, "zero": False},
    }
    x = {
        "field": "i",
        "type": "quantitative",
        "axis": None,
        "scale": {"domain": [0, max(len(values) - 1, 1)], "nice": False},
    }
    layers: list[dict[str, Any]] = []
    if ranges:
        layers.append(
            {
                "data": {"values": ranges},
                "mark": {"type": "area", "color": band_colour, "opacity": 1},
                "encoding": {"x": x, "y": {**y, "field": "lo"}, "y2": {"field": "hi"}},
            }
        )
    if target is not None:
        layers.append(
            {
                "data": {"values": [{"t": target}]},
                "mark": {"type": "rule", "color": "#8A94A1", "strokeDash": [4, 3], "size": 1},
                "encoding": {"y": {**y, "field": "t"}},
            }
        )
    layers += [
        {
            "mark": {"type": "line", "color": line, "strokeWidth": 2},
            "encoding": {"x": x, "y": y},
        },
        {
            "transform": [{"filter": f"datum.i == {len(values) - 1}"}],
            "mark": {"type": "circle", "color": last, "size": 40, "opacity": 1},
            "encoding": {"x": x, "y": y},
        },
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": WIDTH,
        "height": HEIGHT,
        "padding": 5,
        "autosize": {"type": "fit", "contains": "padding"},
        "background": background,
        "config": {"view": {"stroke": None}},
        "data": {"values": rows},
        "layer": layers,
    }


def trend_png(spec: dict[str, Any]) -> bytes:
    """The spec as a PNG at :data:`SCALE` × its size."""
    from reportgen.render.charts.vega import vegalite_to_svg

    try:
        import vl_convert

        return bytes(vl_convert.svg_to_png(vegalite_to_svg(spec), scale=SCALE))
    except ValueError as exc:  # vl-convert's own message
        raise RenderError(
            f"cannot draw an email trend image: {str(exc).splitlines()[0]}",
            fix="report it with the config; the email can be sent without trends by "
            "removing the metric's target or series",
        ) from None


def draw_trends(cards: Any, brand: dict[str, str], domain: str) -> dict[str, TrendImage]:
    """One image per card that has a trend, keyed by metric; the drawing process ends after."""
    from reportgen.render.charts.vega import shut_down

    images = {}
    try:
        for card in cards:
            if card.trend is None:
                continue
            spec = trend_spec(
                card.trend["values"],
                card.trend.get("target"),
                line=brand.get("muted", "#5F6B7A"),
                last=card.colour,
                background="#FFFFFF",
                band=card.trend.get("band"),
            )
            cid = content_id(card.metric, domain)
            images[card.metric] = TrendImage(card.metric, cid, trend_png(spec))
    finally:
        shut_down()  # a long-running scheduler must not keep the JavaScript engine's heap
    return images


def content_id(metric: str, domain: str) -> str:
    """A short unique Content-ID (a long one gets its header folded, which some clients misread)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", metric)[:40]
    return f"trend-{name}.{secrets.token_hex(6)}@{domain}"


def embed(message: EmailMessage, images: dict[str, TrendImage]) -> None:
    """Put the images beside the HTML part (``multipart/related``), each under its Content-ID."""
    if not images:
        return
    html = next(
        (p for p in message.walk() if p.get_content_type() == "text/html"),
        None,
    )
    if html is None:
        raise RenderError("the report email has no HTML part to hold its trend images")
    for image in images.values():
        html.add_related(
            image.png,
            maintype="image",
            subtype="png",
            cid=f"<{image.cid}>",
            filename=f"trend-{image.metric}.png",
            disposition="inline",
        )
