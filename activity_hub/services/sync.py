"""The sync engine: queue one run per connection, run a provider page by page, keep the ledger true.

* `request_sync` creates a queued `SyncRun` and enqueues one RQ job whose id is unique to the connection
  (`sync-<integration id>`); a second request while a run is queued, running or waiting returns that run.
* `execute_run` (the job) fetches pages, writes them idempotently, records progress and counts per page
  in short transactions, and ends the run as succeeded, failed or waiting. It never raises for a
  provider problem, so RQ's unique job id is free again as soon as the run ends.
* A rate-limited run waits: it is re-scheduled for the reset time under a job id of its own for every
  wait (`sync-<id>-resume-<run>-<attempt>`, kept in `run.job_id`) instead of sleeping in a worker; a
  resumed job that waits again never reuses the id of the job that is running it. A 401 marks the
  connection `needs_reauth` and stops.
* Disconnecting mid-run deletes the run with the connection. Every write transaction of a page starts by
  touching the run's row (`sync_writes.hold_run`), so the writes either land before the disconnect (which then
  deletes them) or not at all, and the run stops as cancelled without an error or a retry.
* Worker deaths, lost jobs and the daily fan-out live in `sync_recovery`.
"""

import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from flask import current_app
from redis.exceptions import RedisError
from rq import Callback, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.timeouts import JobTimeoutException
from sqlalchemy import select
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from ..crypto import InvalidToken, secret_box
from ..extensions import db
from ..models import Integration, SyncRun, User
from ..models.integration import ACTIVE_RUN_STATUSES
from ..providers import PROVIDERS, build_provider
from ..providers.base import AuthError, Credentials, ProviderError, RateLimited
from ..queues import get_queue, get_redis
from .sync_writes import RunGone, hold_run, run_exists, write_records

log = logging.getLogger(__name__)
JOB_FUNC = "activity_hub.jobs.sync.sync_integration"
ACTIVE = ACTIVE_RUN_STATUSES
FINISHED = ("succeeded", "failed")
LIVE_JOB_STATES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
UNAVAILABLE = "Syncing is unavailable right now: the background job queue (Redis) cannot be reached. Try again in a minute."


class SyncUnavailable(Exception):
    """A sync cannot be queued; the message says why, in words."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def job_id_for(integration_id: int) -> str:
    """The unique id of a connection's sync job; a second request while it lives gets DuplicateJobError."""
    return f"sync-{integration_id}"


def resume_job_id(run: SyncRun) -> str:
    """A waiting run's job id, new for every wait (never the id of the job running now)."""
    return f"{job_id_for(run.integration_id)}-resume-{run.id}-{run.attempts or 0}"


def active_run(integration_id: int) -> SyncRun | None:
    return db.session.scalar(
        select(SyncRun).where(SyncRun.integration_id == integration_id, SyncRun.status.in_(ACTIVE))
        .order_by(SyncRun.id.desc()).limit(1)
    )


def request_sync(integration: Integration, trigger: str = "manual") -> SyncRun:
    """Queue a sync of `integration` unless one is active; returns the run that will do it."""
    run = active_run(integration.id)
    if run is not None and (_job_state(run) != "gone" or _age(run) < timedelta(seconds=30)):
        return run
    if run is not None:
        _finish_failed(run, integration, "The previous sync was lost by the job queue; starting a new one.")
    run = SyncRun(integration_id=integration.id, user_id=integration.user_id, trigger=trigger,
                  status="queued", job_id=job_id_for(integration.id), progress_unit="pages")
    previous_status, integration.status = integration.status, "queued"  # before a worker can pick the job up
    db.session.add(run)
    db.session.commit()
    try:
        _enqueue_unique(run)
    except DuplicateJobError:  # another request queued this connection a moment ago: that run does the work
        db.session.delete(run)
        integration.status = previous_status
        db.session.commit()
        other = active_run(integration.id)
        if other is None:
            raise SyncUnavailable("A sync of this connection is just finishing. Try again in a few seconds.") from None
        return other
    except (RedisError, OSError):
        db.session.delete(run)
        integration.status = previous_status
        db.session.commit()
        raise SyncUnavailable(UNAVAILABLE) from None
    return run


def _enqueue_unique(run: SyncRun) -> None:
    """Enqueue the run's job; a finished or failed job left under the same id is cleared first."""
    queue = get_queue("sync")
    options = dict(_job_options(run, f"sync run {run.id}"), unique=True)
    try:
        queue.enqueue(JOB_FUNC, run.id, **options)
    except DuplicateJobError:
        old = _fetch_job(run.job_id)
        if old is not None and old.get_status(refresh=False) in LIVE_JOB_STATES:
            raise
        if old is not None:
            old.delete()
        queue.enqueue(JOB_FUNC, run.id, **options)


def _job_options(run: SyncRun, description: str) -> dict:
    """How every sync job is enqueued: no result kept, one retry, the failure callback keeps the ledger."""
    return dict(job_id=run.job_id, result_ttl=0, failure_ttl=600, retry=Retry(max=1), description=description,
                job_timeout=current_app.config.get("SYNC_JOB_TIMEOUT", 900),
                on_failure=Callback("activity_hub.jobs.sync.sync_job_failed"))


def execute_run(run_id: int) -> str:
    """The body of a sync job: run the provider through its pages and settle the run's status.

    A run deleted under it (the connection was disconnected) ends as "cancelled": no error, no retry.
    """
    try:
        return _execute(run_id)
    except (StaleDataError, ObjectDeletedError, RunGone):
        db.session.rollback()
        if run_exists(run_id):
            raise
        log.info("sync run %s cancelled: its connection was disconnected", run_id)
        return "cancelled"


def _execute(run_id: int) -> str:
    run = db.session.get(SyncRun, run_id)
    if run is None or run.status in FINISHED or run.integration is None:
        return "skipped"
    integration = run.integration
    user = db.session.get(User, run.user_id)
    source = integration.provider
    _start(run, integration)
    provider = None
    try:
        provider = _provider_for(integration, user)
        cursor, message, days = None, None, set()
        hold = partial(hold_run, run_id)  # the first statement of each write transaction
        for page in provider.fetch(integration.cursor):
            written = write_records(user, source, page.records, hold)
            hold()
            run.progress_done, run.progress_total, run.progress_unit = page.done, page.total, page.unit
            run.fetched += len(page.records)
            run.new += written.new
            run.updated += written.updated + len(written.days - days)
            days |= written.days
            run.heartbeat_at = now_utc()
            cursor = page.cursor if page.cursor is not None else cursor
            message = page.message or message
            db.session.commit()
        hold()
        _succeed(run, integration, cursor, message)
        return "succeeded"
    except RunGone:
        raise
    except RateLimited as exc:
        _wait(run, integration, exc, provider)
        return "waiting"
    except AuthError as exc:
        _finish_failed(run, integration, str(exc), status="needs_reauth")
    except ProviderError as exc:
        _finish_failed(run, integration, str(exc))
    except JobTimeoutException:
        db.session.rollback()
        _finish_failed(run, integration, timeout_message())
    except Exception as exc:  # a bug or a database problem: record it in words, keep details in the log
        db.session.rollback()
        if not run_exists(run_id):
            raise RunGone() from None
        log.exception("sync run %s failed", run_id)
        _finish_failed(run, integration, f"Unexpected error while syncing ({type(exc).__name__}). It was logged; try again.")
    finally:
        if provider is not None:
            provider.http.close()
    return "failed"


def timeout_message() -> str:
    seconds = int(current_app.config.get("SYNC_JOB_TIMEOUT", 900))
    limit = f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"
    return f"The sync timed out: it took longer than {limit} and was stopped. Try again later."


def _provider_for(integration: Integration, user: User):
    """The provider for a run; its options are the connection's settings plus the user's time zone."""
    if integration.provider not in PROVIDERS:
        raise ProviderError(f"{integration.provider} connections are not supported by this server any more.")
    try:
        secret = secret_box().decrypt(integration.credentials_encrypted) if integration.credentials_encrypted else None
    except InvalidToken:
        raise AuthError("The saved credentials cannot be decrypted (the encryption key changed). Reconnect to keep syncing.") from None
    config = current_app.config
    return build_provider(
        integration.provider,
        Credentials(secret=secret, account=integration.account_name, base_url=integration.base_url),
        base_url=config[f"{integration.provider.upper()}_API_URL"],
        timeout=(5.0, float(config.get("HTTP_TIMEOUT", 30))),
        retries=int(config.get("SYNC_HTTP_RETRIES", 3)), backoff=float(config.get("SYNC_HTTP_BACKOFF", 0.5)),
        options={**(integration.settings or {}), "timezone": user.timezone},  # WakaTime's local days
        allow_private_urls=bool(config.get("ALLOW_PRIVATE_PROVIDER_URLS", False)),
    )


def _start(run: SyncRun, integration: Integration) -> None:
    now = now_utc()
    run.status, run.attempts = "running", (run.attempts or 0) + 1
    run.started_at = run.started_at or now
    run.heartbeat_at, run.waiting_until, run.error = now, None, None
    run.progress_done, run.fetched = 0, 0
    integration.status, integration.last_sync_at = "syncing", now
    db.session.commit()


def _succeed(run: SyncRun, integration: Integration, cursor: dict | None, message: str | None) -> None:
    now = now_utc()
    run.status, run.finished_at, run.message, run.heartbeat_at = "succeeded", now, message, now
    if cursor is not None:
        integration.cursor = cursor
    integration.status, integration.last_success_at, integration.last_error = "ok", now, None
    db.session.commit()


def _finish_failed(run: SyncRun, integration: Integration | None, error: str, status: str = "error") -> None:
    run.status, run.error, run.finished_at = "failed", error[:2000], now_utc()
    if integration is not None:
        integration.status, integration.last_error = status, error[:2000]
    db.session.commit()


def _wait(run: SyncRun, integration: Integration, exc: RateLimited, provider) -> None:
    """Re-schedule the run for when the provider allows it; the worker is free meanwhile."""
    when = _next_second(max(exc.retry_at, now_utc() + timedelta(seconds=1)))  # RQ schedules in whole seconds
    name = provider.name if provider is not None else integration.provider
    run.status, run.waiting_until = "waiting", when
    run.message = getattr(exc, "reason", None) or f"{name}'s rate limit"
    run.job_id = resume_job_id(run)
    integration.status = "queued"
    db.session.commit()
    try:
        get_queue("sync").enqueue_at(when, JOB_FUNC, run.id, **_job_options(run, f"sync run {run.id} (resumed)"))
    except (RedisError, OSError):
        _finish_failed(run, integration, f"Had to wait for {run.message}, but the job queue could not be reached. Try again later.")


def _next_second(instant: datetime) -> datetime:
    """`instant` rounded up to a whole second: RQ drops the fraction, which would start the job early."""
    whole = instant.replace(microsecond=0)
    return whole if whole == instant else whole + timedelta(seconds=1)


def _age(run: SyncRun) -> timedelta:
    """Time since the run last showed a sign of life."""
    return now_utc() - (run.heartbeat_at or run.created_at)


def _fetch_job(job_id: str | None) -> Job | None:
    if not job_id:
        return None
    try:
        return Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return None


def _job_state(run: SyncRun) -> str:
    """"alive" when the run's job is queued, scheduled or started; "gone" when not; "unknown" without Redis."""
    try:
        job = _fetch_job(run.job_id)
        status = job.get_status(refresh=False) if job is not None else None
    except (RedisError, OSError):
        return "unknown"
    return "alive" if status in LIVE_JOB_STATES else "gone"


def start_initial_sync(integration: Integration) -> SyncRun | None:
    """Hook for a fresh connection: queue its backfill at once; without Redis, say so and carry on."""
    from flask import flash, has_request_context

    try:
        return request_sync(integration, trigger="connect")
    except SyncUnavailable as exc:
        log.warning("initial sync of integration %s not queued: Redis unavailable", integration.id)
        if has_request_context():
            flash(f"Connected, but the first import could not start. {exc}", "warning")
        return None
