"""What the report email shows: the bottom line, the stories' titles and up to six KPI cards.

The email is read on a phone in under a minute. It opens with the bottom-line
sentence and the ranked stories' titles (their evidence stays in the PDF),
then cards for the KPIs that need attention — a missed target first, then a
value well outside its normal range — each with a small trend image, then
every other KPI on one compact line, and the link.

:func:`email_brief` runs at build time (it needs the figures and the
anomalies) and its result is stored in the delivery manifest, so a re-send or
an approved draft shows exactly what was built; :func:`email_view` turns the
manifest's content into what the templates draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportgen.build import BuildResult
    from reportgen.ops.manifest import ReportContent

#: at most this many cards: the rest of the KPIs go on one compact line
MAX_CARDS = 6
#: trailing periods drawn in a card's trend image
TREND_PERIODS = 13
#: what the leadership edition says about a test; anything else (a p-value) stays out of email
PLAIN_SIGNIFICANCE = ("unlikely to be noise", "could be noise")


# -- at build time ------------------------------------------------------------------------------


def email_brief(result: BuildResult) -> dict[str, Any]:
    """The email's words and each KPI's trailing series, as plain data for the manifest."""
    from reportgen.document import LEAD_MARK, Narrative

    summary = next((s for s in result.document.sections if s.id == "summary"), None)
    paragraphs = [
        p
        for block in (summary.blocks if summary else ())
        if isinstance(block, Narrative)
        for p in block.paragraphs
    ]
    told = sorted(
        (s for s in (result.document.figures or {}).get("stories", ()) if s.get("in_brief")),
        key=lambda s: s["rank"],
    )
    stories = [s["title"].rstrip(".") for s in told] or [
        _title(p.partition(LEAD_MARK)[0]) for p in paragraphs if LEAD_MARK in p
    ]
    plain = [p for p in paragraphs if LEAD_MARK not in p]
    opening = plain[0] if plain and plain[0].startswith("This week") else None
    if (
        opening is None and told
    ):  # the analyst edition opens with evidence: say it as the brief does
        from reportgen.compose._stories import bottom_line

        opening = bottom_line([_Headline(s["headline"]) for s in told])  # type: ignore[list-item]
    # "Also: … — back toward normal, not an improvement." (the analyst edition's detail stays out)
    also = [_first_sentence(p) for p in plain if p.startswith("Also:")]
    confidence = next((p for p in reversed(plain) if "Data complete through" in p), None)
    unusual = {
        a.metric: a
        for a in result.insights.headline_anomalies
        if a.dimension is None and a.period == result.period.label
    }
    restated = next((s for s in result.document.sections if s.id == "restatements"), None)
    return {
        # figures that changed since a report showed them: said before the week's news
        "restated": [
            p
            for block in (restated.blocks if restated else ())
            if isinstance(block, Narrative)
            for p in block.paragraphs
        ],
        "bottom_line": opening or (f"This week: {_lower(stories[0])}." if stories else None),
        "stories": stories,
        "also": also,
        "confidence": confidence,
        "unusual": {name: _unusual_text(result, a) for name, a in unusual.items()},
        "unusual_sentiment": {name: a.sentiment for name, a in unusual.items()},
        "trends": {name: _trend(result, name) for name in result.figures.metrics},
    }


@dataclass(frozen=True)
class _Headline:
    """What :func:`reportgen.compose._stories.bottom_line` reads of a story."""

    headline: str


def _first_sentence(text: str) -> str:
    end = text.find("not an improvement.")
    return text[: end + len("not an improvement.")] if end >= 0 else text


def _title(lead: str) -> str:
    """ "1. Misinformation volume doubled, …." → "Misinformation volume doubled, …"."""
    number, dot, rest = lead.partition(". ")
    text = rest if dot and number.isdigit() else lead
    return text.strip().rstrip(".")


def _lower(text: str) -> str:
    from reportgen.compose._stories import lower_first

    return lower_first(text)


def _unusual_text(result: BuildResult, anomaly: Any) -> str:
    from reportgen.wording import headline_value, unit_text

    m = result.figures.metrics[anomaly.metric]
    usual = headline_value(m, anomaly.baseline, unit=unit_text(m) is None)  # the card names it
    return f"well outside its normal range (usually about {usual})"


def _trend(result: BuildResult, name: str) -> dict[str, Any]:
    from reportgen.wording import headline_value

    m = result.figures.metrics[name]
    bands = result.insights.bands.get(name) or (None,) * len(m.series)
    shown = [(p, b) for p, b in zip(m.series, bands, strict=False) if p.value is not None]
    shown = shown[-TREND_PERIODS:]
    points = [p for p, _ in shown]
    first = points[0] if points else None
    return {
        "periods": [p.period for p in points],
        "values": [float(p.value) for p in points if p.value is not None],
        # the anomaly model's normal range per point, as the report's charts shade it
        "band": [None if b is None else [b.low, b.high] for _, b in shown],
        "target": m.target,
        "first_text": headline_value(m, first.value) if first else None,
        "first_period": first.period if first else None,
        "grain": result.period.grain,  # "week": the caption says "last 13 weeks"
    }


# -- at send time -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """One KPI that needs attention, as the email draws it."""

    metric: str
    label: str
    value_text: str
    unit: str | None
    change: str | None  # "+6.5 s vs 2026-W46"
    change_colour: str
    why: str  # "Missed target 57.0 s" / "Well outside its normal range (usually about 50 s)"
    significance: str | None  # "unlikely to be noise" — never a p-value
    note: str | None
    trend: dict[str, Any] | None  # periods, values, target
    trend_alt: str
    colour: str  # the last point's colour in the trend image
    span: str = ""  # "last 13 weeks"


@dataclass(frozen=True)
class EmailView:
    bottom_line: str | None
    stories: tuple[str, ...]
    also: tuple[str, ...]
    restated: tuple[str, ...]
    cards: tuple[Card, ...]
    # ("SLA attainment", "97.14% (+3.16 pp)", "recovered from an unusual 2026-W46")
    others: tuple[tuple[str, str, str], ...]
    confidence: str | None


def email_view(content: ReportContent) -> EmailView:
    """Cards for missed and unusual KPIs (at most six), the rest as one compact line each."""
    brief = content.brief or {}
    unusual: dict[str, str] = brief.get("unusual", {})
    ranked = sorted(
        content.tiles,
        key=lambda t: (
            t["target_status"] != "missed",
            t["metric"] not in unusual,
            brief.get("unusual_sentiment", {}).get(t["metric"]) != "bad",
        ),
    )
    wanted = [t for t in ranked if t["target_status"] == "missed" or t["metric"] in unusual]
    if not brief:  # a manifest written before the brief existed: the first tiles, no trends
        wanted = list(content.tiles)
    chosen = wanted[:MAX_CARDS]
    sentiments: dict[str, str] = brief.get("unusual_sentiment", {})
    cards = tuple(
        _card(t, content, unusual.get(t["metric"]), sentiments.get(t["metric"])) for t in chosen
    )
    shown = {c.metric for c in cards}
    others = tuple(_compact(t) for t in content.tiles if t["metric"] not in shown)
    headlines = content.headlines
    return EmailView(
        bottom_line=brief.get("bottom_line") if brief else (headlines[0] if headlines else None),
        stories=tuple(brief.get("stories", ())),
        also=tuple(brief.get("also", ())),
        restated=tuple(brief.get("restated", ())),
        cards=cards,
        others=others,
        confidence=brief.get("confidence"),
    )


def _card(
    tile: dict[str, Any],
    content: ReportContent,
    unusual: str | None,
    unusual_sentiment: str | None,
) -> Card:
    brand = content.brand
    delta = tile.get("delta") or None
    sentiment = delta["sentiment"] if delta else "neutral"
    colour = brand.get(sentiment, brand["neutral"])
    missed = tile["target_status"] == "missed"
    target = tile.get("target_text") or ""
    if tile.get("unit") and target.endswith(f" {tile['unit']}"):  # drawn under the value already
        target = target[: -len(tile["unit"]) - 1]
    why = (
        f"Missed {target}"
        if missed and tile.get("target_text")
        else (unusual[0].upper() + unusual[1:] if unusual else "")
    )
    if missed and unusual:
        why += f"; {unusual}"
    trend = (content.brief or {}).get("trends", {}).get(tile["metric"])
    significance = delta.get("significance") if delta else None
    return Card(
        metric=tile["metric"],
        label=tile["label"],
        value_text=tile["value_text"],
        unit=tile.get("unit"),
        change=f"{delta['text']} {delta['comparison']}" if delta else None,
        change_colour=colour,
        why=why,
        significance=significance if significance in PLAIN_SIGNIFICANCE else None,
        note=tile.get("note"),
        trend=trend if trend and len(trend.get("values", ())) >= 2 else None,
        trend_alt=_trend_alt(tile, trend),
        colour=brand["bad"] if missed or unusual_sentiment == "bad" else brand["primary"],
        span=_span(trend),
    )


def _span(trend: dict[str, Any] | None) -> str:
    if not trend or not trend.get("values"):
        return ""
    count = len(trend["values"])
    unit = {"day": "days", "week": "weeks", "month": "months", "quarter": "quarters"}
    return f"last {count} {unit.get(trend.get('grain', ''), 'periods')}"


def _trend_alt(tile: dict[str, Any], trend: dict[str, Any] | None) -> str:
    """What the image shows, for screen readers and clients that block images."""
    if not trend or not trend.get("values"):
        return f"{tile['label']}: {tile['value_text']}"
    target = f"; {tile['target_text']}" if tile.get("target_text") else ""
    return (
        f"{tile['label']}, {_span(trend)}: from {trend['first_text']} "
        f"({trend['first_period']}) to {tile['value_text']}{target}"
    )


def _compact(tile: dict[str, Any]) -> tuple[str, str, str]:
    """Label, value with change, and the tile's note (a recovery is not an improvement)."""
    delta = tile.get("delta")
    change = f" ({delta['text']})" if delta else ""
    return tile["label"], f"{tile['value_text']}{change}", tile.get("note") or ""
