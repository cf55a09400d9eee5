"""The provider interface: validate credentials, then fetch records page by page since a cursor.

Provider modules import nothing from Flask, so the same code runs in web, worker and tests. Errors carry
messages written for the person who owns the connection and never contain a secret.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime
from typing import Any, ClassVar

from .http import HttpClient


class ProviderError(Exception):
    """A failure the user can read. `str(exc)` is safe to show and store."""


class AuthError(ProviderError):
    """The provider rejected the credentials (401): the connection needs to be reconnected."""


class InvalidAccount(ProviderError):
    """Validation failed for a reason the user can fix (unknown user, not onboarded...)."""


class TransientError(ProviderError):
    """Network trouble or 5xx after retries: worth trying again later."""


class RateLimited(ProviderError):
    """The provider asked us to wait until `retry_at` (aware UTC)."""

    def __init__(self, message: str, retry_at: datetime):
        super().__init__(message)
        self.retry_at = retry_at


class MalformedResponse(ProviderError):
    """The provider answered something that is not the JSON we expect."""


@dataclass(frozen=True)
class Credentials:
    secret: str | None = None  # token or API key (decrypted only in memory)
    account: str | None = None  # login / username when the API needs it
    base_url: str | None = None  # overrides the configured API base (Wakapi, GitHub Enterprise...)


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    details: dict = field(default_factory=dict)


@dataclass
class ActivityRecord:
    """One activity as the provider sees it. `date` None means: the local day of `occurred_at`."""

    external_id: str
    service: str
    minutes: int
    title: str
    occurred_at: datetime | None = None
    date: Date | None = None
    details: dict | None = None
    replace: bool = False  # True: update the stored row when it changed (WakaTime days, Exercism status)


@dataclass
class RawEvent:
    """A GitHub event kept as received (trimmed payload); day activities are derived from these."""

    event_id: str
    type: str
    created_at: datetime
    repo_name: str | None = None
    repo_id: int | None = None
    payload: dict | None = None


@dataclass
class Page:
    """One step of a fetch: its records, and progress as `done` of `total` (`total` None when unknown)."""

    records: list[Any]
    done: int
    total: int | None = None
    unit: str = "pages"
    cursor: dict | None = None  # set on the last page: what the next sync starts from
    message: str | None = None  # something the user should know (e.g. "plan allows 14 days")


class Provider(ABC):
    slug: ClassVar[str]
    name: ClassVar[str]

    def __init__(self, http: HttpClient, credentials: Credentials, options: dict | None = None):
        self.http = http
        self.credentials = credentials
        self.options = options or {}

    # -- building the HTTP client (used by `providers.build_provider`) --------------------------------

    @classmethod
    def request_headers(cls, credentials: Credentials) -> dict:
        """Headers every request carries (authentication, Accept); none by default."""
        return {}

    @classmethod
    def server_base(cls, url: str) -> str:
        """The API base for a server URL the user gave (`Credentials.base_url`); as given by default."""
        return url

    @classmethod
    def http_client(cls, credentials: Credentials, default_base_url: str, *, allow_private_urls: bool = True,
                    **http_options) -> HttpClient:
        """A client for the user's server URL (normalised by `server_base`) or else the configured default.

        `allow_private_urls=False` refuses a user-given server whose host is loopback, link-local, private or
        otherwise not public; the configured default base is the operator's choice and is never checked."""
        custom = bool(credentials.base_url)
        base = cls.server_base(credentials.base_url) if custom else default_base_url
        return HttpClient(base, headers=cls.request_headers(credentials),
                          allow_private=allow_private_urls or not custom, **http_options)

    # -- options -------------------------------------------------------------------------------------

    def _int_option(self, key: str, default: int) -> int:
        """A whole-number option of at least 1; `default` when missing, empty or not a number."""
        try:
            return max(1, int(self.options.get(key) or default))
        except (TypeError, ValueError):
            return default

    @abstractmethod
    def validate(self) -> Account:
        """One real request that proves the credentials work; raises AuthError/InvalidAccount/..."""

    @abstractmethod
    def fetch(self, cursor: dict | None) -> Iterator[Page]:
        """Yield pages of records newer than `cursor`; the last page carries the next cursor."""
