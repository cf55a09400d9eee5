"""WakaTime, Codewars and Exercism end to end: connect through the service (one real validation request),
then syncs through the engine and RQ on the real Redis, against fake servers over real HTTP."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from activity_hub.extensions import db
from activity_hub.models import Activity, Integration, SyncRun, User
from activity_hub.services import connections, sync
from tests.conftest import run_jobs
from tests.fakes.codewars import FakeCodewars
from tests.fakes.exercism import TRACKS, FakeExercism
from tests.fakes.scripted import rate_limited, slow
from tests.fakes.wakatime import FakeWakaTime

TODAY = datetime.now(ZoneInfo("Europe/Berlin")).date()  # the test user's local today, as the provider sees it


@pytest.fixture
def fakes(httpserver):
    return {"wakatime": FakeWakaTime(httpserver, today=TODAY), "codewars": FakeCodewars(httpserver),
            "exercism": FakeExercism(httpserver)}


@pytest.fixture
def app_config(app_config, fakes):
    return {**app_config, "WAKATIME_API_URL": fakes["wakatime"].base_url,
            "CODEWARS_API_URL": fakes["codewars"].base_url, "EXERCISM_API_URL": fakes["exercism"].base_url,
            "SYNC_HTTP_BACKOFF": 0.01, "SYNC_HTTP_RETRIES": 1, "HTTP_TIMEOUT": 0.5,
            "ALLOW_PRIVATE_PROVIDER_URLS": True}  # the fakes used as a custom server URL are on 127.0.0.1


@pytest.fixture
def user_id(app):
    with app.app_context():
        user = User(email="mira@example.dev", timezone="Europe/Berlin")
        db.session.add(user)
        db.session.commit()
        return user.id


def connect(app, user_id, slug, **form):
    with app.app_context():
        result = connections.connect_with_form(db.session.get(User, user_id), slug, form)
        return result.error, (result.integration.id if result.integration else None)


def sync_once(app, integration_id) -> SyncRun:
    with app.app_context():
        run_id = sync.request_sync(db.session.get(Integration, integration_id), "manual").id
    run_jobs(app)
    with app.app_context():
        return db.session.get(SyncRun, run_id)


def last_run(app, integration_id) -> SyncRun:
    with app.app_context():
        return db.session.scalar(select(SyncRun).where(SyncRun.integration_id == integration_id)
                                 .order_by(SyncRun.id.desc()).limit(1))


def rows(app, source):
    with app.app_context():
        return {a.external_id: a for a in db.session.scalars(select(Activity).where(Activity.source == source))}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# -- WakaTime -------------------------------------------------------------------------------------------

def test_wakatime_bad_key_saves_nothing_good_key_backfills_a_year(app, user_id, fakes):
    waka = fakes["wakatime"]
    active = waka.add_year()
    error, iid = connect(app, user_id, "wakatime", api_key="waka_not-the-key")
    assert (error, iid) == ("WakaTime rejected this API key", None)
    assert count(app, Integration) == 0 and count(app, SyncRun) == 0

    error, iid = connect(app, user_id, "wakatime", api_key=waka.api_key, server_url="")
    assert error is None
    with app.app_context():
        integration = db.session.get(Integration, iid)
        assert waka.api_key not in integration.credentials_encrypted
        assert integration.secret_tail == waka.api_key[-4:] and integration.base_url is None
        assert integration.status == "queued"
    run_jobs(app)
    run = last_run(app, iid)
    assert (run.trigger, run.status, run.new, run.updated) == ("connect", "succeeded", active, 0)
    assert (run.progress_done, run.progress_total, run.progress_unit) == (365, 365, "days")
    assert waka.requests[1] == ((TODAY - timedelta(days=30)).isoformat(), TODAY.isoformat())
    stored = rows(app, "wakatime")
    assert len(stored) == active and stored[f"wakatime:{TODAY}"].title == "habit-ledger, activity-hub · Python, TypeScript"
    with app.app_context():
        assert db.session.get(Integration, iid).cursor["through"] == TODAY.isoformat()


def test_wakatime_resync_changes_nothing_then_updates_a_changed_day_in_place(app, user_id, fakes):
    waka = fakes["wakatime"]
    waka.add_day(TODAY, {"habit-ledger": 1200})
    waka.add_day(TODAY - timedelta(days=1), {"habit-ledger": 3600})
    _, iid = connect(app, user_id, "wakatime", api_key=waka.api_key)
    run_jobs(app)
    before = rows(app, "wakatime")[f"wakatime:{TODAY}"]

    again = sync_once(app, iid)
    assert (again.status, again.new, again.updated, again.fetched) == ("succeeded", 0, 0, 2)
    assert waka.requests[-1] == ((TODAY - timedelta(days=3)).isoformat(), TODAY.isoformat())

    waka.add_day(TODAY, {"habit-ledger": 1200, "api": 1800})  # today grew
    changed = sync_once(app, iid)
    assert (changed.new, changed.updated) == (0, 1)
    after = rows(app, "wakatime")[f"wakatime:{TODAY}"]
    assert (after.id, after.minutes, after.title) == (before.id, 50, "api, habit-ledger · Python")
    assert count(app, Activity) == 2


def test_wakatime_plan_limit_ends_the_backfill_with_a_message(app, user_id, httpserver, fakes):
    fakes["wakatime"].plan_days = 14
    fakes["wakatime"].add_year()
    _, iid = connect(app, user_id, "wakatime", api_key=fakes["wakatime"].api_key)
    run_jobs(app)
    run = last_run(app, iid)
    oldest = TODAY - timedelta(days=13)
    assert run.status == "succeeded" and run.error is None
    assert run.message == f"WakaTime's plan allows history back to {oldest} (14 days); older days were not imported."
    assert min(a.date for a in rows(app, "wakatime").values()) >= oldest


def test_wakapi_server_url_is_saved_normalised_and_used(app, user_id, httpserver):
    wakapi = FakeWakaTime(httpserver, variant="wakapi", today=TODAY, api_key="wakapi-key-0a1b2c3d")
    wakapi.add_day(TODAY - timedelta(days=2), {"habit-ledger": 2400}, {"Go": 2400})
    error, iid = connect(app, user_id, "wakatime", api_key="wakapi-key-0a1b2c3d", server_url=wakapi.root_url + "/")
    assert error is None
    run_jobs(app)
    with app.app_context():
        integration = db.session.get(Integration, iid)
        assert integration.base_url == wakapi.base_url and integration.account_name == wakapi.root_url.split("/")[2]
    [row] = rows(app, "wakatime").values()
    assert (row.date, row.minutes, row.title) == (TODAY - timedelta(days=2), 40, "habit-ledger · Go")


@pytest.mark.parametrize("slug, form, message", [
    ("wakatime", {"api_key": "  "}, "Enter your WakaTime API key."),
    ("wakatime", {"api_key": "waka_abc\ndef"}, "That API key does not look right"),
    ("wakatime", {"api_key": "waka_abc", "server_url": "ftp://wakapi.example.org"}, "must be a web address"),
    ("wakatime", {"api_key": "waka_abc", "server_url": "http://[::1"}, "must be a web address"),
    ("wakatime", {"api_key": "waka_abc", "server_url": "https://exa mple.org"}, "must be a web address"),
    ("codewars", {"username": ""}, "Enter your Codewars username."),
    ("codewars", {"username": "x" * 101}, "too long for a Codewars username"),
    ("exercism", {"token": "abc def"}, "That API token does not look right"),
    ("exercism", {"token": "tökén"}, "That API token does not look right"),
    ("exercism", {"token": "t" * 600}, "That API token does not look right"),
    ("codewars", {"username": "mira_okafor", "minutes_per_kata": "ten"}, "Minutes counted per kata must be"),
    ("exercism", {"token": "abc", "minutes_per_solution": "0"}, "from 1 to 600"),
    ("wakatime", {"api_key": "waka_abc", "backfill_days": "99999"}, "Days of history to import must be"),
])
def test_malformed_form_input_is_refused_in_words_and_saves_nothing(app, user_id, slug, form, message):
    error, iid = connect(app, user_id, slug, **form)
    assert message in error and iid is None
    assert form.get("token", "§") not in error and form.get("api_key", "§") not in error
    assert count(app, Integration) == 0 and count(app, SyncRun) == 0


def test_a_server_answering_html_is_not_a_wakatime_api(app, user_id, httpserver):
    httpserver.expect_request("/dashboard/users/current/summaries").respond_with_data(
        "<html>login</html>", content_type="text/html")
    error, iid = connect(app, user_id, "wakatime", api_key="waka_abc",
                         server_url=httpserver.url_for("/dashboard"))
    assert "did not answer like a WakaTime-compatible API at /dashboard" in error and iid is None


def test_wakatime_unreachable_server_is_named(app, user_id):
    error, iid = connect(app, user_id, "wakatime", api_key="k" * 20, server_url="http://127.0.0.1:9/api/v1")
    assert error.startswith("Could not reach 127.0.0.1:9") and iid is None


def test_wakatime_timeout_says_timed_out(app, user_id, fakes):
    fakes["wakatime"].script.push(slow(1.0), slow(1.0))
    try:
        error, _ = connect(app, user_id, "wakatime", api_key=fakes["wakatime"].api_key)
    finally:
        fakes["wakatime"].script.release()
    assert error.endswith(": timed out") and error.startswith("Could not reach ")


def test_revoked_key_needs_reconnect_without_leaking_the_key_then_reconnects(app, user_id, fakes):
    waka = fakes["wakatime"]
    _, iid = connect(app, user_id, "wakatime", api_key=waka.api_key)
    run_jobs(app)
    waka.api_key = "waka_rotated"
    run = sync_once(app, iid)
    assert run.status == "failed" and "Reconnect" in run.error
    with app.app_context():
        integration = db.session.get(Integration, iid)
        assert integration.status == "needs_reauth"
        assert "waka_0f8c" not in (integration.last_error or "") + run.error
        cursor = integration.cursor

    error, again = connect(app, user_id, "wakatime", api_key="waka_rotated")  # the card's reconnect form
    assert (error, again) == (None, iid)
    run_jobs(app)
    assert last_run(app, iid).status == "succeeded"
    with app.app_context():
        integration = db.session.get(Integration, iid)
        assert integration.status == "ok" and integration.secret_tail == "ated"
        assert integration.cursor["from"] == cursor["from"]  # same account: the backfill is not redone
    assert count(app, Integration) == 1


def test_time_zone_change_rereads_wakatime_days_in_the_new_zone(app, user_id, fakes):
    from activity_hub.services import timezones

    waka = fakes["wakatime"]
    waka.add_day(TODAY, {"habit-ledger": 1200})
    _, iid = connect(app, user_id, "wakatime", api_key=waka.api_key)
    run_jobs(app)
    app.extensions.setdefault("timezone_hooks", [])
    if connections.wakatime_timezone_changed not in app.extensions["timezone_hooks"]:
        app.extensions["timezone_hooks"].append(connections.wakatime_timezone_changed)
    assert waka.requested_timezones == {"Europe/Berlin"}  # validation and backfill ask in the user's zone
    waka.requests.clear()
    waka.requested_timezones.clear()
    with app.test_request_context():
        user = db.session.get(User, user_id)
        user.timezone = "America/Los_Angeles"
        db.session.commit()
        timezones.timezone_changed(user)
    run_jobs(app)
    run = last_run(app, iid)
    assert run.status == "succeeded" and run.progress_total == 365  # the whole window again
    assert len(waka.requests) == 12 and waka.requested_timezones == {"America/Los_Angeles"}


def test_form_settings_are_saved_and_used(app, user_id, fakes):
    fakes["codewars"].add_user("mira_okafor", katas=3)
    _, cw = connect(app, user_id, "codewars", username="mira_okafor", minutes_per_kata="15")
    fakes["wakatime"].add_day(TODAY, {"habit-ledger": 600})
    _, wt = connect(app, user_id, "wakatime", api_key=fakes["wakatime"].api_key, backfill_days="45", server_url="")
    run_jobs(app)
    assert {a.minutes for a in rows(app, "codewars").values()} == {15}
    assert len(fakes["wakatime"].requests) == 1 + 2 and last_run(app, wt).progress_total == 45
    with app.app_context():
        assert db.session.get(Integration, cw).settings == {"minutes_per_kata": 15}
        assert db.session.get(Integration, wt).settings == {"backfill_days": 45}


# -- Codewars --------------------------------------------------------------------------------------------

def test_codewars_unknown_user_then_backfill_and_incremental(app, user_id, fakes):
    cw = fakes["codewars"]
    katas = cw.add_user("Mira_Okafor", katas=450, start=datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    assert connect(app, user_id, "codewars", username="ghost") == ("No Codewars user named 'ghost'", None)
    assert count(app, Integration) == 0

    error, iid = connect(app, user_id, "codewars", username=" mira_okafor ")
    assert error is None
    run_jobs(app)
    run = last_run(app, iid)
    assert (run.status, run.new, run.progress_done, run.progress_total) == ("succeeded", 450, 3, 3)
    stored = rows(app, "codewars")
    newest = stored[f"codewars:{katas[0]['id']}:2026-11-25T23:30:00.000Z"]
    assert newest.date == date(2026, 11, 26)  # 23:30 UTC is already the next day in Berlin
    assert newest.minutes == 20 and newest.title == "Kata number 0 (python)"
    with app.app_context():
        assert db.session.get(Integration, iid).account_name == "Mira_Okafor"

    cw.pages_requested.clear()
    again = sync_once(app, iid)
    assert (again.new, again.updated, cw.pages_requested) == (0, 0, [0])
    cw.complete("Mira_Okafor", cw.kata(999, datetime(2026, 11, 26, 10, 0, tzinfo=UTC)))
    more = sync_once(app, iid)
    assert (more.new, more.fetched) == (1, 1) and count(app, Activity) == 451


# -- Exercism --------------------------------------------------------------------------------------------

def test_exercism_messages_then_upsert_by_uuid_as_status_moves_on(app, user_id, fakes):
    ex = fakes["exercism"]
    solution = ex.add_solution("two-fer", "iterated", TRACKS[0], datetime(2026, 11, 20, 18, 0, tzinfo=UTC))
    ex.add_solution("leap", "started", TRACKS[1])
    ex.add_solution("isogram", "completed", TRACKS[2])
    assert connect(app, user_id, "exercism", token="wrong") == ("Exercism rejected this token", None)
    ex.onboarded = False
    error, _ = connect(app, user_id, "exercism", token=ex.token)
    assert error.startswith("This Exercism account has not finished onboarding")
    ex.onboarded = True
    assert count(app, Integration) == 0

    error, iid = connect(app, user_id, "exercism", token=ex.token)
    assert error is None
    run_jobs(app)
    assert last_run(app, iid).new == 2
    row = rows(app, "exercism")[f"exercism:{solution['uuid']}"]
    assert (row.title, row.minutes, row.details["status"]) == ("Python: Two Fer", 30, "iterated")

    assert (sync_once(app, iid).new, last_run(app, iid).updated) == (0, 0)
    ex.publish(solution, datetime(2026, 11, 24, 22, 30, tzinfo=UTC))
    moved = sync_once(app, iid)
    assert (moved.new, moved.updated) == (0, 1)
    after = rows(app, "exercism")[f"exercism:{solution['uuid']}"]
    assert after.id == row.id and after.details["status"] == "published"
    assert after.date == date(2026, 11, 24) and count(app, Activity) == 2


def test_exercism_empty_429_makes_the_run_wait(app, user_id, fakes):
    ex = fakes["exercism"]
    _, iid = connect(app, user_id, "exercism", token=ex.token)
    ex.script.push(rate_limited())
    run_jobs(app)
    run = last_run(app, iid)
    assert run.status == "waiting" and run.waiting_until is not None and run.error is None
