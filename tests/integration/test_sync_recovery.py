"""A real `python worker.py` is SIGKILLed in the middle of a sync; RQ notices the abandoned job, the run is
retried from the start by a fresh worker, and nothing is stored twice. Takes about 80 s: RQ keeps an
abandoned job's registry entry for the heartbeat interval plus 60 s before anyone may call it dead."""

import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from activity_hub.extensions import db
from activity_hub.jobs import maintenance
from activity_hub.models import Activity, GitHubEvent, Integration, SyncRun, User
from activity_hub.services import accounts, sync
from tests.conftest import start_worker as start_real_worker
from tests.fakes.github import PROFILE, FakeEvents, FakeGitHub, timeline

pytestmark = pytest.mark.slow
TOKEN = "gho_fake-token-for-tests-1"


@pytest.fixture
def github(github_api):
    return github_api


@pytest.fixture
def app_config(app_config, github):
    return {**app_config, "GITHUB_API_URL": FakeGitHub(github).api_url}  # the API only: no OAuth app needed


def start_worker(app, log: Path) -> subprocess.Popen:
    return start_real_worker(app, log, HTTP_TIMEOUT="30", LOG_LEVEL="INFO")


def kill_everything(proc: subprocess.Popen) -> None:
    """SIGKILL a worker and all its descendants at once, like a machine losing power."""
    import psutil

    family = psutil.Process(proc.pid).children(recursive=True)
    for child in family:
        child.send_signal(signal.SIGKILL)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    psutil.wait_procs(family, timeout=10)


def wait_for(condition, timeout: float, what: str, tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick:
            tick()
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def run_state(app, run_id):
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        return run.status, run.attempts, run.fetched


def test_sigkilled_worker_mid_sync_is_retried_without_duplicates(app, github, tmp_path):
    events = FakeEvents(github, timeline(250, datetime.now(UTC)), TOKEN, poll_interval=0)
    events.gate, events.gate_page = threading.Event(), 2  # page 2 hangs until released
    with app.app_context():
        user = User(email="mira@example.dev")
        db.session.add(user)
        db.session.flush()
        integration = accounts.save_github_token(user, accounts.GitHubProfile(PROFILE["id"], PROFILE["login"], None), TOKEN)
        db.session.commit()
        run_id = sync.request_sync(integration, "manual").id
    log = tmp_path / "worker.log"
    first = start_worker(app, log)
    try:
        wait_for(lambda: any(r["args"].get("page") == "2" for r in events.requests), 60, "page 2 to be asked for")
        assert run_state(app, run_id)[:2] == ("running", 1)
        kill_everything(first)  # the worker, its work horse (own session) and its scheduler, mid-request
    finally:
        if first.poll() is None:
            kill_everything(first)
    events.gate_page = None
    events.gate.set()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GitHubEvent)) == 100  # page 1 was written
    assert run_state(app, run_id)[0] == "running"  # nobody knows yet

    second = start_worker(app, log)
    try:
        def tick():
            with app.app_context():
                maintenance()  # what the scheduler runs every minute

        wait_for(lambda: run_state(app, run_id)[0] in ("succeeded", "failed"), 150, "recovery", tick)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)
    status, attempts, fetched = run_state(app, run_id)
    assert (status, attempts, fetched) == ("succeeded", 2, 250), log.read_text()[-3000:]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GitHubEvent)) == 250
        keys = db.session.scalars(select(Activity.external_id)).all()
        assert len(keys) == len(set(keys)) > 0
        run = db.session.get(SyncRun, run_id)
        assert run.new == 250  # the first attempt's 100 plus the retry's 150
        assert db.session.get(Integration, run.integration_id).status == "ok"
