"""The one way reportgen makes a Jinja2 environment: sandboxed, strict, escaping HTML.

Templates can be replaced by users (``$REPORTGEN_TEMPLATES``), so every
template — the HTML report and the email bodies — runs in Jinja's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`: no attribute that
starts with ``_`` (so no ``''.__class__.__mro__`` escape), no mutating the
document passed in. A template that tries fails with the package's own
:class:`~reportgen.errors.RenderError` naming the template, never a bare
``SecurityError`` traceback.

Data values are only ever *values* to Jinja: a segment label reading
``{{ 7*7 }}`` is printed as those characters, because templates are loaded
from files and never built from data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from reportgen.errors import RenderError


def sandboxed_environment(
    folder: Path | Sequence[Path], autoescape: bool | Callable[[str | None], bool]
) -> ImmutableSandboxedEnvironment:
    """A sandboxed environment loading from ``folder`` (or folders, the first one's templates
    winning: the site draws the report's partials too); undefined variables are errors."""
    folders = [folder] if isinstance(folder, Path) else list(folder)
    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader([str(f) for f in folders]),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def failing_template(error: BaseException, default: str) -> tuple[str, int | None]:
    """The template (file name) and line a Jinja error happened at.

    A syntax error carries both. An error while rendering (an undefined name,
    a failing filter) carries neither, but Jinja rewrites the traceback so that
    template code appears as frames of the template file at the template's line:
    the innermost such frame is where it failed.
    """
    name = getattr(error, "filename", None) or getattr(error, "name", None)
    if name:
        return str(name), getattr(error, "lineno", None)
    found, line = default, None
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found, line = filename, tb.tb_lineno
        tb = tb.tb_next
    return found, line


def render_error(error: TemplateError, default: str, **context: Any) -> RenderError:
    """A :class:`RenderError` naming the template and line; sandbox violations say so."""
    template, line = failing_template(error, default)
    where = f"{template} line {line}" if line else template
    if isinstance(error, SecurityError):
        return RenderError(
            f"template {where} tried something the sandbox forbids: {error}",
            fix="user templates may only read the values they are given "
            "(no attributes starting with '_', no changing the document)",
            template=template,
            line=line,
            **context,
        )
    return RenderError(
        f"template {where} failed: {type(error).__name__}: {error}",
        fix="correct the template, or unset $REPORTGEN_TEMPLATES to use the shipped ones",
        template=template,
        line=line,
        **context,
    )
