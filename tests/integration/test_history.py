"""The History page through its routes: empty state, totals, filters, pagination, htmx fragments, live status."""

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from activity_hub.extensions import db
from activity_hub.models import Activity, Integration, SyncRun, User
from activity_hub.services.timezones import local_today
from tests.conftest import sign_up

HX = {"HX-Request": "true"}


def user_id(app, email="ada@example.org") -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def add(app, uid, day, minutes=30, service="duolingo", source="csv", title=None, hidden=False, occurred_at=None,
        external_id=None):
    """Store one activity directly, the way an import or sync would."""
    with app.app_context():
        activity = Activity(
            user_id=uid, service=service, date=day, minutes=minutes, title=title or f"{service} {day}",
            source=source, external_id=external_id or f"{source}:{service}:{day}:{minutes}:{title}",
            occurred_at=occurred_at, hidden=hidden,
        )
        db.session.add(activity)
        db.session.commit()
        return activity.id


def today_for(app, uid) -> date:
    with app.app_context():
        return local_today(db.session.get(User, uid).timezone)


def stat(html: str, name: str) -> str:
    match = re.search(rf'data-stat="{name}">([^<]+)<', html)
    assert match, f"no {name} stat"
    return match.group(1).strip()


def above_table(html: str) -> str:
    """The summary and charts part of the page."""
    summary = html[html.index('id="history-summary"'):html.index('id="add-activity"')]
    return summary + html[html.index('id="history-results"'):html.index('id="history-table"')]


def table_titles(html: str) -> list[str]:
    return [t.strip() for t in re.findall(r'<td class="cell-title">([^<]+)', html)]


def test_empty_history_explains_how_to_fill_it_instead_of_charts(user_client):
    html = user_client.get("/history/").get_data(as_text=True)
    assert "Your history is empty" in html
    assert 'href="/connect/"' in html and 'href="/upload/"' in html
    assert 'class="heatmap"' not in html and 'class="weekly"' not in html
    assert 'id="add-activity-form"' in html


def test_history_needs_sign_in(client):
    resp = client.get("/history/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_summary_shows_week_month_active_days_and_streaks(app, user_client):
    uid = user_id(app)
    today = today_for(app, uid)
    for back in (0, 1, 2):
        add(app, uid, today - timedelta(days=back), 20, title=f"recent {back}")
    for back in range(40, 45):
        add(app, uid, today - timedelta(days=back), 10, service="github", source="github", title=f"old {back}")
    add(app, uid, today, 999, title="hidden one", hidden=True)
    html = user_client.get("/history/").get_data(as_text=True)
    week = sum(20 for back in (0, 1, 2) if today - timedelta(days=back) >= today - timedelta(days=today.weekday()))
    month = sum(20 for back in (0, 1, 2) if (today - timedelta(days=back)).month == today.month)
    month += sum(10 for back in range(40, 45) if (today - timedelta(days=back)).replace(day=1) == today.replace(day=1))
    assert stat(html, "week") == (f"{week} min" if week < 60 else stat(html, "week"))
    assert f"{week:,} min since Mon" in html and f"{month:,} min in" in html
    assert stat(html, "active-days") == "8"
    assert stat(html, "current-streak") == "3 days" and stat(html, "longest-streak") == "5 days"
    assert "active today" in html
    assert 'class="heatmap"' in html and 'class="weekly"' in html
    # the split and the weekly legend name the service with its time (the three days may span two weeks)
    assert re.search(r'split-name">duolingo</span> <span class="num">1 h<', html)
    assert re.search(r"</svg>duolingo <span class=\"muted\">1 h<", html)
    assert "999" not in above_table(html) and "16 h" not in above_table(html)  # hidden rows never count


def test_filters_narrow_table_summary_and_charts(app, user_client):
    uid = user_id(app)
    today = today_for(app, uid)
    add(app, uid, today, 15, "duolingo", title="Spanish: past tense")
    add(app, uid, today - timedelta(days=3), 25, "duolingo", title="French basics")
    add(app, uid, today - timedelta(days=3), 40, "khan-academy", title="Linear algebra")
    add(app, uid, today - timedelta(days=30), 50, "github", source="github", title="Pushes to repo")

    html = user_client.get("/history/?service=duolingo").get_data(as_text=True)
    assert sorted(table_titles(html)) == ["French basics", "Spanish: past tense"]
    assert stat(html, "active-days") == "2" and "khan-academy" not in above_table(html)

    several = user_client.get("/history/?service=duolingo&service=github").get_data(as_text=True)
    assert len(table_titles(several)) == 3

    start = (today - timedelta(days=5)).isoformat()
    ranged = user_client.get(f"/history/?start={start}&end={today.isoformat()}").get_data(as_text=True)
    assert "Pushes to repo" not in table_titles(ranged) and len(table_titles(ranged)) == 3
    assert "since" not in stat(ranged, "active-days") and stat(ranged, "active-days") == "2"

    text = user_client.get("/history/?q=ALGEBRA").get_data(as_text=True)
    assert table_titles(text) == ["Linear algebra"]

    wildcard = user_client.get("/history/?q=%25").get_data(as_text=True)
    assert table_titles(wildcard) == []
    assert "No activities match these filters" in wildcard


def test_filter_form_keeps_its_values_and_works_as_a_plain_get_form(app, user_client):
    uid = user_id(app)
    add(app, uid, today_for(app, uid), 15, "duolingo")
    html = user_client.get("/history/?service=duolingo&start=2024-01-01&q=abc").get_data(as_text=True)
    form = html[html.index('id="history-filters"') - 200:html.index("</form>", html.index('id="history-filters"'))]
    assert 'method="get" action="/history/"' in form and 'hx-push-url="true"' in form
    assert 'value="duolingo" checked' in form and 'value="2024-01-01"' in form and 'value="abc"' in form
    assert 'type="submit"' in form


def test_bad_filter_values_are_explained_not_fatal(app, user_client):
    add(app, user_id(app), date(2024, 5, 1), 15)
    resp = user_client.get("/history/?start=nonsense&page=abc")
    assert resp.status_code == 200
    assert "is not a date written as YYYY-MM-DD" in resp.get_data(as_text=True)


def test_odd_query_values_never_fail(app, user_client):
    add(app, user_id(app), date(2024, 5, 1), 15)
    for query in ("end=0001-01-01", "start=9999-12-31", "page=99999999999999", "service=" + "x" * 5000,
                  "q=%25_%5C", "service=&service=,,", "hidden=maybe", "start=2024-05-01&end=2024-05-01"):
        for url in (f"/history/?{query}", f"/history/rows?{query}", f"/history/export.csv?{query}"):
            assert user_client.get(url).status_code == 200, url
    html = user_client.get("/history/?end=0001-01-01").get_data(as_text=True)
    assert "is outside 1970–2999, so it was ignored" in html


def test_table_is_paginated_newest_first(app, user_client):
    uid = user_id(app)
    with app.app_context():
        db.session.add_all(Activity(user_id=uid, service="duolingo", date=date(2024, 1, 1) + timedelta(days=i),
                                    minutes=10, title=f"row {i:03d}", source="csv", external_id=f"k{i}")
                           for i in range(120))
        db.session.commit()
    first = user_client.get("/history/").get_data(as_text=True)
    assert table_titles(first)[:2] == ["row 119", "row 118"] and len(table_titles(first)) == 50
    assert "1–50 of 120" in first and "Page 1 of 3" in first
    third = user_client.get("/history/?page=3").get_data(as_text=True)
    assert table_titles(third)[-1] == "row 000" and len(table_titles(third)) == 20
    beyond = user_client.get("/history/?page=99").get_data(as_text=True)
    assert "101–120 of 120" in beyond
    fragment = user_client.get("/history/rows?page=2", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="history-table"' in fragment and "51–100 of 120" in fragment
    assert 'hx-push-url="/history/?page=3"' in fragment and 'rel="prev" href="/history/"' in fragment


def test_htmx_gets_the_results_fragment_and_history_restore_gets_the_page(app, user_client):
    add(app, user_id(app), date(2024, 5, 1), 15)
    partial = user_client.get("/history/?service=duolingo", headers=HX)
    body = partial.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<section id="history-results"')
    assert "HX-Request" in partial.headers["Vary"]
    assert 'id="history-filters"' not in body and 'id="history-summary" hx-swap-oob="true"' in body
    refresh = user_client.get("/history/", headers={**HX, "HX-Trigger": "history-results"}).get_data(as_text=True)
    assert 'id="history-filters"' in refresh and 'hx-swap-oob="true"' in refresh
    restore = user_client.get("/history/", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_page_listens_for_sync_and_import_events_and_loads_its_script(app, user_client):
    html = user_client.get("/history/").get_data(as_text=True)
    assert "/static/js/history.js" in html
    script = app.test_client().get("/static/js/history.js").get_data(as_text=True)
    for event in ("sync-finished", "import-finished", "history-changed"):
        assert event in script


def test_status_polls_while_a_run_is_active_and_asks_for_a_refresh_when_it_ends(app, user_client):
    uid = user_id(app)
    with app.app_context():
        integration = Integration(user_id=uid, provider="wakatime", status="syncing")
        db.session.add(integration)
        db.session.flush()
        run = SyncRun(integration_id=integration.id, user_id=uid, status="running")
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    page = user_client.get("/history/").get_data(as_text=True)
    assert "Updating from WakaTime" in page and 'hx-trigger="every 3s"' in page
    since = re.search(r'/history/status\?since=([^"]+)"', page).group(1)
    same = user_client.get(f"/history/status?since={since}")
    assert "HX-Trigger" not in same.headers and "every 3s" in same.get_data(as_text=True)
    with app.app_context():
        finished = db.session.get(SyncRun, run_id)
        finished.status, finished.finished_at = "succeeded", datetime.now(UTC)
        db.session.commit()
    done = user_client.get(f"/history/status?since={since}")
    assert done.headers["HX-Trigger"] == "history-changed"
    assert "every 60s" in done.get_data(as_text=True) and "Updating" not in done.get_data(as_text=True)


def test_status_stops_polling_once_signed_out(client):
    resp = client.get("/history/status?since=x", headers=HX)
    assert resp.status_code == 286 and resp.get_data() == b""


def test_others_cannot_see_the_page_data(app, client):
    sign_up(client, "bo@example.org", "another long password")
    bo = user_id(app, "bo@example.org")
    add(app, bo, date(2024, 5, 1), 15, title="Bo's secret session")
    client.post("/logout")
    sign_up(client)
    html = client.get("/history/").get_data(as_text=True)
    assert "Bo's secret session" not in html and "Your history is empty" in html
