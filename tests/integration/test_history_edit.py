"""Manual entries, edits, deletions with undo, and hidden synced activities that survive a re-sync."""

import re
from datetime import date, timedelta

from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import Activity
from activity_hub.providers.base import ActivityRecord
from activity_hub.services import activities as sync_writer
from tests.integration.test_history import HX, add, stat, today_for, user_id


def rows(app, uid):
    with app.app_context():
        return db.session.scalars(select(Activity).where(Activity.user_id == uid).order_by(Activity.id)).all()


def test_add_manual_activity_through_htmx(app, user_client):
    uid = user_id(app)
    today = today_for(app, uid)
    resp = user_client.post("/history/activities", headers=HX, data={
        "date": today.isoformat(), "service": "Khan Academy", "minutes": "45", "title": "  Eigen   vectors "})
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "history-changed"
    assert f"Added 45 min of khan-academy on {today.isoformat()}" in resp.get_data(as_text=True)
    [stored] = rows(app, uid)
    assert (stored.source, stored.service, stored.minutes, stored.title, stored.date) == (
        "manual", "khan-academy", 45, "Eigen vectors", today)
    assert stored.occurred_at is None and stored.external_id.startswith("manual:")
    user_client.post("/history/activities", headers=HX, data={"date": today.isoformat(), "service": "khan-academy",
                                                              "minutes": "45", "title": "Eigen vectors"})
    second = rows(app, uid)[1]
    assert second.external_id != stored.external_id  # the same entry twice is two sessions, not a duplicate
    html = user_client.get("/history/").get_data(as_text=True)
    assert stat(html, "active-days") == "1" and "1 h 30 min" in html


def test_manual_activity_is_validated_like_a_csv_row(app, user_client):
    uid = user_id(app)
    tomorrow = today_for(app, uid) + timedelta(days=1)
    resp = user_client.post("/history/activities", headers=HX, data={
        "date": tomorrow.isoformat(), "service": "", "minutes": "0", "title": "x" * 201})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "HX-Trigger" not in resp.headers
    assert "is in the future" in html and "is empty; name the service" in html
    assert "the limit is 200" in html and html.count('aria-invalid="true"') == 4  # one message per field
    assert "Nothing was added" in html
    assert rows(app, uid) == []


def test_add_without_javascript_redirects_back_or_shows_errors(app, user_client):
    uid = user_id(app)
    ok = user_client.post("/history/activities", data={"date": "2024-02-03", "service": "chess", "minutes": "20",
                                                       "title": "", "next": "/history/?service=chess"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/history/?service=chess"
    assert "Added 20 min of chess on 2024-02-03" in user_client.get("/history/").get_data(as_text=True)
    assert rows(app, uid)[0].title == "chess"
    bad = user_client.post("/history/activities", data={"date": "03/02/2024", "service": "chess", "minutes": "20"})
    assert bad.status_code == 400 and "is not a date written as YYYY-MM-DD" in bad.get_data(as_text=True)
    evil = user_client.post("/history/activities", data={"date": "2024-02-03", "service": "chess", "minutes": "5",
                                                         "next": "//evil.example/"})
    assert evil.headers["Location"] == "/history/"


def test_edit_manual_and_csv_activities_inline(app, user_client):
    uid = user_id(app)
    csv_id = add(app, uid, date(2024, 3, 1), 30, "duolingo", source="csv", title="Spanish")
    form = user_client.get(f"/history/activities/{csv_id}/edit", headers=HX).get_data(as_text=True)
    assert form.lstrip().startswith(f'<tr id="activity-{csv_id}" class="editing">') and 'value="Spanish"' in form
    resp = user_client.post(f"/history/activities/{csv_id}", headers=HX, data={
        "date": "2024-03-02", "service": "duolingo", "minutes": "35", "title": "Spanish, again"})
    assert resp.headers["HX-Trigger"] == "history-changed" and "Spanish, again" in resp.get_data(as_text=True)
    stored = rows(app, uid)[0]
    assert (stored.date, stored.minutes, stored.title) == (date(2024, 3, 2), 35, "Spanish, again")
    bad = user_client.post(f"/history/activities/{csv_id}", headers=HX, data={
        "date": "2024-03-02", "service": "duolingo", "minutes": "2000", "title": "x"})
    assert bad.status_code == 200 and "is more than a day" in bad.get_data(as_text=True)
    assert rows(app, uid)[0].minutes == 35
    page = user_client.get(f"/history/activities/{csv_id}/edit?next=/history/?page=1")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert 'href="/history/?page=1">Cancel' in page.get_data(as_text=True)
    hostile = user_client.get(f"/history/activities/{csv_id}/edit?next=javascript:alert(1)").get_data(as_text=True)
    assert "javascript:" not in hostile and 'href="/history/">Cancel' in hostile
    plain = user_client.post(f"/history/activities/{csv_id}", data={
        "date": "2024-03-02", "service": "duolingo", "minutes": "36", "title": "x", "next": "/history/?q=x"})
    assert plain.status_code == 302 and plain.headers["Location"] == "/history/?q=x"


def test_synced_activities_cannot_be_edited_or_deleted_only_hidden(app, user_client):
    uid = user_id(app)
    synced = add(app, uid, date(2024, 3, 1), 30, "codewars", source="codewars", title="Kata")
    resp = user_client.post(f"/history/activities/{synced}", headers=HX, data={
        "date": "2024-03-01", "service": "codewars", "minutes": "999", "title": "Kata"})
    assert "comes from Codewars" in resp.get_data(as_text=True) and "Hide it instead" in resp.get_data(as_text=True)
    gone = user_client.post(f"/history/activities/{synced}/delete", headers=HX)
    assert "cannot be edited or deleted" in gone.get_data(as_text=True)
    assert rows(app, uid)[0].minutes == 30
    html = user_client.get("/history/").get_data(as_text=True)
    row = html[html.index(f'id="activity-{synced}"'):]
    row = row[:row.index("</tr>")]
    assert "Hide" in row and "Edit" not in row and "Delete" not in row


def test_delete_then_undo_from_the_flash(app, user_client):
    uid = user_id(app)
    manual = add(app, uid, date(2024, 3, 1), 30, "chess", source="manual", title="Endgames",
                 external_id="manual:abc")
    resp = user_client.post(f"/history/activities/{manual}/delete", headers=HX, data={"next": "/history/"})
    html = resp.get_data(as_text=True)
    assert resp.headers["HX-Trigger"] == "history-changed"
    assert "Deleted 30 min of chess on 2024-03-01" in html and 'hx-swap-oob="afterbegin:#flashes"' in html
    assert rows(app, uid) == []
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    undo = user_client.post("/history/undo", headers=HX, data={"token": token})
    assert "Restored 30 min of chess" in undo.get_data(as_text=True)
    [back] = rows(app, uid)
    assert (back.external_id, back.title, back.source) == ("manual:abc", "Endgames", "manual")
    again = user_client.post("/history/undo", headers=HX, data={"token": token})
    assert "already back" in again.get_data(as_text=True) and len(rows(app, uid)) == 1
    forged = user_client.post("/history/undo", headers=HX, data={"token": token[:-3] + "abc"})
    assert "not valid" in forged.get_data(as_text=True)


def test_delete_without_javascript_offers_undo_on_the_next_page(app, user_client):
    uid = user_id(app)
    csv_row = add(app, uid, date(2024, 3, 1), 30, "chess", source="csv", title="Openings")
    resp = user_client.post(f"/history/activities/{csv_row}/delete", data={"next": "/history/?service=chess"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/history/?service=chess"
    page = user_client.get("/history/?service=chess").get_data(as_text=True)
    assert "Deleted 30 min of chess on 2024-03-01." in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert "Deleted 30 min" not in user_client.get("/history/").get_data(as_text=True)  # shown once
    user_client.post("/history/undo", data={"token": token})
    assert [r.title for r in rows(app, uid)] == ["Openings"]


def test_hidden_synced_activity_leaves_totals_and_survives_a_resync(app, user_client):
    uid = user_id(app)
    today = today_for(app, uid)
    record = ActivityRecord(external_id=f"wakatime:{today.isoformat()}", service="wakatime", minutes=50,
                            title="Coding", date=today, replace=True)
    with app.app_context():
        sync_writer.write_records(uid, "wakatime", [record], "UTC")
        synced = db.session.scalar(select(Activity.id).where(Activity.user_id == uid))
    assert stat(user_client.get("/history/").get_data(as_text=True), "week") == "50 min"
    resp = user_client.post(f"/history/activities/{synced}/hide", headers=HX)
    assert "no longer counts" in resp.get_data(as_text=True) and resp.headers["HX-Trigger"] == "history-changed"
    html = user_client.get("/history/").get_data(as_text=True)
    assert stat(html, "week") == "0 min" and "1 hidden" in html and f'id="activity-{synced}"' not in html
    # The day grows at the source and the next sync upserts it: the row changes but stays hidden.
    grown = ActivityRecord(external_id=record.external_id, service="wakatime", minutes=80, title="Coding",
                           date=today, replace=True)
    with app.app_context():
        result = sync_writer.write_records(uid, "wakatime", [grown], "UTC")
        assert result.updated == 1
    [row] = rows(app, uid)
    assert row.minutes == 80 and row.hidden is True
    html = user_client.get("/history/").get_data(as_text=True)
    assert stat(html, "week") == "0 min"
    shown = user_client.get("/history/?hidden=1").get_data(as_text=True)
    assert f'id="activity-{synced}" class="is-hidden"' in shown and "Unhide" in shown
    user_client.post(f"/history/activities/{synced}/unhide", headers=HX)
    assert stat(user_client.get("/history/").get_data(as_text=True), "week") == "1 h 20 min"


def test_hide_can_be_undone_from_its_flash(app, user_client):
    uid = user_id(app)
    synced = add(app, uid, date(2024, 3, 1), 30, "github", source="github", title="Pushes")
    html = user_client.post(f"/history/activities/{synced}/hide", headers=HX).get_data(as_text=True)
    assert f'hx-post="/history/activities/{synced}/unhide"' in html and "Undo" in html
    user_client.post(f"/history/activities/{synced}/unhide", headers=HX)
    assert rows(app, uid)[0].hidden is False
