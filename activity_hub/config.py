"""Configuration: defaults, the environment (and `.env`), and secrets kept under `instance/`."""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """The app cannot start with this configuration."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env, name: str, default, kind=int):
    """A positive number from the environment, or a ConfigError that names the variable."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def _daily_time(raw: str) -> str:
    hour, _, minute = raw.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ConfigError(f"DAILY_SYNC_AT must be HH:MM in UTC, got {raw!r}")
    return f"{int(hour):02d}:{int(minute):02d}"


def instance_path() -> Path:
    """The absolute folder for the embedded defaults (SQLite file, Redis data, generated keys)."""
    return Path(os.environ.get("INSTANCE_PATH") or DEFAULT_INSTANCE).resolve()


def embedded_redis_socket(instance: Path) -> Path:
    return instance / "redis" / "redis.sock"


def database_url(raw: str | None, instance: Path) -> str:
    """Normalise `DATABASE_URL`; default to an absolute SQLite path so web and workers share one file."""
    if not raw:
        return f"sqlite:///{instance / 'activity_hub.db'}"
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    return raw


def _generated_secret(instance: Path, name: str, make) -> str:
    """Read a secret kept in `instance/`, creating it (mode 0600) on first use."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def load_config(env: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment."""
    env = os.environ if env is None else env
    instance = instance_path()
    production = env.get("APP_ENV", "development").lower() == "production"
    secret_key = env.get("SECRET_KEY")
    encryption_keys = env.get("ENCRYPTION_KEY")
    if production and not (secret_key and encryption_keys):
        missing = [n for n, v in (("SECRET_KEY", secret_key), ("ENCRYPTION_KEY", encryption_keys)) if not v]
        raise ConfigError(f"APP_ENV=production needs {', '.join(missing)} set in the environment")
    if not secret_key:
        secret_key = _generated_secret(instance, "secret_key", lambda: secrets.token_urlsafe(48))
    if not encryption_keys:
        encryption_keys = _generated_secret(
            instance, "encryption.key", lambda: Fernet.generate_key().decode()
        )
    redis_url = env.get("REDIS_URL") or ""
    secure_cookies = _bool(env.get("SESSION_COOKIE_SECURE"), default=production)
    return {
        "APP_ENV": "production" if production else "development",
        "SECRET_KEY": secret_key,
        "ENCRYPTION_KEYS": [k.strip() for k in encryption_keys.split(",") if k.strip()],
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL"), instance),
        "REDIS_URL": redis_url or f"unix://{embedded_redis_socket(instance)}",
        "REDIS_EMBEDDED": not redis_url,
        "GITHUB_ID": env.get("GITHUB_ID") or None,
        "GITHUB_SECRET": env.get("GITHUB_SECRET") or None,
        "GITHUB_OAUTH_URL": (env.get("GITHUB_OAUTH_URL") or "https://github.com/login/oauth").rstrip("/"),
        "GITHUB_API_URL": (env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        "WAKATIME_API_URL": (env.get("WAKATIME_API_URL") or "https://wakatime.com/api/v1").rstrip("/"),
        "CODEWARS_API_URL": (env.get("CODEWARS_API_URL") or "https://www.codewars.com/api/v1").rstrip("/"),
        "EXERCISM_API_URL": (env.get("EXERCISM_API_URL") or "https://exercism.org/api/v2").rstrip("/"),
        "HTTP_TIMEOUT": _number(env, "HTTP_TIMEOUT", 30, float),
        "SYNC_JOB_TIMEOUT": _number(env, "SYNC_JOB_TIMEOUT", 900, int),
        "SYNC_HTTP_RETRIES": _number(env, "SYNC_HTTP_RETRIES", 3, int),
        "SYNC_HTTP_BACKOFF": _number(env, "SYNC_HTTP_BACKOFF", 0.5, float),
        "SYNC_STALE_AFTER": _number(env, "SYNC_STALE_AFTER", 120, int),
        "CONNECT_HTTP_RETRIES": _number(env, "CONNECT_HTTP_RETRIES", 1, int),
        "DAILY_SYNC_AT": _daily_time(env.get("DAILY_SYNC_AT") or "03:00"),
        "MAX_CONTENT_LENGTH": _number(env, "MAX_UPLOAD_MB", 50, int) * 1024 * 1024,
        "CSV_MAX_ROWS": _number(env, "CSV_MAX_ROWS", 1_000_000, int),
        "CSV_INLINE_MAX_BYTES": _number(env, "CSV_INLINE_MAX_BYTES", 1024 * 1024, int),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
        # Tokens stay valid for the whole session: htmx pages stay open for hours.
        "WTF_CSRF_TIME_LIMIT": None,
        "PROXY_FIX": _bool(env.get("PROXY_FIX")),
        "ALLOW_PRIVATE_PROVIDER_URLS": _bool(env.get("ALLOW_PRIVATE_PROVIDER_URLS")),
        "INSTANCE_PATH": str(instance),
    }
