"""The Exercism client against a fake Exercism API over real HTTP."""

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
from activity_hub.providers.exercism import Exercism
from tests.fakes.exercism import TRACKS, FakeExercism
from tests.fakes.scripted import html_page, json_response, malformed, rate_limited, slow, status

FAST = {"timeout": (1.0, 0.3), "retries": 1, "backoff": 0}
AT = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


@pytest.fixture
def exercism(httpserver):
    return FakeExercism(httpserver)


def provider(fake, token=None, **options):
    credentials = Credentials(secret=fake.token if token is None else token)
    return Exercism(Exercism.http_client(credentials, fake.base_url, **FAST), credentials, options)


def records_of(pages):
    return [record for page in pages for record in page.records]


def add_mixed(fake, count):
    """`count` solutions cycling through the four statuses and three tracks, one per hour."""
    statuses = ("started", "iterated", "completed", "published")
    return [fake.add_solution(f"exercise-{i}", statuses[i % 4], TRACKS[i % 3], AT + timedelta(hours=i))
            for i in range(count)]


def test_validate_proves_token_and_reads_the_handle(exercism):
    add_mixed(exercism, 3)
    account = provider(exercism).validate()
    assert (account.id, account.name) == ("mira-okafor", "mira-okafor")
    assert account.details == {"solutions": 3}
    assert exercism.requests == [{"order": "newest_first", "page": "1", "per_page": "1"}]


def test_validate_on_an_empty_account_still_succeeds(exercism):
    assert provider(exercism).validate().name == "Exercism account"


def test_bad_token_and_not_onboarded_get_different_messages(httpserver, exercism):
    with pytest.raises(InvalidAccount, match="^Exercism rejected this token$"):
        provider(exercism, token="0000-wrong").validate()
    exercism.onboarded = False
    with pytest.raises(InvalidAccount, match="^This Exercism account has not finished onboarding"):
        provider(exercism).validate()
    with pytest.raises(InvalidAccount, match="not finished onboarding"):
        list(provider(exercism).fetch(None))


def test_missing_token_asks_for_one(exercism):
    with pytest.raises(InvalidAccount, match="Enter your Exercism API token"):
        provider(exercism, token=" ").validate()


def test_revoked_token_during_sync_needs_reconnect(exercism):
    with pytest.raises(AuthError, match="Reconnect"):
        list(provider(exercism, token="revoked").fetch(None))


def test_fetch_pages_newest_first_and_keeps_only_iterated_solutions(exercism):
    solutions = add_mixed(exercism, 250)
    pages = list(provider(exercism).fetch(None))
    records = records_of(pages)

    assert [r["page"] for r in exercism.requests] == ["1", "2", "3"]
    assert {r["order"] for r in exercism.requests} == {"newest_first"}
    assert {r["per_page"] for r in exercism.requests} == {"100"}
    assert [(p.done, p.total) for p in pages] == [(1, 3), (2, 3), (3, 3)]
    iterated = [s for s in solutions if s["status"] != "started"]
    assert len(records) == len(iterated) == 187
    newest_iterated = next(s for s in reversed(solutions) if s["status"] != "started")
    assert records[0].external_id == f"exercism:{newest_iterated['uuid']}"
    assert all(r.replace and r.minutes == 30 and r.date is None for r in records)
    assert pages[-1].cursor["solutions"] == 250 and [p.cursor for p in pages[:-1]] == [None, None]


def test_title_minutes_and_date_follow_the_status(exercism):
    exercism.add_solution("two-fer", "iterated", TRACKS[0], AT)
    exercism.add_solution("isogram", "completed", TRACKS[1], AT)
    exercism.add_solution("leap", "published", TRACKS[2], AT)
    exercism.add_solution("bob", "started", TRACKS[0], AT, num_iterations=0)
    records = {r.title: r for r in records_of(provider(exercism, minutes_per_solution=45).fetch(None))}

    assert set(records) == {"Python: Two Fer", "Go: Isogram", "Rust: Leap"}
    assert records["Python: Two Fer"].occurred_at == AT  # last_iterated_at
    assert records["Go: Isogram"].occurred_at == AT + timedelta(hours=1)  # completed_at
    assert records["Rust: Leap"].occurred_at == AT + timedelta(hours=2)  # published_at
    assert records["Rust: Leap"].details["url"].endswith("/solutions/mira-okafor")
    assert records["Go: Isogram"].details["url"].endswith("/exercises/isogram")
    assert {r.minutes for r in records.values()} == {45}


def test_a_solution_moving_on_keeps_its_key_and_changes_its_record(exercism):
    solution = exercism.add_solution("two-fer", "iterated", TRACKS[0], AT)
    client = provider(exercism)
    [before] = records_of(client.fetch(None))
    exercism.publish(solution, AT + timedelta(days=3))
    [after] = records_of(client.fetch({"synced_at": "2026-11-21T00:00:00+00:00"}))

    assert before.external_id == after.external_id == f"exercism:{solution['uuid']}"
    assert (before.details["status"], after.details["status"]) == ("iterated", "published")
    assert after.occurred_at == AT + timedelta(days=3) and after.replace


def test_empty_account_is_one_request_and_no_records(exercism):
    pages = list(provider(exercism).fetch(None))
    assert len(pages) == 1 and pages[0].records == [] and pages[0].cursor["solutions"] == 0
    assert len(exercism.requests) == 1


def test_a_page_beyond_the_last_ends_the_fetch(exercism):
    add_mixed(exercism, 4)
    stale, newest = {"total_count": 250, "total_pages": 3}, list(reversed(exercism.solutions))
    exercism.script.push(lambda request: json_response({"results": newest, "meta": dict(stale, current_page=1)}),
                         lambda request: json_response({"results": [], "meta": dict(stale, current_page=2)}))
    pages = list(provider(exercism).fetch(None))
    assert len(pages) == 2 and len(records_of(pages)) == 3 and pages[-1].cursor
    assert pages[-1].done == pages[-1].total == 2


def test_unknown_fields_and_nulls_are_fine(exercism):
    solution = exercism.add_solution("two-fer", "iterated", TRACKS[0], AT, num_loc=None, future_field={"x": 1})
    solution.update(exercise={"slug": "two-fer"}, track=None, last_iterated_at=None)
    [record] = records_of(provider(exercism).fetch(None))
    assert record.title == "Exercism: two-fer"
    assert record.occurred_at == AT + timedelta(hours=2)  # fell back to updated_at


def test_empty_bodied_429_is_a_rate_limit_not_a_json_error(exercism):
    exercism.script.push(rate_limited())
    with pytest.raises(RateLimited, match="Exercism's rate limit"):
        list(provider(exercism).fetch(None))


def test_429_with_retry_after(exercism):
    exercism.script.push(rate_limited(retry_after="45"))
    with pytest.raises(RateLimited) as caught:
        list(provider(exercism).fetch(None))
    assert caught.value.retry_at < datetime.now(UTC) + timedelta(seconds=46)


def test_server_error_then_success(exercism):
    add_mixed(exercism, 2)
    exercism.script.push(status(500, {"error": {"type": "internal", "message": "boom"}}))
    assert len(records_of(provider(exercism).fetch(None))) == 1


def test_cdn_error_page_that_persists_is_transient(exercism):
    exercism.script.push(*[html_page(502)] * 2)
    with pytest.raises(TransientError, match="will try again later"):
        list(provider(exercism).fetch(None))


def test_read_timeout_is_transient(exercism):
    exercism.script.push(slow(0.5), slow(0.5))
    try:
        with pytest.raises(TransientError, match="Could not reach"):
            list(provider(exercism).fetch(None))
    finally:
        exercism.script.release()


@pytest.mark.parametrize("answer", [malformed(), html_page(200), status(200, {"results": None})])
def test_malformed_page(exercism, answer):
    exercism.script.push(answer)
    with pytest.raises(MalformedResponse, match="Exercism sent"):
        list(provider(exercism).fetch(None))


def test_token_is_sent_as_bearer_and_never_in_messages(exercism):
    session = Exercism.http_client(Credentials(secret=" tok-123 "), exercism.base_url).session
    assert session.headers["Authorization"] == "Bearer tok-123"
    with pytest.raises(AuthError) as caught:
        list(provider(exercism, token="secret-token-value").fetch(None))
    assert "secret-token-value" not in str(caught.value)
