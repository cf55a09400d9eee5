"""Connecting a source through a form (WakaTime, Codewars, Exercism): validate with one real request,
then save the connection with its secret encrypted and queue the first import.

Nothing is saved when validation fails; the error is written for the person filling in the form and
never contains the secret they typed.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import requests
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..crypto import mask, secret_box
from ..extensions import db
from ..models import Integration
from ..providers import PROVIDERS, build_provider
from ..providers.base import Account, Credentials, InvalidAccount, ProviderError, RateLimited
from ..providers.wakatime import api_base

VALIDATE_TIMEOUT = (4.0, 8.0)  # a person is waiting: two tries stay well inside gunicorn's 30 s worker timeout
MAX_SECRET_LENGTH = 512


@dataclass
class FormSpec:
    """What a source's connect form asks for; `secret` names the field that is encrypted at rest."""

    fields: tuple[str, ...]
    required: dict[str, str]  # field -> message when empty
    secret: str | None = None
    server: str | None = None  # the field with an optional API base (WakaTime-compatible servers)
    secret_label: str = "key"
    options: dict[str, "Option"] = field(default_factory=dict)  # saved in Integration.settings


@dataclass(frozen=True)
class Option:
    """A whole-number setting the provider reads from its options (an empty field means the default)."""

    default: int
    low: int
    high: int
    label: str


FORMS = {
    "wakatime": FormSpec(("api_key", "server_url", "backfill_days"), {"api_key": "Enter your WakaTime API key."},
                         "api_key", "server_url", "API key",
                         {"backfill_days": Option(365, 1, 3650, "Days of history to import")}),
    "codewars": FormSpec(("username", "minutes_per_kata"), {"username": "Enter your Codewars username."},
                         options={"minutes_per_kata": Option(20, 1, 600, "Minutes counted per kata")}),
    "exercism": FormSpec(("token", "minutes_per_solution"), {"token": "Enter your Exercism API token."}, "token",
                         secret_label="API token",
                         options={"minutes_per_solution": Option(30, 1, 600, "Minutes counted per exercise")}),
}


@dataclass
class ConnectResult:
    integration: Integration | None = None
    error: str | None = None
    values: dict = field(default_factory=dict)  # what to put back in the form (never the secret)


def form_values(slug: str, form: Mapping) -> dict:
    """The form's fields, stripped; the secret field is left out."""
    spec = FORMS[slug]
    return {name: (form.get(name) or "").strip() for name in spec.fields if name != spec.secret}


def options_from(slug: str, form: Mapping) -> dict:
    """The form's whole-number settings, defaults for empty fields; raises InvalidAccount when out of range."""
    settings = {}
    for name, option in FORMS[slug].options.items():
        raw = (form.get(name) or "").strip()
        try:
            value = int(raw) if raw else option.default
        except ValueError:
            value = None
        if value is None or not option.low <= value <= option.high:
            raise InvalidAccount(f"{option.label} must be a whole number from {option.low} to {option.high}.")
        settings[name] = value
    return settings


def credentials_from(slug: str, form: Mapping) -> Credentials:
    """Credentials from a connect form; raises InvalidAccount for a malformed key or server URL."""
    spec = FORMS[slug]
    secret = (form.get(spec.secret) or "").strip() if spec.secret else None
    if secret and (len(secret) > MAX_SECRET_LENGTH or not all(33 <= ord(c) < 127 for c in secret)):
        raise InvalidAccount(f"That {spec.secret_label} does not look right: paste it again, without spaces or "
                             "line breaks.")
    server = (form.get(spec.server) or "").strip() if spec.server else ""
    account = (form.get("username") or "").strip() or None
    if account and len(account) > 100:
        raise InvalidAccount("That is too long for a Codewars username (at most 100 characters).")
    return Credentials(secret=secret or None, account=account, base_url=api_base(server) if server else None)


def validate(slug: str, credentials: Credentials, timezone: str = "UTC") -> Account:
    """One real request to the provider with a short timeout; raises ProviderError with a message in words.

    A server URL the user typed is refused when its host is loopback, link-local, private or otherwise not
    public, unless the operator set ALLOW_PRIVATE_PROVIDER_URLS (the configured API bases are not checked)."""
    config = current_app.config
    timeout = (VALIDATE_TIMEOUT[0], min(VALIDATE_TIMEOUT[1], float(config.get("HTTP_TIMEOUT", 30))))
    provider = build_provider(
        slug, credentials, base_url=config[f"{slug.upper()}_API_URL"], timeout=timeout,
        retries=int(config.get("CONNECT_HTTP_RETRIES", 1)), backoff=0.5, options={"timezone": timezone},
        allow_private_urls=bool(config.get("ALLOW_PRIVATE_PROVIDER_URLS", False)),
    )
    with provider.http:
        return provider.validate()


def connect_with_form(user, slug: str, form: Mapping) -> ConnectResult:
    """Validate the form's credentials, then create (or renew) the user's connection and queue its backfill."""
    if slug not in FORMS or slug not in PROVIDERS:
        return ConnectResult(error="This source cannot be connected with a form.")
    spec = FORMS[slug]
    result = ConnectResult(values=form_values(slug, form))
    missing = [message for name, message in spec.required.items() if not (form.get(name) or "").strip()]
    if missing:
        result.error = " ".join(missing)
        return result
    try:
        settings = options_from(slug, form)
        credentials = credentials_from(slug, form)
        account = validate(slug, credentials, user.timezone)
    except RateLimited as exc:
        result.error = f"{PROVIDERS[slug].name} is limiting requests right now; try again after {exc.retry_at:%H:%M} UTC."
        return result
    except ProviderError as exc:
        result.error = str(exc)
        return result
    except (requests.RequestException, ValueError):  # a URL or header requests refuses; never echo the secret
        result.error = f"Could not send a request to {PROVIDERS[slug].name} with these details; check the server URL."
        return result
    result.integration = save_connection(user, slug, credentials, account, settings)
    from . import sync  # the engine imports providers; imported here to keep this module light

    sync.start_initial_sync(result.integration)
    return result


def save_connection(user, slug: str, credentials: Credentials, account: Account,
                    settings: dict | None = None) -> Integration:
    """Create or renew the connection; a different account than before starts from an empty cursor."""
    integration = _find(user.id, slug)
    if integration is None:
        integration = Integration(user_id=user.id, provider=slug)
        db.session.add(integration)
    elif (integration.account_id, integration.base_url) != (account.id, credentials.base_url):
        integration.cursor = None
    integration.account_id = account.id[:100] or None
    integration.account_name = account.name[:200]
    integration.base_url = credentials.base_url
    integration.credentials_encrypted = secret_box().encrypt(credentials.secret) if credentials.secret else None
    integration.secret_tail = mask(credentials.secret).removeprefix("••••") or None
    integration.status, integration.last_error = "connected", None
    if settings is not None:
        integration.settings = {**(integration.settings or {}), **settings}
    try:
        db.session.commit()
    except IntegrityError:  # the same form submitted twice at once: the other request saved it
        db.session.rollback()
        integration = _find(user.id, slug)
    return integration


def _find(user_id: int, slug: str) -> Integration | None:
    return db.session.scalar(select(Integration).where(Integration.user_id == user_id, Integration.provider == slug))


def wakatime_timezone_changed(user) -> int:
    """A time zone hook: WakaTime's days are local days the server computes, so after a change the whole
    backfill window is read again in the new zone (upserts keep hidden rows hidden). Returns 0 because the
    days change when that sync runs, not now."""
    integration = _find(user.id, "wakatime")
    if integration is None or integration.status == "needs_reauth":
        return 0
    integration.cursor = None
    db.session.commit()
    from . import sync

    try:
        sync.request_sync(integration, trigger="manual")
    except sync.SyncUnavailable:
        pass  # the cursor is cleared: the next daily sync reads the year in the new zone
    return 0
