"""A template override folder (``$REPORTGEN_TEMPLATES``) checked before anything is built.

The renderers read their Jinja2 templates from ``$REPORTGEN_TEMPLATES/html``
and ``…/email`` when the variable is set. A folder that lacks a template,
holds one that cannot be read, or one with a Jinja syntax error would
otherwise fail in the middle of a build (or of a scheduled send); here each
problem becomes one :class:`ConfigError` naming the template file, the line
and the fix.
"""

from __future__ import annotations

import os
from pathlib import Path

from reportgen.errors import ConfigError

ENV_VAR = "REPORTGEN_TEMPLATES"
#: the repository's own templates: the override must provide every file they have
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "templates"


def check_template_override(*, email: bool = False) -> Path | None:
    """Check ``$REPORTGEN_TEMPLATES`` (if set): every HTML (and, with ``email``, email) template.

    Returns the folder checked, or None when the variable is unset.
    """
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    root = Path(value).expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(
            f"${ENV_VAR} is '{value}', which is not a folder",
            file=root,
            fix=f"point ${ENV_VAR} at a copy of the repository's templates/ folder, or unset it",
        )
    for part in ("html", "email") if email else ("html",):
        shipped = DEFAULT_ROOT / part
        for default in sorted(shipped.iterdir()) if shipped.is_dir() else ():
            _check_file(root / part / default.name, default)
    return root


def _check_file(path: Path, default: Path) -> None:
    relative = f"{default.parent.name}/{default.name}"
    if not path.is_file():
        raise ConfigError(
            f"the template folder ${ENV_VAR} lacks {relative}",
            file=path,
            fix=f"copy it from the repository: cp {default} {path}",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"template {relative} cannot be read ({reason})",
            file=path,
            fix="make it a UTF-8 text file readable by the user running reportgen",
        ) from None
    if path.suffix != ".j2":
        return
    from jinja2 import Environment, TemplateSyntaxError

    try:
        Environment().parse(text, name=relative, filename=str(path))
    except TemplateSyntaxError as exc:
        raise ConfigError(
            f"Jinja syntax error in template {relative}: {exc.message}",
            file=path,
            line=exc.lineno,
            fix=f"correct the template near that line (compare with {default})",
        ) from None
