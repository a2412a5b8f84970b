"""Where each report page was published, kept in the run ledger (``reportgen_published_pages``).

A delivery links to ``delivery.link``; this records what was actually put there:
the page's URL (with ``publish --base-url``; its site path otherwise), when, and
the SHA-256 of the ``figures.json`` it was drawn from — so "which numbers did the
link show on Monday" has an answer. Rows are written only when a ledger exists
(``$REPORTGEN_LEDGER_URL`` or ``ledger.sqlite`` in the output folder) and only for
pages a publish actually (re)wrote; SQLAlchemy is imported only then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PublishedPage:
    report: str
    period: str
    audience: str
    url: str
    figures: Path


def _table() -> Any:
    from sqlalchemy import Column, Integer, MetaData, String, Table

    from reportgen.ops.ledger import UtcDateTime

    metadata = MetaData()
    return Table(
        "reportgen_published_pages",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("report", String(200), nullable=False, index=True),
        Column("period", String(40), nullable=False),
        Column("audience", String(100), nullable=False),
        Column("url", String(2000), nullable=False),
        Column("figures_sha256", String(64), nullable=False),
        Column("published_at", UtcDateTime, nullable=False),
    )


def record_published(out_dir: Path, pages: Iterable[PublishedPage]) -> int:
    """Add a row per page; returns how many (0 without a ledger)."""
    from reportgen.ops.ledger_location import ledger_exists

    pages = list(pages)
    if not pages or not ledger_exists(out_dir):
        return 0
    from sqlalchemy import insert
    from sqlalchemy.exc import SQLAlchemyError

    from reportgen.ops.ledger import LedgerError, _safe_url, default_url, make_engine, utcnow

    url = default_url(out_dir)
    table = _table()
    try:
        engine = make_engine(url)
        try:
            table.metadata.create_all(engine)
            now = utcnow()
            with engine.begin() as conn:
                for page in pages:
                    digest = hashlib.sha256(page.figures.read_bytes()).hexdigest()
                    conn.execute(
                        insert(table).values(
                            report=page.report,
                            period=page.period,
                            audience=page.audience,
                            url=page.url,
                            figures_sha256=digest,
                            published_at=now,
                        )
                    )
        finally:
            engine.dispose()
    except (SQLAlchemyError, OSError) as exc:  # the URL may hold a password: never echo it
        raise LedgerError(
            f"cannot record published pages in the run ledger at {_safe_url(url)}: "
            f"{exc.__class__.__name__}",
            fix="check $REPORTGEN_LEDGER_URL and that the database is reachable",
        ) from None
    return len(pages)


def published_pages(out_dir: Path) -> list[dict[str, Any]]:
    """Every recorded publication, oldest first (for audits and tests)."""
    from sqlalchemy import select

    from reportgen.ops.ledger import default_url, make_engine

    table = _table()
    engine = make_engine(default_url(out_dir))
    try:
        table.metadata.create_all(engine)
        with engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.id)).mappings().all()
        return [dict(r) for r in rows]
    finally:
        engine.dispose()
