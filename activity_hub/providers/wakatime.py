"""WakaTime (and WakaTime-compatible servers such as Wakapi and Hackatime): one activity per local day.

Days come from `/users/current/summaries` in date-range chunks. A first sync walks back from today to the
configured start; later syncs re-read a trailing window, because today grows and past days change when
offline heartbeats arrive, so day records are upserted (`replace=True`). A 402 means the plan does not reach
that far back: the oldest allowed day is found by halving the chunk, and the backfill ends there with a message.
"""

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from .base import (
    Account,
    ActivityRecord,
    Credentials,
    InvalidAccount,
    MalformedResponse,
    Page,
    Provider,
    RateLimited,
)
from .http import json_body, raise_for_common, retry_after
from .parsing import number, parse_datetime, parse_day, text

DEFAULT_BACKFILL_DAYS = 365
DEFAULT_TRAILING_DAYS = 3
DEFAULT_CHUNK_DAYS = 31  # the maximum span per request is undocumented; a month is known to work
WAKAPI_COMPAT_PATH = "/api/compat/wakatime/v1"
BREAKDOWNS = ("projects", "languages", "editors", "categories", "operating_systems")
MAX_BREAKDOWN_ENTRIES = 25


def api_base(url: str) -> str:
    """Normalise a server URL the user typed: scheme added, trailing slash dropped, Wakapi's API path added
    when only a host was given (`https://wakapi.example.org` -> `.../api/compat/wakatime/v1`).

    Refused in words: other schemes than http(s), a `user:password@` part (it would be shown and stored with
    the host), and a query or fragment (a trailing `#` would hide the API path and let the URL pick the
    request path). Whether the host is public is checked by the HTTP client, when it is about to connect."""
    url = (url or "").strip().rstrip("/")
    if url and "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and parts.hostname and (parts.port or 1) > 0
    except ValueError:  # a broken IPv6 literal or port
        usable = False
    if not usable or any(c.isspace() for c in url) or "\\" in url:
        raise InvalidAccount("The server URL must be a web address such as https://wakapi.example.org")
    if "@" in parts.netloc:
        raise InvalidAccount("The server URL must not contain a user name or password (the part before @); "
                             "give only the address, such as https://wakapi.example.org, and the API key above.")
    if "?" in url or "#" in url:
        raise InvalidAccount("The server URL must not contain ? or #; give only the address and path, such as "
                             "https://wakapi.example.org/api/compat/wakatime/v1")
    if parts.path in ("", "/"):
        path = "/api/v1" if parts.hostname in ("wakatime.com", "api.wakatime.com") else WAKAPI_COMPAT_PATH
        url = f"{parts.scheme}://{parts.netloc}{path}"
    return url


def cumulative_seconds(body: dict) -> float | None:
    """The range's total, under either spelling (`cummulative_total` before late 2023); None when absent."""
    total = body.get("cumulative_total") or body.get("cummulative_total")
    if not isinstance(total, dict):
        return None
    return number(total.get("seconds", total.get("total_seconds")), default=None)


class WakaTime(Provider):
    slug = "wakatime"
    name = "WakaTime"

    @classmethod
    def request_headers(cls, credentials: Credentials) -> dict:
        """HTTP Basic with the base64 of the key alone, which WakaTime and Wakapi both accept."""
        key = base64.b64encode((credentials.secret or "").strip().encode()).decode()
        return {"Authorization": f"Basic {key}", "Accept": "application/json"}

    @classmethod
    def server_base(cls, url: str) -> str:
        """A saved server URL is normalised and checked again, so one saved before a rule existed is refused."""
        return api_base(url)

    @property
    def label(self) -> str:
        """How messages name the server: "WakaTime", or the host of a self-hosted server."""
        return self.http.host if self.credentials.base_url else self.name

    # -- options -------------------------------------------------------------------------------------

    def _timezone(self) -> str:
        name = self.options.get("timezone") or "UTC"
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return "UTC"
        return name

    def _today(self) -> date:
        given = self.options.get("today")
        if given:
            return given if isinstance(given, date) else date.fromisoformat(given)
        return datetime.now(UTC).astimezone(ZoneInfo(self._timezone())).date()

    # -- the interface -------------------------------------------------------------------------------

    def validate(self) -> Account:
        """Ask for today's summary: proves the key and the server URL in one request."""
        today = self._today()
        resp = self._summaries(today, today)
        path = urlsplit(self.http.base_url).path or "/"
        if resp.status_code in (401, 403):
            raise InvalidAccount(f"{self.label} rejected this API key")
        if resp.status_code == 404:
            raise InvalidAccount(
                f"{self.http.host} has no WakaTime-compatible API at {path}; "
                "give the server's API base, such as https://wakapi.example.org/api/compat/wakatime/v1")
        if 300 <= resp.status_code < 400 and self.credentials.base_url:
            raise InvalidAccount(f"{self.http.host} redirected instead of answering; check the server URL")
        details = {}
        if resp.status_code != 402:
            self._check(resp)
            try:
                body = self._body(resp)
            except MalformedResponse:
                if not self.credentials.base_url:
                    raise
                raise InvalidAccount(f"{self.http.host} did not answer like a WakaTime-compatible API at {path}; "
                                     "check the server URL") from None
            seconds = cumulative_seconds(body)
            if seconds is not None:
                details["today_minutes"] = round(seconds / 60)
        return Account(id=self.http.host, name=self.http.host, details=details)

    def fetch(self, cursor: dict | None) -> Iterator[Page]:
        today = self._today()
        spans = self._spans(cursor, today)
        covered_from = min([first for first, _ in spans] + [parse_day((cursor or {}).get("from")) or today])
        total = sum((last - first).days + 1 for first, last in spans)
        chunks = [chunk for span in spans for chunk in self._chunks(*span)]
        done = 0
        for index, (first, last) in enumerate(chunks):
            records, allowed_from = self._read_chunk(first, last)
            done += (last - first).days + 1
            if allowed_from is not None:
                next_cursor = {"through": today.isoformat(), "from": allowed_from.isoformat(),
                               "plan_limited_from": allowed_from.isoformat()}
                yield Page(records, done=total, total=total, unit="days", cursor=next_cursor,
                           message=self._plan_message(allowed_from, today))
                return
            next_cursor = None
            if index == len(chunks) - 1:
                next_cursor = {"through": today.isoformat(), "from": covered_from.isoformat()}
                if cursor and cursor.get("plan_limited_from"):
                    next_cursor["plan_limited_from"] = cursor["plan_limited_from"]
            yield Page(records, done=done, total=total, unit="days", cursor=next_cursor)

    def _spans(self, cursor: dict | None, today: date) -> list[tuple[date, date]]:
        """What to read, newest first: the whole backfill on a first sync; later, a trailing window since
        the last sync, plus any older days a longer `backfill_days` now asks for (unless the plan stopped us)."""
        wanted_from = today - timedelta(days=self._int_option("backfill_days", DEFAULT_BACKFILL_DAYS) - 1)
        through = parse_day((cursor or {}).get("through"))
        if through is None:
            return [(wanted_from, today)]
        window_from = min(through, today) - timedelta(days=self._int_option("trailing_days", DEFAULT_TRAILING_DAYS))
        spans = [(window_from, today)]
        covered_from = min(parse_day(cursor.get("from")) or window_from, window_from)
        if wanted_from < covered_from and not cursor.get("plan_limited_from"):
            spans.append((wanted_from, covered_from - timedelta(days=1)))
        return spans

    # -- requests ------------------------------------------------------------------------------------

    def _chunks(self, start: date, end: date) -> Iterator[tuple[date, date]]:
        """Date ranges of at most `chunk_days`, newest first, so recent days arrive early."""
        size = self._int_option("chunk_days", DEFAULT_CHUNK_DAYS)
        last = end
        while last >= start:
            first = max(start, last - timedelta(days=size - 1))
            yield first, last
            last = first - timedelta(days=1)

    def _summaries(self, first: date, last: date) -> requests.Response:
        params = {"start": first.isoformat(), "end": last.isoformat(), "timezone": self._timezone()}
        return self.http.get("users/current/summaries", params=params, allow_redirects=False)

    def _check(self, resp: requests.Response) -> None:
        """WakaTime sometimes answers a redirect instead of 429: that is a rate limit too."""
        if 300 <= resp.status_code < 400:
            when = retry_after(resp, default=300)
            raise RateLimited(f"Waiting for {self.label}'s rate limit until {when:%H:%M} UTC", when)
        raise_for_common(resp, self.http.host, self.label)

    def _body(self, resp: requests.Response) -> dict:
        body = json_body(resp, self.label)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise MalformedResponse(f"{self.label} sent summaries without a list of days")
        return body

    def _read_chunk(self, first: date, last: date) -> tuple[list[ActivityRecord], date | None]:
        """Records of one range; on 402 halve towards `last` to find the oldest day the plan allows."""
        resp = self._summaries(first, last)
        if resp.status_code != 402:
            self._check(resp)
            return self._records(self._body(resp), first), None
        refused, allowed, records = first, last + timedelta(days=1), []
        while (allowed - refused).days > 1:
            middle = refused + timedelta(days=(allowed - refused).days // 2)
            resp = self._summaries(middle, last)
            if resp.status_code == 402:
                refused = middle
                continue
            self._check(resp)
            allowed, records = middle, self._records(self._body(resp), middle)
        return records, allowed

    def _plan_message(self, allowed_from: date, today: date) -> str:
        days = (today - allowed_from).days + 1
        if days <= 0:
            return f"{self.label}'s plan gives no history through the API; nothing older than today was imported."
        return (f"{self.label}'s plan allows history back to {allowed_from:%Y-%m-%d} ({days} days); "
                "older days were not imported.")

    # -- records -------------------------------------------------------------------------------------

    def _records(self, body: dict, first: date) -> list[ActivityRecord]:
        """Days are read one by one: the range total (`cumulative_total`) is display data, never trusted."""
        records = []
        for position, entry in enumerate(body["data"]):
            if not isinstance(entry, dict):
                continue
            record = self._day_record(entry, first + timedelta(days=position))
            if record:
                records.append(record)
        return records

    def _day_record(self, entry: dict, position_day: date) -> ActivityRecord | None:
        grand_total = entry.get("grand_total") if isinstance(entry.get("grand_total"), dict) else {}
        seconds = number(grand_total.get("total_seconds"))
        minutes = round(seconds / 60)
        if minutes <= 0:
            return None
        day = entry_day(entry, position_day)
        details = {"total_seconds": round(seconds)}
        for key in BREAKDOWNS:
            details[key] = breakdown(entry.get(key))
        return ActivityRecord(
            external_id=f"wakatime:{day.isoformat()}", service="wakatime", minutes=minutes,
            title=day_title(details), date=day, details=details, replace=True,
        )


def entry_day(entry: dict, position_day: date) -> date:
    """The local day of a summary: `range.date` (WakaTime), else the local date written in `range.start`
    (Wakapi puts a timestamp of "now" in `range.date`), else its position in the requested range."""
    rng = entry.get("range") if isinstance(entry.get("range"), dict) else {}
    day = parse_day(rng.get("date"))
    if day:
        return day
    start = parse_datetime(rng.get("start"))
    if start and start.utcoffset() != timedelta(0):
        return start.date()
    return position_day


def breakdown(entries) -> list[dict]:
    """`[{name, seconds}]` sorted by time, biggest first; entries without a name or time are dropped."""
    rows = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        name, seconds = text(entry.get("name")), round(number(entry.get("total_seconds")))
        if name and seconds > 0:
            rows.append({"name": name, "seconds": seconds})
    rows.sort(key=lambda row: -row["seconds"])
    return rows[:MAX_BREAKDOWN_ENTRIES]


def day_title(details: dict, top: int = 3) -> str:
    """"habit-ledger, api · Python, Go": the day's top projects, then its top languages."""
    projects = ", ".join(row["name"] for row in details.get("projects", [])[:top])
    languages = ", ".join(row["name"] for row in details.get("languages", [])[:top])
    title = " · ".join(part for part in (projects, languages) if part) or "Coding"
    return title if len(title) <= 255 else title[:254] + "…"
