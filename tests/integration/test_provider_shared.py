"""What the form providers share through `base.Provider`: building the HTTP client (headers, server URL,
the private-address setting) and reading whole-number options; and the connect forms' shared frame."""

import re
from pathlib import Path

import pytest

from activity_hub.providers import PROVIDERS, build_provider
from activity_hub.providers.base import Credentials, Provider
from activity_hub.providers.codewars import Codewars
from activity_hub.providers.exercism import Exercism
from activity_hub.providers.wakatime import WakaTime

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "connect"
FORM_SOURCES = ("wakatime", "codewars", "exercism")


def test_http_client_and_int_option_live_once_in_provider():
    for cls in (WakaTime, Codewars, Exercism):
        assert "http_client" not in vars(cls) and "_int_option" not in vars(cls)
        assert cls.http_client.__func__ is Provider.http_client.__func__


@pytest.mark.parametrize("slug, headers", [
    ("codewars", {"Accept": "application/json"}),
    ("exercism", {"Accept": "application/json", "Authorization": "Bearer tok-123"}),
    ("wakatime", {"Accept": "application/json", "Authorization": "Basic dG9rLTEyMw=="}),
])
def test_build_provider_uses_each_providers_headers_and_takes_the_private_address_setting(slug, headers):
    provider = build_provider(slug, Credentials(secret=" tok-123 ", account="mira"), base_url="https://api.example.org/v1",
                              timeout=(1.0, 1.0), allow_private_urls=False)
    assert isinstance(provider, PROVIDERS[slug]) and provider.http.base_url == "https://api.example.org/v1"
    assert {k: provider.http.session.headers[k] for k in headers} == headers
    assert provider.http.allow_private  # the configured base is the operator's: never checked


def test_a_user_given_server_url_is_normalised_and_checked():
    provider = build_provider("wakatime", Credentials(secret="k", base_url="https://wakapi.example.org"),
                              base_url="https://api.wakatime.invalid/api/v1", timeout=(1.0, 1.0),
                              allow_private_urls=False)
    assert provider.http.base_url == "https://wakapi.example.org/api/compat/wakatime/v1"
    assert provider.http.allow_private is False


@pytest.mark.parametrize("value, expected", [(None, 20), ("", 20), ("abc", 20), ("0", 1), ("-4", 1), ("15", 15), (7, 7)])
def test_int_option_is_shared(value, expected):
    codewars = Codewars(None, Credentials(), {"minutes_per_kata": value})
    assert codewars._minutes() == codewars._int_option("minutes_per_kata", 20) == expected


# -- the connect forms share one frame -----------------------------------------------------------------

@pytest.mark.parametrize("slug", FORM_SOURCES)
def test_form_templates_use_the_shared_frame_instead_of_repeating_it(slug):
    source = (TEMPLATES / f"_form_{slug}.html").read_text()
    assert 'import connect_form with context' in source and "connect_form(info, integration)" in source
    for repeated in ("csrf_token", "form_errors", "form_values", "<form", 'type="submit"'):
        assert repeated not in source


def form_of(html: str, slug: str) -> str:
    match = re.search(rf'<form[^>]*id="source-{slug}-form".*?</form>', html, re.S)
    assert match, f"no form for {slug}"
    return match.group(0)


def test_each_form_has_csrf_fields_and_its_button(user_client):
    html = user_client.get("/connect/").get_data(as_text=True)
    for slug in FORM_SOURCES:
        form = form_of(html, slug)
        assert form.count('name="csrf_token"') == 1 and 'role="alert"' not in form and "autofocus" not in form
        assert f'action="/connect/{slug}/connect"' in form
        assert re.search(rf'<button type="submit" class="button">Connect {PROVIDERS[slug].name}</button>', form)


def test_a_failed_attempt_shows_its_error_in_its_form_and_keeps_the_values(user_client):
    resp = user_client.post("/connect/codewars/connect", data={"username": "mira", "minutes_per_kata": "ten"})
    html = resp.get_data(as_text=True)
    form = form_of(html, "codewars")
    assert 'role="alert" id="codewars-connect-error">Minutes counted per kata must be a whole number' in form
    assert 'id="codewars-username" autofocus' in form and 'value="mira"' in form and 'value="ten"' in form
    assert 'role="alert"' not in form_of(html, "wakatime") + form_of(html, "exercism")
