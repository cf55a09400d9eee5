"""CSV import in a real browser: template, upload with two bad rows, preview, import with a live badge,
re-upload by drag and drop (all duplicates), and undo from the list of past imports."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from activity_hub.extensions import db
from activity_hub.models import Activity, ImportBatch
from tests.conftest import run_jobs

pytestmark = pytest.mark.e2e
BAD_ROWS = "2025-01-05,duolingo,0,nothing\r\n2025-02-30,anki,10,cards\r\n"


def sign_up(page, url, email="lin@example.org"):
    page.goto(url + "/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/connect/$"))


def count_activities(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Activity))


def drop_file(page, name: str, content: str) -> None:
    """Drop a file on the drop zone the way a browser does (a DataTransfer carrying a File)."""
    transfer = page.evaluate_handle(
        """([name, content]) => { const dt = new DataTransfer();
             dt.items.add(new File([content], name, {type: 'text/csv'})); return dt; }""", [name, content])
    page.dispatch_event("#dropzone", "dragover", {"dataTransfer": transfer})
    expect(page.locator("#dropzone")).to_have_class(re.compile("is-dragover"))
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})


def test_template_upload_preview_import_reupload_and_undo(page, live_server, tmp_path):
    app = live_server.app
    sign_up(page, live_server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload a CSV")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download template").click()
    download = download_info.value
    assert download.suggested_filename == "activity-template.csv"
    template = Path(download.path()).read_bytes().decode()
    assert template.startswith("date,service,minutes,title\r\n")
    upload = tmp_path / "my-export.csv"
    upload.write_bytes((template + BAD_ROWS).encode())

    page.set_input_files("#csv-file", str(upload))  # choosing a file uploads it
    panel = page.locator("#batch-panel")
    expect(panel.locator("#batch-title")).to_contain_text("my-export.csv")
    expect(panel.locator(".count.new")).to_contain_text("3")
    expect(panel.locator(".count.dup")).to_contain_text("0")
    expect(panel.locator(".count.bad")).to_contain_text("2")
    errors = panel.locator("table.row-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text(re.compile(r"5\s*minutes\s*0\s*is zero; a session lasts at least 1 minute"))
    expect(errors.nth(1)).to_contain_text("is not a real date")
    expect(page).to_have_url(re.compile(r"/upload/\d+$"))
    with page.expect_download() as invalid_info:
        panel.get_by_role("link", name="Download the 2 invalid rows as CSV").click()
    invalid = Path(invalid_info.value.path()).read_text().splitlines()
    assert invalid[0] == "date,service,minutes,title,error" and len(invalid) == 3

    panel.get_by_role("button", name="Import 3 new rows").click()
    badge = panel.locator(".batch-badge")
    expect(badge).to_contain_text("Waiting for a worker")
    run_jobs(app)
    expect(badge).to_contain_text("Done: 3 rows added")
    expect(panel).to_contain_text("Added 3 rows to your history; 2 invalid rows skipped.")
    history = page.locator("#import-list")
    expect(history).to_contain_text("my-export.csv")
    expect(history.locator("tbody tr").first).to_contain_text("Imported")
    assert count_activities(app) == 3

    drop_file(page, "my-export.csv", upload.read_bytes().decode())
    expect(panel.locator(".count.new")).to_contain_text("0")
    expect(panel.locator(".count.dup")).to_contain_text("3")
    expect(panel).to_contain_text("Nothing new to import: every valid row is already in your history.")
    panel.get_by_role("button", name="Cancel").click()
    expect(page.locator("#batch-panel")).to_be_empty()
    expect(history.locator("tbody tr")).to_have_count(1)

    page.once("dialog", lambda dialog: dialog.accept())
    history.get_by_role("button", name="Undo this import").click()
    expect(page.locator("#batch-panel .batch-badge")).to_contain_text("Undoing")
    run_jobs(app)
    expect(page.locator("#batch-panel")).to_contain_text("removed the 3 rows this import had added")
    expect(history.locator("tbody tr").first).to_contain_text("Undone")
    assert count_activities(app) == 0
    with app.app_context():
        assert db.session.scalar(select(ImportBatch.status)) == "undone"


def test_choosing_a_file_uploads_it_once_with_no_second_empty_submit(page, live_server, tmp_path):
    sign_up(page, live_server.url, "once@example.org")
    page.goto(live_server.url + "/upload/")
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    expect(page.get_by_role("button", name="Upload and check")).to_be_hidden()
    path = tmp_path / "one.csv"
    path.write_text("date,service,minutes,title\n2025-01-05,duolingo,15,verbs\n")
    page.set_input_files("#csv-file", str(path))
    expect(page.locator("#batch-panel")).to_contain_text("1 new")
    assert [u for u in posts if u.endswith("/upload/")] == [live_server.url + "/upload/"]
