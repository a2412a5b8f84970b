"""Brand config: colours, fonts, logo, footer and the PPTX master, as data."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reportgen.config._yaml import load_yaml, validate_model
from reportgen.document import Brand
from reportgen.errors import ConfigError

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _hex(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError(f"colour must be a #RRGGBB hex string, e.g. '#1F3A5F', not {value!r}")
    return value.upper()


class BrandColors(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    primary: str
    secondary: str
    accent: str
    text: str
    muted: str
    background: str = "#FFFFFF"
    good: str
    bad: str
    neutral: str
    palette: list[str] = Field(min_length=3)

    @field_validator(
        "primary", "secondary", "accent", "text", "muted", "background", "good", "bad", "neutral"
    )
    @classmethod
    def _check_hex(cls, value: str) -> str:
        return _hex(value)

    @field_validator("palette")
    @classmethod
    def _check_palette(cls, values: list[str]) -> list[str]:
        return [_hex(v) for v in values]


class BrandFonts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    body: str = "Inter"
    heading: str = "Inter"


class BrandConfig(BaseModel):
    """The YAML shape of a brand file (paths relative to the file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    colors: BrandColors
    fonts: BrandFonts = BrandFonts()
    logo: str | None = None
    footer: str = ""
    classification: str = ""
    pptx_template: str


def load_brand(path: Path) -> Brand:
    """Load and validate a brand file; every referenced asset must exist."""
    path = Path(path)
    source = load_yaml(path)
    config = validate_model(BrandConfig, source)
    base = path.parent

    def asset(key: str, value: str) -> Path:
        resolved = (base / value).resolve()
        if not resolved.is_file():
            raise ConfigError(
                f"{key} file '{value}' does not exist (resolved to {resolved})",
                file=path,
                line=source.line_of((key,)),
                key=key,
                fix="paths in a brand file are relative to the brand file itself",
            )
        return resolved

    def unusable(key: str, value: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(
            f"{key} file '{value}' {problem}",
            file=path,
            line=source.line_of((key,)),
            key=key,
            fix=fix,
        )

    logo = asset("logo", config.logo) if config.logo else None
    template = asset("pptx_template", config.pptx_template)
    if logo is not None and (problem := _logo_problem(logo)):
        raise unusable(
            "logo",
            str(config.logo),
            problem,
            "point 'logo' at a readable SVG, PNG, JPEG, GIF or WebP image",
        )
    if problem := _pptx_problem(template):
        raise unusable(
            "pptx_template",
            config.pptx_template,
            problem,
            "save the master from PowerPoint as a .pptx presentation (not .potx, .ppt or "
            "a renamed file) and make it readable, or point 'pptx_template' at "
            "templates/pptx/default.pptx",
        )
    c = config.colors
    return Brand(
        name=config.name,
        primary=c.primary,
        secondary=c.secondary,
        accent=c.accent,
        text=c.text,
        muted=c.muted,
        background=c.background,
        good=c.good,
        bad=c.bad,
        neutral=c.neutral,
        palette=tuple(c.palette),
        font_family=config.fonts.body,
        heading_font_family=config.fonts.heading,
        footer=config.footer,
        classification=config.classification,
        logo=logo,
        pptx_template=template,
        assets_dir=(logo.parent if logo else template.parent),
    )


# -- is the asset usable? (checked at load, so a bad file fails before any work) ----------------

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_PPTX_TYPES = (
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
)


def _read(path: Path) -> tuple[bytes | None, str | None]:
    try:
        return path.read_bytes(), None
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"


def _logo_problem(path: Path) -> str | None:
    data, problem = _read(path)
    if data is None:
        return problem
    head = data[:512]
    is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    is_svg = b"<svg" in data[:4096].lower()
    if not (head.startswith(_IMAGE_MAGIC) or is_webp or is_svg):
        return "is not an SVG, PNG, JPEG, GIF or WebP image"
    return None


def _pptx_problem(path: Path) -> str | None:
    """Why python-pptx could not open ``path`` as a presentation, or None."""
    import zipfile
    import zlib

    data, problem = _read(path)
    if data is None:
        return problem
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            broken = package.testzip()
            if broken is not None:
                return f"is corrupt (damaged member {broken})"
            types = package.read("[Content_Types].xml").decode("utf-8", "replace")
    except zlib.error as exc:
        return f"is corrupt ({exc})"
    except (
        zipfile.BadZipFile,
        KeyError,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as exc:
        return f"is not a PowerPoint .pptx package ({exc})"
    if not any(t in types for t in _PPTX_TYPES):
        return "is not a .pptx presentation (a template .potx, a slide show or another Office file)"
    return None
