"""Tolerant parsing of what providers send: timestamps in several ISO shapes, numbers that may be null."""

import re
from datetime import UTC, date, datetime

_FRACTION = re.compile(r"(\.\d{1,6})\d*")  # Wakapi sends nanoseconds; Python parses at most microseconds


def parse_datetime(value) -> datetime | None:
    """An ISO-8601 / RFC 3339 timestamp as an aware datetime in its own offset (UTC when none); None if unusable."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    text = _FRACTION.sub(r"\1", value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_instant(value) -> datetime | None:
    """An ISO-8601 timestamp converted to UTC; None if unusable."""
    parsed = parse_datetime(value)
    return parsed.astimezone(UTC) if parsed else None


def parse_day(value) -> date | None:
    """A plain `YYYY-MM-DD` date; None for anything else (including full timestamps)."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def number(value, default: float = 0.0) -> float:
    """A JSON number (or numeric string) as float; `default` for null, booleans and junk."""
    if isinstance(value, bool) or value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def text(value, default: str = "") -> str:
    """A JSON string stripped of surrounding space; `default` for null and non-strings."""
    return value.strip() if isinstance(value, str) and value.strip() else default
