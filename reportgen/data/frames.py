"""The cube's frame schema: one set of columns and types for every scan, engine and cache.

Engines return different types for the same numbers (DuckDB HUGEINT,
PostgreSQL bigint, Spark long, Decimal from NUMERIC); :func:`tidy` brings a
scan's rows, or a cached partition, to float64 measures, datetime64 days and
string (sketch: categorical) dimensions, so every later stage sees one schema.
:func:`finish` fixes the row order the cube keeps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from reportgen.data.engines import Engines
from reportgen.data.plan import CubeQuery
from reportgen.data.sql import BUCKET, CHECK_PREFIX, DAY, GROUPING_PREFIX

LEVEL = "level"  # a sketch frame's grouping set: "" (all rows) or "region" or "region+site"

#: runs one planned scan (restricted to the given SQL, when given) and returns tidy rows:
#: :func:`reportgen.data.scan.scan`, handed to the cube cache so it never imports the scan back
Scanner = Callable[[Engines, CubeQuery, str | None], pd.DataFrame]


def tidy(frame: pd.DataFrame, query: CubeQuery) -> pd.DataFrame:
    """Fixed column order and types; dimensions as strings with nulls as ``(missing)``."""
    if query.sketch:
        return _tidy_sketch(frame, query)
    columns = [DAY, *query.dimensions, *query.measures]
    columns += [f"{CHECK_PREFIX}{c}" for c in query.checks]
    frame = frame.reindex(columns=columns)
    out = pd.DataFrame({DAY: pd.to_datetime(frame[DAY]).astype("datetime64[us]")})
    for dim in query.dimensions:
        out[dim] = frame[dim].astype("string").fillna("(missing)")
    for column in columns[1 + len(query.dimensions) :]:
        out[column] = pd.to_numeric(frame[column]).astype("float64")
    return out


def _tidy_sketch(frame: pd.DataFrame, query: CubeQuery) -> pd.DataFrame:
    """A sketch scan as day, level, dimensions, bucket, count (level from the GROUPING flags).

    Dimensions a grouping set rolls up hold ``(all)``. Built as categoricals
    straight away (no per-row strings): a sketch has ~10× the cube's rows.
    Idempotent: cached partitions, already tidy, keep their level.
    """
    (name,) = query.measures
    grouping = [f"{GROUPING_PREFIX}{d}" for d in query.dimensions]
    tidied = LEVEL in frame.columns
    flags = [LEVEL] if tidied else grouping
    frame = frame.reindex(columns=[DAY, *query.dimensions, *flags, BUCKET, name])
    if frame[BUCKET].isna().any():  # the rows whose value is NULL (see bucket_expression)
        frame = frame[frame[BUCKET].notna()].reset_index(drop=True)
    out = pd.DataFrame({DAY: pd.to_datetime(frame[DAY]).astype("datetime64[us]")})
    if tidied:
        out[LEVEL] = frame[LEVEL].astype("category")
        for dim in query.dimensions:
            out[dim] = frame[dim].astype("category")
    else:
        rolled = [pd.to_numeric(frame[g]).fillna(1).to_numpy(dtype=bool) for g in grouping]
        out[LEVEL] = _level_names(query.dimensions, rolled, len(frame))
        for dim, up in zip(query.dimensions, rolled, strict=True):
            values = frame[dim].astype("category")
            values = values.cat.add_categories(
                [c for c in ("(missing)", "(all)") if c not in values.cat.categories]
            )
            values = values.fillna("(missing)")
            values[up] = "(all)"
            out[dim] = values
    out[BUCKET] = pd.to_numeric(frame[BUCKET]).astype("int64")
    out[name] = pd.to_numeric(frame[name]).astype("float64")
    return out


def _level_names(
    dimensions: tuple[str, ...], rolled: list[np.ndarray], rows: int
) -> pd.Categorical:
    """Each row's grouping set as ``region+queue`` ("" for all rows), as a categorical."""
    code = np.zeros(rows, dtype=np.int64)
    for bit, up in enumerate(rolled):
        code |= (~up).astype(np.int64) << bit
    names = {
        c: "+".join(d for bit, d in enumerate(dimensions) if c >> bit & 1) for c in np.unique(code)
    }
    return pd.Categorical.from_codes(
        np.searchsorted(sorted(names), code), categories=[names[c] for c in sorted(names)]
    )


def finish(frame: pd.DataFrame, query: CubeQuery) -> pd.DataFrame:
    """Sorted by day then dimensions (same row order on every engine and from the cache).

    Sorted datetime64 days make period windows binary searches; categorical
    dimensions make group-bys cheap.
    """
    order = [DAY, LEVEL, *query.dimensions, BUCKET] if query.sketch else [DAY, *query.dimensions]
    frame = frame.sort_values(order, kind="stable").reset_index(drop=True)
    if query.sketch:
        frame[LEVEL] = frame[LEVEL].astype("category")
        frame[BUCKET] = frame[BUCKET].astype("int32")
    for dim in query.dimensions:
        frame[dim] = frame[dim].astype("category")
    return frame
