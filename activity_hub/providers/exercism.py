"""Exercism: one activity per solution that has at least one iteration, upserted by uuid.

`/solutions` has no "changed since" filter and `newest_first` orders by creation, so an old solution that was
published yesterday can sit on the last page: every sync pages through the whole list (100 per request) and
the engine updates only the rows whose status, date or details moved on (`replace=True`).
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import requests

from .base import (
    Account,
    ActivityRecord,
    AuthError,
    Credentials,
    InvalidAccount,
    MalformedResponse,
    Page,
    Provider,
)
from .http import json_body, raise_for_common
from .parsing import number, parse_instant, text

DEFAULT_MINUTES_PER_SOLUTION = 30
DEFAULT_PER_PAGE = 100
ITERATED_STATUSES = ("iterated", "completed", "published")
# Which timestamp dates a solution, by status: the moment it reached that status, falling back down the chain.
STATUS_TIMESTAMPS = {
    "published": ("published_at", "completed_at", "last_iterated_at", "updated_at"),
    "completed": ("completed_at", "last_iterated_at", "updated_at"),
}
ITERATION_TIMESTAMPS = ("last_iterated_at", "updated_at")
NOT_ONBOARDED = "This Exercism account has not finished onboarding; finish it on exercism.org, then connect again"


class Exercism(Provider):
    slug = "exercism"
    name = "Exercism"

    @classmethod
    def request_headers(cls, credentials: Credentials) -> dict:
        """Bearer with the personal token from Settings → API / CLI."""
        return {"Authorization": f"Bearer {(credentials.secret or '').strip()}", "Accept": "application/json"}

    def validate(self) -> Account:
        """Ask for the newest solution: proves the token and the onboarding, and tells the user's handle."""
        if not (self.credentials.secret or "").strip():
            raise InvalidAccount("Enter your Exercism API token")
        try:
            body = self._page(1, per_page=1)
        except AuthError:
            raise InvalidAccount("Exercism rejected this token") from None
        handle = next((handle_from(s.get("public_url")) for s in body["results"]), "")
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        details = {"solutions": int(number(meta.get("total_count")))}
        return Account(id=handle, name=handle or "Exercism account", details=details)

    def fetch(self, cursor: dict | None) -> Iterator[Page]:
        per_page = self._int_option("per_page", DEFAULT_PER_PAGE)
        page = 1
        seen: set[str] = set()
        while True:
            body = self._page(page, per_page=per_page)
            results = body["results"]
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            total_pages = int(number(meta.get("total_pages")))
            records = []
            for solution in results:
                record = self._record(solution)
                if record and record.external_id not in seen:
                    seen.add(record.external_id)
                    records.append(record)
            if not results or page >= total_pages:
                next_cursor = {"synced_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "solutions": int(number(meta.get("total_count")))}
                yield Page(records, done=page, total=page, cursor=next_cursor)
                return
            yield Page(records, done=page, total=total_pages)
            page += 1

    def _page(self, page: int, per_page: int) -> dict:
        params = {"order": "newest_first", "page": page, "per_page": per_page}
        resp = self.http.get("solutions", params=params)
        if resp.status_code == 403 and error_type(resp) == "not_onboarded":
            raise InvalidAccount(NOT_ONBOARDED)
        raise_for_common(resp, self.http.host, self.name)
        body = json_body(resp, self.name)
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise MalformedResponse("Exercism sent a page of solutions without a list of results")
        body["results"] = [item for item in body["results"] if isinstance(item, dict)]
        return body

    def _record(self, solution: dict) -> ActivityRecord | None:
        uuid, status = text(solution.get("uuid")), text(solution.get("status"))
        iterations = int(number(solution.get("num_iterations")))
        if not uuid or (status not in ITERATED_STATUSES and iterations < 1):
            return None
        occurred_at = solution_instant(solution, status)
        if occurred_at is None:
            return None
        exercise = solution.get("exercise") if isinstance(solution.get("exercise"), dict) else {}
        track = solution.get("track") if isinstance(solution.get("track"), dict) else {}
        exercise_title = text(exercise.get("title"), text(exercise.get("slug"), "Exercise"))
        track_title = text(track.get("title"), text(track.get("slug"), "Exercism"))
        url = solution.get("public_url") if status == "published" else solution.get("private_url")
        return ActivityRecord(
            external_id=f"exercism:{uuid}", service="exercism",
            minutes=self._int_option("minutes_per_solution", DEFAULT_MINUTES_PER_SOLUTION),
            title=f"{track_title}: {exercise_title}"[:255], occurred_at=occurred_at, replace=True,
            details={"status": status or None, "iterations": iterations, "track": text(track.get("slug")) or None,
                     "exercise": text(exercise.get("slug")) or None, "url": text(url) or None,
                     "lines_of_code": solution.get("num_loc") if isinstance(solution.get("num_loc"), int) else None},
        )


def solution_instant(solution: dict, status: str) -> datetime | None:
    """When the solution reached its current status (UTC), falling back to older marks, then `updated_at`."""
    for key in STATUS_TIMESTAMPS.get(status, ITERATION_TIMESTAMPS):
        instant = parse_instant(solution.get(key))
        if instant:
            return instant
    return None


def handle_from(public_url) -> str:
    """The user's handle from a solution's public URL (`.../exercises/isogram/solutions/<handle>`)."""
    url = text(public_url).rstrip("/")
    return url.rsplit("/solutions/", 1)[1] if "/solutions/" in url else ""


def error_type(resp: requests.Response) -> str:
    """The `error.type` of Exercism's error envelope; "" for empty or non-JSON bodies."""
    try:
        body = resp.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return text(error.get("type")) if isinstance(error, dict) else ""
