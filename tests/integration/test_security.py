"""CSRF on every state change, cookie flags, security headers, no secrets in pages."""

import pytest

from activity_hub import create_app
from tests.conftest import csrf_token_from


@pytest.fixture
def csrf_client(app_config, app):
    return create_app(dict(app_config, WTF_CSRF_ENABLED=True)).test_client()


def test_forms_without_token_are_refused_in_words(csrf_client):
    resp = csrf_client.post("/signup", data={"email": "a@example.org", "password": "long enough pass"})
    assert resp.status_code == 302
    assert "This form expired or was sent from another site" in csrf_client.get("/login").get_data(as_text=True)


def test_htmx_post_needs_the_header_token(csrf_client):
    page = csrf_client.get("/signup").get_data(as_text=True)
    token = csrf_token_from(page)
    resp = csrf_client.post("/signup", data={"email": "a@example.org", "password": "long enough pass",
                                              "csrf_token": token})
    assert resp.status_code == 302
    settings = csrf_client.get("/settings/").get_data(as_text=True)
    header_token = csrf_token_from(settings.split("<body", 1)[1])
    no_token = csrf_client.post("/settings/profile", data={"timezone": "Europe/Paris"}, headers={"HX-Request": "true"})
    assert no_token.status_code == 403 and "form expired" in no_token.get_data(as_text=True)
    ok = csrf_client.post("/settings/profile", data={"timezone": "Europe/Paris"},
                          headers={"HX-Request": "true", "X-CSRFToken": header_token})
    assert ok.status_code == 200 and "Saved." in ok.get_data(as_text=True)


def test_logout_is_a_post(user_client):
    assert user_client.get("/logout").status_code == 405


def test_security_headers(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "cdn" not in resp.get_data(as_text=True).lower()
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_flags(client):
    resp = client.post("/signup", data={"email": "c@example.org", "password": "long enough pass"})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_when_configured(app_config):
    app = create_app(dict(app_config, SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True))
    resp = app.test_client().post("/signup", data={"email": "d@example.org", "password": "long enough pass"})
    assert "Secure" in resp.headers["Set-Cookie"]


def test_remember_cookie_flags(client):
    client.post("/signup", data={"email": "e@example.org", "password": "long enough pass"})
    client.post("/logout")
    resp = client.post("/login", data={"email": "e@example.org", "password": "long enough pass", "remember": "y"})
    remember = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("remember_token")][0]
    assert "HttpOnly" in remember and "SameSite=Lax" in remember


def test_unknown_pages_are_friendly(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "Page not found" in resp.get_data(as_text=True)


def test_secrets_are_not_rendered(client, app):
    html = client.get("/login").get_data(as_text=True) + client.get("/").get_data(as_text=True)
    assert app.config["SECRET_KEY"] not in html
    assert all(key not in html for key in app.config["ENCRYPTION_KEYS"])


def test_odd_ids_and_numbers_in_urls_answer_without_a_server_error(user_client):
    assert user_client.get("/history/?page=%C2%B2").status_code == 200
    assert user_client.get("/history/rows?page=%C2%B2").status_code in (200, 404)
    for path in ("/upload/99999999999999999999", "/upload/99999999999999999999/badge"):
        assert user_client.get(path).status_code == 404, path
