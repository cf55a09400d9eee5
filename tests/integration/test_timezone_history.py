"""Changing the time zone moves activities with an instant to their new local day, says how many days
changed, and streaks follow; GitHub-style hooks recompute their own days."""

from datetime import UTC, date, datetime

from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import Activity, User
from activity_hub.services.timezones import timezone_changed
from tests.integration.test_history import add, stat, user_id


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def days(app, uid) -> dict[str, date]:
    with app.app_context():
        return {a.title: a.date for a in db.session.scalars(select(Activity).where(Activity.user_id == uid))}


def change_timezone(client, tz: str) -> str:
    resp = client.post("/settings/profile", data={"display_name": "", "timezone": tz}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_changing_the_time_zone_moves_days_and_reports_how_many_changed(app, user_client):
    uid = user_id(app)
    add(app, uid, date(2024, 5, 2), 30, "codewars", source="codewars", title="late kata",
        occurred_at=instant("2024-05-02T03:00:00"))
    add(app, uid, date(2024, 5, 2), 30, "codewars", source="codewars", title="noon kata",
        occurred_at=instant("2024-05-02T12:00:00"))
    add(app, uid, date(2024, 5, 2), 30, "exercism", source="exercism", title="early exercise",
        occurred_at=instant("2024-05-02T05:00:00"))
    add(app, uid, date(2024, 5, 2), 30, "duolingo", source="csv", title="csv row")
    message = change_timezone(user_client, "America/Los_Angeles")
    moved = days(app, uid)
    assert moved == {"late kata": date(2024, 5, 1), "noon kata": date(2024, 5, 2),
                     "early exercise": date(2024, 5, 1), "csv row": date(2024, 5, 2)}
    assert "1 day(s) of activity moved" in message  # both moved off 2 May
    back = change_timezone(user_client, "UTC")
    assert all(d == date(2024, 5, 2) for d in days(app, uid).values())
    assert "1 day(s)" in back
    assert "0 day(s)" in change_timezone(user_client, "Europe/London")  # BST: 03:00 UTC is still 2 May


def test_streaks_follow_the_time_zone(app, user_client):
    uid = user_id(app)
    add(app, uid, date(2024, 5, 1), 20, "chess", source="manual", title="manual")
    add(app, uid, date(2024, 5, 1), 20, "codewars", source="codewars", title="night kata",
        occurred_at=instant("2024-05-01T23:30:00"))
    add(app, uid, date(2024, 5, 3), 20, "codewars", source="codewars", title="morning kata",
        occurred_at=instant("2024-05-03T00:30:00"))
    assert stat(user_client.get("/history/").get_data(as_text=True), "longest-streak") == "1 day"
    change_timezone(user_client, "Europe/Berlin")  # UTC+2 in May: the night kata lands on 2 May
    html = user_client.get("/history/").get_data(as_text=True)
    assert stat(html, "longest-streak") == "3 days" and stat(html, "active-days") == "3"
    assert "Europe/Berlin" in html


def test_hooks_recompute_their_own_days_and_shared_days_count_once(app, user_client):
    uid = user_id(app)
    add(app, uid, date(2024, 5, 2), 30, "codewars", source="codewars", title="kata",
        occurred_at=instant("2024-05-02T03:00:00"))
    add(app, uid, date(2024, 5, 2), 10, "github", source="github", title="github day",
        occurred_at=instant("2024-05-02T03:00:00"))
    calls = []

    def day_set_hook(user):
        calls.append(user.id)
        return {date(2024, 5, 2), date(2024, 5, 9)}

    hooks = app.extensions.setdefault("timezone_hooks", [])
    saved = list(hooks)
    hooks[:] = [day_set_hook, lambda user: 4]
    try:
        with app.app_context():
            user = db.session.get(User, uid)
            user.timezone = "America/Los_Angeles"
            db.session.commit()
            changed = timezone_changed(user)
    finally:
        hooks[:] = saved
    assert calls == [uid]
    assert changed == 2 + 4  # {2 May} from here and {2 May, 9 May} from the hook count once; 4 from the other
    assert days(app, uid)["github day"] == date(2024, 5, 2)  # GitHub days are the hook's job


def test_an_unknown_stored_time_zone_falls_back_to_utc_instead_of_failing(app, user_client):
    uid = user_id(app)
    add(app, uid, date(2024, 5, 2), 30, "duolingo", title="row")
    with app.app_context():
        db.session.get(User, uid).timezone = "Mars/Olympus"
        db.session.commit()
    assert user_client.get("/history/").status_code == 200
