"""Encryption at rest for provider credentials (Fernet; several keys for rotation)."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretBox:
    """Encrypts with the first key and decrypts with any; `rotate` re-encrypts under the first."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode()).decode()


def secret_box() -> SecretBox:
    return current_app.extensions["secret_box"]


def mask(secret: str | None) -> str:
    """Show only the last four characters of a secret: `••••3f9a`."""
    if not secret:
        return ""
    return "••••" + secret[-4:] if len(secret) > 8 else "••••"


__all__ = ["SecretBox", "InvalidToken", "secret_box", "mask"]
