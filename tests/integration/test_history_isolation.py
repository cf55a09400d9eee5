"""Strict per-user isolation: every History route answers 404 for another user's activity ids."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import Activity
from tests.conftest import sign_up
from tests.integration.test_history import HX, add, user_id

ROUTES = [
    ("get", "/history/activities/{id}/row"),
    ("get", "/history/activities/{id}/edit"),
    ("post", "/history/activities/{id}"),
    ("post", "/history/activities/{id}/delete"),
    ("post", "/history/activities/{id}/hide"),
    ("post", "/history/activities/{id}/unhide"),
]


@pytest.fixture
def two_users(app, client):
    """Bo owns one manual and one synced activity; the client ends signed in as Ada."""
    sign_up(client, "bo@example.org", "another long password")
    bo = user_id(app, "bo@example.org")
    ids = [add(app, bo, date(2024, 5, 1), 15, "chess", source="manual", title="Bo manual"),
           add(app, bo, date(2024, 5, 2), 25, "github", source="github", title="Bo synced")]
    client.post("/logout")
    sign_up(client)
    return client, bo, ids


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("htmx", [False, True])
def test_routes_with_another_users_id_answer_404_and_change_nothing(app, two_users, method, path, htmx):
    client, bo, ids = two_users
    data = {"date": "2024-05-01", "service": "chess", "minutes": "999", "title": "taken over"}
    for activity_id in ids:
        resp = getattr(client, method)(path.format(id=activity_id), data=data if method == "post" else None,
                                       headers=HX if htmx else {})
        assert resp.status_code == 404, (path, activity_id)
        assert "Bo manual" not in resp.get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalars(select(Activity).where(Activity.user_id == bo).order_by(Activity.id)).all()
        assert [(a.minutes, a.title, a.hidden) for a in stored] == [(15, "Bo manual", False), (25, "Bo synced", False)]


def test_unknown_ids_answer_404_too(two_users):
    client, _, _ = two_users
    assert client.get("/history/activities/999999/edit").status_code == 404
    assert client.post(f"/history/activities/{10**30}/delete").status_code == 404


def test_lists_totals_and_exports_show_only_ones_own_rows(app, two_users):
    client, _, _ = two_users
    ada = user_id(app)
    add(app, ada, date(2024, 5, 1), 40, "chess", source="manual", title="Ada manual")
    for url in ("/history/", "/history/?service=chess", "/history/rows", "/history/export.csv", "/history/export.json",
                "/history/?hidden=1"):
        body = client.get(url).get_data(as_text=True)
        assert "Ada manual" in body and "Bo manual" not in body and "Bo synced" not in body, url
    html = client.get("/history/").get_data(as_text=True)
    assert 'data-stat="active-days">1<' in html and "github" not in html


def test_an_undo_token_only_works_for_its_owner(app, client):
    sign_up(client, "bo@example.org", "another long password")
    bo = user_id(app, "bo@example.org")
    bo_row = add(app, bo, date(2024, 5, 1), 15, "chess", source="manual", title="Bo manual")
    html = client.post(f"/history/activities/{bo_row}/delete", headers=HX).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    client.post("/logout")
    sign_up(client)
    resp = client.post("/history/undo", headers=HX, data={"token": token})
    assert "not valid" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Activity).where(Activity.title == "Bo manual")) is None


def test_status_only_reports_ones_own_runs_and_imports(app, two_users):
    from activity_hub.models import ImportBatch, Integration, SyncRun

    client, bo, _ = two_users
    with app.app_context():
        integration = Integration(user_id=bo, provider="codewars", status="syncing")
        db.session.add(integration)
        db.session.flush()
        db.session.add(SyncRun(integration_id=integration.id, user_id=bo, status="running"))
        db.session.add(ImportBatch(user_id=bo, filename="bo-secret.csv", file_hash="x", content=b"", status="importing"))
        db.session.commit()
    body = client.get("/history/status?since=x").get_data(as_text=True)
    page = client.get("/history/").get_data(as_text=True)
    for html in (body, page):
        assert "Updating from" not in html and "bo-secret.csv" not in html and "every 60s" in html
