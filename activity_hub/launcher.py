"""`make run`: web + worker + scheduler (+ the embedded Redis when REDIS_URL is unset), in the foreground.

Ctrl-C (SIGINT) or SIGTERM stops every child, then Redis. If any child dies, the rest are stopped too.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dotenv import load_dotenv

from . import embedded_redis
from .config import PROJECT_ROOT, embedded_redis_socket, instance_path

STOP_TIMEOUT = 15


def main() -> int:
    load_dotenv(PROJECT_ROOT / ".env")
    instance = instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000")
    env = dict(os.environ, INSTANCE_PATH=str(instance))
    redis_proc = None
    if not os.environ.get("REDIS_URL"):
        socket = embedded_redis_socket(instance)
        redis_proc = embedded_redis.start(socket.parent, socket=socket)
        print(f"redis: embedded redis-server on {socket}", flush=True)
    python = sys.executable
    gunicorn = str(Path(python).with_name("gunicorn"))
    commands = {
        "web": [gunicorn, "app:app", "--bind", f"{host}:{port}", "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
                "--threads", "4", "--access-logfile", "-", "--graceful-timeout", "10"],
        "worker": [python, "worker.py"],
        "scheduler": [python, "worker.py", "scheduler"],
    }
    children = {
        name: subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, start_new_session=True)
        for name, cmd in commands.items()
    }
    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    print(f"\n  Activity Hub is running at http://{shown}:{port}  (Ctrl-C stops it)\n", flush=True)
    exit_code = 0
    try:
        while not stopping:
            for name, proc in children.items():
                if proc.poll() is not None:
                    print(f"{name} exited with code {proc.returncode}; stopping everything", flush=True)
                    stopping, exit_code = True, 1
            time.sleep(0.3)
    finally:
        _stop_all(children)
        if redis_proc is not None:
            embedded_redis.stop(redis_proc)
        print("Activity Hub stopped.", flush=True)
    return exit_code


def _stop_all(children: dict) -> None:
    for proc in children.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for proc in children.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
