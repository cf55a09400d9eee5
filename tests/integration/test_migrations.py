"""The Alembic migrations build exactly the schema the models describe, on this test database's dialect."""

import os
from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from activity_hub import create_app
from activity_hub.config import database_url
from activity_hub.extensions import db


def scratch_app(tmp_path):
    """An app on an empty database of the suite's dialect (a scratch schema on PostgreSQL)."""
    raw = os.environ.get("TEST_DATABASE_URL")
    if raw:  # a scratch schema next to the suite's own
        uri = database_url(raw, tmp_path)
        engine = create_engine(uri)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS migration_check CASCADE; CREATE SCHEMA migration_check")
        engine.dispose()
        uri_opts = {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-csearch_path=migration_check"}}}
    else:
        uri, uri_opts = f"sqlite:///{tmp_path / 'migrated.db'}", {}
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "REDIS_URL": "redis://127.0.0.1:1/0", **uri_opts})


def test_migrations_match_models(tmp_path):
    app = scratch_app(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ; regenerate the migration: {diff}"
        db.engine.dispose()


def test_csv_keys_from_before_date_prefixes_get_their_day_and_lose_it_on_downgrade(tmp_path):
    app = scratch_app(tmp_path)
    legacy = "9f2c" * 8 + "-1"
    with app.app_context():
        upgrade(revision="26f037dc0d8e")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, email, timezone, session_token, created_at) "
                              "VALUES (1, 'a@example.org', 'UTC', 'x', '2025-01-01 00:00:00')"))
            for source, key in (("csv", legacy), ("github", "github:2025-06-01")):
                conn.execute(text(
                    "INSERT INTO activities (user_id, service, date, minutes, title, source, external_id, hidden, "
                    "created_at, updated_at) VALUES (1, 'anki', :day, 5, 'Deck', :source, :key, :no, '2025-06-01 00:00:00', "
                    "'2025-06-01 00:00:00')"
                ), {"day": date(2025, 6, 1), "source": source, "key": key, "no": False})
        keys = "SELECT source, external_id FROM activities ORDER BY source"
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text(keys)).all() == [("csv", f"2025-06-01:{legacy}"), ("github", "github:2025-06-01")]
        upgrade()  # at head already: nothing changes twice
        downgrade(revision="26f037dc0d8e")
        with db.engine.connect() as conn:
            assert conn.execute(text(keys)).all() == [("csv", legacy), ("github", "github:2025-06-01")]
        db.engine.dispose()
