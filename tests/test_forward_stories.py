"""Forward stories: where a metric is heading, told only when the evidence holds.

The session's leadership build of 2026-W47 (``built_report``) has November's average handle
time off pace: the planted Harassment incident lifts W47 to 62.6 s and the month's projection
(57.8 s, likely 57.4–58.2 s) lies wholly above the 57 s target. The projection is checked
against the pace recomputed from SQL's daily sums; the rules (no story when the likely range
reaches the target) on the same figures with the outlook changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from reportgen.analysis.stories import FOLLOW_ON_WEIGHT, _forward_stories
from reportgen.compose._stories import story_texts

from .test_outlook import independent_pace
from .test_stories import JARGON

W47_END = date(2026, 11, 22)


@pytest.fixture(scope="module")
def figures_json(built_report) -> dict:
    return json.loads(built_report.artifacts["figures"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def forward(figures_json) -> list[dict]:
    return [s for s in figures_json["stories"] if s["kind"] == "forward"]


@pytest.fixture(scope="module")
def report(weekly_config):
    from reportgen.config.loader import load_report

    return load_report(weekly_config)


def test_november_aht_off_pace_is_a_forward_story(forward):
    (story,) = [s for s in forward if s["metric"] == "aht"]
    ahead = story["ahead"]
    assert (ahead["what"], ahead["period"], ahead["status"]) == ("pace", "2026-11", "off pace")
    assert story["title"] == (
        "At this pace, average handle time ends November at 57.8 s, above its 57.0 s target"
    )
    assert story["sentence"].startswith("With 8 days of November left")
    assert "likely between 57.4 s and 58.2 s" in story["sentence"]


def test_the_projection_is_the_pace_from_raw_daily_sums(raw, demo_dir, forward):
    """Σ handle seconds / Σ manual decisions, the rest of November at the weekday pace."""
    daily = raw.execute(
        "SELECT CAST(decided_at AT TIME ZONE 'UTC' AS DATE) AS day, "
        "sum(handle_seconds) FILTER (WHERE NOT automated) AS num, "
        "count(*) FILTER (WHERE NOT automated) AS den "
        f"FROM read_parquet('{demo_dir}/decisions/*.parquet') GROUP BY 1"
    ).df()
    daily["day"] = pd.to_datetime(daily["day"])
    _, point, low, high = independent_pace(
        daily, date(2026, 11, 1), date(2026, 11, 30), W47_END, ratio=True
    )
    ahead = next(s for s in forward if s["metric"] == "aht")["ahead"]
    assert ahead["value"] == pytest.approx(point, rel=1e-9)
    assert ahead["lower"] == pytest.approx(low, rel=1e-9)
    assert ahead["upper"] == pytest.approx(high, rel=1e-9)
    assert ahead["target"] == 57.0


def test_a_forward_story_is_told_only_when_its_whole_range_misses(forward, figures_json):
    metrics = figures_json["metrics"]
    assert forward
    for story in forward:
        a = story["ahead"]
        if a["what"] == "backlog" or a["status"] == "already missed":
            continue
        if metrics[story["metric"]]["direction"] == "higher_is_better":
            assert a["upper"] < a["target"]
        else:
            assert a["lower"] > a["target"]


def test_the_why_line_says_how_sure_in_plain_words(forward, built_report, report):
    story = next(s for s in forward if s["metric"] == "aht")
    assert story["evidence"] == (
        "The whole 80% likely range is above the target; projected from the days so far and "
        "the same weekdays of the last four weeks."
    )
    for s in forward:
        for text in (s["title"], s["sentence"], s["evidence"]):
            assert not JARGON.search(text), text
            assert not re.search(r"interval|ETS|statsmodels|robust", text), text


def test_the_analyst_edition_adds_the_method(analyst_report, report):
    texts = story_texts(report, analyst_report.figures, analyst_report.insights, analyst=True)
    story = next(t for t in texts if t.story.kind == "forward" and t.story.metric == "aht")
    assert "weekday over the last 28 days" in story.evidence


def test_a_follow_on_of_a_told_move_ranks_below_it(figures_json):
    """November's pace is off because of W47's AHT jump, which the surge and the Harassment
    story already tell: the forward story is weighed down, so the brief keeps the planted
    Southeast Asia QA drop."""
    stories = figures_json["stories"]
    story = next(s for s in stories if s["kind"] == "forward" and s["metric"] == "aht")
    told = [s for s in stories if s["kind"] in ("surge", "segment") and s["metric"] == "aht"]
    assert told and min(s["rank"] for s in told) < story["rank"]
    full = (
        1.0
        + 1.0
        + 0.5
        * min(  # impact: a target it will miss, and how clearly
            (story["ahead"]["lower"] - 57.0)
            / ((story["ahead"]["upper"] - story["ahead"]["lower"]) / 2),
            1.0,
        )
    )
    assert story["score"] == pytest.approx(full * FOLLOW_ON_WEIGHT, abs=1e-6)
    scores = [s["score"] for s in stories]
    assert scores == sorted(scores, reverse=True)


def test_stable_ids_match_between_figures_json_and_the_analysis(built_report, figures_json):
    ids = {s.id for s in built_report.insights.stories if s.kind == "forward"}
    assert ids == {s["id"] for s in figures_json["stories"] if s["kind"] == "forward"}


# -- the rules, on the same figures with the outlook changed --------------------------------------


def with_outlook(insights, **changes):
    return replace(insights, outlook=replace(insights.outlook, **changes))


def test_an_off_pace_projection_whose_range_reaches_the_target_is_no_story(built_report, report):
    insights = built_report.insights
    pace = tuple(replace(p, fires=False) for p in insights.outlook.pace)  # as the detector says
    changed = with_outlook(insights, pace=pace)
    found = _forward_stories(report, built_report.figures, changed, [])
    assert not [s for s in found if s.ahead.what == "pace"]


def test_a_forecast_that_misses_becomes_a_story_when_no_pace_tells_it(built_report, report):
    insights = built_report.insights
    f = next(f for f in insights.outlook.forecasts if f.metric == "sla_attainment")
    missed = replace(f, fires=True, target=f.upper[0] + 0.01)
    forecasts = tuple(missed if x is f else x for x in insights.outlook.forecasts)
    changed = with_outlook(insights, forecasts=forecasts)
    (story,) = [
        s
        for s in _forward_stories(report, built_report.figures, changed, [])
        if s.metric == "sla_attainment"
    ]
    assert story.ahead.what == "forecast" and story.ahead.period == "2026-W48"
    (text,) = story_texts(
        report, built_report.figures, replace(changed, stories=(story,)), analyst=False
    )
    assert text.title.startswith("SLA attainment is forecast at ")
    assert text.title.endswith(" in W48, below its " + f"{missed.target:.1%} target")
    assert "next week it is likely between" in text.sentence


def test_a_backlog_growing_unusually_fast_is_a_story_unless_its_pile_up_is_told(
    built_report, report
):
    insights = built_report.insights
    b = next(b for b in insights.outlook.backlog if b.segment == "Europe")
    assert b.status == "growing" and not b.fires
    growing = replace(b, fires=True)
    changed = with_outlook(
        insights, backlog=tuple(growing if x is b else x for x in insights.outlook.backlog)
    )
    (story,) = [
        s
        for s in _forward_stories(report, built_report.figures, changed, [])
        if s.segment == "Europe"
    ]
    (text,) = story_texts(
        report, built_report.figures, replace(changed, stories=(story,)), analyst=False
    )
    assert text.title == f"Europe backlog growing by about {b.growing_per_day:,.1f} a day"
    piled = replace(story, kind="concentration", ahead=None)
    again = _forward_stories(report, built_report.figures, changed, [piled])
    assert not [s for s in again if s.segment == "Europe"]


def test_a_piled_up_backlog_story_says_where_it_is_heading(figures_json, built_report):
    story = next(
        s
        for s in figures_json["stories"]
        if s["kind"] == "concentration" and s["segment"] == "Latin America"
    )
    outlook = next(b for b in built_report.insights.outlook.backlog if b.segment == "Latin America")
    assert story["ahead"]["what"] == "backlog"
    assert story["ahead"]["per_day"] == pytest.approx(outlook.growing_per_day)
    # 168 items against 167 a week before: growing by 0.1 a day, so not coming down
    assert story["sentence"].endswith("; at the current flow it is not coming down.")
