"""Periodic jobs against the real Redis: registration is idempotent, changes replace, removals cancel,
and the daily fan-out queues exactly one sync per connection however often it runs."""

import pytest
from rq_scheduler import Scheduler
from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import Integration, SyncRun, User
from activity_hub.schedule import ID_PREFIX, job_id, make_scheduler, periodic_jobs, register_periodic_jobs
from tests.conftest import run_jobs

# crontab warns about its own future default on every call rq-scheduler makes; the scheduler runs with TZ=UTC.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

MINUTE = {"func": "activity_hub.jobs.maintenance", "cron": "* * * * *", "queue": "default", "timeout": 120}
DAILY = {"func": "activity_hub.jobs.sync.enqueue_daily_syncs", "cron": "0 3 * * *", "queue": "default", "timeout": 600}


@pytest.fixture
def scheduler(app_ctx) -> Scheduler:
    return make_scheduler()


def scheduled(scheduler) -> dict:
    return {job.id: job.meta["cron_string"] for job in scheduler.get_jobs() if job.id.startswith(ID_PREFIX)}


def test_new_definitions_are_scheduled(scheduler):
    assert register_periodic_jobs(scheduler, [MINUTE, DAILY]) == {"added": 2, "kept": 0, "removed": 0}
    assert scheduled(scheduler) == {job_id(MINUTE): "* * * * *", job_id(DAILY): "0 3 * * *"}


def test_restarting_registers_nothing_twice(scheduler):
    register_periodic_jobs(scheduler, [MINUTE, DAILY])
    for _ in range(3):
        assert register_periodic_jobs(make_scheduler(), [MINUTE, DAILY]) == {"added": 0, "kept": 2, "removed": 0}
    assert len(scheduled(scheduler)) == 2 and scheduler.count() == 2


def test_a_changed_cron_line_replaces_the_old_job(scheduler):
    register_periodic_jobs(scheduler, [MINUTE, DAILY])
    later = dict(DAILY, cron="30 4 * * *")
    assert register_periodic_jobs(scheduler, [MINUTE, later]) == {"added": 1, "kept": 1, "removed": 1}
    assert scheduled(scheduler) == {job_id(MINUTE): "* * * * *", job_id(later): "30 4 * * *"}
    assert not scheduler.connection.exists(f"rq:job:{job_id(DAILY)}")  # the old job's hash is gone too


def test_a_removed_definition_is_cancelled(scheduler):
    register_periodic_jobs(scheduler, [MINUTE, DAILY])
    assert register_periodic_jobs(scheduler, [MINUTE]) == {"added": 0, "kept": 1, "removed": 1}
    assert scheduled(scheduler) == {job_id(MINUTE): "* * * * *"}


def test_foreign_scheduled_jobs_are_left_alone(scheduler):
    from datetime import UTC, datetime, timedelta

    scheduler.enqueue_at(datetime.now(UTC) + timedelta(hours=1), "activity_hub.jobs.maintenance", job_id="someone-else")
    register_periodic_jobs(scheduler, [MINUTE])
    assert "someone-else" in [job.id for job in scheduler.get_jobs()]


def test_the_table_has_the_daily_sync_at_the_configured_utc_time(app_ctx):
    app_ctx.config["DAILY_SYNC_AT"] = "05:45"
    table = {d["func"]: d for d in periodic_jobs()}
    assert table["activity_hub.jobs.sync.enqueue_daily_syncs"]["cron"] == "45 5 * * *"
    assert table["activity_hub.jobs.maintenance"]["cron"] == "* * * * *"
    app_ctx.config["DAILY_SYNC_AT"] = "25:00"
    with pytest.raises(ValueError, match="DAILY_SYNC_AT must be HH:MM in UTC"):
        periodic_jobs()


def test_a_periodic_job_survives_its_own_run(app, scheduler):
    """rq-scheduler re-reads the same job hash for every run: it must not expire after the first one."""
    register_periodic_jobs(scheduler, [DAILY])
    jid = job_id(DAILY)
    scheduler.connection.zadd(scheduler.scheduled_jobs_key, {jid: 0})  # due now
    scheduler.enqueue_jobs()
    run_jobs(app)
    assert scheduler.connection.ttl(f"rq:job:{jid}") == -1  # no expiry
    assert jid in scheduled(scheduler)


def _connections(app, count: int, reauth: int = 0) -> list[int]:
    with app.app_context():
        ids = []
        for n in range(count + reauth):
            user = User(email=f"u{n}@example.org")
            db.session.add(user)
            db.session.flush()
            integration = Integration(user_id=user.id, provider="github", account_name=f"user{n}",
                                      status="needs_reauth" if n >= count else "ok")
            db.session.add(integration)
            db.session.flush()
            ids.append(integration.id)
        db.session.commit()
        return ids


def test_daily_fan_out_queues_one_job_per_connection_even_when_run_twice(app):
    ids = _connections(app, 3, reauth=1)
    queue = app.extensions["queues"]["default"]
    queue.enqueue("activity_hub.jobs.sync.enqueue_daily_syncs")
    queue.enqueue("activity_hub.jobs.sync.enqueue_daily_syncs")
    from rq import SimpleWorker

    with app.app_context():
        SimpleWorker([queue], connection=app.extensions["redis"]).work(burst=True)  # only the fan-out, not the syncs
        sync_queue = app.extensions["queues"]["sync"]
        assert sorted(sync_queue.job_ids) == sorted(f"sync-{i}" for i in ids[:3])
        runs = db.session.scalars(select(SyncRun)).all()
        assert sorted(r.integration_id for r in runs) == sorted(ids[:3])
        assert {r.trigger for r in runs} == {"scheduled"} and {r.status for r in runs} == {"queued"}


@pytest.mark.slow
def test_restarting_the_scheduler_process_keeps_one_job_per_definition(app):
    import os
    import signal
    import subprocess
    import sys

    from activity_hub.config import PROJECT_ROOT

    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               DAILY_SYNC_AT="04:30")
    outputs = []
    for _ in range(2):
        proc = subprocess.Popen([sys.executable, "worker.py", "scheduler"], cwd=PROJECT_ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        outputs.append(proc.stdout.readline().strip())
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    assert outputs == ["scheduler: periodic jobs registered ({'added': 2, 'kept': 0, 'removed': 0})",
                       "scheduler: periodic jobs registered ({'added': 0, 'kept': 2, 'removed': 0})"]
    with app.app_context():
        crons = sorted(scheduled(make_scheduler()).values())
    assert crons == ["* * * * *", "30 4 * * *"]
