"""Planning the deck: which slides, in which order, with which titles and notes.

:func:`plan_deck` turns the neutral document into one :class:`SlidePlan` per
slide — its layout name, a unique title, the content to draw and the
speaker notes — using the template only for geometry (how many table rows
and KPI tiles fit). Nothing here touches a slide, so the decisions (titles,
pagination, notes) are cheap to test, and every layout the deck needs is
known before the first slide is drawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from reportgen.document import (
    BRIEF_CLOSING,
    BRIEF_OPENING,
    BriefSlide,
    Cell,
    Chart,
    Column,
    DefinitionList,
    Dendrogram,
    Document,
    Graphic,
    Heatmap,
    KpiGrid,
    KpiTile,
    Narrative,
    Scatter,
    Section,
    Table,
    split_lead,
)
from reportgen.render.pptx._chart import key_numbers
from reportgen.render.pptx._graphics import graphic_key_numbers
from reportgen.render.pptx._notes import leadership_notes, said_once
from reportgen.render.pptx._slides import arrange, kpi_pages, narrative_size
from reportgen.render.pptx._table import TableFit, paginate
from reportgen.render.pptx._template import Frame
from reportgen.render.pptx._text import one_line
from reportgen.render.pptx._waterfall import waterfall_key_numbers
from reportgen.render.pptx._wbr import wbr_key_numbers

TITLE_LAYOUT = "Title Slide"
CONTENT_LAYOUT = "Title Only"
TEXT_LAYOUT = "Title and Content"

Kind = Literal["title", "kpi", "content", "text"]


@dataclass(frozen=True)
class SlidePlan:
    """One slide to draw: what goes on it, on which layout, and what the presenter says."""

    kind: Kind
    title: str
    layout: str
    notes: tuple[str, ...] = ()
    narrative: tuple[str, ...] = ()
    tiles: tuple[KpiTile, ...] = ()
    chart: Chart | None = None
    table: Table | None = None
    rows: range = range(0)
    fit: TableFit | None = None
    heading: bool = True  # draw the table's title above it (not when the slide title says it)
    continued: str = ""  # suffix for a table heading on a continuation page
    category_title: str | None = None
    graphic: Graphic | None = None  # a heatmap, scatter or dendrogram, alone on its slide
    appendix: bool = False  # in the deck's Appendix section (a brief's supporting slides)


def plan_deck(document: Document, frame: Frame) -> list[SlidePlan]:
    """All slides in order, titles made unique so the outline reads like an agenda."""
    plans = [_title_plan(document)]
    by_section: list[tuple[str, list[SlidePlan]]] = []
    for section in document.sections:
        by_section.append((section.id, plan_section(section, frame, document)))
    if document.brief:
        # a section's talking points go with its first slide; the others are its detail
        by_section = [
            (sid, [ps[0], *(replace(p, notes=()) for p in ps[1:])] if ps else ps)
            for sid, ps in by_section
        ]
        plans += brief_order(document, by_section, frame)
        plans = said_once(
            [replace(p, notes=leadership_notes(p.kind, p.title, p.notes, p.tiles)) for p in plans]
        )
    else:
        plans += [plan for _id, section_plans in by_section for plan in section_plans]
    titles = unique_titles(plan.title for plan in plans)
    return [replace(plan, title=title) for plan, title in zip(plans, titles, strict=True)]


#: sections that stay among a brief's main slides: the bottom line, what changed since, and


def brief_order(
    document: Document, by_section: list[tuple[str, list[SlidePlan]]], frame: Frame | None = None
) -> list[SlidePlan]:
    """A presenter's deck: the brief, one slide per story titled with its message, then the
    rest, in its usual order, marked for the Appendix section (hidden or dropped in one move)."""
    opening = [p for sid, plans in by_section if sid in BRIEF_OPENING for p in plans]
    main = _brief_scorecard(opening)
    # the scorecard's further pages are not chosen: they go to the appendix
    scorecard = [p for p in opening if p.kind == "kpi"]
    chosen: set[int] = {id(p) for p in opening if p.kind != "kpi" or p is scorecard[0]}
    for slide in document.brief:
        plans = next((ps for sid, ps in by_section if sid == slide.section_id), [])
        wanted = f"by {slide.dimension.lower()}" if slide.dimension else None
        pick = next((p for p in plans if wanted and p.title.lower().endswith(wanted)), None)
        pick = pick or (plans[0] if plans else None)
        if pick is None or id(pick) in chosen:
            continue
        bars = _subject_bars(document, slide)
        if bars is not None:  # the breakdown's chart, its subject highlighted; tables stay behind
            told = SlidePlan(
                "content",
                slide.title,
                CONTENT_LAYOUT,
                notes=slide.notes or pick.notes,
                chart=bars,
                category_title=slide.dimension,
            )
            if slide.comments and frame is not None:
                told = _with_comments(told, slide.comments, frame, document)
            main.append(told)
            continue
        chosen.add(id(pick))
        told = replace(pick, title=slide.title, notes=slide.notes or pick.notes)
        if slide.comments and frame is not None:
            told = _with_comments(told, slide.comments, frame, document)
        main.append(told)
    # a comment shown on its story's slide is not repeated on the brief slide
    moved = {line for plan in main if plan.kind == "content" for line in plan.narrative}
    main = [
        replace(p, narrative=tuple(x for x in p.narrative if x not in moved))
        if p.kind == "text"
        else p
        for p in main
    ]
    closing = [p for sid, plans in by_section if sid in BRIEF_CLOSING for p in plans]
    chosen |= {id(p) for p in closing}
    rest = [
        replace(p, appendix=True) for sid, plans in by_section for p in plans if id(p) not in chosen
    ]
    return [*main, *closing, *_renumbered_scorecard(rest)]


def _subject_bars(document: Document, slide: BriefSlide) -> Chart | None:
    """The bar chart of the story's breakdown with its subject highlighted, if the section has
    one: a presenter points at one bar among its peers, not at one row of a long table."""
    if slide.segment is None or slide.dimension is None:
        return None
    section = next((s for s in document.sections if s.id == slide.section_id), None)
    wanted = f"by {slide.dimension.lower()}"
    for block in section.blocks if section is not None else ():
        if (
            isinstance(block, Chart)
            and block.chart_type == "bar"
            and block.title.lower().endswith(wanted)
            and slide.segment in block.categories
        ):
            return replace(block, highlight=slide.segment)
    return None


def _renumbered_scorecard(plans: list[SlidePlan]) -> list[SlidePlan]:
    """The scorecard pages moved to the appendix, numbered among themselves: "(1 of 2)"."""
    moved = [p for p in plans if p.kind == "kpi"]
    if not moved:
        return plans
    base = moved[0].title.split(":")[0].rsplit(" (", 1)[0] + " \u2014 the others"
    titles = {id(p): numbered(base, n, len(moved)) for n, p in enumerate(moved, start=1)}
    return [replace(p, title=titles[id(p)]) if id(p) in titles else p for p in plans]


def _with_comments(
    plan: SlidePlan, comments: tuple[str, ...], frame: Frame, document: Document
) -> SlidePlan:
    """A story slide with its commentary above the chart or table, when it still fits on the
    one slide (the brief slide and the notes carry it in any case)."""
    if plan.kind != "content" or plan.narrative or plan.graphic is not None:
        return plan
    if plan.table is not None:
        if plan.rows != range(len(plan.table.rows)):
            return plan  # a table already continued on another slide
        pages = _table_plans(
            plan.table,
            plan.title,
            frame,
            document,
            narrative=comments,
            chart=plan.chart,
            heading=plan.heading,
        )
        if len(pages) != 1:
            return plan
        return replace(pages[0], category_title=plan.category_title, notes=plan.notes)
    if plan.chart is not None and narrative_size(comments, frame, document.brand) is not None:
        return replace(plan, narrative=comments)
    return plan


def _brief_scorecard(plans: list[SlidePlan]) -> list[SlidePlan]:
    """The brief keeps the scorecard's first page (the missed and unusual tiles lead it); its
    further pages, the metrics on track, move to the appendix."""
    kpi = [p for p in plans if p.kind == "kpi"]
    if len(kpi) <= 1:
        return plans
    first = kpi[0]
    base = first.title.rsplit(" (", 1)[0]
    return [
        replace(first, title=base) if p is first else p
        for p in plans
        if p.kind != "kpi" or p is first
    ]


def _title_plan(document: Document) -> SlidePlan:
    notes = [
        f"{document.title} — {document.subtitle}",
        f"Period: {document.period_label} ({document.timezone})",
        f"Audience: {document.audience}",
    ]
    if document.status_note:
        notes.append(document.status_note)
    agenda = [one_line(s.title) for s in document.sections]
    if agenda:
        notes.append("Agenda: " + "; ".join(agenda))
    return SlidePlan("title", one_line(document.title) or "Report", TITLE_LAYOUT, tuple(notes))


def _blocks(section: Section, kind: type) -> list:
    return [block for block in section.blocks if isinstance(block, kind)]


def _drawable(block: object) -> bool:
    """Charts and tables with nothing in them are skipped rather than drawn empty."""
    if isinstance(block, Chart):
        return bool(block.categories and block.series)
    if isinstance(block, Heatmap):
        return bool(block.labels)
    if isinstance(block, Scatter):
        return bool(block.points)
    if isinstance(block, Dendrogram):
        return bool(block.merges)
    return isinstance(block, Table) and bool(block.columns)


def plan_section(section: Section, frame: Frame, document: Document) -> list[SlidePlan]:
    """A section's slides: KPI tiles, chart + table, continuations, definitions.

    The narrative goes on the section's first slide when it leaves the
    content enough room; otherwise it gets a slide of its own — after a KPI
    scorecard (which stays together), before charts and tables.
    """
    narrative = tuple(p for block in _blocks(section, Narrative) for p in block.paragraphs)
    title = one_line(section.title) or one_line(section.id)
    brand = document.brand
    plans: list[SlidePlan] = []
    pending = narrative
    # a brief: the narrative leads a scorecard (see compose.summary_section)
    leads = bool(section.blocks) and isinstance(section.blocks[0], Narrative)
    leads = leads and bool(_blocks(section, KpiGrid))
    if leads:
        # a brief: the bottom line and the stories' titles are the slide, the scorecard follows;
        # what a story's title leaves out is in the PDF, the notes and the workbook
        plans.append(_text_plan(title, tuple(split_lead(p)[0] or p for p in narrative)))
        grid = _blocks(section, KpiGrid)[0]
        missed = sum(t.target_status == "missed" for t in grid.tiles)
        pending, title = (), f"Key metrics: {missed} of {len(grid.tiles)} missed their target"
    for grid in _blocks(section, KpiGrid):
        pages, with_narrative = kpi_pages(grid.tiles, pending, frame, brand)
        plans.extend(_kpi_plans(pages, title, pending if with_narrative else ()))
        if pending and pages and not with_narrative:
            plans.append(_text_plan(f"{title} — highlights", pending))
        pending = () if pages else pending
    visuals = [b for b in section.blocks if _drawable(b)]
    if visuals:
        first_title = title
        if pending and narrative_size(pending, frame, brand) is None:
            plans.append(_text_plan(title, pending))
            # Titled after what its first slide shows: the first chart or table (they lead).
            lead = next((b for b in visuals if isinstance(b, Chart | Table)), visuals[0])
            pending, first_title = (), continuation_title(title, lead.title)
        plans.extend(_content_plans(section, visuals, first_title, pending, frame, document))
        pending = ()
    for definitions in _blocks(section, DefinitionList):
        table = definitions_table(definitions, title)
        plans.extend(_table_plans(table, title, frame, document, heading=False))
    if pending and not plans:
        plans.append(_text_plan(title, pending))
    notes = section.notes if leads else (*section.notes, *narrative)
    return [replace(p, notes=(*notes, *_key_lines(p))) for p in plans]


def _text_plan(title: str, narrative: tuple[str, ...]) -> SlidePlan:
    return SlidePlan("text", title, TEXT_LAYOUT, narrative=narrative)


def _kpi_plans(
    pages: list[tuple[KpiTile, ...]], title: str, narrative: tuple[str, ...]
) -> list[SlidePlan]:
    return [
        SlidePlan(
            "kpi",
            numbered(title, i + 1, len(pages)),
            CONTENT_LAYOUT,
            narrative=narrative if i == 0 else (),
            tiles=page,
        )
        for i, page in enumerate(pages)
    ]


def _content_plans(
    section: Section,
    visuals: Sequence[Chart | Table | Graphic],
    title: str,
    narrative: tuple[str, ...],
    frame: Frame,
    document: Document,
) -> list[SlidePlan]:
    """First chart and first table together (when the table fits beside the chart
    without breaking its cells); every further block on slides of its own.

    A table that has a chart of its own (same title: a breakdown and its bars)
    shares a slide with that chart, never with another: the first slide then
    holds the narrative and the first chart (the trend).
    """
    chart = next((b for b in visuals if isinstance(b, Chart)), None)
    table = next((b for b in visuals if isinstance(b, Table)), None)
    partners = _partners(visuals)
    if table is not None and id(table) in partners and partners[id(table)] is not chart:
        table = None  # the trend leads alone; the table goes with its own chart below
    if chart is not None and table is not None:
        side = arrange(frame, document.brand, narrative, chart, table)
        if side.fit is None or not side.fit.words_fit:
            table = None  # too wide to sit beside the chart: it follows on its own slide
    if table is not None:
        plans = _table_plans(table, title, frame, document, narrative=narrative, chart=chart)
    else:
        plans = [SlidePlan("content", title, CONTENT_LAYOUT, narrative=narrative, chart=chart)]
    plans[0] = replace(plans[0], category_title=_category_title(chart, section))
    done = {id(chart), id(table)}
    with_table = {id(c) for t, c in partners.items() if t not in done}
    for block in visuals:
        if id(block) in done or id(block) in with_table:
            continue  # drawn, or drawn beside its table
        sub = continuation_title(section.title, block.title)
        partner = partners.get(id(block))
        if isinstance(block, Table) and partner is not None and id(partner) not in done:
            done.add(id(partner))
            plans.extend(_paired_plans(block, partner, sub, frame, document, section))
            continue
        if isinstance(block, Chart):
            plans.append(
                SlidePlan(
                    "content",
                    sub,
                    CONTENT_LAYOUT,
                    chart=block,
                    category_title=_category_title(block, section),
                )
            )
        elif isinstance(block, Table):
            plans.extend(_table_plans(block, sub, frame, document))
        else:
            plans.append(SlidePlan("content", sub, CONTENT_LAYOUT, graphic=block))
    return plans


def _partners(visuals: Sequence[Chart | Table | Graphic]) -> dict[int, Chart]:
    """Table (by id) → the bar chart of the same breakdown (same title)."""
    charts = {b.title: b for b in visuals if isinstance(b, Chart) and b.chart_type == "bar"}
    return {id(b): charts[b.title] for b in visuals if isinstance(b, Table) and b.title in charts}


def _paired_plans(
    table: Table, chart: Chart, title: str, frame: Frame, document: Document, section: Section
) -> list[SlidePlan]:
    """A breakdown table beside its own chart; when it cannot fit there, the chart and then
    the table on consecutive slides (never the table before its chart)."""
    side = arrange(frame, document.brand, (), chart, table)
    category = _category_title(chart, section)
    if side.fit is not None and side.fit.words_fit:
        plans = _table_plans(table, title, frame, document, chart=chart)
        return [replace(plans[0], category_title=category), *plans[1:]]
    first = SlidePlan("content", title, CONTENT_LAYOUT, chart=chart, category_title=category)
    return [first, *_table_plans(table, title, frame, document)]


def numbered(title: str, n: int, total: int) -> str:
    """ "Title (n of N)" on every page of a run of pages — the first included."""
    return title if total == 1 else f"{title} ({n} of {total})"


def _table_plans(
    table: Table,
    title: str,
    frame: Frame,
    document: Document,
    *,
    narrative: tuple[str, ...] = (),
    chart: Chart | None = None,
    heading: bool = True,
) -> list[SlidePlan]:
    """As many rows as fit beside the narrative/chart, the rest alone on continuation slides.

    With more than one page, every page is titled ``title`` with "(n of N)", the
    first too, so a "(2 of 2)" always follows a "(1 of 2)".
    """
    brand = document.brand
    first = arrange(frame, brand, narrative, chart, table, heading=heading)
    assert first.fit is not None
    pages = [(rows, first.fit) for rows in paginate(first.fit, first.capacity, first.capacity)]
    if len(pages) > 1 and (narrative or chart is not None):
        # The first page shares its slide; the rest continue alone, in the full width.
        alone = arrange(frame, brand, (), None, table, heading=heading)
        assert alone.fit is not None
        rest = paginate(alone.fit, alone.capacity, alone.capacity, start=pages[0][0].stop)
        pages = [pages[0], *((rows, alone.fit) for rows in rest)]
    total = len(pages)
    return [
        SlidePlan(
            "content",
            numbered(title, n, total),
            CONTENT_LAYOUT,
            narrative=narrative if n == 1 else (),
            chart=chart if n == 1 else None,
            table=table,
            rows=rows,
            fit=fit,
            heading=heading,
            continued="" if n == 1 else f" (continued, {n} of {total})",
        )
        for n, (rows, fit) in enumerate(pages, start=1)
    ]


def _category_title(chart: Chart | None, section: Section) -> str | None:
    """Label a segment axis with the table column that lists the same segments."""
    if chart is None:
        return None
    for table in _blocks(section, Table):
        for index, column in enumerate(table.columns):
            if [row[index].text for row in table.rows] == list(chart.categories):
                return column.label
    return None


def definitions_table(definitions: DefinitionList, title: str) -> Table:
    """Definitions as a table: term, formula, description, then each extra label as a column."""
    labels: list[str] = []
    for item in definitions.items:
        labels.extend(label for label, _ in item.extra if label not in labels)
    columns = [
        Column("term", "Metric", "left"),
        Column("formula", "Formula", "left"),
        Column("description", "Description", "left"),
    ]
    columns += [Column(f"extra{i}", label, "left") for i, label in enumerate(labels)]
    rows = []
    for item in definitions.items:
        extra = dict(item.extra)
        rows.append(
            (
                Cell(item.term),
                Cell(item.formula),
                Cell(item.description),
                *(Cell(extra.get(label, "—")) for label in labels),
            )
        )
    return Table(title, tuple(columns), tuple(rows))


def continuation_title(section_title: str, block_title: str) -> str:
    """The section's title, then what this slide adds: "Average handle time — by region"."""
    block = one_line(block_title)
    if block.casefold().startswith(section_title.casefold()):
        rest = block[len(section_title) :].strip(" ,:;—–-")
        return f"{section_title} — {rest}" if rest else section_title
    return f"{section_title} — {block}" if block else section_title


def unique_titles(titles: Iterable[str]) -> list[str]:
    """Number repeated titles ("… (2)") so each slide is distinct in the outline."""
    seen: set[str] = set()
    result = []
    for title in titles:
        candidate, n = title, 1
        while candidate.casefold() in seen:
            n += 1
            candidate = f"{title} ({n})"
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


def _key_lines(plan: SlidePlan) -> list[str]:
    """The numbers a presenter should be able to say without reading the slide."""
    lines = []
    for tile in plan.tiles:
        parts = [f"{tile.value_text} {tile.unit}" if tile.unit else tile.value_text]
        if tile.delta:
            parts.append(f"{tile.delta.text} {tile.delta.comparison}")
            if tile.delta.significance:
                parts.append(tile.delta.significance)
        parts.append(f"previous {tile.previous_text}")
        if tile.target_text:
            parts.append(f"{tile.target_text} ({tile.target_status})")
        lines.append(f"{tile.label}: " + ", ".join(parts))
    if plan.chart is not None:
        kind = plan.chart.chart_type
        numbers = {"waterfall": waterfall_key_numbers, "wbr": wbr_key_numbers}.get(
            kind, key_numbers
        )
        lines.extend(numbers(plan.chart))
    if plan.graphic is not None:
        lines.extend(graphic_key_numbers(plan.graphic))
        if plan.graphic.caption:
            lines.append(plan.graphic.caption)
    if plan.table is not None:
        columns = plan.table.columns
        for index in plan.rows:
            row = plan.table.rows[index]
            values = ", ".join(
                f"{c.label} {cell.text}" for c, cell in zip(columns[1:], row[1:], strict=True)
            )
            lines.append(f"{row[0].text}: {values}" if values else row[0].text)
    return ["Key numbers:", *(f"• {line}" for line in lines)] if lines else []
