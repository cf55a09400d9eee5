"""The Upload page (filled in by its own issue)."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("upload", __name__, url_prefix="/upload")


@bp.get("/")
@login_required
def index():
    return render_template("upload/page.html")
