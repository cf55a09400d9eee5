"""The activity row rules shared by CSV import, manual entries and the template/export columns.

One definition of the columns (`COLUMNS`) feeds the parser, the downloadable template and the export,
so they cannot drift apart. `validate_row` returns a clean row or a list of errors naming the column,
the value and the reason.
"""

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

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


@dataclass(frozen=True)
class CleanRow:
    date: date
    service: str
    minutes: int
    title: str


def normalise_service(value: str) -> str:
    return SPACES_RE.sub("-", value.strip().lower())


def validate_row(raw: dict, today: date) -> tuple[CleanRow | None, list[RowError]]:
    """Check one row (`date`, `service`, `minutes`, `title` as strings) against the rules.

    The per-field checks are cached: a file repeats the same few dates, services and minute values.
    """
    day = _date_verdict(raw.get("date") or "", today)
    service = _service_verdict(raw.get("service") or "")
    minutes = _minutes_verdict(raw.get("minutes") or "")
    title = " ".join((raw.get("title") or "").split())
    if len(title) > 1 and title[0] == "'" and title[1] in FORMULA_STARTS:
        title = title[1:]  # our own export defused this cell; take it back so a re-import matches
    errors = [v for v in (day, service, minutes) if type(v) is RowError]
    if len(title) > MAX_TITLE:
        errors.append(RowError("title", title[:40] + "…", f"is {len(title)} characters long; the limit is {MAX_TITLE}"))
    if errors:
        return None, errors
    return CleanRow(day, service, minutes, title or service), []


@lru_cache(maxsize=4096)
def _service_verdict(raw: str) -> str | RowError:
    service = normalise_service(raw)
    if not service:
        return RowError("service", raw, "is empty; name the service, e.g. duolingo")
    if len(service) > 64:
        return RowError("service", raw, "is longer than 64 characters")
    if not SLUG_RE.match(service):
        return RowError("service", raw, "is not a short name of letters, digits and hyphens")
    return service


@lru_cache(maxsize=4096)
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


@lru_cache(maxsize=4096)
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
