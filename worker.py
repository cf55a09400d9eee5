"""Background processes: `python worker.py` runs an RQ worker, `python worker.py scheduler` the scheduler."""

import os
import sys
import time
import warnings


def run_worker() -> None:
    """An RQ worker on the sync, imports and default queues, inside an app context.

    Jobs run in a forked work horse; pooled database connections must not cross the fork, so the child
    drops the parent's pool. Short heartbeat and maintenance intervals let an abandoned job (a worker
    killed mid-run) be noticed within about two minutes instead of the default ten or more.
    """
    from rq import Worker

    from activity_hub import create_app
    from activity_hub.extensions import db
    from activity_hub.queues import QUEUE_NAMES, get_redis

    app = create_app()
    app.app_context().push()
    os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
    worker = Worker(
        list(QUEUE_NAMES), connection=get_redis(),
        job_monitoring_interval=10, worker_ttl=60, maintenance_interval=30,
    )
    worker.work(with_scheduler=True, logging_level=os.environ.get("LOG_LEVEL", "INFO"))


def run_scheduler() -> None:
    """rq-scheduler, with the periodic job table registered idempotently first. Runs in UTC."""
    warnings.filterwarnings("ignore", category=FutureWarning, module="rq_scheduler")
    os.environ["TZ"] = "UTC"
    time.tzset()
    from activity_hub import create_app
    from activity_hub.schedule import make_scheduler, register_periodic_jobs

    app = create_app()
    with app.app_context():
        scheduler = make_scheduler()
        changes = register_periodic_jobs(scheduler)
        print(f"scheduler: periodic jobs registered ({changes})", flush=True)
    scheduler.run()


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "worker"
    if command == "scheduler":
        run_scheduler()
    elif command == "worker":
        run_worker()
    else:
        sys.exit(f"usage: python worker.py [worker|scheduler] (got {command!r})")
