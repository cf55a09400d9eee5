"""The activity row rules shared by CSV import, manual entries and the template/export columns.

One definition of the columns (`COLUMNS`) feeds the parser, the downloadable template and the export,
so they cannot drift apart. `validate_row` returns a clean row or a list of errors naming the column,
the value and the reason.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import NamedTuple

MAX_MINUTES = 1440
MAX_TITLE = 200
SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MINUTES_RE = re.compile(r"[+-]?[0-9]+")
SPACES_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    example: str
    help: str


COLUMNS = (
    Column("date", True, "2025-03-14", "The day, as YYYY-MM-DD, in your time zone. Not in the future."),
    Column("service", True, "duolingo", "Where you learned, as a short name: lower case, spaces become hyphens."),
    Column("minutes", True, "25", f"Whole minutes, 1 to {MAX_MINUTES}."),
    Column("title", False, "Spanish: past tense", f"What you did, up to {MAX_TITLE} characters. Empty means the service name."),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
EXAMPLE_ROWS = (
    ("2025-03-14", "duolingo", "25", "Spanish: past tense"),
    ("2025-03-14", "khan-academy", "40", "Linear algebra: eigenvectors"),
    ("2025-03-15", "codecademy", "30", "Learn SQL, lesson 4"),
)


FORMULA_STARTS = frozenset("=+-@\t\r\0")


def neutralise(value: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR, NUL)."""
    return "'" + value if value and value[0] in FORMULA_STARTS else value


@dataclass(frozen=True)
class RowError:
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f'column `{self.column}`: "{self.value}" {self.reason}'


class CleanRow(NamedTuple):
    """A valid row, normalised. A named tuple: the importer makes one per row, and tuples are cheap to make."""

    date: date
    service: str
    minutes: int
    title: str


_clean_row = partial(tuple.__new__, CleanRow)  # CleanRow(...) without its Python-level __new__: once per CSV row


def normalise_service(value: str) -> str:
    return SPACES_RE.sub("-", value.strip().lower())


def validate_row(raw: dict, today: date) -> tuple[CleanRow | None, list[RowError]]:
    """Check one row (`date`, `service`, `minutes`, `title` as strings) against the rules."""
    result = RowChecker(today).check(raw.get("date") or "", raw.get("service") or "", raw.get("minutes") or "",
                                     raw.get("title") or "")
    return (result, []) if type(result) is CleanRow else (None, result)


class _Verdicts(dict):
    """Field value -> verdict, computed on first sight; stops remembering past `limit` distinct values."""

    def __init__(self, verdict: Callable[[str], object], limit: int) -> None:
        super().__init__()
        self.verdict, self.limit = verdict, limit

    def __missing__(self, value: str):
        result = self.verdict(value)
        if len(self) < self.limit:
            self[value] = result
        return result


class RowChecker:
    """Checks rows against the rules for one `today`.

    A file repeats the same few dates, services and minute values, so each field's verdict is computed
    once per distinct value and then looked up (a dict hit costs a fraction of re-checking). The caches are
    bounded, so a file of a million different bad values cannot grow them without limit.
    """

    def __init__(self, today: date, cache_limit: int = 4096) -> None:
        self.dates = _Verdicts(lambda value: _date_verdict(value, today), cache_limit)
        self.services = _Verdicts(_service_verdict, cache_limit)
        self.minutes = _Verdicts(_minutes_verdict, cache_limit)

    def check(self, date_text: str, service_text: str, minutes_text: str, title_text: str) -> CleanRow | list[RowError]:
        """A clean row, or the row's errors in column order."""
        day, service, minutes = self.dates[date_text], self.services[service_text], self.minutes[minutes_text]
        title = " ".join(title_text.split())
        if len(title) > 1 and title[0] == "'" and title[1] in FORMULA_STARTS:
            title = title[1:]  # our own export defused this cell; take it back so a re-import matches
        if type(day) is not RowError and type(service) is not RowError and type(minutes) is not RowError \
                and len(title) <= MAX_TITLE:
            return _clean_row((day, service, minutes, title or service))
        errors = [v for v in (day, service, minutes) if type(v) is RowError]
        if len(title) > MAX_TITLE:
            errors.append(RowError("title", title[:40] + "…", f"is {len(title)} characters long; the limit is {MAX_TITLE}"))
        return errors


def _service_verdict(raw: str) -> str | RowError:
    service = normalise_service(raw)
    if not service:
        return RowError("service", raw, "is empty; name the service, e.g. duolingo")
    if len(service) > 64:
        return RowError("service", raw, "is longer than 64 characters")
    if not SLUG_RE.match(service):
        return RowError("service", raw, "is not a short name of letters, digits and hyphens")
    return service


def _date_verdict(value: str, today: date) -> date | RowError:
    value = value.strip()
    if not value:
        return RowError("date", value, "is empty; write the day as YYYY-MM-DD, e.g. 2025-03-14")
    if not DATE_RE.fullmatch(value):
        return RowError("date", value, "is not a date written as YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return RowError("date", value, "is not a real date")
    if day > today:
        return RowError("date", value, f"is in the future (today is {today.isoformat()})")
    return day


def _minutes_verdict(value: str) -> int | RowError:
    value = value.strip()
    if not value:
        return RowError("minutes", value, "is empty; write whole minutes, e.g. 25")
    if not MINUTES_RE.fullmatch(value):
        return RowError("minutes", value, "is not a whole number")
    minutes = int(value)
    if minutes == 0:
        return RowError("minutes", value, "is zero; a session lasts at least 1 minute")
    if minutes < 0:
        return RowError("minutes", value, "is negative; minutes must be 1 or more")
    if minutes > MAX_MINUTES:
        return RowError("minutes", value, f"is more than a day ({MAX_MINUTES} minutes)")
    return minutes
