"""The activity row rules shared by CSV import, manual entries and the template/export columns.

One definition of the columns (`COLUMNS`) feeds the parser, the downloadable template and the export,
so they cannot drift apart. `validate_row` returns a clean row or a list of errors naming the column,
the value and the reason.
"""

import re
from dataclasses import dataclass
from datetime import date

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
    """Check one row (`date`, `service`, `minutes`, `title` as strings) against the rules."""
    errors: list[RowError] = []
    day = _parse_date(raw.get("date") or "", today, errors)
    service = normalise_service(raw.get("service") or "")
    if not service:
        errors.append(RowError("service", raw.get("service") or "", "is empty; name the service, e.g. duolingo"))
    elif len(service) > 64:
        errors.append(RowError("service", raw.get("service") or "", "is longer than 64 characters"))
    elif not SLUG_RE.match(service):
        errors.append(RowError("service", raw.get("service") or "", "is not a short name of letters, digits and hyphens"))
    minutes = _parse_minutes(raw.get("minutes") or "", errors)
    title = " ".join((raw.get("title") or "").split())
    if len(title) > MAX_TITLE:
        errors.append(RowError("title", title[:40] + "…", f"is {len(title)} characters long; the limit is {MAX_TITLE}"))
    if errors:
        return None, errors
    return CleanRow(day, service, minutes, title or service), []


def _parse_date(value: str, today: date, errors: list[RowError]) -> date | None:
    value = value.strip()
    if not value:
        errors.append(RowError("date", value, "is empty; write the day as YYYY-MM-DD, e.g. 2025-03-14"))
        return None
    if not DATE_RE.fullmatch(value):
        errors.append(RowError("date", value, "is not a date written as YYYY-MM-DD"))
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors.append(RowError("date", value, "is not a real date"))
        return None
    if day > today:
        errors.append(RowError("date", value, f"is in the future (today is {today.isoformat()})"))
        return None
    return day


def _parse_minutes(value: str, errors: list[RowError]) -> int | None:
    value = value.strip()
    if not value:
        errors.append(RowError("minutes", value, "is empty; write whole minutes, e.g. 25"))
        return None
    if not MINUTES_RE.fullmatch(value):
        errors.append(RowError("minutes", value, "is not a whole number"))
        return None
    minutes = int(value)
    if minutes == 0:
        errors.append(RowError("minutes", value, "is zero; a session lasts at least 1 minute"))
    elif minutes < 0:
        errors.append(RowError("minutes", value, "is negative; minutes must be 1 or more"))
    elif minutes > MAX_MINUTES:
        errors.append(RowError("minutes", value, f"is more than a day ({MAX_MINUTES} minutes)"))
    else:
        return minutes
    return None
