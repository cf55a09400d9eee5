"""Connecting WakaTime in a real browser: a bad key is refused in words and nothing is saved; a good key
connects, the first import runs, and the live badge reaches Synced with the number of imported days."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from activity_hub.extensions import db
from activity_hub.models import Integration
from tests.conftest import run_jobs
from tests.fakes.wakatime import FakeWakaTime

pytestmark = pytest.mark.e2e


@pytest.fixture
def waka(httpserver):
    return FakeWakaTime(httpserver, today=datetime.now(UTC).date())


@pytest.fixture
def app_config(app_config, waka):
    return {**app_config, "WAKATIME_API_URL": waka.base_url, "SYNC_HTTP_RETRIES": 1, "SYNC_HTTP_BACKOFF": 0.01}


def integrations(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Integration))


def test_connect_wakatime_bad_key_then_good_key_reaches_synced(page, live_server, waka):
    active_days = waka.add_year()
    page.goto(live_server.url + "/signup")
    page.get_by_label("Email").fill("mira@example.dev")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/connect/$"))

    card = page.locator("#source-wakatime")
    card.get_by_label("API key").fill("waka_this-is-not-my-key")
    card.get_by_role("button", name="Connect WakaTime").click()
    expect(card.get_by_role("alert")).to_have_text("WakaTime rejected this API key")
    expect(card.get_by_label("API key")).to_be_focused()  # on a phone the card may be far down the page
    assert integrations(live_server.app) == 0
    assert "waka_this-is-not-my-key" not in page.content()

    card.get_by_label("API key").fill(waka.api_key)
    card.get_by_role("button", name="Connect WakaTime").click()
    expect(page.get_by_text("WakaTime connected")).to_be_visible()
    expect(card).to_contain_text("••••" + waka.api_key[-4:])
    assert waka.api_key not in page.content()
    expect(card.locator(".sync-badge")).to_have_attribute("data-state", re.compile("queued|syncing"))

    run_jobs(live_server.app)  # the worker's part, in this process; the page keeps polling the badge
    badge = card.locator(".sync-badge")
    expect(badge).to_have_attribute("data-state", "synced", timeout=15_000)
    expect(badge).to_contain_text(f"Synced just now ({active_days} new)")
    expect(card.locator(".sync-runs")).to_contain_text("Succeeded")
