"""History page benchmark: the full page, a filtered table fragment and the CSV export of every row, on one
user with 100,000 activities over five years among nine other users with as many, beside a minimal route.

Run from the project root: `.venv/bin/python bench/history.py [--rows 100000] [--users 10] [--runs 30]`.
Everything happens on a temporary SQLite database in a temporary folder, through the app's own routes
(Flask test client, so no network). Rows are bulk-inserted with sqlite3 `executemany` for speed. The
export's memory is measured with tracemalloc on a fifth of the rows and on all of them: streaming means
the peak stays about the same.
"""

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVICES = (("github", "github"), ("wakatime", "wakatime"), ("codewars", "codewars"), ("exercism", "exercism"),
            ("duolingo", "csv"), ("khan-academy", "csv"), ("codecademy", "csv"), ("chess", "manual"))
TOPICS = ("Spanish: past tense", "Linear algebra", "Pushes to activity-hub", "Kata: snail sort", "Review", "Rust track")
TARGETS_MS = {"full page": 150, "table fragment (filtered)": 40}
EXPORT_TARGET_S = 3.0


def make_app(folder: Path):
    os.environ.setdefault("INSTANCE_PATH", str(folder / "instance"))
    from activity_hub import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                      "REDIS_URL": "redis://127.0.0.1:1/0", "WTF_CSRF_ENABLED": False})

    @app.get("/bench-minimal")
    def minimal():
        return "ok"

    return app


def seed(app, db_path: Path, users: int, rows: int) -> list[int]:
    """Create the schema and `users` users, then bulk-insert `rows` activities for each over five years."""
    from activity_hub.extensions import db
    from activity_hub.models import User

    with app.app_context():
        db.create_all()
        people = [User(email=f"user{i}@example.org", timezone="Europe/Berlin") for i in range(users)]
        db.session.add_all(people)
        db.session.commit()
        ids = [u.id for u in people]
        db.engine.dispose()
    today = date.today()
    now = datetime.now(UTC).isoformat(sep=" ")
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    sql = ("INSERT INTO activities (user_id, service, date, minutes, title, source, external_id, occurred_at,"
           " hidden, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
    for uid in ids:
        rnd = random.Random(uid)

        def batch(uid=uid, rnd=rnd):
            for i in range(rows):
                service, source = SERVICES[rnd.randrange(len(SERVICES))]
                day = today - timedelta(days=rnd.randrange(5 * 365))
                instant = f"{day.isoformat()} 12:00:00.000000" if source in ("codewars", "exercism") else None
                yield (uid, service, day.isoformat(), rnd.randint(5, 120), f"{TOPICS[i % len(TOPICS)]} #{i}",
                       source, f"{source}:{i}", instant, int(rnd.random() < 0.01), now, now)

        conn.executemany(sql, batch())
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return ids


def signed_in_client(app, uid: int):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(uid)
        session["_fresh"] = True
    return client


def time_get(client, url: str, runs: int, headers=None) -> list[float]:
    """Milliseconds for each of `runs` GETs (after two warm-ups), reading the whole body."""
    for _ in range(2):
        client.get(url, headers=headers)
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        resp = client.get(url, headers=headers)
        body_len = sum(len(chunk) for chunk in resp.response)
        out.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200 and body_len > 0, (url, resp.status_code)
        resp.close()
    return out


def stream_export(client, url: str) -> tuple[float, int, int]:
    """(seconds, data lines, bytes) for one streamed export, consumed chunk by chunk and not kept."""
    started = time.perf_counter()
    resp = client.get(url)
    lines = size = 0
    for chunk in resp.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    resp.close()
    return time.perf_counter() - started, lines - 1, size


def export_peak(client, url: str) -> tuple[int, float]:
    """(rows, peak MiB traced by tracemalloc) while streaming one export."""
    tracemalloc.start()
    _, lines, _ = stream_export(client, url)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return lines, peak / 2**20


def query_plans(app, uid: int) -> list[str]:
    """SQLite's plan for the page's aggregate and table queries, to show which index does the work."""
    from sqlalchemy import func, select

    from activity_hub.extensions import db
    from activity_hub.models import Activity
    from activity_hub.services.history import HistoryFilter, conditions

    f = HistoryFilter(services=("duolingo",))
    statements = {
        "day/service totals": select(Activity.date, Activity.service, func.sum(Activity.minutes)).where(
            *conditions(uid, f, dates=False, services=False, include_hidden=False)).group_by(Activity.date, Activity.service),
        "table page (filtered)": select(Activity).where(*conditions(uid, f)).order_by(
            Activity.date.desc(), Activity.id.desc()).limit(50),
        "table count (filtered)": select(func.count()).select_from(Activity).where(*conditions(uid, f)),
    }
    lines = []
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            for name, stmt in statements.items():
                compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
                params = [compiled.params[key] for key in compiled.positiontup]
                plan = raw.cursor().execute("EXPLAIN QUERY PLAN " + str(compiled), params).fetchall()
                lines.append(f"  {name}: " + " | ".join(row[-1] for row in plan))
        finally:
            raw.close()
    return lines


def fmt(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):8.1f} ms   p95 {p95:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="activities per user")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        folder = Path(tmp)
        app = make_app(folder)
        started = time.perf_counter()
        ids = seed(app, folder / "bench.db", args.users, args.rows)
        print(f"seeded {args.users} users x {args.rows:,} activities over five years in "
              f"{time.perf_counter() - started:.1f} s (SQLite {sqlite3.sqlite_version})")
        client = signed_in_client(app, ids[0])
        hx = {"HX-Request": "true"}
        results = {
            "minimal route": time_get(client, "/bench-minimal", args.runs),
            "full page": time_get(client, "/history/", args.runs),
            "filtered results (htmx: summary, charts, table)": time_get(client, "/history/?service=duolingo", args.runs, hx),
            "table fragment (filtered)": time_get(client, "/history/rows?service=duolingo&page=3", args.runs, hx),
            "table fragment (text search)": time_get(client, "/history/rows?q=kata", args.runs, hx),
        }
        print(f"\nrequests through the app ({args.runs} runs each, after warm-up):")
        for name, samples in results.items():
            target = TARGETS_MS.get(name)
            verdict = ""
            if target:
                verdict = f"   target median < {target} ms: {'met' if statistics.median(samples) < target else 'MISSED'}"
            print(f"  {name:<50} {fmt(samples)}{verdict}")
        timings = [stream_export(client, "/history/export.csv") for _ in range(5)]
        seconds = [t for t, _, _ in timings]
        rows, size = timings[0][1], timings[0][2]
        print(f"\nCSV export of all visible rows: {rows:,} rows, {size / 2**20:.1f} MiB, "
              f"median {statistics.median(seconds):.2f} s, p95 (max of 5) {max(seconds):.2f} s   "
              f"target < {EXPORT_TARGET_S:.0f} s: {'met' if max(seconds) < EXPORT_TARGET_S else 'MISSED'}")
        year_ago = (date.today() - timedelta(days=365)).isoformat()
        small_rows, small_peak = export_peak(client, f"/history/export.csv?start={year_ago}")
        all_rows, all_peak = export_peak(client, "/history/export.csv")
        print(f"export memory (tracemalloc peak): {small_rows:,} rows {small_peak:.1f} MiB, "
              f"{all_rows:,} rows {all_peak:.1f} MiB -> {'flat' if all_peak < small_peak * 1.5 + 1 else 'GROWS'} "
              f"({all_rows / max(small_rows, 1):.1f}x the rows)")
        print("\nquery plans:")
        print("\n".join(query_plans(app, ids[0])))


if __name__ == "__main__":
    main()
