"""The PPTX master template: open it, find its layouts by name, read its grid.

The template is brand data (``brand.pptx_template``), so nothing here knows
where placeholders are: the content area, the footer row and the title
position are read from the layouts themselves. A presenter's own master —
4:3 or 16:9, titles left or centred — therefore works unchanged, and layouts
are looked up by the names every PowerPoint user knows ("Title Only"), not by
index, which differs from one template to the next.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.enum.text import PP_ALIGN
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide, SlideLayout
from pptx.util import Emu, Inches, Pt

from reportgen.errors import RenderError
from reportgen.render.pptx._text import clean_text, text_width

GAP = Inches(0.15)
FOOTER_SIZES = (9.0, 8.0, 7.0)
SLIDE_NUMBER_FIELD_ID = "{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}"  # fixed: reproducible output
TITLE_GAP = Inches(0.25)  # room for a rule or accent under the title
TITLE_TYPES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)


@dataclass(frozen=True)
class Frame:
    """A rectangle in EMU; the unit every python-pptx position takes."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def below(self, height: int, gap: int = GAP) -> Frame:
        """What is left of this frame after taking ``height`` (+ gap) off its top."""
        used = min(self.height, height + gap) if height else 0
        return Frame(self.left, self.top + used, self.width, self.height - used)

    def top_part(self, height: int) -> Frame:
        return Frame(self.left, self.top, self.width, min(height, self.height))

    def columns(self, first_width: int, gap: int = Inches(0.3)) -> tuple[Frame, Frame]:
        """Split left/right: the first ``first_width`` wide, the rest after a gap."""
        second = self.width - first_width - gap
        return (
            Frame(self.left, self.top, first_width, self.height),
            Frame(self.left + first_width + gap, self.top, second, self.height),
        )

    def args(self) -> tuple[Emu, Emu, Emu, Emu]:
        """Positional arguments for python-pptx ``add_*`` calls."""
        return Emu(self.left), Emu(self.top), Emu(self.width), Emu(self.height)


def open_template(path: Path) -> PresentationType:
    """Open the brand's master, with an error that names the file if it can't be read."""
    if not Path(path).is_file():
        raise RenderError(
            f"PPTX template '{path}' does not exist",
            fix="set pptx_template in the brand file to an existing .pptx, "
            "or rebuild the default with: python scripts/build_pptx_master.py",
            template=str(path),
        )
    try:
        return Presentation(str(path))
    except Exception as error:  # python-pptx raises zipfile/KeyError/ValueError variants
        raise RenderError(
            f"PPTX template '{path}' is not a readable .pptx file ({error})",
            fix="save the master from PowerPoint as .pptx (not .potx or .ppt)",
            template=str(path),
        ) from error


def _normalise(name: str) -> str:
    return " ".join(name.casefold().split())


def find_layout(prs: PresentationType, name: str, template: Path) -> SlideLayout:
    """The layout called ``name`` (case and spacing ignored), or a RenderError naming both."""
    layouts = list(prs.slide_layouts)
    for layout in layouts:
        if layout.name == name:
            return layout
    for layout in layouts:
        if _normalise(layout.name) == _normalise(name):
            return layout
    available = ", ".join(f"'{layout.name}'" for layout in layouts) or "none"
    raise RenderError(
        f"PPTX template '{template}' has no slide layout named '{name}'",
        fix=f"add a layout named '{name}' to the template's master (it has: {available})",
        template=str(template),
        layout=name,
    )


def remove_all_slides(prs: PresentationType) -> None:
    """Drop the template's own slides (sample content must never reach a deck)."""
    slide_ids = prs.slides._sldIdLst
    for slide_id in list(slide_ids):
        prs.part.drop_rel(slide_id.rId)
        slide_ids.remove(slide_id)


def _placeholder(layout: SlideLayout, *types: PP_PLACEHOLDER):
    for shape in layout.placeholders:
        if shape.placeholder_format.type in types:
            return shape
    return None


def title_frame(layout: SlideLayout, slide_width: int) -> Frame:
    """Where the layout's title sits (or a sensible band if it has none)."""
    title = _placeholder(layout, *TITLE_TYPES)
    if title is None or title.width is None:
        return Frame(Inches(0.5), Inches(0.3), slide_width - Inches(1.0), Inches(0.9))
    return Frame(title.left, title.top, title.width, title.height)


def content_frame(layout: SlideLayout, slide_width: int, slide_height: int) -> Frame:
    """The free area of a content slide: below the title, above the footer row."""
    title = title_frame(layout, slide_width)
    footer_top = min(
        (
            shape.top
            for shape in layout.placeholders
            if shape.placeholder_format.type
            in (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER, PP_PLACEHOLDER.DATE)
            and shape.top is not None
            and shape.top > title.bottom
        ),
        default=slide_height - Inches(0.55),
    )
    top = title.bottom + TITLE_GAP
    return Frame(title.left, top, title.width, footer_top - GAP - top)


def set_title(slide: Slide, text: str) -> None:
    """Put the title into the title placeholder, so the outline view lists it."""
    title = slide.shapes.title
    if title is None:
        raise RenderError(
            f"slide layout '{slide.slide_layout.name}' has no title placeholder",
            fix="give the layout a title placeholder in the template's master",
            layout=slide.slide_layout.name,
        )
    title.text_frame.text = clean_text(text)


def add_footer(slide: Slide, text: str, *, number: int | None, slide_size: tuple[int, int]) -> None:
    """Footer text and slide number, in the layout's footer placeholders where it has them.

    python-pptx does not copy footer placeholders onto new slides (PowerPoint
    only does so when "Header & Footer" is ticked); cloning them keeps the
    master's position and style, and the slide number is a live field. A
    layout without them gets small text boxes along the bottom edge instead.
    """
    layout = slide.slide_layout
    width, height = slide_size
    bottom = Frame(Inches(0.4), height - Inches(0.45), width - Inches(0.8), Inches(0.3))
    if text:
        footer = _placeholder(layout, PP_PLACEHOLDER.FOOTER)
        shape = _clone(slide, footer) if footer is not None else _box(slide, bottom, "Footer")
        shape.text_frame.text = clean_text(text)
        size = footer_size(text, shape.width - Inches(0.2))
        for run in shape.text_frame.paragraphs[0].runs:
            run.font.size = Pt(size)
    if number is not None:
        slide_number = _placeholder(layout, PP_PLACEHOLDER.SLIDE_NUMBER)
        if slide_number is not None:
            shape = _clone(slide, slide_number)
        else:
            corner = Frame(bottom.right - Inches(0.8), bottom.top, Inches(0.8), bottom.height)
            shape = _box(slide, corner, "Slide number")
            shape.text_frame.paragraphs[0].alignment = PP_ALIGN.RIGHT
        _slide_number_field(shape, slide_number, number)


def _box(slide: Slide, frame: Frame, name: str):
    box = slide.shapes.add_textbox(*frame.args())
    box.name = name
    return box


def footer_size(text: str, width: int) -> float:
    """The largest small size (9 → 7 pt) at which the footer stays on one line."""
    for size in FOOTER_SIZES:
        if text_width(text, size) <= width:
            return size
    return FOOTER_SIZES[-1]


def _clone(slide: Slide, layout_placeholder):
    """Clone a layout placeholder onto the slide at its inherited position.

    The position is written out explicitly because LibreOffice (and so the
    PDF conversion) otherwise drops a footer's inherited position and style.
    """
    slide.shapes.clone_placeholder(layout_placeholder)
    shape = slide.shapes[len(slide.shapes) - 1]
    shape.left, shape.top = layout_placeholder.left, layout_placeholder.top
    shape.width, shape.height = layout_placeholder.width, layout_placeholder.height
    return shape


def _slide_number_field(shape, layout_shape, number: int) -> None:
    """A ``<a:fld type="slidenum">`` (a live number, not text), the layout's own if it has one.

    The field's cached text is set to ``number`` for viewers that do not
    recompute fields (previews, text extraction).
    """
    source = None if layout_shape is None else layout_shape._element.find(qn("p:txBody"))
    field = None if source is None else source.find(f".//{qn('a:fld')}[@type='slidenum']")
    if field is None:
        field = parse_xml(f'<a:fld {nsdecls("a")} id="{SLIDE_NUMBER_FIELD_ID}" type="slidenum"/>')
        field.append(parse_xml(f"<a:t {nsdecls('a')}/>"))
    field = copy.deepcopy(field)
    field.find(qn("a:t")).text = str(number)
    paragraph = shape._element.get_or_add_txBody().find(qn("a:p"))
    for child in list(paragraph):
        if child.tag != qn("a:pPr"):
            paragraph.remove(child)
    paragraph.append(field)
