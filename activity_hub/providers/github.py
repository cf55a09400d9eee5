"""GitHub: the user's events from `/users/{login}/events`, page by page along the `Link` header.

The API keeps at most 300 events from the last 30 days; asking past that answers 422 ("pagination is
limited"), which means the end, not an error. Page 1 is fetched with the stored ETag: a 304 means nothing
new. `X-Poll-Interval` is kept in the cursor and a sync asked for sooner waits for it. Event ids are
strings and the order is by `created_at`, so events are de-duplicated by id, never sorted by id.
"""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from .base import (
    Account,
    MalformedResponse,
    Page,
    Provider,
    ProviderError,
    RateLimited,
    RawEvent,
)
from .http import is_rate_limited, json_body, raise_for_common

log = logging.getLogger(__name__)
API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 10  # the API stops at 300 events; this only guards against a server that never ends
DEFAULT_POLL_INTERVAL = 60
POLL_SLACK = timedelta(seconds=2)  # a resumed job may start up to a second early (RQ schedules in whole seconds)


class PollIntervalWait(RateLimited):
    """GitHub asked for a pause between checks (`X-Poll-Interval`); the sync resumes at `retry_at`."""

    reason = "GitHub's poll interval"


class GitHubProvider(Provider):
    slug = "github"
    name = "GitHub"

    def __init__(self, http, credentials, options=None):
        super().__init__(http, credentials, options)
        self.http.session.headers.update({
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        })
        if credentials.secret:
            self.http.session.headers["Authorization"] = f"Bearer {credentials.secret}"

    def validate(self) -> Account:
        resp = self.http.get("/user")
        self._raise_for_status(resp)
        data = json_body(resp, self.name)
        if not isinstance(data, dict) or "id" not in data or "login" not in data:
            raise MalformedResponse("GitHub sent a profile without an id or login")
        return Account(id=str(data["id"]), name=str(data["login"]), details={"name": data.get("name")})

    def fetch(self, cursor: dict | None) -> Iterator[Page]:
        cursor = dict(cursor or {})
        now = datetime.now(UTC)
        self._respect_poll_interval(cursor, now)
        login = self.credentials.account
        if not login:
            raise ProviderError("The GitHub connection has no account name; reconnect GitHub.")
        url = f"/users/{login}/events?per_page={PER_PAGE}"
        seen: set[str] = set()
        skipped = 0
        total: int | None = None
        new_cursor = dict(cursor)
        for number in range(1, MAX_PAGES + 1):
            headers = {"If-None-Match": cursor["etag"]} if number == 1 and cursor.get("etag") else {}
            resp = self.http.get(url, headers=headers)
            if number == 1:
                new_cursor.update(self._poll_state(resp, now))
            if resp.status_code == 304:
                yield Page([], done=1, total=1, cursor=new_cursor, message="Nothing new on GitHub since the last sync.")
                return
            if _is_pagination_end(resp):  # past the 300-event cap: the end of the data
                done = number - 1
                yield Page([], done=done, total=done, cursor=new_cursor, message=_skipped_message(skipped))
                return
            self._raise_for_status(resp)
            if number == 1 and resp.headers.get("ETag"):
                new_cursor["etag"] = resp.headers["ETag"]
            events, bad = parse_events(json_body(resp, self.name), seen)
            skipped += bad
            next_url = resp.links.get("next", {}).get("url")
            total = _page_number(resp.links.get("last", {}).get("url")) or total
            if next_url is None:
                total = number
                yield Page(events, done=number, total=total, cursor=new_cursor, message=_skipped_message(skipped))
                return
            yield Page(events, done=number, total=total)
            url = next_url
        yield Page([], done=MAX_PAGES, total=MAX_PAGES, cursor=new_cursor, message=_skipped_message(skipped))

    def _respect_poll_interval(self, cursor: dict, now: datetime) -> None:
        raw = cursor.get("next_poll_at")
        try:
            next_poll = datetime.fromisoformat(raw) if raw else None
        except (TypeError, ValueError):
            return
        if next_poll and next_poll.tzinfo and next_poll > now + POLL_SLACK:
            raise PollIntervalWait("GitHub asks apps to wait between checks; the sync starts when it allows", next_poll)

    @staticmethod
    def _poll_state(resp, now: datetime) -> dict:
        raw = (resp.headers.get("X-Poll-Interval") or "").strip()
        seconds = int(raw) if raw.isdigit() else DEFAULT_POLL_INTERVAL
        return {"poll_interval": seconds, "next_poll_at": (now + timedelta(seconds=seconds)).isoformat()}

    def _raise_for_status(self, resp) -> None:
        if resp.status_code == 403 and not is_rate_limited(resp):
            raise ProviderError(f"GitHub refused access (403): {_message(resp)}. Reconnecting GitHub may help.")
        if resp.status_code == 404:
            raise ProviderError(
                f"GitHub has no user {self.credentials.account} (404). If you renamed your account, reconnect GitHub."
            )
        raise_for_common(resp, self.http.host, self.name)


def parse_events(data, seen: set[str]) -> tuple[list[RawEvent], int]:
    """Turn a page of JSON events into RawEvents, skipping duplicates and events that cannot be read."""
    if not isinstance(data, list):
        raise MalformedResponse("GitHub sent something other than a list of events")
    events, bad = [], 0
    for item in data:
        event = parse_event(item)
        if event is None:
            bad += 1
        elif event.event_id not in seen:
            seen.add(event.event_id)
            events.append(event)
    return events, bad


def parse_event(item) -> RawEvent | None:
    """One event, or None when it lacks an id, a type or a readable `created_at`. Unknown types are kept."""
    if not isinstance(item, dict):
        return None
    event_id, kind, created = item.get("id"), item.get("type"), item.get("created_at")
    if event_id is None or not isinstance(kind, str) or not isinstance(created, str):
        return None
    try:
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
    repo = item.get("repo") if isinstance(item.get("repo"), dict) else {}
    repo_id = repo.get("id")
    payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
    return RawEvent(
        event_id=str(event_id)[:32], type=kind[:64], created_at=created_at,
        repo_name=str(repo["name"])[:200] if repo.get("name") else None,
        repo_id=repo_id if isinstance(repo_id, int) else None,
        payload=trim_payload(kind, payload, item.get("public")),
    )


def trim_payload(kind: str, payload: dict, public) -> dict:
    """Keep what the day summary needs from either payload shape (with or without `commits`/`size`)."""
    kept: dict = {"public": public} if isinstance(public, bool) else {}
    for key in ("action", "ref", "ref_type", "number", "size", "distinct_size"):
        if isinstance(payload.get(key), str | int) and not isinstance(payload.get(key), bool):
            kept[key] = payload[key]
    if kind == "PushEvent" and isinstance(payload.get("commits"), list):
        kept["commit_count"] = len(payload["commits"])
    for nested, keys in (("pull_request", ("number", "merged")), ("review", ("state",)), ("issue", ("number",))):
        value = payload.get(nested)
        if isinstance(value, dict):
            kept[nested] = {k: value[k] for k in keys if isinstance(value.get(k), str | int | bool)}
    return kept


def _is_pagination_end(resp) -> bool:
    return resp.status_code == 422 and "pagination is limited" in resp.text[:1000].lower()


def _page_number(url: str | None) -> int | None:
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page")
    return int(values[0]) if values and values[0].isdigit() else None


def _message(resp) -> str:
    try:
        data = resp.json()
    except ValueError:
        return "no reason given"
    text = data.get("message") if isinstance(data, dict) else None
    return str(text)[:200].rstrip(". ") if text else "no reason given"


def _skipped_message(skipped: int) -> str | None:
    if not skipped:
        return None
    return f"{skipped} event(s) could not be read and were skipped."
