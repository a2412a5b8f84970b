"""Chart rules shared by the Altair (PDF/HTML) and native PPTX renderers.

Kept free of Altair and python-pptx so both renderers import the one copy:
a slide and a PDF page must agree on colours and on where each waterfall bar
starts and ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reportgen.document import Brand, Chart, Dendrogram, Scatter
from reportgen.formatting import MINUS, format_change


def axis_values(chart: Chart) -> list[float]:
    """The finite values that set a chart's value axis.

    Small samples (``chart.muted_categories``) are drawn but left out, so 1 of 1
    appeals overturned (100 %) does not stretch an axis of rates near 15 %; if
    every category is a small sample, the current period's values (the primary
    series) set it, and a previous 1 of 1 is clipped at the edge.
    """
    muted = set(chart.muted_categories)
    every: list[float] = []
    kept: list[float] = []
    for series in chart.series:
        for index, value in enumerate(series.values):
            if value is None or not math.isfinite(value):
                continue
            if series.role == "primary" or not muted:
                every.append(value)
            category = chart.categories[index] if index < len(chart.categories) else None
            if category not in muted:
                kept.append(value)
    return kept or every


#: Formats whose values are totals: bars start at zero so lengths stay proportional.
TOTAL_FORMATS = frozenset({"count", "hours", "minutes"})

#: A line of totals whose lowest value is above this share of its highest is "far from
#: zero": its axis zooms to the data (a line's height is read as a position, not a length).
FAR_FROM_ZERO = 0.5


def starts_at_zero(chart: Chart) -> bool:
    """Whether the value axis starts at zero: bars always; lines of totals unless the data
    is far from zero (33,000 decisions a week on a 0–40,000 axis is a flat line)."""
    if chart.chart_type == "bar":
        return True
    if chart.value_format not in TOTAL_FORMATS:
        return False
    values = axis_values(chart)
    if not values or min(values) <= 0:
        return True
    return min(values) <= FAR_FROM_ZERO * max(values)


def role_colours(chart: Chart, brand: Brand) -> list[str]:
    """Colour per series, in order.

    The first series of a role takes the role's brand colour (primary,
    secondary for a comparison, muted for a target); a further series of the
    same role takes the next palette colour not used by a role.
    """
    role_colour = {
        "primary": brand.primary,
        "comparison": brand.secondary,
        "target": brand.muted,
        "band_low": band_colour(brand),
        "band_high": band_colour(brand),
        "forecast_low": forecast_band_colour(brand),
        "forecast_high": forecast_band_colour(brand),
    }
    reserved = {c.upper() for c in role_colour.values()}
    palette = iter([c for c in brand.palette if c.upper() not in reserved])
    used: set[str] = set()
    colours = []
    for series in chart.series:
        if series.role == "forecast":  # the metric's own line, continued (dashed)
            colours.append(brand.primary)
            continue
        colour = role_colour[series.role]
        if colour in used:
            colour = next(palette, brand.muted)
        used.add(colour)
        colours.append(colour)
    return colours


#: How much of the background a normal-range band mixes into the primary colour: visible
#: behind the line, quiet enough that the line and target stay what the eye follows.
BAND_TINT = 0.84


def band_colour(brand: Brand) -> str:
    """The normal range's fill: the primary colour, mostly faded into the background."""
    primary, background = _rgb(brand.primary), _rgb(brand.background)
    mixed = (round(p + (b - p) * BAND_TINT) for p, b in zip(primary, background, strict=True))
    return "#" + "".join(f"{c:02X}" for c in mixed)


#: The forecast's prediction range: the accent colour (the current period's, where the forecast
#: starts) faded like the normal range, so the two bands read apart by hue, not by weight.
FORECAST_TINT = 0.8
#: The forecast's centre line: dashes shorter than the target's (6, 4), in the metric's colour.
FORECAST_DASH = (3, 3)


def forecast_band_colour(brand: Brand) -> str:
    """The forecast range's fill: the accent colour, mostly faded into the background."""
    return _mix(brand.accent, brand.background, FORECAST_TINT)


def _mix(colour: str, background: str, tint: float) -> str:
    fore, back = _rgb(colour), _rgb(background)
    mixed = (round(p + (b - p) * tint) for p, b in zip(fore, back, strict=True))
    return "#" + "".join(f"{c:02X}" for c in mixed)


def _rgb(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


@dataclass(frozen=True)
class Step:
    """One bridge bar: from ``low`` to ``high`` (always from zero), its colour kind and label."""

    category: str
    low: float
    high: float
    kind: str  # total | good | bad | neutral
    label: str

    @property
    def top(self) -> float:
        return max(self.low, self.high)

    @property
    def bottom(self) -> float:
        return min(self.low, self.high)

    @property
    def value(self) -> float:
        return self.high - self.low


def waterfall_steps(chart: Chart) -> list[Step]:
    """The parts of a change and their total (the last category), each a bar from zero.

    Labels use the same formatting functions as the tables, so a part reads
    "+4.2 s" or "−1.3 pp" exactly as in the contributions table.
    """
    values = [v if v is not None and math.isfinite(v) else 0.0 for v in chart.series[0].values]
    sentiments = chart.point_sentiments or (None,) * len(values)
    fmt = chart.value_format
    decimals = chart.value_decimals if chart.label_decimals is None else chart.label_decimals
    steps, last = [], len(values) - 1
    for index, (category, value) in enumerate(zip(chart.categories, values, strict=False)):
        kind = (
            "total" if index == last else (sentiments[index] if index < len(sentiments) else None)
        )
        label = format_change(value, fmt, decimals)
        steps.append(Step(category, 0.0, value, kind or "neutral", label))
    return steps


@dataclass(frozen=True)
class ChangeUnits:
    """How a bridge shows changes: percentages as percentage points, the rest in the unit."""

    scale: float  # chart data = value × scale (100 for percent: the deck's data is in pp)
    decimals: int
    suffix: str  # " pp", " s", …


_CHANGE_UNITS = {
    "count": (0, ""),
    "seconds": (1, " s"),
    "minutes": (1, " min"),
    "hours": (1, " h"),
    "rate": (1, ""),
    "decimal": (2, ""),
}


def change_units(chart: Chart) -> ChangeUnits:
    if chart.value_format == "percent":
        return ChangeUnits(
            100.0, 1 if chart.value_decimals is None else chart.value_decimals, " pp"
        )
    decimals, suffix = _CHANGE_UNITS[chart.value_format]
    return ChangeUnits(1.0, decimals, suffix)


def signed_office_format(units: ChangeUnits) -> str:
    """``+0.0" pp";"−"0.0" pp";0.0" pp"``: a signed label that follows the chart's data."""
    number = "#,##0" + ("." + "0" * units.decimals if units.decimals else "")
    unit = f'"{units.suffix}"' if units.suffix else ""
    return f'+{number}{unit};"{MINUS}"{number}{unit};{number}{unit}'


# -- heatmap ----------------------------------------------------------------------------------

#: The heatmap's midpoint colour (a value of 0): near-white, so weak values recede.
HEATMAP_MID = "#F4F5F7"
_WHITE = "#FFFFFF"


def heatmap_stops(brand: Brand) -> tuple[str, str, str]:
    """Low, mid, high colours of the diverging scale: accent (orange) for the low end,
    primary (navy) for the high end — a pair that stays distinct for colour-blind readers."""
    return brand.accent, HEATMAP_MID, brand.primary


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(min(255.0, max(0.0, c))):02X}" for c in rgb)


def heatmap_colour(value: float | None, brand: Brand, domain: tuple[float, float]) -> str | None:
    """The fill of a cell: linear RGB interpolation low → mid → high (Vega's ``rgb``
    interpolation, so a slide's table and the PDF's heatmap agree); None when undefined."""
    if value is None or not math.isfinite(value):
        return None
    low, high = domain
    mid = (low + high) / 2.0
    t = min(1.0, max(0.0, (value - mid) / ((high - mid) or 1.0)))
    if value < mid:
        t = min(1.0, max(0.0, (mid - value) / ((mid - low) or 1.0)))
        end = heatmap_stops(brand)[0]
    else:
        end = heatmap_stops(brand)[2]
    a, b = _rgb(HEATMAP_MID), _rgb(end)
    return _hex(tuple(x + (y - x) * t for x, y in zip(a, b, strict=True)))  # type: ignore[arg-type]


def _luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255.0
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_on(fill: str | None, brand: Brand) -> str:
    """Text colour for a cell: the brand's text colour or white, whichever contrasts more."""
    if fill is None:
        return brand.muted
    return _WHITE if contrast(_WHITE, fill) > contrast(brand.text, fill) else brand.text


# -- dendrogram -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One merge drawn as a bracket: from the left child's top up to ``height``, across
    to the right child's position and down to its top. Positions count leaves in
    drawing order (0 = first leaf); heights are the linkage's distances."""

    merge: int
    left: tuple[float, float]  # (position, height)
    right: tuple[float, float]
    height: float

    @property
    def path(self) -> tuple[tuple[float, float], ...]:
        """The bracket's four corners as (position, height)."""
        (pl, hl), (pr, hr) = self.left, self.right
        return ((pl, hl), (pl, self.height), (pr, self.height), (pr, hr))


def dendrogram_links(dendrogram: Dendrogram) -> list[Link]:
    """Brackets of every merge, scipy's layout: a merge sits midway between its children."""
    n = len(dendrogram.leaves)
    position = {leaf: float(i) for i, leaf in enumerate(dendrogram.order)}
    height = dict.fromkeys(range(n), 0.0)
    links = []
    for i, merge in enumerate(dendrogram.merges):
        node = n + i
        links.append(
            Link(
                i,
                (position[merge.left], height[merge.left]),
                (position[merge.right], height[merge.right]),
                merge.height,
            )
        )
        position[node] = (position[merge.left] + position[merge.right]) / 2.0
        height[node] = merge.height
    return links


# -- scatter ----------------------------------------------------------------------------------


def scatter_domain(scatter: Scatter) -> tuple[float, float]:
    """One padded range for both axes (actual and fitted share units and scale)."""
    values = [v for p in scatter.points for v in (p.x, p.y)]
    if scatter.line is not None:
        values += [v for end in scatter.line for v in end]
    values = [v for v in values if v is not None and math.isfinite(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
    if scatter.value_format == "percent" and low >= 0.0 and high <= 1.0:
        return max(0.0, low - pad), min(1.0, high + pad)  # a proportion's axis never shows 105 %
    return low - pad, high + pad
