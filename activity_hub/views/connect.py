"""The Connect page (filled in by its own issue)."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("connect", __name__, url_prefix="/connect")


@bp.get("/")
@login_required
def index():
    return render_template("connect/page.html")
