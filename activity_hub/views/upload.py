"""The Upload page: template download, upload with preview, import with a live badge, past imports, undo."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from ..services import csv_batches
from ..services.rows import COLUMNS
from . import is_htmx

bp = Blueprint("upload", __name__, url_prefix="/upload")
FINISHED_EVENTS = {"previewed": "preview-ready", "rejected": "preview-ready"}


@bp.context_processor
def _template_helpers() -> dict:
    return {"local_time": lambda instant: csv_batches.local_time(current_user, instant)}



def _own_batch(batch_id: int):
    batch = csv_batches.user_batch(current_user.id, batch_id)
    if batch is None:
        abort(404)
    return batch


def _page(batch=None, message=None):
    batches, total = _batches()
    return render_template(
        "upload/page.html", batch=batch, message=message, columns=COLUMNS, batches=batches, total=total,
        limits=_limits(),
    )


def _batches():
    """The newest 50 past imports, or all of them with `?all=1`."""
    return csv_batches.user_batches(current_user.id, limit=None if request.args.get("all") else 50)


def _limits() -> dict:
    config = current_app.config
    return {"max_bytes": config["MAX_CONTENT_LENGTH"], "max_mb": config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
            "max_rows": config["CSV_MAX_ROWS"]}


def _panel(batch, message=None, push=None, trigger="imports-changed"):
    """The batch panel as a fragment for htmx, or the whole page (at the batch's URL) otherwise."""
    if not is_htmx():
        return redirect(url_for("upload.show", batch_id=batch.id) if batch else url_for("upload.index"))
    response = make_response(render_template("upload/_panel.html", batch=batch, message=message))
    if push:
        response.headers["HX-Push-Url"] = push
    if trigger:
        response.headers["HX-Trigger"] = trigger
    return response


@bp.get("/")
@login_required
def index():
    return _page()


@bp.get("/template.csv")
@login_required
def template():
    return Response(csv_batches.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=activity-template.csv"})


@bp.post("/")
@login_required
def upload():
    """Store the file with a new batch; check it now if small, else in a worker job."""
    file = request.files.get("file")
    if file is None or not file.filename:
        return _message("Choose a CSV file first (or drop one on the upload box).")
    batch = csv_batches.store_upload(current_user.id, file.filename, file.stream)
    try:
        batch = csv_batches.check_upload(batch)
    except csv_batches.QueueUnavailable as exc:
        csv_batches.discard_batch(batch)
        return _message(f"{exc} Large files are checked in the background.")
    return _panel(batch, push=url_for("upload.show", batch_id=batch.id))


def _message(text: str):
    if is_htmx():
        return render_template("upload/_panel.html", batch=None, message=text)
    return _page(message=text)


@bp.get("/<int:batch_id>")
@login_required
def show(batch_id: int):
    return _page(_own_batch(batch_id))


@bp.get("/<int:batch_id>/panel")
@login_required
def panel(batch_id: int):
    return render_template("upload/_panel.html", batch=_own_batch(batch_id))


@bp.get("/<int:batch_id>/badge")
@login_required
def badge(batch_id: int):
    """The live badge; once the step is over it answers 286 (stop polling) and tells the page."""
    batch = csv_batches.settle_lost_job(_own_batch(batch_id))
    response = make_response(render_template("upload/_badge.html", batch=batch))
    if not batch.running:
        response.status_code = 286
        response.headers["HX-Trigger"] = FINISHED_EVENTS.get(batch.status, "import-finished")
    return response


@bp.get("/list")
@login_required
def batch_list():
    batches, total = _batches()
    return render_template("upload/_list.html", batches=batches, total=total)


@bp.post("/<int:batch_id>/import")
@login_required
def start_import(batch_id: int):
    return _start(_own_batch(batch_id), csv_batches.start_import, "This file cannot be imported now.")


@bp.post("/<int:batch_id>/undo")
@login_required
def undo(batch_id: int):
    return _start(_own_batch(batch_id), csv_batches.start_undo, "Only a finished import can be undone.")


def _start(batch, start, refusal: str):
    try:
        started = start(batch)
    except csv_batches.QueueUnavailable as exc:
        return _panel(batch, message=str(exc), trigger=None)
    return _panel(batch, message=None if started else refusal, push=url_for("upload.show", batch_id=batch.id))


@bp.post("/<int:batch_id>/cancel")
@login_required
def cancel(batch_id: int):
    batch = _own_batch(batch_id)
    if not csv_batches.discard_batch(batch):
        return _panel(batch, message="This batch cannot be discarded while it is running or imported.", trigger=None)
    return _panel(None, push=url_for("upload.index"))


@bp.get("/<int:batch_id>/invalid-rows.csv")
@login_required
def invalid_rows(batch_id: int):
    batch = _own_batch(batch_id)
    stem = batch.filename.rsplit(".", 1)[0] or "upload"
    return Response(
        stream_with_context(csv_batches.invalid_rows_csv(batch)), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_ascii(stem)}-invalid-rows.csv"'},
    )


def _ascii(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_. ") else "_" for ch in name)[:100]
