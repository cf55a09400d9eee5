"""Activity Hub: one history of a person's learning and coding activity."""

import hmac
import logging
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask
from sqlalchemy import event

from . import queues
from .config import PROJECT_ROOT, load_config
from .crypto import SecretBox
from .extensions import csrf, db, login_manager, migrate, oauth


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app in named steps: config, extensions, blueprints, errors, cli."""
    if not (test_config or {}).get("TESTING"):
        load_dotenv(PROJECT_ROOT / ".env")
    config = load_config()
    app = Flask(
        __name__,
        instance_path=config["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(config)
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _init_extensions(app)
    _register_blueprints(app)
    _register_sync_hooks(app)
    _register_errors_and_headers(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    queues.init_app(app)
    app.extensions["secret_box"] = SecretBox(app.config["ENCRYPTION_KEYS"])
    oauth.init_app(app)
    from .views.auth import register_github_oauth

    register_github_oauth(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    from .models import User

    @login_manager.user_loader
    def load_user(session_id: str):
        """Sessions carry `<id>.<session token>`; a token from before a password change no longer matches."""
        user_id, token = parse_session_id(session_id)
        user = db.session.get(User, user_id) if user_id is not None else None
        return user if user is not None and hmac.compare_digest(user.session_token, token) else None


def parse_session_id(session_id) -> tuple[int | None, str]:
    """Split Flask-Login's stored id `<user id>.<session token>`; (None, "") when it is not of that form."""
    user_id, _, token = str(session_id or "").partition(".")
    if not (user_id.isascii() and user_id.isdigit() and token and len(user_id) < 12):
        return None, ""
    return int(user_id), token


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    """WAL + a long busy timeout so web and worker processes queue for the write lock, not fail."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _register_blueprints(app: Flask) -> None:
    from .views import auth, connect, health, history, settings, upload

    for module in (auth, connect, health, history, settings, upload):
        app.register_blueprint(module.bp)


def _register_sync_hooks(app: Flask) -> None:
    """A new connection starts its backfill; a time zone change recomputes GitHub days and re-reads WakaTime's."""
    from .services.connections import wakatime_timezone_changed
    from .services.github_days import recompute_all
    from .services.sync import start_initial_sync

    app.extensions["on_integration_connected"] = start_initial_sync
    app.extensions.setdefault("timezone_hooks", []).extend([recompute_all, wakatime_timezone_changed])


def _register_errors_and_headers(app: Flask) -> None:
    from .views import errors

    errors.register(app)


def _register_cli(app: Flask) -> None:
    from . import cli

    cli.register(app)
    logging.getLogger("activity_hub").setLevel(logging.INFO)
