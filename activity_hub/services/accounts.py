"""Accounts: sign-up, password sign-in, GitHub sign-in and linking, deletion. No Flask request needed."""

from dataclasses import dataclass

from sqlalchemy import delete, select

from ..crypto import secret_box
from ..extensions import db
from ..models import Activity, GitHubEvent, ImportBatch, Integration, SyncRun, User


class AccountError(Exception):
    """Something the person can act on; the message is shown as is, next to `field` when one is named."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class GitHubProfile:
    id: int
    login: str
    name: str | None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def sign_up(email: str, password: str) -> User:
    if find_by_email(email):
        raise AccountError("An account with this email already exists. Sign in instead?")
    user = User(email=normalise_email(email))
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_by_email(email)
    return user if user and user.check_password(password) else None


def github_sign_in(current: User | None, profile: GitHubProfile, access_token: str) -> tuple[User, bool]:
    """Sign in, create or link the GitHub user; store the token encrypted. Returns (user, created)."""
    owner = db.session.scalar(select(User).where(User.github_id == profile.id))
    created = False
    if current is not None:
        if owner is not None and owner.id != current.id:
            raise AccountError(
                f"The GitHub account {profile.login} is already linked to another Activity Hub account."
            )
        user = current
    elif owner is not None:
        user = owner
    else:
        user = User(display_name=profile.name or None)
        db.session.add(user)
        created = True
    user.github_id = profile.id
    user.github_login = profile.login
    integration = save_github_token(user, profile, access_token)
    db.session.commit()
    user._github_integration = integration
    return user, created


def save_github_token(user: User, profile: GitHubProfile, access_token: str) -> Integration:
    integration = db.session.scalar(
        select(Integration).where(Integration.user_id == user.id, Integration.provider == "github")
    ) if user.id else None
    if integration is None:
        integration = Integration(provider="github", user=user)
        db.session.add(integration)
    integration.account_name = profile.login
    integration.account_id = str(profile.id)
    integration.credentials_encrypted = secret_box().encrypt(access_token)
    integration.secret_tail = access_token[-4:]
    integration.status = "connected"
    integration.last_error = None
    return integration


def change_email(user: User, email: str | None) -> None:
    """Set or change the sign-in email; refuses one that another account uses. Does not commit."""
    email = normalise_email(email or "")
    if not email:
        if user.password_hash:
            raise AccountError("You sign in with your email, so it cannot be empty.")
        user.email = None
        return
    owner = find_by_email(email)
    if owner is not None and owner.id != user.id:
        raise AccountError("Another account already uses this email.")
    user.email = email


def change_password(user: User, current_password: str | None, new_password: str) -> None:
    if user.password_hash and not user.check_password(current_password or ""):
        raise AccountError("Your current password is not right.")
    if not user.email:
        raise AccountError("Add an email address in your profile first: you will sign in with it and this password.",
                           field="new_password")
    user.set_password(new_password)
    db.session.commit()


def delete_account(user: User) -> None:
    """Remove every row that belongs to the user, children first, in one transaction."""
    uid = user.id
    for model in (Activity, GitHubEvent, SyncRun, ImportBatch, Integration):
        db.session.execute(delete(model).where(model.user_id == uid))
    db.session.execute(delete(User).where(User.id == uid))
    db.session.commit()
