"""`flask rotate-keys` re-encrypts stored credentials under the first key."""

from cryptography.fernet import Fernet
from sqlalchemy import select

from activity_hub import create_app
from activity_hub.crypto import SecretBox
from activity_hub.extensions import db
from activity_hub.models import Integration, User


def test_rotate_keys(app_config, app):
    old = app.config["ENCRYPTION_KEYS"][0]
    with app.app_context():
        user = User(email="k@example.org")
        db.session.add(user)
        db.session.flush()
        db.session.add(Integration(user_id=user.id, provider="exercism",
                                   credentials_encrypted=SecretBox([old]).encrypt("exercism-token")))
        db.session.commit()
    new = Fernet.generate_key().decode()
    rotated_app = create_app(dict(app_config, ENCRYPTION_KEYS=[new, old]))
    result = rotated_app.test_cli_runner().invoke(args=["rotate-keys"])
    assert "Re-encrypted 1 credential(s)" in result.output
    with rotated_app.app_context():
        token = db.session.scalar(select(Integration.credentials_encrypted))
    assert SecretBox([new]).decrypt(token) == "exercism-token"
