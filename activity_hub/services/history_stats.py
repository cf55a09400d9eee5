"""Totals, streaks and per-service splits over the user's local days, from one SQL aggregate per view."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import Activity
from . import charts
from .history import HistoryFilter, conditions

DayServiceMinutes = dict[date, dict[str, int]]


def day_service_totals(user_id: int, f: HistoryFilter) -> DayServiceMinutes:
    """Minutes per local day and service of the visible rows, all time; the text filter applies, services do not.

    Grouped in SQL over the covering (user, hidden, date, service, minutes) index, so Python only sees
    one row per day and service, a few thousand rows even for years of history.
    """
    where = conditions(user_id, f, dates=False, services=False, include_hidden=False)
    stmt = (select(Activity.date, Activity.service, func.sum(Activity.minutes))
            .where(*where).group_by(Activity.date, Activity.service))
    totals: DayServiceMinutes = {}
    for day, service, minutes in db.session.execute(stmt):
        totals.setdefault(day, {})[service] = int(minutes or 0)
    return totals


def only_services(totals: DayServiceMinutes, services: tuple[str, ...]) -> DayServiceMinutes:
    """Keep the chosen services (all when none are chosen); days left empty are dropped."""
    if not services:
        return totals
    chosen = set(services)
    out: DayServiceMinutes = {}
    for day, per_service in totals.items():
        kept = {s: m for s, m in per_service.items() if s in chosen}
        if kept:
            out[day] = kept
    return out


def streaks(active_days, today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive active days. The current run may end today or yesterday:
    a streak is not broken before the day is over."""
    days = sorted(set(active_days))
    longest = run = 0
    previous = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = 0
    present = set(days)
    cursor = today if today in present else today - timedelta(days=1)
    while cursor in present:
        current += 1
        cursor -= timedelta(days=1)
    return current, longest


@dataclass
class ServiceShare:
    service: str
    minutes: int
    percent: float
    colour: str


@dataclass
class Summary:
    week_minutes: int
    month_minutes: int
    active_days: int
    range_minutes: int
    range_label: str
    current_streak: int
    longest_streak: int
    active_today: bool
    split: list[ServiceShare] = field(default_factory=list)
    last_week_minutes: int = 0
    last_month_minutes: int = 0


def summarise(totals: DayServiceMinutes, f: HistoryFilter, today: date) -> Summary:
    """The numbers at the top of the page, for the chosen services (`totals` already narrowed to them)."""
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    last_month_start = (month_start - timedelta(days=1)).replace(day=1)
    week = month = last_week = last_month = 0
    per_service: dict[str, int] = {}
    active_in_range = 0
    for day, per in totals.items():
        minutes = sum(per.values())
        if week_start <= day <= today:
            week += minutes
        if month_start <= day <= today:
            month += minutes
        if week_start - timedelta(days=7) <= day < week_start:
            last_week += minutes
        if last_month_start <= day < month_start:
            last_month += minutes
        if f.contains(day):
            active_in_range += 1
            for service, m in per.items():
                per_service[service] = per_service.get(service, 0) + m
    range_total = sum(per_service.values())
    split = [
        ServiceShare(s, m, round(100 * m / range_total, 1) if range_total else 0.0, charts.service_colour(s))
        for s, m in sorted(per_service.items(), key=lambda item: (-item[1], item[0]))
    ]
    current, longest = streaks(totals.keys(), today)
    return Summary(week, month, active_in_range, range_total, range_label(f), current, longest,
                   today in totals, split, last_week, last_month)


def range_label(f: HistoryFilter) -> str:
    if f.start and f.end:
        return "on " + long_day(f.start) if f.start == f.end else f"{long_day(f.start)} – {long_day(f.end)}"
    if f.start:
        return "since " + long_day(f.start)
    if f.end:
        return "until " + long_day(f.end)
    return "all time"


def long_day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@dataclass
class Overview:
    summary: Summary
    heatmap: "charts.Heatmap"
    weekly: "charts.WeeklyChart"
    services: list[str]


def overview(user_id: int, f: HistoryFilter, today: date) -> Overview:
    """Everything above the table, from a single aggregate query."""
    totals = day_service_totals(user_id, f)
    services = sorted({s for per in totals.values() for s in per})
    chosen = only_services(totals, f.services)
    return Overview(
        summary=summarise(chosen, f, today),
        heatmap=charts.heatmap(chosen, heatmap_end(f, today), f),
        weekly=charts.weekly(chosen, min(f.end or today, today), f),
        services=services,
    )


def heatmap_end(f: HistoryFilter, today: date) -> date:
    """The heatmap ends today, so picking a day or a recent range dims the rest instead of moving it;
    a range that ends before the last twelve months moves it back to that range."""
    if f.end is None or f.end > today - timedelta(days=365):
        return today
    return f.end
