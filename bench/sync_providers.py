"""Provider sync benchmark: a one-year WakaTime backfill and a Codewars account with 2,000 completed katas.

Run from the project root: `.venv/bin/python bench/sync_providers.py [--latency-ms 50]`.
The fake WakaTime and Codewars servers (the same ones the tests use, tests/fakes/) run on 127.0.0.1 in a
threaded server that waits `--latency-ms` before every answer, like a distant API. The provider classes are
driven directly (validate + full fetch) with the app's HTTP policy. The latency floor is requests × latency:
the providers page sequentially, so no client can do better without asking for fewer pages.
"""

import argparse
import logging
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_httpserver import HTTPServer  # noqa: E402

from activity_hub.providers.base import Credentials  # noqa: E402
from activity_hub.providers.codewars import Codewars  # noqa: E402
from activity_hub.providers.wakatime import WakaTime  # noqa: E402
from tests.fakes.codewars import FakeCodewars  # noqa: E402
from tests.fakes.wakatime import FakeWakaTime  # noqa: E402

TODAY = date(2026, 11, 26)


class SlowServer(HTTPServer):
    """A real HTTP server on loopback that adds a fixed delay to every answer."""

    def __init__(self, latency: float):
        super().__init__(host="127.0.0.1", port=0, threaded=True)
        self.latency = latency

    def dispatch(self, request):
        time.sleep(self.latency)
        return super().dispatch(request)


def run(provider, label: str, latency: float, cursor: dict | None = None) -> dict:
    """Validate (first sync only) and fetch everything since `cursor`, counting requests and records."""
    provider.http.requests_made = 0
    started = time.perf_counter()
    if cursor is None:
        provider.validate()
    records, next_cursor = 0, None
    for page in provider.fetch(cursor):
        records += len(page.records)
        next_cursor = page.cursor or next_cursor
    wall = time.perf_counter() - started
    requests = provider.http.requests_made
    return {"label": label, "requests": requests, "records": records, "wall": wall,
            "floor": requests * latency, "cursor": next_cursor}


def wakatime_backfill(server: SlowServer, latency: float) -> list[dict]:
    fake = FakeWakaTime(server, today=TODAY)
    active_days = fake.add_year()
    credentials = Credentials(secret=fake.api_key)
    provider = WakaTime(WakaTime.http_client(credentials, fake.base_url), credentials,
                        {"today": TODAY, "timezone": "Europe/Berlin", "backfill_days": 365})
    first = run(provider, "WakaTime, 1-year backfill", latency)
    assert first["records"] == active_days, (first, active_days)
    return [first, run(provider, "WakaTime, re-sync (window)", latency, first["cursor"])]


def codewars_history(server: SlowServer, latency: float, katas: int) -> list[dict]:
    fake = FakeCodewars(server)
    fake.add_user("mira_okafor", katas=katas)
    credentials = Credentials(account="mira_okafor")
    provider = Codewars(Codewars.http_client(credentials, fake.base_url), credentials, {})
    first = run(provider, f"Codewars, {katas:,} katas", latency)
    assert first["records"] == katas, first
    fake.complete("mira_okafor", fake.kata(katas + 1, datetime(2026, 11, 27, 8, 0, tzinfo=UTC)))
    return [first, run(provider, "Codewars, 1 new kata", latency, first["cursor"])]


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
        results = wakatime_backfill(server, latency)
        server.clear()
        results += codewars_history(server, latency, args.katas)
    finally:
        server.stop()
    print(f"added latency per request: {args.latency_ms:.0f} ms (fake servers on 127.0.0.1)")
    print(f"{'sync':<30}{'requests':>9}{'records':>9}{'wall s':>9}{'floor s':>9}{'wall/floor':>11}{'overhead ms/req':>17}")
    for r in results:
        overhead = (r["wall"] - r["floor"]) / r["requests"] * 1000
        print(f"{r['label']:<30}{r['requests']:>9}{r['records']:>9}{r['wall']:>9.2f}{r['floor']:>9.2f}"
              f"{r['wall'] / r['floor']:>11.2f}{overhead:>17.1f}")


if __name__ == "__main__":
    main()
