"""Server URLs a user types (Wakapi / Hackatime): refused in words when they carry a password, a query or a
fragment, or point at a private or local address (unless the operator allowed those); hosts in messages never
carry the `user:password@` part; and the configured API bases stay the operator's choice."""

from datetime import date

import pytest
from sqlalchemy import func, select

from activity_hub.crypto import secret_box
from activity_hub.extensions import db
from activity_hub.models import Integration, SyncRun, User
from activity_hub.providers import build_provider
from activity_hub.providers import http as http_module
from activity_hub.providers.base import Credentials, InvalidAccount, ProviderError
from activity_hub.providers.http import HttpClient, is_public_address
from activity_hub.providers.wakatime import WakaTime, api_base
from activity_hub.services import connections
from tests.fakes.wakatime import FakeWakaTime

TODAY = date(2026, 11, 26)
FAST = {"timeout": (1.0, 0.5), "retries": 0, "backoff": 0}


# -- the URL's shape -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, words", [
    ("https://bob:s3cret@wakapi.lan", "must not contain a user name or password"),
    ("https://bob@wakapi.lan/api/compat/wakatime/v1", "must not contain a user name or password"),
    ("https://wakapi.example.org/api/compat/wakatime/v1?x=1", "must not contain ? or #"),
    ("https://wakapi.example.org/?", "must not contain ? or #"),
    ("https://evil.example.org/anything/I/want#", "must not contain ? or #"),
    ("https://wakapi.example.org/api#frag", "must not contain ? or #"),
    ("ftp://wakapi.example.org", "must be a web address"),
    ("file:///etc/passwd", "must be a web address"),
    ("gopher://wakapi.example.org", "must be a web address"),
    ("https://wakapi.example.org\\@evil.example.org", "must be a web address"),
])
def test_server_urls_with_userinfo_query_fragment_or_other_schemes_are_refused_in_words(url, words):
    with pytest.raises(InvalidAccount) as caught:
        api_base(url)
    assert words in str(caught.value) and "s3cret" not in str(caught.value)


def test_plain_server_urls_still_normalise():
    assert api_base("wakapi.example.org") == "https://wakapi.example.org/api/compat/wakatime/v1"
    assert api_base("http://wakapi.lan:3000/api/compat/wakatime/v1/") == "http://wakapi.lan:3000/api/compat/wakatime/v1"


@pytest.mark.parametrize("url, host", [
    ("https://bob:s3cret@wakapi.lan/api/v1", "wakapi.lan"),
    ("http://bob:s3cret@wakapi.lan:3000/api/v1", "wakapi.lan:3000"),
    ("http://[::1]:8080/api", "[::1]:8080"),
    ("https://WakaTime.com/api/v1", "wakatime.com"),
])
def test_client_host_is_hostname_and_port_never_userinfo(url, host):
    with HttpClient(url) as client:
        assert client.host == host


def test_an_unreachable_host_is_named_without_its_password():
    from activity_hub.providers.base import TransientError

    with HttpClient("http://bob:s3cret@127.0.0.1:9/api", **FAST) as client:
        with pytest.raises(TransientError) as caught:
            client.get("users/current/summaries")
    assert str(caught.value).startswith("Could not reach 127.0.0.1:9: ") and "s3cret" not in str(caught.value)


@pytest.mark.parametrize("address, public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.1.10", False), ("172.16.0.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("::1", False), ("fe80::1", False), ("fe80::1%eth0", False), ("fd00::1", False), ("::ffff:127.0.0.1", False),
    ("::ffff:169.254.169.254", False), ("93.184.216.34", True), ("2606:4700::1111", True),
])
def test_public_addresses(address, public):
    assert is_public_address(address) is public


# -- the provider: only a user-given server is checked, before any request and on the connected socket ----

def waka_client(fake, base_url, allow_private_urls):
    return build_provider("wakatime", Credentials(secret=fake.api_key, base_url=base_url), base_url=fake.base_url,
                          timeout=FAST["timeout"], retries=0, backoff=0,
                          options={"today": TODAY, "timezone": "UTC"}, allow_private_urls=allow_private_urls)


@pytest.fixture
def wakapi(httpserver):
    return FakeWakaTime(httpserver, variant="wakapi", today=TODAY)


def test_private_server_url_is_refused_before_any_request(wakapi, httpserver):
    client = waka_client(wakapi, wakapi.root_url, allow_private_urls=False)
    with pytest.raises(InvalidAccount, match=r"^(localhost|127\.0\.0\.1):\d+ is a private or local address"):
        client.validate()
    assert client.http.requests_made == 0 and httpserver.log == [] and wakapi.requests == []


def test_configured_api_base_on_loopback_is_not_checked(httpserver):
    waka = FakeWakaTime(httpserver, today=TODAY)
    waka.add_day(TODAY, {"habit-ledger": 600})
    client = waka_client(waka, None, allow_private_urls=False)  # no server URL: the operator's WAKATIME_API_URL
    assert client.validate().details == {"today_minutes": 10}


def test_private_server_url_is_used_when_the_operator_allows_it(wakapi):
    wakapi.add_day(TODAY, {"habit-ledger": 600})
    assert waka_client(wakapi, wakapi.root_url, allow_private_urls=True).validate().details == {"today_minutes": 10}


def test_a_name_that_resolved_public_but_connects_private_is_refused(wakapi, httpserver, monkeypatch):
    """DNS rebinding: the check before the request passed, the socket then reached a loopback address."""
    monkeypatch.setattr(http_module, "check_public_host", lambda url: None)
    client = waka_client(wakapi, wakapi.root_url, allow_private_urls=False)
    with pytest.raises(InvalidAccount, match=r"^(localhost|127\.0\.0\.1):\d+ is a private or local address"):
        client.validate()
    assert httpserver.log == []


def test_a_saved_server_url_with_a_password_is_refused_when_the_provider_is_built():
    with pytest.raises(InvalidAccount) as caught:
        WakaTime.http_client(Credentials(secret="k", base_url="https://bob:s3cret@wakapi.lan/api/v1"), "unused")
    assert "user name or password" in str(caught.value) and "s3cret" not in str(caught.value)


# -- connecting through the service --------------------------------------------------------------------

@pytest.fixture
def waka(httpserver):
    return FakeWakaTime(httpserver, today=TODAY)


@pytest.fixture
def app_config(app_config, waka):
    return {**app_config, "WAKATIME_API_URL": waka.base_url, "ALLOW_PRIVATE_PROVIDER_URLS": False}


@pytest.fixture
def user_id(app):
    with app.app_context():
        user = User(email="mira@example.dev", timezone="UTC")
        db.session.add(user)
        db.session.commit()
        return user.id


def connect(app, user_id, **form):
    with app.app_context():
        result = connections.connect_with_form(db.session.get(User, user_id), "wakatime", form)
        saved = db.session.scalar(select(func.count()).select_from(Integration))
        runs = db.session.scalar(select(func.count()).select_from(SyncRun))
        return result.error, saved + runs


@pytest.mark.parametrize("server", ["{root}", "{root}/api/compat/wakatime/v1", "http://localhost:{port}",
                                    "http://169.254.169.254", "http://169.254.169.254/latest/meta-data",
                                    "http://[::1]:{port}", "http://2130706433:{port}"])
def test_connect_refuses_private_server_urls_in_words_without_a_request(app, user_id, waka, httpserver, server):
    url = server.format(root=waka.root_url, port=httpserver.port)
    error, saved = connect(app, user_id, api_key=waka.api_key, server_url=url)
    assert "is a private or local address, which this server does not contact" in error
    assert "ALLOW_PRIVATE_PROVIDER_URLS" in error and saved == 0
    assert httpserver.log == [] and waka.requests == []


def test_connect_refuses_a_password_in_the_server_url_and_never_echoes_it(app, user_id, waka, httpserver):
    error, saved = connect(app, user_id, api_key=waka.api_key, server_url="https://bob:s3cret@wakapi.lan")
    assert "must not contain a user name or password" in error and "s3cret" not in error and saved == 0
    assert httpserver.log == []


def test_connect_with_the_default_server_on_loopback_still_works(app, user_id, waka):
    error, saved = connect(app, user_id, api_key=waka.api_key)
    assert error is None and saved == 2  # the connection and its first run


def test_connect_validates_through_build_provider_with_the_setting(app, user_id, waka, monkeypatch):
    calls = []
    real = connections.build_provider

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(connections, "build_provider", spy)
    assert connect(app, user_id, api_key=waka.api_key)[0] is None
    assert [call["allow_private_urls"] for call in calls] == [False]
    app.config["ALLOW_PRIVATE_PROVIDER_URLS"] = True
    assert connect(app, user_id, api_key=waka.api_key, server_url=waka.root_url + "/api/v1")[0] is None
    assert [call["allow_private_urls"] for call in calls] == [False, True]


def test_a_sync_refuses_a_saved_private_server_url_unless_allowed(app):
    """The worker path applies the same rule as connecting: a URL saved earlier cannot reach a private host."""
    from flask import current_app

    from activity_hub.services.sync import _provider_for

    with app.app_context():
        user = User(email="priv@example.org")
        db.session.add(user)
        db.session.flush()
        integration = Integration(user_id=user.id, provider="wakatime", base_url="http://127.0.0.1:9/api/v1",
                                  credentials_encrypted=secret_box().encrypt("waka_" + "0" * 36))
        db.session.add(integration)
        db.session.commit()
        current_app.config["ALLOW_PRIVATE_PROVIDER_URLS"] = False
        with pytest.raises(ProviderError, match="ALLOW_PRIVATE_PROVIDER_URLS"):
            _provider_for(integration, user).http.get("users/current")
