"""`/healthz`: the database, Redis and live workers, for load balancers and people."""

from flask import Blueprint, jsonify
from rq import Worker
from sqlalchemy import text

from ..extensions import db
from ..queues import RedisError, get_redis

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    status = {"database": "ok", "redis": "ok", "workers": None}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "down"
        db.session.rollback()
        status["database"] = f"error: {type(exc).__name__}"
    try:
        get_redis().ping()
        status["workers"] = Worker.count(connection=get_redis())
    except (RedisError, OSError) as exc:
        status["redis"] = f"error: {type(exc).__name__}"
    healthy = status["database"] == "ok" and status["redis"] == "ok"
    status["status"] = "ok" if healthy else "error"
    return jsonify(status), 200 if healthy else 503
