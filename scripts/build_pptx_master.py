"""Build ``templates/pptx/default.pptx`` from python-pptx's default template.

The PPTX master is a source asset, but a binary one: this script is its
source code. It starts from python-pptx's own default template (so every
standard layout name PowerPoint users know is there), widens the master and
every layout to 16:9, restyles the master for a leadership deck (left-aligned
titles, a quiet footer row, a title-slide band) and writes the default brand's
colours and fonts into the theme, so "Reset slide" and theme-aware tools
(Google Slides, LibreOffice) show the brand too.

The output is reproducible: same brand file and python-pptx version give the
same package contents (fixed timestamps, fixed core properties).

    python scripts/build_pptx_master.py [--brand configs/brands/default.yaml] [--out templates/pptx/default.pptx]
"""

from __future__ import annotations

import argparse
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches

from reportgen.config._yaml import load_yaml, validate_model
from reportgen.config.brand import BrandConfig
from reportgen.render.pptx._text import tint

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BRAND = ROOT / "configs" / "brands" / "default.yaml"
DEFAULT_OUT = ROOT / "templates" / "pptx" / "default.pptx"

WIDTH, HEIGHT = Emu(12192000), Emu(6858000)  # 13.333 × 7.5 in, PowerPoint "Widescreen"
OLD_WIDTH = 9144000  # python-pptx's default template is 4:3 (10 × 7.5 in)
FIXED_TIME = datetime(2026, 1, 1, tzinfo=UTC)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
A = "http://schemas.openxmlformats.org/drawingml/2006/main"


@dataclass(frozen=True)
class Box:
    """A rectangle in inches (the unit a designer thinks in)."""

    x: float
    y: float
    w: float
    h: float


# The master grid every content layout inherits.
TITLE = Box(0.5, 0.3, 12.333, 0.85)
BODY = Box(0.5, 1.4, 12.333, 5.35)
FOOTER = Box(0.5, 6.98, 8.5, 0.32)
DATE = Box(9.2, 6.98, 2.4, 0.32)
SLIDE_NUMBER = Box(11.733, 6.98, 1.1, 0.32)
TITLE_RULE = Box(0.5, 1.2, 0.6, 0.05)
# python-pptx's master body after widening, to move Two Content etc. into the new body.
OLD_BODY = Box(0.5 * 4 / 3, 1.75, 9.0 * 4 / 3, 4.95)

# Layouts whose title sits elsewhere: the master's title rule would float in the wrong place.
NO_MASTER_SHAPES = (
    "Title Slide",
    "Section Header",
    "Blank",
    "Content with Caption",
    "Picture with Caption",
    "Vertical Title and Text",
)
# Layouts whose content placeholders sit in the master body area and follow it.
BODY_LAYOUTS = ("Two Content", "Comparison")


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brand", type=Path, default=DEFAULT_BRAND)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(list(argv) if argv is not None else None)
    args.out.write_bytes(build_master(args.brand))
    print(f"wrote {args.out}")


def build_master(brand_file: Path) -> bytes:
    """Return the bytes of the branded 16:9 master built from ``brand_file``."""
    brand = validate_model(BrandConfig, load_yaml(Path(brand_file)))
    prs = Presentation()
    _widen(prs)
    master = prs.slide_master
    _restyle_master(master._element, brand.colors.muted)
    for layout in prs.slide_layouts:
        _restyle_layout(layout.name, layout._element)
    _set_core_properties(prs, brand.name)
    buffer = io.BytesIO()
    prs.save(buffer)
    return _repack(
        buffer.getvalue(), {"ppt/theme/theme1.xml": lambda xml: _brand_theme(xml, brand)}
    )


# -- geometry ---------------------------------------------------------------


def _widen(prs: Presentation) -> None:
    """16:9 at the same height: every x and width scale by 4/3, heights stay."""
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    sld_sz = prs.part._element.find(qn("p:sldSz"))
    sld_sz.attrib.pop("type", None)  # "screen4x3" would be a lie now
    factor = WIDTH / OLD_WIDTH
    for part in [prs.slide_master, *prs.slide_layouts]:
        for off in part._element.iter(qn("a:off")):
            off.set("x", str(round(int(off.get("x")) * factor)))
        for ext in part._element.iter(qn("a:ext")):
            ext.set("cx", str(round(int(ext.get("cx")) * factor)))


def _set_box(sp: etree._Element, box: Box) -> None:
    """Give a shape an explicit position (creating ``a:xfrm`` if it inherits one)."""
    sp_pr = sp.find(qn("p:spPr"))
    xfrm = sp_pr.find(qn("a:xfrm"))
    if xfrm is None:
        xfrm = etree.SubElement(sp_pr, qn("a:xfrm"))
        sp_pr.insert(0, xfrm)
    for child in list(xfrm):
        xfrm.remove(child)
    etree.SubElement(xfrm, qn("a:off"), x=str(Inches(box.x)), y=str(Inches(box.y)))
    etree.SubElement(xfrm, qn("a:ext"), cx=str(Inches(box.w)), cy=str(Inches(box.h)))


def _placeholders(tree: etree._Element) -> dict[str, etree._Element]:
    """Placeholder shapes of a master or layout by type (``body`` if untyped)."""
    found = {}
    for sp in tree.iter(qn("p:sp")):
        ph = sp.find(f"{qn('p:nvSpPr')}/{qn('p:nvPr')}/{qn('p:ph')}")
        if ph is not None:
            found.setdefault(ph.get("type", "body"), sp)
            found.setdefault(f"idx{ph.get('idx', '0')}", sp)
    return found


# -- master and layouts ------------------------------------------------------


def _restyle_master(master: etree._Element, muted: str) -> None:
    ph = _placeholders(master)
    for kind, box in (
        ("title", TITLE),
        ("body", BODY),
        ("dt", DATE),
        ("ftr", FOOTER),
        ("sldNum", SLIDE_NUMBER),
    ):
        _set_box(ph[kind], box)
    ph["title"].find(f"{qn('p:txBody')}/{qn('a:bodyPr')}").set("anchor", "b")
    for kind, align in (("dt", "r"), ("ftr", "l"), ("sldNum", "r")):
        lvl1 = ph[kind].find(f"{qn('p:txBody')}/{qn('a:lstStyle')}/{qn('a:lvl1pPr')}")
        lvl1.set("algn", align)
        def_rpr = lvl1.find(qn("a:defRPr"))
        def_rpr.set("sz", "900")
        _set_fill(def_rpr, srgb=muted.lstrip("#"))
    _title_rule(master)
    styles = master.find(qn("p:txStyles"))
    title = styles.find(f"{qn('p:titleStyle')}/{qn('a:lvl1pPr')}")
    title.set("algn", "l")
    title_rpr = title.find(qn("a:defRPr"))
    title_rpr.set("sz", "2800")
    title_rpr.set("b", "1")
    _set_fill(title_rpr, scheme="tx2")
    body_sizes = {1: 2000, 2: 1800, 3: 1600, 4: 1400}
    for level in range(1, 10):
        lvl = styles.find(f"{qn('p:bodyStyle')}/{qn(f'a:lvl{level}pPr')}")
        lvl.find(qn("a:defRPr")).set("sz", str(body_sizes.get(level, 1400)))
        lvl.find(qn("a:spcBef")).find(qn("a:spcPct")).set("val", "30000")


def _title_rule(master: etree._Element) -> None:
    """A short accent bar under the title: the one decorative mark of the master."""
    tree = master.find(f"{qn('p:cSld')}/{qn('p:spTree')}")
    sp = etree.fromstring(
        f'<p:sp xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="{A}">'
        '<p:nvSpPr><p:cNvPr id="20" name="Title rule"/><p:cNvSpPr/><p:nvPr userDrawn="1"/></p:nvSpPr>'
        '<p:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
        '<a:solidFill><a:schemeClr val="accent2"/></a:solidFill><a:ln><a:noFill/></a:ln></p:spPr>'
        "</p:sp>"
    )
    _set_box(sp, TITLE_RULE)
    tree.append(sp)


def _restyle_layout(name: str, layout: etree._Element) -> None:
    if name in NO_MASTER_SHAPES:
        layout.set("showMasterSp", "0")
    if name == "Title Slide":
        _restyle_title_slide(layout)
    elif name in BODY_LAYOUTS:
        for kind, sp in _placeholders(layout).items():
            if kind.startswith("idx") and kind not in ("idx0", "idx10", "idx11", "idx12"):
                _remap(sp, OLD_BODY, BODY)


def _remap(sp: etree._Element, old: Box, new: Box) -> None:
    """Keep a body placeholder's place within the body area after the body moved."""
    xfrm = sp.find(f"{qn('p:spPr')}/{qn('a:xfrm')}")
    if xfrm is None:
        return
    off, ext = xfrm.find(qn("a:off")), xfrm.find(qn("a:ext"))
    for pos, size, start, length, new_start, new_length in (
        ("x", "cx", old.x, old.w, new.x, new.w),
        ("y", "cy", old.y, old.h, new.y, new.h),
    ):
        scale = new_length / length
        off.set(pos, str(round((int(off.get(pos)) - Inches(start)) * scale + Inches(new_start))))
        ext.set(size, str(round(int(ext.get(size)) * scale)))


def _restyle_title_slide(layout: etree._Element) -> None:
    """A brand-coloured band with the title in white, the subtitle below it."""
    tree = layout.find(f"{qn('p:cSld')}/{qn('p:spTree')}")
    band = etree.fromstring(
        f'<p:sp xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="{A}">'
        '<p:nvSpPr><p:cNvPr id="20" name="Title band"/><p:cNvSpPr/><p:nvPr userDrawn="1"/></p:nvSpPr>'
        '<p:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
        '<a:solidFill><a:schemeClr val="tx2"/></a:solidFill><a:ln><a:noFill/></a:ln></p:spPr>'
        "</p:sp>"
    )
    _set_box(band, Box(0, 0, 13.334, 4.3))
    stripe = etree.fromstring(etree.tostring(band))
    stripe.find(f"{qn('p:nvSpPr')}/{qn('p:cNvPr')}").attrib.update(
        {"id": "21", "name": "Title stripe"}
    )
    stripe.find(f"{qn('p:spPr')}/{qn('a:solidFill')}/{qn('a:schemeClr')}").set("val", "accent2")
    _set_box(stripe, Box(0, 4.3, 13.334, 0.08))
    tree.insert(2, band)  # after nvGrpSpPr and grpSpPr: drawn behind the placeholders
    tree.insert(3, stripe)
    ph = _placeholders(layout)
    _set_box(ph["ctrTitle"], Box(0.75, 1.0, 11.833, 3.0))
    _set_box(ph["subTitle"], Box(0.75, 4.65, 11.833, 2.3))
    title_body = ph["ctrTitle"].find(qn("p:txBody"))
    title_body.find(qn("a:bodyPr")).set("anchor", "b")
    title_lvl = _lvl1(title_body)
    title_lvl.set("algn", "l")
    title_rpr = title_lvl.find(qn("a:defRPr"))
    title_rpr.set("sz", "4000")
    _set_fill(title_rpr, scheme="bg1")
    sub_body = ph["subTitle"].find(qn("p:txBody"))
    sub_body.find(qn("a:bodyPr")).set("anchor", "t")
    for lvl in sub_body.find(qn("a:lstStyle")):
        lvl.set("algn", "l")
        lvl.find(qn("a:defRPr")).set("sz", "2000")
        _set_fill(lvl.find(qn("a:defRPr")), scheme="tx1")


def _lvl1(tx_body: etree._Element) -> etree._Element:
    lst = tx_body.find(qn("a:lstStyle"))
    lvl = lst.find(qn("a:lvl1pPr"))
    if lvl is None:
        lvl = etree.SubElement(lst, qn("a:lvl1pPr"))
    if lvl.find(qn("a:defRPr")) is None:
        etree.SubElement(lvl, qn("a:defRPr"))
    return lvl


def _set_fill(rpr: etree._Element, *, scheme: str | None = None, srgb: str | None = None) -> None:
    """Replace a run property's fill with one theme or RGB colour (first child, per schema)."""
    for old in rpr.findall(qn("a:solidFill")):
        rpr.remove(old)
    fill = etree.Element(qn("a:solidFill"))
    if scheme:
        etree.SubElement(fill, qn("a:schemeClr"), val=scheme)
    else:
        etree.SubElement(fill, qn("a:srgbClr"), val=srgb)
    rpr.insert(0, fill)


# -- theme, properties, packaging -------------------------------------------


def _brand_theme(xml: bytes, brand: BrandConfig) -> bytes:
    """Write the brand into the theme's colour scheme and font scheme."""
    theme = etree.fromstring(xml)
    theme.set("name", brand.name)
    c = brand.colors
    slots = {
        "dk1": c.text,
        "lt1": c.background,
        "dk2": c.primary,
        "lt2": "#" + tint(c.primary, 0.9),
        **{f"accent{i + 1}": colour for i, colour in enumerate(c.palette[:6])},
        "hlink": c.secondary,
        "folHlink": c.muted,
    }
    scheme = theme.find(f"{{{A}}}themeElements/{{{A}}}clrScheme")
    scheme.set("name", brand.name)
    for slot, colour in slots.items():
        element = scheme.find(f"{{{A}}}{slot}")
        for child in list(element):
            element.remove(child)
        etree.SubElement(element, f"{{{A}}}srgbClr", val=colour.lstrip("#").upper())
    fonts = theme.find(f"{{{A}}}themeElements/{{{A}}}fontScheme")
    fonts.set("name", brand.name)
    fonts.find(f"{{{A}}}majorFont/{{{A}}}latin").set("typeface", brand.fonts.heading)
    fonts.find(f"{{{A}}}minorFont/{{{A}}}latin").set("typeface", brand.fonts.body)
    return etree.tostring(theme, xml_declaration=True, encoding="UTF-8", standalone=True)


def _set_core_properties(prs: Presentation, brand_name: str) -> None:
    props = prs.core_properties
    props.title = f"{brand_name} master"
    props.author = "reportgen"
    props.last_modified_by = "scripts/build_pptx_master.py"
    props.comments = "Built by scripts/build_pptx_master.py; edit the script, not this file."
    props.revision = 1
    props.created = props.modified = FIXED_TIME.replace(tzinfo=None)


def _repack(package: bytes, rewrites: dict[str, object]) -> bytes:
    """Rewrite some members and fix every timestamp, so rebuilding changes no bytes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            rewrite = rewrites.get(info.filename)
            if rewrite is not None:
                data = rewrite(data)  # type: ignore[operator]
            target.writestr(zipfile.ZipInfo(info.filename, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


if __name__ == "__main__":
    main()
