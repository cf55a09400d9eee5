"""A fake GitHub on pytest-httpserver that answers like the real OAuth endpoints and REST API
(see shared/reference/providers.md §1): token errors come back as HTTP 200 with an `error` field,
a bad token gets 401 "Bad credentials"."""

import hashlib
import json
import math
import threading
import time
from datetime import UTC, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from werkzeug import Response

PROFILE = {
    "login": "mira-okafor", "id": 48213907, "node_id": "U_kgDOAt13907", "type": "User",
    "user_view_type": "private", "site_admin": False, "name": "Mira Okafor", "company": "@tern-labs",
    "blog": "", "location": None, "email": None, "hireable": None, "bio": None,
    "twitter_username": None, "public_repos": 23, "followers": 41, "following": 17,
    "created_at": "2019-03-14T09:26:51Z", "updated_at": "2025-10-11T22:03:19Z",
}


class FakeGitHub:
    def __init__(self, httpserver):
        self.server = httpserver
        self.oauth_url = httpserver.url_for("/login/oauth").rstrip("/")
        self.api_url = httpserver.url_for("/api").rstrip("/")
        self.tokens: dict[str, dict] = {}  # access token -> profile

    def config(self) -> dict:
        return {"GITHUB_ID": "fake-client-id", "GITHUB_SECRET": "fake-client-secret",
                "GITHUB_OAUTH_URL": self.oauth_url, "GITHUB_API_URL": self.api_url}

    def grant(self, token: str = "gho_fake-token-for-tests-1", profile: dict | None = None) -> str:
        """Any code exchanges for `token`, which identifies `profile`."""
        self.tokens[token] = dict(PROFILE, **(profile or {}))
        self.server.expect_request("/login/oauth/access_token", method="POST").respond_with_json(
            {"access_token": token, "token_type": "bearer", "scope": "read:user"})
        self.server.expect_request("/api/user", method="GET").respond_with_handler(self._user)
        return token

    def token_error(self, error: str, description: str = "The code passed is incorrect or expired.") -> None:
        self.server.expect_request("/login/oauth/access_token", method="POST").respond_with_json(
            {"error": error, "error_description": description,
             "error_uri": f"https://docs.github.com/apps/troubleshooting/#{error}"})

    def authorize_page(self) -> None:
        """The authorize URL redirects straight back with a code, as GitHub does for an app already authorized."""
        def handler(request):
            args = request.args
            target = args["redirect_uri"] + "?" + urlencode({"code": "fake-code", "state": args["state"]})
            return Response(status=302, headers={"Location": target})
        self.server.expect_request("/login/oauth/authorize").respond_with_handler(handler)

    def _user(self, request):
        auth = request.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if " " in auth else ""
        if token not in self.tokens:
            return Response(json.dumps({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                                        "status": "401"}), status=401, content_type="application/json")
        return Response(json.dumps(self.tokens[token]), content_type="application/json")


def start_oauth(client) -> str:
    """Follow "Sign in with GitHub" to the authorize redirect and return the `state` GitHub would echo."""
    resp = client.get("/auth/github")
    assert resp.status_code == 302, resp.status_code
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["scope"] == ["read:user"]
    return query["state"][0]


# --- Events API ---------------------------------------------------------------------------------------

EVENTS_CAP = 300
PAGINATION_LIMITED = {
    "message": "In order to keep the API fast for everyone, pagination is limited for this resource. Check the "
               "rel=last link relation in the Link response header to see how far back you can traverse.",
    "documentation_url": "https://docs.github.com/v3/#pagination", "status": "422",
}


def _iso(instant) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def push_event(event_id: str, created_at, repo: str = "mira-okafor/habit-ledger", legacy: bool = False,
               commits: int = 2) -> dict:
    """A PushEvent: trimmed (github.com since 2025-10-07) or legacy with `commits`/`size` (GHES, older)."""
    payload = {"repository_id": 781245630, "push_id": 27800451906, "ref": "refs/heads/main",
               "head": "9c1e5d0a7f44b2e8d3a61c0f5b7e9a2d4c6f8e10", "before": "3b7f2a9e1d4c8b6a0f5e3d2c1b9a8f7e6d5c4b3a"}
    if legacy:
        payload.update(size=commits, distinct_size=commits, commits=[
            {"sha": f"{n:040x}", "author": {"email": "mira@example.dev", "name": "Mira Okafor"},
             "message": f"Commit {n}", "distinct": True, "url": f"https://api.github.com/repos/{repo}/commits/{n:040x}"}
            for n in range(min(commits, 20))
        ])
    return _event(event_id, "PushEvent", created_at, repo, payload)


def pull_request_event(event_id: str, created_at, repo: str = "tern-labs/streamline", action: str = "opened") -> dict:
    """The trimmed PullRequestEvent: a five-key pull request stub, `merged` as its own action."""
    stub = {"url": f"https://api.github.com/repos/{repo}/pulls/42", "id": 2876543210, "number": 42,
            "head": {"ref": "feature", "sha": "a" * 40, "repo": {"id": 690331218, "url": "", "name": repo}},
            "base": {"ref": "main", "sha": "b" * 40, "repo": {"id": 690331218, "url": "", "name": repo}}}
    return _event(event_id, "PullRequestEvent", created_at, repo, {"action": action, "number": 42, "pull_request": stub})


def event_of_type(event_id: str, kind: str, created_at, repo: str = "mira-okafor/habit-ledger", payload=None) -> dict:
    return _event(event_id, kind, created_at, repo, payload if payload is not None else {})


def _event(event_id: str, kind: str, created_at, repo: str, payload) -> dict:
    return {
        "id": event_id, "type": kind,
        "actor": {"id": PROFILE["id"], "login": PROFILE["login"], "display_login": PROFILE["login"], "gravatar_id": "",
                  "url": f"https://api.github.com/users/{PROFILE['login']}", "avatar_url": "https://avatars.example/u/1?"},
        "repo": {"id": 690331218 + len(repo), "name": repo, "url": f"https://api.github.com/repos/{repo}"},
        "payload": payload, "public": True, "created_at": _iso(created_at),
    }


def timeline(count: int, newest, step_minutes: int = 20, first_id: int = 52_000_000_000) -> list[dict]:
    """`count` events, newest first, `step_minutes` apart, alternating payload shapes and types."""
    events = []
    for n in range(count):
        at = newest - timedelta(minutes=step_minutes * n)
        event_id = str(first_id - n)
        if n % 5 == 0:
            events.append(pull_request_event(event_id, at))
        else:
            events.append(push_event(event_id, at, legacy=(n % 2 == 0)))
    return events


class FakeEvents:
    """`/users/{login}/events` like GitHub's: Link pagination with numeric-id URLs, ETag/304, 422 past
    the cap, X-Poll-Interval and rate-limit headers. `script` holds canned answers served first, one per
    request (5xx, 401, 403, 429, malformed JSON...); `delay` adds latency per request; `gate`, when set,
    makes page requests wait for it (a page that blocks until the test lets it go)."""

    def __init__(self, server, events: list[dict], token: str, login: str = PROFILE["login"],
                 user_id: int = PROFILE["id"], poll_interval: int = 60, delay: float = 0.0):
        self.server, self.events, self.token = server, events, token
        self.login, self.user_id, self.poll_interval, self.delay = login, user_id, poll_interval, delay
        self.script: list[Response] = []
        self.requests: list[dict] = []
        self.gate: threading.Event | None = None
        self.gate_page: int | None = None  # only this page waits for the gate (None: every request)
        self.link_past_cap = False
        self.lock = threading.Lock()
        for path in (f"/api/users/{login}/events", f"/api/user/{user_id}/events"):
            server.expect_request(path, method="GET").respond_with_handler(self.handle)

    def page_url(self, page: int, per_page: int) -> str:
        return self.server.url_for(f"/api/user/{self.user_id}/events") + "?" + urlencode({"per_page": per_page, "page": page})

    def etag(self, page: int, per_page: int) -> str:
        digest = hashlib.sha1(json.dumps([page, per_page, [e.get("id") if isinstance(e, dict) else repr(e) for e in self.events]]).encode()).hexdigest()
        return f'W/"{digest[:32]}"'

    def handle(self, request):
        with self.lock:
            self.requests.append({"path": request.path, "args": dict(request.args),
                                  "if_none_match": request.headers.get("If-None-Match"),
                                  "authorization": request.headers.get("Authorization")})
            canned = self.script.pop(0) if self.script else None
        if self.delay:
            time.sleep(self.delay)
        if self.gate is not None and self.gate_page in (None, int(request.args.get("page", 1))):
            self.gate.wait(120)
        if canned is not None:
            return canned
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                                  "status": "401"}, 401)
        page = int(request.args.get("page", 1))
        per_page = min(int(request.args.get("per_page", 30)), 100)
        if (page - 1) * per_page >= EVENTS_CAP:
            return json_response(PAGINATION_LIMITED, 422)
        headers = {**rate_headers(), "X-Poll-Interval": str(self.poll_interval), "ETag": self.etag(page, per_page),
                   "Cache-Control": "private, max-age=60, s-maxage=60"}
        if request.headers.get("If-None-Match") == headers["ETag"]:
            return Response(status=304, headers=headers)
        window = self.events[:EVENTS_CAP]
        last = max(1, math.ceil(len(window) / per_page))
        links = []
        if page < last or self.link_past_cap:
            links += [f'<{self.page_url(page + 1, per_page)}>; rel="next"', f'<{self.page_url(last, per_page)}>; rel="last"']
        if page > 1:
            links += [f'<{self.page_url(page - 1, per_page)}>; rel="prev"', f'<{self.page_url(1, per_page)}>; rel="first"']
        if links:
            headers["Link"] = ", ".join(links)
        body = window[(page - 1) * per_page: page * per_page]
        return Response(json.dumps(body), status=200, headers=headers, content_type="application/json; charset=utf-8")


def rate_headers(remaining: int = 4999, reset_in: int = 3600) -> dict:
    return {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Used": str(5000 - remaining),
            "X-RateLimit-Reset": str(int(time.time()) + reset_in), "X-RateLimit-Resource": "core"}


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json; charset=utf-8")


def rate_limited(status: int = 403, reset_in: int = 1800, secondary: bool = False) -> Response:
    """A primary (remaining 0, reset time) or secondary (Retry-After) rate-limit answer."""
    if secondary:
        return json_response({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                              "documentation_url": "https://docs.github.com/rest", "status": str(status)},
                             status, {**rate_headers(4000), "Retry-After": "120"})
    return json_response({"message": f"API rate limit exceeded for user ID {PROFILE['id']}.",
                          "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                          "status": str(status)}, status, rate_headers(0, reset_in))


def threaded_server():
    """A pytest-httpserver HTTPServer that serves requests in threads (a blocked page does not stall others)."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    return server
