"""Settings: profile, time zone, password, account deletion."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from activity_hub.extensions import db
from activity_hub.models import Activity, ImportBatch, Integration, SyncRun, User


def _user(app):
    with app.app_context():
        return db.session.scalar(select(User))


def _add_late_kata(app):
    """A kata completed at 23:30 UTC on 14 March: 15 March in Tokyo."""
    with app.app_context():
        user = db.session.scalar(select(User))
        db.session.add(Activity(user_id=user.id, service="codewars", date=date(2025, 3, 14), minutes=20,
                                title="kata", source="codewars", external_id="k1",
                                occurred_at=datetime(2025, 3, 14, 23, 30, tzinfo=UTC)))
        db.session.commit()


def test_profile_and_time_zone_are_saved(user_client, app):
    resp = user_client.post("/settings/profile", data={"display_name": "Ada L.", "timezone": "Europe/Berlin"})
    assert resp.status_code == 302
    user = _user(app)
    assert (user.display_name, user.timezone) == ("Ada L.", "Europe/Berlin")


def test_unknown_time_zone_is_refused_in_words(user_client, app):
    resp = user_client.post("/settings/profile", data={"timezone": "Mars/Olympus"})
    assert resp.status_code == 400
    assert "is not a time zone name" in resp.get_data(as_text=True)
    assert _user(app).timezone == "UTC"


def test_htmx_profile_save_answers_the_form_fragment(user_client):
    resp = user_client.post("/settings/profile", data={"timezone": "Asia/Tokyo"}, headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and body.lstrip().startswith("<form") and "Saved." in body
    resp = user_client.post("/settings/profile", data={"timezone": "Nowhere"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "is not a time zone name" in resp.get_data(as_text=True)


def test_time_zone_change_moves_days_of_activities_with_an_instant(user_client, app):
    _add_late_kata(app)
    resp = user_client.post("/settings/profile", data={"timezone": "Asia/Tokyo"}, headers={"HX-Request": "1"})
    assert "1 day(s) of activity moved" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Activity.date)) == date(2025, 3, 15)


def test_change_password(user_client):
    resp = user_client.post("/settings/password", data={
        "current_password": "wrong one!!", "new_password": "a brand new secret", "confirm": "a brand new secret"})
    assert resp.status_code == 400 and "current password is not right" in resp.get_data(as_text=True)
    resp = user_client.post("/settings/password", data={
        "current_password": "correct horse battery", "new_password": "short", "confirm": "short"})
    assert "Use at least 10 characters." in resp.get_data(as_text=True)
    resp = user_client.post("/settings/password", data={
        "current_password": "correct horse battery", "new_password": "a brand new secret", "confirm": "a brand new secret"})
    assert resp.status_code == 302
    user_client.post("/logout")
    ok = user_client.post("/login", data={"email": "ada@example.org", "password": "a brand new secret"})
    assert ok.status_code == 302


def test_delete_account_needs_confirmation_and_removes_every_row(user_client, app):
    with app.app_context():
        user = db.session.scalar(select(User))
        integration = Integration(user_id=user.id, provider="codewars", account_name="ada")
        db.session.add(integration)
        db.session.flush()
        db.session.add(SyncRun(integration_id=integration.id, user_id=user.id))
        batch = ImportBatch(user_id=user.id, filename="a.csv", file_hash="x", content=b"date")
        db.session.add(batch)
        db.session.flush()
        db.session.add(Activity(user_id=user.id, service="duolingo", date=date(2025, 1, 1), minutes=5, title="t",
                                source="csv", external_id="e", import_batch_id=batch.id))
        db.session.commit()
    resp = user_client.post("/settings/delete", data={"confirm": "yes"})
    assert resp.status_code == 400 and "Type DELETE" in resp.get_data(as_text=True)
    assert _user(app) is not None
    resp = user_client.post("/settings/delete", data={"confirm": "DELETE"})
    assert resp.status_code == 302
    with app.app_context():
        for model in (User, Integration, SyncRun, ImportBatch, Activity):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    assert user_client.get("/settings/").status_code == 302


def test_github_only_user_adds_an_email_then_sets_a_password(client, app):
    with app.app_context():
        db.session.add(User(github_id=7, github_login="octo"))
        db.session.commit()
        uid, token = db.session.execute(select(User.id, User.session_token)).one()
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{uid}.{token}"
        sess["_fresh"] = True
    resp = client.post("/settings/password", data={"new_password": "a brand new secret", "confirm": "a brand new secret"})
    assert "Add an email address in your profile first" in resp.get_data(as_text=True)
    assert client.post("/settings/profile", data={"email": "Octo@Example.org", "timezone": "UTC"}).status_code == 302
    resp = client.post("/settings/password", data={"new_password": "a brand new secret", "confirm": "a brand new secret"})
    assert resp.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": "octo@example.org", "password": "a brand new secret"}).status_code == 302


def test_email_taken_by_another_account_is_refused(client, app):
    from tests.conftest import sign_up

    sign_up(client, "first@example.org")
    client.post("/logout")
    sign_up(client, "second@example.org")
    resp = client.post("/settings/profile", data={"email": "first@example.org", "timezone": "UTC"})
    assert resp.status_code == 400 and "Another account already uses this email." in resp.get_data(as_text=True)
    resp = client.post("/settings/profile", data={"email": "", "timezone": "UTC"})
    assert "cannot be empty" in resp.get_data(as_text=True)


def test_failed_time_zone_move_changes_nothing(user_client, app):
    def broken_hook(_user):
        raise RuntimeError("recompute failed")

    app.extensions["timezone_hooks"] = [*app.extensions.get("timezone_hooks", []), broken_hook]
    _add_late_kata(app)
    resp = user_client.post("/settings/profile", data={"timezone": "Asia/Tokyo"}, headers={"HX-Request": "1"})
    assert "could not be moved to the new time zone; nothing was changed" in resp.get_data(as_text=True)
    with app.app_context():
        assert _user(app).timezone == "UTC"
        assert db.session.scalar(select(Activity.date)) == date(2025, 3, 14)


def test_password_change_signs_out_other_sessions_and_remember_cookies(app):
    from tests.conftest import sign_up

    here, elsewhere = app.test_client(), app.test_client()
    sign_up(here)
    elsewhere.post("/login", data={"email": "ada@example.org", "password": "correct horse battery", "remember": "y"})
    assert elsewhere.get("/settings/").status_code == 200
    remembered = elsewhere.get_cookie("remember_token")
    assert remembered is not None
    resp = here.post("/settings/password", data={
        "current_password": "correct horse battery", "new_password": "a brand new secret", "confirm": "a brand new secret"})
    assert resp.status_code == 302
    assert here.get("/settings/").status_code == 200, "the session that changed the password stays signed in"
    assert elsewhere.get("/settings/").status_code == 302
    stale = app.test_client()
    stale.set_cookie("remember_token", remembered.value)
    assert stale.get("/settings/").status_code == 302
    badge = elsewhere.get("/connect/codewars/badge", headers={"HX-Request": "true"})
    assert badge.status_code == 286 and "sign" in badge.get_data(as_text=True).lower()
