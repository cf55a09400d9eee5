"""The Connect page and its fragments through the real routes: cards, badge states, Sync now, Disconnect."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from sqlalchemy import func, select

from activity_hub import create_app
from activity_hub.extensions import db
from activity_hub.models import Activity, GitHubEvent, Integration, SyncRun, User
from activity_hub.providers import SOURCES, is_registered
from activity_hub.services import accounts
from tests.conftest import run_jobs, sign_up
from tests.fakes.github import PROFILE, FakeEvents, FakeGitHub, start_oauth, timeline

TOKEN = "gho_fake-token-for-tests-1"


@pytest.fixture
def fake(httpserver):
    return FakeGitHub(httpserver)


@pytest.fixture
def app_config(app_config, fake):
    return {**app_config, **fake.config(), "SYNC_HTTP_BACKOFF": 0.01, "HTTP_TIMEOUT": 1.0}


def link_github(app, email="ada@example.org") -> int:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        profile = accounts.GitHubProfile(id=PROFILE["id"], login=PROFILE["login"], name=None)
        integration = accounts.save_github_token(user, profile, TOKEN)
        db.session.commit()
        return integration.id


def sync_queue(app) -> Queue:
    return app.extensions["queues"]["sync"]


def test_page_has_a_card_per_source(user_client):
    html = user_client.get("/connect/").get_data(as_text=True)
    cards = {part.split('"', 1)[0]: part for part in html.split('source-card" id="source-')[1:]}
    for slug, info in SOURCES.items():
        assert info.imports[:30] in cards[slug]
        assert ("Coming soon" in cards[slug]) is (not is_registered(slug))
    assert 'href="/auth/github"' in html and "Connect GitHub" in html
    assert html.count("Not connected") == sum(1 for slug in SOURCES if is_registered(slug))
    assert "Syncing is unavailable" not in html


def test_connecting_github_starts_the_backfill_at_once(client, app, fake, httpserver):
    fake.grant(TOKEN)
    FakeEvents(httpserver, timeline(40, datetime.now(UTC)), TOKEN, poll_interval=0)
    sign_up(client)
    client.get("/auth/github/callback", query_string={"code": "c", "state": start_oauth(client)})
    with app.app_context():
        run = db.session.scalar(select(SyncRun))
        assert (run.trigger, run.status) == ("connect", "queued")
        assert sync_queue(app).job_ids == [f"sync-{run.integration_id}"]
    html = client.get("/connect/").get_data(as_text=True)
    assert "Connected as <strong>mira-okafor</strong>" in html
    assert 'hx-trigger="every 2s"' in html and ">Queued<" in html.replace('</span>Queued', '>Queued')
    run_jobs(app)
    resp = client.get("/connect/github/badge", headers={"HX-Request": "true"})
    assert resp.status_code == 286
    body = resp.get_data(as_text=True)
    assert "Synced just now (40 new)" in body and "hx-trigger" not in body
    assert json.loads(resp.headers["HX-Trigger"]) == {"sync-finished": {"provider": "github"},
                                                     "sync-finished-github": {"state": "synced"}}
    runs = client.get("/connect/github/runs").get_data(as_text=True)
    assert "On connect" in runs and "Succeeded" in runs and ">40<" in runs


def test_sync_now_twice_queues_one_job(user_client, app):
    link_github(app)
    first = user_client.post("/connect/github/sync", headers={"HX-Request": "true"})
    second = user_client.post("/connect/github/sync", headers={"HX-Request": "true"})
    for resp in (first, second):
        assert resp.status_code == 200 and "Queued" in resp.get_data(as_text=True)
        assert 'hx-trigger="every 2s"' in resp.get_data(as_text=True)
    assert len(sync_queue(app)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 1


def test_sync_now_without_htmx_redirects_with_a_message(user_client, app):
    link_github(app)
    resp = user_client.post("/connect/github/sync")
    assert resp.status_code == 302
    assert "GitHub sync queued." in user_client.get("/connect/").get_data(as_text=True)


def test_badge_states_in_words(user_client, app):
    iid = link_github(app)
    assert "Not synced yet" in user_client.get("/connect/github/badge").get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User))
        user.timezone = "Asia/Tokyo"
        until = datetime(2030, 1, 2, 5, 5, tzinfo=UTC)
        run = SyncRun(integration_id=iid, user_id=user.id, status="running", progress_done=2, progress_total=3)
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    syncing = user_client.get("/connect/github/badge")
    assert syncing.status_code == 200 and "Syncing: page 2 of 3" in syncing.get_data(as_text=True)
    assert '<progress value="2" max="3"' in syncing.get_data(as_text=True)
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        run.status, run.waiting_until, run.message = "waiting", until, "GitHub's rate limit"
        db.session.commit()
    assert "Waiting for GitHub&#39;s rate limit until 14:05" in user_client.get("/connect/github/badge").get_data(as_text=True)
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        run.status, run.error = "failed", "GitHub is having trouble (502); will try again later"
        db.session.commit()
    failed = user_client.get("/connect/github/badge")
    assert failed.status_code == 286
    assert "GitHub is having trouble (502)" in failed.get_data(as_text=True) and "Try again" in failed.get_data(as_text=True)
    with app.app_context():
        db.session.get(Integration, iid).status = "needs_reauth"
        db.session.get(Integration, iid).last_error = "GitHub rejected the saved credentials (401). Reconnect to keep syncing."
        db.session.commit()
    reauth = user_client.get("/connect/github/badge").get_data(as_text=True)
    assert "Needs reconnect" in reauth and 'href="/auth/github"' in reauth


def test_unknown_source_is_404_and_unconnected_sync_explains(user_client):
    assert user_client.get("/connect/myspace/badge").status_code == 404
    assert user_client.post("/connect/myspace/sync").status_code == 404
    resp = user_client.post("/connect/github/sync", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "Connect GitHub first." in resp.get_data(as_text=True)


def test_a_user_sees_only_their_own_connection(client, app):
    sign_up(client, "other@example.org")
    link_github(app, "other@example.org")
    client.post("/logout")
    sign_up(client, "ada@example.org")
    assert "Not connected" in client.get("/connect/github/badge").get_data(as_text=True)
    assert "Connect GitHub first." in client.post("/connect/github/sync", headers={"HX-Request": "true"}).get_data(as_text=True)
    client.post("/connect/github/disconnect", data={"activities": "delete"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Integration)) == 1


def _with_github_data(app, iid):
    with app.app_context():
        user = db.session.scalar(select(User))
        now = datetime.now(UTC)
        db.session.add(GitHubEvent(user_id=user.id, event_id="1", type="PushEvent", created_at=now))
        db.session.add(Activity(user_id=user.id, service="github", date=now.date(), minutes=30, title="1 push",
                                source="github", external_id=f"github:{now.date()}"))
        db.session.add(Activity(user_id=user.id, service="duolingo", date=now.date(), minutes=5, title="x",
                                source="csv", external_id="row-1"))
        db.session.add(SyncRun(integration_id=iid, user_id=user.id, status="succeeded"))
        db.session.commit()


@pytest.mark.parametrize("choice,left", [("keep", 2), ("delete", 1)])
def test_disconnect_keeps_or_deletes_that_sources_activities(user_client, app, choice, left):
    iid = link_github(app)
    _with_github_data(app, iid)
    page = user_client.get("/connect/").get_data(as_text=True)
    assert "What should happen to the 1 GitHub activity" in page
    resp = user_client.post("/connect/github/disconnect", data={"activities": choice})
    assert resp.status_code == 302
    flash = user_client.get("/connect/").get_data(as_text=True)
    assert ("stay in your history" if choice == "keep" else "its 1 activity deleted") in flash
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Integration)) == 0
        assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 0
        assert db.session.scalar(select(func.count()).select_from(Activity)) == left
        assert db.session.scalar(select(func.count()).select_from(GitHubEvent)) == (1 if choice == "keep" else 0)


def test_without_redis_the_page_renders_and_sync_now_explains(app_config, app):
    down = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    client = down.test_client()
    sign_up(client)
    link_github(down)
    page = client.get("/connect/")
    assert page.status_code == 200 and "Syncing is unavailable right now" in page.get_data(as_text=True)
    resp = client.post("/connect/github/sync", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert "the background job queue (Redis) cannot be reached" in resp.get_data(as_text=True)
    with down.app_context():
        assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 0
    plain = client.post("/connect/github/sync")
    assert plain.status_code == 302 and "cannot be reached" in client.get("/connect/").get_data(as_text=True)


def test_connect_without_redis_still_signs_in_and_says_so(app_config, app, fake):
    fake.grant(TOKEN)
    down = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    client = down.test_client()
    resp = client.get("/auth/github/callback", query_string={"code": "c", "state": start_oauth(client)})
    assert resp.status_code == 302
    assert "the first import could not start" in client.get("/connect/").get_data(as_text=True)


def test_waiting_badge_keeps_polling(user_client, app):
    iid = link_github(app)
    with app.app_context():
        user = db.session.scalar(select(User))
        db.session.add(SyncRun(integration_id=iid, user_id=user.id, status="waiting", message="GitHub's poll interval",
                               waiting_until=datetime.now(UTC) + timedelta(minutes=1)))
        db.session.commit()
    resp = user_client.get("/connect/github/badge")
    assert resp.status_code == 200 and "HX-Trigger" not in resp.headers
    assert 'hx-trigger="every 2s"' in resp.get_data(as_text=True)


def test_badge_after_sign_out_stops_polling_and_says_so(user_client):
    user_client.post("/logout")
    polled = user_client.get("/connect/github/badge", headers={"HX-Request": "true"})
    assert polled.status_code == 286 and "Sign in again" in polled.get_data(as_text=True)
    assert user_client.get("/connect/github/badge").status_code == 302


def test_queued_sync_without_any_worker_says_so(user_client, app):
    link_github(app)
    page = user_client.get("/connect/").get_data(as_text=True)
    assert "No background worker is running" in page
    badge = user_client.post("/connect/github/sync", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Queued" in badge
    polled = user_client.get("/connect/github/badge").get_data(as_text=True)
    assert "the sync starts when one does" in polled
