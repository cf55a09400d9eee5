"""GitHub sign-in through authlib against a local fake GitHub over real HTTP (no patching of authlib)."""

import time

import pytest
from sqlalchemy import func, select

from activity_hub.crypto import SecretBox
from activity_hub.extensions import db
from activity_hub.models import Integration, User
from tests.conftest import sign_up
from tests.fakes.github import FakeGitHub, start_oauth


@pytest.fixture
def fake_github(httpserver):
    return FakeGitHub(httpserver)


@pytest.fixture
def app_config(app_config, fake_github):
    return dict(app_config, HTTP_TIMEOUT=1.0, **fake_github.config())


def _callback(client, state, code="fake-code"):
    return client.get("/auth/github/callback", query_string={"code": code, "state": state})


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(User)),
                db.session.scalar(select(func.count()).select_from(Integration)))


def _follow_message(client, resp):
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    return client.get("/login").get_data(as_text=True)


def test_first_sign_in_creates_user_with_encrypted_token(client, app, fake_github):
    token = fake_github.grant()
    resp = _callback(client, start_oauth(client))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/history/")
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.github_id, user.github_login, user.display_name) == (48213907, "mira-okafor", "Mira Okafor")
        integration = db.session.scalar(select(Integration))
        assert integration.provider == "github" and integration.account_name == "mira-okafor"
        assert token not in integration.credentials_encrypted
        assert SecretBox(app.config["ENCRYPTION_KEYS"]).decrypt(integration.credentials_encrypted) == token
    assert client.get("/settings/").status_code == 200


def test_second_sign_in_reuses_the_account(client, app, fake_github):
    fake_github.grant()
    _callback(client, start_oauth(client))
    client.post("/logout")
    _callback(client, start_oauth(client))
    assert _counts(app) == (1, 1)
    assert client.get("/settings/").status_code == 200


def test_password_user_links_github(client, app, fake_github):
    sign_up(client)
    fake_github.grant()
    resp = _callback(client, start_oauth(client))
    assert resp.headers["Location"].endswith("/connect/")
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "ada@example.org" and user.github_id == 48213907
    assert _counts(app) == (1, 1)


def test_github_account_linked_elsewhere_is_refused(client, app, fake_github):
    fake_github.grant()
    _callback(client, start_oauth(client))
    client.post("/logout")
    sign_up(client, "bo@example.org")
    resp = _callback(client, start_oauth(client))
    assert resp.headers["Location"].endswith("/connect/")
    page = client.get("/connect/").get_data(as_text=True)
    assert "already linked to another Activity Hub account" in page
    with app.app_context():
        bo = db.session.scalar(select(User).where(User.email == "bo@example.org"))
        assert bo.github_id is None


def test_cancel_at_github(client, app, fake_github):
    start_oauth(client)
    resp = client.get("/auth/github/callback", query_string={"error": "access_denied", "state": "x"})
    assert "You cancelled signing in with GitHub" in _follow_message(client, resp)
    assert _counts(app) == (0, 0)


def test_state_mismatch(client, app, fake_github):
    fake_github.grant()
    start_oauth(client)
    resp = _callback(client, "forged-state")
    assert "could not be verified" in _follow_message(client, resp)
    assert _counts(app) == (0, 0)


@pytest.mark.parametrize("error, words", [
    ("bad_verification_code", "sign-in code was wrong or expired"),
    ("incorrect_client_credentials", "rejected this server"),
    ("redirect_uri_mismatch", "rejected the callback address"),
])
def test_token_endpoint_errors_sent_with_http_200(client, app, fake_github, error, words):
    fake_github.token_error(error)
    resp = _callback(client, start_oauth(client))
    assert words in _follow_message(client, resp)
    assert _counts(app) == (0, 0)


def test_github_times_out(client, app, fake_github, httpserver):
    def slow(_request):
        time.sleep(1.5)
        return {"access_token": "late"}
    httpserver.expect_request("/login/oauth/access_token").respond_with_handler(slow)
    resp = _callback(client, start_oauth(client))
    assert "did not answer in time" in _follow_message(client, resp)
    assert _counts(app) == (0, 0)


def test_github_unreachable(app_config, fake_github):
    from activity_hub import create_app
    from tests.conftest import free_port
    from tests.fakes.github import start_oauth as begin

    closed = f"http://127.0.0.1:{free_port()}"
    app = create_app(dict(app_config, GITHUB_OAUTH_URL=closed + "/login/oauth", GITHUB_API_URL=closed))
    client = app.test_client()
    resp = _callback(client, begin(client))
    assert "Could not reach GitHub" in _follow_message(client, resp)
    assert _counts(app) == (0, 0)


def test_revoked_token_on_profile_is_explained(client, app, fake_github, httpserver):
    httpserver.expect_request("/login/oauth/access_token", method="POST").respond_with_json(
        {"access_token": "gho_unknown", "token_type": "bearer", "scope": "read:user"})
    fake_github.server.expect_request("/api/user").respond_with_handler(fake_github._user)
    resp = _callback(client, start_oauth(client))
    assert "GitHub sign-in failed" in _follow_message(client, resp)
    assert _counts(app) == (0, 0)


def test_token_never_reaches_a_page(client, fake_github):
    token = fake_github.grant()
    _callback(client, start_oauth(client))
    for path in ("/settings/", "/connect/", "/history/", "/upload/"):
        assert token not in client.get(path).get_data(as_text=True)


def test_button_explains_when_github_is_not_configured(app_config):
    from activity_hub import create_app

    config = {k: v for k, v in app_config.items() if not k.startswith("GITHUB_")}
    client = create_app(config).test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "GitHub sign-in is not configured on this server" in page
    resp = client.get("/auth/github")
    assert resp.status_code == 302
    assert "not configured" in client.get("/login").get_data(as_text=True)
