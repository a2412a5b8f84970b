"""The editable deck: the document drawn with python-pptx on the brand's master.

Rendering is two steps: :func:`~reportgen.render.pptx._plan.plan_deck` decides
the slides (titles, layouts, pagination, notes) without touching a slide;
drawing then puts each plan onto a new slide of its named layout. A missing
layout is therefore reported before anything is drawn.

Everything a presenter may want to change stays native: titles in title
placeholders, charts as chart parts with their data, tables as tables, KPI
tiles as grouped shapes, talking points in the speaker notes.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from pathlib import Path

from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide

from reportgen.document import Document, Heatmap, Scatter
from reportgen.render.pptx._chart import add_chart
from reportgen.render.pptx._graphics import add_dendrogram, add_heatmap, add_scatter
from reportgen.render.pptx._plan import CONTENT_LAYOUT, SlidePlan, plan_deck
from reportgen.render.pptx._slides import (
    arrange,
    draw_kpi_slide,
    draw_table_block,
    draw_text_slide,
    draw_title_slide,
    narrative_paras,
    text_box,
)
from reportgen.render.pptx._template import (
    Frame,
    add_footer,
    content_frame,
    find_layout,
    open_template,
    remove_all_slides,
    set_title,
)
from reportgen.render.pptx._text import clean_text, one_line
from reportgen.render.pptx._waterfall import add_waterfall
from reportgen.render.pptx._wbr import add_wbr_chart

__all__ = ["SlidePlan", "clean_text", "plan_deck", "render_pptx"]


def render_pptx(document: Document, path: Path) -> None:
    """Write ``document`` as an editable PPTX deck at ``path`` on the brand's master."""
    template = Path(document.brand.pptx_template)
    prs = open_template(template)
    content = find_layout(prs, CONTENT_LAYOUT, template)
    frame = content_frame(content, prs.slide_width, prs.slide_height)
    plans = plan_deck(document, frame)
    # Every layout the plan names is looked up before anything is drawn.
    names = dict.fromkeys(plan.layout for plan in plans)
    layouts = {name: find_layout(prs, name, template) for name in names}
    remove_all_slides(prs)
    footer = footer_text(document)
    size = (prs.slide_width, prs.slide_height)
    for number, plan in enumerate(plans, start=1):
        slide = prs.slides.add_slide(layouts[plan.layout])
        _draw(slide, plan, document, prs, frame)
        if plan.kind != "title":
            add_footer(slide, footer, number=number, slide_size=size)
        slide.notes_slide.notes_text_frame.text = clean_text("\n".join(plan.notes))
    if any(plan.appendix for plan in plans):
        add_sections(prs, document, [plan.appendix for plan in plans])
    _set_properties(prs, document)
    prs.save(str(path))


_SECTIONS_URI = "{521415D9-36F7-43E2-AB2F-B90AF26B5E84}"
_P14 = "http://schemas.microsoft.com/office/powerpoint/2010/main"


def add_sections(prs: PresentationType, document: Document, appendix: list[bool]) -> None:
    """PowerPoint sections "Brief" and "Appendix" (``p14:sectionLst``), so a presenter can
    collapse, hide or drop the supporting slides in one move; other clients ignore them."""
    from lxml import etree

    slide_ids = [s.get("id") for s in prs.slides._sldIdLst]
    root = prs.part._element
    ext_list = root.find(qn("p:extLst"))
    if ext_list is None:
        ext_list = etree.SubElement(root, qn("p:extLst"))
    ext = etree.SubElement(ext_list, qn("p:ext"), uri=_SECTIONS_URI)
    sections = etree.SubElement(ext, f"{{{_P14}}}sectionLst", nsmap={"p14": _P14})
    for name, wanted in (("Brief", False), ("Appendix", True)):
        key = f"{document.report_id}/{document.period_label}/{name}"
        guid = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, key)).upper() + "}"
        section = etree.SubElement(sections, f"{{{_P14}}}section", name=name, id=guid)
        ids = etree.SubElement(section, f"{{{_P14}}}sldIdLst")
        for slide_id, in_appendix in zip(slide_ids, appendix, strict=True):
            if in_appendix == wanted:
                etree.SubElement(ids, f"{{{_P14}}}sldId", id=slide_id)


def footer_text(document: Document) -> str:
    brand = document.brand
    parts = [brand.footer, brand.classification]
    if not document.complete:
        parts.append("Incomplete period")
    return " · ".join(one_line(p) for p in parts if p)


# -- drawing -----------------------------------------------------------------


def _draw(
    slide: Slide, plan: SlidePlan, document: Document, prs: PresentationType, frame: Frame
) -> None:
    brand = document.brand
    if plan.kind == "title":
        draw_title_slide(slide, document, plan.title, prs.slide_width)
        return
    set_title(slide, plan.title)
    if plan.kind == "kpi":
        draw_kpi_slide(slide, plan.tiles, plan.narrative, frame, brand)
    elif plan.kind == "text":
        draw_text_slide(slide, plan.narrative, frame, brand)
    else:
        _draw_content(slide, plan, frame, document)


def _draw_content(slide: Slide, plan: SlidePlan, frame: Frame, document: Document) -> None:
    brand = document.brand
    if plan.graphic is not None:
        graphic = plan.graphic
        if isinstance(graphic, Heatmap):
            add_heatmap(slide, graphic, frame, brand)
        elif isinstance(graphic, Scatter):
            add_scatter(slide, graphic, frame, brand)
        else:
            add_dendrogram(slide, graphic, frame, brand)
        return
    layout = arrange(frame, brand, plan.narrative, plan.chart, plan.table, heading=plan.heading)
    if layout.narrative is not None:
        paras = narrative_paras(plan.narrative, brand, layout.narrative_size)
        text_box(slide, layout.narrative, paras, "Narrative")
    if plan.chart is not None and layout.chart is not None:
        if plan.chart.chart_type == "waterfall":
            add_waterfall(slide, plan.chart, layout.chart, brand)
        elif plan.chart.chart_type == "wbr":
            add_wbr_chart(slide, plan.chart, layout.chart, brand)
        else:
            add_chart(slide, plan.chart, layout.chart, brand, plan.category_title)
    if plan.table is not None and layout.table is not None and plan.fit is not None:
        continued = plan.continued if plan.heading else None
        draw_table_block(slide, plan.table, plan.rows, plan.fit, layout.table, brand, continued)


def _property(value: str) -> str:
    """One line of at most 255 characters: python-pptx refuses longer core properties."""
    text = one_line(value)
    return text if len(text) <= 255 else text[:254] + "…"


def _set_properties(prs: PresentationType, document: Document) -> None:
    """Document properties from the document: a deck says what it is in File → Info."""
    props = prs.core_properties
    props.title = _property(document.title)
    props.subject = _property(f"{document.subtitle} — {document.period_label}")
    props.author = _property(document.brand.name)
    props.last_modified_by = "reportgen"
    props.keywords = _property(f"{document.report_id}; {document.audience}")
    props.revision = 1
    generated = document.generated_at
    if generated.tzinfo is not None:  # core properties are UTC without an offset
        generated = generated.astimezone(UTC).replace(tzinfo=None)
    props.created = props.modified = generated
