"""Blueprints, one per area, and what their views share."""

from flask import request


def is_htmx() -> bool:
    """The request comes from htmx and wants a fragment rather than a page."""
    return bool(request.headers.get("HX-Request"))
