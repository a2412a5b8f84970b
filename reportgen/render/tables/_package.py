"""Splice body rows (:mod:`._sheet_xml`) into the sheets of a workbook openpyxl saved.

openpyxl saves the workbook with header rows only; this copies its package
part by part into the real file and, in each sheet that has a body, puts the
rows at the end of ``<sheetData>``, widens ``<dimension>`` to the rows and
adds the ``<hyperlinks>`` element where the schema wants it. Sheets are found
through the package's own relationships (``_rels/.rels`` → workbook →
sheets), not by openpyxl's file naming.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from reportgen.render.tables._sheet_xml import SheetBody

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
#: Elements that follow ``<hyperlinks>`` in a worksheet (ECMA-376 CT_Worksheet order).
_AFTER_HYPERLINKS = re.compile(
    rb"<(?:printOptions|pageMargins|pageSetup|headerFooter|rowBreaks|colBreaks|customProperties"
    rb"|cellWatches|ignoredErrors|smartTags|drawing|legacyDrawing|legacyDrawingHF|drawingHF"
    rb"|picture|oleObjects|controls|webPublishItems|tableParts|extLst)\b|</worksheet>"
)
#: zlib level for the copied parts: level 1 is several times faster than the default 6 on
#: the body rows' repetitive XML, for a file a few percent larger.
COMPRESSION_LEVEL = 6


class PackageError(ValueError):
    """The saved workbook does not have the structure the splice relies on."""


def splice_bodies(package: bytes, bodies: Mapping[str, SheetBody], path: Path) -> None:
    """Write ``package`` (an XLSX saved with header rows only) to ``path`` with ``bodies`` added.

    ``bodies`` maps sheet names to their rows.
    """
    with zipfile.ZipFile(BytesIO(package)) as source:
        parts = sheet_parts(source)
        missing = set(bodies) - set(parts)
        if missing:
            raise PackageError(f"the workbook has no sheet named {sorted(missing)}")
        by_part = {parts[name]: body for name, body in bodies.items()}
        try:
            _copy_with_bodies(source, by_part, path)
        except BaseException:
            path.unlink(missing_ok=True)  # never a half-written workbook
            raise


def _copy_with_bodies(
    source: zipfile.ZipFile, by_part: Mapping[str, SheetBody], path: Path
) -> None:
    with zipfile.ZipFile(
        path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL
    ) as target:
        for info in source.infolist():
            data = source.read(info)
            body = by_part.get(info.filename)
            with target.open(info.filename, "w") as out:
                if body is None:
                    out.write(data)
                else:
                    _write_sheet(out, data, body, info.filename)


def sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the part (zip entry) holding its XML."""
    workbook = _target("", _relationships(package, "_rels/.rels"), _OFFICE_DOCUMENT)
    folder, name = posixpath.split(workbook)
    rels = _relationships(package, posixpath.join(folder, "_rels", name + ".rels"))
    root = ElementTree.fromstring(package.read(workbook))
    parts = {}
    for sheet in root.iter(_MAIN + "sheet"):
        target = rels[sheet.attrib[_REL + "id"]][1]
        parts[sheet.attrib["name"]] = _resolve(folder, target)
    return parts


def _relationships(package: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id → (type, target) of a relationships part."""
    root = ElementTree.fromstring(package.read(part))
    return {
        rel.attrib["Id"]: (rel.attrib["Type"], rel.attrib["Target"])
        for rel in root.iter(_PACKAGE_REL + "Relationship")
    }


def _target(folder: str, rels: dict[str, tuple[str, str]], kind: str) -> str:
    for rel_type, target in rels.values():
        if rel_type == kind:
            return _resolve(folder, target)
    raise PackageError(f"the package has no {kind.rsplit('/', 1)[-1]} part")


def _resolve(folder: str, target: str) -> str:
    """A relationship target as a zip entry name (absolute targets start at the package root)."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(folder, target))


def _write_sheet(out: IO[bytes], xml: bytes, body: SheetBody, part: str) -> None:
    """The sheet's XML with the body rows, their dimension and their links."""
    xml = xml.replace(b"<sheetData/>", b"<sheetData></sheetData>", 1)  # a sheet without a header
    end = xml.rfind(b"</sheetData>")
    if end < 0 or b"<hyperlinks" in xml:
        raise PackageError(f"{part}: expected a <sheetData> element and no links")
    head, tail = xml[:end], xml[end:]
    if body.dimension is not None:
        head = _DIMENSION.sub(f'<dimension ref="{body.dimension}"/>'.encode(), head, count=1)
    out.write(head)
    for chunk in body.chunks:
        out.write(chunk.encode("utf-8"))
    links = body.hyperlinks_xml().encode("utf-8")
    if links:
        at = _AFTER_HYPERLINKS.search(tail)
        assert at is not None  # "</worksheet>" always matches
        tail = tail[: at.start()] + links + tail[at.start() :]
    out.write(tail)
