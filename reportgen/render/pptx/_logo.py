"""The brand logo on the deck's title slide, on a white card like the PDF cover's.

PowerPoint cannot be relied on to draw SVG (python-pptx has no SVG picture
type and older clients show nothing), so an SVG logo is rasterised to PNG by
vl-convert's resvg at four times its size — sharp on a projector — after the
same sanitising as chart SVG, so a logo cannot fetch anything while it is drawn.
"""

from __future__ import annotations

import io
from pathlib import Path

from pptx.enum.shapes import MSO_SHAPE
from pptx.slide import Slide
from pptx.util import Emu, Inches

from reportgen.errors import RenderError
from reportgen.render.charts.svg import sanitize_svg

LOGO_HEIGHT = Inches(0.42)
CARD_PADDING = Inches(0.1)
MAX_LOGO_WIDTH = Inches(3.0)
RASTER_SCALE = 4.0


def logo_image(logo: Path) -> io.BytesIO:
    """The logo as bytes python-pptx can place: PNG for SVG, the file itself otherwise."""
    try:
        data = logo.read_bytes()
    except OSError as error:
        raise RenderError(f"cannot read the brand logo {logo}: {error}", logo=str(logo)) from error
    if logo.suffix.lower() != ".svg":
        return io.BytesIO(data)
    import vl_convert

    try:
        png = vl_convert.svg_to_png(sanitize_svg(data.decode("utf-8")), scale=RASTER_SCALE)
    except Exception as error:  # resvg and the XML parser raise their own types
        raise RenderError(
            f"cannot draw the brand logo {logo}: {error}",
            logo=str(logo),
            fix="use a valid SVG, PNG or JPEG file as the brand's logo",
        ) from error
    return io.BytesIO(png)


def place_logo(slide: Slide, logo: Path, left: int, top: int) -> int:
    """A white rounded card at (left, top) holding the logo at LOGO_HEIGHT; its height."""
    picture = slide.shapes.add_picture(logo_image(logo), left + CARD_PADDING, top + CARD_PADDING)
    picture.name = "Brand logo"
    ratio = picture.width / picture.height if picture.height else 1.0
    height = LOGO_HEIGHT if ratio * LOGO_HEIGHT <= MAX_LOGO_WIDTH else int(MAX_LOGO_WIDTH / ratio)
    picture.height, picture.width = Emu(height), Emu(int(height * ratio))
    card = slide.shapes.add_shape(
        MSO_SHAPE.ROUNDED_RECTANGLE,
        left,
        top,
        picture.width + 2 * CARD_PADDING,
        picture.height + 2 * CARD_PADDING,
    )
    card.name = "Logo card"
    card.fill.solid()
    card.fill.fore_color.rgb = _white()
    card.line.fill.background()
    card.shadow.inherit = False
    # the card was added last: move it behind the picture
    tree = slide.shapes._spTree
    tree.remove(card._element)
    tree.insert(tree.index(picture._element), card._element)
    return card.height


def _white():
    from pptx.dml.color import RGBColor

    return RGBColor(0xFF, 0xFF, 0xFF)
