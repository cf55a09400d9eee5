"""The History page in a real browser: htmx filters with pushed URLs, manual entries that change the
heatmap and totals, delete with undo, and the refresh when a sync finishes."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import Activity, User
from activity_hub.services.timezones import local_today

pytestmark = pytest.mark.e2e


def sign_up_in_browser(page, base):
    page.goto(base + "/signup")
    page.fill("input[name=email]", "ada@example.org")
    page.fill("input[name=password]", "correct horse battery")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r".*/connect/"))


def seed(app):
    """A few weeks of two services, like a sync and an import would leave them; returns the user's today."""
    with app.app_context():
        user = db.session.scalar(select(User))
        today = local_today(user.timezone)
        rows = []
        for back in range(3, 30):
            rows.append(Activity(user_id=user.id, service="duolingo", date=today - timedelta(days=back), minutes=20,
                                 title=f"Spanish {back}", source="csv", external_id=f"d{back}"))
            if back % 3 == 0:
                rows.append(Activity(user_id=user.id, service="github", date=today - timedelta(days=back),
                                     minutes=40, title=f"Pushes {back}", source="github", external_id=f"g{back}"))
        db.session.add_all(rows)
        db.session.commit()
        return user.id, today


def services_in_table(page) -> set[str]:
    return set(page.locator("#history-table td.cell-service").all_inner_texts())


def test_filter_by_service_and_date_then_add_an_activity(live_server, page):
    sign_up_in_browser(page, live_server.url)
    _, today = seed(live_server.app)
    page.goto(live_server.url + "/history/")
    expect(page.locator("#history-table")).to_contain_text("of 36")
    assert services_in_table(page) == {"duolingo", "github"}

    page.locator("label.chip", has_text="github").click()
    page.wait_for_url(re.compile(r".*/history/\?service=github$"))
    expect(page.locator("#history-table")).to_contain_text("1–9 of 9")
    assert services_in_table(page) == {"github"}

    start = (today - timedelta(days=10)).isoformat()
    page.fill("#history-start", start)
    page.locator("#history-start").dispatch_event("change")
    page.wait_for_url(re.compile(rf".*service=github&start={start}$"))
    expect(page.locator("#history-table")).to_contain_text("of 3")
    expect(page.locator('[data-stat="active-days"]')).to_have_text("3")

    page.go_back()
    page.wait_for_url(re.compile(r".*/history/\?service=github$"))
    expect(page.locator("#history-table")).to_contain_text("of 9")
    page.reload()
    expect(page.locator("#history-table")).to_contain_text("of 9")
    expect(page.locator("label.chip", has_text="github").locator("input")).to_be_checked()

    page.locator("[data-clear-filters]").first.click()
    page.wait_for_url(re.compile(r".*/history/$"))
    expect(page.locator("#history-table")).to_contain_text("of 36")

    today_cell = page.locator(f'rect[data-day="{today.isoformat()}"]')
    expect(today_cell).to_have_class(re.compile(r"\bl0\b"))
    expect(page.locator('[data-stat="current-streak"]')).to_have_text("0 days")
    week_before = page.locator('[data-stat="week"]').inner_text()
    page.locator("#add-activity summary").click()
    page.fill("#add-date", today.isoformat())
    page.fill("#add-service", "chess")
    page.fill("#add-minutes", "90")
    page.fill("#add-title", "Endgame study")
    page.locator("#add-activity-form button[type=submit]").click()
    expect(page.locator("#add-activity-form")).to_contain_text("Added 90 min of chess")
    expect(page.locator("#history-table tbody tr").first).to_contain_text("Endgame study")
    expect(page.locator(f'rect[data-day="{today.isoformat()}"]')).to_have_class(re.compile(r"\bl4\b"))
    expect(page.locator('[data-stat="current-streak"]')).to_have_text("1 day")
    expect(page.locator('[data-stat="week"]')).not_to_have_text(week_before)
    expect(page.locator("#history-table")).to_contain_text("of 37")
    expect(page.locator("#history-split")).to_contain_text("chess")
    expect(page.locator("label.chip", has_text="chess")).to_be_visible()


def test_delete_with_undo_and_refresh_when_a_sync_finishes(live_server, page):
    sign_up_in_browser(page, live_server.url)
    uid, today = seed(live_server.app)
    page.goto(live_server.url + "/history/?service=duolingo")
    first_row = page.locator("#history-table tbody tr").first
    expect(first_row).to_contain_text("Spanish 3")
    first_row.get_by_role("button", name=re.compile("Delete")).click()
    toast = page.locator("#flashes .toast")
    expect(toast).to_contain_text("Deleted 20 min of duolingo")
    expect(page.locator("#history-table")).not_to_contain_text("Spanish 3")
    toast.get_by_role("button", name="Undo").click()
    expect(page.locator("#flashes .toast")).to_contain_text("Restored 20 min of duolingo")
    expect(page.locator("#history-table tbody tr").first).to_contain_text("Spanish 3")

    with live_server.app.app_context():
        db.session.add(Activity(user_id=uid, service="duolingo", date=today, minutes=15, title="Synced meanwhile",
                                source="csv", external_id="late"))
        db.session.commit()
    page.evaluate("document.body.dispatchEvent(new CustomEvent('import-finished', {bubbles: true}))")
    expect(page.locator("#history-table tbody tr").first).to_contain_text("Synced meanwhile")
    assert page.url.endswith("/history/?service=duolingo")


def test_a_filter_after_signing_out_elsewhere_goes_to_the_sign_in_page(live_server, page):
    sign_up_in_browser(page, live_server.url)
    seed(live_server.app)
    page.goto(live_server.url + "/history/")
    page.context.clear_cookies()
    page.locator("label.chip", has_text="github").click()
    page.wait_for_url(re.compile(r".*/login\?next="))
    expect(page.locator("input[name=password]")).to_be_visible()
