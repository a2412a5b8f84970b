"""The faster analysis computes what the slower one did, to the last bit.

Each vectorised or memoised function is checked against the plain loop (or
pandas filter) it replaced, on random inputs with the awkward cases in them:
missing values, zero volumes, totals, ties. Equality is exact (``==`` on the
floats, ``repr`` on the results), because figures.json and the golden files
must not change.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from reportgen.analysis._peer_gaps import learn_gaps, medians_without_each
from reportgen.analysis.anomalies import expected_range, expected_ranges
from reportgen.periods import period_containing


def _same(a: np.ndarray | float, b: np.ndarray | float) -> bool:
    """Bit for bit, NaN equal to NaN."""
    return bool(np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True))


# -- the peers' movement ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_medians_without_each_column_equal_numpy_medians_of_the_rest(seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(1.0, 0.3, size=(9, 7)).round(rng.integers(1, 4))  # rounding makes ties
    matrix[rng.random(matrix.shape) < 0.25] = np.nan
    matrix[2] = np.nan  # a period nobody was eligible in
    medians, counts = medians_without_each(matrix)
    for row in range(matrix.shape[0]):
        for column in range(matrix.shape[1]):
            rest = np.delete(matrix[row], column)
            rest = rest[~np.isnan(rest)]
            assert counts[row, column] == len(rest)
            expected = np.median(rest) if len(rest) else np.nan
            assert _same(medians[row, column], expected)


def _history(seed: int, ratio: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Twelve earlier weeks and the current one of nine segments, with gaps and thin weeks."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2026-08-31", periods=13, freq="7D")
    segments = [f"S{i}" for i in range(9)]
    level = rng.uniform(20, 60, size=len(segments))
    rows = []
    for week in weeks:
        common = rng.normal(1.0, 0.05)
        for s, segment in enumerate(segments):
            value = level[s] * common * rng.normal(1.0, 0.04)
            if not ratio:
                value -= 40  # some values ≤ 0: differences, not ratios
            volume = float(rng.choice([0, 12, 80, 400], p=[0.05, 0.1, 0.35, 0.5]))
            if rng.random() < 0.08:
                value = np.nan
            rows.append((segment, week, value, volume))
    frame = pd.DataFrame(rows, columns=["segment", "period_start", "value", "volume"])
    latest = frame.period_start == frame.period_start.max()
    return frame[~latest], frame[latest]


def _reference_loop(gaps, segment: str, now: pd.Series) -> np.ndarray | None:
    """PeerGaps.reference as it was written first: a Series per period and segment."""
    if segment not in gaps.values.columns:
        return None

    def relative(values):
        typical = gaps.typical.reindex(
            values.index if isinstance(values, pd.Series) else values.columns
        )
        return values / typical if gaps.ratio else values - typical

    def movement(rel: pd.Series) -> float:
        others = rel.drop(labels=[segment], errors="ignore").dropna()
        return float(others.median()) if len(others) >= gaps.min_peers else float("nan")

    moved_now = movement(relative(now.reindex(gaps.typical.index)))
    if not np.isfinite(moved_now):
        return None
    rel = relative(gaps.values)
    out = []
    for period, value in gaps.values[segment].dropna().items():
        moved = movement(rel.loc[period])
        if not np.isfinite(moved) or (gaps.ratio and moved <= 0):
            continue
        out.append(value * moved_now / moved if gaps.ratio else value + moved_now - moved)
    return np.asarray(out) if len(out) >= gaps.min_history else None


@pytest.mark.parametrize("ratio", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_peer_reference_equals_the_per_period_loop(seed: int, ratio: bool) -> None:
    past, current = _history(seed, ratio)
    current = current[current.value.notna() & (current.volume >= 30)]
    gaps = learn_gaps(past, current, min_volume=30, min_peers=4)
    assert gaps.ratio is ratio
    now = pd.Series(current.value.to_numpy(), index=current.segment.to_numpy())
    checked = 0
    for segment in [*current.segment, "not-a-segment"]:
        fast, slow = gaps.reference(segment, now), _reference_loop(gaps, segment, now)
        assert (fast is None) == (slow is None), segment
        if fast is not None:
            assert _same(fast, slow), segment
            checked += 1
    assert checked >= 3  # the comparison really ran on carried-forward values


@pytest.mark.parametrize("seed", range(3))
def test_usual_gap_equals_the_pandas_median_of_the_others(seed: int) -> None:
    for ratio in (True, False):
        past, current = _history(seed, ratio)
        current = current[current.value.notna()]
        gaps = learn_gaps(past, current, min_volume=30, min_peers=4)
        assert gaps.ratio is ratio
        for segment in gaps.typical.index:
            mine = float(gaps.typical[segment])
            others = float(gaps.typical.drop(labels=[segment]).median())
            assert gaps.usual_gap(segment) == (mine / others if ratio else mine - others)
    with pytest.raises(KeyError):
        gaps.usual_gap("not-a-segment")


# -- the expected bands -------------------------------------------------------------------------


def _series(seed: int, total: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 25
    volume = rng.choice([0.0, 10.0, 200.0, 900.0], size=n, p=[0.08, 0.1, 0.4, 0.42])
    value = volume.copy() if total else rng.normal(0.9, 0.03, size=n)
    value[rng.random(n) < 0.08] = np.nan
    noise = np.where(rng.random(n) < 0.2, np.nan, rng.uniform(0.0, 0.02, size=n))
    if total:
        noise[:] = np.nan  # Poisson noise is filled in for totals
    return pd.DataFrame(
        {
            "period_start": pd.date_range("2026-06-01", periods=n, freq="7D"),
            "value": value,
            "volume": volume,
            "noise_sd": noise,
            "segment": None,
        }
    )


@pytest.mark.parametrize("total", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_expected_ranges_equal_expected_range_window_by_window(seed: int, total: bool) -> None:
    frame = _series(seed, total)
    windows = [slice(i, i + 13) for i in range(len(frame) - 12)] + [slice(20, 40), slice(3, 3)]
    options = {"threshold": 3.5, "min_volume": 30.0, "bound": None if total else 1.0}
    fast = expected_ranges(frame, windows, **options)
    slow = tuple(expected_range(frame.iloc[w], **options) for w in windows)
    assert repr(fast) == repr(slow)
    assert sum(band is not None for band in fast) >= 3  # the windows were really judged


def test_expected_ranges_read_only_the_overall_rows_of_each_window() -> None:
    frame = _series(11, total=False)
    segment = frame.assign(segment="Europe", value=frame.value * 1.5)
    mixed = pd.concat([frame, segment]).sort_values("period_start", kind="stable")
    mixed = mixed.reset_index(drop=True)
    windows = [slice(i, i + 26) for i in range(0, len(mixed) - 25, 2)]
    fast = expected_ranges(mixed, windows, threshold=3.5)
    slow = tuple(expected_range(mixed.iloc[w], threshold=3.5) for w in windows)
    assert repr(fast) == repr(slow)


# -- targets ------------------------------------------------------------------------------------


def _filtered_lookup(table: pd.DataFrame, metric, period, dimension="", segment=""):
    """Targets.lookup as it was: filter the table, sort by valid_from, take the last row."""
    t = table
    rows = t[
        (t.metric == metric)
        & (t.dimension == dimension)
        & (t.segment == segment)
        & (t.valid_from <= period.start)
    ]
    if rows.empty:
        return None
    return float(rows.sort_values("valid_from").iloc[-1]["target"])


def test_target_lookup_equals_filtering_the_table() -> None:
    from reportgen.figures import Targets

    rng = np.random.default_rng(3)
    rows = []
    for metric in ("aht", "sla_attainment", "qa_accuracy"):
        for dimension, segment in (("", ""), ("region", "Europe"), ("region", "Africa")):
            for _ in range(int(rng.integers(0, 4))):
                start = date(2025, 9, 29) + timedelta(weeks=int(rng.integers(0, 70)))
                rows.append((metric, start, dimension, segment, float(rng.uniform(0.5, 60))))
    table = pd.DataFrame(rows, columns=["metric", "valid_from", "dimension", "segment", "target"])
    targets = Targets(table)
    weeks = [period_containing(date(2025, 9, 1) + timedelta(weeks=k), "week") for k in range(90)]
    asked = 0
    for metric in ("aht", "sla_attainment", "qa_accuracy", "backlog"):
        for dimension, segment in (("", ""), ("region", "Europe"), ("region", "Africa")):
            for week in weeks:
                expected = _filtered_lookup(table, metric, week, dimension, segment)
                assert targets.lookup(metric, week, dimension, segment) == expected
                asked += expected is not None
    assert asked > 100


# -- series sums --------------------------------------------------------------------------------


def test_window_bounds_in_the_columns_unit_select_the_same_rows() -> None:
    from reportgen.figures import _in_window

    days = pd.date_range("2026-01-01", periods=400, freq="D").repeat(3)
    for unit in ("s", "us", "ns"):
        frame = pd.DataFrame({"day": days.as_unit(unit), "x": np.arange(len(days))})
        chosen = _in_window(frame, date(2026, 3, 2), date(2026, 5, 31))
        plain = frame[(frame.day >= "2026-03-02") & (frame.day <= "2026-05-31")]
        assert chosen.x.tolist() == plain.x.tolist()


@pytest.fixture(scope="module")
def small_cube(weekly_config):
    from reportgen.config.loader import load_report
    from reportgen.data.scan import compute_cube

    report = load_report(weekly_config)
    return compute_cube(report, ["decisions", "pending_items", "sla_met"])


def test_measure_series_asked_twice_is_computed_once_and_equal(small_cube) -> None:
    from reportgen.figures import _measure_series, measure_series

    periods = period_containing(date(2026, 11, 16), "week").trailing(13)
    for measures, by in ((("decisions",), None), (("sla_met", "decisions"), "region")):
        first = measure_series(small_cube, measures, periods, by=by)
        again = measure_series(small_cube, measures, periods, by=by)
        fresh = _measure_series(small_cube, measures, periods, by)
        pd.testing.assert_frame_equal(first, fresh, check_exact=True)
        pd.testing.assert_frame_equal(again, fresh, check_exact=True)


def test_changing_a_returned_series_never_changes_the_next_answer(small_cube) -> None:
    from reportgen.figures import measure_series

    periods = period_containing(date(2026, 11, 16), "week").trailing(6)
    first = measure_series(small_cube, ("pending_items",), periods)
    kept = first.copy()
    first["pending_items"] = -1.0
    first.iloc[0, 0] = 99.0
    pd.testing.assert_frame_equal(measure_series(small_cube, ("pending_items",), periods), kept)


def test_a_new_cube_is_never_answered_from_another_cubes_memo(small_cube) -> None:
    import dataclasses

    from reportgen.figures import _CUBE_MEMO, measure_series

    periods = period_containing(date(2026, 11, 16), "week").trailing(4)
    measure_series(small_cube, ("decisions",), periods)
    halved = dataclasses.replace(
        small_cube,
        frames={
            k: f.assign(decisions=f.decisions / 2) if "decisions" in f else f
            for k, f in small_cube.frames.items()
        },
    )
    full = measure_series(small_cube, ("decisions",), periods)
    half = measure_series(halved, ("decisions",), periods)
    assert _same(half["decisions"].to_numpy(), full["decisions"].to_numpy() / 2)
    key = id(halved)
    del halved
    assert key not in _CUBE_MEMO  # the memo goes with its cube


# -- forecasts ----------------------------------------------------------------------------------


def test_a_forecast_leaves_the_blas_thread_limits_as_it_found_them() -> None:
    from threadpoolctl import threadpool_info

    from reportgen.analysis.forecast import ets_forecast

    rng = np.random.default_rng(5)
    ets_forecast(100 + rng.normal(0, 3, 40), 4)  # SciPy's own OpenBLAS is loaded by now
    before = [(lib["filepath"], lib["num_threads"]) for lib in threadpool_info()]
    path = ets_forecast(100 + rng.normal(0, 3, 40), 4)
    assert len(path.mean) == 4
    assert [(lib["filepath"], lib["num_threads"]) for lib in threadpool_info()] == before


def _day_rows(seed: int, nan: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """A cube-like frame in day order with sums of very different sizes, and week starts."""
    from reportgen.periods import period_starts

    rng = np.random.default_rng(seed)
    days = pd.DatetimeIndex(np.sort(rng.choice(pd.date_range("2026-01-05", periods=120), 900)))
    frame = pd.DataFrame(
        {
            "day": days,
            "a": rng.lognormal(3, 2, size=900),
            "b": rng.normal(0, 1e6, size=900).round(3),
            "c": rng.random(900) * 1e-9,
        }
    )
    if nan:
        frame.loc[rng.choice(900, 5), "b"] = np.nan
    return frame, period_starts(frame["day"], "week").to_numpy()


@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_period_sums_equal_the_pandas_groupby_sums(seed: int, nan: bool) -> None:
    from reportgen.figures import period_sums

    frame, starts = _day_rows(seed, nan)
    for cols in (["a"], ["a", "b", "c"], ["c", "b"]):
        fast = period_sums(frame, cols, starts)
        slow = frame[cols].groupby([starts]).sum()
        assert fast.index.equals(slow.index)
        for c in cols:
            assert _same(fast[c].to_numpy(), slow[c].to_numpy()), c


def test_period_sums_of_unsorted_rows_fall_back_to_the_groupby() -> None:
    from reportgen.figures import period_sums

    frame, starts = _day_rows(5, nan=False)
    order = np.random.default_rng(1).permutation(len(frame))
    shuffled, keys = frame.iloc[order], starts[order]
    fast = period_sums(shuffled, ["a", "b"], keys)
    slow = shuffled[["a", "b"]].groupby([keys]).sum()
    assert _same(fast.to_numpy(), slow.to_numpy())


def _histograms_by_groupby(rows: pd.DataFrame, keys: list[str], alpha: float) -> pd.DataFrame:
    """figures._histograms as it was first written: a frame per group from summed.groupby."""
    from reportgen.semantics.sketch import Histogram

    summed = rows.groupby([*keys, "bucket"], observed=True)["m"].sum()
    summed = summed[summed > 0]
    levels = list(range(len(keys)))
    cells = {
        key: Histogram(
            part.index.get_level_values("bucket").to_numpy(dtype="int64"),
            part.to_numpy(dtype=float),
            alpha,
        )
        for key, part in summed.groupby(level=levels if len(keys) > 1 else 0, observed=True)
    }
    if len(keys) > 1:
        index = pd.MultiIndex.from_tuples(list(cells), names=keys)
    else:
        index = pd.Index(list(cells), name=keys[0])
    return pd.DataFrame({"m": pd.Series(list(cells.values()), index=index, dtype=object)})


@pytest.mark.parametrize("keys", [["site"], ["period"], ["period", "site"]])
@pytest.mark.parametrize("rows", [2000, 0])
def test_histograms_per_segment_equal_the_groupby_per_group(keys: list[str], rows: int) -> None:
    from reportgen.figures import _histograms

    rng = np.random.default_rng(len(keys))
    n = rows
    sites = pd.Categorical(rng.choice(["MNL-2", "CEB-1", "DUB-1", "ACC-1"], n))
    sites = sites.add_categories(["unused"])  # an empty category is never a segment
    rows = pd.DataFrame(
        {
            "period": pd.DatetimeIndex(
                rng.choice(pd.date_range("2026-09-07", periods=6, freq="7D"), n)
            ),
            "site": sites,
            "bucket": rng.integers(-40, 90, n).astype("int32"),
            "m": rng.choice([0.0, 1.0, 2.0, 5.0], n, p=[0.2, 0.4, 0.3, 0.1]),
        }
    )
    fast = _histograms(rows, keys, "m", 0.01)
    slow = _histograms_by_groupby(rows, keys, 0.01)
    assert fast.index.equals(slow.index)
    assert list(fast.index) == list(slow.index)
    for a, b in zip(fast["m"], slow["m"], strict=True):
        assert np.array_equal(a.buckets, b.buckets) and a.buckets.dtype == b.buckets.dtype
        assert np.array_equal(a.counts, b.counts) and a.alpha == b.alpha


@pytest.mark.parametrize("seed", range(3))
def test_learned_values_equal_the_pivot_table_of_the_eligible_rows(seed: int) -> None:
    past, current = _history(seed, ratio=True)
    past = pd.concat([past, past.iloc[:7].assign(value=-1.0)])  # repeated rows: the first counts
    gaps = learn_gaps(past, current, min_volume=30, min_peers=4)
    eligible = past[past.value.notna() & (past.volume > 0) & (past.volume >= 30)]
    pivot = eligible.pivot_table(
        index="period_start", columns="segment", values="value", aggfunc="first"
    ).sort_index()
    pd.testing.assert_frame_equal(gaps.values, pivot, check_exact=True)


def test_series_frame_columns_keep_their_names_and_order(small_cube, weekly_config) -> None:
    from reportgen.analysis.series import series_frame
    from reportgen.config.loader import load_report
    from reportgen.figures import measure_series

    report = load_report(weekly_config)
    periods = period_containing(date(2026, 11, 16), "week").trailing(5)
    overall = series_frame(
        report, "decisions", measure_series(small_cube, ("decisions",), periods), None
    )
    assert list(overall.columns) == ["period_start", "value", "volume", "noise_sd", "segment"]
    assert overall.segment.isna().all() and len(overall) == 5
    sums = measure_series(small_cube, ("sla_met", "decisions"), periods, by="region")
    by_region = series_frame(report, "sla_attainment", sums, "region")
    assert list(by_region.columns) == ["period_start", "segment", "value", "volume", "noise_sd"]
    assert set(by_region.segment) == set(sums.index.get_level_values("region").astype(str))
    assert _same(by_region.value.to_numpy(), (sums.sla_met / sums.decisions).to_numpy())
