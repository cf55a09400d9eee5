"""The engine's ledger and queue rules on the real Redis and database, plus the idempotent writer."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from activity_hub.extensions import db
from activity_hub.models import Activity, GitHubEvent, Integration, SyncRun, User
from activity_hub.providers.base import ActivityRecord, RawEvent
from activity_hub.services import activities, github_days, sync, sync_recovery
from tests.conftest import run_jobs


@pytest.fixture
def integration(app_ctx) -> Integration:
    user = User(email="ada@example.org")
    db.session.add(user)
    db.session.flush()
    integration = Integration(user_id=user.id, provider="github", account_name="ada", status="ok")
    db.session.add(integration)
    db.session.commit()
    return integration


def sync_queue(app):
    return app.extensions["queues"]["sync"]


def test_a_click_racing_the_schedule_gets_the_same_run(app_ctx, integration):
    manual = sync.request_sync(integration, "manual")
    scheduled = sync.request_sync(integration, "scheduled")
    assert manual.id == scheduled.id and manual.trigger == "manual"
    assert sync_queue(app_ctx).job_ids == [f"sync-{integration.id}"]
    assert integration.status == "queued"


def test_a_duplicate_enqueue_is_refused_by_the_unique_job_id(app_ctx, integration):
    sync.request_sync(integration, "manual")
    run = SyncRun(integration_id=integration.id, user_id=integration.user_id, job_id=f"sync-{integration.id}")
    db.session.add(run)
    db.session.commit()
    from rq.exceptions import DuplicateJobError

    with pytest.raises(DuplicateJobError):
        sync._enqueue_unique(run)
    assert len(sync_queue(app_ctx)) == 1


def test_a_failed_run_does_not_block_the_next_one(app, app_ctx, integration):
    first = sync.request_sync(integration, "manual")
    run_jobs(app)  # no credentials and no server: the run fails in words
    db.session.expire_all()
    assert first.status == "failed" and first.error
    second = sync.request_sync(integration, "manual")
    assert second.id != first.id and second.status == "queued"
    assert sync_queue(app_ctx).job_ids == [f"sync-{integration.id}"]


def test_abandoned_job_callback_requeues_then_fails(app_ctx, integration):
    run = sync.request_sync(integration, "manual")
    run.status = "running"
    db.session.commit()
    sync_recovery.job_failed(run.id, retries_left=1)
    db.session.expire_all()
    assert run.status == "queued" and "starts again" in run.message
    sync_recovery.job_failed(run.id, retries_left=0)
    db.session.expire_all()
    assert run.status == "failed" and "stopped unexpectedly" in run.error
    assert integration.status == "error" and integration.last_error == run.error


def test_runs_whose_job_is_gone_are_failed_not_left_running(app_ctx, integration):
    old = datetime.now(UTC) - timedelta(minutes=10)
    lost = SyncRun(integration_id=integration.id, user_id=integration.user_id, status="running",
                   job_id="sync-nowhere", created_at=old, heartbeat_at=old)
    fresh = SyncRun(integration_id=integration.id, user_id=integration.user_id, status="queued", job_id="sync-soon")
    db.session.add_all([lost, fresh])
    db.session.commit()
    assert sync_recovery.recover_stale_runs() == 1
    db.session.expire_all()
    assert lost.status == "failed" and "lost" in lost.error and fresh.status == "queued"


def test_a_live_job_keeps_its_run(app_ctx, integration):
    run = sync.request_sync(integration, "manual")
    run.created_at = datetime.now(UTC) - timedelta(minutes=10)
    db.session.commit()
    assert sync_recovery.recover_stale_runs() == 0
    assert sync.request_sync(integration, "manual").id == run.id


def test_a_run_lost_by_the_queue_is_replaced_on_the_next_click(app_ctx, integration):
    run = sync.request_sync(integration, "manual")
    run.created_at = datetime.now(UTC) - timedelta(minutes=5)
    db.session.commit()
    app_ctx.extensions["redis"].flushdb()  # Redis lost its data
    fresh = sync.request_sync(integration, "manual")
    db.session.expire_all()
    assert fresh.id != run.id and run.status == "failed"
    assert sync_queue(app_ctx).job_ids == [f"sync-{integration.id}"]


def test_maintenance_job_runs_cleanup_and_recovery(app_ctx, integration):
    from activity_hub.jobs import maintenance

    old = datetime.now(UTC) - timedelta(minutes=10)
    db.session.add(SyncRun(integration_id=integration.id, user_id=integration.user_id, status="running",
                           job_id="sync-gone", created_at=old, heartbeat_at=old))
    db.session.commit()
    counts = maintenance()
    assert counts["recovered_runs"] == 1 and counts["sync"] == 0


def test_disconnected_mid_run_stops_quietly(app_ctx, integration):
    run = sync.request_sync(integration, "manual")
    run_id = run.id
    db.session.delete(integration)
    db.session.commit()
    assert sync.execute_run(run_id) == "skipped"


def _record(key: str, minutes: int, day: date, replace=False) -> ActivityRecord:
    return ActivityRecord(external_id=key, service="wakatime", minutes=minutes, title=f"t{minutes}", date=day,
                          replace=replace)


def test_writer_counts_new_and_updated_and_never_duplicates(app_ctx, integration):
    uid, day = integration.user_id, date(2026, 3, 1)
    batch = [_record("a", 10, day), _record("b", 20, day), _record("b", 25, day)]  # "b" twice: the last wins
    assert activities.write_records(uid, "wakatime", batch, "UTC").new == 2
    assert activities.write_records(uid, "wakatime", batch, "UTC").new == 0
    upserts = [_record("a", 10, day, True), _record("b", 30, day, True), _record("c", 5, day, True)]
    result = activities.write_records(uid, "wakatime", upserts, "UTC")
    assert (result.new, result.updated) == (1, 1)
    result = activities.write_records(uid, "wakatime", upserts, "UTC")
    assert (result.new, result.updated) == (0, 0)
    rows = dict(db.session.execute(select(Activity.external_id, Activity.minutes)).all())
    assert rows == {"a": 10, "b": 30, "c": 5}


def test_writer_handles_many_chunks(app_ctx, integration):
    day = date(2026, 1, 1)
    records = [_record(f"k{n}", 1 + n % 60, day + timedelta(days=n % 300), True) for n in range(1203)]
    assert activities.write_records(integration.user_id, "wakatime", records, "UTC").new == 1203
    records[1202] = _record("k1202", 59, day, True)
    again = activities.write_records(integration.user_id, "wakatime", records, "UTC")
    assert (again.new, again.updated) == (0, 1)
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 1203


def test_writer_puts_instants_on_the_users_local_day(app_ctx, integration):
    at = datetime(2026, 5, 1, 23, 30, tzinfo=UTC)
    record = ActivityRecord(external_id="x", service="codewars", minutes=20, title="kata", occurred_at=at)
    activities.write_records(integration.user_id, "codewars", [record], "Europe/Berlin")
    assert db.session.scalar(select(Activity.date)) == date(2026, 5, 2)


def test_time_zone_change_recomputes_github_days(user_client, app):
    with app.app_context():
        user = db.session.scalar(select(User))
        events = [RawEvent("1", "PushEvent", datetime(2026, 5, 1, 23, 30, tzinfo=UTC), "a/b"),
                  RawEvent("2", "PushEvent", datetime(2026, 5, 2, 0, 30, tzinfo=UTC), "a/b")]
        created = github_days.store_events(user.id, events)
        github_days.recompute_days(user, github_days.days_of(user, created))
        assert db.session.scalar(select(func.count()).select_from(Activity)) == 2
    resp = user_client.post("/settings/profile", data={"display_name": "", "timezone": "America/New_York"})
    assert resp.status_code in (200, 302)
    with app.app_context():
        days = db.session.scalars(select(Activity)).all()
        assert [(a.date, a.minutes, a.title) for a in days] == [(date(2026, 5, 1), 90, "2 pushes in a/b")]
        assert db.session.scalar(select(func.count()).select_from(GitHubEvent)) == 2


def test_a_waiting_run_nobody_resumes_is_failed_in_the_end(app_ctx, integration):
    from activity_hub.providers.base import RateLimited

    run = sync.request_sync(integration, "manual")
    sync._start(run, integration)
    sync._wait(run, integration, RateLimited("limited", datetime.now(UTC) + timedelta(seconds=5)), None)
    assert run.status == "waiting" and sync_recovery.recover_stale_runs() == 0
    run.waiting_until = datetime.now(UTC) - timedelta(minutes=30)  # due long ago, still only scheduled
    db.session.commit()
    assert sync_recovery.recover_stale_runs() == 1
    db.session.expire_all()
    assert run.status == "failed" and "no worker picked it up" in run.error
