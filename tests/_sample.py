"""A hand-built document with every block type, for renderer tests.

Renderer tests use it so that they exercise layout without depending on the
data pipeline; pipeline tests use real demo data instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from reportgen.document import (
    Brand,
    Cell,
    Chart,
    ChartSeries,
    Column,
    Definition,
    DefinitionList,
    Delta,
    Document,
    KpiGrid,
    KpiTile,
    Narrative,
    Section,
    Table,
)

WEEKS = tuple(f"2026-W{w}" for w in range(35, 48))


def sample_document(brand: Brand) -> Document:
    tiles = (
        KpiTile(
            "decisions",
            "Decisions",
            412_345,
            "412k",
            Delta("+3.4%", "up", "neutral", "vs 2026-W46"),
            "399k",
            None,
            "none",
        ),
        KpiTile(
            "aht",
            "Average handle time",
            61.4,
            "61 s",
            Delta("+14 s", "up", "bad", "vs 2026-W46"),
            "47 s",
            "target 50 s",
            "missed",
        ),
        KpiTile(
            "qa_accuracy",
            "QA accuracy",
            0.912,
            "91.2%",
            Delta("−2.1 pp", "down", "bad", "vs 2026-W46"),
            "93.3%",
            "target 93.0%",
            "missed",
        ),
        KpiTile(
            "sla_attainment",
            "SLA attainment",
            0.962,
            "96.2%",
            Delta("+0.4 pp", "up", "good", "vs 2026-W46"),
            "95.8%",
            "target 95.0%",
            "met",
        ),
        KpiTile(
            "automation_rate",
            "Automation rate",
            0.611,
            "61.1%",
            Delta("±0.0 pp", "flat", "neutral", "vs 2026-W46"),
            "61.1%",
            None,
            "none",
        ),
    )
    summary = Section(
        id="summary",
        title="Executive summary",
        role="summary",
        blocks=(
            KpiGrid(tiles),
            Narrative(
                (
                    "Average handle time rose 14 s to 61 s, above its 50 s target.",
                    "QA accuracy fell 2.1 pp to 91.2%, below its 93.0% target.",
                )
            ),
        ),
        notes=("AHT rose 14 s week over week.", "QA accuracy missed target."),
    )
    aht_values = (48.0, 47.5, 49.1, 46.8, 47.9, 48.3, 47.0, 46.5, 47.7, 48.8, 47.2, 47.4, 61.4)
    trend = Chart(
        title="Average handle time, last 13 weeks",
        chart_type="line",
        categories=WEEKS,
        series=(
            ChartSeries("Average handle time", aht_values, "primary"),
            ChartSeries("Target", (50.0,) * 13, "target"),
        ),
        value_format="seconds",
        value_label="seconds",
        highlight=WEEKS[-1],
    )
    regions = (
        "North America",
        "Latin America",
        "Europe",
        "Middle East",
        "Africa",
        "South Asia",
        "Southeast Asia",
        "East Asia",
    )
    table = Table(
        title="Average handle time by region",
        columns=(
            Column("segment", "Region", "left"),
            Column("value", "AHT"),
            Column("previous", "Previous"),
            Column("delta", "Δ"),
            Column("share", "Share of volume"),
        ),
        rows=tuple(
            (
                Cell(r, r),
                Cell(f"{50 + i} s", 50.0 + i),
                Cell(f"{48 + i} s", 48.0 + i),
                Cell("+2 s", 2.0, "bad"),
                Cell(f"{12.5:.1f}%", 0.125),
            )
            for i, r in enumerate(regions)
        ),
    )
    bars = Chart(
        title="Average handle time by region",
        chart_type="bar",
        categories=regions,
        series=(
            ChartSeries("2026-W47", tuple(50.0 + i for i in range(8)), "primary"),
            ChartSeries("2026-W46", tuple(48.0 + i for i in range(8)), "comparison"),
        ),
        value_format="seconds",
        value_label="seconds",
    )
    metric = Section(
        id="aht",
        title="Average handle time",
        role="metric",
        blocks=(Narrative(("Average handle time rose 14 s to 61 s.",)), trend, bars, table),
        notes=("AHT 61 s vs 47 s previous week.",),
    )
    appendix = Section(
        id="definitions",
        title="Metric definitions",
        role="appendix",
        blocks=(
            DefinitionList(
                (
                    Definition(
                        "Average handle time",
                        "Σ handle_seconds / Σ manual decisions",
                        "Mean seconds a moderator spends per manual decision.",
                        (("Unit", "seconds"), ("Better", "lower"), ("Owner", "ops-analytics")),
                    ),
                    Definition(
                        "QA accuracy",
                        "Σ qa_correct / Σ qa_sampled",
                        "Share of QA-sampled decisions judged correct.",
                        (("Unit", "percent"), ("Better", "higher"), ("Owner", "quality")),
                    ),
                )
            ),
        ),
    )
    return Document(
        report_id="weekly_leadership",
        title="Weekly T&S Operations Review",
        subtitle="Leadership summary",
        period_label="2026-W47 (16–22 Nov 2026)",
        period_start=date(2026, 11, 16),
        period_end=date(2026, 11, 22),
        timezone="UTC",
        audience="leadership",
        generated_at=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
        complete=True,
        brand=brand,
        sections=(summary, metric, appendix),
    )
