"""Additive LMDI-I decomposition: exact, zero-safe, and the same as the textbook formulas."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from functools import cache
from itertools import product

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.analysis.lmdi import LmdiResult, lmdi_ratio, lmdi_total

MEASURES = ("num0", "den0", "num1", "den1")


def frame(rows: dict[str | tuple[str, ...], tuple[float, float, float, float]]) -> pd.DataFrame:
    """Segments as ``{label or (label, label): (num0, den0, num1, den1)}``."""
    records = []
    for key, values in rows.items():
        labels = key if isinstance(key, tuple) else (key,)
        records.append(
            {
                **{f"dim{k}": x for k, x in enumerate(labels)},
                **dict(zip(MEASURES, values, strict=True)),
            }
        )
    return pd.DataFrame.from_records(records)


def dims_of(f: pd.DataFrame) -> list[str]:
    return [c for c in f.columns if c.startswith("dim")]


def ratio(rows) -> LmdiResult:
    f = frame(rows)
    return lmdi_ratio(f, dims_of(f), *MEASURES)


def total(rows) -> LmdiResult:
    f = frame(rows)
    return lmdi_total(f, dims_of(f), *MEASURES)


def term(result: LmdiResult, *segment: str):
    return next(t for t in result.terms if t.segment == segment)


def assert_exact(result: LmdiResult) -> None:
    """The contract: effects add up to the change, and the totals to the segment terms."""
    assert abs(result.residual) <= 1e-9 * max(1.0, abs(result.change))
    assert result.mix == pytest.approx(math.fsum(t.mix for t in result.terms), abs=1e-12)
    assert result.rate == pytest.approx(math.fsum(t.rate for t in result.terms), abs=1e-12)
    assert result.activity == pytest.approx(math.fsum(t.activity for t in result.terms), abs=1e-12)


# -- a hand-worked example ----------------------------------------------------------------------


def test_hand_worked_aht_example():
    # AHT = Σ handle seconds / Σ decisions, two queues, 1,000 decisions in both weeks.
    #             week 0                         week T
    #   Spam   800 dec, 48,000 s (r 60 s)     600 dec, 39,000 s (r 65 s)
    #   Hate   200 dec, 36,000 s (r 180 s)    400 dec, 72,000 s (r 180 s)
    # R0 = 84,000 / 1,000 = 84 s, RT = 111,000 / 1,000 = 111 s, ΔR = +27 s.
    # w = s·r: Spam 0.8·60 = 48 → 0.6·65 = 39;  Hate 0.2·180 = 36 → 0.4·180 = 72.
    # Hate's rate is unchanged (ln 1 = 0): its whole Δw = +36 s is mix.
    # Spam: L(39, 48) = −9 / ln(39/48) = −9 / −0.2076393647782445 = 43.34438226398860
    #   mix  = L · ln(0.6/0.8) = 43.34438226398860 · −0.2876820724517809 = −12.46940171884646
    #   rate = L · ln(65/60)   = 43.34438226398860 ·  0.0800427076735364 =  +3.46940171884646
    #   (mix + rate = L · ln(39/48) = −9 = Spam's Δw, as it must)
    # Mix = 36 − 12.46940171884646 = 23.53059828115354 s, rate = 3.46940171884646 s.
    # Per segment, mix is shown relative to the average R̄ = (84 + 111) / 2 = 97.5 s:
    #   Hate (180 s, above average, share +0.2): 36 − 97.5 · 0.2 = +16.5 s (pulls AHT up)
    #   Spam (60–65 s, below average, share −0.2): −12.4694… + 19.5 = +7.03059828115354 s
    #   (its LMDI-I term −12.47 s had the sign of its share change alone)
    result = ratio({"Spam": (48_000, 800, 39_000, 600), "Hate": (36_000, 200, 72_000, 400)})

    assert result.kind == "ratio"
    assert result.value0 == pytest.approx(84.0, abs=1e-12)
    assert result.value1 == pytest.approx(111.0, abs=1e-12)
    assert result.change == pytest.approx(27.0, abs=1e-12)
    assert result.mix == pytest.approx(23.53059828115354, abs=1e-12)
    assert result.rate == pytest.approx(3.46940171884646, abs=1e-12)
    assert result.activity == 0.0
    spam, hate = term(result, "Spam"), term(result, "Hate")
    assert result.reference == pytest.approx(97.5, abs=1e-12)
    assert spam.mix_lmdi == pytest.approx(-12.46940171884646, abs=1e-12)
    assert spam.mix == pytest.approx(7.03059828115354, abs=1e-12)
    assert spam.rate == pytest.approx(3.46940171884646, abs=1e-12)
    assert hate.mix_lmdi == pytest.approx(36.0, abs=1e-12)
    assert hate.mix == pytest.approx(16.5, abs=1e-12)
    assert hate.rate == pytest.approx(0.0, abs=1e-12)
    assert (spam.share0, spam.share1, spam.rate0, spam.rate1) == (0.8, 0.6, 60.0, 65.0)
    assert [t.segment for t in result.terms] == [("Hate",), ("Spam",)]  # 16.5 before 10.5


# -- an independent reference: exact decimal arithmetic, one segment at a time ---------------------


def reference(rows, kind: str) -> dict[tuple[str, ...], tuple[Decimal, Decimal, Decimal]]:
    """Textbook LMDI-I in 50-digit decimals, with Ang & Liu's limits spelled out per case.

    The mix term is the textbook structure term ``L(w^T, w^0) · ln(s^T / s^0)``
    (``mix_lmdi``); :func:`relative_mix` gives the reported, average-relative one.
    """
    with localcontext() as ctx:
        ctx.prec = 50

        def dec(x: float) -> Decimal:
            return Decimal(0) if math.isnan(x) else Decimal(x)

        segments = {
            (k if isinstance(k, tuple) else (k,)): tuple(dec(x) for x in v) for k, v in rows.items()
        }
        q0 = sum((v[1] for v in segments.values()), Decimal(0))
        q1 = sum((v[3] for v in segments.values()), Decimal(0))
        out = {}
        for label, (n0, d0, n1, d1) in segments.items():
            if d0 == 0 and d1 == 0:
                continue  # never had volume: not a segment of either period
            v0, v1 = (n0 / q0, n1 / q1) if kind == "ratio" else (n0, n1)
            if v0 > 0 and v1 > 0:
                weight = v0 if v0 == v1 else (v1 - v0) / (v1.ln() - v0.ln())
                mix = weight * ((d1 / q1) / (d0 / q0)).ln()
                rate = weight * ((n1 / d1) / (n0 / d0)).ln()
                activity = weight * (q1 / q0).ln() if kind == "total" else Decimal(0)
            elif v0 == v1:
                mix = rate = activity = Decimal(0)
            else:
                no_volume_where_zero = (d0 if v0 == 0 else d1) == 0
                mix = v1 - v0 if no_volume_where_zero else Decimal(0)
                rate = Decimal(0) if no_volume_where_zero else v1 - v0
                activity = Decimal(0)
            out[label] = (mix, rate, activity)
        return out


def relative_mix(rows, kind: str) -> dict[tuple[str, ...], Decimal]:
    """``mix_lmdi − R̄ · Δs`` with ``R̄ = (R^0 + R^T) / 2`` (times ``(Q^0 + Q^T) / 2`` for a total)."""
    with localcontext() as ctx:
        ctx.prec = 50

        def dec(x: float) -> Decimal:
            return Decimal(0) if math.isnan(x) else Decimal(x)

        segments = {
            (k if isinstance(k, tuple) else (k,)): tuple(dec(x) for x in v) for k, v in rows.items()
        }
        n0 = sum((v[0] for v in segments.values()), Decimal(0))
        q0 = sum((v[1] for v in segments.values()), Decimal(0))
        n1 = sum((v[2] for v in segments.values()), Decimal(0))
        q1 = sum((v[3] for v in segments.values()), Decimal(0))
        average = (n0 / q0 + n1 / q1) / 2
        if kind == "total":
            average *= (q0 + q1) / 2
        lmdi = reference(rows, kind)
        return {
            label: lmdi[label][0] - average * (v[3] / q1 - v[1] / q0)
            for label, v in segments.items()
            if label in lmdi
        }


# -- generated cubes ----------------------------------------------------------------------------

ONE_DIM = [(f"q{k:02d}",) for k in range(30)]
TWO_DIMS = list(
    product(
        ("EMEA", "APAC", "AMER", "LATAM", "ANZ", "MEA"),
        ("spam", "hate", "fraud", "csam", "violence"),
    )
)
NAN = float("nan")


@cache
def period(max_den: float, max_rate: float, *, present: bool = False):
    """(num, den) of one segment in one period: absent (0 or NaN), zero rate, or positive."""
    dens = st.floats(1.0, max_den, allow_subnormal=False)
    rates = st.one_of(st.just(0.0), st.floats(0.01, max_rate, allow_subnormal=False))
    volume = st.tuples(dens, rates).map(lambda dr: (dr[0] * dr[1], dr[0]))
    return volume if present else st.one_of(st.sampled_from([(0.0, 0.0), (NAN, NAN)]), volume)


@st.composite
def cubes(draw, max_den: float = 1e4, max_rate: float = 1e3):
    """1–30 segments on 1 or 2 dimensions; the first segment has volume in both periods."""
    pool = draw(st.sampled_from([ONE_DIM, TWO_DIMS]))
    labels = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=30, unique=True))
    present = period(max_den, max_rate, present=True)
    maybe = period(max_den, max_rate)
    first = draw(st.tuples(present, present))
    rest = draw(
        st.lists(st.tuples(maybe, maybe), min_size=len(labels) - 1, max_size=len(labels) - 1)
    )
    return {label: (*a, *b) for label, (a, b) in zip(labels, [first, *rest], strict=True)}


FAST = settings(max_examples=75, deadline=None, database=None)


@FAST
@given(cubes())
def test_ratio_effects_add_up_exactly_to_the_change(rows):
    assert_exact(ratio(rows))


@FAST
@given(cubes(max_den=1e3, max_rate=1e2))
def test_total_effects_add_up_exactly_to_the_change(rows):
    assert_exact(total(rows))


@FAST
@given(cubes(max_den=1e6, max_rate=1e4))
def test_residual_is_rounding_only_at_large_magnitudes(rows):
    # Σ handle seconds reach 1e11 here: the residual is a few ulps of the terms.
    result = total(rows)
    scale = math.fsum(abs(t.mix) + abs(t.rate) + abs(t.activity) for t in result.terms)
    assert abs(result.residual) <= 1e-13 * max(1.0, scale, abs(result.value0), abs(result.value1))


@FAST
@given(cubes(max_den=1e3, max_rate=1e2), st.sampled_from(["ratio", "total"]))
def test_matches_an_independent_exact_computation(rows, kind):
    result = ratio(rows) if kind == "ratio" else total(rows)
    expected = reference(rows, kind)
    relative = relative_mix(rows, kind)
    assert {t.segment for t in result.terms} == set(expected)
    for t in result.terms:
        for got, want in zip((t.mix_lmdi, t.rate, t.activity), expected[t.segment], strict=True):
            assert math.isclose(got, float(want), rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(t.mix, float(relative[t.segment]), rel_tol=1e-9, abs_tol=1e-9)


# -- per-segment mix relative to the average (issue #17) ---------------------------------------


@FAST
@given(cubes(), st.sampled_from(["ratio", "total"]))
def test_segment_terms_add_up_to_the_change(rows, kind):
    result = ratio(rows) if kind == "ratio" else total(rows)
    parts = [x for t in result.terms for x in (t.mix, t.rate, t.activity)]
    scale = max(1.0, math.fsum(abs(x) for x in parts))
    assert math.fsum(parts) == pytest.approx(result.change, abs=1e-9 * scale)
    assert math.fsum(t.total for t in result.terms) == pytest.approx(
        result.change, abs=1e-9 * scale
    )


@FAST
@given(cubes(max_den=1e3, max_rate=1e2), st.sampled_from(["ratio", "total"]))
def test_effect_totals_are_still_the_textbook_lmdi_sums(rows, kind):
    # Σ L(w^T, w^0) ln(s^T / s^0): subtracting R̄ · Δs_i per segment leaves the mix total alone
    result = ratio(rows) if kind == "ratio" else total(rows)
    expected = reference(rows, kind).values()
    for got, column in ((result.mix, 0), (result.rate, 1), (result.activity, 2)):
        want = float(sum((e[column] for e in expected), Decimal(0)))
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
    assert math.fsum(t.mix_lmdi for t in result.terms) == pytest.approx(result.mix, abs=1e-9)


@st.composite
def fixed_rate_cubes(draw):
    """2–12 segments, each with one rate in both periods; a segment may open or close."""
    n = draw(st.integers(2, 12))
    rates = draw(st.lists(st.floats(0.0, 100.0, allow_subnormal=False), min_size=n, max_size=n))
    volume = st.one_of(st.just(0.0), st.floats(1.0, 1e4, allow_subnormal=False))
    rows = {}
    for k, r in enumerate(rates):
        d0, d1 = draw(volume), draw(volume)
        rows[f"q{k:02d}"] = (d0 * r, d0, d1 * r, d1)
    rows["q00"] = (10.0 * rates[0], 10.0, 10.0 * rates[0], 10.0)  # volume in both periods
    return rows


@FAST
@given(fixed_rate_cubes())
def test_with_fixed_rates_a_segment_pulls_toward_its_own_rate(rows):
    # rate r_i fixed: its mix term is (r_i − R̄) · Δs_i, so it has the sign of Δs_i · (r_i − R̄):
    # a segment that grows while below average pulls the metric down, and the reverse
    result = ratio(rows)
    average = result.reference
    assert average == pytest.approx((result.value0 + result.value1) / 2, rel=1e-12)
    for t in result.terms:
        num0, den0, _, _ = rows[t.segment[0]]
        r = num0 / den0 if den0 else rows[t.segment[0]][2] / rows[t.segment[0]][3]
        expected = (r - average) * (t.share1 - t.share0)
        assert t.mix == pytest.approx(expected, abs=1e-9 * max(1.0, average))
        if abs(expected) > 1e-9 * max(1.0, average):
            assert math.copysign(1.0, t.mix) == math.copysign(1.0, expected)
        assert t.rate == pytest.approx(0.0, abs=1e-9 * max(1.0, average))


@FAST
@given(fixed_rate_cubes())
def test_total_with_fixed_rates_and_volume_follows_the_same_rule(rows):
    # Q and every r_i fixed: the mix term of the total is Q · (r_i − R̄) · Δs_i
    q0 = math.fsum(v[1] for v in rows.values())
    q1 = math.fsum(v[3] for v in rows.values())
    scale = q0 / q1
    rows = {k: (n0, d0, n1 * scale, d1 * scale) for k, (n0, d0, n1, d1) in rows.items()}
    result = total(rows)
    average = (result.value0 + result.value1) / 2 / q0
    for t in result.terms:
        num0, den0, num1, den1 = rows[t.segment[0]]
        r = num0 / den0 if den0 else num1 / den1
        expected = q0 * (r - average) * (t.share1 - t.share0)
        assert t.mix == pytest.approx(expected, abs=1e-8 * max(1.0, q0 * average))


def test_a_segment_at_the_average_rate_contributes_no_mix():
    # rates 10 / 30 / 20 fixed; shares low .6 → .1, high .2 → .5, avg .2 → .4:
    # R^0 = 16, R^T = 24, so "avg" runs exactly at R̄ = 20 while its share doubles
    rows = {"low": (600, 60, 100, 10), "high": (600, 20, 1500, 50), "avg": (400, 20, 800, 40)}
    grows = ratio(rows)
    assert (grows.value0, grows.value1, grows.reference) == (16.0, 24.0, 20.0)
    assert term(grows, "avg").mix_lmdi == pytest.approx(20 * 0.2, abs=1e-12)  # the old reading
    assert term(grows, "avg").mix == pytest.approx(0.0, abs=1e-12)
    # the same queue shrinking at the average rate: no large negative term either
    shrinks = ratio({k: (n1, d1, n0, d0) for k, (n0, d0, n1, d1) in rows.items()})
    assert term(shrinks, "avg").mix_lmdi == pytest.approx(-20 * 0.2, abs=1e-12)
    assert term(shrinks, "avg").mix == pytest.approx(0.0, abs=1e-12)
    assert term(grows, "high").mix > 0 and term(grows, "low").mix > 0  # both push toward 30


def test_automation_example_from_the_issue():
    # 70 % automated overall; a 30 % queue doubles its share: its mix pulls automation down
    result = ratio({"misinfo": (30, 100, 60, 200), "spam": (720, 900, 640, 800)})
    misinfo = term(result, "misinfo")
    assert misinfo.mix_lmdi > 0  # the textbook term has the sign of the share change
    assert misinfo.mix < 0
    assert term(result, "spam").mix < 0  # an above-average queue that shrinks pulls it down too
    assert result.mix == pytest.approx(result.change, abs=1e-12)


# -- what each effect means -----------------------------------------------------------------------


def test_mix_effect_is_zero_when_shares_do_not_change():
    result = ratio({"a": (100, 10, 150, 20), "b": (300, 30, 240, 60)})  # shares 25 % / 75 % both
    assert result.mix == pytest.approx(0.0, abs=1e-12)
    assert result.rate == pytest.approx(result.change, abs=1e-12)


def test_rate_effect_is_zero_when_rates_do_not_change():
    result = ratio({"a": (100, 10, 300, 30), "b": (600, 30, 200, 10)})  # rates 10 and 20 both
    assert result.rate == pytest.approx(0.0, abs=1e-12)
    assert result.mix == pytest.approx(result.change, abs=1e-12)


def test_nearly_unchanged_contributions_keep_their_precision():
    # a's contribution moves by ~1e-14 while its share triples and its rate falls to a third:
    # (a − b) / (ln a − ln b) would cancel away most digits of L; log1p keeps them.
    rows = {"a": (300, 10, 300 + 3e-13, 30), "b": (300, 30, 300, 10)}
    want = reference(rows, "ratio")[("a",)]
    a = term(ratio(rows), "a")
    assert a.mix_lmdi == pytest.approx(float(want[0]), rel=1e-12)
    assert a.rate == pytest.approx(float(want[1]), rel=1e-12)


def test_single_segment_has_no_mix_effect():
    result = ratio({"all": (900, 10, 1200, 12)})
    assert result.mix == 0.0
    assert result.rate == pytest.approx(result.change, abs=1e-12)


@pytest.mark.parametrize("decompose", [ratio, total])
def test_identical_periods_have_no_effects(decompose):
    result = decompose({"a": (100, 10, 100, 10), "b": (0, 5, 0, 5), "c": (42, 7, 42, 7)})
    assert (result.change, result.mix, result.rate, result.activity) == (0.0, 0.0, 0.0, 0.0)
    assert all(t.total == 0.0 for t in result.terms)


def test_total_activity_effect_is_the_change_when_only_volume_scales():
    result = total({"a": (100, 10, 200, 20), "b": (900, 30, 1800, 60)})  # twice the volume
    assert result.kind == "total"
    assert result.change == 1000.0
    assert result.activity == pytest.approx(1000.0, abs=1e-9)
    assert result.mix == pytest.approx(0.0, abs=1e-12)
    assert result.rate == pytest.approx(0.0, abs=1e-12)


def test_total_splits_handling_time_into_activity_mix_and_rate():
    result = total({"Spam": (48_000, 800, 39_000, 600), "Hate": (36_000, 200, 72_000, 400)})
    assert result.value0 == 84_000.0 and result.value1 == 111_000.0
    assert result.activity == 0.0  # 1,000 decisions in both weeks
    assert result.mix + result.rate == pytest.approx(27_000.0, abs=1e-9)
    assert term(result, "Hate").rate == pytest.approx(0.0, abs=1e-12)


# -- zeros: Ang & Liu's analytical limits -----------------------------------------------------------


def test_appearing_segment_contributes_only_mix():
    result = ratio({"old": (600, 10, 600, 10), "new": (0, 0, 300, 10)})  # 60 → 45
    new = term(result, "new")
    assert (new.share0, new.rate0, new.rate1) == (0.0, None, 30.0)
    assert new.mix_lmdi == pytest.approx(15.0, abs=1e-12)  # its w: 0 → 0.5 · 30
    # relative to R̄ = (60 + 45) / 2: a new queue below the average dilutes it
    assert new.mix == pytest.approx(15.0 - 52.5 * 0.5, abs=1e-12)
    assert new.rate == 0.0
    assert_exact(result)


def test_disappearing_segment_contributes_only_mix():
    result = ratio({"stays": (600, 10, 600, 10), "closes": (300, 10, NAN, NAN)})
    closes = term(result, "closes")
    assert (closes.share1, closes.rate0, closes.rate1) == (0.0, 30.0, None)
    assert closes.mix_lmdi == pytest.approx(-15.0, abs=1e-12)
    # relative to R̄ = (45 + 60) / 2: a below-average queue closing raises the average
    assert closes.mix == pytest.approx(-15.0 + 52.5 * 0.5, abs=1e-12)
    assert closes.rate == 0.0
    assert_exact(result)


def test_zero_numerator_contributes_only_rate():
    result = ratio({"a": (0, 10, 50, 10), "b": (80, 10, 0, 30)})
    average = (80 / 20 + 50 / 40) / 2  # a's share 0.5 → 0.25, b's 0.5 → 0.75
    assert term(result, "a").mix_lmdi == 0.0
    assert term(result, "a").mix == pytest.approx(average * 0.25, abs=1e-12)
    assert term(result, "a").rate == pytest.approx(50 / 40, abs=1e-12)
    assert term(result, "b").mix_lmdi == 0.0
    assert term(result, "b").mix == pytest.approx(-average * 0.25, abs=1e-12)
    assert term(result, "b").rate == pytest.approx(-80 / 20, abs=1e-12)
    assert_exact(result)


def test_appearing_segment_is_the_limit_of_a_vanishing_one():
    appeared = ratio({"old": (600, 10, 600, 10), "new": (0, 0, 300, 10)})
    tiny = 1e-9
    vanishing = ratio({"old": (600, 10, 600, 10), "new": (30 * tiny, tiny, 300, 10)})
    assert term(vanishing, "new").mix == pytest.approx(term(appeared, "new").mix, abs=1e-6)
    assert term(vanishing, "new").rate == pytest.approx(0.0, abs=1e-6)


def test_segment_without_volume_in_either_period_is_dropped():
    result = ratio({"a": (100, 10, 120, 10), "never": (0, 0, NAN, NAN)})
    assert [t.segment for t in result.terms] == [("a",)]


@pytest.mark.parametrize(
    ("rows", "note", "value0", "value1"),
    [
        ({"a": (0, 0, 50, 10)}, "no volume in period 0", None, 5.0),
        ({"a": (50, 10, 0, 0)}, "no volume in period T", 5.0, None),
        ({"a": (0, 0, 0, 0)}, "no volume in period 0 or period T", None, None),
    ],
)
def test_ratio_without_volume_in_a_period_has_a_note_instead_of_effects(rows, note, value0, value1):
    result = ratio(rows)
    assert result.note is not None and result.note.startswith(note)
    assert (result.value0, result.value1, result.change) == (value0, value1, None)
    assert (result.mix, result.rate, result.activity, result.residual) == (None,) * 4
    assert result.terms == () and result.top(3) == ()


def test_total_without_volume_in_a_period_keeps_its_change():
    result = total({"a": (500, 10, 0, 0)})
    assert result.note is not None and result.note.startswith("no volume in period T")
    assert (result.value0, result.value1, result.change) == (500.0, 0.0, -500.0)
    assert result.mix is None and result.activity is None


def test_empty_frame_has_a_note():
    empty = pd.DataFrame({"dim0": pd.Series([], dtype="string"), **{m: [] for m in MEASURES}})
    assert lmdi_ratio(empty, ["dim0"], *MEASURES).note is not None


# -- two dimensions, ranking ------------------------------------------------------------------------

TWO_DIM_ROWS = {
    ("EMEA", "spam"): (40_000, 800, 30_000, 500),
    ("EMEA", "hate"): (18_000, 100, 40_000, 200),
    ("APAC", "spam"): (30_000, 500, 33_000, 600),
    ("APAC", "hate"): (0, 0, 20_000, 100),
    ("AMER", "spam"): (12_000, 200, 0, 0),
}


@pytest.mark.parametrize("dim", ["dim0", "dim1"])
def test_by_dimension_effects_add_up_to_the_totals(dim):
    result = ratio(TWO_DIM_ROWS)
    rolled = result.by_dimension(dim)
    assert math.fsum(t.mix for t in rolled) == pytest.approx(result.mix, abs=1e-12)
    assert math.fsum(t.rate for t in rolled) == pytest.approx(result.rate, abs=1e-12)
    assert math.fsum(t.share1 for t in rolled) == pytest.approx(1.0, abs=1e-12)


def test_by_dimension_reports_each_labels_share_and_rate():
    result = ratio(TWO_DIM_ROWS)
    rolled = {t.segment: t for t in result.by_dimension("dim1")}
    hate = rolled[("hate",)]
    assert hate.share0 == pytest.approx(100 / 1600, abs=1e-12)
    assert hate.share1 == pytest.approx(300 / 1400, abs=1e-12)
    assert hate.rate0 == pytest.approx(18_000 / 100, abs=1e-12)
    assert hate.rate1 == pytest.approx(60_000 / 300, abs=1e-12)
    # its own change, less the average times its share change (mix relative to the average)
    own_change = 60_000 / 1400 - 18_000 / 1600
    share_change = 300 / 1400 - 100 / 1600
    assert hate.total == pytest.approx(own_change - result.reference * share_change, abs=1e-12)
    assert hate.mix_lmdi + hate.rate == pytest.approx(own_change, abs=1e-12)


def test_by_dimension_rejects_an_unknown_dimension():
    with pytest.raises(ValueError, match="unknown dimension 'site'"):
        ratio(TWO_DIM_ROWS).by_dimension("site")


def test_terms_are_ranked_by_size_of_contribution():
    result = ratio(TWO_DIM_ROWS)
    sizes = [abs(t.total) for t in result.terms]
    assert sizes == sorted(sizes, reverse=True)
    assert result.top(2) == result.terms[:2]
    assert math.fsum(t.total for t in result.terms) == pytest.approx(result.change, abs=1e-12)


# -- input ------------------------------------------------------------------------------------------


def test_missing_values_count_as_an_absent_segment():
    with_nan = ratio({"a": (100, 10, 120, 10), "b": (NAN, NAN, 40, 5)})
    with_zero = ratio({"a": (100, 10, 120, 10), "b": (0, 0, 40, 5)})
    assert with_nan == with_zero


def test_duplicate_segment_rows_are_summed():
    f = pd.concat(
        [frame({"a": (100, 10, 120, 10)}), frame({"a": (50, 5, 0, 0), "b": (30, 3, 60, 6)})]
    )
    assert lmdi_ratio(f, ["dim0"], *MEASURES) == ratio(
        {"a": (150, 15, 120, 10), "b": (30, 3, 60, 6)}
    )


def test_negative_values_are_rejected():
    with pytest.raises(ValueError, match="'den1' has negative values"):
        ratio({"a": (100, 10, 120, -10)})


def test_numerator_without_denominator_is_rejected():
    with pytest.raises(ValueError, match="no denominator in period 0"):
        ratio({"a": (100, 10, 120, 10), "b": (5, 0, 10, 1)})


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match=r"\['queue'\] are not in the frame"):
        lmdi_ratio(frame({"a": (1, 1, 1, 1)}), ["queue"], *MEASURES)
