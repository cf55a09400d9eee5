"""Codewars: one activity per completed kata, from the public API (no token needed).

`/users/{user}/code-challenges/completed?page=N` lists 200 katas per zero-based page, newest first. A first
sync reads every page; later syncs stop at the first kata the previous sync already saw (the cursor keeps the
newest completion), so a daily sync of an active account costs one request.
"""

from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

from .base import (
    Account,
    ActivityRecord,
    AuthError,
    Credentials,
    InvalidAccount,
    MalformedResponse,
    Page,
    Provider,
    TransientError,
)
from .http import json_body, raise_for_common
from .parsing import number, parse_instant, text

DEFAULT_MINUTES_PER_KATA = 20
SITE_URL = "https://www.codewars.com"


class Codewars(Provider):
    slug = "codewars"
    name = "Codewars"

    @classmethod
    def request_headers(cls, credentials: Credentials) -> dict:
        """No authentication: every v1 endpoint is public."""
        return {"Accept": "application/json"}

    @property
    def username(self) -> str:
        return (self.credentials.account or "").strip()

    def _minutes(self) -> int:
        return self._int_option("minutes_per_kata", DEFAULT_MINUTES_PER_KATA)

    def validate(self) -> Account:
        """Look the user up; returns the canonical username Codewars spells."""
        if not self.username:
            raise InvalidAccount("Enter your Codewars username")
        body = self._get(f"users/{quote(self.username, safe='')}")
        if not isinstance(body, dict):
            raise MalformedResponse("Codewars sent a user profile that is not a JSON object")
        username = text(body.get("username"), self.username)
        challenges = body.get("codeChallenges") if isinstance(body.get("codeChallenges"), dict) else {}
        details = {"completed": int(number(challenges.get("totalCompleted"))), "honor": body.get("honor")}
        return Account(id=text(body.get("id"), username), name=username, details=details)

    def fetch(self, cursor: dict | None) -> Iterator[Page]:
        stop_at = _cursor_key(cursor)
        seen: set[str] = set()
        newest: tuple[datetime, str] | None = None
        page = 0
        path = f"users/{quote(self.username, safe='')}/code-challenges/completed"
        while True:
            body = self._get(path, params={"page": page}, syncing=True)
            items, total_pages = _page_items(body)
            records, reached_known = [], False
            for item in items:
                completed_at, kata_id = parse_instant(item.get("completedAt")), text(item.get("id"))
                if not completed_at or not kata_id:
                    continue
                if stop_at and (completed_at, kata_id) <= stop_at:
                    reached_known = True
                    break
                if newest is None or (completed_at, kata_id) > newest:
                    newest = (completed_at, kata_id)
                key = f"{kata_id}:{completed_at:%Y-%m-%dT%H:%M:%S.%f}"
                if key not in seen:
                    seen.add(key)
                    records.append(self._record(item, kata_id, completed_at))
            page += 1
            last = reached_known or not items or page >= total_pages
            if last:
                latest = newest or stop_at
                next_cursor = {"completed_at": latest[0].isoformat(), "kata_id": latest[1]} if latest else {}
                yield Page(records, done=page, total=page, cursor=next_cursor)
                return
            yield Page(records, done=page, total=total_pages)

    def _get(self, path: str, params: dict | None = None, syncing: bool = False):
        resp = self.http.get(path, params=params)
        if resp.status_code == 404 and syncing:  # renamed or deleted since connecting: the card offers its form
            raise AuthError(f"Codewars has no user named '{self.username}' any more. Reconnect with your "
                            "current username to keep syncing.")
        if resp.status_code == 404:
            raise InvalidAccount(f"No Codewars user named '{self.username}'")
        if resp.status_code == 403 and "json" not in resp.headers.get("Content-Type", ""):
            raise TransientError("Codewars is turning automated requests away right now (403); will try again later")
        raise_for_common(resp, self.http.host, self.name)
        return json_body(resp, self.name)

    def _record(self, item: dict, kata_id: str, completed_at: datetime) -> ActivityRecord:
        name = text(item.get("name"), "Untitled kata")
        languages = unique_languages(item.get("completedLanguages"))
        slug = text(item.get("slug"))
        title = f"{name} ({', '.join(languages)})" if languages else name
        return ActivityRecord(
            external_id=f"codewars:{kata_id}:{completed_at:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z",
            service="codewars", minutes=self._minutes(), title=title[:255], occurred_at=completed_at,
            details={"kata_id": kata_id, "slug": slug or None, "name": name, "languages": languages,
                     "url": f"{SITE_URL}/kata/{slug or kata_id}"},
        )


def unique_languages(value) -> list[str]:
    """Languages in the order given, each once (the API has repeated them)."""
    languages: list[str] = []
    for language in value if isinstance(value, list) else []:
        name = text(language)
        if name and name not in languages:
            languages.append(name)
    return languages


def _page_items(body) -> tuple[list[dict], int]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(data if data is not None else [], list):
        raise MalformedResponse("Codewars sent a page of completed katas without a list of katas")
    items = [item for item in data or [] if isinstance(item, dict)]
    return items, int(number(body.get("totalPages")))


def _cursor_key(cursor: dict | None) -> tuple[datetime, str] | None:
    """The newest kata the previous sync saw, as a comparable (completedAt, id)."""
    completed_at = parse_instant((cursor or {}).get("completed_at"))
    return (completed_at, (cursor or {}).get("kata_id") or "") if completed_at else None
