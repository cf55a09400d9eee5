"""Password accounts through the real routes."""

from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import User
from tests.conftest import sign_up


def test_sign_up_sign_out_and_sign_in_again(client, app):
    resp = sign_up(client, "Ada@Example.org", "correct horse battery")
    assert resp.headers["Location"].endswith("/connect/")
    assert client.get("/connect/").status_code == 200
    client.post("/logout")
    assert client.get("/connect/").status_code == 302
    resp = client.post("/login", data={"email": "ada@example.org", "password": "correct horse battery"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/history/")
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "ada@example.org"
        assert user.password_hash.startswith("scrypt:") and "correct horse" not in user.password_hash


def test_malformed_email_is_explained(client, app):
    resp = client.post("/signup", data={"email": "not-an-email", "password": "long enough pass"})
    assert resp.status_code == 200
    assert "Enter a valid email address" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_taken_email_is_explained(client):
    sign_up(client)
    client.post("/logout")
    resp = client.post("/signup", data={"email": "ADA@example.org", "password": "another long one"})
    assert "An account with this email already exists" in resp.get_data(as_text=True)


def test_short_password_is_explained(client):
    resp = client.post("/signup", data={"email": "bo@example.org", "password": "short"})
    assert "Use at least 10 characters." in resp.get_data(as_text=True)


def test_wrong_password_is_explained(client):
    sign_up(client)
    client.post("/logout")
    resp = client.post("/login", data={"email": "ada@example.org", "password": "wrong password!"})
    assert resp.status_code == 200
    assert "That email and password do not match an account." in resp.get_data(as_text=True)
    assert client.get("/history/").status_code == 302


def test_next_is_followed_only_when_local(client):
    sign_up(client)
    client.post("/logout")
    creds = {"email": "ada@example.org", "password": "correct horse battery"}
    resp = client.post("/login?next=/settings/", data=creds)
    assert resp.headers["Location"] == "/settings/"
    for evil in ("//evil.com", "/\\evil.com", "https://evil.com/", "/\r\nevil", "\\\\evil.com"):
        client.post("/logout")
        resp = client.post("/login", query_string={"next": evil}, data=creds)
        assert resp.headers["Location"] == "/history/", evil


def test_pages_need_sign_in(client):
    for path in ("/connect/", "/upload/", "/history/", "/settings/"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"]
