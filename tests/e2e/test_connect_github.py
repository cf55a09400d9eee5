"""Connect GitHub in a real browser: the badge goes Queued -> Syncing -> Synced without a reload, the run
shows in the runs list, a failing run shows its reason and "Try again" works. A real RQ worker (in a
thread, on the test Redis) runs the jobs; the fake GitHub answers slowly so each state is visible."""

import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from activity_hub.queues import QUEUE_NAMES
from tests.fakes.github import FakeEvents, FakeGitHub, json_response, threaded_server, timeline

pytestmark = pytest.mark.e2e
TOKEN = "gho_fake-token-for-tests-1"


class ThreadWorker(SimpleWorker):
    """A SimpleWorker that can run outside the main thread (no signal handlers, timer-based job timeouts)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


class WorkerThread:
    """Works the queues of `app` until stopped; holds jobs while `paused` is clear."""

    def __init__(self, app):
        self.app, self.stop, self.resume = app, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        with self.app.app_context():
            queues = [self.app.extensions["queues"][n] for n in QUEUE_NAMES]
            while not self.stop.is_set():
                if self.resume.wait(0.2):
                    ThreadWorker(queues, connection=self.app.extensions["redis"]).work(burst=True, logging_level="WARNING")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


@pytest.fixture(scope="module")
def slow_github():
    server = threaded_server()
    yield server
    server.stop()


@pytest.fixture
def fake(slow_github):
    slow_github.clear()
    return FakeGitHub(slow_github)


@pytest.fixture
def app_config(app_config, fake):
    return {**app_config, **fake.config(), "SYNC_HTTP_BACKOFF": 0.01, "SYNC_HTTP_RETRIES": 1, "HTTP_TIMEOUT": 5.0}


def shoot(page, name):
    folder = os.environ.get("CONNECT_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_connect_github_and_watch_the_badge(page, live_server, fake, slow_github):
    fake.grant(TOKEN)
    fake.authorize_page()
    events = FakeEvents(slow_github, timeline(250, datetime.now(UTC)), TOKEN, poll_interval=0, delay=1.2)
    badge = page.locator("#badge-github")
    runs = page.locator("#runs-github")
    with WorkerThread(live_server.app) as worker:
        page.goto(live_server.url + "/signup")
        page.get_by_label("Email").fill("mira@example.dev")
        page.get_by_label("Password").fill("a long enough password")
        page.get_by_role("button", name="Create account").click()
        expect(page).to_have_url(re.compile(r"/connect/$"))
        shoot(page, "desktop-empty")
        page.get_by_role("link", name="Connect GitHub").click()
        expect(page.get_by_text("GitHub account mira-okafor connected.")).to_be_visible()
        page.evaluate("window.__noReload = true")
        expect(badge).to_contain_text("Queued")
        worker.resume.set()
        expect(badge).to_contain_text(re.compile(r"Syncing: page [123] of 3"), timeout=15_000)
        shoot(page, "desktop-syncing")
        expect(badge).to_contain_text("Synced just now (250 new)", timeout=15_000)
        expect(runs).to_contain_text("On connect")
        expect(runs.locator("tbody tr").first).to_contain_text("Succeeded")
        expect(runs.locator("tbody tr").first).to_contain_text("250")
        assert badge.get_attribute("hx-trigger") is None, "a finished badge stops polling"

        events.script += [json_response({"message": "Server Error"}, 503) for _ in range(2)]
        page.get_by_role("button", name="Sync now").click()
        expect(badge).to_contain_text("Failed", timeout=15_000)
        expect(badge).to_contain_text("GitHub is having trouble (503)")
        expect(runs.locator("tbody tr").first).to_contain_text("Failed")
        shoot(page, "desktop-failed")
        page.set_viewport_size({"width": 390, "height": 844})
        shoot(page, "phone-failed")
        page.set_viewport_size({"width": 1280, "height": 900})

        events.delay = 0.3
        page.get_by_role("button", name="Try again").click()
        expect(badge).to_contain_text("Synced just now (0 new)", timeout=15_000)
        expect(runs.locator("tbody tr")).to_have_count(3)
        expect(runs.locator("tbody tr").first).to_contain_text("Succeeded")
        assert page.evaluate("window.__noReload") is True, "the page was reloaded"
        shoot(page, "desktop-synced")
        page.set_viewport_size({"width": 390, "height": 844})
        shoot(page, "phone-synced")
