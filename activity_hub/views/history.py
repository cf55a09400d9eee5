"""The History page: summary, heatmap, weekly chart, filtered table, manual entries and exports."""

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from ..services import charts, export, history_edit, history_stats
from ..services.history import (
    EDITABLE_SOURCES,
    SOURCE_LABELS,
    has_any_activity,
    hidden_count,
    live_state,
    own_activity,
    parse_filter,
    table_page,
)
from ..services.timezones import local_today
from . import is_htmx

bp = Blueprint("history", __name__, url_prefix="/history")
CHANGED = "history-changed"


@bp.context_processor
def _helpers():
    return {"hours_minutes": charts.hours_minutes, "service_colour": charts.service_colour,
            "source_labels": SOURCE_LABELS, "editable_sources": EDITABLE_SOURCES,
            "timedelta_days": lambda days: timedelta(days=days)}


def _is_htmx() -> bool:
    """An htmx fragment request; a history restore (back button after a cache miss) wants the whole page."""
    return is_htmx() and not request.headers.get("HX-History-Restore-Request")


def _results_context(f) -> dict:
    uid = current_user.id
    today = local_today(current_user.timezone)
    has_any = has_any_activity(uid)
    return {
        "f": f, "today": today, "has_any": has_any, "table": table_page(uid, f) if has_any else None,
        "overview": history_stats.overview(uid, f, today) if has_any else None,
        "hidden_total": hidden_count(uid) if has_any else 0,
    }


def _vary(response):
    response.headers["Vary"] = "HX-Request, HX-History-Restore-Request"
    return response


@bp.get("/")
@login_required
def index():
    """The whole page, or (to htmx) just the results below the filters."""
    f = parse_filter(request.args)
    context = _results_context(f)
    if _is_htmx():
        refresh = request.headers.get("HX-Trigger") == "history-results"
        return _vary(make_response(render_template("history/_results.html", oob_filters=refresh, oob_summary=True,
                                                    **context)))
    labels, stamp = live_state(current_user.id)
    undo = session.pop("history_undo", None)
    form_values = history_edit.form_row(today=context["today"])
    return _vary(make_response(render_template(
        "history/page.html", running=labels, stamp=stamp, undo=undo, add_values=form_values, add_errors=[],
        **context)))


@bp.get("/rows")
@login_required
def rows():
    """The table alone, for paging."""
    f = parse_filter(request.args)
    return render_template("history/_table.html", f=f, table=table_page(current_user.id, f),
                           hidden_total=hidden_count(current_user.id))


@bp.get("/status")
def status():
    """Polled cheaply: what is running; tells the page to refresh when a run or import has ended."""
    if not current_user.is_authenticated:
        return "", 286  # signed out meanwhile: stop polling rather than swap a sign-in page in
    labels, stamp = live_state(current_user.id)
    response = make_response(render_template("history/_status.html", running=labels, stamp=stamp))
    if stamp != request.args.get("since", stamp):
        response.headers["HX-Trigger"] = CHANGED
    return response


def _return_to(source=None) -> str:
    """The history view a form came from (its `next`), only if it is one of this page's own URLs."""
    target = (source if source is not None else request.form).get("next", "")
    return target if target.startswith("/history/") and "//" not in target and "\\" not in target else url_for(".index")


def _back():
    """Where a plain (no-JS) form returns to: the history view it came from."""
    return redirect(_return_to())


def _flash_fragment(message: str, kind: str = "success", undo: dict | None = None, status: int = 200):
    response = make_response(render_template("history/_flash.html", message=message, kind=kind, undo=undo), status)
    if kind == "success":
        response.headers["HX-Trigger"] = CHANGED
    return response


@bp.post("/activities")
@login_required
def add():
    """Add a manual activity, validated like a CSV row."""
    values = {k: request.form.get(k, "") for k in ("date", "service", "minutes", "title")}
    activity, errors = history_edit.create_manual(current_user, values)
    if _is_htmx():
        done = f"Added {history_edit.describe(activity)}." if activity else None
        fresh = history_edit.form_row(today=activity.date) if activity else values
        response = make_response(render_template("history/_add_form.html", add_values=fresh, add_errors=errors,
                                                 added=done))
        if activity:
            response.headers["HX-Trigger"] = CHANGED
        return response
    if activity:
        flash(f"Added {history_edit.describe(activity)}.", "success")
        return _back()
    f = parse_filter(request.args)
    labels, stamp = live_state(current_user.id)
    return render_template("history/page.html", running=labels, stamp=stamp, undo=None, add_values=values,
                           add_errors=errors, add_open=True, **_results_context(f)), 400


def _own_or_404(activity_id: int):
    activity = own_activity(current_user.id, activity_id)
    if activity is None:
        abort(404)
    return activity


@bp.get("/activities/<int:activity_id>/row")
@login_required
def row(activity_id: int):
    return render_template("history/_row.html", a=_own_or_404(activity_id), return_to=_return_to(request.args))


@bp.get("/activities/<int:activity_id>/edit")
@login_required
def edit(activity_id: int):
    """The edit form: inline in the table for htmx, a page of its own otherwise."""
    activity = _own_or_404(activity_id)
    template = "history/_edit_row.html" if _is_htmx() else "history/edit.html"
    return render_template(template, a=activity, values=history_edit.form_row(activity), errors=[],
                           problem=None, return_to=_return_to(request.args))


@bp.post("/activities/<int:activity_id>")
@login_required
def update(activity_id: int):
    activity = _own_or_404(activity_id)
    values = {k: request.form.get(k, "") for k in ("date", "service", "minutes", "title")}
    try:
        errors = history_edit.update_activity(current_user, activity, values)
        problem = None
    except history_edit.EditError as exc:
        errors, problem = [], str(exc)
    if errors or problem:
        template = "history/_edit_row.html" if _is_htmx() else "history/edit.html"
        return render_template(template, a=activity, values=values, errors=errors, problem=problem,
                               return_to=_return_to()), 200 if _is_htmx() else 400
    if _is_htmx():
        response = make_response(render_template("history/_row.html", a=activity, return_to=_return_to()))
        response.headers["HX-Trigger"] = CHANGED
        return response
    flash(f"Saved {history_edit.describe(activity)}.", "success")
    return _back()


@bp.post("/activities/<int:activity_id>/delete")
@login_required
def delete(activity_id: int):
    activity = _own_or_404(activity_id)
    text = history_edit.describe(activity)
    try:
        token = history_edit.delete_activity(activity)
    except history_edit.EditError as exc:
        if _is_htmx():
            return _flash_fragment(str(exc), "error")
        flash(str(exc), "error")
        return _back()
    undo = {"token": token, "next": _return_to()}
    if _is_htmx():
        return _flash_fragment(f"Deleted {text}.", undo=undo)
    session["history_undo"] = {"token": token, "message": f"Deleted {text}."}
    return _back()


@bp.post("/activities/<int:activity_id>/hide")
@login_required
def hide(activity_id: int):
    return _set_hidden(activity_id, True)


@bp.post("/activities/<int:activity_id>/unhide")
@login_required
def unhide(activity_id: int):
    return _set_hidden(activity_id, False)


def _set_hidden(activity_id: int, hidden: bool):
    activity = _own_or_404(activity_id)
    history_edit.set_hidden(activity, hidden)
    if hidden:
        message = f"Hidden {history_edit.describe(activity)}: it no longer counts in totals or charts."
        undo = {"unhide": activity.id, "next": _return_to()}
    else:
        message, undo = f"{history_edit.describe(activity).capitalize()} counts again.", None
    if _is_htmx():
        return _flash_fragment(message, undo=undo)
    flash(message, "success")
    return _back()


@bp.post("/undo")
@login_required
def undo():
    """Bring back a deleted activity from the token in its flash message."""
    try:
        activity = history_edit.restore_activity(current_user, request.form.get("token", ""))
        message, kind = f"Restored {history_edit.describe(activity)}.", "success"
    except history_edit.EditError as exc:
        message, kind = str(exc), "error"
    if _is_htmx():
        return _flash_fragment(message, kind)
    flash(message, kind)
    return _back()


@bp.get("/export.<any(csv, json):kind>")
@login_required
def export_file(kind: str):
    """Stream the filtered view as CSV (re-importable) or JSON."""
    f = parse_filter(request.args)
    chunks = export.csv_chunks if kind == "csv" else export.json_chunks
    mimetype = "text/csv" if kind == "csv" else "application/json"
    name = export.export_filename(f, local_today(current_user.timezone), kind)
    response = Response(stream_with_context(chunks(current_user.id, f)), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
