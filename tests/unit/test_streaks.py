"""Streaks over local days: consecutive active days, today or yesterday keeps the current one alive."""

from datetime import date, timedelta

from activity_hub.services.history_stats import streaks

TODAY = date(2025, 3, 2)


def days_back(*offsets):
    return [TODAY - timedelta(days=n) for n in offsets]


def test_no_activity_means_no_streak():
    assert streaks([], TODAY) == (0, 0)


def test_a_run_ending_today_is_current():
    assert streaks(days_back(0, 1, 2), TODAY) == (3, 3)


def test_a_run_ending_yesterday_is_still_current_until_the_day_is_over():
    assert streaks(days_back(1, 2), TODAY) == (2, 2)


def test_a_gap_of_a_whole_day_breaks_the_current_streak():
    assert streaks(days_back(2, 3, 4, 5), TODAY) == (0, 4)


def test_longest_is_the_best_run_anywhere_and_duplicates_count_once():
    days = days_back(0, 1, 10, 11, 12, 13, 13, 20)
    assert streaks(days, TODAY) == (2, 4)


def test_streak_runs_across_a_month_boundary():
    # 26 Feb .. 2 Mar 2025: February has 28 days, so this is five consecutive days.
    days = [date(2025, 2, 26), date(2025, 2, 27), date(2025, 2, 28), date(2025, 3, 1), date(2025, 3, 2)]
    assert streaks(days, TODAY) == (5, 5)


def test_streak_runs_across_a_leap_day_and_a_year_boundary():
    leap = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    new_year = [date(2024, 12, 30), date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 2)]
    assert streaks(leap + new_year, date(2025, 1, 2)) == (4, 4)
    assert streaks(leap, date(2024, 3, 1)) == (3, 3)
