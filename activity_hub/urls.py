"""Redirect targets that are safe to follow."""

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """Return `target` only when it is a local path: one leading `/`, no backslash, no scheme or host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
