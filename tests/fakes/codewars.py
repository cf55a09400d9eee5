"""A fake Codewars API v1 on pytest-httpserver, shaped like shared/reference/providers.md §4: public endpoints,
zero-based pages of 200 katas newest first, 404 `{"success":false,"reason":"not found"}` for unknown users."""

import math
import re
from datetime import UTC, datetime, timedelta

from werkzeug import Request, Response

from .scripted import Script, json_response

PAGE_SIZE = 200
PROFILE = {
    "username": "mira_okafor", "name": None, "honor": 2874, "clan": None, "leaderboardPosition": None,
    "skills": None,
    "ranks": {"overall": {"rank": -4, "name": "4 kyu", "color": "blue", "score": 1893},
              "languages": {"python": {"rank": -4, "name": "4 kyu", "color": "blue", "score": 1402}}},
}


class FakeCodewars:
    def __init__(self, httpserver, *, empty_total_pages: int = 0):
        self.base_url = httpserver.url_for("/api/v1").rstrip("/")
        self.users: dict[str, dict] = {}  # lower-cased username -> {"profile": ..., "katas": [...] newest first}
        self.empty_total_pages = empty_total_pages  # 0 or 1 for an account without katas: UNCONFIRMED which
        self.pages_requested: list[int] = []
        self.script = Script()
        httpserver.expect_request(re.compile(r"^/api/v1/users/.+")).respond_with_handler(self._route)

    def add_user(self, username: str = "mira_okafor", katas: int = 0, start: datetime | None = None) -> list[dict]:
        """A user with `katas` completed katas, one every 7 hours back from `start`; returns them newest first."""
        start = start or datetime(2026, 11, 26, 9, 30, 12, 312000, tzinfo=UTC)
        items = [self.kata(i, start - timedelta(hours=7 * i)) for i in range(katas)]
        self.users[username.lower()] = {"profile": dict(PROFILE, username=username), "katas": items}
        return items

    @staticmethod
    def kata(i: int, completed_at: datetime, **fields) -> dict:
        item = {"id": f"{0x5e606e1d09d2aa221afab081 + i:024x}", "name": f"Kata number {i} ",
                "slug": f"kata-number-{i}", "completedLanguages": ["python"],
                "completedAt": completed_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{completed_at.microsecond // 1000:03d}Z"}
        item.update(fields)
        return item

    def complete(self, username: str, item: dict) -> None:
        """The user finishes another kata: it goes to the top of the list."""
        self.users[username.lower()]["katas"].insert(0, item)

    def _route(self, request: Request) -> Response:
        scripted = self.script.next(request)
        if scripted is not None:
            return scripted
        match = re.fullmatch(r"/api/v1/users/([^/]+)(/code-challenges/completed)?", request.path)
        user = self.users.get(match.group(1).lower()) if match else None
        if user is None:
            return json_response({"success": False, "reason": "not found"}, 404)
        if match.group(2):
            return self._completed(user, request)
        katas = user["katas"]
        profile = dict(user["profile"], codeChallenges={"totalAuthored": 0, "totalCompleted": len(katas)})
        return json_response(profile)

    def _completed(self, user: dict, request: Request) -> Response:
        try:
            page = max(0, int(request.args.get("page", 0)))
        except ValueError:
            page = 0
        self.pages_requested.append(page)
        katas = user["katas"]
        total_pages = math.ceil(len(katas) / PAGE_SIZE) if katas else self.empty_total_pages
        data = katas[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        return json_response({"totalPages": total_pages, "totalItems": len(katas), "data": data})
