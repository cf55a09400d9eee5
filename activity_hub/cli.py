"""Flask CLI commands: `flask rotate-keys`."""

import click
from sqlalchemy import select

from .crypto import secret_box
from .extensions import db
from .models import Integration


def register(app) -> None:
    @app.cli.command("rotate-keys")
    def rotate_keys():
        """Re-encrypt stored credentials under the first ENCRYPTION_KEY (after adding a new key in front)."""
        count = 0
        for integration in db.session.scalars(select(Integration).where(Integration.credentials_encrypted.is_not(None))):
            integration.credentials_encrypted = secret_box().rotate(integration.credentials_encrypted)
            count += 1
        db.session.commit()
        click.echo(f"Re-encrypted {count} credential(s) under the current key.")
