"""The HTTP policy every provider shares: one session per run, timeouts, retries with backoff and jitter
for connection errors and 5xx on GETs, and rate limits turned into `RateLimited` instead of sleeping.

A client for a URL the user typed (a Wakapi server) is built with `allow_private=False` unless the operator
allowed private addresses: it then refuses hosts that resolve to loopback, link-local, private or other
non-global addresses, both before each request and on the address the socket actually connected to (so a
name that changes its answer between the two is refused too).
"""

import email.utils
import ipaddress
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)
USER_AGENT = "ActivityHub/0.1 (+self-hosted)"


class _Retry(Retry):
    """Honour Retry-After only for 503; a 429 becomes RateLimited so the job is re-scheduled, not slept."""

    RETRY_AFTER_STATUS_CODES = frozenset({503})


def display_host(url: str) -> str:
    """The host of a URL as messages show it: hostname plus port, never the `user:password@` part."""
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return "the server"
    if not hostname:
        return "the server"
    if ":" in hostname:  # an IPv6 literal
        hostname = f"[{hostname}]"
    return f"{hostname}:{port}" if port else hostname


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address; False for loopback, link-local (169.254.0.0/16,
    fe80::/10), private, shared, reserved, multicast and unspecified ones (IPv4-mapped IPv6 judged as IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_loopback or ip.is_link_local or ip.is_reserved
                                 or ip.is_unspecified or ip.is_private)


class _RefusedAddress(Exception):
    """Raised inside the connection when the socket reached a non-public address."""


class _PublicPeerOnly:
    """Mixed into urllib3's connections: refuse a socket whose peer is not a public address."""

    def _new_conn(self):
        sock = super()._new_conn()
        peer = sock.getpeername()[0]
        if not is_public_address(peer):
            sock.close()
            raise _RefusedAddress(peer)
        return sock


class _PublicOnlyHTTPConnection(_PublicPeerOnly, HTTPConnection):
    pass


class _PublicOnlyHTTPSConnection(_PublicPeerOnly, HTTPSConnection):
    pass


class _PublicOnlyHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicOnlyHTTPConnection


class _PublicOnlyHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicOnlyHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    """Connections whose peer address is checked after connecting (closes the DNS-rebinding gap)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicOnlyHTTPPool, "https": _PublicOnlyHTTPSPool}


def private_address_message(host: str) -> str:
    return (f"{host} is a private or local address, which this server does not contact. Use the server's "
            "public address, or ask whoever runs Activity Hub to allow private addresses "
            "(ALLOW_PRIVATE_PROVIDER_URLS).")


def check_public_host(url: str) -> None:
    """Resolve the URL's host and raise InvalidAccount if any of its addresses is not public; no request is
    made. A name that does not resolve raises TransientError (the same as a failed connection)."""
    from .base import InvalidAccount, TransientError

    host = display_host(url)
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidAccount("The server URL must be a web address such as https://wakapi.example.org") from None
    if not hostname:
        raise InvalidAccount("The server URL must be a web address such as https://wakapi.example.org")
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise TransientError(f"Could not reach {host}: the name does not resolve") from None
    if not infos or not all(is_public_address(info[4][0]) for info in infos):
        raise InvalidAccount(private_address_message(host))


class HttpClient:
    def __init__(self, base_url: str, *, headers: dict | None = None, auth=None,
                 timeout: tuple[float, float] = (5.0, 30.0), retries: int = 3, backoff: float = 0.5,
                 allow_private: bool = True):
        self.base_url = base_url.rstrip("/")
        self.host = display_host(self.base_url)
        self.allow_private = allow_private
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
        adapter = HTTPAdapter(max_retries=retry) if allow_private else _PublicOnlyAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.requests_made = 0

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def get(self, path_or_url: str, **kwargs) -> requests.Response:
        """GET with the policy; network failures become TransientError (imported lazily to avoid a cycle)."""
        from .base import InvalidAccount, TransientError

        url = self.url(path_or_url)
        if not self.allow_private:
            check_public_host(url)
        self.requests_made += 1
        try:
            return self.session.get(url, timeout=self.timeout, **kwargs)
        except _RefusedAddress:
            raise InvalidAccount(private_address_message(display_host(url))) from None
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
