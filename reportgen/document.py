"""The neutral document model every renderer draws.

Sections describe *what* the report says (KPI tiles, tables, chart specs,
narrative) with numbers already computed and formatted; renderers decide only
*how* it looks. Adding a renderer therefore never touches analysis code, and
every renderer shows the same numbers. Raw values travel next to their
formatted text so that native charts (PPTX) and machine output (figures.json)
keep full precision while text stays identical across formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the exports' typed figures; the model itself stays free of pipeline imports
    from reportgen.export_figures import ExportFigures

Sentiment = Literal["good", "bad", "neutral"]
Direction = Literal["up", "down", "flat"]
ValueFormat = Literal["count", "percent", "seconds", "minutes", "rate", "hours", "decimal"]


@dataclass(frozen=True)
class Brand:
    """Colours, fonts and assets shared by PDF, HTML, charts and PPTX."""

    name: str
    primary: str
    secondary: str
    accent: str
    text: str
    muted: str
    background: str
    good: str
    bad: str
    neutral: str
    palette: tuple[str, ...]
    font_family: str
    heading_font_family: str
    footer: str
    classification: str
    logo: Path | None
    pptx_template: Path
    assets_dir: Path

    def sentiment_colour(self, sentiment: Sentiment) -> str:
        return {"good": self.good, "bad": self.bad, "neutral": self.neutral}[sentiment]


@dataclass(frozen=True)
class Delta:
    """A change against a comparison value, already judged by the metric's direction."""

    text: str  # e.g. "+2.1 pp", "−3.4%", "+14 s"
    direction: Direction
    sentiment: Sentiment
    comparison: str  # what it is compared with, e.g. "vs 2026-W46"
    significance: str | None = None  # e.g. "significant, p < 0.001" / "not significant, p = 0.41"


@dataclass(frozen=True)
class KpiTile:
    metric: str
    label: str
    value: float | None
    value_text: str
    delta: Delta | None
    previous_text: str
    target_text: str | None  # e.g. "target 93.0%"
    target_status: Literal["met", "missed", "none"]
    note: str | None = None  # e.g. "incomplete period"
    unit: str | None = (
        None  # a rate's unit, drawn small under the value ("decisions / productive hour")
    )
    owner: str | None = None  # the metric's owner from the catalog
    comment: str | None = (
        None  # commentary on the metric, attributed ("… — A. Analyst, Mon 30 Nov")
    )
    #: a leadership brief shows it in full (missed its target or unusual); the rest compactly
    attention: bool = False


@dataclass(frozen=True)
class KpiGrid:
    tiles: tuple[KpiTile, ...]
    kind: Literal["kpi_grid"] = "kpi_grid"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    align: Literal["left", "right"] = "right"


@dataclass(frozen=True)
class Cell:
    text: str
    value: float | str | None = None
    sentiment: Sentiment | None = None


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str | None = None
    kind: Literal["table"] = "table"
    #: rows drawn greyed (indexes into ``rows``): small samples, shown but not to be read into
    muted_rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class ChartSeries:
    name: str
    values: tuple[float | None, ...]
    #: ``band_low``/``band_high``: the edges of a weekly business review chart's normal range;
    #: ``forecast`` (the centre line, from the last actual value on) and ``forecast_low``/
    #: ``forecast_high`` (its prediction range): the periods after the built one
    role: Literal[
        "primary",
        "comparison",
        "target",
        "band_low",
        "band_high",
        "forecast",
        "forecast_low",
        "forecast_high",
    ] = "primary"


@dataclass(frozen=True)
class Chart:
    """A chart spec: drawn by Altair for PDF/HTML and as a native PPTX chart.

    ``waterfall`` (a bridge of parts): the categories before the last are signed
    parts of a change and ``categories[-1]`` is their total, so
    ``values[-1] == sum(values[:-1])``; every bar is drawn from zero (no bar floats
    on a truncated axis, and the deck's chart data holds the signed parts).
    ``point_sentiments`` colours each part good/bad/neutral (the last is ``None``:
    drawn in the primary colour).

    ``wbr`` (a weekly business review chart): the trailing weeks as a line with
    the target and the anomaly model's normal range (series ``band_low`` and
    ``band_high``, shaded between), ``flagged`` the weeks outside it, and
    ``panel`` — the trailing months, a line chart — drawn beside it on the same
    value axis. With a forecast, the weeks run on past the built one: the
    ``forecast`` series continues the line (dashed) from the last actual week and
    ``forecast_low``/``forecast_high`` shade its prediction range, apart from the
    normal range.
    """

    title: str
    chart_type: Literal["line", "bar", "waterfall", "wbr"]
    categories: tuple[str, ...]
    series: tuple[ChartSeries, ...]
    value_format: ValueFormat
    value_label: str
    highlight: str | None = None  # category to emphasise (the current period)
    kind: Literal["chart"] = "chart"
    value_decimals: int | None = (
        None  # percent precision override (formatting.d3_format / office_number_format)
    )
    point_sentiments: tuple[Sentiment | None, ...] = ()  # waterfall: one per category
    #: categories that are small samples: drawn, but never setting the value axis' range
    muted_categories: tuple[str, ...] = ()
    # waterfall labels' precision when it differs from the axis's: the shared precision of the
    # two ends and their change (formatting.comparison_decimals), so labels read as the text
    label_decimals: int | None = None
    panel: Chart | None = None  # wbr: the months beside the weeks
    #: wbr: the periods the anomaly model flags (outside their normal range)
    flagged: tuple[str, ...] = ()
    panel_titles: tuple[str, str] = ("", "")  # wbr: above the weeks and the months
    #: wbr: one value axis for both panels; False for a flow total (a month sums four weeks)
    shared_axis: bool = True
    #: wbr: index of the first forecast category (the weeks after the built one); None: none
    forecast_from: int | None = None


@dataclass(frozen=True)
class Heatmap:
    """A square matrix on a fixed diverging colour scale, each cell annotated with its value.

    Built for correlation matrices: ``labels`` name the rows and the columns alike
    (display names; renderers may wrap or cut them, so the full names must also be
    in a table next to it), ``values[i][j]`` is the value of row ``i`` × column ``j``
    (None where undefined: drawn blank). Colours run from ``domain[0]`` through the
    midpoint to ``domain[1]``, the same on every page whatever the values.
    """

    title: str
    labels: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]
    value_label: str  # what a cell shows, e.g. "Pearson r"
    domain: tuple[float, float] = (-1.0, 1.0)
    decimals: int = 2
    caption: str | None = None
    kind: Literal["heatmap"] = "heatmap"


@dataclass(frozen=True)
class ScatterPoint:
    label: str
    x: float
    y: float
    highlight: bool = False  # drawn in the accent colour and labelled (e.g. a residual outlier)


@dataclass(frozen=True)
class Scatter:
    """Points with a reference line: e.g. a regression's actual against fitted values.

    ``line`` holds the two ends of a straight line drawn across the points (the
    fitted line, or actual = fitted); highlighted points are labelled with their
    ``label``. Both axes share ``value_format`` (an actual-vs-fitted chart is in
    the outcome's units on both).
    """

    title: str
    x_label: str
    y_label: str
    points: tuple[ScatterPoint, ...]
    line: tuple[tuple[float, float], tuple[float, float]] | None
    value_format: ValueFormat = "decimal"
    value_decimals: int | None = None
    points_name: str = "Points"
    highlight_name: str = "Highlighted"
    line_name: str = "Fitted"
    caption: str | None = None
    kind: Literal["scatter"] = "scatter"


@dataclass(frozen=True)
class Merge:
    """One merge of a hierarchical clustering, numbered as in scipy's linkage matrix:
    ``left``/``right`` below ``len(leaves)`` are leaves, ``n + i`` is the i-th merge."""

    left: int
    right: int
    height: float
    size: int


@dataclass(frozen=True)
class Dendrogram:
    """A hierarchical clustering tree: leaves (in the linkage's numbering), its merges
    in order, and ``order`` — the leaf indexes as drawn, first to last."""

    title: str
    leaves: tuple[str, ...]
    merges: tuple[Merge, ...]
    order: tuple[int, ...]
    height_label: str
    caption: str | None = None
    kind: Literal["dendrogram"] = "dendrogram"


#: Blocks drawn as figures other than a category chart.
Graphic = Heatmap | Scatter | Dendrogram


#: Marks the end of a paragraph's lead (its bold first words): an invisible separator, so a
#: renderer that does not know it still shows the text unchanged.
LEAD_MARK = "\u2063"


def with_lead(lead: str, rest: str) -> str:
    """A narrative paragraph whose first words (an action title) are drawn bold."""
    return f"{lead}{LEAD_MARK} {rest}"


def split_lead(paragraph: str) -> tuple[str, str]:
    """``(lead, rest)`` of a paragraph made by :func:`with_lead`; ``("", paragraph)`` otherwise."""
    lead, mark, rest = paragraph.partition(LEAD_MARK)
    return (lead, rest.lstrip()) if mark else ("", paragraph)


@dataclass(frozen=True)
class Narrative:
    paragraphs: tuple[str, ...]  # a paragraph may open with a bold lead (see with_lead)
    kind: Literal["narrative"] = "narrative"


@dataclass(frozen=True)
class Definition:
    term: str
    formula: str
    description: str
    extra: tuple[tuple[str, str], ...] = ()  # (label, text) pairs: unit, direction, owner …


@dataclass(frozen=True)
class DefinitionList:
    items: tuple[Definition, ...]
    kind: Literal["definitions"] = "definitions"


Block = KpiGrid | Table | Chart | Heatmap | Scatter | Dendrogram | Narrative | DefinitionList


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    role: Literal["summary", "metric", "appendix"]
    blocks: tuple[Block, ...]
    notes: tuple[str, ...] = ()  # talking points: PPTX speaker notes


@dataclass(frozen=True)
class BriefSlide:
    """A story of the leadership brief, told on one slide of a metric section.

    The deck shows that section's slide split by ``dimension`` (its first slide
    when None) among the main slides, titled with the story's action title;
    the rest of the deck goes into an Appendix section.
    """

    section_id: str
    dimension: str | None  # the breakdown's label ("Queue"), as the slide's title names it
    title: str
    notes: tuple[str, ...] = ()  # talking points and likely questions, answered
    comments: tuple[str, ...] = ()  # commentary on the story, quoted and attributed
    #: the story's subject in that breakdown ("Misinformation"): its bar is highlighted
    segment: str | None = None


#: The sections a leadership edition opens with, in this order, and the one that closes
#: its main part; every other section is its appendix (the deck's Appendix section, the
#: PDF's pages after the Appendix divider).
BRIEF_OPENING = ("summary", "restatements")
BRIEF_CLOSING = ("actions",)


@dataclass(frozen=True)
class Document:
    report_id: str
    title: str
    subtitle: str
    period_label: str  # e.g. "2026-W47 (16–22 Nov 2026)"
    period_start: date
    period_end: date  # inclusive last day
    timezone: str
    audience: str
    generated_at: datetime
    complete: bool
    brand: Brand
    sections: tuple[Section, ...] = field(default_factory=tuple)
    #: the leadership brief's story slides, in rank order; () for an analyst edition
    brief: tuple[BriefSlide, ...] = ()
    #: "leadership" opens with the bottom line and keeps its evidence in an appendix
    edition: Literal["leadership", "analyst"] = "analyst"
    #: The figures.json content (every number of the report, JSON-ready): data exports
    #: (XLSX, CSV) read it so they never compute anything a second time.
    figures: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    #: The same figures typed, with the per-segment series and days: what XLSX and CSV read.
    exports: ExportFigures | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def appendix_from(self) -> int | None:
        """Index of a leadership edition's first appendix section (None: no appendix)."""
        if self.edition != "leadership":
            return None
        main = (*BRIEF_OPENING, *BRIEF_CLOSING)
        return next((i for i, s in enumerate(self.sections) if s.id not in main), None)

    @property
    def status_note(self) -> str | None:
        return (
            None
            if self.complete
            else "Incomplete period: data for this period is not complete yet."
        )
