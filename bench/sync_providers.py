"""Provider sync benchmark: a one-year WakaTime backfill and a Codewars account with 2,000 completed katas.

Run from the project root: `.venv/bin/python bench/sync_providers.py [--latency-ms 50] [--katas 2000]`.
The fake WakaTime and Codewars servers (the same ones the tests use, tests/fakes/) run on 127.0.0.1 in a
threaded server that waits `--latency-ms` before every answer, like a distant API. Everything else lives in
a temporary folder (SQLite file, generated keys); nothing leaves the machine.

Each source is measured twice: the provider class alone (validate + fetch: HTTP and parsing), then a sync
run through the engine exactly as a worker runs it (`services.sync.execute_run`: HTTP, parsing, idempotent
chunked writes to SQLite, ledger updates), followed by a second engine run (the daily re-sync). The latency
floor is requests × latency: pages are fetched one after another, so nothing can beat it without asking
for fewer pages.
"""

import argparse
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_httpserver import HTTPServer  # noqa: E402

TODAY = datetime.now(UTC).date()


class SlowServer(HTTPServer):
    """A real HTTP server on loopback that adds a fixed delay to every answer."""

    def __init__(self, latency: float):
        super().__init__(host="127.0.0.1", port=0, threaded=True)
        self.latency = latency

    def dispatch(self, request):
        time.sleep(self.latency)
        return super().dispatch(request)


def client_only(cls, credentials, base_url: str, options: dict, label: str, latency: float) -> dict:
    """The provider alone: validate, then fetch every page."""
    provider = cls(cls.http_client(credentials, base_url), credentials, options)
    started = time.perf_counter()
    provider.validate()
    records = sum(len(page.records) for page in provider.fetch(None))
    wall = time.perf_counter() - started
    requests = provider.http.requests_made
    return {"label": label, "requests": requests, "records": records, "new": "", "wall": wall,
            "floor": requests * latency}


def engine_run(app, integration_id: int, label: str, latency: float, count_requests) -> dict:
    """One sync run through the engine, as a worker runs it."""
    from activity_hub.extensions import db
    from activity_hub.models import SyncRun

    with app.app_context():
        run = SyncRun(integration_id=integration_id, user_id=1, status="queued")
        db.session.add(run)
        db.session.commit()
        before = count_requests()
        started = time.perf_counter()
        from activity_hub.services import sync

        sync.execute_run(run.id)
        wall = time.perf_counter() - started
        db.session.expire_all()
        assert run.status == "succeeded", (run.status, run.error)
        requests = count_requests() - before
        return {"label": label, "requests": requests, "records": run.fetched, "new": run.new, "wall": wall,
                "floor": requests * latency}


def connect(app, slug: str, credentials, account_name: str) -> int:
    from activity_hub.extensions import db
    from activity_hub.models import User
    from activity_hub.providers.base import Account
    from activity_hub.services.connections import save_connection

    with app.app_context():
        user = db.session.get(User, 1)
        return save_connection(user, slug, credentials, Account(id=account_name, name=account_name)).id


def wakatime(app, server: SlowServer, latency: float) -> list[dict]:
    from activity_hub.providers.base import Credentials
    from activity_hub.providers.wakatime import WakaTime
    from tests.fakes.wakatime import FakeWakaTime

    fake = FakeWakaTime(server, today=TODAY)
    active_days = fake.add_year()
    app.config["WAKATIME_API_URL"] = fake.base_url
    credentials = Credentials(secret=fake.api_key)
    options = {"today": TODAY, "timezone": "UTC", "backfill_days": 365}
    results = [client_only(WakaTime, credentials, fake.base_url, options, "WakaTime year, client only", latency)]
    iid = connect(app, "wakatime", credentials, "wakatime")
    results.append(engine_run(app, iid, "WakaTime year, engine", latency, lambda: len(fake.requests)))
    fake.add_day(TODAY, {"habit-ledger": 5400})  # today grew since the backfill
    results.append(engine_run(app, iid, "WakaTime re-sync (window)", latency, lambda: len(fake.requests)))
    assert results[1]["new"] == active_days, (results[1], active_days)
    return results


def codewars(app, server: SlowServer, latency: float, katas: int) -> list[dict]:
    from activity_hub.providers.base import Credentials
    from activity_hub.providers.codewars import Codewars
    from tests.fakes.codewars import FakeCodewars

    fake = FakeCodewars(server)
    fake.add_user("mira_okafor", katas=katas)
    app.config["CODEWARS_API_URL"] = fake.base_url
    credentials = Credentials(account="mira_okafor")
    results = [client_only(Codewars, credentials, fake.base_url, {}, f"Codewars {katas:,}, client only", latency)]
    iid = connect(app, "codewars", credentials, "mira_okafor")
    results.append(engine_run(app, iid, f"Codewars {katas:,}, engine", latency, lambda: len(fake.pages_requested)))
    fake.complete("mira_okafor", fake.kata(katas + 1, datetime.now(UTC) + timedelta(hours=1)))
    results.append(engine_run(app, iid, "Codewars re-sync (1 new)", latency, lambda: len(fake.pages_requested)))
    assert results[1]["new"] == katas and results[2]["new"] == 1, results
    return results


def make_app(folder: Path):
    os.environ.update(INSTANCE_PATH=str(folder / "instance"), DATABASE_URL=f"sqlite:///{folder / 'bench.db'}")
    for var in ("APP_ENV", "SECRET_KEY", "ENCRYPTION_KEY", "REDIS_URL"):
        os.environ.pop(var, None)
    from activity_hub import create_app
    from activity_hub.extensions import db
    from activity_hub.models import User

    app = create_app({"TESTING": True, "REDIS_URL": "redis://127.0.0.1:1/0", "SYNC_HTTP_RETRIES": 1})
    with app.app_context():
        db.create_all()
        db.session.add(User(email="bench@example.org", timezone="UTC"))
        db.session.commit()
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--katas", type=int, default=2000)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = SlowServer(latency)
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="activity-hub-bench-") as tmp:
            app = make_app(Path(tmp))
            results = wakatime(app, server, latency)
            server.clear()
            results += codewars(app, server, latency, args.katas)
    finally:
        server.stop()
    print(f"added latency per request: {args.latency_ms:.0f} ms (fake servers on 127.0.0.1, SQLite in a temp folder)")
    print(f"{'sync':<30}{'requests':>9}{'records':>9}{'new':>7}{'wall s':>9}{'floor s':>9}{'wall/floor':>11}"
          f"{'over floor ms/req':>19}")
    for r in results:
        overhead = (r["wall"] - r["floor"]) / r["requests"] * 1000
        print(f"{r['label']:<30}{r['requests']:>9}{r['records']:>9}{r['new']:>7}{r['wall']:>9.2f}{r['floor']:>9.2f}"
              f"{r['wall'] / r['floor']:>11.2f}{overhead:>19.1f}")


if __name__ == "__main__":
    main()
