"""A PDF's page references built once per page count, not at every use.

WeasyPrint's tagged PDF names the page of every marked-content element, link
and anchor by ``pdf.page_references[page]``, and pydyf's
``PDF.page_references`` is a property that builds a fresh tuple of every
page's ``b"N 0 R"`` each time it is read. The weekly leadership PDF (51 pages,
~3,000 tagged elements) reads it ~6,900 times: ~350,000 references formatted
to use ~6,900, about a tenth of the PDF's writing time.

:func:`install` replaces the property with one that keeps the tuple while
the number of pages stays the same; a page added (pydyf appends
``[number, 0, "R"]`` to ``Kids``) builds it again. The references are the
same bytes, so the PDF is too (``tests/test_speed_pdf_write.py``). pydyf's
own property is still what builds them: on a pydyf without it, nothing is
installed.
"""

from __future__ import annotations

from typing import Any

_CACHE = "_reportgen_page_references"
_installed = False
#: pydyf's own property, once :func:`install` has replaced it.
original: property | None = None


def install() -> bool:
    """Keep each PDF's page references from now on in this process; False if pydyf has none.

    Idempotent: the renderers call it before every PDF.
    """
    global _installed, original
    if _installed:
        return True
    import pydyf

    own = pydyf.PDF.__dict__.get("page_references")
    if not isinstance(own, property) or own.fget is None:
        return False
    build = own.fget

    def page_references(pdf: Any) -> tuple[bytes, ...]:
        count = len(pdf.pages["Kids"])
        kept = pdf.__dict__.get(_CACHE)
        if kept is None or kept[0] != count:
            kept = (count, build(pdf))
            pdf.__dict__[_CACHE] = kept
        return kept[1]

    pydyf.PDF.page_references = property(page_references, doc=own.__doc__)
    original, _installed = own, True
    return True
