"""`make run`'s launcher: everything comes up on the embedded defaults, and SIGINT/SIGTERM stop every child."""

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import redis
import requests

from activity_hub import embedded_redis
from activity_hub.config import PROJECT_ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.slow


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 40) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode()
        try:
            body = requests.get(url, timeout=1).json()
            if body.get("workers"):
                return body
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.3)
    raise AssertionError("launcher did not become healthy")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_launcher_starts_everything_and_stops_every_child(tmp_path, sig):
    instance = tmp_path / "instance"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(INSTANCE_PATH=str(instance), PORT=str(port), WEB_CONCURRENCY="1")
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=PROJECT_ROOT, env=env,
                   check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "activity_hub.launcher"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        health = _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        assert health == {"status": "ok", "database": "ok", "redis": "ok", "workers": 1}
        descendants = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in descendants)
        assert "redis-server" in names and "gunicorn" in names and "worker.py scheduler" in names
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out.decode()
        assert b"Activity Hub is running at http://127.0.0.1:%d" % port in out
        gone, alive = psutil.wait_procs(descendants, timeout=5)
        assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
        assert (instance / "secret_key").exists() and (instance / "activity_hub.db").exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_embedded_redis_keeps_queued_data_across_restarts(tmp_path):
    sock = tmp_path / "r.sock"
    proc = embedded_redis.start(tmp_path, socket=sock)
    redis.Redis.from_url(f"unix://{sock}").rpush("rq:queue:sync", "job-1")
    embedded_redis.stop(proc)
    proc = embedded_redis.start(tmp_path, socket=sock)
    try:
        assert redis.Redis.from_url(f"unix://{sock}").lrange("rq:queue:sync", 0, -1) == [b"job-1"]
    finally:
        embedded_redis.stop(proc)
