"""Review fixes of the sync engine, each against the real Redis, database and HTTP fakes: a run that waits
twice, a disconnect in the middle of a sync, the daily fan-out past a bad connection, timeouts in words,
one query for GitHub day recomputes and a fixed number of queries for the Connect page."""

import logging
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import event, func, select

from activity_hub.extensions import db
from activity_hub.jobs.sync import enqueue_daily_syncs, sync_job_failed
from activity_hub.models import Activity, GitHubEvent, Integration, SyncRun, User
from activity_hub.providers.base import RawEvent
from activity_hub.services import accounts, github_days, sync, sync_status, sync_writes
from tests.conftest import run_jobs
from tests.fakes.github import PROFILE, FakeEvents, FakeGitHub, rate_limited, threaded_server, timeline

TOKEN = "gho_fake-token-for-tests-1"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def fake(httpserver):
    return FakeGitHub(httpserver)


@pytest.fixture
def app_config(app_config, fake):
    return {**app_config, **fake.config(), "SYNC_HTTP_BACKOFF": 0.01, "SYNC_HTTP_RETRIES": 2, "HTTP_TIMEOUT": 2.0}


def link_github(app, email="ada@example.org") -> int:
    """A GitHub connection for `email` (created when missing), as the OAuth callback leaves it."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email)
            db.session.add(user)
            db.session.flush()
        integration = accounts.save_github_token(user, accounts.GitHubProfile(PROFILE["id"], PROFILE["login"], None), TOKEN)
        db.session.commit()
        return integration.id


def request(app, integration_id) -> int:
    with app.app_context():
        return sync.request_sync(db.session.get(Integration, integration_id), "manual").id


def get_run(app, run_id) -> SyncRun:
    with app.app_context():
        return db.session.get(SyncRun, run_id)


def release_scheduled(app) -> list[str]:
    """What the worker's scheduler does at the due time; every scheduled id must still have its job."""
    with app.app_context():
        queue = app.extensions["queues"]["sync"]
        registry = ScheduledJobRegistry("sync", connection=app.extensions["redis"])
        ids = registry.get_job_ids()
        for job_id in ids:
            job = queue.fetch_job(job_id)
            assert job is not None, f"scheduled job {job_id} lost its data"
            registry.remove(job_id)
            queue.enqueue_job(job)
        return ids


@pytest.fixture
def caplog(caplog):
    """caplog that also hears the app's loggers after an earlier test's `logging.config.fileConfig`
    (Alembic's env.py) disabled every logger that existed then."""
    muted = [lg for name, lg in logging.Logger.manager.loggerDict.items()
             if name.startswith("activity_hub") and isinstance(lg, logging.Logger) and lg.disabled]
    for logger in muted:
        logger.disabled = False
    yield caplog
    for logger in muted:
        logger.disabled = True


@contextmanager
def counted_queries(app, needle: str = ""):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if needle.lower() in statement.lower():
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# --- 1. a run rate-limited twice keeps its job ----------------------------------------------------------

def test_two_rate_limits_in_a_row_then_success_keep_the_job_chain(app, httpserver):
    events = FakeEvents(httpserver, timeline(5, NOW), TOKEN, poll_interval=0)
    events.script += [rate_limited(429, reset_in=1), rate_limited(429, reset_in=1)]
    run_id = request(app, link_github(app))
    run_jobs(app)
    first = get_run(app, run_id)
    assert first.status == "waiting" and first.waiting_until.microsecond == 0  # whole seconds, never early
    assert release_scheduled(app) == [first.job_id]
    run_jobs(app)  # the resumed job is rate-limited again and schedules the next one while it runs
    second = get_run(app, run_id)
    assert second.status == "waiting" and second.job_id != first.job_id
    assert release_scheduled(app) == [second.job_id]
    run_jobs(app)
    done = get_run(app, run_id)
    assert (done.status, done.new, done.attempts, done.error) == ("succeeded", 5, 3, None)
    with app.app_context():
        assert ScheduledJobRegistry("sync", connection=app.extensions["redis"]).get_job_ids() == []
        assert db.session.get(Integration, done.integration_id).status == "ok"


def test_a_resume_that_starts_a_moment_early_is_not_held_back_by_the_poll_interval(app, httpserver):
    FakeEvents(httpserver, timeline(3, NOW), TOKEN, poll_interval=0)
    iid = link_github(app)
    with app.app_context():
        due = datetime.now(UTC) + timedelta(seconds=1.5)  # RQ started the job before the fraction ran out
        db.session.get(Integration, iid).cursor = {"poll_interval": 60, "next_poll_at": due.isoformat()}
        db.session.commit()
    run_id = request(app, iid)
    run_jobs(app)
    assert get_run(app, run_id).status == "succeeded"


def test_disconnect_cancels_a_waiting_runs_scheduled_job(user_client, app, httpserver):
    events = FakeEvents(httpserver, timeline(5, NOW), TOKEN, poll_interval=0)
    events.script.append(rate_limited(429, reset_in=1800))
    run_id = request(app, link_github(app))
    run_jobs(app)
    job_id = get_run(app, run_id).job_id
    assert user_client.post("/connect/github/disconnect", data={"activities": "delete"}).status_code == 302
    with app.app_context():
        assert ScheduledJobRegistry("sync", connection=app.extensions["redis"]).get_job_ids() == []
        assert not Job.exists(job_id, connection=app.extensions["redis"])


# --- 2. disconnect and delete while a sync runs ---------------------------------------------------------

def test_disconnect_and_delete_between_pages_leaves_nothing_and_no_error(user_client, app, httpserver, caplog):
    events = FakeEvents(httpserver, timeline(250, NOW), TOKEN, poll_interval=0)
    events.gate, events.gate_page = threading.Event(), 2  # page 2 waits until the user has disconnected
    run_id = request(app, link_github(app))
    answers = []

    def user_disconnects():
        deadline = time.monotonic() + 30
        while not any(r["args"].get("page") == "2" for r in events.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        answers.append(user_client.post("/connect/github/disconnect", data={"activities": "delete"}).status_code)
        events.gate.set()

    helper = threading.Thread(target=user_disconnects)
    helper.start()
    with caplog.at_level(logging.INFO):
        run_jobs(app)
    helper.join(30)
    assert answers == [302]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert any("cancelled" in r.getMessage() for r in caplog.records if r.name == "activity_hub.services.sync")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.source == "github")) == 0
        assert db.session.scalar(select(func.count()).select_from(GitHubEvent)) == 0
        assert db.session.get(SyncRun, run_id) is None
        redis = app.extensions["redis"]
        assert FailedJobRegistry("sync", connection=redis).get_job_ids() == []
        assert app.extensions["queues"]["sync"].job_ids == []
        assert ScheduledJobRegistry("sync", connection=redis).get_job_ids() == []  # no retry


def test_a_disconnect_during_a_page_write_waits_for_it_and_deletes_it(user_client, app):
    run_id = request(app, link_github(app))
    answers = []
    with app.app_context():
        user = db.session.scalar(select(User))
        sync_writes.hold_run(run_id)  # a page's write transaction has begun
        helper = threading.Thread(target=lambda: answers.append(
            user_client.post("/connect/github/disconnect", data={"activities": "delete"}).status_code))
        helper.start()
        helper.join(1.0)
        assert helper.is_alive()  # the disconnect waits for the page
        github_days.store_events(user.id, [RawEvent("1", "PushEvent", NOW - timedelta(hours=1), "a/b")])  # commits
        helper.join(20)
        assert answers == [302]
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(GitHubEvent)) == 0
        with pytest.raises(sync_writes.RunGone):  # and the run's next write stops before writing
            sync_writes.hold_run(run_id)


def test_writes_after_the_run_was_deleted_are_refused(app):
    link_github(app)
    with app.app_context():
        user = db.session.scalar(select(User))
        events = [RawEvent("1", "PushEvent", NOW - timedelta(hours=1), "a/b")]
        with pytest.raises(sync_writes.RunGone):
            sync_writes.write_records(user, "github", events, lambda: sync_writes.hold_run(123456))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(GitHubEvent)) == 0


# --- 3 and 5. the daily fan-out goes on past a connection that cannot be queued ---------------------------

def test_daily_fan_out_counts_a_failing_connection_and_queues_the_rest(app, caplog):
    ids = [link_github(app, f"user{n}@example.org") for n in range(3)]
    with app.app_context():
        for iid in ids:
            db.session.get(Integration, iid).status = "ok"
        db.session.commit()
        queue = app.extensions["queues"]["sync"]
        queue.enqueue(sync.JOB_FUNC, 0, job_id=sync.job_id_for(ids[0]))  # a job of that connection still finishing
    with caplog.at_level(logging.WARNING), app.app_context():
        counts = enqueue_daily_syncs()
    assert counts == {"queued": 2, "already": 0, "skipped": 0, "failed": 1}
    assert any(f"integration {ids[0]}" in r.getMessage() for r in caplog.records)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    with app.app_context():
        assert sorted(queue.job_ids) == sorted(sync.job_id_for(i) for i in ids)
        runs = db.session.scalars(select(SyncRun.integration_id)).all()
        assert sorted(runs) == ids[1:]
        assert db.session.get(Integration, ids[0]).status == "ok"  # not left "queued" without a run


def test_a_sync_just_finishing_leaves_the_connection_status_alone(app):
    iid = link_github(app)
    with app.app_context():
        integration = db.session.get(Integration, iid)
        integration.status = "error"
        db.session.commit()
        app.extensions["queues"]["sync"].enqueue(sync.JOB_FUNC, 0, job_id=sync.job_id_for(iid))
        with pytest.raises(sync.SyncUnavailable, match="just finishing"):
            sync.request_sync(integration)
        db.session.expire_all()
        assert db.session.get(Integration, iid).status == "error"


# --- 4. timeouts say so -----------------------------------------------------------------------------

def test_a_sync_past_the_job_timeout_fails_saying_it_timed_out(app):
    slow = threaded_server()
    try:
        app.config.update(GITHUB_API_URL=slow.url_for("/api").rstrip("/"), SYNC_JOB_TIMEOUT=1, HTTP_TIMEOUT=10)
        FakeEvents(slow, timeline(3, NOW), TOKEN, poll_interval=0, delay=3)
        run_id = request(app, link_github(app))
        run_jobs(app)
    finally:
        slow.stop()
    run = get_run(app, run_id)
    assert run.status == "failed" and "timed out" in run.error and "worker stopped" not in run.error
    assert "1 seconds" in run.error


def test_the_failure_callback_of_a_timed_out_job_says_it_timed_out(app):
    from rq.timeouts import JobTimeoutException

    run_id = request(app, link_github(app))
    with app.app_context():
        job = Job.fetch(sync.job_id_for(get_run(app, run_id).integration_id), connection=app.extensions["redis"])
        job.retries_left = 1
        sync_job_failed(job, app.extensions["redis"], JobTimeoutException, JobTimeoutException("too slow"), None)
        assert "timed out" in get_run(app, run_id).message
        job.retries_left = 0
        sync_job_failed(job, app.extensions["redis"], JobTimeoutException, JobTimeoutException("too slow"), None)
    run = get_run(app, run_id)
    assert run.status == "failed" and "timed out" in run.error and "stopped unexpectedly" not in run.error


# --- 6. GitHub days: one read however many days -----------------------------------------------------------

def test_recomputing_many_days_reads_the_events_once_with_the_same_result(app):
    link_github(app)
    with app.app_context():
        user = db.session.scalar(select(User))
        user.timezone = "America/New_York"
        db.session.commit()
        start = datetime(2025, 3, 1, 3, 30, tzinfo=UTC)  # across a DST change, events near local midnight
        raw = [RawEvent(str(n), ("PushEvent", "WatchEvent", "PullRequestEvent")[n % 3],
                        start + timedelta(hours=7 * n), f"o/r{n % 4}", payload={"size": n % 5}) for n in range(120)]
        created = github_days.store_events(user.id, raw)
        days = github_days.days_of(user, created) | {date(2024, 12, 31)}  # and a day with no events
        with counted_queries(app, "github_events") as reads:
            result = github_days.recompute_days(user, days)
        assert len(reads) == 1
        tz = ZoneInfo("America/New_York")
        expected = {}
        for day in days:  # the former per-day query, as the reference
            lo = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)
            hi = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
            day_events = list(db.session.scalars(select(GitHubEvent).where(
                GitHubEvent.created_at >= lo, GitHubEvent.created_at < hi).order_by(GitHubEvent.created_at)))
            row = github_days.day_row(user.id, day, day_events)
            if row:
                expected[day] = (row["minutes"], row["title"], row["details"], row["occurred_at"])
        stored = {a.date: (a.minutes, a.title, a.details, a.occurred_at) for a in db.session.scalars(select(Activity))}
        assert stored == expected and result.days == set(expected) and len(expected) > 20


# --- 8. the Connect page: a fixed number of queries --------------------------------------------------------

def test_connect_cards_take_the_same_queries_for_one_or_three_sources(app):
    iid = link_github(app)
    with app.app_context():
        user = db.session.scalar(select(User))
        for n in range(7):
            db.session.add(SyncRun(integration_id=iid, user_id=user.id, status="succeeded", new=n))
        db.session.commit()
        db.session.refresh(user)  # loaded here, not inside the count
        with counted_queries(app) as one:
            cards = sync_status.cards_for(user)
        github = next(c for c in cards if c["info"].slug == "github")
        assert [r.new for r in github["runs"]] == [6, 5, 4, 3, 2]
        for slug in ("wakatime", "codewars"):
            other = Integration(user_id=user.id, provider=slug, account_name="ada", status="ok")
            db.session.add(other)
            db.session.flush()
            db.session.add(SyncRun(integration_id=other.id, user_id=user.id, status="failed", error="x"))
            db.session.add(Activity(user_id=user.id, service=slug, date=NOW.date(), minutes=5, title="t",
                                    source=slug, external_id=f"{slug}-1"))
        db.session.commit()
        db.session.expire_all()
        db.session.refresh(user)
        with counted_queries(app) as three:
            cards = sync_status.cards_for(user)
        assert len(three) == len(one) <= 3
        by_slug = {c["info"].slug: c for c in cards}
        assert by_slug["wakatime"]["activity_count"] == 1 and by_slug["github"]["activity_count"] == 0
        assert by_slug["codewars"]["badge"].state == "failed" and len(by_slug["github"]["runs"]) == 5
