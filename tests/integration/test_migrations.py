"""The Alembic migrations build exactly the schema the models describe, on this test database's dialect."""

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine

from activity_hub import create_app
from activity_hub.config import database_url
from activity_hub.extensions import db


def test_migrations_match_models(tmp_path):
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
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "REDIS_URL": "redis://127.0.0.1:1/0", **uri_opts})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ; regenerate the migration: {diff}"
        db.engine.dispose()
