"""The WakaTime client against a fake WakaTime / Wakapi over real HTTP."""

import base64
from datetime import UTC, date, datetime, timedelta

import pytest

from activity_hub.providers.base import (
    AuthError,
    Credentials,
    InvalidAccount,
    MalformedResponse,
    RateLimited,
    TransientError,
)
from activity_hub.providers.wakatime import WakaTime, api_base
from tests.fakes.scripted import html_page, malformed, rate_limited, slow, status
from tests.fakes.wakatime import WAKAPI_PATH, FakeWakaTime

TODAY = date(2026, 11, 26)
FAST = {"timeout": (1.0, 0.3), "retries": 1, "backoff": 0}


@pytest.fixture
def waka(httpserver):
    return FakeWakaTime(httpserver, today=TODAY)


def provider(fake, key=None, base_url=None, default=None, **options):
    credentials = Credentials(secret=key or fake.api_key, base_url=base_url)
    http = WakaTime.http_client(credentials, default or fake.base_url, **FAST)
    return WakaTime(http, credentials, {"today": TODAY, "timezone": "UTC", **options})


def records_of(pages):
    return [record for page in pages for record in page.records]


def test_backfill_walks_back_one_year_in_month_chunks_one_record_per_active_day(waka):
    active = waka.add_year()
    pages = list(provider(waka).fetch(None))
    records = records_of(pages)

    assert len(records) == active == 292  # zero days are stored as nothing
    assert len({r.external_id for r in records}) == active
    assert all(r.replace and r.service == "wakatime" and r.occurred_at is None for r in records)
    assert max(r.date for r in records) == TODAY
    assert min(r.date for r in records) == TODAY - timedelta(days=363)  # day 364 is a zero day
    # chunks are at most 31 days, newest first, cover the year exactly once
    spans = [(date.fromisoformat(s), date.fromisoformat(e)) for s, e in waka.requests]
    assert spans[0][1] == TODAY and spans[-1][0] == TODAY - timedelta(days=364)
    assert all((e - s).days < 31 for s, e in spans)
    assert all(spans[i + 1][1] == spans[i][0] - timedelta(days=1) for i in range(len(spans) - 1))
    assert len(pages) == len(spans) == 12
    assert [p.done for p in pages][-1] == 365 and {p.total for p in pages} == {365} and pages[0].unit == "days"
    assert [p.cursor for p in pages[:-1]] == [None] * 11
    assert pages[-1].cursor == {"through": "2026-11-26", "from": "2025-11-27"}


def test_day_record_has_minutes_title_and_breakdown(waka):
    waka.add_day(TODAY - timedelta(days=1),
                 {"habit-ledger": 5400.4, "api": 1800.2, "Unknown Project": 600.0, "dotfiles": 59.9},
                 {"Python": 4000.0, "Go": 3000.0, "Other": 800.0, "YAML": 60.5})
    [record] = records_of(provider(waka, backfill_days=7).fetch(None))

    assert record.external_id == "wakatime:2026-11-25" and record.date == TODAY - timedelta(days=1)
    assert record.minutes == round(7860.5 / 60) == 131
    assert record.title == "habit-ledger, api, Unknown Project · Python, Go, Other"
    assert record.details["total_seconds"] == round(7860.5) == 7860
    assert [p["name"] for p in record.details["projects"]] == ["habit-ledger", "api", "Unknown Project", "dotfiles"]
    assert record.details["languages"][0] == {"name": "Python", "seconds": 4000}
    assert record.details["editors"] == [{"name": "VS Code", "seconds": 7860}]
    assert "machines" not in record.details  # machine names can carry IPs; not needed


def test_incremental_sync_rereads_a_trailing_window_and_sees_changed_days(waka):
    waka.add_day(TODAY - timedelta(days=2), {"habit-ledger": 3600})
    waka.add_day(TODAY, {"habit-ledger": 600})
    client = provider(waka)
    cursor = list(client.fetch(None))[-1].cursor
    waka.requests.clear()

    waka.add_day(TODAY, {"habit-ledger": 2400})  # today grew
    waka.add_day(TODAY - timedelta(days=2), {"habit-ledger": 3600, "api": 1200})  # offline heartbeats arrived
    pages = list(client.fetch(cursor))

    assert waka.requests == [("2026-11-23", "2026-11-26")]  # three days back from the last sync, one request
    minutes = {r.date: r.minutes for r in records_of(pages)}
    assert minutes == {TODAY: 40, TODAY - timedelta(days=2): 80}
    assert pages[-1].cursor == {"through": "2026-11-26", "from": "2025-11-27"}


def test_incremental_sync_after_a_long_gap_is_chunked(waka):
    pages = list(provider(waka).fetch({"through": "2026-09-01", "from": "2025-09-02"}))
    assert waka.requests[-1][0] == "2026-08-29" and waka.requests[0][1] == "2026-11-26"
    assert len(waka.requests) == 3 and pages[-1].done == pages[-1].total == 90


def test_a_longer_backfill_setting_reads_only_the_older_days_still_missing(waka):
    waka.add_day(TODAY - timedelta(days=60), {"habit-ledger": 600})
    cursor = {"through": "2026-11-26", "from": "2026-10-28"}  # an earlier backfill of 30 days
    pages = list(provider(waka, backfill_days=90).fetch(cursor))
    assert waka.requests == [("2026-11-23", "2026-11-26"), ("2026-09-27", "2026-10-27"), ("2026-08-29", "2026-09-26")]
    assert [r.date for r in records_of(pages)] == [TODAY - timedelta(days=60)]
    assert pages[-1].cursor == {"through": "2026-11-26", "from": "2026-08-29"}
    assert pages[-1].done == pages[-1].total == 4 + 60

    waka.requests.clear()  # the plan stopped an earlier backfill: never ask again
    list(provider(waka, backfill_days=90).fetch(dict(cursor, plan_limited_from="2026-10-28")))
    assert waka.requests == [("2026-11-23", "2026-11-26")]


def test_days_are_local_days_in_the_users_time_zone(waka):
    waka.add_day(date(2026, 11, 20), {"habit-ledger": 1200})
    [record] = records_of(provider(waka, timezone="Pacific/Auckland", backfill_days=10).fetch(None))
    assert record.date == date(2026, 11, 20)


@pytest.mark.parametrize("total_key", ["cumulative_total", "cummulative_total", None])
def test_both_total_spellings_and_none(httpserver, total_key):
    fake = FakeWakaTime(httpserver, today=TODAY, total_key=total_key)
    fake.add_day(TODAY, {"habit-ledger": 1500})
    records = records_of(provider(fake, backfill_days=3).fetch(None))
    assert [(r.date, r.minutes) for r in records] == [(TODAY, 25)]


def test_402_ends_backfill_at_the_oldest_day_the_plan_allows(httpserver):
    fake = FakeWakaTime(httpserver, today=TODAY, plan_days=14)
    fake.add_year()
    pages = list(provider(fake).fetch(None))
    records = records_of(pages)

    assert {r.date for r in records} == {TODAY - timedelta(days=i) for i in range(14) if i % 5 != 4}
    assert len(pages) == 1 and pages[0].done == pages[0].total == 365
    assert pages[0].message == ("WakaTime's plan allows history back to 2026-11-13 (14 days); "
                                "older days were not imported.")
    assert pages[0].cursor["from"] == "2026-11-13" and pages[0].cursor["through"] == "2026-11-26"
    assert len(fake.requests) <= 7  # halving inside one chunk, never the older chunks


def test_402_on_every_range_imports_nothing_and_says_so(httpserver):
    fake = FakeWakaTime(httpserver, today=TODAY)
    fake.script.push(*[status(402, {"error": "Upgrade"})] * 8)
    [page] = list(provider(fake, backfill_days=30).fetch(None))
    assert page.records == [] and "no history" in page.message


def test_validate_makes_one_request_for_today(waka):
    waka.add_day(TODAY, {"habit-ledger": 1800})
    account = provider(waka).validate()
    assert waka.requests == [("2026-11-26", "2026-11-26")]
    assert account.name == account.id == waka.base_url.split("/")[2]
    assert account.details == {"today_minutes": 30}


def test_key_is_sent_as_basic_base64_of_the_key_alone(waka):
    session = WakaTime.http_client(Credentials(secret=" waka_abc "), waka.base_url).session
    assert session.headers["Authorization"] == "Basic " + base64.b64encode(b"waka_abc").decode()


def test_bad_key_is_rejected_in_words_and_the_key_never_appears(waka):
    client = provider(waka, key="waka_wrong-key-123")
    with pytest.raises(InvalidAccount, match="^WakaTime rejected this API key$"):
        client.validate()
    with pytest.raises(AuthError) as caught:
        list(client.fetch(None))
    assert "Reconnect" in str(caught.value) and "waka_wrong" not in str(caught.value)


def test_rate_limit_with_retry_after_reschedules(waka):
    waka.script.push(rate_limited(retry_after="120"))
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        list(provider(waka).fetch(None))
    assert before + timedelta(seconds=119) <= caught.value.retry_at <= datetime.now(UTC) + timedelta(seconds=121)


def test_rate_limit_without_retry_after_waits_a_default(waka):
    waka.script.push(rate_limited(body='{"error": "Too Many Requests"}'))
    with pytest.raises(RateLimited, match="WakaTime's rate limit") as caught:
        list(provider(waka).fetch(None))
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(seconds=30)


def test_redirect_instead_of_429_counts_as_a_rate_limit(waka):
    waka.script.push(status(302, "", {"Location": "https://wakatime.com/slow"}))
    with pytest.raises(RateLimited):
        list(provider(waka).fetch(None))


def test_server_error_is_retried_then_succeeds(waka):
    waka.add_day(TODAY, {"habit-ledger": 900})
    waka.script.push(status(502, "Bad gateway"))
    assert [r.minutes for r in records_of(provider(waka, backfill_days=2).fetch(None))] == [15]


def test_server_error_that_persists_is_transient(waka):
    waka.script.push(*[status(500, {"error": "boom"})] * 3)
    with pytest.raises(TransientError, match="will try again later"):
        list(provider(waka).fetch(None))


def test_read_timeout_says_timed_out(waka):
    waka.script.push(slow(0.5), slow(0.5))
    try:
        with pytest.raises(TransientError, match=r"^Could not reach (localhost|127\.0\.0\.1):\d+: timed out$"):
            provider(waka).validate()
    finally:
        waka.script.release()


def test_unreachable_server_says_so():
    credentials = Credentials(secret="waka_x", base_url="http://127.0.0.1:9/api/v1")
    client = WakaTime(WakaTime.http_client(credentials, "unused", **FAST), credentials, {"today": TODAY})
    with pytest.raises(TransientError, match=r"^Could not reach 127\.0\.0\.1:9: "):
        client.validate()


@pytest.mark.parametrize("answer", [malformed(), html_page(), status(200, {"data": "nope"})])
def test_malformed_answers_raise_malformed_response(waka, answer):
    waka.script.push(answer)
    with pytest.raises(MalformedResponse, match="WakaTime sent"):
        list(provider(waka).fetch(None))


# -- Wakapi / Hackatime: a WakaTime-compatible server at its own URL ----------------------------------

@pytest.fixture
def wakapi(httpserver):
    return FakeWakaTime(httpserver, variant="wakapi", today=TODAY)


def test_wakapi_root_url_gets_the_compat_api_path(wakapi):
    assert api_base(wakapi.root_url) == wakapi.root_url + WAKAPI_PATH
    assert api_base("wakapi.example.org/") == "https://wakapi.example.org" + WAKAPI_PATH
    assert api_base("https://wakatime.com") == "https://wakatime.com/api/v1"
    assert api_base("https://hackatime.example.org/api/hackatime/v1/") == "https://hackatime.example.org/api/hackatime/v1"
    with pytest.raises(InvalidAccount, match="web address"):
        api_base("ftp://example.org")


def test_wakapi_days_come_from_range_start_not_range_date(wakapi):
    wakapi.add_day(TODAY - timedelta(days=3), {"habit-ledger": 2000}, {"Go": 2000})
    wakapi.add_day(TODAY, {"activity-hub": 700})
    client = provider(wakapi, base_url=wakapi.root_url, default="https://wakatime.invalid/api/v1",
                      timezone="Europe/Berlin", backfill_days=10)
    account = client.validate()
    records = records_of(client.fetch(None))

    assert account.name == wakapi.root_url.split("/")[2]
    assert sorted((r.date, r.minutes, r.title) for r in records) == [
        (TODAY - timedelta(days=3), 33, "habit-ledger · Go"), (TODAY, 12, "activity-hub · Python")]


def test_wakapi_day_dates_in_utc_fall_back_to_position(wakapi):
    wakapi.add_day(TODAY - timedelta(days=1), {"habit-ledger": 2000})
    records = records_of(provider(wakapi, base_url=wakapi.base_url, backfill_days=5).fetch(None))
    assert [r.date for r in records] == [TODAY - timedelta(days=1)]


def test_wakapi_bad_key_plain_text_401_names_the_server(wakapi):
    client = provider(wakapi, key="nope", base_url=wakapi.base_url)
    with pytest.raises(InvalidAccount, match=r"^(localhost|127\.0\.0\.1):\d+ rejected this API key$"):
        client.validate()


def test_wrong_server_path_is_explained(wakapi):
    wakapi.answer_404_elsewhere()
    client = provider(wakapi, base_url=wakapi.root_url + "/api/v1")
    with pytest.raises(InvalidAccount, match="has no WakaTime-compatible API at /api/v1"):
        client.validate()
