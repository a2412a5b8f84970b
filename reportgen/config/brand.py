"""Brand config: colours, fonts, logo, footer and the PPTX master, as data."""

from __future__ import annotations

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

    logo = asset("logo", config.logo) if config.logo else None
    template = asset("pptx_template", config.pptx_template)
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
