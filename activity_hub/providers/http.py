"""The HTTP policy every provider shares: one session per run, timeouts, retries with backoff and jitter
for connection errors and 5xx on GETs, and rate limits turned into `RateLimited` instead of sleeping."""

import email.utils
import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)
USER_AGENT = "ActivityHub/0.1 (+self-hosted)"


class _Retry(Retry):
    """Honour Retry-After only for 503; a 429 becomes RateLimited so the job is re-scheduled, not slept."""

    RETRY_AFTER_STATUS_CODES = frozenset({503})


class HttpClient:
    def __init__(self, base_url: str, *, headers: dict | None = None, auth=None,
                 timeout: tuple[float, float] = (5.0, 30.0), retries: int = 3, backoff: float = 0.5):
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        self.session.auth = auth
        retry = _Retry(
            total=retries, connect=retries, read=retries, status=retries, other=0,
            backoff_factor=backoff, backoff_jitter=backoff, backoff_max=30,
            status_forcelist=(500, 502, 503, 504), allowed_methods=frozenset({"GET"}),
            raise_on_status=False, retry_after_max=30,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.requests_made = 0

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def get(self, path_or_url: str, **kwargs) -> requests.Response:
        """GET with the policy; network failures become TransientError (imported lazily to avoid a cycle)."""
        from .base import TransientError

        self.requests_made += 1
        try:
            return self.session.get(self.url(path_or_url), timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise TransientError(f"Could not reach {self.host}: timed out") from None
        except requests.exceptions.RetryError:
            raise TransientError(f"{self.host} kept failing; will try again later") from None
        except requests.ConnectionError as exc:
            if "timed out" in str(exc).lower():  # read timeouts that exhausted the retries arrive wrapped
                raise TransientError(f"Could not reach {self.host}: timed out") from None
            raise TransientError(f"Could not reach {self.host}: connection failed") from None

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def retry_after(resp: requests.Response, now: datetime | None = None, default: float = 60.0) -> datetime:
    """When a rate-limited request may be retried: Retry-After (seconds or date), else X-RateLimit-Reset."""
    now = now or datetime.now(UTC)
    value = resp.headers.get("Retry-After")
    if value:
        if value.strip().isdigit():
            return now + timedelta(seconds=int(value))
        try:
            return email.utils.parsedate_to_datetime(value).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    reset = resp.headers.get("X-RateLimit-Reset")
    if reset and reset.strip().isdigit():
        return datetime.fromtimestamp(int(reset), UTC)
    return now + timedelta(seconds=default)


def is_rate_limited(resp: requests.Response) -> bool:
    """429 always; 403 only with rate-limit signs (remaining 0, Retry-After, or the message says so)."""
    if resp.status_code == 429:
        return True
    if resp.status_code != 403:
        return False
    if resp.headers.get("X-RateLimit-Remaining") == "0" or resp.headers.get("Retry-After"):
        return True
    return "rate limit" in resp.text[:500].lower()


def raise_for_common(resp: requests.Response, host: str, service: str) -> None:
    """Turn the answers every provider shares into ProviderErrors: 401, rate limits, 5xx, other errors."""
    from .base import AuthError, ProviderError, RateLimited, TransientError

    status = resp.status_code
    if status < 400:
        return
    if status == 401:
        raise AuthError(f"{service} rejected the saved credentials (401). Reconnect to keep syncing.")
    if is_rate_limited(resp):
        when = retry_after(resp)
        raise RateLimited(f"Waiting for {service}'s rate limit until {when:%H:%M} UTC", when)
    if status >= 500:
        raise TransientError(f"{service} is having trouble ({status}); will try again later")
    raise ProviderError(f"{service} answered {status} for {urlsplit(resp.url).path}")


def json_body(resp: requests.Response, service: str):
    """Parse JSON or raise MalformedResponse with a readable message."""
    from .base import MalformedResponse

    try:
        return resp.json()
    except (ValueError, json.JSONDecodeError):
        raise MalformedResponse(f"{service} sent a response that is not valid JSON") from None
