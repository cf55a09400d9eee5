"""Sign up, sign in (password or GitHub), sign out."""

import logging

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import oauth
from ..forms import LoginForm, SignupForm
from ..services import accounts
from ..urls import safe_next

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

GITHUB_ERRORS = {
    "access_denied": "You cancelled signing in with GitHub. Nothing was changed.",
    "bad_verification_code": "GitHub said the sign-in code was wrong or expired. Please try again.",
    "incorrect_client_credentials": "GitHub rejected this server's OAuth app credentials (GITHUB_ID / GITHUB_SECRET). Ask the administrator to check them.",
    "redirect_uri_mismatch": "GitHub rejected the callback address; the OAuth app's callback URL must match this site.",
    "application_suspended": "GitHub has suspended this server's OAuth app.",
}


def register_github_oauth(app) -> None:
    """Register authlib's GitHub client; hosts come from configuration (GitHub Enterprise, tests)."""
    if not app.config.get("GITHUB_ID"):
        return
    base = app.config["GITHUB_OAUTH_URL"]
    # The authlib registry is per process and caches the built client: drop it so the URLs of this app win
    # (several apps live in one test process; in production there is one app, so this changes nothing).
    oauth._clients.pop("github", None)
    oauth.register(
        "github",
        client_id=app.config["GITHUB_ID"],
        client_secret=app.config["GITHUB_SECRET"],
        authorize_url=f"{base}/authorize",
        access_token_url=f"{base}/access_token",
        api_base_url=app.config["GITHUB_API_URL"] + "/",
        client_kwargs={"scope": "read:user", "default_timeout": (5, app.config["HTTP_TIMEOUT"])},
        overwrite=True,
    )


def github_configured() -> bool:
    return bool(current_app.config.get("GITHUB_ID")) and "github" in oauth._registry


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("history.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.sign_up(form.email.data, form.password.data)
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            login_user(user)
            flash("Welcome to Activity Hub! Connect a source or upload a CSV to fill your history.", "success")
            return redirect(url_for("connect.index"))
    return render_template("auth/signup.html", form=form, github_enabled=github_configured())


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("history.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("That email and password do not match an account.")
        else:
            login_user(user, remember=form.remember.data)
            return redirect(target or url_for("history.index"))
    if target:
        session["next"] = target
    return render_template("auth/login.html", form=form, github_enabled=github_configured())


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/auth/github")
def github_login():
    if not github_configured():
        flash("GitHub sign-in is not configured on this server: the administrator needs to set GITHUB_ID and GITHUB_SECRET.", "error")
        return redirect(url_for("connect.index" if current_user.is_authenticated else "auth.login"))
    callback = url_for("auth.github_callback", _external=True)
    try:
        return oauth.github.authorize_redirect(callback)
    except requests.RequestException:
        return _github_failed("Could not reach GitHub. Try again in a moment.")


@bp.get("/auth/github/callback")
def github_callback():
    if not github_configured():
        return redirect(url_for("auth.login"))
    if error := request.args.get("error"):
        return _github_failed(GITHUB_ERRORS.get(error, f"GitHub sign-in failed ({error})."))
    try:
        token = oauth.github.authorize_access_token()
        profile = _fetch_profile(token)
    except MismatchingStateError:
        return _github_failed("The GitHub sign-in could not be verified (the request did not match or expired). Please try again.")
    except OAuthError as exc:
        return _github_failed(GITHUB_ERRORS.get(exc.error, f"GitHub sign-in failed: {exc.description or exc.error}."))
    except requests.Timeout:
        return _github_failed("GitHub did not answer in time. Try again in a moment.")
    except (requests.RequestException, ValueError, KeyError) as exc:
        log.warning("GitHub sign-in failed: %s", type(exc).__name__)
        return _github_failed("Could not reach GitHub to finish signing in. Try again in a moment.")
    try:
        user, created = accounts.github_sign_in(
            current_user if current_user.is_authenticated else None, profile, token["access_token"]
        )
    except accounts.AccountError as exc:
        return _github_failed(str(exc))
    _after_github_connected(user)
    if current_user.is_authenticated and current_user.id == user.id:
        flash(f"GitHub account {profile.login} connected.", "success")
        return redirect(url_for("connect.index"))
    login_user(user)
    flash(f"Signed in with GitHub as {profile.login}." + (" Welcome!" if created else ""), "success")
    return redirect(safe_next(session.pop("next", None)) or url_for("history.index"))


def _fetch_profile(token: dict) -> accounts.GitHubProfile:
    if not token.get("access_token"):
        raise OAuthError(error="no_token", description="GitHub sent no access token")
    resp = oauth.github.get(
        "user", token=token,
        headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    )
    if resp.status_code != 200:
        raise OAuthError(error="profile", description=f"GitHub answered {resp.status_code} for the profile")
    data = resp.json()
    return accounts.GitHubProfile(id=int(data["id"]), login=str(data["login"]), name=data.get("name"))


def _after_github_connected(user) -> None:
    """Hook for the sync engine: start the initial backfill of a fresh connection."""
    hook = current_app.extensions.get("on_integration_connected")
    if hook:
        hook(user._github_integration)


def _github_failed(message: str):
    flash(message, "error")
    if current_user.is_authenticated:
        return redirect(url_for("connect.index"))
    return redirect(url_for("auth.login"))


@bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("history.index"))
    return render_template("auth/home.html", github_enabled=github_configured())
