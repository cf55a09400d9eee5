"""Configuration from the environment; production refuses to start without its secrets."""

import os
import stat

import pytest
from cryptography.fernet import Fernet

from activity_hub.config import ConfigError, database_url, load_config
from activity_hub.crypto import SecretBox, mask


def test_production_needs_secret_key_and_encryption_key(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY, ENCRYPTION_KEY"):
        load_config({"APP_ENV": "production"})
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        load_config({"APP_ENV": "production", "SECRET_KEY": "s" * 40})
    config = load_config({"APP_ENV": "production", "SECRET_KEY": "s" * 40, "ENCRYPTION_KEY": Fernet.generate_key().decode()})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


def test_development_generates_and_keeps_secrets_in_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    first = load_config({})
    second = load_config({})
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and first["ENCRYPTION_KEYS"] == second["ENCRYPTION_KEYS"]
    for name in ("secret_key", "encryption.key"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    assert first["REDIS_URL"] == f"unix://{tmp_path}/redis/redis.sock" and first["REDIS_EMBEDDED"]
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/activity_hub.db"


def test_database_urls_are_normalised(tmp_path):
    assert database_url("postgres://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:////x/y.db", tmp_path) == "sqlite:////x/y.db"


def test_environment_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    config = load_config({"REDIS_URL": "redis://cache:6379/2", "GITHUB_OAUTH_URL": "https://ghe.example/login/oauth/",
                          "GITHUB_API_URL": "https://ghe.example/api/v3/", "MAX_UPLOAD_MB": "5"})
    assert config["REDIS_URL"] == "redis://cache:6379/2" and not config["REDIS_EMBEDDED"]
    assert config["GITHUB_OAUTH_URL"] == "https://ghe.example/login/oauth"
    assert config["GITHUB_API_URL"] == "https://ghe.example/api/v3"
    assert config["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024


def test_key_rotation_keeps_old_tokens_readable():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt("waka_secret")
    rotated_box = SecretBox([new, old])
    assert rotated_box.decrypt(token) == "waka_secret"
    rotated = rotated_box.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == "waka_secret"


def test_mask_shows_only_the_tail():
    assert mask("waka_0123456789abcdef3f9a") == "••••3f9a"
    assert mask("short") == "••••" and mask(None) == ""


@pytest.mark.parametrize("name, value", [("HTTP_TIMEOUT", "soon"), ("MAX_UPLOAD_MB", "-1"), ("CSV_MAX_ROWS", "1e3"),
                                         ("DAILY_SYNC_AT", "25:00"), ("DAILY_SYNC_AT", "3pm")])
def test_bad_numbers_and_times_name_the_variable(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match=name):
        load_config({name: value})


def test_daily_sync_time_is_normalised(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    assert load_config({"DAILY_SYNC_AT": "4:5"})["DAILY_SYNC_AT"] == "04:05"
