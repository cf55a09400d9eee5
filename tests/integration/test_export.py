"""CSV and JSON export of the filtered view: template columns plus source, neutralised formulas, streaming,
and a round trip through the real CSV import into a new account with the same totals."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import Activity
from activity_hub.services import csv_batches
from activity_hub.services.export import csv_chunks
from activity_hub.services.history import HistoryFilter
from tests.conftest import run_jobs, sign_up
from tests.integration.test_history import above_table, add, today_for, user_id


def read_csv(body: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body)))


def test_csv_export_has_the_template_columns_plus_source_and_streams(app, user_client):
    uid = user_id(app)
    add(app, uid, date(2024, 5, 1), 15, "duolingo", source="csv", title="Spanish, with a comma")
    add(app, uid, date(2024, 5, 2), 25, "github", source="github", title="Pushes")
    add(app, uid, date(2024, 5, 3), 99, "github", source="github", title="Hidden day", hidden=True)
    resp = user_client.get("/history/export.csv")
    assert resp.status_code == 200 and resp.is_streamed
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    assert resp.headers["Content-Disposition"].endswith('.csv"') and resp.headers["Cache-Control"] == "no-store"
    body = resp.get_data(as_text=True)
    assert body.splitlines()[0] == "date,service,minutes,title,source"
    assert read_csv(body) == [
        {"date": "2024-05-01", "service": "duolingo", "minutes": "15", "title": "Spanish, with a comma", "source": "csv"},
        {"date": "2024-05-02", "service": "github", "minutes": "25", "title": "Pushes", "source": "github"},
    ]
    with_hidden = read_csv(user_client.get("/history/export.csv?hidden=1").get_data(as_text=True))
    assert [r["title"] for r in with_hidden][-1] == "Hidden day"


def test_export_follows_the_filters(app, user_client):
    uid = user_id(app)
    add(app, uid, date(2024, 5, 1), 15, "duolingo", title="Spanish")
    add(app, uid, date(2024, 6, 1), 20, "duolingo", title="French")
    add(app, uid, date(2024, 6, 2), 30, "chess", source="manual", title="Endgames")
    rows = read_csv(user_client.get("/history/export.csv?service=duolingo&start=2024-05-15").get_data(as_text=True))
    assert [r["title"] for r in rows] == ["French"]
    rows = read_csv(user_client.get("/history/export.csv?q=end").get_data(as_text=True))
    assert [r["title"] for r in rows] == ["Endgames"]
    html = user_client.get("/history/?service=duolingo").get_data(as_text=True)
    assert 'href="/history/export.csv?service=duolingo"' in html and 'href="/history/export.json?service=duolingo"' in html


def test_formula_cells_are_neutralised_in_text_columns_only(app, user_client):
    uid = user_id(app)
    for i, title in enumerate(("=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tTab", "\rCR", "plain")):
        add(app, uid, date(2024, 5, 1) + timedelta(days=i), 10 + i, "duolingo", title=title)
    rows = read_csv(user_client.get("/history/export.csv").get_data(as_text=True))
    titles = [r["title"] for r in rows]
    assert titles == ["'=HYPERLINK(\"http://x\")", "'+1", "'-1", "'@SUM(A1)", "'\tTab", "'\rCR", "plain"]
    assert [r["minutes"] for r in rows] == [str(10 + i) for i in range(7)]  # numbers stay numbers


def test_json_export_of_the_same_view(app, user_client):
    uid = user_id(app)
    instant = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    add(app, uid, date(2024, 5, 1), 15, "codewars", source="codewars", title="=kata", occurred_at=instant)
    add(app, uid, date(2024, 5, 2), 5, "duolingo", title="Spanish")
    resp = user_client.get("/history/export.json?service=codewars")
    assert resp.mimetype == "application/json" and resp.is_streamed
    assert json.loads(resp.get_data(as_text=True)) == [{
        "date": "2024-05-01", "service": "codewars", "minutes": 15, "title": "=kata", "source": "codewars",
        "occurred_at": "2024-05-01T12:30:00+00:00", "hidden": False}]
    assert json.loads(user_client.get("/history/export.json?q=nothing-matches").get_data(as_text=True)) == []


def test_export_is_produced_in_batches_not_all_at_once(app, user_client):
    uid = user_id(app)
    with app.app_context():
        db.session.add_all(Activity(user_id=uid, service="duolingo", date=date(2024, 1, 1), minutes=1,
                                    title=f"row {i}", source="csv", external_id=f"k{i}") for i in range(25))
        db.session.commit()
        chunks = list(csv_chunks(uid, HistoryFilter(), batch=10))
    assert len(chunks) >= 3 and all(c.count("\r\n") <= 11 for c in chunks)
    assert sum(c.count("\r\n") for c in chunks) == 26


def test_export_reimports_into_a_new_account_with_the_same_totals(app, client):
    sign_up(client)
    ada = user_id(app)
    today = today_for(app, ada)
    for i, (back, minutes, service, source, title) in enumerate([
        (0, 30, "duolingo", "csv", "Spanish"), (0, 30, "duolingo", "csv", "Spanish"),
        (1, 45, "github", "github", "=cmd|' /C calc'!A0"), (2, 20, "khan-academy", "manual", "Algebra, part 2"),
        (9, 60, "codewars", "codewars", "Kata \"quoted\""), (40, 15, "wakatime", "wakatime", "Coding"),
    ]):
        add(app, ada, today - timedelta(days=back), minutes, service, source=source, title=title, external_id=f"k{i}")
    add(app, ada, today, 500, "github", source="github", title="hidden", hidden=True)
    exported = client.get("/history/export.csv").get_data()
    ada_page = client.get("/history/").get_data(as_text=True)
    client.post("/logout")

    sign_up(client, "eve@example.org", "eve's long password")
    eve = user_id(app, "eve@example.org")
    with app.app_context():
        batch = csv_batches.check_upload(csv_batches.store_upload(eve, "export.csv", io.BytesIO(exported)))
        assert batch.status == "previewed", batch.error
        assert csv_batches.start_import(batch)
    run_jobs(app)
    eve_page = client.get("/history/").get_data(as_text=True)
    assert above_table(eve_page) == above_table(ada_page)
    with app.app_context():
        def summary(uid):
            return sorted(db.session.execute(select(Activity.date, Activity.service, Activity.minutes).where(
                Activity.user_id == uid, Activity.hidden.is_(False))).all())
        assert summary(eve) == summary(ada)
        titles = set(db.session.scalars(select(Activity.title).where(Activity.user_id == eve)))
        assert {"Spanish", "Algebra, part 2", 'Kata "quoted"', "Coding"} <= titles


def test_own_export_of_csv_rows_reimports_as_all_duplicates_even_with_formula_titles(app, client):
    sign_up(client)
    ada = user_id(app)
    today = today_for(app, ada)
    rows = f"date,service,minutes,title\n{today},duolingo,20,=HYPERLINK(\"x\")\n{today},anki,5,+plus\n{today},anki,5,plain\n"
    with app.app_context():
        batch = csv_batches.check_upload(csv_batches.store_upload(ada, "first.csv", io.BytesIO(rows.encode())))
        assert batch.new_count == 3 and csv_batches.start_import(batch)
    run_jobs(app)
    exported = client.get("/history/export.csv").get_data()
    assert b"'=HYPERLINK" in exported
    with app.app_context():
        again = csv_batches.check_upload(csv_batches.store_upload(ada, "export.csv", io.BytesIO(exported)))
        assert (again.new_count, again.duplicate_count, again.invalid_count) == (0, 3, 0)
