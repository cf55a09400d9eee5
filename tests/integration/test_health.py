"""/healthz reports the database, Redis and live workers, and fails when a dependency is down."""

from activity_hub import create_app
from tests.conftest import free_port


def test_healthy(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok", "redis": "ok", "workers": 0}


def test_counts_live_workers(client, app):
    from rq import Worker

    worker = Worker(["default"], connection=app.extensions["redis"])
    worker.register_birth()
    try:
        assert client.get("/healthz").get_json()["workers"] == 1
    finally:
        worker.register_death()


def test_redis_down_is_503(app_config):
    app = create_app(dict(app_config, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "error" and body["redis"].startswith("error") and body["database"] == "ok"


def test_database_down_is_503(app_config, tmp_path):
    missing = tmp_path / "no-such-dir" / "x.db"
    app = create_app(dict(app_config, SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}"))
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["database"].startswith("error")
