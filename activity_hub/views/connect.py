"""The Connect page: a card per source with its live sync badge, "Sync now", "Disconnect" and recent runs."""

import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import parse_session_id
from ..extensions import db, login_manager
from ..models import Integration
from ..providers import SOURCES
from ..services import connections, sync, sync_status
from . import is_htmx

bp = Blueprint("connect", __name__, url_prefix="/connect")


def _source(slug: str):
    if slug not in SOURCES:
        abort(404)
    return SOURCES[slug]


def _integration(slug: str) -> Integration | None:
    return db.session.scalar(
        select(Integration).where(Integration.user_id == current_user.id, Integration.provider == slug)
    )



@bp.get("/")
@login_required
def index():
    available = sync_status.sync_available()
    no_workers = available and sync_status.workers_running() == 0
    return render_template("connect/page.html", cards=sync_status.cards_for(current_user), available=available,
                           no_workers=no_workers)


@bp.post("/<slug>/connect")
@login_required
def connect_form(slug):
    """Connect a source through its form (API key, username...); errors re-render the page in place."""
    info = _source(slug)
    result = connections.connect_with_form(current_user, slug, request.form)
    if result.error:
        return render_template(
            "connect/page.html", cards=sync_status.cards_for(current_user), available=sync_status.sync_available(),
            form_errors={slug: result.error}, form_values={slug: result.values},
        )
    account = result.integration.account_name
    flash(f"{info.name} connected{f' as {account}' if account else ''}. The first import has started.", "success")
    return redirect(url_for("connect.index") + f"#source-{slug}")


@bp.get("/<slug>/badge")
def badge(slug):
    """The badge fragment, polled every 2 s by open pages, so kept cheap: the signed session's user id and
    one query (no ORM user load). A finished state answers 286 (stop polling) and tells the page to refresh."""
    _source(slug)
    user_id, token = _session_user()
    state = sync_status.polled_badge(user_id, token, slug) if user_id is not None else None
    if state is None and is_htmx():  # the session ended while the page polled: say so and stop polling
        state = sync_status.Badge(slug=slug, name=SOURCES[slug].name, state="signed_out")
        return current_app.jinja_env.get_template("connect/_badge.html").render(badge=state, available=True), 286
    if state is None:
        return login_manager.unauthorized()
    available = sync_status.sync_available(max_age=5) if state.polling else True
    no_workers = state.state == "queued" and available and sync_status.workers_running(max_age=5) == 0
    # Rendered without the context processors: they would load the user again for nothing.
    body = current_app.jinja_env.get_template("connect/_badge.html").render(
        badge=state, available=available, no_workers=no_workers)
    if state.polling:
        return body
    events = {"sync-finished": {"provider": slug}, f"sync-finished-{slug}": {"state": state.state}}
    return body, 286, {"HX-Trigger": json.dumps(events)}


def _session_user() -> tuple[int | None, str]:
    """The signed-in user's id and session token from the signed session cookie, else via remember-me."""
    user_id, token = parse_session_id(session.get("_user_id"))
    if user_id is not None and login_manager.session_protection != "strong":
        return user_id, token  # "strong" protection must check the session's origin: leave that to Flask-Login
    if current_user.is_authenticated:
        return current_user.id, current_user.session_token
    return None, ""


@bp.post("/<slug>/sync")
@login_required
def sync_now(slug):
    info = _source(slug)
    integration = _integration(slug)
    notice = None
    if integration is None:
        notice = f"Connect {info.name} first."
    else:
        try:
            sync.request_sync(integration, trigger="manual")
        except sync.SyncUnavailable as exc:
            notice = str(exc)
    if not is_htmx():
        flash(notice or f"{info.name} sync queued.", "error" if notice else "success")
        return redirect(url_for("connect.index") + f"#source-{slug}")
    state = sync_status.badge_for(current_user, slug)
    body = render_template("connect/_badge.html", badge=state, available=notice is None, notice=notice)
    return body, 200, {"HX-Trigger": json.dumps({f"sync-started-{slug}": {}})}


@bp.get("/<slug>/runs")
@login_required
def runs(slug):
    info = _source(slug)
    integration = _integration(slug)
    recent = sync_status.recent_runs(integration.id) if integration else []
    return render_template("connect/_runs.html", info=info, integration=integration, runs=recent)


@bp.post("/<slug>/disconnect")
@login_required
def disconnect(slug):
    info = _source(slug)
    delete_activities = request.form.get("activities") == "delete"
    if _integration(slug) is None:
        flash(f"{info.name} is not connected.", "info")
        return redirect(url_for("connect.index"))
    deleted = sync_status.disconnect(current_user, slug, delete_activities)
    if delete_activities:
        flash(f"{info.name} disconnected and its {deleted} activit{'y' if deleted == 1 else 'ies'} deleted.", "success")
    else:
        flash(f"{info.name} disconnected. Its activities stay in your history.", "success")
    return redirect(url_for("connect.index"))


@bp.app_template_filter("local_datetime")
def local_datetime(instant) -> str:
    """An instant in the signed-in user's time zone, e.g. "26 Nov 14:05"."""
    if instant is None:
        return ""
    tz = current_user.timezone if current_user.is_authenticated else "UTC"
    return sync_status.local_time(instant, tz, "%d %b %H:%M")
