"""GitHub sync end to end against a fake GitHub over real HTTP, jobs through RQ on the real Redis."""

from datetime import UTC, datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from activity_hub.extensions import db
from activity_hub.models import Activity, GitHubEvent, Integration, SyncRun, User
from activity_hub.services import accounts, sync, sync_recovery
from tests.conftest import run_jobs
from tests.fakes.github import (
    PROFILE,
    FakeEvents,
    FakeGitHub,
    event_of_type,
    json_response,
    push_event,
    rate_limited,
    threaded_server,
    timeline,
)

TOKEN = "gho_fake-token-for-tests-1"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def fake(httpserver):
    return FakeGitHub(httpserver)


@pytest.fixture
def app_config(app_config, fake):
    return {**app_config, **fake.config(), "SYNC_HTTP_BACKOFF": 0.01, "SYNC_HTTP_RETRIES": 2, "HTTP_TIMEOUT": 0.5}


def connect(app, timezone="UTC") -> int:
    """A user with a GitHub connection (token encrypted), as the OAuth callback leaves it."""
    with app.app_context():
        user = User(email="mira@example.dev", timezone=timezone)
        db.session.add(user)
        db.session.flush()
        profile = accounts.GitHubProfile(id=PROFILE["id"], login=PROFILE["login"], name="Mira")
        integration = accounts.save_github_token(user, profile, TOKEN)
        db.session.commit()
        return integration.id


def sync_once(app, integration_id, trigger="manual") -> SyncRun:
    with app.app_context():
        run_id = sync.request_sync(db.session.get(Integration, integration_id), trigger).id
    run_jobs(app)
    with app.app_context():
        return db.session.get(SyncRun, run_id)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_backfill_follows_link_pages_to_the_end(app, httpserver):
    events = FakeEvents(httpserver, timeline(250, NOW), TOKEN, poll_interval=0)
    iid = connect(app)
    run = sync_once(app, iid, "connect")
    assert (run.status, run.trigger, run.fetched, run.new) == ("succeeded", "connect", 250, 250)
    assert (run.progress_done, run.progress_total, run.progress_unit) == (3, 3, "pages")
    assert run.updated > 0 and run.error is None and run.finished_at is not None
    assert [r["path"] for r in events.requests] == [
        f"/api/users/{PROFILE['login']}/events", f"/api/user/{PROFILE['id']}/events", f"/api/user/{PROFILE['id']}/events"]
    assert events.requests[0]["args"] == {"per_page": "100"}
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in events.requests)
    assert count(app, GitHubEvent) == 250
    with app.app_context():
        integration = db.session.get(Integration, iid)
        assert integration.status == "ok" and integration.cursor["etag"].startswith('W/"')
        days = db.session.scalars(select(Activity).where(Activity.source == "github")).all()
        assert len(days) == run.updated
        assert all(a.service == "github" and a.external_id == f"github:{a.date.isoformat()}" for a in days)
        assert all(0 < a.minutes <= 600 for a in days)


def test_second_sync_with_etag_is_a_304_with_nothing_new(app, httpserver):
    events = FakeEvents(httpserver, timeline(30, NOW), TOKEN, poll_interval=0)
    iid = connect(app)
    sync_once(app, iid)
    run = sync_once(app, iid)
    assert events.requests[-1]["if_none_match"] == events.etag(1, 100)
    assert (run.status, run.fetched, run.new) == ("succeeded", 0, 0)
    assert "Nothing new" in run.message
    assert count(app, GitHubEvent) == 30


def test_new_events_are_added_once_and_their_day_recomputed(app, httpserver):
    day_start = NOW.replace(hour=9, minute=0, second=0) - timedelta(days=1)
    events = FakeEvents(httpserver, [push_event("100", day_start)], TOKEN, poll_interval=0)
    iid = connect(app)
    sync_once(app, iid)
    with app.app_context():
        day = db.session.scalar(select(Activity))
        assert (day.minutes, day.title) == (30, "1 push in mira-okafor/habit-ledger")
    events.events = [push_event("101", day_start + timedelta(minutes=60), repo="tern-labs/streamline")] + events.events
    run = sync_once(app, iid)
    assert (run.fetched, run.new, run.updated) == (2, 1, 1)
    with app.app_context():
        day = db.session.scalar(select(Activity))
        assert day.minutes == 90  # one session: 60 minutes of span + the 30 minute lead-in
        assert day.title.startswith("2 pushes in ")
        assert count(app, Activity) == 1 and count(app, GitHubEvent) == 2


def test_resync_without_etag_writes_no_duplicates(app, httpserver):
    FakeEvents(httpserver, timeline(120, NOW), TOKEN, poll_interval=0)
    iid = connect(app)
    first = sync_once(app, iid)
    with app.app_context():
        db.session.get(Integration, iid).cursor = None
        db.session.commit()
        activities_before = db.session.execute(select(Activity.external_id, Activity.minutes)).all()
    again = sync_once(app, iid)
    assert (first.new, again.fetched, again.new, again.updated) == (120, 120, 0, 0)
    with app.app_context():
        assert db.session.execute(select(Activity.external_id, Activity.minutes)).all() == activities_before
    assert count(app, GitHubEvent) == 120


def test_422_past_the_cap_is_the_end_not_an_error(app, httpserver):
    events = FakeEvents(httpserver, timeline(320, NOW, step_minutes=5), TOKEN, poll_interval=0)
    events.link_past_cap = True
    iid = connect(app)
    run = sync_once(app, iid)
    assert events.requests[-1]["args"]["page"] == "4"
    assert (run.status, run.fetched, run.error) == ("succeeded", 300, None)
    assert (run.progress_done, run.progress_total) == (3, 3)


def test_401_marks_needs_reauth_and_is_not_retried(app, httpserver):
    events = FakeEvents(httpserver, timeline(5, NOW), "another-token", poll_interval=0)
    iid = connect(app)
    run = sync_once(app, iid)
    assert run.status == "failed" and "Reconnect" in run.error and "401" in run.error
    assert TOKEN not in run.error
    assert len(events.requests) == 1
    with app.app_context():
        integration = db.session.get(Integration, iid)
        assert integration.status == "needs_reauth"
        assert sync_recovery.enqueue_daily_syncs() == {"queued": 0, "already": 0, "skipped": 1, "failed": 0}


@pytest.mark.parametrize("status,secondary", [(403, False), (429, False), (403, True)])
def test_rate_limit_reschedules_for_the_reset_time(app, httpserver, status, secondary):
    events = FakeEvents(httpserver, timeline(5, NOW), TOKEN, poll_interval=0)
    events.script.append(rate_limited(status, reset_in=1800, secondary=secondary))
    iid = connect(app)
    run = sync_once(app, iid)
    assert run.status == "waiting" and run.message == "GitHub's rate limit"
    expected = timedelta(seconds=120) if secondary else timedelta(seconds=1800)
    assert abs(run.waiting_until - datetime.now(UTC) - expected) < timedelta(seconds=15)
    with app.app_context():
        registry = ScheduledJobRegistry("sync", connection=app.extensions["redis"])
        assert registry.get_job_ids() == [run.job_id] == [f"sync-{iid}-resume-{run.id}-1"]
        assert db.session.get(Integration, iid).status == "queued"
        assert sync.request_sync(db.session.get(Integration, iid)).id == run.id  # still the same run
    assert count(app, GitHubEvent) == 0


def test_waiting_run_resumes_and_finishes(app, httpserver):
    events = FakeEvents(httpserver, timeline(5, NOW), TOKEN, poll_interval=0)
    events.script.append(rate_limited(429, reset_in=1))
    iid = connect(app)
    run = sync_once(app, iid)
    assert run.status == "waiting"
    with app.app_context():
        queue = app.extensions["queues"]["sync"]
        registry = ScheduledJobRegistry("sync", connection=app.extensions["redis"])
        for job_id in registry.get_job_ids():  # what the worker's scheduler does at the reset time
            registry.remove(job_id)
            queue.enqueue_job(queue.fetch_job(job_id))
    run_jobs(app)
    with app.app_context():
        run = db.session.get(SyncRun, run.id)
        assert (run.status, run.new, run.attempts, run.waiting_until) == ("succeeded", 5, 2, None)


def test_403_without_rate_limit_signs_is_a_permission_failure(app, httpserver):
    events = FakeEvents(httpserver, [], TOKEN, poll_interval=0)
    events.script.append(json_response({"message": "Resource protected by organization SAML enforcement."}, 403))
    run = sync_once(app, connect(app))
    assert run.status == "failed"
    assert run.error == ("GitHub refused access (403): Resource protected by organization SAML enforcement. "
                         "Reconnecting GitHub may help.")


def test_5xx_then_success_is_retried_within_the_run(app, httpserver):
    events = FakeEvents(httpserver, timeline(10, NOW), TOKEN, poll_interval=0)
    events.script += [json_response({"message": "Server Error"}, 502), json_response({"message": "oops"}, 500)]
    run = sync_once(app, connect(app))
    assert (run.status, run.new) == ("succeeded", 10)
    assert len(events.requests) == 3


def test_persistent_5xx_fails_with_a_reason(app, httpserver):
    events = FakeEvents(httpserver, [], TOKEN, poll_interval=0)
    events.script += [json_response({"message": "Server Error"}, 503) for _ in range(3)]
    run = sync_once(app, connect(app))
    assert run.status == "failed" and "GitHub is having trouble (503)" in run.error


def test_read_timeout_fails_in_words(app, httpserver):
    slow = threaded_server()  # its own server, so the slow answers still in flight cannot leak into other tests
    try:
        app.config["GITHUB_API_URL"] = slow.url_for("/api").rstrip("/")
        events = FakeEvents(slow, timeline(3, NOW), TOKEN, poll_interval=0, delay=0.8)
        run = sync_once(app, connect(app))
    finally:
        slow.stop()
    assert run.status == "failed" and "timed out" in run.error
    assert len(events.requests) >= 2  # retried before giving up


def test_malformed_json_fails_the_run_in_words(app, httpserver):
    from werkzeug import Response

    events = FakeEvents(httpserver, [], TOKEN, poll_interval=0)
    events.script.append(Response('[{"id": "1", "type": ', status=200, content_type="application/json"))
    run = sync_once(app, connect(app))
    assert run.status == "failed" and run.error == "GitHub sent a response that is not valid JSON"


def test_unknown_types_fields_and_broken_events_do_not_crash(app, httpserver):
    good = push_event("7", NOW - timedelta(hours=1))
    good["brand_new_field"] = {"nested": [1, 2]}
    future = event_of_type("8", "HoverboardEvent", NOW - timedelta(hours=2), payload={"speed": 88})
    broken = [{"id": "9", "type": "PushEvent"}, {"type": "PushEvent", "created_at": "2025-01-01T00:00:00Z"},
              "not an object", {"id": "10", "type": "PushEvent", "created_at": "yesterday"}]
    FakeEvents(httpserver, [good, future, *broken], TOKEN, poll_interval=0)
    run = sync_once(app, connect(app))
    assert (run.status, run.fetched, run.new) == ("succeeded", 2, 2)
    assert run.message == "4 event(s) could not be read and were skipped."
    with app.app_context():
        stored = {e.event_id: e.type for e in db.session.scalars(select(GitHubEvent))}
        assert stored == {"7": "PushEvent", "8": "HoverboardEvent"}


def test_both_push_payload_shapes_make_one_day(app, httpserver):
    base = NOW.replace(hour=12, minute=0, second=0) - timedelta(days=2)
    FakeEvents(httpserver, [
        push_event("3", base + timedelta(minutes=40), legacy=True, commits=3),
        push_event("2", base + timedelta(minutes=20), legacy=False),
        push_event("1", base, legacy=True, commits=4),
    ], TOKEN, poll_interval=0)
    sync_once(app, connect(app))
    with app.app_context():
        day = db.session.scalar(select(Activity))
        assert day.date == base.date() and day.minutes == 70
        assert day.title == "3 pushes in mira-okafor/habit-ledger"  # commit count unknown for the trimmed push
        assert day.details["commits"] is None and day.details["events"] == 3
        payloads = {e.event_id: e.payload for e in db.session.scalars(select(GitHubEvent))}
        assert payloads["1"]["size"] == 4 and payloads["1"]["commit_count"] == 4
        assert "size" not in payloads["2"] and "commits" not in payloads["2"]


def test_poll_interval_makes_an_early_sync_wait(app, httpserver):
    FakeEvents(httpserver, timeline(3, NOW), TOKEN, poll_interval=60)
    iid = connect(app)
    assert sync_once(app, iid).status == "succeeded"
    run = sync_once(app, iid)
    assert run.status == "waiting" and run.message == "GitHub's poll interval"
    assert timedelta(seconds=30) < run.waiting_until - datetime.now(UTC) <= timedelta(seconds=61)  # rounded up to a second
