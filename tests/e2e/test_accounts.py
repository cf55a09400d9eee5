"""Accounts in a real browser: sign up, sign out, sign in, change time zone through htmx with CSRF."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import User

pytestmark = pytest.mark.e2e


def test_sign_up_sign_out_sign_in_and_change_time_zone(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill("nina@example.org")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Use at least 10 characters.")).to_be_visible()
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/connect/$"))
    expect(page.get_by_text("Welcome to Activity Hub!")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.get_by_label("Email").fill("nina@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/history/$"))

    page.get_by_role("link", name="Settings").click()
    csrf_headers = []
    page.on("request", lambda r: r.method == "POST" and csrf_headers.append(r.headers.get("x-csrftoken")))
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#profile-form").get_by_role("status")).to_contain_text("Time zone is now Europe/Lisbon")
    assert csrf_headers and csrf_headers[0], "the htmx POST carried no X-CSRFToken header"
    assert page.url.endswith("/settings/"), "htmx swapped the form in place, no navigation"
    with live_server.app.app_context():
        assert db.session.scalar(select(User.timezone)) == "Europe/Lisbon"


def test_htmx_request_with_a_stale_token_shows_a_message(page, live_server):
    page.goto(live_server.url + "/signup")
    page.get_by_label("Email").fill("omar@example.org")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    page.goto(live_server.url + "/settings/")
    page.evaluate("""() => {
        document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRFToken': 'stale'}));
        document.querySelector('#profile-form input[name=csrf_token]').value = 'stale';
    }""")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#flashes")).to_contain_text("This form expired or was sent from another site")
