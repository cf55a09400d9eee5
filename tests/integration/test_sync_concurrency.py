"""Web and workers at once on one database: two real worker processes sync three connections while the web
app answers badge polls and "Sync now" clicks. Every run succeeds and no process sees "database is locked"."""

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from activity_hub.extensions import db
from activity_hub.models import GitHubEvent, Integration, SyncRun, User
from activity_hub.services import accounts, sync
from tests.conftest import sign_up, start_worker
from tests.fakes.github import FakeEvents, FakeGitHub, timeline

pytestmark = pytest.mark.slow
TOKEN = "gho_fake-token-for-tests-1"
USERS = 3


@pytest.fixture
def github(github_api):
    return github_api


@pytest.fixture
def app_config(app_config, github):
    return {**app_config, "GITHUB_API_URL": FakeGitHub(github).api_url}  # the API only: no OAuth app needed


def test_workers_and_web_share_the_database_without_lock_errors(app, client, github, tmp_path):
    logins = [f"dev{n}" for n in range(USERS)]
    for n, login in enumerate(logins):
        FakeEvents(github, timeline(300, datetime.now(UTC), first_id=10**10 * (n + 1)), TOKEN, login=login,
                   user_id=1000 + n, poll_interval=0, delay=0.05)
    sign_up(client, "dev0@example.org")  # the web user polls dev0's badge
    with app.app_context():
        for n, login in enumerate(logins):
            user = db.session.scalar(select(User).where(User.email == f"dev{n}@example.org"))
            if user is None:
                user = User(email=f"dev{n}@example.org")
                db.session.add(user)
                db.session.flush()
            integration = accounts.save_github_token(user, accounts.GitHubProfile(1000 + n, login, None), TOKEN)
            db.session.commit()
            sync.request_sync(integration, "scheduled")
    log = tmp_path / "workers.log"
    workers = [start_worker(app, log) for _ in range(2)]
    try:
        deadline, polls, clicks = time.monotonic() + 90, 0, 0
        while time.monotonic() < deadline:
            assert client.get("/connect/github/badge").status_code in (200, 286)
            polls += 1
            if polls % 10 == 0:
                assert client.post("/connect/github/sync", headers={"HX-Request": "true"}).status_code == 200
                clicks += 1
            with app.app_context():
                active = db.session.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status.in_(sync.ACTIVE)))
            if active == 0 and polls > 20:
                break
            time.sleep(0.05)
    finally:
        for proc in workers:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in workers:
            proc.wait(30)
    output = Path(log).read_text()
    assert "locked" not in output.lower(), output[-3000:]
    with app.app_context():
        runs = db.session.scalars(select(SyncRun)).all()
        assert runs and all(r.status == "succeeded" for r in runs), [(r.id, r.status, r.error) for r in runs]
        assert db.session.scalar(select(func.count()).select_from(GitHubEvent)) == 300 * USERS
        assert db.session.scalar(select(func.count()).select_from(Integration).where(Integration.status == "ok")) == USERS
    assert clicks > 0
