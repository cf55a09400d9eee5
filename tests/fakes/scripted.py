"""One-off answers a fake provider serves before its normal ones: errors, rate limits, slow and broken replies."""

import json
import threading
from collections.abc import Callable

from werkzeug import Request, Response

Answer = Callable[[Request], Response | None]


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def text_response(body: str, status: int, headers: dict | None = None) -> Response:
    return Response(body, status=status, headers=headers or {}, content_type="text/plain; charset=utf-8")


def status(code: int, body="", headers: dict | None = None, content_type="application/json") -> Answer:
    """Answer `code` with a JSON (dict/list) or raw body; an empty string gives an empty body."""
    payload = json.dumps(body) if isinstance(body, (dict, list)) else body
    return lambda request: Response(payload, status=code, headers=headers or {}, content_type=content_type)


def rate_limited(retry_after: str | None = None, body="") -> Answer:
    return status(429, body, {"Retry-After": retry_after} if retry_after else None)


def malformed() -> Answer:
    """A 200 whose body is cut short, as a proxy might deliver it."""
    return status(200, '{"data": [{"grand_total": ')


def html_page(code: int = 200) -> Answer:
    """What a CDN in front of the API serves when it steps in."""
    return status(code, "<!DOCTYPE html><html><body>Just a moment...</body></html>", content_type="text/html")


def slow(seconds: float) -> Answer:
    """Hold the request past the client's read timeout, then answer normally (too late). The fake server
    handles one request at a time, so `Script.release()` ends the wait before the next test talks to it."""
    released = threading.Event()

    def answer(request):
        released.wait(seconds)
        return None
    answer.release = released.set
    return answer


class Script:
    """A queue of answers; `None` from an answer means "fall through to the normal reply"."""

    def __init__(self):
        self.queue: list[Answer] = []
        self.pushed: list[Answer] = []

    def push(self, *answers: Answer) -> None:
        self.queue.extend(answers)
        self.pushed.extend(answers)

    def release(self) -> None:
        """Let every slow answer finish now."""
        for answer in self.pushed:
            getattr(answer, "release", lambda: None)()

    def next(self, request: Request) -> Response | None:
        return self.queue.pop(0)(request) if self.queue else None
