"""CSV import through the real routes, the real RQ worker (SimpleWorker) and the test database."""

import csv
import html
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import Activity, ImportBatch, User
from activity_hub.services.rows import COLUMN_NAMES, EXAMPLE_ROWS
from tests.conftest import run_jobs, sign_up

HX = {"HX-Request": "true"}
D1, D2, D3 = "2025-01-10", "2025-01-11", "2025-01-12"


def csv_bytes(rows, header=("date", "service", "minutes", "title")) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def upload(client, content: bytes, name="activities.csv", htmx=True):
    return client.post("/upload/", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data", headers=HX if htmx else {})


def latest_batch(app) -> ImportBatch:
    with app.app_context():
        batch = db.session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
        db.session.expunge(batch)
        return batch


def activities(app, **where):
    with app.app_context():
        stmt = select(Activity).order_by(Activity.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Activity, key) == value)
        rows = list(db.session.scalars(stmt))
        for row in rows:
            db.session.expunge(row)
        return rows


def import_and_wait(client, app, batch_id: int):
    resp = client.post(f"/upload/{batch_id}/import", headers=HX)
    assert resp.status_code == 200
    run_jobs(app)
    return client.get(f"/upload/{batch_id}/badge", headers=HX)


GOOD = [(D1, "duolingo", "25", "Spanish"), (D1, "Khan Academy", "40", "Algebra"), (D2, "codecademy", "30", "")]
BAD = [(D3, "duolingo", "0", "nothing"), ("2025-02-30", "anki", "10", "cards")]


def test_page_explains_columns_limits_and_lists_nothing_yet(user_client):
    html = user_client.get("/upload/").get_data(as_text=True)
    for column in COLUMN_NAMES:
        assert f"<code>{column}</code>" in html
    assert "50 MB" in html and "1,000,000 rows" in html
    assert "No imports yet" in html
    assert 'href="/upload/template.csv"' in html


def test_template_is_generated_from_the_column_definitions(user_client):
    resp = user_client.get("/upload/template.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment; filename=activity-template.csv" == resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert tuple(rows[0]) == COLUMN_NAMES
    assert [tuple(r) for r in rows[1:]] == list(EXAMPLE_ROWS)


def test_template_uploads_cleanly(user_client, app):
    upload(user_client, user_client.get("/upload/template.csv").data)
    batch = latest_batch(app)
    assert (batch.status, batch.new_count, batch.invalid_count) == ("previewed", len(EXAMPLE_ROWS), 0)


def test_small_file_is_previewed_at_once_with_row_errors(user_client, app):
    resp = upload(user_client, csv_bytes(GOOD + BAD))
    html = resp.get_data(as_text=True)
    batch = latest_batch(app)
    assert resp.status_code == 200 and resp.headers["HX-Push-Url"] == f"/upload/{batch.id}"
    assert (batch.status, batch.total_rows, batch.new_count, batch.duplicate_count, batch.invalid_count) == (
        "previewed", 5, 3, 0, 2)
    assert "Import 3 new rows" in html
    assert "<td class=\"num\">5</td><td><code>minutes</code></td><td><code>0</code></td>" in html
    assert "is zero; a session lasts at least 1 minute" in html
    assert "2025-02-30" in html and "is not a real date" in html
    assert activities(app) == []  # a preview adds nothing


def test_import_runs_as_a_job_with_a_badge_that_finishes(user_client, app):
    upload(user_client, csv_bytes(GOOD + BAD))
    batch = latest_batch(app)
    resp = user_client.post(f"/upload/{batch.id}/import", headers=HX)
    html = resp.get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in html and "Waiting for a worker" in html
    assert latest_batch(app).status == "queued"
    badge = user_client.get(f"/upload/{batch.id}/badge", headers=HX)
    assert badge.status_code == 200 and "every 1s" in badge.get_data(as_text=True)
    run_jobs(app)
    badge = user_client.get(f"/upload/{batch.id}/badge", headers=HX)
    assert badge.status_code == 286 and badge.headers["HX-Trigger"] == "import-finished"
    assert "hx-trigger" not in badge.get_data(as_text=True) and "3 rows added" in badge.get_data(as_text=True)
    done = latest_batch(app)
    assert (done.status, done.imported_count, done.duplicate_count, done.invalid_count) == ("imported", 3, 0, 2)
    rows = activities(app)
    assert sorted((r.date.isoformat(), r.service, r.minutes, r.title) for r in rows) == [
        (D1, "duolingo", 25, "Spanish"), (D1, "khan-academy", 40, "Algebra"), (D2, "codecademy", 30, "codecademy")]
    assert {(r.source, r.import_batch_id, r.occurred_at) for r in rows} == {("csv", batch.id, None)}
    assert all(len(r.external_id) > 30 for r in rows)
    panel = user_client.get(f"/upload/{batch.id}/panel", headers=HX).get_data(as_text=True)
    assert "Added <strong>3</strong> rows to your history" in panel and "2 invalid rows skipped" in panel


def test_same_file_again_is_all_duplicates_and_a_longer_export_adds_only_new_rows(user_client, app):
    upload(user_client, csv_bytes(GOOD))
    import_and_wait(user_client, app, latest_batch(app).id)
    html = upload(user_client, csv_bytes(GOOD)).get_data(as_text=True)
    again = latest_batch(app)
    assert (again.new_count, again.duplicate_count) == (0, 3)
    assert "Nothing new to import" in html and "/import" not in html
    longer = GOOD + [(D3, "duolingo", "15", "Review")]
    upload(user_client, csv_bytes(longer))
    longer_batch = latest_batch(app)
    assert (longer_batch.new_count, longer_batch.duplicate_count) == (1, 3)
    import_and_wait(user_client, app, longer_batch.id)
    assert len(activities(app)) == 4
    assert latest_batch(app).imported_count == 1


def test_two_identical_sessions_in_one_file_both_count(user_client, app):
    twice = [(D1, "duolingo", "20", "Lesson"), (D1, "Duolingo", "20", "lesson ")]
    upload(user_client, csv_bytes(twice))
    assert latest_batch(app).new_count == 2
    import_and_wait(user_client, app, latest_batch(app).id)
    assert len(activities(app)) == 2
    upload(user_client, csv_bytes(twice + [(D1, "duolingo", "20", "Lesson")]))
    assert (latest_batch(app).new_count, latest_batch(app).duplicate_count) == (1, 2)


def test_invalid_rows_download_has_an_error_column_and_reuploads(user_client, app):
    evil = ("2025-01-13", "duolingo", "-5", "=HYPERLINK(\"http://x\")")
    upload(user_client, csv_bytes(GOOD + BAD + [evil]))
    batch = latest_batch(app)
    resp = user_client.get(f"/upload/{batch.id}/invalid-rows.csv")
    assert resp.status_code == 200 and "activities-invalid-rows.csv" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == [*COLUMN_NAMES, "error"]
    assert rows[1][:4] == list(BAD[0]) and rows[1][4].startswith("line 5: minutes \"0\" is zero")
    assert rows[2][4].startswith("line 6: date \"2025-02-30\" is not a real date")
    assert rows[3][2] == "-5" and rows[3][3].startswith("'=HYPERLINK")  # numbers stay, formulas are defused
    fixed = resp.get_data().replace(b"2025-02-30", b"2025-02-28").replace(b",0,", b",5,")
    upload(user_client, fixed, name="fixed.csv")
    again = latest_batch(app)
    assert (again.new_count, again.invalid_count) == (2, 1)
    assert any('"error"' in w for w in again.warnings)


def test_undo_removes_exactly_the_rows_that_import_added(user_client, app):
    upload(user_client, csv_bytes(GOOD[:2]))
    first = latest_batch(app)
    import_and_wait(user_client, app, first.id)
    upload(user_client, csv_bytes(GOOD))
    second = latest_batch(app)
    import_and_wait(user_client, app, second.id)
    with app.app_context():
        user = db.session.scalar(select(User))
        db.session.add(Activity(user_id=user.id, service="manual", date=date(2025, 1, 10), minutes=5, title="x",
                                source="manual", external_id="m1"))
        db.session.commit()
    assert len(activities(app)) == 4
    resp = user_client.post(f"/upload/{second.id}/undo", headers=HX)
    assert "Undoing" in resp.get_data(as_text=True)
    run_jobs(app)
    badge = user_client.get(f"/upload/{second.id}/badge", headers=HX)
    assert badge.status_code == 286 and badge.headers["HX-Trigger"] == "import-finished"
    left = activities(app)
    assert sorted(r.title for r in left) == ["Algebra", "Spanish", "x"]
    undone = latest_batch(app)
    assert (undone.status, undone.undone_count) == ("undone", 1)
    listing = user_client.get("/upload/list").get_data(as_text=True)
    assert "Undone" in listing and listing.count("Undo this import") == 1  # only the first can still be undone
    user_client.post(f"/upload/{first.id}/undo", headers=HX)
    run_jobs(app)
    assert [r.title for r in activities(app)] == ["x"]
    refused = user_client.post(f"/upload/{first.id}/undo", headers=HX).get_data(as_text=True)
    assert "Only a finished import can be undone." in refused


def test_past_imports_list_names_file_date_and_counts(user_client, app):
    upload(user_client, csv_bytes(GOOD + BAD), name="duo export.csv")
    import_and_wait(user_client, app, latest_batch(app).id)
    html = user_client.get("/upload/").get_data(as_text=True)
    assert "duo export.csv" in html and date.today().isoformat()[:4] in html
    listing = user_client.get("/upload/list").get_data(as_text=True)
    assert "<strong>3</strong> added" in listing and "2 invalid" in listing and "Imported" in listing


def test_cancel_discards_the_batch(user_client, app):
    upload(user_client, csv_bytes(GOOD))
    batch = latest_batch(app)
    resp = user_client.post(f"/upload/{batch.id}/cancel", headers=HX)
    assert resp.status_code == 200 and resp.headers["HX-Push-Url"] == "/upload/"
    with app.app_context():
        assert db.session.get(ImportBatch, batch.id) is None
    assert user_client.get(f"/upload/{batch.id}").status_code == 404


def test_a_double_click_on_import_starts_one_job(user_client, app):
    upload(user_client, csv_bytes(GOOD))
    batch = latest_batch(app)
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    second = user_client.post(f"/upload/{batch.id}/import", headers=HX).get_data(as_text=True)
    assert "This file cannot be imported now." in second
    assert app.extensions["queues"]["imports"].count == 1


def test_large_files_are_checked_by_a_worker_job_with_a_badge(user_client, app):
    app.config["CSV_INLINE_MAX_BYTES"] = 10
    html = upload(user_client, csv_bytes(GOOD + BAD)).get_data(as_text=True)
    batch = latest_batch(app)
    assert batch.status == "uploaded" and 'hx-trigger="every 1s"' in html
    run_jobs(app)
    badge = user_client.get(f"/upload/{batch.id}/badge", headers=HX)
    assert badge.status_code == 286 and badge.headers["HX-Trigger"] == "preview-ready"
    assert (latest_batch(app).status, latest_batch(app).new_count) == ("previewed", 3)


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty"),
    (b"date,service,minutes,title\r\n", "has a header but no rows"),
    (b"date,service,title\n2025-01-01,duolingo,x\n", 'The header has no "minutes" column'),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a text file"),
    ("date,service,minutes,title\n2025-01-01,café,5,x\n".encode("latin-1"), "not UTF-8 text (line 2"),
    ("date,service,minutes\n".encode("utf-16"), "UTF-16"),
])
def test_unreadable_files_are_explained(user_client, app, content, message):
    resp = upload(user_client, content, name="bad.csv")
    assert resp.status_code == 200
    assert message in html.unescape(resp.get_data(as_text=True))
    assert latest_batch(app).status == "rejected"


def test_no_file_chosen_is_explained(user_client):
    resp = user_client.post("/upload/", data={}, content_type="multipart/form-data", headers=HX)
    assert "Choose a CSV file first" in resp.get_data(as_text=True)
    page = user_client.post("/upload/", data={}, content_type="multipart/form-data")
    assert page.status_code == 200 and "Choose a CSV file first" in page.get_data(as_text=True)


def test_plain_form_upload_redirects_to_the_batch_page(user_client, app):
    resp = upload(user_client, csv_bytes(GOOD), htmx=False)
    batch = latest_batch(app)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/upload/{batch.id}"
    assert "Import 3 new rows" in user_client.get(resp.headers["Location"]).get_data(as_text=True)


def test_too_large_upload_gets_a_friendly_413(user_client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    big = csv_bytes([(D1, "duolingo", "25", "x" * 100)] * 30)
    page = upload(user_client, big, htmx=False)
    assert page.status_code == 413 and "Uploads can be at most" in page.get_data(as_text=True)
    fragment = upload(user_client, big)
    assert fragment.status_code == 413 and 'role="alert"' in fragment.get_data(as_text=True)


def test_row_cap_is_configuration(user_client, app):
    app.config["CSV_MAX_ROWS"] = 2
    html = upload(user_client, csv_bytes(GOOD)).get_data(as_text=True)
    assert "more than 2 rows" in html and latest_batch(app).status == "rejected"


def test_future_dates_use_the_users_time_zone(user_client, app):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    kiritimati_today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()  # UTC+14: always "ahead"
    with app.app_context():
        db.session.scalar(select(User)).timezone = "Pacific/Kiritimati"
        db.session.commit()
    rows = [(kiritimati_today.isoformat(), "duolingo", "5", ""), ((kiritimati_today + timedelta(days=1)).isoformat(),
                                                                  "duolingo", "5", "")]
    html = upload(user_client, csv_bytes(rows)).get_data(as_text=True)
    batch = latest_batch(app)
    assert (batch.new_count, batch.invalid_count) == (1, 1)
    assert f"is in the future (today is {kiritimati_today.isoformat()})" in html


def test_other_users_batches_answer_404(client, app):
    sign_up(client, "ada@example.org")
    upload(client, csv_bytes(GOOD))
    batch = latest_batch(app)
    client.post("/logout")
    sign_up(client, "bob@example.org")
    for url in ("", "/panel", "/badge", "/invalid-rows.csv"):
        assert client.get(f"/upload/{batch.id}{url}").status_code == 404, url
    for url in ("/import", "/undo", "/cancel"):
        assert client.post(f"/upload/{batch.id}{url}", headers=HX).status_code == 404, url
    assert "activities.csv" not in client.get("/upload/list").get_data(as_text=True)
    assert latest_batch(app).status == "previewed"


def test_queue_down_is_explained_and_nothing_changes(user_client, app):
    from redis import Redis
    from rq import Queue

    upload(user_client, csv_bytes(GOOD))
    batch = latest_batch(app)
    app.extensions["queues"]["imports"] = Queue("imports", connection=Redis(port=1, socket_connect_timeout=0.2))
    html = user_client.post(f"/upload/{batch.id}/import", headers=HX).get_data(as_text=True)
    assert "not reachable right now" in html
    assert latest_batch(app).status == "previewed"


def test_upload_needs_sign_in(client):
    assert client.get("/upload/").status_code == 302
    assert client.post("/upload/").status_code == 302


def test_the_buttons_work_as_plain_forms_without_javascript(user_client, app):
    upload(user_client, csv_bytes(GOOD), htmx=False)
    batch = latest_batch(app)
    html = user_client.get(f"/upload/{batch.id}").get_data(as_text=True)
    assert f'action="/upload/{batch.id}/import"' in html and f'action="/upload/{batch.id}/cancel"' in html
    resp = user_client.post(f"/upload/{batch.id}/import")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/upload/{batch.id}"
    run_jobs(app)
    assert "Undo this import" in user_client.get(f"/upload/{batch.id}").get_data(as_text=True)
    assert user_client.post(f"/upload/{batch.id}/undo").status_code == 302
    run_jobs(app)
    assert latest_batch(app).status == "undone"
    resp = user_client.post(f"/upload/{batch.id}/cancel")
    assert resp.status_code == 302 and resp.headers["Location"] == "/upload/"


def test_the_list_shows_the_newest_fifty_and_links_to_all(user_client, app):
    with app.app_context():
        user = db.session.scalar(select(User))
        for n in range(52):
            db.session.add(ImportBatch(user_id=user.id, filename=f"file-{n:02d}.csv", file_hash="x", content=b"",
                                       status="rejected"))
        db.session.commit()
    html = user_client.get("/upload/").get_data(as_text=True)
    assert html.count("file-") == 50 and "file-51.csv" in html and "file-00.csv" not in html
    assert "Show all 52 imports" in html
    everything = user_client.get("/upload/?all=1").get_data(as_text=True)
    assert everything.count("file-") == 52 and "Show all" not in everything
