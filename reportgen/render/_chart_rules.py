"""Chart rules shared by the Altair (PDF/HTML) and native PPTX renderers.

Kept free of Altair and python-pptx so both renderers import the one copy:
a slide and a PDF page must agree on colours and on where each waterfall bar
starts and ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reportgen.document import Brand, Chart
from reportgen.formatting import format_change, format_value


def role_colours(chart: Chart, brand: Brand) -> list[str]:
    """Colour per series, in order.

    The first series of a role takes the role's brand colour (primary,
    secondary for a comparison, muted for a target); a further series of the
    same role takes the next palette colour not used by a role.
    """
    role_colour = {"primary": brand.primary, "comparison": brand.secondary, "target": brand.muted}
    reserved = {c.upper() for c in role_colour.values()}
    palette = iter([c for c in brand.palette if c.upper() not in reserved])
    used: set[str] = set()
    colours = []
    for series in chart.series:
        colour = role_colour[series.role]
        if colour in used:
            colour = next(palette, brand.muted)
        used.add(colour)
        colours.append(colour)
    return colours


@dataclass(frozen=True)
class Step:
    """One waterfall bar: from ``low`` to ``high`` (totals from zero), its colour kind and label."""

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


def waterfall_steps(chart: Chart) -> list[Step]:
    """Totals at both ends, steps floating on the running sum.

    Labels use the same formatting functions as the tables, so a step reads
    "+4.2 s" or "−1.3 pp" exactly as in the decomposition table.
    """
    values = [v if v is not None and math.isfinite(v) else 0.0 for v in chart.series[0].values]
    sentiments = chart.point_sentiments or (None,) * len(values)
    fmt, decimals = chart.value_format, chart.value_decimals
    steps, running, last = [], 0.0, len(values) - 1
    for index, (category, value) in enumerate(zip(chart.categories, values, strict=False)):
        if index in (0, last):
            running = value
            steps.append(Step(category, 0.0, value, "total", format_value(value, fmt, decimals)))
        else:
            kind = sentiments[index] if index < len(sentiments) else None
            label = format_change(value, fmt, decimals)
            steps.append(Step(category, running, running + value, kind or "neutral", label))
            running += value
    return steps
