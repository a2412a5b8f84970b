"""Golden (snapshot) files: outputs pinned as text, refreshed by one flag.

``pytest --update-golden`` rewrites every golden file a test compares; without
it a difference fails with a unified diff of the first lines that changed.
Generated values that are not the report's content (temporary paths, build
times) are normalised away before comparing, so a golden file changes only
when what a reader sees changes.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
MAX_DIFF_LINES = 60


def normalise(text: str, *paths: Path) -> str:
    """``text`` with each of ``paths`` spelled ``<path0>``, ``<path1>`` …"""
    for index, path in enumerate(paths):
        text = text.replace(str(path), f"<path{index}>")
    return text


SIGNIFICANT_DIGITS = 9


def rounded_json(text: str) -> str:
    """JSON ``text`` with every float at 9 significant digits.

    Sums of doubles in a parallel engine differ in their last bits from run to
    run and machine to machine; nine digits is far below anything shown.
    """

    def rounded(value: object) -> object:
        if isinstance(value, float):
            return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
        if isinstance(value, dict):
            return {key: rounded(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rounded(item) for item in value]
        return value

    return json.dumps(rounded(json.loads(text)), indent=1, ensure_ascii=False) + "\n"


def assert_golden(name: str, actual: str, *, update: bool) -> None:
    """``actual`` equals ``tests/golden/<name>``, or rewrites it under ``--update-golden``."""
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.name}: run pytest --update-golden once"
    expected = path.read_text(encoding="utf-8")
    if actual == expected:
        return
    diff = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), f"golden/{name}", "actual", lineterm=""
    )
    shown = "\n".join(line for _, line in zip(range(MAX_DIFF_LINES), diff, strict=False))
    raise AssertionError(
        f"{name} differs from its golden file (pytest --update-golden if the change is "
        f"intended):\n{shown}"
    )


SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def without_svg(html: str) -> str:
    """``html`` with each inline chart reduced to a marker: chart drawing is pinned elsewhere."""
    return SVG.sub("<svg/>", html)


EDITION = re.compile(
    r'(<script type="application/json" id="reportgen-edition">)(.*?)(</script>)', re.S
)


def rounded_edition(html: str) -> str:
    """``html`` with the document its edition carries (render/html/edition.py) one value a
    line and rounded like figures.json: readable diffs, no last-bit noise of parallel sums."""
    return EDITION.sub(lambda m: m.group(1) + "\n" + rounded_json(m.group(2)) + m.group(3), html)
