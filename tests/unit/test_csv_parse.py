"""The CSV parser and the row rules, without a database: every rule of the import issue."""

import io
from datetime import date
from hashlib import blake2b

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activity_hub.services.csv_parse import (
    CsvFileError,
    OccurrenceCounter,
    iter_rows,
    sniff_delimiter,
)
from activity_hub.services.rows import CleanRow, normalise_service, validate_row

TODAY = date(2025, 6, 15)


def parse(content: bytes | str, max_rows=None, layouts=None):
    data = content.encode() if isinstance(content, str) else content
    return list(iter_rows(lambda: io.BytesIO(data), TODAY, max_rows, layouts))


def reasons(raw: dict) -> dict:
    _, errors = validate_row(raw, TODAY)
    return {e.column: e.reason for e in errors}


def row(date_="2025-06-01", service="duolingo", minutes="25", title="Spanish"):
    return {"date": date_, "service": service, "minutes": minutes, "title": title}


# --- encodings, line ends, quoting, delimiters ---------------------------------------------------

@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_utf8_with_or_without_bom_and_any_line_end(prefix, newline):
    content = prefix + newline.join([b"date,service,minutes,title", "2025-06-01,duolingo,25,Espa\u00f1ol".encode(),
                                     b"2025-06-02,anki,10,Cards", b""])
    rows = parse(content)
    assert [(r.line, r.clean.title) for r in rows] == [(2, "Español"), (3, "Cards")]


def test_quoted_fields_with_commas_quotes_and_newlines_keep_their_line_numbers():
    content = ('date,service,minutes,title\n2025-06-01,duolingo,25,"Verbs, nouns and ""quotes"""\n'
               '2025-06-02,anki,10,"two\nlines"\n2025-06-03,anki,0,bad\n')
    rows = parse(content)
    assert rows[0].clean.title == 'Verbs, nouns and "quotes"'
    assert rows[1].clean.title == "two lines"
    assert [r.line for r in rows] == [2, 3, 5]  # the quoted newline makes row 2 span lines 3-4


def test_semicolon_separated_files_are_read_and_noted():
    layouts = []
    rows = parse("Date;Service;Minutes;Title\n2025-06-01;duolingo;25;Uno, dos\n", layouts=layouts)
    assert rows[0].clean.title == "Uno, dos"
    assert "Read as a semicolon-separated file." in layouts[0].warnings()


def test_delimiter_sniffing_looks_at_the_header_only():
    assert sniff_delimiter(b"date,service,minutes,title\n2025;1;2;3;4;5\n") == ","
    assert sniff_delimiter(b"date;service;minutes;title\n") == ";"
    assert sniff_delimiter(b"date\tservice\tminutes\n") == "\t"


def test_blank_lines_are_skipped():
    rows = parse("\n\ndate,service,minutes\n\n2025-06-01,duolingo,5\n,,\n")
    assert [r.line for r in rows] == [5]


# --- header ------------------------------------------------------------------------------------

def test_header_is_case_insensitive_trimmed_in_any_order_and_extra_columns_are_named():
    layouts = []
    rows = parse(" TITLE ,Minutes,notes, Date,SERVICE,mood\nLesson,25,x,2025-06-01,Duolingo,happy\n", layouts=layouts)
    assert rows[0].clean == CleanRow(date(2025, 6, 1), "duolingo", 25, "Lesson")
    assert layouts[0].warnings() == ['Ignored extra columns: "notes", "mood".']


def test_title_column_is_optional():
    assert parse("date,service,minutes\n2025-06-01,anki,5\n")[0].clean.title == "anki"


@pytest.mark.parametrize("header, missing", [
    ("date,service,title", '"minutes" column'),
    ("service,title", '"date" and "minutes" columns'),
    ("2025-06-01,duolingo,25,x", '"date" and "service" and "minutes" columns'),
])
def test_a_missing_required_column_rejects_the_file_naming_it(header, missing):
    with pytest.raises(CsvFileError) as err:
        parse(header + "\n2025-06-01,duolingo,25\n")
    assert f"The header has no {missing}" in str(err.value)


def test_a_repeated_column_uses_the_first_and_warns():
    layouts = []
    rows = parse("date,service,minutes,minutes\n2025-06-01,anki,5,7\n", layouts=layouts)
    assert rows[0].clean.minutes == 5
    assert 'The column "minutes" appears more than once; the first one is used.' in layouts[0].warnings()


# --- whole-file problems -----------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty"),
    (b"\xef\xbb\xbf \r\n", "The file is empty"),
    (b"date,service,minutes,title\r\n\r\n", "has a header but no rows"),
    (b"PK\x03\x04\x14\x00\x00\x00", "not a text file"),
    ("date,service,minutes\n".encode("utf-16-le").join([b"\xff\xfe", b""]), "UTF-16"),
    ("date,service,minutes\n2025-06-01,caf\u00e9,5\n".encode("cp1252"), "not UTF-8 text (line 2"),
])
def test_unreadable_files_raise_a_clear_message(content, message):
    with pytest.raises(CsvFileError) as err:
        parse(content)
    assert message in str(err.value)


def test_invalid_utf8_beyond_the_first_block_names_its_line():
    content = b"date,service,minutes\n" + b"2025-06-01,anki,5\n" * 5000 + b"2025-06-01,caf\xe9,5\n"
    with pytest.raises(CsvFileError) as err:
        parse(content)
    assert "(line 5002 has bytes" in str(err.value)  # the exact line, not a stack trace


def test_the_row_cap_rejects_longer_files():
    content = "date,service,minutes\n" + "2025-06-01,anki,5\n" * 4
    assert len(parse(content, max_rows=4)) == 4
    with pytest.raises(CsvFileError, match="more than 3 rows"):
        parse(content, max_rows=3)


# --- row rules, each with its own message ------------------------------------------------------

@pytest.mark.parametrize("raw, column, reason", [
    (row(date_="06/01/2025"), "date", "is not a date written as YYYY-MM-DD"),
    (row(date_="2025-6-1"), "date", "is not a date written as YYYY-MM-DD"),
    (row(date_="2025-02-30"), "date", "is not a real date"),
    (row(date_="2025-06-16"), "date", "is in the future (today is 2025-06-15)"),
    (row(date_=""), "date", "is empty; write the day as YYYY-MM-DD, e.g. 2025-03-14"),
    (row(minutes="25.5"), "minutes", "is not a whole number"),
    (row(minutes="twenty"), "minutes", "is not a whole number"),
    (row(minutes="0"), "minutes", "is zero; a session lasts at least 1 minute"),
    (row(minutes="-5"), "minutes", "is negative; minutes must be 1 or more"),
    (row(minutes="1441"), "minutes", "is more than a day (1440 minutes)"),
    (row(minutes=""), "minutes", "is empty; write whole minutes, e.g. 25"),
    (row(service=""), "service", "is empty; name the service, e.g. duolingo"),
    (row(service="duo!ingo"), "service", "is not a short name of letters, digits and hyphens"),
    (row(service="a" * 65), "service", "is longer than 64 characters"),
    (row(title="x" * 201), "title", "is 201 characters long; the limit is 200"),
])
def test_each_row_rule_has_its_own_message(raw, column, reason):
    assert reasons(raw) == {column: reason}


def test_edges_that_are_valid():
    assert reasons(row(date_="2025-06-15", minutes="1440", title="x" * 200)) == {}
    assert reasons(row(minutes=" 1 ", service="  Khan   Academy ")) == {}
    clean, _ = validate_row(row(service="Khan Academy", title="  "), TODAY)
    assert (clean.service, clean.title) == ("khan-academy", "khan-academy")


def test_a_row_can_have_several_errors_and_valid_rows_still_come_through():
    rows = parse("date,service,minutes\n2025-13-01,,0\n2025-06-01,anki,5\n")
    assert {e.column for e in rows[0].errors} == {"date", "service", "minutes"} and rows[0].clean is None
    assert rows[1].clean is not None and rows[1].key


def test_missing_trailing_fields_are_empty_values():
    rows = parse("date,service,minutes,title\n2025-06-01,anki\n")
    assert [e.column for e in rows[0].errors] == ["minutes"]


# --- natural keys ------------------------------------------------------------------------------

def test_identical_rows_get_occurrence_numbers_and_normalised_rows_share_identity():
    rows = parse("date,service,minutes,title\n2025-06-01,Duolingo,20,Lesson\n2025-06-01,duolingo,20,lesson \n"
                 "2025-06-01,duolingo,21,Lesson\n")
    assert rows[0].key.endswith("-1") and rows[1].key.endswith("-2")
    assert rows[0].key[:-2] == rows[1].key[:-2]
    assert rows[2].key.endswith("-1") and rows[2].key[:-2] != rows[0].key[:-2]


def test_keys_do_not_depend_on_column_order_or_delimiter():
    a = parse("date,service,minutes,title\n2025-06-01,anki,5,Deck\n")
    b = parse("title;minutes;service;date;extra\nDeck;5;Anki;2025-06-01;x\n")
    digest = blake2b(b"2025-06-01\x1fanki\x1f5\x1fdeck", digest_size=16).hexdigest()
    assert a[0].key == b[0].key == f"2025-06-01:{digest}-1"


def test_keys_start_with_the_day_so_a_date_ordered_file_inserts_in_key_order():
    rows = parse("date,service,minutes\n2025-06-01,anki,5\n2025-06-02,anki,5\n2025-06-02,anki,5\n")
    assert [r.key.split(":")[0] for r in rows] == ["2025-06-01", "2025-06-02", "2025-06-02"]
    assert rows[0].key < rows[1].key and rows[1].key.endswith("-1") and rows[2].key.endswith("-2")


slug_text = st.text(alphabet=st.sampled_from("abcXYZ019 -_\t"), max_size=30)


@given(slug_text)
def test_normalising_a_service_twice_changes_nothing(value):
    once = normalise_service(value)
    assert normalise_service(once) == once
    assert once == once.lower() and not any(ch.isspace() for ch in once)


@given(st.dates(max_value=TODAY), st.sampled_from(["duolingo", "Khan Academy", "anki"]),
       st.integers(1, 1440), st.text(max_size=60).filter(lambda t: "\x00" not in t))
def test_keys_are_stable_under_spacing_and_case(day, service, minutes, title):
    first, _ = validate_row({"date": day.isoformat(), "service": service, "minutes": str(minutes), "title": title},
                            TODAY)
    second, _ = validate_row({"date": f" {day.isoformat()} ", "service": f" {service.upper()} ",
                              "minutes": f" {minutes}", "title": f"  {title}  "}, TODAY)
    assert first == second
    assert OccurrenceCounter().key_for(day.isoformat(), *first[1:]) == \
        OccurrenceCounter().key_for(second.date.isoformat(), *second[1:])


def test_rows_can_be_read_without_keys():
    rows = list(iter_rows(lambda: io.BytesIO(b"date,service,minutes\n2025-06-01,anki,5\n"), TODAY, keyed=False))
    assert rows[0].clean is not None and rows[0].key is None


def test_verdict_caches_stop_growing_at_their_limit_and_still_check_every_value():
    from activity_hub.services.rows import RowChecker

    checker = RowChecker(TODAY, cache_limit=2)
    days = ["2025-06-01", "2025-06-02", "2025-02-30", "2025-06-04", "2025-06-16"]
    results = [checker.check(day, "anki", "5", "") for day in days]
    assert len(checker.dates) == 2
    assert [type(r) is CleanRow for r in results] == [True, True, False, True, False]
    assert results[2][0].reason == "is not a real date" and results[4][0].column == "date"
