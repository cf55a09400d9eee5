"""The History page (filled in by its own issue)."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("history", __name__, url_prefix="/history")


@bp.get("/")
@login_required
def index():
    return render_template("history/page.html")
