"""Fuzzing: random labels and random config mutations never crash reportgen or corrupt a file.

Part of the threat list in :mod:`tests.test_threats`. Two properties:

* every text field of the data (queue, site, region, policy, language, team …
  labels), replaced by arbitrary Unicode — control characters, lone
  surrogates, right-to-left and combining text, emoji, 500-character labels,
  very long numbers — builds a PDF that pypdf parses, a PPTX python-pptx
  re-opens, an XLSX openpyxl re-opens and HTML, or fails with a
  :class:`~reportgen.errors.ReportgenError`; never another exception;
* a valid report config with a random mutation (a key deleted, renamed or
  given another type, garbage inserted into the text) loads, or fails with a
  :class:`~reportgen.errors.ConfigError` naming the file and line.

The cube is computed once from a small demo data set; each example relabels
it (the labels are what the renderers see). The profile is derandomized, so
CI replays the same examples every run.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reportgen.errors import ConfigError, ReportgenError

FUZZ = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CONFIG_FUZZ = settings(FUZZ, max_examples=300)

REPORT = {
    "id": "fuzz",
    "title": "Fuzzed labels",
    "catalog": "../catalog.yaml",
    "sources": "../sources.yaml",
    "brand": "../brands/default.yaml",
    "period": {"grain": "week", "timezone": "UTC"},
    "metrics": ["decisions", "qa_accuracy"],
    "breakdowns": ["queue", "policy"],
    "trailing_periods": 6,
    "sections": ["summary", "anomalies", "decomposition", "metrics"],
    "insights": {
        "anomalies": {"dimensions": ["site", "team", "language", "region"], "threshold": 3.5},
        "decomposition": {"dimensions": ["queue"], "top": 5},
    },
    "outputs": ["pdf", "pptx", "html", "xlsx"],
}

#: the strings most likely to break a file format, mixed into the random ones
NASTY = [
    "",
    " ",
    "\x00",
    "Ctrl\x01\x0b\x1f\x7f",
    "{{ 7*7 }}",
    "=1+2",
    "@SUM(A1)",
    "\t-3",
    "\r+cmd",
    '<img src="file:///etc/passwd">',
    "معلومات مضللة",
    "e\u0301\u0301\u0301",
    "🚩👩‍👩‍👧‍👦",
    "\u202eRTL override",
    "L" + "ong label " * 50,
    "9" * 400,
    "1e308",
    "NaN",
]
#: any Unicode text but lone surrogates: no engine can deliver them in data (DuckDB, Parquet and
#: Arrow strings are UTF-8) and the config loader refuses them with file and line (fuzzed below)
labels = st.one_of(
    st.sampled_from(NASTY),
    st.text(min_size=0, max_size=60),
    st.text(max_size=3).map(lambda s: s * 200),
)


@pytest.fixture(scope="module")
def small_project(tmp_path_factory, demo_configs):
    """A small demo data set, the fuzz report over it, and its cube (computed once)."""
    from reportgen.build import cached_cube, resolve_period
    from reportgen.config.loader import load_report
    from reportgen.demo import generate_demo_data

    root = tmp_path_factory.mktemp("fuzz")
    generate_demo_data(root / "data", rows=20_000, weeks=26, seed=11)
    configs = root / "configs"
    shutil.copytree(demo_configs, configs)
    shutil.copytree(demo_configs.parent / "templates", root / "templates")
    sources = configs / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    demo = str(Path(yaml.safe_load(text)["targets"]["path"]).parent)
    sources.write_text(text.replace(demo, str(root / "data")), encoding="utf-8")
    path = configs / "reports" / "fuzz.yaml"
    path.write_text(yaml.safe_dump(REPORT, sort_keys=False), encoding="utf-8")
    report = load_report(path)
    cube = cached_cube(report, True, lambda _m: None)
    return report, cube, resolve_period(report, cube, None), root


def _relabel(cube, names: list[str]):  # queue, policy, site, team, language, region
    """The cube with every distinct label of every text dimension replaced, in order, by ``names``."""
    import pandas as pd

    frames = {}
    mapping: dict[str, str] = {}
    for key, frame in cube.frames.items():
        frame = frame.copy()
        for column in frame.columns:
            if column == "day" or pd.api.types.is_numeric_dtype(frame[column]):
                continue
            for value in sorted(frame[column].dropna().unique()):
                if value not in mapping:  # distinct labels stay distinct, as GROUP BY made them
                    mapping[value] = f"{names[len(mapping) % len(names)]} {len(mapping)}"
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].cat.rename_categories(mapping)
            else:
                frame[column] = frame[column].map(lambda v: mapping.get(v, v))
        frames[key] = frame
    assert mapping  # the labels really changed
    return replace(cube, frames=frames)


def _check_files(artifacts: dict[str, Path]) -> None:
    from openpyxl import load_workbook
    from pptx import Presentation
    from pypdf import PdfReader

    reader = PdfReader(artifacts["pdf"], strict=True)
    assert len(reader.pages) > 0
    for page in reader.pages[:2]:
        page.extract_text()
    assert len(Presentation(artifacts["pptx"]).slides) > 0
    assert load_workbook(artifacts["xlsx"]).sheetnames
    assert artifacts["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@FUZZ
@given(names=st.lists(labels, min_size=1, max_size=12), title=labels, subtitle=labels)
def test_random_labels_build_valid_files_or_fail_cleanly(
    small_project, tmp_path_factory, names, title, subtitle
):
    from reportgen.build import build_audience

    report, cube, period, _root = small_project
    config = report.config.model_copy(update={"title": title, "subtitle": subtitle})
    report = replace(report, config=config)
    out = tmp_path_factory.mktemp("fuzz-out")
    try:
        result = build_audience(
            report,
            _relabel(cube, names),
            report.config.audience_list()[0],
            period,
            ["pdf", "pptx", "html", "xlsx"],
            out,
            datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
        )
    except ReportgenError as error:
        event(f"failed cleanly: {type(error).__name__}: {str(error)[:150]}")
        assert not [p for p in out.rglob("*") if p.is_file()]  # nothing half-done either
        return
    _check_files(result.artifacts)
    event("built valid files")


# -- configs -------------------------------------------------------------------------------------

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.text(st.characters(exclude_categories=()), max_size=20),  # lone surrogates too
    st.lists(st.text(max_size=8), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=2),
)


def _paths(node, prefix=()):
    """Every (path to a key or item) in a parsed YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _parent(tree, path):
    for step in path[:-1]:
        tree = tree[step]
    return tree


@st.composite
def mutated_configs(draw) -> str:
    """The fuzz report's YAML with one to three random mutations."""
    tree = yaml.safe_load(yaml.safe_dump(REPORT))
    text = None
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "retype", "rename", "garbage"]))
        paths = list(_paths(tree))
        if kind == "garbage" or not paths:
            text = text or yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)
            at = draw(st.integers(0, len(text)))
            junk = draw(
                st.one_of(
                    st.sampled_from(
                        [
                            ":",
                            "- ",
                            "\t",
                            "{",
                            "]",
                            "&a",
                            "*b",
                            "!!python/object:os.system",
                            "\n  x: 1",
                            "%YAML 9",
                        ]
                    ),
                    st.text(max_size=10),
                )
            )
            text = text[:at] + junk + text[at:]
            continue
        if text is not None:
            continue  # structural mutations only before the text is garbled
        path = draw(st.sampled_from(paths))
        parent, last = _parent(tree, path), path[-1]
        if kind == "delete":
            del parent[last]
        elif kind == "retype":
            parent[last] = draw(values)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = parent.pop(last)
    return text if text is not None else yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)


@CONFIG_FUZZ
@given(text=mutated_configs())
def test_mutated_configs_load_or_fail_with_file_and_line(small_project, text):
    from reportgen.config.loader import load_report

    *_, root = small_project
    path = root / "configs" / "reports" / "mutated.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_report(path)
    except ConfigError as error:
        event("ConfigError with file and line")
        assert error.context.get("file"), str(error)
        assert error.context.get("line"), str(error)
    else:
        event("loaded")
