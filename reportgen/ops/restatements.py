"""Restatements: a number an earlier report of the same series showed has changed since.

Closed days are not final in T&S data (late appeals and QA verdicts, vendors'
corrected files, backfills). Every build that has a run ledger records the
figures it showed — each metric's value per shown period: the trailing series
(current and previous period included) and last year's period — keyed by
report, audience and period. The next build of the same series (same report
and audience) compares what it shows now with what was shown before: a value
whose *displayed* text differs (the formatting layer's precision: 12.1 % → 12.6 %,
never 12.14 % → 12.13 %) is a restatement, reported in a short "Restated since
last report" section and in ``figures.json``.

The reference for a period is the latest earlier report of the series that
showed it, preferring the last one *sent* (what readers actually saw) over
one only built. Incomplete periods are never recorded (they were labelled as
still filling up). Rows live in the ledger database (``reportgen_shown_figures``)
beside runs and sends; a build reads and writes them only when a ledger
exists, like root-cause items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)

from reportgen.formatting import format_value
from reportgen.ops.ledger import UtcDateTime, default_url, sends

if TYPE_CHECKING:
    from reportgen.config.loader import ResolvedReport
    from reportgen.figures import ReportFigures

metadata = MetaData()
shown_figures = Table(
    "reportgen_shown_figures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report", String(200), nullable=False, index=True),
    Column("audience", String(100), nullable=False),
    Column("period", String(40), nullable=False),  # the report's period, e.g. 2026-W47
    Column("run_id", Integer),  # set by a delivery run: its sends tell whether it was sent
    Column("generated_at", UtcDateTime, nullable=False),
    Column("data_through", Date, nullable=False),
    # {metric: {shown period label: value}} — what the report showed, complete periods only
    Column("figures", JSON, nullable=False),
)

#: Causes a restatement is put down to when the metric has no ``matures_after``.
CORRECTED = "corrected source data"


@dataclass(frozen=True)
class Restatement:
    """A value shown in an earlier report of the series that reads differently now."""

    metric: str
    label: str  # the metric's label
    period: str  # the restated period
    was: float
    now: float
    was_text: str
    now_text: str
    shown_in_run: int | None  # the delivery run that showed it (None: built, never run)
    shown_in_period: str  # the earlier report's own period
    shown_at: datetime  # when that report was generated
    sent: bool  # the earlier report was sent (else only built)
    cause: str  # "late appeals" for a maturing metric, else "corrected source data"

    def sentence(self) -> str:
        how = "sent" if self.sent else "built"
        run = f", run {self.shown_in_run}" if self.shown_in_run is not None else ""
        return (
            f"{self.label}, {self.period}: {self.was_text} in the {self.shown_in_period} report "
            f"({how} {self.shown_at:%d %b}{run}), now {self.now_text} — likely {self.cause}."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "period": self.period,
            "was": self.was,
            "now": self.now,
            "shown_in_run": self.shown_in_run,
            "shown_in_period": self.shown_in_period,
            "shown_at": self.shown_at.isoformat(),
            "sent": self.sent,
            "cause": self.cause,
        }


def shown_values(figures: ReportFigures) -> dict[str, dict[str, float]]:
    """What a report shows per metric and period: the complete trailing points and last year."""
    shown: dict[str, dict[str, float]] = {}
    for name, m in figures.metrics.items():
        values = {p.period: p.value for p in m.series if p.complete and p.value is not None}
        if figures.last_year_period is not None and m.last_year is not None:
            values[figures.last_year_period.label] = m.last_year
        shown[name] = values
    return shown


class ShownStore:
    """The ledger's table of shown figures."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        from reportgen.ops.ledger import metadata as ledger_metadata
        from reportgen.ops.ledger import open_tables

        # the sends table is read to find sent runs
        self.engine = open_tables(url, ledger_metadata, metadata, engine=engine)
        self._own = engine is None

    @classmethod
    def for_output(cls, out_dir: str | Path) -> ShownStore:
        return cls(default_url(out_dir))

    def dispose(self) -> None:
        if self._own:
            self.engine.dispose()

    def record(
        self, report: str, audience: str, figures: ReportFigures, generated_at: datetime
    ) -> int:
        values = {
            "report": report,
            "audience": audience,
            "period": figures.period.label,
            "generated_at": generated_at,
            "data_through": figures.last_complete_day,
            "figures": shown_values(figures),
        }
        with self.engine.begin() as conn:
            return int(conn.execute(insert(shown_figures).values(**values)).inserted_primary_key[0])

    def link_run(self, shown_id: int, run_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(shown_figures).where(shown_figures.c.id == shown_id).values(run_id=run_id)
            )

    def earlier(self, report: str, audience: str) -> list[dict[str, Any]]:
        """The series' recorded reports, newest first, each with ``sent`` (any channel sent)."""
        query = (
            select(shown_figures)
            .where(shown_figures.c.report == report, shown_figures.c.audience == audience)
            .order_by(shown_figures.c.id.desc())
        )
        with self.engine.begin() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            runs = {r["run_id"] for r in rows if r["run_id"] is not None}
            sent_runs = (
                set(
                    conn.execute(
                        select(sends.c.run_id).where(
                            sends.c.run_id.in_(runs), sends.c.status == "sent"
                        )
                    ).scalars()
                )
                if runs
                else set()
            )
        for row in rows:
            row["sent"] = row["run_id"] in sent_runs
        return rows


def find_restatements(
    report: ResolvedReport,
    audience: str,
    figures: ReportFigures,
    earlier: list[dict[str, Any]],
) -> tuple[Restatement, ...]:
    """Values this report shows that an earlier report of the series showed differently.

    ``earlier`` is :meth:`ShownStore.earlier` (newest first). Per metric and
    period, the reference is the newest *sent* report that showed it, else the
    newest built one. Changed means the displayed text differs.
    """
    found = []
    for name, values in shown_values(figures).items():
        m = figures.metrics[name]
        metric = report.metric(name)
        for period, now in values.items():
            reference = _reference(earlier, name, period)
            if reference is None:
                continue
            was = float(reference["figures"][name][period])
            was_text = format_value(was, m.format, m.decimals)  # type: ignore[arg-type]
            now_text = format_value(now, m.format, m.decimals)  # type: ignore[arg-type]
            if was_text == now_text:
                continue
            cause = metric.matures_after.cause if metric.matures_after else CORRECTED
            found.append(
                Restatement(
                    metric=name,
                    label=m.label,
                    period=period,
                    was=was,
                    now=now,
                    was_text=was_text,
                    now_text=now_text,
                    shown_in_run=reference["run_id"],
                    shown_in_period=reference["period"],
                    shown_at=reference["generated_at"],
                    sent=reference["sent"],
                    cause=cause,
                )
            )
    # newest period first, then the report's metric order (stable)
    return tuple(sorted(found, key=lambda r: r.period, reverse=True))


def _reference(earlier: list[dict[str, Any]], metric: str, period: str) -> dict[str, Any] | None:
    showing = [
        r
        for r in earlier
        if (v := (r["figures"].get(metric) or {}).get(period)) is not None and _finite(v)
    ]
    if not showing:
        return None
    return next((r for r in showing if r["sent"]), showing[0])


def _finite(value: Any) -> bool:
    try:
        return float(value) == float(value) and abs(float(value)) != float("inf")
    except (TypeError, ValueError):
        return False


def restatements_for(
    out_dir: str | Path, report: ResolvedReport, audience: str, figures: ReportFigures
) -> tuple[Restatement, ...]:
    store = ShownStore.for_output(out_dir)
    try:
        return find_restatements(report, audience, figures, store.earlier(report.id, audience))
    finally:
        store.dispose()


def record_shown(
    out_dir: str | Path, report: str, audience: str, figures: ReportFigures, generated_at: datetime
) -> int:
    store = ShownStore.for_output(out_dir)
    try:
        return store.record(report, audience, figures, generated_at)
    finally:
        store.dispose()


__all__ = ["Restatement", "ShownStore", "find_restatements", "shown_values"]
