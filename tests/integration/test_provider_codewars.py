"""The Codewars client against a fake Codewars API over real HTTP."""

from datetime import UTC, datetime, timedelta

import pytest

from activity_hub.providers.base import (
    AuthError,
    Credentials,
    InvalidAccount,
    MalformedResponse,
    RateLimited,
    TransientError,
)
from activity_hub.providers.codewars import Codewars
from tests.fakes.codewars import FakeCodewars
from tests.fakes.scripted import html_page, json_response, malformed, rate_limited, slow, status

FAST = {"timeout": (1.0, 0.3), "retries": 1, "backoff": 0}
NOW = datetime(2026, 11, 26, 9, 30, 12, 312000, tzinfo=UTC)


@pytest.fixture
def codewars(httpserver):
    return FakeCodewars(httpserver)


def provider(fake, username="mira_okafor", **options):
    credentials = Credentials(account=username)
    return Codewars(Codewars.http_client(credentials, fake.base_url, **FAST), credentials, options)


def records_of(pages):
    return [record for page in pages for record in page.records]


def test_validate_returns_the_canonical_username_despite_null_profile_fields(codewars):
    codewars.add_user("Mira_Okafor", katas=3)
    account = provider(codewars, "mira_okafor").validate()
    assert (account.id, account.name) == ("Mira_Okafor", "Mira_Okafor")
    assert account.details["completed"] == 3


def test_unknown_user_is_named_in_the_message(codewars):
    with pytest.raises(InvalidAccount, match=r"^No Codewars user named 'ghost'$"):
        provider(codewars, "ghost").validate()


def test_user_gone_during_sync_asks_to_reconnect(codewars):
    codewars.add_user("mira_okafor", katas=3)
    client = provider(codewars)
    client.validate()
    del codewars.users["mira_okafor"]  # renamed on Codewars
    with pytest.raises(AuthError, match="Codewars has no user named 'mira_okafor' any more. Reconnect"):
        list(client.fetch(None))


def test_empty_username_asks_for_one(codewars):
    with pytest.raises(InvalidAccount, match="Enter your Codewars username"):
        provider(codewars, "  ").validate()


def test_backfill_reads_every_page_one_record_per_kata(codewars):
    katas = codewars.add_user(katas=450)
    pages = list(provider(codewars).fetch(None))
    records = records_of(pages)

    assert codewars.pages_requested == [0, 1, 2]
    assert len(records) == 450 and len({r.external_id for r in records}) == 450
    assert [(p.done, p.total) for p in pages] == [(1, 3), (2, 3), (3, 3)]
    first = records[0]
    assert first.external_id == f"codewars:{katas[0]['id']}:2026-11-26T09:30:12.312Z"
    assert first.occurred_at == NOW and first.date is None  # the engine derives the user's local day
    assert first.minutes == 20 and first.title == "Kata number 0 (python)" and not first.replace
    assert first.details["url"] == "https://www.codewars.com/kata/kata-number-0"
    assert pages[-1].cursor == {"completed_at": NOW.isoformat(), "kata_id": katas[0]["id"]}
    assert [p.cursor for p in pages[:-1]] == [None, None]


def test_incremental_sync_stops_at_the_first_kata_already_seen(codewars):
    codewars.add_user(katas=450)
    client = provider(codewars, minutes_per_kata=15)
    cursor = list(client.fetch(None))[-1].cursor
    codewars.pages_requested.clear()
    new = [codewars.kata(1000 + i, NOW + timedelta(hours=i + 1)) for i in range(3)]
    for item in new:
        codewars.complete("mira_okafor", item)

    pages = list(client.fetch(cursor))

    assert codewars.pages_requested == [0]
    assert [r.details["kata_id"] for r in records_of(pages)] == [k["id"] for k in reversed(new)]
    assert all(r.minutes == 15 for r in records_of(pages))
    assert pages[-1].done == pages[-1].total == 1
    assert pages[-1].cursor["kata_id"] == new[-1]["id"]


def test_incremental_sync_with_nothing_new_keeps_the_cursor(codewars):
    codewars.add_user(katas=5)
    client = provider(codewars)
    cursor = list(client.fetch(None))[-1].cursor
    pages = list(client.fetch(cursor))
    assert records_of(pages) == [] and pages[-1].cursor == cursor


@pytest.mark.parametrize("total_pages", [0, 1])
def test_account_without_katas_is_one_empty_page(httpserver, total_pages):
    fake = FakeCodewars(httpserver, empty_total_pages=total_pages)
    fake.add_user(katas=0)
    pages = list(provider(fake).fetch(None))
    assert len(pages) == 1 and pages[0].records == [] and pages[0].cursor == {}
    assert fake.pages_requested == [0]


def test_a_page_beyond_the_last_ends_the_fetch(codewars):
    katas = codewars.add_user(katas=200)
    stale = {"totalPages": 4, "totalItems": 700}  # a total promising more than there is
    codewars.script.push(lambda request: json_response(dict(stale, data=katas)),
                         lambda request: json_response(dict(stale, data=[])))
    pages = list(provider(codewars).fetch(None))
    assert len(records_of(pages)) == 200 and len(pages) == 2
    assert pages[-1].cursor["kata_id"] == katas[0]["id"] and pages[-1].done == pages[-1].total == 2


def test_katas_shifting_between_pages_are_not_doubled(codewars):
    codewars.add_user(katas=400)

    def new_kata_after_first_page(request):
        if request.args.get("page") == "1":
            codewars.complete("mira_okafor", codewars.kata(999, NOW + timedelta(minutes=5)))
        return None

    codewars.script.push(lambda request: None, new_kata_after_first_page)
    records = records_of(provider(codewars).fetch(None))
    assert len(records) == 400 == len({r.external_id for r in records})


def test_odd_items_missing_slug_repeated_languages_null_fields(codewars):
    codewars.add_user(katas=0)
    items = [
        codewars.kata(1, NOW, slug=None, name="Count the Smiley Faces! ", completedLanguages=["go", "go", "python"]),
        codewars.kata(2, NOW - timedelta(hours=1), name=None, completedLanguages=None, extra={"new": True}),
        codewars.kata(3, NOW - timedelta(hours=2), completedAt=None),
        codewars.kata(4, NOW - timedelta(hours=3), name="<b>`Quotes` & \"tags\"</b>"),
    ]
    del items[0]["slug"]
    codewars.users["mira_okafor"]["katas"] = items
    records = records_of(provider(codewars).fetch(None))

    assert [r.title for r in records] == ["Count the Smiley Faces! (go, python)", "Untitled kata",
                                          '<b>`Quotes` & "tags"</b> (python)']
    assert records[0].details["slug"] is None and records[0].details["url"].endswith(items[0]["id"])
    assert records[0].details["languages"] == ["go", "python"]


def test_rate_limit_without_retry_after_reschedules_a_minute_later(codewars):
    codewars.add_user(katas=3)
    codewars.script.push(rate_limited())
    with pytest.raises(RateLimited) as caught:
        list(provider(codewars).fetch(None))
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(seconds=50)


def test_rate_limit_with_retry_after(codewars):
    codewars.add_user(katas=3)
    codewars.script.push(rate_limited(retry_after="30", body="IP based rate limit, please try again in 30 seconds"))
    with pytest.raises(RateLimited) as caught:
        provider(codewars).validate()
    assert caught.value.retry_at < datetime.now(UTC) + timedelta(seconds=31)


def test_server_error_then_success(codewars):
    codewars.add_user(katas=3)
    codewars.script.push(status(503, html_page(503)(None).get_data(as_text=True), content_type="text/html"))
    assert len(records_of(provider(codewars).fetch(None))) == 3


def test_cdn_challenge_page_is_transient(codewars):
    codewars.add_user(katas=3)
    codewars.script.push(html_page(403))
    with pytest.raises(TransientError, match="Codewars is turning automated requests away"):
        list(provider(codewars).fetch(None))


def test_read_timeout_is_transient(codewars):
    codewars.script.push(slow(0.5), slow(0.5))
    try:
        with pytest.raises(TransientError, match="Could not reach"):
            provider(codewars).validate()
    finally:
        codewars.script.release()


@pytest.mark.parametrize("answer", [malformed(), html_page(200), status(200, {"data": "nope"})])
def test_malformed_page(codewars, answer):
    codewars.add_user(katas=3)
    codewars.script.push(answer)
    with pytest.raises(MalformedResponse, match="Codewars sent"):
        list(provider(codewars).fetch(None))
