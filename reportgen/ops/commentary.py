"""Commentary: what an analyst or a metric's owner says about a number before the report goes out.

A report can compute that Misinformation volume doubled; only a person knows
it was a coordinated campaign that a policy launch will absorb. A comment is
attached to a metric (optionally one segment of it, or one story of the
brief) for one period, and is shown, attributed, beside the numbers it
explains: under its story in the leadership brief and on the brief slide, or
on its metric's KPI tile, and in ``figures.json``.

Comments live in the run ledger's database (``$REPORTGEN_LEDGER_URL`` or
``<out>/ledger.sqlite``), like the root-cause items of :mod:`reportgen.ops.rca`,
so the scheduler, the CLI and the next build share them, and a report held
for review picks up comments added meanwhile when it is rebuilt.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, insert, select

from reportgen.errors import ConfigError
from reportgen.ops.ledger import UtcDateTime, default_url
from reportgen.ops.ledger_location import ledger_exists

#: A comment is a few sentences beside a number, not a report of its own.
MAX_COMMENT_CHARS = 600
STORY_ID = re.compile(r"S-[0-9a-f]{8}")


class CommentaryError(ConfigError):
    """A comment refers to something that does not exist or is malformed (a usage error)."""


metadata = MetaData()
comments = Table(
    "reportgen_commentary",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report", String(200), nullable=False, index=True),
    Column("period", String(20), nullable=False),
    Column("audience", String(200)),  # None: every audience that shows the metric
    Column("metric", String(200), nullable=False),
    Column("dimension", String(200)),
    Column("segment", Text),
    Column("story", String(20)),
    Column("text", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


@dataclass(frozen=True)
class Comment:
    id: int
    report: str
    period: str
    audience: str | None
    metric: str
    dimension: str | None
    segment: str | None
    story: str | None
    text: str
    author: str
    created_at: datetime

    @property
    def attribution(self) -> str:
        """ "— A. Analyst, Mon 30 Nov": who said it, and when."""
        day = self.created_at
        return f"\u2014 {self.author}, {day:%a} {day.day} {day:%b}"

    @property
    def quoted(self) -> str:
        """The comment as the brief prints it: the text, then its attribution."""
        text = self.text.rstrip()
        if text[-1:] not in ".!?":
            text += "."
        return f"\u201c{text}\u201d {self.attribution}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "period": self.period,
            "audience": self.audience,
            "metric": self.metric,
            "dimension": self.dimension,
            "segment": self.segment,
            "story": self.story,
            "text": self.text,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
        }


def default_author() -> str:
    """Who is commenting: ``git config user.name``, else the login name."""
    if shutil.which("git"):
        try:
            name = subprocess.run(
                ["git", "config", "user.name"], capture_output=True, text=True, timeout=5
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            name = ""
        if name:
            return name
    return os.environ.get("USER") or getpass.getuser()


def parse_segment(value: str | None) -> tuple[str | None, str | None]:
    """``"region=Latin America"`` → ``("region", "Latin America")``."""
    if value is None:
        return None, None
    dim, sep, segment = value.partition("=")
    if not sep or not dim.strip() or not segment.strip():
        raise CommentaryError(
            f"--segment '{value}' is not DIMENSION=VALUE",
            fix="write it as e.g. --segment 'region=Latin America'",
        )
    return dim.strip(), segment.strip()


class CommentaryStore:
    def __init__(self, url: str) -> None:
        from reportgen.ops.ledger import open_tables

        self.engine = open_tables(url, metadata)

    @classmethod
    def for_output(cls, out_dir: str | Path) -> CommentaryStore:
        return cls(default_url(out_dir))

    def dispose(self) -> None:
        self.engine.dispose()

    def add(
        self,
        *,
        report: str,
        period: str,
        metric: str,
        text: str,
        author: str,
        dimension: str | None = None,
        segment: str | None = None,
        story: str | None = None,
        audience: str | None = None,
        now: datetime | None = None,
    ) -> Comment:
        text = " ".join(text.split())
        if not text:
            raise CommentaryError("the comment is empty", fix="say what explains the number")
        if len(text) > MAX_COMMENT_CHARS:
            raise CommentaryError(
                f"the comment has {len(text)} characters (at most {MAX_COMMENT_CHARS})",
                fix="keep it to a few sentences; link to a document for more",
            )
        if not author.strip():
            raise CommentaryError(
                "--author is empty", fix="give your name, e.g. --author 'A. Analyst'"
            )
        if story is not None and not STORY_ID.fullmatch(story):
            raise CommentaryError(
                f"--story '{story}' is not a story id",
                fix="copy the id (S- and 8 hex digits) from figures.json's stories",
            )
        row = {
            "report": report,
            "period": period,
            "audience": audience,
            "metric": metric,
            "dimension": dimension,
            "segment": segment,
            "story": story,
            "text": text,
            "author": author.strip(),
            "created_at": now or datetime.now(UTC),
        }
        with self.engine.begin() as con:
            comment_id = con.execute(insert(comments).values(**row)).inserted_primary_key[0]
        return self.get(comment_id)

    def get(self, comment_id: int) -> Comment:
        with self.engine.connect() as con:
            row = (
                con.execute(select(comments).where(comments.c.id == comment_id)).mappings().first()
            )
        if row is None:
            raise CommentaryError(
                f"no comment #{comment_id}", fix="`reportgen comment list` shows the comments"
            )
        return Comment(**row)

    def remove(self, comment_id: int) -> Comment:
        found = self.get(comment_id)
        with self.engine.begin() as con:
            con.execute(delete(comments).where(comments.c.id == comment_id))
        return found

    def items(
        self,
        *,
        report: str | None = None,
        period: str | None = None,
        audience: str | None = None,
    ) -> list[Comment]:
        """Comments, oldest first; ``audience`` keeps those for it and those for every audience."""
        query = select(comments).order_by(comments.c.id)
        if report:
            query = query.where(comments.c.report == report)
        if period:
            query = query.where(comments.c.period == period)
        if audience:
            query = query.where((comments.c.audience == audience) | comments.c.audience.is_(None))
        with self.engine.connect() as con:
            return [Comment(**row) for row in con.execute(query).mappings()]


def add_comment(
    config_path: str | Path,
    *,
    period: str,
    metric: str,
    text: str,
    out_dir: str | Path,
    segment: str | None = None,
    story: str | None = None,
    author: str | None = None,
    audience: str | None = None,
    now: datetime | None = None,
) -> Comment:
    """Check the comment against the report config (metric, dimension, period, audience), store it.

    What the CLI's ``reportgen comment CONFIG …`` calls.
    """
    import difflib

    from reportgen.config.loader import load_report
    from reportgen.periods import parse_period

    report = load_report(config_path)
    shown = [choice.metric for choice in report.metrics]
    if metric not in shown:
        close = difflib.get_close_matches(metric, shown, n=1)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        raise CommentaryError(
            f"--metric '{metric}' is not a metric of {Path(config_path).name}{hint}",
            fix=f"use one of: {', '.join(shown)}",
        )
    dimension, value = parse_segment(segment)
    if dimension is not None and dimension not in report.catalog.dimensions:
        raise CommentaryError(
            f"--segment: '{dimension}' is not a dimension of the catalog",
            fix=f"use one of: {', '.join(report.catalog.dimensions)}",
        )
    shown_period = parse_period(period)
    grain = report.config.period.grain
    if shown_period.grain != grain:
        raise CommentaryError(
            f"--period {period} is a {shown_period.grain}, but the report is built per {grain}",
            fix="give a period of the report's grain, e.g. 2026-W47 for a weekly report",
        )
    names = [a.name for a in report.config.audiences] if report.config.audiences else []
    if audience is not None and names and audience not in names:
        raise CommentaryError(
            f"--audience '{audience}' is not an audience of {Path(config_path).name}",
            fix=f"use one of: {', '.join(names)}, or leave it out for every audience",
        )
    store = CommentaryStore.for_output(out_dir)
    try:
        return store.add(
            report=report.id,
            period=shown_period.label,
            metric=metric,
            text=text,
            author=author or default_author(),
            dimension=dimension,
            segment=value,
            story=story,
            audience=audience,
            now=now,
        )
    finally:
        store.dispose()


def comments_for(out_dir: str | Path, report: str, period: str, audience: str) -> list[Comment]:
    """A build's comments, if a ledger exists (a build never creates one)."""
    if not ledger_exists(out_dir):
        return []
    store = CommentaryStore(default_url(out_dir))
    try:
        return store.items(report=report, period=period, audience=audience)
    finally:
        store.dispose()
