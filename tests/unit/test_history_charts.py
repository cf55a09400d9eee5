"""Chart geometry: stable colours, a heatmap cell per local day, twelve stacked weekly bars, the summary."""

import re
from datetime import date, timedelta

from activity_hub.services import charts
from activity_hub.services.history import HistoryFilter
from activity_hub.services.history_stats import only_services, summarise

END = date(2025, 3, 12)  # a Wednesday


def test_service_colours_are_stable_hex_and_distinct_for_known_services():
    assert charts.service_colour("duolingo") == charts.service_colour("duolingo")
    assert re.fullmatch(r"#[0-9a-f]{6}", charts.service_colour("some-new-thing"))
    known = [charts.service_colour(s) for s in ("github", "wakatime", "codewars", "exercism", "duolingo")]
    assert len(set(known)) == len(known)


def test_hours_minutes_reads_naturally():
    assert [charts.hours_minutes(m) for m in (0, 45, 60, 125, 6000)] == ["0 min", "45 min", "1 h", "2 h 5 min", "100 h"]


def test_heatmap_has_one_cell_per_day_for_a_year_with_monday_on_top():
    totals = {END: {"duolingo": 30, "github": 90}, END - timedelta(days=1): {"duolingo": 5}}
    heat = charts.heatmap(totals, END, HistoryFilter())
    assert heat.first.weekday() == 0 and heat.first <= END - timedelta(days=364)
    assert len(heat.cells) == (END - heat.first).days + 1
    last = heat.cells[-1]
    assert last.day == END and last.minutes == 120 and last.level == 4
    assert "2 h" in last.tip and "github 1 h 30 min" in last.tip and "duolingo 30 min" in last.tip
    assert heat.cells[-2].level == 2  # the lower half of two active days
    assert all(c.level == 0 for c in heat.cells[:-2])
    assert len({c.x for c in heat.cells}) == 53 and {c.y for c in heat.cells} == {charts.TOP + r * charts.STEP for r in range(7)}
    assert [label for _, label in heat.months][-1] == "Mar"


def test_heatmap_shades_by_quartile_of_active_days_and_explains_the_shades():
    totals = {END - timedelta(days=i): {"x": minutes} for i, minutes in enumerate((10, 20, 30, 40, 50, 60, 70, 80))}
    heat = charts.heatmap(totals, END, HistoryFilter())
    levels = {c.minutes: c.level for c in heat.cells if c.minutes}
    assert levels == {10: 1, 20: 1, 30: 2, 40: 2, 50: 3, 60: 3, 70: 4, 80: 4}
    assert heat.legend == [(0, "no activity"), (1, "10 min to 20 min"), (2, "30 min to 40 min"),
                           (3, "50 min to 1 h"), (4, "1 h 10 min to 1 h 20 min")]


def test_heatmap_marks_days_outside_the_chosen_range():
    f = HistoryFilter(start=END - timedelta(days=6), end=END)
    heat = charts.heatmap({}, END, f)
    assert sum(1 for c in heat.cells if c.in_range) == 7


def test_weekly_bars_stack_services_per_monday_week():
    totals = {
        END: {"duolingo": 60, "github": 30},            # this week (Mon 10 Mar)
        END - timedelta(days=2): {"duolingo": 30},       # Mon 10 Mar
        END - timedelta(days=3): {"github": 120},        # Sun 9 Mar: last week
        END - timedelta(weeks=20): {"github": 999},      # outside the twelve weeks
    }
    chart = charts.weekly(totals, END, HistoryFilter())
    assert chart.first == date(2024, 12, 23) and chart.last == date(2025, 3, 16)
    assert chart.total_minutes == 240
    assert [(s, m) for s, _, m in chart.legend] == [("github", 150), ("duolingo", 90)]
    last_week = [s for s in chart.segments if "Week of 10 Mar" in s.tip]
    assert len(last_week) == 2
    bottom, top = sorted(last_week, key=lambda s: -s.y)
    assert "github" in bottom.tip and "duolingo" in top.tip  # larger total service at the bottom
    assert abs(bottom.y - (top.y + top.height)) < 0.2  # stacked without a gap
    assert [label for _, label, _ in chart.labels][-1] == "10 Mar" and len(chart.labels) == 12


def test_summary_counts_week_month_range_and_split():
    today = date(2025, 3, 2)  # a Sunday
    totals = {
        date(2025, 2, 24): {"duolingo": 10},  # Monday of this week, previous month
        date(2025, 3, 1): {"duolingo": 20, "github": 40},
        date(2025, 3, 2): {"github": 5},
        date(2025, 1, 15): {"exercism": 100},
    }
    s = summarise(totals, HistoryFilter(), today)
    assert (s.week_minutes, s.month_minutes) == (75, 65)
    assert (s.last_week_minutes, s.last_month_minutes) == (0, 10)
    assert s.active_days == 4 and s.range_minutes == 175 and s.range_label == "all time"
    assert (s.current_streak, s.longest_streak, s.active_today) == (2, 2, True)
    assert [(p.service, p.minutes) for p in s.split] == [("exercism", 100), ("github", 45), ("duolingo", 30)]
    ranged = summarise(totals, HistoryFilter(start=date(2025, 3, 1), end=date(2025, 3, 2)), today)
    assert ranged.active_days == 2 and ranged.range_minutes == 65 and ranged.range_label == "1 Mar 2025 – 2 Mar 2025"
    only = summarise(only_services(totals, ("github",)), HistoryFilter(services=("github",)), today)
    assert (only.week_minutes, only.month_minutes, only.active_days) == (45, 45, 2)


def test_heatmap_stays_on_today_for_recent_ranges_and_moves_back_for_old_ones():
    from activity_hub.services.history_stats import heatmap_end

    today = date(2025, 3, 12)
    assert heatmap_end(HistoryFilter(), today) == today
    assert heatmap_end(HistoryFilter(start=date(2025, 3, 1), end=date(2025, 3, 1)), today) == today
    assert heatmap_end(HistoryFilter(end=date(2024, 6, 1)), today) == today
    assert heatmap_end(HistoryFilter(end=date(2023, 6, 30)), today) == date(2023, 6, 30)


def test_heatmap_shades_and_counts_only_the_chosen_range():
    totals = {END: {"x": 10}, END - timedelta(days=1): {"x": 500}, END - timedelta(days=40): {"x": 999}}
    heat = charts.heatmap(totals, END, HistoryFilter(start=END - timedelta(days=1)))
    assert (heat.active_days, heat.total_minutes) == (2, 510)
    levels = {c.minutes: (c.level, c.in_range) for c in heat.cells if c.minutes}
    assert levels == {10: (2, True), 500: (4, True), 999: (4, False)}
