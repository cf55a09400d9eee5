"""Too-large uploads in a real browser get a message in words: refused before sending by the page, and
the server's 413 shown as a message both by the test server and by gunicorn (what `make run` serves)."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import free_port
from tests.e2e.test_upload_flow import sign_up

pytestmark = pytest.mark.e2e
LIMIT = 200 * 1024
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live_config(app_config):
    return dict(app_config, WTF_CSRF_ENABLED=True, MAX_CONTENT_LENGTH=LIMIT)


def big_file(tmp_path, size: int) -> Path:
    path = tmp_path / "huge.csv"
    row = "2025-01-01,duolingo,25,Lesson\n"
    path.write_text("date,service,minutes,title\n" + row * (size // len(row)))
    return path


def upload_without_page_check(page, path: Path) -> None:
    """As if the page's own size check were missing (an old tab, a changed limit): the server decides."""
    page.evaluate("document.getElementById('upload-form').removeAttribute('data-max-bytes')")
    page.set_input_files("#csv-file", str(path))


def test_a_file_over_the_limit_is_refused_in_the_browser_without_uploading(page, live_server, tmp_path):
    sign_up(page, live_server.url)
    page.goto(live_server.url + "/upload/")
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.set_input_files("#csv-file", str(big_file(tmp_path, LIMIT + 10_000)))
    expect(page.locator("#chosen-file")).to_contain_text(re.compile(r"huge\.csv is .*: uploads can be at most"))
    expect(page.locator("#flashes")).to_contain_text("Split the file and try again")
    assert posts == []


def test_the_test_servers_413_is_shown_in_words(page, live_server, tmp_path):
    sign_up(page, live_server.url)
    page.goto(live_server.url + "/upload/")
    statuses = []
    page.on("response", lambda r: r.request.method == "POST" and statuses.append(r.status))
    upload_without_page_check(page, big_file(tmp_path, LIMIT + 10_000))
    expect(page.locator("#flashes")).to_contain_text("Uploads can be at most")
    assert statuses == [413]


@pytest.fixture
def gunicorn_url(app, database_uri, redis_url, tmp_path):
    """The app under gunicorn with a 1 MB upload limit, on a free loopback port."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_uri, REDIS_URL=redis_url, MAX_UPLOAD_MB="1",
               INSTANCE_PATH=str(tmp_path / "instance"))
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "app:app", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                             "--threads", "4"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(url + "/healthz", timeout=5).status_code < 500:
                    break
            except requests.RequestException:  # not listening yet, or its first answer was slow
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_gunicorns_413_is_shown_in_words(page, gunicorn_url, tmp_path):
    sign_up(page, gunicorn_url, email="gus@example.org")
    page.goto(gunicorn_url + "/upload/")
    upload_without_page_check(page, big_file(tmp_path, 2 * 1024 * 1024))
    expect(page.locator("#flashes")).to_contain_text("Uploads can be at most 1 MB. Split the file and try again.")


def test_a_large_file_is_checked_by_a_worker_with_a_live_badge(page, live_server, tmp_path):
    from tests.conftest import run_jobs

    live_server.app.config["CSV_INLINE_MAX_BYTES"] = 1024
    sign_up(page, live_server.url, email="lars@example.org")
    page.goto(live_server.url + "/upload/")
    page.set_input_files("#csv-file", str(big_file(tmp_path, 20_000)))
    badge = page.locator("#batch-panel .batch-badge")
    expect(badge).to_contain_text("Waiting for a worker")
    run_jobs(live_server.app)
    rows = 20_000 // len("2025-01-01,duolingo,25,Lesson\n")  # identical sessions: every one counts
    expect(page.locator("#batch-panel .count.new")).to_contain_text(str(rows))
    expect(badge).to_contain_text("Checked")
    expect(page.get_by_role("button", name=f"Import {rows} new rows")).to_be_visible()
