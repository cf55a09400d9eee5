"""Sync benchmark: a GitHub backfill through the whole engine, and the status badge's throughput.

Run from the project root: `.venv/bin/python bench/sync.py [--latency-ms 50] [--seconds 3]`.
Everything runs on 127.0.0.1 in a temporary folder (SQLite file, a private redis-server).

1. Backfill: a fake GitHub (tests/fakes/github.py) serves 300 events as 3 full pages and waits
   `--latency-ms` before every answer. One sync run goes through `services.sync.execute_run`, exactly as
   a worker runs it: HTTP, parsing, raw events, day recomputation, ledger updates. The floor is
   requests x latency (pages are sequential: each page's URL comes from the previous page's Link
   header). Overhead above the floor should stay under 0.5 s. A second run shows the 304 path.
2. Badge: gunicorn (2 workers x 4 threads, as `make run`) serves the app; client processes on keep-alive
   connections ask for the polling badge of a running sync and, in the same run and interleaved, for a
   minimal route on the same server, both with the same signed-in browser's cookie and htmx header (a
   browser sends them to every route). The badge should keep at least half the minimal route's rate.
"""

import argparse
import http.client
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLIENTS = 4
ROUNDS = 3


def bench_app():
    """The app gunicorn serves for part 2: the real app plus a minimal route and a bench-only sign-in."""
    from flask import Response
    from flask_login import login_user

    from activity_hub import create_app
    from activity_hub.extensions import db
    from activity_hub.models import User

    app = create_app({"WTF_CSRF_ENABLED": False})

    @app.get("/bench/minimal")
    def minimal():
        return Response("ok", mimetype="text/plain")

    @app.get("/bench/login")
    def bench_login():
        login_user(db.session.get(User, 1))
        return Response("signed in", mimetype="text/plain")

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_environment(folder: Path) -> subprocess.Popen:
    """A private Redis and an SQLite file for this run; the environment points the app at them."""
    from activity_hub import embedded_redis

    port = free_port()
    redis = embedded_redis.start(folder / "redis", port=port, persistent=False,
                                 binary=embedded_redis.redis_server_binary(prefer_system=True))
    os.environ.update(INSTANCE_PATH=str(folder / "instance"), DATABASE_URL=f"sqlite:///{folder / 'bench.db'}",
                      REDIS_URL=f"redis://127.0.0.1:{port}/0")
    for var in ("GITHUB_ID", "GITHUB_SECRET", "APP_ENV", "SECRET_KEY", "ENCRYPTION_KEY"):
        os.environ.pop(var, None)
    return redis


def backfill(latency: float) -> list[dict]:
    from pytest_httpserver import HTTPServer

    from activity_hub import create_app
    from activity_hub.extensions import db
    from activity_hub.models import GitHubEvent, SyncRun, User
    from activity_hub.services import accounts, sync
    from tests.fakes.github import PROFILE, FakeEvents, FakeGitHub, timeline

    class SlowServer(HTTPServer):
        def dispatch(self, request):
            time.sleep(latency)
            return super().dispatch(request)

    server = SlowServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    token = "gho_fake-token-for-bench-1"
    events = FakeEvents(server, timeline(300, datetime.now(UTC), step_minutes=7), token, poll_interval=0)
    app = create_app({"TESTING": True, **FakeGitHub(server).config()})
    results = []
    try:
        with app.app_context():
            db.create_all()
            user = User(email="bench@example.org")
            db.session.add(user)
            db.session.flush()
            profile = accounts.GitHubProfile(PROFILE["id"], PROFILE["login"], None)
            integration = accounts.save_github_token(user, profile, token)
            db.session.commit()
            for label in ("GitHub backfill, 3 pages", "GitHub re-sync (304)"):
                run = SyncRun(integration_id=integration.id, user_id=user.id, status="queued")
                db.session.add(run)
                db.session.commit()
                before = len(events.requests)
                started = time.perf_counter()
                sync.execute_run(run.id)
                wall = time.perf_counter() - started
                db.session.expire_all()
                requests = len(events.requests) - before
                results.append({"label": label, "status": run.status, "requests": requests, "events": run.fetched,
                                "new": run.new, "wall": wall, "floor": requests * latency})
            assert db.session.query(GitHubEvent).count() == 300
    finally:
        server.stop()
    return results


def prepare_badge_data() -> None:
    """User 1 with a GitHub connection whose sync is running: the badge polls in that state."""
    from activity_hub import create_app
    from activity_hub.extensions import db
    from activity_hub.models import Integration, SyncRun

    app = create_app({"TESTING": True})
    with app.app_context():
        integration = db.session.query(Integration).first()
        db.session.add(SyncRun(integration_id=integration.id, user_id=integration.user_id, status="running",
                               progress_done=2, progress_total=3, started_at=datetime.now(UTC)))
        db.session.commit()


def hammer(args) -> int:
    """One client: requests `path` on one keep-alive connection for `seconds`; returns answers counted."""
    port, path, cookie, seconds, status = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Cookie": cookie, "HX-Request": "true"} if cookie else {}
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline and done < 1_000_000:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status != status:
            raise SystemExit(f"{path} answered {resp.status}")
        done += 1
    conn.close()
    return done


def throughput(port: int, path: str, cookie: str, seconds: float, status: int) -> float:
    with multiprocessing.Pool(CLIENTS) as pool:
        counts = pool.map(hammer, [(port, path, cookie, seconds, status)] * CLIENTS)
    return sum(counts) / seconds


def badge_rates(seconds: float) -> dict:
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn, "sync:bench_app()", "--chdir", str(ROOT / "bench"), "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--log-level", "warning"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        cookie = _sign_in(port)
        hammer((port, "/bench/minimal", cookie, 0.5, 200))  # warm both workers up
        hammer((port, "/connect/github/badge", cookie, 0.5, 200))
        minimal, badge = [], []
        for _ in range(ROUNDS):  # interleaved, so a load spike on the machine hits both routes alike
            minimal.append(throughput(port, "/bench/minimal", cookie, seconds / ROUNDS, 200))
            badge.append(throughput(port, "/connect/github/badge", cookie, seconds / ROUNDS, 200))
    finally:
        proc.terminate()
        proc.wait(20)
    return {"minimal": sum(minimal) / ROUNDS, "badge": sum(badge) / ROUNDS,
            "ratios": [b / m for b, m in zip(badge, minimal, strict=True)]}


def _sign_in(port: int) -> str:
    deadline = time.monotonic() + 20
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/login")
            resp = conn.getresponse()
            resp.read()
            return resp.getheader("Set-Cookie").split(";", 1)[0]
        except (ConnectionRefusedError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=3.0, help="per route, split into interleaved rounds")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("activity_hub").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="activity-hub-bench-") as tmp:
        from activity_hub import embedded_redis

        redis = setup_environment(Path(tmp))
        try:
            runs = backfill(args.latency_ms / 1000)
            prepare_badge_data()
            rates = badge_rates(args.seconds)
        finally:
            embedded_redis.stop(redis)
    print(f"added latency per request: {args.latency_ms:.0f} ms (fake GitHub on 127.0.0.1)")
    print(f"{'sync run':<28}{'status':>10}{'requests':>9}{'events':>8}{'new':>6}{'wall s':>8}{'floor s':>8}{'overhead s':>11}")
    for r in runs:
        print(f"{r['label']:<28}{r['status']:>10}{r['requests']:>9}{r['events']:>8}{r['new']:>6}{r['wall']:>8.3f}"
              f"{r['floor']:>8.3f}{r['wall'] - r['floor']:>11.3f}")
    backfill_overhead = runs[0]["wall"] - runs[0]["floor"]
    print(f"backfill overhead above the latency floor: {backfill_overhead:.3f} s (target < 0.5 s): "
          f"{'ok' if backfill_overhead < 0.5 else 'OVER TARGET'}")
    ratio = rates["badge"] / rates["minimal"]
    print(f"gunicorn, 2 workers x 4 threads, {CLIENTS} keep-alive clients, {args.seconds:.0f} s per route "
          f"in {ROUNDS} interleaved rounds (badge/minimal per round: {', '.join(f'{r:.2f}' for r in rates['ratios'])}):")
    print(f"  minimal route            {rates['minimal']:>8.0f} req/s")
    print(f"  status badge (polling)   {rates['badge']:>8.0f} req/s   = {ratio:.2f} of the minimal route "
          f"(target >= 0.50): {'ok' if ratio >= 0.5 else 'UNDER TARGET'}")


if __name__ == "__main__":
    main()
