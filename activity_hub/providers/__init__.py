"""Provider registry: every provider class by slug, plus what the Connect page says about each source.

Adding a provider is one line in `_CLASSES` below (after writing its module against `base.Provider`).
A source in `CATALOGUE` without a registered class shows as "coming soon" on the Connect page.
"""

from dataclasses import dataclass

from .base import Credentials, Provider
from .codewars import Codewars
from .exercism import Exercism
from .github import GitHubProvider
from .http import HttpClient
from .wakatime import WakaTime

_CLASSES: tuple[type[Provider], ...] = (
    GitHubProvider,
    WakaTime,
    Codewars,
    Exercism,
)

PROVIDERS: dict[str, type[Provider]] = {cls.slug: cls for cls in _CLASSES}


@dataclass(frozen=True)
class SourceInfo:
    """How the Connect page presents a source: its name, what it imports and how it connects."""

    slug: str
    name: str
    imports: str
    connect_with: str  # "oauth" (a button) or "form" (templates/connect/_form_<slug>.html)


CATALOGUE: tuple[SourceInfo, ...] = (
    SourceInfo("github", "GitHub", "Your pushes, pull requests, reviews and issues, summed up per day. "
               "GitHub keeps only the last 30 days (300 events), so Activity Hub stores them as they come.", "oauth"),
    SourceInfo("wakatime", "WakaTime", "Your coding time per day from WakaTime, or from a compatible server "
               "such as Wakapi or Hackatime.", "form"),
    SourceInfo("codewars", "Codewars", "Every kata you complete, with its language.", "form"),
    SourceInfo("exercism", "Exercism", "The exercises you solve on every Exercism track.", "form"),
)
SOURCES: dict[str, SourceInfo] = {info.slug: info for info in CATALOGUE}


def is_registered(slug: str) -> bool:
    return slug in PROVIDERS


def build_provider(slug: str, credentials: Credentials, *, base_url: str, timeout: tuple[float, float],
                   retries: int = 3, backoff: float = 0.5, options: dict | None = None,
                   allow_private_urls: bool = True) -> Provider:
    """A provider instance with its own HTTP session (one per run). Raises KeyError for an unknown slug.

    `base.Provider.http_client(credentials, default_base_url, allow_private_urls=..., **http_options)` builds
    the client; a provider class adds its authentication (headers) or normalises a user-given server URL by
    overriding `request_headers` / `server_base`. With `allow_private_urls=False` a server URL from the
    credentials (one the user typed) is refused when its host is not a public address; `base_url` (the
    operator's configured default) is never checked. The default (True) keeps older callers unchanged.
    """
    cls = PROVIDERS[slug]
    http_options = {"timeout": timeout, "retries": retries, "backoff": backoff}
    make_http = getattr(cls, "http_client", None)
    if make_http is not None:
        http = make_http(credentials, base_url, allow_private_urls=allow_private_urls, **http_options)
    else:
        http = HttpClient(credentials.base_url or base_url, allow_private=allow_private_urls or not credentials.base_url,
                          **http_options)
    return cls(http, credentials, options)


__all__ = ["CATALOGUE", "PROVIDERS", "SOURCES", "SourceInfo", "build_provider", "is_registered"]
