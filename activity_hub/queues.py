"""Redis connection and RQ queues kept in `app.extensions`."""

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

QUEUE_NAMES = ("sync", "imports", "default")


def init_app(app) -> None:
    conn = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=10)
    app.extensions["redis"] = conn
    app.extensions["queues"] = {name: Queue(name, connection=conn) for name in QUEUE_NAMES}


def get_redis() -> Redis:
    return current_app.extensions["redis"]


def get_queue(name: str = "default") -> Queue:
    return current_app.extensions["queues"][name]


def redis_available() -> bool:
    try:
        return bool(get_redis().ping())
    except (RedisError, OSError):
        return False


__all__ = ["QUEUE_NAMES", "RedisError", "get_queue", "get_redis", "init_app", "redis_available"]
