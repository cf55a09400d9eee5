"""Nothing half-done: failed, retried and interrupted import jobs, through the real RQ worker."""

from sqlalchemy import func, select

from activity_hub.extensions import db
from activity_hub.models import Activity, ImportBatch, ImportRow
from activity_hub.services import csv_import
from tests.conftest import run_jobs
from tests.integration.test_upload import HX, csv_bytes, latest_batch, upload

ROWS = [(f"2025-01-{day:02d}", "duolingo", str(day), f"Lesson {day}") for day in range(1, 11)]


def activity_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Activity))


def staged_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ImportRow))


def failing_inserts(monkeypatch, fail_on: set[int]):
    """Make the Nth chunk insert (1-based, counted over the whole test) raise after committing earlier ones."""
    real = csv_import._insert_chunk
    calls = {"n": 0}

    def insert(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] in fail_on:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(csv_import, "_insert_chunk", insert)
    monkeypatch.setattr(csv_import, "CHUNK_ROWS", 3)
    return calls


def test_a_job_that_fails_midway_is_retried_to_completion(user_client, app, monkeypatch):
    upload(user_client, csv_bytes(ROWS))
    batch = latest_batch(app)
    calls = failing_inserts(monkeypatch, fail_on={3})  # chunks 1-2 committed, then the attempt dies
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    run_jobs(app)
    done = latest_batch(app)
    assert calls["n"] > 4  # the retry ran from the top
    assert (done.status, done.imported_count, done.duplicate_count, done.attempts) == ("imported", 10, 0, 2)
    assert activity_count(app) == 10
    badge = user_client.get(f"/upload/{batch.id}/badge", headers=HX)
    assert badge.status_code == 286 and "10 rows added" in badge.get_data(as_text=True)


def test_a_job_that_keeps_failing_leaves_the_history_as_it_was(user_client, app, monkeypatch):
    upload(user_client, csv_bytes(ROWS[:2]))
    first = latest_batch(app)
    user_client.post(f"/upload/{first.id}/import", headers=HX)
    run_jobs(app)
    assert activity_count(app) == 2
    upload(user_client, csv_bytes(ROWS))
    batch = latest_batch(app)
    failing_inserts(monkeypatch, fail_on={2, 5, 8})  # every attempt dies after its first chunk
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    run_jobs(app)
    failed = latest_batch(app)
    assert (failed.status, failed.imported_count, failed.attempts) == ("failed", 0, 3)
    assert activity_count(app) == 2  # the earlier import is untouched, nothing of this batch remains
    panel = user_client.get(f"/upload/{batch.id}/panel", headers=HX).get_data(as_text=True)
    assert "nothing from this file was added" in panel and "Try again: import 8 new rows" in panel
    monkeypatch.undo()
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    run_jobs(app)
    assert (latest_batch(app).status, latest_batch(app).imported_count) == ("imported", 8)
    assert activity_count(app) == 10


def test_an_interrupted_attempt_is_completed_exactly_by_the_next_one(user_client, app, monkeypatch):
    """A worker killed mid-import leaves committed chunks and status `importing`; RQ re-runs the job."""
    upload(user_client, csv_bytes(ROWS))
    batch = latest_batch(app)
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    failing_inserts(monkeypatch, fail_on={3})
    with app.app_context():
        try:
            csv_import.import_batch(batch.id)
        except RuntimeError:
            pass
    half = latest_batch(app)
    assert (half.status, half.imported_count) == ("importing", 6) and activity_count(app) == 6
    assert "Importing 6 of 10 rows" in user_client.get(f"/upload/{batch.id}/badge").get_data(as_text=True)
    with app.app_context():
        done = csv_import.import_batch(batch.id)
        assert (done.status, done.imported_count, done.duplicate_count) == ("imported", 10, 0)
    assert activity_count(app) == 10


def test_a_failed_undo_removes_nothing(user_client, app, monkeypatch):
    upload(user_client, csv_bytes(ROWS))
    batch = latest_batch(app)
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    run_jobs(app)

    def broken(_batch_id):
        db.session.execute(Activity.__table__.delete())
        raise RuntimeError("disk full")

    monkeypatch.setattr(csv_import, "undo_batch", broken)
    user_client.post(f"/upload/{batch.id}/undo", headers=HX)
    run_jobs(app)
    after = latest_batch(app)
    assert after.status == "imported" and "nothing was removed" in after.error
    assert activity_count(app) == 10


def test_a_job_for_a_batch_that_is_gone_does_nothing(app_ctx):
    assert csv_import.import_batch(12345) is None
    assert csv_import.preview_batch(12345) is None
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_a_job_lost_by_the_queue_ends_in_words_instead_of_waiting_forever(user_client, app):
    upload(user_client, csv_bytes(ROWS))
    batch = latest_batch(app)
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    badge = user_client.get(f"/upload/{batch.id}/badge", headers=HX)
    assert badge.status_code == 200 and "Waiting for a worker" in badge.get_data(as_text=True)
    app.extensions["redis"].flushdb()  # a restarted Redis without persistence
    badge = user_client.get(f"/upload/{batch.id}/badge", headers=HX)
    assert badge.status_code == 286 and "Import failed" in badge.get_data(as_text=True)
    lost = latest_batch(app)
    assert lost.status == "failed" and "Nothing from this file was added" in lost.error
    assert activity_count(app) == 0
    user_client.post(f"/upload/{batch.id}/import", headers=HX)  # and it can be started again
    run_jobs(app)
    assert (latest_batch(app).status, activity_count(app)) == ("imported", 10)


def test_the_preview_stages_the_valid_rows_and_the_import_or_cancel_removes_them(user_client, app):
    upload(user_client, csv_bytes(ROWS + [("2025-02-30", "anki", "5", "bad day")]))
    batch = latest_batch(app)
    assert (batch.new_count, batch.invalid_count, staged_count(app)) == (10, 1, 10)
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    run_jobs(app)
    assert (latest_batch(app).imported_count, activity_count(app), staged_count(app)) == (10, 10, 0)
    upload(user_client, csv_bytes(ROWS[:4]))
    assert (latest_batch(app).duplicate_count, staged_count(app)) == (4, 4)
    user_client.post(f"/upload/{latest_batch(app).id}/cancel", headers=HX)
    assert staged_count(app) == 0 and activity_count(app) == 10


def test_a_previewed_batch_whose_staged_rows_are_gone_is_read_again_from_its_file(user_client, app):
    """Batches previewed before staging existed have no staged rows: the import parses the stored file."""
    upload(user_client, csv_bytes(ROWS))
    batch = latest_batch(app)
    with app.app_context():
        db.session.execute(ImportRow.__table__.delete())
        db.session.commit()
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    run_jobs(app)
    done = latest_batch(app)
    assert (done.status, done.imported_count, done.progress_done) == ("imported", 10, 10)
    assert activity_count(app) == 10 and staged_count(app) == 0


def test_a_failed_import_keeps_its_staged_rows_for_the_retry(user_client, app, monkeypatch):
    upload(user_client, csv_bytes(ROWS))
    batch = latest_batch(app)
    failing_inserts(monkeypatch, fail_on={2, 5, 8})
    user_client.post(f"/upload/{batch.id}/import", headers=HX)
    run_jobs(app)
    assert (latest_batch(app).status, activity_count(app), staged_count(app)) == ("failed", 0, 10)


def test_each_batch_copies_and_clears_only_its_own_staged_rows(user_client, app):
    """Staged rows are keyed by a range per batch: two previews wait side by side, each import takes its own."""
    upload(user_client, csv_bytes(ROWS))
    first = latest_batch(app)
    later_rows = [(f"2025-03-{day:02d}", "anki", "7", "Deck") for day in range(1, 4)]
    upload(user_client, csv_bytes(later_rows))
    second = latest_batch(app)
    assert second.id != first.id and staged_count(app) == 13
    user_client.post(f"/upload/{second.id}/import", headers=HX)
    run_jobs(app)
    with app.app_context():
        imported = db.session.scalars(select(Activity.date).order_by(Activity.date)).all()
    assert [d.isoformat() for d in imported] == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert staged_count(app) == 10
    user_client.post(f"/upload/{first.id}/import", headers=HX)
    run_jobs(app)
    assert (latest_batch(app).status, activity_count(app), staged_count(app)) == ("imported", 13, 0)
