"""Tolerant parsing of provider values: the timestamp shapes WakaTime, Wakapi, Codewars and Exercism send."""

from datetime import UTC, date, datetime, timedelta

import pytest

from activity_hub.providers.parsing import number, parse_datetime, parse_day, parse_instant, text
from activity_hub.providers.wakatime import breakdown, day_title, entry_day


@pytest.mark.parametrize("value, expected", [
    ("2025-10-11T23:58:41.312Z", datetime(2025, 10, 11, 23, 58, 41, 312000, UTC)),  # Codewars, milliseconds
    ("2025-10-09T21:47:12Z", datetime(2025, 10, 9, 21, 47, 12, tzinfo=UTC)),  # Exercism
    ("2025-10-27T23:59:58.999999999+01:00", datetime(2025, 10, 27, 22, 59, 58, 999999, UTC)),  # Wakapi, ns
    ("2025-10-11T23:58:41", datetime(2025, 10, 11, 23, 58, 41, tzinfo=UTC)),  # no offset: UTC
])
def test_parse_instant_shapes(value, expected):
    assert parse_instant(value) == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", 1700000000, "2025-13-40T00:00:00Z"])
def test_parse_instant_rejects_junk(value):
    assert parse_instant(value) is None


def test_parse_datetime_keeps_the_local_offset():
    parsed = parse_datetime("2025-10-27T00:00:00+01:00")
    assert parsed.date() == date(2025, 10, 27) and parsed.utcoffset() == timedelta(hours=1)


def test_parse_day_only_takes_plain_dates():
    assert parse_day("2025-10-22") == date(2025, 10, 22)
    assert parse_day("2025-10-22T09:00:00+02:00") is None and parse_day(None) is None


def test_number_and_text_defaults():
    assert number("12.5") == 12.5 and number(None) == 0.0 and number(True) == 0.0 and number("x", 3) == 3
    assert text("  Isogram ") == "Isogram" and text(None, "fallback") == "fallback" and text(7) == ""


def test_entry_day_prefers_range_date_then_local_start_then_position():
    position = date(2026, 1, 5)
    assert entry_day({"range": {"date": "2026-01-04"}}, position) == date(2026, 1, 4)
    wakapi = {"range": {"date": "2026-01-07T10:00:00+01:00", "start": "2026-01-04T00:00:00+01:00"}}
    assert entry_day(wakapi, position) == date(2026, 1, 4)
    utc_start = {"range": {"start": "2026-01-03T23:00:00Z"}}  # a UTC instant is not a local day
    assert entry_day(utc_start, position) == position
    assert entry_day({"range": None}, position) == position


def test_breakdown_sorts_drops_junk_and_title_is_bounded():
    rows = breakdown([{"name": "b", "total_seconds": 10}, {"name": "", "total_seconds": 99}, "junk",
                      {"name": "a", "total_seconds": 20.4}, {"name": "zero", "total_seconds": 0.2}])
    assert rows == [{"name": "a", "seconds": 20}, {"name": "b", "seconds": 10}]
    assert day_title({"projects": [], "languages": []}) == "Coding"
    long = day_title({"projects": [{"name": "p" * 200}] * 3, "languages": [{"name": "Go"}]})
    assert len(long) == 255 and long.endswith("…")


def test_offsets_other_than_utc_convert():
    assert parse_instant("2026-03-29T01:30:00-05:00") == datetime(2026, 3, 29, 6, 30, tzinfo=UTC)
