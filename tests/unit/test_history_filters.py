"""Reading a History filter from query arguments, and the export's formula neutralisation."""

from datetime import date

from werkzeug.datastructures import MultiDict

from activity_hub.services.history import HistoryFilter, parse_filter
from activity_hub.services.rows import neutralise


def test_filter_reads_services_dates_text_page_and_hidden():
    f = parse_filter(MultiDict([("service", "Khan Academy"), ("service", "github"), ("start", "2025-01-01"),
                                ("end", "2025-01-31"), ("q", "  past   tense "), ("page", "3"), ("hidden", "1")]))
    assert f.services == ("github", "khan-academy")
    assert (f.start, f.end) == (date(2025, 1, 1), date(2025, 1, 31))
    assert f.text == "past tense" and f.page == 3 and f.show_hidden
    assert f.narrowed and not f.problems


def test_bad_values_are_ignored_and_explained_never_fatal():
    f = parse_filter(MultiDict([("start", "yesterday"), ("end", "2025-02-30"), ("page", "-4")]))
    assert f.start is None and f.end is None and f.page == 1
    assert len(f.problems) == 2 and "YYYY-MM-DD" in f.problems[0]


def test_reversed_dates_are_swapped_with_a_note():
    f = parse_filter({"start": "2025-03-10", "end": "2025-03-01"})
    assert (f.start, f.end) == (date(2025, 3, 1), date(2025, 3, 10))
    assert "swapped" in f.problems[0]


def test_args_round_trip_and_leave_defaults_out():
    f = HistoryFilter(("duolingo",), date(2025, 1, 1), None, "x", 2, False)
    assert f.args() == {"service": ["duolingo"], "start": "2025-01-01", "q": "x", "page": "2"}
    assert parse_filter(MultiDict([(k, v) for k, vs in f.args().items() for v in (vs if isinstance(vs, list) else [vs])])) == f
    assert HistoryFilter().args() == {}
    assert f.contains(date(2025, 1, 1)) and not f.contains(date(2024, 12, 31))


def test_formula_cells_are_neutralised_and_others_left_alone():
    for risky in ("=SUM(A1:A2)", "+1", "-2+3", "@cmd", "\tx", "\rx", "\0x"):
        assert neutralise(risky) == "'" + risky
    for safe in ("Spanish: past tense", "", "1+1", "a=b", " =x"):
        assert neutralise(safe) == safe


def test_a_defused_formula_cell_reads_back_as_the_original_title():
    from datetime import date

    from activity_hub.services.rows import validate_row

    clean, errors = validate_row({"date": "2025-01-02", "service": "anki", "minutes": "5", "title": "'=SUM(A1)"},
                                 date(2025, 1, 3))
    assert errors == [] and clean.title == "=SUM(A1)" and neutralise(clean.title) == "'=SUM(A1)"
    clean, _ = validate_row({"date": "2025-01-02", "service": "anki", "minutes": "5", "title": "'quoted"}, date(2025, 1, 3))
    assert clean.title == "'quoted"
