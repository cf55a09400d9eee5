"""A fake Exercism website API v2 `/solutions` on pytest-httpserver, shaped like shared/reference/providers.md §5:
Bearer token, 1-based pages (default 24 per page), `meta` with `total_pages` 0 for an empty account, the
`{"error": {"type", "message"}}` envelope for 401 / 403 `not_onboarded`, and an empty-bodied 429."""

import math
import uuid as uuidlib
from datetime import UTC, datetime, timedelta

from werkzeug import Request, Response

from .scripted import Script, json_response

HANDLE = "mira-okafor"
TRACKS = (("python", "Python"), ("go", "Go"), ("rust", "Rust"))


class FakeExercism:
    def __init__(self, httpserver, *, token: str = "7c1f9e2a-5b3d-4e8f-a6c0-d2b4e6f83f9a", onboarded: bool = True):
        self.base_url = httpserver.url_for("/api/v2").rstrip("/")
        self.token = token
        self.onboarded = onboarded
        self.solutions: list[dict] = []  # in creation order (oldest first), like solution ids
        self.requests: list[dict] = []
        self.script = Script()
        httpserver.expect_request("/api/v2/solutions").respond_with_handler(self._solutions)

    def add_solution(self, exercise: str, status: str = "completed", track: tuple[str, str] = TRACKS[0],
                     at: datetime | None = None, **fields) -> dict:
        """A solution created at `at` whose timestamps match its status; returns it (mutable: change it later)."""
        at = at or datetime(2026, 11, 20, 18, 0, tzinfo=UTC) + timedelta(hours=len(self.solutions))
        iterated = status != "started"
        solution = {
            "uuid": uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"{track[0]}/{exercise}").hex,
            "private_url": f"https://exercism.org/tracks/{track[0]}/exercises/{exercise}",
            "public_url": f"https://exercism.org/tracks/{track[0]}/exercises/{exercise}/solutions/{HANDLE}",
            "status": status, "mentoring_status": "none", "published_iteration_head_tests_status": "not_queued",
            "has_notifications": False, "num_views": 0, "num_stars": len(self.solutions) % 3, "num_comments": 0,
            "num_iterations": 2 if iterated else 0, "num_loc": 14 if iterated else None, "is_out_of_date": False,
            "published_at": _ts(at + timedelta(hours=2)) if status == "published" else None,
            "completed_at": _ts(at + timedelta(hours=1)) if status in ("completed", "published") else None,
            "last_iterated_at": _ts(at) if iterated else None,
            "updated_at": _ts(at + timedelta(hours=2)),
            "exercise": {"slug": exercise, "title": exercise.replace("-", " ").title(),
                         "icon_url": f"https://assets.exercism.org/exercises/{exercise}.svg"},
            "track": {"slug": track[0], "title": track[1], "icon_url": f"https://assets.exercism.org/tracks/{track[0]}.svg"},
        }
        solution.update(fields)
        self.solutions.append(solution)
        return solution

    def publish(self, solution: dict, at: datetime) -> None:
        """The user publishes a solution: status, `published_at`, `completed_at` and `updated_at` move on."""
        solution.update(status="published", published_at=_ts(at), updated_at=_ts(at),
                        completed_at=solution["completed_at"] or _ts(at))

    def _solutions(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token != self.token:
            return json_response({"error": {"type": "invalid_auth_token",
                                            "message": "The auth token provided is invalid"}}, 401)
        if not self.onboarded:
            return json_response({"error": {"type": "not_onboarded",
                                            "message": "You have not yet completed onboarding"}}, 403)
        scripted = self.script.next(request)
        if scripted is not None:
            return scripted
        page, per_page = _positive(request.args.get("page"), 1), _positive(request.args.get("per_page"), 24)
        self.requests.append(dict(request.args))
        order = request.args.get("order")
        if order == "newest_first":
            ordered = list(reversed(self.solutions))
        elif order == "oldest_first":
            ordered = list(self.solutions)
        else:  # anything else: most starred first, which is no order to page through
            ordered = sorted(self.solutions, key=lambda s: -s["num_stars"])
        total = len(ordered)
        results = ordered[(page - 1) * per_page:page * per_page]
        meta = {"current_page": page, "total_count": total, "total_pages": math.ceil(total / per_page)}
        return json_response({"results": results, "meta": meta})


def _positive(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
