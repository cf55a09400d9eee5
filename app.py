"""WSGI entry point: `flask --app app run` or `gunicorn app:app`."""

from activity_hub import create_app

app = create_app()
