"""The CSV folder: one tidy file per workbook table, exact numbers, neutralised text.

Also the delivery of a directory artifact: a rebuild swaps the whole folder,
and a failed swap leaves the previous one in place.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from reportgen import build_report
from reportgen.document import Brand
from reportgen.errors import DeliveryError, RenderError
from reportgen.ops import staging as staging_module
from reportgen.ops.staging import staged_output
from reportgen.render.tables._safe_cells import FORMULA_TRIGGERS, is_formula_like
from reportgen.render.tables.csv_export import render_csv

from ._sample import sample_document
from .test_render_xlsx import HOSTILE, REGIONS, hostile_document

NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[+-]?\d+)?$")


@pytest.fixture(scope="module")
def exported(exports_report):
    return exports_report


@pytest.fixture(scope="module")
def folder(exported) -> Path:
    return exported.artifacts["csv"]


@pytest.fixture(scope="module")
def figures(exported) -> dict[str, Any]:
    return json.loads(exported.artifacts["figures"].read_text(encoding="utf-8"))


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_folder_lands_beside_the_workbook(exported, folder: Path) -> None:
    assert folder.name == "weekly_leadership_2026-W47_csv" and folder.is_dir()
    assert folder.parent == exported.artifacts["xlsx"].parent
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_one_file_per_workbook_table(exported, folder: Path) -> None:
    """Every sheet but the workbook's Index (links to sheets mean nothing in a folder)."""
    workbook = load_workbook(exported.artifacts["xlsx"])
    tables = {name.removeprefix("tbl_") for ws in workbook for name in ws.tables}
    assert {p.stem for p in folder.iterdir()} == tables - {"index"}
    assert all(p.suffix == ".csv" for p in folder.iterdir())
    assert {"summary", "series", "breakdowns", "daily", "anomalies", "about"} <= tables
    assert {"series_by_region", "series_by_region_queue", "segment_changes"} <= tables


def test_files_are_utf8_with_a_header_and_no_index(folder: Path) -> None:
    for path in folder.iterdir():
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), path.name  # no BOM: pipelines read it as data
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        header = rows[0]
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", key) for key in header), path.name
        assert all(len(row) == len(header) for row in rows), path.name
        frame = pd.read_csv(path)
        assert list(frame.columns) == header  # no unnamed index column


def test_summary_numbers_round_trip_exactly(folder: Path, figures) -> None:
    rows = {r["metric_id"]: r for r in read(folder / "summary.csv")}
    assert list(rows) == list(figures["metrics"])
    for name, m in figures["metrics"].items():
        row = rows[name]
        for column, key in [
            ("current", "value"),
            ("previous", "previous"),
            ("delta", "delta"),
            ("delta_pct", "delta_pct"),
            ("last_year", "last_year"),
            ("target", "target"),
            ("vs_target", "vs_target"),
        ]:
            expected = m[key]
            assert row[column] == ("" if expected is None else repr(expected)), (name, column)
            if expected is not None:
                assert float(row[column]) == expected
        expected_status = {True: "met", False: "missed", None: ""}[m["target_met"]]
        assert row["target_status"] == expected_status
        p_value = figures["insights"]["tests"][name].get("p_value")
        assert row["p_value"] == ("" if p_value is None else repr(p_value))


def test_every_csv_matches_its_workbook_sheet(exported, folder: Path) -> None:
    """The same tables: each CSV field is the workbook cell, numbers exactly."""
    workbook = load_workbook(exported.artifacts["xlsx"])
    for ws in workbook:
        (table,) = ws.tables
        if table == "tbl_index":
            continue
        sheet_rows = list(ws.iter_rows(min_row=2, values_only=True))
        csv_rows = read(folder / f"{table.removeprefix('tbl_')}.csv")
        assert len(csv_rows) == len(sheet_rows), ws.title
        for sheet_row, csv_row in zip(sheet_rows, csv_rows, strict=True):
            for cell, text in zip(sheet_row, csv_row.values(), strict=True):
                if cell is None:
                    assert text == ""
                elif isinstance(cell, bool):
                    assert text == str(cell).lower()
                elif isinstance(cell, int | float):
                    assert float(text) == cell
                elif isinstance(cell, datetime):
                    assert text == cell.date().isoformat()
                else:
                    assert text == ("'" + cell if is_formula_like(cell) else cell), ws.title


def test_breakdowns_reaggregate_in_pandas(folder: Path, figures) -> None:
    """The same long table as the workbook: Σ numerator / Σ denominator per period = figures.json."""
    frame = pd.read_csv(folder / "breakdowns.csv")
    assert set(frame["dimension"]) == {"region", "queue", "site", "region × queue", "region × site"}
    for name, m in figures["metrics"].items():
        if m["type"] == "quantile":  # quantiles do not re-aggregate (hence their sketch)
            continue
        rows = frame[frame["metric_id"] == name]
        sums = rows.groupby(["dimension", "period"])[["numerator", "denominator"]].sum(min_count=1)
        expected = {p["period"]: p["value"] for p in m["series"]}
        assert {p for _, p in sums.index} == set(expected)
        for (dimension, period), row in sums.iterrows():
            den = row["denominator"]
            value = row["numerator"] if pd.isna(den) else row["numerator"] / den
            assert value == pytest.approx(expected[period], rel=1e-12), (name, dimension, period)


def test_series_has_iso_dates(folder: Path, figures) -> None:
    rows = read(folder / "series.csv")
    expected = [p for m in figures["metrics"].values() for p in m["series"]]
    assert [r["start"] for r in rows] == [p["start"] for p in expected]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["start"]) for r in rows)
    assert [float(r["value"]) for r in rows] == [p["value"] for p in expected]


def test_a_document_without_figures_is_a_render_error(brand: Brand, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="carries no figures"):
        render_csv(sample_document(brand), tmp_path / "x_csv")


# -- hostile labels ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_folder(exported, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile_csv"
    render_csv(hostile_document(exported.document), path)
    return path


def test_hostile_labels_are_prefixed(hostile_folder: Path) -> None:
    rows = read(hostile_folder / "breakdowns.csv")
    regions = {r["segment"] for r in rows if r["dimension"] == "region"}
    hostile = [s.replace("\x01", "") for s in HOSTILE[: len(REGIONS)]]
    assert regions == {"'" + s if is_formula_like(s) else s for s in hostile}
    assert "'" + HOSTILE[0] in regions
    negatives = [r["value"] for r in read(hostile_folder / "segment_changes.csv")]
    negatives = [v for v in negatives if v.startswith("-")]
    assert all(NUMBER.match(v) for v in negatives)  # numbers are never prefixed


def test_no_hostile_field_survives_anywhere(hostile_folder: Path) -> None:
    fields = 0
    for path in hostile_folder.iterdir():
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for text in row:
                    fields += 1
                    if text.startswith(FORMULA_TRIGGERS):
                        assert NUMBER.match(text), (path.name, text)
    assert fields > 500


def test_hostile_dimension_names_make_safe_unique_file_names(hostile_folder: Path) -> None:
    names = sorted(p.name for p in hostile_folder.iterdir())
    assert all(re.fullmatch(r"[a-z0-9_]+\.csv", n) for n in names)
    assert "series_by_site_x_1.csv" in names  # dimension "site/x[1]:*?"
    assert [p.parent for p in hostile_folder.iterdir()] == [hostile_folder] * len(names)


# -- delivering a directory ---------------------------------------------------------------------


def test_a_rebuild_swaps_the_whole_folder(weekly_config: Path, tmp_path: Path) -> None:
    first = build_report(weekly_config, period="2026-W47", formats=["csv"], out_dir=tmp_path)
    stale = first.artifacts["csv"] / "stale_table.csv"
    stale.write_text("from an older build\n", encoding="utf-8")
    second = build_report(weekly_config, period="2026-W47", formats=["csv"], out_dir=tmp_path)
    assert second.artifacts["csv"] == first.artifacts["csv"]
    assert not stale.exists()
    assert (second.artifacts["csv"] / "summary.csv").is_file()
    assert sorted(p.name for p in second.out_dir.iterdir()) == [
        "figures.json",
        "weekly_leadership_2026-W47_csv",
    ]


def test_a_failed_swap_puts_the_previous_folder_back(tmp_path: Path, monkeypatch) -> None:
    final = tmp_path / "out"
    (final / "report_csv").mkdir(parents=True)
    (final / "report_csv" / "old.csv").write_text("old\n", encoding="utf-8")
    real_replace = os.replace

    def flaky(source, target):
        if ".staging-" in str(source):  # moving the new folder in fails (e.g. disk error)
            raise OSError(5, "Input/output error")
        real_replace(source, target)

    monkeypatch.setattr(staging_module.os, "replace", flaky)
    with (
        pytest.raises(DeliveryError, match="Input/output error"),
        staged_output(final) as staging,
    ):
        new = staging.path("report_csv")
        new.mkdir()
        (new / "new.csv").write_text("new\n", encoding="utf-8")
    assert sorted(p.name for p in final.iterdir()) == ["report_csv"]
    assert [p.name for p in (final / "report_csv").iterdir()] == ["old.csv"]


def test_a_file_artifact_still_replaces_atomically(tmp_path: Path) -> None:
    final = tmp_path / "out"
    final.mkdir()
    (final / "report.pdf").write_text("old", encoding="utf-8")
    with staged_output(final) as staging:
        staging.path("report.pdf").write_text("new", encoding="utf-8")
    assert (final / "report.pdf").read_text(encoding="utf-8") == "new"
    assert [p.name for p in final.iterdir()] == ["report.pdf"]


def _left_by_a_killed_build(final: Path, kept_new: bool) -> Path:
    """The folders a build killed mid-swap leaves: the old CSV folder set aside, maybe the new."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    aside = final / f".replaced-{socket.gethostname()}-{dead.pid}-x1y2"
    (aside / "report_csv").mkdir(parents=True)
    (aside / "report_csv" / "old.csv").write_text("old\n", encoding="utf-8")
    if kept_new:
        (final / "report_csv").mkdir()
        (final / "report_csv" / "new.csv").write_text("new\n", encoding="utf-8")
    return aside


def test_a_folder_set_aside_by_a_killed_swap_is_put_back_by_the_next_build(tmp_path: Path):
    final = tmp_path / "out"
    aside = _left_by_a_killed_build(final, kept_new=False)

    with staged_output(final) as staging:
        staging.path("report.pdf").write_text("pdf", encoding="utf-8")

    assert not aside.exists()
    assert [p.name for p in (final / "report_csv").iterdir()] == ["old.csv"]


def test_a_folder_set_aside_after_its_replacement_landed_is_deleted(tmp_path: Path):
    final = tmp_path / "out"
    aside = _left_by_a_killed_build(final, kept_new=True)

    with staged_output(final) as staging:
        staging.path("report.pdf").write_text("pdf", encoding="utf-8")

    assert not aside.exists()
    assert [p.name for p in (final / "report_csv").iterdir()] == ["new.csv"]
    assert sorted(p.name for p in final.iterdir()) == ["report.pdf", "report_csv"]
