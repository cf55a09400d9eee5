"""Settings: profile and time zone, password, account deletion."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..forms import DeleteAccountForm, PasswordChangeForm, ProfileForm
from ..services import accounts, timezones
from . import is_htmx

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _forms(**overrides):
    forms = {
        "profile_form": ProfileForm(obj=current_user, formdata=None),
        "password_form": PasswordChangeForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
    }
    forms.update(overrides)
    return forms


@bp.get("/")
@login_required
def index():
    return render_template("settings/page.html", **_forms())


@bp.post("/profile")
@login_required
def profile():
    """Saves name and time zone; answers the form fragment to htmx, a redirect otherwise."""
    form = ProfileForm()
    message = None
    if form.validate_on_submit():
        message = _save_profile(form)
    if is_htmx():
        return render_template("settings/_profile_form.html", profile_form=form, message=message)
    if message:
        flash(message, "success")
        return redirect(url_for("settings.index"))
    return render_template("settings/page.html", **_forms(profile_form=form)), 400


def _save_profile(form: ProfileForm) -> str | None:
    """Apply the profile form in one transaction: a failed time zone move leaves everything as it was."""
    try:
        if form.email.raw_data:  # a form without the field leaves the email as it is
            accounts.change_email(current_user, form.email.data)
    except accounts.AccountError as exc:
        form.email.errors.append(str(exc))
        return None
    old_tz = current_user.timezone
    current_user.display_name = (form.display_name.data or "").strip() or None
    current_user.timezone = form.timezone.data
    if old_tz == current_user.timezone:
        db.session.commit()
        return "Saved."
    try:
        changed = timezones.timezone_changed(current_user)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("time zone change failed")
        form.timezone.errors.append("Your activities could not be moved to the new time zone; nothing was changed. Try again.")
        return None
    return f"Saved. Time zone is now {current_user.timezone}; {changed} day(s) of activity moved."


@bp.post("/password")
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.new_password.data)
        except accounts.AccountError as exc:
            getattr(form, exc.field or "current_password").errors.append(str(exc))
        else:
            login_user(current_user)  # the new session token ended every session, this one included
            flash("Password changed. Other browsers and devices are signed out.", "success")
            return redirect(url_for("settings.index"))
    return render_template("settings/page.html", **_forms(password_form=form)), 400


@bp.post("/delete")
@login_required
def delete():
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return render_template("settings/page.html", **_forms(delete_form=form)), 400
    user = current_user._get_current_object()
    logout_user()
    accounts.delete_account(user)
    flash("Your account and all of its data were deleted.", "info")
    return redirect(url_for("auth.login"))
