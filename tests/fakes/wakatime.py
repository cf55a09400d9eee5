"""A fake WakaTime (or Wakapi) summaries API on pytest-httpserver, shaped like shared/reference/providers.md §3.

WakaTime: HTTP Basic with base64(key) or base64(key + ":"), JSON errors (`{"error": "Unauthorized"}`),
`range.date` is the local day and `range.start/end` are UTC, 402 outside the plan window.
Wakapi: Basic or Bearer with base64(key), plain-text errors, `range.date` is a timestamp of "now",
`range.start/end` carry local offsets (the last `end` with nanoseconds), no `decimal` in `grand_total`.
"""

import base64
import binascii
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

from .scripted import Script, json_response, text_response

WAKATIME_PATH = "/api/v1"
WAKAPI_PATH = "/api/compat/wakatime/v1"


class FakeWakaTime:
    def __init__(self, httpserver, *, variant: str = "wakatime", api_key: str = "waka_0f8c2d4e-7b1a-4c39-9e55-3f9a",
                 today: date = date(2026, 11, 26), plan_days: int | None = None,
                 total_key: str | None = "cumulative_total"):
        self.variant = variant
        self.prefix = WAKATIME_PATH if variant == "wakatime" else WAKAPI_PATH
        self.base_url = httpserver.url_for(self.prefix).rstrip("/")
        self.root_url = httpserver.url_for("/").rstrip("/")
        self.api_key = api_key
        self.today = today
        self.plan_days = plan_days
        self.total_key = total_key  # "cummulative_total" like pre-2023 servers, None to leave it out
        self.days: dict[date, dict[str, dict[str, float]]] = {}
        self.requests: list[tuple[str, str]] = []  # (start, end) of every authorised summaries request
        self.requested_timezones: set[str] = set()
        self.script = Script()
        self.server = httpserver
        httpserver.expect_request(f"{self.prefix}/users/current/summaries").respond_with_handler(self._summaries)

    def answer_404_elsewhere(self) -> None:
        """Unknown paths get Wakapi's plain 404 (call last: it shadows handlers registered after it)."""
        self.server.expect_request(re.compile(".*")).respond_with_data("404 page not found", status=404)

    def add_day(self, day: date, projects: dict[str, float], languages: dict[str, float] | None = None,
                editors: dict[str, float] | None = None) -> None:
        """Coding time on `day`: seconds per project (the day's total), per language and per editor."""
        total = sum(projects.values())
        self.days[day] = {"projects": projects, "languages": languages or {"Python": total},
                          "editors": editors or {"VS Code": total}, "categories": {"Coding": total},
                          "operating_systems": {"Linux": total}, "machines": {"mira-laptop": total}}

    def add_year(self, seconds_for=lambda i: 1800 + (i % 7) * 600, days: int = 365) -> int:
        """A day of coding on most days of the last `days`; returns how many days have time."""
        active = 0
        for i in range(days):
            if i % 5 == 4:  # every fifth day is a zero day
                continue
            self.add_day(self.today - timedelta(days=i), {"habit-ledger": seconds_for(i) * 0.7,
                                                          "activity-hub": seconds_for(i) * 0.3},
                         {"Python": seconds_for(i) * 0.6, "TypeScript": seconds_for(i) * 0.4})
            active += 1
        return active

    # -- the endpoint --------------------------------------------------------------------------------

    def _summaries(self, request: Request) -> Response:
        if not self._authorised(request.headers.get("Authorization", "")):
            return (json_response({"error": "Unauthorized"}, 401) if self.variant == "wakatime"
                    else text_response("401 unauthorized", 401))
        scripted = self.script.next(request)
        if scripted is not None:
            return scripted
        try:
            start, end = date.fromisoformat(request.args["start"]), date.fromisoformat(request.args["end"])
        except KeyError as exc:
            return self._bad_request(f"missing required '{exc.args[0]}' parameter")
        except ValueError:
            return self._bad_request("invalid date")
        if end < start:
            return self._bad_request("'end' date must be after 'start' date")
        self.requests.append((start.isoformat(), end.isoformat()))
        self.requested_timezones.add(request.args.get("timezone") or "")
        if self.plan_days and start < self.today - timedelta(days=self.plan_days - 1):
            return json_response({"error": "Requested range is outside of your plan's history. Upgrade to access."},
                                 402)
        tz = ZoneInfo(request.args.get("timezone") or "UTC")
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        data = [self._day(day, tz, last=(day == end)) for day in days]
        total = sum(entry["grand_total"]["total_seconds"] for entry in data)
        body = {"data": data, "start": data[0]["range"]["start"], "end": data[-1]["range"]["end"]}
        if self.total_key:
            body[self.total_key] = {"seconds": total, "text": _text(total), "decimal": f"{total / 3600:.2f}",
                                    "digital": _digital(total, with_seconds=False)}
        if self.total_key == "cumulative_total":
            active = sum(1 for e in data if e["grand_total"]["total_seconds"])
            body["daily_average"] = {"holidays": len(data) - active, "days_including_holidays": len(data),
                                     "days_minus_holidays": active, "seconds": int(total / max(active, 1)),
                                     "text": _text(total / max(active, 1))}
        return json_response(body)

    def _authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme not in (("Basic",) if self.variant == "wakatime" else ("Basic", "Bearer")):
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded in (self.api_key, self.api_key + ":")

    def _bad_request(self, message: str) -> Response:
        if self.variant == "wakatime":
            return json_response({"errors": {"start": [message]}}, 400)
        return text_response(message, 400)

    def _day(self, day: date, tz: ZoneInfo, last: bool) -> dict:
        stored = self.days.get(day, {})
        total = sum(stored.get("projects", {}).values())
        start = datetime.combine(day, time(0), tz)
        end = datetime.combine(day, time(23, 59, 59), tz)
        entry = {"grand_total": self._grand_total(total)}
        for key in ("categories", "projects", "languages", "editors", "operating_systems", "machines"):
            entry[key] = [self._entry(name, seconds, total) for name, seconds in
                          sorted(stored.get(key, {}).items(), key=lambda kv: -kv[1])]
        entry["dependencies"] = []
        if self.variant == "wakatime":
            entry["range"] = {"date": day.isoformat(), "start": _utc(start), "end": _utc(end),
                              "text": day.strftime("%a %b %d %Y"), "timezone": str(tz)}
        else:
            end_text = end.isoformat()
            if last:  # Wakapi's inclusive end comes out one second short, with nanoseconds
                short = end - timedelta(seconds=1)
                end_text = short.strftime("%Y-%m-%dT%H:%M:%S") + ".999999999" + short.isoformat()[19:]
            entry["range"] = {"date": datetime.now(UTC).astimezone(tz).isoformat(), "start": start.isoformat(),
                              "end": end_text, "text": "", "timezone": start.tzname()}
        return entry

    def _grand_total(self, seconds: float) -> dict:
        hours, minutes = int(seconds // 3600), int(seconds % 3600 // 60)
        total = {"digital": _digital(seconds, with_seconds=False, pad=self.variant == "wakatime"), "hours": hours,
                 "minutes": minutes, "text": _text(seconds), "total_seconds": seconds}
        if self.variant == "wakatime":
            total.update(decimal=f"{seconds / 3600:.2f}", ai_additions=0, human_additions=12)
        return total

    def _entry(self, name: str, seconds: float, day_total: float) -> dict:
        entry = {"name": name, "total_seconds": seconds, "percent": round(100 * seconds / day_total, 2),
                 "digital": _digital(seconds, pad=self.variant == "wakatime"), "text": _text(seconds),
                 "hours": int(seconds // 3600), "minutes": int(seconds % 3600 // 60), "seconds": int(seconds % 60)}
        if self.variant == "wakatime":
            entry.update(decimal=f"{seconds / 3600:.2f}", machine_name_id="6f0e2c41-8b7d-4a93-9e15-2d7c3b8a5f60")
        return entry


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digital(value: float, with_seconds: bool = True, pad: bool = True) -> str:
    """WakaTime pads ("4:05:09", totals "4:05"); Wakapi does not ("4:5:9", "4:5")."""
    h, m, s = int(value // 3600), int(value % 3600 // 60), int(value % 60)
    if pad:
        return f"{h}:{m:02d}:{s:02d}" if with_seconds else f"{h}:{m:02d}"
    return f"{h}:{m}:{s}" if with_seconds else f"{h}:{m}"


def _text(seconds: float) -> str:
    h, m = int(seconds // 3600), int(seconds % 3600 // 60)
    return f"{h} hrs {m} mins" if h else (f"{m} mins" if m else "0 secs")
