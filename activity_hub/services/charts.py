"""Chart geometry for server-rendered SVG: a stable colour per service, the day heatmap, the weekly bars."""

import bisect
import colorsys
import hashlib
import math
from dataclasses import dataclass
from datetime import date, timedelta

KNOWN_COLOURS = {
    "github": "#3d444d", "wakatime": "#2563eb", "codewars": "#b1361e", "exercism": "#604fcd",
    "duolingo": "#58a700", "khan-academy": "#14bf96", "codecademy": "#1f4056", "leetcode": "#e7a41f",
    "manual": "#8a6d3b",
}


def service_colour(service: str) -> str:
    """The same colour for a service everywhere and for everyone: curated for known ones, hashed otherwise."""
    if service in KNOWN_COLOURS:
        return KNOWN_COLOURS[service]
    digest = hashlib.sha1(service.encode()).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    lightness = 0.38 + (digest[2] / 255) * 0.12
    saturation = 0.55 + (digest[3] / 255) * 0.2
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def hours_minutes(minutes: int) -> str:
    """125 -> "2 h 5 min", 45 -> "45 min", 0 -> "0 min"."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours:,} h {rest} min" if rest else f"{hours:,} h"


def short_day(day: date) -> str:
    return f"{day.day} {day:%b}"


def _breakdown(per_service: dict[str, int]) -> str:
    parts = sorted(per_service.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{s} {hours_minutes(m)}" for s, m in parts)


# --- heatmap --------------------------------------------------------------------------------------------

CELL, STEP, LEFT, TOP = 11, 14, 30, 18


@dataclass
class HeatCell:
    day: date
    x: int
    y: int
    level: int
    minutes: int
    tip: str
    in_range: bool


@dataclass
class Heatmap:
    cells: list[HeatCell]
    months: list[tuple[int, str]]
    weekdays: list[tuple[int, str]]
    width: int
    height: int
    legend: list[tuple[int, str]]
    total_minutes: int
    active_days: int
    first: date
    last: date
    cell: int = CELL


def _leveller(values: list[int]):
    """Level 1-4 by where a day stands among the active days (its quartile); the busiest day is always 4."""
    ordered = sorted(values)

    def level(minutes: int) -> int:
        if minutes <= 0 or not ordered:
            return 0
        return max(1, math.ceil(4 * bisect.bisect_right(ordered, minutes) / len(ordered)))

    return level


def heatmap(totals: dict[date, dict[str, int]], end: date, f) -> Heatmap:
    """A cell per local day of the 53 weeks up to `end`, Monday on top, shaded by quartile of minutes.

    Shades, totals and the legend come from the days inside the chosen range; days outside it keep
    their shade but are drawn dimmed (`in_range` False)."""
    first = end - timedelta(days=364)
    first -= timedelta(days=first.weekday())
    days = [first + timedelta(days=i) for i in range((end - first).days + 1)]
    day_minutes = {d: sum(totals[d].values()) for d in days if d in totals}
    chosen = {d: m for d, m in day_minutes.items() if f.contains(d)}
    level_of = _leveller([m for m in chosen.values() if m > 0])
    cells = []
    for day in days:
        col, row = (day - first).days // 7, day.weekday()
        minutes = day_minutes.get(day, 0)
        tip = f"{day:%a} {day.day} {day:%b %Y}: "
        tip += f"{hours_minutes(minutes)} ({_breakdown(totals[day])})" if minutes else "no activity"
        cells.append(HeatCell(day, LEFT + col * STEP, TOP + row * STEP, level_of(minutes), minutes, tip,
                              f.contains(day)))
    columns = (end - first).days // 7 + 1
    months = _month_labels(first, end)
    legend = _legend(chosen.values(), level_of)
    weekdays = [(TOP + r * STEP + CELL - 2, name) for r, name in ((0, "Mon"), (2, "Wed"), (4, "Fri"))]
    return Heatmap(cells, months, weekdays, LEFT + columns * STEP, TOP + 7 * STEP, legend,
                   sum(chosen.values()), sum(1 for m in chosen.values() if m > 0), first, end)


def _month_labels(first: date, end: date) -> list[tuple[int, str]]:
    """A label above the column where each month starts; a partial first month is named only if it has room."""
    starts = [d for d in (first + timedelta(days=i) for i in range((end - first).days + 1)) if d.day == 1]
    columns = [((d - first).days // 7, f"{d:%b}") for d in starts]
    if not columns or columns[0][0] >= 3:
        columns.insert(0, (0, f"{first:%b}"))
    return [(LEFT + col * STEP, label) for col, label in columns]


def _legend(values, level_of) -> list[tuple[int, str]]:
    """What each shade means in minutes, from the days actually shown."""
    spans: dict[int, list[int]] = {}
    for minutes in values:
        if minutes > 0:
            span = spans.setdefault(level_of(minutes), [minutes, minutes])
            span[0], span[1] = min(span[0], minutes), max(span[1], minutes)
    legend = [(0, "no activity")]
    for level in range(1, 5):
        low, high = spans.get(level, (None, None))
        text = "no day" if low is None else hours_minutes(low) if low == high else f"{hours_minutes(low)} to {hours_minutes(high)}"
        legend.append((level, text))
    return legend


# --- weekly stacked bars --------------------------------------------------------------------------------

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 640, 240, 46, 8, 12, 30
WEEKS = 12


@dataclass
class Segment:
    x: float
    y: float
    width: float
    height: float
    colour: str
    tip: str


@dataclass
class WeeklyChart:
    segments: list[Segment]
    labels: list[tuple[float, str, bool]]
    ticks: list[tuple[float, str]]
    legend: list[tuple[str, str, int]]
    total_minutes: int
    first: date
    last: date
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PAD_LEFT
    plot_right: int = WIDTH - PAD_RIGHT
    baseline: int = HEIGHT - PAD_BOTTOM


def _tick_step(max_minutes: int) -> int:
    """A round step in minutes so the axis has at most five ticks."""
    for hours in (0.5, 1, 2, 3, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if max_minutes / (hours * 60) <= 5:
            return int(hours * 60)
    return int(max_minutes / 5) + 1


def weekly(totals: dict[date, dict[str, int]], end: date, f) -> WeeklyChart:
    """Twelve Monday-to-Sunday weeks up to the week of `end`, one bar each, stacked by service."""
    last_monday = end - timedelta(days=end.weekday())
    mondays = [last_monday - timedelta(weeks=i) for i in range(WEEKS - 1, -1, -1)]
    per_week = [dict() for _ in mondays]
    for day, per_service in totals.items():
        index = (day - mondays[0]).days // 7
        if 0 <= index < WEEKS and day <= end and f.contains(day):
            for service, minutes in per_service.items():
                per_week[index][service] = per_week[index].get(service, 0) + minutes
    service_totals: dict[str, int] = {}
    for week in per_week:
        for service, minutes in week.items():
            service_totals[service] = service_totals.get(service, 0) + minutes
    order = sorted(service_totals, key=lambda s: (-service_totals[s], s))
    week_totals = [sum(w.values()) for w in per_week]
    step = _tick_step(max(week_totals) or 60)
    top = step * max(1, -(-max(week_totals) // step))
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = (WIDTH - PAD_LEFT - PAD_RIGHT) / WEEKS
    bar = slot * 0.62
    segments, labels = [], []
    for i, (monday, week) in enumerate(zip(mondays, per_week, strict=True)):
        x = PAD_LEFT + i * slot + (slot - bar) / 2
        y = HEIGHT - PAD_BOTTOM
        for service in order:
            minutes = week.get(service, 0)
            if not minutes:
                continue
            h = plot_height * minutes / top
            y -= h
            tip = (f"Week of {short_day(monday)}: {service} {hours_minutes(minutes)} "
                   f"of {hours_minutes(week_totals[i])}")
            segments.append(Segment(round(x, 1), round(y, 1), round(bar, 1), round(h, 1),
                                    service_colour(service), tip))
        labels.append((round(PAD_LEFT + i * slot + slot / 2, 1), short_day(monday), i % 2 == 1))
    ticks = [(round(HEIGHT - PAD_BOTTOM - plot_height * v / top, 1), _tick_label(v)) for v in range(0, top + 1, step)]
    legend = [(s, service_colour(s), service_totals[s]) for s in order]
    return WeeklyChart(segments, labels, ticks, legend, sum(week_totals), mondays[0], last_monday + timedelta(days=6))


def _tick_label(minutes: int) -> str:
    if minutes == 0:
        return "0"
    hours = minutes / 60
    return f"{hours:g} h" if hours >= 1 else f"{minutes} min"
